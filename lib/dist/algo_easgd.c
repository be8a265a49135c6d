/* algo_easgd.c - synchronous Elastic Averaging SGD (Zhang, Choromanska, LeCun
 * 2015): a centre variable c (the algorithm's state, [params | buffers]);
 * at a sync each worker moves alpha = beta/M toward the centre and the centre
 * moves beta toward the workers' mean, both from the pre-sync values. */
#include <string.h>

#include "algo.h"

static size_t centre_floats(const algo_t *a, const worker_set *ws) {
    (void)a;
    return ws->n_params + ws->n_buffers;
}

/* Every worker starts from the same initialisation: so does the centre. */
static void centre_init(algo_t *a, const worker_set *ws) {
    memcpy(a->state, ws->w[0].params, a->n_state * sizeof(float));
}

static void easgd_sync(algo_t *a, worker_set *ws, double epoch) {
    (void)epoch;
    size_t np = ws->n_params, nb = ws->n_buffers;
    float *centre = a->state, beta = a->cfg.moving_rate;
    float alpha = beta / (float)ws->comm->workers;
    for (int k = 0; k < ws->local; k++) {
        float *x = ws->w[k].params;
        for (size_t i = 0; i < np; i++) x[i] -= alpha * (x[i] - centre[i]);
    }
    for (size_t i = 0; i < np; i++) centre[i] += beta * (ws->avg[i] - centre[i]);
    memcpy(centre + np, ws->avg + np, nb * sizeof(float));
}

const algo_ops algo_easgd_ops = {.state_floats = centre_floats, .init = centre_init, .sync = easgd_sync};
