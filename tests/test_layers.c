/* test_layers.c - every layer's forward against a double-precision reference
 * written here, and every backward against central finite differences of that
 * reference (objective sum(out * R) for a fixed random R, so d/dout = R).
 *
 * Finite differences run in double (h = 1e-5) on the float inputs promoted to
 * double, so the numeric gradient is accurate to ~1e-9 and the tolerance on our
 * float backward can be tight (1e-4 relative to the largest gradient entry);
 * an index or sign bug shows up as an O(1) relative error. Each backward is
 * also checked to ACCUMULATE into a pre-filled gradient. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "conv_direct.h"
#include "conv_wgrad.h"
#include "gemm_driver.h"
#include "gemm.h"
#include "kern_record.h"
#include "layers.h"
#include "rng.h"

#define FD_H 1e-5
#define FWD_TOL 1e-5  /* float forward vs double reference */
#define GRAD_TOL 1e-5 /* float backward vs double finite differences */
#define ACC_TOL 1e-5  /* pre-filled + fresh vs accumulated */

/* ---- helpers ------------------------------------------------------------ */

static void *xalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    cr_assert_not_null(p, "out of memory");
    return p;
}
static float *fzeros(size_t n) { return xalloc(n, sizeof(float)); }
static double *dzeros(size_t n) { return xalloc(n, sizeof(double)); }

static float *frandn(rng_t *r, size_t n, double scale) {
    float *p = fzeros(n);
    for (size_t i = 0; i < n; i++) p[i] = (float)(scale * rng_normal(r));
    return p;
}

static float *ffill(size_t n, float v) {
    float *p = fzeros(n);
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

static double *todouble(const float *x, size_t n) {
    double *d = dzeros(n);
    for (size_t i = 0; i < n; i++) d[i] = x ? x[i] : 0.0;
    return d;
}

/* max|got - want| / max(1e-6, max|want|); NaN in got counts as infinite error. */
static double relerr(const float *got, const double *want, size_t n, size_t *worst) {
    double num = 0.0, den = 0.0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= num)) {
            num = isnan(d) ? INFINITY : d;
            wi = i;
        }
        if (fabs(want[i]) > den) den = fabs(want[i]);
    }
    if (worst) *worst = wi;
    return num / (den > 1e-6 ? den : 1e-6);
}

static void expect_close(const char *what, const float *got, const double *want, size_t n,
                         double tol) {
    size_t wi;
    double e = relerr(got, want, n, &wi);
    cr_expect(e <= tol, "%s: relative error %.3g > %.0e (worst at [%zu]: got %.9g want %.9g)",
              what, e, tol, wi, n ? got[wi] : 0.0, n ? want[wi] : 0.0);
}

static void expect_close_f(const char *what, const float *got, const float *want, size_t n,
                           double tol) {
    double *w = todouble(want, n);
    expect_close(what, got, w, n, tol);
    free(w);
}

/* The M x N blocks of two row-major matrices with leading dimension ld agree
 * (got against want), and got's padding columns N..ld-1 still hold before's
 * values, bit for bit. */
static void expect_block_close(const char *what, const float *got, const float *want,
                               const float *before, int M, int N, int ld, double tol) {
    double *w = dzeros((size_t)M * N);
    float *g = fzeros((size_t)M * N);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            w[(size_t)i * N + j] = want[(size_t)i * ld + j];
            g[(size_t)i * N + j] = got[(size_t)i * ld + j];
        }
    expect_close(what, g, w, (size_t)M * N, tol);
    for (int i = 0; i < M; i++)
        cr_expect(memcmp(&got[(size_t)i * ld + N], &before[(size_t)i * ld + N],
                         sizeof(float) * (ld - N)) == 0,
                  "%s: padding of row %d was written", what, i);
    free(w), free(g);
}

/* after must equal pre + fresh: backward added instead of overwriting. */
static void expect_accumulated(const char *what, const float *after, const float *pre,
                               const float *fresh, size_t n) {
    double *want = dzeros(n);
    for (size_t i = 0; i < n; i++) want[i] = (double)pre[i] + fresh[i];
    expect_close(what, after, want, n, ACC_TOL);
    free(want);
}

/* Central differences of f with respect to each element of x (in place, restored). */
typedef double (*objective)(void *ctx);
static void fd_grad(objective f, void *ctx, double *x, size_t n, double *g) {
    for (size_t i = 0; i < n; i++) {
        double save = x[i];
        x[i] = save + FD_H;
        double fp = f(ctx);
        x[i] = save - FD_H;
        double fm = f(ctx);
        x[i] = save;
        g[i] = (fp - fm) / (2 * FD_H);
    }
}

static double dot(const double *a, const double *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* ---- gemm --------------------------------------------------------------- */

Test(gemm, ref_matches_hand_values) {
    /* A = [[1,2],[3,4]], B = [[5,6],[7,8]] stored row-major. */
    const float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
    const float want[4][4] = {{19, 22, 43, 50},  /* A B */
                              {17, 23, 39, 53},  /* A B^T */
                              {26, 30, 38, 44},  /* A^T B */
                              {23, 31, 34, 46}}; /* A^T B^T */
    for (int t = 0; t < 4; t++) {
        float C[4] = {NAN, NAN, NAN, NAN}, D[4] = {NAN, NAN, NAN, NAN};
        gemm_ref(t & 2, t & 1, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
        gemm(t & 2, t & 1, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, D, 2);
        for (int i = 0; i < 4; i++) {
            cr_expect_eq(C[i], want[t][i], "gemm_ref case %d [%d]: %g != %g", t, i, C[i],
                         want[t][i]);
            cr_expect_eq(D[i], want[t][i], "gemm case %d [%d]: %g != %g", t, i, D[i],
                         want[t][i]);
        }
    }
}

Test(gemm, blis_matches_ref_all_transposes_odd_sizes) {
    rng_t r;
    rng_init(&r, 1, 100);
    /* The last two cross dppf's blocking (KC, MC of every kernel family; NC of skx). */
    const int sizes[][3] = {{7, 13, 5},  {33, 17, 65},  {1, 1, 1},     {64, 3, 129},
                            {5, 31, 2},  {500, 37, 400}, {19, 3100, 7}};
    const float alphas[] = {1.0f, -0.5f}, betas[] = {0.0f, 1.0f, 0.25f};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int M = sizes[si][0], N = sizes[si][1], K = sizes[si][2];
        for (int t = 0; t < 4; t++) {
            bool ta = t & 2, tb = t & 1;
            /* Leading dimensions padded beyond the minimum to exercise the strides. */
            int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1;
            int arows = ta ? K : M, brows = tb ? N : K;
            float *A = frandn(&r, (size_t)arows * lda, 1.0);
            float *B = frandn(&r, (size_t)brows * ldb, 1.0);
            for (size_t ai = 0; ai < 2; ai++)
                for (size_t bi = 0; bi < 3; bi++) {
                    float alpha = alphas[ai], beta = betas[bi];
                    float *C0 = frandn(&r, (size_t)M * ldc, 1.0);
                    if (beta == 0.0f)
                        for (size_t i = 0; i < (size_t)M * ldc; i++) C0[i] = NAN;
                    float *C1 = fzeros((size_t)M * ldc), *C2 = fzeros((size_t)M * ldc);
                    memcpy(C1, C0, sizeof(float) * M * ldc);
                    memcpy(C2, C0, sizeof(float) * M * ldc);
                    gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
                    gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
                    char what[128];
                    snprintf(what, sizeof what, "gemm M%d N%d K%d ta%d tb%d alpha %g beta %g", M,
                             N, K, ta, tb, alpha, beta);
                    expect_block_close(what, C1, C2, C0, M, N, ldc, 1e-5);
                    free(C0), free(C1), free(C2);
                }
            free(A), free(B);
        }
    }
}

/* A case {C, H, W, K, stride, pad, ...} of the tests below as a geometry. */
static conv_geom case_geom(const int *k) {
    conv_geom g = {.C = k[0], .H = k[1], .W = k[2], .KH = k[3], .KW = k[3],
                        .stride = k[4], .pad = k[5]};
    g.OH = (g.H + 2 * g.pad - g.KH) / g.stride + 1;
    g.OW = (g.W + 2 * g.pad - g.KW) / g.stride + 1;
    return g;
}

/* Reference im2col of one image (same layout as conv_geom documents). */
static float *ref_im2col(const float *x, const conv_geom *g) {
    const int P = g->OH * g->OW;
    float *col = fzeros((size_t)g->C * g->KH * g->KW * P);
    for (int c = 0; c < g->C; c++)
        for (int kh = 0; kh < g->KH; kh++)
            for (int kw = 0; kw < g->KW; kw++)
                for (int oh = 0; oh < g->OH; oh++)
                    for (int ow = 0; ow < g->OW; ow++) {
                        int ih = oh * g->stride - g->pad + kh, iw = ow * g->stride - g->pad + kw;
                        int row = (c * g->KH + kh) * g->KW + kw;
                        col[(size_t)row * P + oh * g->OW + ow] =
                            ih < 0 || ih >= g->H || iw < 0 || iw >= g->W
                                ? 0.0f
                                : x[((size_t)c * g->H + ih) * g->W + iw];
                    }
    return col;
}

Test(gemm, conv_packs_im2col_from_the_image) {
    rng_t r;
    rng_init(&r, 3, 100);
    /* C, H, W, K, stride, pad, OC: padding on every side, strides 1 and 2,
     * 1x1 with stride, K = C*KH*KW below and above the k-blocking (KC). */
    const int cases[][7] = {{3, 7, 9, 3, 1, 1, 7},   {5, 8, 8, 3, 2, 1, 33}, {2, 6, 5, 5, 1, 2, 16},
                            {4, 9, 7, 1, 2, 0, 12},  {40, 12, 12, 3, 1, 1, 32},
                            {64, 8, 8, 3, 1, 1, 64}, {1, 28, 28, 3, 1, 1, 32}, {3, 5, 5, 3, 1, 3, 5},
                            {2, 12, 11, 9, 2, 4, 5}}; /* 81 taps: unplanned path */
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const int *k = cases[ci];
        const conv_geom g = case_geom(k);
        const int OC = k[6], CKK = g.C * g.KH * g.KW, P = g.OH * g.OW, ldc = P + 2;
        float *x = frandn(&r, (size_t)g.C * g.H * g.W, 1.0);
        float *w = frandn(&r, (size_t)OC * CKK, 1.0);
        float *col = ref_im2col(x, &g);
        for (int bi = 0; bi < 2; bi++) {
            float beta = bi ? 1.0f : 0.0f;
            float *C0 = frandn(&r, (size_t)OC * ldc, 1.0);
            if (!bi)
                for (int i = 0; i < OC * ldc; i++)
                    if (i % ldc < P) C0[i] = NAN; /* beta = 0 must not read C */
            float *got = fzeros((size_t)OC * ldc), *want = fzeros((size_t)OC * ldc);
            memcpy(got, C0, sizeof(float) * OC * ldc);
            memcpy(want, C0, sizeof(float) * OC * ldc);
            if (conv_fwd_gemm_image(OC, w, CKK, x, &g, beta, got, ldc) != 0)
                gemm(false, false, OC, P, CKK, 1.0f, w, CKK, col, P, beta, got, ldc);
            gemm_ref(false, false, OC, P, CKK, 1.0f, w, CKK, col, P, beta, want, ldc);
            char what[96];
            snprintf(what, sizeof what, "conv_fwd_gemm_image case %zu beta %g", ci, beta);
            expect_block_close(what, got, want, C0, OC, P, ldc, 1e-5);
            free(C0), free(got), free(want);
        }
        free(x), free(w), free(col);
    }
}

/* The forward over a batch as one GEMM against image-by-image references, at
 * one and two threads; geometries whose OH*OW is not a multiple of the tile
 * must decline (-1) and leave the output untouched. */
Test(gemm, conv_batch_matches_images) {
    rng_t r;
    rng_init(&r, 5, 100);
    /* C, H, W, K, stride, pad, OC: 32x32 and 16x16 outputs fit every kernel's
     * tiles (6/16 and 32/12 wide only if a multiple); 7x9 fits none. */
    const int cases[][7] = {{3, 32, 32, 3, 1, 1, 16}, {16, 32, 32, 3, 2, 1, 32},
                            {32, 8, 8, 3, 1, 1, 64},  {3, 7, 9, 3, 1, 1, 7}};
    const int N = 3;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const int *k = cases[ci];
        const conv_geom g = case_geom(k);
        const int OC = k[6], CKK = g.C * g.KH * g.KW, P = g.OH * g.OW;
        const size_t img = (size_t)g.C * g.H * g.W, out = (size_t)N * OC * P;
        float *x = frandn(&r, N * img, 1.0), *w = frandn(&r, (size_t)OC * CKK, 1.0);
        float *y0 = frandn(&r, out, 1.0);
        double *want = dzeros(out);
        float *tmp = fzeros((size_t)OC * P);
        for (int n = 0; n < N; n++) {
            float *col = ref_im2col(x + n * img, &g);
            memcpy(tmp, y0 + (size_t)n * OC * P, sizeof(float) * OC * P);
            gemm_ref(false, false, OC, P, CKK, 1.0f, w, CKK, col, P, 1.0f, tmp, P);
            for (int i = 0; i < OC * P; i++) want[(size_t)n * OC * P + i] = tmp[i];
            free(col);
        }
        int ran = 0;
        for (int threads = 1; threads <= 2; threads++) {
            float *got = fzeros(out);
            memcpy(got, y0, sizeof(float) * out);
            gemm_set_threads(threads);
            int rc = conv_fwd_gemm_batch(OC, N, w, x, &g, 1.0f, got);
            gemm_set_threads(1);
            char what[96];
            snprintf(what, sizeof what, "conv_fwd_gemm_batch case %zu threads %d", ci, threads);
            if (rc == 0) {
                ran = 1;
                expect_close(what, got, want, out, 1e-5);
            } else {
                cr_expect(memcmp(got, y0, sizeof(float) * out) == 0, "%s: declined but wrote", what);
            }
            free(got);
        }
        if (ci == 3) cr_expect(!ran, "7x9 outputs cannot be tiled per image");
        free(x), free(w), free(y0), free(want), free(tmp);
    }
}

/* The direct (no im2col) forward against im2col + gemm_ref image by image:
 * full and masked row vectors, an odd number of vectors per image, output
 * channels not a multiple of 8, non-square and 1x1 kernels, no padding and
 * wide padding, strides 1 and 2; beta 0 must not read out (it holds NaN), beta 1 adds to it;
 * one and two threads. Geometries it must decline leave out untouched. */
Test(gemm, conv_direct_matches_reference) {
    rng_t r;
    rng_init(&r, 9, 100);
    /* C, H, W, KH, KW, stride, pad, OC, applies (with AVX-512) */
    const int cases[][9] = {
        {3, 32, 32, 3, 3, 1, 1, 16, 1},  {16, 16, 16, 3, 3, 1, 1, 13, 1}, /* 16 vectors */
        {2, 14, 14, 3, 3, 1, 1, 5, 1},   /* 14 of 16 lanes, 14 vectors */
        {4, 28, 28, 5, 5, 1, 2, 20, 1},  /* 16 + 12 lanes per row */
        {5, 13, 28, 3, 1, 1, 0, 9, 1},   /* 3x1, no padding: 11 x 28 output, 11 x 2 vectors */
        {5, 13, 19, 3, 1, 1, 0, 9, 0},   /* 19 = 16 + 3 lanes: too many wasted, left to the GEMM */
        {7, 17, 16, 1, 1, 1, 0, 8, 1},   /* 1x1: 17 vectors (odd) */
        {2, 12, 12, 3, 3, 1, 3, 3, 1},   /* pad wider than the kernel reaches */
        {32, 8, 8, 3, 3, 1, 1, 64, 1},   /* 8-pixel rows, two to a vector */
        {3, 7, 7, 3, 3, 1, 1, 10, 1},    /* 7 x 7: 14 lanes, the last vector half */
        {2, 5, 5, 3, 3, 1, 1, 4, 0},     /* 5-pixel rows: left to the GEMM */
        {4, 32, 32, 3, 3, 2, 1, 8, 1},   /* stride 2: even/odd column phases */
        {3, 31, 31, 3, 3, 2, 1, 9, 1},   /* stride 2, odd width, 16-pixel rows */
        {5, 15, 15, 3, 3, 2, 1, 16, 1},  /* stride 2 onto 8-pixel rows (split vectors) */
        {2, 9, 63, 3, 3, 2, 0, 3, 1},    /* stride 2, no padding, input rows of two 32-float chunks */
        {6, 16, 64, 1, 1, 2, 0, 10, 1},  /* 1x1 stride 2 (a projection shortcut) */
        {2, 16, 16, 3, 3, 3, 1, 4, 0},   /* stride 3: left to the GEMM */
    };
    const int N = 3;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const int *k = cases[ci];
        conv_geom g = {.C = k[0], .H = k[1], .W = k[2], .KH = k[3], .KW = k[4],
                            .stride = k[5], .pad = k[6]};
        g.OH = (g.H + 2 * g.pad - g.KH) / g.stride + 1;
        g.OW = (g.W + 2 * g.pad - g.KW) / g.stride + 1;
        const int OC = k[7], CKK = g.C * g.KH * g.KW, P = g.OH * g.OW;
#if defined(__AVX512F__)
        const int applies = k[8];
#else
        const int applies = 0;
#endif
        cr_expect_eq(conv_direct_applies(&g), applies, "case %zu: applies", ci);
        const size_t img = (size_t)g.C * g.H * g.W, out = (size_t)N * OC * P;
        float *x = frandn(&r, N * img, 1.0), *w = frandn(&r, (size_t)OC * CKK, 1.0);
        float *y0 = frandn(&r, out, 1.0);
        for (int bi = 1; bi >= 0; bi--) { /* beta 1 first: beta 0 then fills y0 with NaN */
            const float beta = (float)bi;
            if (!bi)
                for (size_t i = 0; i < out; i++) y0[i] = NAN;
            double *want = dzeros(out);
            float *tmp = fzeros((size_t)OC * P);
            for (int n = 0; n < N; n++) {
                float *col = ref_im2col(x + n * img, &g);
                memcpy(tmp, y0 + (size_t)n * OC * P, sizeof(float) * OC * P);
                gemm_ref(false, false, OC, P, CKK, 1.0f, w, CKK, col, P, beta, tmp, P);
                for (int i = 0; i < OC * P; i++) want[(size_t)n * OC * P + i] = tmp[i];
                free(col);
            }
            for (int threads = 1; threads <= 2; threads++) {
                float *got = fzeros(out);
                memcpy(got, y0, sizeof(float) * out);
                const int rc = conv_direct_batch(OC, N, w, x, &g, beta, got, NULL, threads);
                char what[96];
                snprintf(what, sizeof what, "conv_direct case %zu beta %g threads %d", ci, beta, threads);
                cr_expect_eq(rc, applies ? 0 : -1, "%s: returned %d", what, rc);
                if (rc == 0)
                    expect_close(what, got, want, out, 1e-5);
                else
                    cr_expect(memcmp(got, y0, sizeof(float) * out) == 0, "%s: declined but wrote", what);
                free(got);
            }
            free(want), free(tmp);
        }
        free(x), free(w), free(y0);
    }
}

/* The batched weight gradient against im2col + gemm_ref image by image, at
 * one and two threads (same geometries as above, three images). */
Test(gemm, conv_dw_sums_the_batch) {
    rng_t r;
    rng_init(&r, 4, 100);
    const int cases[][7] = {{3, 7, 9, 3, 1, 1, 7},   {5, 8, 8, 3, 2, 1, 33}, {2, 6, 5, 5, 1, 2, 16},
                            {40, 12, 12, 3, 1, 1, 32}, {64, 8, 8, 3, 1, 1, 64},
                            {2, 12, 11, 9, 2, 4, 5}};
    const int N = 3;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const int *k = cases[ci];
        const conv_geom g = case_geom(k);
        const int OC = k[6], CKK = g.C * g.KH * g.KW, P = g.OH * g.OW;
        const size_t img = (size_t)g.C * g.H * g.W;
        float *x = frandn(&r, N * img, 1.0), *dout = frandn(&r, (size_t)N * OC * P, 1.0);
        float *dw0 = frandn(&r, (size_t)OC * CKK, 1.0), *want = fzeros((size_t)OC * CKK);
        memcpy(want, dw0, sizeof(float) * OC * CKK);
        for (int n = 0; n < N; n++) {
            float *col = ref_im2col(x + n * img, &g);
            gemm_ref(false, true, OC, CKK, P, 1.0f, dout + (size_t)n * OC * P, P, col, P, 1.0f,
                     want, CKK);
            free(col);
        }
        double *wd = dzeros((size_t)OC * CKK);
        for (size_t i = 0; i < (size_t)OC * CKK; i++) wd[i] = want[i];
        for (int threads = 1; threads <= 2; threads++) {
            float *got = fzeros((size_t)OC * CKK);
            memcpy(got, dw0, sizeof(float) * OC * CKK);
            gemm_set_threads(threads);
            int rc = conv_dw_gemm_batch(OC, N, dout, x, &g, got);
            gemm_set_threads(1);
            if (rc != 0) { /* DPPF_GEMM=blis: nothing to check but that dw is untouched */
                cr_expect(memcmp(got, dw0, sizeof(float) * OC * CKK) == 0);
                free(got);
                continue;
            }
            char what[96];
            snprintf(what, sizeof what, "conv_dw_gemm_batch case %zu threads %d", ci, threads);
            expect_close(what, got, wd, (size_t)OC * CKK, 1e-5);
            free(got);
        }
        free(x), free(dout), free(dw0), free(want), free(wd);
    }
}

/* The direct weight gradient against the batched GEMM, at 1, 2 and 3
 * threads: batches of several chunks, k blocks that span images, pixel counts
 * that are not a multiple of 16, stride 2, pad 0, 16/32/48/64 channels, a dw
 * that already holds values. It makes the GEMM's sums in the GEMM's order:
 * bit for bit with the micro-kernel it was checked against (BLIS's haswell
 * 6x16, the zen/haswell configurations), within 1e-5 with any other. */
Test(gemm, conv_wgrad_direct_is_the_gemm) {
    rng_t r;
    rng_init(&r, 5, 100);
    const int cases[][8] = {{16, 32, 32, 3, 1, 1, 16, 40}, {8, 14, 14, 3, 1, 1, 32, 7},
                            {5, 9, 11, 3, 2, 1, 48, 6},   {3, 7, 9, 3, 1, 0, 64, 5},
                            {1, 28, 28, 3, 1, 1, 16, 9}};
    int threads;
    const gemm_kernel *kr = gemm_driver_kernel(&threads);
    const int exact = kr && kr->mr == 6 && kr->nr == 16;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const int *k = cases[ci], OC = k[6], N = k[7];
        const conv_geom g = case_geom(k);
        const int CKK = g.C * 9, P = g.OH * g.OW;
        const size_t img = (size_t)g.C * g.H * g.W, nw = (size_t)OC * CKK;
        float *x = frandn(&r, N * img, 1.0), *dout = frandn(&r, (size_t)N * OC * P, 1.0);
        float *dw0 = frandn(&r, nw, 1.0), *want = fzeros(nw);
        memcpy(want, dw0, sizeof(float) * nw);
        if (conv_dw_gemm_batch(OC, N, dout, x, &g, want) != 0) { /* DPPF_GEMM=blis */
            cr_expect_neq(conv_dw_direct(OC, N, dout, x, &g, want), 0, "no driver, no direct kernel");
            free(x), free(dout), free(dw0), free(want);
            continue;
        }
        double *wd = dzeros(nw);
        for (size_t i = 0; i < nw; i++) wd[i] = want[i];
        for (int t = 1; t <= 3; t++) {
            float *got = fzeros(nw);
            memcpy(got, dw0, sizeof(float) * nw);
            gemm_set_threads(t);
            const int rc = conv_dw_direct(OC, N, dout, x, &g, got);
            gemm_set_threads(1);
            char what[96];
            snprintf(what, sizeof what, "conv_dw_direct case %zu threads %d", ci, t);
            if (rc != 0) { /* no AVX-512: declined, dw untouched */
                cr_expect(!conv_wgrad_applies(OC, &g), "%s declined", what);
                cr_expect(memcmp(got, dw0, sizeof(float) * nw) == 0, "%s wrote", what);
                free(got);
                continue;
            }
            expect_close(what, got, wd, nw, 1e-5);
            if (exact) cr_expect(memcmp(got, want, sizeof(float) * nw) == 0, "%s: not the GEMM's bits", what);
            free(got);
        }
        free(x), free(dout), free(dw0), free(want), free(wd);
    }
}

Test(gemm, k_zero_scales_c) {
    float C[3] = {NAN, 2, 3}, D[3] = {1, 2, 3}, dummy = 0;
    gemm(false, false, 1, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.0f, C, 3);
    gemm(false, false, 1, 3, 0, 1.0f, &dummy, 1, &dummy, 3, 0.5f, D, 3);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(C[i], 0.0f);
        cr_expect_eq(D[i], 0.5f * (i + 1));
    }
}

Test(gemm, thread_count_round_trips) {
    rng_t r;
    rng_init(&r, 2, 100);
    int M = 96, N = 80, K = 70;
    float *A = frandn(&r, (size_t)M * K, 1), *B = frandn(&r, (size_t)K * N, 1);
    float *C1 = fzeros((size_t)M * N), *C2 = fzeros((size_t)M * N);
    gemm_set_threads(2);
    cr_expect_eq(gemm_get_threads(), 2);
    gemm(false, false, M, N, K, 1, A, K, B, N, 0, C1, N);
    gemm_set_threads(1);
    cr_expect_eq(gemm_get_threads(), 1);
    gemm(false, false, M, N, K, 1, A, K, B, N, 0, C2, N);
    expect_close_f("gemm 2 threads vs 1", C1, C2, (size_t)M * N, 1e-6);
    free(A), free(B), free(C1), free(C2);
}

/* ---- the recorder of kernel calls ---------------------------------------- */

static kern_call record_buf[16];

/* Consecutive identical calls become one entry; a full recorder counts what
 * it drops; nothing is kept after kern_record_stop. */
Test(record, merges_repeats_and_counts_drops) {
    kern_recorder rec = {.calls = record_buf, .cap = 2};
    const kern_call a = {.kind = KERN_GEMM, .M = 2, .N = 3, .K = 4, .lda = 4, .ldb = 3, .ldc = 3,
                         .alpha = 1.0f, .beta = 1.0f, .reps = 1};
    kern_call b = a;
    b.beta = 0.0f;
    kern_record_start(&rec);
    cr_expect(kern_recording());
    kern_record(&a);
    kern_record(&a);
    kern_record(&b);
    kern_record(&a); /* a third entry: no room */
    kern_record_stop();
    cr_expect(!kern_recording());
    kern_record(&b);
    cr_expect_eq(rec.n, 2);
    cr_expect_eq(rec.calls[0].reps, 2);
    cr_expect_eq(rec.calls[0].images, 1);
    cr_expect_eq(rec.calls[1].reps, 1);
    cr_expect_eq(rec.calls[1].beta, 0.0f);
    cr_expect_eq(rec.dropped, 1);
    cr_expect_eq(kern_call_flops(&rec.calls[0]), 2.0 * 2 * 3 * 4 * 2);
}

static int env_is(const char *name, const char *value) {
    const char *v = getenv(name);
    return v && strcmp(v, value) == 0;
}

/* c is the forward-type convolution of `images` images of geometry g into M
 * channels, as the path the environment selects runs it: the direct kernel,
 * one batched GEMM or a GEMM per image (which of the two depends on the
 * micro-kernel's tile), or, without dppf's GEMM driver, gemm() on a column
 * matrix: im2col's (trans_a 0) or the input gradient's (trans_a 1). */
static void expect_conv_call(const char *what, const kern_call *c, int direct, int driver, int M,
                             const conv_geom *g, int images, float beta, int col_trans) {
    const int K = g->C * g->KH * g->KW, P = g->OH * g->OW;
    cr_expect_eq(c->images * c->reps, images, "%s: %d images x %ld reps", what, c->images, c->reps);
    cr_expect_eq(c->beta, beta, "%s: beta %g", what, c->beta);
    if (!driver) {
        cr_expect_eq(c->kind, KERN_GEMM, "%s: kind %d", what, c->kind);
        cr_expect_eq(c->trans_a, col_trans, "%s: trans_a", what);
        /* the input gradient's column matrix: w^T [C*KH*KW, OC] x dout_n [OC, OH*OW] */
        return;
    }
    if (direct)
        cr_expect_eq(c->kind, KERN_CONV_DIRECT, "%s: kind %d", what, c->kind);
    else
        cr_expect(c->kind == KERN_CONV_BATCH || c->kind == KERN_CONV_IMAGE, "%s: kind %d", what,
                  c->kind);
    cr_expect(c->M == M && c->N == P && c->K == K, "%s: %d x %d x %d", what, c->M, c->N, c->K);
    cr_expect(memcmp(&c->g, g, sizeof *g) == 0, "%s: geometry", what);
    cr_expect_eq(c->epilogue, 0, "%s: epilogue", what);
}

/* One conv layer's forward and backward at one thread, recorded: one entry
 * per product the dispatch ran, with its shapes (the forward of 2 images,
 * the weight gradient, and the stride-1 input gradient as the forward of
 * dout with the flipped weights); nothing while no recorder is installed. */
Test(gemm, recorder_sees_a_conv_layer_step) {
    rng_t r;
    rng_init(&r, 11, 100);
    const int N = 2, C = 4, H = 16, OC = 8;
    const conv_shape s = conv_shape_make(C, H, H, OC, 3, 1, 1);
    const conv_geom g = {.C = C, .H = H, .W = H, .KH = 3, .KW = 3, .stride = 1, .pad = 1,
                         .OH = H, .OW = H};
    const conv_geom gt = {.C = OC, .H = H, .W = H, .KH = 3, .KW = 3, .stride = 1, .pad = 1,
                          .OH = H, .OW = H}; /* dout into din */
    const size_t nin = (size_t)N * C * H * H, nout = (size_t)N * OC * H * H, nw = (size_t)OC * C * 9;
    float *x = frandn(&r, nin, 1.0), *w = frandn(&r, nw, 0.3), *b = frandn(&r, OC, 1.0);
    float *y = fzeros(nout), *dy = frandn(&r, nout, 1.0), *dx = fzeros(nin), *dw = fzeros(nw);
    float *db = fzeros(OC), *work = fzeros(conv_workspace_size(&s, N));
    gemm_set_threads(1); /* else OpenMP's default team runs the per-image loops */
    const int driver = !env_is("DPPF_GEMM", "blis");
    const int direct = driver && !env_is("DPPF_CONV", "gemm") && !env_is("DPPF_PACK", "generic") &&
                       conv_direct_applies(&g);

    kern_recorder fwd = {.calls = record_buf, .cap = 8}, bwd = {.calls = record_buf + 8, .cap = 8};
    kern_record_start(&fwd);
    conv2d_forward(y, x, w, b, N, &s, work);
    kern_record_start(&bwd);
    conv2d_backward(dx, dw, db, dy, x, w, N, &s, work, 0);
    kern_record_stop();

    cr_assert_eq(fwd.n, 1, "forward: %d entries", fwd.n);
    expect_conv_call("forward", &fwd.calls[0], direct, driver, OC, &g, N, 1.0f, 0);
    cr_assert_eq(bwd.n, 2, "backward: %d entries", bwd.n);
    const kern_call *cw = &bwd.calls[0];
    const kern_kind dw_kind = !driver ? KERN_GEMM
                              : !env_is("DPPF_CONV", "gemm") && !env_is("DPPF_PACK", "generic") &&
                                        conv_wgrad_applies(OC, &g)
                                  ? KERN_CONV_DW_DIRECT
                                  : KERN_CONV_DW;
    cr_expect_eq(cw->kind, dw_kind, "dw: kind %d", cw->kind);
    cr_expect(cw->M == OC && cw->N == C * 9 && cw->K == H * H, "dw: %d x %d x %d", cw->M, cw->N,
              cw->K);
    cr_expect_eq(cw->images * cw->reps, N);
    cr_expect_eq(cw->beta, 1.0f);
    expect_conv_call("din", &bwd.calls[1], direct, driver, C, &gt, N, driver ? 1.0f : 0.0f, 1);
    if (!driver)
        cr_expect(bwd.calls[1].M == C * 9 && bwd.calls[1].N == H * H && bwd.calls[1].K == OC,
                  "din column matrix: %d x %d x %d", bwd.calls[1].M, bwd.calls[1].N,
                  bwd.calls[1].K);
    for (int i = 0; i < fwd.n + bwd.n; i++)
        cr_expect(!record_buf[i < fwd.n ? i : 8 + i - fwd.n].parallel, "one thread: no parallel loop");

    /* Uninstalled: the same step records nothing anywhere. */
    kern_recorder off = {.calls = record_buf, .cap = 16};
    kern_record_start(&off);
    kern_record_stop();
    conv2d_forward(y, x, w, b, N, &s, work);
    conv2d_backward(dx, dw, db, dy, x, w, N, &s, work, 0);
    gemm(false, false, 2, 2, 2, 1.0f, w, 2, w, 2, 0.0f, y, 2);
    cr_expect_eq(off.n, 0);
    cr_expect_eq(off.dropped, 0);
    free(x), free(w), free(b), free(y), free(dy), free(dx), free(dw), free(db), free(work);
}

/* ---- conv2d ------------------------------------------------------------- */

typedef struct {
    conv_shape s;
    int N;
    double *x, *w, *b; /* b NULL: no bias */
    double *R;
    double *out;
} conv_ctx;

static void conv_ref(double *out, const double *x, const double *w, const double *b, int N,
                     const conv_shape *s) {
    for (int n = 0; n < N; n++)
        for (int oc = 0; oc < s->OC; oc++)
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    double acc = b ? b[oc] : 0.0;
                    for (int c = 0; c < s->C; c++)
                        for (int kh = 0; kh < s->KH; kh++)
                            for (int kw = 0; kw < s->KW; kw++) {
                                int ih = oh * s->stride - s->pad + kh,
                                    iw = ow * s->stride - s->pad + kw;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                                acc += x[((size_t)(n * s->C + c) * s->H + ih) * s->W + iw] *
                                       w[((size_t)(oc * s->C + c) * s->KH + kh) * s->KW + kw];
                            }
                    out[((size_t)(n * s->OC + oc) * s->OH + oh) * s->OW + ow] = acc;
                }
}

static double conv_obj(void *p) {
    conv_ctx *c = p;
    conv_ref(c->out, c->x, c->w, c->b, c->N, &c->s);
    return dot(c->out, c->R, (size_t)c->N * c->s.OC * c->s.OH * c->s.OW);
}

static void conv_case(int N, int C, int H, int W, int OC, int K, int stride, int pad, int bias) {
    char tag[128];
    snprintf(tag, sizeof tag, "conv N%d C%d %dx%d OC%d K%d s%d p%d bias%d", N, C, H, W, OC, K,
             stride, pad, bias);
    rng_t r;
    rng_init(&r, 1000 + (uint64_t)(N * 7 + C * 11 + H * 13 + W * 17 + K * 19 + stride + pad), 100);
    conv_shape s = conv_shape_make(C, H, W, OC, K, stride, pad);
    cr_assert_eq(s.OH, (H + 2 * pad - K) / stride + 1, "%s: OH", tag);
    cr_assert_eq(s.OW, (W + 2 * pad - K) / stride + 1, "%s: OW", tag);
    size_t nin = (size_t)N * C * H * W, nw = (size_t)OC * C * K * K,
           nout = (size_t)N * OC * s.OH * s.OW, nws = conv_workspace_size(&s, N);
    if (K == 1 && stride == 1 && pad == 0)
        cr_expect_eq(nws, 0u, "%s: pointwise conv should need no workspace", tag);
    else
        cr_expect_eq(nws, (size_t)C * K * K * s.OH * s.OW, "%s: workspace size", tag);

    float *x = frandn(&r, nin, 1.0), *w = frandn(&r, nw, 0.5),
          *b = bias ? frandn(&r, OC, 0.5) : NULL, *R = frandn(&r, nout, 1.0);
    /* Garbage in the workspace and the output must not leak into results. */
    float *work = ffill(nws, NAN), *out = ffill(nout, NAN);
    conv2d_forward(out, x, w, b, N, &s, work);

    conv_ctx c = {s, N, todouble(x, nin), todouble(w, nw), bias ? todouble(b, OC) : NULL,
                  todouble(R, nout), dzeros(nout)};
    conv_ref(c.out, c.x, c.w, c.b, N, &s);
    char what[192];
    snprintf(what, sizeof what, "%s forward", tag);
    expect_close(what, out, c.out, nout, FWD_TOL);

    float *dx = fzeros(nin), *dw = fzeros(nw), *db = fzeros(OC);
    for (size_t i = 0; i < nws; i++) work[i] = NAN;
    conv2d_backward(dx, dw, bias ? db : NULL, R, x, w, N, &s, work, 0);
    double *gx = dzeros(nin), *gw = dzeros(nw), *gb = dzeros(OC);
    fd_grad(conv_obj, &c, c.x, nin, gx);
    fd_grad(conv_obj, &c, c.w, nw, gw);
    snprintf(what, sizeof what, "%s dx", tag);
    expect_close(what, dx, gx, nin, GRAD_TOL);
    snprintf(what, sizeof what, "%s dw", tag);
    expect_close(what, dw, gw, nw, GRAD_TOL);
    if (bias) {
        fd_grad(conv_obj, &c, c.b, OC, gb);
        snprintf(what, sizeof what, "%s db", tag);
        expect_close(what, db, gb, OC, GRAD_TOL);
    }

    /* Accumulation into pre-filled gradients. */
    float *px = frandn(&r, nin, 1.0), *pw = frandn(&r, nw, 1.0), *pb = frandn(&r, OC, 1.0);
    float *ax = fzeros(nin), *aw = fzeros(nw), *ab = fzeros(OC);
    memcpy(ax, px, sizeof(float) * nin);
    memcpy(aw, pw, sizeof(float) * nw);
    memcpy(ab, pb, sizeof(float) * OC);
    conv2d_backward(ax, aw, bias ? ab : NULL, R, x, w, N, &s, work, 0);
    snprintf(what, sizeof what, "%s accumulate dx", tag);
    expect_accumulated(what, ax, px, dx, nin);
    snprintf(what, sizeof what, "%s accumulate dw", tag);
    expect_accumulated(what, aw, pw, dw, nw);
    if (bias) {
        snprintf(what, sizeof what, "%s accumulate db", tag);
        expect_accumulated(what, ab, pb, db, OC);
    }

    /* din = NULL (first layer) still gives the same weight gradient. */
    float *dw2 = fzeros(nw);
    conv2d_backward(NULL, dw2, NULL, R, x, w, N, &s, work, 0);
    snprintf(what, sizeof what, "%s dw with din=NULL", tag);
    expect_close_f(what, dw2, dw, nw, 1e-6);

    free(x), free(w), free(b), free(R), free(work), free(out), free(dx), free(dw), free(db);
    free(c.x), free(c.w), free(c.b), free(c.R), free(c.out), free(gx), free(gw), free(gb);
    free(px), free(pw), free(pb), free(ax), free(aw), free(ab), free(dw2);
}

Test(conv2d, k3_s1_p1_bias) { conv_case(2, 3, 7, 5, 4, 3, 1, 1, 1); }
Test(conv2d, k3_s2_p1_nobias) { conv_case(2, 3, 8, 6, 5, 3, 2, 1, 0); }
Test(conv2d, k3_s2_p1_odd_sizes) { conv_case(3, 2, 7, 9, 3, 3, 2, 1, 1); }
Test(conv2d, k1_s1_p0_pointwise_fast_path) { conv_case(3, 4, 5, 4, 3, 1, 1, 0, 1); }
Test(conv2d, k1_s2_p0_downsample) { conv_case(2, 3, 5, 7, 2, 1, 2, 0, 0); }
Test(conv2d, k3_s1_p0_valid) { conv_case(2, 2, 6, 5, 3, 3, 1, 0, 0); }
Test(conv2d, k5_s2_p2) { conv_case(2, 2, 9, 6, 3, 5, 2, 2, 1); }
Test(conv2d, k3_s3_p1) { conv_case(1, 3, 7, 8, 2, 3, 3, 1, 1); }

/* ---- batchnorm ---------------------------------------------------------- */

typedef struct {
    int N, C, HW;
    double eps;
    double *x, *g, *b;
    double *R;
    double *out;
} bn_ctx;

static void bn_ref(double *out, double *mean_out, double *var_out, const bn_ctx *c) {
    size_t M = (size_t)c->N * c->HW;
    for (int ch = 0; ch < c->C; ch++) {
        double m = 0, v = 0;
        for (int n = 0; n < c->N; n++)
            for (int i = 0; i < c->HW; i++) m += c->x[((size_t)n * c->C + ch) * c->HW + i];
        m /= M;
        for (int n = 0; n < c->N; n++)
            for (int i = 0; i < c->HW; i++) {
                double d = c->x[((size_t)n * c->C + ch) * c->HW + i] - m;
                v += d * d;
            }
        v /= M;
        if (mean_out) mean_out[ch] = m;
        if (var_out) var_out[ch] = v;
        for (int n = 0; n < c->N; n++)
            for (int i = 0; i < c->HW; i++) {
                size_t k = ((size_t)n * c->C + ch) * c->HW + i;
                out[k] = c->g[ch] * (c->x[k] - m) / sqrt(v + c->eps) + c->b[ch];
            }
    }
}

static double bn_obj(void *p) {
    bn_ctx *c = p;
    bn_ref(c->out, NULL, NULL, c);
    return dot(c->out, c->R, (size_t)c->N * c->C * c->HW);
}

static void bn_train_case(int N, int C, int HW) {
    char tag[64], what[128];
    snprintf(tag, sizeof tag, "bn train N%d C%d HW%d", N, C, HW);
    rng_t r;
    rng_init(&r, 2000 + (uint64_t)(N * 31 + C * 7 + HW), 100);
    size_t n = (size_t)N * C * HW;
    const float eps = 1e-5f, momentum = 0.1f;
    float *x = frandn(&r, n, 2.0), *g = frandn(&r, C, 0.3), *b = frandn(&r, C, 0.3),
          *R = frandn(&r, n, 1.0);
    for (int ch = 0; ch < C; ch++) g[ch] += 1.0f;
    for (size_t i = 0; i < n; i++) x[i] += 0.5f * (float)((i / HW) % C); /* per-channel offset */
    float *rm = frandn(&r, C, 0.2), *rv = ffill(C, 0.0f);
    for (int ch = 0; ch < C; ch++) rv[ch] = 0.5f + (float)rng_uniform(&r);
    float *rm0 = fzeros(C), *rv0 = fzeros(C);
    memcpy(rm0, rm, sizeof(float) * C);
    memcpy(rv0, rv, sizeof(float) * C);

    float *out = ffill(n, NAN), *bmean = ffill(C, NAN), *invstd = ffill(C, NAN);
    batchnorm_forward_train(out, bmean, invstd, x, g, b, rm, rv, N, C, HW, momentum, eps);

    bn_ctx c = {N, C, HW, eps, todouble(x, n), todouble(g, C), todouble(b, C), todouble(R, n),
                dzeros(n)};
    double *mean = dzeros(C), *var = dzeros(C), *want = dzeros(n);
    bn_ref(c.out, mean, var, &c);
    snprintf(what, sizeof what, "%s forward", tag);
    expect_close(what, out, c.out, n, FWD_TOL);
    /* saved values and the PyTorch running-stat update (unbiased running_var) */
    snprintf(what, sizeof what, "%s saved batch mean", tag);
    expect_close(what, bmean, mean, C, FWD_TOL);
    size_t M = (size_t)N * HW;
    for (int ch = 0; ch < C; ch++) {
        want[ch] = 1.0 / sqrt(var[ch] + eps);
        mean[ch] = 0.9 * rm0[ch] + 0.1 * mean[ch];
        var[ch] = 0.9 * rv0[ch] + 0.1 * var[ch] * M / (M - 1);
    }
    snprintf(what, sizeof what, "%s invstd", tag);
    expect_close(what, invstd, want, C, FWD_TOL);
    snprintf(what, sizeof what, "%s running_mean", tag);
    expect_close(what, rm, mean, C, FWD_TOL);
    snprintf(what, sizeof what, "%s running_var", tag);
    expect_close(what, rv, var, C, FWD_TOL);

    float *dx = fzeros(n), *dg = fzeros(C), *db = fzeros(C);
    batchnorm_backward(dx, dg, db, R, x, bmean, invstd, g, N, C, HW, 0);
    double *gx = dzeros(n), *gg = dzeros(C), *gb = dzeros(C);
    fd_grad(bn_obj, &c, c.x, n, gx);
    fd_grad(bn_obj, &c, c.g, C, gg);
    fd_grad(bn_obj, &c, c.b, C, gb);
    snprintf(what, sizeof what, "%s dx (through batch stats)", tag);
    expect_close(what, dx, gx, n, GRAD_TOL);
    snprintf(what, sizeof what, "%s dgamma", tag);
    expect_close(what, dg, gg, C, GRAD_TOL);
    snprintf(what, sizeof what, "%s dbeta", tag);
    expect_close(what, db, gb, C, GRAD_TOL);

    float *px = frandn(&r, n, 1), *pg = frandn(&r, C, 1), *pb = frandn(&r, C, 1);
    float *ax = fzeros(n), *ag = fzeros(C), *ab = fzeros(C);
    memcpy(ax, px, sizeof(float) * n);
    memcpy(ag, pg, sizeof(float) * C);
    memcpy(ab, pb, sizeof(float) * C);
    batchnorm_backward(ax, ag, ab, R, x, bmean, invstd, g, N, C, HW, 0);
    snprintf(what, sizeof what, "%s accumulate dx", tag);
    expect_accumulated(what, ax, px, dx, n);
    snprintf(what, sizeof what, "%s accumulate dgamma", tag);
    expect_accumulated(what, ag, pg, dg, C);
    snprintf(what, sizeof what, "%s accumulate dbeta", tag);
    expect_accumulated(what, ab, pb, db, C);

    free(x), free(g), free(b), free(R), free(rm), free(rv), free(rm0), free(rv0), free(out);
    free(bmean), free(invstd), free(c.x), free(c.g), free(c.b), free(c.R), free(c.out);
    free(mean), free(var), free(want), free(dx), free(dg), free(db), free(gx), free(gg), free(gb);
    free(px), free(pg), free(pb), free(ax), free(ag), free(ab);
}

Test(batchnorm, train_2d) { bn_train_case(3, 4, 10); }
Test(batchnorm, train_2d_batch1) { bn_train_case(1, 3, 12); }
Test(batchnorm, train_1d) { bn_train_case(7, 5, 1); }

/* A BN + ReLU train forward on random data (rng seeded with `seed`), for
 * the backward tests below: every `negzero`-th output gradient -0, and
 * gamma[0] made negative when asked. */
typedef struct {
    int N, C, HW;
    size_t n;
    rng_t r; /* for the test's own draws after the case's */
    float *x, *g, *b, *dy, *rm, *rv, *y, *mean, *invstd;
} bn_relu_case;

static bn_relu_case bn_relu_case_make(uint64_t seed, int N, int C, int HW, int negzero,
                                      int negative_gamma) {
    bn_relu_case k = {.N = N, .C = C, .HW = HW, .n = (size_t)N * C * HW};
    rng_init(&k.r, seed, 100);
    k.x = frandn(&k.r, k.n, 2.0), k.g = frandn(&k.r, C, 0.3), k.b = frandn(&k.r, C, 0.3);
    k.dy = frandn(&k.r, k.n, 1.0), k.rm = fzeros(C), k.rv = ffill(C, 1.0f);
    k.y = fzeros(k.n), k.mean = fzeros(C), k.invstd = fzeros(C);
    if (negative_gamma) k.g[0] = -fabsf(k.g[0]);
    batchnorm_relu_forward_train(k.y, k.mean, k.invstd, k.x, k.g, k.b, k.rm, k.rv, N, C, HW, 0.1f, 1e-5f);
    for (size_t i = 0; i < k.n; i += (size_t)negzero) k.dy[i] = -0.0f;
    return k;
}

static void bn_relu_case_free(bn_relu_case *k) {
    free(k->x), free(k->g), free(k->b), free(k->dy), free(k->rm), free(k->rv), free(k->y);
    free(k->mean), free(k->invstd);
}

/* The fused BN + ReLU backward (train and eval mode) is relu_backward into
 * a zeroed buffer and then the BN backward, bit for bit: with -0 gradients, ReLU outputs at
 * exactly 0, a plane length that leaves a tail, accumulation and no din. */
Test(batchnorm, relu_backward_fused_is_bitwise_the_pair) {
    bn_relu_case k = bn_relu_case_make(77, 5, 3, 37, 7, 0);
    const int N = k.N, C = k.C, HW = k.HW;
    const size_t n = k.n;
    float *x = k.x, *g = k.g, *dy = k.dy, *rv = k.rv, *y = k.y, *mean = k.mean, *invstd = k.invstd;
    for (size_t i = 3; i < n; i += 11) y[i] = 0.0f;
    float *start = frandn(&k.r, n, 1.0);
    for (int with_din = 0; with_din < 2; with_din++) {
        float *dbn = fzeros(n), *dx1 = fzeros(n), *dx2 = fzeros(n);
        float *dg1 = ffill(C, 0.5f), *db1 = ffill(C, -0.25f), *dg2 = ffill(C, 0.5f), *db2 = ffill(C, -0.25f);
        memcpy(dx1, start, n * sizeof(float));
        memcpy(dx2, start, n * sizeof(float));
        relu_backward(dbn, dy, y, n, 0);
        batchnorm_backward(with_din ? dx1 : NULL, dg1, db1, dbn, x, mean, invstd, g, N, C, HW, 0);
        batchnorm_relu_backward(with_din ? dx2 : NULL, dg2, db2, dy, y, x, mean, invstd, g, N, C, HW, 0);
        cr_assert(memcmp(dx1, dx2, n * sizeof(float)) == 0, "dx differs (din %d)", with_din);
        cr_assert(memcmp(dg1, dg2, C * sizeof(float)) == 0, "dgamma differs (din %d)", with_din);
        cr_assert(memcmp(db1, db2, C * sizeof(float)) == 0, "dbeta differs (din %d)", with_din);
        /* the eval-mode backward (the flatness measures) likewise */
        memcpy(dx1, start, n * sizeof(float));
        memcpy(dx2, start, n * sizeof(float));
        batchnorm_backward_eval(with_din ? dx1 : NULL, dg1, db1, dbn, x, g, mean, rv, N, C, HW, 1e-5f, 0);
        batchnorm_relu_backward_eval(with_din ? dx2 : NULL, dg2, db2, dy, y, x, g, mean, rv, N, C, HW, 1e-5f, 0);
        cr_assert(memcmp(dx1, dx2, n * sizeof(float)) == 0, "eval dx differs (din %d)", with_din);
        cr_assert(memcmp(dg1, dg2, C * sizeof(float)) == 0, "eval dgamma differs (din %d)", with_din);
        cr_assert(memcmp(db1, db2, C * sizeof(float)) == 0, "eval dbeta differs (din %d)", with_din);
        free(dbn), free(dx1), free(dx2), free(dg1), free(db1), free(dg2), free(db2);
    }
    bn_relu_case_free(&k);
    free(start);
}

/* fresh = 1 writes din as adding into zeros would, bit for bit, whatever din
 * held: each backward that has the mode, with negative gammas and -0
 * gradients so that some values are -0 (0 + -0 is +0, a plain store would
 * keep -0). */
Test(batchnorm, fresh_din_is_adding_into_zeros) {
    bn_relu_case k = bn_relu_case_make(78, 4, 3, 29, 5, 1);
    const int N = k.N, C = k.C, HW = k.HW;
    const size_t n = k.n;
    float *x = k.x, *g = k.g, *dy = k.dy, *rv = k.rv, *y = k.y, *mean = k.mean, *invstd = k.invstd;
    float *want = fzeros(n), *got = frandn(&k.r, n, 3.0), *dg = fzeros(C), *db = fzeros(C);
    int negzero = 0;
    for (int kind = 0; kind < 6; kind++) {
        for (int fresh = 0; fresh < 2; fresh++) {
            float *d = fresh ? got : want;
            if (!fresh) memset(d, 0, n * sizeof(float));
            else for (size_t i = 0; i < n; i++) d[i] = (float)i; /* anything */
            switch (kind) {
            case 0: batchnorm_backward(d, dg, db, dy, x, mean, invstd, g, N, C, HW, fresh); break;
            case 1: batchnorm_relu_backward(d, dg, db, dy, y, x, mean, invstd, g, N, C, HW, fresh); break;
            case 2: batchnorm_backward_eval(d, dg, db, dy, x, g, mean, rv, N, C, HW, 1e-5f, fresh); break;
            case 3: batchnorm_relu_backward_eval(d, dg, db, dy, y, x, g, mean, rv, N, C, HW, 1e-5f, fresh); break;
            case 4: relu_backward(d, dy, y, n, fresh); break;
            case 5: if (fresh) accumulate_fresh(d, dy, n); else accumulate(d, dy, n); break;
            }
        }
        cr_assert(memcmp(want, got, n * sizeof(float)) == 0, "backward %d: fresh differs", kind);
        for (size_t i = 0; i < n; i++) negzero += dy[i] == 0.0f && signbit(dy[i]);
    }
    cr_assert(negzero > 0, "the case has -0 gradients");
    bn_relu_case_free(&k);
    free(want), free(got), free(dg), free(db);
}

/* The same for the convolution's input gradient on each of its paths: the
 * direct kernel (3x3 stride 1), the column matrix + col2im (stride 2) and
 * the pointwise GEMM (1x1), and with the GEMM (not the direct kernel) when
 * the channels do not suit it. */
Test(conv, fresh_din_is_adding_into_zeros) {
    const int shapes[][5] = {{16, 32, 3, 1, 1}, {16, 16, 3, 2, 1}, {8, 16, 1, 1, 0}, {3, 5, 3, 1, 1}};
    rng_t r;
    rng_init(&r, 79, 100);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int C = shapes[t][0], OC = shapes[t][1], K = shapes[t][2], N = 3, H = 10;
        const conv_shape s = conv_shape_make(C, H, H, OC, K, shapes[t][3], shapes[t][4]);
        const size_t nin = (size_t)N * C * H * H, nout = (size_t)N * OC * s.OH * s.OW;
        float *x = frandn(&r, nin, 1.0), *w = frandn(&r, (size_t)OC * C * K * K, 0.3);
        float *dy = frandn(&r, nout, 1.0), *work = fzeros(conv_workspace_size(&s, N));
        float *want = fzeros(nin), *got = frandn(&r, nin, 5.0);
        conv2d_backward(want, NULL, NULL, dy, x, w, N, &s, work, 0);
        conv2d_backward(got, NULL, NULL, dy, x, w, N, &s, work, 1);
        cr_assert(memcmp(want, got, nin * sizeof(float)) == 0, "shape %zu: fresh differs", t);
        free(x), free(w), free(dy), free(work), free(want), free(got);
    }
}

/* And maxpool's (2x2 stride 2, and 3x3 stride 2 pad 1 whose windows overlap
 * so that some inputs collect two gradients), with -0 gradients. */
Test(maxpool, fresh_din_is_adding_into_zeros) {
    const int cases[][3] = {{2, 2, 0}, {3, 2, 1}};
    const int N = 2, C = 3, H = 9, W = 8;
    rng_t r;
    rng_init(&r, 80, 100);
    for (int t = 0; t < 2; t++) {
        const int K = cases[t][0], st = cases[t][1], pad = cases[t][2];
        const int OH = pool_out_size(H, K, st, pad), OW = pool_out_size(W, K, st, pad);
        const size_t nin = (size_t)N * C * H * W, nout = (size_t)N * C * OH * OW;
        float *x = frandn(&r, nin, 1.0), *y = fzeros(nout), *dy = frandn(&r, nout, 1.0);
        int32_t *am = calloc(nout, sizeof *am);
        for (size_t i = 0; i < nout; i += 3) dy[i] = -0.0f;
        maxpool_forward(y, am, x, N, C, H, W, K, st, pad);
        float *want = fzeros(nin), *got = frandn(&r, nin, 5.0);
        maxpool_backward(want, dy, am, N, C, H, W, OH, OW, 0);
        maxpool_backward(got, dy, am, N, C, H, W, OH, OW, 1);
        cr_assert(memcmp(want, got, nin * sizeof(float)) == 0, "case %d: fresh differs", t);
        free(x), free(y), free(dy), free(am), free(want), free(got);
    }
}

Test(batchnorm, momentum_semantics) {
    /* Channel values {1,2,3,4}: mean 2.5, biased var 1.25, unbiased 5/3. */
    const float x[4] = {1, 2, 3, 4}, g = 1, b = 0;
    float out[4], bmean, invstd, rm = 10.0f, rv = 7.0f;
    batchnorm_forward_train(out, &bmean, &invstd, x, &g, &b, &rm, &rv, 2, 1, 2, 0.25f, 0.0f);
    cr_expect_float_eq(bmean, 2.5f, 1e-6);
    cr_expect_float_eq(rm, 0.75f * 10.0f + 0.25f * 2.5f, 1e-6);
    cr_expect_float_eq(rv, 0.75f * 7.0f + 0.25f * (5.0f / 3.0f), 1e-6);
    cr_expect_float_eq(invstd, (float)(1.0 / sqrt(1.25)), 1e-6);
    cr_expect_float_eq(out[0], (float)(-1.5 / sqrt(1.25)), 1e-6);
}

Test(batchnorm, eval_uses_running_stats) {
    rng_t r;
    rng_init(&r, 3000, 100);
    int N = 3, C = 4, HW = 6;
    size_t n = (size_t)N * C * HW;
    float eps = 1e-3f;
    float *x = frandn(&r, n, 2.0), *g = frandn(&r, C, 1.0), *b = frandn(&r, C, 1.0),
          *rm = frandn(&r, C, 1.0), *rv = fzeros(C), *out = ffill(n, NAN);
    for (int c = 0; c < C; c++) rv[c] = 0.1f + 2.0f * (float)rng_uniform(&r);
    batchnorm_forward_eval(out, x, g, b, rm, rv, N, C, HW, eps);
    double *want = dzeros(n);
    for (size_t i = 0; i < n; i++) {
        int c = (int)((i / HW) % C);
        want[i] = (double)g[c] * ((double)x[i] - rm[c]) / sqrt((double)rv[c] + eps) + b[c];
    }
    expect_close("bn eval forward", out, want, n, FWD_TOL);
    free(x), free(g), free(b), free(rm), free(rv), free(out), free(want);
}

/* ---- maxpool ------------------------------------------------------------ */

typedef struct {
    int N, C, H, W, K, stride, pad, OH, OW;
    double *x;
    double *R;
    double *out;
} pool_ctx;

static void maxpool_ref(double *out, const pool_ctx *c) {
    for (int p = 0; p < c->N * c->C; p++)
        for (int oh = 0; oh < c->OH; oh++)
            for (int ow = 0; ow < c->OW; ow++) {
                double m = -INFINITY;
                for (int kh = 0; kh < c->K; kh++)
                    for (int kw = 0; kw < c->K; kw++) {
                        int ih = oh * c->stride - c->pad + kh, iw = ow * c->stride - c->pad + kw;
                        if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                        double v = c->x[((size_t)p * c->H + ih) * c->W + iw];
                        if (v > m) m = v;
                    }
                out[((size_t)p * c->OH + oh) * c->OW + ow] = m;
            }
}

static double maxpool_obj(void *p) {
    pool_ctx *c = p;
    maxpool_ref(c->out, c);
    return dot(c->out, c->R, (size_t)c->N * c->C * c->OH * c->OW);
}

static void maxpool_case(int N, int C, int H, int W, int K, int stride, int pad, int negative) {
    char tag[96], what[160];
    snprintf(tag, sizeof tag, "maxpool N%d C%d %dx%d K%d s%d p%d%s", N, C, H, W, K, stride, pad,
             negative ? " (all negative)" : "");
    rng_t r;
    rng_init(&r, 4000 + (uint64_t)(H * 10 + W + K * 100 + pad), 100);
    int OH = pool_out_size(H, K, stride, pad), OW = pool_out_size(W, K, stride, pad);
    size_t nin = (size_t)N * C * H * W, nout = (size_t)N * C * OH * OW;
    /* Distinct values 0.05 apart (a shuffled ramp) so the max is never a near-tie. */
    int32_t *perm = xalloc(nin, sizeof *perm);
    for (size_t i = 0; i < nin; i++) perm[i] = (int32_t)i;
    rng_shuffle_i32(&r, perm, nin);
    float *x = fzeros(nin);
    for (size_t i = 0; i < nin; i++)
        x[i] = negative ? -1.0f - 0.05f * perm[i] : 0.05f * perm[i] - 0.025f * (float)nin;
    float *R = frandn(&r, nout, 1.0), *out = ffill(nout, NAN);
    int32_t *am = xalloc(nout, sizeof *am);
    maxpool_forward(out, am, x, N, C, H, W, K, stride, pad);

    pool_ctx c = {N, C, H, W, K, stride, pad, OH, OW, todouble(x, nin), todouble(R, nout),
                  dzeros(nout)};
    maxpool_ref(c.out, &c);
    snprintf(what, sizeof what, "%s forward", tag);
    expect_close(what, out, c.out, nout, 0.0);
    for (size_t i = 0; i < nout; i++) {
        size_t plane = i / ((size_t)OH * OW);
        cr_assert(am[i] >= 0 && am[i] < H * W, "%s: argmax[%zu] = %d out of plane", tag, i,
                  (int)am[i]);
        cr_expect_eq(x[plane * H * W + am[i]], out[i], "%s: in[argmax] != out at %zu", tag, i);
        if (negative) cr_expect(out[i] < 0.0f, "%s: padding won at %zu", tag, i);
    }

    float *dx = fzeros(nin);
    maxpool_backward(dx, R, am, N, C, H, W, OH, OW, 0);
    double *gx = dzeros(nin);
    fd_grad(maxpool_obj, &c, c.x, nin, gx);
    snprintf(what, sizeof what, "%s dx", tag);
    expect_close(what, dx, gx, nin, GRAD_TOL);

    float *px = frandn(&r, nin, 1.0), *ax = fzeros(nin);
    memcpy(ax, px, sizeof(float) * nin);
    maxpool_backward(ax, R, am, N, C, H, W, OH, OW, 0);
    snprintf(what, sizeof what, "%s accumulate dx", tag);
    expect_accumulated(what, ax, px, dx, nin);

    free(perm), free(x), free(R), free(out), free(am), free(c.x), free(c.R), free(c.out);
    free(dx), free(gx), free(px), free(ax);
}

Test(maxpool, k2_s2_odd_width) { maxpool_case(2, 3, 6, 5, 2, 2, 0, 0); }
Test(maxpool, k3_s2_p1) { maxpool_case(2, 3, 7, 6, 3, 2, 1, 0); }
Test(maxpool, k3_s2_p1_padding_never_wins) { maxpool_case(2, 2, 6, 7, 3, 2, 1, 1); }
Test(maxpool, k3_s1_p1_overlapping) { maxpool_case(1, 2, 5, 4, 3, 1, 1, 0); }
/* Rows of 14, 7, 20 and 33 outputs: the 16-lane path, its masked tail and several vectors a row. */
Test(maxpool, k2_s2_wide_rows) {
    maxpool_case(2, 3, 28, 28, 2, 2, 0, 0);
    maxpool_case(1, 2, 14, 15, 2, 2, 0, 1);
    maxpool_case(1, 2, 4, 40, 2, 2, 0, 0);
    maxpool_case(1, 1, 6, 67, 2, 2, 0, 1);
}

/* Ties and NaNs in every lane of a 2 x 40 row: the first max wins and a NaN
 * (the last one of its window) propagates, lane by lane as in the scalar order. */
Test(maxpool, k2_s2_ties_and_nan_every_lane) {
    enum { W = 40, OW = 20 };
    float x[2 * W], out[OW];
    int32_t am[OW];
    for (int i = 0; i < 2 * W; i++) x[i] = 1.0f;
    maxpool_forward(out, am, x, 1, 1, 2, W, 2, 2, 0);
    for (int j = 0; j < OW; j++) cr_expect_eq(am[j], 2 * j, "tie at output %d: argmax %d", j, am[j]);
    for (int j = 0; j < OW; j++) x[(j % 2) * W + 2 * j + (j % 3 == 0)] = NAN; /* one NaN a window */
    x[W + 2 * 5 + 1] = NAN;                                                   /* and a second one */
    maxpool_forward(out, am, x, 1, 1, 2, W, 2, 2, 0);
    for (int j = 0; j < OW; j++) {
        int want = j == 5 ? W + 2 * 5 + 1 : (j % 2) * W + 2 * j + (j % 3 == 0);
        cr_expect(isnan(out[j]), "NaN at output %d must propagate", j);
        cr_expect_eq(am[j], want, "NaN at output %d: argmax %d, want %d", j, am[j], want);
    }
}

Test(maxpool, ties_first_max_wins_and_nan_propagates) {
    /* Constant input: every window ties, and (like PyTorch) the first in-bounds
     * element in row-major window order wins. */
    float x[20], out[12], dx[20] = {0};
    int32_t am[12];
    for (int i = 0; i < 20; i++) x[i] = 1.0f;
    maxpool_forward(out, am, x, 1, 1, 4, 5, 2, 2, 0); /* 2x2 out */
    const int32_t want2[4] = {0, 2, 10, 12};
    for (int i = 0; i < 4; i++)
        cr_expect_eq(am[i], want2[i], "k2s2 tie argmax[%d] = %d", i, am[i]);
    maxpool_forward(out, am, x, 1, 1, 4, 5, 3, 2, 1); /* 2x3 out */
    const int32_t want3[6] = {0, 1, 3, 5, 6, 8};
    for (int i = 0; i < 6; i++)
        cr_expect_eq(am[i], want3[i], "k3s2p1 tie argmax[%d] = %d", i, am[i]);
    const float g[6] = {1, 2, 3, 4, 5, 6};
    maxpool_backward(dx, g, am, 1, 1, 4, 5, 2, 3, 0);
    cr_expect_eq(dx[0], 1.0f);
    cr_expect_eq(dx[8], 6.0f);
    x[7] = NAN;
    maxpool_forward(out, am, x, 1, 1, 4, 5, 2, 2, 0);
    cr_expect(isnan(out[1]), "a NaN in the window must propagate");
    cr_expect_eq(am[1], 7);
    cr_expect_eq(out[0], 1.0f);
}

Test(maxpool, out_size_formula) {
    cr_expect_eq(pool_out_size(32, 2, 2, 0), 16);
    cr_expect_eq(pool_out_size(7, 2, 2, 0), 3);
    cr_expect_eq(pool_out_size(112, 3, 2, 1), 56);
    cr_expect_eq(pool_out_size(7, 3, 2, 1), 4);
    cr_expect_eq(pool_out_size(1, 3, 2, 0), 0, "window larger than the padded input");
}

/* ---- global average pool -------------------------------------------------- */

typedef struct {
    int N, C, HW;
    double *x;
    double *R;
} gap_ctx;

static double gap_obj(void *p) {
    gap_ctx *c = p;
    double s = 0;
    for (int i = 0; i < c->N * c->C; i++) {
        double m = 0;
        for (int k = 0; k < c->HW; k++) m += c->x[(size_t)i * c->HW + k];
        s += m / c->HW * c->R[i];
    }
    return s;
}

Test(avgpool_global, forward_backward_accumulate) {
    rng_t r;
    rng_init(&r, 5000, 100);
    int N = 2, C = 3, HW = 7;
    size_t nin = (size_t)N * C * HW, nout = (size_t)N * C;
    float *x = frandn(&r, nin, 1), *R = frandn(&r, nout, 1), *out = ffill(nout, NAN);
    avgpool_global_forward(out, x, N, C, HW);
    gap_ctx c = {N, C, HW, todouble(x, nin), todouble(R, nout)};
    double *want = dzeros(nout);
    for (size_t i = 0; i < nout; i++) {
        for (int k = 0; k < HW; k++) want[i] += c.x[i * HW + k];
        want[i] /= HW;
    }
    expect_close("gap forward", out, want, nout, FWD_TOL);
    float *dx = fzeros(nin);
    avgpool_global_backward(dx, R, N, C, HW);
    double *gx = dzeros(nin);
    fd_grad(gap_obj, &c, c.x, nin, gx);
    expect_close("gap dx", dx, gx, nin, GRAD_TOL);
    float *px = frandn(&r, nin, 1), *ax = fzeros(nin);
    memcpy(ax, px, sizeof(float) * nin);
    avgpool_global_backward(ax, R, N, C, HW);
    expect_accumulated("gap accumulate dx", ax, px, dx, nin);
    free(x), free(R), free(out), free(c.x), free(c.R), free(want), free(dx), free(gx), free(px);
    free(ax);
}

/* ---- average pool (ceil mode) and the parameter-free shortcut ------------- */

/* A pool or shortcut case: a double reference `fwd` of out from x, checked
 * against the float forward, its gradient against finite differences of
 * sum(out * R), and the backward's accumulation. */
typedef struct {
    int N, C, H, W, K, stride, OC, front, OH, OW;
    double *x, *R, *out;
    void (*fwd)(double *out, const void *ctx);
} shape_ctx;

static void avgpool_ref(double *out, const void *p) {
    const shape_ctx *c = p;
    for (int q = 0; q < c->N * c->C; q++)
        for (int oh = 0; oh < c->OH; oh++)
            for (int ow = 0; ow < c->OW; ow++) {
                double s = 0;
                int n = 0;
                for (int ih = oh * c->stride; ih < oh * c->stride + c->K && ih < c->H; ih++)
                    for (int iw = ow * c->stride; iw < ow * c->stride + c->K && iw < c->W; iw++, n++)
                        s += c->x[((size_t)q * c->H + ih) * c->W + iw];
                out[((size_t)q * c->OH + oh) * c->OW + ow] = s / n;
            }
}

static void shortcut_ref(double *out, const void *p) {
    const shape_ctx *c = p;
    for (int n = 0; n < c->N; n++)
        for (int oc = 0; oc < c->OC; oc++)
            for (int oh = 0; oh < c->OH; oh++)
                for (int ow = 0; ow < c->OW; ow++) {
                    int ch = oc - c->front;
                    out[(((size_t)n * c->OC + oc) * c->OH + oh) * c->OW + ow] =
                        ch < 0 || ch >= c->C ? 0.0
                            : c->x[(((size_t)n * c->C + ch) * c->H + oh * c->stride) * c->W + ow * c->stride];
                }
}

static double shape_obj(void *p) {
    shape_ctx *c = p;
    c->fwd(c->out, c);
    return dot(c->out, c->R, (size_t)c->N * c->OC * c->OH * c->OW);
}

static void shape_case(shape_ctx c, const char *tag,
                       void (*forward)(float *, const float *, const shape_ctx *),
                       void (*backward)(float *, const float *, const shape_ctx *)) {
    char what[160];
    rng_t r;
    rng_init(&r, 5100 + (uint64_t)(c.H * 10 + c.W + c.front), 100);
    size_t nin = (size_t)c.N * c.C * c.H * c.W, nout = (size_t)c.N * c.OC * c.OH * c.OW;
    float *x = frandn(&r, nin, 1), *R = frandn(&r, nout, 1), *out = ffill(nout, NAN);
    c.x = todouble(x, nin), c.R = todouble(R, nout), c.out = dzeros(nout);
    forward(out, x, &c);
    c.fwd(c.out, &c);
    snprintf(what, sizeof what, "%s forward", tag);
    expect_close(what, out, c.out, nout, FWD_TOL);
    float *dx = fzeros(nin);
    backward(dx, R, &c);
    double *gx = dzeros(nin);
    fd_grad(shape_obj, &c, c.x, nin, gx);
    snprintf(what, sizeof what, "%s dx", tag);
    expect_close(what, dx, gx, nin, GRAD_TOL);
    float *px = frandn(&r, nin, 1), *ax = fzeros(nin);
    memcpy(ax, px, sizeof(float) * nin);
    backward(ax, R, &c);
    snprintf(what, sizeof what, "%s accumulate dx", tag);
    expect_accumulated(what, ax, px, dx, nin);
    free(x), free(R), free(out), free(c.x), free(c.R), free(c.out), free(dx), free(gx), free(px);
    free(ax);
}

static void avgpool_fwd(float *out, const float *x, const shape_ctx *c) {
    avgpool_forward(out, x, c->N, c->C, c->H, c->W, c->K, c->stride);
}
static void avgpool_bwd(float *dx, const float *dout, const shape_ctx *c) {
    avgpool_backward(dx, dout, c->N, c->C, c->H, c->W, c->K, c->stride);
}
static void shortcut_fwd(float *out, const float *x, const shape_ctx *c) {
    shortcut_pad_forward(out, x, c->N, c->C, c->H, c->W, c->OC, c->front, c->stride);
}
static void shortcut_bwd(float *dx, const float *dout, const shape_ctx *c) {
    shortcut_pad_backward(dx, dout, c->N, c->C, c->H, c->W, c->OC, c->front, c->stride);
}

static void avgpool_case(int N, int C, int H, int W, int K, int stride) {
    char tag[96];
    snprintf(tag, sizeof tag, "avgpool N%d C%d %dx%d K%d s%d", N, C, H, W, K, stride);
    shape_ctx c = {N, C, H, W, K, stride, C, 0, avgpool_out_size(H, K, stride),
                   avgpool_out_size(W, K, stride), .fwd = avgpool_ref};
    shape_case(c, tag, avgpool_fwd, avgpool_bwd);
}

static void shortcut_case(int N, int C, int H, int W, int OC, int front, int stride) {
    char tag[96];
    snprintf(tag, sizeof tag, "shortcut N%d C%d %dx%d -> %d (front %d) s%d", N, C, H, W, OC, front, stride);
    shape_ctx c = {N, C, H, W, 1, stride, OC, front, (H + stride - 1) / stride, (W + stride - 1) / stride,
                   .fwd = shortcut_ref};
    shape_case(c, tag, shortcut_fwd, shortcut_bwd);
}

Test(avgpool, k2_s2_even) { avgpool_case(2, 3, 6, 4, 2, 2); }
/* Ceil mode: the last row and column of windows hang over the edge and
 * average the pixels they cover (7 -> 4, 5 -> 3). */
Test(avgpool, k2_s2_ceil_odd_sides) { avgpool_case(2, 2, 7, 5, 2, 2); }
Test(avgpool, k3_s2_overlapping) { avgpool_case(1, 2, 7, 6, 3, 2); }

Test(avgpool, out_size_ceil_mode) {
    cr_expect_eq(avgpool_out_size(32, 2, 2), 16);
    cr_expect_eq(avgpool_out_size(7, 2, 2), 4);
    cr_expect_eq(avgpool_out_size(1, 2, 2), 1);
    cr_expect_eq(avgpool_out_size(5, 3, 2), 2, "a window may not start past the edge");
    cr_expect_eq(avgpool_out_size(6, 3, 2), 3);
    cr_expect_eq(avgpool_out_size(0, 2, 2), 0);
}

/* Option A (stride 2, half of the new channels in front) and PyramidNet's
 * (stride 1, appended), odd sides included. */
Test(shortcut_pad, option_a_stride2) { shortcut_case(2, 3, 6, 5, 7, 2, 2); }
Test(shortcut_pad, appended_stride1) { shortcut_case(2, 3, 5, 4, 5, 0, 1); }
Test(shortcut_pad, same_channels_subsample) { shortcut_case(1, 2, 7, 7, 2, 0, 2); }

/* ---- linear ------------------------------------------------------------- */

typedef struct {
    int N, I, O;
    double *x, *w, *b;
    double *R;
} lin_ctx;

static double lin_obj(void *p) {
    lin_ctx *c = p;
    double s = 0;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->O; o++) {
            double acc = c->b ? c->b[o] : 0;
            for (int i = 0; i < c->I; i++) acc += c->x[n * c->I + i] * c->w[o * c->I + i];
            s += acc * c->R[n * c->O + o];
        }
    return s;
}

static void linear_case(int N, int I, int O, int bias) {
    char tag[64], what[128];
    snprintf(tag, sizeof tag, "linear N%d I%d O%d bias%d", N, I, O, bias);
    rng_t r;
    rng_init(&r, 6000 + (uint64_t)(N + I + O + bias), 100);
    size_t nin = (size_t)N * I, nw = (size_t)O * I, nout = (size_t)N * O;
    float *x = frandn(&r, nin, 1), *w = frandn(&r, nw, 0.5), *b = bias ? frandn(&r, O, 1) : NULL,
          *R = frandn(&r, nout, 1), *out = ffill(nout, NAN);
    linear_forward(out, x, w, b, N, I, O);
    lin_ctx c = {N, I, O, todouble(x, nin), todouble(w, nw), bias ? todouble(b, O) : NULL,
                 todouble(R, nout)};
    double *want = dzeros(nout);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            want[n * O + o] = c.b ? c.b[o] : 0;
            for (int i = 0; i < I; i++) want[n * O + o] += c.x[n * I + i] * c.w[o * I + i];
        }
    snprintf(what, sizeof what, "%s forward", tag);
    expect_close(what, out, want, nout, FWD_TOL);

    float *dx = fzeros(nin), *dw = fzeros(nw), *db = fzeros(O);
    linear_backward(dx, dw, bias ? db : NULL, R, x, w, N, I, O);
    double *gx = dzeros(nin), *gw = dzeros(nw), *gb = dzeros(O);
    fd_grad(lin_obj, &c, c.x, nin, gx);
    fd_grad(lin_obj, &c, c.w, nw, gw);
    snprintf(what, sizeof what, "%s dx", tag);
    expect_close(what, dx, gx, nin, GRAD_TOL);
    snprintf(what, sizeof what, "%s dw", tag);
    expect_close(what, dw, gw, nw, GRAD_TOL);
    if (bias) {
        fd_grad(lin_obj, &c, c.b, O, gb);
        snprintf(what, sizeof what, "%s db", tag);
        expect_close(what, db, gb, O, GRAD_TOL);
    }

    float *px = frandn(&r, nin, 1), *pw = frandn(&r, nw, 1), *pb = frandn(&r, O, 1);
    float *ax = fzeros(nin), *aw = fzeros(nw), *ab = fzeros(O);
    memcpy(ax, px, sizeof(float) * nin);
    memcpy(aw, pw, sizeof(float) * nw);
    memcpy(ab, pb, sizeof(float) * O);
    linear_backward(ax, aw, bias ? ab : NULL, R, x, w, N, I, O);
    snprintf(what, sizeof what, "%s accumulate dx", tag);
    expect_accumulated(what, ax, px, dx, nin);
    snprintf(what, sizeof what, "%s accumulate dw", tag);
    expect_accumulated(what, aw, pw, dw, nw);
    if (bias) {
        snprintf(what, sizeof what, "%s accumulate db", tag);
        expect_accumulated(what, ab, pb, db, O);
    }
    float *dw2 = fzeros(nw);
    linear_backward(NULL, dw2, NULL, R, x, w, N, I, O);
    snprintf(what, sizeof what, "%s dw with din=NULL", tag);
    expect_close_f(what, dw2, dw, nw, 1e-6);

    free(x), free(w), free(b), free(R), free(out), free(c.x), free(c.w), free(c.b), free(c.R);
    free(want), free(dx), free(dw), free(db), free(gx), free(gw), free(gb), free(px), free(pw);
    free(pb), free(ax), free(aw), free(ab), free(dw2);
}

Test(linear, bias) { linear_case(3, 7, 5, 1); }
Test(linear, no_bias_odd) { linear_case(5, 9, 3, 0); }
Test(linear, batch1) { linear_case(1, 4, 6, 1); }

/* ---- softmax cross-entropy --------------------------------------------- */

typedef struct {
    int N, K;
    double s;
    double *z;
    const int32_t *y;
} xent_ctx;

static double xent_obj(void *p) {
    xent_ctx *c = p;
    double total = 0;
    for (int n = 0; n < c->N; n++) {
        const double *z = c->z + (size_t)n * c->K;
        double m = z[0], se = 0, sl = 0;
        for (int k = 1; k < c->K; k++) m = z[k] > m ? z[k] : m;
        for (int k = 0; k < c->K; k++) se += exp(z[k] - m);
        double lse = m + log(se);
        for (int k = 0; k < c->K; k++) sl += z[k] - lse; /* sum log p */
        total += -(1 - c->s) * (z[c->y[n]] - lse) - c->s / c->K * sl;
    }
    return total / c->N;
}

static void xent_case(float smoothing) {
    char what[96];
    rng_t r;
    rng_init(&r, 7000 + (uint64_t)(smoothing * 100), 100);
    int N = 5, K = 7;
    size_t n = (size_t)N * K;
    float *z = frandn(&r, n, 3.0), *probs = ffill(n, NAN), *dz = ffill(n, NAN);
    int32_t y[5];
    for (int i = 0; i < N; i++) y[i] = (int32_t)rng_below(&r, K);
    int correct = -1;
    float loss = softmax_xent_forward(probs, z, y, N, K, smoothing, &correct);
    xent_ctx c = {N, K, smoothing, todouble(z, n), y};
    double want = xent_obj(&c);
    snprintf(what, sizeof what, "xent s=%g loss", smoothing);
    expect_close(what, &loss, &want, 1, 1e-6);
    int want_correct = 0;
    double *wp = dzeros(n);
    for (int i = 0; i < N; i++) {
        int arg = 0;
        double m = c.z[i * K], se = 0;
        for (int k = 1; k < K; k++)
            if (c.z[i * K + k] > m) m = c.z[i * K + k], arg = k;
        for (int k = 0; k < K; k++) se += exp(c.z[i * K + k] - m);
        for (int k = 0; k < K; k++) wp[i * K + k] = exp(c.z[i * K + k] - m) / se;
        want_correct += arg == y[i];
    }
    snprintf(what, sizeof what, "xent s=%g probs", smoothing);
    expect_close(what, probs, wp, n, FWD_TOL);
    cr_expect_eq(correct, want_correct);
    softmax_xent_backward(dz, probs, y, N, K, smoothing); /* writes: NaN prefill must vanish */
    double *g = dzeros(n);
    fd_grad(xent_obj, &c, c.z, n, g);
    snprintf(what, sizeof what, "xent s=%g dlogits", smoothing);
    expect_close(what, dz, g, n, GRAD_TOL);
    free(z), free(probs), free(dz), free(c.z), free(wp), free(g);
}

Test(softmax_xent, random_no_smoothing) { xent_case(0.0f); }
Test(softmax_xent, random_smoothing_0_1) { xent_case(0.1f); }

Test(softmax_xent, hand_values) {
    /* logits [1,2,3], label 2: loss = log(1 + e^-1 + e^-2) = 0.4076059644;
     * with s = 0.1: 0.9*0.40760596 + 0.1*mean(2.40760596, 1.40760596, 0.40760596). */
    const float z[3] = {1, 2, 3};
    const int32_t y = 2;
    float p[3];
    int correct;
    float l0 = softmax_xent_forward(p, z, &y, 1, 3, 0.0f, &correct);
    cr_expect_float_eq(l0, 0.4076059644f, 1e-6, "loss %.9g", l0);
    cr_expect_eq(correct, 1);
    cr_expect_float_eq(p[2], 0.6652409558f, 1e-6);
    float l1 = softmax_xent_forward(p, z, &y, 1, 3, 0.1f, NULL);
    cr_expect_float_eq(l1, 0.5076059644f, 1e-6, "smoothed loss %.9g", l1);
    /* uniform logits: log K whatever the smoothing */
    const float u[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    const int32_t y0 = 3;
    float pu[4];
    cr_expect_float_eq(softmax_xent_forward(pu, u, &y0, 1, 4, 0.3f, &correct), logf(4.0f), 1e-6);
    cr_expect_eq(correct, 0, "ties: first max (index 0) wins, label 3 is not correct");
    /* mean over the batch, and the backward by hand: (p - onehot)/N */
    const float z2[6] = {1, 2, 3, 1, 2, 3};
    const int32_t y2[2] = {2, 0};
    float p2[6], d2[6];
    float l2 = softmax_xent_forward(p2, z2, y2, 2, 3, 0.0f, &correct);
    cr_expect_float_eq(l2, 0.5f * (0.4076059644f + 2.4076059644f), 1e-6);
    cr_expect_eq(correct, 1);
    softmax_xent_backward(d2, p2, y2, 2, 3, 0.0f);
    cr_expect_float_eq(d2[2], (0.6652409558f - 1.0f) / 2, 1e-6);
    cr_expect_float_eq(d2[3], (0.0900305732f - 1.0f) / 2, 1e-6);
    cr_expect_float_eq(d2[4], 0.2447284711f / 2, 1e-6);
}

Test(softmax_xent, stable_for_huge_logits) {
    const float z[6] = {1e4f, 1e4f - 1, 1e4f - 2, -1e4f, 1e4f, 0.0f};
    const int32_t y[2] = {2, 0};
    float p[6], d[6];
    int correct;
    float l = softmax_xent_forward(p, z, y, 2, 3, 0.0f, &correct);
    /* row 0: log(1 + e^-1 + e^-2) + 2 = 2.4076; row 1: 2e4 exactly */
    cr_expect(isfinite(l), "loss %g", l);
    cr_expect_float_eq(l, 0.5f * (2.4076059644f + 2e4f), 1e-2, "loss %.9g", l);
    for (int i = 0; i < 6; i++) cr_expect(isfinite(p[i]) && p[i] >= 0 && p[i] <= 1);
    cr_expect_float_eq(p[0] + p[1] + p[2], 1.0f, 1e-6);
    cr_expect_float_eq(p[4], 1.0f, 1e-6);
    softmax_xent_backward(d, p, y, 2, 3, 0.1f);
    for (int i = 0; i < 6; i++) cr_expect(isfinite(d[i]));
    for (int row = 0; row < 2; row++)
        cr_expect_float_eq(d[3 * row] + d[3 * row + 1] + d[3 * row + 2], 0.0f, 1e-6,
                           "gradient rows sum to zero");
}

/* ---- relu / add / accumulate -------------------------------------------- */

Test(elementwise, relu_forward_backward) {
    rng_t r;
    rng_init(&r, 8000, 100);
    size_t n = 257;
    float *x = frandn(&r, n, 1), *out = ffill(n, NAN), *R = frandn(&r, n, 1);
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) < 1e-3f) x[i] = 0.5f; /* away from the kink */
    relu_forward(out, x, n);
    for (size_t i = 0; i < n; i++) cr_expect_eq(out[i], x[i] > 0 ? x[i] : 0.0f);
    float *pre = frandn(&r, n, 1), *din = fzeros(n);
    memcpy(din, pre, sizeof(float) * n);
    relu_backward(din, R, out, n, 0);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(din[i], pre[i] + (x[i] > 0 ? R[i] : 0.0f), "relu backward at %zu", i);
    float nan_in = NAN, nan_out = 0;
    relu_forward(&nan_out, &nan_in, 1);
    cr_expect(isnan(nan_out), "relu must propagate NaN so a diverged run is detected");
    free(x), free(out), free(R), free(pre), free(din);
}

Test(elementwise, add_and_accumulate) {
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {10, 20, 30, 40, 50}, o[5];
    add_forward(o, a, b, 5);
    for (int i = 0; i < 5; i++) cr_expect_eq(o[i], 11.0f * (i + 1));
    accumulate(o, a, 5);
    for (int i = 0; i < 5; i++) cr_expect_eq(o[i], 12.0f * (i + 1));
    add_forward(a, a, b, 5); /* in place (residual add into its own input) */
    for (int i = 0; i < 5; i++) cr_expect_eq(a[i], 11.0f * (i + 1));
}

/* ---- dropout ------------------------------------------------------------ */

Test(dropout, p0_is_exact_copy) {
    rng_t r, before;
    rng_init(&r, 9000, 100);
    size_t n = 1000;
    float *x = frandn(&r, n, 1), *out = ffill(n, NAN), *mask = ffill(n, NAN);
    before = r;
    dropout_forward(out, mask, x, n, 0.0f, &r);
    cr_expect(memcmp(out, x, sizeof(float) * n) == 0, "p = 0 must copy bit for bit");
    for (size_t i = 0; i < n; i++) cr_expect_eq(mask[i], 1.0f);
    cr_expect(memcmp(&r, &before, sizeof r) == 0, "p = 0 must not consume randomness");
    free(x), free(out), free(mask);
}

Test(dropout, mask_statistics_and_backward) {
    rng_t r;
    rng_init(&r, 9001, 100);
    const size_t n = 200000;
    const float p = 0.3f, scale = 1.0f / (1.0f - p);
    float *x = frandn(&r, n, 1), *out = fzeros(n), *mask = fzeros(n);
    rng_t r1, r2, r3;
    rng_init(&r1, 42, RNG_STREAM_WORKER);
    r2 = r1;
    rng_init(&r3, 42, RNG_STREAM_WORKER + 1);
    dropout_forward(out, mask, x, n, p, &r1);
    size_t kept = 0;
    double mean_mask = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert(mask[i] == 0.0f || mask[i] == scale, "mask[%zu] = %g", i, mask[i]);
        cr_assert_eq(out[i], x[i] * mask[i], "out != in * mask at %zu", i);
        kept += mask[i] != 0.0f;
        mean_mask += mask[i];
    }
    double frac = (double)kept / n; /* binomial sd = sqrt(0.21/n) ~ 0.001 */
    cr_expect(fabs(frac - 0.7) < 0.005, "kept fraction %.4f, expected 0.7", frac);
    cr_expect(fabs(mean_mask / n - 1.0) < 0.008, "E[mask] = %.4f, expected 1", mean_mask / n);
    /* no long runs: neighbouring decisions are independent (lag-1 agreement ~ 0.58) */
    size_t agree = 0;
    for (size_t i = 1; i < n; i++) agree += (mask[i] != 0) == (mask[i - 1] != 0);
    cr_expect(fabs((double)agree / (n - 1) - 0.58) < 0.01, "lag-1 agreement %.4f",
              (double)agree / (n - 1));

    /* deterministic per stream; a different stream gives a different mask */
    float *mask2 = fzeros(n), *mask3 = fzeros(n);
    dropout_forward(out, mask2, x, n, p, &r2);
    dropout_forward(out, mask3, x, n, p, &r3);
    cr_expect(memcmp(mask, mask2, sizeof(float) * n) == 0, "same stream, same mask");
    cr_expect(memcmp(mask, mask3, sizeof(float) * n) != 0, "other stream, other mask");

    /* backward: din += dout * mask (the exact gradient of out = in * mask) */
    float *dout = frandn(&r, n, 1), *din = frandn(&r, n, 1), *pre = fzeros(n);
    memcpy(pre, din, sizeof(float) * n);
    dropout_backward(din, dout, mask, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(din[i], pre[i] + dout[i] * mask[i], "dropout backward at %zu", i);
    free(x), free(out), free(mask), free(mask2), free(mask3), free(dout), free(din), free(pre);
}

Test(dropout, p1_drops_everything) {
    rng_t r;
    rng_init(&r, 9002, 100);
    float x[16], out[16], mask[16];
    for (int i = 0; i < 16; i++) x[i] = (float)i + 1;
    dropout_forward(out, mask, x, 16, 1.0f, &r);
    for (int i = 0; i < 16; i++) cr_expect(out[i] == 0.0f && mask[i] == 0.0f);
}
