/* batch.h - an image classification dataset held in memory as uint8 pixels,
 * and turning a list of sample indices into a normalised, augmented batch:
 * what training, evaluation and the flatness measures read. Loading from
 * files is io/dataset.h. */
#ifndef DPPF_BATCH_H
#define DPPF_BATCH_H

#include <stdint.h>

#include "rng.h"

typedef struct {
    int n, c, h, w, classes;
    uint8_t *images; /* [n][c][h][w], 0..255 */
    uint8_t *labels; /* [n], 0..classes-1 */
} dataset_t;

void dataset_free(dataset_t *d);

/* How a batch is made from raw samples. */
typedef struct {
    int c;
    float mean[4], std[4]; /* per channel, on the 0..1 pixel scale */
    int normalize;
    int crop_pad;          /* random crop with zero padding (train only) */
    int flip;              /* random horizontal flip (train only) */
} batch_cfg_t;

/* x [B][c][h][w] floats, y [B]. Augments when `augment` and r != NULL. */
void batch_fill(float *x, int32_t *y, const dataset_t *d, const int32_t *idx, int B,
                const batch_cfg_t *bc, int augment, rng_t *r);

/* The permutation of 0..n-1 used for epoch `epoch` (same for all workers;
 * worker i takes its shard from it). Determined by (seed, epoch) only. */
void epoch_permutation(int32_t *perm, int n, uint64_t seed, int64_t epoch);

#endif
