/* cmd_import.c - `dppf import`: a PyTorch model as a step-0 checkpoint. */
#include <stdio.h>

#include "commands.h"
#include "common.h"
#include "interop.h"

typedef struct {
    opt_list model; /* MODEL.safetensors */
    const char *spec, *out;
    opt_list sets;
} import_args;

static const opt_def OPTIONS[] = {
    OPT_STRING("spec", import_args, spec, "SPEC.yaml", "the experiment spec (required); stored in INIT.bin",
               .required = 1),
    OPT_STRING("out", import_args, out, "INIT.bin", "the checkpoint to write (required)", .required = 1),
    OPT_SPEC_SETS(import_args, sets),
    OPT_END,
};

const opt_syntax import_syntax = {
    .usage = "usage: dppf import MODEL.safetensors --spec SPEC.yaml --out INIT.bin\n"
             "                   [--set key=value]...\n",
    .about = "Builds the spec's model, loads every tensor of MODEL (a PyTorch state_dict in\n"
             "safetensors format, e.g. written by dppf export or by the snippet in README:\n"
             "PyTorch interop) and writes a checkpoint at step 0 in which every worker holds\n"
             "that model, optimizer state zero and random streams as a fresh run of the\n"
             "spec: `dppf train --resume INIT.bin` then trains from it, and eval, sharpness\n"
             "and landscape accept it. Names, shapes and dtypes (F32; num_batches_tracked\n"
             "I64) must match the model exactly; every missing, extra or mis-shaped tensor\n"
             "is listed.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("MODEL.safetensors", 1, 1, import_args, model),
};

int cmd_import(const command *self, int argc, char **argv) {
    import_args a = {0};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    dp_err e = {0};
    spec_t s;
    if ((rc = resolve_spec(a.spec, NULL, &a.sets, &s, &e)) ||
        (rc = interop_import(&s, opt_item(&a.model, 0), a.out, stdout, &e)))
        return print_error(NULL, &e);
    return 0;
}
