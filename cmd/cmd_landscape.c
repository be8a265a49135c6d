/* cmd_landscape.c - `dppf landscape`: the loss around a checkpoint, 2-D or 1-D. */
#include <string.h>

#include "commands.h"
#include "common.h"
#include "gemm.h"
#include "landscape.h"
#include "progress.h"

typedef struct {
    opt_list ckpt; /* CKPT */
    const char *spec;
    opt_list sets;
    int quiet;
    landscape_opts o;
} landscape_args;

static int parse_mode(const char *v, void *dest, dp_err *e) { return land_mode_parse(v, dest, e); }

static int parse_plane(const char *v, void *dest, dp_err *e) {
    if (strcmp(v, "random") && strcmp(v, "workers"))
        return dp_fail(e, DP_EUSAGE, "'%s' is not random or workers", v);
    *(int *)dest = !strcmp(v, "workers");
    return 0;
}

/* "LO,HI" into o->zmin, o->zmax. */
static int parse_zrange(const char *v, void *dest, dp_err *e) {
    landscape_opts *o = dest;
    char lo[64];
    const char *comma = strchr(v, ',');
    size_t n = comma ? (size_t)(comma - v) : 0;
    if (!comma || n >= sizeof lo) return dp_fail(e, DP_EUSAGE, "needs LO,HI, not '%s'", v);
    memcpy(lo, v, n);
    lo[n] = 0;
    if (opts_strtod(lo, &o->zmin) || opts_strtod(comma + 1, &o->zmax) || !(o->zmin > 0) ||
        !(o->zmax > o->zmin))
        return dp_fail(e, DP_EUSAGE, "needs LO,HI with 0 < LO < HI, both finite, not '%s'", v);
    return 0;
}

static const opt_def OPTIONS[] = {
    OPT_CUSTOM("mode", landscape_args, o.mode, land_mode, "MODE", parse_mode,
               "2d|random|line|workers (default 2d; see above)"),
    OPT_STRING("to", landscape_args, o.to_ckpt, "OTHER.bin", "line: the checkpoint at t = 1"),
    OPT_INT("grid", landscape_args, o.grid, "N", 2, 1000000,
            "points per axis (default 21 for 2d, 41 for 1-D)"),
    OPT_DOUBLE_ABOVE("range", landscape_args, o.range, "R", 0, 1e3,
                     "the extent R of the coordinates (default: see above)"),
    OPT_INT("samples", landscape_args, o.samples, "N", 0, 1000000000,
            "training samples (0 = all; default 10000)"),
    OPT_FLAG("test", landscape_args, o.test, "also the test set's loss and accuracy"),
    OPT_SEED(landscape_args, o.seed, "the random directions"),
    OPT_DIR_NORM(landscape_args, o.norm,
                 "direction normalisation: filter (default), layer,\n"
                 "global, unit or none"),
    OPT_CUSTOM("plane", landscape_args, o.plane_workers, int, "PLANE", parse_plane,
               "2d: random (default), or workers: the plane through\n"
               "the average and workers 0 and 1 (d1 = w0 - avg,\n"
               "d2 = w1 - avg made orthogonal to d1, same length;\n"
               "default range 2): the valley the workers span, all marked"),
    OPT_CUSTOM("zrange", landscape_args, o, landscape_opts, "LO,HI", parse_zrange,
               "2d: colour scale over train losses LO..HI (log), so\n"
               "pictures of several models compare at a glance\n"
               "(default: each grid's range)"),
    OPT_STRING("out", landscape_args, o.out_dir, "DIR", "where to write (default: the checkpoint's folder)"),
    OPT_FLAG("no-png", landscape_args, o.no_png, "CSV only, no figure"),
    OPT_FIGURE_FORMAT(landscape_args, o.format),
    OPT_FIGURE_DPI(landscape_args, o.dpi),
    OPT_SPEC_FILE(landscape_args, spec),
    OPT_SPEC_SETS(landscape_args, sets),
    OPT_FLAG("quiet", landscape_args, quiet, "no progress on stderr"),
    OPT_END,
};

const opt_syntax landscape_syntax = {
    .usage = "usage: dppf landscape CKPT [--mode 2d|random|line|workers] [--to OTHER.bin]\n"
             "                       [--grid N] [--range R] [--samples N] [--test] [--seed S]\n"
             "                       [--norm MODE] [--plane random|workers] [--zrange LO,HI]\n"
             "                       [--out DIR] [--no-png] [--format png|svg|pdf] [--dpi N]\n"
             "                       [--spec SPEC.yaml]\n"
             "                       [--set key=value]... [--quiet]\n",
    .about = "The training loss and accuracy around the checkpoint's averaged model (Li et\n"
             "al. 2018), BatchNorm in eval mode, on the first --samples training samples:\n"
             "  2d       N x N grid over [-R, R]^2 along two filter-normalised random\n"
             "           directions (default N 21, R 1); heatmap of log10 loss with contours,\n"
             "           the workers' positions projected onto the plane marked w0.. and avg\n"
             "  random   one filter-normalised random direction, t in [-R, R] (N 41, R 1)\n"
             "  line     the line to --to OTHER.bin: t = 0 this checkpoint, 1 the other,\n"
             "           t in [-R, 1 + R] (R 0.5)\n"
             "  workers  from the average through each worker (t = 1 at the worker),\n"
             "           t in [-R, R] (R 2), one curve per worker\n"
             "Writes landscape-<mode>.csv and .png (or .svg/.pdf with --format) into --out\n"
             "(default: the checkpoint's folder). Under mpirun the grid is split over the\n"
             "ranks (same numbers).\n",
    .options = OPTIONS,
    .args = OPT_ARGS("CKPT", 1, 1, landscape_args, ckpt),
};

int cmd_landscape(const command *self, int argc, char **argv) {
    landscape_args a = {0};
    landscape_opts_default(&a.o);
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    if (a.o.mode == LAND_1D_LINE && !a.o.to_ckpt)
        return opts_usage_error(self, "--mode line needs --to OTHER.bin");
    a.o.ckpt = opt_item(&a.ckpt, 0);
    char cmdline[8192];
    command_line(self, argc, argv, cmdline, sizeof cmdline);
    a.o.command = cmdline;
    dp_err e = {0};
    spec_t s;
    comm_t comm;
    if ((rc = resolve_spec(a.spec, a.o.ckpt, &a.sets, &s, &e))) return print_error(NULL, &e);
    a.o.spec = &s;
    if ((rc = comm_init_ranks(&comm, &e))) return print_error(&comm, &e);
    progress_t prog;
    progress_init(&prog, a.quiet ? 0 : -1);
    a.o.report = &prog.report;
    gemm_set_threads(comm_threads(s.run.threads, &comm));
    rc = landscape_run(&a.o, &comm, stdout, &e);
    progress_done(&prog);
    return finish_ranks(&comm, rc, &e);
}
