#include <stdlib.h>

#include "bench_comm.h"
#include "model.h"
#include "net.h"
#include "spec_map.h"
#include "clock.h"
#include "workers.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v; the middle value (mean of the two middle ones). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Each rep times one sync and bare allreduces of the same values back to back
 * (of doubles: what the MPI_Allreduce path carries; of floats: what the
 * workers hold), each from a barrier, so all see the same machine: on a shared
 * VM the allreduce alone varies by 2x between runs, and separate loops
 * compared different moments. Medians, and the medians of the per-rep ratios. */
int bench_comm(const spec_t *s, comm_t *c, int reps, FILE *out, dp_err *e) {
    net_t net;
    worker_set ws = {0};
    model_cfg m;
    double *bare_buf = NULL, *t = NULL;
    int rc = spec_model_cfg_for_data(&m, s, e);
    if (!rc) rc = net_build(&net, &m, e);
    if (rc) return rc;
    size_t n = net.n_params + net.n_buffers;
    if (reps < 1) reps = 1;
    bare_buf = dp_calloc(n, sizeof *bare_buf, "the allreduce buffer", e);
    t = dp_calloc((size_t)reps * 5, sizeof *t, "timings", e);
    if (!bare_buf || !t) {
        rc = DP_ENOMEM;
        goto done;
    }
    if ((rc = workers_alloc(&ws, c, net.n_params, net.n_buffers, s->run.seed, e))) goto done;
    double *t_sync = t, *t_bare = t + reps, *ratio = t + 2 * reps, *t_bare32 = t + 3 * reps,
           *ratio32 = t + 4 * reps;
    for (int r = -1; r < reps; r++) {
        if (comm_time_bare_allreduce(c, bare_buf, 1, 8, e) < 0) { /* a barrier-like line-up */
            rc = e->code;
            goto done;
        }
        double t0 = now_seconds();
        if ((rc = workers_average(&ws, 0, e))) goto done;
        double sync = now_seconds() - t0, bare = comm_time_bare_allreduce(c, bare_buf, n, 8, e);
        double bare32 = bare < 0 ? -1 : comm_time_bare_allreduce(c, bare_buf, n, 4, e);
        if (bare < 0 || bare32 < 0) {
            rc = e->code;
            goto done;
        }
        if (r < 0) continue; /* warm-up */
        t_sync[r] = sync;
        t_bare[r] = bare;
        ratio[r] = bare > 0 ? sync / bare : 0;
        t_bare32[r] = bare32;
        ratio32[r] = bare32 > 0 ? sync / bare32 : 0;
    }
    const double med_ratio = median(ratio, reps), med_sync = median(t_sync, reps), med_bare = median(t_bare, reps);
    const double med_ratio32 = median(ratio32, reps), med_bare32 = median(t_bare32, reps);
    if (c->rank == 0) {
        fprintf(out, "sync of %s: %zu values (%zu params + %zu BN buffers), M=%d workers on %d ranks, %d reps\n",
                model_name(s->model.arch), n, net.n_params, net.n_buffers, c->workers, c->size, reps);
        char label[3][64];
        snprintf(label[0], sizeof label[0], "dppf sync (%s):",
                 c->shm ? "means read in shared memory" : "local sum + allreduce + rounding");
        snprintf(label[1], sizeof label[1], "bare MPI_Allreduce of %zu doubles:", n);
        snprintf(label[2], sizeof label[2], "bare MPI_Allreduce of %zu floats:", n);
        for (int i = 0; i < 3; i++)
            fprintf(out, "  %-46s %8.3f ms (median)\n", label[i], 1e3 * (i == 0 ? med_sync : i == 1 ? med_bare : med_bare32));
        if (med_bare > 0)
            fprintf(out, "  %-46s %8.2f (median of each rep's ratio)\n", "ratio sync / bare allreduce:", med_ratio);
        if (med_bare32 > 0)
            fprintf(out, "  %-46s %8.2f (median of each rep's ratio)\n", "ratio sync / bare allreduce of floats:", med_ratio32);
    }
done:
    workers_free(&ws);
    net_free(&net);
    free(bare_buf);
    free(t);
    return rc;
}
