/* model_resnet.c - the CIFAR ResNet-6n+2 family (He et al. 2016, Sec. 4.2):
 * 3 stages of n BasicBlocks with base, 2*base, 4*base channels and option-A
 * (parameter-free) shortcuts as in the paper's CIFAR experiments; tensor names
 * follow the common PyTorch CIFAR ResNet (conv1, layer1.0.bn1, linear). */
#include <stdio.h>

#include "model.h"
#include "net_build.h"

int model_build_resnet(net_builder *b, const model_cfg *m, int x, int depth) {
    if (depth < 8 || (depth - 2) % 6 != 0)
        return dp_fail(b->e, DP_EUSAGE, "model.arch: resnet%d is not a ResNet-6n+2 depth", depth);
    if (m->in_h < 8 || m->in_w < 8)
        return dp_fail(b->e, DP_EUSAGE, "model.arch: resnet%d needs inputs of at least 8x8 pixels, got %dx%d",
                       depth, m->in_h, m->in_w);
    int c = m->in_c, h = m->in_h, w = m->in_w, base = m->base_width;
    int nblocks = (depth - 2) / 6;
    x = nb_conv(b, "conv1", x, &c, &h, &w, base, 3, 1, 1, 0);
    x = nb_batchnorm(b, "bn1", x, c, h, w);
    x = nb_relu(b, x, c, h, w);
    for (int stage = 0; stage < 3; stage++) {
        int planes = base << stage;
        for (int blk = 0; blk < nblocks; blk++) {
            int stride = (stage > 0 && blk == 0) ? 2 : 1;
            char name[64];
            int in = x, ic = c, ih = h, iw = w;
            snprintf(name, sizeof name, "layer%d.%d.conv1", stage + 1, blk);
            x = nb_conv(b, name, x, &c, &h, &w, planes, 3, stride, 1, 0);
            snprintf(name, sizeof name, "layer%d.%d.bn1", stage + 1, blk);
            x = nb_batchnorm(b, name, x, c, h, w);
            x = nb_relu(b, x, c, h, w);
            snprintf(name, sizeof name, "layer%d.%d.conv2", stage + 1, blk);
            x = nb_conv(b, name, x, &c, &h, &w, planes, 3, 1, 1, 0);
            snprintf(name, sizeof name, "layer%d.%d.bn2", stage + 1, blk);
            x = nb_batchnorm(b, name, x, c, h, w);
            int sc = in;
            if (stride != 1 || ic != planes) sc = nb_shortcut_pad(b, in, ic, ih, iw, planes, stride);
            x = nb_add(b, x, sc, c, h, w);
            x = nb_relu(b, x, c, h, w);
        }
    }
    x = nb_gap(b, x, c, &h, &w);
    x = nb_dropout(b, x, c, m->dropout);
    nb_linear(b, "linear", x, c, m->classes);
    return 0;
}
