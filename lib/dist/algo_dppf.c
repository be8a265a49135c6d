/* algo_dppf.c - Distributed Pull-Push Force (Dimlioglu & Choromanska, arXiv
 * 2507.20424), as reconstructed in README "Algorithms": LocalSGD's
 * communication, and at each sync every worker is pulled toward the average
 * with strength `pull` and pushed away from it with strength `push`, so that
 * with no gradient the workers settle at distance push/pull (normalized) or
 * (push/pull)^(1/3) (inverse) from the average. */
#include <math.h>

#include "algo.h"

double dppf_pull_push(float *x, const float *avg, size_t n, float pull, float push, int push_form) {
    double d2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i] - avg[i];
        d2 += d * d;
    }
    double d = sqrt(d2);
    /* x <- avg + (1 - pull) (x - avg) + push * g(d) (x - avg) / d, written so
     * that pull = 1, push = 0 gives exactly avg (LocalSGD). */
    double coef = 0;
    if (d > 0 && push > 0) coef = push_form == PUSH_INVERSE ? push / (d2 * d) : push / d;
    float scale = (float)((1.0 - pull) + coef);
    for (size_t i = 0; i < n; i++) x[i] = avg[i] + scale * (x[i] - avg[i]);
    return d;
}

static void dppf_sync(algo_t *a, worker_set *ws, double epoch) {
    const algo_cfg *c = &a->cfg;
    float push = c->push;
    if (c->push_warmup_epochs > 0 && epoch < c->push_warmup_epochs)
        push *= (float)(epoch / c->push_warmup_epochs);
    for (int k = 0; k < ws->local; k++)
        dppf_pull_push(ws->w[k].params, ws->avg, ws->n_params, c->pull, push, c->push_form);
}

const algo_ops algo_dppf_ops = {.sync = dppf_sync};
