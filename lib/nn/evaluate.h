/* evaluate.h - a model's loss over a dataset, BatchNorm in eval mode (the
 * model's running statistics as constants): the one loop under evaluation
 * during training, `dppf eval` and its predictions, and the objective that
 * the flatness measures and loss landscapes evaluate. */
#ifndef DPPF_EVALUATE_H
#define DPPF_EVALUATE_H

#include <stdint.h>

#include "batch.h"
#include "error.h"
#include "net.h"

typedef struct {
    double loss, acc;
    int64_t n;
} eval_result;

/* Called after the forward pass of each batch, samples [start, start + B):
 * the workspace holds its activations (ws->act[] of the last op's output
 * slot: the logits) and `labels` its labels. */
typedef void (*batch_hook)(void *ctx, net_ws *ws, const int32_t *labels, int start, int B);

/* Forward over the first `count` samples of d (count <= 0 or > d->n: all) in
 * batches of ws->max_batch, no augmentation, mode NET_EVAL or NET_EVAL_GRAD
 * (when the hook runs a backward pass). labels and idx hold ws->max_batch
 * entries. Mean loss and accuracy into *out. */
void eval_dataset(const net_t *n, net_ws *ws, const float *params, const float *buffers,
                  const dataset_t *d, const batch_cfg_t *bc, int count, int mode, int32_t *labels,
                  int32_t *idx, batch_hook hook, void *ctx, eval_result *out);

/* The whole dataset, forward only (eval_dataset without a hook). */
void eval_model(const net_t *n, net_ws *ws, const float *params, const float *buffers,
                const dataset_t *d, const batch_cfg_t *bc, int32_t *labels, int32_t *idx,
                eval_result *out);

/* The loss of given parameters on a fixed data subset, as a function to
 * probe (flatness measures, landscapes): owns its workspaces. Built for
 * evaluating many parameter points on the same samples:
 *  - the samples are normalised once (`inputs`, when they fit in
 *    OBJ_CACHE_BYTES), not for every point;
 *  - objective_loss runs the forward passes in chunks of a few dozen images
 *    (`chunk`), whose activations stay in cache, spread over `lanes` threads
 *    (one workspace each), and then takes the loss of each batch of `batch`
 *    samples from their logits. Every image's logits are the same whatever
 *    its chunk or thread, so the loss is bit for bit eval_dataset's with
 *    batches of `batch`, for any thread count. */
typedef struct {
    net_ws ws;             /* lane 0's holds a whole batch (objective_grad uses it) */
    int32_t *idx, *labels; /* as many as ws holds */
} objective_lane;

typedef struct {
    const net_t *net;
    const dataset_t *data;
    batch_cfg_t bc;
    int n;                 /* samples used: the first n of `data` */
    int batch, chunk;      /* samples per loss batch, images per forward pass */
    const float *buffers;  /* BN running statistics */
    int n_lanes;
    objective_lane *lanes;
    float *inputs;         /* the n normalised samples, or NULL (filled chunk by chunk) */
    int32_t *labels;       /* [n] */
    float *logits;         /* [n][classes] */
    float *probs;          /* [batch][classes] */
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
