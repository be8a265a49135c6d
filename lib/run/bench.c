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
#include "gemm.h"
#include "net.h"
#include "optim.h"
#include "clock.h"
#include "rng.h"
#include "spec.h"

#define MAX_ITEMS 16
#define PEAK_DIM 1024
#define BENCH_LR 0.01f /* small: random labels must not drive the weights to Inf/NaN */

/* ---- options ------------------------------------------------------------- */

static const char *const MODELS[] = {"resnet20", "cnn", "mlp"};
#define N_MODELS (int)(sizeof MODELS / sizeof MODELS[0])

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
    int steps, warmup, batch;
    char mbuf[256], tbuf[256];
} plan_t;

static int make_plan(const bench_opts *o, plan_t *p, dp_err *e) {
    memset(p, 0, sizeof *p);
    if (!o->models || !*o->models) return dp_fail(e, DP_EUSAGE, "bench: no models given");
    if (!o->threads || !*o->threads) return dp_fail(e, DP_EUSAGE, "bench: no thread counts given");
    int rc = split_list(o->models, "models", p->mbuf, sizeof p->mbuf, p->models, &p->n_models, e);
    if (rc) return rc;
    for (int i = 0; i < p->n_models; i++) {
        int ok = 0;
        for (int m = 0; m < N_MODELS; m++) ok |= strcmp(p->models[i], MODELS[m]) == 0;
        if (!ok)
            return dp_fail(e, DP_EUSAGE, "bench: unknown model '%s' (choose from resnet20, cnn, mlp)",
                           p->models[i]);
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
    p->steps = o->steps, p->warmup = o->warmup, p->batch = o->batch;
    if (p->steps < 1 || p->steps > 1000000)
        return dp_fail(e, DP_EUSAGE, "bench: steps must be in [1, 1000000], got %d", p->steps);
    if (p->warmup < 0 || p->warmup > 1000000)
        return dp_fail(e, DP_EUSAGE, "bench: warmup must be in [0, 1000000], got %d", p->warmup);
    if (p->batch < 1 || p->batch > 65536)
        return dp_fail(e, DP_EUSAGE, "bench: batch must be in [1, 65536], got %d", p->batch);
    return 0;
}

/* The benchmark models, pinned field by field (not left to spec defaults) so
 * that bench/bench_torch.py builds exactly the same networks. */
static void model_spec(spec_t *s, const char *model, int *c, int *h, int *w) {
    spec_defaults(s);
    s->model.dropout = 0.0f;
    s->model.bn_momentum = 0.1f;
    s->model.bn_eps = 1e-5f;
    s->optim.label_smoothing = 0.0f;
    snprintf(s->model.arch, sizeof s->model.arch, "%s", model);
    if (strcmp(model, "resnet20") == 0) {
        s->model.base_width = 16;
        *c = 3, *h = 32, *w = 32;
    } else if (strcmp(model, "cnn") == 0) {
        s->model.n_widths = 2;
        s->model.widths[0] = 32;
        s->model.widths[1] = 64;
        s->model.fc = 128;
        s->model.batchnorm = 1;
        *c = 1, *h = 28, *w = 28;
    } else { /* mlp */
        s->model.n_hidden = 1;
        s->model.hidden[0] = 256;
        s->model.batchnorm = 1;
        *c = 1, *h = 28, *w = 28;
    }
}

/* ---- the GEMM calls of one step ------------------------------------------ */

/* The GEMM work of one layer as lib/layers.c does it, `reps` times per step:
 * a plain gemm() call (linear layers, 1x1 convolutions), or one of the
 * convolution GEMMs, which pack their im2col operand straight from the
 * images (packing is part of any GEMM; the image is simply its source). */
typedef enum {
    CALL_DENSE,    /* gemm(ta, tb, M, N, K, ...) */
    CALL_CONV_FWD, /* gemm_conv_batch, else gemm_conv per image in parallel: the forward,
                      and the stride-1 input gradient as a convolution of dout */
    CALL_CONV_DW,  /* gemm_conv_dw over the batch */
    CALL_CONV_DIN, /* images in parallel: W^T dout_n into a column matrix (col2im not counted) */
} call_kind;

typedef struct {
    call_kind kind;
    bool ta, tb;
    int M, N, K, lda, ldb, ldc;
    float beta;
    int reps;
    int backward; /* 0: forward (also run by eval), 1: backward only */
    conv_geom g;
} gemm_call;

static void add_call(gemm_call *v, int *n, bool ta, bool tb, int M, int N, int K, int lda, int ldb,
                     int ldc, float beta, int reps, int backward) {
    v[(*n)++] = (gemm_call){CALL_DENSE, ta, tb, M, N, K, lda, ldb, ldc, beta, reps, backward, {0}};
}

static void add_conv(gemm_call *v, int *n, call_kind kind, const conv_shape *s, int B, float beta,
                     int backward) {
    const int OC = s->OC, P = s->OH * s->OW, CKK = s->C * s->KH * s->KW;
    gemm_call c = {.kind = kind, .beta = beta, .reps = B, .backward = backward};
    c.g = (conv_geom){.C = s->C, .H = s->H, .W = s->W, .KH = s->KH, .KW = s->KW,
                           .stride = s->stride, .pad = s->pad, .OH = s->OH, .OW = s->OW};
    if (kind == CALL_CONV_FWD && backward) {
        /* The stride-1 input gradient as a convolution of dout (layers.c,
         * conv_din_as_conv): OC -> C channels, OH x OW -> H x W. */
        c.g = (conv_geom){.C = OC, .H = s->OH, .W = s->OW, .KH = s->KH, .KW = s->KW,
                               .stride = 1, .pad = s->KH - 1 - s->pad, .OH = s->H, .OW = s->W};
        c.M = s->C, c.N = s->H * s->W, c.K = OC * s->KH * s->KW;
        v[(*n)++] = c;
        return;
    }
    if (kind == CALL_CONV_FWD) c.M = OC, c.N = P, c.K = CKK;
    if (kind == CALL_CONV_DW) c.M = OC, c.N = CKK, c.K = P;
    if (kind == CALL_CONV_DIN) c.M = CKK, c.N = P, c.K = OC;
    v[(*n)++] = c;
}

/* Mirrors conv2d_forward/backward and linear_forward/backward in layers.c;
 * backward computes dW for every layer and dX for all but the layer reading
 * the network input (net_backward passes din = NULL there). At most 3 calls
 * per op. */
static int step_gemms(const net_t *n, int B, gemm_call *v) {
    int k = 0;
    for (int i = 0; i < n->n_ops; i++) {
        const net_op *op = &n->ops[i];
        int need_din = op->in != 0;
        if (op->kind == OP_CONV) {
            const conv_shape *s = &op->conv;
            int OC = s->OC, P = s->OH * s->OW, CKK = s->C * s->KH * s->KW;
            float beta = op->b >= 0 ? 1.0f : 0.0f;
            if (s->KH == 1 && s->KW == 1 && s->stride == 1 && s->pad == 0) { /* on the image itself */
                add_call(v, &k, false, false, OC, P, CKK, CKK, P, P, beta, B, 0);
                add_call(v, &k, false, true, OC, CKK, P, P, P, CKK, 1.0f, B, 1);
                if (need_din) add_call(v, &k, true, false, CKK, P, OC, CKK, P, P, 1.0f, B, 1);
            } else {
                add_conv(v, &k, CALL_CONV_FWD, s, B, beta, 0);
                add_conv(v, &k, CALL_CONV_DW, s, B, 1.0f, 1);
                if (need_din && s->stride == 1 && s->KH == s->KW && s->pad <= s->KH - 1)
                    add_conv(v, &k, CALL_CONV_FWD, s, B, 1.0f, 1);
                else if (need_din)
                    add_conv(v, &k, CALL_CONV_DIN, s, B, 0.0f, 1);
            }
        } else if (op->kind == OP_LINEAR) {
            int I = op->C, O = op->OC;
            add_call(v, &k, false, true, B, O, I, I, I, O, op->b >= 0 ? 1.0f : 0.0f, 1, 0);
            add_call(v, &k, true, false, O, I, B, O, I, I, 1.0f, 1, 1);
            if (need_din) add_call(v, &k, false, false, B, I, O, O, I, I, 1.0f, 1, 1);
        }
    }
    return k;
}

static double call_flops(const gemm_call *c) { return 2.0 * c->M * c->N * c->K * c->reps; }

/* Elements each operand of the call spans; the conv kinds keep a whole batch
 * of images and outputs (A: weights or output gradients, B: images or output
 * gradients, C: outputs, weight gradient, or a column matrix per thread). */
static size_t span_a(const gemm_call *c) {
    switch (c->kind) {
    case CALL_CONV_DW: return (size_t)c->reps * c->M * c->K;
    case CALL_CONV_FWD:
    case CALL_CONV_DIN: return (size_t)c->M * c->K;
    default: return (size_t)(c->ta ? c->K : c->M) * c->lda;
    }
}
static size_t span_b(const gemm_call *c) {
    const size_t img = (size_t)c->g.C * c->g.H * c->g.W;
    switch (c->kind) {
    case CALL_CONV_FWD:
    case CALL_CONV_DW: return (size_t)c->reps * img;
    case CALL_CONV_DIN: return (size_t)c->reps * c->K * c->N;
    default: return (size_t)(c->tb ? c->N : c->K) * c->ldb;
    }
}
static size_t span_c(const gemm_call *c, int threads) {
    switch (c->kind) {
    case CALL_CONV_FWD: return (size_t)c->reps * c->M * c->N;
    case CALL_CONV_DW: return (size_t)c->M * c->N;
    case CALL_CONV_DIN: return (size_t)threads * c->M * c->N;
    default: return (size_t)c->M * c->ldc;
    }
}

typedef struct {
    gemm_call *calls;
    int n;
    float *A, *B, *C;
    double flops_train, flops_eval;
} replay_t;

static void replay_call(const replay_t *r, const gemm_call *c) {
    const conv_geom *g = &c->g;
    const size_t img = (size_t)g->C * g->H * g->W;
    switch (c->kind) {
    case CALL_DENSE:
        for (int j = 0; j < c->reps; j++)
            gemm(c->ta, c->tb, c->M, c->N, c->K, 1.0f, r->A, c->lda, r->B, c->ldb, c->beta, r->C,
                 c->ldc);
        break;
    case CALL_CONV_FWD:
        if (gemm_conv_batch(c->M, c->reps, r->A, r->B, g, c->beta, r->C, NULL) == 0) break;
#pragma omp parallel for schedule(static) if (c->reps > 1)
        for (int j = 0; j < c->reps; j++)
            gemm_conv(c->M, r->A, c->K, r->B + j * img, g, c->beta, r->C + (size_t)j * c->M * c->N,
                      c->N);
        break;
    case CALL_CONV_DW:
        gemm_conv_dw(c->M, c->reps, r->A, r->B, g, r->C);
        break;
    case CALL_CONV_DIN:
#pragma omp parallel for schedule(static) if (c->reps > 1)
        for (int j = 0; j < c->reps; j++)
            gemm(true, false, c->M, c->N, c->K, 1.0f, r->A, c->M, r->B + (size_t)j * c->K * c->N,
                 c->N, 0.0f, r->C + (size_t)omp_get_thread_num() * c->M * c->N, c->N);
        break;
    }
}

/* The same shapes, image by image, through BLIS's own driver on explicit
 * (already im2col'ed) operands: what BLIS itself reaches on them. */
static void replay_call_blis(const replay_t *r, const gemm_call *c) {
    for (int j = 0; j < c->reps; j++) {
        switch (c->kind) {
        case CALL_DENSE:
            gemm_blis(c->ta, c->tb, c->M, c->N, c->K, 1.0f, r->A, c->lda, r->B, c->ldb, c->beta,
                      r->C, c->ldc);
            break;
        case CALL_CONV_FWD:
            gemm_blis(false, false, c->M, c->N, c->K, 1.0f, r->A, c->K, r->B, c->N, c->beta, r->C,
                      c->N);
            break;
        case CALL_CONV_DW:
            gemm_blis(false, true, c->M, c->N, c->K, 1.0f, r->A, c->K, r->B, c->K, 1.0f, r->C,
                      c->N);
            break;
        case CALL_CONV_DIN:
            gemm_blis(true, false, c->M, c->N, c->K, 1.0f, r->A, c->M, r->B, c->N, 0.0f, r->C,
                      c->N);
            break;
        }
    }
}

static void replay(const replay_t *r, int backward_too, int blis) {
    for (int i = 0; i < r->n; i++)
        if (backward_too || !r->calls[i].backward)
            (blis ? replay_call_blis : replay_call)(r, &r->calls[i]);
}

/* Seconds per replayed step, after one untimed replay. */
static double time_replay(const replay_t *r, int backward_too, int blis, int reps) {
    replay(r, backward_too, blis);
    double t0 = now_seconds();
    for (int i = 0; i < reps; i++) replay(r, backward_too, blis);
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
    free(m->rp.calls);
    free(m->rp.A);
    free(m->rp.B);
    free(m->rp.C);
    memset(m, 0, sizeof *m);
}

/* threads: the most the replay will use (the column matrices of CALL_CONV_DIN). */
static int model_setup(model_t *m, const char *name, int B, int want_gemm, int threads,
                       uint64_t seed, dp_err *e) {
    static spec_t s; /* large; bench_run is not re-entrant anyway (BLIS threads are global) */
    int c, h, w, rc;
    memset(m, 0, sizeof *m);
    m->B = B;
    model_spec(&s, name, &c, &h, &w);
    if ((rc = net_build(&m->net, &s, c, h, w, 10, e))) return rc;
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
    size_t nx = (size_t)B * c * h * w;
    for (size_t i = 0; i < nx; i++) x[i] = (float)rng_normal(&g);
    for (int i = 0; i < B; i++) m->labels[i] = (int32_t)rng_below(&g, (uint32_t)n->classes);
    net_describe(n, m->desc, sizeof m->desc);

    if (want_gemm) {
        int cap = 0;
        for (int i = 0; i < n->n_ops; i++) cap += 3 * (n->ops[i].kind == OP_CONV || n->ops[i].kind == OP_LINEAR);
        if (!(m->rp.calls = dp_calloc(cap ? (size_t)cap : 1, sizeof(gemm_call), "bench GEMM list", e)))
            goto fail;
        m->rp.n = step_gemms(n, B, m->rp.calls);
        size_t sa = 1, sb = 1, sc = 1;
        for (int i = 0; i < m->rp.n; i++) {
            const gemm_call *gc = &m->rp.calls[i];
            if (span_a(gc) > sa) sa = span_a(gc);
            if (span_b(gc) > sb) sb = span_b(gc);
            if (span_c(gc, threads) > sc) sc = span_c(gc, threads);
            /* the explicit operands of the BLIS replay */
            const size_t mk = (size_t)gc->M * gc->K, kn = (size_t)gc->K * gc->N;
            const size_t mn = (size_t)gc->M * gc->N;
            if (mk > sa) sa = mk;
            if (kn > sb) sb = kn;
            if (mn > sc) sc = mn;
            m->rp.flops_train += call_flops(gc);
            if (!gc->backward) m->rp.flops_eval += call_flops(gc);
        }
        if (!(m->rp.A = dp_calloc(sa, sizeof(float), "bench GEMM A", e))) goto fail;
        if (!(m->rp.B = dp_calloc(sb, sizeof(float), "bench GEMM B", e))) goto fail;
        if (!(m->rp.C = dp_calloc(sc, sizeof(float), "bench GEMM C", e))) goto fail;
        /* Small values: beta = 1 accumulation over many reps stays far from overflow. */
        fill_uniform(m->rp.A, sa, &g, 0.1f);
        fill_uniform(m->rp.B, sb, &g, 0.1f);
    }
    return 0;
fail:
    model_free(m);
    return rc;
}

typedef struct {
    double train_s, eval_s;   /* seconds per step */
    double gemm_train_s, gemm_eval_s;
    double blis_train_s;      /* the same GEMM shapes through bli_sgemm_ex */
    double peak;              /* GFLOP/s, 0 = not measured */
} result_t;

static float train_step(model_t *m, const sgd_cfg_t *cfg) {
    const net_t *n = &m->net;
    memset(m->grads, 0, n->n_params * sizeof(float));
    float loss = net_forward(n, &m->ws, m->params, m->buffers, m->labels, m->B, 1, NULL, NULL);
    net_backward(n, &m->ws, m->params, m->grads, m->labels, m->B);
    sgd_step(m->params, m->grads, m->mom, n->n_params, n->n_params_decay, BENCH_LR, cfg);
    return loss;
}

static int measure(model_t *m, const plan_t *p, uint64_t seed, result_t *r, dp_err *e) {
    const net_t *n = &m->net;
    const sgd_cfg_t cfg = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 0, .decoupled = 0};
    /* Same starting point for every thread count. */
    net_init(n, m->params, m->buffers, seed);
    memset(m->mom, 0, n->n_params * sizeof(float));

    float loss = 0.0f;
    for (int i = 0; i < p->warmup; i++) {
        loss = train_step(m, &cfg);
        net_forward(n, &m->ws, m->params, m->buffers, m->labels, m->B, 0, NULL, NULL);
    }
    double t0 = now_seconds();
    for (int i = 0; i < p->steps; i++) loss = train_step(m, &cfg);
    r->train_s = (now_seconds() - t0) / p->steps;
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

    if (m->rp.calls) {
        r->gemm_train_s = time_replay(&m->rp, 1, 0, p->steps);
        r->gemm_eval_s = time_replay(&m->rp, 0, 0, p->steps);
        r->blis_train_s = time_replay(&m->rp, 1, 1, p->steps);
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
        fprintf(out, "  gemm = the step's exact GEMM calls replayed standalone; share = gemm time / "
                     "step time\n");
    fprintf(out, "\n%-9s %3s %5s %11s %11s %9s %9s %8s %8s %9s %9s %9s\n", "model", "thr", "batch",
            "train img/s", "eval img/s", "train ms", "eval ms", "gemm %", "eval g%", "gemm GF/s",
            "BLIS GF/s", "peak GF/s");
}

static void print_row(FILE *out, const char *model, int threads, int B, const result_t *r,
                      const model_t *m, int csv) {
    double train_ips = B / r->train_s, eval_ips = B / r->eval_s;
    int g = m->rp.calls != NULL;
    double share = g ? r->gemm_train_s / r->train_s : 0;
    double eshare = g ? r->gemm_eval_s / r->eval_s : 0;
    double gflops = g ? m->rp.flops_train / r->gemm_train_s * 1e-9 : 0;
    double blis = g ? m->rp.flops_train / r->blis_train_s * 1e-9 : 0;
    if (csv) {
        fprintf(out, "%s,%d,%d,%.1f,%.1f,%.3f,", model, threads, B, train_ips, eval_ips,
                r->train_s * 1e3);
        if (g)
            fprintf(out, "%.4f,%.2f,%.2f,%.2f\n", share, gflops, r->peak, blis);
        else
            fprintf(out, ",,,\n");
    } else {
        fprintf(out, "%-9s %3d %5d %11.1f %11.1f %9.2f %9.2f", model, threads, B, train_ips,
                eval_ips, r->train_s * 1e3, r->eval_s * 1e3);
        if (g)
            fprintf(out, " %7.1f%% %7.1f%% %9.1f %9.1f %9.1f\n", 100 * share, 100 * eshare, gflops,
                    blis, r->peak);
        else
            fprintf(out, " %8s %8s %9s %9s %9s\n", "-", "-", "-", "-", "-");
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
        int max_threads = 1;
        for (int ti = 0; ti < p.n_threads; ti++)
            if (p.threads[ti] > max_threads) max_threads = p.threads[ti];
        if ((rc = model_setup(&m, p.models[mi], p.batch, gemm_on, max_threads, o->seed, e)))
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
