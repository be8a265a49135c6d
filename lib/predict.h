/* predict.h - per-sample outputs of a checkpoint's model on the test set, for
 * comparing dppf with another implementation (tests/torch_check_export.py). */
#ifndef DPPF_PREDICT_H
#define DPPF_PREDICT_H

#include "error.h"
#include "spec.h"

/* Writes CSV "index,label,pred,logit0,...,logit<K-1>", one row per test
 * sample, for the averaged model in eval mode (`s` as for eval_checkpoint). */
int predict_checkpoint(const spec_t *s, const char *ckpt_path, const char *out_csv, dp_err *e);

#endif
