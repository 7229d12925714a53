"""The solver registered as ``"flow"``: the exact min-cost flow, one way through at every size.

``coverage_first`` (the most mentees, then the largest total) with unit loads and no side
rows, whatever the demands, is the certified flow of
:func:`mentormatch.solvers.bottleneck.solve_held`, whose network counts each matched mentee once
(each mentee's first mentor carries the weight: :func:`mentormatch.solvers.flow.solve_arrays`);
the scale path's sources run the same flow, so the tie rule picks the same pairs whatever the
source. Everything else is :func:`mentormatch.solvers.certify.solve_flow_any` (every pair, or
each mentee's best pairs with the dual certificate over every pair). This module sits above
them, so none imports another.

``SolverOptions.time_limit`` (counted from ``SolverOptions.started``, ``pair()``'s call, when
set) is the outer stop of both: no flow and no check of every pair starts past it, and a stop
answers "feasible" with ``certificate["timed_out"]`` and a bound (the locks alone when no flow
ran). A flow on every pair (up to ``SPARSE_THRESHOLD`` pairs) is one call that cannot be cut:
it runs whole when it starts before the deadline.
"""
from __future__ import annotations

import time

import numpy as np

from . import register
from .base import AssignmentProblem, Solution, SolverOptions
from .bottleneck import solve_held
from .certify import solve_flow_any

__all__ = ["solve_flow_solver"]


def solve_flow_solver(problem: AssignmentProblem, options: SolverOptions | None = None) -> Solution:
    """Solver ``"flow"`` (see the module docstring).

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([1.0, 2.0]), np.array([1.0]))
    >>> solve_flow_solver(p).chosen.tolist()
    [1]
    >>> three = Candidates.from_arrays([0, 0, 1], [0, 1, 0], 2, 2)  # mentee 1: mentor 0 only
    >>> best = AssignmentProblem(three, np.array([3.0, 0.5, 1.0]), np.array([1.0, 1.0]))
    >>> solve_flow_solver(best).chosen.tolist()  # the largest total: one pair
    [0]
    >>> cover = AssignmentProblem(three, best.score, best.capacity, coverage_first=True)
    >>> solve_flow_solver(cover).chosen.tolist()  # the most mentees first
    [1, 2]
    >>> two = AssignmentProblem(three, np.array([3.0, 2.5, 1.0]), np.array([1.0, 1.0]),
    ...                         demand=np.array([2, 1]), coverage_first=True)
    >>> solve_flow_solver(two).chosen.tolist()  # two mentees, not mentee 0's two pairs
    [1, 2]
    """
    options = options or SolverOptions()
    if (problem.coverage_first and not problem.side.active()
            and bool(np.all(np.asarray(problem.load) == 1))):
        return solve_held(problem, options, coverage_only=True)
    # the caller's limit (from pair()'s call when set): no flow starts past it (the locks
    # alone, with a bound, when it has passed already)
    return solve_flow_any(problem, options, options.deadline(time.perf_counter()))


register("flow", solve_flow_solver)
