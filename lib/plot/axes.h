/* axes.h - what line plots and heatmaps share: the style (sizes in points,
 * after matplotlib's defaults), axes that map data to a rectangle, tick
 * positions and labels, and drawing a frame with its ticks and labels.
 * Internal to plot/. */
#ifndef DPPF_AXES_H
#define DPPF_AXES_H

#include "canvas.h"

/* matplotlib's rcParams: 10 pt text, 12 pt titles, 0.8 pt axes and ticks
 * 3.5 pt long, 1.5 pt lines. */
#define FONT_SIZE 10.0
#define TITLE_SIZE 12.0
#define TICK_LEN 3.5
#define TICK_PAD 3.5
#define AXES_LW 0.8
#define LINE_LW 1.5
#define LABEL_PAD 4.0

extern const plot_rgb PLOT_INK, PLOT_WHITE, PLOT_BLACK, PLOT_GRID, PLOT_NANGREY;

/* Text styles: plain 10 pt ink, and variants. */
text_style text_plain(text_halign h, text_valign v);
text_style text_title(void);

/* An axis maps data values to [0, 1]; a log axis keeps lo/hi as log10. */
typedef struct {
    double lo, hi;
    int log;
} axis;

double ax_frac(const axis *a, double v);

#define MAXTICKS 32
typedef struct {
    int n;
    double v[MAXTICKS];
    char label[MAXTICKS][24];
} tickset;

/* About `target` ticks inside the axis range, labelled with as few decimals
 * as the step needs (1-2-5 multiples; powers of ten, or 1-2-5 per decade, on
 * log axes). */
void make_ticks(const axis *a, int target, tickset *t);
double max_label_width(plot_canvas *c, const tickset *t);

/* A plot area in points and its axes. */
typedef struct {
    double x, y, w, h;
    axis ax, ay;
} frame;

double frame_x(const frame *f, double v);
double frame_y(const frame *f, double v);

/* The x and y ticks (grid lines with `grid`) and their labels; the caller
 * strokes the frame after the data, so lines do not cover it. */
void draw_axes(plot_canvas *c, const frame *f, const tickset *tx, const tickset *ty, int grid);
/* Axis labels and a title centred on the frame: the x label below the tick
 * labels, the y label left of them at x = ylabel_x. */
void draw_axis_labels(plot_canvas *c, const frame *f, const char *title, const char *xlabel, const char *ylabel,
                      double ylabel_x);

#endif
