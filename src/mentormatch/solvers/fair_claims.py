"""The bounds a max-min or leximin answer carries, stated once for every route: the held
problem (:mod:`mentormatch.solvers.fair`, :mod:`mentormatch.solvers.leximin`: the complete set
and ``assign()``) and the pair source under side constraints
(:mod:`mentormatch.solvers.fair_source`).

Three figures, each holding over every assignment that meets the constraints, whatever stopped
the search (:mod:`mentormatch.solvers.fair_bounds` proves the first two from one pass's
figures):

* ``count_bound``: at least the most pairs ``M*``; the answer's count where a solve proved it;
* ``threshold_bound``: at least the best worst pair ``t*`` of any assignment with at least the
  answer's pairs; the answer's worst pair where a solve proved it, the top of a proven bracket;
* ``total_bound``: at least the total of the optimum (an assignment that meets every
  constraint): the plain total's bound, the answer's total where a solve proved the optimum.

Under ``coverage_first`` the count and the worst pair are not bounded (None): the optimum's
count is the most pairs among the assignments that match the most mentees, not of every one.
The record's ``bound`` is ``total_bound`` (so ``gap`` is the total's), as on every route: before
s24 the held problem's answers carried none, optimal or stopped.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .base import AssignmentProblem, Solution

__all__ = ["Claims", "claims", "meets", "proven_claims", "with_claims"]


@dataclasses.dataclass(frozen=True)
class Claims:
    """Bounds over every assignment that meets the constraints (module docstring); None: not
    bounded."""

    count_bound: int | None
    threshold_bound: float | None
    total_bound: float | None


def _least(*xs):
    xs = [x for x in xs if x is not None]
    return min(xs) if xs else None


def claims(fig, capacity, demand, load, side, matched: int, coverage_first: bool, *,
           total_bound: float | None, proven_count: int | None = None,
           proven_threshold: float | None = None) -> Claims:
    """The bounds of an answer with ``matched`` pairs: the figures' (``fig``,
    :func:`~mentormatch.solvers.fair_bounds.source_figures`), lowered to what a solve proved
    (``proven_count``, ``proven_threshold``); ``total_bound``, the caller's bound on the total
    of every assignment meeting the constraints.

    >>> from mentormatch.solvers.fair_bounds import Figures
    >>> f = Figures(np.ones(3, np.int64), np.array([0.9, 0.5, 0.7]), np.array([3, 3]),
    ...             np.array([0.9, 0.6]))
    >>> claims(f, np.array([1.0, 1.0]), None, None, None, 2, False, total_bound=1.6)
    Claims(count_bound=2, threshold_bound=0.6, total_bound=1.6)
    >>> claims(f, np.array([1.0, 1.0]), None, None, None, 2, True, total_bound=1.6)
    Claims(count_bound=None, threshold_bound=None, total_bound=1.6)
    """
    from .fair_bounds import count_bound, threshold_bound

    if coverage_first:
        return Claims(None, None, total_bound)
    count = _least(count_bound(fig, capacity, demand, load, side), proven_count)
    # the optimum holds at least the answer's pairs, and at least one when any (its worst pair)
    t = _least(threshold_bound(fig, max(matched, 1), capacity, demand, load, side), proven_threshold)
    return Claims(None if count is None else int(count), t, total_bound)


def with_claims(problem: AssignmentProblem, goal: AssignmentProblem, sol: Solution,
                objective: str) -> Solution:
    """``sol``, a max-min or leximin answer on the held ``problem`` (``goal``: the same pairs
    scored as the objective reads them, ``score + bonus`` with a bonus), with :func:`claims`'s
    bounds in its certificate and ``total_bound`` as its ``bound``. Proven by the solve: an
    ``"optimal"`` answer's count, worst pair and total (its certificate's ``total_bound`` where
    the scores were rounded); a bracket (max-min's flows) tops the worst pair; CP-SAT's
    ``threshold_bound`` and ``total_bound`` where it proved them. A max-min answer that reaches
    all three (:func:`meets`) is ``"optimal"``, as on the source's route. The total's bound otherwise:
    :func:`mentormatch.solvers.fallback.figures_bound` (no solve) from the figures of the
    count and the worst pair.

    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers.fair import solve_maxmin
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([1.0, 0.3, 0.6, 0.05]), np.ones(2))
    >>> sol = solve_maxmin(p)
    >>> sol.status, sol.bound, sol.certificate["count_bound"], sol.certificate["threshold_bound"]
    ('optimal', 0.8999999999999999, 2, 0.3)
    """
    from .fair_bounds import per_mentor, source_figures
    from .fallback import figures_bound
    from .sources import ArraySource

    cert = dict(sol.certificate or {})
    P = goal.pairs
    chosen = np.asarray(sol.chosen, np.int64)
    optimal = sol.status == "optimal"
    worst = float(goal.score[chosen].min()) if len(chosen) else None
    bracket = cert.get("threshold_bracket") if cert.get("count_proven") else None
    proven_t = _least(worst if optimal else None, None if bracket is None else float(bracket[1]),
                      cert.get("threshold_bound"))
    fig = source_figures(ArraySource(P.mentee, P.mentor, goal.score, P.n_mentees, P.n_mentors),
                         per_mentor(problem.capacity))
    total = _least(figures_bound(fig, goal),
                   cert.get("total_bound") if cert.get("total_bound") is not None else
                   (sol.objective if optimal else None))
    if total is not None:
        total = max(total, sol.objective)  # (the answer is one assignment: never below it)
    c = claims(fig, problem.capacity, problem.demand, problem.load, problem.side, len(chosen),
               bool(problem.coverage_first), total_bound=total,
               proven_count=len(chosen) if optimal or cert.get("count_proven") else None,
               proven_threshold=proven_t)
    cert.update(count_bound=c.count_bound, threshold_bound=c.threshold_bound,
                total_bound=c.total_bound)
    status, message = sol.status, sol.message
    if objective == "maxmin" and status != "optimal" and meets(c, len(chosen), worst, sol.objective):
        # the three bounds prove it (as on the source's route); leximin's cannot (fair_source)
        status, message = "optimal", ""
        cert.update(proven_by="count, worst pair and total at their bounds", timed_out=False,
                    message="")
    return dataclasses.replace(sol, status=status, message=message, bound=c.total_bound,
                               certificate=cert)


def meets(c: Claims, matched: int, worst: float | None, total: float) -> bool:
    """Whether an answer with ``matched`` pairs, worst pair ``worst`` and total ``total``
    reaches the bounds ``c`` (the worst pair and the total within the 1e-6 gap): then it is a
    max-min optimum (the most pairs, the best worst pair, the best total). Leximin's order is
    finer: these three do not prove it (:mod:`mentormatch.solvers.fair_source`).

    >>> meets(Claims(2, 0.5, 1.5), 2, 0.5, 1.5), meets(Claims(3, 0.5, 1.5), 2, 0.5, 1.5)
    (True, False)
    """
    from .base import OPTIMAL_GAP, proven

    if c.count_bound is None or c.total_bound is None or matched != c.count_bound:
        return False
    worst_ok = worst is None or (c.threshold_bound is not None and c.threshold_bound - worst
                                 <= OPTIMAL_GAP * max(abs(c.threshold_bound), 1e-12))
    return worst_ok and proven(c.total_bound, total)


def proven_claims(problem: AssignmentProblem, sol: Solution) -> Solution:
    """``sol``, a plain max-min or leximin answer on a pair source (the scale path's flows:
    :func:`mentormatch.solvers.bottleneck.solve_maxmin_scorer`,
    :func:`mentormatch.solvers.leximin_source.solve_leximin_source`), with the bounds its
    solve proved, which need no pass over the source: an ``"optimal"`` answer's count, worst
    pair and total (``bound`` its total), as :func:`with_claims` gives the same answer on the
    complete set. Other answers keep what they had (a pass over every pair for the figures'
    bounds is not made after a stop: left)."""
    if sol.status != "optimal":
        return sol
    chosen = np.asarray(sol.chosen, np.int64)
    s = problem.score[chosen]
    cert = dict(sol.certificate or {})
    cert.update(count_bound=None if problem.coverage_first else int(len(chosen)),
                threshold_bound=(None if problem.coverage_first or not len(s) else
                                 float(cert.get("threshold") if cert.get("threshold") is not None
                                       else s.min())),
                total_bound=float(sol.objective))
    return dataclasses.replace(sol, bound=float(sol.objective), certificate=cert)
