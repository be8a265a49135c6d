/* report.h - how long-running library work tells its caller what it is doing.
 *
 * The library never prints: it calls these hooks, and the command line
 * decides how to show them (a live line on a terminal, plain lines in a log,
 * nothing with --quiet). Every hook and the struct itself may be NULL. */
#ifndef DPPF_REPORT_H
#define DPPF_REPORT_H

#include <stdint.h>

typedef struct {
    /* Live status: `done` of `total` units of `label`'s work, with a short
     * extra text; called often (the sink throttles and may ignore it). */
    void (*status)(void *ctx, const char *label, int64_t done, int64_t total, const char *extra);
    /* A line that stays: an evaluation's results, what was written. */
    void (*line)(void *ctx, const char *text);
    /* Something went wrong that does not stop the work (shown even when quiet). */
    void (*warn)(void *ctx, const char *text);
    void *ctx;
} dp_report;

/* Is anyone listening for status updates? (Skip formatting them if not.) */
int report_wants_status(const dp_report *r);
void report_status(const dp_report *r, const char *label, int64_t done, int64_t total,
                   const char *extra);
void report_line(const dp_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_warn(const dp_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
