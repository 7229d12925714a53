"""The pairs :func:`mentormatch.solvers.dense.solve_dense` returns in its problem: the pairs
worked on completed above each mentee's lowest chosen pair (:func:`complete_rows`, so that ranks
on them are exact, with the unmatched mentees' rows for their reasons), or on small matrices
every eligible pair (:func:`every_eligible_pair`)."""
from __future__ import annotations

import numpy as np

from ...pairs import Candidates, DenseRows, unique_sorted
from ..keys import PAIR_BUCKET, member, pair_order
from .passes import Walk

#: Cells of the unmatched mentees' rows added to the pairs returned, at most (8 MB of scores).
UNMATCHED_CELLS = 1 << 20


def complete_rows(walk: Walk, i, j, s, chosen, locks, low: np.ndarray, cap: np.ndarray):
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
    key = key[~member(key, i * m + j)]  # i * m + j is sorted
    ri, rj = np.divmod(key, m)
    ok = walk.allowed(ri, rj)
    ri, rj = ri[ok], rj[ok]
    all_i = np.concatenate([i, ri])
    all_j = np.concatenate([j, rj])
    all_s = np.concatenate([s, walk.at(ri, rj)])
    none = np.zeros(len(ri), dtype=bool)
    all_c = np.concatenate([chosen, none])
    all_l = np.concatenate([locks, none])
    order = np.argsort(all_i * m + all_j, kind="stable")
    return all_i[order], all_j[order], all_s[order], all_c[order], all_l[order]


def every_eligible_pair(rows: DenseRows, li: np.ndarray, lj: np.ndarray, ci: np.ndarray, cj: np.ndarray):
    """Every eligible pair of the matrix (row-major), their scores, and which are chosen (the
    locks ``li, lj`` and the flow's pairs ``ci, cj``) and locked."""
    work = rows(slice(0, rows.n_mentees))
    eligible = work > -np.inf
    pairs = Candidates.from_mask(eligible)
    is_lock = np.zeros(len(pairs), dtype=bool)
    is_chosen = np.zeros(len(pairs), dtype=bool)
    if len(li):
        is_lock[pairs.locate(li, lj)] = True
        is_chosen[is_lock] = True
    is_chosen[pairs.locate(ci, cj)] = True
    return pairs, work[eligible], is_chosen, is_lock


def among_chosen(ci: np.ndarray, cj: np.ndarray, ki: np.ndarray, kj: np.ndarray, n: int, m: int):
    """Whether each pair ``(ci, cj)`` is one of the chosen pairs ``(ki, kj)`` (sorted by
    mentee, then mentor). With at most one chosen pair a mentee (every demand <= 1), by each
    mentee's mentor: two gathers instead of a mask over the matrix's range (5,000 x 1,250 in 4
    levels, the check's 1.5 million pairs: about 3 ms against 10)."""
    if len(ki) < 2 or bool(np.all(ki[1:] > ki[:-1])):
        mate = np.full(n, -1, np.int64)
        mate[ki] = kj
        return mate[ci] == cj
    return member(ci * m + cj, ki * m + kj)


def with_tight(walk: Walk, i, j, s, chosen, ti: np.ndarray, tj: np.ndarray):
    """The pairs worked on (``i, j``, scores ``s``, ``chosen``; sorted by (mentee, mentor))
    and the tight pairs ``ti, tj`` (distinct, none chosen, in any order) that are not among
    them, sorted by (mentee, mentor), and how many joined. Where the pairs fill at least
    1 / ``PAIR_BUCKET`` of the matrix (a tie rule on a face full of ties), a mask over the
    matrix's cells reads them off in order, their scores gathered from it: 5,000 x 1,250 in 4
    levels, 1.5 million pairs, about half the time of a bucket order of both lists and four
    reorderings (s32)."""
    n, m = walk.n, walk.m
    if n * m <= PAIR_BUCKET * (len(i) + len(ti)):
        seen = np.zeros(n * m, dtype=bool)
        seen[i * m + j] = True
        seen[ti * m + tj] = True
        code = np.flatnonzero(seen)
        added = len(code) - len(i)
        if not added:
            return i, j, s, chosen, 0
        ki, kj = i[chosen], j[chosen]
        i = code // m
        j = code - i * m
        return i, j, walk.at(i, j), among_chosen(i, j, ki, kj, n, m), added
    new = ~member(ti * m + tj, i * m + j)
    ti, tj = ti[new], tj[new]
    if not len(ti):
        return i, j, s, chosen, 0
    i, j = np.concatenate([i, ti]), np.concatenate([j, tj])
    s = np.concatenate([s, walk.at(ti, tj)])
    chosen = np.concatenate([chosen, np.zeros(len(ti), bool)])
    order = pair_order(i, j, n, m)
    return i[order], j[order], s[order], chosen[order], len(ti)
