/* gemm_driver.h - dppf's own GEMM loops and packing around a BLIS micro-kernel (internal to kern/:
 * gemm.c and conv.c drive it).
 *
 * Why not bli_sgemm_ex: BLIS 0.9 has no packing kernel for panels 32 wide,
 * so with the AVX-512 (skx, 32x12) micro-kernel every panel of A was packed
 * by a generic strided copy that took a fifth of a ResNet-20 step; and an
 * operand can only be a strided matrix, so a convolution had to write its
 * whole im2col matrix before BLIS packed it again. Here each operand packs
 * itself, so the im2col matrix is packed straight from the image. */
#ifndef DPPF_GEMM_DRIVER_H
#define DPPF_GEMM_DRIVER_H

#include "conv_geom.h"

/* One operand seen as a matrix S[outer][k]: A's rows or B's columns, with k
 * the summed dimension. pack() writes rows k0..k0+kc of the panel of width w
 * starting at outer index o0: dst[k*w + t] = S[o0+t][k0+k] for t < olen and 0
 * for olen <= t < w. */
typedef struct gemm_src gemm_src;
struct gemm_src {
    void (*pack)(const gemm_src *s, int o0, int olen, int k0, int kc, int w, float *dst);
    const float *p;           /* dense: S[o][k] = p[o*so + k*sk]; im2col: the image */
    long so, sk;              /* dense strides */
    const conv_geom *g;       /* im2col geometry, else NULL */
    /* Batched along k: k = item*kn + k', item `item` at p + item*kstride
     * (kn = 0: one item). How a GEMM sums over a whole batch in one call. */
    int kn;
    long kstride;
    /* Batched along the outer index: o = item*on + o', item at p + item*ostride
     * (on = 0: one item). The driver only accepts it when every panel lies
     * within one item (on a multiple of the panel width). */
    int on;
    long ostride;
};

/* s with k running over items of s->p's kind, kstride floats apart, kn k each. */
gemm_src gemm_src_batched(gemm_src s, int kn, long kstride);
/* s with the outer index running over items, ostride floats apart, on each. */
gemm_src gemm_src_batched_outer(gemm_src s, int on, long ostride);

gemm_src gemm_src_dense(const float *p, long so, long sk);
gemm_src gemm_src_im2col(const float *image, const conv_geom *g);   /* S[pixel][tap] */
gemm_src gemm_src_im2col_t(const float *image, const conv_geom *g); /* S[tap][pixel] */

/* The micro-kernel and its blocking, read from a BLIS context. */
typedef struct {
    void *ukr; /* BLIS gemm micro-kernel (sgemm_ukr_ft) */
    void *cntx;
    int mr, nr, kc, mc, nc;
    int prefers_cols; /* the kernel writes C fastest when C is column-stored */
} gemm_kernel;

/* C[i][j] (at C + i*rs_c + j*cs_c, M x N) = alpha * sum_k A[i][k] B[j][k] + beta*C,
 * where a gives A's rows and b gives B's columns (both outer x K), on up to
 * `threads` OpenMP threads; the result is the same for any thread count.
 * Returns 0, or -1 when the packing buffers could not be allocated (nothing
 * was written then). */
int gemm_drive(const gemm_kernel *kr, int threads, int M, int N, int K, float alpha,
               const gemm_src *a, const gemm_src *b, float beta, float *C, long rs_c, long cs_c);

/* The same with C batched along its columns: column j of C is column j % cn
 * of item j / cn, items cstride floats apart (C + (j/cn)*cstride + (j%cn)*cs_c).
 * Returns -1 also when a batched operand or C would put one micro-tile
 * across two items (cn or on not a multiple of the tile); nothing is written then. */
int gemm_drive_batched(const gemm_kernel *kr, int threads, int M, int N, int K, float alpha,
                       const gemm_src *a, const gemm_src *b, float beta, float *C, long rs_c,
                       long cs_c, int cn, long cstride);

/* Portable packing code only (1), or the CPU-specific paths where they apply (0, default). */
void gemm_driver_generic_packing(int on);

/* gemm.c's kernel choice, for the kern/ code that drives the loops itself:
 * the micro-kernel, or NULL when every product must go through
 * bli_sgemm_ex (DPPF_GEMM=blis, or no usable micro-kernel). *threads gets
 * the threads a call made now may use (1 inside a parallel region). */
const gemm_kernel *gemm_driver_kernel(int *threads);

#endif
