/* train.c - the training loop shared by every algorithm.
 *
 * Per step, every local worker draws its batch, runs forward and backward
 * (all in-process workers share one workspace), the algorithm may average the
 * gradients (ddp), every worker takes its SGD step, and the algorithm may sync
 * the parameters (localsgd, easgd, qsr, dppf). Which samples a worker's batch
 * holds (IID or a non-IID partition) is nn/sampler.h's. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "algo.h"
#include "build_info.h"
#include "clock.h"
#include "governor.h"
#include "dataset.h"
#include "evaluate.h"
#include "fault.h"
#include "file.h"
#include "gemm.h"
#include "metrics.h"
#include "model.h"
#include "net.h"
#include "optim.h"
#include "plot.h"
#include "report.h"
#include "rundir.h"
#include "runstate.h"
#include "sam.h"
#include "spec_map.h"
#include "sysmem.h"
#include "train.h"
#include "workers.h"

typedef struct {
    const spec_t *s;
    comm_t *comm;
    net_t net;
    net_ws ws;
    dataset_t train, test;
    batch_cfg_t bc;
    worker_set wk;
    algo_t algo;
    lr_schedule_t sched;
    sgd_cfg_t sgd;
    sampler_t sampler;
    sam_t sam;                      /* optim.sam_rho > 0: SAM's second pass */
    int32_t *labels, *idx;
    int64_t spe, total_steps, eval_interval, step;
    int M, B;
    double wall;                    /* training seconds so far (excl. evaluation) */
    double interval[3];             /* since the last evaluation: loss, correct, samples */
    double modeled_compute;         /* modeled compute seconds of the steps so far (net.*) */
    double t_mark;                  /* wall at the last evaluation */
    metrics_row last;               /* the last evaluation */
    metrics_writer mw;
    const dp_report *report;
    char *spec_yaml;
    rundir_t dir;                   /* run.out_dir, locked while the run lasts (rank 0) */
    char last_ckpt[SPEC_PATH + 64]; /* the newest complete checkpoint, "" if none */
    int64_t last_ckpt_step;
    thread_governor gov;            /* the thread count of each step (run.adapt_threads) */
    double compute_s;               /* the last step's forward + backward, without its sync */
} trainer;

static int is_root(const trainer *t) { return t->comm->rank == 0; }

/* Every rank must run the same spec (one launched with another config or
 * other --set options would build other buffers and break the collective
 * operations): rank 0's resolved spec is broadcast and compared before any
 * work. A mismatch is DP_EUSAGE on every rank, naming the first differing key. */
static int agree_on_spec(trainer *t, dp_err *e) {
    comm_t *c = t->comm;
    if (!c->mpi || c->size == 1) return 0;
    uint64_t len = strlen(t->spec_yaml);
    int rc = comm_broadcast(c, &len, sizeof len, e);
    char *root = rc ? NULL : dp_calloc(len + 1, 1, "rank 0's spec", e);
    if (!rc && !root) rc = DP_ENOMEM;
    if (!rc && c->rank == 0) memcpy(root, t->spec_yaml, len);
    if (!rc) rc = comm_broadcast(c, root, len, e);
    int mine = 0;
    if (!rc && strcmp(root, t->spec_yaml) != 0) {
        spec_t r0;
        dp_err ignored;
        const char *key = "?";
        char here[256] = "", there[256] = "";
        spec_defaults(&r0);
        if (spec_load_string(&r0, root, "rank 0's spec", &ignored) == 0 && spec_diff(&r0, t->s, &key, 1) > 0) {
            spec_value_text(t->s, key, here, sizeof here);
            spec_value_text(&r0, key, there, sizeof there);
        }
        mine = dp_fail(e, DP_EUSAGE,
                       "this rank's spec differs from rank 0's: %s is %s here but %s on rank 0; every "
                       "rank must be started with the same spec and --set options",
                       key, here, there);
    }
    free(root);
    if (rc) return rc;
    int worst = comm_agree_error(c, mine);
    if (worst && !mine)
        dp_fail(e, worst, "another rank's spec differs from rank 0's (its message names the key)");
    return worst;
}

/* What a resumed run may change: where it writes, how far it goes and how
 * often it reports. Anything else would make it another run. */
static const char *const RESUME_MAY_CHANGE[] = {"run.out_dir",          "optim.epochs",
                                                "optim.max_steps",      "run.eval_every",
                                                "run.checkpoint_every", "run.threads",
                                                "run.adapt_threads",    "data.path"};

static int check_resume_spec(const spec_t *s, const char *path, dp_err *e) {
    spec_t saved;
    int rc = spec_from_checkpoint(&saved, path, e);
    if (rc) return rc;
    const char *keys[128];
    int n = spec_diff(&saved, s, keys, 128), bad = 0;
    char list[1024] = "";
    size_t at = 0;
    for (int i = 0; i < n && i < 128; i++) {
        int ok = 0;
        for (size_t j = 0; j < sizeof RESUME_MAY_CHANGE / sizeof *RESUME_MAY_CHANGE; j++)
            ok |= !strcmp(keys[i], RESUME_MAY_CHANGE[j]);
        if (ok) continue;
        char was[128], now[128];
        spec_value_text(&saved, keys[i], was, sizeof was);
        spec_value_text(s, keys[i], now, sizeof now);
        if (at < sizeof list)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s (%s -> %s)", bad ? ", " : "", keys[i], was, now);
        bad++;
    }
    if (!bad) return 0;
    return dp_fail(e, DP_EUSAGE,
                   "--resume %s: the spec changes %d key%s of the run saved there: %s; a resumed run "
                   "may change only run.out_dir, optim.epochs, optim.max_steps, run.eval_every, "
                   "run.checkpoint_every, run.threads, run.adapt_threads and data.path (start a new run to change more)",
                   path, bad, bad > 1 ? "s" : "", list);
}

/* A run that cannot fit is refused before it allocates (instead of growing
 * until the OOM killer ends it): the floor of what it needs on this rank,
 * next to what the machine and the process's limits leave. */
static int check_memory(trainer *t, const train_opts *o, dp_err *e) {
    const spec_t *s = t->s;
    model_cfg mc;
    net_t probe;
    int rc = spec_model_cfg_for_data(&mc, s, e);
    if (!rc) rc = net_build(&probe, &mc, e); /* tables only: cheap */
    if (rc) return rc;
    const double np = (double)probe.n_params, nb = (double)probe.n_buffers;
    const double L = t->comm->local, M = t->M;
    double data = (double)dataset_bytes(s);
    double ws = (double)net_kept_bytes(&probe, t->B);
    double workers = 4.0 * (L * (4 * np + nb) + np + nb) + (M > 1 ? 8.0 * (np + nb) : 0);
    /* Copies that options add: SAM's, the EMA, the stragglers' ring of consensus models. */
    double extras = (s->optim.sam_rho > 0 ? 1 : 0) + (s->run.ema_decay > 0 ? 1 : 0) +
                    (s->dist.straggler_prob > 0 ? s->dist.straggler_delay : 0);
    workers += 4.0 * extras * (np + nb);
    double ckpt = t->comm->rank == 0 ? 4.0 * (2 * M * (2 * np + nb + 8)) : 4.0 * L * (2 * np + nb + 8);
    net_free(&probe);
    double need = data + ws + workers + ckpt;
    sysmem_t avail;
    if (o->force_memory || !sysmem_available(&avail)) return 0;
    /* Ranks on one machine share it. */
    double share = (double)avail.avail / (t->comm->node_ranks > 0 ? t->comm->node_ranks : 1);
    if (need <= share) return 0;
    return dp_fail(e, DP_ENOMEM,
                   "the run needs at least %.1f MiB on this rank (data %.1f, %d workers' parameters, "
                   "gradients and momentum %.1f, activations for batch %d %.1f, checkpoint buffers "
                   "%.1f) but %.1f MiB are available (%s%s); lower the sizes, or use --force-memory "
                   "to try anyway",
                   need / 1048576, data / 1048576, t->comm->local, workers / 1048576, t->B, ws / 1048576,
                   ckpt / 1048576, share / 1048576, avail.source,
                   t->comm->node_ranks > 1 ? ", shared by this machine's ranks" : "");
}

/* The run's state as the checkpoint module sees it. */
static run_state state_of(trainer *t) {
    return (run_state){.spec_yaml = t->spec_yaml, .wk = &t->wk, .algo = &t->algo, .comm = t->comm,
                       .step = t->step, .steps_per_epoch = t->spe, .total_steps = t->total_steps,
                       .wall = t->wall, .interval = t->interval, .modeled_compute = &t->modeled_compute};
}

/* Gathers every worker's state on rank 0 and writes <out_dir>/<name> there. */
static int save_checkpoint(trainer *t, const char *name, dp_err *e) {
    char path[SPEC_PATH + 64];
    snprintf(path, sizeof path, "%s/%s", t->s->run.out_dir, name);
    run_state r = state_of(t);
    int rc = runstate_save(&r, path, e);
    if (rc) return rc;
    snprintf(t->last_ckpt, sizeof t->last_ckpt, "%s", path);
    t->last_ckpt_step = t->step;
    return 0;
}

static int load_resume(trainer *t, const char *path, dp_err *e) {
    run_state r = state_of(t);
    int rc = runstate_load(&r, path, e);
    if (rc) return rc;
    t->step = r.step;
    t->wall = r.wall;
    snprintf(t->last_ckpt, sizeof t->last_ckpt, "%s", path);
    t->last_ckpt_step = t->step;
    return 0;
}

/* The error for a diverged run: where it broke, what to do, and what is safe. */
static int diverged(const trainer *t, int64_t step, int worker, const char *what, dp_err *e) {
    char ckpt[SPEC_PATH + 128], hint[160];
    if (t->last_ckpt[0])
        snprintf(ckpt, sizeof ckpt, "the last checkpoint, '%s' (step %lld), is intact",
                 t->last_ckpt, (long long)t->last_ckpt_step);
    else
        snprintf(ckpt, sizeof ckpt, "no checkpoint was written yet");
    /* A push that blew up shows right after a sync: the lr is not the cause then. */
    if (t->s->dist.algorithm == ALGO_DPPF && t->s->dist.push > 0 && t->algo.last_sync == step)
        snprintf(hint, sizeof hint, "lower dist.push (now %g) or raise dist.pull (now %g)",
                 (double)t->s->dist.push, (double)t->s->dist.pull);
    else
        snprintf(hint, sizeof hint, "lower optim.lr, now %g, or add optim.warmup_epochs",
                 (double)t->s->optim.lr);
    return dp_fail(e, DP_ENUMERIC, "training diverged at step %lld (epoch %.2f), worker %d: %s; stopping (%s); %s",
                   (long long)step, (double)step / t->spe, worker, what, hint, ckpt);
}

/* Finds the first non-finite parameter (the update of step t->step made it)
 * and names its tensor. */
static int check_finite(trainer *t, dp_err *e) {
    for (int k = 0; k < t->wk.local; k++) {
        const float *p = t->wk.w[k].params;
        for (size_t i = 0; i < t->wk.n_params; i++) {
            if (isfinite(p[i])) continue;
            const char *name = "?";
            for (int j = 0; j < t->net.n_tensors; j++) {
                const net_tensor *tt = &t->net.tensors[j];
                if (!tt->is_buffer && i >= tt->offset && i < tt->offset + tt->size) name = tt->name;
            }
            char what[160];
            snprintf(what, sizeof what, "parameter tensor %s became %s", name,
                     isnan(p[i]) ? "NaN" : "Inf");
            return diverged(t, t->step, t->wk.w[k].index, what, e);
        }
    }
    return 0;
}

/* A non-finite loss with finite parameters: names the first layer whose
 * output overflowed, and how large its weights have grown. `rng0` is the
 * worker's random state before the failed forward pass, which is replayed on
 * copies so that the diagnosis changes nothing. */
static int nonfinite_loss(trainer *t, const worker_t *w, rng_t rng0, float loss, dp_err *e) {
    int rc = check_finite(t, e);
    if (rc) return rc;
    char what[400], layer[160];
    int len = snprintf(what, sizeof what, "the training loss is %s", isnan(loss) ? "NaN" : "Inf");
    dp_err ignored; /* without memory for the copy the diagnosis is skipped, not the error */
    float *buffers = dp_calloc(t->wk.n_buffers ? t->wk.n_buffers : 1, sizeof(float), "a diagnosis", &ignored);
    int op = -2; /* -2: not diagnosed (no memory for the copy) */
    if (buffers) {
        memcpy(buffers, w->buffers, t->wk.n_buffers * sizeof(float));
        op = net_first_nonfinite_op(&t->net, &t->ws, w->params, buffers, t->B, 1, &rng0);
        free(buffers);
    }
    if (op == -1) {
        snprintf(what + len, sizeof what - (size_t)len, " (every activation is finite)");
    } else if (op >= 0) {
        net_op_name(&t->net, op, layer, sizeof layer);
        len += snprintf(what + len, sizeof what - (size_t)len,
                        "; layer %s is the first whose output is not finite", layer);
        int wt = t->net.ops[op].w;
        if (wt >= 0) {
            const net_tensor *tt = &t->net.tensors[wt];
            float big = 0;
            for (size_t i = 0; i < tt->size; i++) big = fmaxf(big, fabsf(w->params[tt->offset + i]));
            snprintf(what + len, sizeof what - (size_t)len, " (its largest |weight|: %.3g)", big);
        }
    }
    return diverged(t, t->step + 1, w->index, what, e);
}

/* Evaluates the averaged model; `log`: append the row to metrics.csv. */
static int evaluate(trainer *t, int log, dp_err *e) {
    size_t np = t->wk.n_params;
    int rc = check_finite(t, e);
    rc = comm_agree_error(t->comm, rc) ? (rc ? rc : DP_ENUMERIC) : 0;
    if (rc) return rc;
    rc = workers_average(&t->wk, 0, e);
    if (rc) return rc;
    double t0 = now_seconds();
    eval_result test = {0}, train = {0}, ema = {.loss = NAN, .acc = NAN};
    if (is_root(t)) {
        eval_model(&t->net, &t->ws, t->wk.avg, t->wk.avg + np, &t->test, &t->bc, t->labels, t->idx,
                   &test);
        if (t->algo.ema) /* run.ema_decay: the EMA of the averaged model too */
            eval_model(&t->net, &t->ws, t->algo.ema, t->algo.ema + np, &t->test, &t->bc, t->labels,
                       t->idx, &ema);
        if (t->s->run.eval_train)
            eval_model(&t->net, &t->ws, t->wk.avg, t->wk.avg + np, &t->train, &t->bc, t->labels,
                       t->idx, &train);
    }
    /* Each worker on its own (the spread's effect on accuracy); skipped for M = 1. */
    double wacc = 0;
    if (t->M > 1) {
        for (int k = 0; k < t->wk.local; k++) {
            eval_result r;
            eval_model(&t->net, &t->ws, t->wk.w[k].params, t->wk.w[k].buffers, &t->test, &t->bc,
                       t->labels, t->idx, &r);
            wacc += r.acc;
        }
    }
    double sums[4] = {t->interval[0], t->interval[1], t->interval[2], wacc};
    rc = comm_sum_f64(t->comm, sums, 4, e);
    if (rc) return rc;

    metrics_row *m = &t->last;
    m->epoch = (double)t->step / t->spe;
    m->step = t->step;
    m->lr = lr_at(&t->sched, t->step > 0 ? t->step - 1 : 0);
    int steps = sums[2] > 0;
    m->train_loss = t->s->run.eval_train ? train.loss : steps ? sums[0] / (sums[2] / t->B) : NAN;
    m->train_acc = t->s->run.eval_train ? train.acc : steps ? sums[1] / sums[2] : NAN;
    m->test_loss = test.loss;
    m->test_acc = test.acc;
    double dt = t->wall - t->t_mark;
    m->samples_per_s = dt > 0 ? sums[2] / dt : 0;
    m->wall_s = t->wall;
    m->comm_rounds = t->comm->rounds;
    m->comm_bytes = t->comm->bytes;
    m->tau_now = t->algo.tau_now;
    m->spread_mean = t->algo.spread_mean;
    m->spread_max = t->algo.spread_max;
    m->worker_test_acc = t->M > 1 ? sums[3] / t->M : test.acc;
    m->modeled_time_s = t->s->net.model == NETMODEL_NONE ? 0 : t->modeled_compute + t->comm->modeled_s;
    double syncs;
    algo_fault_counts(&t->algo, t->M, &syncs, &m->syncs_missed, &m->participants_mean);
    m->ema_test_loss = ema.loss;
    m->ema_test_acc = ema.acc;
    t->interval[0] = t->interval[1] = t->interval[2] = 0;
    t->t_mark = t->wall;
    if (is_root(t)) {
        if (log) rc = metrics_append(&t->mw, m, e);
        report_line(t->report,
                      "epoch %6.2f  step %lld  lr %.4g  train loss %.4f acc %.4f  test loss %.4f "
                      "acc %.4f  %.0f samples/s  (eval %.1fs)",
                      m->epoch, (long long)m->step, m->lr, m->train_loss, m->train_acc, m->test_loss,
                      m->test_acc, m->samples_per_s, now_seconds() - t0);
    }
    return comm_agree_error(t->comm, rc) ? (rc ? rc : DP_EIO) : 0;
}

/* One optimizer step of every local worker, then the algorithm's sync. */
static int train_step(trainer *t, dp_err *e) {
    /* Test-only (lib/fault.h): an error on one rank in the middle of a run. */
    if (fault_at("error", (long long)t->step + 1, t->comm->rank))
        return dp_fail(e, DP_ERUNTIME, "injected fault before step %lld on rank %d (DPPF_FAULT "
                       "is set; it is for tests only)", (long long)t->step + 1, t->comm->rank);
    /* Test-only: a SIGTERM as a cluster's preemption sends it, mid-run. */
    if (fault_at("sigterm", (long long)t->step + 1, t->comm->rank)) raise(SIGTERM);
    double fepoch = (double)t->step / t->spe;
    float lr = lr_at(&t->sched, t->step);
    const double t0 = now_seconds();
    for (int k = 0; k < t->wk.local; k++) {
        worker_t *w = &t->wk.w[k];
        const int32_t *idx = sampler_batch(&t->sampler, w->index, t->step);
        batch_fill(net_input(&t->ws), t->labels, &t->train, idx, t->B, &t->bc, 1, &w->rng);
        rng_t rng0 = w->rng; /* to replay this forward pass if it fails */
        int correct = 0;
        float loss = net_forward(&t->net, &t->ws, w->params, w->buffers, t->labels, t->B, 1,
                                 &w->rng, &correct);
        if (!isfinite(loss)) return nonfinite_loss(t, w, rng0, loss, e);
        t->interval[0] += loss;
        t->interval[1] += correct;
        t->interval[2] += t->B;
        memset(w->grads, 0, t->wk.n_params * sizeof(float));
        net_backward(&t->net, &t->ws, w->params, w->grads, t->labels, t->B);
        if (t->sam.rho > 0) /* same batch; the reported loss stays the first pass's */
            sam_gradient(&t->sam, &t->net, &t->ws, w->params, w->buffers, w->grads, t->labels, t->B,
                         &w->rng);
        w->loss = loss;
    }
    t->compute_s = now_seconds() - t0;
    int rc = algo_after_backward(&t->algo, &t->wk, t->step, fepoch, e);
    if (rc) return rc;
    size_t n_decay = t->s->optim.wd_skip_bn_bias ? t->net.n_params_decay : t->wk.n_params;
    for (int k = 0; k < t->wk.local; k++) {
        worker_t *w = &t->wk.w[k];
        sgd_step(w->params, w->grads, w->mom, t->wk.n_params, n_decay, lr, &t->sgd);
    }
    t->step++;
    return algo_after_step(&t->algo, &t->wk, t->step, (double)t->step / t->spe, lr, e);
}

/* <out_dir>/spec.yaml with the build as a comment line on top: what made
 * this run. Not part of spec_to_yaml's text, which checkpoints store and must
 * not depend on the build. */
static int write_spec_yaml(trainer *t, dp_err *e) {
    char path[SPEC_PATH + 32], build[1024];
    snprintf(path, sizeof path, "%s/spec.yaml", t->s->run.out_dir);
    build_info_line(build, sizeof build);
    size_t n = strlen(build) + strlen(t->spec_yaml) + 32;
    char *text = dp_calloc(n, 1, "spec.yaml", e);
    if (!text) return DP_ENOMEM;
    snprintf(text, n, "# built by %s\n%s", build, t->spec_yaml);
    int rc = atomic_write_text(path, text, e);
    free(text);
    return rc;
}

/* <out_dir>/partition.csv: each worker's share of every class. */
static int write_partition(trainer *t, dp_err *e) {
    char path[SPEC_PATH + 32];
    snprintf(path, sizeof path, "%s/partition.csv", t->s->run.out_dir);
    const int K = t->train.classes;
    int64_t *counts = dp_calloc((size_t)K, sizeof *counts, "a label histogram", e);
    if (!counts) return DP_ENOMEM;
    atomic_file a;
    int rc = atomic_open(&a, path, "partition", e);
    if (!rc) {
        fprintf(a.f, "worker,samples");
        for (int c = 0; c < K; c++) fprintf(a.f, ",class%d", c);
        fputc('\n', a.f);
        for (int w = 0; w < t->M; w++) {
            fprintf(a.f, "%d,%lld", w, (long long)sampler_histogram(&t->sampler, w, counts));
            for (int c = 0; c < K; c++) fprintf(a.f, ",%lld", (long long)counts[c]);
            fputc('\n', a.f);
        }
        rc = atomic_commit(&a, e);
    }
    free(counts);
    return rc;
}

static int setup(trainer *t, const spec_t *s, const train_opts *o, comm_t *comm, dp_err *e) {
    memset(t, 0, sizeof *t);
    t->s = s;
    t->comm = comm;
    t->M = s->dist.workers;
    t->B = s->optim.batch_size;
    t->last_ckpt_step = -1;
    t->dir.lock_fd = -1;
    t->report = comm->rank == 0 ? o->report : NULL;
    /* Auto: this machine's CPUs shared among its ranks, so one process uses
     * every core and mpirun -np <cores> gives the faster layout of one thread
     * per rank (README, Performance). Results do not depend on the count. */
    gemm_set_threads(comm_threads(s->run.threads, comm));
    governor_init(&t->gov, gemm_get_threads(), s->run.adapt_threads);

    t->spec_yaml = spec_to_yaml(s, e);
    if (!t->spec_yaml) return e->code ? e->code : DP_ENOMEM;
    /* Everything that can be checked is, before anything is written. */
    int rc = agree_on_spec(t, e);
    if (rc) return rc;
    if (o->resume) rc = check_resume_spec(s, o->resume, e);
    if (!rc) rc = check_memory(t, o, e);
    if ((rc = comm_agree_error(comm, rc))) return rc;

    if ((rc = dataset_load(s, &t->train, &t->test, e))) return rc;
    batch_cfg_from_spec(&t->bc, s, &t->train);
    t->spe = t->train.n / ((int64_t)t->M * t->B);
    if (t->spe < 1)
        return dp_fail(e, DP_EUSAGE,
                       "optim.batch_size: the training set (%d samples) is smaller than one step of "
                       "%d workers x batch %d",
                       t->train.n, t->M, t->B);
    t->total_steps = t->spe * s->optim.epochs;
    if (s->optim.max_steps > 0 && s->optim.max_steps < t->total_steps)
        t->total_steps = s->optim.max_steps;
    t->eval_interval = llround(s->run.eval_every * t->spe);
    if (t->eval_interval < 1) t->eval_interval = 1;
    sampler_cfg sc;
    spec_sampler_cfg(&sc, s, comm->first, comm->local, t->spe);
    if ((rc = sampler_init(&t->sampler, &sc, &t->train, e))) return rc;

    if (is_root(t)) {
        rc = rundir_open(&t->dir, s->run.out_dir, o->resume ? RUNDIR_RESUME : o->force ? RUNDIR_FORCE : RUNDIR_NEW, e);
        if (!rc) rc = write_spec_yaml(t, e);
        if (!rc && s->data.partition != PART_IID) rc = write_partition(t, e);
    }
    if ((rc = comm_agree_error(comm, rc))) return rc;

    model_cfg mc;
    spec_model_cfg(&mc, s, t->train.c, t->train.h, t->train.w, t->train.classes);
    if ((rc = net_build(&t->net, &mc, e))) return rc;
    if ((rc = net_ws_alloc(&t->ws, &t->net, t->B, e))) return rc;
    if ((rc = workers_alloc(&t->wk, comm, t->net.n_params, t->net.n_buffers, s->run.seed, e)))
        return rc;
    t->labels = dp_calloc((size_t)t->B, sizeof(int32_t), "labels", e);
    t->idx = dp_calloc((size_t)t->B, sizeof(int32_t), "indices", e);
    if (!t->labels || !t->idx) return DP_ENOMEM;
    if (s->optim.sam_rho > 0 && (rc = sam_init(&t->sam, t->net.n_params, t->net.n_buffers,
                                               s->optim.sam_rho, s->optim.sam_adaptive, e)))
        return rc;

    /* Every worker starts from the same initialisation (as DDP and the paper do). */
    for (int k = 0; k < t->wk.local; k++) {
        worker_t *w = &t->wk.w[k];
        if (k == 0)
            net_init(&t->net, w->params, w->buffers, s->run.seed);
        else
            memcpy(w->params, t->wk.w[0].params, (t->wk.n_params + t->wk.n_buffers) * sizeof(float));
    }

    algo_cfg ac;
    spec_algo_cfg(&ac, s);
    ac.net = &t->net;
    ac.total_epochs = (double)t->total_steps / t->spe;
    if ((rc = algo_init(&t->algo, &ac, &t->wk, e))) return rc;
    spec_netmodel_cfg(&comm->net, s);
    spec_sgd_cfg(&t->sgd, s);
    spec_lr_schedule(&t->sched, s, t->spe, t->total_steps);

    if (o->resume && (rc = load_resume(t, o->resume, e))) return rc;
    if (is_root(t) && (rc = metrics_open(&t->mw, s->run.out_dir, o->resume ? t->step : -1, e)))
        return rc;
    t->t_mark = t->wall;
    return 0;
}

static void teardown(trainer *t) {
    metrics_close(&t->mw);
    rundir_close(&t->dir);
    algo_free(&t->algo);
    sam_free(&t->sam);
    workers_free(&t->wk);
    net_ws_free(&t->ws);
    net_free(&t->net);
    dataset_free(&t->train);
    dataset_free(&t->test);
    sampler_free(&t->sampler);
    free(t->labels);
    free(t->idx);
    free(t->spec_yaml);
}

static void print_summary(trainer *t, FILE *f, double elapsed) {
    const spec_t *s = t->s;
    const metrics_row *m = &t->last;
    char desc[256];
    net_describe(&t->net, desc, sizeof desc);
    double ddp_bytes = (double)t->step * t->wk.n_params * sizeof(double); /* as comm.c counts */
    fprintf(f, "dppf train: %s\n", desc);
    fprintf(f, "  data        %s: %d train / %d test samples\n", dataset_name(s->data.dataset), t->train.n,
            t->test.n);
    if (s->data.partition != PART_IID) {
        int64_t lo = INT64_MAX, hi = 0;
        for (int w = 0; w < t->M; w++) {
            int64_t n = t->sampler.start[w + 1] - t->sampler.start[w];
            lo = n < lo ? n : lo, hi = n > hi ? n : hi;
        }
        fprintf(f, "  partition   %s", s->data.partition == PART_DIRICHLET ? "dirichlet" : "shards");
        if (s->data.partition == PART_DIRICHLET) fprintf(f, " alpha %g", (double)s->data.dirichlet_alpha);
        else fprintf(f, " %d per worker", s->data.shards_per_worker);
        fprintf(f, ": %lld..%lld samples per worker, label skew %.3f (mean total-variation distance "
                   "to the whole set's mix; see partition.csv)\n",
                (long long)lo, (long long)hi, sampler_skew(&t->sampler));
    }
    fprintf(f, "  run         %d worker%s, %s", t->M, t->M > 1 ? "s" : "", algo_name(s->dist.algorithm));
    if (s->dist.algorithm != ALGO_DDP) fprintf(f, " tau=%d", s->dist.tau);
    if (s->dist.algorithm == ALGO_DPPF) fprintf(f, " pull=%g push=%g", s->dist.pull, s->dist.push);
    fprintf(f, ", batch %d per worker, %lld steps (%.2f epochs), %d rank%s\n", t->B,
            (long long)t->step, (double)t->step / t->spe, t->comm->size, t->comm->size > 1 ? "s" : "");
    fprintf(f, "  result      test acc %.4f  test loss %.4f  train acc %.4f  train loss %.4f\n",
            m->test_acc, m->test_loss, m->train_acc, m->train_loss);
    if (t->M > 1) fprintf(f, "  workers     mean test acc %.4f, spread %.4g (max %.4g)\n", m->worker_test_acc, m->spread_mean, m->spread_max);
    fprintf(f, "  comm        %llu rounds, %.2f MB per worker (ddp: %lld rounds, %.2f MB)%s%s\n",
            (unsigned long long)t->comm->rounds, t->comm->bytes / 1e6, (long long)t->step,
            t->M > 1 ? ddp_bytes / 1e6 : 0.0, t->comm->size > 1 ? "; means over ranks by " : "",
            t->comm->size > 1 ? comm_sync_path(t->comm) : "");
    fprintf(f, "  time        %.1f s training, %.1f s total, %.0f samples/s\n", t->wall, elapsed,
            t->wall > 0 ? (double)t->step * t->M * t->B / t->wall : 0);
    if (t->gov.n_cand > 1)
        fprintf(f, "  threads     %d, fewer on %ld of %ld steps (%ld probes; run.adapt_threads)\n",
                t->gov.cand[0], t->gov.fewer, t->gov.steps, t->gov.probes);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) /* ru_maxrss is in KiB on Linux */
        fprintf(f, "  memory      peak RSS %.1f MiB (workspace %.1f MiB)\n", ru.ru_maxrss / 1024.0,
                t->ws.bytes / 1048576.0);
    fprintf(f, "  outputs     %s/{spec.yaml,metrics.csv,checkpoint.bin,curves.png}\n", s->run.out_dir);
}

int train_run(const spec_t *s, const train_opts *o, comm_t *comm, dp_err *e) {
    trainer t;
    double t0 = now_seconds();
    int rc = setup(&t, s, o, comm, e);
    if (rc) {
        teardown(&t);
        return rc;
    }
    int64_t start = t.step;
    int stop = 0;
    while (!rc && !stop && t.step < t.total_steps) {
        gemm_use_threads(governor_threads(&t.gov));
        double ts = now_seconds();
        rc = train_step(&t, e);
        double dt = now_seconds() - ts;
        governor_record(&t.gov, t.compute_s);
        t.wall += dt;
        /* One worker's compute per step: given, or this rank's step shared by its workers. */
        if (s->net.model != NETMODEL_NONE)
            t.modeled_compute += s->net.step_time_s > 0 ? s->net.step_time_s : dt / comm->local;
        if (rc) break;
        int epoch_end = t.step % t.spe == 0;
        int ckpt = epoch_end && s->run.checkpoint_every > 0 &&
                   (t.step / t.spe) % s->run.checkpoint_every == 0 && t.step < t.total_steps;
        /* Checkpoints coincide with evaluations so resumed runs log identical rows. */
        if (t.step % t.eval_interval == 0 || t.step == t.total_steps || ckpt) rc = evaluate(&t, 1, e);
        if (!rc && ckpt) {
            char name[64];
            snprintf(name, sizeof name, "checkpoint-e%lld.bin", (long long)(t.step / t.spe));
            rc = save_checkpoint(&t, name, e);
            if (!rc) rc = save_checkpoint(&t, "checkpoint.bin", e);
        }
        /* A stop request ends the run after this step; every rank agrees on
         * the step (mpirun delivers the signal to each at its own moment). */
        stop = o->stop ? *o->stop : 0;
        if (!rc && comm->mpi && comm->size > 1) stop = comm_agree_error(comm, stop);
        if (report_wants_status(t.report)) {
            char extra[96];
            snprintf(extra, sizeof extra, "epoch %.2f loss %.4f",
                     (double)t.step / t.spe, t.interval[2] > 0 ? t.interval[0] / (t.interval[2] / t.B) : 0.0);
            report_status(t.report, "train", t.step, t.total_steps, extra);
        }
    }
    /* Resumed a finished run: report it, but its last row is already logged. */
    if (!rc && !stop && t.step == start) rc = evaluate(&t, 0, e);
    if (!rc) rc = save_checkpoint(&t, "checkpoint.bin", e);
    if (!rc && stop) {
        rc = dp_fail(e, stop == SIGINT ? DP_ESIGINT : DP_ESIGTERM,
                     "stopped by %s at step %lld (epoch %.2f) of %lld; '%s' holds the run: continue "
                     "it with dppf train --resume %s",
                     stop == SIGINT ? "SIGINT" : "SIGTERM", (long long)t.step, (double)t.step / t.spe,
                     (long long)t.total_steps, t.last_ckpt, t.last_ckpt);
        teardown(&t);
        return rc;
    }
    if (!rc && is_root(&t)) {
        /* The training-curves picture; a failure to draw it does not fail the run. */
        char csv[SPEC_PATH + 32], png[SPEC_PATH + 32];
        snprintf(csv, sizeof csv, "%s/metrics.csv", s->run.out_dir);
        snprintf(png, sizeof png, "%s/curves.png", s->run.out_dir);
        const char *paths[1] = {csv};
        dp_err pe = {0};
        metrics_close(&t.mw);
        plot_output po = {.path = png, .format = PLOT_FMT_PNG, .command = o->command, .spec = t.spec_yaml};
        if (plot_metrics(paths, 1, NULL, &po, &pe)) report_warn(o->report, "%s", pe.msg);
    }
    if (!rc && is_root(&t) && o->summary) print_summary(&t, o->summary, now_seconds() - t0);
    teardown(&t);
    return rc;
}
