#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

int dp_fail(dp_err *e, int code, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

void *dp_calloc(size_t n, size_t size, const char *what, dp_err *e) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) dp_fail(e, DP_ENOMEM, "out of memory allocating %s (%zu x %zu bytes)", what, n, size);
    return p;
}
