/* model_mlp.c - a multi-layer perceptron: flatten; per hidden size a
 * linear layer -> BN (optional) -> ReLU; dropout; the classifier. */
#include <stdio.h>

#include "model.h"
#include "net_build.h"

int model_build_mlp(net_builder *b, const model_cfg *m, int x, int arg) {
    (void)arg;
    int c = m->in_c * m->in_h * m->in_w;
    for (int i = 0; i < m->n_hidden; i++) {
        char name[64];
        snprintf(name, sizeof name, "fc%d", i + 1);
        x = nb_linear(b, name, x, c, m->hidden[i]);
        c = m->hidden[i];
        if (m->batchnorm) {
            snprintf(name, sizeof name, "bn%d", i + 1);
            x = nb_batchnorm(b, name, x, c, 1, 1);
        }
        x = nb_relu(b, x, c, 1, 1);
    }
    x = nb_dropout(b, x, c, m->dropout);
    nb_linear(b, "classifier", x, c, m->classes);
    return 0;
}
