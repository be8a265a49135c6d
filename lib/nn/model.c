/* model.c - the model table: a model's name and builder (nn/models.h), and
 * net_build, which runs the builder and finishes the network. */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "net_build.h"

typedef int (*model_builder)(net_builder *b, const model_cfg *m, int x, int arg);

#define MODEL_ROW(id, name, build, arg) {name, build, arg},
static const struct {
    const char *name;
    model_builder build;
    int arg;
} MODELS[] = {DPPF_MODELS(MODEL_ROW)};

const char *model_name(int id) { return id >= 0 && id < MODEL_COUNT ? MODELS[id].name : "?"; }

int model_find(const char *name) {
    for (int i = 0; i < MODEL_COUNT; i++)
        if (!strcmp(name, MODELS[i].name)) return i;
    return -1;
}

int net_build(net_t *n, const model_cfg *m, dp_err *e) {
    memset(n, 0, sizeof *n);
    if (m->arch < 0 || m->arch >= MODEL_COUNT)
        return dp_fail(e, DP_EUSAGE, "model.arch: unknown architecture %d", m->arch);
    net_builder b = {.n = n, .e = e};
    n->in_c = m->in_c, n->in_h = m->in_h, n->in_w = m->in_w, n->classes = m->classes;
    n->bn_momentum = m->bn_momentum;
    n->bn_eps = m->bn_eps;
    n->label_smoothing = m->label_smoothing;
    snprintf(n->arch, sizeof n->arch, "%s", MODELS[m->arch].name);
    int x = nb_slot(&b, (size_t)m->in_c * m->in_h * m->in_w);
    int rc = MODELS[m->arch].build(&b, m, x, MODELS[m->arch].arg);
    if (!rc) rc = b.failed;
    if (rc) {
        net_free(n);
        return rc;
    }
    net_finish(n);
    return 0;
}
