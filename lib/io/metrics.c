#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "metrics.h"

const char METRICS_HEADER[] =
    "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,samples_per_s,wall_s,"
    "comm_rounds,comm_bytes_per_worker,tau_now,spread_mean,spread_max,worker_test_acc,"
    "ema_test_loss,ema_test_acc,modeled_time_s,syncs_missed,participants_mean";

/* Reads the rows of an existing metrics.csv up to a step, for resuming. */
static char *kept_rows(const char *path, int64_t until, dp_err *e, int *rc) {
    struct stat st;
    *rc = 0;
    if (stat(path, &st) != 0 && errno == ENOENT) return NULL; /* nothing to keep */
    FILE *f;
    if ((*rc = file_fopen_read(path, "metrics", &f, e))) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap), line[4096];
    if (!out) {
        fclose(f);
        *rc = dp_fail(e, DP_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    out[0] = 0;
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        if (first) { /* header: rewritten by the caller */
            first = 0;
            continue;
        }
        size_t l = strlen(line);
        /* A row without its newline was cut short by a crash: drop it. */
        if (l == 0 || line[l - 1] != '\n') continue;
        const char *comma = strchr(line, ',');
        if (!comma || strtoll(comma + 1, NULL, 10) > until) continue;
        if (len + l + 1 > cap) {
            char *n = realloc(out, cap = 2 * (len + l + 1));
            if (!n) {
                free(out);
                fclose(f);
                *rc = dp_fail(e, DP_ENOMEM, "out of memory reading %s", path);
                return NULL;
            }
            out = n;
        }
        memcpy(out + len, line, l + 1);
        len += l;
    }
    fclose(f);
    return out;
}

int metrics_open(metrics_writer *m, const char *dir, int64_t keep_until_step, dp_err *e) {
    m->f = NULL;
    snprintf(m->path, sizeof m->path, "%s/metrics.csv", dir);
    int rc = 0;
    char *keep = keep_until_step >= 0 ? kept_rows(m->path, keep_until_step, e, &rc) : NULL;
    if (rc) return rc;
    /* The new file (header and kept rows) is written under a temporary name
     * and renamed over the old one, so a crash now never loses the rows a
     * later resume needs. Rows are then appended to the renamed file. */
    atomic_file a;
    if (!(rc = atomic_open(&a, m->path, NULL, e))) {
        atomic_put(&a, METRICS_HEADER, strlen(METRICS_HEADER));
        atomic_put(&a, "\n", 1);
        if (keep) atomic_put(&a, keep, strlen(keep));
        rc = atomic_commit_keep(&a, &m->f, e);
    }
    free(keep);
    return rc;
}

int metrics_append(metrics_writer *m, const metrics_row *r, dp_err *e) {
    fprintf(m->f, "%.6f,%lld,%.8g,%.6f,%.6f,%.6f,%.6f,%.1f,%.3f,%llu,%llu,%d,%.6g,%.6g,%.6f,%.6f,%.6f,%.6g,%.0f,%.4f\n",
            r->epoch, (long long)r->step, r->lr, r->train_loss, r->train_acc, r->test_loss,
            r->test_acc, r->samples_per_s, r->wall_s, (unsigned long long)r->comm_rounds,
            (unsigned long long)r->comm_bytes, r->tau_now, r->spread_mean, r->spread_max,
            r->worker_test_acc, r->ema_test_loss, r->ema_test_acc, r->modeled_time_s, r->syncs_missed,
            r->participants_mean);
    if (fflush(m->f) != 0) return dp_fail(e, DP_EIO, "cannot write '%s': %s", m->path, strerror(errno));
    return 0;
}

void metrics_close(metrics_writer *m) {
    if (m->f) fclose(m->f);
    m->f = NULL;
}
