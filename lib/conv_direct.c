/* conv_direct.c - stride-1 convolution forward straight from a padded image (AVX-512).
 *
 * The output of one image is cut into tiles of two 16-pixel vectors (each
 * within one output row; the last of a row is masked when OW is not a
 * multiple of 16) by 8 output channels: 16 accumulators. For every tap
 * k = (c, kh, kw) the kernel loads the two input vectors at the tap's shift
 * from the zero-padded image and multiplies them by 8 broadcast weights, so
 * the im2col matrix is never formed. The weights are packed once per call,
 * 8 output channels at a time, and k runs in the same order as in the GEMM
 * path, one fused multiply-add per k. */
#include <omp.h>
#include <stddef.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "conv_direct.h"
#include "scratch.h"

enum { NR = 8, VL = 16, TAPS_MAX = 64 };

/* Vectors per output row, and whether they waste at most a quarter of their lanes. */
static int row_vectors(int OW) { return (OW + VL - 1) / VL; }

int conv_direct_applies(const gemm_conv_geom *g) {
#if defined(__AVX512F__)
    return g->stride == 1 && g->pad >= 0 && g->C > 0 && g->KH > 0 && g->KW > 0 &&
           g->KH * g->KW <= TAPS_MAX && g->OH == g->H + 2 * g->pad - g->KH + 1 &&
           g->OW == g->W + 2 * g->pad - g->KW + 1 && g->OH > 0 &&
           4 * g->OW >= 3 * VL * row_vectors(g->OW);
#else
    (void)g;
    return 0;
#endif
}

#if defined(__AVX512F__)
static _Thread_local scratch_t padded_buf; /* one padded image per thread */
static _Thread_local scratch_t weights_buf; /* the calling thread's packed weights */

/* wp[t][k][j] = w[t*NR + j][k], zero for channels past OC. */
static void pack_weights(float *wp, const float *w, int OC, int K) {
    for (int t = 0; t < (OC + NR - 1) / NR; t++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < NR; j++) {
                const int oc = t * NR + j;
                wp[((size_t)t * K + k) * NR + j] = oc < OC ? w[(size_t)oc * K + k] : 0.0f;
            }
}

/* The image's interior into the padded buffer, whose border stays zero. */
static void copy_interior(float *xp, const float *x, const gemm_conv_geom *g, int PH, int PW) {
    for (int c = 0; c < g->C; c++)
        for (int h = 0; h < g->H; h++)
            memcpy(xp + ((size_t)c * PH + h + g->pad) * PW + g->pad,
                   x + ((size_t)c * g->H + h) * g->W, sizeof(float) * g->W);
}

typedef struct {
    const float *xp;   /* padded image */
    size_t plane;      /* floats per padded channel */
    int C, taps;       /* channels, KH*KW */
    const int *tap;    /* offset of tap (kh, kw) in a padded plane: kh*PW + kw */
} conv_in;

/* acc[j] (vector 0) and acc[NR + j] (vector 1) for the 8 channels of wk
 * (vector 1 only when two): sum over k of input vector at in + off * w[k][j]. */
static inline __attribute__((always_inline)) void conv_tile(const conv_in *in, const float *wk,
                                                            ptrdiff_t off0, __mmask16 m0,
                                                            ptrdiff_t off1, __mmask16 m1, int two,
                                                            __m512 acc[2 * NR]) {
    /* Locals, written to acc once at the end: accumulating into acc[] itself
     * made GCC store every register back to the stack on every k. */
    __m512 c0[NR], c1[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; j++) c0[j] = c1[j] = _mm512_setzero_ps();
    for (int c = 0; c < in->C; c++) {
        const float *p = in->xp + (size_t)c * in->plane;
        for (int t = 0; t < in->taps; t++, wk += NR) {
            const float *q = p + in->tap[t];
            const __m512 a0 = _mm512_maskz_loadu_ps(m0, q + off0);
            const __m512 a1 = two ? _mm512_maskz_loadu_ps(m1, q + off1) : a0;
#pragma GCC unroll 8
            for (int j = 0; j < NR; j++) {
                const __m512 b = _mm512_set1_ps(wk[j]);
                c0[j] = _mm512_fmadd_ps(a0, b, c0[j]);
                if (two) c1[j] = _mm512_fmadd_ps(a1, b, c1[j]);
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < NR; j++) acc[j] = c0[j], acc[NR + j] = c1[j];
}

/* out[j][o..] = acc + beta * out for the tile's nr valid channels. */
static inline void store_vector(float *o, size_t P, int nr, __mmask16 m, const __m512 *acc,
                                float beta) {
    for (int j = 0; j < nr; j++, o += P) {
        __m512 v = acc[j];
        if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, o));
        _mm512_mask_storeu_ps(o, m, v);
    }
}

/* Vector v of an image's output: its first pixel in the padded input and in
 * the output, and its lanes. */
static void vector_at(const gemm_conv_geom *g, int PW, int v, ptrdiff_t *in_off, size_t *out_off,
                      __mmask16 *mask) {
    const int per_row = row_vectors(g->OW), oh = v / per_row, ow = v % per_row * VL;
    const int lanes = g->OW - ow < VL ? g->OW - ow : VL;
    *in_off = (ptrdiff_t)oh * PW + ow;
    *out_off = (size_t)oh * g->OW + ow;
    *mask = (__mmask16)((1u << lanes) - 1u);
}

static void conv_image(const conv_in *in, const gemm_conv_geom *g, int PW, const float *wp, int OC,
                       float beta, float *y) {
    const int K = in->C * in->taps, vectors = g->OH * row_vectors(g->OW);
    const size_t P = (size_t)g->OH * g->OW;
    __m512 acc[2 * NR];
    for (int t = 0; t < (OC + NR - 1) / NR; t++) {
        const float *wk = wp + (size_t)t * K * NR;
        const int nr = OC - t * NR < NR ? OC - t * NR : NR;
        float *yt = y + (size_t)t * NR * P;
        for (int v = 0; v < vectors; v += 2) {
            ptrdiff_t i0, i1 = 0;
            size_t o0, o1 = 0;
            __mmask16 m0, m1 = 0;
            vector_at(g, PW, v, &i0, &o0, &m0);
            if (v + 1 < vectors) {
                vector_at(g, PW, v + 1, &i1, &o1, &m1);
                conv_tile(in, wk, i0, m0, i1, m1, 1, acc);
                store_vector(yt + o1, P, nr, m1, acc + NR, beta);
            } else {
                conv_tile(in, wk, i0, m0, 0, 0, 0, acc);
            }
            store_vector(yt + o0, P, nr, m0, acc, beta);
        }
    }
}
#endif

int conv_direct_batch(int OC, int N, const float *w, const float *images, const gemm_conv_geom *g,
                      float beta, float *out, int threads) {
#if defined(__AVX512F__)
    if (OC <= 0 || N <= 0 || !conv_direct_applies(g)) return -1;
    const int PH = g->H + 2 * g->pad, PW = g->W + 2 * g->pad, taps = g->KH * g->KW;
    const int K = g->C * taps;
    const size_t plane = (size_t)PH * PW, padded = (size_t)g->C * plane;
    const size_t in_img = (size_t)g->C * g->H * g->W, out_img = (size_t)OC * g->OH * g->OW;
    float *wp = scratch_reserve(&weights_buf, (size_t)(OC + NR - 1) / NR * NR * K);
    if (!wp) return -1;
    pack_weights(wp, w, OC, K);
    int tap[TAPS_MAX];
    for (int t = 0; t < taps; t++) tap[t] = t / g->KW * PW + t % g->KW;
    if (threads > N) threads = N;
    if (threads < 1) threads = 1;
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        float *xp = scratch_reserve(&padded_buf, padded);
        if (!xp) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        if (!failed) { /* all or nothing: out is untouched otherwise */
            memset(xp, 0, padded * sizeof(float)); /* the border, for the whole call */
            const conv_in in = {.xp = xp, .plane = plane, .C = g->C, .taps = taps, .tap = tap};
#pragma omp for schedule(static)
            for (int n = 0; n < N; n++) {
                copy_interior(xp, images + n * in_img, g, PH, PW);
                conv_image(&in, g, PW, wp, OC, beta, out + n * out_img);
            }
        }
    }
    if (failed) return -1;
    return 0;
#else
    (void)OC, (void)N, (void)w, (void)images, (void)g, (void)beta, (void)out, (void)threads;
    return -1;
#endif
}
