/* scratch.h - a float buffer that grows on demand and is then reused.
 *
 * For per-thread working memory in the hot loops (declare it _Thread_local):
 * it is allocated the first time a size is needed and kept, so the training
 * loop does not allocate, as BLIS keeps its packing pool. A thread's buffers
 * are freed when the thread ends (OpenMP ends threads when a later team is
 * smaller), not only at process exit. */
#ifndef DPPF_SCRATCH_H
#define DPPF_SCRATCH_H

#include <stddef.h>

typedef struct scratch_t {
    float *p;
    size_t cap;             /* floats */
    struct scratch_t *next; /* this thread's other buffers, freed with it */
    int owned;              /* on this thread's list */
} scratch_t;

/* At least `floats` floats, 64-byte aligned (contents not kept when it
 * grows), or NULL when it cannot grow (the old buffer is kept then).
 * `s` must be _Thread_local (or live as long as the calling thread). */
float *scratch_reserve(scratch_t *s, size_t floats);

#endif
