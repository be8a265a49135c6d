/* SGD and learning-rate schedules against hand-computed values and PyTorch.
 *
 * Hand-computed cases use binary fractions (0.25, 0.5, ...) so every
 * intermediate is exact in float32 and the expected values are compared with
 * ==; anything involving 0.1 or cos() is compared with a relative tolerance. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "optim.h"

/* |a - b| <= rel * max(|b|, 1e-30): a few float32 ulps. */
static void expect_near(double got, double want, double rel, const char *what) {
    double tol = rel * fmax(fabs(want), 1e-30);
    cr_expect(fabs(got - want) <= tol, "%s: got %.9g, want %.9g (tol %.3g)", what, got, want, tol);
}

/* ---- SGD ---- */

Test(sgd, plain) {
    float p[4] = {1.0f, -2.0f, 0.5f, 4.0f};
    const float g[4] = {0.5f, 0.25f, -1.0f, 2.0f};
    sgd_cfg_t cfg = {0};
    /* p - lr g with lr = 0.5: 1-0.25, -2-0.125, 0.5+0.5, 4-1 */
    sgd_step(p, g, NULL, 4, 4, 0.5f, &cfg);
    const float want[4] = {0.75f, -2.125f, 1.0f, 3.0f};
    for (int i = 0; i < 4; i++) cr_expect_eq(p[i], want[i], "p[%d] = %.9g", i, p[i]);
}

Test(sgd, momentum_three_steps) {
    /* mu = 0.5, lr = 0.25, p0 = 1 (element 0) and p0 = -1 (element 1, grads negated):
     *   step 1: g = 1:  buf = 0.5*0 + 1 = 1;      p = 1 - 0.25*1 = 0.75
     *   step 2: g = 2:  buf = 0.5*1 + 2 = 2.5;    p = 0.75 - 0.25*2.5 = 0.125
     *   step 3: g = -1: buf = 0.5*2.5 - 1 = 0.25; p = 0.125 - 0.25*0.25 = 0.0625 */
    float p[2] = {1.0f, -1.0f}, mom[2] = {0};
    const float gs[3] = {1.0f, 2.0f, -1.0f};
    const float want_p[3] = {0.75f, 0.125f, 0.0625f}, want_buf[3] = {1.0f, 2.5f, 0.25f};
    sgd_cfg_t cfg = {.momentum = 0.5f};
    for (int s = 0; s < 3; s++) {
        float g[2] = {gs[s], -gs[s]};
        sgd_step(p, g, mom, 2, 2, 0.25f, &cfg);
        cr_expect_eq(p[0], want_p[s], "step %d: p = %.9g", s + 1, p[0]);
        cr_expect_eq(mom[0], want_buf[s], "step %d: buf = %.9g", s + 1, mom[0]);
        cr_expect_eq(p[1], -want_p[s], "step %d: p[1] = %.9g", s + 1, p[1]);
        cr_expect_eq(mom[1], -want_buf[s], "step %d: buf[1] = %.9g", s + 1, mom[1]);
    }
}

Test(sgd, nesterov_two_steps) {
    /* mu = 0.5, lr = 0.25, p0 = 2:
     *   step 1: g = 1: buf = 1;             d = 1 + 0.5*1   = 1.5;  p = 2 - 0.375      = 1.625
     *   step 2: g = 3: buf = 0.5*1 + 3 = 3.5; d = 3 + 0.5*3.5 = 4.75; p = 1.625 - 1.1875 = 0.4375 */
    float p = 2.0f, mom = 0.0f;
    sgd_cfg_t cfg = {.momentum = 0.5f, .nesterov = 1};
    float g = 1.0f;
    sgd_step(&p, &g, &mom, 1, 1, 0.25f, &cfg);
    cr_expect_eq(p, 1.625f, "step 1: p = %.9g", p);
    cr_expect_eq(mom, 1.0f, "step 1: buf = %.9g", mom);
    g = 3.0f;
    sgd_step(&p, &g, &mom, 1, 1, 0.25f, &cfg);
    cr_expect_eq(p, 0.4375f, "step 2: p = %.9g", p);
    cr_expect_eq(mom, 3.5f, "step 2: buf = %.9g", mom);
}

Test(sgd, coupled_weight_decay) {
    /* wd = 0.5, mu = 0.5, lr = 0.25, p0 = 2, g = 1 both steps; the decay enters the buffer:
     *   step 1: g' = 1 + 0.5*2 = 2;      buf = 2;              p = 2 - 0.25*2 = 1.5
     *   step 2: g' = 1 + 0.5*1.5 = 1.75; buf = 0.5*2 + 1.75 = 2.75; p = 1.5 - 0.6875 = 0.8125 */
    float p = 2.0f, mom = 0.0f, g = 1.0f;
    sgd_cfg_t cfg = {.momentum = 0.5f, .weight_decay = 0.5f};
    sgd_step(&p, &g, &mom, 1, 1, 0.25f, &cfg);
    cr_expect_eq(p, 1.5f, "step 1: p = %.9g", p);
    cr_expect_eq(mom, 2.0f, "step 1: buf = %.9g", mom);
    sgd_step(&p, &g, &mom, 1, 1, 0.25f, &cfg);
    cr_expect_eq(p, 0.8125f, "step 2: p = %.9g", p);
    cr_expect_eq(mom, 2.75f, "step 2: buf = %.9g", mom);

    /* Without momentum: p = 2 - 0.25*(1 + 0.5*2) = 1.5 */
    float q = 2.0f;
    sgd_cfg_t plain = {.weight_decay = 0.5f};
    sgd_step(&q, &g, NULL, 1, 1, 0.25f, &plain);
    cr_expect_eq(q, 1.5f, "no momentum: p = %.9g", q);
}

Test(sgd, decoupled_weight_decay) {
    /* wd = 0.5, mu = 0.5, lr = 0.25 (lr*wd = 0.125), p0 = 2, g = 1; decay stays out of the buffer:
     *   step 1: p = 2 - 0.125*2 = 1.75;        buf = 1;           p = 1.75 - 0.25*1 = 1.5
     *   step 2: p = 1.5 - 0.125*1.5 = 1.3125;  buf = 0.5 + 1 = 1.5; p = 1.3125 - 0.375 = 0.9375 */
    float p = 2.0f, mom = 0.0f, g = 1.0f;
    sgd_cfg_t cfg = {.momentum = 0.5f, .weight_decay = 0.5f, .decoupled = 1};
    sgd_step(&p, &g, &mom, 1, 1, 0.25f, &cfg);
    cr_expect_eq(p, 1.5f, "step 1: p = %.9g", p);
    cr_expect_eq(mom, 1.0f, "step 1: buf = %.9g", mom);
    sgd_step(&p, &g, &mom, 1, 1, 0.25f, &cfg);
    cr_expect_eq(p, 0.9375f, "step 2: p = %.9g", p);
    cr_expect_eq(mom, 1.5f, "step 2: buf = %.9g", mom);
}

Test(sgd, decay_only_on_head) {
    /* n = 5, n_decay = 2, all p = 2, g = 1, lr = 0.25, wd = 0.5, no momentum:
     *   coupled head:   2 - 0.25*(1 + 1) = 1.5;  tail: 2 - 0.25 = 1.75
     *   decoupled head: 2 - 0.125*2 - 0.25 = 1.5; tail: 1.75 */
    for (int decoupled = 0; decoupled <= 1; decoupled++) {
        float p[5] = {2, 2, 2, 2, 2}, mom[5] = {0};
        const float g[5] = {1, 1, 1, 1, 1};
        sgd_cfg_t cfg = {.weight_decay = 0.5f, .decoupled = decoupled};
        sgd_step(p, g, NULL, 5, 2, 0.25f, &cfg);
        for (int i = 0; i < 5; i++)
            cr_expect_eq(p[i], i < 2 ? 1.5f : 1.75f, "decoupled=%d p[%d] = %.9g", decoupled, i, p[i]);
        /* Same with momentum 0.5 (first step: buf = g'): head buf = 2 (coupled) or 1, tail buf = 1 */
        float q[5] = {2, 2, 2, 2, 2};
        cfg.momentum = 0.5f;
        sgd_step(q, g, mom, 5, 2, 0.25f, &cfg);
        for (int i = 0; i < 5; i++) {
            cr_expect_eq(q[i], i < 2 ? 1.5f : 1.75f, "momentum decoupled=%d q[%d] = %.9g", decoupled,
                         i, q[i]);
            cr_expect_eq(mom[i], i < 2 && !decoupled ? 2.0f : 1.0f, "decoupled=%d buf[%d] = %.9g",
                         decoupled, i, mom[i]);
        }
    }
}

Test(sgd, n_decay_zero_and_empty) {
    /* n_decay = 0: no decay at all: 2 - 0.25*1 = 1.75. n = 0 must not touch anything. */
    float p = 2.0f, g = 1.0f;
    sgd_cfg_t cfg = {.weight_decay = 0.5f};
    sgd_step(&p, &g, NULL, 1, 0, 0.25f, &cfg);
    cr_expect_eq(p, 1.75f);
    sgd_step(&p, &g, NULL, 0, 0, 0.25f, &cfg);
    cr_expect_eq(p, 1.75f);
}

/* Reference values from PyTorch 1.13.1 (Debian python3-torch), CPU float32:
 *
 *   import torch
 *   p = torch.nn.Parameter(torch.tensor([0.5, -1.25, 2.0, 0.0, 3.75]))
 *   opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2,
 *                         foreach=False)
 *   grads = [[0.1, -0.2, 0.3, -0.4, 0.5], [-0.3, 0.25, 0.7, 0.05, -1.5],
 *            [0.2, 0.2, -0.6, 0.9, 0.125]]
 *   for g in grads:
 *       p.grad = torch.tensor(g)
 *       opt.step()
 *       print("p  ", ", ".join(f"{x:.9g}f" for x in p.tolist()))
 *   print("buf", ", ".join(f"{x:.9g}f" for x in opt.state[p]["momentum_buffer"].tolist()))
 *
 * Tolerance: 4 float32 ulps, since PyTorch's vectorised kernels may fuse a
 * multiply-add where this C code rounds twice. */
Test(sgd, matches_torch_nesterov_wd) {
    float p[5] = {0.5f, -1.25f, 2.0f, 0.0f, 3.75f}, mom[5] = {0};
    const float grads[3][5] = {{0.1f, -0.2f, 0.3f, -0.4f, 0.5f},
                               {-0.3f, 0.25f, 0.7f, 0.05f, -1.5f},
                               {0.2f, 0.2f, -0.6f, 0.9f, 0.125f}};
    const float want[3][5] = {
        {0.480049998f, -1.20962501f, 1.93920004f, 0.0759999976f, 3.64787507f},
        {0.527632892f, -1.23761427f, 1.77659559f, 0.0987555981f, 3.88240671f},
        {0.504887044f, -1.27704179f, 1.80562127f, -0.0473835841f, 3.93064165f},
    };
    const float want_buf[5] = {0.0246467739f, 0.229612231f, 0.324418724f, 0.622671485f,
                               -0.717970014f};
    sgd_cfg_t cfg = {.momentum = 0.9f, .weight_decay = 1e-2f, .nesterov = 1};
    for (int s = 0; s < 3; s++) {
        sgd_step(p, grads[s], mom, 5, 5, 0.1f, &cfg);
        for (int i = 0; i < 5; i++) {
            char what[32];
            snprintf(what, sizeof what, "step %d p[%d]", s + 1, i);
            expect_near(p[i], want[s][i], 4 * FLT_EPSILON, what);
        }
    }
    for (int i = 0; i < 5; i++) expect_near(mom[i], want_buf[i], 4 * FLT_EPSILON, "momentum buffer");
}

/* ---- learning-rate schedules ---- */

#define REL 1e-6

Test(lr, constant) {
    lr_schedule_t s = {.kind = LR_CONSTANT, .base_lr = 0.1f, .steps_per_epoch = 10,
                       .total_steps = 100};
    cr_expect_eq(lr_at(&s, 0), 0.1f);
    cr_expect_eq(lr_at(&s, 57), 0.1f);
    cr_expect_eq(lr_at(&s, 1000000), 0.1f);
}

Test(lr, warmup_linear) {
    /* base 0.4, warm-up 4 steps: lr = 0.4 * (step+1) / 4 -> 0.1, 0.2, 0.3, 0.4, then 0.4 */
    lr_schedule_t s = {.kind = LR_CONSTANT, .base_lr = 0.4f, .warmup_steps = 4,
                       .steps_per_epoch = 10, .total_steps = 100};
    expect_near(lr_at(&s, 0), 0.1, REL, "step 0");
    expect_near(lr_at(&s, 1), 0.2, REL, "step 1");
    expect_near(lr_at(&s, 2), 0.3, REL, "step 2");
    expect_near(lr_at(&s, 3), 0.4, REL, "step warmup-1");
    expect_near(lr_at(&s, 4), 0.4, REL, "step warmup");
    expect_near(lr_at(&s, 99), 0.4, REL, "step 99");
}

Test(lr, step_milestones) {
    /* base 1, gamma 0.1, milestones [2, 4], 10 steps per epoch:
     *   epochs 0-1 (steps 0..19) -> 1;  epochs 2-3 (20..39) -> 0.1;  epoch >= 4 (40..) -> 0.01 */
    lr_schedule_t s = {.kind = LR_STEP, .base_lr = 1.0f, .gamma = 0.1f, .n_milestones = 2,
                       .milestones = {2, 4}, .steps_per_epoch = 10, .total_steps = 60};
    expect_near(lr_at(&s, 0), 1.0, REL, "step 0");
    expect_near(lr_at(&s, 10), 1.0, REL, "epoch 1");
    expect_near(lr_at(&s, 19), 1.0, REL, "last step of epoch 1");
    expect_near(lr_at(&s, 20), 0.1, REL, "first step of epoch 2");
    expect_near(lr_at(&s, 39), 0.1, REL, "last step of epoch 3");
    expect_near(lr_at(&s, 40), 0.01, REL, "first step of epoch 4");
    expect_near(lr_at(&s, 59), 0.01, REL, "last step");
    expect_near(lr_at(&s, 100000), 0.01, REL, "far beyond");
}

Test(lr, step_with_warmup) {
    /* warm-up 5 steps overrides the schedule at the start: 1 * 3/5 = 0.6 at step 2;
     * afterwards the milestones apply as usual. */
    lr_schedule_t s = {.kind = LR_STEP, .base_lr = 1.0f, .gamma = 0.5f, .n_milestones = 1,
                       .milestones = {1}, .warmup_steps = 5, .steps_per_epoch = 10,
                       .total_steps = 30};
    expect_near(lr_at(&s, 2), 0.6, REL, "warm-up");
    expect_near(lr_at(&s, 5), 1.0, REL, "after warm-up, epoch 0");
    expect_near(lr_at(&s, 10), 0.5, REL, "epoch 1");
}

Test(lr, cosine) {
    /* base 0.1, min 0.001, 100 steps: lr = 0.001 + 0.099 * 0.5 * (1 + cos(pi t / 100))
     *   t = 0   -> 0.1
     *   t = 25  -> 0.001 + 0.0495 * (1 + 0.70710678) = 0.0855017857
     *   t = 50  -> (0.1 + 0.001) / 2 = 0.0505
     *   t = 75  -> 0.001 + 0.0495 * (1 - 0.70710678) = 0.0154982143
     *   t >= 100 -> 0.001 */
    lr_schedule_t s = {.kind = LR_COSINE, .base_lr = 0.1f, .min_lr = 0.001f, .total_steps = 100,
                       .steps_per_epoch = 10};
    expect_near(lr_at(&s, 0), 0.1, REL, "start");
    expect_near(lr_at(&s, 25), 0.0855017857, REL, "quarter");
    expect_near(lr_at(&s, 50), (0.1 + 0.001) / 2, REL, "midpoint");
    expect_near(lr_at(&s, 75), 0.0154982143, REL, "three quarters");
    expect_near(lr_at(&s, 100), 0.001, REL, "end");
    expect_near(lr_at(&s, 5000), 0.001, REL, "beyond the end");
    /* monotone decreasing over the horizon */
    for (int64_t t = 1; t <= 100; t++)
        cr_expect(lr_at(&s, t) <= lr_at(&s, t - 1), "cosine rises at step %lld", (long long)t);
}

Test(lr, cosine_with_warmup) {
    /* base 0.1, min 0, warm-up 10, total 110 -> cosine over T = 100 steps after warm-up:
     *   step 0 -> 0.1 * 1/10 = 0.01;  step 9 -> 0.1;  step 10 (t = 0) -> 0.1
     *   step 35 (t = 25) -> 0.05 * (1 + 0.70710678) = 0.0853553391
     *   step 60 (t = 50) -> 0.05;  step 110 -> 0 */
    lr_schedule_t s = {.kind = LR_COSINE, .base_lr = 0.1f, .min_lr = 0.0f, .warmup_steps = 10,
                       .total_steps = 110, .steps_per_epoch = 10};
    expect_near(lr_at(&s, 0), 0.01, REL, "warm-up start");
    expect_near(lr_at(&s, 9), 0.1, REL, "warm-up end");
    expect_near(lr_at(&s, 10), 0.1, REL, "cosine start");
    expect_near(lr_at(&s, 35), 0.0853553391, REL, "cosine quarter");
    expect_near(lr_at(&s, 60), 0.05, REL, "cosine midpoint");
    cr_expect_eq(lr_at(&s, 110), 0.0f);
    cr_expect_eq(lr_at(&s, 111), 0.0f);
}

Test(lr, cosine_degenerate_horizon) {
    /* total_steps <= warmup_steps: after warm-up the cosine has no length -> min_lr */
    lr_schedule_t s = {.kind = LR_COSINE, .base_lr = 0.1f, .min_lr = 0.002f, .warmup_steps = 10,
                       .total_steps = 10, .steps_per_epoch = 10};
    expect_near(lr_at(&s, 4), 0.05, REL, "warm-up");
    expect_near(lr_at(&s, 10), 0.002, REL, "after warm-up");
}
