/* model.h - what a model is made of (model_cfg) and building it from the
 * model table (nn/models.h): the network core never sees the YAML spec;
 * io/spec_map.h turns a spec's `model` section into a model_cfg. */
#ifndef DPPF_MODEL_H
#define DPPF_MODEL_H

#include "error.h"
#include "models.h"
#include "net.h"

#define MODEL_MAX_LIST 16

typedef struct {
    int arch;                  /* MODEL_* (nn/models.h) */
    int in_c, in_h, in_w;      /* input image shape */
    int classes;
    int n_hidden;              /* mlp: hidden layer sizes */
    int hidden[MODEL_MAX_LIST];
    int n_widths;              /* cnn: conv channels per conv-bn-relu-pool stage */
    int widths[MODEL_MAX_LIST];
    int fc;                    /* cnn: hidden fully-connected size, 0 = none */
    int batchnorm;             /* cnn/mlp: BN after each conv/hidden layer */
    int base_width;            /* resnet: channels of the first stage */
    float dropout;             /* before the classifier */
    float bn_momentum, bn_eps; /* BatchNorm (PyTorch conventions) */
    float label_smoothing;     /* of the cross-entropy loss */
} model_cfg;

/* The MODEL_* of a name as the spec spells it, or -1. */
int model_find(const char *name);

/* Builds the model: its ops, tensor table (PyTorch state_dict names) and the
 * layout of the flat parameter and buffer vectors. DP_EUSAGE naming the
 * model key when the configuration cannot be built (e.g. a ResNet on images
 * smaller than 8x8), DP_ENOMEM. */
int net_build(net_t *n, const model_cfg *m, dp_err *e);

/* The builders the model table (nn/models.h) names; `arg` is the row's
 * constant (the depth of a ResNet-6n+2). Each appends the whole network to
 * slot `x` (the input), classifier included. */
struct net_builder_s;
int model_build_mlp(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_cnn(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_resnet(struct net_builder_s *b, const model_cfg *m, int x, int arg);

#endif
