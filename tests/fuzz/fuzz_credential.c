/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the TPM structures an agent hands the verifier at
 * enrolment, through the tss2-mu unmarshallers: att_make_credential() with
 * an untrusted EK TPM2B_PUBLIC and AK Name (attest/credential.h), and
 * att_ak_new(), att_tpm_public_check_ak() and att_tpm_public_name() on an
 * untrusted AK TPM2B_PUBLIC (attest/quote.h; fuzz_quote's one-byte length
 * cannot hold an RSA key).
 * Input: a two-byte big-endian length N, N bytes of TPM2B_PUBLIC, then the
 * AK Name (the rest); N larger than what follows is clamped. Whatever
 * credential is made must be exactly one TPM2B_ID_OBJECT and one
 * TPM2B_ENCRYPTED_SECRET; an AK the enrolment accepts must also load for
 * quote checks and have a SHA-256 Name. Seeds (tests/fuzz/seedgen.c, from tests/data/
 * quote-{ecc,rsa}): tests/fuzz/corpus/credential/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "attest/buf.h"
#include "attest/log.h"
#include "attest/credential.h"
#include "attest/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exactly_one(const struct att_buf *blob, const struct att_buf *enc)
{
    TPM2B_ID_OBJECT id;
    TPM2B_ENCRYPTED_SECRET es;
    size_t off = 0;

    if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob->data, blob->len, &off, &id) != TSS2_RC_SUCCESS ||
        off != blob->len) {
        abort();
    }
    off = 0;
    if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc->data, enc->len, &off, &es) !=
            TSS2_RC_SUCCESS ||
        off != enc->len) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                       12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                       23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    struct att_buf blob;
    struct att_buf enc;
    struct att_ak *ak = NULL;
    uint8_t name[ATT_TPM_NAME_MAX];
    size_t name_len = sizeof(name);
    const uint8_t *pub;
    const uint8_t *rest;
    size_t n;
    char why[128];

    static FILE *quiet;

    if (quiet == NULL) {
        /* Quiet tss2-mu and our log: both report every malformed input. */
        (void)setenv("TSS2_LOG", "all+none", 0);
        quiet = fopen("/dev/null", "w");
        att_log_set_stream(quiet);
    }
    if (size < 2) {
        return 0;
    }
    n = (size_t)data[0] << 8 | data[1];
    n = n < size - 2 ? n : size - 2;
    pub = data + 2;
    rest = pub + n;
    att_buf_init(&blob, 1u << 16);
    att_buf_init(&enc, 1u << 16);
    if (att_make_credential(pub, n, rest, size - 2 - n, secret, sizeof(secret), &blob, &enc) ==
        ATT_OK) {
        exactly_one(&blob, &enc);
    }
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);

    /* An AK that passes the enrolment's check must parse for quotes and have a Name. */
    if (att_ak_new(pub, n, &ak, why, sizeof(why)) != ATT_OK) {
        ak = NULL;
    }
    if (att_tpm_public_check_ak(pub, n, why, sizeof(why)) == ATT_OK &&
        (ak == NULL || att_tpm_public_name(pub, n, name, &name_len) != ATT_OK || name_len != 34)) {
        abort();
    }
    att_ak_free(ak);
    return 0;
}
