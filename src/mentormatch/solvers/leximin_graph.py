"""The residual-network tools of the flow leximin (:mod:`mentormatch.solvers.leximin`): optimal
potentials by Bellman-Ford (or a negative cycle to cancel), and breadth-first path searches for
one unit of flow, on arcs indexed once per network; and the max-flow of its network that counts
mentees (``coverage_first``)."""
from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

from ..pairs import run_positions


def cover_max_flow(mentee: np.ndarray, mentor: np.ndarray, first: np.ndarray, rest: np.ndarray,
                   cap: np.ndarray, covered: int, more: int):
    """The max-flow of the network counting mentees (:mod:`mentormatch.solvers.leximin`,
    "coverage_first"): a node ``F`` of supply ``covered`` joined to each mentee by an arc of
    capacity ``first[i]`` (0 or 1: its first mentor), a node ``R`` of supply ``more`` joined by
    arcs of capacity ``rest[i]`` (its other places), one unit per pair, mentor ``j`` to the sink
    at ``cap[j]``. Its value is ``covered + more`` exactly when some assignment of these pairs
    gives ``covered`` mentees of ``first`` their first mentor and holds ``covered + more``
    pairs. Returns (value, flow per pair, flow per ``F`` arc, flow per ``R`` arc).

    >>> v, x, f, r = cover_max_flow(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1, 1]),
    ...                             np.array([1, 0]), np.array([1, 1]), 2, 0)
    >>> v, x.tolist(), f.tolist(), r.tolist()  # A-Y and B-X: both mentees matched
    (2, [0, 1, 1], [1, 1], [0, 0])
    """
    n, m, k = len(first), len(cap), len(mentee)
    src, snk, f_node, r_node = n + m, n + m + 1, n + m + 2, n + m + 3
    tails = np.concatenate([[src, src], np.full(n, f_node), np.full(n, r_node),
                            np.asarray(mentee), n + np.arange(m)]).astype(np.int32)
    heads = np.concatenate([[f_node, r_node], np.arange(n), np.arange(n),
                            n + np.asarray(mentor), np.full(m, snk)]).astype(np.int32)
    caps = np.concatenate([[max(covered, 0), max(more, 0)], np.maximum(first, 0),
                           np.maximum(rest, 0), np.ones(k, np.int64),
                           np.maximum(cap, 0)]).astype(np.int64)
    smf = max_flow.SimpleMaxFlow()
    smf.add_arcs_with_capacity(tails, heads, caps)
    status = smf.solve(src, snk)
    if status != smf.OPTIMAL:  # pragma: no cover - only on malformed input
        raise RuntimeError(f"max-flow failed with status {status}")
    flows = np.asarray(smf.flows(np.arange(len(tails), dtype=np.int32)), np.int64)
    return (int(smf.optimal_flow()), flows[2 + 2 * n:2 + 2 * n + k], flows[2:2 + n],
            flows[2 + n:2 + 2 * n])


def _gather(order: np.ndarray, starts: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The arcs ``order[starts[v]:starts[v + 1]]`` of every node ``v`` in ``nodes``, joined."""
    return order[run_positions(starts[nodes], starts[nodes + 1] - starts[nodes])]


class _Residual:
    """The residual network of a flow on fixed arcs (tail, head): breadth-first path searches
    and Bellman-Ford potentials; the arcs in and out of each node are indexed once."""

    def __init__(self, tail: np.ndarray, head: np.ndarray, n_nodes: int):
        self.tail, self.head, self.n_nodes = tail, head, n_nodes
        self.out = np.argsort(tail, kind="stable")
        self.out_at = np.searchsorted(tail[self.out], np.arange(n_nodes + 1))
        self.into = np.argsort(head, kind="stable")
        self.into_at = np.searchsorted(head[self.into], np.arange(n_nodes + 1))
        self.degree = np.diff(self.out_at) + np.diff(self.into_at)

    def path(self, x: np.ndarray, ucap: np.ndarray, alive: np.ndarray, start: int, goal: int):
        """A path ``start -> goal`` with room for one more unit of flow on the ``alive`` arcs
        (forward where ``x < ucap``, backward where ``x > 0``): ``(forward arcs, backward
        arcs)``, or None when there is none. Breadth-first from both ends, the side with the
        fewer arcs to scan first (a mentee's way round a pair is often short from the mentor's
        end and wide from the mentee's). When there is none, ``reached`` holds the nodes that
        ``start`` reaches, or all but those that reach ``goal`` (whichever search ended
        first): either is a forced step's potentials (0 there, 1 elsewhere)."""
        tail, head = self.tail, self.head
        seen = [np.zeros(self.n_nodes, dtype=bool), np.zeros(self.n_nodes, dtype=bool)]
        via = [np.full(self.n_nodes, -1, dtype=np.int64), np.full(self.n_nodes, -1, dtype=np.int64)]
        ahead = [np.zeros(self.n_nodes, dtype=bool), np.zeros(self.n_nodes, dtype=bool)]
        seen[0][start] = seen[1][goal] = True
        front = [np.array([start], dtype=np.int64), np.array([goal], dtype=np.int64)]
        meet = -1
        while len(front[0]) and len(front[1]):
            side = int(self.degree[front[1]].sum() < self.degree[front[0]].sum())
            f = front[side]
            # side 0 follows residual arcs out of the frontier, side 1 into it: an arc with
            # room forward (x < ucap) leads tail -> head, one with flow (x > 0) head -> tail
            out, into = (self.out, self.out_at), (self.into, self.into_at)
            ahead_of, behind_of = (out, into) if side == 0 else (into, out)
            fa = _gather(*ahead_of, f)
            fa = fa[alive[fa] & (x[fa] < ucap[fa])]
            ba = _gather(*behind_of, f)
            ba = ba[alive[ba] & (x[ba] > 0)]
            nodes = (np.concatenate([head[fa], tail[ba]]) if side == 0
                     else np.concatenate([tail[fa], head[ba]]))
            arcs = np.concatenate([fa, ba])
            new = ~seen[side][nodes]
            nodes, first = np.unique(nodes[new], return_index=True)
            arcs = arcs[new][first]
            seen[side][nodes] = True
            via[side][nodes] = arcs
            ahead[side][nodes] = first < np.count_nonzero(new[:len(fa)])
            front[side] = nodes
            hit = nodes[seen[1 - side][nodes]]
            if len(hit):
                meet = int(hit[0])
                break
        if meet < 0:
            # the nodes start reaches, or all but those that reach goal: a closed set
            self.reached = seen[0] if not len(front[0]) else ~seen[1]
            return None
        fw, bw = [], []
        node = meet
        while node != start:  # back to start on the arcs that reached each node
            a = int(via[0][node])
            if ahead[0][node]:
                fw.append(a)
                node = int(tail[a])
            else:
                bw.append(a)
                node = int(head[a])
        node = meet
        while node != goal:  # on to goal on the arcs that each node reaches it by
            a = int(via[1][node])
            if ahead[1][node]:
                fw.append(a)
                node = int(head[a])
            else:
                bw.append(a)
                node = int(tail[a])
        return np.array(fw, dtype=np.int64), np.array(bw, dtype=np.int64)

    def arcs_at(self, nodes: np.ndarray) -> np.ndarray:
        """The arcs into or out of ``nodes`` (an arc between two of them twice)."""
        return np.concatenate([_gather(self.out, self.out_at, nodes),
                               _gather(self.into, self.into_at, nodes)])

    def potentials(self, x: np.ndarray, ucap: np.ndarray, alive: np.ndarray, cost: np.ndarray,
                   floor: int | None = None, costly: np.ndarray | None = None):
        """Shortest-path distances (int64) in the residual network of ``x`` on the ``alive``
        arcs (forward where ``x < ucap`` at ``cost``, backward where ``x > 0`` at ``-cost``;
        ``costly``: the arcs of non-zero cost, if known)
        from a virtual root joined to every node by a 0-cost arc: optimal dual potentials of a
        min-cost flow when no cycle is negative. Bellman-Ford, each round vectorised over the
        arcs of the nodes that improved in the round before. ``floor``: no simple path costs
        less, so a distance below it (or distances still falling after a round per node)
        proves a negative cycle. Returns ``(d, None)``, or ``(None, (forward arcs, backward
        arcs))``: a negative cycle, found on the predecessors of such a node."""
        tail, head = self.tail, self.head
        n_nodes = self.n_nodes
        d = np.zeros(n_nodes, dtype=np.int64)
        pred = np.full(n_nodes, -1, dtype=np.int64)  # the arc that last lowered a node
        ahead = np.zeros(n_nodes, dtype=bool)  # ... forward (else backward)

        def relax(fa, ba):
            nodes = np.concatenate([head[fa], tail[ba]])
            cand = np.concatenate([d[tail[fa]] + cost[fa], d[head[ba]] - cost[ba]])
            better = np.flatnonzero(cand < d[nodes])
            if not len(better):
                return better
            order = better[np.lexsort((cand[better], nodes[better]))]
            first = np.ones(len(order), bool)
            first[1:] = nodes[order[1:]] != nodes[order[:-1]]
            order = order[first]  # each node's least candidate
            nodes = nodes[order]
            d[nodes] = cand[order]
            pred[nodes] = np.concatenate([fa, ba])[order]
            ahead[nodes] = order < len(fa)
            return nodes

        # from d = 0, only arcs of non-zero cost can lower a node
        arcs = np.flatnonzero(cost) if costly is None else costly
        arcs = arcs[alive[arcs]]
        changed = relax(arcs[x[arcs] < ucap[arcs]], arcs[x[arcs] > 0])
        for _ in range(n_nodes + 1):
            if not len(changed):
                return d, None
            if floor is not None and d[changed].min() < floor:
                return None, self._cycle(int(changed[np.argmin(d[changed])]), pred, ahead)
            fa = _gather(self.out, self.out_at, changed)
            fa = fa[alive[fa] & (x[fa] < ucap[fa])]
            ba = _gather(self.into, self.into_at, changed)
            ba = ba[alive[ba] & (x[ba] > 0)]
            changed = relax(fa, ba)
        if floor is not None:  # still improving after every round a simple path needs
            return None, self._cycle(int(changed[0]), pred, ahead)
        raise RuntimeError("negative cycle in a residual network")  # pragma: no cover

    def _cycle(self, node: int, pred: np.ndarray, ahead: np.ndarray):
        """The cycle on the predecessors of ``node`` (Bellman-Ford's: negative), as
        ``(forward arcs, backward arcs)``."""
        at: dict[int, int] = {}
        walk = []
        while node not in at:
            a = int(pred[node])
            if a < 0:  # pragma: no cover - a node below the floor has a cycle behind it
                raise RuntimeError("no negative cycle behind a node below the floor")
            at[node] = len(walk)
            walk.append(node)
            node = int(self.tail[a]) if ahead[node] else int(self.head[a])
        cyc = walk[at[node]:]
        fw = [int(pred[v]) for v in cyc if ahead[v]]
        bw = [int(pred[v]) for v in cyc if not ahead[v]]
        return np.array(fw, dtype=np.int64), np.array(bw, dtype=np.int64)
