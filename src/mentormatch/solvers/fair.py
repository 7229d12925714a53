"""Max-min fairness (``"maxmin"``), and what it shares with leximin
(:mod:`mentormatch.solvers.leximin`): the test for a plain problem, the places the locks leave,
and the CP-SAT steps with one time budget.

Both first match as many pairs as possible, then care for the worst-off pair.

**maxmin** solves the lexicographic problem

1. ``M = max sum_k x[k]`` over the feasible assignments (capacities, demands, locks);
2. ``t = max min{score[k] : x[k] = 1}`` over the assignments with ``M`` pairs;
3. ``max sum_k score[k] x[k]`` over the assignments with ``M`` pairs, all of score ``>= t``.

On plain problems (unit loads, no side constraints) the three steps are certified min-cost
flows on ``s + W [s >= t]`` (:func:`mentormatch.solvers.bottleneck.solve_held`: the threshold ``t``
guessed from the pairs the flows held and proven by a flow just above it, bisection after
guesses that miss; then the flow at the max-min score), the same flows as on
the scale path's pair sources, so the documented tie rule picks the same pairs at every size.
With fractional loads or side constraints the same three steps are CP-SAT solves on the model of
:class:`~mentormatch.solvers.cpsat_model.CpsatModel`.

With demands above one, the threshold runs over pairs, not mentees. The status is
``"optimal"`` when every step was proven optimal.

**What every answer carries** (s24). The certificate's ``count_bound``, ``threshold_bound`` and
``total_bound``, and ``bound`` = ``total_bound`` (so ``gap`` is the total's), as on the pair
source's route: :func:`mentormatch.solvers.fair_claims.with_claims` states them once. When the
time limit stops the search before it found an assignment (CP-SAT's first step, or a first flow
that never ran), the answer is one known to meet every constraint without a search (the plain
flow's, else the locks alone: :func:`mentormatch.solvers.fallback.stopped_answer`),
``"feasible"``; ``TimeLimitError`` only when neither meets them.

**CP-SAT's integers.** The steps read the scores at :func:`~mentormatch.solvers.cpsat_model.
objective_scale`'s ``S`` (exact when a power of ten up to ``10**6`` makes them whole, else in
the engine's unit, so scores times ``2**k`` give the same integers or proportional ones). Where
``S`` is not exact, CP-SAT's proof holds for the rounded scores. Max-min's worst pair reads
the levels of :func:`~mentormatch.solvers.cpsat_levels.levels`: ``S``'s integers, with a level
split at 30 significant bits where ``1/S`` is not within the gap of its least value (scores of
mixed magnitudes, 6.2e-9 beside 0.5). The levels are monotone, so the best worst pair ``t*``
(the value of some pair) is at most the largest value at the proven best level ``z``, and the
best total among the assignments that reach it is at most the proven rounded total
``/ S + n_max / (2 S)``. The answer is ``"optimal"`` only when both bounds are within the
1e-6 gap (:data:`~mentormatch.solvers.base.OPTIMAL_GAP`) of what it reaches; the certificate
keeps them (``threshold_bound``, ``total_bound``).

**An objective bonus** (priority, continuity: :mod:`mentormatch.pipeline.bonus`) given as
``bonus`` (one number per pair) is in the objective only: steps 2 and 3 read ``score + bonus``
(the worst ``score + bonus``, then the total), every side constraint the plain scores. On plain
problems no constraint reads the scores, and the flows run on ``score + bonus``.

**coverage_first.** The most matched mentees first, then the three steps among those
assignments. With every demand at most one, pairs are mentees and step 1 does it. With a mentee
needing several mentors (pairs A-X 0.9, A-Y 0.8, B-X 0.2, A needing 2, capacities 1: the most
pairs are A-X and A-Y, leaving B unmatched; coverage first takes A-Y and B-X), the plain case's
flows count mentees (:mod:`mentormatch.solvers.bottleneck`, "coverage_first"), and CP-SAT's
steps (side constraints, fractional loads; leximin's too) start with a solve maximising the
matched mentees, whose count is then a constraint. Leximin's flows count mentees as well
(:mod:`mentormatch.solvers.leximin`). So coverage_first is honoured by both objectives with
any constraints, at every size.
"""
from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from ..errors import InfeasibleError, TimeLimitError
from . import register
from .base import SEARCH_TIME_LIMIT, AssignmentProblem, Solution, SolverOptions, finish, proven
from .cpsat import (COVER_LINEARIZATION, goal_problem, infeasible_error, make_solver,
                    no_time_to_build)
from .cpsat_start import timeout_error
from .cpsat_levels import levels, within_gap
from .cpsat_model import CpsatModel, exact_at, open_pairs
from .diagnose import diagnose

__all__ = ["solve_maxmin"]


def plain_problem(problem: AssignmentProblem) -> bool:
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


def _flow_maxmin(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """The plain case by the certified flows on ``s + W [s >= t]`` of
    :mod:`mentormatch.solvers.bottleneck`, the same as on the scale path's sources, so the tie
    rule picks the same pairs whatever the source; locks that cannot hold are diagnosed first."""
    from .bottleneck import solve_held

    _left_by_locks(problem)
    return solve_held(problem, options)


def answered(problem: AssignmentProblem, options: SolverOptions, bonus, solver: str, flows,
             cpsat) -> Solution:
    """Max-min's or leximin's answer (``solver``): ``flows(goal, started)`` on a plain problem (``goal``:
    the pairs scored as the objective reads them), else ``cpsat(started)``; then what every
    answer carries (module docstring, "What every answer carries"): when the time limit stopped
    the search with no pair while an assignment meeting every constraint is known, that one
    (more pairs come first in both objectives), and the bounds of
    :func:`~mentormatch.solvers.fair_claims.with_claims`."""
    from .fair_claims import with_claims
    from .fallback import stopped_answer

    started = time.perf_counter()
    goal = goal_problem(problem, bonus)
    limit = SEARCH_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
    try:
        sol = flows(goal, started) if plain_problem(problem) else cpsat(started)
    except TimeLimitError as e:  # nothing found in time: an assignment known to meet every row
        sol = stopped_answer(problem, goal, started, solver, limit, e, "in CP-SAT's first step")
    cert = sol.certificate or {}
    if not len(sol.chosen) and cert.get("timed_out") and len(problem.pairs):
        try:  # (a first flow that never ran)
            alt = stopped_answer(problem, goal, started, solver, limit, RuntimeError(),
                                 "in its first step")
            sol = alt if len(alt.chosen) else sol
        except RuntimeError:
            pass
    return with_claims(problem, goal, sol, solver)


class CpRun:
    """CP-SAT steps shared by max-min and leximin, with one time budget: the time limit is
    their only stop (CP-SAT, on one thread with a fixed seed, gives the same answer on any
    machine unless the time limit stops it), and when it ends a step short of a proof, or
    leaves a step unrun, ``timed_out`` is set."""

    def __init__(self, problem: AssignmentProblem, options: SolverOptions, started: float,
                 bonus: np.ndarray | None = None):
        self.problem, self.options, self.started = problem, options, started
        self.limit = SEARCH_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
        self.deadline = options.deadline(started, SEARCH_TIME_LIMIT)  # (messages quote the limit)
        if no_time_to_build(problem, self.deadline):  # (400 x 100: 0.5 s of CPU building a
            raise timeout_error(self.limit)  # model after a limit of 1e-6 s)
        self.built = CpsatModel(problem, bonus=bonus)  # levels on score + bonus, rows on score
        self.exact = exact_at(self.built.objective, self.built.scale)
        self.proven = True
        self.timed_out = False  # the time limit ended a step unproven, or left one unrun
        self.covered = None  # coverage_first's most matched mentees (demands above one)

    def run(self, objective, maximise: bool, linearization: int | None = None):
        model = self.built.model
        (model.maximize if maximise else model.minimize)(objective)
        solver = make_solver(self.options, self.deadline - time.perf_counter(), linearization)
        status = solver.solve(model)
        if status == cp_model.INFEASIBLE:
            raise infeasible_error(self.problem, self.options)
        if status != cp_model.OPTIMAL:  # CP-SAT's only limit is the time
            self.timed_out = True
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, None
        self.proven &= status == cp_model.OPTIMAL
        chosen = self.built.chosen(solver)
        self.built.hint(chosen)
        return int(round(solver.objective_value)), chosen

    def max_cover(self) -> None:
        """``coverage_first`` with a mentee needing several mentors: a first solve maximising
        the matched mentees, whose count is then a constraint (module docstring). With every
        demand at most one a pair is a mentee, and :meth:`max_count` does it."""
        p = self.problem
        if not p.coverage_first or not np.any(np.asarray(p.demand) > 1):
            return
        terms = [v for v in self.built.matched() if not isinstance(v, int)]
        covered, _ = self.run(cp_model.LinearExpr.sum(terms), True, linearization=COVER_LINEARIZATION)
        if covered is None:
            raise timeout_error(self.limit)
        self.built.model.add(cp_model.LinearExpr.sum(terms) >= covered)
        self.covered = covered

    def max_count(self):
        """The most pairs (after the most mentees under ``coverage_first``), then fixed."""
        self.max_cover()
        x = self.built.x
        count, chosen = self.run(cp_model.LinearExpr.sum(x), True)
        if count is None:
            raise timeout_error(self.limit)
        self.built.model.add(cp_model.LinearExpr.sum(x) >= count)
        return count, chosen

    def out_of_time(self) -> bool:
        """True when the time limit has passed (recorded: a step it leaves unrun is cut)."""
        if time.perf_counter() >= self.deadline:
            self.timed_out = True
            return True
        return False


#: The finer total's integers stay below ``2**TOTAL_BITS`` summed over every allowed pair.
TOTAL_BITS = 50


def _finer_total(cp: "CpRun", allowed: np.ndarray):
    """Max-min's total again at a finer scale when the first one's rounding bound
    (``n_max / (2 S)``) is not within the gap of the total found (a worst pair far below the
    largest score: the threshold holds the total down): the scale ``S2``, a power of two, as
    fine as keeps the most pairs' sum of the ``allowed`` pairs' integers under
    ``2**TOTAL_BITS``; the pairs below the threshold get no weight (never chosen). ``(chosen,
    bound)`` when proven, None when no finer scale exists or the time limit ended it."""
    b = cp.built
    room = allowed & open_pairs(cp.problem)
    weight = float(np.sum(np.abs(b.objective[room])))  # CP-SAT checks the sum of every coefficient
    if weight <= 0:
        return None
    fine = 2.0 ** np.floor(np.log2(2.0 ** TOTAL_BITS / weight))
    if fine <= b.scale:
        return None
    sc = np.where(room, np.round(b.objective * fine), 0).astype(np.int64)
    total, found = cp.run(cp_model.LinearExpr.weighted_sum(b.x, sc.tolist()), True)
    if total is None or not cp.proven:
        return None
    exact = exact_at(b.objective[room], fine)
    return found, float(b.objective[found].sum() if exact else total / fine + 0.5 * b.n_max / fine)


def _cp_maxmin(problem: AssignmentProblem, options: SolverOptions, started: float,
               bonus: np.ndarray | None = None) -> Solution:
    """The three steps by CP-SAT: ``"optimal"`` when each ran and was proven (however long
    they took) and, where the scores are rounded, their bounds are within the gap (module
    docstring); else ``"feasible"``, with ``certificate["timed_out"]`` True and the message
    saying that the time limit stopped it (CP-SAT's only limit), or the bounds the rounding
    leaves."""
    cp = CpRun(problem, options, started, bonus)
    b = cp.built
    goal = b.objective
    count, chosen = cp.max_count()
    threshold_bound = total_bound = None
    if count:
        best_z = total = None
        lv = levels(b)  # the scale's integers, split where too coarse for the worst pair
        if not cp.out_of_time():
            z = b.model.new_int_var(int(lv.key.min()), int(lv.key.max()), "z")
            for k, v in enumerate(b.x):
                b.model.add(z <= int(lv.key[k])).only_enforce_if(v)
            best_z, found = cp.run(z, True)
        if best_z is not None:
            chosen = found
            b.model.add(z >= best_z)
            if not cp.out_of_time():
                total, found = cp.run(b.score_expr(), True)
                if total is not None:
                    chosen = found
        cp.proven &= total is not None  # a step left unrun or unfinished proves nothing
        if cp.proven:  # the rounding's bounds (module docstring); exact scores: the values
            # t* is the value of some pair at the best key (keys are monotone): at most the
            # largest value there
            at_best = (lv.key == best_z) & open_pairs(problem)
            threshold_bound = (float(goal[chosen].min()) if cp.exact
                               else float(goal[at_best].max()))
            total_bound = (float(goal[chosen].sum()) if cp.exact
                           else total / b.scale + 0.5 * b.n_max / b.scale)
            if not proven(total_bound, float(goal[chosen].sum())) and not cp.out_of_time():
                finer = _finer_total(cp, lv.key >= best_z)
                if finer is not None:
                    chosen, total_bound = finer
    worst = float(goal[chosen].min()) if len(chosen) else None
    value = float(goal[chosen].sum()) if len(chosen) else 0.0
    within = (not len(chosen) or cp.exact
              or (threshold_bound is not None and bool(within_gap(worst, threshold_bound - worst))
                  and proven(total_bound, value)))
    optimal = cp.proven and within
    message = ("" if optimal else
               f"stopped at the time limit ({cp.limit:g} s) before the three steps were proven"
               if not cp.proven else
               f"CP-SAT's proof holds for the scores rounded to multiples of 1/{b.scale:.6g}: "
               f"the best worst pair is at most {threshold_bound:.6g} (found {worst:.6g}), the "
               f"best total at most {total_bound:.6g} (found {value:.6g})")
    cert = {"method": "CP-SAT, three lexicographic solves"
                      + ("" if cp.covered is None else " after one maximising the matched mentees"),
            "threshold": worst, "threshold_bound": threshold_bound, "total_bound": total_bound,
            "matched": int(len(chosen)), "scale": b.scale,
            "rounding": 0.0 if cp.exact else 1.0 / b.scale, "timed_out": cp.timed_out,
            "message": message}
    return finish(goal_problem(problem, bonus), chosen, "optimal" if optimal else "feasible",
                  started, "maxmin", certificate=cert, message=message)


def solve_maxmin(problem: AssignmentProblem, options: SolverOptions | None = None,
                 bonus: np.ndarray | None = None) -> Solution:
    """Solver ``"maxmin"``: most pairs, then the best worst pair, then the best total.

    See the module docstring for the problem and the method.

    Parameters
    ----------
    problem : AssignmentProblem
    options : SolverOptions, optional
    bonus : ndarray, optional
        One number per pair, in the objective only: the worst ``score + bonus``, then the
        total ``score + bonus`` are maximised; every side constraint reads the plain scores.
        The returned ``objective`` is then on ``score + bonus``.

    Returns
    -------
    Solution
        ``certificate["threshold"]`` is the lowest chosen score (``score + bonus``),
        ``certificate["matched"]`` the number of chosen pairs; ``count_bound``,
        ``threshold_bound``, ``total_bound`` (= ``bound``) hold over every assignment.

    Raises
    ------
    InfeasibleError
        When the locks or side constraints cannot hold, with the diagnosis.
    TimeLimitError
        When the time limit passes before any assignment is found and none is known to meet
        every constraint (module docstring, "What every answer carries").

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
    # no constraint reads the scores of a plain problem: the flows on score + bonus
    return answered(problem, options, bonus, "maxmin", lambda goal, started: _flow_maxmin(goal, options),
                    lambda started: _cp_maxmin(problem, options, started, bonus))


register("maxmin", solve_maxmin)
