/* simd16.h - AVX-512 helpers shared by the kernels of kern/ (internal). */
#ifndef DPPF_SIMD16_H
#define DPPF_SIMD16_H

#if defined(__AVX512F__)
#include <immintrin.h>

/* r[i] = row i of a 16x16 block -> r[j] = column j. */
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* r[4q+m], 128-bit lane L: rows 4q..4q+3 of column 4L+m */
    for (int i = 0; i < 16; i += 4) {
        const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 2]);
        const __m512d c = _mm512_castps_pd(t[i + 1]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int m = 0; m < 4; m++) { /* gather lane L of the four row groups */
        const __m512 a01 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x44);
        const __m512 a23 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xEE);
        const __m512 b01 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x44);
        const __m512 b23 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xEE);
        t[m] = _mm512_shuffle_f32x4(a01, b01, 0x88);
        t[4 + m] = _mm512_shuffle_f32x4(a01, b01, 0xDD);
        t[8 + m] = _mm512_shuffle_f32x4(a23, b23, 0x88);
        t[12 + m] = _mm512_shuffle_f32x4(a23, b23, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}


/* The first n lanes (n clipped to 0..16). */
static inline __mmask16 lanes16(int n) {
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* dst[0..n) = src[0..n): for the short rows (tens of floats) of the padded
 * copies, where a call of memcpy costs about as much as the copy. */
static inline void copy_row16(float *dst, const float *src, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
    if (i < n) {
        const __mmask16 m = lanes16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
    }
}

/* The C planes of an H x W image into the interiors of padded planes (`plane`
 * floats apart, `row` floats a row, a border of pad): the border is left as
 * it is, zeroed once by the caller for all the images that reuse the buffer. */
static inline void copy_planes_padded16(float *xp, size_t plane, int row, const float *x, int C,
                                        int H, int W, int pad) {
    for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
            copy_row16(xp + c * plane + (size_t)(h + pad) * row + pad, x + ((size_t)c * H + h) * W, W);
}
#endif

#endif
