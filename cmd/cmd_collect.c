/* cmd_collect.c - `dppf collect`: one row per run, for comparing runs. */
#include <stdio.h>

#include "collect.h"
#include "commands.h"
#include "common.h"

typedef struct {
    opt_list runs;
    int format; /* collect_format */
} collect_args;

static const opt_def OPTIONS[] = {
    OPT_FLAG_SETS("csv", collect_args, format, COLLECT_CSV, "CSV (a header line, then one line per run)"),
    OPT_FLAG_SETS("md", collect_args, format, COLLECT_MD, "a Markdown table"),
    OPT_END,
};

const opt_syntax collect_syntax = {
    .usage = "usage: dppf collect RUN_DIR [RUN_DIR...] [--csv | --md]\n",
    .about = "One row per run folder: the spec keys whose values differ between the runs\n"
             "(from each run's spec.yaml; run.out_dir is the run column), the final metrics\n"
             "(the last row of metrics.csv, as written) and, when the folder holds a\n"
             "sharpness.csv (`dppf sharpness --csv > RUN_DIR/sharpness.csv`), each measure\n"
             "as a column sharpness.<measure>. A column a run lacks is empty. A file in a\n"
             "run folder (e.g. runs/a/metrics.csv) stands for the folder.\n"
             "\n"
             "  dppf collect runs/*                 aligned table\n"
             "  dppf collect --md runs/sweep/*      for a README\n"
             "  dppf collect --csv runs/* > runs.csv\n",
    .options = OPTIONS,
    .args = OPT_ARGS("RUN_DIR...", 1, OPT_LIST_MAX, collect_args, runs),
};

int cmd_collect(const command *self, int argc, char **argv) {
    collect_args a = {.format = COLLECT_TABLE};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    dp_err e = {0};
    if ((rc = collect_runs(a.runs.item, a.runs.n, (collect_format)a.format, stdout, &e))) return print_error(NULL, &e);
    return 0;
}
