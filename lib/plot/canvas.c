/* canvas.c - see canvas.h. */
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build_info.h"
#include "canvas.h"
#include "file.h"
#include "png_write.h"

#define FONT_FAMILY "DejaVu Sans"
/* DejaVu Sans: capitals are 0.729 em tall, descenders reach 0.236 em below the baseline */
#define CAP_EM 0.729
#define DESCENT_EM 0.236

int plot_format_parse(const char *s, plot_format *out, dp_err *e) {
    static const char *const names[] = {"png", "svg", "pdf"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (plot_format)(PLOT_FMT_PNG + i);
            return 0;
        }
    return dp_fail(e, DP_EUSAGE, "unknown figure format '%s'; valid: png, svg, pdf", s);
}

plot_format plot_format_of(const plot_output *o) {
    if (o->format != PLOT_FMT_AUTO) return o->format;
    const char *dot = o->path ? strrchr(o->path, '.') : NULL;
    if (dot && !strchr(dot, '/')) {
        if (!strcasecmp(dot, ".svg")) return PLOT_FMT_SVG;
        if (!strcasecmp(dot, ".pdf")) return PLOT_FMT_PDF;
    }
    return PLOT_FMT_PNG;
}

const char *plot_format_ext(plot_format f) {
    return f == PLOT_FMT_SVG ? "svg" : f == PLOT_FMT_PDF ? "pdf" : "png";
}

/* ------------------------------------------------------------------ streams */

/* Appends n bytes to a growing buffer; 0, or -1 when memory runs out. */
static int buf_add(char **buf, size_t *len, size_t *cap, const void *p, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap : 65536;
        while (nc < *len + n + 1) nc *= 2;
        char *q = realloc(*buf, nc);
        if (!q) return -1;
        *buf = q;
        *cap = nc;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = 0;
    return 0;
}

static cairo_status_t svg_write(void *closure, const unsigned char *data, unsigned int n) {
    plot_canvas *c = closure;
    if (buf_add(&c->svg, &c->svg_len, &c->svg_cap, data, n)) {
        c->oom = 1;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int n) {
    return atomic_put(closure, data, n) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* ------------------------------------------------------------------ begin / end */

static void free_all(plot_canvas *c) {
    if (c->cr) cairo_destroy(c->cr);
    if (c->surface) cairo_surface_destroy(c->surface);
    c->cr = NULL;
    c->surface = NULL;
    free(c->svg);
    free(c->svg_text);
    c->svg = c->svg_text = NULL;
    if (c->file) {
        atomic_abort(c->file);
        free(c->file);
        c->file = NULL;
    }
}

int canvas_begin(plot_canvas *c, double w, double h, const plot_output *o, dp_err *e) {
    memset(c, 0, sizeof *c);
    c->out = *o;
    c->format = plot_format_of(o);
    double dpi = o->dpi > 0 ? o->dpi : PLOT_DPI;
    c->scale = c->format == PLOT_FMT_PNG ? dpi / 72 : 1;
    c->w = w;
    c->h = h;
    double pw = round(w * c->scale), ph = round(h * c->scale);
    if (!(pw >= 1 && ph >= 1 && pw <= 20000 && ph <= 20000))
        return dp_fail(e, DP_EUSAGE, "figure '%s': bad size %.0fx%.0f %s (1..20000 a side)", o->path, pw, ph,
                       c->format == PLOT_FMT_PNG ? "pixels" : "points");
    build_info_line(c->build, sizeof c->build);
    switch (c->format) {
    case PLOT_FMT_PNG:
        c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)pw, (int)ph);
        break;
    case PLOT_FMT_SVG:
        c->surface = cairo_svg_surface_create_for_stream(svg_write, c, w, h);
        cairo_svg_surface_restrict_to_version(c->surface, CAIRO_SVG_VERSION_1_1);
        cairo_svg_surface_set_document_unit(c->surface, CAIRO_SVG_UNIT_PT);
        break;
    default: {
        atomic_file *f = calloc(1, sizeof *f);
        if (!f) return dp_fail(e, DP_ENOMEM, "out of memory (figure '%s')", o->path);
        int rc = atomic_open(f, o->path, "PDF", e);
        if (rc) {
            free(f);
            return rc;
        }
        c->file = f;
        c->surface = cairo_pdf_surface_create_for_stream(pdf_write, f, w, h);
        cairo_pdf_surface_set_metadata(c->surface, CAIRO_PDF_METADATA_CREATOR, c->build);
        if (o->command) cairo_pdf_surface_set_metadata(c->surface, CAIRO_PDF_METADATA_SUBJECT, o->command);
    }
    }
    c->cr = cairo_create(c->surface);
    if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS) {
        free_all(c);
        return dp_fail(e, DP_ENOMEM, "cannot start figure '%s': %s", o->path,
                       cairo_status_to_string(cairo_status(c->cr)));
    }
    cairo_scale(c->cr, c->scale, c->scale);
    /* Grey anti-aliasing and unhinted metrics: the same layout at any dpi and in every format. */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(c->cr, fo);
    cairo_font_options_destroy(fo);
    cairo_set_line_join(c->cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(c->cr, CAIRO_LINE_CAP_BUTT);
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    return 0;
}

void canvas_abort(plot_canvas *c) { free_all(c); }

static int write_png(plot_canvas *c, dp_err *e) {
    cairo_surface_flush(c->surface);
    int w = cairo_image_surface_get_width(c->surface), h = cairo_image_surface_get_height(c->surface);
    int stride = cairo_image_surface_get_stride(c->surface);
    const unsigned char *d = cairo_image_surface_get_data(c->surface);
    uint8_t *rgb = dp_calloc((size_t)w * h, 3, "figure pixels", e);
    if (!rgb) return DP_ENOMEM;
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(d + (size_t)y * stride);
        uint8_t *o = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) { /* RGB24: xRGB in a native-endian word */
            o[3 * x] = (uint8_t)(row[x] >> 16);
            o[3 * x + 1] = (uint8_t)(row[x] >> 8);
            o[3 * x + 2] = (uint8_t)row[x];
        }
    }
    png_text_kv kv[3] = {{"Software", c->build}, {"Command", c->out.command}, {"Spec", c->out.spec}};
    double dpi = c->out.dpi > 0 ? c->out.dpi : PLOT_DPI;
    int rc = png_write_rgb_meta(c->out.path, w, h, rgb, dpi, kv, 3, e);
    free(rgb);
    return rc;
}

/* cairo's SVG with the text elements inserted before its closing tag. */
static int write_svg(plot_canvas *c, dp_err *e) {
    const char *end = NULL;
    for (const char *p = c->svg; p && (p = strstr(p, "</svg>")); p++) end = p;
    if (!end) return dp_fail(e, DP_EIO, "cannot write SVG '%s': cairo produced no document", c->out.path);
    atomic_file a;
    int rc = atomic_open(&a, c->out.path, "SVG", e);
    if (rc) return rc;
    atomic_put(&a, c->svg, (size_t)(end - c->svg));
    static const char open_g[] = "<g font-family=\"DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif\">\n";
    atomic_put(&a, open_g, sizeof open_g - 1);
    if (c->svg_text) atomic_put(&a, c->svg_text, c->text_len);
    atomic_put(&a, "</g>\n", 5);
    atomic_put(&a, end, strlen(end));
    return atomic_commit(&a, e);
}

int canvas_end(plot_canvas *c, dp_err *e) {
    int rc;
    cairo_destroy(c->cr);
    c->cr = NULL;
    if (c->format != PLOT_FMT_PNG) cairo_surface_finish(c->surface);
    cairo_status_t st = cairo_surface_status(c->surface);
    if (c->oom) {
        rc = dp_fail(e, DP_ENOMEM, "out of memory drawing '%s'", c->out.path);
    } else if (c->format == PLOT_FMT_PDF && (st == CAIRO_STATUS_SUCCESS || st == CAIRO_STATUS_WRITE_ERROR)) {
        rc = atomic_commit(c->file, e); /* after a write error: fails naming the file and the cause */
        free(c->file);
        c->file = NULL;
    } else if (st != CAIRO_STATUS_SUCCESS) {
        rc = dp_fail(e, DP_EIO, "cannot draw '%s': %s", c->out.path, cairo_status_to_string(st));
    } else {
        rc = c->format == PLOT_FMT_PNG ? write_png(c, e) : write_svg(c, e);
    }
    free_all(c);
    return rc;
}

/* ------------------------------------------------------------------ drawing */

double canvas_snap(const plot_canvas *c, double v) {
    return c->format == PLOT_FMT_PNG ? round(v * c->scale) / c->scale : v;
}

static void source(plot_canvas *c, plot_rgb col, double alpha) {
    cairo_set_source_rgba(c->cr, col.r / 255.0, col.g / 255.0, col.b / 255.0, alpha);
}

void canvas_fill_rect(plot_canvas *c, double x, double y, double w, double h, plot_rgb col, double alpha) {
    cairo_rectangle(c->cr, x, y, w, h);
    source(c, col, alpha);
    cairo_fill(c->cr);
}

void canvas_stroke_rect(plot_canvas *c, double x, double y, double w, double h, double lw, plot_rgb col) {
    cairo_rectangle(c->cr, x, y, w, h);
    cairo_set_line_width(c->cr, lw);
    source(c, col, 1);
    cairo_stroke(c->cr);
}

void canvas_line(plot_canvas *c, double x0, double y0, double x1, double y1, double lw, plot_rgb col) {
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1)) return;
    cairo_move_to(c->cr, x0, y0);
    cairo_line_to(c->cr, x1, y1);
    cairo_set_line_width(c->cr, lw);
    source(c, col, 1);
    cairo_stroke(c->cr);
}

void canvas_polyline(plot_canvas *c, const double *x, const double *y, int n, double lw, plot_rgb col,
                     const double *dash, int ndash) {
    int open = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            open = 0;
            continue;
        }
        if (open) cairo_line_to(c->cr, x[i], y[i]);
        else cairo_move_to(c->cr, x[i], y[i]);
        open = 1;
    }
    cairo_save(c->cr);
    cairo_set_line_width(c->cr, lw);
    cairo_set_line_cap(c->cr, ndash ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
    cairo_set_dash(c->cr, dash, ndash, 0);
    source(c, col, 1);
    cairo_stroke(c->cr);
    cairo_restore(c->cr);
}

void canvas_segments(plot_canvas *c, const double *seg, int nseg, double lw, plot_rgb col) {
    for (int k = 0; k < nseg; k++) {
        cairo_move_to(c->cr, seg[4 * k], seg[4 * k + 1]);
        cairo_line_to(c->cr, seg[4 * k + 2], seg[4 * k + 3]);
    }
    cairo_save(c->cr);
    cairo_set_line_width(c->cr, lw);
    cairo_set_line_cap(c->cr, CAIRO_LINE_CAP_ROUND);
    source(c, col, 1);
    cairo_stroke(c->cr);
    cairo_restore(c->cr);
}

void canvas_fill_polygon(plot_canvas *c, const double *x, const double *y, int n, plot_rgb col, double alpha) {
    int started = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        if (started) cairo_line_to(c->cr, x[i], y[i]);
        else cairo_move_to(c->cr, x[i], y[i]);
        started = 1;
    }
    if (!started) return;
    cairo_close_path(c->cr);
    source(c, col, alpha);
    cairo_fill(c->cr);
}

void canvas_disc(plot_canvas *c, double cx, double cy, double r, plot_rgb col, double ring, plot_rgb ring_col) {
    if (!isfinite(cx) || !isfinite(cy)) return;
    cairo_new_sub_path(c->cr);
    cairo_arc(c->cr, cx, cy, r, 0, 2 * M_PI);
    source(c, col, 1);
    if (ring > 0) {
        cairo_fill_preserve(c->cr);
        cairo_set_line_width(c->cr, ring);
        source(c, ring_col, 1);
        cairo_stroke(c->cr);
    } else {
        cairo_fill(c->cr);
    }
}

static void set_font(plot_canvas *c, double size, int bold) {
    cairo_select_font_face(c->cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(c->cr, size);
}

double canvas_text_width(plot_canvas *c, const char *s, double size, int bold) {
    if (!s || !*s) return 0;
    cairo_save(c->cr);
    set_font(c, size, bold);
    cairo_text_extents_t te;
    cairo_text_extents(c->cr, s, &te);
    cairo_restore(c->cr);
    return te.x_advance;
}

double canvas_cap_height(double size) { return CAP_EM * size; }

/* XML text: &, <, >, " escaped; control characters dropped. */
static void svg_escape(plot_canvas *c, const char *s) {
    for (; *s; s++) {
        const char *r = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : NULL;
        if (r) c->oom |= buf_add(&c->svg_text, &c->text_len, &c->text_cap, r, strlen(r));
        else if ((unsigned char)*s >= 0x20) c->oom |= buf_add(&c->svg_text, &c->text_len, &c->text_cap, s, 1);
    }
}

/* A <text> element: anchored at (x, y) with its baseline `base` below that
 * point in the text's own frame, rotated about (x, y). */
static void svg_text(plot_canvas *c, double x, double y, double base, const char *s, const text_style *st) {
    char head[512];
    static const char *const anchor[] = {"start", "middle", "end"};
    int n = snprintf(head, sizeof head, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.2f\"%s fill=\"#%02x%02x%02x\"",
                     x, y + base, st->size, st->bold ? " font-weight=\"bold\"" : "", st->color.r, st->color.g,
                     st->color.b);
    n += snprintf(head + n, sizeof head - (size_t)n, " text-anchor=\"%s\"", anchor[st->halign]);
    if (st->angle != 0)
        n += snprintf(head + n, sizeof head - (size_t)n, " transform=\"rotate(%.2f %.2f %.2f)\"", -st->angle, x, y);
    if (st->halo > 0)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      " stroke=\"#ffffff\" stroke-width=\"%.2f\" stroke-linejoin=\"round\" paint-order=\"stroke\"",
                      2 * st->halo);
    snprintf(head + n, sizeof head - (size_t)n, ">");
    c->oom |= buf_add(&c->svg_text, &c->text_len, &c->text_cap, head, strlen(head));
    svg_escape(c, s);
    c->oom |= buf_add(&c->svg_text, &c->text_len, &c->text_cap, "</text>\n", 8);
}

void canvas_text(plot_canvas *c, double x, double y, const char *s, const text_style *st) {
    if (!s || !*s || !isfinite(x) || !isfinite(y)) return;
    double base = st->valign == TEXT_TOP      ? CAP_EM * st->size
                  : st->valign == TEXT_MIDDLE ? CAP_EM * st->size / 2
                  : st->valign == TEXT_BOTTOM ? -DESCENT_EM * st->size
                                              : 0;
    if (c->format == PLOT_FMT_SVG) { /* text stays text */
        svg_text(c, x, y, base, s, st);
        return;
    }
    double w = canvas_text_width(c, s, st->size, st->bold);
    double dx = st->halign == TEXT_CENTER ? -w / 2 : st->halign == TEXT_RIGHT ? -w : 0;
    cairo_t *cr = c->cr;
    cairo_save(cr);
    set_font(c, st->size, st->bold);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -st->angle * M_PI / 180);
    cairo_move_to(cr, dx, base);
    if (st->halo > 0) {
        cairo_text_path(cr, s);
        cairo_set_line_width(cr, 2 * st->halo);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_stroke_preserve(cr);
        source(c, st->color, 1);
        cairo_fill(cr);
    } else {
        source(c, st->color, 1);
        cairo_show_text(cr, s);
    }
    cairo_restore(cr);
}

void canvas_clip(plot_canvas *c, double x, double y, double w, double h) {
    cairo_save(c->cr);
    cairo_rectangle(c->cr, x, y, w, h);
    cairo_clip(c->cr);
}

void canvas_unclip(plot_canvas *c) { cairo_restore(c->cr); }

int canvas_image(plot_canvas *c, double x, double y, double w, double h, const uint8_t *rgb, int pw, int ph,
                 dp_err *e) {
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pw, ph);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return dp_fail(e, DP_ENOMEM, "out of memory (a %dx%d image)", pw, ph);
    }
    cairo_surface_flush(img);
    unsigned char *d = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int j = 0; j < ph; j++) {
        uint32_t *row = (uint32_t *)(d + (size_t)j * stride);
        const uint8_t *p = rgb + (size_t)j * pw * 3;
        for (int i = 0; i < pw; i++)
            row[i] = (uint32_t)p[3 * i] << 16 | (uint32_t)p[3 * i + 1] << 8 | p[3 * i + 2];
    }
    cairo_surface_mark_dirty(img);
    cairo_save(c->cr);
    cairo_rectangle(c->cr, x, y, w, h);
    cairo_clip(c->cr);
    cairo_translate(c->cr, x, y);
    cairo_scale(c->cr, w / pw, h / ph);
    cairo_set_source_surface(c->cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(c->cr), CAIRO_FILTER_NEAREST);
    cairo_paint(c->cr);
    cairo_restore(c->cr);
    cairo_surface_destroy(img);
    return 0;
}
