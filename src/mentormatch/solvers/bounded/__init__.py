"""The certified sparse path of ``"flow"`` on bounds: exact scores only where they can matter.

The same proof as :mod:`mentormatch.solvers.certify` (dual prices ``u``, ``p`` from the sparse
optimum; ``s_ij - u_i - p_j <= tol`` on every unchosen pair), with two changes.

**Bounds.** The check runs on a cheap upper bound ``b_ij >= s_ij``
(:class:`mentormatch.scale.BoundedScorer`); the exact score is computed only for the pairs the
bound does not clear (``b_ij + margin - u_i - p_j > tol``). A pair the bound clears satisfies
the check with its exact score too, so the certificate is the same statement about every pair.

**One pass, then pools and guards.** One threaded pass over all pairs keeps each mentee's
``POOL_PER_ROW`` best pairs by ``b_ij - g_j`` (``g``: first prices, below) and ``floor_i``, a
value no other pair of the row exceeds. The first sparse set is each mentee's ``k`` best of the
pool and each mentor's best rows, scored exactly. After each min-cost flow, the new prices are
checked without another pass over the 2e9 pairs (:class:`_Certifier`): the pool pairs directly;
every other pair has ``b_ij - p_j - u_i <= floor_i + (g_j - p_j) - u_i``, so it is cleared when
``g_j - p_j <= D`` and ``floor_i + D <= u_i + threshold``; the mentors whose price fell by more
than ``D`` are re-checked on every row and the rows with less room are scanned in full (which
takes their pools afresh under the new prices). ``D`` makes that re-check cheapest. A mentor
re-check moves its rows to a new generation (the old prices with the re-checked mentors' new
ones, the floor raised to cover those mentors' pairs outside the pool), so that the next round
re-checks only the mentors whose price fell since.

**First prices from a sub-market.** Ranked by the bound alone, the pools of a market where
popular mentors fill up hold the wrong pairs: most mentees end far down their own lists, and
the first rounds would re-scan most rows. :func:`_guide` solves the same market on every
``GUIDE_STEP``-th mentee with ``GUIDE_STEP`` times the demand (by this same path until its
prices settle, itself guided while large: the inner sub-market divides the places by
``GUIDE_STEP`` instead, a flow a fifth as large) and ranks the first pass by ``b_ij - g_j``
with its mentor prices. Each round's potentials start from the last round's (or the guide's prices).

**Warm rounds.** A round whose check found few violating pairs (the last one, typically: about
a hundred among 30,000 pairs added) does not solve the flow again from cold: :mod:`.warm`
repairs the last optimum from its potentials (successive shortest paths from the violators),
which is exact and gives potentials that prove it; more violators, and it is OR-Tools again.

Exact scores cost about a microsecond a pair, a bound row of 20,000 mentors a few tens of
microseconds: at 100,000 x 20,000 the exact extractors see a few million pairs, not 2e9.
"""
from __future__ import annotations

import logging
import time
from typing import NamedTuple

import numpy as np

from ...errors import Conflict, InfeasibleError
from ...pairs import Candidates, unique_sorted
from ..base import AssignmentProblem, Solution, SolverOptions, finish
from ..certify import _merge, _Sparse, default_top_k, places_left, prices, start_from_prices, with_ties
from ..flow import check_supported, solve_arrays
from ..ties import TIGHT_GAIN
from .check import _Certifier
from .child import Child, InThread
from . import remote
from .passes import _Exact, _Pool, _scan
from .start import take_start
from .warm import resolve

log = logging.getLogger(__name__)

#: Pairs kept per mentee from the first pass (the pool; at least ``top_k``).
POOL_PER_ROW = 64
#: Above this many pairs, the first prices come from a sub-market (:func:`_guide`).
GUIDE_PAIRS = 100_000_000
#: The sub-market keeps every GUIDE_STEP-th mentee, with GUIDE_STEP times the demand (or, inner,
#: a GUIDE_STEP-th of the places).
GUIDE_STEP = 5
#: The sub-market runs only when the places are at least this share of the demand. Where
#: mentees far outnumber the places, the unmatched ones are priced at 0 and the bound's own
#: ranking finds the pairs that matter: at 100,000 x 20,000 with 54 % places, 64 s without
#: the sub-market against 73 s with it; with 100 % places, 108 s with it against over 250 s.
GUIDE_MIN_PLACES = 0.75
#: A sub-market's rounds stop once a round adds at most this share of its sparse set: its
#: prices only rank the first pass, and the last rounds (a few hundred pairs, then a round that
#: only confirms) cost a full flow each. At 100,000 x 20,000 (capacity 5): 97 s against 104 s
#: run to the certificate; a cut at 2 % made the next level slower (its guide was worse).
GUIDE_SETTLED = 0.005
#: ... and a sub-market's round whose predecessor added at most this share stops after its flow
#: and prices, without a check: the check would only confirm that they settled (at 100,000 x
#: 20,000, the last check of each level added 0.3 % after a round that added 2.7-3.3 %), and
#: it costs 0.6 s (inner level) and 1.1 s (outer level) on the path to the first flow.
GUIDE_SETTLING = 0.04


# --------------------------------------------------------------------------------------------
# first prices from a sub-market, the first pass, the rounds
# --------------------------------------------------------------------------------------------
class _Market(NamedTuple):
    """A sub-market (:func:`_market`): the scorer on some mentees, the places and the demand,
    and how they were scaled."""

    scorer: object
    cap: np.ndarray
    dem: np.ndarray
    demand_factor: int  # the demand is this many times the mentees' own
    places_divisor: int  # the places are about the mentors' own divided by this


def _market(scorer, cap, dem, divide_places: bool = False) -> _Market | None:
    """The sub-market of a market: the scorer on every ``GUIDE_STEP``-th mentee of the grouped
    order (every group in proportion), with ``GUIDE_STEP`` times their demand and the mentors'
    places, or None below ``GUIDE_PAIRS`` pairs or when the places are below
    ``GUIDE_MIN_PLACES`` of the demand.

    With ``divide_places``, where every mentor with places has at least ``GUIDE_STEP``, the
    mentees keep their demand and the mentors get a ``GUIDE_STEP``-th of their places instead
    (rounded in mentor order, so that the total is kept): the same share of places per unit
    of demand in a flow a ``GUIDE_STEP``-th as large. Used for the inner sub-market, whose
    prices only rank the first pass and guide the outer one: at 100,000 x 20,000 (capacity 5)
    it took 7.0-7.9 s against 11.8-12.7 s with the demand multiplied, and the whole solve
    about 2 s less (four runs); used for the outer one too, its prices were worse: the full
    market took 4 rounds and 26 s against 3 rounds and 20 s."""
    n, m = scorer.n, scorer.m
    if n * m <= GUIDE_PAIRS or n < 2 * GUIDE_STEP or cap.sum() < GUIDE_MIN_PLACES * dem.sum():
        return None
    rows = np.arange(0, n, GUIDE_STEP)
    if divide_places and cap.max(initial=0) > 0 and cap[cap > 0].min() >= GUIDE_STEP:
        whole = np.cumsum(cap) // GUIDE_STEP  # (whole numbers: no rounding error to guard)
        return _Market(scorer.subset(rows=rows), np.diff(whole, prepend=0), dem[rows], 1, GUIDE_STEP)
    return _Market(scorer.subset(rows=rows), cap, dem[rows] * GUIDE_STEP, GUIDE_STEP, 1)


def _guide(market: _Market, depth: int, given=None):
    """Prices for a first pass: the sub-market ``market`` (see :func:`_market`), solved by this
    same path (guided by ``given``, or by its own sub-market when still large) until its prices
    settle (``GUIDE_SETTLED``; or one round after a round that added under ``GUIDE_SETTLING``).
    Returns (prices, info), or (None, None) when it has none. Settled, not merely early: at
    100,000 x 20,000 (capacity 5) the prices of a sub-market stopped after 3 rounds made the
    full market take 10 rounds and 333 s, against 3 rounds and about 100 s with settled ones.

    The first pass ranks each mentee's pairs by ``bound - price``: with prices near the
    final ones, the pools hold the pairs the optimum and its prices need and the guards hold
    in the first rounds; ranked by the bound alone (prices 0) in a market where popular
    mentors fill up, most mentees end far down their own lists, and the first rounds re-check
    most of the pairs."""
    t = time.perf_counter()
    e = np.zeros(0, np.int64)
    sub = market.scorer
    _, _, _, _, cert, found = _solve(sub, market.cap, market.dem, e, e, None, SolverOptions(progress=False),
                                     depth + 1, given)
    if found is None:
        return None, None
    p = np.where(np.isfinite(found[1]), found[1], 0.0)
    info = {"mentees": sub.n, "demand_factor": market.demand_factor,
            "places_divisor": market.places_divisor, "rounds": cert["rounds"],
            "certified": bool(cert["holds"]), "seconds": round(time.perf_counter() - t, 3),
            "work": cert.get("work"), "first_prices": cert.get("first_prices")}
    return p, info


def _guides(scorer, cap, dem, depth: int):
    """The prices of a level's first pass, and how to get the prices its first sparse set is
    ranked by: (pass prices, Child giving (prices, info), the inner sub-market's info), each
    None when there is none.

    With one sub-market both are its prices. With two (the sub-market is itself guided), the
    inner sub-market is solved first; its prices rank the pass (the pools and floors), while
    the sub-market, guided by them, runs in a forked child beside the pass (:mod:`.child`;
    on a thread when the block passes run on an executor, whose workers then take the pass's
    tasks while this process runs the sub-market's flows); its prices then rank each mentee's pool for the first sparse set and start the
    potentials. At 100,000 x 20,000 (capacity 5): the sub-market alone 16.5 s and the pass
    alone 9.9 s one after the other, 21-22 s side by side (the pass's threads at a lower
    priority take the core the sub-market's flows, one thread each, leave idle); the pools
    ranked by the inner prices need about 20,000 more rows scanned in full over the rounds
    (about 1.5 s). Ranked by the inner sub-market's prices from before they settle (to start
    the pass sooner), the full market took 131 s and more: the pass needs settled prices."""
    market = _market(scorer, cap, dem)
    if market is None:
        return None, None, None
    inner = _market(market.scorer, market.cap, market.dem, divide_places=True)
    if inner is None:
        g = _guide(market, depth)
        return g[0], Child.done(g), None
    inner_guide = _guide(inner, depth + 1)
    executor = remote.current()
    if executor is not None:  # a thread, not a fork, beside the pass's tasks (:class:`InThread`)
        return inner_guide[0], InThread(_guide_on, executor, market, depth, inner_guide), inner_guide[1]
    return inner_guide[0], Child(_guide, market, depth, inner_guide), inner_guide[1]


def _guide_on(executor, *args):
    """:func:`_guide` with its block passes on ``executor`` (from another thread)."""
    with remote.executing(executor):
        return _guide(*args)


def _first_pass(scorer, pass_price, later: Child | None, size: int, mentor_k: int, cap, dem, li, lj,
                progress: bool):
    """The pools (each row's ``size`` best pairs by ``bound - pass_price``) and each mentor's
    ``mentor_k`` best rows (rows, mentors), in one pass over all pairs; at a lower priority
    while ``later`` runs in a child beside it, which is ended if the pass fails."""
    n, m = scorer.n, scorer.m
    price = np.zeros(m) if pass_price is None else np.asarray(pass_price, np.float64)
    price = np.where(cap > 0, price, np.inf)
    try:
        f = _scan(scorer, np.arange(n), None, price, excl_i=li, excl_j=lj, pool_size=size,
                  dead=dem <= 0, mentor_k=mentor_k, progress=progress, what="best pairs per mentee (bounds)",
                  background=later is not None and later.running)
    except BaseException:  # the child is no longer waited for
        if later is not None:
            later.cancel()
        raise
    cols, vals, floor = f.pool
    return _Pool(cols, vals.astype(np.float64), floor, np.zeros(n, np.int64), [price]), f.mentor_best


def _first_sparse(scorer, exact: _Exact, pool: _Pool, mentor_best, guide, k: int, cap) -> _Sparse:
    """The first sparse set: each row's ``k`` best of its pool by ``bound - guide`` (the pool's
    own ranking when ``guide`` is None or the pass's prices) and each mentor's best rows, with
    exact scores (positive ones kept: only those can raise the total).

    The mentors' lists give every mentor rivals in the sparse set: ranked by ``bound -
    price``, the mentees' lists leave out the mentors the guide prices high, and ranked by the
    bound alone, when mentees outnumber the places, the mentors nobody ranks high; either way
    such a mentor would be priced at nothing in the first round."""
    from ...scale import BIG

    n, m = scorer.n, scorer.m
    cols, size = pool.cols, pool.cols.shape[1]
    rank = pool.vals
    if guide is not None:  # by the later prices (the same ranking when they are the pass's)
        rank = rank + np.where(cap > 0, pool.prices[0] - guide, 0.0)[cols]
    kk = min(k, size)
    top = np.argpartition(rank, size - kk, axis=1)[:, size - kk:]
    ok = np.take_along_axis(pool.vals, top, axis=1) > -BIG / 2
    ri = np.broadcast_to(np.arange(n)[:, None], top.shape)[ok]
    rj = np.take_along_axis(cols, top, axis=1)[ok]
    mi, mj = mentor_best if mentor_best is not None else (ri[:0], rj[:0])
    code = unique_sorted(np.concatenate([ri * m + rj, mi * m + mj]))
    i, j = code // m, code % m
    s = exact(i, j)
    keep = s > 0
    return _Sparse(i[keep], j[keep], j[keep], s[keep])


def _solve(scorer, cap, dem, li, lj, k: int | None, options: SolverOptions, depth: int, given=None):
    """The rounds on the market left by the locks (``cap``, ``dem``; lock pairs ``li``, ``lj``
    in internal rows). Returns (sparse set, chosen, optimal, bound, certificate, (u, p)).
    ``given``: the guide's (prices, info) when already known (else :func:`_guides`).

    ``k`` None: each mentee's ``cmax + dmax + 2`` best pairs after a guide (the guided ranking
    puts the pairs the optimum needs near the top), else :func:`default_top_k`; each mentor's
    ``2 cmax + 2`` best rows at most."""
    say = log.info if options.progress and depth == 0 else log.debug
    n, m = scorer.n, scorer.m
    t0 = time.perf_counter()
    inner_info = None
    if given is not None:
        pass_price, later = given[0], Child.done(given)
    else:
        pass_price, later, inner_info = _guides(scorer, cap, dem, depth)
    beside = later is not None and later.running
    guided = later is not None
    cmax, dmax = int(np.max(cap, initial=0)), int(np.max(dem, initial=1))
    if k is None:
        k = cmax + dmax + 2 if guided else default_top_k(cap, dem)
    mentor_k = min(k, 2 * cmax + 2)
    t1 = time.perf_counter()
    exact = _Exact(scorer)
    size = min(m, max(POOL_PER_ROW, k))
    pool, mentor_best = _first_pass(scorer, pass_price, later, size, mentor_k, cap, dem, li, lj,
                                    options.progress and depth == 0)
    t_pass = time.perf_counter()
    guide, guide_info = (None, None) if later is None else later.result()
    # where the time went (wall seconds; the bound passes' pairs): for the cost per block
    work = {"before_first_pass": round(t1 - t0, 3), "first_pass": round(t_pass - t1, 3),
            "first_pass_pairs": n * m, "waiting_for_sub_market": round(time.perf_counter() - t_pass, 3),
            "flows": 0.0, "prices": 0.0, "checks": 0.0, "check_bound_pairs": 0, "exact_scores": 0.0}
    if guide is None and guided and options.top_k is None:  # the sub-market found no prices
        k = min(size, default_top_k(cap, dem))
    sp = _first_sparse(scorer, exact, pool, mentor_best, guide, k, cap)
    if guide_info is not None and inner_info is not None:
        guide_info = {**guide_info, "pools_ranked_by": inner_info, "beside_first_pass": beside}
    if guide_info is not None:
        say("%sfirst prices from a sub-market of %d mentees in %.2fs (%d rounds)", "  " * depth,
            guide_info["mentees"], guide_info["seconds"], guide_info["rounds"])
    say("%ssparse set: %d pairs (top %d of %d per mentee by the bound%s) in %.2fs", "  " * depth, len(sp.i),
        k, size, " less the sub-market's prices" if guide is not None else "", time.perf_counter() - t1)
    certifier = _Certifier(scorer, exact, pool, li, lj, options.progress and depth == 0)
    rounds = added = 0
    found = pot = None
    pot_scale = 0.0  # the scale the last round's potentials are in
    warm = None  # prices to start the potentials from: the guide's, then the last round's
    if guide is not None:
        gp = np.where(cap > 0, guide, 0.0)
        gu = np.zeros(n)
        np.maximum.at(gu, sp.i, sp.s - gp[sp.j])
        warm = (gu, gp)
    last = None  # the last round's optimum: pair codes and chosen
    repairs = []  # the rounds whose flow was a repair of the round before's
    settling = False  # the last check added few pairs
    while True:
        rounds += 1
        t1 = time.perf_counter()
        code = sp.i * m + sp.col
        warm_res = None
        if last is not None and pot is not None:
            was = np.zeros(len(code), bool)
            was[np.searchsorted(code, last[0][last[1]])] = True  # (code is sorted: a merge)
            warm_res = resolve(sp.i, sp.j, sp.s, cap, dem, was, pot, pot_scale)
        if warm_res is None:
            res = solve_arrays(sp.i, sp.j, sp.s, cap, dem)
        else:
            res, rep = warm_res
            pot = rep.pot  # (at pot_scale): they prove the repaired flow optimal
            repairs.append({"round": rounds, "violators": rep.violators, "phases": rep.phases})
        last = code, res.chosen
        cert = {"method": "sparse_min_cost_flow+dual_check_on_bounds", "scale": res.scale,
                "rounding_bound": res.n_max / res.scale, "n_max": res.n_max, "top_k": k,
                "pool_per_row": size, "pairs_in_sparse": len(sp.i), "rounds": rounds,
                "violations_added": added, "bound_margin": scorer.margin, "bounds_exact": scorer.exact,
                "first_prices": guide_info, "warm_repairs": repairs, "work": work,
                "or_tools_status": res.status if warm_res is None else "not run: the last optimum repaired",
                "holds": False}
        if not res.optimal or not options.certify:
            return sp, res.chosen, False, None, cert, None
        t2 = time.perf_counter()
        if warm is None:
            start = None
        elif pot is not None and pot_scale == res.scale:
            start = pot
        else:
            start = start_from_prices(*warm, res.scale)
        u, p, dual_obj, sweeps, pot = prices(sp.i, sp.j, res.cost, res.chosen, sp.s, dem, cap,
                                             res.scale, start)
        pot_scale = res.scale
        found = warm = (u, p)
        tol = 1.0 / res.scale
        t_flow, t2 = t2 - t1, time.perf_counter()
        work["flows"] += t_flow
        work["prices"] += t2 - t1 - t_flow
        say("%sround %d: flow on %d pairs in %.2fs%s, prices in %.2fs (%d sweeps)", "  " * depth, rounds,
            len(sp.i), t_flow, "" if warm_res is None else
            " (the last round's repaired: %d violators, %d phases)" % (rep.violators, rep.phases),
            t2 - t1 - t_flow, sweeps)
        if depth > 0 and settling:  # a guide's prices, one round after it nearly settled
            cert.update(seconds=round(time.perf_counter() - t0, 3))
            return sp, res.chosen, False, None, cert, found
        ex_i = np.concatenate([li, sp.i[res.chosen]])
        ex_j = np.concatenate([lj, sp.j[res.chosen]])
        # pairs within 1 % of a chosen pair's typical score of violating join with the violators
        near = 0.01 * float(np.median(np.abs(sp.s[res.chosen]))) if res.chosen.any() else 0.0
        viol, eps = certifier(u, p, ex_i, ex_j, tol, k, near)
        work["checks"] += time.perf_counter() - t2
        work["check_bound_pairs"], work["exact_scores"] = certifier.bound_pairs, exact.seconds
        grown = _merge(sp, viol, m)
        new = len(grown.i) - len(sp.i)
        say("%sround %d: check in %.2fs; %d rows scanned in full so far, %d pairs scored exactly so far, "
            "%d pairs added", "  " * depth, rounds, time.perf_counter() - t2, certifier.rows_rescanned,
            exact.computed, new)
        picked, ties = res.chosen, None
        if len(viol.i) == 0 and depth == 0:  # the tie rule (solvers/ties.py): the maybe-tight pairs
            t3, counts = time.perf_counter(), (certifier.rows_rescanned, certifier.pairs_rechecked)
            near, _ = certifier(u, p, ex_i, ex_j, TIGHT_GAIN * tol, m, 0.0)
            sp, picked, viol, ties = with_ties(sp, res.chosen, near, m, cap, dem, pot, res.scale,
                                               (scorer.order, np.arange(m)))
            grown = _merge(sp, viol, m)
            if ties is not None:  # the gather's own work, apart from the rounds' certificate
                work["ties"] = round(time.perf_counter() - t3, 3)
                ties.update(rows_scanned=certifier.rows_rescanned - counts[0],
                            pairs_rechecked=certifier.pairs_rechecked - counts[1])
                certifier.rows_rescanned, certifier.pairs_rechecked = counts
        if len(viol.i) == 0:
            bound = dual_obj + eps * res.n_max
            eligible = None if scorer.eligible_counts is None else int(scorer.eligible_counts.sum())
            cert.update(holds=True, pairs_checked=eligible, pairs_scored_exactly=exact.computed,
                        rows_scanned_again=certifier.rows_rescanned,
                        pairs_rechecked_by_mentor=certifier.pairs_rechecked,
                        seconds=round(time.perf_counter() - t0, 3),
                        dual_objective=dual_obj, max_reduced_gain=eps, tolerance=tol, ties=ties)
            return sp, picked, True, bound, cert, found
        if depth > 0 and new <= GUIDE_SETTLED * len(sp.i):  # a guide's prices have settled
            cert.update(seconds=round(time.perf_counter() - t0, 3))
            return sp, res.chosen, False, None, cert, found
        added += len(viol.i)
        settling = new <= GUIDE_SETTLING * len(sp.i)
        sp = grown


def solve_bounded(scorer, capacity, *, demand=None, locked=None, options: SolverOptions | None = None,
                  executor=None) -> tuple[AssignmentProblem, Solution]:
    """Exact assignment over every pair of a :class:`~mentormatch.scale.BoundedScorer`.

    Same contract as :func:`mentormatch.solvers.certify.solve_scored`: returns the final sparse
    problem (locks, each mentee's best pairs by the bound, the pairs the certificate added, all
    with exact scores) and a solution whose status is ``"optimal"`` only when the certificate
    holds for every candidate pair.

    ``executor``: a ``concurrent.futures.Executor`` (a Dask ``Client.get_executor()``
    included) that runs the block passes (bounds, exact scores, the certificate's checks; see
    :mod:`.remote`); None uses :data:`remote.EXECUTOR` (None: this process's threads). The
    result is the same either way.
    """
    with remote.executing(executor):  # (on Dask, each pass's rows are sent once: remote.sent_once)
        return _solve_bounded(remote.sent_once(scorer), capacity, demand=demand, locked=locked,
                              options=options)


def _solve_bounded(scorer, capacity, *, demand=None, locked=None,
                   options: SolverOptions | None = None) -> tuple[AssignmentProblem, Solution]:
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
        rows = np.unique(li)
        eligible = scorer.subset(rows=rows).upper(0, len(rows))[np.searchsorted(rows, li), lj] > -BIG / 2
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
    sp, out_chosen, optimal, bound, cert, found = _solve(scorer, cap_left, dem_left, li, lj, k,
                                                         options, 0, given)

    all_i = scorer.order[np.concatenate([li, sp.i])]
    all_j = np.concatenate([lj, sp.j])
    all_s = np.concatenate([ls, sp.s])
    is_lock = np.concatenate([np.ones(len(li), bool), np.zeros(len(sp.i), bool)])
    is_chosen = np.concatenate([np.ones(len(li), bool), out_chosen])
    order = np.argsort(all_i * m + all_j, kind="stable")
    pairs = Candidates(all_i[order], all_j[order], n, m)
    problem = AssignmentProblem(pairs, all_s[order], cap_f, dem[scorer.inverse], locked=is_lock[order])
    check_supported(problem, "flow")
    sol = finish(problem, np.flatnonzero(is_chosen[order]), "optimal" if optimal else "feasible",
                 started, "flow", None, cert)
    if bound is not None:
        sol.bound = float(ls.sum()) + bound
    if optimal and found is not None:  # the prices in the caller's mentee order
        u = np.empty(n)
        u[scorer.order] = found[0]
        sol.prices = (u, found[1])
    return problem, sol
