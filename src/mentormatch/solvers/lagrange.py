"""A Lagrangian bound and primal for a stipend budget (with minimum loads) at any size: the
inner problem is the certified min-cost flow on shifted scores, so demand and capacity stay
exact and the bound holds over EVERY pair of the source.

Why it is valid
---------------
In any assignment that meets the constraints, an active mentor ``j`` (``y_j = 1``) has
``n_j <= cap_j`` mentees, so its fixed stipend is at least ``fixed_j * n_j / cap_j``. Hence every
feasible assignment meets the single row::

    sum_j c_j n_j <= B,          c_j = per_mentee_j + fixed_j / cap_j

(``B`` the budget, rounded down to what whole stipends can spend: ``linear.budget_rounded``).
Dropping the minimum loads and dualising that row with ``lambda >= 0``::

    score(x) <= score(x) + lambda (B - sum_j c_j n_j)
             <= U(lambda) = lambda B + max { sum_ij (s_ij - lambda c_j) x_ij : x a capacity flow }

The max is the plain certified flow on the shifted scores ``s_ij - lambda c_j`` (a per-mentor
:class:`~mentormatch.solvers.base.PairBonus` folded into the source's scorer); the flow leaves
out pairs whose shifted score is ``<= 0`` and may leave mentees unmatched, which is the same max
(no ``coverage_first`` here). Its certified ``bound`` (over every pair, rounding included) is
used, so ``U(lambda)`` is a valid upper bound for every ``lambda >= 0``; the best one is kept.
A flow stopped by the time limit gives a looser bound on that max
(:func:`mentormatch.solvers.rounds.stopped_bound`), so its ``U`` is valid too.
``U`` is convex in ``lambda`` with subgradient ``B - sum_j c_j n_j(x_lambda)``: ``lambda`` is
found by a knapsack estimate from the unconstrained flow, then safeguarded secant/bisection steps
on that subgradient.

The primal: each flow's assignment, with the fixed stipends counted per active mentor, repaired by
:func:`mentormatch.solvers.heuristics.repair` (mentors below their minimum load dropped, then the
pairs that save the most money per score lost while over the budget), the budget left spent on
active mentors (:func:`~mentormatch.solvers.budget_fill.fill`); at the best one the dropped mentors
are closed and the flow solved again, a few times. Then, when the budget binds and time is left,
one more candidate: the plain flow with each mentor's capacity at the knapsack plan's load
(:func:`~mentormatch.solvers.fair_bounds.knapsack_plan`: the most places the budget buys, cheapest
``per + fixed / places`` first, from one pass of each mentor's eligible pairs; the flow fills at
most the planned places, so it spends at most the plan), repaired, filled and re-solved the same
way; it comes last, so it can only improve the answer. At 20,000 x 5,000 (programme (a)) the answer
went from 54,391.9 to 54,584.5 with it (bound 54,592.7: gap 0.37 % to 0.015 %). The best feasible
assignment and the best bound are kept; ``optimal`` only at a gap of at most ``OPTIMAL_GAP``.

The same pairs on every source. The flows' chosen pairs are the same on the complete set, on
blocks and on bounds (the certified optimum under the tie rule, :mod:`.ties`); their final
sparse pairs are not (every pair on the complete set, a subset elsewhere). So the repair and
the fill draw only on the chosen pairs of every flow so far (each flow's own and the earlier
ones', an earlier flow's score kept for a pair chosen again), and the search decides on the
flows' optima (``lambda B`` plus the certified flow's value), not on their bounds (a sparse
set's rounding tail and the price curve differ by source): the whole route is a function of
the inputs. (When the repair and fill drew on each flow's final pairs, one instance gave
46.116 on the complete set and 42.739 on blocks and bounds. Each mentee's 12 best pairs from
one pass of the source gave the same pairs too, at 46.116, but the pass cost 6 s of CPU at
20,000 x 5,000 (36-39 s in all) for the same answer there.)

Handled: a budget (fixed and per-mentee stipends) and minimum loads, unit loads, whole
capacities, no locks, no ``coverage_first`` and no objective bonus (:func:`handles`); other
models stay on the engine's column generation.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from .base import SideConstraints, SolverOptions, proven
from .budget_fill import fill
from .inner import FlowClock, InnerFlow, LagrangeResult, plain_inner
from .linear import budget_rounded

log = logging.getLogger(__name__)

__all__ = ["handles", "solve_lagrange"]

#: At most this many inner flows (bound and primal together).
MAX_FLOWS = 24
#: Re-solves with the mentors below their minimum load closed, at the best primal.
CLOSING_ROUNDS = 3
#: The first relative step from the knapsack estimate of lambda.
STEP = 0.005
#: The bracket on lambda is settled at this relative width.
LAMBDA_TOL = 1e-5
#: Or at this width, when the last STALL_FLOWS flows improved the bound by at most STALL (a
#: share): at 20,000 x 5,000 the bound settles within a few flows, the primal (flows at either
#: end of the bracket, repaired) needs the bracket narrow.
STALL, STALL_FLOWS, STALL_WIDTH = 1e-7, 3, 1e-3


def handles(side: SideConstraints, capacity, load, coverage_first: bool, bonus, locked) -> bool:
    """True when the model's side rows are all of the kinds this module prices (a budget, with
    or without minimum loads) and the inner problem is a plain flow."""
    active = set(side.active())
    if "budget" not in active or not active <= {"budget", "min_load"}:
        return False
    return plain_inner(capacity, load, coverage_first, bonus, locked)


@dataclass
class _Flow:
    lam: float
    i: np.ndarray  # the flow's final sparse pairs (mentee, mentor, plain score)
    j: np.ndarray
    s: np.ndarray
    chosen: np.ndarray  # bool over those pairs
    inner_bound: float | None  # certified bound on the shifted problem (None: not certified)
    seconds: float
    caps: np.ndarray | None = None  # the capacities of a primal-only flow (None: the model's)
    origin: str = "lagrangian"  # "knapsack plan": the plan's flow or a re-solve of it
    relaxed: float = 0.0  # sum_j c_j n_j of its assignment
    primal: tuple | None = None  # (value, candidates, chosen mask) of its repaired assignment


def price_curve(sol, score, chosen_pairs, demand, cap, c, B: float):
    """``(lambda, bound)``: the least of the bounds ``D(lambda)`` that the certified flow at
    ``lambda = 0`` gives by its dual prices for EVERY ``lambda >= 0`` (None without prices or
    a certificate). ``chosen_pairs`` = (mentees, mentors) of the flow's chosen pairs, ``score``
    their scores.

    Why it holds, for any prices the certificate allows. The certificate says that on every
    unchosen pair of the source ``s_ij - u_i - p_j <= eps`` (``eps = max_reduced_gain >= 0``),
    and nothing more: prices are fixed only up to such facts (``u + t``, ``p - t`` meet them as
    well as ``u``, ``p``), so the bound may assume no sign. Take ``u'_i = max(0, u_i)`` and, for
    a ``lambda >= 0``, ``p'_j = max(0, p_j - lambda c_j)``: then ``s_ij - lambda c_j - u'_i -
    p'_j <= eps`` on every unchosen pair (raising a price keeps the inequality; ``p'_j`` is at
    least ``p_j - lambda c_j``), and ``w'_ij = max(0, s_ij - lambda c_j - u'_i - p'_j)`` on the
    chosen ones. For any assignment ``x`` (``f_i = sum_j x_ij <= d_i``, ``n_j = sum_i x_ij <=
    cap_j``, ``x <= 1``, at most ``n_max`` pairs)::

        sum (s - lambda c) x  =  sum_i u'_i f_i + sum_j p'_j n_j + sum x (s - lambda c - u' - p')
                             <=  sum_i d_i u'_i + sum_j cap_j p'_j + sum_chosen w' + eps n_max

    where the step needs ``u' >= 0`` and ``p' >= 0`` (a row sum at most ``d_i`` times a price
    is at most ``d_i`` times it only for a price ``>= 0``: with ``u_i < 0`` a mentee left
    unmatched makes the left side larger, and the shifted prices above gave bounds far below
    the optimum; ``tests/test_solvers_lagrange_bounds.py``). With the budget row's
    ``lambda B >= lambda sum_j c_j n_j`` (module docstring), every feasible assignment scores at
    most ``D(lambda) = lambda B + sum_i d_i u'_i + sum_j cap_j p'_j + sum_chosen w'_ij + eps
    n_max``. Mentors with no place (``cap_j = 0``) take no pair: their price is read as 0. ``D``
    is convex in ``lambda`` (a sum of maxima of affine terms): a ternary search finds its least
    value."""
    cert = sol.certificate or {}
    if sol.prices is None or not cert.get("holds") or sol.bound is None:
        return None
    u, p = (np.asarray(x, float) for x in sol.prices)
    u = np.maximum(u, 0.0)  # u' (docstring): weak duality needs it, any certificate allows it
    d = np.asarray(demand, float) if demand is not None else np.ones(len(u))
    use_p = cap > 0  # a mentor with no place takes no pair, whatever its price
    p = np.where(use_p, p, 0.0)
    if not (np.isfinite(u[d > 0]).all() and np.isfinite(p).all()):
        return None
    base = float(d[d > 0] @ u[d > 0])
    # eps times the most pairs any assignment of the source holds (the certificate's n_max
    # counts the pairs of its own network, which may be fewer)
    most = min(float(d[d > 0].sum()), float(cap[use_p].sum()))
    tail = max(0.0, float(cert.get("max_reduced_gain", 0.0))) * most
    (ch_i, ch_j), ch_s = chosen_pairs, score  # the chosen pairs: (mentee, mentor), score

    def D(lam: float) -> float:
        pp = np.maximum(0.0, p - lam * c)
        w = np.maximum(0.0, ch_s - lam * c[ch_j] - u[ch_i] - pp[ch_j])
        return lam * B + base + float(cap @ pp) + float(w.sum()) + tail

    hi = float(np.max(np.where(c > 0, p / np.where(c > 0, c, 1.0), 0.0), initial=0.0))
    if len(ch_s):
        hi = max(hi, float(np.max(np.where(c[ch_j] > 0, ch_s / np.where(c[ch_j] > 0, c[ch_j], 1.0),
                                           0.0))))
    lo = 0.0
    for _ in range(100):  # convex: ternary search
        a, b = lo + (hi - lo) / 3.0, hi - (hi - lo) / 3.0
        if D(a) <= D(b):
            hi = b
        else:
            lo = a
    lam = 0.5 * (lo + hi)
    best = min((D(0.0), 0.0), (D(lam), lam))
    return best[1], best[0]


def _plan(source, cap, demand, side: SideConstraints, best, m: int) -> np.ndarray | None:
    """The most places the budget buys, as capacities
    (:func:`~mentormatch.solvers.fair_bounds.knapsack_plan`, from one pass of each mentee's and
    mentor's eligible pairs), ties to the best primal's mentors; None when it buys no place."""
    from .fair_bounds import knapsack_plan, source_figures

    prefer = None if best is None else np.bincount(best[2].j[best[3]], minlength=m)
    loads = knapsack_plan(source_figures(source), cap, demand, side, prefer=prefer)
    return None if loads is None or not loads.any() else loads


def solve_lagrange(source, capacity, demand, side: SideConstraints, options: SolverOptions,
                   deadline: float, run_factory) -> LagrangeResult | None:
    """Best bound and best feasible assignment by the Lagrangian of the budget row (see the
    module docstring). ``run_factory(mentee, mentor, score)`` gives the engine's ``(Run,
    Candidates)`` on those pairs, for the repair heuristic. None when no repaired assignment
    was found (the engine then keeps its column generation); the bound None when the time limit
    left no flow certified."""
    from .heuristics import repair

    say = log.info if options.progress else log.debug
    m = source.n_mentors
    cap = np.asarray(capacity, float)
    fixed = np.zeros(m) if side.stipend_fixed is None else np.asarray(side.stipend_fixed, float)
    per = np.zeros(m) if side.stipend_per_mentee is None else np.asarray(side.stipend_per_mentee, float)
    c = per + np.where(cap > 0, fixed / np.maximum(cap, 1.0), 0.0)
    B = budget_rounded(float(side.budget), per, fixed)
    min_load = (np.zeros(m) if side.min_load is None
                else np.ceil(np.asarray(side.min_load, float) - 1e-9))
    inner = InnerFlow(source, cap, demand, options, deadline)
    flows: list[_Flow] = []
    best_U, best_lam = math.inf, None
    # the least lambda B + (a certified flow's optimum on the shifted scores): the search's
    # decisions read it, not best_U, whose certified bounds and price curve differ by source
    # (a sparse set's rounding tail, a flow's prices): the same flows on every source
    best_dual = math.inf
    best = None  # (value, flow index, chosen mask)
    held: list[_Flow] = []  # flows whose pairs are kept for their re-solves
    curve_found = []  # (lambda, bound) from the first flow's prices
    clock = FlowClock(deadline, MAX_FLOWS)

    def time_for_another() -> bool:
        return clock.another(len(flows), flows[-1].seconds if flows else 0.0)

    def flow_at(lam: float, caps: np.ndarray | None = None, origin: str = "lagrangian") -> _Flow:
        """The flow at ``lam``; with ``caps`` (capacities at most the model's) a primal-only
        flow: its bound is no bound on the model."""
        nonlocal best_U, best_lam, best_dual
        t = time.perf_counter()
        problem, sol = inner.solve(-lam * c, cap if caps is None else caps)
        P = problem.pairs
        plain = problem.score + lam * c[P.mentor]
        on = np.zeros(len(P), bool)
        on[sol.chosen] = True
        ok = sol.status == "optimal" and sol.bound is not None
        clock.timed_out |= bool((sol.certificate or {}).get("timed_out"))
        f = _Flow(lam, P.mentee, P.mentor, plain, on, float(sol.bound) if ok else None,
                  time.perf_counter() - t, caps, origin)
        flows.append(f)
        if caps is None and sol.bound is not None:  # certified, or a stopped flow's (rounds.stopped_bound)
            U = lam * B + float(sol.bound)
            if U < best_U:
                best_U, best_lam = U, lam
        if caps is None and ok:
            best_dual = min(best_dual, lam * B + math.fsum(problem.score[sol.chosen].tolist()))
            if lam == 0.0:  # one flow's prices bound every lambda at once
                curve = price_curve(sol, problem.score[sol.chosen],
                                    (P.mentee[sol.chosen], P.mentor[sol.chosen]), demand, cap, c, B)
                if curve is not None and curve[1] < best_U:
                    best_U, best_lam = curve[1], curve[0]
                    curve_found.append(curve)
        f.relaxed = float(c[f.j[f.chosen]].sum())
        _primal(len(flows) - 1)
        for g in flows[:-1]:  # the best primal's, a held and the last flow keep pairs (memory)
            if (best is None or g is not flows[best[1]]) and not any(g is h for h in held):
                g.i = g.j = g.s = g.chosen = g.primal = None
        say("lagrange: lambda %.6g, %d pairs, relaxed cost %.6g of %.6g, U %.6g, best %.6g, %.2fs",
            lam, int(on.sum()), relaxed_cost(f), B, best_U,
            -math.inf if best is None else best[0], f.seconds)
        return f

    def relaxed_cost(f: _Flow) -> float:
        return f.relaxed

    pool: list = []  # the chosen pairs of every flow so far: (mentee, mentor, score)

    def _primal(k: int):
        """Flow ``k``'s assignment repaired and filled, on the chosen pairs of every flow so
        far: the same pairs whatever the source (the flows' chosen pairs are: the tie rule)."""
        nonlocal best
        f = flows[k]
        got = (f.i[f.chosen], f.j[f.chosen], f.s[f.chosen])
        if pool:  # an earlier flow's score first (the same pair, the same order on any source)
            got = tuple(np.concatenate([a, b]) for a, b in zip(pool[0], got))
        _, first = np.unique(got[0] * m + got[1], return_index=True)
        pool[:] = [tuple(x[first] for x in got)]
        run, cand = run_factory(*pool[0])
        on = np.isin(cand.key, f.i[f.chosen] * m + f.j[f.chosen])
        fixed_on = repair(run, cand, on)
        if fixed_on is None:
            return
        fixed_on = fill(cand, fixed_on, cap, demand, per, fixed, B, run)
        value = float(cand.s[fixed_on].sum())
        f.primal = (value, cand, fixed_on)
        if best is None or value > best[0] + 1e-12:
            best = (value, k, cand, fixed_on)

    f0 = flow_at(0.0)
    lo, hi = 0.0, None  # relaxed cost above B at lo, at most B at hi
    g_lo = B - relaxed_cost(f0)
    if g_lo < 0:
        # the knapsack estimate: drop the unconstrained flow's pairs worth least per unit of
        # cost until the relaxed cost fits; the last ratio dropped prices the budget
        on = f0.chosen & (c[f0.j] > 0)
        r = f0.s[on] / c[f0.j[on]]
        order = np.argsort(r, kind="stable")
        ratio, spend = r[order], np.cumsum(c[f0.j[on]][order])
        k = int(np.searchsorted(spend, -g_lo - 1e-9))
        lam = float(ratio[min(k, len(ratio) - 1)]) if len(ratio) else 0.0
        g_hi, history, step = None, [best_dual], STEP
        while lam > 0 and time_for_another():
            f = flow_at(lam)
            history.append(best_dual)
            g = B - relaxed_cost(f)
            if g >= 0:
                hi, g_hi = lam, g
            else:
                lo, g_lo = lam, g
            if best is not None and proven(best_dual, best[0]):
                break
            # the estimate is close (0.14 % above the best lambda at 20,000 x 5,000): until the
            # bracket has a flow on each side, step away from it by STEP, doubling the step
            if hi is None:
                lam, step = lam * (1.0 + step), 2.0 * step
                continue
            if lo == 0.0:
                lam, step = hi * (1.0 - min(step, 0.5)), 2.0 * step
                continue
            width = (hi - lo) / max(hi, 1e-300)
            if width <= LAMBDA_TOL or g_hi == 0:
                break
            if (width <= STALL_WIDTH and len(history) >= STALL_FLOWS
                    and history[-STALL_FLOWS] - best_dual <= STALL * abs(best_dual)):
                break  # the bound has settled and the primal's flows are near the best lambda
            # secant on the subgradient, kept inside the bracket's middle 80 %
            t = g_lo / (g_lo - g_hi) if g_hi != g_lo else 0.5
            lam = lo + min(max(t, 0.1), 0.9) * (hi - lo)

    def close(k: int):
        """Flow ``k``'s primal again with the mentors its repair dropped closed, while that
        improves it (at most CLOSING_ROUNDS re-solves)."""
        for _ in range(CLOSING_ROUNDS):
            f = flows[k]
            if f.primal is None:
                return
            value, cand, on = f.primal
            n_j = np.bincount(f.j[f.chosen], minlength=m)
            kept = np.bincount(cand.j[on], minlength=m)
            closed = (n_j > 0) & (kept == 0) | (n_j > 0) & (n_j < min_load)
            if not closed.any() or not time_for_another():
                return
            g = flow_at(f.lam, np.where(closed, 0.0, cap if f.caps is None else f.caps), f.origin)
            if g.primal is None or g.primal[0] <= value + 1e-12:
                return
            k = len(flows) - 1

    # the knapsack plan's primal: the plain flow with each mentor's capacity at the plan's load,
    # then its own re-solves (its figures' pass, under a flow's time, and the flow: time for two
    # flows); before the Lagrangian's re-solves, which follow from its own best flow (held), so
    # the plan never makes the answer worse when both have the time (at 100,000 x 20,000 the
    # Lagrangian's re-solves ended at the time limit)
    lagrangian_best = None if best is None else best[1]
    if (g_lo < 0 and not (best is not None and proven(best_dual, best[0]))
            and clock.another(len(flows), flows[-1].seconds, margin=2.4)
            and (plan := _plan(source, cap, demand, side, best, m)) is not None):
        if lagrangian_best is not None:
            held.append(flows[lagrangian_best])
        flow_at(0.0, plan, "knapsack plan")
        close(len(flows) - 1)
    if lagrangian_best is not None:
        close(lagrangian_best)
    if best is None:
        return None
    value, k, cand, on = best
    bound = None if best_U == math.inf else max(best_U, value)  # (none certified in the time)
    cert = {"method": "lagrangian budget + certified flow", "lambda": best_lam,
            "lambda_primal": flows[k].lam, "primal": flows[k].origin, "flows": len(flows),
            "budget_rounded": B,
            "timed_out": clock.timed_out, "lagrangian_bound": best_U,
            "price_curve": curve_found[0] if curve_found else None,
            "flow_seconds": [round(f.seconds, 3) for f in flows]}
    i, j, s, chosen = _reported(cand, on, flows[k], m)
    return LagrangeResult(i, j, s, chosen, value, bound, cert)


def _reported(cand, on: np.ndarray, f: _Flow, m: int):
    """The answer's pairs: the candidates (the chosen pairs of the flows, ``on`` the
    assignment) and the final sparse pairs of the flow it came from (each mentee's best pairs
    and those its certificate added), so that every mentee's pairs reach the result's reasons
    and explanations as on the other routes (without them, each mentee left out had its row
    scored anew: 2.3 against 0.7 GiB at 20,000 x 5,000). Sorted by key; ``on`` carried over."""
    if f.i is None:  # (its pairs were released: the candidates alone)
        return cand.i, cand.j, cand.s, on
    i = np.concatenate([cand.i, f.i])
    j = np.concatenate([cand.j, f.j])
    s = np.concatenate([cand.s, f.s])
    mark = np.concatenate([on, np.zeros(len(f.i), bool)])
    _, first = np.unique(i * m + j, return_index=True)  # a candidate's own entry first
    return i[first], j[first], s[first], mark[first]
