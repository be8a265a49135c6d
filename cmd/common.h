/* common.h - what several subcommands share: where their spec comes from,
 * their shared option rows, and the one place that prints a library error. */
#ifndef DPPF_CMD_COMMON_H
#define DPPF_CMD_COMMON_H

#include "comm.h"
#include "directions.h"
#include "error.h"
#include "canvas.h"
#include "opts.h"
#include "spec.h"

/* The spec: from `config` if given, else the one stored in `checkpoint`; then
 * every --set in order; then spec_validate. */
int resolve_spec(const char *config, const char *checkpoint, const opt_list *sets, spec_t *s, dp_err *e);

/* Prints "dppf: error: ..." (with the rank under mpirun, c nullable) on stderr
 * and returns the error's exit status. */
int print_error(const comm_t *c, dp_err *e);

/* Ends a command that ran over MPI ranks: on an error rc, prints it and ends
 * every rank at once (one failing rank must never leave the job hanging);
 * then finalizes. Returns rc. */
int finish_ranks(comm_t *c, int rc, dp_err *e);

/* "dppf CMD ARG..." with arguments that the shell would split or expand in
 * single quotes: the command line figures record in their metadata. */
void command_line(const command *self, int argc, char **argv, char *buf, size_t size);

/* KIND_CUSTOM parser of a figure format (plot_format). */
int parse_plot_format(const char *value, void *dest, dp_err *e);

/* KIND_CUSTOM parser of a direction normalisation (dir_norm). */
int parse_dir_norm(const char *value, void *dest, dp_err *e);

/* Option rows that mean the same in every command that takes them. */
#define OPT_SPEC_SETS(T, field) \
    OPT_LIST("set", T, field, "key=value", "override a spec key (repeatable; applied in order)")
#define OPT_SPEC_FILE(T, field) \
    OPT_STRING("spec", T, field, "SPEC.yaml", "use this spec instead of the one stored in the checkpoint")
#define OPT_DIR_NORM(T, field, help) OPT_CUSTOM("norm", T, field, dir_norm, "MODE", parse_dir_norm, help)
#define OPT_FIGURE_FORMAT(T, field)                                                            \
    OPT_CUSTOM("format", T, field, plot_format, "FMT", parse_plot_format,                      \
               "figure format: png, svg or pdf (default: by the output's\n"                    \
               "extension, else png)")
#define OPT_FIGURE_DPI(T, field) \
    OPT_DOUBLE_ABOVE("dpi", T, field, "N", 0, 2400, "PNG resolution in pixels per inch (default 100)")
#define OPT_SEED(T, field, what) OPT_UINT64("seed", T, field, "S", "seed of " what " (default 0)")

#endif
