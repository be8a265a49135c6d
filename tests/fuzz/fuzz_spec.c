/* fuzz_spec - the YAML spec loader and the --set override path.
 *
 * Input: spec text, then --set arguments, all separated by NUL bytes
 * ("data:\n  dataset: mnist\n\0optim.lr=0.1\0model.hidden=[8]"), applied in
 * order as `dppf train spec.yaml --set ...` does. Beyond "no crash, no leak":
 * a failure must carry a usage code and a message, and a spec that loads
 * must write a resolved YAML that loads back to the identical spec (what
 * spec.yaml and resuming from a checkpoint rely on). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "spec.h"

static void check_round_trip(const spec_t *s) {
    dp_err e = {0};
    char *yaml = spec_to_yaml(s, &e);
    if (!yaml) { /* only out of memory */
        fuzz_check_err(DP_ENOMEM, &e);
        return;
    }
    spec_t back;
    spec_defaults(&back);
    int rc = spec_load_string(&back, yaml, "resolved", &e);
    FUZZ_CHECK(rc == 0, "the resolved spec does not load: %s\n%s", e.msg, yaml);
    FUZZ_CHECK(!memcmp(&back, s, sizeof back), "the resolved spec loads as a different spec:\n%s",
               yaml);
    free(yaml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1); /* NUL-terminates the last piece */
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    spec_t s;
    dp_err e = {0};
    spec_defaults(&s);
    int rc = spec_load_string(&s, text, "fuzz.yaml", &e);
    for (size_t at = strlen(text) + 1; !rc && at <= size; at += strlen(text + at) + 1)
        rc = spec_set(&s, text + at, &e);
    if (rc) {
        fuzz_check_err(rc, &e);
        FUZZ_CHECK(rc == DP_EUSAGE || rc == DP_ENOMEM, "bad spec gave code %d: %s", rc, e.msg);
    } else {
        rc = spec_validate(&s, &e);
        if (rc) fuzz_check_err(rc, &e);
        check_round_trip(&s);
    }
    free(text);
    return 0;
}
