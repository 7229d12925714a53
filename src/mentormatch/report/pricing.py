"""Pricing the alternatives to a pair: the exact drop in the programme's total score when
another pair is forced (one exact re-solve each), and the constraints that bind on a pair.

Works on the pieces of a result (its ``data`` dict, the solved problem); never imports the
result class.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..constraints import RULE_WORDS
from ..errors import InfeasibleError, MentormatchError
from .words import short_number

__all__ = ["exact_solver", "solve_objective", "solve_outcome", "reference_objective",
           "forced_cost", "forced_cost_range", "forced_cost_bounds", "mentor_loads", "binding_constraints", "alternatives",
           "ALTERNATIVE_SOLVE_PAIRS"]

EXACT_SOLVERS = ("flow", "hungarian", "mip", "cpsat")


def exact_solver(problem, solver: str | None = None) -> str:
    """The solver used to price alternatives: the result's own when it is exact for the
    problem, else the one that models it exactly: the flow for plain problems, the engine
    (``"mip"``, proven bounds over every pair) with side constraints or fractional loads."""
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


def solve_outcome(problem, solver: str, seed: int = 0,
                  ids=None) -> tuple[float | None, float | None, str]:
    """(objective, bound, status) of ``problem`` solved by ``solver``: the optimum lies between
    ``objective`` and ``bound`` (equal when ``status`` is ``"optimal"``; ``bound`` None when
    the solver proved nothing above its answer); (None, None, message) if infeasible, the
    message naming people by id when ``ids`` (mentee ids, mentor ids) are given."""
    from ..solvers import SolverOptions, get_solver
    from ..solvers.blame import named

    try:
        sol = get_solver(solver)(problem, SolverOptions(seed=seed))
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


def forced_cost_range(problem, position: int, reference: tuple, solver: str, ids=None):
    """``(low, high, status, found)``: the drop in the total score when pair ``position`` is forced,
    by one re-solve with that pair locked, for an optimum known to lie in ``reference = (low,
    high)`` (``high`` None: unbounded). Exact (``low == high``) when the reference is and the
    re-solve is optimal; a re-solve that stops with a gap (a time limit) gives bounds: its
    optimum lies between its objective and its bound. ``low`` or ``high`` None when no bound
    gives it; ``(None, None, why, False)`` when forcing the pair is infeasible (``why`` naming
    people by id when ``ids``, mentee ids and mentor ids, are given)."""
    locked = problem.locked.copy()
    locked[position] = True
    value, bound, status = solve_outcome(_with(problem, locked=locked), solver, ids=ids)
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
            return objective - float(score[candidate].sum())
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


def mentor_loads(problem, chosen: np.ndarray) -> np.ndarray:
    P = problem.pairs
    return np.bincount(P.mentor[chosen], weights=problem.load[P.mentee[chosen]], minlength=P.n_mentors)


def binding_constraints(problem, chosen: np.ndarray, position: int, mentor_ids) -> list[str]:
    """Plain-words constraints that bind on the chosen pair at ``position`` of problem.pairs."""
    P = problem.pairs
    i, j = int(P.mentee[position]), int(P.mentor[position])
    load = mentor_loads(problem, chosen)
    out = []
    if load[j] >= problem.capacity[j] - 1e-9:
        out.append(f"mentor {mentor_ids[j]} is at capacity "
                   f"({short_number(load[j], 2)} of {short_number(problem.capacity[j], 2)})")
    if problem.locked[position]:
        out.append("the pair is locked by the programme")
    side = problem.side
    if side.min_load is not None and side.min_load[j] > 0 and load[j] <= side.min_load[j] + 1e-9:
        out.append(f"mentor {mentor_ids[j]} is at its minimum load ({short_number(side.min_load[j])})")
    if side.budget is not None:
        active = load > 0
        spent = float(((side.stipend_fixed if side.stipend_fixed is not None else 0) * active).sum()
                      + ((side.stipend_per_mentee if side.stipend_per_mentee is not None else 0) * load).sum())
        if spent >= side.budget * (1 - 1e-6):
            out.append(f"the budget is used up ({spent:,.0f} of {side.budget:,.0f})")
    if side.group is not None and (side.score_floor is not None or side.share_floor is not None):
        g = int(side.group[i])
        if g >= 0:
            name = side.group_names[g] if side.group_names else str(g)
            mt = P.mentee[chosen]
            sc = problem.score[chosen]
            in_g = side.group[mt] == g
            if side.score_floor is not None and len(sc) and in_g.any():
                overall, mean_g = float(sc.mean()), float(sc[in_g].mean())
                floor = side.score_floor * overall
                state = "binds" if mean_g <= floor + 1e-6 * max(1.0, abs(floor)) else "is active"
                out.append(f"the score floor for group {name} {state} (group mean {mean_g:.3f}, "
                           f"floor {side.score_floor:g} x overall mean {overall:.3f} = {floor:.3f})")
            if side.share_floor is not None:
                members = int((side.group == g).sum())
                matched = len(np.unique(mt[in_g]))
                share = matched / members if members else 1.0
                state = "binds" if share <= side.share_floor + 1.0 / max(members, 1) - 1e-9 else "is active"
                out.append(f"the matched-share floor for group {name} {state} ({matched} of {members} "
                           f"= {share:.0%}, floor {side.share_floor:.0%})")
    return out


#: ``cost`` is the exact drop in the total score when the alternative is forced (one re-solve);
#: ``cost_low`` and ``cost_high`` bound it (equal to ``cost`` when it is exact; see
#: :func:`forced_cost_bounds` for rounds too large to re-solve).
_ALT_COLUMNS = ["mentor_id", "score", "eligible", "rule", "mentor_load", "mentor_capacity",
                "cost", "text", "cost_low", "cost_high"]


def _bounds_words(low, high, how: str, high_how: str = "a swap that holds it") -> str:
    if low is not None and not np.isfinite(low):
        return "cannot be forced: no place is left for it"
    lo = None if low is None else (0.0 if abs(low) < 1e-9 else low)
    hi = None if high is None else (0.0 if abs(high) < 1e-9 else high)
    if lo is not None and hi is not None:
        if abs(hi - lo) < 1e-9:
            return f"forcing it lowers the programme's total score by {hi:.4f}"
        return (f"forcing it lowers the programme's total score by at least {lo:.4f} ({how}) "
                f"and at most {hi:.4f} ({high_how})")
    if lo is not None:
        return f"forcing it lowers the programme's total score by at least {lo:.4f} ({how})"
    if hi is not None:
        return f"forcing it lowers the programme's total score by at most {hi:.4f} ({high_how})"
    return "the cost of forcing it is not bounded here"


#: Above this many candidate pairs in the solved problem, alternatives are listed with their
#: scores but not priced (pricing one is an exact re-solve of the whole round).
ALTERNATIVE_SOLVE_PAIRS = 1_000_000


def alternatives(data, problem, chosen, i, j, pos, objective, status, solver, n,
                 only: int | None = None) -> pd.DataFrame:
    """The ``n`` best mentors of mentee ``i`` other than its own, each with the exact cost of
    forcing it (columns ``_ALT_COLUMNS``); ``only``: price just that mentor index."""
    if n <= 0:
        return pd.DataFrame(columns=_ALT_COLUMNS)
    P = problem.pairs
    m_ids = data["mentor_ids"].ids
    complete, scores = data.get("complete"), data.get("scores")
    which, names = data.get("which_rule"), data.get("rule_names")
    current = set(P.mentor[chosen[P.mentee[chosen] == i]].tolist())
    m = P.n_mentors
    if complete is not None and scores is not None and which is not None:
        js = np.arange(m)
        cpos = i * complete.n_mentors + js
        s = scores.total[cpos]
        rule = which[cpos]
        keep = np.ones(m, bool)
        if names and "same_person" in names:
            keep &= rule != names.index("same_person")
    else:
        starts = P.starts()
        own = np.arange(starts[i], starts[i + 1])
        js, s, rule = P.mentor[own], problem.score[own], np.full(len(own), -1)
        outside = _asked_outside(data, i, only, js)
        if outside is not None:  # the scale path: a mentor asked about outside the solver's pairs
            js, s, rule = np.append(js, only), np.append(s, outside), np.append(rule, -1)
        keep = np.ones(len(js), bool)
    keep &= ~np.isin(js, list(current))
    if only is not None:
        keep &= js == only
    js, s, rule = js[keep], s[keep], rule[keep]
    order = np.lexsort((m_ids[js].astype(str), -s))[:n]
    load = mentor_loads(problem, chosen)
    solver_name = exact_solver(problem, solver)
    ref = None
    rows = []
    for k in order:
        jj, sc, r = int(js[k]), float(s[k]), int(rule[k])
        mid = str(m_ids[jj])
        full = load[jj] >= problem.capacity[jj] - 1e-9
        lc = f"{short_number(load[jj], 2)}/{short_number(problem.capacity[jj], 2)}"
        if r >= 0:
            rname = names[r]
            words = RULE_WORDS.get(rname, f"is removed by rule {rname!r}")
            words = words.replace("are ", "is ", 1).replace("were ", "was ", 1)
            words = words.replace("are the mentee themself", "is the mentee themself")
            rows.append((mid, sc, False, rname, load[jj], problem.capacity[jj], np.nan,
                         f"{mid} (score {sc:.3f}): ineligible, {words} (rule {rname!r})",
                         np.nan, np.nan))
            continue
        p = int(P.locate(np.array([i]), np.array([jj]))[0])
        state = f"mentor full ({lc} places)" if full else f"mentor has room ({lc} places)"
        if p < 0:
            why = _locks_refuse(problem, i, jj, data["mentee_ids"].ids, m_ids)
            text = (f"{mid} (score {sc:.3f}, {state}): cannot be forced: {why}" if why else
                    f"{mid} (score {sc:.3f}): outside the candidate pairs the solver was given")
            rows.append((mid, sc, True, "", load[jj], problem.capacity[jj], np.nan, text,
                         np.nan, np.nan))
            continue
        if len(P) > ALTERNATIVE_SOLVE_PAIRS:  # one re-solve per alternative: bounds instead
            low, high, how = forced_cost_bounds(problem, data["solution"], p)
            rows.append((mid, sc, True, "", load[jj], problem.capacity[jj], np.nan,
                         f"{mid} (score {sc:.3f}, {state}): {_bounds_words(low, high, how)} "
                         f"(bounds: exact re-solves are skipped above {ALTERNATIVE_SOLVE_PAIRS:,} "
                         f"candidate pairs; this round has {len(P):,})",
                         np.nan if low is None else low, np.nan if high is None else high))
            continue
        if ref is None:
            ref = _reference_range(problem, data.get("solution"), objective, status, solver,
                                   solver_name)
        low, high, why, found = forced_cost_range(problem, p, ref, solver_name,
                                                  (data["mentee_ids"].ids, m_ids))
        exact = low is not None and high is not None and abs(high - low) <= 1e-9
        if not found:
            text = f"{mid} (score {sc:.3f}, {state}): cannot be forced: {why}"
        elif exact:
            cost = max(high, 0.0) if abs(high) < 1e-9 else high
            if abs(cost) < 1e-9:
                verdict = "an equally good alternative: forcing it costs nothing"
            else:
                verdict = f"forcing it lowers the programme's total score by {cost:.4f}"
            text = f"{mid} (score {sc:.3f}, {state}): {verdict}"
            low = high = cost
        else:  # a re-solve ended with a gap: its figures are bounds, stated as bounds
            text = (f"{mid} (score {sc:.3f}, {state}): "
                    f"{_bounds_words(low, high, 'the re-solve bound', 'the re-solve answer')} "
                    f"(re-solve status {why}: it stopped with a gap)")
        c = high if exact else np.nan
        rows.append((mid, sc, True, "", load[jj], problem.capacity[jj], c, text,
                     np.nan if low is None else low, np.nan if high is None else high))
    return pd.DataFrame(rows, columns=_ALT_COLUMNS)


def _asked_outside(data, i: int, only: int | None, own_mentors: np.ndarray) -> float | None:
    """The score of the pair (mentee ``i``, mentor ``only``) read from the round's pair source
    when the solver was not given it (the scale path: its candidates leave out the pairs of a
    mentor with no place and of a mentee its locks fill) and it is eligible; else None."""
    reader = data.get("pair_reader")
    if only is None or reader is None or np.isin(only, own_mentors):
        return None
    score = float(reader().at(np.array([i]), np.array([only]))[0])
    return score if np.isfinite(score) else None


def _locks_refuse(problem, i: int, j: int, mentee_ids, mentor_ids) -> str | None:
    """Why the locks alone forbid forcing the pair (``i``, ``j``) outside ``problem``'s pairs
    (the words of the forced re-solve on the complete set: the diagnosis's ``locked`` findings,
    by id), or None when they allow it. No re-solve: the locked pairs and this one only."""
    from ..solvers.diagnose import lock_conflicts, locks_alone

    P, locked = problem.pairs, np.asarray(problem.locked, bool)
    alone = locks_alone(np.append(P.mentee[locked], i), np.append(P.mentor[locked], j),
                        P.n_mentees, problem.capacity, problem.demand, problem.load)
    found = lock_conflicts(alone, mentee_ids, mentor_ids)
    return str(InfeasibleError(found)).splitlines()[0] if found else None


def _reference_range(problem, solution, objective: float, status: str, result_solver,
                     solver: str) -> tuple:
    """``(low, high)`` around the optimum forced alternatives are compared with: the result's
    objective when it was solved exactly by ``solver`` on the plain scores, else a fresh
    re-solve, narrowed by the result's own objective and bound (``high`` None: unbounded)."""
    cert = getattr(solution, "certificate", None) or {}
    plain = cert.get("objective", "score") == "score"  # a bonus round optimised score + bonus
    if status == "optimal" and result_solver == solver and plain:
        return float(objective), float(objective)
    value, bound, _ = solve_outcome(problem, solver)
    low = float(objective) if value is None else max(float(objective), value)
    highs = [b for b in (bound, getattr(solution, "bound", None) if plain else None)
             if b is not None]
    return low, (max(min(highs), low) if highs else None)
