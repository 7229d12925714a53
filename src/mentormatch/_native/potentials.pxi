# The dual potentials of an optimal flow compiled (included by flow.pyx): the twin of
# mentormatch.solvers.duals.potentials, which states the network, the residual arcs and what is
# computed. Integer costs: the shortest distances are unique, so these are the numpy sweeps'
# distances to the unit; only the count of passes differs (see potentials below).
from libc.stdint cimport int32_t


cdef Py_ssize_t _label_correct(Py_ssize_t N, const int64_t* ptr, const int32_t* head,
                               const int64_t* arc_cost, int64_t* d, int32_t* queue, uint8_t* queued,
                               int32_t* nxt, int32_t* prv, int32_t* depth) noexcept nogil:
    """Shortest distances ``d`` (every one 0 at the start: a virtual root's 0-cost arc into each
    node) over the arcs ``ptr[u]..ptr[u+1]`` out of each node ``u``: label correcting by a FIFO
    queue in passes (pass 1 scans every node in order, pass ``k + 1`` the nodes whose distance
    fell in pass ``k``) with Tarjan's subtree disassembly: the tree of the last arcs that
    lowered each distance is kept in preorder (``nxt``, ``prv``, ``depth``; the root is node
    ``N``); when a node's distance falls, the nodes below it leave the tree, as their distances
    must fall too, and are not scanned until they do (an arc into one of them from below is a
    negative cycle). Returns the passes, or -1 on a negative cycle."""
    cdef Py_ssize_t h = 0, count = N, left = N, passes = 1, a
    cdef int32_t u, v, x, last, after, R = <int32_t> N
    cdef int64_t du, dv
    for a in range(N):
        queue[a] = <int32_t> a
        queued[a] = 1
        nxt[a], prv[a], depth[a] = <int32_t> (a + 1), <int32_t> (a - 1 if a else N), 1
    nxt[R], prv[R], depth[R] = 0, R - 1, 0
    nxt[R - 1] = R
    while count > 0:
        if left == 0:  # the pass's nodes scanned: the next pass is the queue as it stands
            passes += 1
            if passes > N + 1:  # (cannot happen: a negative cycle shows in the tree first)
                return -1
            left = count
        u = queue[h]
        h = h + 1 if h + 1 < N else 0
        count -= 1
        left -= 1
        queued[u] = 0
        if depth[u] < 0:  # out of the tree: its distance is to fall (scanned then)
            continue
        du = d[u]
        for a in range(ptr[u], ptr[u + 1]):
            v = head[a]
            dv = du + arc_cost[a]
            if dv >= d[v]:
                continue
            d[v] = dv
            if depth[v] >= 0:  # v and the nodes below it leave the tree
                x = nxt[v]
                while depth[x] > depth[v]:
                    if x == u:
                        return -1  # u lies below v: the arc u -> v closes a negative cycle
                    depth[x] = -1
                    x = nxt[x]
                last = prv[v]
                nxt[last], prv[x] = x, last
            after = nxt[u]  # v hangs from u (first child)
            nxt[u], prv[v], nxt[v], prv[after] = v, u, after, v
            depth[v] = depth[u] + 1
            if not queued[v]:
                queued[v] = 1
                queue[h + count if h + count < N else h + count - N] = v
                count += 1
    return passes


def potentials(const int64_t[::1] ti, const int64_t[::1] tj, const int64_t[::1] c, const uint8_t[::1] x,
               const int64_t[::1] dem, const int64_t[::1] cap, start, cover):
    """The potentials of :func:`mentormatch.solvers.duals.potentials` (its arguments: the pairs
    ``ti -> tj`` of cost ``c``, ``x`` 1 where chosen, ``start`` None or its four potentials,
    ``cover`` None or one int64 weight per mentee), the same distances: the residual network
    built once by tail (the pairs in their order, then the node's arc to the source or to the
    sink; the source's arcs, then the bypass), its costs reduced by ``start``, and
    :func:`_label_correct` on it.

    Returns ``(d_mentee, d_mentor, d_source, d_sink, passes)``, or None when a negative cycle
    shows the flow is not optimal."""
    cdef Py_ssize_t n = dem.shape[0], m = cap.shape[0], P = ti.shape[0], N = n + m + 2
    cdef Py_ssize_t S = n + m, T = n + m + 1, k, a, u, passes
    cdef int64_t matched = 0, total = 0, w
    cdef bint bad = False
    cdef const int64_t* cw = NULL
    cdef int64_t[::1] cover_v
    if tj.shape[0] != P or c.shape[0] != P or x.shape[0] != P:
        raise ValueError("potentials: the pair arrays must have one length")
    if N >= (1 << 31) - 1:
        raise ValueError(f"potentials: {n} mentees and {m} mentors are more nodes than the kernel indexes")
    pi_np = np.zeros(N, np.int64)
    if start is not None:
        pi_np[:n], pi_np[n:S], pi_np[S], pi_np[T] = start[0], start[1], start[2], start[3]
    cdef const int64_t[::1] pi = pi_np
    if cover is not None:
        cover_v = np.ascontiguousarray(cover, np.int64)
        if cover_v.shape[0] != n:
            raise ValueError("potentials: cover must hold one weight per mentee")
        cw = &cover_v[0] if n else NULL
    cdef int64_t[::1] f = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] load = np.zeros(m + 1, np.int64)
    cdef int64_t[::1] ptr = np.zeros(N + 1, np.int64)
    cdef int64_t[::1] at = np.empty(N, np.int64)
    cdef int32_t[::1] head = np.empty(P + 2 * (n + m) + 2, np.int32)
    cdef int64_t[::1] arc_cost = np.empty(P + 2 * (n + m) + 2, np.int64)
    d_np = np.zeros(N, np.int64)
    cdef int64_t[::1] d = d_np
    cdef int32_t[::1] queue = np.empty(N, np.int32)
    cdef uint8_t[::1] queued = np.empty(N, np.uint8)
    cdef int32_t[::1] nxt = np.empty(N + 1, np.int32)
    cdef int32_t[::1] prv = np.empty(N + 1, np.int32)
    cdef int32_t[::1] depth = np.empty(N + 1, np.int32)
    with nogil:
        for k in range(P):
            if ti[k] < 0 or ti[k] >= n or tj[k] < 0 or tj[k] >= m:
                bad = True
                break
            if x[k]:
                f[ti[k]] += 1
                load[tj[k]] += 1
                ptr[n + tj[k] + 1] += 1  # mentor -> mentee
            else:
                ptr[ti[k] + 1] += 1  # mentee -> mentor
        if not bad:
            for a in range(n):
                matched += f[a]
                total += dem[a]
                if f[a] > 0:  # mentee -> source
                    ptr[a + 1] += 1
                if f[a] < dem[a]:  # source -> mentee
                    ptr[S + 1] += 1
            for a in range(m):
                if load[a] < cap[a]:  # mentor -> sink
                    ptr[n + a + 1] += 1
                if load[a] > 0:  # sink -> mentor
                    ptr[T + 1] += 1
            ptr[S + 1] += matched > 0  # the bypass: source -> sink
            ptr[T + 1] += matched < total  # sink -> source
            for u in range(N):
                ptr[u + 1] += ptr[u]
                at[u] = ptr[u]
            for k in range(P):
                if x[k]:
                    u = n + tj[k]
                    head[at[u]], arc_cost[at[u]] = <int32_t> ti[k], -c[k] + pi[u] - pi[ti[k]]
                else:
                    u = ti[k]
                    head[at[u]], arc_cost[at[u]] = <int32_t> (n + tj[k]), c[k] + pi[u] - pi[n + tj[k]]
                at[u] += 1
            for a in range(n):
                w = cw[a] if cw != NULL else 0  # coverage_first's first unit
                if f[a] > 0:
                    head[at[a]], arc_cost[at[a]] = <int32_t> S, (w if f[a] == 1 else 0) + pi[a] - pi[S]
                    at[a] += 1
                if f[a] < dem[a]:
                    head[at[S]], arc_cost[at[S]] = <int32_t> a, (-w if f[a] == 0 else 0) + pi[S] - pi[a]
                    at[S] += 1
            for a in range(m):
                if load[a] < cap[a]:
                    head[at[n + a]], arc_cost[at[n + a]] = <int32_t> T, pi[n + a] - pi[T]
                    at[n + a] += 1
                if load[a] > 0:
                    head[at[T]], arc_cost[at[T]] = <int32_t> (n + a), pi[T] - pi[n + a]
                    at[T] += 1
            if matched > 0:
                head[at[S]], arc_cost[at[S]] = <int32_t> T, pi[S] - pi[T]
            if matched < total:
                head[at[T]], arc_cost[at[T]] = <int32_t> S, pi[T] - pi[S]
            passes = _label_correct(N, &ptr[0], &head[0], &arc_cost[0], &d[0], &queue[0], &queued[0],
                                    &nxt[0], &prv[0], &depth[0])
            for u in range(N):
                d[u] += pi[u]
    if bad:
        raise ValueError(f"potentials: a pair's mentee or mentor is outside {n} mentees and {m} mentors")
    if passes < 0:
        return None
    return d_np[:n].copy(), d_np[n:S].copy(), int(d_np[S]), int(d_np[T]), int(passes)
