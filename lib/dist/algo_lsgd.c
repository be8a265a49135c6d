/* algo_lsgd.c - Leader SGD (Teng et al. 2019) as in the authors' GRAWA code:
 * every tau steps the workers exchange their running training losses (one
 * allgather of a float each), and each worker moves toward the leader, the
 * worker with the lowest one: x_i <- (1 - c) x_i + c x_leader, over
 * [params | BN buffers] (one broadcast of the leader's vector).
 *
 * Their code has two levels: a local group (the GPUs of one node) pulled
 * toward its own leader with strength c1, and all workers toward the global
 * leader with c2, the global level after the local one. Here a group is
 * dist.lsgd_group consecutive logical workers (by index, never by rank, so
 * that results do not depend on the layout), and both levels act at every
 * sync: dist.lsgd_pull = [c1, c2]. (Their code can space the global level
 * g_comm/l_comm local rounds apart; we do not.) The running loss is the mean
 * of the worker's training losses over the steps since the last sync (their
 * AverageMeter over a window of that many batches). */
#include <string.h>

#include "algo.h"

/* State: the per-worker slots, M sums of the losses since the last sync. */
static size_t lsgd_floats(const algo_t *a, const worker_set *ws) {
    (void)a;
    return (size_t)ws->comm->workers;
}

static void lsgd_init(algo_t *a, const worker_set *ws) {
    (void)ws;
    a->slots_at = 0;
    a->slot_floats = 1;
}

static void lsgd_local_step(algo_t *a, worker_set *ws, double epoch) {
    (void)epoch;
    for (int k = 0; k < ws->local; k++) a->state[ws->w[k].index] += ws->w[k].loss;
}

/* The worker of [first, first + n) with the lowest loss sum (the first on ties). */
/* The lowest loss among [first, first + n) that take part in the sync (mask
 * NULL: all); -1 when none does. */
static int leader(const float *loss, const unsigned char *mask, int first, int n) {
    int best = -1;
    for (int i = first; i < first + n; i++)
        if ((!mask || mask[i]) && (best < 0 || loss[i] < loss[best])) best = i;
    return best;
}

/* ws->avg := worker `lead`'s [params | buffers], on every rank. */
static int fetch(worker_set *ws, int lead, int count, dp_err *e) {
    comm_t *c = ws->comm;
    size_t n = ws->n_params + ws->n_buffers;
    if (lead >= c->first && lead < c->first + c->local)
        memcpy(ws->avg, ws->w[lead - c->first].params, n * sizeof(float));
    return comm_broadcast_worker(c, lead, ws->avg, n, count, e);
}

/* Every local worker of [first, first + n) but the leader moves toward ws->avg. */
static void pull_group(worker_set *ws, int first, int n, int lead, float strength) {
    for (int k = 0; k < ws->local; k++) {
        int i = ws->w[k].index;
        if (i >= first && i < first + n && i != lead)
            algo_mix(ws->w[k].params, ws->avg, ws->n_params + ws->n_buffers, strength);
    }
}

static int lsgd_exchange(algo_t *a, worker_set *ws, double epoch, dp_err *e) {
    (void)epoch;
    const algo_cfg *c = &a->cfg;
    const int M = ws->comm->workers, G = c->lsgd_group;
    float *loss = a->state;
    int rc = comm_allgather_workers(ws->comm, loss, sizeof(float), 1, e);
    /* Local level: each group toward its leader; one round for all groups
     * (they run side by side), counted once. */
    if (G > 1 && c->lsgd_local > 0)
        for (int g = 0; !rc && g < M / G; g++) {
            int lead = leader(loss, a->mask, g * G, G);
            if (lead < 0) continue;
            rc = fetch(ws, lead, g == 0, e);
            if (!rc) pull_group(ws, g * G, G, lead, c->lsgd_local);
        }
    /* Global level: the overall leader, after its own local move. */
    int lead = leader(loss, a->mask, 0, M);
    if (!rc) rc = fetch(ws, lead, 1, e);
    if (!rc) rc = algo_measure_spread(a, ws, e);
    if (rc) return rc;
    pull_group(ws, 0, M, lead, c->lsgd_global);
    memset(loss, 0, (size_t)M * sizeof(float));
    return 0;
}

const algo_ops algo_lsgd_ops = {.state_floats = lsgd_floats,
                                .init = lsgd_init,
                                .local_step = lsgd_local_step,
                                .exchange = lsgd_exchange};
