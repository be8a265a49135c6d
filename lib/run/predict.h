/* predict.h - per-sample outputs of a checkpoint's model on the test set, for
 * comparing dppf with another implementation (tests/torch_check_export.py). */
#ifndef DPPF_PREDICT_H
#define DPPF_PREDICT_H

#include "error.h"
#include "eval.h"

/* Writes CSV "index,label,pred,logit0,...,logit<K-1>", one row per test
 * sample, for the set-up's averaged model in eval mode (`dppf eval
 * --predictions`, through eval_checkpoint). */
int predict_write(eval_setup *x, const char *out_csv, dp_err *e);

#endif
