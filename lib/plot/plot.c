/* plot.c - colours, contour levels and figure titles (plot.h). */
#include <math.h>

#include "axes.h"
#include "plot.h"

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

void plot_contour_levels(double vmin, double vmax, int n, double *levels) {
    for (int k = 0; k < n; k++) levels[k] = vmin + (k + 1) * (vmax - vmin) / (n + 1);
}

void plot_suptitle(plot_canvas *c, const char *title) {
    if (!title || !title[0]) return;
    text_style st = text_title();
    st.bold = 1;
    st.valign = TEXT_TOP;
    canvas_text(c, c->w / 2, 10, title, &st);
}
