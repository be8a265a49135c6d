#include <math.h>
#include <string.h>

#include "faults.h"
#include "rng.h"

/* Far above every other stream (rng.h): one per sync, keyed by its step. */
#define RNG_STREAM_FAULTS (UINT64_C(2) << 40)

/* Partial participation; 0 (a zeroed config) and 1 both mean everyone. */
static int partial(const faults_cfg *c) { return c->participation > 0 && c->participation < 1; }

int faults_enabled(const faults_cfg *c) {
    return c->drop_prob > 0 || partial(c) || c->straggler_prob > 0 || c->split_to > c->split_from;
}

int faults_draw(const faults_cfg *c, int M, int64_t step, double epoch, unsigned char *present,
                unsigned char *late, unsigned char *group) {
    rng_t r;
    rng_init(&r, c->seed, RNG_STREAM_FAULTS + (uint64_t)step);
    memset(present, 1, (size_t)M);
    memset(late, 0, (size_t)M);
    if (partial(c)) { /* exactly round(fraction * M) of them, at least one */
        int take = (int)lround(c->participation * M);
        if (take < 1) take = 1;
        memset(present, 0, (size_t)M);
        for (int i = 0, left = take; i < M; i++) /* selection sampling: uniform subsets */
            if ((int)rng_below(&r, (uint32_t)(M - i)) < left) present[i] = 1, left--;
    }
    int n = 0;
    for (int i = 0; i < M; i++) {
        if (present[i] && c->drop_prob > 0 && rng_uniform(&r) < c->drop_prob) present[i] = 0;
        if (present[i] && c->straggler_prob > 0 && rng_uniform(&r) < c->straggler_prob) late[i] = 1;
        n += present[i];
    }
    int split = c->split_to > c->split_from && epoch >= c->split_from && epoch < c->split_to;
    for (int i = 0; i < M; i++) group[i] = split && i >= M / 2;
    return n;
}
