/* eval.h - loss and accuracy of one model (parameters + BN buffers) on a dataset,
 * BatchNorm in eval mode with the model's running statistics. */
#ifndef DPPF_EVAL_H
#define DPPF_EVAL_H

#include "dataset.h"
#include "net.h"

typedef struct {
    double loss, acc;
    int64_t n;
} eval_result;

/* Forward-only, in batches of ws->max_batch, no augmentation. The scratch
 * arrays hold ws->max_batch entries. */
void eval_model(const net_t *n, net_ws *ws, const float *params, float *buffers,
                const dataset_t *d, const batch_cfg_t *bc, int32_t *labels_scratch,
                int32_t *idx_scratch, eval_result *out);

#endif
