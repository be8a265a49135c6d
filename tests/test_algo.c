/* Algorithm step rules against hand-computed values, in one process. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "algo.h"
#include "comm.h"
#include "workers.h"

typedef struct {
    comm_t comm;
    worker_set ws;
    algo_t algo;
} fixture;

static void setup_workers(fixture *f, int M, size_t np, size_t nb, const algo_cfg *cfg) {
    dp_err e = {0};
    cr_assert_eq(comm_init(&f->comm, M, &e), 0, "%s", e.msg);
    cr_assert_eq(workers_alloc(&f->ws, &f->comm, np, nb, 1, &e), 0, "%s", e.msg);
    cr_assert_eq(algo_init(&f->algo, cfg, &f->ws, &e), 0, "%s", e.msg);
}

static void teardown_workers(fixture *f) {
    algo_free(&f->algo);
    workers_free(&f->ws);
    comm_finalize(&f->comm);
}

static void sync_at(fixture *f, int64_t step, float lr) {
    dp_err e = {0};
    cr_assert_eq(algo_after_step(&f->algo, &f->ws, step, 0.0, lr, &e), 0, "%s", e.msg);
}

static void step_at_epoch(fixture *f, int64_t step, double epoch) {
    dp_err e = {0};
    cr_assert_eq(algo_after_step(&f->algo, &f->ws, step, epoch, 0.1f, &e), 0, "%s", e.msg);
}

/* The same random local moves for the workers of every fixture given (a
 * stand-in for SGD steps), so that two algorithms can be compared step by step. */
static void random_moves(fixture *const *fs, int nf, rng_t *r, float scale) {
    const worker_set *ws = &fs[0]->ws;
    for (int k = 0; k < ws->local; k++)
        for (size_t i = 0; i < ws->n_params + ws->n_buffers; i++) {
            float d = (float)(scale * rng_normal(r));
            for (int j = 0; j < nf; j++) fs[j]->ws.w[k].params[i] += d;
        }
}

/* Every worker's [params | buffers] identical in two fixtures, bit for bit. */
static void expect_same_workers(const fixture *a, const fixture *b, int64_t step) {
    size_t n = a->ws.n_params + a->ws.n_buffers;
    for (int k = 0; k < a->ws.local; k++)
        cr_assert(memcmp(a->ws.w[k].params, b->ws.w[k].params, n * sizeof(float)) == 0,
                  "worker %d differs from the reference after step %lld", k, (long long)step);
}

/* Runs `ref` and `alg` side by side for `steps` steps with the same moves,
 * and checks they stay bit-identical. */
static void expect_equivalent(const algo_cfg *ref, const algo_cfg *alg, int M, size_t np, size_t nb,
                              int steps) {
    fixture a, b;
    setup_workers(&a, M, np, nb, ref);
    setup_workers(&b, M, np, nb, alg);
    fixture *both[2] = {&a, &b};
    rng_t r;
    rng_init(&r, 7, 0);
    random_moves(both, 2, &r, 1.0f); /* workers start apart */
    for (int s = 1; s <= steps; s++) {
        random_moves(both, 2, &r, 0.01f);
        for (int k = 0; k < M; k++) b.ws.w[k].loss = a.ws.w[k].loss = 1.0f;
        sync_at(&a, s, 0.1f);
        sync_at(&b, s, 0.1f);
        expect_same_workers(&a, &b, s);
    }
    cr_assert_eq(a.comm.rounds > 0, 1);
    teardown_workers(&a);
    teardown_workers(&b);
}

Test(dppf, pull1_push0_is_exact_average) {
    float x[5] = {1.1f, -2.3f, 3.7f, 1e-7f, 12345.678f};
    float avg[5] = {0.3f, 0.1f, -5.5f, 2e-7f, 12000.5f};
    dppf_pull_push(x, avg, 5, 1.0f, 0.0f, PUSH_NORMALIZED);
    cr_assert(memcmp(x, avg, sizeof x) == 0, "pull=1, push=0 must give the average bit for bit");
}

Test(dppf, hand_computed_normalized_and_inverse) {
    /* x - avg = (3, 4), d = 5. normalized: scale = (1 - 0.5) + 1/5 = 0.7 */
    float x[2] = {3, 4}, avg[2] = {0, 0};
    double d = dppf_pull_push(x, avg, 2, 0.5f, 1.0f, PUSH_NORMALIZED);
    cr_assert_float_eq(d, 5.0, 1e-12);
    cr_assert_float_eq(x[0], 2.1f, 1e-6);
    cr_assert_float_eq(x[1], 2.8f, 1e-6);
    /* inverse: scale = 0.5 + 1/5^3 = 0.508 */
    float y[2] = {3, 4};
    dppf_pull_push(y, avg, 2, 0.5f, 1.0f, PUSH_INVERSE);
    cr_assert_float_eq(y[0], 1.524f, 1e-6);
    cr_assert_float_eq(y[1], 2.032f, 1e-6);
}

Test(localsgd, averages_params_and_buffers_every_tau) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_LOCALSGD, .tau = 3};
    setup_workers(&f, 2, 2, 1, &cfg);
    float *a = f.ws.w[0].params, *b = f.ws.w[1].params;
    a[0] = 1, a[1] = 2, a[2] = 10; /* a[2] is the BN buffer */
    b[0] = 3, b[1] = 6, b[2] = 20;
    sync_at(&f, 2, 0.1f); /* 2 steps since the last sync: no sync yet */
    cr_assert_eq(a[0], 1);
    cr_assert_eq(f.comm.rounds, 0);
    sync_at(&f, 3, 0.1f);
    cr_assert_eq(a[0], 2); cr_assert_eq(a[1], 4); cr_assert_eq(a[2], 15);
    cr_assert_eq(b[0], 2); cr_assert_eq(b[1], 4); cr_assert_eq(b[2], 15);
    cr_assert_eq(f.comm.rounds, 1);
    cr_assert_eq(f.comm.bytes, 3 * sizeof(double), "one flat buffer of params + buffers, reduced in double");
    /* spread before the sync: |(1,2)-(2,4)| = sqrt(5) for both workers */
    cr_assert_float_eq(f.algo.spread_mean, sqrt(5.0), 1e-9);
    cr_assert_float_eq(f.algo.spread_max, sqrt(5.0), 1e-9);
    teardown_workers(&f);
}

Test(ddp, averages_gradients_every_step) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DDP, .tau = 1};
    setup_workers(&f, 3, 2, 0, &cfg);
    for (int k = 0; k < 3; k++) {
        f.ws.w[k].grads[0] = (float)k;
        f.ws.w[k].grads[1] = (float)(2 * k + 1);
    }
    dp_err e = {0};
    cr_assert_eq(algo_after_backward(&f.algo, &f.ws, 0, 0.0, &e), 0);
    for (int k = 0; k < 3; k++) {
        cr_assert_float_eq(f.ws.w[k].grads[0], 1.0f, 1e-7);
        cr_assert_float_eq(f.ws.w[k].grads[1], 3.0f, 1e-7);
    }
    cr_assert_eq(f.comm.rounds, 1);
    cr_assert_eq(f.comm.bytes, 2 * sizeof(double));
    teardown_workers(&f);
}

Test(easgd, hand_computed_step) {
    /* M = 2, beta = 0.5, alpha = beta/M = 0.25, centre c = 0, x = (1, 3):
     * x1 = 1 - 0.25 (1 - 0) = 0.75;  x2 = 3 - 0.25 (3 - 0) = 2.25;
     * c = 0 + 0.5 (mean(1, 3) - 0) = 1. */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_EASGD, .tau = 1, .moving_rate = 0.5f};
    setup_workers(&f, 2, 1, 0, &cfg);
    f.ws.w[0].params[0] = 1;
    f.ws.w[1].params[0] = 3;
    f.algo.state[0] = 0;
    sync_at(&f, 1, 0.1f);
    cr_assert_float_eq(f.ws.w[0].params[0], 0.75f, 1e-7);
    cr_assert_float_eq(f.ws.w[1].params[0], 2.25f, 1e-7);
    cr_assert_float_eq(f.algo.state[0], 1.0f, 1e-7);
    /* again: x = (0.75, 2.25), c = 1: x1 = 0.75 - 0.25(-0.25) = 0.8125,
     * x2 = 2.25 - 0.25(1.25) = 1.9375, c = 1 + 0.5 (1.5 - 1) = 1.25 */
    sync_at(&f, 2, 0.1f);
    cr_assert_float_eq(f.ws.w[0].params[0], 0.8125f, 1e-7);
    cr_assert_float_eq(f.ws.w[1].params[0], 1.9375f, 1e-7);
    cr_assert_float_eq(f.algo.state[0], 1.25f, 1e-7);
    teardown_workers(&f);
}

Test(qsr, period_follows_the_learning_rate) {
    /* tau_t = max(tau, floor((beta / lr)^2)): beta 0.2, lr 0.05 -> 16; lr 0.2 -> 1 -> tau 2 */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_QSR, .tau = 2, .qsr_beta = 0.2f};
    setup_workers(&f, 2, 1, 0, &cfg);
    f.ws.w[0].params[0] = 0;
    f.ws.w[1].params[0] = 2;
    sync_at(&f, 15, 0.05f);
    cr_assert_eq(f.algo.tau_now, 16);
    cr_assert_eq(f.comm.rounds, 0, "no sync before 16 steps");
    sync_at(&f, 16, 0.05f);
    cr_assert_eq(f.comm.rounds, 1);
    cr_assert_eq(f.ws.w[0].params[0], 1.0f);
    sync_at(&f, 17, 0.2f);
    cr_assert_eq(f.algo.tau_now, 2);
    cr_assert_eq(f.comm.rounds, 1);
    sync_at(&f, 18, 0.2f);
    cr_assert_eq(f.comm.rounds, 2);
    teardown_workers(&f);
}

/* With no gradient, the workers' distance to their average settles where pull
 * and push balance: d* = push / pull (normalized) or (push / pull)^(1/3)
 * (inverse), with the forces at the sync or at every local step (strengths
 * push/tau, pull/tau): the spread a sync measures is the same law. */
static void force_balance_every(int form, float pull, float push, double expect, int tau,
                                int push_every, int pull_every) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DPPF, .tau = tau, .pull = pull, .push = push, .push_form = form,
                    .push_every = push_every, .pull_every = pull_every};
    setup_workers(&f, 4, 1000, 0, &cfg);
    rng_t r;
    rng_init(&r, 42, 0);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 1000; i++) f.ws.w[k].params[i] = (float)(0.3 * k * rng_normal(&r));
    int steps = 300 * tau * (pull_every == FORCE_AT_STEP ? 2 : 1);
    for (int step = 1; step <= steps; step++) sync_at(&f, step, 0.1f);
    for (int step = steps + 1; step <= steps + tau; step++) sync_at(&f, step, 0.1f); /* measures it */
    cr_assert(fabs(f.algo.spread_mean - expect) <= 0.01 * expect,
              "spread %.6f, expected %.6f (push/pull law)", f.algo.spread_mean, expect);
    cr_assert(fabs(f.algo.spread_max - expect) <= 0.01 * expect, "max spread %.6f", f.algo.spread_max);
    teardown_workers(&f);
}

static void force_balance(int form, float pull, float push, double expect) {
    force_balance_every(form, pull, push, expect, 1, FORCE_AT_SYNC, FORCE_AT_SYNC);
}

Test(dppf, force_balance_normalized) { force_balance(PUSH_NORMALIZED, 0.2f, 0.5f, 2.5); }
Test(dppf, force_balance_normalized_small) { force_balance(PUSH_NORMALIZED, 0.5f, 0.01f, 0.02); }
Test(dppf, force_balance_inverse) { force_balance(PUSH_INVERSE, 0.2f, 0.5f, cbrt(2.5)); }
/* push every step (push/tau), pull at the sync: D = (1 - pull) D + push */
Test(dppf, force_balance_push_every_step) {
    force_balance_every(PUSH_NORMALIZED, 0.2f, 0.5f, 2.5, 4, FORCE_AT_STEP, FORCE_AT_SYNC);
}
/* both every step: (1 - pull/tau) d + push/tau g(d) = d */
Test(dppf, force_balance_both_every_step) {
    force_balance_every(PUSH_NORMALIZED, 0.2f, 0.5f, 2.5, 4, FORCE_AT_STEP, FORCE_AT_STEP);
}
Test(dppf, force_balance_inverse_both_every_step) {
    force_balance_every(PUSH_INVERSE, 0.2f, 0.5f, cbrt(2.5), 4, FORCE_AT_STEP, FORCE_AT_STEP);
}

Test(dppf, push_every_step_push0_pull1_is_localsgd) {
    algo_cfg ref = {.kind = ALGO_LOCALSGD, .tau = 3};
    algo_cfg alg = {.kind = ALGO_DPPF, .tau = 3, .pull = 1, .push = 0, .push_every = FORCE_AT_STEP};
    expect_equivalent(&ref, &alg, 3, 50, 2, 20);
}

Test(dppf, per_step_hand_computed) {
    /* tau 2, pull 0.5 and push 1 every step: pull/tau = 0.25, push/tau = 0.5.
     * c = the start (0, 0); x = (3, 4), d = 5: s = (1 - 0.25) + 0.5/5 = 0.85,
     * x += (s - 1)(x - c) = (2.55, 3.4). The worker at c stays there. */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DPPF, .tau = 2, .pull = 0.5f, .push = 1.0f,
                    .push_every = FORCE_AT_STEP, .pull_every = FORCE_AT_STEP};
    setup_workers(&f, 2, 2, 0, &cfg);
    f.ws.w[0].params[0] = 3, f.ws.w[0].params[1] = 4;
    sync_at(&f, 1, 0.1f);
    cr_assert_float_eq(f.ws.w[0].params[0], 2.55f, 1e-6);
    cr_assert_float_eq(f.ws.w[0].params[1], 3.4f, 1e-6);
    cr_assert_eq(f.ws.w[1].params[0], 0.0f);
    cr_assert_eq(f.comm.rounds, 0, "per-step forces communicate nothing");
    /* step 2: the force again, then the sync: x = (2.55, 3.4) -> s = 0.75 + 0.5/4.25,
     * and the sync only records the new average as c (no force at the sync) */
    double s2 = 0.75 + 0.5 / 4.25;
    sync_at(&f, 2, 0.1f);
    cr_assert_float_eq(f.ws.w[0].params[0], (float)(2.55 * s2), 1e-6);
    cr_assert_eq(f.comm.rounds, 1);
    cr_assert_float_eq(f.algo.state[0], (float)(2.55 * s2 / 2), 1e-6, "c = the sync's average");
    teardown_workers(&f);
}

Test(dppf, adaptive_push_hand_computed) {
    /* x = (0, 4): avg 2, spread 2; target 1: sqrt(1/2) = 0.707 is below the
     * bound 1/1.1, so push = 1/1.1; then the sync with it: s = 0.5 + push/2. */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DPPF, .tau = 1, .pull = 0.5f, .push = 1.0f, .target_spread = 1.0f,
                    .target_rate = 0.1f};
    setup_workers(&f, 2, 1, 0, &cfg);
    cr_assert_eq(f.algo.n_state, 1, "the push is the state");
    f.ws.w[1].params[0] = 4;
    sync_at(&f, 1, 0.1f);
    float push = (float)(1.0 / 1.1);
    cr_assert_float_eq(f.algo.state[0], push, 1e-7);
    double s = 0.5 + push / 2.0;
    cr_assert_float_eq(f.ws.w[0].params[0], (float)(2 - 2 * s), 1e-6);
    cr_assert_float_eq(f.ws.w[1].params[0], (float)(2 + 2 * s), 1e-6);
    cr_assert_eq(f.comm.rounds, 2, "the average, and every worker's distance for the controller");
    cr_assert_eq(f.comm.bytes, 8 + 8);
    /* spread now 2s < target 4: sqrt(4 / 2s) > 1.1, so the push grows by the bound */
    f.algo.cfg.target_spread = 4.0f;
    sync_at(&f, 2, 0.1f);
    cr_assert_float_eq(f.algo.state[0], (float)(push * 1.1), 1e-6);
    teardown_workers(&f);
}

/* The controller settles the spread at the target on a noisy quadratic:
 * each worker's local step is x <- x - lr (x + sigma xi) (f = |x|^2/2 with
 * gradient noise), which both shrinks the spread and diffuses it; the push
 * has to make up the difference, and the controller must find it. */
Test(dppf, adaptive_push_holds_the_target_spread) {
    const int M = 4, n = 200, tau = 4, syncs = 600;
    const double lr = 0.1, sigma = 0.1, target = 1.0;
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DPPF, .tau = tau, .pull = 0.5f, .push = 0.01f,
                    .target_spread = (float)target, .target_rate = 0.1f};
    setup_workers(&f, M, (size_t)n, 0, &cfg);
    rng_t r;
    rng_init(&r, 5, 0);
    double sum = 0;
    int counted = 0;
    for (int step = 1; step <= syncs * tau; step++) {
        for (int k = 0; k < M; k++)
            for (int i = 0; i < n; i++) {
                float *x = &f.ws.w[k].params[i];
                *x -= (float)(lr * (*x + sigma * rng_normal(&r)));
            }
        sync_at(&f, step, (float)lr);
        if (step % tau == 0 && step > syncs * tau / 2) sum += f.algo.spread_mean, counted++;
    }
    double mean = sum / counted;
    cr_assert(fabs(mean - target) <= 0.05 * target, "mean spread %.4f over the last %d syncs, target %.4f",
              mean, counted, target);
    cr_assert(f.algo.state[0] > 0.01f, "the push had to grow from its start (%g)", f.algo.state[0]);
    teardown_workers(&f);
}

Test(dppf, push_schedules) {
    /* no pull, push 1, the run 10 epochs long; x = (0, 4), avg 2, d = 2:
     * x <- avg + (1 + f push / 2) (x - avg), f = the schedule's factor */
    const struct { int kind; double epoch, factor; } cases[] = {
        {PUSH_LINEAR, 5.0, 0.5}, {PUSH_COSINE, 2.5, 0.5 * (1 + cos(3.14159265358979323846 / 4))},
        {PUSH_CONSTANT, 9.0, 1.0}, {PUSH_LINEAR, 12.0, 0.0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fixture f;
        algo_cfg cfg = {.kind = ALGO_DPPF, .tau = 1, .pull = 0, .push = 1.0f,
                        .push_schedule = cases[c].kind, .total_epochs = 10};
        setup_workers(&f, 2, 1, 0, &cfg);
        f.ws.w[1].params[0] = 4;
        step_at_epoch(&f, 1, cases[c].epoch);
        double s = 1 + (float)cases[c].factor / 2.0;
        cr_expect_float_eq(f.ws.w[0].params[0], (float)(2 - 2 * s), 1e-6, "case %zu", c);
        cr_expect_float_eq(f.ws.w[1].params[0], (float)(2 + 2 * s), 1e-6, "case %zu", c);
        teardown_workers(&f);
    }
}

Test(dppf, momentum_reset_and_average) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_LOCALSGD, .tau = 1, .momentum_sync = MOM_AVERAGE};
    setup_workers(&f, 2, 1, 0, &cfg);
    f.ws.w[0].mom[0] = 1;
    f.ws.w[1].mom[0] = 3;
    sync_at(&f, 1, 0.1f);
    cr_assert_eq(f.ws.w[0].mom[0], 2.0f);
    cr_assert_eq(f.ws.w[1].mom[0], 2.0f);
    f.algo.cfg.momentum_sync = MOM_RESET;
    sync_at(&f, 2, 0.1f);
    cr_assert_eq(f.ws.w[0].mom[0], 0.0f);
    cr_assert_eq(f.ws.w[1].mom[0], 0.0f);
    teardown_workers(&f);
}

Test(algo, names) {
    cr_assert_eq(algo_kind("dppf"), ALGO_DPPF);
    cr_assert_eq(algo_kind("ddp"), ALGO_DDP);
    cr_assert_eq(algo_kind("nope"), -1);
    cr_assert_str_eq(algo_name(ALGO_EASGD), "easgd");
}

/* ---- outer optimizers ---- */

Test(slowmo, lr1_momentum0_is_localsgd) {
    algo_cfg ref = {.kind = ALGO_LOCALSGD, .tau = 3};
    algo_cfg slowmo = {.kind = ALGO_SLOWMO, .tau = 3, .outer_lr = 1, .outer_momentum = 0};
    algo_cfg diloco = {.kind = ALGO_DILOCO, .tau = 3, .outer_lr = 1, .outer_momentum = 0,
                       .outer_nesterov = 1};
    expect_equivalent(&ref, &slowmo, 3, 50, 2, 20);
    expect_equivalent(&ref, &diloco, 3, 50, 2, 20);
}

Test(slowmo, hand_computed) {
    /* alpha 0.5, beta 0.5, inner lr gamma 0.1, x0 = 0.
     * sync 1: x = (1, 3), avg 2, g = x0 - avg = -2, u = g/gamma = -20,
     *         x0 <- x0 - alpha gamma u = 1 (= avg + (1 - alpha) g - alpha beta gamma u_old).
     * sync 2: x = (2, 4), avg 3, g = -2, u = 0.5 (-20) - 20 = -30, x0 <- 1 + 0.05 * 30 = 2.5. */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_SLOWMO, .tau = 1, .outer_lr = 0.5f, .outer_momentum = 0.5f};
    setup_workers(&f, 2, 1, 0, &cfg);
    f.ws.w[0].params[0] = 1, f.ws.w[1].params[0] = 3;
    sync_at(&f, 1, 0.1f);
    cr_assert_float_eq(f.ws.w[0].params[0], 1.0f, 1e-6);
    cr_assert_float_eq(f.ws.w[1].params[0], 1.0f, 1e-6);
    cr_assert_float_eq(f.algo.state[1], -20.0f, 1e-5, "slow momentum in gradient units");
    f.ws.w[0].params[0] = 2, f.ws.w[1].params[0] = 4;
    sync_at(&f, 2, 0.1f);
    cr_assert_float_eq(f.ws.w[0].params[0], 2.5f, 1e-6);
    cr_assert_float_eq(f.algo.state[0], 2.5f, 1e-6, "x0 = the next period's start");
    cr_assert_eq(f.comm.rounds, 2, "one allreduce a sync, as LocalSGD");
    teardown_workers(&f);
}

Test(diloco, hand_computed_nesterov) {
    /* alpha 0.5, beta 0.5, Nesterov, no lr scaling: x = (1, 3), g = -2, u = -2,
     * x0 <- 0 - 0.5 (g + 0.5 u) = 1.5 */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DILOCO, .tau = 1, .outer_lr = 0.5f, .outer_momentum = 0.5f,
                    .outer_nesterov = 1};
    setup_workers(&f, 2, 1, 0, &cfg);
    f.ws.w[0].params[0] = 1, f.ws.w[1].params[0] = 3;
    sync_at(&f, 1, 0.1f);
    cr_assert_float_eq(f.ws.w[0].params[0], 1.5f, 1e-6);
    cr_assert_float_eq(f.ws.w[1].params[0], 1.5f, 1e-6);
    cr_assert_float_eq(f.algo.state[1], -2.0f, 1e-6);
    teardown_workers(&f);
}

/* ---- lsgd ---- */

Test(lsgd, hand_computed_leader_pull) {
    /* M = 3, tau 2, global pull 0.5. Losses (3, 1, 2) then (3, 2, 2): sums
     * (6, 3, 4), leader 1 = (2, 4 | 10). Each other worker moves halfway to
     * it, BN buffers too; the leader stays. */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_LSGD, .tau = 2, .lsgd_local = 0.5f, .lsgd_global = 0.5f, .lsgd_group = 1};
    setup_workers(&f, 3, 2, 1, &cfg);
    const float start[3][3] = {{0, 0, 0}, {2, 4, 10}, {4, 0, 2}};
    for (int k = 0; k < 3; k++) memcpy(f.ws.w[k].params, start[k], sizeof start[k]);
    const float loss1[3] = {3, 1, 2}, loss2[3] = {3, 2, 2};
    for (int k = 0; k < 3; k++) f.ws.w[k].loss = loss1[k];
    sync_at(&f, 1, 0.1f);
    cr_assert_eq(f.comm.rounds, 0);
    for (int k = 0; k < 3; k++) f.ws.w[k].loss = loss2[k];
    sync_at(&f, 2, 0.1f);
    const float want[3][3] = {{1, 2, 5}, {2, 4, 10}, {3, 2, 6}};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 3; i++)
            cr_expect_float_eq(f.ws.w[k].params[i], want[k][i], 1e-6, "worker %d, value %d", k, i);
    cr_assert_eq(f.comm.rounds, 2, "the losses and the leader's vector");
    cr_assert_eq(f.comm.bytes, 4 + 3 * 4, "a float of loss, then the leader's 3 floats");
    cr_assert_float_eq(f.algo.spread_mean, 2 * sqrt(20.0) / 3, 1e-6, "distance to the leader");
    cr_assert_float_eq(f.algo.spread_max, sqrt(20.0), 1e-6);
    for (int i = 0; i < 3; i++) cr_assert_eq(f.algo.state[i], 0.0f, "losses restart after a sync");
    teardown_workers(&f);
}

Test(lsgd, strength1_is_the_leader) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_LSGD, .tau = 1, .lsgd_local = 0, .lsgd_global = 1, .lsgd_group = 1};
    setup_workers(&f, 4, 30, 3, &cfg);
    fixture *one[1] = {&f};
    rng_t r;
    rng_init(&r, 3, 0);
    random_moves(one, 1, &r, 1.0f);
    float lead[33];
    memcpy(lead, f.ws.w[2].params, sizeof lead);
    for (int k = 0; k < 4; k++) f.ws.w[k].loss = k == 2 ? 0.5f : 1.0f + k;
    sync_at(&f, 1, 0.1f);
    for (int k = 0; k < 4; k++)
        cr_assert(memcmp(f.ws.w[k].params, lead, sizeof lead) == 0, "worker %d is not the leader", k);
    teardown_workers(&f);
}

Test(lsgd, two_levels) {
    /* M = 4 in groups of 2, local 0.5 then global 0.5. Loss sums (4, 1, 2, 3):
     * group leaders 1 and 2, overall leader 1. x = (0, 8, 4, 12):
     * local -> (4, 8, 4, 8); global toward worker 1 (8) -> (6, 8, 6, 8). */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_LSGD, .tau = 1, .lsgd_local = 0.5f, .lsgd_global = 0.5f, .lsgd_group = 2};
    setup_workers(&f, 4, 1, 0, &cfg);
    const float x[4] = {0, 8, 4, 12}, loss[4] = {4, 1, 2, 3}, want[4] = {6, 8, 6, 8};
    for (int k = 0; k < 4; k++) f.ws.w[k].params[0] = x[k], f.ws.w[k].loss = loss[k];
    sync_at(&f, 1, 0.1f);
    for (int k = 0; k < 4; k++) cr_expect_float_eq(f.ws.w[k].params[0], want[k], 1e-6, "worker %d", k);
    cr_assert_eq(f.comm.rounds, 3, "losses, the group leaders (side by side), the leader");
    cr_assert_eq(f.comm.bytes, 3 * 4);
    teardown_workers(&f);
}

/* ---- grawa ---- */

/* Equal gradient norms: weights 4096 each, the centre is the plain mean bit
 * for bit, and with pull 1 the sync is LocalSGD's (M = 3: 1/3 is not exact). */
static void grawa_equal_norms(int kind, const net_t *net) {
    fixture a, b;
    algo_cfg ref = {.kind = ALGO_LOCALSGD, .tau = 2, .net = net};
    algo_cfg alg = {.kind = kind, .tau = 2, .pull = 1, .net = net};
    setup_workers(&a, 3, 5, 2, &ref);
    setup_workers(&b, 3, 5, 2, &alg);
    fixture *both[2] = {&a, &b};
    rng_t r;
    rng_init(&r, 11, 0);
    random_moves(both, 2, &r, 1.0f);
    for (int s = 1; s <= 8; s++) {
        random_moves(both, 2, &r, 0.1f);
        for (int k = 0; k < 3; k++) /* a different gradient each, of norm 5 */
            for (int i = 0; i < 5; i++) b.ws.w[k].grads[i] = i == k ? 3.0f : i == k + 1 ? 4.0f : 0.0f;
        sync_at(&a, s, 0.1f);
        sync_at(&b, s, 0.1f);
        expect_same_workers(&a, &b, s);
    }
    cr_assert_eq(b.comm.rounds, 2 * a.comm.rounds, "the norms, then the weighted mean");
    teardown_workers(&a);
    teardown_workers(&b);
}

/* A net of three tensors in table order B (params 2..3), a BN buffer, A
 * (params 0..2): the layout chains them by offset. */
static net_t fake_net(net_tensor *t) {
    memset(t, 0, 3 * sizeof *t);
    t[0] = (net_tensor){.name = "B", .offset = 2, .size = 1};
    t[1] = (net_tensor){.name = "buf", .is_buffer = 1, .offset = 0, .size = 1};
    t[2] = (net_tensor){.name = "A", .offset = 0, .size = 2};
    return (net_t){.n_tensors = 3, .tensors = t, .n_params = 3, .n_buffers = 1};
}

Test(grawa, equal_norms_is_localsgd) {
    grawa_equal_norms(ALGO_MGRAWA, NULL);
    grawa_equal_norms(ALGO_LGRAWA, NULL);
}

Test(grawa, mgrawa_hand_computed_with_bias_correction) {
    /* Norms 5 and 1: first estimates are the norms (bias-corrected EMA), so
     * weights 1/5 : 1 -> integers 819 : 4096; pull 1: everyone takes the centre. */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_MGRAWA, .tau = 1, .pull = 1};
    setup_workers(&f, 2, 2, 0, &cfg);
    const float x0[2] = {1, 2}, x1[2] = {3, 6};
    memcpy(f.ws.w[0].params, x0, sizeof x0), memcpy(f.ws.w[1].params, x1, sizeof x1);
    f.ws.w[0].grads[0] = 3, f.ws.w[0].grads[1] = 4;
    f.ws.w[1].grads[0] = 0, f.ws.w[1].grads[1] = 1;
    sync_at(&f, 1, 0.1f);
    for (int k = 0; k < 2; k++) {
        cr_expect_float_eq(f.ws.w[k].params[0], (float)((819.0 * 1 + 4096.0 * 3) / 4915), 1e-6);
        cr_expect_float_eq(f.ws.w[k].params[1], (float)((819.0 * 2 + 4096.0 * 6) / 4915), 1e-6);
    }
    cr_assert_eq(f.comm.rounds, 2);
    cr_assert_eq(f.comm.bytes, 4 + 2 * 8, "a float of norm, then the weighted allreduce");
    /* Sync 2, norms swapped: est_i = EMA / (1 - m^2) over the two norms. */
    const double m = 0.43046721;
    double est0 = ((1 - m) * m * 5 + (1 - m) * 1) / (1 - m * m);
    double est1 = ((1 - m) * m * 1 + (1 - m) * 5) / (1 - m * m);
    double q1 = floor(4096 * est0 / est1 + 0.5); /* worker 0 has the smaller estimate: 4096 */
    float y0[2] = {0, 10}, y1[2] = {4, 2};
    memcpy(f.ws.w[0].params, y0, sizeof y0), memcpy(f.ws.w[1].params, y1, sizeof y1);
    f.ws.w[0].grads[0] = 0, f.ws.w[0].grads[1] = 1;
    f.ws.w[1].grads[0] = 3, f.ws.w[1].grads[1] = 4;
    sync_at(&f, 2, 0.1f);
    cr_expect_float_eq(f.ws.w[0].params[0], (float)((4096 * 0 + q1 * 4) / (4096 + q1)), 1e-6);
    cr_expect_float_eq(f.ws.w[0].params[1], (float)((4096 * 10 + q1 * 2) / (4096 + q1)), 1e-6);
    cr_assert_float_eq(f.algo.state[0], 2.0f, 0, "two syncs counted for the bias correction");
    teardown_workers(&f);
}

Test(grawa, lgrawa_per_layer) {
    /* Layer A (params 0..1): norms 5 and 1 -> weights 819 : 4096; layer B
     * (param 2): norms 1 and 2 -> 4096 : 2048; the BN buffer: the mean.
     * Pull 0.5 toward the centre; buffers := the mean. */
    net_tensor t[3];
    net_t net = fake_net(t);
    fixture f;
    algo_cfg cfg = {.kind = ALGO_LGRAWA, .tau = 1, .pull = 0.5f, .net = &net};
    setup_workers(&f, 2, 3, 1, &cfg);
    cr_assert_eq(f.algo.n_layers, 2);
    const float x0[4] = {1, 2, 5, 10}, x1[4] = {3, 6, 1, 20};
    memcpy(f.ws.w[0].params, x0, sizeof x0), memcpy(f.ws.w[1].params, x1, sizeof x1);
    const float g0[3] = {3, 4, 1}, g1[3] = {0, 1, 2};
    memcpy(f.ws.w[0].grads, g0, sizeof g0), memcpy(f.ws.w[1].grads, g1, sizeof g1);
    sync_at(&f, 1, 0.1f);
    double c[3] = {(819.0 * 1 + 4096.0 * 3) / 4915, (819.0 * 2 + 4096.0 * 6) / 4915,
                   (4096.0 * 5 + 2048.0 * 1) / 6144};
    for (int i = 0; i < 3; i++) {
        cr_expect_float_eq(f.ws.w[0].params[i], (float)(0.5 * x0[i] + 0.5 * c[i]), 1e-5, "x0[%d]", i);
        cr_expect_float_eq(f.ws.w[1].params[i], (float)(0.5 * x1[i] + 0.5 * c[i]), 1e-5, "x1[%d]", i);
    }
    cr_expect_eq(f.ws.w[0].buffers[0], 15.0f);
    cr_expect_eq(f.ws.w[1].buffers[0], 15.0f);
    cr_assert_eq(f.comm.bytes, 2 * 4 + 4 * 8, "two norms a worker, then [params | buffers]");
    teardown_workers(&f);
}

Test(grawa, layout_must_tile_the_parameters) {
    net_tensor t[3];
    net_t net = fake_net(t);
    t[0].offset = 3; /* a gap at 2 */
    fixture f;
    dp_err e = {0};
    algo_cfg cfg = {.kind = ALGO_LGRAWA, .tau = 1, .pull = 1, .net = &net};
    cr_assert_eq(comm_init(&f.comm, 2, &e), 0);
    cr_assert_eq(workers_alloc(&f.ws, &f.comm, 3, 1, 1, &e), 0);
    cr_assert_neq(algo_init(&f.algo, &cfg, &f.ws, &e), 0);
    cr_expect(strstr(e.msg, "do not tile"), "%s", e.msg);
    workers_free(&f.ws);
    comm_finalize(&f.comm);
}

/* ---- the EMA of the averaged model ---- */

Test(ema, follows_the_average_at_each_sync) {
    /* decay 0.5 per step, tau 2: at the sync after 2 steps the EMA moves
     * 1 - 0.5^2 = 0.75 of the way to the average [3 | 15]. */
    fixture f;
    algo_cfg cfg = {.kind = ALGO_LOCALSGD, .tau = 2, .ema_decay = 0.5f};
    setup_workers(&f, 2, 1, 1, &cfg);
    cr_assert_eq(f.algo.n_state, 2, "the EMA of [params | buffers] is the state");
    cr_assert_eq(f.algo.ema[0], 0.0f, "starts at the starting point");
    f.ws.w[0].params[0] = 2, f.ws.w[0].buffers[0] = 10;
    f.ws.w[1].params[0] = 4, f.ws.w[1].buffers[0] = 20;
    sync_at(&f, 1, 0.1f);
    cr_assert_eq(f.algo.ema[0], 0.0f, "no sync, no update");
    sync_at(&f, 2, 0.1f);
    cr_assert_float_eq(f.algo.ema[0], 2.25f, 1e-6);
    cr_assert_float_eq(f.algo.ema[1], 11.25f, 1e-6);
    teardown_workers(&f);
}

Test(ema, every_step_for_ddp) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DDP, .tau = 1, .ema_decay = 0.5f};
    setup_workers(&f, 2, 1, 0, &cfg);
    f.ws.w[0].params[0] = f.ws.w[1].params[0] = 4;
    sync_at(&f, 1, 0.1f);
    cr_assert_float_eq(f.algo.ema[0], 2.0f, 1e-7);
    sync_at(&f, 2, 0.1f);
    cr_assert_float_eq(f.algo.ema[0], 3.0f, 1e-7);
    teardown_workers(&f);
}

Test(ema, off_adds_no_state) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_EASGD, .tau = 1, .moving_rate = 0.5f};
    setup_workers(&f, 2, 3, 1, &cfg);
    cr_assert_eq(f.algo.n_state, 4, "the EASGD centre only: checkpoints keep their layout");
    cr_assert_null(f.algo.ema);
    teardown_workers(&f);
}

/* ---- comm ---- */

Test(comm, weighted_mean_of_equal_weights_is_the_mean) {
    dp_err e = {0};
    comm_t c;
    cr_assert_eq(comm_init(&c, 3, &e), 0);
    cr_assert_eq(comm_reserve(&c, 64, &e), 0);
    float x[3][64], mean[64], wmean[64];
    rng_t r;
    rng_init(&r, 9, 0);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 64; i++) x[k][i] = (float)(rng_normal(&r) * (1 + i));
    float *bufs[3] = {x[0], x[1], x[2]};
    const size_t ends[2] = {40, 64};
    const float w[6] = {4096, 4096, 4096, 4096, 4096, 4096};
    cr_assert_eq(comm_mean_workers(&c, bufs, 64, mean, 1, &e), 0);
    cr_assert_eq(comm_weighted_mean_workers(&c, bufs, 64, ends, 2, w, wmean, 1, &e), 0);
    cr_assert(memcmp(mean, wmean, sizeof mean) == 0, "equal power-of-two weights: the mean, bit for bit");
    cr_assert_eq(c.rounds, 2);
    /* per range: weights (1, 2, 1) on [0, 40) and (1, 1, 2) on [40, 64) */
    const float w2[6] = {1, 1, 2, 1, 1, 2};
    cr_assert_eq(comm_weighted_mean_workers(&c, bufs, 64, ends, 2, w2, wmean, 0, &e), 0);
    for (int i = 0; i < 64; i++) {
        double want = i < 40 ? (x[0][i] + 2.0 * x[1][i] + x[2][i]) / 4 : (x[0][i] + x[1][i] + 2.0 * x[2][i]) / 4;
        cr_expect_float_eq(wmean[i], (float)want, 1e-6 * (1 + fabs(want)), "element %d", i);
    }
    cr_assert_eq(c.rounds, 2, "count = 0 is not counted");
    comm_finalize(&c);
}

/* ---- unreliable syncs (dist/faults.h) ---- */

Test(faults, draws_are_seeded_and_exact) {
    faults_cfg c = {.drop_prob = 0.25f, .participation = 0.5f, .straggler_prob = 0.5f,
                    .straggler_delay = 1, .seed = 3};
    unsigned char p[8], l[8], g[8], p2[8], l2[8], g2[8];
    int total = 0;
    for (int64_t step = 1; step <= 400; step++) {
        int n = faults_draw(&c, 8, step, 0.0, p, l, g);
        cr_assert_eq(faults_draw(&c, 8, step, 0.0, p2, l2, g2), n, "the same step draws the same");
        cr_assert(memcmp(p, p2, 8) == 0 && memcmp(l, l2, 8) == 0);
        int chosen = 0;
        for (int i = 0; i < 8; i++) chosen += p[i] || 0;
        cr_assert(n <= 4, "participation 0.5 of 8: at most 4 take part, got %d", n);
        for (int i = 0; i < 8; i++) cr_assert(!l[i] || p[i], "only a worker that takes part can be late");
        total += n;
    }
    /* 4 chosen, each then dropped with 1/4: 3 a sync on average. */
    cr_expect(fabs(total / 400.0 - 3.0) < 0.15, "mean participants %.3f", total / 400.0);
    faults_cfg split = {.participation = 1, .split_from = 1, .split_to = 2};
    faults_draw(&split, 6, 5, 1.5, p, l, g);
    cr_expect(!g[0] && !g[2] && g[3] && g[5], "the split: [0, 3) and [3, 6)");
    faults_draw(&split, 6, 5, 2.0, p, l, g);
    cr_expect(!g[5], "no split after epoch b");
    faults_cfg none = {.participation = 1, .straggler_delay = 1};
    cr_expect(!faults_enabled(&none), "drop 0, participation 1, no stragglers, no split: reliable");
}

/* 3 workers, LocalSGD, tau 1, one parameter each: 1, 2, 6. */
static void three_workers(fixture *f, const algo_cfg *cfg) {
    setup_workers(f, 3, 1, 0, cfg);
    const float x[3] = {1, 2, 6};
    for (int k = 0; k < 3; k++) f->ws.w[k].params[0] = x[k];
}

/* The first step whose draw has exactly the wanted absentees (searching the seed's steps). */
static int64_t step_with(const faults_cfg *c, int M, const unsigned char *want_present) {
    unsigned char p[16], l[16], g[16];
    for (int64_t step = 1; step < 100000; step++) {
        faults_draw(c, M, step, 0.0, p, l, g);
        if (memcmp(p, want_present, (size_t)M) == 0) return step;
    }
    cr_assert_fail("no such draw");
    return -1;
}

Test(faults, a_missed_sync_keeps_the_worker_and_leaves_it_out) {
    algo_cfg cfg = {.kind = ALGO_LOCALSGD, .tau = 1, .faults = {.drop_prob = 0.5f, .participation = 1,
                                                                .straggler_delay = 1, .seed = 1}};
    fixture f;
    three_workers(&f, &cfg);
    const unsigned char present[3] = {1, 0, 1};
    int64_t step = step_with(&cfg.faults, 3, present);
    f.algo.last_sync = step - 1;
    sync_at(&f, step, 0.1f);
    cr_expect_eq(f.ws.w[0].params[0], 3.5f, "the mean of workers 0 and 2: (1 + 6) / 2");
    cr_expect_eq(f.ws.w[1].params[0], 2.0f, "worker 1 missed it and keeps its own");
    cr_expect_eq(f.ws.w[2].params[0], 3.5f);
    double syncs, missed, mean;
    algo_fault_counts(&f.algo, 3, &syncs, &missed, &mean);
    cr_expect(syncs == 1 && missed == 1 && mean == 2, "counted: %g syncs, %g missed, %g a sync", syncs, missed, mean);
    cr_expect_eq(f.comm.rounds, 1);
    cr_expect_eq(f.comm.bytes, 5u, "two of three workers send 8 bytes: 16/3 rounded");
    teardown_workers(&f);
}

Test(faults, easgd_centre_moves_with_the_participants_only) {
    algo_cfg cfg = {.kind = ALGO_EASGD, .tau = 1, .moving_rate = 0.5f,
                    .faults = {.drop_prob = 0.5f, .participation = 1, .straggler_delay = 1, .seed = 1}};
    fixture f;
    three_workers(&f, &cfg);
    f.algo.state[0] = 0; /* the centre */
    const unsigned char present[3] = {1, 0, 1};
    int64_t step = step_with(&cfg.faults, 3, present);
    f.algo.last_sync = step - 1;
    sync_at(&f, step, 0.1f);
    /* alpha = beta / M = 1/6: workers 0 and 2 move 1/6 toward 0; worker 1 stays. */
    cr_expect_float_eq(f.ws.w[0].params[0], 1 - 1 / 6.0f, 1e-6);
    cr_expect_eq(f.ws.w[1].params[0], 2.0f);
    cr_expect_float_eq(f.ws.w[2].params[0], 6 - 1.0f, 1e-6);
    /* the centre moves beta toward the participants' mean 3.5 */
    cr_expect_float_eq(f.algo.state[0], 1.75f, 1e-6);
    teardown_workers(&f);
}

Test(faults, a_straggler_resumes_from_a_stale_consensus) {
    algo_cfg cfg = {.kind = ALGO_LOCALSGD, .tau = 1, .faults = {.participation = 1, .straggler_prob = 0.3f,
                                                                .straggler_delay = 1, .seed = 9}};
    fixture f;
    three_workers(&f, &cfg);
    /* The ring starts with worker 0's parameters at algo_init: 0 here (the
     * workers are moved to 1, 2, 6 after it). */
    unsigned char p[3], l[3], g[3];
    int64_t step = 1;
    for (;; step++) { /* a sync where worker 1 alone is late */
        faults_draw(&cfg.faults, 3, step, 0.0, p, l, g);
        if (!l[0] && l[1] && !l[2]) break;
    }
    f.algo.last_sync = step - 1;
    sync_at(&f, step, 0.1f);
    cr_expect_eq(f.ws.w[0].params[0], 3.0f, "the mean of 1, 2, 6 (the straggler contributed)");
    cr_expect_eq(f.ws.w[1].params[0], 0.0f, "the straggler resumes from the consensus of one sync ago: the start");
    /* The next sync: today's consensus (3) is now the stale one a straggler gets. */
    for (step++;; step++) {
        faults_draw(&cfg.faults, 3, step, 0.0, p, l, g);
        if (l[0] && !l[1] && !l[2]) break;
    }
    f.algo.last_sync = step - 1;
    sync_at(&f, step, 0.1f);
    cr_expect_eq(f.ws.w[0].params[0], 3.0f, "stale by one sync: the previous consensus");
    cr_expect_eq(f.ws.w[1].params[0], 2.0f, "the mean of 3, 0, 3");
    teardown_workers(&f);
}

Test(faults, ddp_averages_the_gradients_that_arrive) {
    algo_cfg cfg = {.kind = ALGO_DDP, .tau = 1, .faults = {.drop_prob = 0.5f, .participation = 1,
                                                           .straggler_delay = 1, .seed = 1}};
    fixture f;
    setup_workers(&f, 3, 1, 0, &cfg);
    const float g[3] = {1, 2, 6};
    const unsigned char present[3] = {1, 0, 1};
    int64_t step = step_with(&cfg.faults, 3, present);
    for (int k = 0; k < 3; k++) f.ws.w[k].grads[0] = g[k];
    dp_err e = {0};
    cr_assert_eq(algo_after_backward(&f.algo, &f.ws, step - 1, 0.0, &e), 0, "%s", e.msg);
    for (int k = 0; k < 3; k++) cr_expect_eq(f.ws.w[k].grads[0], 3.5f, "worker %d applies the mean of 0 and 2", k);
    teardown_workers(&f);
}

Test(faults, a_partition_averages_each_side_apart) {
    algo_cfg cfg = {.kind = ALGO_LOCALSGD, .tau = 1, .faults = {.participation = 1, .straggler_delay = 1,
                                                                .split_from = 0, .split_to = 1}};
    fixture f;
    setup_workers(&f, 4, 1, 0, &cfg);
    const float x[4] = {1, 3, 10, 20};
    for (int k = 0; k < 4; k++) f.ws.w[k].params[0] = x[k];
    dp_err e = {0};
    cr_assert_eq(algo_after_step(&f.algo, &f.ws, 1, 0.5, 0.1f, &e), 0, "%s", e.msg);
    cr_expect(f.ws.w[0].params[0] == 2 && f.ws.w[1].params[0] == 2, "side [0, 2): 2");
    cr_expect(f.ws.w[2].params[0] == 15 && f.ws.w[3].params[0] == 15, "side [2, 4): 15");
    cr_assert_eq(algo_after_step(&f.algo, &f.ws, 2, 1.5, 0.1f, &e), 0, "%s", e.msg);
    for (int k = 0; k < 4; k++) cr_expect_eq(f.ws.w[k].params[0], 8.5f, "after the split: one mean");
    teardown_workers(&f);
    /* An algorithm with one global state cannot be split. */
    algo_cfg ea = {.kind = ALGO_EASGD, .tau = 1, .moving_rate = 0.5f, .faults = cfg.faults};
    comm_t comm;
    worker_set ws;
    algo_t a;
    cr_assert_eq(comm_init(&comm, 4, &e), 0);
    cr_assert_eq(workers_alloc(&ws, &comm, 1, 0, 1, &e), 0);
    cr_expect_eq(algo_init(&a, &ea, &ws, &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "dist.split_epochs") != NULL, "%s", e.msg);
    workers_free(&ws);
    comm_finalize(&comm);
}
