/* Flatness measures on analytic losses with known answers, filter
 * normalisation on a real tensor table, and a smoke test on a tiny net. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "directions.h"
#include "net.h"
#include "evaluate.h"
#include "sharpness.h"

#include "model.h"
#include "spec_map.h"

/* The spec's model for c x h x w inputs and `classes` classes. */
static int net_build_spec(net_t *n, const spec_t *s, int c, int h, int w, int classes, dp_err *e) {
    model_cfg m;
    spec_model_cfg(&m, s, c, h, w, classes);
    return net_build(n, &m, e);
}

#define QN 50

/* f(x) = 0.5 (x - c)^T H (x - c) + base, H = Q diag(h) Q with Q = I - 2 u u^T
 * (u unit; u = 0 gives a diagonal H). */
typedef struct {
    int n;
    double h[QN], u[QN], c[QN];
    double base;
    long n_loss, n_grad;
} quad;

/* out = Q y */
static void reflect(const quad *q, const double *y, double *out) {
    double s = 0;
    for (int i = 0; i < q->n; i++) s += q->u[i] * y[i];
    for (int i = 0; i < q->n; i++) out[i] = y[i] - 2 * s * q->u[i];
}

/* returns f, fills grad (nullable) */
static double quad_eval(quad *q, const float *x, float *g) {
    double y[QN] = {0}, qy[QN], hq[QN] = {0}, gq[QN];
    for (int i = 0; i < q->n; i++) y[i] = (double)x[i] - q->c[i];
    reflect(q, y, qy);
    double f = 0;
    for (int i = 0; i < q->n; i++) {
        hq[i] = q->h[i] * qy[i];
        f += 0.5 * qy[i] * hq[i];
    }
    if (g) {
        reflect(q, hq, gq);
        for (int i = 0; i < q->n; i++) g[i] = (float)gq[i];
    }
    return f + q->base;
}

static double quad_loss(void *ctx, const float *x) {
    ((quad *)ctx)->n_loss++;
    return quad_eval(ctx, x, NULL);
}
static double quad_grad(void *ctx, const float *x, float *g) {
    ((quad *)ctx)->n_grad++;
    return quad_eval(ctx, x, g);
}

static loss_fn quad_fn(quad *q) {
    loss_fn f = {.n = (size_t)q->n, .loss = quad_loss, .grad = quad_grad, .ctx = q};
    return f;
}

/* 50 dims: eigenvalues 10, 3, 1, 0.5, then 0.1 .. 0.45 */
static void quad_spectrum(quad *q) {
    memset(q, 0, sizeof *q);
    q->n = QN;
    q->h[0] = 10, q->h[1] = 3, q->h[2] = 1, q->h[3] = 0.5;
    for (int i = 4; i < QN; i++) q->h[i] = 0.1 + 0.35 * (i - 4) / (QN - 5);
}

static void rotate(quad *q) {
    double s = 0;
    for (int i = 0; i < q->n; i++) q->u[i] = sin(1.0 + 0.7 * i), s += q->u[i] * q->u[i];
    for (int i = 0; i < q->n; i++) q->u[i] /= sqrt(s);
}

static void point(float *x, int n) {
    for (int i = 0; i < n; i++) x[i] = (float)(0.3 + 0.5 * cos(0.9 * i)); /* no zero coords */
}

/* ---- vector helpers and directions ---------------------------------------------- */

Test(directions, vector_helpers) {
    float a[3] = {1, 2, 3}, b[3] = {4, -5, 6}, o[3];
    cr_assert_float_eq(vec_dot(a, b, 3), 4 - 10 + 18, 1e-12);
    cr_assert_float_eq(vec_norm(b, 3), sqrt(16 + 25 + 36), 1e-12);
    vec_add_scaled(o, a, 2, b, 3);
    cr_assert(o[0] == 9 && o[1] == -8 && o[2] == 15);
    vec_axpy(o, -1, a, 3);
    cr_assert(o[0] == 8 && o[1] == -10 && o[2] == 12);
    vec_sub(o, b, a, 3);
    cr_assert(o[0] == 3 && o[1] == -7 && o[2] == 3);
    vec_scale(o, 0.5, 3);
    cr_assert(o[0] == 1.5f && o[1] == -3.5f && o[2] == 1.5f);
    dir_norm m;
    dp_err e = {0};
    cr_assert_eq(dir_norm_parse("layer", &m, &e), 0);
    cr_assert_eq(m, DIR_NORM_LAYER);
    cr_assert_str_eq(dir_norm_name(DIR_NORM_FILTER), "filter");
    cr_assert_eq(dir_norm_parse("filters", &m, &e), DP_EUSAGE);
    cr_assert(strstr(e.msg, "filters"));
}

Test(directions, random_is_seeded_gaussian) {
    enum { N = 20000 };
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    dir_random(a, N, 7, 0);
    dir_random(b, N, 7, 0);
    cr_assert(memcmp(a, b, N * sizeof *a) == 0, "same (seed, index) -> same direction");
    dir_random(b, N, 7, 1);
    cr_assert(memcmp(a, b, N * sizeof *a) != 0);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++) m += a[i], v += (double)a[i] * a[i];
    m /= N, v = v / N - m * m;
    cr_assert(fabs(m) < 0.03 && fabs(v - 1) < 0.05, "mean %g var %g", m, v);
    free(a), free(b);
}

static spec_t small_cnn(void) {
    spec_t s;
    memset(&s, 0, sizeof s);
    s.model.arch = MODEL_CNN;
    s.model.n_widths = 2, s.model.widths[0] = 3, s.model.widths[1] = 4;
    s.model.fc = 8;
    s.model.batchnorm = 1;
    s.model.bn_momentum = 0.1f;
    s.model.bn_eps = 1e-5f;
    s.optim.label_smoothing = 0;
    return s;
}

static double snorm(const float *x, size_t n) { return vec_norm(x, n); }

Test(directions, filter_layer_global_normalisation) {
    spec_t s = small_cnn();
    dp_err e = {0};
    net_t n;
    cr_assert_eq(net_build_spec(&n, &s, 1, 12, 12, 4, &e), 0, "%s", e.msg);
    size_t np = n.n_params;
    float *w = calloc(np, sizeof *w), *d = calloc(np, sizeof *d), *buf = calloc(n.n_buffers, 4);
    net_init(&n, w, buf, 3);
    int n2d = 0, n1d = 0;

    /* filter: every dim-0 slice of a >= 2-D tensor matches w's slice; 1-D zero */
    cr_assert_eq(dir_make(d, w, np, &n, DIR_NORM_FILTER, 0, 11, 0, &e), 0, "%s", e.msg);
    for (int i = 0; i < n.n_tensors; i++) {
        const net_tensor *t = &n.tensors[i];
        if (t->is_buffer) continue;
        if (t->ndim == 1) {
            n1d++;
            for (size_t j = 0; j < t->size; j++) cr_assert(d[t->offset + j] == 0, "%s", t->name);
            continue;
        }
        n2d++;
        size_t rows = (size_t)t->shape[0], len = t->size / rows;
        for (size_t r = 0; r < rows; r++) {
            double dn = snorm(d + t->offset + r * len, len), wn = snorm(w + t->offset + r * len, len);
            cr_assert(wn > 0);
            cr_assert(fabs(dn - wn) <= 1e-5 * wn, "%s row %zu: %g vs %g", t->name, r, dn, wn);
        }
    }
    cr_assert(n2d >= 4 && n1d >= 4, "conv1, conv2, fc1, classifier weights; BN and biases");

    /* keep_1d: 1-D tensors scaled to their own norm (BN beta is 0 -> stays 0) */
    cr_assert_eq(dir_make(d, w, np, &n, DIR_NORM_FILTER, 1, 11, 0, &e), 0);
    for (int i = 0; i < n.n_tensors; i++) {
        const net_tensor *t = &n.tensors[i];
        if (t->is_buffer || t->ndim != 1) continue;
        double dn = snorm(d + t->offset, t->size), wn = snorm(w + t->offset, t->size);
        cr_assert(fabs(dn - wn) <= 1e-5 * wn + 1e-9, "%s: %g vs %g", t->name, dn, wn);
    }

    /* layer: per tensor; the random direction differs from the filter one only in scale per row */
    cr_assert_eq(dir_make(d, w, np, &n, DIR_NORM_LAYER, 0, 11, 0, &e), 0);
    for (int i = 0; i < n.n_tensors; i++) {
        const net_tensor *t = &n.tensors[i];
        if (t->is_buffer || t->ndim == 1) continue;
        double dn = snorm(d + t->offset, t->size), wn = snorm(w + t->offset, t->size);
        cr_assert(fabs(dn - wn) <= 1e-5 * wn, "%s: %g vs %g", t->name, dn, wn);
    }

    /* global and unit */
    cr_assert_eq(dir_make(d, w, np, &n, DIR_NORM_GLOBAL, 0, 11, 0, &e), 0);
    cr_assert(fabs(snorm(d, np) - snorm(w, np)) <= 1e-5 * snorm(w, np));
    cr_assert_eq(dir_make(d, w, np, NULL, DIR_NORM_UNIT, 0, 11, 0, &e), 0);
    cr_assert(fabs(snorm(d, np) - 1) <= 1e-5);
    /* NULL layout: filter = one global tensor */
    cr_assert_eq(dir_make(d, w, np, NULL, DIR_NORM_FILTER, 0, 11, 0, &e), 0);
    cr_assert(fabs(snorm(d, np) - snorm(w, np)) <= 1e-5 * snorm(w, np));

    /* layout mismatch is an error */
    cr_assert_eq(dir_normalize(d, w, np - 1, &n, DIR_NORM_FILTER, 0, &e), DP_EUSAGE);
    cr_assert(strstr(e.msg, "parameters"));
    free(w), free(d), free(buf);
    net_free(&n);
}

/* ---- Hessian -------------------------------------------------------------------- */

Test(hessian, top_eigenvalue_diagonal_and_rotated) {
    for (int rot = 0; rot < 2; rot++) {
        quad q;
        quad_spectrum(&q);
        if (rot) rotate(&q);
        float x[QN], v[QN];
        point(x, QN);
        for (int i = 0; i < QN; i++) q.c[i] = 0.1 * i / QN;
        loss_fn f = quad_fn(&q);
        hess_cfg c;
        hess_cfg_default(&c);
        hess_result r;
        dp_err e = {0};
        cr_assert_eq(sharp_hessian_top(&f, x, &c, &r, v, &e), 0, "%s", e.msg);
        cr_assert(r.converged && r.iters < c.max_iter);
        cr_assert(fabs(r.lambda - 10) <= 0.01 * 10, "rot %d: lambda %g", rot, r.lambda);
        cr_assert_eq(r.n_grads, 2L * r.iters);
        /* the eigenvector is Q e_0 */
        double e0[QN] = {1}, qe[QN];
        reflect(&q, e0, qe);
        double dot = 0;
        for (int i = 0; i < QN; i++) dot += qe[i] * v[i];
        cr_assert(fabs(fabs(dot) - 1) < 1e-2, "|<v, q0>| = %g", fabs(dot));
    }
}

Test(hessian, largest_magnitude_may_be_negative) {
    quad q;
    quad_spectrum(&q);
    rotate(&q);
    q.h[1] = -12; /* now |-12| > 10 */
    float x[QN];
    point(x, QN);
    loss_fn f = quad_fn(&q);
    hess_cfg c;
    hess_cfg_default(&c);
    hess_result r;
    dp_err e = {0};
    cr_assert_eq(sharp_hessian_top(&f, x, &c, &r, NULL, &e), 0, "%s", e.msg);
    cr_assert(fabs(r.lambda + 12) <= 0.12, "lambda %g", r.lambda);
}

Test(hessian, hutchinson_trace_exact_for_diagonal) {
    quad q;
    quad_spectrum(&q);
    float x[QN];
    point(x, QN);
    double tr = 0;
    for (int i = 0; i < QN; i++) tr += q.h[i];
    loss_fn f = quad_fn(&q);
    hess_cfg c;
    hess_cfg_default(&c);
    hess_result r;
    dp_err e = {0};
    cr_assert_eq(sharp_hessian_trace(&f, x, &c, &r, &e), 0, "%s", e.msg);
    cr_assert_eq(r.iters, 10);
    cr_assert(fabs(r.lambda - tr) <= 1e-4 * tr, "trace %g vs %g", r.lambda, tr);
    cr_assert(r.sem <= 1e-4 * tr, "sem %g", r.sem);
    /* rotated H: Hutchinson is unbiased, not exact; 200 samples land within a few sem */
    rotate(&q);
    c.samples = 200;
    cr_assert_eq(sharp_hessian_trace(&f, x, &c, &r, &e), 0);
    cr_assert(r.sem > 0 && fabs(r.lambda - tr) <= 4 * r.sem, "trace %g +- %g vs %g", r.lambda,
              r.sem, tr);
}

/* ---- SAM ------------------------------------------------------------------------ */

Test(sam, first_order_matches_closed_form) {
    quad q;
    quad_spectrum(&q);
    rotate(&q);
    float x[QN], gf[QN];
    point(x, QN);
    loss_fn f = quad_fn(&q);
    quad_eval(&q, x, gf);
    /* L(x + eps) - L(x) = rho ||g|| + 0.5 rho^2 g^T H g / ||g||^2 with H g = grad(x + g) - grad(x) */
    double g[QN], gg = 0, gHg = 0;
    for (int i = 0; i < QN; i++) g[i] = gf[i], gg += g[i] * g[i];
    double y[QN], qy[QN], hy[QN];
    reflect(&q, g, qy);
    for (int i = 0; i < QN; i++) y[i] = q.h[i] * qy[i];
    reflect(&q, y, hy);
    for (int i = 0; i < QN; i++) gHg += g[i] * hy[i];
    sam_cfg c;
    sam_cfg_default(&c);
    cr_assert_float_eq(c.rho, 0.05, 0);
    double rho = c.rho, want = rho * sqrt(gg) + 0.5 * rho * rho * gHg / gg;
    sam_result r;
    dp_err e = {0};
    cr_assert_eq(sharp_sam(&f, x, &c, &r, &e), 0, "%s", e.msg);
    cr_assert(fabs(r.sharpness - want) <= 1e-4 * want, "sam %.8g vs %.8g", r.sharpness, want);
    cr_assert(fabs(r.eps_norm - rho) < 1e-6);
    cr_assert(fabs(r.grad_norm - sqrt(gg)) < 1e-6 * sqrt(gg));

    /* k steps: no worse than first order, no better than the ball's bound */
    c.steps = 5;
    sam_result r5;
    cr_assert_eq(sharp_sam(&f, x, &c, &r5, &e), 0);
    double bound = rho * sqrt(gg) + 0.5 * rho * rho * 10;
    cr_assert(r5.sharpness >= r.sharpness * (1 - 1e-4) && r5.sharpness <= bound * (1 + 1e-6),
              "5-step %g, first order %g, bound %g", r5.sharpness, r.sharpness, bound);
    cr_assert(r5.eps_norm <= rho * (1 + 1e-6));
}

Test(sam, at_a_minimum_along_the_top_eigenvector) {
    /* near the minimum the quadratic term dominates: 1-D f = 0.5 h x^2, x small */
    quad q;
    memset(&q, 0, sizeof q);
    q.n = 1, q.h[0] = 4;
    float x[1] = {1e-3f};
    loss_fn f = quad_fn(&q);
    sam_cfg c;
    sam_cfg_default(&c);
    sam_result r;
    dp_err e = {0};
    cr_assert_eq(sharp_sam(&f, x, &c, &r, &e), 0);
    double want = 0.5 * 4 * ((1e-3 + 0.05) * (1e-3 + 0.05) - 1e-6);
    cr_assert(fabs(r.sharpness - want) < 1e-6, "%g vs %g", r.sharpness, want);
}

/* ---- epsilon-sharpness --------------------------------------------------------- */

Test(epsilon_sharpness, box_corner_of_a_separable_quadratic) {
    quad q;
    quad_spectrum(&q);
    q.base = 0.7;
    float x[QN];
    point(x, QN);
    loss_fn f = quad_fn(&q);
    epss_cfg c;
    epss_cfg_default(&c);
    cr_assert_float_eq(c.eps, 1e-3, 0);
    c.eps = 1e-2;
    /* convex and separable: each coordinate moves away from the centre to the box edge */
    double L0 = q.base, Lmax = q.base;
    for (int i = 0; i < QN; i++) {
        double b = c.eps * (fabs(x[i]) + 1), a = fabs(x[i]);
        L0 += 0.5 * q.h[i] * a * a;
        Lmax += 0.5 * q.h[i] * (a + b) * (a + b);
    }
    double want = 100 * (Lmax - L0) / (1 + L0);
    epss_result r;
    dp_err e = {0};
    cr_assert_eq(sharp_epsilon(&f, x, &c, &r, &e), 0, "%s", e.msg);
    cr_assert(fabs(r.loss0 - L0) < 1e-6);
    cr_assert(fabs(r.sharpness - want) <= 1e-3 * want, "eps-sharpness %.8g vs %.8g", r.sharpness,
              want);

    /* at the exact minimum every corner is a maximiser: 0.5 sum h_i eps^2 */
    float z[QN] = {0};
    want = 0;
    for (int i = 0; i < QN; i++) want += 0.5 * q.h[i] * c.eps * c.eps;
    want = 100 * want / (1 + q.base);
    cr_assert_eq(sharp_epsilon(&f, z, &c, &r, &e), 0);
    cr_assert(fabs(r.sharpness - want) <= 1e-3 * want, "at the minimum %.8g vs %.8g", r.sharpness,
              want);
}

/* ---- Mean Valley ---------------------------------------------------------------- */

/* f(x) = base + sum_i a_i x_i^2 */
typedef struct {
    int n;
    double a[4], base;
} bowl;

static double bowl_loss(void *ctx, const float *x) {
    const bowl *b = ctx;
    double f = b->base;
    for (int i = 0; i < b->n; i++) f += b->a[i] * (double)x[i] * x[i];
    return f;
}

static double bowl_grad(void *ctx, const float *x, float *g) {
    const bowl *b = ctx;
    for (int i = 0; i < b->n; i++) g[i] = (float)(2 * b->a[i] * x[i]);
    return bowl_loss(ctx, x);
}

Test(mean_valley, one_dimensional_valley_absolute_threshold) {
    bowl b = {.n = 1, .a = {1}};
    loss_fn f = {.n = 1, .loss = bowl_loss, .grad = bowl_grad, .ctx = &b};
    mv_cfg c;
    mv_cfg_default(&c);
    c.threshold = MV_ABSOLUTE;
    c.eps = 0.01;
    c.rtol = 1e-7;
    float w[1] = {0}, d[1] = {1};
    const float *dirs[1] = {d};
    mv_result r;
    double width, tp, tm, dn;
    dp_err e = {0};
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, dirs, 1, &r, &width, &tp, &tm, &dn, &e), 0,
                 "%s", e.msg);
    cr_assert(fabs(width - 0.2) < 1e-6, "width %.9g", width); /* 2 sqrt(eps) */
    cr_assert(fabs(tp - 0.1) < 1e-6 && fabs(tm - 0.1) < 1e-6);
    cr_assert(fabs(r.mv - 0.2) < 1e-6 && fabs(r.imv - 5) < 1e-4, "mv %g imv %g", r.mv, r.imv);
    cr_assert(dn == 1 && r.k == 1 && r.n_capped == 0);
    cr_assert(fabs(r.threshold - 0.01) < 1e-12);

    /* off-centre: t+ = sqrt(L0 + eps) - w, t- = sqrt(L0 + eps) + w, width 2 sqrt(L0 + eps) */
    w[0] = 0.05f;
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, dirs, 1, &r, &width, &tp, &tm, NULL, &e), 0);
    double s = sqrt((double)w[0] * w[0] + 0.01);
    cr_assert(fabs(tp - (s - w[0])) < 1e-6 && fabs(tm - (s + w[0])) < 1e-6, "%g %g", tp, tm);
    cr_assert(fabs(width - 2 * s) < 1e-6);
}

Test(mean_valley, relative_threshold_directions_and_capping) {
    /* f = 1 + |x|^2 in 3-D at 0: relative eps 0.01 -> threshold 1.01 -> unit width 0.2 */
    bowl b = {.n = 3, .a = {1, 1, 1}, .base = 1};
    loss_fn f = {.n = 3, .loss = bowl_loss, .grad = bowl_grad, .ctx = &b};
    mv_cfg c;
    mv_cfg_default(&c);
    c.eps = 0.01;
    c.rtol = 1e-6;
    float w[3] = {0}, d1[3] = {0.6f, 0.8f, 0}, d2[3] = {0, 0, 2};
    const float *dirs[2] = {d1, d2};
    mv_result r;
    double width[2], dn[2];
    dp_err e = {0};
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, dirs, 2, &r, width, NULL, NULL, dn, &e), 0,
                 "%s", e.msg);
    /* widths in units of d: 0.2 along the unit d1, 0.1 along d2 of norm 2 */
    cr_assert(fabs(width[0] - 0.2) < 1e-5 && fabs(width[1] - 0.1) < 1e-5, "%g %g", width[0],
              width[1]);
    cr_assert(fabs(dn[1] - 2) < 1e-6);
    cr_assert(fabs(r.mv - 0.15) < 1e-5 && fabs(r.imv - 1 / 0.15) < 1e-3);

    /* normalize_given with unit normalisation: both become unit -> 0.2 each */
    c.normalize_given = 1;
    c.norm = DIR_NORM_UNIT;
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, dirs, 2, &r, width, NULL, NULL, NULL, &e), 0);
    cr_assert(fabs(r.mv - 0.2) < 1e-5, "mv %g", r.mv);

    /* random unit directions: an isotropic bowl is 0.2 wide along any of them */
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, NULL, 0, &r, NULL, NULL, NULL, NULL, &e), 0);
    cr_assert_eq(r.k, 10);
    cr_assert(fabs(r.mv - 0.2) < 1e-5, "mv %g", r.mv);

    /* a flat direction never leaves the valley: both sides capped at t_max */
    b.a[2] = 0;
    c.normalize_given = 0;
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, dirs, 2, &r, width, NULL, NULL, NULL, &e), 0);
    cr_assert_eq(r.n_capped, 2);
    cr_assert_float_eq(width[1], 2 * c.t_max, 1e-12);

    /* errors: a zero direction; a relative threshold at zero loss */
    float z[3] = {0};
    const float *zd[1] = {z};
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, zd, 1, &r, NULL, NULL, NULL, NULL, &e),
                 DP_EUSAGE);
    b.base = 0;
    cr_assert_eq(sharp_mean_valley(&f, w, NULL, &c, dirs, 1, &r, NULL, NULL, NULL, NULL, &e),
                 DP_EUSAGE);
    cr_assert(strstr(e.msg, "absolute"), "%s", e.msg);
}

Test(mean_valley, sharper_valley_has_larger_imv) {
    bowl flat = {.n = 2, .a = {1, 1}, .base = 1}, sharp = {.n = 2, .a = {16, 16}, .base = 1};
    loss_fn ff = {.n = 2, .loss = bowl_loss, .grad = bowl_grad, .ctx = &flat};
    loss_fn fs = {.n = 2, .loss = bowl_loss, .grad = bowl_grad, .ctx = &sharp};
    mv_cfg c;
    mv_cfg_default(&c);
    c.norm = DIR_NORM_UNIT;
    float w[2] = {0};
    mv_result rf, rs;
    dp_err e = {0};
    cr_assert_eq(sharp_mean_valley(&ff, w, NULL, &c, NULL, 0, &rf, NULL, NULL, NULL, NULL, &e), 0);
    cr_assert_eq(sharp_mean_valley(&fs, w, NULL, &c, NULL, 0, &rs, NULL, NULL, NULL, NULL, &e), 0);
    /* width scales as 1/sqrt(a): 4x narrower; default rtol 1e-2 */
    cr_assert(fabs(rs.imv / rf.imv - 4) < 0.1, "imv %g vs %g", rs.imv, rf.imv);
    cr_assert(fabs(rf.mv - 2 * sqrt(0.1)) < 0.02 * 2 * sqrt(0.1), "mv %g", rf.mv);
}

/* ---- a real tiny net through the objective adapter ------------------------------- */

Test(smoke, all_measures_on_a_tiny_cnn) {
    spec_t s = small_cnn();
    dp_err e = {0};
    dataset_t tr, te;
    cr_assert_eq(synthetic_make(&tr, &te, 1, 12, 12, 4, 48, 8, 5, &e), 0, "%s", e.msg);
    net_t n;
    cr_assert_eq(net_build_spec(&n, &s, 1, 12, 12, 4, &e), 0, "%s", e.msg);
    float *w = calloc(n.n_params, sizeof *w), *buf = calloc(n.n_buffers, sizeof *buf);
    net_init(&n, w, buf, 3);
    batch_cfg_t bc;
    spec_t ds;
    memset(&ds, 0, sizeof ds);
    ds.data.dataset = DATA_SYNTHETIC;
    ds.data.normalize = 1;
    batch_cfg_from_spec(&bc, &ds, &tr);
    objective_t o;
    cr_assert_eq(objective_init(&o, &n, &tr, &bc, 0, 16, buf, &e), 0, "%s", e.msg);
    loss_fn f;
    loss_fn_objective(&f, &o);
    cr_assert_eq(f.n, n.n_params);

    mv_cfg mc;
    mv_cfg_default(&mc);
    mc.k = 3;
    mv_result mr;
    double width[3];
    cr_assert_eq(sharp_mean_valley(&f, w, &n, &mc, NULL, 0, &mr, width, NULL, NULL, NULL, &e), 0,
                 "%s", e.msg);
    cr_assert(isfinite(mr.loss0) && mr.loss0 > 0);
    cr_assert(mr.mv > 0 && isfinite(mr.mv) && mr.imv > 0 && isfinite(mr.imv), "mv %g", mr.mv);
    for (int j = 0; j < 3; j++) cr_assert(width[j] > 0 && width[j] <= 2 * mc.t_max);
    /* deterministic: same seed, same widths */
    double width2[3];
    cr_assert_eq(sharp_mean_valley(&f, w, &n, &mc, NULL, 0, &mr, width2, NULL, NULL, NULL, &e), 0);
    cr_assert(memcmp(width, width2, sizeof width) == 0);

    sam_cfg sc;
    sam_cfg_default(&sc);
    sam_result sr;
    cr_assert_eq(sharp_sam(&f, w, &sc, &sr, &e), 0, "%s", e.msg);
    cr_assert(sr.sharpness > 0 && isfinite(sr.sharpness) && sr.grad_norm > 0, "sam %g",
              sr.sharpness);

    hess_cfg hc;
    hess_cfg_default(&hc);
    hc.max_iter = 30;
    hc.samples = 3;
    hess_result hr;
    cr_assert_eq(sharp_hessian_top(&f, w, &hc, &hr, NULL, &e), 0, "%s", e.msg);
    cr_assert(isfinite(hr.lambda) && fabs(hr.lambda) > 0, "lambda %g", hr.lambda);
    hess_result trr;
    cr_assert_eq(sharp_hessian_trace(&f, w, &hc, &trr, &e), 0, "%s", e.msg);
    cr_assert(isfinite(trr.lambda) && isfinite(trr.sem), "trace %g", trr.lambda);

    epss_cfg ec;
    epss_cfg_default(&ec);
    epss_result er;
    cr_assert_eq(sharp_epsilon(&f, w, &ec, &er, &e), 0, "%s", e.msg);
    cr_assert(er.sharpness > 0 && isfinite(er.sharpness), "eps-sharpness %g", er.sharpness);

    objective_free(&o);
    free(w), free(buf);
    net_free(&n);
    dataset_free(&tr), dataset_free(&te);
}
