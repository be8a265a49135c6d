/* conv_wgrad.h - a 3x3 convolution's weight gradient without the im2col matrix (AVX-512).
 *
 * Why: as a GEMM (dout x col^T, summed over the batch's pixels) the weight
 * gradient had to pack the im2col matrix transposed, a 16x16 transpose per
 * 256 values, and that packing alone was a tenth of a ResNet-20 step. Here
 * the output gradients are transposed instead (9x fewer values: one per
 * output channel and pixel, not one per tap) and the input is read in place
 * from a zero-padded copy: for each pixel, 32 output channels' gradients
 * times the 9 input values under the filter, as broadcasts.
 *
 * The sums are the GEMM's, bit for bit: each weight's sum runs over the
 * batch's pixels in order, in blocks of `kc` (the GEMM's k block) that start
 * from zero and are added to dw one after another, one multiply-add per
 * pixel, as the micro-kernel does. */
#ifndef DPPF_CONV_WGRAD_H
#define DPPF_CONV_WGRAD_H

#include "conv_geom.h"

/* dw[OC][C*9] += sum over images n < N and output pixels p of
 * dout_n[oc][p] * (the input under tap (c, kh, kw) at p), for a 3x3 filter
 * of any stride and padding; dout_n = dout + n*OC*OH*OW, image_n = images +
 * n*C*H*W. Sums in blocks of kc pixels as above, on up to `threads` OpenMP
 * threads; the result does not depend on the number.
 * Returns 0, or -1 with dw untouched when it does not apply: not 3x3, OC not
 * a multiple of 16, kc < 1, no AVX-512 build, or no memory for its buffers. */
int conv_wgrad_direct(int OC, int N, const float *dout, const float *images, const conv_geom *g,
                      int kc, float *dw, int threads);

/* 1 when conv_wgrad_direct would take this geometry and channel count. */
int conv_wgrad_applies(int OC, const conv_geom *g);

#endif
