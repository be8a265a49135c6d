/* plot.h - PNG plots: a small RGB canvas, line plots, heatmaps with contours,
 * and the training-curves picture made from metrics.csv files.
 *
 * Default image sizes (used when a width/height option is 0):
 *   plot_lines    PLOT_LINES_W x PLOT_LINES_H     = 800 x 600
 *   plot_heatmap  PLOT_HEATMAP_W x PLOT_HEATMAP_H = 800 x 700
 *   plot_metrics  PLOT_METRICS_W x PLOT_METRICS_H = 1200 x 900 (always)
 * All text uses the embedded 5x7 font (font.h). Errors: DP_EUSAGE for bad
 * arguments (no data, grid smaller than 2x2), DP_EIO for unreadable inputs
 * and unwritable outputs, DP_ENOMEM. */
#ifndef DPPF_PLOT_H
#define DPPF_PLOT_H

#include <stdint.h>

#include "error.h"

#define PLOT_LINES_W 800
#define PLOT_LINES_H 600
#define PLOT_HEATMAP_W 800
#define PLOT_HEATMAP_H 700
#define PLOT_METRICS_W 1200
#define PLOT_METRICS_H 900

/* Heatmap layout: the coloured plot area is the rectangle
 * [ML, w - MR) x [MT, h - MB) of a w x h heatmap image (see plot_heatmap_area). */
#define PLOT_HEATMAP_ML 100
#define PLOT_HEATMAP_MR 170
#define PLOT_HEATMAP_MT 50
#define PLOT_HEATMAP_MB 80

typedef struct {
    uint8_t r, g, b;
} plot_rgb;

/* ---- canvas ---- */

typedef struct {
    int w, h;
    uint8_t *px;              /* w * h * 3, row-major, top row first */
    int cx0, cy0, cx1, cy1;   /* clip rectangle [cx0, cx1) x [cy0, cy1) */
} plot_canvas;

int canvas_init(plot_canvas *c, int w, int h, plot_rgb bg, dp_err *e);
void canvas_free(plot_canvas *c);
void canvas_clip(plot_canvas *c, int x, int y, int w, int h); /* intersected with the image */
void canvas_unclip(plot_canvas *c);
/* Blends colour `col` into pixel (x, y) with opacity a in [0, 1]. */
void canvas_blend(plot_canvas *c, int x, int y, plot_rgb col, double a);
void canvas_fill_rect(plot_canvas *c, int x, int y, int w, int h, plot_rgb col);
void canvas_rect(plot_canvas *c, int x, int y, int w, int h, plot_rgb col); /* 1-px outline */
/* Anti-aliased line of the given width between pixel-space points (pixel
 * (i, j) covers [i, i+1) x [j, j+1); its centre is (i + 0.5, j + 0.5)). */
void canvas_line(plot_canvas *c, double x0, double y0, double x1, double y1, double width, plot_rgb col);
/* Anti-aliased disc; with `outline` a ring of width 1.5 in `ring` around it. */
void canvas_disc(plot_canvas *c, double cx, double cy, double r, plot_rgb col, int outline, plot_rgb ring);
void canvas_text(plot_canvas *c, int x, int y, const char *s, int scale, plot_rgb col);
void canvas_text_vertical(plot_canvas *c, int x, int y, const char *s, int scale, plot_rgb col);
int canvas_write_png(const plot_canvas *c, const char *path, dp_err *e);

/* ---- helpers shared with tests ---- */

/* The colormap (viridis): t in [0, 1] (clamped), 0 = low (dark purple), 1 = high (yellow). */
plot_rgb plot_colormap(double t);
/* Series colour k (tab10 palette, cycling). */
plot_rgb plot_palette(int k);
/* Ticks at multiples of a 1-2-5 step inside [lo, hi], about `target` of them;
 * returns the count (<= max). */
int plot_nice_ticks(double lo, double hi, int target, double *ticks, int max);
/* The heatmap's contour levels: n values evenly spaced strictly inside
 * (vmin, vmax): vmin + (k + 1) (vmax - vmin) / (n + 1). */
void plot_contour_levels(double vmin, double vmax, int n, double *levels);
/* The plot area of a w x h heatmap image (see the PLOT_HEATMAP_M* margins). */
void plot_heatmap_area(int w, int h, int *x, int *y, int *pw, int *ph);

/* ---- line plots ---- */

typedef struct {
    const char *name; /* legend entry; NULL or "" = not in the legend */
    const double *x, *y;
    int n;            /* points; non-finite x or y break the line */
    int dashed;
    int use_color;    /* 0: plot_palette(series index) */
    plot_rgb color;
    int points;       /* markers only, no line (scatter) */
} plot_series;

typedef struct {
    int width, height; /* 0: PLOT_LINES_W x PLOT_LINES_H */
    const char *title, *xlabel, *ylabel;
    int log_x, log_y;  /* logarithmic axes (points with non-positive values are skipped) */
    int no_legend;
} plot_lines_opts;

int plot_lines(const char *out_png, const plot_series *s, int ns, const plot_lines_opts *o, dp_err *e);
/* Draws the same plot into the rectangle (x, y, w, h) of an existing canvas. */
void plot_lines_draw(plot_canvas *c, int x, int y, int w, int h, const plot_series *s, int ns,
                     const plot_lines_opts *o);

/* ---- heatmaps ---- */

typedef struct {
    double x, y;
    const char *label; /* drawn next to the marker; may be NULL */
} plot_marker;

typedef struct {
    int width, height; /* 0: PLOT_HEATMAP_W x PLOT_HEATMAP_H */
    const char *title, *xlabel, *ylabel, *zlabel;
    int ncontours;     /* 0: 8 levels (plot_contour_levels over the finite range); < 0: none */
    int log_z;         /* colour by log10(value) (needs all finite values > 0, else ignored) */
    int fixed_range;   /* colour bar and contours over [zmin, zmax] (values, not log10) instead of
                        * the data's range, so several pictures share one scale */
    double zmin, zmax;
    const plot_marker *markers;
    int nmarkers;
} plot_heatmap_opts;

/* values[j * nx + i] is the value at (x0 + i (x1 - x0) / (nx - 1), y0 + j (y1 - y0) / (ny - 1)):
 * row 0 is the lowest y. Pixels are bilinearly interpolated; cells touching a
 * NaN/Inf value are grey. The colour range is the finite min..max (a constant
 * grid is drawn in the middle colour). Contours of each level are white where
 * the colormap is dark and black where it is light. nx, ny >= 2. */
int plot_heatmap(const char *out_png, const double *values, int nx, int ny, double x0, double x1, double y0,
                 double y1, const plot_heatmap_opts *o, dp_err *e);

/* ---- training curves ---- */

/* One PLOT_METRICS_W x PLOT_METRICS_H picture from n >= 1 metrics.csv files
 * (columns epoch, train_loss, test_loss, train_acc, test_acc, and optionally
 * comm_rounds): a 2x2 grid of loss vs epoch, accuracy (%) vs epoch (train
 * dashed, test solid), test accuracy vs communication rounds, and a legend
 * naming each run by the folder holding its csv, one colour per run. The
 * loss axis is logarithmic when the losses span more than a factor of 30. */
int plot_metrics(const char *const *csv_paths, int n, const char *out_png, dp_err *e);

/* ---- any two columns ---- */

/* Column ycol against column xcol of each csv file (numeric, with a header),
 * one series per file named by the file (or, for a metrics.csv, its folder);
 * `points`: markers only (a scatter plot). The axis labels default to the
 * column names. A missing column is DP_EUSAGE naming file and column. */
int plot_columns(const char *const *csv_paths, int n, const char *xcol, const char *ycol, int points,
                 const plot_lines_opts *o, const char *out_png, dp_err *e);

#endif
