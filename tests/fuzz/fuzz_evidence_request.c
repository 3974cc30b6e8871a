/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for att_evidence_request_decode() and, on the same bytes,
 * att_error_decode(): the two small messages an agent or verifier reads.
 * Whatever decodes must re-encode to bytes that decode to the same request.
 * Seeds: tests/fuzz/corpus/evidence_request/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_evidence_request a;
    struct att_evidence_request b;
    struct att_buf e;
    char *msg = NULL;

    att_buf_init(&e, ATT_PROTO_MAX_BODY);
    if (att_evidence_request_decode(data, size, &a, NULL, 0) == ATT_OK) {
        if (att_evidence_request_encode(&a, &e) != ATT_OK ||
            att_evidence_request_decode(e.data, e.len, &b, NULL, 0) != ATT_OK ||
            memcmp(a.nonce, b.nonce, sizeof(a.nonce)) != 0 || a.pcr_mask != b.pcr_mask ||
            a.log_offset != b.log_offset) {
            abort();
        }
    }
    if (att_error_decode(data, size, &msg) == ATT_OK) {
        att_buf_reset(&e);
        if (att_error_encode(msg, &e) != ATT_OK) {
            abort();
        }
    }
    free(msg);
    att_buf_cleanup(&e);
    return 0;
}
