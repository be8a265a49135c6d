/* predict.c - logits and predicted classes of a checkpoint on the test set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "dataset.h"
#include "net.h"
#include "predict.h"

int predict_checkpoint(const spec_t *s, const char *ckpt_path, const char *out_csv, dp_err *e) {
    checkpoint_t c = {0};
    dataset_t train = {0}, test = {0};
    net_t net = {0};
    net_ws ws = {0};
    int32_t *labels = NULL, *idx = NULL;
    FILE *f = NULL;
    int B = 256;
    int rc = checkpoint_read(ckpt_path, &c, e);
    if (!rc) rc = dataset_load(s, &train, &test, e);
    if (!rc) rc = net_build(&net, s, train.c, train.h, train.w, train.classes, e);
    if (!rc && (c.n_params != net.n_params || c.n_buffers != net.n_buffers))
        rc = dp_fail(e, DP_EUSAGE,
                     "checkpoint '%s' holds %llu parameters but the spec's model (%s) has %zu",
                     ckpt_path, (unsigned long long)c.n_params, s->model.arch, net.n_params);
    if (!rc) rc = net_ws_alloc(&ws, &net, B, e);
    if (!rc) {
        labels = dp_calloc((size_t)B, sizeof(int32_t), "labels", e);
        idx = dp_calloc((size_t)B, sizeof(int32_t), "indices", e);
        if (!labels || !idx) rc = DP_ENOMEM;
    }
    if (!rc && !(f = fopen(out_csv, "w")))
        rc = dp_fail(e, DP_EIO, "cannot write '%s': %s", out_csv, strerror(errno));
    if (rc) goto done;

    batch_cfg_t bc;
    batch_cfg_from_spec(&bc, s, &train);
    int K = net.classes;
    fprintf(f, "index,label,pred");
    for (int k = 0; k < K; k++) fprintf(f, ",logit%d", k);
    fputc('\n', f);
    for (int start = 0; start < test.n; start += B) {
        int nb = test.n - start < B ? test.n - start : B;
        for (int i = 0; i < nb; i++) idx[i] = start + i;
        batch_fill(net_input(&ws), labels, &test, idx, nb, &bc, 0, NULL);
        net_forward(&net, &ws, c.avg_params, c.avg_buffers, labels, nb, 0, NULL, NULL);
        const float *logits = ws.act[net.ops[net.n_ops - 1].out];
        for (int i = 0; i < nb; i++) {
            const float *z = logits + (size_t)i * K;
            int best = 0; /* first maximum, as torch.argmax */
            for (int k = 1; k < K; k++)
                if (z[k] > z[best]) best = k;
            fprintf(f, "%d,%d,%d", start + i, labels[i], best);
            for (int k = 0; k < K; k++) fprintf(f, ",%.9g", z[k]);
            fputc('\n', f);
        }
    }
    if (ferror(f)) rc = dp_fail(e, DP_EIO, "cannot write '%s': write error", out_csv);
done:
    if (f && fclose(f) != 0 && !rc) rc = dp_fail(e, DP_EIO, "cannot write '%s': %s", out_csv, strerror(errno));
    free(labels);
    free(idx);
    net_ws_free(&ws);
    net_free(&net);
    dataset_free(&train);
    dataset_free(&test);
    checkpoint_free(&c);
    return rc;
}
