/* curves.c - figures made from CSV files: the training curves of runs and
 * any two columns, one series per run or, with --group-by, per group of runs
 * (mean and a mean -/+ std band) (plot.h). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axes.h"
#include "csv.h"
#include "plot.h"
#include "spec.h"

/* The run's name: the folder holding the csv ("runs/a/metrics.csv" -> "a"),
 * or the file name without ".csv" when there is no folder. */
static void run_name(const char *path, char *out, size_t cap) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    size_t end = len;
    while (end > 0 && path[end - 1] != '/') end--; /* start of the file name */
    if (end > 0) {
        size_t dend = end - 1; /* the slash */
        while (dend > 0 && path[dend - 1] == '/') dend--;
        size_t dstart = dend;
        while (dstart > 0 && path[dstart - 1] != '/') dstart--;
        if (dend > dstart && !(dend - dstart == 1 && path[dstart] == '.')) {
            snprintf(out, cap, "%.*s", (int)(dend - dstart), path + dstart);
            return;
        }
    }
    size_t flen = len - end;
    if (flen > 4 && strncmp(path + len - 4, ".csv", 4) == 0) flen -= 4;
    snprintf(out, cap, "%.*s", (int)flen, path + end);
}

/* A series' name: the file name without ".csv", or the run's folder for a
 * metrics.csv (so sweeps' per-run files and gathered tables both read well). */
static void series_name(const char *path, char *out, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strcmp(base, "metrics.csv")) {
        run_name(path, out, cap);
        return;
    }
    size_t len = strlen(base);
    if (len > 4 && !strcmp(base + len - 4, ".csv")) len -= 4;
    snprintf(out, cap, "%.*s", (int)len, base);
}

/* The value of spec key `key` in the spec.yaml next to csv_path, as the
 * series' name (quotes of strings removed). */
static int group_value(const char *csv_path, const char *key, char *out, size_t cap, dp_err *e) {
    char path[SPEC_PATH + 16];
    const char *slash = strrchr(csv_path, '/');
    if (slash) snprintf(path, sizeof path, "%.*s/spec.yaml", (int)(slash - csv_path), csv_path);
    else snprintf(path, sizeof path, "spec.yaml");
    spec_t *s = dp_calloc(1, sizeof *s, "spec", e);
    if (!s) return DP_ENOMEM;
    spec_defaults(s);
    char v[SPEC_PATH + 8];
    int rc = spec_load_file(s, path, e);
    if (!rc) rc = spec_get(s, key, v, sizeof v, e);
    free(s);
    if (rc) return dp_fail(e, rc, "--group-by %s: %s (for '%s')", key, e->msg, csv_path);
    size_t n = strlen(v);
    int quoted = n >= 2 && v[0] == '"' && v[n - 1] == '"';
    snprintf(out, cap, "%.*s", (int)(quoted ? n - 2 : n), v + quoted);
    return 0;
}

/* Reads one csv into t, checks that it has the `need` columns (else `code`,
 * naming file, column and `hint`), and names its series: the value of spec
 * key group_by, or the run's folder (by_folder), or the file. */
static int read_table(const char *path, csv_table *t, const char *const *need, int nneed, int code, const char *hint,
                      const char *group_by, int by_folder, char *label, size_t cap, dp_err *e) {
    int rc = csv_read(path, t, e);
    if (rc) return rc;
    for (int k = 0; k < nneed; k++)
        if (!csv_col(t, need[k])) return dp_fail(e, code, "'%s' has no column '%s'%s", path, need[k], hint);
    if (group_by) return group_value(path, group_by, label, cap, e);
    if (by_folder) run_name(path, label, cap);
    else series_name(path, label, cap);
    return 0;
}

/* ------------------------------------------------------------------ groups */

/* Series of several runs on one x: the sorted union of their x values; at
 * each, the mean of the runs that have that x and mean -/+ their sample std. */
typedef struct {
    double *x, *mean, *lo, *hi;
    int n;
} agg;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int same_x(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(1, fmax(fabs(a), fabs(b))); }

/* The finite y of a run at x (its first row there): 1, or 0 when it has none. */
static int value_at(const double *x, const double *y, int n, double at, double *v) {
    for (int i = 0; i < n; i++)
        if (same_x(x[i], at) && isfinite(y[i])) {
            *v = y[i];
            return 1;
        }
    return 0;
}

static void agg_free(agg *a) {
    free(a->x);
    free(a->mean);
    free(a->lo);
    free(a->hi);
    memset(a, 0, sizeof *a);
}

/* Runs `idx[0..m)` of xs/ys/ns. */
static int aggregate(const double *const *xs, const double *const *ys, const int *ns, const int *idx, int m,
                     agg *a, dp_err *e) {
    memset(a, 0, sizeof *a);
    int total = 0;
    for (int r = 0; r < m; r++) total += ns[idx[r]];
    a->x = dp_calloc(total ? (size_t)total : 1, sizeof(double), "group x", e);
    a->mean = dp_calloc(total ? (size_t)total : 1, sizeof(double), "group mean", e);
    a->lo = dp_calloc(total ? (size_t)total : 1, sizeof(double), "group band", e);
    a->hi = dp_calloc(total ? (size_t)total : 1, sizeof(double), "group band", e);
    if (!a->x || !a->mean || !a->lo || !a->hi) {
        agg_free(a);
        return DP_ENOMEM;
    }
    int n = 0;
    for (int r = 0; r < m; r++)
        for (int i = 0; i < ns[idx[r]]; i++)
            if (isfinite(xs[idx[r]][i])) a->x[n++] = xs[idx[r]][i];
    qsort(a->x, (size_t)n, sizeof(double), cmp_double);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || !same_x(a->x[u - 1], a->x[i])) a->x[u++] = a->x[i];
    a->n = u;
    for (int k = 0; k < u; k++) {
        double sum = 0, sq = 0, v;
        int cnt = 0;
        for (int r = 0; r < m; r++)
            if (value_at(xs[idx[r]], ys[idx[r]], ns[idx[r]], a->x[k], &v)) sum += v, cnt++;
        double mean = cnt ? sum / cnt : NAN;
        for (int r = 0; r < m && cnt > 1; r++)
            if (value_at(xs[idx[r]], ys[idx[r]], ns[idx[r]], a->x[k], &v)) sq += (v - mean) * (v - mean);
        double sd = cnt > 1 ? sqrt(sq / (cnt - 1)) : 0;
        a->mean[k] = mean;
        a->lo[k] = mean - sd;
        a->hi[k] = mean + sd;
    }
    return 0;
}

/* Which group each of n runs is in (first appearance order), by label. */
typedef struct {
    int ngroups;
    int *of;            /* of[run] = group */
    int *members;       /* runs in group order: members[start[g] .. start[g + 1]) */
    int *start;
    char (*label)[128]; /* per group */
} grouping;

static void grouping_free(grouping *g) {
    free(g->of);
    free(g->members);
    free(g->start);
    free(g->label);
    memset(g, 0, sizeof *g);
}

static int group_runs(char (*labels)[128], int n, grouping *g, dp_err *e) {
    memset(g, 0, sizeof *g);
    g->of = dp_calloc((size_t)n, sizeof(int), "groups", e);
    g->members = dp_calloc((size_t)n, sizeof(int), "groups", e);
    g->start = dp_calloc((size_t)n + 1, sizeof(int), "groups", e);
    g->label = dp_calloc((size_t)n, sizeof *g->label, "groups", e);
    if (!g->of || !g->members || !g->start || !g->label) {
        grouping_free(g);
        return DP_ENOMEM;
    }
    for (int r = 0; r < n; r++) {
        int k = 0;
        while (k < g->ngroups && strcmp(g->label[k], labels[r])) k++;
        if (k == g->ngroups) snprintf(g->label[g->ngroups++], sizeof g->label[0], "%s", labels[r]);
        g->of[r] = k;
    }
    int m = 0;
    for (int k = 0; k < g->ngroups; k++) {
        g->start[k] = m;
        for (int r = 0; r < n; r++)
            if (g->of[r] == k) g->members[m++] = r;
    }
    g->start[g->ngroups] = m;
    return 0;
}

/* One series per group: the run itself when alone, else the group's mean
 * with its band (aggregates kept in ag[g] until the figure is drawn). */
static int group_series(const grouping *g, const double *const *xs, const double *const *ys, const int *ns,
                        int dashed, agg *ag, plot_series *out, dp_err *e) {
    for (int k = 0; k < g->ngroups; k++) {
        const int *idx = g->members + g->start[k];
        int m = g->start[k + 1] - g->start[k];
        plot_series s = {NULL, xs[idx[0]], ys[idx[0]], ns[idx[0]], dashed, 1, plot_palette(k), 0, NULL, NULL};
        if (m > 1) {
            int rc = aggregate(xs, ys, ns, idx, m, &ag[k], e);
            if (rc) return rc;
            s.x = ag[k].x, s.y = ag[k].mean, s.n = ag[k].n, s.ylo = ag[k].lo, s.yhi = ag[k].hi;
        }
        out[k] = s;
    }
    return 0;
}

/* ------------------------------------------------------------------ training curves */

typedef struct {
    csv_table t;
    const double *epoch, *comm;
    double *acc[2];           /* train, test, in percent */
    const double *loss[2];    /* train, test */
} run_data;

/* The fourth panel: which colour is which run or group, and the line styles. */
static void draw_key(plot_canvas *c, double X, double Y, double W, double H, const grouping *g, const char *heading,
                     int bands) {
    double x = X + 50, y = Y + 40, fs = FONT_SIZE;
    int n = g->ngroups;
    double avail = H - 40 - 3.2 * fs * 1.6 - 30;
    double row = n ? fmin(1.6 * fs, avail / n) : 1.6 * fs;
    if (row < 1.25 * fs) fs = fmax(5, row / 1.25); /* many runs: smaller text */
    text_style head = text_plain(TEXT_LEFT, TEXT_MIDDLE), st = head;
    head.bold = 1;
    st.size = fs;
    canvas_text(c, x, y, heading, &head);
    y += 1.6 * FONT_SIZE;
    double maxw = X + W - 20 - (x + 32);
    for (int k = 0; k < n; k++) {
        char label[180];
        int m = g->start[k + 1] - g->start[k];
        if (m > 1) snprintf(label, sizeof label, "%s (%d runs)", g->label[k], m);
        else snprintf(label, sizeof label, "%s", g->label[k]);
        size_t len = strlen(label); /* too long: cut with an ellipsis */
        while (len > 4 && canvas_text_width(c, label, fs, 0) > maxw) {
            len--;
            snprintf(label + len - 1, sizeof label - len + 1, "\xe2\x80\xa6");
        }
        if (bands && m > 1) canvas_fill_rect(c, x, y - 4, 24, 8, plot_palette(k), 0.22);
        canvas_line(c, x, y, x + 24, y, 2 * LINE_LW, plot_palette(k));
        canvas_text(c, x + 32, y, label, &st);
        y += row;
    }
    y += 0.8 * FONT_SIZE;
    static const double dash[2] = {5.5, 2.4};
    double lx[2] = {x, x + 24}, ly[2] = {y, y};
    text_style plain = text_plain(TEXT_LEFT, TEXT_MIDDLE);
    canvas_polyline(c, lx, ly, 2, LINE_LW, PLOT_INK, NULL, 0);
    canvas_text(c, x + 32, y, "test (averaged model)", &plain);
    ly[0] = ly[1] = y += 1.6 * FONT_SIZE;
    canvas_polyline(c, lx, ly, 2, LINE_LW, PLOT_INK, dash, 2);
    canvas_text(c, x + 32, y, "train", &plain);
    if (bands) {
        y += 1.6 * FONT_SIZE;
        canvas_fill_rect(c, x, y - 4, 24, 8, PLOT_INK, 0.22);
        canvas_text(c, x + 32, y, "mean \xc2\xb1 std over the runs", &plain);
    }
}

int plot_metrics(const char *const *csv_paths, int n, const char *group_by, const plot_output *out, dp_err *e) {
    if (n < 1) return dp_fail(e, DP_EUSAGE, "plot '%s': no metrics.csv files given", out->path);
    int rc = 0;
    run_data *runs = dp_calloc((size_t)n, sizeof *runs, "runs", e);
    char(*labels)[128] = dp_calloc((size_t)n, sizeof *labels, "run names", e);
    plot_series *s = dp_calloc((size_t)2 * n, sizeof *s, "series", e);
    agg *ag = dp_calloc((size_t)2 * n, sizeof *ag, "groups", e);
    const double **xs = dp_calloc((size_t)n, sizeof *xs, "series", e), **ys = dp_calloc((size_t)n, sizeof *ys, "series", e);
    int *ns = dp_calloc((size_t)n, sizeof *ns, "series", e);
    grouping g = {0};
    plot_canvas c = {0};
    if (!runs || !labels || !s || !ag || !xs || !ys || !ns) {
        rc = DP_ENOMEM;
        goto done;
    }
    static const char *need[] = {"epoch", "train_loss", "test_loss", "train_acc", "test_acc"};
    double lmin = DBL_MAX, lmax = 0;
    for (int r = 0; r < n; r++) {
        run_data *d = &runs[r];
        if ((rc = read_table(csv_paths[r], &d->t, need, 5, DP_EIO, " (not a metrics.csv?)", group_by, 1, labels[r],
                             sizeof labels[r], e)))
            goto done;
        d->epoch = csv_col(&d->t, "epoch");
        d->comm = csv_col(&d->t, "comm_rounds");
        int m = d->t.nrows;
        for (int k = 0; k < 2; k++) {
            d->acc[k] = dp_calloc(m ? (size_t)m : 1, sizeof(double), "accuracy", e);
            d->loss[k] = csv_col(&d->t, k ? "test_loss" : "train_loss");
            if (!d->acc[k]) {
                rc = DP_ENOMEM;
                goto done;
            }
            const double *a = csv_col(&d->t, k ? "test_acc" : "train_acc");
            for (int i = 0; i < m; i++) {
                d->acc[k][i] = 100 * a[i];
                double l = d->loss[k][i];
                if (isfinite(l) && l > 0) lmin = fmin(lmin, l), lmax = fmax(lmax, l);
            }
        }
    }
    if ((rc = group_runs(labels, n, &g, e))) goto done;
    int bands = g.ngroups < n;
    if ((rc = canvas_begin(&c, 72 * PLOT_METRICS_W, 72 * PLOT_METRICS_H, out, e))) goto done;
    const double pw = c.w / 2, ph = c.h / 2;
    /* panels 1 and 2: loss and accuracy vs epoch, train dashed, test solid */
    for (int panel = 0; panel < 3; panel++) {
        int G = g.ngroups;
        for (int k = 0; k < 2 * G; k++) agg_free(&ag[k]);
        int nser = 0;
        for (int set = 0; set < 2; set++) { /* train, test */
            if (panel == 2 && set == 0) continue;
            int have = 1;
            for (int r = 0; r < n; r++) {
                xs[r] = panel == 2 ? runs[r].comm : runs[r].epoch;
                ys[r] = panel == 0 ? runs[r].loss[set] : runs[r].acc[set];
                ns[r] = runs[r].t.nrows;
                have &= xs[r] != NULL;
            }
            if (!have) continue; /* runs without communication counts: no panel 3 */
            if ((rc = group_series(&g, xs, ys, ns, set == 0, ag + set * G, s + nser, e))) goto done;
            nser += G;
        }
        plot_lines_opts o = {0};
        o.no_legend = 1;
        if (panel == 0) {
            o.title = "loss";
            o.xlabel = "epoch";
            o.log_y = lmax > 30 * lmin && lmin < DBL_MAX;
            o.ylabel = o.log_y ? "loss (log scale)" : "loss";
        } else if (panel == 1) {
            o.title = "accuracy";
            o.xlabel = "epoch";
            o.ylabel = "accuracy (%)";
        } else {
            o.title = "test accuracy vs communication";
            o.xlabel = "communication rounds";
            o.ylabel = "test accuracy (%)";
        }
        plot_lines_draw(&c, panel == 1 ? pw : 0, panel == 2 ? ph : 0, pw, ph, s, nser, &o);
    }
    draw_key(&c, pw, ph, pw, ph, &g, group_by ? group_by : "runs", bands);
    rc = canvas_end(&c, e);
done:
    if (c.cr) canvas_abort(&c);
    if (runs)
        for (int r = 0; r < n; r++) {
            csv_free(&runs[r].t);
            free(runs[r].acc[0]);
            free(runs[r].acc[1]);
        }
    if (ag)
        for (int k = 0; k < 2 * n; k++) agg_free(&ag[k]);
    grouping_free(&g);
    free(runs);
    free(labels);
    free(s);
    free(ag);
    free(xs);
    free(ys);
    free(ns);
    return rc;
}

/* ------------------------------------------------------------------ any two columns */

int plot_columns(const char *const *csv_paths, int n, const char *xcol, const char *ycol, int points,
                 const plot_lines_opts *opts, const char *group_by, const plot_output *out, dp_err *e) {
    if (n < 1) return dp_fail(e, DP_EUSAGE, "plot '%s': no csv files given", out->path);
    int rc = 0;
    csv_table *t = dp_calloc((size_t)n, sizeof *t, "tables", e);
    plot_series *s = dp_calloc((size_t)n, sizeof *s, "series", e);
    char(*names)[128] = dp_calloc((size_t)n, sizeof *names, "names", e);
    agg *ag = dp_calloc((size_t)n, sizeof *ag, "groups", e);
    const double **xs = dp_calloc((size_t)n, sizeof *xs, "series", e), **ys = dp_calloc((size_t)n, sizeof *ys, "series", e);
    int *ns = dp_calloc((size_t)n, sizeof *ns, "series", e);
    grouping g = {0};
    if (!t || !s || !names || !ag || !xs || !ys || !ns) {
        rc = DP_ENOMEM;
        goto done;
    }
    for (int k = 0; k < n; k++) {
        const char *want[2] = {xcol, ycol};
        if ((rc = read_table(csv_paths[k], &t[k], want, 2, DP_EUSAGE, "", group_by, 0, names[k], sizeof names[k], e)))
            goto done;
        xs[k] = csv_col(&t[k], xcol);
        ys[k] = csv_col(&t[k], ycol);
        ns[k] = t[k].nrows;
    }
    plot_lines_opts o = opts ? *opts : (plot_lines_opts){0};
    if (!o.xlabel) o.xlabel = xcol;
    if (!o.ylabel) o.ylabel = ycol;
    int nser = n;
    if (group_by && !points) { /* lines: one per group, mean and band */
        if ((rc = group_runs(names, n, &g, e)) || (rc = group_series(&g, xs, ys, ns, 0, ag, s, e))) goto done;
        for (int k = 0; k < g.ngroups; k++) s[k].name = g.label[k];
        nser = g.ngroups;
        if (!o.legend_title) o.legend_title = group_by;
    } else if (group_by) { /* a scatter: coloured by group, one legend entry each */
        if ((rc = group_runs(names, n, &g, e))) goto done;
        for (int k = 0; k < n; k++) {
            int first = g.members[g.start[g.of[k]]] == k;
            s[k] = (plot_series){first ? names[k] : NULL, xs[k], ys[k], ns[k], 0, 1, plot_palette(g.of[k]), 1, NULL, NULL};
        }
        if (!o.legend_title) o.legend_title = group_by;
    } else {
        for (int k = 0; k < n; k++) s[k] = (plot_series){names[k], xs[k], ys[k], ns[k], 0, 0, {0, 0, 0}, points, NULL, NULL};
    }
    rc = plot_lines(out, s, nser, &o, e);
done:
    if (t)
        for (int k = 0; k < n; k++) csv_free(&t[k]);
    if (ag)
        for (int k = 0; k < n; k++) agg_free(&ag[k]);
    grouping_free(&g);
    free(t);
    free(s);
    free(names);
    free(ag);
    free(xs);
    free(ys);
    free(ns);
    return rc;
}
