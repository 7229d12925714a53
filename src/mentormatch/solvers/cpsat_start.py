"""What CP-SAT starts from and answers beside its own search (:func:`mentormatch.solvers.cpsat.
solve_cpsat`; moved here from it in s24): the balanced-load hint, the plain flow's start on a
plain problem, and the answers they give when CP-SAT finds nothing better in time; with
neither, an assignment known to meet every constraint
(:func:`mentormatch.solvers.fallback.stopped_answer`), else the time-out."""
from __future__ import annotations

import numpy as np

from ..errors import InfeasibleError, TimeLimitError
from .base import AssignmentProblem, Solution, SolverOptions, finish, proven
from .cpsat_model import CpsatModel

__all__ = ["_balanced_hint", "_flow_start", "_from_start", "_hinted", "_stopped"]


def _balanced_hint(problem: AssignmentProblem, built: CpsatModel) -> np.ndarray | None:
    """A good assignment for ``balanced_load`` (with ``min_load``), to hint CP-SAT: for each
    level L, every mentor that can take part takes between max(L, 1, min_load) and
    min(L + 1, capacity) mentees, which is a min-cost flow with lower bounds (OR-Tools, a few
    milliseconds); the best over L. Only for unit loads and no other side constraint (else
    None); locked pairs are kept."""
    side = problem.side
    if not np.all(problem.load == 1) or not set(side.active()) <= {"balanced_load", "min_load"}:
        return None
    from ortools.graph.python import min_cost_flow

    P = problem.pairs
    n, m = problem.n_mentees, problem.n_mentors
    locked = np.flatnonzero(problem.locked)
    free = np.flatnonzero(~np.asarray(problem.locked, bool))
    dem = np.round(np.asarray(problem.demand)).astype(np.int64)
    supply = dem - np.bincount(P.mentee[locked], minlength=n)
    held = np.bincount(P.mentor[locked], minlength=m)
    degree = np.bincount(P.mentor, minlength=m)
    cap = np.floor(problem.capacity + 1e-9).astype(np.int64)
    floor_ = np.ones(m, np.int64)
    if side.min_load is not None:
        floor_ = np.maximum(floor_, np.ceil(side.min_load - 1e-9).astype(np.int64))
    if np.any(supply < 0):
        return None
    total = int(supply.sum())
    src, snk = n + m, n + m + 1
    tails = np.concatenate([np.full(n, src), P.mentee[free], n + np.arange(m), [src]])
    heads = np.concatenate([np.arange(n), n + P.mentor[free], np.full(m, snk), [snk]])
    costs = np.concatenate([np.zeros(n, np.int64), -built.sc[free], np.zeros(m + 1, np.int64)])
    best, best_value = None, None
    for level in range(0, int(min(degree.max(initial=0), cap.max(initial=0))) + 1):
        lo = np.maximum(level, floor_)
        hi = np.minimum(level + 1, cap)
        on = (lo <= hi) & (degree >= lo)
        lo, hi = np.where(on, lo, 0), np.where(on, hi, 0)
        if np.any(held > hi) or int((lo - held).clip(0).sum()) > total:
            continue
        mcf = min_cost_flow.SimpleMinCostFlow()
        caps = np.concatenate([supply, np.ones(len(free), np.int64), hi - lo, [total]])
        mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        supplies = np.zeros(n + m + 2, np.int64)
        # a locked pair's unit is already at its mentor; the rest of lo comes through the flow
        supplies[src] = total
        supplies[n:n + m] = held - lo
        supplies[snk] = -(total + int(held.sum()) - int(lo.sum()))
        mcf.set_nodes_supplies(np.arange(n + m + 2), supplies)
        if mcf.solve() != mcf.OPTIMAL:
            continue
        flows = np.asarray(mcf.flows(np.arange(n, n + len(free))))
        chosen = np.concatenate([locked, free[flows > 0]])
        value = int(built.sc[chosen].sum())
        if best_value is None or value > best_value:
            best, best_value = np.sort(chosen), value
    return best


def _flow_start(problem: AssignmentProblem, options: SolverOptions, started: float,
                limit: float) -> Solution | None:
    """For a plain problem (no side constraint, unit loads, whole capacities), the ``"flow"``
    solver's answer on the objective's scores under CP-SAT's deadline (``limit`` from
    ``options.started``, else from ``started``): CP-SAT's hint, and the answer when CP-SAT
    finds nothing better in time. Its bound (the flow's dual certificate over every pair, or a
    stop's bound) holds for every assignment, CP-SAT's optimum included; a flow stopped before
    it chose a pair gives way to :func:`mentormatch.solvers.fallback.plain_flow`'s assignment
    (with the stop's bound). None for any other problem, and when the flow finds the locks
    infeasible (CP-SAT's diagnosis then speaks)."""
    if problem.side.active() or not problem.integral:
        return None
    import dataclasses

    from .flowsolver import solve_flow_solver

    timed = dataclasses.replace(options, time_limit=limit,
                                started=started if options.started is None else options.started)
    try:
        start = solve_flow_solver(problem, timed)
    except InfeasibleError:
        return None
    if not len(start.chosen) and len(problem.pairs):  # stopped before its first flow: the plain
        from .fallback import plain_flow  # flow over each mentee's best pairs (milliseconds)

        chosen = plain_flow(problem)
        if chosen is not None and len(chosen):
            start = dataclasses.replace(start, chosen=chosen,
                                        objective=float(problem.score[chosen].sum()))
    return start


def _from_start(problem: AssignmentProblem, original: AssignmentProblem, start: Solution,
                chosen: np.ndarray | None, bound: float | None, started: float, cert: dict,
                limit: float, solved: bool = False) -> Solution:
    """CP-SAT's answer (``chosen``, ``bound``; None when it found none in time) beside the
    flow's (:func:`_flow_start`): the better assignment (``coverage_first``: the more matched
    mentees first), the lower bound. The flow's bound bounds the total of any assignment (under
    ``coverage_first``, of any matching as many mentees: used only when the flow's count is
    proven, its status "optimal"). "optimal" when the bound is within the gap of the answer:
    a proof, whichever solver gave it."""
    cover = original.coverage_first
    mentee = problem.pairs.mentee

    def key(c) -> tuple:
        c = np.asarray(c, np.int64)
        return (len(np.unique(mentee[c])) if cover else 0, float(problem.score[c].sum()))

    found = chosen is not None
    if not found or key(start.chosen) > key(chosen):
        chosen = start.chosen
    flow_bound = start.bound if (not cover or start.status == "optimal") else None
    if flow_bound is not None:
        bound = flow_bound if bound is None else min(bound, flow_bound)
    value = float(problem.score[chosen].sum()) if len(chosen) else 0.0
    optimal = bound is not None and proven(bound, value)
    if not found:
        cert["cpsat_status"] = "UNKNOWN"
    if not optimal and not solved:  # the time limit ended it: the reasons must not claim more
        cert["timed_out"] = True
    message = ("" if optimal else
               f"CP-SAT found no assignment within {limit:g} s; returning the min-cost flow's "
               "assignment it was hinted" + ("" if bound is None else " (bound: the flow's)")
               if not found else
               f"CP-SAT stopped at the time limit ({limit:g} s) without a proof" if not solved else
               f"CP-SAT's proof holds for the rounded scores: the optimum is at most {bound:.6g}, "
               f"the assignment found is worth {value:.6g}")
    return finish(problem, chosen, "optimal" if optimal else "feasible", started, "cpsat",
                  bound=bound, certificate=cert, message=message)


def _hinted(problem: AssignmentProblem, hint: np.ndarray, started: float, cert: dict,
            limit: float) -> Solution:
    """The hint of :func:`_balanced_hint` (it meets every constraint) when CP-SAT found nothing
    better in time: feasible, with the bound that needs no solve
    (:func:`mentormatch.solvers.fallback.no_solve_bound`)."""
    from .fallback import no_solve_bound

    cert["cpsat_status"] = "UNKNOWN"
    cert["timed_out"] = True
    return finish(problem, hint, "feasible", started, "cpsat", bound=no_solve_bound(problem),
                  certificate=cert,
                  message=f"CP-SAT found no assignment within {limit:g} s; returning the "
                          "balanced-load flow assignment it was hinted")


def _stopped(problem: AssignmentProblem, maximised: AssignmentProblem, started: float,
             limit: float) -> Solution:
    """CP-SAT found no assignment before the time limit (or it passed before the model was
    built): an assignment known to meet every constraint, "feasible" with a bound that needs no
    solve (:func:`mentormatch.solvers.fallback.stopped_answer`), else the time-out."""
    from .fallback import stopped_answer

    return stopped_answer(problem, maximised, started, "cpsat", limit, timeout_error(limit),
                          "in CP-SAT")


def timeout_error(limit: float) -> TimeLimitError:
    """A time-out with no assignment found and none proven impossible: never called infeasible."""
    return TimeLimitError(limit, "CP-SAT", "raise the time limit or relax the side constraints", reason="time")
