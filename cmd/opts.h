/* opts.h - the command line's grammar: subcommands and their options, declared
 * as tables and parsed, checked and documented by one parser.
 *
 * A subcommand keeps what its options set in one struct of its own; its
 * option table says, per option, the name, the kind of value, where in that
 * struct it goes (an offset checked against the field's type at compile
 * time) and one help text. The same table parses argv and prints --help, so
 * the two cannot drift apart. */
#ifndef DPPF_CMD_OPTS_H
#define DPPF_CMD_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef enum {
    KIND_FLAG,   /* no value: stores flag_value in an int */
    KIND_STRING, /* const char * (the argv string itself) */
    KIND_INT,    /* int within [lo, hi] */
    KIND_UINT64, /* uint64_t: digits only, the full 64-bit range */
    KIND_DOUBLE, /* a finite double within [dlo, dhi], or (dlo, dhi] with lo_open */
    KIND_LIST,   /* repeatable: each value is appended to an opt_list */
    KIND_CUSTOM, /* parse(value, destination) converts and checks the value */
} opt_kind;

/* Converts and checks `value` into *dest; DP_EUSAGE with a message saying why not. */
typedef int (*opt_parse_fn)(const char *value, void *dest, dp_err *e);

typedef struct {
    const char *name;   /* long name without the dashes ("seed" is --seed); NULL ends a table */
    char short_name;    /* 'o' for -o; 0 for none */
    opt_kind kind;
    size_t at;          /* offset of the destination in the subcommand's argument struct */
    const char *value;  /* placeholder of the value in help and messages ("N"); NULL for flags */
    const char *help;   /* one line; '\n' continues it on the next, indented */
    int required;       /* KIND_STRING: an error if it is still NULL after parsing */
    int flag_value;     /* KIND_FLAG: what it stores */
    long long lo, hi;   /* KIND_INT: allowed range */
    double dlo, dhi;    /* KIND_DOUBLE: allowed range ... */
    int lo_open;        /* ... with dlo itself excluded */
    opt_parse_fn parse; /* KIND_CUSTOM */
} opt_def;

/* The most values a KIND_LIST option or the positional arguments take. */
#define OPT_LIST_MAX 256

/* The values of a repeatable option, or the positional arguments, in order. */
typedef struct {
    const char *item[OPT_LIST_MAX];
    int n;
} opt_list;

/* The i-th value of l, or NULL if there are fewer. */
const char *opt_item(const opt_list *l, int i);

/* The positional arguments: how many, and what they are called. */
typedef struct {
    const char *synopsis; /* "CKPT OUT.safetensors": in messages and `dppf --help` */
    int min, max;         /* max <= OPT_LIST_MAX */
    size_t at;            /* offset of an opt_list in the argument struct */
} opt_positionals;

/* Everything `dppf CMD --help` shows, and what opts_parse accepts. */
typedef struct {
    const char *usage;       /* the usage lines ("usage: dppf CMD ...\n") */
    const char *about;       /* what the command does: prose shown between the usage and the options */
    const opt_def *options;  /* ends with a row whose name is NULL */
    opt_positionals args;
} opt_syntax;

/* One subcommand: a row of the table in main.c. */
typedef struct command command;
struct command {
    const char *name;
    int (*run)(const command *self, int argc, char **argv); /* argv: after the command name */
    const char *summary;      /* its line in `dppf --help`; '\n' continues it */
    const opt_syntax *syntax; /* its usage, help and options */
    int computes;             /* runs OpenMP thread teams: main sets their wait policy first */
};

/* opts_parse's return value when it printed --help: the command ends with exit 0. */
#define OPTS_HELP (-1)

/* Parses argv (argc values) into `args`, the command's argument struct, which
 * holds the defaults on entry. Returns 0; OPTS_HELP after printing the help on
 * stdout; or DP_EUSAGE after printing what is wrong and the usage on stderr. */
int opts_parse(const command *cmd, int argc, char **argv, void *args);

/* The exit status of a command that stops after opts_parse returned rc != 0. */
int opts_exit(int rc);

/* Prints "dppf CMD: <message>" and the command's usage on stderr; returns DP_EUSAGE.
 * For errors that involve several options together. */
int opts_usage_error(const command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The whole help of a command: usage, prose, every option. */
void opts_print_help(const command *cmd, FILE *f);

/* "CKPT OUT.safetensors --spec SPEC.yaml": the positional arguments and the
 * required options, as `dppf --help` lists them next to the command. */
void opts_synopsis(const opt_syntax *s, char *buf, size_t size);

/* Prints "  LABEL   TEXT", TEXT starting at column `width` + 2 (on the next line if
 * LABEL is longer); each '\n' in TEXT continues at that column. */
void opts_print_row(FILE *f, const char *label, const char *text, int width);

/* A whole string as a finite double (for KIND_CUSTOM parsers); 0 or -1. */
int opts_strtod(const char *s, double *out);

/* The offset of `field` in struct T, a compile error unless the field has type `type`. */
#define OPT_AT(T, field, type) (offsetof(T, field) + 0 * sizeof((type *){0} = &((T *)0)->field))

/* Table rows. Trailing arguments add fields, e.g. .short_name = 'o', .required = 1. */
#define OPT_ROW_(name_, kind_, at_, value_, help_) \
    .name = name_, .kind = kind_, .at = at_, .value = value_, .help = help_
#define OPT_FLAG(name, T, field, help, ...) \
    {OPT_ROW_(name, KIND_FLAG, OPT_AT(T, field, int), NULL, help), .flag_value = 1, __VA_ARGS__}
/* A flag that stores `v` (e.g. --quiet and --progress sharing one field). */
#define OPT_FLAG_SETS(name, T, field, v, help) \
    {OPT_ROW_(name, KIND_FLAG, OPT_AT(T, field, int), NULL, help), .flag_value = v}
#define OPT_STRING(name, T, field, value, help, ...) \
    {OPT_ROW_(name, KIND_STRING, OPT_AT(T, field, const char *), value, help), __VA_ARGS__}
#define OPT_INT(name, T, field, value, lo_, hi_, help) \
    {OPT_ROW_(name, KIND_INT, OPT_AT(T, field, int), value, help), .lo = lo_, .hi = hi_}
#define OPT_UINT64(name, T, field, value, help) \
    {OPT_ROW_(name, KIND_UINT64, OPT_AT(T, field, uint64_t), value, help)}
#define OPT_DOUBLE(name, T, field, value, lo_, hi_, help) \
    {OPT_ROW_(name, KIND_DOUBLE, OPT_AT(T, field, double), value, help), .dlo = lo_, .dhi = hi_}
/* A double > lo_ (lo_ excluded) and <= hi_. */
#define OPT_DOUBLE_ABOVE(name, T, field, value, lo_, hi_, help) \
    {OPT_ROW_(name, KIND_DOUBLE, OPT_AT(T, field, double), value, help), .dlo = lo_, .dhi = hi_, .lo_open = 1}
#define OPT_LIST(name, T, field, value, help) \
    {OPT_ROW_(name, KIND_LIST, OPT_AT(T, field, opt_list), value, help)}
/* `type` is what fn stores through its void *. */
#define OPT_CUSTOM(name, T, field, type, value, fn, help) \
    {OPT_ROW_(name, KIND_CUSTOM, OPT_AT(T, field, type), value, help), .parse = fn}
#define OPT_END {0}

/* The positional arguments of struct T, collected in its opt_list `field`. */
#define OPT_ARGS(synopsis_, min_, max_, T, field) \
    {.synopsis = synopsis_, .min = min_, .max = max_, .at = OPT_AT(T, field, opt_list)}

#endif
