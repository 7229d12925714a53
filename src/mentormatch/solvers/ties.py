"""The tie rule: among the optimal assignments, one chosen by a seeded key over ids, the same
whatever the pair source.

Every source (the complete candidate set, cached blocks, bounds, ``assign()``'s dense matrix)
solves the same integer problem: scores quantized once, ``cost = -round(s * scale)`` with one
power-of-two ``scale`` (:func:`mentormatch.solvers.quantize.choose_scale`: ``2**36`` for scores
below 8), so "equal score" means one thing everywhere.
Where several assignments reach the optimum, each source would return whichever its flow
reached first. This module picks one by a rule that depends on the optimal *set* only.

The rule
--------
1. **The optimal face.** The source's optimum ``x`` and its certificate's integer potentials
   ``d`` (residual reduced costs ``c_a + d_tail - d_head >= 0``; ``Solution.prices`` are the
   same prices in score units) describe every optimum: an assignment is optimal iff it is
   feasible and carries flow only where the reduced cost is 0, fills every arc of negative
   reduced cost (a mentee with positive price ``u_i`` fully matched, a mentor with positive
   price ``p_j`` full, a chosen pair with ``w_ij > 0`` kept), complementary slackness. The source
   passes every pair of zero reduced cost, including those outside its sparse set (its check
   gathers them: :data:`TIGHT_GAIN`), and first adds any pair of positive integer gain as a
   violator, so the optimum is the integer optimum over *every* pair.
2. **Only what can move.** An arc's flow differs between two optima iff the arc lies on a
   cycle of zero cost in the residual network: iff its ends are in one strongly connected
   component of the residual arcs of reduced cost 0. That set of arcs does not depend on
   the potentials nor on which optimum ``x`` is (a cycle's cost is the same under any
   potentials, and the difference of two optima is a sum of such cycles). When no pair arc
   can move, the optimum is unique and ``x`` is returned as it is (the usual case with
   scores in floating point: one component pass, no second flow).
3. **A second flow on the face.** Otherwise the arcs that can move (and only those; the
   others keep their flow, as supplies) form a small min-cost flow whose cost is the pair's
   key, :func:`pair_key` of the mentee's and the mentor's seeded ranks
   (:func:`mentormatch.pipeline.seeded_order`, a keyed hash of the ids) and the stage. Its
   flows are exactly the optima of step 1 (every arc on it has reduced cost 0, so the
   objective stays optimal); its optimum minimises the sum of keys among them. It is solved
   from each node's arcs of smallest key, the others priced by its distances and added when
   needed (:func:`second_flow`), which reaches the same set of optima. With every demand at
   most 1 and no ``cover`` the compiled assignment flow solves it instead, on bounds read from
   complementary slackness (:mod:`mentormatch.solvers.ties_unit`, which says why the pick is the
   same; 2,000 x 500 with scores in 4 levels: the rule 71 ms to about 50).
4. **Until one is left.** The keys are random-like, so the least sum is nearly always reached
   by one assignment; step 2 on the second flow (its own potentials, by Bellman-Ford on its
   small residual network) proves it. If not, steps 3-4 repeat on the second flow's own
   optimal face with keys of the next stage, up to :data:`MAX_STAGES`.

The result is the unique minimiser of a key sum over a set that every source describes alike,
so every source returns the same pairs, and a permutation of the rows changes nothing (keys
come from ids, through their ranks, not from row positions). ``certificate["ties"]`` records
the stages, the pairs that could move, and whether one optimum was isolated (``unique``).
Locked pairs are outside the rule (they are fixed before solving). ``coverage_first``'s network
(each mentee's source arc split, the first unit weighted: ``canonical(cover=...)``) is covered
the same way: its face holds the two source arcs with their own reduced costs.

Answers under side constraints
------------------------------
The side-constraint engine (``"mip"``: budget, minimum loads, incentives, group floors, balanced
and fractional loads, ``coverage_first`` with side rows, on every source), ``"cpsat"`` and
max-min with side constraints or fractional loads have no optimal face of a flow to work on;
their MIP or CP-SAT search picks one optimum. Their rule, in :mod:`mentormatch.solvers.alike`,
covers the ties that organisations actually hold, people identical in everything the solver
sees: alike mentees (same eligible mentors at exactly the same scores, demand 1, same load and
floor group, not locked) and alike mentors (same eligible mentees at the same scores, same
capacity, minimum load, stipends, bonus and reservation value, not locked) can be exchanged
without changing the score or any constraint, and alike mentors with mentees of demand 1 and
one same load can regroup their mentees (with incentives, only where every mentor's payoff,
recomputed on the regrouped pairs, still reaches its reservation value). The answer is put in
one canonical form of its class under these moves: within
each class of alike mentors the mentors' lists of mentees are dealt to the mentors in
seeded-rank order (longest list first, then a hash of the list), or, where the class may
regroup, its loads are (largest first) and its mentees fill them in class-then-rank order;
within each class of alike mentees the class's places go to its lowest seeded ranks, in mentor
rank order. Ranks are the same seeded ranks as above, so row order and pair source never decide
such a tie. ``certificate["ties"]`` then records ``rule: "alike people"``, how many people are
alike, how many pairs moved and that each moved pair was checked to exist with the same score.
Not covered: optima that are not exchanges of alike people (totals that happen to be equal),
a class of alike mentors whose canonical regrouping would break a reservation value,
answers stopped by a time limit (another run may stop at another assignment), and the scale
path above :data:`mentormatch.solvers.alike.SOURCE_PAIRS` eligible pairs (``applied: False``).
"""
from __future__ import annotations

import math

import numpy as np

from ortools.graph.python import min_cost_flow

from .._native import assign_kernel
from . import ties_unit
from .keys import pair_order
from .residual import movable_arcs, residual_distances

#: A pair whose reduced gain ``s - u - p`` exceeds this many quanta (``1 / scale``) may be
#: tight in integers: sources gather every such pair outside their sparse set. Exactly tight
#: pairs have a float gain of at least -0.5 quanta (the rounding of ``s * scale``).
TIGHT_GAIN = -0.75
#: Second flows at most; each one shrinks the face. Reaching it is recorded (``unique`` False).
MAX_STAGES = 6
#: The second flow starts from about this many arcs per tail, those of smallest key
#: (:func:`second_flow`); the others join when their reduced cost shows they may be needed.
FACE_START = 8
#: Only the pairs that can be in an optimum (chosen, or of integer gain >= 0) enter the rule;
#: the pick is the same as from every pair (tests switch it off to compare).
FACE_ONLY = True


def pair_key(rank_i: np.ndarray, rank_j: np.ndarray, stage: int = 0) -> np.ndarray:
    """A pair's key: a mix (splitmix64) of its mentee's and its mentor's seeded ranks and the
    stage, uint64. Ranks are positions in :func:`mentormatch.pipeline.seeded_order` of the ids,
    so the key follows the ids and the seed, never the rows' order.

    >>> pair_key(np.array([0, 1]), np.array([1, 0])).dtype
    dtype('uint64')
    >>> bool(pair_key(np.array([3]), np.array([5]))[0] == pair_key(np.array([3]), np.array([5]))[0])
    True
    """
    with np.errstate(over="ignore"):
        x = (np.asarray(rank_i).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             + np.asarray(rank_j).astype(np.uint64)
             + np.uint64(stage) * np.uint64(0xD1B54A32D192ED03))
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def stage_keys(rank_i: np.ndarray, rank_j: np.ndarray, stage: int, bits: int) -> np.ndarray:
    """The keys of a second flow: the top ``bits`` bits of :func:`pair_key`, int64 (compiled
    where built: :func:`mentormatch._native.assign.pair_keys`, the same numbers).

    >>> a, b = np.array([3, 4]), np.array([5, 0])
    >>> (stage_keys(a, b, 1, 8) == (pair_key(a, b, 1) >> np.uint64(56)).astype(np.int64)).all()
    np.True_
    """
    kernel = assign_kernel()
    if kernel is not None:
        return kernel.pair_keys(np.ascontiguousarray(rank_i, np.int64),
                                np.ascontiguousarray(rank_j, np.int64), int(stage), int(bits))
    return (pair_key(rank_i, rank_j, stage) >> np.uint64(64 - bits)).astype(np.int64)


def key_bits(n_nodes: int, places: int) -> int:
    """Bits of the keys in a second flow: as many as int64 allows for ``places`` pairs on
    ``n_nodes`` nodes (OR-Tools' cost scaling), at most 40. Depends on the problem's size only,
    so every source uses the same keys."""
    room = 2.0 ** 60 / ((n_nodes + 1.0) * (places + 1.0))
    return int(max(8, min(40, math.floor(math.log2(room)))))


def integer_gain(score: np.ndarray, mentee: np.ndarray, mentor: np.ndarray, pot: tuple,
                 scale: float) -> np.ndarray:
    """``round(s * scale) - d_i + d_j`` per pair: minus the integer reduced cost of the pair's
    arc under the potentials ``pot`` (mentees', mentors', source's, sink's). Positive: the pair
    would improve the integer optimum (a violator); 0: tight; negative: never in an optimum."""
    di, dj = pot[0], pot[1]
    return np.round(np.asarray(score) * scale).astype(np.int64) - di[mentee] + dj[mentor]


def canonical(mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray, chosen: np.ndarray,
              cap: np.ndarray, dem: np.ndarray, pot: tuple, scale: float,
              ranks: tuple[np.ndarray, np.ndarray] | None = None, cover: np.ndarray | None = None
              ) -> tuple[np.ndarray, dict]:
    """The optimum the tie rule picks (module docstring), from any optimum of the network of
    :func:`mentormatch.solvers.flow.solve_arrays` and potentials that prove it.

    Parameters
    ----------
    mentee, mentor, score : ndarray
        The pairs: the source's sparse set and every pair of zero reduced cost outside it.
    chosen : ndarray of bool
        An optimum over every pair (no pair outside has a positive :func:`integer_gain`).
    cap, dem : ndarray of int64
        Places left per mentor and per mentee (locks taken out).
    pot : tuple
        Integer potentials (mentees', mentors', source's, sink's) at ``scale`` proving
        ``chosen`` optimal (:func:`mentormatch.solvers.duals.prices` returns them).
    ranks : (mentee ranks, mentor ranks), optional
        Each index's position in the seeded order of the ids; default the index itself (the
        pipelines solve in that order).
    cover : ndarray of int64, optional
        ``coverage_first``'s integer weight per mentee, or None (the type is stated in
        :mod:`mentormatch.solvers.flow`): each mentee's source arc split into a first unit of
        cost ``-cover[i]`` and the rest at cost 0, as in
        :func:`mentormatch.solvers.flow.solve_arrays`; every pair is in the network.

    Returns
    -------
    chosen : ndarray of bool, the picked optimum
    info : dict
        ``movable_pairs`` (pairs whose choice differs between optima), ``stages`` (second
        flows run), ``unique`` (one optimum isolated), ``second_flow_solves`` (OR-Tools solves in
        them: :func:`second_flow`).

    Examples
    --------
    Two mentees, two mentors, every score 1: two optima; the keys pick one, whichever was given.

    >>> i, j = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    >>> s, c, d = np.ones(4), np.ones(2, np.int64), np.ones(2, np.int64)
    >>> pot = (np.array([0, 0]), np.array([-2**30, -2**30]), 0, -2**30)
    >>> a, info = canonical(i, j, s, np.array([True, False, False, True]), c, d, pot, 2.0**30)
    >>> b, _ = canonical(i, j, s, np.array([False, True, True, False]), c, d, pot, 2.0**30)
    >>> bool((a == b).all()), int(a.sum()), info["unique"]
    (True, 2, True)
    """
    n, m = len(dem), len(cap)
    chosen = np.asarray(chosen, dtype=bool)
    ri, rj = ranks if ranks is not None else (np.arange(n), np.arange(m))
    has = cover is not None
    kernel = assign_kernel()
    ranked = ranks is None or _permutations(ri, rj, n, m)
    # a pair of positive reduced cost is in no optimum and on no cycle of zero reduced cost:
    # left out, the rule's arrays shrink to the optimal face (10,000 x 2,500 dense: 90,000
    # pairs to about 20,000, 24 ms to 4 ms) and its pick is the same; the arcs go in the seeded
    # order, by (mentee rank, mentor rank): one key, distinct per pair
    if kernel is not None and FACE_ONLY and not has and ranked:
        # the same gathering and sort in C (10,000 x 2,500 with scores in 4 levels, 6.2
        # million pairs on the face: about 0.6 s of numpy)
        c64 = np.ascontiguousarray
        idx, key_ri, key_rj, pair_cost = kernel.face_pairs(
            *(c64(x, np.int64) for x in (mentee, mentor)), c64(score, np.float64),
            c64(chosen).view(np.uint8), *(c64(x, np.int64) for x in (dem, cap, pot[0], pot[1])),
            float(scale), c64(ri, np.int64), c64(rj, np.int64))
    else:
        used = ((score > 0) | has) & (dem[mentee] > 0) & (cap[mentor] > 0)
        if FACE_ONLY:
            used &= integer_gain(score, mentee, mentor, pot, scale) >= 0
        used |= chosen
        idx = np.flatnonzero(used)
        key_ri, key_rj = ri[mentee[idx]], rj[mentor[idx]]
        order = pair_order(key_ri, key_rj, n, m)
        idx, key_ri, key_rj = idx[order], key_ri[order], key_rj[order]
        pair_cost = -np.round(score[idx] * scale).astype(np.int64)
    k = len(idx)
    total = int(dem.sum())
    src, snk = n + m, n + m + 1
    n_nodes = n + m + 2
    bits = key_bits(n_nodes, int(min(total, int(cap.sum()))))
    if ties_unit.applies(dem, cover) and ranked:
        # the compiled pick (mentormatch.solvers.ties_unit), in the seeded order: the pairs are
        # sorted by (mentee rank, mentor rank), the people numbered by rank
        by_rank = [np.empty_like(x) for x in (dem, cap, pot[0], pot[1])]
        for out_, rank, x in zip(by_rank, (ri, rj, ri, rj), (dem, cap, pot[0], pot[1])):
            out_[rank] = x
        got = ties_unit.pick(key_ri, key_rj, pair_cost, chosen[idx], by_rank[0].astype(np.int64),
                             by_rank[1].astype(np.int64), (by_rank[2], by_rank[3], pot[2], pot[3]),
                             bits, MAX_STAGES, FACE_START)
        if got is not None:
            out = chosen.copy()
            out[idx] = got[0]
            return out, got[1]
    f = np.bincount(mentee[chosen], minlength=n)
    load = np.bincount(mentor[chosen], minlength=m)
    tail = np.concatenate([mentee[idx], np.full(n, src), n + np.arange(m), [src]])
    head = np.concatenate([n + mentor[idx], np.arange(n), np.full(m, snk), [snk]])
    cap_a = np.concatenate([np.ones(k, np.int64), dem, cap, [total]]).astype(np.int64)
    flow = np.concatenate([np.ones(k, np.int64) * chosen[idx], f, load, [total - int(f.sum())]])
    cost = np.concatenate([pair_cost, np.zeros(n + m + 1, np.int64)])
    if has:  # the source arcs split: the first unit (weighted), then the rest
        cw = np.asarray(cover, np.int64)
        first = np.where(cw > 0, np.minimum(dem, 1), dem)
        cap_a[k:k + n], flow[k:k + n], cost[k:k + n] = first, np.minimum(f, first), -cw
        tail = np.concatenate([tail, np.full(n, src)])
        head = np.concatenate([head, np.arange(n)])
        cap_a = np.concatenate([cap_a, dem - first]).astype(np.int64)
        flow = np.concatenate([flow, f - np.minimum(f, first)])
        cost = np.concatenate([cost, np.zeros(n, np.int64)])
    d = np.concatenate([pot[0], pot[1], [pot[2], pot[3]]]).astype(np.int64)
    is_pair = np.arange(len(tail)) < k
    if not cap_a[k:].all():  # arcs of no capacity out (the pair arcs' is 1)
        keep = cap_a > 0
        tail, head, cap_a, flow, cost, is_pair = (x[keep] for x in (tail, head, cap_a, flow, cost, is_pair))
    flow, info = pick_on_face(tail, head, cap_a, flow, cost, is_pair, d, key_ri, key_rj, bits,
                              n_nodes)
    out = chosen.copy()
    out[idx] = flow[:k] > 0  # (the pair arcs, first and all kept)
    return out, info


def _permutations(ri: np.ndarray, rj: np.ndarray, n: int, m: int) -> bool:
    """Whether the ranks are permutations of ``0..n-1`` and ``0..m-1`` (the compiled pick
    numbers people by rank)."""
    return all(len(r) == size and (not size or np.bincount(r, minlength=size).max() == 1)
               for r, size in ((np.asarray(ri), n), (np.asarray(rj), m)))


def second_flow(tail, head, cap, flow, key, supply, n_nodes: int, bits: int
                ) -> tuple[np.ndarray, np.ndarray, int]:
    """The least key sum over the face (arcs ``tail -> head``, capacity ``cap``, node
    ``supply``), from its feasible ``flow``: an optimal flow, its residual distances
    (:func:`residual_distances`, potentials proving it) and the flows solved.

    Any optimum will do (the rule's next step works on the set of optima, the same from any
    of them), so the flow need not see every arc: it starts from the arcs of small key (those
    below ``2**bits * FACE_START / degree``: about :data:`FACE_START` per tail; every arc of key
    0, that is every arc that is not a pair's; the arcs carrying ``flow``, so that it is
    feasible), and the distances of its optimum price every other arc; an arc of negative
    reduced cost joins and the flow is solved again, until none: then the distances prove the
    flow optimal over every arc (the dense certificate's argument, on the face). At 2,000 x 500
    with scores in 4 levels, 247,737 arcs: 17,869 arcs and one flow, 19 ms against 82 ms for
    the flow and the distances on every arc."""
    n_tails = int(np.count_nonzero(np.bincount(tail, minlength=n_nodes)))
    limit = 2.0 ** bits * FACE_START * max(n_tails, 1) / max(len(tail), 1)
    held = (key < limit) | (flow > 0)
    solves = 0
    while True:
        solves += 1
        part = np.flatnonzero(held)
        smcf = min_cost_flow.SimpleMinCostFlow()
        arcs = smcf.add_arcs_with_capacity_and_unit_cost(tail[part], head[part], cap[part], key[part])
        smcf.set_nodes_supplies(np.arange(n_nodes), supply)
        status = smcf.solve()
        if status != smcf.OPTIMAL:  # cannot happen: the given flow is feasible on these arcs
            raise RuntimeError(f"the tie rule's second flow returned {status}")
        out = np.zeros_like(flow)
        out[part] = smcf.flows(arcs)
        dist = residual_distances(tail[part], head[part], cap[part], out[part], key[part], n_nodes)
        if len(part) == len(tail):
            return out, dist, solves
        # an arc left out carries no flow: it breaks the proof iff its reduced cost is < 0
        join = ~held & (key + dist[tail] - dist[head] < 0)
        if not join.any():
            return out, dist, solves
        held |= join


def pick_on_face(tail, head, cap_a, flow, cost, is_pair, d, key_ri, key_rj, bits: int, n_nodes: int
                 ) -> tuple[np.ndarray, dict]:
    """Steps 2-4 of the rule (module docstring) on any min-cost flow network given as arcs
    (``tail``, ``head``, capacity ``cap_a``, an optimal ``flow``, integer ``cost``), with integer
    node potentials ``d`` proving it optimal: the flow of least key sum among the optima, and
    the rule's record. The pair arcs (``is_pair``) come first, their ranks ``key_ri``,
    ``key_rj`` in that order; ``bits``: :func:`key_bits` of the network. :func:`canonical`
    builds the plain (or coverage_first) network; max-min's total with its counts fixed
    (:mod:`mentormatch.solvers.maxmin_total`) builds its own."""
    rc = cost + d[tail] - d[head]
    if np.any(rc[flow < cap_a] < 0) or np.any(rc[flow > 0] > 0):
        raise ValueError("the potentials do not prove the assignment optimal over these pairs")
    # an optimum differs from this one along a cycle of zero reduced cost, which takes an
    # unchosen pair of reduced cost 0, or drops a chosen pair worth 0: without either the
    # optimum is unique (the common case; no components pass)
    if (np.any(is_pair & (rc == 0) & (flow == 0))
            or np.any(is_pair & (flow > 0) & (cost == 0))):
        move = movable_arcs(tail, head, cap_a, flow, rc, n_nodes)
    else:
        move = np.zeros(len(tail), dtype=bool)
    info = {"movable_pairs": int((move & is_pair).sum()), "stages": 0, "unique": True,
            "second_flow_solves": 0}
    while (move & is_pair).any():
        if info["stages"] == MAX_STAGES:
            info["unique"] = False
            break
        info["stages"] += 1
        sub = np.flatnonzero(move)
        # the nodes the moving arcs touch, numbered in order (a mask: no sort)
        touched = np.zeros(n_nodes, dtype=bool)
        touched[tail[sub]] = touched[head[sub]] = True
        label = np.cumsum(touched) - 1
        st, sh = label[tail[sub]], label[head[sub]]
        n_sub = int(label[-1]) + 1
        supply = np.zeros(n_sub, np.int64)
        np.add.at(supply, st, flow[sub])
        np.subtract.at(supply, sh, flow[sub])
        key = np.zeros(len(sub), np.int64)
        sp = is_pair[sub]
        key[sp] = stage_keys(key_ri[sub[sp]], key_rj[sub[sp]], info["stages"], bits)
        flow = flow.copy()
        flow[sub], dist, solves = second_flow(st, sh, cap_a[sub], flow[sub], key, supply, n_sub, bits)
        info["second_flow_solves"] += solves
        # the second flow's own optimal face: what can still move at the same key sum
        rc2 = key + dist[st] - dist[sh]
        move = np.zeros(len(tail), dtype=bool)
        move[sub] = movable_arcs(st, sh, cap_a[sub], flow[sub], rc2, n_sub)
    return flow, info
