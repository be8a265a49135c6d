#include <stdarg.h>
#include <stdio.h>

#include "report.h"

int report_wants_status(const dp_report *r) { return r && r->status; }

void report_status(const dp_report *r, const char *label, int64_t done, int64_t total,
                   const char *extra) {
    if (r && r->status) r->status(r->ctx, label, done, total, extra);
}

/* Formats and hands the text to a hook (nothing when there is none). */
static void say(void (*hook)(void *, const char *), void *ctx, const char *fmt, va_list ap) {
    if (!hook) return;
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    hook(ctx, buf);
}

void report_line(const dp_report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(r ? r->line : NULL, r ? r->ctx : NULL, fmt, ap);
    va_end(ap);
}

void report_warn(const dp_report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(r ? r->warn : NULL, r ? r->ctx : NULL, fmt, ap);
    va_end(ap);
}
