/* train.h - one training run: M logical workers, an algorithm, metrics,
 * checkpoints. */
#ifndef DPPF_TRAIN_H
#define DPPF_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "comm.h"
#include "error.h"
#include "report.h"
#include "spec.h"

typedef struct {
    const char *resume;   /* checkpoint to continue from, or NULL */
    int force;            /* replace the run a run folder holds (its outputs are removed) */
    int force_memory;     /* start even when the run seems not to fit in memory */
    const dp_report *report; /* evaluations and progress (rank 0), nullable */
    FILE *summary;        /* where the final summary goes (stdout), NULL = none */
    /* Set (by a signal handler) to SIGINT or SIGTERM to stop: the run finishes
     * its step, writes checkpoint.bin and returns DP_ESIGINT / DP_ESIGTERM.
     * Nullable. */
    volatile sig_atomic_t *stop;
    const char *command;  /* the command line, recorded in curves.png (nullable) */
} train_opts;

/* Runs training as the spec says; writes <run.out_dir>/{spec.yaml,
 * metrics.csv, checkpoint.bin, checkpoint-e<N>.bin}. */
int train_run(const spec_t *s, const train_opts *o, comm_t *comm, dp_err *e);

#endif
