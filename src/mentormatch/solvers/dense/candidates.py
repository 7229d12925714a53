"""The candidate pairs of :mod:`mentormatch.solvers.dense`, chosen from the cells that
:func:`~mentormatch.solvers.dense.passes.collect` lists at or above each mentee's threshold:
runs of equal scores thinned by :func:`tie_key` (:func:`with_few_ties`, compiled where built),
at most a limit per mentee (:func:`best_per_mentee`), or every pair with a gain
(:func:`all_pairs`). Split from :mod:`~mentormatch.solvers.dense.passes` (s33), which keeps the
walk and the threshold pass."""
from __future__ import annotations

import numpy as np

from ..._native import assign_kernel
from ...pairs import unique_sorted
from ..keys import by_tail, member, pair_order
from ..ties import pair_key
from ..topk import top_k
from .passes import Walk, collect

#: Cells at or above the thresholds listed beyond ``2 * limit`` per mentee before the runs of
#: equal scores there are thinned (:func:`with_few_ties`).
TIE_SLACK = 1 << 16


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
    of 7 alternated runs of CPU time). On scores in few levels ``top_k`` reads each row's
    ``k``-th best off a sort (its partition stalled on runs of equal scores: 5,000 x 1,250 in 4
    levels, 93,829 pairs, 158 ms until s33, 11.6 now against 10.2 for a sort of its own). The
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
        mentees = i[oi][order]
        order = oi[order[by_tail(mentees, int(mentees.max()) + 1)]]  # by mentee (stable)
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

