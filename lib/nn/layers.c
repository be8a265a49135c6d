/* layers.c - forward/backward kernels of every layer (see layers.h for the contracts).
 *
 * Forward writes, backward accumulates. Reductions that feed statistics or
 * losses (BN mean/var, bias and gamma/beta gradients, log-sum-exp) run in
 * double so results do not drift with batch size. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "gemm.h"
#include "layers.h"
#include "parallel.h"
#include "pool.h"

/* ---- reductions -------------------------------------------------------- */

/* Sums in double with 8 independent partial sums: a fixed order (so results
 * are deterministic without -ffast-math) that still pipelines/vectorises,
 * instead of one long dependent chain of double adds. */
#define RED_LANES 8

/* The gradient reaching a BN output: d, or with the fused ReLU after it
 * (y its output) exactly what relu_backward adds into a zeroed buffer,
 * 0 + (y > 0 ? d : 0) (the 0 + turns a -0 into +0, as the add did). */
static inline __attribute__((always_inline)) float bn_grad(const float *restrict d,
                                                          const float *restrict y, size_t i,
                                                          int relu) {
    if (!relu) return d[i];
    /* (y > 0 ? d : +0) as a bit mask: the form GCC vectorises */
    uint32_t bits;
    float v = d[i];
    memcpy(&bits, &v, sizeof bits);
    bits &= 0u - (uint32_t)(y[i] > 0.0f);
    memcpy(&v, &bits, sizeof v);
    return 0.0f + v;
}

/* sum of bn_grad (sum_f: of x itself) */
static inline __attribute__((always_inline)) double sum_grad(const float *restrict d,
                                                            const float *restrict y, size_t n,
                                                            int relu) {
    double acc[RED_LANES] = {0};
    size_t i = 0;
    for (; i + RED_LANES <= n; i += RED_LANES)
        for (int l = 0; l < RED_LANES; l++) acc[l] += bn_grad(d, y, i + l, relu);
    double s = 0.0;
    for (; i < n; i++) s += bn_grad(d, y, i, relu);
    for (int l = 0; l < RED_LANES; l++) s += acc[l];
    return s;
}

/* sum x */
static double sum_f(const float *restrict x, size_t n) { return sum_grad(x, NULL, n, 0); }

/* sum (x - m)^2 */
static double sum_sqdev_f(const float *restrict x, size_t n, double m) {
    double acc[RED_LANES] = {0};
    size_t i = 0;
    for (; i + RED_LANES <= n; i += RED_LANES)
        for (int l = 0; l < RED_LANES; l++) {
            double d = x[i + l] - m;
            acc[l] += d * d;
        }
    double s = 0.0;
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    for (int l = 0; l < RED_LANES; l++) s += acc[l];
    return s;
}

/* ---- conv2d ------------------------------------------------------------ */

int pool_out_size(int H, int K, int stride, int pad) {
    int span = H + 2 * pad - K;
    /* C division truncates toward zero, so a negative span needs its own case. */
    if (span < 0 || stride < 1) return 0;
    return span / stride + 1;
}

conv_shape conv_shape_make(int C, int H, int W, int OC, int K, int stride, int pad) {
    conv_shape s = {.C = C, .H = H, .W = W, .OC = OC, .KH = K, .KW = K,
                    .stride = stride, .pad = pad};
    s.OH = pool_out_size(H, K, stride, pad);
    s.OW = pool_out_size(W, K, stride, pad);
    return s;
}

/* The kernels' view of a layer's shape (output channels go beside it). */
static conv_geom geom_of(const conv_shape *s) {
    return (conv_geom){.C = s->C, .H = s->H, .W = s->W, .KH = s->KH, .KW = s->KW,
                       .stride = s->stride, .pad = s->pad, .OH = s->OH, .OW = s->OW};
}

/* The workspace is what the convolution dispatch needs for one image; the
 * batch is processed image by image where it is used at all, so the size
 * does not depend on N. */
size_t conv_workspace_size(const conv_shape *s, int N) {
    (void)N;
    const conv_geom g = geom_of(s);
    return conv_work_floats(&g);
}

/* Pre-filling the bias and using beta = 1 saves a second pass over y. */
static void conv_fill_bias(float *y, const float *b, int OC, int P) {
    if (!b) return;
    for (int oc = 0; oc < OC; oc++)
        for (int p = 0; p < P; p++) y[(size_t)oc * P + p] = b[oc];
}

static void conv2d_forward_ep(float *out, const float *in, const float *w, const float *b, int N,
                              const conv_shape *s, float *work, const conv_epilogue *ep) {
    const int OC = s->OC, P = s->OH * s->OW;
    const size_t out_img = (size_t)OC * P;
    const conv_geom g = geom_of(s);
#pragma omp parallel for schedule(static) if ((size_t)N * out_img >= PAR_MIN)
    for (int n = 0; n < N; n++) conv_fill_bias(out + n * out_img, b, OC, P);
    conv_forward(OC, N, w, in, &g, b ? 1.0f : 0.0f, out, ep, work);
}

void conv2d_forward(float *out, const float *in, const float *w, const float *b, int N,
                    const conv_shape *s, float *work) {
    conv2d_forward_ep(out, in, w, b, N, s, work, NULL);
}

void conv2d_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                     const float *w, int N, const conv_shape *s, float *work, int fresh) {
    const int OC = s->OC, P = s->OH * s->OW;
    const size_t out_img = (size_t)OC * P;
    const conv_geom g = geom_of(s);
    if (db) {
#pragma omp parallel for schedule(static) if ((size_t)N * out_img >= PAR_MIN)
        for (int oc = 0; oc < OC; oc++) {
            double acc = 0.0;
            for (int n = 0; n < N; n++)
                acc += sum_f(dout + n * out_img + (size_t)oc * P, (size_t)P);
            db[oc] += (float)acc;
        }
    }
    if (dw) conv_weight_grad(OC, N, dout, in, &g, dw, work);
    if (din) conv_input_grad(OC, N, w, dout, &g, din, work, fresh);
}

/* ---- batchnorm2d -------------------------------------------------------- */

/* "x < 0 ? 0 : x" rather than fmaxf so that NaN propagates to the loss check. */
static inline float relu1(float x) { return x < 0.0f ? 0.0f : x; }

/* relu != 0: the ReLU that follows is applied in the same pass (net.c fuses
 * them); the values are those of the two layers run one after the other. */
static void bn_forward_train(float *out, float *mean_out, float *invstd, const float *in,
                             const float *gamma, const float *beta, float *running_mean,
                             float *running_var, int N, int C, int HW, float momentum, float eps,
                             int relu) {
    const size_t M = (size_t)N * HW;
#pragma omp parallel for schedule(static) if (M * C >= PAR_MIN)
    for (int c = 0; c < C; c++) {
        /* Two passes in double: exact enough that the variance never goes negative. */
        double sum = 0.0;
        for (int n = 0; n < N; n++) sum += sum_f(in + ((size_t)n * C + c) * HW, (size_t)HW);
        const double mean = M ? sum / (double)M : 0.0;
        double ss = 0.0;
        for (int n = 0; n < N; n++)
            ss += sum_sqdev_f(in + ((size_t)n * C + c) * HW, (size_t)HW, mean);
        const double var = M ? ss / (double)M : 0.0; /* biased: used to normalise */
        const double is = 1.0 / sqrt(var + (double)eps);
        invstd[c] = (float)is;
        mean_out[c] = (float)mean;
        const float mf = (float)mean, isf = (float)is, g = gamma[c], bt = beta[c];
        for (int n = 0; n < N; n++) {
            const size_t off = ((size_t)n * C + c) * HW;
            const float *restrict x = in + off;
            float *restrict y = out + off;
            if (relu)
                for (int i = 0; i < HW; i++) y[i] = relu1(g * ((x[i] - mf) * isf) + bt);
            else
                for (int i = 0; i < HW; i++) {
                    float v = (x[i] - mf) * isf; /* xhat: backward recomputes it the same way */
                    y[i] = g * v + bt;
                }
        }
        /* PyTorch stores the unbiased variance; with one value per channel it
         * refuses to train, here the (zero) biased variance is kept instead. */
        const double uvar = M > 1 ? ss / (double)(M - 1) : var;
        const double m = momentum;
        running_mean[c] = (float)((1.0 - m) * running_mean[c] + m * mean);
        running_var[c] = (float)((1.0 - m) * running_var[c] + m * uvar);
    }
}

void batchnorm_forward_train(float *out, float *mean_out, float *invstd, const float *in,
                             const float *gamma, const float *beta, float *running_mean,
                             float *running_var, int N, int C, int HW, float momentum, float eps) {
    bn_forward_train(out, mean_out, invstd, in, gamma, beta, running_mean, running_var, N, C, HW,
                     momentum, eps, 0);
}

void batchnorm_relu_forward_train(float *out, float *mean_out, float *invstd, const float *in,
                                  const float *gamma, const float *beta, float *running_mean,
                                  float *running_var, int N, int C, int HW, float momentum,
                                  float eps) {
    bn_forward_train(out, mean_out, invstd, in, gamma, beta, running_mean, running_var, N, C, HW,
                     momentum, eps, 1);
}

/* Eval-mode BN of channel c as y = x*scale + shift, folded once per channel. */
static void bn_eval_affine(float *scale, float *shift, const float *gamma, const float *beta,
                           const float *running_mean, const float *running_var, int c, float eps) {
    const double is = 1.0 / sqrt((double)running_var[c] + (double)eps);
    *scale = (float)(gamma[c] * is);
    *shift = (float)(beta[c] - running_mean[c] * (double)gamma[c] * is);
}

static void bn_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, int N, int C,
                            int HW, float eps, int relu) {
#pragma omp parallel for schedule(static) if ((size_t)N * HW * C >= PAR_MIN)
    for (int c = 0; c < C; c++) {
        float scale, shift;
        bn_eval_affine(&scale, &shift, gamma, beta, running_mean, running_var, c, eps);
        for (int n = 0; n < N; n++) {
            const size_t off = ((size_t)n * C + c) * HW;
            const float *x = in + off; /* may be out: in place */
            float *y = out + off;
            if (relu)
                for (int i = 0; i < HW; i++) y[i] = relu1(x[i] * scale + shift);
            else
                for (int i = 0; i < HW; i++) y[i] = x[i] * scale + shift;
        }
    }
}

void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, int N, int C,
                            int HW, float eps) {
    bn_forward_eval(out, in, gamma, beta, running_mean, running_var, N, C, HW, eps, 0);
}

void batchnorm_relu_forward_eval(float *out, const float *in, const float *gamma,
                                 const float *beta, const float *running_mean,
                                 const float *running_var, int N, int C, int HW, float eps) {
    bn_forward_eval(out, in, gamma, beta, running_mean, running_var, N, C, HW, eps, 1);
}

enum { FOLD_MAX = 1024 }; /* channels folded on the stack; wider layers take two passes */

void conv2d_batchnorm_forward_eval(float *out, const float *in, const float *w, const float *b,
                                   int N, const conv_shape *s, float *work, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, float eps, int relu) {
    const int OC = s->OC, HW = s->OH * s->OW;
    if (OC > FOLD_MAX) {
        conv2d_forward_ep(out, in, w, b, N, s, work, NULL);
        bn_forward_eval(out, out, gamma, beta, running_mean, running_var, N, OC, HW, eps, relu);
        return;
    }
    float scale[FOLD_MAX], shift[FOLD_MAX];
    for (int c = 0; c < OC; c++)
        bn_eval_affine(&scale[c], &shift[c], gamma, beta, running_mean, running_var, c, eps);
    const conv_epilogue ep = {.scale = scale, .shift = shift, .relu = relu};
    conv2d_forward_ep(out, in, w, b, N, s, work, &ep);
}

int conv2d_batchnorm_pool_forward_eval(float *out, const float *in, const float *w, int N,
                                       const conv_shape *s, const float *gamma, const float *beta,
                                       const float *running_mean, const float *running_var,
                                       float eps, int relu) {
    const int OC = s->OC;
    if (OC > FOLD_MAX) return -1;
    float scale[FOLD_MAX], shift[FOLD_MAX];
    for (int c = 0; c < OC; c++)
        bn_eval_affine(&scale[c], &shift[c], gamma, beta, running_mean, running_var, c, eps);
    const conv_epilogue ep = {.scale = scale, .shift = shift, .relu = relu, .pool = 1};
    const conv_geom g = geom_of(s);
    return conv_forward_pool(OC, N, w, in, &g, out, &ep);
}

/* sum g*xhat (g = bn_grad) with xhat = (x - m)*is computed exactly as the forward does. */
static inline __attribute__((always_inline)) double
sum_prod_xhat(const float *restrict d, const float *restrict y, const float *restrict x, float m,
              float is, size_t n, int relu) {
    double acc[RED_LANES] = {0};
    size_t i = 0;
    for (; i + RED_LANES <= n; i += RED_LANES)
        for (int l = 0; l < RED_LANES; l++)
            acc[l] += (double)bn_grad(d, y, i + l, relu) * ((x[i + l] - m) * is);
    double s = 0.0;
    for (; i < n; i++) s += (double)bn_grad(d, y, i, relu) * ((x[i] - m) * is);
    for (int l = 0; l < RED_LANES; l++) s += acc[l];
    return s;
}

/* Channel c of the BN backward; din is also allowed to be NULL (BN straight
 * on the network input). relu: dout is the gradient of the fused ReLU's
 * output y (see bn_grad). Inlined with relu a constant into each caller's
 * parallel loop (OpenMP outlines the loop before inlining, so a shared
 * loop would test relu at every element and not vectorise). */
static inline __attribute__((always_inline)) void
bn_backward_channel(float *din, float *dgamma, float *dbeta, const float *dout, const float *y,
                    const float *in, const float *mean, const float *invstd, const float *gamma,
                    int N, int C, int HW, int c, int relu, int fresh) {
    const size_t M = (size_t)N * HW;
    /* xhat is recomputed, bit for bit the forward's, rather than stored */
    const float mf = mean[c], isf = invstd[c];
    double sg = 0.0, sgx = 0.0; /* sum(g), sum(g * xhat) */
    for (int n = 0; n < N; n++) {
        const size_t off = ((size_t)n * C + c) * HW;
        const float *yo = relu ? y + off : NULL;
        sg += sum_grad(dout + off, yo, (size_t)HW, relu);
        sgx += sum_prod_xhat(dout + off, yo, in + off, mf, isf, (size_t)HW, relu);
    }
    if (dgamma) dgamma[c] += (float)sgx;
    if (dbeta) dbeta[c] += (float)sg;
    if (!din || M == 0) return;
    /* dx = gamma*invstd * (g - mean(g) - xhat * mean(g*xhat)) */
    const float k = gamma[c] * invstd[c];
    const float mg = (float)(sg / (double)M), mgx = (float)(sgx / (double)M);
    for (int n = 0; n < N; n++) {
        const size_t off = ((size_t)n * C + c) * HW;
        const float *restrict g = dout + off, *restrict x = in + off;
        const float *restrict yo = relu ? y + off : NULL;
        float *restrict dx = din + off;
        if (fresh) /* 0 + v: the bits of adding into zeros (see layers.h) */
            for (int i = 0; i < HW; i++) {
                const float xh = (x[i] - mf) * isf;
                dx[i] = 0.0f + k * (bn_grad(g, yo, (size_t)i, relu) - mg - xh * mgx);
            }
        else
            for (int i = 0; i < HW; i++) {
                const float xh = (x[i] - mf) * isf;
                dx[i] += k * (bn_grad(g, yo, (size_t)i, relu) - mg - xh * mgx);
            }
    }
}

void batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                        const float *in, const float *mean, const float *invstd, const float *gamma,
                        int N, int C, int HW, int fresh) {
#pragma omp parallel for schedule(static) if ((size_t)N * HW * C >= PAR_MIN)
    for (int c = 0; c < C; c++)
        bn_backward_channel(din, dgamma, dbeta, dout, NULL, in, mean, invstd, gamma, N, C, HW, c, 0,
                            fresh);
}

void batchnorm_relu_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                             const float *out, const float *in, const float *mean,
                             const float *invstd, const float *gamma, int N, int C, int HW, int fresh) {
#pragma omp parallel for schedule(static) if ((size_t)N * HW * C >= PAR_MIN)
    for (int c = 0; c < C; c++)
        bn_backward_channel(din, dgamma, dbeta, dout, out, in, mean, invstd, gamma, N, C, HW, c, 1,
                            fresh);
}

/* Channel c of the eval-mode BN backward (see bn_backward_channel for relu). */
static inline __attribute__((always_inline)) void
bn_backward_eval_channel(float *din, float *dgamma, float *dbeta, const float *dout, const float *y,
                         const float *in, const float *gamma, const float *running_mean,
                         const float *running_var, int N, int C, int HW, float eps, int c, int relu,
                         int fresh) {
    const double is = 1.0 / sqrt((double)running_var[c] + (double)eps);
    const double mean = running_mean[c];
    double sg = 0.0, sgx = 0.0;
    for (int n = 0; n < N; n++) {
        const size_t off = ((size_t)n * C + c) * HW;
        const float *yo = relu ? y + off : NULL;
        for (int i = 0; i < HW; i++) {
            const float g = bn_grad(dout + off, yo, (size_t)i, relu);
            sg += g;
            sgx += g * (((double)in[off + i] - mean) * is);
        }
    }
    if (dgamma) dgamma[c] += (float)sgx;
    if (dbeta) dbeta[c] += (float)sg;
    if (!din) return;
    const float k = (float)(gamma[c] * is);
    for (int n = 0; n < N; n++) {
        const size_t off = ((size_t)n * C + c) * HW;
        const float *yo = relu ? y + off : NULL;
        if (fresh)
            for (int i = 0; i < HW; i++) din[off + i] = 0.0f + k * bn_grad(dout + off, yo, (size_t)i, relu);
        else
            for (int i = 0; i < HW; i++) din[off + i] += k * bn_grad(dout + off, yo, (size_t)i, relu);
    }
}

void batchnorm_backward_eval(float *din, float *dgamma, float *dbeta, const float *dout,
                             const float *in, const float *gamma, const float *running_mean,
                             const float *running_var, int N, int C, int HW, float eps, int fresh) {
#pragma omp parallel for schedule(static) if ((size_t)N * HW * C >= PAR_MIN)
    for (int c = 0; c < C; c++)
        bn_backward_eval_channel(din, dgamma, dbeta, dout, NULL, in, gamma, running_mean,
                                 running_var, N, C, HW, eps, c, 0, fresh);
}

void batchnorm_relu_backward_eval(float *din, float *dgamma, float *dbeta, const float *dout,
                                  const float *out, const float *in, const float *gamma,
                                  const float *running_mean, const float *running_var, int N,
                                  int C, int HW, float eps, int fresh) {
#pragma omp parallel for schedule(static) if ((size_t)N * HW * C >= PAR_MIN)
    for (int c = 0; c < C; c++)
        bn_backward_eval_channel(din, dgamma, dbeta, dout, out, in, gamma, running_mean,
                                 running_var, N, C, HW, eps, c, 1, fresh);
}

/* ---- elementwise -------------------------------------------------------- */

void relu_forward(float *out, const float *in, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = relu1(in[i]);
}

void relu_backward(float *din, const float *dout, const float *out, size_t n, int fresh) {
    if (fresh) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
        for (size_t i = 0; i < n; i++) din[i] = 0.0f + (out[i] > 0.0f ? dout[i] : 0.0f);
        return;
    }
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) din[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}

void add_forward(float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void add_relu_forward(float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) out[i] = relu1(a[i] + b[i]);
}

/* A gradient buffer of a large activation is zeroed once per step as it comes
 * alive: one thread's memset of ~10 MB was a serial phase of a 2-thread step. */
void zero_fill(float *dst, size_t n) {
    enum { BLOCK = 16384 };
    const long blocks = (long)((n + BLOCK - 1) / BLOCK);
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (long b = 0; b < blocks; b++) {
        const size_t lo = (size_t)b * BLOCK, len = n - lo < BLOCK ? n - lo : BLOCK;
        memset(dst + lo, 0, len * sizeof *dst);
    }
}

void accumulate(float *dst, const float *src, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

void accumulate_fresh(float *dst, const float *src, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) dst[i] = 0.0f + src[i];
}

void dropout_forward(float *out, float *mask, const float *in, size_t n, float p, rng_t *r) {
    if (p <= 0.0f) {
        /* No randomness consumed, so p = 0 runs stay bit-identical to no dropout. */
        for (size_t i = 0; i < n; i++) {
            mask[i] = 1.0f;
            out[i] = in[i];
        }
        return;
    }
    const float scale = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        float m = rng_uniform(r) >= (double)p ? scale : 0.0f;
        mask[i] = m;
        out[i] = in[i] * m;
    }
}

void dropout_backward(float *din, const float *dout, const float *mask, size_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) din[i] += dout[i] * mask[i];
}

/* ---- pooling ------------------------------------------------------------ */

void maxpool_forward(float *out, int32_t *argmax, const float *in, int N, int C, int H, int W,
                     int K, int stride, int pad) {
    const int OH = pool_out_size(H, K, stride, pad), OW = pool_out_size(W, K, stride, pad);
    if (K == 2 && stride == 2 && pad == 0) {
#pragma omp parallel for schedule(static) if ((size_t)N * C * H * W >= PAR_MIN)
        for (size_t plane = 0; plane < (size_t)N * C; plane++)
            maxpool2x2_plane(out + plane * OH * OW, argmax + plane * OH * OW, in + plane * H * W, W,
                             OH, OW);
        return;
    }
#pragma omp parallel for schedule(static) if ((size_t)N * C * H * W >= PAR_MIN)
    for (size_t plane = 0; plane < (size_t)N * C; plane++) {
        const float *x = in + plane * H * W;
        float *y = out + plane * OH * OW;
        int32_t *am = argmax + plane * OH * OW;
        for (int oh = 0; oh < OH; oh++) {
            int h0 = oh * stride - pad, h1 = h0 + K;
            if (h0 < 0) h0 = 0;
            if (h1 > H) h1 = H;
            for (int ow = 0; ow < OW; ow++) {
                int w0 = ow * stride - pad, w1 = w0 + K;
                if (w0 < 0) w0 = 0;
                if (w1 > W) w1 = W;
                /* Padding is skipped (acts as -inf). Like PyTorch: start from the
                 * first in-bounds element, first max wins, NaN propagates. */
                int best = -1;
                float bv = -INFINITY;
                if (h0 < h1 && w0 < w1) best = h0 * W + w0;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) {
                        float v = x[ih * W + iw];
                        if (v > bv || isnan(v)) {
                            bv = v;
                            best = ih * W + iw;
                        }
                    }
                /* best < 0 only for a window entirely in padding (pad > K/2). */
                y[oh * OW + ow] = best < 0 ? 0.0f : bv;
                am[oh * OW + ow] = best;
            }
        }
    }
}

void maxpool_backward(float *din, const float *dout, const int32_t *argmax, int N, int C, int H,
                      int W, int OH, int OW, int fresh) {
    const size_t P = (size_t)OH * OW;
#pragma omp parallel for schedule(static) if ((size_t)N * C * H * W >= PAR_MIN)
    for (size_t plane = 0; plane < (size_t)N * C; plane++) {
        float *dx = din + plane * H * W;
        const float *g = dout + plane * P;
        const int32_t *am = argmax + plane * P;
        /* zeroed here, a plane at a time while it is in cache, not in a pass of its own */
        if (fresh) memset(dx, 0, (size_t)H * W * sizeof *dx);
        for (size_t i = 0; i < P; i++)
            if (am[i] >= 0) dx[am[i]] += g[i];
    }
}

void avgpool_global_forward(float *out, const float *in, int N, int C, int HW) {
#pragma omp parallel for schedule(static) if ((size_t)N * C * HW >= PAR_MIN)
    for (size_t plane = 0; plane < (size_t)N * C; plane++) {
        out[plane] = HW > 0 ? (float)(sum_f(in + plane * HW, (size_t)HW) / HW) : 0.0f;
    }
}

void avgpool_global_backward(float *din, const float *dout, int N, int C, int HW) {
    if (HW <= 0) return;
#pragma omp parallel for schedule(static) if ((size_t)N * C * HW >= PAR_MIN)
    for (size_t plane = 0; plane < (size_t)N * C; plane++) {
        float *dx = din + plane * HW;
        const float g = dout[plane] / (float)HW;
        for (int i = 0; i < HW; i++) dx[i] += g;
    }
}

/* Window [lo, hi) of output index o along a side of n pixels: windows that
 * run past the end are clipped (ceil mode). */
static inline void pool_window(int o, int n, int k, int stride, int *lo, int *hi) {
    *lo = o * stride;
    *hi = *lo + k < n ? *lo + k : n;
}

int avgpool_out_size(int H, int K, int stride) {
    if (H < 1 || K < 1 || stride < 1) return 0;
    int oh = H <= K ? 1 : (H - K + stride - 1) / stride + 1;
    if ((oh - 1) * stride >= H) oh--; /* the last window must start inside */
    return oh;
}

/* Every window of every plane: forward (din NULL) stores the window's mean of
 * `in` into `out`; backward adds dout / (window size) to each of its pixels. */
static void avgpool_windows(float *out, const float *in, float *din, const float *dout, int N,
                            int C, int H, int W, int K, int stride) {
    const int OH = avgpool_out_size(H, K, stride), OW = avgpool_out_size(W, K, stride);
#pragma omp parallel for schedule(static) if ((size_t)N * C * H * W >= PAR_MIN)
    for (size_t plane = 0; plane < (size_t)N * C; plane++)
        for (int oh = 0; oh < OH; oh++) {
            int h0, h1;
            pool_window(oh, H, K, stride, &h0, &h1);
            for (int ow = 0; ow < OW; ow++) {
                int w0, w1;
                pool_window(ow, W, K, stride, &w0, &w1);
                const float n = (float)((h1 - h0) * (w1 - w0));
                const size_t o = plane * OH * OW + (size_t)oh * OW + ow;
                if (din) {
                    float *dx = din + plane * H * W;
                    const float v = dout[o] / n;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) dx[(size_t)ih * W + iw] += v;
                    continue;
                }
                const float *x = in + plane * H * W;
                float s = 0.0f;
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) s += x[(size_t)ih * W + iw];
                out[o] = s / n;
            }
        }
}

void avgpool_forward(float *out, const float *in, int N, int C, int H, int W, int K, int stride) {
    avgpool_windows(out, in, NULL, NULL, N, C, H, W, K, stride);
}

void avgpool_backward(float *din, const float *dout, int N, int C, int H, int W, int K, int stride) {
    avgpool_windows(NULL, NULL, din, dout, N, C, H, W, K, stride);
}

/* ---- parameter-free shortcut ---------------------------------------------- */

void shortcut_pad_forward(float *out, const float *in, int N, int C, int H, int W, int OC,
                          int front, int stride) {
    const int OH = (H + stride - 1) / stride, OW = (W + stride - 1) / stride;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
#pragma omp parallel for schedule(static) if ((size_t)N * OC * out_plane >= PAR_MIN)
    for (int b = 0; b < N; b++)
        for (int oc = 0; oc < OC; oc++) {
            float *o = out + ((size_t)b * OC + oc) * out_plane;
            const int c = oc - front;
            if (c < 0 || c >= C) {
                memset(o, 0, out_plane * sizeof *o);
                continue;
            }
            const float *x = in + ((size_t)b * C + c) * in_plane;
            for (int y = 0; y < OH; y++)
                for (int xx = 0; xx < OW; xx++) o[y * OW + xx] = x[(size_t)y * stride * W + xx * stride];
        }
}

void shortcut_pad_backward(float *din, const float *dout, int N, int C, int H, int W, int OC,
                           int front, int stride) {
    const int OH = (H + stride - 1) / stride, OW = (W + stride - 1) / stride;
    const size_t in_plane = (size_t)H * W, out_plane = (size_t)OH * OW;
#pragma omp parallel for schedule(static) if ((size_t)N * C * out_plane >= PAR_MIN)
    for (int b = 0; b < N; b++) /* images apart: no two threads add to one din */
        for (int c = 0; c < C; c++) {
            const float *g = dout + ((size_t)b * OC + c + front) * out_plane;
            float *d = din + ((size_t)b * C + c) * in_plane;
            for (int y = 0; y < OH; y++)
                for (int xx = 0; xx < OW; xx++) d[(size_t)y * stride * W + xx * stride] += g[y * OW + xx];
        }
}

/* ---- linear ------------------------------------------------------------- */

void linear_forward(float *out, const float *in, const float *w, const float *b, int N, int I,
                    int O) {
    if (b)
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * O, b, sizeof(float) * (size_t)O);
    /* out[N,O] = in[N,I] * w[O,I]^T (+ the pre-filled bias) */
    gemm(false, true, N, O, I, 1.0f, in, I, w, I, b ? 1.0f : 0.0f, out, O);
}

void linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                     const float *w, int N, int I, int O) {
    if (dw) gemm(true, false, O, I, N, 1.0f, dout, O, in, I, 1.0f, dw, I); /* dout^T * in */
    if (din) gemm(false, false, N, I, O, 1.0f, dout, O, w, I, 1.0f, din, I); /* dout * w */
    if (db) {
        for (int o = 0; o < O; o++) {
            double acc = 0.0;
            for (int n = 0; n < N; n++) acc += dout[(size_t)n * O + o];
            db[o] += (float)acc;
        }
    }
}

/* ---- softmax cross-entropy --------------------------------------------- */

float softmax_xent_forward(float *probs, const float *logits, const int32_t *labels, int N, int K,
                           float smoothing, int *correct) {
    double total = 0.0;
    int right = 0;
    const double s = smoothing;
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * K;
        float *p = probs + (size_t)n * K;
        int arg = 0;
        float mx = z[0];
        for (int k = 1; k < K; k++)
            if (z[k] > mx) {
                mx = z[k];
                arg = k;
            }
        double sum = 0.0, zsum = 0.0; /* sum exp(z-max), sum (z-max) */
        for (int k = 0; k < K; k++) {
            double d = (double)z[k] - mx;
            double e = exp(d);
            p[k] = (float)e; /* normalised below */
            sum += e;
            zsum += d;
        }
        const double lse = log(sum), inv = 1.0 / sum;
        for (int k = 0; k < K; k++) p[k] = (float)(p[k] * inv);
        const int y = labels[n];
        /* -log p_k = lse - (z_k - max); target = (1-s)*onehot + s/K */
        const double nll = lse - ((double)z[y] - mx);
        const double smooth = lse - zsum / K; /* mean over k of -log p_k */
        total += (1.0 - s) * nll + s * smooth;
        if (arg == y) right++;
    }
    if (correct) *correct = right;
    return N > 0 ? (float)(total / N) : 0.0f;
}

void softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int N, int K,
                           float smoothing) {
    if (N <= 0) return;
    const float invN = 1.0f / (float)N, off = smoothing / (float)K, on = 1.0f - smoothing;
    for (int n = 0; n < N; n++) {
        const float *p = probs + (size_t)n * K;
        float *d = dlogits + (size_t)n * K;
        for (int k = 0; k < K; k++) d[k] = (p[k] - off) * invN;
        d[labels[n]] -= on * invN;
    }
}
