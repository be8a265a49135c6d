/* comm.h - the one communication layer: means of flat buffers over all
 * logical workers, whichever ranks hold them. Nothing else calls MPI.
 *
 * Without mpirun (no MPI launcher environment) everything runs in one process
 * and MPI is never initialised, so tests and the quickstart need no MPI. */
#ifndef DPPF_COMM_H
#define DPPF_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "netmodel.h"

typedef struct {
    int rank, size;    /* this process among `size` ranks */
    int node_ranks;    /* ranks on this machine (1 without MPI) */
    int mpi;           /* MPI was initialised by comm_init */
    int workers;       /* M logical workers in total */
    int local, first;  /* this rank runs workers [first, first + local) */
    uint64_t rounds;   /* parameter/gradient syncs so far */
    uint64_t bytes;    /* bytes each worker has contributed to syncs so far */
    netmodel_cfg net;  /* the network a modeled time is computed for (kind 0: none) */
    int participants;  /* workers taking part in the next counted round (0: all): an
                          unreliable sync (dist/faults.h) counts what they send */
    double modeled_s;  /* seconds the counted rounds would take on that network (each
                          charged as an allreduce of its bytes: dist/netmodel.h) */
    double *acc;       /* reduction scratch (see comm_mean_workers) */
    size_t acc_cap;
    struct comm_shm *shm; /* the workers' buffers shared with this machine's ranks, or NULL */
} comm_t;

/* Is this process started by an MPI launcher (mpirun/mpiexec)? */
int comm_launched_by_mpi(void);
/* Initialises MPI when launched by mpirun; splits M workers evenly over the
 * ranks (error if M is not divisible by the rank count). */
int comm_init(comm_t *c, int workers, dp_err *e);
/* Only the rank/size part (for tools that split work, not workers). */
int comm_init_ranks(comm_t *c, dp_err *e);
void comm_finalize(comm_t *c);

/* Threads per process when run.threads is 0 (auto): the CPUs this process may
 * run on (its affinity mask, so taskset limits it), shared among this
 * machine's ranks, at least 1. c may be NULL (one process). */
int comm_auto_threads(const comm_t *c);
/* run.threads if set, else comm_auto_threads(c). */
int comm_threads(int run_threads, const comm_t *c);

/* Reserves the reduction scratch for buffers of up to n floats (once, at set-up,
 * so that syncs never allocate). */
int comm_reserve(comm_t *c, size_t n, dp_err *e);

/* Zeroed storage for the local workers' buffers (`floats` floats), shared with
 * the other ranks on this machine, so that the means below read every
 * worker's buffer where it lies: a barrier, one pass of each rank over its
 * 1/r block of the elements (r ranks a machine) writing the result into every
 * rank's `out` directly, a barrier; with several machines the pass sums the
 * machine's workers and the ranks of the same block add their machines' sums
 * with one MPI_Allreduce of that block before writing. That replaces summing
 * locally, MPI_Allreduce-ing all the doubles and rounding.
 * Collective: every rank calls it with the same sizes and then lays its
 * workers out the same way, and a mean takes this path when its bufs and out
 * all lie in the storage (at the same offsets on every rank, which that gives).
 * Needs r > 1 ranks on every machine, the same r, consecutive ranks together
 * (DPPF_SYNC_NODE_RANKS=k in the environment makes groups of k consecutive
 * ranks stand for machines, to try it on one). Returns NULL when it does not
 * apply (one rank, one rank a machine, uneven machines, no room in /dev/shm,
 * DPPF_SYNC_SHM=0 in the environment): the caller then allocates, and means
 * go through MPI_Allreduce. The storage belongs to c (comm_finalize frees
 * it; a second call replaces it). Every path sums in double, in worker order
 * within a machine, so they give the same bits. */
float *comm_shared_workers(comm_t *c, size_t floats);
/* Is p the storage comm_shared_workers returned? */
int comm_owns(const comm_t *c, const void *p);
/* How the means reduce over ranks: "none" (one rank), "shared memory",
 * "shared memory within machines, MPI_Allreduce across them" or "MPI_Allreduce". */
const char *comm_sync_path(const comm_t *c);

/* out[0..n) = mean over all M workers of bufs[k][0..n) (k = local workers).
 * The sum is accumulated in double (locally, then one MPI_Allreduce of
 * doubles) and rounded to float once: a sum of a few floats of similar
 * magnitude is exact in double, so the result does not depend on how the
 * workers are laid out over ranks, bit for bit. (In float, the order of the
 * additions changes the last bit, and DPPF's push direction (x - avg)/|x - avg|
 * amplifies that difference.) Counts one round and n*8 bytes per worker
 * (what the allreduce carries) when `count` is set and M > 1. out may alias bufs[0]. */
int comm_mean_workers(comm_t *c, float *const *bufs, size_t n, float *out, int count, dp_err *e);


/* out[0..n) = weighted mean over all M workers of bufs[k][0..n), per range:
 * [0, n) is cut into n_ranges ranges ending at range_end[r] (increasing, the
 * last = n), and element j of range r is sum_i w[i][r] x_i[j] / sum_i w[i][r]
 * (w: [M][n_ranges], every worker's weights, the same on every rank). Like
 * comm_mean_workers, summed in double and rounded once; with weights that
 * are integers of at most 12 bits each product is exact in double, so the
 * result is layout-independent under the same condition as the plain mean,
 * and equal power-of-two weights give comm_mean_workers' result bit for bit.
 * Counts one round and n*8 bytes per worker when `count` is set and M > 1. */
int comm_weighted_mean_workers(comm_t *c, float *const *bufs, size_t n, const size_t *range_end,
                               int n_ranges, const float *w, float *out, int count, dp_err *e);

/* all = M slots of `slot_bytes` each, in worker order: every rank has filled
 * the slots of its own workers [first, first + local) and afterwards holds
 * every slot (one MPI_Allgather). Counts one round and slot_bytes per worker
 * when `count` is set and M > 1. */
int comm_allgather_workers(comm_t *c, void *all, size_t slot_bytes, int count, dp_err *e);

/* buf[0..n), filled by the rank that runs worker `worker`, copied to every
 * rank. Counts one round and n*4 bytes per worker (the floats it carries)
 * when `count` is set and M > 1. */
int comm_broadcast_worker(comm_t *c, int worker, float *buf, size_t n, int count, dp_err *e);

/* Element-wise sum over ranks of doubles (metrics; not counted). */
int comm_sum_f64(comm_t *c, double *vals, int n, dp_err *e);
/* Element-wise max over ranks of doubles. */
int comm_max_f64(comm_t *c, double *vals, int n, dp_err *e);

/* Rank 0 receives every rank's `n_local` floats into all[size * n_local]
 * (in rank order = worker order); other ranks' `all` may be NULL. */
int comm_gather_to_root(comm_t *c, const float *local, size_t n_local, float *all, dp_err *e);
/* Rank 0's buf[0..n) is copied to every rank. */
int comm_broadcast(comm_t *c, void *buf, size_t bytes, dp_err *e);

/* All ranks agree whether any rank failed: returns the largest error code
 * given by any rank (0 if none). Keeps one failing rank from hanging the rest. */
int comm_agree_error(comm_t *c, int local_code);

/* Seconds of one bare MPI_Allreduce (sum, in place) of buf[0..n), doubles
 * (elem 8) or floats (elem 4), timed from a barrier: the yardstick for a sync.
 * 0 when not under MPI, -1 on error. */
double comm_time_bare_allreduce(comm_t *c, void *buf, size_t n, size_t elem, dp_err *e);

/* Makes the whole job exit with `code` (MPI_Abort when several ranks). */
void comm_abort(comm_t *c, int code);

/* The MPI library's version string, first line ("Open MPI v4.1.4, package: ...");
 * MPI allows the call before MPI_Init, so it works in any process. */
void comm_library_version(char *buf, size_t size);

#endif
