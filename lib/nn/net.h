/* net.h - a model as a flat list of layer operations over activation slots.
 *
 * The architecture (net_t) is immutable after net_build and shared by every
 * worker. Parameters live in ONE flat float buffer (gradients in another of
 * the same layout, BatchNorm running statistics in a third), described by a
 * tensor table with PyTorch state_dict names. Weight tensors that take weight
 * decay come first in the parameter buffer, so decay applies to a prefix.
 *
 * A workspace (net_ws) holds activations and their gradients for a maximum
 * batch size; it is allocated once, and in-process workers can share one. */
#ifndef DPPF_NET_H
#define DPPF_NET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "layers.h"
#include "rng.h"

typedef enum {
    OP_CONV,
    OP_BN,
    OP_RELU,
    OP_MAXPOOL,
    OP_GAP,
    OP_LINEAR,
    OP_ADD,
    OP_DROPOUT,
    OP_SHORTCUT_PAD, /* parameter-free shortcut: subsample by `stride`, zero channels around
                        the input's (`pad` of them in front) */
    OP_AVGPOOL,      /* k x k average pool, `stride`, ceil mode (PyramidNet's shortcut) */
} net_op_kind;

typedef struct {
    net_op_kind kind;
    int in, in2, out;    /* activation slots (in2: second input of OP_ADD) */
    int C, H, W;         /* input shape per sample */
    int OC, OH, OW;      /* output shape per sample */
    conv_shape conv;     /* OP_CONV */
    int k, stride, pad;  /* OP_MAXPOOL, OP_AVGPOOL; OP_SHORTCUT_PAD: stride and channels in front */
    float p;             /* OP_DROPOUT */
    int w, b;            /* tensor indices (-1 = none): weight/gamma, bias/beta */
    int rmean, rvar;     /* buffer tensor indices (OP_BN) */
    int relu_next;       /* OP_BN / OP_ADD whose output only the next op, a ReLU, reads:
                            net_forward runs the two in one pass and skips this output */
    int bn_next;         /* OP_CONV whose output only the next op, a BN, reads: in eval
                            mode net_forward applies the BN (and its fused ReLU) as the
                            convolution stores, and skips this output */
    int pool_next;       /* OP_RELU whose output only the next op, a 2x2 stride-2 unpadded
                            maxpool, reads: in eval mode a fused conv -> BN -> ReLU pools
                            as it stores too, and skips this output */
} net_op;

typedef struct {
    char name[64];       /* PyTorch state_dict name, e.g. layer1.0.conv1.weight */
    int is_buffer;       /* lives in the buffers vector, not the parameters */
    int decay;           /* takes weight decay (conv/linear weights) */
    int ndim;
    int shape[4];
    size_t size, offset; /* elements; offset into params or buffers */
    int fan_in;          /* for initialisation; 0 = constant init */
    float init_value;    /* constant init (BN gamma 1, beta 0, running var 1...) */
} net_tensor;

typedef struct {
    int in_c, in_h, in_w, classes;
    float bn_momentum, bn_eps, label_smoothing;
    int n_ops, cap_ops;
    net_op *ops;
    int n_tensors, cap_tensors;
    net_tensor *tensors;
    int n_slots, cap_slots;
    size_t *slot_size;   /* floats per sample */
    size_t n_params, n_params_decay, n_buffers;
    char arch[32];       /* the model table's name (nn/models.h) */
} net_t;

/* Built by net_build (nn/model.h). */
void net_free(net_t *n);

/* PyTorch-like initialisation from the seed: conv and linear weights
 * Kaiming-normal (std = sqrt(2 / fan_in)), biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * BN gamma 1 / beta 0, running mean 0 / var 1. */
void net_init(const net_t *n, float *params, float *buffers, uint64_t seed);

/* A short human-readable description ("cnn [32, 64] fc 128: 421,642 params"). */
void net_describe(const net_t *n, char *buf, size_t len);

/* Memory plan: a slot's activation has its own buffer only when backward
 * reads it (the input of conv, BN and linear, the output of ReLU, the input
 * and the logits); the others (BN outputs, residual sums...) live only until
 * their last reader in the forward pass and share a few buffers. Gradient
 * slots live from their first writer to their producer in the backward pass
 * and share a few buffers too (net_backward zeroes each when it comes alive).
 * So a ResNet's workspace is about its kept activations, not three copies. */
typedef struct {
    int max_batch;
    float **act, **dact; /* per slot: [max_batch][slot_size] (pointers may share memory, see above) */
    int *grad_start;     /* per slot: the op whose backward first writes its gradient (n_ops: the
                            loss), -1 for none; that is when net_backward zeroes it */
    float **aux;         /* per op: saved state for backward (BN mean+invstd, dropout mask) */
    int32_t **iaux;      /* per op: maxpool argmax */
    float *col;          /* conv im2col workspace, sized for the largest conv */
    float *probs;        /* [max_batch][classes] */
    size_t bytes;        /* the size of the workspace */
    int last_train;      /* mode of the last forward (backward follows it) */
    int backward_ready;  /* the last forward kept what backward reads (not NET_EVAL) */
    const float *last_buffers; /* BN buffers of the last forward (eval-mode backward) */
    void *block;         /* the single allocation behind all of the above */
} net_ws;

int net_ws_alloc(net_ws *ws, const net_t *n, int max_batch, dp_err *e);
/* Bytes that backward needs at batch B: the kept activations, BN statistics,
 * dropout masks and maxpool argmaxes (the floor for a workspace). */
size_t net_kept_bytes(const net_t *n, int B);
void net_ws_free(net_ws *ws);
/* Where the caller writes the input batch [B][in_c][in_h][in_w]. */
float *net_input(net_ws *ws);
/* The logits [B][classes] of the last forward pass. */
const float *net_logits(const net_t *n, const net_ws *ws);

/* Modes of net_forward. NET_TRAIN: BN uses batch statistics and updates
 * `buffers`, dropout is active (needs rng). NET_EVAL: running statistics, no
 * dropout, and no net_backward may follow: a conv and its BN run as one pass
 * that never writes the conv output backward would read. NET_EVAL_GRAD: the
 * same numbers as NET_EVAL, keeping what net_backward needs. */
enum { NET_EVAL = 0, NET_TRAIN = 1, NET_EVAL_GRAD = 2 };

/* Forward pass and loss on the batch in net_input(ws), in `mode` (above).
 * Returns the mean loss; *correct (nullable) counts argmax hits. */
float net_forward(const net_t *n, net_ws *ws, const float *params, float *buffers,
                  const int32_t *labels, int B, int mode, rng_t *rng, int *correct);

/* Where a diverging model breaks first: runs the forward pass on the batch
 * in net_input(ws) again, like net_forward, and returns the first op whose
 * output holds a NaN or Inf (-1 if none). Updates `buffers` and `rng` as
 * net_forward does, so give it copies to leave the run untouched. */
int net_first_nonfinite_op(const net_t *n, net_ws *ws, const float *params, float *buffers,
                           int B, int mode, rng_t *rng);
/* A readable name for op i: its layer ("layer1.0.conv1 (conv)") or, for ops
 * without parameters, the layer it follows ("relu after layer1.0.bn1"). */
void net_op_name(const net_t *n, int i, char *buf, size_t len);

/* Backward of the last forward, in its mode (NET_TRAIN: through the batch
 * statistics; NET_EVAL_GRAD: running statistics as constants, dropout off);
 * ACCUMULATES into grads (zero them first). */
void net_backward(const net_t *n, net_ws *ws, const float *params, float *grads,
                  const int32_t *labels, int B);

/* Index of a tensor by name, or -1. */
int net_find_tensor(const net_t *n, const char *name);


#endif
