"""Pair sources: where the engine gets candidate pairs and prices every pair, at any size.

A source offers the eligible (mentee, mentor) pairs of a round in two ways:

* ``best(k)``: each mentee's ``k`` best pairs by score, as arrays ``(mentee, mentor, score)``;
* ``blocks()``: every eligible pair, a block at a time, as the same arrays (exact scores).

Three implementations, one protocol:

* :class:`ArraySource`: the pairs are in memory (the complete set, or a problem's pairs);
* :class:`BlockSource`: a scorer of blocks of mentee rows against every mentor (``-inf`` where a
  rule removes the pair), which may cache its blocks; nothing of size pairs is kept;
* :class:`BoundedSource`: a scorer with cheap upper bounds (``scale.BoundedScorer``); a block
  yields the exact scores of only those pairs whose bound could still matter, given a screen
  from the engine (a pair whose bound cannot make its reduced cost positive is skipped), so the
  engine never scores all pairs exactly.

Which one a round uses is decided by memory (what fits), never by what the user may ask: each
serves every constraint, objective and bonus.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from ..pairs import order_of_runs
from .topk import top_k

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]
#: Given a block's mentees (one per row) and upper bounds ``(rows, n_mentors)`` on its scores,
#: the mask of pairs that must be scored exactly.
Screen = Callable[[int, int, np.ndarray], np.ndarray]

_CHUNK = 1 << 20
#: Pairs scored exactly in one call by :meth:`BoundedSource.above` (about 150 bytes a pair while
#: scored).
ABOVE_BATCH = 1 << 19
#: The bands of rows of :meth:`BoundedSource.above` with mentor prices: each band's product is
#: as wide as the most mentors one of its rows needs (rows of equal count a band).
PRICE_BANDS = 16


def _top_k_arrays(i: np.ndarray, j: np.ndarray, s: np.ndarray, k: int) -> Pairs:
    keep = top_k(i, s, k)
    return i[keep], j[keep], s[keep]


class ArraySource:
    """Every eligible pair in memory, sorted by mentee."""

    def __init__(self, mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray,
                 n_mentees: int, n_mentors: int):
        self.i = np.asarray(mentee, np.int64)
        self.j = np.asarray(mentor, np.int64)
        self.s = np.asarray(score, np.float64)
        self.n_mentees, self.n_mentors = n_mentees, n_mentors

    def best(self, k: int) -> Pairs:
        return _top_k_arrays(self.i, self.j, self.s, k)

    def blocks(self, screen: Screen | None = None) -> Iterator[Pairs]:
        for a in range(0, len(self.i), _CHUNK):
            b = min(a + _CHUNK, len(self.i))
            yield self.i[a:b], self.j[a:b], self.s[a:b]


def n_pairs(source) -> int:
    """The pairs ``source`` offers: its eligible pairs when they are in memory
    (:class:`ArraySource`), else every cell, ``n_mentees x n_mentors`` (rules may remove some).

    >>> n_pairs(ArraySource(np.array([0, 1]), np.array([1, 0]), np.ones(2), 2, 3))
    2
    >>> n_pairs(BlockSource(lambda rows: None, 2, 3))
    6
    """
    if isinstance(source, ArraySource):
        return len(source.i)
    return source.n_mentees * source.n_mentors


def block_scorer(source):
    """The scorer of ``source``'s rows, what the certified flows read: a block or bound source's
    own; held pairs (:class:`ArraySource`, sorted by mentee) as dense blocks of mentee rows,
    ``-inf`` off the pairs (:class:`~mentormatch.solvers.threshold.HeldRows`), so every source
    feeds the flows the same numbers.

    >>> src = ArraySource(np.array([0, 1]), np.array([1, 0]), np.array([0.5, 0.25]), 2, 2)
    >>> block_scorer(src)(slice(0, 2)).tolist()
    [[-inf, 0.5], [0.25, -inf]]
    """
    if not isinstance(source, ArraySource):
        return source.scorer
    from ..pairs import Candidates
    from .threshold import HeldRows

    return HeldRows(Candidates(source.i, source.j, source.n_mentees, source.n_mentors), source.s)


class PassCut(Exception):
    """``best(k, deadline)`` stopped at ``deadline`` between two blocks of rows: ``pairs``, the
    best pairs of the mentees read (``scanned``, one bool a mentee), none of the others."""

    def __init__(self, pairs: Pairs, scanned: np.ndarray):
        super().__init__("the pass for each mentee's best pairs stopped at the deadline")
        self.pairs, self.scanned = pairs, scanned


def _joined(parts: list) -> Pairs:
    return tuple(np.concatenate([p[t] for p in parts]) if parts else np.zeros(0) for t in range(3))


class _ByRows:
    """A source read in blocks of mentee rows from a scorer (the certificate's blocks).
    ``best(k, deadline=None)``: each mentee's ``k`` best pairs, block by block; with a
    ``deadline`` (``time.perf_counter``) no block starts past it, and the pass ends in a
    :class:`PassCut` holding what it read."""

    def __init__(self, scorer, n_mentees: int, n_mentors: int):
        self.scorer, self.n_mentees, self.n_mentors = scorer, n_mentees, n_mentors

    def _rows(self):
        from .certify import row_blocks

        return row_blocks(self.n_mentees, self.n_mentors)

    def _mentees(self, a: int, b: int) -> np.ndarray:
        return np.arange(a, b)

    def best(self, k: int, deadline: float | None = None) -> Pairs:
        import time

        parts = []
        scanned = np.zeros(self.n_mentees, bool)
        for a, b in self._rows():
            if deadline is not None and time.perf_counter() >= deadline:
                raise PassCut(_joined(parts), scanned)
            part = self._best_rows(a, b, k)
            if part is not None:
                parts.append(part)
            scanned[self._mentees(a, b)] = True
        return _joined(parts)


class BlockSource(_ByRows):
    """Dense blocks of mentee rows from ``scorer(slice) -> (rows, n_mentors)`` scores."""

    def blocks(self, screen: Screen | None = None) -> Iterator[Pairs]:
        for a, b in self._rows():
            block = self.scorer(slice(a, b))
            r, c = np.nonzero(block > -np.inf)
            yield (r + a).astype(np.int64), c.astype(np.int64), block[r, c].astype(np.float64)

    def _best_rows(self, a: int, b: int, k: int) -> Pairs:
        block = self.scorer(slice(a, b))
        r, c = np.nonzero(block > -np.inf)
        return _top_k_arrays((r + a).astype(np.int64), c.astype(np.int64),
                             block[r, c].astype(np.float64), k)


class BoundedSource(_ByRows):
    """Upper bounds for every pair, exact scores where the engine's screen asks for them.

    ``scorer`` is a :class:`mentormatch.scale.BoundedScorer` (rows in its internal order,
    ``order[r]`` is the mentee of row ``r``)."""

    def _upper(self, a: int, b: int) -> np.ndarray:
        """The float32 bounds of rows ``a:b`` plus the scorer's ``margin`` (each eligible pair's
        exact score is at most it). The margin is the scorer's, relative to its scores' size: a
        fixed 1e-4 fell below float32's rounding at scores near 3e4 (weights x 1e4: bound
        33933.332 under the score 33933.333), the one pair went unseen and the relaxation was
        called infeasible (``tests/test_bounds_infeasible_scale.py``)."""
        return self.scorer.upper(a, b).astype(np.float64) + self.scorer.margin

    def _exact(self, a: int, mask: np.ndarray | None, r=None, c=None) -> Pairs:
        """Exact scores of block ``a``'s pairs in ``mask`` (or rows ``r``, mentors ``c``),
        by mentee then mentor."""
        if mask is not None:
            r, c = np.nonzero(mask)
        r = r + a
        mentee = self.scorer.order[r].astype(np.int64)
        # sorted once here: ``exact_scores`` sorts its pairs by mentee and mentor too, which is
        # then a pass over sorted ones (a lexsort of its output was a second sort of every pair);
        # pairs read row by row, each row's mentors ascending, are sorted by their rows' runs
        key = mentee * self.n_mentors + c
        order = order_of_runs(key, r)
        if order is None:
            order = np.argsort(key, kind="stable")
        mentee, r, c = mentee[order], r[order], c[order].astype(np.int64)
        return mentee, c, self.scorer.exact_scores(r, c)

    def blocks(self, screen: Screen | None = None) -> Iterator[Pairs]:
        from ..scale import BIG

        for a, b in self._rows():
            up = self._upper(a, b)
            eligible = up > -BIG / 4
            mask = eligible if screen is None else eligible & screen(self.scorer.order[a:b], up)
            yield self._exact(a, mask)

    def above(self, low: np.ndarray, beyond: tuple | None = None) -> Iterator[Pairs]:
        """The eligible pairs whose bound reaches ``low`` of their mentee (one a mentee;
        ``inf``: none), with exact scores (``-inf`` where a rule beyond the bounds removes the
        pair), in batches of about ``ABOVE_BATCH`` pairs, each sorted by mentee then mentor:
        every pair with a score above ``low`` is among them. The float32 bounds against float32
        limits below ``low - margin`` (rounded down), through the bound pass's block scan
        (:mod:`.bounded.blockscan`: the compiled kernel where built, which adds the bound's
        rest to each row while it reads it), with no float64 copy of a block.

        ``beyond``: ``(floor, price, mentee, mentor)``, one a mentee, one a mentor, and pairs:
        the pairs with ``price[j] < floor[i]`` are left out, unread, but for the pairs given,
        which are read whatever their bound (the caller has proven that none of the others
        scores above ``low``: :class:`mentormatch.pipeline.ranks.Proven`). The rows are
        then read in :data:`PRICE_BANDS` bands of the mentors they need (NaN prices count as
        highest), each band's product over the mentors its widest row needs (:meth:`_bands`).

        The pairs of many blocks are scored in one call: a call's fixed costs (the candidates'
        mentee index, the features' chunk loop) were paid 2,000 times at 100,000 x 20,000, and
        a feature builds its lookup table only for a call with enough pairs to pay for it
        (:func:`mentormatch.scoring.score_pairs`), else computes every pair's value."""
        from concurrent.futures import ThreadPoolExecutor

        from .bounded.workspace import blas_controller

        # BLAS on one thread, as the bound passes run it: on its threads a block's product took
        # 4x the CPU (20,000 x 5,000: 1.0 against 0.23 s). One controller, the process's:
        # building one reads the loaded libraries (31 ms; it was built a block, 2,000 times)
        blas = blas_controller()
        order = self.scorer.order
        lim = (np.asarray(low, np.float64) - self.scorer.margin)[order].astype(np.float32)
        lim = np.nextafter(lim, np.float32(-np.inf))  # below low - margin whatever the rounding
        parts = (self._screened(blas, self.scorer, np.arange(self.n_mentees), None, lim, None) if beyond is None
                 else self._bands(blas, lim, np.asarray(low, np.float64)[order] < np.inf, *beyond))
        rows, cols, held = [], [], 0
        pending = None  # the batch being scored on the second thread
        # a batch is scored on a second thread while this one reads the next blocks' bounds
        # (the same CPU, less wall time: only that thread scores, so the features' lookup
        # tables are built by one thread)
        with ThreadPoolExecutor(1) as worker:
            for rr, cc in parts:
                rows.append(rr)
                cols.append(cc)
                held += len(rr)
                if held >= ABOVE_BATCH:
                    if pending is not None:
                        yield pending.result()
                    pending = worker.submit(self._exact, 0, None, np.concatenate(rows), np.concatenate(cols))
                    rows, cols, held = [], [], 0
            if held:
                if pending is not None:
                    yield pending.result()
                pending = worker.submit(self._exact, 0, None, np.concatenate(rows), np.concatenate(cols))
            if pending is not None:
                yield pending.result()

    def _bands(self, blas, lim: np.ndarray, wanted: np.ndarray, floor: np.ndarray, price: np.ndarray,
               mentee: np.ndarray, mentor: np.ndarray):
        """:meth:`_screened` of the ``wanted`` rows (internal order) in :data:`PRICE_BANDS` bands of equal
        rows by the number of mentors each needs (those with ``price >= floor`` of its mentee),
        each band on its rows and the mentors its widest row needs, in their own order; the
        pairs of a mentor below a row's floor are dropped; then the pairs ``mentee``, ``mentor``."""
        price = np.where(np.isnan(price), np.inf, np.asarray(price, np.float64))
        by_price = np.argsort(-price, kind="stable")  # the mentors, highest price first
        need = np.asarray(floor, np.float64)[self.scorer.order]
        need = np.where(np.isnan(need), -np.inf, need)  # (NaN floor: every mentor)
        # per row, its mentors: the ``k`` priced at least its floor, the first ``k`` by price
        k = len(price) - np.searchsorted(np.sort(price), need, side="left")
        live = np.flatnonzero(wanted & (k > 0))
        live = live[np.argsort(k[live], kind="stable")]
        for band in (np.array_split(live, min(PRICE_BANDS, len(live))) if len(live) else []):
            band = np.sort(band)  # (the internal order: a block's rows share a few groups)
            # the band's mentors in their own order, so that each row's pairs come out by
            # mentor, ready for the exact scores' sort (:func:`~mentormatch.pairs.order_of_runs`)
            cols = np.sort(by_price[:int(k[band].max())])
            view = self.scorer.subset(rows=band, cols=cols)
            yield from self._screened(blas, view, band, cols, lim[band], (price[cols], need[band]))
        if len(mentee):
            yield self.scorer.inverse[np.asarray(mentee, np.int64)], np.asarray(mentor, np.int64)

    def _screened(self, blas, view, rows: np.ndarray, cols: np.ndarray | None, lim: np.ndarray,
                  floors: tuple | None):
        """Per block of ``view``'s rows, the pairs whose float32 bound is above ``lim`` (one a
        row of ``view``), as (rows, mentors) of this source's scorer (``rows``: the scorer's
        row of each of ``view``'s, ``cols`` its mentor of each of ``view``'s, None: the same);
        ``floors``: ``(price, need)``, one a mentor of ``view`` and one a row of it: only the
        pairs with ``price >= need`` (None: every pair). ``blas``: the process's
        ``threadpoolctl.ThreadpoolController``."""
        from ..scale import BoundedScorer
        from .bounded.blockscan import scan
        from .sparse import row_blocks

        none = np.zeros(0, np.int64)
        blocks = row_blocks(view.n, view.m)
        buffer = np.empty(max((b - a for a, b in blocks), default=0) * view.m, np.float32)
        split = type(view) is BoundedScorer
        for a, b in blocks:
            if not (lim[a:b] < np.inf).any():
                continue
            out = buffer[:(b - a) * view.m].reshape(b - a, view.m)
            with blas.limit(limits=1, user_api="blas"):
                s, rest = view.upper_split(a, b, out) if split else (view.upper(a, b, out), None)
            _, (rr, cc, _), _ = scan(s, 0, np.ascontiguousarray(lim[a:b]), none, none, max(1, s.shape[1]),
                                     True, None, rest)
            if floors is not None:
                keep = floors[0][cc] >= floors[1][a:b][rr]
                rr, cc = rr[keep], cc[keep]
            if len(rr):
                yield rows[rr + a], (cc if cols is None else cols[cc])

    def best_within(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row of the internal order, ``(low, high)`` around its best exact score: ``high``
        the row's largest bound, ``low`` the exact score of that pair (``-inf`` for both: no
        eligible pair). One pass over the bounds and one exact score a row, where ``best(1)``
        scores every pair whose bound reaches ``low``."""
        col, high = self.top_bounds()
        rows = np.flatnonzero(high > -np.inf)
        low = np.full(self.n_mentees, -np.inf)
        low[rows] = self.scorer.exact_scores(rows, col[rows])  # one call: its overhead once
        return low, high

    def top_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row of the internal order, ``(col, high)``: the mentor of its largest bound and
        that bound (``-inf``: no eligible pair). One pass over the bounds, no exact score."""
        from ..scale import BIG

        n = self.n_mentees
        col, high = np.zeros(n, np.int64), np.full(n, -np.inf)
        for a, b in self._rows():
            up = self._upper(a, b)
            if up.shape[1] == 0:
                continue
            col[a:b] = np.argmax(up, axis=1)
            high[a:b] = up[np.arange(b - a), col[a:b]]
        high[high <= -BIG / 4] = -np.inf
        return col, high

    def best_of_rows(self, rows: np.ndarray, low: np.ndarray, exact=None) -> np.ndarray:
        """The best exact score of each of ``rows`` (internal order, increasing), given ``low``
        (one a row: an exact score the row reaches, or ``-inf``); only the pairs whose bound
        reaches it are scored, by ``exact(rows, mentors)`` (default the scorer's
        ``exact_scores``; ``-inf`` for a pair a rule beyond the bounds removes)."""
        from ..scale import BIG

        out = np.full(len(rows), -np.inf)
        for a, b in self._rows():
            lo, hi = np.searchsorted(rows, [a, b])
            if lo == hi:
                continue
            r = rows[lo:hi] - a
            up = self._upper(a, b)[r]
            rr, c = np.nonzero((up >= low[lo:hi, None]) & (up > -BIG / 4))
            s = (self.scorer.exact_scores if exact is None else exact)(r[rr] + a, c)
            np.maximum.at(out, lo + rr, s)
        return out

    def _mentees(self, a: int, b: int) -> np.ndarray:
        return self.scorer.order[a:b]

    def _best_rows(self, a: int, b: int, k: int) -> Pairs | None:
        """Rows ``a:b``'s ``k`` best pairs: the pairs whose bound reaches the k-th best exact
        score among the mentee's k best bounds are scored exactly."""
        from ..scale import BIG

        up = self._upper(a, b)
        kk = min(k, up.shape[1])
        if kk == 0:
            return None
        # any kk columns serve (the screen below keeps every pair that could be in the top
        # k); one column by argmax: argpartition took 2.4 s of best(1)'s 5 s at 20,000 x 5,000
        top = (np.argmax(up, axis=1)[:, None] if kk == 1
               else np.argpartition(-up, kk - 1, axis=1)[:, :kk])
        r = np.repeat(np.arange(b - a), kk)
        cols = top.ravel()
        ok = up[r, cols] > -BIG / 4
        s = np.full(len(r), -np.inf)
        s[ok] = self.scorer.exact_scores(r[ok] + a, cols[ok])
        kth = np.sort(s.reshape(b - a, kk), axis=1)[:, 0]  # the k-th best exact score so far
        need = (up >= kth[:, None]) & (up > -BIG / 4)
        i, j, sc = self._exact(a, need)
        return _top_k_arrays(i, j, sc, k)
