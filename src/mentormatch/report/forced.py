"""The exact drop in the programme's total score when another pair is forced: one exact
re-solve each (:func:`forced_cost_range`), or valid bounds without a re-solve for rounds too
large to re-solve once per alternative (:func:`forced_cost_bounds`), or one re-solve of a
scale-path round on its pair source for one question (:func:`forced_on_source`), against a
reference optimum (:func:`reference_objective`, :func:`_reference_range`). The table of alternatives that
reads them is :mod:`mentormatch.report.pricing`.

Works on the pieces of a result (the solved problem, its solution); never imports the result
class.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..errors import InfeasibleError, MentormatchError

__all__ = ["EXACT_SOLVERS", "FAIR_OBJECTIVES", "exact_solver", "solve_objective", "solve_outcome", "resolve_options", "round_limit",
           "past_limit",
           "reference_objective", "forced_cost", "forced_cost_range", "forced_cost_bounds",
           "forced_on_source", "plain_round", "mentor_loads", "SOURCE_RESOLVE_PAIRS"]

EXACT_SOLVERS = ("flow", "hungarian", "mip", "cpsat")
#: The result solvers whose objective is not the total score: their own re-solves price a pair
#: (:mod:`.forced_fair`).
FAIR_OBJECTIVES = ("maxmin", "leximin")


def exact_solver(problem, solver: str | None = None) -> str:
    """The solver used to price alternatives: the result's own when it is exact for the
    problem, else the one that models it exactly: the flow for plain problems, the engine
    (``"mip"``, proven bounds over every pair) with side constraints or fractional loads. Under
    ``fairness.objective`` maxmin or leximin, that solver (:mod:`.forced_fair`: its objective
    is priced, not the total).

    >>> exact_solver(None, "maxmin"), exact_solver(None, "leximin")
    ('maxmin', 'leximin')
    """
    if solver in FAIR_OBJECTIVES:  # the objective is not the total: its own solver prices it
        return solver
    constrained = problem.side.active() or not problem.integral
    if solver in EXACT_SOLVERS and not (solver in ("flow", "hungarian") and constrained):
        return solver
    return "mip" if constrained else "flow"


def _with(problem, *, locked=None, capacity=None):
    from ..solvers.base import AssignmentProblem

    return AssignmentProblem(problem.pairs, problem.score,
                             problem.capacity if capacity is None else capacity,
                             problem.demand, problem.load,
                             problem.locked if locked is None else locked,
                             problem.coverage_first, problem.side,
                             problem.mentee_rank, problem.mentor_rank)


def resolve_options(data):
    """The options of one explanation's re-solves: the round's time limit (:func:`round_limit`:
    the programme's ``time_limit`` or ``assign()``'s; none: the plain flows have none and the
    searches share ``solvers.base.SEARCH_TIME_LIMIT``), counted from now, the explanation's
    call: its re-solves share it, none starts past it (:func:`past_limit`), and one it stops
    answers with a gap (bounds, stated as bounds).

    >>> resolve_options({}).time_limit is None
    True
    """
    from ..solvers import SolverOptions

    limit = round_limit(data)
    return SolverOptions(time_limit=None if limit is None else float(limit),
                         started=time.perf_counter())


def round_limit(data) -> float | None:
    """The round's time limit in seconds (``SolveRecord.time_limit``: the rules' for
    ``pair()``, the argument for ``assign()``), else the rules' (a record built by hand); None:
    each solver's default.

    >>> round_limit({"time_limit": 0.5}), round_limit({})
    (0.5, None)
    """
    limit = data.get("time_limit")
    if limit is None and data.get("rules") is not None:
        limit = data.get("rules").settings.get("time_limit")
    return None if limit is None else float(limit)


def past_limit(options) -> bool:
    """Whether the time limit of ``options`` (:func:`resolve_options`) has passed."""
    if options is None:
        return False
    deadline = options.deadline(time.perf_counter())
    return deadline is not None and options.started is not None and time.perf_counter() >= deadline


def solve_outcome(problem, solver: str, seed: int = 0,
                  ids=None, options=None) -> tuple[float | None, float | None, str]:
    """(objective, bound, status) of ``problem`` solved by ``solver``: the optimum lies between
    ``objective`` and ``bound`` (equal when ``status`` is ``"optimal"``; ``bound`` None when
    the solver proved nothing above its answer); (None, None, message) if infeasible, the
    message naming people by id when ``ids`` (mentee ids, mentor ids) are given. ``options``:
    :func:`resolve_options`' (its time limit; ``seed`` is this call's)."""
    from ..solvers import SolverOptions, get_solver
    from ..solvers.blame import named

    options = SolverOptions(seed=seed) if options is None else dataclasses.replace(options, seed=seed)
    try:
        sol = get_solver(solver)(problem, options)
    except (MentormatchError, ValueError) as exc:
        if ids is not None and isinstance(exc, InfeasibleError):
            exc = named(problem, *ids, exc)
        return None, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if sol.status == "infeasible":
        return None, None, sol.message or "infeasible"
    value = float(sol.objective)
    if sol.status == "optimal":
        return value, value, sol.status
    return value, None if sol.bound is None else max(float(sol.bound), value), sol.status


def solve_objective(problem, solver: str, seed: int = 0) -> tuple[float | None, str]:
    """(objective, status) of ``problem`` solved by ``solver``; (None, message) if infeasible."""
    value, _, status = solve_outcome(problem, solver, seed)
    return value, status


def reference_objective(problem, objective: float, status: str, result_solver: str | None,
                        solver: str) -> float:
    """The optimum that forced alternatives are compared with: the result's objective when the
    result was solved exactly by ``solver``, else a fresh exact solve."""
    if status == "optimal" and result_solver == solver:
        return float(objective)
    value, _ = solve_objective(problem, solver)
    return float(objective) if value is None else value


def forced_cost(problem, position: int, reference: float, solver: str) -> tuple[float | None, str]:
    """Exact drop in the total score when pair ``position`` of ``problem.pairs`` is forced:
    ``reference - objective(problem with that pair locked)``. (None, why) when forcing it is
    infeasible."""
    low, _, status, found = forced_cost_range(problem, position, (reference, reference), solver)
    return (low if found else None), status


def forced_cost_range(problem, position: int, reference: tuple, solver: str, ids=None,
                      options=None):
    """``(low, high, status, found)``: the drop in the total score when pair ``position`` is forced,
    by one re-solve with that pair locked, for an optimum known to lie in ``reference = (low,
    high)`` (``high`` None: unbounded). Exact (``low == high``) when the reference is and the
    re-solve is optimal; a re-solve that stops with a gap (a time limit) gives bounds: its
    optimum lies between its objective and its bound. ``low`` or ``high`` None when no bound
    gives it; ``(None, None, why, False)`` when forcing the pair is infeasible (``why`` naming
    people by id when ``ids``, mentee ids and mentor ids, are given). ``options``: the
    re-solve's time limit (:func:`resolve_options`)."""
    locked = problem.locked.copy()
    locked[position] = True
    value, bound, status = solve_outcome(_with(problem, locked=locked), solver, ids=ids,
                                         options=options)
    if value is None:
        return None, None, status, False
    ref_low, ref_high = reference
    low = None if bound is None else ref_low - bound
    high = None if ref_high is None else ref_high - value
    return low, high, status, True


def forced_cost_bounds(problem, solution, position: int) -> tuple[float | None, float | None, str]:
    """Valid bounds ``(low, high, how)`` on the drop in the total score, against ``solution``,
    when pair ``position`` of ``problem.pairs`` is forced: no re-solve, for rounds too large to
    re-solve once per alternative (:data:`ALTERNATIVE_SOLVE_PAIRS`).

    * ``high``: the drop of one feasible assignment that holds the pair: the solution with the
      mentee's weakest unlocked pair moved to this mentor, the mentor's weakest unlocked mentee
      let go when it is full, and that mentee placed on its best candidate mentor with room
      (kept only if it meets every constraint, recomputed). None when no such move is found.
    * ``low``: with the dual prices ``u, p`` of a certified plain flow
      (:attr:`~mentormatch.solvers.base.Solution.prices`), weak duality gives, for every
      assignment over every pair that holds ``(i, j)``, ``total <= bound - (u_i + p_j - s_ij)``;
      so ``low = objective - bound + (u_i + p_j - s_ij)``. Without prices (side constraints, a
      bonus objective, a solver that keeps none): ``low = objective - bound`` (no assignment
      beats the bound), and None without a bound. ``low`` may be below 0 when the solution is
      not proven optimal: forcing a pair can then raise the total.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers.base import AssignmentProblem, SolverOptions
    >>> from mentormatch.solvers.certify import solve_sparse_certified
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([3.0, 1.0, 2.0, 0.5]),
    ...                       np.array([1.0, 1.0]))
    >>> sol = solve_sparse_certified(p, SolverOptions(top_k=1), 0.0)
    >>> sol.chosen.tolist(), sol.objective
    ([0, 3], 3.5)
    >>> low, high, how = forced_cost_bounds(p, sol, 1)  # exact cost: 3.5 - (1 + 2) = 0.5
    >>> round(low, 6) <= 0.5 <= round(high, 6), round(high, 6)
    (True, 0.5)
    """
    P = problem.pairs
    i, j = int(P.mentee[position]), int(P.mentor[position])
    objective = float(solution.objective)
    chosen = np.asarray(solution.chosen, dtype=np.int64)
    bound = None if solution.bound is None else float(solution.bound)
    cert = solution.certificate or {}
    plain = not problem.side.active() and problem.integral
    prices = getattr(solution, "prices", None)
    if np.isin(position, chosen):  # already held: forcing it changes nothing
        return 0.0, 0.0, "the pair is in the assignment"
    if (prices is not None and plain and bound is not None and cert.get("holds")
            and cert.get("objective", "score") == "score"):
        u, p = prices
        slack = float(u[i] + p[j] - problem.score[position])
        low = objective - bound + max(slack, 0.0) if np.isfinite(slack) else np.inf
        how = "the certificate's dual prices"
    elif bound is not None:
        low, how = objective - bound, "the result's bound"
    else:
        low, how = None, "no bound"
    high = _swap_drop(problem, chosen, position, objective)
    return low, high, how


def _swap_drop(problem, chosen: np.ndarray, position: int, objective: float) -> float | None:
    """The drop of the swap assignment of :func:`forced_cost_bounds` for an unchosen pair
    (None: none found)."""
    swapped = _swap(problem, chosen, position)
    return None if swapped is None else objective - float(problem.score[swapped].sum())


def _swap(problem, chosen: np.ndarray, position: int) -> np.ndarray | None:
    """The swap assignment of :func:`forced_cost_bounds` that holds the unchosen pair
    ``position`` (positions in ``problem.pairs``), meeting every constraint (recomputed);
    None when none is found."""
    P, score, locked = problem.pairs, problem.score, problem.locked
    i, j = int(P.mentee[position]), int(P.mentor[position])
    keep = np.ones(len(chosen), bool)
    mine = np.flatnonzero(P.mentee[chosen] == i)
    if len(mine) >= problem.demand[i]:  # the mentee lets its weakest unlocked pair go
        free = mine[~locked[chosen[mine]]]
        if not len(free):
            return None
        keep[free[np.argmin(score[chosen[free]])]] = False
    load = mentor_loads(problem, chosen[keep])
    need = load[j] + problem.load[i] - problem.capacity[j]
    dropped = []
    if need > 1e-9:  # the mentor lets its weakest unlocked mentees go
        theirs = np.flatnonzero(keep & (P.mentor[chosen] == j) & ~locked[chosen])
        for q in theirs[np.argsort(score[chosen[theirs]], kind="stable")]:
            keep[q] = False
            dropped.append(int(P.mentee[chosen[q]]))
            need -= problem.load[P.mentee[chosen[q]]]
            if need <= 1e-9:
                break
        if need > 1e-9:
            return None
    base = np.concatenate([chosen[keep], [position]])
    options = [base]
    if len(dropped) == 1:  # the let-go mentee moves to its best mentor with room, if any
        k = dropped[0]
        starts = P.starts()
        row = np.arange(starts[k], starts[k + 1])
        load = mentor_loads(problem, base)
        taken = np.isin(P.mentor[row], P.mentor[base[P.mentee[base] == k]])
        room = (load[P.mentor[row]] + problem.load[k] <= problem.capacity[P.mentor[row]] + 1e-9) & ~taken
        row = row[room & (P.mentor[row] != j)]
        if len(row):
            options.insert(0, np.concatenate([base, [row[np.argmax(score[row])]]]))
    for candidate in options:
        if not _violated(problem, candidate):
            return candidate
    return None


def _violated(problem, chosen: np.ndarray) -> bool:
    from ..solvers.linear import LinearModel

    P = problem.pairs
    mask = np.zeros(len(P), bool)
    mask[chosen] = True
    if problem.locked[~mask].any():
        return True
    if np.any(np.bincount(P.mentee[chosen], minlength=P.n_mentees) > problem.demand):
        return True
    if np.any(mentor_loads(problem, chosen) > problem.capacity + 1e-9):
        return True
    if not problem.side.active():
        return False
    return bool(LinearModel(problem).check(P.mentee, P.mentor, problem.score, mask))


#: Up to this many pairs in a plain round (:func:`plain_round`), "why not X" about one pair
#: re-solves the round with the pair locked, above :data:`report.pricing.ALTERNATIVE_SOLVE_PAIRS`
#: too: on the complete set its pairs, on the scale path its pair source
#: (:func:`forced_on_source`, mentees x mentors counted): the exact cost. Above it, bounds. Measured at 5,000 x 1,000
#: (synthetic seed 3, capacity 5, on bounds; load 19): the locked re-solve 1.3 s CPU, pair()
#: 1.9 s. Not tuned further.
SOURCE_RESOLVE_PAIRS = 25_000_000


def plain_round(problem, solution) -> bool:
    """Whether the round is the plain flow's problem: no side constraint, bonus or
    coverage_first, unit loads (one re-solve of it is a flow, whatever its size)."""
    cert = getattr(solution, "certificate", None) or {}
    return (not problem.side.active() and problem.integral and not problem.coverage_first
            and cert.get("objective", "score") == "score"
            and getattr(solution, "solver", None) not in FAIR_OBJECTIVES)


def forced_on_source(data, problem, solution, objective: float, status: str, solver, i: int,
                     j: int, limits=None):
    """``(low, high, status, found)`` as :func:`forced_cost_range` gives them, for a plain
    scale-path round (no side constraint, bonus or coverage_first; unit loads) of at most
    :data:`SOURCE_RESOLVE_PAIRS` pairs: the round re-solved by the certified flow on its pair
    source (every eligible pair, never held at once) with its locks and (``i``, ``j``)
    locked, against the round's optimum (its own objective when the flow proved it; else one
    more re-solve without the pair). None where this does not apply (bounds instead). The
    locks must allow the pair (:func:`mentormatch.solvers.diagnose.lock_conflicts`): with
    no side constraint the re-solve is then feasible. ``limits``: the re-solves' time limit
    (:func:`resolve_options`): a re-solve it stops gives bounds."""
    from ..solvers import SolverOptions

    reader = data.get("pair_reader")
    P = problem.pairs
    if (reader is None or not plain_round(problem, solution)
            or P.n_mentees * P.n_mentors > SOURCE_RESOLVE_PAIRS):
        return None
    rows = reader()
    locks = np.asarray(problem.locked, bool)
    options = dataclasses.replace(limits or SolverOptions(), seed=getattr(data.get("rules"), "seed", 0))
    deadline = lambda: options.deadline(time.perf_counter())  # noqa: E731  (None: no limit)

    def solve(extra: bool) -> tuple[float, float | None, str]:
        li, lj = P.mentee[locks], P.mentor[locks]
        if extra:
            li, lj = np.append(li, i), np.append(lj, j)
        if rows.blocky:
            from ..solvers.certify import solve_scored

            _, sol = solve_scored(rows.scorer, problem.capacity, n_mentees=P.n_mentees,
                                  n_mentors=P.n_mentors, demand=problem.demand, locked=(li, lj),
                                  options=options, deadline=deadline())
        else:
            from ..solvers.bounded import solve_bounded

            _, sol = solve_bounded(rows.scorer, problem.capacity, demand=problem.demand,
                                   locked=(li, lj), options=options, deadline=deadline())
        value = float(sol.objective)
        bound = value if sol.status == "optimal" else (None if sol.bound is None else float(sol.bound))
        return value, bound, sol.status

    if status == "optimal" and solver == "flow":
        ref = (float(objective), float(objective))
    else:
        value, bound, _ = solve(False)
        ref = (max(value, float(objective)), bound)
    value, bound, how = solve(True)
    low = None if bound is None else ref[0] - bound
    high = None if ref[1] is None else ref[1] - value
    return low, high, how, True


def mentor_loads(problem, chosen: np.ndarray) -> np.ndarray:
    P = problem.pairs
    return np.bincount(P.mentor[chosen], weights=problem.load[P.mentee[chosen]], minlength=P.n_mentors)


def _reference_range(problem, solution, objective: float, status: str, result_solver,
                     solver: str, options=None) -> tuple:
    """``(low, high)`` around the optimum forced alternatives are compared with: the result's
    objective when it was solved exactly by ``solver`` on the plain scores, else a fresh
    re-solve, narrowed by the result's own objective and bound (``high`` None: unbounded)."""
    cert = getattr(solution, "certificate", None) or {}
    plain = cert.get("objective", "score") == "score"  # a bonus round optimised score + bonus
    if status == "optimal" and result_solver == solver and plain:
        return float(objective), float(objective)
    value, bound, _ = ((None, None, "") if past_limit(options) else
                       solve_outcome(problem, solver, options=options))
    low = float(objective) if value is None else max(float(objective), value)
    highs = [b for b in (bound, getattr(solution, "bound", None) if plain else None)
             if b is not None]
    return low, (max(min(highs), low) if highs else None)
