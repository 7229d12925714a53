# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Fused per-pair gathers of exact scoring: one pass over the pairs where numpy makes a pass per
competency or per trait. On 4 million pairs sorted by mentee at 100,000 x 20,000 (11
competencies, 5 traits), CPU seconds: competency's covered share 0.41 (numpy: three takes, a
comparison and two masked adds a competency) -> 0.08, personality's trait tables 0.09 -> 0.04.
The twins are the numpy loops of :meth:`mentormatch.features.competency._CompetencyPrepared._slot`
and :meth:`mentormatch.features.personality._TraitTables.gather`; each kernel adds the same
float64 numbers in the same order (additions only: no product for the compiler to contract), so
the values are identical to the bit. Indices are checked (an index out of range raises, as
``np.take`` does); the GIL is released, as the exact scores run on threads.

:func:`above_pairs` is the ranks' screened read of a block of bounds (the twin: the block scan,
:mod:`mentormatch.solvers.bounded.abovescan`), the same pairs but within a rounding of the
limit."""
from libc.math cimport NAN, fabs, isfinite
from libc.stdint cimport int64_t, uint64_t, uint8_t
from libc.string cimport memcpy

import numpy as np


cdef extern from "above.h" nogil:
    Py_ssize_t mm_above_flags(const float* a, const float* r, const float* p, float lm, float thr, float pn,
                              uint8_t* flag, Py_ssize_t m)
    Py_ssize_t mm_flagged(const uint8_t* flag, Py_ssize_t m, int64_t* out)


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


def above_pairs(const int64_t[::1] edges, const float[:, ::1] adds, const uint8_t[:, ::1] codes,
                const float[:, :, ::1] lookup, const float[::1] lmul, const float[::1] rmul,
                const int64_t[::1] inc_r, const int64_t[::1] inc_c, const float[::1] inc_v,
                const int64_t[::1] put_r, const int64_t[::1] put_c, const float[::1] limit,
                const double[::1] price, const double[::1] need, const float[::1] price32, double scale):
    """The pairs ``(r, j)`` of a block of the ranks' bound pass with ``price[j] >= need[r]``
    and a bound above ``limit[r]``, in row-major order (``lmul``, ``limit``, ``need``: one a
    row; ``rmul``, ``price``, each row of ``adds``: one a mentor; ``codes``: mentors x groups,
    each mentor's codes side by side). The bound is
    :class:`mentormatch.scale_codes.BlockRest`'s, its terms added in float64: ``lmul[r] *
    rmul[j] + adds[g, j]`` (``g``: the run of ``edges`` holding ``r``) ``+ sum_k lookup[r, k,
    codes[j, k]]`` plus the stated pair ``(r, j)`` of ``inc`` if any; a removed pair (``put``)
    is never kept. Its first two terms screen each pair: the coded terms and the stated pair
    add at most the row's largest of each, so a pair whose first two terms are below
    ``limit[r]`` less those is not above ``limit[r]``, and its coded terms are not read (at
    100,000 x 20,000, 9 % of the pairs read pass the screen). ``inc``, ``put``: rows ascending
    (a CSR's); the GIL is released."""
    cdef Py_ssize_t n = lmul.shape[0], m = rmul.shape[0], G = codes.shape[1], C = lookup.shape[2]
    cdef Py_ssize_t r, j, k, g = 0, t, q, ii = 0, ip = 0, cnt, cap, kept = 0
    cdef Py_ssize_t n_inc = inc_r.shape[0], n_put = put_r.shape[0], n_runs = edges.shape[0] - 1
    cdef double lm, top, st, most, thr, a, full, lim, pn, s0, s1, s2, s3, low_k, w1, w2, m1, m2, rest2
    cdef Py_ssize_t k1, k2, c2
    cdef uint8_t over = 0
    if (adds.shape[1] != m or codes.shape[0] != m or lookup.shape[0] != n or lookup.shape[1] != G
            or limit.shape[0] != n or price.shape[0] != m or need.shape[0] != n or n_runs < 1
            or price32.shape[0] != m or not scale >= 0
            or edges[0] != 0 or edges[n_runs] != n or n_runs != adds.shape[0] or G * C > 4096
            or inc_c.shape[0] != n_inc or inc_v.shape[0] != n_inc or put_c.shape[0] != n_put):
        raise ValueError("above_pairs: shapes do not agree")
    for t in range(n_inc):
        if inc_r[t] < 0 or inc_r[t] >= n or inc_c[t] < 0 or inc_c[t] >= m or (t and inc_r[t] < inc_r[t - 1]):
            raise IndexError("above_pairs: a stated pair is out of range or out of order")
    for t in range(n_put):
        if put_r[t] < 0 or put_r[t] >= n or put_c[t] < 0 or put_c[t] >= m or (t and put_r[t] < put_r[t - 1]):
            raise IndexError("above_pairs: a removed pair is out of range or out of order")
    for t in range(1, n_runs + 1):
        if edges[t] < edges[t - 1]:
            raise ValueError("above_pairs: the runs' edges are not ascending")
    if n == 0 or m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cdef const uint8_t* cp = &codes[0, 0]
    with nogil:
        for j in range(m * G):
            over |= cp[j] >= C
    if over:
        raise IndexError("above_pairs: a mentor's code is out of its lookup's range")
    cdef object out_r = np.empty(max(m, 16), np.int64), out_c = np.empty(max(m, 16), np.int64)
    cdef int64_t[::1] orr = out_r, occ = out_c
    cdef double[::1] stated_v = np.zeros(m)
    cdef uint8_t[::1] gone_v = np.zeros(m, np.uint8)
    cdef int64_t[::1] cand_v = np.empty(m + 1, np.int64)
    cdef double[::1] row_v = np.empty(G * C + 1)
    cdef double* stated = &stated_v[0]
    cdef uint8_t* gone = &gone_v[0]
    cdef int64_t* cand = &cand_v[0]
    cdef uint8_t[::1] flag_v = np.empty(m, np.uint8)
    cdef uint8_t* flag = &flag_v[0]
    cdef const float* p32 = &price32[0]
    cdef float thr32, pn32
    cdef double guard = 9.5367431640625e-07 * scale  # (2 ** -20)
    cdef double* row = &row_v[0]
    cdef const float* ap
    cdef const float* rm = &rmul[0]
    cdef const double* pr = &price[0]
    cdef const float* lk
    cdef const uint8_t* cj
    cdef int64_t* o_r
    cdef int64_t* o_c
    with nogil:
        for r in range(n):
            while g + 1 < n_runs and edges[g + 1] <= r:
                g += 1
            ap = &adds[g, 0]
            # the row's stated and removed pairs, as marks on its mentors
            st = 0.0
            q = ii
            while q < n_inc and inc_r[q] == r:
                stated[inc_c[q]] = inc_v[q]
                if inc_v[q] > st:
                    st = inc_v[q]
                q += 1
            t = ip
            while t < n_put and put_r[t] == r:
                gone[put_c[t]] = 1
                t += 1
            # the row's coded terms, in float64, the largest of each group, and the two groups
            # of the widest spread (largest less smallest), read first in the second screen
            lk = &lookup[r, 0, 0]
            most = 0.0
            k1 = k2 = 0
            w1 = w2 = -1.0
            m1 = m2 = 0.0
            for k in range(G):
                top = lk[k * C]
                low_k = lk[k * C]
                for j in range(C):
                    row[k * C + j] = lk[k * C + j]
                    if lk[k * C + j] > top:
                        top = lk[k * C + j]
                    if lk[k * C + j] < low_k:
                        low_k = lk[k * C + j]
                most += top
                if top - low_k > w1:
                    k2, w2, m2 = k1, w1, m1
                    k1, w1, m1 = k, top - low_k, top
                elif top - low_k > w2:
                    k2, w2, m2 = k, top - low_k, top
            lim = limit[r]
            pn = need[r]
            lm = lmul[r]
            # the stated pairs are screened with their own term (below), the others with none
            thr = lim - most
            thr -= 9.094947017729282e-13 * (fabs(lim) + fabs(most) + st + 1.0)  # (2 ** -40)
            # float32: rounded down, then below the screen's rounding ((float) rounds to nearest)
            thr32 = <float> (thr - guard - 9.5367431640625e-07 * fabs(thr))
            pn32 = <float> (pn - 9.5367431640625e-07 * fabs(pn)) if isfinite(pn) else <float> pn
            cnt = mm_above_flags(ap, rm, p32, <float> lm, thr32, pn32, flag, m)
            for t in range(ii, q):
                cnt += flag[inc_c[t]] == 0
                flag[inc_c[t]] = 1
            if cnt:
                cnt = mm_flagged(flag, m, cand)
            # the second screen: the two widest groups' own terms and the stated pair's
            if G >= 2:
                rest2 = (most - m1) - m2
                c2 = 0
                for t in range(cnt):
                    j = cand[t]
                    cj = cp + j * G
                    a = ((<double> ap[j] + lm * <double> rm[j]) + stated[j]) + (row[k1 * C + cj[k1]] + row[k2 * C + cj[k2]])
                    cand[c2] = j
                    c2 += a + rest2 >= thr
                cnt = c2
            if kept + cnt > orr.shape[0]:
                with gil:
                    cap = max(2 * orr.shape[0], kept + cnt)
                    out_r = np.resize(out_r, cap)
                    out_c = np.resize(out_c, cap)
                    orr = out_r
                    occ = out_c
            o_r = &orr[0]
            o_c = &occ[0]
            for t in range(cnt):
                j = cand[t]
                cj = cp + j * G
                # four sums, not one chain of dependent adds (13 groups: 52 cycles a pair)
                s0 = <double> ap[j] + lm * <double> rm[j]
                s1 = stated[j]
                s2 = 0.0
                s3 = 0.0
                k = 0
                while k + 4 <= G:
                    s0 += row[k * C + cj[k]]
                    s1 += row[(k + 1) * C + cj[k + 1]]
                    s2 += row[(k + 2) * C + cj[k + 2]]
                    s3 += row[(k + 3) * C + cj[k + 3]]
                    k += 4
                while k < G:
                    s0 += row[k * C + cj[k]]
                    k += 1
                full = (s0 + s1) + (s2 + s3)
                o_r[kept] = r
                o_c[kept] = j
                kept += (full > lim) & (gone[j] == 0) & (pr[j] >= pn)
            for t in range(ii, q):
                stated[inc_c[t]] = 0.0
            ii = q
            q = ip
            while q < n_put and put_r[q] == r:
                gone[put_c[q]] = 0
                q += 1
            ip = q
    return out_r[:kept].copy(), out_c[:kept].copy()
