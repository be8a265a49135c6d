#include <stdlib.h>
#include <string.h>

#include "workers.h"

int workers_alloc(worker_set *ws, comm_t *c, size_t n_params, size_t n_buffers, uint64_t seed,
                  dp_err *e) {
    memset(ws, 0, sizeof *ws);
    ws->local = c->local;
    ws->comm = c;
    ws->n_params = n_params;
    ws->n_buffers = n_buffers;
    size_t per = n_params + n_buffers + 2 * n_params;
    size_t floats = per * (size_t)c->local + n_params + n_buffers;
    /* Shared with this machine's other ranks when there are any (the means then
     * read each worker in place: comm.h); the call is collective, so it comes
     * before anything that can fail on one rank only. */
    ws->block = comm_shared_workers(c, floats);
    if (!ws->block) ws->block = dp_calloc(floats, sizeof(float), "worker parameters", e);
    ws->w = dp_calloc((size_t)c->local, sizeof(worker_t), "workers", e);
    ws->ptrs = dp_calloc((size_t)c->local, sizeof(float *), "workers", e);
    if (!ws->block || !ws->w || !ws->ptrs) {
        workers_free(ws);
        return DP_ENOMEM;
    }
    if (comm_reserve(c, n_params + n_buffers, e)) {
        workers_free(ws);
        return DP_ENOMEM;
    }
    float *f = ws->block;
    for (int k = 0; k < c->local; k++) {
        worker_t *w = &ws->w[k];
        w->index = c->first + k;
        w->params = f;
        w->buffers = f + n_params;
        w->grads = f + n_params + n_buffers;
        w->mom = w->grads + n_params;
        f += per;
        rng_init(&w->rng, seed, RNG_STREAM_WORKER + (uint64_t)w->index);
    }
    ws->avg = f;
    return 0;
}

void workers_free(worker_set *ws) {
    if (!ws->comm || !comm_owns(ws->comm, ws->block)) free(ws->block);
    free(ws->w);
    free(ws->ptrs);
    memset(ws, 0, sizeof *ws);
}

int workers_average(worker_set *ws, int count, dp_err *e) {
    for (int k = 0; k < ws->local; k++) ws->ptrs[k] = ws->w[k].params;
    return comm_mean_workers(ws->comm, ws->ptrs, ws->n_params + ws->n_buffers, ws->avg, count, e);
}
