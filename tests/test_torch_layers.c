/* test_torch_layers.c - our layer kernels against PyTorch 1.13 references.
 *
 * The fixtures in tests/fixtures/layers/ were produced by
 * tests/fixtures/make_layer_fixtures.py (torch, float64 arithmetic on
 * float32-rounded inputs). Metric: max|ours - torch| / max(1e-6, max|torch|),
 * which must stay below 1e-4 for every output and every gradient. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "torch_check.h"
#include "layers.h"

#define TOL 1e-4

static fixture *load(const char *name) {
    char path[1024], err[1200];
    snprintf(path, sizeof path, "%s/tests/fixtures/layers/%s.bin", DPPF_SOURCE_DIR, name);
    fixture *f = fixture_load(path, err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    return f;
}

static const float *config(const fixture *f, size_t n) { return need(f, "config", n); }

static void check(const char *what, const float *ours, const float *ref, size_t n) {
    double e = relerr(ours, ref, n);
    cr_expect(e <= TOL, "%s: relative error %.3g > %.0e", what, e, TOL);
}

static float *zeros(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    cr_assert_not_null(p);
    return p;
}

static void conv_case(const char *name) {
    fixture *f = load(name);
    const float *cfg = config(f, 9);
    int N = (int)cfg[0], C = (int)cfg[1], H = (int)cfg[2], W = (int)cfg[3], OC = (int)cfg[4],
        K = (int)cfg[5], stride = (int)cfg[6], pad = (int)cfg[7], bias = (int)cfg[8];
    conv_shape s = conv_shape_make(C, H, W, OC, K, stride, pad);
    size_t nin = (size_t)N * C * H * W, nw = (size_t)OC * C * K * K,
           nout = (size_t)N * OC * s.OH * s.OW;
    const float *x = need(f, "x", nin), *w = need(f, "w", nw), *dout = need(f, "dout", nout);
    const float *b = bias ? need(f, "b", (size_t)OC) : NULL;
    float *work = zeros(conv_workspace_size(&s, N)), *out = zeros(nout), *dx = zeros(nin),
          *dw = zeros(nw), *db = zeros((size_t)OC);
    conv2d_forward(out, x, w, b, N, &s, work);
    check("conv out", out, need(f, "out", nout), nout);
    conv2d_backward(dx, dw, bias ? db : NULL, dout, x, w, N, &s, work, 0);
    check("conv dx", dx, need(f, "dx", nin), nin);
    check("conv dw", dw, need(f, "dw", nw), nw);
    if (bias) check("conv db", db, need(f, "db", (size_t)OC), (size_t)OC);
    free(work), free(out), free(dx), free(dw), free(db);
    fixture_free(f);
}

Test(torch, conv_k3_s1_p1_bias) { conv_case("conv_k3s1p1_bias"); }
Test(torch, conv_k3_s2_p1_nobias) { conv_case("conv_k3s2p1_nobias"); }
Test(torch, conv_k1_s1_p0_bias) { conv_case("conv_k1s1p0_bias"); }
Test(torch, conv_k1_s2_p0_nobias) { conv_case("conv_k1s2p0_nobias"); }

static void bn_train_case(const char *name) {
    fixture *f = load(name);
    const float *cfg = config(f, 4);
    int N = (int)cfg[0], C = (int)cfg[1], HW = (int)cfg[2] * (int)cfg[3];
    size_t n = (size_t)N * C * HW;
    float momentum = need(f, "momentum", 1)[0], eps = need(f, "eps", 1)[0];
    const float *x = need(f, "x", n), *gamma = need(f, "gamma", C), *beta = need(f, "beta", C),
                *dout = need(f, "dout", n);
    float *rm = zeros(C), *rv = zeros(C), *out = zeros(n), *bmean = zeros(C), *invstd = zeros(C),
          *dx = zeros(n), *dg = zeros(C), *dbt = zeros(C);
    memcpy(rm, need(f, "running_mean_in", C), sizeof(float) * C);
    memcpy(rv, need(f, "running_var_in", C), sizeof(float) * C);
    batchnorm_forward_train(out, bmean, invstd, x, gamma, beta, rm, rv, N, C, HW, momentum, eps);
    check("bn out", out, need(f, "out", n), n);
    check("bn running_mean", rm, need(f, "running_mean_out", C), C);
    check("bn running_var", rv, need(f, "running_var_out", C), C);
    batchnorm_backward(dx, dg, dbt, dout, x, bmean, invstd, gamma, N, C, HW, 0);
    check("bn dx", dx, need(f, "dx", n), n);
    check("bn dgamma", dg, need(f, "dgamma", C), C);
    check("bn dbeta", dbt, need(f, "dbeta", C), C);
    free(rm), free(rv), free(out), free(bmean), free(invstd), free(dx), free(dg), free(dbt);
    fixture_free(f);
}

Test(torch, batchnorm2d_train) { bn_train_case("bn2d_train"); }
Test(torch, batchnorm1d_train) { bn_train_case("bn1d_train"); }

Test(torch, batchnorm2d_eval) {
    fixture *f = load("bn2d_eval");
    const float *cfg = config(f, 4);
    int N = (int)cfg[0], C = (int)cfg[1], HW = (int)cfg[2] * (int)cfg[3];
    size_t n = (size_t)N * C * HW;
    float *out = zeros(n);
    batchnorm_forward_eval(out, need(f, "x", n), need(f, "gamma", C), need(f, "beta", C),
                           need(f, "running_mean", C), need(f, "running_var", C), N, C, HW,
                           need(f, "eps", 1)[0]);
    check("bn eval out", out, need(f, "out", n), n);
    free(out);
    fixture_free(f);
}

static void maxpool_case(const char *name) {
    fixture *f = load(name);
    const float *cfg = config(f, 7);
    int N = (int)cfg[0], C = (int)cfg[1], H = (int)cfg[2], W = (int)cfg[3], K = (int)cfg[4],
        stride = (int)cfg[5], pad = (int)cfg[6];
    int OH = pool_out_size(H, K, stride, pad), OW = pool_out_size(W, K, stride, pad);
    size_t nin = (size_t)N * C * H * W, nout = (size_t)N * C * OH * OW;
    const float *x = need(f, "x", nin), *ref_idx = need(f, "argmax", nout);
    float *out = zeros(nout), *dx = zeros(nin);
    int32_t *am = calloc(nout, sizeof *am);
    cr_assert_not_null(am);
    maxpool_forward(out, am, x, N, C, H, W, K, stride, pad);
    check("maxpool out", out, need(f, "out", nout), nout);
    for (size_t i = 0; i < nout; i++)
        cr_expect_eq(am[i], (int32_t)ref_idx[i], "maxpool argmax[%zu] = %d, torch %d", i,
                     (int)am[i], (int)ref_idx[i]);
    maxpool_backward(dx, need(f, "dout", nout), am, N, C, H, W, OH, OW, 0);
    check("maxpool dx", dx, need(f, "dx", nin), nin);
    free(out), free(dx), free(am);
    fixture_free(f);
}

Test(torch, maxpool_k2_s2) { maxpool_case("maxpool_k2s2"); }
Test(torch, maxpool_k3_s2_p1) { maxpool_case("maxpool_k3s2p1"); }

/* Forward and input gradient of a parameter-free op whose fixture holds
 * config, x, dout, out, dx. */
static void shape_op_case(const char *what, size_t nin, size_t nout,
                          void (*fwd)(float *, const float *, const float *),
                          void (*bwd)(float *, const float *, const float *), const float *cfg,
                          fixture *f) {
    float *out = zeros(nout), *dx = zeros(nin);
    fwd(out, need(f, "x", nin), cfg);
    char w[64];
    snprintf(w, sizeof w, "%s out", what);
    check(w, out, need(f, "out", nout), nout);
    bwd(dx, need(f, "dout", nout), cfg);
    snprintf(w, sizeof w, "%s dx", what);
    check(w, dx, need(f, "dx", nin), nin);
    free(out), free(dx);
}

static void avgpool_f(float *out, const float *x, const float *c) {
    avgpool_forward(out, x, (int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5]);
}
static void avgpool_b(float *dx, const float *dout, const float *c) {
    avgpool_backward(dx, dout, (int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5]);
}

/* torch.nn.AvgPool2d(2, 2, ceil_mode=True) on 7x6: PyramidNet's shortcut. */
Test(torch, avgpool_k2_s2_ceil) {
    fixture *f = load("avgpool_k2s2_ceil");
    const float *c = config(f, 6);
    int OH = avgpool_out_size((int)c[2], (int)c[4], (int)c[5]);
    int OW = avgpool_out_size((int)c[3], (int)c[4], (int)c[5]);
    size_t nin = (size_t)c[0] * c[1] * c[2] * c[3], nout = (size_t)c[0] * c[1] * OH * OW;
    shape_op_case("avgpool", nin, nout, avgpool_f, avgpool_b, c, f);
    fixture_free(f);
}

static void shortcut_f(float *out, const float *x, const float *c) {
    shortcut_pad_forward(out, x, (int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5],
                         (int)c[6]);
}
static void shortcut_b(float *dx, const float *dout, const float *c) {
    shortcut_pad_backward(dx, dout, (int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4],
                          (int)c[5], (int)c[6]);
}

static void shortcut_case(const char *name) {
    fixture *f = load(name);
    const float *c = config(f, 7);
    int s = (int)c[6], OH = ((int)c[2] + s - 1) / s, OW = ((int)c[3] + s - 1) / s;
    size_t nin = (size_t)c[0] * c[1] * c[2] * c[3], nout = (size_t)c[0] * c[4] * OH * OW;
    shape_op_case("shortcut", nin, nout, shortcut_f, shortcut_b, c, f);
    fixture_free(f);
}

Test(torch, shortcut_option_a_stride2) { shortcut_case("shortcut_a_s2"); }
Test(torch, shortcut_appended_zeros) { shortcut_case("shortcut_append_s1"); }

Test(torch, linear) {
    fixture *f = load("linear");
    const float *cfg = config(f, 3);
    int N = (int)cfg[0], I = (int)cfg[1], O = (int)cfg[2];
    size_t nin = (size_t)N * I, nw = (size_t)O * I, nout = (size_t)N * O;
    const float *x = need(f, "x", nin), *w = need(f, "w", nw), *b = need(f, "b", O);
    float *out = zeros(nout), *dx = zeros(nin), *dw = zeros(nw), *db = zeros(O);
    linear_forward(out, x, w, b, N, I, O);
    check("linear out", out, need(f, "out", nout), nout);
    linear_backward(dx, dw, db, need(f, "dout", nout), x, w, N, I, O);
    check("linear dx", dx, need(f, "dx", nin), nin);
    check("linear dw", dw, need(f, "dw", nw), nw);
    check("linear db", db, need(f, "db", O), O);
    free(out), free(dx), free(dw), free(db);
    fixture_free(f);
}

static void xent_case(const char *name) {
    fixture *f = load(name);
    const float *cfg = config(f, 2);
    int N = (int)cfg[0], K = (int)cfg[1];
    size_t n = (size_t)N * K;
    float s = need(f, "smoothing", 1)[0];
    const float *lab = need(f, "labels", N);
    int32_t *labels = calloc(N, sizeof *labels);
    cr_assert_not_null(labels);
    for (int i = 0; i < N; i++) labels[i] = (int32_t)lab[i];
    float *probs = zeros(n), *dl = zeros(n);
    int correct = -1;
    float loss = softmax_xent_forward(probs, need(f, "logits", n), labels, N, K, s, &correct);
    float ref_loss = need(f, "loss", 1)[0];
    check("xent loss", &loss, &ref_loss, 1);
    check("xent probs", probs, need(f, "probs", n), n);
    cr_expect_eq(correct, (int)need(f, "correct", 1)[0], "correct = %d, torch %d", correct,
                 (int)need(f, "correct", 1)[0]);
    softmax_xent_backward(dl, probs, labels, N, K, s);
    check("xent dlogits", dl, need(f, "dlogits", n), n);
    free(labels), free(probs), free(dl);
    fixture_free(f);
}

Test(torch, cross_entropy_no_smoothing) { xent_case("xent_s0"); }
Test(torch, cross_entropy_smoothing_0_1) { xent_case("xent_s01"); }

/* ---- the reader itself ------------------------------------------------- */

Test(fixture_reader, missing_file_reports_clearly) {
    char err[256] = "";
    fixture *f = fixture_load("/nonexistent/dir/none.bin", err, sizeof err);
    cr_assert_null(f);
    cr_expect(strstr(err, "cannot open") != NULL, "message: %s", err);
}

Test(fixture_reader, every_truncation_is_rejected) {
    char path[1024], err[1200];
    snprintf(path, sizeof path, "%s/tests/fixtures/layers/linear.bin", DPPF_SOURCE_DIR);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    cr_assert_gt(len, 12u);
    fixture *whole = fixture_parse_(buf, len, path, err, sizeof err);
    cr_assert_not_null(whole, "%s", err);
    cr_expect_not_null(fixture_get(whole, "dw", NULL));
    cr_expect_null(fixture_get(whole, "no_such_record", NULL));
    fixture_free(whole);
    for (size_t cut = 0; cut < len; cut++) {
        fixture *f = fixture_parse_(buf, cut, path, err, sizeof err);
        cr_expect_null(f, "a file truncated to %zu of %zu bytes was accepted", cut, len);
        fixture_free(f);
    }
    /* Trailing garbage and a corrupted name length are malformed too. */
    buf[len] = 0;
    cr_expect_null(fixture_parse_(buf, len + 1, path, err, sizeof err));
    buf[12] = 0xff;
    cr_expect_null(fixture_parse_(buf, len, path, err, sizeof err));
    cr_expect(strstr(err, "malformed") != NULL, "message: %s", err);
}
