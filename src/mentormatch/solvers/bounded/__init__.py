"""The certified sparse path of ``"flow"`` on bounds: exact scores only where they can matter.

The same rounds as :mod:`mentormatch.solvers.certify` (one loop,
:func:`mentormatch.solvers.rounds.certified_rounds`: dual prices ``u``, ``p`` from the sparse
optimum; ``s_ij - u_i - p_j <= tol`` on every unchosen pair), with this source's own checker
and seeding.

**Bounds** (the checker, :class:`.check._Certifier`). The check runs on a cheap upper bound
``b_ij >= s_ij`` (:class:`mentormatch.scale.BoundedScorer`); the exact score is computed only for
the pairs the bound does not clear (``b_ij + margin - u_i - p_j > tol``). A pair the bound clears
satisfies the check with its exact score too, so the certificate is the same statement about
every pair.

**One pass, then pools and guards.** One threaded pass over all pairs keeps each mentee's
``POOL_PER_ROW`` best pairs by ``b_ij - g_j`` (``g``: first prices, below) and ``floor_i``, a
value no other pair of the row exceeds. The first sparse set is each mentee's ``k`` best of the
pool and each mentor's best rows, scored exactly. After each min-cost flow, the new prices are
checked without another pass over the 2e9 pairs: the pool pairs directly; every other pair has
``b_ij - p_j - u_i <= floor_i + (g_j - p_j) - u_i``, so it is cleared when ``g_j - p_j <= D`` and
``floor_i + D <= u_i + threshold``; the mentors whose price fell by more than ``D`` are
re-checked on every row and the rows with less room are scanned in full (which takes their
pools afresh under the new prices). ``D`` is chosen per band of rows by room to make that
re-check cheapest (:func:`.check._bands`). A mentor re-check moves
its rows to a new generation (the old prices with the re-checked mentors' new ones, the floor
raised to cover those mentors' pairs outside the pool), so that the next round re-checks only
the mentors whose price fell since.

**First prices from a sub-market** (:mod:`.market`): the same market on every ``GUIDE_STEP``-th
mentee, solved by this same path until its prices settle (the checker's early exits), ranks the
first pass by ``b_ij - g_j``; the first potentials start from its prices. With two levels of
sub-markets, the inner one ranks the pass and the outer one (beside the pass) the first sparse
set (with three, the outer one starts beside the inner one, from the innermost one's prices:
:func:`.market._guides`); while the level waits for the outer prices, it scores the pairs the
pass's ranking would put in that set (:class:`.first._ScoredEarly`), most of those the outer
prices then choose.
A guided sub-market's first sparse set also gives each mentor the rows of the pools that would
take it soonest (:func:`.market._rivals`), so that its first prices stay near the guide's;
an unguided one's checks add each mentor's most violating rows too
(:data:`.market.SUB_MARKET_MENTOR_ROWS`), so that its mentors without a taker fill sooner.

**Warm rounds.** A round whose check found few violating pairs (the last one, typically: about
a hundred among 30,000 pairs added) does not solve the flow again from cold:
:mod:`mentormatch.solvers.warm` repairs the last optimum from its potentials (successive
shortest paths from the violators), which is exact and gives potentials that prove it; more
violators, and it is OR-Tools again.

Exact scores cost about a microsecond a pair, a bound row of 20,000 mentors a few tens of
microseconds: at 100,000 x 20,000 the exact extractors see a few million pairs, not 2e9.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from ...errors import Conflict, InfeasibleError
from ..base import AssignmentProblem, Solution, SolverOptions
from ..certify import places_left
from ..rounds import Outcome, certified_rounds, with_locks
from ..sparse import default_top_k, empty
from .check import _Certifier
from .child import Child
from .late import fitting_k, has_time_for, late_assignment, pass_deadline, scanned_ceilings, stopped_early
from . import remote
from .market import Settling, _guides, _mentor_rows, _rivals
from .exact import _Exact
from .first import _candidates, _first_pass, _first_sparse, _ScoredEarly, _with_ceilings
from .passes import PassStopped
from .start import take_start
from .tatonnement import prechecked
from ..timed import Timed
from ..warm import resolve

log = logging.getLogger(__name__)

#: Pairs kept per mentee from the first pass (the pool; at least ``top_k``).
POOL_PER_ROW = 64
#: A guided level's first sparse set (a sub-market's or the top level's, ranked by a guide's
#: prices) keeps this many times the ``cmax + dmax + 2`` best pairs a mentee (its checks still
#: add ``cmax + dmax + 2`` a row). The first flow's prices are the guide's moved to the sparse
#: set's duals, and a mentor with few rivals there moves far: at 100,000 x 20,000 (the outer
#: sub-market, 20,000 mentees of demand 5) with 12 a mentee, 3,137 mentors' first prices fell
#: by more than 0.2 from the inner level's and 906 rose (prices near 3.3; the inner prices are
#: within 0.043 of the outer's last ones, root mean square), and 77 % of the first check's
#: violators lay outside the pools; with 18, 758 fell and 40 rose, 69 % outside, 4 rounds and
#: 16.5 s CPU against 5 and 21.5 s (the sub-market alone, load 15-17). ``pair()`` (load 14-20,
#: the same pairs): on the sub-markets only, 59.2 s CPU against 63.6 s side by side (60.8
#: against 67.0 one after the other), the top level then taking 4 rounds, not 3; on every
#: guided level, 60.9 s against 64.2 s side by side, the top level in 3 rounds; against
#: ab53104 (1.0) side by side at load 10-12, 60.7 s against 66.1 s and 269 s wall against 286 (s23h8).
GUIDED_K_FACTOR = 1.5


# --------------------------------------------------------------------------------------------
# a level's rounds
# --------------------------------------------------------------------------------------------
def _solve(scorer, cap, dem, li, lj, k: int | None, options: SolverOptions, depth: int, given=None,
           cover: bool = False, deadline: float | None = None) -> Outcome:
    """The rounds on the market left by the locks (``cap``, ``dem``; lock pairs ``li``, ``lj``
    in internal rows), seeded by a first pass. ``given``: the guide's (prices, info) when
    already known (else :func:`.market._guides`). ``depth`` > 0: a sub-market, whose rounds stop
    once its prices settle (:class:`.market.Settling`).

    ``k`` None: each mentee's ``cmax + dmax + 2`` best pairs after a guide (the guided ranking
    puts the pairs the optimum needs near the top), else :func:`default_top_k`; each mentor's
    ``2 cmax + 2`` best rows at most. ``cover``: the switch ``coverage_first`` (the flows and
    their warm repairs count mentees); its sub-market solves the plain problem, whose prices
    only guide. ``deadline`` (``time.perf_counter``; None: none): the rounds stop before a step
    that would end past it (:class:`~mentormatch.solvers.timed.Timed`)."""
    say = log.info if options.progress and depth == 0 else log.debug
    n, m = scorer.n, scorer.m
    t0, c0 = time.perf_counter(), time.process_time()
    inner_info = None
    # the time kept for the first flow (the sub-markets and the first pass share the rest);
    # none on a sub-market, whose answer gives prices only (no late flow)
    cmax, dmax = int(np.max(cap, initial=0)), int(np.max(dem, initial=1))
    k_est = default_top_k(cap, dem) if k is None else k
    pass_stop = deadline if depth > 0 else pass_deadline(deadline, n * k_est + m * min(k_est, 2 * cmax + 2))
    if given is not None:
        pass_price, later = given[0], Child.done(given)
    else:
        pass_price, later, inner_info = _guides(_solve, scorer, cap, dem, depth, pass_stop)
    beside = later is not None and later.running
    guided = later is not None
    if k is None:
        k = cmax + dmax + 2 if guided else default_top_k(cap, dem)
    mentor_k = min(k, 2 * cmax + 2)
    t1, c1 = time.perf_counter(), time.process_time()
    exact = _Exact(scorer)
    size = min(m, max(POOL_PER_ROW, k))
    # floors per mentor group (.groups) on a guided top level only: unguided, the first check
    # moves the prices from 0 by whole levels (10,000 x 3,000: its check 3.9 s with them, 0.5 s without)
    try:
        pool, mentor_best, ceiling = _first_pass(scorer, pass_price, later, size, mentor_k, cap, dem, li, lj,
                                        options.progress and depth == 0, pass_stop, grouped=depth == 0 and guided)
    except PassStopped as stop:  # (the sub-market beside it ended too)
        say("%sthe first pass stopped at the caller's deadline", "  " * depth)
        cert = {"method": _Certifier.method, "rounds": 0, "first_pass": "stopped at the deadline",
                "rows_scanned": stop.rows_done}
        part = getattr(stop, "pool", None)
        if depth > 0 or part is None:  # (a sub-market's answer gives prices only: no flow)
            return stopped_early(scorer, cap, dem, empty(), cert)
        # the rows scanned: each one's best pairs of its pool (the pass's ranking), one flow
        k_late = fitting_k(min(size, default_top_k(cap, dem)), stop.rows_done, deadline)
        sp = _first_sparse(scorer, exact, part, None, None, k_late, cap, cover)
        checker = _Certifier(scorer, exact, part, li, lj, False)
        out = stopped_early(scorer, cap, dem, sp, cert, checker, (part.prices[0], None), stop.rows_done)
        rows_seen = scanned_ceilings(scorer, checker, stop.rows_done, cap)
        if rows_seen is not None:  # (max-min's first flow: popped by its claims, fair_claims.py)
            out.certificate["row_ceilings"] = rows_seen
        return late_assignment(out, cap, dem, _weights(cap, dem, li, cover))
    t_pass, c_pass = time.perf_counter(), time.process_time()
    if depth > 0 and guided:  # each mentor's rivals near its price (.market.SUB_MARKET_RIVALS)
        mentor_best = _rivals(pool, mentor_best, dem)
    early = None  # the pass ranked by the inner sub-market's prices, the sparse set by the outer's
    if inner_info is not None:
        k_early = int(round(GUIDED_K_FACTOR * k)) if options.top_k is None else k
        early = _ScoredEarly(exact, _candidates(pool, mentor_best, None, k_early, cap, m))
    try:
        guide, guide_info = (None, None) if later is None else later.result()
    finally:
        if early is not None:
            early.join()
    t_prices, c_prices = time.perf_counter(), time.process_time()
    # where the time went (wall seconds; the bound passes' pairs): for the cost per block; and
    # this process's CPU seconds (every thread's; a sub-market in a child or on a worker keeps
    # its own record, in its info's "work"); "first_sparse": from the sub-market's prices to
    # the first flow
    work = {"before_first_pass": round(t1 - t0, 3), "first_pass": round(t_pass - t1, 3),
            "first_pass_pairs": n * m, "waiting_for_sub_market": round(t_prices - t_pass, 3),
            "first_sparse": 0.0, "flows": 0.0, "prices": 0.0, "checks": 0.0, "check_bound_pairs": 0,
            "exact_scores": 0.0,
            "cpu": {"before_first_pass": round(c1 - c0, 3), "first_pass": round(c_pass - c1, 3),
                    "waiting_for_sub_market": round(c_prices - c_pass, 3)}}
    if early is not None:  # (its seconds are also in "exact_scores")
        work["first_sparse_scored_early"] = round(early.seconds, 3)
    if guide is None and guided and options.top_k is None:  # the sub-market found no prices
        k = min(size, default_top_k(cap, dem))
    k_first = int(round(GUIDED_K_FACTOR * k)) if guide is not None and options.top_k is None else k
    if depth == 0:  # (the pass kept time for the first flow; a late sub-market took some)
        k, k_first = fitting_k(k, n, deadline), fitting_k(k_first, n, deadline)
    sp = _first_sparse(scorer, exact, pool, mentor_best, guide, k_first, cap, cover)
    if guide_info is not None and inner_info is not None:
        guide_info = {**guide_info, "pools_ranked_by": inner_info, "beside_first_pass": beside}
    if guide_info is not None:
        say("%sfirst prices from a sub-market of %d mentees in %.2fs (%d rounds)", "  " * depth,
            guide_info["mentees"], guide_info["seconds"], guide_info["rounds"])
    say("%ssparse set: %d pairs (top %d of %d per mentee by the bound%s) in %.2fs", "  " * depth, len(sp.i),
        k_first, size, " less the sub-market's prices" if guide is not None else "", time.perf_counter() - t1)
    warm = None  # prices to start the first potentials from: the guide's
    if guide is not None:
        gp = np.where(cap > 0, guide, 0.0)
        gu = np.zeros(n)
        np.maximum.at(gu, sp.i, sp.s - gp[sp.j])
        warm = (gu, gp)
    work["first_sparse"] = round(time.perf_counter() - t_prices, 3)
    work["cpu"]["first_sparse"] = round(time.process_time() - c_prices, 3)
    checker = _Certifier(scorer, exact, pool, li, lj, options.progress and depth == 0,
                         settle=Settling() if depth > 0 else None, started=t0,
                         facts={"pool_per_row": size, "first_prices": guide_info, "work": work},
                         per_mentor=_mentor_rows(depth, guided))
    if (guide is not None and given is None and depth == 0 and not cover and options.certify
            and has_time_for(len(sp.i), deadline)):  # (.tatonnement)
        t_adj, c_adj = time.perf_counter(), time.process_time()
        sp, warm = prechecked(scorer, exact, pool, mentor_best, sp, guide, k_first, cap, dem, checker, k)
        work["first_prices_adjusted"] = round(time.perf_counter() - t_adj, 3)
        work["cpu"]["first_prices_adjusted"] = round(time.process_time() - c_adj, 3)
        say("%sfirst prices adjusted and checked in %.2fs: sparse set %d pairs", "  " * depth,
            time.perf_counter() - t_adj, len(sp.i))
    if deadline is not None:
        checker = Timed(checker, deadline)
        if checker.late():  # no time for the first flow
            cert = {"method": _Certifier.method, "top_k": k, "pairs_in_sparse": len(sp.i), "rounds": 0}
            checker.record(cert, "round")
            checker.record(cert, "stopped")
            out = stopped_early(scorer, cap, dem, sp, cert, checker, (pool.prices[0], guide))
            return out if depth > 0 else _with_ceilings(late_assignment(out, cap, dem, _weights(cap, dem, li, cover)),
                                                        scorer, ceiling, depth)
    weights = _weights(cap, dem, li, cover)
    return _with_ceilings(certified_rounds(sp, cap, dem, checker, options, k, warm=warm, repair=resolve,
                                           work=work, say=say, indent="  " * depth, cover=weights, guide=depth > 0),
                          scorer, ceiling, depth)


def _weights(cap, dem, li, cover: bool):
    """``coverage_first``'s weight per mentee, or None (:func:`~mentormatch.solvers.quantize.coverage_weights`;
    a locked mentee is matched already)."""
    from ..quantize import coverage_weights

    return coverage_weights(cap, dem, li) if cover else None


def solve_bounded(scorer, capacity, *, demand=None, locked=None, options: SolverOptions | None = None,
                  executor=None, cover: bool = False,
                  deadline: float | None = None) -> tuple[AssignmentProblem, Solution]:
    """Exact assignment over every pair of a :class:`~mentormatch.scale.BoundedScorer`.

    Same contract as :func:`mentormatch.solvers.certify.solve_scored`: returns the final sparse
    problem (locks, each mentee's best pairs by the bound, the pairs the certificate added, all
    with exact scores) and a solution whose status is ``"optimal"`` only when the certificate
    holds for every candidate pair.

    ``executor``: a ``concurrent.futures.Executor`` (a Dask ``Client.get_executor()``
    included) that runs the block passes (bounds, exact scores, the certificate's checks; see
    :mod:`.remote`); None uses :data:`remote.EXECUTOR` (None: this process's threads). The
    result is the same either way.

    ``cover``: ``coverage_first``, as in :func:`mentormatch.solvers.certify.solve_scored`.

    ``deadline``: a ``time.perf_counter`` reading, the caller's time limit (None: none;
    ``pair()`` passes ``time_limit`` seconds from its call: ``SolverOptions.deadline``). The sub-markets of first
    prices stop at half the time left (:data:`.market.GUIDE_SHARE`; their last prices guide),
    the first pass takes no block past the deadline less the time kept for the first flow
    (:data:`LATE_PAIR_SECONDS` a pair, at most :data:`RESERVE_SHARE` of the time left; the
    sub-markets share the time before it), and after it no flow and no check starts
    that would end past the deadline, judged by the last of its kind (with the deadline passed
    before the first pass: none at all). The answer is then ``"feasible"``,
    ``certificate["timed_out"]``: the last flow's assignment, or, stopped before the rounds'
    first flow, one flow on the first sparse set (on the pools of the rows scanned when the
    pass was cut short; the other rows unmatched; ``certificate["late_flow"]``), the locks
    alone when the pass scanned no row; and a bound (:func:`~mentormatch.solvers.rounds.stopped_bound`, from
    the round's prices and the pools, :meth:`.check._Certifier.ceiling`; before the first flow,
    from the pass's or the sub-market's prices; the rows without a pool by their own ceilings,
    :func:`.ceiling.row_ceilings`, at most the bounds' largest value).
    """
    with remote.executing(executor):  # (on Dask, each pass's rows are sent once: remote.sent_once)
        return _solve_bounded(remote.sent_once(scorer), capacity, demand=demand, locked=locked,
                              options=options, cover=cover, deadline=deadline)


#: Rows of bounds computed at once to read the locked pairs' bounds (float32: 40 MB a 500 rows at
#: 20,000 mentors): a programme's second round locks the carried pairs of 32,000 rows, whose
#: bounds at once took 2.6 GB (s21h8).
LOCK_ROWS = 500


def _locked_bounds(scorer, li: np.ndarray, lj: np.ndarray) -> np.ndarray:
    """The bounds of the locked pairs ``(li, lj)`` (internal rows, sorted by row), a block of
    :data:`LOCK_ROWS` locked rows at a time."""
    rows = np.unique(li)
    out = np.empty(len(li), np.float32)
    for a in range(0, len(rows), LOCK_ROWS):
        part = rows[a:a + LOCK_ROWS]
        lo, hi = np.searchsorted(li, part[0], side="left"), np.searchsorted(li, part[-1], side="right")
        out[lo:hi] = scorer.subset(rows=part).upper(0, len(part))[np.searchsorted(part, li[lo:hi]), lj[lo:hi]]
    return out


def _solve_bounded(scorer, capacity, *, demand=None, locked=None,
                   options: SolverOptions | None = None, cover: bool = False,
                   deadline: float | None = None) -> tuple[AssignmentProblem, Solution]:
    options = options or SolverOptions()
    started = time.perf_counter()
    n, m = scorer.n, scorer.m
    cap_f = np.asarray(capacity, dtype=np.float64)
    if cap_f.shape != (m,) or np.any(cap_f < 0) or np.any(cap_f != np.round(cap_f)):
        raise ValueError(f"capacity must be {m} whole numbers >= 0")
    # the scorer's rows are the mentees in its internal order (grouped for speed): demand and
    # locks are moved into that order here and the pairs moved back at the end
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, dtype=np.int64)[scorer.order]
    from ...scale import BIG

    li, lj = ((np.asarray(x, dtype=np.int64) for x in locked) if locked is not None
              else (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    li = scorer.inverse[li]
    lock_order = np.lexsort((lj, li))
    li, lj = li[lock_order], lj[lock_order]
    if len(li):
        eligible = _locked_bounds(scorer, li, lj) > -BIG / 2
        if not eligible.all():
            bad = int(np.flatnonzero(~eligible)[0])
            raise InfeasibleError(Conflict("eligibility", f"locked pair (mentee {li[bad]}, mentor "
                                           f"{lj[bad]}) is ineligible", "unlock it"))
    ls = scorer.exact_scores(li, lj)
    cap_left, dem_left = places_left(li, lj, ls, cap_f, dem, n, m, "is ineligible")

    k = options.top_k
    if k is not None and k < 1:
        raise ValueError(f"SolverOptions.top_k must be >= 1 or None, got {k}")
    start = take_start(m)
    given = None if start is None else (start, {"mentees": 0, "rounds": 0, "seconds": 0.0,
                                                "warm_start": "an earlier solution's mentor prices"})
    if deadline is not None and time.perf_counter() >= deadline:  # no pass, no flow: the locks
        out = stopped_early(scorer, cap_left, dem_left, empty(), {"method": _Certifier.method, "rounds": 0})
    else:
        out = _solve(scorer, cap_left, dem_left, li, lj, k, options, 0, given, cover, deadline)
    return with_locks(out, li, lj, ls, cap_f, dem[scorer.inverse], started, scorer.order)
