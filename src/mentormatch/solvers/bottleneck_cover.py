"""``coverage_first`` (the most matched mentees, then the largest total) over every pair of a
block scorer or a :class:`mentormatch.scale.BoundedScorer`: one certified flow whose network
counts mentees (each mentee's first mentor weighted, :func:`mentormatch.solvers.flow.
solve_arrays`), so a mentee of any demand counts once; its bound is on the total of any
assignment that matches as many mentees (:mod:`mentormatch.solvers.certify`, "coverage_first").
What :func:`mentormatch.solvers.bottleneck.solve_maxmin_scorer` answers with ``coverage_only``.

The flow gets the caller's deadline like max-min's (:mod:`mentormatch.solvers.bottleneck_stops`,
"The time limit"; until s24 it ran without it): stopped, the answer is the flow's assignment so
far (the capacities and demands met, possibly the locks alone), "feasible", with the stopped
rounds' bound where one was proven (it holds over every assignment matching at least as many
mentees, so over the lexicographic optimum) and a message naming the limit.
"""
from __future__ import annotations

import time

import numpy as np

from .base import AssignmentProblem, Solution, SolverOptions, finish, gap_message
from .bottleneck_stops import stopped

__all__ = ["solve_coverage_first"]


def solve_coverage_first(scorer, bounded: bool, cap, n: int, m: int, demand, locked,
                         options: SolverOptions, started: float, deadline: float | None
                         ) -> tuple[AssignmentProblem, Solution]:
    """(the final sparse problem, its solution): ``coverage_first`` by one certified flow
    counting mentees over every pair of ``scorer`` (``bounded``: a bounded scorer), stopped at
    ``deadline`` (a ``time.perf_counter`` reading; None: none) by the module docstring's rules."""
    from .bounded import solve_bounded
    from .certify import solve_scored

    t0 = time.perf_counter()
    if bounded:
        problem, sol = solve_bounded(scorer, cap, demand=demand, locked=locked, options=options,
                                     cover=True, deadline=deadline)
    else:
        problem, sol = solve_scored(scorer, cap, n_mentees=n, n_mentors=m, demand=demand,
                                    locked=locked, options=options, cover=True, deadline=deadline)
    out = AssignmentProblem(problem.pairs, problem.score, cap, problem.demand, locked=problem.locked,
                            coverage_first=True)
    held = sol.status == "optimal"
    timed_out = stopped(sol) and not held
    chosen = np.asarray(sol.chosen, np.int64)
    cert = {**sol.certificate, "method": "coverage first by a certified flow counting mentees",
            "weight": sol.certificate.get("coverage_weight"),
            "matched": int(len(np.unique(out.pairs.mentee[chosen]))),
            "flow_seconds": [round(time.perf_counter() - t0, 3)], "holds": bool(held),
            "timed_out": bool(timed_out)}
    if held:
        message = ""
    elif timed_out:  # the most mentees not proven; the stopped rounds' bound holds (docstring)
        limit = options.time_limit
        message = (gap_message(False, True, float(limit), "") if limit is not None
                   else "stopped at the caller's deadline") + (
            ": the flow's assignment meets the capacities and demands; the most mentees and the "
            "best total are not proven")
    else:
        message = "the flow was not certified"
    cert["message"] = message
    bound = sol.bound if held or timed_out else None
    return out, finish(out, chosen, "optimal" if held else "feasible", started, "flow",
                       bound=None if bound is None else float(bound), certificate=cert,
                       message=message)
