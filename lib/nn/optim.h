/* optim.h - SGD (PyTorch semantics) over flat buffers, and learning-rate schedules. */
#ifndef DPPF_OPTIM_H
#define DPPF_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float momentum;
    float weight_decay;
    int nesterov;
    int decoupled;      /* 0: g += wd * p (torch.optim.SGD); 1: p -= lr * wd * p */
} sgd_cfg_t;

/* One step over p[0..n). Weight decay applies to p[0..n_decay) only (the model
 * lays out decayed tensors first). mom is the momentum buffer (zero at start),
 * updated as torch.optim.SGD with dampening 0:
 *   g' = g + wd p (coupled);  buf = mu buf + g';  d = nesterov ? g' + mu buf : buf;
 *   p -= lr d   (and p -= lr wd p before it when decoupled). mom may be NULL if mu == 0. */
void sgd_step(float *p, const float *g, float *mom, size_t n, size_t n_decay, float lr,
              const sgd_cfg_t *cfg);

/* optim.schedule and optim.wd_mode (the spec's names, in enum order). */
typedef enum { LR_CONSTANT, LR_STEP, LR_COSINE, LR_SCHEDULE_COUNT } lr_kind;
#define LR_SCHEDULE_NAMES {"constant", "step", "cosine"}
typedef enum { WD_COUPLED, WD_DECOUPLED, WD_MODE_COUNT } wd_mode;
#define WD_MODE_NAMES {"coupled", "decoupled"}

typedef struct {
    int kind;
    float base_lr, min_lr, gamma;
    int n_milestones;
    int milestones[16];      /* epochs */
    int64_t warmup_steps;    /* linear warm-up: lr = base * (step+1) / warmup_steps */
    int64_t total_steps;     /* cosine horizon (including warm-up) */
    int64_t steps_per_epoch; /* for milestones */
} lr_schedule_t;

/* Learning rate for 0-based step `step`. Step schedule: base * gamma^(number
 * of milestones <= current epoch). Cosine: after warm-up, from base to min_lr
 * over the remaining steps. */
float lr_at(const lr_schedule_t *s, int64_t step);

#endif
