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
