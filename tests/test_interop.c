/* dppf import: a checkpoint made from the seed's own initialisation, written
 * to safetensors here (names built independently of lib/run/interop.c), must
 * resume as a fresh run: `train --resume INIT.bin` gives the same metrics and
 * the same final checkpoint, bit for bit, as `train` from scratch. That pins
 * everything a step-0 checkpoint must hold (zero momentum, each worker's RNG
 * stream, run counters, the EASGD centre). Runs the dppf binary. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "dataset.h"
#include "net.h"
#include "safetensors.h"
#include "spec.h"

#define TMPDIR_PREFIX "dppf_interop"
#include "tmpdir.h"

#include "model.h"
#include "spec_map.h"

/* The spec's model for c x h x w inputs and `classes` classes. */
static int net_build_spec(net_t *n, const spec_t *s, int c, int h, int w, int classes, dp_err *e) {
    model_cfg m;
    spec_model_cfg(&m, s, c, h, w, classes);
    return net_build(n, &m, e);
}

TestSuite(interop, .init = make_dir, .fini = remove_dir, .timeout = 120);

static void run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "command failed (status %d): %s", rc, cmd);
}

/* metrics.csv without the timing columns (samples_per_s, wall_s). */
static char *metrics_no_timing(const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    static char out[2][1 << 16];
    static int k;
    char *o = out[k++ & 1], line[4096];
    size_t at = 0;
    while (fgets(line, sizeof line, f)) {
        int col = 0;
        for (char *p = line; *p; p++) {
            if (col != 7 && col != 8) o[at++] = *p;
            if (*p == ',') col++;
            cr_assert_lt(at, sizeof out[0] - 1);
        }
    }
    o[at] = 0;
    fclose(f);
    return o;
}

static void same_checkpoints(const char *a, const char *b) {
    checkpoint_t x, y;
    dp_err e = {0};
    cr_assert_eq(checkpoint_read(a, &x, &e), 0, "%s", e.msg);
    cr_assert_eq(checkpoint_read(b, &y, &e), 0, "%s", e.msg);
    cr_assert(x.n_workers == y.n_workers && x.n_params == y.n_params && x.n_buffers == y.n_buffers &&
              x.n_opt == y.n_opt && x.n_rng == y.n_rng && x.n_extra == y.n_extra);
    cr_expect_eq(x.step, y.step);
    size_t W = x.n_workers, np = x.n_params, nb = x.n_buffers;
    cr_expect(!memcmp(x.avg_params, y.avg_params, np * 4), "averaged parameters differ");
    cr_expect(!memcmp(x.avg_buffers, y.avg_buffers, nb * 4), "averaged BN buffers differ");
    cr_expect(!memcmp(x.worker_params, y.worker_params, W * np * 4), "worker parameters differ");
    cr_expect(!memcmp(x.worker_buffers, y.worker_buffers, W * nb * 4), "worker buffers differ");
    cr_expect(!memcmp(x.worker_opt, y.worker_opt, W * x.n_opt * 4), "momentum differs");
    cr_expect(!memcmp(x.rng, y.rng, W * x.n_rng * 32), "RNG states differ");
    cr_expect(!memcmp(x.extra, y.extra, x.n_extra * 4), "run counters / algorithm state differ");
    checkpoint_free(&x);
    checkpoint_free(&y);
}

static void fresh_vs_imported(const char **sets, int n_sets) {
    static spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    for (int i = 0; i < n_sets; i++) cr_assert_eq(spec_set(&s, sets[i], &e), 0, "%s", e.msg);
    cr_assert_eq(spec_validate(&s, &e), 0, "%s", e.msg);
    char spec_path[600], st_path[600];
    snprintf(spec_path, sizeof spec_path, "%s/spec.yaml", g_dir);
    snprintf(st_path, sizeof st_path, "%s/init.safetensors", g_dir);
    char *yaml = spec_to_yaml(&s, &e);
    cr_assert_not_null(yaml, "%s", e.msg);
    FILE *f = fopen(spec_path, "w");
    cr_assert_not_null(f);
    fputs(yaml, f);
    fclose(f);
    free(yaml);

    /* The seed's initialisation as a torch state_dict. */
    dataset_t tr, te;
    net_t net;
    cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
    cr_assert_eq(net_build_spec(&net, &s, tr.c, tr.h, tr.w, tr.classes, &e), 0, "%s", e.msg);
    float *params = calloc(net.n_params, 4), *buffers = calloc(net.n_buffers, 4);
    cr_assert(params && buffers);
    net_init(&net, params, buffers, s.run.seed);
    st_tensor t[256];
    char names[256][80];
    int64_t nbt = 0;
    int n = 0;
    for (int i = 0; i < net.n_tensors; i++) {
        const net_tensor *nt = &net.tensors[i];
        cr_assert_lt(n, 254);
        t[n] = (st_tensor){.name = (char *)nt->name, .dtype = ST_F32, .ndim = nt->ndim,
                           .data = (nt->is_buffer ? buffers : params) + nt->offset};
        for (int d = 0; d < nt->ndim; d++) t[n].shape[d] = (uint64_t)nt->shape[d];
        n++;
        size_t l = strlen(nt->name);
        if (l > 12 && !strcmp(nt->name + l - 12, ".running_var")) {
            snprintf(names[n], sizeof names[n], "%.*s.num_batches_tracked", (int)(l - 12), nt->name);
            t[n] = (st_tensor){.name = names[n], .dtype = ST_I64, .ndim = 0, .data = &nbt};
            n++;
        }
    }
    cr_assert_eq(st_write(st_path, t, n, NULL, 0, &e), 0, "%s", e.msg);
    free(params);
    free(buffers);
    net_free(&net);
    dataset_free(&tr);
    dataset_free(&te);

    run("'%s' train '%s' --set run.out_dir='%s/fresh' --quiet > /dev/null", DPPF_BINARY, spec_path, g_dir);
    run("'%s' import '%s' --spec '%s' --set run.out_dir='%s/resumed' --out '%s/init.bin' > /dev/null",
        DPPF_BINARY, st_path, spec_path, g_dir, g_dir);
    run("'%s' train --resume '%s/init.bin' --quiet > /dev/null", DPPF_BINARY, g_dir);

    char a[600], b[600];
    snprintf(a, sizeof a, "%s/fresh/metrics.csv", g_dir);
    snprintf(b, sizeof b, "%s/resumed/metrics.csv", g_dir);
    const char *ma = metrics_no_timing(a), *mb = metrics_no_timing(b);
    cr_expect_str_eq(mb, ma, "metrics differ:\n%s\nvs fresh:\n%s", mb, ma);
    snprintf(a, sizeof a, "%s/fresh/checkpoint.bin", g_dir);
    snprintf(b, sizeof b, "%s/resumed/checkpoint.bin", g_dir);
    same_checkpoints(a, b);
}

#define SYN "data.dataset=synthetic", "data.train_size=256", "data.test_size=64", \
    "data.crop_pad=2", "model.widths=[4,8]", "model.fc=16", "model.dropout=0.2", \
    "optim.batch_size=32", "optim.epochs=2", "run.seed=11", "run.eval_every=0.5"

Test(interop, imported_init_resumes_as_a_fresh_run) {
    const char *sets[] = {SYN};
    fresh_vs_imported(sets, sizeof sets / sizeof *sets);
}

Test(interop, imported_init_resumes_as_a_fresh_easgd_run) {
    const char *sets[] = {SYN, "dist.workers=2", "dist.algorithm=easgd", "dist.tau=2",
                          "optim.batch_size=16"};
    fresh_vs_imported(sets, sizeof sets / sizeof *sets);
}
