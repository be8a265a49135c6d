/* layers.h - forward and backward of every layer, as plain functions over
 * flat float arrays (llm.c style). Layout is NCHW, batch first.
 *
 * Conventions (all layers):
 *  - forward writes (=) its output.
 *  - backward ACCUMULATES (+=) into input gradients and parameter gradients;
 *    the caller zeroes gradient buffers once per step. Any gradient pointer
 *    documented as "nullable" may be NULL to skip that gradient.
 *  - No allocation inside: workspaces are passed in, sized by the *_size()
 *    helpers once when the model is built.
 */
#ifndef DPPF_LAYERS_H
#define DPPF_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

/* ---- conv2d ------------------------------------------------------------ */
typedef struct {
    int C, H, W;     /* input channels, height, width */
    int OC, KH, KW;  /* output channels, kernel */
    int stride, pad; /* same in both dims; zero padding */
    int OH, OW;      /* output size, set by conv_shape_make */
} conv_shape;

conv_shape conv_shape_make(int C, int H, int W, int OC, int K, int stride, int pad);
/* Floats of workspace conv2d_forward/backward need for a batch of N. */
size_t conv_workspace_size(const conv_shape *s, int N);
/* in [N,C,H,W], w [OC,C,KH,KW], b [OC] nullable, out [N,OC,OH,OW]. kern/conv.h
 * chooses how (direct kernel, GEMMs packing from the images, im2col). */
void conv2d_forward(float *out, const float *in, const float *w, const float *b, int N,
                    const conv_shape *s, float *work);
/* Eval mode: conv2d_forward followed by batchnorm_forward_eval (and a ReLU
 * when relu), the BN applied as each output is stored: the same numbers as
 * the three ops one by one, in one pass over the activations. */
void conv2d_batchnorm_forward_eval(float *out, const float *in, const float *w, const float *b,
                                   int N, const conv_shape *s, float *work, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, float eps, int relu);
/* The same (without a conv bias) followed by a 2x2 stride-2 max pool, as one
 * pass that writes only the pooled out [N,OC,OH/2,OW/2] (no argmax: eval
 * mode has no backward); the same numbers as the four ops one by one.
 * Returns -1, nothing written, when the kernels cannot (kern/conv.h:
 * conv_forward_pool): then run the ops one by one. */
int conv2d_batchnorm_pool_forward_eval(float *out, const float *in, const float *w, int N,
                                       const conv_shape *s, const float *gamma, const float *beta,
                                       const float *running_mean, const float *running_var,
                                       float eps, int relu);
/* din nullable (first layer), dw accumulated, db nullable. din is added
 * into, or with `fresh` written as adding into zeros would (see the BN
 * backward below). */
void conv2d_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                     const float *w, int N, const conv_shape *s, float *work, int fresh);

/* ---- batchnorm2d (per channel over N*HW; PyTorch semantics) ----------- */
/* Train mode: normalises with batch statistics (biased variance), updates
 * running stats with running = (1-momentum)*running + momentum*batch, using the
 * unbiased variance for running_var, exactly like torch.nn.BatchNorm2d.
 * Saves the batch mean [C] and invstd [C] for backward (not xhat: backward
 * recomputes it from `in`, which is kept anyway, saving a copy of the
 * activations). HW = 1 gives BatchNorm1d. */
void batchnorm_forward_train(float *out, float *mean, float *invstd, const float *in,
                             const float *gamma, const float *beta, float *running_mean,
                             float *running_var, int N, int C, int HW, float momentum, float eps);
void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var, int N, int C,
                            int HW, float eps);
/* The same followed by ReLU in one pass (same values as the two layers). */
void batchnorm_relu_forward_train(float *out, float *mean, float *invstd, const float *in,
                                  const float *gamma, const float *beta, float *running_mean,
                                  float *running_var, int N, int C, int HW, float momentum,
                                  float eps);
void batchnorm_relu_forward_eval(float *out, const float *in, const float *gamma,
                                 const float *beta, const float *running_mean,
                                 const float *running_var, int N, int C, int HW, float eps);
/* `in`, mean and invstd as the train-mode forward saw and saved them.
 * The backward functions below add into din; with `fresh` set they write it
 * instead, as 0 + the value, which gives the bits of adding into a zeroed
 * buffer without the zeroing pass (net_backward sets it when the op is the
 * first to write that gradient). */
void batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                        const float *in, const float *mean, const float *invstd, const float *gamma,
                        int N, int C, int HW, int fresh);
/* The same through the ReLU fused after the BN (one pass instead of two): dout
 * and out are the ReLU's output gradient and output; the numbers are those of
 * relu_backward into a zeroed buffer followed by batchnorm_backward, bit for bit. */
void batchnorm_relu_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                             const float *out, const float *in, const float *mean,
                             const float *invstd, const float *gamma, int N, int C, int HW, int fresh);

/* Backward of the eval-mode forward (running statistics are constants):
 * din += dout * gamma / sqrt(running_var + eps), dgamma += sum(dout * xhat),
 * dbeta += sum(dout), with xhat recomputed from `in`. Used by the flatness
 * measures, which differentiate the eval-mode loss. din may be NULL. */
void batchnorm_backward_eval(float *din, float *dgamma, float *dbeta, const float *dout,
                             const float *in, const float *gamma, const float *running_mean,
                             const float *running_var, int N, int C, int HW, float eps, int fresh);
/* The same through the fused ReLU, as batchnorm_relu_backward. */
void batchnorm_relu_backward_eval(float *din, float *dgamma, float *dbeta, const float *dout,
                                  const float *out, const float *in, const float *gamma,
                                  const float *running_mean, const float *running_var, int N,
                                  int C, int HW, float eps, int fresh);

/* ---- elementwise -------------------------------------------------------- */
void relu_forward(float *out, const float *in, size_t n);
/* uses the forward OUTPUT (out > 0) as the mask; din += dout * (out > 0) */
void relu_backward(float *din, const float *dout, const float *out, size_t n, int fresh);
void add_forward(float *out, const float *a, const float *b, size_t n);
void add_relu_forward(float *out, const float *a, const float *b, size_t n); /* relu(a + b) */
void accumulate(float *dst, const float *src, size_t n); /* dst += src */
/* dst = 0 + src: accumulate into a zeroed dst, bit for bit, without zeroing it. */
void accumulate_fresh(float *dst, const float *src, size_t n);
void zero_fill(float *dst, size_t n); /* dst = 0, on the layers' threads when large */

/* Inverted dropout: keeps with prob 1-p and scales by 1/(1-p); mask saved as
 * the scale factor (0 or 1/(1-p)). p = 0 copies. */
void dropout_forward(float *out, float *mask, const float *in, size_t n, float p, rng_t *r);
void dropout_backward(float *din, const float *dout, const float *mask, size_t n);

/* ---- pooling ------------------------------------------------------------ */
/* OH = (H + 2*pad - K) / stride + 1 (floor), same for W. Padding never wins. */
int pool_out_size(int H, int K, int stride, int pad);
/* argmax [N,C,OH,OW] holds the flat index (within the image plane H*W) of the max. */
void maxpool_forward(float *out, int32_t *argmax, const float *in, int N, int C, int H, int W,
                     int K, int stride, int pad);
void maxpool_backward(float *din, const float *dout, const int32_t *argmax, int N, int C, int H,
                      int W, int OH, int OW, int fresh);
/* Global average pool: in [N,C,HW] -> out [N,C]. */
void avgpool_global_forward(float *out, const float *in, int N, int C, int HW);
void avgpool_global_backward(float *din, const float *dout, int N, int C, int HW);

/* Average pool with K x K windows, stride `stride`, no padding, in ceil mode
 * (torch.nn.AvgPool2d(K, stride, ceil_mode=True)): a window that runs past
 * the bottom or right edge averages the pixels it covers. PyramidNet's
 * downsampling shortcut is K = stride = 2. */
int avgpool_out_size(int H, int K, int stride);
void avgpool_forward(float *out, const float *in, int N, int C, int H, int W, int K, int stride);
void avgpool_backward(float *din, const float *dout, int N, int C, int H, int W, int K, int stride);

/* ---- parameter-free shortcut -------------------------------------------- */
/* in [N,C,H,W] subsampled by `stride` (pixels 0, stride, 2 stride...) into
 * out [N,OC,ceil(H/stride),ceil(W/stride)], input channel c at c + front,
 * the other OC - C channels zero: ResNet's option-A shortcut (front =
 * (OC - C) / 2) and PyramidNet's zero-padded identity (stride 1, front 0). */
void shortcut_pad_forward(float *out, const float *in, int N, int C, int H, int W, int OC,
                          int front, int stride);
void shortcut_pad_backward(float *din, const float *dout, int N, int C, int H, int W, int OC,
                           int front, int stride);

/* ---- linear ------------------------------------------------------------- */
/* in [N,I], w [O,I] (PyTorch layout), b [O] nullable, out [N,O]. BLIS GEMM. */
void linear_forward(float *out, const float *in, const float *w, const float *b, int N, int I,
                    int O);
/* din nullable, dw accumulated, db nullable. */
void linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                     const float *w, int N, int I, int O);

/* ---- softmax cross-entropy --------------------------------------------- */
/* logits [N,K] -> probs [N,K] (saved for backward). Returns the mean loss over
 * the batch, with label smoothing s: target = (1-s)*onehot + s/K (as
 * torch.nn.CrossEntropyLoss(label_smoothing=s)). Numerically stable (max
 * subtracted, log-sum-exp in double). *correct (nullable) gets the number of
 * rows whose argmax equals the label (first max wins on ties). */
float softmax_xent_forward(float *probs, const float *logits, const int32_t *labels, int N, int K,
                           float smoothing, int *correct);
/* dlogits = (probs - target) / N  (WRITES, does not accumulate: it starts the chain) */
void softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int N, int K,
                           float smoothing);

#endif
