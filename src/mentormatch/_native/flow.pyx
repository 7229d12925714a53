# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The warm repair of :mod:`mentormatch.solvers.warm` compiled: successive shortest paths, one
unit at a time, each by a binary-heap Dijkstra on the reduced costs that stops at the first
node with a deficit, from the last round's optimal flow and its integer potentials.

The network is the one of :func:`mentormatch.solvers.flow.solve_arrays`: mentees ``0..n-1``,
mentors ``n..n+m-1``, the source ``n+m`` and the sink ``n+m+1``; a pair arc ``i -> j`` of cost
``c`` and capacity 1, ``source -> i`` of capacity ``dem[i]`` (under ``cover``, the first unit
at cost ``-cover[i]``, the rest at 0: the residual costs are those of the module docstring of
:mod:`mentormatch.solvers.warm`), ``j -> sink`` of capacity ``cap[j]`` and the bypass ``source
-> sink``. Reduced costs are ``c(a, b) + pi(a) - pi(b)``.

A Dijkstra from an excess ``s`` that stops at the deficit ``t`` (distance ``D``) raises the
potential of every node it settled by ``dist - D`` (the others keep theirs): the update of
warm.py less the constant ``D``, so every residual arc keeps a reduced cost ``>= 0`` and the
path's arcs become tight. Integer arithmetic throughout (int64); the end state is checked arc
by arc: feasible, and every residual arc's reduced cost ``>= 0``, which proves it optimal. The
GIL is released for the whole solve."""
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc

import numpy as np

cdef enum:
    ST_OPTIMAL = 0
    ST_NOT_A_PROOF = 1
    ST_STUCK = 2
    ST_GAVE_UP = 3

#: :func:`repair`'s status: the flow is optimal and ``pi`` proves it
OPTIMAL = ST_OPTIMAL
#: a residual arc had a negative reduced cost at the start: ``pi`` was no proof of the old flow
NOT_A_PROOF = ST_NOT_A_PROOF
#: an excess found no deficit (cannot happen from a feasible flow)
STUCK = ST_STUCK
#: more arc scans than ``max_scans``: the caller solves cold
GAVE_UP = ST_GAVE_UP

cdef int64_t BIG = 1 << 62


cdef inline void _push(int64_t* hk, int64_t* hv, Py_ssize_t* size, int64_t key, int64_t v) noexcept nogil:
    """Into the binary min-heap on (key, node)."""
    cdef Py_ssize_t i = size[0], parent
    size[0] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] < key or (hk[parent] == key and hv[parent] <= v):
            break
        hk[i], hv[i] = hk[parent], hv[parent]
        i = parent
    hk[i], hv[i] = key, v


cdef inline void _pop(int64_t* hk, int64_t* hv, Py_ssize_t* size) noexcept nogil:
    """Remove the heap's top."""
    cdef Py_ssize_t n = size[0] - 1, i = 0, child
    cdef int64_t key = hk[n], v = hv[n]
    size[0] = n
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and (hk[child + 1] < hk[child] or (hk[child + 1] == hk[child] and hv[child + 1] < hv[child])):
            child += 1
        if key < hk[child] or (key == hk[child] and v <= hv[child]):
            break
        hk[i], hv[i] = hk[child], hv[child]
        i = child
    hk[i], hv[i] = key, v


cdef struct Net:
    Py_ssize_t n, m, S, T, P
    int64_t total, byp
    const int64_t* ti
    const int64_t* tj
    const int64_t* c
    const int64_t* dem
    const int64_t* cap
    const int64_t* cover  # NULL: no coverage_first
    uint8_t* x
    int64_t* pi
    int64_t* f  # source -> mentee
    int64_t* load  # mentor -> sink
    int64_t* ptr_i  # the pairs by mentee: ptr_i[i]..ptr_i[i+1] in arcs_i
    int64_t* arcs_i
    int64_t* ptr_j  # by mentor
    int64_t* arcs_j


cdef inline int64_t _out_cost(Net* g, int64_t i) noexcept nogil:
    """The residual cost of source -> mentee ``i`` (room assumed)."""
    if g.cover != NULL and g.f[i] == 0:
        return -g.cover[i]
    return 0


cdef inline int64_t _back_cost(Net* g, int64_t i) noexcept nogil:
    """The residual cost of mentee ``i`` -> source (flow assumed)."""
    if g.cover != NULL and g.f[i] == 1:
        return g.cover[i]
    return 0


cdef bint _proof(Net* g) noexcept nogil:
    """Every residual arc has a reduced cost >= 0 under ``pi``."""
    cdef Py_ssize_t k, i, j
    cdef int64_t rc
    cdef int64_t* pi = g.pi
    cdef Py_ssize_t S = g.S, T = g.T, n = g.n
    for k in range(g.P):
        rc = g.c[k] + pi[g.ti[k]] - pi[n + g.tj[k]]
        if (g.x[k] == 0 and rc < 0) or (g.x[k] != 0 and rc > 0):
            return False
    for i in range(n):
        if g.f[i] < g.dem[i] and _out_cost(g, i) + pi[S] - pi[i] < 0:
            return False
        if g.f[i] > 0 and _back_cost(g, i) + pi[i] - pi[S] < 0:
            return False
    for j in range(g.m):
        if g.load[j] < g.cap[j] and pi[n + j] - pi[T] < 0:
            return False
        if g.load[j] > 0 and pi[T] - pi[n + j] < 0:
            return False
    if g.byp < g.total and pi[S] - pi[T] < 0:
        return False
    if g.byp > 0 and pi[T] - pi[S] < 0:
        return False
    return True


cdef bint _feasible(Net* g) noexcept nogil:
    """The flow is conserved at every mentee and mentor and within every capacity."""
    cdef Py_ssize_t k, i, j
    cdef int64_t matched = 0
    cdef int64_t* fi = <int64_t*> malloc((g.n + g.m + 1) * sizeof(int64_t))
    cdef bint ok = fi != NULL
    if ok:
        for i in range(g.n + g.m):
            fi[i] = 0
        for k in range(g.P):
            if g.x[k]:
                fi[g.ti[k]] += 1
                fi[g.n + g.tj[k]] += 1
        for i in range(g.n):
            ok = ok and fi[i] == g.f[i] and 0 <= g.f[i] <= g.dem[i]
            matched += g.f[i]
        for j in range(g.m):
            ok = ok and fi[g.n + j] == g.load[j] and 0 <= g.load[j] <= g.cap[j]
        ok = ok and matched + g.byp == g.total and g.byp >= 0
    free(fi)
    return ok


cdef int _solve(Net* g, int64_t* excess, int64_t max_scans, int64_t* paths, int64_t* scans) noexcept nogil:
    cdef Py_ssize_t N = g.n + g.m + 2, n = g.n, m = g.m, S = g.S, T = g.T
    cdef int64_t* pi = g.pi
    cdef int64_t* dist = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* pred = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* pred_k = <int64_t*> malloc(N * sizeof(int64_t))
    cdef uint8_t* done = <uint8_t*> malloc(N)
    cdef int64_t* touched = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* settled = <int64_t*> malloc(N * sizeof(int64_t))
    # a lazy heap: at most one entry per arc scan, and the start
    cdef Py_ssize_t heap_cap = g.P + 2 * (n + m) + 8
    cdef int64_t* hk = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    cdef int64_t* hv = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    cdef Py_ssize_t size, n_touched, n_settled, a, q
    cdef int64_t s, t, u, v, k, w, du, D
    cdef int status = ST_OPTIMAL
    if dist == NULL or pred == NULL or pred_k == NULL or done == NULL or touched == NULL or settled == NULL \
            or hk == NULL or hv == NULL:
        status = -1
    else:
        for a in range(N):
            dist[a] = BIG
            done[a] = 0
        for s in range(N):
            while excess[s] > 0 and status == ST_OPTIMAL:
                # Dijkstra from s until a deficit is settled
                size = 0
                dist[s] = 0
                pred[s] = -1
                touched[0] = s
                n_touched, n_settled = 1, 0
                _push(hk, hv, &size, 0, s)
                t = -1
                while size > 0:
                    du, u = hk[0], hv[0]
                    _pop(hk, hv, &size)
                    if done[u] or du > dist[u]:
                        continue
                    done[u] = 1
                    settled[n_settled] = u
                    n_settled += 1
                    if excess[u] < 0:
                        t = u
                        break
                    # the residual arcs out of u: (head v, cost w reduced, pair k or -1)
                    if u < n:
                        scans[0] += g.ptr_i[u + 1] - g.ptr_i[u] + 1
                        for q in range(g.ptr_i[u], g.ptr_i[u + 1]):
                            k = g.arcs_i[q]
                            if g.x[k]:
                                continue
                            v = n + g.tj[k]
                            w = du + g.c[k] + pi[u] - pi[v]
                            if w < dist[v] and not done[v]:
                                if dist[v] == BIG:
                                    touched[n_touched] = v
                                    n_touched += 1
                                dist[v], pred[v], pred_k[v] = w, u, k
                                _push(hk, hv, &size, w, v)
                        if g.f[u] > 0:
                            v = S
                            w = du + _back_cost(g, u) + pi[u] - pi[S]
                            if w < dist[v] and not done[v]:
                                if dist[v] == BIG:
                                    touched[n_touched] = v
                                    n_touched += 1
                                dist[v], pred[v], pred_k[v] = w, u, -1
                                _push(hk, hv, &size, w, v)
                    elif u < S:
                        scans[0] += g.ptr_j[u - n + 1] - g.ptr_j[u - n] + 1
                        for q in range(g.ptr_j[u - n], g.ptr_j[u - n + 1]):
                            k = g.arcs_j[q]
                            if not g.x[k]:
                                continue
                            v = g.ti[k]
                            w = du - g.c[k] + pi[u] - pi[v]
                            if w < dist[v] and not done[v]:
                                if dist[v] == BIG:
                                    touched[n_touched] = v
                                    n_touched += 1
                                dist[v], pred[v], pred_k[v] = w, u, k
                                _push(hk, hv, &size, w, v)
                        if g.load[u - n] < g.cap[u - n]:
                            v = T
                            w = du + pi[u] - pi[T]
                            if w < dist[v] and not done[v]:
                                if dist[v] == BIG:
                                    touched[n_touched] = v
                                    n_touched += 1
                                dist[v], pred[v], pred_k[v] = w, u, -1
                                _push(hk, hv, &size, w, v)
                    elif u == S:
                        scans[0] += n + 1
                        for v in range(n):
                            if g.f[v] < g.dem[v]:
                                w = du + _out_cost(g, v) + pi[S] - pi[v]
                                if w < dist[v] and not done[v]:
                                    if dist[v] == BIG:
                                        touched[n_touched] = v
                                        n_touched += 1
                                    dist[v], pred[v], pred_k[v] = w, u, -1
                                    _push(hk, hv, &size, w, v)
                        if g.byp < g.total:
                            v = T
                            w = du + pi[S] - pi[T]
                            if w < dist[v] and not done[v]:
                                if dist[v] == BIG:
                                    touched[n_touched] = v
                                    n_touched += 1
                                dist[v], pred[v], pred_k[v] = w, u, -1
                                _push(hk, hv, &size, w, v)
                    else:  # the sink
                        scans[0] += m + 1
                        for a in range(m):
                            if g.load[a] > 0:
                                v = n + a
                                w = du + pi[T] - pi[v]
                                if w < dist[v] and not done[v]:
                                    if dist[v] == BIG:
                                        touched[n_touched] = v
                                        n_touched += 1
                                    dist[v], pred[v], pred_k[v] = w, u, -1
                                    _push(hk, hv, &size, w, v)
                        if g.byp > 0:
                            v = S
                            w = du + pi[T] - pi[S]
                            if w < dist[v] and not done[v]:
                                if dist[v] == BIG:
                                    touched[n_touched] = v
                                    n_touched += 1
                                dist[v], pred[v], pred_k[v] = w, u, -1
                                _push(hk, hv, &size, w, v)
                if t < 0:
                    status = ST_STUCK
                else:
                    D = dist[t]
                    for a in range(n_settled):  # every reduced cost stays >= 0; the path's are 0
                        v = settled[a]
                        pi[v] += dist[v] - D
                    v = t
                    while v != s:  # one unit along the path
                        u, k = pred[v], pred_k[v]
                        if k >= 0:
                            g.x[k] = 1 - g.x[k]
                        elif u == S and v < n:
                            g.f[v] += 1
                        elif u < n and v == S:
                            g.f[u] -= 1
                        elif v == T and u != S:
                            g.load[u - n] += 1
                        elif u == T and v != S:
                            g.load[v - n] -= 1
                        elif u == S:
                            g.byp += 1
                        else:
                            g.byp -= 1
                        v = u
                    excess[s] -= 1
                    excess[t] += 1
                    paths[0] += 1
                for a in range(n_touched):
                    v = touched[a]
                    dist[v] = BIG
                    done[v] = 0
                if scans[0] > max_scans and status == ST_OPTIMAL:
                    status = ST_GAVE_UP
            if status != ST_OPTIMAL:
                break
    free(dist)
    free(pred)
    free(pred_k)
    free(done)
    free(touched)
    free(settled)
    free(hk)
    free(hv)
    return status


def repair(const int64_t[::1] ti, const int64_t[::1] tj, const int64_t[::1] c, uint8_t[::1] x,
           const int64_t[::1] dem, const int64_t[::1] cap, int64_t[::1] pi, cover, const int64_t[::1] viol,
           int64_t max_scans):
    """Repair the optimal flow ``x`` (0/1 per pair arc ``ti -> tj``, cost ``c``) of the pairs
    outside ``viol`` into an optimal flow of all of them, in place, with ``pi`` (potentials of
    the ``n + m + 2`` nodes, proving ``x`` optimal on the old pairs) updated in place into a
    proof of the new optimum. ``viol``: the new pairs whose reduced cost is < 0 (their ``x`` is
    0); ``cover``: ``coverage_first``'s weight per mentee (int64) or None.

    Returns ``(status, paths, scans)``: :data:`OPTIMAL` (checked: the flow is feasible and every
    residual arc has a reduced cost >= 0), :data:`NOT_A_PROOF`, :data:`STUCK` or
    :data:`GAVE_UP` (then ``x`` and ``pi`` hold a partial state); the shortest paths sent; the
    arcs scanned."""
    cdef Net g
    cdef Py_ssize_t n = dem.shape[0], m = cap.shape[0], P = ti.shape[0], k, a
    cdef int64_t[::1] cover_v
    cdef int64_t[::1] f = np.zeros(n, np.int64)
    cdef int64_t[::1] load = np.zeros(m, np.int64)
    cdef int64_t[::1] ptr_i = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] ptr_j = np.zeros(m + 1, np.int64)
    cdef int64_t[::1] arcs_i = np.empty(max(P, 1), np.int64)
    cdef int64_t[::1] arcs_j = np.empty(max(P, 1), np.int64)
    cdef int64_t[::1] excess = np.zeros(n + m + 2, np.int64)
    cdef int64_t paths = 0, scans = 0, matched = 0
    cdef int status = ST_OPTIMAL
    if tj.shape[0] != P or c.shape[0] != P or x.shape[0] != P or pi.shape[0] != n + m + 2:
        raise ValueError("repair: the pair arrays must have one length and pi n + m + 2 entries")
    g.n, g.m, g.S, g.T, g.P = n, m, n + m, n + m + 1, P
    g.ti, g.tj, g.c, g.dem, g.cap = &ti[0] if P else NULL, &tj[0] if P else NULL, &c[0] if P else NULL, \
        &dem[0] if n else NULL, &cap[0] if m else NULL
    g.cover = NULL
    if cover is not None:
        cover_v = np.ascontiguousarray(cover, np.int64)
        if cover_v.shape[0] != n:
            raise ValueError("repair: cover must hold one weight per mentee")
        g.cover = &cover_v[0] if n else NULL
    g.x = &x[0] if P else NULL
    g.pi = &pi[0]
    g.f, g.load, g.ptr_i, g.ptr_j = &f[0] if n else NULL, &load[0] if m else NULL, &ptr_i[0], &ptr_j[0]
    g.arcs_i, g.arcs_j = &arcs_i[0], &arcs_j[0]
    with nogil:
        for k in range(P):  # the pairs by mentee and by mentor (counting sorts, stable)
            ptr_i[ti[k] + 1] += 1
            ptr_j[tj[k] + 1] += 1
            if x[k]:
                f[ti[k]] += 1
                load[tj[k]] += 1
        for a in range(n):
            ptr_i[a + 1] += ptr_i[a]
            matched += f[a]
        for a in range(m):
            ptr_j[a + 1] += ptr_j[a]
        g.total = 0
        for a in range(n):
            g.total += dem[a]
        g.byp = g.total - matched
        for k in range(P):
            arcs_i[ptr_i[ti[k]]] = k
            ptr_i[ti[k]] += 1
            arcs_j[ptr_j[tj[k]]] = k
            ptr_j[tj[k]] += 1
        for a in range(n, 0, -1):  # back to the starts
            ptr_i[a] = ptr_i[a - 1]
        ptr_i[0] = 0
        for a in range(m, 0, -1):
            ptr_j[a] = ptr_j[a - 1]
        ptr_j[0] = 0
        for a in range(viol.shape[0]):  # one unit on each violator: j has an excess, i a deficit
            k = viol[a]
            x[k] = 1
            excess[n + tj[k]] += 1
            excess[ti[k]] -= 1
        if not _proof(&g):  # (the violators' reverse arcs have a reduced cost > 0)
            status = ST_NOT_A_PROOF
        else:
            status = _solve(&g, &excess[0], max_scans, &paths, &scans)
            if status == ST_OPTIMAL and not (_proof(&g) and _feasible(&g)):
                status = ST_NOT_A_PROOF  # (cannot happen: every step keeps the reduced costs >= 0)
    if status < 0:
        raise MemoryError("repair: no memory for the search")
    return status, int(paths), int(scans)
