"""The residual-network tools of the flow leximin (:mod:`mentormatch.solvers.leximin`): optimal
potentials by Bellman-Ford, and breadth-first path searches for one unit of flow."""
from __future__ import annotations

import numpy as np


def _residual_potentials(tail: np.ndarray, head: np.ndarray, cost: np.ndarray,
                         n_nodes: int, floor: int | None = None) -> np.ndarray | None:
    """Shortest-path distances (int64) in a graph without negative cycles from a virtual root
    joined to every node by a 0-cost arc: optimal dual potentials of a min-cost flow when the
    graph is its residual network. Bellman-Ford, each round vectorised over the arcs whose
    tail improved in the round before (at most one round per arc of the longest shortest
    path). ``floor``: no simple path costs less, so a distance below it (or distances still
    falling after that many rounds) proves a negative cycle: None is returned."""
    order = np.argsort(tail, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    starts = np.searchsorted(tail, np.arange(n_nodes + 1))
    d = np.zeros(n_nodes, dtype=np.int64)
    changed = np.flatnonzero(np.diff(starts) > 0)
    for _ in range(n_nodes + 1):
        if not len(changed):
            return d
        lens = starts[changed + 1] - starts[changed]
        arcs = np.repeat(starts[changed] - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        cand = d[tail[arcs]] + cost[arcs]
        better = cand < d[head[arcs]]
        if not better.any():
            return d
        h, c = head[arcs][better], cand[better]
        np.minimum.at(d, h, c)
        if floor is not None and c.min() < floor:
            return None
        changed = np.unique(h)
    if floor is not None:  # still improving after every round a simple path needs
        return None
    raise RuntimeError("negative cycle in a residual network")  # pragma: no cover


def _gather(order: np.ndarray, starts: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The arcs ``order[starts[v]:starts[v + 1]]`` of every node ``v`` in ``nodes``, joined."""
    lens = starts[nodes + 1] - starts[nodes]
    base = np.repeat(starts[nodes] - np.cumsum(lens) + lens, lens)
    return order[base + np.arange(int(lens.sum()))]


class _Residual:
    """Breadth-first path search in the residual network of a flow on fixed arcs (tail, head);
    the arcs in and out of each node are indexed once."""

    def __init__(self, tail: np.ndarray, head: np.ndarray, n_nodes: int):
        self.tail, self.head, self.n_nodes = tail, head, n_nodes
        self.out = np.argsort(tail, kind="stable")
        self.out_at = np.searchsorted(tail[self.out], np.arange(n_nodes + 1))
        self.into = np.argsort(head, kind="stable")
        self.into_at = np.searchsorted(head[self.into], np.arange(n_nodes + 1))

    def path(self, x: np.ndarray, ucap: np.ndarray, alive: np.ndarray, start: int, goal: int):
        """A path ``start -> goal`` with room for one more unit of flow on the ``alive`` arcs
        (forward where ``x < ucap``, backward where ``x > 0``): ``(forward arcs, backward
        arcs)``, or None when there is none."""
        tail, head = self.tail, self.head
        seen = np.zeros(self.n_nodes, dtype=bool)
        via = np.full(self.n_nodes, -1, dtype=np.int64)  # the arc a node was reached by
        ahead = np.zeros(self.n_nodes, dtype=bool)  # ... forward (else backward)
        seen[start] = True
        frontier = np.array([start], dtype=np.int64)
        while len(frontier) and not seen[goal]:
            fa = _gather(self.out, self.out_at, frontier)
            fa = fa[alive[fa] & (x[fa] < ucap[fa])]
            ba = _gather(self.into, self.into_at, frontier)
            ba = ba[alive[ba] & (x[ba] > 0)]
            nodes = np.concatenate([head[fa], tail[ba]])
            arcs = np.concatenate([fa, ba])
            new = ~seen[nodes]
            nodes, first = np.unique(nodes[new], return_index=True)
            arcs = arcs[new][first]
            seen[nodes] = True
            via[nodes] = arcs
            ahead[nodes] = first < np.count_nonzero(new[:len(fa)])
            frontier = nodes
        if not seen[goal]:
            self.reached = seen  # the nodes ``start`` reaches: a forced step's potentials
            return None
        fw, bw = [], []
        node = goal
        while node != start:
            a = int(via[node])
            if ahead[node]:
                fw.append(a)
                node = int(tail[a])
            else:
                bw.append(a)
                node = int(head[a])
        return np.array(fw, dtype=np.int64), np.array(bw, dtype=np.int64)
