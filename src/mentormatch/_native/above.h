/* The screen of mentormatch._native.gather.above_pairs over a whole row, in plain C so that the
   compiler vectorises it (portable flags; an AVX2 clone chosen on the CPU that runs it, as in
   loops.h). */
#ifndef MENTORMATCH_NATIVE_ABOVE_H
#define MENTORMATCH_NATIVE_ABOVE_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) \
    && defined(__has_attribute)
#if __has_attribute(target_clones)
#define MM_ABOVE_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef MM_ABOVE_CLONES
#define MM_ABOVE_CLONES
#endif

/* flag[j] = 1 where a[j] + lm * r[j] >= thr and p[j] >= pn, else 0 (j < m); returns the count
   of 1s. A screen: its float32 rounding (an FMA or not) is covered by the caller's thr, and the
   pairs it keeps are tested again in float64. */
MM_ABOVE_CLONES static ptrdiff_t mm_above_flags(const float *restrict a, const float *restrict r,
                                                const float *restrict p, float lm, float thr, float pn,
                                                uint8_t *restrict flag, ptrdiff_t m) {
    ptrdiff_t hits = 0;
    for (ptrdiff_t j = 0; j < m; j++) {
        uint8_t f = (uint8_t)((a[j] + lm * r[j] >= thr) & (p[j] >= pn));
        flag[j] = f;
        hits += f;
    }
    return hits;
}

/* The positions of the 1s of flag[0..m) (each 0 or 1), in order, into out; returns their count.
   Eight flags at a time: a multiply gathers them into the top byte (flag i to bit 56 + i: the
   partial products land on distinct bits, so nothing carries), and the set bits are read by
   their count of trailing zeros: a word of no 1s costs a load and a test (a store and an add
   a flag cost 0.5-1 ns a pair, more than the screen itself). Little-endian GCC/clang only (the
   flags' order in the word, __builtin_ctzll); elsewhere the plain loop. */
static inline ptrdiff_t mm_flagged(const uint8_t *restrict flag, ptrdiff_t m, int64_t *restrict out) {
    ptrdiff_t cnt = 0, j = 0;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; j + 8 <= m; j += 8) {
        uint64_t x;
        memcpy(&x, flag + j, 8);
        if (!x)
            continue;
        uint64_t bits = (x * 0x0102040810204080ULL) >> 56;
        while (bits) {
            out[cnt++] = j + __builtin_ctzll(bits);
            bits &= bits - 1;
        }
    }
#endif
    for (; j < m; j++) {
        out[cnt] = j;
        cnt += flag[j];
    }
    return cnt;
}
#endif
