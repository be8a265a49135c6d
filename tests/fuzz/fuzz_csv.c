/* fuzz_csv - the numeric CSV reader behind `dppf plot` (metrics.csv), from
 * memory. A table that loads must be rectangular and every header name
 * findable; a failure must name itself. */
#include <stdint.h>
#include <string.h>

#include "csv.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    csv_table t;
    dp_err e = {0};
    int rc = csv_parse((const char *)data, size, "fuzz.csv", &t, &e);
    if (rc) {
        fuzz_check_err(rc, &e);
        FUZZ_CHECK(rc == DP_EIO || rc == DP_ENOMEM, "code %d: %s", rc, e.msg);
        FUZZ_CHECK(t.ncols == 0 && !t.names && !t.cols, "a failed read left a table behind");
        return 0;
    }
    FUZZ_CHECK(t.ncols >= 1 && t.nrows >= 0, "%d columns, %d rows", t.ncols, t.nrows);
    /* Reads every cell (volatile: not optimised away), so ASan checks the column lengths. */
    for (int c = 0; c < t.ncols; c++) {
        FUZZ_CHECK(t.names[c] && t.names[c][0], "column %d has no name", c);
        const double *col = csv_col(&t, t.names[c]);
        FUZZ_CHECK(col, "column '%s' not found by name", t.names[c]);
        const volatile double *v = t.cols[c];
        for (int r = 0; r < t.nrows; r++) (void)v[r];
    }
    csv_free(&t);
    return 0;
}
