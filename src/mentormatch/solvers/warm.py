"""A warm re-solve of the sparse flow after a round adds pairs: repair the last optimum instead of
solving from cold.

OR-Tools' min-cost flow cannot start from a given flow, so every round of the scale path solved
the whole sparse network again (about 4 s at 100,000 x 20,000), even when the check had found a
few dozen violating pairs among 30,000 added. But the last round left an optimal flow *and*
integer node potentials ``pi`` under which every residual arc has a reduced cost
``c(a, b) + pi(a) - pi(b) >= 0`` (:func:`mentormatch.solvers.duals.potentials`). An added pair
with a reduced cost ``>= 0`` changes nothing; only the violators (reduced cost ``< 0``) do.

The repair is the primal-dual method (successive shortest paths) started from that state:

1. put one unit on each violating pair ``i -> j``: mentor ``j`` now has an excess of one and
   mentee ``i`` a deficit of one, and every residual arc has a reduced cost ``>= 0`` again (the
   violator's reverse arc has ``-rc > 0``);
2. a phase runs Dijkstra from every node with an excess at once (``scipy.sparse.csgraph``, on
   the reduced costs), keeps for each root the nearest node with a deficit in its tree (the trees
   do not meet, so these paths share no arc), raises the potentials by ``min(dist, D)`` with
   ``D`` the farthest of those deficits (which keeps every reduced cost ``>= 0`` and makes every
   arc of the chosen paths tight), and sends one unit along each path;
3. until no excess is left. The flow is then feasible and every residual arc has a reduced cost
   ``>= 0``: it is optimal, and the potentials are a certificate of it, as a cold solve's are.

All arithmetic is on the integer costs (exact in float64 below ``2**53``). When the violators
are many, a cold solve is faster; :func:`repair` then returns None and the caller solves cold.

Where the compiled kernel is built (:func:`mentormatch._native.flow_kernel`), it replaces the
phases and, when the violators are few for the pairs, the cold solve: the same primal-dual
method in int64. It first takes the violators' units back and raises instead the potential of
each mentee with a violator by its largest violation (every arc out of it then has a reduced
cost ``>= 0``), giving back the pairs that no longer pay and filling its source arc where that
turned negative: the excess is then at most the demand of those mentees, not one unit a
violator. Then phases: a heap Dijkstra from every excess at once (the source's and sink's arcs
read best first) settles enough deficits, the settled nodes' potentials move, and a blocking
flow sends units along the arcs it made tight; once phases move little, one search a unit,
each stopping at the first deficit. The end state is checked arc by arc (feasible, every
residual arc's reduced cost ``>= 0``). It returns an optimal flow and potentials that prove it,
as the phases do (not necessarily the same optimum: the tie rule that follows makes the pairs
the same). ``MENTORMATCH_NATIVE=0`` keeps the phases.

**coverage_first** (``cover``, the weight per mentee: the type is stated in
:mod:`mentormatch.solvers.flow`). Each mentee's source arc is two parallel arcs, the first unit
at cost ``-cover[i]`` and the rest at cost 0. The state keeps one flow ``f_i`` per mentee and
reads it as the first unit filled before the rest (the cheaper split of the same ``f_i``; the
potentials of :func:`mentormatch.solvers.duals.potentials` read it so too). In the residual
network the two parallel arcs of a direction become one arc at the cheaper cost: source ->
mentee costs ``-cover[i]`` while ``f_i = 0`` (the first unit) and 0 after (the rest); mentee ->
source costs ``cover[i]`` when ``f_i = 1`` (undoing the first unit) and 0 when ``f_i >= 2``.
A shortest path takes the cheaper of two parallel arcs, so each push keeps that reading, and
every residual arc of both parallel pairs keeps a reduced cost ``>= 0`` (the dearer one is
the cheaper plus ``cover[i] >= 0``): the repaired flow is optimal for the split network and its
potentials prove it, exactly as without ``cover``. Weights reach about ``2**43``; with the
potentials they stay far below ``2**53`` (:func:`mentormatch.solvers.quantize.coverage_scale`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .._native import flow_kernel
from .flow import FlowResult, network
from .quantize import integer_costs
from .sparse import rank_in_group

#: Repair only when the violators are at most this many (else a cold solve is faster). The
#: phases grow about as 1.5-2 x the square root of the violators (100,000 x 20,000: 106
#: violators, 16-21 phases, 1.5-2.5 s against 3-4.5 s for OR-Tools and 0.5-1 s for its
#: potentials; the 20,000-mentee sub-market's last round: 2,192 violators, 76 phases, 6.7 s
#: against 2.6 s); each phase is one Dijkstra over the whole sparse network. Programme rounds
#: at 20,000 x 5,000 (about 310,000 pairs after the locks; CPU, s18h5) take more phases per
#: violator, about 3.5-4 x the square root, plain or coverage_first alike: 2 and 31 violators
#: (2 and 19 phases) gain 0.4-0.9 s, 89-177 violators (31-57 phases) lose 0.1-0.4 s against a
#: cold flow (OR-Tools 0.25-0.3 s plain, 0.4-0.6 s under coverage_first, its larger costs).
MAX_VIOLATORS = 300
#: Give up (and solve cold) after this many phases.
MAX_PHASES = 45
#: The compiled repair (:mod:`mentormatch._native.flow`, where built) takes the place of the
#: scipy phases and of a cold solve when the violators are at most this share of the pairs (or
#: at most :data:`NATIVE_FLOOR`). Measured on the rounds of ``pair()`` at 100,000 x 20,000 (CPU,
#: s24h1, load 11-15; OR-Tools cold + its prices): 24 violators in 1.4M pairs 0.36 s against
#: 4.0 s; 1,182 in 850,000 (the 20,000-mentee sub-market's last round) 0.81 s against 2.4 s;
#: 3,693 in 309,000 (the 4,000-row inner level's last) 0.24 s against 0.74 s; but 13,802 in
#: 1.38M 4.8 s against 4.0 s, 32,836 in 834,000 3.4 s against 1.9 s and 41,802 in 162,000 1.6 s
#: against 0.4 s. The repair's work follows the excess it has to move and the reach of its
#: searches, a cold solve's the pairs; the share keeps the first rows and leaves the others to
#: a cold solve, and :data:`MAX_SCANS` stops a repair that costs more than planned. The floor is
#: the count the kernel of s23h1 took at any size (one search a violator); this one is faster
#: at every count measured. With the later kernel (s29: the last units from both ends), the
#: sub-markets' rounds of ``pair()`` (CPU, s31h4, load 5-8; the repair forced past the share
#: against OR-Tools cold on the same pairs) put the break-even near 2 %: 3,822 violators in
#: 286,205 pairs (1.3 %, the last round of the 4,000-row inner level at 100,000 x 20,000) 0.18-0.25 s
#: against 0.40-0.46 s and its prices; 9,193 in 579,977 (1.6 %, the 8,000-row level's last at
#: 200,000 x 40,000) 1.29 s against 1.65 s; but 17,257 in 695,127 (2.5 %, the 20,000-row
#: level's round 2 at 100,000 x 20,000) gave up after 2.36 s (cold 1.65 s), and 11,414 in
#: 280,768 (4.1 %) after 1.2 s (cold 0.44 s). The top level's repairs (0.02-0.3 %) lie below
#: either share.
NATIVE_SHARE = 0.017
NATIVE_FLOOR = 600
#: The compiled repair gives up, and the flow is solved cold, past this many arc scans per arc
#: of the network, plus :data:`MIN_SCANS` (a few milliseconds: a small network's repair is cheap
#: however many times it scans it). A scan costs about 20-30 ns, a cold solve and its prices
#: about 2.5-3 us a pair (the measures above): 160 scans an arc are about one cold solve, the
#: rent-or-buy point (a repair given up has cost the scans and then the cold solve: giving up at
#: one cold solve's worth costs at most twice the better of the two; at half of it, as with 80,
#: up to 2.5 times). The repairs that win take 6-42; at 100,000 x 20,000 (s27, the coded bounds)
#: the outer sub-market's last round (1,808 violators in 850,641 pairs) gave up at 80 after
#: 1.18 s CPU and was solved cold (1.5 s more), where it finishes at 1.31 s.
MAX_SCANS = 160
MIN_SCANS = 1 << 20
#: The compiled repair's phases (:func:`mentormatch._native.flow.repair`): a search from every
#: excess at once settles deficits worth :data:`BATCH_SHARE` of the excess left, then a
#: blocking flow on the tight arcs; once a phase moves fewer than :data:`MIN_BATCH_PATHS`
#: units, one search a unit from there on (each stops at the first deficit, a local search).
#: Measured as above (1,182 and 3,693 violators): one search a unit throughout, 1.06 and 0.68 s;
#: phases until they move fewer than 300, 0.81 and 0.24 s.
BATCH_SHARE = 1.0
MIN_BATCH_PATHS = 300
#: Once at most this many units are left to move (from the start, or after phases), one search a
#: unit, each from both ends (forward from the excess, backward from every deficit:
#: :file:`_native/flow_meet.pxi`), and only the nodes the two settled change potential. A search
#: from the excess alone settles every node nearer than its deficit, and late in a repair that
#: is most of the network: on the 100,000 x 20,000 round-2 repair (321 violators, 1.38M pairs,
#: 307 units; s29h1, kernel CPU, load 10-12) the last 30 searches settled 50,000-118,000 of
#: 120,000 nodes each. Both ends (after one phase): 70.4M arc scans down to 29.5M, the kernel
#: 1.9-2.0 s down to 1.26-1.33 s; the outer sub-market's last round (31 violators, 701,000
#: pairs, 50 units: no phase) 4.35M to 1.32M, 0.12-0.14 s to 0.07. The backward search starts
#: from every deficit, so with many units left it can cost more than it saves: on three repairs
#: of 2,276-20,439 units (captured past :data:`NATIVE_SHARE`, so solved cold in ``pair()``),
#: from the excess alone 16.4M, 37.4M and 141.7M scans; both ends for every unit after the
#: phases 17.1M, 58.9M and 159.4M; for the last 1,000, 17.1M, 42.0M and 119.8M; for the last
#: 300, 14.1M, 34.9M and 111.6M (for the last 500: 15.6M, 36.9M, 120.8M, and the round-2 repair
#: 27.3M, all its 307 units from both ends).
MEET_UNITS = 300


class _State:
    """A pseudo-flow on the sparse network of :func:`mentormatch.solvers.flow.solve_arrays`:
    nodes are mentees ``0..n-1``, mentors ``n..n+m-1``, the source ``n+m`` and the sink
    ``n+m+1``."""

    def __init__(self, mentee, mentor, cost, used, chosen, dem, cap, pot, viol, cover=None):
        self.n, self.m = len(dem), len(cap)
        self.S, self.T = self.n + self.m, self.n + self.m + 1
        self.k = np.flatnonzero(used)  # the pair arcs in the network
        self.ti, self.tj, self.c = mentee[self.k], mentor[self.k], cost[self.k]
        self.code = self.ti * self.m + self.tj
        if np.any(self.code[1:] < self.code[:-1]):  # (the scale path's pairs come sorted)
            order = np.argsort(self.code, kind="stable")
            self.k, self.ti, self.tj, self.c, self.code = (a[order] for a in (self.k, self.ti, self.tj, self.c,
                                                                              self.code))
        self.x = chosen[self.k].copy()
        self.viol = np.flatnonzero(viol[self.k])  # (in the order above) the violating pairs
        self.dem, self.cap = dem, cap
        self.f = np.bincount(mentee[chosen], minlength=self.n).astype(np.int64)  # source -> mentee
        self.load = np.bincount(mentor[chosen], minlength=self.m).astype(np.int64)  # mentor -> sink
        self.total = int(dem.sum())
        self.byp = self.total - int(self.f.sum())  # source -> sink
        di, dj, ds, dt = pot
        self.pi = np.concatenate([di, dj, [ds, dt]]).astype(np.int64)
        self.excess = np.zeros(self.n + self.m + 2, np.int64)
        self.cover = None if cover is None else np.asarray(cover, np.int64)  # (module docstring)
        self._layout()

    def reduced(self) -> np.ndarray:
        """Reduced cost of each pair arc in its forward direction (mentee -> mentor)."""
        return self.c + self.pi[self.ti] - self.pi[self.n + self.tj]

    def _layout(self) -> None:
        """Every arc the residual network can have, both directions, as a CSR layout built once
        (an arc without residual room gets weight inf). A mentee's row holds its pairs (in the
        pairs' order, which is by mentee) and then its arc to the source; a mentor's row its
        pairs by mentee, then its arc to the sink; the source's row every mentee, then the sink;
        the sink's row every mentor, then the source."""
        n, m, S, T = self.n, self.m, self.S, self.T
        deg_i = np.bincount(self.ti, minlength=n)
        deg_j = np.bincount(self.tj, minlength=m)
        size = np.concatenate([deg_i + 1, deg_j + 1, [n + 1, m + 1]])
        self.ptr = np.concatenate([[0], np.cumsum(size)])
        # (a stable sort of 16-bit integers is a radix sort: 90,000 pairs, 1.3 ms against 10.6)
        by_j = np.argsort(self.tj.astype(np.uint16) if m <= 1 << 16 else self.tj, kind="stable")
        rank_j = np.empty(len(by_j), np.int64)
        rank_j[by_j] = rank_in_group(self.tj[by_j])
        ii, jj = np.arange(n), np.arange(m)
        one = np.ones(1, np.int64)
        # the arcs in the order of graph()'s weights
        self.where = np.concatenate([
            self.ptr[self.ti] + rank_in_group(self.ti),  # mentee -> mentor (the pairs are by mentee)
            self.ptr[n + self.tj] + rank_j,  # mentor -> mentee
            self.ptr[ii + 1] - 1, self.ptr[n + jj + 1] - 1,  # mentee -> source, mentor -> sink
            self.ptr[S] + ii, self.ptr[T] + jj,  # source -> mentee, sink -> mentor
            (self.ptr[T] - 1) * one, (self.ptr[T + 1] - 1) * one])  # source -> sink, sink -> source
        self.head = np.empty(self.ptr[-1], np.int64)
        self.head[self.where] = np.concatenate([n + self.tj, self.ti, S + 0 * ii, T + 0 * jj, ii, n + jj,
                                                T * one, S * one])
        self.w = np.empty(self.ptr[-1])
        # each part's positions (graph() writes the parts one by one, without joining them) and
        # the index arrays in the type scipy keeps (else converted again for every phase)
        ends = np.cumsum([len(self.ti), len(self.ti), n, m, n, m, 1, 1])
        self.parts = np.split(self.where, ends[:-1])
        small = self.ptr[-1] < np.iinfo(np.int32).max
        self.head_c = self.head.astype(np.int32) if small else self.head
        self.ptr_c = self.ptr.astype(np.int32) if small else self.ptr

    def graph(self) -> csr_matrix:
        """The residual network weighted by reduced costs (all >= 0; inf: no room). Under
        ``cover`` the source arcs cost what the module docstring says."""
        n, S, T, pi = self.n, self.S, self.T, self.pi
        rc = self.reduced()
        pi_i, pi_j = pi[:n], pi[n:S]
        inf = np.inf
        back, out = pi_i - pi[S], pi[S] - pi_i  # mentee -> source, source -> mentee
        if self.cover is not None:
            back = back + np.where(self.f == 1, self.cover, 0)
            out = out - np.where(self.f == 0, self.cover, 0)
        parts = [np.where(self.x, inf, rc), np.where(self.x, -rc, inf),
                 np.where(self.f > 0, back, inf), np.where(self.load < self.cap, pi_j - pi[T], inf),
                 np.where(self.f < self.dem, out, inf), np.where(self.load > 0, pi[T] - pi_j, inf),
                 [pi[S] - pi[T] if self.byp < self.total else inf], [pi[T] - pi[S] if self.byp > 0 else inf]]
        for at, part in zip(self.parts, parts):
            self.w[at] = part
        return csr_matrix((self.w, self.head_c, self.ptr_c), shape=(T + 1, T + 1))

    def push(self, a: np.ndarray, b: np.ndarray) -> None:
        """Send one unit along each residual arc ``a -> b`` (the arcs are distinct)."""
        n, m, S, T = self.n, self.m, self.S, self.T
        a_i, b_i = a < n, b < n
        a_j, b_j = (a >= n) & (a < S), (b >= n) & (b < S)
        for sel, i, j, val in ((a_i & b_j, a, b, True), (a_j & b_i, b, a, False)):
            self.x[np.searchsorted(self.code, i[sel] * m + (j[sel] - n))] = val
        np.add.at(self.f, b[(a == S) & b_i], 1)
        np.add.at(self.f, a[a_i & (b == S)], -1)
        np.add.at(self.load, a[a_j & (b == T)] - n, 1)
        np.add.at(self.load, b[(a == T) & b_j] - n, -1)
        self.byp += int(((a == S) & (b == T)).sum()) - int(((a == T) & (b == S)).sum())


@dataclass
class Repair:
    """What :func:`repair` returns: the new optimum and how it was reached."""

    chosen: np.ndarray  # bool per pair
    pot: tuple  # integer potentials (per mentee, per mentor, source, sink), a certificate
    violators: int  # pairs whose reduced cost was < 0 under the old potentials
    phases: int  # Dijkstra phases (the compiled repair: its searches, from every excess or one)


def repair(mentee, mentor, cost, used, chosen, dem, cap, pot, cover: np.ndarray | None = None) -> Repair | None:
    """The optimal flow on the pairs ``used``, from the optimum ``chosen`` of a subset of them
    and its potentials ``pot`` = ``(d_mentee, d_mentor, d_source, d_sink)`` (see
    :func:`mentormatch.solvers.duals.potentials`); None when a cold solve is the better way
    (more than :data:`MAX_VIOLATORS` violators, more than :data:`MAX_PHASES` phases; with the
    compiled kernel, violators above :data:`NATIVE_SHARE` of the pairs or more than
    :data:`MAX_SCANS` arc scans) or when ``pot`` does not prove ``chosen`` optimal on the old pairs.

    ``cost`` is the integer cost of every pair at the scale of ``pot``; the pairs outside the
    old subset must have ``chosen`` False. ``cover``: ``coverage_first``'s weight per mentee or
    None (module docstring), the same as the one ``chosen`` and ``pot`` were found with.
    """
    viol = used & ~chosen & (cost + pot[0][mentee] < pot[1][mentor])  # reduced cost < 0
    count = int(np.count_nonzero(viol))
    kernel = flow_kernel()
    if kernel is not None:  # (where built, it beats the scipy phases at any count)
        if count > max(NATIVE_SHARE * np.count_nonzero(used), NATIVE_FLOOR):
            return None
        return _compiled(kernel, mentee, mentor, cost, used, chosen, dem, cap, pot, viol, cover)
    if count > MAX_VIOLATORS:
        return None
    st = _State(mentee, mentor, cost, used, chosen, dem, cap, pot, viol, cover)
    viol = st.viol
    st.x[viol] = True
    np.add.at(st.excess, st.n + st.tj[viol], 1)
    np.add.at(st.excess, st.ti[viol], -1)
    phases = 0
    while (st.excess > 0).any():
        phases += 1
        graph = st.graph()
        if phases > MAX_PHASES or graph.data.min() < 0:  # a negative arc: pot was no proof
            return None
        roots = np.flatnonzero(st.excess > 0)
        dist, pred, src = dijkstra(graph, directed=True, indices=roots, min_only=True,
                                   return_predecessors=True)
        short = np.flatnonzero((st.excess < 0) & np.isfinite(dist))
        if not len(short):  # cannot happen from a feasible flow; solve cold rather than fail
            return None
        # for each root, the nearest deficit in its tree (ties to the lower node): the trees do
        # not meet, so these paths share no node
        short = short[np.lexsort((short, dist[short], src[short]))]
        first = np.ones(len(short), bool)
        first[1:] = src[short][1:] != src[short][:-1]
        ends = short[first]
        st.pi += np.minimum(dist, dist[ends].max()).astype(np.int64)
        cur, tails, heads = ends, [], []
        while len(cur):  # walk the paths back to their roots, one step for all at once
            prev = pred[cur]
            tails.append(prev)
            heads.append(cur)
            cur = prev[st.excess[prev] <= 0]  # a path ends at its root, the only node with excess
        st.push(np.concatenate(tails), np.concatenate(heads))
        np.add.at(st.excess, src[ends], -1)
        np.add.at(st.excess, ends, 1)
    out = chosen.copy()
    out[st.k] = st.x
    pi = st.pi
    return Repair(out, (pi[:st.n], pi[st.n:st.S], int(pi[st.S]), int(pi[st.T])), len(viol), phases)


def _compiled(kernel, mentee, mentor, cost, used, chosen, dem, cap, pot, viol, cover) -> Repair | None:
    """:func:`repair` by the compiled kernel (:mod:`mentormatch._native.flow`): each mentee with
    a violator gives back the pairs its raised potential no longer pays for, then the excess
    moves in phases of shortest paths (:data:`BATCH_SHARE`, :data:`MIN_BATCH_PATHS`), so the work
    follows the excess and the searches' reach, not the violators times the network (the last
    :data:`MEET_UNITS` units by searches from both ends); None (solve cold) past
    :data:`MAX_SCANS` arc scans a network arc (and :data:`MIN_SCANS`), or when ``pot`` proves
    nothing. The pairs go in by (mentee, mentor), whatever their order here, so the
    same pairs give the same optimum."""
    k = np.flatnonzero(used)
    n, m = len(dem), len(cap)
    code = mentee[k].astype(np.int64) * m + mentor[k]
    if np.any(code[1:] < code[:-1]):  # (the scale path's pairs come sorted)
        k = k[np.argsort(code, kind="stable")]
    x = chosen[k].astype(np.uint8)
    pi = np.concatenate([pot[0], pot[1], [pot[2], pot[3]]]).astype(np.int64)
    arr = lambda a: np.ascontiguousarray(a, np.int64)  # noqa: E731
    limit = MAX_SCANS * (len(k) + n + m + 2) + MIN_SCANS
    status, paths, _scans, phases = kernel.repair(arr(mentee[k]), arr(mentor[k]), arr(cost[k]), x, arr(dem), arr(cap),
                                                  pi, None if cover is None else arr(cover), np.flatnonzero(viol[k]),
                                                  limit, BATCH_SHARE, MIN_BATCH_PATHS, MEET_UNITS)
    if status != kernel.OPTIMAL:
        return None
    out = chosen.copy()
    out[k] = x.astype(bool)
    return Repair(out, (pi[:n], pi[n:n + m], int(pi[n + m]), int(pi[n + m + 1])), int(np.count_nonzero(viol)), phases)


def resolve(mentee, mentor, score, cap, dem, chosen, pot, scale: float,
            cover: np.ndarray | None = None) -> tuple[FlowResult, Repair] | None:
    """What :func:`mentormatch.solvers.flow.solve_arrays` returns for these pairs (with
    ``cover``, the weight per mentee or None), reached by :func:`repair` from the optimum
    ``chosen`` of a subset of them and its integer potentials ``pot`` at ``scale``, found with
    the same ``cover``; None when the repair does not apply (the costs' scale has changed, or a
    cold solve is the better way)."""
    used, new_scale, n_max = network(mentee, mentor, score, cap, dem, cover)
    if new_scale != scale:
        return None
    cost = integer_costs(score, used, scale)
    rep = repair(mentee, mentor, cost, used, chosen, dem, cap, pot, cover)
    if rep is None:
        return None
    weights = None if cover is None else np.asarray(cover, np.int64)
    return FlowResult(rep.chosen, True, "OPTIMAL", scale, cost, used, n_max, weights), rep
