/* cmd_export.c - `dppf export`: a checkpoint's model as a PyTorch state_dict. */
#include <stdio.h>

#include "commands.h"
#include "common.h"
#include "interop.h"

typedef struct {
    opt_list files; /* CKPT OUT.safetensors */
    opt_list sets;
    export_opts o;
} export_args;

static const opt_def OPTIONS[] = {
    OPT_INT("worker", export_args, o.worker, "I", 0, 4095, "export worker I instead of the average"),
    OPT_FLAG("all-workers", export_args, o.all_workers,
             "also every worker, its names prefixed with worker<i>."),
    OPT_LIST("set", export_args, sets, "key=value", "override a key of the stored spec (e.g. data.path)"),
    OPT_END,
};

const opt_syntax export_syntax = {
    .usage = "usage: dppf export CKPT OUT.safetensors [--worker I | --all-workers]\n"
             "                   [--set key=value]...\n",
    .about = "Writes the checkpoint's model as a PyTorch state_dict in safetensors format:\n"
             "the workers' averaged model (what eval reports) under the torch module names\n"
             "(conv1.weight, layer1.0.bn1.running_mean, ...), BatchNorm running statistics\n"
             "and num_batches_tracked (I64) included, so load_state_dict(strict=True) works\n"
             "on the equivalent torch model (README: PyTorch interop). Metadata: the model\n"
             "keys, input shape, classes, step, dppf version and the full spec.\n"
             "The dataset is read for the model's input shape and class count.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("CKPT OUT.safetensors", 2, 2, export_args, files),
};

int cmd_export(const command *self, int argc, char **argv) {
    export_args a = {.o = {.worker = -1}};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    if (a.o.worker >= 0 && a.o.all_workers)
        return opts_usage_error(self, "--worker and --all-workers exclude each other");
    a.o.ckpt = opt_item(&a.files, 0);
    a.o.out = opt_item(&a.files, 1);
    dp_err e = {0};
    spec_t s;
    if ((rc = resolve_spec(NULL, a.o.ckpt, &a.sets, &s, &e)) || (rc = interop_export(&s, &a.o, stdout, &e)))
        return print_error(NULL, &e);
    return 0;
}
