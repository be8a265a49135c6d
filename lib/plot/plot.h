/* plot.h - figures: line plots (with error bands), heatmaps with contours, a
 * colour bar and markers, and the training-curves picture made from
 * metrics.csv files. Drawn with cairo (canvas.h): anti-aliased, DejaVu Sans
 * text, written as PNG (with metadata), SVG or PDF, atomically.
 *
 * Sizes are inches; a PNG has dpi pixels an inch (plot_output.dpi, default
 * 100), so the defaults below are 640 x 480 pixels and so on:
 *   plot_lines    PLOT_LINES_W x PLOT_LINES_H     = 6.4 x 4.8 (matplotlib's default)
 *   plot_heatmap  PLOT_HEATMAP_W x PLOT_HEATMAP_H = 6.4 x 5.3
 *   plot_metrics  PLOT_METRICS_W x PLOT_METRICS_H = 11 x 8
 * Errors: DP_EUSAGE for bad arguments (no data, grid smaller than 2x2, an
 * unknown --group-by key), DP_EIO for unreadable inputs and unwritable
 * outputs, DP_ENOMEM. */
#ifndef DPPF_PLOT_H
#define DPPF_PLOT_H

#include <stdint.h>

#include "canvas.h"
#include "error.h"

#define PLOT_LINES_W 6.4
#define PLOT_LINES_H 4.8
#define PLOT_HEATMAP_W 6.4
#define PLOT_HEATMAP_H 5.3
#define PLOT_METRICS_W 11.0
#define PLOT_METRICS_H 8.0

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

/* A rectangle in pixels of a PNG. */
typedef struct {
    int x, y, w, h;
} plot_rect;

/* ---- line plots ---- */

typedef struct {
    const char *name; /* legend entry; NULL or "" = not in the legend */
    const double *x, *y;
    int n;            /* points; non-finite x or y break the line */
    int dashed;
    int use_color;    /* 0: plot_palette(series index) */
    plot_rgb color;
    int points;       /* markers only, no line (scatter) */
    const double *ylo, *yhi; /* nullable: a band from ylo to yhi (mean -/+ std), translucent */
} plot_series;

typedef struct {
    double width, height; /* inches; 0: PLOT_LINES_W x PLOT_LINES_H */
    const char *title, *xlabel, *ylabel;
    int log_x, log_y;  /* logarithmic axes (points with non-positive values are skipped) */
    int no_legend;
    const char *legend_title; /* nullable: a heading over the legend's entries */
} plot_lines_opts;

int plot_lines(const plot_output *out, const plot_series *s, int ns, const plot_lines_opts *o, dp_err *e);
/* Draws the same plot into the rectangle (x, y, w, h), in points, of a figure
 * being drawn (for several panels in one figure). */
void plot_lines_draw(plot_canvas *c, double x, double y, double w, double h, const plot_series *s, int ns,
                     const plot_lines_opts *o);
/* A figure's title, centred at its top (12 pt bold). */
void plot_suptitle(plot_canvas *c, const char *title);

/* ---- heatmaps ---- */

typedef struct {
    double x, y;
    const char *label; /* drawn next to the marker; may be NULL */
} plot_marker;

typedef struct {
    double width, height; /* inches; 0: PLOT_HEATMAP_W x PLOT_HEATMAP_H */
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
 * the colormap is dark and black where it is light. nx, ny >= 2. The plot
 * area is square. */
int plot_heatmap(const plot_output *out, const double *values, int nx, int ny, double x0, double x1, double y0,
                 double y1, const plot_heatmap_opts *o, dp_err *e);
/* Where plot_heatmap puts the plot area (grid point (i, j) at pixel-space
 * x = area.x + i / (nx - 1) * area.w, y = area.y + area.h - j / (ny - 1) * area.h)
 * and the colour bar (low end at the bottom), in pixels of its PNG at `dpi`
 * (0 = PLOT_DPI). o nullable. */
void plot_heatmap_layout(const plot_heatmap_opts *o, double dpi, plot_rect *area, plot_rect *bar);

/* ---- training curves ---- */

/* One PLOT_METRICS_W x PLOT_METRICS_H figure from n >= 1 metrics.csv files
 * (columns epoch, train_loss, test_loss, train_acc, test_acc, and optionally
 * comm_rounds): a 2x2 grid of loss vs epoch, accuracy (%) vs epoch (train
 * dashed, test solid), test accuracy vs communication rounds, and a legend
 * naming each run by the folder holding its csv, one colour per run. The
 * loss axis is logarithmic when the losses span more than a factor of 30.
 *
 * group_by (nullable): a spec key; runs whose spec.yaml (next to the csv)
 * give it the same value are one series, named by the value: the mean over
 * them at each x they share, with a band of mean -/+ std (sample std; none
 * for a single run). */
int plot_metrics(const char *const *csv_paths, int n, const char *group_by, const plot_output *out, dp_err *e);

/* ---- any two columns ---- */

/* Column ycol against column xcol of each csv file (numeric, with a header),
 * one series per file named by the file (or, for a metrics.csv, its folder);
 * `points`: markers only (a scatter plot). The axis labels default to the
 * column names. A missing column is DP_EUSAGE naming file and column.
 * group_by as for plot_metrics. */
int plot_columns(const char *const *csv_paths, int n, const char *xcol, const char *ycol, int points,
                 const plot_lines_opts *o, const char *group_by, const plot_output *out, dp_err *e);

#endif
