/* dataset.c - IDX, CIFAR-10/100 and synthetic datasets loaded as uint8 pixels
 * (nn/batch.h), and the batch settings a spec asks for.
 *
 * Readers check everything they can (magic, dimensions, exact byte counts,
 * label range) and name the file and the problem, because a half-downloaded
 * or mislabelled dataset otherwise shows up hours later as a bad accuracy. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset.h"
#include "file.h"

#define IDX_IMAGES_MAGIC 0x00000803u /* ubyte, 3 dims */
#define IDX_LABELS_MAGIC 0x00000801u /* ubyte, 1 dim */
#define IDX_MAX_SIDE 4096
#define IDX_FIRST_CHUNK ((size_t)1 << 20) /* payload buffer starts here, doubles */
#define CIFAR_PIXELS 3072 /* 3 x 32 x 32 */
#define CIFAR_TRAIN_BATCHES 5

/* Sample noise of the synthetic set (pixel units) and the separation of the
 * class prototypes: two prototypes are SYNTH_MARGIN noise sds away from their
 * midpoint, so pairwise Bayes error is Phi(-3) = 0.13% and with 10 classes a
 * linear model can reach ~98-99%: learnable, but not a trivial 100%. */
#define SYNTH_NOISE 50.0
#define SYNTH_MARGIN 3.0
#define SYNTH_BASE 128.0

/* What dppf knows of each dataset the spec can name (io/datasets.h). */
typedef struct {
    const char *default_path; /* "" = no files */
    const char *hint;         /* how to get the files, for error messages */
    int c, h, w, classes;     /* 0: from the spec (synthetic) */
    int n_train, n_test;      /* samples in the standard files (a memory estimate) */
    double mean[3], std[3];   /* published per-channel statistics; std[0] = 0: measured */
    int flip;                 /* random horizontal flip by default */
} dataset_info;

static const dataset_info INFO[DATA_COUNT] = {
    [DATA_FASHION_MNIST] = {"/usr/share/datasets/fashion-mnist",
                            "install the Debian package dataset-fashion-mnist or set data.path",
                            1, 28, 28, 10, 60000, 10000, {0.2860}, {0.3530}, 0},
    /* No Debian package ships MNIST; this mirrors the Fashion-MNIST layout. */
    [DATA_MNIST] = {"/usr/share/datasets/mnist",
                    "download the four MNIST IDX files there (see datasets/README.md) or set data.path",
                    1, 28, 28, 10, 60000, 10000, {0.1307}, {0.3081}, 0},
    [DATA_CIFAR10] = {"data/cifar-10-batches-bin",
                      "download and unpack cifar-10-binary.tar.gz (see datasets/README.md) and set "
                      "data.path to its cifar-10-batches-bin folder",
                      3, 32, 32, 10, 50000, 10000, {0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}, 1},
    /* The statistics commonly used for CIFAR-100 (its training set's). */
    [DATA_CIFAR100] = {"data/cifar-100-binary",
                       "download and unpack cifar-100-binary.tar.gz (see datasets/README.md) and set "
                       "data.path to its cifar-100-binary folder",
                       3, 32, 32, 100, 50000, 10000, {0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}, 1},
    [DATA_SYNTHETIC] = {"", "", 0, 0, 0, 0, 0, 0, {0}, {0}, 0},
};

static const char *const NAMES[] = {DPPF_DATASETS(DPPF_X_NAME)};

const char *dataset_name(int id) { return id >= 0 && id < DATA_COUNT ? NAMES[id] : "?"; }

int dataset_find(const char *name) {
    for (int i = 0; name && i < DATA_COUNT; i++)
        if (!strcmp(name, NAMES[i])) return i;
    return -1;
}

const char *dataset_default_path(const char *name) {
    int id = dataset_find(name);
    return id >= 0 ? INFO[id].default_path : "";
}

uint64_t dataset_bytes(const spec_t *s) {
    int c = 0, h = 0, w = 0, classes = 0;
    if (dataset_shape(s, &c, &h, &w, &classes, NULL)) return 0;
    const dataset_info *d = &INFO[s->data.dataset];
    uint64_t n = s->data.dataset == DATA_SYNTHETIC ? (uint64_t)s->data.train_size + (uint64_t)s->data.test_size
                                                   : (uint64_t)d->n_train + (uint64_t)d->n_test;
    return n * ((uint64_t)c * h * w + 1);
}

int dataset_shape(const spec_t *s, int *c, int *h, int *w, int *classes, dp_err *e) {
    if (s->data.dataset < 0 || s->data.dataset >= DATA_COUNT)
        return dp_fail(e, DP_EUSAGE, "data.dataset: unknown dataset %d", s->data.dataset);
    const dataset_info *d = &INFO[s->data.dataset];
    if (s->data.dataset == DATA_SYNTHETIC && s->data.n_shape != 3)
        return dp_fail(e, DP_EUSAGE, "data.shape: synthetic data needs [C, H, W], got %d values",
                       s->data.n_shape);
    if (s->data.dataset == DATA_SYNTHETIC) {
        *c = s->data.shape[0], *h = s->data.shape[1], *w = s->data.shape[2];
        *classes = s->data.classes;
    } else {
        *c = d->c, *h = d->h, *w = d->w, *classes = d->classes;
        if (s->data.dataset == DATA_CIFAR100 && s->data.label == LABEL_COARSE) *classes = 20;
    }
    *h += 2 * s->data.resize_pad;
    *w += 2 * s->data.resize_pad;
    return 0;
}

/* ---- IDX ---------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Opens a dataset file through the regular-file check (file.h); the hint
 * (where to get the data) follows the message. */
static int open_data(const char *path, const char *what, const char *hint, int *fd, dp_err *e) {
    int rc = file_open_read(path, what, fd, e);
    if (rc == DP_EIO && hint && e) {
        size_t len = strlen(e->msg);
        snprintf(e->msg + len, sizeof e->msg - len, "; %s", hint);
    }
    return rc;
}

static int gz_open(gzFile *f, const char *path, const char *what, const char *hint, dp_err *e) {
    int fd;
    *f = NULL;
    int rc = open_data(path, what, hint, &fd, e);
    if (rc) return rc;
    if (!(*f = gzdopen(fd, "rb"))) {
        close(fd);
        return dp_fail(e, DP_ENOMEM, "out of memory opening '%s'", path);
    }
    gzbuffer(*f, 1 << 17);
    return 0;
}

/* Reads up to n bytes; *got says how many arrived before end of file. */
static int gz_read(gzFile f, const char *path, unsigned char *buf, size_t n, size_t *got,
                   dp_err *e) {
    *got = 0;
    while (*got < n) {
        size_t chunk = n - *got < (1u << 30) ? n - *got : (1u << 30);
        int r = gzread(f, buf + *got, (unsigned)chunk);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            if (zerr == Z_ERRNO) msg = strerror(errno);
            return dp_fail(e, DP_EIO, "%s: read error: %s", path, msg);
        }
        if (r == 0) break;
        *got += (size_t)r;
    }
    return 0;
}

/* Reads exactly n bytes of payload into a fresh buffer, growing it as bytes
 * arrive so that a corrupt header claiming a huge count fails as "truncated"
 * rather than as a giant allocation. Then checks there is nothing after it. */
static int gz_read_payload(gzFile f, const char *path, const char *what, size_t n,
                           unsigned char **out, dp_err *e) {
    size_t cap = n < IDX_FIRST_CHUNK ? n : IDX_FIRST_CHUNK, got = 0;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) return dp_fail(e, DP_ENOMEM, "out of memory reading %s from '%s'", what, path);
    for (;;) {
        size_t g;
        int rc = gz_read(f, path, buf + got, cap - got, &g, e);
        if (rc) {
            free(buf);
            return rc;
        }
        got += g;
        if (got < cap) break; /* end of file */
        if (got == n) break;
        size_t ncap = cap * 2 < n ? cap * 2 : n;
        unsigned char *nb = realloc(buf, ncap);
        if (!nb) {
            free(buf);
            return dp_fail(e, DP_ENOMEM, "out of memory reading %s from '%s' (%zu bytes)", what, path,
                           ncap);
        }
        buf = nb;
        cap = ncap;
    }
    if (got < n) {
        free(buf);
        return dp_fail(e, DP_EIO, "%s: truncated: expected %zu %s bytes, got %zu", path, n, what, got);
    }
    unsigned char extra[256];
    size_t g;
    int rc = gz_read(f, path, extra, sizeof extra, &g, e);
    if (!rc && g > 0)
        rc = dp_fail(e, DP_EIO,
                     "%s: %s%zu bytes after the %zu %s bytes the header announces (wrong header or "
                     "concatenated files?)",
                     path, g == sizeof extra ? "at least " : "", g, n, what);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

/* Reads an IDX header of `len` bytes and checks the magic number. */
static int idx_header(gzFile f, const char *path, uint32_t magic, unsigned char *hdr, size_t len,
                      dp_err *e) {
    size_t got;
    int rc = gz_read(f, path, hdr, len, &got, e);
    if (rc) return rc;
    if (got == 0) return dp_fail(e, DP_EIO, "%s: the file is empty", path);
    if (got >= 4 && be32(hdr) != magic) {
        uint32_t m = be32(hdr);
        const char *other = "";
        if (m == IDX_LABELS_MAGIC) other = "; this is an IDX label file";
        if (m == IDX_IMAGES_MAGIC) other = "; this is an IDX image file";
        if ((m >> 16) == 0x1f8b) other = "; this looks like gzip data inside a gzip file";
        return dp_fail(e, DP_EIO, "%s: bad magic 0x%08x (expected 0x%08x, an IDX %s file)%s", path,
                       m, magic, magic == IDX_IMAGES_MAGIC ? "image" : "label", other);
    }
    if (got < len)
        return dp_fail(e, DP_EIO, "%s: truncated: the IDX header needs %zu bytes, the file has %zu",
                       path, len, got);
    return 0;
}

/* The IDX reader. Labels must be < max_classes (else the error names the
 * sample); classes = max(10, largest label + 1). */
static int idx_read(const char *images_path, const char *labels_path, dataset_t *d,
                    int max_classes, const char *what_set, const char *hint, dp_err *e) {
    memset(d, 0, sizeof *d);
    gzFile f;
    unsigned char hdr[16] = {0};
    int rc = gz_open(&f, images_path, "dataset images", hint, e);
    if (rc) return rc;
    rc = idx_header(f, images_path, IDX_IMAGES_MAGIC, hdr, 16, e);
    uint32_t n = be32(hdr + 4), rows = be32(hdr + 8), cols = be32(hdr + 12);
    if (!rc && (n < 1 || n > INT_MAX || rows < 1 || rows > IDX_MAX_SIDE || cols < 1 ||
                cols > IDX_MAX_SIDE))
        rc = dp_fail(e, DP_EIO,
                     "%s: implausible IDX header: %u images of %u x %u pixels (expected at least 1 "
                     "image of 1..%d x 1..%d pixels)",
                     images_path, n, rows, cols, IDX_MAX_SIDE, IDX_MAX_SIDE);
    if (!rc) rc = gz_read_payload(f, images_path, "image", (size_t)n * rows * cols, &d->images, e);
    gzclose(f);
    if (rc) return rc;

    rc = gz_open(&f, labels_path, "dataset labels", hint, e);
    if (!rc) rc = idx_header(f, labels_path, IDX_LABELS_MAGIC, hdr, 8, e);
    if (!rc && be32(hdr + 4) != n)
        rc = dp_fail(e, DP_EIO, "%s: holds %u labels but %s holds %u images", labels_path,
                     be32(hdr + 4), images_path, n);
    if (!rc) rc = gz_read_payload(f, labels_path, "label", n, &d->labels, e);
    if (f) gzclose(f);
    if (rc) {
        dataset_free(d);
        return rc;
    }
    int maxl = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (d->labels[i] >= max_classes) {
            rc = dp_fail(e, DP_EIO, "%s: label %d of sample %u is out of range: %s has %d classes",
                         labels_path, d->labels[i], i, what_set, max_classes);
            dataset_free(d);
            return rc;
        }
        if (d->labels[i] > maxl) maxl = d->labels[i];
    }
    d->n = (int)n;
    d->c = 1;
    d->h = (int)rows;
    d->w = (int)cols;
    d->classes = maxl + 1 > 10 ? maxl + 1 : 10;
    return 0;
}

int idx_load(const char *images_path, const char *labels_path, dataset_t *d, dp_err *e) {
    return idx_read(images_path, labels_path, d, 256, "an IDX label file", NULL, e);
}

/* ---- CIFAR-10 / CIFAR-100 binary ------------------------------------------- */

/* A CIFAR binary version: its files and records. */
typedef struct {
    const char *name;           /* "CIFAR-10" */
    const char *train_fmt;      /* train file name (%d: 1..n_train; no %d: one file) */
    int n_train;
    const char *test_file;
    int labels;                 /* label bytes before the pixels */
    const char *record_desc;    /* for size errors */
    const char *wrong_label;    /* for label errors: what the file may be instead */
} cifar_format;

static const cifar_format CIFAR10 = {"CIFAR-10", "data_batch_%d.bin", CIFAR_TRAIN_BATCHES,
                                     "test_batch.bin", 1, "1 label byte + 3x32x32 pixels",
                                     " (is this the CIFAR-100 binary version?)"};
static const cifar_format CIFAR100 = {"CIFAR-100", "train.bin", 1, "test.bin", 2,
                                      "coarse and fine label bytes + 3x32x32 pixels",
                                      " (is this the CIFAR-10 binary version?)"};

/* Reads the train or test files of format `fmt` from dir, taking label byte
 * `label_at` of each record (which must be < classes). */
static int cifar_read(const cifar_format *fmt, const char *dir, int train, int label_at, int classes,
                      dataset_t *d, const char *hint, dp_err *e) {
    memset(d, 0, sizeof *d);
    int nfiles = train ? fmt->n_train : 1, rc = 0;
    const int record = fmt->labels + CIFAR_PIXELS;
    char path[CIFAR_TRAIN_BATCHES][PATH_MAX];
    FILE *f[CIFAR_TRAIN_BATCHES] = {NULL};
    int64_t count[CIFAR_TRAIN_BATCHES], total = 0;
    char what[48];
    snprintf(what, sizeof what, "%s batch", fmt->name);
    /* All batches are opened (and their sizes checked) before anything is allocated. */
    for (int k = 0; k < nfiles && !rc; k++) {
        char base[64];
        snprintf(base, sizeof base, train ? fmt->train_fmt : fmt->test_file, k + 1);
        if (snprintf(path[k], PATH_MAX, "%s/%s", dir, base) >= PATH_MAX) {
            rc = dp_fail(e, DP_EIO, "%s folder path too long: '%s'", fmt->name, dir);
            break;
        }
        int fd;
        struct stat st;
        if ((rc = open_data(path[k], what, hint, &fd, e))) break;
        if (fstat(fd, &st) != 0 || !(f[k] = fdopen(fd, "rb"))) {
            rc = dp_fail(e, DP_EIO, "cannot read '%s': %s", path[k], strerror(errno));
            close(fd);
        } else if (st.st_size == 0 || st.st_size % record)
            rc = dp_fail(e, DP_EIO,
                         "%s: size %lld bytes is not a positive multiple of the %d-byte %s "
                         "record (%s; the binary version, not the python one)",
                         path[k], (long long)st.st_size, record, fmt->name, fmt->record_desc);
        else {
            count[k] = st.st_size / record;
            total += count[k];
        }
    }
    if (!rc && total > INT_MAX)
        rc = dp_fail(e, DP_EIO, "%s: too many %s records (%lld)", dir, fmt->name, (long long)total);
    if (!rc) {
        d->images = dp_calloc((size_t)total, CIFAR_PIXELS, "CIFAR images", e);
        d->labels = dp_calloc((size_t)total, 1, "CIFAR labels", e);
        if (!d->images || !d->labels) rc = DP_ENOMEM;
    }
    int64_t at = 0;
    for (int k = 0; k < nfiles && !rc; k++) {
        unsigned char rec[2 + CIFAR_PIXELS];
        for (int64_t i = 0; i < count[k] && !rc; i++, at++) {
            if (fread(rec, 1, (size_t)record, f[k]) != (size_t)record) {
                rc = dp_fail(e, DP_EIO, "%s: read error at record %lld: %s", path[k], (long long)i,
                             ferror(f[k]) ? strerror(errno) : "unexpected end of file");
                break;
            }
            if (rec[label_at] >= classes)
                rc = dp_fail(e, DP_EIO, "%s: record %lld has label %d; %s labels are 0..%d%s",
                             path[k], (long long)i, rec[label_at], fmt->name, classes - 1, fmt->wrong_label);
            d->labels[at] = rec[label_at];
            /* The record is already [c][h][w], our layout. */
            memcpy(d->images + (size_t)at * CIFAR_PIXELS, rec + fmt->labels, CIFAR_PIXELS);
        }
    }
    for (int k = 0; k < nfiles; k++)
        if (f[k]) fclose(f[k]);
    if (rc) {
        dataset_free(d);
        return rc;
    }
    d->n = (int)total;
    d->c = 3;
    d->h = 32;
    d->w = 32;
    d->classes = classes;
    return 0;
}

int cifar10_load(const char *dir, int train, dataset_t *d, dp_err *e) {
    return cifar_read(&CIFAR10, dir, train, 0, 10, d, NULL, e);
}

int cifar100_load(const char *dir, int train, int coarse, dataset_t *d, dp_err *e) {
    return cifar_read(&CIFAR100, dir, train, coarse ? 0 : 1, coarse ? 20 : 100, d, NULL, e);
}

/* ---- synthetic ------------------------------------------------------------ */

/* Two standard normals per call (Box-Muller, both halves). */
static void normal_pair(rng_t *r, double *z0, double *z1) {
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    double rad = sqrt(-2.0 * log(u1)), t = 2.0 * M_PI * u2;
    *z0 = rad * cos(t);
    *z1 = rad * sin(t);
}

/* In-place [1,2,1]/4 filter along rows and columns of one h x w plane (edge
 * pixels repeated), tmp holds max(h, w) doubles. */
static void blur121(double *p, int h, int w, double *tmp) {
    for (int i = 0; i < h; i++) {
        double *row = p + (size_t)i * w;
        for (int j = 0; j < w; j++)
            tmp[j] = 0.25 * row[j > 0 ? j - 1 : 0] + 0.5 * row[j] + 0.25 * row[j < w - 1 ? j + 1 : j];
        memcpy(row, tmp, (size_t)w * sizeof *tmp);
    }
    for (int j = 0; j < w; j++) {
        for (int i = 0; i < h; i++)
            tmp[i] = 0.25 * p[(size_t)(i > 0 ? i - 1 : 0) * w + j] + 0.5 * p[(size_t)i * w + j] +
                     0.25 * p[(size_t)(i < h - 1 ? i + 1 : i) * w + j];
        for (int i = 0; i < h; i++) p[(size_t)i * w + j] = tmp[i];
    }
}

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Class prototypes: smooth random fields (white noise blurred twice, so
 * features survive small crops/shifts), made orthogonal by Gram-Schmidt when
 * there is room so every pair of classes is equally far apart, scaled to rms
 * `amp` around mid-grey. */
static void synth_prototypes(double *proto, int classes, int c, int h, int w, double amp,
                             rng_t *r, double *tmp) {
    size_t plane = (size_t)h * w, P = plane * c;
    int ortho = (size_t)classes * 4 <= P && (double)classes * classes * (double)P < 4e9;
    for (int k = 0; k < classes; k++) {
        double *f = proto + (size_t)k * P;
        for (size_t i = 0; i < P; i += 2) {
            double z0, z1;
            normal_pair(r, &z0, &z1);
            f[i] = z0;
            if (i + 1 < P) f[i + 1] = z1;
        }
        if (h >= 8 && w >= 8)
            for (int ch = 0; ch < c; ch++) {
                blur121(f + ch * plane, h, w, tmp);
                blur121(f + ch * plane, h, w, tmp);
            }
        double n0 = sqrt(dot(f, f, P));
        if (ortho) {
            for (int j = 0; j < k; j++) {
                const double *g = proto + (size_t)j * P;
                double a = dot(f, g, P);
                for (size_t i = 0; i < P; i++) f[i] -= a * g[i];
            }
            /* Keep unit norm during Gram-Schmidt; rescale all at the end. */
            double nk = sqrt(dot(f, f, P));
            for (size_t i = 0; i < P; i++) f[i] /= nk > 1e-3 * n0 ? nk : n0;
        } else {
            for (size_t i = 0; i < P; i++) f[i] /= n0 > 0 ? n0 : 1;
        }
    }
    /* Unit norm -> rms amp per pixel. */
    double s = amp * sqrt((double)P);
    for (size_t i = 0; i < (size_t)classes * P; i++) proto[i] = SYNTH_BASE + s * proto[i];
}

static void synth_samples(dataset_t *d, const double *proto, rng_t *r) {
    size_t P = (size_t)d->c * d->h * d->w;
    for (int s = 0; s < d->n; s++) {
        int k = s % d->classes; /* cycling labels: balanced, also for "first n" subsets */
        const double *p = proto + (size_t)k * P;
        uint8_t *x = d->images + (size_t)s * P;
        d->labels[s] = (uint8_t)k;
        for (size_t i = 0; i < P; i += 2) {
            double z[2];
            normal_pair(r, &z[0], &z[1]);
            for (size_t t = 0; t < 2 && i + t < P; t++) {
                double v = floor(p[i + t] + SYNTH_NOISE * z[t] + 0.5);
                x[i + t] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
}

int synthetic_make(dataset_t *train, dataset_t *test, int c, int h, int w, int classes,
                   int n_train, int n_test, uint64_t seed, dp_err *e) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (c < 1 || c > 4 || h < 1 || h > IDX_MAX_SIDE || w < 1 || w > IDX_MAX_SIDE)
        return dp_fail(e, DP_EUSAGE,
                       "synthetic data: shape [%d, %d, %d] must have 1..4 channels and sides in "
                       "1..%d",
                       c, h, w, IDX_MAX_SIDE);
    if (classes < 2 || classes > 256)
        return dp_fail(e, DP_EUSAGE, "synthetic data: classes = %d must be in 2..256", classes);
    if (n_train < 1 || n_test < 1)
        return dp_fail(e, DP_EUSAGE, "synthetic data: train_size (%d) and test_size (%d) must be >= 1",
                       n_train, n_test);
    size_t P = (size_t)c * h * w;
    double *proto = dp_calloc((size_t)classes * P, sizeof(double), "synthetic prototypes", e);
    double *tmp = dp_calloc((size_t)(h > w ? h : w), sizeof(double), "synthetic scratch", e);
    dataset_t *sets[2] = {train, test};
    int ns[2] = {n_train, n_test};
    int rc = proto && tmp ? 0 : DP_ENOMEM;
    for (int k = 0; k < 2 && !rc; k++) {
        sets[k]->n = ns[k];
        sets[k]->c = c;
        sets[k]->h = h;
        sets[k]->w = w;
        sets[k]->classes = classes;
        sets[k]->images = dp_calloc((size_t)ns[k], P, "synthetic images", e);
        sets[k]->labels = dp_calloc((size_t)ns[k], 1, "synthetic labels", e);
        if (!sets[k]->images || !sets[k]->labels) rc = DP_ENOMEM;
    }
    if (!rc) {
        /* One master stream hands out independent seeds for the prototypes,
         * the train and the test samples: the test set does not depend on the
         * train size, and sample i does not depend on how many follow it. */
        rng_t master, r;
        rng_init(&master, seed, RNG_STREAM_SYNTHETIC);
        uint64_t seeds[3] = {rng_u64(&master), rng_u64(&master), rng_u64(&master)};
        double amp = sqrt(2.0) * SYNTH_MARGIN * SYNTH_NOISE / sqrt((double)P);
        rng_init(&r, seeds[0], RNG_STREAM_SYNTHETIC);
        synth_prototypes(proto, classes, c, h, w, amp, &r, tmp);
        for (int k = 0; k < 2; k++) {
            rng_init(&r, seeds[1 + k], RNG_STREAM_SYNTHETIC);
            synth_samples(sets[k], proto, &r);
        }
    }
    free(proto);
    free(tmp);
    if (rc) {
        dataset_free(train);
        dataset_free(test);
    }
    return rc;
}

/* ---- subsets -------------------------------------------------------------- */

int dataset_subset(dataset_t *d, int n, int random, uint64_t seed, dp_err *e) {
    if (n < 1) return dp_fail(e, DP_EUSAGE, "dataset subset size must be >= 1, got %d", n);
    if (n >= d->n) return 0;
    size_t P = (size_t)d->c * d->h * d->w;
    if (random) {
        /* Selection sampling (Knuth's Algorithm S): exactly n of d->n, each
         * subset equally likely, kept in their original order. Kept sample
         * number `kept` always comes from i >= kept, so copying forward in
         * place is safe. */
        rng_t r;
        rng_init(&r, seed, RNG_STREAM_DATA_SUBSET);
        int kept = 0;
        for (int i = 0; i < d->n && kept < n; i++) {
            if ((int)rng_below(&r, (uint32_t)(d->n - i)) >= n - kept) continue;
            if (kept != i) {
                memcpy(d->images + (size_t)kept * P, d->images + (size_t)i * P, P);
                d->labels[kept] = d->labels[i];
            }
            kept++;
        }
    }
    d->n = n;
    /* Give the memory back; a failed shrink just keeps the larger block. */
    uint8_t *im = realloc(d->images, (size_t)n * P);
    if (im) d->images = im;
    uint8_t *lb = realloc(d->labels, (size_t)n);
    if (lb) d->labels = lb;
    return 0;
}

/* ---- padding ----------------------------------------------------------------- */

int dataset_pad(dataset_t *d, int pad, dp_err *e) {
    if (pad <= 0 || d->n == 0) return 0;
    const int H = d->h + 2 * pad, W = d->w + 2 * pad;
    const size_t plane = (size_t)d->h * d->w, P = (size_t)H * W;
    uint8_t *im = dp_calloc((size_t)d->n * d->c, P, "padded images", e);
    if (!im) return DP_ENOMEM;
    for (size_t p = 0; p < (size_t)d->n * d->c; p++)
        for (int i = 0; i < d->h; i++)
            memcpy(im + p * P + (size_t)(i + pad) * W + pad, d->images + p * plane + (size_t)i * d->w,
                   (size_t)d->w);
    free(d->images);
    d->images = im;
    d->h = H;
    d->w = W;
    return 0;
}

/* ---- loading by name ------------------------------------------------------ */

/* `folder/base.gz` if it exists, else `folder/base` if it exists; else an
 * error naming both. A name that is there but cannot be looked up (a symbolic
 * link loop, no permission) is taken, so that opening it says why. */
static int find_idx_file(char *out, size_t size, const char *folder, const char *base,
                         const char *hint, dp_err *e) {
    struct stat st;
    if ((size_t)snprintf(out, size, "%s/%s.gz", folder, base) >= size)
        return dp_fail(e, DP_EIO, "data folder path too long: '%s'", folder);
    if (!stat(out, &st) || errno != ENOENT) return 0;
    snprintf(out, size, "%s/%s", folder, base);
    if (!stat(out, &st) || errno != ENOENT) return 0;
    return dp_fail(e, DP_EIO, "cannot open '%s/%s[.gz]': %s; %s", folder, base, strerror(errno),
                   hint);
}

static int load_idx_pair(const char *folder, const char *prefix, int id, dataset_t *d, dp_err *e) {
    const char *hint = INFO[id].hint, *name = NAMES[id];
    char img[PATH_MAX], lab[PATH_MAX], base[64];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    int rc = find_idx_file(img, sizeof img, folder, base, hint, e);
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if (!rc) rc = find_idx_file(lab, sizeof lab, folder, base, hint, e);
    if (!rc) rc = idx_read(img, lab, d, 10, name, hint, e);
    return rc;
}

int dataset_load(const spec_t *s, dataset_t *train, dataset_t *test, dp_err *e) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    const int id = s->data.dataset;
    if (id < 0 || id >= DATA_COUNT) return dp_fail(e, DP_EUSAGE, "data.dataset: unknown dataset %d", id);
    const char *name = NAMES[id], *hint = INFO[id].hint;
    const char *folder = s->data.path[0] ? s->data.path : INFO[id].default_path;
    int rc;
    if (id == DATA_SYNTHETIC) {
        if (s->data.n_shape != 3)
            return dp_fail(e, DP_EUSAGE, "data.shape: synthetic data needs [C, H, W], got %d values",
                           s->data.n_shape);
        rc = synthetic_make(train, test, s->data.shape[0], s->data.shape[1], s->data.shape[2],
                            s->data.classes, s->data.train_size, s->data.test_size, s->run.seed, e);
    } else {
        struct stat st;
        int missing = stat(folder, &st) != 0;
        if (missing || !S_ISDIR(st.st_mode))
            return dp_fail(e, DP_EIO, "%s data folder '%s': %s; %s", name, folder,
                           missing ? strerror(errno) : "not a directory", hint);
        if (id == DATA_CIFAR10 || id == DATA_CIFAR100) {
            const int c100 = id == DATA_CIFAR100, coarse = c100 && s->data.label == LABEL_COARSE;
            const cifar_format *fmt = c100 ? &CIFAR100 : &CIFAR10;
            const int label_at = c100 && !coarse, classes = c100 ? (coarse ? 20 : 100) : 10;
            rc = cifar_read(fmt, folder, 1, label_at, classes, train, hint, e);
            if (!rc) rc = cifar_read(fmt, folder, 0, label_at, classes, test, hint, e);
        } else {
            rc = load_idx_pair(folder, "train", id, train, e);
            if (!rc) rc = load_idx_pair(folder, "t10k", id, test, e);
            if (!rc && (train->h != test->h || train->w != test->w))
                rc = dp_fail(e, DP_EIO, "%s: training images are %dx%d but test images are %dx%d",
                             folder, train->h, train->w, test->h, test->w);
        }
    }
    int random = s->data.subset == SUBSET_RANDOM;
    if (!rc && s->data.train_subset > 0)
        rc = dataset_subset(train, s->data.train_subset, random, s->run.seed, e);
    if (!rc && s->data.test_subset > 0)
        rc = dataset_subset(test, s->data.test_subset, random, s->run.seed, e);
    if (!rc) rc = dataset_pad(train, s->data.resize_pad, e);
    if (!rc) rc = dataset_pad(test, s->data.resize_pad, e);
    if (rc) {
        dataset_free(train);
        dataset_free(test);
        return rc;
    }
    int classes = train->classes > test->classes ? train->classes : test->classes;
    train->classes = test->classes = classes;
    return 0;
}

/* ---- batches ---------------------------------------------------------------- */

void batch_cfg_from_spec(batch_cfg_t *bc, const spec_t *s, const dataset_t *train) {
    memset(bc, 0, sizeof *bc);
    const dataset_info *info = &INFO[s->data.dataset];
    int c = train->c < 1 ? 1 : train->c > 4 ? 4 : train->c;
    bc->c = c;
    double mean[4] = {0}, sd[4] = {1, 1, 1, 1};
    if (info->std[0] > 0) {
        for (int ch = 0; ch < c && ch < 3; ch++) mean[ch] = info->mean[ch], sd[ch] = info->std[ch];
    } else if (train->n > 0 && train->images) {
        /* Synthetic (or anything without published statistics): measured on
         * the training set, exactly in integers. */
        size_t plane = (size_t)train->h * train->w;
        for (int ch = 0; ch < c; ch++) {
            uint64_t sum = 0, sq = 0;
            for (int i = 0; i < train->n; i++) {
                const uint8_t *p = train->images + ((size_t)i * train->c + ch) * plane;
                for (size_t j = 0; j < plane; j++) sum += p[j], sq += (uint64_t)p[j] * p[j];
            }
            double cnt = (double)train->n * plane, m = sum / cnt;
            double var = sq / cnt - m * m;
            mean[ch] = m / 255.0;
            sd[ch] = var > 1e-12 ? sqrt(var) / 255.0 : 1.0;
        }
    }
    for (int ch = 0; ch < c; ch++) {
        if (s->data.n_mean == 1) mean[ch] = s->data.mean[0];
        else if (s->data.n_mean == c) mean[ch] = s->data.mean[ch];
        if (s->data.n_std == 1) sd[ch] = s->data.std[0];
        else if (s->data.n_std == c) sd[ch] = s->data.std[ch];
        bc->mean[ch] = (float)mean[ch];
        bc->std[ch] = (float)sd[ch];
    }
    bc->normalize = s->data.normalize != 0;
    bc->crop_pad = s->data.crop_pad > 0 ? s->data.crop_pad : 0;
    bc->flip = s->data.flip < 0 ? info->flip : s->data.flip != 0;
}
