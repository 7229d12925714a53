"""An objective bonus (priority, continuity) with one meaning on every pair source: on a held
problem (the complete candidate set, or a scale-path round's every eligible pair),
:func:`solve_with_bonus`; on blocks and bounds, :func:`plan_bonus`.

The bonus enters the **objective only**; every constraint reads the plain scores:

* the engine (``"mip"``) gets the bonus apart, as the scale path passes it
  (:func:`mentormatch.solvers.engine.solve_source`'s ``bonus``): the reservation values'
  success probabilities and the group score floors read the scores, the objective is
  ``score + bonus``. Except under ``coverage_first`` with no side row, unit loads and whole
  capacities (:func:`engine_apart`), where no constraint reads the scores: there the engine
  is run on ``score + bonus`` on every source, as it runs without a bonus (on blocks and
  bounds the bonus folded into the scorer, :mod:`mentormatch.solvers.bonus`; on held pairs
  the pairs read as rows, :func:`mentormatch.solvers.sources.block_scorer`: on every source
  its shortcut, the certified flow counting mentees);
* the solvers that model side constraints (:data:`MODEL_SIDE`: CP-SAT, and max-min and
  leximin, whose steps under side constraints are CP-SAT's) get the bonus apart too
  (their ``bonus`` argument): CP-SAT's model reads the plain scores in its constraints
  (reservation values, score floors) and ``score + bonus`` in its objective (the total;
  max-min's worst ``score + bonus``, then the total ``score + bonus``; leximin's sorted vector
  of ``score + bonus``); on a plain problem their flows run on ``score + bonus``, as the scale
  path's flows on a scorer with the bonus folded in (:mod:`mentormatch.solvers.bonus`);
* every other solver is run on ``score + bonus`` (a flow, Hungarian, stable, the baselines),
  which is the same thing: they refuse side constraints, so no constraint reads the scores.

What the result reports, the same on every source: the pairs' plain ``score``; ``objective``
the total plain score of the chosen pairs; ``bound`` and ``gap`` None (a bound on
``score + bonus`` says nothing about the plain total); ``status`` refers to the objective
``score + bonus``; ``certificate["objective"] == "score + bonus"``, with
``certificate["adjusted_objective"]`` (the total score + bonus of the chosen pairs, what was
maximised), ``certificate["adjusted_bound"]`` (its bound, None where the solver keeps none)
and ``certificate["bonus_total"]``.

On the scale path the same choice is made once, up front, by :func:`plan_bonus`: a
:class:`BonusPlan` says whether the bonus is folded into the scorer (the certified flows,
stable), taken apart by the engine, or left to :func:`solve_with_bonus` on every eligible
pair held (CP-SAT's models); :meth:`BonusPlan.report` then reports the answer as above.
"""
from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from ..errors import InfeasibleError
from ..solvers import AssignmentProblem, Solution, SolverOptions
from ..solvers.base import PairBonus
from .wrap import _solve, labelled

#: The solvers besides the engine that model side constraints (CP-SAT's model): they take the
#: bonus apart (their ``bonus`` argument). The others refuse side constraints.
MODEL_SIDE = ("cpsat", "maxmin", "leximin")


def engine_apart(solver: str, coverage_first: bool, free: bool) -> bool:
    """Whether the engine takes the bonus apart from the scores, on every source: for
    ``"mip"``, except under ``coverage_first`` on a ``free`` problem (no side row, unit loads,
    whole capacities), where it solves ``score + bonus`` by its certified flow counting mentees.
    (``"flow"`` is never taken apart: the rules hand a problem that is not free to ``"mip"``.)"""
    return solver == "mip" and not (coverage_first and free)


@dataclasses.dataclass(frozen=True)
class BonusPlan:
    """How a scale-path round applies its objective bonus, decided before solving
    (:func:`plan_bonus`).

    ``how``: ``"none"`` (no bonus); ``"folded"``: the solver reads ``score + bonus`` (the
    scorer wrapped, :meth:`scorer`; its answer's scores are made plain again by
    :meth:`plain_scores`); ``"apart"``: the engine gets the bonus as a term of its objective
    (:meth:`engine_term`); ``"held"``: every eligible pair is held and :func:`solve_with_bonus`
    solves and reports, as on the complete set."""

    bonus: PairBonus | None
    how: Literal["none", "folded", "apart", "held"]

    def scorer(self, scorer, n_mentors: int):
        """The scorer the solver reads: ``scorer``, or with the bonus folded in."""
        if self.how != "folded":
            return scorer
        from ..solvers.bonus import BonusBlocks, BonusBounds

        blocks = hasattr(scorer, "evaluate")  # a block scorer (large._BlockScorer), else bounds
        return (BonusBlocks(scorer, self.bonus, n_mentors) if blocks
                else BonusBounds(scorer, self.bonus))

    def engine_term(self):
        """The engine's ``bonus`` argument: ``(mentee, mentor) -> bonus`` when apart, else None."""
        return self.bonus.on_pairs if self.how == "apart" else None

    def plain_scores(self, problem: AssignmentProblem) -> AssignmentProblem:
        """``problem`` as the solver returned it, with its plain scores (folded: less the bonus)."""
        if self.how != "folded":
            return problem
        extra = self.bonus.on_pairs(problem.pairs.mentee, problem.pairs.mentor)
        return dataclasses.replace(problem, score=problem.score - extra)

    def report(self, problem: AssignmentProblem, solution: Solution) -> Solution:
        """The answer on ``problem`` (plain scores) reported as on every source (module
        docstring); ``"held"`` answers are reported already."""
        if self.how not in ("folded", "apart"):
            return solution
        ch = solution.chosen
        extra = np.zeros(len(problem.pairs))
        extra[ch] = self.bonus.on_pairs(problem.pairs.mentee[ch], problem.pairs.mentor[ch])
        return _report_plain(problem, extra, solution)


def plan_bonus(bonus: PairBonus | None, solver: str, *, coverage_first: bool,
               free: bool) -> BonusPlan:
    """The scale path's :class:`BonusPlan` for ``solver``. ``free``: no side row, unit loads
    and whole capacities (the certified flows' problems). The bonus is additive
    (``pipeline.solve`` refuses ``PairBonus.scale_mentee``), so folding it is the same
    objective wherever no constraint reads the scores:

    * the engine (``"flow"`` with ``coverage_first``, ``"mip"``): apart where
      :func:`engine_apart` says so, else folded;
    * the plain flow, max-min and leximin on a free problem (certified flows) and
      ``"stable"`` (its preferences): folded;
    * any other solver (CP-SAT's models, the baselines): held.

    >>> plan_bonus(PairBonus(per_mentee=np.ones(2)), "mip", coverage_first=True, free=True).how
    'folded'
    >>> plan_bonus(PairBonus(per_mentee=np.ones(2)), "mip", coverage_first=False, free=True).how
    'apart'
    """
    if bonus is None:
        return BonusPlan(None, "none")
    if engine_apart(solver, coverage_first, free):
        return BonusPlan(bonus, "apart")
    if solver in ("flow", "mip", "stable") or (free and solver in ("maxmin", "leximin")):
        return BonusPlan(bonus, "folded")
    return BonusPlan(bonus, "held")


def solve_with_bonus(problem: AssignmentProblem, bonus: np.ndarray, solver: str,
                     options: SolverOptions, labels=None) -> Solution:
    """Solve ``problem`` (plain scores) with ``bonus`` (one number per pair of ``problem``) in
    the objective only: see the module docstring. ``chosen`` refers to ``problem``'s pairs;
    ``objective`` is their plain total; ``labels`` as :func:`mentormatch.pipeline.wrap._solve`.
    """
    bonus = np.asarray(bonus, dtype=np.float64)
    free = problem.integral and not problem.side.active()
    if engine_apart(solver, problem.coverage_first, free):
        sol = _engine_apart(problem, bonus, options, labels)
    elif solver in MODEL_SIDE:
        sol = _model_apart(problem, bonus, solver, options, labels)
    else:
        adjusted = dataclasses.replace(problem, score=problem.score + bonus)
        sol = _solve(adjusted, solver, options, labels)
    return _report_plain(problem, bonus, sol)


def _model_apart(problem: AssignmentProblem, bonus: np.ndarray, solver: str,
                 options: SolverOptions, labels) -> Solution:
    """A solver of :data:`MODEL_SIDE` with the bonus apart (its ``bonus`` argument), an
    infeasibility named by people and the tie rule for alike people on ``score + bonus``, as
    ``_solve`` does for the solver without one."""
    from ..solvers import alike
    from ..solvers.cpsat import solve_cpsat
    from ..solvers.fair import solve_maxmin
    from ..solvers.leximin import solve_leximin

    solve = {"cpsat": solve_cpsat, "maxmin": solve_maxmin, "leximin": solve_leximin}[solver]
    try:
        sol = solve(problem, options, bonus)
    except InfeasibleError as e:
        raise labelled(problem, labels, e) from None
    if alike.applies(solver, problem):
        sol = alike.apply(problem, sol, score=problem.score + bonus)
    return sol


def _engine_apart(problem: AssignmentProblem, bonus: np.ndarray, options: SolverOptions,
                  labels) -> Solution:
    """The engine on the held pairs with the bonus apart (as ``engine.solve_mip`` runs it
    without one), then the tie rule for alike people on ``score + bonus``, as ``_solve`` does
    for the engine's answers."""
    import time

    from ..solvers import alike, engine
    from ..solvers.base import SEARCH_TIME_LIMIT

    # the blaming re-solves share the caller's limit (from pair()'s call when set)
    deadline = options.deadline(time.perf_counter(), SEARCH_TIME_LIMIT)
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
