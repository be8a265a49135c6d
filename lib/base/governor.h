/* governor.h - how many threads the next training step should use, chosen
 * from the measured times of the steps before it.
 *
 * On a shared machine another process may take a core: a team of T threads
 * then waits at every barrier for the thread that lost its core, and T
 * threads can be slower than fewer. The governor keeps a time per step for
 * each candidate count (T, T/2, ..., 1), runs one step now and then at a
 * neighbouring count (a probe), and moves to whichever is faster. With
 * every thread in use it probes once at the start, again only while the
 * probes come close, and when steps run slower than they have (at once
 * when the step time jumps), so an idle machine pays one step. With fewer
 * threads it probes every 4 steps at first, doubling to every 256 while
 * the choice holds, to notice that the core is free again.
 *
 * Numbers do not depend on the thread count (parallel.h), so the choice
 * changes only speed. Pure logic: the caller sets the count and times. */
#ifndef DPPF_GOVERNOR_H
#define DPPF_GOVERNOR_H

#define GOVERNOR_MAX_CANDIDATES 9 /* 256, 128, ..., 1 */

typedef struct {
    int n_cand;
    int cand[GOVERNOR_MAX_CANDIDATES]; /* thread counts, largest first */
    double est[GOVERNOR_MAX_CANDIDATES];  /* seconds a step at cand[i]; 0 = not yet measured */
    double best[GOVERNOR_MAX_CANDIDATES]; /* the lowest est[i] so far */
    int cur;          /* index of the count in use */
    int probe;        /* index of the count being probed this step, or -1 */
    int next_down;    /* the next probe tries fewer threads (else more) */
    int interval;     /* steps between probes while the choice holds */
    int countdown;    /* steps until the next probe */
    int slow_steps;   /* consecutive steps well above the estimate */
    int skip;         /* steps still to ignore (warm-up) */
    int close_call;   /* the last probe lost by less than the noise allows to trust */
    long steps, probes, switches, fewer; /* fewer: steps run below the largest count */
} thread_governor;

/* max_threads >= 1; adapt = 0 keeps max_threads for every step. */
void governor_init(thread_governor *g, int max_threads, int adapt);

/* The thread count for the coming step. */
int governor_threads(const thread_governor *g);

/* The time of the step just run with governor_threads() threads. */
void governor_record(thread_governor *g, double seconds);

#endif
