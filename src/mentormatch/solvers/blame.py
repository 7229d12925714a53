"""Why a problem the engine proved infeasible cannot be solved: the diagnosis's numbers
(:func:`~mentormatch.solvers.diagnose.diagnose`) and, when they name nothing beyond people who
cannot take part, the constraint families whose removal alone restores feasibility, each found
by a re-solve through the engine (:mod:`mentormatch.solvers.engine`) within the caller's time
limit."""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..errors import Conflict, InfeasibleError, TimeLimitError
from .base import AssignmentProblem, SolverOptions
from .linear import FAMILIES

__all__ = ["Diagnosed", "blame", "diagnosis", "named"]


class Diagnosed(InfeasibleError):
    """An :class:`~mentormatch.errors.InfeasibleError` whose conflicts name people by index
    (``"mentor #1"``) in ``problem``, the problem diagnosed: the edge that holds the ids names
    them (:func:`mentormatch.pipeline.wrap.labelled`), on every pair source alike. ``problem``
    is None once the error has crossed a process boundary (pickled: its conflicts only)."""

    def __init__(self, conflicts: list[Conflict] | Conflict,
                 problem: AssignmentProblem | None = None):
        super().__init__(conflicts)
        self.problem = problem


def blame(problem: AssignmentProblem, options: SolverOptions, deadline: float, solve,
          limit: float) -> list[Conflict]:
    """The constraint families whose removal alone makes the problem feasible: one re-solve per
    family, each bounded by the engine's work limits, all of them within the caller's time limit
    (``deadline``, the outer stop). A re-solve that finds an assignment blames its family, one
    that proves infeasibility clears it; one that ends with neither (the time limit ran out, or
    the search ended at its work limits) leaves its family undecided, and the conflict says so:
    neither blamed nor cleared. With the time limit far off, the answer is the same on any
    machine. ``solve(problem, options)`` is the engine's re-solve (passed in: the engine imports
    this module), ``limit`` the caller's time limit in seconds, for the message."""

    present = [f for f in FAMILIES if f in problem.side.active()
               or (f == "locked" and np.any(problem.locked))]
    culprits, undecided = [], {}
    off = {"min_load": {"min_load": None}, "budget": {"budget": None},
           "reservation": {"reservation": None}, "balanced_load": {"balanced_load": False},
           "score_floor": {"score_floor": None}, "share_floor": {"share_floor": None}}
    for family in present:
        if family == "locked":
            p = dataclasses.replace(problem, locked=np.zeros(len(problem.pairs), bool))
        else:
            p = dataclasses.replace(problem, side=dataclasses.replace(problem.side, **off[family]))
        left = deadline - time.perf_counter()
        if left <= 0:
            undecided[family] = "time"
            continue
        try:
            # the time left, from the re-solve's own start
            solve(p, dataclasses.replace(options, time_limit=left, started=None))
            culprits.append(family)
        except InfeasibleError:
            pass
        except TimeLimitError as e:
            undecided[family] = e.reason
    open_ = ""
    if undecided:
        why = (f"the time limit ({limit:g} s) ran out" if "time" in undecided.values() else
               "the search ended at its work limits")
        open_ = (f"; whether dropping {' or '.join(undecided)} alone would help was not "
                 f"decided: {why}")
    if culprits:
        return [Conflict("+".join(culprits),
                         f"no assignment meets all of {', '.join(present)}; dropping any one of "
                         f"{', '.join(culprits)} alone would make one possible" + open_,
                         f"relax {' or '.join(culprits)}")]
    if undecided:
        cleared = [f for f in present if f not in undecided]
        return [Conflict("+".join(present),
                         f"no assignment meets {', '.join(present)} together"
                         + (f"; dropping {' or '.join(cleared)} alone would not help"
                            if cleared else "") + open_,
                         f"relax {' or '.join(undecided)}, or raise the time limit to decide"
                         if "time" in undecided.values() else
                         f"relax {' or '.join(undecided)}, or two or more of them")]
    return [Conflict("+".join(present) or "capacity",
                     f"no assignment meets {', '.join(present) or 'the constraints'} together; "
                     "no single one of them is to blame", "relax two or more of them")]


def diagnosis(problem: AssignmentProblem, cause: InfeasibleError,
              options: SolverOptions | None = None, deadline: float | None = None, *,
              solve=None, default_limit: float = 60.0) -> InfeasibleError:
    """``cause``, the engine's proof that ``problem`` is infeasible, with the conflicts of
    :func:`~mentormatch.solvers.diagnose.diagnose` on ``problem`` in front (mentees without a
    eligible pair left out), as a :class:`Diagnosed` error that keeps ``problem`` so that the
    pipeline names the people in it by id.

    Without ``options``, the engine's proof follows the diagnosis; ``cause``'s conflicts as they
    are when the diagnosis finds nothing. With ``options`` (the engine's
    :func:`~mentormatch.solvers.engine.solve_mip` on the caller's problem, and
    :func:`~mentormatch.solvers.engine.solve_source` on the problem over every pair of its
    source), the diagnosis replaces it, and when it names nothing beyond people who cannot take part, the constraint
    families to blame follow (:func:`blame`, one solve per family, all before ``deadline``,
    the caller's time limit; None: the limit counted from now, or from ``options.started``). ``solve`` and
    ``default_limit``: the engine's re-solve and its time limit when ``options`` sets none."""
    from .diagnose import diagnose

    found = [c for c in diagnose(problem) if c.constraint != "no_candidate"]
    if options is None:
        return Diagnosed(found + [c for c in cause.conflicts if c not in found], problem)
    if not any("cannot take part" not in c.detail for c in found):
        limit = default_limit if options.time_limit is None else float(options.time_limit)
        if deadline is None:
            deadline = options.deadline(time.perf_counter(), default_limit)
        found += blame(problem, options, deadline, solve, limit)
    return Diagnosed(found, problem)


def named(problem: AssignmentProblem, mentee_ids, mentor_ids,
          cause: InfeasibleError) -> InfeasibleError:
    """``cause`` with its conflicts naming people by their ids (``mentee_ids``, ``mentor_ids``:
    one per index of ``problem``), not by index; a :class:`Diagnosed` cause that keeps its own
    problem is read in that one.

    Each conflict of ``cause`` that the diagnosis gives without ids is replaced by the same
    finding with them; the others (the constraint families to blame, the engine's proof) are
    kept, in their order: a mentor who "cannot take part" is a conflict only beside the floor
    that needs them. When ``cause`` holds none of the diagnosis's findings, they go in front
    (mentees without an eligible pair left out: they are unmatched, not a conflict)."""
    from .diagnose import diagnose

    if isinstance(cause, Diagnosed) and cause.problem is not None:
        problem = cause.problem
    key = lambda c: (c.constraint, c.detail, c.relaxation)
    by_id = diagnose(problem, mentee_ids, mentor_ids)
    by_index = dict(zip(map(key, diagnose(problem)), by_id))  # the same findings, in one order
    if any(key(c) in by_index for c in cause.conflicts):
        return InfeasibleError([by_index.get(key(c), c) for c in cause.conflicts])
    found = [c for c in by_id if c.constraint != "no_candidate"]
    return InfeasibleError(found + cause.conflicts) if found else cause
