/* Whole-network gradients (train and eval mode) against central differences
 * along random directions, for every architecture family. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "dataset.h"
#include "gemm.h"
#include "net.h"
#include "evaluate.h"
#include "model.h"

static model_cfg small_model(const char *arch, int c, int h, int w, int classes) {
    model_cfg m;
    memset(&m, 0, sizeof m);
    m.arch = model_find(arch);
    m.in_c = c, m.in_h = h, m.in_w = w, m.classes = classes;
    m.n_hidden = 2, m.hidden[0] = 12, m.hidden[1] = 8;
    m.n_widths = 2, m.widths[0] = 3, m.widths[1] = 4;
    m.fc = 8;
    m.batchnorm = 1;
    m.base_width = 4;
    m.depth = strcmp(arch, "wrn") ? 8 : 10; /* pyramidnet: 6n+2; wrn: 6n+4 */
    m.widen = 2;
    m.alpha = 6;
    m.bn_momentum = 0.1f;
    m.bn_eps = 1e-5f;
    m.label_smoothing = 0.1f;
    return m;
}

/* How batches of a synthetic dataset are made (normalised or not). */
static batch_cfg_t synthetic_batches(const dataset_t *tr, int normalize) {
    spec_t ds;
    memset(&ds, 0, sizeof ds);
    ds.data.dataset = DATA_SYNTHETIC;
    ds.data.normalize = normalize;
    batch_cfg_t bc;
    batch_cfg_from_spec(&bc, &ds, tr);
    return bc;
}

/* An architecture on synthetic 1 x side x side images of 4 classes (16
 * training samples; side 12, or 32 for vgg16's five max-pools) with a
 * workspace for one batch of all 16. */
typedef struct {
    dataset_t tr, te;
    net_t n;
    net_ws ws;
    int pixels; /* per sample */
} tiny_t;

static void tiny_make_cfg(tiny_t *t, model_cfg m) {
    dp_err e = {0};
    cr_assert_eq(synthetic_make(&t->tr, &t->te, 1, m.in_h, m.in_w, 4, 16, 8, 5, &e), 0, "%s", e.msg);
    cr_assert_eq(net_build(&t->n, &m, &e), 0, "%s", e.msg);
    cr_assert_eq(net_ws_alloc(&t->ws, &t->n, 16, &e), 0, "%s", e.msg);
    t->pixels = m.in_h * m.in_w;
}

static model_cfg tiny_model(const char *arch) {
    int side = strcmp(arch, "vgg16") ? 12 : 32;
    return small_model(arch, 1, side, side, 4);
}

static void tiny_make(tiny_t *t, const char *arch) { tiny_make_cfg(t, tiny_model(arch)); }

/* The 16 training samples into the network input, their labels into labels. */
static void tiny_fill(tiny_t *t, int32_t labels[16], int normalize) {
    const batch_cfg_t bc = synthetic_batches(&t->tr, normalize);
    int32_t idx[16];
    for (int i = 0; i < 16; i++) idx[i] = i;
    batch_fill(net_input(&t->ws), labels, &t->tr, idx, 16, &bc, 0, NULL);
}

static void tiny_free(tiny_t *t) {
    net_ws_free(&t->ws);
    net_free(&t->n);
    dataset_free(&t->tr), dataset_free(&t->te);
}

/* g.v against (L(x + h v) - L(x - h v)) / 2h for a few random unit v. The
 * tolerance allows for ReLU/maxpool kinks crossed by the finite difference;
 * per-layer gradients are checked tightly in test_layers.c. */
static void check_directional_cfg(const char *arch, model_cfg m, int train) {
    tiny_t t;
    tiny_make_cfg(&t, m);
    const size_t X = (size_t)16 * t.pixels;
    const net_t *n = &t.n;
    float *p = calloc(n->n_params, sizeof *p), *g = calloc(n->n_params, sizeof *g);
    float *q = calloc(n->n_params, sizeof *q), *buf = calloc(n->n_buffers + 1, sizeof *buf);
    double *v = calloc(n->n_params, sizeof *v);
    net_init(n, p, buf, 9);
    rng_t r;
    rng_init(&r, 77, 0);
    /* Non-trivial running statistics for eval mode. */
    for (int k = 0; k < n->n_tensors; k++) {
        const net_tensor *tt = &n->tensors[k];
        if (!tt->is_buffer) continue;
        for (size_t i = 0; i < tt->size; i++)
            buf[tt->offset + i] = strstr(tt->name, "var") ? (float)(0.5 + rng_uniform(&r))
                                                           : (float)(0.3 * rng_normal(&r));
    }
    int32_t labels[16];
    tiny_fill(&t, labels, 1);
    float *x0 = malloc(X * sizeof *x0);
    memcpy(x0, net_input(&t.ws), X * sizeof *x0);

    /* the finite differences below use NET_EVAL's fused conv+BN forward;
     * dropout draws the same masks in every forward (the stream restarts) */
    rng_t drop;
    rng_init(&drop, 11, 0);
    net_forward(n, &t.ws, p, buf, labels, 16, train ? NET_TRAIN : NET_EVAL_GRAD, &drop, NULL);
    net_backward(n, &t.ws, p, g, labels, 16);
    for (int trial = 0; trial < 4; trial++) {
        double norm = 0, gv = 0;
        for (size_t i = 0; i < n->n_params; i++) {
            v[i] = rng_normal(&r);
            norm += v[i] * v[i];
        }
        norm = sqrt(norm);
        for (size_t i = 0; i < n->n_params; i++) gv += g[i] * (v[i] /= norm);
        double h = 1e-3, L[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            for (size_t i = 0; i < n->n_params; i++) q[i] = (float)(p[i] + (sgn ? -h : h) * v[i]);
            memcpy(net_input(&t.ws), x0, X * sizeof *x0);
            rng_init(&drop, 11, 0);
            L[sgn] = net_forward(n, &t.ws, q, buf, labels, 16, train, &drop, NULL);
        }
        double fd = (L[0] - L[1]) / (2 * h);
        cr_assert(fabs(fd - gv) <= 2e-3 + 3e-2 * fabs(gv), "%s %s: g.v = %.6g, finite difference %.6g",
                  arch, train ? "train" : "eval", gv, fd);
    }
    free(x0), free(p), free(g), free(q), free(buf), free(v);
    tiny_free(&t);
}

static void check_directional(const char *arch, int train) {
    check_directional_cfg(arch, tiny_model(arch), train);
}

Test(net, gradient_mlp_train) { check_directional("mlp", 1); }
Test(net, gradient_mlp_eval) { check_directional("mlp", 0); }
Test(net, gradient_cnn_train) { check_directional("cnn", 1); }
Test(net, gradient_cnn_eval) { check_directional("cnn", 0); }
Test(net, gradient_resnet8_train) { check_directional("resnet8", 1); }
Test(net, gradient_resnet8_eval) { check_directional("resnet8", 0); }
Test(net, gradient_preresnet8_train) { check_directional("preresnet8", 1); }
Test(net, gradient_preresnet8_eval) { check_directional("preresnet8", 0); }
Test(net, gradient_resnet18_train) { check_directional("resnet18", 1); }
Test(net, gradient_resnet18_eval) { check_directional("resnet18", 0); }
Test(net, gradient_pyramidnet_train) { check_directional("pyramidnet", 1); }
Test(net, gradient_pyramidnet_eval) { check_directional("pyramidnet", 0); }
Test(net, gradient_pyramidnet_bottleneck_train) {
    model_cfg m = tiny_model("pyramidnet");
    m.block = BLOCK_BOTTLENECK, m.depth = 11;
    check_directional_cfg("pyramidnet bottleneck", m, 1);
}
Test(net, gradient_wrn_train) { check_directional("wrn", 1); }
Test(net, gradient_wrn_eval) { check_directional("wrn", 0); }
/* Dropout between the convolutions: the same masks in forward and backward. */
Test(net, gradient_wrn_dropout_train) {
    model_cfg m = tiny_model("wrn");
    m.block_dropout = 0.3f;
    check_directional_cfg("wrn dropout", m, 1);
}
/* No vgg16 here: 13 ReLU layers on 32x32 maps put so many kinks within any
 * usable step that the finite differences measure an averaged slope (its
 * first conv's off by 2x at every h from 4e-3 to 5e-4), while
 * test_torch_models.c matches torch's gradients to 1e-5 (a batch-16 fixture
 * agreed too when this was written). */

/* A diverged model: the layer that overflows first is found and named, even
 * when later ops reuse its output buffer (ResNet: BN outputs, residual sums). */
Test(net, first_nonfinite_layer) {
    tiny_t t;
    tiny_make(&t, "resnet8");
    const net_t *n = &t.n;
    float *p = calloc(n->n_params, sizeof *p), *buf = calloc(n->n_buffers + 1, sizeof *buf);
    net_init(n, p, buf, 3);
    int32_t labels[16];
    tiny_fill(&t, labels, 0);

    cr_expect_eq(net_first_nonfinite_op(n, &t.ws, p, buf, 16, 1, NULL), -1, "a healthy model");
    int w = net_find_tensor(n, "layer2.0.conv1.weight");
    cr_assert_geq(w, 0);
    for (size_t i = 0; i < n->tensors[w].size; i++) p[n->tensors[w].offset + i] = 1e37f;
    cr_expect(!isfinite(net_forward(n, &t.ws, p, buf, labels, 16, 1, NULL, NULL)));
    int op = net_first_nonfinite_op(n, &t.ws, p, buf, 16, 1, NULL);
    cr_assert_geq(op, 0);
    cr_expect_eq(n->ops[op].w, w, "op %d (%s) is not layer2.0.conv1", op, n->tensors[n->ops[op].w].name);
    char name[160];
    net_op_name(n, op, name, sizeof name);
    cr_expect_str_eq(name, "layer2.0.conv1 (conv)");
    net_op_name(n, op + 2, name, sizeof name); /* conv, bn, relu */
    cr_expect_str_eq(name, "relu after layer2.0.bn1");
    free(p);
    free(buf);
    tiny_free(&t);
}

Test(net, tensor_layout) {
    model_cfg m = small_model("resnet20", 3, 32, 32, 10);
    m.base_width = 16;
    dp_err e = {0};
    net_t n;
    cr_assert_eq(net_build(&n, &m, &e), 0, "%s", e.msg);
    /* He et al.'s CIFAR ResNet-20 (option A) has 0.27M parameters. */
    cr_assert_eq(n.n_params, 269722u, "resnet20 parameters: %zu", n.n_params); /* as the common PyTorch CIFAR ResNet-20 */
    cr_assert(net_find_tensor(&n, "layer3.2.bn2.running_var") >= 0);
    cr_assert(net_find_tensor(&n, "linear.weight") >= 0);
    /* decayed tensors (conv/linear weights) come first */
    for (int t = 0; t < n.n_tensors; t++) {
        const net_tensor *tt = &n.tensors[t];
        if (tt->is_buffer) continue;
        if (tt->decay)
            cr_assert(tt->offset + tt->size <= n.n_params_decay, "%s", tt->name);
        else
            cr_assert(tt->offset >= n.n_params_decay, "%s", tt->name);
    }
    net_free(&n);
    m = small_model("resnet9", 3, 32, 32, 10); /* not a 6n+2 depth: not in the table */
    cr_assert_eq(net_build(&n, &m, &e), DP_EUSAGE);
}

/* The full-size models of the literature, 3x32x32 inputs: parameter counts
 * as torch counts them for the reference definitions
 * (tests/fixtures/torch_models.py prints them), and a tensor name each. */
Test(net, paper_model_sizes) {
    static const struct {
        const char *arch;
        int depth, widen, alpha, block, classes;
        size_t params;
        const char *tensor;
    } rows[] = {
        {"resnet18", 0, 0, 0, 0, 10, 11173962, "layer2.0.shortcut.1.running_var"},
        {"resnet34", 0, 0, 0, 0, 10, 21282122, "layer3.5.conv2.weight"},
        {"preresnet110", 0, 0, 0, 0, 10, 1727962, "bn.running_mean"},
        {"resnet110", 0, 0, 0, 0, 10, 1727962, "layer3.17.bn2.bias"}, /* 1.7M in He et al. */
        {"pyramidnet", 110, 0, 48, BLOCK_BASIC, 10, 1772706, "layer3.17.bn3.weight"},   /* 1.7M in Han et al. */
        {"pyramidnet", 110, 0, 270, BLOCK_BASIC, 100, 28511307, "bn_final.weight"},      /* 28.3M (10 classes) */
        {"pyramidnet", 164, 0, 270, BLOCK_BOTTLENECK, 100, 27319071, "layer1.0.conv3.weight"}, /* 27.0M */
        {"pyramidnet", 20, 0, 24, BLOCK_BASIC, 10, 143133, "fc.bias"},
        {"wrn", 16, 4, 0, 0, 10, 2748890, "block2.layer.0.convShortcut.weight"},        /* 2.7M in Zagoruyko et al. */
        {"wrn", 28, 10, 0, 0, 10, 36479194, "block3.layer.3.conv2.weight"},             /* 36.5M */
        {"wrn", 28, 10, 0, 0, 100, 36536884, "fc.weight"},
        {"vgg16", 0, 0, 0, 0, 10, 14728266, "features.41.running_var"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        model_cfg m = small_model(rows[i].arch, 3, 32, 32, rows[i].classes);
        m.base_width = 0; /* the architecture's */
        m.depth = rows[i].depth, m.widen = rows[i].widen, m.alpha = rows[i].alpha;
        m.block = rows[i].block;
        dp_err e = {0};
        net_t n;
        cr_assert_eq(net_build(&n, &m, &e), 0, "%s: %s", rows[i].arch, e.msg);
        cr_expect_eq(n.n_params, rows[i].params, "%s depth %d: %zu parameters, torch has %zu",
                     rows[i].arch, rows[i].depth, n.n_params, rows[i].params);
        cr_expect_geq(net_find_tensor(&n, rows[i].tensor), 0, "%s: no tensor %s", rows[i].arch,
                      rows[i].tensor);
        net_free(&n);
    }
}

/* What backward keeps (net_kept_bytes, the figure a memory estimate uses),
 * counted by hand per sample (floats) for two of the large graphs:
 *   ResNet-18: the input (3072), the stem conv's output (65536) and ReLU
 *   (65536); per block the conv1 output, ReLU, conv2 output and the ReLU after
 *   the sum (4 maps; the first block of stages 2-4 adds the projection's
 *   output: 5): 2 x 4 x 65536 + 9 x 32768 + 9 x 16384 + 9 x 8192; the pooled
 *   features (512) and the logits (10). Per BN layer 2 C floats of statistics
 *   (4800 channels in all).
 *   WRN-28-10: the input and the stem conv's output (3072 + 16384); per group
 *   the first block's pre-activation (on its input width and size) plus 15
 *   maps of its width (conv1 output, ReLU and the sum of 4 blocks, the BN-ReLU
 *   of the 3 others): 16384 + 15 x 163840, 163840 + 15 x 81920,
 *   81920 + 15 x 40960; the final ReLU (40960), pooled features (640) and
 *   logits (10); 8976 BN channels. */
Test(net, kept_bytes_by_hand) {
    static const struct {
        const char *arch;
        int depth, widen;
        size_t per_sample, bn_channels;
    } rows[] = {
        {"resnet18", 0, 0,
         3072 + 2 * 65536 + 2 * 4 * 65536 + 9 * 32768 + 9 * 16384 + 9 * 8192 + 512 + 10, 4800},
        {"wrn", 28, 10,
         3072 + 16384 + (16384 + 15 * 163840) + (163840 + 15 * 81920) + (81920 + 15 * 40960) + 40960 +
             640 + 10,
         8976},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        model_cfg m = small_model(rows[i].arch, 3, 32, 32, 10);
        m.base_width = 0, m.depth = rows[i].depth, m.widen = rows[i].widen;
        dp_err e = {0};
        net_t n;
        cr_assert_eq(net_build(&n, &m, &e), 0, "%s", e.msg);
        for (int B = 1; B <= 128; B *= 128) {
            size_t want = 4 * (rows[i].per_sample * B + 2 * rows[i].bn_channels);
            cr_expect_eq(net_kept_bytes(&n, B), want, "%s batch %d: kept %zu bytes, by hand %zu",
                         rows[i].arch, B, net_kept_bytes(&n, B), want);
        }
        net_free(&n);
    }
}

/* Depths and widths a family cannot have are refused, naming the key. */
Test(net, bad_family_options) {
    static const struct {
        const char *arch;
        int depth, widen, block, side;
        const char *msg;
    } rows[] = {
        {"wrn", 12, 2, 0, 32, "model.depth: a WRN has depth 6n+4"},
        {"wrn", 10, 0, 0, 32, "model.widen"},
        {"pyramidnet", 12, 0, BLOCK_BASIC, 32, "6n+2"},
        {"pyramidnet", 32, 0, BLOCK_BOTTLENECK, 32, "9n+2"},
        {"vgg16", 0, 0, 0, 28, "needs at least 32x32"},
        {"resnet18", 0, 0, 0, 6, "at least 8x8"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        model_cfg m = small_model(rows[i].arch, 1, rows[i].side, rows[i].side, 10);
        m.depth = rows[i].depth, m.widen = rows[i].widen, m.block = rows[i].block;
        dp_err e = {0};
        net_t n;
        cr_expect_eq(net_build(&n, &m, &e), DP_EUSAGE, "%s built", rows[i].arch);
        cr_expect(strstr(e.msg, rows[i].msg), "'%s' not in: %s", rows[i].msg, e.msg);
    }
}

Test(objective, grad_matches_loss_differences) {
    model_cfg m = small_model("cnn", 1, 12, 12, 4);
    dp_err e = {0};
    dataset_t tr, te;
    cr_assert_eq(synthetic_make(&tr, &te, 1, 12, 12, 4, 40, 8, 5, &e), 0);
    net_t n;
    cr_assert_eq(net_build(&n, &m, &e), 0);
    float *p = calloc(n.n_params, sizeof *p), *g = calloc(n.n_params, sizeof *g);
    float *buf = calloc(n.n_buffers, sizeof *buf);
    net_init(&n, p, buf, 3);
    batch_cfg_t bc = synthetic_batches(&tr, 1);
    objective_t o;
    cr_assert_eq(objective_init(&o, &n, &tr, &bc, 0, 16, buf, &e), 0); /* 40 = 16 + 16 + 8 */
    double acc, L = objective_loss(&o, p, &acc);
    double L2 = objective_grad(&o, p, g);
    cr_assert_float_eq(L, L2, 1e-6);
    cr_assert(acc >= 0 && acc <= 1);
    /* perturb one classifier weight (no kinks after it): the loss changes by ~ g_i h */
    size_t i = n.tensors[net_find_tensor(&n, "classifier.weight")].offset + 3;
    float h = 1e-2f, keep = p[i];
    p[i] = keep + h;
    double Lp = objective_loss(&o, p, NULL);
    p[i] = keep - h;
    double Lm = objective_loss(&o, p, NULL);
    cr_assert(fabs((Lp - Lm) / (2 * h) - g[i]) <= 1e-3 + 2e-2 * fabs(g[i]), "fd %.6g vs g %.6g",
              (Lp - Lm) / (2 * h), g[i]);
    objective_free(&o);
    free(p), free(g), free(buf);
    net_free(&n);
    dataset_free(&tr), dataset_free(&te);
}

/* The objective's loss (forward chunks spread over threads, conv -> BN ->
 * ReLU -> maxpool as one pass, the loss batch by batch) is bit for bit the
 * layers run one by one (NET_EVAL_GRAD fuses nothing) over batches of 128,
 * summed as eval_dataset sums them, on 1 and 2 threads. */
Test(objective, loss_is_the_unfused_batches_bit_for_bit_on_any_threads) {
    model_cfg m = small_model("cnn", 1, 28, 28, 4);
    m.widths[0] = 16, m.widths[1] = 8;
    dp_err e = {0};
    dataset_t tr, te;
    cr_assert_eq(synthetic_make(&tr, &te, 1, 28, 28, 4, 300, 8, 5, &e), 0);
    net_t n;
    cr_assert_eq(net_build(&n, &m, &e), 0);
    float *p = calloc(n.n_params, sizeof *p), *buf = calloc(n.n_buffers, sizeof *buf);
    net_init(&n, p, buf, 3);
    for (size_t i = 0; i < n.n_buffers; i++) buf[i] += 0.25f; /* running stats away from 0/1 */
    batch_cfg_t bc = synthetic_batches(&tr, 1);
    net_ws ws;
    cr_assert_eq(net_ws_alloc(&ws, &n, 128, &e), 0);
    int32_t labels[128], idx[128];
    double ref = 0;
    int64_t right = 0;
    for (int s = 0; s < 300; s += 128) {
        int B = 300 - s < 128 ? 300 - s : 128, c = 0;
        for (int i = 0; i < B; i++) idx[i] = s + i;
        batch_fill(net_input(&ws), labels, &tr, idx, B, &bc, 0, NULL);
        ref += (double)net_forward(&n, &ws, p, buf, labels, B, NET_EVAL_GRAD, NULL, &c) * B;
        right += c;
    }
    ref /= 300;
    for (int threads = 1; threads <= 2; threads++) {
        gemm_set_threads(threads);
        objective_t o;
        cr_assert_eq(objective_init(&o, &n, &tr, &bc, 0, 128, buf, &e), 0);
        cr_assert(o.chunk < o.batch, "chunk %d: the forward runs in pieces of a batch", o.chunk);
        double acc, L = objective_loss(&o, p, &acc);
        cr_expect(memcmp(&L, &ref, sizeof L) == 0, "%d threads: loss %.17g vs %.17g", threads, L, ref);
        cr_expect_eq(acc, (double)right / 300);
        eval_result r;
        eval_dataset(&n, &ws, p, buf, &tr, &bc, 0, NET_EVAL, labels, idx, NULL, NULL, &r);
        cr_expect(memcmp(&r.loss, &ref, sizeof ref) == 0, "eval_dataset %.17g vs %.17g", r.loss, ref);
        objective_free(&o);
    }
    gemm_set_threads(1);
    net_ws_free(&ws);
    free(p), free(buf);
    net_free(&n);
    dataset_free(&tr), dataset_free(&te);
}

/* One train step's loss, gradients and BN running statistics, and the eval
 * loss, at a given thread count; at sizes where the layers and GEMMs do split
 * their work (ResNet-8 of width 16 on 3x32x32, batch 32). */
typedef struct {
    float loss, eval_loss;
    float *grad, *buf;
} step_out;

static void run_step(const char *arch, int threads, step_out *o, size_t *np, size_t *nb) {
    model_cfg m = small_model(arch, 3, 32, 32, 10);
    m.base_width = 16;
    m.n_widths = 2, m.widths[0] = 32, m.widths[1] = 64, m.fc = 64;
    dp_err e = {0};
    dataset_t tr, te;
    cr_assert_eq(synthetic_make(&tr, &te, 3, 32, 32, 10, 32, 8, 5, &e), 0, "%s", e.msg);
    net_t n;
    cr_assert_eq(net_build(&n, &m, &e), 0, "%s", e.msg);
    float *p = calloc(n.n_params, sizeof *p);
    o->grad = calloc(n.n_params, sizeof *o->grad);
    o->buf = calloc(n.n_buffers + 1, sizeof *o->buf);
    net_init(&n, p, o->buf, 9);
    batch_cfg_t bc = synthetic_batches(&tr, 0);
    net_ws ws;
    cr_assert_eq(net_ws_alloc(&ws, &n, 32, &e), 0, "%s", e.msg);
    int32_t labels[32], idx[32];
    for (int i = 0; i < 32; i++) idx[i] = i;
    gemm_set_threads(threads);
    batch_fill(net_input(&ws), labels, &tr, idx, 32, &bc, 0, NULL);
    o->loss = net_forward(&n, &ws, p, o->buf, labels, 32, 1, NULL, NULL);
    net_backward(&n, &ws, p, o->grad, labels, 32);
    batch_fill(net_input(&ws), labels, &tr, idx, 32, &bc, 0, NULL);
    o->eval_loss = net_forward(&n, &ws, p, o->buf, labels, 32, 0, NULL, NULL);
    gemm_set_threads(1);
    *np = n.n_params, *nb = n.n_buffers;
    free(p);
    net_ws_free(&ws);
    net_free(&n);
    dataset_free(&tr), dataset_free(&te);
}

/* Threads split images, channels, elements and GEMM tiles, never a sum:
 * the numbers are the same, bit for bit, whatever the thread count. */
static void check_thread_invariance(const char *arch) {
    step_out one, two;
    size_t np, nb;
    run_step(arch, 1, &one, &np, &nb);
    run_step(arch, 2, &two, &np, &nb);
    cr_expect(memcmp(&one.loss, &two.loss, sizeof one.loss) == 0, "%s train loss %.9g vs %.9g",
              arch, one.loss, two.loss);
    cr_expect(memcmp(&one.eval_loss, &two.eval_loss, sizeof one.loss) == 0,
              "%s eval loss %.9g vs %.9g", arch, one.eval_loss, two.eval_loss);
    size_t diff = 0;
    for (size_t i = 0; i < np; i++) diff += memcmp(&one.grad[i], &two.grad[i], sizeof(float)) != 0;
    cr_expect_eq(diff, 0, "%s: %zu of %zu gradient entries differ between 1 and 2 threads", arch,
                 diff, np);
    cr_expect(memcmp(one.buf, two.buf, nb * sizeof(float)) == 0, "%s: BN running statistics differ",
              arch);
    free(one.grad), free(one.buf), free(two.grad), free(two.buf);
}

Test(net, threads_do_not_change_results_resnet) { check_thread_invariance("resnet8"); }
Test(net, threads_do_not_change_results_cnn) { check_thread_invariance("cnn"); }
Test(net, threads_do_not_change_results_pyramidnet) { check_thread_invariance("pyramidnet"); }

/* net_forward runs BN+ReLU and add+ReLU in one pass; the ops one by one
 * (net_first_nonfinite_op) must give the same logits, bit for bit. */
static void check_fusion(const char *arch) {
    tiny_t t;
    tiny_make(&t, arch);
    const net_t *n = &t.n;
    int fused = 0;
    for (int i = 0; i < n->n_ops; i++) fused += n->ops[i].relu_next;
    cr_assert_gt(fused, 0, "%s has BN->ReLU pairs", arch);
    float *p = calloc(n->n_params, sizeof *p), *buf = calloc(n->n_buffers + 1, sizeof *buf);
    float *buf2 = calloc(n->n_buffers + 1, sizeof *buf2);
    net_init(n, p, buf, 3);
    memcpy(buf2, buf, n->n_buffers * sizeof *buf);
    int32_t labels[16];
    const int last = n->ops[n->n_ops - 1].out, K = n->classes;
    float a[16 * 4], b[16 * 4];
    for (int train = 0; train <= 1; train++) {
        tiny_fill(&t, labels, 0);
        net_forward(n, &t.ws, p, buf, labels, 16, train, NULL, NULL);
        memcpy(a, t.ws.act[last], sizeof(float) * 16 * K);
        tiny_fill(&t, labels, 0);
        cr_assert_eq(net_first_nonfinite_op(n, &t.ws, p, buf2, 16, train, NULL), -1);
        memcpy(b, t.ws.act[last], sizeof(float) * 16 * K);
        cr_expect(memcmp(a, b, sizeof(float) * 16 * K) == 0, "%s %s logits differ", arch,
                  train ? "train" : "eval");
        cr_expect(memcmp(buf, buf2, n->n_buffers * sizeof *buf) == 0, "running statistics differ");
    }
    free(p), free(buf), free(buf2);
    tiny_free(&t);
}

Test(net, fused_relu_matches_ops_one_by_one) { check_fusion("resnet8"); }
Test(net, fused_relu_matches_ops_one_by_one_preact) { check_fusion("preresnet8"); }
Test(net, fused_relu_matches_ops_one_by_one_pyramidnet) { check_fusion("pyramidnet"); }
Test(net, fused_relu_matches_ops_one_by_one_wrn) { check_fusion("wrn"); }
Test(net, fused_relu_matches_ops_one_by_one_vgg) { check_fusion("vgg16"); }

/* The workspace holds at least what backward keeps (net_kept_bytes, the
 * figure the memory estimate uses), and shares the rest: for every family it
 * is less than a buffer per activation and per gradient. */
Test(net, workspace_plan_bounds) {
    static const char *archs[] = {"resnet8", "preresnet8", "resnet18", "pyramidnet", "wrn", "vgg16"};
    for (size_t a = 0; a < sizeof archs / sizeof *archs; a++) {
        tiny_t t;
        tiny_make(&t, archs[a]);
        size_t all = 0;
        for (int s = 0; s < t.n.n_slots; s++) all += 2 * 16 * t.n.slot_size[s] * sizeof(float);
        size_t kept = net_kept_bytes(&t.n, 16);
        cr_expect_gt(kept, 0);
        cr_expect_leq(kept, t.ws.bytes, "%s: kept %zu > workspace %zu", archs[a], kept, t.ws.bytes);
        cr_expect_lt(t.ws.bytes, all, "%s: workspace %zu not below one buffer per slot %zu", archs[a],
                     t.ws.bytes, all);
        tiny_free(&t);
    }
}
