/* landscape.h - `dppf landscape`: the loss around a checkpoint's averaged model
 * (Li et al. 2018): a 2-D grid over two filter-normalised random directions,
 * or 1-D curves (a random direction, the line to another checkpoint, the
 * line from the average through each worker). BN in eval mode.
 *
 * Grid points are split over MPI ranks (point k on rank k % size) and summed
 * with comm_sum_f64, so any rank count gives the same numbers; rank 0 writes.
 *
 * Files written in out_dir (default: the checkpoint's folder):
 *   LAND_2D          landscape-2d.csv  a,b,train_loss,train_acc[,test_loss,test_acc]
 *                                      grid*grid rows, b outer (row j = b_j), a inner:
 *                                      row j*N + i is (a_i, b_j), as plot_heatmap reads it
 *                    landscape-2d-workers.csv  worker,a,b,dist,captured (M > 1 only):
 *                                      least-squares coordinates of x_i - avg in
 *                                      span(d1, d2), ||x_i - avg||, and the fraction
 *                                      ||projection|| / ||x_i - avg|| the plane holds
 *                    landscape-2d.png  heatmap of log10 train loss, contours, markers
 *   LAND_1D_RANDOM   landscape-1d-random.csv   t,train_loss,train_acc[,test_loss,test_acc]
 *   LAND_1D_LINE     landscape-1d-line.csv     same columns; t = 0 this checkpoint, 1 the other
 *   LAND_1D_WORKERS  landscape-1d-workers.csv  worker,t,train_loss,...: one block per worker,
 *                                      t = 0 the average, t = 1 the worker
 *   and landscape-1d-<mode>.png line plots (loss and accuracy panels); figures
 *   are .svg or .pdf instead with `format`. */
#ifndef DPPF_LANDSCAPE_H
#define DPPF_LANDSCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "comm.h"
#include "directions.h"
#include "canvas.h"
#include "error.h"
#include "report.h"
#include "spec.h"

typedef enum { LAND_2D, LAND_1D_RANDOM, LAND_1D_LINE, LAND_1D_WORKERS } land_mode;

typedef struct {
    const char *ckpt;
    const spec_t *spec;   /* the checkpoint's spec, possibly with data overrides */
    const char *to_ckpt;  /* LAND_1D_LINE: the other end (same model) */
    const char *out_dir;  /* NULL or "": the checkpoint's folder */
    land_mode mode;
    int grid;             /* points per axis; 0: 21 (2-D), 41 (1-D) */
    double range;         /* 0: mode default. 2-D / random: [-r, r] (1);
                             workers: t in [-r, r], worker at t = 1 (2);
                             line: t in [-r, 1 + r] (0.5) */
    int samples;          /* first N training samples; 0 = all (default 10000) */
    int batch;            /* evaluation batch (256) */
    int test;             /* also the test set's loss and accuracy */
    uint64_t seed;        /* random directions: dir_make(seed, index 0 / 1) */
    dir_norm norm;        /* DIR_NORM_FILTER */
    int keep_1d;          /* see dir_normalize (0: biases/BN not perturbed) */
    int no_png;           /* CSV only */
    plot_format format;   /* the figure's format (PLOT_FMT_AUTO: png) and PNG resolution (0: 100 dpi) */
    double dpi;
    const char *command;  /* the command line, recorded in the figure's metadata (nullable) */
    int plane_workers;    /* 2-D: the plane through the average and workers 0 and 1 instead of
                             random directions: d1 = x_0 - avg, d2 = the part of x_1 - avg
                             orthogonal to d1, scaled to |d1| (w0 at (1, 0); range 2) */
    double zmin, zmax;    /* 2-D: colour scale over these train losses (both > 0, zmin < zmax);
                             0, 0: the grid's own range */
    const dp_report *report; /* progress of the grid (rank 0), nullable */
} landscape_opts;

void landscape_opts_default(landscape_opts *o);
/* "2d" | "random" | "line" | "workers"; DP_EUSAGE naming the value otherwise. */
int land_mode_parse(const char *s, land_mode *out, dp_err *e);
const char *land_mode_name(land_mode m);

/* c may be NULL (one process). Summary (files, centre loss, extremes, worker
 * positions, time) goes to `out` on rank 0. */
int landscape_run(const landscape_opts *o, comm_t *c, FILE *out, dp_err *e);

/* Least-squares coordinates (a, b) of v in span(d1, d2) (the 2x2 Gram system);
 * *captured (nullable) = ||a d1 + b d2|| / ||v|| (0 when v = 0). Parallel or
 * zero directions: DP_EUSAGE. */
int land_project(const float *v, const float *d1, const float *d2, size_t n, double *a, double *b,
                 double *captured, dp_err *e);

/* The k-th of n evenly spaced values in [lo, hi], exact at the ends and, for
 * symmetric ranges with odd n, exactly 0 in the middle. */
double land_coord(double lo, double hi, int k, int n);

#endif
