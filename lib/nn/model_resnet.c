/* model_resnet.c - the ResNets, all of BasicBlocks on a 3x3 stem conv:
 *
 * resnet<6n+2>: the CIFAR ResNet of He et al. 2016 (Sec. 4.2): 3 stages of n
 *   blocks with base, 2*base, 4*base channels and option-A (parameter-free)
 *   shortcuts as in the paper's CIFAR experiments; tensor names follow the
 *   common PyTorch CIFAR ResNet (conv1, layer1.0.bn1, linear).
 * preresnet<6n+2>: the same with pre-activation units (He et al. 2016b):
 *   BN-ReLU-conv-BN-ReLU-conv and an identity sum; the first unit of each
 *   stage shares its BN-ReLU with the shortcut, and a BN-ReLU ("bn") follows
 *   the last unit (fb.resnet.torch's preresnet.lua, which the paper used).
 * resnet18 / resnet34: the CIFAR variant of the ImageNet ResNet used in
 *   distributed-training papers (kuangliu/pytorch-cifar): 3x3 stem conv + BN +
 *   ReLU without max-pool, 4 stages of [2,2,2,2] / [3,4,6,3] blocks with
 *   base..8*base channels, and projection shortcuts (1x1 conv + BN, named
 *   layerX.Y.shortcut.0 / .1) where the shape changes. */
#include <stdio.h>

#include "model.h"
#include "net_build.h"

/* The BasicBlock of He et al.: conv3x3 (stride) - BN - ReLU - conv3x3 - BN,
 * plus the shortcut (identity, or where the shape changes option A or a
 * projection), add, ReLU. Block `blk` of stage `layer` (1-based). */
static int basic_block(net_builder *b, int x, int *c, int *h, int *w, int layer, int blk,
                       int planes, int stride, int projection) {
    int in = x, ic = *c, ih = *h, iw = *w;
    x = nb_conv(b, nb_name(b, "layer%d.%d.conv1", layer, blk), x, c, h, w, planes, 3, stride, 1, 0);
    x = nb_bn_relu(b, nb_name(b, "layer%d.%d.bn1", layer, blk), x, *c, *h, *w);
    x = nb_conv(b, nb_name(b, "layer%d.%d.conv2", layer, blk), x, c, h, w, planes, 3, 1, 1, 0);
    x = nb_batchnorm(b, nb_name(b, "layer%d.%d.bn2", layer, blk), x, *c, *h, *w);
    int sc = in;
    if (stride != 1 || ic != planes) {
        if (projection) {
            sc = nb_conv(b, nb_name(b, "layer%d.%d.shortcut.0", layer, blk), in, &ic, &ih, &iw,
                         planes, 1, stride, 0, 0);
            sc = nb_batchnorm(b, nb_name(b, "layer%d.%d.shortcut.1", layer, blk), sc, ic, ih, iw);
        } else {
            sc = nb_shortcut_pad(b, in, ic, ih, iw, planes, stride);
        }
    }
    x = nb_add(b, x, sc, *c, *h, *w);
    return nb_relu(b, x, *c, *h, *w);
}

static int check_input(net_builder *b, const model_cfg *m, const char *name, int depth) {
    if (m->in_h < 8 || m->in_w < 8)
        return dp_fail(b->e, DP_EUSAGE, "model.arch: %s%d needs inputs of at least 8x8 pixels, got %dx%d",
                       name, depth, m->in_h, m->in_w);
    return 0;
}

static int check_6n2(net_builder *b, const model_cfg *m, const char *name, int depth) {
    if (depth < 8 || (depth - 2) % 6 != 0)
        return dp_fail(b->e, DP_EUSAGE, "model.arch: %s%d is not a ResNet-6n+2 depth", name, depth);
    return check_input(b, m, name, depth);
}

int model_build_resnet(net_builder *b, const model_cfg *m, int x, int depth) {
    int rc = check_6n2(b, m, "resnet", depth);
    if (rc) return rc;
    int c = m->in_c, h = m->in_h, w = m->in_w, base = m->base_width;
    x = nb_conv(b, "conv1", x, &c, &h, &w, base, 3, 1, 1, 0);
    x = nb_bn_relu(b, "bn1", x, c, h, w);
    for (int stage = 0; stage < 3; stage++)
        for (int blk = 0; blk < (depth - 2) / 6; blk++)
            x = basic_block(b, x, &c, &h, &w, stage + 1, blk, base << stage,
                            stage > 0 && blk == 0 ? 2 : 1, 0);
    nb_gap_linear(b, "linear", x, c, h, w, m->dropout, m->classes);
    return 0;
}

int model_build_preresnet(net_builder *b, const model_cfg *m, int x, int depth) {
    int rc = check_6n2(b, m, "preresnet", depth);
    if (rc) return rc;
    int c = m->in_c, h = m->in_h, w = m->in_w, base = m->base_width;
    x = nb_conv(b, "conv1", x, &c, &h, &w, base, 3, 1, 1, 0);
    for (int stage = 0; stage < 3; stage++)
        for (int blk = 0; blk < (depth - 2) / 6; blk++) {
            const int L = stage + 1, planes = base << stage, stride = stage > 0 && blk == 0 ? 2 : 1;
            int in = x, ic = c, ih = h, iw = w;
            int act = nb_bn_relu(b, nb_name(b, "layer%d.%d.bn1", L, blk), x, c, h, w);
            x = nb_conv(b, nb_name(b, "layer%d.%d.conv1", L, blk), act, &c, &h, &w, planes, 3, stride, 1, 0);
            x = nb_bn_relu(b, nb_name(b, "layer%d.%d.bn2", L, blk), x, c, h, w);
            x = nb_conv(b, nb_name(b, "layer%d.%d.conv2", L, blk), x, &c, &h, &w, planes, 3, 1, 1, 0);
            int sc = blk == 0 ? act : in;
            if (stride != 1 || ic != planes) sc = nb_shortcut_pad(b, sc, ic, ih, iw, planes, stride);
            x = nb_add(b, x, sc, c, h, w);
        }
    x = nb_bn_relu(b, "bn", x, c, h, w);
    nb_gap_linear(b, "linear", x, c, h, w, m->dropout, m->classes);
    return 0;
}

int model_build_resnet4(net_builder *b, const model_cfg *m, int x, int depth) {
    static const int blocks18[4] = {2, 2, 2, 2}, blocks34[4] = {3, 4, 6, 3};
    if (depth != 18 && depth != 34)
        return dp_fail(b->e, DP_EUSAGE, "model.arch: resnet%d: the 4-stage ResNet is resnet18 or resnet34", depth);
    int rc = check_input(b, m, "resnet", depth);
    if (rc) return rc;
    const int *blocks = depth == 18 ? blocks18 : blocks34;
    int c = m->in_c, h = m->in_h, w = m->in_w, base = m->base_width;
    x = nb_conv(b, "conv1", x, &c, &h, &w, base, 3, 1, 1, 0);
    x = nb_bn_relu(b, "bn1", x, c, h, w);
    for (int stage = 0; stage < 4; stage++)
        for (int blk = 0; blk < blocks[stage]; blk++)
            x = basic_block(b, x, &c, &h, &w, stage + 1, blk, base << stage,
                            stage > 0 && blk == 0 ? 2 : 1, 1);
    nb_gap_linear(b, "linear", x, c, h, w, m->dropout, m->classes);
    return 0;
}
