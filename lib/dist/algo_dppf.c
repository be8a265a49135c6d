/* algo_dppf.c - Distributed Pull-Push Force (Dimlioglu & Choromanska, arXiv
 * 2507.20424), as reconstructed in README "Algorithms": LocalSGD's
 * communication, and at each sync every worker is pulled toward the average
 * with strength `pull` and pushed away from it with strength `push`, so that
 * with no gradient the workers settle at distance push/pull (normalized) or
 * (push/pull)^(1/3) (inverse) from the average.
 *
 * Variants (README "DPPF variants" derives each fixed point; d = a worker's
 * distance to the average as a sync measures it, before its update):
 * - dist.push_every: step: the push acts at every local step, against the
 *   last sync's average c (state; no extra communication), with strength
 *   push/tau. With the pull at the sync: d0 = (1 - pull) D after a sync, then
 *   tau steps of push/tau give D = d0 + push, so D = push/pull as per sync.
 *   (inverse is refused there: its per-step size push/(tau d^2) changes over
 *   the period and no constant scaling keeps the fixed point.)
 * - dist.pull_every: step (with push_every: step): the pull acts every step
 *   too, pull/tau; every step d <- (1 - pull/tau) d + (push/tau) g(d), whose
 *   fixed point pull d = push g(d) is push/pull and (push/pull)^(1/3), exact.
 * - dist.push_schedule: the push times 1, 1 - p or (1 + cos(pi p))/2 at run
 *   fraction p (and the warm-up ramp before it).
 * - dist.target_spread: the push is state, adapted at each sync from the
 *   measured spread s toward the (scheduled) target T:
 *   push <- push * clamp(sqrt(T/s), 1/(1+r), 1+r), r = dist.target_rate. */
#include <math.h>
#include <string.h>

#include "algo.h"

/* Sum of squares of x - c, accumulated in double in a fixed order. */
static double distance2(const float *x, const float *c, size_t n) {
    double d2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - c[i];
        d2 += d * d;
    }
    return d2;
}

/* The force's scale on x - avg, at squared distance d2: x <- avg + s (x - avg)
 * with s = (1 - pull) + push g(d) / d, g(d) = 1 (normalized) or 1/d^2 (inverse). */
static double force_scale(double d2, float pull, float push, int push_form) {
    double d = sqrt(d2), coef = 0;
    if (d > 0 && push > 0) coef = push_form == PUSH_INVERSE ? push / (d2 * d) : push / d;
    return (1.0 - pull) + coef;
}

double dppf_pull_push(float *x, const float *avg, size_t n, float pull, float push, int push_form) {
    double d2 = distance2(x, avg, n);
    /* x <- avg + (1 - pull) (x - avg) + push * g(d) (x - avg) / d, written so
     * that pull = 1, push = 0 gives exactly avg (LocalSGD). */
    float scale = (float)force_scale(d2, pull, push, push_form);
    for (size_t i = 0; i < n; i++) x[i] = avg[i] + scale * (x[i] - avg[i]);
    return sqrt(d2);
}

/* The per-step force: x <- x + (s - 1) (x - c), which leaves x exactly as it
 * is when s = 1, and moves it by a small step otherwise. */
static void force_step(float *x, const float *c, size_t n, float pull, float push, int push_form) {
    float step = (float)(force_scale(distance2(x, c, n), pull, push, push_form) - 1.0);
    if (step == 0) return;
    for (size_t i = 0; i < n; i++) x[i] += step * (x[i] - c[i]);
}

/* State: [the adapted push (target_spread > 0)] [c: the last sync's average
 * parameters (a force every step)]. */
static int adaptive(const algo_cfg *c) { return c->target_spread > 0; }
static int per_step(const algo_cfg *c) {
    return c->push_every == FORCE_AT_STEP || c->pull_every == FORCE_AT_STEP;
}
static float *last_average(algo_t *a) { return a->state + adaptive(&a->cfg); }

static size_t dppf_floats(const algo_t *a, const worker_set *ws) {
    return (size_t)adaptive(&a->cfg) + (per_step(&a->cfg) ? ws->n_params : 0);
}

static void dppf_init(algo_t *a, const worker_set *ws) {
    if (adaptive(&a->cfg)) {
        a->state[0] = a->cfg.push;
        a->exact_spread = 1; /* the controller reads it: same value in every layout */
    }
    if (per_step(&a->cfg)) memcpy(last_average(a), ws->w[0].params, ws->n_params * sizeof(float));
}

/* v at `epoch`: the warm-up ramp, then the schedule over the run. Computed in
 * float exactly as before schedules existed when the schedule is constant. */
static float scheduled(const algo_cfg *c, float v, double epoch) {
    const double pi = 3.14159265358979323846;
    if (c->push_warmup_epochs > 0 && epoch < c->push_warmup_epochs)
        v *= (float)(epoch / c->push_warmup_epochs);
    if (c->push_schedule != PUSH_CONSTANT && c->total_epochs > 0) {
        double p = epoch < c->total_epochs ? epoch / c->total_epochs : 1.0;
        v *= (float)(c->push_schedule == PUSH_LINEAR ? 1.0 - p : 0.5 * (1.0 + cos(pi * p)));
    }
    return v;
}

static float push_now(const algo_t *a, double epoch) {
    return adaptive(&a->cfg) ? a->state[0] : scheduled(&a->cfg, a->cfg.push, epoch);
}

/* A multiplicative controller (an integrator of log(T/s)) with gain 1/2 and
 * a bounded step. With no gradient s follows s' = (1 - pull) s + push, so in
 * log space the loop's characteristic roots have product (1 - pull) + gain *
 * pull: any gain below 1 is stable (gain 1 oscillates for ever at pull 0.5). */
static void adapt_push(algo_t *a, double epoch) {
    const algo_cfg *c = &a->cfg;
    const double hi = 1.0 + c->target_rate, target = scheduled(c, c->target_spread, epoch);
    double f = a->spread_mean > 0 ? sqrt(target / a->spread_mean) : hi;
    if (f > hi) f = hi;
    if (f < 1.0 / hi) f = 1.0 / hi;
    a->state[0] = (float)(a->state[0] * f);
}

static void dppf_local_step(algo_t *a, worker_set *ws, double epoch) {
    const algo_cfg *c = &a->cfg;
    if (!per_step(c)) return;
    float pull = c->pull_every == FORCE_AT_STEP ? c->pull / (float)c->tau : 0.0f;
    float push = c->push_every == FORCE_AT_STEP ? push_now(a, epoch) / (float)c->tau : 0.0f;
    if (pull == 0 && push == 0) return;
    const float *avg = last_average(a);
    for (int k = 0; k < ws->local; k++)
        force_step(ws->w[k].params, avg, ws->n_params, pull, push, c->push_form);
}

static void dppf_sync(algo_t *a, worker_set *ws, double epoch) {
    const algo_cfg *c = &a->cfg;
    if (adaptive(c)) adapt_push(a, epoch);
    float pull = c->pull_every == FORCE_AT_SYNC ? c->pull : 0.0f;
    float push = c->push_every == FORCE_AT_SYNC ? push_now(a, epoch) : 0.0f;
    /* Per-step forces with nothing left for the sync leave x as it is. */
    if (!per_step(c) || pull != 0 || push != 0)
        for (int k = 0; k < ws->local; k++)
            dppf_pull_push(ws->w[k].params, ws->avg, ws->n_params, pull, push, c->push_form);
    if (per_step(c)) memcpy(last_average(a), ws->avg, ws->n_params * sizeof(float));
}

const algo_ops algo_dppf_ops = {.state_floats = dppf_floats,
                                .init = dppf_init,
                                .local_step = dppf_local_step,
                                .sync = dppf_sync};
