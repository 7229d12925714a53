"""Exact assignment with side constraints, by OR-Tools CP-SAT.

The model and its integer scaling (scores, loads and capacities, stipends, the score floor's
fraction) are in :mod:`mentormatch.solvers.cpsat_model`; this module solves it.

Determinism: one search worker (``num_workers=1``) and ``random_seed = options.seed``, so
the same inputs give the same pairs, unless the time limit (``options.time_limit``, default
30 s) stops the search first, in which case the status is ``"feasible"`` and the result depends
on the machine's speed. One worker was chosen over ``interleave_search`` because the target
machines have two cores and the instances that need CP-SAT are small; it keeps runs reproducible.

``coverage_first`` is lexicographic, in two solves: maximise the number of matched mentees,
fix it, then maximise the score.

``balanced_load`` (with unit loads, alone or with ``min_load``) starts from a hint: the best
over the levels L of the assignment where every mentor that can take part has L or L + 1
mentees, a min-cost flow with lower bounds each. It meets every constraint, so it is also what
is returned (``"feasible"``, with a bound that needs no solve) when CP-SAT finds nothing within
the time limit. At 500
mentees x 50 mentors (two-decimal uniform scores, capacity 15, min_load 5) the shared-level
model with this hint is proven optimal in about 20 s, where the former model (separate lo/hi
bounds, no hint) stopped at 30 s with a gap of 0.17 %.

A plain problem (no side constraint, unit loads, whole capacities) starts from the ``"flow"``
solver's answer under the same deadline (:func:`_flow_start`): CP-SAT's hint, its bound (the
flow's certificate over every pair, or a stop's bound) and the answer when CP-SAT finds nothing
better in time, so a time-out answers with an assignment and a bound, as ``"mip"`` does, never
``TimeLimitError``; and once the deadline has passed no CP-SAT model is built.
"""
from __future__ import annotations

import sys
import time

import numpy as np
from ortools.sat.python import cp_model

from ..errors import Conflict, InfeasibleError, TimeLimitError
from . import register
from .base import OPTIMAL_GAP, AssignmentProblem, Solution, SolverOptions, finish, proven
from .cpsat_model import CpsatModel, exact_at, objective_scale, score_scale
from .diagnose import diagnose

__all__ = ["solve_cpsat", "CpsatModel", "score_scale", "DEFAULT_TIME_LIMIT", "goal_problem",
           "no_time_to_build"]

DEFAULT_TIME_LIMIT = 30.0
#: CPU seconds a pair of building CP-SAT's model takes, at least (measured 5.4-10 us a pair from
#: 120 x 30 to 800 x 200 with a share floor, a budget or a score floor): no model is built when
#: less of the time limit is left than the model's pairs times this (:func:`no_time_to_build`).
BUILD_SECONDS_PER_PAIR = 5e-6


def no_time_to_build(problem: AssignmentProblem, deadline: float) -> bool:
    """Whether the time left before ``deadline`` is below the least time building CP-SAT's model
    of ``problem`` takes (:data:`BUILD_SECONDS_PER_PAIR`): the deadline passed, or will pass
    before the search can start (400 x 100 with a share floor at a limit of 0.05 s: 0.5 s of CPU
    building a model that then had no time)."""
    return time.perf_counter() + BUILD_SECONDS_PER_PAIR * len(problem.score) >= deadline


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


#: CP-SAT's linearization for the solve that maximises the matched mentees (coverage_first):
#: at its default (1) it took 51-56 s to prove the most mentees of a 19 x 7 problem with demands
#: up to 3, at 2 0.02 s (the relaxation of ``matched_i <= sum of i's pairs`` is then the
#: flow's, which is tight).
COVER_LINEARIZATION = 2


def make_solver(options: SolverOptions, time_left: float,
                linearization: int | None = None) -> cp_model.CpSolver:
    """A CP-SAT solver with the reproducible settings described in the module docstring;
    ``linearization``: CP-SAT's ``linearization_level`` when not its default
    (:data:`COVER_LINEARIZATION`)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(options.seed)
    solver.parameters.max_time_in_seconds = max(0.01, float(time_left))
    solver.parameters.log_search_progress = bool(options.progress)
    if linearization is not None:
        solver.parameters.linearization_level = int(linearization)
    if options.progress:  # the search log beside the progress bars, on stderr: stdout stays the caller's
        solver.parameters.log_to_stdout = False
        solver.log_callback = _to_stderr
    return solver


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _blame(problem: AssignmentProblem, options: SolverOptions) -> list[Conflict]:
    """Name the constraint families whose removal alone makes the problem feasible."""
    present = [f for f in CpsatModel.FAMILIES if f in problem.side.active()
               or (f == "locked" and np.any(problem.locked))]
    culprits = []
    for family in present:
        model = CpsatModel(problem, skip=frozenset([family]))
        status = make_solver(options, 5.0).solve(model.model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            culprits.append(family)
    if culprits:
        return [Conflict(
            "+".join(culprits),
            f"no assignment meets all of {', '.join(present)}; dropping any one of "
            f"{', '.join(culprits)} alone would make one possible",
            f"relax {' or '.join(culprits)}")]
    return [Conflict("+".join(present) or "capacity",
                     f"no assignment meets {', '.join(present) or 'the constraints'} together "
                     f"(CP-SAT proof); no single one of them is to blame",
                     "relax two or more of them")]


def infeasible_error(problem: AssignmentProblem, options: SolverOptions) -> InfeasibleError:
    found = [c for c in diagnose(problem) if c.constraint != "no_candidate"]
    if not any(("cannot take part" not in c.detail) for c in found):
        found += _blame(problem, options)
    return InfeasibleError(found)


def solve_cpsat(problem: AssignmentProblem, options: SolverOptions | None = None,
                bonus: np.ndarray | None = None) -> Solution:
    """Maximise the total score under capacities, demands, locks and every side constraint.

    See :mod:`mentormatch.solvers.cpsat_model` for the model and its integer scaling, and the
    module docstring for determinism.

    Parameters
    ----------
    problem : AssignmentProblem
    options : SolverOptions, optional
        ``seed`` (CP-SAT's random seed), ``time_limit`` in seconds (default 30; shared by the
        two solves of ``coverage_first``), ``progress`` (CP-SAT's log).
    bonus : ndarray, optional
        One number per pair, in the objective only (:mod:`mentormatch.pipeline.bonus`): the
        total maximised is ``score + bonus``, every constraint reads the plain scores. The
        returned ``objective`` and ``bound`` are then on ``score + bonus``.

    Returns
    -------
    Solution
        ``status`` is ``"optimal"`` only when CP-SAT proves optimality (for the scaled
        scores) and ``bound``, the rounding included, is within the 1e-6 gap
        (:data:`~mentormatch.solvers.base.OPTIMAL_GAP`) of the objective; else ``"feasible"``
        with ``bound``, ``gap`` and a message saying why. ``certificate``: ``scale``,
        ``rounding_bound``, ``load_scale``, ``cpsat_status``, ``matched`` (coverage_first).

    Raises
    ------
    InfeasibleError
        When CP-SAT proves that no assignment meets the constraints, with the findings of
        :func:`~mentormatch.solvers.diagnose.diagnose` (or the families to blame).
    TimeLimitError
        When the time limit passes before any assignment is found and neither the plain flow's
        assignment nor the locks alone meet every constraint (with either, that one is the
        answer, ``"feasible"`` with a bound: :func:`~mentormatch.solvers.fallback.stopped_answer`).

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([0.9, 0.5, 0.8, 0.1]),
    ...                       np.array([1.0, 1.0]))
    >>> sol = solve_cpsat(p)
    >>> sol.status, sol.chosen.tolist(), round(sol.objective, 3)
    ('optimal', [1, 2], 1.3)
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    limit = DEFAULT_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
    deadline = options.deadline(started, DEFAULT_TIME_LIMIT)  # (from pair()'s call when set)
    maximised = goal_problem(problem, bonus)  # its scores: the scores, or score + bonus
    cert: dict = {"method": "cp-sat", "num_workers": 1, "random_seed": int(options.seed)}
    start = _flow_start(maximised, options, started, limit)
    if start is not None:  # a plain problem: the flow's optimum (or its stop) is CP-SAT's hint
        cert["start"] = {"solver": "flow", "status": start.status, "objective": start.objective,
                         "bound": start.bound}
        if time.perf_counter() >= deadline:  # no CP-SAT model is built or solved past the deadline
            return _from_start(maximised, problem, start, None, None, started, cert, limit)
    elif no_time_to_build(problem, deadline):  # nor with side constraints: an assignment
        return _stopped(problem, maximised, started, limit)  # known to meet them, else the time-out
    built = CpsatModel(problem, bonus=bonus, scale=objective_scale(maximised))
    model = built.model
    goal = built.objective
    cert.update(scale=built.scale, load_scale=built.load_scale)
    proven = True
    if start is not None:
        built.hint(start.chosen)
    hint = _balanced_hint(problem, built) if problem.side.balanced_load else None
    if hint is not None:
        built.hint(hint)
        loads = np.bincount(problem.pairs.mentor[hint], minlength=problem.n_mentors)
        for j, v in enumerate(built.active):
            model.add_hint(v, bool(loads[j] > 0))
        cert["hint"] = "balanced flow"

    if problem.coverage_first:
        matched = cp_model.LinearExpr.sum([v for v in built.matched() if not isinstance(v, int)])
        model.maximize(matched)
        solver = make_solver(options, deadline - time.perf_counter(), COVER_LINEARIZATION)
        status = solver.solve(model)
        if status == cp_model.INFEASIBLE:
            raise infeasible_error(problem, options)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if hint is not None:
                return _hinted(maximised, hint, started, cert, limit)
            if start is not None:
                return _from_start(maximised, problem, start, None, None, started, cert, limit)
            return _stopped(problem, maximised, started, limit)
        best = int(round(solver.objective_value))
        proven = status == cp_model.OPTIMAL
        cert["matched"] = best
        first = built.chosen(solver)
        model.add(matched >= best)
        built.hint(first)

    model.maximize(built.score_expr())
    solver = make_solver(options, deadline - time.perf_counter())
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise infeasible_error(problem, options)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if problem.coverage_first:  # the first stage's assignment is still feasible
            chosen, status = first, cp_model.FEASIBLE
        elif hint is not None:
            return _hinted(maximised, hint, started, cert, limit)
        elif start is not None:
            return _from_start(maximised, problem, start, None, None, started, cert, limit)
        else:
            return _stopped(problem, maximised, started, limit)
    else:
        chosen = built.chosen(solver)
    cert["cpsat_status"] = solver.status_name(status)
    cert["rounding_bound"] = 0.0 if exact_at(goal, built.scale) else built.n_max / built.scale
    bound = None  # the count was not proven maximal: no bound for the lexicographic goal
    if proven:
        bound = solver.best_objective_bound / built.scale
        if cert["rounding_bound"]:
            bound += 0.5 * built.n_max / built.scale
        elif status == cp_model.OPTIMAL:
            bound = float(goal[chosen].sum())
    if start is not None:  # the flow's answer where better, its bound where lower
        return _from_start(maximised, problem, start, chosen, bound, started, cert, limit,
                           solved=proven and status == cp_model.OPTIMAL)
    # "optimal" only within the gap: CP-SAT's proof holds for the rounded scores, and their
    # rounding bound can exceed the gap (scores far below the integer step)
    solved = proven and status == cp_model.OPTIMAL
    value = float(goal[chosen].sum()) if len(chosen) else 0.0
    optimal = solved and bound - value <= OPTIMAL_GAP * max(abs(bound), 1e-12)
    if not solved:  # the time limit ended it
        cert["timed_out"] = True
    message = ("" if optimal else
               f"CP-SAT stopped at the time limit ({limit:g} s) without a proof" if not solved else
               f"CP-SAT's proof holds for the scores rounded to multiples of 1/{built.scale:.6g}: "
               f"the optimum is at most {bound:.6g}, the assignment found is worth {value:.6g}")
    return finish(maximised, chosen, "optimal" if optimal else "feasible", started, "cpsat",
                  bound=bound, certificate=cert, message=message)


def goal_problem(problem: AssignmentProblem, bonus: np.ndarray | None) -> AssignmentProblem:
    """``problem`` with the scores its objective reads (``score + bonus``; ``problem`` itself
    when ``bonus`` is None): the answer's objective of CP-SAT and the fairness solvers, whose
    side constraints read the plain scores.

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(1, 2), np.array([0.5, 0.25]), np.ones(2))
    >>> goal_problem(p, None) is p, goal_problem(p, np.array([0.0, 1.0])).score.tolist()
    (True, [0.5, 1.25])
    """
    import dataclasses

    return problem if bonus is None else dataclasses.replace(
        problem, score=problem.score + np.asarray(bonus, np.float64))


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


register("cpsat", solve_cpsat)
