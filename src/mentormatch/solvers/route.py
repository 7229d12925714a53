"""The engine's route, at every size: which method answers a side-constrained problem on a pair
source, in which order. Solve on candidates, price every pair, add the violators, repeat;
then an exact MIP on the candidates closes the gap (the entries, on a held problem and on a
source, and the diagnosis of an infeasibility: :mod:`mentormatch.solvers.engine`).

The model is :class:`~mentormatch.solvers.linear.LinearModel` (stated once there). The loop::

    candidates  = each mentee's best pairs (and the locked ones)
    repeat:     solve the linear relaxation on the candidates (HiGHS)      -> prices pi >= 0
                price every pair of the source against pi                  -> reduced costs rc
                add the pairs with rc > 0 (the best few per mentee)
    until none: U = the Lagrangian bound, valid over ALL pairs
    heuristics  the relaxation rounded down and repaired; a small MIP on its fractional part
    branch      (under a budget, once the pricing settled) best-first branching on the counts
                of active mentors and of pairs, then on y and candidate pairs, every node
                priced over every pair, within a quarter of the pairs the stage priced
                before it (branch.py)                                      -> incumbent, bound T
    MIP         HiGHS branch-and-bound on the candidates, started from the incumbent, within
                ``relax.MIP_MAX_NODES`` nodes, unless T already proves it -> incumbent, bound B
    certify     an assignment that uses a pair outside the candidates is worth at most
                U + rc(pair); pairs with U + rc > incumbent join the candidates and the MIP runs
                again; the bound over all pairs is min(U, T, max(B, U + max rc outside))

**A budget at scale.** When the side rows are a stipend budget (fixed and per-mentee stipends),
with or without minimum loads, with unit loads, whole capacities, no locks, no bonus and no
``coverage_first`` (:func:`mentormatch.solvers.lagrange.handles`), a source of more than
``LAGRANGE_PAIRS`` pairs is solved by the Lagrangian of the budget row first
(:mod:`mentormatch.solvers.lagrange`): the certified flow on ``score - lambda x (per-mentee
stipend + fixed stipend / capacity)`` bounds every pair, its repaired assignments are the
primal. When it ends above ``LAGRANGE_AFTER_GAP`` with time left (its dual has a gap where
fixed stipends are spread over places left empty: 6 % on a 24 x 7 instance), the column
generation follows from its assignment, within the same time limit. Below that size the order
is reversed: the Lagrangian runs after a column generation that ends above
``LAGRANGE_AFTER_GAP``. Either way the better bound and assignment are kept.

**Share floors at scale.** When the only side rows are share floors by group (one mentor per
mentee, the same other conditions: :func:`mentormatch.solvers.floors.handles`), a source of more
than ``LAGRANGE_PAIRS`` pairs is solved by the Lagrangian of the floors
(:mod:`mentormatch.solvers.floors`): the certified flow with a bonus per mentee of each group
bounds every pair, and its flows that meet every floor are the primal.

**Score floors at any size.** The linear relaxation prices score floors badly (a pair's reduced
cost is not monotone in its score, so no score bound prices the pairs outside the candidates).
When they are the only side rows (:func:`mentormatch.solvers.scorefloors.handles`), their
Lagrangian (:mod:`mentormatch.solvers.scorefloors`: the certified flow on scores scaled per
group) answers first at every size; below ``LAGRANGE_PAIRS``, a column generation follows when
it left a gap, and the better bound and assignment are kept. An objective bonus is folded into
those flows (``score x factor + bonus``; the floors read the plain scores) when
:func:`~mentormatch.solvers.scorefloors.fold_bonus` can fold it: always on the complete set and
on the scale path's sources. Balanced loads alone are answered
the same way, by one certified flow per common load (:mod:`mentormatch.solvers.balanced`).

**coverage_first at every size.** With no side rows, unit loads and whole capacities, whatever
the demands, the most mentees and then the largest total are one certified flow over any source
(held pairs read as blocks of rows, :func:`mentormatch.solvers.sources.block_scorer`) whose
network counts each matched mentee once (each mentee's first mentor carries
the weight: :func:`mentormatch.solvers.flow.solve_arrays`;
:func:`mentormatch.solvers.bottleneck.solve_maxmin_scorer` with ``coverage_only``). The
shortcut takes no ``bonus`` apart: the scale path folds priority and continuity (a term per
pair) into the source's scorer first (:mod:`mentormatch.solvers.bonus`), so a programme round
with ``coverage_first`` is this flow on ``score + bonus``, at any size.

**The unit of score.** The engine works on the scores times a power of two that brings the
largest of the mentees' best scores into ``[1, 2)`` (:mod:`mentormatch.solvers.unit`), and
divides the answer by it: HiGHS's tolerances and the engine's own are absolute, and with every
score near 1e-8 they swallowed the objective. Scores times a power of two give the same pairs
and status, the objective and bound times that power.

**Work limits, not shares of the clock.** Every decision inside the engine is taken on counts:
pricing rounds (``relax.MAX_PRICING_ROUNDS``), pairs priced by the branching
(``branch.tree_pairs``), nodes (``branch.MAX_NODES``, ``relax.MIP_MAX_NODES``,
``heuristics.NEIGHBOURHOOD_NODES``) and flows (``MAX_FLOWS`` of the Lagrangians). HiGHS runs
single-threaded with a fixed seed, and is deterministic given its options. So the same inputs
give the same pairs on a quiet or a loaded machine. The time limit is the outer stop only
(``time_limit``; by default :data:`~mentormatch.solvers.base.SEARCH_TIME_LIMIT`, 60 s, since a
search has no bound on its time that its size gives): when it ends any part of the work, the
message says ``"stopped at the time limit"``, and only then may the answer differ from one
machine (or one run) to another.
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import InfeasibleError, TimeLimitError
from . import balanced, floors, inner, lagrange, scorefloors
from .base import (OPTIMAL_GAP, SEARCH_TIME_LIMIT, AssignmentProblem, SolverOptions, finish,
                   gap_message)
from .dualised import better_of, by_lagrange
from .linear import LinearModel
from .sources import ArraySource, block_scorer, n_pairs
from .stage import solve_stage
from .unit import scale_inputs, source_unit, unscale_answer

__all__ = ["solve_routed", "LAGRANGE_PAIRS", "LAGRANGE_AFTER_GAP"]

#: Sources with more pairs than this solve a budget (with minimum loads) by the Lagrangian of
#: the budget row over the certified flow (:mod:`mentormatch.solvers.lagrange`) instead of
#: column generation: at 20,000 x 5,000 the candidates' LP and its pricing passes took 219 s
#: for a gap of 99.7 %.
#: Below it the column generation is better (3,000 x 1,500, programme (a): 11 s for a gap of
#: 0.039 % against 4.6 s for 0.156 %).
LAGRANGE_PAIRS = 20_000_000
#: Smaller sources fall back on the Lagrangian when the column generation ends above this gap
#: with time left (the column generation keeps half of its time from pricing for it:
#: ``relax.PRICING_TIME_SHARE``).
LAGRANGE_AFTER_GAP = 1e-2
#: A stage that gave up with less than this many seconds left ran out of time.
TIME_SLACK = 0.1
#: What to try when the search ended with time left (TimeLimitError, reason "search").
SEARCH_ADVICE = ("relax the side constraints (floors, budget, minimum loads) or split the round "
                 "into smaller ones")


def solve_routed(source, capacity, *, demand=None, load=None, locked=(None, None), side=None,
                 coverage_first: bool = False, bonus=None, options: SolverOptions | None = None):
    """:func:`mentormatch.solvers.engine.solve_source` without the diagnosis of an
    infeasibility, in the engine's unit of score (:mod:`mentormatch.solvers.unit`: a power of
    two fixed by the mentees' best scores); but the certified flow that counts mentees (no
    HiGHS) works in the scores' own."""
    if (coverage_first and not (side is not None and side.active()) and bonus is None
            and inner.unit_flow(capacity, load)):
        # the most mentees, then the largest total: one certified flow counting mentees, on
        # every source (held pairs read as blocks of rows: the same flow, the same pairs)
        from .bottleneck import solve_maxmin_scorer

        li, lj = (np.zeros(0, np.int64) if x is None else np.asarray(x, np.int64) for x in locked)
        problem, sol = solve_maxmin_scorer(block_scorer(source), capacity, n_mentees=source.n_mentees,
                                           n_mentors=source.n_mentors, demand=demand,
                                           locked=(li, lj) if len(li) else None,
                                           options=options or SolverOptions(), coverage_only=True)
        sol.certificate["source"] = type(source).__name__
        return problem, sol
    started = time.perf_counter()  # the limit counts the unit's pass (from pair()'s call when set)
    factor = source_unit(source)
    src, side_in, bonus_in = scale_inputs(source, side, bonus, factor)
    problem, sol = _solve_in_unit(src, capacity, demand=demand, load=load, locked=locked,
                                  side=side_in, coverage_first=coverage_first, bonus=bonus_in,
                                  options=options, started=started)
    return unscale_answer(problem, sol, factor, side)


def _solve_in_unit(source, capacity, *, demand=None, load=None, locked=(None, None), side=None,
                   coverage_first: bool = False, bonus=None, options: SolverOptions | None = None,
                   started: float):
    """:func:`solve_routed` on scores in the engine's unit, from ``started`` (the clock)."""
    from ..pairs import Candidates
    from .base import SideConstraints

    options = options or SolverOptions()
    # a search: the user's limit, else SEARCH_TIME_LIMIT (base.py says why plain flows have none)
    limit = SEARCH_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
    deadline = options.deadline(started, SEARCH_TIME_LIMIT)  # (from pair()'s call when set)
    # the unit's pass over every pair (none for pairs in memory): a stage whose own first pass
    # (each mentee's best pairs) would end past the deadline by that measure answers at once
    pass_seconds = 0.0 if isinstance(source, ArraySource) else time.perf_counter() - started
    n, m = source.n_mentees, source.n_mentors
    li = np.zeros(0, np.int64) if locked[0] is None else np.asarray(locked[0], np.int64)
    lj = np.zeros(0, np.int64) if locked[1] is None else np.asarray(locked[1], np.int64)
    shell = AssignmentProblem(Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), n, m),
                              np.zeros(0), capacity, demand=demand, load=load,
                              side=side or SideConstraints())
    cert: dict = {"method": "pricing + HiGHS MIP", "optimal_gap": OPTIMAL_GAP, "threads": 1,
                  "random_seed": int(options.seed), "source": type(source).__name__}
    proven_cover, at_least = True, None
    dmax = int(np.max(shell.demand, initial=1))
    size = n_pairs(source)
    lagrangian = lagrange.handles(shell.side, capacity, load, coverage_first, bonus, (li, lj))
    budget_first = None  # a large source's budget: the Lagrangian first
    if size > LAGRANGE_PAIRS and lagrangian:
        budget_first = by_lagrange(source, shell, options, deadline, started, limit)
        if budget_first is not None and not _gap_left(budget_first[1], deadline):
            return budget_first
    if size > LAGRANGE_PAIRS and floors.handles(shell.side, capacity, demand, load, coverage_first,
                                                bonus, (li, lj)):
        out = by_lagrange(source, shell, options, deadline, started, limit, kind="share")
        if out is not None:
            return out
    # score floors and balanced loads: flows first at every size (the LP is weak)
    early = budget_first
    score_floors = scorefloors.handles(shell.side, capacity, demand, load, coverage_first, bonus,
                                       (li, lj))
    # score floors take a bonus folded into their flows (scorefloors.fold_bonus)
    folded = scorefloors.fold_bonus(source, bonus) if score_floors else None
    first = ("score" if score_floors and (bonus is None or folded is not None) else
             "balanced" if balanced.handles(shell.side, capacity, demand, load, coverage_first,
                                            bonus, (li, lj)) else None)
    if first is not None:
        early = by_lagrange(source, shell, options, deadline, started, limit, kind=first,
                            bonus=folded if first == "score" else None)
        # a stop with no bound goes on to the column generation's stop, which has one
        if early is not None and (early[1].status == "optimal" or size > LAGRANGE_PAIRS
                                  or time.perf_counter() >= deadline and early[1].bound is not None):
            return early
    covering = None
    if coverage_first:
        covering = _stage(deadline, limit, size,
            source, LinearModel(shell, stage="coverage"), options, deadline, cert, "coverage",
            (li, lj), None, dmax, pass_seconds=pass_seconds)
        _, _, covered, _, proven_cover = covering
        at_least = int(round(covered))
        cert["matched"] = at_least
    # the coverage stage's assignment meets every row of the score stage: its first incumbent
    start = (None if covering is None else
             (covering[0].i[covering[1]], covering[0].j[covering[1]], covering[0].s[covering[1]]))
    if budget_first is not None:  # the Lagrangian's assignment: the first incumbent
        b_problem, b_sol = budget_first
        start = tuple(x[b_sol.chosen] for x in (b_problem.pairs.mentee, b_problem.pairs.mentor,
                                                b_problem.score))
    try:
        cand, on, value, bound, done = _stage(deadline, limit, size,
            source, LinearModel(shell, coverage_at_least=at_least), options, deadline, cert,
            "score", (li, lj), bonus, dmax, start=start, pass_seconds=pass_seconds)
    except InfeasibleError:
        if budget_first is not None:
            return budget_first  # a checked assignment meets every row: no proof (below)
        if covering is None:
            raise
        # the first stage's assignment meets every row of the second (the count is its own), so
        # this is no proof: HiGHS disagrees with the check of an assignment, though both hold a
        # row to linear_rows.ROW_TOL (its scaling of a row whose terms are all far below 1 can
        # still hold it tighter). That assignment stands, with no bound
        cand, on = covering[0], covering[1]
        extra = 0.0 if bonus is None else float(np.sum(bonus(cand.i[on], cand.j[on])))
        value, bound, done, proven_cover = float(cand.s[on].sum()) + extra, None, False, False
        cert["score"] = {"relaxation": "infeasible, though the first stage's assignment meets it"}
    except TimeLimitError as e:
        if early is None:
            raise
        if early is budget_first and e.reason == "time":  # (it had time left when it ended)
            cut = early[1]
            cut.message = cut.certificate["message"] = gap_message(False, True, limit, "")
            cut.certificate["timed_out"] = True
        return early  # the flows' answer stands: the column generation found none in time
    problem = AssignmentProblem(Candidates(cand.i, cand.j, n, m), cand.s, capacity, demand=demand,
                                load=load, locked=cand.locked, coverage_first=coverage_first,
                                side=side or SideConstraints())
    optimal = done and proven_cover
    if bonus is not None:
        cert["objective"] = "score + bonus"
        cert["adjusted_objective"], cert["adjusted_bound"] = value, bound
        bound = None  # a bound on score + bonus says nothing about the plain score
    # (a count not proven maximal keeps the score stage's bound: that stage asks only for the
    # count of an assignment found, so the lexicographic optimum, whose count is at least that,
    # is one of its assignments and its total is within the bound)
    # (an optimal answer was not cut short, whenever it ended)
    timed_out = not optimal and (time.perf_counter() >= deadline or any(
        cert.get(label, {}).get("timed_out") for label in ("coverage", "score")))
    message = gap_message(optimal, timed_out, limit,
                          "the search ended with a gap at its work limits (pricing rounds, "
                          "branching, MIP nodes), before the time limit")
    cert["message"], cert["timed_out"] = message, timed_out  # pair()'s result carries it
    sol = finish(problem, np.flatnonzero(on), "optimal" if optimal else "feasible", started, "mip",
                 bound=bound, certificate=cert, message=message)
    if (lagrangian and budget_first is None and not optimal
            and (sol.gap is None or sol.gap > LAGRANGE_AFTER_GAP)):
        # the column generation stalled: the Lagrangian's bound and primal, the better of each,
        # within the caller's time limit (never beyond it: no flow starts after it)
        if time.perf_counter() < deadline:
            early = by_lagrange(source, shell, options, deadline, started, limit)
        if early is None and not timed_out and time.perf_counter() >= deadline:
            # the time limit, not the work limits, ended the search (or cut the fallback short)
            sol.message = cert["message"] = gap_message(False, True, limit, "")
            cert["timed_out"] = True
    if early is not None and not optimal:
        problem, sol = better_of(problem, sol, early, cert)
    return problem, sol


def _gap_left(sol, deadline: float) -> bool:
    """Whether a Lagrangian's answer on a large source leaves a gap above
    ``LAGRANGE_AFTER_GAP`` (or no bound) with time left: then the column generation runs after
    it, as the Lagrangian runs after the column generation on smaller sources."""
    return (sol.status != "optimal" and (sol.gap is None or sol.gap > LAGRANGE_AFTER_GAP)
            and time.perf_counter() < deadline)


def _stage(deadline: float, limit: float, size: int, *args, start=None, pass_seconds: float = 0.0):
    """:func:`~mentormatch.solvers.stage.solve_stage`, its ``TimeLimitError`` saying what
    ended the search: the time limit, or (time left) a search that found nothing and proved
    nothing, on a source of ``size`` pairs (above ``stage.ALL_PAIRS_AT_MOST``, the MIP over
    every eligible pair that would settle it is not run)."""
    from .stage import ALL_PAIRS_AT_MOST

    try:
        return solve_stage(*args, start=start, pass_seconds=pass_seconds)
    except TimeLimitError as e:
        if e.reason == "time" or time.perf_counter() >= deadline - TIME_SLACK:
            raise TimeLimitError(limit, e.stage, e.advice, reason="time") from None
        why = (f"the round has {size:,} eligible pairs, more than the {ALL_PAIRS_AT_MOST:,} "
               "the exact MIP over every pair is run on; " if size > ALL_PAIRS_AT_MOST else "")
        raise TimeLimitError(limit, e.stage, why + SEARCH_ADVICE, reason="search") from None
