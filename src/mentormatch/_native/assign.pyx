# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""An exact min-cost flow for the capacitated assignment on explicit pairs, the compiled twin of
OR-Tools' solve in :func:`mentormatch.solvers.flow.solve_arrays` for unit demands (the network
of that module: source -> mentee (capacity 1) -> mentor (capacity 1 per pair, integer cost
``c_k < 0``) -> sink (capacity ``c_j``), with the bypass, so that a mentee may stay unmatched).

Successive shortest paths, one mentee at a time (Jonker-Volgenant's augmentation with
capacities): with the mentees processed so far matched optimally and node potentials ``pi``
under which every residual arc has a reduced cost ``c(a, b) + pi_a - pi_b >= 0``, a Dijkstra
search from the next mentee over the residual arcs (mentee -> mentor on its unchosen pairs,
mentor -> its mentees back at ``-c``, mentor -> sink while it has room, mentee -> sink: staying
unmatched, at 0) stops when the sink is reached; the path is flipped and the scanned nodes'
potentials move by ``d(v) - d(sink)``, which keeps every reduced cost >= 0. Among nodes of equal
label the heap (``heap.pxi``: the lower number first) settles mentors before mentees: the nodes
go in as ``mentor``, ``m`` (the sink), ``m + 1 + mentee``. On tied scores a search's labels are
mostly equal, and mentor-first reaches a mentor with room, so the sink, after a few nodes where
mentee-first settled the whole plateau of equal labels first (the ladder's 2,000 x 500 with
scores in 4 levels, 16,000 pairs: 155 ms to 2.0 ms; 200 x 50: 1.8 to 0.08 ms; the same
cost, another optimum maybe: the tie rule picks after). After the last mentee
the flow is a min-cost flow of the network: an optimum of the assignment (which one among
several, the tie rule decides after: :mod:`mentormatch.solvers.ties`), and the potentials prove
it. Plain C loops, the GIL released, no allocation inside the loop.

The module's other routines are included at the end (one compiled module: one import for
``assign()``'s small path): those on the residual graph of a flow (strong components, distances
from a root, the unit potentials, the tie rule's movable pairs) in ``assign_graph.pxi``, the tie
rule's gathering of its pairs and keys in ``assign_ties.pxi``, the passes around its compiled
pick's second flows in ``assign_pick.pxi``, the dense path's check and tight join on a face full
of ties in ``assign_face.pxi``, the small path's dense flow in
``assign_costs.pxi`` (its plain or keyed costs, every pair) and ``assign_dense.pxi`` (the
flow), the dense path's keyed flow on the candidates and its keyed check in ``assign_keyed.pxi``,
the seeded order's hash of the ids in ``assign_order.pxi``, and small twins of numpy
code around the small path's flow (capacities' check, prices) in ``assign_glue.pxi``."""
from libc.stdint cimport int64_t, uint64_t

import numpy as np


include "heap.pxi"


cdef struct Search:  # one Dijkstra search: labels, the search's stamp, and its heap
    int64_t* dist
    int64_t* seen  # the search that last labelled a node
    int64_t* pred
    int64_t* hk
    int64_t* hv
    Py_ssize_t size
    int64_t stamp
    int64_t n  # mentees and mentors: the heap's numbers (module docstring)
    int64_t m


cdef inline bint _label(Search* s, Py_ssize_t u, int64_t nd, int64_t by) noexcept nogil:
    """Label node ``u`` with ``nd``, reached by ``by``, when that lowers its label (True)."""
    if s.seen[u] == s.stamp and nd >= s.dist[u]:
        return False
    s.seen[u] = s.stamp
    s.dist[u] = nd
    s.pred[u] = by
    _push(s.hk, s.hv, &s.size, nd, u - s.n if u >= s.n else u + s.m + 1)  # mentors first
    return True


def flow_assign(const int64_t[::1] ptr, const int64_t[::1] head, const int64_t[::1] cost,
                const int64_t[::1] cap, const int64_t[::1] dem):
    """A min-cost flow of the network above on the pairs ``k`` of mentee ``i`` at
    ``ptr[i]:ptr[i + 1]`` (mentors ``head``, integer costs ``cost``, mentors' capacities ``cap``,
    mentees' demands ``dem`` in {0, 1}; a mentee of demand 0 is left unmatched).

    Returns ``(chosen, pi_mentee, pi_mentor, pi_sink)``: a uint8 per pair, and potentials under
    which every residual arc has a reduced cost ``c(a, b) + pi_a - pi_b >= 0`` (the source's
    is not needed: the bypass and the source arcs are the mentees' arcs to the sink)."""
    cdef Py_ssize_t n = dem.shape[0], m = cap.shape[0], n_arcs = head.shape[0]
    if ptr.shape[0] != n + 1 or cost.shape[0] != n_arcs or ptr[n] != n_arcs:
        raise ValueError("flow_assign: ptr must hold n_mentees + 1 offsets ending at the pair count")
    cdef Py_ssize_t t = n + m, n_nodes = n + m + 1
    chosen_a = np.zeros(n_arcs, np.uint8)
    pi_a = np.zeros(n_nodes, np.int64)
    tail_a = np.repeat(np.arange(n, dtype=np.int64), np.diff(np.asarray(ptr)))
    mate_a = np.full(n, -1, np.int64)  # the chosen pair of each mentee, -1: none
    indeg = np.bincount(np.asarray(head), minlength=m)[:m] if n_arcs else np.zeros(m, np.int64)
    room = np.minimum(indeg, np.maximum(np.asarray(cap), 0)).astype(np.int64)
    slot_start_a = np.zeros(m + 1, np.int64)
    np.cumsum(room, out=slot_start_a[1:])
    slots_a = np.zeros(max(int(slot_start_a[m]), 1), np.int64)  # each mentor's mentees
    count_a = np.zeros(m, np.int64)
    where_a = np.zeros(n, np.int64)  # a mentee's position in its mentor's slots
    dist_a = np.zeros(n_nodes, np.int64)
    seen_a = np.zeros(n_nodes, np.int64)  # the search that last labelled a node (0: none)
    done_a = np.zeros(n_nodes, np.uint8)
    pred_a = np.zeros(n_nodes, np.int64)  # the node before; for a mentor, the pair arc
    scanned_a = np.zeros(n_nodes, np.int64)
    heap_size = n_arcs + 3 * n + m + 4
    hk_a = np.zeros(heap_size, np.int64)
    hv_a = np.zeros(heap_size, np.int64)
    cdef unsigned char[::1] chosen = chosen_a
    cdef int64_t[::1] pi = pi_a, mate = mate_a, slot_start = slot_start_a, slots = slots_a
    cdef int64_t[::1] count = count_a, where = where_a, dist = dist_a, seen = seen_a
    cdef int64_t[::1] tail = tail_a
    cdef int64_t[::1] pred = pred_a, scanned = scanned_a, hk = hk_a, hv = hv_a
    cdef unsigned char[::1] done = done_a
    cdef Py_ssize_t i0, j, k, v, u, q, n_scanned
    cdef int64_t d, top, dt, old
    cdef Search s
    s.dist, s.seen, s.pred, s.hk, s.hv, s.size, s.stamp = &dist[0], &seen[0], &pred[0], &hk[0], &hv[0], 0, 0
    s.n, s.m = n, m
    with nogil:
        for i0 in range(n):
            if dem[i0] <= 0:
                continue
            # a fresh mentee: no residual arc enters it, so its potential is free; the least
            # that keeps its arcs' reduced costs >= 0
            top = pi[t]
            for k in range(ptr[i0], ptr[i0 + 1]):
                if pi[n + head[k]] - cost[k] > top:
                    top = pi[n + head[k]] - cost[k]
            pi[i0] = top
            s.stamp += 1
            s.size = 0
            n_scanned = 0
            _label(&s, i0, 0, -1)
            while s.size > 0:
                d = hk[0]
                v = hv[0] + n if hv[0] <= m else hv[0] - m - 1
                _pop(&hk[0], &hv[0], &s.size)
                if done[v] or d > dist[v]:
                    continue
                if v == t:
                    break
                done[v] = 1
                scanned[n_scanned] = v
                n_scanned += 1
                if v < n:  # a mentee: its unchosen pairs, and staying unmatched
                    for k in range(ptr[v], ptr[v + 1]):
                        u = n + head[k]
                        if k != mate[v] and not done[u]:
                            _label(&s, u, d + cost[k] + pi[v] - pi[u], k)
                    if _label(&s, t, d + pi[v] - pi[t], v) and dist[t] == d:
                        break  # no label is below d: the sink is reached
                else:  # a mentor: to the sink while it has room; back to its mentees
                    j = v - n
                    if count[j] < cap[j] and _label(&s, t, d + pi[v] - pi[t], v) and dist[t] == d:
                        break
                    for q in range(slot_start[j], slot_start[j] + count[j]):
                        u = slots[q]
                        if not done[u]:
                            _label(&s, u, d - cost[mate[u]] + pi[v] - pi[u], v)
            # the sink is always reached (the fresh mentee may stay unmatched)
            dt = dist[t]
            for q in range(n_scanned):
                v = scanned[q]
                pi[v] += dist[v] - dt
                done[v] = 0
            # flip the path, from the sink back: each mentee on it takes the arc leaving it
            # (a pair, or the sink: unmatched) and leaves the one it came by
            v = pred[t]
            if v >= n:  # a mentor with room takes the mentee of the pair that reached it
                k = pred[v]
                v = tail[k]
            else:  # a mentee leaves its pair for nothing (unmatched)
                k = -1
            while True:  # mentee v leaves its pair (if any) and takes pair k (-1: none)
                old = mate[v]
                if old >= 0:
                    j = head[old]
                    chosen[old] = 0
                    q = where[v]
                    count[j] -= 1
                    u = slots[slot_start[j] + count[j]]
                    slots[q] = u
                    where[u] = q
                if k >= 0:
                    j = head[k]
                    chosen[k] = 1
                    q = slot_start[j] + count[j]
                    slots[q] = v
                    where[v] = q
                    count[j] += 1
                mate[v] = k
                if v == i0:
                    break
                k = pred[pred[v]]  # v was reached back from its old mentor, reached by pair k
                v = tail[k]
    return chosen_a.view(bool), pi_a[:n], pi_a[n:t], int(pi_a[t])


include "assign_graph.pxi"
include "assign_ties.pxi"
include "assign_face.pxi"
include "assign_costs.pxi"
include "assign_dense.pxi"
include "assign_order.pxi"
include "assign_glue.pxi"
include "assign_pick.pxi"
include "assign_keyed.pxi"
