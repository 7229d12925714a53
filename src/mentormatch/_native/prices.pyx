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
    cdef Py_ssize_t t, g, q, a, b, best_at, jj
    cdef double best, v, e, f
    cdef volatile double moved  # (stored: never contracted with the sum into an FMA)
    cdef double *demand
    if row.shape[0] != n or mentor.shape[0] != n or places.shape[0] != m or room.shape[0] != m:
        raise ValueError("sweeps: shapes do not agree")
    for g in range(groups):
        a = starts[g]
        b = starts[g + 1] if g + 1 < groups else n
        if a < 0 or b <= a or b > n or row[a] < 0 or row[a] >= weight.shape[0]:
            raise ValueError("sweeps: starts must be increasing group starts within the pairs")
    for q in range(n):
        if mentor[q] < 0 or mentor[q] >= m:
            raise IndexError(f"sweeps: mentor {mentor[q]} out of range for {m} mentors")
    demand = <double *> malloc(max(m, 1) * sizeof(double))
    if demand == NULL:
        raise MemoryError()
    try:
        with nogil:
            for t in range(step.shape[0]):
                for jj in range(m):
                    demand[jj] = 0.0
                for g in range(groups):
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
                f = step[t]
                for jj in range(m):
                    e = (demand[jj] - places[jj]) / (places[jj] if places[jj] >= 1.0 else 1.0) if room[jj] else 0.0
                    moved = f * e
                    v = price[jj] + moved
                    price[jj] = 0.0 if 0.0 >= v else v
    finally:
        free(demand)
