/* model.c - the model table: a model's name and builder (nn/models.h), and
 * net_build, which runs the builder and finishes the network. */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "net_build.h"

typedef int (*model_builder)(net_builder *b, const model_cfg *m, int x, int arg);

#define MODEL_ROW(id, name, build, arg, width) {name, build, arg, width},
static const struct {
    const char *name;
    model_builder build;
    int arg, width;
} MODELS[] = {DPPF_MODELS(MODEL_ROW)};

const char *model_name(int id) { return id >= 0 && id < MODEL_COUNT ? MODELS[id].name : "?"; }

int model_find(const char *name) {
    for (int i = 0; i < MODEL_COUNT; i++)
        if (!strcmp(name, MODELS[i].name)) return i;
    return -1;
}

void model_cfg_resolve(model_cfg *m) {
    if (m->arch < 0 || m->arch >= MODEL_COUNT) return;
    if (m->base_width <= 0) m->base_width = MODELS[m->arch].width;
    if (m->depth <= 0) m->depth = MODELS[m->arch].arg;
}

int net_build(net_t *n, const model_cfg *cfg, dp_err *e) {
    memset(n, 0, sizeof *n);
    if (cfg->arch < 0 || cfg->arch >= MODEL_COUNT)
        return dp_fail(e, DP_EUSAGE, "model.arch: unknown architecture %d", cfg->arch);
    model_cfg resolved = *cfg;
    model_cfg_resolve(&resolved);
    const model_cfg *m = &resolved;
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
