/* checkpoint.h - the binary checkpoint: everything needed to evaluate the
 * model, resume the run bit for bit, or study the workers' geometry.
 *
 * File layout (little-endian), version 1:
 *   magic "DPPFCKPT" (8 bytes), u32 version, u32 reserved (0)
 *   u64 spec_len, spec_len bytes of resolved YAML spec (not NUL-terminated)
 *   u32 n_workers, u32 n_rng (rng states per worker, 4 x u64 each)
 *   u64 n_params, u64 n_buffers, u64 n_opt (optimizer floats per worker), u64 n_extra
 *   i64 epoch, i64 step (completed), f64 wall_seconds
 *   f32 avg_params[n_params], f32 avg_buffers[n_buffers]
 *   f32 worker_params[n_workers][n_params], f32 worker_buffers[n_workers][n_buffers]
 *   f32 worker_opt[n_workers][n_opt]
 *   u64 rng[n_workers][n_rng][4]
 *   f32 extra[n_extra]             (algorithm state, e.g. the EASGD centre)
 *   u32 crc32 of every byte before it (zlib crc32)
 * Written to "<path>.tmp.<pid>", fsync'd, then renamed over <path>. */
#ifndef DPPF_CHECKPOINT_H
#define DPPF_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CHECKPOINT_VERSION 1

typedef struct {
    char *spec_yaml; /* NUL-terminated when read */
    uint32_t n_workers, n_rng;
    uint64_t n_params, n_buffers, n_opt, n_extra;
    int64_t epoch, step;
    double wall_seconds;
    float *avg_params, *avg_buffers;
    float *worker_params, *worker_buffers, *worker_opt;
    uint64_t *rng;
    float *extra;
} checkpoint_t;

/* Atomic write. All arrays must be present for the sizes given (NULL allowed
 * only when the matching count is 0). */
int checkpoint_write(const char *path, const checkpoint_t *c, dp_err *e);
/* Reads and verifies (size, magic, version, CRC) before trusting any field;
 * allocates every array. On error nothing is allocated. */
int checkpoint_read(const char *path, checkpoint_t *c, dp_err *e);
/* The same checks on a file image already in memory (`path` names it in
 * messages); used by checkpoint_read and the fuzz harness. */
int checkpoint_parse(const void *buf, size_t size, const char *path, checkpoint_t *c, dp_err *e);
void checkpoint_free(checkpoint_t *c);

#endif
