/* fuzz_checkpoint - the checkpoint reader and its verification (size, magic,
 * version, CRC, declared counts against the file size), from memory.
 *
 * Input: one flag byte, then the file image. Flag bit 0 makes the harness
 * write a correct CRC over the image first; without it random mutations
 * almost never get past the checksum, and the count checks behind it are
 * what must hold against a crafted file. A checkpoint that loads must have
 * the field invariants checkpoint_parse promises, and has its stored spec
 * parsed as `dppf eval/landscape` do. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint.h"
#include "fuzz_util.h"
#include "spec.h"

/* Reads every element: ASan checks that each array has its declared size. */
static void touch(const void *p, uint64_t bytes) {
    const volatile unsigned char *c = p; /* volatile: the reads are not optimised away */
    for (uint64_t i = 0; i < bytes; i++) (void)c[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int fix_crc = data[0] & 1;
    size_t n = size - 1;
    unsigned char *img = malloc(n ? n : 1);
    if (!img) return 0;
    memcpy(img, data + 1, n);
    if (fix_crc && n >= 4) {
        uint32_t crc = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), img, n - 4);
        memcpy(img + n - 4, &crc, 4);
    }
    checkpoint_t c;
    dp_err e = {0};
    int rc = checkpoint_parse(img, n, "fuzz.bin", &c, &e);
    free(img);
    if (rc) {
        fuzz_check_err(rc, &e);
        FUZZ_CHECK(rc == DP_EIO || rc == DP_ENOMEM, "code %d: %s", rc, e.msg);
        return 0;
    }
    /* What every reader may then trust (checkpoint_parse's field checks).
     * n_rng may be 0: eval, sharpness and landscape need no random streams,
     * and a resume checks their count against the run (run/runstate.c). */
    FUZZ_CHECK(c.n_workers >= 1 && c.step >= 0 && c.epoch >= 0 && c.epoch <= c.step,
               "accepted workers %u step %lld epoch %lld", c.n_workers, (long long)c.step,
               (long long)c.epoch);
    FUZZ_CHECK(c.wall_seconds >= 0 && c.wall_seconds <= DBL_MAX, "accepted wall_seconds %g", c.wall_seconds);
    for (uint64_t i = 0; i < c.n_params; i++) FUZZ_CHECK(c.avg_params[i] - c.avg_params[i] == 0, "NaN/Inf accepted");
    uint64_t W = c.n_workers;
    touch(c.spec_yaml, strlen(c.spec_yaml) + 1);
    touch(c.avg_params, c.n_params * 4);
    touch(c.avg_buffers, c.n_buffers * 4);
    touch(c.worker_params, W * c.n_params * 4);
    touch(c.worker_buffers, W * c.n_buffers * 4);
    touch(c.worker_opt, W * c.n_opt * 4);
    touch(c.rng, W * c.n_rng * 32);
    touch(c.extra, c.n_extra * 4);
    spec_t s;
    spec_defaults(&s);
    rc = spec_load_string(&s, c.spec_yaml, "fuzz.bin (stored spec)", &e);
    if (rc) fuzz_check_err(rc, &e);
    checkpoint_free(&c);
    return 0;
}
