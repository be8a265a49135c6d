/* fuzz_cifar - the CIFAR-10 binary batch reader (cifar10_load), which takes a
 * folder, so each input is written to a fresh temporary folder ($TMPDIR,
 * else /dev/shm, else /tmp).
 *
 * Input: flag byte, then file bytes. Flag bit 0 clear: the bytes are
 * test_batch.bin; set: they are split into five equal parts,
 * data_batch_1..5.bin (the training set). Bits 1..7: crop padding for the
 * batch made from the loaded set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "fuzz_dataset.h"
#include "fuzz_util.h"

static int write_file(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int train = data[0] & 1;
    /* Memory-backed /dev/shm when there is one: on disk this runs 7x slower. */
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char dir[512], path[5][600];
    snprintf(dir, sizeof dir, "%s/fuzz_cifar_XXXXXX", base);
    if (!mkdtemp(dir)) return 0;
    int nfiles = train ? 5 : 1, ok = 1;
    size_t n = size - 1;
    for (int k = 0; k < nfiles; k++) {
        if (train) snprintf(path[k], sizeof path[k], "%s/data_batch_%d.bin", dir, k + 1);
        else snprintf(path[k], sizeof path[k], "%s/test_batch.bin", dir);
        size_t lo = n * (size_t)k / (size_t)nfiles, hi = n * (size_t)(k + 1) / (size_t)nfiles;
        if (write_file(path[k], data + 1 + lo, hi - lo)) ok = 0;
    }
    if (ok) {
        dataset_t d;
        dp_err e = {0};
        int rc = cifar10_load(dir, train, &d, &e);
        if (rc) {
            fuzz_check_err(rc, &e);
            FUZZ_CHECK(rc == DP_EIO || rc == DP_ENOMEM, "code %d: %s", rc, e.msg);
        } else {
            FUZZ_CHECK(d.c == 3 && d.h == 32 && d.w == 32 && d.n == (int)(n / 3073),
                       "%d samples of %d x %d x %d from %zu bytes", d.n, d.c, d.h, d.w, n);
            fuzz_use_dataset(&d, data[0] >> 1, size);
            dataset_free(&d);
        }
    }
    for (int k = 0; k < nfiles; k++) remove(path[k]);
    rmdir(dir);
    return 0;
}
