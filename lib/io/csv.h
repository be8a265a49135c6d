/* csv.h - read a numeric CSV with a header line (e.g. metrics.csv) into columns.
 *
 * Fields are separated by commas; surrounding spaces and a trailing CR are
 * ignored; every data field must be a number as strtod reads it (so nan, NaN,
 * inf are allowed). Blank lines are skipped. Ragged rows, empty fields and
 * non-numbers are DP_EIO naming the file, line and column. */
#ifndef DPPF_CSV_H
#define DPPF_CSV_H

#include <stddef.h>

#include "error.h"

typedef struct {
    int ncols, nrows;
    char **names;  /* ncols header names */
    double **cols; /* cols[c][r], r < nrows */
} csv_table;

int csv_read(const char *path, csv_table *t, dp_err *e);
/* The same from len bytes in memory; `name` stands for the file in messages. */
int csv_parse(const char *buf, size_t len, const char *name, csv_table *t, dp_err *e);
/* The column called `name`, or NULL when there is none (first match wins). */
const double *csv_col(const csv_table *t, const char *name);
void csv_free(csv_table *t);

#endif
