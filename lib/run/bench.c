/* bench.c - throughput benchmark of the built-in models (see bench.h).
 *
 * Everything a measurement touches (model, workspace, parameters, the random
 * batch, the GEMM replay buffers) is allocated before its timed loop; the
 * loops themselves only call the same functions a training run calls. */
#include <math.h>
#include <omp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "conv.h"
#include "gemm.h"
#include "kern_record.h"
#include "model.h"
#include "net.h"
#include "optim.h"
#include "clock.h"
#include "governor.h"
#include "rng.h"
#include "spec.h"
#include "spec_map.h"

#define MAX_ITEMS 32 /* room for every model of the table (nn/models.h) in one list */
#define PEAK_DIM 1024
#define BENCH_LR 0.01f /* small: random labels must not drive the weights to Inf/NaN */

/* ---- options ------------------------------------------------------------- */

/* Every architecture of the model table (nn/models.h) is a benchmark model
 * (model_of says which network each name stands for). model_names: "mlp, cnn,
 * resnet8, ...", the table's names, for the usage error. */
static void model_names(char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < MODEL_COUNT && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", model_name(i));
        if (w < 0) break;
        len += (size_t)w;
    }
}

/* Splits a comma-separated list into items (copied into `buf`). */
static int split_list(const char *list, const char *what, char *buf, size_t cap,
                      const char **items, int *n, dp_err *e) {
    if (strlen(list) >= cap) return dp_fail(e, DP_EUSAGE, "bench: %s list too long", what);
    strcpy(buf, list);
    *n = 0;
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (!*p) return dp_fail(e, DP_EUSAGE, "bench: empty item in %s list '%s'", what, list);
        if (*n == MAX_ITEMS)
            return dp_fail(e, DP_EUSAGE, "bench: more than %d %s in '%s'", MAX_ITEMS, what, list);
        items[(*n)++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

typedef struct {
    const char *models[MAX_ITEMS];
    int n_models;
    int threads[MAX_ITEMS];
    int n_threads;
    int steps, warmup, batch, adapt;
    char mbuf[512], tbuf[256];
} plan_t;

static int make_plan(const bench_opts *o, plan_t *p, dp_err *e) {
    memset(p, 0, sizeof *p);
    if (!o->models || !*o->models) return dp_fail(e, DP_EUSAGE, "bench: no models given");
    if (!o->threads || !*o->threads) return dp_fail(e, DP_EUSAGE, "bench: no thread counts given");
    int rc = split_list(o->models, "models", p->mbuf, sizeof p->mbuf, p->models, &p->n_models, e);
    if (rc) return rc;
    for (int i = 0; i < p->n_models; i++) {
        if (model_find(p->models[i]) < 0) {
            char names[512];
            model_names(names, sizeof names);
            return dp_fail(e, DP_EUSAGE, "bench: unknown model '%s' (choose from %s)", p->models[i],
                           names);
        }
    }
    const char *titems[MAX_ITEMS];
    rc = split_list(o->threads, "threads", p->tbuf, sizeof p->tbuf, titems, &p->n_threads, e);
    if (rc) return rc;
    for (int i = 0; i < p->n_threads; i++) {
        char *end;
        long v = strtol(titems[i], &end, 10);
        if (*end || v < 1 || v > 256)
            return dp_fail(e, DP_EUSAGE, "bench: thread count '%s' is not an integer in [1, 256]",
                           titems[i]);
        p->threads[i] = (int)v;
    }
    p->steps = o->steps, p->warmup = o->warmup, p->batch = o->batch, p->adapt = o->adapt;
    if (p->steps < 1 || p->steps > 1000000)
        return dp_fail(e, DP_EUSAGE, "bench: steps must be in [1, 1000000], got %d", p->steps);
    if (p->warmup < 0 || p->warmup > 1000000)
        return dp_fail(e, DP_EUSAGE, "bench: warmup must be in [0, 1000000], got %d", p->warmup);
    if (p->batch < 1 || p->batch > 65536)
        return dp_fail(e, DP_EUSAGE, "bench: batch must be in [1, 65536], got %d", p->batch);
    return 0;
}

/* The benchmark models, so that bench/bench_torch.py builds exactly the same
 * networks. resnet20, cnn and mlp are pinned field by field (the rows of
 * bench/guard-baseline.csv; cnn and mlp on 1x28x28). Every other name is its
 * architecture as a spec of only `model.arch: NAME` gives it, on 3x32x32
 * inputs with 10 classes: the spec's defaults (batchnorm, BN momentum 0.1 and
 * eps 1e-5, wrn widen 10, pyramidnet alpha 48 with basic blocks, no dropout),
 * and depth and base_width left at 0, which net_build resolves to the
 * table's values (model_cfg_resolve): resnet18/34 and vgg16 64 channels wide,
 * the others 16; wrn depth 28, pyramidnet 110. */
static void model_of(model_cfg *m, const char *model) {
    if (strcmp(model, "resnet20") != 0 && strcmp(model, "cnn") != 0 && strcmp(model, "mlp") != 0) {
        spec_t s;
        spec_defaults(&s);
        s.model.arch = model_find(model);
        spec_model_cfg(m, &s, 3, 32, 32, 10);
        return;
    }
    memset(m, 0, sizeof *m);
    m->bn_momentum = 0.1f;
    m->bn_eps = 1e-5f;
    m->classes = 10;
    m->batchnorm = 1;
    if (strcmp(model, "resnet20") == 0) {
        m->arch = MODEL_RESNET20;
        m->base_width = 16;
        m->in_c = 3, m->in_h = 32, m->in_w = 32;
    } else if (strcmp(model, "cnn") == 0) {
        m->arch = MODEL_CNN;
        m->n_widths = 2;
        m->widths[0] = 32;
        m->widths[1] = 64;
        m->fc = 128;
        m->in_c = 1, m->in_h = 28, m->in_w = 28;
    } else { /* mlp */
        m->arch = MODEL_MLP;
        m->n_hidden = 1;
        m->hidden[0] = 256;
        m->in_c = 1, m->in_h = 28, m->in_w = 28;
    }
}

/* ---- the GEMM calls of one step ------------------------------------------ */

/* Distinct calls one step may record (consecutive identical calls are one
 * entry): a ResNet-56 makes about 170. */
#define CALLS_MAX 4096

/* The calls of one train step and of one eval forward, recorded from the
 * kernels (kern_record.h) while they ran, and the operands to replay them on. */
typedef struct {
    kern_recorder train, eval;
    float *A, *B, *C, *ep; /* grown to the largest call of either list */
    size_t na, nb, nc, nep;
    double flops_train;
    rng_t fill;
} replay_t;

static size_t image_floats(const conv_geom *g) { return (size_t)g->C * g->H * g->W; }

/* What one repetition of a per-image call (KERN_GEMM, KERN_CONV_IMAGE) reads
 * as B: repetition j reads the j-th, as the layer's loop over images does.
 * The batch kinds cover their images in one call; their repetitions (layers
 * of the same shape one after the other) reuse the operands. */
static size_t b_step(const kern_call *c) {
    switch (c->kind) {
    case KERN_GEMM: return (size_t)(c->trans_b ? c->N : c->K) * c->ldb;
    case KERN_CONV_IMAGE: return image_floats(&c->g);
    default: return 0;
    }
}

/* What one calling thread writes as C for a per-image call: the layers give
 * each thread its own column matrix or output; 0 for the batch kinds. */
static size_t c_step(const kern_call *c) {
    return c->kind == KERN_GEMM || c->kind == KERN_CONV_IMAGE ? (size_t)c->M * c->ldc : 0;
}

/* Floats each operand of a call spans, over all its repetitions, threads,
 * and the explicit (im2col'ed) operands of the BLIS replay. */
static void call_spans(const kern_call *c, int threads, size_t *a, size_t *b, size_t *cc) {
    const size_t mk = (size_t)c->M * c->K, kn = (size_t)c->K * c->N, mn = (size_t)c->M * c->N;
    size_t sa = mk, sb = kn, sc = mn;
    switch (c->kind) {
    case KERN_GEMM:
        sa = (size_t)(c->trans_a ? c->K : c->M) * c->lda;
        sb = b_step(c) * c->reps;
        sc = c_step(c) * (c->parallel ? threads : 1);
        break;
    case KERN_CONV_IMAGE:
        sa = (size_t)c->M * c->lda;
        sb = b_step(c) * c->reps;
        sc = c_step(c) * (c->parallel ? threads : 1);
        break;
    case KERN_CONV_BATCH:
    case KERN_CONV_DIRECT:
        sb = image_floats(&c->g) * c->images;
        sc = mn * c->images;
        break;
    case KERN_CONV_DW: /* A: the batch's output gradients */
    case KERN_CONV_DW_DIRECT:
        sa = mk * c->images;
        sb = image_floats(&c->g) * c->images;
        break;
    }
    *a = sa > mk ? sa : mk;
    *b = sb > kn ? sb : kn;
    *cc = sc > mn ? sc : mn;
}

/* Repetition j of c on thread t, through the kern/ function that ran it. */
static void replay_one(const replay_t *r, const kern_call *c, long j, int t) {
    const float *B = r->B + (size_t)j * b_step(c);
    float *C = r->C + (size_t)t * c_step(c);
    const conv_epilogue ep = {.scale = r->ep, .shift = r->ep, .relu = c->epilogue == 2, .pool = c->pool};
    switch (c->kind) {
    case KERN_GEMM:
        gemm(c->trans_a, c->trans_b, c->M, c->N, c->K, c->alpha, r->A, c->lda, B, c->ldb, c->beta,
             C, c->ldc);
        break;
    case KERN_CONV_IMAGE:
        conv_fwd_gemm_image(c->M, r->A, c->lda, B, &c->g, c->beta, C, c->ldc);
        break;
    case KERN_CONV_BATCH:
        conv_fwd_gemm_batch(c->M, c->images, r->A, r->B, &c->g, c->beta, r->C);
        break;
    case KERN_CONV_DIRECT:
        conv_fwd_direct(c->M, c->images, r->A, r->B, &c->g, c->beta, r->C,
                        c->epilogue ? &ep : NULL);
        break;
    case KERN_CONV_DW:
        conv_dw_gemm_batch(c->M, c->images, r->A, r->B, &c->g, r->C);
        break;
    case KERN_CONV_DW_DIRECT:
        conv_dw_direct(c->M, c->images, r->A, r->B, &c->g, r->C);
        break;
    }
}

/* As the step made it: calls recorded inside a parallel loop run that loop
 * again, one call per thread at a time. */
static void replay_call(const replay_t *r, const kern_call *c) {
    if (c->parallel) {
#pragma omp parallel for schedule(static)
        for (long j = 0; j < c->reps; j++) replay_one(r, c, j, omp_get_thread_num());
    } else {
        for (long j = 0; j < c->reps; j++) replay_one(r, c, j, 0);
    }
}

/* The same shapes, image by image, through BLIS's own driver on explicit
 * (already im2col'ed) operands: what BLIS itself reaches on them. */
static void replay_call_blis(const replay_t *r, const kern_call *c) {
    for (long j = 0; j < c->reps * c->images; j++) {
        switch (c->kind) {
        case KERN_GEMM:
            gemm_blis(c->trans_a, c->trans_b, c->M, c->N, c->K, c->alpha, r->A, c->lda, r->B,
                      c->ldb, c->beta, r->C, c->ldc);
            break;
        case KERN_CONV_DW: /* dout_n x col^T */
        case KERN_CONV_DW_DIRECT:
            gemm_blis(false, true, c->M, c->N, c->K, 1.0f, r->A, c->K, r->B, c->K, 1.0f, r->C,
                      c->N);
            break;
        default: /* a forward: weights x column matrix */
            gemm_blis(false, false, c->M, c->N, c->K, 1.0f, r->A, c->K, r->B, c->N, c->beta, r->C,
                      c->N);
            break;
        }
    }
}

static void replay(const replay_t *r, const kern_recorder *list, int blis) {
    for (int i = 0; i < list->n; i++)
        (blis ? replay_call_blis : replay_call)(r, &list->calls[i]);
}

/* Seconds per replayed list, after one untimed replay. */
static double time_replay(const replay_t *r, const kern_recorder *list, int blis, int reps) {
    replay(r, list, blis);
    double t0 = now_seconds();
    for (int i = 0; i < reps; i++) replay(r, list, blis);
    return (now_seconds() - t0) / reps;
}

static void fill_uniform(float *x, size_t n, rng_t *g, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)(2.0 * rng_uniform(g) - 1.0);
}

/* Large square SGEMM: what BLIS reaches with this many threads (GFLOP/s). */
static double peak_gflops(float *A, float *B, float *C) {
    const int d = PEAK_DIM;
    gemm(false, false, d, d, d, 1.0f, A, d, B, d, 0.0f, C, d);
    int reps = 0;
    double t0 = now_seconds(), t;
    do {
        gemm(false, false, d, d, d, 1.0f, A, d, B, d, 0.0f, C, d);
        reps++;
        t = now_seconds() - t0;
    } while (reps < 3 || t < 0.3);
    return 2.0 * d * d * d * reps / t * 1e-9;
}

/* ---- one model ----------------------------------------------------------- */

typedef struct {
    net_t net;
    net_ws ws;
    float *params, *grads, *mom, *buffers;
    int32_t *labels;
    replay_t rp;
    int B;
    char desc[256];
} model_t;

static void model_free(model_t *m) {
    net_ws_free(&m->ws);
    net_free(&m->net);
    free(m->params);
    free(m->grads);
    free(m->mom);
    free(m->buffers);
    free(m->labels);
    free(m->rp.train.calls);
    free(m->rp.eval.calls);
    free(m->rp.A);
    free(m->rp.B);
    free(m->rp.C);
    free(m->rp.ep);
    memset(m, 0, sizeof *m);
}

/* want_gemm: room to record the step's GEMM calls (the replay's operands
 * come when the calls are known, see replay_prepare). */
static int model_setup(model_t *m, const char *name, int B, int want_gemm, uint64_t seed,
                       dp_err *e) {
    model_cfg mc;
    int rc;
    memset(m, 0, sizeof *m);
    m->B = B;
    model_of(&mc, name);
    if ((rc = net_build(&m->net, &mc, e))) return rc;
    if ((rc = net_ws_alloc(&m->ws, &m->net, B, e))) goto fail;
    const net_t *n = &m->net;
    size_t np = n->n_params, nb = n->n_buffers ? n->n_buffers : 1;
    rc = DP_ENOMEM;
    if (!(m->params = dp_calloc(np, sizeof(float), "bench parameters", e))) goto fail;
    if (!(m->grads = dp_calloc(np, sizeof(float), "bench gradients", e))) goto fail;
    if (!(m->mom = dp_calloc(np, sizeof(float), "bench momentum", e))) goto fail;
    if (!(m->buffers = dp_calloc(nb, sizeof(float), "bench BN buffers", e))) goto fail;
    if (!(m->labels = dp_calloc((size_t)B, sizeof(int32_t), "bench labels", e))) goto fail;

    rng_t g;
    rng_init(&g, seed, RNG_STREAM_SYNTHETIC);
    float *x = net_input(&m->ws);
    size_t nx = (size_t)B * mc.in_c * mc.in_h * mc.in_w;
    for (size_t i = 0; i < nx; i++) x[i] = (float)rng_normal(&g);
    for (int i = 0; i < B; i++) m->labels[i] = (int32_t)rng_below(&g, (uint32_t)n->classes);
    net_describe(n, m->desc, sizeof m->desc);

    if (want_gemm) {
        kern_recorder *lists[2] = {&m->rp.train, &m->rp.eval};
        for (int i = 0; i < 2; i++) {
            if (!(lists[i]->calls = dp_calloc(CALLS_MAX, sizeof(kern_call), "bench GEMM calls", e)))
                goto fail;
            lists[i]->cap = CALLS_MAX;
        }
        rng_init(&m->rp.fill, seed, RNG_STREAM_SYNTHETIC + 2);
    }
    return 0;
fail:
    model_free(m);
    return rc;
}

/* *buf holds at least n floats, small random values (beta = 1 accumulation
 * over many replays stays far from overflow). */
static int grow(float **buf, size_t *have, size_t n, rng_t *g, const char *what, dp_err *e) {
    if (n <= *have) return 0;
    free(*buf);
    *have = 0;
    if (!(*buf = dp_calloc(n, sizeof(float), what, e))) return DP_ENOMEM;
    *have = n;
    fill_uniform(*buf, n, g, 0.1f);
    return 0;
}

/* Operands for every recorded call at this thread count, and the step's FLOPs. */
static int replay_prepare(replay_t *r, int threads, dp_err *e) {
    size_t na = 1, nb = 1, nc = 1, nep = 1;
    const kern_recorder *lists[2] = {&r->train, &r->eval};
    r->flops_train = 0.0;
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < lists[l]->n; i++) {
            const kern_call *c = &lists[l]->calls[i];
            size_t a, b, cc;
            call_spans(c, threads, &a, &b, &cc);
            if (a > na) na = a;
            if (b > nb) nb = b;
            if (cc > nc) nc = cc;
            if ((size_t)c->M > nep) nep = (size_t)c->M;
            if (l == 0) r->flops_train += kern_call_flops(c);
        }
    int rc;
    if ((rc = grow(&r->A, &r->na, na, &r->fill, "bench GEMM A", e))) return rc;
    if ((rc = grow(&r->B, &r->nb, nb, &r->fill, "bench GEMM B", e))) return rc;
    if ((rc = grow(&r->C, &r->nc, nc, &r->fill, "bench GEMM C", e))) return rc;
    return grow(&r->ep, &r->nep, nep, &r->fill, "bench epilogue", e);
}

typedef struct {
    double train_s, eval_s;   /* seconds per step */
    double gemm_train_s, gemm_eval_s;
    double blis_train_s;      /* the same GEMM shapes through bli_sgemm_ex */
    double peak;              /* GFLOP/s, 0 = not measured */
    double threads_used;      /* mean thread count of the timed train steps */
} result_t;

static float train_step(model_t *m, const sgd_cfg_t *cfg) {
    const net_t *n = &m->net;
    memset(m->grads, 0, n->n_params * sizeof(float));
    float loss = net_forward(n, &m->ws, m->params, m->buffers, m->labels, m->B, 1, NULL, NULL);
    net_backward(n, &m->ws, m->params, m->grads, m->labels, m->B);
    sgd_step(m->params, m->grads, m->mom, n->n_params, n->n_params_decay, BENCH_LR, cfg);
    return loss;
}

/* One more (untimed) train step and eval forward, with the kernels
 * recording their GEMM-level calls: exactly what a step runs at this thread
 * count, for the replay. */
static int record_calls(model_t *m, const sgd_cfg_t *cfg, dp_err *e) {
    kern_record_start(&m->rp.train);
    train_step(m, cfg);
    kern_record_stop();
    kern_record_start(&m->rp.eval);
    net_forward(&m->net, &m->ws, m->params, m->buffers, m->labels, m->B, 0, NULL, NULL);
    kern_record_stop();
    if (m->rp.train.dropped || m->rp.eval.dropped)
        return dp_fail(e, DP_ERUNTIME, "bench: %s: a step made more than %d distinct GEMM calls",
                       m->net.arch, CALLS_MAX);
    return replay_prepare(&m->rp, gemm_get_threads(), e);
}

/* One train step at the governor's thread count, timed for it. */
static float governed_step(model_t *m, const sgd_cfg_t *cfg, thread_governor *gov) {
    gemm_use_threads(governor_threads(gov));
    const double t0 = now_seconds();
    const float loss = train_step(m, cfg);
    governor_record(gov, now_seconds() - t0);
    return loss;
}

static int measure(model_t *m, const plan_t *p, uint64_t seed, result_t *r, dp_err *e) {
    const net_t *n = &m->net;
    const sgd_cfg_t cfg = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 0, .decoupled = 0};
    /* Same starting point for every thread count. */
    net_init(n, m->params, m->buffers, seed);
    memset(m->mom, 0, n->n_params * sizeof(float));

    /* With --adapt the governor sees the warm-up steps too, as a run's first steps. */
    const int threads = gemm_get_threads();
    thread_governor gov;
    governor_init(&gov, threads, p->adapt);
    float loss = 0.0f;
    for (int i = 0; i < p->warmup; i++) {
        loss = governed_step(m, &cfg, &gov);
        net_forward(n, &m->ws, m->params, m->buffers, m->labels, m->B, 0, NULL, NULL);
    }
    int rc;
    if (m->rp.train.calls && (rc = record_calls(m, &cfg, e))) return rc;
    double t0 = now_seconds(), used = 0;
    for (int i = 0; i < p->steps; i++) {
        used += governor_threads(&gov);
        loss = governed_step(m, &cfg, &gov);
    }
    r->train_s = (now_seconds() - t0) / p->steps;
    r->threads_used = used / p->steps;
    gemm_set_threads(threads);
    if (!isfinite(loss))
        return dp_fail(e, DP_ENUMERIC, "bench: %s: the training loss became %g; timings discarded",
                       n->arch, (double)loss);

    float eloss = 0.0f;
    t0 = now_seconds();
    for (int i = 0; i < p->steps; i++)
        eloss = net_forward(n, &m->ws, m->params, m->buffers, m->labels, m->B, 0, NULL, NULL);
    r->eval_s = (now_seconds() - t0) / p->steps;
    if (!isfinite(eloss))
        return dp_fail(e, DP_ENUMERIC, "bench: %s: the eval loss is %g; timings discarded",
                       n->arch, (double)eloss);

    if (m->rp.train.calls) {
        r->gemm_train_s = time_replay(&m->rp, &m->rp.train, 0, p->steps);
        r->gemm_eval_s = time_replay(&m->rp, &m->rp.eval, 0, p->steps);
        r->blis_train_s = time_replay(&m->rp, &m->rp.train, 1, p->steps);
    }
    return 0;
}

/* ---- output -------------------------------------------------------------- */

static void print_header(FILE *out, const plan_t *p, int csv, int gemm_on) {
    if (csv) {
        fprintf(out, "%s\n", BENCH_CSV_HEADER);
        return;
    }
    fprintf(out, "dppf bench: batch %d, %d warm-up + %d timed steps, synthetic data, "
                 "SGD momentum 0.9\n", p->batch, p->warmup, p->steps);
    fprintf(out, "  threads = threads for every layer and GEMM (BLIS micro-kernel: %s)\n",
            gemm_kernels());
    if (gemm_on)
        fprintf(out, "  gemm = the GEMM calls recorded in one real step, replayed standalone; "
                     "share = gemm time / step time\n");
    if (gemm_on)
        fprintf(out, "  step %%pk = the step's GEMM/convolution FLOPs per second against the peak "
                     "(a large square GEMM on as many threads)\n");
    fprintf(out, "\n%-12s %3s %5s %11s %11s %9s %9s %8s %8s %9s %9s %9s %8s\n", "model", "thr", "batch",
            "train img/s", "eval img/s", "train ms", "eval ms", "gemm %", "eval g%", "gemm GF/s",
            "BLIS GF/s", "peak GF/s", "step %pk");
}

static void print_row(FILE *out, const char *model, int threads, int B, const result_t *r,
                      const model_t *m, int csv) {
    double train_ips = B / r->train_s, eval_ips = B / r->eval_s;
    int g = m->rp.train.calls != NULL;
    double share = g ? r->gemm_train_s / r->train_s : 0;
    double eshare = g ? r->gemm_eval_s / r->eval_s : 0;
    double gflops = g ? m->rp.flops_train / r->gemm_train_s * 1e-9 : 0;
    double blis = g ? m->rp.flops_train / r->blis_train_s * 1e-9 : 0;
    /* the whole step's rate: what #19 measures against one core's peak */
    double step_share = g && r->peak > 0 ? m->rp.flops_train / r->train_s * 1e-9 / r->peak : 0;
    if (csv) {
        fprintf(out, "%s,%d,%d,%.1f,%.1f,%.3f,", model, threads, B, train_ips, eval_ips,
                r->train_s * 1e3);
        if (g)
            fprintf(out, "%.4f,%.2f,%.2f,%.2f,", share, gflops, r->peak, blis);
        else
            fprintf(out, ",,,,");
        fprintf(out, "%.2f,", r->threads_used);
        if (g && r->peak > 0) fprintf(out, "%.4f", step_share);
        fputc('\n', out);
    } else {
        fprintf(out, "%-12s %3d %5d %11.1f %11.1f %9.2f %9.2f", model, threads, B, train_ips,
                eval_ips, r->train_s * 1e3, r->eval_s * 1e3);
        if (g)
            fprintf(out, " %7.1f%% %7.1f%% %9.1f %9.1f %9.1f %7.1f%%", 100 * share, 100 * eshare,
                    gflops, blis, r->peak, 100 * step_share);
        else
            fprintf(out, " %8s %8s %9s %9s %9s %8s", "-", "-", "-", "-", "-", "-");
        fprintf(out, r->threads_used != threads ? "   (%.2f threads on average: --adapt)\n" : "\n",
                r->threads_used);
    }
    fflush(out);
}

int bench_run(const bench_opts *o, FILE *out, dp_err *e) {
    plan_t p;
    int rc = make_plan(o, &p, e);
    if (rc) return rc;
    const int gemm_on = !o->no_gemm;
    const int saved_threads = gemm_get_threads();
    double peak[MAX_ITEMS] = {0};
    float *pa = NULL, *pb = NULL, *pc = NULL;
    model_t m;
    memset(&m, 0, sizeof m);
    const size_t pn = (size_t)PEAK_DIM * PEAK_DIM;

    if (gemm_on) {
        rc = DP_ENOMEM;
        if (!(pa = dp_calloc(pn, sizeof(float), "bench peak GEMM A", e))) goto done;
        if (!(pb = dp_calloc(pn, sizeof(float), "bench peak GEMM B", e))) goto done;
        if (!(pc = dp_calloc(pn, sizeof(float), "bench peak GEMM C", e))) goto done;
        rng_t g;
        rng_init(&g, o->seed, RNG_STREAM_SYNTHETIC + 1);
        fill_uniform(pa, pn, &g, 1.0f);
        fill_uniform(pb, pn, &g, 1.0f);
    }
    print_header(out, &p, o->csv, gemm_on);
    for (int mi = 0; mi < p.n_models; mi++) {
        if ((rc = model_setup(&m, p.models[mi], p.batch, gemm_on, o->seed, e)))
            goto done;
        if (!o->csv) {
            const double MiB = 1048576.0, state = 3.0 * m.net.n_params * sizeof(float) / MiB;
            fprintf(out, "# %s\n#   memory: workspace %.1f MiB (backward needs %.1f MiB of it), parameters + "
                         "gradients + momentum %.1f MiB\n",
                    m.desc, m.ws.bytes / MiB, net_kept_bytes(&m.net, p.batch) / MiB, state);
        }
        for (int ti = 0; ti < p.n_threads; ti++) {
            gemm_set_threads(p.threads[ti]);
            if (gemm_on && peak[ti] == 0) peak[ti] = peak_gflops(pa, pb, pc);
            result_t r = {.peak = peak[ti]};
            if ((rc = measure(&m, &p, o->seed, &r, e))) goto done;
            print_row(out, p.models[mi], p.threads[ti], p.batch, &r, &m, o->csv);
        }
        model_free(&m);
    }
    rc = 0;
done:
    model_free(&m);
    free(pa);
    free(pb);
    free(pc);
    gemm_set_threads(saved_threads);
    return rc;
}
