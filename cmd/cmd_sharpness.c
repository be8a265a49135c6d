/* cmd_sharpness.c - `dppf sharpness`: flatness measures of a checkpoint. */
#include <string.h>

#include "commands.h"
#include "common.h"
#include "flatness.h"
#include "gemm.h"

typedef struct {
    opt_list ckpt; /* CKPT */
    const char *spec;
    opt_list sets;
    uint64_t seed; /* of both the MV directions and the Hessian's random vectors */
    flatness_opts o;
} sharpness_args;

static int parse_threshold(const char *v, void *dest, dp_err *e) {
    mv_threshold *t = dest;
    if (!strcmp(v, "relative")) *t = MV_RELATIVE;
    else if (!strcmp(v, "absolute")) *t = MV_ABSOLUTE;
    else return dp_fail(e, DP_EUSAGE, "'%s' is not relative or absolute", v);
    return 0;
}


static const opt_def OPTIONS[] = {
    OPT_SPEC_FILE(sharpness_args, spec),
    OPT_SPEC_SETS(sharpness_args, sets),
    OPT_INT("samples", sharpness_args, o.samples, "N", 0, 1000000000,
            "training samples used (0 = all; default 0)"),
    OPT_STRING("measures", sharpness_args, o.measures, "LIST", "subset of mv,sam,hessian,trace,eps"),
    OPT_INT("directions", sharpness_args, o.mv.k, "K", 1, 1000000, "MV random directions (default 10)"),
    OPT_DIR_NORM(sharpness_args, o.mv.norm,
                 "MV direction normalisation: filter (default), layer,\n"
                 "global, unit or none"),
    OPT_CUSTOM("threshold", sharpness_args, o.mv.threshold, mv_threshold, "KIND", parse_threshold,
               "MV threshold: relative (L*(1+eps), default) or\n"
               "absolute (L+eps)"),
    OPT_DOUBLE("mv-eps", sharpness_args, o.mv.eps, "X", 0, 1e3, "MV threshold eps (default 0.1)"),
    OPT_DOUBLE("rho", sharpness_args, o.sam.rho, "R", 0, 1e3, "SAM radius (default 0.05)"),
    OPT_INT("sam-steps", sharpness_args, o.sam.steps, "K", 1, 1000000, "SAM ascent steps (default 1)"),
    OPT_INT("hessian-iters", sharpness_args, o.hess.max_iter, "N", 1, 1000000,
            "power iterations at most (default 100)"),
    OPT_INT("trace-samples", sharpness_args, o.hess.samples, "M", 1, 1000000,
            "Hutchinson samples (default 10)"),
    OPT_DOUBLE("eps", sharpness_args, o.eps.eps, "X", 0, 1e3, "epsilon-sharpness box (default 1e-3)"),
    OPT_SEED(sharpness_args, seed, "the random directions and vectors"),
    OPT_FLAG("csv", sharpness_args, o.csv, "one CSV row per measure"),
    OPT_END,
};

const opt_syntax sharpness_syntax = {
    .usage = "usage: dppf sharpness CKPT [--spec SPEC.yaml] [--set key=value]... [options]\n"
             "                      [--csv]\n",
    .about = "Flatness of the checkpoint's averaged model on its training set (the first\n"
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
             "  eps      Keskar et al. epsilon-sharpness in the box eps*(|w|+1)\n",
    .options = OPTIONS,
    .args = OPT_ARGS("CKPT", 1, 1, sharpness_args, ckpt),
};

int cmd_sharpness(const command *self, int argc, char **argv) {
    sharpness_args a = {0};
    flatness_opts_default(&a.o);
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    a.o.ckpt = opt_item(&a.ckpt, 0);
    a.o.mv.seed = a.o.hess.seed = a.seed;
    dp_err e = {0};
    spec_t s;
    if ((rc = resolve_spec(a.spec, a.o.ckpt, &a.sets, &s, &e))) return print_error(NULL, &e);
    a.o.spec = &s;
    gemm_set_threads(comm_threads(s.run.threads, NULL));
    if ((rc = flatness_run(&a.o, stdout, &e))) return print_error(NULL, &e);
    return 0;
}
