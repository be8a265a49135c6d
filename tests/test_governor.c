/* The thread governor against simulated machines: step times as a function
 * of the thread count, changing when another process arrives or leaves. */
#include <criterion/criterion.h>

#include "governor.h"

/* Seconds a step takes at `threads` on a machine; busy: another process runs. */
typedef double (*machine_fn)(int threads, int busy, unsigned *noise);

static double jitter(unsigned *s) { /* +-8%, deterministic */
    *s = *s * 1103515245u + 12345u;
    return 1.0 + 0.16 * ((double)((*s >> 8) % 1001) / 1000.0 - 0.5);
}

/* 2 cores: 2 threads 1.67x one thread when idle, 0.9x under a busy process. */
static double two_cores(int threads, int busy, unsigned *noise) {
    double t = threads >= 2 ? (busy ? 0.65 : 0.36) : 0.6;
    return t * jitter(noise);
}

/* 8 cores, best at 2 threads (a small model: the team's overheads dominate). */
static double best_at_two(int threads, int busy, unsigned *noise) {
    (void)busy;
    double t = threads == 8 ? 1.0 : threads == 4 ? 0.7 : threads == 2 ? 0.5 : 0.8;
    return t * jitter(noise);
}

/* Runs steps [from, to) on machine m; returns the thread count of the last step. */
static int run(thread_governor *g, machine_fn m, int busy, long from, long to, long *at_one,
               unsigned *noise) {
    int t = 0;
    for (long s = from; s < to; s++) {
        t = governor_threads(g);
        if (t == 1 && at_one) (*at_one)++;
        governor_record(g, m(t, busy, noise));
    }
    return governor_threads(g);
}

Test(governor, idle_machine_keeps_all_threads_and_probes_once) {
    for (unsigned seed = 1; seed <= 20; seed++) {
        thread_governor g;
        unsigned noise = seed;
        governor_init(&g, 2, 1);
        long at_one = 0;
        run(&g, two_cores, 0, 0, 2000, &at_one, &noise);
        cr_expect_eq(governor_threads(&g), 2);
        cr_expect_eq(g.probes, 1, "seed %u: %ld probes on an idle machine", seed, g.probes);
        cr_expect_eq(at_one, 1, "seed %u: %ld steps at 1 thread", seed, at_one);
        cr_expect_eq(g.switches, 0, "seed %u: switched %ld times on an idle machine", seed, g.switches);
    }
}

Test(governor, a_busy_machine_moves_to_one_thread_and_back) {
    thread_governor g;
    unsigned noise = 7;
    governor_init(&g, 2, 1);
    run(&g, two_cores, 0, 0, 600, NULL, &noise); /* settled: probes are 256 steps apart */
    cr_assert_eq(governor_threads(&g), 2);
    /* another process arrives: within a few steps the run uses 1 thread */
    long at_one = 0;
    run(&g, two_cores, 1, 600, 610, &at_one, &noise);
    cr_expect_eq(governor_threads(&g), 1, "still %d threads 10 steps into the contention",
                 governor_threads(&g));
    at_one = 0;
    run(&g, two_cores, 1, 610, 1610, &at_one, &noise);
    cr_expect_geq(at_one, 970, "only %ld of 1000 busy steps at 1 thread", at_one);
    /* it leaves: back to 2 threads within one longest probe interval */
    at_one = 0;
    run(&g, two_cores, 0, 1610, 1610 + 300, &at_one, &noise);
    cr_expect_eq(governor_threads(&g), 2);
}

Test(governor, finds_the_best_count_among_many) {
    thread_governor g;
    unsigned noise = 3;
    governor_init(&g, 8, 1);
    cr_assert_eq(g.n_cand, 4); /* 8, 4, 2, 1 */
    run(&g, best_at_two, 0, 0, 200, NULL, &noise);
    cr_expect_eq(governor_threads(&g), 2);
}

Test(governor, pinned_never_changes) {
    thread_governor g;
    unsigned noise = 5;
    governor_init(&g, 2, 0);
    run(&g, two_cores, 1, 0, 500, NULL, &noise);
    cr_expect_eq(governor_threads(&g), 2);
    cr_expect_eq(g.probes, 0);
    governor_init(&g, 1, 1); /* one thread: nothing to choose */
    run(&g, two_cores, 1, 0, 50, NULL, &noise);
    cr_expect_eq(governor_threads(&g), 1);
    cr_expect_eq(g.probes, 0);
}

Test(governor, ignores_a_zero_or_nan_time) {
    thread_governor g;
    governor_init(&g, 2, 1);
    for (int i = 0; i < 100; i++) governor_record(&g, i % 2 ? 0.0 : __builtin_nan(""));
    cr_expect_eq(governor_threads(&g), 2);
    cr_expect_eq(g.probes, 0);
}

/* Busy from the first step, where 1 thread is only ~8% faster than 2 and
 * the noise is as large: close probes go on until the choice is clear. */
Test(governor, a_run_that_starts_on_a_busy_machine_finds_one_thread) {
    for (unsigned seed = 1; seed <= 20; seed++) {
        thread_governor g;
        unsigned noise = seed;
        long at_one = 0;
        governor_init(&g, 2, 1);
        run(&g, two_cores, 1, 0, 100, NULL, &noise);
        run(&g, two_cores, 1, 100, 1100, &at_one, &noise);
        cr_expect_eq(governor_threads(&g), 1, "seed %u: %d threads after 1100 busy steps", seed,
                     governor_threads(&g));
        cr_expect_geq(at_one, 950, "seed %u: %ld of the last 1000 busy steps at 1 thread", seed, at_one);
    }
}
