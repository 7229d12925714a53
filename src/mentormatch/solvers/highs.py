"""HiGHS, as the engine uses it: a quiet instance with reproducible settings, a model passed
as arrays (every row ``<= rhs``, maximisation turned into HiGHS's minimisation), and the model
status in the engine's words ("optimal", "infeasible", "time"; "limit": a work limit such as
``mip_max_nodes``). HiGHS is deterministic given its options (one thread, a fixed seed): its
answer depends on the clock only when ``time_limit`` stops it. Every run gets the time left to
the caller's deadline (or less), never a floor: once the deadline has passed, no run starts
(:class:`OutOfTime`)."""
from __future__ import annotations

import numpy as np

from .base import SolverOptions

__all__ = ["OutOfTime", "highs_instance", "for_model", "pass_model", "model_status",
           "without_presolve"]

_BANNER_SHOWN = False

#: The least ``mip_feasibility_tolerance`` of HiGHS's MIP on a model with score floors
#: (``unscaled``; :func:`mip_tolerance`): its MIP holds rows to it and also takes it as its
#: epsilon on objective values (reduced-cost fixing, pruning). A floor can leave an optimum near
#: 1e-8 beside scores near 1 (the largest score is 1 to 2 in the engine's unit,
#: :mod:`mentormatch.solvers.unit`); at ``ROW_TOL`` (1e-7) HiGHS called the empty assignment
#: optimal with the bound 0 under assignments worth 2.7e-8 to 5.8e-8, with no branch-and-bound
#: node (``_mixed`` 112, 205, 250 of ``tests/test_row_tolerance.py``); at 1e-9 it finds them.
#: The rows it holds are the check's (the floor rows of
#: :class:`~mentormatch.solvers.linear.LinearModel` allow ``ROW_TOL``), so its bound covers
#: every assignment the check passes.
MIP_FEASIBILITY = 1e-9


def mip_tolerance(level: float | None) -> float:
    """HiGHS's ``mip_feasibility_tolerance`` for a MIP with score floors whose objective is
    near ``level`` (the value of its start; None: unknown): a hundredth of the engine's
    optimality gap of it, within ``[MIP_FEASIBILITY, ROW_TOL]``. Tighter than it needs, HiGHS
    took twice the time on the score floors' closing MIP at 500 x 150 (objective near 470).

    >>> mip_tolerance(None), mip_tolerance(2e-8), mip_tolerance(470.0)
    (1e-09, 1e-09, 1e-07)
    """
    from .base import OPTIMAL_GAP
    from .linear_rows import ROW_TOL

    if level is None or not np.isfinite(level):
        return MIP_FEASIBILITY
    return float(min(ROW_TOL, max(MIP_FEASIBILITY, 1e-2 * OPTIMAL_GAP * abs(level))))


def _new_highs():
    """A HiGHS instance; the first one of a process is made with standard output closed, so
    that HiGHS's copyright banner does not land in a user's notebook or doctest."""
    global _BANNER_SHOWN
    import highspy

    if _BANNER_SHOWN:
        return highspy.Highs()
    import os
    import sys

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
        _BANNER_SHOWN = True


class OutOfTime(Exception):
    """The caller's deadline passed before a HiGHS run the answer needed: the run was not
    started (HiGHS would get no time, and a floor on its limit would overrun the deadline)."""


def highs_instance(options: SolverOptions, time_left: float, gap: float = 1e-7,
                   unscaled: bool = False, level: float | None = None):
    """A quiet HiGHS with the reproducible settings (one thread, the seed), ``time_left`` (> 0:
    with no time left, the caller starts no run) as its limit, the MIP gap, and the rows'
    feasibility tolerance of the check of an assignment
    (:data:`~mentormatch.solvers.linear_rows.ROW_TOL`).

    ``unscaled``: HiGHS keeps the rows as they are passed (no scaling of its own), so that it
    holds each to ``ROW_TOL`` in the model's units, as the check does, its MIP more tightly
    (:func:`mip_tolerance`; 1e-6 by default); for a model with score floors
    (:func:`for_model`), whose rows the model scales itself. HiGHS's own scaling multiplies a
    row by up to about 1/sqrt(its least x its largest coefficient): a floor row over scores
    near 1e-8 beside scores near 1 was held about 1e4 times tighter than the check
    (``tests/test_row_tolerance.py``, ``tests/test_hunt_s17.py``). Such a model's objective
    holds costs near 1e-8 too, below HiGHS's default dual feasibility tolerance (1e-7): every
    basis looked optimal and the bound fell below assignments worth 5e-8, so it runs at 1e-10,
    and its MIP at :func:`mip_tolerance` of ``level`` (the objective's, when known)."""
    from .linear_rows import ROW_TOL

    if not time_left > 0:
        raise OutOfTime

    h = _new_highs()
    h.setOptionValue("output_flag", False)  # HiGHS logs to the console; a user sees a bar
    h.setOptionValue("random_seed", int(options.seed) % (2 ** 31))
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_left))
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("mip_heuristic_effort", 0.3)
    h.setOptionValue("primal_feasibility_tolerance", ROW_TOL)
    if unscaled:
        h.setOptionValue("simplex_scale_strategy", 0)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        h.setOptionValue("mip_feasibility_tolerance", mip_tolerance(level))
    return h


def for_model(model) -> bool:
    """Whether HiGHS runs ``model`` (a :class:`~mentormatch.solvers.linear.LinearModel`)
    ``unscaled`` (:func:`highs_instance`): when it has score floor rows."""
    return bool(model.score_floor)


def pass_model(h, A, objective, lower, upper, integer, rhs, mip: bool):
    import highspy

    lp = highspy.HighsLp()
    nc, nr = A.shape[1], A.shape[0]
    lp.num_col_, lp.num_row_ = nc, nr
    lp.col_cost_ = -objective  # HiGHS minimises
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_ = np.full(nr, -highspy.kHighsInf)
    lp.row_upper_ = rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = nc, nr
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    if mip:
        kinds = np.where(integer, 1, 0)  # HighsVarType: 0 continuous, 1 integer
        lp.integrality_ = [highspy.HighsVarType(int(t)) for t in kinds]
    h.passModel(lp)


def model_status(h, rhs: np.ndarray) -> str:
    """HiGHS's status in the engine's words, a model without columns included: HiGHS calls it
    "Empty" whatever its rows; with no column every row reads ``0 <= rhs``, so it is infeasible
    exactly when a right-hand side is negative (a floor that needs places and no pair to give
    them), and optimal (at 0) otherwise."""
    import highspy

    s = h.getModelStatus()
    S = highspy.HighsModelStatus
    if s == S.kModelEmpty:
        return "infeasible" if np.any(np.asarray(rhs, float) < -1e-9) else "optimal"
    if s == S.kOptimal:
        return "optimal"
    if s in (S.kInfeasible,):
        return "infeasible"
    if s in (S.kTimeLimit, S.kInterrupt):
        return "time"
    if s in (S.kIterationLimit, S.kSolutionLimit):  # a work limit (nodes, iterations)
        return "limit"
    if s == S.kUnboundedOrInfeasible:
        return "infeasible"
    return str(h.modelStatusToString(s))


def without_presolve(h, rhs: np.ndarray, time_left: float | None = None) -> str:
    """The status of the LP in ``h`` solved again without presolve, within ``time_left`` seconds
    (> 0, else :class:`OutOfTime`: no run starts; None: ``h``'s own limit), asked when HiGHS
    (with its presolve) called it infeasible: the presolve may call a relaxation infeasible
    that holds a point within the rows' tolerance
    (:data:`~mentormatch.solvers.linear_rows.ROW_TOL`; a score floor's row with scores near
    1e-8 beside 1.9 did, two mentees matched meeting it by 7e-8).
    When that run finds a solution, ``h`` keeps it and stays without presolve."""
    if time_left is not None:
        if not time_left > 0:
            raise OutOfTime
        h.setOptionValue("time_limit", float(time_left))
    h.setOptionValue("presolve", "off")
    h.run()
    st = model_status(h, rhs)
    if st == "infeasible":
        h.setOptionValue("presolve", "choose")
    return st
