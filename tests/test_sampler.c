/* Which samples each worker draws (nn/sampler.c): IID as before, Dirichlet
 * and shard partitions, their determinism and layout independence. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

/* n samples of K classes, labels i % K (images unused). */
static dataset_t labels_only(int n, int K) {
    dataset_t d = {.n = n, .c = 1, .h = 1, .w = 1, .classes = K};
    d.images = calloc((size_t)n, 1);
    d.labels = malloc((size_t)n);
    cr_assert(d.images && d.labels);
    for (int i = 0; i < n; i++) d.labels[i] = (uint8_t)(i % K);
    return d;
}

static sampler_cfg cfg_of(int kind, int M, int first, int local, int B, int64_t spe) {
    return (sampler_cfg){.kind = kind, .alpha = 0.5, .shards = 2, .workers = M, .first = first,
                         .local = local, .batch = B, .steps_per_epoch = spe, .seed = 7};
}

Test(sampler, iid_is_the_shared_epoch_permutation) {
    dataset_t d = labels_only(640, 10);
    sampler_cfg c = cfg_of(PART_IID, 4, 0, 4, 16, 10);
    sampler_t s;
    dp_err e = {0};
    cr_assert_eq(sampler_init(&s, &c, &d, &e), 0, "%s", e.msg);
    int32_t *perm = malloc(640 * sizeof *perm);
    for (int64_t step = 0; step < 25; step++) {
        epoch_permutation(perm, 640, 7, step / 10);
        for (int w = 0; w < 4; w++)
            cr_assert(memcmp(sampler_batch(&s, w, step), perm + ((step % 10) * 4 + w) * 16, 16 * sizeof *perm) == 0,
                      "step %lld worker %d", (long long)step, w);
    }
    free(perm);
    sampler_free(&s);
    dataset_free(&d);
}

/* Worker w's part as a sorted copy, from a sampler that runs workers [first, first+local). */
static void part_of(const sampler_t *s, int w, int32_t *out, int64_t *n) {
    *n = s->start[w + 1] - s->start[w];
    memcpy(out, s->part + s->start[w], (size_t)*n * sizeof *out);
}

static void check_layouts_agree(int kind) {
    dataset_t d = labels_only(2000, 10);
    dp_err e = {0};
    sampler_t whole, half;
    sampler_cfg a = cfg_of(kind, 8, 0, 8, 16, 15), b = cfg_of(kind, 8, 4, 4, 16, 15);
    cr_assert_eq(sampler_init(&whole, &a, &d, &e), 0, "%s", e.msg);
    cr_assert_eq(sampler_init(&half, &b, &d, &e), 0, "%s", e.msg);
    int32_t *p = malloc(2000 * sizeof *p), *q = malloc(2000 * sizeof *q);
    int64_t total = 0;
    for (int w = 0; w < 8; w++) {
        int64_t n1, n2;
        part_of(&whole, w, p, &n1);
        part_of(&half, w, q, &n2);
        cr_assert(n1 == n2 && memcmp(p, q, (size_t)n1 * sizeof *p) == 0, "worker %d's part differs by layout", w);
        total += n1;
    }
    cr_expect_eq(total, 2000, "every sample in exactly one part");
    for (int64_t step = 0; step < 40; step++) /* the batches too, for the workers both run */
        for (int w = 4; w < 8; w++) {
            memcpy(p, sampler_batch(&whole, w, step), 16 * sizeof *p);
            cr_assert(memcmp(p, sampler_batch(&half, w, step), 16 * sizeof *p) == 0, "step %lld worker %d",
                      (long long)step, w);
        }
    free(p), free(q);
    sampler_free(&whole), sampler_free(&half), dataset_free(&d);
}

Test(sampler, dirichlet_same_on_any_layout) { check_layouts_agree(PART_DIRICHLET); }
Test(sampler, shards_same_on_any_layout) { check_layouts_agree(PART_SHARDS); }

static double skew_of(double alpha) {
    dataset_t d = labels_only(10000, 10);
    sampler_cfg c = cfg_of(PART_DIRICHLET, 10, 0, 10, 32, 30);
    c.alpha = alpha;
    sampler_t s;
    dp_err e = {0};
    cr_assert_eq(sampler_init(&s, &c, &d, &e), 0, "%s", e.msg);
    double k = sampler_skew(&s);
    sampler_free(&s), dataset_free(&d);
    return k;
}

Test(sampler, dirichlet_alpha_sets_the_skew) {
    /* alpha -> infinity: every worker the whole set's mix, up to rounding of
     * 1000 samples a class into 10 parts; alpha 0.1: most classes on few workers. */
    double iid = skew_of(1e9), mid = skew_of(1), strong = skew_of(0.1);
    cr_expect(iid < 0.01, "alpha 1e9: skew %.4f", iid);
    cr_expect(mid > 0.2 && mid < strong, "alpha 1: skew %.4f (alpha 0.1: %.4f)", mid, strong);
    cr_expect(strong > 0.5, "alpha 0.1: skew %.4f", strong);
}

Test(sampler, shards_give_few_labels_each) {
    dataset_t d = labels_only(2000, 10);
    sampler_cfg c = cfg_of(PART_SHARDS, 10, 0, 10, 16, 12);
    sampler_t s;
    dp_err e = {0};
    cr_assert_eq(sampler_init(&s, &c, &d, &e), 0, "%s", e.msg);
    int64_t counts[10];
    for (int w = 0; w < 10; w++) {
        cr_expect_eq(sampler_histogram(&s, w, counts), 200, "equal shards");
        int labels = 0;
        for (int k = 0; k < 10; k++) labels += counts[k] > 0;
        cr_expect(labels <= 4, "worker %d has %d labels from 2 shards", w, labels);
    }
    sampler_free(&s);
    /* More workers than classes x shards can label: refused, naming the key. */
    c = cfg_of(PART_SHARDS, 30, 0, 30, 16, 4);
    c.shards = 2;
    cr_assert_eq(sampler_init(&s, &c, &d, &e), DP_EUSAGE);
    cr_expect(strstr(e.msg, "data.shards_per_worker") != NULL, "%s", e.msg);
    dataset_free(&d);
}

Test(sampler, a_part_wraps_within_an_epoch) {
    /* Worker parts of ~200 samples, an epoch of 20 batches of 16 = 320 draws:
     * every sample of the part comes up, and nothing from other parts. */
    dataset_t d = labels_only(2000, 10);
    sampler_cfg c = cfg_of(PART_SHARDS, 10, 0, 10, 16, 20);
    sampler_t s;
    dp_err e = {0};
    cr_assert_eq(sampler_init(&s, &c, &d, &e), 0, "%s", e.msg);
    char *seen = calloc(2000, 1);
    for (int64_t step = 0; step < 20; step++) {
        const int32_t *b = sampler_batch(&s, 3, step);
        for (int j = 0; j < 16; j++) seen[b[j]] = 1;
    }
    int own = 0, other = 0;
    for (int i = 0; i < 2000; i++) {
        int mine = 0;
        for (int64_t j = s.start[3]; j < s.start[4]; j++) mine |= s.part[j] == i;
        own += mine && seen[i], other += !mine && seen[i];
    }
    cr_expect_eq(own, (int)(s.start[4] - s.start[3]), "the whole part is drawn in an epoch");
    cr_expect_eq(other, 0, "no sample of another worker");
    free(seen);
    sampler_free(&s), dataset_free(&d);
}
