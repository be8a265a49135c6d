/* predict.c - logits and predicted classes of a checkpoint on the test set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "predict.h"

int predict_write(eval_setup *x, const char *out_csv, dp_err *e) {
    atomic_file a;
    int rc = atomic_open(&a, out_csv, NULL, e);
    if (rc) return rc;
    FILE *f = a.f;
    int B = x->ws.max_batch, K = x->net.classes;
    const dataset_t *test = &x->test;
    fprintf(f, "index,label,pred");
    for (int k = 0; k < K; k++) fprintf(f, ",logit%d", k);
    fputc('\n', f);
    for (int start = 0; start < test->n; start += B) {
        int nb = test->n - start < B ? test->n - start : B;
        for (int i = 0; i < nb; i++) x->idx[i] = start + i;
        batch_fill(net_input(&x->ws), x->labels, test, x->idx, nb, &x->bc, 0, NULL);
        net_forward(&x->net, &x->ws, x->ckpt.avg_params, x->ckpt.avg_buffers, x->labels, nb, 0, NULL, NULL);
        const float *logits = x->ws.act[x->net.ops[x->net.n_ops - 1].out];
        for (int i = 0; i < nb; i++) {
            const float *z = logits + (size_t)i * K;
            int best = 0; /* first maximum, as torch.argmax */
            for (int k = 1; k < K; k++)
                if (z[k] > z[best]) best = k;
            fprintf(f, "%d,%d,%d", start + i, x->labels[i], best);
            for (int k = 0; k < K; k++) fprintf(f, ",%.9g", z[k]);
            fputc('\n', f);
        }
    }
    return atomic_commit(&a, e); /* catches a failed fprintf too */
}
