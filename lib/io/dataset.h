/* dataset.h - image classification datasets held in memory as uint8 pixels,
 * and turning a list of sample indices into a normalised, augmented batch.
 *
 * Formats: IDX (MNIST / Fashion-MNIST; plain or .gz through zlib), CIFAR-10
 * binary batches, and a seeded synthetic set that needs no files. */
#ifndef DPPF_DATASET_H
#define DPPF_DATASET_H

#include <stdint.h>

#include "error.h"
#include "rng.h"
#include "spec.h"

typedef struct {
    int n, c, h, w, classes;
    uint8_t *images; /* [n][c][h][w], 0..255 */
    uint8_t *labels; /* [n], 0..classes-1 */
} dataset_t;

/* Loads train and test sets as the spec says (data.dataset, data.path or the
 * dataset's default folder, subsets). Missing or corrupt files give DP_EIO
 * with the path and what is wrong. */
int dataset_load(const spec_t *s, dataset_t *train, dataset_t *test, dp_err *e);
void dataset_free(dataset_t *d);

/* The folder used when data.path is empty ("" for synthetic). */
const char *dataset_default_path(const char *name);

/* Individual readers (also used by tests and the datasets/ check tool). */
int idx_load(const char *images_path, const char *labels_path, dataset_t *d, dp_err *e);
int cifar10_load(const char *dir, int train, dataset_t *d, dp_err *e);
/* Learnable synthetic data: each class has a random prototype image, samples
 * are prototype + noise; fully determined by seed. */
int synthetic_make(dataset_t *train, dataset_t *test, int c, int h, int w, int classes,
                   int n_train, int n_test, uint64_t seed, dp_err *e);
/* Keep the first n samples, or a random n (seeded) when random != 0, in place. */
int dataset_subset(dataset_t *d, int n, int random, uint64_t seed, dp_err *e);

/* How a batch is made from raw samples. */
typedef struct {
    int c;
    float mean[4], std[4]; /* per channel, on the 0..1 pixel scale */
    int normalize;
    int crop_pad;          /* random crop with zero padding (train only) */
    int flip;              /* random horizontal flip (train only) */
} batch_cfg_t;

/* Fills batch_cfg from the spec: dataset default mean/std and flip policy
 * (flip off for MNIST/Fashion-MNIST, on for CIFAR-10) unless the spec sets them. */
void batch_cfg_from_spec(batch_cfg_t *bc, const spec_t *s, const dataset_t *train);

/* x [B][c][h][w] floats, y [B]. Augments when `augment` and r != NULL. */
void batch_fill(float *x, int32_t *y, const dataset_t *d, const int32_t *idx, int B,
                const batch_cfg_t *bc, int augment, rng_t *r);

/* The permutation of 0..n-1 used for epoch `epoch` (same for all workers;
 * worker i takes its shard from it). Determined by (seed, epoch) only. */
void epoch_permutation(int32_t *perm, int n, uint64_t seed, int64_t epoch);

#endif
