/* train.c - the training loop shared by every algorithm.
 *
 * Per step, every local worker draws its batch, runs forward and backward
 * (all in-process workers share one workspace), the algorithm may average the
 * gradients (ddp), every worker takes its SGD step, and the algorithm may sync
 * the parameters (localsgd, easgd, qsr, dppf). Data order: one permutation per
 * epoch from (seed, epoch); at step s worker i takes block s*M + i of it, so
 * M workers at batch B see exactly the samples one worker at batch M*B sees. */
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
#include "runstate.h"
#include "spec_map.h"
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
    int32_t *perm, *labels, *idx;
    int64_t spe, total_steps, eval_interval, step, perm_epoch;
    int M, B;
    double wall;                    /* training seconds so far (excl. evaluation) */
    double run_loss, run_correct, run_samples; /* since the last evaluation */
    double t_mark;                  /* wall at the last evaluation */
    metrics_row last;               /* the last evaluation */
    metrics_writer mw;
    const dp_report *report;
    char *spec_yaml;
    char last_ckpt[SPEC_PATH + 64]; /* the newest complete checkpoint, "" if none */
    int64_t last_ckpt_step;
} trainer;

static int is_root(const trainer *t) { return t->comm->rank == 0; }

static int mkdir_p(const char *path, dp_err *e) {
    char buf[SPEC_PATH];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return dp_fail(e, DP_EIO, "cannot create folder '%s': %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return dp_fail(e, DP_EIO, "cannot create run folder '%s': %s", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return dp_fail(e, DP_EIO, "run.out_dir '%s' exists and is not a folder", buf);
    if (access(buf, W_OK) != 0)
        return dp_fail(e, DP_EIO, "run folder '%s' is not writable: %s", buf, strerror(errno));
    return 0;
}

static int write_text_atomic(const char *path, const char *text, dp_err *e) {
    return atomic_write_text(path, text, e);
}

/* Is `name[0..len)` one of the files a run writes? */
static int is_run_output(const char *name, size_t len) {
    static const char *const fixed[] = {"spec.yaml", "metrics.csv", "checkpoint.bin", "curves.png"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strlen(fixed[i]) == len && memcmp(name, fixed[i], len) == 0) return 1;
    size_t k = strlen("checkpoint-e");
    if (len <= k + 4 || memcmp(name, "checkpoint-e", k) != 0 || memcmp(name + len - 4, ".bin", 4))
        return 0;
    for (size_t i = k; i < len - 4; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return 1;
}

/* Outputs are written as "<name>.tmp.<pid>" and renamed; a process killed
 * mid-write leaves its temp file behind. Those of dead processes are removed
 * (best effort) so they neither pile up nor get taken for results; a live
 * writer's are left alone. */
static void remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *tmp = strstr(de->d_name, ".tmp.");
        if (!tmp || !is_run_output(de->d_name, (size_t)(tmp - de->d_name))) continue;
        char *end;
        long pid = strtol(tmp + 5, &end, 10);
        if (end == tmp + 5 || *end || pid <= 0) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char path[SPEC_PATH + 300];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        (void)unlink(path);
    }
    closedir(d);
}

static int prepare_run_dir(trainer *t, const train_opts *o, dp_err *e) {
    const char *dir = t->s->run.out_dir;
    int rc = mkdir_p(dir, e);
    if (rc) return rc;
    remove_stale_temps(dir);
    char path[SPEC_PATH + 32];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (!o->resume && !o->force && access(path, F_OK) == 0)
        return dp_fail(e, DP_EUSAGE,
                       "run folder '%s' already holds a run (metrics.csv); use --force to "
                       "overwrite it, --resume to continue it, or set run.out_dir",
                       dir);
    snprintf(path, sizeof path, "%s/spec.yaml", dir);
    /* The build as a comment line on top: what made this run. Not part of
     * spec_to_yaml's text, which checkpoints store and must not depend on it. */
    char build[1024];
    build_info_line(build, sizeof build);
    size_t n = strlen(build) + strlen(t->spec_yaml) + 32;
    char *text = dp_calloc(n, 1, "spec.yaml", e);
    if (!text) return DP_ENOMEM;
    snprintf(text, n, "# built by %s\n%s", build, t->spec_yaml);
    rc = write_text_atomic(path, text, e);
    free(text);
    return rc;
}

/* The run's state as the checkpoint module sees it. */
static run_state state_of(trainer *t) {
    return (run_state){.spec_yaml = t->spec_yaml, .wk = &t->wk, .algo = &t->algo, .comm = t->comm,
                       .step = t->step, .steps_per_epoch = t->spe, .wall = t->wall};
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
    char ckpt[SPEC_PATH + 128];
    if (t->last_ckpt[0])
        snprintf(ckpt, sizeof ckpt, "the last checkpoint, '%s' (step %lld), is intact",
                 t->last_ckpt, (long long)t->last_ckpt_step);
    else
        snprintf(ckpt, sizeof ckpt, "no checkpoint was written yet");
    return dp_fail(e, DP_ENUMERIC,
                   "training diverged at step %lld (epoch %.2f), worker %d: %s; stopping (lower "
                   "optim.lr, now %g, or add optim.warmup_epochs); %s",
                   (long long)step, (double)step / t->spe, worker, what, t->s->optim.lr, ckpt);
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
    eval_result test = {0}, train = {0};
    if (is_root(t)) {
        eval_model(&t->net, &t->ws, t->wk.avg, t->wk.avg + np, &t->test, &t->bc, t->labels, t->idx,
                   &test);
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
    double sums[4] = {t->run_loss, t->run_correct, t->run_samples, wacc};
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
    t->run_loss = t->run_correct = t->run_samples = 0;
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
    int64_t epoch = t->step / t->spe, pos = t->step % t->spe;
    if (epoch != t->perm_epoch) {
        epoch_permutation(t->perm, t->train.n, t->s->run.seed, epoch);
        t->perm_epoch = epoch;
    }
    double fepoch = (double)t->step / t->spe;
    float lr = lr_at(&t->sched, t->step);
    for (int k = 0; k < t->wk.local; k++) {
        worker_t *w = &t->wk.w[k];
        const int32_t *idx = t->perm + (pos * t->M + w->index) * t->B;
        batch_fill(net_input(&t->ws), t->labels, &t->train, idx, t->B, &t->bc, 1, &w->rng);
        rng_t rng0 = w->rng; /* to replay this forward pass if it fails */
        int correct = 0;
        float loss = net_forward(&t->net, &t->ws, w->params, w->buffers, t->labels, t->B, 1,
                                 &w->rng, &correct);
        if (!isfinite(loss)) return nonfinite_loss(t, w, rng0, loss, e);
        t->run_loss += loss;
        t->run_correct += correct;
        t->run_samples += t->B;
        memset(w->grads, 0, t->wk.n_params * sizeof(float));
        net_backward(&t->net, &t->ws, w->params, w->grads, t->labels, t->B);
    }
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

static int setup(trainer *t, const spec_t *s, const train_opts *o, comm_t *comm, dp_err *e) {
    memset(t, 0, sizeof *t);
    t->s = s;
    t->comm = comm;
    t->M = s->dist.workers;
    t->B = s->optim.batch_size;
    t->perm_epoch = -1;
    t->last_ckpt_step = -1;
    t->report = comm->rank == 0 ? o->report : NULL;
    /* Auto: this machine's CPUs shared among its ranks, so one process uses
     * every core and mpirun -np <cores> gives the faster layout of one thread
     * per rank (README, Performance). Results do not depend on the count. */
    gemm_set_threads(comm_threads(s->run.threads, comm));

    t->spec_yaml = spec_to_yaml(s, e);
    if (!t->spec_yaml) return e->code ? e->code : DP_ENOMEM;
    int rc = 0;
    if (is_root(t)) rc = prepare_run_dir(t, o, e);
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

    model_cfg mc;
    spec_model_cfg(&mc, s, t->train.c, t->train.h, t->train.w, t->train.classes);
    if ((rc = net_build(&t->net, &mc, e))) return rc;
    if ((rc = net_ws_alloc(&t->ws, &t->net, t->B, e))) return rc;
    if ((rc = workers_alloc(&t->wk, comm, t->net.n_params, t->net.n_buffers, s->run.seed, e)))
        return rc;
    t->perm = dp_calloc((size_t)t->train.n, sizeof(int32_t), "the epoch permutation", e);
    t->labels = dp_calloc((size_t)t->B, sizeof(int32_t), "labels", e);
    t->idx = dp_calloc((size_t)t->B, sizeof(int32_t), "indices", e);
    if (!t->perm || !t->labels || !t->idx) return DP_ENOMEM;

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
    if ((rc = algo_init(&t->algo, &ac, &t->wk, e))) return rc;
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
    algo_free(&t->algo);
    workers_free(&t->wk);
    net_ws_free(&t->ws);
    net_free(&t->net);
    dataset_free(&t->train);
    dataset_free(&t->test);
    free(t->perm);
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
    fprintf(f, "  run         %d worker%s, %s", t->M, t->M > 1 ? "s" : "", algo_name(s->dist.algorithm));
    if (s->dist.algorithm != ALGO_DDP) fprintf(f, " tau=%d", s->dist.tau);
    if (s->dist.algorithm == ALGO_DPPF) fprintf(f, " pull=%g push=%g", s->dist.pull, s->dist.push);
    fprintf(f, ", batch %d per worker, %lld steps (%.2f epochs), %d rank%s\n", t->B,
            (long long)t->step, (double)t->step / t->spe, t->comm->size, t->comm->size > 1 ? "s" : "");
    fprintf(f, "  result      test acc %.4f  test loss %.4f  train acc %.4f  train loss %.4f\n",
            m->test_acc, m->test_loss, m->train_acc, m->train_loss);
    if (t->M > 1) fprintf(f, "  workers     mean test acc %.4f, spread %.4g (max %.4g)\n", m->worker_test_acc, m->spread_mean, m->spread_max);
    fprintf(f, "  comm        %llu rounds, %.2f MB per worker (ddp: %lld rounds, %.2f MB)\n",
            (unsigned long long)t->comm->rounds, t->comm->bytes / 1e6, (long long)t->step,
            t->M > 1 ? ddp_bytes / 1e6 : 0.0);
    fprintf(f, "  time        %.1f s training, %.1f s total, %.0f samples/s\n", t->wall, elapsed,
            t->wall > 0 ? (double)t->step * t->M * t->B / t->wall : 0);
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
    while (!rc && t.step < t.total_steps) {
        double ts = now_seconds();
        rc = train_step(&t, e);
        t.wall += now_seconds() - ts;
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
        if (report_wants_status(t.report)) {
            char extra[96];
            snprintf(extra, sizeof extra, "epoch %.2f loss %.4f",
                     (double)t.step / t.spe, t.run_samples > 0 ? t.run_loss / (t.run_samples / t.B) : 0.0);
            report_status(t.report, "train", t.step, t.total_steps, extra);
        }
    }
    /* Resumed a finished run: report it, but its last row is already logged. */
    if (!rc && t.step == start) rc = evaluate(&t, 0, e);
    if (!rc) rc = save_checkpoint(&t, "checkpoint.bin", e);
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
