/* test_dataset.c - the dataset readers on crafted files (plain and gzip IDX,
 * CIFAR-10 batches) and on every way they can be broken; the real
 * Fashion-MNIST when installed; the synthetic set's determinism and
 * learnability; subsets; batch normalisation, crop and flip by hand; and the
 * epoch permutation.
 *
 * Crafted files go to a fresh mkdtemp() folder per test, removed afterwards. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ---- temp folder and file helpers --------------------------------------- */

static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void tmp_setup(void) {
    strcpy(tmpdir, "/tmp/dppf_test_dataset_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void tmp_teardown(void) {
    if (tmpdir[0]) nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(dataset, .init = tmp_setup, .fini = tmp_teardown);

/* tmpdir/name in a static buffer (four rotating ones, so up to four
 * tpath() calls can appear in one expression). */
static const char *tpath(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f, "gzopen %s", path);
        cr_assert_eq(gzwrite(f, data, (unsigned)n), (int)n);
        cr_assert_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f, "fopen %s", path);
        cr_assert_eq(fwrite(data, 1, n, f), n);
        cr_assert_eq(fclose(f), 0);
    }
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Pixel value of image i at (r, c): distinct and easy to predict. */
static uint8_t pix(int i, int r, int c) { return (uint8_t)(i * 37 + r * 5 + c + 1); }

/* IDX image file of n images of rows x cols; `magic` normally 0x803. Extra
 * bytes (may be negative: truncation) are added to/removed from the end. */
static size_t make_idx_images(unsigned char *buf, uint32_t magic, int n, int rows, int cols,
                              int extra) {
    put_be32(buf, magic);
    put_be32(buf + 4, (uint32_t)n);
    put_be32(buf + 8, (uint32_t)rows);
    put_be32(buf + 12, (uint32_t)cols);
    size_t at = 16;
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) buf[at++] = pix(i, r, c);
    for (int k = 0; k < extra; k++) buf[at++] = 0xAB;
    return at + (extra < 0 ? (size_t)extra : 0);
}

static size_t make_idx_labels(unsigned char *buf, uint32_t magic, int n, const uint8_t *labels) {
    put_be32(buf, magic);
    put_be32(buf + 4, (uint32_t)n);
    memcpy(buf + 8, labels, (size_t)n);
    return 8 + (size_t)n;
}

/* Writes a valid tiny IDX pair (3 images of 2 x 4) as img/lab. */
static const uint8_t tiny_labels[3] = {7, 0, 3};
static void write_tiny_pair(const char *img, const char *lab, int gz) {
    unsigned char buf[256];
    size_t n = make_idx_images(buf, 0x803, 3, 2, 4, 0);
    write_bytes(img, buf, n, gz);
    n = make_idx_labels(buf, 0x801, 3, tiny_labels);
    write_bytes(lab, buf, n, gz);
}

static void check_tiny(const dataset_t *d) {
    cr_assert_eq(d->n, 3);
    cr_assert_eq(d->c, 1);
    cr_assert_eq(d->h, 2);
    cr_assert_eq(d->w, 4);
    cr_assert_eq(d->classes, 10);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(d->labels[i], tiny_labels[i]);
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 4; c++)
                cr_assert_eq(d->images[(i * 2 + r) * 4 + c], pix(i, r, c), "image %d (%d,%d)", i, r,
                             c);
    }
}

static void expect_fail(int rc, const dp_err *e, int code, const char *path, const char *what) {
    cr_assert_eq(rc, code, "rc %d, expected %d (msg: %s)", rc, code, e->msg);
    cr_assert_eq(e->code, code);
    if (path) cr_assert_not_null(strstr(e->msg, path), "message lacks the path '%s': %s", path, e->msg);
    if (what) cr_assert_not_null(strstr(e->msg, what), "message lacks '%s': %s", what, e->msg);
}

/* ---- IDX ------------------------------------------------------------------ */

Test(dataset, idx_plain_loads) {
    write_tiny_pair(tpath("img"), tpath("lab"), 0);
    dataset_t d;
    dp_err e = {0};
    cr_assert_eq(idx_load(tpath("img"), tpath("lab"), &d, &e), 0, "%s", e.msg);
    check_tiny(&d);
    dataset_free(&d);
    cr_assert_null(d.images);
    cr_assert_eq(d.n, 0);
}

Test(dataset, idx_gzip_loads) {
    write_tiny_pair(tpath("img.gz"), tpath("lab.gz"), 1);
    /* Really compressed: the gzip magic is on disk. */
    FILE *f = fopen(tpath("img.gz"), "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fgetc(f), 0x1f);
    cr_assert_eq(fgetc(f), 0x8b);
    fclose(f);
    dataset_t d;
    dp_err e = {0};
    cr_assert_eq(idx_load(tpath("img.gz"), tpath("lab.gz"), &d, &e), 0, "%s", e.msg);
    check_tiny(&d);
    dataset_free(&d);
}

Test(dataset, idx_classes_from_labels) {
    unsigned char buf[256];
    const uint8_t labels[3] = {1, 12, 4};
    write_bytes(tpath("img"), buf, make_idx_images(buf, 0x803, 3, 2, 4, 0), 0);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 3, labels), 0);
    dataset_t d;
    dp_err e = {0};
    cr_assert_eq(idx_load(tpath("img"), tpath("lab"), &d, &e), 0, "%s", e.msg);
    cr_assert_eq(d.classes, 13);
    dataset_free(&d);
}

Test(dataset, idx_bad_magic) {
    unsigned char buf[256];
    write_bytes(tpath("img"), buf, make_idx_images(buf, 0x801, 3, 2, 4, 0), 0);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 3, tiny_labels), 0);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("img"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img"),
                "bad magic 0x00000801 (expected 0x00000803");
    cr_assert_null(d.images);
    /* And on the label file. */
    write_bytes(tpath("img"), buf, make_idx_images(buf, 0x803, 3, 2, 4, 0), 0);
    write_bytes(tpath("lab"), buf, make_idx_images(buf, 0x803, 3, 2, 4, 0), 0);
    expect_fail(idx_load(tpath("img"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("lab"),
                "expected 0x00000801");
}

Test(dataset, idx_truncated) {
    unsigned char buf[256];
    write_bytes(tpath("img.gz"), buf, make_idx_images(buf, 0x803, 3, 2, 4, -5), 1);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 3, tiny_labels), 0);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("img.gz"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img.gz"),
                "truncated: expected 24 image bytes, got 19");
    /* Truncated inside the header. */
    make_idx_images(buf, 0x803, 3, 2, 4, 0);
    write_bytes(tpath("img.gz"), buf, 10, 0);
    expect_fail(idx_load(tpath("img.gz"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img.gz"),
                "truncated");
    /* Empty. */
    write_bytes(tpath("img.gz"), buf, 0, 0);
    expect_fail(idx_load(tpath("img.gz"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img.gz"),
                "empty");
    /* Labels truncated. */
    write_bytes(tpath("img.gz"), buf, make_idx_images(buf, 0x803, 3, 2, 4, 0), 0);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 3, tiny_labels) - 1, 0);
    expect_fail(idx_load(tpath("img.gz"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("lab"),
                "truncated: expected 3 label bytes, got 2");
}

Test(dataset, idx_trailing_bytes) {
    unsigned char buf[256];
    write_bytes(tpath("img"), buf, make_idx_images(buf, 0x803, 3, 2, 4, 7), 0);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 3, tiny_labels), 0);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("img"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img"),
                "7 bytes after the 24 image bytes");
}

Test(dataset, idx_count_mismatch) {
    unsigned char buf[256];
    write_bytes(tpath("img"), buf, make_idx_images(buf, 0x803, 3, 2, 4, 0), 0);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 2, tiny_labels), 0);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("img"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("lab"),
                "holds 2 labels but");
    cr_assert_not_null(strstr(e.msg, tpath("img")), "%s", e.msg);
}

Test(dataset, idx_bad_dims) {
    unsigned char buf[256];
    make_idx_images(buf, 0x803, 1, 2, 4, 0);
    put_be32(buf + 8, 5000); /* rows */
    write_bytes(tpath("img"), buf, 16 + 8, 0);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 1, tiny_labels), 0);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("img"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img"),
                "5000 x 4");
    make_idx_images(buf, 0x803, 1, 2, 4, 0);
    put_be32(buf + 4, 0); /* n */
    write_bytes(tpath("img"), buf, 16, 0);
    expect_fail(idx_load(tpath("img"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img"),
                "implausible");
}

Test(dataset, idx_larger_than_first_chunk) {
    /* 300 images of 64 x 64 = 1.2 MB: more than the reader's first 1 MB
     * buffer, so it must grow it; then the same file 1 byte short. */
    enum { N = 300, S = 64 };
    size_t n = 16 + (size_t)N * S * S;
    unsigned char *buf = malloc(n);
    cr_assert_not_null(buf);
    put_be32(buf, 0x803);
    put_be32(buf + 4, N);
    put_be32(buf + 8, S);
    put_be32(buf + 12, S);
    for (size_t i = 16; i < n; i++) buf[i] = (unsigned char)(i * 7 + i / 4099);
    write_bytes(tpath("img.gz"), buf, n, 1);
    uint8_t labels[N];
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 10);
    unsigned char lb[8 + N];
    write_bytes(tpath("lab"), lb, make_idx_labels(lb, 0x801, N, labels), 0);
    dataset_t d;
    dp_err e = {0};
    cr_assert_eq(idx_load(tpath("img.gz"), tpath("lab"), &d, &e), 0, "%s", e.msg);
    cr_assert(d.n == N && d.h == S && d.w == S);
    cr_assert_eq(memcmp(d.images, buf + 16, n - 16), 0);
    cr_assert_eq(d.labels[N - 1], (N - 1) % 10);
    dataset_free(&d);
    write_bytes(tpath("img.gz"), buf, n - 1, 1);
    expect_fail(idx_load(tpath("img.gz"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img.gz"),
                "truncated: expected 1228800 image bytes, got 1228799");
    free(buf);
}

Test(dataset, idx_huge_count_is_truncation_not_oom) {
    /* A corrupt header announcing 2^31-1 images of 4096 x 4096 must fail as
     * truncated without trying to allocate 36 PB. */
    unsigned char buf[256];
    make_idx_images(buf, 0x803, 1, 2, 4, 0);
    put_be32(buf + 4, 0x7fffffff);
    put_be32(buf + 8, 4096);
    put_be32(buf + 12, 4096);
    write_bytes(tpath("img"), buf, 16 + 8, 0);
    write_bytes(tpath("lab"), buf, make_idx_labels(buf, 0x801, 1, tiny_labels), 0);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("img"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("img"),
                "truncated");
}

Test(dataset, idx_missing_file) {
    write_tiny_pair(tpath("img"), tpath("lab"), 0);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("nope"), tpath("lab"), &d, &e), &e, DP_EIO, tpath("nope"),
                "No such file or directory");
    expect_fail(idx_load(tpath("img"), tpath("nolab"), &d, &e), &e, DP_EIO, tpath("nolab"),
                "cannot open");
    cr_assert_null(d.images);
}

Test(dataset, idx_corrupt_gzip) {
    write_tiny_pair(tpath("img.gz"), tpath("lab.gz"), 1);
    /* Flip bytes in the middle of the deflate stream. */
    FILE *f = fopen(tpath("img.gz"), "r+b");
    cr_assert_not_null(f);
    fseek(f, 12, SEEK_SET);
    for (int i = 0; i < 8; i++) fputc(0xFF, f);
    fclose(f);
    dataset_t d;
    dp_err e = {0};
    expect_fail(idx_load(tpath("img.gz"), tpath("lab.gz"), &d, &e), &e, DP_EIO, tpath("img.gz"),
                NULL);
}

/* ---- dataset_load on a crafted MNIST folder ---------------------------------- */

static void spec_for(spec_t *s, const char *name, const char *path) {
    memset(s, 0, sizeof *s);
    s->data.dataset = dataset_find(name); /* -1 for an unknown name */
    snprintf(s->data.path, sizeof s->data.path, "%s", path);
    s->data.subset = SUBSET_FIRST;
    s->data.normalize = 1;
    s->data.flip = -1;
    s->run.seed = 1;
}

Test(dataset, load_mnist_folder_prefers_gz) {
    /* Valid .gz files, and plain files with garbage next to them: the .gz win. */
    write_tiny_pair(tpath("train-images-idx3-ubyte.gz"), tpath("train-labels-idx1-ubyte.gz"), 1);
    write_tiny_pair(tpath("t10k-images-idx3-ubyte"), tpath("t10k-labels-idx1-ubyte"), 0);
    write_bytes(tpath("train-images-idx3-ubyte"), "garbage", 7, 0);
    spec_t s;
    spec_for(&s, "mnist", tmpdir);
    dataset_t tr, te;
    dp_err e = {0};
    cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
    check_tiny(&tr);
    check_tiny(&te);
    dataset_free(&tr);
    dataset_free(&te);
}

Test(dataset, load_mnist_label_out_of_range) {
    unsigned char buf[256];
    const uint8_t labels[3] = {1, 10, 4};
    write_tiny_pair(tpath("train-images-idx3-ubyte"), tpath("train-labels-idx1-ubyte"), 0);
    write_bytes(tpath("t10k-images-idx3-ubyte"), buf, make_idx_images(buf, 0x803, 3, 2, 4, 0), 0);
    write_bytes(tpath("t10k-labels-idx1-ubyte"), buf, make_idx_labels(buf, 0x801, 3, labels), 0);
    spec_t s;
    spec_for(&s, "mnist", tmpdir);
    dataset_t tr, te;
    dp_err e = {0};
    expect_fail(dataset_load(&s, &tr, &te, &e), &e, DP_EIO, tpath("t10k-labels-idx1-ubyte"),
                "label 10 of sample 1");
    cr_assert_null(tr.images, "train set freed on error");
}

Test(dataset, load_missing_files_and_folder) {
    spec_t s;
    dataset_t tr, te;
    dp_err e = {0};
    spec_for(&s, "fashion-mnist", tmpdir);
    expect_fail(dataset_load(&s, &tr, &te, &e), &e, DP_EIO, tpath("train-images-idx3-ubyte"),
                "install the Debian package dataset-fashion-mnist or set data.path");
    spec_for(&s, "fashion-mnist", tpath("no-such-folder"));
    expect_fail(dataset_load(&s, &tr, &te, &e), &e, DP_EIO, tpath("no-such-folder"),
                "No such file or directory");
    spec_for(&s, "cifar10", tmpdir);
    expect_fail(dataset_load(&s, &tr, &te, &e), &e, DP_EIO, tpath("data_batch_1.bin"),
                "data.path");
}

Test(dataset, load_unknown_dataset) {
    spec_t s;
    spec_for(&s, "imagenet", ""); /* not in the table: an id no spec can hold */
    dataset_t tr, te;
    dp_err e = {0};
    expect_fail(dataset_load(&s, &tr, &te, &e), &e, DP_EUSAGE, NULL, "data.dataset: unknown dataset");
}

Test(dataset, default_paths) {
    cr_assert_str_eq(dataset_default_path("fashion-mnist"), FMNIST_DIR);
    cr_assert_str_eq(dataset_default_path("mnist"), "/usr/share/datasets/mnist");
    cr_assert_str_eq(dataset_default_path("cifar10"), "data/cifar-10-batches-bin");
    cr_assert_str_eq(dataset_default_path("synthetic"), "");
}

/* ---- CIFAR-10 ----------------------------------------------------------------- */

/* Record r of file k: label (k + r) % 10, pixel p = (k * 31 + r * 7 + p) & 255. */
static void write_cifar(const char *name, int k, int records, int extra) {
    size_t n = (size_t)((int64_t)records * 3073 + extra);
    unsigned char *buf = calloc((size_t)records * 3073 + (extra > 0 ? (size_t)extra : 0) + 1, 1);
    cr_assert_not_null(buf);
    for (int r = 0; r < records; r++) {
        unsigned char *rec = buf + (size_t)r * 3073;
        rec[0] = (unsigned char)((k + r) % 10);
        for (int p = 0; p < 3072; p++) rec[1 + p] = (unsigned char)((k * 31 + r * 7 + p) & 255);
    }
    write_bytes(tpath(name), buf, n, 0);
    free(buf);
}

static void write_cifar_folder(void) {
    char name[64];
    for (int k = 1; k <= 5; k++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", k);
        write_cifar(name, k, 2, 0);
    }
    write_cifar("test_batch.bin", 0, 3, 0);
}

Test(dataset, cifar_loads_in_order) {
    write_cifar_folder();
    dataset_t d;
    dp_err e = {0};
    cr_assert_eq(cifar10_load(tmpdir, 1, &d, &e), 0, "%s", e.msg);
    cr_assert_eq(d.n, 10);
    cr_assert_eq(d.c, 3);
    cr_assert_eq(d.h, 32);
    cr_assert_eq(d.w, 32);
    cr_assert_eq(d.classes, 10);
    for (int i = 0; i < 10; i++) {
        int k = 1 + i / 2, r = i % 2;
        cr_assert_eq(d.labels[i], (k + r) % 10, "label %d", i);
        for (int p = 0; p < 3072; p += 101)
            cr_assert_eq(d.images[(size_t)i * 3072 + p], (k * 31 + r * 7 + p) & 255);
    }
    dataset_free(&d);
    cr_assert_eq(cifar10_load(tmpdir, 0, &d, &e), 0, "%s", e.msg);
    cr_assert_eq(d.n, 3);
    cr_assert_eq(d.labels[2], 2);
    cr_assert_eq(d.images[2 * 3072 + 1024], (2 * 7 + 1024) & 255); /* green plane, CHW kept */
    dataset_free(&d);

    spec_t s;
    spec_for(&s, "cifar10", tmpdir);
    dataset_t tr, te;
    cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
    cr_assert_eq(tr.n, 10);
    cr_assert_eq(te.n, 3);
    dataset_free(&tr);
    dataset_free(&te);
}

Test(dataset, cifar_bad_size_and_label) {
    write_cifar_folder();
    write_cifar("data_batch_3.bin", 3, 2, -100);
    dataset_t d;
    dp_err e = {0};
    expect_fail(cifar10_load(tmpdir, 1, &d, &e), &e, DP_EIO, tpath("data_batch_3.bin"),
                "not a positive multiple of the 3073-byte");
    cr_assert_null(d.images);
    write_cifar("data_batch_3.bin", 3, 2, 0);
    unlink(tpath("data_batch_5.bin"));
    expect_fail(cifar10_load(tmpdir, 1, &d, &e), &e, DP_EIO, tpath("data_batch_5.bin"),
                "No such file");
    /* Label 10 (CIFAR-100 style) in the test batch's second record. */
    write_cifar("test_batch.bin", 0, 3, 0);
    FILE *f = fopen(tpath("test_batch.bin"), "r+b");
    cr_assert_not_null(f);
    fseek(f, 3073, SEEK_SET);
    fputc(10, f);
    fclose(f);
    expect_fail(cifar10_load(tmpdir, 0, &d, &e), &e, DP_EIO, tpath("test_batch.bin"),
                "record 1 has label 10");
}

/* ---- CIFAR-100 ------------------------------------------------------------------ */

/* Record r: coarse label r % 20, fine label (7 r + 3) % 100, pixel p = (r * 11 + p) & 255. */
static void write_cifar100(const char *name, int records, int extra) {
    size_t n = (size_t)((int64_t)records * 3074 + extra);
    unsigned char *buf = calloc((size_t)records * 3074 + (extra > 0 ? (size_t)extra : 0) + 1, 1);
    cr_assert_not_null(buf);
    for (int r = 0; r < records; r++) {
        unsigned char *rec = buf + (size_t)r * 3074;
        rec[0] = (unsigned char)(r % 20);
        rec[1] = (unsigned char)((7 * r + 3) % 100);
        for (int p = 0; p < 3072; p++) rec[2 + p] = (unsigned char)((r * 11 + p) & 255);
    }
    write_bytes(tpath(name), buf, n, 0);
    free(buf);
}

Test(dataset, cifar100_fine_and_coarse) {
    write_cifar100("train.bin", 30, 0);
    write_cifar100("test.bin", 4, 0);
    dataset_t d;
    dp_err e = {0};
    cr_assert_eq(cifar100_load(tmpdir, 1, 0, &d, &e), 0, "%s", e.msg);
    cr_assert(d.n == 30 && d.c == 3 && d.h == 32 && d.w == 32 && d.classes == 100);
    for (int r = 0; r < 30; r++) {
        cr_assert_eq(d.labels[r], (7 * r + 3) % 100, "fine label %d", r);
        for (int p = 0; p < 3072; p += 97) cr_assert_eq(d.images[(size_t)r * 3072 + p], (r * 11 + p) & 255);
    }
    dataset_free(&d);
    cr_assert_eq(cifar100_load(tmpdir, 0, 1, &d, &e), 0, "%s", e.msg);
    cr_assert(d.n == 4 && d.classes == 20);
    for (int r = 0; r < 4; r++) cr_assert_eq(d.labels[r], r % 20, "coarse label %d", r);
    dataset_free(&d);

    /* By name: data.label picks the byte and the class count; the shape
     * (export and import build from it) agrees without loading. */
    spec_t s;
    spec_for(&s, "cifar100", tmpdir);
    for (int coarse = 0; coarse <= 1; coarse++) {
        s.data.label = coarse ? LABEL_COARSE : LABEL_FINE;
        dataset_t tr, te;
        cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
        cr_assert(tr.n == 30 && te.n == 4);
        cr_assert_eq(tr.classes, coarse ? 20 : 100);
        cr_assert_eq(tr.labels[5], coarse ? 5 : 38);
        int c, h, w, k;
        cr_assert_eq(dataset_shape(&s, &c, &h, &w, &k, &e), 0);
        cr_assert(c == 3 && h == 32 && w == 32 && k == tr.classes);
        batch_cfg_t bc;
        batch_cfg_from_spec(&bc, &s, &tr);
        cr_expect(bc.flip == 1 && bc.mean[0] == 0.5071f && bc.std[2] == 0.2762f);
        dataset_free(&tr), dataset_free(&te);
    }
    cr_assert_str_eq(dataset_default_path("cifar100"), "data/cifar-100-binary");
}

Test(dataset, cifar100_bad_files) {
    write_cifar100("train.bin", 3, 1);
    dataset_t d;
    dp_err e = {0};
    expect_fail(cifar100_load(tmpdir, 1, 0, &d, &e), &e, DP_EIO, tpath("train.bin"),
                "not a positive multiple of the 3074-byte CIFAR-100 record");
    /* A CIFAR-10 batch read as CIFAR-100: its size is not a multiple of the
     * record, or (3074 records) the labels give it away. */
    write_cifar("test.bin", 0, 3, 0);
    expect_fail(cifar100_load(tmpdir, 0, 0, &d, &e), &e, DP_EIO, tpath("test.bin"), "3074-byte");
    write_cifar("test.bin", 0, 3074, 0);
    expect_fail(cifar100_load(tmpdir, 0, 0, &d, &e), &e, DP_EIO, tpath("test.bin"),
                "is this the CIFAR-10 binary version?");
    /* Fine label 100 in record 1. */
    write_cifar100("test.bin", 3, 0);
    FILE *f = fopen(tpath("test.bin"), "r+b");
    cr_assert_not_null(f);
    fseek(f, 3074 + 1, SEEK_SET);
    fputc(100, f);
    fclose(f);
    expect_fail(cifar100_load(tmpdir, 0, 0, &d, &e), &e, DP_EIO, tpath("test.bin"),
                "record 1 has label 100; CIFAR-100 labels are 0..99");
    cr_assert_eq(cifar100_load(tmpdir, 0, 1, &d, &e), 0, "the coarse labels are fine: %s", e.msg);
    dataset_free(&d);
    unlink(tpath("train.bin"));
    spec_t s;
    spec_for(&s, "cifar100", tmpdir);
    dataset_t tr, te;
    expect_fail(dataset_load(&s, &tr, &te, &e), &e, DP_EIO, tpath("train.bin"), "cifar-100-binary");
}

/* data.resize_pad: 0 pixels around each image, so a padded pixel normalises
 * to -mean/std, the value crop padding uses; the shape includes the pad. */
Test(dataset, resize_pad) {
    spec_t s;
    spec_for(&s, "synthetic", "");
    s.data.n_shape = 3;
    s.data.shape[0] = 1, s.data.shape[1] = 6, s.data.shape[2] = 5;
    s.data.classes = 3, s.data.train_size = 10, s.data.test_size = 4;
    dataset_t tr0, te0, tr, te;
    dp_err e = {0};
    cr_assert_eq(dataset_load(&s, &tr0, &te0, &e), 0, "%s", e.msg);
    s.data.resize_pad = 2;
    cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
    cr_assert(tr.h == 10 && tr.w == 9 && te.h == 10 && te.w == 9 && tr.n == 10 && te.n == 4);
    int c, h, w, k;
    cr_assert_eq(dataset_shape(&s, &c, &h, &w, &k, &e), 0);
    cr_assert(c == 1 && h == 10 && w == 9 && k == 3);
    for (int i = 0; i < tr.n; i++)
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 9; x++) {
                int inside = y >= 2 && y < 8 && x >= 2 && x < 7;
                uint8_t want = inside ? tr0.images[(size_t)i * 30 + (y - 2) * 5 + (x - 2)] : 0;
                cr_assert_eq(tr.images[(size_t)i * 90 + y * 9 + x], want, "image %d (%d, %d)", i, y, x);
            }
    cr_assert_eq(memcmp(tr.labels, tr0.labels, 10), 0);
    batch_cfg_t bc = {.c = 1, .mean = {0.3f}, .std = {0.2f}, .normalize = 1};
    float xb[90];
    int32_t y, idx = 0;
    batch_fill(xb, &y, &tr, &idx, 1, &bc, 0, NULL);
    const float zero = 0.0f * (1.0f / (255.0f * 0.2f)) + -0.3f / 0.2f; /* batch_fill's 0 pixel */
    cr_expect_eq(xb[0], zero);
    cr_expect_eq(xb[89], zero);
    dataset_free(&tr0), dataset_free(&te0), dataset_free(&tr), dataset_free(&te);
}

/* ---- the real Fashion-MNIST ------------------------------------------------- */

Test(dataset, real_fashion_mnist) {
    struct stat st;
    if (stat(FMNIST_DIR "/train-images-idx3-ubyte.gz", &st))
        cr_skip_test("Fashion-MNIST not installed at " FMNIST_DIR);
    spec_t s;
    spec_for(&s, "fashion-mnist", "");
    dataset_t tr, te;
    dp_err e = {0};
    cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
    cr_assert_eq(tr.n, 60000);
    cr_assert_eq(te.n, 10000);
    cr_assert(tr.c == 1 && tr.h == 28 && tr.w == 28 && te.h == 28 && te.w == 28);
    cr_assert_eq(tr.classes, 10);
    int htr[10] = {0}, hte[10] = {0};
    for (int i = 0; i < tr.n; i++) htr[tr.labels[i]]++;
    for (int i = 0; i < te.n; i++) hte[te.labels[i]]++;
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(htr[k], 6000, "train class %d", k);
        cr_assert_eq(hte[k], 1000, "test class %d", k);
    }
    /* Known values: first labels (ankle boot, 9) and the first image's sum. */
    cr_assert_eq(tr.labels[0], 9);
    cr_assert_eq(tr.labels[3], 3);
    cr_assert_eq(te.labels[0], 9);
    cr_assert_eq(te.labels[1], 2);
    long sum = 0;
    for (int p = 0; p < 784; p++) sum += tr.images[p];
    cr_assert_eq(sum, 76247);
    /* The default normalisation constants are this set's mean and std. */
    batch_cfg_t bc;
    batch_cfg_from_spec(&bc, &s, &tr);
    double m = 0, q = 0, cnt = (double)tr.n * 784;
    for (size_t i = 0; i < (size_t)tr.n * 784; i++) m += tr.images[i], q += (double)tr.images[i] * tr.images[i];
    m /= cnt;
    double sd = sqrt(q / cnt - m * m);
    cr_assert_float_eq(bc.mean[0], m / 255, 1e-3);
    cr_assert_float_eq(bc.std[0], sd / 255, 1e-3);
    cr_assert_eq(bc.flip, 0);

    /* Random subsets of the real thing: sizes and reproducibility. */
    dataset_free(&tr);
    dataset_free(&te);
    s.data.train_subset = 1000;
    s.data.test_subset = 500;
    s.data.subset = SUBSET_RANDOM;
    cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
    cr_assert_eq(tr.n, 1000);
    cr_assert_eq(te.n, 500);
    dataset_t tr2, te2;
    cr_assert_eq(dataset_load(&s, &tr2, &te2, &e), 0, "%s", e.msg);
    cr_assert_eq(memcmp(tr.images, tr2.images, 1000 * 784), 0);
    cr_assert_eq(memcmp(te.labels, te2.labels, 500), 0);
    dataset_free(&tr);
    dataset_free(&te);
    dataset_free(&tr2);
    dataset_free(&te2);
}

/* ---- synthetic ---------------------------------------------------------------- */

static int same_set(const dataset_t *a, const dataset_t *b) {
    size_t P = (size_t)a->c * a->h * a->w;
    return a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w &&
           !memcmp(a->images, b->images, a->n * P) && !memcmp(a->labels, b->labels, (size_t)a->n);
}

/* Nearest class mean (a linear classifier) fitted on tr, accuracy on te. */
static double nearest_centroid_acc(const dataset_t *tr, const dataset_t *te) {
    size_t P = (size_t)tr->c * tr->h * tr->w;
    int K = tr->classes;
    double *cen = calloc((size_t)K * P, sizeof(double));
    int *cnt = calloc((size_t)K, sizeof(int));
    cr_assert(cen && cnt);
    for (int i = 0; i < tr->n; i++) {
        cnt[tr->labels[i]]++;
        for (size_t j = 0; j < P; j++) cen[tr->labels[i] * P + j] += tr->images[i * P + j];
    }
    for (int k = 0; k < K; k++)
        for (size_t j = 0; j < P; j++) cen[k * P + j] /= cnt[k] ? cnt[k] : 1;
    int ok = 0;
    for (int i = 0; i < te->n; i++) {
        int best = -1;
        double bd = INFINITY;
        for (int k = 0; k < K; k++) {
            double d = 0;
            for (size_t j = 0; j < P; j++) {
                double t = te->images[i * P + j] - cen[k * P + j];
                d += t * t;
            }
            if (d < bd) bd = d, best = k;
        }
        ok += best == te->labels[i];
    }
    free(cen);
    free(cnt);
    return (double)ok / te->n;
}

Test(dataset, synthetic_deterministic) {
    dataset_t a, b, c, d, t1, t2;
    dp_err e = {0};
    cr_assert_eq(synthetic_make(&a, &b, 1, 12, 12, 10, 300, 100, 42, &e), 0, "%s", e.msg);
    cr_assert_eq(synthetic_make(&c, &d, 1, 12, 12, 10, 300, 100, 42, &e), 0, "%s", e.msg);
    cr_assert(same_set(&a, &c), "same seed, same train bytes");
    cr_assert(same_set(&b, &d), "same seed, same test bytes");
    cr_assert_neq(memcmp(a.images, b.images, 100 * 144), 0, "train and test samples differ");
    dataset_free(&c);
    dataset_free(&d);
    cr_assert_eq(synthetic_make(&c, &d, 1, 12, 12, 10, 300, 100, 43, &e), 0, "%s", e.msg);
    cr_assert_neq(memcmp(a.images, c.images, 300 * 144), 0, "different seed, different bytes");
    dataset_free(&c);
    dataset_free(&d);
    /* Prefix-stable: a smaller train set is a prefix; the test set is unchanged. */
    cr_assert_eq(synthetic_make(&t1, &t2, 1, 12, 12, 10, 50, 100, 42, &e), 0, "%s", e.msg);
    cr_assert_eq(memcmp(t1.images, a.images, 50 * 144), 0);
    cr_assert(same_set(&t2, &b));
    /* Shape, classes, balanced cycling labels. */
    cr_assert(a.c == 1 && a.h == 12 && a.w == 12 && a.classes == 10 && a.n == 300 && b.n == 100);
    for (int i = 0; i < a.n; i++) cr_assert_eq(a.labels[i], i % 10);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&t1);
    dataset_free(&t2);
}

Test(dataset, synthetic_learnable_not_trivial) {
    dataset_t tr, te;
    dp_err e = {0};
    cr_assert_eq(synthetic_make(&tr, &te, 1, 28, 28, 10, 5000, 1000, 1, &e), 0, "%s", e.msg);
    double acc = nearest_centroid_acc(&tr, &te);
    cr_assert(acc > 0.95 && acc < 0.999, "nearest-centroid test accuracy %.4f", acc);
    /* Noisy: a single training sample as the "centroid" is a poor classifier. */
    dataset_t one = tr;
    one.n = 10;
    double acc1 = nearest_centroid_acc(&one, &te);
    cr_assert(acc1 < 0.9, "one-shot accuracy %.4f", acc1);
    dataset_free(&tr);
    dataset_free(&te);
    /* Colour images work too. */
    cr_assert_eq(synthetic_make(&tr, &te, 3, 16, 16, 5, 500, 200, 7, &e), 0, "%s", e.msg);
    acc = nearest_centroid_acc(&tr, &te);
    cr_assert(acc > 0.9, "3-channel accuracy %.4f", acc);
    dataset_free(&tr);
    dataset_free(&te);
}

Test(dataset, synthetic_bad_args) {
    dataset_t tr, te;
    dp_err e = {0};
    expect_fail(synthetic_make(&tr, &te, 5, 8, 8, 10, 10, 10, 1, &e), &e, DP_EUSAGE, NULL, "channels");
    expect_fail(synthetic_make(&tr, &te, 1, 8, 8, 1, 10, 10, 1, &e), &e, DP_EUSAGE, NULL, "classes");
    expect_fail(synthetic_make(&tr, &te, 1, 8, 8, 10, 0, 10, 1, &e), &e, DP_EUSAGE, NULL, "train_size");
}

Test(dataset, load_synthetic_from_spec) {
    spec_t s;
    spec_for(&s, "synthetic", "");
    s.data.n_shape = 3;
    s.data.shape[0] = 2, s.data.shape[1] = 6, s.data.shape[2] = 5;
    s.data.classes = 4;
    s.data.train_size = 80;
    s.data.test_size = 40;
    s.data.train_subset = 20;
    dataset_t tr, te;
    dp_err e = {0};
    cr_assert_eq(dataset_load(&s, &tr, &te, &e), 0, "%s", e.msg);
    cr_assert(tr.n == 20 && te.n == 40 && tr.c == 2 && tr.h == 6 && tr.w == 5);
    cr_assert(tr.classes == 4 && te.classes == 4);
    /* Synthetic normalisation: measured on the training set. */
    batch_cfg_t bc;
    batch_cfg_from_spec(&bc, &s, &tr);
    cr_assert_eq(bc.c, 2);
    for (int ch = 0; ch < 2; ch++) {
        double m = 0, q = 0;
        for (int i = 0; i < tr.n; i++)
            for (int p = 0; p < 30; p++) {
                double v = tr.images[(i * 2 + ch) * 30 + p] / 255.0;
                m += v, q += v * v;
            }
        m /= tr.n * 30;
        double sd = sqrt(q / (tr.n * 30) - m * m);
        cr_assert_float_eq(bc.mean[ch], m, 1e-6);
        cr_assert_float_eq(bc.std[ch], sd, 1e-6);
    }
    /* Normalised batch has mean ~0, std ~1 per channel. */
    float *x = calloc((size_t)tr.n * 60, sizeof(float));
    int32_t y[20], idx[20];
    for (int i = 0; i < 20; i++) idx[i] = i;
    batch_fill(x, y, &tr, idx, 20, &bc, 0, NULL);
    double m = 0, q = 0;
    for (int i = 0; i < 20; i++)
        for (int p = 0; p < 30; p++) m += x[i * 60 + p], q += (double)x[i * 60 + p] * x[i * 60 + p];
    cr_assert_float_eq(m / 600, 0.0, 1e-5);
    cr_assert_float_eq(q / 600, 1.0, 1e-4);
    free(x);
    dataset_free(&tr);
    dataset_free(&te);
}

/* ---- subsets ----------------------------------------------------------------- */

/* n images of 1 x 2 x 2 whose pixels all encode the index; labels i % 10. */
static void make_indexed(dataset_t *d, int n) {
    d->n = n, d->c = 1, d->h = 2, d->w = 2, d->classes = 10;
    d->images = malloc((size_t)n * 4);
    d->labels = malloc((size_t)n);
    cr_assert(d->images && d->labels);
    for (int i = 0; i < n; i++) {
        for (int p = 0; p < 4; p++) d->images[i * 4 + p] = (uint8_t)(i + p);
        d->labels[i] = (uint8_t)(i % 10);
    }
}

Test(dataset, subset_first) {
    dataset_t d;
    dp_err e = {0};
    make_indexed(&d, 200);
    cr_assert_eq(dataset_subset(&d, 500, 0, 1, &e), 0);
    cr_assert_eq(d.n, 200, "n >= size keeps all");
    cr_assert_eq(dataset_subset(&d, 37, 0, 1, &e), 0);
    cr_assert_eq(d.n, 37);
    for (int i = 0; i < 37; i++) {
        cr_assert_eq(d.images[i * 4 + 3], (uint8_t)(i + 3));
        cr_assert_eq(d.labels[i], i % 10);
    }
    expect_fail(dataset_subset(&d, 0, 0, 1, &e), &e, DP_EUSAGE, NULL, NULL);
    dataset_free(&d);
}

Test(dataset, subset_random) {
    dataset_t a, b, c;
    dp_err e = {0};
    make_indexed(&a, 250);
    make_indexed(&b, 250);
    make_indexed(&c, 250);
    cr_assert_eq(dataset_subset(&a, 60, 1, 9, &e), 0);
    cr_assert_eq(dataset_subset(&b, 60, 1, 9, &e), 0);
    cr_assert_eq(dataset_subset(&c, 60, 1, 10, &e), 0);
    cr_assert(a.n == 60 && b.n == 60 && c.n == 60);
    cr_assert_eq(memcmp(a.images, b.images, 240), 0, "same seed, same subset");
    cr_assert_neq(memcmp(a.images, c.images, 240), 0, "different seed, different subset");
    /* Kept samples are intact, distinct, in the original order, and not
     * just the first ones. */
    int last = -1, maxi = 0;
    for (int i = 0; i < 60; i++) {
        int orig = a.images[i * 4];
        for (int p = 0; p < 4; p++) cr_assert_eq(a.images[i * 4 + p], (uint8_t)(orig + p));
        cr_assert_eq(a.labels[i], orig % 10);
        cr_assert_gt(orig, last, "order preserved");
        last = orig;
        if (orig > maxi) maxi = orig;
    }
    cr_assert_gt(maxi, 150);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&c);
}

Test(dataset, subset_random_uniform) {
    /* Each of 20 samples is kept with probability 5/20 over many seeds. */
    int hits[20] = {0};
    dp_err e = {0};
    for (int seed = 0; seed < 4000; seed++) {
        dataset_t d;
        make_indexed(&d, 20);
        cr_assert_eq(dataset_subset(&d, 5, 1, (uint64_t)seed, &e), 0);
        cr_assert_eq(d.n, 5);
        for (int i = 0; i < 5; i++) hits[d.images[i * 4]]++;
        dataset_free(&d);
    }
    for (int i = 0; i < 20; i++) /* mean 1000, sd ~27 */
        cr_assert(hits[i] > 880 && hits[i] < 1120, "sample %d kept %d times of 4000", i, hits[i]);
}

/* ---- batches ------------------------------------------------------------------ */

Test(dataset, batch_normalisation_by_hand) {
    uint8_t img[2 * 4] = {0, 51, 255, 128, 10, 20, 30, 40};
    uint8_t lab[2] = {3, 8};
    dataset_t d = {.n = 2, .c = 1, .h = 2, .w = 2, .classes = 10, .images = img, .labels = lab};
    batch_cfg_t bc = {.c = 1, .mean = {0.5f}, .std = {0.25f}, .normalize = 1, .crop_pad = 2,
                      .flip = 1};
    float x[8];
    int32_t y[2], idx[2] = {1, 0};
    rng_t r;
    rng_init(&r, 1, 99);
    batch_fill(x, y, &d, idx, 2, &bc, 0, &r); /* augment off: crop/flip ignored */
    cr_assert(y[0] == 8 && y[1] == 3);
    for (int b = 0; b < 2; b++)
        for (int p = 0; p < 4; p++) {
            double want = (img[idx[b] * 4 + p] / 255.0 - 0.5) / 0.25;
            cr_assert_float_eq(x[b * 4 + p], want, 1e-5, "b %d p %d: %f vs %f", b, p, x[b * 4 + p], want);
        }
    cr_assert_float_eq(x[4], -2.0, 1e-6);
    cr_assert_float_eq(x[6], 2.0, 1e-6);
    batch_fill(x, y, &d, idx, 2, &bc, 1, NULL); /* no rng: no augmentation either */
    cr_assert_float_eq(x[4], -2.0, 1e-6);
    cr_assert_float_eq(x[5], (51 / 255.0 - 0.5) / 0.25, 1e-5);
    bc.normalize = 0;
    batch_fill(x, y, &d, idx, 2, &bc, 0, NULL);
    for (int p = 0; p < 4; p++) cr_assert_float_eq(x[4 + p], img[p] / 255.0, 1e-6);
}

Test(dataset, batch_per_channel) {
    uint8_t img[3] = {100, 100, 100}; /* 3 channels of 1 x 1 */
    uint8_t lab[1] = {0};
    dataset_t d = {.n = 1, .c = 3, .h = 1, .w = 1, .classes = 10, .images = img, .labels = lab};
    spec_t s;
    spec_for(&s, "cifar10", "");
    batch_cfg_t bc;
    batch_cfg_from_spec(&bc, &s, &d);
    cr_assert_eq(bc.c, 3);
    cr_assert_eq(bc.flip, 1, "flip on by default for cifar10");
    cr_assert_float_eq(bc.mean[2], 0.4465f, 1e-7);
    cr_assert_float_eq(bc.std[1], 0.2435f, 1e-7);
    float x[3];
    int32_t y, idx = 0;
    batch_fill(x, &y, &d, &idx, 1, &bc, 0, NULL);
    const double m[3] = {0.4914, 0.4822, 0.4465}, sd[3] = {0.2470, 0.2435, 0.2616};
    for (int ch = 0; ch < 3; ch++) cr_assert_float_eq(x[ch], (100 / 255.0 - m[ch]) / sd[ch], 1e-5);
    /* One value broadcast to all channels; explicit flip off. */
    s.data.n_mean = 1, s.data.mean[0] = 0.5f;
    s.data.n_std = 3, s.data.std[0] = 0.1f, s.data.std[1] = 0.2f, s.data.std[2] = 0.4f;
    s.data.flip = 0;
    s.data.crop_pad = 4;
    batch_cfg_from_spec(&bc, &s, &d);
    cr_assert(bc.mean[0] == 0.5f && bc.mean[1] == 0.5f && bc.mean[2] == 0.5f);
    cr_assert(bc.std[0] == 0.1f && bc.std[2] == 0.4f);
    cr_assert(bc.flip == 0 && bc.crop_pad == 4 && bc.normalize == 1);
    /* Fashion-MNIST / MNIST defaults. */
    dataset_t g = {.n = 1, .c = 1, .h = 1, .w = 1, .images = img, .labels = lab};
    spec_for(&s, "fashion-mnist", "");
    batch_cfg_from_spec(&bc, &s, &g);
    cr_assert(bc.c == 1 && bc.flip == 0);
    cr_assert_float_eq(bc.mean[0], 0.2860f, 1e-7);
    cr_assert_float_eq(bc.std[0], 0.3530f, 1e-7);
    spec_for(&s, "mnist", "");
    s.data.flip = 1;
    batch_cfg_from_spec(&bc, &s, &g);
    cr_assert_eq(bc.flip, 1);
    cr_assert_float_eq(bc.mean[0], 0.1307f, 1e-7);
    cr_assert_float_eq(bc.std[0], 0.3081f, 1e-7);
}

/* 1 x 4 x 5 image with pixel (i, j) = 10 + 10 i + j (all distinct, no zeros). */
static uint8_t crop_img[20];
static uint8_t crop_lab[1] = {5};
static dataset_t crop_set(void) {
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++) crop_img[i * 5 + j] = (uint8_t)(10 + 10 * i + j);
    return (dataset_t){.n = 1, .c = 1, .h = 4, .w = 5, .classes = 10, .images = crop_img,
                       .labels = crop_lab};
}

/* Which (dy, dx, flip) explains out, or -1 if none does. Encodes
 * (dy + pad) * 100 + (dx + pad) * 10 + flip. */
static int explain(const float *out, int pad, const batch_cfg_t *bc) {
    float padv = -bc->mean[0] / bc->std[0];
    for (int dy = -pad; dy <= pad; dy++)
        for (int dx = -pad; dx <= pad; dx++)
            for (int fl = 0; fl <= 1; fl++) {
                int ok = 1;
                for (int i = 0; i < 4 && ok; i++)
                    for (int j = 0; j < 5 && ok; j++) {
                        int si = i + dy, sj = (fl ? 4 - j : j) + dx;
                        float want = si < 0 || si >= 4 || sj < 0 || sj >= 5
                                         ? padv
                                         : (crop_img[si * 5 + sj] / 255.0f - bc->mean[0]) / bc->std[0];
                        ok = fabsf(out[i * 5 + j] - want) < 1e-5f;
                    }
                if (ok) return (dy + pad) * 100 + (dx + pad) * 10 + fl;
            }
    return -1;
}

Test(dataset, batch_crop) {
    dataset_t d = crop_set();
    batch_cfg_t bc = {.c = 1, .mean = {0.3f}, .std = {0.2f}, .normalize = 1, .crop_pad = 1, .flip = 0};
    rng_t r;
    rng_init(&r, 5, 77);
    int seen[3][3] = {{0}};
    float x[20];
    int32_t y, idx = 0;
    for (int t = 0; t < 500; t++) {
        batch_fill(x, &y, &d, &idx, 1, &bc, 1, &r);
        cr_assert_eq(y, 5);
        int k = explain(x, 1, &bc);
        cr_assert_geq(k, 0, "output %d is no shifted copy of the input", t);
        cr_assert_eq(k % 10, 0, "no flip when flip is off");
        seen[k / 100][(k / 10) % 10]++;
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) /* 500 / 9 = 55 expected */
            cr_assert(seen[a][b] > 25, "offset (%d, %d) seen %d times", a - 1, b - 1, seen[a][b]);
    /* A known shift checked pixel by pixel: find a draw with dy = 1, dx = -1,
     * so out(i, j) = in(i + 1, j - 1), the last row and first column padded
     * with the normalised value of a 0 pixel. */
    for (int t = 0; t < 1000; t++) {
        batch_fill(x, &y, &d, &idx, 1, &bc, 1, &r);
        if (explain(x, 1, &bc) != 200) continue;
        float padv = (0.0f - 0.3f) / 0.2f;
        for (int j = 0; j < 5; j++) cr_assert_float_eq(x[3 * 5 + j], padv, 1e-6);
        for (int i = 0; i < 4; i++) cr_assert_float_eq(x[i * 5], padv, 1e-6);
        cr_assert_float_eq(x[0 * 5 + 1], (crop_img[1 * 5 + 0] / 255.0 - 0.3) / 0.2, 1e-5);
        cr_assert_float_eq(x[2 * 5 + 4], (crop_img[3 * 5 + 3] / 255.0 - 0.3) / 0.2, 1e-5);
        return;
    }
    cr_assert_fail("shift (1, -1) never drawn");
}

Test(dataset, batch_flip) {
    dataset_t d = crop_set();
    batch_cfg_t bc = {.c = 1, .mean = {0.0f}, .std = {1.0f}, .normalize = 1, .crop_pad = 0, .flip = 1};
    rng_t r;
    rng_init(&r, 6, 77);
    int flips = 0;
    float x[20];
    int32_t y, idx = 0;
    for (int t = 0; t < 1000; t++) {
        batch_fill(x, &y, &d, &idx, 1, &bc, 1, &r);
        int k = explain(x, 0, &bc);
        cr_assert(k == 0 || k == 1, "neither the image nor its mirror (%d)", k);
        if (k == 1) {
            /* Mirror: out(i, j) = in(i, 4 - j). */
            cr_assert_float_eq(x[2 * 5 + 0], crop_img[2 * 5 + 4] / 255.0, 1e-6);
            cr_assert_float_eq(x[1 * 5 + 3], crop_img[1 * 5 + 1] / 255.0, 1e-6);
        }
        flips += k;
    }
    cr_assert(flips > 430 && flips < 570, "%d flips in 1000", flips);
    /* Crop and flip together: every output is a flipped and/or shifted copy. */
    bc.crop_pad = 2;
    int both = 0;
    for (int t = 0; t < 300; t++) {
        batch_fill(x, &y, &d, &idx, 1, &bc, 1, &r);
        int k = explain(x, 2, &bc);
        cr_assert_geq(k, 0);
        both += (k % 10) && k / 10 != 22;
    }
    cr_assert_gt(both, 50);
}

Test(dataset, batch_augment_deterministic) {
    dataset_t d = crop_set();
    batch_cfg_t bc = {.c = 1, .mean = {0.3f}, .std = {0.2f}, .normalize = 1, .crop_pad = 2, .flip = 1};
    float x1[20 * 3], x2[20 * 3];
    int32_t y[3], idx[3] = {0, 0, 0};
    rng_t r1, r2;
    rng_init(&r1, 11, 16);
    rng_init(&r2, 11, 16);
    for (int t = 0; t < 10; t++) {
        batch_fill(x1, y, &d, idx, 3, &bc, 1, &r1);
        batch_fill(x2, y, &d, idx, 3, &bc, 1, &r2);
        cr_assert_eq(memcmp(x1, x2, sizeof x1), 0);
    }
}

/* ---- epoch permutation -------------------------------------------------------- */

static int is_perm(const int32_t *p, int n) {
    char *seen = calloc((size_t)n, 1);
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        ok = p[i] >= 0 && p[i] < n && !seen[p[i]];
        if (ok) seen[p[i]] = 1;
    }
    free(seen);
    return ok;
}

Test(dataset, epoch_permutation_properties) {
    enum { N = 1000 };
    static int32_t a[N], b[N], c[N], d[N];
    epoch_permutation(a, N, 7, 0);
    epoch_permutation(b, N, 7, 0);
    epoch_permutation(c, N, 7, 1);
    epoch_permutation(d, N, 8, 0);
    cr_assert(is_perm(a, N) && is_perm(c, N) && is_perm(d, N));
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "same (seed, epoch), same order");
    cr_assert_neq(memcmp(a, c, sizeof a), 0, "epoch changes the order");
    cr_assert_neq(memcmp(a, d, sizeof a), 0, "seed changes the order");
    int fixed = 0;
    for (int i = 0; i < N; i++) fixed += a[i] == i;
    cr_assert_lt(fixed, 10, "shuffled, not identity (%d fixed points)", fixed);
    /* Matches the documented recipe exactly. */
    for (int i = 0; i < N; i++) b[i] = i;
    rng_t r;
    rng_init(&r, 7, RNG_STREAM_SHUFFLE + 3 * 1000003ull);
    rng_shuffle_i32(&r, b, N);
    epoch_permutation(a, N, 7, 3);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    int32_t one[1];
    epoch_permutation(one, 1, 7, 5);
    cr_assert_eq(one[0], 0);
}
