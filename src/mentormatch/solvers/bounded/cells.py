"""Cells of the bounded re-checks (:mod:`.check`): a row's pairs in groups of ``GROUP_WIDTH``
consecutive mentors, each cell's largest ``bound - price`` outside the row's pool (a floor per
cell, finer than the row's), the bounds of some rows on one group of mentors, and the array
helpers of the re-checks: which cells fail their guard, floors moved by a fall of prices, pairs
sorted by cell and masked in a cell's bounds, the cells on threads.

A re-check then computes bounds only in the cells whose floor, moved by the largest price fall
of the group's mentors, may reach a violator, instead of the whole row (:class:`Cells`).
"""
from __future__ import annotations

import numpy as np

#: Mentors per cell: at 20,000 mentors, 200 cells a row (80 MB of float32 floors at 100,000
#: mentees). A row's pool (64 pairs) takes the largest entries of a few cells; the other
#: cells' floors are far below the row's floor, which is what spares the re-checks.
GROUP_WIDTH = 100
#: Rows chunked by this many for the cells' maxima: the chunk stays in cache (0.3 against
#: 0.5 ns a pair for the whole block at 20,000 mentors).
_CHUNK_ROWS = 16


def starts(m: int) -> np.ndarray:
    """The first mentor of each cell of a row of ``m`` mentors."""
    return np.arange(0, m, GROUP_WIDTH)


def group_max(s: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each row's maximum over the columns ``edges[k]:edges[k + 1]`` (the last to the end), as
    float32, at least ``-BIG`` (so that a floor plus a price fall is never ``-inf + inf``)."""
    from ...scale import BIG

    out = np.empty((s.shape[0], len(edges)), np.float32)
    if not len(edges) or not s.shape[0]:
        return out
    for a in range(0, s.shape[0], _CHUNK_ROWS):
        out[a:a + _CHUNK_ROWS] = np.maximum.reduceat(s[a:a + _CHUNK_ROWS], edges, axis=1)
    np.maximum(out, np.float32(-BIG), out=out)
    return out


def up32(x: np.ndarray) -> np.ndarray:
    """``x`` (float64) as float32 rounded up (never below ``x``): a floor stays a floor."""
    y = x.astype(np.float32)
    low = y.astype(np.float64) < x
    if low.any():
        y[low] = np.nextafter(y[low], np.float32(np.inf))
    return y


class Cells:
    """The bounds of rows of ``scorer`` on one cell (mentors ``a:b``), less prices.

    A plain :class:`mentormatch.scale.BoundedScorer` (or one sent once to an executor, whose
    view is one) is computed here as its :meth:`~mentormatch.scale.BoundedScorer.upper` computes
    a block: the factors' product, the groups table's entries and the stated pairs; removed
    pairs ``< -BIG / 2``. The float32 sums may run in another order, a few units of the largest
    term, which the bound's margin covers as it covers any order. The stated and removed pairs
    are sorted by cell once. Any other scorer (a bonus or threshold folded in): its
    :meth:`subset`'s ``upper``."""

    def __init__(self, scorer):
        from ...scale import BoundedScorer

        base = getattr(scorer, "view", scorer)
        self.scorer, self.m = scorer, scorer.m
        self.plain = type(base) is BoundedScorer
        if not self.plain:
            return
        self.base = base
        self.stated = self.by_cell(base.stated)
        self.blocked = self.by_cell(base.blocked)

    def by_cell(self, matrix):
        if matrix is None or not matrix.nnz:
            return None
        coo = matrix.tocoo()
        r, c, v = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
        order = np.lexsort((c, r, c // GROUP_WIDTH))  # by cell, then row
        r, c, v = r[order], c[order], v[order]
        return r, c, v, np.searchsorted(c // GROUP_WIDTH, np.arange(len(starts(self.m)) + 1))

    def bounds(self, rows: np.ndarray, a: int, b: int, less: np.ndarray) -> np.ndarray:
        """float32 ``bound - less`` of ``rows`` (ascending) on mentors ``a:b`` (one cell, ``a``
        a multiple of ``GROUP_WIDTH``); removed pairs ``< -BIG / 2``."""
        from ...scale import BIG

        if not self.plain:
            view = self.scorer.subset(rows=rows, cols=np.arange(a, b))
            out = view.upper(0, len(rows))
            out -= less[a:b]
            return out
        sc = self.base
        out = sc.left[rows] @ sc.right_t[:, a:b]
        keys = sc.key_sorted[rows]
        if sc.table_cols is None:
            table = sc.table[:, a:b][keys]
        else:
            table = sc.table[np.ix_(keys, sc.table_cols[a:b])]
        out += table - less[a:b]
        g = a // GROUP_WIDTH
        for part, removed in ((self.stated, False), (self.blocked, True)):
            if part is None:
                continue
            r, c, v, cuts = part
            lo, hi = cuts[g], cuts[g + 1]
            if hi == lo:
                continue
            at = np.searchsorted(rows, r[lo:hi])
            hit = at < len(rows)
            hit[hit] = rows[at[hit]] == r[lo:hi][hit]
            if removed:
                out[at[hit], c[lo:hi][hit] - a] = -np.float32(BIG) - less[c[lo:hi][hit]]
            else:
                out[at[hit], c[lo:hi][hit] - a] += v[lo:hi][hit]
        return out


#: Rows a time in the cells' float64 sums (a few MB each, not n x cells x 8 bytes at once).
_ROWS_AT_ONCE = 4096


def failing(cells: np.ndarray, rows: np.ndarray, rest: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Whether each cell of ``rows`` fails its guard: ``cells + rest > limit`` (in float64)."""
    out = np.empty((len(rows), cells.shape[1]), bool)
    for a in range(0, len(rows), _ROWS_AT_ONCE):
        part = cells[rows[a:a + _ROWS_AT_ONCE]].astype(np.float64)
        np.greater(part + rest[None, :], limit[a:a + _ROWS_AT_ONCE, None], out=out[a:a + _ROWS_AT_ONCE])
    return out


def shifted(cells: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """``cells + rest`` (float64 sums) rounded up to float32, at least ``-BIG``: floors moved by
    the largest fall (``rest`` is ``-inf`` in a cell of mentors without room)."""
    from ...scale import BIG

    out = np.empty_like(cells)
    for a in range(0, len(cells), _ROWS_AT_ONCE):
        out[a:a + _ROWS_AT_ONCE] = up32(np.maximum(cells[a:a + _ROWS_AT_ONCE].astype(np.float64) + rest[None, :],
                                                   -BIG))
    return out


def by_cell(i: np.ndarray, j: np.ndarray, m: int):
    """Pairs sorted by cell, then row: (rows, mentors, where each cell's pairs start)."""
    order = np.lexsort((i, j // GROUP_WIDTH))
    i, j = i[order], j[order]
    return i, j, np.searchsorted(j // GROUP_WIDTH, np.arange(len(starts(m)) + 1))


def mask_pairs(s: np.ndarray, rows: np.ndarray, pairs, g: int, a: int) -> None:
    """The pairs (rows, mentors, cuts: :func:`by_cell`) of cell ``g`` among ``rows``
    (ascending) set to ``-inf`` in ``s``, the cell's bounds of those rows from mentor ``a``."""
    pi, pj, cuts = pairs
    lo, hi = cuts[g], cuts[g + 1]
    if hi == lo:
        return
    at = np.searchsorted(rows, pi[lo:hi])
    hit = at < len(rows)
    hit[hit] = rows[at[hit]] == pi[lo:hi][hit]
    s[at[hit], pj[lo:hi][hit] - a] = -np.inf


def on_threads(fn, items: list):
    """``fn`` of each item, in order, on as many threads as cores (up to 4) with BLAS on one
    thread each (as a pass's blocks: :func:`mentormatch.solvers.bounded.passes._over_blocks`)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    workers = max(1, min(os.cpu_count() or 1, 4))
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        yield from pool.map(fn, items)
