/* sharpness.c - Mean Valley / IMV, SAM sharpness, Hessian top eigenvalue and
 * trace, epsilon-sharpness. Definitions and defaults are in sharpness.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sharpness.h"

/* Streams for the Hessian's random vectors (directions use DIR_RNG_STREAM + j). */
#define HESS_RNG_STREAM_POWER (DIR_RNG_STREAM - 1u)
#define HESS_RNG_STREAM_TRACE (DIR_RNG_STREAM - 2u)
#define EPSS_RNG_STREAM (DIR_RNG_STREAM - 3u)

/* Bisection never needs more halvings than this (rtol 1e-12 from t_max takes ~40). */
#define MV_MAX_BISECT 64

static double obj_loss(void *ctx, const float *x) { return objective_loss(ctx, x, NULL); }
static double obj_grad(void *ctx, const float *x, float *g) { return objective_grad(ctx, x, g); }

void loss_fn_objective(loss_fn *f, objective_t *o) {
    f->n = o->net->n_params;
    f->loss = obj_loss;
    f->grad = obj_grad;
    f->ctx = o;
}

static int check_loss0(double L0, dp_err *e) {
    if (!isfinite(L0)) return dp_fail(e, DP_ENUMERIC, "the loss at the parameters is %g", L0);
    return 0;
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* ---- Mean Valley -------------------------------------------------------------- */

void mv_cfg_default(mv_cfg *c) {
    memset(c, 0, sizeof *c);
    c->k = 10;
    c->norm = DIR_NORM_FILTER;
    c->keep_1d = 0;
    c->normalize_given = 0;
    c->seed = 0;
    c->threshold = MV_RELATIVE;
    c->eps = 0.1;
    c->t0 = 0.05;
    c->t_max = 10;
    c->rtol = 1e-2;
}

/* The step along sign * d at which the loss first exceeds thr (see header). */
static double valley_side(const loss_fn *f, const float *w, const float *d, double sign,
                          double thr, const mv_cfg *c, float *x, long *evals, int *capped) {
    double lo = 0, hi = c->t0 < c->t_max ? c->t0 : c->t_max;
    for (;;) {
        vec_add_scaled(x, w, sign * hi, d, f->n);
        double L = f->loss(f->ctx, x);
        ++*evals;
        if (!(L <= thr)) break; /* NaN counts as above */
        lo = hi;
        if (hi >= c->t_max) {
            ++*capped;
            return c->t_max;
        }
        hi = 2 * hi < c->t_max ? 2 * hi : c->t_max;
    }
    for (int it = 0; it < MV_MAX_BISECT && hi - lo > c->rtol * hi; it++) {
        double mid = 0.5 * (lo + hi);
        vec_add_scaled(x, w, sign * mid, d, f->n);
        double L = f->loss(f->ctx, x);
        ++*evals;
        if (L <= thr)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

int sharp_mean_valley(const loss_fn *f, const float *w, const net_t *net, const mv_cfg *c,
                      const float *const *dirs, int k_given, mv_result *r, double *width,
                      double *t_plus, double *t_minus, double *dnorm, dp_err *e) {
    memset(r, 0, sizeof *r);
    int k = dirs ? k_given : c->k;
    if (k < 1) return dp_fail(e, DP_EUSAGE, "mean valley: needs at least one direction, got %d", k);
    if (!(c->eps > 0) || !(c->t0 > 0) || !(c->t_max >= c->t0) || !(c->rtol > 0 && c->rtol < 1))
        return dp_fail(e, DP_EUSAGE,
                       "mean valley: need eps > 0, 0 < t0 <= t_max, 0 < rtol < 1 "
                       "(got eps %g, t0 %g, t_max %g, rtol %g)",
                       c->eps, c->t0, c->t_max, c->rtol);
    size_t n = f->n;
    double L0 = f->loss(f->ctx, w);
    int rc = check_loss0(L0, e);
    if (rc) return rc;
    if (c->threshold == MV_RELATIVE && !(L0 > 0))
        return dp_fail(e, DP_EUSAGE,
                       "mean valley: a relative threshold needs a positive loss, L(w) = %g "
                       "(use an absolute threshold)",
                       L0);
    double thr = c->threshold == MV_RELATIVE ? (1 + c->eps) * L0 : L0 + c->eps;
    int need_d = !dirs || c->normalize_given;
    float *x = dp_calloc(n, sizeof *x, "a valley point", e);
    float *dbuf = need_d ? dp_calloc(n, sizeof *dbuf, "a direction", e) : NULL;
    if (!x || (need_d && !dbuf)) {
        free(x), free(dbuf);
        return DP_ENOMEM;
    }
    r->loss0 = L0;
    r->threshold = thr;
    r->n_evals = 1;
    double sum = 0;
    for (int j = 0; j < k; j++) {
        const float *d = dbuf;
        if (!dirs) {
            rc = dir_make(dbuf, w, n, net, c->norm, c->keep_1d, c->seed, (uint64_t)j, e);
        } else if (c->normalize_given) {
            memcpy(dbuf, dirs[j], n * sizeof *dbuf);
            rc = dir_normalize(dbuf, w, n, net, c->norm, c->keep_1d, e);
        } else {
            d = dirs[j];
        }
        if (rc) break;
        double dn = vec_norm(d, n);
        if (!(dn > 0) || !isfinite(dn)) {
            rc = dp_fail(e, DP_EUSAGE, "mean valley: direction %d has norm %g", j, dn);
            break;
        }
        double tp = valley_side(f, w, d, +1, thr, c, x, &r->n_evals, &r->n_capped);
        double tm = valley_side(f, w, d, -1, thr, c, x, &r->n_evals, &r->n_capped);
        sum += tp + tm;
        if (width) width[j] = tp + tm;
        if (t_plus) t_plus[j] = tp;
        if (t_minus) t_minus[j] = tm;
        if (dnorm) dnorm[j] = dn;
    }
    free(x), free(dbuf);
    if (rc) return rc;
    r->k = k;
    r->mv = sum / k;
    r->imv = r->mv > 0 ? 1 / r->mv : INFINITY;
    return 0;
}

/* ---- SAM ---------------------------------------------------------------------- */

void sam_cfg_default(sam_cfg *c) {
    c->rho = 0.05;
    c->steps = 1;
}

int sharp_sam(const loss_fn *f, const float *w, const sam_cfg *c, sam_result *r, dp_err *e) {
    memset(r, 0, sizeof *r);
    if (!(c->rho > 0) || c->steps < 1)
        return dp_fail(e, DP_EUSAGE, "sam sharpness: need rho > 0 and steps >= 1 (got %g, %d)",
                       c->rho, c->steps);
    size_t n = f->n;
    float *buf = dp_calloc(3 * n, sizeof *buf, "SAM scratch", e);
    if (!buf) return DP_ENOMEM;
    float *g = buf, *eps = buf + n, *x = buf + 2 * n;
    double L0 = f->grad(f->ctx, w, g);
    int rc = check_loss0(L0, e);
    if (!rc && !all_finite(g, n))
        rc = dp_fail(e, DP_ENUMERIC, "sam sharpness: the gradient at the parameters is not finite");
    if (rc) {
        free(buf);
        return rc;
    }
    r->loss0 = L0;
    r->grad_norm = vec_norm(g, n);
    r->loss_adv = L0;
    if (r->grad_norm == 0) { /* a stationary point: no first-order ascent direction */
        free(buf);
        return 0;
    }
    double step = c->rho / c->steps, best = -INFINITY;
    for (int j = 0; j < c->steps; j++) {
        if (j > 0) {
            double L = f->grad(f->ctx, x, g);
            if (L > best || isnan(L)) best = L, r->eps_norm = vec_norm(eps, n);
        }
        double gn = vec_norm(g, n);
        if (!(gn > 0) || !isfinite(gn)) break;
        vec_axpy(eps, step / gn, g, n);
        double en = vec_norm(eps, n);
        if (en > c->rho) vec_scale(eps, c->rho / en, n);
        vec_add_scaled(x, w, 1.0, eps, n);
    }
    double L = f->loss(f->ctx, x);
    if (L > best || isnan(L)) best = L, r->eps_norm = vec_norm(eps, n);
    free(buf);
    r->loss_adv = best;
    r->sharpness = best - L0;
    if (!isfinite(best))
        return dp_fail(e, DP_ENUMERIC, "sam sharpness: the loss at the ascent point is %g", best);
    return 0;
}

/* ---- Hessian ------------------------------------------------------------------ */

void hess_cfg_default(hess_cfg *c) {
    c->max_iter = 100;
    c->tol = 1e-3;
    c->samples = 10;
    c->fd_scale = 1e-3;
    c->seed = 0;
}

/* hv <- H v by central differences of gradients; x and gm are scratch. */
static int hvp(const loss_fn *f, const float *w, double step_norm, const float *v, float *hv,
               float *x, float *gm, long *n_grads, dp_err *e) {
    size_t n = f->n;
    double vn = vec_norm(v, n);
    if (!(vn > 0)) {
        memset(hv, 0, n * sizeof *hv);
        return 0;
    }
    double h = step_norm / vn;
    vec_add_scaled(x, w, h, v, n);
    f->grad(f->ctx, x, hv);
    vec_add_scaled(x, w, -h, v, n);
    f->grad(f->ctx, x, gm);
    *n_grads += 2;
    for (size_t i = 0; i < n; i++) hv[i] = (float)(((double)hv[i] - gm[i]) / (2 * h));
    if (!all_finite(hv, n))
        return dp_fail(e, DP_ENUMERIC, "Hessian-vector product: a gradient is not finite");
    return 0;
}

static int hess_check(const hess_cfg *c, dp_err *e) {
    if (c->max_iter < 1 || !(c->tol > 0) || c->samples < 1 || !(c->fd_scale > 0))
        return dp_fail(e, DP_EUSAGE,
                       "hessian: need max_iter >= 1, tol > 0, samples >= 1, fd_scale > 0 "
                       "(got %d, %g, %d, %g)",
                       c->max_iter, c->tol, c->samples, c->fd_scale);
    return 0;
}

/* Shared start of both Hessian estimates: checks, 4 scratch vectors
 * (probe, H*probe, x, gradient), L(w) finite, and the finite-difference step. */
static int hess_setup(const loss_fn *f, const float *w, const hess_cfg *c, hess_result *r,
                      float **buf, double *step, dp_err *e) {
    memset(r, 0, sizeof *r);
    int rc = hess_check(c, e);
    if (rc) return rc;
    size_t n = f->n;
    *buf = dp_calloc(4 * n, sizeof **buf, "Hessian scratch", e);
    if (!*buf) return DP_ENOMEM;
    rc = check_loss0(f->loss(f->ctx, w), e);
    if (rc) {
        free(*buf);
        *buf = NULL;
        return rc;
    }
    double wn = vec_norm(w, n);
    *step = c->fd_scale * (wn > 1 ? wn : 1);
    return 0;
}

int sharp_hessian_top(const loss_fn *f, const float *w, const hess_cfg *c, hess_result *r,
                      float *v_out, dp_err *e) {
    float *buf;
    double step;
    int rc = hess_setup(f, w, c, r, &buf, &step, e);
    if (rc) return rc;
    size_t n = f->n;
    float *v = buf, *hv = buf + n, *x = buf + 2 * n, *gm = buf + 3 * n;
    rng_t rg;
    rng_init(&rg, c->seed, HESS_RNG_STREAM_POWER);
    for (size_t i = 0; i < n; i++) v[i] = (float)rng_normal(&rg);
    vec_scale(v, 1 / vec_norm(v, n), n);
    double prev = 0;
    for (int it = 1; it <= c->max_iter; it++) {
        rc = hvp(f, w, step, v, hv, x, gm, &r->n_grads, e);
        if (rc) break;
        double lam = vec_dot(v, hv, n), hn = vec_norm(hv, n);
        r->lambda = lam;
        r->iters = it;
        if (hn == 0) { /* v is in the null space: a zero eigenvalue */
            r->converged = 1;
            break;
        }
        if (it > 1 && fabs(lam - prev) <= c->tol * fabs(lam)) {
            r->converged = 1;
            break;
        }
        prev = lam;
        vec_scale(hv, 1 / hn, n);
        memcpy(v, hv, n * sizeof *v);
    }
    if (!rc && v_out) memcpy(v_out, v, n * sizeof *v);
    free(buf);
    return rc;
}

int sharp_hessian_trace(const loss_fn *f, const float *w, const hess_cfg *c, hess_result *r,
                        dp_err *e) {
    float *buf;
    double step;
    int rc = hess_setup(f, w, c, r, &buf, &step, e);
    if (rc) return rc;
    size_t n = f->n;
    float *z = buf, *hz = buf + n, *x = buf + 2 * n, *gm = buf + 3 * n;
    rng_t rg;
    rng_init(&rg, c->seed, HESS_RNG_STREAM_TRACE);
    double sum = 0, sum2 = 0;
    for (int s = 0; s < c->samples; s++) {
        for (size_t i = 0; i < n; i++) z[i] = (rng_u64(&rg) >> 63) ? 1.0f : -1.0f;
        rc = hvp(f, w, step, z, hz, x, gm, &r->n_grads, e);
        if (rc) break;
        double q = vec_dot(z, hz, n);
        sum += q, sum2 += q * q;
        r->iters = s + 1;
    }
    free(buf);
    if (rc) return rc;
    int m = r->iters;
    r->lambda = sum / m;
    if (m > 1) {
        double var = (sum2 - sum * sum / m) / (m - 1);
        r->sem = var > 0 ? sqrt(var / m) : 0;
    }
    r->converged = 1;
    return 0;
}

/* ---- epsilon-sharpness -------------------------------------------------------- */

void epss_cfg_default(epss_cfg *c) {
    c->eps = 1e-3;
    c->steps = 5;
}

int sharp_epsilon(const loss_fn *f, const float *w, const epss_cfg *c, epss_result *r, dp_err *e) {
    memset(r, 0, sizeof *r);
    if (!(c->eps > 0) || c->steps < 1)
        return dp_fail(e, DP_EUSAGE, "epsilon-sharpness: need eps > 0 and steps >= 1 (got %g, %d)",
                       c->eps, c->steps);
    size_t n = f->n;
    float *buf = dp_calloc(3 * n, sizeof *buf, "epsilon-sharpness scratch", e);
    if (!buf) return DP_ENOMEM;
    float *z = buf, *x = buf + n, *g = buf + 2 * n;
    double L0 = 0, best = 0;
    int rc = 0;
    rng_t rg; /* signs for coordinates with a zero gradient (e.g. at an exact minimum) */
    rng_init(&rg, 0, EPSS_RNG_STREAM);
    for (int j = 0; j < c->steps; j++) {
        vec_add_scaled(x, w, 1.0, z, n);
        double L = f->grad(f->ctx, j ? x : w, g);
        if (j == 0) {
            rc = check_loss0(L, e);
            if (rc) break;
            L0 = best = L;
        } else if (L > best || isnan(L)) {
            best = L;
        }
        double a = ldexp(1.0, -j);
        for (size_t i = 0; i < n; i++) {
            double b = c->eps * (fabs((double)w[i]) + 1);
            double s = g[i] > 0 ? 1 : g[i] < 0 ? -1 : j > 0 ? 0 : (rng_u64(&rg) >> 63) ? 1 : -1;
            double zi = z[i] + a * s * b;
            z[i] = (float)(zi > b ? b : zi < -b ? -b : zi);
        }
    }
    if (!rc) {
        vec_add_scaled(x, w, 1.0, z, n);
        double L = f->loss(f->ctx, x);
        if (L > best || isnan(L)) best = L;
        r->loss0 = L0;
        r->loss_max = best;
        r->sharpness = 100 * (best - L0) / (1 + L0);
        if (!isfinite(best))
            rc = dp_fail(e, DP_ENUMERIC, "epsilon-sharpness: the loss in the box is %g", best);
    }
    free(buf);
    return rc;
}
