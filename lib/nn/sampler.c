#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

/* Samples of the set, in a seeded order, grouped by class: idx[cstart[c] ..
 * cstart[c + 1]) are class c's. */
static int by_class(const dataset_t *d, rng_t *r, int32_t *idx, int64_t *cstart, dp_err *e) {
    const int K = d->classes;
    int64_t *fill = dp_calloc((size_t)K + 1, sizeof *fill, "class counts", e);
    if (!fill) return DP_ENOMEM;
    for (int c = 0; c <= K; c++) cstart[c] = 0;
    for (int i = 0; i < d->n; i++) cstart[d->labels[i] + 1]++;
    for (int c = 0; c < K; c++) cstart[c + 1] += cstart[c];
    memcpy(fill, cstart, ((size_t)K + 1) * sizeof *fill);
    for (int i = 0; i < d->n; i++) idx[fill[d->labels[i]]++] = i;
    for (int c = 0; c < K; c++) rng_shuffle_i32(r, idx + cstart[c], (size_t)(cstart[c + 1] - cstart[c]));
    free(fill);
    return 0;
}

/* Hsu et al. 2019: each class split over the workers by Dirichlet(alpha)
 * proportions. Redrawn (up to 1000 times) until every worker has a sample. */
static int split_dirichlet(sampler_t *s, rng_t *r, dp_err *e) {
    const dataset_t *d = s->data;
    const int M = s->cfg.workers, K = d->classes;
    int32_t *idx = dp_calloc((size_t)d->n, sizeof *idx, "the partition", e);
    int64_t *cstart = dp_calloc((size_t)K + 1, sizeof *cstart, "the partition", e);
    int64_t *cut = dp_calloc(((size_t)M + 1) * (size_t)K, sizeof *cut, "the partition", e);
    double *p = dp_calloc((size_t)M, sizeof *p, "the partition", e);
    int rc = idx && cstart && cut && p ? by_class(d, r, idx, cstart, e) : DP_ENOMEM;
    int attempt = 0;
    for (; !rc && attempt < 1000; attempt++) {
        memset(s->start, 0, ((size_t)M + 1) * sizeof *s->start);
        for (int c = 0; c < K; c++) {
            double sum = 0;
            for (int i = 0; i < M; i++) sum += p[i] = rng_gamma(r, s->cfg.alpha);
            int64_t nc = cstart[c + 1] - cstart[c];
            double acc = 0;
            int64_t *cc = cut + (size_t)c * (M + 1);
            cc[0] = 0;
            for (int i = 0; i < M; i++) {
                acc += sum > 0 ? p[i] / sum : 1.0 / M;
                cc[i + 1] = i == M - 1 ? nc : (int64_t)floor(acc * (double)nc);
                if (cc[i + 1] < cc[i]) cc[i + 1] = cc[i];
                s->start[i + 1] += cc[i + 1] - cc[i];
            }
        }
        int empty = 0;
        for (int i = 0; i < M; i++) empty |= s->start[i + 1] == 0;
        if (!empty) break;
    }
    if (!rc && attempt == 1000)
        rc = dp_fail(e, DP_EUSAGE,
                     "data.dirichlet_alpha: with alpha %g some of the %d workers get no samples in "
                     "1000 draws; raise data.dirichlet_alpha or use fewer workers",
                     s->cfg.alpha, M);
    if (!rc) {
        for (int i = 0; i < M; i++) s->start[i + 1] += s->start[i];
        int64_t *at = dp_calloc((size_t)M, sizeof *at, "the partition", e);
        if (!at) rc = DP_ENOMEM;
        for (int i = 0; !rc && i < M; i++) at[i] = s->start[i];
        for (int c = 0; !rc && c < K; c++) {
            const int64_t *cc = cut + (size_t)c * (M + 1);
            for (int i = 0; i < M; i++)
                for (int64_t j = cc[i]; j < cc[i + 1]; j++) s->part[at[i]++] = idx[cstart[c] + j];
        }
        free(at);
    }
    free(idx), free(cstart), free(cut), free(p);
    return rc;
}

/* McMahan et al. 2017: sorted by label, cut into M * k shards, k per worker. */
static int split_shards(sampler_t *s, rng_t *r, dp_err *e) {
    const dataset_t *d = s->data;
    const int M = s->cfg.workers, k = s->cfg.shards;
    const int64_t n_shards = (int64_t)M * k;
    if (M > (int64_t)d->classes * k)
        return dp_fail(e, DP_EUSAGE,
                       "data.shards_per_worker: %d workers with %d shard%s each cannot all get a "
                       "label of their own from %d classes; raise data.shards_per_worker to at "
                       "least %d",
                       M, k, k > 1 ? "s" : "", d->classes, (M + d->classes - 1) / d->classes);
    if (n_shards > d->n)
        return dp_fail(e, DP_EUSAGE, "data.shards_per_worker: %lld shards of %d samples would be empty",
                       (long long)n_shards, d->n);
    int32_t *idx = dp_calloc((size_t)d->n, sizeof *idx, "the partition", e);
    int64_t *cstart = dp_calloc((size_t)d->classes + 1, sizeof *cstart, "the partition", e);
    int32_t *order = dp_calloc((size_t)n_shards, sizeof *order, "the partition", e);
    int rc = idx && cstart && order ? by_class(d, r, idx, cstart, e) : DP_ENOMEM;
    if (!rc) {
        for (int64_t j = 0; j < n_shards; j++) order[j] = (int32_t)j;
        rng_shuffle_i32(r, order, (size_t)n_shards);
        int64_t at = 0;
        for (int i = 0; i < M; i++) {
            s->start[i] = at;
            for (int j = 0; j < k; j++) {
                int64_t sh = order[(int64_t)i * k + j];
                int64_t lo = sh * d->n / n_shards, hi = (sh + 1) * d->n / n_shards;
                for (int64_t q = lo; q < hi; q++) s->part[at++] = idx[q];
            }
        }
        s->start[M] = at;
    }
    free(idx), free(cstart), free(order);
    return rc;
}

int sampler_init(sampler_t *s, const sampler_cfg *c, const dataset_t *d, dp_err *e) {
    memset(s, 0, sizeof *s);
    s->cfg = *c;
    s->data = d;
    s->perm_epoch = -1;
    s->perm = dp_calloc((size_t)d->n, sizeof *s->perm, "the epoch permutation", e);
    if (!s->perm) return DP_ENOMEM;
    if (c->kind == PART_IID) return 0;
    s->part = dp_calloc((size_t)d->n, sizeof *s->part, "the partition", e);
    s->start = dp_calloc((size_t)c->workers + 1, sizeof *s->start, "the partition", e);
    s->pstart = dp_calloc((size_t)c->local + 1, sizeof *s->pstart, "the partition", e);
    s->batch = dp_calloc((size_t)c->batch, sizeof *s->batch, "a batch", e);
    if (!s->part || !s->start || !s->pstart || !s->batch) {
        sampler_free(s);
        return DP_ENOMEM;
    }
    rng_t r;
    rng_init(&r, c->seed, RNG_STREAM_PARTITION);
    int rc = c->kind == PART_DIRICHLET ? split_dirichlet(s, &r, e) : split_shards(s, &r, e);
    if (rc) {
        sampler_free(s);
        return rc;
    }
    for (int k = 0; k < c->local; k++)
        s->pstart[k + 1] = s->pstart[k] + (s->start[c->first + k + 1] - s->start[c->first + k]);
    return 0;
}

void sampler_free(sampler_t *s) {
    free(s->perm);
    free(s->part);
    free(s->start);
    free(s->pstart);
    free(s->batch);
    memset(s, 0, sizeof *s);
}

static void new_epoch(sampler_t *s, int64_t epoch) {
    const sampler_cfg *c = &s->cfg;
    if (c->kind == PART_IID) {
        epoch_permutation(s->perm, s->data->n, c->seed, epoch);
    } else {
        for (int k = 0; k < c->local; k++) {
            int w = c->first + k;
            int32_t *p = s->perm + s->pstart[k];
            int64_t n = s->start[w + 1] - s->start[w];
            memcpy(p, s->part + s->start[w], (size_t)n * sizeof *p);
            rng_t r;
            rng_init(&r, c->seed, RNG_STREAM_PART_SHUFFLE + (uint64_t)epoch * 65536u + (uint64_t)w);
            rng_shuffle_i32(&r, p, (size_t)n);
        }
    }
    s->perm_epoch = epoch;
}

const int32_t *sampler_batch(sampler_t *s, int worker, int64_t step) {
    const sampler_cfg *c = &s->cfg;
    int64_t epoch = step / c->steps_per_epoch, pos = step % c->steps_per_epoch;
    if (epoch != s->perm_epoch) new_epoch(s, epoch);
    if (c->kind == PART_IID) return s->perm + (pos * c->workers + worker) * c->batch;
    int k = worker - c->first;
    const int32_t *p = s->perm + s->pstart[k];
    int64_t n = s->pstart[k + 1] - s->pstart[k], at = pos * c->batch;
    for (int j = 0; j < c->batch; j++) s->batch[j] = p[(at + j) % n];
    return s->batch;
}

int64_t sampler_histogram(const sampler_t *s, int worker, int64_t *counts) {
    const dataset_t *d = s->data;
    for (int c = 0; c < d->classes; c++) counts[c] = 0;
    if (s->cfg.kind == PART_IID) {
        /* Its expected share of the set: the class mix, n / M samples. */
        for (int i = 0; i < d->n; i++) counts[d->labels[i]]++;
        int64_t total = 0;
        for (int c = 0; c < d->classes; c++) total += counts[c] = counts[c] / s->cfg.workers;
        return total;
    }
    for (int64_t j = s->start[worker]; j < s->start[worker + 1]; j++) counts[d->labels[s->part[j]]]++;
    return s->start[worker + 1] - s->start[worker];
}

double sampler_skew(const sampler_t *s) {
    const dataset_t *d = s->data;
    if (s->cfg.kind == PART_IID || d->n == 0) return 0;
    const int K = d->classes, M = s->cfg.workers;
    int64_t *all = calloc((size_t)K, sizeof *all), *mine = calloc((size_t)K, sizeof *mine);
    double tv = 0;
    if (all && mine) {
        for (int i = 0; i < d->n; i++) all[d->labels[i]]++;
        for (int w = 0; w < M; w++) {
            double n = (double)sampler_histogram(s, w, mine), dist = 0;
            for (int c = 0; c < K; c++) dist += fabs((double)mine[c] / n - (double)all[c] / d->n);
            tv += 0.5 * dist / M;
        }
    } else {
        tv = NAN; /* only a report */
    }
    free(all);
    free(mine);
    return tv;
}
