/* bench_comm.h - what one sync costs next to a bare MPI_Allreduce of the same bytes. */
#ifndef DPPF_BENCH_COMM_H
#define DPPF_BENCH_COMM_H

#include <stdio.h>

#include "comm.h"
#include "error.h"
#include "spec.h"

/* Builds the spec's model, allocates the M = dist.workers workers of this
 * rank, and times `reps` syncs (workers_average of [params | buffers]: local
 * sum, one allreduce, rounding) against bare allreduces of the same number of
 * doubles. Prints a table (rank 0). Meaningful under mpirun with >= 2 ranks. */
int bench_comm(const spec_t *s, comm_t *c, int reps, FILE *out, dp_err *e);

#endif
