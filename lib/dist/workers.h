/* workers.h - the logical workers this rank runs.
 *
 * Each worker's state is one allocation laid out as
 *   [params | buffers] [grads] [momentum]
 * so that a sync of parameters and BN buffers is ONE flat buffer (one allreduce). */
#ifndef DPPF_WORKERS_H
#define DPPF_WORKERS_H

#include <stddef.h>

#include "comm.h"
#include "rng.h"

typedef struct {
    int index;       /* global worker index 0..M-1 */
    float *params;   /* n_params, followed directly by buffers */
    float *buffers;  /* n_buffers (= params + n_params) */
    float *grads;    /* n_params */
    float *mom;      /* n_params: SGD momentum buffer */
    rng_t rng;       /* augmentation and dropout stream of this worker */
    float loss;      /* training loss of its last step (set by the training loop; lsgd's leader) */
} worker_t;

typedef struct {
    int local;                /* workers on this rank */
    worker_t *w;
    size_t n_params, n_buffers;
    comm_t *comm;
    float *avg;               /* scratch: mean of [params | buffers] over all workers */
    float **ptrs;             /* scratch: one pointer per local worker */
    void *block;
} worker_set;

int workers_alloc(worker_set *ws, comm_t *c, size_t n_params, size_t n_buffers, uint64_t seed,
                  dp_err *e);
void workers_free(worker_set *ws);

/* avg = mean over all workers of [params | buffers] (count: a sync round). */
int workers_average(worker_set *ws, int count, dp_err *e);

#endif
