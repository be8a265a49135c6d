/* test_torch_models.c - one full training step of every model family against
 * PyTorch 1.13.
 *
 * The fixtures in tests/fixtures/resnet8/ (ResNet-8) and tests/fixtures/models/
 * (ResNet-18, pre-activation ResNet, PyramidNet basic and bottleneck, WRN,
 * VGG-16) were produced by tests/fixtures/make_resnet_fixture.py and
 * make_model_fixtures.py: the torch twin of each model (state_dict names),
 * small widths, random parameters and running statistics, one batch,
 * computed by torch in float64 from the float32 values stored. We load those
 * values into our flat buffers through the net's tensor table and check, at
 * every stage of the step:
 *   eval-mode logits and loss (initial running stats), train-mode logits and
 *   loss, every parameter gradient and the global gradient norm, every
 *   parameter after one Nesterov SGD step with coupled weight decay on all
 *   parameters (torch.optim.SGD's default), and the updated running stats.
 * Metric: max|ours - torch| / max(1e-6, max|torch|) <= 1e-4 per tensor. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "torch_check.h"
#include "model.h"
#include "net.h"
#include "optim.h"

#define TOL 1e-4

static fixture *load(const char *dir, const char *name) {
    char path[1024], err[1200];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s/%s.bin", DPPF_SOURCE_DIR, dir, name);
    fixture *f = fixture_load(path, err, sizeof err);
    cr_assert_not_null(f, "%s", err);
    return f;
}

/* Worst error per stage of the step, logged at the end for the record. */
typedef struct {
    double eval, loss, grad, gnorm, param, buffer;
} worst;

static void check_floor(double *w, const char *what, const float *ours, const float *ref, size_t n,
                        double floor) {
    double e = relerr_floor(ours, ref, n, floor);
    if (!(e <= *w)) *w = e;
    cr_expect(e <= TOL, "%s: relative error %.3g > %.0e", what, e, TOL);
}

static void check(double *w, const char *what, const float *ours, const float *ref, size_t n) {
    check_floor(w, what, ours, ref, n, 1e-6);
}

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* The fixture's step for model m (arch and model options set; the input
 * shape, classes and BN/loss settings come from the fixture). */
static void step_case(fixture *f, const char *name, model_cfg m, int B, int C, int H, int W, int K) {
    const float *hyp = need(f, "hyper", 7);
    float lr = hyp[0], smoothing = hyp[6];
    sgd_cfg_t opt = {.momentum = hyp[1], .nesterov = (int)hyp[2], .weight_decay = hyp[3],
                     .decoupled = 0};
    m.in_c = C, m.in_h = H, m.in_w = W, m.classes = K;
    m.bn_momentum = hyp[4];
    m.bn_eps = hyp[5];
    m.label_smoothing = smoothing;
    net_t net;
    dp_err e = {0};
    cr_assert_eq(net_build(&net, &m, &e), 0, "net_build: %s", e.msg);

    float *params = calloc(net.n_params, sizeof(float));
    float *grads = calloc(net.n_params, sizeof(float));
    float *mom = calloc(net.n_params, sizeof(float));
    float *buffers = calloc(net.n_buffers ? net.n_buffers : 1, sizeof(float));
    float *init_buffers = calloc(net.n_buffers ? net.n_buffers : 1, sizeof(float));
    cr_assert(params && grads && mom && buffers && init_buffers);

    /* Every tensor of ours, by name and shape; and nothing of torch's left over. */
    for (int i = 0; i < net.n_tensors; i++) {
        const net_tensor *t = &net.tensors[i];
        const fixture_rec *r = fixture_rec_get(f, t->name);
        cr_assert_not_null(r, "tensor %s of our model is not in the torch state_dict", t->name);
        int same = r->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = r->dims[d] == (size_t)t->shape[d];
        cr_assert(same && r->n == t->size, "tensor %s: shape differs from torch's", t->name);
        memcpy((t->is_buffer ? buffers : params) + t->offset, r->data, t->size * sizeof(float));
    }
    static const char *meta[] = {"config", "model", "hyper", "x", "labels", "eval_logits",
                                 "eval_loss", "logits", "loss", "grad_norm"};
    int state = 0;
    for (int i = 0; i < f->count; i++) {
        const char *rn = f->recs[i].name;
        int is_meta = has_prefix(rn, "grad.") || has_prefix(rn, "new.");
        for (size_t j = 0; j < sizeof meta / sizeof *meta; j++) is_meta |= !strcmp(rn, meta[j]);
        if (is_meta) continue;
        state++;
        cr_expect_geq(net_find_tensor(&net, rn), 0, "torch tensor %s is missing from our model", rn);
    }
    cr_assert_eq(state, net.n_tensors, "torch has %d state tensors, we have %d", state,
                 net.n_tensors);
    memcpy(init_buffers, buffers, net.n_buffers * sizeof(float));

    net_ws ws;
    cr_assert_eq(net_ws_alloc(&ws, &net, B, &e), 0, "net_ws_alloc: %s", e.msg);
    memcpy(net_input(&ws), need(f, "x", (size_t)B * C * H * W), (size_t)B * C * H * W * sizeof(float));
    const float *lab = need(f, "labels", (size_t)B);
    int32_t labels[64];
    cr_assert_leq(B, 64);
    for (int i = 0; i < B; i++) labels[i] = (int32_t)lab[i];
    const float *logits = ws.act[net.ops[net.n_ops - 1].out];
    worst w = {0};

    /* Eval mode: running statistics, which must stay untouched. */
    float loss = net_forward(&net, &ws, params, buffers, labels, B, 0, NULL, NULL);
    check(&w.eval, "eval logits", logits, need(f, "eval_logits", (size_t)B * K), (size_t)B * K);
    check(&w.eval, "eval loss", &loss, need(f, "eval_loss", 1), 1);
    cr_expect(memcmp(buffers, init_buffers, net.n_buffers * sizeof(float)) == 0,
              "an eval-mode forward changed the running statistics");

    /* Train mode: batch statistics, running stats updated. */
    rng_t rng;
    rng_init(&rng, 1, 0);
    loss = net_forward(&net, &ws, params, buffers, labels, B, 1, &rng, NULL);
    check(&w.loss, "train logits", logits, need(f, "logits", (size_t)B * K), (size_t)B * K);
    check(&w.loss, "train loss", &loss, need(f, "loss", 1), 1);

    memset(grads, 0, net.n_params * sizeof(float));
    net_backward(&net, &ws, params, grads, labels, B);
    double sq = 0.0;
    for (size_t i = 0; i < net.n_params; i++) sq += (double)grads[i] * grads[i];
    float gnorm = (float)sqrt(sq);
    check(&w.gnorm, "gradient norm", &gnorm, need(f, "grad_norm", 1), 1);

    /* PyTorch's SGD decays every parameter by default: n_decay = n_params. */
    sgd_step(params, grads, mom, net.n_params, net.n_params, lr, &opt);

    for (int i = 0; i < net.n_tensors; i++) {
        const net_tensor *t = &net.tensors[i];
        char key[96];
        if (!t->is_buffer) {
            snprintf(key, sizeof key, "grad.%s", t->name);
            /* A gradient that is 0 in exact arithmetic (the bias of a layer
             * feeding a BatchNorm, which ignores shifts) is rounding noise on
             * both sides: it is measured against the scale of the whole
             * gradient (1% of its norm) rather than its own. */
            check_floor(&w.grad, key, grads + t->offset, need(f, key, t->size), t->size,
                        1e-2 * need(f, "grad_norm", 1)[0]);
        }
        snprintf(key, sizeof key, "new.%s", t->name);
        check(t->is_buffer ? &w.buffer : &w.param, key,
              (t->is_buffer ? buffers : params) + t->offset, need(f, key, t->size), t->size);
    }
    cr_log_info("%s: max relative error: eval %.2g, train loss/logits %.2g, gradients %.2g, "
                "grad norm %.2g, updated params %.2g, running stats %.2g",
                name, w.eval, w.loss, w.grad, w.gnorm, w.param, w.buffer);

    net_ws_free(&ws);
    net_free(&net);
    free(params), free(grads), free(mom), free(buffers), free(init_buffers);
}

static model_cfg arch_cfg(const char *arch) {
    model_cfg m;
    memset(&m, 0, sizeof m);
    m.arch = model_find(arch);
    cr_assert_geq(m.arch, 0, "no architecture %s", arch);
    return m;
}

/* tests/fixtures/resnet8: config [depth, base_width, N, C, H, W, classes]. */
static void resnet_case(const char *name) {
    fixture *f = load("resnet8", name);
    const float *cfg = need(f, "config", 7);
    char arch[32];
    snprintf(arch, sizeof arch, "resnet%d", (int)cfg[0]);
    model_cfg m = arch_cfg(arch);
    m.base_width = (int)cfg[1];
    step_case(f, name, m, (int)cfg[2], (int)cfg[3], (int)cfg[4], (int)cfg[5], (int)cfg[6]);
    fixture_free(f);
}

/* 1x28x28, N=4, no label smoothing (the MNIST-shaped path). */
Test(torch_resnet, resnet8_1x28x28) { resnet_case("c1_28x28"); }
/* 3x32x32, N=2, label smoothing 0.1 (the CIFAR-shaped path). */
Test(torch_resnet, resnet8_3x32x32_smoothing) { resnet_case("c3_32x32"); }

/* tests/fixtures/models/<name>.bin: config [N, C, H, W, classes], model
 * [base_width, depth, widen, alpha, block, block_dropout]. */
static void model_case(const char *name, const char *arch) {
    fixture *f = load("models", name);
    const float *cfg = need(f, "config", 5), *mod = need(f, "model", 6);
    model_cfg m = arch_cfg(arch);
    m.base_width = (int)mod[0], m.depth = (int)mod[1], m.widen = (int)mod[2], m.alpha = (int)mod[3];
    m.block = (int)mod[4], m.block_dropout = mod[5];
    step_case(f, name, m, (int)cfg[0], (int)cfg[1], (int)cfg[2], (int)cfg[3], (int)cfg[4]);
    fixture_free(f);
}

Test(torch_models, resnet18) { model_case("resnet18", "resnet18"); }
Test(torch_models, preresnet14) { model_case("preresnet14", "preresnet14"); }
Test(torch_models, pyramidnet_basic_odd_sides) { model_case("pyramidnet14_basic", "pyramidnet"); }
Test(torch_models, pyramidnet_bottleneck) { model_case("pyramidnet11_bottleneck", "pyramidnet"); }
Test(torch_models, wrn16_2) { model_case("wrn16_2", "wrn"); }
Test(torch_models, vgg16) { model_case("vgg16", "vgg16"); }
