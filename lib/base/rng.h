/* rng.h - deterministic random numbers (xoshiro256**, seeded by splitmix64).
 *
 * Every stream is derived from (seed, stream id) so that a worker's data
 * order, init and dropout depend on the run seed and the worker index only,
 * never on the MPI rank or thread layout. The state is 4 words so it can be
 * stored in checkpoints. */
#ifndef DPPF_RNG_H
#define DPPF_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_t;

void rng_init(rng_t *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(rng_t *r);
double rng_uniform(rng_t *r);            /* [0, 1) with 53 random bits */
uint32_t rng_below(rng_t *r, uint32_t n); /* uniform in [0, n), unbiased; n > 0 */
double rng_normal(rng_t *r);             /* standard normal (Box-Muller) */
void rng_shuffle_i32(rng_t *r, int32_t *a, size_t n); /* Fisher-Yates */
double rng_gamma(rng_t *r, double shape);  /* Gamma(shape, 1), shape > 0 (Marsaglia & Tsang 2000) */

/* Stream ids: keep them distinct so that different uses never share a stream. */
enum {
    RNG_STREAM_INIT = 1,
    RNG_STREAM_DATA_SUBSET = 2,
    RNG_STREAM_SYNTHETIC = 3,
    RNG_STREAM_SHUFFLE = 4,  /* + epoch * 1000003 */
    RNG_STREAM_WORKER = 16,  /* + worker index: augmentation, dropout */
    RNG_STREAM_PARTITION = 5, /* how a non-IID partition splits the training set */
};
/* A worker's shuffle of its own part of a partitioned training set:
 * RNG_STREAM_PART_SHUFFLE + epoch * 65536 + worker (far above every other stream). */
#define RNG_STREAM_PART_SHUFFLE (UINT64_C(1) << 40)

#endif
