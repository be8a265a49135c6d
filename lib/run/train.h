/* train.h - one training run: M logical workers, an algorithm, metrics,
 * checkpoints; and evaluating a checkpoint. Shared by every subcommand. */
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
} train_opts;

/* Runs training as the spec says; writes <run.out_dir>/{spec.yaml,
 * metrics.csv, checkpoint.bin, checkpoint-e<N>.bin}. */
int train_run(const spec_t *s, const train_opts *o, comm_t *comm, dp_err *e);

typedef struct {
    double train_loss, train_acc, test_loss, test_acc;
    long n_train, n_test;
    int workers;
    long long step;
} eval_report;

/* Evaluates a checkpoint's averaged model on the spec's train and test sets
 * (`s` is the checkpoint's spec, possibly with data overrides) and, when
 * predictions_csv is not NULL, writes its per-sample test outputs there
 * (predict.h) from the same loaded model and data. */
int eval_checkpoint(const spec_t *s, const char *ckpt_path, const char *predictions_csv, eval_report *r,
                    dp_err *e);

/* Writes a checkpoint at step 0 that resumes as a fresh run of `s` would
 * start, except that every worker holds the given model (params, BN buffers):
 * how `dppf import` hands a PyTorch-initialised model to `dppf train --resume`. */
int train_write_start(const spec_t *s, const float *params, size_t n_params,
                      const float *buffers, size_t n_buffers, const char *path, dp_err *e);

/* Loads the spec stored in a checkpoint. */
int spec_from_checkpoint(spec_t *s, const char *ckpt_path, dp_err *e);

#endif
