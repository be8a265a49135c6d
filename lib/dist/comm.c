#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"

int comm_launched_by_mpi(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int comm_init_ranks(comm_t *c, dp_err *e) {
    memset(c, 0, sizeof *c);
    c->size = 1;
    c->node_ranks = 1;
    if (!comm_launched_by_mpi()) return 0;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return dp_fail(e, DP_EMPI, "MPI_Init failed");
    /* Errors come back as codes so they reach the one place that prints them. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    c->mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    c->node_ranks = 1;
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &c->node_ranks);
        MPI_Comm_free(&node);
    }
    return 0;
}

int comm_auto_threads(const comm_t *c) {
    int cpus = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
    if (cpus < 1) cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    const int ranks = c && c->node_ranks > 1 ? c->node_ranks : 1;
    return cpus / ranks >= 1 ? cpus / ranks : 1;
}

int comm_threads(int run_threads, const comm_t *c) {
    return run_threads > 0 ? run_threads : comm_auto_threads(c);
}

int comm_init(comm_t *c, int workers, dp_err *e) {
    int rc = comm_init_ranks(c, e);
    if (rc) return rc;
    if (workers % c->size != 0)
        return dp_fail(e, DP_EUSAGE,
                       "dist.workers: %d workers cannot be split evenly over %d MPI ranks; "
                       "use a rank count that divides %d",
                       workers, c->size, workers);
    c->workers = workers;
    c->local = workers / c->size;
    c->first = c->rank * c->local;
    return 0;
}

void comm_finalize(comm_t *c) {
    free(c->acc);
    c->acc = NULL;
    c->acc_cap = 0;
    if (c->mpi) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
        c->mpi = 0;
    }
}

/* MPI counts are int: send large buffers in chunks. */
static int allreduce_chunked(void *buf, size_t n, MPI_Datatype type, size_t elem, MPI_Op op,
                             dp_err *e) {
    char *p = buf;
    while (n > 0) {
        int k = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, p, k, type, op, MPI_COMM_WORLD) != MPI_SUCCESS)
            return dp_fail(e, DP_EMPI, "MPI_Allreduce failed (another rank may have died)");
        p += (size_t)k * elem;
        n -= (size_t)k;
    }
    return 0;
}

int comm_reserve(comm_t *c, size_t n, dp_err *e) {
    if (n <= c->acc_cap) return 0;
    double *a = realloc(c->acc, n * sizeof *a);
    if (!a) return dp_fail(e, DP_ENOMEM, "out of memory for the reduction buffer (%zu values)", n);
    c->acc = a;
    c->acc_cap = n;
    return 0;
}

/* Counts one collective of `bytes` per worker (syncs of M > 1 workers only):
 * rounds, bytes, and what it would cost on the modeled network. */
static void count_round(comm_t *c, int count, size_t bytes) {
    if (!count || c->workers <= 1) return;
    /* Those that take part send; bytes are per worker, so the rest count 0. */
    const int p = c->participants > 0 ? c->participants : c->workers;
    c->rounds++;
    c->bytes += p == c->workers ? bytes : (uint64_t)((double)bytes * p / c->workers + 0.5);
    c->modeled_s += netmodel_allreduce_s(&c->net, p, (double)bytes);
}

int comm_mean_workers(comm_t *c, float *const *bufs, size_t n, float *out, int count, dp_err *e) {
    if (c->workers <= 1) { /* the mean of one worker is itself */
        if (out != bufs[0]) memcpy(out, bufs[0], n * sizeof *out);
        return 0;
    }
    if (n > c->acc_cap)
        return dp_fail(e, DP_ERUNTIME, "internal: reduction of %zu values exceeds the %zu reserved",
                       n, c->acc_cap);
    double *acc = c->acc;
    const float *b0 = bufs[0];
    int k = 1;
    if (c->local >= 2) { /* first two in one pass: the sum is memory-bound */
        const float *b1 = bufs[1];
        for (size_t i = 0; i < n; i++) acc[i] = (double)b0[i] + b1[i];
        k = 2;
    } else {
        for (size_t i = 0; i < n; i++) acc[i] = b0[i];
    }
    for (; k < c->local; k++) {
        const float *b = bufs[k];
        for (size_t i = 0; i < n; i++) acc[i] += b[i];
    }
    if (c->mpi && c->size > 1) {
        int rc = allreduce_chunked(acc, n, MPI_DOUBLE, sizeof(double), MPI_SUM, e);
        if (rc) return rc;
    }
    double inv = 1.0 / c->workers;
    for (size_t i = 0; i < n; i++) out[i] = (float)(acc[i] * inv);
    count_round(c, count, n * sizeof(double));
    return 0;
}


int comm_weighted_mean_workers(comm_t *c, float *const *bufs, size_t n, const size_t *range_end,
                               int n_ranges, const float *w, float *out, int count, dp_err *e) {
    if (n > c->acc_cap)
        return dp_fail(e, DP_ERUNTIME, "internal: reduction of %zu values exceeds the %zu reserved",
                       n, c->acc_cap);
    double *acc = c->acc;
    for (int k = 0; k < c->local; k++) {
        const float *b = bufs[k], *wk = w + (size_t)(c->first + k) * n_ranges;
        size_t lo = 0;
        for (int r = 0; r < n_ranges; r++) {
            const double q = wk[r];
            size_t hi = range_end[r];
            if (k == 0)
                for (size_t i = lo; i < hi; i++) acc[i] = q * b[i];
            else
                for (size_t i = lo; i < hi; i++) acc[i] += q * b[i];
            lo = hi;
        }
    }
    if (c->mpi && c->size > 1) {
        int rc = allreduce_chunked(acc, n, MPI_DOUBLE, sizeof(double), MPI_SUM, e);
        if (rc) return rc;
    }
    size_t lo = 0;
    for (int r = 0; r < n_ranges; r++) {
        double total = 0; /* in worker order, the same on every rank */
        for (int i = 0; i < c->workers; i++) total += w[(size_t)i * n_ranges + r];
        const double inv = 1.0 / total;
        for (size_t i = lo; i < range_end[r]; i++) out[i] = (float)(acc[i] * inv);
        lo = range_end[r];
    }
    count_round(c, count, n * sizeof(double));
    return 0;
}

int comm_allgather_workers(comm_t *c, void *all, size_t slot_bytes, int count, dp_err *e) {
    if (c->mpi && c->size > 1) {
        size_t per_rank = slot_bytes * (size_t)c->local;
        if (per_rank > (size_t)INT_MAX)
            return dp_fail(e, DP_ERUNTIME, "internal: allgather of %zu bytes per rank", per_rank);
        if (MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, (int)per_rank, MPI_BYTE,
                          MPI_COMM_WORLD) != MPI_SUCCESS)
            return dp_fail(e, DP_EMPI, "MPI_Allgather failed (another rank may have died)");
    }
    count_round(c, count, slot_bytes);
    return 0;
}

int comm_broadcast_worker(comm_t *c, int worker, float *buf, size_t n, int count, dp_err *e) {
    if (c->mpi && c->size > 1) {
        int root = worker / c->local;
        float *p = buf;
        size_t left = n;
        while (left > 0) {
            int k = left > (size_t)INT_MAX ? INT_MAX : (int)left;
            if (MPI_Bcast(p, k, MPI_FLOAT, root, MPI_COMM_WORLD) != MPI_SUCCESS)
                return dp_fail(e, DP_EMPI, "MPI_Bcast from rank %d failed", root);
            p += k;
            left -= (size_t)k;
        }
    }
    count_round(c, count, n * sizeof(float));
    return 0;
}

int comm_sum_f64(comm_t *c, double *vals, int n, dp_err *e) {
    if (!c->mpi || c->size == 1) return 0;
    return allreduce_chunked(vals, (size_t)n, MPI_DOUBLE, sizeof(double), MPI_SUM, e);
}

int comm_max_f64(comm_t *c, double *vals, int n, dp_err *e) {
    if (!c->mpi || c->size == 1) return 0;
    return allreduce_chunked(vals, (size_t)n, MPI_DOUBLE, sizeof(double), MPI_MAX, e);
}

int comm_gather_to_root(comm_t *c, const float *local, size_t n_local, float *all, dp_err *e) {
    if (!c->mpi || c->size == 1) {
        if (all != local) memcpy(all, local, n_local * sizeof(float));
        return 0;
    }
    /* Point-to-point in rank order, chunked, so sizes beyond INT_MAX work. */
    if (c->rank == 0) {
        memcpy(all, local, n_local * sizeof(float));
        for (int r = 1; r < c->size; r++) {
            float *dst = all + (size_t)r * n_local;
            size_t left = n_local;
            while (left > 0) {
                int k = left > (size_t)INT_MAX ? INT_MAX : (int)left;
                if (MPI_Recv(dst, k, MPI_FLOAT, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS)
                    return dp_fail(e, DP_EMPI, "MPI_Recv from rank %d failed", r);
                dst += k;
                left -= (size_t)k;
            }
        }
    } else {
        const float *src = local;
        size_t left = n_local;
        while (left > 0) {
            int k = left > (size_t)INT_MAX ? INT_MAX : (int)left;
            if (MPI_Send(src, k, MPI_FLOAT, 0, 7, MPI_COMM_WORLD) != MPI_SUCCESS)
                return dp_fail(e, DP_EMPI, "MPI_Send to rank 0 failed");
            src += k;
            left -= (size_t)k;
        }
    }
    return 0;
}

int comm_broadcast(comm_t *c, void *buf, size_t bytes, dp_err *e) {
    if (!c->mpi || c->size == 1) return 0;
    char *p = buf;
    while (bytes > 0) {
        int k = bytes > (size_t)INT_MAX ? INT_MAX : (int)bytes;
        if (MPI_Bcast(p, k, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return dp_fail(e, DP_EMPI, "MPI_Bcast failed");
        p += k;
        bytes -= (size_t)k;
    }
    return 0;
}

int comm_agree_error(comm_t *c, int local_code) {
    if (!c->mpi || c->size == 1) return local_code;
    int worst = local_code;
    if (MPI_Allreduce(&local_code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return DP_EMPI;
    return worst;
}

double comm_time_bare_allreduce(comm_t *c, double *buf, size_t n, dp_err *e) {
    if (!c->mpi || c->size < 2) return 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (allreduce_chunked(buf, n, MPI_DOUBLE, sizeof(double), MPI_SUM, e)) return -1;
    return MPI_Wtime() - t0;
}

void comm_abort(comm_t *c, int code) {
    if (c->mpi && c->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

void comm_library_version(char *buf, size_t size) {
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (size == 0) return;
    if (MPI_Get_library_version(v, &len) != MPI_SUCCESS || len <= 0) {
        snprintf(buf, size, "unknown");
        return;
    }
    v[len < (int)sizeof v ? len : (int)sizeof v - 1] = 0;
    snprintf(buf, size, "%.*s", (int)strcspn(v, "\r\n"), v);
}
