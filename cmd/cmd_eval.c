/* cmd_eval.c - `dppf eval`: loss and accuracy of a checkpoint's averaged model. */
#include <stdio.h>

#include "commands.h"
#include "common.h"
#include "gemm.h"
#include "eval.h"

typedef struct {
    opt_list spec; /* SPEC.yaml, at most one */
    opt_list sets;
    const char *checkpoint, *predictions;
    int csv;
} eval_args;

static const opt_def OPTIONS[] = {
    OPT_STRING("checkpoint", eval_args, checkpoint, "CKPT", "the checkpoint to evaluate (required)",
               .required = 1),
    OPT_SPEC_SETS(eval_args, sets),
    OPT_FLAG("csv", eval_args, csv, "print one CSV header and row instead of a table"),
    OPT_STRING("predictions", eval_args, predictions, "OUT.csv",
               "also write every test sample's label, predicted class and\n"
               "logits (index,label,pred,logit0,...)"),
    OPT_END,
};

const opt_syntax eval_syntax = {
    .usage = "usage: dppf eval [SPEC.yaml] --checkpoint CKPT [--set key=value]... [--csv]\n"
             "                 [--predictions OUT.csv]\n",
    .about = "Loss and accuracy of the checkpoint's model (the workers' average) on the\n"
             "train and test sets, BatchNorm in eval mode. The spec stored in the\n"
             "checkpoint is used unless SPEC.yaml is given; --set can change e.g. data.path.\n",
    .options = OPTIONS,
    .args = OPT_ARGS("[SPEC.yaml]", 0, 1, eval_args, spec),
};

static void print_report(const eval_report *r, const char *ckpt, int csv) {
    if (csv) {
        printf("checkpoint,step,workers,train_loss,train_acc,test_loss,test_acc,n_train,n_test\n");
        printf("%s,%lld,%d,%.6f,%.6f,%.6f,%.6f,%ld,%ld\n", ckpt, r->step, r->workers, r->train_loss,
               r->train_acc, r->test_loss, r->test_acc, r->n_train, r->n_test);
        return;
    }
    printf("checkpoint %s (step %lld, %d worker%s; averaged model)\n", ckpt, r->step, r->workers,
           r->workers > 1 ? "s" : "");
    printf("  set     samples      loss   accuracy\n");
    printf("  train  %8ld  %8.4f   %8.4f\n", r->n_train, r->train_loss, r->train_acc);
    printf("  test   %8ld  %8.4f   %8.4f\n", r->n_test, r->test_loss, r->test_acc);
}

int cmd_eval(const command *self, int argc, char **argv) {
    eval_args a = {0};
    int rc = opts_parse(self, argc, argv, &a);
    if (rc) return opts_exit(rc);
    dp_err e = {0};
    spec_t s;
    eval_report r;
    if ((rc = resolve_spec(opt_item(&a.spec, 0), a.checkpoint, &a.sets, &s, &e)))
        return print_error(NULL, &e);
    gemm_set_threads(comm_threads(s.run.threads, NULL));
    if ((rc = eval_checkpoint(&s, a.checkpoint, a.predictions, &r, &e))) return print_error(NULL, &e);
    print_report(&r, a.checkpoint, a.csv);
    return 0;
}
