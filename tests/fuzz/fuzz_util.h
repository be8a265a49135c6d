/* fuzz_util.h - helpers shared by the libFuzzer harnesses: inputs handed to
 * readers that only take a path (memfd + /proc/self/fd), gzip in memory, and
 * a loud abort for broken invariants (libFuzzer reports it as a crash). */
#ifndef DPPF_FUZZ_UTIL_H
#define DPPF_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"

#define FUZZ_CHECK(cond, ...)                                                     \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* A failed call must say why: its code is the one returned, the message is set. */
static inline void fuzz_check_err(int rc, const dp_err *e) {
    FUZZ_CHECK(rc == e->code, "returned %d, recorded %d (%s)", rc, e->code, e->msg);
    FUZZ_CHECK(memchr(e->msg, '\0', sizeof e->msg) && e->msg[0], "no error message for code %d", rc);
}

/* n bytes in an anonymous memory file; its path is written to path. -1 on failure
 * (the harness then skips the input: an environment problem, not a finding). */
static inline int fuzz_memfd(const void *p, size_t n, char *path, size_t path_size) {
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0) return -1;
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        c += w, n -= (size_t)w;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

/* gzip (not zlib) stream of n bytes into a malloc'd buffer; NULL on failure. */
static inline unsigned char *fuzz_gzip(const void *p, size_t n, size_t *out_len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

#endif
