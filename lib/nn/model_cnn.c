/* model_cnn.c - the quickstart CNN: per width a conv3x3 (bias only without
 * BN) -> BN -> ReLU -> maxpool 2x2 stage, then optionally a hidden
 * fully-connected layer (dropout before it), then the classifier. */
#include <stdio.h>

#include "model.h"
#include "net_build.h"

int model_build_cnn(net_builder *b, const model_cfg *m, int x, int arg) {
    (void)arg;
    if (m->n_widths < 1)
        return dp_fail(b->e, DP_EUSAGE, "model.widths: the cnn needs at least one conv width");
    int bn = m->batchnorm, c = m->in_c, h = m->in_h, w = m->in_w;
    for (int i = 0; i < m->n_widths; i++) {
        char name[64];
        snprintf(name, sizeof name, "conv%d", i + 1);
        x = nb_conv(b, name, x, &c, &h, &w, m->widths[i], 3, 1, 1, !bn);
        if (bn) {
            snprintf(name, sizeof name, "bn%d", i + 1);
            x = nb_batchnorm(b, name, x, c, h, w);
        }
        x = nb_relu(b, x, c, h, w);
        if (h >= 2 && w >= 2) x = nb_maxpool(b, x, c, &h, &w, 2, 2);
    }
    c = c * h * w;
    if (m->fc > 0) {
        x = nb_dropout(b, x, c, m->dropout);
        x = nb_linear(b, "fc1", x, c, m->fc);
        c = m->fc;
        if (bn) x = nb_batchnorm(b, "fc1_bn", x, c, 1, 1);
        x = nb_relu(b, x, c, 1, 1);
    } else {
        x = nb_dropout(b, x, c, m->dropout);
    }
    nb_linear(b, "classifier", x, c, m->classes);
    return 0;
}
