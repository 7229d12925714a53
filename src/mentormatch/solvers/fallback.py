"""What a solve stopped by its time limit answers when its search found nothing in time: an
assignment known to meet every constraint without a search, and a bound that needs no solve.

Issue 23: "A time limit returns the best feasible assignment found, with its bound and gap".
Two steps need no search and take milliseconds on a held problem:

* **the plain flow** (:func:`plain_flow`): the min-cost flow over each mentee's best
  ``FALLBACK_K`` pairs (``max(FALLBACK_K, 2 x the largest demand)``) and the locks, with the
  capacities in whole places (``floor(capacity / heaviest load)``, so any loads fit) and the
  demands the locks leave. Kept when it meets every side row, recomputed from the definitions
  (:func:`mentormatch.solvers.linear_rows.violations`); under a stipend budget, else the same
  flow within the places the budget buys (:func:`mentormatch.solvers.fair_bounds.knapsack_plan`);
  else the locks alone when they do (:func:`known_feasible`). With a share floor the empty assignment never meets it, and the plain
  optimum often does: before, a share floor at a short limit raised ``TimeLimitError`` where this
  assignment was at hand.
* **a bound over every pair** (:func:`no_solve_bound`): any assignment that meets the capacities
  and demands is worth at most the sum of each mentee's ``min(d_i, e_i)`` best scores
  (``e_i`` its eligible pairs; each at ``max(0, .)``), and at most the same over mentors (each
  its most mentees' worth); the least of the two
  (:func:`mentormatch.solvers.fair_bounds.total_bound`). Side constraints only remove assignments, so it bounds
  every objective's total (max-min's and leximin's included, whose optimum is one assignment).

>>> from mentormatch.pairs import Candidates
>>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([0.9, 0.5, 0.8, 0.1]), np.ones(2))
>>> sorted(plain_flow(p).tolist()), no_solve_bound(p)
([1, 2], 1.4)
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .base import AssignmentProblem, Solution

__all__ = ["FALLBACK_K", "figures_bound", "flow_on_candidates", "known_feasible", "no_solve_bound",
           "plain_flow", "stopped_answer"]

#: Each mentee's best pairs the fallback flow reads (the engine's first candidates are as many).
FALLBACK_K = 12


def figures_bound(fig, problem: AssignmentProblem, most: int | None = None) -> float:
    """The module docstring's bound from one pass's figures (``fig``,
    :func:`~mentormatch.solvers.fair_bounds.source_figures`), stated once in
    :func:`~mentormatch.solvers.fair_bounds.total_bound` (the least of the mentees' side and the
    mentors'), with ``problem``'s capacities, demands and loads; ``most``: at least the pairs of
    every assignment, when known."""
    from .fair_bounds import total_bound

    return total_bound(fig, problem.capacity, problem.demand, problem.load, most)


def no_solve_bound(problem: AssignmentProblem, score: np.ndarray | None = None) -> float:
    """A bound on the total of ``score`` (default the problem's; ``score + bonus`` for a bonus
    objective) over every assignment of ``problem``'s pairs that meets its capacities and
    demands (module docstring): one pass (:func:`figures_bound`), no solve, no sort (a sort for
    each mentor's best pairs took 3.8 s of CPU at 4,000 x 1,000).

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(3, 1), np.array([3.0, 2.0, -1.0]), np.ones(1))
    >>> no_solve_bound(p)  # one mentor, one place: its best pair
    3.0
    """
    from .fair_bounds import per_mentee, per_mentor, source_figures
    from .sources import ArraySource

    P = problem.pairs
    s = problem.score if score is None else np.asarray(score, np.float64)
    fig = source_figures(ArraySource(P.mentee, P.mentor, s, P.n_mentees, P.n_mentors),
                         per_mentor(problem.capacity), per_mentee(problem.demand))
    return figures_bound(fig, problem)


def plain_flow(problem: AssignmentProblem, score: np.ndarray | None = None,
               k: int = FALLBACK_K) -> np.ndarray | None:
    """Positions (ascending) of the plain flow's assignment over each mentee's best pairs of
    ``score`` (default the problem's) and the locks: capacities in whole places, demands and
    locks kept, no side row (module docstring). None when the locks alone exceed a capacity or
    a demand (the solver's diagnosis then speaks)."""
    from .flow import solve_arrays
    from .topk import top_k

    P = problem.pairs
    s = problem.score if score is None else np.asarray(score, np.float64)
    locked = np.zeros(len(P), bool) if problem.locked is None else np.asarray(problem.locked, bool)
    heavy = float(np.max(np.asarray(problem.load, float), initial=1.0))
    places = np.floor(np.asarray(problem.capacity, float) / max(heavy, 1e-12) + 1e-9)
    cap = places.astype(np.int64) - np.bincount(P.mentor[locked], minlength=P.n_mentors)
    dem = (np.round(np.asarray(problem.demand)).astype(np.int64)
           - np.bincount(P.mentee[locked], minlength=P.n_mentees))
    if np.any(cap < 0) or np.any(dem < 0):
        return None
    kk = max(int(k), 2 * int(np.max(dem, initial=1)))
    free = np.flatnonzero(~locked)
    pick = free[top_k(P.mentee[free], s[free], kk)]
    res = solve_arrays(P.mentee[pick], P.mentor[pick], s[pick], cap, dem)
    if not res.optimal:
        return None
    return np.sort(np.concatenate([np.flatnonzero(locked), pick[res.chosen]]))


def known_feasible(problem: AssignmentProblem, score: np.ndarray | None = None
                   ) -> tuple[np.ndarray, str] | None:
    """An assignment of ``problem`` known to meet every constraint with no search: the plain
    flow's (:func:`plain_flow` on ``score``, default the problem's) when it meets every row,
    else (a budget) the same flow within the places the budget buys, else the locks alone when
    they do; ``(positions, "plain flow" | "budget plan's flow" | "locks only")``, or None when
    none does. Rows recomputed from their definitions
    (:func:`mentormatch.solvers.linear_rows.violations`: capacities with the loads, demands,
    minimum loads, budget, reservation values, balanced loads, share and score floors).

    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers import SideConstraints
    >>> g = SideConstraints(group=np.array([0, 1]), group_names=["a", "b"], share_floor=1.0)
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([0.9, 0.5, 0.8, 0.1]),
    ...                       np.ones(2), side=g)
    >>> chosen, origin = known_feasible(p)
    >>> chosen.tolist(), origin
    ([1, 2], 'plain flow')
    """
    from .linear import LinearModel
    from .linear_rows import violations

    P = problem.pairs
    model = LinearModel(problem)
    locked = np.zeros(len(P), bool) if problem.locked is None else np.asarray(problem.locked, bool)

    def tries():
        flow = plain_flow(problem, score)
        yield flow, "plain flow"
        planned = _budget_plan(problem, flow)
        if planned is not None:
            yield plain_flow(dataclasses.replace(problem, capacity=planned), score), "budget plan's flow"
        yield np.flatnonzero(locked), "locks only"

    for chosen, origin in tries():
        if chosen is None:
            continue
        if not violations(model, P.mentee[chosen], P.mentor[chosen], problem.score[chosen]):
            return chosen, origin
    return None


def _budget_plan(problem: AssignmentProblem, flow: np.ndarray | None) -> np.ndarray | None:
    """Under a stipend budget (with minimum loads), the capacities of
    :func:`mentormatch.solvers.fair_bounds.knapsack_plan` (the most places the budget buys, ties
    to the mentors of the plain ``flow``), unit loads only; None otherwise: a flow within them
    pays at most the planned stipends."""
    from .fair_bounds import knapsack_plan, source_figures
    from .sources import ArraySource

    side, P = problem.side, problem.pairs
    if "budget" not in side.active() or not problem.integral:
        return None
    prefer = None if flow is None else np.bincount(P.mentor[flow], minlength=P.n_mentors)
    fig = source_figures(ArraySource(P.mentee, P.mentor, problem.score, P.n_mentees, P.n_mentors))
    return knapsack_plan(fig, problem.capacity, problem.demand, side, prefer=prefer)


def flow_on_candidates(run, cand) -> np.ndarray | None:
    """The engine's stage (:mod:`mentormatch.solvers.stage`) when its deadline passed before the
    first LP: :func:`plain_flow` over the candidates ``cand`` (each mentee's best pairs and the
    locks, in the engine's unit) as a mask of ``cand``, when it meets every row of the stage's
    model (``run.feasible``: the side rows, and under ``coverage_first`` the count), or once the
    engine's repair (:func:`mentormatch.solvers.heuristics.repair`: pairs dropped for a budget,
    minimum loads, reservation values) makes it; else None.
    The flow maximises the plain scores: with a bonus, only a feasible start."""
    from ..pairs import Candidates as Pairs

    shell = run.model.problem
    n, m = shell.n_mentees, shell.n_mentors
    if not len(cand):
        return None
    problem = AssignmentProblem(Pairs(cand.i, cand.j, n, m), cand.s, shell.capacity,
                                demand=shell.demand, load=shell.load, locked=cand.locked)
    chosen = plain_flow(problem)
    if chosen is None:
        return None
    on = np.zeros(len(cand), bool)
    on[chosen] = True
    if run.feasible(cand, on):
        return on
    from .heuristics import repair  # a budget, minimum loads, reservation values: pairs dropped

    return repair(run, cand, on)


#: :func:`known_feasible`'s origins as :func:`stopped_answer`'s message names them
_ANSWER = {"plain flow": "the plain flow's assignment", "budget plan's flow": "the budget plan's flow",
           "locks only": "the locks alone"}


def stopped_answer(problem: AssignmentProblem, goal: AssignmentProblem, started: float,
                   solver: str, limit: float, error: Exception, what: str) -> Solution:
    """The answer of a search that the time limit stopped before it found an assignment
    (``what``: where, for the message): :func:`known_feasible`'s assignment of ``problem``
    (``goal``: the same pairs scored as the objective reads them), ``"feasible"`` with
    :func:`no_solve_bound` on the objective's total, ``certificate["timed_out"]`` and
    ``["fallback"]`` saying which; ``error`` (the time-out, never an infeasibility) is raised
    when neither the plain flow's assignment nor the locks alone meet every constraint."""
    from .base import finish

    found = known_feasible(problem, goal.score)
    if found is None:
        raise error
    chosen, origin = found
    message = (f"stopped at the time limit ({limit:g} s) {what} before an assignment was found: "
               f"{_ANSWER[origin]}, which meets every constraint, not proven optimal")
    cert = {"method": f"{origin} (the time limit stopped {solver})", "fallback": origin,
            "timed_out": True, "message": message}
    return finish(goal, chosen, "feasible", started, solver, bound=no_solve_bound(goal),
                  certificate=cert, message=message)
