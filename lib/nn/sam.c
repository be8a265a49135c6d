/* sam.c - the SAM / ASAM gradient (sam.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sam.h"

int sam_init(sam_t *s, size_t n_params, size_t n_buffers, float rho, int adaptive, dp_err *e) {
    memset(s, 0, sizeof *s);
    s->rho = rho;
    s->adaptive = adaptive;
    s->saved = dp_calloc(n_params ? n_params : 1, sizeof(float), "SAM's parameter copy", e);
    s->buffers = dp_calloc(n_buffers ? n_buffers : 1, sizeof(float), "SAM's buffer copy", e);
    if (s->saved && s->buffers) return 0;
    sam_free(s);
    return DP_ENOMEM;
}

void sam_free(sam_t *s) {
    free(s->saved);
    free(s->buffers);
    memset(s, 0, sizeof *s);
}

float sam_gradient(const sam_t *s, const net_t *n, net_ws *ws, float *params, const float *buffers,
                   float *grads, const int32_t *labels, int B, rng_t *rng) {
    const size_t np = n->n_params;
    /* ||T g|| over all parameters (davda54: the norm of the per-tensor norms,
     * the same number). */
    double sq = 0;
    for (size_t i = 0; i < np; i++) {
        double v = s->adaptive ? fabs((double)params[i]) * grads[i] : grads[i];
        sq += v * v;
    }
    const float scale = (float)(s->rho / (sqrt(sq) + 1e-12));
    memcpy(s->saved, params, np * sizeof(float));
    if (s->adaptive)
        for (size_t i = 0; i < np; i++) params[i] += params[i] * params[i] * grads[i] * scale;
    else
        for (size_t i = 0; i < np; i++) params[i] += grads[i] * scale;
    memcpy(s->buffers, buffers, n->n_buffers * sizeof(float));
    float loss = net_forward(n, ws, params, s->buffers, labels, B, NET_TRAIN, rng, NULL);
    memset(grads, 0, np * sizeof(float));
    net_backward(n, ws, params, grads, labels, B);
    memcpy(params, s->saved, np * sizeof(float));
    return loss;
}
