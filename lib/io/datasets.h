/* datasets.h - the list of datasets the spec can name, one row each (a
 * header of names only, for io/spec.c). io/dataset.c has a row of facts
 * (shape, classes, default folder, normalisation, loader) for each. */
#ifndef DPPF_DATASETS_H
#define DPPF_DATASETS_H

#include "xmacro.h"

#define DPPF_DATASETS(X)                          \
    X(DATA_FASHION_MNIST, "fashion-mnist")        \
    X(DATA_MNIST, "mnist")                        \
    X(DATA_CIFAR10, "cifar10")                    \
    X(DATA_CIFAR100, "cifar100")                  \
    X(DATA_SYNTHETIC, "synthetic")

typedef enum { DPPF_DATASETS(DPPF_X_ENUM) DATA_COUNT } dataset_id;

/* data.subset: which samples a subset keeps. */
typedef enum { SUBSET_FIRST, SUBSET_RANDOM, SUBSET_COUNT } subset_kind;
#define SUBSET_NAMES {"first", "random"}

/* data.label: which CIFAR-100 label a sample carries (100 fine classes or
 * 20 coarse superclasses). */
typedef enum { LABEL_FINE, LABEL_COARSE, LABEL_COUNT } label_kind;
#define LABEL_NAMES {"fine", "coarse"}

const char *dataset_name(int id);

#endif
