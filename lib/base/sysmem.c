#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "sysmem.h"

/* The first unsigned number in a small file; 0 if unreadable or "max". */
static uint64_t read_u64(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    uint64_t v = 0;
    if (fscanf(f, "%" SCNu64, &v) != 1) v = 0;
    fclose(f);
    return v;
}

/* The "<key>: <n> kB" line of a /proc file, in bytes; 0 if absent. */
static uint64_t proc_kb(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    uint64_t kb = 0;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%" SCNu64, &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

/* Room under one cgroup limit file (and its usage file next to it). */
static uint64_t cgroup_room(const char *dir, const char *limit_name, const char *usage_name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, limit_name);
    uint64_t limit = read_u64(path);
    if (limit == 0 || limit >= (UINT64_C(1) << 60)) return 0; /* none, "max" or the v1 "unlimited" */
    snprintf(path, sizeof path, "%s/%s", dir, usage_name);
    uint64_t used = read_u64(path);
    return limit > used ? limit - used : 1;
}

/* The process's own cgroup path for the memory controller (v1 "N:memory:/p",
 * v2 "0::/p"), or "". */
static void own_cgroup(char *out, size_t len, int v2) {
    out[0] = 0;
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        const char *p = v2 ? (strncmp(line, "0::", 3) == 0 ? line + 3 : NULL)
                           : (strstr(line, ":memory:") ? strstr(line, ":memory:") + 8 : NULL);
        if (p) {
            snprintf(out, len, "%s", p);
            break;
        }
    }
    fclose(f);
}

static void take(sysmem_t *m, uint64_t v, const char *source) {
    if (v > 0 && v < m->avail) m->avail = v, m->source = source;
}

int sysmem_available(sysmem_t *m) {
    m->avail = UINT64_MAX;
    m->source = "unknown";
    take(m, proc_kb("/proc/meminfo", "MemAvailable"), "MemAvailable");
    char cg[1024], dir[1100];
    own_cgroup(cg, sizeof cg, 0);
    snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory%s", cg);
    take(m, cgroup_room(dir, "memory.limit_in_bytes", "memory.usage_in_bytes"), "cgroup memory limit");
    take(m, cgroup_room("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes"),
         "cgroup memory limit");
    own_cgroup(cg, sizeof cg, 1);
    snprintf(dir, sizeof dir, "/sys/fs/cgroup%s", cg);
    take(m, cgroup_room(dir, "memory.max", "memory.current"), "cgroup memory limit");
    take(m, cgroup_room("/sys/fs/cgroup", "memory.max", "memory.current"), "cgroup memory limit");
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* the address space this process maps already counts against it */
        uint64_t used = proc_kb("/proc/self/status", "VmSize"), lim = (uint64_t)rl.rlim_cur;
        take(m, lim > used ? lim - used : 1, "ulimit -v (address space)");
    }
    return m->avail != UINT64_MAX;
}
