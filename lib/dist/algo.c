/* algo.c - what every distributed algorithm shares (algo.h): gradient
 * averaging, when to sync, the one allreduce of a sync, the spread, BN
 * buffers and momentum at a sync; and the table of algorithms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"

#define ALGO_DECLARE(id, name, ops) extern const algo_ops ops;
DPPF_ALGORITHMS(ALGO_DECLARE)
#define ALGO_ROW(id, name, ops) {name, &ops},
static const struct {
    const char *name;
    const algo_ops *ops;
} ALGORITHMS[] = {DPPF_ALGORITHMS(ALGO_ROW)};

int algo_kind(const char *name) {
    for (int i = 0; i < ALGO_COUNT; i++)
        if (strcmp(name, ALGORITHMS[i].name) == 0) return i;
    return -1;
}

const char *algo_name(int kind) { return kind >= 0 && kind < ALGO_COUNT ? ALGORITHMS[kind].name : "?"; }

int algo_init(algo_t *a, const algo_cfg *cfg, worker_set *ws, dp_err *e) {
    memset(a, 0, sizeof *a);
    if (cfg->kind < 0 || cfg->kind >= ALGO_COUNT)
        return dp_fail(e, DP_EUSAGE, "dist.algorithm: unknown algorithm %d", cfg->kind);
    a->cfg = *cfg;
    a->ops = ALGORITHMS[cfg->kind].ops;
    a->tau_now = cfg->tau;
    a->mom_ptrs = dp_calloc((size_t)ws->local, sizeof(float *), "algorithm state", e);
    if (!a->mom_ptrs) return DP_ENOMEM;
    a->n_state = a->ops->state_floats ? a->ops->state_floats(cfg, ws->n_params + ws->n_buffers) : 0;
    if (a->n_state) {
        a->state = dp_calloc(a->n_state, sizeof(float), "the algorithm's state", e);
        if (!a->state) {
            algo_free(a);
            return DP_ENOMEM;
        }
    }
    if (a->ops->init) a->ops->init(a, ws);
    if (a->ops->averages_gradients && a->ops->averages_gradients(a, 0)) a->tau_now = 1;
    return 0;
}

void algo_free(algo_t *a) {
    free(a->state);
    free(a->mom_ptrs);
    memset(a, 0, sizeof *a);
}

static int averages_gradients(const algo_t *a, double epoch) {
    return a->ops->averages_gradients && a->ops->averages_gradients(a, epoch);
}

int algo_after_backward(algo_t *a, worker_set *ws, int64_t step, double epoch, dp_err *e) {
    (void)step;
    if (!averages_gradients(a, epoch)) return 0;
    a->tau_now = 1;
    for (int k = 0; k < ws->local; k++) ws->ptrs[k] = ws->w[k].grads;
    int rc = comm_mean_workers(ws->comm, ws->ptrs, ws->n_params, ws->avg, 1, e);
    if (rc) return rc;
    for (int k = 0; k < ws->local; k++)
        memcpy(ws->w[k].grads, ws->avg, ws->n_params * sizeof(float));
    return 0;
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
    if (averages_gradients(a, epoch)) {
        a->last_sync = step;
        return 0;
    }
    a->tau_now = a->ops->period ? a->ops->period(a, lr) : a->cfg.tau;
    if (step - a->last_sync < a->tau_now) return 0;
    a->last_sync = step;

    int rc = workers_average(ws, 1, e);
    if (!rc) rc = measure_spread(a, ws, e);
    if (rc) return rc;
    size_t np = ws->n_params, nb = ws->n_buffers;
    if (a->ops->sync)
        a->ops->sync(a, ws, epoch);
    else
        for (int k = 0; k < ws->local; k++) memcpy(ws->w[k].params, ws->avg, np * sizeof(float));
    /* BN running statistics are averaged at every sync. */
    for (int k = 0; k < ws->local; k++) memcpy(ws->w[k].buffers, ws->avg + np, nb * sizeof(float));
    return sync_momentum(a, ws, e);
}
