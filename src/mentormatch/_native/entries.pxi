# The entries a scan keeps (included by scan.pyx): a row's best entries in a heap (ties: the
# lower column ranks first), and a growing list of (row, column) pairs.


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
