# (included by assign.pyx after assign_costs.pxi, whose 128-bit costs (``lex_t``, ``_lex``,
# ``_hi``) it uses: the dense path's keyed flow on its candidate pairs, the tie rule's first
# stage in the one flow of a round (:mod:`mentormatch.solvers.dense.keyed`). The module's
# imports and :func:`flow_assign`'s ``Search`` are in scope)
from libc.stdlib cimport free as _free_keyed, malloc as _malloc_keyed


#: keyed_flow's interface (:mod:`mentormatch.solvers.dense.keyed` reads it: a module built
#: before has no keyed flow, and the dense path runs the plain one and the rule's second flow)
KEYED_FLOW_VERSION = 1


cdef struct LexSearch:  # flow_assign's Search with 128-bit labels
    lex_t* dist
    int64_t* seen
    int64_t* pred
    lex_t* hk
    int64_t* hv
    Py_ssize_t size
    int64_t stamp
    int64_t n
    int64_t m


cdef inline void _push_lex(lex_t* hk, int64_t* hv, Py_ssize_t* size, lex_t key, int64_t v) noexcept nogil:
    """heap.pxi's ``_push`` on 128-bit keys."""
    cdef Py_ssize_t i = size[0], parent
    size[0] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] < key or (hk[parent] == key and hv[parent] <= v):
            break
        hk[i] = hk[parent]
        hv[i] = hv[parent]
        i = parent
    hk[i] = key
    hv[i] = v


cdef inline void _pop_lex(lex_t* hk, int64_t* hv, Py_ssize_t* size) noexcept nogil:
    """heap.pxi's ``_pop`` on 128-bit keys."""
    cdef Py_ssize_t n = size[0] - 1, i = 0, child
    cdef lex_t key = hk[n]
    cdef int64_t v = hv[n]
    size[0] = n
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and (hk[child + 1] < hk[child] or (hk[child + 1] == hk[child] and hv[child + 1] < hv[child])):
            child += 1
        if key < hk[child] or (key == hk[child] and v <= hv[child]):
            break
        hk[i] = hk[child]
        hv[i] = hv[child]
        i = child
    hk[i] = key
    hv[i] = v


cdef inline bint _label_lex(LexSearch* s, Py_ssize_t u, lex_t nd, int64_t by) noexcept nogil:
    """flow_assign's ``_label`` with 128-bit labels."""
    if s.seen[u] == s.stamp and nd >= s.dist[u]:
        return False
    s.seen[u] = s.stamp
    s.dist[u] = nd
    s.pred[u] = by
    _push_lex(s.hk, s.hv, &s.size, nd, u - s.n if u >= s.n else u + s.m + 1)  # mentors first
    return True


#: A key part of a potential (``pi - 2**64 * round(pi / 2**64)``) beyond this many in size:
#: :func:`keyed_flow` gives up (never seen; the caller then runs the plain flow)
cdef int64_t _LOW_ROOM = (<int64_t>1) << 61


def keyed_flow(const int64_t[::1] ptr, const int64_t[::1] head, const int64_t[::1] cost,
               const int64_t[::1] key, const int64_t[::1] cap, const int64_t[::1] dem):
    """:func:`flow_assign` (the same network, the same searches) with each pair's cost the
    128-bit integer ``cost * 2**64 + key``: ``key`` the tie rule's stage-1 key of the pair
    (:func:`pair_keys` of the ranks at stage 1, ``bits`` bits, at most 40), ``cost`` its
    integer cost (< 0). A flow's keys sum to less than ``2**64``, so the least flow is, among
    the optima of the integer costs, one of least key sum: the tie rule's first stage
    (:mod:`mentormatch.solvers.ties`, step 3) in the one flow, as :func:`dense_flow` does it on
    the whole matrix.

    Then every residual arc of the network is checked against the 128-bit potentials (reduced
    cost >= 0), and against the potentials rounded to their multiple of ``2**64`` for the
    integer costs alone; the rounding's remainders (the key parts) must stay below ``2**61``
    in size. Returns None when any of that fails (never seen: the caller runs the plain flow),
    else ``(chosen, pi_mentee, pi_mentor, pi_sink, low_mentee, low_mentor, low_sink, tight)``:
    a bool per pair, the rounded potentials (``flow_assign``'s for the integer costs: they
    prove the flow optimal), the remainders (``pi = 2**64 * rounded + low``) and how many
    unchosen pairs have a 128-bit reduced cost of 0 (0: no other flow of the network reaches
    the least cost, since every cycle of zero reduced cost uses such a pair:
    :func:`dense_flow`'s docstring; a mentee's first arc often stays at 0 on no cycle)."""
    cdef Py_ssize_t n = dem.shape[0], m = cap.shape[0], n_arcs = head.shape[0]
    if ptr.shape[0] != n + 1 or cost.shape[0] != n_arcs or key.shape[0] != n_arcs or ptr[n] != n_arcs:
        raise ValueError("keyed_flow: ptr must hold n_mentees + 1 offsets ending at the pair "
                         "count, and one cost and one key per pair")
    cdef Py_ssize_t t = n + m, n_nodes = n + m + 1
    chosen_a = np.zeros(n_arcs, np.uint8)
    tail_a = np.repeat(np.arange(n, dtype=np.int64), np.diff(np.asarray(ptr)))
    mate_a = np.full(n, -1, np.int64)
    indeg = np.bincount(np.asarray(head), minlength=m)[:m] if n_arcs else np.zeros(m, np.int64)
    room = np.minimum(indeg, np.maximum(np.asarray(cap), 0)).astype(np.int64)
    slot_start_a = np.zeros(m + 1, np.int64)
    np.cumsum(room, out=slot_start_a[1:])
    slots_a = np.zeros(max(int(slot_start_a[m]), 1), np.int64)
    count_a = np.zeros(m, np.int64)
    where_a = np.zeros(n, np.int64)
    seen_a = np.zeros(n_nodes, np.int64)
    done_a = np.zeros(n_nodes, np.uint8)
    pred_a = np.zeros(n_nodes, np.int64)
    scanned_a = np.zeros(n_nodes, np.int64)
    heap_size = n_arcs + 3 * n + m + 4
    hv_a = np.zeros(heap_size, np.int64)
    hi_a = np.zeros(n_nodes, np.int64)
    lo_a = np.zeros(n_nodes, np.int64)
    cdef unsigned char[::1] chosen = chosen_a, done = done_a
    cdef int64_t[::1] mate = mate_a, slot_start = slot_start_a, slots = slots_a
    cdef int64_t[::1] count = count_a, where = where_a, seen = seen_a, tail = tail_a
    cdef int64_t[::1] pred = pred_a, scanned = scanned_a, hv = hv_a, hi = hi_a, lo = lo_a
    # the 128-bit arrays (malloc: 16-byte aligned): the costs, the labels, the potentials, the heap
    cdef lex_t* block = <lex_t*>_malloc_keyed((n_arcs + 2 * n_nodes + heap_size + 1) * sizeof(lex_t))
    if block == NULL:
        raise MemoryError()
    cdef lex_t* c = block
    cdef lex_t* dist = c + n_arcs
    cdef lex_t* pi = dist + n_nodes
    cdef lex_t* hk = pi + n_nodes
    cdef Py_ssize_t i0, j, k, v, u, q, n_scanned
    cdef lex_t d, top, dt, r
    cdef int64_t old, tight = 0, bad = 0, g
    cdef LexSearch s
    s.dist, s.seen, s.pred, s.hk, s.hv, s.size, s.stamp = dist, &seen[0], &pred[0], hk, &hv[0], 0, 0
    s.n, s.m = n, m
    try:
        with nogil:
            for k in range(n_arcs):
                c[k] = _lex(cost[k], key[k])
            for v in range(n_nodes):
                pi[v] = 0
                dist[v] = 0
            for i0 in range(n):
                if dem[i0] <= 0:
                    continue
                top = pi[t]
                for k in range(ptr[i0], ptr[i0 + 1]):
                    if pi[n + head[k]] - c[k] > top:
                        top = pi[n + head[k]] - c[k]
                pi[i0] = top
                s.stamp += 1
                s.size = 0
                n_scanned = 0
                _label_lex(&s, i0, 0, -1)
                while s.size > 0:
                    d = hk[0]
                    v = hv[0] + n if hv[0] <= m else hv[0] - m - 1
                    _pop_lex(hk, &hv[0], &s.size)
                    if done[v] or d > dist[v]:
                        continue
                    if v == t:
                        break
                    done[v] = 1
                    scanned[n_scanned] = v
                    n_scanned += 1
                    if v < n:
                        for k in range(ptr[v], ptr[v + 1]):
                            u = n + head[k]
                            if k != mate[v] and not done[u]:
                                _label_lex(&s, u, d + c[k] + pi[v] - pi[u], k)
                        if _label_lex(&s, t, d + pi[v] - pi[t], v) and dist[t] == d:
                            break
                    else:
                        j = v - n
                        if count[j] < cap[j] and _label_lex(&s, t, d + pi[v] - pi[t], v) and dist[t] == d:
                            break
                        for q in range(slot_start[j], slot_start[j] + count[j]):
                            u = slots[q]
                            if not done[u]:
                                _label_lex(&s, u, d - c[mate[u]] + pi[v] - pi[u], v)
                dt = dist[t]
                for q in range(n_scanned):
                    v = scanned[q]
                    pi[v] += dist[v] - dt
                    done[v] = 0
                v = pred[t]
                if v >= n:
                    k = pred[v]
                    v = tail[k]
                else:
                    k = -1
                while True:
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
                    k = pred[pred[v]]
                    v = tail[k]
            # the rounded potentials and their remainders
            for v in range(n_nodes):
                hi[v] = _hi(pi[v])
                r = pi[v] - _lex(hi[v], 0)
                lo[v] = <int64_t>r
                if lo[v] >= _LOW_ROOM or lo[v] <= -_LOW_ROOM:
                    bad += 1
            # every residual arc, in 128 bits and rounded: the pairs (an unchosen one forward,
            # a chosen one back), each mentee's arc to the sink (forward while unmatched and
            # of demand > 0: its back arc; a matched one: the forward arc), each mentor's
            for v in range(n):
                for k in range(ptr[v], ptr[v + 1]):
                    r = c[k] + pi[v] - pi[n + head[k]]
                    g = cost[k] + hi[v] - hi[n + head[k]]
                    if chosen[k]:
                        if r > 0 or g > 0:
                            bad += 1
                    elif r < 0 or g < 0:
                        bad += 1
                    elif r == 0:
                        tight += 1
                if dem[v] > 0:
                    if mate[v] >= 0:
                        if pi[v] < pi[t] or hi[v] < hi[t]:
                            bad += 1
                    elif pi[t] < pi[v] or hi[t] < hi[v]:
                        bad += 1
            for j in range(m):
                if count[j] < cap[j] and (pi[n + j] < pi[t] or hi[n + j] < hi[t]):
                    bad += 1
                if count[j] > 0 and (pi[t] < pi[n + j] or hi[t] < hi[n + j]):
                    bad += 1
    finally:
        _free_keyed(block)
    if bad:
        return None
    return (chosen_a.view(bool), hi_a[:n], hi_a[n:t], int(hi_a[t]), lo_a[:n], lo_a[n:t],
            int(lo_a[t]), int(tight))


def keyed_face(const int64_t[::1] i, const int64_t[::1] j, const double[::1] s,
               const unsigned char[::1] chosen, const int64_t[::1] rank_i,
               const int64_t[::1] rank_j, const int64_t[::1] cap_r, const int64_t[::1] dem_r,
               const int64_t[::1] d_i, const int64_t[::1] d_j, const int64_t[::1] low_i,
               const int64_t[::1] low_j, double scale, int bits):
    """:func:`mentormatch.solvers.dense.keyed.keyed_verdict`'s pass in one loop, where numpy
    made a temporary of the pairs' size per operation. The pairs ``(i, j)`` (indices, their
    scores ``s``, ``chosen``), the ranks of each index, and per rank the places ``cap_r``,
    ``dem_r``, the rounded potentials ``d_i``, ``d_j`` and their remainders ``low_i``,
    ``low_j``. A pair of the network (``s > 0``, places on both sides) with integer gain
    ``rint(s * scale) - d_i + d_j`` of 0 has the keyed reduced cost ``key + low_i - low_j``
    (``key`` the stage-1 key at ``bits``: :func:`pair_keys`). Returns ``(worse, near,
    near_rc)``: the positions of the unchosen ones below 0 (keyed violators), and those of
    the chosen ones and the unchosen ones of 0, with their keyed reduced costs."""
    cdef Py_ssize_t size = i.shape[0], k, got_w = 0, got_n = 0
    if (j.shape[0] != size or s.shape[0] != size or chosen.shape[0] != size
            or not 1 <= bits <= 63):
        raise ValueError("keyed_face: one mentor, score and flag per pair, bits 1-63")
    worse_a = np.empty(max(size, 1), np.int64)  # (pages touched only as far as filled)
    near_a = np.empty(max(size, 1), np.int64)
    rc_a = np.empty(max(size, 1), np.int64)
    cdef int64_t[::1] worse = worse_a, near = near_a, rc = rc_a
    cdef int64_t a, b, g, r
    cdef int shift = 64 - bits
    cdef double x
    with nogil:
        for k in range(size):
            x = s[k]
            if not x > 0:
                continue
            a = rank_i[i[k]]
            b = rank_j[j[k]]
            if cap_r[b] <= 0 or dem_r[a] <= 0:
                continue
            g = <int64_t>rint(x * scale) - d_i[a] + d_j[b]
            if g != 0:
                continue
            r = _key(<uint64_t>a * 0x9E3779B97F4A7C15ULL + 0xD1B54A32D192ED03ULL, <uint64_t>b, shift)
            r += low_i[a] - low_j[b]
            if chosen[k] or r == 0:
                near[got_n] = k
                rc[got_n] = r
                got_n += 1
            elif r < 0:
                worse[got_w] = k
                got_w += 1
    return worse_a[:got_w], near_a[:got_n], rc_a[:got_n]
