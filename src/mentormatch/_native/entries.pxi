# The entries a scan keeps (included by scan.pyx, after its loops.h declarations): a row's best
# entries in a heap (ties: the lower column ranks first; a whole row's: _heap_row, or
# _heap_row_ids where the columns are not in the order of their ids), the q-th
# largest of a sample of a row (_sample_kth), and a growing list of (row, column) pairs.


cdef struct Entry:
    float v
    int64_t c


cdef struct Buf:  # a growing list of (row, column)
    int64_t* r
    int64_t* c
    Py_ssize_t n
    Py_ssize_t cap


cdef inline bint _worse(Entry a, Entry b) noexcept nogil:
    """``a`` ranks after ``b``: a smaller value, or equal and a higher column."""
    return a.v < b.v or (a.v == b.v and a.c > b.c)


cdef inline void _sift_down(Entry* h, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    cdef Entry e = h[i]
    cdef Py_ssize_t child
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and _worse(h[child + 1], h[child]):
            child += 1
        if not _worse(h[child], e):
            break
        h[i] = h[child]
        i = child
    h[i] = e


cdef inline void _sift_up(Entry* h, Py_ssize_t i) noexcept nogil:
    cdef Entry e = h[i]
    cdef Py_ssize_t parent
    while i > 0:
        parent = (i - 1) // 2
        if not _worse(e, h[parent]):
            break
        h[i] = h[parent]
        i = parent
    h[i] = e


cdef inline void _drain(Entry* h, Py_ssize_t n, int64_t* cols, float* vals) noexcept nogil:
    """The heap's entries, best first (the worst is popped first and written last)."""
    while n > 0:
        n -= 1
        cols[n] = h[0].c
        if vals != NULL:
            vals[n] = h[0].v
        h[0] = h[n]
        _sift_down(h, n, 0)


cdef inline int _push(Buf* b, int64_t r, int64_t c) noexcept nogil:
    cdef Py_ssize_t cap
    cdef int64_t* nr
    cdef int64_t* nc
    if b.n == b.cap:
        cap = 2 * b.cap + 1024
        nr = <int64_t*> realloc(b.r, cap * sizeof(int64_t))
        if nr == NULL:
            return -1
        b.r = nr
        nc = <int64_t*> realloc(b.c, cap * sizeof(int64_t))
        if nc == NULL:
            return -1
        b.c = nc
        b.cap = cap
    b.r[b.n] = r
    b.c[b.n] = c
    b.n += 1
    return 0


cdef float _sample_kth(const float* x, Py_ssize_t m, Py_ssize_t step, Py_ssize_t q, float* h) noexcept nogil:
    """The ``q``-th largest of ``x[0], x[step], ...`` (at least ``q`` of them), by a heap of
    values (``h``, room for ``q``; its root the smallest)."""
    cdef Py_ssize_t j, n = 0, i, child
    cdef float v, e
    j = 0
    while j < m:
        v = x[j]
        if n < q:  # sift up
            i = n
            n += 1
            while i > 0 and v < h[(i - 1) // 2]:
                h[i] = h[(i - 1) // 2]
                i = (i - 1) // 2
            h[i] = v
        elif v > h[0]:  # sift down from the root
            i = 0
            while True:
                child = 2 * i + 1
                if child >= q:
                    break
                if child + 1 < q and h[child + 1] < h[child]:
                    child += 1
                if not h[child] < v:
                    break
                h[i] = h[child]
                i = child
            h[i] = v
        j += step
    return h[0]


cdef void _heap_row(const float* x, Py_ssize_t m, Py_ssize_t k, Entry* h) noexcept nogil:
    """The ``k`` best entries of a whole row into the heap ``h`` (every entry ranked)."""
    cdef Py_ssize_t j, t, stop
    cdef float thr, v
    for j in range(k):
        h[j].v = x[j]
        h[j].c = j
        _sift_up(h, j)
    thr = h[0].v
    j = k
    while j < m:
        stop = j + MM_CHUNK
        if stop > m or mm_any_above(x + j, thr):
            if stop > m:
                stop = m
            for t in range(j, stop):
                v = x[t]
                if v > thr:  # (a tie has a higher column: it ranks after the root)
                    h[0].v = v
                    h[0].c = t
                    _sift_down(h, k, 0)
                    thr = h[0].v
        j = stop


cdef void _heap_row_ids(const float* x, Py_ssize_t m, Py_ssize_t k, Entry* h, const int64_t* ids) noexcept nogil:
    """:func:`_heap_row` where column ``t`` is entry ``ids[t]`` (columns in another order than
    the ids: a tie with the root is looked at, and ranks first with a lower id)."""
    cdef Py_ssize_t j, t, stop
    cdef float thr, v
    for j in range(k):
        h[j].v = x[j]
        h[j].c = ids[j]
        _sift_up(h, j)
    thr = h[0].v
    j = k
    while j < m:
        stop = j + MM_CHUNK
        if stop > m or thr == -INFINITY or mm_any_above(x + j, mm_below(thr)):
            if stop > m:
                stop = m
            for t in range(j, stop):
                v = x[t]
                if v > thr or (v == thr and ids[t] < h[0].c):
                    h[0].v = v
                    h[0].c = ids[t]
                    _sift_down(h, k, 0)
                    thr = h[0].v
        j = stop
