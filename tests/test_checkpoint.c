/* Checkpoint files: exact layout, bitwise round trip, corruption and truncation
 * detection, clear messages, and atomic replacement. Every test works in its
 * own fresh temporary folder and removes it afterwards. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint.h"

/* ---- helpers ---- */

#define TMPDIR_PREFIX "dppf_ckpt"
#include "tmpdir.h"

TestSuite(checkpoint, .init = make_dir, .fini = remove_dir);


static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Arbitrary 32-bit patterns (NaN payloads, denormals, -0 included): the file
 * must carry bits, not values. */
/* Random bit patterns; with `finite`, NaN and Inf patterns (exponent all
 * ones) get their exponent lowered, so every value is a number. */
static float *rand_floats(uint64_t n, uint64_t *s, int finite) {
    if (n == 0) return NULL;
    float *a = malloc(n * sizeof(float));
    cr_assert_not_null(a);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)splitmix(s);
        if (finite && (u & 0x7f800000u) == 0x7f800000u) u &= ~0x00800000u;
        memcpy(&a[i], &u, 4);
    }
    return a;
}

/* A checkpoint with random contents; free with checkpoint_free. */
static checkpoint_t make_ckpt(uint32_t W, uint64_t np, uint64_t nb, uint64_t no, uint32_t nr,
                              uint64_t nx, size_t spec_len, uint64_t seed) {
    uint64_t s = seed;
    checkpoint_t c = {.n_workers = W, .n_rng = nr, .n_params = np, .n_buffers = nb,
                      .n_opt = no, .n_extra = nx};
    c.spec_yaml = malloc(spec_len + 1);
    cr_assert_not_null(c.spec_yaml);
    for (size_t i = 0; i < spec_len; i++)
        c.spec_yaml[i] = i % 23 == 22 ? '\n' : (char)(' ' + splitmix(&s) % 95);
    c.spec_yaml[spec_len] = 0;
    /* Fields the reader checks are valid (step >= epoch >= 0, a time, finite
     * parameters); everything else is arbitrary bits. */
    c.epoch = (int64_t)(splitmix(&s) % 1000);
    c.step = c.epoch + (int64_t)(splitmix(&s) >> 2);
    c.wall_seconds = (double)(splitmix(&s) >> 11) * 0x1p-20;
    c.avg_params = rand_floats(np, &s, 1);
    c.avg_buffers = rand_floats(nb, &s, 0);
    c.worker_params = rand_floats(W * np, &s, 1);
    c.worker_buffers = rand_floats(W * nb, &s, 0);
    c.worker_opt = rand_floats(W * no, &s, 0);
    if (W && nr) {
        c.rng = malloc(W * nr * 4 * sizeof(uint64_t));
        cr_assert_not_null(c.rng);
        for (uint64_t i = 0; i < (uint64_t)W * nr * 4; i++) c.rng[i] = splitmix(&s);
    }
    c.extra = rand_floats(nx, &s, 0);
    return c;
}

static size_t expected_size(const checkpoint_t *c) {
    uint64_t W = c->n_workers;
    return 92 + strlen(c->spec_yaml ? c->spec_yaml : "") +
           4 * (c->n_params + c->n_buffers + W * (c->n_params + c->n_buffers + c->n_opt) +
                c->n_extra) +
           32 * W * c->n_rng;
}

static void expect_array(const void *a, const void *b, size_t bytes, const char *what) {
    if (bytes == 0) return;
    cr_assert_not_null(a, "%s missing", what);
    cr_assert_not_null(b, "%s missing", what);
    cr_expect(memcmp(a, b, bytes) == 0, "%s differs", what);
}

static void expect_same(const checkpoint_t *a, const checkpoint_t *b) {
    cr_assert_eq(a->n_workers, b->n_workers);
    cr_assert_eq(a->n_rng, b->n_rng);
    cr_assert_eq(a->n_params, b->n_params);
    cr_assert_eq(a->n_buffers, b->n_buffers);
    cr_assert_eq(a->n_opt, b->n_opt);
    cr_assert_eq(a->n_extra, b->n_extra);
    cr_expect_eq(a->epoch, b->epoch);
    cr_expect_eq(a->step, b->step);
    cr_expect(memcmp(&a->wall_seconds, &b->wall_seconds, 8) == 0, "wall_seconds differs");
    cr_expect_str_eq(a->spec_yaml ? a->spec_yaml : "", b->spec_yaml ? b->spec_yaml : "");
    uint64_t W = a->n_workers;
    expect_array(a->avg_params, b->avg_params, 4 * a->n_params, "avg_params");
    expect_array(a->avg_buffers, b->avg_buffers, 4 * a->n_buffers, "avg_buffers");
    expect_array(a->worker_params, b->worker_params, 4 * W * a->n_params, "worker_params");
    expect_array(a->worker_buffers, b->worker_buffers, 4 * W * a->n_buffers, "worker_buffers");
    expect_array(a->worker_opt, b->worker_opt, 4 * W * a->n_opt, "worker_opt");
    expect_array(a->rng, b->rng, 32 * W * a->n_rng, "rng");
    expect_array(a->extra, b->extra, 4 * a->n_extra, "extra");
}

static void expect_zeroed(const checkpoint_t *c) {
    static const checkpoint_t zero;
    cr_expect(memcmp(c, &zero, sizeof zero) == 0, "struct not zeroed after a failed read");
}

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    struct stat st;
    cr_assert_eq(fstat(fileno(f), &st), 0);
    unsigned char *b = malloc((size_t)st.st_size + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)st.st_size, f), (size_t)st.st_size);
    fclose(f);
    *size = (size_t)st.st_size;
    return b;
}

static void spill(const char *path, const void *b, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(b, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Re-seal a modified image so it passes the CRC and reaches the later checks. */
static void reseal(unsigned char *b, size_t size) {
    put32(b + size - 4, (uint32_t)crc32(0, b, (uInt)(size - 4)));
}

/* Names of the entries of g_dir, sorted, joined by ','. */
static void list_dir(char *out, size_t cap) {
    struct dirent **ents;
    int n = scandir(g_dir, &ents, NULL, alphasort);
    cr_assert_geq(n, 0);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
            if (out[0]) strncat(out, ",", cap - strlen(out) - 1);
            strncat(out, ents[i]->d_name, cap - strlen(out) - 1);
        }
        free(ents[i]);
    }
    free(ents);
}

static void write_ok(const char *path, const checkpoint_t *c) {
    dp_err e = {0};
    int rc = checkpoint_write(path, c, &e);
    cr_assert_eq(rc, 0, "write failed (%d): %s", rc, e.msg);
}

/* Read must fail with DP_EIO, a message containing `needle` and the path, and
 * leave the struct zeroed. */
static void expect_read_fails(const char *path, const char *needle, const char *ctx) {
    checkpoint_t c;
    memset(&c, 0xAB, sizeof c); /* garbage in: the reader must zero it */
    dp_err e = {0};
    int rc = checkpoint_read(path, &c, &e);
    cr_assert_eq(rc, DP_EIO, "%s: rc = %d (%s)", ctx, rc, e.msg);
    cr_expect_eq(e.code, DP_EIO, "%s", ctx);
    cr_expect(strstr(e.msg, needle) != NULL, "%s: message '%s' lacks '%s'", ctx, e.msg, needle);
    cr_expect(strstr(e.msg, path) != NULL, "%s: message '%s' does not name the file", ctx, e.msg);
    expect_zeroed(&c);
}

/* ---- tests ---- */

Test(checkpoint, round_trip_two_workers_bitwise) {
    checkpoint_t a = make_ckpt(2, 1000, 37, 1000, 1, 250, 3000, 42);
    const char *path = in_dir("ckpt.bin");
    write_ok(path, &a);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq((size_t)st.st_size, expected_size(&a));

    checkpoint_t b;
    dp_err e = {0};
    cr_assert_eq(checkpoint_read(path, &b, &e), 0, "%s", e.msg);
    expect_same(&a, &b);
    cr_expect_eq(strlen(b.spec_yaml), 3000u);
    checkpoint_free(&b);
    expect_zeroed(&b);
    checkpoint_free(&a);
}

/* The exact bytes of a small checkpoint, built independently of the writer:
 * pins the documented layout (field order, widths, little-endian, CRC). */
Test(checkpoint, layout_is_as_documented) {
    checkpoint_t c = make_ckpt(2, 3, 1, 2, 1, 2, 5, 7);
    const char *path = in_dir("ckpt.bin");
    write_ok(path, &c);
    size_t size;
    unsigned char *got = slurp(path, &size);
    size_t want_size = expected_size(&c);
    cr_assert_eq(size, want_size);

    unsigned char *w = calloc(1, want_size), *p = w;
    memcpy(p, "DPPFCKPT", 8), p += 8;
    put32(p, 1), p += 4;
    put32(p, 0), p += 4;
    put64(p, 5), p += 8;
    memcpy(p, c.spec_yaml, 5), p += 5;
    put32(p, 2), p += 4;
    put32(p, 1), p += 4;
    put64(p, 3), p += 8;
    put64(p, 1), p += 8;
    put64(p, 2), p += 8;
    put64(p, 2), p += 8;
    put64(p, (uint64_t)c.epoch), p += 8;
    put64(p, (uint64_t)c.step), p += 8;
    uint64_t u;
    memcpy(&u, &c.wall_seconds, 8);
    put64(p, u), p += 8;
#define F32S(arr, n)                                                                               \
    for (size_t i = 0; i < (n); i++) {                                                             \
        uint32_t v;                                                                                \
        memcpy(&v, &(arr)[i], 4);                                                                  \
        put32(p, v), p += 4;                                                                       \
    }
    F32S(c.avg_params, 3);
    F32S(c.avg_buffers, 1);
    F32S(c.worker_params, 6);
    F32S(c.worker_buffers, 2);
    F32S(c.worker_opt, 4);
    for (size_t i = 0; i < 8; i++) put64(p, c.rng[i]), p += 8;
    F32S(c.extra, 2);
#undef F32S
    put32(p, (uint32_t)crc32(0, w, (uInt)(p - w))), p += 4;
    cr_assert_eq((size_t)(p - w), want_size);
    for (size_t i = 0; i < size; i++) cr_assert_eq(got[i], w[i], "byte %zu differs", i);
    free(w);
    free(got);
    checkpoint_free(&c);
}

Test(checkpoint, every_single_byte_flip_is_detected) {
    checkpoint_t c = make_ckpt(2, 6, 2, 6, 1, 3, 40, 11);
    const char *path = in_dir("ckpt.bin"), *bad = in_dir("bad.bin");
    write_ok(path, &c);
    size_t size;
    unsigned char *b = slurp(path, &size);
    /* Every position: header, spec, counts, data, and the CRC itself. A CRC-32
     * detects every error burst of up to 32 bits, so this cannot flake. */
    for (size_t pos = 0; pos < size; pos++) {
        b[pos] ^= 0x5A;
        spill(bad, b, size);
        b[pos] ^= 0x5A;
        char ctx[64];
        snprintf(ctx, sizeof ctx, "flip at byte %zu of %zu", pos, size);
        const char *needle = pos < 8    ? "not a dppf checkpoint (bad magic)"
                             : pos < 12 ? "checkpoint format version"
                                        : "checksum mismatch: file is corrupt or truncated";
        expect_read_fails(bad, needle, ctx);
    }
    free(b);
    checkpoint_free(&c);
}

Test(checkpoint, truncation_and_trailing_bytes_are_detected) {
    checkpoint_t c = make_ckpt(2, 50, 4, 50, 1, 5, 100, 3);
    const char *path = in_dir("ckpt.bin"), *bad = in_dir("bad.bin");
    write_ok(path, &c);
    size_t size;
    unsigned char *b = slurp(path, &size);
    size_t cuts[] = {0, 1, 8, 12, 91, 92, 93, 200, size / 2, size - 4, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spill(bad, b, cuts[i]);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "truncated to %zu of %zu bytes", cuts[i], size);
        expect_read_fails(bad, cuts[i] < 92 ? "too short to be a dppf checkpoint"
                                            : "checksum mismatch", ctx);
    }
    unsigned char *longer = calloc(1, size + 1);
    memcpy(longer, b, size);
    spill(bad, longer, size + 1);
    expect_read_fails(bad, "checksum mismatch", "one trailing byte");
    free(longer);
    free(b);
    checkpoint_free(&c);
}

Test(checkpoint, bad_magic_message) {
    const char *path = in_dir("notes.yaml");
    char text[300];
    memset(text, 'x', sizeof text);
    memcpy(text, "model:\n  arch: mlp\n", 19);
    spill(path, text, sizeof text);
    expect_read_fails(path, "not a dppf checkpoint (bad magic)", "a YAML file");
}

Test(checkpoint, version_message) {
    checkpoint_t c = make_ckpt(1, 4, 0, 4, 1, 0, 10, 5);
    const char *path = in_dir("ckpt.bin");
    write_ok(path, &c);
    size_t size;
    unsigned char *b = slurp(path, &size);
    put32(b + 8, 2);
    reseal(b, size); /* the version is checked before the CRC anyway */
    spill(path, b, size);
    expect_read_fails(path, "checkpoint format version 2, this dppf reads version 1", "version 2");
    free(b);
    checkpoint_free(&c);
}

Test(checkpoint, missing_file_message) {
    const char *path = in_dir("nope.bin");
    checkpoint_t c;
    dp_err e = {0};
    cr_assert_eq(checkpoint_read(path, &c, &e), DP_EIO);
    char want[1200];
    snprintf(want, sizeof want, "cannot open checkpoint '%s': No such file or directory", path);
    cr_expect_str_eq(e.msg, want);
    expect_zeroed(&c);
    /* A folder is not a checkpoint either. */
    expect_read_fails(g_dir, "not a regular file", "a folder");
}

/* A file whose CRC is valid but whose counts lie (a writer bug or a crafted
 * file), including counts whose byte sizes overflow 64 bits. */
Test(checkpoint, declared_counts_must_match_file_size) {
    checkpoint_t c = make_ckpt(2, 8, 2, 8, 1, 4, 16, 9);
    const char *path = in_dir("ckpt.bin"), *bad = in_dir("bad.bin");
    write_ok(path, &c);
    size_t size;
    unsigned char *b = slurp(path, &size), *m = malloc(size);
    size_t counts = 24 + 16; /* n_workers offset */
    struct {
        size_t off;
        uint64_t value;
        int wide;
        const char *needle;
    } cases[] = {
        {counts + 32, 5, 1, "do not match the file size"},                 /* n_extra + 1 */
        {counts + 32, 3, 1, "do not match the file size"},                 /* n_extra - 1 */
        {counts + 0, 3, 0, "do not match the file size"},                  /* n_workers + 1 */
        {counts + 0, 0xFFFFFFFFu, 0, "do not match the file size"},        /* huge workers */
        {counts + 8, 1ULL << 62, 1, "do not match the file size"},         /* params * 4 wraps */
        {counts + 8, 1ULL << 61, 1, "do not match the file size"},         /* W*params*4 wraps */
        {counts + 4, 0x80000000u, 0, "do not match the file size"},        /* huge n_rng */
        {16, 17, 1, "do not match the file size"},                         /* spec_len + 1 */
        {16, UINT64_MAX, 1, "spec length"},                                /* huge spec_len */
        {16, size, 1, "spec length"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(m, b, size);
        if (cases[i].wide)
            put64(m + cases[i].off, cases[i].value);
        else
            put32(m + cases[i].off, (uint32_t)cases[i].value);
        reseal(m, size);
        spill(bad, m, size);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "case %zu", i);
        expect_read_fails(bad, cases[i].needle, ctx);
    }
    free(m);
    free(b);
    checkpoint_free(&c);
}

Test(checkpoint, zero_length_arrays) {
    /* No buffers, no extra, NULL pointers for them, and no spec at all. */
    checkpoint_t a = make_ckpt(2, 5, 0, 5, 1, 0, 0, 13);
    free(a.spec_yaml);
    a.spec_yaml = NULL;
    cr_assert_null(a.avg_buffers);
    cr_assert_null(a.worker_buffers);
    cr_assert_null(a.extra);
    const char *path = in_dir("ckpt.bin");
    write_ok(path, &a);
    checkpoint_t b;
    dp_err e = {0};
    cr_assert_eq(checkpoint_read(path, &b, &e), 0, "%s", e.msg);
    expect_same(&a, &b);
    cr_assert_not_null(b.spec_yaml);
    cr_expect_str_eq(b.spec_yaml, "");
    checkpoint_free(&b);
    checkpoint_free(&a);

    /* Everything empty but one worker: the smallest valid file (header + CRC only). */
    checkpoint_t z = {.n_workers = 1, .epoch = 0, .step = 0, .wall_seconds = 0.5};
    write_ok(path, &z);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_size, 92);
    cr_assert_eq(checkpoint_read(path, &b, &e), 0, "%s", e.msg);
    expect_same(&z, &b);
    checkpoint_free(&b);
    /* No workers at all, or a negative epoch: checksum-valid, still refused. */
    z.n_workers = 0;
    write_ok(path, &z);
    expect_read_fails(path, "invalid field n_workers", "no workers");
    z.n_workers = 1, z.epoch = -1;
    write_ok(path, &z);
    expect_read_fails(path, "invalid field epoch", "negative epoch");
}

Test(checkpoint, missing_array_is_refused) {
    checkpoint_t a = make_ckpt(1, 5, 0, 5, 1, 2, 4, 17);
    float *extra = a.extra;
    a.extra = NULL;
    dp_err e = {0};
    const char *path = in_dir("ckpt.bin");
    cr_expect_neq(checkpoint_write(path, &a, &e), 0);
    cr_expect(strstr(e.msg, "extra") != NULL, "%s", e.msg);
    char names[256];
    list_dir(names, sizeof names);
    cr_expect_str_eq(names, "");
    a.extra = extra;
    checkpoint_free(&a);
}

Test(checkpoint, no_temp_file_left_after_success) {
    checkpoint_t a = make_ckpt(2, 20, 3, 20, 1, 2, 30, 19);
    write_ok(in_dir("ckpt.bin"), &a);
    write_ok(in_dir("ckpt.bin"), &a); /* and after replacing */
    char names[256];
    list_dir(names, sizeof names);
    cr_expect_str_eq(names, "ckpt.bin");
    checkpoint_free(&a);
}

Test(checkpoint, missing_folder_fails_cleanly) {
    checkpoint_t a = make_ckpt(2, 20, 3, 20, 1, 2, 30, 23);
    const char *path = in_dir("no-such-folder/ckpt.bin");
    dp_err e = {0};
    cr_assert_eq(checkpoint_write(path, &a, &e), DP_EIO, "%s", e.msg);
    char want[1200];
    snprintf(want, sizeof want, "cannot write checkpoint '%s': No such file or directory", path);
    cr_expect_str_eq(e.msg, want);
    char names[256];
    list_dir(names, sizeof names);
    cr_expect_str_eq(names, "", "left behind: %s", names);
    checkpoint_free(&a);
}

Test(checkpoint, failed_rename_removes_temp_file) {
    /* The target is a non-empty folder, so rename() fails after a complete temp file. */
    checkpoint_t a = make_ckpt(1, 20, 3, 20, 1, 2, 30, 29);
    const char *path = in_dir("ckpt.bin");
    cr_assert_eq(mkdir(path, 0700), 0);
    spill(in_dir("ckpt.bin/keep"), "x", 1);
    dp_err e = {0};
    cr_assert_eq(checkpoint_write(path, &a, &e), DP_EIO);
    cr_expect(strstr(e.msg, "cannot write checkpoint") && strstr(e.msg, path), "%s", e.msg);
    char names[256];
    list_dir(names, sizeof names);
    cr_expect_str_eq(names, "ckpt.bin", "left behind: %s", names);
    checkpoint_free(&a);
}

Test(checkpoint, existing_checkpoint_is_replaced_atomically) {
    const char *path = in_dir("ckpt.bin");
    checkpoint_t big = make_ckpt(2, 5000, 100, 5000, 1, 64, 2000, 31);
    checkpoint_t small = make_ckpt(1, 3, 1, 3, 1, 0, 10, 37);
    write_ok(path, &big);
    size_t big_size;
    unsigned char *big_bytes = slurp(path, &big_size);
    struct stat st_old, st_new;
    cr_assert_eq(stat(path, &st_old), 0);
    FILE *old = fopen(path, "rb"); /* a reader that opened the old file */
    cr_assert_not_null(old);

    write_ok(path, &small);

    /* The path now names a complete new file, not the old one overwritten in
     * place: new inode, exact new size, contents read back equal. */
    cr_assert_eq(stat(path, &st_new), 0);
    cr_expect_neq(st_new.st_ino, st_old.st_ino, "checkpoint was rewritten in place");
    cr_expect_eq((size_t)st_new.st_size, expected_size(&small));
    checkpoint_t r;
    dp_err e = {0};
    cr_assert_eq(checkpoint_read(path, &r, &e), 0, "%s", e.msg);
    expect_same(&small, &r);
    checkpoint_free(&r);

    /* ... and the reader that had the old file open still sees all of it. */
    unsigned char *again = malloc(big_size + 1);
    cr_assert_eq(fread(again, 1, big_size + 1, old), big_size);
    cr_expect(memcmp(again, big_bytes, big_size) == 0, "old file changed under its reader");
    fclose(old);

    char names[256];
    list_dir(names, sizeof names);
    cr_expect_str_eq(names, "ckpt.bin");
    free(again);
    free(big_bytes);
    checkpoint_free(&big);
    checkpoint_free(&small);
}
