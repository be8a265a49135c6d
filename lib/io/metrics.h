/* metrics.h - metrics.csv: one row per evaluation, stable documented columns.
 *
 * Columns (in this order; later versions only append new columns):
 *   epoch                 fractional epochs completed (steps / steps per epoch)
 *   step                  optimizer steps completed (per worker)
 *   lr                    learning rate of the last step
 *   train_loss,train_acc  mean over the steps since the previous row, over all
 *                         workers (train mode, augmented) - or, with
 *                         run.eval_train, the averaged model on the full train set
 *   test_loss,test_acc    the workers' averaged model on the test set
 *   samples_per_s         training samples per second since the previous row (all workers)
 *   wall_s                seconds of training so far (excluding evaluation)
 *   comm_rounds           syncs so far (cumulative)
 *   comm_bytes_per_worker bytes each worker has sent so far (cumulative)
 *   tau_now               current sync period in steps (1 for ddp)
 *   spread_mean,spread_max  mean and max over workers of ||x_i - avg|| at the last sync
 *   worker_test_acc       mean test accuracy of the individual workers (= test_acc when M = 1)
 *   syncs_missed          worker-syncs missed so far (dist.drop_prob, dist.participation)
 *   participants_mean     mean workers per sync so far (M when every sync is reliable)
 *   ema_test_loss,ema_test_acc  the EMA of the averaged model (run.ema_decay) on the test
 *                         set; nan when run.ema_decay is 0
 *   modeled_time_s        modeled wall-clock seconds on the spec's network (net.*): compute
 *                         of the steps plus the modeled syncs; 0 with net.model none
 * Accuracies are fractions in [0, 1]. */
#ifndef DPPF_METRICS_H
#define DPPF_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct {
    double epoch;
    int64_t step;
    double lr, train_loss, train_acc, test_loss, test_acc, samples_per_s, wall_s;
    uint64_t comm_rounds, comm_bytes;
    int tau_now;
    double spread_mean, spread_max, worker_test_acc;
    double ema_test_loss, ema_test_acc; /* NAN without run.ema_decay */
    double modeled_time_s;
    double syncs_missed, participants_mean; /* unreliable syncs (dist.drop_prob, ...) */
} metrics_row;

extern const char METRICS_HEADER[];

typedef struct {
    FILE *f;
    char path[1100];
} metrics_writer;

/* Creates <dir>/metrics.csv; when keep_until_step >= 0 (resume) keeps the
 * existing rows with step <= keep_until_step and appends after them. */
int metrics_open(metrics_writer *m, const char *dir, int64_t keep_until_step, dp_err *e);
int metrics_append(metrics_writer *m, const metrics_row *r, dp_err *e);
void metrics_close(metrics_writer *m);

#endif
