/* optim.c - SGD with torch.optim.SGD semantics (dampening 0) and LR schedules.
 *
 * The update is written in the same operation order as PyTorch's single-tensor
 * SGD so that results agree to rounding: g' = g + wd*p, buf = mu*buf + g',
 * d = nesterov ? g' + mu*buf : buf, p = p - lr*d. A zero momentum buffer makes
 * the first step buf = g', which is what PyTorch's "clone on first step" gives. */
#include <math.h>

#include "optim.h"

/* One contiguous range with a fixed weight decay. Configuration is decided
 * once here, outside the loops, so each loop is branch-free and vectorises. */
static void sgd_range(float *restrict p, const float *restrict g, float *restrict mom, size_t n,
                      float lr, float wd, float lr_wd, float mu, int nesterov) {
    if (lr_wd != 0.0f) /* decoupled decay, applied before the gradient step */
        for (size_t i = 0; i < n; i++) p[i] -= lr_wd * p[i];
    if (mu == 0.0f) {
        for (size_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
    } else if (nesterov) {
        for (size_t i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            float b = mu * mom[i] + d;
            mom[i] = b;
            p[i] -= lr * (d + mu * b);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            float b = mu * mom[i] + d;
            mom[i] = b;
            p[i] -= lr * b;
        }
    }
}

void sgd_step(float *p, const float *g, float *mom, size_t n, size_t n_decay, float lr,
              const sgd_cfg_t *cfg) {
    if (n_decay > n) n_decay = n;
    float mu = cfg->momentum, wd = cfg->weight_decay;
    float wd_coupled = cfg->decoupled ? 0.0f : wd;
    float lr_wd = cfg->decoupled ? lr * wd : 0.0f;
    /* Decayed tensors first, then the undecayed tail (biases, norm affine). */
    sgd_range(p, g, mom, n_decay, lr, wd_coupled, lr_wd, mu, cfg->nesterov);
    sgd_range(p + n_decay, g + n_decay, mom ? mom + n_decay : NULL, n - n_decay, lr, 0.0f, 0.0f,
              mu, cfg->nesterov);
}

float lr_at(const lr_schedule_t *s, int64_t step) {
    const double pi = 3.14159265358979323846;
    double base = s->base_lr, min = s->min_lr;
    if (step < 0) step = 0;
    if (step < s->warmup_steps) return (float)(base * (double)(step + 1) / (double)s->warmup_steps);
    switch (s->kind) {
    case LR_STEP: {
        int64_t epoch = s->steps_per_epoch > 0 ? step / s->steps_per_epoch : 0;
        double lr = base;
        for (int i = 0; i < s->n_milestones && i < 16; i++)
            if (s->milestones[i] <= epoch) lr *= (double)s->gamma;
        return (float)lr;
    }
    case LR_COSINE: {
        int64_t w = s->warmup_steps > 0 ? s->warmup_steps : 0;
        int64_t t = step - w, T = s->total_steps - w;
        if (T <= 0 || t >= T) return s->min_lr;
        return (float)(min + (base - min) * 0.5 * (1.0 + cos(pi * (double)t / (double)T)));
    }
    default:
        return s->base_lr;
    }
}
