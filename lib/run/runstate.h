/* runstate.h - a run's state <-> its checkpoint, and opening a checkpoint
 * together with the model (and data) its spec describes.
 *
 * This is the one module that knows how training state maps onto the
 * checkpoint file (io/checkpoint.h): every worker's parameters, BN buffers,
 * momentum and random stream, the averaged model, and in the `extra` floats
 * the run's counters followed by the algorithm's own state (dist/algo.h),
 * and, when any is not zero, a tail: the training-loss sums since the last
 * evaluation (a run stopped between two by a signal) and the modeled time so
 * far (net.*). */
#ifndef DPPF_RUNSTATE_H
#define DPPF_RUNSTATE_H

#include <stdint.h>

#include "algo.h"
#include "batch.h"
#include "checkpoint.h"
#include "comm.h"
#include "net.h"
#include "spec.h"
#include "workers.h"

/* What a checkpoint of a running training holds, as views into the
 * trainer's objects. */
typedef struct {
    const char *spec_yaml; /* the resolved spec */
    worker_set *wk;
    algo_t *algo;
    comm_t *comm;          /* its sync counters are saved and restored too */
    int64_t step, steps_per_epoch;
    int64_t total_steps;   /* load: the run's length; a checkpoint beyond it is refused */
    double wall;           /* training seconds so far */
    double *interval;      /* [3]: this rank's training loss, correct and samples since the
                              last evaluation (kept when a run stops between two) */
    double *modeled_compute; /* modeled compute seconds so far (with comm->modeled_s, the
                                modeled time of net.*) */
} run_state;

/* Collective (every rank calls it): gathers every worker on rank 0, which
 * writes the checkpoint atomically. Leaves the workers' average in wk->avg. */
int runstate_save(run_state *r, const char *path, dp_err *e);
/* Every rank reads the checkpoint and takes its own workers' state, the
 * counters (step, wall, sync rounds and bytes, spread) and the algorithm's
 * state. The checkpoint must have been written by a run of the same spec. */
int runstate_load(run_state *r, const char *path, dp_err *e);

/* A checkpoint at step 0 that resumes as a fresh run of `s` would start,
 * except that every worker holds the given model (params, BN buffers): how
 * `dppf import` hands a PyTorch-initialised model to `dppf train --resume`. */
int runstate_write_start(const spec_t *s, const net_t *net, const float *params, const float *buffers,
                         const char *path, dp_err *e);

/* The spec stored in a checkpoint (defaults, then the stored YAML). */
int spec_from_checkpoint(spec_t *s, const char *ckpt_path, dp_err *e);

/* A checkpoint with the model its spec builds, sizes checked against the
 * checkpoint; with data, the spec's train and test sets and batch settings
 * too (the model is then built for the loaded data's shape). */
typedef struct {
    checkpoint_t ckpt;
    net_t net;
    dataset_t train, test; /* empty without data */
    batch_cfg_t bc;
} ckpt_model;

/* `s` is the checkpoint's spec, possibly with data overrides. On failure
 * everything opened so far is released (ckpt_model_close is still safe). */
int ckpt_model_open(ckpt_model *x, const spec_t *s, const char *path, int with_data, dp_err *e);
void ckpt_model_close(ckpt_model *x);

#endif
