"""The lexicographic certificate of the flow leximin (:mod:`mentormatch.solvers.leximin`), and
the test of any pair against it: what lets leximin be proven over every pair of a source
without holding them (:mod:`mentormatch.solvers.leximin_source`).

Leximin is a min-cost flow whose cost is a vector, one coordinate per level (the count of
chosen pairs at that level), compared lexicographically. Its optimality, like any min-cost
flow's, is proven by node potentials with every residual arc of non-negative reduced cost;
here potentials and reduced costs are vectors, one coordinate per step of the flow leximin.
The steps that settle levels are of three kinds:

* **zero steps** (levels that the current flow does not use, or avoids by a path search, so
  their minimum is 0): potentials 0, cost 1 on the closed levels. A pair of such a level
  has reduced cost 1 there: it leaves the network.
* **forced steps** (a level with one pair ``a = (i, j)``, which no residual path avoids):
  potentials ``d = 0`` on the nodes that ``i`` reaches in the residual network without the
  level's pairs, 1 elsewhere; cost 1 on the level. Every residual arc has ``c + d_tail -
  d_head >= 0``. For the step to hold over more pairs than the flow saw, a pair outside must
  have a positive reduced cost if it is of the level (else it could replace ``a``) and a
  non-negative one otherwise (else it opens a path round ``a``).
* **window steps** (a min-cost flow minimising a window of levels at once, mixed-radix
  weights): the Bellman-Ford potentials of its residual network; arcs of positive reduced
  cost leave, arcs of negative reduced cost are fixed. A pair outside needs a non-negative
  reduced cost; a level of the window's range that the flow did not see has no weight, so a
  pair of it counts as a violator (it joins the flow's pairs and the next run weighs it).

A pair outside the flow's pairs is judged by its *first* step of non-zero reduced cost: positive,
it is in no leximin-optimal assignment; negative, it is a **violator** (the flow is not yet
optimal over every pair); if every step gives 0 it is **tight** (in some leximin-optimal
assignment: the tie rule must see it).

Only forced and window steps have non-zero potentials: they are the certificate's
**coordinates** ``q = 0, 1, ...``. A level is closed either by a zero step (between two
coordinates) or by a coordinate. The first coordinate where the potentials of a pair's mentee
and mentor differ is found for any pair in O(1): the nodes are sorted lexicographically by
their potential vectors, and the first difference of two nodes is the least first difference
of neighbours between them (a range minimum, :class:`Lex`). Its sign is the order of the two
nodes. So every pair of a block of mentee rows is judged by a few numpy operations, whatever
the number of steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TOP = np.iinfo(np.int64).max


class LexSteps:
    """The steps of one run of the flow leximin on ``n`` mentees and ``m`` mentors (node
    ``v < n`` a mentee, ``n + j`` mentor ``j``), recorded as the run settles levels."""

    def __init__(self, n: int, m: int, t_low: int):
        self.n, self.m = n, m
        self.hi: list[int] = [int(t_low) - 1]  # segments of levels (hi[k-1], hi[k]]
        self.pos: list[float] = [-0.5]  # closed by a zero step before coordinate ceil(pos), or by pos
        self.rows: list[tuple] = []  # ("F", packed d) or ("W", d, levels, weights)

    def zero(self, hi: int) -> None:
        """Levels up to ``hi`` (not yet closed) closed by a zero step."""
        if hi > self.hi[-1]:
            self.hi.append(int(hi))
            self.pos.append(len(self.rows) - 0.5)

    def forced(self, r: int, reached: np.ndarray) -> None:
        """Level ``r`` closed by a forced step; ``reached``: the nodes the forced pair's mentee
        reaches without the level (bool over at least ``n + m`` nodes)."""
        self.zero(r - 1)
        self.rows.append(("F", np.packbits(~reached[:self.n + self.m])))
        self.hi.append(int(r))
        self.pos.append(float(len(self.rows) - 1))

    def window(self, r: int, top: int, levels: np.ndarray, weights: np.ndarray, d: np.ndarray) -> None:
        """Levels ``r..top`` closed by a window step with these weights on ``levels`` and
        potentials ``d``."""
        self.zero(r - 1)
        d = np.asarray(d[:self.n + self.m], np.int64)
        small = len(d) == 0 or (d.min() > -2 ** 31 and d.max() < 2 ** 31)  # (one level: small)
        self.rows.append(("W", d.astype(np.int32) if small else d, np.asarray(levels, np.int64),
                          np.asarray(weights, np.int64)))
        self.hi.append(int(top))
        self.pos.append(float(len(self.rows) - 1))

    def finish(self) -> "Lex":
        """Close every level left (a zero step) and build the test of pairs."""
        self.zero(_TOP)
        return Lex(self)


class Lex:
    """The certificate of a :class:`LexSteps`, ready to judge pairs (mentee ``i``, mentor
    ``j``, integer level ``lv``) that the run did not hold."""

    def __init__(self, steps: LexSteps):
        self.n, self.m = steps.n, steps.m
        self.rows = steps.rows
        self.K = len(steps.rows)
        self.hi = np.array(steps.hi, np.int64)
        self.seg_pos = np.array(steps.pos, np.float64)
        N = self.n + self.m
        order = np.arange(N)
        for q in range(self.K - 1, -1, -1):  # least significant coordinate first (stable sorts)
            order = order[np.argsort(self.value(q, order), kind="stable")]
        first = np.full(max(N - 1, 0), self.K, np.int64)  # neighbours' first difference
        open_ = np.ones(max(N - 1, 0), bool)
        for q in range(self.K):
            if not open_.any():
                break
            v = self.value(q, order)
            new = open_ & (v[1:] != v[:-1])
            first[new] = q
            open_ &= ~new
        self.rank = np.empty(N, np.int64)
        self.rank[order] = np.arange(N)
        table = [first]  # sparse table of minima over 2**k neighbours
        while (1 << len(table)) <= len(first):
            prev, h = table[-1], 1 << (len(table) - 1)
            table.append(np.minimum(prev[:-h], prev[h:]))
        # as one array (row k padded at its end, never read there): one lookup for all pairs
        self.table = np.full((len(table), len(first)), self.K, np.int64)
        for k, row in enumerate(table):
            self.table[k, :len(row)] = row
        w = [k for k, r in enumerate(self.rows) if r[0] == "W"]
        self.windows = w
        self.first_window_level = (int(self.hi[np.searchsorted(self.seg_pos, w[0]) - 1]) + 1
                                   if w else _TOP)

    def value(self, q: int, nodes: np.ndarray) -> np.ndarray:
        """Coordinate ``q`` of the potentials of ``nodes``."""
        row = self.rows[q]
        if row[0] == "F":
            return ((row[1][nodes >> 3] >> (7 - (nodes & 7))) & 1).astype(np.int64)
        return row[1][nodes].astype(np.int64)

    def first_difference(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The first coordinate where nodes ``a`` and ``b`` differ (``K``: none)."""
        ra, rb = self.rank[a], self.rank[b]
        lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
        out = np.full(len(a), self.K, np.int64)
        d = hi > lo
        if d.any():
            lo, hi = lo[d], hi[d]
            k = np.floor(np.log2(hi - lo)).astype(np.int64)
            out[d] = np.minimum(self.table[k, lo], self.table[k, hi - np.left_shift(1, k)])
        return out

    def position(self, lv: np.ndarray) -> np.ndarray:
        """Where each level is closed: coordinate ``q`` (a whole number) or a zero step before
        coordinate ``ceil(pos)``."""
        return self.seg_pos[np.searchsorted(self.hi, lv, side="left")]

    def judge(self, i: np.ndarray, j: np.ndarray, lv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(violators, tight) among pairs (``i``, ``j``, level ``lv``) outside the run's pairs,
        each of level at least the run's max-min level."""
        a, b = i.astype(np.int64), self.n + j.astype(np.int64)
        sep = self.first_difference(a, b)
        neg = self.rank[a] < self.rank[b]  # at ``sep``, d(mentee) < d(mentor): reduced cost < 0
        p = self.position(lv)
        viol = (sep < p) & neg
        tight = np.zeros(len(i), bool)
        at = np.flatnonzero(sep.astype(np.float64) >= p)
        if not len(at):
            return viol, tight
        q = p[at]
        whole = q == np.floor(q)
        # the pairs closed by each coordinate k, grouped by one sort (not a mask over all of
        # them for each of the K coordinates)
        qk = q[whole].astype(np.int64)
        order = np.argsort(qk, kind="stable")
        by_k, qk = at[whole][order], qk[order]
        cut = np.flatnonzero(qk[1:] != qk[:-1]) + 1
        firsts = qk[np.concatenate([[0], cut])] if len(qk) else qk
        for sel, k in zip(np.split(by_k, cut), firsts.tolist()):
            row = self.rows[k]
            if row[0] == "F":  # 1 + d_i - d_j: positive unless d_i < d_j
                viol[sel] = (sep[sel] == k) & neg[sel]
                continue
            levels, weights = row[2], row[3]
            w_at = np.searchsorted(levels, lv[sel])
            known = (w_at < len(levels)) & (levels[np.minimum(w_at, len(levels) - 1)] == lv[sel])
            viol[sel[~known]] = True  # a level the window did not weigh
            sel = sel[known]
            rc = weights[w_at[known]] + self.value(k, a[sel]) - self.value(k, b[sel])
            viol[sel[rc < 0]] = True
            zero = sel[rc == 0]
            if len(zero):  # tight so far: the later coordinates decide (cost 0 there)
                v2, t2 = self._after(k, a[zero], b[zero])
                viol[zero], tight[zero] = v2, t2
        return viol, tight

    def _after(self, k: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs tight up to coordinate ``k``: the sign of their first later difference."""
        viol = np.zeros(len(a), bool)
        undecided = np.ones(len(a), bool)
        for q in range(k + 1, self.K):
            if not undecided.any():
                break
            diff = self.value(q, a) - self.value(q, b)
            viol |= undecided & (diff < 0)
            undecided &= diff == 0
        return viol, undecided

    def needs_score(self, i: np.ndarray, j: np.ndarray, top: np.ndarray) -> np.ndarray:
        """Whether a pair whose level is at most ``top`` may be a violator or tight, so that its
        exact score is needed (False: cleared whatever its level up to ``top``)."""
        a, b = i.astype(np.int64), self.n + j.astype(np.int64)
        sep = self.first_difference(a, b)
        neg = self.rank[a] < self.rank[b]
        reach = self.position(top) >= sep  # some level <= top is closed at or after ``sep``
        return (neg & reach) | (top >= self.first_window_level)


class _Final:
    """The network the flow leximin ends with (pair arcs ``n .. n + npair``): forced pairs in the
    node supplies, free pairs alive, and the source's and sink's arcs alive, fixed at their
    capacity, or dropped. Its flows are the leximin-optimal assignments.

    Under ``coverage_first`` (``lock_cov``: the mentees a lock matched; the network's source
    is two nodes, ``F`` with a unit arc per mentee no lock matched and ``R`` with arcs for the
    other places, after the mentors' arcs) every flow matches the same, largest, number of
    mentees, and a mentee given an ``R`` unit has its ``F`` unit too (else one more would be
    matched). The tie rule's network then counts mentees (``cover``): a mentee whose ``F`` arc
    is fixed weighs ``Wq``, one whose ``F`` arc is free ``Wq / 2`` (so the optima match every
    fixed one and as many in all as the flows do), one already matched by a lock or a forced
    pair 0, and one whose ``F`` arc was dropped has no place (it is matched in no flow)."""

    def __init__(self, n, m, mentee, mentor, alive, forced, x, ucap, is_pair, npair, lock_cov=None):
        self.n, self.m, self.mentee, self.mentor = n, m, mentee, mentor
        self.forced_pairs = np.flatnonzero(forced[n:n + npair])
        self.free = np.flatnonzero(alive[n:n + npair] & ~forced[n:n + npair])
        self.was = x[n:n + npair][self.free] > 0
        fp_i = np.bincount(mentee[self.forced_pairs], minlength=n)
        fp_j = np.bincount(mentor[self.forced_pairs], minlength=m)
        src, snk = np.arange(n), n + npair + np.arange(m)
        self.cap = np.where(alive[snk] | forced[snk], np.maximum(ucap[snk] - fp_j, 0), 0)
        self.fix_j = forced[snk].astype(float)
        self._must = self._may = None  # coverage_first's mentees to match, and may match
        if lock_cov is None:
            self.dem = np.where(alive[src] | forced[src], np.maximum(ucap[src] - fp_i, 0), 0)
            self.fix_i = forced[src].astype(float)
            return
        rest = n + npair + m + np.arange(n)  # the R arcs
        places = (np.where(alive[src] | forced[src], ucap[src], 0)
                  + np.where(alive[rest] | forced[rest], ucap[rest], 0))
        matched = np.asarray(lock_cov, bool) | (fp_i > 0)  # in every flow, whatever is picked
        # F dropped, not matched otherwise: matched in no flow, so no R unit either
        gone = ~matched & ~alive[src] & ~forced[src]
        self.dem = np.where(gone, 0, np.maximum(places - fp_i, 0))
        # the mentee's places all filled in every flow: R fixed (then F is used too), or F fixed
        # and no R arc left free
        self.fix_i = (forced[rest] | (forced[src] & ~alive[rest])).astype(float)
        self._must = ~matched & (forced[src] | forced[rest])
        self._may = ~matched & ~self._must & alive[src]

    def pick(self, extra_i: np.ndarray, extra_j: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, dict]:
        """The tie rule (:func:`mentormatch.solvers.ties.canonical`) on the final network with
        the free pairs and the ``extra`` pairs (tight pairs from outside: alive in the network
        over every pair). Each pair scores ``1 + [mentee's arc fixed] + [mentor's arc fixed]``,
        so that the optima are exactly the flows that fill the fixed arcs with the most pairs:
        the network's flows. Returns the chosen network pairs (forced and picked, ascending),
        the mask of the extras picked, and the tie rule's record."""
        picked, info = self._pick(extra_i, extra_j)
        nf = len(self.free)
        return np.sort(np.concatenate([self.forced_pairs, self.free[picked[:nf]]])), picked[nf:], info

    def _pick(self, extra_i: np.ndarray, extra_j: np.ndarray) -> tuple[np.ndarray, dict]:
        from .duals import prices
        from .flow import network
        from .quantize import coverage_weights, integer_costs
        from .ties import canonical

        i = np.concatenate([self.mentee[self.free], np.asarray(extra_i, np.int64)])
        j = np.concatenate([self.mentor[self.free], np.asarray(extra_j, np.int64)])
        was = np.concatenate([self.was, np.zeros(len(extra_i), bool)])
        if not len(i):
            return was, {"movable_pairs": 0, "stages": 0, "unique": True}
        s = 1.0 + self.fix_i[i] + self.fix_j[j]
        cover = None
        if self._must is not None:
            wq = int(coverage_weights(self.cap, self.dem).max(initial=0))
            cover = np.where(self._must, wq, np.where(self._may, wq // 2, 0)).astype(np.int64)
        used, scale, _ = network(i, j, s, self.cap, self.dem, cover)
        net = np.flatnonzero(used)
        assert not np.any(was[~used]), "a chosen pair outside the final network"
        cost = integer_costs(s[net], np.ones(len(net), bool), scale)
        pot = prices(i[net], j[net], cost, was[net], s[net], self.dem, self.cap, scale, cover=cover)[4]
        picked, info = canonical(i[net], j[net], s[net], was[net], self.cap, self.dem, pot, scale,
                                 cover=cover)
        out = np.zeros(len(i), bool)
        out[net[picked]] = True
        return out, info


@dataclass
class LexRun:
    """What a recorded run of the flow leximin leaves (``_flow_leximin(record=True)``): its
    steps (None when stopped by the time limit), its final network, the most pairs, the
    max-min level, the levels' scale and the problem's position of each network pair."""

    steps: LexSteps | None
    final: _Final
    total: int
    t_low: int
    scale: int
    pos: np.ndarray
