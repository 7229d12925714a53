"""The certified sparse path of ``"flow"`` on bounds: exact scores only where they can matter.

The same proof as :mod:`mentormatch.solvers.certify` (dual prices ``u``, ``p`` from the sparse
optimum; ``s_ij - u_i - p_j <= tol`` on every unchosen pair), with one change: the check runs on
a cheap upper bound ``b_ij >= s_ij`` (:class:`mentormatch.scale.BoundedScorer`), and the exact
score is computed only for the pairs the bound does not clear (``b_ij + margin - u_i - p_j >
tol``). A pair the bound clears satisfies the check with its exact score too, so the
certificate is the same statement about every candidate pair.

The starting sparse set is each mentee's ``K`` best pairs by the bound, scored exactly. Exact
scores cost about a microsecond a pair, a bound row of 20,000 mentors a few tens of
microseconds: at 100,000 x 20,000 the exact extractors see a few million pairs, not 2e9.
"""
from __future__ import annotations

import logging
import os
import time

import numpy as np

from ..errors import Conflict, InfeasibleError
from ..pairs import Candidates
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .certify import _bar, _merge, _Sparse, default_top_k, prices, row_blocks
from .flow import apply_locks, check_supported, solve_arrays

log = logging.getLogger(__name__)

#: Bound-suspect pairs scored exactly per mentee and check pass before the rest of that
#: mentee's suspects are looked at (only when none of these violates).
SUSPECTS_PER_ROW = 64


def _empty() -> _Sparse:
    e = np.zeros(0, np.int64)
    return _Sparse(e, e, e, np.zeros(0))


def _excluded(excl_i: np.ndarray, excl_j: np.ndarray):
    order = np.argsort(excl_i, kind="stable")
    return excl_i[order], excl_j[order]


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
        pos = np.minimum(np.searchsorted(self.code, code), max(len(self.code) - 1, 0))
        known = (self.code[pos] == code) if len(self.code) else np.zeros(len(code), bool)
        out = np.empty(len(code))
        out[known] = self.value[pos[known]]
        if not known.all():
            new_code, first = np.unique(code[~known], return_index=True)
            fresh = self.scorer.exact_scores(new_code // self.m, new_code % self.m)
            self.computed += len(new_code)
            out[~known] = fresh[np.searchsorted(new_code, code[~known])]
            merged = np.concatenate([self.code, new_code])
            order = np.argsort(merged, kind="stable")
            self.code = merged[order]
            self.value = np.concatenate([self.value, fresh])[order]
        return out


def _top_k(scorer, exact: _Exact, blocks, k: int, cap, dem, excl_i, excl_j, progress: bool) -> _Sparse:
    """Each mentee's ``k`` best usable pairs by the bound, and each mentor's ``k`` best
    mentees (the best of each block, then the ``k`` best of those), with their exact scores
    (kept when positive: only those can raise the total).

    The mentors' lists matter when mentees outnumber the places: an unmatched mentee must find
    every mentor priced above their score, and a mentor whom no rival mentee can see in the
    sparse set would be priced at nothing."""
    from ..scale import BIG

    excl_i, excl_j = _excluded(excl_i, excl_j)
    closed = np.flatnonzero(cap <= 0)
    m = len(cap)
    kk = min(k, m)
    if kk == 0:
        return _empty()

    col_floor = np.full(m, -np.inf, dtype=np.float32)  # each mentor's k-th best so far

    def block(a: int, b: int, buffer: np.ndarray):
        s = scorer.upper(a, b, buffer)
        if len(closed):
            s[:, closed] = -np.inf
        s[dem[a:b] <= 0] = -np.inf
        lo, hi = np.searchsorted(excl_i, [a, b])
        s[excl_i[lo:hi] - a, excl_j[lo:hi]] = -np.inf
        # a mentor's best row of the block, only where it can enter the mentor's k best
        cols = np.flatnonzero(s.max(axis=0) > col_floor)
        best = s[:, cols].argmax(axis=0)
        rows, part = _row_best(s, kk)
        ok = s[rows, part] > -BIG / 2
        return (rows[ok] + a) * m + part[ok], cols, s[best, cols], best + a

    codes, col_val, col_row = [], np.full((0, m), -np.inf, np.float32), np.zeros((0, m), np.int64)
    pend_val, pend_row = [], []
    for code, cols, val, row in _over_blocks(block, blocks, progress, "best pairs per mentee (bounds)", m):
        codes.append(code)
        full_val = np.full(m, -np.inf, dtype=np.float32)
        full_row = np.zeros(m, dtype=np.int64)
        full_val[cols], full_row[cols] = val, row
        pend_val.append(full_val)
        pend_row.append(full_row)
        if len(pend_val) >= 4 * k:  # keep each mentor's k best rows so far
            col_val, col_row = _fold(col_val, col_row, pend_val, pend_row, k)
            if len(col_val) >= k:
                col_floor[:] = col_val.min(axis=0)
    col_val, col_row = _fold(col_val, col_row, pend_val, pend_row, k)
    ok = col_val > -BIG / 2
    codes.append(col_row[ok] * m + np.broadcast_to(np.arange(m)[None, :], col_row.shape)[ok])
    code = np.unique(np.concatenate(codes).astype(np.int64))
    i, j = code // m, code % m
    s = exact(i, j)
    keep = s > 0
    return _Sparse(i[keep], j[keep], j[keep], s[keep])


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
    rr, cc = np.nonzero(s >= floor[:, None])
    count = np.bincount(rr, minlength=n_rows)
    short = np.flatnonzero(count < k)
    if len(short):  # too few above the sample's floor: those rows in full
        keep = ~np.isin(rr, short)
        rr, cc = rr[keep], cc[keep]
        part = np.argpartition(s[short], m - k, axis=1)[:, m - k:]
        rr = np.concatenate([rr, np.repeat(short, k)])
        cc = np.concatenate([cc, part.reshape(-1)])
    order = np.lexsort((cc, -s[rr, cc], rr))
    rr, cc = rr[order], cc[order]
    first = (np.arange(len(rr)) - np.searchsorted(rr, rr)) < k
    return rr[first], cc[first]


def _fold(val, row, pend_val, pend_row, k: int):
    vals = np.vstack([val] + [v[None, :] for v in pend_val])
    rows = np.vstack([row] + [r[None, :] for r in pend_row])
    pend_val.clear()
    pend_row.clear()
    if len(vals) > k:
        keep = np.argpartition(vals, len(vals) - k, axis=0)[len(vals) - k:]
        vals = np.take_along_axis(vals, keep, axis=0)
        rows = np.take_along_axis(rows, keep, axis=0)
    return vals, rows


def _check(scorer, exact: _Exact, blocks, u, p, excl_i, excl_j, tol: float, per_row: int,
           near: float, progress: bool):
    """Violating pairs (exact ``s - u - p > tol``, each mentee's ``per_row`` worst, with the
    pairs within ``near`` of violating when some pair violates), an upper bound of
    ``max(s - u - p)`` over the unchosen pairs, and how many pairs the bound cleared."""
    excl_i, excl_j = _excluded(excl_i, excl_j)
    p32 = p.astype(np.float32)
    u32 = u.astype(np.float32)
    largest = lambda x: float(np.abs(x[np.isfinite(x)]).max(initial=0.0))  # noqa: E731
    # rounding of the float32 subtraction, on top of the bound's own margin
    slack = scorer.margin + 4 * 2.0 ** -24 * (scorer.largest + largest(p) + largest(u))
    threshold = tol - slack

    row_threshold = (u + threshold).astype(np.float32)  # suspects: bound - p_j > u_i + threshold

    def suspects(s: np.ndarray, rows: np.ndarray, a: int):
        """A block's suspects, row by row; a crowded row keeps its SUSPECTS_PER_ROW most
        promising ones (by the bound), and is returned in ``crowded``."""
        over = s > row_threshold[rows, None]
        count = over.sum(axis=1)
        crowded = np.flatnonzero(count > SUSPECTS_PER_ROW)
        if len(crowded):
            over[crowded] = False
            top = np.argpartition(s[crowded], s.shape[1] - SUSPECTS_PER_ROW, axis=1)[:, -SUSPECTS_PER_ROW:]
            over[crowded[:, None], top] = True
        rr, cc = np.nonzero(over)
        return rr + a, cc, s[rr, cc] - u32[rows[rr]], crowded + a, np.array([count.sum()])

    def block(a: int, b: int, buffer: np.ndarray):
        s = scorer.upper(a, b, buffer)
        np.subtract(s, p32[None, :], out=s)
        lo, hi = np.searchsorted(excl_i, [a, b])
        s[excl_i[lo:hi] - a, excl_j[lo:hi]] = -np.inf
        if not (s > row_threshold[a:b, None]).any():
            return None
        return suspects(s, np.arange(a, b), a)

    # every pair at or below the threshold has s - u - p <= threshold + slack = tol
    eps, parts = tol, []
    for part in _over_blocks(block, blocks, progress, "certificate: reduced costs (bounds)", scorer.m):
        if part is not None:
            parts.append(part)
    n_pairs = int(scorer.eligible_counts.sum()) - len(excl_i)  # the unchosen eligible pairs
    if not parts:
        return _empty(), max(eps, 0.0), n_pairs
    rr, cc, gain_ub, crowded, counts = (np.concatenate(x) for x in zip(*parts))  # by row
    t_pass = time.perf_counter()
    gi, gj = rr, cc
    gain = exact(gi, gj) - u[gi] - p[gj]
    # a crowded row without a violator among its most promising suspects: all of them, then
    rescan = np.setdiff1d(crowded, gi[gain > tol])
    if len(rescan):
        seen = np.sort(gi * scorer.m + gj)
        starts = np.array([a for a, _ in blocks])
        which = np.searchsorted(starts, rescan, side="right") - 1
        for k in np.unique(which).tolist():
            a, b = blocks[k]
            rows = rescan[which == k]
            s = scorer.upper(a, b)[rows - a]
            np.subtract(s, p32[None, :], out=s)
            lo, hi = np.searchsorted(excl_i, [a, b])
            mine = np.isin(excl_i[lo:hi], rows)
            s[np.searchsorted(rows, excl_i[lo:hi][mine]), excl_j[lo:hi][mine]] = -np.inf
            rr2, cc2 = np.nonzero(s > row_threshold[rows, None])
            ri, rj = rows[rr2], cc2
            code = ri * scorer.m + rj
            at = np.minimum(np.searchsorted(seen, code), max(len(seen) - 1, 0))
            new = seen[at] != code if len(seen) else np.ones(len(code), bool)
            ri, rj = ri[new], rj[new]
            if len(ri):
                gi, gj = np.concatenate([gi, ri]), np.concatenate([gj, rj])
                gain = np.concatenate([gain, exact(ri, rj) - u[ri] - p[rj]])
    cleared = n_pairs - int(counts.sum())
    log.debug("check: %d suspects (%d crowded rows, %d rescanned), %.2fs after the pass", len(rr),
              len(crowded), len(rescan), time.perf_counter() - t_pass)
    if len(gain):
        eps = max(eps, float(gain.max()))
    if not (gain > tol).any():
        return _empty(), max(eps, 0.0), cleared
    add = gain > tol - near
    vi, vj, vg = gi[add], gj[add], gain[add]
    order = np.lexsort((vj, -vg, vi))
    vi, vj = vi[order], vj[order]
    keep = (np.arange(len(vi)) - np.searchsorted(vi, vi)) < per_row
    vi, vj = vi[keep], vj[keep]
    return _Sparse(vi, vj, vj, exact(vi, vj)), max(eps, 0.0), cleared


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
    say = log.info if options.progress else log.debug
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
        eligible = np.array([scorer.upper(int(a), int(a) + 1)[0, b] > -BIG / 2 for a, b in zip(li, lj)])
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

    k = options.top_k if options.top_k is not None else default_top_k(cap_left, dem_left)
    if k < 1:
        raise ValueError(f"SolverOptions.top_k must be >= 1 or None, got {k}")
    blocks = row_blocks(n, m)
    t0 = time.perf_counter()
    exact = _Exact(scorer)
    sp = _top_k(scorer, exact, blocks, k, cap_left, dem_left, li, lj, options.progress)
    say("sparse set: %d pairs (top %d per mentee by the bound) in %.2fs", len(sp.i), k,
        time.perf_counter() - t0)
    rounds = added = 0
    while True:
        rounds += 1
        t1 = time.perf_counter()
        res = solve_arrays(sp.i, sp.j, sp.s, cap_left, dem_left)
        cert = {"method": "sparse_min_cost_flow+dual_check_on_bounds", "scale": res.scale,
                "rounding_bound": res.n_max / res.scale, "n_max": res.n_max, "top_k": k,
                "pairs_in_sparse": len(sp.i), "rounds": rounds, "violations_added": added,
                "bound_margin": scorer.margin, "bounds_exact": scorer.exact,
                "or_tools_status": res.status, "holds": False}
        if not res.optimal or not options.certify:
            out_chosen, optimal, bound = res.chosen, False, None
            break
        t2 = time.perf_counter()
        u, p, dual_obj, sweeps = prices(sp.i, sp.j, res.cost, res.chosen, sp.s, dem_left, cap_left,
                                        res.scale)
        tol = 1.0 / res.scale
        t_flow, t2 = t2 - t1, time.perf_counter()
        say("round %d: flow on %d pairs in %.2fs, prices in %.2fs", rounds, len(sp.i), t_flow, t2 - t1 - t_flow)
        ex_i = np.concatenate([li, sp.i[res.chosen]])
        ex_j = np.concatenate([lj, sp.j[res.chosen]])
        # pairs within 1 % of a chosen pair's typical score of violating join with the violators
        near = 0.01 * float(np.median(np.abs(sp.s[res.chosen]))) if res.chosen.any() else 0.0
        viol, eps, cleared = _check(scorer, exact, blocks, u, p, ex_i, ex_j, tol, k, near,
                                    options.progress)
        say("round %d: check in %.2fs; %d pairs cleared by the bound, %d scored exactly so far, "
            "%d added", rounds, time.perf_counter() - t2, cleared, exact.computed, len(viol.i))
        if len(viol.i) == 0:
            bound = dual_obj + eps * res.n_max
            cert.update(holds=True, pairs_checked=int(scorer.eligible_counts.sum()),
                        pairs_cleared_by_bound=cleared, pairs_scored_exactly=exact.computed,
                        dual_objective=dual_obj, max_reduced_gain=eps, tolerance=tol)
            out_chosen, optimal = res.chosen, True
            break
        added += len(viol.i)
        sp = _merge(sp, viol, m)

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
