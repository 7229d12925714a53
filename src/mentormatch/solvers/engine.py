"""The engine for side constraints, at every size: its entries, on a held problem
(:func:`solve_mip`, the registered solver ``"mip"``) and on any pair source
(:func:`solve_source`), and the diagnosis of an infeasibility it proves. Which method answers
and in which order (pricing and an exact MIP on the candidates; the Lagrangians and flows
first where they pay; the unit of score; the work limits) is :mod:`mentormatch.solvers.route`.

``status`` is ``"optimal"`` only when the bound over all pairs (the route's) is within
``OPTIMAL_GAP`` of the incumbent; otherwise ``"feasible"`` with the finite bound and gap. A
time limit returns the best assignment found (the empty assignment when it meets every
constraint and nothing better was found).
``InfeasibleError`` only with a proof: the relaxation over every pair is infeasible (a model
with no pair column included: it is infeasible when a floor needs places), or the MIP proves
infeasible a candidate set that holds every eligible pair; the error names the conflicts
(:func:`~mentormatch.solvers.diagnose.diagnose`'s numbers, a floor that needs k places in a
group whose eligible pairs offer fewer) or the constraint families whose removal alone restores
feasibility. ``TimeLimitError`` when no assignment was found and nothing proven: with time
left, the MIP first runs over every eligible pair of a source of at most
``stage.ALL_PAIRS_AT_MOST`` pairs to settle it (a proof or an assignment); only a larger source
can still end in ``TimeLimitError`` before its time limit. With ``coverage_first``, the score
stage's infeasibility is no proof once the count stage found an assignment (it meets every row
of the score stage): that assignment is returned, ``"feasible"`` with no bound.
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import InfeasibleError
from . import register
from .base import OPTIMAL_GAP, SEARCH_TIME_LIMIT, AssignmentProblem, Solution, SolverOptions
from .route import solve_routed
from .sources import ArraySource, n_pairs
from . import blame

__all__ = ["solve_mip", "solve_source", "OPTIMAL_GAP"]

#: An infeasibility on a source of at most this many pairs is diagnosed over all of them.
DIAGNOSE_PAIRS = 2_000_000


def solve_source(source, capacity, *, demand=None, load=None, locked=(None, None), side=None,
                 coverage_first: bool = False, bonus=None, options: SolverOptions | None = None):
    """The engine on any pair source: returns (problem over the final candidate pairs,
    Solution whose ``chosen`` index that problem's pairs). See the module docstring and
    :mod:`mentormatch.solvers.route`.

    ``bonus``: None, or a function ``(mentee, mentor) -> extra objective`` per pair (priority
    and continuity in rounds); the reported objective stays the plain score, the certificate
    holds the adjusted one.

    An :class:`~mentormatch.errors.InfeasibleError` from a source of at most
    ``DIAGNOSE_PAIRS`` pairs carries the diagnosis's conflicts, with their numbers (a share
    floor that needs k places in a group whose eligible pairs offer fewer, ...), and when they
    name nothing beyond people who cannot take part, the constraint families to blame (one
    re-solve each, within the same time limit): the same words as on a held problem
    (:func:`solve_mip`). Above that size, the engine's own proof."""
    options = options or SolverOptions()
    deadline = options.deadline(time.perf_counter(), SEARCH_TIME_LIMIT)
    try:
        return solve_routed(source, capacity, demand=demand, load=load, locked=locked, side=side,
                            coverage_first=coverage_first, bonus=bonus, options=options)
    except InfeasibleError as e:
        every = None if n_pairs(source) > DIAGNOSE_PAIRS else _every_pair(
            source, capacity, demand=demand, load=load, locked=locked, side=side,
            coverage_first=coverage_first)
        raise (e if every is None else _diagnosis(every, e, options, deadline)) from None


def _every_pair(source, capacity, *, demand, load, locked, side,
                coverage_first) -> AssignmentProblem:
    """The problem over every eligible pair of ``source``, sorted by mentee then mentor."""
    from ..pairs import Candidates
    from .base import SideConstraints

    n, m = source.n_mentees, source.n_mentors
    parts = list(source.blocks())
    i, j, s = (np.concatenate([p[t] for p in parts]) if parts else np.zeros(0, dt)
               for t, dt in enumerate((np.int64, np.int64, np.float64)))
    order = np.lexsort((j, i))
    i, j, s = i[order].astype(np.int64), j[order].astype(np.int64), s[order]
    lock = np.zeros(len(i), bool)
    if locked[0] is not None and len(locked[0]):
        lock = np.isin(i * m + j, np.asarray(locked[0], np.int64) * m + np.asarray(locked[1], np.int64))
    return AssignmentProblem(Candidates(i, j, n, m), s, capacity, demand=demand, load=load,
                             locked=lock, coverage_first=coverage_first,
                             side=side or SideConstraints())


def solve_mip(problem: AssignmentProblem, options: SolverOptions | None = None) -> Solution:
    """Maximise the total score under capacities, demands, locks and every side constraint, by
    pricing and an exact MIP on the candidates (see the module docstring and
    :mod:`mentormatch.solvers.route`).

    Parameters
    ----------
    problem : AssignmentProblem
    options : SolverOptions, optional
        ``seed``, ``time_limit`` in seconds (default
        :data:`~mentormatch.solvers.base.SEARCH_TIME_LIMIT`, 60, shared by the two stages of
        ``coverage_first`` and by the re-solves that name the constraint families to blame for
        an infeasibility), ``progress`` (HiGHS's log).

    Returns
    -------
    Solution
        ``status`` ``"optimal"`` with a bound within ``OPTIMAL_GAP``, else ``"feasible"`` with
        ``bound`` and ``gap`` over every pair. ``certificate`` holds the Lagrangian bound, the
        MIP's status and bound, the candidate count and the pricing rounds of each stage.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers import SideConstraints
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([0.9, 0.5, 0.8, 0.1]),
    ...                       np.array([1.0, 1.0]),
    ...                       side=SideConstraints(budget=0.5, stipend_fixed=np.zeros(2),
    ...                                            stipend_per_mentee=np.array([1.0, 0.0])))
    >>> sol = solve_mip(p)  # mentor 0 costs 1 a mentee: over the budget of 0.5
    >>> sol.status, sol.chosen.tolist(), round(sol.objective, 3)
    ('optimal', [1], 0.5)
    """
    options = options or SolverOptions()
    # the time limit covers the solve and the diagnosis of an infeasibility (its re-solves)
    deadline = options.deadline(time.perf_counter(), SEARCH_TIME_LIMIT)
    try:
        return _solve_problem(problem, options)
    except InfeasibleError as e:
        raise _diagnosis(problem, e, options, deadline) from None


def _diagnosis(problem: AssignmentProblem, cause: InfeasibleError,
               options: SolverOptions | None = None, deadline: float | None = None) -> InfeasibleError:
    """:func:`mentormatch.solvers.blame.diagnosis` with the engine's re-solve and time limit."""
    return blame.diagnosis(problem, cause, options, deadline, solve=_solve_problem,
                           default_limit=SEARCH_TIME_LIMIT)


def _solve_problem(problem: AssignmentProblem, options: SolverOptions | None,
                   bonus: np.ndarray | None = None) -> Solution:
    """The engine on a held problem (no diagnosis); ``bonus``: one number per pair of
    ``problem``, in the objective only (:mod:`mentormatch.pipeline.bonus`)."""
    P = problem.pairs
    source = ArraySource(P.mentee, P.mentor, problem.score, P.n_mentees, P.n_mentors)
    lk = np.flatnonzero(problem.locked)
    per_pair = None if bonus is None else (lambda mentee, mentor: bonus[P.locate(mentee, mentor)])
    sub, sol = solve_routed(source, problem.capacity, demand=problem.demand, load=problem.load,
                            locked=(P.mentee[lk], P.mentor[lk]), side=problem.side,
                            coverage_first=problem.coverage_first, bonus=per_pair, options=options)
    # back to positions in the caller's pairs
    pos = P.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
    import dataclasses

    return dataclasses.replace(sol, chosen=np.sort(pos))


register("mip", solve_mip)
