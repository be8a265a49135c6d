/* conv_wgrad.c - a 3x3 convolution's weight gradient straight from the images (see conv_wgrad.h).
 *
 * Work is cut into tiles of 16 or 32 output channels x one input channel's
 * 9 taps: 9 or 18 vector accumulators, one lane per weight. A tile runs
 * over the batch's pixels in order, so its weights' sums do not depend on
 * which thread runs it. The batch goes through in chunks of images: the
 * threads copy the chunk's images into padded planes (their borders zeroed
 * once a call) and transpose its output gradients, then
 * share out the tiles; a tile's accumulators are kept between chunks when a
 * k block spans two. */
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "conv_wgrad.h"
#include "scratch.h"
#include "simd16.h"

enum { TAPS = 9, VL = 16 };
/* Padded images and transposed gradients of one chunk: about 4 MB, so
 * that they stay in L2/L3 while every tile reads them. */
#define CHUNK_FLOATS ((size_t)1 << 20)

int conv_wgrad_applies(int OC, const conv_geom *g) {
#if defined(__AVX512F__)
    return OC > 0 && OC % VL == 0 && g->KH == 3 && g->KW == 3 && g->C > 0 && g->stride >= 1 &&
           g->pad >= 0 && g->OH > 0 && g->OW > 0 && g->H > 0 && g->W > 0;
#else
    (void)OC, (void)g;
    return 0;
#endif
}

#if defined(__AVX512F__)
static _Thread_local scratch_t wgrad_buf;

/* dT[p][oc] = d[oc][p] for one image, 16 x 16 blocks at a time. */
static void transpose_grad(float *dT, const float *d, int OC, int P) {
    for (int o0 = 0; o0 < OC; o0 += VL)
        for (int p0 = 0; p0 < P; p0 += VL) {
            const int np = P - p0 < VL ? P - p0 : VL;
            const __mmask16 m = lanes16(np);
            __m512 r[VL];
            for (int i = 0; i < VL; i++) r[i] = _mm512_maskz_loadu_ps(m, d + (size_t)(o0 + i) * P + p0);
            transpose16(r);
            for (int j = 0; j < np; j++) _mm512_storeu_ps(dT + (size_t)(p0 + j) * OC + o0, r[j]);
        }
}

typedef struct {
    int OC, C, P, kc, V; /* V: vectors of 16 output channels per tile */
    long G;              /* pixels of the batch */
    size_t plane, img_x, img_d;
    const int *pix;      /* pixel p's top-left input in a padded plane */
    int tap[TAPS];       /* tap t's offset from it */
    float *dw;
} wgrad_job;

/* acc (V x 9 vectors) into dw, lane l of vector (v, t) to weight
 * (oc0 + 16 v + l, c, t): the GEMM's "C += this block's sums". */
static void flush(const wgrad_job *j, __m512 *acc, int oc0, int c) {
    float lane[VL];
    const size_t CKK = (size_t)j->C * TAPS;
    for (int v = 0; v < j->V; v++)
        for (int t = 0; t < TAPS; t++) {
            _mm512_storeu_ps(lane, acc[v * TAPS + t]);
            float *w = j->dw + (size_t)(oc0 + v * VL) * CKK + (size_t)c * TAPS + t;
            for (int l = 0; l < VL; l++) w[l * CKK] += lane[l];
            acc[v * TAPS + t] = _mm512_setzero_ps();
        }
}

/* One tile over the chunk's pixels [g0, g1) (images n0.. in xp and dT);
 * state: its accumulators, carried in from the previous chunk and out to
 * the next. V is a constant in each caller, so the accumulators stay in
 * registers. */
static inline __attribute__((always_inline)) void tile_run(const wgrad_job *j, int V, int oc0, int c,
                                                           const float *xp, const float *dT, long n0,
                                                           long g0, long g1, float *state) {
    __m512 acc[2 * TAPS];
    for (int i = 0; i < V * TAPS; i++) acc[i] = _mm512_loadu_ps(state + (size_t)i * VL);
    const int P = j->P, OC = j->OC;
    for (long gi = g0; gi < g1;) {
        const long n = gi / P, blk_end = (gi / j->kc + 1) * j->kc, img_end = (n + 1) * P;
        long end = g1 < blk_end ? g1 : blk_end;
        if (img_end < end) end = img_end;
        const float *x = xp + (size_t)(n - n0) * j->img_x + (size_t)c * j->plane;
        const float *d = dT + (size_t)(n - n0) * j->img_d + oc0;
        for (int q = (int)(gi - n * P), qe = (int)(end - n * P); q < qe; q++) {
            const float *xq = x + j->pix[q];
            const __m512 d0 = _mm512_loadu_ps(d + (size_t)q * OC);
            const __m512 d1 = V == 2 ? _mm512_loadu_ps(d + (size_t)q * OC + VL) : d0;
#pragma GCC unroll 9
            for (int t = 0; t < TAPS; t++) {
                const __m512 b = _mm512_set1_ps(xq[j->tap[t]]);
                acc[t] = _mm512_fmadd_ps(d0, b, acc[t]);
                if (V == 2) acc[TAPS + t] = _mm512_fmadd_ps(d1, b, acc[TAPS + t]);
            }
        }
        gi = end;
        if (gi == blk_end || gi == j->G) flush(j, acc, oc0, c); /* a k block is complete */
    }
    for (int i = 0; i < V * TAPS; i++) _mm512_storeu_ps(state + (size_t)i * VL, acc[i]);
}
#endif

int conv_wgrad_direct(int OC, int N, const float *dout, const float *images, const conv_geom *g,
                      int kc, float *dw, int threads) {
#if defined(__AVX512F__)
    if (N <= 0 || kc < 1 || !conv_wgrad_applies(OC, g)) return -1;
    const int PH = g->H + 2 * g->pad, PW = g->W + 2 * g->pad, P = g->OH * g->OW, C = g->C;
    wgrad_job j = {.OC = OC, .C = C, .P = P, .kc = kc, .V = OC % (2 * VL) == 0 ? 2 : 1,
                   .G = (long)N * P, .dw = dw};
    j.plane = (size_t)PH * PW;
    j.img_x = (size_t)C * j.plane;
    j.img_d = (size_t)P * OC;
    for (int t = 0; t < TAPS; t++) j.tap[t] = t / 3 * PW + t % 3;
    const size_t per_image = j.img_x + j.img_d;
    int chunk = (int)(CHUNK_FLOATS / per_image);
    if (chunk < 1) chunk = 1;
    if (chunk > N) chunk = N;
    const int groups = OC / (j.V * VL), tiles = groups * C;
    const size_t state_floats = (size_t)tiles * j.V * TAPS * VL;
    /* one buffer: chunk images, chunk gradients, tile states, pixel offsets */
    float *buf = scratch_reserve(&wgrad_buf, (size_t)chunk * per_image + state_floats + (size_t)P);
    if (!buf) return -1;
    float *xp = buf, *dT = xp + (size_t)chunk * j.img_x, *state = dT + (size_t)chunk * j.img_d;
    int *pix = (int *)(state + state_floats);
    memset(state, 0, state_floats * sizeof(float));
    for (int p = 0; p < P; p++) pix[p] = p / g->OW * g->stride * PW + p % g->OW * g->stride;
    j.pix = pix;
    if (threads > tiles) threads = tiles;
    if (threads < 1) threads = 1;
#pragma omp parallel num_threads(threads)
    {
        /* The padded images' borders: zeroed once, never written by the copies. */
#pragma omp for schedule(static)
        for (int i = 0; i < chunk; i++) memset(xp + (size_t)i * j.img_x, 0, j.img_x * sizeof(float));
        for (int n0 = 0; n0 < N; n0 += chunk) {
            const int nc = N - n0 < chunk ? N - n0 : chunk;
#pragma omp for schedule(static)
            for (int i = 0; i < nc; i++) {
                copy_planes_padded16(xp + (size_t)i * j.img_x, j.plane, PW,
                                     images + (size_t)(n0 + i) * C * g->H * g->W, C, g->H, g->W,
                                     g->pad);
                transpose_grad(dT + (size_t)i * j.img_d, dout + (size_t)(n0 + i) * OC * P, OC, P);
            }
#pragma omp for schedule(static)
            for (int t = 0; t < tiles; t++) {
                const int oc0 = t / C * j.V * VL, c = t % C;
                float *st = state + (size_t)t * j.V * TAPS * VL;
                const long g0 = (long)n0 * P, g1 = (long)(n0 + nc) * P;
                if (j.V == 2)
                    tile_run(&j, 2, oc0, c, xp, dT, n0, g0, g1, st);
                else
                    tile_run(&j, 1, oc0, c, xp, dT, n0, g0, g1, st);
            }
        }
    }
    return 0;
#else
    (void)OC, (void)N, (void)dout, (void)images, (void)g, (void)kc, (void)dw, (void)threads;
    return -1;
#endif
}
