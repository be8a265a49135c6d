/* interop.h - dppf models as PyTorch state_dicts in safetensors files, and back.
 *
 * Tensor names and shapes are the net's tensor table (PyTorch state_dict
 * names), plus one I64 scalar `<bn>.num_batches_tracked` per BatchNorm layer
 * as torch keeps it, so `model.load_state_dict(tensors, strict=True)` works
 * on the reference torch models (tests/torch_check_export.py). */
#ifndef DPPF_INTEROP_H
#define DPPF_INTEROP_H

#include <stdio.h>

#include "error.h"
#include "spec.h"

typedef struct {
    const char *ckpt;  /* checkpoint to export */
    const char *out;   /* .safetensors file to write */
    int worker;        /* -1: the workers' averaged model (what eval reports); else one worker */
    int all_workers;   /* also every worker, under "worker<i>." names */
} export_opts;

/* `s` is the checkpoint's spec (it gives the model; the dataset is read for
 * the input shape and classes). A one-line summary goes to `summary` if not NULL. */
int interop_export(const spec_t *s, const export_opts *o, FILE *summary, dp_err *e);

/* Builds the model of `s`, loads every tensor from `model_path` (names, shapes
 * and dtypes must match exactly) and writes a step-0 checkpoint with every
 * worker equal to it (see train_write_start). */
int interop_import(const spec_t *s, const char *model_path, const char *out_ckpt, FILE *summary,
                   dp_err *e);

#endif
