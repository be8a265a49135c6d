/* conv_direct.c - convolution forward straight from a padded image (AVX-512).
 *
 * The output of one image is cut into tiles of two 16-pixel vectors (each
 * within one output row, the last of a row masked when OW is not a multiple
 * of 16; or two output rows of 6-8 pixels) by 8 output channels: 16
 * accumulators. For every tap k = (c, kh, kw) the kernel loads the two input
 * vectors at the tap's shift from the zero-padded image (stored as column
 * phases for stride 2, see padded_layout) and multiplies them by 8 broadcast
 * weights, so the im2col matrix is never formed. The weights are packed once
 * per call, 8 output channels at a time, and k runs in the same order as in
 * the GEMM path, one fused multiply-add per k. An epilogue (eval-mode BN and
 * ReLU) can be applied as the vectors are stored. */
#include <omp.h>
#include <stddef.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "conv_direct.h"
#include "parallel.h"
#include "pool.h"
#include "scratch.h"
#include "simd16.h"

enum { NR = 8, VL = 16, TAPS_MAX = 64 };

#if defined(__AVX512F__)
/* Output rows of 6 to 8 pixels go two to a vector (a "split" vector: its
 * halves read two input rows); longer rows are cut into vectors of 16,
 * the last one masked. Either way at most a quarter of the lanes idle. */
static int split_rows(int OW) { return OW >= 6 && OW <= VL / 2; }
static int row_vectors(int OW) { return (OW + VL - 1) / VL; }
static int fits_vectors(int OW) { return split_rows(OW) || 4 * OW >= 3 * VL * row_vectors(OW); }
#endif

int conv_direct_applies(const conv_geom *g) {
#if defined(__AVX512F__)
    const int s = g->stride;
    return (s == 1 || s == 2) && g->pad >= 0 && g->C > 0 && g->KH > 0 && g->KW > 0 &&
           g->KH * g->KW <= TAPS_MAX && g->H + 2 * g->pad >= g->KH &&
           g->W + 2 * g->pad >= g->KW && g->OH == (g->H + 2 * g->pad - g->KH) / s + 1 &&
           g->OW == (g->W + 2 * g->pad - g->KW) / s + 1 && fits_vectors(g->OW);
#else
    (void)g;
    return 0;
#endif
}

#if defined(__AVX512F__)
static _Thread_local scratch_t padded_buf; /* one padded image per thread */
static _Thread_local scratch_t image_buf;  /* one image's output before pooling, per thread */
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

/* A channel of the zero-padded image (PH x PW) is stored as `stride` column
 * phases: padded element (h, w) at (w % s)*phase + h*PWs + w/s. The input of
 * tap (kh, kw) for output column ow is then column ow + kw/s of phase kw % s,
 * so 16 consecutive output pixels read 16 consecutive floats at either stride. */
typedef struct {
    int s, PH, PWs;      /* stride, padded rows, columns per phase */
    size_t phase, plane; /* floats per phase and per channel */
} padded_layout;

static padded_layout layout_of(const conv_geom *g) {
    padded_layout L = {.s = g->stride, .PH = g->H + 2 * g->pad};
    L.PWs = (g->W + 2 * g->pad + L.s - 1) / L.s;
    L.phase = (size_t)L.PH * L.PWs;
    L.plane = L.phase * L.s;
    return L;
}

/* The image's interior into the padded buffer, whose border stays zero. */
static void copy_interior(float *xp, const float *x, const conv_geom *g,
                          const padded_layout *L) {
    const int pad = g->pad, W = g->W;
    if (L->s == 1) {
        copy_planes_padded16(xp, L->plane, L->PWs, x, g->C, g->H, W, pad);
        return;
    }
    /* Stride 2: 32 input floats at a time split into even and odd columns. */
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int c = 0; c < g->C; c++)
        for (int h = 0; h < g->H; h++) {
            const float *row = x + ((size_t)c * g->H + h) * W;
            float *dst = xp + c * L->plane + (size_t)(h + pad) * L->PWs;
            for (int w0 = 0; w0 < W; w0 += 2 * VL) {
                const int n = W - w0 < 2 * VL ? W - w0 : 2 * VL;
                const __m512 a = _mm512_maskz_loadu_ps(lanes16(n), row + w0);
                const __m512 b = _mm512_maskz_loadu_ps(lanes16(n - VL), row + w0 + VL);
                /* columns w0 + 2i (n+1)/2 of them, and w0 + 2i + 1, n/2; padded: */
                const int we = w0 + pad, wo = w0 + 1 + pad;
                _mm512_mask_storeu_ps(dst + (we % 2) * L->phase + we / 2, lanes16((n + 1) / 2),
                                      _mm512_permutex2var_ps(a, even, b));
                _mm512_mask_storeu_ps(dst + (wo % 2) * L->phase + wo / 2, lanes16(n / 2),
                                      _mm512_permutex2var_ps(a, odd, b));
            }
        }
}

typedef struct {
    const float *xp;   /* padded image */
    size_t plane;      /* floats per padded channel */
    int C, taps;       /* channels, KH*KW */
    const int *tap;    /* offset of tap (kh, kw) in a padded channel (see padded_layout) */
} conv_in;

/* 16 output pixels, contiguous in the output. Lane l of lo reads the padded
 * input at in + l, lane l of hi (split vectors only) at in_hi + l. */
typedef struct {
    ptrdiff_t in, in_hi;
    size_t out;
    __mmask16 lo, hi;
} conv_vec;

/* row: floats from one output row's input to the next's (stride x PWs). */
static conv_vec vector_at(const conv_geom *g, int row, int v) {
    conv_vec x = {0};
    if (split_rows(g->OW)) {
        const int oh = 2 * v, OW = g->OW;
        x.in = (ptrdiff_t)oh * row;
        x.in_hi = (ptrdiff_t)(oh + 1) * row - OW;
        x.out = (size_t)oh * OW;
        x.lo = lanes16(OW);
        x.hi = oh + 1 < g->OH ? lanes16(2 * OW) & ~lanes16(OW) : 0;
        return x;
    }
    const int per_row = row_vectors(g->OW), oh = v / per_row, ow = v % per_row * VL;
    x.in = (ptrdiff_t)oh * row + ow;
    x.out = (size_t)oh * g->OW + ow;
    x.lo = lanes16(g->OW - ow);
    return x;
}

static int image_vectors(const conv_geom *g) {
    return split_rows(g->OW) ? (g->OH + 1) / 2 : g->OH * row_vectors(g->OW);
}

static inline __attribute__((always_inline)) __m512 load_vec(const float *q, const conv_vec *x,
                                                             int split) {
    const __m512 a = _mm512_maskz_loadu_ps(x->lo, q + x->in);
    return split ? _mm512_mask_loadu_ps(a, x->hi, q + x->in_hi) : a;
}

/* acc[j] (vector x0) and acc[NR + j] (vector x1, only when two) for the 8
 * channels of wk: the sum over k of the input vector at the tap's shift
 * times w[k][j]. */
static inline __attribute__((always_inline)) void conv_tile(const conv_in *in, const float *wk,
                                                            const conv_vec *x0, const conv_vec *x1,
                                                            int two, int split, __m512 acc[2 * NR]) {
    /* Locals, written to acc once at the end: accumulating into acc[] itself
     * made GCC store every register back to the stack on every k. */
    __m512 c0[NR], c1[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; j++) c0[j] = c1[j] = _mm512_setzero_ps();
    for (int c = 0; c < in->C; c++) {
        const float *p = in->xp + (size_t)c * in->plane;
        for (int t = 0; t < in->taps; t++, wk += NR) {
            const float *q = p + in->tap[t];
            const __m512 a0 = load_vec(q, x0, split);
            const __m512 a1 = two ? load_vec(q, x1, split) : a0;
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

/* out[j][x..] = acc + beta * out for the tile's nr valid channels, then
 * the epilogue of channel oc0 + j (conv_epilogue_apply: the same on plain floats). */
static inline void store_vec(float *y, size_t P, int nr, const conv_vec *x, const __m512 *acc,
                             float beta, const conv_epilogue *ep, int oc0) {
    const __mmask16 m = x->lo | x->hi;
    const __m512 zero = _mm512_setzero_ps();
    float *o = y + x->out;
    for (int j = 0; j < nr; j++, o += P) {
        __m512 v = acc[j];
        if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, o));
        if (ep) {
            v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(ep->scale[oc0 + j])),
                              _mm512_set1_ps(ep->shift[oc0 + j]));
            if (ep->relu) v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
        }
        _mm512_mask_storeu_ps(o, m, v);
    }
}

static inline __attribute__((always_inline)) void conv_tiles(const conv_in *in,
                                                             const conv_geom *g, int row,
                                                             const float *wk, int nr, float beta,
                                                             const conv_epilogue *ep, int oc0,
                                                             float *yt, int split) {
    const int vectors = image_vectors(g);
    const size_t P = (size_t)g->OH * g->OW;
    __m512 acc[2 * NR];
    for (int v = 0; v < vectors; v += 2) {
        const conv_vec x0 = vector_at(g, row, v);
        if (v + 1 < vectors) {
            const conv_vec x1 = vector_at(g, row, v + 1);
            conv_tile(in, wk, &x0, &x1, 1, split, acc);
            store_vec(yt, P, nr, &x1, acc + NR, beta, ep, oc0);
        } else {
            conv_tile(in, wk, &x0, &x0, 0, split, acc);
        }
        store_vec(yt, P, nr, &x0, acc, beta, ep, oc0);
    }
}

static void conv_image(const conv_in *in, const conv_geom *g, int row, const float *wp, int OC,
                       float beta, const conv_epilogue *ep, float *y) {
    const int K = in->C * in->taps, split = split_rows(g->OW);
    const size_t P = (size_t)g->OH * g->OW;
    for (int t = 0; t < (OC + NR - 1) / NR; t++) {
        const float *wk = wp + (size_t)t * K * NR;
        const int nr = OC - t * NR < NR ? OC - t * NR : NR;
        float *yt = y + (size_t)t * NR * P;
        if (split)
            conv_tiles(in, g, row, wk, nr, beta, ep, t * NR, yt, 1);
        else
            conv_tiles(in, g, row, wk, nr, beta, ep, t * NR, yt, 0);
    }
}

/* Image n's output: straight into out, or (pool) into a buffer of this
 * thread's, pooled from there into out while it is still in cache. */
static void conv_one(const conv_in *in, const conv_geom *g, int row, const float *wp, int OC,
                     float beta, const conv_epilogue *ep, float *y, float *full) {
    if (!full) {
        conv_image(in, g, row, wp, OC, beta, ep, y);
        return;
    }
    conv_image(in, g, row, wp, OC, beta, ep, full);
    const int OH = g->OH, OW = g->OW;
    for (int oc = 0; oc < OC; oc++)
        maxpool2x2_plane(y + (size_t)oc * (OH / 2) * (OW / 2), NULL, full + (size_t)oc * OH * OW,
                         OW, OH / 2, OW / 2);
}
#endif

int conv_direct_batch(int OC, int N, const float *w, const float *images, const conv_geom *g,
                      float beta, float *out, const conv_epilogue *ep, int threads) {
#if defined(__AVX512F__)
    if (OC <= 0 || N <= 0 || !conv_direct_applies(g)) return -1;
    const int pool = ep && ep->pool;
    if (pool && (beta != 0.0f || g->OH < 2 || g->OW < 2)) return -1;
    const padded_layout L = layout_of(g);
    const int taps = g->KH * g->KW, row = L.s * L.PWs;
    const int K = g->C * taps;
    const size_t plane = L.plane, padded = (size_t)g->C * plane;
    const size_t in_img = (size_t)g->C * g->H * g->W, full = (size_t)OC * g->OH * g->OW;
    const size_t out_img = pool ? (size_t)OC * (g->OH / 2) * (g->OW / 2) : full;
    float *wp = scratch_reserve(&weights_buf, (size_t)(OC + NR - 1) / NR * NR * K);
    if (!wp) return -1;
    pack_weights(wp, w, OC, K);
    int tap[TAPS_MAX];
    for (int t = 0; t < taps; t++) {
        const int kh = t / g->KW, kw = t % g->KW;
        tap[t] = (int)((size_t)(kw % L.s) * L.phase + (size_t)kh * L.PWs + kw / L.s);
    }
    if (threads > N) threads = N;
    if (threads < 1) threads = 1;
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        float *xp = scratch_reserve(&padded_buf, padded);
        float *yfull = pool ? scratch_reserve(&image_buf, full) : NULL;
        if (!xp || (pool && !yfull)) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        if (!failed) { /* all or nothing: out is untouched otherwise */
            memset(xp, 0, padded * sizeof(float)); /* the border, for the whole call */
            const conv_in in = {.xp = xp, .plane = plane, .C = g->C, .taps = taps, .tap = tap};
#pragma omp for schedule(static)
            for (int n = 0; n < N; n++) {
                copy_interior(xp, images + n * in_img, g, &L);
                conv_one(&in, g, row, wp, OC, beta, ep, out + n * out_img, yfull);
            }
        }
    }
    if (failed) return -1;
    return 0;
#else
    (void)OC, (void)N, (void)w, (void)images, (void)g, (void)beta, (void)out, (void)ep;
    (void)threads;
    return -1;
#endif
}

static inline float epilogue1(float y, float scale, float shift, int relu) {
    y = y * scale + shift; /* two roundings, as the vector code (C11: no contraction) */
    return relu && y < 0.0f ? 0.0f : y;
}

void conv_epilogue_apply(float *out, int N, int C, size_t HW, const conv_epilogue *ep) {
#pragma omp parallel for schedule(static) if ((size_t)N * C * HW >= PAR_MIN)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float *y = out + ((size_t)n * C + c) * HW;
            const float scale = ep->scale[c], shift = ep->shift[c];
            for (size_t i = 0; i < HW; i++) y[i] = epilogue1(y[i], scale, shift, ep->relu);
        }
}
