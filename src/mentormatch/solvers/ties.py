"""The tie rule: among the optimal assignments, one chosen by a seeded key over ids, the same
whatever the pair source.

Every source (the complete candidate set, cached blocks, bounds, ``assign()``'s dense matrix)
solves the same integer problem: scores quantized once, ``cost = -round(s * scale)`` with one
power-of-two ``scale`` (:func:`mentormatch.solvers.flow.choose_scale`: ``2**36`` for scores
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
   objective stays optimal); its optimum minimises the sum of keys among them.
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
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .duals import ALL_ARCS

#: A pair whose reduced gain ``s - u - p`` exceeds this many quanta (``1 / scale``) may be
#: tight in integers: sources gather every such pair outside their sparse set. Exactly tight
#: pairs have a float gain of at least -0.5 quanta (the rounding of ``s * scale``).
TIGHT_GAIN = -0.75
#: Second flows at most; each one shrinks the face. Reaching it is recorded (``unique`` False).
MAX_STAGES = 6
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


def _components(tail, head, n_nodes):
    """Strongly connected component label per node of the arcs ``tail -> head``. The CSR
    arrays are built here (arcs by tail, a counting sort): from (tail, head) pairs scipy's
    COO conversion costs as much as the components on a few hundred nodes."""
    tail, head = np.asarray(tail, np.int64), np.asarray(head, np.int64)
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n_nodes + 1, np.int32)
    np.cumsum(np.bincount(tail, minlength=n_nodes), out=indptr[1:])
    g = csr_matrix((np.ones(len(tail), np.int8), head[order].astype(np.int32), indptr),
                   shape=(n_nodes, n_nodes))
    return connected_components(g, directed=True, connection="strong")[1]


def _movable(tail, head, cap, flow, rc, n_nodes) -> np.ndarray:
    """Arcs whose flow differs between optima: reduced cost 0 and both ends in one strongly
    connected component of the residual arcs of reduced cost 0."""
    zero = rc == 0
    fwd = zero & (flow < cap)
    bwd = zero & (flow > 0)
    lab = _components(np.concatenate([tail[fwd], head[bwd]]), np.concatenate([head[fwd], tail[bwd]]),
                      n_nodes)
    return zero & (lab[tail] == lab[head])


def _distances(tail, head, cap, flow, cost, n_nodes) -> np.ndarray:
    """Shortest distances from a virtual root in the residual network of an optimal flow
    (vectorised Bellman-Ford: no negative cycle, so at most ``n_nodes`` sweeps). Each sweep
    relaxes only the arcs leaving the nodes whose distance fell in the sweep before (the other
    arcs lower nothing new), so it computes the same distances sweep by sweep as relaxing every
    arc: at 1,000 x 1,000 with scores from 0-3, 96 sweeps of which the later ones move a few
    nodes out of 2,000 (up to :data:`mentormatch.solvers.duals.ALL_ARCS` arcs every sweep
    relaxes them all: cheaper than picking out a few)."""
    fwd, bwd = flow < cap, flow > 0
    at = np.concatenate([tail[fwd], head[bwd]])
    ah = np.concatenate([head[fwd], tail[bwd]])
    ac = np.concatenate([cost[fwd], -cost[bwd]])
    order = np.argsort(at, kind="stable")  # arcs by tail
    ah, ac = ah[order], ac[order]
    count = np.bincount(at, minlength=n_nodes)
    first = np.cumsum(count) - count  # each tail's first arc
    d = np.zeros(n_nodes, np.int64)
    tails = all_tails = at[order]  # (every node active in the first sweep: all arcs)
    pos = slice(None)
    for _ in range(n_nodes + 1):
        new = d.copy()
        np.minimum.at(new, ah[pos], d[tails] + ac[pos])
        fell = np.flatnonzero(new < d)
        if not len(fell):
            return d
        d = new
        if 3 * len(fell) > n_nodes or len(ah) <= ALL_ARCS:  # most nodes, or few arcs: all
            pos, tails = slice(None), all_tails
            continue
        cnt = count[fell]  # the arcs leaving the nodes whose distance fell
        pos = np.arange(int(cnt.sum())) + np.repeat(first[fell] - np.cumsum(cnt) + cnt, cnt)
        tails = np.repeat(fell, cnt)
    raise RuntimeError("the second flow of the tie rule is not optimal (negative cycle)")


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
        flows run), ``unique`` (one optimum isolated).

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
    gain = integer_gain(score, mentee, mentor, pot, scale)  # minus each pair arc's reduced cost
    used = ((score > 0) | has) & (dem[mentee] > 0) & (cap[mentor] > 0)
    # a pair of positive reduced cost is in no optimum and on no cycle of zero reduced cost:
    # left out, the rule's arrays shrink to the optimal face (10,000 x 2,500 dense: 90,000
    # pairs to about 20,000, 24 ms to 4 ms) and its pick is the same
    if FACE_ONLY:
        used &= gain >= 0
    used |= chosen
    f = np.bincount(mentee[chosen], minlength=n)
    load = np.bincount(mentor[chosen], minlength=m)
    total = int(dem.sum())
    src, snk = n + m, n + m + 1
    n_nodes = n + m + 2
    # the arcs other than pairs: source -> mentee, mentor -> sink, the bypass
    h_tail = np.concatenate([np.full(n, src), n + np.arange(m), [src]])
    h_head = np.concatenate([np.arange(n), np.full(m, snk), [snk]])
    h_cap = np.concatenate([dem, cap, [total]]).astype(np.int64)
    h_flow = np.concatenate([f, load, [total - int(f.sum())]])
    h_cost = np.zeros(n + m + 1, np.int64)
    if has:  # the source arcs split: the first unit (weighted), then the rest
        cw = np.asarray(cover, np.int64)
        first = np.where(cw > 0, np.minimum(dem, 1), dem)
        h_cap[:n], h_flow[:n], h_cost[:n] = first, np.minimum(f, first), -cw
        h_tail = np.concatenate([h_tail, np.full(n, src)])
        h_head = np.concatenate([h_head, np.arange(n)])
        h_cap = np.concatenate([h_cap, dem - first]).astype(np.int64)
        h_flow = np.concatenate([h_flow, f - np.minimum(f, first)])
        h_cost = np.concatenate([h_cost, np.zeros(n, np.int64)])
    d = np.concatenate([pot[0], pot[1], [pot[2], pot[3]]]).astype(np.int64)
    h_keep = h_cap > 0
    h_tail, h_head, h_cap, h_flow, h_cost = (x[h_keep] for x in (h_tail, h_head, h_cap, h_flow, h_cost))
    h_rc = h_cost + d[h_tail] - d[h_head]
    # a pair arc (capacity 1) has reduced cost -gain: an unused pair must not have a negative
    # one, a chosen pair not a positive one
    if (np.any(h_rc[h_flow < h_cap] < 0) or np.any(h_rc[h_flow > 0] > 0)
            or np.any(gain[used & ~chosen] > 0) or np.any(gain[chosen] < 0)):
        raise ValueError("the potentials do not prove the assignment optimal over these pairs")
    # an optimum differs from this one along a cycle of zero reduced cost, which takes an
    # unchosen pair of reduced cost 0, or drops a chosen pair worth 0: without either the
    # optimum is unique, and no network is built (rare with shortest distances for
    # potentials: each node's way in from its tree parent is tight, so the components
    # decide, on float scores in one pass)
    if not (np.any(used & ~chosen & (gain == 0)) or np.any(np.round(score[chosen] * scale) == 0)):
        return chosen.copy(), {"movable_pairs": 0, "stages": 0, "unique": True}
    idx = np.flatnonzero(used)
    # arcs in the seeded order, by (mentee rank, mentor rank): one key, distinct per pair
    idx = idx[np.argsort(ri[mentee[idx]].astype(np.int64) * m + rj[mentor[idx]], kind="stable")]
    k = len(idx)
    tail = np.concatenate([mentee[idx], h_tail])
    head = np.concatenate([n + mentor[idx], h_head])
    cap_a = np.concatenate([np.ones(k, np.int64), h_cap])
    flow = np.concatenate([chosen[idx].astype(np.int64), h_flow])
    cost = np.concatenate([-np.round(score[idx] * scale).astype(np.int64), h_cost])
    is_pair = np.arange(len(tail)) < k
    rc = cost + d[tail] - d[head]
    move = _movable(tail, head, cap_a, flow, rc, n_nodes)
    info = {"movable_pairs": int((move & is_pair).sum()), "stages": 0, "unique": True}
    pos = np.flatnonzero(is_pair)  # pair arcs -> idx
    key_ri, key_rj = ri[mentee[idx]], rj[mentor[idx]]
    bits = key_bits(n_nodes, int(min(total, int(cap.sum()))))
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
        key[sp] = (pair_key(key_ri[sub[sp]], key_rj[sub[sp]], info["stages"])
                   >> np.uint64(64 - bits)).astype(np.int64)
        smcf = min_cost_flow.SimpleMinCostFlow()
        arcs = smcf.add_arcs_with_capacity_and_unit_cost(st, sh, cap_a[sub], key)
        smcf.set_nodes_supplies(np.arange(n_sub), supply)
        status = smcf.solve()
        if status != smcf.OPTIMAL:  # cannot happen: the given optimum is a feasible flow
            raise RuntimeError(f"the tie rule's second flow returned {status}")
        flow = flow.copy()
        flow[sub] = smcf.flows(arcs)
        # the second flow's own optimal face: what can still move at the same key sum
        dist = _distances(st, sh, cap_a[sub], flow[sub], key, n_sub)
        rc2 = key + dist[st] - dist[sh]
        move = np.zeros(len(tail), dtype=bool)
        move[sub] = _movable(st, sh, cap_a[sub], flow[sub], rc2, n_sub)
    out = chosen.copy()
    out[idx] = flow[pos] > 0
    return out, info
