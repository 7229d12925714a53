"""Leximin (``"leximin"``) by CP-SAT, for fractional loads or side constraints (the flows of
:mod:`mentormatch.solvers.leximin` handle plain problems).

On the full model with ``sum x = M`` (:class:`~mentormatch.solvers.cpsat_model.CpsatModel`):
for ``r = 1, 2, ...`` minimise ``c_r`` (the chosen pairs at the ``r``-th distinct level) with
``c_1..c_{r-1}`` fixed at their minima, warm-started from the previous solution; a level that
the current solution does not use is fixed at 0 without a solve. Each solve is an
NP-hard-in-general CP-SAT proof: meant for small instances (tens of mentees). The time limit
(default ``SEARCH_TIME_LIMIT``, 60 s, for the whole sequence) is the only stop: when it ends a
solve, or passes before the next, the answer is ``"feasible"`` with the levels proven so far
(``proven_below``) and ``certificate["timed_out"]``.

The levels are the scores at :func:`~mentormatch.solvers.cpsat_model.objective_scale`'s ``S``
(exact when a power of ten up to ``10**6`` makes them whole, else in the engine's unit: scores
times ``2**k`` give the same levels), a level split at 30 significant bits where ``1/S`` is not
within the 1e-6 gap of its least value (:func:`~mentormatch.solvers.cpsat_levels.levels`: scores
of mixed magnitudes, 6.2e-9 beside 0.5). Where ``S`` is not exact, scores of one level count
as one, and the proof holds for the levels: they are monotone, so the sorted vector found is,
entry by entry up to the first where it is ahead, within its level's width of the leximin
optimum's. ``"optimal"`` then needs each chosen value's level width within the 1e-6 gap
(:data:`~mentormatch.solvers.base.OPTIMAL_GAP`) of it; the certificate keeps ``rounding`` (the
widest level used, 0 when exact).

An objective bonus (``bonus``, one number per pair: :mod:`mentormatch.pipeline.bonus`) is in
the levels only (the sorted vector of ``score + bonus``); every side constraint reads the plain
scores. :func:`mentormatch.solvers.leximin.solve_leximin` takes such a bonus.
"""
from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from .base import AssignmentProblem, Solution, SolverOptions, finish
from .cpsat_levels import levels as levels_of
from .cpsat import goal_problem
from .fair import CpRun

__all__: list[str] = []


def _cp_leximin(problem: AssignmentProblem, options: SolverOptions, started: float,
                bonus: np.ndarray | None = None) -> Solution:
    """Leximin by CP-SAT, one minimisation per used level (any side constraint, any loads)."""
    cp = CpRun(problem, options, started, bonus)
    b = cp.built
    count, chosen = cp.max_count()
    solves = 1
    lv = levels_of(b)  # the scale's integers, split where too coarse for their values
    levels, stopped, proven_below = {}, False, None
    for v in np.unique(lv.key):
        at = np.flatnonzero(lv.key == v)
        label = float(lv.label[at[0]])
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
            proven_below = label
        b.model.add(cp_model.LinearExpr.sum([b.x[k] for k in at]) == used)
        if used:
            levels[label] = used
    finished = cp.proven and not stopped
    step = float(lv.width[chosen].max(initial=0.0))  # the widest level used
    worst = float(np.min(np.abs(b.objective[chosen]))) if len(chosen) else 0.0
    within = cp.exact or lv.within(chosen, b.objective)
    status = "optimal" if finished and within else "feasible"
    cert = {"method": "CP-SAT, lexicographic minimisation of level counts",
            "levels": levels, "solves": solves, "matched": int(count), "scale": b.scale,
            "rounding": step,
            # the level counts below this score are proven leximin-optimal (None: all are)
            "proven_below": proven_below,
            # the time limit is CP-SAT's only stop here: any unproven step is one it ended
            "timed_out": not finished}
    message = ("" if status == "optimal" else
               f"stopped at the time limit ({cp.limit:g} s) before the last level"
               if not finished else
               f"CP-SAT's proof holds for the scores rounded to multiples of 1/{b.scale:.6g}, "
               f"more than the 1e-6 gap of the chosen values (the worst {worst:.6g})")
    return finish(goal_problem(problem, bonus), chosen, status, started, "leximin",
                  certificate=cert, message=message)
