/* cmd_train.c - `dppf train`: one training run, from a spec or a checkpoint. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "progress.h"
#include "train.h"

typedef struct {
    opt_list config; /* CONFIG.yaml, at most one */
    opt_list sets;
    const char *resume;
    int force;
    int force_memory;
    int progress; /* -1 auto, 0 --quiet, 1 --progress */
} train_args;

/* The one piece of global state a signal handler needs: which signal asked
 * the run to stop (the run then finishes its step and writes a checkpoint). */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

/* SIGINT / SIGTERM stop the run cleanly; a second one (SA_RESETHAND) kills. */
static void catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static const opt_def OPTIONS[] = {
    OPT_LIST("set", train_args, sets, "key=value",
             "override a spec key, e.g. --set optim.lr=0.1\n"
             "--set model.widths=[32,64] (repeatable; applied in order)"),
    OPT_STRING("resume", train_args, resume, "CKPT",
               "continue the run saved in CKPT (its spec is used unless a\n"
               "CONFIG is given); the continued run matches an\n"
               "uninterrupted one bit for bit"),
    OPT_FLAG("force", train_args, force,
             "replace the run a run.out_dir holds (its outputs are removed first)"),
    OPT_FLAG("force-memory", train_args, force_memory,
             "start even if the run seems not to fit in the memory available"),
    OPT_FLAG_SETS("progress", train_args, progress, 1, "always print evaluation lines on stderr"),
    OPT_FLAG_SETS("quiet", train_args, progress, 0, "print nothing on stderr but errors"),
    OPT_END,
};

const opt_syntax train_syntax = {
    .usage = "usage: dppf train CONFIG.yaml [--set key=value]... [--resume CKPT] [--force]\n"
             "                  [--force-memory] [--progress | --quiet]\n"
             "       dppf train --resume CKPT [--set key=value]...\n",
    .about = "Trains as the spec says and writes into run.out_dir:\n"
             "  spec.yaml        the fully resolved spec (every key)\n"
             "  metrics.csv      one row per evaluation (columns: see README)\n"
             "  checkpoint.bin   the final (or latest) checkpoint; checkpoint-e<N>.bin every\n"
             "                   run.checkpoint_every epochs\n"
             "A summary is printed on stdout at the end. SIGINT or SIGTERM (Ctrl-C, a\n"
             "cluster's preemption) stop the run after the current step with\n"
             "checkpoint.bin written; exit status 130 / 143; --resume continues it.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("CONFIG.yaml", 0, 1, train_args, config),
};

int cmd_train(const command *self, int argc, char **argv) {
    train_args a = {.progress = -1};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    const char *config = opt_item(&a.config, 0);
    if (!config && !a.resume) return opts_usage_error(self, "needs a CONFIG.yaml (or --resume CKPT)");
    dp_err e = {0};
    spec_t s;
    comm_t comm = {0};
    if ((rc = resolve_spec(config, a.resume, &a.sets, &s, &e))) return print_error(NULL, &e);
    if ((rc = comm_init(&comm, s.dist.workers, &e))) {
        /* Every rank finds the same problem with the spec: each says so and exits. */
        print_error(&comm, &e);
        comm_finalize(&comm);
        return rc;
    }
    progress_t prog;
    progress_init(&prog, a.progress);
    catch_stop_signals();
    char cmdline[8192];
    command_line(self, argc, argv, cmdline, sizeof cmdline);
    train_opts o = {.resume = a.resume, .force = a.force, .force_memory = a.force_memory,
                    .report = &prog.report, .summary = stdout, .stop = &stop_signal,
                    .command = cmdline};
    rc = train_run(&s, &o, &comm, &e);
    progress_done(&prog);
    return finish_ranks(&comm, rc, &e);
}
