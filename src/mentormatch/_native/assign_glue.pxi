# (included by assign.pyx: small compiled twins of numpy code around assign()'s small-path
# flow, each one call where numpy took several: at 200 x 50 a numpy call costs 1-2 us
# whatever it does, and the call around the flow made about a hundred. The capacities' check
# and the prices (s31h2); the usual inputs' checks in a few passes (label_scan, same_texts,
# score_scan, capacity_scan: schema.scores.plain_inputs), the seeded order's sort and ranks
# (hash_ranks) and the matched cells (mate_cells) (s32h1). The module's imports are in scope)
from libc.math cimport INFINITY, floor
from cpython.mem cimport PyMem_Calloc, PyMem_Free
from cpython.object cimport PyObject_Hash
from cpython.unicode cimport PyUnicode_CheckExact


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    const unsigned char* PyUnicode_1BYTE_DATA(object o)


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


#: :func:`label_scan`'s bits: a label holds a lowercase ASCII letter; an uppercase one; no two
#: labels are equal
cdef enum:
    _LOWER = 1
    _UPPER = 2
    _UNIQUE = 4
LABELS_LOWER, LABELS_UPPER, LABELS_UNIQUE = _LOWER, _UPPER, _UNIQUE


def label_scan(object[:] labels):
    """One pass over an axis's labels (an object array): -1 unless every label is a ``str``
    (exactly) of ASCII characters; else the bits :data:`LABELS_LOWER` (a label holds one of
    ``a-z``), :data:`LABELS_UPPER` (``A-Z``) and :data:`LABELS_UNIQUE` (no label twice, as
    ``Index.is_unique``: by each str's hash, cached on it, in an open-addressing table, equal
    hashes compared as text; a Python set took 4 us of this call's 5 at 200 labels). Labels
    without both cases cannot differ only in case (``schema.ids.case_only``'s first test):
    ``assign()``'s label checks in one call, where pandas and the checks took 10-60 us at 200
    labels (``schema.scores.plain_inputs``)."""
    cdef Py_ssize_t n = labels.shape[0], width = 16
    while width < 2 * n:
        width *= 2
    # per slot a label's position + 1 (0: empty) and its hash
    cdef int64_t* table = <int64_t*>PyMem_Calloc(2 * width, sizeof(int64_t))
    if table == NULL:
        raise MemoryError()
    cdef int64_t* hashes = table + width
    try:
        return _label_scan(labels, table, hashes, width)
    finally:
        PyMem_Free(table)


cdef int _label_scan(object[:] labels, int64_t* table, int64_t* hashes, Py_ssize_t width) except? -2:
    cdef Py_ssize_t n = labels.shape[0], k, q, size, slot
    cdef const unsigned char* text
    cdef unsigned char c
    cdef int bits = _UNIQUE
    cdef Py_hash_t h
    for k in range(n):
        item = labels[k]
        if not PyUnicode_CheckExact(item) or not PyUnicode_IS_ASCII(item):
            return -1
        text = PyUnicode_1BYTE_DATA(item)
        size = PyUnicode_GET_LENGTH(item)
        for q in range(size):
            c = text[q]
            if c >= 97 and c <= 122:
                bits |= _LOWER
            elif c >= 65 and c <= 90:
                bits |= _UPPER
        if not bits & _UNIQUE:
            continue
        h = PyObject_Hash(item)
        slot = <Py_ssize_t>(<uint64_t>h & <uint64_t>(width - 1))
        while table[slot]:
            if hashes[slot] == h and labels[table[slot] - 1] == item:
                bits &= ~_UNIQUE
                break
            slot = (slot + 1) & (width - 1)
        else:
            table[slot] = k + 1
            hashes[slot] = h
    return bits


def same_texts(object[:] a, object[:] b):
    """Whether two object arrays hold equal ``str`` labels (exactly str) in the same order: one
    pass, where ``Index.equals`` took 6.8 us at 200 labels."""
    cdef Py_ssize_t n = a.shape[0], k
    if b.shape[0] != n:
        return False
    for k in range(n):
        x = a[k]
        y = b[k]
        if x is y:
            if not PyUnicode_CheckExact(x):
                return False
            continue
        if not PyUnicode_CheckExact(x) or not PyUnicode_CheckExact(y) or x != y:
            return False
    return True


def score_scan(const double[::1] v):
    """One pass over the scores (any order): 2 if one is NaN or ``+inf`` (the caller's checks
    name them), else 1 if one is ``-inf``, else 0 (``_check_scores``' answer, without its
    sum, min and max). The pass looks for a value whose exponent bits are all set (NaN and the
    infinities): adding one to the exponent of such a value, and of no other, carries into the
    sign bit, which an OR of every sum keeps; and, add and or on 64 bits are SSE2's, so the
    compiler vectorises the loop under portable flags (a 64-bit comparison is not: 10,000
    scores took 6.7 us that way). Only when one is found are they told apart."""
    cdef Py_ssize_t k, n = v.shape[0]
    cdef const uint64_t* bits = <const uint64_t*>&v[0] if n else NULL
    cdef uint64_t special = 0, EXP = 0x7ff0000000000000ULL, ONE = 0x0010000000000000ULL
    cdef double x
    cdef int found = 0
    with nogil:
        for k in range(n):
            special |= (bits[k] & EXP) + ONE
        if special >> 63:
            for k in range(n):
                x = v[k]
                if x == -INFINITY:
                    found = 1
                elif not (x < INFINITY):
                    found = 2
                    break
    return found


def capacity_scan(const double[::1] v, double most):
    """Whether every capacity is a whole number >= 0 and at most ``most`` (finite, not NaN):
    :func:`whole_counts` with ``assign()``'s ceiling (``schema.columns.MAX_CAPACITY``)."""
    cdef Py_ssize_t k
    cdef double x
    cdef bint ok = True
    with nogil:
        for k in range(v.shape[0]):
            x = v[k]
            if not (x >= 0 and x <= most and x == floor(x)):
                ok = False
                break
    return ok


def hash_ranks(const uint64_t[::1] hashed):
    """The seeded order of ids from their hashes (``pipeline.order.seeded_order``: ascending
    hash), and each id's rank in it, when no two hashes are equal; else None (the ids decide
    among equal hashes: the caller's lexsort). The hashes are keyed SipHash, spread evenly: a
    counting sort by their top bits (about one id per bucket) and an insertion sort within
    each bucket order them, with the check of neighbours and the inverse permutation, in C (at
    200 ids 1 us, where numpy's argsort took 2.8 and the rest three calls more). A bucket of
    more than 64 ids (hashes not spread: never seen) goes to numpy's argsort."""
    cdef Py_ssize_t n = hashed.shape[0], k, q, b, width = 2
    cdef int shift = 63
    while width < n:
        width *= 2
        shift -= 1
    order_a = np.empty(n, np.int64)
    rank_a = np.empty(n, np.int64)
    cdef int64_t[::1] order = order_a, rank = rank_a
    # each bucket's first slot (start) and its next free one (fill)
    cdef int64_t* start = <int64_t*>PyMem_Calloc(2 * (width + 1), sizeof(int64_t))
    if start == NULL:
        raise MemoryError()
    cdef int64_t* fill = start + width + 1
    cdef bint twice = False, spread = True
    try:
        with nogil:
            for k in range(n):
                start[(hashed[k] >> shift) + 1] += 1
            for b in range(width):
                if start[b + 1] > _BUCKET_MOST:
                    spread = False
                start[b + 1] += start[b]
                fill[b] = start[b]
            if spread:
                for k in range(n):
                    b = hashed[k] >> shift
                    q = fill[b]
                    fill[b] += 1
                    while q > start[b] and hashed[k] < hashed[order[q - 1]]:
                        order[q] = order[q - 1]
                        q -= 1
                    order[q] = k
    finally:
        PyMem_Free(start)
    if not spread:
        order_a = np.argsort(np.asarray(hashed))
        order = order_a
    with nogil:
        for k in range(n):
            rank[order[k]] = k
            if k and hashed[order[k]] == hashed[order[k - 1]]:
                twice = True
                break
    return None if twice else (order_a, rank_a)


#: :func:`hash_ranks`' largest bucket for its insertion sorts
cdef enum:
    _BUCKET_MOST = 64


def mate_cells(const double[:, :] s, const int64_t[::1] mate):
    """The matched mentees ``ci`` (ascending), their mentors ``cj = mate[ci]`` and scores
    ``s[ci, cj]``, for :func:`mentormatch.solvers.duals.prices_at`: one pass where numpy took
    ``flatnonzero``, a gather and a fancy index (6 us at 200 x 50)."""
    cdef Py_ssize_t n = mate.shape[0], i, c = 0
    if s.shape[0] != n:
        raise ValueError("mate_cells: one mate per row of the scores")
    ci_a = np.empty(n, np.int64)
    cj_a = np.empty(n, np.int64)
    score_a = np.empty(n, np.float64)
    cdef int64_t[::1] ci = ci_a, cj = cj_a
    cdef double[::1] score = score_a
    with nogil:
        for i in range(n):
            if mate[i] >= 0:
                ci[c] = i
                cj[c] = mate[i]
                score[c] = s[i, mate[i]]
                c += 1
    return ci_a[:c], cj_a[:c], score_a[:c]
