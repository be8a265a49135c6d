/* cmd_schema.c - `dppf schema`: every spec key, its type, range, default and meaning. */
#include <stdio.h>

#include "commands.h"
#include "spec.h"

typedef struct {
    opt_list none; /* no positional arguments */
} schema_args;

static const opt_def OPTIONS[] = {OPT_END};

const opt_syntax schema_syntax = {
    .usage = "usage: dppf schema\n",
    .about = "Prints every spec key: type and range, default, meaning.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("", 0, 0, schema_args, none),
};

int cmd_schema(const command *self, int argc, char **argv) {
    schema_args a = {0};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    spec_print_schema(stdout);
    return 0;
}
