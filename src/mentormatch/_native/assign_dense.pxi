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


cdef void _mentor_row(const int64_t* cost, Py_ssize_t m, Py_ssize_t j, int64_t* w, int64_t* wu,
                      const int64_t* mentees, Py_ssize_t count, int64_t* worst,
                      int64_t* worst_u) noexcept nogil:
    """Mentor ``j``'s row of the mentor graph (:func:`dense_flow`), ``w`` and ``wu`` its ``m``
    cells: for each mentor ``k``, the least ``c_uk - c_uj`` over ``j``'s ``count`` mentees
    ``u`` (moving one of them to ``k`` costs that plus ``pi_j - pi_k``) and that mentee; and
    ``j``'s mentee of the largest ``c_uj`` (the lowest score: the one to leave for nothing)."""
    cdef Py_ssize_t k, q, u
    cdef int64_t c, x
    for k in range(m):
        w[k] = INT64_MAX
    worst[j] = INT64_MIN
    for q in range(count):
        u = mentees[q]
        c = cost[u * m + j]
        if c > worst[j]:
            worst[j] = c
            worst_u[j] = u
        for k in range(m):
            x = cost[u * m + k]
            if x != INT64_MAX and x - c < w[k]:
                w[k] = x - c
                wu[k] = u


cdef inline bint _before(Py_ssize_t k, Py_ssize_t low, const int64_t* dist, const int64_t* count,
                        const int64_t* cap) noexcept nogil:
    """Whether mentor ``k`` is settled before ``low``: a lower label, or the same with room
    where ``low`` has none (on tied scores a plateau of equal labels ends at once)."""
    return dist[k] < dist[low] or (dist[k] == dist[low] and count[k] < cap[k] and count[low] >= cap[low])


cdef inline void _leave(Py_ssize_t v, Py_ssize_t j, int64_t* count, const int64_t* slot_start,
                        int64_t* slots, int64_t* where) noexcept nogil:
    """Mentee ``v`` leaves mentor ``j``'s slots (the last one takes its place)."""
    cdef Py_ssize_t q = where[v], u
    count[j] -= 1
    u = slots[slot_start[j] + count[j]]
    slots[q] = u
    where[u] = q


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
    when ``j``'s mentees do: it is kept per mentor that has had mentees (at most ``min(n, m)``
    rows of ``m``: counts never fall, a path's inner mentors gain one and lose one) and rebuilt
    when a search reaches a full mentor whose mentees changed since. A search settles mentors
    only, one row of ``m`` each (the labels are dense arrays over the mentors, the next one
    found in the same loop), where one that also scanned the mentees read each of a full
    mentor's mentees' rows (s27h3's). A full mentor's mentee may also leave for nothing: the
    one of the lowest score, kept with the row. A new mentee's labels start at ``c_ij - pi_j``:
    its potential (the least that keeps its arcs' reduced costs >= 0) shifts them all alike.
    The work arrays are raw pointers into one block: a memoryview passed to an inline helper
    is a struct copied at each call, which in the inner loops cost more than the search. At
    200 x 50, capacity 4, CPU of this call alone (s28h4): uniform scores 0.41 ms -> 0.14,
    scores in 4 levels 0.46 -> 0.08, beside lap.lapjv's 0.32 and 0.16 on the expanded matrix.

    Then every arc is checked against the potentials, in integers: a pair's gain
    ``rint(s * scale) - pi_i + pi_j`` must be <= 0, and every chosen pair an arc (else
    ``RuntimeError``: a bug). The optimum
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
    cdef Py_ssize_t rows = max(min(n, m), 1)
    cost_a = np.empty((n, m), np.int64)  # INT64_MAX: no arc
    mate_a = np.full(n, -1, np.int64)
    pi_i_a = np.zeros(n, np.int64)
    pi_j_a = np.zeros(m, np.int64)
    # the work arrays in one block: per mentor a label, the mentor it was reached from (-1:
    # the new mentee), settled in this search, its row (-1: none yet), the row out of date,
    # its lowest-scored mentee and that cost, its count and first slot; per mentee its slot;
    # the slots; the full mentors settled in a search (then the mentors of its path)
    work_a = np.zeros(10 * m + 2 * n + 2, np.int64)
    w_a = np.empty((rows, m), np.int64)
    wu_a = np.empty((rows, m), np.int64)
    cdef int64_t[::1] mate = mate_a, pi_i = pi_i_a, pi_j = pi_j_a, work = work_a
    cdef int64_t[:, ::1] cost_v = cost_a, w_v = w_a, wu_v = wu_a
    cdef int64_t* cost = &cost_v[0, 0]
    cdef int64_t* w = &w_v[0, 0]
    cdef int64_t* wu = &wu_v[0, 0]
    cdef int64_t* dist = &work[0]
    cdef int64_t* pred = dist + m
    cdef int64_t* done = dist + 2 * m
    cdef int64_t* row = dist + 3 * m
    cdef int64_t* stale = dist + 4 * m
    cdef int64_t* worst = dist + 5 * m
    cdef int64_t* worst_u = dist + 6 * m
    cdef int64_t* count = dist + 7 * m
    cdef int64_t* settled = dist + 8 * m  # (m)
    cdef int64_t* slot_start = dist + 9 * m  # (m + 1)
    cdef int64_t* where = dist + 10 * m + 1  # (n)
    cdef int64_t* slots  # (the places, at most n)
    cdef const int64_t* capp = &cap[0]
    cdef Py_ssize_t i, j, q, a, v, u, low, k, r, n_settled, n_rows = 0, via_t
    cdef bint left = False
    cdef int64_t pi_t = 0, c, dt, d, best, g, tight = 0, bad = 0, n_arcs = 0, shift
    cdef double x
    for j in range(m):
        slot_start[j + 1] = slot_start[j] + min(max(cap[j], 0), n)
    slots_a = np.zeros(max(slot_start[m], 1), np.int64)
    cdef int64_t[::1] slots_v = slots_a
    slots = &slots_v[0]
    with nogil:
        for j in range(m):
            row[j] = -1
        for i in range(n):
            for j in range(m):
                x = s[i, j]
                if x > 0 and cap[j] > 0 and not (has_forbid and forbid[i, j]):
                    cost[i * m + j] = -<int64_t>rint(x * scale)
                    n_arcs += 1
                else:
                    cost[i * m + j] = INT64_MAX
        for a in range(n):
            i = order[a]
            # a fresh mentee: labels c_ij - pi_j, less its potential (the least that keeps its
            # arcs' reduced costs >= 0, max(pi_t, max_j pi_j - c_ij)): every label alike
            low = -1
            for j in range(m):
                done[j] = 0
                c = cost[i * m + j]
                pred[j] = -1
                if c == INT64_MAX:
                    dist[j] = INT64_MAX
                    continue
                dist[j] = c - pi_j[j]
                if low < 0 or _before(j, low, dist, count, capp):
                    low = j
            dt = -pi_t  # staying unmatched (its potential less pi_t, less the shift)
            via_t = -1  # how the sink was reached: -1 from the new mentee; j >= 0 from mentor
            # j, with room (not left) or its mentee of the lowest score, left for nothing (left)
            n_settled = 0
            while low >= 0 and dist[low] < dt:
                j = low
                best = dist[j]
                done[j] = 1
                settled[n_settled] = j
                n_settled += 1
                if count[j] < cap[j]:
                    d = best + pi_j[j] - pi_t
                    if d < dt:
                        dt = d
                        via_t = j
                        left = False
                    # (room and a mentee: its arcs from and to the sink make pi_j = pi_t, so
                    # the sink is reached at this label; room and none: no arc back to follow)
                    if dt <= best:
                        break  # (every other label is >= best: the sink is the least)
                    low = -1
                    for k in range(m):
                        if not done[k] and dist[k] != INT64_MAX and (low < 0 or _before(k, low, dist, count, capp)):
                            low = k
                    continue
                if stale[j]:  # its mentees changed since its row was built
                    if row[j] < 0:
                        row[j] = n_rows
                        n_rows += 1
                    _mentor_row(cost, m, j, w + row[j] * m, wu + row[j] * m,
                                slots + slot_start[j], count[j], worst, worst_u)
                    stale[j] = 0
                d = best + pi_j[j] - worst[j] - pi_t  # its lowest-scored mentee leaves
                if d < dt:
                    dt = d
                    via_t = j
                    left = True
                r = row[j] * m
                low = -1
                for k in range(m):
                    if done[k]:
                        continue
                    c = w[r + k]
                    if c != INT64_MAX:
                        g = best + c + pi_j[j] - pi_j[k]
                        if g < dist[k]:
                            dist[k] = g
                            pred[k] = j
                    if dist[k] != INT64_MAX and (low < 0 or _before(k, low, dist, count, capp)):
                        low = k
            # potentials: each node moves by min(label, dt) - dt (a full mentor's mentees with
            # it: their label is its own); only the mentors settled have labels below dt
            for q in range(n_settled):
                j = settled[q]
                if dist[j] < dt:
                    shift = dist[j] - dt
                    pi_j[j] += shift
                    if count[j] >= cap[j]:
                        for k in range(slot_start[j], slot_start[j] + count[j]):
                            pi_i[slots[k]] += shift
            pi_i[i] = -dt  # (its label 0 less dt, both less the shift)
            # flip the path from the sink back: mentor k takes a mentee from mentor pred[k]
            if via_t < 0:
                continue
            k = via_t
            if left:  # the lowest-scored mentee of via_t leaves it
                v = worst_u[k]
                _leave(v, k, count, slot_start, slots, where)
                mate[v] = -1
            while True:
                j = pred[k]
                v = i if j < 0 else wu[row[j] * m + k]
                if j >= 0:
                    _leave(v, j, count, slot_start, slots, where)
                    stale[j] = 1
                q = slot_start[k] + count[k]
                slots[q] = v
                where[v] = q
                count[k] += 1
                mate[v] = k
                stale[k] = 1
                if j < 0:
                    break
                k = j
        # the check, in integers: every mentee's mentor by an arc, no arc of positive gain;
        # the unchosen arcs of gain 0
        for i in range(n):
            if mate[i] >= 0 and cost[i * m + mate[i]] == INT64_MAX:
                bad += 1
            for j in range(m):
                c = cost[i * m + j]
                if c == INT64_MAX or mate[i] == j:
                    continue
                g = -c - pi_i[i] + pi_j[j]
                if g > 0:
                    bad += 1
                elif g == 0:
                    tight += 1
    if bad:
        raise RuntimeError(f"dense_flow: {bad} pairs of positive gain or not in the network after "
                           "the flow (a bug)")
    movable = (_movable(cost_a, mate, pi_i, pi_j, pi_t, work_a[7 * m:8 * m], cap,
                        work_a[9 * m:10 * m + 1], slots_a, tight) if tight else 0)
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
