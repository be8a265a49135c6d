/* model_wrn.c - Wide ResNet WRN-d-k (Zagoruyko and Komodakis, BMVC 2016) as
 * the common PyTorch code builds it (xternalz/WideResNet-pytorch):
 *
 * conv3x3 (base channels); three groups ("block1..3.layer.<i>") of n = (d-4)/6
 * pre-activation blocks with base*k, 2*base*k, 4*base*k channels:
 * BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3, added to the input, or, where the
 * width changes, to a 1x1 convolution ("convShortcut") of the block's
 * BN-ReLU output, which then feeds both paths; BN-ReLU ("bn1"), global
 * average pool, "fc". */
#include <stdio.h>

#include "model.h"
#include "net_build.h"

int model_build_wrn(net_builder *b, const model_cfg *m, int x, int arg) {
    (void)arg;
    if (m->depth < 10 || (m->depth - 4) % 6 != 0)
        return dp_fail(b->e, DP_EUSAGE, "model.depth: a WRN has depth 6n+4 (n >= 1), got %d", m->depth);
    if (m->widen < 1) return dp_fail(b->e, DP_EUSAGE, "model.widen: must be >= 1, got %d", m->widen);
    const int n = (m->depth - 4) / 6;
    int c = m->in_c, h = m->in_h, w = m->in_w;
    x = nb_conv(b, "conv1", x, &c, &h, &w, m->base_width, 3, 1, 1, 0);
    for (int g = 1; g <= 3; g++)
        for (int i = 0; i < n; i++) {
            const int out = (m->base_width * m->widen) << (g - 1), stride = g > 1 && i == 0 ? 2 : 1;
            int in = x, ic = c, ih = h, iw = w;
            int act = nb_bn_relu(b, nb_name(b, "block%d.layer.%d.bn1", g, i), x, c, h, w);
            x = nb_conv(b, nb_name(b, "block%d.layer.%d.conv1", g, i), act, &c, &h, &w, out, 3, stride, 1, 0);
            x = nb_bn_relu(b, nb_name(b, "block%d.layer.%d.bn2", g, i), x, c, h, w);
            x = nb_dropout(b, x, c * h * w, m->block_dropout);
            x = nb_conv(b, nb_name(b, "block%d.layer.%d.conv2", g, i), x, &c, &h, &w, out, 3, 1, 1, 0);
            int sc = in;
            if (ic != out)
                sc = nb_conv(b, nb_name(b, "block%d.layer.%d.convShortcut", g, i), act, &ic, &ih, &iw,
                             out, 1, stride, 0, 0);
            x = nb_add(b, x, sc, c, h, w);
        }
    x = nb_bn_relu(b, "bn1", x, c, h, w);
    nb_gap_linear(b, "fc", x, c, h, w, m->dropout, m->classes);
    return 0;
}
