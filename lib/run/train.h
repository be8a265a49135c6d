/* train.h - one training run: M logical workers, an algorithm, metrics,
 * checkpoints. */
#ifndef DPPF_TRAIN_H
#define DPPF_TRAIN_H

#include <stdio.h>

#include "comm.h"
#include "error.h"
#include "report.h"
#include "spec.h"

typedef struct {
    const char *resume;   /* checkpoint to continue from, or NULL */
    int force;            /* reuse a run folder that already holds another run */
    const dp_report *report; /* evaluations and progress (rank 0), nullable */
    FILE *summary;        /* where the final summary goes (stdout), NULL = none */
    const char *command;  /* the command line, recorded in curves.png (nullable) */
} train_opts;

/* Runs training as the spec says; writes <run.out_dir>/{spec.yaml,
 * metrics.csv, checkpoint.bin, checkpoint-e<N>.bin}. */
int train_run(const spec_t *s, const train_opts *o, comm_t *comm, dp_err *e);

#endif
