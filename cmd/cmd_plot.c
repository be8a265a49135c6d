/* cmd_plot.c - `dppf plot`: training curves, or two columns of any CSV files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "common.h"
#include "file.h"
#include "plot.h"

typedef struct {
    opt_list files;
    const char *out, *x, *y, *group_by;
    int points;
    plot_format format;
    double dpi;
    plot_lines_opts o;
} plot_args;

static const opt_def OPTIONS[] = {
    OPT_STRING("output", plot_args, out, "OUT", "where to write (default curves.png, or curves.<FMT>)",
               .short_name = 'o'),
    OPT_FIGURE_FORMAT(plot_args, format),
    OPT_FIGURE_DPI(plot_args, dpi),
    OPT_STRING("group-by", plot_args, group_by, "KEY",
               "one series per value of spec key KEY (e.g.\n"
               "dist.algorithm, read from each run's spec.yaml next\n"
               "to its csv): the mean over the runs and a mean +- std band"),
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
    .usage = "usage: dppf plot [-o OUT] [--format png|svg|pdf] [--dpi N] [--group-by KEY]\n"
             "                 METRICS.csv [METRICS.csv...]\n"
             "       dppf plot --x COL --y COL [--points] [--logx] [--logy] [--title T]\n"
             "                 [-o OUT] [--format FMT] [--dpi N] [--group-by KEY] TABLE.csv...\n",
    .about = "Training curves of one or more runs in one 11 x 8 inch figure: loss and\n"
             "accuracy against epochs (train dashed, test solid) and, for runs with\n"
             "communication counts, test accuracy against communication rounds - the\n"
             "trade-off picture. Runs are named by their folder. `dppf train` draws\n"
             "<out_dir>/curves.png itself.\n"
             "\n"
             "With --x and --y: column COL against column COL of any numeric CSV files with\n"
             "a header (metrics.csv, `dppf eval --csv`, sweep tables), one series per file,\n"
             "named by the file (a metrics.csv by its folder); 6.4 x 4.8 inches. --points,\n"
             "--logx, --logy, --title and the labels apply to this kind of plot only.\n"
             "\n"
             "--group-by KEY (both kinds): runs whose spec.yaml give KEY the same value are\n"
             "one series named by the value - the mean over the runs (e.g. seeds) with a\n"
             "band of mean +- std; with --points, the points coloured by the value.\n"
             "\n"
             "PNG (100 pixels an inch unless --dpi) carries the command line and, for a\n"
             "single run, its spec as tEXt chunks; SVG keeps text as text; PDF embeds the\n"
             "fonts.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("METRICS.csv...", 1, OPT_LIST_MAX, plot_args, files),
};

/* The spec.yaml next to a single run's csv, as the figure's metadata (NULL
 * when there is none, or several runs); malloc'd. */
static char *single_spec(const opt_list *files) {
    if (files->n != 1) return NULL;
    char path[4096];
    const char *f = files->item[0], *slash = strrchr(f, '/');
    snprintf(path, sizeof path, "%.*s%sspec.yaml", slash ? (int)(slash - f) : 0, f, slash ? "/" : "");
    unsigned char *buf = NULL;
    size_t len;
    dp_err ignored = {0};
    if (file_read_all(path, NULL, 1 << 20, &buf, &len, &ignored)) return NULL;
    return (char *)buf;
}

int cmd_plot(const command *self, int argc, char **argv) {
    plot_args a = {0};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    if (!a.x != !a.y) return opts_usage_error(self, "--x and --y go together");
    int columns = a.x != NULL;
    const plot_lines_opts *o = &a.o;
    if (!columns && (a.points || o->log_x || o->log_y || o->title || o->xlabel || o->ylabel))
        return opts_usage_error(self, "--points, --logx, --logy, --title and the labels need --x and --y");
    char out[64], cmdline[8192];
    const char *dot = a.out ? strrchr(a.out, '.') : NULL;
    if (!a.format && dot && !strchr(dot, '/') && strcasecmp(dot, ".png") && strcasecmp(dot, ".svg") &&
        strcasecmp(dot, ".pdf"))
        return opts_usage_error(self, "-o %s: a figure is .png, .svg or .pdf (or say --format)", a.out);
    if (!a.out) {
        snprintf(out, sizeof out, "curves.%s", plot_format_ext(a.format ? a.format : PLOT_FMT_PNG));
        a.out = out;
    }
    command_line(self, argc, argv, cmdline, sizeof cmdline);
    char *spec = single_spec(&a.files);
    plot_output po = {.path = a.out, .format = a.format, .dpi = a.dpi, .command = cmdline, .spec = spec};
    dp_err e = {0};
    const char *const *files = a.files.item;
    rc = columns ? plot_columns(files, a.files.n, a.x, a.y, a.points, o, a.group_by, &po, &e)
                 : plot_metrics(files, a.files.n, a.group_by, &po, &e);
    free(spec);
    if (rc) return print_error(NULL, &e);
    printf("wrote %s\n", a.out);
    return 0;
}
