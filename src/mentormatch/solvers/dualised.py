"""The engine's answers by certified flows (see :mod:`mentormatch.solvers.engine`): the
Lagrangians of a stipend budget (:mod:`mentormatch.solvers.lagrange`), share floors
(:mod:`mentormatch.solvers.floors`) and score floors (:mod:`mentormatch.solvers.scorefloors`),
each the certified flow on shifted or scaled scores, and balanced loads by a flow per level
(:mod:`mentormatch.solvers.balanced`), all with bounds over EVERY pair of the source; and how such an answer and the column generation's
are combined (the better assignment, the least of two valid bounds)."""
from __future__ import annotations

import time

import numpy as np

from . import balanced, floors, lagrange, scorefloors
from .base import OPTIMAL_GAP, AssignmentProblem, finish, proven
from .linear import LinearModel
from .relax import Candidates, Run

__all__ = ["better_of", "by_lagrange"]


def better_of(problem, sol, more, cert: dict):
    """The column generation's answer and a Lagrangian's: the better assignment, the least
    bound (both valid over every pair), optimal when they meet."""
    alt_problem, alt = more
    both = min(b for b in (sol.bound, alt.bound) if b is not None)
    if alt.objective > sol.objective:
        problem, sol = alt_problem, alt
    if sol is alt:
        sol.certificate["column_generation"] = cert
    else:
        sol.certificate["lagrangian"] = alt.certificate
    sol.bound = both
    if proven(both, sol.objective):
        sol.status, sol.message = "optimal", ""
    return problem, sol


def by_lagrange(source, shell: AssignmentProblem, options, deadline, started, limit,
                 kind: str = "budget"):
    """The engine's answer from :func:`mentormatch.solvers.lagrange.solve_lagrange` (``kind``
    "budget"), :func:`mentormatch.solvers.floors.solve_floors` ("share" floors) or
    :func:`mentormatch.solvers.scorefloors.solve_score_floors` ("score" floors), or None."""
    from ..pairs import Candidates as PairSet

    model = LinearModel(shell)
    m = source.n_mentors
    none = np.zeros(0, np.int64)

    def factory(i, j, s):
        return Run(source, model, options, deadline, none), Candidates(i, j, s, m, none)

    if kind == "share":
        res = floors.solve_floors(source, shell.capacity, shell.demand, shell.side, options,
                                  deadline)
    elif kind == "balanced":
        res = balanced.solve_balanced(source, shell.capacity, shell.demand, shell.side, options,
                                      deadline)
    elif kind == "score":
        res = scorefloors.solve_score_floors(source, shell.capacity, shell.demand, shell.side,
                                             options, deadline)
    else:
        res = lagrange.solve_lagrange(source, shell.capacity, shell.demand, shell.side, options,
                                      deadline, factory)
    if res is None:
        return None
    problem = AssignmentProblem(PairSet(res.i, res.j, shell.n_mentees, m), res.s, shell.capacity,
                                demand=shell.demand, load=shell.load, side=shell.side)
    optimal = proven(res.bound, res.value)
    cert = {"optimal_gap": OPTIMAL_GAP, "source": type(source).__name__,
            "random_seed": int(options.seed), **res.certificate}
    message = "" if optimal else (
        f"stopped at the time limit ({limit:g} s) with a gap" if time.perf_counter() >= deadline
        else "the Lagrangian bound and the repaired flow ended with a gap")
    sol = finish(problem, np.flatnonzero(res.chosen), "optimal" if optimal else "feasible",
                 started, "mip", bound=res.bound, certificate=cert, message=message)
    return problem, sol
