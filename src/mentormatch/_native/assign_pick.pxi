# (included by assign.pyx after assign_costs.pxi, whose key mix ``_key`` it uses: the passes
# over the free pairs around each second flow of the tie rule's compiled pick
# (:func:`mentormatch.solvers.ties_unit.pick`), one pass before the flow and one after, where
# numpy made about a dozen (the keys, the bonus, the pairs the flow starts from, the reduced
# costs, the pairs that join), and the reduced costs under the certificate's potentials in
# one. With scores in 4 levels every top-level cell is free: 1.5 million pairs at 5,000 x
# 1,250, 6.2 million at 10,000 x 2,500, where each numpy temporary of the pairs' size costs
# 5-40 ms with its page faults (s32). The module's imports are in scope)


cdef inline int64_t _stage_cost(int64_t i, int64_t j, uint64_t mix, int shift, int64_t big,
                                const unsigned char* must_i, const unsigned char* must_j,
                                int64_t* key) noexcept nogil:
    """The free pair's cost in the stage's flow, ``key - big * (must_i + must_j)``, and its key
    (:func:`pair_keys` at the stage, ``mix = stage * 0xD1B54A32D192ED03``)."""
    key[0] = _key((<uint64_t>i) * 0x9E3779B97F4A7C15ULL + mix, <uint64_t>j, shift)
    return key[0] - big * (<int64_t>must_i[i] + <int64_t>must_j[j])


def pick_held(const int64_t[::1] a, const int64_t[::1] b, const unsigned char[::1] must_i,
              const unsigned char[::1] must_j, int64_t big, uint64_t stage, int bits,
              const unsigned char[::1] held, double limit):
    """The pairs a second flow of :func:`mentormatch.solvers.ties_unit.pick` starts from, those
    of key below ``limit`` and those ``held`` (the flow given, the pairs that joined), of the
    free pairs ``a -> b`` (mentees and mentors by rank, grouped by mentee in increasing order).

    Returns ``(ptr, part, head, cost)`` as :func:`flow_assign` takes them: the offsets of each
    mentee's pairs (``len(must_i) + 1``), the pairs' positions (increasing), their mentors and
    costs (:func:`_stage_cost`). The numbers are those of ``ties_unit._least``'s numpy."""
    cdef Py_ssize_t k, size = a.shape[0], n = must_i.shape[0], got = 0
    if b.shape[0] != size or held.shape[0] != size or not 1 <= bits <= 63:
        raise ValueError("pick_held: one mentor and one held flag per pair, bits 1-63")
    ptr_a = np.zeros(n + 1, np.int64)
    part_a = np.empty(max(size, 1), np.int64)  # (pages touched only as far as filled)
    head_a = np.empty(max(size, 1), np.int64)
    cost_a = np.empty(max(size, 1), np.int64)
    cdef int64_t[::1] ptr = ptr_a, part = part_a, head = head_a, cost = cost_a
    cdef uint64_t mix = stage * 0xD1B54A32D192ED03ULL
    cdef int shift = 64 - bits
    cdef int64_t key, c
    with nogil:
        for k in range(size):
            c = _stage_cost(a[k], b[k], mix, shift, big, &must_i[0], &must_j[0], &key)
            if <double>key < limit or held[k]:
                part[got] = k
                head[got] = b[k]
                cost[got] = c
                ptr[a[k] + 1] += 1
                got += 1
        for k in range(n):
            ptr[k + 1] += ptr[k]
    return ptr_a, part_a[:got], head_a[:got], cost_a[:got]


def pick_reduced(const int64_t[::1] a, const int64_t[::1] b, const unsigned char[::1] must_i,
                 const unsigned char[::1] must_j, int64_t big, uint64_t stage, int bits,
                 unsigned char[::1] held, double limit, const int64_t[::1] p_i,
                 const int64_t[::1] p_j):
    """The free pairs' reduced costs ``cost + p_i[a] - p_j[b]`` under a second flow's
    potentials (int64, wrapping as numpy's): those <= 0, with their positions (every other
    pair's is > 0; few pairs once the keys differ: writing them all was 50 MB at 10,000 x
    2,500); and the pairs outside the flow's (those of :func:`pick_held` at ``held`` and
    ``limit``) of reduced cost < 0, which join: marked in ``held``, counted. Returns
    ``(near, rc_near, joined)``."""
    cdef Py_ssize_t k, size = a.shape[0], joined = 0, got = 0
    if b.shape[0] != size or held.shape[0] != size or not 1 <= bits <= 63:
        raise ValueError("pick_reduced: one mentor and one held flag per pair, bits 1-63")
    near_a = np.empty(max(size, 1), np.int64)  # (pages touched only as far as filled)
    rc_a = np.empty(max(size, 1), np.int64)
    cdef int64_t[::1] near = near_a, rc = rc_a
    cdef uint64_t mix = stage * 0xD1B54A32D192ED03ULL
    cdef int shift = 64 - bits
    cdef int64_t key, r
    with nogil:
        for k in range(size):
            r = _stage_cost(a[k], b[k], mix, shift, big, &must_i[0], &must_j[0], &key)
            r = <int64_t>(<uint64_t>r + <uint64_t>p_i[a[k]] - <uint64_t>p_j[b[k]])
            if r <= 0:
                near[got] = k
                rc[got] = r
                got += 1
                if r < 0 and not (<double>key < limit or held[k]):
                    held[k] = 1
                    joined += 1
    return near_a[:got], rc_a[:got], int(joined)


def pair_reduced(const int64_t[::1] a, const int64_t[::1] b, const int64_t[::1] cost,
                 const int64_t[::1] p_i, const int64_t[::1] p_j):
    """``cost + p_i[a] - p_j[b]`` per pair (int64, wrapping as numpy's): the pick's reduced
    costs under the certificate's potentials in one pass and one array, where numpy's two
    gathers made two more of the face's size (6.2 million pairs, as at 10,000 x 2,500 with
    scores in 4 levels: 28 ms to 16 in a loop that reuses its memory; inside assign(), with
    the new arrays' page faults, numpy's took 29-230 ms at load 7-9)."""
    cdef Py_ssize_t k, size = a.shape[0]
    if b.shape[0] != size or cost.shape[0] != size:
        raise ValueError("pair_reduced: one mentor and one cost per pair")
    rc_a = np.empty(size, np.int64)
    cdef int64_t[::1] rc = rc_a
    with nogil:
        for k in range(size):
            rc[k] = <int64_t>(<uint64_t>cost[k] + <uint64_t>p_i[a[k]] - <uint64_t>p_j[b[k]])
    return rc_a
