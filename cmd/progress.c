#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "progress.h"

static void clear_line(progress_t *p) {
    if (p->line_open) {
        fputs("\r\033[K", stderr);
        p->line_open = 0;
    }
}

static void on_status(void *ctx, const char *label, int64_t done, int64_t total, const char *extra) {
    progress_t *p = ctx;
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

static void on_line(void *ctx, const char *text) {
    progress_t *p = ctx;
    if (!p->enabled) return;
    clear_line(p);
    fprintf(stderr, "%s\n", text);
    fflush(stderr);
}

static void on_warn(void *ctx, const char *text) {
    clear_line(ctx);
    fprintf(stderr, "dppf: warning: %s\n", text);
    fflush(stderr);
}

void progress_init(progress_t *p, int mode) {
    p->tty = isatty(fileno(stderr));
    p->enabled = mode != 0;
    p->t0 = p->last = now_seconds();
    p->line_open = 0;
    p->report = (dp_report){.status = on_status, .line = on_line, .warn = on_warn, .ctx = p};
}

void progress_done(progress_t *p) { clear_line(p); }
