/* file.h - every file dppf reads or writes goes through here.
 *
 * Reading: inputs must be regular files. They are opened without blocking
 * (O_NONBLOCK) and checked with fstat before anything is read, so a FIFO, a
 * folder or a device given by mistake is refused at once instead of hanging
 * the run (opening a FIFO normally waits for a writer).
 *
 * Writing: "<path>.tmp.<pid>" is written, flushed, fsync'd, closed and renamed
 * over <path>, then the folder is fsync'd, so <path> only ever names a complete
 * file, whenever the process dies. A killed process may leave its temp file;
 * run/train.c removes those of dead processes (it relies on the name format).
 *
 * `what` says what the file is for ("checkpoint", "spec file", "dataset
 * images"); it may be NULL. Failures are DP_EIO (DP_ENOMEM when memory runs
 * out) with a message naming what, the path and the reason. */
#ifndef DPPF_FILE_H
#define DPPF_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

/* ---- reading ---- */

/* Opens a regular file for reading (blocking reads, close-on-exec); *fd is -1
 * on failure. */
int file_open_read(const char *path, const char *what, int *fd, dp_err *e);

/* The same as a stream; *f is NULL on failure. */
int file_fopen_read(const char *path, const char *what, FILE **f, dp_err *e);

/* Reads a whole regular file into a fresh buffer (*buf, *len bytes, followed
 * by a NUL so text can be used as a string). A file over `max` bytes is
 * refused before anything is allocated; one that changes size while being
 * read is an error. */
int file_read_all(const char *path, const char *what, size_t max, unsigned char **buf,
                  size_t *len, dp_err *e);

/* ---- atomic writing ---- */

typedef struct {
    FILE *f;          /* write through this, or atomic_put */
    const char *path; /* the final name: the caller's string, kept until commit/abort */
    const char *what;
    char *tmp;        /* "<path>.tmp.<pid>" */
    int err;          /* the first write error (errno) atomic_put saw; commit then fails */
} atomic_file;

/* Creates the temp file. Nothing to clean up on failure. */
int atomic_open(atomic_file *a, const char *path, const char *what, dp_err *e);

/* Writes n bytes; 0, or the errno of the first failure, after which writes
 * are skipped and commit fails with it. */
int atomic_put(atomic_file *a, const void *p, size_t n);

/* flush, fsync, close, rename over the final name, fsync the folder. Any
 * failure (here or in an earlier write, including fprintf's to a.f) removes
 * the temp file and leaves the previous file of that name as it was. */
int atomic_commit(atomic_file *a, dp_err *e);

/* As atomic_commit, but the stream stays open on the renamed file (*f) for
 * appending; on failure *f is NULL. */
int atomic_commit_keep(atomic_file *a, FILE **f, dp_err *e);

/* Closes and removes the temp file (after an error of the caller's). */
void atomic_abort(atomic_file *a);

/* The whole of a small text file, atomically. */
int atomic_write_text(const char *path, const char *text, dp_err *e);

#endif
