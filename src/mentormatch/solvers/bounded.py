"""The certified sparse path of ``"flow"`` on bounds: exact scores only where they can matter.

The same proof as :mod:`mentormatch.solvers.certify` (dual prices ``u``, ``p`` from the sparse
optimum; ``s_ij - u_i - p_j <= tol`` on every unchosen pair), with two changes.

**Bounds.** The check runs on a cheap upper bound ``b_ij >= s_ij``
(:class:`mentormatch.scale.BoundedScorer`); the exact score is computed only for the pairs the
bound does not clear (``b_ij + margin - u_i - p_j > tol``). A pair the bound clears satisfies
the check with its exact score too, so the certificate is the same statement about every pair.

**One pass, then pools and guards.** One threaded pass over all pairs keeps each mentee's
``POOL_PER_ROW`` best pairs by ``b_ij - g_j`` (``g``: first prices, below) and ``floor_i``, a
value no other pair of the row exceeds. The first sparse set is each mentee's ``k`` best of the
pool and each mentor's best rows, scored exactly. After each min-cost flow, the new prices are
checked without another pass over the 2e9 pairs (:class:`_Certifier`): the pool pairs directly;
every other pair has ``b_ij - p_j - u_i <= floor_i + (g_j - p_j) - u_i``, so it is cleared when
``g_j - p_j <= D`` and ``floor_i + D <= u_i + threshold``; the mentors whose price fell by more
than ``D`` are re-checked on every row and the rows with less room are scanned in full (which
takes their pools afresh under the new prices). ``D`` makes that re-check cheapest. A mentor
re-check moves its rows to a new generation (the old prices with the re-checked mentors' new
ones, the floor raised to cover those mentors' pairs outside the pool), so that the next round
re-checks only the mentors whose price fell since.

**First prices from a sub-market.** Ranked by the bound alone, the pools of a market where
popular mentors fill up hold the wrong pairs: most mentees end far down their own lists, and
the first rounds would re-scan most rows. :func:`_guide` solves the same market on every
``GUIDE_STEP``-th mentee with ``GUIDE_STEP`` times the demand (by this same path until its
prices settle, itself guided while large) and ranks the first pass by ``b_ij - g_j`` with its
mentor prices. Each round's potentials start from the last round's (or the guide's prices).

Exact scores cost about a microsecond a pair, a bound row of 20,000 mentors a few tens of
microseconds: at 100,000 x 20,000 the exact extractors see a few million pairs, not 2e9.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..errors import Conflict, InfeasibleError
from ..pairs import Candidates, unique_sorted
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .certify import _bar, _merge, _Sparse, default_top_k, prices, row_blocks, start_from_prices
from .flow import apply_locks, check_supported, solve_arrays

log = logging.getLogger(__name__)

#: Bound-suspect pairs scored exactly per mentee and check pass before the rest of that
#: mentee's suspects are looked at (only when none of these violates).
SUSPECTS_PER_ROW = 64
#: Pairs kept per mentee from the first pass (the pool; at least ``top_k``).
POOL_PER_ROW = 64
#: Above this many pairs, the first prices come from a sub-market (:func:`_guide`).
GUIDE_PAIRS = 100_000_000
#: The sub-market keeps every GUIDE_STEP-th mentee, with GUIDE_STEP times the demand.
GUIDE_STEP = 5
#: The sub-market runs only when the places are at least this share of the demand. Where
#: mentees far outnumber the places, the unmatched ones are priced at 0 and the bound's own
#: ranking finds the pairs that matter: at 100,000 x 20,000 with 54 % places, 64 s without
#: the sub-market against 73 s with it; with 100 % places, 108 s with it against over 250 s.
GUIDE_MIN_PLACES = 0.75
#: A sub-market's rounds stop once a round adds at most this share of its sparse set: its
#: prices only rank the first pass, and the last rounds (a few hundred pairs, then a round that
#: only confirms) cost a full flow each. At 100,000 x 20,000 (capacity 5): 97 s against 104 s
#: run to the certificate; a cut at 2 % made the next level slower (its guide was worse).
GUIDE_SETTLED = 0.005


def _empty() -> _Sparse:
    e = np.zeros(0, np.int64)
    return _Sparse(e, e, e, np.zeros(0))


def _over_blocks(fn, blocks, progress: bool, what: str, width: int):
    """``fn(a, b, buffer)`` of every block, in order, on as many threads as cores (up to 4),
    with BLAS on one thread each (numpy releases the GIL in the products and element-wise
    passes) and a float32 buffer of the widest block per thread, so that no pass allocates
    (and page-faults) a block's worth of memory per block."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    rows = max((b - a for a, b in blocks), default=0)
    local = threading.local()

    def run(ab):
        if not hasattr(local, "buffer"):
            local.buffer = np.empty((rows, width), dtype=np.float32)
        return fn(ab[0], ab[1], local.buffer)

    workers = max(1, min(os.cpu_count() or 1, 4))
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        yield from _bar(pool.map(run, blocks), progress, what, total=len(blocks))


class _Exact:
    """Exact scores already computed, by pair code, so that a pair is scored once per solve."""

    def __init__(self, scorer):
        self.scorer, self.m = scorer, scorer.m
        self.code = np.zeros(0, np.int64)
        self.value = np.zeros(0)
        self.computed = 0

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        code = i.astype(np.int64) * self.m + j
        pos, known = _lookup(self.code, code)
        out = np.empty(len(code))
        out[known] = self.value[pos[known]]
        if not known.all():
            new_code, first = np.unique(code[~known], return_index=True)
            fresh = self._score(new_code // self.m, new_code % self.m)
            self.computed += len(new_code)
            out[~known] = fresh[np.searchsorted(new_code, code[~known])]
            merged = np.concatenate([self.code, new_code])
            order = np.argsort(merged, kind="stable")
            self.code = merged[order]
            self.value = np.concatenate([self.value, fresh])[order]
        return out


    def _score(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Exact scores, a large batch in two halves on two threads (the extractors' numpy
        work releases the GIL: about 20 % faster at a million pairs)."""
        if len(i) < 200_000 or (os.cpu_count() or 1) < 2:
            return self.scorer.exact_scores(i, j)
        from concurrent.futures import ThreadPoolExecutor

        half = len(i) // 2
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(lambda sl: self.scorer.exact_scores(i[sl], j[sl]),
                                  [slice(0, half), slice(half, None)]))
        return np.concatenate(parts)


def _lookup(sorted_values: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``x`` stands in the ascending ``sorted_values``, and whether it is there
    (``np.isin`` without sorting ``x``)."""
    pos = np.searchsorted(sorted_values, x)
    if not len(sorted_values):
        return pos, np.zeros(len(x), bool)
    return pos, sorted_values[np.minimum(pos, len(sorted_values) - 1)] == x


def _member(x: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """``np.isin(x, sorted_values)`` for ascending ``sorted_values``."""
    return _lookup(sorted_values, x)[1]


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-d mask, through the flat indices (several times faster)."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def _row_best(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each row's ``k`` largest entries (ties: lower column first). A
    threshold from every 8th column finds a few dozen candidates a row in one comparison, and
    only those are ranked; rows where it finds fewer than ``k`` are ranked in full."""
    n_rows, m = s.shape
    step = 8
    if m < 16 * k or n_rows == 0:
        part = np.argpartition(s, m - k, axis=1)[:, m - k:]
        return np.repeat(np.arange(n_rows), k), part.reshape(-1)
    sample = s[:, ::step]
    q = max(1, (2 * k) // step)  # the sample's q-th largest: about 2k entries of a row above it
    floor = np.partition(sample, sample.shape[1] - q, axis=1)[:, sample.shape[1] - q]
    rr, cc = _nonzero(s >= floor[:, None])
    count = np.bincount(rr, minlength=n_rows)
    short = np.flatnonzero(count < k)
    if len(short):  # too few above the sample's floor: those rows in full
        keep = ~_member(rr, short)
        rr, cc = rr[keep], cc[keep]
        part = np.argpartition(s[short], m - k, axis=1)[:, m - k:]
        rr = np.concatenate([rr, np.repeat(short, k)])
        cc = np.concatenate([cc, part.reshape(-1)])
    order = np.lexsort((cc, -s[rr, cc], rr))
    rr, cc = rr[order], cc[order]
    first = (np.arange(len(rr)) - np.searchsorted(rr, rr)) < k
    return rr[first], cc[first]


def _fold(val: np.ndarray, row: np.ndarray, pend_val: list, pend_row: list, floor: np.ndarray) -> None:
    """Each mentor's ``k`` best (value, row) so far, in place (``val``, ``row``: mentors x k, in
    no order, ``-inf`` where fewer), from themselves and the pending per-block bests (lists of
    per-mentor vectors); ``floor`` becomes each mentor's ``k``-th best. Among equal values the
    lower rows are kept, so that the result is the same whatever the timing of the threads."""
    k = val.shape[1]
    v = np.column_stack([val] + pend_val)
    r = np.column_stack([row] + pend_row)
    pend_val.clear()
    pend_row.clear()
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


# --------------------------------------------------------------------------------------------
# one pass over rows: the pool of each row, its suspects, the mentors' best rows
# --------------------------------------------------------------------------------------------
@dataclass
class _Pool:
    """Each row's ``P`` best pairs by ``bound - price`` under the prices of its generation,
    and ``floor``: every other pair of the row has ``bound - price <= floor``."""

    cols: np.ndarray  # (n, P) int64, mentors
    vals: np.ndarray  # (n, P) float64, bound - price of the row's generation
    floor: np.ndarray  # (n,) float32
    gen: np.ndarray  # (n,) int64, index into prices
    prices: list  # per generation, (m,) float64, +inf where a mentor has no room


@dataclass
class _Found:
    """What a pass over some rows found: suspects (global row, mentor), rows with more
    suspects than were kept, and the pool of each row scanned (local order) when asked."""

    i: np.ndarray
    j: np.ndarray
    crowded: np.ndarray
    pool: tuple | None = None  # (cols, vals, floor)
    mentor_best: tuple | None = None  # (rows, cols): each mentor's best rows


def _local(rows: np.ndarray, cols: np.ndarray | None, pi: np.ndarray, pj: np.ndarray):
    """Pairs (global row, mentor) inside a view of ``rows`` (ascending) and ``cols``
    (ascending, None: all), in the view's indices, sorted by row."""
    loc, inside = _lookup(rows, pi)
    ei, ej = loc[inside], pj[inside]
    if cols is not None:
        at, hit = _lookup(cols, ej)
        ei, ej = ei[hit], at[hit]
    order = np.argsort(ei, kind="stable")
    return ei[order], ej[order]


def _scan(view, rows: np.ndarray, cols: np.ndarray | None, price: np.ndarray, *, excl_i, excl_j,
          chosen_i=None, chosen_j=None, pool_size: int = 0, u: np.ndarray | None = None,
          threshold: float = 0.0, dead: np.ndarray | None = None, mentor_k: int = 0,
          keep_all: bool = False, progress: bool = False, what: str = "") -> _Found:
    """One threaded pass over ``view`` (rows ``rows`` and mentors ``cols`` of the scorer, None
    for all): ``s = bound - price`` block by block, excluded pairs (the locks; global row,
    mentor) and ``dead`` rows (local) at ``-inf``. Collects each row's ``pool_size`` best
    entries, the suspects ``s > u + threshold`` other than the ``chosen`` pairs (a crowded row
    keeps its SUSPECTS_PER_ROW largest unless ``keep_all``), and each mentor's ``mentor_k`` best
    rows.

    The chosen pairs stay in the pools: a pool's floor must bound every pair outside it that
    a later round may leave unchosen."""
    from ..scale import BIG

    n_v, m_v = view.n, view.m
    blocks = row_blocks(n_v, m_v)
    p32 = price.astype(np.float32)
    ei, ej = _local(rows, cols, excl_i, excl_j)
    e = np.zeros(0, np.int64)
    ci, cj = _local(rows, cols, e if chosen_i is None else chosen_i, e if chosen_j is None else chosen_j)
    limit = None if u is None else (u + threshold).astype(np.float32)
    kk = min(mentor_k, n_v)
    # each mentor's kk best rows, per thread (each thread takes its blocks in row order, so a
    # tie with the thread's kk-th best is a later row and loses), merged at the end
    states, lock, local = [], threading.Lock(), threading.local()

    def mentor_state():
        if not hasattr(local, "state"):
            local.state = (np.full((m_v, kk), -np.inf, np.float32),
                           np.full((m_v, kk), np.iinfo(np.int64).max, np.int64),
                           np.full(m_v, -np.inf, np.float32), [], [])
            with lock:
                states.append(local.state)
        return local.state
    pk = min(pool_size, m_v)

    def block(a: int, b: int, buffer: np.ndarray):
        s = view.upper(a, b, buffer)
        np.subtract(s, p32[None, :], out=s)
        lo, hi = np.searchsorted(ei, [a, b])
        s[ei[lo:hi] - a, ej[lo:hi]] = -np.inf
        if dead is not None:
            s[dead[a:b]] = -np.inf
        out = [None, None, None]
        if pk:
            r, c = _row_best(s, pk)
            c = c.reshape(b - a, pk)
            v = np.take_along_axis(s, c, axis=1)
            out[0] = (c, v, v.min(axis=1))
        if limit is not None:
            lo, hi = np.searchsorted(ci, [a, b])
            if hi > lo:
                s[ci[lo:hi] - a, cj[lo:hi]] = -np.inf  # after the pool: see above
            over = s > limit[a:b, None]
            count = over.sum(axis=1)
            per_row = SUSPECTS_PER_ROW
            crowded = np.flatnonzero(count > per_row) if not keep_all else count[:0]
            if len(crowded):
                over[crowded] = False
                top = np.argpartition(s[crowded], m_v - per_row, axis=1)[:, -per_row:]
                over[crowded[:, None], top] = True
            rr, cc = _nonzero(over)
            out[1] = (rr + a, cc, crowded + a)
        if kk:  # each mentor's best row of the block, where it can enter the mentor's kk best
            val, row, floor, pend_val, pend_row = mentor_state()
            top = s.max(axis=0)
            good = top > np.maximum(floor, -BIG / 2)
            rr, cc = _nonzero((s == top[None, :]) & good[None, :])
            best = np.zeros(m_v, np.int64)
            best[cc[::-1]] = rr[::-1]  # the first row of each column that attains the maximum
            pend_val.append(np.where(good, top, -np.inf))
            pend_row.append(best + a)
            if len(pend_val) >= 4 * kk:
                _fold(val, row, pend_val, pend_row, floor)
        return out

    pools, sus = [], []
    for pool_part, sus_part, _ in _over_blocks(block, blocks, progress, what, m_v):
        if pool_part is not None:
            pools.append(pool_part)
        if sus_part is not None:
            sus.append(sus_part)
    to_col = (lambda c: c) if cols is None else (lambda c: cols[c])
    e = np.zeros(0, np.int64)
    found = _Found(e, e, e)
    if sus:
        rr, cc, crowded = (np.concatenate(x) for x in zip(*sus))
        found = _Found(rows[rr], to_col(cc), rows[crowded])
    if pools:
        c, v, f = (np.concatenate(x) for x in zip(*pools))
        found.pool = (to_col(c), v, f)
    if kk:
        mm, vv, rr = [], [], []
        for val, row, floor, pend_val, pend_row in states:
            if pend_val:
                _fold(val, row, pend_val, pend_row, floor)
            at, rank = np.nonzero(val > -BIG / 2)
            mm.append(at), vv.append(val[at, rank]), rr.append(row[at, rank])
        mm, vv, rr = (np.concatenate(x) if x else np.zeros(0) for x in (mm, vv, rr))
        order = np.lexsort((rr, -vv, mm))  # the threads' lists merged: ties to the lower row
        mm, rr = mm[order].astype(np.int64), rr[order].astype(np.int64)
        keep = np.arange(len(mm)) - np.searchsorted(mm, mm) < kk
        found.mentor_best = (rows[rr[keep]], to_col(mm[keep]))
    return found


# --------------------------------------------------------------------------------------------
# the certificate of one round: pools, guards, and re-checks of the rows and mentors they miss
# --------------------------------------------------------------------------------------------
def _split(delta: np.ndarray, room: np.ndarray, m: int) -> tuple[float, int, int]:
    """The cut ``D`` that makes the re-check cheapest: mentors whose price fell by more than
    ``D`` since the pools were taken (``delta > D``) are checked on every row; rows with less
    ``room`` than ``D`` are scanned in full. Returns (D, columns, rows)."""
    d = np.sort(delta[np.isfinite(delta)])
    cand = np.concatenate([[-np.inf], d])
    n_cols = len(d) - np.searchsorted(d, cand, side="right")
    r = np.sort(room)
    n_fail = np.searchsorted(r, cand, side="left")
    cost = (len(r) - n_fail) * n_cols + n_fail * m
    best = int(np.argmin(cost))
    return float(cand[best]), int(n_cols[best]), int(n_fail[best])


class _Certifier:
    """The check of every unchosen pair against the prices ``u``, ``p`` of a round, without a
    pass over all pairs once the pools fit the prices:

    - a pair in its row's pool: checked from the pool (bound, then the exact score);
    - a pair outside the pool has ``bound - p_gen[j] <= floor_i`` (the pool's generation's
      prices ``p_gen``), so ``bound - p_j - u_i <= floor_i + (p_gen[j] - p_j) - u_i``: cleared
      when ``p_gen[j] - p_j <= D`` and ``floor_i + D <= u_i + threshold`` (the guard);
    - the mentors with ``p_gen[j] - p_j > D`` are re-checked on every row of the generation,
      and the rows the guard misses are scanned in full, which takes their pools afresh
      under ``p``.

    ``D`` is chosen per generation to make the re-check cheapest (:func:`_split`).
    """

    def __init__(self, scorer, exact: _Exact, pool: _Pool, li, lj, progress: bool):
        self.scorer, self.exact, self.pool, self.progress = scorer, exact, pool, progress
        self.li, self.lj = li, lj
        self.rows_rescanned = 0
        self.pairs_rechecked = 0  # pairs of the mentor re-checks

    def __call__(self, u, p, ex_i, ex_j, tol: float, per_row: int, near: float):
        from ..scale import BIG

        sc, pool = self.scorer, self.pool
        n, m = sc.n, sc.m
        largest = lambda x: float(np.abs(x[np.isfinite(x)]).max(initial=0.0))  # noqa: E731
        slack = sc.margin + 4 * 2.0 ** -24 * (sc.largest + largest(p) + largest(u)
                                              + max(largest(g) for g in pool.prices))
        threshold = tol - slack
        ex_code = np.sort(ex_i * m + ex_j)
        # the guard, per generation of pools
        fail, checks = [], []
        live = np.isfinite(u)
        for g in np.unique(pool.gen[live]).tolist():
            rows = np.flatnonzero((pool.gen == g) & live)
            delta = np.where(np.isfinite(p), pool.prices[g] - np.where(np.isfinite(p), p, 0.0), -np.inf)
            room = u[rows] + threshold - pool.floor[rows].astype(np.float64)
            cut, _, _ = _split(delta, room, m)
            fail.append(rows[room < cut])
            cols = np.flatnonzero(delta > cut)
            if len(cols):
                checks.append((rows[room >= cut], cols, g))
        fail = np.sort(np.concatenate(fail)) if fail else np.zeros(0, np.int64)
        found_i, found_j, crowded = [], [], []
        # rows scanned in full (their pools taken afresh under p)
        if len(fail):
            view = sc.subset(rows=fail)
            f = _scan(view, fail, None, p, excl_i=self.li, excl_j=self.lj, chosen_i=ex_i, chosen_j=ex_j,
                      pool_size=pool.cols.shape[1],
                      u=u[fail], threshold=threshold, progress=self.progress,
                      what="certificate: rows the pools miss")
            c, v, fl = f.pool
            pool.cols[fail], pool.vals[fail], pool.floor[fail] = c, v, fl
            pool.gen[fail] = len(pool.prices)
            pool.prices.append(p.copy())
            found_i.append(f.i), found_j.append(f.j), crowded.append(f.crowded)
            self.rows_rescanned += len(fail)
        # mentors whose price fell, on every other row of the generation; their pool pairs are
        # checked with the pools, and the largest value of the others moves the rows to a new
        # generation: the old prices but these mentors' new ones, and a floor that covers them
        # (so that the next round re-checks only the mentors whose price fell since)
        for rows, cols, g in checks:
            rows = rows[~_member(rows, fail)]
            if not len(rows):
                continue
            in_cols = np.zeros(m, bool)
            in_cols[cols] = True
            pc = pool.cols[rows]
            hit = in_cols[pc]
            pr, pk = _nonzero(hit)
            view = sc.subset(rows=rows, cols=cols)
            f = _scan(view, rows, cols, p[cols], excl_i=np.concatenate([self.li, rows[pr]]),
                      excl_j=np.concatenate([self.lj, pc[pr, pk]]), chosen_i=ex_i, chosen_j=ex_j,
                      pool_size=1, u=u[rows], threshold=threshold, progress=self.progress,
                      what="certificate: mentors whose price fell")
            found_i.append(f.i), found_j.append(f.j), crowded.append(f.crowded)
            self.pairs_rechecked += len(rows) * len(cols)
            q = pool.prices[g].copy()
            q[cols] = p[cols]
            with np.errstate(invalid="ignore"):
                pool.vals[rows] = np.where(hit, pool.vals[rows] + (pool.prices[g] - q)[pc], pool.vals[rows])
            pool.floor[rows] = np.maximum(pool.floor[rows], f.pool[1][:, 0])
            pool.gen[rows] = len(pool.prices)
            pool.prices.append(q)
        # the pools of the other rows
        keep = np.ones(n, bool)
        keep[fail] = False
        keep &= live
        rows = np.flatnonzero(keep)
        pc, pv = pool.cols[rows], pool.vals[rows]
        with np.errstate(invalid="ignore"):
            drop = np.vstack(pool.prices) - p[None, :]  # per generation and mentor: p_gen - p
            ub = pv + drop[pool.gen[rows][:, None], pc] - u[rows, None]
            over = (pv > -BIG / 2) & (ub > threshold)
        rr, cc = _nonzero(over)
        found_i.append(rows[rr]), found_j.append(pc[rr, cc])
        gi, gj = np.concatenate(found_i), np.concatenate(found_j)
        code, first = np.unique(gi * m + gj, return_index=True)
        chosen = _member(code, ex_code)
        gi, gj = gi[first][~chosen], gj[first][~chosen]
        gain = self.exact(gi, gj) - u[gi] - p[gj]
        # a crowded row without a violator among its most promising suspects: all of them
        crowded = np.concatenate(crowded) if crowded else np.zeros(0, np.int64)
        rescan = np.setdiff1d(crowded, gi[gain > tol])
        if len(rescan):
            f = _scan(sc.subset(rows=rescan), rescan, None, p, excl_i=ex_i, excl_j=ex_j, u=u[rescan],
                      threshold=threshold, keep_all=True)
            ri, rj = f.i, f.j
            code_r = ri * m + rj
            new = ~(_member(code_r, code) | _member(code_r, ex_code))
            ri, rj = ri[new], rj[new]
            if len(ri):
                gi, gj = np.concatenate([gi, ri]), np.concatenate([gj, rj])
                gain = np.concatenate([gain, self.exact(ri, rj) - u[ri] - p[rj]])
        log.debug("check: %d suspects scored, %d rows scanned in full, %d mentor re-checks, %d crowded",
                  len(gi), len(fail), len(checks), len(rescan))
        eps = max(tol, float(gain.max(initial=-np.inf)))
        if not (gain > tol).any():
            return _empty(), max(eps, 0.0)
        add = gain > tol - near
        vi, vj, vg = gi[add], gj[add], gain[add]
        many = np.bincount(vi, minlength=n)[vi] > per_row  # rows with more: their per_row best
        if many.any():
            order = np.lexsort((vj[many], -vg[many], vi[many]))
            mi, mj = vi[many][order], vj[many][order]
            first = (np.arange(len(mi)) - np.searchsorted(mi, mi)) < per_row
            vi, vj = np.concatenate([vi[~many], mi[first]]), np.concatenate([vj[~many], mj[first]])
        return _Sparse(vi, vj, vj, self.exact(vi, vj)), max(eps, 0.0)


# --------------------------------------------------------------------------------------------
# first prices from a sub-market, the first pass, the rounds
# --------------------------------------------------------------------------------------------
def _guide(scorer, cap, dem, options: SolverOptions, depth: int):
    """Prices for the first pass, from the same market on every ``GUIDE_STEP``-th mentee of
    the grouped order (every group in proportion) with ``GUIDE_STEP`` times their demand and
    the mentors' full capacities, solved by this same path (itself guided when still large)
    until its prices settle (``GUIDE_SETTLED``). Settled, not merely early: at 100,000 x
    20,000 (capacity 5) the prices of a sub-market stopped after 3 rounds made the full market
    take 10 rounds and 333 s, against 3 rounds and about 100 s with settled ones. None below
    ``GUIDE_PAIRS`` pairs, or when the places are below ``GUIDE_MIN_PLACES`` of the demand.

    The first pass ranks each mentee's pairs by ``bound - price``: with prices near the
    final ones, the pools hold the pairs the optimum and its prices need and the guards hold
    in the first rounds; ranked by the bound alone (prices 0) in a market where popular
    mentors fill up, most mentees end far down their own lists, and the first rounds re-check
    most of the pairs."""
    n, m = scorer.n, scorer.m
    if n * m <= GUIDE_PAIRS or n < 2 * GUIDE_STEP or cap.sum() < GUIDE_MIN_PLACES * dem.sum():
        return None, None
    t = time.perf_counter()
    rows = np.arange(0, n, GUIDE_STEP)
    sub = scorer.subset(rows=rows)
    sub_dem = dem[rows] * GUIDE_STEP
    e = np.zeros(0, np.int64)
    _, _, _, _, cert, found = _solve(sub, cap, sub_dem, e, e, None, SolverOptions(progress=False), depth + 1)
    if found is None:
        return None, None
    p = np.where(np.isfinite(found[1]), found[1], 0.0)
    info = {"mentees": len(rows), "demand_factor": GUIDE_STEP, "rounds": cert["rounds"],
            "certified": bool(cert["holds"]), "seconds": round(time.perf_counter() - t, 3)}
    return p, info


def _first_pass(scorer, exact: _Exact, guide, k: int, mentor_k: int, size: int, cap, dem, li, lj,
                progress: bool):
    """The pools (each row's ``size`` best pairs by ``bound - guide``) and the first sparse
    set: each row's ``k`` best of its pool and each mentor's ``mentor_k`` best rows, with exact scores
    (positive ones kept: only those can raise the total).

    The mentors' lists give every mentor rivals in the sparse set: ranked by ``bound -
    price``, the mentees' lists leave out the mentors the guide prices high, and ranked by the
    bound alone, when mentees outnumber the places, the mentors nobody ranks high; either way
    such a mentor would be priced at nothing in the first round."""
    n, m = scorer.n, scorer.m
    price = np.zeros(m) if guide is None else np.asarray(guide, np.float64)
    price = np.where(cap > 0, price, np.inf)
    f = _scan(scorer, np.arange(n), None, price, excl_i=li, excl_j=lj, pool_size=size,
              dead=dem <= 0, mentor_k=mentor_k, progress=progress, what="best pairs per mentee (bounds)")
    cols, vals, floor = f.pool
    pool = _Pool(cols, vals.astype(np.float64), floor, np.zeros(n, np.int64), [price])
    from ..scale import BIG

    kk = min(k, size)
    top = np.argpartition(vals, size - kk, axis=1)[:, size - kk:]
    tv = np.take_along_axis(vals, top, axis=1)
    ok = tv > -BIG / 2
    ri = np.broadcast_to(np.arange(n)[:, None], top.shape)[ok]
    rj = np.take_along_axis(cols, top, axis=1)[ok]
    mi, mj = f.mentor_best if f.mentor_best is not None else (ri[:0], rj[:0])
    code = unique_sorted(np.concatenate([ri * m + rj, mi * m + mj]))
    i, j = code // m, code % m
    s = exact(i, j)
    keep = s > 0
    return pool, _Sparse(i[keep], j[keep], j[keep], s[keep])


def _solve(scorer, cap, dem, li, lj, k: int | None, options: SolverOptions, depth: int):
    """The rounds on the market left by the locks (``cap``, ``dem``; lock pairs ``li``, ``lj``
    in internal rows). Returns (sparse set, chosen, optimal, bound, certificate, (u, p)).

    ``k`` None: each mentee's ``cmax + dmax + 2`` best pairs after a guide (the guided ranking
    puts the pairs the optimum needs near the top), else :func:`default_top_k`; each mentor's
    ``2 cmax + 2`` best rows at most."""
    say = log.info if options.progress and depth == 0 else log.debug
    n, m = scorer.n, scorer.m
    t0 = time.perf_counter()
    guide, guide_info = _guide(scorer, cap, dem, options, depth)
    cmax, dmax = int(np.max(cap, initial=0)), int(np.max(dem, initial=1))
    if k is None:
        k = cmax + dmax + 2 if guide is not None else default_top_k(cap, dem)
    mentor_k = min(k, 2 * cmax + 2)
    if guide_info is not None:
        say("%sfirst prices from a sub-market of %d mentees in %.2fs (%d rounds)", "  " * depth,
            guide_info["mentees"], guide_info["seconds"], guide_info["rounds"])
    t1 = time.perf_counter()
    exact = _Exact(scorer)
    size = min(m, max(POOL_PER_ROW, k))
    pool, sp = _first_pass(scorer, exact, guide, k, mentor_k, size, cap, dem, li, lj,
                           options.progress and depth == 0)
    say("%ssparse set: %d pairs (top %d of %d per mentee by the bound%s) in %.2fs", "  " * depth, len(sp.i),
        k, size, " less the sub-market's prices" if guide is not None else "", time.perf_counter() - t1)
    certifier = _Certifier(scorer, exact, pool, li, lj, options.progress and depth == 0)
    rounds = added = 0
    found = pot = None
    pot_scale = 0.0  # the scale the last round's potentials are in
    warm = None  # prices to start the potentials from: the guide's, then the last round's
    if guide is not None:
        gp = np.where(cap > 0, guide, 0.0)
        gu = np.zeros(n)
        np.maximum.at(gu, sp.i, sp.s - gp[sp.j])
        warm = (gu, gp)
    while True:
        rounds += 1
        t1 = time.perf_counter()
        res = solve_arrays(sp.i, sp.j, sp.s, cap, dem)
        cert = {"method": "sparse_min_cost_flow+dual_check_on_bounds", "scale": res.scale,
                "rounding_bound": res.n_max / res.scale, "n_max": res.n_max, "top_k": k,
                "pool_per_row": size, "pairs_in_sparse": len(sp.i), "rounds": rounds,
                "violations_added": added, "bound_margin": scorer.margin, "bounds_exact": scorer.exact,
                "first_prices": guide_info, "or_tools_status": res.status, "holds": False}
        if not res.optimal or not options.certify:
            return sp, res.chosen, False, None, cert, None
        t2 = time.perf_counter()
        if warm is None:
            start = None
        elif pot is not None and pot_scale == res.scale:
            start = pot
        else:
            start = start_from_prices(*warm, res.scale)
        u, p, dual_obj, sweeps, pot = prices(sp.i, sp.j, res.cost, res.chosen, sp.s, dem, cap,
                                             res.scale, start)
        pot_scale = res.scale
        found = warm = (u, p)
        tol = 1.0 / res.scale
        t_flow, t2 = t2 - t1, time.perf_counter()
        say("%sround %d: flow on %d pairs in %.2fs, prices in %.2fs (%d sweeps)", "  " * depth, rounds,
            len(sp.i), t_flow, t2 - t1 - t_flow, sweeps)
        ex_i = np.concatenate([li, sp.i[res.chosen]])
        ex_j = np.concatenate([lj, sp.j[res.chosen]])
        # pairs within 1 % of a chosen pair's typical score of violating join with the violators
        near = 0.01 * float(np.median(np.abs(sp.s[res.chosen]))) if res.chosen.any() else 0.0
        viol, eps = certifier(u, p, ex_i, ex_j, tol, k, near)
        grown = _merge(sp, viol, m)
        new = len(grown.i) - len(sp.i)
        say("%sround %d: check in %.2fs; %d rows scanned in full so far, %d pairs scored exactly so far, "
            "%d pairs added", "  " * depth, rounds, time.perf_counter() - t2, certifier.rows_rescanned,
            exact.computed, new)
        if len(viol.i) == 0:
            bound = dual_obj + eps * res.n_max
            eligible = None if scorer.eligible_counts is None else int(scorer.eligible_counts.sum())
            cert.update(holds=True, pairs_checked=eligible, pairs_scored_exactly=exact.computed,
                        rows_scanned_again=certifier.rows_rescanned,
                        pairs_rechecked_by_mentor=certifier.pairs_rechecked,
                        seconds=round(time.perf_counter() - t0, 3),
                        dual_objective=dual_obj, max_reduced_gain=eps, tolerance=tol)
            return sp, res.chosen, True, bound, cert, found
        if depth > 0 and new <= GUIDE_SETTLED * len(sp.i):  # a guide's prices have settled
            cert.update(seconds=round(time.perf_counter() - t0, 3))
            return sp, res.chosen, False, None, cert, found
        added += len(viol.i)
        sp = grown


def solve_bounded(scorer, capacity, *, demand=None, locked=None,
                  options: SolverOptions | None = None) -> tuple[AssignmentProblem, Solution]:
    """Exact assignment over every pair of a :class:`~mentormatch.scale.BoundedScorer`.

    Same contract as :func:`mentormatch.solvers.certify.solve_scored`: returns the final sparse
    problem (locks, each mentee's best pairs by the bound, the pairs the certificate added, all
    with exact scores) and a solution whose status is ``"optimal"`` only when the certificate
    holds for every candidate pair.
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    n, m = scorer.n, scorer.m
    cap_f = np.asarray(capacity, dtype=np.float64)
    if cap_f.shape != (m,) or np.any(cap_f < 0) or np.any(cap_f != np.round(cap_f)):
        raise ValueError(f"capacity must be {m} whole numbers >= 0")
    cap = cap_f.astype(np.int64)
    # the scorer's rows are the mentees in its internal order (grouped for speed): demand and
    # locks are moved into that order here and the pairs moved back at the end
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, dtype=np.int64)[scorer.order]
    from ..scale import BIG

    li, lj = ((np.asarray(x, dtype=np.int64) for x in locked) if locked is not None
              else (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    li = scorer.inverse[li]
    lock_order = np.lexsort((lj, li))
    li, lj = li[lock_order], lj[lock_order]
    if len(li):
        rows = np.unique(li)
        eligible = scorer.subset(rows=rows).upper(0, len(rows))[np.searchsorted(rows, li), lj] > -BIG / 2
        if not eligible.all():
            bad = int(np.flatnonzero(~eligible)[0])
            raise InfeasibleError(Conflict("eligibility", f"locked pair (mentee {li[bad]}, mentor "
                                           f"{lj[bad]}) is ineligible", "unlock it"))
    ls = scorer.exact_scores(li, lj)
    lock_pairs = Candidates.from_arrays(li, lj, n, m)
    if len(lock_pairs) != len(li):
        raise ValueError("locked pairs must be distinct")
    lp = AssignmentProblem(lock_pairs, ls, cap_f, dem, locked=np.ones(len(li), dtype=bool))
    _, cap_left, dem_left = apply_locks(lp)

    k = options.top_k
    if k is not None and k < 1:
        raise ValueError(f"SolverOptions.top_k must be >= 1 or None, got {k}")
    sp, out_chosen, optimal, bound, cert, _ = _solve(scorer, cap_left, dem_left, li, lj, k, options, 0)

    all_i = scorer.order[np.concatenate([li, sp.i])]
    all_j = np.concatenate([lj, sp.j])
    all_s = np.concatenate([ls, sp.s])
    is_lock = np.concatenate([np.ones(len(li), bool), np.zeros(len(sp.i), bool)])
    is_chosen = np.concatenate([np.ones(len(li), bool), out_chosen])
    order = np.argsort(all_i * m + all_j, kind="stable")
    pairs = Candidates(all_i[order], all_j[order], n, m)
    problem = AssignmentProblem(pairs, all_s[order], cap_f, dem[scorer.inverse], locked=is_lock[order])
    check_supported(problem, "flow")
    sol = finish(problem, np.flatnonzero(is_chosen[order]), "optimal" if optimal else "feasible",
                 started, "flow", None, cert)
    if bound is not None:
        sol.bound = float(ls.sum()) + bound
    return problem, sol
