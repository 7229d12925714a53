# The warm cost-scaling solve of flow.pyx (included there, after the network's arc helpers):
# Goldberg's push-relabel refines from the lifted state, on the costs times ``alpha = N + 1``
# (``N`` the nodes), ``eps`` from the largest violation down to 1; then integer potentials from
# the scaled ones by a label-correcting pass on the original costs.
#
# The lifted state is 0-optimal (every residual arc has a reduced cost >= 0), so no refine has
# to undo the old flow: a refine at ``eps`` first saturates only the residual arcs whose scaled
# reduced cost is below ``-eps`` (none at the first), then a global price update
# (:func:`_price_update`), then discharges every excess, FIFO, along admissible arcs (scaled
# reduced cost < 0); a node with no admissible arc left has its potential lowered until its
# cheapest residual arc sits at ``-eps`` (and every ``update_every`` such relabels, a global
# update again). Each refine ends ``eps``-optimal with no excess; the last, at ``eps = 1``, is
# optimal on the original integer costs (``1 / alpha < 1 / N``). The integer potentials start
# at ``floor(ps / alpha)``; every residual arc that still has a negative reduced cost lowers its
# head's potential (a queue: it ends, the flow being optimal, no cycle is negative). The caller
# checks the end state arc by arc, as after the phases.
#
# Measured (s25h1, saved rounds of pair() at 100,000 x 20,000, CPU, load 17-21): correct but
# 4-5 x slower than OR-Tools cold + prices (32,836 violators in 834,004 pairs: 12.6 s against
# 2.9 s; 13,802 in 1.38M: 26.4 s against 5.2 s): each refine saturates again the arcs of the
# last refine's flow below ``-eps`` and moves them anew (7.3M pushes for about 26,000 units).


cdef inline int64_t _floor_div(int64_t a, int64_t b) noexcept nogil:
    """``floor(a / b)`` for ``b > 0`` (C division truncates)."""
    cdef int64_t q = a // b
    if (a % b) != 0 and a < 0:
        q -= 1
    return q


cdef inline int64_t _scaled_rc(Net* z, int64_t* ps, int64_t alpha, int64_t u, int64_t v, int64_t k) noexcept nogil:
    """The scaled reduced cost of the residual arc ``u -> v`` (``z``: the network with zero
    potentials, so that :func:`_arc_rc` reads the arc's cost), or ``BIG`` when it has no room."""
    cdef int64_t r = _arc_rc(z, u, v, k)
    if r == BIG:
        return BIG
    return alpha * r + ps[u] - ps[v]


cdef void _price_update(Net* z, int64_t* ps, int64_t alpha, int64_t eps, int64_t* excess, int64_t* d,
                        uint8_t* done, int64_t* hk, int64_t* hv, int64_t* scans) noexcept nogil:
    """Goldberg's global price update: ``d(u)``, the fewest ``eps`` steps from ``u`` to a
    deficit (a residual arc of scaled reduced cost ``r`` counts 0 below 0, else ``r // eps +
    1``; a Dijkstra from every deficit on the arcs reversed, stopped once every excess is
    settled), lowers ``ps(u)`` by ``d(u) eps`` (the nodes not settled by the last distance):
    every residual arc keeps a scaled reduced cost ``>= -eps``, and every excess then has an
    admissible path to a deficit."""
    cdef Py_ssize_t N = z.n + z.m + 2, a, size = 0
    cdef int64_t u, v, k, at, r, du, w, D = 0, active = 0
    for a in range(N):
        d[a] = BIG
        done[a] = 0
        if excess[a] < 0:
            d[a] = 0
            _push(hk, hv, &size, 0, a)
        elif excess[a] > 0:
            active += 1
    while size > 0 and active > 0:
        du, v = hk[0], hv[0]
        _pop(hk, hv, &size)
        if done[v] or du > d[v]:
            continue
        done[v] = 1
        D = du
        if excess[v] > 0:
            active -= 1
        at = 0
        while _arc_at(z, v, at, &u, &k):  # the arc v -> u in v's list: its reverse u -> v
            r = _scaled_rc(z, ps, alpha, u, v, k)
            if r != BIG and not done[u]:
                w = du + (0 if r < 0 else r // eps + 1)
                if w < d[u]:
                    d[u] = w
                    _push(hk, hv, &size, w, u)
            at += 1
        scans[0] += at
    for a in range(N):
        ps[a] -= (d[a] if done[a] else D) * eps


cdef int _scaling(Net* g, int64_t* excess, int64_t max_scans, int64_t eps0, int64_t factor, int64_t update_every,
                  int64_t* paths, int64_t* scans, int64_t* phases) noexcept nogil:
    """The cost-scaling solve (the comment at the top of this file): ``eps`` starts at
    ``eps0`` (original units) and is divided by ``factor`` each refine down to 1 (scaled
    units); ``g.pi`` ends as integer potentials (the caller checks them). ``phases`` counts the
    refines, ``paths`` the unit pushes."""
    cdef Py_ssize_t N = g.n + g.m + 2, n = g.n, a, head, tail, queued
    cdef int64_t alpha = N + 1, limit = (<int64_t> 1) << 60, big_c = 0, big_p = 0, u, v, k, at, r, best, eps
    cdef int status = ST_OPTIMAL
    cdef Net z = g[0]
    cdef int64_t* ps = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* zero = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* cur = <int64_t*> malloc(N * sizeof(int64_t))
    cdef int64_t* queue = <int64_t*> malloc((N + 1) * sizeof(int64_t))
    cdef uint8_t* inq = <uint8_t*> malloc(N)
    cdef int64_t* d = <int64_t*> malloc(N * sizeof(int64_t))
    cdef uint8_t* done = <uint8_t*> malloc(N)
    cdef Py_ssize_t heap_cap = 2 * g.P + 4 * N + 16, relabels
    cdef int64_t* hk = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    cdef int64_t* hv = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    if d == NULL or done == NULL or hk == NULL or hv == NULL or ps == NULL or zero == NULL or cur == NULL or queue == NULL or inq == NULL:
        status = -1
    else:
        for a in range(g.P):  # (the scaled costs and potentials must stay far inside int64)
            big_c = max(big_c, g.c[a] if g.c[a] >= 0 else -g.c[a])
        if g.cover != NULL:
            for a in range(n):
                big_c = max(big_c, g.cover[a])
        for a in range(N):
            big_p = max(big_p, g.pi[a] if g.pi[a] >= 0 else -g.pi[a])
        if big_c > limit // (4 * alpha) or big_p > limit // (4 * alpha) or eps0 > limit // (4 * alpha):
            status = ST_GAVE_UP
    if status == ST_OPTIMAL:
        for a in range(N):
            ps[a] = alpha * g.pi[a]
            zero[a] = 0
            inq[a] = 0
        z.pi = zero  # (z also holds the bypass's flow while this runs: its own copy)
        eps = max(eps0 * alpha, 1)
        while status == ST_OPTIMAL:
            phases[0] += 1
            # the residual arcs below -eps (left by the last refine at a larger eps): saturated
            for u in range(N):
                at = 0
                while _arc_at(&z, u, at, &v, &k):
                    scans[0] += 1
                    while _scaled_rc(&z, ps, alpha, u, v, k) < -eps:
                        _send(&z, u, v, k)
                        excess[u] -= 1
                        excess[v] += 1
                    at += 1
            _price_update(&z, ps, alpha, eps, excess, d, done, hk, hv, scans)
            relabels = 0
            head, tail, queued = 0, 0, 0
            for a in range(N):
                cur[a] = 0
                if excess[a] > 0:
                    queue[tail] = a
                    tail += 1
                    queued += 1
                    inq[a] = 1
            while queued > 0 and status == ST_OPTIMAL:  # FIFO: discharge each active node
                u = queue[head]
                head = (head + 1) % (N + 1)
                queued -= 1
                inq[u] = 0
                while excess[u] > 0:
                    if not _arc_at(&z, u, cur[u], &v, &k):  # no admissible arc left: relabel
                        best, at = BIG, 0
                        while _arc_at(&z, u, at, &v, &k):
                            r = _scaled_rc(&z, ps, alpha, u, v, k)
                            if r < best:
                                best = r
                            at += 1
                        scans[0] += at
                        if best == BIG:
                            status = ST_STUCK
                            break
                        ps[u] -= best + eps
                        cur[u] = 0
                        relabels += 1
                        if relabels > update_every:
                            relabels = 0
                            _price_update(&z, ps, alpha, eps, excess, d, done, hk, hv, scans)
                            for a in range(N):
                                cur[a] = 0
                        if scans[0] > max_scans:
                            status = ST_GAVE_UP
                            break
                        continue
                    scans[0] += 1
                    if _scaled_rc(&z, ps, alpha, u, v, k) < 0:
                        _send(&z, u, v, k)
                        excess[u] -= 1
                        excess[v] += 1
                        paths[0] += 1
                        if excess[v] > 0 and not inq[v]:
                            queue[tail] = v
                            tail = (tail + 1) % (N + 1)
                            queued += 1
                            inq[v] = 1
                    else:
                        cur[u] += 1
            if eps == 1:
                break
            eps = max(eps // factor, 1)
        g.byp = z.byp
        if status == ST_OPTIMAL:  # integer potentials: floor(ps / alpha), then corrected
            for a in range(N):
                g.pi[a] = _floor_div(ps[a], alpha)
                queue[a] = a
                inq[a] = 1
            head, tail, queued = 0, N % (N + 1), N
            while queued > 0:
                u = queue[head]
                head = (head + 1) % (N + 1)
                queued -= 1
                inq[u] = 0
                at = 0
                while _arc_at(&z, u, at, &v, &k):
                    r = _arc_rc(&z, u, v, k)
                    if r != BIG and g.pi[u] + r < g.pi[v]:
                        g.pi[v] = g.pi[u] + r
                        if not inq[v]:
                            queue[tail] = v
                            tail = (tail + 1) % (N + 1)
                            queued += 1
                            inq[v] = 1
                    at += 1
                scans[0] += at
                if scans[0] > max_scans:
                    status = ST_GAVE_UP
                    break
    free(d)
    free(done)
    free(hk)
    free(hv)
    free(ps)
    free(zero)
    free(cur)
    free(queue)
    free(inq)
    return status
