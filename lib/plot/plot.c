#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "font.h"
#include "plot.h"
#include "png_write.h"

static const plot_rgb WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, INK = {30, 30, 30};
static const plot_rgb FRAME = {90, 90, 90}, GRID = {228, 228, 228}, NANGREY = {160, 160, 160};

/* ------------------------------------------------------------------ canvas */

int canvas_init(plot_canvas *c, int w, int h, plot_rgb bg, dp_err *e) {
    memset(c, 0, sizeof *c);
    if (w <= 0 || h <= 0 || w > 20000 || h > 20000)
        return dp_fail(e, DP_EUSAGE, "bad image size %dx%d (1..20000 pixels a side)", w, h);
    c->px = dp_calloc((size_t)w * h, 3, "image", e);
    if (!c->px) return DP_ENOMEM;
    c->w = w;
    c->h = h;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        c->px[3 * i] = bg.r;
        c->px[3 * i + 1] = bg.g;
        c->px[3 * i + 2] = bg.b;
    }
    canvas_unclip(c);
    return 0;
}

void canvas_free(plot_canvas *c) {
    free(c->px);
    c->px = NULL;
}

void canvas_unclip(plot_canvas *c) {
    c->cx0 = c->cy0 = 0;
    c->cx1 = c->w;
    c->cy1 = c->h;
}

void canvas_clip(plot_canvas *c, int x, int y, int w, int h) {
    c->cx0 = x < 0 ? 0 : x;
    c->cy0 = y < 0 ? 0 : y;
    c->cx1 = x + w > c->w ? c->w : x + w;
    c->cy1 = y + h > c->h ? c->h : y + h;
}

void canvas_blend(plot_canvas *c, int x, int y, plot_rgb col, double a) {
    if (x < c->cx0 || y < c->cy0 || x >= c->cx1 || y >= c->cy1 || !(a > 0)) return;
    if (a > 1) a = 1;
    uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
    p[0] = (uint8_t)lround(p[0] + (col.r - p[0]) * a);
    p[1] = (uint8_t)lround(p[1] + (col.g - p[1]) * a);
    p[2] = (uint8_t)lround(p[2] + (col.b - p[2]) * a);
}

void canvas_fill_rect(plot_canvas *c, int x, int y, int w, int h, plot_rgb col) {
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++) canvas_blend(c, i, j, col, 1);
}

void canvas_rect(plot_canvas *c, int x, int y, int w, int h, plot_rgb col) {
    canvas_fill_rect(c, x, y, w, 1, col);
    canvas_fill_rect(c, x, y + h - 1, w, 1, col);
    canvas_fill_rect(c, x, y, 1, h, col);
    canvas_fill_rect(c, x + w - 1, y, 1, h, col);
}

/* Coverage of each pixel is estimated from the distance of its centre to the
 * segment: full inside width/2 - 0.5, fading to zero over one pixel. Simple,
 * handles any width, and ends are rounded so polylines join cleanly. */
void canvas_line(plot_canvas *c, double x0, double y0, double x1, double y1, double width, plot_rgb col) {
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return;
    double hw = width / 2, r = hw + 1;
    int ia = (int)floor(fmin(x0, x1) - r), ib = (int)ceil(fmax(x0, x1) + r);
    int ja = (int)floor(fmin(y0, y1) - r), jb = (int)ceil(fmax(y0, y1) + r);
    if (ia < c->cx0) ia = c->cx0;
    if (ja < c->cy0) ja = c->cy0;
    if (ib > c->cx1) ib = c->cx1;
    if (jb > c->cy1) jb = c->cy1;
    double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int j = ja; j < jb; j++)
        for (int i = ia; i < ib; i++) {
            double px = i + 0.5 - x0, py = j + 0.5 - y0;
            double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = px - t * dx, ey = py - t * dy;
            double d = sqrt(ex * ex + ey * ey);
            double a = hw + 0.5 - d;
            if (width < 1 && a > width) a = width; /* thin lines: fainter, not wider */
            canvas_blend(c, i, j, col, a);
        }
}

void canvas_disc(plot_canvas *c, double cx, double cy, double r, plot_rgb col, int outline, plot_rgb ring) {
    double ro = outline ? r + 1.5 : r;
    for (int j = (int)floor(cy - ro - 1); j <= (int)ceil(cy + ro + 1); j++)
        for (int i = (int)floor(cx - ro - 1); i <= (int)ceil(cx + ro + 1); i++) {
            double d = hypot(i + 0.5 - cx, j + 0.5 - cy);
            if (outline) canvas_blend(c, i, j, ring, ro + 0.5 - d);
            canvas_blend(c, i, j, col, r + 0.5 - d);
        }
}

/* Text goes through the clip rectangle too: draw into a copy is overkill, so
 * render glyph pixels with canvas_blend via a scratch-free per-pixel path. */
static void text_any(plot_canvas *c, int x, int y, const char *s, int scale, plot_rgb col, int vertical) {
    if (scale < 1) scale = 1;
    int tw = font_text_width(s, scale);
    for (int k = 0; s[k]; k++) {
        const uint8_t *g = font_glyph(s[k]);
        for (int gc = 0; gc < FONT_GLYPH_W; gc++)
            for (int gr = 0; gr < FONT_GLYPH_H + FONT_DESCENT; gr++) {
                if (!(g[gc] >> gr & 1)) continue;
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) {
                        int u = (k * FONT_CELL_W + gc) * scale + dx, v = gr * scale + dy;
                        if (vertical) canvas_blend(c, x + v, y + tw - 1 - u, col, 1);
                        else canvas_blend(c, x + u, y + v, col, 1);
                    }
            }
    }
}

void canvas_text(plot_canvas *c, int x, int y, const char *s, int scale, plot_rgb col) {
    text_any(c, x, y, s, scale, col, 0);
}

void canvas_text_vertical(plot_canvas *c, int x, int y, const char *s, int scale, plot_rgb col) {
    text_any(c, x, y, s, scale, col, 1);
}

/* Text with a 1-px halo so it stays readable over a heatmap. */
static void text_halo(plot_canvas *c, int x, int y, const char *s, int scale, plot_rgb col, plot_rgb halo) {
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            if (dx || dy) canvas_text(c, x + dx, y + dy, s, scale, halo);
    canvas_text(c, x, y, s, scale, col);
}

int canvas_write_png(const plot_canvas *c, const char *path, dp_err *e) {
    return png_write_rgb(path, c->w, c->h, c->px, e);
}

/* ------------------------------------------------------------------ helpers */

plot_rgb plot_colormap(double t) {
    /* viridis at t = 0, 1/8, ..., 1 (matplotlib's values), linearly interpolated */
    static const uint8_t v[9][3] = {{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
                                    {44, 114, 142}, {33, 145, 140}, {40, 174, 128},
                                    {94, 201, 98},  {173, 220, 48}, {253, 231, 37}};
    if (!(t > 0)) t = 0; /* also NaN */
    if (t > 1) t = 1;
    double s = t * 8;
    int k = (int)s;
    if (k > 7) k = 7;
    double f = s - k;
    plot_rgb o;
    o.r = (uint8_t)lround(v[k][0] + (v[k + 1][0] - v[k][0]) * f);
    o.g = (uint8_t)lround(v[k][1] + (v[k + 1][1] - v[k][1]) * f);
    o.b = (uint8_t)lround(v[k][2] + (v[k + 1][2] - v[k][2]) * f);
    return o;
}

plot_rgb plot_palette(int k) {
    static const plot_rgb tab10[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                       {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                       {188, 189, 34}, {23, 190, 207}};
    if (k < 0) k = -k;
    return tab10[k % 10];
}

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

void plot_contour_levels(double vmin, double vmax, int n, double *levels) {
    for (int k = 0; k < n; k++) levels[k] = vmin + (k + 1) * (vmax - vmin) / (n + 1);
}

void plot_heatmap_area(int w, int h, int *x, int *y, int *pw, int *ph) {
    *x = PLOT_HEATMAP_ML;
    *y = PLOT_HEATMAP_MT;
    *pw = w - PLOT_HEATMAP_ML - PLOT_HEATMAP_MR;
    *ph = h - PLOT_HEATMAP_MT - PLOT_HEATMAP_MB;
}

/* ------------------------------------------------------------------ axes */

/* An axis maps data values to [0, 1]; a log axis keeps lo/hi as log10. */
typedef struct {
    double lo, hi;
    int log;
} axis;

static double ax_frac(const axis *a, double v) {
    if (a->log) v = v > 0 ? log10(v) : NAN;
    return (v - a->lo) / (a->hi - a->lo);
}

#define MAXTICKS 32
typedef struct {
    int n;
    double v[MAXTICKS];
    char label[MAXTICKS][24];
} tickset;

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

static void make_ticks(const axis *a, int target, tickset *t) {
    t->n = 0;
    if (!a->log) {
        t->n = plot_nice_ticks(a->lo, a->hi, target, t->v, MAXTICKS);
        fmt_ticks(t, t->n > 1 ? t->v[1] - t->v[0] : nice_step(a->hi - a->lo, target), 0);
        return;
    }
    int k0 = (int)ceil(a->lo - 1e-9), k1 = (int)floor(a->hi + 1e-9);
    int decades = k1 - k0 + 1; /* powers of ten inside the range */
    if (decades > 3) { /* many decades, thinned to about `target` */
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

static int max_label_width(const tickset *t, int scale) {
    int m = 0;
    for (int k = 0; k < t->n; k++) {
        int w = font_text_width(t->label[k], scale);
        if (w > m) m = w;
    }
    return m;
}

/* ------------------------------------------------------------------ line plots */

#define TS 2            /* text scale for every label */
#define TH (7 * TS)     /* text height */
#define TICKLEN 5

/* Dashed or solid polyline in pixel space; NaN points break it. */
typedef struct {
    plot_canvas *c;
    plot_rgb col;
    double width;
    int dashed;
    double phase; /* arc length travelled along the dash pattern */
} pen;

static void pen_segment(pen *p, double x0, double y0, double x1, double y1) {
    if (!p->dashed) {
        canvas_line(p->c, x0, y0, x1, y1, p->width, p->col);
        return;
    }
    const double on = 9, period = 15;
    double len = hypot(x1 - x0, y1 - y0), s = 0;
    while (s < len) {
        double ph = fmod(p->phase + s, period);
        double run = ph < on ? on - ph : period - ph;
        double s2 = fmin(len, s + run);
        if (ph < on) {
            double a = s / len, b = s2 / len;
            canvas_line(p->c, x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b,
                        y0 + (y1 - y0) * b, p->width, p->col);
        }
        s = s2;
    }
    p->phase += len;
}

typedef struct {
    int x, y, w, h; /* plot area */
    axis ax, ay;
} frame;

static double fx(const frame *f, double v) { return f->x + ax_frac(&f->ax, v) * f->w; }
static double fy(const frame *f, double v) { return f->y + f->h - ax_frac(&f->ay, v) * f->h; }

static int point_ok(const frame *f, double x, double y) {
    return isfinite(x) && isfinite(y) && (!f->ax.log || x > 0) && (!f->ay.log || y > 0);
}

static void draw_series(plot_canvas *c, const frame *f, const plot_series *s, plot_rgb col) {
    if (s->points) { /* scatter: a ringed disc per point */
        for (int i = 0; i < s->n; i++)
            if (point_ok(f, s->x[i], s->y[i])) canvas_disc(c, fx(f, s->x[i]), fy(f, s->y[i]), 4.5, col, 1, WHITE);
        return;
    }
    pen p = {c, col, 2.0, s->dashed, 0};
    int have = 0, run = 0;
    double px = 0, py = 0;
    for (int i = 0; i < s->n; i++) {
        if (!point_ok(f, s->x[i], s->y[i])) {
            have = 0;
            continue;
        }
        double qx = fx(f, s->x[i]), qy = fy(f, s->y[i]);
        if (have) pen_segment(&p, px, py, qx, qy);
        else if (i + 1 >= s->n || !point_ok(f, s->x[i + 1], s->y[i + 1])) /* isolated */
            canvas_disc(c, qx, qy, 2.5, col, 0, col);
        px = qx;
        py = qy;
        have = 1;
        run++;
    }
    if (s->n <= 40) /* few points (e.g. per-epoch evaluations): mark them */
        for (int i = 0; i < s->n; i++)
            if (point_ok(f, s->x[i], s->y[i])) canvas_disc(c, fx(f, s->x[i]), fy(f, s->y[i]), 2.5, col, 0, col);
    (void)run;
}

static plot_rgb series_color(const plot_series *s, int k) { return s->use_color ? s->color : plot_palette(k); }

/* Counts how much of the data passes through a box (sampled every ~3 px). */
static int box_hits(const frame *f, const plot_series *s, int ns, int bx, int by, int bw, int bh) {
    int hits = 0;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            if (!point_ok(f, s[k].x[i], s[k].y[i])) continue;
            double x0 = fx(f, s[k].x[i]), y0 = fy(f, s[k].y[i]), x1 = x0, y1 = y0;
            if (i + 1 < s[k].n && point_ok(f, s[k].x[i + 1], s[k].y[i + 1])) {
                x1 = fx(f, s[k].x[i + 1]);
                y1 = fy(f, s[k].y[i + 1]);
            }
            int m = (int)(hypot(x1 - x0, y1 - y0) / 3) + 1;
            for (int t = 0; t <= m; t++) {
                double x = x0 + (x1 - x0) * t / m, y = y0 + (y1 - y0) * t / m;
                hits += x >= bx && x < bx + bw && y >= by && y < by + bh;
            }
        }
    return hits;
}

static void draw_legend(plot_canvas *c, const frame *f, const plot_series *s, int ns) {
    int n = 0, tw = 0;
    for (int k = 0; k < ns; k++)
        if (s[k].name && s[k].name[0]) {
            n++;
            int w = font_text_width(s[k].name, TS);
            if (w > tw) tw = w;
        }
    if (!n) return;
    const int row = TH + 8, sample = 30;
    int bw = 10 + sample + 8 + tw + 10, bh = 8 + n * row;
    if (bw > f->w - 16) bw = f->w - 16;
    int best = -1, bx = 0, by = 0;
    for (int corner = 0; corner < 4; corner++) { /* top-right, top-left, bottom-right, bottom-left */
        int x = corner % 2 == 0 ? f->x + f->w - 8 - bw : f->x + 8;
        int y = corner < 2 ? f->y + 8 : f->y + f->h - 8 - bh;
        int hits = box_hits(f, s, ns, x, y, bw, bh);
        if (best < 0 || hits < best) {
            best = hits;
            bx = x;
            by = y;
        }
    }
    canvas_fill_rect(c, bx, by, bw, bh, WHITE);
    canvas_rect(c, bx, by, bw, bh, (plot_rgb){170, 170, 170});
    canvas_clip(c, bx, by, bw - 4, bh);
    int y = by + 8;
    for (int k = 0; k < ns; k++) {
        if (!s[k].name || !s[k].name[0]) continue;
        pen p = {c, series_color(&s[k], k), 2.0, s[k].dashed, 0};
        double ly = y + TH / 2.0;
        if (s[k].points) canvas_disc(c, bx + 10 + sample / 2.0, ly, 4.5, p.col, 1, WHITE);
        else pen_segment(&p, bx + 10, ly, bx + 10 + sample, ly);
        canvas_text(c, bx + 10 + sample + 8, y, s[k].name, TS, INK);
        y += row;
    }
    canvas_unclip(c);
}

/* Data range of all series along x (which = 0) or y (which = 1), over the
 * points a plot with these log axes can show. */
static int data_range(const plot_series *s, int ns, int which, int log_x, int log_y, double *lo, double *hi) {
    *lo = DBL_MAX;
    *hi = -DBL_MAX;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i], v = which ? y : x;
            if (!isfinite(x) || !isfinite(y) || (log_x && !(x > 0)) || (log_y && !(y > 0))) continue;
            *lo = fmin(*lo, v);
            *hi = fmax(*hi, v);
        }
    return *lo <= *hi;
}

void plot_lines_draw(plot_canvas *c, int X, int Y, int W, int H, const plot_series *s, int ns,
                     const plot_lines_opts *o) {
    static const plot_lines_opts none = {0};
    if (!o) o = &none;
    frame f;
    double lo, hi;
    f.ax.log = o->log_x;
    f.ay.log = o->log_y;
    int scatter = 0;
    for (int k = 0; k < ns; k++) scatter |= s[k].points;
    /* x: the data range exactly (epochs start and end where the run did); a
     * scatter plot gets 5% more so edge markers are not cut in half */
    if (!data_range(s, ns, 0, o->log_x, o->log_y, &lo, &hi)) lo = o->log_x ? 0.1 : 0, hi = o->log_x ? 10 : 1;
    if (o->log_x) lo = log10(lo), hi = log10(hi);
    if (hi == lo) lo -= 0.5, hi += 0.5;
    double xpad = scatter || o->log_x ? 0.05 * (hi - lo) : 0;
    f.ax = (axis){lo - xpad, hi + xpad, o->log_x};
    /* y: the data range plus 5% so lines do not run along the frame */
    if (!data_range(s, ns, 1, o->log_x, o->log_y, &lo, &hi)) lo = o->log_y ? 0.1 : 0, hi = o->log_y ? 10 : 1;
    if (o->log_y) lo = log10(lo), hi = log10(hi);
    if (hi == lo) {
        double d = o->log_y ? 0.5 : (lo != 0 ? fabs(lo) * 0.1 : 0.5);
        lo -= d, hi += d;
    }
    double pad = 0.05 * (hi - lo);
    f.ay = (axis){lo - pad, hi + pad, o->log_y};

    tickset tx, ty;
    int ytarget = H > 350 ? 6 : 4;
    make_ticks(&f.ay, ytarget, &ty);
    int ylw = max_label_width(&ty, TS);
    int left = 10 + (o->ylabel && o->ylabel[0] ? TH + 10 : 0) + ylw + TICKLEN + 4;
    int top = o->title && o->title[0] ? TH + 22 : 14;
    int bottom = TICKLEN + 6 + TH + (o->xlabel && o->xlabel[0] ? 10 + TH : 0) + 12;
    int right = 24;
    f.x = X + left;
    f.y = Y + top;
    f.w = W - left - right;
    f.h = H - top - bottom;
    if (f.w < 20 || f.h < 20) return; /* too small to draw anything useful */
    /* x ticks: about one per 110 px so labels never touch */
    int xtarget = f.w / 110 < 2 ? 2 : f.w / 110;
    make_ticks(&f.ax, xtarget, &tx);
    for (int guard = 0; guard < 4; guard++) { /* thin until the labels fit */
        int widest = max_label_width(&tx, TS);
        if (tx.n < 2 || widest + 16 < f.w / (tx.n - 1) * 0.9) break;
        make_ticks(&f.ax, --xtarget < 1 ? 1 : xtarget, &tx);
    }

    canvas_fill_rect(c, f.x, f.y, f.w, f.h, WHITE);
    for (int k = 0; k < tx.n; k++) {
        int px = (int)floor(fx(&f, tx.v[k]));
        if (px < f.x || px >= f.x + f.w) continue;
        canvas_fill_rect(c, px, f.y, 1, f.h, GRID);
        canvas_fill_rect(c, px, f.y + f.h, 1, TICKLEN, FRAME);
        int lw = font_text_width(tx.label[k], TS);
        canvas_text(c, px - lw / 2, f.y + f.h + TICKLEN + 6, tx.label[k], TS, INK);
    }
    for (int k = 0; k < ty.n; k++) {
        int py = (int)floor(fy(&f, ty.v[k]));
        if (py < f.y || py >= f.y + f.h) continue;
        canvas_fill_rect(c, f.x, py, f.w, 1, GRID);
        canvas_fill_rect(c, f.x - TICKLEN, py, TICKLEN, 1, FRAME);
        int lw = font_text_width(ty.label[k], TS);
        canvas_text(c, f.x - TICKLEN - 4 - lw, py - TH / 2, ty.label[k], TS, INK);
    }
    canvas_clip(c, f.x, f.y, f.w, f.h);
    for (int k = 0; k < ns; k++) draw_series(c, &f, &s[k], series_color(&s[k], k));
    canvas_unclip(c);
    canvas_rect(c, f.x - 1, f.y - 1, f.w + 2, f.h + 2, FRAME);
    if (!o->no_legend) draw_legend(c, &f, s, ns);

    if (o->title && o->title[0]) {
        int tw = font_text_width(o->title, TS);
        canvas_text(c, f.x + (f.w - tw) / 2, Y + 12, o->title, TS, INK);
    }
    if (o->xlabel && o->xlabel[0]) {
        int tw = font_text_width(o->xlabel, TS);
        canvas_text(c, f.x + (f.w - tw) / 2, f.y + f.h + TICKLEN + 6 + TH + 10, o->xlabel, TS, INK);
    }
    if (o->ylabel && o->ylabel[0]) {
        int tw = font_text_width(o->ylabel, TS);
        canvas_text_vertical(c, X + 10, f.y + (f.h - tw) / 2, o->ylabel, TS, INK);
    }
}

int plot_lines(const char *out_png, const plot_series *s, int ns, const plot_lines_opts *o, dp_err *e) {
    if (ns < 1) return dp_fail(e, DP_EUSAGE, "plot '%s': no series to plot", out_png);
    int w = o && o->width > 0 ? o->width : PLOT_LINES_W, h = o && o->height > 0 ? o->height : PLOT_LINES_H;
    plot_canvas c;
    int rc = canvas_init(&c, w, h, WHITE, e);
    if (rc) return rc;
    plot_lines_draw(&c, 0, 0, w, h, s, ns, o);
    rc = canvas_write_png(&c, out_png, e);
    canvas_free(&c);
    return rc;
}

/* ------------------------------------------------------------------ heatmaps */

static double luminance(plot_rgb c) { return (0.299 * c.r + 0.587 * c.g + 0.114 * c.b) / 255; }

/* Marching squares for one level over the grid z (already in display space). */
static void contour(plot_canvas *c, const double *z, int nx, int ny, double level, int ax, int ay, int aw,
                    int ah, plot_rgb col) {
    for (int j = 0; j + 1 < ny; j++)
        for (int i = 0; i + 1 < nx; i++) {
            double v[4] = {z[j * nx + i], z[j * nx + i + 1], z[(j + 1) * nx + i + 1], z[(j + 1) * nx + i]};
            /* corners counter-clockwise from (i, j): gx, gy offsets */
            static const int ox[4] = {0, 1, 1, 0}, oy[4] = {0, 0, 1, 1};
            int ok = 1;
            for (int k = 0; k < 4; k++) ok &= isfinite(v[k]);
            if (!ok) continue;
            double px[4], py[4];
            int cut[4] = {0};
            for (int k = 0; k < 4; k++) { /* edge k joins corner k and k + 1 */
                int k2 = (k + 1) % 4;
                if ((v[k] < level) == (v[k2] < level)) continue;
                double t = (level - v[k]) / (v[k2] - v[k]);
                double gx = i + ox[k] + (ox[k2] - ox[k]) * t, gy = j + oy[k] + (oy[k2] - oy[k]) * t;
                px[k] = ax + gx / (nx - 1) * aw;
                py[k] = ay + ah - gy / (ny - 1) * ah;
                cut[k] = 1;
            }
            int n = cut[0] + cut[1] + cut[2] + cut[3];
            if (n == 2) {
                int a = -1, b = -1;
                for (int k = 0; k < 4; k++)
                    if (cut[k]) {
                        if (a < 0) a = k;
                        else b = k;
                    }
                canvas_line(c, px[a], py[a], px[b], py[b], 1.4, col);
            } else if (n == 4) { /* saddle: the centre value decides the pairing */
                double m = (v[0] + v[1] + v[2] + v[3]) / 4;
                if ((m < level) == (v[0] < level)) { /* corner 0 joins the centre: cut off 1 and 3 */
                    canvas_line(c, px[0], py[0], px[1], py[1], 1.4, col);
                    canvas_line(c, px[2], py[2], px[3], py[3], 1.4, col);
                } else {
                    canvas_line(c, px[3], py[3], px[0], py[0], 1.4, col);
                    canvas_line(c, px[1], py[1], px[2], py[2], 1.4, col);
                }
            }
        }
}

int plot_heatmap(const char *out_png, const double *values, int nx, int ny, double x0, double x1, double y0,
                 double y1, const plot_heatmap_opts *o, dp_err *e) {
    static const plot_heatmap_opts none = {0};
    if (!o) o = &none;
    if (nx < 2 || ny < 2) return dp_fail(e, DP_EUSAGE, "heatmap '%s': grid %dx%d, need at least 2x2", out_png, nx, ny);
    if (!(x1 > x0) || !(y1 > y0) || !isfinite(x1 - x0) || !isfinite(y1 - y0))
        return dp_fail(e, DP_EUSAGE, "heatmap '%s': empty range [%g, %g] x [%g, %g]", out_png, x0, x1, y0, y1);
    int w = o->width > 0 ? o->width : PLOT_HEATMAP_W, h = o->height > 0 ? o->height : PLOT_HEATMAP_H;
    int ax, ay, aw, ah;
    plot_heatmap_area(w, h, &ax, &ay, &aw, &ah);
    if (aw < 20 || ah < 20) return dp_fail(e, DP_EUSAGE, "heatmap '%s': image %dx%d too small", out_png, w, h);
    size_t n = (size_t)nx * ny;
    double *z = dp_calloc(n, sizeof *z, "heatmap values", e);
    if (!z) return DP_ENOMEM;
    int logz = o->log_z, nfin = 0;
    for (size_t k = 0; k < n; k++)
        if (isfinite(values[k]) && !(values[k] > 0)) logz = 0;
    double vmin = DBL_MAX, vmax = -DBL_MAX;
    for (size_t k = 0; k < n; k++) {
        z[k] = logz && isfinite(values[k]) ? log10(values[k]) : values[k];
        if (isfinite(z[k])) {
            vmin = fmin(vmin, z[k]);
            vmax = fmax(vmax, z[k]);
            nfin++;
        }
    }
    if (o->fixed_range && o->zmax > o->zmin && (!logz || o->zmin > 0)) {
        vmin = logz ? log10(o->zmin) : o->zmin; /* values outside get the end colours */
        vmax = logz ? log10(o->zmax) : o->zmax;
    }
    int constant = nfin > 0 && vmax == vmin;
    double lo = vmin, hi = vmax; /* the colour bar's range */
    if (!nfin) lo = 0, hi = 1;
    else if (constant) {
        double d = logz ? 0.5 : (vmin != 0 ? fabs(vmin) * 0.05 : 0.5);
        lo = vmin - d, hi = vmin + d;
    }

    plot_canvas c;
    int rc = canvas_init(&c, w, h, WHITE, e);
    if (rc) {
        free(z);
        return rc;
    }
    /* pixels: bilinear interpolation between grid points at the pixel centre */
    for (int py = 0; py < ah; py++) {
        double gy = (ah - (py + 0.5)) / ah * (ny - 1);
        int j = (int)gy;
        if (j > ny - 2) j = ny - 2;
        double fy_ = gy - j;
        for (int px = 0; px < aw; px++) {
            double gx = (px + 0.5) / aw * (nx - 1);
            int i = (int)gx;
            if (i > nx - 2) i = nx - 2;
            double fx_ = gx - i;
            double a = z[j * nx + i], b = z[j * nx + i + 1], cc = z[(j + 1) * nx + i], d = z[(j + 1) * nx + i + 1];
            plot_rgb col;
            if (!isfinite(a) || !isfinite(b) || !isfinite(cc) || !isfinite(d)) col = NANGREY;
            else {
                double v = (a * (1 - fx_) + b * fx_) * (1 - fy_) + (cc * (1 - fx_) + d * fx_) * fy_;
                col = plot_colormap(constant ? 0.5 : (v - lo) / (hi - lo));
            }
            canvas_blend(&c, ax + px, ay + py, col, 1);
        }
    }
    /* contours */
    int nlev = o->ncontours == 0 ? 8 : o->ncontours < 0 ? 0 : o->ncontours;
    if (nlev > 64) nlev = 64;
    if (!nfin || constant) nlev = 0;
    double levels[64];
    plot_contour_levels(vmin, vmax, nlev, levels);
    canvas_clip(&c, ax, ay, aw, ah);
    for (int k = 0; k < nlev; k++) {
        plot_rgb lc = luminance(plot_colormap((levels[k] - lo) / (hi - lo))) > 0.5 ? BLACK : WHITE;
        contour(&c, z, nx, ny, levels[k], ax, ay, aw, ah, lc);
    }
    /* markers on top, labels with a halo, kept inside the plot area */
    for (int k = 0; k < o->nmarkers; k++) {
        const plot_marker *m = &o->markers[k];
        if (!isfinite(m->x) || !isfinite(m->y)) continue;
        double mx = ax + (m->x - x0) / (x1 - x0) * aw, my = ay + ah - (m->y - y0) / (y1 - y0) * ah;
        canvas_disc(&c, mx, my, 5, (plot_rgb){230, 40, 40}, 1, WHITE);
        if (!m->label || !m->label[0]) continue;
        int lw = font_text_width(m->label, TS);
        int lx = (int)mx + 9, ly = (int)my - TH - 5;
        if (lx + lw > ax + aw - 2) lx = (int)mx - 9 - lw;
        if (ly < ay + 2) ly = (int)my + 7;
        text_halo(&c, lx, ly, m->label, TS, BLACK, WHITE);
    }
    canvas_unclip(&c);
    canvas_rect(&c, ax - 1, ay - 1, aw + 2, ah + 2, FRAME);

    /* axes */
    tickset tx, ty;
    axis xa = {x0, x1, 0}, ya = {y0, y1, 0};
    make_ticks(&xa, aw / 110 < 2 ? 2 : aw / 110, &tx);
    make_ticks(&ya, ah / 80 < 2 ? 2 : ah / 80, &ty);
    for (int k = 0; k < tx.n; k++) {
        int px = ax + (int)floor(ax_frac(&xa, tx.v[k]) * aw);
        if (px >= ax + aw) px = ax + aw - 1;
        canvas_fill_rect(&c, px, ay + ah + 1, 1, TICKLEN, FRAME);
        int lw = font_text_width(tx.label[k], TS);
        canvas_text(&c, px - lw / 2, ay + ah + TICKLEN + 6, tx.label[k], TS, INK);
    }
    for (int k = 0; k < ty.n; k++) {
        int py = ay + ah - (int)floor(ax_frac(&ya, ty.v[k]) * ah);
        if (py >= ay + ah) py = ay + ah - 1;
        canvas_fill_rect(&c, ax - 1 - TICKLEN, py, TICKLEN, 1, FRAME);
        int lw = font_text_width(ty.label[k], TS);
        canvas_text(&c, ax - TICKLEN - 5 - lw, py - TH / 2, ty.label[k], TS, INK);
    }
    if (o->title && o->title[0]) {
        int tw = font_text_width(o->title, TS);
        canvas_text(&c, ax + (aw - tw) / 2, (PLOT_HEATMAP_MT - TH) / 2, o->title, TS, INK);
    }
    if (o->xlabel && o->xlabel[0]) {
        int tw = font_text_width(o->xlabel, TS);
        canvas_text(&c, ax + (aw - tw) / 2, ay + ah + TICKLEN + 6 + TH + 12, o->xlabel, TS, INK);
    }
    if (o->ylabel && o->ylabel[0]) {
        int tw = font_text_width(o->ylabel, TS);
        canvas_text_vertical(&c, 10, ay + (ah - tw) / 2, o->ylabel, TS, INK);
    }

    /* colour bar with the contour levels marked on it */
    int bx = ax + aw + 22, bw = 22;
    for (int py = 0; py < ah; py++)
        canvas_fill_rect(&c, bx, ay + py, bw, 1, nfin ? plot_colormap(1 - (py + 0.5) / ah) : NANGREY);
    axis za = {lo, hi, logz};
    for (int k = 0; k < nlev; k++) {
        double py = ay + ah - (levels[k] - lo) / (hi - lo) * ah;
        plot_rgb lc = luminance(plot_colormap((levels[k] - lo) / (hi - lo))) > 0.5 ? BLACK : WHITE;
        canvas_line(&c, bx, py, bx + bw, py, 1.2, lc);
    }
    canvas_rect(&c, bx - 1, ay - 1, bw + 2, ah + 2, FRAME);
    tickset tz;
    make_ticks(&za, ah / 70 < 2 ? 2 : ah / 70, &tz);
    for (int k = 0; k < tz.n; k++) {
        int py = ay + ah - (int)floor(ax_frac(&za, tz.v[k]) * ah);
        if (py >= ay + ah) py = ay + ah - 1;
        canvas_fill_rect(&c, bx + bw + 1, py, TICKLEN, 1, FRAME);
        canvas_text(&c, bx + bw + TICKLEN + 5, py - TH / 2, tz.label[k], TS, INK);
    }
    if (o->zlabel && o->zlabel[0]) {
        int tw = font_text_width(o->zlabel, TS);
        int zx = bx + bw + TICKLEN + 5 + max_label_width(&tz, TS) + 12; /* next to the labels */
        if (zx > w - 4 - TH - FONT_DESCENT * TS) zx = w - 4 - TH - FONT_DESCENT * TS;
        canvas_text_vertical(&c, zx, ay + (ah - tw) / 2, o->zlabel, TS, INK);
    }
    free(z);
    rc = canvas_write_png(&c, out_png, e);
    canvas_free(&c);
    return rc;
}

/* ------------------------------------------------------------------ training curves */

/* The run's name: the folder holding the csv ("runs/a/metrics.csv" -> "a"),
 * or the file name without ".csv" when there is no folder. */
static void run_name(const char *path, char *out, size_t cap) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    size_t end = len;
    while (end > 0 && path[end - 1] != '/') end--; /* start of the file name */
    if (end > 0) {
        size_t dend = end - 1; /* the slash */
        while (dend > 0 && path[dend - 1] == '/') dend--;
        size_t dstart = dend;
        while (dstart > 0 && path[dstart - 1] != '/') dstart--;
        if (dend > dstart && !(dend - dstart == 1 && path[dstart] == '.')) {
            snprintf(out, cap, "%.*s", (int)(dend - dstart), path + dstart);
            return;
        }
    }
    size_t flen = len - end;
    if (flen > 4 && strncmp(path + len - 4, ".csv", 4) == 0) flen -= 4;
    snprintf(out, cap, "%.*s", (int)flen, path + end);
}

typedef struct {
    csv_table t;
    char name[128];
    const double *epoch, *train_loss, *test_loss, *comm;
    double *train_acc, *test_acc; /* in percent */
} run_data;

static void draw_run_legend(plot_canvas *c, int X, int Y, int W, int H, run_data *runs, int n) {
    int x = X + 40, y = Y + 30;
    canvas_text(c, x, y, "runs", TS, INK);
    y += TH + 14;
    int avail = H - (y - Y) - 3 * (TH + 10) - 20;
    int row = n ? avail / n : 0;
    if (row > TH + 10) row = TH + 10;
    int scale = row >= TH + 4 ? TS : 1;
    int maxchars = (W - 80 - 48) / (FONT_CELL_W * scale);
    for (int k = 0; k < n; k++) {
        char label[160];
        if ((int)strlen(runs[k].name) > maxchars && maxchars > 3)
            snprintf(label, sizeof label, "%.*s..", maxchars - 2, runs[k].name);
        else snprintf(label, sizeof label, "%s", runs[k].name);
        double ly = y + font_text_height(scale) / 2.0;
        canvas_line(c, x, ly, x + 36, ly, 3.0, plot_palette(k));
        canvas_text(c, x + 48, y, label, scale, INK);
        y += row > 0 ? row : 1;
    }
    y += 16;
    pen solid = {c, INK, 2.0, 0, 0}, dashed = {c, INK, 2.0, 1, 0};
    pen_segment(&solid, x, y + TH / 2.0, x + 36, y + TH / 2.0);
    canvas_text(c, x + 48, y, "test (averaged model)", TS, INK);
    y += TH + 10;
    pen_segment(&dashed, x, y + TH / 2.0, x + 36, y + TH / 2.0);
    canvas_text(c, x + 48, y, "train", TS, INK);
}

int plot_metrics(const char *const *csv_paths, int n, const char *out_png, dp_err *e) {
    if (n < 1) return dp_fail(e, DP_EUSAGE, "plot '%s': no metrics.csv files given", out_png);
    int rc = 0;
    run_data *runs = dp_calloc((size_t)n, sizeof *runs, "runs", e);
    plot_series *s = dp_calloc((size_t)2 * n, sizeof *s, "series", e);
    plot_canvas c = {0};
    if (!runs || !s) {
        rc = DP_ENOMEM;
        goto done;
    }
    static const char *need[] = {"epoch", "train_loss", "test_loss", "train_acc", "test_acc"};
    double lmin = DBL_MAX, lmax = 0;
    for (int r = 0; r < n; r++) {
        run_data *d = &runs[r];
        if ((rc = csv_read(csv_paths[r], &d->t, e))) goto done;
        for (int k = 0; k < 5; k++)
            if (!csv_col(&d->t, need[k])) {
                rc = dp_fail(e, DP_EIO, "'%s' has no column '%s' (not a metrics.csv?)", csv_paths[r], need[k]);
                goto done;
            }
        run_name(csv_paths[r], d->name, sizeof d->name);
        d->epoch = csv_col(&d->t, "epoch");
        d->train_loss = csv_col(&d->t, "train_loss");
        d->test_loss = csv_col(&d->t, "test_loss");
        d->comm = csv_col(&d->t, "comm_rounds");
        int m = d->t.nrows;
        d->train_acc = dp_calloc((size_t)m, sizeof(double), "accuracy", e);
        d->test_acc = dp_calloc((size_t)m, sizeof(double), "accuracy", e);
        if (!d->train_acc || !d->test_acc) {
            rc = DP_ENOMEM;
            goto done;
        }
        const double *tra = csv_col(&d->t, "train_acc"), *tea = csv_col(&d->t, "test_acc");
        for (int i = 0; i < m; i++) {
            d->train_acc[i] = 100 * tra[i];
            d->test_acc[i] = 100 * tea[i];
            double l[2] = {d->train_loss[i], d->test_loss[i]};
            for (int k = 0; k < 2; k++)
                if (isfinite(l[k]) && l[k] > 0) lmin = fmin(lmin, l[k]), lmax = fmax(lmax, l[k]);
        }
    }
    if ((rc = canvas_init(&c, PLOT_METRICS_W, PLOT_METRICS_H, WHITE, e))) goto done;
    const int pw = PLOT_METRICS_W / 2, ph = PLOT_METRICS_H / 2;
    /* panel 1: loss vs epoch; panel 2: accuracy vs epoch (train dashed, test solid) */
    for (int panel = 0; panel < 2; panel++) {
        for (int r = 0; r < n; r++) {
            run_data *d = &runs[r];
            plot_series tr = {NULL, d->epoch, panel ? d->train_acc : d->train_loss, d->t.nrows, 1, 1, plot_palette(r), 0};
            plot_series te = {NULL, d->epoch, panel ? d->test_acc : d->test_loss, d->t.nrows, 0, 1, plot_palette(r), 0};
            s[2 * r] = tr;
            s[2 * r + 1] = te;
        }
        plot_lines_opts o = {0};
        o.no_legend = 1;
        o.xlabel = "epoch";
        o.ylabel = panel ? "accuracy (%)" : "loss";
        o.title = panel ? "accuracy" : "loss";
        o.log_y = !panel && lmax > 30 * lmin && lmin < DBL_MAX;
        if (o.log_y) o.ylabel = "loss (log scale)";
        plot_lines_draw(&c, panel * pw, 0, pw, ph, s, 2 * n, &o);
    }
    /* panel 3: test accuracy vs communication rounds - the accuracy/communication trade-off */
    int ns = 0;
    for (int r = 0; r < n; r++)
        if (runs[r].comm) s[ns++] = (plot_series){NULL, runs[r].comm, runs[r].test_acc, runs[r].t.nrows, 0, 1, plot_palette(r), 0};
    plot_lines_opts o3 = {0};
    o3.no_legend = 1;
    o3.title = "test accuracy vs communication";
    o3.xlabel = "communication rounds";
    o3.ylabel = "test accuracy (%)";
    plot_lines_draw(&c, 0, ph, pw, ph, s, ns, &o3);
    /* panel 4: one legend for the whole picture */
    draw_run_legend(&c, pw, ph, pw, ph, runs, n);
    rc = canvas_write_png(&c, out_png, e);
done:
    if (runs)
        for (int r = 0; r < n; r++) {
            csv_free(&runs[r].t);
            free(runs[r].train_acc);
            free(runs[r].test_acc);
        }
    free(runs);
    free(s);
    canvas_free(&c);
    return rc;
}

/* ------------------------------------------------------------------ any two columns */

/* A series' name: the file name without ".csv", or the run's folder for a
 * metrics.csv (so sweeps' per-run files and gathered tables both read well). */
static void series_name(const char *path, char *out, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strcmp(base, "metrics.csv")) {
        run_name(path, out, cap);
        return;
    }
    size_t len = strlen(base);
    if (len > 4 && !strcmp(base + len - 4, ".csv")) len -= 4;
    snprintf(out, cap, "%.*s", (int)len, base);
}

int plot_columns(const char *const *csv_paths, int n, const char *xcol, const char *ycol, int points,
                 const plot_lines_opts *opts, const char *out_png, dp_err *e) {
    if (n < 1) return dp_fail(e, DP_EUSAGE, "plot '%s': no csv files given", out_png);
    int rc = 0;
    csv_table *t = dp_calloc((size_t)n, sizeof *t, "tables", e);
    plot_series *s = dp_calloc((size_t)n, sizeof *s, "series", e);
    char(*names)[64] = dp_calloc((size_t)n, sizeof *names, "names", e);
    if (!t || !s || !names) {
        rc = DP_ENOMEM;
        goto done;
    }
    for (int k = 0; k < n; k++) {
        if ((rc = csv_read(csv_paths[k], &t[k], e))) goto done;
        const char *want[2] = {xcol, ycol};
        for (int a = 0; a < 2; a++)
            if (!csv_col(&t[k], want[a])) {
                rc = dp_fail(e, DP_EUSAGE, "'%s' has no column '%s'", csv_paths[k], want[a]);
                goto done;
            }
        series_name(csv_paths[k], names[k], sizeof names[k]);
        s[k] = (plot_series){names[k], csv_col(&t[k], xcol), csv_col(&t[k], ycol), t[k].nrows, 0, 0, {0, 0, 0}, points};
    }
    plot_lines_opts o = opts ? *opts : (plot_lines_opts){0};
    if (!o.xlabel) o.xlabel = xcol;
    if (!o.ylabel) o.ylabel = ycol;
    rc = plot_lines(out_png, s, n, &o, e);
done:
    if (t)
        for (int k = 0; k < n; k++) csv_free(&t[k]);
    free(t);
    free(s);
    free(names);
    return rc;
}
