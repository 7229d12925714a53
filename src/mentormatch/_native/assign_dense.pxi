# (included by assign.pyx: the small-problem path of assign(), on the dense matrix itself;
# the module's imports are in scope)
from libc.math cimport INFINITY, rint
from libc.stdint cimport INT64_MAX


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


cdef inline Py_ssize_t _scan_row(int64_t[:, ::1] cost, Py_ssize_t u, int64_t d, int64_t pi_u,
                                 Py_ssize_t own, int64_t[::1] pi_j, unsigned char[::1] done,
                                 int64_t[::1] dist, int64_t[::1] pred) noexcept nogil:
    """Relax mentee ``u``'s arcs (label ``d``, potential ``pi_u``) to the mentors not settled,
    but its own mentor ``own``; the mentor of least label among those lowered (-1: none)."""
    cdef Py_ssize_t k, low = -1
    cdef int64_t c, g
    for k in range(cost.shape[1]):
        c = cost[u, k]
        if c != INT64_MAX and not done[k] and k != own:
            g = d + c + pi_u - pi_j[k]
            if g < dist[k]:
                dist[k] = g
                pred[k] = u
                if low < 0 or g < dist[low]:
                    low = k
    return low


def dense_flow(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
               const int64_t[::1] order, const int64_t[::1] cap, double scale):
    """A min-cost flow of :func:`flow_assign`'s network over every pair of the dense matrix
    ``s`` (mentees x mentors, any memory layout): a pair is an arc when it is not forbidden,
    scores > 0 and its mentor has a place, at the integer cost ``-rint(s * scale)`` (round half
    to even, as :func:`mentormatch.solvers.quantize.integer_costs`); every demand is 1.

    The same successive shortest paths as :func:`flow_assign`, one mentee at a time in
    ``order``, but with no pair list and no heap: the labels are dense arrays over the mentors
    (the next one settled by a scan of ``m``), and the mentees reached back from them wait in a
    small heap; mentors go first on equal labels (as in :func:`flow_assign`'s heap, for the
    same reason: on tied scores a plateau of equal labels reaches a mentor with room after a
    few nodes; relaxing each mentee's row as it was reached took 1.9 ms at 200 x 50 with scores
    in 4 levels, against 0.39). The least mentor is found again by a scan only after one was
    settled (a mentee scanned lowers labels only: its row gives the new least); a scan each
    step took 0.58 ms on uniform scores against 0.36. A mentee scanned costs a row of ``m``
    cells, where the heap of :func:`flow_assign` pushes every arc.

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
    dist_u_a = np.zeros(n, np.int64)
    pred_a = np.zeros(m, np.int64)  # the mentee that labelled a mentor
    done_a = np.zeros(m, np.uint8)
    reached_a = np.zeros(n, np.int64)  # the mentees reached in a search (i0 first)
    count_a = np.zeros(m, np.int64)
    room = np.minimum(np.maximum(np.asarray(cap), 0), n)
    slot_start_a = np.zeros(m + 1, np.int64)
    np.cumsum(room, out=slot_start_a[1:])
    slots_a = np.zeros(max(int(slot_start_a[m]), 1), np.int64)
    where_a = np.zeros(n, np.int64)
    hk_a = np.zeros(n + 1, np.int64)  # the heap of mentees reached, not scanned
    hv_a = np.zeros(n + 1, np.int64)
    cdef int64_t[::1] hk = hk_a, hv = hv_a
    cdef int64_t[:, ::1] cost = cost_a
    cdef int64_t[::1] mate = mate_a, pi_i = pi_i_a, pi_j = pi_j_a, dist = dist_a, dist_u = dist_u_a
    cdef int64_t[::1] pred = pred_a, reached = reached_a, count = count_a
    cdef int64_t[::1] slot_start = slot_start_a, slots = slots_a, where = where_a
    cdef unsigned char[::1] done = done_a
    cdef Py_ssize_t i, j, q, a, v, u, n_reached, low, n_pending, k, old
    cdef int64_t pi_t = 0, c, top, dt, d, best, g, tight = 0, bad = 0, via_t, n_arcs = 0
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
            for j in range(m):
                done[j] = 0
                c = cost[i, j]
                dist[j] = INT64_MAX if c == INT64_MAX else c + top - pi_j[j]
                pred[j] = i
            dt = top - pi_t  # staying unmatched
            via_t = i  # the node the sink was reached from: a mentee (bypass) or n + mentor
            reached[0] = i
            dist_u[i] = 0
            n_reached = 1
            n_pending = 0  # reached mentees not yet scanned: a heap of (label, mentee)
            low = -2  # the mentor of least label not settled (-1: none; -2: to be found)
            while True:
                if low == -2:  # a scan of the mentors, after one was settled
                    low = -1
                    for j in range(m):
                        if not done[j] and dist[j] != INT64_MAX and (low < 0 or dist[j] < dist[low]):
                            low = j
                best = dist[low] if low >= 0 else INT64_MAX
                if n_pending and hk[0] < best:  # (strictly: mentors first on equal labels)
                    best = hk[0]
                    if best >= dt:
                        break
                    # scan a mentee: leave its mentor for another, or for nothing
                    u = hv[0]
                    _pop(&hk[0], &hv[0], &n_pending)
                    if best + pi_i[u] - pi_t < dt:
                        dt = best + pi_i[u] - pi_t
                        via_t = u
                    k = _scan_row(cost, u, best, pi_i[u], mate[u], pi_j, done, dist, pred)
                    if k >= 0 and (low < 0 or dist[k] < dist[low]):
                        low = k
                    continue
                if best >= dt:
                    break  # the sink is the least label: reached
                j = low
                low = -2
                done[j] = 1
                if count[j] < cap[j]:
                    d = best + pi_j[j] - pi_t
                    if d < dt:
                        dt = d
                        via_t = n + j
                    # (room and a mentee: its arcs from and to the sink make pi_j = pi_t, so
                    # the sink is reached at this label; room and none: no arc back to follow)
                    continue
                for q in range(slot_start[j], slot_start[j] + count[j]):
                    u = slots[q]
                    d = best - cost[u, j] + pi_j[j] - pi_i[u]
                    dist_u[u] = d
                    reached[n_reached] = u
                    n_reached += 1
                    _push(&hk[0], &hv[0], &n_pending, d, u)
            # potentials: each node moves by min(label, dt) - dt
            for j in range(m):
                if dist[j] < dt:
                    pi_j[j] += dist[j] - dt
            for q in range(n_reached):
                u = reached[q]
                if dist_u[u] < dt:
                    pi_i[u] += dist_u[u] - dt
            # flip the path from the sink back
            if via_t >= n:
                j = via_t - n
                v = pred[j]
                k = j
            else:
                v = via_t
                k = -1
            while True:  # mentee v leaves its mentor (if any) and takes mentor k (-1: none)
                old = mate[v]
                if old >= 0:
                    q = where[v]
                    count[old] -= 1
                    u = slots[slot_start[old] + count[old]]
                    slots[q] = u
                    where[u] = q
                if k >= 0:
                    q = slot_start[k] + count[k]
                    slots[q] = v
                    where[v] = q
                    count[k] += 1
                mate[v] = k
                if v == i:
                    break
                k = old  # v was reached back from its old mentor, which its labeller takes
                v = pred[k]
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
