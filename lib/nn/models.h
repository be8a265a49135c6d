/* models.h - the list of model architectures, one row each: a header of
 * names only, so that the spec (io/spec.c) takes its list of valid names
 * from here. model.h says what a builder does.
 *
 * Adding a model: write nn/model_<family>.c with a builder
 *   int model_build_<family>(net_builder *b, const model_cfg *m, int x, int arg)
 * (it appends layers with the nn/net_build.h helpers, naming tensors as the
 * PyTorch reference model does) and add its row:
 *   X(MODEL_ID, "name-in-the-spec", model_build_<family>, arg, width)
 * arg: the row's constant for the builder (a depth); width: the standard
 * model.base_width of the architecture (what model.base_width: 0 means). */
#ifndef DPPF_MODELS_H
#define DPPF_MODELS_H

#include "xmacro.h"

#define DPPF_MODELS(X)                                                  \
    X(MODEL_MLP, "mlp", model_build_mlp, 0, 0)                          \
    X(MODEL_CNN, "cnn", model_build_cnn, 0, 0)                          \
    X(MODEL_RESNET8, "resnet8", model_build_resnet, 8, 16)              \
    X(MODEL_RESNET14, "resnet14", model_build_resnet, 14, 16)           \
    X(MODEL_RESNET20, "resnet20", model_build_resnet, 20, 16)           \
    X(MODEL_RESNET32, "resnet32", model_build_resnet, 32, 16)           \
    X(MODEL_RESNET56, "resnet56", model_build_resnet, 56, 16)           \
    X(MODEL_RESNET110, "resnet110", model_build_resnet, 110, 16)        \
    X(MODEL_PRERESNET8, "preresnet8", model_build_preresnet, 8, 16)     \
    X(MODEL_PRERESNET14, "preresnet14", model_build_preresnet, 14, 16)  \
    X(MODEL_PRERESNET20, "preresnet20", model_build_preresnet, 20, 16)  \
    X(MODEL_PRERESNET32, "preresnet32", model_build_preresnet, 32, 16)  \
    X(MODEL_PRERESNET56, "preresnet56", model_build_preresnet, 56, 16)  \
    X(MODEL_PRERESNET110, "preresnet110", model_build_preresnet, 110, 16) \
    X(MODEL_RESNET18, "resnet18", model_build_resnet4, 18, 64)          \
    X(MODEL_RESNET34, "resnet34", model_build_resnet4, 34, 64)          \
    X(MODEL_PYRAMIDNET, "pyramidnet", model_build_pyramidnet, 110, 16)  \
    X(MODEL_WRN, "wrn", model_build_wrn, 28, 16)                        \
    X(MODEL_VGG16, "vgg16", model_build_vgg, 16, 64)

typedef enum { DPPF_MODELS(DPPF_X_ENUM) MODEL_COUNT } model_id;

/* model.block: the residual block of a PyramidNet. */
typedef enum { BLOCK_BASIC, BLOCK_BOTTLENECK, BLOCK_COUNT } model_block;
#define MODEL_BLOCK_NAMES {"basic", "bottleneck"}

/* The architecture's name as the spec spells it ("?" when out of range). */
const char *model_name(int id);

#endif
