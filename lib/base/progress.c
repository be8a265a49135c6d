#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(progress_t *p, int mode) {
    p->tty = isatty(fileno(stderr));
    p->enabled = mode != 0;
    p->t0 = p->last = now_seconds();
    p->line_open = 0;
}

static void clear_line(progress_t *p) {
    if (p->line_open) {
        fputs("\r\033[K", stderr);
        p->line_open = 0;
    }
}

void progress_update(progress_t *p, const char *label, int64_t done, int64_t total, const char *extra) {
    if (!p->enabled || !p->tty) return;
    double t = now_seconds();
    if (t - p->last < 0.125 && done < total) return;
    p->last = t;
    double frac = total > 0 ? (double)done / (double)total : 0;
    double el = t - p->t0, eta = frac > 0 ? el * (1 - frac) / frac : 0;
    char bar[21];
    int fill = (int)(frac * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %lld/%lld %s ETA %02d:%02d", label, bar, 100 * frac,
            (long long)done, (long long)total, extra ? extra : "", (int)(eta / 60), (int)eta % 60);
    p->line_open = 1;
    fflush(stderr);
}

void progress_note(progress_t *p, const char *fmt, ...) {
    if (!p->enabled) return;
    clear_line(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void progress_done(progress_t *p) { clear_line(p); }
