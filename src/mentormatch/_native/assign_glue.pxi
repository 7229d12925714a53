# (included by assign.pyx: small compiled twins of numpy code around assign()'s small-path
# flow, each one call where numpy took several: at 200 x 50 a numpy call costs 1-2 us
# whatever it does, and the call around the flow made about a hundred; the module's imports
# are in scope)
from libc.math cimport INFINITY, floor


def whole_counts(const double[::1] v):
    """Whether every value is a whole number >= 0 and finite (NaN is not), as
    ``np.isfinite(v).all() and (v >= 0).all() and (v == np.floor(v)).all()``: the capacities'
    check of ``assign()``'s usual input (50 values: under 1 us against 7)."""
    cdef Py_ssize_t k
    cdef double x
    cdef bint ok = True
    with nogil:
        for k in range(v.shape[0]):
            x = v[k]
            if not (x >= 0 and x < INFINITY and x == floor(x)):
                ok = False
                break
    return ok


def flow_prices(const int64_t[::1] di, const int64_t[::1] dj, int64_t k, double scale,
                const int64_t[::1] ci, const int64_t[::1] cj, const double[::1] score,
                const int64_t[::1] dem, const int64_t[::1] cap):
    """:func:`mentormatch.solvers.duals.prices_at`'s arrays for one potential ``k`` of the
    source and sink, in one pass each, the same floats: ``u = max(0, (di - k) / scale)``,
    ``p = max(0, (k - dj) / scale)``, per chosen pair ``(ci, cj)`` of ``score`` the slack
    ``w = max(0, score - u[ci] - p[cj])``, and ``u``, ``p`` with ``inf`` where ``dem``,
    ``cap`` are 0 (the prices returned). The sums stay numpy's (its order of addition)."""
    cdef Py_ssize_t n = di.shape[0], m = dj.shape[0], q, c = ci.shape[0]
    if dem.shape[0] != n or cap.shape[0] != m or cj.shape[0] != c or score.shape[0] != c:
        raise ValueError("flow_prices: one demand per mentee, one capacity per mentor, one "
                         "mentor and score per chosen mentee")
    u_a = np.empty(n, np.float64)
    p_a = np.empty(m, np.float64)
    w_a = np.empty(c, np.float64)
    uo_a = np.empty(n, np.float64)
    po_a = np.empty(m, np.float64)
    cdef double[::1] u = u_a, p = p_a, w = w_a, uo = uo_a, po = po_a
    cdef double x
    with nogil:
        for q in range(n):
            x = (<double>(di[q] - k)) / scale
            u[q] = x if x > 0 else 0.0
            uo[q] = u[q] if dem[q] > 0 else INFINITY
        for q in range(m):
            x = (<double>(k - dj[q])) / scale
            p[q] = x if x > 0 else 0.0
            po[q] = p[q] if cap[q] > 0 else INFINITY
        for q in range(c):
            x = score[q] - u[ci[q]] - p[cj[q]]
            w[q] = x if x > 0 else 0.0
    return u_a, p_a, w_a, uo_a, po_a
