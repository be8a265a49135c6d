/* net.c - running a built model forward and backward, its workspace, initialisation. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "net_build.h"

/* ---- finishing a built model ---- */

/* Decayed parameter tensors first, then the rest; buffers separately. */
static void assign_offsets(net_t *n) {
    size_t off = 0, boff = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n->n_tensors; i++) {
            net_tensor *t = &n->tensors[i];
            if (t->is_buffer || t->decay != (pass == 0)) continue;
            t->offset = off;
            off += t->size;
        }
        if (pass == 0) n->n_params_decay = off;
    }
    for (int i = 0; i < n->n_tensors; i++) {
        net_tensor *t = &n->tensors[i];
        if (!t->is_buffer) continue;
        t->offset = boff;
        boff += t->size;
    }
    n->n_params = off;
    n->n_buffers = boff;
}

/* How many times op reads slot s (an add reads two). */
static int op_reads(const net_op *op, int s) {
    return (op->in == s) + (op->kind == OP_ADD && op->in2 == s);
}

/* last_reader[s]: the last op that reads slot s, -1 if none (the logits). */
static void find_last_readers(const net_t *n, int *last_reader) {
    for (int s = 0; s < n->n_slots; s++) last_reader[s] = -1;
    for (int i = 0; i < n->n_ops; i++) {
        last_reader[n->ops[i].in] = i;
        if (n->ops[i].kind == OP_ADD) last_reader[n->ops[i].in2] = i;
    }
}

/* BN -> ReLU and add -> ReLU where nothing else reads the first output (the
 * ResNet pattern): one pass over the activations instead of two. Backward is
 * unaffected: BN and add never read their own output. In eval mode a conv ->
 * BN pair is one pass too (training needs the conv output for BN's batch
 * statistics first), and so is conv -> BN -> ReLU -> 2x2 maxpool (the CNN's
 * stage), whose full-size output then never leaves the cache. */
static void mark_fusions(net_t *n) {
    for (int i = 0; i + 1 < n->n_ops; i++) {
        net_op *op = &n->ops[i];
        const net_op *next = &n->ops[i + 1];
        if (next->in != op->out) continue;
        int readers = 0;
        for (int j = 0; j < n->n_ops; j++) readers += op_reads(&n->ops[j], op->out);
        if ((op->kind == OP_BN || op->kind == OP_ADD) && next->kind == OP_RELU)
            op->relu_next = readers == 1;
        if (op->kind == OP_CONV && next->kind == OP_BN) op->bn_next = readers == 1;
        if (op->kind == OP_RELU && next->kind == OP_MAXPOOL && next->k == 2 && next->stride == 2 &&
            next->pad == 0)
            op->pool_next = readers == 1;
    }
}

void net_finish(net_t *n) {
    assign_offsets(n);
    mark_fusions(n);
}

void net_free(net_t *n) {
    free(n->ops);
    free(n->tensors);
    free(n->slot_size);
    memset(n, 0, sizeof *n);
}

void net_init(const net_t *n, float *params, float *buffers, uint64_t seed) {
    rng_t r;
    rng_init(&r, seed, RNG_STREAM_INIT);
    for (int i = 0; i < n->n_tensors; i++) {
        const net_tensor *t = &n->tensors[i];
        float *dst = (t->is_buffer ? buffers : params) + t->offset;
        if (t->fan_in == 0) {
            for (size_t j = 0; j < t->size; j++) dst[j] = t->init_value;
        } else if (t->decay) {
            double std = sqrt(2.0 / t->fan_in);
            for (size_t j = 0; j < t->size; j++) dst[j] = (float)(std * rng_normal(&r));
        } else {
            double bound = 1.0 / sqrt((double)t->fan_in);
            for (size_t j = 0; j < t->size; j++)
                dst[j] = (float)(bound * (2.0 * rng_uniform(&r) - 1.0));
        }
    }
}

void net_describe(const net_t *n, char *buf, size_t len) {
    int convs = 0, linears = 0;
    for (int i = 0; i < n->n_ops; i++) {
        convs += n->ops[i].kind == OP_CONV;
        linears += n->ops[i].kind == OP_LINEAR;
    }
    snprintf(buf, len, "%s on %dx%dx%d, %d classes: %d conv + %d linear layers, %zu parameters",
             n->arch, n->in_c, n->in_h, n->in_w, n->classes, convs, linears, n->n_params);
}

int net_find_tensor(const net_t *n, const char *name) {
    for (int i = 0; i < n->n_tensors; i++)
        if (strcmp(n->tensors[i].name, name) == 0) return i;
    return -1;
}

static const char *op_kind_name(net_op_kind k) {
    switch (k) {
    case OP_CONV: return "conv";
    case OP_BN: return "batchnorm";
    case OP_RELU: return "relu";
    case OP_MAXPOOL: return "maxpool";
    case OP_GAP: return "global average pool";
    case OP_LINEAR: return "linear";
    case OP_ADD: return "residual add";
    case OP_DROPOUT: return "dropout";
    case OP_SHORTCUT_PAD: return "shortcut";
    case OP_AVGPOOL: return "average pool";
    }
    return "op";
}

/* The layer part of a tensor name: "layer1.0.conv1.weight" -> "layer1.0.conv1". */
static int layer_len(const char *tensor) {
    const char *dot = strrchr(tensor, '.');
    return dot ? (int)(dot - tensor) : (int)strlen(tensor);
}

void net_op_name(const net_t *n, int i, char *buf, size_t len) {
    const net_op *op = &n->ops[i];
    const char *kind = op_kind_name(op->kind);
    if (op->w >= 0) {
        const char *t = n->tensors[op->w].name;
        snprintf(buf, len, "%.*s (%s)", layer_len(t), t, kind);
        return;
    }
    for (int j = i - 1; j >= 0; j--) {
        if (n->ops[j].w < 0) continue;
        const char *t = n->tensors[n->ops[j].w].name;
        snprintf(buf, len, "%s after %.*s", kind, layer_len(t), t);
        return;
    }
    snprintf(buf, len, "%s (op %d)", kind, i);
}

/* ---- workspace ------------------------------------------------------------ */

static size_t op_aux_floats(const net_op *op, int B) {
    switch (op->kind) {
    case OP_BN: return 2 * (size_t)op->C; /* batch mean and invstd */
    case OP_DROPOUT: return (size_t)B * op->C;
    default: return 0;
    }
}

static size_t op_iaux_ints(const net_op *op, int B) {
    return op->kind == OP_MAXPOOL ? (size_t)B * op->C * op->OH * op->OW : 0;
}

/* Round up to 16 floats (64 bytes) so each array starts cache-line aligned. */
static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Does backward read this slot's activation? (see net_ws) */
static void kept_slots(const net_t *n, const int *last_reader, unsigned char *keep) {
    for (int s = 0; s < n->n_slots; s++) keep[s] = s == 0 || last_reader[s] < 0; /* input, logits */
    for (int i = 0; i < n->n_ops; i++) {
        const net_op *op = &n->ops[i];
        if (op->kind == OP_CONV || op->kind == OP_BN || op->kind == OP_LINEAR) keep[op->in] = 1;
        if (op->kind == OP_RELU) keep[op->out] = 1;
    }
}

/* Op i is a ReLU whose BN (op i - 1) runs the ReLU's forward inside its own
 * and its backward too (batchnorm_relu_backward(_eval)): the BN reads the
 * ReLU's output gradient, which must live until the BN has run, and the BN's
 * own output has no gradient buffer. */
static int relu_fused_into_bn(const net_t *n, int i) {
    return i > 0 && n->ops[i].kind == OP_RELU && n->ops[i - 1].kind == OP_BN && n->ops[i - 1].relu_next;
}

/* Greedy interval colouring: the first free colour; grows the colour's size. */
static int take_colour(unsigned char *busy, size_t *size, int *ncol, size_t need) {
    int c = 0;
    while (c < *ncol && busy[c]) c++;
    if (c == *ncol) size[(*ncol)++] = 0;
    busy[c] = 1;
    if (need > size[c]) size[c] = need;
    return c;
}

/* Plans which slots share memory: fcol[s] (forward, -1 = own buffer) and
 * bcol[s] (gradient, -1 = none), with per-colour sizes in floats per sample. */
static void plan_slots(const net_t *n, const unsigned char *keep, const int *last_reader, int *fcol,
                       size_t *fsize, int *nf, int *bcol, size_t *bsize, int *nb, int *grad_start,
                       unsigned char *busy) {
    const int S = n->n_slots, O = n->n_ops;
    /* forward: a dropped slot lives from its producer to its last reader */
    *nf = 0;
    memset(busy, 0, (size_t)S);
    for (int s = 0; s < S; s++) fcol[s] = -1;
    for (int i = 0; i < O; i++) {
        const net_op *op = &n->ops[i];
        if (!keep[op->out]) fcol[op->out] = take_colour(busy, fsize, nf, n->slot_size[op->out]);
        int ins[2] = {op->in, op->kind == OP_ADD ? op->in2 : -1};
        for (int k = 0; k < 2; k++)
            if (ins[k] >= 0 && fcol[ins[k]] >= 0 && last_reader[ins[k]] == i) busy[fcol[ins[k]]] = 0;
    }
    /* backward: a gradient lives from its first writer (its last reader in
     * the forward pass; the loss for the logits) down to its producer */
    for (int s = 0; s < S; s++) grad_start[s] = -1, bcol[s] = -1;
    for (int i = 0; i < O; i++) {
        int s = n->ops[i].out;
        grad_start[s] = last_reader[s] >= 0 ? last_reader[s] : O;
        if (i + 1 < O && relu_fused_into_bn(n, i + 1)) grad_start[s] = -1; /* a fused BN's output */
    }
    *nb = 0;
    memset(busy, 0, (size_t)S);
    for (int t = O; t >= 0; t--) {
        for (int s = 1; s < S; s++)
            if (grad_start[s] == t) bcol[s] = take_colour(busy, bsize, nb, n->slot_size[s]);
        if (t < O && bcol[n->ops[t].out] >= 0 && !relu_fused_into_bn(n, t))
            busy[bcol[n->ops[t].out]] = 0; /* its producer has run */
        if (t + 1 < O && relu_fused_into_bn(n, t + 1)) busy[bcol[n->ops[t + 1].out]] = 0; /* the BN read it */
    }
}

int net_ws_alloc(net_ws *ws, const net_t *n, int max_batch, dp_err *e) {
    memset(ws, 0, sizeof *ws);
    ws->max_batch = max_batch;
    const int S = n->n_slots, O = n->n_ops;
    /* planning scratch: last_reader, fcol, bcol [S] ints; fsize, bsize [S]; keep, busy [S] */
    size_t scratch = (size_t)S * (3 * sizeof(int) + 2 * sizeof(size_t) + 2);
    void *plan = malloc(scratch ? scratch : 1);
    if (!plan) return dp_fail(e, DP_ENOMEM, "out of memory (workspace plan)");
    size_t *fsize = plan, *bsize = fsize + S;
    int *last_reader = (int *)(bsize + S), *fcol = last_reader + S, *bcol = fcol + S;
    unsigned char *keep = (unsigned char *)(bcol + S), *busy = keep + S;
    find_last_readers(n, last_reader);
    kept_slots(n, last_reader, keep);
    int nf, nb, *grad_start = NULL;
    size_t ptrs = (size_t)S * 2 + (size_t)O * 2;
    size_t floats = 0, ints = 0, col = 0;
    /* grad_start goes into the block: plan into a temporary first */
    int *gs_tmp = malloc((size_t)(S ? S : 1) * sizeof(int));
    if (!gs_tmp) {
        free(plan);
        return dp_fail(e, DP_ENOMEM, "out of memory (workspace plan)");
    }
    plan_slots(n, keep, last_reader, fcol, fsize, &nf, bcol, bsize, &nb, gs_tmp, busy);
    for (int s = 0; s < S; s++)
        if (keep[s]) floats += align16((size_t)max_batch * n->slot_size[s]);
    for (int c = 0; c < nf; c++) floats += align16((size_t)max_batch * fsize[c]);
    for (int c = 0; c < nb; c++) floats += align16((size_t)max_batch * bsize[c]);
    for (int i = 0; i < O; i++) {
        const net_op *op = &n->ops[i];
        floats += align16(op_aux_floats(op, max_batch));
        ints += align16(op_iaux_ints(op, max_batch));
        if (op->kind == OP_CONV) {
            size_t c = conv_workspace_size(&op->conv, max_batch);
            if (c > col) col = c;
        }
    }
    floats += align16(col) + align16((size_t)max_batch * n->classes);
    size_t bytes = ptrs * sizeof(void *) + align16((size_t)S) * sizeof(int) + 64 + floats * sizeof(float) +
                   ints * sizeof(int32_t);
    ws->block = calloc(1, bytes);
    if (!ws->block) {
        free(plan);
        free(gs_tmp);
        return dp_fail(e, DP_ENOMEM, "out of memory: the model workspace for batch %d needs %.1f MiB",
                       max_batch, bytes / 1048576.0);
    }
    ws->bytes = bytes;
    void **pp = ws->block;
    ws->act = (float **)pp;
    ws->dact = (float **)pp + S;
    ws->aux = (float **)pp + 2 * S;
    ws->iaux = (int32_t **)(pp + 2 * S + O);
    grad_start = (int *)(pp + ptrs);
    memcpy(grad_start, gs_tmp, (size_t)S * sizeof(int));
    ws->grad_start = grad_start;
    uintptr_t base = (uintptr_t)(grad_start + align16((size_t)S));
    float *f = (float *)((base + 63) & ~(uintptr_t)63);
    float *fpool[S > 0 ? S : 1], *bpool[S > 0 ? S : 1];
    for (int c = 0; c < nf; c++) fpool[c] = f, f += align16((size_t)max_batch * fsize[c]);
    for (int c = 0; c < nb; c++) bpool[c] = f, f += align16((size_t)max_batch * bsize[c]);
    for (int s = 0; s < S; s++) {
        if (keep[s]) ws->act[s] = f, f += align16((size_t)max_batch * n->slot_size[s]);
        else ws->act[s] = fcol[s] >= 0 ? fpool[fcol[s]] : NULL;
        ws->dact[s] = bcol[s] >= 0 ? bpool[bcol[s]] : NULL;
    }
    for (int i = 0; i < O; i++) {
        size_t sz = align16(op_aux_floats(&n->ops[i], max_batch));
        ws->aux[i] = sz ? f : NULL;
        f += sz;
    }
    ws->col = f, f += align16(col);
    ws->probs = f, f += align16((size_t)max_batch * n->classes);
    int32_t *ip = (int32_t *)f;
    for (int i = 0; i < O; i++) {
        size_t sz = align16(op_iaux_ints(&n->ops[i], max_batch));
        ws->iaux[i] = sz ? ip : NULL;
        ip += sz;
    }
    free(plan);
    free(gs_tmp);
    return 0;
}

size_t net_kept_bytes(const net_t *n, int B) {
    const int S = n->n_slots;
    int *last_reader = calloc((size_t)(S ? S : 1), sizeof(int));
    unsigned char *keep = calloc((size_t)(S ? S : 1), 1);
    size_t bytes = 0;
    if (!last_reader || !keep) { /* only a report: 0 means unknown */
        free(last_reader);
        free(keep);
        return 0;
    }
    find_last_readers(n, last_reader);
    kept_slots(n, last_reader, keep);
    for (int s = 0; s < S; s++)
        if (keep[s]) bytes += (size_t)B * n->slot_size[s] * sizeof(float);
    for (int i = 0; i < n->n_ops; i++)
        bytes += op_aux_floats(&n->ops[i], B) * sizeof(float) + op_iaux_ints(&n->ops[i], B) * sizeof(int32_t);
    free(last_reader);
    free(keep);
    return bytes;
}

void net_ws_free(net_ws *ws) {
    free(ws->block);
    memset(ws, 0, sizeof *ws);
}

float *net_input(net_ws *ws) { return ws->act[0]; }

const float *net_logits(const net_t *n, const net_ws *ws) { return ws->act[n->ops[n->n_ops - 1].out]; }

/* ---- forward / backward --------------------------------------------------- */

static const float *tparam(const net_t *n, const float *params, int t) {
    return t < 0 ? NULL : params + n->tensors[t].offset;
}

static float *tgrad(const net_t *n, float *grads, int t) {
    return t < 0 ? NULL : grads + n->tensors[t].offset;
}

/* Op i of the forward pass. relu_out: a BN or add whose ReLU (the next op)
 * is fused into it writes relu(result) there, and not its own output. */
static void forward_op(const net_t *n, net_ws *ws, int i, const float *params, float *buffers,
                       int B, int train, rng_t *rng, float *relu_out) {
    const net_op *op = &n->ops[i];
    const float *in = ws->act[op->in];
    float *out = relu_out ? relu_out : ws->act[op->out];
    size_t count = (size_t)B * n->slot_size[op->out];
    int HW = op->H * op->W;
    switch (op->kind) {
    case OP_CONV:
        conv2d_forward(out, in, tparam(n, params, op->w), tparam(n, params, op->b), B,
                       &op->conv, ws->col);
        break;
    case OP_BN: {
        const float *g = tparam(n, params, op->w), *bb = tparam(n, params, op->b);
        float *rm = buffers + n->tensors[op->rmean].offset;
        float *rv = buffers + n->tensors[op->rvar].offset;
        if (train) {
            float *mean = ws->aux[i], *invstd = mean + op->C;
            (relu_out ? batchnorm_relu_forward_train : batchnorm_forward_train)(
                out, mean, invstd, in, g, bb, rm, rv, B, op->C, HW, n->bn_momentum, n->bn_eps);
        } else {
            (relu_out ? batchnorm_relu_forward_eval : batchnorm_forward_eval)(
                out, in, g, bb, rm, rv, B, op->C, HW, n->bn_eps);
        }
        break;
    }
    case OP_RELU: relu_forward(out, in, count); break;
    case OP_MAXPOOL:
        maxpool_forward(out, ws->iaux[i], in, B, op->C, op->H, op->W, op->k, op->stride,
                        op->pad);
        break;
    case OP_GAP: avgpool_global_forward(out, in, B, op->C, HW); break;
    case OP_LINEAR:
        linear_forward(out, in, tparam(n, params, op->w), tparam(n, params, op->b), B, op->C,
                       op->OC);
        break;
    case OP_ADD: (relu_out ? add_relu_forward : add_forward)(out, in, ws->act[op->in2], count); break;
    case OP_DROPOUT:
        if (train)
            dropout_forward(out, ws->aux[i], in, count, op->p, rng);
        else
            memcpy(out, in, count * sizeof *out);
        break;
    case OP_SHORTCUT_PAD:
        shortcut_pad_forward(out, in, B, op->C, op->H, op->W, op->OC, op->pad, op->stride);
        break;
    case OP_AVGPOOL: avgpool_forward(out, in, B, op->C, op->H, op->W, op->k, op->stride); break;
    }
}

/* Eval mode, op i a conv with bn_next: the conv, the BN and the BN's fused
 * ReLU (and the ReLU's fused maxpool, when the kernels take it) in one pass,
 * into the output of the last of them. Returns how many ops it ran. */
static int forward_conv_bn_eval(const net_t *n, net_ws *ws, int i, const float *params,
                                float *buffers, int B) {
    const net_op *op = &n->ops[i], *bn = &n->ops[i + 1];
    const int relu = bn->relu_next;
    const float *w = tparam(n, params, op->w), *g = tparam(n, params, bn->w);
    const float *beta = tparam(n, params, bn->b), *rm = buffers + n->tensors[bn->rmean].offset;
    const float *rv = buffers + n->tensors[bn->rvar].offset;
    if (relu && n->ops[i + 2].pool_next && op->b < 0 &&
        conv2d_batchnorm_pool_forward_eval(ws->act[n->ops[i + 3].out], ws->act[op->in], w, B,
                                           &op->conv, g, beta, rm, rv, n->bn_eps, 1) == 0)
        return 4;
    conv2d_batchnorm_forward_eval(ws->act[n->ops[i + 1 + relu].out], ws->act[op->in], w,
                                  tparam(n, params, op->b), B, &op->conv, ws->col, g, beta, rm, rv,
                                  n->bn_eps, relu);
    return 2 + relu;
}

float net_forward(const net_t *n, net_ws *ws, const float *params, float *buffers,
                  const int32_t *labels, int B, int mode, rng_t *rng, int *correct) {
    const int train = mode == NET_TRAIN;
    ws->last_train = train;
    ws->backward_ready = mode != NET_EVAL;
    ws->last_buffers = buffers;
    for (int i = 0; i < n->n_ops; i++) {
        if (mode == NET_EVAL && n->ops[i].bn_next) {
            i += forward_conv_bn_eval(n, ws, i, params, buffers, B) - 1;
            continue;
        }
        const int fuse = n->ops[i].relu_next;
        forward_op(n, ws, i, params, buffers, B, train, rng, fuse ? ws->act[n->ops[i + 1].out] : NULL);
        i += fuse; /* the ReLU is done */
    }
    const float *logits = ws->act[n->ops[n->n_ops - 1].out];
    return softmax_xent_forward(ws->probs, logits, labels, B, n->classes, n->label_smoothing,
                                correct);
}

/* Each output is checked right after its op, while it is still in its buffer
 * (later ops may reuse it, see net_ws). */
int net_first_nonfinite_op(const net_t *n, net_ws *ws, const float *params, float *buffers,
                           int B, int mode, rng_t *rng) {
    for (int i = 0; i < n->n_ops; i++) {
        forward_op(n, ws, i, params, buffers, B, mode == NET_TRAIN, rng, NULL);
        const float *out = ws->act[n->ops[i].out];
        size_t count = (size_t)B * n->slot_size[n->ops[i].out];
        for (size_t k = 0; k < count; k++)
            if (!isfinite(out[k])) return i;
    }
    return -1;
}

/* Ops whose backward can write every element of its input's gradient
 * (maxpool's by zeroing each plane just before it scatters into it). */
static int writes_whole_input_grad(int kind) {
    return kind == OP_BN || kind == OP_RELU || kind == OP_ADD || kind == OP_CONV ||
           kind == OP_MAXPOOL;
}

void net_backward(const net_t *n, net_ws *ws, const float *params, float *grads,
                  const int32_t *labels, int B) {
    /* Layers accumulate into input gradients (a slot may feed two ops), so
     * each slot gradient starts at zero when it comes alive (its buffer is
     * shared, see net_ws). Slot 0 is the input: no gradient. */
    assert(ws->backward_ready && "net_backward after a NET_EVAL forward");
    const int S = n->n_slots;
    int last = n->ops[n->n_ops - 1].out;
    softmax_xent_backward(ws->dact[last], ws->probs, labels, B, n->classes, n->label_smoothing);
    for (int i = n->n_ops - 1; i >= 0; i--) {
        const net_op *op = &n->ops[i];
        /* A BN and the ReLU it fuses run backward as one op (at the BN): the
         * ReLU's step is skipped, and the BN's output has no gradient. */
        const int bn_relu = op->kind == OP_BN && op->relu_next;
        if (relu_fused_into_bn(n, i)) continue; /* no gradient starts here: see plan_slots */
        /* A gradient starts at zero when it comes alive; an op that writes all
         * of its input's gradient writes it "fresh" instead (0 + value, the
         * same bits: layers.h), which saves the zeroing pass and a read. */
        int fresh = 0, fresh2 = 0;
        for (int s = 1; s < S; s++) {
            if (ws->grad_start[s] != i) continue;
            if (s == op->in && writes_whole_input_grad(op->kind))
                fresh = 1;
            else if (op->kind == OP_ADD && s == op->in2 && op->in2 != op->in)
                fresh2 = 1;
            else
                zero_fill(ws->dact[s], (size_t)B * n->slot_size[s]);
        }
        const float *in = ws->act[op->in];
        float *din = op->in == 0 ? NULL : ws->dact[op->in];
        const float *dout = ws->dact[op->out];
        size_t count = (size_t)B * n->slot_size[op->out];
        int HW = op->H * op->W;
        switch (op->kind) {
        case OP_CONV:
            conv2d_backward(din, tgrad(n, grads, op->w), tgrad(n, grads, op->b), dout, in,
                            tparam(n, params, op->w), B, &op->conv, ws->col, fresh);
            break;
        case OP_BN: {
            /* fused: the ReLU's output gradient and output, masked inside the BN backward */
            const float *g = bn_relu ? ws->dact[n->ops[i + 1].out] : dout;
            const float *y = bn_relu ? ws->act[n->ops[i + 1].out] : NULL;
            if (!ws->last_train) {
                const float *bufs = ws->last_buffers, *rm = bufs + n->tensors[op->rmean].offset;
                const float *rv = bufs + n->tensors[op->rvar].offset;
                if (bn_relu)
                    batchnorm_relu_backward_eval(din, tgrad(n, grads, op->w), tgrad(n, grads, op->b), g,
                                                 y, in, tparam(n, params, op->w), rm, rv, B, op->C,
                                                 HW, n->bn_eps, fresh);
                else
                    batchnorm_backward_eval(din, tgrad(n, grads, op->w), tgrad(n, grads, op->b), g,
                                            in, tparam(n, params, op->w), rm, rv, B, op->C, HW,
                                            n->bn_eps, fresh);
                break;
            }
            const float *mean = ws->aux[i], *invstd = mean + op->C;
            if (bn_relu)
                batchnorm_relu_backward(din, tgrad(n, grads, op->w), tgrad(n, grads, op->b), g, y,
                                        in, mean, invstd, tparam(n, params, op->w), B, op->C, HW,
                                        fresh);
            else
                batchnorm_backward(din, tgrad(n, grads, op->w), tgrad(n, grads, op->b), g, in,
                                   mean, invstd, tparam(n, params, op->w), B, op->C, HW, fresh);
            break;
        }
        case OP_RELU:
            if (din) relu_backward(din, dout, ws->act[op->out], count, fresh);
            break;
        case OP_MAXPOOL:
            if (din) maxpool_backward(din, dout, ws->iaux[i], B, op->C, op->H, op->W, op->OH, op->OW, fresh);
            break;
        case OP_GAP:
            if (din) avgpool_global_backward(din, dout, B, op->C, HW);
            break;
        case OP_LINEAR:
            linear_backward(din, tgrad(n, grads, op->w), tgrad(n, grads, op->b), dout, in,
                            tparam(n, params, op->w), B, op->C, op->OC);
            break;
        case OP_ADD:
            if (din) (fresh ? accumulate_fresh : accumulate)(din, dout, count);
            if (op->in2 != 0) (fresh2 ? accumulate_fresh : accumulate)(ws->dact[op->in2], dout, count);
            break;
        case OP_DROPOUT:
            if (din && ws->last_train)
                dropout_backward(din, dout, ws->aux[i], count);
            else if (din)
                accumulate(din, dout, count);
            break;
        case OP_SHORTCUT_PAD:
            if (din)
                shortcut_pad_backward(din, dout, B, op->C, op->H, op->W, op->OC, op->pad, op->stride);
            break;
        case OP_AVGPOOL:
            if (din) avgpool_backward(din, dout, B, op->C, op->H, op->W, op->k, op->stride);
            break;
        }
    }
}
