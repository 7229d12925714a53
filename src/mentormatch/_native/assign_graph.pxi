# (included by assign.pyx: the routines on a flow's residual graph (strong components,
# distances from a root, the unit potentials, the tie rule's movable pairs); the module's
# imports and heap.pxi are in scope. The tie rule's gathering of its pairs and keys is in
# assign_ties.pxi)


def strong_components(const int64_t[::1] ptr, const int64_t[::1] adj):
    """A strongly connected component label per node of the graph whose node ``v`` has arcs to
    ``adj[ptr[v]:ptr[v + 1]]`` (Tarjan's algorithm, iterative: :func:`_components`). Labels are
    0.. in the order the components close; only which nodes share a label means anything (as
    with scipy's)."""
    cdef Py_ssize_t n = ptr.shape[0] - 1
    label_a = np.empty(n, np.int64)
    work_a = np.empty(6 * max(n, 1), np.int64)
    cdef int64_t[::1] label = label_a, work = work_a
    if n > 0:
        with nogil:
            _components(n, &ptr[0], &adj[0] if adj.shape[0] else NULL, &label[0], &work[0])
    return label_a


cdef void _components(Py_ssize_t n, const int64_t* ptr, const int64_t* adj, int64_t* label,
                      int64_t* work) noexcept nogil:
    """:func:`strong_components` on raw arrays (``work``: ``6 n`` int64), with no allocation:
    dense_flow's :func:`_movable` runs it on most inputs, where the numpy arrays and views of
    the def cost more than the search (7 us of the 200 x 50 kernel's 115)."""
    cdef int64_t* index = work
    cdef int64_t* low = work + n
    cdef int64_t* stack = work + 2 * n
    cdef int64_t* calls = work + 3 * n
    cdef int64_t* pos = work + 4 * n
    cdef int64_t* on = work + 5 * n
    cdef Py_ssize_t root, v, w, top = 0, depth, counter = 0, comp = 0
    for v in range(n):
        label[v] = -1
        index[v] = -1
        on[v] = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        depth = 0
        calls[0] = root
        pos[root] = ptr[root]
        index[root] = low[root] = counter
        counter += 1
        stack[top] = root
        top += 1
        on[root] = 1
        while depth >= 0:
            v = calls[depth]
            if pos[v] < ptr[v + 1]:
                w = adj[pos[v]]
                pos[v] += 1
                if index[w] < 0:  # descend
                    index[w] = low[w] = counter
                    counter += 1
                    pos[w] = ptr[w]
                    stack[top] = w
                    top += 1
                    on[w] = 1
                    depth += 1
                    calls[depth] = w
                elif on[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            if low[v] == index[v]:  # v roots a component: pop it
                while True:
                    top -= 1
                    w = stack[top]
                    on[w] = 0
                    label[w] = comp
                    if w == v:
                        break
                comp += 1
            depth -= 1
            if depth >= 0 and low[v] < low[calls[depth]]:
                low[calls[depth]] = low[v]


cdef bint _least_labels(const int64_t[::1] ptr, const int64_t[::1] adj, const int64_t[::1] cost,
                        int64_t[::1] dist, int64_t[::1] hops, int64_t[::1] queue,
                        unsigned char[::1] inq) noexcept nogil:
    """Lower each node's label (``dist``, then ``hops``: its arcs, fewest among equal distances)
    to the least over the paths from any node's starting label (``hops`` 0 there), over the arcs
    ``v -> adj[k]`` of cost ``cost[k]`` for ``k`` in ``ptr[v]:ptr[v + 1]``: a queue of the
    nodes whose label fell, Bellman-Ford's fixed point. True when a label needs more arcs than
    there are nodes: a cycle of negative cost (the labels would fall forever). ``queue`` and
    ``inq`` hold a place and a flag per node."""
    cdef Py_ssize_t n = ptr.shape[0] - 1, head = 0, count = n, v, w, k
    cdef int64_t nd, nh
    for v in range(n):  # every node in the queue once, at the start
        queue[v] = v
        inq[v] = 1
    while count > 0:
        v = queue[head]
        head += 1
        if head == n:
            head = 0
        count -= 1
        inq[v] = 0
        for k in range(ptr[v], ptr[v + 1]):
            w = adj[k]
            nd = dist[v] + cost[k]
            nh = hops[v] + 1
            if nd < dist[w] or (nd == dist[w] and nh < hops[w]):
                if nh > n:
                    return True
                dist[w], hops[w] = nd, nh
                if not inq[w]:
                    inq[w] = 1
                    queue[(head + count) % n] = w
                    count += 1
    return False


def shortest_from_root(const int64_t[::1] ptr, const int64_t[::1] adj, const int64_t[::1] cost):
    """Shortest distances from a virtual root joined to every node at cost 0, over the arcs
    ``v -> adj[k]`` of cost ``cost[k]`` for ``k`` in ``ptr[v]:ptr[v + 1]`` (:func:`_least_labels`:
    the same distances as Bellman-Ford's sweeps). None when a negative cycle exists."""
    cdef Py_ssize_t n = ptr.shape[0] - 1
    dist_a = np.zeros(n, np.int64)
    hops_a = np.zeros(n, np.int64)
    queue_a = np.zeros(max(n, 1), np.int64)
    inq_a = np.zeros(max(n, 1), np.uint8)
    cdef int64_t[::1] dist = dist_a, hops = hops_a, queue = queue_a
    cdef unsigned char[::1] inq = inq_a
    cdef bint cycle
    with nogil:
        cycle = _least_labels(ptr, adj, cost, dist, hops, queue, inq)
    return None if cycle else dist_a


def unit_potentials(const int64_t[::1] mentee, const int64_t[::1] mentor, const int64_t[::1] cost,
                    const unsigned char[::1] chosen, const int64_t[::1] dem, const int64_t[::1] cap):
    """:func:`mentormatch.solvers.duals._unit_potentials` compiled: the shortest distances from a
    virtual root in the residual network of an optimal flow with every demand at most 1, on the
    graph of the mentors, the source and the sink (that function's docstring), and its sweeps.

    The distances are unique, so a queue of the nodes whose label fell finds the same ones as
    the numpy sweeps. The sweeps are found too: a Jacobi sweep ``k`` gives every node its least
    distance over paths of at most ``k`` arcs (from the root's labels), so the sweeps stop at
    ``K + 1``, ``K`` the most arcs any node needs on a shortest path; labels here are (distance,
    arcs) compared in that order, whose least values are the distance and those fewest arcs.

    Returns ``(d_mentee, d_mentor, d_source, d_sink, sweeps)`` as that function does, or None
    when a label keeps falling (a negative cycle: the flow is not optimal)."""
    cdef Py_ssize_t n = dem.shape[0], m = cap.shape[0], n_pairs = mentee.shape[0]
    if mentor.shape[0] != n_pairs or cost.shape[0] != n_pairs or chosen.shape[0] != n_pairs:
        raise ValueError("unit_potentials: mentee, mentor, cost and chosen must be one per pair")
    cdef Py_ssize_t src = m, snk = m + 1, size = m + 2
    cdef int64_t none = 0x7FFFFFFFFFFFFFFF >> 2
    f_a = np.zeros(n, np.int64)
    mate_a = np.full(n, -1, np.int64)
    back_a = np.zeros(n, np.int64)
    load_a = np.zeros(m, np.int64)
    dist_a = np.zeros(size, np.int64)
    hops_a = np.zeros(size, np.int64)
    from_source_a = np.full(m, none, np.int64)
    to_source_a = np.full(m, none, np.int64)
    ptr_a = np.zeros(size + 1, np.int64)
    n_arcs_max = n_pairs + 4 * m + 2
    adj_a = np.zeros(max(n_arcs_max, 1), np.int64)
    acost_a = np.zeros(max(n_arcs_max, 1), np.int64)
    queue_a = np.zeros(size, np.int64)
    inq_a = np.zeros(size, np.uint8)
    di_a = np.zeros(n, np.int64)
    cdef int64_t[::1] f = f_a, mate = mate_a, back = back_a, load = load_a, dist = dist_a
    cdef int64_t[::1] hops = hops_a, from_source = from_source_a, to_source = to_source_a
    cdef int64_t[::1] ptr = ptr_a, adj = adj_a, acost = acost_a, queue = queue_a, di = di_a
    cdef unsigned char[::1] inq = inq_a
    cdef Py_ssize_t k, i, j, v
    cdef int64_t matched = 0, total = 0, c, worst = 0
    cdef bint s_to_t, t_to_s, cycle = False
    with nogil:
        for k in range(n_pairs):
            if chosen[k]:
                i, j = mentee[k], mentor[k]
                f[i] += 1
                load[j] += 1
                mate[i] = j
                back[i] = -cost[k]
                if -cost[k] < to_source[j]:
                    to_source[j] = -cost[k]
        for i in range(n):
            matched += f[i]
            total += dem[i]
        s_to_t, t_to_s = matched > 0, matched < total
        # the root's labels (root -> any mentee at 0 -> j), and the arcs out of each node:
        # counted first, then placed (a counting sort by tail)
        for k in range(n_pairs):
            if not chosen[k]:
                i, j = mentee[k], mentor[k]
                if cost[k] < dist[j]:
                    dist[j] = cost[k]
                if f[i] < dem[i] and cost[k] < from_source[j]:
                    from_source[j] = cost[k]
                if mate[i] >= 0:
                    ptr[mate[i] + 1] += 1
        for j in range(m):
            ptr[j + 1] += (to_source[j] < none) + (load[j] < cap[j])
            ptr[src + 1] += from_source[j] < none
            ptr[snk + 1] += load[j] > 0
        ptr[src + 1] += s_to_t
        ptr[snk + 1] += t_to_s
        for v in range(size):
            ptr[v + 1] += ptr[v]
        for v in range(size):  # (queue as each node's next free place, for now)
            queue[v] = ptr[v]
        for k in range(n_pairs):  # j(i) -> j, cost c_ij - c_ij(i)
            if not chosen[k] and mate[mentee[k]] >= 0:
                v = mate[mentee[k]]
                adj[queue[v]], acost[queue[v]] = mentor[k], back[mentee[k]] + cost[k]
                queue[v] += 1
        for j in range(m):
            if to_source[j] < none:
                adj[queue[j]], acost[queue[j]] = src, to_source[j]
                queue[j] += 1
            if load[j] < cap[j]:
                adj[queue[j]], acost[queue[j]] = snk, 0
                queue[j] += 1
            if from_source[j] < none:
                adj[queue[src]], acost[queue[src]] = j, from_source[j]
                queue[src] += 1
            if load[j] > 0:
                adj[queue[snk]], acost[queue[snk]] = j, 0
                queue[snk] += 1
        if s_to_t:
            adj[queue[src]], acost[queue[src]] = snk, 0
        if t_to_s:
            adj[queue[snk]], acost[queue[snk]] = src, 0
        cycle = _least_labels(ptr, adj, acost, dist, hops, queue, inq)
        if not cycle:
            for v in range(size):
                if hops[v] > worst:
                    worst = hops[v]
            for i in range(n):
                if mate[i] >= 0:
                    c = dist[mate[i]] + back[i]
                elif f[i] < dem[i]:
                    c = dist[src]
                else:
                    c = 0
                di[i] = c if c < 0 else 0
    if cycle:
        return None
    return di_a, dist_a[:m], int(dist_a[src]), int(dist_a[snk]), int(worst + 1)


def movable_pairs(const int64_t[::1] a, const int64_t[::1] b, const unsigned char[::1] x,
                  const int64_t[::1] rc, const int64_t[::1] pi_i, const int64_t[::1] pi_j,
                  int64_t pi_t, const int64_t[::1] dem, const int64_t[::1] cap):
    """The pairs ``a -> b`` (chosen ``x``, reduced costs ``rc``) whose choice differs between
    the optima of :func:`flow_assign`'s network proven by the potentials ``pi_i``, ``pi_j``,
    ``pi_t``: reduced cost 0 and both ends in one strongly connected component
    (:func:`strong_components`) of the residual arcs of reduced cost 0 (mentee ``i`` is node
    ``i``, mentor ``j`` node ``n + j``, the sink ``n + m``; a mentee's arc to the sink is
    staying unmatched). A uint8 per pair: :func:`mentormatch.solvers.ties_unit.movable`."""
    cdef Py_ssize_t n = dem.shape[0], m = cap.shape[0], n_pairs = a.shape[0]
    cdef Py_ssize_t t = n + m, size = n + m + 1, k, v, i, j
    f_a = np.zeros(n, np.int64)
    load_a = np.zeros(m, np.int64)
    ptr_a = np.zeros(size + 1, np.int64)
    adj_a = np.zeros(max(n_pairs + 2 * n + 2 * m, 1), np.int64)
    fill_a = np.zeros(size, np.int64)
    out_a = np.zeros(n_pairs, np.uint8)
    cdef int64_t[::1] f = f_a, load = load_a, ptr = ptr_a, adj = adj_a, fill = fill_a
    cdef unsigned char[::1] out = out_a
    cdef int64_t[::1] lab
    with nogil:
        for k in range(n_pairs):
            if x[k]:
                f[a[k]] += 1
                load[b[k]] += 1
        for k in range(n_pairs):  # arcs counted by tail
            if rc[k] == 0:
                if x[k]:
                    ptr[n + b[k] + 1] += 1
                else:
                    ptr[a[k] + 1] += 1
        for i in range(n):
            if dem[i] > 0 and pi_i[i] == pi_t:
                if f[i] > 0:
                    ptr[i + 1] += 1
                else:
                    ptr[t + 1] += 1
        for j in range(m):
            if pi_j[j] == pi_t:
                ptr[n + j + 1] += load[j] < cap[j]
                ptr[t + 1] += load[j] > 0
        for v in range(size):
            ptr[v + 1] += ptr[v]
            fill[v] = ptr[v]
        for k in range(n_pairs):
            if rc[k] == 0:
                if x[k]:
                    v = n + b[k]
                    adj[fill[v]] = a[k]
                else:
                    v = a[k]
                    adj[fill[v]] = n + b[k]
                fill[v] += 1
        for i in range(n):
            if dem[i] > 0 and pi_i[i] == pi_t:
                if f[i] > 0:
                    adj[fill[i]] = t
                    fill[i] += 1
                else:
                    adj[fill[t]] = i
                    fill[t] += 1
        for j in range(m):
            if pi_j[j] == pi_t:
                if load[j] < cap[j]:
                    adj[fill[n + j]] = t
                    fill[n + j] += 1
                if load[j] > 0:
                    adj[fill[t]] = n + j
                    fill[t] += 1
    lab = strong_components(ptr_a, adj_a[:ptr_a[size]])
    with nogil:
        for k in range(n_pairs):
            out[k] = rc[k] == 0 and lab[a[k]] == lab[n + b[k]]
    return out_a.view(bool)
