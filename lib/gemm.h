/* gemm.h - row-major single-precision GEMM through BLIS, plus a naive reference.
 *
 * C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with leading
 * dimensions lda/ldb/ldc (elements per row as stored). op(X) = X or X^T. */
#ifndef DPPF_GEMM_H
#define DPPF_GEMM_H

#include <stdbool.h>

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);

/* Straightforward triple loop with double accumulation; for tests only. */
void gemm_ref(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

/* The BLIS kernel configuration in use ("skx", "haswell", "generic", ...). */
const char *gemm_kernels(void);

/* Number of BLIS threads used by gemm() from now on (>= 1; default 1). */
void gemm_set_threads(int n);
int gemm_get_threads(void);

#endif
