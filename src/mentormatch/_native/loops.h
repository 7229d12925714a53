/* The loops of mentormatch._native.scan that read a whole row, in plain C so that the
   compiler vectorises them (portable: no intrinsics, no -march flags). */
#ifndef MENTORMATCH_NATIVE_LOOPS_H
#define MENTORMATCH_NATIVE_LOOPS_H
#include <stddef.h>
#include <stdint.h>

#define MM_CHUNK 32

/* Whether any of x[0..MM_CHUNK) is above cut. */
static inline int mm_any_above(const float *restrict x, float cut) {
    int hit = 0;
    for (int t = 0; t < MM_CHUNK; t++)
        hit |= x[t] > cut;
    return hit;
}

/* Each column's maximum so far and the first row attaining it, updated with row r (x): a
   later row takes a column only when strictly above. (The row's choice by a mask, not a
   branch: GCC 12 vectorises this form at -O3, not "g ? r : best[j]".) */
static inline void mm_col_max(const float *restrict x, float *restrict top, int32_t *restrict best,
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
static inline void mm_add(float *restrict x, const float *restrict a, ptrdiff_t m) {
    for (ptrdiff_t j = 0; j < m; j++)
        x[j] += a[j];
}

/* Asks for the cache line at p ahead of its use (the next row, while this one is worked on
   from the cache), where the compiler can; else nothing. */
#if defined(__GNUC__) || defined(__clang__)
#define mm_prefetch(p) __builtin_prefetch((p), 0, 3)
#else
#define mm_prefetch(p) ((void)(p))
#endif
#endif
