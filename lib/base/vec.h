/* vec.h - small vector operations over float arrays, accumulating in double. */
#ifndef DPPF_VEC_H
#define DPPF_VEC_H

#include <stddef.h>

double vec_dot(const float *a, const float *b, size_t n);
double vec_norm(const float *a, size_t n);
void vec_axpy(float *y, double a, const float *x, size_t n);            /* y += a x */
void vec_scale(float *x, double a, size_t n);                           /* x *= a */
void vec_add_scaled(float *out, const float *x, double a, const float *d, size_t n); /* out = x + a d */
void vec_sub(float *out, const float *a, const float *b, size_t n);     /* out = a - b */

#endif
