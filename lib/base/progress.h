/* progress.h - progress on stderr: a live line on a TTY, plain lines otherwise. */
#ifndef DPPF_PROGRESS_H
#define DPPF_PROGRESS_H

#include <stdint.h>

typedef struct {
    int enabled;     /* print at all */
    int tty;         /* stderr is a terminal: redraw one line */
    double t0;       /* start time (seconds, monotonic) */
    double last;     /* last redraw */
    int line_open;   /* a live line is on screen and must be cleared */
} progress_t;

double now_seconds(void);
/* mode: -1 = auto (live line only on a TTY), 0 = off, 1 = on. */
void progress_init(progress_t *p, int mode);
/* Live status; redrawn at most ~8 times per second, and only on a TTY. */
void progress_update(progress_t *p, const char *label, int64_t done, int64_t total, const char *extra);
/* A line that stays (evaluations, messages); printed on TTYs and pipes alike. */
void progress_note(progress_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void progress_done(progress_t *p);

#endif
