/* dppf.c - the command line: parses arguments and calls the library. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_comm.h"
#include "comm.h"
#include "error.h"
#include "flatness.h"
#include "gemm.h"
#include "interop.h"
#include "landscape.h"
#include "plot.h"
#include "progress.h"
#include "spec.h"
#include "train.h"

static const char USAGE[] =
    "usage: dppf <command> [options]\n"
    "\n"
    "Communication-efficient distributed training (DPPF and baselines), flatness\n"
    "measures and loss landscapes, from a YAML experiment spec.\n"
    "\n"
    "commands:\n"
    "  train CONFIG.yaml     train a model as the spec says (M workers, any algorithm)\n"
    "  eval [SPEC.yaml] --checkpoint CKPT\n"
    "                        loss and accuracy of a checkpoint on the train and test sets\n"
    "  sharpness CKPT        flatness of a checkpoint: IMV/MV, SAM sharpness, Hessian\n"
    "                        top eigenvalue and trace, epsilon-sharpness\n"
    "  landscape CKPT        loss landscape around a checkpoint: 2-D grid PNG with the\n"
    "                        workers marked, or 1-D curves (random, --to, workers)\n"
    "  plot METRICS.csv...   training curves PNG (and accuracy vs communication rounds)\n"
    "  bench                 training/eval throughput of the built-in models (img/s,\n"
    "                        GEMM share); --comm CONFIG: cost of one sync under mpirun\n"
    "  schema                list every spec key with its type, range, default and meaning\n"
    "  export CKPT OUT.safetensors\n"
    "                        the model as a PyTorch state_dict (safetensors)\n"
    "  import MODEL.safetensors --spec SPEC.yaml --out INIT.bin\n"
    "                        a PyTorch model as a step-0 checkpoint for train --resume\n"
    "\n"
    "  dppf <command> --help  options of one command\n"
    "  dppf --version         version\n"
    "\n"
    "Several processes: mpirun -np R dppf train CONFIG.yaml spreads the spec's\n"
    "dist.workers over R ranks with the same results (see README).\n"
    "\n"
    "exit status: 0 ok, 1 runtime failure, 2 bad command line or spec, 3 missing,\n"
    "unreadable or corrupt file, 4 NaN/Inf during training, 5 out of memory,\n"
    "6 MPI failure\n";

static const char TRAIN_HELP[] =
    "usage: dppf train CONFIG.yaml [--set key=value]... [--resume CKPT] [--force]\n"
    "                  [--progress | --quiet]\n"
    "       dppf train --resume CKPT [--set key=value]...\n"
    "\n"
    "Trains as the spec says and writes into run.out_dir:\n"
    "  spec.yaml        the fully resolved spec (every key)\n"
    "  metrics.csv      one row per evaluation (columns: see README)\n"
    "  checkpoint.bin   the final (or latest) checkpoint; checkpoint-e<N>.bin every\n"
    "                   run.checkpoint_every epochs\n"
    "A summary is printed on stdout at the end.\n"
    "\n"
    "options:\n"
    "  --set key=value  override a spec key, e.g. --set optim.lr=0.1\n"
    "                   --set model.widths=[32,64] (repeatable; applied in order)\n"
    "  --resume CKPT    continue the run saved in CKPT (its spec is used unless a\n"
    "                   CONFIG is given); the continued run matches an\n"
    "                   uninterrupted one bit for bit\n"
    "  --force          reuse a run.out_dir that already holds a run\n"
    "  --progress       always print evaluation lines on stderr\n"
    "  --quiet          print nothing on stderr but errors\n"
    "  -h, --help       this help\n";

static const char EVAL_HELP[] =
    "usage: dppf eval [SPEC.yaml] --checkpoint CKPT [--set key=value]... [--csv]\n"
    "                 [--predictions OUT.csv]\n"
    "\n"
    "Loss and accuracy of the checkpoint's model (the workers' average) on the\n"
    "train and test sets, BatchNorm in eval mode. The spec stored in the\n"
    "checkpoint is used unless SPEC.yaml is given; --set can change e.g. data.path.\n"
    "\n"
    "options:\n"
    "  --checkpoint CKPT  the checkpoint to evaluate (required)\n"
    "  --set key=value    override a spec key (repeatable)\n"
    "  --csv              print one CSV header and row instead of a table\n"
    "  --predictions OUT.csv\n"
    "                     also write every test sample's label, predicted class and\n"
    "                     logits (index,label,pred,logit0,...)\n"
    "  -h, --help         this help\n";

static int report(comm_t *c, dp_err *e) {
    if (!e->msg[0]) snprintf(e->msg, sizeof e->msg, "stopping because another rank failed");
    if (c && c->size > 1)
        fprintf(stderr, "dppf: error (rank %d): %s\n", c->rank, e->msg);
    else
        fprintf(stderr, "dppf: error: %s\n", e->msg);
    return e->code ? e->code : DP_ERUNTIME;
}

static int usage_error(const char *help, const char *fmt, const char *arg) {
    fprintf(stderr, "dppf: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", help);
    return DP_EUSAGE;
}

/* Options shared by the commands that take a spec. */
typedef struct {
    const char *config, *checkpoint, *predictions;
    const char *sets[256];
    int n_sets;
    int force, csv, progress;
} args_t;

/* Returns 0, DP_EUSAGE on a bad command line, or -1 after printing help. */
static int parse_args(int argc, char **argv, const char *help, int allow_resume, args_t *a) {
    memset(a, 0, sizeof *a);
    a->progress = -1;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(help, stdout);
            return -1;
        } else if (!strcmp(s, "--set")) {
            if (!has_next) return usage_error(help, "%s needs key=value", s);
            if (a->n_sets == (int)(sizeof a->sets / sizeof *a->sets))
                return usage_error(help, "too many %s options", s);
            a->sets[a->n_sets++] = argv[++i];
        } else if (!strncmp(s, "--set=", 6)) {
            if (a->n_sets == (int)(sizeof a->sets / sizeof *a->sets))
                return usage_error(help, "too many %s options", "--set");
            a->sets[a->n_sets++] = s + 6;
        } else if ((allow_resume && !strcmp(s, "--resume")) ||
                   (!allow_resume && !strcmp(s, "--checkpoint"))) {
            if (!has_next) return usage_error(help, "%s needs a checkpoint file", s);
            a->checkpoint = argv[++i];
        } else if (allow_resume && !strcmp(s, "--force")) {
            a->force = 1;
        } else if (allow_resume && !strcmp(s, "--progress")) {
            a->progress = 1;
        } else if (allow_resume && !strcmp(s, "--quiet")) {
            a->progress = 0;
        } else if (!allow_resume && !strcmp(s, "--csv")) {
            a->csv = 1;
        } else if (!allow_resume && !strcmp(s, "--predictions")) {
            if (!has_next) return usage_error(help, "%s needs a file", s);
            a->predictions = argv[++i];
        } else if (s[0] == '-' && s[1]) {
            return usage_error(help, "unknown option '%s'", s);
        } else if (!a->config) {
            a->config = s;
        } else {
            return usage_error(help, "unexpected argument '%s'", s);
        }
    }
    return 0;
}

/* The spec: from CONFIG if given, else the checkpoint's; then --set, then checks. */
static int resolve_spec(const args_t *a, spec_t *s, dp_err *e) {
    int rc;
    if (a->config) {
        spec_defaults(s);
        rc = spec_load_file(s, a->config, e);
    } else {
        rc = spec_from_checkpoint(s, a->checkpoint, e);
    }
    for (int i = 0; !rc && i < a->n_sets; i++) rc = spec_set(s, a->sets[i], e);
    if (!rc) rc = spec_validate(s, e);
    return rc;
}

static int cmd_train(int argc, char **argv) {
    args_t a;
    int rc = parse_args(argc, argv, TRAIN_HELP, 1, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (!a.config && !a.checkpoint)
        return usage_error(TRAIN_HELP, "%s", "train needs a CONFIG.yaml (or --resume CKPT)");
    dp_err e = {0};
    static spec_t s; /* large: keep it off the stack */
    comm_t comm = {0};
    if ((rc = resolve_spec(&a, &s, &e))) return report(NULL, &e);
    if ((rc = comm_init(&comm, s.dist.workers, &e))) {
        report(&comm, &e);
        comm_finalize(&comm);
        return rc;
    }
    progress_t prog;
    progress_init(&prog, a.progress);
    train_opts o = {.resume = a.checkpoint, .force = a.force, .report = &prog.report,
                    .summary = stdout};
    rc = train_run(&s, &o, &comm, &e);
    progress_done(&prog);
    if (rc) {
        report(&comm, &e);
        /* One rank failing must end the whole job promptly, never hang it. */
        comm_abort(&comm, rc);
    }
    comm_finalize(&comm);
    return rc;
}

static int cmd_eval(int argc, char **argv) {
    args_t a;
    int rc = parse_args(argc, argv, EVAL_HELP, 0, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (!a.checkpoint) return usage_error(EVAL_HELP, "%s", "eval needs --checkpoint CKPT");
    dp_err e = {0};
    static spec_t s;
    if ((rc = resolve_spec(&a, &s, &e))) return report(NULL, &e);
    eval_report r;
    gemm_set_threads(comm_threads(s.run.threads, NULL));
    if ((rc = eval_checkpoint(&s, a.checkpoint, a.predictions, &r, &e))) return report(NULL, &e);
    if (a.csv) {
        printf("checkpoint,step,workers,train_loss,train_acc,test_loss,test_acc,n_train,n_test\n");
        printf("%s,%lld,%d,%.6f,%.6f,%.6f,%.6f,%ld,%ld\n", a.checkpoint, r.step, r.workers,
               r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.n_train, r.n_test);
    } else {
        printf("checkpoint %s (step %lld, %d worker%s; averaged model)\n", a.checkpoint, r.step,
               r.workers, r.workers > 1 ? "s" : "");
        printf("  set     samples      loss   accuracy\n");
        printf("  train  %8ld  %8.4f   %8.4f\n", r.n_train, r.train_loss, r.train_acc);
        printf("  test   %8ld  %8.4f   %8.4f\n", r.n_test, r.test_loss, r.test_acc);
    }
    return 0;
}

static const char BENCH_HELP[] =
    "usage: dppf bench [--models resnet20,cnn,mlp] [--threads 1,2] [--steps N]\n"
    "                  [--warmup N] [--batch B] [--seed S] [--no-gemm] [--csv]\n"
    "       mpirun -np R dppf bench --comm CONFIG.yaml [--set key=value]... [--reps N]\n"
    "\n"
    "Throughput of the built-in models on synthetic data (no dataset files):\n"
    "img/s for training steps (forward, backward, SGD) and evaluation forwards,\n"
    "ms per step, the share of the step spent in GEMM and the GEMM GFLOP/s next\n"
    "to BLIS's peak. bench/run.sh runs it beside the same models in PyTorch.\n"
    "\n"
    "options:\n"
    "  --models LIST   comma-separated: resnet20 (3x32x32), cnn (quickstart, 1x28x28),\n"
    "                  mlp (1x28x28); default resnet20,cnn\n"
    "  --threads LIST  thread counts to run (every layer and GEMM), default 1,2\n"
    "  --steps N       timed steps (and eval forwards), default 20\n"
    "  --warmup N      untimed rounds first, default 3\n"
    "  --batch B       images per step, default 128\n"
    "  --seed S        seed of the synthetic batch and initialisation\n"
    "  --no-gemm       skip the GEMM replay and peak measurement\n"
    "  --csv           CSV instead of a table\n"
    "  --comm CONFIG   instead: time one sync of CONFIG's model (dist.workers\n"
    "                  workers) against a bare MPI_Allreduce of the same bytes\n"
    "  --reps N        syncs to time with --comm, default 50\n"
    "  -h, --help      this help\n";

static int parse_count(const char *opt, const char *v, int lo, int *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end != 0 || x < lo || x > 1000000000)
        return usage_error(BENCH_HELP, "bad value for %s", opt);
    *out = (int)x;
    return 0;
}

static int cmd_bench(int argc, char **argv) {
    bench_opts o = BENCH_OPTS_INIT;
    const char *comm_config = NULL;
    const char *sets[256];
    int n_sets = 0, reps = 50, rc = 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(BENCH_HELP, stdout);
            return 0;
        } else if (!strcmp(s, "--no-gemm")) {
            o.no_gemm = 1;
        } else if (!strcmp(s, "--csv")) {
            o.csv = 1;
        } else if (!v) {
            return usage_error(BENCH_HELP, "unknown option or missing value: '%s'", s);
        } else if (!strcmp(s, "--models")) {
            o.models = v, i++;
        } else if (!strcmp(s, "--threads")) {
            o.threads = v, i++;
        } else if (!strcmp(s, "--steps")) {
            if ((rc = parse_count(s, v, 1, &o.steps))) return rc;
            i++;
        } else if (!strcmp(s, "--warmup")) {
            if ((rc = parse_count(s, v, 0, &o.warmup))) return rc;
            i++;
        } else if (!strcmp(s, "--batch")) {
            if ((rc = parse_count(s, v, 1, &o.batch))) return rc;
            i++;
        } else if (!strcmp(s, "--seed")) {
            o.seed = strtoull(v, NULL, 10), i++;
        } else if (!strcmp(s, "--comm")) {
            comm_config = v, i++;
        } else if (!strcmp(s, "--reps")) {
            if ((rc = parse_count(s, v, 1, &reps))) return rc;
            i++;
        } else if (!strcmp(s, "--set")) {
            if (n_sets == (int)(sizeof sets / sizeof *sets)) return usage_error(BENCH_HELP, "too many %s", s);
            sets[n_sets++] = v, i++;
        } else {
            return usage_error(BENCH_HELP, "unknown option '%s'", s);
        }
    }
    dp_err e = {0};
    if (!comm_config) {
        if ((rc = bench_run(&o, stdout, &e))) return report(NULL, &e);
        return 0;
    }
    args_t a = {.config = comm_config, .n_sets = n_sets};
    memcpy(a.sets, sets, sizeof(sets[0]) * n_sets);
    static spec_t sp;
    comm_t comm = {0};
    if ((rc = resolve_spec(&a, &sp, &e))) return report(NULL, &e);
    if ((rc = comm_init(&comm, sp.dist.workers, &e)) || (rc = bench_comm(&sp, &comm, reps, stdout, &e))) {
        report(&comm, &e);
        comm_abort(&comm, rc);
    }
    comm_finalize(&comm);
    return rc;
}

static const char SHARP_HELP[] =
    "usage: dppf sharpness CKPT [--spec SPEC.yaml] [--set key=value]... [options] [--csv]\n"
    "\n"
    "Flatness of the checkpoint's averaged model on its training set (the first\n"
    "--samples samples; default all), BatchNorm in eval mode with the\n"
    "checkpoint's running statistics. The spec stored in the checkpoint is used\n"
    "unless --spec is given; --set can change e.g. data.path.\n"
    "\n"
    "measures (--measures, comma-separated; default all):\n"
    "  mv       Mean Valley: mean over K random filter-normalised directions d of the\n"
    "           width t+ + t- where the loss first exceeds the threshold on either\n"
    "           side (bracketing + bisection); IMV = 1/MV, the paper's sharpness\n"
    "           measure. For multi-worker checkpoints also along average->worker i\n"
    "           directions (mv_workers; 1 = the worker's own distance).\n"
    "  sam      max loss increase within an L2 ball of radius rho (SAM's ascent step)\n"
    "  hessian  top Hessian eigenvalue (largest magnitude) by power iteration on\n"
    "           finite-difference Hessian-vector products (~1e-4 relative accuracy)\n"
    "  trace    Hutchinson estimate of the Hessian trace (Rademacher vectors)\n"
    "  eps      Keskar et al. epsilon-sharpness in the box eps*(|w|+1)\n"
    "\n"
    "options:\n"
    "  --samples N          training samples used (0 = all; default 0)\n"
    "  --measures LIST      subset of mv,sam,hessian,trace,eps\n"
    "  --directions K       MV random directions (default 10)\n"
    "  --norm MODE          MV direction normalisation: filter|layer|global|unit|none (filter)\n"
    "  --threshold KIND     MV threshold: relative (L*(1+eps), default) or absolute (L+eps)\n"
    "  --mv-eps X           MV threshold eps (default 0.1)\n"
    "  --rho R              SAM radius (default 0.05)\n"
    "  --sam-steps K        SAM ascent steps (default 1)\n"
    "  --hessian-iters N    power iterations at most (default 100)\n"
    "  --trace-samples M    Hutchinson samples (default 10)\n"
    "  --eps X              epsilon-sharpness box (default 1e-3)\n"
    "  --seed S             seed of the random directions and vectors (default 0)\n"
    "  --csv                one CSV row per measure\n"
    "  -h, --help           this help\n";

static int parse_double(const char *opt, const char *v, double lo, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (*v == 0 || *end != 0 || !(x >= lo) || !isfinite(x))
        return usage_error(SHARP_HELP, "bad value for %s", opt);
    *out = x;
    return 0;
}

static int cmd_sharpness(int argc, char **argv) {
    flatness_opts o;
    flatness_opts_default(&o);
    args_t a = {0};
    a.progress = -1;
    int rc = 0;
    dp_err e = {0};
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(SHARP_HELP, stdout);
            return 0;
        } else if (!strcmp(s, "--csv")) {
            o.csv = 1;
            continue;
        } else if (s[0] != '-') {
            if (a.checkpoint) return usage_error(SHARP_HELP, "unexpected argument '%s'", s);
            a.checkpoint = s;
            continue;
        } else if (!v) {
            return usage_error(SHARP_HELP, "unknown option or missing value: '%s'", s);
        }
        i++;
        if (!strcmp(s, "--spec")) a.config = v;
        else if (!strcmp(s, "--set")) {
            if (a.n_sets == (int)(sizeof a.sets / sizeof *a.sets)) return usage_error(SHARP_HELP, "too many %s", s);
            a.sets[a.n_sets++] = v;
        } else if (!strcmp(s, "--samples")) rc = parse_count(s, v, 0, &o.samples);
        else if (!strcmp(s, "--measures")) o.measures = v;
        else if (!strcmp(s, "--directions")) rc = parse_count(s, v, 1, &o.mv.k);
        else if (!strcmp(s, "--norm")) rc = dir_norm_parse(v, &o.mv.norm, &e) ? report(NULL, &e) : 0;
        else if (!strcmp(s, "--threshold")) {
            if (!strcmp(v, "relative")) o.mv.threshold = MV_RELATIVE;
            else if (!strcmp(v, "absolute")) o.mv.threshold = MV_ABSOLUTE;
            else rc = usage_error(SHARP_HELP, "--threshold: '%s' is not relative or absolute", v);
        } else if (!strcmp(s, "--mv-eps")) rc = parse_double(s, v, 0, &o.mv.eps);
        else if (!strcmp(s, "--rho")) rc = parse_double(s, v, 0, &o.sam.rho);
        else if (!strcmp(s, "--sam-steps")) rc = parse_count(s, v, 1, &o.sam.steps);
        else if (!strcmp(s, "--hessian-iters")) rc = parse_count(s, v, 1, &o.hess.max_iter);
        else if (!strcmp(s, "--trace-samples")) rc = parse_count(s, v, 1, &o.hess.samples);
        else if (!strcmp(s, "--eps")) rc = parse_double(s, v, 0, &o.eps.eps);
        else if (!strcmp(s, "--seed")) {
            if (parse_double(s, v, 0, &x)) return DP_EUSAGE;
            o.mv.seed = o.hess.seed = (uint64_t)x;
        } else return usage_error(SHARP_HELP, "unknown option '%s'", s);
        if (rc) return rc;
    }
    if (!a.checkpoint) return usage_error(SHARP_HELP, "%s", "sharpness needs a checkpoint");
    static spec_t sp;
    if ((rc = resolve_spec(&a, &sp, &e))) return report(NULL, &e);
    o.ckpt = a.checkpoint;
    o.spec = &sp;
    gemm_set_threads(comm_threads(sp.run.threads, NULL));
    if ((rc = flatness_run(&o, stdout, &e))) return report(NULL, &e);
    return 0;
}

static const char PLOT_HELP[] =
    "usage: dppf plot [-o OUT.png] METRICS.csv [METRICS.csv...]\n"
    "       dppf plot --x COL --y COL [--points] [--logx] [--logy] [--title T]\n"
    "                 [-o OUT.png] TABLE.csv [TABLE.csv...]\n"
    "\n"
    "Training curves of one or more runs in one 1200x900 PNG: loss and accuracy\n"
    "against epochs (train dashed, test solid) and, for runs with communication\n"
    "counts, test accuracy against communication rounds - the trade-off picture.\n"
    "Runs are named by their folder. `dppf train` draws <out_dir>/curves.png itself.\n"
    "\n"
    "With --x and --y: column COL against column COL of any numeric CSV files with\n"
    "a header (metrics.csv, `dppf eval --csv`, sweep tables), one series per file,\n"
    "named by the file (a metrics.csv by its folder); 800x600.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT.png  where to write (default curves.png)\n"
    "  --x COL, --y COL      the columns to plot against each other\n"
    "  --points              markers only (a scatter plot)\n"
    "  --logx, --logy        logarithmic axes\n"
    "  --title T             title (and --xlabel, --ylabel: axis labels)\n"
    "  -h, --help            this help\n";

static int cmd_plot(int argc, char **argv) {
    const char *out = "curves.png", *xcol = NULL, *ycol = NULL;
    const char *paths[256];
    int n = 0, points = 0;
    plot_lines_opts o = {0};
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char **val = !strcmp(s, "-o") || !strcmp(s, "--output") ? &out
                           : !strcmp(s, "--x")                         ? &xcol
                           : !strcmp(s, "--y")                         ? &ycol
                           : !strcmp(s, "--title")                     ? &o.title
                           : !strcmp(s, "--xlabel")                    ? &o.xlabel
                           : !strcmp(s, "--ylabel")                    ? &o.ylabel
                                                                       : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(PLOT_HELP, stdout);
            return 0;
        } else if (val) {
            if (i + 1 >= argc) return usage_error(PLOT_HELP, "%s needs a value", s);
            *val = argv[++i];
        } else if (!strcmp(s, "--points")) {
            points = 1;
        } else if (!strcmp(s, "--logx")) {
            o.log_x = 1;
        } else if (!strcmp(s, "--logy")) {
            o.log_y = 1;
        } else if (s[0] == '-' && s[1]) {
            return usage_error(PLOT_HELP, "unknown option '%s'", s);
        } else if (n == (int)(sizeof paths / sizeof *paths)) {
            return usage_error(PLOT_HELP, "%s", "too many files");
        } else {
            paths[n++] = s;
        }
    }
    if (n == 0) return usage_error(PLOT_HELP, "%s", "plot needs at least one csv file");
    if (!xcol != !ycol) return usage_error(PLOT_HELP, "%s", "--x and --y go together");
    int columns = xcol != NULL;
    if (!columns && (points || o.log_x || o.log_y || o.title || o.xlabel || o.ylabel))
        return usage_error(PLOT_HELP, "%s", "--points, --logx, --logy, --title and the labels need --x and --y");
    dp_err e = {0};
    int rc = columns ? plot_columns(paths, n, xcol, ycol, points, &o, out, &e) : plot_metrics(paths, n, out, &e);
    if (rc) return report(NULL, &e);
    printf("wrote %s\n", out);
    return 0;
}

static const char LAND_HELP[] =
    "usage: dppf landscape CKPT [--mode 2d|random|line|workers] [--to OTHER.bin]\n"
    "                       [--grid N] [--range R] [--samples N] [--test] [--seed S]\n"
    "                       [--norm MODE] [--plane random|workers] [--zrange LO,HI]\n"
    "                       [--out DIR] [--no-png] [--spec SPEC.yaml]\n"
    "                       [--set key=value]... [--quiet]\n"
    "\n"
    "The training loss and accuracy around the checkpoint's averaged model (Li et\n"
    "al. 2018), BatchNorm in eval mode, on the first --samples training samples:\n"
    "  2d       N x N grid over [-R, R]^2 along two filter-normalised random\n"
    "           directions (default N 21, R 1); heatmap of log10 loss with contours,\n"
    "           the workers' positions projected onto the plane marked w0.. and avg\n"
    "  random   one filter-normalised random direction, t in [-R, R] (N 41, R 1)\n"
    "  line     the line to --to OTHER.bin: t = 0 this checkpoint, 1 the other,\n"
    "           t in [-R, 1 + R] (R 0.5)\n"
    "  workers  from the average through each worker (t = 1 at the worker),\n"
    "           t in [-R, R] (R 2), one curve per worker\n"
    "Writes landscape-<mode>.csv and .png into --out (default: the checkpoint's\n"
    "folder). Under mpirun the grid is split over the ranks (same numbers).\n"
    "\n"
    "options:\n"
    "  --samples N   training samples (0 = all; default 10000)\n"
    "  --test        also the test set's loss and accuracy\n"
    "  --seed S      seed of the random directions (default 0)\n"
    "  --norm MODE   direction normalisation: filter|layer|global|unit|none (filter)\n"
    "  --plane workers  2d: the plane through the average and workers 0 and 1\n"
    "                (d1 = w0 - avg, d2 = w1 - avg made orthogonal to d1, same length;\n"
    "                default range 2): the valley the workers span, all marked\n"
    "  --zrange LO,HI  2d: colour scale over train losses LO..HI (log), so pictures of\n"
    "                several models compare at a glance (default: each grid's range)\n"
    "  --no-png      CSV only\n"
    "  --quiet       no progress on stderr\n"
    "  -h, --help    this help\n";

static int cmd_landscape(int argc, char **argv) {
    landscape_opts o;
    landscape_opts_default(&o);
    int quiet = 0;
    args_t a = {0};
    dp_err e = {0};
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(LAND_HELP, stdout);
            return 0;
        } else if (!strcmp(s, "--test")) {
            o.test = 1;
            continue;
        } else if (!strcmp(s, "--no-png")) {
            o.no_png = 1;
            continue;
        } else if (!strcmp(s, "--quiet")) {
            quiet = 1;
            continue;
        } else if (s[0] != '-') {
            if (a.checkpoint) return usage_error(LAND_HELP, "unexpected argument '%s'", s);
            a.checkpoint = s;
            continue;
        } else if (!v) {
            return usage_error(LAND_HELP, "unknown option or missing value: '%s'", s);
        }
        i++;
        if (!strcmp(s, "--mode")) rc = land_mode_parse(v, &o.mode, &e) ? report(NULL, &e) : 0;
        else if (!strcmp(s, "--plane")) {
            if (strcmp(v, "random") && strcmp(v, "workers"))
                return usage_error(LAND_HELP, "--plane is random or workers, not '%s'", v);
            o.plane_workers = !strcmp(v, "workers");
        }
        else if (!strcmp(s, "--to")) o.to_ckpt = v;
        else if (!strcmp(s, "--grid")) rc = parse_count(s, v, 2, &o.grid);
        else if (!strcmp(s, "--range")) {
            if (parse_double(s, v, 0, &x) || x <= 0) return usage_error(LAND_HELP, "bad value for %s", s);
            o.range = x;
        } else if (!strcmp(s, "--samples")) rc = parse_count(s, v, 0, &o.samples);
        else if (!strcmp(s, "--seed")) {
            if (parse_double(s, v, 0, &x)) return DP_EUSAGE;
            o.seed = (uint64_t)x;
        } else if (!strcmp(s, "--zrange")) {
            char *end;
            o.zmin = strtod(v, &end);
            if (*end == ',') o.zmax = strtod(end + 1, &end);
            if (*end || !(o.zmin > 0) || !(o.zmax > o.zmin) || !isfinite(o.zmax))
                return usage_error(LAND_HELP, "--zrange needs LO,HI with 0 < LO < HI, not '%s'", v);
        } else if (!strcmp(s, "--norm")) rc = dir_norm_parse(v, &o.norm, &e) ? report(NULL, &e) : 0;
        else if (!strcmp(s, "--out")) o.out_dir = v;
        else if (!strcmp(s, "--spec")) a.config = v;
        else if (!strcmp(s, "--set")) {
            if (a.n_sets == (int)(sizeof a.sets / sizeof *a.sets)) return usage_error(LAND_HELP, "too many %s", s);
            a.sets[a.n_sets++] = v;
        } else return usage_error(LAND_HELP, "unknown option '%s'", s);
        if (rc) return rc;
    }
    if (!a.checkpoint) return usage_error(LAND_HELP, "%s", "landscape needs a checkpoint");
    if (o.mode == LAND_1D_LINE && !o.to_ckpt)
        return usage_error(LAND_HELP, "%s", "--mode line needs --to OTHER.bin");
    static spec_t sp;
    if ((rc = resolve_spec(&a, &sp, &e))) return report(NULL, &e);
    o.ckpt = a.checkpoint;
    o.spec = &sp;
    comm_t comm;
    if ((rc = comm_init_ranks(&comm, &e))) return report(&comm, &e);
    progress_t prog;
    progress_init(&prog, quiet ? 0 : -1);
    o.report = &prog.report;
    gemm_set_threads(comm_threads(sp.run.threads, &comm));
    rc = landscape_run(&o, &comm, stdout, &e);
    progress_done(&prog);
    if (rc) {
        report(&comm, &e);
        comm_abort(&comm, rc);
    }
    comm_finalize(&comm);
    return rc;
}

static const char EXPORT_HELP[] =
    "usage: dppf export CKPT OUT.safetensors [--worker I | --all-workers]\n"
    "                   [--set key=value]...\n"
    "\n"
    "Writes the checkpoint's model as a PyTorch state_dict in safetensors format:\n"
    "the workers' averaged model (what eval reports) under the torch module names\n"
    "(conv1.weight, layer1.0.bn1.running_mean, ...), BatchNorm running statistics\n"
    "and num_batches_tracked (I64) included, so load_state_dict(strict=True) works\n"
    "on the equivalent torch model (README: PyTorch interop). Metadata: the model\n"
    "keys, input shape, classes, step, dppf version and the full spec.\n"
    "The dataset is read for the model's input shape and class count.\n"
    "\n"
    "options:\n"
    "  --worker I        export worker I instead of the average\n"
    "  --all-workers     also every worker, its names prefixed with worker<i>.\n"
    "  --set key=value   override a key of the stored spec (e.g. data.path)\n"
    "  -h, --help        this help\n";

static int cmd_export(int argc, char **argv) {
    args_t a = {0};
    export_opts o = {.worker = -1};
    const char *out = NULL;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(EXPORT_HELP, stdout);
            return 0;
        } else if (!strcmp(s, "--all-workers")) {
            o.all_workers = 1;
        } else if (!strcmp(s, "--worker")) {
            char *end;
            long w = v ? strtol(v, &end, 10) : -1;
            if (!v || *end || end == v || w < 0 || w > 1000000)
                return usage_error(EXPORT_HELP, "%s needs a worker index >= 0", s);
            o.worker = (int)w;
            i++;
        } else if (!strcmp(s, "--set")) {
            if (!v) return usage_error(EXPORT_HELP, "%s needs key=value", s);
            if (a.n_sets == (int)(sizeof a.sets / sizeof *a.sets)) return usage_error(EXPORT_HELP, "too many %s", s);
            a.sets[a.n_sets++] = argv[++i];
        } else if (s[0] == '-' && s[1]) {
            return usage_error(EXPORT_HELP, "unknown option '%s'", s);
        } else if (!a.checkpoint) {
            a.checkpoint = s;
        } else if (!out) {
            out = s;
        } else {
            return usage_error(EXPORT_HELP, "unexpected argument '%s'", s);
        }
    }
    if (!a.checkpoint || !out) return usage_error(EXPORT_HELP, "%s", "export needs CKPT and OUT.safetensors");
    if (o.worker >= 0 && o.all_workers)
        return usage_error(EXPORT_HELP, "%s", "--worker and --all-workers exclude each other");
    dp_err e = {0};
    static spec_t sp;
    int rc = resolve_spec(&a, &sp, &e);
    o.ckpt = a.checkpoint;
    o.out = out;
    if (rc || (rc = interop_export(&sp, &o, stdout, &e))) return report(NULL, &e);
    return 0;
}

static const char IMPORT_HELP[] =
    "usage: dppf import MODEL.safetensors --spec SPEC.yaml --out INIT.bin\n"
    "                   [--set key=value]...\n"
    "\n"
    "Builds the spec's model, loads every tensor of MODEL (a PyTorch state_dict in\n"
    "safetensors format, e.g. written by dppf export or by the snippet in README:\n"
    "PyTorch interop) and writes a checkpoint at step 0 in which every worker holds\n"
    "that model, optimizer state zero and random streams as a fresh run of the\n"
    "spec: `dppf train --resume INIT.bin` then trains from it, and eval, sharpness\n"
    "and landscape accept it. Names, shapes and dtypes (F32; num_batches_tracked\n"
    "I64) must match the model exactly; every missing, extra or mis-shaped tensor\n"
    "is listed.\n"
    "\n"
    "options:\n"
    "  --spec SPEC.yaml  the experiment spec (required); stored in INIT.bin\n"
    "  --out INIT.bin    the checkpoint to write (required)\n"
    "  --set key=value   override a spec key (repeatable)\n"
    "  -h, --help        this help\n";

static int cmd_import(int argc, char **argv) {
    args_t a = {0};
    const char *model = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            fputs(IMPORT_HELP, stdout);
            return 0;
        } else if (!strcmp(s, "--spec") || !strcmp(s, "--out") || !strcmp(s, "--set")) {
            if (!v) return usage_error(IMPORT_HELP, "%s needs a value", s);
            i++;
            if (!strcmp(s, "--spec")) a.config = v;
            else if (!strcmp(s, "--out")) out = v;
            else if (a.n_sets == (int)(sizeof a.sets / sizeof *a.sets)) return usage_error(IMPORT_HELP, "too many %s", s);
            else a.sets[a.n_sets++] = v;
        } else if (s[0] == '-' && s[1]) {
            return usage_error(IMPORT_HELP, "unknown option '%s'", s);
        } else if (!model) {
            model = s;
        } else {
            return usage_error(IMPORT_HELP, "unexpected argument '%s'", s);
        }
    }
    if (!model || !a.config || !out)
        return usage_error(IMPORT_HELP, "%s", "import needs MODEL.safetensors, --spec SPEC.yaml and --out INIT.bin");
    dp_err e = {0};
    static spec_t sp;
    int rc = resolve_spec(&a, &sp, &e);
    if (rc || (rc = interop_import(&sp, model, out, stdout, &e))) return report(NULL, &e);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(USAGE, stderr);
        return DP_EUSAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        if (argc > 2 && !strcmp(cmd, "help")) {
            char *h[] = {"--help"};
            if (!strcmp(argv[2], "train")) return cmd_train(1, h);
            if (!strcmp(argv[2], "eval")) return cmd_eval(1, h);
            if (!strcmp(argv[2], "bench")) return cmd_bench(1, h);
            if (!strcmp(argv[2], "sharpness")) return cmd_sharpness(1, h);
            if (!strcmp(argv[2], "plot")) return cmd_plot(1, h);
            if (!strcmp(argv[2], "landscape")) return cmd_landscape(1, h);
            if (!strcmp(argv[2], "export")) return cmd_export(1, h);
            if (!strcmp(argv[2], "import")) return cmd_import(1, h);
        }
        fputs(USAGE, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("dppf %s\n", DPPF_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "sharpness")) return cmd_sharpness(argc - 2, argv + 2);
    if (!strcmp(cmd, "plot")) return cmd_plot(argc - 2, argv + 2);
    if (!strcmp(cmd, "landscape")) return cmd_landscape(argc - 2, argv + 2);
    if (!strcmp(cmd, "export")) return cmd_export(argc - 2, argv + 2);
    if (!strcmp(cmd, "import")) return cmd_import(argc - 2, argv + 2);
    if (!strcmp(cmd, "schema")) {
        if (argc > 2 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
            puts("usage: dppf schema\n\nPrints every spec key: type and range, default, meaning.");
            return 0;
        }
        spec_print_schema(stdout);
        return 0;
    }
    fprintf(stderr, "dppf: unknown command '%s'\n\n%s", cmd, USAGE);
    return DP_EUSAGE;
}
