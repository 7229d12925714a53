# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Fused per-pair gathers of exact scoring: one pass over the pairs where numpy makes a pass per
competency or per trait. On 4 million pairs sorted by mentee at 100,000 x 20,000 (11
competencies, 5 traits), CPU seconds: competency's covered share 0.41 (numpy: three takes, a
comparison and two masked adds a competency) -> 0.08, personality's trait tables 0.09 -> 0.04.
The twins are the numpy loops of :meth:`mentormatch.features.competency._CompetencyPrepared._slot`
and :meth:`mentormatch.features.personality._TraitTables.gather`; each kernel adds the same
float64 numbers in the same order (additions only: no product for the compiler to contract), so
the values are identical to the bit. Indices are checked (an index out of range raises, as
``np.take`` does); the GIL is released, as the exact scores run on threads."""
from libc.math cimport NAN
from libc.stdint cimport int64_t, uint64_t, uint8_t
from libc.string cimport memcpy


cdef inline double _kept(double w, uint64_t keep) noexcept nogil:
    """``w`` where ``keep`` is 1, +0.0 where it is 0, without a branch (a mask on the bits)."""
    cdef uint64_t bits
    memcpy(&bits, &w, 8)
    bits &= -keep
    memcpy(&w, &bits, 8)
    return w


def covered_share(const double[:, ::1] weight, const uint8_t[:, ::1] required,
                  const uint8_t[:, ::1] level, const int64_t[::1] mentee,
                  const int64_t[::1] mentor, double[::1] out):
    """``out[k]`` = the weight of the competencies mentor ``mentor[k]`` covers (level at least
    the required one) over the weight of those whose level is known, NaN where that weight is
    0. Levels are codes (ranks among the distinct levels, 255 for NaN: unknown, never
    covering, never covered), so that the mentors' table is small enough to stay in cache:
    ``level`` (mentors, competencies) is a byte a level; ``weight``, ``required`` (mentees,
    competencies), a pair's numbers side by side (the twin's per-competency rows cost a cache
    miss each)."""
    cdef Py_ssize_t k, c, n = mentee.shape[0], C = level.shape[1]
    cdef Py_ssize_t ne = weight.shape[0], nm = level.shape[0]
    cdef int64_t a, b
    cdef double num, den, w
    cdef uint8_t lv
    cdef bint bad = False
    cdef uint64_t known
    if (weight.shape[1] != C or required.shape[0] != ne or required.shape[1] != C
            or mentor.shape[0] != n or out.shape[0] != n):
        raise ValueError("covered_share: shapes do not agree")
    with nogil:
        for k in range(n):
            a, b = mentee[k], mentor[k]
            if a < 0 or a >= ne or b < 0 or b >= nm:
                bad = True
                break
            num = 0.0
            den = 0.0
            for c in range(C):
                w = weight[a, c]
                lv = level[b, c]
                # no branch on the data (unpredictable: 0.12 -> 0.08 s for 4 million pairs at
                # 100,000 x 20,000); adding +0.0 leaves a sum unchanged to the bit (never -0.0)
                known = lv != 255
                den = den + _kept(w, known)
                num = num + _kept(w, known & (lv >= required[a, c]))
            out[k] = num / den if den > 0 else NAN
    if bad:
        raise IndexError("covered_share: a pair's index is out of range")


def keyed_sums(const double[::1] table, const Py_ssize_t[:, ::1] row,
               const Py_ssize_t[:, ::1] col, const int64_t[::1] mentee,
               const int64_t[::1] mentor, double[::1] out):
    """``out[k] = 0.0 + sum_t table[row[mentee[k], t] + col[mentor[k], t]]``, the terms added
    in the order of ``t``; ``row`` (mentees, terms), ``col`` (mentors, terms): a pair's codes
    side by side."""
    cdef Py_ssize_t k, t, n = mentee.shape[0], T = row.shape[1]
    cdef Py_ssize_t ne = row.shape[0], nm = col.shape[0], size = table.shape[0], at
    cdef int64_t a, b
    cdef double s
    cdef bint bad = False
    if col.shape[1] != T or mentor.shape[0] != n or out.shape[0] != n:
        raise ValueError("keyed_sums: shapes do not agree")
    with nogil:
        for k in range(n):
            a, b = mentee[k], mentor[k]
            if a < 0 or a >= ne or b < 0 or b >= nm:
                bad = True
                break
            s = 0.0
            for t in range(T):
                at = row[a, t] + col[b, t]
                if at < 0 or at >= size:
                    bad = True
                    break
                s = s + table[at]
            if bad:
                break
            out[k] = s
    if bad:
        raise IndexError("keyed_sums: a pair's index is out of range")
