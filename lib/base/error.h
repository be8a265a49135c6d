/* error.h - one error type returned up the call chain to the one place that prints it.
 *
 * Every fallible library function takes a `dp_err *` last and returns 0 on
 * success or a DP_E* code (which doubles as the process exit status). */
#ifndef DPPF_ERROR_H
#define DPPF_ERROR_H

#include <stddef.h>

enum {
    DP_OK = 0,
    DP_ERUNTIME = 1, /* generic failure during a run */
    DP_EUSAGE = 2,   /* bad command line or bad spec: the user's input */
    DP_EIO = 3,      /* missing/unreadable/corrupt file, unwritable output */
    DP_ENUMERIC = 4, /* NaN/Inf in loss or parameters */
    DP_ENOMEM = 5,   /* allocation failed */
    DP_EMPI = 6,     /* communication failure / another rank failed */
    DP_ESIGINT = 130, /* stopped by SIGINT after writing a checkpoint (the shell's 128 + 2) */
    DP_ESIGTERM = 143,/* stopped by SIGTERM after writing a checkpoint (128 + 15) */
};

typedef struct {
    int code;
    char msg[2048];
} dp_err;

/* Record an error (printf-style) and return `code`. `e` may be NULL. */
int dp_fail(dp_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Allocation helpers that record DP_ENOMEM with what was being allocated. */
void *dp_calloc(size_t n, size_t size, const char *what, dp_err *e);

#endif
