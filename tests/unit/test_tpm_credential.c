/* SPDX-License-Identifier: Apache-2.0 */
/*
 * att_make_credential() and att_ek_cert_verify() against a real swtpm (ctest
 * runs this through tests/integration/with-swtpm.sh: ATT_TEST_TCTI, ATT_TEST_CA).
 * The TPM is the oracle: each credential made in software must come back out
 * of TPM2_ActivateCredential (Part 3 §12.5) for the right EK and AK, and
 * must fail for a wrong AK Name, a modified blob or another EK. The TPM side
 * runs in the test's own ESAPI context (EK from the TCG template, AK under
 * it, PolicySecret(TPM_RH_ENDORSEMENT) sessions), and once more through
 * att_tpm_activate_credential(). swtpm's own EK certificates from NV must
 * verify against the rig's CA, and its platform certificate (same key) must not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tctildr.h>

#include "attest/buf.h"
#include "attest/credential.h"
#include "attest/quote.h"
#include "attest/tpm.h"
#include "attest/tpm_template.h"
#include "attest/util.h"

#define WHY_LEN 256
#define BUF_MAX 4096u

/*
 * Handle ranges for GetCapability(TPM2_CAP_HANDLES). tss2's TPM2_TRANSIENT_FIRST
 * shifts a signed int by 24 (0x80 << 24), which UBSan rejects.
 */
#define HANDLE_TRANSIENT_FIRST      0x80000000u
#define HANDLE_LOADED_SESSION_FIRST 0x02000000u

static char state_dir[] = "/tmp/att-test-cred.XXXXXX";

/* One raw ESAPI connection to the swtpm (which serves one connection at a time). */
struct tpm {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
};

/* What one credential round trip needs: an EK and an AK loaded under it. */
struct keys {
    ESYS_TR ek;
    ESYS_TR ak;
    struct att_buf ek_pub; /* marshalled TPM2B_PUBLIC */
    struct att_buf ak_pub;
    uint8_t ak_name[ATT_TPM_NAME_MAX];
    size_t ak_name_len;
};

static const char *tcti(void)
{
    const char *t = getenv("ATT_TEST_TCTI");

    if (t == NULL) {
        fail_msg("ATT_TEST_TCTI is not set: run through tests/integration/with-swtpm.sh");
    }
    return t;
}

static void tpm_open(struct tpm *t)
{
    assert_int_equal(Tss2_TctiLdr_Initialize(tcti(), &t->tcti), TSS2_RC_SUCCESS);
    assert_int_equal(Esys_Initialize(&t->esys, t->tcti, NULL), TSS2_RC_SUCCESS);
}

static void tpm_close(struct tpm *t)
{
    Esys_Finalize(&t->esys);
    Tss2_TctiLdr_Finalize(&t->tcti);
}

/* Count handles of one TPM handle type (transient objects, loaded sessions). */
static UINT32 count_handles(TPM2_HANDLE first)
{
    struct tpm t;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    UINT32 n;

    tpm_open(&t);
    assert_int_equal(Esys_GetCapability(t.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_HANDLES, first, 64, &more, &cap),
                     TSS2_RC_SUCCESS);
    n = cap->data.handles.count;
    Esys_Free(cap);
    tpm_close(&t);
    return n;
}

static bool is_tpm_rc(TSS2_RC rc, TSS2_RC want)
{
    return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & (TPM2_RC_FMT1 | 0x3fu)) == want;
}

/*
 * The TCG EK template (Credential Profile 2.x templates L-1 RSA-2048 and L-2
 * ECC P-256). A non-zero fill writes that byte into the unique field, which
 * yields another primary key: an EK of "another TPM" for the negative tests.
 */
static void ek_template(bool rsa, uint8_t fill, TPM2B_PUBLIC *pub)
{
    att_tpm_ek_template(rsa ? ATT_KEY_RSA : ATT_KEY_ECC, pub);
    if (rsa) {
        memset(pub->publicArea.unique.rsa.buffer, fill, pub->publicArea.unique.rsa.size);
    } else {
        memset(pub->publicArea.unique.ecc.x.buffer, fill, pub->publicArea.unique.ecc.x.size);
        memset(pub->publicArea.unique.ecc.y.buffer, fill, pub->publicArea.unique.ecc.y.size);
    }
}

static void marshal_public(const TPM2B_PUBLIC *pub, struct att_buf *out)
{
    uint8_t tmp[sizeof(TPM2B_PUBLIC)];
    size_t off = 0;

    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(pub, tmp, sizeof(tmp), &off), TSS2_RC_SUCCESS);
    att_buf_init(out, BUF_MAX);
    assert_int_equal(att_buf_append(out, tmp, off), ATT_OK);
}

static ESYS_TR create_ek(struct tpm *t, bool rsa, uint8_t fill, struct att_buf *pub_out)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl;
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC *pub = NULL;
    ESYS_TR ek = ESYS_TR_NONE;

    ek_template(rsa, fill, &tmpl);
    assert_int_equal(Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
                                        ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs,
                                        &ek, &pub, NULL, NULL, NULL),
                     TSS2_RC_SUCCESS);
    marshal_public(pub, pub_out);
    Esys_Free(pub);
    return ek;
}

/*
 * A policy session that satisfies the EK's PolicySecret(TPM_RH_ENDORSEMENT),
 * with continueSession set: the caller flushes it, whatever the command did.
 */
static ESYS_TR ek_session(struct tpm *t)
{
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB};
    ESYS_TR s = ESYS_TR_NONE;

    assert_int_equal(Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym,
                                           TPM2_ALG_SHA256, &s),
                     TSS2_RC_SUCCESS);
    assert_int_equal(Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, s, ESYS_TR_PASSWORD,
                                       ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL),
                     TSS2_RC_SUCCESS);
    return s;
}

static void flush(struct tpm *t, ESYS_TR *h)
{
    if (*h != ESYS_TR_NONE) {
        assert_int_equal(Esys_FlushContext(t->esys, *h), TSS2_RC_SUCCESS);
        *h = ESYS_TR_NONE;
    }
}

/* Create and load an AK under ek; fills k->ak, k->ak_pub, k->ak_name. */
static void create_ak(struct tpm *t, bool rsa, struct keys *k)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl;
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC *pub = NULL;
    TPM2B_PRIVATE *priv = NULL;
    TPM2B_NAME *name = NULL;
    ESYS_TR s;

    att_tpm_ak_template(rsa ? ATT_KEY_RSA : ATT_KEY_ECC, &tmpl);
    s = ek_session(t);
    assert_int_equal(Esys_Create(t->esys, k->ek, s, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
                                 &outside, &pcrs, &priv, &pub, NULL, NULL, NULL),
                     TSS2_RC_SUCCESS);
    flush(t, &s);
    s = ek_session(t);
    assert_int_equal(Esys_Load(t->esys, k->ek, s, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &k->ak),
                     TSS2_RC_SUCCESS);
    flush(t, &s);
    marshal_public(pub, &k->ak_pub);
    k->ak_name_len = sizeof(k->ak_name);
    assert_int_equal(
        att_tpm_public_name(k->ak_pub.data, k->ak_pub.len, k->ak_name, &k->ak_name_len), ATT_OK);
    /* Our Name is the TPM's Name. */
    assert_int_equal(Esys_TR_GetName(t->esys, k->ak, &name), TSS2_RC_SUCCESS);
    assert_int_equal(name->size, k->ak_name_len);
    assert_memory_equal(name->name, k->ak_name, k->ak_name_len);
    Esys_Free(name);
    Esys_Free(pub);
    Esys_Free(priv);
}

static void keys_make(struct tpm *t, bool ek_rsa, bool ak_rsa, struct keys *k)
{
    memset(k, 0, sizeof(*k));
    k->ek = create_ek(t, ek_rsa, 0, &k->ek_pub);
    create_ak(t, ak_rsa, k);
}

static void keys_free(struct tpm *t, struct keys *k)
{
    flush(t, &k->ak);
    flush(t, &k->ek);
    att_buf_cleanup(&k->ek_pub);
    att_buf_cleanup(&k->ak_pub);
}

/*
 * TPM2_ActivateCredential with ak as the object the credential is bound to
 * (password auth, empty) and ek as the decryption key (policy session).
 * Unmarshalling failures of the blobs are returned as their MU code; on
 * success *secret gets the credential (Esys_Free).
 */
static TSS2_RC activate(struct tpm *t, ESYS_TR ak, ESYS_TR ek, const uint8_t *blob, size_t blob_len,
                        const uint8_t *enc, size_t enc_len, TPM2B_DIGEST **secret)
{
    TPM2B_ID_OBJECT id;
    TPM2B_ENCRYPTED_SECRET es;
    ESYS_TR s;
    size_t off = 0;
    TSS2_RC rc;

    memset(&id, 0, sizeof(id));
    memset(&es, 0, sizeof(es));
    *secret = NULL;
    rc = Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, &id);
    if (rc != TSS2_RC_SUCCESS) {
        return rc;
    }
    if (off != blob_len) {
        return TSS2_MU_RC_BAD_SIZE;
    }
    off = 0;
    rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc, enc_len, &off, &es);
    if (rc != TSS2_RC_SUCCESS) {
        return rc;
    }
    if (off != enc_len) {
        return TSS2_MU_RC_BAD_SIZE;
    }
    s = ek_session(t);
    rc = Esys_ActivateCredential(t->esys, ak, ek, ESYS_TR_PASSWORD, s, ESYS_TR_NONE, &id, &es,
                                 secret);
    flush(t, &s);
    return rc;
}

static void make(const struct keys *k, const uint8_t *name, size_t name_len, const uint8_t *secret,
                 size_t secret_len, struct att_buf *blob, struct att_buf *enc)
{
    att_buf_init(blob, BUF_MAX);
    att_buf_init(enc, BUF_MAX);
    assert_int_equal(att_make_credential(k->ek_pub.data, k->ek_pub.len, name, name_len, secret,
                                         secret_len, blob, enc),
                     ATT_OK);
}

/* Make a credential for k and get it back out of the TPM, for several secret sizes. */
static void roundtrip(bool ek_rsa, bool ak_rsa)
{
    static const size_t sizes[] = {32, 1, 16, 31};
    struct tpm t;
    struct keys k;
    struct att_buf blob;
    struct att_buf enc;
    uint8_t secret[32];
    TPM2B_DIGEST *got = NULL;
    size_t i;

    tpm_open(&t);
    keys_make(&t, ek_rsa, ak_rsa, &k);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(RAND_bytes(secret, (int)sizes[i]), 1);
        make(&k, k.ak_name, k.ak_name_len, secret, sizes[i], &blob, &enc);
        /* Sizes: TPM2B_ID_OBJECT = 2 + (2 + 32) + (2 + secret); the secret is RSA or a point. */
        assert_int_equal(blob.len, 2 + 34 + 2 + sizes[i]);
        assert_int_equal(enc.len, ek_rsa ? 2 + 256 : 2 + 2 + 32 + 2 + 32);
        assert_int_equal(activate(&t, k.ak, k.ek, blob.data, blob.len, enc.data, enc.len, &got),
                         TSS2_RC_SUCCESS);
        assert_non_null(got);
        assert_int_equal(got->size, sizes[i]);
        assert_memory_equal(got->buffer, secret, sizes[i]);
        Esys_Free(got);
        got = NULL;
        att_buf_cleanup(&blob);
        att_buf_cleanup(&enc);
    }
    keys_free(&t, &k);
    tpm_close(&t);
}

static void test_make_credential_rsa_ek_roundtrip(void **state)
{
    (void)state;
    roundtrip(true, false);
    roundtrip(true, true);
    assert_int_equal(count_handles(HANDLE_TRANSIENT_FIRST), 0);
}

static void test_make_credential_ecc_ek_roundtrip(void **state)
{
    (void)state;
    roundtrip(false, false);
    roundtrip(false, true);
    assert_int_equal(count_handles(HANDLE_TRANSIENT_FIRST), 0);
}

/* A credential bound to another Name does not activate with this AK: TPM_RC_INTEGRITY. */
static void wrong_name(bool ek_rsa)
{
    struct tpm t;
    struct keys k;
    struct keys other;
    struct att_buf blob;
    struct att_buf enc;
    uint8_t secret[32] = {1, 2, 3};
    uint8_t name[ATT_TPM_NAME_MAX];
    TPM2B_DIGEST *got = NULL;
    TSS2_RC rc;

    tpm_open(&t);
    keys_make(&t, ek_rsa, false, &k);
    /* A second AK under the same EK. */
    memset(&other, 0, sizeof(other));
    other.ek = k.ek;
    create_ak(&t, false, &other);

    make(&k, other.ak_name, other.ak_name_len, secret, sizeof(secret), &blob, &enc);
    rc = activate(&t, k.ak, k.ek, blob.data, blob.len, enc.data, enc.len, &got);
    assert_true(is_tpm_rc(rc, TPM2_RC_INTEGRITY));
    assert_null(got);
    /* ... while the AK it was made for gets it. */
    assert_int_equal(activate(&t, other.ak, k.ek, blob.data, blob.len, enc.data, enc.len, &got),
                     TSS2_RC_SUCCESS);
    assert_memory_equal(got->buffer, secret, sizeof(secret));
    Esys_Free(got);
    got = NULL;
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);

    /* One digest bit of the Name changed. */
    memcpy(name, k.ak_name, k.ak_name_len);
    name[k.ak_name_len - 1] ^= 0x01;
    make(&k, name, k.ak_name_len, secret, sizeof(secret), &blob, &enc);
    rc = activate(&t, k.ak, k.ek, blob.data, blob.len, enc.data, enc.len, &got);
    assert_true(is_tpm_rc(rc, TPM2_RC_INTEGRITY));
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);

    flush(&t, &other.ak);
    att_buf_cleanup(&other.ak_pub);
    keys_free(&t, &k);
    tpm_close(&t);
}

static void test_make_credential_wrong_ak_name(void **state)
{
    (void)state;
    wrong_name(true);
    wrong_name(false);
    assert_int_equal(count_handles(HANDLE_TRANSIENT_FIRST), 0);
    assert_int_equal(count_handles(HANDLE_LOADED_SESSION_FIRST), 0);
}

/*
 * Flip every bit of the credential blob, and every bit of the encrypted
 * secret up to max_enc_bits (an RSA-2048 ciphertext has 2064 bits and each
 * costs the TPM a private-key operation), and activate: never the secret.
 */
static void bit_flips(bool ek_rsa, size_t enc_stride)
{
    struct tpm t;
    struct keys k;
    struct att_buf blob;
    struct att_buf enc;
    uint8_t secret[32];
    uint8_t mut[BUF_MAX];
    TPM2B_DIGEST *got = NULL;
    size_t i;
    size_t tpm_refusals = 0;
    TSS2_RC rc;

    assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
    tpm_open(&t);
    keys_make(&t, ek_rsa, false, &k);
    make(&k, k.ak_name, k.ak_name_len, secret, sizeof(secret), &blob, &enc);
    for (i = 0; i < blob.len * 8; i++) {
        memcpy(mut, blob.data, blob.len);
        mut[i / 8] ^= (uint8_t)(1u << (i % 8));
        rc = activate(&t, k.ak, k.ek, mut, blob.len, enc.data, enc.len, &got);
        if (rc == TSS2_RC_SUCCESS) {
            fail_msg("credential blob bit %zu flipped: activation succeeded", i);
        }
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER) {
            tpm_refusals++;
            /*
             * Past the two size fields, the outer HMAC (checked before any
             * decryption) catches every change, encIdentity's own size included.
             */
            if (i >= (size_t)8 * 4) {
                assert_true(is_tpm_rc(rc, TPM2_RC_INTEGRITY));
            }
        }
    }
    for (i = 0; i < enc.len * 8; i += enc_stride) {
        memcpy(mut, enc.data, enc.len);
        mut[i / 8] ^= (uint8_t)(1u << (i % 8));
        rc = activate(&t, k.ak, k.ek, blob.data, blob.len, mut, enc.len, &got);
        if (rc == TSS2_RC_SUCCESS) {
            fail_msg("encrypted secret bit %zu flipped: activation succeeded", i);
        }
        tpm_refusals += (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER;
    }
    /* Most flips reached the TPM (only size-field flips stop in unmarshalling). */
    assert_true(tpm_refusals > blob.len * 4);
    /* Truncated by one byte at either end of each blob. */
    assert_int_not_equal(activate(&t, k.ak, k.ek, blob.data, blob.len - 1, enc.data, enc.len, &got),
                         TSS2_RC_SUCCESS);
    assert_int_not_equal(activate(&t, k.ak, k.ek, blob.data, blob.len, enc.data, enc.len - 1, &got),
                         TSS2_RC_SUCCESS);
    /* The untouched pair still works. */
    assert_int_equal(activate(&t, k.ak, k.ek, blob.data, blob.len, enc.data, enc.len, &got),
                     TSS2_RC_SUCCESS);
    assert_memory_equal(got->buffer, secret, sizeof(secret));
    Esys_Free(got);
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);
    keys_free(&t, &k);
    tpm_close(&t);
}

static void test_make_credential_bit_flips_rsa_ek(void **state)
{
    (void)state;
    bit_flips(true, 7);
}

static void test_make_credential_bit_flips_ecc_ek(void **state)
{
    (void)state;
    bit_flips(false, 1);
    assert_int_equal(count_handles(HANDLE_TRANSIENT_FIRST), 0);
    assert_int_equal(count_handles(HANDLE_LOADED_SESSION_FIRST), 0);
}

/* A credential made for one EK does not activate with another EK (of "another TPM"). */
static void other_ek(bool ek_rsa)
{
    struct tpm t;
    struct keys k;
    struct keys k2;
    struct att_buf blob;
    struct att_buf enc;
    uint8_t secret[32] = {9, 8, 7};
    TPM2B_DIGEST *got = NULL;
    TSS2_RC rc;

    tpm_open(&t);
    keys_make(&t, ek_rsa, false, &k);
    memset(&k2, 0, sizeof(k2));
    k2.ek = create_ek(&t, ek_rsa, 'x', &k2.ek_pub);
    assert_true(k2.ek_pub.len == k.ek_pub.len);
    assert_memory_not_equal(k2.ek_pub.data, k.ek_pub.data, k.ek_pub.len);

    /* Made for the other EK, presented to ours. */
    make(&k2, k.ak_name, k.ak_name_len, secret, sizeof(secret), &blob, &enc);
    rc = activate(&t, k.ak, k.ek, blob.data, blob.len, enc.data, enc.len, &got);
    /*
     * ECC: another Z, so another seed, and the HMAC fails. RSA: OAEP decoding
     * fails; swtpm (libtpms) reports that as TPM_RC_FAILURE (0x101).
     */
    assert_int_not_equal(rc, TSS2_RC_SUCCESS);
    assert_true(ek_rsa || is_tpm_rc(rc, TPM2_RC_INTEGRITY));
    assert_null(got);
    /* The other EK itself can (activateHandle need not be its child). */
    assert_int_equal(activate(&t, k.ak, k2.ek, blob.data, blob.len, enc.data, enc.len, &got),
                     TSS2_RC_SUCCESS);
    assert_memory_equal(got->buffer, secret, sizeof(secret));
    Esys_Free(got);
    got = NULL;
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);

    /* Made for our EK, presented to the other. */
    make(&k, k.ak_name, k.ak_name_len, secret, sizeof(secret), &blob, &enc);
    rc = activate(&t, k.ak, k2.ek, blob.data, blob.len, enc.data, enc.len, &got);
    assert_int_not_equal(rc, TSS2_RC_SUCCESS);
    assert_true(ek_rsa || is_tpm_rc(rc, TPM2_RC_INTEGRITY));
    assert_null(got);
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);

    flush(&t, &k2.ek);
    att_buf_cleanup(&k2.ek_pub);
    keys_free(&t, &k);
    tpm_close(&t);
}

static void test_make_credential_other_ek(void **state)
{
    (void)state;
    other_ek(true);
    other_ek(false);
    assert_int_equal(count_handles(HANDLE_TRANSIENT_FIRST), 0);
}

/* Modify a field of a marshalled TPM2B_PUBLIC and marshal it again. */
static void edit_public(const struct att_buf *in, void (*edit)(TPMT_PUBLIC *), struct att_buf *out)
{
    TPM2B_PUBLIC pub;
    size_t off = 0;

    memset(&pub, 0, sizeof(pub));
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(in->data, in->len, &off, &pub),
                     TSS2_RC_SUCCESS);
    edit(&pub.publicArea);
    pub.size = 0; /* recomputed by the marshaller */
    marshal_public(&pub, out);
}

static void edit_aes256(TPMT_PUBLIC *p)
{
    p->parameters.asymDetail.symmetric.keyBits.aes = 256;
}

static void edit_cbc(TPMT_PUBLIC *p)
{
    p->parameters.asymDetail.symmetric.mode.aes = TPM2_ALG_CBC;
}

static void edit_name_sha384(TPMT_PUBLIC *p)
{
    p->nameAlg = TPM2_ALG_SHA384;
}

static void edit_sign(TPMT_PUBLIC *p)
{
    p->objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT;
}

static void edit_unrestricted(TPMT_PUBLIC *p)
{
    p->objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
}

static void edit_rsa3072(TPMT_PUBLIC *p)
{
    p->parameters.rsaDetail.keyBits = 3072;
}

static void edit_p384(TPMT_PUBLIC *p)
{
    p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
}

static void edit_point_off_curve(TPMT_PUBLIC *p)
{
    p->unique.ecc.y.buffer[31] ^= 0x01;
}

static void test_make_credential_bad_args(void **state)
{
    struct tpm t;
    struct keys rsa;
    struct keys ecc;
    struct att_buf blob;
    struct att_buf enc;
    struct att_buf pub;
    uint8_t secret[33] = {0};
    uint8_t name[ATT_TPM_NAME_MAX];
    size_t i;
    static void (*const rsa_edits[])(TPMT_PUBLIC *) = {
        edit_aes256, edit_cbc, edit_name_sha384, edit_sign, edit_unrestricted, edit_rsa3072};
    static void (*const ecc_edits[])(TPMT_PUBLIC *) = {edit_aes256, edit_name_sha384, edit_sign,
                                                       edit_p384};

    (void)state;
    tpm_open(&t);
    /* Only the ECC public parts are needed, and swtpm holds three objects at most. */
    keys_make(&t, false, false, &ecc);
    flush(&t, &ecc.ak);
    flush(&t, &ecc.ek);
    keys_make(&t, true, false, &rsa);
    att_buf_init(&blob, BUF_MAX);
    att_buf_init(&enc, BUF_MAX);

#define MC(pub_, publen_, name_, namelen_, sec_, seclen_, b_, e_)                                  \
    att_make_credential((pub_), (publen_), (name_), (namelen_), (sec_), (seclen_), (b_), (e_))

    /* NULLs, secret sizes, the same buffer twice. */
    assert_int_equal(MC(NULL, 0, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &enc),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(MC(rsa.ek_pub.data, rsa.ek_pub.len, NULL, 0, secret, 32, &blob, &enc),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, NULL, 32, &blob, &enc),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, NULL, &enc),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, NULL),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &blob),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 0, &blob, &enc),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 33, &blob, &enc),
        ATT_ERR_INVALID_ARG);

    /* AK Names: too short, digest size not that of its algorithm, unknown algorithm. */
    memcpy(name, rsa.ak_name, rsa.ak_name_len);
    for (i = 0; i < rsa.ak_name_len; i++) {
        assert_int_equal(MC(rsa.ek_pub.data, rsa.ek_pub.len, name, i, secret, 32, &blob, &enc),
                         ATT_ERR_INVALID_ARG);
    }
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, name, rsa.ak_name_len + 1, secret, 32, &blob, &enc),
        ATT_ERR_INVALID_ARG);
    name[1] = 0x04; /* sha1 with a 32-byte digest */
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, name, rsa.ak_name_len, secret, 32, &blob, &enc),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(MC(rsa.ek_pub.data, rsa.ek_pub.len, name, 22, secret, 32, &blob, &enc),
                     ATT_OK); /* sha1 Names are well-formed */
    name[0] = 0x00;
    name[1] = 0x10; /* TPM_ALG_NULL */
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, name, rsa.ak_name_len, secret, 32, &blob, &enc),
        ATT_ERR_INVALID_ARG);
    att_buf_reset(&blob);
    att_buf_reset(&enc);

    /* EK public areas: malformed, truncated, with trailing bytes. */
    for (i = 0; i < rsa.ek_pub.len; i += 13) {
        assert_int_equal(
            MC(rsa.ek_pub.data, i, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &enc),
            ATT_ERR_PARSE);
    }
    att_buf_init(&pub, BUF_MAX);
    assert_int_equal(att_buf_append(&pub, rsa.ek_pub.data, rsa.ek_pub.len), ATT_OK);
    assert_int_equal(att_buf_append(&pub, "", 1), ATT_OK);
    assert_int_equal(MC(pub.data, pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &enc),
                     ATT_ERR_PARSE);
    att_buf_cleanup(&pub);

    /* An AK is no EK. */
    assert_int_equal(
        MC(rsa.ak_pub.data, rsa.ak_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &enc),
        ATT_ERR_INVALID_ARG);
    /* EK parameters we do not support. */
    for (i = 0; i < sizeof(rsa_edits) / sizeof(rsa_edits[0]); i++) {
        edit_public(&rsa.ek_pub, rsa_edits[i], &pub);
        assert_int_equal(
            MC(pub.data, pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &enc),
            ATT_ERR_INVALID_ARG);
        att_buf_cleanup(&pub);
    }
    for (i = 0; i < sizeof(ecc_edits) / sizeof(ecc_edits[0]); i++) {
        edit_public(&ecc.ek_pub, ecc_edits[i], &pub);
        assert_int_equal(
            MC(pub.data, pub.len, ecc.ak_name, ecc.ak_name_len, secret, 32, &blob, &enc),
            ATT_ERR_INVALID_ARG);
        att_buf_cleanup(&pub);
    }
    /* An ECC EK point off the curve is refused before any ECDH. */
    edit_public(&ecc.ek_pub, edit_point_off_curve, &pub);
    assert_int_equal(MC(pub.data, pub.len, ecc.ak_name, ecc.ak_name_len, secret, 32, &blob, &enc),
                     ATT_ERR_PARSE);
    att_buf_cleanup(&pub);
    assert_int_equal(blob.len, 0);
    assert_int_equal(enc.len, 0);

    /* Outputs are appended, both or neither. */
    assert_int_equal(att_buf_append(&blob, "AB", 2), ATT_OK);
    assert_int_equal(att_buf_append(&enc, "C", 1), ATT_OK);
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &enc),
        ATT_OK);
    assert_memory_equal(blob.data, "AB", 2);
    assert_memory_equal(enc.data, "C", 1);
    {
        TPM2B_DIGEST *got = NULL;

        assert_int_equal(activate(&t, rsa.ak, rsa.ek, blob.data + 2, blob.len - 2, enc.data + 1,
                                  enc.len - 1, &got),
                         TSS2_RC_SUCCESS);
        assert_memory_equal(got->buffer, secret, 32);
        Esys_Free(got);
    }
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);
    att_buf_init(&blob, BUF_MAX);
    att_buf_init(&enc, 100); /* too small for an RSA-2048 ciphertext */
    assert_int_equal(
        MC(rsa.ek_pub.data, rsa.ek_pub.len, rsa.ak_name, rsa.ak_name_len, secret, 32, &blob, &enc),
        ATT_ERR_PARSE);
    assert_int_equal(blob.len, 0);
    assert_int_equal(enc.len, 0);
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);
#undef MC

    keys_free(&t, &rsa);
    keys_free(&t, &ecc);
    tpm_close(&t);
    assert_int_equal(count_handles(HANDLE_TRANSIENT_FIRST), 0);
}

/* Two credentials for the same keys and secret differ (fresh seed each time). */
static void test_make_credential_fresh_seed(void **state)
{
    struct tpm t;
    struct keys k;
    struct att_buf b1;
    struct att_buf e1;
    struct att_buf b2;
    struct att_buf e2;
    uint8_t secret[32] = {0x55};
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        tpm_open(&t);
        keys_make(&t, i == 0, false, &k);
        make(&k, k.ak_name, k.ak_name_len, secret, sizeof(secret), &b1, &e1);
        make(&k, k.ak_name, k.ak_name_len, secret, sizeof(secret), &b2, &e2);
        assert_int_equal(b1.len, b2.len);
        assert_int_equal(e1.len, e2.len);
        assert_memory_not_equal(b1.data, b2.data, b1.len);
        assert_memory_not_equal(e1.data, e2.data, e1.len);
        att_buf_cleanup(&b1);
        att_buf_cleanup(&e1);
        att_buf_cleanup(&b2);
        att_buf_cleanup(&e2);
        keys_free(&t, &k);
        tpm_close(&t);
    }
}

/* Flush every loaded session with raw SAPI calls (ESAPI cannot name another context's). */
static void flush_all_sessions(void)
{
    struct tpm t;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TSS2_SYS_CONTEXT *sys = NULL;
    TPMI_YES_NO more;
    UINT32 i;

    tpm_open(&t);
    assert_int_equal(Esys_GetCapability(t.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_HANDLES, HANDLE_LOADED_SESSION_FIRST, 64, &more,
                                        &cap),
                     TSS2_RC_SUCCESS);
    assert_int_equal(Esys_GetSysContext(t.esys, &sys), TSS2_RC_SUCCESS);
    for (i = 0; i < cap->data.handles.count; i++) {
        (void)Tss2_Sys_FlushContext(sys, cap->data.handles.handle[i]);
    }
    Esys_Free(cap);
    tpm_close(&t);
}

/* att_tpm with the EK of alg and an AK (state_dir), and a credential for them. */
static struct att_tpm *agent_setup(enum att_key_alg alg, const uint8_t *secret, size_t secret_len,
                                   struct att_buf *blob, struct att_buf *enc)
{
    struct att_tpm *tpm = NULL;
    struct att_buf ek_pub;
    struct att_buf ak_pub;
    uint8_t name[ATT_TPM_NAME_MAX];
    size_t name_len = sizeof(name);

    att_buf_init(&ek_pub, BUF_MAX);
    att_buf_init(&ak_pub, BUF_MAX);
    att_buf_init(blob, BUF_MAX);
    att_buf_init(enc, BUF_MAX);
    assert_int_equal(att_tpm_open(tcti(), &tpm), ATT_OK);
    assert_int_equal(att_tpm_ek_create(tpm, alg, &ek_pub), ATT_OK);
    assert_int_equal(att_tpm_ak_load_or_create(tpm, state_dir, alg, &ak_pub), ATT_OK);
    assert_int_equal(att_tpm_public_name(ak_pub.data, ak_pub.len, name, &name_len), ATT_OK);
    assert_int_equal(
        att_make_credential(ek_pub.data, ek_pub.len, name, name_len, secret, secret_len, blob, enc),
        ATT_OK);
    att_buf_cleanup(&ek_pub);
    att_buf_cleanup(&ak_pub);
    return tpm;
}

/* The agent's path: att_tpm makes the EK and AK and runs the activation. */
static void agent_roundtrip(enum att_key_alg alg)
{
    struct att_tpm *tpm = NULL;
    struct att_buf blob;
    struct att_buf enc;
    struct att_buf got;
    uint8_t secret[32];

    assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
    att_buf_init(&got, BUF_MAX);
    tpm = agent_setup(alg, secret, sizeof(secret), &blob, &enc);
    /* Malformed blobs stop before the TPM. */
    assert_int_equal(
        att_tpm_activate_credential(tpm, blob.data, blob.len - 1, enc.data, enc.len, &got),
        ATT_ERR_PARSE);
    assert_int_equal(
        att_tpm_activate_credential(tpm, blob.data, blob.len, enc.data, enc.len + 1, &got),
        ATT_ERR_PARSE);
    assert_int_equal(got.len, 0);
    assert_int_equal(att_tpm_activate_credential(tpm, blob.data, blob.len, enc.data, enc.len, &got),
                     ATT_OK);
    assert_int_equal(got.len, sizeof(secret));
    assert_memory_equal(got.data, secret, sizeof(secret));
    att_tpm_free(tpm);
    assert_int_equal(count_handles(HANDLE_TRANSIENT_FIRST), 0);
    assert_int_equal(count_handles(HANDLE_LOADED_SESSION_FIRST), 0);
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);
    att_buf_cleanup(&got);
}

static void test_activate_credential_att_tpm_rsa(void **state)
{
    (void)state;
    agent_roundtrip(ATT_KEY_RSA);
}

static void test_activate_credential_att_tpm_ecc(void **state)
{
    (void)state;
    agent_roundtrip(ATT_KEY_ECC);
}

/*
 * A refused activation (wrong blob from a buggy or hostile verifier) must
 * not leave its policy session loaded: swtpm has no resource manager and
 * three session slots, so a few failures would stop every later command
 * that needs the EK (AK load, activation) until the TPM is reset.
 */
static void test_activate_credential_att_tpm_failures_leak_nothing(void **state)
{
    struct att_tpm *tpm = NULL;
    struct att_buf blob;
    struct att_buf enc;
    struct att_buf got;
    uint8_t secret[32] = {0x42};
    UINT32 leaked;
    int i;

    (void)state;
    att_buf_init(&got, BUF_MAX);
    tpm = agent_setup(ATT_KEY_ECC, secret, sizeof(secret), &blob, &enc);
    blob.data[blob.len - 1] ^= 0x80;
    for (i = 0; i < 2; i++) {
        assert_int_equal(
            att_tpm_activate_credential(tpm, blob.data, blob.len, enc.data, enc.len, &got),
            ATT_ERR_TPM);
        assert_true(is_tpm_rc(att_tpm_last_rc(tpm), TPM2_RC_INTEGRITY));
    }
    att_tpm_free(tpm);
    leaked = count_handles(HANDLE_LOADED_SESSION_FIRST);
    flush_all_sessions(); /* whatever the verdict, leave a clean TPM to the next test */
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);
    att_buf_cleanup(&got);
    if (leaked != 0) {
        fail_msg("%u policy session(s) left loaded after 2 failed att_tpm_activate_credential() "
                 "calls: common/src/tpm/tpm.c must flush the session when "
                 "Esys_ActivateCredential fails",
                 (unsigned)leaked);
    }
}

/* The rig's platform certificate of host-1 (read back from NV by the rig), as DER. */
static void platform_cert_der(struct att_buf *der)
{
    const char *rig = getenv("ATT_TEST_RIG");
    char path[512];
    unsigned char *p = NULL;
    BIO *bio = NULL;
    X509 *x = NULL;
    int n;

    assert_non_null(rig);
    assert_true(snprintf(path, sizeof(path), "%s/host-1/platform.pem", rig) < (int)sizeof(path));
    bio = BIO_new_file(path, "r");
    assert_non_null(bio);
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(x);
    n = i2d_X509(x, &p);
    assert_true(n > 0);
    att_buf_init(der, 8192);
    assert_int_equal(att_buf_append(der, p, (size_t)n), ATT_OK);
    OPENSSL_free(p);
    X509_free(x);
    BIO_free(bio);
}

/* swtpm's EK certificates from NV verify against the rig's CA, for the template EK only. */
static void swtpm_cert(enum att_key_alg alg)
{
    const char *ca = getenv("ATT_TEST_CA");
    struct att_tpm *tpm = NULL;
    struct att_ek_trust *trust = NULL;
    struct att_buf cert;
    struct att_buf ek_pub;
    struct att_buf other_pub;
    char path[512];
    char why[WHY_LEN];

    assert_non_null(ca);
    att_buf_init(&cert, 8192);
    att_buf_init(&ek_pub, BUF_MAX);
    att_buf_init(&other_pub, BUF_MAX);
    assert_int_equal(att_tpm_open(tcti(), &tpm), ATT_OK);
    assert_int_equal(att_tpm_read_ek_cert(tpm, alg, &cert), ATT_OK);
    assert_int_equal(att_tpm_ek_create(tpm, alg, &ek_pub), ATT_OK);
    assert_int_equal(
        att_tpm_ek_create(tpm, alg == ATT_KEY_RSA ? ATT_KEY_ECC : ATT_KEY_RSA, &other_pub), ATT_OK);
    att_tpm_free(tpm);

    /* The whole CA directory (root, intermediate, chain, and swtpm's keys, which are skipped). */
    assert_int_equal(att_ek_trust_new(&trust), ATT_OK);
    assert_int_equal(att_ek_trust_add(trust, ca), ATT_OK);
    assert_int_equal(
        att_ek_cert_verify(trust, cert.data, cert.len, ek_pub.data, ek_pub.len, why, sizeof(why)),
        ATT_OK);
    assert_int_equal(att_ek_cert_verify(trust, cert.data, cert.len, other_pub.data, other_pub.len,
                                        why, sizeof(why)),
                     ATT_ERR_VERIFY);

    /*
     * swtpm's platform certificate certifies the same RSA key under the same
     * CA, but for tcg-kp-PlatformCertificate: it is no EK certificate.
     */
    if (alg == ATT_KEY_RSA) {
        struct att_buf platform;

        platform_cert_der(&platform);
        assert_int_equal(att_ek_cert_verify(trust, platform.data, platform.len, ek_pub.data,
                                            ek_pub.len, why, sizeof(why)),
                         ATT_ERR_VERIFY);
        assert_non_null(strstr(why, "tcg-kp-EKCertificate"));
        att_buf_cleanup(&platform);
    }
    att_ek_trust_free(trust);

    /* chain.pem alone. */
    assert_true(snprintf(path, sizeof(path), "%s/chain.pem", ca) < (int)sizeof(path));
    assert_int_equal(att_ek_trust_new(&trust), ATT_OK);
    assert_int_equal(att_ek_trust_add(trust, path), ATT_OK);
    assert_int_equal(
        att_ek_cert_verify(trust, cert.data, cert.len, ek_pub.data, ek_pub.len, why, sizeof(why)),
        ATT_OK);
    att_ek_trust_free(trust);

    /* root.pem alone: the intermediate that issued the EK certificate is missing. */
    assert_true(snprintf(path, sizeof(path), "%s/root.pem", ca) < (int)sizeof(path));
    assert_int_equal(att_ek_trust_new(&trust), ATT_OK);
    assert_int_equal(att_ek_trust_add(trust, path), ATT_OK);
    assert_int_equal(
        att_ek_cert_verify(trust, cert.data, cert.len, ek_pub.data, ek_pub.len, why, sizeof(why)),
        ATT_ERR_VERIFY);
    assert_string_equal(why, "unable to get local issuer certificate (depth 0)");
    att_ek_trust_free(trust);

    att_buf_cleanup(&cert);
    att_buf_cleanup(&ek_pub);
    att_buf_cleanup(&other_pub);
}

static void test_ek_cert_swtpm_rsa(void **state)
{
    (void)state;
    swtpm_cert(ATT_KEY_RSA);
}

static void test_ek_cert_swtpm_ecc(void **state)
{
    (void)state;
    swtpm_cert(ATT_KEY_ECC);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(state_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    const char *names[] = {"ak-ecc.pub", "ak-ecc.priv", "ak-rsa.pub", "ak-rsa.priv"};
    char path[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        (void)snprintf(path, sizeof(path), "%s/%s", state_dir, names[i]);
        (void)unlink(path);
    }
    (void)rmdir(state_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_credential_rsa_ek_roundtrip),
        cmocka_unit_test(test_make_credential_ecc_ek_roundtrip),
        cmocka_unit_test(test_make_credential_wrong_ak_name),
        cmocka_unit_test(test_make_credential_other_ek),
        cmocka_unit_test(test_make_credential_bit_flips_rsa_ek),
        cmocka_unit_test(test_make_credential_bit_flips_ecc_ek),
        cmocka_unit_test(test_make_credential_bad_args),
        cmocka_unit_test(test_make_credential_fresh_seed),
        cmocka_unit_test(test_activate_credential_att_tpm_rsa),
        cmocka_unit_test(test_activate_credential_att_tpm_ecc),
        cmocka_unit_test(test_ek_cert_swtpm_rsa),
        cmocka_unit_test(test_ek_cert_swtpm_ecc),
        cmocka_unit_test(test_activate_credential_att_tpm_failures_leak_nothing),
    };

    (void)setenv("TSS2_LOG", "all+none", 0);
    return cmocka_run_group_tests(tests, setup, teardown);
}
