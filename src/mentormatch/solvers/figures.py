"""One pass's figures over a source's eligible pairs, the inputs of the bounds of
:mod:`mentormatch.solvers.fair_bounds`: per mentee and mentor its eligible pairs and best
score, and each one's few best scores (:class:`Figures`), summed block by block
(:class:`FigureSums`) over every pair (:func:`source_figures`) or read from each mentee's best
pairs alone (:func:`best_pairs_figures`)."""
from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["BEST_PAIRS", "FigureSums", "Figures", "TOP_PER_MENTOR", "best_pairs_figures", "ceiling_figures",
           "first_pass_ceilings", "per_mentee", "per_mentor", "source_figures"]


#: At most this many best scores kept per mentor, and per mentee (:class:`FigureSums`; the rest
#: of a mentor's places, or a mentee's demand, are counted at its last kept score: any number is
#: valid, more is tighter).
TOP_PER_MENTOR = 8
#: Each mentee's best pairs a baseline's bound reads (:func:`best_pairs_figures`), the same on
#: every source: the complete set (:func:`mentormatch.solvers.baselines.baseline_bound`) and a
#: pair reader (``baselines_rows``, ``stable_rows``: their first batch).
BEST_PAIRS = 16


@dataclasses.dataclass(frozen=True)
class Figures:
    """One pass over a source: per mentee its eligible pairs and best score, per mentor the
    same (``-inf``: no eligible pair) and, in ``top_by_mentor`` (``m x k``, descending,
    ``-inf`` padded; None: ``best_by_mentor`` alone), its ``k`` best scores; in
    ``top_by_mentee`` (``n x k``, the same; None: ``best`` alone) each mentee's. On bounds,
    upper bounds (valid for the bounds here)."""

    eligible: np.ndarray
    best: np.ndarray
    by_mentor: np.ndarray
    best_by_mentor: np.ndarray
    top_by_mentor: np.ndarray | None = None
    top_by_mentee: np.ndarray | None = None

    def mentor_top(self) -> np.ndarray:
        """Each mentor's best scores as kept, ``m x k`` (``k >= 1``), descending."""
        return (self.best_by_mentor[:, None] if self.top_by_mentor is None
                else self.top_by_mentor)

    def mentee_top(self) -> np.ndarray:
        """Each mentee's best scores as kept, ``n x k`` (``k >= 1``), descending."""
        return self.best[:, None] if self.top_by_mentee is None else self.top_by_mentee


class FigureSums:
    """:class:`Figures` summed block by block over one pass (:func:`source_figures`; the
    held tries' survey, :func:`mentormatch.pipeline.held.survey`, adds its histogram beside
    it): blocks of exact pairs (:meth:`add_pairs`) or of float32 bounds (:meth:`add_bounds`);
    each mentor's ``per_mentor`` and each mentee's ``per_mentee`` best scores beside its best."""

    def __init__(self, n: int, m: int, per_mentor: int = 1, per_mentee: int = 1):
        self.eligible, self.by_mentor = np.zeros(n, np.int64), np.zeros(m, np.int64)
        self.best, self.best_j = np.full(n, -np.inf), np.full(m, -np.inf)
        self.top = np.full((m, max(int(per_mentor), 1)), -np.inf)
        self.top_i = np.full((n, max(int(per_mentee), 1)), -np.inf)

    def add_pairs(self, i: np.ndarray, j: np.ndarray, s: np.ndarray) -> None:
        """Eligible pairs ``(i, j)`` with exact scores ``s``."""
        self.eligible += np.bincount(i, minlength=len(self.eligible))
        self.by_mentor += np.bincount(j, minlength=len(self.by_mentor))
        np.maximum.at(self.best, i, s)
        np.maximum.at(self.best_j, j, s)
        if self.top_i.shape[1] > 1 and len(i):
            _merge_top(self.top_i, np.asarray(i, np.int64), np.asarray(s, np.float64))
        if self.top.shape[1] == 1 or not len(i):
            return
        new = s > self.top[j, -1]  # (the later blocks: few beat a mentor's k-th kept)
        lo, m = int(i.min()), len(self.best_j)
        if 8 * np.count_nonzero(new) > len(i) and (int(i.max()) + 1 - lo) * m <= 4 * len(i):
            block = np.full((int(i.max()) + 1 - lo, m), -np.inf)  # many, in a block of rows:
            block[i - lo, j] = s  # each mentor's k best in it first (_top_block)
            self._top_block(block, block.max(axis=0, initial=-np.inf))
        else:
            self._keep(np.asarray(j, np.int64)[new], np.asarray(s, np.float64)[new])

    def add_bounds(self, rows: np.ndarray, up: np.ndarray, ok: np.ndarray) -> None:
        """A block of bounds ``up`` (rows ``rows`` of the mentees, every mentor; ``ok`` its
        eligible pairs), set to ``-inf`` where not ``ok`` (in place)."""
        self.eligible[rows] = ok.sum(axis=1)
        self.by_mentor += ok.sum(axis=0)
        np.copyto(up, -np.inf, where=~ok)
        self.best[rows] = up.max(axis=1, initial=-np.inf)
        k = self.top_i.shape[1]
        if k > 1:  # (every row of a mentee is in one block)
            part = up if up.shape[1] <= k else np.partition(up, up.shape[1] - k, axis=1)[:, -k:]
            self.top_i[rows, :part.shape[1]] = -np.sort(-part.astype(np.float64), axis=1)
        col = up.max(axis=0, initial=-np.inf)
        np.maximum(self.best_j, col, out=self.best_j)
        if self.top.shape[1] > 1:
            self._top_block(up, col)

    def _top_block(self, up: np.ndarray, col: np.ndarray) -> None:
        """Merge a dense block (mentee rows x every mentor, ``-inf`` where not eligible; ``col``
        its column maxima) into each mentor's ``k`` best."""
        k = self.top.shape[1]
        cols = np.flatnonzero(col > self.top[:, -1])
        if len(cols):  # only the mentors whose block best beats their k-th kept
            sub = up[:, cols]
            above = sub > self.top[cols, -1].astype(sub.dtype)
            if len(sub) > k and np.count_nonzero(above) > 2 * k * len(cols):
                # many (the first blocks): each column's k best in the block, then merged
                part = np.partition(sub, len(sub) - k, axis=0)[len(sub) - k:]
                both = np.concatenate([self.top[cols], part.T.astype(np.float64)], axis=1)
                self.top[cols] = -np.sort(-both, axis=1)[:, :k]
            else:
                r, c = np.divmod(np.flatnonzero(above), len(cols))
                self._keep(cols[c], sub[r, c].astype(np.float64))

    def _keep(self, j: np.ndarray, s: np.ndarray) -> None:
        """Merge scores ``s`` of mentors ``j`` into each mentor's ``k`` best."""
        if self.top.shape[1] > 1:  # (k 1: best_j)
            _merge_top(self.top, j, s)

    def figures(self, margin: float = 0.0) -> Figures:
        """The sums, each best score raised by ``margin`` (a bound's; ``-inf`` stays)."""
        top = None if self.top.shape[1] == 1 else self.top + margin
        top_i = None if self.top_i.shape[1] == 1 else self.top_i + margin
        return Figures(self.eligible, self.best + margin, self.by_mentor, self.best_j + margin, top,
                       top_i)


def _merge_top(top: np.ndarray, who: np.ndarray, s: np.ndarray) -> None:
    """Merge scores ``s`` of rows ``who`` into ``top`` (each row's ``k`` best, descending,
    ``-inf`` padded), in place."""
    k = top.shape[1]
    new = s > top[who, -1]
    if not new.any():
        return
    who, s = who[new], s[new]
    touched = np.unique(who)
    ww = np.concatenate([np.repeat(touched, k), who])
    ss = np.concatenate([top[touched].ravel(), s])
    order = np.lexsort((-ss, ww))
    ww, ss = ww[order], ss[order]
    first = np.searchsorted(ww, touched)
    rank = np.arange(len(ww)) - np.repeat(first, np.diff(np.r_[first, len(ww)]))
    take = rank < k  # (each touched row has its k kept ones: the first k fill it)
    top[ww[take], rank[take]] = ss[take]


def per_mentor(capacity) -> int:
    """How many best scores a pass keeps per mentor (:class:`FigureSums`): the largest whole
    capacity, at least 1 and at most ``TOP_PER_MENTOR``."""
    cap = np.asarray(capacity, float)
    return int(np.clip(np.floor(cap.max(initial=1.0) + 1e-9), 1, TOP_PER_MENTOR))


def per_mentee(demand) -> int:
    """How many best scores a pass keeps per mentee (:class:`FigureSums`): the largest demand,
    at least 1 and at most ``TOP_PER_MENTOR``."""
    dem = np.ones(1) if demand is None else np.asarray(demand, float)
    return int(np.clip(np.round(dem.max(initial=1.0)), 1, TOP_PER_MENTOR))


def source_figures(source, per_mentor: int = 1, per_mentee: int = 1) -> Figures:
    """:class:`Figures` of every eligible pair of ``source`` (one pass; on a
    :class:`~mentormatch.solvers.sources.BoundedSource` its bounds, no exact score), each
    mentor's ``per_mentor`` and each mentee's ``per_mentee`` best scores kept."""
    from .sources import BoundedSource

    sums = FigureSums(source.n_mentees, source.n_mentors, per_mentor, per_mentee)
    if not isinstance(source, BoundedSource):
        for i, j, s in source.blocks():
            sums.add_pairs(i, j, s)
        return sums.figures()
    from ..scale import BIG

    sc = source.scorer
    for a, b in source._rows():
        up = sc.upper(a, b)  # float32; the margin added on the reductions
        sums.add_bounds(sc.order[a:b], up, up > -BIG / 4)
    return sums.figures(sc.margin)


def best_pairs_figures(best, n: int, m: int, capacity, demand) -> Figures:
    """:class:`Figures` valid over every pair of a source, read from ``best`` (``(mentee,
    mentor, score)``: each mentee's ``k`` best pairs, or all it has, for some ``k``; a source's
    ``best(k)``), with no other pass. The mentees' kept scores are exact; a mentee holding the
    most pairs there may have more (its eligible pairs counted as ``m``). A mentor's pairs
    outside ``best`` belong to those mentees and score at most the best of their least kept
    scores, ``T``: so its ``r``-th best score over every pair is at most the larger of its
    ``r``-th there and ``T``, and its eligible mentees at most its pairs there with the other
    mentees plus those mentees. The same figures whichever of a tie at a mentee's last kept
    score ``best`` holds (a tied pair left out scores at most ``T``), so every source reads
    the same ones.

    >>> f = best_pairs_figures((np.array([0, 1]), np.array([0, 0]), np.array([0.9, 0.4])), 2, 2,
    ...                        np.ones(2), None)
    >>> f.best_by_mentor.tolist(), f.by_mentor.tolist()  # mentor 1: at most 0.9, two mentees
    ([0.9, 0.9], [2, 2])
    """
    i, j, s = (np.asarray(a) for a in best)
    i, j, s = i.astype(np.int64), j.astype(np.int64), s.astype(np.float64)
    sums = FigureSums(n, m, per_mentor(capacity), per_mentee(demand))
    sums.add_pairs(i, j, s)
    fig = sums.figures()
    held = np.bincount(i, minlength=n)
    cut = (held > 0) & (held >= held.max(initial=0))  # may have pairs outside ``best``
    if not cut.any():
        return fig
    least = np.full(n, np.inf)
    np.minimum.at(least, i, s)
    t = float(least[cut].max())
    # a mentor's eligible mentees: those of the rows held whole (all their pairs are here), and
    # at most every cut row (counted so, not by its pairs here: whichever of a tie at its last
    # kept score were taken, the same count)
    whole = np.bincount(j[~cut[i]], minlength=m)
    return dataclasses.replace(
        fig, eligible=np.where(cut, np.maximum(fig.eligible, m), fig.eligible),
        by_mentor=np.minimum(whole + int(cut.sum()), n),
        best_by_mentor=np.maximum(fig.best_by_mentor, t),
        top_by_mentor=None if fig.top_by_mentor is None else np.maximum(fig.top_by_mentor, t))


def ceiling_figures(scorer, mentor_best: np.ndarray | None = None,
                    mentee_best: np.ndarray | None = None) -> Figures | None:
    """:class:`Figures` of every pair of a bounded scorer with no pass over its pairs (a stop's
    figures on bounds, :func:`mentormatch.solvers.fair_claims.source_claims`): each mentee's
    eligible pairs as the scorer counted them up front and its best at most its row ceiling
    (:func:`mentormatch.solvers.bounded.ceiling.row_ceilings`, from the scorer's factors);
    each mentor's eligible mentees at most those with an eligible pair, its best at most the
    largest ceiling, and at most ``mentor_best`` (per mentor, at least each of its pairs'
    scores: a first pass's mentor ceilings with the locks; None: not known); each mentee's best
    at most ``mentee_best`` too (by mentee, at least each of its pairs' scores in any assignment:
    the rows a first pass cut short scanned, with the locks; ``inf`` elsewhere). Upper bounds of a
    pass's figures (looser), so every bound from them holds. None for another view (no
    ceiling).

    >>> from mentormatch import synthetic
    >>> from mentormatch.features import Context
    >>> from mentormatch.pipeline import prepare
    >>> from mentormatch.scale import bounded_scorer
    >>> from mentormatch.solvers.sources import BoundedSource
    >>> mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=1)
    >>> p = prepare(mentors, mentees)
    >>> sc = bounded_scorer(p.data["mentees"], p.data["mentors"], p.data["rules"],
    ...                     Context(framework=p.data["framework"]), p.mentee_ids, p.mentor_ids)
    >>> f, g = ceiling_figures(sc), source_figures(BoundedSource(sc, 40, 12))
    >>> bool(np.all(f.best >= g.best)), bool(np.all(f.best_by_mentor >= g.best_by_mentor))
    (True, True)
    >>> bool(np.all(f.eligible == g.eligible)), bool(np.all(f.by_mentor >= g.by_mentor))
    (True, True)
    """
    from .bounded.ceiling import row_ceilings

    ceil = row_ceilings(scorer)
    if ceil is None:
        return None
    eligible = np.asarray(scorer.eligible_counts, np.int64)
    best = np.full(len(eligible), -np.inf)
    best[np.asarray(scorer.order)] = ceil
    if mentee_best is not None:
        best = np.minimum(best, np.asarray(mentee_best, np.float64))
    best[eligible <= 0] = -np.inf
    m = int(scorer.m)
    by_mentor = np.full(m, float(best.max(initial=-np.inf)))
    if mentor_best is not None:
        by_mentor = np.minimum(by_mentor, np.asarray(mentor_best, np.float64))
    return Figures(eligible, best, np.full(m, int(np.count_nonzero(eligible > 0)), np.int64), by_mentor)


def first_pass_ceilings(cert: dict | None, problem, scorer) -> tuple[dict | None, np.ndarray | None,
                                                                   np.ndarray | None]:
    """``(cert, mentor_best, mentee_best)``: the certificate of a max-min or leximin answer on
    bounds without the ceilings its first pass kept (its own, or its max-min's: ``"maxmin"``),
    and from them (None: none kept) each mentor's best score over every pair (the pass's
    mentor ceilings, :func:`.bounded.ceiling.mentor_ceilings`, ran whole) and each mentee's (a
    pass cut short: the rows it scanned, :func:`.bounded.late.scanned_ceilings`, by ``scorer``'s
    row order; ``inf`` elsewhere), each raised to the scores of its locked pairs (the passes
    leave the locks out), for :func:`ceiling_figures`."""
    cert, mentors = _without(cert, "mentor_ceilings")
    cert, rows = _without(cert, "row_ceilings")
    lk = (np.zeros(len(problem.score), bool) if problem.locked is None else np.asarray(problem.locked, bool))
    s, P = np.asarray(problem.score, np.float64)[lk], problem.pairs
    if mentors is not None:
        mentors = np.array(mentors, np.float64)
        np.maximum.at(mentors, P.mentor[lk], s)
    if rows is not None and scorer is not None:
        by_mentee = np.full(len(rows), np.inf)
        by_mentee[np.asarray(scorer.order)] = np.asarray(rows, np.float64)
        np.maximum.at(by_mentee, P.mentee[lk], s)
        rows = by_mentee
    return cert, mentors, (rows if scorer is not None else None)


def _without(cert: dict | None, key: str) -> tuple[dict | None, np.ndarray | None]:
    """The certificate without ``key`` (its own, or its max-min's), and its value (None: none)."""
    if cert is None:
        return None, None
    cert = dict(cert)
    out = cert.pop(key, None)
    if isinstance(cert.get("maxmin"), dict) and key in cert["maxmin"]:
        inner = dict(cert["maxmin"])
        got = inner.pop(key)
        cert["maxmin"] = inner
        out = got if out is None else out
    return cert, out
