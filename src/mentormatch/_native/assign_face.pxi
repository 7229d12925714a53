# (included by assign.pyx: the dense path's passes over a face of ties in C: the check,
# integer gains and tight join fused (:func:`mentormatch.solvers.dense.check.check_face`), and
# the candidates on thinned ties and each mentee's best of them
# (:func:`mentormatch.solvers.dense.candidates.with_few_ties`, ``best_per_mentee``);
# the module's imports are in scope)
from libc.math cimport rint
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc, realloc

#: 1: :func:`face_tight` and :func:`best_of_rows`; 2: :func:`few_ties_count` and
#: :func:`few_ties_pairs`. An older build lacks them: the dense path runs numpy's passes.
FACE_CHECK_VERSION = 2


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


cdef inline uint64_t _tie_key(int64_t a, int64_t b) noexcept nogil:
    """:func:`mentormatch.solvers.ties.pair_key` at stage 0, all 64 bits."""
    cdef uint64_t x = (<uint64_t>a) * 0x9E3779B97F4A7C15ULL + <uint64_t>b
    x ^= x >> 30
    x *= 0xBF58476D1CE4E5B9ULL
    x ^= x >> 27
    x *= 0x94D049BB133111EBULL
    x ^= x >> 31
    return x


cdef inline bint _worse(double sa, uint64_t ka, Py_ssize_t pa, double sb, uint64_t kb,
                        Py_ssize_t pb) noexcept nogil:
    """Whether pair ``a`` comes after pair ``b``: by score (descending), key, position."""
    if sa != sb:
        return sa < sb
    if ka != kb:
        return ka > kb
    return pa > pb


def best_of_rows(const int64_t[::1] i, const int64_t[::1] j, const double[::1] s,
                 const int64_t[::1] rank_i, const int64_t[::1] rank_j, Py_ssize_t limit,
                 Py_ssize_t n):
    """Which pairs :func:`mentormatch.solvers.dense.candidates.best_per_mentee` keeps: every pair
    of a mentee with at most ``limit``, else the mentee's first ``limit`` by score
    (descending), then :func:`~mentormatch.solvers.dense.candidates.tie_key` of the ranks, then
    position: a heap of ``limit`` per mentee, where numpy sorted every pair of those mentees by
    key, by score and by mentee (1,000 x 250 in 4 levels, 62,000 pairs: 6.7 ms, its key's sort
    3.8). Scores are numbers (no NaN). Returns a uint8 per pair."""
    cdef Py_ssize_t size = i.shape[0], q, a, b, x, h, c, c2, p_, top, L
    if j.shape[0] != size or s.shape[0] != size or limit < 1:
        raise ValueError("best_of_rows: one mentor and score per pair, limit >= 1")
    keep_a = np.ones(size, np.uint8)
    ptr_a = np.zeros(n + 1, np.int64)
    by_a = np.empty(size, np.int64)
    heap_a = np.empty(limit, np.int64)
    key_a = np.empty(size, np.uint64)
    cdef unsigned char[::1] keep = keep_a
    cdef int64_t[::1] ptr = ptr_a, by = by_a, heap = heap_a
    cdef uint64_t[::1] key = key_a
    with nogil:
        for q in range(size):
            ptr[i[q] + 1] += 1
        for x in range(n):
            ptr[x + 1] += ptr[x]
        for q in range(size):  # by mentee, stably
            by[ptr[i[q]]] = q
            ptr[i[q]] += 1
        for x in range(n - 1, -1, -1):
            ptr[x + 1] = ptr[x]
        ptr[0] = 0
        for x in range(n):
            a, b = ptr[x], ptr[x + 1]
            L = b - a
            if L <= limit:
                continue
            # a heap of the best ``limit`` so far, its worst at the root
            top = 0
            for c in range(a, b):
                q = by[c]
                key[q] = _tie_key(rank_i[i[q]], rank_j[j[q]])
                keep[q] = 0
                if top < limit:
                    h = top
                    top += 1
                    while h > 0:  # sift up: the worse goes up
                        p_ = (h - 1) // 2
                        if _worse(s[q], key[q], q, s[heap[p_]], key[heap[p_]], heap[p_]):
                            heap[h] = heap[p_]
                            h = p_
                        else:
                            break
                    heap[h] = q
                elif _worse(s[heap[0]], key[heap[0]], heap[0], s[q], key[q], q):
                    h = 0  # q replaces the worst: sift down
                    while True:
                        c2 = 2 * h + 1
                        if c2 >= limit:
                            break
                        if c2 + 1 < limit and _worse(s[heap[c2 + 1]], key[heap[c2 + 1]],
                                                     heap[c2 + 1], s[heap[c2]], key[heap[c2]],
                                                     heap[c2]):
                            c2 += 1
                        if _worse(s[heap[c2]], key[heap[c2]], heap[c2], s[q], key[q], q):
                            heap[h] = heap[c2]
                            h = c2
                        else:
                            break
                    heap[h] = q
            for c in range(limit):
                keep[heap[c]] = 1
    return keep_a


def few_ties_count(const double[:, :] s, bint by_mentor, const double[::1] low):
    """Per mentee, how many cells score above ``low`` and how many equal it (every cell, as
    stored), in one pass in memory order: the counts of
    :func:`mentormatch.solvers.dense.candidates.with_few_ties`' first two passes."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], i, j
    if low.shape[0] != n:
        raise ValueError("few_ties_count: one threshold per mentee")
    above_a = np.zeros(n, np.int64)
    tied_a = np.zeros(n, np.int64)
    cdef int64_t[::1] above = above_a, tied = tied_a
    cdef double x, t
    with nogil:
        if by_mentor:
            for j in range(m):
                for i in range(n):
                    x, t = s[i, j], low[i]
                    above[i] += x > t
                    tied[i] += x == t
        else:
            for i in range(n):
                t = low[i]
                for j in range(m):
                    x = s[i, j]
                    above[i] += x > t
                    tied[i] += x == t
    return above_a, tied_a


def few_ties_pairs(const double[:, :] s, const unsigned char[:, :] forbid, bint has_forbid,
                   bint by_mentor, const double[::1] low, const uint64_t[::1] top,
                   const int64_t[::1] cap, const int64_t[::1] rank_i, const int64_t[::1] rank_j,
                   Py_ssize_t n_above, Py_ssize_t n_tied):
    """The candidates of :func:`mentormatch.solvers.dense.candidates.with_few_ties` and the
    filter after it (open mentors, ``cap > 0``; not forbidden), in one pass in memory order:
    first every cell above ``low``, then the cells equal to it whose
    :func:`~mentormatch.solvers.dense.candidates.tie_key` is at most ``top`` of their mentee,
    each in the pass's order, as the numpy passes list them. ``n_above``, ``n_tied``: the
    counts of :func:`few_ties_count` (room enough). Returns ``(i, j, score)``."""
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], i, j, a, b, outer, inner, ka = 0, kt = 0
    if (low.shape[0] != n or top.shape[0] != n or cap.shape[0] != m or rank_i.shape[0] != n
            or rank_j.shape[0] != m or (has_forbid and (forbid.shape[0] != n
                                                        or forbid.shape[1] != m))):
        raise ValueError("few_ties_pairs: one threshold, key limit and rank per mentee, one "
                         "capacity and rank per mentor, forbid shaped like s")
    oi_a = np.empty(n_above + n_tied, np.int64)
    oj_a = np.empty(n_above + n_tied, np.int64)
    os_a = np.empty(n_above + n_tied, np.float64)
    cdef int64_t[::1] oi = oi_a, oj = oj_a
    cdef double[::1] os_ = os_a
    cdef double x, t
    cdef bint over = False
    cdef Py_ssize_t c, q
    outer, inner = (m, n) if by_mentor else (n, m)
    cdef int64_t* idx = <int64_t*>malloc(max(inner, 1) * sizeof(int64_t))
    if idx == NULL:
        raise MemoryError("few_ties_pairs: no memory for a line")
    with nogil:
        for a in range(outer):
            # the line's cells at or above the thresholds, listed without a branch (a quarter
            # of the cells on 4 levels, at random), then read in order
            c = 0
            if by_mentor:
                for b in range(inner):
                    idx[c] = b
                    c += s[b, a] >= low[b]
            else:
                t = low[a]
                for b in range(inner):
                    idx[c] = b
                    c += s[a, b] >= t
            for q in range(c):
                b = idx[q]
                if by_mentor:
                    i, j = b, a
                else:
                    i, j = a, b
                x, t = s[i, j], low[i]
                if x > t:
                    if ka >= n_above:
                        over = True
                        break
                    if cap[j] > 0 and not (has_forbid and forbid[i, j]):
                        oi[ka], oj[ka], os_[ka] = i, j, x
                        ka += 1
                elif cap[j] > 0 and not (has_forbid and forbid[i, j]):  # (x == t)
                    if _tie_key(rank_i[i], rank_j[j]) <= top[i]:
                        if kt >= n_tied:
                            over = True
                            break
                        oi[n_above + kt], oj[n_above + kt], os_[n_above + kt] = i, j, x
                        kt += 1
            if over:
                break
    free(idx)
    if over:
        raise ValueError("few_ties_pairs: more cells than few_ties_count counted")
    keep = np.r_[np.arange(ka), n_above + np.arange(kt)]
    return oi_a[keep], oj_a[keep], os_a[keep]
