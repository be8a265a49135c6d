/* test_spec.c - the YAML experiment spec: defaults, loading, error messages
 * (positions, key names, valid-key lists), --set, validation, round trip. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"

#ifndef DPPF_SOURCE_DIR
#define DPPF_SOURCE_DIR "."
#endif

static const char *OPTIM_KEYS =
    "valid keys in 'optim': lr, momentum, nesterov, weight_decay, wd_mode, wd_skip_bn_bias, "
    "schedule, milestones, gamma, min_lr, warmup_epochs, batch_size, epochs, max_steps, "
    "label_smoothing, sam_rho, sam_adaptive";

/* Float fields compare by bits: the round trip must be exact, -0 included. */
static int same_float(float a, float b) { return !memcmp(&a, &b, sizeof a); }

#define EQI(f) cr_expect_eq(a->f, b->f, #f ": %lld vs %lld", (long long)a->f, (long long)b->f)
#define EQU(f) cr_expect_eq(a->f, b->f, #f)
#define EQF(f) cr_expect(same_float(a->f, b->f), #f ": %.9g vs %.9g", (double)a->f, (double)b->f)
#define EQS(f) cr_expect_str_eq(a->f, b->f, #f)
#define EQIL(sec, f)                                                                   \
    do {                                                                               \
        EQI(sec.n_##f);                                                                \
        for (int i_ = 0; i_ < a->sec.n_##f && i_ < b->sec.n_##f; i_++) EQI(sec.f[i_]); \
    } while (0)
#define EQFL(sec, f)                                                                   \
    do {                                                                               \
        EQI(sec.n_##f);                                                                \
        for (int i_ = 0; i_ < a->sec.n_##f && i_ < b->sec.n_##f; i_++) EQF(sec.f[i_]); \
    } while (0)

/* Every field of spec_t, one by one (a field missing from the schema table
 * would fail the round-trip tests here). */
static void expect_spec_eq(const spec_t *a, const spec_t *b) {
    EQI(data.dataset); EQS(data.path); EQI(data.train_subset); EQI(data.test_subset);
    EQI(data.subset); EQI(data.normalize); EQFL(data, mean); EQFL(data, std);
    EQI(data.crop_pad); EQI(data.flip); EQIL(data, shape); EQI(data.classes);
    EQI(data.train_size); EQI(data.test_size); EQI(data.partition); EQF(data.dirichlet_alpha);
    EQI(data.shards_per_worker); EQI(data.label); EQI(data.resize_pad);
    EQI(model.arch); EQIL(model, hidden); EQIL(model, widths); EQI(model.fc);
    EQI(model.batchnorm); EQI(model.base_width); EQI(model.depth); EQI(model.widen);
    EQI(model.alpha); EQI(model.block); EQF(model.block_dropout); EQF(model.dropout);
    EQF(model.bn_momentum); EQF(model.bn_eps);
    EQF(optim.lr); EQF(optim.momentum); EQI(optim.nesterov); EQF(optim.weight_decay);
    EQI(optim.wd_mode); EQI(optim.wd_skip_bn_bias); EQI(optim.schedule); EQIL(optim, milestones);
    EQF(optim.gamma); EQF(optim.min_lr); EQF(optim.warmup_epochs); EQI(optim.batch_size);
    EQI(optim.epochs); EQI(optim.max_steps); EQF(optim.label_smoothing);
    EQU(run.seed); EQS(run.out_dir); EQF(run.eval_every); EQI(run.checkpoint_every);
    EQI(run.eval_train); EQI(run.threads);
    EQI(dist.workers); EQI(dist.algorithm); EQI(dist.tau); EQF(dist.pull); EQF(dist.push);
    EQI(dist.push_form); EQF(dist.push_warmup); EQF(dist.moving_rate); EQF(dist.qsr_beta);
    EQF(dist.post_local); EQI(dist.momentum_sync);
    EQI(net.model); EQI(net.topology); EQF(net.latency_us); EQF(net.bandwidth_gbps); EQF(net.step_time_s);
    EQF(optim.sam_rho); EQI(optim.sam_adaptive); EQF(run.ema_decay); EQI(dist.push_every);
    EQI(dist.pull_every); EQI(dist.push_schedule); EQF(dist.target_spread); EQF(dist.target_rate);
    EQFL(dist, lsgd_pull); EQI(dist.lsgd_group); EQF(dist.outer_lr); EQF(dist.outer_momentum);
    EQI(dist.outer_nesterov);
}

static spec_t roundtrip(const spec_t *s) {
    dp_err e = {0};
    spec_t back;
    char *y = spec_to_yaml(s, &e);
    cr_assert_not_null(y, "%s", e.msg);
    memset(&back, 0xAB, sizeof back);
    int rc = spec_load_string(&back, y, "resolved.yaml", &e);
    cr_assert_eq(rc, 0, "%s\n--- yaml:\n%s", e.msg, y);
    free(y);
    return back;
}

/* Load must fail with `code` and a message containing every needle. */
static void load_fails(const char *yaml, int code, const char *n1, const char *n2) {
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    int rc = spec_load_string(&s, yaml, "config.yaml", &e);
    cr_assert_eq(rc, code, "rc %d for:\n%s\nmsg: %s", rc, yaml, e.msg);
    cr_expect_eq(e.code, code);
    if (n1) cr_expect(strstr(e.msg, n1), "'%s' not in: %s", n1, e.msg);
    if (n2) cr_expect(strstr(e.msg, n2), "'%s' not in: %s", n2, e.msg);
}

static void load_msg(const char *yaml, const char *msg) {
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    cr_assert_eq(spec_load_string(&s, yaml, "config.yaml", &e), DP_EUSAGE, "for:\n%s", yaml);
    cr_expect_str_eq(e.msg, msg);
}

static void set_msg(const char *assignment, const char *msg) {
    spec_t s, before;
    dp_err e = {0};
    spec_defaults(&s);
    before = s;
    cr_assert_eq(spec_set(&s, assignment, &e), DP_EUSAGE, "--set %s succeeded", assignment);
    cr_expect_str_eq(e.msg, msg);
    cr_expect(!memcmp(&s, &before, sizeof s), "failed --set %s changed the spec", assignment);
}

static void set_ok(spec_t *s, const char *assignment) {
    dp_err e = {0};
    cr_assert_eq(spec_set(s, assignment, &e), 0, "--set %s: %s", assignment, e.msg);
}

/* ---- defaults ---- */

Test(spec, defaults) {
    spec_t s;
    memset(&s, 0x5A, sizeof s);
    spec_defaults(&s);
    cr_expect_eq(s.data.dataset, DATA_FASHION_MNIST);
    cr_expect_str_eq(s.data.path, "");
    cr_expect_eq(s.data.train_subset, 0);
    cr_expect_eq(s.data.test_subset, 0);
    cr_expect_eq(s.data.subset, SUBSET_FIRST);
    cr_expect_eq(s.data.normalize, 1);
    cr_expect_eq(s.data.n_mean, 0);
    cr_expect_eq(s.data.n_std, 0);
    cr_expect_eq(s.data.crop_pad, 0);
    cr_expect_eq(s.data.flip, -1);
    cr_assert_eq(s.data.n_shape, 3);
    cr_expect(s.data.shape[0] == 1 && s.data.shape[1] == 28 && s.data.shape[2] == 28);
    cr_expect_eq(s.data.classes, 10);
    cr_expect_eq(s.data.train_size, 5000);
    cr_expect_eq(s.data.test_size, 1000);

    cr_expect_eq(s.model.arch, MODEL_CNN);
    cr_assert_eq(s.model.n_hidden, 1);
    cr_expect_eq(s.model.hidden[0], 256);
    cr_assert_eq(s.model.n_widths, 2);
    cr_expect(s.model.widths[0] == 32 && s.model.widths[1] == 64);
    cr_expect_eq(s.model.fc, 128);
    cr_expect_eq(s.model.batchnorm, 1);
    cr_expect_eq(s.model.base_width, 0); /* the architecture's */
    cr_expect_eq(s.model.depth, 0);
    cr_expect_eq(s.model.widen, 10);
    cr_expect_eq(s.model.alpha, 48);
    cr_expect_eq(s.model.block, BLOCK_BASIC);
    cr_expect_eq(s.model.block_dropout, 0.0f);
    cr_expect_eq(s.data.label, LABEL_FINE);
    cr_expect_eq(s.data.resize_pad, 0);
    cr_expect_eq(s.model.dropout, 0.0f);
    cr_expect_eq(s.model.bn_momentum, 0.1f);
    cr_expect_eq(s.model.bn_eps, 1e-5f);

    cr_expect_eq(s.optim.lr, 0.05f);
    cr_expect_eq(s.optim.momentum, 0.9f);
    cr_expect_eq(s.optim.nesterov, 0);
    cr_expect_eq(s.optim.weight_decay, 5e-4f);
    cr_expect_eq(s.optim.wd_mode, WD_COUPLED);
    cr_expect_eq(s.optim.wd_skip_bn_bias, 0);
    cr_expect_eq(s.optim.schedule, LR_COSINE);
    cr_expect_eq(s.optim.n_milestones, 0);
    cr_expect_eq(s.optim.gamma, 0.1f);
    cr_expect_eq(s.optim.min_lr, 0.0f);
    cr_expect_eq(s.optim.warmup_epochs, 0.0f);
    cr_expect_eq(s.optim.batch_size, 128);
    cr_expect_eq(s.optim.epochs, 10);
    cr_expect_eq(s.optim.max_steps, 0);
    cr_expect_eq(s.optim.label_smoothing, 0.0f);

    cr_expect_eq(s.run.seed, 0);
    cr_expect_str_eq(s.run.out_dir, "runs/default");
    cr_expect_eq(s.run.eval_every, 1.0f);
    cr_expect_eq(s.run.checkpoint_every, 0);
    cr_expect_eq(s.run.eval_train, 0);
    cr_expect_eq(s.run.threads, 0);

    cr_expect_eq(s.dist.workers, 1);
    cr_expect_eq(s.dist.algorithm, ALGO_DDP);
    cr_expect_eq(s.dist.tau, 1);
    cr_expect_eq(s.dist.pull, 1.0f);
    cr_expect_eq(s.dist.push, 0.0f);

    dp_err e = {0};
    cr_expect_eq(spec_validate(&s, &e), 0, "%s", e.msg);
}

Test(spec, empty_documents_give_defaults) {
    const char *docs[] = {"", "\n\n", "# only a comment\n", "---\n", "---\n...\n", "~\n",
                          "optim:\n", "optim: {}\nrun:\n"};
    spec_t def;
    spec_defaults(&def);
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        spec_t s;
        dp_err e = {0};
        memset(&s, 0, sizeof s);
        cr_assert_eq(spec_load_string(&s, docs[i], "empty.yaml", &e), 0, "'%s': %s", docs[i], e.msg);
        expect_spec_eq(&s, &def);
    }
}

/* ---- loading ---- */

static void expect_full(const spec_t *s) {
    cr_expect_eq(s->data.dataset, DATA_CIFAR10);
    cr_expect_str_eq(s->data.path, "/data/cifar-10-batches-bin");
    cr_expect_eq(s->data.train_subset, 1000);
    cr_expect_eq(s->data.test_subset, 500);
    cr_expect_eq(s->data.subset, SUBSET_RANDOM);
    cr_expect_eq(s->data.normalize, 1);
    cr_assert_eq(s->data.n_mean, 3);
    cr_expect(s->data.mean[0] == 0.4914f && s->data.mean[1] == 0.4822f && s->data.mean[2] == 0.4465f);
    cr_assert_eq(s->data.n_std, 3);
    cr_expect(s->data.std[0] == 0.247f && s->data.std[1] == 0.243f && s->data.std[2] == 0.261f);
    cr_expect_eq(s->data.crop_pad, 4);
    cr_expect_eq(s->data.flip, 1);
    cr_expect_eq(s->data.label, LABEL_COARSE);
    cr_expect_eq(s->data.resize_pad, 2);
    cr_expect_eq(s->model.arch, MODEL_RESNET20);
    cr_assert_eq(s->model.n_hidden, 2);
    cr_expect(s->model.hidden[0] == 512 && s->model.hidden[1] == 256);
    cr_assert_eq(s->model.n_widths, 3);
    cr_expect(s->model.widths[0] == 16 && s->model.widths[1] == 32 && s->model.widths[2] == 64);
    cr_expect_eq(s->model.fc, 0);
    cr_expect_eq(s->model.batchnorm, 0);
    cr_expect_eq(s->model.base_width, 32);
    cr_expect_eq(s->model.depth, 16);
    cr_expect_eq(s->model.widen, 4);
    cr_expect_eq(s->model.alpha, 84);
    cr_expect_eq(s->model.block, BLOCK_BOTTLENECK);
    cr_expect_eq(s->model.block_dropout, 0.3f);
    cr_expect_eq(s->model.dropout, 0.25f);
    cr_expect_eq(s->model.bn_momentum, 0.01f);
    cr_expect_eq(s->model.bn_eps, 1e-3f);
    cr_expect_eq(s->optim.lr, 0.1f);
    cr_expect_eq(s->optim.momentum, 0.95f);
    cr_expect_eq(s->optim.nesterov, 1);
    cr_expect_eq(s->optim.weight_decay, 1e-4f);
    cr_expect_eq(s->optim.wd_mode, WD_DECOUPLED);
    cr_expect_eq(s->optim.wd_skip_bn_bias, 1);
    cr_expect_eq(s->optim.schedule, LR_STEP);
    cr_assert_eq(s->optim.n_milestones, 2);
    cr_expect(s->optim.milestones[0] == 100 && s->optim.milestones[1] == 150);
    cr_expect_eq(s->optim.gamma, 0.2f);
    cr_expect_eq(s->optim.min_lr, 0.001f);
    cr_expect_eq(s->optim.warmup_epochs, 2.5f);
    cr_expect_eq(s->optim.batch_size, 256);
    cr_expect_eq(s->optim.epochs, 200);
    cr_expect_eq(s->optim.max_steps, INT64_C(123456789012));
    cr_expect_eq(s->optim.label_smoothing, 0.1f);
    cr_expect_eq(s->run.seed, UINT64_MAX);
    cr_expect_str_eq(s->run.out_dir, "runs/cifar resnet20");
    cr_expect_eq(s->run.eval_every, 0.5f);
    cr_expect_eq(s->run.checkpoint_every, 10);
    cr_expect_eq(s->run.eval_train, 1);
    cr_expect_eq(s->run.threads, 2);
    cr_expect_eq(s->dist.workers, 8);
    cr_expect_eq(s->dist.algorithm, ALGO_DPPF);
    cr_expect_eq(s->dist.tau, 4);
    cr_expect_eq(s->dist.pull, 0.5f);
    cr_expect_eq(s->dist.push, 0.25f);
}

Test(spec, full_file_fixture) {
    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_file(&s, DPPF_SOURCE_DIR "/tests/fixtures/spec/full.yaml", &e), 0, "%s", e.msg);
    expect_full(&s);
    cr_expect_eq(spec_validate(&s, &e), 0, "%s", e.msg);
    spec_t back = roundtrip(&s);
    expect_spec_eq(&back, &s);
}

Test(spec, partial_file_keeps_other_defaults) {
    spec_t s, def;
    dp_err e = {0};
    spec_defaults(&def);
    cr_assert_eq(spec_load_string(&s, "optim:\n  lr: 0.2\n", "a.yaml", &e), 0, "%s", e.msg);
    cr_expect_eq(s.optim.lr, 0.2f);
    s.optim.lr = def.optim.lr;
    expect_spec_eq(&s, &def);
}

Test(spec, load_resets_to_defaults_first) {
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    s.optim.epochs = 77;
    cr_assert_eq(spec_load_string(&s, "run: {seed: 3}", "a.yaml", &e), 0, "%s", e.msg);
    cr_expect_eq(s.optim.epochs, 10);
    cr_expect_eq(s.run.seed, 3);
}

Test(spec, flow_style_and_aliases) {
    spec_t s;
    dp_err e = {0};
    const char *y = "model: {arch: mlp, hidden: &h [64, 32]}\n"
                    "optim: {milestones: *h, lr: 1e-3, batch_size: +64}\n";
    cr_assert_eq(spec_load_string(&s, y, "a.yaml", &e), 0, "%s", e.msg);
    cr_expect_eq(s.model.arch, MODEL_MLP);
    cr_expect(s.model.n_hidden == 2 && s.model.hidden[0] == 64 && s.model.hidden[1] == 32);
    cr_expect(s.optim.n_milestones == 2 && s.optim.milestones[1] == 32);
    cr_expect_eq(s.optim.lr, 1e-3f);
    cr_expect_eq(s.optim.batch_size, 64);
}

Test(spec, bool_spellings) {
    const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    const char *no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    char buf[128];
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        spec_t s;
        dp_err e = {0};
        snprintf(buf, sizeof buf, "optim:\n  nesterov: %s\ndata:\n  normalize: %s\n", yes[i], no[i]);
        cr_assert_eq(spec_load_string(&s, buf, "b.yaml", &e), 0, "%s", e.msg);
        cr_expect_eq(s.optim.nesterov, 1, "%s", yes[i]);
        cr_expect_eq(s.data.normalize, 0, "%s", no[i]);
    }
    const char *bad[] = {"1", "0", "y", "n", "maybe", "truee", "\"\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "optim:\n  nesterov: %s\n", bad[i]);
        load_fails(buf, DP_EUSAGE, "config.yaml:2:13: optim.nesterov: expected true or false", NULL);
    }
}

Test(spec, enums_are_case_insensitive_and_canonical) {
    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_string(&s, "data: {dataset: CIFAR10}\nmodel: {arch: ResNet56}", "a", &e), 0,
                 "%s", e.msg);
    cr_expect_eq(s.data.dataset, DATA_CIFAR10);
    cr_expect_eq(s.model.arch, MODEL_RESNET56);
}

/* ---- integers ---- */

Test(spec, int_parsing) {
    load_msg("optim:\n  epochs: 1.5\n",
             "config.yaml:2:11: optim.epochs: expected an integer in [1, 100000], got '1.5'");
    load_msg("optim:\n  epochs: 99999999999\n",
             "config.yaml:2:11: optim.epochs: expected an integer in [1, 100000], got '99999999999' "
             "(out of range for a 32-bit integer)");
    load_msg("data:\n  train_subset: 99999999999\n",
             "config.yaml:2:17: data.train_subset: expected an integer >= 0, got '99999999999' "
             "(out of range for a 32-bit integer)");
    load_fails("optim:\n  epochs: 1e3\n", DP_EUSAGE, "got '1e3'", NULL);
    load_fails("optim:\n  epochs: 0x10\n", DP_EUSAGE, "got '0x10'", NULL);
    load_fails("optim:\n  epochs: 1_000\n", DP_EUSAGE, "got '1_000'", NULL);
    load_fails("optim:\n  epochs: 0\n", DP_EUSAGE, "expected an integer in [1, 100000], got '0'", NULL);
    load_fails("optim:\n  epochs: 100001\n", DP_EUSAGE, "got '100001'", NULL);
    load_fails("optim:\n  epochs:\n", DP_EUSAGE, "optim.epochs: expected an integer in [1, 100000], got an empty value", NULL);
    load_fails("data:\n  flip: -2\n", DP_EUSAGE, "data.flip: expected an integer in [-1, 1], got '-2'", NULL);

    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_string(&s, "optim: {epochs: 100000, batch_size: 65536}\ndata: {flip: -1}\n"
                                      "run: {threads: 256}", "a", &e), 0, "%s", e.msg);
    cr_expect_eq(s.optim.epochs, 100000);
    cr_expect_eq(s.optim.batch_size, 65536);
    cr_expect_eq(s.run.threads, 256);
}

Test(spec, int64_and_uint64) {
    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_string(&s, "run:\n  seed: 18446744073709551615\noptim:\n"
                                      "  max_steps: 9223372036854775807\n", "a", &e), 0, "%s", e.msg);
    cr_expect_eq(s.run.seed, UINT64_MAX);
    cr_expect_eq(s.optim.max_steps, INT64_MAX);
    load_msg("run:\n  seed: 18446744073709551616\n",
             "config.yaml:2:9: run.seed: expected an unsigned 64-bit integer, got "
             "'18446744073709551616' (out of range for 64 bits)");
    load_msg("run:\n  seed: -1\n",
             "config.yaml:2:9: run.seed: expected an unsigned 64-bit integer, got '-1'");
    load_fails("optim:\n  max_steps: 9223372036854775808\n", DP_EUSAGE,
               "optim.max_steps: expected an integer >= 0", "(out of range for a 64-bit integer)");
    load_fails("optim:\n  max_steps: -5\n", DP_EUSAGE, "optim.max_steps: expected an integer >= 0, got '-5'", NULL);
}

/* ---- floats ---- */

Test(spec, float_parsing) {
    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_string(&s, "optim: {lr: 1, weight_decay: 1e-3, gamma: .5, min_lr: 5.}\n"
                                      "model: {dropout: 0.0}", "a", &e), 0, "%s", e.msg);
    cr_expect_eq(s.optim.lr, 1.0f);
    cr_expect_eq(s.optim.weight_decay, 1e-3f);
    cr_expect_eq(s.optim.gamma, 0.5f);
    cr_expect_eq(s.optim.min_lr, 5.0f);
    load_msg("optim:\n  lr: -1\n", "config.yaml:2:7: optim.lr: expected a number > 0, got '-1'");
    load_msg("optim:\n  lr: abc\n", "config.yaml:2:7: optim.lr: expected a number > 0, got 'abc'");
    load_fails("optim:\n  lr: nan\n", DP_EUSAGE, "got 'nan'", NULL);
    load_fails("optim:\n  lr: .nan\n", DP_EUSAGE, "got '.nan'", NULL);
    load_fails("optim:\n  lr: inf\n", DP_EUSAGE, "got 'inf'", NULL);
    load_fails("optim:\n  lr: .inf\n", DP_EUSAGE, "got '.inf'", NULL);
    load_fails("optim:\n  lr: 0x1p3\n", DP_EUSAGE, "got '0x1p3'", NULL);
    load_fails("optim:\n  lr: 1e39\n", DP_EUSAGE, "got '1e39' (not a finite 32-bit float)", NULL);
    load_fails("optim:\n  lr: 0\n", DP_EUSAGE, "expected a number > 0, got '0'", NULL);
    load_fails("optim:\n  momentum: 1\n", DP_EUSAGE,
               "config.yaml:2:13: optim.momentum: expected a number in [0, 1), got '1'", NULL);
    /* rounds to 1.0f, so it is out of range as stored */
    load_fails("optim:\n  momentum: 0.99999999999\n", DP_EUSAGE, "optim.momentum", NULL);
    load_fails("model:\n  bn_momentum: 0\n", DP_EUSAGE, "expected a number in (0, 1], got '0'", NULL);
    load_fails("dist:\n  pull: 1.5\n", DP_EUSAGE, "dist.pull: expected a number in [0, 1], got '1.5'", NULL);
}

/* ---- strings, enums, lists ---- */

Test(spec, strings_and_enums) {
    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_string(&s, "data:\n  path: 'it''s here'\nrun:\n  out_dir: \"a\\tb\"\n", "a", &e),
                 0, "%s", e.msg);
    cr_expect_str_eq(s.data.path, "it's here");
    cr_expect_str_eq(s.run.out_dir, "a\tb");
    cr_assert_eq(spec_load_string(&s, "data:\n  path: ~\n", "a", &e), 0, "%s", e.msg);
    cr_expect_str_eq(s.data.path, "");
    cr_assert_eq(spec_load_string(&s, "data:\n  path: 123\n", "a", &e), 0, "%s", e.msg);
    cr_expect_str_eq(s.data.path, "123");

    load_msg("data:\n  dataset: imagenet\n",
             "config.yaml:2:12: data.dataset: expected one of fashion-mnist, mnist, cifar10, cifar100, "
             "synthetic, got 'imagenet'");
    load_msg("dist:\n  algorithm: sgd\n",
             "config.yaml:2:14: dist.algorithm: expected one of ddp, localsgd, easgd, qsr, dppf, lsgd, mgrawa, "
             "lgrawa, slowmo, diloco, got 'sgd'");
    load_msg("run:\n  out_dir: \"\"\n", "config.yaml:2:12: run.out_dir: expected a non-empty string, got ''");
    load_fails("run:\n  out_dir:\n", DP_EUSAGE, "run.out_dir: expected a non-empty string, got an empty value", NULL);
    load_fails("data:\n  path: [a]\n", DP_EUSAGE, "data.path: expected a string, got a list", NULL);
    load_fails("data:\n  path: \"a\\0b\"\n", DP_EUSAGE, "got a string containing a NUL byte", NULL);

    char big[2000];
    int n = snprintf(big, sizeof big, "data:\n  path: ");
    memset(big + n, 'x', 1100);
    big[n + 1100] = '\0';
    load_fails(big, DP_EUSAGE, "config.yaml:2:9: data.path: expected a string of at most 1023 bytes, got 1100 bytes", NULL);
    memcpy(big + n + 1023, "\n", 2); /* exactly the limit fits */
    cr_assert_eq(spec_load_string(&s, big, "a", &e), 0, "%s", e.msg);
    cr_expect_eq(strlen(s.data.path), 1023);
}

Test(spec, lists) {
    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_string(&s, "model:\n  hidden:\n    - 3\n    - 4\n    - 5\ndata:\n  shape: []\n"
                                      "  mean: [0.5]\n", "a", &e), 0, "%s", e.msg);
    cr_expect(s.model.n_hidden == 3 && s.model.hidden[2] == 5);
    cr_expect_eq(s.data.n_shape, 0);
    cr_expect(s.data.n_mean == 1 && s.data.mean[0] == 0.5f);

    load_msg("model:\n  hidden: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n",
             "config.yaml:2:11: model.hidden: expected a list of 1 to 16 integers >= 1, got 17 items");
    load_msg("model:\n  hidden: []\n",
             "config.yaml:2:11: model.hidden: expected a list of 1 to 16 integers >= 1, got 0 items");
    load_msg("model:\n  hidden:\n    - 3\n    - x\n",
             "config.yaml:4:7: model.hidden[1]: expected an integer >= 1, got 'x'");
    load_msg("model:\n  hidden: [3, 0]\n",
             "config.yaml:2:15: model.hidden[1]: expected an integer >= 1, got '0'");
    load_msg("model:\n  hidden: 256\n",
             "config.yaml:2:11: model.hidden: expected a list of 1 to 16 integers >= 1, got '256'");
    load_msg("data:\n  shape: [1, 2]\n",
             "config.yaml:2:10: data.shape: expected a list of exactly 3 integers in [1, 4096] (or []), got 2 items");
    load_msg("data:\n  mean: [0.1, 0.2, 0.3, 0.4, 0.5]\n",
             "config.yaml:2:9: data.mean: expected a list of at most 4 numbers, got 5 items");
    load_msg("data:\n  std: [0.5, 0]\n", "config.yaml:2:14: data.std[1]: expected a number > 0, got '0'");
    load_fails("data:\n  mean: [0.1, [1]]\n", DP_EUSAGE, "data.mean[1]: expected a number, got a list", NULL);
    load_fails("optim:\n  milestones: {a: 1}\n", DP_EUSAGE, "got a mapping", NULL);
}

/* ---- structural errors ---- */

Test(spec, yaml_syntax_error) {
    load_msg("optim:\n  lr: [1, 2\n",
             "config.yaml:3:1: YAML syntax error: did not find expected ',' or ']' "
             "(while parsing a flow sequence at line 2)");
    load_fails("optim:\n  lr: 1\n\tmomentum: 0.5\n", DP_EUSAGE, "config.yaml:3:", "YAML syntax error");
    load_fails("optim:\n  lr: *nope\n", DP_EUSAGE, "config.yaml:2:7: YAML syntax error", "undefined alias");
}

Test(spec, unknown_section) {
    load_msg("data:\n  dataset: mnist\n\noptm:\n  lr: 1\n",
             "config.yaml:4:1: unknown section 'optm'; valid sections: data, model, optim, run, dist, net; "
             "did you mean 'optim'?");
    load_msg("training:\n  lr: 1\n",
             "config.yaml:1:1: unknown section 'training'; valid sections: data, model, optim, run, dist, net");
    load_fails("lr: 0.1\n", DP_EUSAGE, "unknown section 'lr'", "did you mean key 'lr' under section 'optim'?");
    load_fails("optim.lr: 0.1\n", DP_EUSAGE, "unknown section 'optim.lr'", "under section 'optim'");
}

Test(spec, unknown_key) {
    char want[2048];
    snprintf(want, sizeof want, "config.yaml:7:3: unknown key 'optim.learning_rate'; %s", OPTIM_KEYS);
    load_msg("data:\n  dataset: mnist\noptim:\n  lr: 0.1\n  momentum: 0.9\n\n  learning_rate: 3\n", want);
    snprintf(want, sizeof want, "config.yaml:2:3: unknown key 'optim.lrr'; %s; did you mean 'optim.lr'?",
             OPTIM_KEYS);
    load_msg("optim:\n  lrr: 3\n", want);
    load_fails("optim:\n  momentun: 0.5\n", DP_EUSAGE, "did you mean 'optim.momentum'?", NULL);
    load_fails("optim:\n  seed: 3\n", DP_EUSAGE, "unknown key 'optim.seed'", "did you mean 'run.seed'?");
    load_fails("run: {sed: 3}\n", DP_EUSAGE,
               "config.yaml:1:7: unknown key 'run.sed'; valid keys in 'run': seed, out_dir, eval_every, "
               "checkpoint_every, eval_train, threads, adapt_threads, ema_decay; did you mean 'run.seed'?", NULL);
}

Test(spec, duplicates) {
    load_msg("optim:\n  lr: 0.1\n  momentum: 0.5\n  lr: 0.2\n",
             "config.yaml:4:3: duplicate key 'optim.lr' (first at line 2)");
    load_msg("optim:\n  lr: 0.1\nrun: {}\noptim:\n  momentum: 0.5\n",
             "config.yaml:4:1: duplicate section 'optim' (first at line 1)");
    load_fails("optim: {lr: 1, lr: 1}\n", DP_EUSAGE, "duplicate key 'optim.lr'", NULL);
}

Test(spec, not_a_mapping) {
    load_msg("- data\n- model\n",
             "config.yaml:1:1: expected a mapping of sections (data, model, optim, run, dist, net) at the top "
             "level, got a list");
    load_fails("hello\n", DP_EUSAGE, "config.yaml:1:1: expected a mapping of sections", "got a scalar");
    load_msg("optim: 3\n",
             "config.yaml:1:8: section 'optim' must be a mapping of keys (e.g. 'key: value'), got a scalar");
    load_fails("optim: [lr, 1]\n", DP_EUSAGE, "section 'optim' must be a mapping", "got a list");
    load_fails("? [a]\n: 1\n", DP_EUSAGE, "config.yaml:1:3: a section name must be a plain word", NULL);
    load_fails("optim:\n  ? [a]\n  : 1\n", DP_EUSAGE, "a key in section 'optim' must be a plain word", NULL);
}

Test(spec, second_document) {
    load_msg("optim: {lr: 0.1}\n---\nrun: {seed: 1}\n",
             "config.yaml:2:1: a second YAML document starts here; a spec is one document");
}

Test(spec, failed_load_leaves_spec_unchanged) {
    spec_t s, before;
    dp_err e = {0};
    spec_defaults(&s);
    s.optim.lr = 0.3f;
    strcpy(s.run.out_dir, "keep");
    before = s;
    cr_assert_eq(spec_load_string(&s, "optim:\n  lr: 0.2\n  epochs: x\n", "a", &e), DP_EUSAGE);
    cr_expect(!memcmp(&s, &before, sizeof s));
}

/* ---- files ---- */

Test(spec, load_file_and_messages_name_the_file) {
    char path[] = "/tmp/dppf_spec_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fputs("optim:\n  lr: 0.25\n  epochs: 3\n", f);
    fclose(f);

    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_file(&s, path, &e), 0, "%s", e.msg);
    cr_expect_eq(s.optim.lr, 0.25f);
    cr_expect_eq(s.optim.epochs, 3);

    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("optim:\n  lr: 0.25\n  epochs: -3\n", f);
    fclose(f);
    cr_assert_eq(spec_load_file(&s, path, &e), DP_EUSAGE);
    char want[256];
    snprintf(want, sizeof want, "%s:3:11: optim.epochs: expected an integer in [1, 100000], got '-3'", path);
    cr_expect_str_eq(e.msg, want);
    unlink(path);

    cr_assert_eq(spec_load_file(&s, path, &e), DP_EIO);
    cr_expect_eq(e.code, DP_EIO);
    snprintf(want, sizeof want, "cannot open spec file '%s': No such file or directory", path);
    cr_expect_str_eq(e.msg, want);

    cr_expect_eq(spec_load_file(&s, "/tmp", &e), DP_EIO);
    cr_expect(strstr(e.msg, "cannot read spec file '/tmp'"), "%s", e.msg);
}

Test(spec, binary_file_is_a_usage_error) {
    spec_t s;
    dp_err e = {0};
    cr_expect_eq(spec_load_string(&s, "optim:\n  lr: \xff\xfe\n", "bin.yaml", &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "bin.yaml: unreadable YAML at byte 13"), "%s", e.msg);
}

/* ---- --set ---- */

Test(spec, set_each_type) {
    spec_t s;
    spec_defaults(&s);
    set_ok(&s, "data.train_subset=100");
    cr_expect_eq(s.data.train_subset, 100);
    set_ok(&s, "optim.max_steps=5000000000");
    cr_expect_eq(s.optim.max_steps, INT64_C(5000000000));
    set_ok(&s, "run.seed=18446744073709551615");
    cr_expect_eq(s.run.seed, UINT64_MAX);
    set_ok(&s, "optim.lr=1e-3");
    cr_expect_eq(s.optim.lr, 1e-3f);
    set_ok(&s, "optim.nesterov=yes");
    cr_expect_eq(s.optim.nesterov, 1);
    set_ok(&s, "optim.nesterov=Off");
    cr_expect_eq(s.optim.nesterov, 0);
    set_ok(&s, "run.out_dir=runs/a=b");
    cr_expect_str_eq(s.run.out_dir, "runs/a=b");
    set_ok(&s, "data.path=/my data/x");
    cr_expect_str_eq(s.data.path, "/my data/x");
    set_ok(&s, "data.path=\"q: #x\"");
    cr_expect_str_eq(s.data.path, "q: #x");
    set_ok(&s, "data.path=");
    cr_expect_str_eq(s.data.path, "");
    set_ok(&s, "data.dataset=fashion-mnist");
    cr_expect_eq(s.data.dataset, DATA_FASHION_MNIST);
    set_ok(&s, "data.dataset=synthetic");
    cr_expect_eq(s.data.dataset, DATA_SYNTHETIC);
    set_ok(&s, "model.hidden=[256,128]");
    cr_expect(s.model.n_hidden == 2 && s.model.hidden[0] == 256 && s.model.hidden[1] == 128);
    set_ok(&s, "data.std=[0.5, 0.25, 0.125]");
    cr_expect(s.data.n_std == 3 && s.data.std[2] == 0.125f);
    set_ok(&s, "optim.milestones=[]");
    cr_expect_eq(s.optim.n_milestones, 0);
    set_ok(&s, " dist.tau = 8");
    cr_expect_eq(s.dist.tau, 8);
}

Test(spec, set_list_shrinks_cleanly) {
    spec_t a, b;
    spec_defaults(&a);
    spec_defaults(&b);
    set_ok(&a, "model.widths=[1,2,3,4,5]");
    set_ok(&a, "model.widths=[32, 64]");
    cr_expect(!memcmp(&a.model, &b.model, sizeof a.model), "stale list tail left behind");
}

Test(spec, set_errors) {
    char want[2048];
    set_msg("optim.lr", "--set optim.lr: expected section.key=value (e.g. optim.lr=0.1)");
    set_msg("optim.lr=-1", "--set optim.lr=-1: optim.lr: expected a number > 0, got '-1'");
    set_msg("optim.lr=", "--set optim.lr=: optim.lr: expected a number > 0, got an empty value");
    set_msg("optim.epochs=1.5", "--set optim.epochs=1.5: optim.epochs: expected an integer in [1, 100000], got '1.5'");
    set_msg("optm.lr=1", "--set optm.lr=1: unknown section 'optm'; valid sections: data, model, optim, run, "
                         "dist, net; did you mean 'optim'?");
    set_msg("foo=1", "--set foo=1: unknown section 'foo'; valid sections: data, model, optim, run, dist, net");
    set_msg("lr=1", "--set lr=1: unknown section 'lr'; valid sections: data, model, optim, run, dist, net; "
                    "did you mean 'optim.lr'?");
    snprintf(want, sizeof want, "--set optim.learning_rate=0.1: unknown key 'optim.learning_rate'; %s", OPTIM_KEYS);
    set_msg("optim.learning_rate=0.1", want);
    snprintf(want, sizeof want, "--set optim.seed=1: unknown key 'optim.seed'; %s; did you mean 'run.seed'?", OPTIM_KEYS);
    set_msg("optim.seed=1", want);
    snprintf(want, sizeof want, "--set optim=1: 'optim' is a section, not a key; %s", OPTIM_KEYS);
    set_msg("optim=1", want);
    set_msg("data.dataset=imagenet", "--set data.dataset=imagenet: data.dataset: expected one of fashion-mnist, "
                                     "mnist, cifar10, cifar100, synthetic, got 'imagenet'");
    set_msg("model.hidden=256", "--set model.hidden=256: model.hidden: expected a list of 1 to 16 integers >= 1, "
                                "got '256'");
    set_msg("model.hidden=[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]",
            "--set model.hidden=[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]: model.hidden: expected a list of 1 "
            "to 16 integers >= 1, got 17 items");
    set_msg("model.hidden=[4, -4]", "--set model.hidden=[4, -4]: model.hidden[1]: expected an integer >= 1, got '-4'");
    set_msg("optim.lr=[0.1]", "--set optim.lr=[0.1]: optim.lr: expected a number > 0, got a list");
    set_msg("run.seed=-1", "--set run.seed=-1: run.seed: expected an unsigned 64-bit integer, got '-1'");
    set_msg("optim.nesterov=2", "--set optim.nesterov=2: optim.nesterov: expected true or false (or yes/no, "
                                "on/off), got '2'");
    set_msg("run.out_dir=", "--set run.out_dir=: run.out_dir: expected a non-empty string, got an empty value");

    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    cr_expect_eq(spec_set(&s, "model.hidden=[1,", &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "--set model.hidden=[1,: YAML syntax error in the value: "), "%s", e.msg);
    cr_expect_eq(spec_set(&s, "run.out_dir=@x", &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "--set run.out_dir=@x: YAML syntax error"), "%s", e.msg);
    cr_expect_eq(spec_set(&s, "optim.lr=1\n---\n2", &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "more than one YAML document"), "%s", e.msg);
    cr_expect_eq(spec_set(&s, NULL, &e), DP_EUSAGE);
}

/* ---- validation ---- */

static void validate_msg(const char *const *sets, const char *want) {
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    for (; *sets; sets++) set_ok(&s, *sets);
    cr_assert_eq(spec_validate(&s, &e), DP_EUSAGE, "expected '%s'", want);
    cr_expect_str_eq(e.msg, want);
}

static void validate_ok(const char *const *sets) {
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    for (; *sets; sets++) set_ok(&s, *sets);
    cr_expect_eq(spec_validate(&s, &e), 0, "%s", e.msg);
}

Test(spec, validate_algorithm_keys) {
    /* dppf's per-step forces: only the combinations whose spread is push/pull */
    validate_ok((const char *[]){"dist.algorithm=dppf", "dist.push_every=step", NULL});
    validate_ok((const char *[]){"dist.algorithm=dppf", "dist.push_every=step", "dist.pull_every=step",
                                 "dist.push_form=inverse", NULL});
    validate_msg((const char *[]){"dist.algorithm=dppf", "dist.pull_every=step", NULL},
                 "dist.pull_every: 'step' needs dist.push_every: step (a per-step pull with the push "
                 "at the sync would not keep the spread at push/pull)");
    validate_msg((const char *[]){"dist.algorithm=dppf", "dist.push_every=step", "dist.push_form=inverse",
                                  NULL},
                 "dist.push_every: 'step' with push_form 'inverse' needs dist.pull_every: step too "
                 "(only then is the spread (push/pull)^(1/3))");
    validate_msg((const char *[]){"dist.algorithm=dppf", "dist.target_spread=0.5", NULL},
                 "dist.target_spread: the adaptive push starts from dist.push, which must be > 0 (got 0)");
    validate_ok((const char *[]){"dist.algorithm=dppf", "dist.target_spread=0.5", "dist.push=0.1", NULL});
    /* lsgd's groups divide the workers; the global pull is what defines it */
    validate_ok((const char *[]){"dist.algorithm=lsgd", "dist.workers=6", "dist.lsgd_group=3", NULL});
    validate_msg((const char *[]){"dist.algorithm=lsgd", "dist.workers=4", "dist.lsgd_group=3", NULL},
                 "dist.lsgd_group: groups of 3 workers do not divide dist.workers = 4");
    validate_msg((const char *[]){"dist.algorithm=lsgd", "dist.lsgd_pull=[0.5, 0]", NULL},
                 "dist.lsgd_pull: the global strength (the second value) must be > 0, got 0");
    /* the other algorithms ignore these keys */
    validate_ok((const char *[]){"dist.algorithm=localsgd", "dist.pull_every=step", "dist.lsgd_group=3",
                                 "dist.workers=4", NULL});
    /* ranges and names, named by key */
    set_msg("dist.lsgd_pull=[0.5, 1.5]", "--set dist.lsgd_pull=[0.5, 1.5]: dist.lsgd_pull[1]: "
            "expected a number in [0, 1], got '1.5'");
    set_msg("dist.lsgd_pull=[0.5]", "--set dist.lsgd_pull=[0.5]: dist.lsgd_pull: expected a list of "
            "exactly 2 numbers in [0, 1], got 1 item");
    set_msg("optim.sam_rho=-0.1", "--set optim.sam_rho=-0.1: optim.sam_rho: expected a number >= 0, got '-0.1'");
    set_msg("dist.push_every=sometimes", "--set dist.push_every=sometimes: dist.push_every: expected one of "
            "sync, step, got 'sometimes'");
    set_msg("dist.outer_momentum=1", "--set dist.outer_momentum=1: dist.outer_momentum: expected a number "
            "in [0, 1), got '1'");
    set_msg("run.ema_decay=1", "--set run.ema_decay=1: run.ema_decay: expected a number in [0, 1), got '1'");
}

Test(spec, validate_cross_field) {
    validate_ok((const char *[]){"data.dataset=synthetic", NULL});
    validate_ok((const char *[]){"data.dataset=cifar10", "data.mean=[0.5, 0.4, 0.3]", "data.std=[0.2]", NULL});
    validate_ok((const char *[]){"data.dataset=mnist", "data.shape=[]", NULL});
    validate_ok((const char *[]){"optim.schedule=step", "optim.milestones=[5, 8]", NULL});
    validate_ok((const char *[]){"optim.schedule=step", "optim.min_lr=1", NULL});
    validate_msg((const char *[]){"data.dataset=synthetic", "data.shape=[]", NULL},
                 "data.shape: data.dataset 'synthetic' needs [C, H, W], got []");
    validate_msg((const char *[]){"data.dataset=synthetic", "data.shape=[5, 8, 8]", NULL},
                 "data.shape: at most 4 channels are supported, got C = 5");
    validate_msg((const char *[]){"data.dataset=synthetic", "data.shape=[4, 4096, 4096]", NULL},
                 "data.shape: C*H*W = 67108864 is larger than 16777216");
    validate_msg((const char *[]){"data.dataset=synthetic", "data.train_subset=6000", NULL},
                 "data.train_subset (6000) is larger than data.train_size (5000)");
    validate_msg((const char *[]){"data.dataset=cifar10", "data.mean=[0.5, 0.4]", NULL},
                 "data.mean: cifar10 data has 3 channels, so give 1 or 3 values (or [] for the dataset "
                 "default), got 2");
    validate_msg((const char *[]){"data.std=[0.5, 0.4, 0.3]", NULL},
                 "data.std: fashion-mnist data has 1 channel, so give 1 or 1 values (or [] for the dataset "
                 "default), got 3");
    validate_ok((const char *[]){"data.dataset=synthetic", "data.shape=[2, 8, 8]", "data.std=[0.5, 0.4]", NULL});
    validate_msg((const char *[]){"optim.milestones=[30, 20]", NULL},
                 "optim.milestones: must be strictly increasing, got [30, 20]");
    validate_msg((const char *[]){"optim.milestones=[5, 5]", NULL},
                 "optim.milestones: must be strictly increasing, got [5, 5]");
    validate_msg((const char *[]){"optim.lr=0.1", "optim.min_lr=0.2", NULL},
                 "optim.min_lr (0.2) is larger than optim.lr (0.1)");
}

Test(spec, validate_rechecks_fields_set_in_code) {
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    s.optim.lr = -1.0f;
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    cr_expect_str_eq(e.msg, "optim.lr: expected a number > 0, got -1");
    spec_defaults(&s);
    s.optim.momentum = NAN;
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "optim.momentum: expected a number in [0, 1)"), "%s", e.msg);
    spec_defaults(&s);
    s.model.arch = MODEL_COUNT; /* no such architecture */
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "model.arch: expected one of mlp, cnn,"), "%s", e.msg);
    spec_defaults(&s);
    s.model.arch = -1;
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    spec_defaults(&s);
    s.model.n_hidden = 17;
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    cr_expect_str_eq(e.msg, "model.hidden: expected a list of 1 to 16 integers >= 1, got 17 items");
    spec_defaults(&s);
    s.model.widths[1] = 0;
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    cr_expect_str_eq(e.msg, "model.widths: expected a list of 1 to 16 integers >= 1, got [32, 0]");
    spec_defaults(&s);
    s.run.eval_train = 2;
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "run.eval_train: expected true or false"), "%s", e.msg);
    spec_defaults(&s);
    s.run.out_dir[0] = '\0';
    cr_expect_eq(spec_validate(&s, &e), DP_EUSAGE);
    cr_expect_str_eq(e.msg, "run.out_dir: expected a non-empty string, got \"\"");
}

/* ---- writing ---- */

Test(spec, to_yaml_format) {
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    char *y = spec_to_yaml(&s, &e);
    cr_assert_not_null(y);
    const char *lines[] = {"\ndata:\n  dataset: fashion-mnist ", "\n  path: \"\" ", "\nmodel:\n",
                           "\n  hidden: [256] ", "\n  widths: [32, 64] ", "\noptim:\n  lr: 0.05 ",
                           "\n  bn_eps: 1e-05 ", "\n  milestones: [] ", "\nrun:\n  seed: 0 ",
                           "\n  out_dir: runs/default ", "\ndist:\n  workers: 1 ",
                           "# peak learning rate\n"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_expect(strstr(y, lines[i]), "'%s' not in:\n%s", lines[i], y);
    /* every key line carries a help comment */
    int key_lines = 0;
    for (const char *p = y; (p = strstr(p, "\n  ")); p++) {
        key_lines++;
        const char *eol = strchr(p + 1, '\n');
        const char *hash = strstr(p + 1, "  # ");
        cr_expect(hash && eol && hash < eol, "no help comment on line: %.60s", p + 1);
    }
    cr_expect_eq(key_lines, (int)spec_key_count());
    free(y);
}

Test(spec, roundtrip_defaults_and_full) {
    spec_t s, back;
    spec_defaults(&s);
    back = roundtrip(&s);
    expect_spec_eq(&back, &s);
    cr_expect(!memcmp(&back, &s, sizeof s), "byte-wise difference after round trip");
}

Test(spec, roundtrip_every_field_changed) {
    spec_t s, def, back;
    spec_defaults(&def);
    spec_defaults(&s);
    const char *sets[] = {
        "data.dataset=synthetic", "data.path=/tmp/x y", "data.train_subset=7", "data.test_subset=9",
        "data.subset=random", "data.normalize=false", "data.mean=[0.1, 0.2]", "data.std=[0.3, 0.7]",
        "data.crop_pad=2", "data.flip=0", "data.shape=[2, 9, 11]", "data.classes=3",
        "data.train_size=70", "data.test_size=30", "model.arch=mlp", "model.hidden=[7, 5, 3]",
        "model.widths=[8]", "model.fc=0", "model.batchnorm=false", "model.base_width=4",
        "model.dropout=0.3", "model.bn_momentum=0.05", "model.bn_eps=2e-5", "optim.lr=0.123456789",
        "optim.momentum=0.5", "optim.nesterov=true", "optim.weight_decay=0", "optim.wd_mode=decoupled",
        "optim.wd_skip_bn_bias=true", "optim.schedule=step", "optim.milestones=[1, 2, 3]",
        "optim.gamma=0.3", "optim.min_lr=0.01", "optim.warmup_epochs=0.7", "optim.batch_size=3",
        "optim.epochs=4", "optim.max_steps=9223372036854775807", "optim.label_smoothing=0.2",
        "run.seed=12345678901234567890", "run.out_dir=out", "run.eval_every=0.1",
        "run.checkpoint_every=2", "run.eval_train=true", "run.threads=3", "dist.workers=5",
        "dist.algorithm=easgd", "dist.tau=6", "dist.pull=0.1", "dist.push=3.5",
        "dist.push_form=inverse", "dist.push_warmup=2", "dist.moving_rate=0.5",
        "dist.qsr_beta=0.1", "dist.post_local=1.5", "dist.momentum_sync=reset",
        "optim.sam_rho=0.05", "optim.sam_adaptive=true", "run.ema_decay=0.999",
        "dist.push_every=step", "dist.pull_every=step", "dist.push_schedule=cosine",
        "dist.target_spread=0.3", "dist.target_rate=0.05", "dist.lsgd_pull=[0.25, 0.75]",
        "dist.lsgd_group=2", "dist.outer_lr=0.7", "dist.outer_momentum=0.9",
        "dist.outer_nesterov=true"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) set_ok(&s, sets[i]);
    dp_err e = {0};
    cr_expect_eq(spec_validate(&s, &e), 0, "%s", e.msg);
    back = roundtrip(&s);
    expect_spec_eq(&back, &s);
    /* and every key really differs from its default (so the round trip proves something) */
    char *y1 = spec_to_yaml(&s, &e), *y2 = spec_to_yaml(&def, &e);
    cr_assert(y1 && y2);
    int differing = 0;
    for (const char *p = y1, *q = y2; (p = strstr(p, "\n  ")) && (q = strstr(q, "\n  ")); p++, q++) {
        size_t lp = strcspn(p + 1, "#"), lq = strcspn(q + 1, "#");
        if (lp != lq || memcmp(p, q, lp)) differing++;
    }
    cr_expect_eq(differing, 68);
    free(y1);
    free(y2);
}

Test(spec, roundtrip_tricky_values) {
    spec_t s, back;
    spec_defaults(&s);
    const char *paths[] = {"", "null", "NULL", "~", "true", "no", "123", "1e3", "-x", " lead", "trail ",
                           "a: b", "a #b", "q\"uote", "back\\slash", "tab\there", "new\nline", "\x01\x7f",
                           "[x]", "{x}", "*star", "&amp", "!bang", "%pct", "@at", "`tick", "'sq'",
                           "caf\xc3\xa9 \xe2\x82\xac", "- dash", "? q", "|", ">"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        strcpy(s.data.path, paths[i]);
        back = roundtrip(&s);
        cr_expect_str_eq(back.data.path, paths[i]);
    }
    memset(s.data.path, 'p', sizeof s.data.path - 1);
    s.data.path[sizeof s.data.path - 1] = '\0';
    back = roundtrip(&s);
    cr_expect_str_eq(back.data.path, s.data.path);

    const float vals[] = {0.1f, 1e-7f, 1.17549435e-38f, 1.4e-45f, 3.40282347e38f, -0.0f, -2.5f,
                          0.3333333433f, 16777217.0f, 123456.789f};
    s.data.n_mean = 4;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        s.data.mean[i % 4] = vals[i];
        s.optim.weight_decay = vals[i] < 0 ? 0.0f : vals[i];
        s.optim.lr = vals[i] > 0 ? vals[i] : 1.0f;
        back = roundtrip(&s);
        expect_spec_eq(&back, &s);
    }
    s.run.seed = UINT64_MAX;
    s.optim.max_steps = INT64_MAX;
    back = roundtrip(&s);
    expect_spec_eq(&back, &s);
}

/* Found by tests/fuzz/fuzz_spec: characters that YAML escapes can produce but
 * that YAML folds into spaces (NEL, LS, PS) or refuses raw (C1 controls,
 * U+FFFE/U+FFFF) were written raw, so the resolved spec came back changed
 * or did not load at all. */
Test(spec, roundtrip_unicode_line_breaks_and_controls) {
    spec_t s, back;
    spec_defaults(&s);
    const char *paths[] = {"a\xc2\x85" "b", "\xe2\x80\xa8", "x\xe2\x80\xa9y", "\xc2\x85\xc2\x85",
                           "a\xc2\x8c" "b", "\xc2\x80\xc2\x9f", "\xef\xbf\xbe\xef\xbf\xbf",
                           "nbsp\xc2\xa0\xe2\x80\xaf", "bom\xef\xbb\xbf", "\xef\xbf\xbd"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        strcpy(s.run.out_dir, paths[i]);
        back = roundtrip(&s);
        cr_expect_str_eq(back.run.out_dir, paths[i], "case %zu", i);
    }
}

Test(spec, print_schema) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    spec_print_schema(f);
    fclose(f);
    const char *need[] = {"key", "type/range", "default", "optim.lr", "float > 0", "0.05",
                          "fashion-mnist|mnist|cifar10|cifar100|synthetic", "model.hidden", "[int >= 1] x1..16",
                          "[256]", "run.seed", "uint64", "optim.momentum", "float in [0, 1)",
                          "dist.push", "data.shape", "[1, 28, 28]", "peak learning rate"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        cr_expect(strstr(buf, need[i]), "'%s' not in schema:\n%s", need[i], buf);
    int lines = 0;
    for (const char *p = buf; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, (int)spec_key_count() + 1); /* header + one line per key */
    free(buf);
}
