/* opts.c - one parser for every subcommand's option table (opts.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

/* Where option help text starts at most; longer labels put it on the next line. */
enum { HELP_COLUMN_MAX = 20 };

const char *opt_item(const opt_list *l, int i) { return i < l->n ? l->item[i] : NULL; }

int opts_exit(int rc) { return rc == OPTS_HELP ? 0 : rc; }

static void *field_of(void *args, size_t at) { return (char *)args + at; }

void opts_print_row(FILE *f, const char *label, const char *text, int width) {
    int len = (int)strlen(label);
    fprintf(f, "  %s", label);
    if (len > width) fprintf(f, "\n%*s", width + 2, "");
    else fprintf(f, "%*s", width - len, "");
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "  %.*s\n", n, p);
        if (!nl) break;
        p = nl + 1;
        fprintf(f, "%*s", width + 2, "");
    }
}

/* "-o, --output OUT.png" */
static void option_label(const opt_def *o, char *buf, size_t size) {
    char s[8] = "";
    if (o->short_name) snprintf(s, sizeof s, "-%c, ", o->short_name);
    snprintf(buf, size, "%s--%s%s%s", s, o->name, o->value ? " " : "", o->value ? o->value : "");
}

void opts_print_help(const command *cmd, FILE *f) {
    const opt_syntax *s = cmd->syntax;
    char label[128];
    int width = (int)strlen("-h, --help");
    for (const opt_def *o = s->options; o->name; o++) {
        option_label(o, label, sizeof label);
        int len = (int)strlen(label);
        if (len > width && len <= HELP_COLUMN_MAX) width = len;
    }
    fputs(s->usage, f);
    if (s->about) fprintf(f, "\n%s", s->about);
    fputs("\noptions:\n", f);
    for (const opt_def *o = s->options; o->name; o++) {
        option_label(o, label, sizeof label);
        opts_print_row(f, label, o->help, width);
    }
    opts_print_row(f, "-h, --help", "this help", width);
}

void opts_synopsis(const opt_syntax *s, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "%s", s->args.synopsis ? s->args.synopsis : "");
    for (const opt_def *o = s->options; o->name && n < size; o++)
        if (o->required)
            n += (size_t)snprintf(buf + n, size - n, "%s--%s %s", n ? " " : "", o->name, o->value);
}

int opts_usage_error(const command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dppf %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s\nRun 'dppf %s --help' for every option.\n", cmd->syntax->usage, cmd->name);
    return DP_EUSAGE;
}

/* Strict numbers: the whole string, no leading space, in range. strtoull
 * alone would take "-1" (as 2^64 - 1), " 5" and "" (as 0). */
static int parse_int(const char *s, long long lo, long long hi, int *out) {
    const char *digits = s + (*s == '-' || *s == '+');
    if (!isdigit((unsigned char)*digits)) return -1;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

static int parse_uint64(const char *s, uint64_t *out) {
    if (!isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = (uint64_t)x;
    return 0;
}

int opts_strtod(const char *s, double *out) {
    if (!*s || isspace((unsigned char)*s)) return -1;
    char *end;
    double x = strtod(s, &end);
    if (*end || !isfinite(x)) return -1;
    *out = x;
    return 0;
}

/* Converts v into the option's destination; DP_EUSAGE saying what was expected. */
static int store_value(const opt_def *o, const char *v, void *dest, dp_err *e) {
    switch (o->kind) {
    case KIND_FLAG:
        *(int *)dest = o->flag_value;
        return 0;
    case KIND_STRING:
        *(const char **)dest = v;
        return 0;
    case KIND_INT:
        if (parse_int(v, o->lo, o->hi, dest))
            return dp_fail(e, DP_EUSAGE, "--%s: '%s' is not an integer in [%lld, %lld]", o->name, v, o->lo,
                           o->hi);
        return 0;
    case KIND_UINT64:
        if (parse_uint64(v, dest))
            return dp_fail(e, DP_EUSAGE, "--%s: '%s' is not an integer in [0, %" PRIu64 "]", o->name, v,
                           UINT64_MAX);
        return 0;
    case KIND_DOUBLE: {
        double x;
        if (opts_strtod(v, &x) || x < o->dlo || (o->lo_open && x == o->dlo) || x > o->dhi)
            return dp_fail(e, DP_EUSAGE, "--%s: '%s' is not a number in %c%g, %g]", o->name, v,
                           o->lo_open ? '(' : '[', o->dlo, o->dhi);
        *(double *)dest = x;
        return 0;
    }
    case KIND_LIST: {
        opt_list *l = dest;
        if (l->n == OPT_LIST_MAX)
            return dp_fail(e, DP_EUSAGE, "too many --%s options (at most %d)", o->name, OPT_LIST_MAX);
        l->item[l->n++] = v;
        return 0;
    }
    case KIND_CUSTOM: {
        /* The parser's message says what is wrong with the value; add which option it was. */
        dp_err why = {0};
        int rc = o->parse(v, dest, &why);
        return rc ? dp_fail(e, rc, "--%s: %s", o->name, why.msg) : 0;
    }
    }
    return dp_fail(e, DP_EUSAGE, "--%s: unknown option kind", o->name);
}

/* The option that arg ("--name", "--name=value" or "-x") names, or NULL; *inline_value
 * is what follows '=' (NULL without one). */
static const opt_def *find_option(const opt_def *options, const char *arg, const char **inline_value) {
    *inline_value = NULL;
    if (arg[1] != '-') {
        for (const opt_def *o = options; o->name; o++)
            if (o->short_name && o->short_name == arg[1] && !arg[2]) return o;
        return NULL;
    }
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (const opt_def *o = options; o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) {
            if (eq) *inline_value = eq + 1;
            return o;
        }
    return NULL;
}

int opts_parse(const command *cmd, int argc, char **argv, void *args) {
    const opt_syntax *s = cmd->syntax;
    opt_list *positional = field_of(args, s->args.at);
    int only_positional = 0;
    dp_err e = {0};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || !arg[1]) { /* "-" alone is a file name */
            if (positional->n == s->args.max && s->args.max > 1)
                return opts_usage_error(cmd, "unexpected argument '%s': takes at most %d (%s)", arg,
                                        s->args.max, s->args.synopsis);
            if (positional->n == s->args.max) return opts_usage_error(cmd, "unexpected argument '%s'", arg);
            positional->item[positional->n++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_positional = 1;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            opts_print_help(cmd, stdout);
            return OPTS_HELP;
        }
        const char *value;
        const opt_def *o = find_option(s->options, arg, &value);
        if (!o) return opts_usage_error(cmd, "unknown option '%s'", arg);
        if (o->kind == KIND_FLAG && value) return opts_usage_error(cmd, "--%s takes no value", o->name);
        if (o->kind != KIND_FLAG && !value) {
            if (i + 1 == argc) return opts_usage_error(cmd, "--%s needs a value (%s)", o->name, o->value);
            value = argv[++i];
        }
        if (store_value(o, value, field_of(args, o->at), &e))
            return opts_usage_error(cmd, "%s", e.msg);
    }
    if (positional->n < s->args.min) return opts_usage_error(cmd, "needs %s", s->args.synopsis);
    for (const opt_def *o = s->options; o->name; o++)
        if (o->required && !*(const char **)field_of(args, o->at))
            return opts_usage_error(cmd, "needs --%s %s", o->name, o->value);
    return 0;
}
