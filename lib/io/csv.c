#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "file.h"

/* Trims spaces/tabs/CR/LF at both ends, in place. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = 0;
    return s;
}

/* Splits `line` at commas in place; returns the field count (fields[] holds at
 * most max pointers, the count is exact regardless). */
static int split(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *c = strchr(p, ',');
        if (c) *c = 0;
        if (n < max) fields[n] = trim(p);
        n++;
        if (!c) break;
        p = c + 1;
    }
    return n;
}

void csv_free(csv_table *t) {
    if (!t) return;
    for (int c = 0; c < t->ncols; c++) {
        if (t->names) free(t->names[c]);
        if (t->cols) free(t->cols[c]);
    }
    free(t->names);
    free(t->cols);
    memset(t, 0, sizeof *t);
}

const double *csv_col(const csv_table *t, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0) return t->cols[c];
    return NULL;
}

static int is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

/* Reads the table from an open stream; `path` names it in messages. */
static int read_stream(FILE *f, const char *path, csv_table *t, dp_err *e) {
    char *line = NULL, **fields = NULL;
    size_t linecap = 0;
    int rc = 0, lineno = 0, cap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        /* Everything below stops at a NUL; say so rather than misread the rest. */
        if (strlen(line) != (size_t)len) {
            rc = dp_fail(e, DP_EIO, "%s:%d: NUL byte in the text (a binary file, not a CSV?)", path, lineno);
            break;
        }
        if (is_blank(line)) continue;
        if (!t->names) { /* header */
            int n = 1;
            for (const char *p = line; *p; p++) n += *p == ',';
            fields = calloc((size_t)n, sizeof *fields);
            t->names = calloc((size_t)n, sizeof *t->names);
            t->cols = calloc((size_t)n, sizeof *t->cols);
            if (!fields || !t->names || !t->cols) {
                rc = dp_fail(e, DP_ENOMEM, "out of memory reading '%s'", path);
                break;
            }
            t->ncols = n;
            split(line, fields, n);
            for (int c = 0; c < n; c++) {
                if (!fields[c][0]) {
                    rc = dp_fail(e, DP_EIO, "%s:%d: empty name for column %d in the header", path, lineno, c + 1);
                    break;
                }
                /* Columns exist from the header on, so a header-only file (a run
                 * stopped before its first evaluation) still has them, empty. */
                t->names[c] = strdup(fields[c]);
                t->cols[c] = malloc(64 * sizeof(double));
                if (!t->names[c] || !t->cols[c]) {
                    rc = dp_fail(e, DP_ENOMEM, "out of memory reading '%s'", path);
                    break;
                }
            }
            if (rc) break;
            cap = 64;
            continue;
        }
        int n = split(line, fields, t->ncols);
        if (n != t->ncols) {
            rc = dp_fail(e, DP_EIO, "%s:%d: %d fields, but the header has %d columns", path, lineno, n, t->ncols);
            break;
        }
        if (t->nrows == cap) {
            cap *= 2;
            for (int c = 0; c < t->ncols; c++) {
                double *nc = realloc(t->cols[c], (size_t)cap * sizeof(double));
                if (!nc) {
                    rc = dp_fail(e, DP_ENOMEM, "out of memory reading '%s'", path);
                    break;
                }
                t->cols[c] = nc;
            }
            if (rc) break;
        }
        for (int c = 0; c < n; c++) {
            char *end;
            errno = 0;
            double v = strtod(fields[c], &end);
            /* ERANGE underflow (denormals) is fine; overflow gives +-inf like the text. */
            if (!fields[c][0] || *end) {
                rc = dp_fail(e, DP_EIO, "%s:%d: column %d (%s): '%s' is not a number", path, lineno, c + 1,
                             t->names[c], fields[c]);
                break;
            }
            t->cols[c][t->nrows] = v;
        }
        if (rc) break;
        t->nrows++;
    }
    if (!rc && ferror(f)) rc = dp_fail(e, DP_EIO, "cannot read '%s': %s", path, strerror(errno));
    if (!rc && !t->names) rc = dp_fail(e, DP_EIO, "'%s' is empty (no header line)", path);
    free(line);
    free(fields);
    if (rc) csv_free(t);
    return rc;
}

int csv_read(const char *path, csv_table *t, dp_err *e) {
    memset(t, 0, sizeof *t);
    FILE *f;
    int rc = file_fopen_read(path, "CSV file", &f, e);
    if (rc) return rc;
    rc = read_stream(f, path, t, e);
    fclose(f);
    return rc;
}

int csv_parse(const char *buf, size_t len, const char *name, csv_table *t, dp_err *e) {
    memset(t, 0, sizeof *t);
    /* "r" never writes through the pointer; fmemopen just is not const-correct. */
    FILE *f = fmemopen((void *)buf, len, "r");
    if (!f) return dp_fail(e, DP_ENOMEM, "cannot read '%s': %s", name, strerror(errno));
    int rc = read_stream(f, name, t, e);
    fclose(f);
    return rc;
}
