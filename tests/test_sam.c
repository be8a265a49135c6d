/* test_sam.c - two SAM / ASAM training steps against PyTorch 1.13.
 *
 * The fixtures in tests/fixtures/sam/ were produced by
 * tests/fixtures/make_sam_fixture.py: davda54/sam's first_step/second_step
 * around torch.optim.SGD on the cnn (widths [4], fc 8, batch norm), with the
 * second pass's BatchNorm momentum at 0 (running statistics untouched), two
 * batches. We run sam_gradient (nn/sam.h) and sgd_step as the training loop
 * does and check every parameter and running statistic after each step.
 * Metric: max|ours - torch| / max(1e-6, max|torch|) <= 1e-4 per tensor; and
 * plain SGD must miss the SAM step by far more, so the check can tell them apart. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "torch_check.h"
#include "model.h"
#include "net.h"
#include "optim.h"
#include "sam.h"

#define TOL 1e-4

/* The worst error over every tensor against the fixture's "<prefix>.<name>". */
static double worst_error(const net_t *net, const float *params, const float *buffers,
                          const fixture *f, const char *prefix, int with_buffers) {
    double worst = 0;
    for (int i = 0; i < net->n_tensors; i++) {
        const net_tensor *t = &net->tensors[i];
        if (t->is_buffer && !with_buffers) continue;
        char key[96];
        snprintf(key, sizeof key, "%s.%s", prefix, t->name);
        double e = relerr((t->is_buffer ? buffers : params) + t->offset, need(f, key, t->size), t->size);
        cr_expect(e <= TOL, "%s: relative error %.3g > %.0e", key, e, TOL);
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

static void sam_case(const char *name) {
    char path[1024], err[1200];
    snprintf(path, sizeof path, "%s/tests/fixtures/sam/%s.bin", DPPF_SOURCE_DIR, name);
    fixture *f = fixture_load(path, err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    const float *cfg = need(f, "config", 7), *hyp = need(f, "hyper", 9);
    int B = (int)cfg[0], C = (int)cfg[1], H = (int)cfg[2], W = (int)cfg[3];
    model_cfg m;
    memset(&m, 0, sizeof m);
    m.arch = model_find("cnn");
    m.in_c = C, m.in_h = H, m.in_w = W, m.classes = (int)cfg[4];
    m.n_widths = 1, m.widths[0] = (int)cfg[5], m.fc = (int)cfg[6], m.batchnorm = 1;
    m.bn_momentum = hyp[4], m.bn_eps = hyp[5], m.label_smoothing = hyp[6];
    sgd_cfg_t opt = {.momentum = hyp[1], .nesterov = (int)hyp[2], .weight_decay = hyp[3]};
    net_t net;
    dp_err e = {0};
    cr_assert_eq(net_build(&net, &m, &e), 0, "net_build: %s", e.msg);
    float *params = calloc(net.n_params, sizeof(float)), *grads = calloc(net.n_params, sizeof(float));
    float *mom = calloc(net.n_params, sizeof(float)), *buffers = calloc(net.n_buffers, sizeof(float));
    cr_assert(params && grads && mom && buffers);
    for (int i = 0; i < net.n_tensors; i++) { /* the starting point, by state_dict name */
        const net_tensor *t = &net.tensors[i];
        memcpy((t->is_buffer ? buffers : params) + t->offset, need(f, t->name, t->size),
               t->size * sizeof(float));
    }
    sam_t sam;
    cr_assert_eq(sam_init(&sam, net.n_params, net.n_buffers, hyp[7], (int)hyp[8], &e), 0);
    net_ws ws;
    cr_assert_eq(net_ws_alloc(&ws, &net, B, &e), 0, "%s", e.msg);
    rng_t rng;
    rng_init(&rng, 1, 0);
    int32_t labels[16];
    cr_assert_leq(B, 16);
    float *sgd_params = calloc(net.n_params, sizeof(float)), *sgd_mom = calloc(net.n_params, sizeof(float));
    cr_assert(sgd_params && sgd_mom);
    memcpy(sgd_params, params, net.n_params * sizeof(float));
    for (int s = 1; s <= 2; s++) {
        char key[32];
        size_t nin = (size_t)B * C * H * W;
        snprintf(key, sizeof key, "x%d", s);
        memcpy(net_input(&ws), need(f, key, nin), nin * sizeof(float));
        snprintf(key, sizeof key, "labels%d", s);
        const float *lab = need(f, key, (size_t)B);
        for (int i = 0; i < B; i++) labels[i] = (int32_t)lab[i];
        net_forward(&net, &ws, params, buffers, labels, B, NET_TRAIN, &rng, NULL);
        memset(grads, 0, net.n_params * sizeof(float));
        net_backward(&net, &ws, params, grads, labels, B);
        if (s == 1) { /* plain SGD from the same gradient, for contrast */
            sgd_step(sgd_params, grads, sgd_mom, net.n_params, net.n_params, hyp[0], &opt);
        }
        sam_gradient(&sam, &net, &ws, params, buffers, grads, labels, B, &rng);
        sgd_step(params, grads, mom, net.n_params, net.n_params, hyp[0], &opt);
        snprintf(key, sizeof key, "step%d", s);
        double w = worst_error(&net, params, buffers, f, key, 1);
        cr_log_info("%s step %d: worst relative error %.2g", name, s, w);
        if (s == 1) {
            double far = 0;
            for (int i = 0; i < net.n_tensors; i++) {
                const net_tensor *t = &net.tensors[i];
                if (t->is_buffer) continue;
                char k2[96];
                snprintf(k2, sizeof k2, "sgd1.%s", t->name);
                cr_expect(relerr(sgd_params + t->offset, need(f, k2, t->size), t->size) <= TOL,
                          "plain SGD reference %s", k2);
                snprintf(k2, sizeof k2, "step1.%s", t->name);
                double d = relerr(sgd_params + t->offset, need(f, k2, t->size), t->size);
                if (d > far) far = d;
            }
            cr_expect(far > 100 * TOL, "plain SGD is within %.3g of SAM: the check could not tell", far);
        }
    }
    free(sgd_params), free(sgd_mom);
    net_ws_free(&ws);
    sam_free(&sam);
    net_free(&net);
    free(params), free(grads), free(mom), free(buffers);
    fixture_free(f);
}

/* SAM, rho 0.5, heavy-ball momentum, no smoothing. */
Test(torch_sam, sam) { sam_case("sam"); }
/* ASAM (adaptive), rho 1, Nesterov momentum, label smoothing 0.1. */
Test(torch_sam, asam_nesterov_smoothing) { sam_case("asam_nesterov_smoothing"); }
