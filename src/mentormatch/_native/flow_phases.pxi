# The phases of flow.pyx (included there, after the network's arc helpers): the primal-dual
# method from the lifted state (step 2 of flow.pyx's docstring): the hubs' heaps, the Dijkstra
# from every excess (or one), and the blocking flow on the tight arcs.


# The members of a hub's arcs, an indexed binary max-heap on (key, lower node first), so that a
# Dijkstra reads them best first and stops early instead of scanning every mentor or mentee.
# Out of the hubs (the forward searches): the source's to the mentees with room, keyed by ``pi``
# less the arc's cost; the sink's to the mentors with flow, keyed by ``pi``. Into them (the
# backward searches of flow_meet.pxi): the mentees with flow into the source, the mentors with
# room into the sink, keyed by minus the arc's reduced cost less the hub's ``pi``.
cdef enum:
    HUB_SOURCE_OUT = 0
    HUB_SINK_OUT = 1
    HUB_SOURCE_IN = 2
    HUB_SINK_IN = 3


cdef struct Hub:
    int64_t* heap  # node ids (mentee i, or mentor j as j)
    int64_t* pos  # per node: its place in heap, or -1
    Py_ssize_t size
    int kind


cdef inline bint _member(Net* g, Hub* h, int64_t a) noexcept nogil:
    if h.kind == HUB_SINK_OUT:
        return g.load[a] > 0
    if h.kind == HUB_SOURCE_OUT:
        return g.f[a] < g.dem[a]
    if h.kind == HUB_SOURCE_IN:
        return g.f[a] > 0
    return g.load[a] < g.cap[a]


cdef inline int64_t _key(Net* g, Hub* h, int64_t a) noexcept nogil:
    """Larger is better: the arc hub -> a has reduced cost ``pi(hub) - key`` (out of the hub);
    the arc a -> hub, ``-pi(hub) - key`` (into it)."""
    if h.kind == HUB_SINK_OUT:
        return g.pi[g.n + a]
    if h.kind == HUB_SOURCE_OUT:
        return g.pi[a] - _out_cost(g, a)
    if h.kind == HUB_SOURCE_IN:
        return -g.pi[a] - _back_cost(g, a)
    return -g.pi[g.n + a]


cdef inline bint _above(Net* g, Hub* h, int64_t a, int64_t b) noexcept nogil:
    cdef int64_t ka = _key(g, h, a), kb = _key(g, h, b)
    return ka > kb or (ka == kb and a < b)


cdef void _rebuild(Net* g, Hub* h, Py_ssize_t count) noexcept nogil:
    """The heap of the hub's members anew (``count`` candidates; bottom-up, linear): after a
    phase has moved many keys at once."""
    cdef Py_ssize_t a, i
    h.size = 0
    for a in range(count):
        h.pos[a] = -1
        if _member(g, h, a):
            h.heap[h.size] = a
            h.pos[a] = h.size
            h.size += 1
    for i in range(h.size // 2 - 1, -1, -1):
        _down(g, h, i)


cdef void _down(Net* g, Hub* h, Py_ssize_t i) noexcept nogil:
    """Sift the member at place ``i`` down."""
    cdef int64_t a = h.heap[i]
    cdef Py_ssize_t child
    while True:
        child = 2 * i + 1
        if child >= h.size:
            break
        if child + 1 < h.size and _above(g, h, h.heap[child + 1], h.heap[child]):
            child += 1
        if not _above(g, h, h.heap[child], a):
            break
        h.heap[i] = h.heap[child]
        h.pos[h.heap[i]] = i
        i = child
    h.heap[i] = a
    h.pos[a] = i


cdef void _sift(Net* g, Hub* h, Py_ssize_t i) noexcept nogil:
    """Restore the heap at place ``i`` (up, then down)."""
    cdef int64_t a = h.heap[i]
    cdef Py_ssize_t parent
    while i > 0:
        parent = (i - 1) >> 1
        if not _above(g, h, a, h.heap[parent]):
            break
        h.heap[i] = h.heap[parent]
        h.pos[h.heap[i]] = i
        i = parent
    h.heap[i] = a
    h.pos[a] = i
    _down(g, h, i)


cdef void _fix(Net* g, Hub* h, int64_t a) noexcept nogil:
    """After ``a``'s key or membership may have changed."""
    cdef Py_ssize_t i = h.pos[a]
    cdef int64_t last
    if _member(g, h, a):
        if i < 0:
            i = h.size
            h.size += 1
            h.heap[i] = a
            h.pos[a] = i
        _sift(g, h, i)
    elif i >= 0:
        h.pos[a] = -1
        h.size -= 1
        if i < h.size:
            last = h.heap[h.size]
            h.heap[i] = last
            h.pos[last] = i
            _sift(g, h, i)


cdef inline void _fix_hubs(Net* g, Hub* src, Hub* snk, int64_t v) noexcept nogil:
    """The out-hubs' heaps after node ``v``'s potential or flow may have changed."""
    if v < g.n:
        _fix(g, src, v)
    elif v < g.S:
        _fix(g, snk, v - g.n)


cdef struct Search:
    int64_t* dist
    int64_t* pred
    int64_t* pred_k
    uint8_t* done
    int64_t* touched
    Py_ssize_t n_touched
    int64_t* hk  # the lazy heap: (distance, entry); entry < N a node, N + p a source hub place, N + n + p a sink's
    int64_t* hv
    Py_ssize_t size


cdef inline void _relax(Search* q, int64_t v, int64_t w, int64_t u, int64_t k) noexcept nogil:
    if w < q.dist[v] and not q.done[v]:
        if q.dist[v] == BIG:
            q.touched[q.n_touched] = v
            q.n_touched += 1
        q.dist[v], q.pred[v], q.pred_k[v] = w, u, k
        _push(q.hk, q.hv, &q.size, w, v)


cdef int _solve(Net* g, int64_t* excess, int64_t max_scans, double batch, int64_t min_paths, int64_t meet,
                int64_t* paths, int64_t* scans, int64_t* phases) noexcept nogil:
    """The primal-dual method in phases: a Dijkstra from every node with an excess at once (on
    the reduced costs) settles nodes until it has settled deficits worth ``batch`` of the
    excess left (at least one unit); the potentials of the settled nodes move by ``dist - D``
    (``D`` the last one's distance), which keeps every reduced cost >= 0 and makes every arc of
    the search's forest tight; then one unit goes from the root of each settled deficit's tree
    to it, nearest deficit first, wherever every arc of the tree path still has room at a
    reduced cost of 0 (paths of one tree share arcs) and the root still has an excess. Once at
    most ``meet`` units are left, :func:`_meet_all` moves them."""
    cdef Py_ssize_t N = g.n + g.m + 2, n = g.n, m = g.m, S = g.S, T = g.T
    cdef int64_t* pi = g.pi
    cdef Search q
    cdef Hub src, snk
    q.dist = <int64_t*> malloc(N * sizeof(int64_t))
    q.pred = <int64_t*> malloc(N * sizeof(int64_t))
    q.pred_k = <int64_t*> malloc(N * sizeof(int64_t))
    q.done = <uint8_t*> malloc(N)
    q.touched = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* settled = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* deficits = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* cur = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* stack = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* stack_k = <int64_t*> malloc(N * sizeof(int64_t))
    cdef uint8_t* dead = <uint8_t*> malloc(N)
    cdef uint8_t* onstack = <uint8_t*> malloc(N)
    cdef Py_ssize_t depth
    # at most one entry per pair arc scanned, per node's hub arc, per hub place and member, per root
    cdef Py_ssize_t heap_cap = g.P + 4 * (n + m) + 16
    q.hk = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    q.hv = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    src.heap = <int64_t*> malloc((n + 1) * sizeof(int64_t))
    src.pos = <int64_t*> malloc((n + 1) * sizeof(int64_t))
    snk.heap = <int64_t*> malloc((m + 1) * sizeof(int64_t))
    snk.pos = <int64_t*> malloc((m + 1) * sizeof(int64_t))
    src.size, snk.size, src.kind, snk.kind = 0, 0, HUB_SOURCE_OUT, HUB_SINK_OUT
    cdef Py_ssize_t n_settled, n_def, n_roots, a, b, r
    cdef int64_t s, t, u, v, k, du, D, hub_d, left, want, found, before, first
    cdef bint ok, one, each
    cdef int status = ST_OPTIMAL
    if q.dist == NULL or q.pred == NULL or q.pred_k == NULL or q.done == NULL or q.touched == NULL \
            or settled == NULL or deficits == NULL or cur == NULL or stack == NULL or stack_k == NULL \
            or dead == NULL or onstack == NULL or q.hk == NULL or q.hv == NULL or src.heap == NULL \
            or src.pos == NULL or snk.heap == NULL or snk.pos == NULL:
        status = -1
    else:
        for a in range(N):
            q.dist[a] = BIG
            q.done[a] = 0
        _rebuild(g, &src, n)
        _rebuild(g, &snk, m)
        left = 0
        for a in range(N):
            if excess[a] > 0:
                left += excess[a]
        one = batch <= 0
        first = 0
        while left > 0 and status == ST_OPTIMAL:
            if left <= meet:  # the units left, one search from both ends a unit (flow_meet.pxi)
                status = _meet_all(g, excess, max_scans, paths, scans, phases)
                break
            phases[0] += 1
            want = 1 if one else <int64_t> (batch * left)
            if want < 1:
                want = 1
            q.size, q.n_touched, n_settled, n_def, found = 0, 0, 0, 0, 0
            while excess[first] <= 0:  # (in node order: the first root left)
                first += 1
            for a in range(first, first + 1 if one else N):  # every excess (or the first) a root at distance 0
                if excess[a] > 0:
                    q.dist[a] = 0
                    q.pred[a] = -1
                    q.touched[q.n_touched] = a
                    q.n_touched += 1
                    _push(q.hk, q.hv, &q.size, 0, a)
            D = 0
            while q.size > 0:
                du, u = q.hk[0], q.hv[0]
                _pop(q.hk, q.hv, &q.size)
                if u >= N:  # a hub's arc to the member at a place of its heap; then its children
                    scans[0] += 1
                    if u < N + n:
                        r, hub_d = u - N, q.dist[S]
                        _relax(&q, src.heap[r], du, S, -1)
                        for b in range(2 * r + 1, min(2 * r + 3, src.size)):
                            _push(q.hk, q.hv, &q.size, hub_d + pi[S] - _key(g, &src, src.heap[b]), N + b)
                    else:
                        r, hub_d = u - N - n, q.dist[T]
                        _relax(&q, n + snk.heap[r], du, T, -1)
                        for b in range(2 * r + 1, min(2 * r + 3, snk.size)):
                            _push(q.hk, q.hv, &q.size, hub_d + pi[T] - _key(g, &snk, snk.heap[b]), N + n + b)
                    continue
                if q.done[u] or du > q.dist[u]:
                    continue
                q.done[u] = 1
                settled[n_settled] = u
                n_settled += 1
                D = du
                if excess[u] < 0:
                    deficits[n_def] = u
                    n_def += 1
                    found -= excess[u]
                    if found >= want:
                        break
                # the residual arcs out of u, at their reduced costs
                if u < n:
                    scans[0] += g.ptr_i[u + 1] - g.ptr_i[u] + 1
                    for b in range(g.ptr_i[u], g.ptr_i[u + 1]):
                        k = g.arcs_i[b]
                        if not g.x[k]:
                            v = n + g.tj[k]
                            _relax(&q, v, du + g.c[k] + pi[u] - pi[v], u, k)
                    if g.f[u] > 0:
                        _relax(&q, S, du + _back_cost(g, u) + pi[u] - pi[S], u, -1)
                elif u < S:
                    scans[0] += g.ptr_j[u - n + 1] - g.ptr_j[u - n] + 1
                    for b in range(g.ptr_j[u - n], g.ptr_j[u - n + 1]):
                        k = g.arcs_j[b]
                        if g.x[k]:
                            v = g.ti[k]
                            _relax(&q, v, du - g.c[k] + pi[u] - pi[v], u, k)
                    if g.load[u - n] < g.cap[u - n]:
                        _relax(&q, T, du + pi[u] - pi[T], u, -1)
                elif u == S:  # its arcs to the mentees best first (above), and the bypass
                    if src.size:
                        _push(q.hk, q.hv, &q.size, du + pi[S] - _key(g, &src, src.heap[0]), N)
                    if g.byp < g.total:
                        _relax(&q, T, du + pi[S] - pi[T], u, -1)
                else:  # the sink
                    if snk.size:
                        _push(q.hk, q.hv, &q.size, du + pi[T] - _key(g, &snk, snk.heap[0]), N + n)
                    if g.byp > 0:
                        _relax(&q, S, du + pi[T] - pi[S], u, -1)
            before = paths[0]
            if n_def == 0:
                status = ST_STUCK
            else:
                # the hubs' keys and members that move: each put back in its heap before the
                # next moves (sifting several moved keys one by one need not leave a heap), or
                # the heaps anew after a phase that settled many nodes
                each = 4 * n_settled < n + m
                for a in range(n_settled):  # every reduced cost stays >= 0; the forest's are 0
                    v = settled[a]
                    pi[v] += q.dist[v] - D
                    if each:
                        _fix_hubs(g, &src, &snk, v)
                if one:  # the search's path to its deficit, as in the forest
                    t = deficits[0]
                    v = t
                    while q.pred[v] >= 0:
                        u = q.pred[v]
                        _send(g, u, v, q.pred_k[v])
                        if each:
                            _fix_hubs(g, &src, &snk, u)
                            _fix_hubs(g, &src, &snk, v)
                        v = u
                    excess[v] -= 1
                    excess[t] += 1
                    left -= 1
                    paths[0] += 1
                    n_roots = 0
                else:
                    n_roots = n_settled
                # a blocking flow on the tight arcs among the settled nodes: from each root, depth
                # first with a current arc per node (an arc passed over is not tried again this
                # phase, a node with no way on is dead), one unit at a time to any deficit
                for a in range(n_roots):
                    v = settled[a]
                    cur[v], dead[v], onstack[v] = 0, 0, 0
                for a in range(n_roots):
                    s = settled[a]
                    while excess[s] > 0 and not dead[s]:
                        depth = 0
                        stack[0] = s
                        onstack[s] = 1
                        while depth >= 0:
                            u = stack[depth]
                            if excess[u] < 0 and depth > 0:  # a deficit: one unit along the stack
                                for b in range(depth):
                                    _send(g, stack[b], stack[b + 1], stack_k[b + 1])
                                    if each:
                                        _fix_hubs(g, &src, &snk, stack[b])
                                        _fix_hubs(g, &src, &snk, stack[b + 1])
                                excess[s] -= 1
                                excess[u] += 1
                                left -= 1
                                paths[0] += 1
                                break
                            ok = False
                            while True:
                                if not _arc_at(g, u, cur[u], &v, &k):
                                    break
                                scans[0] += 1
                                if q.done[v] and not dead[v] and not onstack[v] and _arc_rc(g, u, v, k) == 0:
                                    ok = True
                                    break
                                cur[u] += 1
                            if ok:
                                depth += 1
                                stack[depth], stack_k[depth] = v, k
                                onstack[v] = 1
                            else:  # no way on from u: dead for this phase; its parent moves on
                                dead[u] = 1
                                onstack[u] = 0
                                depth -= 1
                                if depth >= 0:
                                    cur[stack[depth]] += 1
                        while depth >= 0:  # (after a path: the stack left)
                            onstack[stack[depth]] = 0
                            depth -= 1
                if not one and paths[0] - before < min_paths:  # phases that move little: one root at a time
                    one = True
                if not each:
                    _rebuild(g, &src, n)
                    _rebuild(g, &snk, m)
            for a in range(q.n_touched):
                v = q.touched[a]
                q.dist[v] = BIG
                q.done[v] = 0
            if scans[0] > max_scans and status == ST_OPTIMAL:
                status = ST_GAVE_UP
    free(q.dist)
    free(q.pred)
    free(q.pred_k)
    free(q.done)
    free(q.touched)
    free(settled)
    free(deficits)
    free(cur)
    free(stack)
    free(stack_k)
    free(dead)
    free(onstack)
    free(q.hk)
    free(q.hv)
    free(src.heap)
    free(src.pos)
    free(snk.heap)
    free(snk.pos)
    return status
