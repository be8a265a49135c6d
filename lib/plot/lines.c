/* lines.c - line plots: series (lines, markers, error bands), axes, legend (plot.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "axes.h"
#include "plot.h"

#define MARKER_R 3.0   /* scatter markers: matplotlib's 6 pt 'o' */
#define DOT_R 2.0      /* the points of short lines */
#define BAND_ALPHA 0.22

static const double DASH[2] = {5.5, 2.4}; /* matplotlib's "--" at 1.5 pt */

static int point_ok(const frame *f, double x, double y) {
    return isfinite(x) && isfinite(y) && (!f->ax.log || x > 0) && (!f->ay.log || y > 0);
}

static plot_rgb series_color(const plot_series *s, int k) { return s->use_color ? s->color : plot_palette(k); }

/* The band of one series: a polygon per run of consecutive drawable points. */
static void draw_band(plot_canvas *c, const frame *f, const plot_series *s, plot_rgb col) {
    double *px = malloc(sizeof(double) * 2 * (size_t)s->n), *py = malloc(sizeof(double) * 2 * (size_t)s->n);
    if (!px || !py) { /* a band is decoration: without memory, no band */
        free(px);
        free(py);
        return;
    }
    for (int i = 0; i < s->n;) {
        int j = i;
        while (j < s->n && point_ok(f, s->x[j], s->ylo[j]) && point_ok(f, s->x[j], s->yhi[j])) j++;
        if (j - i >= 2) {
            int m = 0;
            for (int k = i; k < j; k++, m++) px[m] = frame_x(f, s->x[k]), py[m] = frame_y(f, s->yhi[k]);
            for (int k = j - 1; k >= i; k--, m++) px[m] = frame_x(f, s->x[k]), py[m] = frame_y(f, s->ylo[k]);
            canvas_fill_polygon(c, px, py, m, col, BAND_ALPHA);
        }
        i = j > i ? j : i + 1;
    }
    free(px);
    free(py);
}

static void draw_series(plot_canvas *c, const frame *f, const plot_series *s, plot_rgb col) {
    if (s->points) { /* scatter: a ringed disc per point */
        for (int i = 0; i < s->n; i++)
            if (point_ok(f, s->x[i], s->y[i]))
                canvas_disc(c, frame_x(f, s->x[i]), frame_y(f, s->y[i]), MARKER_R, col, 0.8, PLOT_WHITE);
        return;
    }
    double *px = malloc(sizeof(double) * (size_t)s->n), *py = malloc(sizeof(double) * (size_t)s->n);
    if (!px || !py) {
        free(px);
        free(py);
        return;
    }
    for (int i = 0; i < s->n; i++) {
        int ok = point_ok(f, s->x[i], s->y[i]);
        px[i] = ok ? frame_x(f, s->x[i]) : NAN;
        py[i] = ok ? frame_y(f, s->y[i]) : NAN;
    }
    canvas_polyline(c, px, py, s->n, LINE_LW, col, s->dashed ? DASH : NULL, s->dashed ? 2 : 0);
    for (int i = 0; i < s->n; i++) {
        if (!isfinite(px[i])) continue;
        int isolated = (i == 0 || !isfinite(px[i - 1])) && (i + 1 == s->n || !isfinite(px[i + 1]));
        if (isolated || s->n <= 40) /* few points (e.g. per-epoch evaluations): mark them */
            canvas_disc(c, px[i], py[i], DOT_R, col, 0, col);
    }
    free(px);
    free(py);
}

/* How much of the data passes through a box (sampled every ~2 pt). */
static int box_hits(const frame *f, const plot_series *s, int ns, double bx, double by, double bw, double bh) {
    int hits = 0;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            if (!point_ok(f, s[k].x[i], s[k].y[i])) continue;
            double x0 = frame_x(f, s[k].x[i]), y0 = frame_y(f, s[k].y[i]), x1 = x0, y1 = y0;
            if (i + 1 < s[k].n && point_ok(f, s[k].x[i + 1], s[k].y[i + 1])) {
                x1 = frame_x(f, s[k].x[i + 1]);
                y1 = frame_y(f, s[k].y[i + 1]);
            }
            int m = (int)(hypot(x1 - x0, y1 - y0) / 2) + 1;
            for (int t = 0; t <= m; t++) {
                double x = x0 + (x1 - x0) * t / m, y = y0 + (y1 - y0) * t / m;
                hits += x >= bx && x < bx + bw && y >= by && y < by + bh;
            }
        }
    return hits;
}

/* A legend entry's handle: line (dashed or not) or marker, over its band's colour. */
static void draw_handle(plot_canvas *c, const plot_series *s, plot_rgb col, double x, double y, double len) {
    if (s->ylo && s->yhi) canvas_fill_rect(c, x, y - 4, len, 8, col, BAND_ALPHA);
    if (s->points) {
        canvas_disc(c, x + len / 2, y, MARKER_R, col, 0.8, PLOT_WHITE);
        return;
    }
    double lx[2] = {x, x + len}, ly[2] = {y, y};
    canvas_polyline(c, lx, ly, 2, LINE_LW, col, s->dashed ? DASH : NULL, s->dashed ? 2 : 0);
}

/* matplotlib's legend: 2 em handles, 0.8 em to the text, 0.5 em between rows,
 * a white box of 80% opacity with a light edge in the emptiest corner. */
static void draw_legend(plot_canvas *c, const frame *f, const plot_series *s, int ns, const char *title) {
    const double fs = FONT_SIZE, hlen = 2 * fs, gap = 0.8 * fs, row = 1.5 * fs, pad = 0.5 * fs;
    int n = 0;
    double tw = title && title[0] ? canvas_text_width(c, title, fs, 0) - hlen - gap : 0;
    for (int k = 0; k < ns; k++)
        if (s[k].name && s[k].name[0]) {
            n++;
            tw = fmax(tw, canvas_text_width(c, s[k].name, fs, 0));
        }
    if (!n) return;
    int nrows = n + (title && title[0]);
    double bw = pad + hlen + gap + tw + pad, bh = 2 * pad + nrows * row - 0.5 * fs;
    if (bw > f->w - 10) bw = f->w - 10;
    int best = -1;
    double bx = 0, by = 0;
    for (int corner = 0; corner < 4; corner++) { /* top-right, top-left, bottom-right, bottom-left */
        double x = corner % 2 == 0 ? f->x + f->w - 5 - bw : f->x + 5;
        double y = corner < 2 ? f->y + 5 : f->y + f->h - 5 - bh;
        int hits = box_hits(f, s, ns, x, y, bw, bh);
        if (best < 0 || hits < best) best = hits, bx = x, by = y;
    }
    canvas_fill_rect(c, bx, by, bw, bh, PLOT_WHITE, 0.8);
    canvas_stroke_rect(c, bx, by, bw, bh, AXES_LW, (plot_rgb){204, 204, 204});
    canvas_clip(c, bx, by, bw - 2, bh);
    double y = by + pad + fs / 2;
    text_style st = text_plain(TEXT_LEFT, TEXT_MIDDLE);
    if (title && title[0]) {
        canvas_text(c, bx + pad, y, title, &st);
        y += row;
    }
    for (int k = 0; k < ns; k++) {
        if (!s[k].name || !s[k].name[0]) continue;
        draw_handle(c, &s[k], series_color(&s[k], k), bx + pad, y, hlen);
        canvas_text(c, bx + pad + hlen + gap, y, s[k].name, &st);
        y += row;
    }
    canvas_unclip(c);
}

/* Range of all series (and their bands) along x (which = 0) or y (which = 1),
 * over the points a plot with these log axes can show. */
static int data_range(const plot_series *s, int ns, int which, int log_x, int log_y, double *lo, double *hi) {
    *lo = DBL_MAX;
    *hi = -DBL_MAX;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++)
            for (int b = 0; b < 3; b++) {
                const double *ys = b == 0 ? s[k].y : b == 1 ? s[k].ylo : s[k].yhi;
                if (!ys) continue;
                double x = s[k].x[i], y = ys[i], v = which ? y : x;
                if (!isfinite(x) || !isfinite(y) || (log_x && !(x > 0)) || (log_y && !(y > 0))) continue;
                *lo = fmin(*lo, v);
                *hi = fmax(*hi, v);
            }
    return *lo <= *hi;
}

void plot_lines_draw(plot_canvas *c, double X, double Y, double W, double H, const plot_series *s, int ns,
                     const plot_lines_opts *o) {
    static const plot_lines_opts none = {0};
    if (!o) o = &none;
    frame f;
    double lo, hi;
    int scatter = 0;
    for (int k = 0; k < ns; k++) scatter |= s[k].points;
    /* x: the data range exactly (epochs start and end where the run did); a
     * scatter plot or a log axis gets 5% more so edge markers are not cut */
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
    const double line = 1.2 * FONT_SIZE; /* a line of 10 pt text */
    double top = o->title && o->title[0] ? 1.2 * TITLE_SIZE + 12 : 10;
    double bottom = TICK_LEN + TICK_PAD + line + (o->xlabel && o->xlabel[0] ? LABEL_PAD + line : 0) + 8;
    f.y = canvas_snap(c, Y + top);
    f.h = canvas_snap(c, Y + H - bottom) - f.y;
    /* y ticks: about one per 32 pt, thinned until neighbours are 1.8 lines apart
     * (log axes under a decade get linear ticks, crowded at the top) */
    int ytarget = f.h / 32 < 2 ? 2 : (int)(f.h / 32);
    for (int guard = 0; guard < 6; guard++) {
        make_ticks(&f.ay, ytarget, &ty);
        double closest = INFINITY;
        for (int k = 1; k < ty.n; k++)
            closest = fmin(closest, fabs(ax_frac(&f.ay, ty.v[k]) - ax_frac(&f.ay, ty.v[k - 1])) * f.h);
        if (ty.n < 3 || closest >= 1.8 * FONT_SIZE || ytarget <= 2) break;
        ytarget--;
    }
    double left = 6 + (o->ylabel && o->ylabel[0] ? line + LABEL_PAD : 0) + max_label_width(c, &ty) + TICK_LEN + TICK_PAD;
    f.x = canvas_snap(c, X + left);
    /* x ticks: about one per 70 pt, thinned until the labels are apart */
    double right = 14;
    f.w = canvas_snap(c, W - left - right + f.x) - f.x;
    int xtarget = f.w / 70 < 2 ? 2 : (int)(f.w / 70);
    make_ticks(&f.ax, xtarget, &tx);
    for (int guard = 0; guard < 4; guard++) {
        double widest = max_label_width(c, &tx);
        if (tx.n < 2 || widest + 12 < f.w / (tx.n - 1) * 0.9) break;
        make_ticks(&f.ax, --xtarget < 1 ? 1 : xtarget, &tx);
    }
    if (tx.n) { /* the last x label, centred on its tick, must fit in the figure */
        double last = frame_x(&f, tx.v[tx.n - 1]) + canvas_text_width(c, tx.label[tx.n - 1], FONT_SIZE, 0) / 2;
        if (last > X + W - 4) f.w -= last - (X + W - 4);
    }
    if (f.w < 20 || f.h < 20) return; /* too small to draw anything useful */

    draw_axes(c, &f, &tx, &ty, 1);
    canvas_clip(c, f.x, f.y, f.w, f.h);
    for (int k = 0; k < ns; k++)
        if (s[k].ylo && s[k].yhi) draw_band(c, &f, &s[k], series_color(&s[k], k));
    for (int k = 0; k < ns; k++) draw_series(c, &f, &s[k], series_color(&s[k], k));
    canvas_unclip(c);
    canvas_stroke_rect(c, f.x, f.y, f.w, f.h, AXES_LW, PLOT_INK); /* over the lines' ends */
    if (!o->no_legend) draw_legend(c, &f, s, ns, o->legend_title);
    draw_axis_labels(c, &f, o->title, o->xlabel, o->ylabel, X + 6);
}

int plot_lines(const plot_output *out, const plot_series *s, int ns, const plot_lines_opts *o, dp_err *e) {
    if (ns < 1) return dp_fail(e, DP_EUSAGE, "plot '%s': no series to plot", out->path);
    double w = o && o->width > 0 ? o->width : PLOT_LINES_W, h = o && o->height > 0 ? o->height : PLOT_LINES_H;
    plot_canvas c;
    int rc = canvas_begin(&c, 72 * w, 72 * h, out, e);
    if (rc) return rc;
    plot_lines_draw(&c, 0, 0, c.w, c.h, s, ns, o);
    return canvas_end(&c, e);
}
