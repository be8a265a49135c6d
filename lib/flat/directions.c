/* directions.c - random directions and their filter/layer/global normalisation. */
#include <math.h>
#include <string.h>

#include "directions.h"
#include "rng.h"

static const char *const norm_names[] = {"filter", "layer", "global", "unit", "none"};

int dir_norm_parse(const char *s, dir_norm *out, dp_err *e) {
    for (int i = 0; i < (int)(sizeof norm_names / sizeof *norm_names); i++)
        if (strcmp(s, norm_names[i]) == 0) {
            *out = (dir_norm)i;
            return 0;
        }
    return dp_fail(e, DP_EUSAGE,
                   "direction normalisation '%s': expected filter, layer, global, unit or none", s);
}

const char *dir_norm_name(dir_norm m) {
    return (unsigned)m < sizeof norm_names / sizeof *norm_names ? norm_names[m] : "?";
}

void dir_random(float *d, size_t n, uint64_t seed, uint64_t index) {
    rng_t r;
    rng_init(&r, seed, DIR_RNG_STREAM + index);
    for (size_t i = 0; i < n; i++) d[i] = (float)rng_normal(&r);
}

/* d[0..len) *= ||w[0..len)|| / (||d[0..len)|| + 1e-10). */
static void match_norm(float *d, const float *w, size_t len) {
    double wn = vec_norm(w, len), dn = vec_norm(d, len);
    vec_scale(d, wn / (dn + 1e-10), len);
}

int dir_normalize(float *d, const float *w, size_t n, const net_t *net, dir_norm mode, int keep_1d,
                  dp_err *e) {
    if (net && net->n_params != n)
        return dp_fail(e, DP_EUSAGE, "direction of %zu floats for a model of %zu parameters", n,
                       net->n_params);
    switch (mode) {
    case DIR_NORM_NONE: return 0;
    case DIR_NORM_UNIT: {
        double dn = vec_norm(d, n);
        vec_scale(d, 1.0 / (dn + 1e-10), n);
        return 0;
    }
    case DIR_NORM_GLOBAL: match_norm(d, w, n); return 0;
    case DIR_NORM_FILTER:
    case DIR_NORM_LAYER:
        if (!net) {
            match_norm(d, w, n);
            return 0;
        }
        break;
    }
    size_t covered = 0;
    for (int i = 0; i < net->n_tensors; i++) {
        const net_tensor *t = &net->tensors[i];
        if (t->is_buffer) continue;
        if (t->offset + t->size > n)
            return dp_fail(e, DP_EUSAGE, "tensor %s lies outside the parameter vector", t->name);
        covered += t->size;
        float *dt = d + t->offset;
        const float *wt = w + t->offset;
        if (t->ndim <= 1) {
            if (keep_1d)
                match_norm(dt, wt, t->size);
            else
                memset(dt, 0, t->size * sizeof *dt);
        } else if (mode == DIR_NORM_LAYER) {
            match_norm(dt, wt, t->size);
        } else {
            size_t rows = (size_t)t->shape[0], len = t->size / rows;
            for (size_t r = 0; r < rows; r++) match_norm(dt + r * len, wt + r * len, len);
        }
    }
    if (covered != n)
        return dp_fail(e, DP_EUSAGE, "the tensor table covers %zu of %zu parameters", covered, n);
    return 0;
}

int dir_make(float *d, const float *w, size_t n, const net_t *net, dir_norm mode, int keep_1d,
             uint64_t seed, uint64_t index, dp_err *e) {
    dir_random(d, n, seed, index);
    return dir_normalize(d, w, n, net, mode, keep_1d, e);
}
