# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The sweeps of the top level's first-price adjustment (:func:`mentormatch.solvers.bounded.tatonnement.adjusted`)
in one pass over the pairs a sweep, where numpy makes about ten (the values, a reduce per row,
the first best pair, the demand): at 100,000 x 20,000 (1.28 million pairs, 60 sweeps) about
0.6 s CPU in numpy, see the figures in that module. The twin is that function's numpy loop: the
same float64 operations in the same order (a row's first largest ``s - price`` taken; the
demand summed in row order; each mentor's move ``price + f * excess`` then ``max(0, .)``, no
product and sum for the compiler to contract: the product is stored first), so the prices are
identical to the bit. Indices are checked; the GIL is released."""
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc


def _check(const int64_t[::1] starts, const int64_t[::1] row, const int64_t[::1] mentor,
           const double[::1] weight, Py_ssize_t m, Py_ssize_t n):
    cdef Py_ssize_t g, q, a, b, groups = starts.shape[0]
    if row.shape[0] != n or mentor.shape[0] != n:
        raise ValueError("sweeps: shapes do not agree")
    for g in range(groups):
        a = starts[g]
        b = starts[g + 1] if g + 1 < groups else n
        if a < 0 or b <= a or b > n or row[a] < 0 or row[a] >= weight.shape[0]:
            raise ValueError("sweeps: starts must be increasing group starts within the pairs")
    for q in range(n):
        if mentor[q] < 0 or mentor[q] >= m:
            raise IndexError(f"sweeps: mentor {mentor[q]} out of range for {m} mentors")


cdef void _demand(const int64_t[::1] starts, const int64_t[::1] row, const int64_t[::1] mentor,
                  const double[::1] score, const double[::1] weight, const double[::1] price,
                  Py_ssize_t g0, Py_ssize_t g1, double *demand, Py_ssize_t m) noexcept nogil:
    """Each group's of ``g0:g1`` first pair of largest ``score - price[mentor]``, when >= 0,
    adds ``weight[row]`` to ``demand`` (zeroed first), in group order."""
    cdef Py_ssize_t g, q, a, b, best_at, jj, groups = starts.shape[0], n = score.shape[0]
    cdef double best, v
    for jj in range(m):
        demand[jj] = 0.0
    for g in range(g0, g1):
        a = starts[g]
        b = starts[g + 1] if g + 1 < groups else n
        best_at = a
        best = score[a] - price[mentor[a]]
        for q in range(a + 1, b):
            v = score[q] - price[mentor[q]]
            if v > best:
                best, best_at = v, q
        if best >= 0:
            demand[mentor[best_at]] += weight[row[a]]


cdef void _move(const double *demand, const double *other, const double[::1] places, const uint8_t[::1] room,
                double f, double[::1] price) noexcept nogil:
    """Each mentor with ``room`` to ``max(0, price + f * (demand - places) / max(places, 1))``
    (``demand + other`` when ``other`` is not NULL), the others to ``max(0, price + f * 0)``."""
    cdef Py_ssize_t jj
    cdef double e, v, d
    cdef volatile double moved  # (stored: never contracted with the sum into an FMA)
    for jj in range(price.shape[0]):
        d = demand[jj] if other == NULL else demand[jj] + other[jj]
        e = (d - places[jj]) / (places[jj] if places[jj] >= 1.0 else 1.0) if room[jj] else 0.0
        moved = f * e
        v = price[jj] + moved
        price[jj] = 0.0 if 0.0 >= v else v


def sweeps(const int64_t[::1] starts, const int64_t[::1] row, const int64_t[::1] mentor,
           const double[::1] score, const double[::1] weight, const double[::1] places,
           const uint8_t[::1] room, const double[::1] step, double[::1] price):
    """``len(step)`` sweeps on ``price`` (in place, one a mentor). The pairs (``row``,
    ``mentor``, ``score``) are grouped by row, the groups starting at ``starts`` (increasing,
    the first 0). Each sweep: each group's first pair of largest ``score - price[mentor]``,
    when that is >= 0, adds ``weight[row]`` to its mentor's demand; then each mentor with
    ``room`` moves to ``max(0, price + step[t] * (demand - places) / max(places, 1))``, the
    others to ``max(0, price + step[t] * 0)``."""
    cdef Py_ssize_t n = score.shape[0], groups = starts.shape[0], m = price.shape[0]
    cdef Py_ssize_t t
    cdef double *demand
    if places.shape[0] != m or room.shape[0] != m:
        raise ValueError("sweeps: shapes do not agree")
    _check(starts, row, mentor, weight, m, n)
    demand = <double *> malloc(max(m, 1) * sizeof(double))
    if demand == NULL:
        raise MemoryError()
    try:
        with nogil:
            for t in range(step.shape[0]):
                _demand(starts, row, mentor, score, weight, price, 0, groups, demand, m)
                _move(demand, NULL, places, room, step[t], price)
    finally:
        free(demand)


def sweeps_two(const int64_t[::1] starts, const int64_t[::1] row, const int64_t[::1] mentor,
               const double[::1] score, const double[::1] weight, const double[::1] places,
               const uint8_t[::1] room, const double[::1] step, double[::1] price, Py_ssize_t split, run):
    """:func:`sweeps` with each sweep's demand in two halves, the groups ``split:`` on another
    thread (``run(fn)`` calls ``fn()`` there and returns a callable that waits for it), this
    thread's ``:split``: the same prices to the bit when every ``weight`` is an integer and
    their sum below 2**53 (each half's sum, and the two added, are then exact: the caller
    checks)."""
    cdef Py_ssize_t n = score.shape[0], groups = starts.shape[0], m = price.shape[0]
    cdef Py_ssize_t t
    cdef double *mine
    cdef double *theirs
    if places.shape[0] != m or room.shape[0] != m:
        raise ValueError("sweeps: shapes do not agree")
    if split < 0 or split > groups:
        raise ValueError("sweeps: split must be a group index")
    _check(starts, row, mentor, weight, m, n)
    mine = <double *> malloc(max(m, 1) * sizeof(double))
    theirs = <double *> malloc(max(m, 1) * sizeof(double))
    if mine == NULL or theirs == NULL:
        free(mine)
        free(theirs)
        raise MemoryError()

    def other():  # (on the other thread: its half of a sweep's demand, without the GIL)
        with nogil:
            _demand(starts, row, mentor, score, weight, price, split, groups, theirs, m)

    try:
        for t in range(step.shape[0]):
            wait = run(other)
            with nogil:
                _demand(starts, row, mentor, score, weight, price, 0, split, mine, m)
            wait()
            with nogil:
                _move(mine, theirs, places, room, step[t], price)
    finally:
        free(mine)
        free(theirs)
