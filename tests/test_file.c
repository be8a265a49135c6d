/* lib/base/file: inputs that are not regular files are refused at once (a
 * FIFO must not block), messages name the path, its use and what it is; and
 * atomic writes leave either the old file or the complete new one, never a
 * temp file, also when a write fails half way (file size limit). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"

#define TMPDIR_PREFIX "dppf_file"
#include "tmpdir.h"

/* A timeout, so that a reader that blocks on the FIFO fails instead of hanging ctest. */
TestSuite(file, .init = make_dir, .fini = remove_dir, .timeout = 20);

static void spill(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fputs(text, f) >= 0 && fclose(f) == 0, 1);
}

/* The file holds exactly `want` (file_read_all: its length, then a NUL). */
static void expect_text(const char *path, const char *want) {
    unsigned char *b;
    size_t n;
    dp_err e = {0};
    cr_assert_eq(file_read_all(path, "test", 1 << 20, &b, &n, &e), 0, "%s", e.msg);
    cr_expect_eq(n, strlen(want), "%s", path);
    cr_expect_str_eq((char *)b, want, "%s", path);
    free(b);
}

/* The folder holds exactly these names (sorted, comma-separated): no temp file is left. */
static void expect_names(const char *want) {
    struct dirent **names;
    int n = scandir(g_dir, &names, NULL, alphasort);
    cr_assert_geq(n, 0);
    char got[256] = "";
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            size_t l = strlen(got);
            int w = snprintf(got + l, sizeof got - l, "%s%s", l ? "," : "", names[i]->d_name);
            cr_assert_lt(w, (int)(sizeof got - l), "too many names");
        }
        free(names[i]);
    }
    free(names);
    cr_expect_str_eq(got, want, "left behind: %s", got);
}

/* Every reader fails on `path` with DP_EIO, a message naming the path and
 * `what`, and containing `want`. */
static void expect_refused(const char *path, const char *want) {
    dp_err e = {0};
    int fd = 7;
    cr_expect_eq(file_open_read(path, "test input", &fd, &e), DP_EIO, "%s", e.msg);
    cr_expect_eq(fd, -1);
    cr_expect(strstr(e.msg, path) && strstr(e.msg, "test input") && strstr(e.msg, want),
              "message lacks '%s', the path or the use: %s", want, e.msg);
    FILE *f = stdin;
    memset(&e, 0, sizeof e);
    cr_expect_eq(file_fopen_read(path, "test input", &f, &e), DP_EIO, "%s", e.msg);
    cr_expect_null(f);
    cr_expect(strstr(e.msg, want), "%s", e.msg);
    unsigned char *b = (unsigned char *)"x";
    size_t n = 9;
    memset(&e, 0, sizeof e);
    cr_expect_eq(file_read_all(path, "test input", 1 << 20, &b, &n, &e), DP_EIO, "%s", e.msg);
    cr_expect(b == NULL && n == 0);
    cr_expect(strstr(e.msg, want), "%s", e.msg);
}

/* ---- reading ---- */

Test(file, reads_a_regular_file) {
    const char *path = in_dir("a.txt");
    spill(path, "hello\nworld\n");
    expect_text(path, "hello\nworld\n");

    dp_err e = {0};
    int fd;
    cr_assert_eq(file_open_read(path, "test", &fd, &e), 0, "%s", e.msg);
    cr_expect_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0, "reads block again");
    cr_expect_neq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0, "close-on-exec");
    char buf[8] = {0};
    cr_expect_eq(read(fd, buf, 5), 5);
    cr_expect_str_eq(buf, "hello");
    close(fd);

    FILE *f;
    cr_assert_eq(file_fopen_read(path, "test", &f, &e), 0, "%s", e.msg);
    char line[16];
    cr_expect_not_null(fgets(line, sizeof line, f));
    cr_expect_str_eq(line, "hello\n");
    fclose(f);

    spill(path, "");
    expect_text(path, "");
}

Test(file, size_limit_is_checked_before_reading) {
    const char *path = in_dir("big.txt");
    spill(path, "0123456789");
    unsigned char *b;
    size_t n;
    dp_err e = {0};
    cr_expect_eq(file_read_all(path, "spec file", 10, &b, &n, &e), 0, "%s", e.msg);
    free(b);
    cr_expect_eq(file_read_all(path, "spec file", 9, &b, &n, &e), DP_EIO);
    cr_expect(strstr(e.msg, "spec file") && strstr(e.msg, path) && strstr(e.msg, "too large") &&
                  strstr(e.msg, "10 bytes"), "%s", e.msg);
    cr_expect_null(b);
}

Test(file, fifo_is_refused_without_blocking) {
    const char *path = in_dir("fifo");
    cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo: %s", strerror(errno));
    /* Nobody ever opens the other end: a blocking open would hang (the suite's timeout). */
    expect_refused(path, "FIFO");
}

Test(file, folder_is_refused) {
    expect_refused(g_dir, "folder");
    expect_refused(g_dir, "not a regular file");
}

Test(file, device_is_refused) {
    expect_refused("/dev/null", "device");
}

Test(file, missing_file) {
    expect_refused(in_dir("nope"), "No such file");
    /* the wording the checkpoint and spec tests rely on */
    dp_err e = {0};
    int fd;
    cr_expect_eq(file_open_read(in_dir("nope"), "checkpoint", &fd, &e), DP_EIO);
    char want[1200];
    snprintf(want, sizeof want, "cannot open checkpoint '%s': No such file or directory",
             in_dir("nope"));
    cr_expect_str_eq(e.msg, want);
    cr_expect_eq(file_open_read(in_dir("nope"), NULL, &fd, &e), DP_EIO);
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory", in_dir("nope"));
    cr_expect_str_eq(e.msg, want, "no use given: just the path");
}

Test(file, symlink_loop) {
    cr_assert_eq(symlink("b", in_dir("a")), 0);
    cr_assert_eq(symlink("a", in_dir("b")), 0);
    expect_refused(in_dir("a"), "symbolic link loop");
}

Test(file, unreadable_file) {
    if (geteuid() == 0) cr_skip_test("root reads any file");
    const char *path = in_dir("secret");
    spill(path, "x");
    cr_assert_eq(chmod(path, 0), 0);
    expect_refused(path, "Permission denied");
}

/* ---- atomic writing ---- */

Test(file, atomic_commit_replaces_the_file) {
    const char *path = in_dir("out.txt");
    spill(path, "old");
    atomic_file a;
    dp_err e = {0};
    cr_assert_eq(atomic_open(&a, path, "test output", &e), 0, "%s", e.msg);
    /* the name run/train.c's remove_stale_temps recognises */
    char want[1100];
    snprintf(want, sizeof want, "%s.tmp.%ld", path, (long)getpid());
    cr_expect_str_eq(a.tmp, want);
    cr_expect_eq(access(want, F_OK), 0, "the temp file exists while writing");
    expect_text(path, "old"); /* the old file is untouched until commit */
    cr_expect_eq(atomic_put(&a, "new ", 4), 0);
    fprintf(a.f, "text %d", 42);
    cr_assert_eq(atomic_commit(&a, &e), 0, "%s", e.msg);
    expect_text(path, "new text 42");
    expect_names("out.txt");
}

Test(file, atomic_abort_keeps_the_old_file) {
    const char *path = in_dir("out.txt");
    spill(path, "old");
    atomic_file a;
    dp_err e = {0};
    cr_assert_eq(atomic_open(&a, path, NULL, &e), 0, "%s", e.msg);
    atomic_put(&a, "half", 4);
    atomic_abort(&a);
    expect_text(path, "old");
    expect_names("out.txt");
}

Test(file, atomic_commit_keep_appends_to_the_final_file) {
    const char *path = in_dir("log.csv");
    atomic_file a;
    FILE *f;
    dp_err e = {0};
    cr_assert_eq(atomic_open(&a, path, NULL, &e), 0, "%s", e.msg);
    atomic_put(&a, "head\n", 5);
    cr_assert_eq(atomic_commit_keep(&a, &f, &e), 0, "%s", e.msg);
    expect_text(path, "head\n"); /* renamed and complete before any append */
    fputs("row\n", f);
    cr_assert_eq(fclose(f), 0);
    expect_text(path, "head\nrow\n");
    expect_names("log.csv");
}

Test(file, atomic_write_text) {
    const char *path = in_dir("spec.yaml");
    dp_err e = {0};
    cr_assert_eq(atomic_write_text(path, "a: 1\n", &e), 0, "%s", e.msg);
    expect_text(path, "a: 1\n");
}

Test(file, atomic_open_in_a_missing_folder) {
    const char *path = in_dir("no/such/out.bin");
    atomic_file a;
    dp_err e = {0};
    cr_expect_eq(atomic_open(&a, path, "checkpoint", &e), DP_EIO);
    char want[1200];
    snprintf(want, sizeof want, "cannot write checkpoint '%s': No such file or directory", path);
    cr_expect_str_eq(e.msg, want);
}

Test(file, failed_rename_removes_the_temp_file) {
    /* The target is a non-empty folder: everything but the rename succeeds. */
    const char *path = in_dir("out");
    cr_assert_eq(mkdir(path, 0700), 0);
    spill(in_dir("out/keep"), "x");
    dp_err e = {0};
    cr_expect_eq(atomic_write_text(path, "text", &e), DP_EIO);
    cr_expect(strstr(e.msg, path) && strstr(e.msg, "unchanged"), "%s", e.msg);
    expect_names("out");
}

/* A write past the file size limit fails with EFBIG (SIGXFSZ ignored): in a
 * child, so the limit does not reach the test runner. The child sends the
 * return code and message through a pipe. */
Test(file, failed_write_keeps_the_old_file_and_names_the_final_one) {
    const char *path = in_dir("ckpt.bin");
    spill(path, "old");
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(p[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(99);
        static char big[64 << 10];
        memset(big, 'x', sizeof big);
        dp_err e = {0};
        atomic_file a;
        int rc = atomic_open(&a, path, "checkpoint", &e);
        if (!rc) {
            atomic_put(&a, big, sizeof big);
            atomic_put(&a, "more", 4); /* skipped after the first failure */
            rc = atomic_commit(&a, &e);
        }
        dprintf(p[1], "%d %s", rc, e.msg);
        _exit(0);
    }
    close(p[1]);
    char msg[4096] = {0};
    size_t got = 0;
    ssize_t r;
    while ((r = read(p[0], msg + got, sizeof msg - 1 - got)) > 0) got += (size_t)r;
    close(p[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    cr_expect_eq(atoi(msg), DP_EIO, "%s", msg);
    cr_expect(strstr(msg, "cannot write checkpoint") && strstr(msg, path), "%s", msg);
    cr_expect(strstr(msg, "disk full or file size limit") && strstr(msg, "unchanged"), "%s", msg);
    expect_text(path, "old");
    expect_names("ckpt.bin");
}

/* Root ignores folder permissions; elsewhere a read-only folder refuses the temp file. */
Test(file, read_only_folder) {
    if (geteuid() == 0) cr_skip_test("root writes into read-only folders");
    const char *dir = in_dir("ro");
    cr_assert_eq(mkdir(dir, 0500), 0);
    dp_err e = {0};
    cr_expect_eq(atomic_write_text(in_dir("ro/x.txt"), "x", &e), DP_EIO);
    cr_expect(strstr(e.msg, "ro/x.txt") && strstr(e.msg, "Permission denied"), "%s", e.msg);
    chmod(dir, 0700);
}
