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
    int base_width;            /* resnet, wrn, pyramidnet, vgg: channels of the first stage
                                  (wrn, pyramidnet: of the stem); 0 = the architecture's */
    int depth;                 /* wrn, pyramidnet: layers; 0 = the architecture's */
    int widen;                 /* wrn: widening factor k */
    int alpha;                 /* pyramidnet: channels added over the three stages */
    int block;                 /* pyramidnet: BLOCK_BASIC | BLOCK_BOTTLENECK */
    float block_dropout;       /* wrn: dropout between the two convolutions of a block */
    float dropout;             /* before the classifier */
    float bn_momentum, bn_eps; /* BatchNorm (PyTorch conventions) */
    float label_smoothing;     /* of the cross-entropy loss */
} model_cfg;

/* The MODEL_* of a name as the spec spells it, or -1. */
int model_find(const char *name);

/* The architecture's standard values for the options left at 0: base_width
 * (the table's width), depth (the table's arg: the depth of the row's model,
 * and the default depth of wrn and pyramidnet). net_build does this itself;
 * the export metadata uses it to name the model it built. */
void model_cfg_resolve(model_cfg *m);

/* Builds the model: its ops, tensor table (PyTorch state_dict names) and the
 * layout of the flat parameter and buffer vectors. DP_EUSAGE naming the
 * model key when the configuration cannot be built (e.g. a ResNet on images
 * smaller than 8x8), DP_ENOMEM. */
int net_build(net_t *n, const model_cfg *m, dp_err *e);

/* The builders the model table (nn/models.h) names; `arg` is the row's
 * constant (the depth of a ResNet). Each appends the whole network to slot
 * `x` (the input), classifier included, and gets a resolved model_cfg. */
struct net_builder_s;
int model_build_mlp(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_cnn(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_resnet(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_preresnet(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_resnet4(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_pyramidnet(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_wrn(struct net_builder_s *b, const model_cfg *m, int x, int arg);
int model_build_vgg(struct net_builder_s *b, const model_cfg *m, int x, int arg);

#endif
