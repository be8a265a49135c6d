/* common.c - see common.h. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "runstate.h"

int resolve_spec(const char *config, const char *checkpoint, const opt_list *sets, spec_t *s, dp_err *e) {
    int rc;
    if (config) {
        spec_defaults(s);
        rc = spec_load_file(s, config, e);
        spec_t defaults;
        spec_defaults(&defaults);
        const char *first;
        if (!rc && spec_diff(&defaults, s, &first, 1) == 0)
            fprintf(stderr, "dppf: warning: spec '%s' sets no keys: every key takes its default "
                            "(dppf schema lists them)\n", config);
    } else {
        rc = spec_from_checkpoint(s, checkpoint, e);
    }
    for (int i = 0; !rc && i < sets->n; i++) rc = spec_set(s, sets->item[i], e);
    if (!rc) rc = spec_validate(s, e);
    return rc;
}

int print_error(const comm_t *c, dp_err *e) {
    /* A rank that stops because another failed has nothing of its own to say. */
    if (!e->msg[0]) snprintf(e->msg, sizeof e->msg, "stopping because another rank failed");
    /* A run stopped by a signal did what was asked: not an error. */
    const char *kind = e->code == DP_ESIGINT || e->code == DP_ESIGTERM ? "stopped" : "error";
    if (c && c->size > 1)
        fprintf(stderr, "dppf: %s (rank %d): %s\n", kind, c->rank, e->msg);
    else
        fprintf(stderr, "dppf: %s: %s\n", kind, e->msg);
    return e->code ? e->code : DP_ERUNTIME;
}

int finish_ranks(comm_t *c, int rc, dp_err *e) {
    if (rc) {
        print_error(c, e);
        /* A stop request reached every rank at the same step: they end together. */
        if (rc != DP_ESIGINT && rc != DP_ESIGTERM) comm_abort(c, rc);
    }
    comm_finalize(c);
    return rc;
}

int parse_dir_norm(const char *value, void *dest, dp_err *e) { return dir_norm_parse(value, dest, e); }

int parse_plot_format(const char *value, void *dest, dp_err *e) { return plot_format_parse(value, dest, e); }

void command_line(const command *self, int argc, char **argv, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "dppf %s", self->name);
    for (int i = 0; i < argc && n < size; i++) {
        const char *a = argv[i];
        int plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,/=:+@%") == strlen(a);
        if (plain) {
            n += (size_t)snprintf(buf + n, size - n, " %s", a);
            continue;
        }
        n += (size_t)snprintf(buf + n, size - n, " '");
        for (; *a && n < size; a++) /* a quote inside: end the quoting, an escaped quote, start again */
            n += (size_t)(*a == '\'' ? snprintf(buf + n, size - n, "'\\''") : snprintf(buf + n, size - n, "%c", *a));
        if (n < size) n += (size_t)snprintf(buf + n, size - n, "'");
    }
}
