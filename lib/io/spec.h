/* spec.h - the YAML experiment spec: schema, defaults, loading, --set
 * overrides, validation and writing the resolved spec.
 *
 * The schema is one table of keys (section.key, type, range, default, help);
 * loading, --set, unknown-key errors, `dppf --help` and the resolved-spec
 * writer are all driven by it, so adding a key is adding one row. Choice keys
 * are parsed once into the enums of the modules that use them (their names
 * come from those modules' lists: dist/algos.h, nn/models.h, io/datasets.h). */
#ifndef DPPF_SPEC_H
#define DPPF_SPEC_H

#include <stdint.h>
#include <stdio.h>

#include "algos.h"
#include "datasets.h"
#include "error.h"
#include "models.h"
#include "netmodel.h"
#include "optim.h"
#include "sampler.h"

#define SPEC_MAX_LIST 16
#define SPEC_STR 256
#define SPEC_PATH 1024

typedef struct {
    struct {
        int dataset;             /* DATA_* (io/datasets.h) */
        char path[SPEC_PATH];    /* "" = the dataset's default folder */
        int train_subset;        /* 0 = whole set */
        int test_subset;         /* 0 = whole set */
        int subset;              /* SUBSET_FIRST | SUBSET_RANDOM */
        int normalize;           /* bool: per-channel (x - mean) / std */
        int n_mean;              /* 0 = dataset default */
        float mean[4];
        int n_std;
        float std[4];
        int crop_pad;            /* random crop with this zero padding; 0 = off */
        int flip;                /* -1 = dataset default, 0 = off, 1 = on */
        int n_shape;             /* synthetic: [C, H, W] */
        int shape[3];
        int classes;             /* synthetic */
        int train_size;          /* synthetic */
        int test_size;           /* synthetic */
        int label;               /* cifar100: LABEL_FINE | LABEL_COARSE */
        int resize_pad;          /* zero pixels around every image, each side */
        int partition;           /* PART_* (nn/sampler.h): how the workers' data differ */
        float dirichlet_alpha;   /* dirichlet: concentration (large = IID mix) */
        int shards_per_worker;   /* shards: label shards per worker */
    } data;
    struct {
        int arch;                /* MODEL_* (nn/models.h) */
        int n_hidden;            /* mlp: hidden layer sizes */
        int hidden[SPEC_MAX_LIST];
        int n_widths;            /* cnn: conv channels per conv-bn-relu-pool stage */
        int widths[SPEC_MAX_LIST];
        int fc;                  /* cnn: hidden fully-connected size, 0 = none */
        int batchnorm;           /* cnn/mlp: bool, BN after each conv/hidden layer */
        int base_width;          /* channels of the first stage; 0 = the architecture's */
        int depth;               /* wrn, pyramidnet; 0 = the architecture's (28, 110) */
        int widen;               /* wrn: widening factor k */
        int alpha;               /* pyramidnet: widening over the three stages */
        int block;               /* pyramidnet: BLOCK_BASIC | BLOCK_BOTTLENECK */
        float block_dropout;     /* wrn: dropout between a block's convolutions */
        float dropout;           /* before the classifier, [0, 1) */
        float bn_momentum;       /* PyTorch's BatchNorm momentum (0.1) */
        float bn_eps;
    } model;
    struct {
        float lr;
        float momentum;
        int nesterov;            /* bool */
        float weight_decay;
        int wd_mode;             /* WD_COUPLED (PyTorch SGD) | WD_DECOUPLED */
        int wd_skip_bn_bias;     /* bool: no weight decay on BN params and biases */
        int schedule;            /* LR_CONSTANT | LR_STEP | LR_COSINE */
        int n_milestones;        /* step: epochs at which lr *= gamma */
        int milestones[SPEC_MAX_LIST];
        float gamma;
        float min_lr;            /* cosine: final lr */
        float warmup_epochs;     /* linear warm-up length (may be fractional) */
        int batch_size;          /* per worker */
        int epochs;
        int64_t max_steps;       /* 0 = no cap; else stop after this many steps */
        float label_smoothing;
        float sam_rho;           /* SAM radius; 0 = plain SGD */
        int sam_adaptive;        /* bool: ASAM (perturbation scaled by |w|) */
    } optim;
    struct {
        uint64_t seed;
        char out_dir[SPEC_PATH];
        float eval_every;        /* epochs between evaluations (fractional allowed) */
        int checkpoint_every;    /* epochs between periodic checkpoints, 0 = only final */
        int eval_train;          /* bool: also evaluate on the full train set (else running avg) */
        int threads;             /* BLIS threads per rank, 0 = cores / ranks */
        int adapt_threads;       /* bool: the thread governor (base/governor.h) may use fewer */
        float ema_decay;         /* EMA of the averaged model, decay per step; 0 = off */
    } run;
    struct {
        int workers;             /* M logical workers */
        int algorithm;           /* ALGO_* (dist/algos.h) */
        int tau;                 /* local steps between syncs */
        float pull;              /* DPPF pull strength, [0, 1] */
        float push;              /* DPPF push strength, >= 0 */
        int push_form;           /* PUSH_NORMALIZED | PUSH_INVERSE */
        float push_warmup;       /* epochs over which push ramps up from 0 */
        float moving_rate;       /* easgd beta (centre's moving rate), (0, 1] */
        float qsr_beta;          /* qsr: tau_t = max(tau, floor((qsr_beta / lr_t)^2)) */
        float post_local;        /* localsgd: epochs of ddp before local steps */
        int momentum_sync;       /* MOM_KEEP | MOM_RESET | MOM_AVERAGE */
        int push_every;          /* dppf: FORCE_AT_SYNC | FORCE_AT_STEP */
        int pull_every;          /* dppf: FORCE_AT_SYNC | FORCE_AT_STEP (needs push_every step) */
        int push_schedule;       /* dppf: PUSH_CONSTANT | PUSH_LINEAR | PUSH_COSINE */
        float target_spread;     /* dppf: adaptive push toward this spread; 0 = off */
        float target_rate;       /* dppf: largest relative change of the push per sync */
        int n_lsgd_pull;         /* lsgd: [local, global] pull strengths */
        float lsgd_pull[2];
        int lsgd_group;          /* lsgd: workers per local group */
        float outer_lr;          /* slowmo, diloco: outer learning rate */
        float outer_momentum;    /* slowmo, diloco: outer momentum */
        int outer_nesterov;      /* bool */
        float drop_prob;         /* unreliable syncs (dist/faults.h): a worker misses a sync */
        float participation;     /* the fraction of workers that takes part in a sync */
        float straggler_prob;    /* a worker arrives straggler_delay syncs late */
        int straggler_delay;
        int n_split_epochs;      /* [a, b]: a network partition from epoch a to b, or [] */
        float split_epochs[2];
    } dist;
    struct {
        int model;               /* NETMODEL_* (dist/netmodel.h) */
        int topology;            /* TOPO_RING | TOPO_TREE | TOPO_PS */
        float latency_us;
        float bandwidth_gbps;
        float step_time_s;       /* compute seconds of one worker's step; 0 = measured */
    } net;
} spec_t;

/* Defaults for every key (the documented ones). */
void spec_defaults(spec_t *s);

/* Load a YAML file on top of the defaults. Errors name file:line:column. */
int spec_load_file(spec_t *s, const char *path, dp_err *e);
/* Same from a string; `name` is used in messages in place of a file name. */
int spec_load_string(spec_t *s, const char *yaml, const char *name, dp_err *e);

/* Apply one "section.key=value" override (value parsed as a YAML scalar or flow
 * sequence, e.g. optim.lr=0.05, model.hidden=[256,128]). Errors name the
 * override as given. */
int spec_set(spec_t *s, const char *assignment, dp_err *e);

/* Cross-field checks after all overrides (e.g. synthetic needs data.shape). */
int spec_validate(const spec_t *s, dp_err *e);

/* The keys ("section.name") whose values differ between a and b, in schema
 * order: the first `max` go into keys (static strings); returns how many differ. */
int spec_diff(const spec_t *a, const spec_t *b, const char **keys, int max);
/* The value of `key` in s as the resolved YAML writes it; -1 for an unknown key. */
int spec_value_text(const spec_t *s, const char *key, char *buf, size_t len);

/* The resolved spec as YAML text (every key, commented by section); malloc'd. */
char *spec_to_yaml(const spec_t *s, dp_err *e);

/* Print the schema (key, type/range, default, help) for --help and docs. */
void spec_print_schema(FILE *f);

/* ---- the schema and values one key at a time: generated docs (man page,
 * shell completion), `dppf collect`, `dppf plot --group-by` ---- */

typedef struct {
    const char *key;          /* "optim.lr" */
    char type[256];           /* the type column of `dppf schema`: "float > 0", "ddp|localsgd|..." */
    const char *def;          /* the default as YAML text */
    const char *help;
    const char *const *choices; /* a choice key's values (n_choices of them); NULL otherwise */
    int n_choices;
    int is_bool;
} spec_key_info;

/* The number of keys, and key i of the schema table (i < spec_key_count()). */
size_t spec_key_count(void);
void spec_key_describe(size_t i, spec_key_info *out);

/* The value of `key` ("optim.lr") in s as the resolved spec writes it ("0.05",
 * "[32, 64]", "dppf", strings in double quotes). DP_EUSAGE naming an unknown key. */
int spec_get(const spec_t *s, const char *key, char *buf, size_t size, dp_err *e);

#endif
