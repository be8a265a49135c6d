#include <math.h>

#include "vec.h"

double vec_dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

double vec_norm(const float *a, size_t n) { return sqrt(vec_dot(a, a, n)); }

void vec_axpy(float *y, double a, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (float)(y[i] + a * x[i]);
}

void vec_scale(float *x, double a, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(a * x[i]);
}

void vec_add_scaled(float *out, const float *x, double a, const float *d, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)(x[i] + a * d[i]);
}

void vec_sub(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)((double)a[i] - b[i]);
}
