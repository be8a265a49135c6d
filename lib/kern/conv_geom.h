/* conv_geom.h - the geometry of a convolution and its optional epilogue (types only).
 *
 * A header of its own so that the kernels (gemm_driver, conv_direct, im2col)
 * and the dispatch (conv.h) share the types without depending on each other. */
#ifndef DPPF_CONV_GEOM_H
#define DPPF_CONV_GEOM_H

/* One C x H x W image under a KH x KW convolution, and its im2col ("column")
 * matrix: rows c*KH*KW + kh*KW + kw, columns oh*OW + ow. Output channels are
 * not part of it: they are the GEMM's M, passed beside. */
typedef struct {
    int C, H, W, KH, KW, stride, pad, OH, OW;
} conv_geom;

/* Applied to a convolution's output channel by channel as it is stored:
 * y = y*scale[c] + shift[c], then max(y, 0) when relu (an eval-mode
 * BatchNorm and its ReLU, folded; mul then add, as a separate pass would).
 * pool: then a 2x2 stride-2 max pool, and only its output is stored
 * (conv_forward_pool; the direct kernel only). */
typedef struct {
    const float *scale, *shift;
    int relu, pool;
} conv_epilogue;

#endif
