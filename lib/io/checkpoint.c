/* checkpoint.c - atomic, checksummed binary checkpoints (layout in checkpoint.h).
 *
 * Numbers are written in host byte order, which the format fixes as
 * little-endian: the static assertions below make a big-endian or non-IEEE
 * build fail at compile time rather than write files nobody else can read.
 * The reader trusts nothing until size, magic, version and CRC have passed,
 * then checks that the declared counts account for the file size exactly. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint.h"
#include "fault.h"
#include "file.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the checkpoint format is little-endian; add byte swapping for this host");
_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "f32/f64 must be IEEE single/double");

static const char MAGIC[8] = {'D', 'P', 'P', 'F', 'C', 'K', 'P', 'T'};

/* magic, version, reserved, spec_len | n_workers, n_rng, n_params, n_buffers,
 * n_opt, n_extra, epoch, step, wall_seconds */
enum { HEAD_BYTES = 8 + 4 + 4 + 8, COUNTS_BYTES = 4 + 4 + 6 * 8 + 8, CRC_BYTES = 4 };
enum { MIN_BYTES = HEAD_BYTES + COUNTS_BYTES + CRC_BYTES };

/* ---- writing ---- */

typedef struct {
    atomic_file a; /* keeps the first write error; later writes are skipped */
    uLong crc;
} writer;

static void put(writer *w, const void *p, size_t len) {
    if (len && !atomic_put(&w->a, p, len)) w->crc = crc32_z(w->crc, p, len);
}

static void put_u32(writer *w, uint32_t v) { put(w, &v, sizeof v); }
static void put_u64(writer *w, uint64_t v) { put(w, &v, sizeof v); }

/* a * b * elem bytes, or 0 on overflow (with *ok cleared). */
static size_t bytes_of(uint64_t a, uint64_t b, size_t elem, int *ok) {
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r) || __builtin_mul_overflow(r, (uint64_t)elem, &r) ||
        r > SIZE_MAX) {
        *ok = 0;
        return 0;
    }
    return (size_t)r;
}

int checkpoint_write(const char *path, const checkpoint_t *c, dp_err *e) {
    uint64_t W = c->n_workers;
    int ok = 1;
    size_t spec_len = c->spec_yaml ? strlen(c->spec_yaml) : 0;
    struct {
        const void *p;
        size_t bytes;
        const char *name;
    } arr[] = {
        {c->avg_params, bytes_of(1, c->n_params, 4, &ok), "avg_params"},
        {c->avg_buffers, bytes_of(1, c->n_buffers, 4, &ok), "avg_buffers"},
        {c->worker_params, bytes_of(W, c->n_params, 4, &ok), "worker_params"},
        {c->worker_buffers, bytes_of(W, c->n_buffers, 4, &ok), "worker_buffers"},
        {c->worker_opt, bytes_of(W, c->n_opt, 4, &ok), "worker_opt"},
        {c->rng, bytes_of(W, c->n_rng, 32, &ok), "rng"},
        {c->extra, bytes_of(1, c->n_extra, 4, &ok), "extra"},
    };
    enum { N_ARR = sizeof arr / sizeof arr[0] };
    if (!ok)
        return dp_fail(e, DP_ERUNTIME, "cannot write checkpoint '%s': sizes overflow", path);
    for (int i = 0; i < N_ARR; i++)
        if (arr[i].bytes && !arr[i].p)
            return dp_fail(e, DP_ERUNTIME, "cannot write checkpoint '%s': %s is missing", path,
                           arr[i].name);

    writer w = {.crc = crc32_z(0, Z_NULL, 0)};
    int rc = atomic_open(&w.a, path, "checkpoint", e);
    if (rc) return rc;
    put(&w, MAGIC, sizeof MAGIC);
    put_u32(&w, CHECKPOINT_VERSION);
    put_u32(&w, 0);
    put_u64(&w, spec_len);
    put(&w, c->spec_yaml, spec_len);
    put_u32(&w, c->n_workers);
    put_u32(&w, c->n_rng);
    put_u64(&w, c->n_params);
    put_u64(&w, c->n_buffers);
    put_u64(&w, c->n_opt);
    put_u64(&w, c->n_extra);
    put_u64(&w, (uint64_t)c->epoch);
    put_u64(&w, (uint64_t)c->step);
    put(&w, &c->wall_seconds, sizeof c->wall_seconds);
    for (int i = 0; i < N_ARR; i++) {
        put(&w, arr[i].p, arr[i].bytes);
        /* Test-only (lib/fault.h): die with the file half written, as a crash would. */
        if (i == N_ARR / 2 && fault_at("checkpoint-kill", c->step, -1)) {
            fflush(w.a.f);
            raise(SIGKILL);
        }
    }
    uint32_t crc = (uint32_t)w.crc;
    put_u32(&w, crc);

    /* A crash leaves either the old checkpoint or the new one. */
    return atomic_commit(&w.a, e);
}

/* ---- reading ---- */

static uint32_t get_u32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

void checkpoint_free(checkpoint_t *c) {
    free(c->spec_yaml);
    free(c->avg_params);
    free(c->avg_buffers);
    free(c->worker_params);
    free(c->worker_buffers);
    free(c->worker_opt);
    free(c->rng);
    free(c->extra);
    memset(c, 0, sizeof *c);
}

/* Copies `bytes` from the file image into a fresh array (never NULL, so that
 * callers may memcpy from zero-length arrays). */
static void *take(const unsigned char **at, size_t bytes, const char *what, dp_err *e) {
    void *p = dp_calloc(1, bytes, what, e);
    if (p && bytes) memcpy(p, *at, bytes);
    *at += bytes;
    return p;
}

int checkpoint_read(const char *path, checkpoint_t *c, dp_err *e) {
    memset(c, 0, sizeof *c);
    unsigned char *b = NULL;
    size_t size = 0;
    /* a checkpoint may be large; the limit only keeps size + 1 from overflowing */
    int rc = file_read_all(path, "checkpoint", SIZE_MAX / 2, &b, &size, e);
    if (rc) return rc;
    rc = checkpoint_parse(b, size, path, c, e);
    free(b);
    return rc;
}

int checkpoint_parse(const void *buf, size_t size, const char *path, checkpoint_t *c, dp_err *e) {
    memset(c, 0, sizeof *c);
    const unsigned char *b = buf;
    int rc = 0;
    if (size < MIN_BYTES) {
        rc = dp_fail(e, DP_EIO, "'%s' is too short to be a dppf checkpoint (%zu bytes)",
                     path, size);
        goto out;
    }
    if (memcmp(b, MAGIC, sizeof MAGIC) != 0) {
        rc = dp_fail(e, DP_EIO, "'%s' is not a dppf checkpoint (bad magic)", path);
        goto out;
    }
    uint32_t version = get_u32(b + 8);
    if (version != CHECKPOINT_VERSION) {
        rc = dp_fail(e, DP_EIO, "'%s': checkpoint format version %u, this dppf reads version %d",
                     path, version, CHECKPOINT_VERSION);
        goto out;
    }
    uint32_t stored = get_u32(b + size - CRC_BYTES);
    uint32_t computed = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), b, size - CRC_BYTES);
    if (stored != computed) {
        rc = dp_fail(e, DP_EIO, "checkpoint '%s': checksum mismatch: file is corrupt or truncated "
                     "(stored 0x%08x, computed 0x%08x)", path, stored, computed);
        goto out;
    }

    /* Counts: every product is overflow-checked, and the sum must equal the
     * file size exactly (no trailing or missing bytes). */
    uint64_t spec_len = get_u64(b + 16);
    if (spec_len > size - MIN_BYTES) {
        rc = dp_fail(e, DP_EIO, "checkpoint '%s': declared spec length %llu exceeds the file size "
                     "(%zu bytes)", path, (unsigned long long)spec_len, size);
        goto out;
    }
    const unsigned char *at = b + HEAD_BYTES + spec_len;
    c->n_workers = get_u32(at);
    c->n_rng = get_u32(at + 4);
    c->n_params = get_u64(at + 8);
    c->n_buffers = get_u64(at + 16);
    c->n_opt = get_u64(at + 24);
    c->n_extra = get_u64(at + 32);
    c->epoch = (int64_t)get_u64(at + 40);
    c->step = (int64_t)get_u64(at + 48);
    memcpy(&c->wall_seconds, at + 56, sizeof c->wall_seconds);
    at += COUNTS_BYTES;

    uint64_t W = c->n_workers;
    int ok = 1;
    size_t sz[] = {
        bytes_of(1, c->n_params, 4, &ok),      bytes_of(1, c->n_buffers, 4, &ok),
        bytes_of(W, c->n_params, 4, &ok),      bytes_of(W, c->n_buffers, 4, &ok),
        bytes_of(W, c->n_opt, 4, &ok),         bytes_of(W, c->n_rng, 32, &ok),
        bytes_of(1, c->n_extra, 4, &ok),
    };
    size_t avail = size - MIN_BYTES - (size_t)spec_len, total = 0;
    for (size_t i = 0; ok && i < sizeof sz / sizeof sz[0]; i++) {
        if (sz[i] > avail - total) ok = 0; /* also stops the sum from overflowing */
        else total += sz[i];
    }
    if (!ok || total != avail) {
        rc = dp_fail(e, DP_EIO, "checkpoint '%s': declared sizes (%u workers, %llu params, %llu "
                     "buffers, %llu optimizer, %u rng, %llu extra) do not match the file size "
                     "(%zu bytes)", path, c->n_workers, (unsigned long long)c->n_params,
                     (unsigned long long)c->n_buffers, (unsigned long long)c->n_opt, c->n_rng,
                     (unsigned long long)c->n_extra, size);
        goto out;
    }

    /* Fields a valid checksum does not vouch for: a file can be crafted (or
     * written by a buggy tool) with any value, and every reader trusts these. */
    const char *bad = NULL;
    if (c->n_workers < 1) bad = "n_workers (no workers)";
    else if (c->n_opt != 0 && c->n_opt != c->n_params) bad = "n_opt (neither 0 nor n_params)";
    else if (c->step < 0) bad = "step (negative)";
    else if (c->epoch < 0 || c->epoch > c->step) bad = "epoch (not in [0, step])";
    else if (!(c->wall_seconds >= 0) || !isfinite(c->wall_seconds)) bad = "wall_seconds (not a time)";
    if (bad) {
        rc = dp_fail(e, DP_EIO, "checkpoint '%s': invalid field %s: the file is not one dppf wrote",
                     path, bad);
        goto out;
    }

    c->spec_yaml = dp_calloc(1, (size_t)spec_len + 1, "checkpoint spec", e);
    if (c->spec_yaml) memcpy(c->spec_yaml, b + HEAD_BYTES, (size_t)spec_len);
    c->avg_params = take(&at, sz[0], "checkpoint avg_params", e);
    c->avg_buffers = take(&at, sz[1], "checkpoint avg_buffers", e);
    c->worker_params = take(&at, sz[2], "checkpoint worker_params", e);
    c->worker_buffers = take(&at, sz[3], "checkpoint worker_buffers", e);
    c->worker_opt = take(&at, sz[4], "checkpoint worker_opt", e);
    c->rng = take(&at, sz[5], "checkpoint rng", e);
    c->extra = take(&at, sz[6], "checkpoint extra", e);
    if (!c->spec_yaml || !c->avg_params || !c->avg_buffers || !c->worker_params ||
        !c->worker_buffers || !c->worker_opt || !c->rng || !c->extra)
        rc = DP_ENOMEM; /* dp_calloc recorded which */
    /* Parameters must be numbers: training checks them before it writes a
     * checkpoint. (BN statistics may legitimately overflow shortly before a
     * run diverges, and the `extra` floats hold bit-copied integers.) */
    const struct { const float *p; size_t n; const char *what; } arrays[] = {
        {c->avg_params, sz[0] / 4, "the averaged parameters"}, {c->worker_params, sz[2] / 4, "a worker's parameters"}};
    for (size_t i = 0; !rc && i < sizeof arrays / sizeof *arrays; i++)
        for (size_t j = 0; j < arrays[i].n; j++)
            if (!isfinite(arrays[i].p[j])) {
                rc = dp_fail(e, DP_EIO, "checkpoint '%s': %s hold a NaN or Inf (value %zu): a diverged "
                             "or damaged model", path, arrays[i].what, j);
                break;
            }
out:
    if (rc) checkpoint_free(c);
    return rc;
}
