"""Bounds over every pair of a source for max-min and leximin under side constraints
(:mod:`mentormatch.solvers.fair_source` states the proofs): one pass's figures per mentee and
mentor, the most pairs any assignment holds (a stipend budget's fractional knapsack of places
included), the best worst pair of any assignment of a given count, and the places a budget buys
(:func:`knapsack_plan`, a plan for the flows)."""
from __future__ import annotations

import dataclasses

import numpy as np

from .base import SideConstraints

__all__ = ["FigureSums", "Figures", "TOP_PER_MENTOR", "best_pairs_figures", "count_bound", "knapsack_plan", "mentor_places", "most_pairs",
           "per_mentee", "per_mentor", "source_figures", "threshold_bound",
           "total_bound"]


#: At most this many best scores kept per mentor, and per mentee (:class:`FigureSums`; the rest
#: of a mentor's places, or a mentee's demand, are counted at its last kept score: any number is
#: valid, more is tighter).
TOP_PER_MENTOR = 8


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


def mentor_places(fig: Figures, capacity, demand, load) -> np.ndarray:
    """Each mentor's most mentees in any assignment: as many of the lightest loads of the
    mentees that can be matched at all (a demand and an eligible pair) as fit its capacity, and
    at most its eligible mentees (a mentee takes a mentor once, whatever its demand). No score
    is read.

    >>> f = Figures(np.array([2, 2]), np.zeros(2), np.array([2, 2]), np.zeros(2))
    >>> mentor_places(f, np.array([2.0, 0.0]), np.array([2, 0]), None).tolist()  # one mentee asks
    [1, 0]
    """
    n = len(fig.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    can = (dem > 0) & (np.asarray(fig.eligible) > 0)
    loads = np.sort((np.ones(n) if load is None else np.asarray(load, float))[can])
    fits = np.searchsorted(np.cumsum(loads), np.asarray(capacity, float) + 1e-9, side="right")
    return np.minimum(fits, np.asarray(fig.by_mentor)).astype(np.int64)


def best_pairs_figures(best, n: int, m: int, capacity, demand) -> Figures:
    """:class:`Figures` valid over every pair of a source, read from ``best`` (``(mentee,
    mentor, score)``: each mentee's ``k`` best pairs, or all it has, for some ``k``; a source's
    ``best(k)``), with no other pass. The mentees' kept scores are exact; a mentee holding the
    most pairs there may have more (its eligible pairs counted as ``m``). A mentor's pairs
    outside ``best`` belong to those mentees and score at most the best of their least kept
    scores, ``T``: so its ``r``-th best score over every pair is at most the larger of its
    ``r``-th there and ``T``, and its eligible mentees at most its pairs there plus those
    mentees.

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
    return dataclasses.replace(
        fig, eligible=np.where(cut, np.maximum(fig.eligible, m), fig.eligible),
        by_mentor=np.minimum(fig.by_mentor + int(cut.sum()), n),
        best_by_mentor=np.maximum(fig.best_by_mentor, t),
        top_by_mentor=None if fig.top_by_mentor is None else np.maximum(fig.top_by_mentor, t))


def most_pairs(fig: Figures, capacity, demand, load) -> int:
    """``U`` before any side constraint: at most ``sum_i min(d_i, e_i)`` pairs (each mentee its
    demand and its eligible pairs) and ``sum_j`` :func:`mentor_places` (each mentor). No score
    is read (:mod:`mentormatch.pipeline.held` proves its tries with it).

    >>> f = Figures(np.array([2, 2]), np.zeros(2), np.array([2, 2]), np.zeros(2))
    >>> most_pairs(f, np.array([2.0, 0.0]), np.array([2, 0]), None)  # the true most: 1
    1
    """
    n = len(fig.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    by_mentees = int(np.minimum(np.maximum(dem, 0), fig.eligible).sum())
    return min(by_mentees, int(mentor_places(fig, capacity, demand, load).sum()))


def count_bound(fig: Figures, capacity, demand, load, side: SideConstraints | None) -> int:
    """``U``, at least the pairs of any assignment meeting the constraints (module docstring):
    :func:`most_pairs` and, under a budget, the places it buys (a fractional knapsack).

    >>> f = Figures(np.array([2, 2, 2]), np.zeros(3), np.array([3, 3]), np.zeros(2))
    >>> count_bound(f, np.array([2.0, 2.0]), None, None, None)
    3
    >>> s = SideConstraints(budget=700.0, stipend_fixed=np.array([500.0, 100.0]),
    ...                     stipend_per_mentee=np.array([250.0, 250.0]))
    >>> count_bound(f, np.array([2.0, 2.0]), None, None, s)  # 300 a place, then 500: 2 places
    2
    """
    out = most_pairs(fig, capacity, demand, load)
    if side is not None and side.budget is not None:
        places = mentor_places(fig, capacity, demand, load)
        c, B = _place_costs(places, side)
        out = min(out, int(np.floor(_places_bought(places, c, B) + 1e-9)))
    return out


def _place_costs(places: np.ndarray, side: SideConstraints) -> tuple[np.ndarray, float]:
    """``(c, B)``: each mentor's least stipend a mentee, ``c_j = per_j + fixed_j / k_j`` with
    ``k_j`` its most mentees (``places``: at most its capacity takes and its eligible mentees:
    an active mentor with ``n_j <= k_j`` mentees spends ``n_j (per_j + fixed_j / n_j) >= n_j
    c_j``), and the budget rounded down to what whole stipends spend
    (``linear_rows.budget_rounded``)."""
    from .linear_rows import budget_rounded

    fixed, per = _stipends(side, len(places))
    return per + fixed / np.maximum(places, 1), budget_rounded(float(side.budget), per, fixed)


def _stipends(side: SideConstraints, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each mentor's fixed and per-mentee stipend (0 where not set)."""
    fixed = np.zeros(m) if side.stipend_fixed is None else np.asarray(side.stipend_fixed, float)
    per = np.zeros(m) if side.stipend_per_mentee is None else np.asarray(side.stipend_per_mentee, float)
    return fixed, per


def _places_bought(places: np.ndarray, c: np.ndarray, B: float) -> float:
    """The fractional knapsack: the most of ``places`` (per mentor) that ``B`` buys at ``c``
    a place, the cheapest first."""
    order = np.argsort(c, kind="stable")
    take = places[order].astype(float)
    spend = np.cumsum(take * c[order])
    whole = int(np.searchsorted(spend, B + 1e-9 * max(1.0, abs(B)), side="right"))
    got = float(take[:whole].sum())
    if whole < len(take) and c[order[whole]] > 0:  # the first mentor the budget cannot fill
        left = B - (float(spend[whole - 1]) if whole else 0.0)
        got += min(float(take[whole]), max(left, 0.0) / float(c[order[whole]]))
    elif whole < len(take):
        got += float(take[whole:].sum())
    return got


def knapsack_plan(fig: Figures, capacity, demand, side: SideConstraints, prefer=None):
    """The most places a stipend budget buys (with minimum loads), as each mentor's load: the
    mentors by cost a place ``c_j`` (:func:`count_bound`, over each mentor's most mentees,
    :func:`mentor_places`), ties by ``prefer`` (larger first:
    the engine's loads) then index, each taken whole while its stipends fit, then as many
    places as the rest of the budget pays (never below its minimum load); at most the places
    the mentees with an eligible pair need. None when the only side rows are not a budget
    (with minimum loads): their loads are not a knapsack.

    >>> f = Figures(np.ones(5, np.int64), np.zeros(5), np.array([5, 5, 5]), np.zeros(3))
    >>> s = SideConstraints(budget=1000.0, stipend_fixed=np.array([500.0, 100.0, 100.0]),
    ...                     stipend_per_mentee=np.full(3, 250.0))
    >>> knapsack_plan(f, np.array([2.0, 2.0, 1.0]), None, s).tolist()  # 600 for two, 350 for one
    [0.0, 2.0, 1.0]
    """
    if "budget" not in side.active() or not set(side.active()) <= {"budget", "min_load"}:
        return None
    n, m = len(fig.eligible), len(fig.by_mentor)
    fixed, per = _stipends(side, m)
    low = (np.zeros(m) if side.min_load is None
           else np.ceil(np.asarray(side.min_load, float) - 1e-9))
    # each mentor's most mentees, and the cost of a place, as count_bound reads them: a mentee
    # with no demand is no place (until s25 ``most_places``, which counted them: a mentor
    # eligible to many of them looked cheap, and was planned places no mentee could take)
    places = mentor_places(fig, capacity, demand, None)
    c, left = _place_costs(places, side)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    need = int(np.minimum(np.maximum(dem, 0), fig.eligible).sum())
    pref = np.zeros(m) if prefer is None else np.asarray(prefer, float)
    order = np.lexsort((np.arange(m), -pref, c))
    loads = np.zeros(m)
    for j in order[places[order] > 0].tolist():  # the mentors with a place, cheapest first
        if need <= 0:
            break
        k = min(int(places[j]), need)
        if per[j] > 0:
            k = min(k, int(np.floor((left - fixed[j]) / per[j] + 1e-9)))
        elif fixed[j] > left + 1e-9:
            k = 0
        if k <= 0 or k < low[j]:
            continue
        loads[j] = k
        left -= fixed[j] + per[j] * k
        need -= k
    return loads


def threshold_bound(fig: Figures, count: int, capacity, demand, load,
                    side: SideConstraints | None = None) -> float | None:
    """A bound on the best worst pair of every assignment of at least ``count`` pairs (None
    when ``count`` is 0): the least of three, each the largest ``t`` that some necessary
    condition on ``count`` pairs all scoring at least ``t`` allows.

    Let ``A`` hold ``count`` pairs or more, its worst ``w``; mentor ``j`` holds ``n_j`` of them.

    - *Mentees*: mentee ``i`` holds at most ``min(d_i, e_i)`` pairs, and at most as many as
      score at least ``w``; with its kept best scores (:attr:`Figures.top_by_mentee`) weighed
      as the mentors' below (its ``min(d_i, e_i)`` in place of ``k_j``), the weights at values
      ``>= w`` add up to ``count``. (Until s25 each mentee counted ``min(d_i, e_i)`` pairs at
      its best score: a mentee asking for 3 with one good pair counted 3 good ones.)
    - *Mentors*: ``n_j <= k_j`` (:func:`mentor_places`) and ``n_j <= c_j(w)``, its pairs scoring
      at least ``w``. With ``v_1 >= ... >= v_K`` its ``K`` best kept scores
      (:attr:`Figures.top_by_mentor`; ``K`` 1: its best), weigh ``v_r`` by 1 for ``r < K`` and
      ``r <= k_j``, and ``v_K`` by ``max(0, k_j - K + 1)``: the weight at values ``>= t`` is
      at least ``min(k_j, c_j(t))`` (if ``v_K >= t`` it is ``k_j``; else every score at least
      ``t`` is among ``v_1..v_{K-1}`` and the weight counts them, up to ``k_j``). So the
      weights at values ``>= w`` add up to ``sum_j n_j >= count``: ``w`` is at most the
      ``count``-th largest of the weighted values. Keeping more scores a mentor tightens this:
      a mentor with one high score and a second low one no longer counts its places at the
      high one (s24; ``K`` 1 was the bound until then).
    - *A budget*: mentor ``j`` spends at least ``c_j n_j`` (:func:`count_bound`), with ``n_j``
      at most its weight at values ``>= w``; so that weight, bought by the fractional knapsack,
      reaches ``count``: ``w`` is at most the largest value where it does.

    On bounds the scores are upper bounds: each ``c_j(t)`` only grows, and every step holds.

    >>> f = Figures(np.ones(3, np.int64), np.array([0.9, 0.5, 0.7]), np.array([3, 3]),
    ...             np.array([0.9, 0.6]))
    >>> threshold_bound(f, 2, np.array([1.0, 1.0]), None, None)  # second mentee best, mentor 0.6
    0.6
    >>> s = SideConstraints(budget=100.0, stipend_fixed=np.zeros(2),
    ...                     stipend_per_mentee=np.array([60.0, 40.0]))
    >>> threshold_bound(f, 2, np.array([2.0, 2.0]), None, None, s)  # mentor 0 alone buys 1.67
    0.6
    >>> top = np.array([[0.9, 0.9], [0.9, 0.1]])  # mentor 1: one pair at 0.9, the rest 0.1
    >>> g = Figures(np.full(4, 2), np.full(4, 0.9), np.array([4, 4]), top[:, 0], top)
    >>> threshold_bound(g, 4, np.array([2.0, 2.0]), None, None)  # (its best alone: 0.9)
    0.1
    """
    if count <= 0:
        return None
    n = len(fig.best)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)

    def kth(values, weights) -> float:
        order = np.argsort(-values, kind="stable")
        reach = np.cumsum(weights[order])
        k = int(np.searchsorted(reach, count))  # the first prefix that holds ``count``
        return float(values[order][k]) if k < len(values) else -np.inf

    top_i = fig.mentee_top()
    by_mentees = kth(top_i.ravel(), _top_weights(np.minimum(np.maximum(dem, 0), fig.eligible),
                                                 top_i.shape[1]).ravel())
    places = mentor_places(fig, capacity, demand, load)
    top = fig.mentor_top()
    weight = _top_weights(places, top.shape[1])
    values, weights = top.ravel(), weight.ravel()
    out = min(by_mentees, kth(values, weights))
    if side is not None and side.budget is not None and np.isfinite(out):
        c, B = _place_costs(places, side)
        levels = np.unique(values[np.isfinite(values)])

        def buys(level: float) -> bool:  # each mentor's weight at values >= level buys ``count``
            reach = (weight * (top >= level)).sum(axis=1)
            return _places_bought(reach, c, B) + 1e-9 >= count

        lo, hi = 0, len(levels) - 1  # the largest level that buys ``count`` places
        if hi < 0 or not buys(levels[0]):
            return out  # (never so when an assignment of ``count`` pairs meets the budget)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if buys(levels[mid]):
                lo = mid
            else:
                hi = mid - 1
        out = min(out, float(levels[lo]))
    return out


def total_bound(fig: Figures, capacity, demand, load) -> float:
    """A bound on the total score of every assignment that meets the capacities and demands
    (side constraints only remove assignments, so it bounds every objective's total, max-min's
    and leximin's included): the least of the two sides. Mentee ``i`` holds at most ``min(d_i,
    e_i)`` pairs, its ``r``-th best scoring at most its ``r``-th best kept score
    (:attr:`Figures.top_by_mentee`; the places beyond the kept ones at the last kept,
    :func:`_top_weights`); mentor ``j`` at most :func:`mentor_places`, the same over its kept
    scores; each score counted at ``max(0, .)`` (an assignment may leave a pair out). On bounds
    (figures of upper bounds) still a bound.

    >>> f = Figures(np.array([2, 1]), np.array([0.9, 0.5]), np.array([2, 1]), np.array([0.9, 0.5]),
    ...             np.array([[0.9, 0.5], [0.1, -np.inf]]), np.array([[0.9, 0.1], [0.5, -np.inf]]))
    >>> total_bound(f, np.array([2.0, 1.0]), np.array([2, 1]), None)  # mentees 1.0 + 0.5
    1.5
    """
    n = len(fig.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.round(np.asarray(demand, float)).astype(np.int64)

    def side(top: np.ndarray, places: np.ndarray) -> float:
        return float((_top_weights(places, top.shape[1]) * np.maximum(top, 0.0)).sum())

    return min(side(fig.mentee_top(), np.minimum(np.maximum(dem, 0), fig.eligible)),
               side(fig.mentor_top(), mentor_places(fig, capacity, demand, load)))


def _top_weights(places: np.ndarray, k: int) -> np.ndarray:
    """``m x k``: the weight of each kept score (:func:`threshold_bound`): 1 for the first
    ``k - 1`` up to a mentor's places, the rest of its places on the last.

    >>> _top_weights(np.array([0, 1, 3, 5]), 3).tolist()
    [[0, 0, 0], [1, 0, 0], [1, 1, 1], [1, 1, 3]]
    """
    places = np.asarray(places, np.int64)
    r = np.arange(k)[None, :]
    w = (r < places[:, None]).astype(np.int64)
    w[:, -1] = np.maximum(places - (k - 1), 0)
    return w
