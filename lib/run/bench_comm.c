#include "bench_comm.h"
#include "model.h"
#include "net.h"
#include "spec_map.h"
#include "clock.h"
#include "workers.h"

int bench_comm(const spec_t *s, comm_t *c, int reps, FILE *out, dp_err *e) {
    net_t net;
    worker_set ws = {0};
    model_cfg m;
    int rc = spec_model_cfg_for_data(&m, s, e);
    if (!rc) rc = net_build(&net, &m, e);
    if (rc) return rc;
    if ((rc = workers_alloc(&ws, c, net.n_params, net.n_buffers, s->run.seed, e))) goto done;
    size_t n = net.n_params + net.n_buffers;
    double t_sync = 0;
    for (int r = -1; r < reps; r++) {
        double bare = comm_time_bare_allreduce(c, 1, 1, e); /* a barrier-like line-up */
        if (bare < 0) {
            rc = e->code;
            goto done;
        }
        double t0 = now_seconds();
        if ((rc = workers_average(&ws, 0, e))) goto done;
        if (r >= 0) t_sync += now_seconds() - t0;
    }
    t_sync /= reps;
    double t_bare = comm_time_bare_allreduce(c, n, reps, e);
    if (t_bare < 0) {
        rc = e->code;
        goto done;
    }
    if (c->rank == 0) {
        fprintf(out, "sync of %s: %zu values (%zu params + %zu BN buffers), M=%d workers on %d ranks, %d reps\n",
                model_name(s->model.arch), n, net.n_params, net.n_buffers, c->workers, c->size, reps);
        fprintf(out, "  dppf sync (local sum + allreduce + rounding): %8.3f ms\n", 1e3 * t_sync);
        fprintf(out, "  bare MPI_Allreduce of %zu doubles:           %8.3f ms\n", n, 1e3 * t_bare);
        if (t_bare > 0) fprintf(out, "  ratio sync / bare allreduce:                 %8.2f\n", t_sync / t_bare);
    }
done:
    workers_free(&ws);
    net_free(&net);
    return rc;
}
