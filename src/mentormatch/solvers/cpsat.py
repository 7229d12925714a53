"""Exact assignment with side constraints, by OR-Tools CP-SAT.

The model and its integer scaling (scores, loads and capacities, stipends, the score floor's
fraction) are in :mod:`mentormatch.solvers.cpsat_model`; this module solves it.

Determinism: one search worker (``num_workers=1``) and ``random_seed = options.seed``, so
the same inputs give the same pairs, unless the time limit (``options.time_limit``, default
:data:`~mentormatch.solvers.base.SEARCH_TIME_LIMIT`, 60 s: CP-SAT is a search) stops it
first, in which case the status is ``"feasible"`` and the result depends on the machine's
speed. One worker was chosen over ``interleave_search`` because the target
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

from ..errors import Conflict, InfeasibleError
from . import register
from .base import OPTIMAL_GAP, SEARCH_TIME_LIMIT, AssignmentProblem, Solution, SolverOptions, finish
from .cpsat_model import CpsatModel, exact_at, objective_scale, score_scale
from .cpsat_start import _balanced_hint, _flow_start, _from_start, _hinted, _stopped
from .diagnose import diagnose

__all__ = ["solve_cpsat", "CpsatModel", "score_scale", "goal_problem",
           "no_time_to_build"]

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
        ``seed`` (CP-SAT's random seed), ``time_limit`` in seconds (default 60,
        ``SEARCH_TIME_LIMIT``; shared by the two solves of ``coverage_first``), ``progress``
        (CP-SAT's log).
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
    limit = SEARCH_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
    deadline = options.deadline(started, SEARCH_TIME_LIMIT)  # (from pair()'s call when set)
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


register("cpsat", solve_cpsat)
