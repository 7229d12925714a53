# The bounds checker's reads of its pools (mentormatch.solvers.bounded.check), included by
# scan.pyx: the compiled twins of mentormatch.solvers.bounded.poolcheck's numpy_over and
# numpy_top, which state what they compute, and of the largest sizes of its values (abs_max).
# One walk of each row's pool entries, reading its generation's prices ``q`` where the numpy
# code gathers a generations x mentors table of ``q - p`` into rows x k temporaries; the same
# float64 operations in the same order (no multiplication: nothing to contract), so the same
# floats and the same pairs, NaN included (a comparison with NaN is false in both).
from libc.math cimport NAN, isfinite, isnan


cdef int _gen_table(list prices, Py_ssize_t m, const double** at, list keep) except -1:
    """``at[g]``: generation g's prices (float64, C order, ``m`` of them); ``keep`` holds the
    arrays converted."""
    cdef const double[::1] q
    cdef Py_ssize_t g
    for g in range(len(prices)):
        q = np.ascontiguousarray(prices[g], np.float64)
        if q.shape[0] != m:
            raise ValueError(f"pool kernel: generation {g} has {q.shape[0]} prices, expected {m}")
        keep.append(q)
        at[g] = &q[0] if m else NULL
    return 0


cdef int _check_pool(Py_ssize_t n, Py_ssize_t m, Py_ssize_t n_gens, const int64_t[:, ::1] cols,
                     const double[:, ::1] vals, const int64_t[::1] gen, const int64_t[::1] rows) except -1:
    """A ValueError unless the pool's arrays agree and every index read is inside them."""
    cdef Py_ssize_t t, k
    if vals.shape[0] != n or vals.shape[1] != cols.shape[1] or gen.shape[0] != n:
        raise ValueError("pool kernel: the pool's columns, values and generations do not agree")
    for t in range(rows.shape[0]):
        if rows[t] < 0 or rows[t] >= n or gen[rows[t]] < 0 or gen[rows[t]] >= n_gens:
            raise ValueError(f"pool kernel: row {rows[t]} or its generation is outside the pool")
        for k in range(cols.shape[1]):
            if cols[rows[t], k] < 0 or cols[rows[t], k] >= m:
                raise ValueError(f"pool kernel: row {rows[t]}'s pool column {cols[rows[t], k]} is outside {m} mentors")
    return 0


cdef int _over_rows(const int64_t* rows, Py_ssize_t n_rows, Py_ssize_t k, const int64_t* cols,
                    const double* vals, const int64_t* gen, const double** at, const double* p,
                    const double* u, const double* err, double threshold, double low, Buf* out) noexcept nogil:
    """The loop of :func:`pool_over`; -1 when out of memory."""
    cdef Py_ssize_t t, e
    cdef int64_t r, c
    cdef const double* q
    cdef double v, ub
    for t in range(n_rows):
        r = rows[t]
        q = at[gen[r]]
        for e in range(k):
            v = vals[r * k + e]
            if not v > low:
                continue
            c = cols[r * k + e]
            ub = v + (q[c] - p[c])
            ub = ub - u[r]
            ub = ub + err[r]
            if ub > threshold:
                if _push(out, r, c):
                    return -1
    return 0


def pool_over(rows, cols, vals, gen, list prices, p, u, err, double threshold, double low):
    """``(i, j)``: the pool pairs of ``rows`` (ascending or not; row by row, then in pool
    order) with ``vals > low`` and ``vals + (q[gen_i, j] - p_j) - u_i + err_i > threshold``
    (``q``: ``prices``, one vector a generation), as
    :func:`mentormatch.solvers.bounded.poolcheck.numpy_over`."""
    cdef const int64_t[::1] rw = np.ascontiguousarray(rows, np.int64)
    cdef const int64_t[:, ::1] cl = np.ascontiguousarray(cols, np.int64)
    cdef const double[:, ::1] vl = np.ascontiguousarray(vals, np.float64)
    cdef const int64_t[::1] gn = np.ascontiguousarray(gen, np.int64)
    cdef const double[::1] pp = np.ascontiguousarray(p, np.float64)
    cdef const double[::1] uu = np.ascontiguousarray(u, np.float64)
    cdef const double[::1] ee = np.ascontiguousarray(err, np.float64)
    cdef Py_ssize_t n = cl.shape[0], k = cl.shape[1], m = pp.shape[0], n_rows = rw.shape[0]
    if uu.shape[0] != n or ee.shape[0] != n:
        raise ValueError("pool_over: u and err need one value a pool row")
    _check_pool(n, m, len(prices), cl, vl, gn, rw)
    cdef const double** at = <const double**> malloc((len(prices) + 1) * sizeof(double*))
    if at == NULL:
        raise MemoryError("pool_over: no memory for the generations")
    cdef list keep = []
    cdef Buf out
    out.r = out.c = NULL
    out.n = out.cap = 0
    cdef int rc = 0
    try:
        _gen_table(prices, m, at, keep)
        if n_rows and k:
            with nogil:
                rc = _over_rows(&rw[0], n_rows, k, &cl[0, 0], &vl[0, 0], &gn[0], at, &pp[0], &uu[0],
                                &ee[0], threshold, low, &out)
        if rc:
            raise MemoryError("pool_over: no memory for the pairs")
        return _array(&out, True), _array(&out, False)
    finally:
        free(at)
        free(out.r)
        free(out.c)


cdef void _top_rows(Py_ssize_t n, Py_ssize_t k, const int64_t* cols, const double* vals,
                    const int64_t* gen, const double** at, const double* pf, double low,
                    double* top) noexcept nogil:
    """The loop of :func:`pool_top`."""
    cdef Py_ssize_t r, e
    cdef int64_t c
    cdef const double* q
    cdef double v, d, best
    cdef bint nan
    for r in range(n):
        q = at[gen[r]]
        best = -INFINITY
        nan = False
        for e in range(k):
            c = cols[r * k + e]
            d = q[c] - pf[c] if isfinite(q[c]) and isfinite(pf[c]) else -INFINITY
            v = vals[r * k + e]
            v = v + d if v > low else -INFINITY
            if isnan(v):
                nan = True
            elif v > best:
                best = v
        top[r] = NAN if nan else best


def pool_top(cols, vals, gen, list prices, pf, double low):
    """Per pool row, the largest ``vals + (q[gen_i, j] - pf_j)`` over its entries with ``vals >
    low`` (a pair with a non-finite ``q`` or ``pf``: ``-inf``; NaN when one is NaN; ``-inf``
    for a row with none), as :func:`mentormatch.solvers.bounded.poolcheck.numpy_top`."""
    cdef const int64_t[:, ::1] cl = np.ascontiguousarray(cols, np.int64)
    cdef const double[:, ::1] vl = np.ascontiguousarray(vals, np.float64)
    cdef const int64_t[::1] gn = np.ascontiguousarray(gen, np.int64)
    cdef const double[::1] pp = np.ascontiguousarray(pf, np.float64)
    cdef Py_ssize_t n = cl.shape[0], k = cl.shape[1], m = pp.shape[0]
    _check_pool(n, m, len(prices), cl, vl, gn, np.arange(n, dtype=np.int64))
    top = np.full(n, -np.inf)
    cdef double[::1] tp = top
    cdef const double** at = <const double**> malloc((len(prices) + 1) * sizeof(double*))
    if at == NULL:
        raise MemoryError("pool_top: no memory for the generations")
    cdef list keep = []
    try:
        _gen_table(prices, m, at, keep)
        if n and k:
            with nogil:
                _top_rows(n, k, &cl[0, 0], &vl[0, 0], &gn[0], at, &pp[0], low, &tp[0])
        return top
    finally:
        free(at)


cdef void _abs_max(const double* x, Py_ssize_t rows, Py_ssize_t cols, bint by_row, double low,
                   double* out) noexcept nogil:
    """The loop of :func:`abs_max`: ``out`` starts at 0."""
    cdef Py_ssize_t r, c
    cdef double v, a
    for r in range(rows):
        for c in range(cols):
            v = x[r * cols + c]
            if isfinite(v) and v > low:
                a = -v if v < 0 else v
                if by_row:
                    if a > out[r]:
                        out[r] = a
                elif a > out[c]:
                    out[c] = a


def abs_max(x, double low, bint by_row):
    """Per row (``by_row``) or per column of the 2-d float64 ``x``, the largest ``|x|`` over its
    finite entries above ``low``, 0 where none:
    ``np.where(np.isfinite(x) & (x > low), np.abs(x), 0.0).max(axis, initial=0.0)`` without its
    three temporaries (the pools' float32 error:
    :meth:`mentormatch.solvers.bounded.check._Certifier._pool_err`)."""
    cdef const double[:, ::1] xv = np.ascontiguousarray(x, np.float64)
    cdef Py_ssize_t rows = xv.shape[0], cols = xv.shape[1]
    out = np.zeros(rows if by_row else cols, np.float64)
    cdef double[::1] ot = out
    if rows and cols:
        with nogil:
            _abs_max(&xv[0, 0], rows, cols, by_row, low, &ot[0])
    return out
