/* axes.c - see axes.h. */
#include <math.h>
#include <stdio.h>

#include "axes.h"
#include "plot.h"

const plot_rgb PLOT_INK = {26, 26, 26}, PLOT_WHITE = {255, 255, 255}, PLOT_BLACK = {0, 0, 0};
const plot_rgb PLOT_GRID = {225, 225, 225}, PLOT_NANGREY = {160, 160, 160};

text_style text_plain(text_halign h, text_valign v) {
    return (text_style){.size = FONT_SIZE, .halign = h, .valign = v, .color = PLOT_INK};
}

text_style text_title(void) {
    text_style t = text_plain(TEXT_CENTER, TEXT_BASELINE);
    t.size = TITLE_SIZE;
    return t;
}

double ax_frac(const axis *a, double v) {
    if (a->log) v = v > 0 ? log10(v) : NAN;
    return (v - a->lo) / (a->hi - a->lo);
}

double frame_x(const frame *f, double v) { return f->x + ax_frac(&f->ax, v) * f->w; }
double frame_y(const frame *f, double v) { return f->y + f->h - ax_frac(&f->ay, v) * f->h; }

static double nice_step(double range, int target) {
    if (target < 1) target = 1;
    double raw = range / target, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

int plot_nice_ticks(double lo, double hi, int target, double *ticks, int max) {
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) {
        if (max > 0 && isfinite(lo)) {
            ticks[0] = lo;
            return 1;
        }
        return 0;
    }
    double step = nice_step(hi - lo, target);
    int n = 0;
    for (double k = ceil(lo / step - 1e-9); k <= floor(hi / step + 1e-9) && n < max; k++) {
        double v = k * step;
        if (fabs(v) < step * 1e-9) v = 0; /* no "-0" */
        ticks[n++] = v;
    }
    return n;
}

static void fmt_ticks(tickset *t, double step, int log) {
    double amax = 0;
    for (int k = 0; k < t->n; k++) amax = fmax(amax, fabs(t->v[k]));
    int dec = step > 0 ? (int)-floor(log10(step) + 1e-9) : 0;
    if (dec < 0) dec = 0;
    for (int k = 0; k < t->n; k++) {
        if (log || amax >= 1e6 || dec > 5) snprintf(t->label[k], sizeof t->label[k], "%.3g", t->v[k]);
        else snprintf(t->label[k], sizeof t->label[k], "%.*f", dec, t->v[k]);
    }
}

void make_ticks(const axis *a, int target, tickset *t) {
    t->n = 0;
    if (!a->log) {
        t->n = plot_nice_ticks(a->lo, a->hi, target, t->v, MAXTICKS);
        fmt_ticks(t, t->n > 1 ? t->v[1] - t->v[0] : nice_step(a->hi - a->lo, target), 0);
        return;
    }
    int k0 = (int)ceil(a->lo - 1e-9), k1 = (int)floor(a->hi + 1e-9);
    int decades = k1 - k0 + 1; /* powers of ten inside the range */
    if (decades > 3) {         /* many decades, thinned to about `target` */
        int every = (k1 - k0) / target + 1;
        for (int k = k0; k <= k1 && t->n < MAXTICKS; k++)
            if ((k - k0) % every == 0) t->v[t->n++] = pow(10, k);
        fmt_ticks(t, 0, 1);
        return;
    }
    if (decades >= 2 || a->hi - a->lo >= 0.9) { /* a few decades (or one, nearly): 1x, 2x and 5x */
        for (int k = k0 - 1; k <= k1; k++)
            for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
                double v = m * pow(10, k), l = log10(v);
                if (l >= a->lo - 1e-9 && l <= a->hi + 1e-9 && t->n < MAXTICKS) t->v[t->n++] = v;
            }
        fmt_ticks(t, 0, 1);
        return;
    }
    /* less than a decade: linear 1-2-5 ticks in value space */
    t->n = plot_nice_ticks(pow(10, a->lo), pow(10, a->hi), target, t->v, MAXTICKS);
    int w = 0;
    for (int k = 0; k < t->n; k++)
        if (t->v[k] > 0) t->v[w++] = t->v[k];
    t->n = w;
    fmt_ticks(t, t->n > 1 ? t->v[1] - t->v[0] : 0, 1);
}

double max_label_width(plot_canvas *c, const tickset *t) {
    double m = 0;
    for (int k = 0; k < t->n; k++) m = fmax(m, canvas_text_width(c, t->label[k], FONT_SIZE, 0));
    return m;
}

void draw_axes(plot_canvas *c, const frame *f, const tickset *tx, const tickset *ty, int grid) {
    const double eps = 1e-6;
    for (int pass = 0; pass < 2; pass++) /* grid lines first, ticks and labels over them */
        for (int k = 0; k < tx->n; k++) {
            double px = canvas_snap(c, frame_x(f, tx->v[k]));
            if (px < f->x - eps || px > f->x + f->w + eps) continue;
            if (pass == 0) {
                if (grid) canvas_line(c, px, f->y, px, f->y + f->h, AXES_LW, PLOT_GRID);
                continue;
            }
            canvas_line(c, px, f->y + f->h, px, f->y + f->h + TICK_LEN, AXES_LW, PLOT_INK);
            text_style st = text_plain(TEXT_CENTER, TEXT_TOP);
            canvas_text(c, px, f->y + f->h + TICK_LEN + TICK_PAD, tx->label[k], &st);
        }
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < ty->n; k++) {
            double py = canvas_snap(c, frame_y(f, ty->v[k]));
            if (py < f->y - eps || py > f->y + f->h + eps) continue;
            if (pass == 0) {
                if (grid) canvas_line(c, f->x, py, f->x + f->w, py, AXES_LW, PLOT_GRID);
                continue;
            }
            canvas_line(c, f->x - TICK_LEN, py, f->x, py, AXES_LW, PLOT_INK);
            text_style st = text_plain(TEXT_RIGHT, TEXT_MIDDLE);
            canvas_text(c, f->x - TICK_LEN - TICK_PAD, py, ty->label[k], &st);
        }
}

void draw_axis_labels(plot_canvas *c, const frame *f, const char *title, const char *xlabel, const char *ylabel,
                      double ylabel_x) {
    if (title && title[0]) {
        text_style st = text_title();
        canvas_text(c, f->x + f->w / 2, f->y - 6, title, &st);
    }
    if (xlabel && xlabel[0]) {
        text_style st = text_plain(TEXT_CENTER, TEXT_TOP);
        double y = f->y + f->h + TICK_LEN + TICK_PAD + canvas_cap_height(FONT_SIZE) + 0.236 * FONT_SIZE + LABEL_PAD;
        canvas_text(c, f->x + f->w / 2, y, xlabel, &st);
    }
    if (ylabel && ylabel[0]) {
        text_style st = text_plain(TEXT_CENTER, TEXT_TOP);
        st.angle = 90;
        canvas_text(c, ylabel_x, f->y + f->h / 2, ylabel, &st);
    }
}
