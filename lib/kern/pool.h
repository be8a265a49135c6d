/* pool.h - the 2x2, stride-2, unpadded max pool of one plane (the CNN's pooling).
 *
 * In kern/ because two callers share it: the maxpool layer (nn/layers.c) and
 * the direct convolution, which in eval mode pools each image's output while
 * it is still in cache (conv.h: conv_forward_pool). */
#ifndef DPPF_POOL_H
#define DPPF_POOL_H

#include <stdint.h>

/* y[oh][ow] = the max of x's window at (2 oh, 2 ow) for oh < OH, ow < OW
 * (x rows W floats apart, OW <= W / 2), comparing in row-major window order:
 * a later value wins when greater or NaN (first max wins, NaN propagates, as
 * PyTorch). am (nullable) gets the winner's flat index in the plane. */
void maxpool2x2_plane(float *y, int32_t *am, const float *x, int W, int OH, int OW);

#endif
