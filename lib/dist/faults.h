/* faults.h - unreliable synchronisation, simulated deterministically: which
 * workers take part in a sync, which arrive late, and which side of a network
 * partition each is on. Drawn per sync from (seed, the sync's step) only, so
 * every rank of any layout draws the same, and a resumed run the same again.
 *
 *   participation  a fraction of the workers, chosen at random, takes part in
 *                  each sync (federated-style partial participation)
 *   drop_prob      each of them misses the sync with this probability
 *   straggler_*    a worker that takes part arrives `delay` syncs late: it
 *                  contributes its parameters, but resumes from the consensus
 *                  model of `delay` syncs ago (stale), not today's
 *   split_epochs   from epoch a to b the network splits into the workers
 *                  [0, M/2) and [M/2, M), which average only among themselves
 * What a missed sync means for each algorithm: README "Unreliable networks". */
#ifndef DPPF_FAULTS_H
#define DPPF_FAULTS_H

#include <stdint.h>

typedef struct {
    float drop_prob;       /* [0, 1] */
    float participation;   /* (0, 1]: the fraction that takes part (0 also means all) */
    float straggler_prob;  /* [0, 1] */
    int straggler_delay;   /* syncs late, >= 1 */
    float split_from, split_to; /* epochs of the partition; split_to <= split_from: none */
    uint64_t seed;
} faults_cfg;

/* Does the configuration make any sync differ from a reliable one? */
int faults_enabled(const faults_cfg *c);

/* One sync's draw for M workers at `step` (epoch = its fractional epoch):
 * present[i] = worker i takes part, late[i] = it is a straggler, group[i] =
 * its side of a partition (0 outside one). Returns how many take part. */
int faults_draw(const faults_cfg *c, int M, int64_t step, double epoch, unsigned char *present,
                unsigned char *late, unsigned char *group);

#endif
