/* gemm.h - row-major single-precision GEMM on BLIS's micro-kernels, plus a naive reference.
 *
 * C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with leading
 * dimensions lda/ldb/ldc (elements per row as stored). op(X) = X or X^T.
 * dppf runs the blocking loops and packing itself (gemm_driver.c) and calls
 * BLIS's micro-kernel; DPPF_GEMM=blis sends every call to bli_sgemm_ex. */
#ifndef DPPF_GEMM_H
#define DPPF_GEMM_H

#include <stdbool.h>

#include "conv_geom.h"

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);

/* The same through BLIS's own driver (bli_sgemm_ex, BLIS threads): what the
 * benchmark compares dppf's GEMMs with. */
void gemm_blis(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* C[M, OH*OW] = A[M, C*KH*KW] * col(image) + beta * C (row-major, leading
 * dimensions lda, ldc; conv_geom.h has the geometry and epilogue types),
 * packing col straight from the image instead of writing it out first.
 * Returns 0, or -1 when it cannot run (several BLIS threads, or no memory
 * for its buffers): the caller then builds col itself and calls gemm(). */
int gemm_conv(int M, const float *A, int lda, const float *image, const conv_geom *g,
              float beta, float *C, int ldc);

/* The same for N images at once, as one GEMM whose columns run over the
 * images' pixels: out_n[M, OH*OW] = A[M, C*KH*KW] * col(image_n) + beta * out_n,
 * image_n = images + n*C*H*W, out_n = out + n*M*OH*OW. The weights are packed
 * once per layer instead of once per image, and the threads split the tiles.
 * Returns 0, or -1 (nothing written) when it cannot run, e.g. when OH*OW is
 * not a multiple of the micro-kernel's tile, so that a tile would span two
 * images: the caller then goes image by image. With ep (nullable), its
 * epilogue is applied to every output when 0 is returned. */
int gemm_conv_batch(int M, int N, const float *A, const float *images, const conv_geom *g,
                    float beta, float *out, const conv_epilogue *ep);

/* The weight gradient of a convolution over a batch of N images, as one GEMM:
 * dw[M, C*KH*KW] += sum_n dout_n[M, OH*OW] * col(image_n)^T, with dout_n =
 * dout + n*M*OH*OW and image_n = images + n*C*H*W. Returns 0, or -1 as
 * gemm_conv does (the caller then falls back; dw is untouched). */
int gemm_conv_dw(int M, int N, const float *dout, const float *images, const conv_geom *g,
                 float *dw);

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

#endif
