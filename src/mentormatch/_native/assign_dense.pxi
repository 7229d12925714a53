# (included by assign.pyx: the small-problem path of assign(), on the dense matrix itself;
# the module's imports and assign_costs.pxi (the costs' types, the mentor rows, every pair)
# are in scope)
from libc.math cimport rint
from libc.stdint cimport INT64_MAX, uint64_t
from libc.stdlib cimport free, malloc


#: dense_flow's interface: 2 takes the tie rule's keys and a face, and returns 7 values
#: (:func:`mentormatch.solvers.dense.small.applies` refuses a module built before); 3: keyed on
#: every arc, its last value is the plain count (``dense_moving``'s), not the keyed one.
DENSE_FLOW_VERSION = 3

cdef struct Work:  # dense_flow's int64 arrays (its comments say what each holds)
    Py_ssize_t n
    Py_ssize_t m
    const int64_t* order
    const int64_t* cap
    int64_t* mate
    int64_t* pred
    int64_t* row
    int64_t* stale
    int64_t* worst_u
    int64_t* count
    int64_t* settled
    int64_t* slot_start
    int64_t* where
    int64_t* slots
    int64_t* by_face  # (on the face: n mentees, then m + 2 counts)
    int64_t* todo  # the mentors not settled in this search (m) and each one's place there
    int64_t* at
    int64_t* tight_ptr  # after the flow: the unchosen arcs of gain 0, each mentee's (n + 1)
    int64_t* tight_j  # and their mentors (at most n * m)
    int64_t* plain_ptr  # keyed, on every arc: those of plain gain 0 under the rounded
    int64_t* plain_j  # potentials, likewise (for the plain ``moving``; else unused)


def dense_flow(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
               const int64_t[::1] order, const int64_t[::1] cap, double scale,
               const int64_t[::1] rank_i=None, const int64_t[::1] rank_j=None, int bits=0,
               const int64_t[::1] face_i=None, const int64_t[::1] face_j=None):
    """A min-cost flow of :func:`flow_assign`'s network over every pair of the dense matrix
    ``s`` (mentees x mentors, any memory layout): a pair is an arc when it is not forbidden,
    scores > 0 and its mentor has a place, at the integer cost ``-rint(s * scale)`` (round half
    to even, as :func:`mentormatch.solvers.quantize.integer_costs`); every demand is 1.

    **The tie rule's first stage in the flow.** Given the seeded ranks ``rank_i``, ``rank_j``
    and the rule's key width ``bits`` (:func:`mentormatch.solvers.ties.key_bits`, at most 40),
    each arc costs the 128-bit integer ``c * 2**64 + key``, ``key`` the rule's stage-1 key of
    the pair (:func:`pair_keys` of the ranks at stage 1, ``bits`` bits). A flow's keys sum to
    less than ``2**64`` (``places * 2**bits``), so its cost orders flows by their integer cost
    first and their key sum next: the least is, among the optima, the one of least key sum,
    the flow the rule's second flow finds (:mod:`mentormatch.solvers.ties`, step 3); when no
    other flow reaches its 128-bit cost (``movable`` 0 for these costs) it is the rule's pick.
    ``face_i``, ``face_j``: integer potentials proving some optimum (a plain run's): only the
    pairs of gain 0 under them, those of the optimal face, are arcs (any optimum uses only
    them, so the least is the same; at 200 x 50 with scores in 4 levels the keyed flow on the
    face takes half the time of one on every arc). The potentials returned are the 128-bit ones
    rounded to their multiple of ``2**64``: they prove the flow optimal for the costs ``c`` on
    the arcs it had (a potential is a difference of two paths' costs, whose key parts stay
    below ``2 * (n + m + 1) * 2**bits``, far from ``2**63``: the rounding turns no reduced
    cost's sign).

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
    is a struct copied at each call, which in the inner loops cost more than the search.

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

    Returns ``(mate, pi_mentee, pi_mentor, pi_sink, movable, n_arcs, moving)``: each mentee's
    mentor (-1: unmatched), potentials as :func:`flow_assign`'s (for the costs ``c``), how many
    unchosen arcs lie on a cycle of reduced cost 0 (:func:`_movable`; 0: the optimum is unique,
    for the keyed costs when keyed), the arcs, and how many pairs (chosen or not) can move
    between optima (the rule's ``movable_pairs``, unkeyed: keyed on every arc, the plain
    optima's on the rounded potentials, :func:`dense_moving`'s count, its arcs found in the
    check's pass; 200 x 50, 4 levels, in the call: 266 + 78 -> 238-260 us min, s32h2)."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1]
    if order.shape[0] != n or cap.shape[0] != m:
        raise ValueError("dense_flow: order must hold n_mentees entries and cap n_mentors")
    if has_forbid and (forbid.shape[0] != n or forbid.shape[1] != m):
        raise ValueError("dense_flow: forbid must be shaped like s")
    cdef bint keyed = bits > 0
    if keyed and (rank_i is None or rank_j is None or rank_i.shape[0] != n
                  or rank_j.shape[0] != m or bits > 40):
        raise ValueError("dense_flow: bits (1-40) needs a rank per mentee and per mentor")
    cdef bint on_face = face_i is not None
    if on_face and (face_j is None or face_i.shape[0] != n or face_j.shape[0] != m):
        raise ValueError("dense_flow: the face needs a potential per mentee and per mentor")
    cdef Py_ssize_t rows = max(min(n, m), 1), j
    mate_a = np.full(n, -1, np.int64)
    # the int64 work arrays in one block: per mentor the mentor it was reached from (-1: the
    # new mentee), its place in ``todo``, its row (-1: none yet), the row out of date, its
    # lowest-scored mentee, its count and first slot; per mentee its slot; the full mentors
    # settled in a search; the mentors left to settle
    work_a = np.zeros(9 * m + n + 2, np.int64)
    cdef int64_t[::1] mate = mate_a, work = work_a
    cdef Work k
    k.n, k.m, k.order, k.cap, k.mate = n, m, &order[0] if n else NULL, &cap[0] if m else NULL, &mate[0] if n else NULL
    k.pred = &work[0]
    k.at = k.pred + m
    k.row = k.pred + 2 * m
    k.stale = k.pred + 3 * m
    k.worst_u = k.pred + 4 * m
    k.count = k.pred + 5 * m
    k.settled = k.pred + 6 * m  # (m)
    k.slot_start = k.pred + 7 * m  # (m + 1)
    k.where = k.pred + 8 * m + 1  # (n)
    k.todo = k.where + n + 1  # (m)
    for j in range(m):
        k.slot_start[j + 1] = k.slot_start[j] + min(max(cap[j], 0), n)
    slots_a = np.zeros(max(k.slot_start[m], 1), np.int64)
    cdef int64_t[::1] slots_v = slots_a
    k.slots = &slots_v[0]  # (the places, at most n)
    by_face_a = np.zeros(n + m + 2 if on_face else 1, np.int64)
    cdef int64_t[::1] by_face_v = by_face_a
    k.by_face = &by_face_v[0]
    # the cost-sized arrays (malloc: 16-byte aligned, as 128-bit integers need): the costs,
    # the mentor rows, per mentor a label, the cost of its lowest-scored mentee and a
    # potential, per mentee a potential
    cdef size_t size = n * m + rows * m + 3 * m + n + 1
    cdef void* block = malloc(size * (sizeof(lex_t) if keyed else sizeof(int64_t)))
    cdef bint plain_count = keyed and not on_face  # (the plain tight arcs listed too)
    cdef int64_t* tight_block = <int64_t*>malloc((n * m + 2 * n + 2 + plain_count * n * m)
                                                 * sizeof(int64_t))
    if block == NULL or tight_block == NULL:
        free(block)
        free(tight_block)
        raise MemoryError()
    k.tight_ptr = tight_block
    k.tight_j = tight_block + n + 1
    k.plain_ptr = k.tight_j + n * m
    k.plain_j = k.plain_ptr + n + 1
    try:
        if keyed:
            return _dense_flow[lex_t](&k, <lex_t*>block, s, forbid, has_forbid, scale, rank_i, rank_j,
                                      bits, face_i if on_face else None, face_j if on_face else None,
                                      mate_a, slots_a)
        return _dense_flow[int64_t](&k, <int64_t*>block, s, forbid, has_forbid, scale, None, None, 0,
                                    face_i if on_face else None, face_j if on_face else None,
                                    mate_a, slots_a)
    finally:
        free(block)
        free(tight_block)


cdef tuple _dense_flow(Work* k_, cost_t* cost, const double[:, :] s, const unsigned char[:, :] forbid,
                       bint has_forbid, double scale, const int64_t[::1] rank_i,
                       const int64_t[::1] rank_j, int bits, const int64_t[::1] face_i,
                       const int64_t[::1] face_j, mate_a, slots_a):
    """:func:`dense_flow` in the costs' type (``cost`` a block of the cost-sized arrays)."""
    cdef Py_ssize_t n = k_.n, m = k_.m, rows = max(min(n, m), 1)
    cdef const int64_t* order = k_.order
    cdef const int64_t* capp = k_.cap
    cdef const int64_t* cap = k_.cap
    cdef int64_t* mate = k_.mate
    cdef int64_t* pred = k_.pred
    cdef int64_t* row = k_.row
    cdef int64_t* stale = k_.stale
    cdef int64_t* worst_u = k_.worst_u
    cdef int64_t* count = k_.count
    cdef int64_t* settled = k_.settled
    cdef int64_t* slot_start = k_.slot_start
    cdef int64_t* where = k_.where
    cdef int64_t* slots = k_.slots
    cdef int64_t* todo = k_.todo
    cdef int64_t* at = k_.at
    cdef int64_t* tight_ptr = k_.tight_ptr
    cdef int64_t* tight_j = k_.tight_j
    cdef int64_t* plain_ptr = k_.plain_ptr
    cdef int64_t* plain_j = k_.plain_j
    cdef cost_t* w = cost + n * m
    cdef cost_t* dist = w + rows * m
    cdef cost_t* worst = dist + m
    cdef cost_t* pi_j = worst + m
    cdef cost_t* pi_i = pi_j + m
    cdef cost_t none = _no_arc(cost), pi_t = 0, c, dt, d, best, g, shift, dlow, base
    cdef Py_ssize_t i, j, q, a, v, u, low, k, r, n_settled, n_rows = 0, via_t, n_todo
    cdef bint left = False, keyed = bits > 0, on_face = face_i is not None, lower
    cdef int64_t tight = 0, bad = 0, n_arcs = 0, ci, arcs, n_plain = 0, zero = 0, ci_base, mi
    # keyed on every arc: the plain ``moving`` counted here too, on the rounded potentials
    # (:func:`dense_moving`'s count, its pass over the cells folded into the check's)
    cdef bint plain_count = keyed and not on_face
    cdef int64_t* cnt
    cdef int key_shift = 64 - bits
    cdef uint64_t ka = 0
    cdef double x
    # the potentials returned (for the costs ``c``: the keyed ones rounded)
    pi_i_a = np.empty(n, np.int64)
    pi_j_a = np.empty(m, np.int64)
    cdef int64_t[::1] out_i = pi_i_a, out_j = pi_j_a
    cdef int64_t* p_i = &out_i[0] if n else NULL
    cdef int64_t* p_j = &out_j[0] if m else NULL
    with nogil:
        for j in range(m):
            row[j] = -1
            pi_j[j] = 0
        for i in range(n):
            pi_i[i] = 0
            if keyed:
                ka = <uint64_t>rank_i[i] * 0x9E3779B97F4A7C15ULL + 0xD1B54A32D192ED03ULL
            arcs = 0  # (a local: counted in memory, the pass ran a tenth slower)
            for j in range(m):
                x = s[i, j]
                if x > 0 and cap[j] > 0 and not (has_forbid and forbid[i, j]):
                    ci = -<int64_t>rint(x * scale)
                    if on_face and -ci - face_i[i] + face_j[j] != 0:  # in no optimum
                        cost[i * m + j] = none
                        continue
                    if cost_t is int64_t:
                        cost[i * m + j] = ci
                    else:
                        cost[i * m + j] = _lex(ci, _key(ka, <uint64_t>rank_j[j], key_shift) if keyed else 0)
                    arcs += 1
                else:
                    cost[i * m + j] = none
            where[i] = arcs  # (on the face: its pairs there, until the mentees are placed)
            n_arcs += arcs
        if on_face:
            # the mentees with the fewest pairs on the face first (a counting sort, in
            # ``order`` among equal counts): the least is the same in any order, and this one
            # settles fewer mentors (200 x 50, 4 levels: the keyed flow 0.34 -> 0.27 ms)
            cnt = k_.by_face + n
            for a in range(n):
                cnt[where[order[a]] + 1] += 1
            for j in range(m + 1):
                cnt[j + 1] += cnt[j]
            for a in range(n):
                i = order[a]
                k_.by_face[cnt[where[i]]] = i
                cnt[where[i]] += 1
            order = k_.by_face
        for a in range(n):
            i = order[a]
            # a fresh mentee: labels c_ij - pi_j, less its potential (the least that keeps its
            # arcs' reduced costs >= 0, max(pi_t, max_j pi_j - c_ij)): every label alike
            low = -1
            dlow = none
            n_todo = m
            for j in range(m):
                todo[j] = j
                at[j] = j
                c = cost[i * m + j]
                pred[j] = -1
                if c == none:
                    dist[j] = none
                    continue
                d = c - pi_j[j]  # (a local: read back from dist, the 128-bit label's two
                dist[j] = d  # halves stalled on their store, a sixth of the keyed flow)
                if d < dlow:
                    low, dlow = j, d
                elif d == dlow and _room_first(j, low, count, capp):
                    low = j
            dt = -pi_t  # staying unmatched (its potential less pi_t, less the shift)
            via_t = -1  # how the sink was reached: -1 from the new mentee; j >= 0 from mentor
            # j, with room (not left) or its mentee of the lowest score, left for nothing (left)
            n_settled = 0
            while low >= 0 and dlow < dt:
                j = low
                best = dist[j]
                # settled: out of the mentors left to scan (the last one takes its place; the
                # scans below find the same next one in any order: _room_first; in the tail of
                # 200 x 50, where a search settles most mentors, about half the cells read)
                n_todo -= 1
                todo[at[j]] = todo[n_todo]
                at[todo[n_todo]] = at[j]
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
                    dlow = none
                    for q in range(n_todo):
                        k = todo[q]
                        if dist[k] < dlow:
                            low, dlow = k, dist[k]
                        elif dist[k] == dlow and dlow != none and _room_first(k, low, count, capp):
                            low = k
                    continue
                if stale[j]:  # its mentees changed since its row was built
                    if row[j] < 0:
                        row[j] = n_rows
                        n_rows += 1
                    _mentor_row(cost, m, j, w + row[j] * m, slots + slot_start[j], count[j],
                                worst, worst_u)
                    stale[j] = 0
                d = best + pi_j[j] - worst[j] - pi_t  # its lowest-scored mentee leaves
                if d < dt:
                    dt = d
                    via_t = j
                    left = True
                r = row[j] * m
                base = best + pi_j[j]
                low = -1
                dlow = none
                for q in range(n_todo):  # (branch-free: the label's compare is unpredictable)
                    k = todo[q]
                    c = w[r + k]
                    g = none if c == none else base + c - pi_j[k]
                    d = dist[k]
                    lower = g < d
                    d = g if lower else d
                    dist[k] = d
                    pred[k] ^= (pred[k] ^ j) & -<int64_t>lower  # (a select gcc left a branch)
                    if d < dlow:
                        low, dlow = k, d
                    elif d == dlow and dlow != none and _room_first(k, low, count, capp):
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
                v = i if j < 0 else _mover(cost, m, j, k, slots + slot_start[j], count[j])
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
        for i in range(n):
            p_i[i] = _plain(pi_i[i])
        for j in range(m):
            p_j[j] = _plain(pi_j[j])
        # the check, in integers: every mentee's mentor by an arc, no arc of positive gain;
        # the unchosen arcs of gain 0, listed by mentee (for _movable); keyed on every arc,
        # also those of plain gain 0 under the rounded potentials (dense_moving's arcs)
        for i in range(n):
            tight_ptr[i] = tight
            plain_ptr[i] = n_plain
            if mate[i] >= 0 and cost[i * m + mate[i]] == none:
                bad += 1
            mi = mate[i]
            ci_base = p_i[i]
            for j in range(m):
                if cost_t is int64_t:
                    c = cost[i * m + j]
                    if c == none or mi == j:
                        continue
                else:  # keyed: the plain gain first, in int64, from each cost's plain part
                    # alone (its upper half: no 128-bit load or compare on most cells; no arc's
                    # is INT64_MAX); negative, the keyed gain is too (the key parts, far below
                    # 2**63, turn no sign): most cells end here, 128-bit arithmetic on the rest
                    # (200 x 50, 4 levels: the keyed flow 149.8-151.1 -> 146.6-148.6 us min, s33h3)
                    ci = _upper(cost[i * m + j])
                    if ci == INT64_MAX or mi == j:
                        continue
                    ci = -ci - ci_base + p_j[j]
                    if ci < 0:
                        continue
                    if plain_count and ci == 0:
                        plain_j[n_plain] = j
                        n_plain += 1
                    c = cost[i * m + j]
                g = -c - pi_i[i] + pi_j[j]
                if g > 0:
                    bad += 1
                elif g == 0:
                    tight_j[tight] = j
                    tight += 1
        tight_ptr[n] = tight
        plain_ptr[n] = n_plain
    if bad:
        raise RuntimeError(f"dense_flow: {bad} pairs of positive gain or not in the network after "
                           "the flow (a bug)")
    movable = moving = 0
    if tight:
        movable, moving = _movable(n, m, mate, pi_i, pi_j, pi_t, count, capp, slot_start, slots,
                                   tight_ptr, tight_j)
    if plain_count:  # the pairs that move between the plain optima
        moving = 0
        if n_plain:
            _, moving = _movable(n, m, mate, p_i, p_j, zero, count, capp, slot_start, slots,
                                 plain_ptr, plain_j)
    return mate_a, pi_i_a, pi_j_a, 0, int(movable), int(n_arcs), int(moving)
