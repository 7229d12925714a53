"""Max-min fairness (``"maxmin"``), and what it shares with leximin
(:mod:`mentormatch.solvers.leximin`): the test for a plain problem, the places the locks leave,
and the CP-SAT steps with one time budget.

Both first match as many pairs as possible, then care for the worst-off pair.

**maxmin** solves the lexicographic problem

1. ``M = max sum_k x[k]`` over the feasible assignments (capacities, demands, locks);
2. ``t = max min{score[k] : x[k] = 1}`` over the assignments with ``M`` pairs;
3. ``max sum_k score[k] x[k]`` over the assignments with ``M`` pairs, all of score ``>= t``.

On plain problems (unit loads, no side constraints) each step is a network flow with OR-Tools:
locked pairs are taken first (their mentees' demands and mentors' capacities reduced), step 1 is
a max-flow, step 2 a binary search over the sorted distinct scores of the free pairs with a
max-flow feasibility check each (``O(log P)`` max-flows), step 3 a max-flow of minimum cost on
the pairs of score ``>= min(t, lowest locked score)``. Scores are scaled to integers for the
cost as in :mod:`mentormatch.solvers.cpsat` (``scale``, ``rounding_bound`` in the certificate).
With fractional loads or side constraints the same three steps are CP-SAT solves on the model of
:class:`~mentormatch.solvers.cpsat.CpsatModel`.

With demands above one, the threshold runs over pairs, not mentees. The status is
``"optimal"`` when every step was proven optimal.
"""
from __future__ import annotations

import time

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

from ..errors import InfeasibleError
from . import register
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .cpsat import DEFAULT_TIME_LIMIT, CpsatModel, _infeasible, _timeout, make_solver, score_scale
from .diagnose import bipartite_max_flow, diagnose

__all__ = ["solve_maxmin"]


def _plain(problem: AssignmentProblem) -> bool:
    return (not problem.side.active() and bool(np.all(problem.load == 1)))


def _left_by_locks(problem: AssignmentProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The locked mask, and the whole places (unit loads) and demand the locks leave; an
    infeasible set of locks is diagnosed with the people's numbers."""
    P = problem.pairs
    locked = np.asarray(problem.locked, bool)
    cap = np.floor(problem.capacity + 1e-9).astype(np.int64)
    cap -= np.bincount(P.mentor[locked], minlength=problem.n_mentors)
    supply = np.round(problem.demand).astype(np.int64) - np.bincount(P.mentee[locked],
                                                                     minlength=problem.n_mentees)
    if np.any(cap < 0) or np.any(supply < 0):
        raise InfeasibleError(diagnose(problem))
    return locked, cap, supply


def _flow_maxmin(problem: AssignmentProblem, started: float) -> Solution:
    P = problem.pairs
    n, m = problem.n_mentees, problem.n_mentors
    locked, cap, supply = _left_by_locks(problem)
    free = np.flatnonzero(~locked)
    fi, fj, fs = P.mentee[free], P.mentor[free], problem.score[free]

    def flow_at(t: float) -> int:
        keep = fs >= t
        return bipartite_max_flow(fi[keep], fj[keep], supply, cap)[0]

    m_free = flow_at(-np.inf)
    values = np.unique(fs)
    lo, hi = 0, len(values) - 1  # invariant: values[lo] feasible (all pairs allowed)
    if m_free > 0:
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if flow_at(values[mid]) == m_free:
                lo = mid
            else:
                hi = mid - 1
    t = values[lo] if m_free > 0 else np.inf
    lock_min = problem.score[locked].min() if locked.any() else np.inf
    t_eff = min(t, lock_min)

    scale = score_scale(problem.score)
    keep = np.flatnonzero(fs >= t_eff) if np.isfinite(t_eff) else np.zeros(0, np.int64)
    chosen_free = np.zeros(0, dtype=np.int64)
    if len(keep):
        src, snk = n + m, n + m + 1
        tails = np.concatenate([np.full(n, src), n + np.arange(m), fi[keep]]).astype(np.int32)
        heads = np.concatenate([np.arange(n), np.full(m, snk), n + fj[keep]]).astype(np.int32)
        caps = np.concatenate([supply, cap, np.ones(len(keep), np.int64)])
        costs = np.concatenate([np.zeros(n + m, np.int64),
                                -np.round(fs[keep] * scale).astype(np.int64)])
        mcf = min_cost_flow.SimpleMinCostFlow()
        mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        total = int(supply.sum())
        mcf.set_node_supply(src, total)
        mcf.set_node_supply(snk, -total)
        status = mcf.solve_max_flow_with_min_cost()
        if status != mcf.OPTIMAL:  # pragma: no cover
            raise RuntimeError(f"min-cost flow failed with status {status}")
        flows = np.asarray(mcf.flows(np.arange(n + m, n + m + len(keep), dtype=np.int32)))
        assert int(flows.sum()) == m_free
        chosen_free = free[keep[flows > 0]]
    chosen = np.concatenate([np.flatnonzero(locked), chosen_free])
    exact = bool(np.allclose(problem.score * scale, np.round(problem.score * scale), rtol=0, atol=1e-9))
    cert = {"method": "max-flow binary search + min-cost max-flow (OR-Tools)",
            "threshold": float(problem.score[chosen].min()) if len(chosen) else None,
            "matched": int(len(chosen)), "scale": scale,
            "rounding_bound": 0.0 if exact else len(chosen) / scale}
    return finish(problem, chosen, "optimal", started, "maxmin", certificate=cert)


class _Cp:
    """CP-SAT steps shared by max-min and leximin, with one time budget."""

    def __init__(self, problem: AssignmentProblem, options: SolverOptions, started: float):
        self.problem, self.options, self.started = problem, options, started
        self.limit = DEFAULT_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
        self.built = CpsatModel(problem)
        self.proven = True

    def run(self, objective, maximise: bool):
        model = self.built.model
        (model.maximize if maximise else model.minimize)(objective)
        solver = make_solver(self.options, self.limit - (time.perf_counter() - self.started))
        status = solver.solve(model)
        if status == cp_model.INFEASIBLE:
            raise _infeasible(self.problem, self.options)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, None
        self.proven &= status == cp_model.OPTIMAL
        chosen = self.built.chosen(solver)
        self.built.hint(chosen)
        return int(round(solver.objective_value)), chosen

    def max_count(self):
        x = self.built.x
        count, chosen = self.run(cp_model.LinearExpr.sum(x), True)
        if count is None:
            raise _timeout(self.limit)
        self.built.model.add(cp_model.LinearExpr.sum(x) >= count)
        return count, chosen

    def out_of_time(self) -> bool:
        return time.perf_counter() - self.started >= self.limit


def _cp_maxmin(problem: AssignmentProblem, options: SolverOptions, started: float) -> Solution:
    cp = _Cp(problem, options, started)
    b = cp.built
    count, chosen = cp.max_count()
    if count and not cp.out_of_time():
        lo_v, hi_v = int(b.sc.min()), int(b.sc.max())
        z = b.model.new_int_var(lo_v, hi_v, "z")
        for k, v in enumerate(b.x):
            b.model.add(z <= int(b.sc[k])).only_enforce_if(v)
        best_z, found = cp.run(z, True)
        if best_z is not None:
            chosen = found
            b.model.add(z >= best_z)
            if not cp.out_of_time():
                total, found = cp.run(b.score_expr(), True)
                if total is not None:
                    chosen = found
                else:
                    cp.proven = False
        else:
            cp.proven = False
    status = "optimal" if cp.proven and not cp.out_of_time() else "feasible"
    cert = {"method": "CP-SAT, three lexicographic solves",
            "threshold": float(problem.score[chosen].min()) if len(chosen) else None,
            "matched": int(len(chosen)), "scale": b.scale}
    return finish(problem, chosen, status, started, "maxmin", certificate=cert)


def solve_maxmin(problem: AssignmentProblem, options: SolverOptions | None = None) -> Solution:
    """Solver ``"maxmin"``: most pairs, then the best worst pair, then the best total.

    See the module docstring for the problem and the method.

    Returns
    -------
    Solution
        ``certificate["threshold"]`` is the lowest chosen score, ``certificate["matched"]``
        the number of chosen pairs.

    Raises
    ------
    InfeasibleError
        When the locks or side constraints cannot hold, with the diagnosis.

    Examples
    --------
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([0.9, 0.5, 0.8, 0.1]),
    ...                       np.array([1.0, 1.0]))
    >>> sol = solve_maxmin(p)
    >>> sol.chosen.tolist(), sol.certificate["threshold"]
    ([1, 2], 0.5)
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    if _plain(problem):
        return _flow_maxmin(problem, started)
    return _cp_maxmin(problem, options, started)


register("maxmin", solve_maxmin)
