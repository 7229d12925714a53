# One unit a search, the searches meeting (included by flow.pyx after flow_phases.pxi): the end
# of the repair, once at most ``meet`` units are left (flow.pyx's docstring, step 2).
#
# A search from one excess that stops at its first deficit settles every node nearer than it.
# Late in a repair that is most of the network: each search lowers the potentials of the nodes
# it settled to its distance, so the units already moved leave a plateau of nearly tight arcs
# around them, and a later unit (whose first arc costs much: its mentee's next choice is far
# worse) lands on it and settles all of it before it reaches a deficit beyond. Measured on the
# 100,000 x 20,000 round-2 repair (321 violators, 1.38M pairs, 307 units): the last 30 searches
# settled 50,000-118,000 of 120,000 nodes each, 50M of the 70M arc scans.
#
# Here a search runs from both ends at once: forward from the excess, backward (on the arcs
# reversed) from every deficit, the side that has settled fewer nodes first (on that repair
# 29.5M scans; the side with the nearer top first, 122M: the backward side floods while the
# excess's first arc is dear), until the two tops add up to the shortest path met so far, ``D``. With ``Rf`` the forward top (capped at ``D``) and
# ``Rb = D - Rf``, the potentials move by ``h = min(df, Rf) - min(db, Rb)`` (``df``, ``db`` the
# distances from the excess and to the deficits; a node a side did not settle counts as at its
# radius): ``h`` is a difference of two feasible potentials that cannot both rise along one arc
# unless the arc starts inside the forward ball and ends inside the backward one, where
# ``df(u) + rc + db(v) >= D`` bounds the rise. So every reduced cost stays ``>= 0``, and every
# arc of the path found is tight (``h = df - Rb`` along it). Only the nodes the two searches
# settled move. The hubs' arcs are read best first from heaps, as the phases' are, with two more
# for the backward side (the arcs into the source and into the sink).

cdef struct Side:
    int64_t* dist
    int64_t* pred  # forward: the node before on the path; backward: the node after
    int64_t* pred_k
    uint8_t* done
    int64_t* touched
    Py_ssize_t n_touched
    int64_t* settled
    Py_ssize_t n_settled
    int64_t* hk  # the lazy heap, entries as in flow_phases.pxi's Search
    int64_t* hv
    Py_ssize_t size


cdef bint _side_alloc(Side* q, Py_ssize_t N, Py_ssize_t heap_cap) noexcept nogil:
    cdef Py_ssize_t a
    q.dist = <int64_t*> malloc(N * sizeof(int64_t))
    q.pred = <int64_t*> malloc(N * sizeof(int64_t))
    q.pred_k = <int64_t*> malloc(N * sizeof(int64_t))
    q.done = <uint8_t*> malloc(N)
    q.touched = <int64_t*> malloc(N * sizeof(int64_t))
    q.settled = <int64_t*> malloc(N * sizeof(int64_t))
    q.hk = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    q.hv = <int64_t*> malloc(heap_cap * sizeof(int64_t))
    if q.dist == NULL or q.pred == NULL or q.pred_k == NULL or q.done == NULL or q.touched == NULL \
            or q.settled == NULL or q.hk == NULL or q.hv == NULL:
        return False
    for a in range(N):
        q.dist[a] = BIG
        q.done[a] = 0
    q.n_touched, q.n_settled, q.size = 0, 0, 0
    return True


cdef void _side_free(Side* q) noexcept nogil:
    free(q.dist)
    free(q.pred)
    free(q.pred_k)
    free(q.done)
    free(q.touched)
    free(q.settled)
    free(q.hk)
    free(q.hv)


cdef void _side_reset(Side* q) noexcept nogil:
    cdef Py_ssize_t a
    for a in range(q.n_touched):
        q.dist[q.touched[a]] = BIG
        q.done[q.touched[a]] = 0
    q.n_touched, q.n_settled, q.size = 0, 0, 0


cdef inline void _label(Side* q, Side* o, int64_t v, int64_t w, int64_t u, int64_t k, int64_t* best,
                        int64_t* meet) noexcept nogil:
    """A path of length ``w`` to ``v`` (from ``u`` by arc ``k``) on side ``q``; where the other
    side ``o`` has reached ``v`` too, a path through ``v`` of length ``w + o.dist[v]``."""
    if w < q.dist[v] and not q.done[v]:
        if q.dist[v] == BIG:
            q.touched[q.n_touched] = v
            q.n_touched += 1
        q.dist[v], q.pred[v], q.pred_k[v] = w, u, k
        _push(q.hk, q.hv, &q.size, w, v)
        if o.dist[v] < BIG and w + o.dist[v] < best[0]:
            best[0] = w + o.dist[v]
            meet[0] = v


cdef inline void _fix_node(Net* g, Hub* hubs, int64_t v) noexcept nogil:
    """The four hubs' heaps after ``v``'s potential or flow may have changed."""
    if v < g.n:
        _fix(g, &hubs[HUB_SOURCE_OUT], v)
        _fix(g, &hubs[HUB_SOURCE_IN], v)
    elif v < g.S:
        _fix(g, &hubs[HUB_SINK_OUT], v - g.n)
        _fix(g, &hubs[HUB_SINK_IN], v - g.n)


cdef int _meet_all(Net* g, int64_t* excess, int64_t max_scans, int64_t* paths, int64_t* scans,
                   int64_t* phases) noexcept nogil:
    """Every unit of excess left, one search a unit from the first excess (in node order) and
    from every deficit (above); returns the status as :func:`_solve`."""
    cdef Py_ssize_t N = g.n + g.m + 2, n = g.n, S = g.S, T = g.T
    cdef int64_t* pi = g.pi
    cdef Side fw, bw
    cdef Hub hubs[4]
    cdef Py_ssize_t heap_cap = g.P + 4 * (n + g.m) + 16, a, b, r, n_defs = 0, first = 0, h
    cdef int64_t* defs = <int64_t*> malloc(N * sizeof(int64_t))
    cdef uint8_t* mark = <uint8_t*> calloc(N, 1)
    cdef int64_t u, v, k, du, tf, tb, best, meet, Rf, Rb, root, hub_d, cut
    cdef int status = ST_OPTIMAL
    cdef bint ok = _side_alloc(&fw, N, heap_cap) and _side_alloc(&bw, N, heap_cap) and defs != NULL and mark != NULL
    cdef Side* q
    cdef Side* o
    for h in range(4):
        hubs[h].kind = <int> h
        hubs[h].heap = <int64_t*> malloc(((n if h % 2 == 0 else g.m) + 1) * sizeof(int64_t))
        hubs[h].pos = <int64_t*> malloc(((n if h % 2 == 0 else g.m) + 1) * sizeof(int64_t))
        ok = ok and hubs[h].heap != NULL and hubs[h].pos != NULL
    if not ok:
        status = -1
    else:
        for h in range(4):
            _rebuild(g, &hubs[h], n if h % 2 == 0 else g.m)
        for a in range(N):
            if excess[a] < 0:
                defs[n_defs] = a
                n_defs += 1
    while status == ST_OPTIMAL:
        while first < N and excess[first] <= 0:
            first += 1
        if first == N:
            break
        phases[0] += 1
        best, meet = BIG, -1
        fw.dist[first], fw.pred[first] = 0, -1
        fw.touched[0], fw.n_touched = first, 1
        _push(fw.hk, fw.hv, &fw.size, 0, first)
        for a in range(n_defs):
            v = defs[a]
            bw.dist[v], bw.pred[v] = 0, -1
            bw.touched[bw.n_touched] = v
            bw.n_touched += 1
            _push(bw.hk, bw.hv, &bw.size, 0, v)
        while True:
            tf = fw.hk[0] if fw.size else BIG
            tb = bw.hk[0] if bw.size else BIG
            if tf >= BIG and tb >= BIG:
                break
            if best < BIG and (tf >= BIG or tb >= BIG or tf + tb >= best):
                break
            if tb >= BIG or (tf < BIG and fw.n_settled <= bw.n_settled):  # (the side that has settled fewer)
                q, o = &fw, &bw
            else:
                q, o = &bw, &fw
            du, u = q.hk[0], q.hv[0]
            _pop(q.hk, q.hv, &q.size)
            if u >= N:  # a hub's arc to (forward) or from (backward) the member at a place of its heap
                scans[0] += 1
                h = (0 if u < N + n else 1) + (0 if q == &fw else 2)
                r = u - N - (0 if u < N + n else n)
                v = hubs[h].heap[r] + (0 if h % 2 == 0 else n)
                hub_d = q.dist[S if h % 2 == 0 else T]
                _label(q, o, v, du, S if h % 2 == 0 else T, -1, &best, &meet)
                for b in range(2 * r + 1, min(2 * r + 3, hubs[h].size)):
                    if h < 2:
                        _push(q.hk, q.hv, &q.size, hub_d + pi[S if h == 0 else T] - _key(g, &hubs[h], hubs[h].heap[b]),
                              u - r + b)
                    else:
                        _push(q.hk, q.hv, &q.size, hub_d - pi[S if h == 2 else T] - _key(g, &hubs[h], hubs[h].heap[b]),
                              u - r + b)
                continue
            if q.done[u] or du > q.dist[u]:
                continue
            q.done[u] = 1
            q.settled[q.n_settled] = u
            q.n_settled += 1
            if q == &fw:  # the residual arcs out of u
                if u < n:
                    scans[0] += g.ptr_i[u + 1] - g.ptr_i[u] + 1
                    for b in range(g.ptr_i[u], g.ptr_i[u + 1]):
                        k = g.arcs_i[b]
                        if not g.x[k]:
                            v = n + g.tj[k]
                            _label(q, o, v, du + g.c[k] + pi[u] - pi[v], u, k, &best, &meet)
                    if g.f[u] > 0:
                        _label(q, o, S, du + _back_cost(g, u) + pi[u] - pi[S], u, -1, &best, &meet)
                elif u < S:
                    scans[0] += g.ptr_j[u - n + 1] - g.ptr_j[u - n] + 1
                    for b in range(g.ptr_j[u - n], g.ptr_j[u - n + 1]):
                        k = g.arcs_j[b]
                        if g.x[k]:
                            v = g.ti[k]
                            _label(q, o, v, du - g.c[k] + pi[u] - pi[v], u, k, &best, &meet)
                    if g.load[u - n] < g.cap[u - n]:
                        _label(q, o, T, du + pi[u] - pi[T], u, -1, &best, &meet)
                elif u == S:
                    if hubs[HUB_SOURCE_OUT].size:
                        _push(q.hk, q.hv, &q.size, du + pi[S] - _key(g, &hubs[HUB_SOURCE_OUT],
                                                                      hubs[HUB_SOURCE_OUT].heap[0]), N)
                    if g.byp < g.total:
                        _label(q, o, T, du + pi[S] - pi[T], u, -1, &best, &meet)
                else:
                    if hubs[HUB_SINK_OUT].size:
                        _push(q.hk, q.hv, &q.size, du + pi[T] - _key(g, &hubs[HUB_SINK_OUT],
                                                                      hubs[HUB_SINK_OUT].heap[0]), N + n)
                    if g.byp > 0:
                        _label(q, o, S, du + pi[T] - pi[S], u, -1, &best, &meet)
            else:  # the residual arcs into u, reversed
                if u < n:
                    scans[0] += g.ptr_i[u + 1] - g.ptr_i[u] + 1
                    for b in range(g.ptr_i[u], g.ptr_i[u + 1]):
                        k = g.arcs_i[b]
                        if g.x[k]:  # mentor -> u
                            v = n + g.tj[k]
                            _label(q, o, v, du - g.c[k] + pi[v] - pi[u], u, k, &best, &meet)
                    if g.f[u] < g.dem[u]:
                        _label(q, o, S, du + _out_cost(g, u) + pi[S] - pi[u], u, -1, &best, &meet)
                elif u < S:
                    scans[0] += g.ptr_j[u - n + 1] - g.ptr_j[u - n] + 1
                    for b in range(g.ptr_j[u - n], g.ptr_j[u - n + 1]):
                        k = g.arcs_j[b]
                        if not g.x[k]:  # mentee -> u
                            v = g.ti[k]
                            _label(q, o, v, du + g.c[k] + pi[v] - pi[u], u, k, &best, &meet)
                    if g.load[u - n] > 0:
                        _label(q, o, T, du + pi[T] - pi[u], u, -1, &best, &meet)
                elif u == S:  # from the mentees with flow (best first), and the bypass from the sink
                    if hubs[HUB_SOURCE_IN].size:
                        _push(q.hk, q.hv, &q.size, du - pi[S] - _key(g, &hubs[HUB_SOURCE_IN],
                                                                      hubs[HUB_SOURCE_IN].heap[0]), N)
                    if g.byp > 0:
                        _label(q, o, T, du + pi[T] - pi[S], u, -1, &best, &meet)
                else:  # from the mentors with room, and the bypass from the source
                    if hubs[HUB_SINK_IN].size:
                        _push(q.hk, q.hv, &q.size, du - pi[T] - _key(g, &hubs[HUB_SINK_IN],
                                                                      hubs[HUB_SINK_IN].heap[0]), N + n)
                    if g.byp < g.total:
                        _label(q, o, S, du + pi[S] - pi[T], u, -1, &best, &meet)
        if meet < 0:
            status = ST_STUCK
        else:
            tf = fw.hk[0] if fw.size else BIG
            Rf = tf if tf < best else best
            Rb = best - Rf
            # (each key moved is put back in the hubs' heaps before the next moves: sifting
            # several moved keys one by one need not leave a heap)
            for a in range(fw.n_settled):
                v = fw.settled[a]
                pi[v] += (fw.dist[v] if fw.dist[v] < Rf else Rf) - Rf
                _fix_node(g, hubs, v)
            for a in range(bw.n_settled):
                v = bw.settled[a]
                pi[v] += Rb - (bw.dist[v] if bw.dist[v] < Rb else Rb)
                _fix_node(g, hubs, v)
            # the two trees' paths may cross (around a cycle of cost 0, as ties make): the unit
            # goes forward to the last node of the backward path that the forward path holds,
            # then backward from there, a shortest path too, so every arc of it is tight
            v = meet
            while v >= 0:
                mark[v] = 1
                v = fw.pred[v]
            cut, v = meet, meet
            while v >= 0:
                if mark[v]:
                    cut = v
                v = bw.pred[v]
            v = meet
            while v >= 0:
                mark[v] = 0
                v = fw.pred[v]
            v = cut
            while fw.pred[v] >= 0:
                u = fw.pred[v]
                _send(g, u, v, fw.pred_k[v])
                _fix_node(g, hubs, u)
                _fix_node(g, hubs, v)
                v = u
            root = v
            v = cut
            while bw.pred[v] >= 0:
                u = bw.pred[v]
                _send(g, v, u, bw.pred_k[v])
                _fix_node(g, hubs, u)
                _fix_node(g, hubs, v)
                v = u
            excess[root] -= 1
            excess[v] += 1
            paths[0] += 1
            if excess[v] == 0:  # a deficit filled
                for a in range(n_defs):
                    if defs[a] == v:
                        defs[a] = defs[n_defs - 1]
                        n_defs -= 1
                        break
        _side_reset(&fw)
        _side_reset(&bw)
        if scans[0] > max_scans and status == ST_OPTIMAL:
            status = ST_GAVE_UP
    _side_free(&fw)
    _side_free(&bw)
    for h in range(4):
        free(hubs[h].heap)
        free(hubs[h].pos)
    free(defs)
    free(mark)
    return status
