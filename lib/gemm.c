/* gemm.c - row-major SGEMM through the BLIS 0.9 typed API, plus a naive reference.
 *
 * BLIS takes a row stride and a column stride per operand, so row-major is
 * simply rs = ld, cs = 1 (no transposition tricks as with column-major BLAS).
 * BLIS 0.9 prototypes take non-const pointers although it never writes A, B,
 * alpha or beta; the casts below drop const for that reason only. */
#include <blis.h>

#include "gemm.h"

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        /* Nothing to multiply: C = beta*C, where beta == 0 overwrites (C may hold NaN). */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    /* With beta == 0 BLIS never reads C, so garbage/NaN in C is overwritten. */
    bli_sgemm(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
              trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, (dim_t)M, (dim_t)N, (dim_t)K,
              &alpha, (float *)A, (inc_t)lda, 1, (float *)B, (inc_t)ldb, 1, &beta, C, (inc_t)ldc,
              1);
}

void gemm_ref(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                double a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* beta == 0 must not read C (same contract as BLIS). */
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
    }
}

void gemm_set_threads(int n) { bli_thread_set_num_threads((dim_t)(n < 1 ? 1 : n)); }

int gemm_get_threads(void) {
    dim_t n = bli_thread_get_num_threads();
    /* BLIS reports -1 when nothing was set (it then follows BLIS_NUM_THREADS etc.). */
    return n < 1 ? 1 : (int)n;
}
