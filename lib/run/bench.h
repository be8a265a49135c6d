/* bench.h - training/evaluation throughput of the built-in models on
 * synthetic data, and how much of a training step is spent in GEMM.
 *
 * For each model and thread count: warm-up steps, then `steps` timed train
 * steps (zero grads, forward, backward, SGD with momentum 0.9) and `steps`
 * timed eval forwards, all on one fixed random batch (no dataset files). The
 * GEMM share records the GEMM-level calls (kinds, shapes, transposes,
 * strides, repeat counts) the kernels make during one real train step and
 * one eval forward (kern_record.h), replays exactly those standalone, and
 * divides their time by the step time. bench/bench_torch.py measures the same
 * models in PyTorch; bench/run.sh puts the two side by side. */
#ifndef DPPF_BENCH_H
#define DPPF_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"

/* Start from BENCH_OPTS_INIT (the defaults) and change fields. Lists are given
 * as typed on the command line and validated by bench_run (DP_EUSAGE naming
 * the bad item or value). */
typedef struct {
    const char *models;  /* comma-separated model names of nn/models.h (at most 32) */
    const char *threads; /* comma-separated BLIS thread counts, each in [1, 256] */
    int steps;           /* timed train steps, and as many timed eval forwards; >= 1 */
    int warmup;          /* untimed (train step + eval forward) rounds first; >= 0 */
    int batch;           /* images per step; >= 1 */
    int no_gemm;         /* skip the GEMM replay and the peak measurement */
    int csv;             /* one CSV header + one row per (model, threads) instead of a table */
    int adapt;           /* the thread governor picks each train step's count, as in `dppf train`
                            (run.adapt_threads); else every step runs the given count */
    uint64_t seed;       /* synthetic batch and initialisation */
} bench_opts;

#define BENCH_OPTS_INIT \
    {.models = "resnet20,cnn", .threads = "1,2", .steps = 20, .warmup = 3, .batch = 128}

/* CSV columns, in order (stable; new ones are only ever appended). */
#define BENCH_CSV_HEADER \
    "model,threads,batch,train_img_s,eval_img_s,step_ms,gemm_share,gemm_gflops,peak_gflops,blis_gflops," \
    "threads_used,step_peak_share"

/* Runs the benchmark and writes the results to `out` (a table, or CSV).
 * Leaves gemm_set_threads at its value on entry. Returns 0 or a DP_E* code:
 * DP_EUSAGE for bad options, DP_ENOMEM, DP_ENUMERIC if the loss stops being
 * finite (the timing would be meaningless). */
int bench_run(const bench_opts *o, FILE *out, dp_err *e);

#endif
