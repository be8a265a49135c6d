/* The training state <-> checkpoint mapping (run/runstate.c): a round trip,
 * and checkpoints whose checksum is valid but whose fields do not fit the
 * run (crafted with checkpoint_write, which computes a correct CRC). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "algo.h"
#include "checkpoint.h"
#include "comm.h"
#include "runstate.h"
#include "spec.h"
#include "workers.h"

#define TMPDIR_PREFIX "dppf_runstate"
#include "tmpdir.h"

TestSuite(runstate, .init = make_dir, .fini = remove_dir);

enum { NP = 7, NB = 3, M = 3, SPE = 10, TOTAL = 40 };

typedef struct {
    comm_t comm;
    worker_set wk;
    algo_t algo;
    char *yaml;
    double interval[3];
    run_state r;
} fixture;

static void make(fixture *f, int algorithm) {
    dp_err e = {0};
    memset(f, 0, sizeof *f);
    cr_assert_eq(comm_init(&f->comm, M, &e), 0, "%s", e.msg);
    cr_assert_eq(workers_alloc(&f->wk, &f->comm, NP, NB, 1, &e), 0, "%s", e.msg);
    for (int k = 0; k < M; k++)
        for (int i = 0; i < NP + NB; i++) f->wk.w[k].params[i] = (float)(k + 1) * 0.25f + (float)i;
    algo_cfg ac = {.kind = algorithm, .tau = 2, .moving_rate = 0.5f};
    cr_assert_eq(algo_init(&f->algo, &ac, &f->wk, &e), 0, "%s", e.msg);
    spec_t s;
    spec_defaults(&s);
    f->yaml = spec_to_yaml(&s, &e);
    cr_assert_not_null(f->yaml);
    f->r = (run_state){.spec_yaml = f->yaml, .wk = &f->wk, .algo = &f->algo, .comm = &f->comm,
                       .step = 20, .steps_per_epoch = SPE, .total_steps = TOTAL, .wall = 1.5,
                       .interval = f->interval};
}

static void drop(fixture *f) {
    algo_free(&f->algo);
    workers_free(&f->wk);
    comm_finalize(&f->comm);
    free(f->yaml);
}

/* Loads `path` into a fresh run of the same shape; returns the code, message in e. */
static int load_into_fresh(const char *path, int algorithm, dp_err *e) {
    fixture g;
    make(&g, algorithm);
    int rc = runstate_load(&g.r, path, e);
    drop(&g);
    return rc;
}

/* Rewrites a saved checkpoint with one field changed (a valid CRC). */
typedef void (*edit_fn)(checkpoint_t *c);
static void rewrite(const char *path, edit_fn edit) {
    checkpoint_t c;
    dp_err e = {0};
    cr_assert_eq(checkpoint_read(path, &c, &e), 0, "%s", e.msg);
    edit(&c);
    cr_assert_eq(checkpoint_write(path, &c, &e), 0, "%s", e.msg);
    checkpoint_free(&c);
}

static void expect_refused(const char *path, int algorithm, int code, const char *needle) {
    dp_err e = {0};
    int rc = load_into_fresh(path, algorithm, &e);
    cr_expect_eq(rc, code, "code %d (%s), expected %d", rc, e.msg, code);
    cr_expect(strstr(e.msg, needle) != NULL, "message lacks '%s': %s", needle, e.msg);
}

Test(runstate, round_trip_with_interval_sums) {
    fixture f;
    make(&f, ALGO_EASGD);
    f.interval[0] = 12.5, f.interval[1] = 40, f.interval[2] = 64;
    f.algo.last_sync = 18;
    f.algo.state[2] = 42.0f;
    dp_err e = {0};
    cr_assert_eq(runstate_save(&f.r, in_dir("a.bin"), &e), 0, "%s", e.msg);
    fixture g;
    make(&g, ALGO_EASGD);
    cr_assert_eq(runstate_load(&g.r, in_dir("a.bin"), &e), 0, "%s", e.msg);
    cr_expect_eq(g.r.step, 20);
    cr_expect_eq(g.algo.last_sync, 18);
    cr_expect_eq(g.algo.state[2], 42.0f);
    cr_expect(memcmp(g.interval, f.interval, sizeof f.interval) == 0, "interval sums restored");
    for (int k = 0; k < M; k++)
        cr_expect(memcmp(g.wk.w[k].params, f.wk.w[k].params, (NP + NB) * sizeof(float)) == 0);
    drop(&g);
    /* At an evaluation the sums are 0: the layout then has no trailer. */
    f.interval[0] = f.interval[1] = f.interval[2] = 0;
    cr_assert_eq(runstate_save(&f.r, in_dir("b.bin"), &e), 0, "%s", e.msg);
    checkpoint_t c;
    cr_assert_eq(checkpoint_read(in_dir("b.bin"), &c, &e), 0, "%s", e.msg);
    cr_expect_eq(c.n_extra, 10 + NP + NB, "head + EASGD centre only: %llu", (unsigned long long)c.n_extra);
    checkpoint_free(&c);
    drop(&f);
}

static void save_one(int algorithm, const char *name) {
    fixture f;
    make(&f, algorithm);
    dp_err e = {0};
    cr_assert_eq(runstate_save(&f.r, in_dir(name), &e), 0, "%s", e.msg);
    drop(&f);
}

static void step_negative(checkpoint_t *c) { c->step = -5, c->epoch = 0; }
static void step_beyond(checkpoint_t *c) { c->step = 1000, c->epoch = 100; }
static void step_huge(checkpoint_t *c) { c->step = (int64_t)1 << 62, c->epoch = 0; }
static void epoch_wrong(checkpoint_t *c) { c->epoch = 1; }
static void nan_param(checkpoint_t *c) { c->worker_params[3] = NAN; }
static void wall_negative(checkpoint_t *c) { c->wall_seconds = -1; }
static void no_extra(checkpoint_t *c) { c->n_extra = 0; }
static void last_sync_ahead(checkpoint_t *c) {
    uint64_t v = 25; /* after the step (20) */
    memcpy(c->extra, &v, sizeof v);
}

Test(runstate, crafted_fields_are_refused_by_name) {
    const struct {
        edit_fn edit;
        int code;
        const char *needle;
    } cases[] = {
        {step_negative, DP_EIO, "invalid field step"},
        {step_beyond, DP_EIO, "field step is 1000, beyond the 40 steps"},
        {step_huge, DP_EIO, "field step is 4611686018427387904, beyond"},
        {epoch_wrong, DP_EIO, "field epoch is 1 but step 20 is in epoch 2"},
        {nan_param, DP_EIO, "a worker's parameters hold a NaN or Inf"},
        {wall_negative, DP_EIO, "invalid field wall_seconds"},
        {no_extra, DP_EUSAGE, "run-counter floats"},
        {last_sync_ahead, DP_EIO, "last sync (step 25) is not in [0, step 20]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu.bin", i);
        save_one(ALGO_LOCALSGD, name);
        rewrite(in_dir(name), cases[i].edit);
        expect_refused(in_dir(name), ALGO_LOCALSGD, cases[i].code, cases[i].needle);
    }
}

Test(runstate, mismatch_names_the_real_difference) {
    /* A localsgd checkpoint resumed as easgd: the algorithm's state is missing. */
    save_one(ALGO_LOCALSGD, "l.bin");
    expect_refused(in_dir("l.bin"), ALGO_EASGD, DP_EUSAGE, "holds 0 floats of algorithm state (dist.algorithm), the spec's run needs 10");
}
