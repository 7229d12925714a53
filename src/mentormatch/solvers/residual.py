"""The residual network of an optimal flow, for the tie rule (:mod:`mentormatch.solvers.ties`)
and max-min's fixed-total flow (:mod:`mentormatch.solvers.maxmin_total`): which arcs can
change their flow between optima (strongly connected components of the residual arcs of
reduced cost 0), and shortest distances from a virtual root (integer potentials that prove a
flow optimal). Arcs are parallel arrays ``tail``, ``head``, ``cap``, ``flow`` (and ``cost``
or reduced costs ``rc``) over ``n_nodes`` nodes. Both run compiled where built
(:mod:`mentormatch._native.assign`: Tarjan's components, a queue of the nodes whose distance
fell), else in numpy and scipy, with the same answers (the same distances; labels that group
the same nodes)."""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .._native import assign_kernel
from ..pairs import run_positions
from . import duals
from .keys import by_tail

__all__ = ["strong_components", "movable_arcs", "residual_distances"]


def strong_components(tail, head, n_nodes):
    """Strongly connected component label per node of the arcs ``tail -> head``. The CSR
    arrays are built here (arcs by tail, a counting sort): from (tail, head) pairs scipy's
    COO conversion costs as much as the components on a few hundred nodes. Parallel arcs are
    merged first (``sum_duplicates``): scipy's strong components go wrong on a CSR graph that
    holds an arc twice (random graphs of 250 nodes: 6 or 42 components where there is one)."""
    tail, head = np.asarray(tail, np.int64), np.asarray(head, np.int64)
    order = by_tail(tail, n_nodes)
    kernel = assign_kernel()
    if kernel is not None:
        return kernel.strong_components(_offsets(tail, n_nodes), np.ascontiguousarray(head[order]))
    indptr = np.zeros(n_nodes + 1, np.int32)
    np.cumsum(np.bincount(tail, minlength=n_nodes), out=indptr[1:])
    # float64 data: no conversion inside connected_components (which merged the parallel
    # arcs of int8 data only as a side effect of its copy)
    g = csr_matrix((np.ones(len(tail)), head[order].astype(np.int32), indptr),
                   shape=(n_nodes, n_nodes))
    g.sum_duplicates()
    return connected_components(g, directed=True, connection="strong")[1]


def movable_arcs(tail, head, cap, flow, rc, n_nodes) -> np.ndarray:
    """Arcs whose flow differs between optima: reduced cost 0 and both ends in one strongly
    connected component of the residual arcs of reduced cost 0."""
    zero = rc == 0
    fwd = zero & (flow < cap)
    bwd = zero & (flow > 0)
    lab = strong_components(np.concatenate([tail[fwd], head[bwd]]),
                            np.concatenate([head[fwd], tail[bwd]]), n_nodes)
    return zero & (lab[tail] == lab[head])


def residual_distances(tail, head, cap, flow, cost, n_nodes) -> np.ndarray:
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
    order = by_tail(at, n_nodes)  # arcs by tail
    ah, ac = ah[order], ac[order]
    kernel = assign_kernel()
    if kernel is not None:
        d = kernel.shortest_from_root(_offsets(at, n_nodes), ah.astype(np.int64), ac.astype(np.int64))
        if d is None:
            raise RuntimeError("the flow is not optimal: its residual network has a negative cycle")
        return d
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
        if 3 * len(fell) > n_nodes or len(ah) <= duals.ALL_ARCS:  # most nodes, or few arcs: all
            pos, tails = slice(None), all_tails
            continue
        cnt = count[fell]  # the arcs leaving the nodes whose distance fell
        pos = run_positions(first[fell], cnt)
        tails = np.repeat(fell, cnt)
    raise RuntimeError("the flow is not optimal: its residual network has a negative cycle")


def _offsets(tail: np.ndarray, n_nodes: int) -> np.ndarray:
    """Each node's first arc among the arcs sorted by tail, and the arc count last (CSR)."""
    ptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n_nodes), out=ptr[1:])
    return ptr
