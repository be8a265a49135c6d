/* pool.c - the 2x2, stride-2 max pool of a plane (see pool.h).
 *
 * Scalar: the comparisons as selects, so that they do not depend on branch
 * prediction. AVX-512: 16 outputs at a time, the window's four inputs taken
 * from the even and odd lanes of 32 floats of each row and compared in the
 * same order, so the values and indices are the scalar code's. Why: the
 * scalar loop was 45% of an eval forward of the quickstart CNN (a loss
 * landscape's whole cost). */
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <stddef.h>

#include "pool.h"

static inline void pool_one(float *y, int32_t *am, const float *r0, const float *r1, int32_t i0,
                            int W) {
    float bv = r0[0], v;
    int32_t bi = i0;
    int take;
    v = r0[1], take = v > bv || v != v, bv = take ? v : bv, bi = take ? i0 + 1 : bi;
    v = r1[0], take = v > bv || v != v, bv = take ? v : bv, bi = take ? i0 + W : bi;
    v = r1[1], take = v > bv || v != v, bv = take ? v : bv, bi = take ? i0 + W + 1 : bi;
    *y = bv;
    if (am) *am = bi;
}

#if defined(__AVX512F__)
/* One output row: r0, r1 the window's two input rows, i0 the flat index of r0[0]. */
static void pool_row_vec(float *y, int32_t *am, const float *r0, const float *r1, int32_t i0, int W,
                         int OW) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const int off[3] = {1, W, W + 1}; /* of the three later window elements */
    for (int ow = 0; ow < OW; ow += 16) {
        const int n = OW - ow < 16 ? OW - ow : 16, in = 2 * n; /* inputs 2ow.., all < W */
        const __mmask16 m = (__mmask16)((1u << n) - 1u);
        const __mmask16 lo = (__mmask16)(in >= 16 ? 0xFFFFu : (1u << in) - 1u);
        const __mmask16 hi = (__mmask16)(in <= 16 ? 0u : (1u << (in - 16)) - 1u);
        const float *p0 = r0 + 2 * ow, *p1 = r1 + 2 * ow;
        const __m512 a0 = _mm512_maskz_loadu_ps(lo, p0), a1 = _mm512_maskz_loadu_ps(hi, p0 + 16);
        const __m512 b0 = _mm512_maskz_loadu_ps(lo, p1), b1 = _mm512_maskz_loadu_ps(hi, p1 + 16);
        const __m512 cand[3] = {_mm512_permutex2var_ps(a0, odd, a1),
                                _mm512_permutex2var_ps(b0, even, b1),
                                _mm512_permutex2var_ps(b0, odd, b1)};
        __m512 bv = _mm512_permutex2var_ps(a0, even, a1);
        __mmask16 took[3];
        for (int q = 0; q < 3; q++) {
            const __m512 v = cand[q];
            took[q] = _mm512_cmp_ps_mask(v, bv, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            bv = _mm512_mask_mov_ps(bv, took[q], v);
        }
        _mm512_mask_storeu_ps(y + ow, m, bv);
        if (!am) continue;
        /* lane j's window starts at i0 + 2 (ow + j) */
        const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(i0 + 2 * ow), even);
        __m512i bi = base;
        for (int q = 0; q < 3; q++)
            bi = _mm512_mask_mov_epi32(bi, took[q], _mm512_add_epi32(base, _mm512_set1_epi32(off[q])));
        _mm512_mask_storeu_epi32(am + ow, m, bi);
    }
}
#endif

void maxpool2x2_plane(float *y, int32_t *am, const float *x, int W, int OH, int OW) {
    for (int oh = 0; oh < OH; oh++) {
        const float *r0 = x + (size_t)2 * oh * W, *r1 = r0 + W;
        float *yr = y + (size_t)oh * OW;
        int32_t *ar = am ? am + (size_t)oh * OW : NULL;
#if defined(__AVX512F__)
        pool_row_vec(yr, ar, r0, r1, 2 * oh * W, W, OW);
#else
        for (int ow = 0; ow < OW; ow++)
            pool_one(yr + ow, ar ? ar + ow : NULL, r0 + 2 * ow, r1 + 2 * ow, 2 * oh * W + 2 * ow, W);
#endif
    }
}
