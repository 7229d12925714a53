# (included by assign.pyx: the dense path's check, integer gains and tight join fused, in C
# (:func:`mentormatch.solvers.dense.check.check_face`); the module's imports are in scope)
from libc.math cimport rint
from libc.stdlib cimport free, malloc, realloc

#: 1: :func:`face_tight`. An older build lacks it: the dense path runs numpy's passes.
FACE_CHECK_VERSION = 1


cdef struct Bad:  # violators of one kind, grown by doubling
    int64_t* i
    int64_t* j
    double* r
    Py_ssize_t size
    Py_ssize_t room


cdef bint _add_bad(Bad* b, int64_t i, int64_t j, double r) noexcept nogil:
    """Append a violator; False when memory ran out."""
    cdef Py_ssize_t room
    cdef void* q
    if b.size == b.room:
        room = max(2 * b.room, 1024)
        q = realloc(b.i, room * sizeof(int64_t))
        if q == NULL:
            return False
        b.i = <int64_t*>q
        q = realloc(b.j, room * sizeof(int64_t))
        if q == NULL:
            return False
        b.j = <int64_t*>q
        q = realloc(b.r, room * sizeof(double))
        if q == NULL:
            return False
        b.r = <double*>q
        b.room = room
    b.i[b.size] = i
    b.j[b.size] = j
    b.r[b.size] = r
    b.size += 1
    return True


cdef _bad_arrays(Bad* b):
    i_a = np.empty(b.size, np.int64)
    j_a = np.empty(b.size, np.int64)
    r_a = np.empty(b.size, np.float64)
    cdef int64_t[::1] i = i_a, j = j_a
    cdef double[::1] r = r_a
    cdef Py_ssize_t q
    for q in range(b.size):
        i[q], j[q], r[q] = b.i[q], b.j[q], b.r[q]
    return i_a, j_a, r_a


def face_tight(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
               bint by_mentor, const double[::1] u, const double[::1] p, double floor,
               double tol, const int64_t[::1] d_i, const int64_t[::1] d_j, double scale,
               const int64_t[::1] wi, const int64_t[::1] wj, const double[::1] ws,
               const unsigned char[::1] wc, int64_t[::1] oi, int64_t[::1] oj, double[::1] os_,
               unsigned char[::1] oc):
    """The certificate's check of :mod:`mentormatch.solvers.dense` on a dense matrix ``s``
    and, when it holds, the tight pairs joined to the pairs worked on, in one pass and in
    (mentee, mentor) order: what :func:`~mentormatch.solvers.dense.check.check_pass`, the
    caller's filter, :func:`~mentormatch.solvers.ties.integer_gain` and
    :func:`~mentormatch.solvers.dense.held.with_tight` do in numpy.

    The cells checked are those :func:`check_pass` returns and its caller keeps: the numpy
    pass's test by the layout (``by_mentor``: ``s - p_j > fl(u_i + floor)``, else ``s -
    fl(u_i + floor) > p_j``), then ``r = fl(fl(s - u_i) - p_j) > floor``, not forbidden
    (``forbid`` when ``has_forbid``) and not chosen: the same floating-point operations, so the
    same cells and reduced gains ``r`` to the bit. Their integer gain is ``rint(s * scale) -
    d_i + d_j`` (``rint``: halves to even, as ``numpy.round``).

    The pairs worked on (``wi, wj``, scores ``ws``, chosen ``wc``) are sorted by (mentee,
    mentor), distinct; they are read alongside the cells, so a cell's "worked on / chosen" is
    no lookup. The merged pairs go to ``oi, oj, os_, oc``: each pair worked on, and each
    checked cell of integer gain 0 that is not one of them. A column-major ``s`` is read a
    tile of ``T`` mentee rows at a time (``T`` rows x every mentor: about 1 MB), row by row,
    so that the order is (mentee, mentor) in either layout.

    Returns ``(size, eps, float_bad, int_bad)``: the merged pairs' count (-1: they did not fit
    in ``oi``; -2: a score times the scale is not an int64), the largest ``r`` (0 when none),
    and the violators ``(i, j, r)``: those of ``r > tol`` and, apart, those of ``r <= tol``
    with a positive integer gain; in (mentee, mentor) order. When either list is not empty the
    merged pairs are not to be used (another round)."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], k = wi.shape[0], room = oi.shape[0]
    if (u.shape[0] != n or p.shape[0] != m or d_i.shape[0] != n or d_j.shape[0] != m
            or wj.shape[0] != k or ws.shape[0] != k or wc.shape[0] != k
            or oj.shape[0] != room or os_.shape[0] != room or oc.shape[0] != room
            or (has_forbid and (forbid.shape[0] != n or forbid.shape[1] != m))):
        raise ValueError("face_tight: one price and potential per person, one mentor, score "
                         "and chosen per pair worked on, outputs of one size, forbid shaped like s")
    cdef Bad fb, ib
    fb.i = fb.j = ib.i = ib.j = NULL
    fb.r = ib.r = NULL
    fb.size = fb.room = ib.size = ib.room = 0
    cdef Py_ssize_t tile = max(1, (1 << 17) // max(m, 1)) if by_mentor else 1
    cdef Py_ssize_t t0, i, j, q = 0, qe, o = 0, c, a
    cdef double x, r, eps = 0.0, up
    cdef int64_t g
    cdef bint ok = True, fits = True, exact = True, worked
    cdef int64_t* idx = <int64_t*>malloc(max(m, 1) * sizeof(int64_t))
    if idx == NULL:
        raise MemoryError("face_tight: no memory for a row")
    with nogil:
        t0 = 0
        while t0 < n and ok and fits and exact:
            for i in range(t0, min(t0 + tile, n)):
                # the row's cells that pass the numpy pass's test, listed without a branch (a
                # quarter pass on 4 levels, at random: a branch mispredicted every other cell)
                up = u[i] + floor
                c = 0
                if by_mentor:
                    for j in range(m):
                        idx[c] = j
                        c += s[i, j] - p[j] > up
                else:
                    for j in range(m):
                        idx[c] = j
                        c += s[i, j] - up > p[j]
                qe = q
                while qe < k and wi[qe] == i:
                    qe += 1
                a = 0
                while a < c or q < qe:  # merged with the row's pairs worked on, by mentor
                    if q < qe and (a >= c or wj[q] <= idx[a]):
                        j = wj[q]
                        if o >= room:
                            fits = False
                            break
                        oi[o], oj[o], os_[o], oc[o] = i, j, ws[q], wc[q]
                        o += 1
                        q += 1
                        if not (a < c and idx[a] == j):
                            continue
                        a += 1
                        if wc[q - 1]:
                            continue
                        worked = True
                    else:
                        j = idx[a]
                        a += 1
                        worked = False
                    x = s[i, j]
                    r = (x - u[i]) - p[j]
                    if not r > floor or (has_forbid and forbid[i, j]):
                        continue
                    if r > eps:
                        eps = r
                    if r > tol:
                        if not _add_bad(&fb, i, j, r):
                            ok = False
                            break
                        continue
                    x = x * scale
                    if not (x < 9.2e18 and x > -9.2e18):
                        exact = False
                        break
                    g = <int64_t>rint(x) - d_i[i] + d_j[j]
                    if g > 0:
                        if not _add_bad(&ib, i, j, r):
                            ok = False
                            break
                    elif g == 0 and not worked:
                        if o >= room:
                            fits = False
                            break
                        oi[o], oj[o], os_[o], oc[o] = i, j, s[i, j], 0
                        o += 1
                if not (ok and fits and exact):
                    break
            t0 += tile
    free(idx)
    try:
        if not ok:
            raise MemoryError("face_tight: no memory for the violators")
        if q != k and fits and exact:
            raise ValueError("face_tight: the pairs worked on must be distinct cells, sorted "
                             "by (mentee, mentor)")
        return (o if fits and exact else (-1 if not fits else -2), float(eps),
                _bad_arrays(&fb), _bad_arrays(&ib))
    finally:
        free(fb.i)
        free(fb.j)
        free(fb.r)
        free(ib.i)
        free(ib.j)
        free(ib.r)
