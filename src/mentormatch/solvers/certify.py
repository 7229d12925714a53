"""The scale path of ``"flow"``: solve on each mentee's best pairs, then prove the result optimal
for *every* candidate pair with LP dual prices.

Why it is exact
---------------
After the locks are taken out (capacities ``c_j`` and demands ``d_i`` reduced), the LP
relaxation of the assignment problem and its dual are::

    max  sum_ij s_ij x_ij                    min  sum_i d_i u_i + sum_j c_j p_j + sum_ij w_ij
    s.t. sum_j x_ij <= d_i   (u_i >= 0)      s.t. u_i + p_j + w_ij >= s_ij   for every pair (i, j)
         sum_i x_ij <= c_j   (p_j >= 0)           u, p, w >= 0
         0 <= x_ij <= 1      (w_ij >= 0)

The sparse set ``E'`` (each mentee's ``k`` best pairs, plus pairs added in later rounds) is
solved exactly by min-cost flow (:func:`mentormatch.solvers.flow.solve_arrays`). Its node
potentials ``pi`` (shortest distances in the residual network, integer costs, so exact) give
prices ``u_i = max(0, pi_i - K)`` and ``p_j = max(0, K - pi_j)`` with ``u_i + p_j >= s_ij`` on
every unchosen pair of ``E'`` (up to the rounding of the integer costs) and ``w_ij =
max(0, s_ij - u_i - p_j)`` on the chosen pairs. Then every candidate pair outside ``E'`` is
checked, block by block of mentee rows, for ``s_ij - p_j - u_i <= tol``. Pairs that violate it
are added to ``E'`` and the sparse problem is solved again; when none does, weak duality gives
for *any* feasible assignment ``x``::

    sum s x  <=  sum_i d_i u_i + sum_j c_j p_j + sum_chosen w_ij + eps * n_max

with ``eps`` the largest ``s_ij - u_i - p_j`` over unchosen pairs (``<= tol``) and ``n_max``
the most pairs any assignment can hold. That right-hand side (plus the locked pairs' scores) is
``Solution.bound``; the objective equals it up to the integer-cost rounding, and
``certificate["holds"]`` is True. The potentials are computed by a vectorised Bellman-Ford on
the small residual network only, in alternating mentor/mentee sweeps (no loop over pairs).

The same machinery serves a dense score matrix or a scorer called block by block of mentee rows
(:func:`solve_scored`), so that 100,000 x 20,000 candidates never need to exist at once.
"""
from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import Conflict, InfeasibleError
from ..pairs import Candidates
from .base import AssignmentProblem, Solution, SolverOptions, finish
from . import register
from .flow import (SPARSE_THRESHOLD, apply_locks, check_supported, integer_costs, network,
                   solve_arrays, solve_flow)
from .ties import TIGHT_GAIN, canonical, integer_gain
from .duals import potentials, prices, start_from_prices  # noqa: F401  (also imported from here)

log = logging.getLogger(__name__)

#: Scores of one block of mentee rows: ``scorer(rows) -> (rows.stop - rows.start, n_mentors)``
#: float array, ``-inf`` where the pair is ineligible. Must be deterministic.
BlockScorer = Callable[[slice], np.ndarray]

_BLOCK_ELEMENTS = 1_000_000


def default_top_k(capacity: np.ndarray, demand: np.ndarray) -> int:
    """``2 * max capacity + max demand + 4``, the sparse set's pairs per mentee by default."""
    cmax = int(np.max(capacity, initial=0))
    dmax = int(np.max(demand, initial=1))
    return 2 * cmax + dmax + 4


# --------------------------------------------------------------------------------------------
# row sources: the full candidate set, one block of mentee rows at a time
# --------------------------------------------------------------------------------------------
class _PairRows:
    """Rows of an explicit candidate set, padded to a (rows x width) block with -inf."""

    def __init__(self, pairs: Candidates, score: np.ndarray):
        self.pairs, self.score = pairs, score
        self.n_mentees, self.n_mentors = pairs.n_mentees, pairs.n_mentors
        self.starts = pairs.starts()
        counts = np.diff(self.starts)
        self.width = int(counts.max(initial=0))

    def block(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray | None]:
        lo, hi = int(self.starts[a]), int(self.starts[b])
        w = max(self.width, 1)
        rows = self.pairs.mentee[lo:hi] - a
        cols = np.arange(lo, hi) - self.starts[self.pairs.mentee[lo:hi]]
        s = np.full((b - a, w), -np.inf)
        s[rows, cols] = self.score[lo:hi]
        j = np.zeros((b - a, w), dtype=np.int64)
        j[rows, cols] = self.pairs.mentor[lo:hi]
        return s, j

    def position(self, i: np.ndarray, col: np.ndarray) -> np.ndarray:
        return self.starts[i] + col


class _ScoredRows:
    """Rows of a dense (n_mentees x n_mentors) matrix or of a block scorer; column = mentor."""

    def __init__(self, score: np.ndarray | BlockScorer, n_mentees: int, n_mentors: int):
        self.score, self.n_mentees, self.n_mentors = score, n_mentees, n_mentors
        self.width = n_mentors

    def block(self, a: int, b: int) -> tuple[np.ndarray, None]:
        if callable(self.score):
            s = np.asarray(self.score(slice(a, b)), dtype=np.float64)
        else:
            s = np.asarray(self.score[a:b], dtype=np.float64)
        if s.shape != (b - a, self.n_mentors):
            raise ValueError(f"scores of mentee rows {a}:{b} have shape {s.shape}, expected "
                             f"{(b - a, self.n_mentors)}")
        if np.any(np.isnan(s)) or np.any(s == np.inf):
            raise ValueError(f"scores of mentee rows {a}:{b} contain nan or +inf; mark "
                             "ineligible pairs with -inf")
        return s, None


def row_blocks(n_rows: int, width: int) -> list[tuple[int, int]]:
    """The (start, stop) mentee-row blocks a scorer is called with: about a million pairs each.
    Callers that cache block scores use the same blocks, so the cache serves every pass."""
    step = max(1, _BLOCK_ELEMENTS // max(width, 1))
    return [(a, min(a + step, n_rows)) for a in range(0, n_rows, step)]


def _row_blocks(src, n_rows: int) -> list[tuple[int, int]]:
    return row_blocks(n_rows, src.width)


# --------------------------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------------------------
@dataclass
class _Sparse:
    i: np.ndarray  # mentee
    col: np.ndarray  # column in the row source's block
    j: np.ndarray  # mentor
    s: np.ndarray  # score


def _merge(a: _Sparse, b: _Sparse, width: int) -> _Sparse:
    i = np.concatenate([a.i, b.i])
    col = np.concatenate([a.col, b.col])
    key, first = np.unique(i * width + col, return_index=True)
    return _Sparse(i[first], col[first], np.concatenate([a.j, b.j])[first],
                   np.concatenate([a.s, b.s])[first])


def _bar(blocks, progress: bool, what: str, total: int | None = None):
    """The blocks, with a progress bar on stderr when asked for and the pass lasts over 2 s."""
    if not progress:
        return blocks
    from tqdm import tqdm

    return tqdm(blocks, desc=what, unit="block", delay=2.0, mininterval=1.0, leave=False, file=sys.stderr,
                total=total)


def _top_k(src, blocks, k: int, cap: np.ndarray, dem: np.ndarray, excl_i: np.ndarray,
           excl_col: np.ndarray, progress: bool = False) -> _Sparse:
    """Each mentee's ``k`` best usable pairs (positive score, room on both sides, not locked)."""
    order = np.argsort(excl_i, kind="stable")
    excl_i, excl_col = excl_i[order], excl_col[order]
    parts = []
    for a, b in _bar(blocks, progress, "best pairs per mentee"):
        s, jm = src.block(a, b)
        jmat = np.broadcast_to(np.arange(s.shape[1]), s.shape) if jm is None else jm
        lo, hi = np.searchsorted(excl_i, [a, b])
        closed = cap[jmat] <= 0 if np.any(cap <= 0) else None
        if closed is not None or hi > lo or np.any(dem[a:b] <= 0):
            s = s.copy()  # never modify the caller's scores
            if closed is not None:
                s[closed] = -np.inf
            s[dem[a:b] <= 0] = -np.inf
            s[excl_i[lo:hi] - a, excl_col[lo:hi]] = -np.inf
        w = s.shape[1]
        kk = min(k, w)
        if kk == 0:
            continue
        part = np.argpartition(s, w - kk, axis=1)[:, w - kk:]
        vals = np.take_along_axis(s, part, axis=1)
        ok = vals > 0  # only positive pairs can raise the total
        r = np.broadcast_to(np.arange(a, b)[:, None], part.shape)[ok]
        c = part[ok]
        parts.append(_Sparse(r, c, jmat[r - a, c], vals[ok]))
    if not parts:
        e = np.zeros(0, np.int64)
        return _Sparse(e, e, e, np.zeros(0))
    out = _Sparse(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("i", "col", "j", "s")))
    return _merge(out, _Sparse(out.i[:0], out.col[:0], out.j[:0], out.s[:0]), src.width)


def _check(src, blocks, u, p, excl_i, excl_col, tol, progress: bool = False,
           per_row: int | None = None, tight: float | None = None
           ) -> tuple[_Sparse, float, int, _Sparse]:
    """Pairs with ``s - u - p > tol`` outside the excluded (chosen) ones, the largest
    ``s - u - p`` over all unchosen pairs, the pairs checked, and (with ``tight``) the pairs
    with ``tight < s - u - p <= tol``: those that may be tight in integers (the tie rule's
    face, :mod:`mentormatch.solvers.ties`). With ``per_row``, only each mentee's ``per_row``
    most violating pairs are returned: when the prices are far off, adding every violator
    would grow the sparse set towards the dense one; the next round's prices say whether more
    are needed, and the check over all pairs is repeated until none violates."""
    order = np.argsort(excl_i, kind="stable")
    excl_i, excl_col = excl_i[order], excl_col[order]
    parts, near, eps, checked = [], [], -np.inf, 0
    lowest = tol if tight is None else min(tol, tight)
    for a, b in _bar(blocks, progress, "certificate: reduced costs"):
        s, jm = src.block(a, b)
        pj = p[None, :] if jm is None else p[jm]
        r = s - pj
        r -= u[a:b, None]
        lo, hi = np.searchsorted(excl_i, [a, b])
        r[excl_i[lo:hi] - a, excl_col[lo:hi]] = -np.inf
        checked += int(np.isfinite(s).sum())
        top = float(r.max(initial=-np.inf))
        eps = max(eps, top)
        if top > lowest:
            rr, cc = np.nonzero(r > lowest)
            if tight is not None:
                few = r[rr, cc] <= tol
                tr, tc = rr[few], cc[few]
                near.append(_Sparse(tr + a, tc, tc if jm is None else jm[tr, tc], s[tr, tc]))
                rr, cc = rr[~few], cc[~few]
            if per_row is not None and len(rr) > per_row:
                gain = r[rr, cc]
                order = np.lexsort((cc, -gain, rr))  # by row, most violating first, ties by column
                rr, cc = rr[order], cc[order]
                first = np.searchsorted(rr, rr)  # start of each row's run (rr is sorted)
                keep = (np.arange(len(rr)) - first) < per_row
                rr, cc = rr[keep], cc[keep]
            if len(rr):
                jj = cc if jm is None else jm[rr, cc]
                parts.append(_Sparse(rr + a, cc, jj, s[rr, cc]))
    return _joined(parts), max(eps, 0.0), checked, _joined(near)


def _joined(parts: list) -> _Sparse:
    if parts:
        return _Sparse(*(np.concatenate([getattr(q, f) for q in parts]) for f in ("i", "col", "j", "s")))
    e = np.zeros(0, np.int64)
    return _Sparse(e, e, e, np.zeros(0))


def _subset(a: _Sparse, keep: np.ndarray) -> _Sparse:
    return _Sparse(a.i[keep], a.col[keep], a.j[keep], a.s[keep])


def with_ties(sp: _Sparse, chosen: np.ndarray, near: _Sparse, width: int, cap, dem, pot, scale,
              ranks=None) -> tuple[_Sparse, np.ndarray, _Sparse, dict | None]:
    """The tie rule (:mod:`mentormatch.solvers.ties`) on a certified sparse optimum: the pairs
    ``near`` (gathered by the check as maybe tight) with a positive integer gain are returned as
    violators (the optimum is then not yet the integer optimum over every pair: another round);
    otherwise the tight ones join the sparse set and the rule picks the optimum. Returns the
    sparse set, its chosen pairs, the violators and the rule's record (None with violators)."""
    gain = integer_gain(near.s, near.i, near.j, pot, scale)
    if np.any(gain > 0):
        return sp, chosen, _subset(near, gain > 0), None
    codes = (sp.i * width + sp.col)[chosen]
    grown = _merge(sp, _subset(near, gain == 0), width)
    was = np.isin(grown.i * width + grown.col, codes)
    picked, info = canonical(grown.i, grown.j, grown.s, was, cap, dem, pot, scale, ranks)
    info["tight_pairs_outside"] = int(len(grown.i) - len(sp.i))
    return grown, picked, _subset(near, gain > 0), info


@dataclass
class _Outcome:
    sparse: _Sparse
    chosen: np.ndarray  # bool over sparse
    optimal: bool
    certificate: dict
    bound: float | None  # over the free (unlocked) part
    prices: tuple | None = None  # (u, p) under which the certificate holds


def _certified(src, cap: np.ndarray, dem: np.ndarray, excl_i: np.ndarray, excl_col: np.ndarray,
               options: SolverOptions) -> _Outcome:
    """Solve the free part exactly on a sparse set, growing it until the duals certify it."""
    say = log.info if options.progress else log.debug
    n = src.n_mentees
    k = options.top_k if options.top_k is not None else default_top_k(cap, dem)
    if k < 1:
        raise ValueError(f"SolverOptions.top_k must be >= 1 or None, got {k}")
    blocks = _row_blocks(src, n)
    t0 = time.perf_counter()
    sp = _top_k(src, blocks, k, cap, dem, excl_i, excl_col, options.progress)
    say("sparse set: %d pairs (top %d per mentee) in %.2fs", len(sp.i), k, time.perf_counter() - t0)
    rounds, added, sweeps_total = 0, 0, 0
    checked = 0
    pot, pot_scale = None, 0.0  # the last round's potentials, and their scale
    while True:
        rounds += 1
        t1 = time.perf_counter()
        res = solve_arrays(sp.i, sp.j, sp.s, cap, dem)
        say("round %d: flow on %d pairs, %s, %.2fs", rounds, len(sp.i), res.status,
            time.perf_counter() - t1)
        cert = {"method": "sparse_min_cost_flow+dual_check", "scale": res.scale,
                "rounding_bound": res.n_max / res.scale, "n_max": res.n_max, "top_k": k,
                "pairs_in_sparse": len(sp.i), "rounds": rounds, "violations_added": added,
                "or_tools_status": res.status, "holds": False}
        if not res.optimal or not options.certify:
            return _Outcome(sp, res.chosen, False, cert, None)
        t2 = time.perf_counter()
        start = pot if pot_scale == res.scale else None
        u, p, dual_obj, sweeps, pot = prices(sp.i, sp.j, res.cost, res.chosen, sp.s, dem, cap,
                                             res.scale, start)
        pot_scale = res.scale
        sweeps_total += sweeps
        tol = 1.0 / res.scale
        ex_i = np.concatenate([excl_i, sp.i[res.chosen]])
        ex_c = np.concatenate([excl_col, sp.col[res.chosen]])
        viol, eps, checked, near = _check(src, blocks, u, p, ex_i, ex_c, tol, options.progress,
                                          per_row=k, tight=TIGHT_GAIN * tol)
        say("round %d: prices in %d sweeps, %d candidate pairs checked, %d violations, %.2fs",
            rounds, sweeps, checked, len(viol.i), time.perf_counter() - t2)
        if len(viol.i) == 0:
            sp, picked, viol, ties = with_ties(sp, res.chosen, near, src.width, cap, dem, pot,
                                               res.scale)
        if len(viol.i) == 0:
            bound = dual_obj + eps * res.n_max
            cert.update(holds=True, pairs_checked=checked, bellman_ford_sweeps=sweeps_total,
                        dual_objective=dual_obj, max_reduced_gain=eps, tolerance=tol, ties=ties)
            return _Outcome(sp, picked, True, cert, bound, (u, p))
        added += len(viol.i)
        sp = _merge(sp, viol, src.width)


def solve_sparse_certified(problem: AssignmentProblem, options: SolverOptions,
                           started: float) -> Solution:
    """The ``"flow"`` solver on a large candidate set: see the module docstring.

    Returns status ``"optimal"`` only when the certificate holds; with
    ``options.certify=False`` the sparse optimum comes back as ``"feasible"`` with no bound.
    """
    if problem.coverage_first:
        raise ValueError("the sparse certified path does not support coverage_first; "
                         "use solver='flow' with top_k=None on a smaller candidate set")
    lock_pos, cap, dem = apply_locks(problem)
    src = _PairRows(problem.pairs, problem.score)
    li = problem.pairs.mentee[lock_pos]
    lcol = lock_pos - src.starts[li]
    out = _certified(src, cap, dem, li, lcol, options)
    free_chosen = src.position(out.sparse.i[out.chosen], out.sparse.col[out.chosen])
    chosen = np.concatenate([lock_pos, free_chosen])
    status = "optimal" if out.optimal else "feasible"
    sol = finish(problem, chosen, status, started, "flow", None, out.certificate)
    sol.prices = out.prices
    if out.bound is not None:
        sol.bound = float(problem.score[lock_pos].sum()) + out.bound
    return sol


def places_left(li, lj, ls, cap_f, dem, n: int, m: int, ineligible: str):
    """The capacities and demands that the locked pairs (mentees ``li``, mentors ``lj``,
    scores ``ls``) leave, through the same checks as the pair path: a lock scoring ``-inf`` is
    infeasible (``ineligible`` says why, in words), a repeated one is an error."""
    if np.any(~np.isfinite(ls)):
        bad = int(np.flatnonzero(~np.isfinite(ls))[0])
        raise InfeasibleError(Conflict("eligibility", f"locked pair (mentee {li[bad]}, mentor "
                                       f"{lj[bad]}) {ineligible}", "unlock it"))
    lock_pairs = Candidates.from_arrays(li, lj, n, m)
    if len(lock_pairs) != len(li):
        raise ValueError("locked pairs must be distinct")
    order = np.argsort(li * m + lj)
    _, cap_left, dem_left = apply_locks(AssignmentProblem(lock_pairs, np.asarray(ls)[order], cap_f,
                                                          dem, locked=np.ones(len(li), dtype=bool)))
    return cap_left, dem_left


def solve_scored(score: np.ndarray | BlockScorer, capacity, *, n_mentees: int | None = None,
                 n_mentors: int | None = None, demand=None, locked=None,
                 options: SolverOptions | None = None) -> tuple[AssignmentProblem, Solution]:
    """Exact assignment from a dense score matrix or a block scorer, without materialising the
    full candidate set.

    Solves ``max sum s_ij x_ij`` subject to ``sum_i x_ij <= capacity[j]``, ``sum_j x_ij <=
    demand[i]``, ``x_ij = 1`` on locked pairs, ``x_ij in {0, 1}``, ``x_ij = 0`` where
    ``s_ij = -inf`` (ineligible), by the sparse certified path of ``"flow"``.

    Parameters
    ----------
    score : ndarray (n_mentees x n_mentors) or callable
        Scores, mentees x mentors, ``-inf`` where ineligible; or ``score(rows: slice)`` returning
        that block of rows (then ``n_mentees`` and ``n_mentors`` are required). Never modified.
    capacity : array of whole numbers, one per mentor.
    demand : array of whole numbers, one per mentee, default 1.
    locked : (mentee_index, mentor_index) arrays, optional; pairs forced into the assignment.
    options : SolverOptions, optional
        ``top_k``, ``certify`` and ``progress`` apply.

    Returns
    -------
    problem : AssignmentProblem
        The final sparse candidate set (the locks, each mentee's best pairs and the pairs the
        certificate added), to which ``solution.chosen`` refers.
    solution : Solution
        ``status="optimal"`` when ``solution.certificate["holds"]``: optimal for the full set.
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    if not callable(score):
        score = np.asarray(score)
        n_mentees, n_mentors = score.shape
    if n_mentees is None or n_mentors is None:
        raise ValueError("a block scorer needs n_mentees and n_mentors")
    cap_f = np.asarray(capacity, dtype=np.float64)
    if cap_f.shape != (n_mentors,) or np.any(cap_f < 0) or np.any(cap_f != np.round(cap_f)):
        raise ValueError(f"capacity must be {n_mentors} whole numbers >= 0")
    dem = (np.ones(n_mentees, np.int64) if demand is None
           else np.asarray(demand, dtype=np.int64))
    src = _ScoredRows(score, n_mentees, n_mentors)
    if locked is not None:
        li, lj = (np.asarray(x, dtype=np.int64) for x in locked)
    else:
        li = lj = np.zeros(0, np.int64)
    ls = np.zeros(len(li))
    for r in np.unique(li):  # a few rows: the locks' scores
        row = src.block(int(r), int(r) + 1)[0][0]
        ls[li == r] = row[lj[li == r]]
    cap_left, dem_left = places_left(li, lj, ls, cap_f, dem, n_mentees, n_mentors,
                                     "is ineligible (score -inf)")
    out = _certified(src, cap_left, dem_left, li, lj, options)
    sp = out.sparse
    all_i = np.concatenate([li, sp.i])
    all_j = np.concatenate([lj, sp.j])
    all_s = np.concatenate([ls, sp.s])
    is_lock = np.concatenate([np.ones(len(li), bool), np.zeros(len(sp.i), bool)])
    is_chosen = np.concatenate([np.ones(len(li), bool), out.chosen])
    order = np.argsort(all_i * n_mentors + all_j, kind="stable")
    pairs = Candidates(all_i[order], all_j[order], n_mentees, n_mentors)
    problem = AssignmentProblem(pairs, all_s[order], cap_f, dem, locked=is_lock[order])
    check_supported(problem, "flow")
    status = "optimal" if out.optimal else "feasible"
    sol = finish(problem, np.flatnonzero(is_chosen[order]), status, started, "flow", None,
                 out.certificate)
    sol.prices = out.prices
    if out.bound is not None:
        sol.bound = float(ls.sum()) + out.bound
    return problem, sol


def solve_flow_any(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """The ``"flow"`` solver: exact by min-cost flow, on every pair up to ``SPARSE_THRESHOLD``
    pairs (and always with ``coverage_first``), above it on each mentee's best pairs with the
    dual certificate over every pair (:func:`solve_sparse_certified`). Both are exact; the
    threshold is chosen by measured cost.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([1.0, 2.0]), np.array([1.0]))
    >>> solve_flow_any(p, SolverOptions()).chosen
    array([1])
    """
    big = len(problem.pairs) > SPARSE_THRESHOLD
    if (options.top_k is not None or big) and not problem.coverage_first:
        check_supported(problem, "flow")
        return solve_sparse_certified(problem, options, time.perf_counter())
    sol = solve_flow(problem, options)
    if sol.status != "optimal" or problem.coverage_first:
        return sol
    return _with_tie_rule(problem, sol)


def _with_tie_rule(problem: AssignmentProblem, sol: Solution) -> Solution:
    """The optimum on every pair, replaced by the one the tie rule picks
    (:mod:`mentormatch.solvers.ties`; the potentials from :func:`prices`)."""
    lock_pos, cap, dem = apply_locks(problem)
    free_idx = np.flatnonzero(~problem.locked)
    pairs = problem.pairs
    i, j, s = pairs.mentee[free_idx], pairs.mentor[free_idx], problem.score[free_idx]
    used, scale, _ = network(i, j, s, cap, dem)
    net = free_idx[used]
    i, j, s = i[used], j[used], s[used]
    was = np.isin(net, sol.chosen)
    cost = integer_costs(s, np.ones(len(s), bool), scale)
    pot = prices(i, j, cost, was, s, dem, cap, scale)[4]
    picked, info = canonical(i, j, s, was, cap, dem, pot, scale)
    chosen = np.sort(np.concatenate([lock_pos, net[picked]]))
    cert = {**(sol.certificate or {}), "ties": info}
    return dataclasses.replace(sol, chosen=chosen, objective=float(problem.score[chosen].sum()),
                               certificate=cert)


register("flow", solve_flow_any)
