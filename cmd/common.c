/* common.c - see common.h. */
#include <stdio.h>

#include "common.h"
#include "runstate.h"

int resolve_spec(const char *config, const char *checkpoint, const opt_list *sets, spec_t *s, dp_err *e) {
    int rc;
    if (config) {
        spec_defaults(s);
        rc = spec_load_file(s, config, e);
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
    if (c && c->size > 1)
        fprintf(stderr, "dppf: error (rank %d): %s\n", c->rank, e->msg);
    else
        fprintf(stderr, "dppf: error: %s\n", e->msg);
    return e->code ? e->code : DP_ERUNTIME;
}

int finish_ranks(comm_t *c, int rc, dp_err *e) {
    if (rc) {
        print_error(c, e);
        comm_abort(c, rc);
    }
    comm_finalize(c);
    return rc;
}

int parse_dir_norm(const char *value, void *dest, dp_err *e) { return dir_norm_parse(value, dest, e); }
