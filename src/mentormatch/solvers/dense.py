"""Exact assignment on a dense in-memory score matrix, proven optimal for every pair, read in
the matrix's own memory order and never copied whole: the path of :func:`mentormatch.assign`.

The problem (mentees x mentors, ``-inf`` or forbidden = ineligible)::

    max sum_ij s_ij x_ij   s.t.  sum_i x_ij <= c_j,  sum_j x_ij <= d_i,  x_ij in {0, 1},
                                 x_ij = 1 on locked pairs

is solved as in :mod:`mentormatch.solvers.certify`: min-cost flow on a few pairs per mentee,
then dual prices ``u_i``, ``p_j`` from the flow's potentials, and a check that every pair has
``s_ij - u_i - p_j <= tol``; pairs that fail are added and the flow solved again. When none
fails, weak duality bounds every feasible assignment (``Solution.bound``), and the status is
``"optimal"`` only then.

What this module adds is how the matrix is read. A DataFrame's ``to_numpy()`` is usually a
column-major view, so every pass walks the matrix in its memory order (a block of mentor
columns at a time when columns are contiguous, of mentee rows otherwise), in cache-sized
blocks, with no transposed or reordered copy, and there are two passes, not three:

1. **Thresholds.** The open mentors are split into ``G`` groups by their seeded rank; one pass
   takes each mentee's best score in each group. The ``k``-th largest of those ``G`` maxima,
   ``L_i``, has at least ``k`` eligible pairs of mentee ``i`` at or above it (a group whose
   best is forbidden is left out, so that stays true).
2. **Candidates.** A second pass keeps every eligible pair with ``s_ij >= L_i`` and
   ``s_ij > 0``: each mentee's ``k`` best pairs at least, a few more with ties (long runs of
   equal scores are thinned by :func:`tie_key`).
3. **Flow and prices** on the candidates, in the seeded order (below).
4. **Check** without a pass: a pair outside the candidates scores at most its mentee's
   threshold, so its reduced gain is at most ``L_i - u_i - p_j``; only the cells where that
   is positive are read (a few thousand at 10,000 x 2,500), and the pass over every pair
   remains for when they are many. Violators join the candidates (the most violating: ``k``
   per mentee with a violator in the first round, doubling each round); when a round's pairs
   and violators exceed an eighth of the matrix, the next flow takes every pair with a gain.

Ties
----
The documented rule (:func:`mentormatch.pipeline.seeded_order`) is that ties are decided by a
seeded order of the ids, never by row order. The caller passes each mentee's and mentor's
position in that order (``mentee_rank``, ``mentor_rank``). The candidate set depends only on
scores and ranks (groups are made by rank, thresholds are values), the flow network numbers
its nodes by rank and takes its arcs in (mentee rank, mentor rank) order, and where a list
of candidates or violators is cut inside a run of equal values, the pairs kept are those with
the smallest :func:`tie_key` (a mix of the two ranks). So permuting the matrix's rows and
columns (with the ranks) gives the same pairs. Indices in and out are the caller's.

Exactness
---------
Scores are compared in float64, the matrix's own values (no float32 shortcut); the flow works
on integer costs ``round(s * scale)`` and the certificate's tolerance is ``1 / scale``, as in
:mod:`mentormatch.solvers.certify`.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from ..errors import Conflict, InfeasibleError
from ..pairs import Candidates, DenseRows, unique_sorted
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .certify import prices
from .flow import apply_locks, solve_arrays

log = logging.getLogger(__name__)

#: Elements of the matrix worked on at a time: 128K float64 (1 MB) stays in cache.
_BLOCK_ELEMENTS = 1 << 17
#: Cells of the unmatched mentees' rows added to the pairs returned, at most (8 MB of scores).
UNMATCHED_CELLS = 1 << 20
#: Cells at or above the thresholds listed beyond ``2 * limit`` per mentee before the runs of
#: equal scores there are thinned (:func:`_with_few_ties`).
TIE_SLACK = 1 << 16
#: When the pairs worked on and the violators of a round exceed this share of the matrix, the
#: next flow takes every pair with a gain instead (matrices up to ``ALL_PAIRS_CELLS`` cells).
ALL_PAIRS_SHARE = 1 / 8
ALL_PAIRS_CELLS = 16_000_000
#: The check gathers single cells (:func:`_check_above_low`) while they are at most this share
#: of the matrix; a gathered cell costs about what ten cells of a pass in memory order do.
CHECK_SHARE = 1 / 16
#: Groups per candidate slot in the threshold pass: ``G = GROUPS_PER_SLOT * k`` groups of
#: mentors; more groups give a tighter threshold (fewer spare candidates) for a larger table.
GROUPS_PER_SLOT = 4


class _Walk:
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

    def allowed(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """True where the pair is not forbidden (scores of -inf are handled by the caller)."""
        r = self.rows
        if r.forbid is not None:  # one gather: cheaper than a search in the sorted positions
            return ~r.forbid[i, j]
        if r.mask is not None:
            return ~r.mask[i, j]
        if r.keys is None or not len(r.keys) or not len(i):
            return np.ones(len(i), dtype=bool)
        return ~_member(i * self.m + j, r.keys)


def _member(key: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """``np.isin(key, sorted_keys)`` for a sorted int64 array, by binary search."""
    if not len(sorted_keys):
        return np.zeros(len(key), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, key), len(sorted_keys) - 1)
    return sorted_keys[pos] == key


def dense_top_k(capacity: np.ndarray, demand: np.ndarray) -> int:
    """``max(8, 16 - 2 * max capacity) + max demand - 1``: the pairs per mentee the first flow
    starts from. Fewer arcs make the flow faster; too few cost more rounds (a check pass and a
    flow each). Measured on uniform scores with 1 % forbidden, supply about equal to demand:
    capacity 4 (10,000 x 2,500) and 10 (4,000 x 400): 8 pairs, one round, the fastest (13:
    25 % slower; 5: two rounds); capacity 1 (2,000 x 2,000): 13 pairs one round, 8 three
    rounds and twice the time; capacity 2: 13 one round, 8 two rounds."""
    cmax = int(np.max(capacity, initial=0))
    dmax = int(np.max(demand, initial=1))
    return max(8, 16 - 2 * cmax) + dmax - 1


def _ranks(rank: np.ndarray | None, size: int) -> np.ndarray:
    if rank is None:
        return np.arange(size, dtype=np.int64)
    rank = np.asarray(rank, dtype=np.int64)
    if rank.shape != (size,) or not np.array_equal(np.sort(rank), np.arange(size)):
        raise ValueError(f"ranks must be a permutation of 0..{size - 1}")
    return rank


def thresholds(walk: _Walk, k: int, cap: np.ndarray, dem: np.ndarray,
               mentor_rank: np.ndarray) -> np.ndarray:
    """``L_i`` per mentee: at least ``k`` eligible pairs of mentee ``i`` with open mentors
    (``cap > 0``) score ``>= L_i`` (fewer when the mentee has fewer). Never above ``+0``'s
    successor, so ``s >= L`` also means ``s > 0``; ``+inf`` for mentees with no room."""
    n, m = walk.n, walk.m
    tiny = np.nextafter(0.0, 1.0)
    open_j = np.flatnonzero(cap > 0)
    n_open = len(open_j)
    groups = min(n_open, GROUPS_PER_SLOT * k)
    low = np.full(n, -np.inf)
    if groups > k:
        by_rank = open_j[np.argsort(mentor_rank[open_j], kind="stable")]
        group = np.full(m, -1, dtype=np.int64)
        group[by_rank] = np.arange(n_open) * groups // n_open
        rows = walk.rows
        if walk.by_mentor:
            best = np.full((groups, n), -np.inf)
            for j in open_j:  # one contiguous column at a time, maxed into its group
                g = best[group[j]]
                col = walk.lines[j]
                if rows.mask is not None:
                    col = np.where(rows.mask[:, j], -np.inf, col)
                np.maximum(g, col, out=g)
            if rows.keys is not None and len(rows.keys):
                # a group whose best is a forbidden pair is left out: the others' bests are
                # eligible pairs, so the k-th largest is still a valid threshold
                fi, fj = np.divmod(rows.keys, m)
                sel = group[fj] >= 0
                fi, fj = fi[sel], fj[sel]
                g = group[fj]
                hit = walk.values[fi, fj] == best[g, fi]
                best[g[hit], fi[hit]] = -np.inf
            low = np.partition(best, groups - k, axis=0)[groups - k]
        else:
            starts = np.searchsorted(group[by_rank], np.arange(groups))
            position = np.full(m, -1, dtype=np.int64)
            position[by_rank] = np.arange(n_open)
            step = max(1, _BLOCK_ELEMENTS // max(m, 1))
            for a in range(0, n, step):
                b = min(a + step, n)
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


def _collect(walk: _Walk, low: np.ndarray, op, budget: int | None = None):
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


def _with_few_ties(walk: _Walk, low: np.ndarray, ranks, limit: int):
    """The cells of :func:`_above` when runs of equal scores at the thresholds are too long to
    list (scores on a few levels): every cell above ``low``, and of the cells equal to it,
    per mentee about twice the ``room`` left, those of smallest :func:`tie_key` (a key
    threshold from the count of ties: the keys are uniform). A mentee left short (unlucky
    keys, or forbidden cells among those kept) gets all its tied cells, from its row."""
    n = walk.n
    i, j = _collect(walk, low, np.greater)
    ties = np.zeros(n, dtype=np.int64)
    for a, b in walk.blocks():  # count the tied cells per mentee
        blk = walk.lines[a:b]
        if walk.by_mentor:
            ties += np.count_nonzero(blk == low, axis=0)
        else:
            ties[a:b] += np.count_nonzero(blk == low[a:b, None], axis=1)
    room = np.maximum(limit - np.bincount(i, minlength=n), 0)
    frac = np.where(ties > room, 2.0 * room / np.maximum(ties, 1), 2.0)
    top = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)  # keep every tie
    thin = frac < 1.0
    top[thin] = (frac[thin] * 2.0 ** 64).astype(np.uint64)
    parts = []
    for a, b in walk.blocks():
        blk = walk.lines[a:b]
        eq = blk == low if walk.by_mentor else blk == low[a:b, None]
        ti, tj = walk.pairs(a, np.flatnonzero(eq))
        keep = tie_key(ranks[0][ti], ranks[1][tj]) <= top[ti]
        parts.append((ti[keep], tj[keep]))
    ti = np.concatenate([p[0] for p in parts])
    tj = np.concatenate([p[1] for p in parts])
    return np.concatenate([i, ti]), np.concatenate([j, tj]), ties, top


def _above(walk: _Walk, low: np.ndarray, cap: np.ndarray, ranks, limit: int, tie_limit: int):
    """Eligible pairs with ``s >= low[mentee]`` and an open mentor; at most ``limit`` per
    mentee (best first, ties by :func:`tie_key` of the ``ranks``), sorted by (mentee,
    mentor); and, per mentee, a score above which all its eligible pairs are there (``low``,
    raised where a mentee was cut). When long runs of equal scores make the cells at or above
    the thresholds too many to list, ``tie_limit`` per mentee instead (a flow full of ties is
    slow: scores on 5 levels, 2,000 x 2,000 with capacity 1, 4k pairs per mentee took 0.26 s,
    k pairs 0.11 s, one round each)."""
    n, m = walk.n, walk.m
    got = _collect(walk, low, np.greater_equal, budget=2 * limit * n + TIE_SLACK)
    ties = top = None
    if got is None:  # long runs of equal scores at the thresholds
        limit = tie_limit
        i, j, ties, top = _with_few_ties(walk, low, ranks, limit)
    else:
        i, j = got
    keep = cap[j] > 0
    i, j = i[keep], j[keep]
    keep = walk.allowed(i, j)
    i, j = i[keep], j[keep]
    s = walk.values[i, j]
    if ties is not None:
        # a mentee whose tied cells were thinned and who kept fewer eligible pairs than the
        # limit gets all its tied cells (the key threshold was unlucky, or hit forbidden cells)
        thinned = top < np.iinfo(np.uint64).max
        short = np.flatnonzero(thinned & (np.bincount(i, minlength=n) < limit))
        if len(short):
            ri, rj = np.nonzero(walk.values[short] == low[short, None])
            ri = short[ri]
            ok = (cap[rj] > 0) & walk.allowed(ri, rj)
            ri, rj = ri[ok], rj[ok]
            key = unique_sorted(np.concatenate([i * m + j, ri * m + rj]))
            i, j = np.divmod(key, m)
            s = walk.values[i, j]
    over = np.flatnonzero(np.bincount(i, minlength=n) > limit)
    i, j, s = _cut(i, j, s, ranks, limit, m)
    if len(over):  # cut mentees have all their pairs above their lowest pair kept
        low = low.copy()
        cut = np.isin(i, over)
        low[over] = np.inf
        np.minimum.at(low, i[cut], s[cut])
    return i, j, s, low


def _all_pairs(walk: _Walk, cap: np.ndarray, dem: np.ndarray, lock_key: np.ndarray):
    """Every eligible pair with a positive score, an open mentor, a mentee with room and no
    lock, sorted by (mentee, mentor)."""
    m = walk.m
    low = np.where(dem > 0, np.nextafter(0.0, 1.0), np.inf)
    i, j = _collect(walk, low, np.greater_equal)
    keep = cap[j] > 0
    i, j = i[keep], j[keep]
    keep = walk.allowed(i, j)
    key = np.sort(i[keep] * m + j[keep])
    if len(lock_key):
        key = key[~_member(key, lock_key)]
    i, j = np.divmod(key, m)
    return i, j, walk.values[i, j]


def tie_key(rank_i: np.ndarray, rank_j: np.ndarray) -> np.ndarray:
    """A pair's place among pairs of equal score: a mix (splitmix64) of its mentee's and its
    mentor's ranks, so it follows the seeded order of the ids and never the rows' order. A mix,
    not the mentor's rank alone: with that, every mentee's tied pairs would be the same few
    mentors, who cannot take them all (on scores of five levels, a third round and 6x the time)."""
    x = rank_i.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + rank_j.astype(np.uint64)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _cut(i, j, s, ranks, limit: int, m: int, gain=None):
    """At most ``limit`` pairs per mentee, the best ``gain`` (default: score) first, ties by
    :func:`tie_key`; returned sorted by (mentee, mentor). ``ranks``: (mentee, mentor) ranks."""
    counts = np.bincount(i, minlength=1)
    if len(i) and counts.max() > limit:
        g = s if gain is None else gain
        over = counts[i] > limit
        oi = np.flatnonzero(over)
        key = tie_key(ranks[0][i[oi]], ranks[1][j[oi]])
        order = oi[np.lexsort((key, -g[oi], i[oi]))]
        first = np.searchsorted(i[order], i[order])
        keep = np.flatnonzero(~over)
        keep = np.concatenate([keep, order[np.arange(len(order)) - first < limit]])
        i, j, s = i[keep], j[keep], s[keep]
    order = np.argsort(i * m + j, kind="stable")
    return i[order], j[order], s[order]


def _most_violating(i: np.ndarray, j: np.ndarray, gain: np.ndarray, per_mentee: int, ranks):
    """The violators to add: the ``per_mentee`` x (mentees with a violator) largest gains,
    ties at the cut by :func:`tie_key` (so by no row order). When the prices are far off,
    adding every violator would grow the set towards the whole matrix; the allowance doubles
    each round (``per_mentee`` = k, 2k, 4k, ...), as a fixed k a round took dozens of rounds
    where everyone wants the same few mentors. Partitions, no sort: millions of violators
    cost milliseconds."""
    want = per_mentee * len(unique_sorted(i))
    if len(gain) <= want:
        return i, j
    cut = np.partition(gain, len(gain) - want)[len(gain) - want]
    above = gain > cut
    tied = np.flatnonzero(gain == cut)
    room = want - int(above.sum())
    if room < len(tied):
        key = tie_key(ranks[0][i[tied]], ranks[1][j[tied]])
        tied = tied[np.argpartition(key, room - 1)[:room]] if room > 0 else tied[:0]
    above[tied] = True
    return i[above], j[above]


def _check(walk: _Walk, u: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair with ``s - u - p > 0`` (forbidden and chosen ones included; the caller
    filters), and that reduced gain, in one pass in memory order."""
    parts = []
    size = walk.step * walk.lines.shape[1]
    buf, flag = np.empty(size), np.empty(size, dtype=bool)
    for a, b in walk.blocks():  # two operations per element: s - (price of the line) > other price
        blk = walk.lines[a:b]
        r = buf[:blk.size].reshape(blk.shape)
        out = flag[:blk.size].reshape(blk.shape)
        if walk.by_mentor:
            np.subtract(blk, p[a:b, None], out=r)
            np.greater(r, u, out=out)
        else:
            np.subtract(blk, u[a:b, None], out=r)
            np.greater(r, p, out=out)
        flat = np.flatnonzero(out)
        if len(flat):
            parts.append(walk.pairs(a, flat))
    if not parts:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    i = np.concatenate([q[0] for q in parts])
    j = np.concatenate([q[1] for q in parts])
    r = walk.values[i, j] - u[i] - p[j]  # the reduced gain, in the order of the docstring
    keep = r > 0
    return i[keep], j[keep], r[keep]


def _check_above_low(walk: _Walk, u, p, low, i, j, s, chosen, cap: np.ndarray):
    """:func:`_check` without the pass: every pair outside the ones worked on (``i, j, s``)
    scores at most ``low`` of its mentee (see :func:`_above`), so its reduced gain is at most
    ``(low_i - u_i) - p_j``, and only the cells where that is positive can violate: mentees
    sorted by ``low - u``, each open mentor gets the prefix above its price. The pairs worked
    on and not chosen are checked as they are. None when those cells are too many (more than
    ``CHECK_SHARE`` of the matrix): then the pass is cheaper.

    At 10,000 x 2,500 (capacity 4, uniform scores), about 4,400 cells instead of 25 million.
    Exact in floating point: ``s <= low`` gives ``fl(s - u) <= fl(low - u)``."""
    n, m = walk.n, walk.m
    with np.errstate(invalid="ignore"):
        d = low - u
    d = np.where(np.isnan(d), -np.inf, d)  # no room (u = inf): nothing to check
    order = np.argsort(-d, kind="stable")
    neg = -d[order]  # ascending
    open_j = np.flatnonzero(np.isfinite(p) & (cap > 0))
    count = np.searchsorted(neg, -p[open_j], side="left")  # mentees with d > p_j
    total = int(count.sum())
    if total > CHECK_SHARE * n * m:
        return None
    cj = np.repeat(open_j, count)
    first = np.repeat(np.cumsum(count) - count, count)
    ci = order[np.arange(total) - first]
    r = walk.values[ci, cj] - u[ci] - p[cj]
    free = ~chosen
    rs = s[free] - u[i[free]] - p[j[free]]
    ci, cj, r = (np.concatenate([ci, i[free]]), np.concatenate([cj, j[free]]),
                 np.concatenate([r, rs]))
    keep = r > 0
    return ci[keep], cj[keep], r[keep]


def _complete_rows(walk: _Walk, i, j, s, chosen, locks, low: np.ndarray, cap: np.ndarray):
    """Add the eligible pairs that score above a mentee's lowest chosen pair but were not
    worked on: whole rows for the (few) mentees whose chosen pair lies below their threshold
    or who have no room left (locks), and the columns of mentors with no room left. The pairs
    kept are then complete above each chosen pair, so ranks computed on them (1 + how many of
    the mentee's pairs score higher) are exact. Unmatched mentees get all their eligible pairs
    (up to ``UNMATCHED_CELLS`` cells in all), for the reasons given to them."""
    n, m = walk.n, walk.m
    ci = i[chosen]
    floor = np.full(n, np.inf)
    np.minimum.at(floor, ci, s[chosen])
    short = unique_sorted(ci[floor[ci] < low[ci]])
    closed = np.flatnonzero(cap <= 0)
    add_i, add_j = [], []
    if len(short):
        ri, rj = np.nonzero(walk.values[short] > floor[short, None])  # a few whole rows
        add_i.append(short[ri])
        add_j.append(rj)
    matched = np.zeros(n, dtype=bool)
    matched[ci] = True
    unmatched = np.flatnonzero(~matched)
    if len(unmatched) and len(unmatched) * m <= UNMATCHED_CELLS:
        # the unmatched mentees' eligible pairs, all of them, so that the reasons given for
        # them see every option they had (pairs scoring <= 0 are never candidates)
        ri, rj = np.nonzero(walk.values[unmatched] > -np.inf)
        add_i.append(unmatched[ri])
        add_j.append(rj)
    if len(closed) and len(ci):
        who = unique_sorted(ci)
        ri, rj = np.nonzero(walk.values[np.ix_(who, closed)] > floor[who, None])
        add_i.append(who[ri])
        add_j.append(closed[rj])
    if not add_i:
        return i, j, s, chosen, locks
    ri, rj = np.concatenate(add_i), np.concatenate(add_j)
    key = unique_sorted(ri * m + rj)
    key = key[~_member(key, i * m + j)]  # i * m + j is sorted
    ri, rj = np.divmod(key, m)
    ok = walk.allowed(ri, rj)
    ri, rj = ri[ok], rj[ok]
    all_i = np.concatenate([i, ri])
    all_j = np.concatenate([j, rj])
    all_s = np.concatenate([s, walk.values[ri, rj]])
    none = np.zeros(len(ri), dtype=bool)
    all_c = np.concatenate([chosen, none])
    all_l = np.concatenate([locks, none])
    order = np.argsort(all_i * m + all_j, kind="stable")
    return all_i[order], all_j[order], all_s[order], all_c[order], all_l[order]


def solve_dense(rows: DenseRows, capacity, *, demand=None, locked=None, mentee_rank=None,
                mentor_rank=None, options: SolverOptions | None = None
                ) -> tuple[AssignmentProblem, Solution]:
    """Exact assignment on a dense score matrix, certified against every pair.

    Solves ``max sum s_ij x_ij`` subject to ``sum_i x_ij <= capacity[j]``, ``sum_j x_ij <=
    demand[i]``, ``x_ij = 1`` on locked pairs, ``x_ij = 0`` where forbidden or ``s_ij = -inf``,
    ``x_ij`` in {0, 1}. See the module docstring for the method and the tie rule.

    Parameters
    ----------
    rows : DenseRows
        The (n_mentees x n_mentors) float64 matrix, mentees x mentors, ``-inf`` = ineligible,
        with its forbidden mask. Any memory layout; never modified or copied whole. No NaN or
        ``+inf`` (the caller validates).
    capacity : array of whole numbers >= 0, one per mentor.
    demand : array of whole numbers >= 0, one per mentee; default 1.
    locked : (mentee_index, mentor_index) arrays, optional.
    mentee_rank, mentor_rank : permutations, optional
        Each person's position in the tie order (default: the index itself).
    options : SolverOptions, optional
        ``top_k`` (pairs per mentee to start from) and ``certify`` apply.

    Returns
    -------
    problem : AssignmentProblem
        The pairs worked on (locks, candidates, pairs the certificate added, and the pairs
        that make each mentee's list complete above its chosen pair), in the caller's indices.
    solution : Solution
        ``status="optimal"`` when ``certificate["holds"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import DenseRows
    >>> s = np.array([[0.9, 0.1], [0.8, 0.7], [0.5, 0.6]])
    >>> problem, sol = solve_dense(DenseRows(s), np.array([1, 1]))
    >>> problem.pairs.mentee[sol.chosen].tolist(), problem.pairs.mentor[sol.chosen].tolist()
    ([0, 1], [0, 1])
    >>> sol.status, round(sol.objective, 6)
    ('optimal', 1.6)
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    walk = _Walk(rows)
    n, m = walk.n, walk.m
    cap_f = np.asarray(capacity, dtype=np.float64)
    if cap_f.shape != (m,) or np.any(cap_f < 0) or np.any(cap_f != np.round(cap_f)):
        raise ValueError(f"capacity must be {m} whole numbers >= 0")
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, dtype=np.int64)
    if dem.shape != (n,) or np.any(dem < 0):
        raise ValueError(f"demand must be {n} whole numbers >= 0")
    rank_i, rank_j = _ranks(mentee_rank, n), _ranks(mentor_rank, m)
    if locked is not None:
        li, lj = (np.asarray(x, dtype=np.int64) for x in locked)
    else:
        li = lj = np.zeros(0, np.int64)
    ls = rows.at(li, lj) if len(li) else np.zeros(0)
    if np.any(~np.isfinite(ls)):
        bad = int(np.flatnonzero(~np.isfinite(ls))[0])
        raise InfeasibleError(Conflict("eligibility", f"locked pair (mentee {li[bad]}, mentor "
                                       f"{lj[bad]}) is forbidden or has score -inf", "unlock it"))
    lock_pairs = Candidates.from_arrays(li, lj, n, m)
    if len(lock_pairs) != len(li):
        raise ValueError("locked pairs must be distinct")
    lock_order = np.argsort(li * m + lj)
    li, lj, ls = li[lock_order], lj[lock_order], ls[lock_order]
    _, cap, dem_left = apply_locks(AssignmentProblem(lock_pairs, ls, cap_f, dem,
                                                     locked=np.ones(len(li), dtype=bool)))
    lock_key = li * m + lj
    k = options.top_k if options.top_k is not None else dense_top_k(cap, dem_left)
    if k < 1:
        raise ValueError(f"SolverOptions.top_k must be >= 1 or None, got {k}")

    t0 = time.perf_counter()
    low = thresholds(walk, k, cap, dem_left, rank_j)
    i, j, s, low = _above(walk, low, cap, (rank_i, rank_j), GROUPS_PER_SLOT * k, k)
    if len(lock_key):
        keep = ~_member(i * m + j, lock_key)
        i, j, s = i[keep], j[keep], s[keep]
    log.debug("dense: %d candidate pairs (k=%d) in %.3fs", len(i), k, time.perf_counter() - t0)

    # the flow in the seeded order: nodes numbered by rank, arcs by (mentee rank, mentor rank)
    cap_r = np.empty(m, np.int64)
    cap_r[rank_j] = cap
    dem_r = np.empty(n, np.int64)
    dem_r[rank_i] = dem_left
    rounds, added, sweeps_total, pot, pot_scale = 0, 0, 0, None, 0.0
    everything = False  # every pair with a gain is in the flow
    while True:
        rounds += 1
        ri, rj = rank_i[i], rank_j[j]
        order = np.argsort(ri * m + rj)
        res = solve_arrays(ri[order], rj[order], s[order], cap_r, dem_r)
        chosen = np.zeros(len(i), dtype=bool)
        chosen[order[res.chosen]] = True
        cert = {"method": "dense_min_cost_flow+dual_check", "scale": res.scale,
                "rounding_bound": res.n_max / res.scale, "n_max": res.n_max, "top_k": k,
                "pairs_in_sparse": len(i), "rounds": rounds, "violations_added": added,
                "or_tools_status": res.status, "holds": False}
        if everything:  # OR-Tools' optimum over every pair that can raise the total
            cert.update(method="dense_min_cost_flow_all_pairs", holds=res.optimal)
            bound = float(s[chosen].sum()) + res.n_max / res.scale if res.optimal else None
            break
        if not res.optimal or not options.certify:
            bound = None
            break
        start = pot if pot_scale == res.scale else None
        u_r, p_r, dual_obj, sweeps, pot = prices(ri[order], rj[order], res.cost, res.chosen,
                                                 s[order], dem_r, cap_r, res.scale, start)
        pot_scale = res.scale
        sweeps_total += sweeps
        tol = 1.0 / res.scale
        u, p = u_r[rank_i], p_r[rank_j]
        got = _check_above_low(walk, u, p, low, i, j, s, chosen, cap)
        ci, cj, r = got if got is not None else _check(walk, u, p)
        cert["check"] = "cells above the thresholds" if got is not None else "pass over every pair"
        key = ci * m + cj
        keep = ~_member(key, (i * m + j)[chosen]) & ~_member(key, lock_key) & walk.allowed(ci, cj)
        ci, cj, r = ci[keep], cj[keep], r[keep]
        eps = float(r.max(initial=0.0))
        bad = r > tol
        if not bad.any():
            bound = dual_obj + eps * res.n_max
            cert.update(holds=True, pairs_checked=n * m, bellman_ford_sweeps=sweeps_total,
                        dual_objective=dual_obj, max_reduced_gain=eps, tolerance=tol)
            break
        if len(i) + int(bad.sum()) > ALL_PAIRS_SHARE * n * m and n * m <= ALL_PAIRS_CELLS:
            # the prices are far off (everyone wants the same few mentors): one flow on every
            # pair with a gain costs less than the rounds to come (2,000 x 2,000, capacity 1,
            # scores = mentee + mentor quality + noise: 9 rounds and 7-9 s; this, about 4 s)
            i, j, s = _all_pairs(walk, cap, dem_left, lock_key)
            low = np.where(dem_left > 0, np.nextafter(0.0, 1.0), np.inf)
            added += len(i) - int(chosen.sum())
            everything = True
            continue
        vi, vj = _most_violating(ci[bad], cj[bad], r[bad], k << min(rounds, 20), (rank_i, rank_j))
        new = ~_member(vi * m + vj, i * m + j)
        vi, vj = vi[new], vj[new]
        added += len(vi)
        log.debug("dense: round %d, %d violations added", rounds, len(vi))
        i = np.concatenate([i, vi])
        j = np.concatenate([j, vj])
        s = np.concatenate([s, walk.values[vi, vj]])
        order = np.argsort(i * m + j, kind="stable")
        i, j, s = i[order], j[order], s[order]

    all_i = np.concatenate([li, i])
    all_j = np.concatenate([lj, j])
    order = np.argsort(all_i * m + all_j, kind="stable")
    all_i, all_j = all_i[order], all_j[order]
    all_s = np.concatenate([ls, s])[order]
    is_lock = np.concatenate([np.ones(len(li), bool), np.zeros(len(i), bool)])[order]
    is_chosen = np.concatenate([np.ones(len(li), bool), chosen])[order]
    all_i, all_j, all_s, is_chosen, is_lock = _complete_rows(walk, all_i, all_j, all_s, is_chosen,
                                                             is_lock, low, cap)
    pairs = Candidates(all_i, all_j, n, m)
    problem = AssignmentProblem(pairs, all_s, cap_f, dem, locked=is_lock)
    status = "optimal" if bound is not None else "feasible"
    sol = finish(problem, np.flatnonzero(is_chosen), status, started, "flow", None, cert)
    if bound is not None:
        sol.bound = float(ls.sum()) + bound
    return problem, sol
