# (included by assign.pyx: the small-problem path of assign(), on the dense matrix itself;
# the module's imports are in scope)
from libc.math cimport INFINITY, rint
from libc.stdint cimport INT64_MAX, INT64_MIN


def dense_top(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
              const int64_t[::1] cap):
    """The largest score of a pair in the network of :func:`dense_flow` (eligible, score > 0,
    the mentor with a place), 0.0 when there is none: what the scale is chosen from
    (:func:`mentormatch.solvers.quantize.choose_scale`)."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], i, j
    cdef double top = 0.0, x
    with nogil:
        for j in range(m):
            if cap[j] <= 0:
                continue
            for i in range(n):
                x = s[i, j]
                if x > top and not (has_forbid and forbid[i, j]):
                    top = x
    return top


cdef inline void _mentor_add(int64_t[:, ::1] cost, Py_ssize_t j, Py_ssize_t r, Py_ssize_t v,
                             int64_t[:, ::1] w, int64_t[:, ::1] wu, int64_t[::1] worst,
                             int64_t[::1] worst_u) noexcept nogil:
    """Mentee ``v`` joined mentor ``j`` (row ``r`` of the mentor graph, :func:`dense_flow`):
    for each mentor ``k``, the least ``c_uk - c_uj`` over ``j``'s mentees ``u`` (the cost of
    moving one of them to ``k``, less the potentials) and that mentee, and ``j``'s mentee of
    the largest ``c_uj`` (the lowest score: the one to leave for nothing), with ``v`` counted."""
    cdef Py_ssize_t k
    cdef int64_t c = cost[v, j], x
    if c > worst[j]:
        worst[j] = c
        worst_u[j] = v
    for k in range(cost.shape[1]):
        x = cost[v, k]
        if x != INT64_MAX and x - c < w[r, k]:
            w[r, k] = x - c
            wu[r, k] = v


cdef inline void _mentor_remove(int64_t[:, ::1] cost, Py_ssize_t j, Py_ssize_t r, Py_ssize_t v,
                                int64_t[::1] slot_start, int64_t[::1] count, int64_t[::1] slots,
                                int64_t[:, ::1] w, int64_t[:, ::1] wu, int64_t[::1] worst,
                                int64_t[::1] worst_u) noexcept nogil:
    """Mentee ``v`` left mentor ``j`` (already out of its slots): :func:`_mentor_add`'s entries
    that were ``v``'s, found again over the mentees left."""
    cdef Py_ssize_t k, q, u
    cdef int64_t c, x
    for k in range(cost.shape[1]):
        if wu[r, k] != v:
            continue
        w[r, k] = INT64_MAX
        for q in range(slot_start[j], slot_start[j] + count[j]):
            u = slots[q]
            x = cost[u, k]
            if x != INT64_MAX and x - cost[u, j] < w[r, k]:
                w[r, k] = x - cost[u, j]
                wu[r, k] = u
    if worst_u[j] == v:
        worst[j] = INT64_MIN
        for q in range(slot_start[j], slot_start[j] + count[j]):
            u = slots[q]
            if cost[u, j] > worst[j]:
                worst[j] = cost[u, j]
                worst_u[j] = u


cdef inline bint _before(Py_ssize_t k, Py_ssize_t low, int64_t[::1] dist, int64_t[::1] count,
                        const int64_t[::1] cap) noexcept nogil:
    """Whether mentor ``k`` is settled before ``low``: a lower label, or the same with room
    where ``low`` has none (on tied scores a plateau of equal labels ends at once)."""
    return dist[k] < dist[low] or (dist[k] == dist[low] and count[k] < cap[k] and count[low] >= cap[low])


def dense_flow(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
               const int64_t[::1] order, const int64_t[::1] cap, double scale):
    """A min-cost flow of :func:`flow_assign`'s network over every pair of the dense matrix
    ``s`` (mentees x mentors, any memory layout): a pair is an arc when it is not forbidden,
    scores > 0 and its mentor has a place, at the integer cost ``-rint(s * scale)`` (round half
    to even, as :func:`mentormatch.solvers.quantize.integer_costs`); every demand is 1.

    The same successive shortest paths as :func:`flow_assign`, one mentee at a time in
    ``order``, but on the mentors alone. A matched mentee's back arc is tight (``pi_u = pi_j -
    c_uj``: a search shifts a mentee with its mentor), so reaching mentor ``k`` through mentor
    ``j``'s mentees costs ``min_u (c_uk - c_uj) + pi_j - pi_k``, whose first term changes only
    when ``j``'s mentees do: it is kept per mentor that has mentees (at most ``min(n, m)`` rows
    of ``m``: counts never fall, a path's inner mentors gain one and lose one) and rebuilt for
    the mentors of each path. A search then settles mentors only, each one row of ``m`` (the
    labels are dense arrays, the next mentor found in the same loop), where one over the
    mentees scanned each of a full mentor's mentees' rows: at 200 x 50, capacity 4, uniform
    scores, 0.41 ms against 0.13 (s28h4). A full mentor's mentees may also leave for nothing:
    the one of the lowest score, kept with the row.

    Then every arc is checked against the potentials, in integers: a pair's gain
    ``rint(s * scale) - pi_i + pi_j`` must be <= 0 (else ``RuntimeError``: a bug). The optimum
    is unique iff no cycle of residual arcs of reduced cost 0 exists (:mod:`mentormatch.solvers.ties`,
    step 2). Every such cycle uses an unchosen pair arc of gain 0: the residual arcs without
    one are the chosen pairs' back arcs (mentor -> mentee), a matched mentee's arc to the sink
    (unmatching it), a mentor's arcs to and from the sink and the sink's to an unmatched
    mentee, whose only cycles are sink -> mentor -> its mentee -> sink, costing the pair's
    integer score (> 0: a pair scoring <= 0 is no arc). So no unchosen arc of gain 0 (the
    usual case on scores in floating point) proves it unique with no more work; otherwise
    the arcs of reduced cost 0 go through :func:`strong_components` and an unchosen tight arc
    inside a component can move (the tie rule has something to pick).

    Returns ``(mate, pi_mentee, pi_mentor, pi_sink, movable, n_arcs)``: each mentee's mentor
    (-1: unmatched), potentials as :func:`flow_assign`'s, how many unchosen arcs lie on a cycle
    of reduced cost 0 (:func:`_movable`; 0: the optimum is unique) and the arcs."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1]
    if order.shape[0] != n or cap.shape[0] != m:
        raise ValueError("dense_flow: order must hold n_mentees entries and cap n_mentors")
    if has_forbid and (forbid.shape[0] != n or forbid.shape[1] != m):
        raise ValueError("dense_flow: forbid must be shaped like s")
    cost_a = np.empty((n, m), np.int64)  # INT64_MAX: no arc
    mate_a = np.full(n, -1, np.int64)
    pi_i_a = np.zeros(n, np.int64)
    pi_j_a = np.zeros(m, np.int64)
    dist_a = np.zeros(m, np.int64)
    pred_a = np.zeros(m, np.int64)  # the mentor a mentor was reached from (-1: the new mentee)
    done_a = np.zeros(m, np.uint8)
    settled_a = np.zeros(m, np.int64)  # the full mentors settled in a search, in order
    count_a = np.zeros(m, np.int64)
    room = np.minimum(np.maximum(np.asarray(cap), 0), n)
    slot_start_a = np.zeros(m + 1, np.int64)
    np.cumsum(room, out=slot_start_a[1:])
    slots_a = np.zeros(max(int(slot_start_a[m]), 1), np.int64)
    where_a = np.zeros(n, np.int64)
    row_a = np.full(m, -1, np.int64)  # a mentor's row in the mentor graph (-1: no mentee yet)
    rows = max(min(n, m), 1)
    w_a = np.empty((rows, m), np.int64)
    wu_a = np.empty((rows, m), np.int64)
    worst_a = np.zeros(m, np.int64)
    worst_u_a = np.zeros(m, np.int64)
    cdef int64_t[:, ::1] cost = cost_a, w = w_a, wu = wu_a
    cdef int64_t[::1] mate = mate_a, pi_i = pi_i_a, pi_j = pi_j_a, dist = dist_a
    cdef int64_t[::1] pred = pred_a, settled = settled_a, count = count_a, row = row_a
    cdef int64_t[::1] slot_start = slot_start_a, slots = slots_a, where = where_a
    cdef int64_t[::1] worst = worst_a, worst_u = worst_u_a
    cdef unsigned char[::1] done = done_a
    cdef Py_ssize_t i, j, q, a, v, u, low, k, old, r, n_settled, n_rows = 0, via_t
    cdef int64_t pi_t = 0, c, top, dt, d, best, g, tight = 0, bad = 0, n_arcs = 0, shift
    cdef double x
    with nogil:
        for i in range(n):
            for j in range(m):
                x = s[i, j]
                if x > 0 and cap[j] > 0 and not (has_forbid and forbid[i, j]):
                    cost[i, j] = -<int64_t>rint(x * scale)
                    n_arcs += 1
                else:
                    cost[i, j] = INT64_MAX
        for a in range(n):
            i = order[a]
            # a fresh mentee: the least potential that keeps its arcs' reduced costs >= 0
            top = pi_t
            for j in range(m):
                c = cost[i, j]
                if c != INT64_MAX and pi_j[j] - c > top:
                    top = pi_j[j] - c
            pi_i[i] = top
            low = -1
            for j in range(m):
                done[j] = 0
                c = cost[i, j]
                dist[j] = INT64_MAX if c == INT64_MAX else c + top - pi_j[j]
                pred[j] = -1
                if c != INT64_MAX and (low < 0 or _before(j, low, dist, count, cap)):
                    low = j
            dt = top - pi_t  # staying unmatched
            via_t = -1  # how the sink was reached: -1 the new mentee; n + j a mentor with
            # room; j a full mentor's mentee of the lowest score, left for nothing
            n_settled = 0
            while low >= 0 and dist[low] < dt:
                j = low
                best = dist[j]
                done[j] = 1
                if count[j] < cap[j]:
                    d = best + pi_j[j] - pi_t
                    if d < dt:
                        dt = d
                        via_t = n + j
                    # (room and a mentee: its arcs from and to the sink make pi_j = pi_t, so
                    # the sink is reached at this label; room and none: no arc back to follow)
                    low = -1
                    for k in range(m):
                        if not done[k] and dist[k] != INT64_MAX and (low < 0 or _before(k, low, dist, count, cap)):
                            low = k
                    continue
                settled[n_settled] = j
                n_settled += 1
                d = best + pi_j[j] - worst[j] - pi_t  # its lowest-scored mentee leaves
                if d < dt:
                    dt = d
                    via_t = j
                r = row[j]
                low = -1
                for k in range(m):
                    if done[k]:
                        continue
                    c = w[r, k]
                    if c != INT64_MAX:
                        g = best + c + pi_j[j] - pi_j[k]
                        if g < dist[k]:
                            dist[k] = g
                            pred[k] = j
                    if dist[k] != INT64_MAX and (low < 0 or _before(k, low, dist, count, cap)):
                        low = k
            # potentials: each node moves by min(label, dt) - dt (a full mentor's mentees with
            # it: their label is its own)
            for j in range(m):
                if dist[j] < dt:
                    pi_j[j] += dist[j] - dt
            for q in range(n_settled):
                j = settled[q]
                shift = dist[j] - dt
                for k in range(slot_start[j], slot_start[j] + count[j]):
                    pi_i[slots[k]] += shift
            pi_i[i] -= dt
            # flip the path from the sink back: mentor k takes a mentee from mentor pred[k]
            if via_t < 0:
                continue
            if via_t >= n:
                k = via_t - n
            else:  # the lowest-scored mentee of via_t leaves it
                k = via_t
                v = worst_u[k]
                q = where[v]
                count[k] -= 1
                u = slots[slot_start[k] + count[k]]
                slots[q] = u
                where[u] = q
                mate[v] = -1
                _mentor_remove(cost, k, row[k], v, slot_start, count, slots, w, wu, worst, worst_u)
            while True:
                j = pred[k]
                v = i if j < 0 else wu[row[j], k]
                if j >= 0:  # v leaves j
                    q = where[v]
                    count[j] -= 1
                    u = slots[slot_start[j] + count[j]]
                    slots[q] = u
                    where[u] = q
                    _mentor_remove(cost, j, row[j], v, slot_start, count, slots, w, wu, worst, worst_u)
                q = slot_start[k] + count[k]
                slots[q] = v
                where[v] = q
                count[k] += 1
                mate[v] = k
                if row[k] < 0:  # its first mentee
                    row[k] = n_rows
                    n_rows += 1
                    w[row[k], :] = INT64_MAX
                    wu[row[k], :] = -1
                    worst[k] = INT64_MIN
                _mentor_add(cost, k, row[k], v, w, wu, worst, worst_u)
                if j < 0:
                    break
                k = j
        # the check, in integers: no arc of positive gain; the unchosen arcs of gain 0
        for i in range(n):
            for j in range(m):
                c = cost[i, j]
                if c == INT64_MAX or mate[i] == j:
                    continue
                g = -c - pi_i[i] + pi_j[j]
                if g > 0:
                    bad += 1
                elif g == 0:
                    tight += 1
    if bad:
        raise RuntimeError(f"dense_flow: {bad} pairs of positive gain after the flow (a bug)")
    movable = _movable(cost, mate, pi_i, pi_j, pi_t, count, cap, slot_start, slots, tight) if tight else 0
    return mate_a, pi_i_a, pi_j_a, int(pi_t), int(movable), int(n_arcs)


cdef Py_ssize_t _movable(int64_t[:, ::1] cost, int64_t[::1] mate, int64_t[::1] pi_i,
                         int64_t[::1] pi_j, int64_t pi_t, int64_t[::1] count,
                         const int64_t[::1] cap, int64_t[::1] slot_start, int64_t[::1] slots,
                         int64_t tight):
    """How many of the ``tight`` unchosen arcs of gain 0 lie on a cycle of residual arcs of
    reduced cost 0 (:func:`strong_components` of that graph: mentees, then mentors, then the
    sink): 0 iff the optimum is unique (:func:`dense_flow`)."""
    cdef Py_ssize_t n = cost.shape[0], m = cost.shape[1], t = n + m, i, j, q, e = 0, k
    ptr_a = np.zeros(n + m + 2, np.int64)
    adj_a = np.zeros(tight + 3 * n + 2 * m + 1, np.int64)
    cdef int64_t[::1] ptr = ptr_a, adj = adj_a
    for i in range(n):  # a mentee: its tight unchosen pairs; the sink (leaving its pair)
        ptr[i] = e
        for j in range(m):
            if cost[i, j] != INT64_MAX and mate[i] != j and -cost[i, j] - pi_i[i] + pi_j[j] == 0:
                adj[e] = n + j
                e += 1
        if mate[i] >= 0 and pi_i[i] == pi_t:
            adj[e] = t
            e += 1
    for j in range(m):  # a mentor: back to its mentees (reduced cost 0); the sink with room
        ptr[n + j] = e
        for q in range(slot_start[j], slot_start[j] + count[j]):
            adj[e] = slots[q]
            e += 1
        if count[j] < cap[j] and pi_j[j] == pi_t:
            adj[e] = t
            e += 1
    ptr[t] = e  # the sink: back to the mentors with mentees, to the unmatched mentees
    for j in range(m):
        if count[j] > 0 and pi_j[j] == pi_t:
            adj[e] = n + j
            e += 1
    for i in range(n):
        if mate[i] < 0 and pi_i[i] == pi_t:
            adj[e] = i
            e += 1
    ptr[t + 1] = e
    label_a = strong_components(ptr_a, adj_a[:e])
    cdef int64_t[::1] label = label_a
    k = 0
    for i in range(n):
        for q in range(ptr[i], ptr[i + 1]):
            if adj[q] < t and label[adj[q]] == label[i]:
                k += 1
    return k


def dense_pairs(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
                const int64_t[::1] mate, const double[::1] u, const double[::1] p):
    """Every eligible pair of the dense matrix (not forbidden, score > -inf), row-major, in one
    pass: ``(mentee, mentor, score, chosen, n_forbidden, n_ineligible, max_gain)``, ``chosen``
    where ``mate`` (:func:`dense_flow`'s) says so, each mentee's forbidden cells and its other
    cells scored -inf (``assign()``'s ``removed`` counts), and the largest reduced gain
    ``s - u_i - p_j`` of an unchosen pair (0.0 at least): the float check of the certificate."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], i, j, e = 0
    cdef double x, g, top = 0.0
    nf_a = np.zeros(n, np.int64)
    nx_a = np.zeros(n, np.int64)
    cdef int64_t[::1] nf = nf_a, nx = nx_a
    with nogil:
        for i in range(n):
            for j in range(m):
                if has_forbid and forbid[i, j]:
                    nf[i] += 1
                elif not s[i, j] > -INFINITY:
                    nx[i] += 1
    total = n * m - int(nf_a.sum()) - int(nx_a.sum())
    mentee_a = np.empty(total, np.int64)
    mentor_a = np.empty(total, np.int64)
    score_a = np.empty(total, np.float64)
    chosen_a = np.zeros(total, np.uint8)
    cdef int64_t[::1] mentee = mentee_a, mentor = mentor_a
    cdef double[::1] score = score_a
    cdef unsigned char[::1] chosen = chosen_a
    with nogil:
        for i in range(n):
            for j in range(m):
                x = s[i, j]
                if (has_forbid and forbid[i, j]) or not x > -INFINITY:
                    continue
                mentee[e] = i
                mentor[e] = j
                score[e] = x
                if mate[i] == j:
                    chosen[e] = 1
                else:
                    g = x - u[i] - p[j]
                    if g > top:
                        top = g
                e += 1
    return mentee_a, mentor_a, score_a, chosen_a.view(bool), nf_a, nx_a, top
