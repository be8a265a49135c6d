/* fuzz_idx - the IDX reader (MNIST / Fashion-MNIST images + labels), plain
 * and gzip, through the path-taking idx_load (inputs live in memfds).
 *
 * Input: flag byte, u32 little-endian length L of the image file, L bytes of
 * image file, then the label file. Flag bit 0 / bit 1: the harness gzips the
 * image / label file first (mutating a gzip stream directly mostly breaks
 * its CRC; raw .gz inputs are read too, zlib detects them). Bits 2..7: the
 * crop padding used when the loaded set is turned into a batch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "fuzz_dataset.h"
#include "fuzz_util.h"

/* Writes one file (gzipped when asked) to a memfd; -1 if that fails. */
static int file_fd(const uint8_t *p, size_t n, int gz, char *path, size_t path_size) {
    if (!gz) return fuzz_memfd(p, n, path, path_size);
    size_t zn;
    unsigned char *z = fuzz_gzip(p, n, &zn);
    if (!z) return -1;
    int fd = fuzz_memfd(z, zn, path, path_size);
    free(z);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 5) return 0;
    uint8_t flags = data[0];
    uint32_t len;
    memcpy(&len, data + 1, 4);
    const uint8_t *img = data + 5;
    size_t rest = size - 5, img_n = len < rest ? len : rest;
    char img_path[64], lab_path[64];
    int fi = file_fd(img, img_n, flags & 1, img_path, sizeof img_path);
    int fl = file_fd(img + img_n, rest - img_n, flags & 2, lab_path, sizeof lab_path);
    if (fi >= 0 && fl >= 0) {
        dataset_t d;
        dp_err e = {0};
        int rc = idx_load(img_path, lab_path, &d, &e);
        if (rc) {
            fuzz_check_err(rc, &e);
            FUZZ_CHECK(rc == DP_EIO || rc == DP_ENOMEM, "code %d: %s", rc, e.msg);
        } else {
            fuzz_use_dataset(&d, flags >> 2, size);
            dataset_free(&d);
        }
    }
    if (fi >= 0) close(fi);
    if (fl >= 0) close(fl);
    return 0;
}
