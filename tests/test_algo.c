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
 * and push balance: d* = push / pull (normalized) or (push / pull)^(1/3) (inverse). */
static void force_balance(int form, float pull, float push, double expect) {
    fixture f;
    algo_cfg cfg = {.kind = ALGO_DPPF, .tau = 1, .pull = pull, .push = push, .push_form = form};
    setup_workers(&f, 4, 1000, 0, &cfg);
    rng_t r;
    rng_init(&r, 42, 0);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 1000; i++) f.ws.w[k].params[i] = (float)(0.3 * k * rng_normal(&r));
    for (int step = 1; step <= 300; step++) sync_at(&f, step, 0.1f);
    sync_at(&f, 301, 0.1f); /* measures the spread it converged to */
    cr_assert(fabs(f.algo.spread_mean - expect) <= 0.01 * expect,
              "spread %.6f, expected %.6f (push/pull law)", f.algo.spread_mean, expect);
    cr_assert(fabs(f.algo.spread_max - expect) <= 0.01 * expect, "max spread %.6f", f.algo.spread_max);
    teardown_workers(&f);
}

Test(dppf, force_balance_normalized) { force_balance(PUSH_NORMALIZED, 0.2f, 0.5f, 2.5); }
Test(dppf, force_balance_normalized_small) { force_balance(PUSH_NORMALIZED, 0.5f, 0.01f, 0.02); }
Test(dppf, force_balance_inverse) { force_balance(PUSH_INVERSE, 0.2f, 0.5f, cbrt(2.5)); }

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
