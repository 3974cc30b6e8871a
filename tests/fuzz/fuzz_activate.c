/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the enrolment's second round trip (attest/proto.h):
 * the agent's att_activate_request_decode() and what it does next with the
 * verifier's bytes before the TPM sees them (the exact-length tss2-mu
 * unmarshal of the TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET, as
 * att_tpm_activate_credential() does, and att_sigkey_from_spki() on the
 * order-signing key), and the verifier's att_activate_response_decode().
 * Decoded messages must re-encode to bytes that decode and encode the same.
 * The raw input also goes to the unmarshallers and the SPKI reader directly.
 * Seeds (tests/fuzz/seedgen.c): tests/fuzz/corpus/activate/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "attest/buf.h"
#include "attest/log.h"
#include "attest/proto.h"
#include "attest/sigkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void tpm_blobs(const uint8_t *blob, size_t blob_len, const uint8_t *enc, size_t enc_len)
{
    TPM2B_ID_OBJECT id;
    TPM2B_ENCRYPTED_SECRET es;
    size_t off = 0;

    memset(&id, 0, sizeof(id));
    if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, &id) == TSS2_RC_SUCCESS &&
        (off > blob_len || id.size > sizeof(id.credential))) {
        abort();
    }
    off = 0;
    memset(&es, 0, sizeof(es));
    if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc, enc_len, &off, &es) == TSS2_RC_SUCCESS &&
        (off > enc_len || es.size > sizeof(es.secret))) {
        abort();
    }
}

static void spki(const uint8_t *der, size_t len)
{
    struct att_sigkey *k = NULL;
    struct att_buf out;

    if (att_sigkey_from_spki(der, len, &k) == ATT_OK) {
        att_buf_init(&out, ATT_SIGKEY_MAX_SPKI);
        if (att_sigkey_spki(k, &out) != ATT_OK) {
            abort();
        }
        att_buf_cleanup(&out);
        att_sigkey_free(k);
    }
}

static void request(const uint8_t *data, size_t size)
{
    struct att_activate_request a;
    struct att_activate_request b;
    struct att_buf e1;
    struct att_buf e2;

    att_buf_init(&e1, ATT_PROTO_MAX_BODY);
    att_buf_init(&e2, ATT_PROTO_MAX_BODY);
    if (att_activate_request_decode(data, size, &a, NULL, 0) == ATT_OK) {
        if (att_activate_request_encode(&a, &e1) != ATT_OK ||
            att_activate_request_decode(e1.data, e1.len, &b, NULL, 0) != ATT_OK ||
            att_activate_request_encode(&b, &e2) != ATT_OK || e1.len != e2.len ||
            memcmp(e1.data, e2.data, e1.len) != 0) {
            abort();
        }
        tpm_blobs(a.cred_blob, a.cred_blob_len, a.enc_secret, a.enc_secret_len);
        if (a.verifier_key != NULL) {
            spki(a.verifier_key, a.verifier_key_len);
        }
        att_activate_request_cleanup(&b);
    }
    att_activate_request_cleanup(&a);
    att_buf_cleanup(&e1);
    att_buf_cleanup(&e2);
}

static void response(const uint8_t *data, size_t size)
{
    struct att_activate_response a;
    struct att_activate_response b;
    struct att_buf e1;
    struct att_buf e2;

    att_buf_init(&e1, ATT_PROTO_MAX_BODY);
    att_buf_init(&e2, ATT_PROTO_MAX_BODY);
    if (att_activate_response_decode(data, size, &a, NULL, 0) == ATT_OK) {
        if (a.secret_len == 0 || a.secret_len > 64 ||
            att_activate_response_encode(&a, &e1) != ATT_OK ||
            att_activate_response_decode(e1.data, e1.len, &b, NULL, 0) != ATT_OK ||
            att_activate_response_encode(&b, &e2) != ATT_OK || e1.len != e2.len ||
            memcmp(e1.data, e2.data, e1.len) != 0) {
            abort();
        }
        att_activate_response_cleanup(&b);
    }
    att_activate_response_cleanup(&a);
    att_buf_cleanup(&e1);
    att_buf_cleanup(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *quiet;

    if (quiet == NULL) {
        /* Quiet tss2-mu and our log: both report every malformed input. */
        (void)setenv("TSS2_LOG", "all+none", 0);
        quiet = fopen("/dev/null", "w");
        att_log_set_stream(quiet);
    }
    request(data, size);
    response(data, size);
    tpm_blobs(data, size, data, size);
    spki(data, size);
    return 0;
}
