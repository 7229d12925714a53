# Where int64 keys stand in a sorted array (mentormatch.solvers.bounded.rank._lookup), included
# by scan.pyx: one forward walk with galloping steps over each ascending run of keys (a check's
# suspects come by code; the violators it returns, in two runs), where a binary search per key
# starts from the whole array again. A key below the one before starts the walk again.


cdef void _walk(const int64_t* values, Py_ssize_t n, const int64_t* x, Py_ssize_t size, int64_t* pos,
                uint8_t* known) noexcept nogil:
    """The loop of :func:`lookup_sorted`."""
    cdef Py_ssize_t t, a = 0, lo, hi, mid, step
    cdef int64_t key
    for t in range(size):
        key = x[t]
        if t and key < x[t - 1]:
            a = 0
        if a < n and values[a] < key:  # gallop: values[lo] < key, then key <= values[hi] or hi == n
            lo, step = a, 1
            while lo + step < n and values[lo + step] < key:
                lo += step
                step *= 2
            hi = lo + step if lo + step < n else n
            while hi - lo > 1:
                mid = lo + (hi - lo) // 2
                if values[mid] < key:
                    lo = mid
                else:
                    hi = mid
            a = hi
        pos[t] = a
        known[t] = a < n and values[a] == key


def lookup_sorted(sorted_values, x):
    """``(pos, known)``: ``np.searchsorted(sorted_values, x)`` and whether each of ``x`` is in
    ``sorted_values`` (both int64; the values ascending, the keys best by ascending runs), as
    :func:`mentormatch.solvers.bounded.rank._lookup`."""
    cdef const int64_t[::1] v = np.ascontiguousarray(sorted_values, np.int64)
    cdef const int64_t[::1] xs = np.ascontiguousarray(x, np.int64)
    cdef Py_ssize_t n = v.shape[0], size = xs.shape[0]
    pos = np.zeros(size, np.int64)
    known = np.zeros(size, bool)
    cdef int64_t[::1] pv = pos
    cdef uint8_t[::1] kv = known.view(np.uint8)
    if size and n:  # (no values: every key at 0, none known)
        with nogil:
            _walk(&v[0], n, &xs[0], size, &pv[0], &kv[0])
    return pos, known
