/* algo_grawa.c - Gradient-based Weighted Averaging (Dimlioglu & Choromanska,
 * AISTATS 2024), MGRAWA (per model) and LGRAWA (per layer), as in their code:
 * every tau steps the centre is c = sum_i w_i x_i with w_i proportional to
 * 1/||grad_i|| and normalised to sum 1, per layer for LGRAWA (a layer = one
 * of the net's parameter tensors), and each worker moves toward it,
 * x_i <- (1 - pull) x_i + pull c (dist.pull).
 *
 * The gradient norm is taken on a small batch and smoothed by an EMA with
 * momentum 0.9^8 (their value, inherited from EASGD), bias-corrected:
 * ema <- m ema + (1 - m) ||g||, estimate = ema / (1 - m^t) at the t-th sync.
 * Their code draws one fresh batch of batch_size samples at the sync; we take
 * the gradient of the worker's last local step (also a fresh batch of
 * batch_size samples, one step earlier, and free). MGRAWA's norm is the L2
 * norm of the whole gradient, as in the paper (their code sums the per-tensor
 * norms instead).
 *
 * Communication per sync: an allgather of the norms (L floats a worker) and
 * one allreduce of the weighted [params | buffers] (BN buffers: the plain
 * mean, weight 1 each). The weights are rounded to integers of 12 bits,
 * 4096 w_i / max_j w_j, so that the weighted sum of floats is exact in double
 * and the centre the same in every layout; equal norms then give weights
 * 4096 each and the plain mean bit for bit (LocalSGD, with pull 1). */
#include <math.h>

#include "algo.h"

#define GRAWA_NORM_MOMENTUM 0.43046721 /* 0.9^8 */
#define GRAWA_WEIGHT_ONE 4096.0         /* the largest weight: 12 bits */

/* Layers the weights are per: the net's tensors (lgrawa) or one (mgrawa). */
static int layers(const algo_t *a) { return a->cfg.kind == ALGO_LGRAWA ? a->n_layers : 1; }
/* Weight ranges: the layers, then the BN buffers (when there are any). */
static int ranges(const algo_t *a, const worker_set *ws) { return layers(a) + (ws->n_buffers > 0); }

/* State: [t: syncs so far] [ema: M x L norms] [this sync's norms: M x L]
 * [its weights: M x ranges]. The last two are overwritten at every sync;
 * keeping them in the state spares an allocation. */
static float *ema_norms(algo_t *a) { return a->state + 1; }
static float *norms(algo_t *a, const worker_set *ws) {
    return ema_norms(a) + (size_t)ws->comm->workers * layers(a);
}
static float *weights(algo_t *a, const worker_set *ws) {
    return norms(a, ws) + (size_t)ws->comm->workers * layers(a);
}

static size_t grawa_floats(const algo_t *a, const worker_set *ws) {
    return 1 + (size_t)ws->comm->workers * (size_t)(2 * layers(a) + ranges(a, ws));
}

/* The ranges' end offsets in [params | buffers]: the layers' ends and the
 * buffers' (lgrawa), or the parameters' and the buffers' (mgrawa). */
static const size_t *range_ends(const algo_t *a, const worker_set *ws, size_t *two) {
    if (a->cfg.kind == ALGO_LGRAWA) return a->layer_end;
    two[0] = ws->n_params;
    two[1] = ws->n_params + ws->n_buffers;
    return two;
}

/* 1 / the bias-corrected norm estimate. */
static double inverse_norm(float ema, double correction) {
    double est = ema / correction;
    return 1.0 / (est > 1e-30 ? est : 1e-30);
}

static int grawa_centre(algo_t *a, worker_set *ws, dp_err *e) {
    comm_t *c = ws->comm;
    const int M = c->workers, L = layers(a), R = ranges(a, ws);
    float *ema = ema_norms(a), *now = norms(a, ws), *q = weights(a, ws);
    /* 1. The local workers' gradient norms, per layer, then everyone's. */
    for (int k = 0; k < ws->local; k++) {
        const float *g = ws->w[k].grads;
        float *out = now + (size_t)(c->first + k) * L;
        size_t lo = 0;
        for (int l = 0; l < L; l++) {
            size_t hi = L == 1 ? ws->n_params : a->layer_end[l];
            double s = 0;
            for (size_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
            out[l] = (float)sqrt(s);
            lo = hi;
        }
    }
    int rc = comm_allgather_workers(c, now, (size_t)L * sizeof(float), 1, e);
    if (rc) return rc;
    /* 2. Every rank updates every worker's EMA the same way. */
    const double m = GRAWA_NORM_MOMENTUM;
    a->state[0] += 1.0f;
    const double correction = 1.0 - pow(m, a->state[0]);
    for (size_t j = 0; j < (size_t)M * L; j++) ema[j] = (float)(m * ema[j] + (1.0 - m) * now[j]);
    /* 3. Weights 1/estimate per layer, as 12-bit integers relative to the
     * largest; the buffers' range has weight 1 for everyone (the mean). */
    for (int l = 0; l < L; l++) {
        double top = 0;
        for (int i = 0; i < M; i++) {
            double v = inverse_norm(ema[(size_t)i * L + l], correction);
            if (v > top) top = v;
        }
        for (int i = 0; i < M; i++) {
            double v = floor(GRAWA_WEIGHT_ONE * inverse_norm(ema[(size_t)i * L + l], correction) / top + 0.5);
            q[(size_t)i * R + l] = (float)(v < 1 ? 1 : v);
        }
    }
    if (R > L)
        for (int i = 0; i < M; i++) q[(size_t)i * R + L] = 1.0f;
    /* A worker that misses the sync (dist/faults.h) has no say in the centre. */
    for (int i = 0; a->mask && i < M; i++)
        if (!a->mask[i])
            for (int r = 0; r < R; r++) q[(size_t)i * R + r] = 0.0f;
    /* 4. The centre of [params | buffers] in one allreduce. */
    for (int k = 0; k < ws->local; k++) ws->ptrs[k] = ws->w[k].params;
    size_t two[2];
    return comm_weighted_mean_workers(c, ws->ptrs, ws->n_params + ws->n_buffers,
                                      range_ends(a, ws, two), R, q, ws->avg, 1, e);
}

static void grawa_sync(algo_t *a, worker_set *ws, double epoch) {
    (void)epoch;
    for (int k = 0; k < ws->local; k++) algo_mix(ws->w[k].params, ws->avg, ws->n_params, a->cfg.pull);
}

const algo_ops algo_mgrawa_ops = {.state_floats = grawa_floats,
                                  .centre = grawa_centre,
                                  .sync = grawa_sync};
const algo_ops algo_lgrawa_ops = {.state_floats = grawa_floats,
                                  .centre = grawa_centre,
                                  .sync = grawa_sync};
