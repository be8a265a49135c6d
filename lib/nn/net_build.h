/* net_build.h - appending layers to a model under construction: what the
 * model builders (nn/model_*.c) use. Each helper appends one layer reading
 * activation slot `x` of shape (c, h, w) per sample, updates the shape it is
 * given by pointer, and returns the layer's output slot. A failure (out of
 * memory) is recorded in the builder; later calls do nothing, and the
 * builder's caller returns b->failed. Tensor names are PyTorch state_dict
 * names ("<layer>.weight"), so a model's tensors match its torch twin. */
#ifndef DPPF_NET_BUILD_H
#define DPPF_NET_BUILD_H

#include "net.h"

typedef struct net_builder_s {
    net_t *n;
    dp_err *e;
    int failed; /* the first error code, 0 while all is well */
    char name[64]; /* nb_name's buffer */
} net_builder;

/* A layer name from a format ("layer%d.%d.conv1"), in the builder's buffer:
 * valid until the next call, which is long enough to pass it to a helper. */
const char *nb_name(net_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new activation slot of per_sample floats (the input is slot 0). */
int nb_slot(net_builder *b, size_t per_sample);
/* conv k x k (name: the layer, e.g. "layer1.0.conv1"), optionally with bias. */
int nb_conv(net_builder *b, const char *name, int x, int *c, int *h, int *w, int oc, int k,
            int stride, int pad, int bias);
int nb_batchnorm(net_builder *b, const char *name, int x, int c, int h, int w);
int nb_relu(net_builder *b, int x, int c, int h, int w);
/* BN then ReLU (pre-activation, or a conv's BN-ReLU). */
int nb_bn_relu(net_builder *b, const char *name, int x, int c, int h, int w);
int nb_maxpool(net_builder *b, int x, int c, int *h, int *w, int k, int stride);
/* k x k average pool, ceil mode (torch AvgPool2d(k, stride, ceil_mode=True)). */
int nb_avgpool(net_builder *b, int x, int c, int *h, int *w, int k, int stride);
int nb_gap(net_builder *b, int x, int c, int *h, int *w);
int nb_linear(net_builder *b, const char *name, int x, int in, int out);
/* Nothing (returns x) when p <= 0. */
int nb_dropout(net_builder *b, int x, int size, float p);
/* The head of the residual networks: global average pool, dropout (when
 * p > 0), the linear classifier `name`; returns the logits' slot. */
int nb_gap_linear(net_builder *b, const char *name, int x, int c, int h, int w, float dropout,
                  int classes);
/* x + y, both of shape (c, h, w). */
int nb_add(net_builder *b, int x, int y, int c, int h, int w);
/* ResNet option-A shortcut: subsample by `stride`, zero-pad channels to oc
 * (half of the new ones in front). */
int nb_shortcut_pad(net_builder *b, int x, int c, int h, int w, int oc, int stride);
/* Zero channels appended up to oc (PyramidNet's shortcut). */
int nb_channel_pad(net_builder *b, int x, int c, int h, int w, int oc);

/* After the last layer: lays out the flat parameter and buffer vectors
 * (decayed weights first) and marks the ops that run fused. */
void net_finish(net_t *n);

#endif
