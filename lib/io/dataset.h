/* dataset.h - loading image classification datasets (nn/batch.h holds them).
 *
 * Formats: IDX (MNIST / Fashion-MNIST; plain or .gz through zlib), CIFAR-10
 * and CIFAR-100 binary files, and a seeded synthetic set that needs no files. */
#ifndef DPPF_DATASET_H
#define DPPF_DATASET_H

#include <stdint.h>

#include "error.h"
#include "batch.h"
#include "datasets.h"
#include "spec.h"

/* Loads train and test sets as the spec says (data.dataset, data.path or the
 * dataset's default folder, subsets). Missing or corrupt files give DP_EIO
 * with the path and what is wrong. */
int dataset_load(const spec_t *s, dataset_t *train, dataset_t *test, dp_err *e);

/* The DATA_* of a name as the spec spells it, or -1. */
int dataset_find(const char *name);
/* The folder used when data.path is empty ("" for synthetic or an unknown name). */
const char *dataset_default_path(const char *name);
/* Image shape and class count of the spec's dataset, without loading it (the
 * standard shape of a named dataset: a model built from it for files of another
 * shape has other sizes, which checkpoint checks catch). */
int dataset_shape(const spec_t *s, int *c, int *h, int *w, int *classes, dp_err *e);
/* Bytes the spec's train and test sets take in memory once loaded (before
 * subsets are taken); 0 when unknown. */
uint64_t dataset_bytes(const spec_t *s);

/* Individual readers (also used by tests and the datasets/ check tool). */
int idx_load(const char *images_path, const char *labels_path, dataset_t *d, dp_err *e);
int cifar10_load(const char *dir, int train, dataset_t *d, dp_err *e);
/* CIFAR-100 binary version: train.bin or test.bin, records of a coarse and a
 * fine label byte and 3x32x32 pixels; the coarse (20 classes) or fine (100)
 * labels. */
int cifar100_load(const char *dir, int train, int coarse, dataset_t *d, dp_err *e);
/* Learnable synthetic data: each class has a random prototype image, samples
 * are prototype + noise; fully determined by seed. */
int synthetic_make(dataset_t *train, dataset_t *test, int c, int h, int w, int classes,
                   int n_train, int n_test, uint64_t seed, dp_err *e);
/* Surrounds every image with `pad` rows and columns of 0 pixels (data.resize_pad);
 * normalised, a 0 pixel becomes -mean/std, the value crop padding uses too. */
int dataset_pad(dataset_t *d, int pad, dp_err *e);
/* Keep the first n samples, or a random n (seeded) when random != 0, in place. */
int dataset_subset(dataset_t *d, int n, int random, uint64_t seed, dp_err *e);

/* Fills batch_cfg from the spec: dataset default mean/std and flip policy
 * (flip off for MNIST/Fashion-MNIST, on for CIFAR) unless the spec sets them. */
void batch_cfg_from_spec(batch_cfg_t *bc, const spec_t *s, const dataset_t *train);

#endif
