/* docs.h - the documentation generated from the binary's own tables (the
 * command table, every command's option table, the spec schema), so it
 * cannot drift from what the binary accepts: the man page (`dppf --man`) and
 * the bash completion script (`dppf --completion bash`). The build runs both
 * and `cmake --install` installs their output. */
#ifndef DPPF_CMD_DOCS_H
#define DPPF_CMD_DOCS_H

#include <stdio.h>

#include "opts.h"

/* The man page dppf(1) in roff (man macros). */
void print_man(FILE *f, const command *cmds, int n);

/* A bash completion script: subcommands, each one's options, spec keys after
 * --set and the values of choice and boolean keys after --set KEY=. */
void print_bash_completion(FILE *f, const command *cmds, int n);

#endif
