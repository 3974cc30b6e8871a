/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for att_evidence_decode() (proto/attest.cddl "evidence"),
 * the message a possibly compromised agent sends to the verifier. Whatever
 * decodes must re-encode, and the re-encoding must round-trip to the same
 * bytes. Seeds: tests/fuzz/corpus/evidence/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_evidence a;
    struct att_evidence b;
    struct att_buf e1;
    struct att_buf e2;

    att_buf_init(&e1, ATT_PROTO_MAX_BODY);
    att_buf_init(&e2, ATT_PROTO_MAX_BODY);
    if (att_evidence_decode(data, size, &a, NULL, 0) == ATT_OK) {
        if (att_evidence_encode(&a, &e1) != ATT_OK ||
            att_evidence_decode(e1.data, e1.len, &b, NULL, 0) != ATT_OK ||
            att_evidence_encode(&b, &e2) != ATT_OK || e1.len != e2.len ||
            memcmp(e1.data, e2.data, e1.len) != 0) {
            abort();
        }
        att_evidence_cleanup(&b);
    }
    att_evidence_cleanup(&a);
    att_buf_cleanup(&e1);
    att_buf_cleanup(&e2);
    return 0;
}
