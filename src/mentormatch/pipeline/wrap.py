"""The shared tail of every path: arrays -> solver -> result.

Runs the named solver (an infeasibility re-diagnosed with the people's ids), turns the solver's
index arrays into a :class:`~mentormatch.matching.Matching` (ids, ranks, reasons for the
unmatched, the caller's row order), times the whole call, and re-solves a result with a baseline.
"""
from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple

import numpy as np
import pandas as pd

from .. import pipeline as knobs  # REASON_SOLVE_BUDGET, read at call time (tests patch it there)
from ..errors import InfeasibleError
from ..matching import Deferred, Matching
from ..pairs import Encoder
from ..record import Built, SolveRecord
from ..report.forced import round_limit
from ..report.pricing import every_pair
from ..report.reasons import unmatched_reasons
from ..solvers import AssignmentProblem, SolverOptions, get_solver


class Ids(NamedTuple):
    """The people's ids of a round, as :func:`_solve` and :func:`labelled` read them (the
    pipeline's prepared rounds carry the same two encoders)."""

    mentee_ids: Encoder
    mentor_ids: Encoder


def _solve(problem: AssignmentProblem, solver: str, options: SolverOptions, labels=None):
    """Run the named solver; an infeasibility is re-diagnosed with the people's ids (``labels``:
    anything with ``mentee_ids``/``mentor_ids`` encoders) so messages name people, not indices.
    MIP and CP-SAT answers are put in the tie rule's form for alike people
    (:mod:`mentormatch.solvers.alike`; the problem's rows are in the seeded order)."""
    try:
        solution = get_solver(solver)(problem, options)
    except InfeasibleError as e:
        raise labelled(problem, labels, e) from None
    from ..solvers import alike  # the tie rule for MIP and CP-SAT answers: alike people

    return alike.apply(problem, solution) if alike.applies(solver, problem) else solution


def labelled(problem: AssignmentProblem, labels, cause: InfeasibleError) -> InfeasibleError:
    """``cause`` with its conflicts naming people, not indices (``labels``: anything with
    ``mentee_ids``/``mentor_ids`` encoders; None: ``cause`` as it is), by
    :func:`mentormatch.solvers.blame.named`."""
    if labels is None:
        return cause
    from ..solvers.blame import named

    return named(problem, labels.mentee_ids.ids, labels.mentor_ids.ids, cause)


def relabelled(labels, cause: InfeasibleError) -> InfeasibleError:
    """``cause`` naming people by id when it keeps the problem whose indices it names (a
    :class:`~mentormatch.solvers.blame.Diagnosed` error: the engine's diagnosis on a source of
    blocks or bounds, over every pair), by :func:`labelled`; else ``cause`` as it is."""
    from ..solvers.blame import Diagnosed

    if isinstance(cause, Diagnosed) and cause.problem is not None:
        return labelled(cause.problem, labels, cause)
    return cause


def _rank_of_pairs(problem: AssignmentProblem) -> np.ndarray:
    """Per eligible pair, the mentor's rank among the mentee's eligible mentors (1 = best score;
    tied scores share the best rank of their run, like pandas' ``rank(method="min")``)."""
    mentee = np.asarray(problem.pairs.mentee, dtype=np.int64)
    score = np.asarray(problem.score, dtype=np.float64)
    n = len(score)
    if n == 0:
        return np.zeros(0, np.int64)
    counts = np.bincount(mentee)
    width = int(counts.max())
    if width <= 64 and len(counts) * width <= (1 << 22) and bool(np.all(mentee[1:] >= mentee[:-1])):
        # few pairs per mentee (the sparse paths): 1 + how many of its mentee's scores beat
        # each pair's, on a NaN-padded mentees x width table (<= 32 MB), without sorting; with
        # wide rows this compares every pair with its whole row (54 % of assign() at 2,000 x
        # 500), so wide rows are sorted instead
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        table = np.full((len(counts), width), np.nan)
        table[mentee, np.arange(n) - starts[mentee]] = score
        ranks = np.empty(n, dtype=np.int64)
        step = max(1, (1 << 20) // width)  # pairs compared at a time
        for a in range(0, n, step):
            b = min(a + step, n)
            ranks[a:b] = 1 + np.count_nonzero(table[mentee[a:b]] > score[a:b, None], axis=1)
        return ranks
    order = np.lexsort((-score, mentee))  # by mentee, then best score first
    m_sorted, s_sorted = mentee[order], score[order]
    pos = np.arange(n, dtype=np.int64)
    new_mentee = np.ones(n, dtype=bool)
    new_mentee[1:] = m_sorted[1:] != m_sorted[:-1]
    new_run = new_mentee.copy()  # a run of equal scores within one mentee starts here
    new_run[1:] |= s_sorted[1:] != s_sorted[:-1]
    group_start = np.maximum.accumulate(np.where(new_mentee, pos, 0))
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = run_start - group_start + 1
    return ranks


def _rank_of_chosen(problem: AssignmentProblem, chosen: np.ndarray) -> np.ndarray:
    """``_rank_of_pairs(problem)[chosen]`` in one pass over the pairs per chosen pair of a
    mentee (usually one): 1 + how many of the mentee's scores beat the chosen pair's."""
    mentee = np.asarray(problem.pairs.mentee, dtype=np.int64)
    score = np.asarray(problem.score, dtype=np.float64)
    chosen = np.asarray(chosen, dtype=np.int64)
    out = np.empty(len(chosen), np.int64)
    if not len(chosen):
        return out
    n = problem.pairs.n_mentees
    order = np.argsort(mentee[chosen], kind="stable")
    cm = mentee[chosen][order]
    first = np.ones(len(cm), bool)
    first[1:] = cm[1:] != cm[:-1]
    nth = np.arange(len(cm)) - np.maximum.accumulate(np.where(first, np.arange(len(cm)), 0))
    for r in range(int(nth.max()) + 1):  # the r-th chosen pair of each mentee
        sel = order[nth == r]
        thr = np.full(n, np.inf)
        thr[mentee[chosen[sel]]] = score[chosen[sel]]
        beats = np.bincount(mentee, weights=score > thr[mentee], minlength=n)
        out[sel] = 1 + beats[mentee[chosen[sel]]].astype(np.int64)
    return out


def _sorted(key: np.ndarray) -> bool:
    return bool(np.all(key[1:] > key[:-1])) if len(key) > 1 else True


def _pairs_in_caller_order(input_rows, pairs, chosen, pair_df: pd.DataFrame, contrib: pd.DataFrame):
    """The pairs and their contributions in the caller's row order (``input_rows``: each
    mentee's and each mentor's row in the caller's tables): by mentee row then mentor row. Tables
    already in that order are returned as they are (the dense path passes the identity: no
    reorder, no copy)."""
    mentee_rows, mentor_rows = input_rows
    i_row = mentee_rows[pairs.mentee[chosen]]
    key = i_row * max(len(mentor_rows), 1) + mentor_rows[pairs.mentor[chosen]]  # one per pair
    if not _sorted(key):
        back = np.argsort(key, kind="stable")  # (pairs are distinct: the keys too)
        pair_df = pair_df.iloc[back].reset_index(drop=True)
        contrib = contrib.iloc[back].reset_index(drop=True)
    return pair_df, contrib


def _unmatched_in_caller_order(input_rows, unmatched: pd.DataFrame, unmatched_idx: np.ndarray):
    """The unmatched (one row per ``unmatched_idx``, in that order) by the caller's mentee row."""
    if len(unmatched):
        u_row = input_rows[0][unmatched_idx]
        if not _sorted(u_row):
            unmatched = unmatched.iloc[np.argsort(u_row, kind="stable")].reset_index(drop=True)
    return unmatched


def _wrap(problem: AssignmentProblem, solution, mentee_ids: Encoder, mentor_ids: Encoder,
          removed: "pd.DataFrame | Built", contributions: "pd.DataFrame | Callable[[np.ndarray], pd.DataFrame] | None",
          data: dict[str, Any],
          eligible_counts: np.ndarray | None = None, ranks=None) -> Matching:
    """Turn a solver's index arrays into the result: ids, ranks, reasons for the unmatched.

    ``data`` is the path's working dictionary of :class:`~mentormatch.record.SolveRecord` fields;
    it gains the fields every path sets and becomes the result's ``record`` (a key that is no
    field raises, so each one is declared there with its type and meaning).

    ``eligible_counts`` (per mentee; -1: not counted, its pairs never scored) is needed when
    ``problem`` holds only a sparse subset of the eligible pairs (the certified scale path);
    ``ranks`` (chosen pairs' mentees and scores -> their ranks among every eligible pair:
    :func:`~mentormatch.pipeline.ranks.ranks_on_source`) then counts each rank over the round's
    pair source, not over that subset (which leaves out mentors with no place, and ranks by score
    less price); without it, ranks are counted over ``problem``'s pairs.

    ``contributions``: one row per pair of ``problem``, or a function of the chosen positions
    giving their rows (the scale path scores only the reported pairs), or None (no features).

    The tables are built on their first read (:class:`~mentormatch.matching.Deferred`), from
    what is fixed here: ``pairs`` and ``contributions`` together, ``unmatched`` with its reasons
    on its own."""
    chosen = solution.chosen
    pairs = problem.pairs
    # exact "score it would have needed" costs one re-solve per mentor: bounded work (the
    # budget read now, as the call's setting, whenever the tables are built)
    max_solves = int(min(200, max(knobs.REASON_SOLVE_BUDGET // max(len(pairs), 1) - 1, 0)))
    input_rows = data.get("input_rows")
    # a solve stopped at its time limit before it considered some mentees' pairs (the scale
    # path's first pass cut short): those with eligible mentors, or whose mentors were never
    # counted (-1: blocks never scored), are "not reached"
    not_reached = None
    timed_out = bool((solution.certificate or {}).get("timed_out"))
    if eligible_counts is not None and timed_out:
        not_reached = (np.asarray(eligible_counts) != 0) & (np.bincount(pairs.mentee, minlength=pairs.n_mentees) == 0)

    plain_goal = (solution.certificate or {}).get("objective", "score") == "score"  # (no bonus)

    def pair_tables() -> dict[str, pd.DataFrame]:  # built on first read (matching.Deferred)
        pair_df = pd.DataFrame({
            "mentee_id": mentee_ids.decode(pairs.mentee[chosen]),
            "mentor_id": mentor_ids.decode(pairs.mentor[chosen]),
            "score": problem.score[chosen],
            "rank": (_rank_of_chosen(problem, chosen) if ranks is None
                     else ranks(pairs.mentee[chosen], problem.score[chosen])),
            "eligible_mentors": (eligible_counts if eligible_counts is not None else
                                 np.bincount(pairs.mentee, minlength=pairs.n_mentees))[pairs.mentee[chosen]],
            "locked": problem.locked[chosen],
        }, copy=False)  # (every column a fresh array: nothing to copy)
        contrib = (pd.DataFrame(index=pd.RangeIndex(len(chosen))) if contributions is None
                   else contributions(chosen) if callable(contributions)
                   else contributions.iloc[chosen].reset_index(drop=True))
        if input_rows is not None:  # solved in the seeded order: report in the caller's row order
            pair_df, contrib = _pairs_in_caller_order(input_rows, pairs, chosen, pair_df, contrib)
        return {"pairs": pair_df, "contributions": contrib}

    def unmatched_table() -> dict[str, pd.DataFrame]:  # built on its own first read
        from ..report.bonus import NO_BONUS, objective_bonus  # (the objective's bonus per pair)

        matched = np.zeros(pairs.n_mentees, dtype=bool)
        matched[pairs.mentee[chosen]] = True
        unmatched_idx = np.flatnonzero(~matched)
        unmatched = unmatched_reasons(
            unmatched_idx, record.removed, pairs.mentee, pairs.mentor, problem.score, chosen,
            problem.capacity, problem.load, mentee_ids.ids, mentor_ids.ids, pairs.n_mentors,
            problem.side.active(), problem=problem, max_solves=max_solves, not_reached=not_reached,
            stopped=timed_out and solution.status != "optimal",
            time_limit=round_limit(data), solver=solution.solver,
            optimal=solution.status == "optimal",  # (read under max-min/leximin only)
            every_pair=(None if data.get("pair_reader") is None else
                        lambda: every_pair(data, problem, chosen)),
            optimum=(float(solution.objective) if solution.solver == "flow" and solution.status == "optimal"
                     and plain_goal else None),
            bonus=NO_BONUS if plain_goal else lambda grown: objective_bonus(data, grown))
        if input_rows is not None:
            unmatched = _unmatched_in_caller_order(input_rows, unmatched, unmatched_idx)
        return {"unmatched": unmatched}

    data.update(problem=problem, solution=solution, mentee_ids=mentee_ids, mentor_ids=mentor_ids,
                removed=removed, n_mentees=pairs.n_mentees, n_mentors=pairs.n_mentors)
    # the pairs and their contributions on their first read; the unmatched on theirs (their
    # reasons may re-solve: up to 200 exact re-solves under max-min or leximin, which a caller
    # reading only the pairs never pays for)
    deferred, reasons = Deferred(pair_tables), Deferred(unmatched_table)
    record = SolveRecord.from_mapping(data)  # (``removed`` may be built on its first read)
    return Matching(pairs=deferred, unmatched=reasons, status=solution.status,
                    objective=solution.objective, bound=solution.bound, gap=solution.gap,
                    solver=solution.solver, wall_time=solution.wall_time,
                    certificate=solution.certificate, contributions=deferred, record=record)


def baseline(result: Matching, solver: str = "random", seed: int = 0) -> Matching:
    """Re-solve the same eligible pairs, capacities and locks with a baseline solver
    ("random", "greedy" or "stable"). Side constraints (budget, floors) are not imposed on
    baselines. On the scale path the pairs are read on demand, never all at once; the result's
    ``rank`` is then exact within each mentee's 16 best pairs (below them it reads 17)."""
    rec = result.record
    if rec.pair_reader is not None and solver in ("random", "greedy", "stable"):
        # the scale path: every eligible pair read on demand, never held at once
        from ..solvers.baselines_rows import solve_on_reader

        reader = rec.pair_reader()
        problem, solution = solve_on_reader(
            solver, reader, rec.capacity, demand=rec.demand, load=rec.load, locked=rec.locked,
            coverage_first=bool(rec.coverage_first), seed=seed)
        return _wrap(problem, solution, rec.mentee_ids, rec.mentor_ids, rec.removed, None,
                     dict(rec), eligible_counts=reader.eligible_counts)
    problem: AssignmentProblem = rec.full_problem() if rec.full_problem is not None else rec.problem
    plain = problem.without_side()
    solution = _solve(plain, solver, SolverOptions(seed=seed))
    # contributions are kept for the solver's pairs; a scale-path baseline draws from all pairs
    contributions = None if rec.full_problem is not None else rec.all_contributions
    return _wrap(plain, solution, rec.mentee_ids, rec.mentor_ids, rec.removed, contributions,
                 dict(rec))


def _timed(result: Matching, started: float) -> Matching:
    """``wall_time`` is the whole call; the solver's own time stays in the certificate.
    ``result`` is the call's own, fresh from :func:`_wrap`: set in place (a copy would build
    its tables, which wait for their first read: :class:`mentormatch.matching.Deferred`)."""
    cert = dict(result.certificate or {})
    cert.setdefault("solver_wall_time", result.wall_time)
    result.certificate = cert
    result.wall_time = time.perf_counter() - started
    return result
