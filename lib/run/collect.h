/* collect.h - `dppf collect`: one row per run folder, for comparing runs.
 *
 * Each row holds the run (its folder as given), the spec keys whose values
 * differ between the runs (from each run's spec.yaml; run.out_dir, which
 * always differs, is the run column), the final metrics (the last row of
 * metrics.csv, as written) and, when the folder holds a sharpness.csv (the
 * output of `dppf sharpness --csv`), each measure as a column
 * "sharpness.<measure>". Columns missing in a run are empty.
 *
 * Formats: an aligned text table, CSV (fields with commas or quotes quoted)
 * or a Markdown table. A folder without spec.yaml or metrics.csv is DP_EIO
 * naming it; a metrics.csv with no rows too. */
#ifndef DPPF_COLLECT_H
#define DPPF_COLLECT_H

#include <stdio.h>

#include "error.h"

typedef enum { COLLECT_TABLE, COLLECT_CSV, COLLECT_MD } collect_format;

/* dirs: run folders (a file inside one, e.g. its metrics.csv, stands for the folder). */
int collect_runs(const char *const *dirs, int n, collect_format fmt, FILE *out, dp_err *e);

#endif
