"""Leximin fairness (``"leximin"``): the most pairs, as for max-min
(:mod:`mentormatch.solvers.fair`), then the best sorted vector of scores.

**leximin** maximises the ascending sorted vector of the chosen pairs' scores
lexicographically among the assignments with ``M`` pairs: the worst pair as good as possible,
then the second worst, and so on. Equivalently (same length ``M``), with ``v_1 < v_2 < ...`` the
distinct scores and ``c_r`` the number of chosen pairs of score ``v_r``, it minimises
``(c_1, c_2, ...)`` lexicographically (levels compared after scaling scores to integers as
:mod:`mentormatch.solvers.cpsat` does: exact for scores with at most six decimals).

On plain problems (unit loads, no side constraints) leximin is exact with network flows only,
on the free pairs (locked pairs add the same counts to every assignment):

1. ``M`` by a max-flow, then the max-min level ``t`` by a binary search over the distinct levels
   with a max-flow each; the pairs below ``t`` leave the network, and the last max-flow is the
   current flow ``x`` (``M`` units: source -> mentee -> mentor -> sink).
2. The levels are settled in ascending order. Invariant: every feasible flow of the current
   network has the leximin-optimal counts on the settled levels, and ``x`` is one of them.
   A pair at its bound in every such flow leaves the network (at 0: dropped; at 1: *forced*,
   moved into the node supplies). Let ``r`` be the lowest open level ``x`` uses; the open
   levels below it have minimum 0 (``x`` proves it) and are dropped.
3. Path search: drop the pairs of level ``r`` and re-route each unit ``x`` has on them along a
   residual path mentee -> mentor (breadth-first from both ends). If all go through, the
   minimum at ``r`` is 0. If the level has a single pair and its unit cannot be re-routed, no
   flow avoids it (a flow without it would differ from ``x`` by a circulation containing such
   a path): the minimum is 1 and the pair is forced.
4. Otherwise the units left on the level are usually its least count: Bellman-Ford with cost
   1 on the level proves it (optimal potentials: no negative cycle), or finds a negative cycle,
   which is cancelled (one unit fewer) before trying again (unrecorded runs stop at the first
   unit that cannot go round, and cancel no cycle, on levels of many units). Past ``_CANCEL``
   cycles (or with path searches off) a min-cost flow (OR-Tools) minimises the counts of a
   window of levels from ``r`` at once, lexicographically, with mixed-radix weights (level
   ``k`` weighs
   ``prod_{k' > k} (N_k' + 1)``, ``N`` bounding its count, as many levels as int64 costs
   allow). Optimal potentials (Bellman-Ford on the residual network) give reduced costs; by
   complementary slackness every optimal flow has the pairs of reduced cost ``> 0`` at 0 and
   those ``< 0`` at 1, and every flow respecting that is optimal, so fixing them keeps the
   invariant with the window settled.

5. When no open level is used, the network's flows are exactly the leximin-optimal assignments
   (each step keeps every optimal one and only those). The tie rule
   (:func:`mentormatch.solvers.ties.canonical`, keys over the ids' seeded ranks) picks one of
   them, a choice that depends on that set only, so the pair sources pick the same pairs.

With ``record=True`` the steps are kept as a lexicographic dual certificate
(:mod:`mentormatch.solvers.leximin_steps`), against which pairs the run did not hold are
judged: that is how :mod:`mentormatch.solvers.leximin_source` proves leximin over every pair of
the scale path's sources without holding them.

Typical cost (one core; uniform scores, capacity ``5 = n / m``, complete eligibility): 1,000
mentees x 200 mentors in about 1 s with six-decimal scores (every level distinct: mostly path
searches), 0.2-0.3 s with two decimals; 2,000 x 400 with six decimals in about 3 s (CPU).

**coverage_first** with a mentee needing several mentors: the most matched mentees first,
then the most pairs, then the leximin order (then the total, which these fix). The source is
split in two nodes: ``F``, supply ``C`` (the most mentees, a max-flow with each mentee's supply
cut to 1), with an arc of capacity 1 to each mentee no lock matched, and ``R``, supply ``M - C``,
with arcs for each mentee's other places. A flow of this network is an assignment matching
``C`` mentees with ``M`` pairs, and every such assignment is one (a mentee with an ``R`` unit
and no ``F`` unit would make ``C + 1``). ``M`` stays the most pairs: augmenting paths from a
flow matching ``C`` mentees never empty a source arc, so some assignment has both maxima. The
max-min level is searched with the max-flows of this network
(:func:`~mentormatch.solvers.leximin_graph.cover_max_flow`); the steps below then run on it
unchanged (a reroute may pass through ``F`` or ``R``: another mentee takes the first unit), and
the tie rule's network counts mentees (:class:`~mentormatch.solvers.leximin_steps._Final`).

With fractional loads or side constraints leximin runs on CP-SAT, one minimisation per used
level (:mod:`mentormatch.solvers.leximin_cp`): meant for small instances.

With demands above one, the vectors run over pairs, not mentees. The status is ``"optimal"``
when every step was proven optimal.
"""
from __future__ import annotations

import time

import numpy as np
from ortools.graph.python import min_cost_flow

from . import register
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .cpsat import score_scale
from .diagnose import bipartite_max_flow
from .fair import _left_by_locks, _plain
from .leximin_cp import _cp_leximin
from .leximin_graph import _Residual, cover_max_flow
from .leximin_steps import LexRun, LexSteps, _Final

_INT64_SAFE = 2 ** 62
#: Largest product of level radices in one min-cost flow window (tests lower it).
_WINDOW_LIMIT = 2 ** 62
#: Try path searches before a min-cost flow to settle a level (tests switch it off).
_REROUTE = True
#: Levels per min-cost flow when the steps are recorded: their radix is then the most pairs, so
#: wide windows have huge costs, which OR-Tools' cost scaling pays for (a 3,000 x 1,500 round's
#: 25,686 pairs: 6.1 s CPU with one level a flow, 14.2 s with the widest windows).
_RECORD_WINDOW = 1
#: Negative cycles cancelled on one level before a min-cost flow settles it (tests set 0).
_CANCEL = 16
#: Unrecorded runs try every unit of a level and cancel cycles only up to this many units (a
#: level of many more, as with heavy ties, is settled faster with others in one window).
_FEW_UNITS = 8

__all__ = ["solve_leximin"]


def _flow_leximin(problem: AssignmentProblem, started: float, time_limit: float | None = None,
                  scale: int | None = None, record: bool = False):
    """Leximin on plain problems by a sequence of network flows (see the module docstring).
    With a ``time_limit``, the levels are settled until it passes; the flow then held is a
    feasible assignment with the most pairs whose counts on the settled levels are optimal.

    ``scale``: the levels' integer scale (default :func:`score_scale` of the scores).
    ``record``: also return a :class:`LexRun`, the steps as a certificate that pairs outside
    the problem can be judged against (:mod:`.leximin_steps`); the windows' radices then bound
    a level's count by the most pairs, not by the pairs held, so that they hold for any pairs."""
    P = problem.pairs
    n, m = problem.n_mentees, problem.n_mentors
    locked, cap, supply = _left_by_locks(problem)
    cap, supply = np.maximum(cap, 0), np.maximum(supply, 0)
    scale = score_scale(problem.score) if scale is None else int(scale)
    sc = np.round(problem.score * scale).astype(np.int64)
    free = np.flatnonzero(~locked)
    fi, fj, lv = P.mentee[free], P.mentor[free], sc[free]

    # coverage_first with a mentee needing several mentors: the network counts mentees (module
    # docstring); with demands of one a pair is a mentee and the plain network does it
    counting = bool(problem.coverage_first) and bool(np.any(np.asarray(problem.demand) > 1))
    # 1. the most pairs (under coverage_first: the most mentees, then the most pairs), and the
    # best worst level t (binary search with max-flows)
    total, flow = bipartite_max_flow(fi, fj, supply, cap)
    max_flows = 1
    if counting:
        lock_cov = np.bincount(P.mentee[locked], minlength=n) > 0  # a lock matched them
        first = ((supply > 0) & ~lock_cov).astype(np.int64)
        covered, _ = bipartite_max_flow(fi, fj, first, cap)

        def fits(k):
            """(whether the pairs ``k`` hold ``covered`` mentees and ``total`` pairs, the flow)"""
            val, fl, xf, xr = cover_max_flow(fi[k], fj[k], first, supply - first, cap, covered,
                                             total - covered)
            return val == total, (fl, xf, xr)
    else:
        def fits(k):
            val, fl = bipartite_max_flow(fi[k], fj[k], supply, cap)
            return val == total, (fl,)
    keep = np.ones(len(free), dtype=bool)
    ok, held = fits(keep) if counting else (True, (flow,))
    max_flows += int(counting)
    assert ok, "the most mentees and the most pairs in one flow (augmenting paths keep mentees)"
    if total > 0:
        values = np.unique(lv)
        lo, hi = 0, len(values) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            k = lv >= values[mid]
            ok, fl = fits(k)
            max_flows += 1
            if ok:
                lo, keep, held = mid, k, fl
            else:
                hi = mid - 1
    flow = held[0]
    pos = free[keep]  # the pairs of level >= t, as arcs of the network below
    t_low = int(lv[keep].min()) if keep.any() else 0  # the max-min level, proven

    # 2. the network: source -> mentee (demand) -> mentor (1 per pair) -> sink (capacity),
    # exactly `total` units. Arcs found at their bound in every optimal flow of a step leave it:
    # at 0 they are dropped, at capacity they move into the node supplies (pairs: chosen).
    # Under coverage_first (counting) the source is two nodes: F (supply: the most mentees)
    # with an arc of capacity 1 to each mentee no lock matched, and R (the other pairs) with
    # arcs for each mentee's other places, after the mentors' arcs (the pair arcs stay at n..)
    src, snk = n + m, n + m + 1
    n_nodes = n + m + 2 + int(counting)
    npair = len(pos)
    tail = np.concatenate([np.full(n, src), P.mentee[pos], n + np.arange(m)]).astype(np.int64)
    head = np.concatenate([np.arange(n), n + P.mentor[pos], np.full(m, snk)]).astype(np.int64)
    ucap = np.concatenate([first if counting else supply, np.ones(npair, np.int64), cap])
    level = np.concatenate([np.full(n, -1), sc[pos], np.full(m, -1)]).astype(np.int64)
    x = np.concatenate([held[1] if counting else np.bincount(P.mentee[pos], weights=flow, minlength=n),
                        flow, np.bincount(P.mentor[pos], weights=flow, minlength=m)]).astype(np.int64)
    if counting:
        tail = np.concatenate([tail, np.full(n, n + m + 2)])
        head = np.concatenate([head, np.arange(n)])
        ucap = np.concatenate([ucap, supply - first])
        level = np.concatenate([level, np.full(n, -1)])
        x = np.concatenate([x, held[2]])
    is_pair = np.zeros(len(tail), bool)
    is_pair[n:n + npair] = True
    alive = ucap > 0
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[src], supplies[snk] = (covered, -total) if counting else (total, -total)
    if counting:
        supplies[n + m + 2] = total - covered
    forced = np.zeros(len(tail), bool)  # arcs fixed at their capacity (pairs: chosen)
    residual = _Residual(tail, head, n_nodes)
    steps = LexSteps(n, m, t_low) if record else None
    limit = min(_WINDOW_LIMIT, int(_INT64_SAFE) // (4 * (n_nodes + 1)))
    done = -np.inf  # the counts of the levels <= done are settled (leximin-optimal)
    solves = reroutes = level_checks = cancelled = 0

    def fix_by(arcs, cost, d):
        """Complementary slackness with optimal potentials ``d`` of the flow ``x`` for
        ``cost``: arcs of reduced cost > 0 leave the network, those of reduced cost < 0 are
        fixed at their capacity (into the node supplies)."""
        rc = cost[arcs] + d[tail[arcs]] - d[head[arcs]]
        drop, fix = arcs[rc > 0], arcs[rc < 0]
        assert not np.any(x[drop]) and np.all(x[fix] == ucap[fix])
        alive[drop] = False
        alive[fix] = False
        forced[fix] = True
        np.subtract.at(supplies, tail[fix], ucap[fix])
        np.add.at(supplies, head[fix], ucap[fix])
    # the pair arcs by level, ascending: the levels are walked in this order, once
    by_level = n + np.argsort(level[n:n + npair], kind="stable")
    lv_by = level[by_level]
    starts = (np.flatnonzero(np.concatenate([[True], lv_by[1:] != lv_by[:-1], [True]]))
              if npair else np.zeros(1, np.int64))
    g = 0  # the first group of by_level whose level is open
    stopped = False
    while True:
        if time_limit is not None and time.perf_counter() - started > time_limit:
            stopped = True  # x is a feasible flow of `total` units: the answer so far
            break
        # the lowest open level the flow uses; the open levels below it it does not use:
        # their minima are 0 (and when it uses none, all of them)
        while g < len(starts) - 1:
            at = by_level[starts[g]:starts[g + 1]]
            at = at[alive[at]]
            if level[by_level[starts[g]]] > done:
                if np.any(x[at] > 0):
                    break
                alive[at] = False
            g += 1
        if g == len(starts) - 1:
            break
        r = level[at[0]]
        if steps is not None:
            steps.zero(int(r) - 1)
        if _REROUTE:
            # can the flow avoid level r? Each of its units on a pair of this level must go
            # round it: a path mentee -> mentor in the residual network without the level's
            # pairs. If all do, the level's minimum is 0; if its only pair cannot be avoided,
            # the minimum is 1 and that pair is in every optimal flow. Otherwise (a pair that
            # cannot be avoided among several) the units left are settled below. When the
            # steps are recorded (one level a window) or the level has few units, every unit
            # is tried, and the level then rarely needs more than potentials; otherwise the
            # first that cannot go round hands the level to a window of many levels.
            units = at[x[at] > 0]
            patient = record or len(units) <= _FEW_UNITS
            alive[at] = False
            avoided = True
            for a in units:
                path = residual.path(x, ucap, alive, int(tail[a]), int(head[a]))
                reroutes += 1
                if path is None:
                    avoided = False
                    if patient:  # the others may still go round: fewer units for below
                        continue
                    break
                x[a] = 0
                x[path[0]] += 1
                x[path[1]] -= 1
            if avoided or len(at) == 1:
                if not avoided:
                    a = int(at[0])
                    forced[a] = True
                    supplies[tail[a]] -= 1
                    supplies[head[a]] += 1
                    if steps is not None:
                        steps.forced(int(r), residual.reached)
                elif steps is not None:
                    steps.zero(int(r))
                done = r
                continue
            alive[at] = True  # the flow, partly rerouted, is still feasible
            # often the flow is now at the level's least count, or a few negative cycles from
            # it: Bellman-Ford on its residual network with cost 1 on the level either proves
            # it (no simple path costs less than minus the level's units: a distance below
            # that is a negative cycle) or finds such a cycle, which is cancelled (one unit
            # fewer on the level); past _CANCEL cycles the min-cost flow below settles it
            cost = np.zeros(len(tail), dtype=np.int64)
            cost[at] = 1
            for k in range(_CANCEL + 1 if patient else 1):
                d, cycle = residual.potentials(x, ucap, alive, cost, floor=-int(x[at].sum()),
                                               costly=at)
                if (d is not None or k == _CANCEL or not patient
                        or cost[cycle[0]].sum() >= cost[cycle[1]].sum()):
                    break  # (a cycle that is not negative cannot be: the flow would settle it)
                x[cycle[0]] += 1
                x[cycle[1]] -= 1
                cancelled += 1
            if d is not None:
                if not x[at].any():  # every unit went round the level: its minimum is 0
                    alive[at] = False
                    if steps is not None:
                        steps.zero(int(r))
                else:  # reduced costs differ from 0 only at the level and where d does
                    near = np.concatenate([at, residual.arcs_at(np.flatnonzero(d))])
                    fix_by(np.unique(near[alive[near]]), cost, d)
                    level_checks += 1
                    if steps is not None:
                        steps.window(int(r), int(r), np.array([r]), np.array([1]), d)
                done = r
                continue
        # a window of the next levels, minimised lexicographically in one min-cost flow with
        # mixed-radix weights: level k weighs prod_{k' > k} (N_k' + 1), N = its most pairs
        open_ = alive & is_pair & (level > done)
        lvls, counts = np.unique(level[open_], return_counts=True)
        radix = [int(c) + 1 for c in (np.full(len(counts), total) if record else np.minimum(counts, total))]
        width, prod = 0, 1
        while (width < len(lvls) and (width == 0 or prod * radix[width] <= limit)
               and not (record and width >= _RECORD_WINDOW)):
            prod *= radix[width]
            width += 1
        weights, w = [], 1
        for k in range(width - 1, -1, -1):
            weights.append(w)
            w *= radix[k]
        weights = np.array(weights[::-1], dtype=np.int64)
        cost = np.zeros(len(tail), dtype=np.int64)
        win = open_ & (level <= lvls[width - 1])
        cost[win] = weights[np.searchsorted(lvls[:width], level[win])]
        arcs = np.flatnonzero(alive)
        mcf = min_cost_flow.SimpleMinCostFlow()
        mcf.add_arcs_with_capacity_and_unit_cost(tail[arcs].astype(np.int32),
                                                 head[arcs].astype(np.int32), ucap[arcs],
                                                 cost[arcs])
        mcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
        status = mcf.solve()
        solves += 1
        if status != mcf.OPTIMAL:  # pragma: no cover - the current flow is feasible
            raise RuntimeError(f"min-cost flow failed with status {status}")
        x = np.zeros(len(tail), dtype=np.int64)
        x[arcs] = mcf.flows(np.arange(len(arcs), dtype=np.int32))
        # optimal potentials from the residual network; by complementary slackness every
        # optimal flow has x = 0 where the reduced cost is > 0 and x = capacity where < 0
        d = residual.potentials(x, ucap, alive, cost)[0]
        fix_by(arcs, cost, d)
        if steps is not None:
            steps.window(int(r), int(lvls[width - 1]), lvls[:width], weights, d)
        done = lvls[width - 1]

    # the final network: its flows are exactly the leximin-optimal assignments (each step keeps
    # every optimal one and only those); the tie rule picks one by the pairs' keys
    final = _Final(n, m, P.mentee[pos], P.mentor[pos], alive, forced, x, ucap, is_pair, npair,
                   lock_cov if counting else None)
    on = np.zeros(npair, bool)
    if not stopped:
        chosen_net, _, ties = final.pick(np.zeros(0, np.int64), np.zeros(0, np.int64))
        on[chosen_net] = True
    else:
        on = (forced | (alive & (x > 0)))[n:n + npair]
        ties = None
    chosen = np.concatenate([np.flatnonzero(locked), pos[np.flatnonzero(on)]])
    used, cnt = np.unique(sc[chosen], return_counts=True)
    levels = {float(v) / scale: int(c) for v, c in zip(used, cnt)}
    cert = {"method": "max-flows, residual path searches and min-cost flows with "
                      "complementary-slackness fixing (OR-Tools)",
            "levels": levels, "solves": solves, "max_flows": max_flows, "path_searches": reroutes,
            "levels_proven_by_potentials": level_checks, "cycles_cancelled": cancelled,
            "matched": int(len(chosen)), "scale": scale, "ties": ties,
            "timed_out": stopped,  # the time limit is the flows' only stop
            "proven_below": (None if not stopped else
                             float(np.nextafter(done / scale, np.inf)) if np.isfinite(done)
                             else float(t_low) / scale)}
    if stopped:
        sol = finish(problem, chosen, "feasible", started, "leximin", certificate=cert,
                     message=f"stopped at the time limit ({time_limit:g} s): the most pairs and "
                             "the best worst pair are proven, and the counts of the levels "
                             "below proven_below are leximin-optimal")
    else:
        sol = finish(problem, chosen, "optimal", started, "leximin", certificate=cert)
    if not record:
        return sol
    return sol, LexRun(None if stopped else steps, final, int(total), int(t_low), scale, pos)


def solve_leximin(problem: AssignmentProblem, options: SolverOptions | None = None) -> Solution:
    """Solver ``"leximin"``: most pairs, then the lexicographically best sorted score vector.

    See the module docstring for the problem, the method and its cost. Works with every side
    constraint that :mod:`~mentormatch.solvers.cpsat` models.

    Returns
    -------
    Solution
        ``status`` ``"optimal"`` when every step was proven, ``"feasible"`` when the time limit
        stopped it (``options.time_limit``; default 30 s for the whole CP-SAT sequence, none
        for the flows of plain problems); the
        certificate holds ``levels`` (score -> number of chosen pairs, ascending), ``solves``
        (CP-SAT solves, or min-cost flows on plain problems, which also report ``max_flows``
        and ``path_searches``), ``matched`` and ``proven_below`` (when stopped early: the
        counts of the levels below this score are proven optimal).

    Examples
    --------
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(3, 3), np.array(
    ...     [0.9, 0.6, 0.1, 0.8, 0.5, 0.2, 0.7, 0.1, 0.3]), np.ones(3))
    >>> sorted(solve_leximin(p).chosen.tolist())
    [1, 3, 8]
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    if _plain(problem):
        return _flow_leximin(problem, started, options.time_limit)
    return _cp_leximin(problem, options, started)


register("leximin", solve_leximin)
