#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "model.h"
#include "runstate.h"
#include "spec_map.h"

/* Scalars of the run kept at the head of the checkpoint's `extra` floats,
 * bit-copied 8 bytes per slot, followed by the algorithm's state. */
enum { XS_LAST_SYNC, XS_ROUNDS, XS_BYTES, XS_SPREAD_MEAN, XS_SPREAD_MAX, XS_COUNT };
#define EXTRA_HEAD (2 * XS_COUNT)
/* After the algorithm's state, only when not all zero (so that the
 * checkpoints of runs without a network model, at evaluations, keep the
 * layout they always had): the interval sums (3 f64), then the modeled
 * compute and network seconds (2 f64). */
enum { TAIL_SUMS = 3, TAIL_COUNT = 5 };
#define EXTRA_TAIL (2 * TAIL_COUNT)

static void put_u64(float *slot, uint64_t v) { memcpy(slot, &v, sizeof v); }
static uint64_t get_u64(const float *slot) {
    uint64_t v;
    memcpy(&v, slot, sizeof v);
    return v;
}
static void put_f64(float *slot, double v) { memcpy(slot, &v, sizeof v); }
static double get_f64(const float *slot) {
    double v;
    memcpy(&v, slot, sizeof v);
    return v;
}

/* Per worker, gathered on rank 0: [params | buffers] [momentum] [rng: 8 floats = 4 u64]. */
static size_t per_worker(const worker_set *wk) { return 2 * wk->n_params + wk->n_buffers + 8; }

/* The per-worker arrays and extra floats of a checkpoint of M workers. */
static int alloc_arrays(checkpoint_t *c, size_t M, dp_err *e) {
    size_t np = c->n_params, nb = c->n_buffers;
    c->worker_params = dp_calloc(np * M, sizeof(float), "checkpoint parameters", e);
    c->worker_buffers = dp_calloc((nb ? nb : 1) * M, sizeof(float), "checkpoint buffers", e);
    c->worker_opt = dp_calloc(np * M, sizeof(float), "checkpoint momentum", e);
    c->rng = dp_calloc(4 * M, sizeof(uint64_t), "checkpoint random streams", e);
    c->extra = dp_calloc(c->n_extra, sizeof(float), "checkpoint extra", e);
    return c->worker_params && c->worker_buffers && c->worker_opt && c->rng && c->extra ? 0 : DP_ENOMEM;
}

static void free_arrays(checkpoint_t *c) {
    free(c->worker_params);
    free(c->worker_buffers);
    free(c->worker_opt);
    free(c->rng);
    free(c->extra);
}

int runstate_save(run_state *r, const char *path, dp_err *e) {
    worker_set *wk = r->wk;
    size_t np = wk->n_params, nb = wk->n_buffers, per = per_worker(wk);
    int M = r->comm->workers, L = wk->local, root = r->comm->rank == 0;
    /* Per-worker slots of the algorithm's state (lsgd's losses) to rank 0 too. */
    int rc = algo_share_state(r->algo, wk, e);
    if (!rc) rc = workers_average(wk, 0, e);
    if (rc) return rc;
    float *local = dp_calloc(per * L, sizeof(float), "the workers' state for a checkpoint", e);
    float *all = root ? dp_calloc(per * M, sizeof(float), "every worker's state for a checkpoint", e) : NULL;
    checkpoint_t c = {0};
    if (!local || (root && !all)) {
        rc = DP_ENOMEM;
        goto done;
    }
    for (int k = 0; k < L; k++) {
        float *dst = local + per * k;
        const worker_t *w = &wk->w[k];
        memcpy(dst, w->params, (np + nb) * sizeof(float)); /* params | buffers */
        memcpy(dst + np + nb, w->mom, np * sizeof(float));
        memcpy(dst + 2 * np + nb, w->rng.s, sizeof w->rng.s);
    }
    double tailv[TAIL_COUNT] = {0};
    if (r->interval) memcpy(tailv, r->interval, TAIL_SUMS * sizeof(double));
    rc = comm_gather_to_root(r->comm, local, per * L, all, e);
    if (!rc) rc = comm_sum_f64(r->comm, tailv, TAIL_SUMS, e);
    if (rc || !root) goto done;
    tailv[3] = r->modeled_compute ? *r->modeled_compute : 0;
    tailv[4] = r->comm->modeled_s;
    int tail = 0;
    for (int i = 0; i < TAIL_COUNT; i++) tail |= tailv[i] != 0;

    c.spec_yaml = (char *)r->spec_yaml; /* checkpoint_write only reads */
    c.n_workers = (uint32_t)M;
    c.n_rng = 1;
    c.n_params = np, c.n_buffers = nb, c.n_opt = np;
    c.n_extra = EXTRA_HEAD + r->algo->n_state + (tail ? EXTRA_TAIL : 0);
    c.epoch = r->step / r->steps_per_epoch;
    c.step = r->step;
    c.wall_seconds = r->wall;
    c.avg_params = wk->avg;
    c.avg_buffers = wk->avg + np;
    if ((rc = alloc_arrays(&c, (size_t)M, e))) goto done;
    for (int i = 0; i < M; i++) {
        const float *src = all + per * i;
        memcpy(c.worker_params + np * i, src, np * sizeof(float));
        memcpy(c.worker_buffers + nb * i, src + np, nb * sizeof(float));
        memcpy(c.worker_opt + np * i, src + np + nb, np * sizeof(float));
        memcpy(c.rng + 4 * i, src + 2 * np + nb, 4 * sizeof(uint64_t));
    }
    put_u64(c.extra + 2 * XS_LAST_SYNC, (uint64_t)r->algo->last_sync);
    put_u64(c.extra + 2 * XS_ROUNDS, r->comm->rounds);
    put_u64(c.extra + 2 * XS_BYTES, r->comm->bytes);
    put_f64(c.extra + 2 * XS_SPREAD_MEAN, r->algo->spread_mean);
    put_f64(c.extra + 2 * XS_SPREAD_MAX, r->algo->spread_max);
    if (r->algo->n_state) memcpy(c.extra + EXTRA_HEAD, r->algo->state, r->algo->n_state * sizeof(float));
    for (int i = 0; tail && i < TAIL_COUNT; i++) put_f64(c.extra + EXTRA_HEAD + r->algo->n_state + 2 * i, tailv[i]);
    rc = checkpoint_write(path, &c, e);
done:
    free_arrays(&c);
    free(local);
    free(all);
    if (comm_agree_error(r->comm, rc)) return rc ? rc : DP_EMPI;
    return 0;
}

/* Names the first way the checkpoint's layout differs from the run's. */
static int check_layout(const checkpoint_t *c, const run_state *r, const char *path, dp_err *e) {
    const worker_set *wk = r->wk;
    const char *what = NULL;
    unsigned long long have = 0, want = 0;
    if (c->n_workers != (uint32_t)r->comm->workers)
        what = "workers (dist.workers)", have = c->n_workers, want = (unsigned)r->comm->workers;
    else if (c->n_params != wk->n_params)
        what = "parameters (the model)", have = c->n_params, want = wk->n_params;
    else if (c->n_buffers != wk->n_buffers)
        what = "BatchNorm buffers (the model)", have = c->n_buffers, want = wk->n_buffers;
    else if (c->n_opt != wk->n_params)
        what = "optimizer floats per worker", have = c->n_opt, want = wk->n_params;
    else if (c->n_rng != 1)
        what = "random streams per worker", have = c->n_rng, want = 1;
    else if (c->n_extra < EXTRA_HEAD)
        what = "run-counter floats", have = c->n_extra, want = EXTRA_HEAD + r->algo->n_state;
    else if (c->n_extra - EXTRA_HEAD != r->algo->n_state &&
             c->n_extra - EXTRA_HEAD != r->algo->n_state + EXTRA_TAIL)
        what = "floats of algorithm state (dist.algorithm)", have = c->n_extra - EXTRA_HEAD,
        want = r->algo->n_state;
    if (what)
        return dp_fail(e, DP_EUSAGE,
                       "checkpoint '%s' does not match the spec: it holds %llu %s, the spec's run needs %llu",
                       path, have, what, want);
    /* Fields that are consistent in the file but not with this run. */
    int64_t last_sync = (int64_t)get_u64(c->extra + 2 * XS_LAST_SYNC);
    double sm = get_f64(c->extra + 2 * XS_SPREAD_MEAN), sx = get_f64(c->extra + 2 * XS_SPREAD_MAX);
    if (c->step > r->total_steps)
        return dp_fail(e, DP_EIO,
                       "checkpoint '%s': field step is %lld, beyond the %lld steps of this run's spec "
                       "(optim.epochs, optim.max_steps)",
                       path, (long long)c->step, (long long)r->total_steps);
    if (c->epoch != c->step / r->steps_per_epoch)
        return dp_fail(e, DP_EIO,
                       "checkpoint '%s': field epoch is %lld but step %lld is in epoch %lld of this run "
                       "(%lld steps per epoch)",
                       path, (long long)c->epoch, (long long)c->step, (long long)(c->step / r->steps_per_epoch),
                       (long long)r->steps_per_epoch);
    if (last_sync < 0 || last_sync > c->step)
        return dp_fail(e, DP_EIO, "checkpoint '%s': its last sync (step %lld) is not in [0, step %lld]", path,
                       (long long)last_sync, (long long)c->step);
    if (!(sm >= 0 && sx >= sm && isfinite(sx)))
        return dp_fail(e, DP_EIO, "checkpoint '%s': its spread (mean %g, max %g) is not a distance", path, sm, sx);
    if (c->n_extra > EXTRA_HEAD + r->algo->n_state)
        for (int i = 0; i < TAIL_COUNT; i++) {
            double v = get_f64(c->extra + EXTRA_HEAD + r->algo->n_state + 2 * i);
            if (!(v >= 0 && isfinite(v)))
                return dp_fail(e, DP_EIO, "checkpoint '%s': its %s are not valid", path,
                               i < TAIL_SUMS ? "training-loss sums" : "modeled times");
        }
    return 0;
}


int runstate_load(run_state *r, const char *path, dp_err *e) {
    checkpoint_t c;
    int rc = checkpoint_read(path, &c, e);
    if (rc) return rc;
    if ((rc = check_layout(&c, r, path, e))) {
        checkpoint_free(&c);
        return rc;
    }
    worker_set *wk = r->wk;
    size_t np = wk->n_params, nb = wk->n_buffers;
    for (int k = 0; k < wk->local; k++) {
        worker_t *w = &wk->w[k];
        int i = w->index;
        memcpy(w->params, c.worker_params + np * i, np * sizeof(float));
        memcpy(w->buffers, c.worker_buffers + nb * i, nb * sizeof(float));
        memcpy(w->mom, c.worker_opt + np * i, np * sizeof(float));
        memcpy(w->rng.s, c.rng + 4 * i, sizeof w->rng.s);
    }
    r->step = c.step;
    r->wall = c.wall_seconds;
    r->algo->last_sync = (int64_t)get_u64(c.extra + 2 * XS_LAST_SYNC);
    r->comm->rounds = get_u64(c.extra + 2 * XS_ROUNDS);
    r->comm->bytes = get_u64(c.extra + 2 * XS_BYTES);
    r->algo->spread_mean = get_f64(c.extra + 2 * XS_SPREAD_MEAN);
    r->algo->spread_max = get_f64(c.extra + 2 * XS_SPREAD_MAX);
    if (r->algo->n_state)
        memcpy(r->algo->state, c.extra + EXTRA_HEAD, r->algo->n_state * sizeof(float));
    double tailv[TAIL_COUNT] = {0};
    if (c.n_extra > EXTRA_HEAD + r->algo->n_state)
        for (int i = 0; i < TAIL_COUNT; i++) tailv[i] = get_f64(c.extra + EXTRA_HEAD + r->algo->n_state + 2 * i);
    /* The sums are over all workers: rank 0 takes them, the others start at 0. */
    for (int i = 0; r->interval && i < TAIL_SUMS; i++) r->interval[i] = r->comm->rank == 0 ? tailv[i] : 0;
    if (r->modeled_compute) *r->modeled_compute = tailv[3];
    r->comm->modeled_s = tailv[4];
    checkpoint_free(&c);
    return 0;
}

int runstate_write_start(const spec_t *s, const net_t *net, const float *params, const float *buffers,
                         const char *path, dp_err *e) {
    /* Exactly what a fresh run has before its first step, so that resuming
     * from this file is a fresh run from these weights: zero momentum and
     * run counters, each worker's RNG stream as workers_alloc seeds it, and
     * the algorithm's state as algo_init makes it from the starting point. */
    size_t np = net->n_params, nb = net->n_buffers, M = (size_t)s->dist.workers;
    checkpoint_t c = {0};
    algo_cfg ac;
    spec_algo_cfg(&ac, s);
    ac.net = net; /* the state's size may depend on the layout (lgrawa) */
    /* The algorithm's state from the starting point: a one-worker view of it. */
    float *start = dp_calloc(np + nb, sizeof(float), "the starting point", e);
    worker_t w0 = {.params = start, .buffers = start + np};
    comm_t solo = {.size = 1, .workers = (int)M, .local = 1};
    worker_set one = {.local = 1, .w = &w0, .n_params = np, .n_buffers = nb, .comm = &solo};
    algo_t algo = {0};
    int rc = start ? 0 : DP_ENOMEM;
    if (!rc) {
        memcpy(start, params, np * sizeof(float));
        memcpy(start + np, buffers, nb * sizeof(float));
        rc = algo_init(&algo, &ac, &one, e);
    }
    if (!rc) {
        c.spec_yaml = spec_to_yaml(s, e);
        if (!c.spec_yaml) rc = e->code ? e->code : DP_ENOMEM;
    }
    if (!rc) {
        c.n_workers = (uint32_t)M;
        c.n_rng = 1;
        c.n_params = np, c.n_buffers = nb, c.n_opt = np;
        c.n_extra = EXTRA_HEAD + algo.n_state;
        c.avg_params = start;
        c.avg_buffers = start + np;
        rc = alloc_arrays(&c, M, e);
    }
    for (size_t i = 0; !rc && i < M; i++) {
        memcpy(c.worker_params + np * i, params, np * sizeof(float));
        memcpy(c.worker_buffers + nb * i, buffers, nb * sizeof(float));
        rng_t r;
        rng_init(&r, s->run.seed, RNG_STREAM_WORKER + (uint64_t)i);
        memcpy(c.rng + 4 * i, r.s, sizeof r.s);
    }
    if (!rc && algo.n_state) memcpy(c.extra + EXTRA_HEAD, algo.state, algo.n_state * sizeof(float));
    if (!rc) rc = checkpoint_write(path, &c, e);
    free(c.spec_yaml);
    free_arrays(&c);
    algo_free(&algo);
    free(start);
    return rc;
}

int spec_from_checkpoint(spec_t *s, const char *ckpt_path, dp_err *e) {
    checkpoint_t c;
    int rc = checkpoint_read(ckpt_path, &c, e);
    if (rc) return rc;
    spec_defaults(s);
    char name[SPEC_PATH + 32];
    snprintf(name, sizeof name, "%s (stored spec)", ckpt_path);
    rc = spec_load_string(s, c.spec_yaml, name, e);
    checkpoint_free(&c);
    return rc;
}

int ckpt_model_open(ckpt_model *x, const spec_t *s, const char *path, int with_data, dp_err *e) {
    memset(x, 0, sizeof *x);
    model_cfg m;
    int rc = checkpoint_read(path, &x->ckpt, e);
    if (!rc && with_data) {
        rc = dataset_load(s, &x->train, &x->test, e);
        if (!rc) {
            spec_model_cfg(&m, s, x->train.c, x->train.h, x->train.w, x->train.classes);
            batch_cfg_from_spec(&x->bc, s, &x->train);
        }
    } else if (!rc) {
        rc = spec_model_cfg_for_data(&m, s, e);
    }
    if (!rc) rc = net_build(&x->net, &m, e);
    if (!rc && (x->ckpt.n_params != x->net.n_params || x->ckpt.n_buffers != x->net.n_buffers))
        rc = dp_fail(e, DP_EUSAGE,
                     "checkpoint '%s' holds %llu parameters and %llu buffers but the spec's model (%s) "
                     "has %zu and %zu",
                     path, (unsigned long long)x->ckpt.n_params, (unsigned long long)x->ckpt.n_buffers,
                     model_name(s->model.arch), x->net.n_params, x->net.n_buffers);
    if (rc) ckpt_model_close(x);
    return rc;
}

void ckpt_model_close(ckpt_model *x) {
    net_free(&x->net);
    dataset_free(&x->train);
    dataset_free(&x->test);
    checkpoint_free(&x->ckpt);
    memset(x, 0, sizeof *x);
}
