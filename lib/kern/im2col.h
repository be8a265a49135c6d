/* im2col.h - a convolution's column matrix written out, and its adjoint.
 *
 * The fallbacks of the convolution dispatch (conv.c) use them: when a GEMM
 * cannot pack its operand straight from the image (DPPF_GEMM=blis, or no
 * memory for its buffers), and for the input gradient of strides other than
 * 1, whose column-matrix gradient is scattered back into the image. */
#ifndef DPPF_IM2COL_H
#define DPPF_IM2COL_H

#include "conv_geom.h"

/* col[(c*KH+kh)*KW+kw][oh*OW+ow] = image[c][oh*stride-pad+kh][ow*stride-pad+kw], 0 outside. */
void im2col(float *col, const float *image, const conv_geom *g);

/* image += scatter(col), the adjoint of im2col; channels in parallel. */
void col2im_add(float *image, const float *col, const conv_geom *g);

#endif
