/* build_info.c - see build_info.h. */
#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "comm.h"
#include "dppf_build_config.h"
#include "dppf_git.h"
#include "gemm.h"

void build_info_get(build_info *b) {
    memset(b, 0, sizeof *b);
    snprintf(b->version, sizeof b->version, "%s", DPPF_VERSION);
    snprintf(b->git, sizeof b->git, "%s", DPPF_GIT);
    snprintf(b->blis, sizeof b->blis, "%s", gemm_kernels());
    comm_library_version(b->mpi, sizeof b->mpi);
    snprintf(b->compiler, sizeof b->compiler, "%s", DPPF_COMPILER);
    snprintf(b->flags, sizeof b->flags, "%s", DPPF_C_FLAGS);
    snprintf(b->build_type, sizeof b->build_type, "%s", DPPF_BUILD_TYPE);
}

void build_info_line(char *buf, size_t size) {
    build_info b;
    build_info_get(&b);
    /* the MPI line up to its first comma: "Open MPI v4.1.4" */
    snprintf(buf, size, "dppf %s (git %s), BLIS kernels %s, %.*s, %s %s", b.version, b.git, b.blis,
             (int)strcspn(b.mpi, ","), b.mpi, b.compiler, b.flags);
}
