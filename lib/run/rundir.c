#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"

static int mkdir_p(const char *path, dp_err *e) {
    char buf[PATH_MAX];
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
        return dp_fail(e, DP_EIO, "run.out_dir '%s' is too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return dp_fail(e, DP_EIO, "cannot create folder '%s': %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return dp_fail(e, DP_EIO, "cannot create run folder '%s': %s", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return dp_fail(e, DP_EIO, "run.out_dir '%s' exists and is not a folder", buf);
    if (access(buf, W_OK) != 0)
        return dp_fail(e, DP_EIO, "run folder '%s' is not writable: %s", buf, strerror(errno));
    return 0;
}

static int has_prefix(const char *s, size_t len, const char *p) {
    size_t n = strlen(p);
    return len >= n && memcmp(s, p, n) == 0;
}

static int has_suffix(const char *s, size_t len, const char *x) {
    size_t n = strlen(x);
    return len >= n && memcmp(s + len - n, x, n) == 0;
}

/* Is `name[0..len)` one of the files a run writes, or a landscape made from
 * its checkpoint? */
static int is_run_output(const char *name, size_t len) {
    static const char *const fixed[] = {"spec.yaml", "metrics.csv", "checkpoint.bin", "curves.png",
                                        "partition.csv"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strlen(fixed[i]) == len && memcmp(name, fixed[i], len) == 0) return 1;
    if (has_prefix(name, len, "landscape-") && (has_suffix(name, len, ".csv") || has_suffix(name, len, ".png")))
        return 1;
    size_t k = strlen("checkpoint-e");
    if (len <= k + 4 || !has_prefix(name, len, "checkpoint-e") || !has_suffix(name, len, ".bin")) return 0;
    for (size_t i = k; i < len - 4; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return 1;
}

/* Removes the run outputs in dir (keep_outputs = 0), or the temp files
 * "<output>.tmp.<pid>" of dead processes: outputs are written to such a temp
 * file and renamed, so a process killed mid-write leaves one behind; a live
 * writer's are left alone. Returns 0 or the errno of a failed removal. */
static int sweep(const char *dir, int keep_outputs, char *failed, size_t failed_len) {
    DIR *d = opendir(dir);
    if (!d) return errno;
    struct dirent *de;
    int err = 0;
    while ((de = readdir(d))) {
        const char *tmp = strstr(de->d_name, ".tmp.");
        size_t len = tmp ? (size_t)(tmp - de->d_name) : strlen(de->d_name);
        if (!is_run_output(de->d_name, len)) continue;
        if (tmp) {
            char *end;
            long pid = strtol(tmp + 5, &end, 10);
            if (end == tmp + 5 || *end || pid <= 0) continue;
            if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        } else if (keep_outputs) {
            continue;
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) != 0 && !tmp && !err) {
            err = errno;
            snprintf(failed, failed_len, "%s", path);
        }
    }
    closedir(d);
    return err;
}

/* The pid written into a lock file by its holder, or 0. */
static long lock_holder(int fd) {
    char buf[32] = {0};
    if (pread(fd, buf, sizeof buf - 1, 0) <= 0) return 0;
    return strtol(buf, NULL, 10);
}

static int take_lock(rundir_t *d, const char *dir, dp_err *e) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return dp_fail(e, DP_EIO, "run folder '%s' is not writable: cannot create its lock file .lock: %s", dir,
                       strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        long pid = lock_holder(fd);
        close(fd);
        if (err == EWOULDBLOCK)
            return dp_fail(e, DP_EIO,
                           "run folder '%s' is in use by another run (process %ld holds '%s'); wait "
                           "for it to end or set another run.out_dir",
                           dir, pid, path);
        return dp_fail(e, DP_EIO, "cannot lock '%s': %s", path, strerror(err));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) { /* only informative */
    }
    d->lock_fd = fd;
    return 0;
}

int rundir_open(rundir_t *d, const char *dir, rundir_mode mode, dp_err *e) {
    d->lock_fd = -1;
    int rc = mkdir_p(dir, e);
    if (!rc) rc = take_lock(d, dir, e);
    if (rc) return rc;
    char failed[PATH_MAX] = "", path[PATH_MAX];
    sweep(dir, 1, failed, sizeof failed); /* best effort */
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (mode == RUNDIR_NEW && access(path, F_OK) == 0) {
        rundir_close(d);
        return dp_fail(e, DP_EUSAGE,
                       "run folder '%s' already holds a run (metrics.csv); use --force to "
                       "replace it, --resume to continue it, or set run.out_dir",
                       dir);
    }
    int err = mode == RUNDIR_FORCE ? sweep(dir, 0, failed, sizeof failed) : 0;
    if (err) {
        rundir_close(d);
        return dp_fail(e, DP_EIO, "--force: cannot remove the previous run's '%s': %s", failed, strerror(err));
    }
    return 0;
}

void rundir_close(rundir_t *d) {
    if (d->lock_fd >= 0) close(d->lock_fd); /* releases the lock */
    d->lock_fd = -1;
}
