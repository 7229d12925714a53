"""The passes of :mod:`mentormatch.solvers.dense` over a dense score matrix, in its memory
order and cache-sized blocks: the walk, thresholds per mentee and the cells at or above them
(:func:`collect`). The candidates chosen from those cells (runs of equal scores thinned, each
mentee's best) are :mod:`mentormatch.solvers.dense.candidates`; the certificate's check over
the same walk is :mod:`mentormatch.solvers.dense.check`."""
from __future__ import annotations

import numpy as np

from ...pairs import DenseRows
from ..keys import member

#: Elements of the matrix worked on at a time: 128K float64 (1 MB) stays in cache.
_BLOCK_ELEMENTS = 1 << 17
#: Groups per candidate slot in the threshold pass: ``G = GROUPS_PER_SLOT * k`` groups of
#: mentors; more groups give a tighter threshold (fewer spare candidates) for a larger table.
GROUPS_PER_SLOT = 4


class Walk:
    """The matrix in its memory order: ``outer`` blocks of contiguous lines (mentor columns
    when ``by_mentor``, else mentee rows), ``inner`` the other axis."""

    def __init__(self, rows: DenseRows):
        v = rows.values
        self.rows, self.values = rows, v
        self.n, self.m = v.shape
        self.by_mentor = v.ndim == 2 and v.strides[0] < v.strides[1] and self.n > 1
        self.lines = v.T if self.by_mentor else v  # outer x inner
        inner = self.n if self.by_mentor else self.m
        self.step = max(1, _BLOCK_ELEMENTS // max(inner, 1))
        self._flat = _flat(v)
        self._flat_forbid = _flat(rows.forbid) if rows.forbid is not None else None

    def blocks(self):
        outer = self.lines.shape[0]
        for a in range(0, outer, self.step):
            yield a, min(a + self.step, outer)

    def pairs(self, a: int, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mentee, mentor) of flat positions in the block of lines starting at ``a``."""
        inner = self.lines.shape[1]
        o, q = np.divmod(flat, inner)
        o += a
        return (q, o) if self.by_mentor else (o, q)

    def at(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The scores of the cells ``(i[k], j[k])`` as stored (forbidden ones included)."""
        return _gather(self.values, self._flat, i, j)

    def allowed(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """True where the pair is not forbidden (scores of -inf are handled by the caller)."""
        r = self.rows
        if r.forbid is not None:  # one gather: cheaper than a search in the sorted positions
            return ~_gather(r.forbid, self._flat_forbid, i, j)
        if r.mask is not None:
            return ~r.mask[i, j]
        if r.keys is None or not len(r.keys) or not len(i):
            return np.ones(len(i), dtype=bool)
        return ~member(i * self.m + j, r.keys)


def _flat(a: np.ndarray):
    """``(a as one line of memory, True if by rows)`` when ``a`` is contiguous in either
    order, else None: a cell is then one ``take`` from it, about twice as fast as a 2-d gather
    (250,000 cells of a 10,000 x 2,500 matrix: 4 ms against 7 ms)."""
    if a.ndim != 2:
        return None
    if a.flags.c_contiguous:
        return a.reshape(-1), True
    if a.flags.f_contiguous:
        return a.T.reshape(-1), False
    return None


def _gather(a: np.ndarray, flat, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``a[i, j]``, through ``flat`` (see :func:`_flat`) when there is one."""
    if flat is None:
        return a[i, j]
    line, by_row = flat
    return line.take(i * a.shape[1] + j if by_row else j * a.shape[0] + i)


def thresholds(walk: Walk, k: int, cap: np.ndarray, dem: np.ndarray,
               mentor_rank: np.ndarray, screen: np.ndarray | None = None) -> np.ndarray:
    """``L_i`` per mentee: at least ``k`` eligible pairs of mentee ``i`` with open mentors
    (``cap > 0``) score ``>= L_i`` (fewer when the mentee has fewer). Never above ``+0``'s
    successor, so ``s >= L`` also means ``s > 0``; ``+inf`` for mentees with no room.

    ``screen``, a (2, n) array of ``+inf`` and ``-inf`` rows, takes each mentee's lowest and
    highest score over every cell as stored (forbidden ones too; a NaN anywhere in a row makes
    both NaN) while the pass reads them: the caller's check that every score is a number,
    without a pass of its own (10,000 x 2,500: about 6 ms instead of 12). When this pass reads
    no cells (too few open mentors for groups), ``screen`` is set to NaN: "not screened"."""
    n, m = walk.n, walk.m
    tiny = np.nextafter(0.0, 1.0)
    open_j = np.flatnonzero(cap > 0)
    n_open = len(open_j)
    groups = min(n_open, GROUPS_PER_SLOT * k)
    low = np.full(n, -np.inf)
    if screen is not None and not groups > k:
        screen[:] = np.nan
    if groups > k:
        by_rank = open_j[np.argsort(mentor_rank[open_j], kind="stable")]
        group = np.full(m, -1, dtype=np.int64)
        group[by_rank] = np.arange(n_open) * groups // n_open
        rows = walk.rows
        if walk.by_mentor and screen is None and n * m <= _BLOCK_ELEMENTS:
            # the whole matrix in cache: its columns in rank order, each group's maxima by
            # its first column, then its second, ... (a Python loop over the columns was most
            # of this pass at 200 x 50: 41 us against 17; numpy's reduceat takes 66)
            starts = np.searchsorted(group[by_rank], np.arange(groups))
            size = np.diff(starts, append=n_open)
            blk = walk.lines[by_rank]  # a copy, mentors in rank order
            if rows.mask is not None:
                blk[rows.mask.T[by_rank]] = -np.inf
            best = blk[starts]
            for o in range(1, int(size.max())):
                g = np.flatnonzero(size > o)
                best[g] = np.maximum(best[g], blk[starts[g] + o])
            _drop_forbidden_best(walk, best, group)
            low = np.partition(best, groups - k, axis=0)[groups - k]
        elif walk.by_mentor:
            best = np.full((groups, n), -np.inf)
            # one contiguous column at a time, maxed into its group; a group's columns one
            # after the other (by rank), so that its maxima stay in cache (7 % faster)
            ends = np.searchsorted(group[by_rank], np.arange(1, groups + 1))
            lowest, highest = screen if screen is not None else (None, None)
            for g, (a, b) in enumerate(zip([0, *ends[:-1].tolist()], ends.tolist())):
                acc = best[g]
                for j in by_rank[a:b].tolist():
                    col = walk.lines[j]
                    if lowest is not None:  # (the column is in cache: a third of a pass's cost)
                        np.minimum(lowest, col, out=lowest)
                        if rows.mask is not None:  # (its forbidden cells are not in ``best``)
                            np.maximum(highest, col, out=highest)
                    if rows.mask is not None:
                        col = np.where(rows.mask[:, j], -np.inf, col)
                    np.maximum(acc, col, out=acc)
            if screen is not None:  # the groups' maxima, before forbidden cells are taken out
                np.maximum(screen[1], best.max(axis=0), out=screen[1])
                for j in np.flatnonzero(cap <= 0).tolist():  # columns in no group
                    np.minimum(screen[0], walk.lines[j], out=screen[0])
                    np.maximum(screen[1], walk.lines[j], out=screen[1])
            _drop_forbidden_best(walk, best, group)
            low = np.partition(best, groups - k, axis=0)[groups - k]
        else:
            starts = np.searchsorted(group[by_rank], np.arange(groups))
            position = np.full(m, -1, dtype=np.int64)
            position[by_rank] = np.arange(n_open)
            step = max(1, _BLOCK_ELEMENTS // max(m, 1))
            for a in range(0, n, step):
                b = min(a + step, n)
                if screen is not None:  # every column of these rows, in cache
                    np.minimum(screen[0, a:b], walk.values[a:b].min(axis=1), out=screen[0, a:b])
                    np.maximum(screen[1, a:b], walk.values[a:b].max(axis=1), out=screen[1, a:b])
                blk = walk.values[a:b][:, by_rank]  # a copy, mentors in rank order
                if rows.mask is not None:
                    blk[rows.mask[a:b][:, by_rank]] = -np.inf
                best = np.maximum.reduceat(blk, starts, axis=1)
                if rows.keys is not None and len(rows.keys):  # as above: same thresholds
                    lo, hi = np.searchsorted(rows.keys, [a * m, b * m])
                    fi, fj = np.divmod(rows.keys[lo:hi], m)
                    sel = position[fj] >= 0
                    fi, fj = fi[sel] - a, fj[sel]
                    g = group[fj]
                    hit = blk[fi, position[fj]] == best[fi, g]
                    best[fi[hit], g[hit]] = -np.inf
                low[a:b] = np.partition(best, groups - k, axis=1)[:, groups - k]
    low = np.maximum(low, tiny)
    low[dem <= 0] = np.inf
    return low


def _drop_forbidden_best(walk: Walk, best: np.ndarray, group: np.ndarray) -> None:
    """A group whose best (``best``: groups x mentees) is a forbidden pair kept as a position
    is left out (set to ``-inf``): the others' bests are eligible pairs, so the ``k``-th
    largest is still a valid threshold."""
    rows = walk.rows
    if rows.keys is None or not len(rows.keys):
        return
    n, m = walk.n, walk.m
    fi, fj = np.divmod(rows.keys, m)
    sel = group[fj] >= 0
    fi, fj = fi[sel], fj[sel]
    g = group[fj]
    hit = walk.at(fi, fj) == best.reshape(-1).take(g * n + fi)
    best[g[hit], fi[hit]] = -np.inf


def collect(walk: Walk, low: np.ndarray, op, budget: int | None = None):
    """(mentee, mentor) of every cell with ``op(s, low[mentee])``, one pass in memory order;
    None as soon as more than ``budget`` cells are found."""
    parts, total = [], 0
    buf = np.empty(walk.step * walk.lines.shape[1], dtype=bool)
    for a, b in walk.blocks():
        blk = walk.lines[a:b]
        out = buf[:blk.size].reshape(blk.shape)
        op(blk, low if walk.by_mentor else low[a:b, None], out=out)
        flat = np.flatnonzero(out)
        total += len(flat)
        if budget is not None and total > budget:
            return None
        parts.append(walk.pairs(a, flat))
    e = np.zeros(0, np.int64)
    return (np.concatenate([p[0] for p in parts]) if parts else e,
            np.concatenate([p[1] for p in parts]) if parts else e)

