#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "evaluate.h"
#include "file.h"
#include "runstate.h"

typedef struct {
    FILE *f;
    const net_t *net;
} predictions;

/* One CSV row per sample of the batch just evaluated. */
static void write_predictions(void *ctx, net_ws *ws, const int32_t *labels, int start, int B) {
    predictions *p = ctx;
    const int K = p->net->classes;
    const float *logits = net_logits(p->net, ws);
    for (int i = 0; i < B; i++) {
        const float *z = logits + (size_t)i * K;
        int best = 0; /* first maximum, as torch.argmax */
        for (int k = 1; k < K; k++)
            if (z[k] > z[best]) best = k;
        fprintf(p->f, "%d,%d,%d", start + i, labels[i], best);
        for (int k = 0; k < K; k++) fprintf(p->f, ",%.9g", z[k]);
        fputc('\n', p->f);
    }
}

static int predict_write(ckpt_model *x, net_ws *ws, int32_t *labels, int32_t *idx, const char *out_csv,
                         dp_err *e) {
    atomic_file a;
    int rc = atomic_open(&a, out_csv, NULL, e);
    if (rc) return rc;
    FILE *f = a.f;
    int K = x->net.classes;
    fprintf(f, "index,label,pred");
    for (int k = 0; k < K; k++) fprintf(f, ",logit%d", k);
    fputc('\n', f);
    predictions p = {f, &x->net};
    eval_result r;
    eval_dataset(&x->net, ws, x->ckpt.avg_params, x->ckpt.avg_buffers, &x->test, &x->bc, 0, NET_EVAL,
                 labels, idx, write_predictions, &p, &r);
    return atomic_commit(&a, e); /* catches a failed fprintf too */
}

int eval_checkpoint(const spec_t *s, const char *ckpt_path, const char *predictions_csv, eval_report *r,
                    dp_err *e) {
    ckpt_model x;
    net_ws ws = {0};
    int32_t *labels = NULL, *idx = NULL;
    int B = s->optim.batch_size < 256 ? 256 : s->optim.batch_size;
    int rc = ckpt_model_open(&x, s, ckpt_path, 1, e);
    if (rc) return rc;
    if (!(rc = net_ws_alloc(&ws, &x.net, B, e))) {
        labels = dp_calloc((size_t)B, sizeof(int32_t), "labels", e);
        idx = dp_calloc((size_t)B, sizeof(int32_t), "indices", e);
        if (!labels || !idx) rc = DP_ENOMEM;
    }
    if (!rc) {
        eval_result tr, te;
        const checkpoint_t *c = &x.ckpt;
        eval_model(&x.net, &ws, c->avg_params, c->avg_buffers, &x.train, &x.bc, labels, idx, &tr);
        eval_model(&x.net, &ws, c->avg_params, c->avg_buffers, &x.test, &x.bc, labels, idx, &te);
        *r = (eval_report){.train_loss = tr.loss, .train_acc = tr.acc, .test_loss = te.loss,
                           .test_acc = te.acc, .n_train = tr.n, .n_test = te.n,
                           .workers = (int)c->n_workers, .step = c->step};
        if (predictions_csv) rc = predict_write(&x, &ws, labels, idx, predictions_csv, e);
    }
    free(labels);
    free(idx);
    net_ws_free(&ws);
    ckpt_model_close(&x);
    return rc;
}
