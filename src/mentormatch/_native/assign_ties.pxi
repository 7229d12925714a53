# (included by assign.pyx: the tie rule's gathering of its pairs, in the seeded order, and
# its keys, in C (:mod:`mentormatch.solvers.ties`); the module's imports are in scope)
from libc.math cimport rint
from libc.stdint cimport uint64_t


def face_pairs(const int64_t[::1] mentee, const int64_t[::1] mentor, const double[::1] score,
               const unsigned char[::1] chosen, const int64_t[::1] dem, const int64_t[::1] cap,
               const int64_t[::1] d_i, const int64_t[::1] d_j, double scale,
               const int64_t[::1] rank_i, const int64_t[::1] rank_j):
    """The pairs the tie rule works on (:func:`mentormatch.solvers.ties.canonical`), gathered
    and put in the seeded order in C: the chosen ones, and those of score > 0 between a mentee
    of demand > 0 and a mentor of capacity > 0 whose integer gain ``rint(s * scale) - d_i +
    d_j`` is >= 0 (``rint``: to nearest, halves to even, as ``numpy.round``), sorted by
    (``rank_i`` of the mentee, ``rank_j`` of the mentor), stably (two counting sorts, the
    mentor's rank first: ``numpy.argsort`` of the codes, stable). When each mentee's pairs lie
    together (the dense path's, by mentee) and the pairs kept are at least an eighth of the
    cells of the mentees given pairs (the sweep reads every mentor rank), the same order comes from the mentees in rank order,
    each one's pairs read off by a sweep of the mentor ranks (:func:`_by_groups`): the two
    sorts' scatters miss the cache on every pair (scores in 4 levels, CPU at load 7-10: 6.2
    million pairs on the face at 10,000 x 2,500, 270-280 ms to 142-145; 1.5 million at
    5,000 x 1,250, 57 to 34 ms; 250,000 at 2,000 x 500, in cache, 5.5-5.9 ms either way).

    Returns ``(idx, a, b, cost)``: the pairs' positions, their mentees' and mentors' ranks and
    ``-rint(s * scale)``, int64 each."""
    cdef Py_ssize_t n_pairs = mentee.shape[0], n = dem.shape[0], m = cap.shape[0]
    if (mentor.shape[0] != n_pairs or score.shape[0] != n_pairs or chosen.shape[0] != n_pairs
            or d_i.shape[0] != n or d_j.shape[0] != m or rank_i.shape[0] != n
            or rank_j.shape[0] != m):
        raise ValueError("face_pairs: one mentee, mentor, score and chosen per pair; "
                         "one potential and rank per person")
    keep_a = np.zeros(n_pairs, np.uint8)
    at_a = np.zeros(max(n, 1) + 1, np.int64)
    bt_a = np.zeros(max(m, 1) + 1, np.int64)
    start_a = np.full(max(n, 1), -1, np.int64)  # each mentee's run of pairs: start, end
    end_a = np.zeros(max(n, 1), np.int64)
    cdef unsigned char[::1] keep = keep_a
    cdef int64_t[::1] at = at_a, bt = bt_a, start = start_a, end = end_a
    cdef Py_ssize_t p, q, k = 0, i, j, runs = 0
    cdef double x
    cdef bint bad = False, grouped = True
    with nogil:
        for p in range(n_pairs):
            i, j = mentee[p], mentor[p]
            if p == 0 or i != mentee[p - 1]:
                if start[i] >= 0:
                    grouped = False
                start[i] = p
                runs += 1
            end[i] = p + 1
            if chosen[p]:
                keep[p] = 1
            elif score[p] > 0 and dem[i] > 0 and cap[j] > 0:
                x = score[p] * scale
                if x < 9.2e18:
                    keep[p] = <int64_t>rint(x) - d_i[i] + d_j[j] >= 0
                else:
                    bad = True
            if keep[p]:
                if not (score[p] * scale < 9.2e18 and score[p] * scale > -9.2e18):
                    bad = True
                k += 1
                at[rank_i[i] + 1] += 1
                bt[rank_j[j] + 1] += 1
    if bad:
        raise ValueError("face_pairs: a score times the scale is not a finite int64")
    tmp_a = np.zeros(max(k, 1), np.int64)
    idx_a = np.zeros(k, np.int64)
    a_a = np.zeros(k, np.int64)
    b_a = np.zeros(k, np.int64)
    cost_a = np.zeros(k, np.int64)
    cdef int64_t[::1] tmp = tmp_a, idx = idx_a, a = a_a, b = b_a, cost = cost_a
    if grouped and runs * m <= 8 * k and _by_groups(mentee, mentor, score, keep, scale, rank_i,
                                                    rank_j, start, end, idx, a, b, cost):
        return idx_a, a_a, b_a, cost_a
    with nogil:
        for i in range(n):
            at[i + 1] += at[i]
        for j in range(m):
            bt[j + 1] += bt[j]
        for p in range(n_pairs):  # by mentor rank, stably
            if keep[p]:
                j = rank_j[mentor[p]]
                tmp[bt[j]] = p
                bt[j] += 1
        for q in range(k):  # then by mentee rank, stably
            p = tmp[q]
            i = rank_i[mentee[p]]
            idx[at[i]] = p
            at[i] += 1
        for q in range(k):
            p = idx[q]
            a[q] = rank_i[mentee[p]]
            b[q] = rank_j[mentor[p]]
            cost[q] = -<int64_t>rint(score[p] * scale)
    return idx_a, a_a, b_a, cost_a


cdef bint _by_groups(const int64_t[::1] mentee, const int64_t[::1] mentor, const double[::1] score,
                     const unsigned char[::1] keep, double scale, const int64_t[::1] rank_i,
                     const int64_t[::1] rank_j, const int64_t[::1] start, const int64_t[::1] end,
                     int64_t[::1] idx, int64_t[::1] a, int64_t[::1] b, int64_t[::1] cost):
    """:func:`face_pairs`' output when each mentee's pairs lie in one run ``start..end``: the
    mentees in rank order, each one's kept pairs placed by mentor rank in a table of the ranks
    and read off in order. False (nothing to use) when a mentee has two pairs with one mentor."""
    cdef Py_ssize_t n = rank_i.shape[0], m = rank_j.shape[0], r, i, p, q = 0, t
    by_rank_a = np.empty(max(n, 1), np.int64)
    at_a = np.full(max(m, 1), -1, np.int64)  # the pair at each mentor rank, -1: none
    cdef int64_t[::1] by_rank = by_rank_a, at = at_a
    cdef bint ok = True
    with nogil:
        for i in range(n):
            by_rank[rank_i[i]] = i
        for r in range(n):
            i = by_rank[r]
            if start[i] < 0:
                continue
            t = 0
            for p in range(start[i], end[i]):
                if keep[p]:
                    if at[rank_j[mentor[p]]] >= 0:
                        ok = False
                    at[rank_j[mentor[p]]] = p
                    t += 1
            if not ok:
                break
            if t == 0:
                continue
            for t in range(m):
                p = at[t]
                if p >= 0:
                    at[t] = -1
                    idx[q] = p
                    a[q] = r
                    b[q] = t
                    cost[q] = -<int64_t>rint(score[p] * scale)
                    q += 1
    return ok


def pair_keys(const int64_t[::1] a, const int64_t[::1] b, uint64_t stage, int bits):
    """:func:`mentormatch.solvers.ties.pair_key` of the ranks ``a``, ``b`` at ``stage``, its
    top ``bits`` bits (1-63), int64: the same splitmix64 in C."""
    if not 1 <= bits <= 63:
        raise ValueError("pair_keys: bits must be 1-63")
    cdef Py_ssize_t k, size = a.shape[0]
    if b.shape[0] != size:
        raise ValueError("pair_keys: one mentor rank per mentee rank")
    out_a = np.zeros(size, np.int64)
    cdef int64_t[::1] out = out_a
    cdef uint64_t x, shift = 64 - bits
    with nogil:
        for k in range(size):
            x = ((<uint64_t>a[k]) * 0x9E3779B97F4A7C15ULL + <uint64_t>b[k]
                 + stage * 0xD1B54A32D192ED03ULL)
            x ^= x >> 30
            x *= 0xBF58476D1CE4E5B9ULL
            x ^= x >> 27
            x *= 0x94D049BB133111EBULL
            x ^= x >> 31
            out[k] = <int64_t>(x >> shift)
    return out_a


def dense_moving(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
                 const int64_t[::1] mate, const int64_t[::1] cap, double scale,
                 const int64_t[::1] pi_i, const int64_t[::1] pi_j):
    """How many pairs (chosen or not) differ between the optima of :func:`dense_flow`'s
    network on the dense matrix ``s``: the rule's ``movable_pairs``, as the plain
    ``dense_flow`` counts them, from the flow ``mate`` and any integer potentials ``pi_i``,
    ``pi_j`` (the sink's 0) proving it optimal, such as the keyed flow's rounded ones. A pair
    moves when it lies on a cycle of residual arcs of reduced cost 0; every such cycle is
    tight under any proving potentials, so the count does not depend on which. The graph is
    ``dense_flow``'s (mentees, then mentors, then the sink; a pair is an arc when it is not
    forbidden, scores > 0 and its mentor has a place), its components by
    :func:`strong_components` (11 us of it). At 200 x 50 (4 levels, 2,474 pairs move) 50-100
    us in the call, where the same count by numpy's reduced costs and :func:`movable_pairs`
    took 212 (s31h2). (Tried: the cells' test without branches, 110-156 us: slower.) The keyed
    :func:`dense_flow` on every arc now returns this count itself (``DENSE_FLOW_VERSION`` 3,
    its check's pass: ~20 us more in it, s32h2); the small path calls this on older builds."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], t, i, j, q, e = 0, moving = 0
    if (mate.shape[0] != n or cap.shape[0] != m or pi_i.shape[0] != n or pi_j.shape[0] != m
            or (has_forbid and (forbid.shape[0] != n or forbid.shape[1] != m))):
        raise ValueError("dense_moving: one mate and potential per mentee, one capacity and "
                         "potential per mentor, forbid shaped like s")
    t = n + m
    ptr_a = np.zeros(n + m + 2, np.int64)
    adj_a = np.zeros(n * m + 3 * n + 2 * m + 1, np.int64)
    start_a = np.zeros(m + 1, np.int64)
    of_a = np.zeros(max(n, 1), np.int64)
    cdef int64_t[::1] ptr = ptr_a, adj = adj_a, start = start_a, of = of_a
    cdef double x
    with nogil:
        for i in range(n):  # the mentors' mentees, by a counting sort
            if mate[i] >= 0:
                start[mate[i] + 1] += 1
        for j in range(m):
            start[j + 1] += start[j]
        for i in range(n):
            if mate[i] >= 0:
                of[start[mate[i]]] = i
                start[mate[i]] += 1
        for j in range(m - 1, -1, -1):  # (back to each mentor's first)
            start[j + 1] = start[j]
        start[0] = 0
        for i in range(n):  # a mentee: its tight unchosen arcs; the sink (leaving its pair)
            ptr[i] = e
            for j in range(m):
                x = s[i, j]
                if (x > 0 and cap[j] > 0 and mate[i] != j and not (has_forbid and forbid[i, j])
                        and <int64_t>rint(x * scale) - pi_i[i] + pi_j[j] == 0):
                    adj[e] = n + j
                    e += 1
            if mate[i] >= 0 and pi_i[i] == 0:
                adj[e] = t
                e += 1
        for j in range(m):  # a mentor: back to its mentees; the sink while it has room
            ptr[n + j] = e
            for q in range(start[j], start[j + 1]):
                adj[e] = of[q]
                e += 1
            if start[j + 1] - start[j] < cap[j] and pi_j[j] == 0:
                adj[e] = t
                e += 1
        ptr[t] = e  # the sink: back to the mentors with mentees, to the unmatched mentees
        for j in range(m):
            if start[j + 1] > start[j] and pi_j[j] == 0:
                adj[e] = n + j
                e += 1
        for i in range(n):
            if mate[i] < 0 and pi_i[i] == 0:
                adj[e] = i
                e += 1
        ptr[t + 1] = e
    label_a = strong_components(ptr_a, adj_a[:e])
    cdef int64_t[::1] label = label_a
    with nogil:
        for i in range(n):
            for q in range(ptr[i], ptr[i + 1]):
                if adj[q] < t and label[adj[q]] == label[i]:
                    moving += 1
            if mate[i] >= 0 and label[n + mate[i]] == label[i]:
                moving += 1
    return int(moving)


def dense_tied(const double[:, :] s, Py_ssize_t rows, Py_ssize_t cols):
    """Whether one of the first ``rows`` mentees of ``s`` scores two of the first ``cols``
    mentors the same (> 0, finite): :func:`mentormatch.solvers.dense.small.likely_tied`'s look,
    a few us where numpy's sort and comparisons took 10-20 (their calls' own cost)."""
    cdef Py_ssize_t i, a, b, n = min(rows, s.shape[0]), m = min(cols, s.shape[1])
    cdef double x
    cdef bint found = False
    with nogil:
        for i in range(n):
            for a in range(1, m):
                x = s[i, a]
                if not (x > 0 and x < 1.7976931348623157e308):
                    continue
                for b in range(a):
                    if s[i, b] == x:
                        found = True
                        break
                if found:
                    break
            if found:
                break
    return found
