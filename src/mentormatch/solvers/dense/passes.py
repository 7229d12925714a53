"""The passes of :mod:`mentormatch.solvers.dense` over a dense score matrix, in its memory
order and cache-sized blocks: thresholds per mentee, the candidates at or above them (runs of
equal scores thinned by :func:`tie_key`) and every pair with a gain. The certificate's check
over the same walk is :mod:`mentormatch.solvers.dense.check`."""
from __future__ import annotations

import numpy as np

from ..._native import assign_kernel
from ...pairs import DenseRows, unique_sorted
from ..keys import by_tail, member, pair_order
from ..ties import pair_key
from ..topk import top_k

#: Elements of the matrix worked on at a time: 128K float64 (1 MB) stays in cache.
_BLOCK_ELEMENTS = 1 << 17
#: Cells at or above the thresholds listed beyond ``2 * limit`` per mentee before the runs of
#: equal scores there are thinned (:func:`with_few_ties`).
TIE_SLACK = 1 << 16
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


def with_few_ties(walk: Walk, low: np.ndarray, ranks, limit: int):
    """The cells of :func:`above` when runs of equal scores at the thresholds are too long to
    list (scores on a few levels): every cell above ``low``, and of the cells equal to it,
    per mentee about twice the ``room`` left, those of smallest :func:`tie_key` (a key
    threshold from the count of ties: the keys are uniform). A mentee left short (unlucky
    keys, or forbidden cells among those kept) gets all its tied cells, from its row."""
    n = walk.n
    i, j = collect(walk, low, np.greater)
    ties = np.zeros(n, dtype=np.int64)
    for a, b in walk.blocks():  # count the tied cells per mentee
        blk = walk.lines[a:b]
        if walk.by_mentor:
            ties += np.count_nonzero(blk == low, axis=0)
        else:
            ties[a:b] += np.count_nonzero(blk == low[a:b, None], axis=1)
    top = _thinning(np.bincount(i, minlength=n), ties, limit)
    parts = []
    for a, b in walk.blocks():
        blk = walk.lines[a:b]
        eq = blk == low if walk.by_mentor else blk == low[a:b, None]
        ti, tj = walk.pairs(a, np.flatnonzero(eq))
        keep = _key_at_most(ranks[0][ti], ranks[1][tj], top[ti])
        parts.append((ti[keep], tj[keep]))
    ti = np.concatenate([p[0] for p in parts])
    tj = np.concatenate([p[1] for p in parts])
    return np.concatenate([i, ti]), np.concatenate([j, tj]), ties, top


def _thinning(low_count: np.ndarray, ties: np.ndarray, limit: int) -> np.ndarray:
    """Per mentee, the largest :func:`tie_key` of a tied cell kept (:func:`with_few_ties`):
    every tie where they fit in the ``room`` left above ``low`` (``low_count`` cells above
    it), else about twice the room's share of them."""
    room = np.maximum(limit - low_count, 0)
    frac = np.where(ties > room, 2.0 * room / np.maximum(ties, 1), 2.0)
    top = np.full(len(ties), np.iinfo(np.uint64).max, dtype=np.uint64)  # keep every tie
    thin = frac < 1.0
    top[thin] = (frac[thin] * 2.0 ** 64).astype(np.uint64)
    return top


def _few_ties_compiled(walk: Walk, low: np.ndarray, ranks, limit: int, cap: np.ndarray):
    """:func:`with_few_ties` and :func:`above`'s filter after it (open mentors, not
    forbidden) and gather of the scores, in two compiled passes (counts, then pairs:
    :func:`mentormatch._native.assign.few_ties_pairs`) instead of three numpy passes and the
    gathers: the same pairs in the same order. ``(i, j, s, ties, top)``, or None where the
    kernel is not built (or older) or the forbidden cells are kept as positions only."""
    kernel = assign_kernel()
    rows = walk.rows
    if (kernel is None or getattr(kernel, "FACE_CHECK_VERSION", 0) < 2 or walk.values.ndim != 2
            or (rows.forbid is None and rows.keys is not None and len(rows.keys))):
        return None
    c64 = np.ascontiguousarray
    low = c64(low, np.float64)
    above_n, ties = kernel.few_ties_count(walk.values, walk.by_mentor, low)
    top = _thinning(above_n, ties, limit)
    has = rows.forbid is not None
    forbid = rows.forbid.view(np.uint8) if has else np.zeros((1, 1), np.uint8)
    i, j, s = kernel.few_ties_pairs(walk.values, forbid, has, walk.by_mentor, low, top,
                                    c64(cap, np.int64), c64(ranks[0], np.int64),
                                    c64(ranks[1], np.int64), int(above_n.sum()), int(ties.sum()))
    return i, j, s, ties, top


def _key_at_most(rank_i: np.ndarray, rank_j: np.ndarray, top: np.ndarray) -> np.ndarray:
    """``tie_key(rank_i, rank_j) <= top``: by the compiled keys' top 63 bits where built (a
    third of numpy's time: 1.5 million cells, 3 ms against 10), the full key only where those
    bits equal ``top``'s."""
    kernel = assign_kernel()
    if kernel is None:
        return tie_key(rank_i, rank_j) <= top
    half = kernel.pair_keys(np.ascontiguousarray(rank_i, np.int64),
                            np.ascontiguousarray(rank_j, np.int64), 0, 63)
    top_half = (top >> np.uint64(1)).astype(np.int64)
    out = half < top_half
    same = np.flatnonzero(half == top_half)
    if len(same):
        out[same] = tie_key(rank_i[same], rank_j[same]) <= top[same]
    return out


def above(walk: Walk, low: np.ndarray, cap: np.ndarray, ranks, limit: int, tie_limit: int):
    """Eligible pairs with ``s >= low[mentee]`` and an open mentor; at most ``limit`` per
    mentee (best first, ties by :func:`tie_key` of the ``ranks``), sorted by (mentee,
    mentor); and, per mentee, a score above which all its eligible pairs are there (``low``,
    raised where a mentee was cut). When long runs of equal scores make the cells at or above
    the thresholds too many to list, ``tie_limit`` per mentee instead (a flow full of ties is
    slow: scores on 5 levels, 2,000 x 2,000 with capacity 1, 4k pairs per mentee took 0.26 s,
    k pairs 0.11 s, one round each)."""
    n, m = walk.n, walk.m
    got = collect(walk, low, np.greater_equal, budget=2 * limit * n + TIE_SLACK)
    ties = top = fused = None
    if got is None:  # long runs of equal scores at the thresholds
        limit = tie_limit
        fused = _few_ties_compiled(walk, low, ranks, limit, cap)
        if fused is not None:
            i, j, s, ties, top = fused
        else:
            i, j, ties, top = with_few_ties(walk, low, ranks, limit)
    else:
        i, j = got
    if fused is None:
        keep = cap[j] > 0
        i, j = i[keep], j[keep]
        keep = walk.allowed(i, j)
        i, j = i[keep], j[keep]
        s = walk.at(i, j)
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
            s = walk.at(i, j)
    over = np.flatnonzero(np.bincount(i, minlength=n) > limit)
    i, j, s = best_per_mentee(i, j, s, ranks, limit, m)
    if len(over):  # cut mentees have all their pairs above their lowest pair kept
        low = low.copy()
        was_cut = np.isin(i, over)
        low[over] = np.inf
        np.minimum.at(low, i[was_cut], s[was_cut])
    return i, j, s, low


def all_pairs(walk: Walk, cap: np.ndarray, dem: np.ndarray, lock_key: np.ndarray):
    """Every eligible pair with a positive score, an open mentor, a mentee with room and no
    lock, sorted by (mentee, mentor)."""
    m = walk.m
    low = np.where(dem > 0, np.nextafter(0.0, 1.0), np.inf)
    i, j = collect(walk, low, np.greater_equal)
    keep = cap[j] > 0
    i, j = i[keep], j[keep]
    keep = walk.allowed(i, j)
    key = np.sort(i[keep] * m + j[keep])
    if len(lock_key):
        key = key[~member(key, lock_key)]
    i, j = np.divmod(key, m)
    return i, j, walk.at(i, j)


def tie_key(rank_i: np.ndarray, rank_j: np.ndarray) -> np.ndarray:
    """A pair's place among pairs of equal score: a mix (splitmix64) of its mentee's and its
    mentor's ranks, so it follows the seeded order of the ids and never the rows' order. A mix,
    not the mentor's rank alone: with that, every mentee's tied pairs would be the same few
    mentors, who cannot take them all (on scores of five levels, a third round and 6x the time).
    The same mix as the tie rule's first key (:func:`mentormatch.solvers.ties.pair_key`)."""
    return pair_key(rank_i, rank_j)


def best_per_mentee(i, j, s, ranks, limit: int, m: int):
    """At most ``limit`` pairs per mentee, the best score first, ties by :func:`tie_key`;
    returned sorted by (mentee, mentor). ``ranks``: (mentee, mentor) ranks.

    The selection is :func:`mentormatch.solvers.topk.top_k`'s, whose ties at the ``limit``-th
    score go by position: the pairs of the mentees over the limit are put in :func:`tie_key`
    order within each mentee first (a stable sort of the keys, then a radix sort of the
    mentees), so that their positions are their keys' order. Against its own three sorts
    (``np.lexsort((key, -score, mentee))`` as stable sorts, which it replaces; the same pairs):
    33,000 pairs over the limit 4.4 ms against 7.6, 400,000 70 against 125 ms (s28, the least
    of 7 alternated runs of CPU time). On scores in few levels (:func:`_few_levels`) the rows
    are long runs of equal scores, where the partition slows down (10,000 x 2,500 in 4 levels,
    208,493 pairs: 221 ms); there a stable sort by score, descending, of the pairs in key
    order and a radix sort by mentee give the same pairs in 25 ms (s32, least of 5). The
    compiled kernel (:func:`mentormatch._native.assign.best_of_rows`, where built) keeps the
    same pairs by a heap of ``limit`` per mentee over (score descending, key, position), with
    no sort of the pairs: 1,000 x 250 in 4 levels, 62,000 pairs, this function 3.1 ms
    against 6.7; 5,000 x 1,250, 94,000 pairs, 3.5 against 10.5 (s33, 20 and 5 calls)."""
    counts = np.bincount(i, minlength=1)
    kernel = assign_kernel()
    if len(i) and counts.max() > limit and getattr(kernel, "FACE_CHECK_VERSION", 0) >= 1:
        # the same pairs by a heap per mentee in C (best_of_rows): no sort of every pair
        c64 = np.ascontiguousarray
        keep = kernel.best_of_rows(c64(i, np.int64), c64(j, np.int64), c64(s, np.float64),
                                   c64(ranks[0], np.int64), c64(ranks[1], np.int64), int(limit),
                                   len(counts)).view(bool)
        i, j, s = i[keep], j[keep], s[keep]
    elif len(i) and counts.max() > limit:
        over = counts[i] > limit
        oi = np.flatnonzero(over)
        order = np.argsort(tie_key(ranks[0][i[oi]], ranks[1][j[oi]]), kind="stable")
        few = _few_levels(s[oi])
        if few:  # by score, descending, then key: top_k's partition of rows of equal scores
            # is slow (5,000 x 1,250 in 4 levels, 90,364 pairs, 148 ms against 12)
            order = order[np.argsort(-s[oi][order], kind="stable")]
        mentees = i[oi][order]
        order = oi[order[by_tail(mentees, int(mentees.max()) + 1)]]  # by mentee (stable)
        if few:  # each mentee's first ``limit``
            g = i[order]
            start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
            place = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
            best = order[place < limit]
        else:
            best = order[top_k(i[order], s[order], limit)]
        keep = np.concatenate([np.flatnonzero(~over), best])
        i, j, s = i[keep], j[keep], s[keep]
    # the cells are distinct, so any sort gives this order; a stable one takes 4x as long on
    # the column-major order of a pass by mentor (90,000 cells: 5.4 ms against 1.4 ms), and
    # a bucket per code (pair_order, where the pairs fill an eighth of their range) less
    # again (1,000 x 250 in 4 levels, 32,000 pairs kept: 0.25 ms against 1.5, s32)
    n = int(i.max(initial=-1)) + 1
    order = pair_order(i, j, n, m) if max(n, m) <= 1 << 16 else np.argsort(i * m + j)
    return i[order], j[order], s[order]


def _few_levels(s: np.ndarray) -> bool:
    """Whether ``s`` holds long runs of equal values (fewer distinct values than a sixteenth of
    its length, read on a sample): then a sort selects each mentee's best faster than
    :func:`~mentormatch.solvers.topk.top_k`'s partition."""
    sample = s[:: max(1, len(s) // 4096)]
    return len(np.unique(sample)) * 16 < len(sample)
