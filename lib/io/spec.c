/* spec.c - the experiment spec: one schema table drives defaults, YAML
 * loading, --set overrides, validation, the resolved-spec writer and --help.
 *
 * Adding a key: add the field to spec_t (spec.h) and one row to `keys` below;
 * rows of one section must be adjacent (the section list is derived from the
 * table). A row whose C field has the wrong type for its kind fails to compile.
 *
 * Values are parsed with libyaml's document API, so line/column marks come
 * with every node; scalars are then converted by our own strict rules (no
 * YAML 1.1 surprises such as 0x10, 1_000, .inf or "no" for a string). */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "file.h"
#include "spec.h"

typedef enum { K_INT, K_INT64, K_UINT64, K_FLOAT, K_BOOL, K_STR, K_ENUM, K_INTS, K_FLOATS } ktype;

typedef struct {
    const char *key;       /* "section.name" */
    ktype type;
    size_t off;            /* offset of the field in spec_t */
    size_t n_off;          /* lists: offset of the item count */
    int size;              /* strings: buffer size; lists: capacity */
    int min_n;             /* lists: fewest items; strings: shortest length */
    int or_empty;          /* lists: [] is also allowed (data.shape) */
    char lo_kind, hi_kind; /* '[' or '(' / ']' or ')'; 0 = unbounded */
    double lo, hi;         /* numbers, and list elements */
    const char *const *names; /* enums: the allowed values; the field holds the index */
    int n_names;
    const char *def;       /* default as YAML text (lists as [a, b]) */
    const char *help;
} key_def;

#define FLD(f) (((spec_t *)0)->f)
/* offsetof, plus a compile-time check that the field has C type T
 * (a negative array size is a compile error). */
#define TYPED(f, T) (offsetof(spec_t, f) + 0 * sizeof(char[_Generic(FLD(f), T: 1, default: -1)]))
#define CAP(f) (int)(sizeof FLD(f) / sizeof FLD(f)[0])
#define KEY(sec, name, kind, T) .key = #sec "." #name, .type = kind, .off = TYPED(sec.name, T)
#define R_INT(sec, name) KEY(sec, name, K_INT, int)
#define R_INT64(sec, name) KEY(sec, name, K_INT64, int64_t)
#define R_UINT64(sec, name) KEY(sec, name, K_UINT64, uint64_t)
#define R_FLOAT(sec, name) KEY(sec, name, K_FLOAT, float)
#define R_BOOL(sec, name) KEY(sec, name, K_BOOL, int)
#define R_STR(sec, name) KEY(sec, name, K_STR, char *), .size = (int)sizeof FLD(sec.name)
#define R_ENUM(sec, name, list) \
    KEY(sec, name, K_ENUM, int), .names = list, .n_names = (int)(sizeof list / sizeof list[0])
#define R_INTS(sec, name) \
    KEY(sec, name, K_INTS, int *), .n_off = TYPED(sec.n_##name, int), .size = CAP(sec.name)
#define R_FLOATS(sec, name) \
    KEY(sec, name, K_FLOATS, float *), .n_off = TYPED(sec.n_##name, int), .size = CAP(sec.name)
#define GE(x) .lo_kind = '[', .lo = (x)
#define GT(x) .lo_kind = '(', .lo = (x)
#define LE(x) .hi_kind = ']', .hi = (x)
#define LT(x) .hi_kind = ')', .hi = (x)

/* The names of each choice key's values, in the order of its enum. */
static const char *const DATASETS[] = {DPPF_DATASETS(DPPF_X_NAME)};
static const char *const SUBSETS[] = SUBSET_NAMES;
static const char *const LABELS[] = LABEL_NAMES;
static const char *const BLOCKS[] = MODEL_BLOCK_NAMES;
static const char *const MODELS[] = {DPPF_MODELS(DPPF_X_NAME)};
static const char *const WD_MODES[] = WD_MODE_NAMES;
static const char *const SCHEDULES[] = LR_SCHEDULE_NAMES;
static const char *const ALGORITHMS[] = {DPPF_ALGORITHMS(DPPF_X_NAME)};
static const char *const PUSH_FORMS[] = PUSH_FORM_NAMES;
static const char *const MOMENTUM_SYNCS[] = MOMENTUM_SYNC_NAMES;
static const char *const PARTITIONS[] = PARTITION_NAMES;
static const char *const NETMODELS[] = NETMODEL_NAMES;
static const char *const TOPOLOGIES[] = TOPOLOGY_NAMES;
static const char *const FORCE_EVERYS[] = FORCE_EVERY_NAMES;
static const char *const PUSH_SCHEDULES[] = PUSH_SCHEDULE_NAMES;

static const key_def keys[] = {
    /* data */
    {R_ENUM(data, dataset, DATASETS), .def = "fashion-mnist",
     .help = "dataset to train and test on"},
    {R_STR(data, path), .def = "", .help = "data folder; empty = the dataset's default folder"},
    {R_INT(data, train_subset), GE(0), .def = "0",
     .help = "use only this many training samples; 0 = all"},
    {R_INT(data, test_subset), GE(0), .def = "0", .help = "use only this many test samples; 0 = all"},
    {R_ENUM(data, subset, SUBSETS), .def = "first",
     .help = "which samples a subset keeps: the first n, or n chosen with run.seed"},
    {R_BOOL(data, normalize), .def = "true", .help = "normalise each channel as (x - mean) / std"},
    {R_FLOATS(data, mean), .def = "[]",
     .help = "per-channel mean on the 0..1 pixel scale (1 or C values); [] = dataset default"},
    {R_FLOATS(data, std), GT(0), .def = "[]",
     .help = "per-channel std on the 0..1 pixel scale (1 or C values); [] = dataset default"},
    {R_INT(data, crop_pad), GE(0), LE(64), .def = "0",
     .help = "random crop after zero padding by this many pixels (train only); 0 = off"},
    {R_INT(data, flip), GE(-1), LE(1), .def = "-1",
     .help = "random horizontal flip: -1 = dataset default (on for cifar10 and cifar100), 0 = off, 1 = on"},
    {R_INTS(data, shape), .min_n = 3, .or_empty = 1, GE(1), LE(4096), .def = "[1, 28, 28]",
     .help = "synthetic: image shape [C, H, W] with C <= 4"},
    {R_INT(data, classes), GE(2), LE(256), .def = "10", .help = "synthetic: number of classes"},
    {R_INT(data, train_size), GE(1), .def = "5000", .help = "synthetic: training samples"},
    {R_INT(data, test_size), GE(1), .def = "1000", .help = "synthetic: test samples"},
    {R_ENUM(data, label, LABELS), .def = "fine",
     .help = "cifar100: fine labels (100 classes) or coarse ones (20 superclasses)"},
    {R_INT(data, resize_pad), GE(0), LE(64), .def = "0",
     .help = "pad every image with this many 0 pixels on each side (fashion-mnist 28x28 -> 32x32 with 2)"},
    {R_ENUM(data, partition, PARTITIONS), .def = "iid",
     .help = "how the training set is split over the workers: iid (one shared shuffle), dirichlet "
             "(label skew, Hsu et al. 2019) or shards (k label shards each, McMahan et al. 2017)"},
    {R_FLOAT(data, dirichlet_alpha), GT(0), .def = "0.5",
     .help = "dirichlet: concentration alpha of each class's split (large = IID mix, 0.1 = strong skew)"},
    {R_INT(data, shards_per_worker), GE(1), LE(1000), .def = "2",
     .help = "shards: label-sorted shards per worker"},
    /* model */
    {R_ENUM(model, arch, MODELS), .def = "cnn",
     .help = "network architecture"},
    {R_INTS(model, hidden), .min_n = 1, GE(1), .def = "[256]", .help = "mlp: hidden layer sizes"},
    {R_INTS(model, widths), .min_n = 1, GE(1), .def = "[32, 64]",
     .help = "cnn: channels of each conv-bn-relu-pool stage"},
    {R_INT(model, fc), GE(0), .def = "128", .help = "cnn: hidden fully-connected size; 0 = none"},
    {R_BOOL(model, batchnorm), .def = "true",
     .help = "cnn/mlp: batch norm after each conv / hidden layer"},
    {R_INT(model, base_width), GE(0), .def = "0",
     .help = "channels of the first stage (wrn, pyramidnet: of the stem); 0 = the architecture's: "
             "16 (resnet8..110, preresnet, wrn, pyramidnet), 64 (resnet18/34, vgg16)"},
    {R_INT(model, depth), GE(0), LE(2000), .def = "0",
     .help = "wrn: depth 6n+4; pyramidnet: 6n+2 (basic) or 9n+2 (bottleneck); 0 = 28 (wrn), 110 (pyramidnet)"},
    {R_INT(model, widen), GE(1), LE(64), .def = "10", .help = "wrn: widening factor k (WRN-depth-k)"},
    {R_INT(model, alpha), GE(0), LE(10000), .def = "48",
     .help = "pyramidnet: channels added over the three stages (additive widening)"},
    {R_ENUM(model, block, BLOCKS), .def = "basic", .help = "pyramidnet: residual block"},
    {R_FLOAT(model, block_dropout), GE(0), LT(1), .def = "0",
     .help = "wrn: dropout between the two convolutions of each block (0.3 in the paper)"},
    {R_FLOAT(model, dropout), GE(0), LT(1), .def = "0",
     .help = "dropout probability before the classifier"},
    {R_FLOAT(model, bn_momentum), GT(0), LE(1), .def = "0.1",
     .help = "batch-norm running-stat momentum (PyTorch convention)"},
    {R_FLOAT(model, bn_eps), GT(0), .def = "1e-5", .help = "batch-norm epsilon"},
    /* optim */
    {R_FLOAT(optim, lr), GT(0), .def = "0.05", .help = "peak learning rate"},
    {R_FLOAT(optim, momentum), GE(0), LT(1), .def = "0.9", .help = "SGD momentum"},
    {R_BOOL(optim, nesterov), .def = "false", .help = "Nesterov momentum"},
    {R_FLOAT(optim, weight_decay), GE(0), .def = "5e-4", .help = "weight decay"},
    {R_ENUM(optim, wd_mode, WD_MODES), .def = "coupled",
     .help = "coupled: added to the gradient (PyTorch SGD); decoupled: w -= lr * wd * w"},
    {R_BOOL(optim, wd_skip_bn_bias), .def = "false",
     .help = "no weight decay on batch-norm parameters and biases"},
    {R_ENUM(optim, schedule, SCHEDULES), .def = "cosine",
     .help = "learning-rate schedule after warm-up"},
    {R_INTS(optim, milestones), GE(1), .def = "[]",
     .help = "step: epochs at which lr *= gamma (strictly increasing)"},
    {R_FLOAT(optim, gamma), GT(0), LE(1), .def = "0.1", .help = "step: lr factor at each milestone"},
    {R_FLOAT(optim, min_lr), GE(0), .def = "0", .help = "cosine: final learning rate"},
    {R_FLOAT(optim, warmup_epochs), GE(0), .def = "0",
     .help = "linear warm-up length in epochs (may be fractional)"},
    {R_INT(optim, batch_size), GE(1), LE(65536), .def = "128", .help = "batch size per worker"},
    {R_INT(optim, epochs), GE(1), LE(100000), .def = "10", .help = "training epochs"},
    {R_INT64(optim, max_steps), GE(0), .def = "0",
     .help = "stop after this many steps; 0 = no cap"},
    {R_FLOAT(optim, label_smoothing), GE(0), LT(1), .def = "0", .help = "label smoothing"},
    {R_FLOAT(optim, sam_rho), GE(0), .def = "0",
     .help = "SAM (Foret et al. 2021) radius rho: two passes per step; 0 = off"},
    {R_BOOL(optim, sam_adaptive), .def = "false",
     .help = "SAM: adaptive (ASAM, Kwon et al. 2021), perturbation scaled by |w|"},
    /* run */
    {R_UINT64(run, seed), .def = "0", .help = "seed of every random stream"},
    {R_STR(run, out_dir), .min_n = 1, .def = "runs/default",
     .help = "output folder (logs, checkpoints, resolved spec)"},
    {R_FLOAT(run, eval_every), GT(0), .def = "1",
     .help = "epochs between evaluations (may be fractional)"},
    {R_INT(run, checkpoint_every), GE(0), .def = "0",
     .help = "epochs between periodic checkpoints; 0 = final only"},
    {R_BOOL(run, eval_train), .def = "false",
     .help = "also evaluate on the whole training set (else the running average)"},
    {R_INT(run, threads), GE(0), LE(256), .def = "0",
     .help = "threads per rank for every layer and GEMM; 0 = auto (this machine's CPUs / its ranks)"},
    {R_BOOL(run, adapt_threads), .def = "true",
     .help = "use fewer threads for a while when they measure faster (another process holds a core); same numbers"},
    {R_FLOAT(run, ema_decay), GE(0), LT(1), .def = "0",
     .help = "also evaluate an EMA of the averaged model (decay per step); 0 = off"},
    /* dist */
    {R_INT(dist, workers), GE(1), LE(4096), .def = "1", .help = "number of logical workers M"},
    {R_ENUM(dist, algorithm, ALGORITHMS), .def = "ddp",
     .help = "distributed training algorithm"},
    {R_INT(dist, tau), GE(1), .def = "1", .help = "local steps between synchronisations"},
    {R_FLOAT(dist, pull), GE(0), LE(1), .def = "1.0",
     .help = "dppf: pull toward the workers' average (the paper's alpha); mgrawa/lgrawa: toward the centre"},
    {R_FLOAT(dist, push), GE(0), .def = "0.0",
     .help = "dppf: push strength away from the average (the paper's lambda)"},
    {R_ENUM(dist, push_form, PUSH_FORMS), .def = "normalized",
     .help = "dppf: push along the unit vector (width push/pull) or as push/d^2 (width (push/pull)^(1/3))"},
    {R_FLOAT(dist, push_warmup), GE(0), .def = "0",
     .help = "dppf: epochs over which the push ramps up linearly from 0"},
    {R_FLOAT(dist, moving_rate), GT(0), LE(1), .def = "0.9",
     .help = "easgd: moving rate beta of the centre; each worker moves beta/M"},
    {R_FLOAT(dist, qsr_beta), GT(0), .def = "0.025",
     .help = "qsr: period tau_t = max(tau, floor((qsr_beta / lr_t)^2))"},
    {R_FLOAT(dist, post_local), GE(0), .def = "0",
     .help = "localsgd: epochs of ddp before local steps (post-local SGD)"},
    {R_ENUM(dist, momentum_sync, MOMENTUM_SYNCS), .def = "keep",
     .help = "what a parameter sync does to each worker's momentum buffer"},
    {R_ENUM(dist, push_every, FORCE_EVERYS), .def = "sync",
     .help = "dppf: push at each sync, or at every local step (push/tau) from the last average"},
    {R_ENUM(dist, pull_every, FORCE_EVERYS), .def = "sync",
     .help = "dppf: pull at each sync, or at every local step (pull/tau; needs push_every step)"},
    {R_ENUM(dist, push_schedule, PUSH_SCHEDULES), .def = "constant",
     .help = "dppf: push (or target_spread) over the run: constant, or to 0 linearly or by cosine"},
    {R_FLOAT(dist, target_spread), GE(0), .def = "0",
     .help = "dppf: adapt the push at each sync to hold this spread; 0 = off (fixed push)"},
    {R_FLOAT(dist, target_rate), GT(0), LE(1), .def = "0.1",
     .help = "dppf target_spread: largest relative change of the push per sync"},
    {R_FLOATS(dist, lsgd_pull), .min_n = 2, GE(0), LE(1), .def = "[0.5, 0.5]",
     .help = "lsgd: [local, global] pull toward the group's and the overall leader"},
    {R_INT(dist, lsgd_group), GE(1), .def = "1",
     .help = "lsgd: workers per local group (consecutive, divides workers); 1 = global only"},
    {R_FLOAT(dist, outer_lr), GT(0), LE(10), .def = "1",
     .help = "slowmo, diloco: outer learning rate on the average change since the last sync"},
    {R_FLOAT(dist, outer_momentum), GE(0), LT(1), .def = "0",
     .help = "slowmo, diloco: outer momentum"},
    {R_BOOL(dist, outer_nesterov), .def = "false", .help = "slowmo, diloco: Nesterov outer momentum"},
    {R_FLOAT(dist, drop_prob), GE(0), LE(1), .def = "0",
     .help = "unreliable syncs: each worker misses a sync with this probability (keeps its state)"},
    {R_FLOAT(dist, participation), GT(0), LE(1), .def = "1",
     .help = "unreliable syncs: the fraction of workers, drawn anew each sync, that takes part"},
    {R_FLOAT(dist, straggler_prob), GE(0), LE(1), .def = "0",
     .help = "unreliable syncs: a worker that takes part resumes from a stale consensus (straggler)"},
    {R_INT(dist, straggler_delay), GE(1), LE(64), .def = "1",
     .help = "unreliable syncs: how many syncs old a straggler's consensus model is"},
    {R_FLOATS(dist, split_epochs), .min_n = 2, .or_empty = 1, GE(0), .def = "[]",
     .help = "unreliable syncs: [a, b] = workers [0, M/2) and [M/2, M) average apart from epoch a to b"},
    /* net */
    {R_ENUM(net, model, NETMODELS), .def = "none",
     .help = "modeled wall-clock time (metrics column modeled_time_s): none, or alpha_beta "
             "(each sync an allreduce on links of net.latency_us and net.bandwidth_gbps)"},
    {R_ENUM(net, topology, TOPOLOGIES), .def = "ring",
     .help = "allreduce of the model: ring, tree (binomial reduce + broadcast) or ps (parameter server)"},
    {R_FLOAT(net, latency_us), GE(0), LE(1e9), .def = "10", .help = "link latency alpha, microseconds"},
    {R_FLOAT(net, bandwidth_gbps), GT(0), LE(1e6), .def = "10", .help = "link bandwidth beta, Gbit/s"},
    {R_FLOAT(net, step_time_s), GE(0), LE(1e6), .def = "0",
     .help = "compute seconds of one worker's step; 0 = measured here (this machine's time per worker)"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* ---- small string builder: grows on the heap, or truncates into a fixed buffer ---- */

typedef struct {
    char *p;
    size_t len, cap;
    int fixed, oom;
} sb_t;

static void sb_fixed(sb_t *b, char *buf, size_t cap) {
    b->p = buf, b->len = 0, b->cap = cap, b->fixed = 1, b->oom = 0;
    buf[0] = '\0';
}

static void sb_add(sb_t *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        if (b->fixed) { /* truncate */
            n = b->cap - 1 - b->len;
        } else {
            size_t cap = b->cap ? b->cap : 256;
            while (cap < b->len + n + 1) cap *= 2;
            char *p = realloc(b->p, cap);
            if (!p) {
                b->oom = 1;
                return;
            }
            b->p = p, b->cap = cap;
        }
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sb_t *b, const char *s) { sb_add(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void sb_printf(sb_t *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

static void sb_pad(sb_t *b, size_t col) {
    while (b->len < col && !b->oom) sb_add(b, " ", 1);
}

/* ---- schema look-ups ---- */

static size_t sec_len(const char *key) { return strcspn(key, "."); }
static const char *key_name(const key_def *k) { return k->key + sec_len(k->key) + 1; }
static int is_list(const key_def *k) { return k->type == K_INTS || k->type == K_FLOATS; }
static int same_section(const key_def *a, const key_def *b) {
    return sec_len(a->key) == sec_len(b->key) && !strncmp(a->key, b->key, sec_len(a->key));
}

static int section_exists(const char *sec, size_t len) {
    for (size_t i = 0; i < NKEYS; i++)
        if (sec_len(keys[i].key) == len && !strncmp(keys[i].key, sec, len)) return 1;
    return 0;
}

static const key_def *find_key(const char *sec, size_t seclen, const char *name, size_t nlen) {
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        if (sec_len(k->key) == seclen && !strncmp(k->key, sec, seclen) &&
            strlen(key_name(k)) == nlen && !strncmp(key_name(k), name, nlen))
            return k;
    }
    return NULL;
}

static void list_sections(sb_t *b) {
    for (size_t i = 0; i < NKEYS; i++)
        if (i == 0 || !same_section(&keys[i], &keys[i - 1]))
            sb_printf(b, "%s%.*s", i ? ", " : "", (int)sec_len(keys[i].key), keys[i].key);
}

static void list_keys(sb_t *b, const char *sec, size_t seclen) {
    int first = 1;
    sb_printf(b, "valid keys in '%.*s': ", (int)seclen, sec);
    for (size_t i = 0; i < NKEYS; i++)
        if (sec_len(keys[i].key) == seclen && !strncmp(keys[i].key, sec, seclen)) {
            sb_printf(b, "%s%s", first ? "" : ", ", key_name(&keys[i]));
            first = 0;
        }
}

/* Levenshtein distance for "did you mean"; SIZE_MAX for long strings. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb) {
    size_t row[65];
    if (la > 64 || lb > 64) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int close_enough(size_t d, size_t len) { return d > 0 && d != SIZE_MAX && 3 * d <= len + 2; }

/* "; did you mean 'optim.lr'?" for a misspelt key name in section `sec`
 * (or the same name living in another section). */
static void suggest_key(sb_t *b, const char *sec, size_t seclen, const char *name, size_t nlen) {
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(key_name(&keys[i])) == nlen && !strncmp(key_name(&keys[i]), name, nlen)) {
            sb_printf(b, "; did you mean '%s'?", keys[i].key);
            return;
        }
    const key_def *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        if (sec_len(k->key) != seclen || strncmp(k->key, sec, seclen)) continue;
        size_t d = edit_distance(name, nlen, key_name(k), strlen(key_name(k)));
        if (d < bestd && close_enough(d, strlen(key_name(k)))) best = k, bestd = d;
    }
    if (best) sb_printf(b, "; did you mean '%s'?", best->key);
}

/* For an unknown section: a close section name, or a key of that name. */
static void suggest_section(sb_t *b, const char *sec, size_t seclen, int in_yaml) {
    size_t bestd = SIZE_MAX, besti = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (i && same_section(&keys[i], &keys[i - 1])) continue;
        size_t l = sec_len(keys[i].key);
        size_t d = edit_distance(sec, seclen, keys[i].key, l);
        if (d < bestd && close_enough(d, l)) bestd = d, besti = i;
    }
    if (bestd != SIZE_MAX) {
        sb_printf(b, "; did you mean '%.*s'?", (int)sec_len(keys[besti].key), keys[besti].key);
        return;
    }
    for (size_t i = 0; i < NKEYS; i++) /* "lr" or "optim.lr" at the top level */
        if ((strlen(keys[i].key) == seclen && !strncmp(keys[i].key, sec, seclen)) ||
            (strlen(key_name(&keys[i])) == seclen && !strncmp(key_name(&keys[i]), sec, seclen))) {
            if (in_yaml)
                sb_printf(b, "; did you mean key '%s' under section '%.*s'?", key_name(&keys[i]),
                          (int)sec_len(keys[i].key), keys[i].key);
            else
                sb_printf(b, "; did you mean '%s'?", keys[i].key);
            return;
        }
}

/* ---- descriptions of types and ranges (messages and --help) ---- */

static void range_desc(sb_t *b, const key_def *k) {
    if (k->lo_kind && k->hi_kind)
        sb_printf(b, " in %c%.10g, %.10g%c", k->lo_kind, k->lo, k->hi, k->hi_kind);
    else if (k->lo_kind)
        sb_printf(b, " %s %.10g", k->lo_kind == '[' ? ">=" : ">", k->lo);
    else if (k->hi_kind)
        sb_printf(b, " %s %.10g", k->hi_kind == ']' ? "<=" : "<", k->hi);
}

static void enum_values(sb_t *b, const key_def *k, const char *sep) {
    for (int i = 0; i < k->n_names; i++) sb_printf(b, "%s%s", i ? sep : "", k->names[i]);
}

/* The name of an enum field's value, or NULL when it is out of range. */
static const char *enum_name(const key_def *k, int v) {
    return v >= 0 && v < k->n_names ? k->names[v] : NULL;
}

/* What a value of key k (or, with elem, one list item) must be. */
static void expect_desc(sb_t *b, const key_def *k, int elem) {
    switch (k->type) {
    case K_INT:
    case K_INT64: sb_str(b, "an integer"); break;
    case K_UINT64: sb_str(b, "an unsigned 64-bit integer"); break;
    case K_FLOAT: sb_str(b, "a number"); break;
    case K_BOOL: sb_str(b, "true or false (or yes/no, on/off)"); return;
    case K_STR: sb_str(b, k->min_n ? "a non-empty string" : "a string"); return;
    case K_ENUM:
        sb_str(b, "one of ");
        enum_values(b, k, ", ");
        return;
    case K_INTS:
    case K_FLOATS:
        if (elem) {
            sb_str(b, k->type == K_INTS ? "an integer" : "a number");
            break;
        }
        if (k->or_empty || k->min_n == k->size)
            sb_printf(b, "a list of exactly %d ", k->min_n);
        else if (k->min_n)
            sb_printf(b, "a list of %d to %d ", k->min_n, k->size);
        else
            sb_printf(b, "a list of at most %d ", k->size);
        sb_str(b, k->type == K_INTS ? "integers" : "numbers");
        range_desc(b, k);
        if (k->or_empty) sb_str(b, " (or [])");
        return;
    }
    range_desc(b, k);
}

/* Compact type column of --help. */
static void schema_type(sb_t *b, const key_def *k) {
    switch (k->type) {
    case K_INT: sb_str(b, "int"); break;
    case K_INT64: sb_str(b, "int64"); break;
    case K_UINT64: sb_str(b, "uint64"); break;
    case K_FLOAT: sb_str(b, "float"); break;
    case K_BOOL: sb_str(b, "bool"); return;
    case K_STR: sb_str(b, k->min_n ? "string, non-empty" : "string"); return;
    case K_ENUM: enum_values(b, k, "|"); return;
    case K_INTS:
    case K_FLOATS:
        sb_str(b, k->type == K_INTS ? "[int" : "[float");
        range_desc(b, k);
        if (k->or_empty)
            sb_printf(b, "] x%d or []", k->min_n);
        else if (k->min_n == k->size)
            sb_printf(b, "] x%d", k->min_n);
        else
            sb_printf(b, "] x%d..%d", k->min_n, k->size);
        return;
    }
    range_desc(b, k);
}

/* ---- scalar conversion ---- */

enum { CV_OK, CV_BAD, CV_OVERFLOW, CV_TOOLONG, CV_NUL };

static int in_range(const key_def *k, double v) {
    if (k->lo_kind == '[' && !(v >= k->lo)) return 0;
    if (k->lo_kind == '(' && !(v > k->lo)) return 0;
    if (k->hi_kind == ']' && !(v <= k->hi)) return 0;
    if (k->hi_kind == ')' && !(v < k->hi)) return 0;
    return 1;
}

/* [+-]?digits and nothing else (YAML 1.1's 0x/0o/1_000 forms are refused). */
static int is_int_text(const char *t) {
    if (*t == '+' || *t == '-') t++;
    if (!isdigit((unsigned char)*t)) return 0;
    while (isdigit((unsigned char)*t)) t++;
    return *t == '\0';
}

/* Decimal number: [+-]? (d+ [. d*] | . d+) ([eE] [+-]? d+)?; no nan/inf/hex. */
static int is_float_text(const char *t) {
    int digits = 0;
    if (*t == '+' || *t == '-') t++;
    while (isdigit((unsigned char)*t)) t++, digits++;
    if (*t == '.') {
        t++;
        while (isdigit((unsigned char)*t)) t++, digits++;
    }
    if (!digits) return 0;
    if (*t == 'e' || *t == 'E') {
        t++;
        if (*t == '+' || *t == '-') t++;
        if (!isdigit((unsigned char)*t)) return 0;
        while (isdigit((unsigned char)*t)) t++;
    }
    return *t == '\0';
}

/* The index of the allowed value equal to t ignoring case, or -1. */
static int enum_match(const key_def *k, const char *t) {
    for (int i = 0; i < k->n_names; i++)
        if (!strcasecmp(t, k->names[i])) return i;
    return -1;
}

static int match_word(const char *t, const char *const *words) {
    for (; *words; words++)
        if (!strcasecmp(t, *words)) return 1;
    return 0;
}

/* Converts scalar text into *dst (the field, or a list item for lists).
 * `is_null`: an empty/~/null plain scalar, which only strings accept (as ""). */
static int conv_scalar(const key_def *k, const char *t, size_t len, int is_null, void *dst) {
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    if (strlen(t) != len) return CV_NUL;
    if (is_null) t = "";
    switch (k->type) {
    case K_INT:
    case K_INTS: {
        if (!is_int_text(t)) return CV_BAD;
        errno = 0;
        long long v = strtoll(t, NULL, 10);
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX) return CV_OVERFLOW;
        if (!in_range(k, (double)v)) return CV_BAD;
        *(int *)dst = (int)v;
        return CV_OK;
    }
    case K_INT64: {
        if (!is_int_text(t)) return CV_BAD;
        errno = 0;
        long long v = strtoll(t, NULL, 10);
        if (errno == ERANGE) return CV_OVERFLOW;
        if (!in_range(k, (double)v)) return CV_BAD;
        *(int64_t *)dst = (int64_t)v;
        return CV_OK;
    }
    case K_UINT64: {
        if (!is_int_text(t) || *t == '-') return CV_BAD; /* strtoull would wrap "-1" */
        errno = 0;
        unsigned long long v = strtoull(t, NULL, 10);
        if (errno == ERANGE) return CV_OVERFLOW;
        *(uint64_t *)dst = (uint64_t)v;
        return CV_OK;
    }
    case K_FLOAT:
    case K_FLOATS: {
        if (!is_float_text(t)) return CV_BAD;
        errno = 0;
        float v = strtof(t, NULL); /* correctly rounded, so written values read back exactly */
        if (!isfinite(v)) return CV_OVERFLOW;
        if (!in_range(k, v)) return CV_BAD; /* checked after rounding: the stored value counts */
        *(float *)dst = v;
        return CV_OK;
    }
    case K_BOOL:
        if (match_word(t, yes)) *(int *)dst = 1;
        else if (match_word(t, no)) *(int *)dst = 0;
        else return CV_BAD;
        return CV_OK;
    case K_STR: {
        size_t n = strlen(t);
        if (n >= (size_t)k->size) return CV_TOOLONG;
        if (n < (size_t)k->min_n) return CV_BAD;
        memset(dst, 0, (size_t)k->size); /* zero tail: copies compare equal byte-wise */
        memcpy(dst, t, n);
        return CV_OK;
    }
    case K_ENUM: { /* case-insensitive */
        int v = enum_match(k, t);
        if (v < 0) return CV_BAD;
        *(int *)dst = v;
        return CV_OK;
    }
    }
    return CV_BAD;
}

/* ---- formatting values (resolved YAML, messages) ---- */

/* Shortest "%.Ng" that strtof reads back to the same bits. */
static void fmt_float(char *buf, size_t n, float v) {
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, n, "%.*g", prec, (double)v);
        float back = strtof(buf, NULL);
        if (!memcmp(&back, &v, sizeof v)) return;
    }
}

/* Can s be written as a plain YAML scalar and read back as the same string by
 * us and by other YAML readers (no null/bool/number look-alikes)? */
static int plain_ok(const char *s) {
    static const char *const special[] = {"null", "true", "false", "yes", "no", "on",
                                          "off",  "y",    "n",     NULL};
    if (!isalpha((unsigned char)s[0]) && s[0] != '_' && s[0] != '/') return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_./+-", *p)) return 0;
    return !match_word(s, special);
}

static void fmt_string(sb_t *b, const char *s) {
    if (plain_ok(s)) {
        sb_str(b, s);
        return;
    }
    sb_str(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* Escapes can hold characters that YAML refuses raw (C1 controls,
         * U+FFFE/F) or folds into spaces even inside quotes (NEL, LS, PS);
         * they must go back out escaped. */
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) sb_printf(b, "\\x%02x", p[1]), p += 1;
        else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            sb_str(b, p[2] == 0xa8 ? "\\L" : "\\P"), p += 2;
        else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
            sb_str(b, p[2] == 0xbe ? "\\ufffe" : "\\uffff"), p += 2;
        else if (*p == '"') sb_str(b, "\\\"");
        else if (*p == '\\') sb_str(b, "\\\\");
        else if (*p == '\n') sb_str(b, "\\n");
        else if (*p == '\t') sb_str(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f) sb_printf(b, "\\x%02x", *p);
        else sb_add(b, (const char *)p, 1);
    }
    sb_str(b, "\"");
}

static void fmt_value(sb_t *b, const spec_t *s, const key_def *k) {
    const char *f = (const char *)s + k->off;
    char num[32];
    switch (k->type) {
    case K_INT: sb_printf(b, "%d", *(const int *)f); break;
    case K_INT64: sb_printf(b, "%" PRId64, *(const int64_t *)f); break;
    case K_UINT64: sb_printf(b, "%" PRIu64, *(const uint64_t *)f); break;
    case K_FLOAT:
        fmt_float(num, sizeof num, *(const float *)f);
        sb_str(b, num);
        break;
    case K_BOOL: sb_str(b, *(const int *)f ? "true" : "false"); break;
    case K_STR: fmt_string(b, f); break;
    case K_ENUM: {
        const char *name = enum_name(k, *(const int *)f);
        if (name) sb_str(b, name);
        else sb_printf(b, "%d", *(const int *)f);
        break;
    }
    case K_INTS:
    case K_FLOATS: {
        int n = *(const int *)((const char *)s + k->n_off);
        if (n < 0) n = 0;
        if (n > k->size) n = k->size;
        sb_str(b, "[");
        for (int i = 0; i < n; i++) {
            if (i) sb_str(b, ", ");
            if (k->type == K_INTS) {
                sb_printf(b, "%d", ((const int *)f)[i]);
            } else {
                fmt_float(num, sizeof num, ((const float *)f)[i]);
                sb_str(b, num);
            }
        }
        sb_str(b, "]");
        break;
    }
    }
}

/* ---- applying values ---- */

/* Where an error is: a file position, or the --set argument. */
typedef struct {
    const char *name;   /* file name (YAML loads) */
    const char *assign; /* the --set argument, or NULL */
} ctx_t;

static void where(sb_t *b, const ctx_t *c, const yaml_node_t *n) {
    if (c->assign) sb_printf(b, "--set %s", c->assign);
    else if (n) sb_printf(b, "%s:%zu:%zu", c->name, n->start_mark.line + 1, n->start_mark.column + 1);
    else sb_str(b, c->name);
}

static int node_is_null(const yaml_node_t *n) {
    if (!n) return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *t = (const char *)n->data.scalar.value;
    return !strcmp(t, "") || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
           !strcmp(t, "NULL");
}

/* "'text'" (shortened, control bytes shown as '?'), "an empty value", "a list", "a mapping". */
static void got_desc(sb_t *b, const yaml_node_t *n) {
    if (!n || (node_is_null(n) && n->data.scalar.length == 0)) {
        sb_str(b, "an empty value");
        return;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        sb_str(b, "a list");
        return;
    }
    if (n->type == YAML_MAPPING_NODE) {
        sb_str(b, "a mapping");
        return;
    }
    const char *t = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length, show = len > 60 ? 57 : len;
    sb_str(b, "'");
    for (size_t i = 0; i < show; i++) sb_add(b, (unsigned char)t[i] < 0x20 ? "?" : t + i, 1);
    sb_str(b, show < len ? "...'" : "'");
}

static int conv_fail(const ctx_t *c, const yaml_node_t *n, const key_def *k, int idx, int cv,
                     dp_err *e) {
    char buf[sizeof e->msg];
    sb_t b;
    sb_fixed(&b, buf, sizeof buf);
    where(&b, c, n);
    sb_printf(&b, ": %s", k->key);
    if (idx >= 0) sb_printf(&b, "[%d]", idx);
    sb_str(&b, ": expected ");
    if (cv == CV_TOOLONG) {
        sb_printf(&b, "a string of at most %d bytes, got %zu bytes", k->size - 1,
                  n->data.scalar.length);
        return dp_fail(e, DP_EUSAGE, "%s", buf);
    }
    expect_desc(&b, k, idx >= 0);
    if (cv == CV_NUL) {
        sb_str(&b, ", got a string containing a NUL byte");
        return dp_fail(e, DP_EUSAGE, "%s", buf);
    }
    sb_str(&b, ", got ");
    got_desc(&b, n);
    if (cv == CV_OVERFLOW)
        sb_str(&b, k->type == K_INT || k->type == K_INTS         ? " (out of range for a 32-bit integer)"
                   : k->type == K_INT64                          ? " (out of range for a 64-bit integer)"
                   : k->type == K_UINT64                         ? " (out of range for 64 bits)"
                                                                 : " (not a finite 32-bit float)");
    return dp_fail(e, DP_EUSAGE, "%s", buf);
}

static int convert_node(const key_def *k, const yaml_node_t *n, void *dst) {
    static const char empty[] = "";
    if (!n) return conv_scalar(k, empty, 0, 1, dst);
    return conv_scalar(k, (const char *)n->data.scalar.value, n->data.scalar.length,
                       node_is_null(n), dst);
}

/* Assigns node n (NULL = empty --set value) to key k of s. */
static int apply_node(spec_t *s, const key_def *k, yaml_document_t *d, const yaml_node_t *n,
                      const ctx_t *c, dp_err *e) {
    char *f = (char *)s + k->off;
    if (!is_list(k)) {
        if (n && n->type != YAML_SCALAR_NODE) return conv_fail(c, n, k, -1, CV_BAD, e);
        int cv = convert_node(k, n, f);
        return cv == CV_OK ? 0 : conv_fail(c, n, k, -1, cv, e);
    }
    if (!n || n->type != YAML_SEQUENCE_NODE) return conv_fail(c, n, k, -1, CV_BAD, e);
    int count = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > k->size || (count < k->min_n && !(count == 0 && k->or_empty))) {
        char buf[sizeof e->msg];
        sb_t b;
        sb_fixed(&b, buf, sizeof buf);
        where(&b, c, n);
        sb_printf(&b, ": %s: expected ", k->key);
        expect_desc(&b, k, 0);
        sb_printf(&b, ", got %d item%s", count, count == 1 ? "" : "s");
        return dp_fail(e, DP_EUSAGE, "%s", buf);
    }
    size_t esz = k->type == K_INTS ? sizeof(int) : sizeof(float);
    memset(f, 0, esz * (size_t)k->size); /* zero tail: copies compare equal byte-wise */
    for (int i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(d, n->data.sequence.items.start[i]);
        if (item->type != YAML_SCALAR_NODE) return conv_fail(c, item, k, i, CV_BAD, e);
        int cv = convert_node(k, item, f + esz * (size_t)i);
        if (cv != CV_OK) return conv_fail(c, item, k, i, cv, e);
    }
    *(int *)((char *)s + k->n_off) = count;
    return 0;
}

/* ---- YAML documents ---- */

static int parser_fail(yaml_parser_t *p, const ctx_t *c, dp_err *e) {
    const char *problem = p->problem ? p->problem : "unknown error";
    char buf[sizeof e->msg];
    sb_t b;
    sb_fixed(&b, buf, sizeof buf);
    if (p->error == YAML_MEMORY_ERROR)
        return dp_fail(e, DP_ENOMEM, "out of memory parsing %s%s",
                       c->assign ? "--set " : "", c->assign ? c->assign : c->name);
    if (c->assign) {
        sb_printf(&b, "--set %s: YAML syntax error in the value: %s", c->assign, problem);
    } else if (p->error == YAML_READER_ERROR) {
        sb_printf(&b, "%s: unreadable YAML at byte %zu: %s", c->name, p->problem_offset, problem);
    } else {
        sb_printf(&b, "%s:%zu:%zu: YAML syntax error: %s", c->name, p->problem_mark.line + 1,
                  p->problem_mark.column + 1, problem);
    }
    if (p->context) {
        sb_printf(&b, " (%s", p->context);
        if (!c->assign && p->context_mark.line != p->problem_mark.line)
            sb_printf(&b, " at line %zu", p->context_mark.line + 1);
        sb_str(&b, ")");
    }
    return dp_fail(e, DP_EUSAGE, "%s", buf);
}

/* Parses exactly one YAML document; a second one is an error rather than
 * silently ignored. On success the caller deletes *d. */
static int parse_doc(const char *text, size_t len, yaml_document_t *d, const ctx_t *c, dp_err *e) {
    yaml_parser_t p;
    yaml_document_t d2;
    int rc = 0;
    if (!yaml_parser_initialize(&p)) return dp_fail(e, DP_ENOMEM, "out of memory creating a YAML parser");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, d)) { /* libyaml already freed *d */
        rc = parser_fail(&p, c, e);
        yaml_parser_delete(&p);
        return rc;
    }
    if (!yaml_parser_load(&p, &d2)) {
        rc = parser_fail(&p, c, e);
    } else {
        if (yaml_document_get_root_node(&d2)) {
            if (c->assign)
                rc = dp_fail(e, DP_EUSAGE, "--set %s: the value holds more than one YAML document",
                             c->assign);
            else
                rc = dp_fail(e, DP_EUSAGE,
                             "%s:%zu:%zu: a second YAML document starts here; a spec is one document",
                             c->name, d2.start_mark.line + 1, d2.start_mark.column + 1);
        }
        yaml_document_delete(&d2);
    }
    yaml_parser_delete(&p);
    if (rc) yaml_document_delete(d);
    return rc;
}

static const char *node_kind(const yaml_node_t *n) {
    return n->type == YAML_SEQUENCE_NODE ? "a list" : n->type == YAML_MAPPING_NODE ? "a mapping" : "a scalar";
}

/* Key node i of mapping m duplicates an earlier key: returns the earlier node. */
static const yaml_node_t *earlier_dup(yaml_document_t *d, const yaml_node_t *m, yaml_node_pair_t *pi) {
    const yaml_node_t *ki = yaml_document_get_node(d, pi->key);
    for (yaml_node_pair_t *pj = m->data.mapping.pairs.start; pj < pi; pj++) {
        const yaml_node_t *kj = yaml_document_get_node(d, pj->key);
        if (kj->type == YAML_SCALAR_NODE && kj->data.scalar.length == ki->data.scalar.length &&
            !memcmp(kj->data.scalar.value, ki->data.scalar.value, ki->data.scalar.length))
            return kj;
    }
    return NULL;
}

static int load_doc(spec_t *s, yaml_document_t *d, const ctx_t *c, dp_err *e) {
    char buf[sizeof e->msg];
    sb_t b;
    sb_fixed(&b, buf, sizeof buf);
    yaml_node_t *root = yaml_document_get_root_node(d);
    if (!root || node_is_null(root)) return 0; /* empty file: all defaults */
    if (root->type != YAML_MAPPING_NODE) {
        where(&b, c, root);
        sb_str(&b, ": expected a mapping of sections (");
        list_sections(&b);
        sb_printf(&b, ") at the top level, got %s", node_kind(root));
        return dp_fail(e, DP_EUSAGE, "%s", buf);
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(d, p->key);
        yaml_node_t *vn = yaml_document_get_node(d, p->value);
        if (kn->type != YAML_SCALAR_NODE) {
            where(&b, c, kn);
            sb_printf(&b, ": a section name must be a plain word, got %s", node_kind(kn));
            return dp_fail(e, DP_EUSAGE, "%s", buf);
        }
        const char *sec = (const char *)kn->data.scalar.value;
        size_t seclen = kn->data.scalar.length;
        if (strlen(sec) != seclen || !section_exists(sec, seclen)) {
            where(&b, c, kn);
            sb_printf(&b, ": unknown section '%s'; valid sections: ", sec);
            list_sections(&b);
            suggest_section(&b, sec, seclen, 1);
            return dp_fail(e, DP_EUSAGE, "%s", buf);
        }
        const yaml_node_t *dup = earlier_dup(d, root, p);
        if (dup) {
            where(&b, c, kn);
            sb_printf(&b, ": duplicate section '%s' (first at line %zu)", sec, dup->start_mark.line + 1);
            return dp_fail(e, DP_EUSAGE, "%s", buf);
        }
        if (node_is_null(vn)) continue; /* "optim:" with nothing under it */
        if (vn->type != YAML_MAPPING_NODE) {
            where(&b, c, vn);
            sb_printf(&b, ": section '%s' must be a mapping of keys (e.g. 'key: value'), got %s", sec,
                      node_kind(vn));
            return dp_fail(e, DP_EUSAGE, "%s", buf);
        }
        for (yaml_node_pair_t *q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top; q++) {
            yaml_node_t *kk = yaml_document_get_node(d, q->key);
            yaml_node_t *kv = yaml_document_get_node(d, q->value);
            if (kk->type != YAML_SCALAR_NODE) {
                where(&b, c, kk);
                sb_printf(&b, ": a key in section '%s' must be a plain word, got %s", sec, node_kind(kk));
                return dp_fail(e, DP_EUSAGE, "%s", buf);
            }
            const char *name = (const char *)kk->data.scalar.value;
            size_t nlen = kk->data.scalar.length;
            const key_def *k = strlen(name) == nlen ? find_key(sec, seclen, name, nlen) : NULL;
            if (!k) {
                where(&b, c, kk);
                sb_printf(&b, ": unknown key '%s.%s'; ", sec, name);
                list_keys(&b, sec, seclen);
                suggest_key(&b, sec, seclen, name, nlen);
                return dp_fail(e, DP_EUSAGE, "%s", buf);
            }
            if ((dup = earlier_dup(d, vn, q))) {
                where(&b, c, kk);
                sb_printf(&b, ": duplicate key '%s' (first at line %zu)", k->key, dup->start_mark.line + 1);
                return dp_fail(e, DP_EUSAGE, "%s", buf);
            }
            int rc = apply_node(s, k, d, kv, c, e);
            if (rc) return rc;
        }
    }
    return 0;
}

/* ---- public API ---- */

void spec_defaults(spec_t *s) {
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        char *f = (char *)s + k->off;
        if (!is_list(k)) {
            (void)conv_scalar(k, k->def, strlen(k->def), 0, f); /* constants; tested */
            continue;
        }
        /* "[a, b]": the defaults are ours, so a plain comma split suffices. */
        size_t esz = k->type == K_INTS ? sizeof(int) : sizeof(float);
        const char *p = k->def + 1;
        int n = 0;
        while (*p && *p != ']' && n < k->size) {
            char item[32];
            while (*p == ' ') p++;
            size_t len = strcspn(p, ",]");
            if (len >= sizeof item) break;
            memcpy(item, p, len);
            item[len] = '\0';
            if (conv_scalar(k, item, len, 0, f + esz * (size_t)n) != CV_OK) break;
            n++;
            p += len + (p[len] == ',');
        }
        *(int *)((char *)s + k->n_off) = n;
    }
}

/* Loads on top of the defaults into a copy, so *s is untouched on error. */
static int load_text(spec_t *s, const char *text, size_t len, const char *name, dp_err *e) {
    ctx_t c = {name ? name : "<string>", NULL};
    yaml_document_t d;
    spec_t tmp;
    spec_defaults(&tmp);
    int rc = parse_doc(text, len, &d, &c, e);
    if (rc) return rc;
    rc = load_doc(&tmp, &d, &c, e);
    yaml_document_delete(&d);
    if (!rc) *s = tmp;
    return rc;
}

int spec_load_string(spec_t *s, const char *yaml, const char *name, dp_err *e) {
    if (!yaml) return dp_fail(e, DP_EUSAGE, "%s: no spec text", name ? name : "<string>");
    return load_text(s, yaml, strlen(yaml), name, e);
}

int spec_load_file(spec_t *s, const char *path, dp_err *e) {
    enum { MAX_BYTES = 16 << 20 }; /* a spec is a few KiB; refuse to slurp a wrong file */
    unsigned char *buf;
    size_t len;
    int rc = file_read_all(path, "spec file", MAX_BYTES, &buf, &len, e);
    if (rc) return rc;
    rc = load_text(s, (const char *)buf, len, path, e);
    free(buf);
    return rc;
}

int spec_set(spec_t *s, const char *assignment, dp_err *e) {
    char buf[sizeof e->msg];
    sb_t b;
    sb_fixed(&b, buf, sizeof buf);
    if (!assignment) return dp_fail(e, DP_EUSAGE, "--set: missing section.key=value");
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return dp_fail(e, DP_EUSAGE, "--set %s: expected section.key=value (e.g. optim.lr=0.1)",
                       assignment);
    const char *key = assignment, *kend = eq;
    while (key < kend && isspace((unsigned char)*key)) key++;
    while (kend > key && isspace((unsigned char)kend[-1])) kend--;
    size_t klen = (size_t)(kend - key);
    const char *dot = memchr(key, '.', klen);
    size_t seclen = dot ? (size_t)(dot - key) : klen;
    sb_printf(&b, "--set %s: ", assignment);
    if (!section_exists(key, seclen)) {
        sb_printf(&b, "unknown section '%.*s'; valid sections: ", (int)seclen, key);
        list_sections(&b);
        suggest_section(&b, key, seclen, 0);
        return dp_fail(e, DP_EUSAGE, "%s", buf);
    }
    if (!dot) {
        sb_printf(&b, "'%.*s' is a section, not a key; ", (int)seclen, key);
        list_keys(&b, key, seclen);
        return dp_fail(e, DP_EUSAGE, "%s", buf);
    }
    const char *name = dot + 1;
    size_t nlen = klen - seclen - 1;
    const key_def *k = find_key(key, seclen, name, nlen);
    if (!k) {
        sb_printf(&b, "unknown key '%.*s'; ", (int)klen, key);
        list_keys(&b, key, seclen);
        suggest_key(&b, key, seclen, name, nlen);
        return dp_fail(e, DP_EUSAGE, "%s", buf);
    }
    ctx_t c = {NULL, assignment};
    yaml_document_t d;
    int rc = parse_doc(eq + 1, strlen(eq + 1), &d, &c, e);
    if (rc) return rc;
    spec_t tmp = *s;
    rc = apply_node(&tmp, k, &d, yaml_document_get_root_node(&d), &c, e);
    yaml_document_delete(&d);
    if (!rc) *s = tmp;
    return rc;
}

/* Re-checks one field against its row (catches specs edited in code). */
static int check_field(const spec_t *s, const key_def *k, dp_err *e) {
    char buf[sizeof e->msg];
    sb_t b;
    sb_fixed(&b, buf, sizeof buf);
    const char *f = (const char *)s + k->off;
    int bad = 0;
    switch (k->type) {
    case K_INT: bad = !in_range(k, *(const int *)f); break;
    case K_INT64: bad = !in_range(k, (double)*(const int64_t *)f); break;
    case K_UINT64: break;
    case K_FLOAT: bad = !isfinite(*(const float *)f) || !in_range(k, *(const float *)f); break;
    case K_BOOL: bad = *(const int *)f != 0 && *(const int *)f != 1; break;
    case K_STR: {
        const char *nul = memchr(f, '\0', (size_t)k->size);
        if (!nul) return dp_fail(e, DP_EUSAGE, "%s: string is not NUL-terminated", k->key);
        bad = (size_t)(nul - f) < (size_t)k->min_n;
        break;
    }
    case K_ENUM: bad = !enum_name(k, *(const int *)f); break;
    case K_INTS:
    case K_FLOATS: {
        int n = *(const int *)((const char *)s + k->n_off);
        if (n > k->size || n < 0 || (n < k->min_n && !(n == 0 && k->or_empty))) {
            bad = 1;
            break;
        }
        for (int i = 0; i < n; i++) {
            double v = k->type == K_INTS ? ((const int *)f)[i] : ((const float *)f)[i];
            if (!isfinite(v) || !in_range(k, v)) bad = 1;
        }
        break;
    }
    }
    if (!bad) return 0;
    sb_printf(&b, "%s: expected ", k->key);
    expect_desc(&b, k, 0);
    sb_str(&b, ", got ");
    if (is_list(k) && (*(const int *)((const char *)s + k->n_off) > k->size ||
                       *(const int *)((const char *)s + k->n_off) < 0))
        sb_printf(&b, "%d items", *(const int *)((const char *)s + k->n_off));
    else
        fmt_value(&b, s, k);
    return dp_fail(e, DP_EUSAGE, "%s", buf);
}

static void fmt_ints(sb_t *b, const int *v, int n) {
    sb_str(b, "[");
    for (int i = 0; i < n; i++) sb_printf(b, "%s%d", i ? ", " : "", v[i]);
    sb_str(b, "]");
}

/* The algorithm keys that only make sense together (checked for the chosen
 * algorithm only: the others ignore them). */
static int validate_algorithm(const spec_t *s, dp_err *e) {
    if (s->dist.algorithm == ALGO_DPPF) {
        if (s->dist.pull_every == FORCE_AT_STEP && s->dist.push_every != FORCE_AT_STEP)
            return dp_fail(e, DP_EUSAGE,
                           "dist.pull_every: 'step' needs dist.push_every: step (a per-step pull "
                           "with the push at the sync would not keep the spread at push/pull)");
        if (s->dist.push_every == FORCE_AT_STEP && s->dist.pull_every == FORCE_AT_SYNC &&
            s->dist.push_form == PUSH_INVERSE)
            return dp_fail(e, DP_EUSAGE,
                           "dist.push_every: 'step' with push_form 'inverse' needs dist.pull_every: "
                           "step too (only then is the spread (push/pull)^(1/3))");
        if (s->dist.target_spread > 0 && !(s->dist.push > 0))
            return dp_fail(e, DP_EUSAGE,
                           "dist.target_spread: the adaptive push starts from dist.push, which must "
                           "be > 0 (got %g)", (double)s->dist.push);
    }
    if (s->dist.algorithm == ALGO_LSGD) {
        if (s->dist.workers % s->dist.lsgd_group != 0)
            return dp_fail(e, DP_EUSAGE,
                           "dist.lsgd_group: groups of %d workers do not divide dist.workers = %d",
                           s->dist.lsgd_group, s->dist.workers);
        if (!(s->dist.lsgd_pull[1] > 0))
            return dp_fail(e, DP_EUSAGE,
                           "dist.lsgd_pull: the global strength (the second value) must be > 0, "
                           "got %g", (double)s->dist.lsgd_pull[1]);
    }
    return 0;
}

int spec_validate(const spec_t *s, dp_err *e) {
    char buf[sizeof e->msg];
    sb_t b;
    sb_fixed(&b, buf, sizeof buf);
    for (size_t i = 0; i < NKEYS; i++) {
        int rc = check_field(s, &keys[i], e);
        if (rc) return rc;
    }
    const char *ds = dataset_name(s->data.dataset);
    int synthetic = s->data.dataset == DATA_SYNTHETIC;
    int channels = s->data.dataset == DATA_CIFAR10 || s->data.dataset == DATA_CIFAR100 ? 3 : 1;
    if (synthetic) {
        if (s->data.n_shape != 3) {
            sb_str(&b, "data.shape: data.dataset 'synthetic' needs [C, H, W], got ");
            fmt_ints(&b, s->data.shape, s->data.n_shape);
            return dp_fail(e, DP_EUSAGE, "%s", buf);
        }
        channels = s->data.shape[0];
        if (channels > 4)
            return dp_fail(e, DP_EUSAGE, "data.shape: at most 4 channels are supported, got C = %d",
                           channels);
        int64_t pixels = (int64_t)s->data.shape[0] * s->data.shape[1] * s->data.shape[2];
        if (pixels > (1 << 24))
            return dp_fail(e, DP_EUSAGE, "data.shape: C*H*W = %" PRId64 " is larger than %d", pixels,
                           1 << 24);
        if (s->data.train_subset > s->data.train_size)
            return dp_fail(e, DP_EUSAGE, "data.train_subset (%d) is larger than data.train_size (%d)",
                           s->data.train_subset, s->data.train_size);
        if (s->data.test_subset > s->data.test_size)
            return dp_fail(e, DP_EUSAGE, "data.test_subset (%d) is larger than data.test_size (%d)",
                           s->data.test_subset, s->data.test_size);
    }
    const struct { const char *key; int n; } stats[] = {{"data.mean", s->data.n_mean},
                                                         {"data.std", s->data.n_std}};
    for (int i = 0; i < 2; i++)
        if (stats[i].n != 0 && stats[i].n != 1 && stats[i].n != channels)
            return dp_fail(e, DP_EUSAGE,
                           "%s: %s data has %d channel%s, so give 1 or %d values (or [] for the "
                           "dataset default), got %d",
                           stats[i].key, ds, channels, channels == 1 ? "" : "s", channels, stats[i].n);
    for (int i = 1; i < s->optim.n_milestones; i++)
        if (s->optim.milestones[i] <= s->optim.milestones[i - 1]) {
            sb_str(&b, "optim.milestones: must be strictly increasing, got ");
            fmt_ints(&b, s->optim.milestones, s->optim.n_milestones);
            return dp_fail(e, DP_EUSAGE, "%s", buf);
        }
    if (s->dist.n_split_epochs == 2 && !(s->dist.split_epochs[0] < s->dist.split_epochs[1]))
        return dp_fail(e, DP_EUSAGE, "dist.split_epochs: [a, b] must have a < b, got [%g, %g]",
                       (double)s->dist.split_epochs[0], (double)s->dist.split_epochs[1]);
    if (s->dist.n_split_epochs == 2 && s->dist.workers < 2)
        return dp_fail(e, DP_EUSAGE, "dist.split_epochs: a partition needs at least 2 workers");
    if (s->optim.schedule == LR_COSINE && s->optim.min_lr > s->optim.lr)
        return dp_fail(e, DP_EUSAGE, "optim.min_lr (%g) is larger than optim.lr (%g)",
                       (double)s->optim.min_lr, (double)s->optim.lr);
    return validate_algorithm(s, e);
}

int spec_diff(const spec_t *a, const spec_t *b, const char **out, int max) {
    int n = 0;
    char ta[4 * SPEC_PATH + 16], tb[4 * SPEC_PATH + 16]; /* an escaped path fits */
    for (size_t i = 0; i < NKEYS; i++) {
        sb_t x, y;
        sb_fixed(&x, ta, sizeof ta);
        sb_fixed(&y, tb, sizeof tb);
        fmt_value(&x, a, &keys[i]);
        fmt_value(&y, b, &keys[i]);
        if (strcmp(ta, tb) == 0) continue;
        if (n < max) out[n] = keys[i].key;
        n++;
    }
    return n;
}

int spec_value_text(const spec_t *s, const char *key, char *buf, size_t len) {
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].key, key) != 0) continue;
        sb_t b;
        sb_fixed(&b, buf, len);
        fmt_value(&b, s, &keys[i]);
        return 0;
    }
    if (len) buf[0] = '\0';
    return -1;
}

char *spec_to_yaml(const spec_t *s, dp_err *e) {
    sb_t b = {0};
    sb_str(&b, "# dppf experiment spec, fully resolved: every key, defaults included.\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        if (i == 0 || !same_section(k, &keys[i - 1]))
            sb_printf(&b, "%s%.*s:\n", i ? "\n" : "", (int)sec_len(k->key), k->key);
        size_t line = b.len;
        sb_printf(&b, "  %s: ", key_name(k));
        fmt_value(&b, s, k);
        sb_pad(&b, line + 36);
        sb_printf(&b, "  # %s\n", k->help);
    }
    if (b.oom) {
        free(b.p);
        dp_fail(e, DP_ENOMEM, "out of memory writing the resolved spec");
        return NULL;
    }
    return b.p;
}

void spec_print_schema(FILE *f) {
    size_t wkey = 3, wtype = 10, wdef = 7;
    char tbuf[256], dbuf[64];
    sb_t t;
    for (size_t i = 0; i < NKEYS; i++) {
        sb_fixed(&t, tbuf, sizeof tbuf);
        schema_type(&t, &keys[i]);
        if (strlen(keys[i].key) > wkey) wkey = strlen(keys[i].key);
        if (t.len > wtype && t.len <= 60) wtype = t.len; /* a longer list (model.arch) overflows its line */
        if (strlen(keys[i].def) > wdef) wdef = strlen(keys[i].def);
    }
    fprintf(f, "%-*s  %-*s  %-*s  %s\n", (int)wkey, "key", (int)wtype, "type/range", (int)wdef,
            "default", "meaning");
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        sb_fixed(&t, tbuf, sizeof tbuf);
        schema_type(&t, k);
        snprintf(dbuf, sizeof dbuf, "%s", k->def[0] || is_list(k) ? k->def : "\"\"");
        fprintf(f, "%-*s  %-*s  %-*s  %s\n", (int)wkey, k->key, (int)wtype, tbuf, (int)wdef, dbuf, k->help);
    }
}

/* ---- one key at a time (spec.h) ---- */

size_t spec_key_count(void) { return NKEYS; }

void spec_key_describe(size_t i, spec_key_info *out) {
    const key_def *k = &keys[i];
    sb_t t;
    sb_fixed(&t, out->type, sizeof out->type);
    schema_type(&t, k);
    out->key = k->key;
    out->def = k->def;
    out->help = k->help;
    out->choices = k->type == K_ENUM ? k->names : NULL;
    out->n_choices = k->type == K_ENUM ? k->n_names : 0;
    out->is_bool = k->type == K_BOOL;
}

int spec_get(const spec_t *s, const char *key, char *buf, size_t size, dp_err *e) {
    size_t sl = sec_len(key);
    const key_def *k = key[sl] == '.' ? find_key(key, sl, key + sl + 1, strlen(key + sl + 1)) : NULL;
    if (!k) {
        char msg[512];
        sb_t b;
        sb_fixed(&b, msg, sizeof msg);
        sb_printf(&b, "unknown spec key '%s'", key);
        if (section_exists(key, sl)) {
            sb_str(&b, "; ");
            list_keys(&b, key, sl);
        }
        return dp_fail(e, DP_EUSAGE, "%s", msg);
    }
    sb_t b;
    sb_fixed(&b, buf, size);
    fmt_value(&b, s, k);
    return 0;
}
