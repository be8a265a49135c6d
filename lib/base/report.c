#include <stdarg.h>
#include <stdio.h>

#include "report.h"

int report_wants_status(const dp_report *r) { return r && r->status; }

void report_status(const dp_report *r, const char *label, int64_t done, int64_t total,
                   const char *extra) {
    if (r && r->status) r->status(r->ctx, label, done, total, extra);
}

void report_line(const dp_report *r, const char *fmt, ...) {
    if (!r || !r->line) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->line(r->ctx, buf);
}

void report_warn(const dp_report *r, const char *fmt, ...) {
    if (!r || !r->warn) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->warn(r->ctx, buf);
}
