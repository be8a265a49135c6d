/* eval.h - loss and accuracy of one model (parameters + BN buffers) on a dataset,
 * BatchNorm in eval mode with the model's running statistics. */
#ifndef DPPF_EVAL_H
#define DPPF_EVAL_H

#include "checkpoint.h"
#include "dataset.h"
#include "error.h"
#include "net.h"
#include "spec.h"

typedef struct {
    double loss, acc;
    int64_t n;
} eval_result;

/* Forward-only, in batches of ws->max_batch, no augmentation. The scratch
 * arrays hold ws->max_batch entries. */
void eval_model(const net_t *n, net_ws *ws, const float *params, float *buffers,
                const dataset_t *d, const batch_cfg_t *bc, int32_t *labels_scratch,
                int32_t *idx_scratch, eval_result *out);

/* A checkpoint's averaged model, built and ready to evaluate: the checkpoint,
 * the spec's datasets and model (sizes checked against the checkpoint), a
 * workspace for `batch` images with its scratch arrays, and the batch
 * settings (no augmentation is applied by eval_model). */
typedef struct {
    checkpoint_t ckpt;
    dataset_t train, test;
    net_t net;
    net_ws ws;
    batch_cfg_t bc;
    int32_t *labels, *idx; /* ws.max_batch entries each */
} eval_setup;

/* On failure everything opened so far is released (eval_setup_close is
 * still safe to call). */
int eval_setup_open(eval_setup *x, const spec_t *s, const char *ckpt_path, int batch, dp_err *e);
void eval_setup_close(eval_setup *x);

#endif
