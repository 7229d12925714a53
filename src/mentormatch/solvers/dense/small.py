"""The small-problem path of :func:`mentormatch.assign`: one compiled flow over every pair of the
dense matrix (:func:`mentormatch._native.assign.dense_flow`), with no candidate passes, no
check pass and, when the optimum is unique, no second flow.

:func:`mentormatch.solvers.dense.solve_dense` works for any size: each mentee's best few pairs,
a flow on them, prices, a check of every pair against them, the tie rule. On a small matrix the
passes and their bookkeeping cost more than the flow: at 200 x 50, ``solve_dense`` took 1.3 ms of
CPU where lap.lapjv on the capacity-expanded matrix took 0.4 and the compiled flow itself 0.2
(s26h5). Here the flow takes every pair at once, so the certificate needs no pass (every arc of
the network is checked in the kernel, in integers, against the flow's own potentials; a pair
outside the network scores <= 0, or is forbidden, or its mentor has no place, and the prices
``u, p >= 0`` give it no gain), and the kernel also says whether the optimum is unique. When
it is not, the tie rule's first stage runs in the same kernel: the keyed flow
(``dense_flow(rank_i, rank_j, bits, face)``: 128-bit costs, the score then the rule's stage-1
key, on the pairs of the optimal face) finds the optimum of least key sum, the one the rule's
second flow (:mod:`mentormatch.solvers.ties`, step 3) picks, and proves it the only one of that
sum, the rule's pick. Only when that sum is reached twice (or the keys are wider than
:data:`KEY_BITS`) does the rule itself (:func:`mentormatch.solvers.ties.canonical`) run, from
that optimum, on the same face as ``solve_dense``'s (every pair of integer gain 0 is among the
pairs given). So the pairs are those of ``solve_dense`` on the same inputs, tied or not. At
200 x 50, capacity 4, scores in 4 levels (2,474 pairs can move), CPU: the plain flow 0.07 ms,
the keyed flow on the face 0.31, where the rule took 0.74 (s29h5).

Which flow runs first is a guess (:func:`likely_tied`: scores in a few levels). Scores in
floating point: the plain flow first, as above. Tied scores: the keyed flow over every arc at
once, with no plain flow before it; its rounded potentials prove its optimum for the plain
costs, and it counts on them, in its own check, the pairs that move between the plain optima
(the rule's ``movable_pairs``, the plain flow's count: any proving potentials give it).
Measured in the call at 200 x 50, 4 levels: the flows 0.58 ms (plain 0.22 + keyed on the face
0.36, in context) -> the keyed flow 0.36-0.38 + ``dense_moving`` 0.05-0.10 + ``dense_tied``
0.002 (s31h2) -> the keyed flow with its count 0.29 (s32h2: the whole call 571-587 -> 481-497
us min; 100 x 200, capacity 1: 774-793 -> 612-617). A wrong guess costs time only.

The path's reach is :data:`SMALL_CELLS` (100,000 cells), by measured cost: the flow over every
pair grows faster than ``solve_dense``'s passes, and overtakes them between 100,000 and 250,000
cells (sooner on square matrices of capacity 1); below that it is up to 2.5 times faster (500 x
125, tied scores).

The problem returned holds every eligible pair (``solve_dense(every_pair=True)``'s, in the same
row-major order), and the solution the same fields and certificate keys, with ``method``
``"dense_min_cost_flow_every_pair"`` (the check is the kernel's: ``check`` says so).
"""
from __future__ import annotations

import time

import numpy as np

from ..._native import assign_kernel
from ...pairs import Candidates
from .. import ties as tie_rule  # (its ``key_bits`` read at the call: tests force short keys)
from ..base import AssignmentProblem, Solution, finish
from ..duals import prices_at
from ..quantize import choose_scale, network_size
from ..ties import canonical

#: ``assign()`` takes this path up to this many cells (mentees x mentors), and its result holds
#: every eligible pair up to the same size on either path (:func:`every_pair`). The path's
#: reach by measured cost: CPU of the whole call, min of 20, against ``solve_dense`` (the
#: other path) on the ladder's instances (capacity 4, 2 % forbidden), tied scores (4 levels) |
#: uniform: 500 x 125 3.98 ms against 10.23 | 2.33 against 4.98; 1,000 x 250 17.1 against 25.8 |
#: 9.3 against 10.6; 2,000 x 500 72.9 against 58.8 | 37.2 against 22.3. Its worst shape is a
#: square matrix of capacity 1 (every mentor taken, long chains): 300 x 300 9.2 against 9.7 |
#: 4.8 against 5.4; 400 x 400 18.1 against 14.7 | 7.9 against 6.0 (s34h2, load 8-9).
SMALL_CELLS = 100_000


def every_pair(n_cells: int) -> bool:
    """Whether ``assign()``'s result on a matrix of ``n_cells`` cells holds every eligible pair
    (this path's problem; ``solve_dense(every_pair=True)``'s on the other), so that the reasons
    for the unmatched and the explanations see every option: at most :data:`SMALL_CELLS`
    (read at the call: tests force the other path)."""
    return n_cells <= SMALL_CELLS


def applies(n_cells: int) -> bool:
    """Whether ``assign()`` takes this path on a matrix of ``n_cells`` cells: the result is to
    hold every eligible pair (:func:`every_pair`) and the compiled kernel is built with every
    entry point this path calls (``DENSE_FLOW_VERSION`` 3: the keyed flow over every arc, which
    counts the movable pairs; ``mate_cells``, added after it). A module built before them: the
    other path, the same problem and pairs. (The caller also asks for no locks, no
    ``coverage_first``, no time limit and scores already checked.)"""
    if not every_pair(n_cells):
        return False
    kernel = assign_kernel()
    return (kernel is not None and getattr(kernel, "DENSE_FLOW_VERSION", 1) >= 3
            and hasattr(kernel, "mate_cells"))


#: The keyed flow takes keys of at most this many bits (:func:`mentormatch.solvers.ties.key_bits`
#: gives at most 40), so that its 128-bit costs keep their key parts far from ``2**63``
#: (``dense_flow``); wider keys (tests force them) go to the rule's own second flows.
KEY_BITS = 40


def likely_tied(kernel, values: np.ndarray) -> bool:
    """Whether one of the first 4 mentees scores two of its first 64 mentors the same (> 0,
    finite), by the kernel's ``dense_tied``: scores in a few levels, whose optimum is seldom
    unique. It decides which flow runs first (:func:`solve_small`), never the answer: at 200 x
    50, capacity 4, scores in 4 levels, one keyed flow over every arc took 0.35-0.38 ms of CPU
    where the plain flow and the keyed flow on the face took 0.58; on scores in floating point
    (the optimum unique) the keyed flow took 0.29 ms against the plain flow's 0.21 (8
    instances in turn, min; s31h2)."""
    return kernel.dense_tied(values, 4, 64)


def solve_small(values: np.ndarray, forbid: np.ndarray | None, capacity: np.ndarray,
                mentee_rank: np.ndarray, mentor_rank: np.ndarray, mentee_order: np.ndarray
                ) -> tuple[AssignmentProblem, Solution, tuple[np.ndarray, np.ndarray]]:
    """Exact assignment on a small dense matrix, certified against every pair, the tie rule's
    optimum: ``solve_dense(DenseRows(values, forbid), capacity, mentee_rank=...,
    mentor_rank=..., every_pair=True)``'s answer (module docstring), demand 1, no locks.

    ``values`` (mentees x mentors, float64, any layout, ``-inf`` = ineligible, no NaN or
    ``+inf``: the caller checked), ``forbid`` (bool, the same shape, or None), ``capacity``
    (whole numbers >= 0, one per mentor), the seeded ranks and ``mentee_order`` (the mentees
    in rank order: the order the flow takes them in). Also returns each mentee's count of
    forbidden cells and of other cells scored ``-inf`` (``assign()``'s ``removed``), counted in
    the same pass as the pairs."""
    started = time.perf_counter()
    kernel = assign_kernel()
    n, m = values.shape
    cap = capacity.astype(np.int64)
    dem = np.ones(n, np.int64)
    has = forbid is not None
    fb = forbid.view(np.uint8) if has else np.zeros((1, 1), np.uint8)
    n_nodes, places = network_size(cap, dem)
    scale = choose_scale(kernel.dense_top(values, fb, has, cap), n_nodes, places)
    order = mentee_order.astype(np.int64)
    bits = tie_rule.key_bits(n_nodes, places)
    keyed = bits <= KEY_BITS and likely_tied(kernel, values)
    if keyed:  # the rule's first stage at once: one keyed flow over every arc (module docstring)
        mate, pi_i, pi_j, pi_t, twice, n_arcs, moving = kernel.dense_flow(
            values, fb, has, order, cap, scale, mentee_rank.astype(np.int64),
            mentor_rank.astype(np.int64), bits)
    else:
        mate, pi_i, pi_j, pi_t, _, n_arcs, moving = kernel.dense_flow(values, fb, has, order, cap, scale)
    pot = (pi_i, pi_j, pi_t, pi_t)  # the source at the sink's (round_flow's docstring)
    # (after the keyed flow the plain count is its own, counted on its rounded potentials)
    ties = {"movable_pairs": moving, "stages": int(keyed and moving != 0), "unique": True,
            "second_flow_solves": 0}
    if keyed or moving:  # the tie rule has something to pick
        if not keyed:
            twice = True
            if bits <= KEY_BITS:  # its first stage by the keyed flow on the optimal face
                mate, *_, twice, _, _ = kernel.dense_flow(
                    values, fb, has, order, cap, scale,
                    mentee_rank.astype(np.int64), mentor_rank.astype(np.int64), bits, pi_i, pi_j)
                ties["stages"] = 1
        if twice:  # its least key sum reached twice (or keys too wide): the rule, every pair
            i, j, score, chosen, *_ = kernel.dense_pairs(
                values, fb, has, mate, np.zeros(n), np.zeros(m))
            chosen, ties = canonical(i, j, score, chosen, cap, dem, pot, scale,
                                     ranks=(mentee_rank, mentor_rank))
            mate = np.full(n, -1, np.int64)
            mate[i[chosen]] = j[chosen]
    ties["tight_pairs_outside"] = 0
    # the prices on the chosen pairs (all prices_at reads), then every pair in one pass: the
    # pairs returned, and the float check whose largest reduced gain enters the bound
    ci, cj, chosen_score = kernel.mate_cells(values, mate)  # (one compiled pass: 6 us -> 1)
    u, p, dual_obj = prices_at(pot, ci, cj, slice(None), chosen_score, dem, cap, scale)
    i, j, score, chosen, n_forbidden, n_neginf, eps = kernel.dense_pairs(values, fb, has, mate, u, p)
    tol = 1.0 / scale
    n_max = int(min(places, n_arcs))
    cert = {"method": "dense_min_cost_flow_every_pair", "scale": scale, "rounding_bound": n_max / scale,
            "n_max": n_max, "top_k": None, "pairs_in_sparse": len(i), "rounds": 1,
            "violations_added": 0, "warm_repairs": [], "holds": eps <= tol, "flow": "compiled dense",
            "or_tools_status": "not run: the compiled flow",
            "check": "every pair, in the kernel (integers) and after it (floats)",
            "pairs_checked": n * m, "bellman_ford_sweeps": 0, "dual_objective": dual_obj,
            "max_reduced_gain": eps, "tolerance": tol, "ties": ties}
    problem = AssignmentProblem(Candidates(i, j, n, m), score, capacity, dem,
                                locked=np.zeros(len(i), bool))
    holds = cert["holds"]
    sol = finish(problem, np.flatnonzero(chosen), "optimal" if holds else "feasible", started,
                 "flow", None, cert)
    if holds:
        sol.bound = dual_obj + eps * places  # (places: min(n, sum of capacities))
        sol.prices = (u, p)
    return problem, sol, (n_forbidden, n_neginf)
