/* The loops of mentormatch._native.scan that read a whole row, in plain C so that the
   compiler vectorises them (portable: no -march flags; the AVX2 forms are chosen on the CPU
   that runs them, and the one with intrinsics, mm_codes_avx2, is built only for x86-64). */
#ifndef MENTORMATCH_NATIVE_LOOPS_H
#define MENTORMATCH_NATIVE_LOOPS_H
#include <stddef.h>
#include <stdint.h>

#define MM_CHUNK 32

/* The whole-row loops below are built twice where GCC can (function multi-versioning on
   x86-64 with glibc's ifunc): an AVX2 clone, which the loader picks on a CPU that has it, and
   the portable SSE2 one (the default) for any other. The same C, so the same results: these
   loops only compare, select and add floats (nothing for the compiler to contract into an
   FMA). At 100,000 x 20,000 on one core (AMD EPYC, Zen 4), the block scan after the product
   took 1.16 ns a pair with SSE2 and 0.92 with the AVX2 clones, of about 2.8 ns a bound pair
   (the product, OpenBLAS's sgemm, the rest: 1.55 ns). A dispatched call costs an indirect
   call, so each clone does a whole row, never a chunk. Elsewhere (clang, another compiler,
   another architecture, no glibc): the default only. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) \
    && defined(__has_attribute)
#if __has_attribute(target_clones)
#define MM_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef MM_CLONES
#define MM_CLONES
#endif

/* Whether any of x[0..MM_CHUNK) is above cut (as a count: GCC 12's AVX2 code for "hit |=" chains
   byte blends, for "hit +=" subtracts the compare masks). */
static inline int mm_any_above(const float *restrict x, float cut) {
    int hit = 0;
    for (int t = 0; t < MM_CHUNK; t++)
        hit += x[t] > cut;
    return hit != 0;
}

/* From column j of a row of m (x), the first whole chunk of MM_CHUNK columns with an entry
   above cut, or the start of the last part chunk (columns past the last whole one), or m:
   the chunks skipped hold nothing above cut. Asks for the same columns of the next row
   (next; NULL: none) meanwhile, which the row after reads from memory. */
MM_CLONES static ptrdiff_t mm_skip(const float *restrict x, ptrdiff_t j, ptrdiff_t m, float cut,
                                   const float *next) {
    for (; j + MM_CHUNK <= m; j += MM_CHUNK) {
#if defined(__GNUC__) || defined(__clang__)
        if (next != NULL) {
            __builtin_prefetch(next + j, 0, 3);
            __builtin_prefetch(next + j + 16, 0, 3);
        }
#endif
        if (mm_any_above(x + j, cut))
            return j;
    }
    return j;
}

/* Each column's maximum so far and the first row attaining it, updated with row r (x): a
   later row takes a column only when strictly above. (The row's choice by a mask, not a
   branch: GCC 12 vectorises this form at -O3, not "g ? r : best[j]".) */
MM_CLONES static void mm_col_max(const float *restrict x, float *restrict top, int32_t *restrict best,
                                 ptrdiff_t m, int32_t r) {
    for (ptrdiff_t j = 0; j < m; j++) {
        float v = x[j], t = top[j];
        int32_t b = best[j];
        int32_t mask = -(int32_t)(v > t);
        top[j] = v > t ? v : t;
        best[j] = b ^ ((b ^ r) & mask);
    }
}
/* x[j] += a[j] for j < m (a group run's table row, less the prices, added to a row of the
   product while the row is in the cache; the same float adds as numpy's). */
MM_CLONES static void mm_add(float *restrict x, const float *restrict a, ptrdiff_t m) {
    for (ptrdiff_t j = 0; j < m; j++)
        x[j] += a[j];
}
/* Coded terms of the bound (scale.BoundedScorer: a group of the mentors' factor columns whose
   rows take at most MM_CODES patterns, such as a trait's one-hot bins): x[j] += a[j] (a NULL:
   none), then x[j] += t[g * MM_CODES + codes[g * m + j]] for g = 0 .. n_codes - 1, in that
   order, each a float32 add (the order of BlockRest.apply, so the same floats). The AVX2 form
   looks each group up for 8 columns at once (one permute of the group's 8 values): 13 groups
   cost 0.8-0.96 ns a pair on one core here, 5 groups 0.55 (the row's read and write included),
   where they cost OpenBLAS's sgemm 2.5 cycles a pair (1.6 ns for 67 columns, 0.7 for 27); the
   portable form looks up one entry at a time, 7 ns a pair for 13 groups, so a scorer codes
   its groups only where mm_codes_fast() (an x86-64 CPU with AVX2, GCC or clang). */
#define MM_CODES 8

static inline void mm_codes_plain(float *restrict x, const float *restrict a, const float *restrict t,
                                  const uint8_t *restrict codes, ptrdiff_t n_codes, ptrdiff_t m,
                                  ptrdiff_t j, const float *restrict rmul, float lmul) {
    if (rmul != NULL) /* (the product stored first, in a loop of its own: no FMA to contract) */
        for (ptrdiff_t k = j; k < m; k++)
            x[k] = lmul * rmul[k];
    for (; j < m; j++) {
        float v = a != NULL ? x[j] + a[j] : x[j];
        for (ptrdiff_t g = 0; g < n_codes; g++)
            v += t[g * MM_CODES + codes[g * m + j]];
        x[j] = v;
    }
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define MM_HAVE_CODES_AVX2 1
__attribute__((target("avx2"))) static void mm_codes_avx2(float *restrict x, const float *restrict a,
                                                          const float *restrict t,
                                                          const uint8_t *restrict codes,
                                                          ptrdiff_t n_codes, ptrdiff_t m,
                                                          const float *restrict rmul, float lmul) {
    ptrdiff_t j = 0;
    __m256 l = _mm256_set1_ps(lmul);
    for (; j + 8 <= m; j += 8) {
        /* (the product's one column, where the block holds none: the same float32 product;
           AVX2 has no FMA, so the add after it is not contracted) */
        __m256 v = rmul != NULL ? _mm256_mul_ps(l, _mm256_loadu_ps(rmul + j)) : _mm256_loadu_ps(x + j);
        if (a != NULL)
            v = _mm256_add_ps(v, _mm256_loadu_ps(a + j));
        for (ptrdiff_t g = 0; g < n_codes; g++) {
            __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + g * m + j)));
            v = _mm256_add_ps(v, _mm256_permutevar8x32_ps(_mm256_loadu_ps(t + g * MM_CODES), c));
        }
        _mm256_storeu_ps(x + j, v);
    }
    mm_codes_plain(x, a, t, codes, n_codes, m, j, rmul, lmul);
}
#endif

/* The AVX-512 form: 16 columns at once (a group's 8 values in the low half of one permute),
   where the CPU has AVX-512F: 13 groups with the product 0.55 ns a pair on one core here
   against 0.64-0.82 for the AVX2 form. The product by _mm512_mul_round_ps: AVX-512F has FMA,
   and GCC contracts a plain vector multiply and the add after it into one (other floats); a
   rounding builtin it does not. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define MM_HAVE_CODES_AVX512 1
__attribute__((target("avx512f"))) static void mm_codes_avx512(float *restrict x, const float *restrict a,
                                                              const float *restrict t,
                                                              const uint8_t *restrict codes,
                                                              ptrdiff_t n_codes, ptrdiff_t m,
                                                              const float *restrict rmul, float lmul) {
    ptrdiff_t j = 0;
    __m512 l = _mm512_set1_ps(lmul);
    for (; j + 16 <= m; j += 16) {
        __m512 v = rmul != NULL
            ? _mm512_mul_round_ps(l, _mm512_loadu_ps(rmul + j), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
            : _mm512_loadu_ps(x + j);
        if (a != NULL)
            v = _mm512_add_ps(v, _mm512_loadu_ps(a + j));
        for (ptrdiff_t g = 0; g < n_codes; g++) {
            __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(codes + g * m + j)));
            v = _mm512_add_ps(v, _mm512_permutexvar_ps(c, _mm512_castps256_ps512(_mm256_loadu_ps(t + g * MM_CODES))));
        }
        _mm512_storeu_ps(x + j, v);
    }
    mm_codes_plain(x, a, t, codes, n_codes, m, j, rmul, lmul);
}

/* Whether mm_codes runs its AVX-512 form on this CPU. */
static int mm_codes_wide(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return known;
}
#endif

/* Whether mm_codes runs its AVX2 form on this CPU. */
static int mm_codes_fast(void) {
#ifdef MM_HAVE_CODES_AVX2
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return known;
#else
    return 0;
#endif
}

/* rmul (NULL: none): x[j] = lmul * rmul[j] first, in place of x's own values (the product of
   BlockRest.lmul and rmul, computed here: the block is not written and read back once more). */
static void mm_codes(float *restrict x, const float *restrict a, const float *restrict t,
                     const uint8_t *restrict codes, ptrdiff_t n_codes, ptrdiff_t m,
                     const float *restrict rmul, float lmul) {
#ifdef MM_HAVE_CODES_AVX512
    if (mm_codes_wide()) {
        mm_codes_avx512(x, a, t, codes, n_codes, m, rmul, lmul);
        return;
    }
#endif
#ifdef MM_HAVE_CODES_AVX2
    if (mm_codes_fast()) {
        mm_codes_avx2(x, a, t, codes, n_codes, m, rmul, lmul);
        return;
    }
#endif
    mm_codes_plain(x, a, t, codes, n_codes, m, 0, rmul, lmul);
}

/* Each mentor group's largest entry of a row (group of x[j]: grp[j], below MM_GROUPS), at least
   gf[g] as given: four interleaved accumulators, so that entries of one group in a row do not
   wait on each other's store (a branch per entry, one accumulator, was about 1 ns an entry). */
#define MM_GROUPS 64
MM_CLONES static void mm_group_max(const float *restrict x, const uint8_t *restrict grp, float *restrict gf,
                                   ptrdiff_t m, ptrdiff_t n_groups) {
    float a[4][MM_GROUPS];
    for (int t = 0; t < 4; t++)
        for (ptrdiff_t g = 0; g < n_groups; g++)
            a[t][g] = gf[g];
    ptrdiff_t j = 0;
    for (; j + 4 <= m; j += 4) {
        for (int t = 0; t < 4; t++) {
            float v = x[j + t], o = a[t][grp[j + t]];
            a[t][grp[j + t]] = v > o ? v : o;
        }
    }
    for (; j < m; j++) {
        float v = x[j], o = a[0][grp[j]];
        a[0][grp[j]] = v > o ? v : o;
    }
    for (ptrdiff_t g = 0; g < n_groups; g++) {
        float v = a[0][g];
        for (int t = 1; t < 4; t++)
            v = a[t][g] > v ? a[t][g] : v;
        gf[g] = v;
    }
}


/* The largest of x[0..n) and init (the same value as a walk in order: a maximum is exact): a
   mentor group's floor where a pass has its columns in group order (a contiguous range). The
   AVX2 form in two vector lanes (_mm256_max_ps(x, a) is "x > a ? x : a", as the walk): 0.06 ns
   an entry on one core here, where mm_group_max's scatter, a gather by each group's columns and
   a scalar walk by them all took 0.40-0.43 ns; GCC 12's own vector code for the lanes written in
   C was 0.15 ns at -O3 (0.06 at -O2). */
static inline float mm_range_max_plain(const float *restrict x, ptrdiff_t n, float init) {
    float a[4] = {init, init, init, init};
    ptrdiff_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (int t = 0; t < 4; t++)
            a[t] = x[j + t] > a[t] ? x[j + t] : a[t];
    for (; j < n; j++)
        a[0] = x[j] > a[0] ? x[j] : a[0];
    float v = a[0];
    for (int t = 1; t < 4; t++)
        v = a[t] > v ? a[t] : v;
    return v;
}

#ifdef MM_HAVE_CODES_AVX2
__attribute__((target("avx2"))) static float mm_range_max_avx2(const float *restrict x, ptrdiff_t n, float init) {
    __m256 a0 = _mm256_set1_ps(init), a1 = a0;
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16) {
        a0 = _mm256_max_ps(_mm256_loadu_ps(x + j), a0);
        a1 = _mm256_max_ps(_mm256_loadu_ps(x + j + 8), a1);
    }
    a0 = _mm256_max_ps(a1, a0);
    float b[8];
    _mm256_storeu_ps(b, a0);
    float v = mm_range_max_plain(x + j, n - j, init);
    for (int t = 0; t < 8; t++)
        v = b[t] > v ? b[t] : v;
    return v;
}
#endif

static float mm_range_max(const float *restrict x, ptrdiff_t n, float init) {
#ifdef MM_HAVE_CODES_AVX2
    if (mm_codes_fast())
        return mm_range_max_avx2(x, n, init);
#endif
    return mm_range_max_plain(x, n, init);
}

/* The largest float below v (-inf and NaN as they are): "x > mm_below(v)" is "x >= v" for a
   finite v, for the chunk tests, which only test ">". */
static inline float mm_below(float v) {
    union { float f; uint32_t u; } b;
    b.f = v;
    if (v != v || b.u == 0xff800000u)
        return v;
    if (b.u == 0u) /* +0: the negative closest to 0 */
        b.u = 0x80000001u;
    else if (b.u & 0x80000000u)
        b.u += 1;
    else
        b.u -= 1;
    return b.f;
}

#endif
