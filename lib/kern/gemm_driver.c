/* gemm_driver.c - the blocked GEMM loops of BLIS (Goto's algorithm) with dppf's own packing.
 *
 * Loop order and blocking follow BLIS: for each NC-wide block of B's
 * columns, for each KC-deep slice of k, pack B once; for each MC-tall block
 * of A's rows pack A; then run the micro-kernel over MR x NR tiles. The
 * micro-kernel is BLIS's own (it handles partial tiles itself: m, n < MR, NR). */
#include <blis.h>
#include <omp.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_driver.h"
#include "simd16.h"
#include "scratch.h"

typedef void (*sgemm_ukr)(dim_t m, dim_t n, dim_t k, float *alpha, float *a, float *b,
                          float *beta, float *c, inc_t rs_c, inc_t cs_c, auxinfo_t *data,
                          cntx_t *cntx);

/* Set once, before any GEMM (gemm.c, from DPPF_PACK=generic): use only the
 * portable packing code, so that tests can cover it on any CPU. */
static int generic_packing;
void gemm_driver_generic_packing(int on) { generic_packing = on; }

/* ---- packing ---------------------------------------------------------------- */

static void zero_tail(float *dst, int olen, int kc, int w) {
    if (olen == w) return;
    for (int k = 0; k < kc; k++)
        for (int t = olen; t < w; t++) dst[(size_t)k * w + t] = 0.0f;
}

static void pack_dense(const gemm_src *s, int o0, int olen, int k0, int kc, int w, float *dst) {
    const long so = s->so, sk = s->sk;
    const float *p = s->p + o0 * so + k0 * sk;
    if (so == 1) { /* each k is a contiguous run of the panel's width */
        for (int k = 0; k < kc; k++) memcpy(dst + (size_t)k * w, p + k * sk, sizeof(float) * olen);
    } else if (sk == 1) {
        /* A transpose: blocks of 8 k keep the 8-float reads of each row in one
         * cache line while the writes stay within a few lines of dst. */
        int k = 0;
        for (; k + 8 <= kc; k += 8)
            for (int t = 0; t < olen; t++) {
                const float *row = p + t * so + k;
                float *d = dst + (size_t)k * w + t;
                for (int u = 0; u < 8; u++) d[(size_t)u * w] = row[u];
            }
        for (; k < kc; k++)
            for (int t = 0; t < olen; t++) dst[(size_t)k * w + t] = p[t * so + k];
    } else {
        for (int k = 0; k < kc; k++)
            for (int t = 0; t < olen; t++) dst[(size_t)k * w + t] = p[t * so + k * sk];
    }
    zero_tail(dst, olen, kc, w);
}

/* S[o][k] = col[k][o]: o = oh*OW + ow is an output pixel, k = (c*KH + kh)*KW + kw
 * a filter tap; the value is image[c][oh*stride-pad+kh][ow*stride-pad+kw], 0 in
 * the padding. Which pixels of a panel read which input positions depends on
 * the tap (kh, kw) but not on the channel c, so each panel is first planned
 * per tap as a few runs (a zero run, or a run of consecutive output columns of
 * one output row), and every channel then replays its tap's runs. */
typedef struct {
    int dst, len; /* run of panel positions */
    int src;      /* offset in the channel plane of the first one; -1: zeros */
} im2col_run;

enum { RUNS_MAX = 2048 }; /* 16 KiB of plan on the stack; larger plans take the slow path */

/* Runs of tap (kh, kw) for panel pixels o0..o0+olen-1; returns how many, or -1 if more than cap. */
static int plan_tap(const conv_geom *g, int o0, int olen, int kh, int kw, im2col_run *r,
                    int cap) {
    const int H = g->H, W = g->W, OW = g->OW, st = g->stride, off = g->pad - kw;
    /* Output columns [lo, hi) whose input column x*st - off lies in [0, W). */
    int lo = off <= 0 ? 0 : (off + st - 1) / st;
    int hi = W - 1 + off < 0 ? 0 : (W - 1 + off) / st + 1;
    if (hi > OW) hi = OW;
    if (lo > hi) lo = hi;
    int n = 0, t = 0, oh = o0 / OW, ow = o0 % OW;
    while (t < olen) {
        const int seg = OW - ow < olen - t ? OW - ow : olen - t, e = ow + seg;
        const int ih = oh * st - g->pad + kh;
        const int vlo = ih < 0 || ih >= H ? e : lo < ow ? ow : lo > e ? e : lo;
        const int vhi = ih < 0 || ih >= H ? e : hi > e ? e : hi < vlo ? vlo : hi;
        if (n + 3 > cap) return -1;
        if (vlo > ow) r[n++] = (im2col_run){t, vlo - ow, -1};
        if (vhi > vlo) r[n++] = (im2col_run){t + vlo - ow, vhi - vlo, ih * W + vlo * st - off};
        if (e > vhi) r[n++] = (im2col_run){t + vhi - ow, e - vhi, -1};
        t += seg;
        ow = 0;
        oh++;
    }
    return n;
}

/* One element of the column matrix: tap row `tap`, output pixel `pixel`. For
 * the element-by-element paths (kernels of more than TAPS_MAX taps). */
static float im2col_at(const gemm_src *s, int tap, int pixel) {
    const conv_geom *g = s->g;
    const int KK = g->KH * g->KW, c = tap / KK, kh = tap % KK / g->KW, kw = tap % KK % g->KW;
    const int ih = pixel / g->OW * g->stride - g->pad + kh;
    const int iw = pixel % g->OW * g->stride - g->pad + kw;
    if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) return 0.0f;
    return s->p[((size_t)c * g->H + ih) * g->W + iw];
}

enum { TAPS_MAX = 64 }; /* up to 8x8 kernels are planned */

/* The runs of every tap over pixels p0..p0+plen-1: tap j's are
 * runs[first[j] .. first[j+1]). Returns how many, or -1 if the kernel has more
 * than TAPS_MAX taps or the runs do not fit RUNS_MAX. */
static int plan_taps(const conv_geom *g, int p0, int plen, im2col_run *runs, int *first) {
    const int KK = g->KH * g->KW;
    if (KK > TAPS_MAX) return -1;
    int n = 0;
    for (int j = 0; j < KK; j++) {
        first[j] = n;
        int got = plan_tap(g, p0, plen, j / g->KW, j % g->KW, runs + n, RUNS_MAX - n);
        if (got < 0) return -1;
        n += got;
    }
    first[KK] = n;
    return n;
}

#if defined(__AVX512F__)
/* Stride 1, panels up to 32 wide, kernels up to KW_FAST wide: each panel row
 * is one masked 16-float load and store per output row segment and half
 * (masked-off lanes are neither read nor written, so reading next to the
 * image edge is safe). Same values as the planned path: a copy or a zero. */
enum { KW_FAST = 16 };

static int pack_im2col_fast(const gemm_src *s, int o0, int olen, int k0, int kc, int w,
                            float *dst) {
    const conv_geom *g = s->g;
    if (g->stride != 1 || w > 32 || g->KW > KW_FAST) return -1;
    const int H = g->H, W = g->W, OW = g->OW, pad = g->pad, KW = g->KW, KK = g->KH * KW;
    /* The panel's pixels as runs within output rows. */
    struct {
        int t, oh, ow0;
        __mmask16 len[2];            /* the run's lanes, per half */
        __mmask16 in[KW_FAST][2];    /* of those, the ones inside the image row, per kw */
    } seg[32];
    int nseg = 0;
    for (int t = 0, oh = o0 / OW, ow = o0 % OW; t < olen; ow = 0, oh++) {
        const int len = OW - ow < olen - t ? OW - ow : olen - t;
        const uint32_t all = len >= 32 ? 0xFFFFFFFFu : (1u << len) - 1u;
        seg[nseg].t = t, seg[nseg].oh = oh, seg[nseg].ow0 = ow;
        seg[nseg].len[0] = (__mmask16)all, seg[nseg].len[1] = (__mmask16)(all >> 16);
        for (int kw = 0; kw < KW; kw++) {
            /* lane j is output column ow + j, input column ow + j - pad + kw */
            int lo = pad - kw - ow, hi = W + pad - kw - ow; /* valid j in [lo, hi) */
            if (lo < 0) lo = 0;
            if (hi > len) hi = len;
            uint32_t m = hi <= lo ? 0 : (hi >= 32 ? 0xFFFFFFFFu : (1u << hi) - 1u) & ~((1u << lo) - 1u);
            seg[nseg].in[kw][0] = (__mmask16)m, seg[nseg].in[kw][1] = (__mmask16)(m >> 16);
        }
        nseg++;
        t += len;
    }
    const __m512 zero = _mm512_setzero_ps();
    int c = k0 / KK, kh = k0 % KK / KW, kw = k0 % KK % KW;
    for (int k = 0; k < kc; k++) {
        const float *plane = s->p + (size_t)c * H * W;
        float *d = dst + (size_t)k * w;
        for (int i = 0; i < nseg; i++) {
            float *dd = d + seg[i].t;
            const int ih = seg[i].oh - pad + kh;
            if (ih < 0 || ih >= H) {
                _mm512_mask_storeu_ps(dd, seg[i].len[0], zero);
                if (seg[i].len[1]) _mm512_mask_storeu_ps(dd + 16, seg[i].len[1], zero);
                continue;
            }
            const float *src = plane + (ptrdiff_t)ih * W + seg[i].ow0 - pad + kw;
            /* The next panel reads the same segment nseg output rows down:
             * fetch it now, the hardware prefetcher does not follow these
             * jumps between channel planes. */
            if (kw == 0 && ih + nseg < H) {
                _mm_prefetch((const char *)(src + nseg * W), _MM_HINT_T0);
                _mm_prefetch((const char *)(src + nseg * W + 16), _MM_HINT_T0);
            }
            _mm512_mask_storeu_ps(dd, seg[i].len[0], _mm512_maskz_loadu_ps(seg[i].in[kw][0], src));
            if (seg[i].len[1])
                _mm512_mask_storeu_ps(dd + 16, seg[i].len[1],
                                      _mm512_maskz_loadu_ps(seg[i].in[kw][1], src + 16));
        }
        if (++kw == KW) {
            kw = 0;
            if (++kh == g->KH) {
                kh = 0;
                c++;
            }
        }
    }
    zero_tail(dst, olen, kc, w);
    return 0;
}
#endif

static void pack_im2col(const gemm_src *s, int o0, int olen, int k0, int kc, int w, float *dst) {
#if defined(__AVX512F__)
    if (!generic_packing && pack_im2col_fast(s, o0, olen, k0, kc, w, dst) == 0) return;
#endif
    const conv_geom *g = s->g;
    const int KK = g->KH * g->KW, HW = g->H * g->W, st = g->stride;
    im2col_run runs[RUNS_MAX];
    int first[TAPS_MAX + 1];
    if (plan_taps(g, o0, olen, runs, first) < 0) {
        for (int k = 0; k < kc; k++)
            for (int t = 0; t < olen; t++) dst[(size_t)k * w + t] = im2col_at(s, k0 + k, o0 + t);
        zero_tail(dst, olen, kc, w);
        return;
    }
    int c = k0 / KK, j = k0 % KK;
    for (int k = 0; k < kc; k++) {
        const float *restrict plane = s->p + (size_t)c * HW;
        float *restrict d = dst + (size_t)k * w;
        for (int i = first[j]; i < first[j + 1]; i++) {
            float *restrict dd = d + runs[i].dst;
            const int len = runs[i].len;
            if (runs[i].src < 0) {
                for (int x = 0; x < len; x++) dd[x] = 0.0f;
            } else {
                const float *restrict src = plane + runs[i].src;
                if (st == 1)
                    for (int x = 0; x < len; x++) dd[x] = src[x];
                else
                    for (int x = 0; x < len; x++) dd[x] = src[x * st];
            }
        }
        if (++j == KK) {
            j = 0;
            c++;
        }
    }
    zero_tail(dst, olen, kc, w);
}

/* The transpose: S[o][k] = col[o][k], o a filter tap, k an output pixel (the
 * weight gradient's operand). Same per-tap plans, over the pixel range
 * k0..k0+kc; each tap row is written down a panel column (stride w). */
#if defined(__AVX512F__)
/* The weight gradient's operand with stride 1: per block of 16 taps x 16
 * pixels, each tap's 16 pixels are one or a few masked loads (one per output
 * row they span), then an in-register transpose writes 16 panel rows of 16
 * floats, instead of 256 single-float stores down the panel. */
static int pack_im2col_t_fast(const gemm_src *s, int o0, int olen, int k0, int kc, int w,
                              float *dst) {
    const conv_geom *g = s->g;
    if (g->stride != 1 || g->KW > KW_FAST || (w != 16 && w != 32) || olen > w) return -1;
    const int H = g->H, W = g->W, OW = g->OW, pad = g->pad, KW = g->KW, KK = g->KH * KW;
    const float *plane[32];
    int tkh[32], tkw[32];
    for (int t = 0; t < olen; t++) {
        const int row = o0 + t;
        plane[t] = s->p + (size_t)(row / KK) * H * W;
        tkh[t] = row % KK / KW;
        tkw[t] = row % KK % KW;
    }
    const __m512 zero = _mm512_setzero_ps();
    for (int kk = 0; kk < kc; kk += 16) {
        const int lanes = kc - kk < 16 ? kc - kk : 16;
        /* The chunk's pixels as runs within output rows; per kw, the lanes
         * whose input column is inside the image. */
        struct {
            int oh;
            ptrdiff_t shift; /* lane j reads input column j + shift + kw */
            __mmask16 in[KW_FAST];
        } seg[16];
        int nseg = 0;
        for (int j = 0, p = k0 + kk; j < lanes; nseg++) {
            const int oh = p / OW, ow = p % OW, len = OW - ow < lanes - j ? OW - ow : lanes - j;
            seg[nseg].oh = oh;
            seg[nseg].shift = ow - j - pad;
            for (int kw = 0; kw < KW; kw++) {
                int lo = j + pad - kw - ow, hi = j + W + pad - kw - ow; /* lanes in [lo, hi) */
                if (lo < j) lo = j;
                if (hi > j + len) hi = j + len;
                seg[nseg].in[kw] = hi <= lo ? 0 : (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
            }
            j += len;
            p += len;
        }
        for (int t0 = 0; t0 < w; t0 += 16) {
            if (t0 >= olen) { /* padding columns of a short panel */
                for (int u = 0; u < lanes; u++) _mm512_storeu_ps(dst + (size_t)(kk + u) * w + t0, zero);
                continue;
            }
            __m512 r[16];
            for (int i = 0; i < 16; i++) {
                const int t = t0 + i;
                __m512 v = zero;
                if (t < olen)
                    for (int q = 0; q < nseg; q++) {
                        const int ih = seg[q].oh - pad + tkh[t];
                        if (ih < 0 || ih >= H) continue;
                        const float *base = plane[t] + (ptrdiff_t)ih * W + seg[q].shift + tkw[t];
                        v = _mm512_mask_loadu_ps(v, seg[q].in[tkw[t]], base);
                    }
                r[i] = v;
            }
            transpose16(r);
            for (int u = 0; u < lanes; u++) _mm512_storeu_ps(dst + (size_t)(kk + u) * w + t0, r[u]);
        }
    }
    return 0;
}
#endif

static void pack_im2col_t(const gemm_src *s, int o0, int olen, int k0, int kc, int w, float *dst) {
#if defined(__AVX512F__)
    if (!generic_packing && pack_im2col_t_fast(s, o0, olen, k0, kc, w, dst) == 0) return;
#endif
    const conv_geom *g = s->g;
    const int KK = g->KH * g->KW, HW = g->H * g->W, st = g->stride;
    im2col_run runs[RUNS_MAX];
    int first[TAPS_MAX + 1];
    if (plan_taps(g, k0, kc, runs, first) < 0) {
        for (int k = 0; k < kc; k++)
            for (int t = 0; t < olen; t++) dst[(size_t)k * w + t] = im2col_at(s, o0 + t, k0 + k);
        zero_tail(dst, olen, kc, w);
        return;
    }
    for (int t = 0; t < olen; t++) {
        const int row = o0 + t, j = row % KK;
        const float *restrict plane = s->p + (size_t)(row / KK) * HW;
        for (int i = first[j]; i < first[j + 1]; i++) {
            float *restrict d = dst + (size_t)runs[i].dst * w + t;
            const int len = runs[i].len;
            if (runs[i].src < 0) {
                for (int x = 0; x < len; x++) d[(size_t)x * w] = 0.0f;
            } else {
                const float *restrict src = plane + runs[i].src;
                for (int x = 0; x < len; x++) d[(size_t)x * w] = src[x * st];
            }
        }
    }
    zero_tail(dst, olen, kc, w);
}

gemm_src gemm_src_im2col_t(const float *image, const conv_geom *g) {
    return (gemm_src){.pack = pack_im2col_t, .p = image, .g = g};
}

gemm_src gemm_src_dense(const float *p, long so, long sk) {
    return (gemm_src){.pack = pack_dense, .p = p, .so = so, .sk = sk};
}

gemm_src gemm_src_im2col(const float *image, const conv_geom *g) {
    return (gemm_src){.pack = pack_im2col, .p = image, .g = g};
}

gemm_src gemm_src_batched(gemm_src s, int kn, long kstride) {
    s.kn = kn;
    s.kstride = kstride;
    return s;
}

gemm_src gemm_src_batched_outer(gemm_src s, int on, long ostride) {
    s.on = on;
    s.ostride = ostride;
    return s;
}

/* A batched source packs item by item: along k, each item's panel rows follow
 * the previous item's; along the outer index, the panel lies in one item. */
static void pack(const gemm_src *s, int o0, int olen, int k0, int kc, int w, float *dst) {
    const float *base = s->p;
    if (s->on > 0) { /* gemm_drive_batched checked that the panel is in one item */
        base += (o0 / s->on) * s->ostride;
        o0 %= s->on;
    }
    gemm_src item = *s;
    item.p = base;
    if (s->kn <= 0) {
        item.pack(&item, o0, olen, k0, kc, w, dst);
        return;
    }
    for (int done = 0; done < kc;) {
        const int k = k0 + done, n = k / s->kn, kk = k % s->kn;
        const int len = s->kn - kk < kc - done ? s->kn - kk : kc - done;
        item.p = base + n * s->kstride;
        item.pack(&item, o0, olen, kk, len, w, dst + (size_t)done * w);
        done += len;
    }
}

/* ---- buffers ------------------------------------------------------------------ */

/* Packed panels, grown on first use and then reused by every call on this
 * thread (BLIS keeps the same kind of per-thread pool): no allocation per
 * GEMM in the training loop. */
static _Thread_local scratch_t pack_buf;

static float *pack_space(size_t floats) { return scratch_reserve(&pack_buf, floats); }

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* ---- loops ------------------------------------------------------------------------ */

typedef struct {
    const gemm_kernel *kr;
    int M, N, K, MC, NC, KC;
    float alpha, beta;
    const gemm_src *a, *b;
    float *C;
    long rs_c, cs_c;
    int rn, cn;            /* C batched along rows / columns (0: not), items ... */
    long rstride, cstride; /* ... this many floats apart */
    size_t a_floats, b_floats;
} problem;

/* The top-left of the micro-tile at (i, j); a tile never spans two items. */
static float *C_at(const problem *P, int i, int j) {
    long off = P->rn ? (i / P->rn) * P->rstride + (long)(i % P->rn) * P->rs_c : (long)i * P->rs_c;
    off += P->cn ? (j / P->cn) * P->cstride + (long)(j % P->cn) * P->cs_c : (long)j * P->cs_c;
    return P->C + off;
}

/* Rows [m0, m1) x columns [n0, n1) of C, packing into space. */
static void drive_block(const problem *P, int m0, int m1, int n0, int n1, float *space) {
    const int MR = P->kr->mr, NR = P->kr->nr, K = P->K, MC = P->MC, NC = P->NC, KC = P->KC;
    const long rs_c = P->rs_c, cs_c = P->cs_c;
    const gemm_src *a = P->a, *b = P->b;
    float *apack = space, *bpack = space + P->a_floats;
    sgemm_ukr ukr = (sgemm_ukr)P->kr->ukr;
    cntx_t *cntx = P->kr->cntx;
    auxinfo_t aux;
    memset(&aux, 0, sizeof aux);
    float alpha = P->alpha, beta = P->beta, one = 1.0f;

    for (int jc = n0; jc < n1; jc += NC) {
        const int nc = n1 - jc < NC ? n1 - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            const int kc = K - pc < KC ? K - pc : KC;
            const size_t ps_a = round_up(MR * kc, 16), ps_b = round_up(NR * kc, 16);
            float *beta_p = pc == 0 ? &beta : &one; /* later k-slices add to the first */
            for (int jr = 0; jr < nc; jr += NR) {
                int n = nc - jr < NR ? nc - jr : NR;
                pack(b, jc + jr, n, pc, kc, NR, bpack + jr / NR * ps_b);
            }
            for (int ic = m0; ic < m1; ic += MC) {
                const int mc = m1 - ic < MC ? m1 - ic : MC;
                for (int ir = 0; ir < mc; ir += MR) {
                    int m = mc - ir < MR ? mc - ir : MR;
                    pack(a, ic + ir, m, pc, kc, MR, apack + ir / MR * ps_a);
                }
                for (int jr = 0; jr < nc; jr += NR) {
                    const int n = nc - jr < NR ? nc - jr : NR;
                    float *bp = bpack + jr / NR * ps_b;
                    for (int ir = 0; ir < mc; ir += MR) {
                        const int m = mc - ir < MR ? mc - ir : MR;
                        float *ap = apack + ir / MR * ps_a;
                        /* Prefetch hints for the kernel: the next tile's panels. */
                        int last_i = ir + MR >= mc;
                        float *a_next = last_i ? apack : ap + ps_a;
                        float *b_next = last_i ? (jr + NR < nc ? bp + ps_b : bpack) : bp;
                        bli_auxinfo_set_next_a(a_next, &aux);
                        bli_auxinfo_set_next_b(b_next, &aux);
                        float *c = C_at(P, ic + ir, jc + jr);
                        ukr(m, n, kc, &alpha, ap, bp, beta_p, c, rs_c, cs_c, &aux, cntx);
                    }
                }
            }
        }
    }
}

/* Below this many multiply-adds a second thread costs more than it saves. */
#define PARALLEL_MIN_FLOPS (1L << 18)

int gemm_drive(const gemm_kernel *kr, int threads, int M, int N, int K, float alpha,
               const gemm_src *a, const gemm_src *b, float beta, float *C, long rs_c, long cs_c) {
    return gemm_drive_batched(kr, threads, M, N, K, alpha, a, b, beta, C, rs_c, cs_c, 0, 0);
}

int gemm_drive_batched(const gemm_kernel *kr, int threads, int M, int N, int K, float alpha,
                       const gemm_src *a, const gemm_src *b, float beta, float *C, long rs_c,
                       long cs_c, int cn, long cstride) {
    int rn = 0;
    long rstride = 0;
    /* A kernel that stores C by columns gets the transposed problem when C is
     * row-major (C^T = B A^T): the same trick BLIS plays internally. */
    if (kr->prefers_cols ? (cs_c == 1 && rs_c != 1) : (rs_c == 1 && cs_c != 1)) {
        const gemm_src *t = a;
        a = b;
        b = t;
        int tm = M;
        M = N;
        N = tm;
        long tr = rs_c;
        rs_c = cs_c;
        cs_c = tr;
        rn = cn, rstride = cstride, cn = 0, cstride = 0;
    }
    const int MR = kr->mr, NR = kr->nr;
    if ((a->on % MR) || (b->on % NR) || (rn % MR) || (cn % NR)) return -1;
    problem P = {.kr = kr, .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .a = a, .b = b,
                 .C = C, .rs_c = rs_c, .cs_c = cs_c, .rn = rn, .cn = cn, .rstride = rstride,
                 .cstride = cstride};
    P.KC = kr->kc < K ? kr->kc : K;
    P.MC = round_up(kr->mc < M ? kr->mc : M, MR);
    P.NC = round_up(kr->nc < N ? kr->nc : N, NR);
    /* Every micro-panel starts on a 64-byte boundary, as in BLIS (its kernels
     * may use aligned loads): panel strides are rounded up to 16 floats. */
    P.a_floats = (size_t)(P.MC / MR) * round_up(MR * P.KC, 16);
    P.b_floats = (size_t)(P.NC / NR) * round_up(NR * P.KC, 16);
    const size_t floats = P.a_floats + P.b_floats;

    /* Threads split C along the dimension with more tiles, at tile boundaries,
     * so every element sees the same tiles and k-slices as with one thread:
     * the result does not depend on the thread count, bit for bit. */
    const int tiles_m = (M + MR - 1) / MR, tiles_n = (N + NR - 1) / NR;
    const int split_n = tiles_n >= tiles_m, tiles = split_n ? tiles_n : tiles_m;
    if (threads > tiles) threads = tiles;
    if ((long)M * N * K < PARALLEL_MIN_FLOPS) threads = 1;
    if (threads <= 1) {
        float *space = pack_space(floats);
        if (!space) return -1;
        drive_block(&P, 0, M, 0, N, space);
        return 0;
    }
    int failed = 0;
#pragma omp parallel num_threads(threads) reduction(+ : failed)
    {
        float *space = pack_space(floats);
        failed += !space;
    }
    if (failed) return -1; /* all or nothing: C is untouched */
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int unit = split_n ? NR : MR, dim = split_n ? N : M;
        int lo = (int)((long)tiles * t / nt) * unit, hi = (int)((long)tiles * (t + 1) / nt) * unit;
        if (hi > dim) hi = dim;
        float *space = pack_space(floats); /* reserved above: no allocation */
        if (lo < hi) {
            if (split_n)
                drive_block(&P, 0, M, lo, hi, space);
            else
                drive_block(&P, lo, hi, 0, N, space);
        }
    }
    return 0;
}
