/* governor.c - the thread count of each step from measured step times (see governor.h). */
#include "governor.h"

enum {
    INTERVAL_MIN = 4,
    INTERVAL_MAX = 256,
    WARMUP_STEPS = 1, /* the first step allocates and faults pages in: not a fair time */
};
#define SWITCH_GAIN 0.95 /* move only for a clear gain: noise must not flip the choice */
#define SLOW_FACTOR 1.3  /* a step this much above the estimate, twice: the machine changed */
#define CLOSE_FACTOR 1.15 /* a probe that lost by less: not yet decided */
#define BUSY_FACTOR 1.3   /* all threads this much slower than their best: someone took a core */

void governor_init(thread_governor *g, int max_threads, int adapt) {
    /* The first probe comes after two measured steps: a run that starts on a
     * busy machine should not wait long for the better count. */
    *g = (thread_governor){.probe = -1, .next_down = 1, .interval = INTERVAL_MIN, .countdown = 2,
                           .skip = WARMUP_STEPS};
    if (max_threads < 1) max_threads = 1;
    g->cand[g->n_cand++] = max_threads;
    if (adapt)
        while (g->cand[g->n_cand - 1] > 1 && g->n_cand < GOVERNOR_MAX_CANDIDATES)
            g->cand[g->n_cand] = g->cand[g->n_cand - 1] / 2, g->n_cand++;
}

int governor_threads(const thread_governor *g) {
    return g->cand[g->probe >= 0 ? g->probe : g->cur];
}

/* The neighbour to probe next, alternating fewer and more threads; -1 if none. */
static int neighbour(thread_governor *g) {
    for (int tries = 0; tries < 2; tries++) {
        const int down = g->next_down;
        g->next_down = !down;
        const int i = down ? g->cur + 1 : g->cur - 1;
        if (i >= 0 && i < g->n_cand) return i;
    }
    return -1;
}

void governor_record(thread_governor *g, double seconds) {
    g->steps++;
    g->fewer += governor_threads(g) < g->cand[0];
    if (g->n_cand < 2 || !(seconds > 0)) return;
    if (g->skip > 0) {
        g->skip--;
        return;
    }
    if (g->probe >= 0) {
        const int p = g->probe;
        g->probe = -1;
        g->est[p] = seconds; /* a fresh reading: an old one may predate a change of load */
        if (g->est[p] < SWITCH_GAIN * g->est[g->cur]) {
            g->cur = p;
            g->switches++;
            g->interval = INTERVAL_MIN;
            g->slow_steps = 0;
        } else if (g->interval < INTERVAL_MAX) {
            g->interval *= 2;
        }
        g->close_call = g->est[p] < CLOSE_FACTOR * g->est[g->cur];
        g->countdown = g->interval;
        return;
    }
    double *e = &g->est[g->cur];
    if (*e > 0 && seconds > SLOW_FACTOR * *e) {
        if (++g->slow_steps >= 2) { /* the machine changed: probe now, and often */
            *e = seconds;
            g->slow_steps = 0;
            g->interval = INTERVAL_MIN;
            g->countdown = 0;
        }
    } else {
        g->slow_steps = 0;
        *e = *e > 0 ? 0.75 * *e + 0.25 * seconds : seconds;
    }
    double *best = &g->best[g->cur];
    if (*best == 0 || *e < *best) *best = *e;
    if (--g->countdown <= 0) {
        g->countdown = g->interval;
        /* With every thread, a probe needs a reason: the first one; a last
         * one that came close (one noisy step must not decide a near tie);
         * or steps slower than this count has run (someone took a core). So
         * an idle machine, where fewer threads are clearly slower, pays one
         * step. With fewer, probes go on: only a probe can tell that the
         * core is free again. */
        if (g->cur > 0 || g->probes == 0 || g->close_call || *e > BUSY_FACTOR * *best) {
            g->probe = neighbour(g);
            g->probes += g->probe >= 0;
        }
    }
}
