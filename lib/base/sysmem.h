/* sysmem.h - how much memory this process may still use: the smallest of
 * the memory the kernel reports available, the room left under the process's
 * cgroup limit (v1 or v2) and its address-space limit (ulimit -v). Checked
 * before a run allocates, so that a run too large for the machine is refused
 * at once with the numbers instead of being killed by the OOM killer later. */
#ifndef DPPF_SYSMEM_H
#define DPPF_SYSMEM_H

#include <stdint.h>

typedef struct {
    uint64_t avail;     /* the smallest of the limits below that are known, bytes */
    const char *source; /* which one it is: "MemAvailable", "cgroup limit", "ulimit -v" */
} sysmem_t;

/* 0 when nothing is known (avail = UINT64_MAX). */
int sysmem_available(sysmem_t *m);

#endif
