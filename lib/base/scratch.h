/* scratch.h - a float buffer that grows on demand and is then reused.
 *
 * For per-thread working memory in the hot loops (declare it _Thread_local):
 * it is allocated the first time a size is needed and kept, so the training
 * loop does not allocate, as BLIS keeps its packing pool. */
#ifndef DPPF_SCRATCH_H
#define DPPF_SCRATCH_H

#include <stddef.h>

typedef struct {
    float *p;
    size_t cap; /* floats */
} scratch_t;

/* At least `floats` floats, 64-byte aligned (contents not kept when it
 * grows), or NULL when it cannot grow (the old buffer is kept then). */
float *scratch_reserve(scratch_t *s, size_t floats);

#endif
