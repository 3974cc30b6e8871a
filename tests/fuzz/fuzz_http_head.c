/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the response heads the verifier's poller reads from
 * agents (att_hmux_parse_head, attest/hmux.h): whatever an agent, or
 * anything that answers on its address, sends before the body. A head that
 * parses has a status in 100..599, a length of -1 or more, and a keep-alive
 * flag of 0 or 1, and parsing is a function of the bytes: a second parse
 * agrees, and one more byte after the empty line is refused.
 * Seeds: tests/fuzz/corpus/http_head/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/hmux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[128];
    long st1;
    long st2;
    int64_t cl1;
    int64_t cl2;
    int k1;
    int k2;
    char *more;

    if (size > 16384) {
        return 0;
    }
    if (att_hmux_parse_head((const char *)data, size, &st1, &cl1, &k1, why, sizeof(why)) !=
        ATT_OK) {
        if (why[0] == '\0') {
            abort(); /* a refusal always says why */
        }
        return 0;
    }
    if (st1 < 100 || st1 > 599 || cl1 < -1 || (k1 != 0 && k1 != 1)) {
        abort();
    }
    if (att_hmux_parse_head((const char *)data, size, &st2, &cl2, &k2, why, sizeof(why)) !=
            ATT_OK ||
        st1 != st2 || cl1 != cl2 || k1 != k2) {
        abort();
    }
    more = malloc(size + 1);
    if (more == NULL) {
        return 0;
    }
    memcpy(more, data, size);
    more[size] = 'x';
    if (att_hmux_parse_head(more, size + 1, &st2, &cl2, &k2, why, sizeof(why)) == ATT_OK) {
        abort();
    }
    free(more);
    return 0;
}
