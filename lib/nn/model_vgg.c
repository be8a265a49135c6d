/* model_vgg.c - VGG-16 with batch norm, CIFAR variant (kuangliu/pytorch-cifar,
 * after Simonyan and Zisserman 2015): 13 conv3x3 (with bias) - BN - ReLU
 * layers in 5 groups of 64, 128, 256, 512, 512 channels (base_width 64), each
 * group ending in a 2x2 max-pool; flatten (512 values on 32x32 inputs);
 * dropout; the linear "classifier". Layers are named by their index in the
 * reference's nn.Sequential ("features.0" conv, "features.1" BN, ...). */
#include <stdio.h>

#include "model.h"
#include "net_build.h"

int model_build_vgg(net_builder *b, const model_cfg *m, int x, int depth) {
    /* Multiples of base_width; 0 is a max-pool. */
    static const int vgg16[] = {1, 1, 0, 2, 2, 0, 4, 4, 4, 0, 8, 8, 8, 0, 8, 8, 8, 0};
    if (m->in_h < 32 || m->in_w < 32)
        return dp_fail(b->e, DP_EUSAGE,
                       "model.arch: vgg%d halves its input 5 times and needs at least 32x32 pixels, "
                       "got %dx%d (data.resize_pad: 2 pads 28x28 images to 32x32)",
                       depth, m->in_h, m->in_w);
    int c = m->in_c, h = m->in_h, w = m->in_w, idx = 0;
    for (size_t i = 0; i < sizeof vgg16 / sizeof *vgg16; i++) {
        if (!vgg16[i]) {
            x = nb_maxpool(b, x, c, &h, &w, 2, 2);
            idx++;
            continue;
        }
        x = nb_conv(b, nb_name(b, "features.%d", idx), x, &c, &h, &w, vgg16[i] * m->base_width, 3, 1, 1, 1);
        x = nb_bn_relu(b, nb_name(b, "features.%d", idx + 1), x, c, h, w);
        idx += 3;
    }
    c = c * h * w;
    x = nb_dropout(b, x, c, m->dropout);
    nb_linear(b, "classifier", x, c, m->classes);
    return 0;
}
