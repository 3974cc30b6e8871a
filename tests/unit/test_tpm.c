/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/tpm against a real swtpm (ctest runs this through
 * tests/integration/with-swtpm.sh, which sets ATT_TEST_TCTI). No mocks: EK
 * certificates from NV, EK public == certificate key, AK persisted across
 * contexts, extend/read/quote verified with our OpenSSL code, nothing leaked
 * in the TPM, stale objects of a "crashed" process flushed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "attest/digest.h"
#include "attest/pcrs.h"
#include "attest/quote.h"
#include "attest/tpm.h"
#include "attest/util.h"

static const char *tcti(void)
{
    const char *t = getenv("ATT_TEST_TCTI");

    if (t == NULL) {
        fail_msg("ATT_TEST_TCTI is not set: run through tests/integration/with-swtpm.sh");
    }
    return t;
}

static char state_dir[] = "/tmp/att-test-tpm.XXXXXX";

/* Count transient objects in the TPM with a separate raw ESAPI context. */
static UINT32 count_transients(void)
{
    TSS2_TCTI_CONTEXT *tc = NULL;
    ESYS_CONTEXT *e = NULL;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    UINT32 n;

    assert_int_equal(Tss2_TctiLdr_Initialize(tcti(), &tc), TSS2_RC_SUCCESS);
    assert_int_equal(Esys_Initialize(&e, tc, NULL), TSS2_RC_SUCCESS);
    assert_int_equal(Esys_GetCapability(e, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                        TPM2_CAP_HANDLES, 0x80000000u, 64, &more, &cap),
                     TSS2_RC_SUCCESS);
    n = cap->data.handles.count;
    Esys_Free(cap);
    Esys_Finalize(&e);
    Tss2_TctiLdr_Finalize(&tc);
    return n;
}

static void test_tpm_open_bad_args(void **state)
{
    struct att_tpm *t = NULL;

    (void)state;
    assert_int_equal(att_tpm_open(NULL, &t), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_tpm_open("", &t), ATT_ERR_INVALID_ARG);
    assert_int_not_equal(att_tpm_open("nosuchtcti:foo", &t), ATT_OK);
    assert_null(t);
    /* A port nobody listens on: a TPM error, not a crash or a hang. */
    assert_int_not_equal(att_tpm_open("swtpm:host=127.0.0.1,port=1", &t), ATT_OK);
    assert_null(t);
    att_tpm_free(NULL);
}

static void test_key_alg_parse(void **state)
{
    enum att_key_alg a;

    (void)state;
    assert_int_equal(att_key_alg_parse("ecc", &a), ATT_OK);
    assert_int_equal(a, ATT_KEY_ECC);
    assert_int_equal(att_key_alg_parse("rsa", &a), ATT_OK);
    assert_int_equal(a, ATT_KEY_RSA);
    assert_int_equal(att_key_alg_parse("dsa", &a), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_key_alg_parse(NULL, &a), ATT_ERR_INVALID_ARG);
    assert_string_equal(att_key_alg_str(ATT_KEY_RSA), "rsa");
}

/* The EK made from the TCG template must be the key the NV certificate certifies. */
static void check_ek_matches_cert(enum att_key_alg alg)
{
    struct att_tpm *t = NULL;
    struct att_buf cert;
    struct att_buf pub;
    struct att_buf pem;
    const unsigned char *p;
    X509 *x = NULL;
    EVP_PKEY *ek = NULL;
    BIO *bio = NULL;

    att_buf_init(&cert, 8192);
    att_buf_init(&pub, 4096);
    att_buf_init(&pem, 8192);
    assert_int_equal(att_tpm_open(tcti(), &t), ATT_OK);
    assert_int_equal(att_tpm_read_ek_cert(t, alg, &cert), ATT_OK);
    assert_true(cert.len > 100);
    assert_int_equal(att_tpm_ek_create(t, alg, &pub), ATT_OK);
    assert_int_equal(att_tpm_public_to_pem(pub.data, pub.len, &pem), ATT_OK);
    p = cert.data;
    x = d2i_X509(NULL, &p, (long)cert.len);
    assert_non_null(x);
    bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    ek = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    assert_non_null(ek);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), ek), 1);
    EVP_PKEY_free(ek);
    BIO_free(bio);
    X509_free(x);
    att_tpm_free(t);
    att_buf_cleanup(&cert);
    att_buf_cleanup(&pub);
    att_buf_cleanup(&pem);
}

static void test_tpm_ek_rsa_matches_cert(void **state)
{
    (void)state;
    check_ek_matches_cert(ATT_KEY_RSA);
    assert_int_equal(count_transients(), 0);
}

static void test_tpm_ek_ecc_matches_cert(void **state)
{
    (void)state;
    check_ek_matches_cert(ATT_KEY_ECC);
    assert_int_equal(count_transients(), 0);
}

/* Load or create an AK under the @p ek EK; returns its public part. */
static att_rc make_ak(enum att_key_alg ek, enum att_key_alg ak, struct att_buf *pub,
                      struct att_tpm **keep)
{
    struct att_tpm *t = NULL;
    struct att_buf ekpub;
    att_rc rc;

    att_buf_init(&ekpub, 4096);
    assert_int_equal(att_tpm_open(tcti(), &t), ATT_OK);
    assert_int_equal(att_tpm_ek_create(t, ek, &ekpub), ATT_OK);
    rc = att_tpm_ak_load_or_create(t, state_dir, ak, pub);
    att_buf_cleanup(&ekpub);
    if (keep != NULL && rc == ATT_OK) {
        *keep = t;
    } else {
        att_tpm_free(t);
    }
    return rc;
}

static void test_tpm_ak_persists(void **state)
{
    struct att_buf a;
    struct att_buf b;
    char path[256];
    struct stat st;
    enum att_key_alg algs[2] = {ATT_KEY_ECC, ATT_KEY_RSA};
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        char why[256] = "";

        att_buf_init(&a, 4096);
        att_buf_init(&b, 4096);
        assert_int_equal(make_ak(ATT_KEY_RSA, algs[i], &a, NULL), ATT_OK);
        (void)snprintf(path, sizeof(path), "%s/ak-%s.priv", state_dir, att_key_alg_str(algs[i]));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        /* A second process loads the same key instead of making a new one. */
        assert_int_equal(make_ak(ATT_KEY_RSA, algs[i], &b, NULL), ATT_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        assert_int_equal(att_tpm_public_check_ak(a.data, a.len, why, sizeof(why)), ATT_OK);
        att_buf_cleanup(&a);
        att_buf_cleanup(&b);
    }
    assert_int_equal(count_transients(), 0);
}

static void test_tpm_ak_under_other_ek_refused(void **state)
{
    struct att_buf a;
    struct att_tpm *t = NULL;

    (void)state;
    att_buf_init(&a, 4096);
    assert_int_equal(make_ak(ATT_KEY_RSA, ATT_KEY_ECC, &a, NULL), ATT_OK);
    att_buf_reset(&a);
    /* The AK blob was wrapped by the RSA EK: the ECC EK cannot load it. */
    assert_int_equal(make_ak(ATT_KEY_ECC, ATT_KEY_ECC, &a, &t), ATT_ERR_TPM);
    assert_null(t);
    att_buf_cleanup(&a);
    assert_int_equal(count_transients(), 0);
}

static void test_tpm_ak_corrupt_file(void **state)
{
    char dir[] = "/tmp/att-test-tpm-bad.XXXXXX";
    char path[256];
    struct att_tpm *t = NULL;
    struct att_buf ekpub;
    struct att_buf pub;

    (void)state;
    att_buf_init(&ekpub, 4096);
    att_buf_init(&pub, 4096);
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/ak-ecc.pub", dir);
    assert_int_equal(att_file_write_atomic(path, "\x00\x05garbage", 9), ATT_OK);
    assert_int_equal(att_tpm_open(tcti(), &t), ATT_OK);
    assert_int_equal(att_tpm_ek_create(t, ATT_KEY_RSA, &ekpub), ATT_OK);
    assert_int_equal(att_tpm_ak_load_or_create(t, dir, ATT_KEY_ECC, &pub), ATT_ERR_PARSE);
    /* No AK without an EK first. */
    att_tpm_free(t);
    t = NULL;
    assert_int_equal(att_tpm_open(tcti(), &t), ATT_OK);
    assert_int_equal(att_tpm_ak_load_or_create(t, state_dir, ATT_KEY_ECC, &pub),
                     ATT_ERR_INVALID_ARG);
    att_tpm_free(t);
    (void)unlink(path);
    (void)rmdir(dir);
    att_buf_cleanup(&ekpub);
    att_buf_cleanup(&pub);
}

static void test_tpm_extend_read_quote(void **state)
{
    struct att_tpm *t = NULL;
    struct att_buf akpub;
    struct att_buf attest;
    struct att_buf sig;
    struct att_pcrs before;
    struct att_pcrs after;
    struct att_pcrs quoted;
    struct att_quote_info info;
    uint8_t d[ATT_SHA256_LEN];
    uint8_t expect[ATT_SHA256_LEN];
    uint8_t nonce[32];
    char why[256] = "";

    (void)state;
    att_buf_init(&akpub, 4096);
    att_buf_init(&attest, 4096);
    att_buf_init(&sig, 4096);
    assert_int_equal(make_ak(ATT_KEY_RSA, ATT_KEY_ECC, &akpub, &t), ATT_OK);
    assert_int_equal(att_tpm_pcr_read(t, ATT_PCR_ALL_MASK, &before), ATT_OK);
    assert_int_equal(before.mask, ATT_PCR_ALL_MASK);
    assert_int_equal(att_sha256("x", 1, d), ATT_OK);
    assert_int_equal(att_tpm_pcr_extend(t, 14, NULL, d), ATT_OK);
    memcpy(expect, before.value[14], sizeof(expect));
    assert_int_equal(att_pcr_extend_sha256(expect, d), ATT_OK);
    assert_int_equal(att_tpm_pcr_read(t, 1u << 14, &after), ATT_OK);
    assert_int_equal(after.mask, 1u << 14);
    assert_memory_equal(after.value[14], expect, sizeof(expect));

    assert_int_equal(att_random_bytes(nonce, sizeof(nonce)), ATT_OK);
    assert_int_equal(att_tpm_quote(t, nonce, sizeof(nonce), ATT_PCR_ALL_MASK, &attest, &sig,
                                   &quoted),
                     ATT_OK);
    assert_memory_equal(quoted.value[14], expect, sizeof(expect));
    assert_int_equal(att_quote_verify(akpub.data, akpub.len, attest.data, attest.len, sig.data,
                                      sig.len, nonce, sizeof(nonce), &quoted, &info, why,
                                      sizeof(why)),
                     ATT_OK);
    assert_int_equal(info.pcr_mask, ATT_PCR_ALL_MASK);
    nonce[0] ^= 1;
    assert_int_equal(att_quote_verify(akpub.data, akpub.len, attest.data, attest.len, sig.data,
                                      sig.len, nonce, sizeof(nonce), &quoted, &info, why,
                                      sizeof(why)),
                     ATT_ERR_VERIFY);
    /* Bad arguments are refused, not sent to the TPM. */
    assert_int_equal(att_tpm_pcr_extend(t, 24, NULL, d), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_tpm_pcr_read(t, 0, &after), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_tpm_pcr_read(t, 1u << 24, &after), ATT_ERR_INVALID_ARG);
    att_tpm_free(t);
    assert_int_equal(count_transients(), 0);
    att_buf_cleanup(&akpub);
    att_buf_cleanup(&attest);
    att_buf_cleanup(&sig);
}

static void test_tpm_clock(void **state)
{
    struct att_tpm *t = NULL;
    uint32_t reset = 0;
    uint32_t restart = 0;

    (void)state;
    assert_int_equal(att_tpm_open(tcti(), &t), ATT_OK);
    assert_int_equal(att_tpm_clock(t, &reset, &restart), ATT_OK);
    assert_int_equal(att_tpm_clock(NULL, &reset, &restart), ATT_ERR_INVALID_ARG);
    att_tpm_free(t);
}

/* A process that dies leaves its transient objects in a TPM without a
 * resource manager; the next agent flushes them. */
static void test_tpm_flush_stale(void **state)
{
    TSS2_TCTI_CONTEXT *tc = NULL;
    ESYS_CONTEXT *e = NULL;
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    ESYS_TR h = ESYS_TR_NONE;
    struct att_tpm *t = NULL;

    (void)state;
    tmpl.publicArea.type = TPM2_ALG_ECC;
    tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
    tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_SIGN_ENCRYPT;
    tmpl.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    assert_int_equal(Tss2_TctiLdr_Initialize(tcti(), &tc), TSS2_RC_SUCCESS);
    assert_int_equal(Esys_Initialize(&e, tc, NULL), TSS2_RC_SUCCESS);
    assert_int_equal(Esys_CreatePrimary(e, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                        ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, &h, NULL,
                                        NULL, NULL, NULL),
                     TSS2_RC_SUCCESS);
    /* "Crash": drop the connection without flushing. */
    Esys_Finalize(&e);
    Tss2_TctiLdr_Finalize(&tc);
    assert_int_equal(count_transients(), 1);
    assert_int_equal(att_tpm_open(tcti(), &t), ATT_OK);
    assert_int_equal(att_tpm_flush_stale(t), ATT_OK);
    att_tpm_free(t);
    assert_int_equal(count_transients(), 0);
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
        cmocka_unit_test(test_tpm_open_bad_args),
        cmocka_unit_test(test_key_alg_parse),
        cmocka_unit_test(test_tpm_ek_rsa_matches_cert),
        cmocka_unit_test(test_tpm_ek_ecc_matches_cert),
        cmocka_unit_test(test_tpm_ak_persists),
        cmocka_unit_test(test_tpm_ak_under_other_ek_refused),
        cmocka_unit_test(test_tpm_ak_corrupt_file),
        cmocka_unit_test(test_tpm_extend_read_quote),
        cmocka_unit_test(test_tpm_clock),
        cmocka_unit_test(test_tpm_flush_stale),
    };

    (void)setenv("TSS2_LOG", "all+none", 0);
    return cmocka_run_group_tests(tests, setup, teardown);
}
