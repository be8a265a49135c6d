/* algos.h - the list of distributed training algorithms, one row each, and
 * the choices their options take. A header of names only, so that the spec
 * (io/spec.c) takes its list of valid names from here without linking the
 * algorithms.
 *
 * Adding an algorithm: write dist/algo_<name>.c defining `const algo_ops
 * algo_<name>_ops` (dist/algo.h says what each hook does) and add its row:
 *   X(ALGO_ID, "name-in-the-spec", algo_<name>_ops) */
#ifndef DPPF_ALGOS_H
#define DPPF_ALGOS_H

#include "xmacro.h"

#define DPPF_ALGORITHMS(X)                          \
    X(ALGO_DDP, "ddp", algo_ddp_ops)                \
    X(ALGO_LOCALSGD, "localsgd", algo_localsgd_ops) \
    X(ALGO_EASGD, "easgd", algo_easgd_ops)          \
    X(ALGO_QSR, "qsr", algo_qsr_ops)                \
    X(ALGO_DPPF, "dppf", algo_dppf_ops)             \
    X(ALGO_LSGD, "lsgd", algo_lsgd_ops)             \
    X(ALGO_MGRAWA, "mgrawa", algo_mgrawa_ops)       \
    X(ALGO_LGRAWA, "lgrawa", algo_lgrawa_ops)       \
    X(ALGO_SLOWMO, "slowmo", algo_slowmo_ops)       \
    X(ALGO_DILOCO, "diloco", algo_diloco_ops)

typedef enum { DPPF_ALGORITHMS(DPPF_X_ENUM) ALGO_COUNT } algo_id;

/* dist.momentum_sync: what a parameter sync does to each worker's momentum. */
typedef enum { MOM_KEEP, MOM_RESET, MOM_AVERAGE, MOM_COUNT } momentum_sync;
#define MOMENTUM_SYNC_NAMES {"keep", "reset", "average"}

/* dist.push_form (dppf): + push * u, or + push * u / d^2. */
typedef enum { PUSH_NORMALIZED, PUSH_INVERSE, PUSH_FORM_COUNT } push_form;
#define PUSH_FORM_NAMES {"normalized", "inverse"}

/* dist.push_every, dist.pull_every (dppf): the force at each sync, or at
 * every local step against the last sync's average. */
typedef enum { FORCE_AT_SYNC, FORCE_AT_STEP, FORCE_EVERY_COUNT } force_every;
#define FORCE_EVERY_NAMES {"sync", "step"}

/* dist.push_schedule (dppf): the push (or the target spread) over the run. */
typedef enum { PUSH_CONSTANT, PUSH_LINEAR, PUSH_COSINE, PUSH_SCHEDULE_COUNT } push_schedule;
#define PUSH_SCHEDULE_NAMES {"constant", "linear", "cosine"}

/* The algorithm's name as the spec spells it ("?" when out of range). */
const char *algo_name(int id);

#endif
