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
} net_builder;

/* A new activation slot of per_sample floats (the input is slot 0). */
int nb_slot(net_builder *b, size_t per_sample);
/* conv k x k (name: the layer, e.g. "layer1.0.conv1"), optionally with bias. */
int nb_conv(net_builder *b, const char *name, int x, int *c, int *h, int *w, int oc, int k,
            int stride, int pad, int bias);
int nb_batchnorm(net_builder *b, const char *name, int x, int c, int h, int w);
int nb_relu(net_builder *b, int x, int c, int h, int w);
int nb_maxpool(net_builder *b, int x, int c, int *h, int *w, int k, int stride);
int nb_gap(net_builder *b, int x, int c, int *h, int *w);
int nb_linear(net_builder *b, const char *name, int x, int in, int out);
/* Nothing (returns x) when p <= 0. */
int nb_dropout(net_builder *b, int x, int size, float p);
/* x + y, both of shape (c, h, w). */
int nb_add(net_builder *b, int x, int y, int c, int h, int w);
/* ResNet option-A shortcut: subsample by `stride`, zero-pad channels to oc. */
int nb_shortcut_pad(net_builder *b, int x, int c, int h, int w, int oc, int stride);

/* After the last layer: lays out the flat parameter and buffer vectors
 * (decayed weights first) and marks the ops that run fused. */
void net_finish(net_t *n);

#endif
