#include <stdlib.h>
#include <string.h>

#include "eval.h"

void eval_model(const net_t *n, net_ws *ws, const float *params, float *buffers,
                const dataset_t *d, const batch_cfg_t *bc, int32_t *labels, int32_t *idx,
                eval_result *out) {
    double loss = 0;
    int64_t correct = 0;
    for (int start = 0; start < d->n; start += ws->max_batch) {
        int B = d->n - start < ws->max_batch ? d->n - start : ws->max_batch;
        for (int i = 0; i < B; i++) idx[i] = start + i;
        batch_fill(net_input(ws), labels, d, idx, B, bc, 0, NULL);
        int c = 0;
        loss += (double)net_forward(n, ws, params, buffers, labels, B, 0, NULL, &c) * B;
        correct += c;
    }
    out->n = d->n;
    out->loss = d->n ? loss / d->n : 0;
    out->acc = d->n ? (double)correct / d->n : 0;
}

int eval_setup_open(eval_setup *x, const spec_t *s, const char *ckpt_path, int batch, dp_err *e) {
    memset(x, 0, sizeof *x);
    int rc = checkpoint_read(ckpt_path, &x->ckpt, e);
    if (!rc) rc = dataset_load(s, &x->train, &x->test, e);
    if (!rc) rc = net_build(&x->net, s, x->train.c, x->train.h, x->train.w, x->train.classes, e);
    if (!rc && (x->ckpt.n_params != x->net.n_params || x->ckpt.n_buffers != x->net.n_buffers))
        rc = dp_fail(e, DP_EUSAGE,
                     "checkpoint '%s' holds %llu parameters but the spec's model (%s) has %zu",
                     ckpt_path, (unsigned long long)x->ckpt.n_params, s->model.arch, x->net.n_params);
    if (!rc) rc = net_ws_alloc(&x->ws, &x->net, batch, e);
    if (!rc) {
        x->labels = dp_calloc((size_t)batch, sizeof(int32_t), "labels", e);
        x->idx = dp_calloc((size_t)batch, sizeof(int32_t), "indices", e);
        if (!x->labels || !x->idx) rc = DP_ENOMEM;
    }
    if (rc) {
        eval_setup_close(x);
        return rc;
    }
    batch_cfg_from_spec(&x->bc, s, &x->train);
    return 0;
}

void eval_setup_close(eval_setup *x) {
    free(x->labels);
    free(x->idx);
    net_ws_free(&x->ws);
    net_free(&x->net);
    dataset_free(&x->train);
    dataset_free(&x->test);
    checkpoint_free(&x->ckpt);
    memset(x, 0, sizeof *x);
}
