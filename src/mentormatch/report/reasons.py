"""Why each unmatched mentee is unmatched, in plain words with numbers from the data."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ..constraints import RULE_WORDS
from .bonus import NO_BONUS, ObjectiveBonus
from .forced_fair import FAIR_OBJECTIVES

REASON_CODES = ("no_mentors", "no_eligible_mentor", "no_capacity", "capacity_taken", "no_gain",
                "trade_off", "none_needed", "time_limit")


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def unmatched_reasons(
    unmatched: np.ndarray,
    removed: pd.DataFrame,
    pair_mentee: np.ndarray,
    pair_mentor: np.ndarray,
    pair_score: np.ndarray,
    chosen: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    mentee_ids: np.ndarray,
    mentor_ids: np.ndarray,
    n_mentors: int,
    side_constraints: list[str],
    problem=None,
    max_solves: int = 200,
    not_reached: np.ndarray | None = None,
    stopped: bool = False,
    time_limit: float | None = None,
    solver: str | None = None,
    optimal: bool = False,
    every_pair=None,
    optimum: float | None = None,
    bonus: ObjectiveBonus | Callable[..., ObjectiveBonus] = NO_BONUS,
) -> pd.DataFrame:
    """One row per unmatched mentee: ``mentee_id``, ``reason_code``, ``reason``.

    Parameters
    ----------
    unmatched : mentee indices with no mentor.
    removed : mentees x rules counts of candidates each eligibility rule removed.
    pair_mentee, pair_mentor, pair_score : the eligible pairs given to the solver.
    chosen : positions of the chosen pairs among them.
    capacity : per mentor; load : per mentee.
    side_constraints : names of the active side constraints (budget, fairness floors, ...).
    problem : the AssignmentProblem, optional
        When given (and the problem is a plain flow problem: no side constraints, unit loads,
        whole capacities, no coverage_first), the "capacity_taken" reason states exactly the
        score the mentee would have needed: see :func:`needed_scores`. At most ``max_solves``
        re-solves are spent; beyond that the mentees' best few mentors are checked and the
        reason says so.
    not_reached : bool per mentee, optional
        The mentees with eligible mentors (or whose pairs were never scored) but no pair in
        the solver's set because the solve stopped at its time limit before it considered
        them: their reason says so (``"time_limit"``), never "no eligible mentor".
    stopped : bool
        The solve stopped at its time limit unproven (not "optimal"): a mentee left out while an
        eligible mentor has room for them is ``"time_limit"`` too, not a "trade_off" or "no_gain"
        (those are statements about an optimum, and none was proven).
    time_limit : float, optional
        The round's time limit: the exact "capacity_taken" re-solves share it, counted from
        this call; none starts past it, and the reasons of the mentors left unchecked say so
        (the approximate text, never a figure that was not computed).
    solver, optimal : str, bool
        The solver that made the answer and whether it proved it optimal. Under ``"maxmin"``
        and ``"leximin"`` the objective is not the total, so no score "needed" by the total is
        stated: the closest call of a "capacity_taken" mentee is priced in that objective
        instead (:func:`mentormatch.report.reasons_fair.fair_capacity_reasons`: the solver's
        own re-solves with the pair locked, up to ``max_solves`` and
        :data:`~mentormatch.report.reasons_fair.FAIR_REASON_SOLVES`, against a proven answer;
        else bounds, stated as bounds). "Full with better-scoring pairs" is said only where every
        eligible mentor's weakest pair scores at least this mentee's (side constraints and
        the fairness objectives can keep a weaker pair).
    every_pair : callable, optional
        The scale path's: ``() -> ((problem, chosen), why)`` over every eligible pair
        (:func:`mentormatch.report.pricing.every_pair`). Under the fairness objectives the
        reasons then read every eligible pair, as on the complete set (the fair sources hold
        fewer: "all 1 eligible mentors" where the complete set said 2).
    optimum : float, optional
        The plain flow's optimum of ``problem`` when the answer is that flow's, proven (no
        bonus): the exact "capacity_taken" reasons then start from it instead of solving the
        round once more (a third of their cost at 1,000 x 300).
    bonus : ObjectiveBonus or callable, optional
        The objective's bonus (priority, continuity:
        :class:`~mentormatch.report.bonus.ObjectiveBonus`), or a function of the problem giving
        it (called on the problem the reasons read: every eligible pair's under the fairness
        objectives). Held per pair, the exact "capacity_taken" figures of the total are priced
        in that objective (:func:`needed_scores` on ``score + bonus``, less the pair's bonus:
        the score the pair would have needed), and so are max-min's and leximin's (on ``score +
        bonus``, which the words say); not held per pair, no figure is stated.
    """
    unmatched = np.asarray(unmatched, dtype=np.int64)
    if len(unmatched) and solver in FAIR_OBJECTIVES and every_pair is not None:
        every, _ = every_pair()
        if every is not None:  # every eligible pair, the answer's at their positions there
            problem, chosen = every
            pair_mentee, pair_mentor, pair_score = problem.pairs.mentee, problem.pairs.mentor, problem.score
    if len(unmatched) == 0:  # everyone matched: nothing to explain, no work on the pairs
        # (one empty object block: half the time of a frame built from an empty list)
        return pd.DataFrame(np.empty((0, 3), object), columns=["mentee_id", "reason_code", "reason"],
                            copy=False)
    if callable(bonus):
        bonus = bonus(problem) if problem is not None else ObjectiveBonus("not_held")
    mentor_load = np.bincount(pair_mentor[chosen], weights=load[pair_mentee[chosen]], minlength=n_mentors)
    weakest = np.full(n_mentors, np.inf)
    np.minimum.at(weakest, pair_mentor[chosen], pair_score[chosen])
    full = mentor_load >= capacity - 1e-9
    # each unmatched mentee's pairs (pairs are grouped by mentee): two searches per mentee
    lo = np.searchsorted(pair_mentee, unmatched, side="left")
    hi = np.searchsorted(pair_mentee, unmatched, side="right")
    rows = []
    pending = []  # capacity_taken mentees: (row number, mentee, its mentors, their scores)
    demand = np.asarray(problem.demand) if problem is not None else None
    for i, a, b in zip(unmatched.tolist(), lo.tolist(), hi.tolist()):
        sl = slice(a, b)
        js, ss = pair_mentor[sl], pair_score[sl]
        if demand is not None and demand[i] <= 0:
            rows.append((mentee_ids[i], "none_needed", "needs no mentor this round (mentors_needed = 0)"))
            continue
        if n_mentors == 0:
            rows.append((mentee_ids[i], "no_mentors", "no mentors take part in the programme"))
            continue
        if len(js) == 0 and not_reached is not None and not_reached[i]:
            rows.append((mentee_ids[i], "time_limit", "not paired: the solve stopped at its time limit "
                         "before it considered this mentee's mentors (raise time_limit)"))
            continue
        if len(js) == 0:
            counts = removed.iloc[i] if len(removed.columns) else pd.Series(dtype=int)
            parts = [f"{int(c)} {RULE_WORDS.get(name, 'are removed by rule ' + repr(name))}"
                     for name, c in counts.items() if c > 0]
            rows.append((mentee_ids[i], "no_eligible_mentor",
                         f"no eligible mentor: of {n_mentors} mentors, " + ", ".join(parts)
                         if parts else f"no eligible mentor among {n_mentors} mentors"))
            continue
        fits = capacity[js] >= load[i] - 1e-9
        if not fits.any():
            rows.append((mentee_ids[i], "no_capacity",
                         f"all {len(js)} eligible mentors have fewer free places than this mentee needs "
                         f"(largest capacity {capacity[js].max():g}, needs {load[i]:g})"))
            continue
        free = ~full[js] & (capacity[js] - mentor_load[js] >= load[i] - 1e-9)
        if free.any() and (stopped or side_constraints):
            k = int(np.argmax(np.where(free, ss, -np.inf)))
            room = f"eligible mentor {mentor_ids[js[k]]!s} has a free place (pair score {_fmt(ss[k])})"
            if stopped:  # no optimum was proven: no trade-off can be claimed
                rows.append((mentee_ids[i], "time_limit", "not paired: the solve stopped at its time "
                             f"limit before it proved the best assignment; {room} (raise time_limit)"))
            else:
                rows.append((mentee_ids[i], "trade_off",
                             f"excluded by the {' and '.join(side_constraints)} trade-off: {room} but "
                             f"pairing them would break or worsen the {'/'.join(side_constraints)} terms"))
            continue
        if free.any():
            k = int(np.argmax(np.where(free, ss, -np.inf)))
            rows.append((mentee_ids[i], "no_gain",
                         f"{int(free.sum())} eligible mentors have a free place but the best pair, with "
                         f"{mentor_ids[js[k]]!s}, scores {_fmt(ss[k])} (not above 0), so pairing adds nothing; "
                         "set constraints.coverage_first to pair anyway"))
            continue
        # every eligible mentor with room for them is full: name the closest call
        pending.append((len(rows), i, js, ss))
        k = int(np.argmax(ss))
        j = js[k]
        better = bool(np.all(weakest[js] >= ss - 1e-12))  # (else a weaker pair was kept)
        full_with = ("" if not better else " with better-scoring pairs"
                     if np.all(weakest[js] > ss + 1e-12) else " with pairs scoring at least as well")
        rows.append((mentee_ids[i], "capacity_taken",
                     f"all {len(js)} eligible mentors are full{full_with}: "
                     f"the best match, {mentor_ids[j]!s} (score {_fmt(ss[k])} with this mentee), is at "
                     f"capacity {capacity[j]:g} and its weakest pair scores {_fmt(weakest[j])}"))
    fair = solver if solver in FAIR_OBJECTIVES else None
    if pending and problem is not None and fair is not None and bonus.priced:
        from .reasons_fair import FAIR_REASON_SOLVES, fair_capacity_reasons

        fair_capacity_reasons(rows, pending, problem, chosen, mentor_ids, fair,
                              min(max_solves, FAIR_REASON_SOLVES), time_limit,
                              optimal and not stopped, bonus.per_pair)
    elif (pending and problem is not None and max_solves > 0 and _plain(problem)
          and bonus.priced):
        _exact_capacity_reasons(rows, pending, problem, mentor_ids, max_solves, time_limit=time_limit,
                                optimum=optimum, bonus=bonus.per_pair)
    return pd.DataFrame(rows, columns=["mentee_id", "reason_code", "reason"])


def _plain(problem) -> bool:
    return (not problem.side.active() and problem.integral and not problem.coverage_first)


def needed_scores(problem, mentors: np.ndarray, objective: float | None = None,
                  solver: str = "flow", options=None) -> np.ndarray:
    """For each mentor ``j`` in ``mentors``: the smallest score a pair (i, j) with an unmatched,
    unit-load mentee ``i`` needs for forcing it not to lower the optimum,

        X_j = OPT - OPT(capacity_j - 1),

    exactly (two optimal solves). Forcing (i, j) at score s gives s + OPT(capacity_j - 1),
    and ``i``, unmatched, is on no alternating path, so X_j does not depend on ``i``.
    ``inf`` where ``j``'s places are all locked or it has none. ``options``: the re-solves'
    (a time limit from ``options.started``): none starts past it, and ``NaN`` where a re-solve
    did not run or did not prove its optimum (no figure is claimed).
    """
    from ..solvers import SolverOptions, get_solver
    from ..solvers.base import AssignmentProblem
    from .forced import past_limit

    options = options or SolverOptions()
    solve = get_solver(solver)
    if objective is None:
        objective = solve(problem, options).objective
    P = problem.pairs
    locked_load = np.bincount(P.mentor[problem.locked], minlength=P.n_mentors)
    out = np.full(len(mentors), np.inf)
    for n, j in enumerate(np.asarray(mentors, dtype=np.int64)):
        if problem.capacity[j] - 1 < locked_load[j] - 1e-9:
            continue
        if past_limit(options):
            out[n:][np.isinf(out[n:])] = np.nan  # (the places of those left are not read)
            break
        cap = problem.capacity.copy()
        cap[j] -= 1
        reduced = AssignmentProblem(P, problem.score, cap, problem.demand, problem.load,
                                    problem.locked, problem.coverage_first, problem.side)
        sol = solve(reduced, options)
        out[n] = objective - sol.objective if sol.status == "optimal" else np.nan
    return out


def _exact_capacity_reasons(rows, pending, problem, mentor_ids, max_solves: int, top: int = 3,
                            time_limit: float | None = None, optimum: float | None = None,
                            bonus: np.ndarray | None = None) -> None:
    """The exact "capacity_taken" figures (:func:`needed_scores`), in the objective solved:
    with a ``bonus`` (per pair of ``problem``) on ``score + bonus``, each pair's need then
    less its own bonus (forcing ``(i, j)`` at score ``s`` gives ``s + b_ij + OPT(c_j - 1)``)."""
    if bonus is not None:
        import dataclasses

        problem = dataclasses.replace(problem, score=np.asarray(problem.score, float) + bonus)
    needed_all = np.unique(np.concatenate([js for _, _, js, _ in pending]))
    partial = len(needed_all) > max_solves
    if partial:  # each mentee's best few mentors, most-shared first, up to the cap
        best = [js[np.argsort(-ss, kind="stable")[:top]] for _, _, js, ss in pending]
        uniq, counts = np.unique(np.concatenate(best), return_counts=True)
        needed = uniq[np.argsort(-counts, kind="stable")[:max_solves]]
    else:
        needed = needed_all
    import time

    from ..solvers import SolverOptions, get_solver

    # the round's limit, from this call, shared by the re-solves (none past it)
    options = (SolverOptions() if time_limit is None else
               SolverOptions(time_limit=float(time_limit), started=time.perf_counter()))
    if optimum is None:  # (the answer is not the plain flow's proven optimum: solved here)
        first = get_solver("flow")(problem, options)
        optimum = first.objective if first.status == "optimal" else None
    if optimum is None:  # stopped: no exact figure can be given
        values = np.full(len(needed), np.nan)
    else:
        values = needed_scores(problem, needed, optimum, options=options)
    cut = int(np.isnan(values).sum())
    # per mentor: whether it was checked (a figure, inf included) and its figure
    checked = np.zeros(problem.pairs.n_mentors, bool)
    figure = np.full(problem.pairs.n_mentors, np.inf)
    ok = ~np.isnan(values)
    checked[needed[ok]] = True
    figure[needed[ok]] = values[ok]
    for row, i, js, ss in pending:
        have = checked[js]
        xs = figure[js]
        if bonus is not None:  # (the score needed: the objective's need less the pair's bonus)
            xs = xs - bonus[problem.pairs.locate(np.full(len(js), i), js)]
        if cut and not (have & np.isfinite(xs)).any():  # said, not left silent
            rows[row] = (rows[row][0], "capacity_taken", f"{rows[row][2]} (exact check stopped at "
                         f"the time limit ({time_limit:g} s) before this mentee's mentors)")
            continue
        if not have.any():
            continue
        if not np.isfinite(xs).any():
            continue
        # the closest call: the mentor where the score falls least short of what was needed
        k = int(np.argmin(np.where(have & np.isfinite(xs), xs - ss, np.inf)))
        j, need, s = js[k], xs[k], ss[k]
        scope = (f"all {len(js)} eligible mentors are full with better-scoring pairs"
                 if not partial and not cut else
                 f"its {int(have.sum())} best-scoring eligible mentors checked "
                 f"are full with better-scoring pairs (exact check of all {len(needed_all)} mentors "
                 f"skipped at this scale: over the cap of {max_solves} re-solves)" if not cut else
                 f"its {int(have.sum())} eligible mentors checked are full with better-scoring "
                 f"pairs (exact check stopped at the time limit ({time_limit:g} s): {cut} of "
                 f"{len(needed)} mentors not checked)")
        if need - s <= 1e-9 * max(1.0, abs(need)):
            scope = scope.replace("with better-scoring pairs", "with pairs scoring at least as well")
            text = (f"{scope}: a tie: pairing it with mentor {mentor_ids[j]!s} (score {_fmt(s)}) "
                    f"would give the same total score, and the tie went against it (ties are "
                    f"decided by a seeded order of the ids, never by row order: "
                    f"mentormatch.pipeline.seeded_order)")
        else:
            text = (f"{scope}: it would have needed a score of at least {_fmt(need)} with mentor "
                    f"{mentor_ids[j]!s} (it scores {_fmt(s)} with them, {_fmt(need - s)} short)")
        rows[row] = (rows[row][0], "capacity_taken", text)
