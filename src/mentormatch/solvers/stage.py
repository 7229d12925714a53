"""One stage of the engine (:mod:`mentormatch.solvers.engine` states the loop): column
generation on the candidates, the heuristics, the branching, HiGHS's MIP on the candidates (then,
the same rounds on every eligible pair of a small source when a gap is left) and the certificate over every
pair. ``coverage_first`` runs two stages (the count, then the score);
every other problem one."""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import Conflict, InfeasibleError, TimeLimitError
from . import branch, relax
from .base import OPTIMAL_GAP, proven
from .heuristics import neighbourhood, repair
from .highs import OutOfTime
from .linear_rows import mentee_best
from .relax import Candidates, Run
from .sources import ArraySource, PassCut, n_pairs

#: Above this many candidate pairs the MIP over all candidates is skipped once an assignment
#: is known (the neighbourhood MIP still runs).
MIP_MAX_COLUMNS = 30_000
#: Outside pairs join the MIP only while they are at most this many times the candidates.
JOIN_AT_MOST = 2.0
#: When the MIP rounds on the candidates end with a gap, or found nothing and proved nothing,
#: with time left, every eligible pair of a source of at most this many pairs joins and the
#: rounds run once more: their MIP over every pair is then a proof, of the optimum or of
#: infeasibility (a larger source can end in a TimeLimitError before its time limit).
ALL_PAIRS_AT_MOST = MIP_MAX_COLUMNS


def solve_stage(source, model, options, deadline, cert, label, lock_pairs, bonus, demand_max,
                start=None, pass_seconds: float = 0.0):
    """(candidates, chosen mask, objective in the stage's units, bound over every pair, proven);
    the stage's figures go to ``cert[label]``. ``start``: None, or the pairs ``(mentee, mentor,
    score)`` of an assignment known to meet the model (the coverage stage's, for the score
    stage): they join the candidates and are the first incumbent, when they meet its check.
    No HiGHS run starts past ``deadline``: with no time for the first LP, the answer is ``start``
    (else the empty assignment) with a bound that needs no solve (:func:`_without_relaxation`);
    with less than ``pass_seconds`` left before the stage (the caller's estimate of a pass over
    every pair; 0: the deadline passed), on blocks or bounds (pairs in memory give their best
    pairs, and a tighter bound, at once), and no lock or score floor (which need a pass), that
    answer comes at once, without the pass for each mentee's best pairs. ``source``: in the
    engine's unit (:mod:`mentormatch.solvers.unit`: every score below 2)."""
    m = source.n_mentors
    li, lj = lock_pairs
    lock_keys = np.unique(np.asarray(li, np.int64) * m + np.asarray(lj, np.int64))
    run = Run(source, model, options, deadline, lock_keys, bonus)
    # (a lock's score or a score floor's scale needs the whole pass)
    cuttable = not isinstance(source, ArraySource) and not len(lock_keys) and not model.score_floor
    if cuttable and run.out_of_time(pass_seconds):
        # late already, or would be after the pass: none (no lock score, no floor scale needed)
        e = np.zeros(0, np.int64)
        cand = Candidates(e, e, np.zeros(0), m, lock_keys)
        if start is not None:
            cand.add(np.asarray(start[0], np.int64), np.asarray(start[1], np.int64),
                     np.asarray(start[2], np.float64))
        return _without_relaxation(run, cand, start, None, cert, label)
    k = max(relax.FIRST_CANDIDATES, 2 * int(demand_max))
    try:  # no block of the pass starts past the deadline, where the stage can answer without it
        best_k = source.best(k, deadline) if cuttable and deadline is not None else source.best(k)
    except PassCut as cut:  # the mentees read have their best pairs; the others, the unit's bound
        cand = Candidates(*cut.pairs, m, lock_keys)
        if start is not None:
            cand.add(np.asarray(start[0], np.int64), np.asarray(start[1], np.int64),
                     np.asarray(start[2], np.float64))
        return _without_relaxation(run, cand, start, cut.pairs, cert, label, unread=~cut.scanned)
    # each mentee's best score over every pair fixes the scale of the score floor rows
    # (linear_rows.floor_scales), as it does in the check and in brute force
    model.set_floor_scale(mentee_best(best_k[0], best_k[2], source.n_mentees))
    cand = Candidates(*best_k, m, lock_keys)
    if len(lock_keys):
        ls = _lock_scores(source, li, lj)
        cand.add(np.asarray(li, np.int64), np.asarray(lj, np.int64), ls)
    if start is not None:
        cand.add(np.asarray(start[0], np.int64), np.asarray(start[1], np.int64),
                 np.asarray(start[2], np.float64))
    try:
        relaxed = run.relax(cand)
    except OutOfTime:  # the caller's deadline passed before the first LP was priced
        return _without_relaxation(run, cand, start, best_k, cert, label)
    if relaxed is None:
        raise InfeasibleError([Conflict(
            "constraints", "the linear relaxation over every eligible pair has no solution, so no "
            "assignment meets the constraints together", "relax the side constraints")])
    prices, U, x, keep, _ = relaxed
    branching, root_settled = None, run.settled
    best, best_value, mip_bound, status = None, -math.inf, math.inf, "not run"
    if start is not None:
        given = np.isin(cand.key, np.asarray(start[0], np.int64) * m + np.asarray(start[1], np.int64))
        if run.feasible(cand, given):
            best, best_value = given, run.value(cand, given)
    rounded = repair(run, cand, x > 1 - 1e-7)  # the relaxation rounded down, then repaired
    if rounded is not None and run.value(cand, rounded) > best_value:
        best, best_value = rounded, run.value(cand, rounded)
    # the relaxation's whole pairs kept, a small MIP settles the rest (RINS-like)
    fixed_fill = neighbourhood(run, cand, x)
    if fixed_fill is not None and run.value(cand, fixed_fill) > best_value:
        best, best_value = fixed_fill, run.value(cand, fixed_fill)
    outside = [np.concatenate([p[t] for p in keep]) if keep else np.zeros(0) for t in range(4)]
    bound_seen = U  # the best valid bound over every pair so far
    floor = run.floor  # the root's, at the prices of U (the branching below prices again)

    def outside_max():  # the best reduced cost outside the candidates, at the root's prices
        return max(float(outside[3].max()) if len(outside[3]) else -math.inf, floor)

    if (best is not None and run.model.aggregated and root_settled
            and not proven(bound_seen, best_value) and not run.out_of_time(0.5)):
        # split the relaxation on its fractional counts of active mentors and pairs, then on
        # y and x, each side priced over every pair (branch.py says why the bound holds); only
        # once the root's pricing is done: before that the gap is the pricing's, not the
        # relaxation's
        keep_best = cand.key[best]
        tree = branch.search(run, cand, U, best_value, OPTIMAL_GAP, branch.tree_pairs(run))
        best = np.isin(cand.key, keep_best if tree.best_keys is None else tree.best_keys)
        best_value = max(best_value, tree.value)
        bound_seen = min(bound_seen, tree.bound)
        branching = {"nodes": tree.nodes, "open": tree.open, "stopped": tree.stopped,
                     "bound": tree.bound}
    all_pairs = False
    while True:
        for attempt in range(4):
            if best is not None and proven(bound_seen, best_value):
                break
            if best is not None and len(cand) > MIP_MAX_COLUMNS and not all_pairs:
                # HiGHS's branch-and-bound on this many columns overruns its time limit (47 s
                # for a 25 s limit on 86,000 at 3,000 x 1,500) without a better assignment:
                # the neighbourhood's assignment stands, with the relaxation's bound
                break
            start = None if best is None else best.astype(float)
            st, chosen, b = run.mip(cand, start)
            if st == "infeasible" and best is None and not len(outside[0]) and floor == -math.inf:
                # every eligible pair is a candidate once no outside pair is left and the
                # pricing dropped none (its floor): the MIP's infeasibility is then a proof,
                # once HiGHS's presolve is not alone in finding it (as the LP's, warm_lp)
                st, chosen, b = run.mip(cand, None, presolve=False)
                if st == "infeasible":
                    raise _proven_infeasible()
            if st == "infeasible" and best is None:
                # candidates alone cannot: every kept outside pair joins
                grow = cand.add(*(a.astype(np.int64) if t < 2 else a
                                  for t, a in enumerate(outside[:3])))
                if grow == 0:
                    break
                outside = [a[:0] for a in outside]
                continue
            if (chosen is not None and run.feasible(cand, chosen)
                    and run.value(cand, chosen) > best_value - 1e-12):
                best, best_value = chosen, run.value(cand, chosen)
            mip_bound, status = b, st
            # candidates-only assignments are worth at most the MIP's bound, the others U + rc
            bound_seen = min(bound_seen, max(b, U + outside_max()))
            if best is None or not len(outside[0]) or run.out_of_time(1.0):
                break
            if proven(bound_seen, best_value):
                break
            join = U + outside[3] > best_value + 1e-9  # could still beat the incumbent
            if not join.any() or join.sum() > JOIN_AT_MOST * len(cand):
                # joining nearly every pair makes the MIP the full model, measured slower than
                # the candidates' (500 x 150 with a budget: no better assignment in 20 s); the
                # bound then stays the relaxation's
                break
            old = len(cand)
            keep_best = cand.key[best]
            cand.add(outside[0][join].astype(np.int64), outside[1][join].astype(np.int64),
                     outside[2][join])
            best = np.isin(cand.key, keep_best)
            outside = [a[~join] for a in outside]
            if len(cand) == old:
                break
        if (all_pairs or (best is not None and proven(bound_seen, best_value))
                or status in ("time", "limit") or run.out_of_time(0.5 if best is not None else 0.05)):
            break
        # a gap left, or nothing found and nothing proven, on a small source: every eligible
        # pair joins and the loop runs once more, its MIP over all of them (from the
        # incumbent): its optimum, or its infeasibility, then holds over every pair
        keep_best = None if best is None else cand.key[best]
        if not _all_join(source, cand):
            break
        all_pairs = True
        best = None if keep_best is None else np.isin(cand.key, keep_best)
        outside = [a[:0] for a in outside]
        floor = -math.inf
    if best is None:
        empty = np.zeros(len(cand), bool)
        if run.feasible(cand, empty):
            best, best_value = empty, 0.0
    if best is None:
        # a MIP stopped by its time cap (HiGHS gets 0.9 of the time left) ended it: the time
        raise TimeLimitError(run.options.time_limit, label,
                             "raise the time limit or relax the side constraints",
                             reason="time" if status == "time" or time.perf_counter() >= deadline
                             else "search")
    max_out = outside_max()
    bound = max(bound_seen, best_value)
    done = proven(bound, best_value)
    cert[label] = {"lagrangian_bound": U, "mip_status": status, "mip_bound": mip_bound,
                   "candidates": int(len(cand)), "pairs_priced": int(run.pairs_priced),
                   "stale_mip_starts": run.stale_starts, "pricing_rounds": run.rounds,
                   "max_reduced_cost_outside": max_out, "all_pairs_mip": all_pairs,
                   "bound": bound, "branching": branching, "mip_nodes": run.mip_nodes,
                   "timed_out": run.timed_out}
    return cand, best, best_value, bound, done


def _without_relaxation(run, cand: Candidates, start, best_k, cert: dict, label: str,
                        unread: np.ndarray | None = None):
    """The stage when the caller's deadline passed before its first LP (no HiGHS run starts
    then): the given assignment ``start`` when it meets the model, else the plain flow on the
    candidates when it does (:func:`mentormatch.solvers.fallback.flow_on_candidates`), else the
    empty one when it does, with the bound of each mentee's best pairs (:func:`_best_pairs_bound`; ``best_k``
    None, no pass made: :func:`_unit_bound`; a pass cut short, ``unread`` the mentees it did
    not read: the first for the mentees read, the second for the others); with neither, a
    ``TimeLimitError`` (the time limit's)."""
    run.timed_out = True
    best = None
    if start is not None:
        m = run.source.n_mentors
        best = np.isin(cand.key,
                       np.asarray(start[0], np.int64) * m + np.asarray(start[1], np.int64))
        if not run.feasible(cand, best):
            best = None
    if best is None:  # the plain flow on the candidates, when it meets every row (milliseconds)
        from .fallback import flow_on_candidates

        best = flow_on_candidates(run, cand)
    if best is None and run.feasible(cand, np.zeros(len(cand), bool)):
        best = np.zeros(len(cand), bool)
    if best is None:
        raise TimeLimitError(run.options.time_limit, label,
                             "raise the time limit or relax the side constraints", reason="time")
    value = run.value(cand, best)
    bound = (_unit_bound(run) if best_k is None else
             _best_pairs_bound(run, best_k) + (0.0 if unread is None else _unit_bound(run, unread)))
    bound = max(bound, value)
    cert[label] = {"relaxation": "not solved: the time limit was reached before it",
                   "mip_status": "not run", "candidates": int(len(cand)),
                   "pairs_priced": int(run.pairs_priced), "pricing_rounds": run.rounds,
                   "all_pairs_mip": False, "bound": bound, "branching": None, "mip_nodes": 0,
                   "timed_out": True}
    return cand, best, value, bound, proven(bound, value)


def _unit_bound(run, rows: np.ndarray | None = None) -> float:
    """A bound needing no pass: in the engine's unit every score is below 2 (the largest of
    the mentees' best scores lies in ``[1, 2)``, :func:`mentormatch.solvers.unit.score_unit`),
    so ``2 sum_i d_i`` (the coverage stage: the mentees with a demand); infinite with a bonus.
    ``rows`` (a mask of mentees; None: every mentee): the same over those mentees' pairs.

    >>> from types import SimpleNamespace as N
    >>> demand = np.array([1, 2, 0])
    >>> _unit_bound(N(model=N(problem=N(demand=demand), stage="score"), bonus=None))
    6.0
    >>> _unit_bound(N(model=N(problem=N(demand=demand), stage="coverage"), bonus=None))
    2.0
    """
    demand = np.asarray(run.model.problem.demand, np.int64)
    if rows is not None:
        demand = demand[rows]
    if run.model.stage != "score":
        return float(np.count_nonzero(demand > 0))
    if run.bonus is not None:
        return math.inf
    return 2.0 * float(np.maximum(demand, 0).sum())


def _best_pairs_bound(run, best_k) -> float:
    """A bound needing no solve from ``best_k``, each mentee's best pairs (at least its demand
    of them, or all it has): :func:`mentormatch.solvers.fair_bounds.best_pairs_bound` (the
    least of the mentees' side and the mentors') over every pair of those mentees; the
    coverage stage: the mentees with a pair; infinite with a bonus (its pairs' order is not the
    scores'). (Until s25 the mentees' side alone: 579 on a 120 x 30 instance whose optimum is
    439.)

    >>> from types import SimpleNamespace as N
    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers.base import AssignmentProblem
    >>> p = AssignmentProblem(Candidates.complete(3, 1), np.array([3.0, 2.0, 1.0]), np.ones(1))
    >>> run = N(model=N(problem=p, stage="score"), bonus=None)
    >>> _best_pairs_bound(run, (np.arange(3), np.zeros(3), p.score))  # one place: 3, not 6
    3.0
    """
    from .fair_bounds import best_pairs_bound

    problem = run.model.problem
    demand = np.asarray(problem.demand, np.int64)
    if run.model.stage != "score":
        i = np.asarray(best_k[0], np.int64)
        return float(np.count_nonzero((np.bincount(i, minlength=len(demand)) > 0) & (demand > 0)))
    if run.bonus is not None:
        return math.inf
    bound = best_pairs_bound(best_k, len(demand), len(np.asarray(problem.capacity)),
                             problem.capacity, demand, problem.load)
    return math.inf if bound is None else bound  # (a NaN score: nothing known)


def _proven_infeasible() -> InfeasibleError:
    return InfeasibleError([Conflict(
        "constraints", "branch-and-bound proves that no assignment of the eligible pairs meets "
        "the constraints together", "relax the side constraints")])


def _all_join(source, cand: Candidates) -> bool:
    """Every eligible pair of ``source`` joins ``cand``; False (nothing joins) when they are
    more than ``ALL_PAIRS_AT_MOST``."""
    if n_pairs(source) > ALL_PAIRS_AT_MOST:
        return False
    for i, j, s in source.blocks():
        cand.add(np.asarray(i, np.int64), np.asarray(j, np.int64), np.asarray(s, np.float64))
    return True


def _lock_scores(source, li, lj) -> np.ndarray:
    """Exact scores of the locked pairs, from the source's blocks."""
    want = np.asarray(li, np.int64) * source.n_mentors + np.asarray(lj, np.int64)
    out = np.full(len(want), np.nan)
    for i, j, s in source.blocks():
        key = i * source.n_mentors + j
        hit = np.isin(want, key)
        if hit.any():
            order = np.argsort(key)
            pos = np.searchsorted(key[order], want[hit])
            out[hit] = s[order][pos]
    return out
