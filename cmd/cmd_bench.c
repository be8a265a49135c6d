/* cmd_bench.c - `dppf bench`: throughput of the built-in models, or the cost of one sync. */
#include <stdio.h>

#include "bench.h"
#include "bench_comm.h"
#include "commands.h"
#include "common.h"

typedef struct {
    opt_list none; /* no positional arguments */
    bench_opts o;
    const char *comm_config;
    opt_list sets;
    int reps;
} bench_args;

static const opt_def OPTIONS[] = {
    OPT_STRING("models", bench_args, o.models, "LIST",
               "comma-separated model.arch names: cnn, mlp (quickstart\n"
               "sizes, 1x28x28) or any other (resnet8..110, preresnet8..110,\n"
               "resnet18/34, pyramidnet, wrn, vgg16: 3x32x32, 10 classes,\n"
               "the spec's defaults); default resnet20,cnn"),
    OPT_STRING("threads", bench_args, o.threads, "LIST",
               "thread counts to run (every layer and GEMM), default 1,2"),
    OPT_INT("steps", bench_args, o.steps, "N", 1, 1000000000, "timed steps (and eval forwards), default 20"),
    OPT_INT("warmup", bench_args, o.warmup, "N", 0, 1000000000, "untimed rounds first, default 3"),
    OPT_INT("batch", bench_args, o.batch, "B", 1, 65536, "images per step, default 128"),
    OPT_SEED(bench_args, o.seed, "the synthetic batch and initialisation"),
    OPT_FLAG("no-gemm", bench_args, o.no_gemm, "skip the GEMM replay and peak measurement"),
    OPT_FLAG("csv", bench_args, o.csv, "CSV instead of a table"),
    OPT_FLAG("adapt", bench_args, o.adapt,
             "let the thread governor pick each train step's count (up to\n"
             "--threads) as `dppf train` does (run.adapt_threads); the\n"
             "CSV's threads_used is the mean count"),
    OPT_STRING("comm", bench_args, comm_config, "CONFIG",
               "instead: time one sync of CONFIG's model (dist.workers\n"
               "workers) against a bare MPI_Allreduce of the same bytes"),
    OPT_LIST("set", bench_args, sets, "key=value", "with --comm: override a key of CONFIG (repeatable)"),
    OPT_INT("reps", bench_args, reps, "N", 1, 1000000000, "syncs to time with --comm, default 50"),
    OPT_END,
};

const opt_syntax bench_syntax = {
    .usage = "usage: dppf bench [--models LIST] [--threads 1,2] [--steps N]\n"
             "                  [--warmup N] [--batch B] [--seed S] [--no-gemm] [--adapt] [--csv]\n"
             "       mpirun -np R dppf bench --comm CONFIG.yaml [--set key=value]... [--reps N]\n",
    .about = "Throughput of the built-in models on synthetic data (no dataset files):\n"
             "img/s for training steps (forward, backward, SGD) and evaluation forwards,\n"
             "ms per step, the share of the step spent in GEMM and the GEMM GFLOP/s next\n"
             "to BLIS's peak. bench/run.sh runs it beside the same models in PyTorch.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("", 0, 0, bench_args, none),
};

int cmd_bench(const command *self, int argc, char **argv) {
    bench_args a = {.o = BENCH_OPTS_INIT, .reps = 50};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    dp_err e = {0};
    if (!a.comm_config) {
        if ((rc = bench_run(&a.o, stdout, &e))) return print_error(NULL, &e);
        return 0;
    }
    spec_t s;
    comm_t comm = {0};
    if ((rc = resolve_spec(a.comm_config, NULL, &a.sets, &s, &e))) return print_error(NULL, &e);
    if (!(rc = comm_init(&comm, s.dist.workers, &e))) rc = bench_comm(&s, &comm, a.reps, stdout, &e);
    return finish_ranks(&comm, rc, &e);
}
