/* fuzz_dataset.h - what the dataset harnesses do with a set that loaded:
 * check its shape and labels, then turn a few samples into an augmented batch
 * (crop with padding, flip, per-channel statistics) as training does. */
#ifndef DPPF_FUZZ_DATASET_H
#define DPPF_FUZZ_DATASET_H

#include <stdint.h>
#include <stdlib.h>

#include "dataset.h"
#include "fuzz_util.h"

static inline void fuzz_use_dataset(const dataset_t *d, int crop_pad, uint64_t seed) {
    FUZZ_CHECK(d->n >= 1 && d->c >= 1 && d->h >= 1 && d->w >= 1, "n %d, shape %d x %d x %d", d->n,
               d->c, d->h, d->w);
    FUZZ_CHECK(d->classes >= 2 && d->classes <= 256, "%d classes", d->classes);
    for (int i = 0; i < d->n; i++)
        FUZZ_CHECK(d->labels[i] < d->classes, "label %d of sample %d, %d classes", d->labels[i], i,
                   d->classes);
    spec_t s;
    spec_defaults(&s);
    s.data.dataset = DATA_SYNTHETIC; /* statistics measured on the data */
    s.data.crop_pad = crop_pad;
    s.data.flip = 1;
    batch_cfg_t bc;
    batch_cfg_from_spec(&bc, &s, d);
    enum { B = 4 };
    int32_t idx[B], y[B];
    for (int b = 0; b < B; b++) idx[b] = (int32_t)((d->n - 1 - b * 7919 % d->n + d->n) % d->n);
    float *x = malloc((size_t)B * d->c * d->h * d->w * sizeof *x);
    if (!x) return;
    rng_t r;
    rng_init(&r, seed, RNG_STREAM_WORKER);
    batch_fill(x, y, d, idx, B, &bc, 1, &r);
    for (int b = 0; b < B; b++) FUZZ_CHECK(y[b] == d->labels[idx[b]], "label of batch row %d", b);
    free(x);
}

#endif
