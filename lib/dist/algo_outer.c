/* algo_outer.c - an outer optimizer on top of LocalSGD: SlowMo (Wang et al.,
 * ICLR 2020) and DiLoCo (Douillard et al. 2023). At each sync the workers'
 * average change since the last sync, g = x0 - avg (x0: the parameters every
 * worker started the period from), is a pseudo-gradient for SGD with
 * momentum beta and learning rate alpha (dist.outer_lr, outer_momentum,
 * outer_nesterov); every worker then starts the next period from the result.
 *
 * The two differ in one thing. SlowMo divides g by the inner learning rate
 * gamma of the period, so that its slow momentum u is in gradient units and
 * stays calibrated while the learning-rate schedule decays, and steps by
 * alpha gamma u:  u <- beta u + g/gamma,  x0 <- x0 - alpha gamma u.
 * DiLoCo uses g as it is (gamma = 1 here), with Nesterov momentum in the
 * paper (outer_nesterov: true; inner AdamW there, our optim settings here).
 *
 * Written as  x_new = avg + (1 - alpha) g - alpha beta gamma u'  (u' = the
 * new u with Nesterov, the old one without), the same update in exact
 * arithmetic, so that alpha = 1, beta = 0 gives avg bit for bit: LocalSGD. */
#include <string.h>

#include "algo.h"

/* State: [x0: parameters at the start of the period] [u: outer momentum]. */
static size_t outer_floats(const algo_t *a, const worker_set *ws) {
    (void)a;
    return 2 * ws->n_params;
}

static void outer_init(algo_t *a, const worker_set *ws) {
    memcpy(a->state, ws->w[0].params, ws->n_params * sizeof(float));
}

static void outer_step(algo_t *a, worker_set *ws, float gamma) {
    const size_t n = ws->n_params;
    const float alpha = a->cfg.outer_lr, beta = a->cfg.outer_momentum;
    const float keep = 1.0f - alpha, step = alpha * beta * gamma;
    const int nesterov = a->cfg.outer_nesterov;
    float *x0 = a->state, *u = a->state + n, *avg = ws->avg;
    for (size_t i = 0; i < n; i++) {
        float g = x0[i] - avg[i];
        float u_new = beta * u[i] + g / gamma;
        float x = avg[i] + (keep * g - step * (nesterov ? u_new : u[i]));
        u[i] = u_new;
        x0[i] = x;
        avg[i] = x; /* the sync's consensus model (EMA) */
    }
    for (int k = 0; k < ws->local; k++) memcpy(ws->w[k].params, x0, n * sizeof(float));
}

static void slowmo_sync(algo_t *a, worker_set *ws, double epoch) {
    (void)epoch;
    outer_step(a, ws, a->lr_now > 0 ? a->lr_now : 1.0f);
}

static void diloco_sync(algo_t *a, worker_set *ws, double epoch) {
    (void)epoch;
    outer_step(a, ws, 1.0f);
}

const algo_ops algo_slowmo_ops = {.state_floats = outer_floats, .init = outer_init, .sync = slowmo_sync};
const algo_ops algo_diloco_ops = {.state_floats = outer_floats, .init = outer_init, .sync = diloco_sync};
