/* tmpdir.h - a fresh temporary folder for each test of a suite:
 *
 *   #define TMPDIR_PREFIX "dppf_ckpt"
 *   #include "tmpdir.h"
 *   TestSuite(checkpoint, .init = make_dir, .fini = remove_dir);
 *
 * g_dir is the folder ($TMPDIR or /tmp), in_dir(name) a path inside it. */
#ifndef DPPF_TESTS_TMPDIR_H
#define DPPF_TESTS_TMPDIR_H

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef TMPDIR_PREFIX
#error "define TMPDIR_PREFIX before including tmpdir.h"
#endif

static char g_dir[512];

static inline void make_dir(void) {
    const char *base = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/" TMPDIR_PREFIX "_XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp: %s", strerror(errno));
}

static inline int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static inline void remove_dir(void) {
    if (g_dir[0]) nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* g_dir/name in one of four rotating static buffers. */
static inline char *in_dir(const char *name) {
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

#endif
