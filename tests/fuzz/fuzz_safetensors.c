/* libFuzzer harness for the safetensors parser (tests/fuzz/run.sh runs it with the others).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib \
 *       tests/fuzz/fuzz_safetensors.c lib/safetensors.c lib/error.c -o fuzz_safetensors
 *   mkdir -p corpus && build/dppf export CKPT corpus/seed.safetensors
 *   ./fuzz_safetensors corpus -max_total_time=600
 *
 * Every input must be accepted or rejected with DP_EIO/DP_ENOMEM and a
 * message; an accepted file's tensors must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_file f;
    dp_err e = {0};
    int rc = st_parse(data, size, "fuzz", &f, &e);
    if (rc) {
        if ((rc != DP_EIO && rc != DP_ENOMEM) || !e.msg[0]) abort();
        return 0;
    }
    for (int i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        const uint8_t *p = t->data;
        if (p < data || (size_t)(p - data) + (t->end - t->begin) > size) abort();
        volatile uint8_t sink = 0;
        for (uint64_t k = 0; k < t->end - t->begin; k++) sink ^= p[k]; /* ASan checks the range */
        (void)sink;
    }
    st_free(&f);
    return 0;
}
