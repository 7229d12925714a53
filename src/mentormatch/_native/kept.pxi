# Which violators a check returns (mentormatch.solvers.bounded.recheck._kept), included by
# scan.pyx: each row's ``per_row`` most violating, for violators sorted by row, in one walk of
# each row's run where numpy sorts every pair of the rows with more by three keys.


cdef inline bint _better(double ga, int64_t ja, Py_ssize_t pa, double gb, int64_t jb,
                         Py_ssize_t pb) noexcept nogil:
    """Whether a violator (gain, mentor, position) comes before another: the larger gain, then
    the lower mentor, then the earlier position (as a stable sort by row, -gain, mentor)."""
    if ga != gb:
        return ga > gb
    if ja != jb:
        return ja < jb
    return pa < pb


cdef int _kept_runs(const int64_t* vi, const int64_t* vj, const double* vg, Py_ssize_t n, Py_ssize_t k,
                    Buf* few, Buf* best) noexcept nogil:
    """The loop of :func:`kept_rows`; -1 when out of memory."""
    cdef Py_ssize_t a = 0, b, t, s, size
    cdef Py_ssize_t* top = <Py_ssize_t*> malloc((k + 1) * sizeof(Py_ssize_t))
    if top == NULL:
        return -1
    while a < n:
        b = a + 1
        while b < n and vi[b] == vi[a]:
            b += 1
        if b - a <= k:
            for t in range(a, b):
                if _push(few, vi[t], vj[t]):
                    free(top)
                    return -1
        else:
            size = 0  # the run's best so far, best first (insertion: k is small)
            for t in range(a, b):
                if size == k and not _better(vg[t], vj[t], t, vg[top[k - 1]], vj[top[k - 1]], top[k - 1]):
                    continue
                s = size if size < k else k - 1
                while s > 0 and _better(vg[t], vj[t], t, vg[top[s - 1]], vj[top[s - 1]], top[s - 1]):
                    top[s] = top[s - 1]
                    s -= 1
                top[s] = t
                if size < k:
                    size += 1
            for t in range(size):
                if _push(best, vi[top[t]], vj[top[t]]):
                    free(top)
                    return -1
        a = b
    free(top)
    return 0


def kept_rows(vi, vj, vg, Py_ssize_t per_row):
    """``(i, j)``: the violators (rows ``vi`` ascending, mentors ``vj``, gains ``vg`` without
    NaN) of the rows with at most ``per_row``, in their order, then each other row's
    ``per_row`` most violating (ties: the lower mentor, then the earlier), row by row, as
    :func:`mentormatch.solvers.bounded.recheck._kept` without ``per_mentor``."""
    cdef const int64_t[::1] ri = np.ascontiguousarray(vi, np.int64)
    cdef const int64_t[::1] rj = np.ascontiguousarray(vj, np.int64)
    cdef const double[::1] rg = np.ascontiguousarray(vg, np.float64)
    cdef Py_ssize_t n = ri.shape[0], t
    if rj.shape[0] != n or rg.shape[0] != n or per_row < 1:
        raise ValueError("kept_rows: rows, mentors and gains must agree, and per_row be at least 1")
    for t in range(1, n):
        if ri[t] < ri[t - 1]:
            raise ValueError("kept_rows: the rows must be ascending")
    cdef Buf few, best
    few.r = few.c = best.r = best.c = NULL
    few.n = few.cap = best.n = best.cap = 0
    cdef int rc = 0
    try:
        if n:
            with nogil:
                rc = _kept_runs(&ri[0], &rj[0], &rg[0], n, per_row, &few, &best)
        if rc:
            raise MemoryError("kept_rows: no memory for the pairs")
        return (np.concatenate([_array(&few, True), _array(&best, True)]),
                np.concatenate([_array(&few, False), _array(&best, False)]))
    finally:
        free(few.r); free(few.c); free(best.r); free(best.c)
