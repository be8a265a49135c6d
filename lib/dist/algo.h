/* algo.h - distributed training algorithms as two hooks into one training loop.
 *
 *   after_backward: may change the workers' gradients (ddp averages them);
 *   after_step:     may sync parameters (localsgd, easgd, qsr, dppf).
 *
 * All communication goes through workers_average()/comm, i.e. one allreduce
 * of the flat [params | buffers] buffer per sync. See README "Algorithms". */
#ifndef DPPF_ALGO_H
#define DPPF_ALGO_H

#include <stdint.h>

#include "error.h"
#include "workers.h"

enum { ALGO_DDP, ALGO_LOCALSGD, ALGO_EASGD, ALGO_QSR, ALGO_DPPF };
enum { MOM_KEEP, MOM_RESET, MOM_AVERAGE };
enum { PUSH_NORMALIZED, PUSH_INVERSE };

typedef struct {
    int kind;
    int tau;                 /* local steps between syncs (base period for qsr) */
    float pull, push;        /* dppf */
    int push_form;           /* PUSH_NORMALIZED: + push*u; PUSH_INVERSE: + push*u/d^2 */
    float push_warmup_epochs;/* push ramps linearly from 0 over these epochs */
    float moving_rate;       /* easgd beta; each worker moves alpha = beta/M */
    float qsr_beta;          /* qsr: tau_t = max(tau, floor((beta/lr)^2)) */
    float post_local_epochs; /* localsgd: ddp (tau = 1) for these first epochs */
    int momentum_sync;       /* MOM_* : what a sync does to momentum buffers */
} algo_cfg;

typedef struct {
    algo_cfg cfg;
    int64_t last_sync;       /* step of the last sync */
    int tau_now;             /* current period */
    double spread_mean, spread_max; /* ||x_i - avg|| over workers at the last sync */
    float *center;           /* easgd centre variable [params | buffers] */
    float **mom_ptrs;        /* scratch for momentum averaging */
} algo_t;

/* Parses an algorithm name; -1 if unknown. */
int algo_kind(const char *name);
const char *algo_name(int kind);

int algo_init(algo_t *a, const algo_cfg *cfg, worker_set *ws, dp_err *e);
void algo_free(algo_t *a);

/* ddp: replace every worker's gradient by the mean over all workers. */
int algo_after_backward(algo_t *a, worker_set *ws, int64_t step, double epoch, dp_err *e);
/* `step` = steps completed so far (after this step), lr = the step's lr. */
int algo_after_step(algo_t *a, worker_set *ws, int64_t step, double epoch, float lr, dp_err *e);

/* The DPPF update of one worker against the average, with the force's
 * strengths already scheduled. Returns ||x - avg|| before the update. */
double dppf_pull_push(float *x, const float *avg, size_t n, float pull, float push, int push_form);

#endif
