/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for att_policy_parse_json() (proto/policy.schema.json).
 * Whatever parses must encode, and the encoding must parse and encode to the
 * same bytes (sorted paths and digests, lower-case hex).
 * Seeds: tests/fuzz/corpus/policy/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/policy_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_policy *a = NULL;
    struct att_policy *b = NULL;
    struct att_buf e1;
    struct att_buf e2;

    att_buf_init(&e1, 2u * ATT_POLICY_MAX_JSON);
    att_buf_init(&e2, 2u * ATT_POLICY_MAX_JSON);
    if (att_policy_parse_json((const char *)data, size, &a, NULL, 0) == ATT_OK) {
        if (att_policy_encode_json(a, &e1) != ATT_OK ||
            att_policy_parse_json((const char *)e1.data, e1.len, &b, NULL, 0) != ATT_OK ||
            att_policy_encode_json(b, &e2) != ATT_OK || e1.len != e2.len ||
            memcmp(e1.data, e2.data, e1.len) != 0) {
            abort();
        }
    }
    att_policy_free(a);
    att_policy_free(b);
    att_buf_cleanup(&e1);
    att_buf_cleanup(&e2);
    return 0;
}
