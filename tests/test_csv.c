/* The CSV reader from memory (csv_parse), and regressions found by
 * tests/fuzz/fuzz_csv. File reading and messages: test_plot.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "csv.h"

static int parse(const char *text, size_t len, csv_table *t, dp_err *e) {
    return csv_parse(text, len, "mem.csv", t, e);
}

Test(csv_parse, same_as_a_file) {
    const char text[] = "epoch, loss\r\n1,0.5\n\n2,nan\n";
    csv_table t;
    dp_err e = {0};
    cr_assert_eq(parse(text, strlen(text), &t, &e), 0, "%s", e.msg);
    cr_expect_eq(t.ncols, 2);
    cr_expect_eq(t.nrows, 2);
    const double *loss = csv_col(&t, "loss");
    cr_assert_not_null(loss);
    cr_expect_eq(loss[0], 0.5);
    csv_free(&t);
    cr_expect_eq(parse("", 0, &t, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "mem.csv"), "%s", e.msg);
}

/* Found by fuzz_csv: with no data rows the columns were never allocated, so
 * csv_col said "no such column" and `dppf plot` called a run that had not
 * evaluated yet "not a metrics.csv". */
Test(csv_parse, header_only_has_empty_columns) {
    const char text[] = "epoch,test_acc\n";
    csv_table t;
    dp_err e = {0};
    cr_assert_eq(parse(text, strlen(text), &t, &e), 0, "%s", e.msg);
    cr_expect_eq(t.nrows, 0);
    cr_expect_not_null(csv_col(&t, "epoch"));
    cr_expect_not_null(csv_col(&t, "test_acc"));
    cr_expect_null(csv_col(&t, "nope"));
    csv_free(&t);
}

/* Found by fuzz_csv: a NUL byte silently cut its line short (the rest was
 * ignored, a NUL-led line counted as blank); binary input is now an error. */
Test(csv_parse, nul_byte_is_an_error) {
    const char text[] = "a,b\n1,2\0,3\n4,5\n";
    csv_table t;
    dp_err e = {0};
    cr_assert_eq(parse(text, sizeof text - 1, &t, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "mem.csv:2: NUL byte"), "%s", e.msg);
    cr_expect_eq(t.ncols, 0);
    cr_expect_null(t.names);
    const char lead[] = "a\n1\n\0\n";
    cr_assert_eq(parse(lead, sizeof lead - 1, &t, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "mem.csv:3:"), "%s", e.msg);
}
