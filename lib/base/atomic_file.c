/* atomic_file.c - temp file + fsync + rename, shared by the checkpoint and
 * safetensors writers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"

char *atomic_tmp_name(const char *path) {
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (tmp) snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
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

int atomic_commit(FILE *f, const char *tmp, const char *path, int err) {
    /* fsync before the rename: <path> only ever names a complete file */
    if (!err && fflush(f) != 0) err = errno ? errno : EIO;
    if (!err && fsync(fileno(f)) != 0) err = errno;
    if (fclose(f) != 0 && !err) err = errno ? errno : EIO;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        remove(tmp);
        return err;
    }
    sync_parent_dir(path);
    return 0;
}
