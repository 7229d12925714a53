"""Branch-and-bound on the engine's relaxation, each node priced over every pair: first on two
whole numbers of every assignment, its active mentors and its pairs, then on a mentor's ``y``
and on a candidate pair, to bound a budget below its linear relaxation.

Why
---
A budget with fixed stipends is a knapsack whose relaxation opens a fraction of a mentor. At
500 x 150 (issue 23's programme (a): stipends of 500 + 250 a mentee, the budget 572 units of
250) the relaxation opens 108.25 mentors for 355.5 pairs, and its bound, 1,612.90, stayed
0.131 % above the best assignment (1,610.78); HiGHS on the full model kept that bound for 54 s.
But every assignment has a whole number of active mentors: the relaxation with at most 108 is
worth 1,610.65, with at least 109 it is worth 1,610.78 and its pairs are whole, so that
assignment is optimal. The split is one row over the ``y`` columns, so the same candidate LP,
warm from its basis, settles each side in a few dual simplex steps (0.02 s there).

The search
----------
Best first over nodes; a node (:class:`~mentormatch.solvers.linear.Branch`) is a range of
active mentors, a range of pairs, the mentors fixed inactive or active and the candidate pairs
fixed out or in. The open node of highest bound is split on the first of: a fractional count of
its relaxation (active mentors, then pairs: ``<= floor`` and ``>= ceil``); its most fractional
``y`` (``= 0`` and ``= 1``); its most fractional candidate pair (out and in). Each side's
relaxation is the column generation of :meth:`mentormatch.solvers.relax.Run.relax` on the node's
model, priced over every pair, from the last node's basis. A relaxation whose pairs are whole
and meet the constraints is an assignment; others are rounded down and repaired
(:func:`mentormatch.solvers.heuristics.repair`). Nodes within the engine's optimality gap of the
best assignment are closed. The search stops when every open node is within the gap, when the
best node has nothing fractional (``"whole"``) or was not solved on the candidates
(``"unsolved"``), after ``MAX_NODES`` relaxations (``"nodes"``), once its pricing passed its
share of the work (``"work"``, :func:`tree_pairs`), or at the time limit (``"time"``, the outer
stop: only then may the answer differ from one machine to another).

Why the bound holds over every pair
-----------------------------------
A node's bound is the column generation's Lagrangian bound: the candidate model's dual bound
(each column at the bound its reduced cost favours, a fixed pair or ``y`` at its fixed value)
plus the positive reduced cost of every pair of the source outside the candidates, priced
against the node's prices, aggregate rows included (:meth:`LinearModel.pair_reduced_costs`).
Only candidate pairs are ever fixed, so every outside pair is free in every node and priced. So
the bound is at least the value of every assignment that meets the node's restrictions,
whatever pairs it uses; and so is its parent's, so a node keeps the smaller of the two. A
side with no relaxation on the candidates keeps its parent's bound. The two sides of a split
leave out only fractional values, which no assignment has: the leaves cover every assignment,
and the largest bound among the open and closed leaves (or the best assignment's value) bounds
them all.
"""
from __future__ import annotations

import dataclasses
import heapq
import math
from dataclasses import dataclass

import numpy as np

from .base import proven
from .heuristics import repair
from .linear import Branch
from .highs import OutOfTime
from .relax import Candidates, NoSolutionOnCandidates, Run

__all__ = ["search", "tree_pairs", "TreeResult", "MAX_NODES", "TREE_RATIO", "TREE_MIN_PAIRS"]

#: At most this many node relaxations in one search.
MAX_NODES = 200
#: The tree's work, in pairs priced (a count, not seconds: the same inputs get the same tree on
#: any machine): a quarter of what the stage priced before it, and at least ``TREE_MIN_PAIRS``.
#: Each node prices every pair again: 4.5M pairs (about 1 s of CPU) a pass at 3,000 x 1,500,
#: where two nodes moved the bound by 0.3 of a gap of 5 (the assignment is the weak side there),
#: and 75,000 (about 0.02 s) at 500 x 150, where two nodes prove the optimum.
TREE_RATIO, TREE_MIN_PAIRS = 0.25, 20_000_000
#: A count or a ``y`` within this of a whole number is whole.
WHOLE = 1e-6


@dataclass
class TreeResult:
    """The bound over every pair that the leaves give, the best assignment found (as candidate
    keys, ``None``: none better than the one passed in) and its value, and the work done."""

    bound: float
    best_keys: np.ndarray | None
    value: float
    nodes: int
    open: int
    stopped: str


@dataclass
class _Node:
    bound: float
    branch: Branch
    sums: tuple[float, float] | None  # (active mentors, pairs); None: no relaxation solved
    y: np.ndarray | None
    pick: int | None = None  # the key of its most fractional candidate pair


def _pick(cand: Candidates, x: np.ndarray) -> int | None:
    """The most fractional pair of a relaxation (the lowest key among equals), or None."""
    frac = np.minimum(x, 1.0 - x)
    k = int(np.argmax(frac)) if len(frac) else 0
    return int(cand.key[k]) if len(frac) and frac[k] > WHOLE else None


def _split(node: _Node, use_y: bool) -> list[Branch] | None:
    """The sides of the node's first fractional count (active mentors, then pairs), else of its
    most fractional ``y`` (the lowest mentor index among equals): ``<= floor`` and ``>= ceil``,
    each side whose range holds a whole number. None when nothing is fractional inside the
    node's ranges (a count that is fractional only through the elastic slacks lies outside
    them: splitting it again would repeat the node)."""
    if node.sums is None:
        return None
    b = node.branch
    for name, value, on in (("active", node.sums[0], use_y), ("pairs", node.sums[1], True)):
        if not on or abs(value - round(value)) <= WHOLE:
            continue
        lo, hi = getattr(b, f"{name}_lo"), getattr(b, f"{name}_hi")
        down, up = math.floor(value), math.ceil(value)
        sides = []
        if lo is None or lo <= down:
            sides.append(dataclasses.replace(b, **{f"{name}_hi": down}))
        if hi is None or up <= hi:
            sides.append(dataclasses.replace(b, **{f"{name}_lo": up}))
        if sides and all(s != b for s in sides):
            return sides
    if use_y and node.y is not None:
        frac = np.minimum(node.y, 1.0 - node.y)
        j = int(np.argmax(frac))
        if frac[j] > WHOLE:
            return [dataclasses.replace(b, off=tuple(sorted(b.off + (j,)))),
                    dataclasses.replace(b, on=tuple(sorted(b.on + (j,))))]
    if node.pick is not None:
        k = node.pick
        return [dataclasses.replace(b, pairs_out=tuple(sorted(b.pairs_out + (k,)))),
                dataclasses.replace(b, pairs_in=tuple(sorted(b.pairs_in + (k,))))]
    return None


def tree_pairs(run: Run) -> int:
    """The tree's work in pairs priced: ``TREE_RATIO`` of those the stage priced so far
    (``run.pairs_priced``), at least ``TREE_MIN_PAIRS``."""
    return max(TREE_MIN_PAIRS, int(TREE_RATIO * run.pairs_priced))


def search(run: Run, cand: Candidates, root_bound: float, best_value: float, gap: float,
           max_pairs: int, max_nodes: int | None = None) -> TreeResult:
    """Best-first branch-and-bound from the root relaxation held in ``run`` (its last solution
    gives the root's counts); ``best_value``: the best assignment so far; at most ``max_pairs``
    pairs priced and ``max_nodes`` nodes. The candidates may grow (pricing); the model is the
    root's again on return. See the module docstring."""
    model, lp = run.model, run.lp
    max_nodes = MAX_NODES if max_nodes is None else max_nodes
    until = run.pairs_priced + int(max_pairs)
    root = model.branch
    # a unit of slack costs more than any assignment is worth, so a side with no assignment
    # closes once a whole unit is needed
    penalty = 1.0 + 2.0 * abs(root_bound)
    y_of = (lambda: lp.extra_x[model.y_at:model.y_at + model.m].copy()) if model.use_y else (lambda: None)
    heap = [(-root_bound, 0, _Node(root_bound, dataclasses.replace(root, penalty=penalty),
                                   lp.sums(), y_of(), _pick(cand, lp.on_candidates(cand, lp._x))))]
    closed = -math.inf  # the largest bound among closed leaves
    found, solved, stopped = None, 0, "settled"
    pricing_cap = run.pricing_cap
    try:
        while heap:
            node = heap[0][2]
            if proven(node.bound, best_value, gap):
                break
            if solved >= max_nodes:
                stopped = "nodes"
                break
            if run.pairs_priced >= until:
                stopped = "work"
                break
            if run.out_of_time(0.5):
                stopped = "time"
                break
            sides = _split(node, model.use_y)
            if sides is None:  # the best node cannot be split: its bound stands
                stopped = "whole" if node.sums is not None else "unsolved"
                break
            heapq.heappop(heap)
            for at, side in enumerate(sides):
                model.set_branch(side)
                lp.sync_branch()
                run.pricing_cap = until
                solved += 1
                try:
                    out = run.relax(cand, grow_when_infeasible=False, settle=0.1 * gap)
                except OutOfTime:
                    # the caller's deadline passed before this side's LP: it and the sides
                    # not solved yet keep their parent's bound, unsplit (none was solved)
                    for t, rest in enumerate(sides[at:]):
                        heapq.heappush(heap, (-node.bound, solved + t,
                                              _Node(node.bound, rest, None, None)))
                    solved -= 1
                    stopped = "time"
                    break
                except NoSolutionOnCandidates:
                    # not solved on the candidates: the side keeps its parent's bound, unsplit
                    heapq.heappush(heap, (-node.bound, solved, _Node(node.bound, side, None, None)))
                    continue
                _, bound, x, _, _ = out
                bound = min(bound, node.bound)  # the parent's bound holds on this side too
                for on in _primal(run, cand, x):
                    v = run.value(cand, on)
                    if v > best_value + 1e-12:
                        best_value, found = v, cand.key[on]
                if proven(bound, best_value, gap):
                    closed = max(closed, bound)
                else:
                    heapq.heappush(heap, (-bound, solved, _Node(bound, side, lp.sums(), y_of(),
                                                                _pick(cand, x))))
            if stopped == "time":
                break
    finally:
        model.set_branch(root)
        lp.sync_branch()
        run.pricing_cap = pricing_cap
    open_max = -heap[0][0] if heap else -math.inf
    bound = max(best_value, closed, open_max)
    return TreeResult(bound, found, best_value, solved, len(heap), stopped)


def _primal(run: Run, cand: Candidates, x: np.ndarray):
    """Assignments from a node's relaxation: its pairs when all are whole, else those at one
    rounded down and repaired; each yielded only when it meets every constraint."""
    if np.all(np.minimum(x, 1.0 - x) <= WHOLE):
        on = x > 0.5
        if run.feasible(cand, on):
            yield on
            return
    on = repair(run, cand, x > 1 - 1e-7)
    if on is not None:
        yield on
