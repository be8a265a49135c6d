/* Figures: PNG round trip and metadata, text drawn where it is placed, the
 * heatmap's colours and contours at computed pixel positions, line plots and
 * error bands, CSV reader errors, training curves.
 *
 * Positions come from the layout in plot.h (plot_heatmap_layout) and the
 * mapping documented there: grid point (i, j) sits at pixel-space
 * x = ax + i / (nx - 1) * aw, y = ay + ah - j / (ny - 1) * ah. Lines and text
 * are anti-aliased, so pixels are compared within a tolerance and lines are
 * found within +-2 pixels of where they should be. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

#include "canvas.h"
#include "csv.h"
#include "metrics.h"
#include "plot.h"
#include "png_write.h"

static char dir[64];

static void mkdir_tmp(void) {
    snprintf(dir, sizeof dir, "/tmp/dppf_plot_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

static const char *tmp(const char *name) {
    static char p[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static const uint8_t *px(const uint8_t *img, int w, int x, int y) { return img + ((size_t)y * w + x) * 3; }

static int near_rgb(const uint8_t *p, plot_rgb c, int tol) {
    return abs(p[0] - c.r) <= tol && abs(p[1] - c.g) <= tol && abs(p[2] - c.b) <= tol;
}

static int min3(const uint8_t *p) { return p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]); }
static int max3(const uint8_t *p) { return p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]); }

/* ---- PNG ---- */

Test(png, round_trip, .init = mkdir_tmp, .fini = rm_tmp) {
    enum { W = 37, H = 23 };
    uint8_t img[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) img[i] = (uint8_t)(i * 7 + i / 5);
    dp_err e = {0};
    cr_assert_eq(png_write_rgb(tmp("a.png"), W, H, img, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *back;
    cr_assert_eq(png_read_rgb(tmp("a.png"), &w, &h, &back, &e), 0, "%s", e.msg);
    cr_expect_eq(w, W);
    cr_expect_eq(h, H);
    cr_expect_eq(memcmp(back, img, sizeof img), 0, "pixels differ after the round trip");
    free(back);
    /* no temporary file left behind: the directory holds only a.png */
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int files = 0;
    for (struct dirent *de; (de = readdir(d));) files += de->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(files, 1);
}

Test(png, errors_name_the_path, .init = mkdir_tmp, .fini = rm_tmp) {
    uint8_t img[12] = {0};
    dp_err e = {0};
    cr_expect_eq(png_write_rgb(tmp("no/such/dir/x.png"), 2, 2, img, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "no/such/dir/x.png"), "%s", e.msg);
    FILE *f = fopen(tmp("bad.png"), "w");
    cr_assert_not_null(f);
    fputs("not a png at all", f);
    fclose(f);
    int w, h;
    uint8_t *p;
    cr_expect_eq(png_read_rgb(tmp("bad.png"), &w, &h, &p, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "bad.png"), "%s", e.msg);
    cr_expect_null(p);
}

/* ---- text and metadata ---- */

/* The value of tEXt chunk `key` in a PNG file (malloc'd), or NULL. */
static char *png_text_of(const char *path, const char *key, double *dpi) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    cr_assert(p && info);
    char *out = NULL;
    if (!setjmp(png_jmpbuf(p))) {
        png_init_io(p, f);
        png_read_info(p, info);
        png_textp t;
        int n = 0;
        png_get_text(p, info, &t, &n);
        for (int i = 0; i < n; i++)
            if (!strcmp(t[i].key, key)) out = strdup(t[i].text);
        png_uint_32 rx, ry;
        int unit;
        if (dpi && png_get_pHYs(p, info, &rx, &ry, &unit) && unit == PNG_RESOLUTION_METER) *dpi = rx * 0.0254;
    }
    png_destroy_read_struct(&p, &info, NULL);
    fclose(f);
    return out;
}

static int dark(const uint8_t *p) { return max3(p) < 128; }

/* Real glyphs where the text is placed (left-aligned from x, capitals from y
 * down to y + 0.729 size), nothing outside; metadata in tEXt chunks. */
Test(text, drawn_where_placed_with_metadata, .init = mkdir_tmp, .fini = rm_tmp) {
    plot_canvas c;
    dp_err e = {0};
    plot_output o = {.path = tmp("t.png"), .dpi = 72, .command = "dppf plot x", .spec = "run:\n  seed: 7\n"};
    cr_assert_eq(canvas_begin(&c, 200, 60, &o, &e), 0, "%s", e.msg); /* 72 dpi: a point is a pixel */
    text_style st = {.size = 20, .halign = TEXT_LEFT, .valign = TEXT_TOP, .color = {0, 0, 0}};
    double tw = canvas_text_width(&c, "HELLO", 20, 0);
    cr_expect(tw > 50 && tw < 90, "width of HELLO at 20 pt: %g", tw);
    canvas_text(&c, 20, 20, "HELLO", &st);
    cr_assert_eq(canvas_end(&c, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("t.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    cr_expect(w == 200 && h == 60, "%dx%d", w, h);
    int inside = 0, outside = 0, cols = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!dark(px(img, w, x, y))) continue;
            int in = x >= 19 && x <= 21 + tw && y >= 19 && y <= 21 + 0.729 * 20;
            inside += in;
            outside += !in;
        }
    for (int x = 20; x < 20 + tw; x++) { /* ink spread over the whole width, letter by letter */
        int any = 0;
        for (int y = 20; y < 35; y++) any |= dark(px(img, w, x, y));
        cols += any;
    }
    cr_expect_gt(inside, 150, "%d dark pixels in the text's box", inside);
    cr_expect_eq(outside, 0, "%d dark pixels outside the text's box", outside);
    cr_expect_gt(cols, 0.6 * tw, "%d of %g columns inked", cols, tw);
    /* anti-aliased: grey levels at the glyphs' edges, not only black and white */
    int grey = 0;
    for (int i = 0; i < w * h; i++) grey += img[3 * i] > 40 && img[3 * i] < 215;
    cr_expect_gt(grey, 20, "anti-aliased edges");
    free(img);
    double dpi = 0;
    char *cmd = png_text_of(tmp("t.png"), "Command", &dpi), *spec = png_text_of(tmp("t.png"), "Spec", NULL);
    char *sw = png_text_of(tmp("t.png"), "Software", NULL);
    cr_expect(cmd && !strcmp(cmd, "dppf plot x"), "Command: %s", cmd ? cmd : "(none)");
    cr_expect(spec && strstr(spec, "seed: 7"), "Spec: %s", spec ? spec : "(none)");
    cr_expect(sw && !strncmp(sw, "dppf ", 5) && strstr(sw, "git "), "Software: %s", sw ? sw : "(none)");
    cr_expect(fabs(dpi - 72) < 0.1, "pHYs %g dpi", dpi);
    free(cmd);
    free(spec);
    free(sw);
}

Test(text, formats_by_extension_and_bad_sizes, .init = mkdir_tmp, .fini = rm_tmp) {
    plot_output o = {.path = "a/b.SVG"};
    cr_expect_eq(plot_format_of(&o), PLOT_FMT_SVG);
    o.path = "x.pdf";
    cr_expect_eq(plot_format_of(&o), PLOT_FMT_PDF);
    o.path = "x.svg.d/y";
    cr_expect_eq(plot_format_of(&o), PLOT_FMT_PNG);
    o.format = PLOT_FMT_PDF;
    cr_expect_eq(plot_format_of(&o), PLOT_FMT_PDF);
    plot_format f;
    dp_err e = {0};
    cr_expect_eq(plot_format_parse("jpg", &f, &e), DP_EUSAGE);
    cr_expect_not_null(strstr(e.msg, "jpg"), "%s", e.msg);
    plot_canvas c;
    plot_output big = {.path = tmp("big.png"), .dpi = 2400};
    cr_expect_eq(canvas_begin(&c, 72 * 20, 72 * 20, &big, &e), DP_EUSAGE, "48000 px a side is refused");
    /* an unwritable PDF fails at once, naming the path */
    plot_output bad = {.path = tmp("no/such/x.pdf")};
    cr_expect_eq(canvas_begin(&c, 100, 100, &bad, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "no/such/x.pdf"), "%s", e.msg);
}

/* ---- helpers ---- */

Test(plot, nice_ticks) {
    double t[32];
    int n = plot_nice_ticks(0, 1, 5, t, 32);
    cr_assert_eq(n, 6);
    for (int k = 0; k < n; k++) cr_expect(fabs(t[k] - 0.2 * k) < 1e-12, "tick %d = %g", k, t[k]);
    n = plot_nice_ticks(-1, 1, 4, t, 32);
    cr_assert_eq(n, 5);
    cr_expect_eq(t[2], 0.0);
    cr_expect(!signbit(t[2]), "no -0 tick");
    n = plot_nice_ticks(3, 997, 5, t, 32); /* step 200 */
    cr_assert_eq(n, 4);
    cr_expect_eq(t[0], 200.0);
    cr_expect_eq(t[3], 800.0);
    double lev[3];
    plot_contour_levels(0, 2, 3, lev);
    cr_expect(fabs(lev[0] - 0.5) < 1e-12 && fabs(lev[2] - 1.5) < 1e-12);
}

/* ---- heatmap ---- */

#define NG 41
static void bowl(double *v) {
    for (int j = 0; j < NG; j++)
        for (int i = 0; i < NG; i++) {
            double x = -1 + 2.0 * i / (NG - 1), y = -1 + 2.0 * j / (NG - 1);
            v[j * NG + i] = x * x + y * y;
        }
}

/* Searches +-2 px around pixel-space point (x, y) for a pixel passing `ok`. */
static int any_near(const uint8_t *img, int w, double x, double y, int (*ok)(const uint8_t *)) {
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++)
            if (ok(px(img, w, (int)floor(x) + dx, (int)floor(y) + dy))) return 1;
    return 0;
}
static int is_white(const uint8_t *p) { return min3(p) >= 170; } /* viridis never has all channels > 100 */
static int is_black(const uint8_t *p) { return max3(p) <= 90; }  /* viridis above t = 0.5 has a channel > 140 */

Test(heatmap, bowl_colours_and_contours, .init = mkdir_tmp, .fini = rm_tmp) {
    double v[NG * NG];
    bowl(v);
    plot_heatmap_opts o = {0};
    o.title = "bowl";
    o.xlabel = "x";
    o.ylabel = "y";
    dp_err e = {0};
    cr_assert_eq(plot_heatmap(&(plot_output){.path = tmp("h.png")}, v, NG, NG, -1, 1, -1, 1, &o, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("h.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    cr_assert_eq(w, (int)lround(PLOT_HEATMAP_W * PLOT_DPI));
    cr_assert_eq(h, (int)lround(PLOT_HEATMAP_H * PLOT_DPI));
    plot_rect area, bar;
    plot_heatmap_layout(&o, 0, &area, &bar);
    int ax = area.x, ay = area.y, aw = area.w, ah = area.h;
    cr_expect_eq(aw, ah, "the plot area is square");
    /* centre: f ~ 0, the low end; corners: f ~ 2, the high end (3 px in, inside the frame line) */
    const uint8_t *c = px(img, w, ax + aw / 2, ay + ah / 2);
    plot_rgb lo = plot_colormap(0);
    cr_expect(near_rgb(c, lo, 6), "centre %d,%d,%d, want %d,%d,%d", c[0], c[1], c[2], lo.r, lo.g, lo.b);
    const int cx_[2] = {ax + 3, ax + aw - 4}, cy_[2] = {ay + 3, ay + ah - 4};
    for (int q = 0; q < 4; q++) {
        int x = cx_[q % 2], y = cy_[q / 2];
        double gx = -1 + 2 * (x + 0.5 - ax) / aw, gy = 1 - 2 * (y + 0.5 - ay) / ah;
        plot_rgb want = plot_colormap((gx * gx + gy * gy) / 2);
        const uint8_t *k = px(img, w, x, y);
        cr_expect(near_rgb(k, want, 6), "corner %d: %d,%d,%d, want %d,%d,%d", q, k[0], k[1], k[2], want.r, want.g, want.b);
    }
    /* outside the area: the white background and the frame */
    cr_expect(near_rgb(px(img, w, 3, 3), (plot_rgb){255, 255, 255}, 0));

    /* default 8 contour levels over [0, 2]: level k at radius sqrt(level) */
    double lev[8];
    plot_contour_levels(0, 2, 8, lev);
    double cx = ax + aw / 2.0, cy = ay + ah / 2.0, sx = aw / 2.0, sy = ah / 2.0; /* pixels per unit */
    for (int l = 0; l < 3; l++) { /* dark levels: white contours, on both sides of the x axis */
        double r = sqrt(lev[l]);
        cr_expect(any_near(img, w, cx + r * sx, cy, is_white), "no white contour at x = +%.3f (level %g)", r, lev[l]);
        cr_expect(any_near(img, w, cx - r * sx, cy, is_white), "no white contour at x = -%.3f", r);
        cr_expect(any_near(img, w, cx, cy - r * sy, is_white), "no white contour at y = +%.3f", r);
    }
    /* and none half-way between two levels (the check above can fail) */
    double rmid = sqrt((lev[0] + lev[1]) / 2);
    cr_expect(!any_near(img, w, cx + rmid * sx, cy, is_white), "white pixel between contour levels");
    /* the top level is light: black contour, on the diagonal (radius > 1) */
    double r7 = sqrt(lev[7]) / sqrt(2.0);
    cr_expect(any_near(img, w, cx + r7 * sx, cy - r7 * sy, is_black), "no black contour at level %g", lev[7]);
    cr_expect(!any_near(img, w, cx + 0.5 * (sqrt(lev[6]) + sqrt(lev[7])) / sqrt(2.0) * sx,
                        cy - 0.5 * (sqrt(lev[6]) + sqrt(lev[7])) / sqrt(2.0) * sy, is_black));
    /* colour bar: right of the area, low end at the bottom, high end at the top */
    int bx = bar.x + bar.w / 2;
    cr_expect(bar.x > ax + aw && bar.x + bar.w < w, "bar at x %d..%d", bar.x, bar.x + bar.w);
    cr_expect(near_rgb(px(img, w, bx, ay + ah - 3), lo, 6));
    cr_expect(near_rgb(px(img, w, bx, ay + 3), plot_colormap(1), 6));
    free(img);
}

Test(heatmap, nan_constant_markers_and_errors, .init = mkdir_tmp, .fini = rm_tmp) {
    double v[NG * NG];
    bowl(v);
    v[NG * NG - 1] = NAN; /* top-right grid point: the cell below-left of it is grey */
    v[0] = INFINITY;
    plot_marker m[2] = {{0, 0, "avg"}, {0.5, 0.5, "w0"}};
    plot_heatmap_opts o = {0};
    o.markers = m;
    o.nmarkers = 2;
    o.log_z = 1; /* ignored: the grid has a zero */
    dp_err e = {0};
    cr_assert_eq(plot_heatmap(&(plot_output){.path = tmp("n.png")}, v, NG, NG, -1, 1, -1, 1, &o, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("n.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    plot_rect area, bar;
    plot_heatmap_layout(&o, 0, &area, &bar);
    int ax = area.x, ay = area.y, aw = area.w, ah = area.h;
    plot_rgb grey = {160, 160, 160};
    cr_expect(near_rgb(px(img, w, ax + aw - 3, ay + 2), grey, 0), "NaN cell not grey");
    cr_expect(near_rgb(px(img, w, ax + 2, ay + ah - 3), grey, 0), "Inf cell not grey");
    /* the red marker at the centre */
    const uint8_t *c = px(img, w, ax + aw / 2, ay + ah / 2);
    cr_expect(c[0] > 200 && c[1] < 80 && c[2] < 80, "marker %d,%d,%d", c[0], c[1], c[2]);
    free(img);

    /* a constant grid: the middle colour, no contours */
    for (int k = 0; k < NG * NG; k++) v[k] = 3.5;
    cr_assert_eq(plot_heatmap(&(plot_output){.path = tmp("c.png")}, v, NG, NG, 0, 1, 0, 1, NULL, &e), 0, "%s", e.msg);
    cr_assert_eq(png_read_rgb(tmp("c.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    for (int y = ay + 3; y < ay + ah - 2; y += 37)
        for (int x = ax + 3; x < ax + aw - 2; x += 41)
            cr_expect(near_rgb(px(img, w, x, y), plot_colormap(0.5), 0), "pixel %d,%d", x, y);
    free(img);

    cr_expect_eq(plot_heatmap(&(plot_output){.path = tmp("x.png")}, v, 1, NG, 0, 1, 0, 1, NULL, &e), DP_EUSAGE);
    cr_expect_eq(plot_heatmap(&(plot_output){.path = tmp("x.png")}, v, NG, NG, 1, 1, 0, 1, NULL, &e), DP_EUSAGE);
    cr_expect_eq(plot_heatmap(&(plot_output){.path = tmp("no/dir/x.png")}, v, NG, NG, 0, 1, 0, 1, NULL, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "no/dir/x.png"), "%s", e.msg);
}

/* ---- line plots ---- */

static int count_rgb(const uint8_t *img, int w, int h, plot_rgb c, int tol) {
    int n = 0;
    for (int i = 0; i < w * h; i++) n += near_rgb(img + 3 * i, c, tol);
    return n;
}

Test(lines, size_colours_and_log, .init = mkdir_tmp, .fini = rm_tmp) {
    double x[50], y1[50], y2[50];
    for (int i = 0; i < 50; i++) x[i] = i, y1[i] = exp(-i / 10.0), y2[i] = i == 20 ? NAN : 0.5 * exp(-i / 5.0);
    plot_series s[2] = {{"a", x, y1, 50, 0, 0, {0}, 0, NULL, NULL}, {"b", x, y2, 50, 1, 0, {0}, 0, NULL, NULL}};
    plot_lines_opts o = {0};
    o.title = "t";
    o.xlabel = "epoch";
    o.ylabel = "loss";
    dp_err e = {0};
    for (int lg = 0; lg < 2; lg++) {
        o.log_y = lg;
        cr_assert_eq(plot_lines(&(plot_output){.path = tmp("l.png")}, s, 2, &o, &e), 0, "%s", e.msg);
        int w, h;
        uint8_t *img;
        cr_assert_eq(png_read_rgb(tmp("l.png"), &w, &h, &img, &e), 0, "%s", e.msg);
        cr_expect_eq(w, (int)lround(PLOT_LINES_W * PLOT_DPI));
        cr_expect_eq(h, (int)lround(PLOT_LINES_H * PLOT_DPI));
        /* anti-aliased 1.5 pt lines: the pixels they cover (nearly) fully */
        cr_expect_gt(count_rgb(img, w, h, plot_palette(0), 30), 300, "series a drawn");
        cr_expect_gt(count_rgb(img, w, h, plot_palette(1), 30), 150, "series b drawn (dashed)");
        free(img);
    }
    /* --dpi scales the pixels, not the layout */
    cr_assert_eq(plot_lines(&(plot_output){.path = tmp("l2.png"), .dpi = 200}, s, 2, &o, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("l2.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    cr_expect(w == (int)lround(PLOT_LINES_W * 200) && h == (int)lround(PLOT_LINES_H * 200), "%dx%d at 200 dpi", w, h);
    free(img);
    cr_expect_eq(plot_lines(&(plot_output){.path = tmp("l.png")}, s, 0, &o, &e), DP_EUSAGE);
}

/* ---- CSV ---- */

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(csv, reads_columns, .init = mkdir_tmp, .fini = rm_tmp) {
    write_file(tmp("a.csv"), "epoch, loss ,acc\r\n1,0.5,nan\n\n2,0.25,NaN\r\n3,1e-3,0.75\n");
    csv_table t;
    dp_err e = {0};
    cr_assert_eq(csv_read(tmp("a.csv"), &t, &e), 0, "%s", e.msg);
    cr_expect_eq(t.ncols, 3);
    cr_expect_eq(t.nrows, 3);
    const double *loss = csv_col(&t, "loss"), *acc = csv_col(&t, "acc");
    cr_assert_not_null(loss);
    cr_assert_not_null(acc);
    cr_expect_eq(loss[1], 0.25);
    cr_expect_eq(loss[2], 1e-3);
    cr_expect(isnan(acc[0]) && isnan(acc[1]));
    cr_expect_eq(acc[2], 0.75);
    cr_expect_null(csv_col(&t, "nope"));
    csv_free(&t);
}

Test(csv, errors_name_file_and_line, .init = mkdir_tmp, .fini = rm_tmp) {
    csv_table t;
    dp_err e = {0};
    write_file(tmp("r.csv"), "a,b\n1,2\n3\n");
    cr_expect_eq(csv_read(tmp("r.csv"), &t, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "r.csv:3:"), "%s", e.msg);
    write_file(tmp("n.csv"), "a,b\n1,2\n3,4x\n");
    cr_expect_eq(csv_read(tmp("n.csv"), &t, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "n.csv:3:"), "%s", e.msg);
    cr_expect_not_null(strstr(e.msg, "'4x'"), "%s", e.msg);
    write_file(tmp("m.csv"), "a,b\n1,\n");
    cr_expect_eq(csv_read(tmp("m.csv"), &t, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "m.csv:2:"), "%s", e.msg);
    write_file(tmp("e.csv"), "");
    cr_expect_eq(csv_read(tmp("e.csv"), &t, &e), DP_EIO);
    cr_expect_eq(csv_read(tmp("missing.csv"), &t, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "missing.csv"), "%s", e.msg);
}

/* ---- training curves ---- */

static void write_run(const char *sub, int n, double speed) {
    char d[200];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    cr_assert_eq(mkdir(d, 0755), 0);
    metrics_writer m;
    dp_err e = {0};
    cr_assert_eq(metrics_open(&m, d, -1, &e), 0, "%s", e.msg);
    for (int k = 1; k <= n; k++) {
        metrics_row r = {0};
        r.epoch = k;
        r.step = 10 * k;
        r.train_loss = 2 * exp(-k * speed);
        r.test_loss = r.train_loss + 0.1;
        r.train_acc = 1 - r.train_loss / 2.2;
        r.test_acc = r.train_acc - 0.05;
        r.comm_rounds = (uint64_t)(k * 10 * speed);
        cr_assert_eq(metrics_append(&m, &r, &e), 0, "%s", e.msg);
    }
    metrics_close(&m);
}

Test(metrics, picture_of_documented_size, .init = mkdir_tmp, .fini = rm_tmp) {
    write_run("run_a", 12, 0.3);
    write_run("run_b", 8, 0.5);
    char pa[200], pb[200];
    snprintf(pa, sizeof pa, "%s/run_a/metrics.csv", dir);
    snprintf(pb, sizeof pb, "%s/run_b/metrics.csv", dir);
    const char *paths[2] = {pa, pb};
    dp_err e = {0};
    for (int n = 1; n <= 2; n++) {
        cr_assert_eq(plot_metrics(paths, n, NULL, &(plot_output){.path = tmp("m.png")}, &e), 0, "%s", e.msg);
        int w, h;
        uint8_t *img;
        cr_assert_eq(png_read_rgb(tmp("m.png"), &w, &h, &img, &e), 0, "%s", e.msg);
        cr_expect_eq(w, (int)lround(PLOT_METRICS_W * PLOT_DPI));
        cr_expect_eq(h, (int)lround(PLOT_METRICS_H * PLOT_DPI));
        cr_expect_gt(count_rgb(img, w, h, plot_palette(0), 30), 500);
        if (n == 2) cr_expect_gt(count_rgb(img, w, h, plot_palette(1), 30), 500);
        else cr_expect_eq(count_rgb(img, w, h, plot_palette(1), 30), 0);
        free(img);
    }
    write_file(tmp("bad.csv"), "epoch,train_loss\n1,2\n");
    const char *bad[1] = {tmp("bad.csv")};
    cr_expect_eq(plot_metrics(bad, 1, NULL, &(plot_output){.path = tmp("m2.png")}, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "test_loss"), "%s", e.msg);
    cr_expect_eq(access(tmp("m2.png"), F_OK), -1, "no picture on error");
}

/* A fixed colour range puts the bowl (values 0..2, shifted to 1..3) at the
 * colours of that range, not at the ends of the colormap. */
Test(heatmap, fixed_range_shares_a_scale, .init = mkdir_tmp, .fini = rm_tmp) {
    double v[NG * NG];
    bowl(v);
    for (int k = 0; k < NG * NG; k++) v[k] += 1;
    plot_heatmap_opts o = {0};
    o.log_z = 1;
    o.fixed_range = 1;
    o.zmin = 0.1;
    o.zmax = 100;
    dp_err e = {0};
    cr_assert_eq(plot_heatmap(&(plot_output){.path = tmp("f.png")}, v, NG, NG, -1, 1, -1, 1, &o, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("f.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    plot_rect area, bar;
    plot_heatmap_layout(&o, 0, &area, &bar);
    int ax = area.x, ay = area.y, aw = area.w, ah = area.h;
    /* centre value 1: log10 = 0, a third of the way from log10(0.1) to log10(100) */
    plot_rgb want = plot_colormap(1.0 / 3);
    const uint8_t *c = px(img, w, ax + aw / 2, ay + ah / 2);
    cr_expect(near_rgb(c, want, 8), "centre %d,%d,%d, want %d,%d,%d", c[0], c[1], c[2], want.r, want.g, want.b);
    cr_expect(!near_rgb(c, plot_colormap(0), 30), "the centre must not get the colormap's low end");
    /* the colour bar spans the fixed range: its ends are the colormap's ends */
    int bx = bar.x + bar.w / 2;
    cr_expect(near_rgb(px(img, w, bx, ay + ah - 3), plot_colormap(0), 6));
    cr_expect(near_rgb(px(img, w, bx, ay + 3), plot_colormap(1), 6));
    free(img);
}

/* Any two columns: one series per file, markers in the file's colour where
 * the points are, a clear error for a missing column. */
Test(columns, scatter_and_errors, .init = mkdir_tmp, .fini = rm_tmp) {
    char a[256], b[256];
    snprintf(a, sizeof a, "%s", tmp("a.csv"));
    snprintf(b, sizeof b, "%s", tmp("b.csv"));
    write_file(a, "rounds,acc\n10,0.5\n100,0.7\n1000,0.9\n");
    write_file(b, "rounds,acc\n10,0.6\n1000,0.8\n");
    const char *paths[2] = {a, b};
    plot_lines_opts o = {0};
    o.log_x = 1;
    o.title = "acc vs rounds";
    dp_err e = {0};
    cr_assert_eq(plot_columns(paths, 2, "rounds", "acc", 1, &o, NULL, &(plot_output){.path = tmp("c.png")}, &e), 0,
                 "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("c.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    cr_expect_eq(w, (int)lround(PLOT_LINES_W * PLOT_DPI));
    cr_expect_eq(h, (int)lround(PLOT_LINES_H * PLOT_DPI));
    int n0 = count_rgb(img, w, h, plot_palette(0), 0), n1 = count_rgb(img, w, h, plot_palette(1), 0);
    /* 3 and 2 discs of radius 3 pt (~60 px of full colour inside the white ring at
     * 100 dpi) plus a legend marker each: 4 and 3 discs, and no lines */
    cr_expect(n0 > 4 * 25 && n0 < 4 * 110, "series a: %d pixels of its colour", n0);
    cr_expect(n1 > 3 * 25 && n1 < 3 * 110, "series b: %d pixels of its colour", n1);
    cr_expect(n0 > n1, "4 discs of a, 3 of b: %d vs %d pixels", n0, n1);
    free(img);
    cr_expect_eq(plot_columns(paths, 2, "rounds", "nope", 0, NULL, NULL, &(plot_output){.path = tmp("d.png")}, &e),
                 DP_EUSAGE);
    cr_expect(strstr(e.msg, "nope") && strstr(e.msg, "a.csv"), "%s", e.msg);
}

/* Resuming keeps the complete rows up to the checkpoint's step, drops a row a
 * crash cut short and later ones, appends after them, and leaves no temp file. */
Test(metrics, resume_keeps_complete_rows, .init = mkdir_tmp, .fini = rm_tmp) {
    write_run("r", 3, 0.3); /* steps 10, 20, 30 */
    char path[200];
    snprintf(path, sizeof path, "%s/r/metrics.csv", dir);
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f);
    fputs("4.000000,4", f); /* a row cut short by a kill: no newline */
    fclose(f);
    snprintf(path, sizeof path, "%s/r", dir);
    metrics_writer m;
    dp_err e = {0};
    cr_assert_eq(metrics_open(&m, path, 20, &e), 0, "%s", e.msg);
    metrics_row r = {0};
    r.epoch = 3;
    r.step = 30;
    cr_assert_eq(metrics_append(&m, &r, &e), 0, "%s", e.msg);
    metrics_close(&m);
    snprintf(path, sizeof path, "%s/r/metrics.csv", dir);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[512];
    long steps[8];
    int n = 0;
    while (n < 8 && fgets(line, sizeof line, f)) {
        cr_expect(strchr(line, '\n'), "line %d is cut short: %s", n, line);
        if (n++ == 0) continue; /* header */
        steps[n - 2] = strtol(strchr(line, ',') + 1, NULL, 10);
    }
    fclose(f);
    cr_assert_eq(n, 4, "header + 3 rows expected, got %d lines", n);
    cr_expect(steps[0] == 10 && steps[1] == 20 && steps[2] == 30, "steps %ld %ld %ld", steps[0],
              steps[1], steps[2]);
    snprintf(path, sizeof path, "%s/r", dir);
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    struct dirent *de;
    while ((de = readdir(d))) cr_expect_null(strstr(de->d_name, ".tmp."), "left: %s", de->d_name);
    closedir(d);
}

/* --group-by: runs with the same value of a spec key become one series, the
 * mean with a translucent mean -/+ std band; an unknown key is an error. */
Test(columns, group_by_draws_mean_and_band, .init = mkdir_tmp, .fini = rm_tmp) {
    const char *algo[4] = {"dppf", "dppf", "dppf", "ddp"};
    char paths[4][256];
    const char *pp[4];
    for (int r = 0; r < 4; r++) {
        char d[200];
        snprintf(d, sizeof d, "%s/r%d", dir, r);
        cr_assert_eq(mkdir(d, 0755), 0);
        char spec[300], body[128];
        snprintf(spec, sizeof spec, "%s/spec.yaml", d);
        snprintf(body, sizeof body, "# built by a test\ndist:\n  algorithm: %s\nrun:\n  seed: %d\n", algo[r], r);
        write_file(spec, body);
        snprintf(paths[r], sizeof paths[r], "%s/metrics.csv", d);
        /* dppf runs: 0.5 +- 0.1 around a line; ddp: one run at 0.2 */
        char csv[512];
        double off = r < 3 ? 0.1 * (r - 1) : 0;
        double base = r < 3 ? 0.5 : 0.2;
        snprintf(csv, sizeof csv, "epoch,test_acc\n1,%g\n2,%g\n3,%g\n4,%g\n", base + off, base + off, base + off, base + off);
        write_file(paths[r], csv);
        pp[r] = paths[r];
    }
    plot_lines_opts o = {0};
    dp_err e = {0};
    cr_assert_eq(plot_columns(pp, 4, "epoch", "test_acc", 0, &o, "dist.algorithm", &(plot_output){.path = tmp("g.png")},
                              &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("g.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    /* two series: dppf in colour 0 with its band, ddp in colour 1 and no band; a
     * band pixel is the colour at 22% over white */
    plot_rgb c0 = plot_palette(0), band = {(uint8_t)lround(255 + 0.22 * (c0.r - 255)),
                                          (uint8_t)lround(255 + 0.22 * (c0.g - 255)),
                                          (uint8_t)lround(255 + 0.22 * (c0.b - 255))};
    int nb = count_rgb(img, w, h, band, 4);
    cr_expect_gt(nb, 2000, "band pixels: %d", nb);
    cr_expect_gt(count_rgb(img, w, h, plot_palette(1), 30), 200, "ddp's line");
    cr_expect_eq(count_rgb(img, w, h, plot_palette(2), 30), 0, "only two series");
    free(img);
    cr_expect_eq(plot_columns(pp, 4, "epoch", "test_acc", 0, &o, "dist.nope", &(plot_output){.path = tmp("x.png")}, &e),
                 DP_EUSAGE);
    cr_expect(strstr(e.msg, "dist.nope") && strstr(e.msg, "valid keys"), "%s", e.msg);
}
