/* build_info.h - which build of dppf this is: version, git commit, the BLIS
 * kernel configuration in use, the MPI library, compiler and flags.
 *
 * `dppf --version` prints it; every run's spec.yaml starts with it as a
 * comment line and figures carry it in their metadata, so a result says what
 * made it. The git commit is taken by CMake at build time (cmake/
 * git_version.cmake: `git describe --always --dirty`, "unknown" outside a
 * checkout). Not stored in checkpoints: their bytes stay build-independent. */
#ifndef DPPF_BUILD_INFO_H
#define DPPF_BUILD_INFO_H

#include <stddef.h>

typedef struct {
    char version[32];   /* "0.1.0" */
    char git[96];       /* "5ee8795-dirty" or "unknown" */
    char blis[32];      /* gemm_kernels(): "skx", "haswell", "generic", ... */
    char mpi[256];      /* the MPI library's version line */
    char compiler[128]; /* "GNU 12.2.0" */
    char flags[512];    /* the C compile flags of the build */
    char build_type[32];
} build_info;

void build_info_get(build_info *b);

/* The whole as one line, for comments and metadata:
 * "dppf 0.1.0 (git 5ee8795), BLIS kernels skx, Open MPI v4.1.4, GNU 12.2.0 -O3 ..." */
void build_info_line(char *buf, size_t size);

#endif
