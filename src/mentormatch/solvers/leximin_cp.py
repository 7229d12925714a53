"""Leximin (``"leximin"``) by CP-SAT, for fractional loads or side constraints (the flows of
:mod:`mentormatch.solvers.leximin` handle plain problems).

On the full model with ``sum x = M`` (:class:`~mentormatch.solvers.cpsat_model.CpsatModel`):
for ``r = 1, 2, ...`` minimise ``c_r`` (the chosen pairs at the ``r``-th distinct level) with
``c_1..c_{r-1}`` fixed at their minima, warm-started from the previous solution; a level that
the current solution does not use is fixed at 0 without a solve. Each solve is an
NP-hard-in-general CP-SAT proof: meant for small instances (tens of mentees). The time limit
(default 30 s for the whole sequence) is the only stop: when it ends a solve, or passes before
the next, the answer is ``"feasible"`` with the levels proven so far (``proven_below``) and
``certificate["timed_out"]``.
"""
from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from .base import AssignmentProblem, Solution, SolverOptions, finish
from .fair import _Cp

__all__: list[str] = []


def _cp_leximin(problem: AssignmentProblem, options: SolverOptions, started: float) -> Solution:
    """Leximin by CP-SAT, one minimisation per used level (any side constraint, any loads)."""
    cp = _Cp(problem, options, started)
    b = cp.built
    count, chosen = cp.max_count()
    solves = 1
    levels, stopped, proven_below = {}, False, None
    for v in np.unique(b.sc):
        at = np.flatnonzero(b.sc == v)
        used = int(np.isin(at, chosen).sum())
        if used == 0:
            for k in at:
                b.model.add(b.x[k] == 0)
            continue
        if not stopped and cp.out_of_time():
            stopped = True
        if not stopped:
            c, found = cp.run(cp_model.LinearExpr.sum([b.x[k] for k in at]), False)
            solves += 1
            if c is None or not cp.proven:
                stopped = True
            if c is not None:
                used, chosen = c, found
        if stopped and proven_below is None:
            proven_below = float(v) / b.scale
        b.model.add(cp_model.LinearExpr.sum([b.x[k] for k in at]) == used)
        if used:
            levels[float(v) / b.scale] = used
    status = "optimal" if cp.proven and not stopped else "feasible"
    cert = {"method": "CP-SAT, lexicographic minimisation of level counts",
            "levels": levels, "solves": solves, "matched": int(count), "scale": b.scale,
            # the level counts below this score are proven leximin-optimal (None: all are)
            "proven_below": proven_below,
            # the time limit is CP-SAT's only stop here: any unproven step is one it ended
            "timed_out": status != "optimal"}
    return finish(problem, chosen, status, started, "leximin", certificate=cert,
                  message="" if status == "optimal" else
                  f"stopped at the time limit ({cp.limit:g} s) before the last level")
