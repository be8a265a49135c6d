#include <stdlib.h>
#include <string.h>

#include "evaluate.h"

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

int objective_init(objective_t *o, const net_t *net, const dataset_t *d, const batch_cfg_t *bc,
                   int n, int batch, const float *buffers, dp_err *e) {
    memset(o, 0, sizeof *o);
    o->net = net;
    o->data = d;
    o->bc = *bc;
    o->n = (n <= 0 || n > d->n) ? d->n : n;
    o->buffers = buffers;
    if (batch > o->n) batch = o->n;
    int rc = net_ws_alloc(&o->ws, net, batch, e);
    if (rc) return rc;
    o->labels = dp_calloc((size_t)batch, sizeof(int32_t), "labels", e);
    o->idx = dp_calloc((size_t)batch, sizeof(int32_t), "indices", e);
    o->tmp = dp_calloc(net->n_params, sizeof(float), "a gradient", e);
    if (!o->labels || !o->idx || !o->tmp) {
        objective_free(o);
        return DP_ENOMEM;
    }
    return 0;
}

void objective_free(objective_t *o) {
    net_ws_free(&o->ws);
    free(o->labels);
    free(o->idx);
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

double objective_loss(objective_t *o, const float *params, double *acc) {
    eval_result r;
    eval_dataset(o->net, &o->ws, params, o->buffers, o->data, &o->bc, o->n, NET_EVAL, o->labels,
                 o->idx, NULL, NULL, &r);
    if (acc) *acc = r.acc;
    return r.loss;
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
    eval_dataset(o->net, &o->ws, params, o->buffers, o->data, &o->bc, o->n, NET_EVAL_GRAD,
                 o->labels, o->idx, accumulate_grad, &g, &r);
    return r.loss;
}
