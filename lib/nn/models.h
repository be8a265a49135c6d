/* models.h - the list of model architectures, one row each: a header of
 * names only, so that the spec (io/spec.c) takes its list of valid names
 * from here. model.h says what a builder does.
 *
 * Adding a model: write nn/model_<family>.c with a builder
 *   int model_build_<family>(net_builder *b, const model_cfg *m, int arg)
 * (it appends layers with the nn/net_build.h helpers, naming tensors as the
 * PyTorch reference model does) and add its row:
 *   X(MODEL_ID, "name-in-the-spec", model_build_<family>, arg) */
#ifndef DPPF_MODELS_H
#define DPPF_MODELS_H

#include "xmacro.h"

#define DPPF_MODELS(X)                                     \
    X(MODEL_MLP, "mlp", model_build_mlp, 0)                \
    X(MODEL_CNN, "cnn", model_build_cnn, 0)                \
    X(MODEL_RESNET8, "resnet8", model_build_resnet, 8)     \
    X(MODEL_RESNET14, "resnet14", model_build_resnet, 14)  \
    X(MODEL_RESNET20, "resnet20", model_build_resnet, 20)  \
    X(MODEL_RESNET32, "resnet32", model_build_resnet, 32)  \
    X(MODEL_RESNET56, "resnet56", model_build_resnet, 56)

typedef enum { DPPF_MODELS(DPPF_X_ENUM) MODEL_COUNT } model_id;

/* The architecture's name as the spec spells it ("?" when out of range). */
const char *model_name(int id);

#endif
