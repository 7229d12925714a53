"""The flow leximin's steps 2-4 (:mod:`mentormatch.solvers.leximin`, moved here from it in
s20): settling the levels of the network's pairs in ascending order, each by residual path
searches, Bellman-Ford with cost 1 on the level (cancelling negative cycles), or a min-cost flow
over a window of levels with mixed-radix weights, fixing by complementary slackness the arcs
every optimal flow has at a bound. The network and the answer are
:mod:`mentormatch.solvers.leximin_flow`'s; the method is stated in
:mod:`mentormatch.solvers.leximin`'s docstring. The tuning switches below live here (tests set
them)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from .leximin_graph import _Residual
from .leximin_steps import LexSteps

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

@dataclass
class LexNet:
    """The flow leximin's network (:func:`mentormatch.solvers.leximin_flow._flow_leximin`):
    arcs ``tail -> head`` with capacities ``ucap`` and levels (``-1`` off the pairs), the
    current flow ``x``, which arcs are still in it (``alive``) or fixed at capacity
    (``forced``), the node ``supplies``, the pair arcs (``is_pair``: ``n .. n + npair``), and
    the residual graph's searches. :func:`settle` updates it in place."""

    tail: np.ndarray
    head: np.ndarray
    ucap: np.ndarray
    level: np.ndarray
    x: np.ndarray
    alive: np.ndarray
    forced: np.ndarray
    supplies: np.ndarray
    is_pair: np.ndarray
    n_nodes: int
    residual: _Residual


def settle(net: LexNet, n: int, npair: int, total: int, steps: LexSteps | None, record: bool,
           deadline: float | None) -> tuple[bool, float, dict]:
    """Steps 2-4: settle the levels in ascending order until none the flow uses is open, or
    the ``deadline`` (a ``time.perf_counter`` reading; None: none) passes. Returns whether it stopped at the limit, the highest settled level
    (``-inf`` when none) and the counts of the work (``solves``, ``path_searches``,
    ``levels_proven_by_potentials``, ``cycles_cancelled``). ``steps``: the record of the
    certificate (``record``), or None."""
    tail, head, ucap, level, x = net.tail, net.head, net.ucap, net.level, net.x
    alive, forced, supplies, is_pair = net.alive, net.forced, net.supplies, net.is_pair
    n_nodes, residual = net.n_nodes, net.residual
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
        if deadline is not None and time.perf_counter() > deadline:
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
    net.x = x
    return stopped, done, {"solves": solves, "path_searches": reroutes,
                           "levels_proven_by_potentials": level_checks, "cycles_cancelled": cancelled}
