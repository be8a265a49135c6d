/* wait_policy.c - a short OpenMP spin, set by executing the binary again (see wait_policy.h).
 *
 * Why: libgomp lets a thread that waits (at the end of a parallel loop, or
 * between two loops) spin 300,000 times before it sleeps, about 10 ms on this
 * machine (34 ns an iteration). When another process competes for the cores,
 * the spinning thread holds the core its team mate needs to finish, and a
 * 2-thread ResNet-20 step ran at a third of the 1-thread speed. A short spin
 * still covers the microsecond gaps between the loops of a step (a team that
 * slept there would pay a wake-up on every loop) and then gives the core away.
 *
 * Why an exec: libgomp reads its environment once, in a shared-library
 * constructor that runs before main, and glibc's own start-up resets the
 * environment after the executable's .preinit_array has run, so setting the
 * variable in-process comes too late. Valgrind is left alone (an exec of
 * /proc/self/exe there would start the tool, not dppf). Results do not
 * depend on how threads wait. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wait_policy.h"

/* Spin iterations before sleeping: ~35 us here (bench/README.md, change 17). */
#define DPPF_SPINCOUNT "1000"

void wait_policy_apply(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) return;
    /* The binary's own path, not /proc/self/exe: the process is named after
     * the file it executes (ps, top, /proc/PID/comm would say "exe"). */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || n >= (ssize_t)sizeof self - 1) return;
    self[n] = '\0';
    if (setenv("GOMP_SPINCOUNT", DPPF_SPINCOUNT, 1) != 0) return;
    execv(self, argv);
    unsetenv("GOMP_SPINCOUNT"); /* the exec failed: the default it is, and say nothing */
}
