/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The EK trust store and att_ek_cert_verify() without a TPM: the test makes
 * its own CA hierarchy and "EKs" (software keys wrapped in a TCG EK public
 * area) with OpenSSL, in a temporary directory. Covers a good chain (RSA and
 * ECC EK, with swtpm-like extensions), every rejection the header promises
 * (untrusted CA, expired, self-signed, key mismatch, signing EK, malformed
 * DER, empty store), the TCG critical-extension leeway, every bit of a
 * certificate flipped, and att_ek_trust_add() on files and directories.
 * The real swtpm EK certificates are checked in test_tpm_credential.c.
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

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/buf.h"
#include "attest/credential.h"
#include "attest/util.h"

#define WHY_LEN 256
#define DAY     (24L * 60L * 60L)

#define EK_ATTRS                                                                                   \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |            \
     TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

/* Kinds of certificate make_cert() issues. */
enum kind { KIND_CA, KIND_EK };

/* Extra extensions for make_cert(). */
enum extra {
    EXTRA_NONE,
    EXTRA_SDA_CRITICAL,     /* subjectDirectoryAttributes marked critical */
    EXTRA_UNKNOWN_CRITICAL, /* a critical extension nobody knows */
    EXTRA_NO_EKU,           /* no extendedKeyUsage at all */
    EXTRA_PLATFORM_EKU,     /* tcg-kp-PlatformCertificate instead of tcg-kp-EKCertificate */
    EXTRA_ANY_EKU,          /* anyExtendedKeyUsage */
};

/* The fixture, made once for all tests. */
static struct {
    char dir[64];   /* trust directory: root.pem, intermediate.pem, key.pem, notes.txt */
    char files[64]; /* other files: chain.pem, empty.pem, keyonly.pem, corrupt.pem, ... */
    EVP_PKEY *root_key;
    EVP_PKEY *int_key;
    EVP_PKEY *other_key; /* an untrusted CA */
    EVP_PKEY *ek_rsa;
    EVP_PKEY *ek_ecc;
    EVP_PKEY *ek_ecc2;
    X509 *root;
    X509 *intermediate;
    X509 *other_root;
    struct att_buf pub_rsa; /* marshalled TPM2B_PUBLIC of ek_rsa */
    struct att_buf pub_ecc;
    struct att_buf pub_ecc2;
    struct att_buf cert_rsa; /* DER, issued by intermediate */
    struct att_buf cert_ecc;
} fx;

/* TCG EK Credential Profile: PolicySecret(TPM_RH_ENDORSEMENT) with sha256. */
static const uint8_t ek_policy_a[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

/*
 * subjectDirectoryAttributes as TCG EK certificates carry it: one Attribute
 * tpmSpecification (2.23.133.2.16) = { "2.0", 0, 164 }.
 */
static const uint8_t sda_value[] = {0x30, 0x19, 0x30, 0x17, 0x06, 0x05, 0x67, 0x81, 0x05,
                                    0x02, 0x10, 0x31, 0x0e, 0x30, 0x0c, 0x0c, 0x03, 0x32,
                                    0x2e, 0x30, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0xa4};

static EVP_PKEY *gen_key(bool rsa)
{
    EVP_PKEY *k = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                      : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    assert_non_null(k);
    return k;
}

/* Marshalled TPM2B_PUBLIC of an EK (TCG template L-1 / L-2) holding the public part of k. */
static void ek_pub_of(EVP_PKEY *k, TPMA_OBJECT attrs, struct att_buf *out)
{
    TPM2B_PUBLIC pub;
    BIGNUM *bn = NULL;
    uint8_t tmp[sizeof(TPM2B_PUBLIC)];
    size_t off = 0;

    memset(&pub, 0, sizeof(pub));
    pub.publicArea.nameAlg = TPM2_ALG_SHA256;
    pub.publicArea.objectAttributes = attrs;
    pub.publicArea.authPolicy.size = sizeof(ek_policy_a);
    memcpy(pub.publicArea.authPolicy.buffer, ek_policy_a, sizeof(ek_policy_a));
    if (EVP_PKEY_is_a(k, "RSA")) {
        TPMS_RSA_PARMS *p = &pub.publicArea.parameters.rsaDetail;

        pub.publicArea.type = TPM2_ALG_RSA;
        p->symmetric.algorithm = TPM2_ALG_AES;
        p->symmetric.keyBits.aes = 128;
        p->symmetric.mode.aes = TPM2_ALG_CFB;
        p->scheme.scheme = TPM2_ALG_NULL;
        p->keyBits = 2048;
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
        assert_int_equal(BN_bn2binpad(bn, pub.publicArea.unique.rsa.buffer, 256), 256);
        pub.publicArea.unique.rsa.size = 256;
    } else {
        TPMS_ECC_PARMS *p = &pub.publicArea.parameters.eccDetail;

        pub.publicArea.type = TPM2_ALG_ECC;
        p->symmetric.algorithm = TPM2_ALG_AES;
        p->symmetric.keyBits.aes = 128;
        p->symmetric.mode.aes = TPM2_ALG_CFB;
        p->scheme.scheme = TPM2_ALG_NULL;
        p->curveID = TPM2_ECC_NIST_P256;
        p->kdf.scheme = TPM2_ALG_NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bn), 1);
        assert_int_equal(BN_bn2binpad(bn, pub.publicArea.unique.ecc.x.buffer, 32), 32);
        BN_free(bn);
        bn = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &bn), 1);
        assert_int_equal(BN_bn2binpad(bn, pub.publicArea.unique.ecc.y.buffer, 32), 32);
        pub.publicArea.unique.ecc.x.size = 32;
        pub.publicArea.unique.ecc.y.size = 32;
    }
    BN_free(bn);
    assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, tmp, sizeof(tmp), &off), TSS2_RC_SUCCESS);
    att_buf_init(out, sizeof(tmp));
    assert_int_equal(att_buf_append(out, tmp, off), ATT_OK);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* An extension from raw DER bytes, by OID text. */
static void add_raw_ext(X509 *x, const char *oid, bool critical, const uint8_t *der, size_t len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext;

    assert_non_null(obj);
    assert_non_null(os);
    assert_int_equal(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical ? 1 : 0, os);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
}

/*
 * subjectAltName, critical, one directoryName with the TCG TPM manufacturer
 * attributes, as swtpm and hardware TPM vendors write it (EK profile §3.2.9).
 */
static void add_tpm_san(X509 *x)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    X509_NAME *dn = X509_NAME_new();

    assert_non_null(gens);
    assert_non_null(gn);
    assert_non_null(dn);
    assert_int_equal(X509_NAME_add_entry_by_txt(dn, "2.23.133.2.1", MBSTRING_ASC,
                                                (const unsigned char *)"id:00001014", -1, -1, 0),
                     1);
    assert_int_equal(X509_NAME_add_entry_by_txt(dn, "2.23.133.2.2", MBSTRING_ASC,
                                                (const unsigned char *)"swtpm", -1, -1, 0),
                     1);
    assert_int_equal(X509_NAME_add_entry_by_txt(dn, "2.23.133.2.3", MBSTRING_ASC,
                                                (const unsigned char *)"id:20191023", -1, -1, 0),
                     1);
    GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
    assert_int_equal(sk_GENERAL_NAME_push(gens, gn), 1);
    assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 1, X509V3_ADD_DEFAULT), 1);
    GENERAL_NAMES_free(gens);
}

/*
 * Issue a certificate for key, signed by issuer_key (issuer NULL: self-signed),
 * valid from now+nb to now+na seconds.
 */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       enum kind kind, long nb, long na, enum extra extra)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    static const uint8_t der_null[] = {0x05, 0x00};

    assert_non_null(x);
    assert_non_null(name);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0),
        1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_int_equal(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name),
                     1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), nb));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), na));
    assert_int_equal(X509_set_pubkey(x, key), 1);
    if (kind == KIND_CA) {
        add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer != NULL ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
                EVP_PKEY_is_a(key, "RSA") ? "critical,keyEncipherment" : "critical,keyAgreement");
        if (extra == EXTRA_PLATFORM_EKU) {
            add_ext(x, issuer != NULL ? issuer : x, NID_ext_key_usage, "2.23.133.8.2");
        } else if (extra == EXTRA_ANY_EKU) {
            add_ext(x, issuer != NULL ? issuer : x, NID_ext_key_usage, "anyExtendedKeyUsage");
        } else if (extra != EXTRA_NO_EKU) {
            add_ext(x, issuer != NULL ? issuer : x, NID_ext_key_usage, "2.23.133.8.1");
        }
        add_tpm_san(x);
        add_raw_ext(x, "2.5.29.9", extra == EXTRA_SDA_CRITICAL, sda_value, sizeof(sda_value));
    }
    if (issuer != NULL) {
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    }
    if (extra == EXTRA_UNKNOWN_CRITICAL) {
        add_raw_ext(x, "1.3.6.1.4.1.99999.1", true, der_null, sizeof(der_null));
    }
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return x;
}

static void der_of(X509 *x, struct att_buf *out)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);

    assert_true(n > 0);
    att_buf_init(out, (size_t)64 * 1024);
    assert_int_equal(att_buf_append(out, der, (size_t)n), ATT_OK);
    OPENSSL_free(der);
}

static void path_in(const char *dir, const char *name, char *out, size_t len)
{
    assert_true(snprintf(out, len, "%s/%s", dir, name) < (int)len);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[256];

    path_in(dir, name, path, sizeof(path));
    assert_int_equal(att_file_write_atomic(path, text, strlen(text)), ATT_OK);
}

/* Write certificates (and optionally a private key) as PEM to dir/name. */
static void write_pem(const char *dir, const char *name, X509 *a, X509 *b, EVP_PKEY *key)
{
    char path[256];
    FILE *f;

    path_in(dir, name, path, sizeof(path));
    f = fopen(path, "w");
    assert_non_null(f);
    if (key != NULL) {
        assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    }
    if (a != NULL) {
        assert_int_equal(PEM_write_X509(f, a), 1);
    }
    if (b != NULL) {
        assert_int_equal(PEM_write_X509(f, b), 1);
    }
    assert_int_equal(fclose(f), 0);
}

static void remove_in(const char *dir, const char *name)
{
    char path[256];

    path_in(dir, name, path, sizeof(path));
    (void)unlink(path);
}

static int setup(void **state)
{
    X509 *ek;
    char corrupt[4096];
    char *p;

    (void)state;
    (void)snprintf(fx.dir, sizeof(fx.dir), "%s", "/tmp/att-test-ekcert.XXXXXX");
    (void)snprintf(fx.files, sizeof(fx.files), "%s", "/tmp/att-test-ekfiles.XXXXXX");
    if (mkdtemp(fx.dir) == NULL || mkdtemp(fx.files) == NULL) {
        return -1;
    }
    fx.root_key = gen_key(false);
    fx.int_key = gen_key(false);
    fx.other_key = gen_key(false);
    fx.ek_rsa = gen_key(true);
    fx.ek_ecc = gen_key(false);
    fx.ek_ecc2 = gen_key(false);
    fx.root = make_cert("test EK root", fx.root_key, NULL, fx.root_key, KIND_CA, -DAY, 3650 * DAY,
                        EXTRA_NONE);
    fx.intermediate = make_cert("test EK intermediate", fx.int_key, fx.root, fx.root_key, KIND_CA,
                                -DAY, 3650 * DAY, EXTRA_NONE);
    fx.other_root = make_cert("test EK root", fx.other_key, NULL, fx.other_key, KIND_CA, -DAY,
                              3650 * DAY, EXTRA_NONE);
    ek_pub_of(fx.ek_rsa, EK_ATTRS, &fx.pub_rsa);
    ek_pub_of(fx.ek_ecc, EK_ATTRS, &fx.pub_ecc);
    ek_pub_of(fx.ek_ecc2, EK_ATTRS, &fx.pub_ecc2);
    ek = make_cert("unknown", fx.ek_rsa, fx.intermediate, fx.int_key, KIND_EK, -60, 365 * DAY,
                   EXTRA_NONE);
    der_of(ek, &fx.cert_rsa);
    X509_free(ek);
    ek = make_cert("unknown", fx.ek_ecc, fx.intermediate, fx.int_key, KIND_EK, -60, 365 * DAY,
                   EXTRA_NONE);
    der_of(ek, &fx.cert_ecc);
    X509_free(ek);

    /* The trust directory, as swtpm's CA directory looks: certificates next to a key. */
    write_pem(fx.dir, "root.pem", fx.root, NULL, NULL);
    write_pem(fx.dir, "intermediate.crt", fx.intermediate, NULL, NULL);
    write_pem(fx.dir, "signkey.pem", NULL, NULL, fx.int_key);
    write_text(fx.dir, "notes.txt", "not a certificate\n");

    write_pem(fx.files, "chain.pem", fx.intermediate, fx.root, NULL);
    write_pem(fx.files, "root.pem", fx.root, NULL, NULL);
    write_pem(fx.files, "intermediate.pem", fx.intermediate, NULL, NULL);
    write_pem(fx.files, "other.pem", fx.other_root, NULL, NULL);
    write_pem(fx.files, "keyonly.pem", NULL, NULL, fx.root_key);
    write_pem(fx.files, "keythencert.pem", fx.root, NULL, fx.root_key);
    write_text(fx.files, "empty.pem", "");
    write_text(fx.files, "text.pem", "hello\n");
    /* A good certificate followed by one whose base64 is damaged. */
    (void)snprintf(
        corrupt, sizeof(corrupt), "%s",
        "-----BEGIN CERTIFICATE-----\nMIIB!!!!notbase64@@@@\n-----END CERTIFICATE-----\n");
    write_text(fx.files, "corrupt-only.pem", corrupt);
    {
        BIO *mem = BIO_new(BIO_s_mem());
        long n;

        assert_non_null(mem);
        assert_int_equal(PEM_write_bio_X509(mem, fx.root), 1);
        assert_true(BIO_write(mem, corrupt, (int)strlen(corrupt)) > 0);
        assert_int_equal(BIO_write(mem, "", 1), 1);
        n = BIO_get_mem_data(mem, &p);
        assert_true(n > 0);
        write_text(fx.files, "good-then-corrupt.pem", p);
        BIO_free(mem);
    }
    return 0;
}

static int teardown(void **state)
{
    static const char *const dir_files[] = {"root.pem", "intermediate.crt", "signkey.pem",
                                            "notes.txt"};
    static const char *const other_files[] = {
        "chain.pem",      "root.pem",         "intermediate.pem",
        "other.pem",      "keyonly.pem",      "empty.pem",
        "text.pem",       "corrupt-only.pem", "good-then-corrupt.pem",
        "keythencert.pem"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(dir_files) / sizeof(dir_files[0]); i++) {
        remove_in(fx.dir, dir_files[i]);
    }
    for (i = 0; i < sizeof(other_files) / sizeof(other_files[0]); i++) {
        remove_in(fx.files, other_files[i]);
    }
    (void)rmdir(fx.dir);
    (void)rmdir(fx.files);
    EVP_PKEY_free(fx.root_key);
    EVP_PKEY_free(fx.int_key);
    EVP_PKEY_free(fx.other_key);
    EVP_PKEY_free(fx.ek_rsa);
    EVP_PKEY_free(fx.ek_ecc);
    EVP_PKEY_free(fx.ek_ecc2);
    X509_free(fx.root);
    X509_free(fx.intermediate);
    X509_free(fx.other_root);
    att_buf_cleanup(&fx.pub_rsa);
    att_buf_cleanup(&fx.pub_ecc);
    att_buf_cleanup(&fx.pub_ecc2);
    att_buf_cleanup(&fx.cert_rsa);
    att_buf_cleanup(&fx.cert_ecc);
    return 0;
}

/* A store with the given file or directory (of fx.files when name has no '/'). */
static struct att_ek_trust *store_of(const char *name)
{
    struct att_ek_trust *t = NULL;
    char path[256];

    assert_int_equal(att_ek_trust_new(&t), ATT_OK);
    if (name != NULL) {
        if (strchr(name, '/') == NULL) {
            path_in(fx.files, name, path, sizeof(path));
        } else {
            (void)snprintf(path, sizeof(path), "%s", name);
        }
        assert_int_equal(att_ek_trust_add(t, path), ATT_OK);
    }
    return t;
}

static att_rc verify(const struct att_ek_trust *t, const struct att_buf *cert,
                     const struct att_buf *pub, char *why)
{
    return att_ek_cert_verify(t, cert->data, cert->len, pub->data, pub->len, why, WHY_LEN);
}

/* Issue an EK certificate for key with the given parameters and check it. */
static att_rc verify_issued(const struct att_ek_trust *t, EVP_PKEY *key, X509 *issuer,
                            EVP_PKEY *issuer_key, long nb, long na, enum extra extra,
                            const struct att_buf *pub, char *why)
{
    struct att_buf der;
    X509 *x = make_cert("unknown", key, issuer, issuer_key, KIND_EK, nb, na, extra);
    att_rc rc;

    der_of(x, &der);
    rc = verify(t, &der, pub, why);
    att_buf_cleanup(&der);
    X509_free(x);
    return rc;
}

static void test_ek_cert_verify_rsa_ok(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_rsa, why), ATT_OK);
    assert_string_equal(why, "");
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_ecc_ok(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify(t, &fx.cert_ecc, &fx.pub_ecc, why), ATT_OK);
    /* why is optional. */
    assert_int_equal(att_ek_cert_verify(t, fx.cert_ecc.data, fx.cert_ecc.len, fx.pub_ecc.data,
                                        fx.pub_ecc.len, NULL, 0),
                     ATT_OK);
    att_ek_trust_free(t);
}

/* One chain file, or root and intermediate added one by one, work the same. */
static void test_ek_cert_verify_chain_file_ok(void **state)
{
    struct att_ek_trust *t = store_of("chain.pem");
    char why[WHY_LEN];
    char path[256];

    (void)state;
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_rsa, why), ATT_OK);
    /* Adding the same certificates again is harmless. */
    path_in(fx.files, "root.pem", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_OK);
    assert_int_equal(verify(t, &fx.cert_ecc, &fx.pub_ecc, why), ATT_OK);
    att_ek_trust_free(t);

    t = store_of("root.pem");
    path_in(fx.files, "intermediate.pem", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_OK);
    assert_int_equal(verify(t, &fx.cert_ecc, &fx.pub_ecc, why), ATT_OK);
    att_ek_trust_free(t);
}

/* The intermediate alone is not a trust anchor: the chain must reach a root of the store. */
static void test_ek_cert_verify_intermediate_only(void **state)
{
    struct att_ek_trust *t = store_of("intermediate.pem");
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_rsa, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "issuer"));
    att_ek_trust_free(t);
}

/* Only the root: the intermediate is missing from the store, so no chain. */
static void test_ek_cert_verify_root_only(void **state)
{
    struct att_ek_trust *t = store_of("root.pem");
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_rsa, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "unable to get local issuer certificate"));
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_untrusted_ca(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    /* Same issuer name as the trusted root, different key. */
    assert_int_equal(verify_issued(t, fx.ek_ecc, fx.other_root, fx.other_key, -60, DAY, EXTRA_NONE,
                                   &fx.pub_ecc, why),
                     ATT_ERR_VERIFY);
    assert_string_not_equal(why, "");
    att_ek_trust_free(t);

    /* The other CA alone does not make our certificates valid either. */
    t = store_of("other.pem");
    assert_int_equal(verify(t, &fx.cert_ecc, &fx.pub_ecc, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "unable to get local issuer certificate"));
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_expired(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify_issued(t, fx.ek_ecc, fx.intermediate, fx.int_key, -2 * DAY, -DAY,
                                   EXTRA_NONE, &fx.pub_ecc, why),
                     ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "expired"));
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_not_yet_valid(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify_issued(t, fx.ek_ecc, fx.intermediate, fx.int_key, DAY, 2 * DAY,
                                   EXTRA_NONE, &fx.pub_ecc, why),
                     ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "not yet valid"));
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_self_signed(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(
        verify_issued(t, fx.ek_ecc, NULL, fx.ek_ecc, -60, DAY, EXTRA_NONE, &fx.pub_ecc, why),
        ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "self-signed"));
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_key_mismatch(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    /* Same type, other key. */
    assert_int_equal(verify(t, &fx.cert_ecc, &fx.pub_ecc2, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "not the EK public key"));
    /* Other type. */
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_ecc, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "not the EK public key"));
    assert_int_equal(verify(t, &fx.cert_ecc, &fx.pub_rsa, why), ATT_ERR_VERIFY);
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_ek_attributes(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    struct att_buf pub;
    char why[WHY_LEN];

    (void)state;
    /* A signing key is no EK, even with a valid certificate for its key. */
    ek_pub_of(fx.ek_ecc, EK_ATTRS | TPMA_OBJECT_SIGN_ENCRYPT, &pub);
    assert_int_equal(verify(t, &fx.cert_ecc, &pub, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "signing"));
    att_buf_cleanup(&pub);

    ek_pub_of(fx.ek_ecc, (EK_ATTRS & ~TPMA_OBJECT_DECRYPT) | TPMA_OBJECT_SIGN_ENCRYPT, &pub);
    assert_int_equal(verify(t, &fx.cert_ecc, &pub, why), ATT_ERR_VERIFY);
    att_buf_cleanup(&pub);

    ek_pub_of(fx.ek_rsa, EK_ATTRS & ~TPMA_OBJECT_RESTRICTED, &pub);
    assert_int_equal(verify(t, &fx.cert_rsa, &pub, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "restricted"));
    att_buf_cleanup(&pub);

    ek_pub_of(fx.ek_rsa, EK_ATTRS & ~TPMA_OBJECT_FIXEDTPM, &pub);
    assert_int_equal(verify(t, &fx.cert_rsa, &pub, why), ATT_ERR_VERIFY);
    att_buf_cleanup(&pub);

    ek_pub_of(fx.ek_rsa, EK_ATTRS & ~TPMA_OBJECT_FIXEDPARENT, &pub);
    assert_int_equal(verify(t, &fx.cert_rsa, &pub, why), ATT_ERR_VERIFY);
    att_buf_cleanup(&pub);
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_bad_der(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    struct att_buf der;
    char why[WHY_LEN];
    static const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x05, 0xde, 0xad};
    uint8_t big[8193];
    size_t n;

    (void)state;
    assert_int_equal(att_ek_cert_verify(t, garbage, sizeof(garbage), fx.pub_rsa.data,
                                        fx.pub_rsa.len, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_int_equal(
        att_ek_cert_verify(t, garbage, 0, fx.pub_rsa.data, fx.pub_rsa.len, why, sizeof(why)),
        ATT_ERR_PARSE);
    /* Truncated at every length. */
    for (n = 1; n < fx.cert_rsa.len; n++) {
        assert_int_equal(att_ek_cert_verify(t, fx.cert_rsa.data, n, fx.pub_rsa.data, fx.pub_rsa.len,
                                            why, sizeof(why)),
                         ATT_ERR_PARSE);
    }
    /* One trailing byte. */
    att_buf_init(&der, 16384);
    assert_int_equal(att_buf_append(&der, fx.cert_rsa.data, fx.cert_rsa.len), ATT_OK);
    assert_int_equal(att_buf_append(&der, "", 1), ATT_OK);
    assert_int_equal(verify(t, &der, &fx.pub_rsa, why), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "trailing"));
    att_buf_cleanup(&der);
    /* Over the 8 KiB cap, whatever it holds. */
    memset(big, 0, sizeof(big));
    memcpy(big, fx.cert_rsa.data, fx.cert_rsa.len);
    assert_int_equal(
        att_ek_cert_verify(t, big, sizeof(big), fx.pub_rsa.data, fx.pub_rsa.len, why, sizeof(why)),
        ATT_ERR_PARSE);
    /* PEM is not DER. */
    assert_int_equal(att_ek_cert_verify(t, (const uint8_t *)"-----BEGIN CERTIFICATE-----", 27,
                                        fx.pub_rsa.data, fx.pub_rsa.len, why, sizeof(why)),
                     ATT_ERR_PARSE);
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_bad_ek_pub(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    struct att_buf pub;
    char why[WHY_LEN];
    size_t n;

    (void)state;
    for (n = 0; n < fx.pub_rsa.len; n++) {
        assert_int_equal(att_ek_cert_verify(t, fx.cert_rsa.data, fx.cert_rsa.len, fx.pub_rsa.data,
                                            n, why, sizeof(why)),
                         ATT_ERR_PARSE);
    }
    att_buf_init(&pub, 4096);
    assert_int_equal(att_buf_append(&pub, fx.pub_rsa.data, fx.pub_rsa.len), ATT_OK);
    assert_int_equal(att_buf_append(&pub, "x", 1), ATT_OK);
    assert_int_equal(verify(t, &fx.cert_rsa, &pub, why), ATT_ERR_PARSE);
    att_buf_cleanup(&pub);
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_empty_store(void **state)
{
    struct att_ek_trust *t = store_of(NULL);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_rsa, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "unable to get local issuer certificate"));
    att_ek_trust_free(t);
}

/* The TCG subjectDirectoryAttributes may be critical on the EK certificate. */
static void test_ek_cert_verify_tcg_critical_ext(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify_issued(t, fx.ek_rsa, fx.intermediate, fx.int_key, -60, DAY,
                                   EXTRA_SDA_CRITICAL, &fx.pub_rsa, why),
                     ATT_OK);
    att_ek_trust_free(t);
}

/*
 * extendedKeyUsage: absent, tcg-kp-EKCertificate or anyExtendedKeyUsage is
 * fine; a certificate for the same key with another purpose (swtpm's
 * platform certificate) is not an EK certificate.
 */
static void test_ek_cert_verify_eku(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify_issued(t, fx.ek_rsa, fx.intermediate, fx.int_key, -60, DAY,
                                   EXTRA_NO_EKU, &fx.pub_rsa, why),
                     ATT_OK);
    assert_int_equal(verify_issued(t, fx.ek_rsa, fx.intermediate, fx.int_key, -60, DAY,
                                   EXTRA_ANY_EKU, &fx.pub_rsa, why),
                     ATT_OK);
    assert_int_equal(verify_issued(t, fx.ek_rsa, fx.intermediate, fx.int_key, -60, DAY,
                                   EXTRA_PLATFORM_EKU, &fx.pub_rsa, why),
                     ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "tcg-kp-EKCertificate"));
    att_ek_trust_free(t);
}

/* Any other unknown critical extension still fails, on the EK certificate and on a CA. */
static void test_ek_cert_verify_unknown_critical_ext(void **state)
{
    struct att_ek_trust *t = store_of(fx.dir);
    struct att_ek_trust *t2 = NULL;
    X509 *ca;
    char dir[64];
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(verify_issued(t, fx.ek_rsa, fx.intermediate, fx.int_key, -60, DAY,
                                   EXTRA_UNKNOWN_CRITICAL, &fx.pub_rsa, why),
                     ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "critical"));
    att_ek_trust_free(t);

    /* An intermediate with an unknown critical extension. */
    (void)snprintf(dir, sizeof(dir), "%s", "/tmp/att-test-ekca.XXXXXX");
    assert_non_null(mkdtemp(dir));
    ca = make_cert("test EK intermediate", fx.int_key, fx.root, fx.root_key, KIND_CA, -DAY,
                   3650 * DAY, EXTRA_UNKNOWN_CRITICAL);
    write_pem(dir, "ca.pem", ca, fx.root, NULL);
    t2 = store_of(dir);
    assert_int_equal(verify(t2, &fx.cert_rsa, &fx.pub_rsa, why), ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "critical"));
    att_ek_trust_free(t2);
    X509_free(ca);
    remove_in(dir, "ca.pem");
    (void)rmdir(dir);
}

/* Flip every bit of a good certificate: never ATT_OK (shared/STYLE.md §8). */
static void bit_flips(const struct att_buf *cert, const struct att_buf *pub)
{
    struct att_ek_trust *t = store_of(fx.dir);
    uint8_t *der = malloc(cert->len);
    char why[WHY_LEN];
    size_t i;
    unsigned bit;
    att_rc rc;

    assert_non_null(der);
    for (i = 0; i < cert->len; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(der, cert->data, cert->len);
            der[i] ^= (uint8_t)(1u << bit);
            rc = att_ek_cert_verify(t, der, cert->len, pub->data, pub->len, why, sizeof(why));
            if (rc != ATT_ERR_PARSE && rc != ATT_ERR_VERIFY) {
                fail_msg("bit %u of byte %zu flipped: %s (%s)", bit, i, att_rc_str(rc), why);
            }
        }
    }
    free(der);
    att_ek_trust_free(t);
}

static void test_ek_cert_verify_bit_flips_ecc(void **state)
{
    (void)state;
    bit_flips(&fx.cert_ecc, &fx.pub_ecc);
}

static void test_ek_cert_verify_bit_flips_rsa(void **state)
{
    (void)state;
    bit_flips(&fx.cert_rsa, &fx.pub_rsa);
}

static void test_ek_trust_add_missing(void **state)
{
    struct att_ek_trust *t = store_of(NULL);
    char path[256];

    (void)state;
    path_in(fx.files, "no-such.pem", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_ERR_NOT_FOUND);
    assert_int_equal(att_ek_trust_add(t, "/nonexistent-att-dir/ca"), ATT_ERR_NOT_FOUND);
    path_in(fx.files, "root.pem/below", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_ERR_NOT_FOUND);
    att_ek_trust_free(t);
}

static void test_ek_trust_add_no_certs(void **state)
{
    static const char *const names[] = {"keyonly.pem", "empty.pem", "text.pem"};
    struct att_ek_trust *t = store_of(NULL);
    char path[256];
    char dir[64];
    size_t i;
    char why[WHY_LEN];

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        path_in(fx.files, names[i], path, sizeof(path));
        assert_int_equal(att_ek_trust_add(t, path), ATT_ERR_PARSE);
    }
    /* A directory without any certificate, and an empty one. */
    (void)snprintf(dir, sizeof(dir), "%s", "/tmp/att-test-ekempty.XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(att_ek_trust_add(t, dir), ATT_ERR_PARSE);
    write_pem(dir, "key.pem", NULL, NULL, fx.root_key);
    assert_int_equal(att_ek_trust_add(t, dir), ATT_ERR_PARSE);
    remove_in(dir, "key.pem");
    (void)rmdir(dir);
    /* Nothing was added. */
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_rsa, why), ATT_ERR_VERIFY);
    /* A key block before the certificate is skipped, the certificate counts. */
    path_in(fx.files, "keythencert.pem", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_OK);
    att_ek_trust_free(t);
}

/* A damaged certificate block fails the whole add, and nothing of the file is trusted. */
static void test_ek_trust_add_corrupt(void **state)
{
    struct att_ek_trust *t = store_of(NULL);
    char path[256];
    char why[WHY_LEN];

    (void)state;
    path_in(fx.files, "corrupt-only.pem", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_ERR_PARSE);
    path_in(fx.files, "good-then-corrupt.pem", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_ERR_PARSE);
    path_in(fx.files, "intermediate.pem", path, sizeof(path));
    assert_int_equal(att_ek_trust_add(t, path), ATT_OK);
    /* root.pem came before the damage in good-then-corrupt.pem but must not be in the store. */
    assert_int_equal(verify(t, &fx.cert_rsa, &fx.pub_rsa, why), ATT_ERR_VERIFY);
    att_ek_trust_free(t);
}

static void test_ek_trust_bad_args(void **state)
{
    struct att_ek_trust *t = store_of(NULL);
    char why[WHY_LEN];

    (void)state;
    assert_int_equal(att_ek_trust_new(NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ek_trust_add(NULL, fx.dir), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ek_trust_add(t, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ek_trust_add(t, ""), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ek_cert_verify(NULL, fx.cert_rsa.data, fx.cert_rsa.len, fx.pub_rsa.data,
                                        fx.pub_rsa.len, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ek_cert_verify(t, NULL, fx.cert_rsa.len, fx.pub_rsa.data, fx.pub_rsa.len,
                                        why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ek_cert_verify(t, fx.cert_rsa.data, fx.cert_rsa.len, NULL, fx.pub_rsa.len,
                                        why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    att_ek_trust_free(t);
    att_ek_trust_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ek_cert_verify_rsa_ok),
        cmocka_unit_test(test_ek_cert_verify_ecc_ok),
        cmocka_unit_test(test_ek_cert_verify_chain_file_ok),
        cmocka_unit_test(test_ek_cert_verify_intermediate_only),
        cmocka_unit_test(test_ek_cert_verify_root_only),
        cmocka_unit_test(test_ek_cert_verify_untrusted_ca),
        cmocka_unit_test(test_ek_cert_verify_expired),
        cmocka_unit_test(test_ek_cert_verify_not_yet_valid),
        cmocka_unit_test(test_ek_cert_verify_self_signed),
        cmocka_unit_test(test_ek_cert_verify_key_mismatch),
        cmocka_unit_test(test_ek_cert_verify_ek_attributes),
        cmocka_unit_test(test_ek_cert_verify_bad_der),
        cmocka_unit_test(test_ek_cert_verify_bad_ek_pub),
        cmocka_unit_test(test_ek_cert_verify_empty_store),
        cmocka_unit_test(test_ek_cert_verify_tcg_critical_ext),
        cmocka_unit_test(test_ek_cert_verify_unknown_critical_ext),
        cmocka_unit_test(test_ek_cert_verify_eku),
        cmocka_unit_test(test_ek_cert_verify_bit_flips_ecc),
        cmocka_unit_test(test_ek_cert_verify_bit_flips_rsa),
        cmocka_unit_test(test_ek_trust_add_missing),
        cmocka_unit_test(test_ek_trust_add_no_certs),
        cmocka_unit_test(test_ek_trust_add_corrupt),
        cmocka_unit_test(test_ek_trust_bad_args),
    };

    return cmocka_run_group_tests_name("ekcert", tests, setup, teardown);
}
