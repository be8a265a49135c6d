/* Loss landscapes: the worker-projection math on hand vectors, and the 2-D
 * grid and the 1-D line on tiny synthetic checkpoints written to a temp dir. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "csv.h"
#include "dataset.h"
#include "directions.h"
#include "landscape.h"
#include "net.h"
#include "evaluate.h"
#include "spec.h"

#include "model.h"
#include "spec_map.h"

/* The spec's model for c x h x w inputs and `classes` classes. */
static int net_build_spec(net_t *n, const spec_t *s, int c, int h, int w, int classes, dp_err *e) {
    model_cfg m;
    spec_model_cfg(&m, s, c, h, w, classes);
    return net_build(n, &m, e);
}

/* ---- projection ------------------------------------------------------------------ */

Test(project, point_in_the_plane_is_recovered) {
    /* non-orthogonal, unequal-norm directions */
    float d1[5] = {1, 2, 0, -1, 0.5f}, d2[5] = {0.5f, -1, 3, 0, 1}, v[5];
    for (int i = 0; i < 5; i++) v[i] = 0.75f * d1[i] - 2.0f * d2[i];
    double a, b, cap;
    dp_err e = {0};
    cr_assert_eq(land_project(v, d1, d2, 5, &a, &b, &cap, &e), 0, "%s", e.msg);
    cr_assert(fabs(a - 0.75) < 1e-6 && fabs(b + 2.0) < 1e-6, "a %g b %g", a, b);
    cr_assert(fabs(cap - 1) < 1e-6, "captured %g", cap);
}

Test(project, orthogonal_point_projects_to_zero) {
    float d1[4] = {1, 1, 0, 0}, d2[4] = {1, -2, 0, 0}, v[4] = {0, 0, 3, -4};
    double a = 9, b = 9, cap = 9;
    dp_err e = {0};
    cr_assert_eq(land_project(v, d1, d2, 4, &a, &b, &cap, &e), 0, "%s", e.msg);
    cr_assert(a == 0 && b == 0 && cap == 0, "a %g b %g captured %g", a, b, cap);
    /* a mixture: only the in-plane part comes back; captured = |in-plane| / |v| */
    float w[4] = {2, 2, 3, -4}; /* 2 d1 + (0, 0, 3, -4) */
    cr_assert_eq(land_project(w, d1, d2, 4, &a, &b, &cap, &e), 0);
    cr_assert(fabs(a - 2) < 1e-9 && fabs(b) < 1e-9);
    cr_assert(fabs(cap - sqrt(8.0) / sqrt(33.0)) < 1e-9, "captured %g", cap);
}

Test(project, parallel_directions_are_an_error) {
    float d1[3] = {1, 2, 3}, d2[3] = {2, 4, 6}, v[3] = {1, 0, 0};
    double a, b;
    dp_err e = {0};
    cr_assert_eq(land_project(v, d1, d2, 3, &a, &b, NULL, &e), DP_EUSAGE);
}

Test(coords, grid_hits_zero_and_the_ends_exactly) {
    cr_assert(land_coord(-1, 1, 10, 21) == 0);
    cr_assert(land_coord(-1, 1, 0, 21) == -1 && land_coord(-1, 1, 20, 21) == 1);
    cr_assert(land_coord(-0.5, 1.5, 10, 41) == 0 && land_coord(-0.5, 1.5, 30, 41) == 1);
}

/* ---- tiny synthetic checkpoints -------------------------------------------------- */

static const char SPEC_YAML[] =
    "data:\n"
    "  dataset: synthetic\n"
    "  shape: [1, 6, 6]\n"
    "  classes: 3\n"
    "  train_size: 60\n"
    "  test_size: 30\n"
    "model:\n"
    "  arch: cnn\n"
    "  widths: [3]\n"
    "  fc: 6\n"
    "  batchnorm: true\n"
    "dist:\n"
    "  workers: 2\n";

typedef struct {
    spec_t spec;
    net_t net;
    dataset_t train, test;
    char dir[64];
} fixture_t;

static void fx_init(fixture_t *f) {
    dp_err e = {0};
    memset(f, 0, sizeof *f);
    cr_assert_eq(spec_load_string(&f->spec, SPEC_YAML, "landscape-test", &e), 0, "%s", e.msg);
    cr_assert_eq(spec_validate(&f->spec, &e), 0, "%s", e.msg);
    cr_assert_eq(dataset_load(&f->spec, &f->train, &f->test, &e), 0, "%s", e.msg);
    cr_assert_eq(net_build_spec(&f->net, &f->spec, f->train.c, f->train.h, f->train.w, f->train.classes, &e), 0, "%s",
                 e.msg);
    snprintf(f->dir, sizeof f->dir, "/tmp/dppf-landscape-XXXXXX");
    cr_assert(mkdtemp(f->dir) != NULL);
}

/* A 2-worker checkpoint from init seed `seed`: workers = avg +- small noise,
 * BN running stats made non-trivial so buffer handling matters. */
static void write_ckpt(fixture_t *f, const char *file, uint64_t seed) {
    dp_err e = {0};
    size_t np = f->net.n_params, nb = f->net.n_buffers;
    checkpoint_t c = {0};
    c.spec_yaml = spec_to_yaml(&f->spec, &e);
    cr_assert(c.spec_yaml, "%s", e.msg);
    c.n_workers = 2;
    c.n_params = np;
    c.n_buffers = nb;
    c.avg_params = calloc(np, sizeof(float));
    c.avg_buffers = calloc(nb, sizeof(float));
    c.worker_params = calloc(2 * np, sizeof(float));
    c.worker_buffers = calloc(2 * nb, sizeof(float));
    net_init(&f->net, c.avg_params, c.avg_buffers, seed);
    for (int t = 0; t < f->net.n_tensors; t++) {
        const net_tensor *T = &f->net.tensors[t];
        if (!T->is_buffer) continue;
        for (size_t j = 0; j < T->size; j++) /* means 0.1.., variances 1.5.. */
            c.avg_buffers[T->offset + j] += 0.1f * (float)((j + seed) % 3) + 0.5f * (T->init_value != 0);
    }
    float *noise = calloc(np, sizeof(float));
    dir_random(noise, np, seed, 7);
    for (int w = 0; w < 2; w++) {
        for (size_t i = 0; i < np; i++)
            c.worker_params[w * np + i] = c.avg_params[i] + (w ? -0.05f : 0.05f) * noise[i];
        memcpy(c.worker_buffers + w * nb, c.avg_buffers, nb * sizeof(float));
    }
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, file);
    cr_assert_eq(checkpoint_write(path, &c, &e), 0, "%s", e.msg);
    free(noise);
    free(c.spec_yaml);
    free(c.avg_params);
    free(c.avg_buffers);
    free(c.worker_params);
    free(c.worker_buffers);
}

/* The objective's loss of a checkpoint's averaged model (the reference value). */
static double ckpt_loss(fixture_t *f, const char *file, int n) {
    dp_err e = {0};
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, file);
    checkpoint_t c;
    cr_assert_eq(checkpoint_read(path, &c, &e), 0, "%s", e.msg);
    batch_cfg_t bc;
    batch_cfg_from_spec(&bc, &f->spec, &f->train);
    objective_t o;
    cr_assert_eq(objective_init(&o, &f->net, &f->train, &bc, n, 256, c.avg_buffers, &e), 0, "%s", e.msg);
    double L = objective_loss(&o, c.avg_params, NULL);
    objective_free(&o);
    checkpoint_free(&c);
    return L;
}

/* Runs the landscape, its summary to /dev/null; it must succeed. */
static void run_ok(const landscape_opts *o) {
    dp_err e = {0};
    FILE *out = fopen("/dev/null", "w");
    cr_assert_not_null(out);
    cr_assert_eq(landscape_run(o, NULL, out, &e), 0, "%s", e.msg);
    fclose(out);
}

/* Reads <f->dir>/name. */
static void read_output(const fixture_t *f, const char *name, csv_table *t) {
    char csv[256];
    dp_err e = {0};
    snprintf(csv, sizeof csv, "%s/%s", f->dir, name);
    cr_assert_eq(csv_read(csv, t, &e), 0, "%s", e.msg);
}

static void rm_dir(const char *dir) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(grid, two_d_shape_and_centre) {
    fixture_t f;
    fx_init(&f);
    write_ckpt(&f, "a.bin", 3);
    char ckpt[128], csv[160];
    snprintf(ckpt, sizeof ckpt, "%s/a.bin", f.dir);
    landscape_opts o;
    landscape_opts_default(&o);
    o.ckpt = ckpt;
    o.spec = &f.spec;
    o.grid = 5;
    o.samples = 40;
    o.test = 1;
    o.report = NULL;
    o.seed = 9;
    run_ok(&o);

    csv_table t;
    read_output(&f, "landscape-2d.csv", &t);
    cr_assert_eq(t.ncols, 6);
    cr_assert_eq(t.nrows, 25);
    const char *names[] = {"a", "b", "train_loss", "train_acc", "test_loss", "test_acc"};
    for (int i = 0; i < 6; i++) cr_assert_str_eq(t.names[i], names[i]);
    const double *a = csv_col(&t, "a"), *b = csv_col(&t, "b"), *L = csv_col(&t, "train_loss");
    /* b outer, a inner, over [-1, 1] */
    for (int j = 0; j < 5; j++)
        for (int i = 0; i < 5; i++) {
            cr_assert(fabs(a[j * 5 + i] - (-1 + 0.5 * i)) < 1e-12);
            cr_assert(fabs(b[j * 5 + i] - (-1 + 0.5 * j)) < 1e-12);
            cr_assert(isfinite(L[j * 5 + i]) && L[j * 5 + i] > 0);
        }
    double L0 = ckpt_loss(&f, "a.bin", 40);
    cr_assert(a[12] == 0 && b[12] == 0);
    cr_assert(fabs(L[12] - L0) <= 1e-7 * L0, "centre %.9g vs objective at avg %.9g", L[12], L0);
    /* the landscape is not flat: some point differs from the centre */
    int differs = 0;
    for (int k = 0; k < 25; k++) differs |= fabs(L[k] - L0) > 1e-3;
    cr_assert(differs);
    csv_free(&t);

    /* workers file: 2 rows; random directions hold little of the offsets */
    read_output(&f, "landscape-2d-workers.csv", &t);
    cr_assert_eq(t.nrows, 2);
    const double *cap = csv_col(&t, "captured"), *dist = csv_col(&t, "dist");
    for (int i = 0; i < 2; i++) cr_assert(cap[i] >= 0 && cap[i] <= 1 && dist[i] > 0);
    csv_free(&t);

    /* same seed, same grid, bit for bit */
    char first[4096] = {0}, second[4096] = {0};
    snprintf(csv, sizeof csv, "%s/landscape-2d.csv", f.dir);
    FILE *g = fopen(csv, "r");
    cr_assert(fread(first, 1, sizeof first - 1, g) > 0);
    fclose(g);
    run_ok(&o);
    g = fopen(csv, "r");
    cr_assert(fread(second, 1, sizeof second - 1, g) > 0);
    fclose(g);
    cr_assert_str_eq(first, second);
    rm_dir(f.dir);
}

Test(grid, line_reproduces_both_ends) {
    fixture_t f;
    fx_init(&f);
    write_ckpt(&f, "a.bin", 3);
    write_ckpt(&f, "b.bin", 4);
    char ckpt[128], to[128];
    snprintf(ckpt, sizeof ckpt, "%s/a.bin", f.dir);
    snprintf(to, sizeof to, "%s/b.bin", f.dir);
    landscape_opts o;
    landscape_opts_default(&o);
    o.ckpt = ckpt;
    o.to_ckpt = to;
    o.spec = &f.spec;
    o.mode = LAND_1D_LINE;
    o.grid = 9; /* t = -0.5, -0.25, 0, ..., 1.5 */
    o.samples = 0; /* all 60 */
    o.report = NULL;
    o.no_png = 1;
    run_ok(&o);
    csv_table t;
    read_output(&f, "landscape-1d-line.csv", &t);
    cr_assert_eq(t.nrows, 9);
    cr_assert_eq(t.ncols, 3);
    const double *tt = csv_col(&t, "t"), *L = csv_col(&t, "train_loss");
    cr_assert(tt[0] == -0.5 && tt[2] == 0 && tt[6] == 1 && tt[8] == 1.5);
    double La = ckpt_loss(&f, "a.bin", 0), Lb = ckpt_loss(&f, "b.bin", 0);
    cr_assert(fabs(La - Lb) > 1e-4, "the two checkpoints should differ");
    cr_assert(fabs(L[2] - La) <= 1e-7 * La, "t=0: %.9g vs %.9g", L[2], La);
    cr_assert(fabs(L[6] - Lb) <= 1e-7 * Lb, "t=1: %.9g vs %.9g", L[6], Lb);
    csv_free(&t);
    rm_dir(f.dir);
}

Test(grid, workers_curves_and_errors) {
    fixture_t f;
    fx_init(&f);
    write_ckpt(&f, "a.bin", 5);
    char ckpt[128];
    snprintf(ckpt, sizeof ckpt, "%s/a.bin", f.dir);
    landscape_opts o;
    landscape_opts_default(&o);
    o.ckpt = ckpt;
    o.spec = &f.spec;
    o.mode = LAND_1D_WORKERS;
    o.grid = 5; /* t = -2, -1, 0, 1, 2 */
    o.report = NULL;
    o.no_png = 1;
    run_ok(&o);
    csv_table t;
    read_output(&f, "landscape-1d-workers.csv", &t);
    cr_assert_eq(t.nrows, 10);
    const double *w = csv_col(&t, "worker"), *tt = csv_col(&t, "t"), *L = csv_col(&t, "train_loss");
    double L0 = ckpt_loss(&f, "a.bin", 10000);
    for (int i = 0; i < 2; i++) {
        cr_assert(w[i * 5] == i && tt[i * 5 + 2] == 0 && tt[i * 5 + 3] == 1);
        cr_assert(fabs(L[i * 5 + 2] - L0) <= 1e-7 * L0); /* both curves pass through the average */
    }
    /* the workers are mirror images around the average: w0 at t = -1 is w1 at t = 1 */
    cr_assert(fabs(L[1] - L[8]) < 1e-4 * L[8], "%g vs %g", L[1], L[8]);
    csv_free(&t);

    /* errors: a line without --to, a bad mode name */
    o.mode = LAND_1D_LINE;
    dp_err e = {0};
    FILE *out = fopen("/dev/null", "w");
    cr_assert_eq(landscape_run(&o, NULL, out, &e), DP_EUSAGE);
    land_mode m;
    cr_assert_eq(land_mode_parse("3d", &m, &e), DP_EUSAGE);
    cr_assert(strstr(e.msg, "3d"));
    cr_assert_eq(land_mode_parse("workers", &m, &e), 0);
    cr_assert_eq(m, LAND_1D_WORKERS);
    fclose(out);
    rm_dir(f.dir);
}
