/* model_pyramidnet.c - PyramidNet for CIFAR (Han, Kim and Kim, CVPR 2017) as
 * the authors' PyTorch code builds it (dyhan0920/PyramidNet-PyTorch):
 *
 * conv3x3 (base channels) - BN; three stages of n blocks whose width grows by
 * alpha / 3n per block (additive widening: block k of the network has
 * round(base + k alpha / 3n) channels, Python's round, times 4 for
 * bottlenecks); BN-ReLU, global average pool, "fc".
 * basic block (depth 6n+2):       BN-conv3x3-BN-ReLU-conv3x3-BN
 * bottleneck block (depth 9n+2):  BN-conv1x1-BN-ReLU-conv3x3-BN-ReLU-conv1x1-BN
 * The stride-2 conv of a stage's first block is matched by a 2x2 average pool
 * (ceil mode) on the shortcut; the shortcut's missing channels are zeros
 * appended after the input's. No ReLU after the sum. */
#include <math.h>
#include <stdio.h>

#include "model.h"
#include "net_build.h"

/* One block's residual branch, from x of (c, h, w) to (planes * ratio, ...). */
static int residual(net_builder *b, int x, int *c, int *h, int *w, int L, int blk, int planes,
                    int stride, int bottleneck) {
    x = nb_batchnorm(b, nb_name(b, "layer%d.%d.bn1", L, blk), x, *c, *h, *w);
    if (!bottleneck) {
        x = nb_conv(b, nb_name(b, "layer%d.%d.conv1", L, blk), x, c, h, w, planes, 3, stride, 1, 0);
        x = nb_bn_relu(b, nb_name(b, "layer%d.%d.bn2", L, blk), x, *c, *h, *w);
        x = nb_conv(b, nb_name(b, "layer%d.%d.conv2", L, blk), x, c, h, w, planes, 3, 1, 1, 0);
        return nb_batchnorm(b, nb_name(b, "layer%d.%d.bn3", L, blk), x, *c, *h, *w);
    }
    x = nb_conv(b, nb_name(b, "layer%d.%d.conv1", L, blk), x, c, h, w, planes, 1, 1, 0, 0);
    x = nb_bn_relu(b, nb_name(b, "layer%d.%d.bn2", L, blk), x, *c, *h, *w);
    x = nb_conv(b, nb_name(b, "layer%d.%d.conv2", L, blk), x, c, h, w, planes, 3, stride, 1, 0);
    x = nb_bn_relu(b, nb_name(b, "layer%d.%d.bn3", L, blk), x, *c, *h, *w);
    x = nb_conv(b, nb_name(b, "layer%d.%d.conv3", L, blk), x, c, h, w, 4 * planes, 1, 1, 0, 0);
    return nb_batchnorm(b, nb_name(b, "layer%d.%d.bn4", L, blk), x, *c, *h, *w);
}

int model_build_pyramidnet(net_builder *b, const model_cfg *m, int x, int arg) {
    (void)arg;
    const int bottleneck = m->block == BLOCK_BOTTLENECK, per = bottleneck ? 9 : 6;
    if (m->depth < per + 2 || (m->depth - 2) % per != 0)
        return dp_fail(b->e, DP_EUSAGE,
                       "model.depth: a PyramidNet of %s blocks has depth %dn+2 (n >= 1), got %d",
                       bottleneck ? "bottleneck" : "basic", per, m->depth);
    if (m->alpha < 0) return dp_fail(b->e, DP_EUSAGE, "model.alpha: must be >= 0, got %d", m->alpha);
    const int n = (m->depth - 2) / per;
    /* In double, added up block by block as the reference does, so that the
     * rounding of each width matches it exactly. */
    const double addrate = (double)m->alpha / (3.0 * n);
    double dim = m->base_width;
    int c = m->in_c, h = m->in_h, w = m->in_w;
    x = nb_conv(b, "conv1", x, &c, &h, &w, m->base_width, 3, 1, 1, 0);
    x = nb_batchnorm(b, "bn1", x, c, h, w);
    for (int stage = 0; stage < 3; stage++)
        for (int blk = 0; blk < n; blk++) {
            dim += addrate;
            const int planes = (int)nearbyint(dim); /* halves to even, as Python's round() */
            const int stride = stage > 0 && blk == 0 ? 2 : 1;
            int in = x, ic = c, ih = h, iw = w;
            x = residual(b, x, &c, &h, &w, stage + 1, blk, planes, stride, bottleneck);
            int sc = in;
            if (stride != 1) sc = nb_avgpool(b, sc, ic, &ih, &iw, 2, 2);
            if (ic != c) sc = nb_channel_pad(b, sc, ic, ih, iw, c);
            x = nb_add(b, x, sc, c, h, w);
        }
    x = nb_bn_relu(b, "bn_final", x, c, h, w);
    nb_gap_linear(b, "fc", x, c, h, w, m->dropout, m->classes);
    return 0;
}
