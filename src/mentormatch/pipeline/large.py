"""The scale path: above ``LARGE_PAIRS`` pairs no complete candidate set is built.

Scores come block by block of mentee rows (:class:`~mentormatch.pipeline.blocks._BlockScorer`,
cached up to ``SCORE_CACHE_PAIRS``) or from the features' bounds (:mod:`mentormatch.scale`); each mentee's
best pairs are solved and the optimum is certified against every pair with dual prices.
"""
from __future__ import annotations

import dataclasses
import functools
import time

import numpy as np
import pandas as pd

from .. import constraints as C
from .. import pipeline as knobs  # USE_BOUNDS, SCORE_CACHE_PAIRS, STRANDED_ROWS, read at call time
from ..matching import Matching
from ..pairs import Candidates
from ..rules import Rules
from ..solvers import AssignmentProblem, SideConstraints, Solution, SolverOptions
from ..solvers.base import PairBonus
from .prepared import Prepared, _choose_solver, _side_constraints, demand_and_load
from .blocks import _BlockScorer
from .reader import _ScorerRows, refuse_ineligible_locks_of
from .wrap import _solve, _wrap
from .memory import BYTES_PER_CPSAT_PAIR, REFUSAL_INSTEAD, check_fits, fits
from .ranks import proven, ranks_on_source


def eligible_pairs(scorer, n: int, m: int) -> int:
    """The eligible pairs of a round: counted up front by the bounded scorer, at most ``n m``
    for the block scorer (it counts as it scores)."""
    counts = None if isinstance(scorer, _BlockScorer) else getattr(scorer, "eligible_counts", None)
    return int(np.sum(counts)) if counts is not None else n * m


def _full_problem(scorer, data: dict, side=None, what: str = "this request",
                  per_pair: float | None = None) -> AssignmentProblem:
    """Every eligible pair of a scale-path round, from the cached block scores: what CP-SAT's
    max-min and leximin hold under side constraints or fractional loads when no threshold is
    proven (:mod:`mentormatch.pipeline.held`), and checks of small rounds
    (``record.full_problem``). The stable, greedy and random solvers read the pairs on demand
    instead (:class:`_ScorerRows`). Refused up front (:func:`check_fits`) when the pairs would
    not fit in memory."""
    n, m = len(data["mentees"]), len(data["mentors"])
    check_fits(what, eligible_pairs(scorer, n, m), REFUSAL_INSTEAD, per_pair)
    return problem_of(scorer, data, side)


def problem_of(scorer, data: dict, side=None, at_least: float = -np.inf) -> AssignmentProblem:
    """The eligible pairs of a scale-path round scoring at least ``at_least`` (every one by
    default) and the locked pairs, exactly scored, block by block (on bounds, only the pairs
    whose bound reaches ``at_least`` are scored), in (mentee, mentor) order."""
    from ..solvers.certify import row_blocks

    n, m = len(data["mentees"]), len(data["mentors"])
    locks = np.zeros(n, bool)
    key = np.zeros(0, np.int64)
    if data["locked"] is not None:
        li, lj = (np.asarray(a, np.int64) for a in data["locked"])
        locks[li] = True
        key = np.sort(li * m + lj)

    def keep(i, j, s):
        ok = s >= at_least
        if len(key):
            ok |= locks[i] & np.isin(i * m + j, key)
        return i[ok], j[ok], s[ok]

    parts_i, parts_j, parts_s = [], [], []
    if isinstance(scorer, _BlockScorer):
        for a, b in row_blocks(n, m):  # the certificate's blocks, so the cache serves them
            block = scorer(slice(a, b))
            r, c = np.nonzero(np.isfinite(block))
            i, j, s = keep(r + a, c, block[r, c])
            parts_i.append(i)
            parts_j.append(j)
            parts_s.append(s)
    else:  # exact scores of the eligible pairs whose bound reaches the threshold
        def screen(rows, up):
            mask = up >= at_least
            for r in np.flatnonzero(locks[rows]):
                mask[r, key[key // m == rows[r]] % m] = True
            return mask

        for i, j, s in _source(scorer, n, m).blocks(None if at_least == -np.inf else screen):
            i, j, s = keep(i, j, s)
            parts_i.append(i)
            parts_j.append(j)
            parts_s.append(s)
    mentee = np.concatenate(parts_i).astype(np.int64) if parts_i else np.zeros(0, np.int64)
    mentor = np.concatenate(parts_j).astype(np.int64) if parts_j else np.zeros(0, np.int64)
    order = np.lexsort((mentor, mentee))  # the bounds' blocks run in their own row order
    cand = Candidates(mentee[order], mentor[order], n, m)
    score = (np.concatenate(parts_s) if parts_s else np.zeros(0))[order]
    locked = np.zeros(len(cand), dtype=bool)
    if data["locked"] is not None:
        pos = cand.locate(*data["locked"])
        locked[pos[pos >= 0]] = True
    # the round's loads and coverage_first too: a check or the audit's price of fairness on
    # this problem solves the round's own problem (without them it solved another one)
    return AssignmentProblem(cand, score, data["capacity"], demand=data["demand"], load=data["load"],
                             locked=locked, coverage_first=data["coverage_first"],
                             side=side if side is not None else SideConstraints())


def _prepare_large(mentors, mentees, rules: Rules, fw, context, mentee_ids, mentor_ids) -> Prepared:
    n_pairs = len(mentees) * len(mentors)
    side = _side_constraints(rules, mentees, mentors)
    cap = mentors["capacity"].to_numpy(dtype=float)
    demand, load = demand_and_load(mentees)
    locked = None
    if rules.constraints["locked"]:
        locked = C.id_pairs(rules.constraints["locked"], mentee_ids, mentor_ids, "constraints.locked")
    scorer = None
    plain = (rules.solver == "flow" and not side.active() and not rules.constraints["coverage_first"]
             and (load is None or np.all(load == 1)))
    if knobs.USE_BOUNDS and (plain or n_pairs > knobs.SCORE_CACHE_PAIRS):
        # bounds wherever the rules allow them for the plain flow (measured: 10,000 x 3,000 in
        # 4.6 s against 27 s scoring and caching every block); the engine's repeated pricing
        # passes over side constraints read cached blocks up to SCORE_CACHE_PAIRS
        from ..scale import bounded_scorer

        scorer = bounded_scorer(mentees, mentors, rules, context, mentee_ids, mentor_ids)
    if scorer is None:
        scorer = _BlockScorer(mentees, mentors, rules, context, mentee_ids, mentor_ids,
                              cache=n_pairs <= knobs.SCORE_CACHE_PAIRS)
    if locked is not None:
        refuse_ineligible_locks_of(scorer, rules, mentee_ids, mentor_ids, *locked)
    data = {"mentees": mentees, "mentors": mentors, "rules": rules, "framework": fw,
            "requested_solver": rules.solver, "scale_path": True, "demand": demand, "locked": locked,
            "capacity": cap, "load": load, "side": side,
            "coverage_first": bool(rules.constraints["coverage_first"]),
            "mentee_ids": mentee_ids, "mentor_ids": mentor_ids}
    plain = AssignmentProblem(Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), len(mentees),
                                         len(mentors)), np.zeros(0), cap, demand, load=load, side=side)
    return Prepared(None, mentee_ids, mentor_ids, pd.DataFrame(), pd.DataFrame(), data,
                    _choose_solver(rules, side, plain),
                    SolverOptions(seed=rules.seed, progress=True,
                                  time_limit=rules.settings["time_limit"]), scorer)


def _source(scorer, n: int, m: int, on=None):
    """The pair source of a scale-path round: its cached or recomputed blocks, or its bounds;
    ``on``: the scorer to read instead (``scorer`` with a bonus folded in), of the same kind."""
    from ..solvers.sources import BlockSource, BoundedSource

    on = scorer if on is None else on
    return BlockSource(on, n, m) if isinstance(scorer, _BlockScorer) else BoundedSource(on, n, m)


def _with_rows_of_stranded(problem: AssignmentProblem, solution: Solution, scorer):
    """Unmatched mentees with eligible mentors but no pair in the solver's set (every mentor of
    theirs full, for example of locked pairs, so no pair of theirs was worth keeping): their
    eligible pairs join the problem, unchosen, so that their reason names those mentors and
    their places ("capacity taken"), never "no eligible mentor". None when the solve stopped at
    its time limit: their reason says so (:func:`~mentormatch.report.reasons.unmatched_reasons`'s
    ``not_reached``), and no row is scored past the limit."""
    if (solution.certificate or {}).get("timed_out"):
        return problem, solution
    P = problem.pairs
    has = np.bincount(P.mentee, minlength=P.n_mentees) > 0
    matched = np.zeros(P.n_mentees, bool)
    matched[P.mentee[solution.chosen]] = True
    counts = np.asarray(scorer.eligible_counts)
    stranded = np.flatnonzero(~has & ~matched & (counts > 0))[:knobs.STRANDED_ROWS]
    if not len(stranded):
        return problem, solution
    parts_i, parts_j, parts_s = [], [], []
    for i in stranded.tolist():
        if isinstance(scorer, _BlockScorer):
            row = scorer(slice(i, i + 1))[0]
            j = np.flatnonzero(row > -np.inf)
            s = row[j]
        else:  # bounds: the eligible mentors of the mentee's internal row, scored exactly
            from ..scale import BIG

            r = int(scorer.inverse[i])
            j = np.flatnonzero(scorer.upper(r, r + 1)[0] > -BIG / 2)
            s = scorer.exact_scores(np.full(len(j), r), j)
        parts_i.append(np.full(len(j), i, np.int64))
        parts_j.append(j.astype(np.int64))
        parts_s.append(np.asarray(s, float))
    from ..solvers.base import grow

    grown, was = grow(problem, np.concatenate(parts_i), np.concatenate(parts_j),
                      np.concatenate(parts_s))
    return grown, dataclasses.replace(solution, chosen=np.sort(was[solution.chosen]))


def _alike(solver, problem, solution, scorer, data, bonus):
    """The engine's answer in the tie rule's form for alike people (solvers/alike.py), as on
    the complete set, from one pass over the round's pairs (up to ``alike.SOURCE_PAIRS``)."""
    from ..solvers import alike

    if not alike.applies(solver, problem):
        return problem, solution
    n, m = len(data["mentees"]), len(data["mentors"])
    n_pairs = n * m if isinstance(scorer, _BlockScorer) else int(np.sum(scorer.eligible_counts))
    if n_pairs > alike.SOURCE_PAIRS:
        cert = {**(solution.certificate or {}), "ties": {"rule": "alike people", "applied": False,
                                                         "eligible_pairs": n_pairs}}
        return problem, dataclasses.replace(solution, certificate=cert)
    P, ch = problem.pairs, solution.chosen
    reader = _ScorerRows(scorer, n, m, data["mentee_ids"], data["mentor_ids"])
    pairs, info = alike.canonical_on_source(reader, problem,
                                            (P.mentee[ch], P.mentor[ch], problem.score[ch]),
                                            bonus=None if bonus is None else bonus.on_pairs)
    return alike.on_candidates(problem, solution, pairs, info)


def _solve_large(prepared: Prepared, bonus: "PairBonus | None" = None) -> Matching:
    """A scale-path round solved and wrapped; an infeasibility names people by id, as on the
    complete set (the engine diagnoses by index over every pair of its source)."""
    from ..errors import InfeasibleError
    from .wrap import relabelled

    try:
        return _solve_on_source(prepared, bonus)
    except InfeasibleError as e:
        raise relabelled(prepared, e) from None


def _solve_on_source(prepared: Prepared, bonus: "PairBonus | None" = None) -> Matching:
    from ..scoring_totals import ScoresOnRead, score_totals
    from ..solvers.blame import Diagnosed
    from ..solvers.certify import solve_scored
    from ..solvers.diagnose import lock_conflicts, locks_alone
    from .bonus import plan_bonus, solve_with_bonus

    scorer, data = prepared.scorer, dict(prepared.data)
    n, m = len(data["mentees"]), len(data["mentors"])
    if data["locked"] is not None and prepared.solver != "stable":
        # locks beyond a place: the complete set's findings, here in the round's order (the
        # bounds' own row order would name other people), by id in the end; "stable" refuses
        # locks as a setting first, as on the complete set
        alone = locks_alone(*data["locked"], n, data["capacity"], data["demand"], data["load"])
        if found := lock_conflicts(alone):
            raise Diagnosed(found, alone)
    # unit loads and whole capacities, as AssignmentProblem.integral: the certified flows' units
    cap = np.asarray(data["capacity"], np.float64)
    unit = (data["load"] is None or bool(np.all(data["load"] == 1))) and bool(np.all(cap == np.round(cap)))
    free = unit and not data["side"].active()  # the certified flows' problems: no side rows
    plain = prepared.solver == "flow" and not data["coverage_first"] and unit
    engine = not plain and prepared.solver in ("flow", "mip")
    flows = free and prepared.solver in ("maxmin", "leximin")  # (coverage_first: flows counting mentees)
    # how the bonus is applied, once: folded into the scorer, apart in the engine, or held
    plan = plan_bonus(bonus, prepared.solver, coverage_first=data["coverage_first"], free=free)
    solve_on = plan.scorer(scorer, m)
    from ..solvers.fair_claims import source_claims

    def claimed(problem, solution):  # the complete set's bounds on every stop (fair_claims.py)
        unread = scorer.eligible_counts < 0 if isinstance(scorer, _BlockScorer) else None
        return source_claims(problem, solution, _source(scorer, n, m, solve_on), prepared.solver,
                             unread=unread, ceiling=getattr(solve_on, "score_ceiling", np.inf))

    if engine:
        from ..solvers.engine import solve_source

        problem, solution = solve_source(
            _source(scorer, n, m, solve_on), data["capacity"], demand=data["demand"],
            load=data["load"], locked=data["locked"] or (None, None), side=data["side"],
            coverage_first=data["coverage_first"], bonus=plan.engine_term(), options=prepared.options)
    elif flows and prepared.solver == "maxmin":
        # max-min by certified flows on the scorer (solvers/bottleneck.py): no pair list held
        from ..solvers.bottleneck import solve_maxmin_scorer

        problem, solution = solve_maxmin_scorer(solve_on, data["capacity"], n_mentees=n, n_mentors=m,
                                                demand=data["demand"], locked=data["locked"],
                                                options=prepared.options, cover=data["coverage_first"])
        solution = claimed(problem, solution)
    elif flows and prepared.solver == "leximin":
        # leximin by the flow leximin on a set of pairs, proven over every pair against its
        # lexicographic certificate (solvers/leximin_source.py): no pair list held
        from ..solvers.leximin_source import solve_leximin_source

        problem, solution = solve_leximin_source(solve_on, _source(scorer, n, m, solve_on), data["capacity"],
                                                 n_mentees=n, n_mentors=m, demand=data["demand"],
                                                 locked=data["locked"], options=prepared.options,
                                                 cover=data["coverage_first"])
        solution = claimed(problem, solution)
    elif prepared.solver == "stable":
        # deferred acceptance read lazily: each mentee's next candidates, never every pair
        from ..solvers.stable_rows import solve_stable_rows

        reader = _ScorerRows(scorer, n, m, prepared.mentee_ids, prepared.mentor_ids, plan.bonus)
        problem, solution = solve_stable_rows(
            reader, data["capacity"], demand=data["demand"], load=data["load"],
            locked=data["locked"], coverage_first=data["coverage_first"], side=data["side"],
            options=prepared.options)
    elif not plain:
        # CP-SAT's max-min and leximin (side constraints, fractional loads) hold every eligible
        # pair where they fit (the complete set's model: the same pairs), else the pairs above a
        # proven threshold (pipeline/held.py); where those do not fit either, the engine's plan
        # and the fairness flows at its loads, with bounds (solvers/fair_source.py);
        # the scale path's progress bars are not CP-SAT's search log: the complete set writes
        # none, and no setting of the rules asks for one
        quiet = dataclasses.replace(prepared.options, progress=False)
        what = f"solver {prepared.solver!r}"

        def held(full: AssignmentProblem) -> AssignmentProblem:
            return dataclasses.replace(full, coverage_first=data["coverage_first"], side=data["side"],
                                       load=data["load"] if data["load"] is not None else full.load)

        if (plan.how == "held" or "full_problem" in data
                or fits(eligible_pairs(scorer, n, m), BYTES_PER_CPSAT_PAIR)):
            full = held(data["full_problem"]() if "full_problem" in data
                        else _full_problem(scorer, data, side=data["side"], what=what,
                                           per_pair=BYTES_PER_CPSAT_PAIR))
            solution = (solve_with_bonus(full, bonus.on_pairs(full.pairs.mentee, full.pairs.mentor),
                                         prepared.solver, quiet, prepared)
                        if plan.how == "held" else _solve(full, prepared.solver, quiet, prepared))
            problem = full
        else:
            from .held import solve_above_threshold

            if quiet.started is None:  # the tries share one deadline (and quote the user's limit)
                quiet = dataclasses.replace(quiet, started=time.perf_counter())

            def solve(part: AssignmentProblem, left: float) -> Solution:
                return _solve(held(part), prepared.solver, quiet, prepared)

            def beyond(survey):  # where CP-SAT's pairs do not fit: the engine and the flows
                from ..solvers.fair_source import solve_fair_source

                return solve_fair_source(
                    _source(scorer, n, m), scorer, data["capacity"], objective=prepared.solver,
                    demand=data["demand"], load=data["load"], locked=data["locked"],
                    side=data["side"], coverage_first=data["coverage_first"], options=quiet,
                    figures=survey.figures)

            problem, solution = solve_above_threshold(
                scorer, data, solve, quiet, what, source=_source(scorer, n, m),
                problem_of=lambda tau: problem_of(scorer, data, data["side"], tau),
                every=lambda: _full_problem(scorer, data, side=data["side"], what=what,
                                            per_pair=BYTES_PER_CPSAT_PAIR), beyond=beyond)
            problem = held(problem)
    elif isinstance(scorer, _BlockScorer):
        problem, solution = solve_scored(solve_on, data["capacity"], n_mentees=len(data["mentees"]),
                                         n_mentors=len(data["mentors"]), demand=data["demand"],
                                         locked=data["locked"], options=prepared.options,
                                         deadline=prepared.options.deadline(time.perf_counter()))
    else:
        from ..solvers.bounded import solve_bounded

        # the rounds keep the caller's time limit (from pair()'s call when set)
        problem, solution = solve_bounded(solve_on, data["capacity"], demand=data["demand"],
                                          locked=data["locked"], options=prepared.options,
                                          deadline=prepared.options.deadline(time.perf_counter()))
    problem = plan.plain_scores(problem)  # the plain scores back before the tie rule
    if engine:  # the tie rule takes the bonus apart
        problem, solution = _alike(prepared.solver, problem, solution, scorer, data, plan.bonus)
    solution = plan.report(problem, solution)  # the same keys on every source
    problem, solution = _with_rows_of_stranded(problem, solution, scorer)
    # contributions never on every pair: the reported pairs' at the tables' first read, those
    # of the solver's pairs (each mentee's best and those the certificate added: 1.4 million
    # at 100,000 x 20,000) when an explanation or a report first reads them
    scores = ScoresOnRead(data["mentees"], data["mentors"], problem.pairs, data["rules"],
                          scorer.context, scorer.features)

    def contributions(chosen: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(scores.contributions_of(chosen), columns=scores.features)

    if plan.how == "folded":  # (score + bonus) - bonus is off by a rounding: the exact scores,
        # which the ranks compare with every pair's exact score (a pair is not above itself)
        problem = dataclasses.replace(problem, score=score_totals(
            data["mentees"], data["mentors"], problem.pairs, data["rules"], scorer.context,
            prepared=scorer.features))

    if plan.bonus is not None:  # the objective bonus of any pair, for "why not X" (report/pricing.py)
        data["bonus"] = plan.bonus
    data.update(scores=scores, rule_names=scorer.rule_names,
                pair_source="blocks" if isinstance(scorer, _BlockScorer) else "bounds")
    # baselines read every eligible pair on demand (pipeline.baseline, the audit), never at once
    data["pair_reader"] = functools.cache(
        lambda: _ScorerRows(scorer, n, m, prepared.mentee_ids, prepared.mentor_ids))
    # every eligible pair in one problem, for checks on rounds that fit: built on first use only
    # (a pass over the cached blocks, or exact scores block by block, and 24 bytes a pair)
    data["full_problem"] = functools.cache(
        lambda: _full_problem(scorer, data, what="the problem of every eligible pair"))
    # a plain flow's proof (its scores are the ranked ones) leaves mentors out of the ranks' pass
    proof = proven(problem, solution) if plain and plan.how == "none" else None
    return _wrap(problem, solution, prepared.mentee_ids, prepared.mentor_ids, scorer.removed_frame(),
                 contributions, data, eligible_counts=scorer.eligible_counts,
                 ranks=lambda mentee, score: ranks_on_source(_source(scorer, n, m), mentee, score, proof))
