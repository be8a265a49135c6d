/* flatness.h - `dppf sharpness`: every flatness measure of a checkpoint's
 * averaged model on a training subset, BN in eval mode with the checkpoint's
 * running statistics. */
#ifndef DPPF_FLATNESS_H
#define DPPF_FLATNESS_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "sharpness.h"
#include "spec.h"

typedef struct {
    const char *ckpt;
    const spec_t *spec;      /* the checkpoint's spec, possibly with data overrides */
    int samples;             /* first N training samples; 0 = the whole train set */
    int batch;               /* evaluation batch, default 256 */
    const char *measures;    /* comma list of mv,sam,hessian,trace,eps (default all) */
    mv_cfg mv;
    sam_cfg sam;
    hess_cfg hess;
    epss_cfg eps;
    int csv;                 /* one CSV row per measure instead of a table */
} flatness_opts;

void flatness_opts_default(flatness_opts *o);
int flatness_run(const flatness_opts *o, FILE *out, dp_err *e);

#endif
