/* fault.c - parses DPPF_FAULT on every query: the calls are rare (once a step
 * at most), and reading the environment each time keeps the module stateless. */
#include <stdlib.h>
#include <string.h>

#include "fault.h"

int fault_at(const char *kind, long long step, int rank) {
    const char *f = getenv("DPPF_FAULT");
    if (!f || !*f) return 0;
    size_t n = strlen(kind);
    if (strncmp(f, kind, n) != 0 || f[n] != ':') return 0;
    char *end;
    long long s = strtoll(f + n + 1, &end, 10);
    if (end == f + n + 1 || s != step) return 0;
    if (*end == 0) return 1;
    if (*end != '@') return 0;
    char *rend;
    long r = strtol(end + 1, &rend, 10);
    return rend != end + 1 && *rend == 0 && (rank < 0 || r == rank);
}
