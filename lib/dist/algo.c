#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"

static const char *const NAMES[] = {"ddp", "localsgd", "easgd", "qsr", "dppf"};

int algo_kind(const char *name) {
    for (int i = 0; i < (int)(sizeof NAMES / sizeof *NAMES); i++)
        if (strcmp(name, NAMES[i]) == 0) return i;
    return -1;
}

const char *algo_name(int kind) { return kind >= 0 && kind <= ALGO_DPPF ? NAMES[kind] : "?"; }

int algo_init(algo_t *a, const algo_cfg *cfg, worker_set *ws, dp_err *e) {
    memset(a, 0, sizeof *a);
    a->cfg = *cfg;
    a->tau_now = cfg->kind == ALGO_DDP ? 1 : cfg->tau;
    a->mom_ptrs = dp_calloc((size_t)ws->local, sizeof(float *), "algorithm state", e);
    if (!a->mom_ptrs) return DP_ENOMEM;
    if (cfg->kind == ALGO_EASGD) {
        size_t n = ws->n_params + ws->n_buffers;
        a->center = dp_calloc(n, sizeof(float), "the EASGD centre variable", e);
        if (!a->center) {
            algo_free(a);
            return DP_ENOMEM;
        }
        /* Every worker starts from the same initialisation: so does the centre. */
        memcpy(a->center, ws->w[0].params, n * sizeof(float));
    }
    return 0;
}

void algo_free(algo_t *a) {
    free(a->center);
    free(a->mom_ptrs);
    memset(a, 0, sizeof *a);
}

static int in_ddp_phase(const algo_t *a, double epoch) {
    return a->cfg.kind == ALGO_DDP ||
           (a->cfg.kind == ALGO_LOCALSGD && epoch < a->cfg.post_local_epochs);
}

int algo_after_backward(algo_t *a, worker_set *ws, int64_t step, double epoch, dp_err *e) {
    (void)step;
    if (!in_ddp_phase(a, epoch)) return 0;
    a->tau_now = 1;
    for (int k = 0; k < ws->local; k++) ws->ptrs[k] = ws->w[k].grads;
    int rc = comm_mean_workers(ws->comm, ws->ptrs, ws->n_params, ws->avg, 1, e);
    if (rc) return rc;
    for (int k = 0; k < ws->local; k++)
        memcpy(ws->w[k].grads, ws->avg, ws->n_params * sizeof(float));
    return 0;
}

double dppf_pull_push(float *x, const float *avg, size_t n, float pull, float push, int push_form) {
    double d2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - avg[i];
        d2 += d * d;
    }
    double d = sqrt(d2);
    /* x <- avg + (1 - pull) (x - avg) + push * g(d) (x - avg) / d, written so
     * that pull = 1, push = 0 gives exactly avg (LocalSGD). */
    double coef = 0;
    if (d > 0 && push > 0) coef = push_form == PUSH_INVERSE ? push / (d2 * d) : push / d;
    float scale = (float)((1.0 - pull) + coef);
    for (size_t i = 0; i < n; i++) x[i] = avg[i] + scale * (x[i] - avg[i]);
    return d;
}

/* Mean and max over all workers of ||x_i - avg|| (parameters only). */
static int measure_spread(algo_t *a, worker_set *ws, dp_err *e) {
    double sum_max[2] = {0, 0};
    for (int k = 0; k < ws->local; k++) {
        const float *x = ws->w[k].params;
        double d2 = 0;
        for (size_t i = 0; i < ws->n_params; i++) {
            double d = (double)x[i] - ws->avg[i];
            d2 += d * d;
        }
        double d = sqrt(d2);
        sum_max[0] += d;
        if (d > sum_max[1]) sum_max[1] = d;
    }
    int rc = comm_sum_f64(ws->comm, &sum_max[0], 1, e);
    if (!rc) rc = comm_max_f64(ws->comm, &sum_max[1], 1, e);
    a->spread_mean = sum_max[0] / ws->comm->workers;
    a->spread_max = sum_max[1];
    return rc;
}

static int sync_momentum(algo_t *a, worker_set *ws, dp_err *e) {
    if (a->cfg.momentum_sync == MOM_RESET) {
        for (int k = 0; k < ws->local; k++) memset(ws->w[k].mom, 0, ws->n_params * sizeof(float));
    } else if (a->cfg.momentum_sync == MOM_AVERAGE) {
        for (int k = 0; k < ws->local; k++) a->mom_ptrs[k] = ws->w[k].mom;
        int rc = comm_mean_workers(ws->comm, a->mom_ptrs, ws->n_params, ws->w[0].mom, 1, e);
        if (rc) return rc;
        for (int k = 1; k < ws->local; k++)
            memcpy(ws->w[k].mom, ws->w[0].mom, ws->n_params * sizeof(float));
    }
    return 0;
}

int algo_after_step(algo_t *a, worker_set *ws, int64_t step, double epoch, float lr, dp_err *e) {
    if (in_ddp_phase(a, epoch)) {
        a->last_sync = step;
        return 0;
    }
    const algo_cfg *c = &a->cfg;
    a->tau_now = c->tau;
    if (c->kind == ALGO_QSR && lr > 0) {
        double q = floor(pow(c->qsr_beta / lr, 2));
        if (q > a->tau_now) a->tau_now = q > 1e9 ? 1000000000 : (int)q;
    }
    if (step - a->last_sync < a->tau_now) return 0;
    a->last_sync = step;

    int rc = workers_average(ws, 1, e);
    if (!rc) rc = measure_spread(a, ws, e);
    if (rc) return rc;
    size_t np = ws->n_params, nb = ws->n_buffers;
    for (int k = 0; k < ws->local; k++) {
        worker_t *w = &ws->w[k];
        switch (c->kind) {
        case ALGO_DPPF: {
            float push = c->push;
            if (c->push_warmup_epochs > 0 && epoch < c->push_warmup_epochs)
                push *= (float)(epoch / c->push_warmup_epochs);
            dppf_pull_push(w->params, ws->avg, np, c->pull, push, c->push_form);
            break;
        }
        case ALGO_EASGD: {
            /* Synchronous EASGD (Zhang, Choromanska, LeCun 2015): each worker
             * moves alpha = beta/M toward the centre, the centre moves beta
             * toward the workers' mean (both from the pre-sync values). */
            float alpha = c->moving_rate / (float)ws->comm->workers;
            for (size_t i = 0; i < np; i++) w->params[i] -= alpha * (w->params[i] - a->center[i]);
            break;
        }
        default: /* localsgd, qsr */
            memcpy(w->params, ws->avg, np * sizeof(float));
        }
        /* BN running statistics are averaged at every sync. */
        memcpy(w->buffers, ws->avg + np, nb * sizeof(float));
    }
    if (c->kind == ALGO_EASGD) {
        for (size_t i = 0; i < np; i++) a->center[i] += c->moving_rate * (ws->avg[i] - a->center[i]);
        memcpy(a->center + np, ws->avg + np, nb * sizeof(float));
    }
    return sync_momentum(a, ws, e);
}
