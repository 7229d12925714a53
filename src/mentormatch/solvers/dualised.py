"""The engine's answers by certified flows (see :mod:`mentormatch.solvers.engine`): the
Lagrangians of a stipend budget (:mod:`mentormatch.solvers.lagrange`), share floors
(:mod:`mentormatch.solvers.floors`) and score floors (:mod:`mentormatch.solvers.scorefloors`),
each the certified flow on shifted or scaled scores, and balanced loads by a flow per level
(:mod:`mentormatch.solvers.balanced`), all with bounds over EVERY pair of the source; and how such an answer and the column generation's
are combined (the better assignment, the least of two valid bounds). With an objective bonus
(score floors only: :func:`mentormatch.solvers.scorefloors.fold_bonus`) the answer reports the
plain scores and objective, ``bound`` None, and ``certificate["adjusted_objective"]`` and
``["adjusted_bound"]`` for ``score + bonus``, as the column generation does; "the better" and
"the least bound" then compare those."""
from __future__ import annotations

import time

import numpy as np

from . import balanced, floors, lagrange, scorefloors
from .base import OPTIMAL_GAP, AssignmentProblem, finish, gap_message, proven
from .linear import LinearModel
from .relax import Candidates, Run

__all__ = ["better_of", "by_lagrange"]


def better_of(problem, sol, more, cert: dict):
    """The column generation's answer and a Lagrangian's: the better assignment, the least
    bound (both valid over every pair), optimal when they meet."""
    alt_problem, alt = more
    adjusted = (sol.certificate or {}).get("objective") == "score + bonus"

    def figures(s):  # (objective, bound) in the objective's units
        c = s.certificate or {}
        return (c["adjusted_objective"], c.get("adjusted_bound")) if adjusted else (s.objective, s.bound)

    bounds = [b for b in (figures(sol)[1], figures(alt)[1]) if b is not None]
    # the time limit cut either one short: the answer says so
    timed = [s.message for s in (sol, alt) if (s.message or "").startswith("stopped at the time")]
    if figures(alt)[0] > figures(sol)[0]:
        problem, sol = alt_problem, alt
    if sol is alt:
        sol.certificate["column_generation"] = cert
    else:
        sol.certificate["lagrangian"] = alt.certificate
    if timed and sol.status != "optimal":
        sol.message = sol.certificate["message"] = timed[0]
        sol.certificate["timed_out"] = True
    if not bounds:
        return problem, sol
    both = min(bounds)
    if adjusted:
        sol.certificate["adjusted_bound"] = both
    else:
        sol.bound = both
    if proven(both, figures(sol)[0]):
        sol.status, sol.message = "optimal", ""
        sol.certificate["message"], sol.certificate["timed_out"] = "", False
    return problem, sol


def by_lagrange(source, shell: AssignmentProblem, options, deadline, started, limit,
                 kind: str = "budget", bonus=None):
    """The engine's answer from :func:`mentormatch.solvers.lagrange.solve_lagrange` (``kind``
    "budget"), :func:`mentormatch.solvers.floors.solve_floors` ("share" floors) or
    :func:`mentormatch.solvers.scorefloors.solve_score_floors` ("score" floors, with ``bonus``
    a :class:`~mentormatch.solvers.base.PairBonus` in the objective or None), or None."""
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
        more = {} if bonus is None else {"bonus": bonus}
        res = scorefloors.solve_score_floors(source, shell.capacity, shell.demand, shell.side,
                                             options, deadline, **more)
    else:
        res = lagrange.solve_lagrange(source, shell.capacity, shell.demand, shell.side, options,
                                      deadline, factory)
    if res is None:
        return None
    problem = AssignmentProblem(PairSet(res.i, res.j, shell.n_mentees, m), res.s, shell.capacity,
                                demand=shell.demand, load=shell.load, side=shell.side)
    optimal = res.bound is not None and proven(res.bound, res.value)
    cert = {"optimal_gap": OPTIMAL_GAP, "source": type(source).__name__,
            "random_seed": int(options.seed), **res.certificate}
    timed_out = not optimal and (time.perf_counter() >= deadline
                                 or bool(res.certificate.get("timed_out", False)))
    message = gap_message(optimal, timed_out, limit,
                          "the Lagrangian bound and the repaired flow ended with a gap")
    cert["message"], cert["timed_out"] = message, timed_out  # pair()'s result carries them
    if bonus is not None:  # the plain objective reported, score + bonus certified (docstring)
        cert.update(objective="score + bonus", adjusted_objective=res.value,
                    adjusted_bound=res.bound)
    sol = finish(problem, np.flatnonzero(res.chosen), "optimal" if optimal else "feasible",
                 started, "mip", bound=None if bonus is not None else res.bound,
                 certificate=cert, message=message)
    return problem, sol
