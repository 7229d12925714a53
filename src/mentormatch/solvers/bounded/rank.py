"""Sorted-array and ranking helpers of the bounded passes (:mod:`.passes`, :mod:`.check`):
membership by binary search or index table, each row's ``k`` largest entries, each group's
first ``k``, a crowded row's largest suspects, and the fold of each mentor's best rows, all
vectorised and deterministic (ties to the lower column or row)."""
from __future__ import annotations

import numpy as np

from ..._native import scan_kernel
from ..sparse import rank_in_group as _rank_in_group


def _lookup(sorted_values: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``x`` stands in the ascending ``sorted_values``, and whether it is there
    (``np.isin`` without sorting ``x``). Int64 keys by the compiled walk where built, which
    follows each ascending run of ``x`` (a check's suspects come by code): 700,000 keys in 1.7
    million, 20 ms by binary searches, about 3 by the walk (s31h5)."""
    kernel = scan_kernel()
    if (kernel is not None and hasattr(kernel, "lookup_sorted") and sorted_values.dtype == np.int64
            and getattr(x, "dtype", None) == np.int64 and x.ndim == 1):
        return kernel.lookup_sorted(sorted_values, x)
    pos = np.searchsorted(sorted_values, x)
    if not len(sorted_values):
        return pos, np.zeros(len(x), bool)
    return pos, sorted_values[np.minimum(pos, len(sorted_values) - 1)] == x


def _first_k(group: np.ndarray, k: int) -> np.ndarray:
    """For entries sorted by ``group`` (ascending), whether each is among its group's first
    ``k``."""
    return _rank_in_group(group) < k


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-d mask, through the flat indices (several times faster)."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def _row_best(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each row's ``k`` largest entries, each row's in descending order (ties:
    lower column first). A threshold from a sample of the columns (every 32nd where rows are
    wide, else every 8th) finds about ``3k`` candidates a row (``2k`` from every 8th) in one
    comparison, and only those are ranked, in a padded matrix (a stable sort per row: the
    candidates come in column order); the rows where it finds fewer than ``k`` or far more
    (many ties) are ranked by :func:`_row_best_exact`. The sample is the threshold's cost: at
    20,000 mentors (``k`` 64, blocks of 200 rows, one core) every 8th column cost 1.43 ns a
    pair, every 32nd 1.17 (its partition is a quarter as long; the 50 % more candidates cost
    less than that saves, and no row of a first pass's blocks fell to the exact ranking)."""
    n_rows, m = s.shape
    if k == 1:
        return np.arange(n_rows), np.argmax(s, axis=1)
    if m < 16 * k or n_rows == 0:
        return np.repeat(np.arange(n_rows), k), _row_best_exact(s, k).reshape(-1)
    step, share = (32, 3) if m >= 128 * k else (8, 2)
    sample = s[:, ::step]
    q = max(1, (share * k) // step)  # the sample's q-th largest: about share * k entries above it
    floor = np.partition(sample, sample.shape[1] - q, axis=1)[:, sample.shape[1] - q]
    flat = np.flatnonzero(s >= floor[:, None])
    count = np.bincount(flat // m, minlength=n_rows)
    # (a row whose threshold is -inf counts every entry, so no -inf candidate meets the
    # padding's +inf in the ranking below)
    odd = (count < k) | (count > 8 * k)
    if odd.any():
        flat = flat[np.repeat(~odd, count)]
    rr, cc = np.divmod(flat, m)
    pos = _rank_in_group(rr)
    width = max(int(pos.max(initial=-1)) + 1, k)  # (k when every row is odd)
    rank = np.full((n_rows, width), np.inf, np.float32)  # -value; padding last
    col = np.zeros((n_rows, width), np.int64)
    rank[rr, pos] = -s.reshape(-1)[flat]
    col[rr, pos] = cc
    out = np.take_along_axis(col, np.argsort(rank, axis=1, kind="stable")[:, :k], axis=1)
    if odd.any():
        out[odd] = _row_best_exact(s[odd], k)
    return np.repeat(np.arange(n_rows), k), out.reshape(-1)


def _row_best_exact(s: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` largest entries (rows x k columns), in descending order, ties to the
    lower column, from the row's exact ``k``-th largest value."""
    n_rows, m = s.shape
    kth = np.partition(s, m - k, axis=1)[:, m - k]
    above = s > kth[:, None]
    tie = s == kth[:, None]
    need = k - np.count_nonzero(above, axis=1)
    take = above | (tie & (np.cumsum(tie, axis=1) <= need[:, None]))
    cols = np.nonzero(take)[1].reshape(n_rows, k)
    vals = np.take_along_axis(s, cols, axis=1)
    return np.take_along_axis(cols, np.argsort(-vals, axis=1, kind="stable"), axis=1)


def _fold(val: np.ndarray, row: np.ndarray, pend_val: list, pend_row: list, floor: np.ndarray) -> None:
    """Each mentor's ``k`` best (value, row) so far, in place (``val``, ``row``: mentors x k, in
    no order, ``-inf`` where fewer), from themselves and the pending per-block bests (lists of
    per-mentor vectors); ``floor`` becomes each mentor's ``k``-th best. Among equal values the
    lower rows are kept, so that the result is the same whatever the timing of the threads.

    Only the mentors with a pending value at least their ``floor`` are folded (a smaller value
    changes neither the ``k`` best nor the floor): once the lists fill, a few of the mentors."""
    pv, pr = np.array(pend_val), np.array(pend_row)  # (blocks, mentors): row copies, no interleave
    pend_val.clear()
    pend_row.clear()
    need = np.flatnonzero((pv >= floor[None, :]).any(axis=0))
    if len(need) == len(floor):
        _fold_rows(val, row, pv.T, pr.T, floor)
        return
    if len(need):
        v, r, f = val[need], row[need], floor[need]
        _fold_rows(v, r, pv[:, need].T, pr[:, need].T, f)
        val[need], row[need], floor[need] = v, r, f


def _fold_rows(val: np.ndarray, row: np.ndarray, pend_val: np.ndarray, pend_row: np.ndarray,
               floor: np.ndarray) -> None:
    """:func:`_fold` of the mentors given, their pending values as (mentors, blocks) arrays."""
    k = val.shape[1]
    v = np.concatenate([val, pend_val], axis=1)
    r = np.concatenate([row, pend_row], axis=1)
    width = v.shape[1]
    kth = np.partition(v, width - k, axis=1)[:, width - k]
    above = v > kth[:, None]
    tie = v == kth[:, None]
    take = above | tie
    need = k - above.sum(axis=1)
    crowded = np.flatnonzero(tie.sum(axis=1) > need)  # more ties than places: the lower rows
    if len(crowded):
        sub = np.where(tie[crowded], r[crowded], np.iinfo(np.int64).max)
        rank = np.empty_like(sub)
        np.put_along_axis(rank, np.argsort(sub, axis=1, kind="stable"), np.arange(width)[None, :], axis=1)
        take[crowded] = above[crowded] | (tie[crowded] & (rank < need[crowded, None]))
    cols = np.nonzero(take)[1].reshape(-1, k)
    val[:] = np.take_along_axis(v, cols, axis=1)
    row[:] = np.take_along_axis(r, cols, axis=1)
    floor[:] = kth


def _crowded_best(s: np.ndarray, rr: np.ndarray, cc: np.ndarray, keep: np.ndarray, crowded: np.ndarray,
                  per_row: int) -> tuple[np.ndarray, np.ndarray]:
    """The suspects ``rr``, ``cc`` (sorted by row) of a block ``s``, with the rows ``crowded``
    (those not ``keep``) cut to their ``per_row`` largest entries. A crowded row's largest
    entries are among its suspects (every entry above the limit is one), so they are ranked
    among the suspects alone (ties to the lower column) while these are few against the rows'
    width: at 100,000 x 20,000 a crowded row has a few hundred suspects of 20,000 entries; the
    partition of the whole row took about a seventh of the sub-market's block passes (a
    sampled profile), and on one core 2.8 ns a pair of the row against 1.4 ns this way. Each
    crowded row's entries come in descending order, ties to the lower column."""
    m_v = s.shape[1]
    some = ~keep
    if 8 * int(some.sum()) < len(crowded) * m_v:
        ri, ci = rr[some], cc[some]  # (by row, then column)
        at = np.searchsorted(crowded, ri)
        pos = _rank_in_group(ri)
        rank = np.full((len(crowded), int(pos.max()) + 1), np.inf, np.float32)  # -value; padding last
        col = np.zeros(rank.shape, np.int64)
        rank[at, pos] = -s[ri, ci]
        col[at, pos] = ci
        top_r = np.repeat(crowded, per_row)  # (each has more than per_row suspects)
        top_c = np.take_along_axis(col, np.argsort(rank, axis=1, kind="stable")[:, :per_row], axis=1).reshape(-1)
    else:  # (the same order: descending, ties to the lower column)
        top_r, top_c = np.repeat(crowded, per_row), _row_best_exact(s[crowded], per_row).reshape(-1)
    return np.concatenate([rr[keep], top_r]), np.concatenate([cc[keep], top_c])


# --------------------------------------------------------------------------------------------
# one pass over rows: the pool of each row, its suspects, the mentors' best rows
# --------------------------------------------------------------------------------------------


def _index_of(sorted_values: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_lookup` for indices (people, ints >= 0) through a table as long as the largest:
    several times faster than a binary search for each of millions of unsorted ``x``."""
    if not len(x) or not len(sorted_values):
        return np.zeros(len(x), np.int64), np.zeros(len(x), bool)
    table = np.full(max(int(sorted_values[-1]), int(x.max())) + 1, -1, np.int64)
    table[sorted_values] = np.arange(len(sorted_values))
    at = table[x]
    return at, at >= 0


def _local(rows: np.ndarray, cols: np.ndarray | None, pi: np.ndarray, pj: np.ndarray):
    """Pairs (global row, mentor) inside a view of ``rows`` (ascending) and ``cols``
    (ascending, None: all), in the view's indices, sorted by row."""
    loc, inside = _index_of(rows, pi)
    ei, ej = loc[inside], pj[inside]
    if cols is not None:
        at, hit = _index_of(cols, ej)
        ei, ej = ei[hit], at[hit]
    order = np.argsort(ei, kind="stable")
    return ei[order], ej[order]


def _then(put, ri: np.ndarray, rj: np.ndarray):
    """``put`` (a block's removed pairs, as :class:`mentormatch.scale_codes.BlockRest` has them,
    or None) followed by the pairs ``ri``, ``rj`` at ``-inf``, rows ascending (a pair in both: -inf,
    as set after)."""
    r, c, v = (ri, rj, np.full(len(ri), -np.inf, np.float32))
    if put is not None:
        r, c, v = np.concatenate([put[0], r]), np.concatenate([put[1], c]), np.concatenate([put[2], v])
    order = np.argsort(r, kind="stable")
    return r[order], c[order], v[order]
