/* spec_map.h - what a resolved spec asks of each module: the plain
 * configuration structs that the lower layers take (they never see the
 * YAML spec). One function per module. */
#ifndef DPPF_SPEC_MAP_H
#define DPPF_SPEC_MAP_H

#include <stdint.h>

#include "algo.h"
#include "model.h"
#include "netmodel.h"
#include "optim.h"
#include "sampler.h"
#include "spec.h"

/* The spec's model for inputs of in_c x in_h x in_w and `classes` classes. */
void spec_model_cfg(model_cfg *m, const spec_t *s, int in_c, int in_h, int in_w, int classes);
/* The same with the input shape and classes of the spec's dataset
 * (io/dataset.h: dataset_shape), without loading it. */
int spec_model_cfg_for_data(model_cfg *m, const spec_t *s, dp_err *e);
/* The algorithm's settings; the run adds what the spec does not know (the
 * parameter layout .net, the run's length .total_epochs). */
void spec_algo_cfg(algo_cfg *a, const spec_t *s);
void spec_netmodel_cfg(netmodel_cfg *n, const spec_t *s);
/* How this rank's workers [first, first + local) draw their batches. */
void spec_sampler_cfg(sampler_cfg *c, const spec_t *s, int first, int local, int64_t steps_per_epoch);
void spec_sgd_cfg(sgd_cfg_t *c, const spec_t *s);
/* The learning-rate schedule of a run of `total_steps` steps of which
 * `steps_per_epoch` make an epoch. */
void spec_lr_schedule(lr_schedule_t *l, const spec_t *s, int64_t steps_per_epoch, int64_t total_steps);

#endif
