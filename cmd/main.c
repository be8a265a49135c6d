/* main.c - the dppf command line: finds the subcommand in one table and runs it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "commands.h"
#include "docs.h"
#include "error.h"
#include "wait_policy.h"

static const command COMMANDS[] = {
    {"train", cmd_train, "train a model as the spec says (M workers, any algorithm)", &train_syntax, 1},
    {"eval", cmd_eval, "loss and accuracy of a checkpoint on the train and test sets", &eval_syntax, 1},
    {"sharpness", cmd_sharpness,
     "flatness of a checkpoint: IMV/MV, SAM sharpness, Hessian\n"
     "top eigenvalue and trace, epsilon-sharpness",
     &sharpness_syntax, 1},
    {"landscape", cmd_landscape,
     "loss landscape around a checkpoint: 2-D grid PNG with the\n"
     "workers marked, or 1-D curves (random, --to, workers)",
     &landscape_syntax, 1},
    {"plot", cmd_plot,
     "training curves, or any two CSV columns, as PNG, SVG or PDF\n"
     "(--group-by KEY: mean and mean +- std over runs)",
     &plot_syntax, 0},
    {"bench", cmd_bench,
     "training/eval throughput of the built-in models (img/s,\n"
     "GEMM share); --comm CONFIG: cost of one sync under mpirun",
     &bench_syntax, 1},
    {"schema", cmd_schema, "list every spec key with its type, range, default and meaning", &schema_syntax, 0},
    {"export", cmd_export, "the model as a PyTorch state_dict (safetensors)", &export_syntax, 0},
    {"import", cmd_import, "a PyTorch model as a step-0 checkpoint for train --resume", &import_syntax, 0},
    {"collect", cmd_collect,
     "one row per run: the spec keys that differ, final metrics,\n"
     "sharpness (table, --csv or --md)",
     &collect_syntax, 0},
};
enum { N_COMMANDS = sizeof COMMANDS / sizeof *COMMANDS };

static void print_usage(FILE *f) {
    fputs("usage: dppf <command> [options]\n"
          "\n"
          "Communication-efficient distributed training (DPPF and baselines), flatness\n"
          "measures and loss landscapes, from a YAML experiment spec.\n"
          "\n"
          "commands:\n",
          f);
    char label[256];
    for (int i = 0; i < N_COMMANDS; i++) {
        size_t n = (size_t)snprintf(label, sizeof label, "%s ", COMMANDS[i].name);
        opts_synopsis(COMMANDS[i].syntax, label + n, sizeof label - n);
        opts_print_row(f, label, COMMANDS[i].summary, 20);
    }
    fputs("\n"
          "  dppf <command> --help  options of one command (or: dppf help <command>)\n"
          "  dppf --version         version, git commit, BLIS kernels, MPI, compiler\n"
          "\n"
          "Several processes: mpirun -np R dppf train CONFIG.yaml spreads the spec's\n"
          "dist.workers over R ranks with the same results (see README).\n"
          "\n"
          "exit status: 0 ok, 1 runtime failure, 2 bad command line or spec, 3 missing,\n"
          "unreadable or corrupt file, 4 NaN/Inf during training, 5 out of memory,\n"
          "6 MPI failure\n",
          f);
}

static const command *find_command(const char *name) {
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(COMMANDS[i].name, name)) return &COMMANDS[i];
    return NULL;
}

static int unknown_command(const char *name) {
    fprintf(stderr, "dppf: unknown command '%s'\n\n", name);
    print_usage(stderr);
    return DP_EUSAGE;
}

/* `dppf help [CMD]` and `dppf --help`. */
static int help(int argc, char **argv) {
    if (argc == 0) {
        print_usage(stdout);
        return 0;
    }
    const command *c = find_command(argv[0]);
    if (!c) return unknown_command(argv[0]);
    opts_print_help(c, stdout);
    return 0;
}

/* `dppf --version`: the first line as before ("dppf X.Y.Z"), then what build this is. */
static int print_version(void) {
    build_info b;
    build_info_get(&b);
    printf("dppf %s\n"
           "  git commit    %s\n"
           "  BLIS kernels  %s\n"
           "  MPI library   %s\n"
           "  compiler      %s\n"
           "  build type    %s\n"
           "  C flags       %s\n",
           b.version, b.git, b.blis, b.mpi, b.compiler, b.build_type, b.flags);
    return 0;
}

int main(int argc, char **argv) {
    /* A write past `ulimit -f` must fail with EFBIG, so that the library reports
     * it (exit 3, naming the file) and removes its temp file; by default the
     * signal would kill the process and leave the temp file behind. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        print_usage(stderr);
        return DP_EUSAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help")) return help(argc - 2, argv + 2);
    if (!strcmp(name, "-h") || !strcmp(name, "--help")) return help(0, NULL);
    if (!strcmp(name, "--version") || !strcmp(name, "version")) return print_version();
    /* Hidden: the build generates the man page and the completion script with these. */
    if (!strcmp(name, "--man")) {
        print_man(stdout, COMMANDS, N_COMMANDS);
        return 0;
    }
    if (!strcmp(name, "--completion") && argc == 3 && !strcmp(argv[2], "bash")) {
        print_bash_completion(stdout, COMMANDS, N_COMMANDS);
        return 0;
    }
    const command *c = find_command(name);
    if (!c) return unknown_command(name);
    if (c->computes) wait_policy_apply(argv);
    return c->run(c, argc - 2, argv + 2);
}
