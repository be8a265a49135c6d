/* conv.h - how a convolution is computed: the one place that chooses the kernel.
 *
 * The layers (nn/layers.c) call the three entry points below for a whole
 * batch; each picks, in this order, the first path that applies:
 *
 *  forward      1x1 stride-1 unpadded: a plain gemm() per image on the image
 *               itself. Otherwise the direct kernel (conv_direct.c; stride 1
 *               or 2, rows that fill its vectors), else the batch as one GEMM
 *               (when OH*OW is a multiple of the micro-tile), else image by
 *               image in parallel, each a GEMM packing im2col from its image,
 *               else (no packing memory) im2col into the workspace + gemm(),
 *               one image at a time.
 *  weight grad  1x1: gemm() per image. 3x3 with 16k output channels: the
 *               direct kernel (conv_wgrad.c; the batched GEMM's sums, bit
 *               for bit). Otherwise one GEMM over the whole batch, else
 *               im2col + gemm() per image.
 *  input grad   1x1: gemm() per image into the gradient. Stride 1 (square
 *               kernel, pad <= K-1): the forward, direct or batched GEMM, of
 *               dout with the flipped weights, else image by image as GEMMs
 *               packing from dout, else through a column matrix. Otherwise
 *               images in parallel, each a gemm() into a column matrix of its
 *               thread, scattered back by col2im.
 *
 * The direct kernel and the GEMMs packing from images need dppf's own GEMM
 * driver: with DPPF_GEMM=blis only the gemm() paths run. DPPF_CONV=gemm (or
 * the portable packing, DPPF_PACK=generic) skips the direct kernel. Every
 * path gives each output the same sum in the same order whatever the thread
 * count; the paths differ from each other only in rounding.
 *
 * The individual paths are public too, for tests and for the benchmark's
 * replay of recorded calls (kern_record.h): each records itself when it has
 * run and returns -1, with nothing written, when it does not apply. */
#ifndef DPPF_CONV_H
#define DPPF_CONV_H

#include <stddef.h>

#include "conv_geom.h"

/* ---- the dispatch ---------------------------------------------------------- */

/* Floats of workspace the three calls need: one image's column matrix (0 for
 * a 1x1 convolution, which needs none). The same buffer serves them all. */
size_t conv_work_floats(const conv_geom *g);

/* out_n[OC][OH*OW] = w[OC][C*KH*KW] (*) in_n + beta * out_n for the N images
 * (in_n = in + n*C*H*W, out_n = out + n*OC*OH*OW; beta 0 or 1, 1 to add to a
 * pre-filled bias), then ep (nullable) on every output. */
void conv_forward(int OC, int N, const float *w, const float *in, const conv_geom *g, float beta,
                  float *out, const conv_epilogue *ep, float *work);

/* The forward of the batch (no bias) followed by ep, which asks for the
 * pool (ep->pool), writing only the pooled out_n[OC][OH/2][OW/2]: the eval
 * forward of conv -> BN -> ReLU -> 2x2 max pool in one pass, the full output
 * of an image never leaving its thread's cache (no argmax: nothing runs
 * backward). -1, nothing written, when the direct kernel does not take the
 * convolution: the caller then runs the layers one by one. */
int conv_forward_pool(int OC, int N, const float *w, const float *in, const conv_geom *g,
                      float *out, const conv_epilogue *ep);

/* dw[OC][C*KH*KW] += sum_n dout_n (x) in_n: the weight gradient of the batch. */
void conv_weight_grad(int OC, int N, const float *dout, const float *in, const conv_geom *g,
                      float *dw, float *work);

/* din_n[C][H*W] += the input gradient of image n from dout_n[OC][OH*OW];
 * with `fresh`, din_n = that gradient, the bits of adding it into zeros
 * (the kernels' sums start at +0 and so are never -0, and the column path
 * zeroes the image first), without reading din. */
void conv_input_grad(int OC, int N, const float *w, const float *dout, const conv_geom *g,
                     float *din, float *work, int fresh);

/* ---- the paths ------------------------------------------------------------- */

/* The forward of the batch by the direct kernel (conv_direct_batch, with as
 * many threads as a GEMM would use now), ep applied as it stores. */
int conv_fwd_direct(int OC, int N, const float *w, const float *images, const conv_geom *g,
                    float beta, float *out, const conv_epilogue *ep);

/* The forward of the batch as one GEMM whose columns run over all images'
 * pixels: the weights packed once, the threads splitting the tiles. -1 also
 * when OH*OW is not a multiple of the micro-kernel's tile (a tile would span
 * two images). No epilogue: the dispatch applies it as a pass of its own. */
int conv_fwd_gemm_batch(int OC, int N, const float *w, const float *images, const conv_geom *g,
                        float beta, float *out);

/* One image: C[M][OH*OW] = A[M][C*KH*KW] * col(image) + beta * C (leading
 * dimensions lda, ldc), col packed straight from the image. */
int conv_fwd_gemm_image(int M, const float *A, int lda, const float *image, const conv_geom *g,
                        float beta, float *C, int ldc);

/* dw[M][C*KH*KW] += sum_n dout_n[M][OH*OW] * col(image_n)^T as one GEMM
 * summing over the batch's pixels. */
int conv_dw_gemm_batch(int M, int N, const float *dout, const float *images, const conv_geom *g,
                       float *dw);

/* The same sums by the direct kernel (conv_wgrad_direct), in the k blocks of
 * the GEMM driver's kernel: -1 when that kernel is not in use or it does not
 * apply. */
int conv_dw_direct(int M, int N, const float *dout, const float *images, const conv_geom *g,
                   float *dw);

#endif
