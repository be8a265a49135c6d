/* sam.h - Sharpness-Aware Minimization (Foret et al., ICLR 2021) and its
 * adaptive variant ASAM (Kwon et al., ICML 2021) as a gradient: the gradient
 * of the loss at the worst nearby point, w + e(w), to hand to SGD at w.
 *
 * As davda54/sam (sam.py first_step/second_step, and its example's
 * disable_running_stats for the second pass):
 *   e(w) = rho * T g / ||T g||,  T = 1 (SAM) or diag(|w|) (ASAM), the norm
 *   over every parameter tensor, then e(w) = rho * T^2 g / (||T g|| + 1e-12);
 * the second forward/backward pass runs on the same batch (the caller's
 * net_input, with its augmentation) in train mode: BatchNorm normalises with
 * that batch's statistics but leaves the running statistics alone (PyTorch:
 * momentum 0 for that pass), and dropout draws a fresh mask from the
 * worker's stream (PyTorch draws a new one too). Weight decay is not part of
 * either gradient; the optimizer adds it at w. */
#ifndef DPPF_SAM_H
#define DPPF_SAM_H

#include <stddef.h>

#include "error.h"
#include "net.h"
#include "rng.h"

typedef struct {
    float rho;
    int adaptive;
    float *saved;    /* n_params: w while the net runs at w + e(w) */
    float *buffers;  /* n_buffers: the running statistics the second pass may write */
} sam_t;

/* Allocates the extra copies once (never in the training loop). */
int sam_init(sam_t *s, size_t n_params, size_t n_buffers, float rho, int adaptive, dp_err *e);
void sam_free(sam_t *s);

/* grads holds the gradient at params of the batch in net_input(ws) (the
 * first pass); replaces it by the gradient at params + e(params) on the same
 * batch. params and buffers end as they were. Returns the loss at the
 * perturbed point. */
float sam_gradient(const sam_t *s, const net_t *n, net_ws *ws, float *params, const float *buffers,
                   float *grads, const int32_t *labels, int B, rng_t *rng);

#endif
