#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "gemm.h"

void eval_dataset(const net_t *n, net_ws *ws, const float *params, const float *buffers,
                  const dataset_t *d, const batch_cfg_t *bc, int count, int mode, int32_t *labels,
                  int32_t *idx, batch_hook hook, void *ctx, eval_result *out) {
    if (count <= 0 || count > d->n) count = d->n;
    double loss = 0;
    int64_t correct = 0;
    for (int start = 0; start < count; start += ws->max_batch) {
        int B = count - start < ws->max_batch ? count - start : ws->max_batch, c = 0;
        for (int i = 0; i < B; i++) idx[i] = start + i;
        batch_fill(net_input(ws), labels, d, idx, B, bc, 0, NULL);
        /* eval modes read the BN buffers and never write them */
        loss += (double)net_forward(n, ws, params, (float *)buffers, labels, B, mode, NULL, &c) * B;
        correct += c;
        if (hook) hook(ctx, ws, labels, start, B);
    }
    out->n = count;
    out->loss = count ? loss / count : 0;
    out->acc = count ? (double)correct / count : 0;
}

void eval_model(const net_t *n, net_ws *ws, const float *params, const float *buffers,
                const dataset_t *d, const batch_cfg_t *bc, int32_t *labels, int32_t *idx,
                eval_result *out) {
    eval_dataset(n, ws, params, buffers, d, bc, 0, NET_EVAL, labels, idx, NULL, NULL, out);
}

/* Normalised samples are kept when they take at most this much memory. */
#define OBJ_CACHE_BYTES ((size_t)256 << 20)
/* A forward chunk's largest activation (one layer's output for its images)
 * should stay within about this much: in L2/L3 while the next layer reads it.
 * At batch 256 the quickstart CNN's first conv output alone is 12.8 MB, and
 * the maxpool reading it back from memory was a third of a landscape. */
#define OBJ_CHUNK_BYTES ((size_t)4 << 20)

static int forward_chunk(const net_t *net, int batch) {
    size_t widest = 1;
    for (int s = 0; s < net->n_slots; s++)
        if (net->slot_size[s] > widest) widest = net->slot_size[s];
    size_t c = OBJ_CHUNK_BYTES / (widest * sizeof(float));
    if (c < 16) c = 16;
    return c < (size_t)batch ? (int)c : batch;
}

static int lane_init(objective_lane *l, const net_t *net, int max_batch, dp_err *e) {
    int rc = net_ws_alloc(&l->ws, net, max_batch, e);
    if (rc) return rc;
    l->idx = dp_calloc((size_t)max_batch, sizeof(int32_t), "indices", e);
    l->labels = dp_calloc((size_t)max_batch, sizeof(int32_t), "labels", e);
    return l->idx && l->labels ? 0 : DP_ENOMEM;
}

int objective_init(objective_t *o, const net_t *net, const dataset_t *d, const batch_cfg_t *bc,
                   int n, int batch, const float *buffers, dp_err *e) {
    memset(o, 0, sizeof *o);
    o->net = net;
    o->data = d;
    o->bc = *bc;
    o->n = (n <= 0 || n > d->n) ? d->n : n;
    o->buffers = buffers;
    if (batch > o->n) batch = o->n;
    if (batch < 1) batch = 1;
    o->batch = batch;
    o->chunk = forward_chunk(net, batch);
    const int chunks = (o->n + o->chunk - 1) / o->chunk, threads = gemm_get_threads();
    o->n_lanes = threads < chunks ? threads : chunks;
    if (o->n_lanes < 1) o->n_lanes = 1;
    const size_t K = (size_t)net->classes, per = (size_t)d->c * d->h * d->w;
    o->lanes = dp_calloc((size_t)o->n_lanes, sizeof *o->lanes, "workspaces", e);
    o->labels = dp_calloc((size_t)o->n, sizeof(int32_t), "labels", e);
    o->logits = dp_calloc((size_t)o->n * K, sizeof(float), "logits", e);
    o->probs = dp_calloc((size_t)batch * K, sizeof(float), "probabilities", e);
    o->tmp = dp_calloc(net->n_params, sizeof(float), "a gradient", e);
    int rc = o->lanes && o->labels && o->logits && o->probs && o->tmp ? 0 : DP_ENOMEM;
    for (int t = 0; !rc && t < o->n_lanes; t++)
        rc = lane_init(&o->lanes[t], net, t == 0 ? batch : o->chunk, e);
    if (rc) {
        objective_free(o);
        return rc;
    }
    for (int i = 0; i < o->n; i++) o->labels[i] = d->labels[i];
    /* The normalised samples once, when they fit (else each chunk fills its own). */
    if ((size_t)o->n * per * sizeof(float) <= OBJ_CACHE_BYTES) {
        o->inputs = malloc((size_t)o->n * per * sizeof(float));
        int32_t *idx = o->lanes[0].idx, *lab = o->lanes[0].labels;
        for (int s = 0; o->inputs && s < o->n; s += batch) {
            const int B = o->n - s < batch ? o->n - s : batch;
            for (int i = 0; i < B; i++) idx[i] = s + i;
            batch_fill(o->inputs + (size_t)s * per, lab, d, idx, B, bc, 0, NULL);
        }
    }
    return 0;
}

void objective_free(objective_t *o) {
    for (int t = 0; o->lanes && t < o->n_lanes; t++) {
        net_ws_free(&o->lanes[t].ws);
        free(o->lanes[t].idx);
        free(o->lanes[t].labels);
    }
    free(o->lanes);
    free(o->inputs);
    free(o->labels);
    free(o->logits);
    free(o->probs);
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

/* Logits of samples [s, s + C) into o->logits, on lane l. */
static void forward_logits(objective_t *o, objective_lane *l, const float *params, int s, int C) {
    const net_t *net = o->net;
    const size_t per = (size_t)o->data->c * o->data->h * o->data->w, K = (size_t)net->classes;
    float *x = net_input(&l->ws);
    if (o->inputs) {
        memcpy(x, o->inputs + (size_t)s * per, (size_t)C * per * sizeof(float));
    } else {
        for (int i = 0; i < C; i++) l->idx[i] = s + i;
        batch_fill(x, l->labels, o->data, l->idx, C, &o->bc, 0, NULL);
    }
    /* eval mode reads the BN buffers and never writes them; the chunk's own
     * loss is not used (the batch's is taken below) */
    net_forward(net, &l->ws, params, (float *)o->buffers, o->labels + s, C, NET_EVAL, NULL, NULL);
    memcpy(o->logits + (size_t)s * K, net_logits(net, &l->ws), (size_t)C * K * sizeof(float));
}

double objective_loss(objective_t *o, const float *params, double *acc) {
    const int chunks = (o->n + o->chunk - 1) / o->chunk;
    /* Chunks over the lanes; inside, every layer runs on its lane's thread. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(o->n_lanes) if (o->n_lanes > 1)
    for (int c = 0; c < chunks; c++) {
        const int s = c * o->chunk, C = o->n - s < o->chunk ? o->n - s : o->chunk;
        forward_logits(o, &o->lanes[omp_get_thread_num()], params, s, C);
    }
    /* The loss batch by batch, in order, exactly as eval_dataset sums it. */
    double loss = 0;
    int64_t correct = 0;
    const size_t K = (size_t)o->net->classes;
    for (int s = 0; s < o->n; s += o->batch) {
        const int B = o->n - s < o->batch ? o->n - s : o->batch;
        int c = 0;
        loss += (double)softmax_xent_forward(o->probs, o->logits + (size_t)s * K, o->labels + s, B,
                                             (int)K, o->net->label_smoothing, &c) * B;
        correct += c;
    }
    if (acc) *acc = o->n ? (double)correct / o->n : 0;
    return o->n ? loss / o->n : 0;
}

typedef struct {
    objective_t *o;
    const float *params;
    float *grad;
} grad_ctx;

/* grad += (B / n) * the batch's mean gradient. */
static void accumulate_grad(void *ctx, net_ws *ws, const int32_t *labels, int start, int B) {
    (void)start;
    grad_ctx *g = ctx;
    size_t np = g->o->net->n_params;
    memset(g->o->tmp, 0, np * sizeof *g->o->tmp);
    net_backward(g->o->net, ws, g->params, g->o->tmp, labels, B);
    float w = (float)B / (float)g->o->n;
    for (size_t i = 0; i < np; i++) g->grad[i] += w * g->o->tmp[i];
}

double objective_grad(objective_t *o, const float *params, float *grad) {
    memset(grad, 0, o->net->n_params * sizeof *grad);
    grad_ctx g = {o, params, grad};
    eval_result r;
    objective_lane *l = &o->lanes[0]; /* the one whose workspace holds a whole batch */
    eval_dataset(o->net, &l->ws, params, o->buffers, o->data, &o->bc, o->n, NET_EVAL_GRAD,
                 l->labels, l->idx, accumulate_grad, &g, &r);
    return r.loss;
}
