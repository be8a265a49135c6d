/* directions.h - random directions in parameter space and their normalisation
 * (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets").
 *
 * A direction has the layout of the flat parameter vector (net_t tensor table,
 * parameters only: BN running statistics are buffers and never perturbed).
 * Passing net = NULL treats the whole vector as one tensor (analytic tests,
 * or layouts without a table): then `filter` and `layer` equal `global`. */
#ifndef DPPF_DIRECTIONS_H
#define DPPF_DIRECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "net.h"
#include "vec.h"

/* Stream ids for direction sampling: DIR_RNG_STREAM + index. Chosen far from
 * rng.h's streams (init 1 .. worker 16 + w; shuffle 4 + epoch * 1000003 is
 * >= 1000007 for epoch >= 1), so directions never share a stream with training. */
#define DIR_RNG_STREAM 4096u

typedef enum {
    DIR_NORM_FILTER, /* default: each slice along dim 0 of every >= 2-D tensor
                        (conv output filter, linear output row) scaled to the
                        norm of the same slice of w; 1-D tensors zeroed unless keep_1d */
    DIR_NORM_LAYER,  /* each tensor scaled to the norm of the same tensor of w (1-D: as filter) */
    DIR_NORM_GLOBAL, /* the whole vector scaled to ||w|| */
    DIR_NORM_UNIT,   /* the whole vector scaled to norm 1 (w unused) */
    DIR_NORM_NONE,   /* left as is */
} dir_norm;

/* "filter" | "layer" | "global" | "unit" | "none"; DP_EUSAGE naming the value otherwise. */
int dir_norm_parse(const char *s, dir_norm *out, dp_err *e);
const char *dir_norm_name(dir_norm m);

/* d[n] <- i.i.d. standard normal, determined by (seed, index) only. */
void dir_random(float *d, size_t n, uint64_t seed, uint64_t index);

/* Normalise d in place against the weights w (both n floats). net (nullable)
 * gives the tensor layout; its n_params must equal n. keep_1d: in `filter`
 * and `layer` modes, 1-D tensors (biases, BN gamma/beta) are scaled to the
 * norm of the same tensor of w instead of zeroed (Li et al. zero them; their
 * "biasbn" option copies w, we keep the random direction but scale it).
 * A zero slice of d stays zero (the 1e-10 guard of the reference code).
 * Errors: DP_EUSAGE on a layout mismatch. */
int dir_normalize(float *d, const float *w, size_t n, const net_t *net, dir_norm mode, int keep_1d,
                  dp_err *e);

/* dir_random + dir_normalize. */
int dir_make(float *d, const float *w, size_t n, const net_t *net, dir_norm mode, int keep_1d,
             uint64_t seed, uint64_t index, dp_err *e);

#endif
