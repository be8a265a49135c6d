/* file.c - regular-file-only reading and temp + fsync + rename writing
 * (file.h). libc only. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

/* "what " or "" before the quoted path in messages: two printf arguments. */
#define WHAT(w) ((w) ? (w) : ""), ((w) && *(w) ? " " : "")

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a folder";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
    if (S_ISSOCK(m)) return "a socket";
    return "something else";
}

static int not_regular(const char *path, const char *what, mode_t m, dp_err *e) {
    return dp_fail(e, DP_EIO, "cannot read %s%s'%s': it is %s, not a regular file", WHAT(what),
                   path, kind_of(m));
}

static int open_failed(const char *path, const char *what, int err, dp_err *e) {
    if (err == ELOOP)
        return dp_fail(e, DP_EIO, "cannot open %s%s'%s': symbolic link loop (%s)", WHAT(what),
                       path, strerror(err));
    /* open() of a Unix socket fails with ENXIO; say what it is instead. */
    struct stat st;
    if (err == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return not_regular(path, what, st.st_mode, e);
    return dp_fail(e, DP_EIO, "cannot open %s%s'%s': %s", WHAT(what), path, strerror(err));
}

/* The flag only served to make open() return at once; reads should block. */
static int clear_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Opens `path` read-only without blocking (a FIFO would otherwise wait for a
 * writer), then refuses anything that is not a regular file. */
static int open_regular(const char *path, const char *what, int *fd, struct stat *st, dp_err *e) {
    *fd = -1;
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) return open_failed(path, what, errno, e);
    int rc = 0;
    if (fstat(f, st) != 0 || (S_ISREG(st->st_mode) && clear_nonblock(f) != 0))
        rc = dp_fail(e, DP_EIO, "cannot read %s%s'%s': %s", WHAT(what), path, strerror(errno));
    else if (!S_ISREG(st->st_mode))
        rc = not_regular(path, what, st->st_mode, e);
    if (rc) {
        close(f);
        return rc;
    }
    *fd = f;
    return 0;
}

int file_open_read(const char *path, const char *what, int *fd, dp_err *e) {
    struct stat st;
    return open_regular(path, what, fd, &st, e);
}

int file_fopen_read(const char *path, const char *what, FILE **f, dp_err *e) {
    int fd;
    *f = NULL;
    int rc = file_open_read(path, what, &fd, e);
    if (rc) return rc;
    if (!(*f = fdopen(fd, "rb"))) {
        close(fd);
        return dp_fail(e, DP_ENOMEM, "out of memory opening %s%s'%s'", WHAT(what), path);
    }
    return 0;
}

int file_read_all(const char *path, const char *what, size_t max, unsigned char **buf,
                  size_t *len, dp_err *e) {
    *buf = NULL;
    *len = 0;
    int fd;
    struct stat st;
    int rc = open_regular(path, what, &fd, &st, e);
    if (rc) return rc;
    if ((uint64_t)st.st_size > max || (uint64_t)st.st_size >= SIZE_MAX) {
        close(fd);
        return dp_fail(e, DP_EIO, "cannot read %s%s'%s': file too large (%lld bytes, the limit is "
                       "%zu)", WHAT(what), path, (long long)st.st_size, max);
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *b = malloc(n + 1);
    if (!b) {
        close(fd);
        return dp_fail(e, DP_ENOMEM, "out of memory reading %s%s'%s' (%zu bytes)", WHAT(what),
                       path, n);
    }
    /* n bytes, then one more read that must find the end of the file. */
    int err = 0, grew = 0;
    for (;;) {
        unsigned char extra;
        ssize_t r = got < n ? read(fd, b + got, n - got) : read(fd, &extra, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) err = errno;
        if (r <= 0) break;
        if (got == n) {
            grew = 1;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (err || grew || got != n) {
        free(b);
        if (err)
            return dp_fail(e, DP_EIO, "cannot read %s%s'%s': %s", WHAT(what), path, strerror(err));
        return dp_fail(e, DP_EIO, "cannot read %s%s'%s': file changed while reading", WHAT(what),
                       path);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

/* ---- atomic writing ---- */

/* `wrote`: the temp file existed, so say that the old file is still there. */
static int write_failed(const atomic_file *a, int err, int wrote, dp_err *e) {
    int full = err == ENOSPC || err == EFBIG || err == EDQUOT;
    return dp_fail(e, DP_EIO, "cannot write %s%s'%s': %s%s%s", WHAT(a->what), a->path,
                   strerror(err), full ? " (disk full or file size limit)" : "",
                   wrote ? "; the previous file of that name, if any, is unchanged" : "");
}

int atomic_open(atomic_file *a, const char *path, const char *what, dp_err *e) {
    memset(a, 0, sizeof *a);
    a->path = path;
    a->what = what;
    size_t len = strlen(path) + 32;
    if (!(a->tmp = malloc(len)))
        return dp_fail(e, DP_ENOMEM, "out of memory writing %s%s'%s'", WHAT(what), path);
    snprintf(a->tmp, len, "%s.tmp.%ld", path, (long)getpid());
    /* 0666 rather than mkstemp's 0600, so the umask decides as for any other
     * output; the pid keeps concurrent writers apart. O_NONBLOCK: a FIFO
     * squatting on the temp name fails (ENXIO) rather than waits for a reader. */
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0666);
    int err = fd < 0 ? errno : 0;
    if (!err && clear_nonblock(fd) != 0) err = errno;
    if (!err && !(a->f = fdopen(fd, "wb"))) err = errno ? errno : ENOMEM;
    if (err) {
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        free(a->tmp);
        a->tmp = NULL;
        return write_failed(a, err, 0, e);
    }
    return 0;
}

int atomic_put(atomic_file *a, const void *p, size_t n) {
    if (!a->err && n && fwrite(p, 1, n, a->f) != n) a->err = errno ? errno : EIO;
    return a->err;
}

/* fsync the folder so the rename itself survives a crash. Best effort: some
 * file systems refuse fsync on directories, and the data is already safe. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

static int commit(atomic_file *a, FILE **keep, dp_err *e) {
    int err = a->err;
    errno = 0;
    if (!err && fflush(a->f) != 0) err = errno ? errno : EIO;
    if (!err && ferror(a->f)) err = EIO; /* an fprintf failed earlier; its errno is gone */
    /* fsync before the rename: the final name only ever names a complete file */
    if (!err && fsync(fileno(a->f)) != 0) err = errno;
    if (!keep || err) {
        if (fclose(a->f) != 0 && !err) err = errno ? errno : EIO;
        a->f = NULL;
    }
    if (!err && rename(a->tmp, a->path) != 0) err = errno;
    if (err) {
        atomic_abort(a);
        return write_failed(a, err, 1, e);
    }
    sync_parent_dir(a->path);
    if (keep) *keep = a->f;
    a->f = NULL;
    free(a->tmp);
    a->tmp = NULL;
    return 0;
}

int atomic_commit(atomic_file *a, dp_err *e) { return commit(a, NULL, e); }

int atomic_commit_keep(atomic_file *a, FILE **f, dp_err *e) {
    *f = NULL;
    return commit(a, f, e);
}

void atomic_abort(atomic_file *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    if (a->tmp) unlink(a->tmp);
    free(a->tmp);
    a->tmp = NULL;
}

int atomic_write_text(const char *path, const char *text, dp_err *e) {
    atomic_file a;
    int rc = atomic_open(&a, path, NULL, e);
    if (rc) return rc;
    atomic_put(&a, text, strlen(text));
    return atomic_commit(&a, e);
}
