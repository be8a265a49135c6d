#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "directions.h"
#include "evaluate.h"
#include "flatness.h"
#include "net.h"
#include "runstate.h"

void flatness_opts_default(flatness_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch = 256;
    o->measures = "mv,sam,hessian,trace,eps";
    mv_cfg_default(&o->mv);
    sam_cfg_default(&o->sam);
    hess_cfg_default(&o->hess);
    epss_cfg_default(&o->eps);
}

static int wants(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p = q ? q + 1 : NULL;
    }
    return 0;
}

static int check_measures(const char *list, dp_err *e) {
    static const char *const known[] = {"mv", "sam", "hessian", "trace", "eps"};
    for (const char *p = list; p && *p;) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            ok |= strlen(known[i]) == len && strncmp(p, known[i], len) == 0;
        if (!ok)
            return dp_fail(e, DP_EUSAGE, "--measures: unknown measure '%.*s'; valid: mv, sam, hessian, trace, eps",
                           (int)len, p);
        p = q ? q + 1 : NULL;
    }
    return 0;
}

typedef struct {
    FILE *out;
    int csv;
    const char *ckpt;
    long long step;
    int workers, samples;
} printer;

static void row(const printer *p, const char *measure, double value, const char *detail) {
    if (p->csv)
        fprintf(p->out, "%s,%lld,%d,%d,%s,%.9g\n", p->ckpt, p->step, p->workers, p->samples, measure, value);
    else
        fprintf(p->out, "  %-14s %14.6g   %s\n", measure, value, detail);
}

int flatness_run(const flatness_opts *o, FILE *out, dp_err *e) {
    int rc = check_measures(o->measures, e);
    if (rc) return rc;
    ckpt_model x;
    objective_t obj = {0};
    float **dirs = NULL;
    if ((rc = ckpt_model_open(&x, o->spec, o->ckpt, 1, e))) return rc;
    const checkpoint_t *c = &x.ckpt;
    const net_t *net = &x.net;
    if ((rc = objective_init(&obj, &x.net, &x.train, &x.bc, o->samples, o->batch, c->avg_buffers, e))) goto done;
    loss_fn f;
    loss_fn_objective(&f, &obj);
    const float *w = c->avg_params;
    printer p = {out, o->csv, o->ckpt, (long long)c->step, (int)c->n_workers, obj.n};
    double acc, L = objective_loss(&obj, w, &acc);
    char d[256];
    if (o->csv) {
        fprintf(out, "checkpoint,step,workers,samples,measure,value\n");
    } else {
        fprintf(out, "flatness of %s (step %lld, %u worker%s; averaged model, BN eval mode)\n", o->ckpt,
                (long long)c->step, c->n_workers, c->n_workers > 1 ? "s" : "");
        fprintf(out, "on the first %d training samples of %s\n\n", obj.n, dataset_name(o->spec->data.dataset));
        fprintf(out, "  %-14s %14s   %s\n", "measure", "value", "details");
    }
    row(&p, "train_loss", L, "loss at the averaged model");
    row(&p, "train_acc", acc, "accuracy at the averaged model");
    if (wants(o->measures, "mv")) {
        mv_result r;
        if ((rc = sharp_mean_valley(&f, w, net, &o->mv, NULL, 0, &r, NULL, NULL, NULL, NULL, e))) goto done;
        snprintf(d, sizeof d, "mean valley width over %d %s-normalised random directions (threshold %s %.3g)",
                 r.k, dir_norm_name(o->mv.norm), o->mv.threshold == MV_RELATIVE ? "x(1+eps), eps" : "+eps, eps", o->mv.eps);
        row(&p, "mv", r.mv, d);
        row(&p, "imv", r.imv, "inverse mean valley = 1 / mv (larger = sharper)");
        if (c->n_workers > 1) {
            /* The workers span the valley: directions from the average to each worker. */
            dirs = dp_calloc(c->n_workers, sizeof *dirs, "worker directions", e);
            if (!dirs) {
                rc = DP_ENOMEM;
                goto done;
            }
            for (uint32_t i = 0; i < c->n_workers; i++) {
                dirs[i] = dp_calloc(net->n_params, sizeof(float), "a worker direction", e);
                if (!dirs[i]) {
                    rc = DP_ENOMEM;
                    goto done;
                }
                vec_sub(dirs[i], c->worker_params + (size_t)i * net->n_params, w, net->n_params);
            }
            mv_result rw;
            rc = sharp_mean_valley(&f, w, net, &o->mv, (const float *const *)dirs, (int)c->n_workers, &rw,
                                   NULL, NULL, NULL, NULL, e);
            if (rc == DP_EUSAGE) { /* e.g. a worker sitting exactly at the average */
                row(&p, "mv_workers", NAN, e->msg);
                rc = 0;
            } else if (rc) {
                goto done;
            } else {
                row(&p, "mv_workers", rw.mv, "mean valley width along average->worker directions (1 = at the worker)");
                row(&p, "imv_workers", rw.imv, "its inverse");
            }
        }
    }
    if (wants(o->measures, "sam")) {
        sam_result r;
        if ((rc = sharp_sam(&f, w, &o->sam, &r, e))) goto done;
        snprintf(d, sizeof d, "max loss increase in an L2 ball of radius %.3g (%d ascent step%s)", o->sam.rho,
                 o->sam.steps, o->sam.steps > 1 ? "s" : "");
        row(&p, "sam", r.sharpness, d);
    }
    if (wants(o->measures, "hessian")) {
        hess_result r;
        if ((rc = sharp_hessian_top(&f, w, &o->hess, &r, NULL, e))) goto done;
        snprintf(d, sizeof d, "top Hessian eigenvalue, power iteration: %d iterations, %s", r.iters,
                 r.converged ? "converged" : "NOT converged (raise --hessian-iters)");
        row(&p, "hessian_top", r.lambda, d);
    }
    if (wants(o->measures, "trace")) {
        hess_result r;
        if ((rc = sharp_hessian_trace(&f, w, &o->hess, &r, e))) goto done;
        snprintf(d, sizeof d, "Hutchinson trace estimate, %d samples, standard error %.3g", r.iters, r.sem);
        row(&p, "hessian_trace", r.lambda, d);
    }
    if (wants(o->measures, "eps")) {
        epss_result r;
        if ((rc = sharp_epsilon(&f, w, &o->eps, &r, e))) goto done;
        snprintf(d, sizeof d, "Keskar et al. epsilon-sharpness, box eps=%.3g x (|w|+1), %d steps", o->eps.eps,
                 o->eps.steps);
        row(&p, "eps_sharpness", r.sharpness, d);
    }
done:
    if (dirs)
        for (uint32_t i = 0; i < c->n_workers; i++) free(dirs[i]);
    free(dirs);
    objective_free(&obj);
    ckpt_model_close(&x);
    return rc;
}
