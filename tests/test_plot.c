/* PNG plots: PNG round trip, the bitmap font, the heatmap's colours and
 * contours at computed pixel positions, CSV reader errors, training curves.
 *
 * Positions come from the layout in plot.h (plot_heatmap_area) and the
 * mapping documented there: grid point (i, j) sits at pixel-space
 * x = ax + i / (nx - 1) * aw, y = ay + ah - j / (ny - 1) * ah. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "font.h"
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

/* ---- font ---- */

Test(font, ink_where_expected) {
    enum { W = 40, H = 30 };
    uint8_t img[W * H * 3];
    memset(img, 255, sizeof img);
    const uint8_t black[3] = {0, 0, 0};
    /* 'I' = columns {0x00, 0x41, 0x7F, 0x41, 0x00}: a full stem in column 2 and serifs */
    font_draw(img, W, H, 10, 10, "I", 1, black);
    int ink = 0;
    for (int i = 0; i < W * H; i++) ink += img[3 * i] == 0;
    cr_expect_eq(ink, 11);
    for (int r = 0; r < 7; r++) cr_expect_eq(px(img, W, 12, 10 + r)[0], 0, "stem row %d", r);
    cr_expect_eq(px(img, W, 11, 10)[0], 0);
    cr_expect_eq(px(img, W, 10, 10)[0], 255);
    cr_expect_eq(px(img, W, 11, 13)[0], 255);
    /* scale 2 quadruples the ink */
    memset(img, 255, sizeof img);
    font_draw(img, W, H, 0, 0, "I", 2, black);
    ink = 0;
    for (int i = 0; i < W * H; i++) ink += img[3 * i] == 0;
    cr_expect_eq(ink, 44);
    cr_expect_eq(font_text_width("ab", 2), 22);
    cr_expect_eq(font_text_width("", 2), 0);
    cr_expect_eq(font_text_height(2), 14);
    /* vertical: '-' (row 3 of columns 0..4) becomes a vertical bar at x + 3 */
    memset(img, 255, sizeof img);
    font_draw_vertical(img, W, H, 5, 5, "-", 1, black);
    ink = 0;
    for (int i = 0; i < W * H; i++) ink += img[3 * i] == 0;
    cr_expect_eq(ink, 5);
    for (int k = 0; k < 5; k++) cr_expect_eq(px(img, W, 8, 5 + k)[0], 0, "bar pixel %d", k);
    /* clipping: drawing off the edge must not write outside the buffer (ASan) */
    font_draw(img, W, H, W - 3, H - 3, "WWW", 2, black);
    font_draw_vertical(img, W, H, -5, -20, "WWW", 2, black);
    /* unknown characters draw as '?' */
    cr_expect_eq(memcmp(font_glyph('\x01'), font_glyph('?'), FONT_GLYPH_W), 0);
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
    cr_assert_eq(plot_heatmap(tmp("h.png"), v, NG, NG, -1, 1, -1, 1, &o, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("h.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    cr_assert_eq(w, PLOT_HEATMAP_W);
    cr_assert_eq(h, PLOT_HEATMAP_H);
    int ax, ay, aw, ah;
    plot_heatmap_area(w, h, &ax, &ay, &aw, &ah);
    /* centre: f ~ 0, the low end; top-left corner: f ~ 2, the high end */
    const uint8_t *c = px(img, w, ax + aw / 2, ay + ah / 2), *k = px(img, w, ax, ay);
    plot_rgb lo = plot_colormap(0), hi = plot_colormap(1);
    cr_expect(near_rgb(c, lo, 6), "centre %d,%d,%d, want %d,%d,%d", c[0], c[1], c[2], lo.r, lo.g, lo.b);
    cr_expect(near_rgb(k, hi, 10), "corner %d,%d,%d, want %d,%d,%d", k[0], k[1], k[2], hi.r, hi.g, hi.b);
    k = px(img, w, ax + aw - 1, ay + ah - 1);
    cr_expect(near_rgb(k, hi, 10), "bottom-right %d,%d,%d", k[0], k[1], k[2]);
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
    int bx = ax + aw + 22 + 11;
    cr_expect(near_rgb(px(img, w, bx, ay + ah - 1), lo, 6));
    cr_expect(near_rgb(px(img, w, bx, ay + 1), hi, 6));
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
    cr_assert_eq(plot_heatmap(tmp("n.png"), v, NG, NG, -1, 1, -1, 1, &o, &e), 0, "%s", e.msg);
    int w, h, ax, ay, aw, ah;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("n.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    plot_heatmap_area(w, h, &ax, &ay, &aw, &ah);
    plot_rgb grey = {160, 160, 160};
    cr_expect(near_rgb(px(img, w, ax + aw - 2, ay + 1), grey, 0), "NaN cell not grey");
    cr_expect(near_rgb(px(img, w, ax + 1, ay + ah - 2), grey, 0), "Inf cell not grey");
    /* the red marker at the centre */
    const uint8_t *c = px(img, w, ax + aw / 2, ay + ah / 2);
    cr_expect(c[0] > 200 && c[1] < 80 && c[2] < 80, "marker %d,%d,%d", c[0], c[1], c[2]);
    free(img);

    /* a constant grid: the middle colour, no contours */
    for (int k = 0; k < NG * NG; k++) v[k] = 3.5;
    cr_assert_eq(plot_heatmap(tmp("c.png"), v, NG, NG, 0, 1, 0, 1, NULL, &e), 0, "%s", e.msg);
    cr_assert_eq(png_read_rgb(tmp("c.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    for (int y = ay; y < ay + ah; y += 37)
        for (int x = ax; x < ax + aw; x += 41)
            cr_expect(near_rgb(px(img, w, x, y), plot_colormap(0.5), 0), "pixel %d,%d", x, y);
    free(img);

    cr_expect_eq(plot_heatmap(tmp("x.png"), v, 1, NG, 0, 1, 0, 1, NULL, &e), DP_EUSAGE);
    cr_expect_eq(plot_heatmap(tmp("x.png"), v, NG, NG, 1, 1, 0, 1, NULL, &e), DP_EUSAGE);
    cr_expect_eq(plot_heatmap(tmp("no/dir/x.png"), v, NG, NG, 0, 1, 0, 1, NULL, &e), DP_EIO);
    cr_expect_not_null(strstr(e.msg, "no/dir/x.png"), "%s", e.msg);
}

/* ---- line plots ---- */

static int count_rgb(const uint8_t *img, int w, int h, plot_rgb c) {
    int n = 0;
    for (int i = 0; i < w * h; i++) n += near_rgb(img + 3 * i, c, 0);
    return n;
}

Test(lines, size_colours_and_log, .init = mkdir_tmp, .fini = rm_tmp) {
    double x[50], y1[50], y2[50];
    for (int i = 0; i < 50; i++) x[i] = i, y1[i] = exp(-i / 10.0), y2[i] = i == 20 ? NAN : 0.5 * exp(-i / 5.0);
    plot_series s[2] = {{"a", x, y1, 50, 0, 0, {0}, 0}, {"b", x, y2, 50, 1, 0, {0}, 0}};
    plot_lines_opts o = {0};
    o.title = "t";
    o.xlabel = "epoch";
    o.ylabel = "loss";
    dp_err e = {0};
    for (int lg = 0; lg < 2; lg++) {
        o.log_y = lg;
        cr_assert_eq(plot_lines(tmp("l.png"), s, 2, &o, &e), 0, "%s", e.msg);
        int w, h;
        uint8_t *img;
        cr_assert_eq(png_read_rgb(tmp("l.png"), &w, &h, &img, &e), 0, "%s", e.msg);
        cr_expect_eq(w, PLOT_LINES_W);
        cr_expect_eq(h, PLOT_LINES_H);
        cr_expect_gt(count_rgb(img, w, h, plot_palette(0)), 300, "series a drawn");
        cr_expect_gt(count_rgb(img, w, h, plot_palette(1)), 150, "series b drawn");
        free(img);
    }
    cr_expect_eq(plot_lines(tmp("l.png"), s, 0, &o, &e), DP_EUSAGE);
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
        cr_assert_eq(plot_metrics(paths, n, tmp("m.png"), &e), 0, "%s", e.msg);
        int w, h;
        uint8_t *img;
        cr_assert_eq(png_read_rgb(tmp("m.png"), &w, &h, &img, &e), 0, "%s", e.msg);
        cr_expect_eq(w, PLOT_METRICS_W);
        cr_expect_eq(h, PLOT_METRICS_H);
        cr_expect_gt(count_rgb(img, w, h, plot_palette(0)), 500);
        if (n == 2) cr_expect_gt(count_rgb(img, w, h, plot_palette(1)), 500);
        else cr_expect_eq(count_rgb(img, w, h, plot_palette(1)), 0);
        free(img);
    }
    write_file(tmp("bad.csv"), "epoch,train_loss\n1,2\n");
    const char *bad[1] = {tmp("bad.csv")};
    cr_expect_eq(plot_metrics(bad, 1, tmp("m2.png"), &e), DP_EIO);
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
    cr_assert_eq(plot_heatmap(tmp("f.png"), v, NG, NG, -1, 1, -1, 1, &o, &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("f.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    int ax, ay, aw, ah;
    plot_heatmap_area(w, h, &ax, &ay, &aw, &ah);
    /* centre value 1: log10 = 0, a third of the way from log10(0.1) to log10(100) */
    plot_rgb want = plot_colormap(1.0 / 3);
    const uint8_t *c = px(img, w, ax + aw / 2, ay + ah / 2);
    cr_expect(near_rgb(c, want, 8), "centre %d,%d,%d, want %d,%d,%d", c[0], c[1], c[2], want.r, want.g, want.b);
    cr_expect(!near_rgb(c, plot_colormap(0), 30), "the centre must not get the colormap's low end");
    /* the colour bar spans the fixed range: its ends are the colormap's ends */
    int bx = ax + aw + 22 + 11;
    cr_expect(near_rgb(px(img, w, bx, ay + ah - 1), plot_colormap(0), 6));
    cr_expect(near_rgb(px(img, w, bx, ay + 1), plot_colormap(1), 6));
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
    cr_assert_eq(plot_columns(paths, 2, "rounds", "acc", 1, &o, tmp("c.png"), &e), 0, "%s", e.msg);
    int w, h;
    uint8_t *img;
    cr_assert_eq(png_read_rgb(tmp("c.png"), &w, &h, &img, &e), 0, "%s", e.msg);
    cr_expect_eq(w, PLOT_LINES_W);
    cr_expect_eq(h, PLOT_LINES_H);
    int n0 = count_rgb(img, w, h, plot_palette(0)), n1 = count_rgb(img, w, h, plot_palette(1));
    /* 3 and 2 discs of radius 4.5 (~50 px inside the ring each) plus a legend marker */
    cr_expect(n0 > 3 * 30 && n0 < 3 * 90, "series a: %d pixels of its colour", n0);
    cr_expect(n1 > 2 * 30 && n1 < 2 * 90, "series b: %d pixels of its colour", n1);
    free(img);
    cr_expect_eq(plot_columns(paths, 2, "rounds", "nope", 0, NULL, tmp("d.png"), &e), DP_EUSAGE);
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
