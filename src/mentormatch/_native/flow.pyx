# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The warm repair of :mod:`mentormatch.solvers.warm` compiled: the primal-dual method from the
last round's optimal flow and its integer potentials, in int64.

The network is the one of :func:`mentormatch.solvers.flow.solve_arrays`: mentees ``0..n-1``,
mentors ``n..n+m-1``, the source ``n+m`` and the sink ``n+m+1``; a pair arc ``i -> j`` of cost
``c`` and capacity 1, ``source -> i`` of capacity ``dem[i]`` (under ``cover``, the first unit
at cost ``-cover[i]``, the rest at 0: the residual costs are those of the module docstring of
:mod:`mentormatch.solvers.warm`), ``j -> sink`` of capacity ``cap[j]`` and the bypass ``source
-> sink``. Reduced costs are ``c(a, b) + pi(a) - pi(b)``.

1. The lift (:func:`_lift`): each mentee with a violator has its potential raised by its
   largest violation, so every arc out of it has a reduced cost ``>= 0``; the arcs into it that
   this made negative are saturated (it gives back the pairs it kept by less, and fills its
   source arc). Every residual arc then has a reduced cost ``>= 0``, and the excess is at most
   those mentees' demand.
2. Phases (:func:`_solve`): a Dijkstra on the reduced costs from every node with an excess at
   once, stopped at a distance ``D`` once it has settled enough deficits, raises the potential
   of every node it settled by ``dist - D`` (the others keep theirs): every residual arc keeps a
   reduced cost ``>= 0`` and the arcs of its forest become tight (0). A blocking flow (depth
   first, a current arc per node) then sends units from the excesses to the deficits along
   tight arcs among the settled nodes, which keeps every reduced cost ``>= 0``. Once a phase
   moves few units, each search starts from one excess and stops at the first deficit, and its
   path takes the unit. Once at most ``meet`` units are left (from the start, or after phases),
   one search a unit runs from both ends, forward from one excess and backward from every
   deficit, and only the nodes the two settled move their potentials.

   (:file:`flow_phases.pxi`, :file:`flow_meet.pxi`.)

The end state is checked arc by arc: feasible, and every residual arc's reduced cost ``>= 0``,
which proves it optimal. The GIL is released for the whole solve."""
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport calloc, free, malloc

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


include "heap.pxi"


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


cdef inline int64_t _arc_rc(Net* g, int64_t u, int64_t v, int64_t k) noexcept nogil:
    """The reduced cost of the residual arc ``u -> v`` (the pair arc ``k``, or a hub arc when
    ``k < 0``) as the state stands, or ``BIG`` when it has no room."""
    cdef Py_ssize_t n = g.n, S = g.S, T = g.T
    cdef int64_t* pi = g.pi
    if k >= 0:
        if u < n:
            return g.c[k] + pi[u] - pi[v] if not g.x[k] else BIG
        return -g.c[k] + pi[u] - pi[v] if g.x[k] else BIG
    if u == S and v < n:
        return _out_cost(g, v) + pi[S] - pi[v] if g.f[v] < g.dem[v] else BIG
    if u < n:  # -> the source
        return _back_cost(g, u) + pi[u] - pi[S] if g.f[u] > 0 else BIG
    if u == S:  # -> the sink
        return pi[S] - pi[T] if g.byp < g.total else BIG
    if u == T and v != S:
        return pi[T] - pi[v] if g.load[v - n] > 0 else BIG
    if u == T:
        return pi[T] - pi[S] if g.byp > 0 else BIG
    return pi[u] - pi[T] if g.load[u - n] < g.cap[u - n] else BIG  # a mentor -> the sink


cdef inline bint _arc_at(Net* g, int64_t u, int64_t at, int64_t* v, int64_t* k) noexcept nogil:
    """The residual network's arc number ``at`` out of ``u`` (whatever its room): a mentee's
    pairs then its arc to the source, a mentor's pairs then its arc to the sink, the source's
    arcs to every mentee then the bypass, the sink's to every mentor then the bypass; False
    past the last."""
    cdef Py_ssize_t n = g.n, S = g.S, T = g.T, deg
    if u < n:
        deg = g.ptr_i[u + 1] - g.ptr_i[u]
        if at < deg:
            k[0] = g.arcs_i[g.ptr_i[u] + at]
            v[0] = n + g.tj[k[0]]
            return True
        k[0], v[0] = -1, S
        return at == deg
    if u < S:
        deg = g.ptr_j[u - n + 1] - g.ptr_j[u - n]
        if at < deg:
            k[0] = g.arcs_j[g.ptr_j[u - n] + at]
            v[0] = g.ti[k[0]]
            return True
        k[0], v[0] = -1, T
        return at == deg
    k[0] = -1
    if u == S:
        v[0] = at if at < n else T
        return at <= n
    v[0] = n + at if at < g.m else S
    return at <= g.m


cdef inline void _send(Net* g, int64_t u, int64_t v, int64_t k) noexcept nogil:
    """One unit along the residual arc ``u -> v`` (as :func:`_arc_rc` reads it)."""
    cdef Py_ssize_t n = g.n, S = g.S, T = g.T
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


cdef void _lift(Net* g, int64_t* excess, const int64_t* viol, Py_ssize_t n_viol) noexcept nogil:
    """Take the violators' units back and raise instead the potential of each mentee with a
    violator by its largest violation, so that every arc out of it has a reduced cost >= 0;
    then saturate the arcs into it that this made negative (the pairs it keeps by less than the
    raise, which it gives back, and its source arc while it has room). A mentee with ten
    violators then holds at most its demand in excess instead of ten units, each of which a
    shortest path would have had to carry back: the excess is at most the demand of the
    mentees with a violator, and every residual arc keeps a reduced cost >= 0."""
    cdef Py_ssize_t a, b, n = g.n, S = g.S
    cdef int64_t k, i, j, rc
    cdef int64_t* pi = g.pi
    cdef int64_t* raise_by = <int64_t*> malloc((n + 1) * sizeof(int64_t))
    if raise_by == NULL:  # (then the violators' units stay, as set: still a valid start)
        return
    for a in range(n):
        raise_by[a] = 0
    for a in range(n_viol):  # undo the violators' units; each mentee's largest violation
        k = viol[a]
        i, j = g.ti[k], n + g.tj[k]
        g.x[k] = 0
        excess[j] -= 1
        excess[i] += 1
        rc = g.c[k] + pi[i] - pi[j]
        if -rc > raise_by[i]:
            raise_by[i] = -rc
    for i in range(n):
        if raise_by[i] == 0:
            continue
        pi[i] += raise_by[i]
        for b in range(g.ptr_i[i], g.ptr_i[i + 1]):
            k = g.arcs_i[b]
            j = n + g.tj[k]
            if g.x[k] and pi[j] - g.c[k] - pi[i] < 0:  # its reverse arc j -> i turned negative
                g.x[k] = 0
                excess[i] += 1
                excess[j] -= 1
        while g.f[i] < g.dem[i] and _out_cost(g, i) + pi[S] - pi[i] < 0:
            g.f[i] += 1
            excess[i] += 1
            excess[S] -= 1
    free(raise_by)


include "flow_phases.pxi"
include "flow_meet.pxi"


def repair(const int64_t[::1] ti, const int64_t[::1] tj, const int64_t[::1] c, uint8_t[::1] x,
           const int64_t[::1] dem, const int64_t[::1] cap, int64_t[::1] pi, cover, const int64_t[::1] viol,
           int64_t max_scans, double batch=1.0, int64_t min_paths=0, int64_t meet=0):
    """Repair the optimal flow ``x`` (0/1 per pair arc ``ti -> tj``, cost ``c``) of the pairs
    outside ``viol`` into an optimal flow of all of them, in place, with ``pi`` (potentials of
    the ``n + m + 2`` nodes, proving ``x`` optimal on the old pairs) updated in place into a
    proof of the new optimum. ``viol``: the new pairs whose reduced cost is < 0 (their ``x`` is
    0); ``cover``: ``coverage_first``'s weight per mentee (int64) or None.

    ``batch``, ``min_paths``: the phases' (:func:`_solve`); ``meet``: once at most this many
    units are left to move, one search a unit, from both ends (:func:`_meet_all`; 0: never,
    the phases then one search a unit from the excess alone).

    Returns ``(status, paths, scans, phases)``: :data:`OPTIMAL` (checked: the flow is feasible
    and every residual arc has a reduced cost >= 0), :data:`NOT_A_PROOF`, :data:`STUCK` or
    :data:`GAVE_UP` (then ``x`` and ``pi`` hold a partial state); the units sent (shortest
    paths); the arcs scanned; the searches."""
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
    cdef int64_t paths = 0, scans = 0, matched = 0, phases = 0
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
            _lift(&g, &excess[0], &viol[0] if viol.shape[0] else NULL, viol.shape[0])
            status = _solve(&g, &excess[0], max_scans, batch, min_paths, meet, &paths, &scans, &phases)
            if status == ST_OPTIMAL and not (_proof(&g) and _feasible(&g)):
                status = ST_NOT_A_PROOF  # (cannot happen: every step keeps the reduced costs >= 0)
    if status < 0:
        raise MemoryError("repair: no memory for the search")
    return status, int(paths), int(scans), int(phases)
include "potentials.pxi"  # (the dual potentials of an optimal flow: potentials)
