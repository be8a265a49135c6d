#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "dataset.h"
#include "clock.h"
#include "file.h"
#include "landscape.h"
#include "report.h"
#include "net.h"
#include "evaluate.h"
#include "runstate.h"
#include "plot.h"

void landscape_opts_default(landscape_opts *o) {
    memset(o, 0, sizeof *o);
    o->mode = LAND_2D;
    o->samples = 10000;
    o->batch = 256;
    o->norm = DIR_NORM_FILTER;
}

static const char *const mode_names[] = {"2d", "random", "line", "workers"};

int land_mode_parse(const char *s, land_mode *out, dp_err *e) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, mode_names[i])) {
            *out = (land_mode)i;
            return 0;
        }
    return dp_fail(e, DP_EUSAGE, "unknown landscape mode '%s'; valid: 2d, random, line, workers", s);
}

const char *land_mode_name(land_mode m) { return (unsigned)m < 4 ? mode_names[m] : "?"; }

double land_coord(double lo, double hi, int k, int n) {
    if (n < 2) return lo;
    if (k == n - 1) return hi;
    return lo + (hi - lo) * k / (n - 1);
}

int land_project(const float *v, const float *d1, const float *d2, size_t n, double *a, double *b,
                 double *captured, dp_err *e) {
    double g11 = vec_dot(d1, d1, n), g12 = vec_dot(d1, d2, n), g22 = vec_dot(d2, d2, n);
    double r1 = vec_dot(d1, v, n), r2 = vec_dot(d2, v, n);
    double det = g11 * g22 - g12 * g12;
    /* relative test: the Gram determinant of (nearly) parallel directions vanishes */
    if (!(det > 1e-12 * g11 * g22) || g11 <= 0 || g22 <= 0)
        return dp_fail(e, DP_EUSAGE, "the two landscape directions are zero or parallel");
    *a = (r1 * g22 - r2 * g12) / det;
    *b = (r2 * g11 - r1 * g12) / det;
    if (captured) {
        double vv = vec_dot(v, v, n);
        /* ||a d1 + b d2||^2 = a^2 g11 + 2ab g12 + b^2 g22 */
        double pp = *a * *a * g11 + 2 * *a * *b * g12 + *b * *b * g22;
        *captured = vv > 0 ? sqrt(pp > 0 ? pp / vv : 0) : 0;
    }
    return 0;
}

/* out = (1 - t) x + t y in double, rounded once: exact at t = 0 and t = 1. */
static void lerp(float *out, const float *x, const float *y, double t, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)((1 - t) * (double)x[i] + t * (double)y[i]);
}

typedef struct {
    ckpt_model m; /* the checkpoint, its model and data */
    checkpoint_t c2;
    objective_t otr, ote;
    float *p, *buf, *d1, *d2, *diff;
    double *res; /* [4][npts]: train loss, train acc, test loss, test acc */
} land_ctx;

/* The plane through the average and workers 0 and 1 (Gram-Schmidt), both
 * directions of the length of worker 0's offset, so the picture's units are
 * "one worker offset". */
static int workers_plane(land_ctx *x, size_t np, dp_err *e) {
    vec_sub(x->d1, x->m.ckpt.worker_params, x->m.ckpt.avg_params, np);
    vec_sub(x->d2, x->m.ckpt.worker_params + np, x->m.ckpt.avg_params, np);
    double n1 = vec_norm(x->d1, np);
    if (!(n1 > 0)) return dp_fail(e, DP_ENUMERIC, "--plane workers: worker 0 sits on the average (no spread)");
    vec_axpy(x->d2, -vec_dot(x->d2, x->d1, np) / (n1 * n1), x->d1, np);
    double n2 = vec_norm(x->d2, np);
    if (!(n2 > 1e-6 * n1))
        return dp_fail(e, DP_ENUMERIC, "--plane workers: workers 0 and 1 lie on one line through the average");
    vec_scale(x->d2, n1 / n2, np);
    return 0;
}

static void ctx_free(land_ctx *x) {
    checkpoint_free(&x->c2);
    objective_free(&x->otr);
    objective_free(&x->ote);
    ckpt_model_close(&x->m);
    free(x->p);
    free(x->buf);
    free(x->d1);
    free(x->d2);
    free(x->diff);
    free(x->res);
}

/* Sets x->p and x->buf to point k's parameters and BN buffers. */
static void point_params(land_ctx *x, const landscape_opts *o, int N, double lo, double hi, int k) {
    size_t np = x->m.net.n_params, nb = x->m.net.n_buffers;
    const checkpoint_t *c = &x->m.ckpt;
    int i = k % N;
    double t = land_coord(lo, hi, i, N);
    switch (o->mode) {
    case LAND_2D: {
        double b = land_coord(lo, hi, k / N, N);
        for (size_t q = 0; q < np; q++)
            x->p[q] = (float)((double)c->avg_params[q] + t * x->d1[q] + b * x->d2[q]);
        memcpy(x->buf, c->avg_buffers, nb * sizeof(float));
        break;
    }
    case LAND_1D_RANDOM:
        for (size_t q = 0; q < np; q++) x->p[q] = (float)((double)c->avg_params[q] + t * x->d1[q]);
        memcpy(x->buf, c->avg_buffers, nb * sizeof(float));
        break;
    case LAND_1D_LINE:
    case LAND_1D_WORKERS: {
        const float *p0 = c->avg_params, *b0 = c->avg_buffers, *p1, *b1;
        if (o->mode == LAND_1D_LINE) {
            p1 = x->c2.avg_params;
            b1 = x->c2.avg_buffers;
        } else {
            p1 = c->worker_params + (size_t)(k / N) * np;
            b1 = c->worker_buffers + (size_t)(k / N) * nb;
        }
        lerp(x->p, p0, p1, t, np);
        /* Running variances extrapolated past an end could turn negative:
         * beyond the ends the buffers stay at the end's own. */
        lerp(x->buf, b0, b1, t < 0 ? 0 : t > 1 ? 1 : t, nb);
        break;
    }
    }
}

static int write_csv(const char *path, const landscape_opts *o, const land_ctx *x, int N, int npts,
                     double lo, double hi, dp_err *e) {
    atomic_file a;
    int rc = atomic_open(&a, path, NULL, e);
    if (rc) return rc;
    FILE *f = a.f;
    const double *r = x->res;
    if (o->mode == LAND_2D) fputs("a,b,", f);
    else if (o->mode == LAND_1D_WORKERS) fputs("worker,t,", f);
    else fputs("t,", f);
    fputs(o->test ? "train_loss,train_acc,test_loss,test_acc\n" : "train_loss,train_acc\n", f);
    for (int k = 0; k < npts; k++) {
        double t = land_coord(lo, hi, k % N, N);
        if (o->mode == LAND_2D) fprintf(f, "%.9g,%.9g,", t, land_coord(lo, hi, k / N, N));
        else if (o->mode == LAND_1D_WORKERS) fprintf(f, "%d,%.9g,", k / N, t);
        else fprintf(f, "%.9g,", t);
        fprintf(f, "%.9g,%.9g", r[k], r[npts + k]);
        if (o->test) fprintf(f, ",%.9g,%.9g", r[2 * npts + k], r[3 * npts + k]);
        fputc('\n', f);
    }
    return atomic_commit(&a, e); /* catches a failed fprintf too */
}

/* The last path component of the checkpoint's folder and its file name,
 * e.g. "quickstart/checkpoint.bin": short enough for a plot title. */
static void short_name(const char *path, char *out, size_t len) {
    const char *s = path, *last = NULL, *prev = NULL;
    for (const char *p = path; *p; p++)
        if (*p == '/' && p[1]) {
            prev = last;
            last = p;
        }
    if (prev) s = prev + 1;
    snprintf(out, len, "%s", s);
}

static int plot_1d(const plot_output *po, const landscape_opts *o, const land_ctx *x, int N, int npts, double lo,
                   double hi, const char *title, const char *xlabel, dp_err *e) {
    int ncurves = npts / N, ns = ncurves * (o->test ? 2 : 1);
    double *t = calloc((size_t)N, sizeof *t);
    double *acc = calloc((size_t)npts * 2, sizeof *acc);
    plot_series *sl = calloc((size_t)ns, sizeof *sl), *sa = calloc((size_t)ns, sizeof *sa);
    char(*names)[32] = calloc((size_t)ns, sizeof *names);
    plot_canvas cv = {0};
    int rc = 0;
    if (!t || !acc || !sl || !sa || !names) {
        rc = dp_fail(e, DP_ENOMEM, "out of memory (landscape plot)");
        goto done;
    }
    for (int i = 0; i < N; i++) t[i] = land_coord(lo, hi, i, N);
    double ymin = INFINITY, ymax = -INFINITY;
    for (int k = 0; k < npts * (o->test ? 2 : 1); k++) {
        int set = k / npts, q = k % npts;
        double L = x->res[2 * set * npts + q];
        acc[k] = 100 * x->res[(2 * set + 1) * npts + q];
        if (isfinite(L) && L > 0) {
            ymin = fmin(ymin, L);
            ymax = fmax(ymax, L);
        }
    }
    for (int s = 0; s < ns; s++) {
        int set = s / ncurves, cu = s % ncurves;
        if (o->mode == LAND_1D_WORKERS)
            snprintf(names[s], sizeof names[s], "w%d%s", cu, set ? " test" : " train");
        else
            snprintf(names[s], sizeof names[s], "%s", set ? "test" : "train");
        plot_series z = {names[s], t, x->res + 2 * set * npts + (size_t)cu * N, N, set, 1, plot_palette(cu), 0,
                         NULL, NULL};
        if (o->mode != LAND_1D_WORKERS) z.color = plot_palette(set);
        sl[s] = z;
        z.y = acc + (size_t)set * npts + (size_t)cu * N;
        sa[s] = z;
    }
    if ((rc = canvas_begin(&cv, 72 * 11.0, 72 * 4.6, po, e))) goto done;
    plot_suptitle(&cv, title);
    plot_lines_opts lo1 = {0};
    lo1.xlabel = xlabel;
    lo1.ylabel = "loss";
    lo1.title = o->test ? "loss (train solid, test dashed)" : "train loss";
    lo1.log_y = ymax > 30 * ymin;
    const double top = 24;
    plot_lines_draw(&cv, 0, top, cv.w / 2, cv.h - top, sl, ns, &lo1);
    plot_lines_opts lo2 = lo1;
    lo2.ylabel = "accuracy (%)";
    lo2.title = o->test ? "accuracy (train solid, test dashed)" : "train accuracy";
    lo2.log_y = 0;
    lo2.no_legend = 1;
    plot_lines_draw(&cv, cv.w / 2, top, cv.w / 2, cv.h - top, sa, ns, &lo2);
    rc = canvas_end(&cv, e);
done:
    if (cv.cr) canvas_abort(&cv);
    free(t);
    free(acc);
    free(sl);
    free(sa);
    free(names);
    return rc;
}

int landscape_run(const landscape_opts *o, comm_t *c, FILE *out, dp_err *e) {
    int rank = c ? c->rank : 0, size = c ? c->size : 1;
    land_ctx x = {0};
    int rc = 0;
    char dir[SPEC_PATH], path[SPEC_PATH + 64], name[256], desc[256];
    const land_mode m = o->mode;
    if (!o->ckpt || !o->spec) return dp_fail(e, DP_EUSAGE, "landscape needs a checkpoint and its spec");
    if (m == LAND_1D_LINE && !o->to_ckpt)
        return dp_fail(e, DP_EUSAGE, "landscape line: needs the other checkpoint (--to)");
    int N = o->grid > 0 ? o->grid : m == LAND_2D ? 21 : 41;
    if (N < 2) return dp_fail(e, DP_EUSAGE, "landscape: the grid needs at least 2 points per axis");
    const int wplane = m == LAND_2D && o->plane_workers;
    double r = o->range > 0 ? o->range : m == LAND_1D_WORKERS || wplane ? 2 : m == LAND_1D_LINE ? 0.5 : 1;
    double lo = -r, hi = m == LAND_1D_LINE ? 1 + r : r;
    if (o->out_dir && *o->out_dir) {
        snprintf(dir, sizeof dir, "%s", o->out_dir);
    } else {
        snprintf(dir, sizeof dir, "%s", o->ckpt);
        char *sl = strrchr(dir, '/');
        if (sl) *sl = 0;
        else snprintf(dir, sizeof dir, ".");
        if (!*dir) snprintf(dir, sizeof dir, "/");
    }
    short_name(o->ckpt, name, sizeof name);

    if ((rc = ckpt_model_open(&x.m, o->spec, o->ckpt, 1, e))) goto done;
    size_t np = x.m.net.n_params, nb = x.m.net.n_buffers;
    if (m == LAND_1D_LINE) {
        if ((rc = checkpoint_read(o->to_ckpt, &x.c2, e))) goto done;
        if (x.c2.n_params != np || x.c2.n_buffers != nb) {
            rc = dp_fail(e, DP_EUSAGE, "checkpoint '%s' (--to) holds %llu parameters, '%s' %zu: not the same model",
                         o->to_ckpt, (unsigned long long)x.c2.n_params, o->ckpt, np);
            goto done;
        }
    }
    if ((m == LAND_1D_WORKERS || wplane) && x.m.ckpt.n_workers < 2) {
        rc = dp_fail(e, DP_EUSAGE, "landscape %s: checkpoint '%s' holds %u worker; needs 2 or more",
                     wplane ? "--plane workers" : "workers", o->ckpt, x.m.ckpt.n_workers);
        goto done;
    }
    int M = (int)x.m.ckpt.n_workers;
    int ncurves = m == LAND_2D ? N : m == LAND_1D_WORKERS ? M : 1;
    if ((long long)N * ncurves > 1000000) {
        rc = dp_fail(e, DP_EUSAGE, "landscape: %d x %d points is too many", N, ncurves);
        goto done;
    }
    int npts = N * ncurves;
    x.p = dp_calloc(np, sizeof(float), "landscape parameters", e);
    x.buf = dp_calloc(nb ? nb : 1, sizeof(float), "landscape buffers", e);
    x.res = dp_calloc((size_t)npts * 4, sizeof(double), "landscape grid", e);
    if (!x.p || !x.buf || !x.res) {
        rc = DP_ENOMEM;
        goto done;
    }
    if (m == LAND_2D || m == LAND_1D_RANDOM) {
        x.d1 = dp_calloc(np, sizeof(float), "a direction", e);
        if (!x.d1) {
            rc = DP_ENOMEM;
            goto done;
        }
        if (m == LAND_2D) {
            x.d2 = dp_calloc(np, sizeof(float), "a direction", e);
            if (!x.d2) {
                rc = DP_ENOMEM;
                goto done;
            }
        }
        if (wplane) {
            if ((rc = workers_plane(&x, np, e))) goto done;
        } else {
            if ((rc = dir_make(x.d1, x.m.ckpt.avg_params, np, &x.m.net, o->norm, o->keep_1d, o->seed, 0, e))) goto done;
            if (m == LAND_2D &&
                (rc = dir_make(x.d2, x.m.ckpt.avg_params, np, &x.m.net, o->norm, o->keep_1d, o->seed, 1, e)))
                goto done;
        }
    }
    const batch_cfg_t bc = x.m.bc;
    int batch = o->batch > 0 ? o->batch : 256;
    if ((rc = objective_init(&x.otr, &x.m.net, &x.m.train, &bc, o->samples, batch, x.buf, e))) goto done;
    if (o->test && (rc = objective_init(&x.ote, &x.m.net, &x.m.test, &bc, 0, batch, x.buf, e))) goto done;

    /* ---- the grid: point k on rank k % size ---- */
    double t0 = now_seconds();
    int mine = (npts - rank + size - 1) / size, done_pts = 0;
    for (int k = rank; k < npts; k += size) {
        point_params(&x, o, N, lo, hi, k);
        double acc = 0;
        x.res[k] = objective_loss(&x.otr, x.p, &acc);
        x.res[npts + k] = acc;
        if (o->test) {
            x.res[2 * npts + k] = objective_loss(&x.ote, x.p, &acc);
            x.res[3 * npts + k] = acc;
        }
        done_pts++;
        if (rank == 0) report_status(o->report, "landscape", done_pts, mine, land_mode_name(m));
    }
    double elapsed = now_seconds() - t0;
    if (c && c->size > 1) {
        if ((rc = comm_sum_f64(c, x.res, npts * 4, e))) goto done;
        double el = elapsed;
        if ((rc = comm_max_f64(c, &el, 1, e))) goto done;
        elapsed = el;
    }
    if (rank != 0) goto done;

    /* A NaN or Inf in the results is an error, not a picture. */
    int bad = 0, first = -1;
    for (int k = 0; k < npts; k++)
        if (!isfinite(x.res[k]) || (o->test && !isfinite(x.res[2 * npts + k]))) bad++, first = first < 0 ? k : first;
    if (bad) {
        rc = dp_fail(e, DP_ENUMERIC,
                     "landscape: the loss is NaN or Inf at %d of %d points (the first: point %d of the "
                     "grid): the model overflows that far from the checkpoint; use a smaller --range "
                     "(now %g); nothing was written",
                     bad, npts, first, r);
        goto done;
    }

    /* ---- outputs (rank 0) ---- */
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = dp_fail(e, DP_EIO, "cannot create output folder '%s': %s", dir, strerror(errno));
        goto done;
    }
    const char *tag = m == LAND_2D ? "2d" : m == LAND_1D_RANDOM ? "1d-random" : m == LAND_1D_LINE ? "1d-line" : "1d-workers";
    snprintf(path, sizeof path, "%s/landscape-%s.csv", dir, tag);
    if ((rc = write_csv(path, o, &x, N, npts, lo, hi, e))) goto done;
    net_describe(&x.m.net, desc, sizeof desc);
    fprintf(out, "loss landscape (%s) of %s: step %lld, %d worker%s; %s\n", tag, o->ckpt, (long long)x.m.ckpt.step, M,
            M > 1 ? "s" : "", desc);
    fprintf(out, "  data: first %d training samples of %s%s; BN eval mode\n", x.otr.n, dataset_name(o->spec->data.dataset),
            o->test ? " + the test set" : "");
    if (wplane)
        fprintf(out, "  plane of the workers: d1 = x_0 - avg (|d1| = %.4g), d2 = the part of x_1 - avg\n"
                     "  orthogonal to d1, scaled to |d1| (w0 at (1, 0), w1 at b > 0)\n",
                vec_norm(x.d1, np));
    else if (m == LAND_2D || m == LAND_1D_RANDOM)
        fprintf(out, "  direction%s: %s-normalised Gaussian, seed %llu (index%s)%s\n", m == LAND_2D ? "s" : "",
                dir_norm_name(o->norm), (unsigned long long)o->seed, m == LAND_2D ? " 0 = a, 1 = b" : " 0",
                o->keep_1d ? "" : "; biases/BN parameters not perturbed");
    if (m == LAND_2D)
        fprintf(out, "  grid %d x %d over [%g, %g]^2: params = avg + a d1 + b d2\n", N, N, lo, hi);
    else if (m == LAND_1D_RANDOM)
        fprintf(out, "  %d points, t in [%g, %g]: params = avg + t d\n", N, lo, hi);
    else if (m == LAND_1D_LINE)
        fprintf(out, "  %d points, t in [%g, %g]: params = (1-t) w1 + t w2, w2 = %s\n", N, lo, hi, o->to_ckpt);
    else
        fprintf(out, "  %d points per worker, t in [%g, %g]: params = avg + t (x_i - avg)\n", N, lo, hi);

    /* centre / ends, extremes */
    double Lmin = INFINITY, Lmax = -INFINITY;
    int kmin = 0, kmax = 0;
    for (int k = 0; k < npts; k++) {
        if (x.res[k] < Lmin) Lmin = x.res[k], kmin = k;
        if (x.res[k] > Lmax) Lmax = x.res[k], kmax = k;
    }
    for (int k = 0; k < npts; k++) {
        double t = land_coord(lo, hi, k % N, N);
        int at0 = t == 0 && (m != LAND_2D || land_coord(lo, hi, k / N, N) == 0);
        int at1 = t == 1 && (m == LAND_1D_LINE || m == LAND_1D_WORKERS);
        if ((at0 && (m != LAND_1D_WORKERS || k / N == 0)) || at1) {
            const char *what = at1 ? (m == LAND_1D_LINE ? "other checkpoint (t = 1)" : "worker") : "average (centre)";
            char wn[64] = "";
            if (at1 && m == LAND_1D_WORKERS) snprintf(wn, sizeof wn, " w%d (t = 1)", k / N);
            fprintf(out, "  %s%s: train loss %.6g, acc %.2f%%", what, wn, x.res[k], 100 * x.res[npts + k]);
            if (o->test) fprintf(out, "; test loss %.6g, acc %.2f%%", x.res[2 * npts + k], 100 * x.res[3 * npts + k]);
            fputc('\n', out);
        }
    }
    if (m == LAND_2D)
        fprintf(out, "  train loss min %.6g at (%g, %g), max %.6g at (%g, %g)\n", Lmin, land_coord(lo, hi, kmin % N, N),
                land_coord(lo, hi, kmin / N, N), Lmax, land_coord(lo, hi, kmax % N, N), land_coord(lo, hi, kmax / N, N));
    else
        fprintf(out, "  train loss min %.6g at t = %g, max %.6g at t = %g\n", Lmin, land_coord(lo, hi, kmin % N, N),
                Lmax, land_coord(lo, hi, kmax % N, N));

    /* workers' positions in the plane */
    plot_marker *mk = NULL;
    char(*mnames)[32] = NULL;
    int nmk = 0;
    if (m == LAND_2D) {
        mk = calloc((size_t)M + 1, sizeof *mk);
        mnames = calloc((size_t)M + 1, sizeof *mnames);
        if (!mk || !mnames) {
            free(mk);
            free(mnames);
            rc = dp_fail(e, DP_ENOMEM, "out of memory (markers)");
            goto done;
        }
        mk[nmk++] = (plot_marker){0, 0, "avg"};
        int near = 0; /* workers drawn on top of the average: merged into its label */
        if (M > 1) {
            x.diff = dp_calloc(np, sizeof(float), "a difference", e);
            FILE *f = NULL;
            atomic_file wf;
            snprintf(path, sizeof path, "%s/landscape-2d-workers.csv", dir);
            if (!x.diff) rc = DP_ENOMEM;
            else if (!(rc = atomic_open(&wf, path, NULL, e))) f = wf.f;
            if (!rc) {
                fprintf(f, "worker,a,b,dist,captured\n");
                fprintf(out, "  workers projected on the plane (least squares in span(d1, d2)):\n");
            }
            for (int i = 0; !rc && i < M; i++) {
                vec_sub(x.diff, x.m.ckpt.worker_params + (size_t)i * np, x.m.ckpt.avg_params, np);
                double a, b, cap, dist = vec_norm(x.diff, np);
                if ((rc = land_project(x.diff, x.d1, x.d2, np, &a, &b, &cap, e))) break;
                fprintf(f, "%d,%.9g,%.9g,%.9g,%.9g\n", i, a, b, dist, cap);
                fprintf(out, "    w%d at (%.4g, %.4g); ||x - avg|| = %.4g, the plane holds %.2f%% of it\n", i, a, b,
                        dist, 100 * cap);
                if (hypot(a, b) < 0.03 * (hi - lo)) {
                    near++;
                    continue;
                }
                /* a worker drawn on top of another one joins its label ("w2,w3") */
                int j = 1;
                while (j < nmk && hypot(a - mk[j].x, b - mk[j].y) >= 0.03 * (hi - lo)) j++;
                if (j < nmk) {
                    size_t len = strlen(mnames[j]);
                    if (len + 6 < sizeof mnames[j]) snprintf(mnames[j] + len, sizeof mnames[j] - len, ",w%d", i);
                    continue;
                }
                snprintf(mnames[nmk], sizeof mnames[nmk], "w%d", i);
                mk[nmk] = (plot_marker){a, b, mnames[nmk]};
                nmk++;
            }
            if (near) {
                if (near == M) snprintf(mnames[0], sizeof mnames[0], "avg, w0..w%d", M - 1);
                else snprintf(mnames[0], sizeof mnames[0], "avg + %d w", near);
                mk[0].label = mnames[0];
            }
            if (f && rc) atomic_abort(&wf);
            else if (f) rc = atomic_commit(&wf, e);
            if (!rc && !wplane)
                fprintf(out, "  (random directions are nearly orthogonal to the workers' offsets in %zu dimensions,\n"
                             "   so the workers sit near the centre and the plane holds little of their spread)\n",
                        np);
        }
    }
    if (!rc && !o->no_png) {
        char title[512], xl[128], yl[128];
        plot_output po = {.path = path, .format = o->format ? o->format : PLOT_FMT_PNG, .dpi = o->dpi,
                          .command = o->command};
        const char *ext = plot_format_ext(po.format);
        dp_err ignored = {0}; /* the spec is the figure's metadata: none without memory */
        char *spec_text = spec_to_yaml(o->spec, &ignored);
        po.spec = spec_text;
        snprintf(path, sizeof path, "%s/landscape-%s.%s", dir, tag, ext);
        if (m == LAND_2D) {
            /* Short enough for the figure's width: path and architecture. */
            snprintf(title, sizeof title, "%s: %.40s (%.16s)", wplane ? "workers' plane" : "train loss", name,
                     x.m.net.arch);
            if (wplane) {
                snprintf(xl, sizeof xl, "a: d1 = w0 - avg (|d1| = %.3g)", vec_norm(x.d1, np));
                snprintf(yl, sizeof yl, "b: d2 = (w1 - avg) orthogonal to d1");
            } else {
                snprintf(xl, sizeof xl, "a: d1 (%s-norm random, seed %llu #0)", dir_norm_name(o->norm),
                         (unsigned long long)o->seed);
                snprintf(yl, sizeof yl, "b: d2 (%s-norm random, seed %llu #1)", dir_norm_name(o->norm),
                         (unsigned long long)o->seed);
            }
            plot_heatmap_opts ho = {0};
            ho.title = title;
            ho.xlabel = xl;
            ho.ylabel = yl;
            ho.zlabel = "train loss (log scale)";
            ho.log_z = 1;
            ho.fixed_range = o->zmax > o->zmin && o->zmin > 0;
            ho.zmin = o->zmin;
            ho.zmax = o->zmax;
            ho.markers = mk;
            ho.nmarkers = nmk;
            rc = plot_heatmap(&po, x.res, N, N, lo, hi, lo, hi, &ho, e);
        } else {
            snprintf(title, sizeof title, "%s: %.40s (%.16s)",
                     m == LAND_1D_RANDOM ? "random direction" : m == LAND_1D_LINE ? "line to --to" : "avg -> workers",
                     name, x.m.net.arch);
            const char *xlab = m == LAND_1D_RANDOM ? "t (params = avg + t d, d filter-normalised)"
                               : m == LAND_1D_LINE ? "t (0 = this checkpoint, 1 = the other)"
                                                   : "t (0 = average, 1 = worker i)";
            if (m == LAND_1D_RANDOM && o->norm != DIR_NORM_FILTER) {
                snprintf(xl, sizeof xl, "t (params = avg + t d, d %s-normalised)", dir_norm_name(o->norm));
                xlab = xl;
            }
            rc = plot_1d(&po, o, &x, N, npts, lo, hi, title, xlab, e);
        }
        free(spec_text);
        if (!rc) fprintf(out, "  wrote %s/landscape-%s.{csv,%s}\n", dir, tag, ext);
    } else if (!rc) {
        fprintf(out, "  wrote %s/landscape-%s.csv\n", dir, tag);
    }
    free(mk);
    free(mnames);
    if (!rc)
        fprintf(out, "  time: %.1f s for %d points (%.3f s/point on %d rank%s)\n", elapsed, npts,
                elapsed * size / npts, size, size > 1 ? "s" : "");
done:
    ctx_free(&x);
    return rc;
}
