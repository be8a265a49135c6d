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

/* The flat parameters cut into the net's parameter tensors, in buffer
 * order; without a net, one layer. */
static int layout_init(algo_t *a, const worker_set *ws, dp_err *e) {
    const net_t *net = a->cfg.net;
    int n = 0;
    if (net)
        for (int i = 0; i < net->n_tensors; i++) n += !net->tensors[i].is_buffer;
    a->layer_end = dp_calloc((n > 0 ? (size_t)n : 1) + 1, sizeof(size_t), "the parameter layout", e);
    if (!a->layer_end) return DP_ENOMEM;
    if (n == 0) {
        a->n_layers = 1;
        a->layer_end[0] = ws->n_params;
        a->layer_end[1] = ws->n_params + ws->n_buffers;
        return 0;
    }
    /* Tensors tile the parameters (decayed ones first): chain them by offset. */
    size_t at = 0;
    for (a->n_layers = 0; a->n_layers < n; a->n_layers++) {
        const net_tensor *next = NULL;
        for (int i = 0; i < net->n_tensors && !next; i++)
            if (!net->tensors[i].is_buffer && net->tensors[i].offset == at) next = &net->tensors[i];
        if (!next) break;
        at += next->size;
        a->layer_end[a->n_layers] = at;
    }
    if (a->n_layers != n || at != ws->n_params)
        return dp_fail(e, DP_ERUNTIME, "internal: the net's tensors do not tile its %zu parameters",
                       ws->n_params);
    a->layer_end[n] = ws->n_params + ws->n_buffers;
    return 0;
}

/* ---- unreliable syncs (dist/faults.h) ----
 * In the state: 4 f64 counters (syncs, worker-syncs missed, participants,
 * the ring's next slot), then with stragglers the ring of the consensus
 * models of the last straggler_delay syncs, oldest at the next slot. */
enum { FC_SYNCS, FC_MISSED, FC_PARTICIPANTS, FC_RING, FC_COUNT };
#define FAULT_HEAD (2 * FC_COUNT)

static size_t fault_floats(const algo_cfg *c, size_t n) {
    if (!faults_enabled(&c->faults)) return 0;
    return FAULT_HEAD + (c->faults.straggler_prob > 0 ? (size_t)c->faults.straggler_delay * n : 0);
}

static double fget(const algo_t *a, int i) {
    double v;
    memcpy(&v, a->faults + 2 * i, sizeof v);
    return v;
}

static void fset(algo_t *a, int i, double v) { memcpy(a->faults + 2 * i, &v, sizeof v); }

static int faults_init(algo_t *a, const worker_set *ws, size_t own, dp_err *e) {
    const size_t M = (size_t)ws->comm->workers, n = ws->n_params + ws->n_buffers;
    a->faults = a->state + own;
    a->present = dp_calloc(4 * M, 1, "the sync draw", e); /* present, late, group, pass */
    a->weight = dp_calloc(M, sizeof(float), "the sync weights", e);
    /* local workers' [params | buffers], a momentum mean, a consensus model */
    a->saved = dp_calloc((size_t)ws->local * n + ws->n_params + n, sizeof(float), "workers outside a sync", e);
    if (!a->present || !a->weight || !a->saved) return DP_ENOMEM;
    a->late = a->present + M, a->group = a->late + M, a->pass = a->group + M;
    /* The ring starts full of the starting point (every worker's). */
    for (int k = 0; a->cfg.faults.straggler_prob > 0 && k < a->cfg.faults.straggler_delay; k++)
        memcpy(a->faults + FAULT_HEAD + (size_t)k * n, ws->w[0].params, n * sizeof(float));
    return 0;
}

void algo_fault_counts(const algo_t *a, int M, double *syncs, double *missed, double *participants_mean) {
    *syncs = a->faults ? fget(a, FC_SYNCS) : 0;
    *missed = a->faults ? fget(a, FC_MISSED) : 0;
    *participants_mean = a->faults && *syncs > 0 ? fget(a, FC_PARTICIPANTS) / *syncs : M;
}

/* This sync's draw, counted. Returns how many take part. */
static int fault_draw(algo_t *a, const worker_set *ws, int64_t step, double epoch) {
    const int M = ws->comm->workers;
    int n = faults_draw(&a->cfg.faults, M, step, epoch, a->present, a->late, a->group);
    fset(a, FC_SYNCS, fget(a, FC_SYNCS) + 1);
    fset(a, FC_MISSED, fget(a, FC_MISSED) + (M - n));
    fset(a, FC_PARTICIPANTS, fget(a, FC_PARTICIPANTS) + n);
    return n;
}

/* Sets the pass: the workers present on side g of a partition. Returns its size. */
static int fault_pass(algo_t *a, int M, int g) {
    int n = 0;
    for (int i = 0; i < M; i++) {
        a->pass[i] = a->present[i] && a->group[i] == g;
        a->weight[i] = a->pass[i];
        n += a->pass[i];
    }
    return n;
}

/* out = mean over the pass of bufs (the plain mean when everyone is in it). */
static int pass_mean(algo_t *a, worker_set *ws, float *const *bufs, size_t n, float *out, int n_pass,
                     dp_err *e) {
    comm_t *c = ws->comm;
    if (n_pass == c->workers) return comm_mean_workers(c, bufs, n, out, 1, e);
    c->participants = n_pass;
    int rc = comm_weighted_mean_workers(c, bufs, n, &n, 1, a->weight, out, 1, e);
    c->participants = 0;
    return rc;
}

/* Keeps (save) or puts back (restore) the local workers outside the pass. */
static void outside_pass(algo_t *a, worker_set *ws, int restore) {
    const size_t n = ws->n_params + ws->n_buffers;
    for (int k = 0; k < ws->local; k++) {
        if (a->pass[ws->w[k].index]) continue;
        float *keep = a->saved + (size_t)k * n;
        if (restore) memcpy(ws->w[k].params, keep, n * sizeof(float));
        else memcpy(keep, ws->w[k].params, n * sizeof(float));
    }
}

int algo_init(algo_t *a, const algo_cfg *cfg, worker_set *ws, dp_err *e) {
    memset(a, 0, sizeof *a);
    if (cfg->kind < 0 || cfg->kind >= ALGO_COUNT)
        return dp_fail(e, DP_EUSAGE, "dist.algorithm: unknown algorithm %d", cfg->kind);
    a->cfg = *cfg;
    a->ops = ALGORITHMS[cfg->kind].ops;
    a->tau_now = cfg->tau;
    a->mom_ptrs = dp_calloc((size_t)ws->local, sizeof(float *), "algorithm state", e);
    a->dists = dp_calloc((size_t)ws->comm->workers, sizeof(double), "algorithm state", e);
    int rc = a->mom_ptrs && a->dists ? layout_init(a, ws, e) : DP_ENOMEM;
    if (rc) {
        algo_free(a);
        return rc;
    }
    size_t n = ws->n_params + ws->n_buffers;
    size_t own = a->ops->state_floats ? a->ops->state_floats(a, ws) : 0;
    size_t ff = fault_floats(cfg, n);
    size_t ema = cfg->ema_decay > 0 ? n : 0;
    if (ff && cfg->faults.split_to > cfg->faults.split_from && (own || a->ops->centre || a->ops->exchange)) {
        algo_free(a);
        return dp_fail(e, DP_EUSAGE,
                       "dist.split_epochs: %s keeps one state for all workers (a centre, a leader, "
                       "outer momentum or an adapted push) that two separated groups cannot share; "
                       "a network partition runs with ddp, localsgd, qsr and dppf with fixed forces",
                       algo_name(cfg->kind));
    }
    a->n_state = own + ff + ema;
    if (a->n_state) {
        a->state = dp_calloc(a->n_state, sizeof(float), "the algorithm's state", e);
        if (!a->state) {
            algo_free(a);
            return DP_ENOMEM;
        }
    }
    if (ff && (rc = faults_init(a, ws, own, e))) {
        algo_free(a);
        return rc;
    }
    if (ema) { /* the EMA starts at the starting point, as every worker does */
        a->ema = a->state + own + ff;
        memcpy(a->ema, ws->w[0].params, n * sizeof(float));
    }
    if (a->ops->init) a->ops->init(a, ws);
    if (a->ops->averages_gradients && a->ops->averages_gradients(a, 0)) a->tau_now = 1;
    return 0;
}

void algo_free(algo_t *a) {
    free(a->state);
    free(a->present);
    free(a->weight);
    free(a->saved);
    free(a->mom_ptrs);
    free(a->dists);
    free(a->layer_end);
    memset(a, 0, sizeof *a);
}

static int averages_gradients(const algo_t *a, double epoch) {
    return a->ops->averages_gradients && a->ops->averages_gradients(a, epoch);
}

int algo_after_backward(algo_t *a, worker_set *ws, int64_t step, double epoch, dp_err *e) {
    if (!averages_gradients(a, epoch)) return 0;
    a->tau_now = 1;
    for (int k = 0; k < ws->local; k++) ws->ptrs[k] = ws->w[k].grads;
    if (!a->faults) {
        int rc = comm_mean_workers(ws->comm, ws->ptrs, ws->n_params, ws->avg, 1, e);
        if (rc) return rc;
        for (int k = 0; k < ws->local; k++)
            memcpy(ws->w[k].grads, ws->avg, ws->n_params * sizeof(float));
        return 0;
    }
    /* Unreliable: the mean of the gradients that arrive, which every worker
     * of that side then applies (a missed gradient is lost; nobody drifts);
     * when none arrives, each keeps its own. */
    const int M = ws->comm->workers;
    fault_draw(a, ws, step + 1, epoch);
    for (int g = 0; g < 2; g++) {
        int n_pass = fault_pass(a, M, g);
        if (!n_pass) continue;
        int rc = pass_mean(a, ws, ws->ptrs, ws->n_params, ws->avg, n_pass, e);
        if (rc) return rc;
        for (int k = 0; k < ws->local; k++)
            if (a->group[ws->w[k].index] == g)
                memcpy(ws->w[k].grads, ws->avg, ws->n_params * sizeof(float));
    }
    return 0;
}

/* ||x - c|| over the parameters, accumulated in double in a fixed order. */
static double distance(const float *x, const float *c, size_t n) {
    double d2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - c[i];
        d2 += d * d;
    }
    return sqrt(d2);
}

/* Mean and max over all workers of ||x_i - avg|| (parameters only). A metric
 * of two scalar reductions, unless the algorithm steers by it (exact_spread):
 * then every worker's distance is gathered and summed in worker order, so the
 * value is the same in every layout. */
int algo_measure_spread(algo_t *a, worker_set *ws, dp_err *e) {
    if (a->exact_spread) {
        comm_t *c = ws->comm;
        for (int k = 0; k < ws->local; k++)
            a->dists[c->first + k] = distance(ws->w[k].params, ws->avg, ws->n_params);
        int rc = comm_allgather_workers(c, a->dists, sizeof(double), 1, e);
        if (rc) return rc;
        double sum = 0, max = 0;
        for (int i = 0; i < c->workers; i++) {
            sum += a->dists[i];
            if (a->dists[i] > max) max = a->dists[i];
        }
        a->spread_mean = sum / c->workers;
        a->spread_max = max;
        return 0;
    }
    double sum_max[2] = {0, 0};
    for (int k = 0; k < ws->local; k++) {
        double d = distance(ws->w[k].params, ws->avg, ws->n_params);
        sum_max[0] += d;
        if (d > sum_max[1]) sum_max[1] = d;
    }
    int rc = comm_sum_f64(ws->comm, &sum_max[0], 1, e);
    if (!rc) rc = comm_max_f64(ws->comm, &sum_max[1], 1, e);
    a->spread_mean = sum_max[0] / ws->comm->workers;
    a->spread_max = sum_max[1];
    return rc;
}

int algo_share_state(algo_t *a, worker_set *ws, dp_err *e) {
    if (!a->slot_floats) return 0;
    return comm_allgather_workers(ws->comm, a->state + a->slots_at, a->slot_floats * sizeof(float),
                                  0, e);
}

void algo_mix(float *x, const float *c, size_t n, float a) {
    const float b = 1.0f - a;
    for (size_t i = 0; i < n; i++) x[i] = b * x[i] + a * c[i];
}

/* The EMA of the averaged model x ([params | buffers]) after `steps` steps,
 * at run.ema_decay d per step: ema <- d^steps ema + (1 - d^steps) x, so that
 * its horizon is about 1/(1 - d) steps whatever the sync period. */
static void ema_update(algo_t *a, const float *x, size_t n, int64_t steps) {
    if (!a->ema || steps <= 0) return;
    const float w = (float)(1.0 - pow(a->cfg.ema_decay, (double)steps));
    for (size_t i = 0; i < n; i++) a->ema[i] += w * (x[i] - a->ema[i]);
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

/* The default sync: the mean (or the algorithm's centre) in ws->avg, the
 * spread, each worker's update, BN buffers := ws->avg's. */
/* Each local worker's update toward ws->avg, and BN buffers := ws->avg's. */
static void update_workers(algo_t *a, worker_set *ws, double epoch) {
    size_t np = ws->n_params, nb = ws->n_buffers;
    if (a->ops->sync)
        a->ops->sync(a, ws, epoch);
    else
        for (int k = 0; k < ws->local; k++) memcpy(ws->w[k].params, ws->avg, np * sizeof(float));
    /* BN running statistics are averaged at every sync. */
    for (int k = 0; k < ws->local; k++) memcpy(ws->w[k].buffers, ws->avg + np, nb * sizeof(float));
}

static int sync_workers(algo_t *a, worker_set *ws, double epoch, dp_err *e) {
    int rc = a->ops->centre ? a->ops->centre(a, ws, e) : workers_average(ws, 1, e);
    if (!rc) rc = algo_measure_spread(a, ws, e);
    if (rc) return rc;
    update_workers(a, ws, epoch);
    return 0;
}

/* The momentum rule of a sync for the workers of the pass. */
static int pass_momentum(algo_t *a, worker_set *ws, int n_pass, dp_err *e) {
    const size_t np = ws->n_params;
    float *mean = a->saved + (size_t)ws->local * (np + ws->n_buffers);
    if (a->cfg.momentum_sync == MOM_AVERAGE) {
        for (int k = 0; k < ws->local; k++) a->mom_ptrs[k] = ws->w[k].mom;
        int rc = pass_mean(a, ws, a->mom_ptrs, np, mean, n_pass, e);
        if (rc) return rc;
    }
    for (int k = 0; k < ws->local; k++) {
        if (!a->pass[ws->w[k].index]) continue;
        if (a->cfg.momentum_sync == MOM_RESET) memset(ws->w[k].mom, 0, np * sizeof(float));
        if (a->cfg.momentum_sync == MOM_AVERAGE) memcpy(ws->w[k].mom, mean, np * sizeof(float));
    }
    return 0;
}

/* A sync over an unreliable network: per side of a partition (one side
 * without one), the workers that take part sync among themselves as the
 * algorithm says and the others keep their state; stragglers then resume
 * from the consensus model of straggler_delay syncs ago (worker 0's side's). */
static int faulty_sync(algo_t *a, worker_set *ws, int64_t step, double epoch, int64_t since, dp_err *e) {
    const int M = ws->comm->workers;
    const size_t n = ws->n_params + ws->n_buffers;
    const int stragglers = a->cfg.faults.straggler_prob > 0;
    float *today = a->saved + (size_t)ws->local * n + ws->n_params;
    if (fault_draw(a, ws, step, epoch) == 0) return 0; /* nobody syncs */
    for (int g = 0; g < 2; g++) {
        int n_pass = fault_pass(a, M, g);
        if (!n_pass) continue;
        outside_pass(a, ws, 0);
        a->mask = n_pass == M ? NULL : a->pass;
        ws->comm->participants = n_pass;
        int rc = 0;
        if (a->ops->exchange) {
            rc = a->ops->exchange(a, ws, epoch, e);
        } else {
            if (a->ops->centre) {
                rc = a->ops->centre(a, ws, e);
            } else {
                for (int k = 0; k < ws->local; k++) ws->ptrs[k] = ws->w[k].params;
                rc = pass_mean(a, ws, ws->ptrs, n, ws->avg, n_pass, e);
            }
            if (!rc) rc = algo_measure_spread(a, ws, e);
            if (!rc) update_workers(a, ws, epoch);
        }
        ws->comm->participants = 0;
        a->mask = NULL;
        if (!rc) rc = pass_momentum(a, ws, n_pass, e);
        if (rc) return rc;
        outside_pass(a, ws, 1);
        if (g != a->group[0]) continue;
        ema_update(a, ws->avg, n, since);
        if (stragglers) memcpy(today, ws->avg, n * sizeof(float));
    }
    if (stragglers) { /* the oldest consensus out to the late ones, today's in its place */
        const int head = (int)fget(a, FC_RING);
        float *oldest = a->faults + FAULT_HEAD + (size_t)head * n;
        for (int k = 0; k < ws->local; k++)
            if (a->present[ws->w[k].index] && a->late[ws->w[k].index])
                memcpy(ws->w[k].params, oldest, n * sizeof(float));
        memcpy(oldest, today, n * sizeof(float));
        fset(a, FC_RING, (head + 1) % a->cfg.faults.straggler_delay);
    }
    return 0;
}

int algo_after_step(algo_t *a, worker_set *ws, int64_t step, double epoch, float lr, dp_err *e) {
    size_t n = ws->n_params + ws->n_buffers;
    a->lr_now = lr;
    if (averages_gradients(a, epoch)) {
        /* Every worker holds the averaged parameters; BN statistics are
         * worker 0's, as PyTorch DDP broadcasts rank 0's (only rank 0's EMA
         * is evaluated and saved). */
        ema_update(a, ws->w[0].params, n, step - a->last_sync);
        a->last_sync = step;
        return 0;
    }
    if (a->ops->local_step) a->ops->local_step(a, ws, epoch);
    a->tau_now = a->ops->period ? a->ops->period(a, lr) : a->cfg.tau;
    if (step - a->last_sync < a->tau_now) return 0;
    int64_t since = step - a->last_sync;
    a->last_sync = step;

    if (a->faults) return faulty_sync(a, ws, step, epoch, since, e);
    int rc = a->ops->exchange ? a->ops->exchange(a, ws, epoch, e) : sync_workers(a, ws, epoch, e);
    if (rc) return rc;
    ema_update(a, ws->avg, n, since);
    return sync_momentum(a, ws, e);
}
