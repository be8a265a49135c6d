/* torch_check.h - what the tests against PyTorch references share (include
 * after criterion.h and fixture.h): a fixture record that must exist with
 * exactly n values, and the error metric max|ours - torch| / max(1e-6, max|torch|). */
#ifndef DPPF_TEST_TORCH_CHECK_H
#define DPPF_TEST_TORCH_CHECK_H

#include <math.h>

static inline const float *need(const fixture *f, const char *name, size_t n) {
    size_t got;
    const float *p = fixture_get(f, name, &got);
    cr_assert_not_null(p, "fixture lacks record \"%s\"", name);
    cr_assert_eq(got, n, "fixture record \"%s\" has %zu values, expected %zu", name, got, n);
    return p;
}

/* max|a - b| / max(floor, max|b|) */
static inline double relerr_floor(const float *a, const float *b, size_t n, double floor) {
    double num = 0.0, den = floor;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= num)) num = d; /* also catches NaN */
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / den;
}

static inline double relerr(const float *a, const float *b, size_t n) { return relerr_floor(a, b, n, 1e-6); }

#endif
