/* heatmap.c - heatmaps: bilinear colours, contour lines, markers, colour bar (plot.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "axes.h"
#include "plot.h"

/* Margins (points) around the square plot area: tick labels and the y label
 * on the left, title on top, x label below, colour bar and its labels right. */
#define ML 66.0
#define MR 100.0
#define MT 34.0
#define MB 50.0
#define BAR_GAP 14.0
#define BAR_W 14.0
#define CONTOUR_LW 1.2
#define MARKER_R 4.0

typedef struct {
    double x, y, side; /* the plot area */
    double bx, bw;     /* the colour bar: same top and height */
} geometry;

/* In points; with scale > 0 (device pixels a point) every edge on a pixel
 * boundary, so the heat image maps pixel to pixel. */
static geometry layout(double W, double H, double scale) {
    geometry g;
    double side = fmin(W - ML - MR, H - MT - MB);
    g.x = ML;
    g.y = MT + (H - MT - MB - side) / 2;
    g.side = side;
    g.bx = g.x + side + BAR_GAP;
    g.bw = BAR_W;
    if (scale > 0) {
        double *v[] = {&g.x, &g.y, &g.side, &g.bx, &g.bw};
        for (int i = 0; i < 5; i++) *v[i] = round(*v[i] * scale) / scale;
    }
    return g;
}

static void figure_size(const plot_heatmap_opts *o, double *W, double *H) {
    *W = 72 * (o && o->width > 0 ? o->width : PLOT_HEATMAP_W);
    *H = 72 * (o && o->height > 0 ? o->height : PLOT_HEATMAP_H);
}

void plot_heatmap_layout(const plot_heatmap_opts *o, double dpi, plot_rect *area, plot_rect *bar) {
    double W, H, s = (dpi > 0 ? dpi : PLOT_DPI) / 72;
    figure_size(o, &W, &H);
    geometry g = layout(W, H, s);
    *area = (plot_rect){(int)lround(g.x * s), (int)lround(g.y * s), (int)lround(g.side * s), (int)lround(g.side * s)};
    *bar = (plot_rect){(int)lround(g.bx * s), area->y, (int)lround(g.bw * s), area->h};
}

static double luminance(plot_rgb c) { return (0.299 * c.r + 0.587 * c.g + 0.114 * c.b) / 255; }

/* Contour lines should stand out from the colours under them. */
static plot_rgb contour_color(double t) { return luminance(plot_colormap(t)) > 0.5 ? PLOT_BLACK : PLOT_WHITE; }

/* Marching squares for one level over the grid z (display values), as
 * segments in points (seg grows; n counts them). -1 when memory runs out. */
static int contour(const double *z, int nx, int ny, double level, const geometry *g, double **seg, int *n, int *cap) {
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
                px[k] = g->x + gx / (nx - 1) * g->side;
                py[k] = g->y + g->side - gy / (ny - 1) * g->side;
                cut[k] = 1;
            }
            int pairs[2][2], np = 0;
            int ncut = cut[0] + cut[1] + cut[2] + cut[3];
            if (ncut == 2) {
                int a = -1, b = -1;
                for (int k = 0; k < 4; k++)
                    if (cut[k]) {
                        if (a < 0) a = k;
                        else b = k;
                    }
                pairs[np][0] = a, pairs[np++][1] = b;
            } else if (ncut == 4) { /* saddle: the centre value decides the pairing */
                double m = (v[0] + v[1] + v[2] + v[3]) / 4;
                if ((m < level) == (v[0] < level)) { /* corner 0 joins the centre: cut off 1 and 3 */
                    pairs[0][0] = 0, pairs[0][1] = 1, pairs[1][0] = 2, pairs[1][1] = 3;
                } else {
                    pairs[0][0] = 3, pairs[0][1] = 0, pairs[1][0] = 1, pairs[1][1] = 2;
                }
                np = 2;
            }
            for (int p = 0; p < np; p++) {
                if (*n == *cap) {
                    int nc = *cap ? 2 * *cap : 256;
                    double *q = realloc(*seg, sizeof(double) * 4 * (size_t)nc);
                    if (!q) return -1;
                    *seg = q;
                    *cap = nc;
                }
                double *s = *seg + 4 * (size_t)*n;
                s[0] = px[pairs[p][0]], s[1] = py[pairs[p][0]], s[2] = px[pairs[p][1]], s[3] = py[pairs[p][1]];
                (*n)++;
            }
        }
    return 0;
}

/* The heat image: pw x ph pixels, each the bilinear interpolation of the grid
 * at its centre; cells touching a NaN/Inf value grey. */
static void heat_pixels(uint8_t *rgb, int pw, int ph, const double *z, int nx, int ny, double lo, double hi,
                        int constant) {
    for (int py = 0; py < ph; py++) {
        double gy = (ph - (py + 0.5)) / ph * (ny - 1);
        int j = (int)gy;
        if (j > ny - 2) j = ny - 2;
        double fy = gy - j;
        for (int px = 0; px < pw; px++) {
            double gx = (px + 0.5) / pw * (nx - 1);
            int i = (int)gx;
            if (i > nx - 2) i = nx - 2;
            double fx = gx - i;
            double a = z[j * nx + i], b = z[j * nx + i + 1], c = z[(j + 1) * nx + i], d = z[(j + 1) * nx + i + 1];
            plot_rgb col;
            if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(d)) col = PLOT_NANGREY;
            else {
                double v = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
                col = plot_colormap(constant ? 0.5 : (v - lo) / (hi - lo));
            }
            uint8_t *o = rgb + ((size_t)py * pw + px) * 3;
            o[0] = col.r, o[1] = col.g, o[2] = col.b;
        }
    }
}

/* Markers (red discs ringed in white) and their labels, kept inside the area. */
static void draw_markers(plot_canvas *c, const geometry *g, const plot_heatmap_opts *o, double x0, double x1,
                         double y0, double y1) {
    text_style st = text_plain(TEXT_LEFT, TEXT_BASELINE);
    st.bold = 1;
    st.halo = 1.6;
    for (int k = 0; k < o->nmarkers; k++) {
        const plot_marker *m = &o->markers[k];
        if (!isfinite(m->x) || !isfinite(m->y)) continue;
        double mx = g->x + (m->x - x0) / (x1 - x0) * g->side, my = g->y + g->side - (m->y - y0) / (y1 - y0) * g->side;
        canvas_disc(c, mx, my, MARKER_R, (plot_rgb){214, 39, 40}, 1.2, PLOT_WHITE);
        if (!m->label || !m->label[0]) continue;
        double lw = canvas_text_width(c, m->label, FONT_SIZE, 1);
        double lx = mx + 7, ly = my - 6;
        if (lx + lw > g->x + g->side - 3) lx = mx - 7 - lw;
        if (ly - canvas_cap_height(FONT_SIZE) < g->y + 3) ly = my + 6 + canvas_cap_height(FONT_SIZE);
        canvas_text(c, lx, ly, m->label, &st);
    }
}

/* The colour bar right of the area, low end at the bottom, contour levels
 * drawn across it, ticks and the z label on its right. */
static void draw_colorbar(plot_canvas *c, const geometry *g, int have, int logz, double lo, double hi,
                          const double *levels, int nlev, const char *zlabel) {
    enum { N = 256 };
    uint8_t strip[N * 3];
    for (int k = 0; k < N; k++) {
        plot_rgb col = have ? plot_colormap(1 - (k + 0.5) / N) : PLOT_NANGREY;
        strip[3 * k] = col.r, strip[3 * k + 1] = col.g, strip[3 * k + 2] = col.b;
    }
    dp_err ignored = {0}; /* a 1 x N image stretched over the bar; out of memory leaves it white */
    canvas_image(c, g->bx, g->y, g->bw, g->side, strip, 1, N, &ignored);
    for (int k = 0; k < nlev; k++) {
        double t = (levels[k] - lo) / (hi - lo), py = g->y + g->side - t * g->side;
        canvas_line(c, g->bx, py, g->bx + g->bw, py, CONTOUR_LW, contour_color(t));
    }
    canvas_stroke_rect(c, g->bx, g->y, g->bw, g->side, AXES_LW, PLOT_INK);
    axis za = {lo, hi, logz};
    tickset tz;
    make_ticks(&za, g->side / 50 < 2 ? 2 : (int)(g->side / 50), &tz);
    double right = g->bx + g->bw;
    text_style st = text_plain(TEXT_LEFT, TEXT_MIDDLE);
    for (int k = 0; k < tz.n; k++) {
        double py = g->y + g->side - ax_frac(&za, tz.v[k]) * g->side;
        if (py < g->y - 1e-6 || py > g->y + g->side + 1e-6) continue;
        canvas_line(c, right, py, right + TICK_LEN, py, AXES_LW, PLOT_INK);
        canvas_text(c, right + TICK_LEN + TICK_PAD, py, tz.label[k], &st);
    }
    if (zlabel && zlabel[0]) {
        text_style zs = text_plain(TEXT_CENTER, TEXT_BOTTOM);
        zs.angle = 90;
        double zx = right + TICK_LEN + TICK_PAD + max_label_width(c, &tz) + LABEL_PAD;
        zx = fmin(zx, c->w - 4 - FONT_SIZE);
        canvas_text(c, zx + FONT_SIZE, g->y + g->side / 2, zlabel, &zs);
    }
}

int plot_heatmap(const plot_output *out, const double *values, int nx, int ny, double x0, double x1, double y0,
                 double y1, const plot_heatmap_opts *o, dp_err *e) {
    static const plot_heatmap_opts none = {0};
    if (!o) o = &none;
    const char *path = out->path;
    if (nx < 2 || ny < 2) return dp_fail(e, DP_EUSAGE, "heatmap '%s': grid %dx%d, need at least 2x2", path, nx, ny);
    if (!(x1 > x0) || !(y1 > y0) || !isfinite(x1 - x0) || !isfinite(y1 - y0))
        return dp_fail(e, DP_EUSAGE, "heatmap '%s': empty range [%g, %g] x [%g, %g]", path, x0, x1, y0, y1);
    double W, H;
    figure_size(o, &W, &H);
    if (W - ML - MR < 20 || H - MT - MB < 20)
        return dp_fail(e, DP_EUSAGE, "heatmap '%s': figure %gx%g in too small", path, W / 72, H / 72);
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
    int rc = canvas_begin(&c, W, H, out, e);
    if (rc) {
        free(z);
        return rc;
    }
    geometry g = layout(W, H, c.format == PLOT_FMT_PNG ? c.scale : 0);
    /* the heat image: device pixels for a PNG, 2 pixels a point in vector formats */
    double ppp = c.format == PLOT_FMT_PNG ? c.scale : 2;
    int pw = (int)lround(g.side * ppp);
    uint8_t *rgb = dp_calloc((size_t)pw * pw, 3, "heatmap pixels", e);
    double *seg = NULL;
    int nseg = 0, cap = 0;
    if (!rgb) {
        rc = DP_ENOMEM;
        goto done;
    }
    heat_pixels(rgb, pw, pw, z, nx, ny, lo, hi, constant);
    if ((rc = canvas_image(&c, g.x, g.y, g.side, g.side, rgb, pw, pw, e))) goto done;
    /* contours */
    int nlev = o->ncontours == 0 ? 8 : o->ncontours < 0 ? 0 : o->ncontours;
    if (nlev > 64) nlev = 64;
    if (!nfin || constant) nlev = 0;
    double levels[64];
    plot_contour_levels(vmin, vmax, nlev, levels);
    canvas_clip(&c, g.x, g.y, g.side, g.side);
    for (int k = 0; k < nlev; k++) {
        nseg = 0;
        if (contour(z, nx, ny, levels[k], &g, &seg, &nseg, &cap)) {
            canvas_unclip(&c);
            rc = dp_fail(e, DP_ENOMEM, "out of memory (contour lines of '%s')", path);
            goto done;
        }
        canvas_segments(&c, seg, nseg, CONTOUR_LW, contour_color((levels[k] - lo) / (hi - lo)));
    }
    draw_markers(&c, &g, o, x0, x1, y0, y1);
    canvas_unclip(&c);
    /* axes */
    frame f = {g.x, g.y, g.side, g.side, {x0, x1, 0}, {y0, y1, 0}};
    tickset tx, ty;
    make_ticks(&f.ax, g.side / 60 < 2 ? 2 : (int)(g.side / 60), &tx);
    make_ticks(&f.ay, g.side / 50 < 2 ? 2 : (int)(g.side / 50), &ty);
    draw_axes(&c, &f, &tx, &ty, 0);
    canvas_stroke_rect(&c, f.x, f.y, f.w, f.h, AXES_LW, PLOT_INK);
    double ylx = g.x - TICK_LEN - TICK_PAD - max_label_width(&c, &ty) - LABEL_PAD - 1.2 * FONT_SIZE;
    draw_axis_labels(&c, &f, o->title, o->xlabel, o->ylabel, fmax(ylx, 4));
    draw_colorbar(&c, &g, nfin > 0, logz, lo, hi, levels, nlev, o->zlabel);
    rc = canvas_end(&c, e);
    c.cr = NULL;
done:
    if (c.cr) canvas_abort(&c);
    free(rgb);
    free(seg);
    free(z);
    return rc;
}
