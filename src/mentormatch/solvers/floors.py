"""A Lagrangian bound and primal for share floors by group at any size: the inner problem is the
certified min-cost flow with a bonus per mentee of each group, so demand and capacity stay exact
and the bound holds over EVERY pair of the source.

Why it is valid
---------------
A share floor asks each group ``g`` to have at least ``need_g = ceil(beta |g|)`` of its mentees
matched. With one mentor per mentee, mentee ``i`` is matched exactly when ``sum_j x_ij = 1``.
Dualising the floors with ``mu_g >= 0``, for every assignment that meets them::

    score(x) <= score(x) + sum_g mu_g (matched_g(x) - need_g)
             <= U(mu) = max { sum_ij (s_ij + mu_g(i)) x_ij : x a capacity flow } - sum_g mu_g need_g

The max is the plain certified flow with a bonus ``mu_g`` on each pair of a mentee of group
``g`` (a per-mentee :class:`~mentormatch.solvers.base.PairBonus` folded into the source's
scorer); its certified ``bound`` (over every pair) is used, so ``U(mu)`` is valid for every
``mu >= 0``, and the least one seen is kept.

The primal: the flow at ``mu`` is itself an assignment; it meets the floors once the groups that
fall short weigh enough. The search raises the multipliers of the groups short of their floor
(doubling from a step of the scores' scale) until a flow meets every floor, then bisects each
group's multiplier between the last value where it fell short and the last one where every
floor held, keeping the best assignment that meets them and the least bound.

Handled: share floors alone (:func:`handles`): one mentor per mentee, unit loads, whole
capacities, no locks, no ``coverage_first`` and no objective bonus; other models stay on the
engine's column generation.
"""
from __future__ import annotations

import logging
import math
import time

import numpy as np

from .base import PairBonus, SideConstraints, SolverOptions
from .inner import FlowClock, InnerFlow, LagrangeResult, one_each, plain_inner

log = logging.getLogger(__name__)

__all__ = ["handles", "solve_floors"]

#: At most this many inner flows.
MAX_FLOWS = 16
#: Bisection rounds once a flow meets every floor.
BISECTIONS = 6


def handles(side: SideConstraints, capacity, demand, load, coverage_first: bool, bonus,
            locked) -> bool:
    """True when the only side rows are share floors and the inner problem is a plain flow with
    one mentor per mentee."""
    if set(side.active()) != {"share_floor"} or side.group is None:
        return False
    if not np.any(np.asarray(side.group) >= 0):  # no group: nothing for the multipliers
        return False
    return plain_inner(capacity, load, coverage_first, bonus, locked) and one_each(demand)


def raise_then_bisect(short_at, n_groups: int, first_step, more, met) -> np.ndarray:
    """The multiplier search of the floors' Lagrangians (this module and
    :mod:`mentormatch.solvers.scorefloors`): from 0, double the multipliers of the groups
    ``short_at(mu)`` finds short of their floor (from ``first_step()``) while ``more()``; once a
    flow met every floor (``met()``), bisect each group's multiplier between the last value where
    it fell short and the last where every floor held. Returns the last multipliers tried where
    every floor held (or the last tried, when none did)."""
    mu = np.zeros(n_groups)
    short = short_at(mu)
    low = np.zeros(n_groups)  # per group: the largest multiplier seen where it fell short
    while short.any() and more():
        low = np.where(short, np.maximum(low, mu), low)
        mu = np.where(short, np.maximum(2.0 * mu, first_step()), mu)
        short = short_at(mu)
    if not met():
        return mu
    hi = mu.copy()  # every floor held here
    for _ in range(BISECTIONS):
        if not more() or np.all(hi - low <= 1e-9 * np.maximum(hi, 1.0)):
            break
        trial = 0.5 * (low + hi)
        short = short_at(trial)
        if not short.any():
            hi = trial
        else:
            low = np.where(short, trial, low)
            hi = np.where(short, hi, trial)
    return hi


def group_positions(group) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the groups present, their sizes, each mentee's position among them or -1) from a group
    code per mentee (-1: none)."""
    group = np.asarray(group, np.int64)
    groups = np.unique(group[group >= 0])
    size = np.bincount(group[group >= 0])[groups].astype(float)
    where = np.full(int(group.max(initial=-1)) + 1, -1, np.int64)
    where[groups] = np.arange(len(groups))
    return groups, size, np.where(group >= 0, where[np.maximum(group, 0)], -1)


def solve_floors(source, capacity, demand, side: SideConstraints, options: SolverOptions,
                 deadline: float) -> LagrangeResult | None:
    """Best bound and best assignment meeting the share floors (see the module docstring); None
    when no flow met the floors in the time. ``deadline`` (``time.perf_counter``): no flow starts
    that the last one's time says would end past it, and none runs past it (a flow cut short
    gives its assignment, no bound); the bound is None when no flow was certified."""
    say = log.info if options.progress else log.debug
    n = source.n_mentees
    groups, size, pos = group_positions(side.group)
    need = np.ceil(float(side.share_floor) * size - 1e-9)
    cap = np.asarray(capacity, float)
    dem = np.ones(n) if demand is None else np.asarray(demand, float)
    inner = InnerFlow(source, cap, demand, options, deadline)  # (none cut past the deadline)
    seconds: list[float] = []
    best_U, best = math.inf, None  # best: (value, i, j, s, chosen)

    clock = FlowClock(deadline, MAX_FLOWS)

    def time_for_another() -> bool:
        return clock.another(len(seconds), seconds[-1] if seconds else 0.0)

    def flow_at(mu: np.ndarray) -> np.ndarray:
        """Solve at ``mu``; returns each group's matched count (and keeps bound and primal)."""
        nonlocal best_U, best
        t = time.perf_counter()
        per = np.where(pos >= 0, mu[np.maximum(pos, 0)], 0.0)
        problem, sol = inner.solve(PairBonus(per_mentee=per), cap)
        P = problem.pairs
        plain = problem.score - per[P.mentee]
        mt = P.mentee[sol.chosen]
        matched = np.bincount(pos[mt][pos[mt] >= 0], minlength=len(groups)).astype(float)
        if sol.status == "optimal" and sol.bound is not None:
            best_U = min(best_U, float(sol.bound) - float(mu @ need))
        clock.timed_out |= bool((sol.certificate or {}).get("timed_out"))
        meets = bool(np.all(matched >= need)) and bool(np.all(np.bincount(mt, minlength=n) <= dem))
        value = float(plain[sol.chosen].sum())
        if meets and (best is None or value > best[0] + 1e-12):
            on = np.zeros(len(P), bool)
            on[sol.chosen] = True
            best = (value, P.mentee, P.mentor, plain, on)
        seconds.append(time.perf_counter() - t)
        say("floors: %d flows, short groups %d, U %.6g, best %.6g, %.2fs", len(seconds),
            int(np.sum(matched < need)), best_U, -math.inf if best is None else best[0],
            seconds[-1])
        return matched

    step = []  # a step on the scores' scale: the smallest score change that counts

    def first_step() -> float:
        if not step:
            step.append(max(1e-3, 1e-2 * float(np.abs(best_U) / max(np.sum(need), 1.0))))
        return step[0]

    mu = raise_then_bisect(lambda x: flow_at(x) < need, len(groups), first_step,
                           time_for_another, lambda: best is not None)
    if best is None:
        return None
    value, i, j, s, on = best
    bound = None if best_U == math.inf else max(best_U, value)  # (no flow certified in the time)
    cert = {"method": "lagrangian share floors + certified flow", "flows": len(seconds),
            "timed_out": clock.timed_out,
            "lagrangian_bound": best_U, "multipliers": {str(g): float(x) for g, x in zip(groups, mu)},
            "flow_seconds": [round(x, 3) for x in seconds]}
    return LagrangeResult(i, j, s, on, value, bound, cert)
