"""Max-min's last key, the total, with the earlier keys fixed as constraints: one certified
min-cost flow over every pair of a pair source (:mod:`mentormatch.solvers.bottleneck` calls it
when its nested weights leave the total coarser than :data:`~mentormatch.solvers.base.OPTIMAL_GAP`).

Max-min's order is: the most matched mentees ``C`` (under ``coverage_first``), the most pairs
``M`` among those assignments, the highest worst pair ``t``, the highest total. Once ``C``,
``M`` and ``t`` are proven, the assignments that tie on them are exactly the flows of::

    F (supply C)     --(cap 1, cost 0)------> mentee i     a first unit (mentees no lock matched)
    R (supply M - C) --(cap d_i - f_i, 0)---> mentee i     the other places (f_i: the first unit)
    mentee i --(cap 1, cost -round(s_ij * scale))--> mentor j     pairs with s_ij >= t only
    mentor j --(cap c_j, cost 0)--> sink (demand M)

(places left after the locks; no bypass). Proof: a flow sends ``C`` units through ``F``, at most
one a mentee, so it matches at least ``C`` mentees, and no assignment matches more, so exactly
``C``; it has ``M`` pairs, each at least ``t``. Conversely such an assignment gives each of its
``C`` mentees one unit from ``F`` and the rest from ``R``. Without ``coverage_first`` (or with
every demand 1) ``C`` is 0 and ``R`` alone supplies ``M``. So the min-cost flow is the best total
among them, and the weights of the nested flows (``Wq`` per mentee, ``W`` per pair) are gone: the
scores are quantized as the plain flow's (:func:`mentormatch.solvers.quantize.choose_scale`, about
``2**-31`` per pair for scores below 8 at 200,000 x 40,000, against ``2**-18`` for the nested
flows' second stage there), so ``M / scale`` is far below the gap.

**Over every pair.** The flow runs on a held set (the last max-min flow's pairs at least ``t``
and the pairs its guesses saw, a witness among them); its potentials ``d`` (shortest residual
distances, :func:`mentormatch.solvers.residual.residual_distances`, integers) price every pair of the source
at least ``t``: a pair outside the held set with ``round(s scale) - d_i + d_j > 0`` is a violator
(each mentee's best :data:`PER_ROW` join, next round); with none, the integer optimum over the
held set is the integer optimum over every pair (the potentials stay feasible for the larger
network). On bounds only the pairs whose bound could reach a gain of 0 are scored exactly.

**Tie rule.** The pairs of gain 0 outside the held set join it and
:func:`mentormatch.solvers.ties.pick_on_face` picks the optimum of least key sum on the optimal
face, which every source describes alike: the same pairs on every source and in any row order.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from .base import held_problem
from .quantize import choose_scale
from .residual import residual_distances
from .ties import key_bits, pick_on_face
from .topk import top_k

__all__ = ["FixedCounts", "TotalResult", "fixed_total", "solve_total"]

#: Violators added per mentee and round (the largest gains).
PER_ROW = 8
#: At most this many rounds.
MAX_ROUNDS = 100


@dataclass(frozen=True)
class FixedCounts:
    """What max-min's earlier keys fixed, on the places the locks leave: per mentor the places
    ``cap``, per mentee the places ``supply`` and whether a first unit counts it (``first``,
    0 or 1: coverage_first, no lock matched it), the counts ``C`` (first units) and ``M`` (free
    pairs), the threshold ``t`` every free pair reaches, ``top`` (a bound on ``|s|`` over the
    network's pairs that every source reads alike: its power of two sets the scale) and the
    locked pairs' codes ``mentee * n_mentors + mentor``, sorted (not free pairs)."""

    cap: np.ndarray
    supply: np.ndarray
    first: np.ndarray
    C: int
    M: int
    t: float
    top: float
    locks: np.ndarray


@dataclass
class TotalResult:
    """The final flow: the pairs held (``i``, ``j``, exact ``s``, sorted by code), the chosen
    ones (bool), whether the flow is proven over every pair (``holds``), and the record."""

    i: np.ndarray
    j: np.ndarray
    s: np.ndarray
    chosen: np.ndarray
    holds: bool
    record: dict = field(default_factory=dict)


def _network(i, j, s, fc: FixedCounts, scale: float, n: int, m: int):
    """Arcs (pairs first, then F's, R's, the mentors'), capacities, integer costs and supplies."""
    F, R, T = n + m, n + m + 1, n + m + 2
    rest = fc.supply - fc.first
    mi = np.arange(n)
    tail = np.concatenate([i, np.full(n, F), np.full(n, R), n + np.arange(m)])
    head = np.concatenate([n + j, mi, mi, np.full(m, T)])
    cap = np.concatenate([np.ones(len(i), np.int64), fc.first, rest, fc.cap]).astype(np.int64)
    cost = np.concatenate([-np.round(s * scale).astype(np.int64), np.zeros(2 * n + m, np.int64)])
    supplies = np.zeros(n + m + 3, np.int64)
    supplies[[F, R, T]] = fc.C, fc.M - fc.C, -fc.M
    return tail, head, cap, cost, supplies


def _flow(tail, head, cap, cost, supplies) -> np.ndarray | None:
    """An optimal flow of the network (None when no flow meets the supplies)."""
    smcf = min_cost_flow.SimpleMinCostFlow()
    keep = np.flatnonzero(cap > 0)
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tail[keep], head[keep], cap[keep], cost[keep])
    smcf.set_nodes_supplies(np.arange(len(supplies)), supplies)
    if smcf.solve() != smcf.OPTIMAL:
        return None
    flow = np.zeros(len(tail), np.int64)
    flow[keep] = smcf.flows(arcs)
    return flow


def _price(source, bounded: bool, d: np.ndarray, scale: float, fc: FixedCounts, held: np.ndarray,
           n: int, m: int, deadline: float | None = None):
    """Every pair of ``source`` at least ``t``, free, of people with places left and outside the
    held codes, with its integer gain ``round(s scale) - d_i + d_j`` >= 0: (mentee, mentor,
    score, gain) arrays, and the pairs scored. ``deadline`` (a ``time.perf_counter``
    reading): no block starts past it, and the pass answers None (cut short: no proof)."""
    di, dj = d[:n], d[n:n + m]
    room_i, room_j = fc.supply > 0, fc.cap > 0

    def screen(mentees, up):
        # a gain >= 0 needs s scale >= d_i - d_j - 0.5; the bound u >= s (with its margin):
        # one quantum of slack for the float product
        need = (up >= fc.t) & (up * scale >= (di[mentees][:, None] - dj[None, :]).astype(np.float64) - 1.5)
        return need & room_i[mentees][:, None] & room_j[None, :]

    parts, scored = [], 0
    blocks = source.blocks(screen if bounded else None)
    while True:
        if deadline is not None and time.perf_counter() > deadline:
            blocks.close()
            return None
        try:
            a, b, s = next(blocks)
        except StopIteration:
            break
        scored += len(a)
        keep = (s >= fc.t) & room_i[a] & room_j[b]
        a, b, s = a[keep], b[keep], s[keep]
        code = a * m + b
        for codes in (held, fc.locks):
            if len(codes):
                at = np.minimum(np.searchsorted(codes, code), len(codes) - 1)
                out = codes[at] != code
                a, b, s, code = a[out], b[out], s[out], code[out]
        gain = np.round(s * scale).astype(np.int64) - di[a] + dj[b]
        ok = gain >= 0
        parts.append((a[ok], b[ok], s[ok], gain[ok]))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), scored
    return (*(np.concatenate([p[k] for p in parts]) for k in range(4)), scored)


def _merged(i, j, s, ai, aj, as_, m: int):
    """The held pairs with ``(ai, aj, as_)`` added, sorted by code, once each."""
    code = np.concatenate([i * m + j, ai * m + aj])
    ss = np.concatenate([s, as_])
    code, first = np.unique(code, return_index=True)
    ii, jj = np.divmod(code, m)
    return ii, jj, ss[first]


def solve_total(source, fc: FixedCounts, start: tuple, *, n_mentees: int, n_mentors: int,
                bounded: bool, deadline: float | None = None) -> TotalResult:
    """The best total among the assignments with the counts of ``fc`` (module docstring), over
    every pair of ``source`` (mentees and mentors by the caller's indices), starting from the
    free pairs ``start = (mentee, mentor, exact score)`` (a witness of the counts among them).
    ``holds`` False when the rounds stopped (``deadline``, a ``time.perf_counter`` reading: no
    flow and no block of a pricing pass starts past it; :data:`MAX_ROUNDS`) or the held set had
    no such assignment; then ``chosen`` is empty. The record keeps each round's flow and
    pricing seconds."""
    n, m = n_mentees, n_mentors
    i, j, s = (np.asarray(x) for x in start)
    keep = s >= fc.t
    i, j, s = _merged(i[keep].astype(np.int64), j[keep].astype(np.int64), s[keep].astype(np.float64),
                      np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), m)
    n_nodes = n + m + 3
    scale = choose_scale(fc.top, n_nodes, fc.M)
    rec = {"method": "the best total with the counts and the threshold fixed (supplies C and M - C)",
           "scale": scale, "total_rounding": fc.M / scale, "rounds": 0, "violators_added": 0,
           "pairs_scored": 0, "tight_pairs_outside": 0, "holds": False, "flow_seconds": [],
           "pricing_seconds": []}
    empty = np.zeros(0, bool)
    while True:
        if deadline is not None and time.perf_counter() > deadline:
            rec["stopped"] = "the time limit"
            return TotalResult(i, j, s, empty, False, rec)
        rec["rounds"] += 1
        t0 = time.perf_counter()
        tail, head, cap, cost, supplies = _network(i, j, s, fc, scale, n, m)
        flow = _flow(tail, head, cap, cost, supplies)
        if flow is None:
            rec["stopped"] = "no assignment with these counts among the pairs held"
            return TotalResult(i, j, s, empty, False, rec)
        d = residual_distances(tail, head, cap, flow, cost, n_nodes)
        held = i * m + j
        t1 = time.perf_counter()
        priced = _price(source, bounded, d, scale, fc, held, n, m, deadline)
        rec["flow_seconds"].append(round(t1 - t0, 3))
        rec["pricing_seconds"].append(round(time.perf_counter() - t1, 3))
        if priced is None:
            rec["stopped"] = "the time limit (inside a pricing pass)"
            return TotalResult(i, j, s, empty, False, rec)
        vi, vj, vs, gain, scored = priced
        rec["pairs_scored"] += int(scored)
        viol = gain > 0
        if viol.any():
            if rec["rounds"] >= MAX_ROUNDS:  # (the deadline: before the next flow)
                rec["stopped"] = f"its work limit ({MAX_ROUNDS} rounds)"
                return TotalResult(i, j, s, empty, False, rec)
            vi, vj, vs, g = vi[viol], vj[viol], vs[viol], gain[viol]
            add = top_k(vi, g.astype(np.float64), PER_ROW)
            rec["violators_added"] += int(add.sum())
            i, j, s = _merged(i, j, s, vi[add], vj[add], vs[add], m)
            continue
        break
    # proven: the tight pairs outside join, and the tie rule picks on the optimal face
    k = len(i)
    rec["tight_pairs_outside"] = int(len(vi))
    chosen = flow[:k] > 0
    i2, j2, s2 = np.concatenate([i, vi]), np.concatenate([j, vj]), np.concatenate([s, vs])
    order = np.argsort(i2 * m + j2, kind="stable")
    i2, j2, s2 = i2[order], j2[order], s2[order]
    was = np.concatenate([chosen, np.zeros(len(vi), bool)])[order]
    tail, head, cap, cost, _ = _network(i2, j2, s2, fc, scale, n, m)
    flow = np.concatenate([was.astype(np.int64), flow[k:]])
    keep = cap > 0
    kk = len(i2)
    is_pair = np.arange(len(tail)) < kk
    tail, head, cap, cost, flow, is_pair = (x[keep] for x in (tail, head, cap, cost, flow, is_pair))
    flow, ties = pick_on_face(tail, head, cap, flow, cost, is_pair, d, i2, j2,
                              key_bits(n_nodes, fc.M), n_nodes)
    rec.update(holds=True, ties=ties)
    return TotalResult(i2, j2, s2, flow[:kk] > 0, True, rec)


def fixed_total(scorer, bounded: bool, problem, sol, plain, seen, cap, dem, counting: bool,
                 cover: bool, t: float, top: float, n: int, m: int, deadline):
    """Max-min's total (:mod:`mentormatch.solvers.bottleneck`) with the count, the pairs and the
    threshold of its answer fixed (``t``: the answer's worst pair), over every pair of the
    scorer, by :func:`solve_total` from the answer flow's pairs (``problem``, ``sol``, exact
    scores ``plain``) and the pairs its guesses saw (``seen``,
    :class:`mentormatch.solvers.seen.Seen`): (its record, and (final problem, chosen, total)
    when proven, else None)."""
    from .sources import BlockSource, BoundedSource

    P, lk = problem.pairs, np.asarray(problem.locked, bool)
    li, lj, ls = P.mentee[lk], P.mentor[lk], plain[lk]
    supply = dem - np.bincount(li, minlength=n)
    room = np.round(cap).astype(np.int64) - np.bincount(lj, minlength=m)
    lock_cov = np.bincount(li, minlength=n) > 0
    first = ((supply > 0) & ~lock_cov).astype(np.int64) if counting else np.zeros(n, np.int64)
    chosen = np.asarray(sol.chosen, np.int64)
    free = chosen[~lk[chosen]]
    mine = np.unique(P.mentee[free])
    fc = FixedCounts(cap=room, supply=supply.astype(np.int64), first=first,
                     C=int(first[mine].sum()), M=int(len(free)), t=float(t), top=float(top),
                     locks=np.sort(li.astype(np.int64) * m + lj))
    si, sj = np.divmod(seen.code, m)
    start = (np.concatenate([P.mentee[~lk], si]), np.concatenate([P.mentor[~lk], sj]),
             np.concatenate([plain[~lk], seen.score]))
    source = BoundedSource(scorer, n, m) if bounded else BlockSource(scorer, n, m)
    t0 = time.perf_counter()
    res = solve_total(source, fc, start, n_mentees=n, n_mentors=m, bounded=bounded, deadline=deadline)
    record = {**res.record, "counts": {"mentees": fc.C, "pairs": fc.M}, "threshold": float(t),
              "seconds": round(time.perf_counter() - t0, 3)}
    if not res.holds:
        return record, None
    out = held_problem(res.i, res.j, res.s, li, lj, ls, cap, problem.demand, n, m, cover)
    ci = np.concatenate([li, res.i[res.chosen]])
    cj = np.concatenate([lj, res.j[res.chosen]])
    picked = np.sort(out.pairs.locate(ci, cj))
    assert np.all(picked >= 0), "a chosen pair outside the final pairs"
    return record, (out, picked, math.fsum(out.score[picked].tolist()))
