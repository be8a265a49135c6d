/* net_build.c - appending layers to a model under construction (net_build.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_build.h"

static int grow(void **p, int *cap, int need, size_t elem, net_builder *b) {
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap * 2 : 32;
    while (ncap < need) ncap *= 2;
    void *q = realloc(*p, (size_t)ncap * elem);
    if (!q) {
        b->failed = dp_fail(b->e, DP_ENOMEM, "out of memory building the model");
        return -1;
    }
    *p = q;
    *cap = ncap;
    return 0;
}

const char *nb_name(net_builder *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->name, sizeof b->name, fmt, ap);
    va_end(ap);
    return b->name;
}

int nb_slot(net_builder *b, size_t per_sample) {
    net_t *n = b->n;
    if (b->failed || grow((void **)&n->slot_size, &n->cap_slots, n->n_slots + 1, sizeof(size_t), b))
        return 0;
    n->slot_size[n->n_slots] = per_sample;
    return n->n_slots++;
}

static int add_tensor(net_builder *b, const char *name, int is_buffer, int decay, int ndim,
                      const int *shape, int fan_in, float init_value) {
    net_t *n = b->n;
    if (b->failed ||
        grow((void **)&n->tensors, &n->cap_tensors, n->n_tensors + 1, sizeof(net_tensor), b))
        return -1;
    net_tensor *t = &n->tensors[n->n_tensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->is_buffer = is_buffer;
    t->decay = decay;
    t->ndim = ndim;
    t->size = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->size *= (size_t)shape[i];
    }
    t->fan_in = fan_in;
    t->init_value = init_value;
    return n->n_tensors++;
}

static net_op *add_op(net_builder *b, net_op_kind kind, int in, int C, int H, int W) {
    net_t *n = b->n;
    if (b->failed || grow((void **)&n->ops, &n->cap_ops, n->n_ops + 1, sizeof(net_op), b))
        return NULL;
    net_op *op = &n->ops[n->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->in = in;
    op->in2 = -1;
    op->C = C, op->H = H, op->W = W;
    op->OC = C, op->OH = H, op->OW = W;
    op->w = op->b = op->rmean = op->rvar = -1;
    return op;
}

/* "<layer>.<field>" into a tensor-name buffer (names are short; truncation is harmless). */
static void tensor_name(char *dst, size_t len, const char *layer, const char *field) {
    size_t a = strlen(layer), b = strlen(field);
    if (a > len - 2) a = len - 2;
    if (b > len - 2 - a) b = len - 2 - a;
    memcpy(dst, layer, a);
    dst[a] = '.';
    memcpy(dst + a + 1, field, b);
    dst[a + 1 + b] = 0;
}

/* Each helper below appends one layer reading slot `x` of shape (*c,*h,*w),
 * updates the shape and returns the output slot. */

int nb_conv(net_builder *b, const char *name, int x, int *c, int *h, int *w, int oc, int k,
                int stride, int pad, int bias) {
    net_op *op = add_op(b, OP_CONV, x, *c, *h, *w);
    if (!op) return 0;
    op->conv = conv_shape_make(*c, *h, *w, oc, k, stride, pad);
    char tn[64];
    int fan_in = *c * k * k;
    tensor_name(tn, sizeof tn, name, "weight");
    op->w = add_tensor(b, tn, 0, 1, 4, (int[]){oc, *c, k, k}, fan_in, 0);
    if (bias) {
        tensor_name(tn, sizeof tn, name, "bias");
        op->b = add_tensor(b, tn, 0, 0, 1, (int[]){oc}, fan_in, 0);
    }
    *c = oc, *h = op->conv.OH, *w = op->conv.OW;
    op->OC = *c, op->OH = *h, op->OW = *w;
    return op->out = nb_slot(b, (size_t)*c * *h * *w);
}

int nb_batchnorm(net_builder *b, const char *name, int x, int c, int h, int w) {
    net_op *op = add_op(b, OP_BN, x, c, h, w);
    if (!op) return 0;
    char tn[64];
    tensor_name(tn, sizeof tn, name, "weight");
    op->w = add_tensor(b, tn, 0, 0, 1, (int[]){c}, 0, 1.0f);
    tensor_name(tn, sizeof tn, name, "bias");
    op->b = add_tensor(b, tn, 0, 0, 1, (int[]){c}, 0, 0.0f);
    tensor_name(tn, sizeof tn, name, "running_mean");
    op->rmean = add_tensor(b, tn, 1, 0, 1, (int[]){c}, 0, 0.0f);
    tensor_name(tn, sizeof tn, name, "running_var");
    op->rvar = add_tensor(b, tn, 1, 0, 1, (int[]){c}, 0, 1.0f);
    return op->out = nb_slot(b, (size_t)c * h * w);
}

int nb_relu(net_builder *b, int x, int c, int h, int w) {
    net_op *op = add_op(b, OP_RELU, x, c, h, w);
    if (!op) return 0;
    return op->out = nb_slot(b, (size_t)c * h * w);
}

int nb_bn_relu(net_builder *b, const char *name, int x, int c, int h, int w) {
    return nb_relu(b, nb_batchnorm(b, name, x, c, h, w), c, h, w);
}

int nb_avgpool(net_builder *b, int x, int c, int *h, int *w, int k, int stride) {
    net_op *op = add_op(b, OP_AVGPOOL, x, c, *h, *w);
    if (!op) return 0;
    op->k = k, op->stride = stride;
    *h = avgpool_out_size(*h, k, stride);
    *w = avgpool_out_size(*w, k, stride);
    op->OH = *h, op->OW = *w;
    return op->out = nb_slot(b, (size_t)c * *h * *w);
}

int nb_maxpool(net_builder *b, int x, int c, int *h, int *w, int k, int stride) {
    net_op *op = add_op(b, OP_MAXPOOL, x, c, *h, *w);
    if (!op) return 0;
    op->k = k, op->stride = stride, op->pad = 0;
    *h = pool_out_size(*h, k, stride, 0);
    *w = pool_out_size(*w, k, stride, 0);
    op->OH = *h, op->OW = *w;
    return op->out = nb_slot(b, (size_t)c * *h * *w);
}

int nb_gap(net_builder *b, int x, int c, int *h, int *w) {
    net_op *op = add_op(b, OP_GAP, x, c, *h, *w);
    if (!op) return 0;
    *h = *w = 1;
    op->OH = op->OW = 1;
    return op->out = nb_slot(b, (size_t)c);
}

int nb_linear(net_builder *b, const char *name, int x, int in, int out) {
    net_op *op = add_op(b, OP_LINEAR, x, in, 1, 1);
    if (!op) return 0;
    char tn[64];
    tensor_name(tn, sizeof tn, name, "weight");
    op->w = add_tensor(b, tn, 0, 1, 2, (int[]){out, in}, in, 0);
    tensor_name(tn, sizeof tn, name, "bias");
    op->b = add_tensor(b, tn, 0, 0, 1, (int[]){out}, in, 0);
    op->OC = out;
    return op->out = nb_slot(b, (size_t)out);
}

int nb_dropout(net_builder *b, int x, int size, float p) {
    if (p <= 0) return x;
    net_op *op = add_op(b, OP_DROPOUT, x, size, 1, 1);
    if (!op) return 0;
    op->p = p;
    return op->out = nb_slot(b, (size_t)size);
}

int nb_gap_linear(net_builder *b, const char *name, int x, int c, int h, int w, float dropout,
                  int classes) {
    x = nb_gap(b, x, c, &h, &w);
    x = nb_dropout(b, x, c, dropout);
    return nb_linear(b, name, x, c, classes);
}

int nb_add(net_builder *b, int x, int y, int c, int h, int w) {
    net_op *op = add_op(b, OP_ADD, x, c, h, w);
    if (!op) return 0;
    op->in2 = y;
    return op->out = nb_slot(b, (size_t)c * h * w);
}

static int pad_channels(net_builder *b, int x, int c, int h, int w, int oc, int front, int stride) {
    net_op *op = add_op(b, OP_SHORTCUT_PAD, x, c, h, w);
    if (!op) return 0;
    op->stride = stride;
    op->pad = front;
    op->OC = oc;
    op->OH = (h + stride - 1) / stride;
    op->OW = (w + stride - 1) / stride;
    return op->out = nb_slot(b, (size_t)oc * op->OH * op->OW);
}

int nb_shortcut_pad(net_builder *b, int x, int c, int h, int w, int oc, int stride) {
    return pad_channels(b, x, c, h, w, oc, (oc - c) / 2, stride);
}

int nb_channel_pad(net_builder *b, int x, int c, int h, int w, int oc) {
    return pad_channels(b, x, c, h, w, oc, 0, 1);
}
