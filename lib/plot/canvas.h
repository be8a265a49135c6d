/* canvas.h - one figure being drawn with cairo, and where it goes.
 *
 * Coordinates are points (1/72 inch) from the top-left corner, so a figure
 * has the same layout in every format; a PNG has dpi / 72 pixels a point.
 * Lines, discs and text are anti-aliased; text is DejaVu Sans (cairo's toy
 * text API, i.e. fontconfig + FreeType).
 *
 * Every format is written atomically (base/file.h):
 *   PNG  cairo renders into memory; libpng writes it (io/png_write.h) with
 *        tEXt chunks Software (the build), Command (the command line) and
 *        Spec (the run's spec), and the resolution.
 *   SVG  cairo's SVG surface streams into memory; text is added as <text>
 *        elements (searchable and editable, not glyph outlines), then the
 *        whole goes into the atomic file.
 *   PDF  cairo's PDF surface streams into the atomic file (fonts embedded as
 *        subsets, text extractable); Creator = the build, Subject = the
 *        command line. */
#ifndef DPPF_CANVAS_H
#define DPPF_CANVAS_H

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum { PLOT_FMT_AUTO, PLOT_FMT_PNG, PLOT_FMT_SVG, PLOT_FMT_PDF } plot_format;

/* Where and how a figure is written. */
typedef struct {
    const char *path;
    plot_format format;  /* AUTO: by the path's extension (.png, .svg, .pdf; others: PNG) */
    double dpi;          /* PNG pixels per inch; 0 = PLOT_DPI */
    const char *command; /* metadata: the command line that made the figure (nullable) */
    const char *spec;    /* metadata: the spec of the run it shows (nullable) */
} plot_output;

#define PLOT_DPI 100.0

/* "png" | "svg" | "pdf"; DP_EUSAGE naming the value otherwise. */
int plot_format_parse(const char *s, plot_format *out, dp_err *e);
/* The format a plot_output resolves to, and its file extension ("png"). */
plot_format plot_format_of(const plot_output *o);
const char *plot_format_ext(plot_format f);

typedef struct {
    uint8_t r, g, b;
} plot_rgb;

typedef enum { TEXT_LEFT, TEXT_CENTER, TEXT_RIGHT } text_halign;
/* TOP: the top of capitals at y; MIDDLE: capitals centred on y; BASELINE;
 * BOTTOM: descenders end at y. */
typedef enum { TEXT_TOP, TEXT_MIDDLE, TEXT_BASELINE, TEXT_BOTTOM } text_valign;

typedef struct {
    double size;          /* points */
    int bold;
    double angle;         /* degrees counter-clockwise (90: reads bottom to top) */
    text_halign halign;   /* along the text's own direction */
    text_valign valign;
    plot_rgb color;
    double halo;          /* > 0: a white outline this wide (points), for text over a heatmap */
} text_style;

typedef struct {
    double w, h;     /* points */
    double scale;    /* device pixels per point: dpi / 72 for PNG, 1 for SVG and PDF */
    plot_format format;
    cairo_surface_t *surface;
    cairo_t *cr;
    /* SVG: cairo's output and the text elements, both in memory until the end */
    char *svg, *svg_text;
    size_t svg_len, svg_cap, text_len, text_cap;
    int oom;
    /* PDF: cairo streams straight into the atomic file */
    void *file; /* atomic_file * */
    plot_output out;
    char build[1024];
} plot_canvas;

/* Starts a w x h (points) figure on white. DP_EUSAGE for a size outside
 * 1..20000 pixels (PNG) or points; DP_EIO if a PDF's file cannot be created. */
int canvas_begin(plot_canvas *c, double w, double h, const plot_output *o, dp_err *e);
/* Writes the figure where o->path says and frees it (also on failure). */
int canvas_end(plot_canvas *c, dp_err *e);
/* Frees it without writing (after an error of the caller's). */
void canvas_abort(plot_canvas *c);

/* Snaps a coordinate to the device pixel grid (PNG; identity otherwise), so
 * frames and images start on a pixel edge. */
double canvas_snap(const plot_canvas *c, double v);

void canvas_fill_rect(plot_canvas *c, double x, double y, double w, double h, plot_rgb col, double alpha);
void canvas_stroke_rect(plot_canvas *c, double x, double y, double w, double h, double lw, plot_rgb col);
void canvas_line(plot_canvas *c, double x0, double y0, double x1, double y1, double lw, plot_rgb col);
/* An open polyline through n points; non-finite points break it. dash:
 * on/off lengths (points), ndash 0 = solid. Round joins and caps. */
void canvas_polyline(plot_canvas *c, const double *x, const double *y, int n, double lw, plot_rgb col,
                     const double *dash, int ndash);
/* Segments (x0, y0, x1, y1 in seg[4k..4k+3]) stroked as one path, so where
 * they meet nothing is drawn twice (contour lines). */
void canvas_segments(plot_canvas *c, const double *seg, int nseg, double lw, plot_rgb col);
/* A filled polygon (error bands), alpha in [0, 1]. */
void canvas_fill_polygon(plot_canvas *c, const double *x, const double *y, int n, plot_rgb col, double alpha);
/* A disc of radius r with an outline of width ring (0: none) in ring_col. */
void canvas_disc(plot_canvas *c, double cx, double cy, double r, plot_rgb col, double ring, plot_rgb ring_col);

void canvas_text(plot_canvas *c, double x, double y, const char *s, const text_style *st);
/* Width of s along its direction, and the height of capitals, in points. */
double canvas_text_width(plot_canvas *c, const char *s, double size, int bold);
double canvas_cap_height(double size);

/* Clips drawing to a rectangle until canvas_unclip. */
void canvas_clip(plot_canvas *c, double x, double y, double w, double h);
void canvas_unclip(plot_canvas *c);

/* Draws an RGB8 image of pw x ph pixels (row-major, top row first) into the
 * rectangle (x, y, w, h), pixels as sharp squares. DP_ENOMEM. */
int canvas_image(plot_canvas *c, double x, double y, double w, double h, const uint8_t *rgb, int pw, int ph,
                 dp_err *e);

#endif
