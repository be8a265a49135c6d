/* im2col.c - column matrix of one image and its adjoint (see im2col.h). */
#include <stddef.h>
#include <string.h>

#include "im2col.h"
#include "parallel.h"

/* Output columns ow whose input column ow*stride - pad + kw lies in [0, W). */
static void valid_range(int W, int OW, int stride, int pad, int kw, int *lo, int *hi) {
    int off = pad - kw; /* iw = ow*stride - off */
    int l = off <= 0 ? 0 : (off + stride - 1) / stride;
    int h = (W - 1 + off) < 0 ? 0 : (W - 1 + off) / stride + 1;
    if (l > OW) l = OW;
    if (h > OW) h = OW;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

void im2col(float *restrict col, const float *restrict in, const conv_geom *g) {
    const int H = g->H, W = g->W, OH = g->OH, OW = g->OW, st = g->stride, pad = g->pad;
    for (int c = 0; c < g->C; c++) {
        const float *plane = in + (size_t)c * H * W;
        for (int kh = 0; kh < g->KH; kh++) {
            for (int kw = 0; kw < g->KW; kw++) {
                int lo, hi;
                valid_range(W, OW, st, pad, kw, &lo, &hi);
                for (int oh = 0; oh < OH; oh++) {
                    float *dst = col + (size_t)oh * OW;
                    int ih = oh * st - pad + kh;
                    if (ih < 0 || ih >= H) {
                        memset(dst, 0, sizeof(float) * (size_t)OW);
                        continue;
                    }
                    const float *src = plane + (size_t)ih * W - pad + kw;
                    for (int ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                    for (int ow = lo; ow < hi; ow++) dst[ow] = src[ow * st];
                    for (int ow = hi; ow < OW; ow++) dst[ow] = 0.0f;
                }
                col += (size_t)OH * OW;
            }
        }
    }
}

void col2im_add(float *restrict din, const float *restrict col0, const conv_geom *g) {
    const int H = g->H, W = g->W, OH = g->OH, OW = g->OW, st = g->stride, pad = g->pad;
    /* Channels in parallel: each writes only its own plane, in the serial order. */
#pragma omp parallel for schedule(static) if ((size_t)g->C * g->KH * g->KW * OH * OW >= PAR_MIN)
    for (int c = 0; c < g->C; c++) {
        float *plane = din + (size_t)c * H * W;
        const float *col = col0 + (size_t)c * g->KH * g->KW * OH * OW;
        for (int kh = 0; kh < g->KH; kh++) {
            for (int kw = 0; kw < g->KW; kw++) {
                int lo, hi;
                valid_range(W, OW, st, pad, kw, &lo, &hi);
                for (int oh = 0; oh < OH; oh++) {
                    int ih = oh * st - pad + kh;
                    if (ih < 0 || ih >= H) continue;
                    const float *src = col + (size_t)oh * OW;
                    float *dst = plane + (size_t)ih * W - pad + kw;
                    if (st == 1) /* contiguous case gets its own vectorisable loop */
                        for (int ow = lo; ow < hi; ow++) dst[ow] += src[ow];
                    else
                        for (int ow = lo; ow < hi; ow++) dst[ow * st] += src[ow];
                }
                col += (size_t)OH * OW;
            }
        }
    }
}
