/* eval.h - `dppf eval`: loss and accuracy of a checkpoint's averaged model on
 * its spec's train and test sets, and optionally every test sample's output. */
#ifndef DPPF_EVAL_H
#define DPPF_EVAL_H

#include "error.h"
#include "spec.h"

typedef struct {
    double train_loss, train_acc, test_loss, test_acc;
    long n_train, n_test;
    int workers;
    long long step;
} eval_report;

/* `s` is the checkpoint's spec, possibly with data overrides. When
 * predictions_csv is not NULL, also writes "index,label,pred,logit0,...",
 * one row per test sample (the averaged model in eval mode; for comparing
 * dppf with another implementation, tests/torch_check_export.py). */
int eval_checkpoint(const spec_t *s, const char *ckpt_path, const char *predictions_csv, eval_report *r,
                    dp_err *e);

#endif
