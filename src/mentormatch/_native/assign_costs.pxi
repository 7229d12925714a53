# (included by assign.pyx before assign_dense.pxi: the costs of assign()'s dense flow, plain
# int64 or keyed 128-bit, the order its searches settle mentors in, the rows of its mentor
# graph (:func:`_mentor_row`, :func:`_mover`), its mentors' slots (:func:`_leave`), and what
# reads every pair of the dense matrix (the scale's top, the pairs that can move, every pair,
# the chosen pairs' ranks); the module's imports are in scope)
from libc.math cimport INFINITY, rint
from libc.stdint cimport INT64_MAX, INT64_MIN, uint64_t
from libc.stdlib cimport free, malloc


def dense_top(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
              const int64_t[::1] cap):
    """The largest score of a pair in the network of :func:`dense_flow` (eligible, score > 0,
    the mentor with a place), 0.0 when there is none: what the scale is chosen from
    (:func:`mentormatch.solvers.quantize.choose_scale`). A column-major matrix (a DataFrame's
    usual block) is read a column at a time through pointers, branch-free (200 x 50, the call
    8.7 -> 6.3 us min, most of it the call's own cost; s33h3); the max of the same values
    either way."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], i, j
    cdef double top = 0.0, x
    cdef const double* col
    cdef const unsigned char* fcol
    cdef bint by_column = n > 0 and s.strides[0] == sizeof(double) and (
        not has_forbid or forbid.strides[0] == 1)
    with nogil:
        for j in range(m):
            if cap[j] <= 0:
                continue
            if by_column:
                col = &s[0, j]
                if has_forbid:
                    fcol = &forbid[0, j]
                    for i in range(n):
                        x = 0.0 if fcol[i] else col[i]
                        top = x if x > top else top
                else:
                    for i in range(n):
                        x = col[i]
                        top = x if x > top else top
                continue
            for i in range(n):
                x = s[i, j]
                if x > top and not (has_forbid and forbid[i, j]):
                    top = x
    return top


cdef extern from *:
    """
    typedef __int128 mm_lex;
    #define MM_NOARC ((__int128)(((unsigned __int128)1 << 127) - 1))
    static inline int64_t mm_hi(__int128 v) { return (int64_t)((v + (((__int128)1) << 63)) >> 64); }
    static inline int64_t mm_upper(__int128 v) { return (int64_t)(v >> 64); }
    static inline __int128 mm_lex_of(int64_t c, int64_t key) { return ((__int128)c) * (((__int128)1) << 64) + key; }
    """
    ctypedef long long lex_t "mm_lex"  # (a 128-bit integer: Cython only needs its arithmetic)
    const lex_t NOARC "MM_NOARC"
    int64_t _hi "mm_hi"(lex_t v) noexcept nogil
    int64_t _upper_lex "mm_upper"(lex_t v) noexcept nogil
    lex_t _lex "mm_lex_of"(int64_t c, int64_t key) noexcept nogil


ctypedef fused cost_t:  # the flow's integer costs: plain, or with the tie rule's keys
    int64_t
    lex_t


cdef inline cost_t _no_arc(const cost_t* like) noexcept nogil:
    """The label of no arc (above every label of the flow), in the costs' type."""
    if cost_t is int64_t:
        return INT64_MAX
    else:
        return NOARC


cdef inline int64_t _plain(cost_t x) noexcept nogil:
    """A cost for the integer costs alone (the key part dropped)."""
    if cost_t is int64_t:
        return x
    else:
        return _hi(x)


cdef inline int64_t _upper(cost_t x) noexcept nogil:
    """A cost's integer part (the key part dropped), exact for a cost of the flow, whose key
    part is in ``[0, 2**63)``, and ``INT64_MAX`` for no arc: the upper half alone (a compiler
    reads one word, where :func:`_plain`'s rounding reads both)."""
    if cost_t is int64_t:
        return x
    else:
        return _upper_lex(x)


cdef inline int64_t _key(uint64_t a, uint64_t b, int shift) noexcept nogil:
    """The tie rule's key of the first stage (:func:`pair_keys` at stage 1, its top ``64 -
    shift`` bits), from ``a = rank_i * 0x9E3779B97F4A7C15 + 0xD1B54A32D192ED03`` and ``b =
    rank_j``."""
    cdef uint64_t x = a + b
    x ^= x >> 30
    x *= 0xBF58476D1CE4E5B9ULL
    x ^= x >> 27
    x *= 0x94D049BB133111EBULL
    x ^= x >> 31
    return <int64_t>(x >> shift)


cdef inline bint _room_first(Py_ssize_t k, Py_ssize_t low, const int64_t* count,
                            const int64_t* cap) noexcept nogil:
    """Whether mentor ``k`` is settled before ``low`` when their labels are equal: ``k`` has
    room where ``low`` has none (on tied scores a plateau of equal labels ends at once), or
    both or neither have and ``k`` is the lower index. With the label first, a total order:
    the mentors left to settle are scanned in any order (:func:`dense_flow`'s ``todo``) and
    the same one is found, the lowest index among the least (as a scan in index order keeping
    the first found). The scans keep the least label in a local and come here only on a tie
    (a call per cell, comparing the labels in memory, was a sixth of the kernel's time)."""
    cdef bint room_k = count[k] < cap[k], room_low = count[low] < cap[low]
    return room_k > room_low or (room_k == room_low and k < low)


cdef void _mentor_row(const cost_t* cost, Py_ssize_t m, Py_ssize_t j, cost_t* w,
                      const int64_t* mentees, Py_ssize_t count, cost_t* worst,
                      int64_t* worst_u) noexcept nogil:
    """Mentor ``j``'s row of the mentor graph (:func:`dense_flow`), ``w`` its ``m`` cells: for
    each mentor ``k``, the least ``c_uk - c_uj`` over ``j``'s ``count`` mentees ``u`` (moving
    one of them to ``k`` costs that plus ``pi_j - pi_k``; which one, :func:`_mover` finds when
    a path takes the cell); and ``j``'s mentee of the largest ``c_uj`` (the lowest score: the
    one to leave for nothing). Branch-free selects, the least alone (the rebuilds were a third
    of the kernel's time at 200 x 50, a branch on each unpredictable compare and a store of
    its mentee per cell; with the scans' selects, the kernel went 195 -> 145 us on unseen
    inputs)."""
    cdef Py_ssize_t k, q
    cdef cost_t c, x, g, none = _no_arc(cost)
    cdef const cost_t* cu
    worst[j] = -none
    if count <= 0:
        for k in range(m):
            w[k] = none
    for q in range(count):
        cu = cost + mentees[q] * m
        c = cu[j]
        if c > worst[j]:
            worst[j] = c
            worst_u[j] = mentees[q]
        if q == 0:
            for k in range(m):
                x = cu[k]
                w[k] = none if x == none else x - c
        else:
            for k in range(m):
                x = cu[k]
                g = none if x == none else x - c
                w[k] = g if g < w[k] else w[k]


cdef inline Py_ssize_t _mover(const cost_t* cost, Py_ssize_t m, Py_ssize_t j, Py_ssize_t k,
                              const int64_t* mentees, Py_ssize_t count) noexcept nogil:
    """Mentor ``j``'s mentee whose move to mentor ``k`` costs least (``c_uk - c_uj``, the
    cell of :func:`_mentor_row`; the first in ``j``'s slots among equals), for a path through
    that cell: the mentees have not changed since the row was built (a path passes a mentor
    once, and the flip changes ``j``'s mentees after this)."""
    cdef Py_ssize_t q, u, best_u = mentees[0]
    cdef cost_t x, g, none = _no_arc(cost), least = none
    for q in range(count):
        u = mentees[q]
        x = cost[u * m + k]
        if x == none:  # (no arc from this mentee)
            continue
        g = x - cost[u * m + j]
        if g < least:
            least = g
            best_u = u
    return best_u


cdef inline void _leave(Py_ssize_t v, Py_ssize_t j, int64_t* count, const int64_t* slot_start,
                        int64_t* slots, int64_t* where) noexcept nogil:
    """Mentee ``v`` leaves mentor ``j``'s slots (the last one takes its place)."""
    cdef Py_ssize_t q = where[v], u
    count[j] -= 1
    u = slots[slot_start[j] + count[j]]
    slots[q] = u
    where[u] = q


cdef tuple _movable(Py_ssize_t n, Py_ssize_t m, const int64_t* mate, const cost_t* pi_i,
                    const cost_t* pi_j, cost_t pi_t, const int64_t* count, const int64_t* cap,
                    const int64_t* slot_start, const int64_t* slots, const int64_t* tight_ptr,
                    const int64_t* tight_j):
    """How many of the unchosen arcs of gain 0 (mentee ``i``'s to the mentors
    ``tight_j[tight_ptr[i]:tight_ptr[i + 1]]``, found by :func:`dense_flow`'s check) lie on a
    cycle of residual arcs of reduced cost 0 (:func:`strong_components` of that graph:
    mentees, then mentors, then the sink; 0 iff the optimum is unique: :func:`dense_flow`),
    and how many pairs, chosen or not, do (the chosen pairs' arcs are tight), for the costs'
    own type (with the keys: 0 iff the least key sum is reached once). The successive
    shortest paths leave tight arcs in every search's tree (about 48 at 200 x 50 uniform: this
    runs on most inputs), hence the list from the check rather than a pass of its own."""
    cdef Py_ssize_t t = n + m, i, j, q, e = 0, k = 0, kc = 0, size = n + m + 1
    # one block, no numpy arrays (this runs on most inputs): the graph's offsets and arcs, the
    # labels and the components' work
    cdef int64_t* ptr = <int64_t*>malloc((size + 1 + tight_ptr[n] + 3 * n + 2 * m + 1 + 7 * size)
                                         * sizeof(int64_t))
    if ptr == NULL:
        raise MemoryError()
    cdef int64_t* adj = ptr + size + 1
    cdef int64_t* label = adj + tight_ptr[n] + 3 * n + 2 * m + 1
    with nogil:
        for i in range(n):  # a mentee: its tight unchosen pairs; the sink (leaving its pair)
            ptr[i] = e
            for q in range(tight_ptr[i], tight_ptr[i + 1]):
                adj[e] = n + tight_j[q]
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
        _components(size, ptr, adj, label, label + size)
        for i in range(n):
            for q in range(ptr[i], ptr[i + 1]):
                if adj[q] < t and label[adj[q]] == label[i]:
                    k += 1
            if mate[i] >= 0 and label[n + mate[i]] == label[i]:
                kc += 1
    free(ptr)
    return k, k + kc


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
    # one pass: the arrays sized for every cell and cut to the eligible ones (views; with a
    # first pass counting them this took 28 us at 200 x 50, now 15-19)
    mentee_a = np.empty(n * m, np.int64)
    mentor_a = np.empty(n * m, np.int64)
    score_a = np.empty(n * m, np.float64)
    chosen_a = np.zeros(n * m, np.uint8)
    cdef int64_t[::1] nf = nf_a, nx = nx_a, mentee = mentee_a, mentor = mentor_a
    cdef double[::1] score = score_a
    cdef unsigned char[::1] chosen = chosen_a
    with nogil:
        for i in range(n):
            for j in range(m):
                x = s[i, j]
                if has_forbid and forbid[i, j]:
                    nf[i] += 1
                    continue
                if not x > -INFINITY:
                    nx[i] += 1
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
    mentee_a, mentor_a, score_a, chosen_a = mentee_a[:e], mentor_a[:e], score_a[:e], chosen_a[:e]
    return mentee_a, mentor_a, score_a, chosen_a.view(bool), nf_a, nx_a, top



def chosen_ranks(const int64_t[::1] mentee, const double[::1] score, const int64_t[::1] chosen):
    """Each chosen pair's rank among its mentee's pairs, 1 + how many of them score higher
    (:func:`mentormatch.pipeline.wrap._rank_of_chosen`'s count), for pairs sorted by mentee
    (a :class:`~mentormatch.pairs.Candidates`) and ``chosen`` positions in ascending order:
    one walk over the chosen mentees' runs (the small path's pairs table on its first read:
    80 us by the numpy count at 200 x 50)."""
    cdef Py_ssize_t n_pairs = mentee.shape[0], q, a = 0, b, c, higher
    cdef int64_t i
    cdef double x
    out_a = np.empty(chosen.shape[0], np.int64)
    cdef int64_t[::1] out = out_a
    with nogil:
        for q in range(chosen.shape[0]):
            c = chosen[q]
            i = mentee[c]
            while mentee[a] != i:  # the start of the mentee's run (runs ascend, as chosen)
                a += 1
            x = score[c]
            higher = 0
            b = a
            while b < n_pairs and mentee[b] == i:
                higher += score[b] > x
                b += 1
            out[q] = 1 + higher
    return out_a
