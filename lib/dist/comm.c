#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdint.h>
#include <sys/statvfs.h>
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

static void shm_free(comm_t *c);

void comm_finalize(comm_t *c) {
    shm_free(c);
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
static int allreduce_chunked(MPI_Comm comm, void *buf, size_t n, MPI_Datatype type, size_t elem,
                             MPI_Op op, dp_err *e) {
    char *p = buf;
    while (n > 0) {
        int k = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, p, k, type, op, comm) != MPI_SUCCESS)
            return dp_fail(e, DP_EMPI, "MPI_Allreduce failed (another rank may have died)");
        p += (size_t)k * elem;
        n -= (size_t)k;
    }
    return 0;
}


/* Shared storage for the workers' buffers. Each rank's part is mapped into
 * every process of the machine; a mean is one pass of each rank over its 1/R
 * block of the elements, between two barriers: the first makes every worker's
 * buffer final, the second keeps any rank from changing its workers while
 * another still reads them. */
struct comm_shm {
    MPI_Comm node, rail; /* this machine's ranks; the ranks of the same node rank on every machine */
    MPI_Win win;
    int ranks, me;       /* ranks on a machine (the same on each), this one among them */
    int machines;        /* ranks / machine = the world's size / ranks */
    size_t floats;       /* in each rank's part */
    float **base;        /* [ranks]: each rank's part, as mapped in this process */
    size_t *off;         /* [local]: scratch, where the buffers of a mean start in a part */
    double *block_sum;   /* several machines: this rank's block of the machine's sum */
    size_t block_cap;
};

/* Values of a mean of n that each of a machine's r ranks sums: n / r,
 * rounded up to whole cache lines. */
static size_t shm_block(size_t n, int r) { return ((n + (size_t)r - 1) / (size_t)r + 15) & ~(size_t)15; }

/* y[j] = (float)(sum[j] * inv), j < len, into every rank's out at `at`. */
static void shm_write_mean(const struct comm_shm *s, size_t at, const double *sum, size_t len,
                           double inv) {
    for (int p = 0; p < s->ranks; p++) {
        float *y = s->base[p] + at;
        for (size_t j = 0; j < len; j++) y[j] = (float)(sum[j] * inv);
    }
}

static void shm_free(comm_t *c) {
    struct comm_shm *s = c->shm;
    if (!s) return;
    if (s->win != MPI_WIN_NULL) {
        MPI_Win_unlock_all(s->win);
        MPI_Win_free(&s->win);
    }
    if (s->node != MPI_COMM_NULL) MPI_Comm_free(&s->node);
    if (s->rail != MPI_COMM_NULL) MPI_Comm_free(&s->rail);
    free(s->base);
    free(s->off);
    free(s->block_sum);
    free(s);
    c->shm = NULL;
}

/* Room in the directory that backs the window (Open MPI's default), with as much
 * again to spare for the MPI library's own segments: a full tmpfs would fault on
 * first touch instead of failing here. */
static int shm_has_room(double bytes) {
    const char *dir = getenv("OMPI_MCA_osc_sm_backing_directory");
    struct statvfs fs;
    if (statvfs(dir && *dir ? dir : "/dev/shm", &fs) != 0) return 1; /* let MPI decide */
    return (double)fs.f_bavail * (double)fs.f_frsize >= 2.0 * bytes;
}

/* This machine's ranks as a communicator, ordered by world rank; with
 * DPPF_SYNC_NODE_RANKS=k, groups of k consecutive ranks instead, so that one
 * machine can stand in for several. */
static int split_machine(const comm_t *c, MPI_Comm *node) {
    const char *k = getenv("DPPF_SYNC_NODE_RANKS");
    const int group = k ? atoi(k) : 0;
    if (group > 0) return MPI_Comm_split(MPI_COMM_WORLD, c->rank / group, c->rank, node) == MPI_SUCCESS;
    return MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, node) ==
           MPI_SUCCESS;
}

float *comm_shared_workers(comm_t *c, size_t floats) {
    if (!c->mpi || c->size < 2) return NULL;
    shm_free(c);
    const char *env = getenv("DPPF_SYNC_SHM");
    const size_t part = (floats + 15) & ~(size_t)15, bytes = part * sizeof(float);
    struct comm_shm *s = calloc(1, sizeof *s);
    MPI_Comm node = MPI_COMM_NULL;
    int r = 0, me = -1, fewest = 0;
    int ok = s && !(env && strcmp(env, "0") == 0) && bytes <= (size_t)LONG_MAX && split_machine(c, &node) &&
             MPI_Comm_size(node, &r) == MPI_SUCCESS && MPI_Comm_rank(node, &me) == MPI_SUCCESS;
    /* The same number of ranks on every machine, in blocks of consecutive
     * ranks (so a machine holds consecutive workers): then block b of the
     * elements is summed by node rank b on every machine, and those ranks
     * add up their machines' sums. Otherwise: MPI_Allreduce. */
    if (MPI_Allreduce(&r, &fewest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) ok = 0;
    /* every rank must take the same path: a window is collective */
    ok = !comm_agree_error(c, !(ok && r > 1 && r == fewest && c->size % r == 0 && c->rank % r == me &&
                   shm_has_room((double)bytes * r)));
    if (!ok) {
        if (node != MPI_COMM_NULL) MPI_Comm_free(&node);
        free(s);
        return NULL;
    }
    c->shm = s;
    s->node = node;
    s->rail = MPI_COMM_NULL;
    s->win = MPI_WIN_NULL;
    s->ranks = r;
    s->me = me;
    s->machines = c->size / r;
    s->floats = part;
    s->base = calloc((size_t)r, sizeof *s->base);
    s->off = calloc((size_t)c->local, sizeof *s->off);
    char *mine = NULL;
    ok = s->base && s->off &&
         (s->machines == 1 || MPI_Comm_split(MPI_COMM_WORLD, me, c->rank, &s->rail) == MPI_SUCCESS) &&
         MPI_Win_allocate_shared((MPI_Aint)bytes, 1, MPI_INFO_NULL, s->node, &mine, &s->win) == MPI_SUCCESS;
    for (int q = 0; ok && q < r; q++) {
        MPI_Aint size;
        int unit;
        char *p = NULL;
        ok = MPI_Win_shared_query(s->win, q, &size, &unit, &p) == MPI_SUCCESS && p && (size_t)size >= bytes;
        s->base[q] = (float *)p;
    }
    if (ok) ok = MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win) == MPI_SUCCESS;
    if (!ok && s->win != MPI_WIN_NULL) {
        MPI_Win_free(&s->win);
        s->win = MPI_WIN_NULL;
    }
    if (comm_agree_error(c, !ok)) {
        shm_free(c);
        return NULL;
    }
    MPI_Win_set_errhandler(s->win, MPI_ERRORS_RETURN);
    memset(s->base[s->me], 0, bytes); /* first touch by the owner */
    return s->base[s->me];
}

int comm_reserve(comm_t *c, size_t n, dp_err *e) {
    struct comm_shm *s = c->shm;
    if (s && s->machines > 1) { /* this rank's block of a machine's sum */
        const size_t block = shm_block(n, s->ranks);
        if (block > s->block_cap) {
            double *b = realloc(s->block_sum, block * sizeof *b);
            if (!b) return dp_fail(e, DP_ENOMEM, "out of memory for the reduction block (%zu values)", block);
            s->block_sum = b;
            s->block_cap = block;
        }
    }
    if (n <= c->acc_cap) return 0;
    double *a = realloc(c->acc, n * sizeof *a);
    if (!a) return dp_fail(e, DP_ENOMEM, "out of memory for the reduction buffer (%zu values)", n);
    c->acc = a;
    c->acc_cap = n;
    return 0;
}

int comm_owns(const comm_t *c, const void *p) { return c->shm && p == c->shm->base[c->shm->me]; }

const char *comm_sync_path(const comm_t *c) {
    if (!c->mpi || c->size < 2) return "none";
    if (!c->shm) return "MPI_Allreduce";
    return c->shm->machines > 1 ? "shared memory within machines, MPI_Allreduce across them"
                                : "shared memory";
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

/* 1 / (the sum of range r's weights over all M workers, in worker order: the
 * same on every rank); w NULL: 1 / M. */
static double inv_total(const comm_t *c, const float *w, int n_ranges, int r) {
    if (!w) return 1.0 / c->workers;
    double total = 0;
    for (int i = 0; i < c->workers; i++) total += w[(size_t)i * n_ranges + r];
    return 1.0 / total;
}

/* Where [p, p + n) starts in this rank's part, or -1 if it is not inside it. */
static ptrdiff_t shm_offset(const struct comm_shm *s, const float *p, size_t n) {
    const uintptr_t lo = (uintptr_t)s->base[s->me], q = (uintptr_t)p;
    if (q < lo || (q - lo) % sizeof(float)) return -1;
    const size_t at = (q - lo) / sizeof(float);
    return at <= s->floats && n <= s->floats - at ? (ptrdiff_t)at : -1;
}

static int node_barrier(struct comm_shm *s, dp_err *e) {
    MPI_Win_sync(s->win); /* this rank's stores are visible before the barrier ends */
    if (MPI_Barrier(s->node) != MPI_SUCCESS)
        return dp_fail(e, DP_EMPI, "MPI_Barrier failed (another rank may have died)");
    MPI_Win_sync(s->win);
    return 0;
}

enum { SHM_TILE = 512 }; /* doubles of a running sum, kept in L1 */

/* The shared-memory mean, when bufs and out lie in the shared storage (returns 1,
 * or -1 with e set); 0 when they do not. Worker i of rank r is read at the
 * offset of this rank's bufs[i - first] in r's part; its sum runs over the M
 * workers in worker order, in double, as the one-process sum does. */
static int shm_mean(comm_t *c, float *const *bufs, size_t n, const size_t *range_end, int n_ranges,
                    const float *w, float *out, dp_err *e) {
    struct comm_shm *s = c->shm;
    if (!s) return 0;
    const ptrdiff_t out_at = shm_offset(s, out, n);
    int inside = out_at >= 0;
    for (int k = 0; inside && k < c->local; k++) {
        const ptrdiff_t at = shm_offset(s, bufs[k], n);
        inside = at >= 0;
        s->off[k] = (size_t)at;
    }
    if (!inside) return 0;
    if (node_barrier(s, e)) return -1;
    const int R = s->ranks, L = c->local, first = (c->rank - s->me) * L; /* this machine's first worker */
    const size_t block = shm_block(n, R);
    const size_t lo = (size_t)s->me * block < n ? (size_t)s->me * block : n;
    const size_t hi = lo + block < n ? lo + block : n;
    double tile[SHM_TILE];
    int r = 0;
    for (size_t a = lo; a < hi; r++) {
        if (range_end[r] <= a) continue;
        const size_t b = range_end[r] < hi ? range_end[r] : hi;
        const double inv = inv_total(c, w, n_ranges, r);
        for (size_t t0 = a; t0 < b; t0 += SHM_TILE) {
            const size_t len = b - t0 < SHM_TILE ? b - t0 : SHM_TILE;
            /* this machine's workers, in worker order */
            double *sum = s->machines > 1 ? s->block_sum + (t0 - lo) : tile;
            for (int i = 0; i < R * L; i++) {
                const float *x = s->base[i / L] + s->off[i % L] + t0;
                if (w) {
                    const double q = w[(size_t)(first + i) * n_ranges + r];
                    if (i == 0)
                        for (size_t j = 0; j < len; j++) sum[j] = q * x[j];
                    else
                        for (size_t j = 0; j < len; j++) sum[j] += q * x[j];
                } else if (i == 0) {
                    for (size_t j = 0; j < len; j++) sum[j] = x[j];
                } else {
                    for (size_t j = 0; j < len; j++) sum[j] += x[j];
                }
            }
            if (s->machines == 1) /* the whole sum: into every rank's out */
                shm_write_mean(s, (size_t)out_at + t0, sum, len, inv);
        }
        a = b;
    }
    if (s->machines > 1 && lo < hi) {
        /* the machines' sums of this block, added by their ranks of this node rank */
        if (allreduce_chunked(s->rail, s->block_sum, hi - lo, MPI_DOUBLE, sizeof(double), MPI_SUM, e))
            return -1;
        r = 0;
        for (size_t a = lo; a < hi; r++) {
            if (range_end[r] <= a) continue;
            const size_t b = range_end[r] < hi ? range_end[r] : hi;
            shm_write_mean(s, (size_t)out_at + a, s->block_sum + (a - lo), b - a,
                           inv_total(c, w, n_ranges, r));
            a = b;
        }
    }
    return node_barrier(s, e) ? -1 : 1;
}

/* out = the mean whose local (this rank's) sum is in c->acc: the total over
 * ranks by MPI_Allreduce, per range scaled by inv_total, rounded once. */
static int allreduce_mean(comm_t *c, size_t n, const size_t *range_end, int n_ranges,
                          const float *w, float *out, dp_err *e) {
    if (c->mpi && c->size > 1) {
        int rc = allreduce_chunked(MPI_COMM_WORLD, c->acc, n, MPI_DOUBLE, sizeof(double), MPI_SUM, e);
        if (rc) return rc;
    }
    const double *acc = c->acc;
    size_t lo = 0;
    for (int r = 0; r < n_ranges; r++) {
        const double inv = inv_total(c, w, n_ranges, r);
        for (size_t i = lo; i < range_end[r]; i++) out[i] = (float)(acc[i] * inv);
        lo = range_end[r];
    }
    return 0;
}

int comm_mean_workers(comm_t *c, float *const *bufs, size_t n, float *out, int count, dp_err *e) {
    if (c->workers <= 1) { /* the mean of one worker is itself */
        if (out != bufs[0]) memcpy(out, bufs[0], n * sizeof *out);
        return 0;
    }
    if (n > c->acc_cap)
        return dp_fail(e, DP_ERUNTIME, "internal: reduction of %zu values exceeds the %zu reserved",
                       n, c->acc_cap);
    int rc = shm_mean(c, bufs, n, &n, 1, NULL, out, e);
    if (rc < 0) return e->code;
    if (rc == 0) {
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
        if ((rc = allreduce_mean(c, n, &n, 1, NULL, out, e))) return rc;
    }
    count_round(c, count, n * sizeof(double));
    return 0;
}


int comm_weighted_mean_workers(comm_t *c, float *const *bufs, size_t n, const size_t *range_end,
                               int n_ranges, const float *w, float *out, int count, dp_err *e) {
    if (n > c->acc_cap)
        return dp_fail(e, DP_ERUNTIME, "internal: reduction of %zu values exceeds the %zu reserved",
                       n, c->acc_cap);
    int rc = shm_mean(c, bufs, n, range_end, n_ranges, w, out, e);
    if (rc < 0) return e->code;
    if (rc == 0) {
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
        if ((rc = allreduce_mean(c, n, range_end, n_ranges, w, out, e))) return rc;
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
    return allreduce_chunked(MPI_COMM_WORLD, vals, (size_t)n, MPI_DOUBLE, sizeof(double), MPI_SUM, e);
}

int comm_max_f64(comm_t *c, double *vals, int n, dp_err *e) {
    if (!c->mpi || c->size == 1) return 0;
    return allreduce_chunked(MPI_COMM_WORLD, vals, (size_t)n, MPI_DOUBLE, sizeof(double), MPI_MAX, e);
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

double comm_time_bare_allreduce(comm_t *c, void *buf, size_t n, size_t elem, dp_err *e) {
    if (!c->mpi || c->size < 2) return 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (allreduce_chunked(MPI_COMM_WORLD, buf, n, elem == 4 ? MPI_FLOAT : MPI_DOUBLE, elem, MPI_SUM, e)) return -1;
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
