"""Balanced loads at any size, by one certified min-cost flow per common load: a bound over
EVERY pair of the source and feasible assignments, without the linear relaxation's weak rows.

Why it is valid
---------------
Balanced loads ask every active mentor's load to differ from every other's by at most one. So a
feasible assignment that matches anyone has a level ``L >= 1`` (its least active load) with
every active load in ``{L, L + 1}``: mentors with fewer than ``L`` places take no one, and none
takes more than ``L + 1``. Dropping the lower bound ``L`` leaves the plain flow with capacities
``c_L(j) = min(cap_j, L + 1)`` where ``cap_j >= L``, else 0; its certified bound ``B(L)`` (over
every pair) is at least the value of every balanced assignment of level ``L``. Hence::

    optimum <= max over L = 1 .. max cap of B(L)     (and the empty assignment is worth 0)

Levels past the time left are covered by one flow with capacities ``cap_j`` where ``cap_j >=
L`` (it relaxes every higher level at once), so the bound never skips a level. No flow starts
that the last one's time says would end past the caller's deadline, and none runs past it: when
the time limit cuts a level's flow short (its assignment still counts) or leaves no time for the
flow of the levels left, the answer has no bound and says it stopped at the time limit.

The primal: a level's flow is balanced once the mentors it left below ``L`` lose their pairs;
they are taken out and the flow solved again (a few times), each answer checked and the best
kept.

Handled (:func:`handles`): balanced loads alone, one mentor per mentee, unit loads, whole
capacities, no locks, no ``coverage_first`` and no objective bonus; scores at least 0 (a
complete set is checked; ``pair()``'s are). Other models stay on the column generation.
"""
from __future__ import annotations

import logging
import math
import time

import numpy as np

from .base import PairBonus, SideConstraints, SolverOptions
from .inner import FlowClock, InnerFlow, LagrangeResult, one_each, plain_inner

log = logging.getLogger(__name__)

__all__ = ["handles", "solve_balanced"]

#: Flows that take out the mentors left below the level, per level.
REPAIRS = 8


def handles(side: SideConstraints, capacity, demand, load, coverage_first: bool, bonus,
            locked) -> bool:
    """True when the only side row is balanced loads and each level is a plain flow."""
    if set(side.active()) != {"balanced_load"}:
        return False
    return plain_inner(capacity, load, coverage_first, bonus, locked) and one_each(demand)


def solve_balanced(source, capacity, demand, side: SideConstraints, options: SolverOptions,
                   deadline: float) -> LagrangeResult | None:
    """Best bound and best balanced assignment (see the module docstring); None when a level's
    flow failed other than by the time limit or a score is negative; the bound None when the
    time limit left a level without one."""
    say = log.info if options.progress else log.debug
    if hasattr(source, "s") and np.any(np.asarray(source.s) < 0):
        return None  # a bound of 0 for the empty assignment needs scores >= 0
    n, m = source.n_mentees, source.n_mentors
    cap = np.round(np.asarray(capacity, float)).astype(np.int64)
    dem = np.ones(n) if demand is None else np.asarray(demand, float)
    inner = InnerFlow(source, cap.astype(float), demand, options, deadline)  # (none cut past it)
    none = PairBonus(n_mentors=m)
    seconds: list[float] = []
    bounds: dict = {}  # level (or "L+": every level from L) -> certified bound
    best = None  # (value, i, j, s, chosen)

    def flow(c: np.ndarray):
        t = time.perf_counter()
        problem, sol = inner.solve(none, c.astype(float))
        seconds.append(time.perf_counter() - t)
        clock.timed_out |= bool((sol.certificate or {}).get("timed_out"))
        return problem, sol

    def certified(sol) -> bool:
        """A flow with its bound; None (give up) for one that failed for another reason than
        the time limit, False for one the time limit cut short (its assignment stands)."""
        if sol.status == "optimal" and sol.bound is not None:
            return True
        return False if (sol.certificate or {}).get("timed_out") else None

    def keep(problem, sol, level: int) -> bool:
        """Record the flow's answer if it is balanced at ``level``; True when it is."""
        nonlocal best
        P = problem.pairs
        mt, mr = P.mentee[sol.chosen], P.mentor[sol.chosen]
        load = np.bincount(mr, minlength=m)
        on_load = load[load > 0]
        if len(on_load) and (on_load.min() < level or on_load.max() > level + 1):
            return False
        if np.any(np.bincount(mt, minlength=n) > dem) or np.any(problem.score[sol.chosen] < 0):
            return False
        value = float(problem.score[sol.chosen].sum())
        if best is None or value > best[0] + 1e-12:
            on = np.zeros(len(P), bool)
            on[sol.chosen] = True
            best = (value, P.mentee, P.mentor, problem.score, on)
        return True

    top = int(cap.max(initial=0))
    clock = FlowClock(deadline, 10 ** 9)  # the levels and REPAIRS bound the flows
    level, covered = 1, True  # covered: every level so far has its bound
    while level <= top:
        room = np.where(cap >= level, np.minimum(cap, level + 1), 0)
        last = seconds[-1] if seconds else 0.0
        if level > 1 and not clock.another(0, last, 2.5):
            break
        problem, sol = flow(room)
        ok = certified(sol)
        if ok is None:
            return None
        if ok:
            bounds[level] = float(sol.bound)
        for _ in range(REPAIRS):
            if keep(problem, sol, level) or not ok or not clock.another(0, seconds[-1], 1.5):
                break
            load = np.bincount(problem.pairs.mentor[sol.chosen], minlength=m)
            room = np.where((load > 0) & (load < level), 0, room)  # those below the level go
            problem, sol = flow(room)
        say("balanced: level %d, bound %s, best %.6g, %d flows", level, bounds.get(level),
            -math.inf if best is None else best[0], len(seconds))
        if not ok:  # the time limit cut the level's flow: no bound for it, no level after it
            covered = False
            break
        level += 1
    if covered and level <= top:  # the levels left, relaxed at once (see the module docstring)
        covered = False  # unless that flow fits in the time left and is certified
        if clock.another(0, seconds[-1] if seconds else 0.0):
            problem, sol = flow(np.where(cap >= level, cap, 0))
            ok = certified(sol)
            if ok is None:
                return None
            if ok:
                bounds[f"{level}+"] = float(sol.bound)
                covered = True
    if best is None:
        return None
    value, i, j, s, on = best
    bound = max([0.0, *bounds.values()]) if covered else None  # (a level without a bound)
    cert = {"method": "balanced loads by a certified flow per level", "flows": len(seconds),
            "timed_out": clock.timed_out,
            "level_bounds": {str(k): v for k, v in bounds.items()},
            "flow_seconds": [round(x, 3) for x in seconds]}
    return LagrangeResult(i, j, s, on, value, None if bound is None else max(bound, value), cert)
