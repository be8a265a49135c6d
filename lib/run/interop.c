/* interop.c - export a checkpoint's model as a PyTorch state_dict in
 * safetensors, and import one as a step-0 checkpoint (see interop.h). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "interop.h"
#include "model.h"
#include "net.h"
#include "runstate.h"
#include "safetensors.h"
#include "spec_map.h"

/* The model of the spec, for the input shape and classes of its dataset
 * (without loading it), exactly as training builds it. */
static int build_model(const spec_t *s, net_t *net, dp_err *e) {
    model_cfg m;
    int rc = spec_model_cfg_for_data(&m, s, e);
    return rc ? rc : net_build(net, &m, e);
}

/* If tensor `ti` is a BatchNorm's running_var, the layer's name (for the
 * num_batches_tracked entry torch keeps right after it). */
static int bn_layer(const net_t *n, int ti, char *layer, size_t len) {
    for (int i = 0; i < n->n_ops; i++) {
        if (n->ops[i].kind != OP_BN || n->ops[i].rvar != ti) continue;
        const char *name = n->tensors[ti].name, *dot = strrchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        snprintf(layer, len, "%.*s", (int)l, name);
        return 1;
    }
    return 0;
}

static void fmt_shape(char *buf, size_t len, int ndim, const uint64_t *shape) {
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && at < len; d++)
        at += (size_t)snprintf(buf + at, len - at, "%s%llu", d ? ", " : "", (unsigned long long)shape[d]);
    if (at < len) snprintf(buf + at, len - at, "]");
}

static void net_shape(const net_tensor *t, uint64_t *shape) {
    for (int d = 0; d < t->ndim; d++) shape[d] = (uint64_t)t->shape[d];
}

/* ---- export ---- */

typedef struct {
    st_tensor *t;
    int n, cap;
    int64_t nbt; /* the value of every num_batches_tracked */
    dp_err *e;
} tlist;

static int tl_add(tlist *l, const char *prefix, const char *name, st_dtype dtype, int ndim,
                  const uint64_t *shape, const void *data) {
    if (l->n == l->cap) {
        int ncap = l->cap ? 2 * l->cap : 64;
        st_tensor *q = realloc(l->t, (size_t)ncap * sizeof *q);
        if (!q) return dp_fail(l->e, DP_ENOMEM, "out of memory listing tensors");
        l->t = q, l->cap = ncap;
    }
    st_tensor *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    size_t len = strlen(prefix) + strlen(name) + 1;
    t->name = malloc(len);
    if (!t->name) return dp_fail(l->e, DP_ENOMEM, "out of memory listing tensors");
    snprintf(t->name, len, "%s%s", prefix, name);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->data = data;
    l->n++;
    return 0;
}

/* One model's tensors in state_dict order, names prefixed. */
static int add_model(tlist *l, const net_t *n, const char *prefix, const float *params,
                     const float *buffers) {
    for (int i = 0; i < n->n_tensors; i++) {
        const net_tensor *t = &n->tensors[i];
        uint64_t shape[4];
        net_shape(t, shape);
        int rc = tl_add(l, prefix, t->name, ST_F32, t->ndim, shape,
                        (t->is_buffer ? buffers : params) + t->offset);
        char layer[96];
        if (!rc && bn_layer(n, i, layer, sizeof layer - 24)) {
            strcat(layer, ".num_batches_tracked");
            rc = tl_add(l, prefix, layer, ST_I64, 0, NULL, &l->nbt);
        }
        if (rc) return rc;
    }
    return 0;
}

static void fmt_ints(char *buf, size_t len, const int *v, int n) {
    uint64_t u[SPEC_MAX_LIST];
    for (int i = 0; i < n; i++) u[i] = (uint64_t)v[i];
    fmt_shape(buf, len, n, u);
}

int interop_export(const spec_t *s, const export_opts *o, FILE *summary, dp_err *e) {
    ckpt_model x;
    tlist l = {.e = e};
    int rc = ckpt_model_open(&x, s, o->ckpt, 0, e);
    if (rc) return rc;
    const checkpoint_t *c = &x.ckpt;
    const net_t *net = &x.net;
    if (o->worker >= (int)c->n_workers)
        rc = dp_fail(e, DP_EUSAGE, "--worker %d: checkpoint '%s' holds workers 0..%u", o->worker,
                     o->ckpt, c->n_workers - 1);
    if (rc) goto done;

    size_t np = net->n_params, nb = net->n_buffers;
    l.nbt = c->step; /* every worker ran one train-mode forward per step */
    if (o->worker < 0)
        rc = add_model(&l, net, "", c->avg_params, c->avg_buffers);
    else
        rc = add_model(&l, net, "", c->worker_params + np * o->worker,
                       c->worker_buffers + nb * o->worker);
    for (uint32_t i = 0; !rc && o->all_workers && i < c->n_workers; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "worker%u.", i);
        rc = add_model(&l, net, prefix, c->worker_params + np * i, c->worker_buffers + nb * i);
    }
    if (rc) goto done;

    /* Metadata: strings only (the format's rule). The model's options as
     * the model was built (model_cfg_resolve: 0 = the architecture's). */
    model_cfg mc;
    rc = spec_model_cfg_for_data(&mc, s, e);
    if (rc) goto done;
    model_cfg_resolve(&mc);
    char desc[256], ver[32], step[32], epoch[32], workers[32], shape[64], classes[32], source[64],
        widths[160], hidden[160], fc[32], bw[32], drop[32], mom[32], eps[32], depth[32], widen[32],
        alpha[32], bdrop[32];
    net_describe(net, desc, sizeof desc);
    snprintf(ver, sizeof ver, "%s", DPPF_VERSION);
    snprintf(step, sizeof step, "%lld", (long long)c->step);
    snprintf(epoch, sizeof epoch, "%lld", (long long)c->epoch);
    snprintf(workers, sizeof workers, "%u", c->n_workers);
    fmt_ints(shape, sizeof shape, (int[]){net->in_c, net->in_h, net->in_w}, 3);
    snprintf(classes, sizeof classes, "%d", net->classes);
    if (o->worker >= 0) snprintf(source, sizeof source, "worker %d", o->worker);
    else snprintf(source, sizeof source, "average of %u worker%s", c->n_workers, c->n_workers > 1 ? "s" : "");
    fmt_ints(widths, sizeof widths, s->model.widths, s->model.n_widths);
    fmt_ints(hidden, sizeof hidden, s->model.hidden, s->model.n_hidden);
    snprintf(fc, sizeof fc, "%d", s->model.fc);
    snprintf(bw, sizeof bw, "%d", mc.base_width);
    snprintf(depth, sizeof depth, "%d", mc.depth);
    snprintf(widen, sizeof widen, "%d", mc.widen);
    snprintf(alpha, sizeof alpha, "%d", mc.alpha);
    snprintf(bdrop, sizeof bdrop, "%g", mc.block_dropout);
    snprintf(drop, sizeof drop, "%g", s->model.dropout);
    snprintf(mom, sizeof mom, "%g", s->model.bn_momentum);
    snprintf(eps, sizeof eps, "%g", s->model.bn_eps);
    const char *arch = model_name(s->model.arch);
    /* every architecture but the cnn and the mlp is sized by model.base_width */
    int cnn = s->model.arch == MODEL_CNN, mlp = s->model.arch == MODEL_MLP, resnet = !cnn && !mlp;
    int wrn = s->model.arch == MODEL_WRN, pyramid = s->model.arch == MODEL_PYRAMIDNET;
    st_meta meta[32];
    int nm = 0;
#define META(k, v) (meta[nm++] = (st_meta){(char *)(k), (char *)(v)})
    META("format", "pt");
    META("dppf_version", ver);
    META("model", desc);
    META("model.arch", arch);
    if (cnn) META("model.widths", widths);
    if (cnn) META("model.fc", fc);
    if (mlp) META("model.hidden", hidden);
    if (!resnet) META("model.batchnorm", s->model.batchnorm ? "true" : "false");
    if (resnet) META("model.base_width", bw);
    if (wrn || pyramid) META("model.depth", depth);
    if (wrn) META("model.widen", widen);
    if (wrn) META("model.block_dropout", bdrop);
    if (pyramid) META("model.alpha", alpha);
    if (pyramid) META("model.block", mc.block == BLOCK_BOTTLENECK ? "bottleneck" : "basic");
    META("model.dropout", drop);
    META("model.bn_momentum", mom);
    META("model.bn_eps", eps);
    META("input_shape", shape);
    META("classes", classes);
    META("step", step);
    META("epoch", epoch);
    META("workers", workers);
    META("exported", source);
    META("spec", c->spec_yaml);
#undef META
    rc = st_write(o->out, l.t, l.n, meta, nm, e);
    if (!rc && summary)
        fprintf(summary, "dppf export: %s (%s, step %lld) -> %s: %d tensors%s\n", desc, source,
                (long long)c->step, o->out, l.n,
                o->all_workers ? ", every worker under worker<i>." : "");
done:
    for (int i = 0; i < l.n; i++) free(l.t[i].name);
    free(l.t);
    ckpt_model_close(&x);
    return rc;
}

/* ---- import ---- */

/* The mismatches between the file and the model, as many as fit a message. */
typedef struct {
    char s[560];
    size_t len;
    int n, dropped;
} plist;

/* The three kinds of mismatch, listed separately. */
enum { P_MISSING, P_EXTRA, P_WRONG, P_KINDS };

static void __attribute__((format(printf, 2, 3))) plist_add(plist *p, const char *fmt, ...) {
    char item[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    size_t l = strlen(item);
    if (p->dropped || p->len + l + 3 >= sizeof p->s) {
        p->dropped++;
    } else {
        p->len += (size_t)snprintf(p->s + p->len, sizeof p->s - p->len, "%s%s", p->n ? ", " : "", item);
    }
    p->n++;
}

static void check_tensor(plist p[P_KINDS], const st_tensor *t, const char *name, st_dtype dtype, int ndim,
                         const uint64_t *shape) {
    char want[96], got[96];
    if (!t) {
        fmt_shape(want, sizeof want, ndim, shape);
        plist_add(&p[P_MISSING], "%s %s", name, want);
        return;
    }
    if (t->dtype != dtype) {
        plist_add(&p[P_WRONG], "%s %s (model: %s)", name, st_dtype_name(t->dtype), st_dtype_name(dtype));
        return;
    }
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        fmt_shape(want, sizeof want, ndim, shape);
        fmt_shape(got, sizeof got, t->ndim, t->shape);
        plist_add(&p[P_WRONG], "%s %s (model: %s)", name, got, want);
    }
}

int interop_import(const spec_t *s, const char *model_path, const char *out_ckpt, FILE *summary,
                   dp_err *e) {
    net_t net = {0};
    st_file f = {0};
    float *params = NULL, *buffers = NULL;
    char *used = NULL;
    plist p[P_KINDS] = {{.len = 0}};
    int rc = build_model(s, &net, e);
    if (!rc) rc = st_read(model_path, &f, e);
    if (rc) goto done;
    params = dp_calloc(net.n_params, sizeof(float), "imported parameters", e);
    buffers = dp_calloc(net.n_buffers, sizeof(float), "imported buffers", e);
    used = dp_calloc((size_t)f.n_tensors, 1, "import bookkeeping", e);
    if (!params || !buffers || !used) {
        rc = DP_ENOMEM;
        goto done;
    }
    for (int i = 0; i < net.n_tensors; i++) {
        const net_tensor *nt = &net.tensors[i];
        uint64_t shape[4];
        net_shape(nt, shape);
        const st_tensor *t = st_find(&f, nt->name);
        if (t) used[t - f.tensors] = 1;
        int before = p[P_MISSING].n + p[P_WRONG].n;
        check_tensor(p, t, nt->name, ST_F32, nt->ndim, shape);
        if (p[P_MISSING].n + p[P_WRONG].n == before)
            memcpy((nt->is_buffer ? buffers : params) + nt->offset, t->data, nt->size * sizeof(float));
        char layer[96];
        if (bn_layer(&net, i, layer, sizeof layer - 24)) {
            /* Its value does not matter: the spec's bn_momentum is used. */
            strcat(layer, ".num_batches_tracked");
            t = st_find(&f, layer);
            if (t) used[t - f.tensors] = 1;
            check_tensor(p, t, layer, ST_I64, 0, NULL);
        }
    }
    for (int i = 0; i < f.n_tensors; i++)
        if (!used[i]) plist_add(&p[P_EXTRA], "%.200s", f.tensors[i].name);
    if (p[P_MISSING].n + p[P_EXTRA].n + p[P_WRONG].n) {
        char desc[256];
        net_describe(&net, desc, sizeof desc);
        static const char *what[P_KINDS] = {"missing", "unexpected", "mismatched"};
        char list[3 * 620] = "";
        size_t at = 0;
        for (int k = 0; k < P_KINDS; k++) {
            if (!p[k].n) continue;
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%d %s: %s%s", at ? "; " : "",
                                   p[k].n, what[k], p[k].s, p[k].dropped ? ", ..." : "");
        }
        rc = dp_fail(e, DP_EUSAGE, "'%s' does not match the spec's model (%s): %s", model_path,
                     desc, list);
        goto done;
    }
    for (int i = 0; i < net.n_tensors; i++) {
        const net_tensor *nt = &net.tensors[i];
        const float *v = (nt->is_buffer ? buffers : params) + nt->offset;
        for (size_t k = 0; k < nt->size; k++)
            if (!isfinite(v[k])) {
                rc = dp_fail(e, DP_EIO, "'%s': tensor %s holds %s", model_path, nt->name,
                             isnan(v[k]) ? "NaN" : "Inf");
                goto done;
            }
    }
    rc = runstate_write_start(s, &net, params, buffers, out_ckpt, e);
    if (!rc && summary) {
        char desc[256];
        net_describe(&net, desc, sizeof desc);
        fprintf(summary, "dppf import: %s from %s -> %s (step 0, %d worker%s, seed %llu)\n", desc,
                model_path, out_ckpt, s->dist.workers, s->dist.workers > 1 ? "s" : "",
                (unsigned long long)s->run.seed);
    }
done:
    free(params);
    free(buffers);
    free(used);
    st_free(&f);
    net_free(&net);
    return rc;
}
