/* commands.h - every subcommand: its entry point and its syntax (options,
 * usage, help), one cmd_<name>.c each; main.c lists them in its table. */
#ifndef DPPF_CMD_COMMANDS_H
#define DPPF_CMD_COMMANDS_H

#include "opts.h"

#define DPPF_COMMAND(name)                                   \
    int cmd_##name(const command *self, int argc, char **argv); \
    extern const opt_syntax name##_syntax;

DPPF_COMMAND(train)
DPPF_COMMAND(eval)
DPPF_COMMAND(sharpness)
DPPF_COMMAND(landscape)
DPPF_COMMAND(plot)
DPPF_COMMAND(bench)
DPPF_COMMAND(schema)
DPPF_COMMAND(export)
DPPF_COMMAND(import)
DPPF_COMMAND(collect)

#undef DPPF_COMMAND

#endif
