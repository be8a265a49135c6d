/* progress.h - the command line's sink for the library's reports (report.h):
 * a live status line on a terminal, plain lines otherwise, on stderr. */
#ifndef DPPF_CMD_PROGRESS_H
#define DPPF_CMD_PROGRESS_H

#include "report.h"

typedef struct {
    int enabled;   /* status and lines at all (warnings always) */
    int tty;       /* stderr is a terminal: redraw one status line */
    double t0;     /* start time (seconds, monotonic) */
    double last;   /* last redraw */
    int line_open; /* a status line is on screen and must be cleared */
    dp_report report;
} progress_t;

/* mode: -1 = auto (status line only on a TTY), 0 = quiet (warnings only), 1 = on.
 * p->report is then what the library takes. */
void progress_init(progress_t *p, int mode);
/* Clears a status line left on screen. */
void progress_done(progress_t *p);

#endif
