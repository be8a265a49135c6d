/* objective.h - the loss of given parameters on a fixed data subset, with
 * BatchNorm in eval mode (the model's running statistics as constants): what
 * the flatness measures and loss landscapes evaluate. */
#ifndef DPPF_OBJECTIVE_H
#define DPPF_OBJECTIVE_H

#include "dataset.h"
#include "net.h"

typedef struct {
    const net_t *net;
    const dataset_t *data;
    batch_cfg_t bc;
    int n;                 /* samples used: the first n of `data` */
    const float *buffers;  /* BN running statistics */
    net_ws ws;
    int32_t *labels, *idx;
    float *tmp;            /* one batch's gradient */
} objective_t;

/* Uses the first n samples of d (n <= 0 or > d->n: all), in batches of `batch`. */
int objective_init(objective_t *o, const net_t *net, const dataset_t *d, const batch_cfg_t *bc,
                   int n, int batch, const float *buffers, dp_err *e);
void objective_free(objective_t *o);

/* Mean loss over the samples; *acc (nullable) gets the accuracy. */
double objective_loss(objective_t *o, const float *params, double *acc);
/* Mean loss, and its gradient with respect to the parameters into grad[n_params]. */
double objective_grad(objective_t *o, const float *params, float *grad);

#endif
