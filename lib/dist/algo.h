/* algo.h - distributed training algorithms as hooks into one training loop.
 *
 * The loop (run/train.c) calls algo_after_backward once the local workers
 * have their gradients and algo_after_step once they have taken their
 * optimizer step. The framework here does what every algorithm shares: it
 * averages the gradients when the algorithm asks for it (ddp, the first
 * epochs of post-local SGD), decides when a sync is due (every `period`
 * steps), computes the workers' average [params | BN buffers] in ONE
 * allreduce, measures the spread, averages the BN buffers, applies
 * dist.momentum_sync, and keeps the EMA of the averaged model (run.ema_decay).
 * An algorithm only says what a worker does with the average (its `sync`
 * hook), and may keep a flat vector of floats of its own (e.g. the EASGD
 * centre) that checkpoints save and restore as they are. Methods that need
 * more replace parts of the sync: a centre other than the mean (grawa), the
 * whole exchange (lsgd), or act at every local step (dppf push_every: step).
 *
 * Adding one: dist/algo_<name>.c defines `const algo_ops algo_<name>_ops`
 * and dist/algos.h gets its row. See README "Algorithms" for the rules. */
#ifndef DPPF_ALGO_H
#define DPPF_ALGO_H

#include <stdint.h>

#include "algos.h"
#include "error.h"
#include "faults.h"
#include "net.h"
#include "workers.h"

typedef struct {
    int kind;                /* ALGO_* (dist/algos.h) */
    int tau;                 /* local steps between syncs (base period for qsr) */
    float pull, push;        /* dppf; pull is also grawa's move toward the weighted centre */
    int push_form;           /* PUSH_NORMALIZED: + push*u; PUSH_INVERSE: + push*u/d^2 */
    float push_warmup_epochs;/* push ramps linearly from 0 over these epochs */
    float moving_rate;       /* easgd beta; each worker moves alpha = beta/M */
    float qsr_beta;          /* qsr: tau_t = max(tau, floor((beta/lr)^2)) */
    float post_local_epochs; /* localsgd: ddp (tau = 1) for these first epochs */
    int momentum_sync;       /* MOM_* : what a sync does to momentum buffers */
    int push_every, pull_every; /* dppf: FORCE_AT_SYNC | FORCE_AT_STEP */
    int push_schedule;       /* dppf: PUSH_CONSTANT | PUSH_LINEAR | PUSH_COSINE over the run */
    float target_spread;     /* dppf: adapt the push so the spread settles here; 0 = fixed push */
    float target_rate;       /* dppf: largest relative change of the adapted push per sync */
    float lsgd_local, lsgd_global; /* lsgd: pull toward the group's / the overall leader */
    int lsgd_group;          /* lsgd: workers per local group (consecutive indices) */
    float outer_lr, outer_momentum; /* slowmo, diloco */
    int outer_nesterov;
    float ema_decay;         /* EMA of the averaged model, decay per step; 0 = none */
    double total_epochs;     /* the run's length (push_schedule); 0 = unknown */
    const net_t *net;        /* the parameter layout (lgrawa's layers); NULL = one layer */
    faults_cfg faults;       /* unreliable syncs (dist/faults.h); all zero = reliable */
} algo_cfg;

typedef struct algo_ops algo_ops;

typedef struct {
    algo_cfg cfg;
    const algo_ops *ops;
    int64_t last_sync;       /* step of the last sync */
    int tau_now;             /* current period */
    float lr_now;            /* learning rate of the last step (slowmo scales by it) */
    double spread_mean, spread_max; /* ||x_i - avg|| over workers at the last sync */
    float *state;            /* the algorithm's own floats (checkpointed as they are), or NULL */
    size_t n_state;          /* floats of state, the EMA included */
    float *ema;              /* EMA of the averaged [params | buffers] (run.ema_decay), at the
                                end of the state, or NULL */
    size_t slots_at, slot_floats; /* per-worker slots in the state: M x slot_floats floats
                                     from state + slots_at, each rank writing its own workers' */
    int exact_spread;        /* the algorithm uses the spread: measure it layout-independently
                                (one more collective, counted) */
    int n_layers;            /* parameter layers (the net's tensors; 1 without a layout) */
    size_t *layer_end;       /* their end offsets in the flat parameters, increasing, and
                                [n_layers] = the end of the buffers: ranges of [params | buffers] */
    double *dists;           /* scratch: every worker's ||x_i - avg|| (M) */
    /* Unreliable syncs (cfg.faults): */
    const unsigned char *mask; /* during a sync: who takes part in this pass (M), NULL = all;
                                  centre and exchange hooks must leave the others out */
    unsigned char *present, *late, *group, *pass; /* this sync's draw and pass (M each) */
    float *weight;           /* M: 1 for a worker in the pass, else 0 */
    float *saved;            /* local x [params | buffers]: workers outside the pass */
    float *faults;           /* in the state: counters (4 x f64), then the ring of the last
                                straggler_delay consensus models; NULL when reliable */
    float **mom_ptrs;        /* scratch for momentum averaging */
} algo_t;

struct algo_ops {
    /* Floats of algorithm state (0: none); algo_init allocates a->state and
     * calls init. a->cfg and the layout (a->n_layers) are set. Nullable. */
    size_t (*state_floats)(const algo_t *a, const worker_set *ws);
    /* Fills a->state at the start of a run (every worker holds the same
     * starting point, worker 0's [params | buffers]). Nullable. */
    void (*init)(algo_t *a, const worker_set *ws);
    /* Are the gradients averaged over all workers at this step (tau = 1, no
     * parameter syncs)? `epoch` = fractional epochs done. Nullable: never. */
    int (*averages_gradients)(const algo_t *a, double epoch);
    /* The sync period after a step at learning rate lr. Nullable: cfg.tau. */
    int (*period)(const algo_t *a, float lr);
    /* After every local optimizer step, before a sync: per-step forces and
     * per-worker bookkeeping (from ws->w[k].loss). No communication. Nullable. */
    void (*local_step)(algo_t *a, worker_set *ws, double epoch);
    /* Replaces the sync's allreduce of the mean: fills ws->avg with the
     * [params | buffers] point the workers move toward, communicating as it
     * needs (counted). Nullable: the mean. */
    int (*centre)(algo_t *a, worker_set *ws, dp_err *e);
    /* At a sync, with ws->avg = the mean (or centre) of [params | buffers]:
     * update every local worker's parameters (the framework then sets BN
     * buffers to ws->avg's), and the algorithm's state. Leaves in ws->avg's
     * parameters the sync's consensus model (the EMA follows it). Nullable:
     * each worker takes the average (LocalSGD). */
    void (*sync)(algo_t *a, worker_set *ws, double epoch);
    /* Replaces the whole sync (centre, spread, update, BN buffers) for methods
     * whose workers move toward different points (lsgd's group leaders); must
     * measure the spread (algo_measure_spread) and leave the consensus model
     * in ws->avg. Nullable. */
    int (*exchange)(algo_t *a, worker_set *ws, double epoch, dp_err *e);
};

/* Parses an algorithm name; -1 if unknown. */
int algo_kind(const char *name);

int algo_init(algo_t *a, const algo_cfg *cfg, worker_set *ws, dp_err *e);
void algo_free(algo_t *a);

/* May replace every worker's gradient by the mean over all workers. */
int algo_after_backward(algo_t *a, worker_set *ws, int64_t step, double epoch, dp_err *e);
/* `step` = steps completed so far (after this step), lr = the step's lr. */
int algo_after_step(algo_t *a, worker_set *ws, int64_t step, double epoch, float lr, dp_err *e);

/* Collective, before a checkpoint saves a->state: brings every worker's
 * per-worker slots to every rank (not counted as training communication). */
int algo_share_state(algo_t *a, worker_set *ws, dp_err *e);

/* For exchange hooks: a->spread_* = mean and max over all workers of
 * ||x_i - c|| (parameters only), c = ws->avg. */
int algo_measure_spread(algo_t *a, worker_set *ws, dp_err *e);

/* x <- (1 - a) x + a c over n floats: a pull toward c (lsgd, grawa); a = 1
 * gives c and a = 0 gives x, bit for bit. */
void algo_mix(float *x, const float *c, size_t n, float a);

/* Syncs so far, worker-syncs missed, and the mean number of workers per sync
 * (M when reliable). */
void algo_fault_counts(const algo_t *a, int M, double *syncs, double *missed, double *participants_mean);

/* The DPPF update of one worker against the average, with the force's
 * strengths already scheduled. Returns ||x - avg|| before the update. */
double dppf_pull_push(float *x, const float *avg, size_t n, float pull, float push, int push_form);

#endif
