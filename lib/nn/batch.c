/* batch.c - turning sample indices into a normalised, optionally augmented batch. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"

void dataset_free(dataset_t *d) {
    if (!d) return;
    free(d->images);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

/* Normalisation is x = pixel * scale + shift with scale = 1 / (255 std) and
 * shift = -mean / std. Crop padding uses the value of a 0 pixel, shift: the
 * same as torchvision's RandomCrop(padding) on the raw image followed by
 * Normalize. */
void batch_fill(float *x, int32_t *y, const dataset_t *d, const int32_t *idx, int B,
                const batch_cfg_t *bc, int augment, rng_t *r) {
    const int C = d->c, H = d->h, W = d->w;
    const size_t plane = (size_t)H * W, P = plane * C;
    float scale[4], shift[4];
    for (int ch = 0; ch < C && ch < 4; ch++) {
        scale[ch] = bc->normalize ? 1.0f / (255.0f * bc->std[ch]) : 1.0f / 255.0f;
        shift[ch] = bc->normalize ? -bc->mean[ch] / bc->std[ch] : 0.0f;
    }
    const int aug = augment && r;
    const int pad = aug ? bc->crop_pad : 0;
    for (int b = 0; b < B; b++) {
        const uint8_t *src = d->images + (size_t)idx[b] * P;
        float *dst = x + (size_t)b * P;
        y[b] = d->labels[idx[b]];
        int dy = 0, dx = 0, flip = 0;
        if (pad > 0) {
            dy = (int)rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
            dx = (int)rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
        }
        if (aug && bc->flip) flip = (int)rng_below(r, 2);
        if (!dy && !dx && !flip) {
            for (int ch = 0; ch < C; ch++) {
                const uint8_t *s = src + ch * plane;
                float *o = dst + ch * plane;
                for (size_t j = 0; j < plane; j++) o[j] = s[j] * scale[ch] + shift[ch];
            }
            continue;
        }
        /* Output (i, j) reads the padded image at (i + dy + pad, j' + dx + pad)
         * with j' = W-1-j when flipped: crop first, then flip the crop. */
        for (int ch = 0; ch < C; ch++) {
            const uint8_t *s = src + ch * plane;
            float *o = dst + ch * plane;
            for (int i = 0; i < H; i++) {
                int si = i + dy;
                float *orow = o + (size_t)i * W;
                if (si < 0 || si >= H) {
                    for (int j = 0; j < W; j++) orow[j] = shift[ch];
                    continue;
                }
                const uint8_t *srow = s + (size_t)si * W;
                for (int j = 0; j < W; j++) {
                    int sj = (flip ? W - 1 - j : j) + dx;
                    orow[j] = sj < 0 || sj >= W ? shift[ch] : srow[sj] * scale[ch] + shift[ch];
                }
            }
        }
    }
}

void epoch_permutation(int32_t *perm, int n, uint64_t seed, int64_t epoch) {
    for (int i = 0; i < n; i++) perm[i] = i;
    rng_t r;
    rng_init(&r, seed, RNG_STREAM_SHUFFLE + (uint64_t)epoch * 1000003u);
    rng_shuffle_i32(&r, perm, (size_t)n);
}
