/* cmd_plot.c - `dppf plot`: training curves, or two columns of any CSV files. */
#include <stdio.h>

#include "commands.h"
#include "common.h"
#include "plot.h"

typedef struct {
    opt_list files;
    const char *out, *x, *y;
    int points;
    plot_lines_opts o;
} plot_args;

static const opt_def OPTIONS[] = {
    OPT_STRING("output", plot_args, out, "OUT.png", "where to write (default curves.png)", .short_name = 'o'),
    OPT_STRING("x", plot_args, x, "COL", "the column on the x axis (with --y)"),
    OPT_STRING("y", plot_args, y, "COL", "the column on the y axis (with --x)"),
    OPT_FLAG("points", plot_args, points, "markers only (a scatter plot)"),
    OPT_FLAG("logx", plot_args, o.log_x, "logarithmic x axis"),
    OPT_FLAG("logy", plot_args, o.log_y, "logarithmic y axis"),
    OPT_STRING("title", plot_args, o.title, "T", "title"),
    OPT_STRING("xlabel", plot_args, o.xlabel, "L", "x axis label"),
    OPT_STRING("ylabel", plot_args, o.ylabel, "L", "y axis label"),
    OPT_END,
};

const opt_syntax plot_syntax = {
    .usage = "usage: dppf plot [-o OUT.png] METRICS.csv [METRICS.csv...]\n"
             "       dppf plot --x COL --y COL [--points] [--logx] [--logy] [--title T]\n"
             "                 [-o OUT.png] TABLE.csv [TABLE.csv...]\n",
    .about = "Training curves of one or more runs in one 1200x900 PNG: loss and accuracy\n"
             "against epochs (train dashed, test solid) and, for runs with communication\n"
             "counts, test accuracy against communication rounds - the trade-off picture.\n"
             "Runs are named by their folder. `dppf train` draws <out_dir>/curves.png itself.\n"
             "\n"
             "With --x and --y: column COL against column COL of any numeric CSV files with\n"
             "a header (metrics.csv, `dppf eval --csv`, sweep tables), one series per file,\n"
             "named by the file (a metrics.csv by its folder); 800x600. --points, --logx,\n"
             "--logy, --title and the labels apply to this kind of plot only.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("METRICS.csv...", 1, OPT_LIST_MAX, plot_args, files),
};

int cmd_plot(const command *self, int argc, char **argv) {
    plot_args a = {.out = "curves.png"};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    if (!a.x != !a.y) return opts_usage_error(self, "--x and --y go together");
    int columns = a.x != NULL;
    const plot_lines_opts *o = &a.o;
    if (!columns && (a.points || o->log_x || o->log_y || o->title || o->xlabel || o->ylabel))
        return opts_usage_error(self, "--points, --logx, --logy, --title and the labels need --x and --y");
    dp_err e = {0};
    const char *const *files = a.files.item;
    rc = columns ? plot_columns(files, a.files.n, a.x, a.y, a.points, o, a.out, &e)
                 : plot_metrics(files, a.files.n, a.out, &e);
    if (rc) return print_error(NULL, &e);
    printf("wrote %s\n", a.out);
    return 0;
}
