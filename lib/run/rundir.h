/* rundir.h - the folder a training run writes into (run.out_dir): created,
 * locked for the run's lifetime (one run per folder), cleared of a previous
 * run's outputs when the user forces a new run there, and swept of temp files
 * that killed processes left behind. */
#ifndef DPPF_RUNDIR_H
#define DPPF_RUNDIR_H

#include "error.h"

typedef struct {
    int lock_fd; /* -1 when not locked */
} rundir_t;

typedef enum {
    RUNDIR_NEW,    /* a fresh run: the folder must hold no run */
    RUNDIR_FORCE,  /* a fresh run: a previous run's outputs are removed first */
    RUNDIR_RESUME, /* continuing the run that is there */
} rundir_mode;

/* Creates `dir` (and its parents), takes an exclusive lock on <dir>/.lock
 * (DP_EIO naming the holder's pid when another run has it), removes stale
 * temp files and, as `mode` says, refuses (DP_EUSAGE) or clears a previous
 * run. On success the lock is held until rundir_close. */
int rundir_open(rundir_t *d, const char *dir, rundir_mode mode, dp_err *e);
void rundir_close(rundir_t *d);

#endif
