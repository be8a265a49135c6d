/* gemm.h - row-major single-precision GEMM on BLIS's micro-kernels, plus a naive reference.
 *
 * C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with leading
 * dimensions lda/ldb/ldc (elements per row as stored). op(X) = X or X^T.
 * dppf runs the blocking loops and packing itself (gemm_driver.c) and calls
 * BLIS's micro-kernel; DPPF_GEMM=blis sends every call to bli_sgemm_ex.
 * Convolutions, which pack their operands straight from images, are in conv.h. */
#ifndef DPPF_GEMM_H
#define DPPF_GEMM_H

#include <stdbool.h>

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);

/* The same through BLIS's own driver (bli_sgemm_ex, BLIS threads): what the
 * benchmark compares dppf's GEMMs with. */
void gemm_blis(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Straightforward triple loop with double accumulation; for tests only. */
void gemm_ref(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

/* The BLIS kernel configuration in use ("skx", "haswell", "generic", ...). */
const char *gemm_kernels(void);

/* Threads per process from now on (>= 1; default 1): gemm() splits C's tiles
 * over them, and the layers' OpenMP loops use as many. Results do not depend
 * on the number. */
void gemm_set_threads(int n);
int gemm_get_threads(void);
/* gemm_set_threads(n) only when n differs from the count set last: for a loop
 * that may change the count every step (the thread governor), after a first
 * gemm_set_threads. (Not a rule of gemm_set_threads itself: before the first
 * call OpenMP's own default may differ from the 1 recorded here.) */
void gemm_use_threads(int n);

#endif
