/* algo.h - distributed training algorithms as hooks into one training loop.
 *
 * The loop (run/train.c) calls algo_after_backward once the local workers
 * have their gradients and algo_after_step once they have taken their
 * optimizer step. The framework here does what every algorithm shares: it
 * averages the gradients when the algorithm asks for it (ddp, the first
 * epochs of post-local SGD), decides when a sync is due (every `period`
 * steps), computes the workers' average [params | BN buffers] in ONE
 * allreduce, measures the spread, averages the BN buffers, and applies
 * dist.momentum_sync. An algorithm only says what a worker does with the
 * average (its `sync` hook), and may keep a flat vector of floats of its own
 * (e.g. the EASGD centre) that checkpoints save and restore as they are.
 *
 * Adding one: dist/algo_<name>.c defines `const algo_ops algo_<name>_ops`
 * and dist/algos.h gets its row. See README "Algorithms" for the rules. */
#ifndef DPPF_ALGO_H
#define DPPF_ALGO_H

#include <stdint.h>

#include "algos.h"
#include "error.h"
#include "workers.h"

typedef struct {
    int kind;                /* ALGO_* (dist/algos.h) */
    int tau;                 /* local steps between syncs (base period for qsr) */
    float pull, push;        /* dppf */
    int push_form;           /* PUSH_NORMALIZED: + push*u; PUSH_INVERSE: + push*u/d^2 */
    float push_warmup_epochs;/* push ramps linearly from 0 over these epochs */
    float moving_rate;       /* easgd beta; each worker moves alpha = beta/M */
    float qsr_beta;          /* qsr: tau_t = max(tau, floor((beta/lr)^2)) */
    float post_local_epochs; /* localsgd: ddp (tau = 1) for these first epochs */
    int momentum_sync;       /* MOM_* : what a sync does to momentum buffers */
} algo_cfg;

typedef struct algo_ops algo_ops;

typedef struct {
    algo_cfg cfg;
    const algo_ops *ops;
    int64_t last_sync;       /* step of the last sync */
    int tau_now;             /* current period */
    double spread_mean, spread_max; /* ||x_i - avg|| over workers at the last sync */
    float *state;            /* the algorithm's own floats (checkpointed as they are), or NULL */
    size_t n_state;
    float **mom_ptrs;        /* scratch for momentum averaging */
} algo_t;

struct algo_ops {
    /* Floats of algorithm state for a model of n = params + buffers floats
     * (0: none); algo_init allocates a->state and calls init. Nullable. */
    size_t (*state_floats)(const algo_cfg *c, size_t n);
    /* Fills a->state at the start of a run (every worker holds the same
     * starting point, worker 0's [params | buffers]). Nullable. */
    void (*init)(algo_t *a, const worker_set *ws);
    /* Are the gradients averaged over all workers at this step (tau = 1, no
     * parameter syncs)? `epoch` = fractional epochs done. Nullable: never. */
    int (*averages_gradients)(const algo_t *a, double epoch);
    /* The sync period after a step at learning rate lr. Nullable: cfg.tau. */
    int (*period)(const algo_t *a, float lr);
    /* At a sync, with ws->avg = mean over all workers of [params | buffers]:
     * update every local worker's parameters (the framework then sets BN
     * buffers to the average), and the algorithm's state. Nullable: each
     * worker takes the average (LocalSGD). */
    void (*sync)(algo_t *a, worker_set *ws, double epoch);
};

/* Parses an algorithm name; -1 if unknown. */
int algo_kind(const char *name);

int algo_init(algo_t *a, const algo_cfg *cfg, worker_set *ws, dp_err *e);
void algo_free(algo_t *a);

/* May replace every worker's gradient by the mean over all workers. */
int algo_after_backward(algo_t *a, worker_set *ws, int64_t step, double epoch, dp_err *e);
/* `step` = steps completed so far (after this step), lr = the step's lr. */
int algo_after_step(algo_t *a, worker_set *ws, int64_t step, double epoch, float lr, dp_err *e);

/* The DPPF update of one worker against the average, with the force's
 * strengths already scheduled. Returns ||x - avg|| before the update. */
double dppf_pull_push(float *x, const float *avg, size_t n, float pull, float push, int push_form);

#endif
