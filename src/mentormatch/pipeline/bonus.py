"""An objective bonus on a held problem (the complete candidate set, or a scale-path round's
every eligible pair), solved with the same meaning as on blocks and bounds.

The bonus enters the **objective only**; every constraint reads the plain scores:

* the engine (``"mip"``) gets the bonus apart, as the scale path passes it
  (:func:`mentormatch.solvers.engine.solve_source`'s ``bonus``): the reservation values'
  success probabilities and the group score floors read the scores, the objective is
  ``score + bonus``. (With no side row, the scale path folds the bonus into its scorer for
  ``coverage_first`` instead, :mod:`mentormatch.solvers.bonus`: the same objective, as no
  constraint reads the scores);
* every other solver is run on ``score + bonus`` (a flow, Hungarian, max-min, leximin, CP-SAT,
  stable, the baselines), which is the same thing when no constraint reads the scores. Max-min
  then maximises the worst ``score + bonus`` and then the total ``score + bonus``, as the
  scale path's flows on a scorer with the bonus folded in
  (:mod:`mentormatch.solvers.bonus`). With a constraint that reads the scores (incentives'
  reservation values with a bonus per success, a score floor) those solvers would read the
  bonus as score, so those that model side constraints (:data:`MODEL_SIDE`: CP-SAT, and
  max-min and leximin, whose steps under side constraints are CP-SAT's) raise ``ValueError``,
  naming ``"mip"`` for CP-SAT; the other solvers refuse side constraints themselves.

What the result reports, the same on every source: the pairs' plain ``score``; ``objective``
the total plain score of the chosen pairs; ``bound`` and ``gap`` None (a bound on
``score + bonus`` says nothing about the plain total); ``status`` refers to the objective
``score + bonus``; ``certificate["objective"] == "score + bonus"``, with
``certificate["adjusted_objective"]`` (the total score + bonus of the chosen pairs, what was
maximised), ``certificate["adjusted_bound"]`` (its bound, None where the solver keeps none)
and ``certificate["bonus_total"]``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InfeasibleError
from ..solvers import AssignmentProblem, Solution, SolverOptions
from .wrap import _solve, labelled

#: The solvers besides the engine that model side constraints (CP-SAT's model): they read the
#: scores they are given in those constraints too. The others refuse side constraints.
MODEL_SIDE = ("cpsat", "maxmin", "leximin")


def reads_scores(problem: AssignmentProblem) -> list[str]:
    """The side constraints of ``problem`` that read the pairs' scores: score floors, and
    reservation values where some mentor has a bonus per success (else the payoff reads no
    score)."""
    side = problem.side
    out = []
    if side.reservation is not None and side.bonus is not None and np.any(np.asarray(side.bonus) > 0):
        out.append("reservation")
    if side.score_floor is not None:
        out.append("score_floor")
    return out


def solve_with_bonus(problem: AssignmentProblem, bonus: np.ndarray, solver: str,
                     options: SolverOptions, labels=None) -> Solution:
    """Solve ``problem`` (plain scores) with ``bonus`` (one number per pair of ``problem``) in
    the objective only: see the module docstring. ``chosen`` refers to ``problem``'s pairs;
    ``objective`` is their plain total; ``labels`` as :func:`mentormatch.pipeline.wrap._solve`.
    """
    bonus = np.asarray(bonus, dtype=np.float64)
    if solver == "mip":
        sol = _engine_apart(problem, bonus, options, labels)
    else:
        reading = reads_scores(problem) if solver in MODEL_SIDE else []
        if reading:
            fix = ("use solver 'mip' (the default for side constraints), which keeps the bonus in "
                   "the objective" if solver == "cpsat" else
                   f"no engine takes {solver} with a bonus apart: drop the bonus (priority_weight "
                   f"= 0, no continuity) or {' and '.join(reading)} for this round")
            raise ValueError(
                f"solver {solver!r} with an objective bonus (priority, continuity) and "
                f"{' and '.join(reading)}: its model would count the bonus as score in "
                f"{'that constraint' if len(reading) == 1 else 'those constraints'}; {fix}")
        adjusted = dataclasses.replace(problem, score=problem.score + bonus)
        sol = _solve(adjusted, solver, options, labels)
    return _report_plain(problem, bonus, sol)


def _engine_apart(problem: AssignmentProblem, bonus: np.ndarray, options: SolverOptions,
                  labels) -> Solution:
    """The engine on the held pairs with the bonus apart (as ``engine.solve_mip`` runs it
    without one), then the tie rule for alike people on ``score + bonus``, as ``_solve`` does
    for the engine's answers."""
    import time

    from ..solvers import alike, engine

    limit = engine.DEFAULT_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
    deadline = time.perf_counter() + limit  # the blaming re-solves share the caller's limit
    try:
        sol = engine._solve_problem(problem, options, bonus=bonus)
    except InfeasibleError as e:
        # a bonus changes no feasibility: the error the plain solve raises (the diagnosis, the
        # families to blame, then people's ids), without solving again
        raise labelled(problem, labels, engine._diagnosis(problem, e, options, deadline)) from None
    if alike.applies("mip", problem):
        sol = alike.apply(problem, sol, score=problem.score + bonus)
    return sol


def _report_plain(problem: AssignmentProblem, bonus: np.ndarray, sol: Solution) -> Solution:
    """The solution with its plain objective and the certificate's bonus keys (module
    docstring)."""
    chosen = sol.chosen
    cert = dict(sol.certificate or {})
    if cert.get("objective") != "score + bonus":  # a solver run on score + bonus: its bound is
        cert["adjusted_bound"] = sol.bound         # the adjusted one
    cert.update(objective="score + bonus", adjusted_objective=float((problem.score + bonus)[chosen].sum()),
                bonus_total=float(bonus[chosen].sum()))
    return dataclasses.replace(sol, objective=float(problem.score[chosen].sum()), bound=None, certificate=cert)
