#include <string.h>
#include <stdlib.h>

#include "objective.h"

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

/* Loads batch number b; returns its size. */
static int load_batch(objective_t *o, int start) {
    int B = o->n - start < o->ws.max_batch ? o->n - start : o->ws.max_batch;
    for (int i = 0; i < B; i++) o->idx[i] = start + i;
    batch_fill(net_input(&o->ws), o->labels, o->data, o->idx, B, &o->bc, 0, NULL);
    return B;
}

double objective_loss(objective_t *o, const float *params, double *acc) {
    double loss = 0;
    long correct = 0;
    for (int start = 0; start < o->n; start += o->ws.max_batch) {
        int B = load_batch(o, start), c = 0;
        loss += (double)net_forward(o->net, &o->ws, params, (float *)o->buffers, o->labels, B, 0,
                                    NULL, &c) * B;
        correct += c;
    }
    if (acc) *acc = (double)correct / o->n;
    return loss / o->n;
}

double objective_grad(objective_t *o, const float *params, float *grad) {
    size_t np = o->net->n_params;
    memset(grad, 0, np * sizeof *grad);
    double loss = 0;
    for (int start = 0; start < o->n; start += o->ws.max_batch) {
        int B = load_batch(o, start);
        /* eval mode: forward does not write the buffers */
        loss += (double)net_forward(o->net, &o->ws, params, (float *)o->buffers, o->labels, B,
                                    NET_EVAL_GRAD, NULL, NULL) * B;
        memset(o->tmp, 0, np * sizeof *o->tmp);
        net_backward(o->net, &o->ws, params, o->tmp, o->labels, B);
        float w = (float)B / (float)o->n;
        for (size_t i = 0; i < np; i++) grad[i] += w * o->tmp[i];
    }
    return loss / o->n;
}
