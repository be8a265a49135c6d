/* sampler.h - which training samples each worker's batch holds at each step.
 *
 * IID (the default): one permutation of the training set per epoch, the same
 * for every worker, determined by (seed, epoch); at step s worker i takes
 * block s*M + i, so M workers at batch B see exactly the samples one worker
 * at batch M*B sees.
 *
 * Partitioned (non-IID): the training set is split once into one part per
 * worker, and each worker samples only from its own part, a fresh
 * permutation of it per epoch (seeded by seed, epoch and worker; a part
 * shorter than an epoch's batches wraps around):
 *   dirichlet  label skew as Hsu et al. 2019: for every class, proportions
 *              p ~ Dirichlet(alpha, ..., alpha) over the M workers split that
 *              class's samples (alpha -> infinity: every worker the same mix;
 *              alpha -> 0: each class on few workers)
 *   shards     McMahan et al. 2017: the samples sorted by label are cut into
 *              M * k equal shards, and each worker gets k of them at random
 * An epoch still means the training set seen once by all workers together:
 * the same number of steps as IID. Every rank computes the same partition. */
#ifndef DPPF_SAMPLER_H
#define DPPF_SAMPLER_H

#include <stdint.h>

#include "batch.h"
#include "error.h"

typedef enum { PART_IID, PART_DIRICHLET, PART_SHARDS, PART_COUNT } partition_kind;
#define PARTITION_NAMES {"iid", "dirichlet", "shards"}

typedef struct {
    int kind;               /* PART_* */
    double alpha;           /* dirichlet */
    int shards;             /* shards per worker */
    int workers, first, local; /* M, and this rank's workers [first, first + local) */
    int batch;
    int64_t steps_per_epoch;
    uint64_t seed;
} sampler_cfg;

typedef struct {
    sampler_cfg cfg;
    const dataset_t *data;
    int32_t *perm;     /* IID: the epoch's permutation [n]; partitioned: each local
                          worker's permutation of its part, one after another */
    int64_t perm_epoch;
    int32_t *part;     /* partitioned: sample indices grouped by worker [n] */
    int64_t *start;    /* partitioned: worker i owns part[start[i] .. start[i + 1]) */
    int64_t *pstart;   /* partitioned: local worker k's permutation at perm + pstart[k] */
    int32_t *batch;    /* a wrapped-around batch [B] */
} sampler_t;

/* DP_EUSAGE naming the key when the partition cannot be made (a worker would
 * get no samples, more workers than shards can give labels to). */
int sampler_init(sampler_t *s, const sampler_cfg *c, const dataset_t *d, dp_err *e);
void sampler_free(sampler_t *s);

/* The B sample indices of worker `worker`'s batch at step `step` (0-based);
 * valid until the next call. worker must be one of this rank's. */
const int32_t *sampler_batch(sampler_t *s, int worker, int64_t step);

/* counts[classes] = how many samples of each class worker `worker`'s part
 * holds (IID: its share of an epoch, n / M, in the set's class mix);
 * returns the part's size. */
int64_t sampler_histogram(const sampler_t *s, int worker, int64_t *counts);

/* Label skew: the mean over workers of the total-variation distance between
 * a worker's label distribution and the whole set's (0 = every worker the
 * same mix; near 1 = disjoint classes). */
double sampler_skew(const sampler_t *s);

#endif
