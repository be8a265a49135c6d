/* collect.c - one row per run: differing spec keys, final metrics, sharpness (collect.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collect.h"
#include "file.h"
#include "spec.h"

#define MAX_FIELDS 256
#define CELL 1100 /* a spec value (paths up to SPEC_PATH) or a number */

/* A table being built: column names, and per run a value per column ("" = none). */
typedef struct {
    int ncols, nrows;
    char (*name)[128];
    char **cell; /* cell[r * MAX_COLS + c], malloc'd or NULL */
} table;

#define MAX_COLS 512

static int col_index(table *t, const char *name, dp_err *e) {
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->name[c], name)) return c;
    if (t->ncols == MAX_COLS) return dp_fail(e, DP_EUSAGE, "collect: more than %d columns", MAX_COLS), -1;
    snprintf(t->name[t->ncols], sizeof t->name[0], "%s", name);
    return t->ncols++;
}

static int set_cell(table *t, int r, const char *name, const char *value, size_t len, dp_err *e) {
    int c = col_index(t, name, e);
    if (c < 0) return DP_EUSAGE;
    char **p = &t->cell[(size_t)r * MAX_COLS + c];
    free(*p);
    *p = malloc(len + 1);
    if (!*p) return dp_fail(e, DP_ENOMEM, "out of memory (collect)");
    memcpy(*p, value, len);
    (*p)[len] = 0;
    return 0;
}

/* Splits a line at commas (no quoting: dppf's CSV files have none) into at
 * most MAX_FIELDS fields [start, end) offsets; returns the count. */
static int split(const char *line, size_t len, size_t *start, size_t *end) {
    int n = 0;
    size_t s = 0;
    for (size_t i = 0; i <= len && n < MAX_FIELDS; i++)
        if (i == len || line[i] == ',') {
            size_t a = s, b = i;
            while (a < b && (line[a] == ' ' || line[a] == '\t')) a++;
            while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t' || line[b - 1] == '\r')) b--;
            start[n] = a, end[n] = b, n++;
            s = i + 1;
        }
    return n;
}

/* The lines of a text buffer: calls fn for each non-blank one. */
typedef int (*line_fn)(void *ctx, const char *line, size_t len, int index, dp_err *e);

static int each_line(const char *buf, size_t n, line_fn fn, void *ctx, dp_err *e) {
    int index = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && buf[j] != '\n') j++;
        size_t len = j - i;
        while (len && buf[i + len - 1] == '\r') len--;
        if (len) {
            int rc = fn(ctx, buf + i, len, index++, e);
            if (rc) return rc;
        }
        i = j + 1;
    }
    return 0;
}

typedef struct {
    table *t;
    int row;
    const char *path;
    char header[MAX_FIELDS][128];
    int nh, measure, value; /* sharpness.csv: the columns, counted from the end of a row */
    const char *last;       /* metrics.csv: the last data line */
    size_t last_len;
} file_ctx;

static int header_of(file_ctx *x, const char *line, size_t len) {
    size_t a[MAX_FIELDS], b[MAX_FIELDS];
    x->nh = split(line, len, a, b);
    for (int k = 0; k < x->nh; k++) snprintf(x->header[k], sizeof x->header[k], "%.*s", (int)(b[k] - a[k]), line + a[k]);
    return x->nh;
}

static int metrics_line(void *ctx, const char *line, size_t len, int index, dp_err *e) {
    file_ctx *x = ctx;
    (void)e;
    if (index == 0) header_of(x, line, len);
    else x->last = line, x->last_len = len;
    return 0;
}

static int sharpness_line(void *ctx, const char *line, size_t len, int index, dp_err *e) {
    file_ctx *x = ctx;
    size_t a[MAX_FIELDS], b[MAX_FIELDS];
    if (index == 0) {
        header_of(x, line, len);
        x->measure = x->value = -1;
        for (int k = 0; k < x->nh; k++) {
            if (!strcmp(x->header[k], "measure")) x->measure = x->nh - 1 - k;
            if (!strcmp(x->header[k], "value")) x->value = x->nh - 1 - k;
        }
        if (x->measure < 0 || x->value < 0)
            return dp_fail(e, DP_EIO, "'%s' has no measure and value columns (not `dppf sharpness --csv` output?)",
                           x->path);
        return 0;
    }
    /* the checkpoint path (first) may hold commas: count from the end */
    int n = split(line, len, a, b);
    if (n < x->nh) return dp_fail(e, DP_EIO, "'%s': row %d has %d fields, the header %d", x->path, index + 1, n, x->nh);
    int m = n - 1 - x->measure, v = n - 1 - x->value;
    char name[160];
    snprintf(name, sizeof name, "sharpness.%.*s", (int)(b[m] - a[m]), line + a[m]);
    return set_cell(x->t, x->row, name, line + a[v], b[v] - a[v], e);
}

/* The run folder of an argument: itself, or the folder of a file in it. */
static void run_dir(const char *arg, char *dir, size_t cap) {
    struct stat st;
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/') len--;
    snprintf(dir, cap, "%.*s", (int)len, arg);
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, cap, ".");
    }
}

static int read_run(table *t, int r, const char *dir, char (*vals)[CELL], dp_err *e) {
    char path[SPEC_PATH + 64];
    unsigned char *buf = NULL;
    size_t n;
    file_ctx x = {.t = t, .row = r, .path = path};
    int rc = set_cell(t, r, "run", dir, strlen(dir), e);
    /* the spec: every key's value, compared across runs later */
    snprintf(path, sizeof path, "%s/spec.yaml", dir);
    spec_t *s = dp_calloc(1, sizeof *s, "spec", e);
    if (!rc && !s) rc = DP_ENOMEM;
    if (!rc) {
        spec_defaults(s);
        rc = spec_load_file(s, path, e);
    }
    for (size_t k = 0; !rc && k < spec_key_count(); k++) {
        spec_key_info ki;
        spec_key_describe(k, &ki);
        rc = spec_get(s, ki.key, vals[k], CELL, e);
    }
    free(s);
    /* the last row of metrics.csv, as written */
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (!rc) rc = file_read_all(path, "metrics", 1 << 30, &buf, &n, e);
    if (!rc) rc = each_line((const char *)buf, n, metrics_line, &x, e);
    if (!rc && !x.last) rc = dp_fail(e, DP_EIO, "'%s' has no rows", path);
    if (!rc) {
        size_t a[MAX_FIELDS], b[MAX_FIELDS];
        int nf = split(x.last, x.last_len, a, b);
        if (nf != x.nh) rc = dp_fail(e, DP_EIO, "'%s': the last row has %d fields, the header %d", path, nf, x.nh);
        for (int k = 0; !rc && k < nf; k++) rc = set_cell(t, r, x.header[k], x.last + a[k], b[k] - a[k], e);
    }
    free(buf);
    buf = NULL;
    /* sharpness.csv, when there is one */
    snprintf(path, sizeof path, "%s/sharpness.csv", dir);
    struct stat st;
    if (!rc && stat(path, &st) == 0) {
        rc = file_read_all(path, "sharpness", 1 << 24, &buf, &n, e);
        if (!rc) rc = each_line((const char *)buf, n, sharpness_line, &x, e);
        free(buf);
    }
    return rc;
}

/* ---- output ---- */

static void put_csv(FILE *f, const char *v) {
    if (!strpbrk(v, ",\"\n")) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"') fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

static void put_md(FILE *f, const char *v) {
    for (; *v; v++) {
        if (*v == '|') fputc('\\', f);
        fputc(*v, f);
    }
}

static const char *cell(const table *t, int r, int c) {
    const char *v = t->cell[(size_t)r * MAX_COLS + c];
    return v ? v : "";
}

static void print_table(const table *t, collect_format fmt, FILE *f) {
    if (fmt == COLLECT_CSV) {
        for (int r = -1; r < t->nrows; r++)
            for (int c = 0; c < t->ncols; c++) {
                put_csv(f, r < 0 ? t->name[c] : cell(t, r, c));
                fputc(c + 1 < t->ncols ? ',' : '\n', f);
            }
        return;
    }
    if (fmt == COLLECT_MD) {
        for (int r = -2; r < t->nrows; r++) {
            for (int c = 0; c < t->ncols; c++) {
                fputs("| ", f);
                if (r == -2) put_md(f, t->name[c]);
                else if (r == -1) fputs(c ? "---:" : "---", f);
                else put_md(f, cell(t, r, c));
                fputc(' ', f);
            }
            fputs("|\n", f);
        }
        return;
    }
    int width[MAX_COLS];
    for (int c = 0; c < t->ncols; c++) {
        width[c] = (int)strlen(t->name[c]);
        for (int r = 0; r < t->nrows; r++) {
            int w = (int)strlen(cell(t, r, c));
            if (w > width[c]) width[c] = w;
        }
    }
    for (int r = -1; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            const char *v = r < 0 ? t->name[c] : cell(t, r, c);
            /* the run column left-aligned, the rest right-aligned like numbers */
            fprintf(f, c ? "  %*s" : "%-*s", width[c], v);
            if (c + 1 == t->ncols) fputc('\n', f);
        }
}

int collect_runs(const char *const *dirs, int n, collect_format fmt, FILE *out, dp_err *e) {
    if (n < 1) return dp_fail(e, DP_EUSAGE, "collect: no run folders given");
    size_t nk = spec_key_count();
    table t = {0};
    int rc = 0;
    char(*vals)[CELL] = dp_calloc((size_t)n * nk, CELL, "spec values", e);
    t.name = dp_calloc(MAX_COLS, sizeof *t.name, "columns", e);
    t.cell = dp_calloc((size_t)n * MAX_COLS, sizeof *t.cell, "cells", e);
    if (!vals || !t.name || !t.cell) {
        rc = DP_ENOMEM;
        goto done;
    }
    t.nrows = n;
    /* column order: run, differing spec keys, metrics, sharpness. The keys are
     * known only after every run is read, so runs are read into t with the
     * keys' columns reserved after "run". */
    for (int r = 0; !rc && r < n; r++) {
        char dir[SPEC_PATH];
        run_dir(dirs[r], dir, sizeof dir);
        if (r == 0) rc = col_index(&t, "run", e) < 0 ? DP_EUSAGE : 0;
        if (!rc) rc = read_run(&t, r, dir, vals + (size_t)r * nk, e);
    }
    if (rc) goto done;
    /* move the metric and sharpness columns right of the differing keys */
    int nmet = t.ncols - 1, ndiff = 0;
    int diff[MAX_COLS];
    for (size_t k = 0; k < nk && ndiff + t.ncols < MAX_COLS; k++) {
        spec_key_info ki;
        spec_key_describe(k, &ki);
        if (!strcmp(ki.key, "run.out_dir")) continue;
        for (int r = 1; r < n; r++)
            if (strcmp(vals[k], vals[(size_t)r * nk + k])) {
                diff[ndiff++] = (int)k;
                break;
            }
    }
    for (int r = 0; r < n; r++) {
        char **row = t.cell + (size_t)r * MAX_COLS;
        memmove(row + 1 + ndiff, row + 1, (size_t)nmet * sizeof *row);
        for (int d = 0; d < ndiff; d++) row[1 + d] = NULL;
        for (int d = 0; d < ndiff && !rc; d++) {
            const char *v = vals[(size_t)r * nk + diff[d]];
            size_t len = strlen(v);
            int quoted = len >= 2 && v[0] == '"' && v[len - 1] == '"'; /* strings without their YAML quotes */
            row[1 + d] = strndup(v + quoted, len - 2 * (size_t)quoted);
            if (!row[1 + d]) rc = dp_fail(e, DP_ENOMEM, "out of memory (collect)");
        }
    }
    memmove(t.name + 1 + ndiff, t.name + 1, (size_t)nmet * sizeof *t.name);
    for (int d = 0; d < ndiff; d++) {
        spec_key_info ki;
        spec_key_describe((size_t)diff[d], &ki);
        snprintf(t.name[1 + d], sizeof t.name[0], "%s", ki.key);
    }
    t.ncols += ndiff;
    if (!rc) print_table(&t, fmt, out);
done:
    if (t.cell)
        for (size_t i = 0; i < (size_t)n * MAX_COLS; i++) free(t.cell[i]);
    free(t.cell);
    free(t.name);
    free(vals);
    return rc;
}
