/* scratch.c - see scratch.h. */
#include <stdlib.h>

#include "scratch.h"

float *scratch_reserve(scratch_t *s, size_t floats) {
    if (floats <= s->cap) return s->p;
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) return NULL;
    free(s->p);
    s->p = p;
    s->cap = bytes / sizeof(float);
    return p;
}
