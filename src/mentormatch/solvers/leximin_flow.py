"""The flow leximin on a plain held problem (:mod:`mentormatch.solvers.leximin`, moved here from
it in s20): step 1 (the most pairs, under coverage_first the most mentees first, and the
max-min level by max-flows), the network, the levels settled by
:func:`mentormatch.solvers.leximin_levels.settle` (steps 2-4), then step 5 (the tie rule on the
final network) and the answer with its certificate. The method is stated in
:mod:`mentormatch.solvers.leximin`'s docstring."""
from __future__ import annotations

import numpy as np

from .base import AssignmentProblem, finish
from .diagnose import bipartite_max_flow
from .fair import _left_by_locks
from .leximin_graph import _Residual, cover_max_flow
from .leximin_keys import key_labels, level_keys, levels_scale
from .leximin_levels import LexNet, settle
from .leximin_steps import LexRun, LexSteps, _Final

__all__ = ["_flow_leximin"]


def _flow_leximin(problem: AssignmentProblem, started: float, time_limit: float | None = None,
                  scale: int | None = None, record: bool = False, deadline: float | None = None):
    """Leximin on plain problems by a sequence of network flows (see the module docstring).
    With a ``time_limit``, the levels are settled until it passes (``deadline``, a
    ``time.perf_counter`` reading, when given: the limit counted from the caller's start;
    else ``started + time_limit``); the flow then held is a feasible assignment with the most
    pairs whose counts on the settled levels are optimal (its message quotes ``time_limit``).

    ``scale``: the levels' integer scale (default
    :func:`~mentormatch.solvers.leximin_keys.levels_scale` of the scores); the levels are the
    keys :func:`~mentormatch.solvers.leximin_keys.level_keys` (a coarse level split), unless
    the default scale makes every score whole (then ``round(score * scale)``).
    ``record``: also return a :class:`LexRun`, the steps as a certificate that pairs outside
    the problem can be judged against (:mod:`.leximin_steps`); the windows' radices then bound
    a level's count by the most pairs, not by the pairs held, so that they hold for any pairs."""
    P = problem.pairs
    n, m = problem.n_mentees, problem.n_mentors
    locked, cap, supply = _left_by_locks(problem)
    cap, supply = np.maximum(cap, 0), np.maximum(supply, 0)
    exact = False
    if scale is None:
        scale, exact = levels_scale(problem.score)
    scale = int(scale)
    sc = (np.round(problem.score * scale).astype(np.int64) if exact
          else level_keys(problem.score, scale))

    def label(keys) -> np.ndarray:  # the scores the levels stand for
        keys = np.asarray(keys, np.int64)
        return keys / scale if exact else key_labels(keys, scale)
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
    net = LexNet(tail, head, ucap, level, x, alive, forced, supplies, is_pair, n_nodes, residual)
    if deadline is None and time_limit is not None:
        deadline = started + float(time_limit)
    stopped, done, work = settle(net, n, npair, total, steps, record, deadline)
    x = net.x

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
    levels = {float(v): int(c) for v, c in zip(label(used), cnt)}
    cert = {"method": "max-flows, residual path searches and min-cost flows with "
                      "complementary-slackness fixing (OR-Tools)",
            "levels": levels, "solves": work["solves"], "max_flows": max_flows,
            "path_searches": work["path_searches"],
            "levels_proven_by_potentials": work["levels_proven_by_potentials"],
            "cycles_cancelled": work["cycles_cancelled"],
            "matched": int(len(chosen)), "scale": scale, "ties": ties,
            "timed_out": stopped,  # the time limit is the flows' only stop
            "proven_below": (None if not stopped else
                             float(np.nextafter(label([done])[0], np.inf)) if np.isfinite(done)
                             else float(label([t_low])[0]))}
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
