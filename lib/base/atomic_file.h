/* atomic_file.h - write a file so that its name only ever names a complete
 * file: write "<path>.tmp.<pid>", flush, fsync, rename it over <path>, then
 * fsync the folder. A crash leaves either the old file or the new one (and
 * perhaps a temp file, which train removes when a run next starts there). */
#ifndef DPPF_ATOMIC_FILE_H
#define DPPF_ATOMIC_FILE_H

#include <stdio.h>

/* "<path>.tmp.<pid>", malloc'd; NULL when out of memory. */
char *atomic_tmp_name(const char *path);

/* Finishes the temp file `tmp` written through f: flush, fsync, close and
 * rename to `path`. `err` is the caller's first write error (0 if none): then
 * nothing is renamed. On any failure the temp file is removed. Always closes
 * f. Returns 0 or the errno of the first failure. */
int atomic_commit(FILE *f, const char *tmp, const char *path, int err);

#endif
