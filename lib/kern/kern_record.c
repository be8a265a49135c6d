/* kern_record.c - the recorder of GEMM-level calls (see kern_record.h).
 *
 * Global state: the installed recorder. It is the one process-wide hook the
 * benchmark needs to see inside the layers without threading a parameter
 * through every forward and backward; installed and removed outside parallel
 * regions, read by any thread, appended to under a mutex (images in a
 * parallel loop record concurrently). */
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "kern_record.h"

static _Atomic(kern_recorder *) active;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void kern_record_start(kern_recorder *r) {
    r->n = 0;
    r->dropped = 0;
    atomic_store(&active, r);
}

void kern_record_stop(void) { atomic_store(&active, NULL); }

int kern_recording(void) { return atomic_load_explicit(&active, memory_order_acquire) != NULL; }

static int same_call(const kern_call *a, const kern_call *b) {
    return a->kind == b->kind && a->trans_a == b->trans_a && a->trans_b == b->trans_b &&
           a->M == b->M && a->N == b->N && a->K == b->K && a->lda == b->lda && a->ldb == b->ldb &&
           a->ldc == b->ldc && a->images == b->images && a->alpha == b->alpha &&
           a->beta == b->beta && memcmp(&a->g, &b->g, sizeof a->g) == 0 &&
           a->epilogue == b->epilogue && a->parallel == b->parallel;
}

void kern_record(const kern_call *c) {
    kern_recorder *r = atomic_load_explicit(&active, memory_order_acquire);
    if (!r) return;
    kern_call e = *c;
    e.parallel = omp_in_parallel();
    if (e.reps < 1) e.reps = 1;
    if (e.images < 1) e.images = 1;
    pthread_mutex_lock(&lock);
    if (r->n > 0 && same_call(&r->calls[r->n - 1], &e))
        r->calls[r->n - 1].reps += e.reps;
    else if (r->n < r->cap)
        r->calls[r->n++] = e;
    else
        r->dropped++;
    pthread_mutex_unlock(&lock);
}

double kern_call_flops(const kern_call *c) {
    return 2.0 * c->M * c->N * c->K * c->images * c->reps;
}
