/* conv_direct.h - convolution forward (stride 1 or 2) without an im2col matrix (AVX-512).
 *
 * Why: with 16-64 channels the GEMM of a 3x3 convolution spent a third of
 * its time packing the 9x larger im2col panel, and the 32x12 micro-kernel
 * computed 24 columns for 16 output channels. Here each image is copied once
 * into a zero-padded buffer, and a 32-pixel x 8-channel kernel reads the
 * shifted input rows from it directly: no packing, no wasted columns. */
#ifndef DPPF_CONV_DIRECT_H
#define DPPF_CONV_DIRECT_H

#include <stddef.h>

#include "conv_geom.h"

/* out_n[OC][OH*OW] = w[OC][C*KH*KW] (*) image_n + beta * out_n for n < N
 * (image_n = images + n*C*H*W, out_n = out + n*OC*OH*OW), beta 0 or 1, on up
 * to `threads` OpenMP threads; the result does not depend on the number.
 * Each output is summed over k = (c, kh, kw) in order, like a GEMM; then ep
 * (nullable, see conv_geom.h) is applied. With ep->pool (beta 0 only) out_n
 * is the pooled output, OC x OH/2 x OW/2: each image's full output goes to
 * a buffer of its thread and is pooled from there.
 * Returns 0, or -1 with nothing written when it does not apply: stride not
 * 1 or 2, output rows that would leave over a quarter of the 16-float vectors
 * idle (OW < 6, or 9 to 11, 17 to 23, ...), no AVX-512 build, or no memory
 * for the padded copy. */
int conv_direct_batch(int OC, int N, const float *w, const float *images, const conv_geom *g,
                      float beta, float *out, const conv_epilogue *ep, int threads);

/* ep on out_n[C][HW] for n < N, as a pass of its own (for the GEMM path):
 * the same numbers as conv_direct_batch's stores (ep->pool is not done here). */
void conv_epilogue_apply(float *out, int N, int C, size_t HW, const conv_epilogue *ep);

/* 1 when conv_direct_batch would take a convolution of this geometry. */
int conv_direct_applies(const conv_geom *g);

#endif
