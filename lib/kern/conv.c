/* conv.c - the convolution dispatch and its GEMM paths (see conv.h for the order of choice).
 *
 * The fallbacks that go through the caller's workspace run one image at a
 * time under a lock (the workspace is one column matrix); they only run when
 * the packing buffers could not be allocated, or with DPPF_GEMM=blis. */
#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "conv_direct.h"
#include "conv_wgrad.h"
#include "gemm.h"
#include "gemm_driver.h"
#include "im2col.h"
#include "kern_record.h"
#include "scratch.h"

/* DPPF_CONV=gemm (and the portable packing, DPPF_PACK=generic) send every
 * convolution through the GEMM driver: for comparisons, and so that tests
 * cover it. Read once, like the GEMM kernel choice. */
static pthread_once_t direct_once = PTHREAD_ONCE_INIT;
static int use_direct;

static void choose_direct(void) {
    const char *cv = getenv("DPPF_CONV"), *pk = getenv("DPPF_PACK");
    use_direct = !(cv && !strcmp(cv, "gemm")) && !(pk && !strcmp(pk, "generic"));
}

static int direct_enabled(void) {
    pthread_once(&direct_once, choose_direct);
    return use_direct;
}

/* A 1x1 stride-1 unpadded convolution is a plain GEMM on the image itself. */
static int pointwise(const conv_geom *g) {
    return g->KH == 1 && g->KW == 1 && g->stride == 1 && g->pad == 0;
}

static int taps(const conv_geom *g) { return g->C * g->KH * g->KW; }
static int pixels(const conv_geom *g) { return g->OH * g->OW; }
static size_t image_floats(const conv_geom *g) { return (size_t)g->C * g->H * g->W; }

/* A batch of N images fits one GEMM over their pixels (int dimensions). */
static int batch_fits(int M, int N, const conv_geom *g) {
    return M > 0 && N > 0 && taps(g) > 0 && pixels(g) > 0 && (long)N * pixels(g) <= INT_MAX;
}

/* A record of a convolution path that ran: per-image product M x N x K. */
static void record_conv(kern_kind kind, int M, int N, int K, int images, const conv_geom *g,
                        float beta, const conv_epilogue *ep) {
    kern_record(&(kern_call){.kind = kind, .M = M, .N = N, .K = K, .images = images,
                             .alpha = 1.0f, .beta = beta, .g = *g,
                             .epilogue = ep ? 1 + (ep->relu != 0) : 0, .pool = ep && ep->pool});
}

/* A column matrix per thread (the parallel input gradient) or the flipped
 * weights, grown on first use and kept: no allocation per step. */
static _Thread_local scratch_t scratch;

static float *thread_scratch(size_t floats) { return scratch_reserve(&scratch, floats); }

/* ---- the paths ------------------------------------------------------------- */

int conv_fwd_direct(int OC, int N, const float *w, const float *images, const conv_geom *g,
                    float beta, float *out, const conv_epilogue *ep) {
    int threads;
    gemm_driver_kernel(&threads);
    if (conv_direct_batch(OC, N, w, images, g, beta, out, ep, threads)) return -1;
    if (kern_recording()) record_conv(KERN_CONV_DIRECT, OC, pixels(g), taps(g), N, g, beta, ep);
    return 0;
}

int conv_fwd_gemm_batch(int OC, int N, const float *w, const float *images, const conv_geom *g,
                        float beta, float *out) {
    const int K = taps(g), P = pixels(g);
    int threads;
    const gemm_kernel *kr = gemm_driver_kernel(&threads);
    if (!kr || !batch_fits(OC, N, g)) return -1;
    gemm_src a = gemm_src_dense(w, K, 1);
    gemm_src b = gemm_src_batched_outer(gemm_src_im2col(images, g), P, (long)image_floats(g));
    if (gemm_drive_batched(kr, threads, OC, N * P, K, 1.0f, &a, &b, beta, out, P, 1, P,
                           (long)OC * P))
        return -1;
    if (kern_recording()) record_conv(KERN_CONV_BATCH, OC, P, K, N, g, beta, NULL);
    return 0;
}

int conv_fwd_gemm_image(int M, const float *A, int lda, const float *image, const conv_geom *g,
                        float beta, float *C, int ldc) {
    const int K = taps(g), N = pixels(g);
    int threads;
    const gemm_kernel *kr = gemm_driver_kernel(&threads);
    if (!kr || M <= 0 || N <= 0 || K <= 0) return -1; /* gemm() has the degenerate cases */
    gemm_src a = gemm_src_dense(A, lda, 1), b = gemm_src_im2col(image, g);
    if (gemm_drive(kr, threads, M, N, K, 1.0f, &a, &b, beta, C, ldc, 1)) return -1;
    if (kern_recording())
        kern_record(&(kern_call){.kind = KERN_CONV_IMAGE, .M = M, .N = N, .K = K, .lda = lda,
                                 .ldc = ldc, .images = 1, .alpha = 1.0f, .beta = beta, .g = *g});
    return 0;
}

int conv_dw_gemm_batch(int M, int N, const float *dout, const float *images, const conv_geom *g,
                       float *dw) {
    const int CKK = taps(g), P = pixels(g);
    int threads;
    const gemm_kernel *kr = gemm_driver_kernel(&threads);
    if (!kr || !batch_fits(M, N, g)) return -1;
    gemm_src a = gemm_src_batched(gemm_src_dense(dout, P, 1), P, (long)M * P);
    gemm_src b = gemm_src_batched(gemm_src_im2col_t(images, g), P, (long)image_floats(g));
    if (gemm_drive(kr, threads, M, CKK, N * P, 1.0f, &a, &b, 1.0f, dw, CKK, 1)) return -1;
    if (kern_recording()) record_conv(KERN_CONV_DW, M, CKK, P, N, g, 1.0f, NULL);
    return 0;
}

int conv_dw_direct(int M, int N, const float *dout, const float *images, const conv_geom *g,
                   float *dw) {
    int threads;
    const gemm_kernel *kr = gemm_driver_kernel(&threads);
    if (!kr || !batch_fits(M, N, g)) return -1;
    if (conv_wgrad_direct(M, N, dout, images, g, kr->kc, dw, threads)) return -1;
    if (kern_recording()) record_conv(KERN_CONV_DW_DIRECT, M, taps(g), pixels(g), N, g, 1.0f, NULL);
    return 0;
}

/* ---- the dispatch ---------------------------------------------------------- */

size_t conv_work_floats(const conv_geom *g) {
    if (pointwise(g)) return 0;
    return (size_t)taps(g) * pixels(g);
}

/* The whole batch at once: the direct kernel, else one GEMM (then ep as a
 * pass). -1 (nothing written) when neither applies. */
static int forward_batch(int OC, int N, const float *w, const float *images, const conv_geom *g,
                         float beta, float *out, const conv_epilogue *ep) {
    int threads;
    if (!gemm_driver_kernel(&threads) || !batch_fits(OC, N, g)) return -1;
    if (direct_enabled() && conv_fwd_direct(OC, N, w, images, g, beta, out, ep) == 0) return 0;
    if (conv_fwd_gemm_batch(OC, N, w, images, g, beta, out)) return -1;
    if (ep) conv_epilogue_apply(out, N, OC, (size_t)pixels(g), ep);
    return 0;
}

void conv_forward(int OC, int N, const float *w, const float *in, const conv_geom *g, float beta,
                  float *out, const conv_epilogue *ep, float *work) {
    const int P = pixels(g), CKK = taps(g);
    const size_t in_img = image_floats(g), out_img = (size_t)OC * P;
    const int pw = pointwise(g);
    if (!pw && forward_batch(OC, N, w, in, g, beta, out, ep) == 0) return;
    /* Images in parallel, each packing its im2col matrix on its own thread.
     * An image whose packing buffers could not be allocated (nothing is
     * written then), or a 1x1 convolution on the image itself, goes through
     * the shared workspace, one at a time. */
#pragma omp parallel for schedule(static) if (N > 1 && !pw)
    for (int n = 0; n < N; n++) {
        const float *x = in + n * in_img;
        float *y = out + n * out_img;
        if (!pw && conv_fwd_gemm_image(OC, w, CKK, x, g, beta, y, P) == 0) continue;
#pragma omp critical(dppf_conv_work)
        {
            const float *col = x;
            if (!pw) {
                im2col(work, x, g);
                col = work;
            }
            gemm(false, false, OC, P, CKK, 1.0f, w, CKK, col, P, beta, y, P);
        }
    }
    if (ep) conv_epilogue_apply(out, N, OC, (size_t)P, ep);
}

int conv_forward_pool(int OC, int N, const float *w, const float *in, const conv_geom *g,
                      float *out, const conv_epilogue *ep) {
    int threads;
    if (!ep || !ep->pool || !gemm_driver_kernel(&threads) || !batch_fits(OC, N, g) ||
        !direct_enabled())
        return -1;
    return conv_fwd_direct(OC, N, w, in, g, 0.0f, out, ep);
}

void conv_weight_grad(int OC, int N, const float *dout, const float *in, const conv_geom *g,
                      float *dw, float *work) {
    const int P = pixels(g), CKK = taps(g);
    const size_t in_img = image_floats(g), out_img = (size_t)OC * P;
    const int pw = pointwise(g);
    /* The direct kernel (3x3, 16k output channels), else one GEMM over the
     * whole batch (k = image, pixel), split over the threads by the GEMM
     * itself; image by image through the workspace if neither can run. */
    if (!pw && direct_enabled() && conv_dw_direct(OC, N, dout, in, g, dw) == 0) return;
    if (!pw && conv_dw_gemm_batch(OC, N, dout, in, g, dw) == 0) return;
    for (int n = 0; n < N; n++) {
        const float *col = in + n * in_img;
        if (!pw) {
            im2col(work, col, g); /* recomputed: cheaper in memory than keeping N columns */
            col = work;
        }
        /* dw[OC,CKK] += dout_n[OC,P] * col[CKK,P]^T */
        gemm(false, true, OC, CKK, P, 1.0f, dout + n * out_img, P, col, P, 1.0f, dw, CKK);
    }
}

/* One image's input gradient through a column matrix: col = w^T dout_n, then
 * scattered into dx_n (col2im), which adds: a fresh dx_n is zeroed first. */
static void input_grad_col(float *dx, const float *gout, const float *w, int OC,
                           const conv_geom *g, float *col, int fresh) {
    const int P = pixels(g), CKK = taps(g);
    gemm(true, false, CKK, P, OC, 1.0f, w, CKK, gout, P, 0.0f, col, P);
    if (fresh) memset(dx, 0, image_floats(g) * sizeof *dx);
    col2im_add(dx, col, g);
}

/* For stride 1 the input gradient is itself a convolution: of dout (OC
 * channels, OH x OW) with the weights flipped in space and with C and OC
 * swapped, padded by K-1-pad, which gives back H x W. Run that way it needs
 * no column matrix and no col2im, and packs im2col from dout like a forward
 * pass. Returns -1 (nothing added) when it does not apply. */
static int input_grad_as_conv(int OC, int N, const float *w, const float *dout,
                              const conv_geom *g, float *din, float *work, int fresh) {
    const int C = g->C, KH = g->KH, KW = g->KW, P = pixels(g);
    if (g->stride != 1 || KH != KW || g->pad > KH - 1) return -1;
    const conv_geom gt = {.C = OC, .H = g->OH, .W = g->OW, .KH = KH, .KW = KW, .stride = 1,
                          .pad = KH - 1 - g->pad, .OH = g->H, .OW = g->W};
    float *wt = thread_scratch((size_t)C * OC * KH * KW); /* this thread's; free until the loop below */
    if (!wt) return -1;
    for (int c = 0; c < C; c++)
        for (int oc = 0; oc < OC; oc++)
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++)
                    wt[(((size_t)c * OC + oc) * KH + kh) * KW + kw] =
                        w[(((size_t)oc * C + c) * KH + (KH - 1 - kh)) * KW + (KW - 1 - kw)];
    const float beta = fresh ? 0.0f : 1.0f;
    if (forward_batch(C, N, wt, dout, &gt, beta, din, NULL) == 0) return 0;
    /* Image by image; an image whose GEMM cannot run goes through the column
     * matrix in the shared workspace, one at a time. */
    const size_t in_img = image_floats(g), out_img = (size_t)OC * P;
#pragma omp parallel for schedule(static) if (N > 1)
    for (int n = 0; n < N; n++) {
        if (conv_fwd_gemm_image(C, wt, OC * KH * KW, dout + n * out_img, &gt, beta,
                                din + n * in_img, g->H * g->W) == 0)
            continue;
#pragma omp critical(dppf_conv_work)
        input_grad_col(din + n * in_img, dout + n * out_img, w, OC, g, work, fresh);
    }
    return 0;
}

void conv_input_grad(int OC, int N, const float *w, const float *dout, const conv_geom *g,
                     float *din, float *work, int fresh) {
    const int P = pixels(g), CKK = taps(g);
    const size_t in_img = image_floats(g), out_img = (size_t)OC * P;
    if (pointwise(g)) {
        /* dx[C,HW] += w[OC,C]^T * dout_n[OC,HW] straight into the accumulator. */
        for (int n = 0; n < N; n++)
            gemm(true, false, CKK, P, OC, 1.0f, w, CKK, dout + n * out_img, P, fresh ? 0.0f : 1.0f,
                 din + n * in_img, P);
        return;
    }
    if (input_grad_as_conv(OC, N, w, dout, g, din, work, fresh) == 0) return;
    /* Images in parallel, each through a column matrix of its thread's own
     * (the shared workspace when alone, or under a lock if the thread's own
     * could not be allocated). */
    const size_t col_floats = (size_t)CKK * P;
#pragma omp parallel for schedule(static) if (N > 1)
    for (int n = 0; n < N; n++) {
        const float *gout = dout + n * out_img;
        float *dx = din + n * in_img;
        float *col = omp_get_num_threads() > 1 ? thread_scratch(col_floats) : work;
        if (col) {
            input_grad_col(dx, gout, w, OC, g, col, fresh);
        } else {
#pragma omp critical(dppf_conv_work)
            input_grad_col(dx, gout, w, OC, g, work, fresh);
        }
    }
}
