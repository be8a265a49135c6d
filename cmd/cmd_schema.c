/* cmd_schema.c - `dppf schema`: every spec key, its type, range, default and meaning. */
#include <stdio.h>

#include "commands.h"
#include "spec.h"

typedef struct {
    opt_list none; /* no positional arguments */
    int md;
} schema_args;

static const opt_def OPTIONS[] = {
    OPT_FLAG("md", schema_args, md, "a Markdown table (README's \"The experiment spec\")"),
    OPT_END,
};

const opt_syntax schema_syntax = {
    .usage = "usage: dppf schema [--md]\n",
    .about = "Prints every spec key: type and range, default, meaning.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("", 0, 0, schema_args, none),
};

/* A table cell: '|' escaped so Markdown does not split the cell. */
static void cell(const char *s) {
    for (; *s; s++) {
        if (*s == '|') putchar('\\');
        putchar(*s);
    }
}

static void print_markdown(void) {
    puts("| key | type / range | default | meaning |");
    puts("|---|---|---|---|");
    for (size_t i = 0; i < spec_key_count(); i++) {
        spec_key_info k;
        spec_key_describe(i, &k);
        printf("| `%s` | ", k.key);
        cell(k.type);
        printf(" | `%s` | ", k.def[0] || k.def[0] == '[' ? k.def : "\"\"");
        cell(k.help);
        puts(" |");
    }
}

int cmd_schema(const command *self, int argc, char **argv) {
    schema_args a = {0};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    if (a.md) print_markdown();
    else spec_print_schema(stdout);
    return 0;
}
