/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrollment crypto of the verifier (see attest/credential.h), OpenSSL only:
 *  - the EK trust store and EK certificate validation (RFC 5280 path
 *    validation by X509_verify_cert(), TCG EK Credential Profile 2.x for
 *    what an EK certificate carries), plus the EK public area checks;
 *  - TPM2_MakeCredential in software: TPM 2.0 Part 1 §24 (credential
 *    protection), Part 3 §12.6, KDFa/KDFe of Part 1 §11.4.10, the RSA-OAEP
 *    and ECDH secret sharing of Part 1 Annex B.10.3 / C.6.4.
 * Not here: reading the certificate from NV and ActivateCredential (agent,
 * common/src/tpm/), deciding which EK/AK pairs to enroll (verifier).
 */
#include "attest/credential.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/log.h"
#include "attest/util.h"
#include "crypto_int.h"

#define EK_CERT_MAX    8192u      /* DER EK certificates are 1-2 KiB */
#define TRUST_FILE_MAX (1u << 20) /* one PEM file of CA certificates */
#define SEED_LEN       32u        /* sha256 digest size: the EK nameAlg */
#define SYM_KEY_LEN    16u        /* AES-128 */
#define HMAC_KEY_LEN   32u        /* sha256 digest size */
#define P256_COORD_LEN 32u
#define PATH_MAX_LEN   4096u

/* TCG EK Credential Profile 2.x §2.1.5: what every EK template sets. */
#define EK_ATTRS_SET                                                                               \
    (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT)

/* The labels of Part 1 §24.4-§24.5 and Annex B.10.3/C.6.4; the NUL is part of each. */
static const char label_identity[] = "IDENTITY";
static const char label_storage[] = "STORAGE";
static const char label_integrity[] = "INTEGRITY";

struct att_ek_trust {
    X509_STORE *store; /* owned: X509_STORE_free */
};

/* One (pointer, length) piece of a message that a hash or MAC runs over. */
struct part {
    const uint8_t *p;
    size_t len;
};

/* ------------------------------------------------------------------------ */
/* EK trust store                                                           */
/* ------------------------------------------------------------------------ */

att_rc att_ek_trust_new(struct att_ek_trust **out)
{
    att_rc rc = ATT_ERR_NOMEM;
    struct att_ek_trust *t = NULL;

    if (out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    t = OPENSSL_zalloc(sizeof(*t));
    if (t == NULL) {
        goto out;
    }
    t->store = X509_STORE_new();
    if (t->store == NULL) {
        att_log_openssl("X509_STORE_new");
        goto out;
    }
    *out = t;
    t = NULL; /* transferred to caller */
    rc = ATT_OK;
out:
    att_ek_trust_free(t);
    return rc;
}

void att_ek_trust_free(struct att_ek_trust *t)
{
    if (t == NULL) {
        return;
    }
    X509_STORE_free(t->store);
    OPENSSL_free(t);
}

/*
 * Push every CERTIFICATE block of the PEM file at path onto certs and count
 * them in *n. Other PEM blocks (private keys sit next to CA certificates in
 * swtpm's CA directory) are skipped by PEM_read_bio_X509. A CERTIFICATE
 * block that does not decode is ATT_ERR_PARSE: a trust store must not be
 * silently smaller than its files say.
 */
static att_rc read_pem_certs(const char *path, STACK_OF(X509) * certs, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf file;
    BIO *bio = NULL;
    X509 *x = NULL;
    unsigned long e;

    att_buf_init(&file, TRUST_FILE_MAX);
    rc = att_file_read(path, &file);
    if (rc != ATT_OK) {
        LOG_ERR("cannot read %s: %s", path, att_rc_str(rc));
        goto out;
    }
    rc = ATT_ERR_CRYPTO;
    /* TRUST_FILE_MAX keeps the length within int; an empty file has data == NULL. */
    bio = BIO_new_mem_buf(file.data != NULL ? (const void *)file.data : "", (int)file.len);
    if (bio == NULL) {
        att_log_openssl("BIO_new_mem_buf");
        goto out;
    }
    for (;;) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL) {
            break;
        }
        if (sk_X509_push(certs, x) <= 0) {
            att_log_openssl("sk_X509_push");
            goto out;
        }
        x = NULL; /* transferred to certs */
        (*n)++;
    }
    /* The loop ends with "no start line" at the end of the data; anything else is a bad block. */
    e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
        att_log_openssl(path);
        LOG_ERR("%s: a certificate does not parse", path);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    ERR_clear_error();
    rc = ATT_OK;
out:
    X509_free(x);
    BIO_free(bio);
    att_buf_cleanup(&file);
    return rc;
}

static bool has_cert_suffix(const char *name)
{
    size_t len = strlen(name);

    return len > 4 && (strcmp(name + len - 4, ".pem") == 0 || strcmp(name + len - 4, ".crt") == 0);
}

/*
 * read_pem_certs() on every regular *.pem / *.crt file of dir. Files without
 * a certificate (keys, serial files saved as .pem) are skipped.
 */
static att_rc read_dir_certs(const char *dir, STACK_OF(X509) * certs, size_t *n)
{
    att_rc rc = ATT_ERR_IO;
    DIR *d = NULL;
    struct dirent *de;
    struct stat st;
    char path[PATH_MAX_LEN];
    int len;
    int err;

    d = opendir(dir);
    if (d == NULL) {
        err = errno;
        LOG_ERR("cannot open directory %s: %s", dir, strerror(err));
        rc = err == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_cert_suffix(de->d_name)) {
            continue;
        }
        len = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (len < 0 || (size_t)len >= sizeof(path)) {
            LOG_ERR("path too long in %s", dir);
            rc = ATT_ERR_INVALID_ARG;
            goto out;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue; /* dangling link, subdirectory, fifo: not a certificate file */
        }
        rc = read_pem_certs(path, certs, n);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    if (d != NULL) {
        (void)closedir(d);
    }
    return rc;
}

att_rc att_ek_trust_add(struct att_ek_trust *t, const char *path)
{
    att_rc rc = ATT_ERR_INTERNAL;
    STACK_OF(X509) *certs = NULL;
    struct stat st;
    size_t n = 0;
    int err;
    int i;

    if (t == NULL || path == NULL || path[0] == '\0') {
        return ATT_ERR_INVALID_ARG;
    }
    if (stat(path, &st) != 0) {
        err = errno;
        LOG_ERR("%s: %s", path, strerror(err));
        return err == ENOENT || err == ENOTDIR ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
    }
    certs = sk_X509_new_null();
    if (certs == NULL) {
        att_log_openssl("sk_X509_new_null");
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = read_dir_certs(path, certs, &n);
    } else {
        rc = read_pem_certs(path, certs, &n);
    }
    if (rc != ATT_OK) {
        goto out;
    }
    if (n == 0) {
        LOG_ERR("%s: no PEM certificate found", path);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    /* All files parsed: only now change the store, so a failure adds nothing. */
    for (i = 0; i < sk_X509_num(certs); i++) {
        /* Takes its own reference; a duplicate is not an error (OpenSSL >= 1.1.1). */
        if (X509_STORE_add_cert(t->store, sk_X509_value(certs, i)) != 1) {
            att_log_openssl("X509_STORE_add_cert");
            rc = ATT_ERR_CRYPTO;
            goto out;
        }
    }
    LOG_DEBUG("%s: %zu trusted EK CA certificate(s)", path, n);
    rc = ATT_OK;
out:
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* EK certificate                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Critical extensions that OpenSSL does not implement, but that an EK
 * certificate may carry and that we can ignore because nothing here relies
 * on them: subjectDirectoryAttributes (RFC 5280 §4.2.1.8; the TCG profile
 * puts the TPM specification and security assertions there) and any
 * extension under the TCG arc 2.23.133. Anything else critical and unknown
 * still fails, as RFC 5280 §4.2 requires.
 */
static bool is_ignorable_critical(const ASN1_OBJECT *obj)
{
    char oid[80];
    int n;

    if (OBJ_obj2nid(obj) == NID_subject_directory_attributes) {
        return true;
    }
    n = OBJ_obj2txt(oid, (int)sizeof(oid), obj, 1);
    return n > 0 && (size_t)n < sizeof(oid) && strncmp(oid, "2.23.133.", 9) == 0;
}

/* True when every critical extension of x that OpenSSL does not handle is ignorable. */
static bool only_ignorable_unhandled(X509 *x)
{
    int i;

    for (i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *ext = X509_get_ext(x, i);

        if (X509_EXTENSION_get_critical(ext) == 1 && X509_supported_extension(ext) != 1 &&
            !is_ignorable_critical(X509_EXTENSION_get_object(ext))) {
            return false;
        }
    }
    return true;
}

/*
 * X509_verify_cert() callback: accept X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION
 * on the EK certificate itself (depth 0) when the only unhandled critical
 * extensions are the ignorable TCG ones. CA certificates get no such leeway.
 */
static int ek_verify_cb(int ok, X509_STORE_CTX *ctx)
{
    if (ok == 0 && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION &&
        X509_STORE_CTX_get_error_depth(ctx) == 0 &&
        only_ignorable_unhandled(X509_STORE_CTX_get_current_cert(ctx))) {
        return 1;
    }
    return ok;
}

/*
 * RFC 5280 §4.2.1.12: with an extendedKeyUsage extension, the key may serve
 * only the purposes listed. An EK certificate lists tcg-kp-EKCertificate
 * (2.23.133.8.1, TCG EK profile §3.2.16) or none at all; swtpm's platform
 * certificate, for one, certifies the same key for tcg-kp-PlatformCertificate
 * (2.23.133.8.2) and must not pass as the EK certificate.
 */
static att_rc eku_check(X509 *x, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_VERIFY;
    EXTENDED_KEY_USAGE *eku = NULL;
    bool is_for_ek = false;
    char oid[80];
    int crit = -1;
    int i;
    int n;

    /* crit: -1 no such extension, -2 more than one, else it was found (and may not decode). */
    eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
    if (eku == NULL && crit != -1) {
        ERR_clear_error();
        att_set_why(why, why_len, "EK certificate extendedKeyUsage does not decode");
        goto out;
    }
    for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        const ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);

        n = OBJ_obj2txt(oid, (int)sizeof(oid), obj, 1);
        if (OBJ_obj2nid(obj) == NID_anyExtendedKeyUsage ||
            (n > 0 && (size_t)n < sizeof(oid) && strcmp(oid, "2.23.133.8.1") == 0)) {
            is_for_ek = true;
        }
    }
    if (eku != NULL && !is_for_ek) {
        att_set_why(why, why_len, "certificate extendedKeyUsage does not include tcg-kp-EKCertificate");
        goto out;
    }
    rc = ATT_OK; /* no extendedKeyUsage (no restriction), or one that allows an EK */
out:
    EXTENDED_KEY_USAGE_free(eku);
    return rc;
}

/* An EK is a restricted decryption key that never leaves its TPM (TCG EK profile §2.1.5). */
static att_rc ek_attrs_check(const TPMT_PUBLIC *p, char *why, size_t why_len)
{
    if ((p->objectAttributes & EK_ATTRS_SET) != EK_ATTRS_SET) {
        att_set_why(why, why_len,
                "EK must be restricted, decrypt, fixedTPM and fixedParent (attributes 0x%08x)",
                (unsigned)p->objectAttributes);
        return ATT_ERR_VERIFY;
    }
    if ((p->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
        att_set_why(why, why_len, "EK must not be a signing key (attributes 0x%08x)",
                (unsigned)p->objectAttributes);
        return ATT_ERR_VERIFY;
    }
    return ATT_OK;
}

/*
 * Path validation of x against the trust store at the current time. Every
 * certificate of the store may serve as an issuer, but the chain must end
 * at a self-signed root of the store (no partial chains).
 */
static att_rc chain_verify(X509_STORE *store, X509 *x, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_CRYPTO;
    X509_STORE_CTX *ctx = NULL;
    int vr;
    int err;

    ctx = X509_STORE_CTX_new();
    if (ctx == NULL) {
        att_log_openssl("X509_STORE_CTX_new");
        goto out;
    }
    if (X509_STORE_CTX_init(ctx, store, x, NULL) != 1) {
        att_log_openssl("X509_STORE_CTX_init");
        goto out;
    }
    X509_STORE_CTX_set_verify_cb(ctx, ek_verify_cb);
    vr = X509_verify_cert(ctx);
    if (vr != 1) {
        err = X509_STORE_CTX_get_error(ctx);
        if (vr < 0 || err == X509_V_ERR_OUT_OF_MEM || err == X509_V_OK) {
            /* OpenSSL could not run the check (bad call, allocation failure). */
            att_log_openssl("X509_verify_cert");
            att_set_why(why, why_len, "could not verify the certificate chain");
            rc = ATT_ERR_CRYPTO;
            goto out;
        }
        /* Checked and rejected: a verdict for why, not an OpenSSL failure to log. */
        ERR_clear_error();
        att_set_why(why, why_len, "%s (depth %d)", X509_verify_cert_error_string(err),
                X509_STORE_CTX_get_error_depth(ctx));
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    rc = ATT_OK;
out:
    X509_STORE_CTX_free(ctx);
    return rc;
}

att_rc att_ek_cert_verify(const struct att_ek_trust *t, const uint8_t *cert_der, size_t cert_len,
                          const uint8_t *ek_pub, size_t ek_pub_len, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPM2B_PUBLIC ek;
    EVP_PKEY *ek_key = NULL;
    EVP_PKEY *cert_key = NULL; /* borrowed from x */
    X509 *x = NULL;
    const unsigned char *p = NULL;
    int eq;

    att_set_why(why, why_len, "%s", "");
    if (t == NULL || cert_der == NULL || ek_pub == NULL) {
        att_set_why(why, why_len, "missing argument");
        return ATT_ERR_INVALID_ARG;
    }
    if (cert_len == 0 || cert_len > EK_CERT_MAX) {
        att_set_why(why, why_len, "EK certificate is %zu bytes (1..%u allowed)", cert_len, EK_CERT_MAX);
        return ATT_ERR_PARSE;
    }
    rc = tpmkey_public_parse(ek_pub, ek_pub_len, &ek, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = tpmkey_to_pkey(&ek.publicArea, &ek_key, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    p = cert_der;
    x = d2i_X509(NULL, &p, (long)cert_len);
    if (x == NULL || p != cert_der + cert_len) {
        ERR_clear_error(); /* a verdict on the input */
        att_set_why(why, why_len, "%s",
                x == NULL ? "EK certificate is not DER X.509"
                          : "trailing bytes after the EK certificate");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    /*
     * A key that does not decode (unknown algorithm, bad encoding) is a
     * malformed input; left to X509_verify_cert() it would look like an
     * internal error.
     */
    cert_key = X509_get0_pubkey(x);
    if (cert_key == NULL) {
        ERR_clear_error();
        att_set_why(why, why_len, "EK certificate public key does not decode");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    rc = ek_attrs_check(&ek.publicArea, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = chain_verify(t->store, x, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = eku_check(x, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_ERR_VERIFY;
    /* 1 equal, 0 different, -1 different types, -2 cannot compare. */
    eq = EVP_PKEY_eq(cert_key, ek_key);
    if (eq != 1) {
        ERR_clear_error();
        att_set_why(why, why_len, "EK certificate key is not the EK public key");
        goto out;
    }
    rc = ATT_OK;
out:
    if (rc != ATT_OK) {
        LOG_DEBUG("EK certificate rejected (%s)", att_rc_str(rc));
    }
    X509_free(x);
    EVP_PKEY_free(ek_key);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* MakeCredential                                                           */
/* ------------------------------------------------------------------------ */

static void put_be32(uint8_t *out, uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

/* HMAC-SHA256 over the concatenation of parts; out gets 32 bytes. */
static att_rc hmac_sha256(const uint8_t *key, size_t key_len, const struct part *parts,
                          size_t nparts, uint8_t out[HMAC_KEY_LEN])
{
    att_rc rc = ATT_ERR_CRYPTO;
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    char digest[] = "SHA256";
    size_t out_len = 0;
    size_t i;

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    if (ctx == NULL) {
        att_log_openssl("EVP_MAC_fetch/EVP_MAC_CTX_new(HMAC)");
        goto out;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key, key_len, params) != 1) {
        att_log_openssl("EVP_MAC_init");
        goto out;
    }
    for (i = 0; i < nparts; i++) {
        if (parts[i].len > 0 && EVP_MAC_update(ctx, parts[i].p, parts[i].len) != 1) {
            att_log_openssl("EVP_MAC_update");
            goto out;
        }
    }
    if (EVP_MAC_final(ctx, out, &out_len, HMAC_KEY_LEN) != 1 || out_len != HMAC_KEY_LEN) {
        att_log_openssl("EVP_MAC_final");
        goto out;
    }
    rc = ATT_OK;
out:
    EVP_MAC_CTX_free(ctx); /* wipes the key schedule */
    EVP_MAC_free(mac);
    return rc;
}

/*
 * KDFa with sha256 (Part 1 §11.4.10.2, SP 800-108 counter mode with HMAC):
 * K(i) = HMAC(key, [i]32 || label || 0x00 || contextU || contextV || [bits]32),
 * out = the first out_len bytes of K(1) || K(2) || ... label excludes the
 * NUL, which is added here. contextU/V may be empty (NULL, 0).
 */
static att_rc kdfa_sha256(const uint8_t *key, size_t key_len, const char *label,
                          const uint8_t *ctx_u, size_t ctx_u_len, const uint8_t *ctx_v,
                          size_t ctx_v_len, uint8_t *out, size_t out_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    uint8_t counter[4];
    uint8_t bits[4];
    uint8_t block[HMAC_KEY_LEN];
    uint32_t i;
    size_t done = 0;
    size_t n;

    if (out_len == 0 || out_len > 0x1fffffffu) {
        return ATT_ERR_INTERNAL;
    }
    put_be32(bits, (uint32_t)(out_len * 8u));
    for (i = 1; done < out_len; i++) {
        struct part parts[] = {
            {counter, sizeof(counter)},
            {(const uint8_t *)label, strlen(label) + 1}, /* with its NUL */
            {ctx_u, ctx_u_len},
            {ctx_v, ctx_v_len},
            {bits, sizeof(bits)},
        };

        put_be32(counter, i);
        rc = hmac_sha256(key, key_len, parts, sizeof(parts) / sizeof(parts[0]), block);
        if (rc != ATT_OK) {
            goto out;
        }
        n = out_len - done < sizeof(block) ? out_len - done : sizeof(block);
        memcpy(out + done, block, n);
        done += n;
    }
    rc = ATT_OK;
out:
    OPENSSL_cleanse(block, sizeof(block));
    return rc;
}

/*
 * KDFe with sha256 (Part 1 §11.4.10.3, SP 800-56A §5.8.1 concatenation KDF):
 * K(i) = H([i]32 || Z || label || 0x00 || partyU || partyV), out = the first
 * out_len bytes of K(1) || K(2) || ... label excludes the NUL.
 */
static att_rc kdfe_sha256(const uint8_t *z, size_t z_len, const char *label, const uint8_t *party_u,
                          size_t party_u_len, const uint8_t *party_v, size_t party_v_len,
                          uint8_t *out, size_t out_len)
{
    att_rc rc = ATT_ERR_CRYPTO;
    EVP_MD_CTX *md = NULL;
    uint8_t counter[4];
    uint8_t block[EVP_MAX_MD_SIZE];
    unsigned block_len = 0;
    uint32_t i;
    size_t done = 0;
    size_t n;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        att_log_openssl("EVP_MD_CTX_new");
        goto out;
    }
    for (i = 1; done < out_len; i++) {
        put_be32(counter, i);
        if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(md, counter, sizeof(counter)) != 1 ||
            EVP_DigestUpdate(md, z, z_len) != 1 ||
            EVP_DigestUpdate(md, label, strlen(label) + 1) != 1 ||
            EVP_DigestUpdate(md, party_u, party_u_len) != 1 ||
            EVP_DigestUpdate(md, party_v, party_v_len) != 1 ||
            EVP_DigestFinal_ex(md, block, &block_len) != 1) {
            att_log_openssl("KDFe digest");
            goto out;
        }
        n = out_len - done < block_len ? out_len - done : block_len;
        memcpy(out + done, block, n);
        done += n;
    }
    rc = ATT_OK;
out:
    OPENSSL_cleanse(block, sizeof(block));
    EVP_MD_CTX_free(md);
    return rc;
}

/*
 * What our MakeCredential supports, which is what the TCG EK templates L-1
 * and L-2 produce: a restricted decryption key, RSA-2048 or ECC P-256, nameAlg
 * sha256, AES-128-CFB as its symmetric algorithm. Anything else is refused
 * rather than guessed at (the seed size, KDF hash and symmetric key all
 * follow from these parameters).
 */
static att_rc ek_params_check(const TPMT_PUBLIC *p)
{
    const TPMT_SYM_DEF_OBJECT *sym = &p->parameters.asymDetail.symmetric;

    if (p->nameAlg != TPM2_ALG_SHA256) {
        LOG_ERR("MakeCredential: EK nameAlg 0x%04x is not sha256", (unsigned)p->nameAlg);
        return ATT_ERR_INVALID_ARG;
    }
    if ((p->objectAttributes & (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)) !=
            (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT) ||
        (p->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
        LOG_ERR("MakeCredential: EK is not a restricted decryption key (attributes 0x%08x)",
                (unsigned)p->objectAttributes);
        return ATT_ERR_INVALID_ARG;
    }
    if (p->type == TPM2_ALG_RSA) {
        if (p->parameters.rsaDetail.keyBits != 2048) {
            LOG_ERR("MakeCredential: RSA EK of %u bits; only 2048 is supported",
                    (unsigned)p->parameters.rsaDetail.keyBits);
            return ATT_ERR_INVALID_ARG;
        }
    } else if (p->type == TPM2_ALG_ECC) {
        if (p->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
            LOG_ERR("MakeCredential: ECC EK on curve 0x%04x; only NIST P-256 is supported",
                    (unsigned)p->parameters.eccDetail.curveID);
            return ATT_ERR_INVALID_ARG;
        }
    } else {
        LOG_ERR("MakeCredential: EK type 0x%04x is neither RSA nor ECC", (unsigned)p->type);
        return ATT_ERR_INVALID_ARG;
    }
    if (sym->algorithm != TPM2_ALG_AES || sym->keyBits.aes != 128 ||
        sym->mode.aes != TPM2_ALG_CFB) {
        LOG_ERR("MakeCredential: EK symmetric algorithm is not AES-128-CFB");
        return ATT_ERR_INVALID_ARG;
    }
    return ATT_OK;
}

/*
 * The Name must be nameAlg (big-endian) followed by a digest of exactly that
 * algorithm's size (Part 1 §16). The TPM compares it byte for byte, so an
 * ill-formed one could only produce a credential nobody can activate.
 */
static att_rc ak_name_check(const uint8_t *name, size_t len)
{
    TPM2_ALG_ID alg;
    size_t want;

    if (len < sizeof(UINT16) || len > sizeof(TPMU_NAME)) {
        LOG_ERR("MakeCredential: AK name of %zu bytes", len);
        return ATT_ERR_INVALID_ARG;
    }
    alg = (TPM2_ALG_ID)((unsigned)name[0] << 8 | name[1]);
    switch (alg) {
    case TPM2_ALG_SHA1:
        want = TPM2_SHA1_DIGEST_SIZE;
        break;
    case TPM2_ALG_SHA256:
        want = TPM2_SHA256_DIGEST_SIZE;
        break;
    case TPM2_ALG_SHA384:
        want = TPM2_SHA384_DIGEST_SIZE;
        break;
    case TPM2_ALG_SHA512:
        want = TPM2_SHA512_DIGEST_SIZE;
        break;
    default:
        LOG_ERR("MakeCredential: AK name algorithm 0x%04x unsupported", (unsigned)alg);
        return ATT_ERR_INVALID_ARG;
    }
    if (len != sizeof(UINT16) + want) {
        LOG_ERR("MakeCredential: AK name of %zu bytes for algorithm 0x%04x", len, (unsigned)alg);
        return ATT_ERR_INVALID_ARG;
    }
    return ATT_OK;
}

/*
 * RSA EK (Part 1 Annex B.10.3): a random seed, encrypted with RSA-OAEP, the
 * EK's nameAlg (sha256) for both the OAEP hash and MGF1, label "IDENTITY"
 * with its NUL. enc gets the ciphertext.
 */
static att_rc rsa_seed(EVP_PKEY *ek, uint8_t seed[SEED_LEN], TPM2B_ENCRYPTED_SECRET *enc)
{
    att_rc rc = ATT_ERR_CRYPTO;
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *label = NULL;
    size_t out_len = sizeof(enc->secret);

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL);
    if (ctx == NULL) {
        att_log_openssl("EVP_PKEY_CTX_new_from_pkey");
        goto out;
    }
    label = OPENSSL_memdup(label_identity, sizeof(label_identity));
    if (label == NULL) {
        att_log_openssl("OPENSSL_memdup");
        goto out;
    }
    /* These setters return a positive value on success, 0 or negative on failure. */
    if (EVP_PKEY_encrypt_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0) {
        att_log_openssl("RSA-OAEP setup");
        goto out;
    }
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, (int)sizeof(label_identity)) <= 0) {
        att_log_openssl("EVP_PKEY_CTX_set0_rsa_oaep_label");
        goto out;
    }
    label = NULL; /* transferred to ctx */
    if (RAND_bytes(seed, SEED_LEN) != 1) {
        att_log_openssl("RAND_bytes");
        goto out;
    }
    if (EVP_PKEY_encrypt(ctx, enc->secret, &out_len, seed, SEED_LEN) != 1) {
        att_log_openssl("EVP_PKEY_encrypt(RSA-OAEP)");
        goto out;
    }
    enc->size = (UINT16)out_len;
    rc = ATT_OK;
out:
    OPENSSL_free(label);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* Big-endian coordinate of an EC key, left-padded to 32 bytes. */
static att_rc ec_coord(const EVP_PKEY *key, const char *which, uint8_t out[P256_COORD_LEN])
{
    att_rc rc = ATT_ERR_CRYPTO;
    BIGNUM *bn = NULL;

    if (EVP_PKEY_get_bn_param(key, which, &bn) != 1) {
        att_log_openssl("EVP_PKEY_get_bn_param");
        goto out;
    }
    if (BN_bn2binpad(bn, out, (int)P256_COORD_LEN) != (int)P256_COORD_LEN) {
        att_log_openssl("BN_bn2binpad");
        goto out;
    }
    rc = ATT_OK;
out:
    BN_free(bn);
    return rc;
}

/*
 * ECC EK (Part 1 Annex C.6.4, one-pass ECDH C(1e, 1s)): an ephemeral P-256
 * key pair; Z = x-coordinate of d_e * Q_ek; seed = KDFe(sha256, Z,
 * "IDENTITY", x_e, x_ek, 256). enc gets the marshalled TPMS_ECC_POINT of the
 * ephemeral public key. The ephemeral private key dies with this function.
 */
static att_rc ecc_seed(EVP_PKEY *ek, const TPMT_PUBLIC *ekp, uint8_t seed[SEED_LEN],
                       TPM2B_ENCRYPTED_SECRET *enc)
{
    att_rc rc = ATT_ERR_CRYPTO;
    EVP_PKEY *eph = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    TPMS_ECC_POINT point;
    uint8_t z[P256_COORD_LEN];
    size_t z_len = sizeof(z);
    size_t off = 0;
    TSS2_RC trc;

    memset(&point, 0, sizeof(point));
    eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (eph == NULL) {
        att_log_openssl("EVP_PKEY_Q_keygen(P-256)");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
    if (ctx == NULL) {
        att_log_openssl("EVP_PKEY_CTX_new_from_pkey");
        goto out;
    }
    if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, ek) != 1) {
        att_log_openssl("EVP_PKEY_derive_init/set_peer");
        goto out;
    }
    /* OpenSSL's ECDH output is the x-coordinate padded to the field size. */
    if (EVP_PKEY_derive(ctx, z, &z_len) != 1 || z_len != sizeof(z)) {
        att_log_openssl("EVP_PKEY_derive(ECDH)");
        goto out;
    }
    rc = ec_coord(eph, OSSL_PKEY_PARAM_EC_PUB_X, point.x.buffer);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ec_coord(eph, OSSL_PKEY_PARAM_EC_PUB_Y, point.y.buffer);
    if (rc != ATT_OK) {
        goto out;
    }
    point.x.size = P256_COORD_LEN;
    point.y.size = P256_COORD_LEN;
    rc = kdfe_sha256(z, sizeof(z), label_identity, point.x.buffer, P256_COORD_LEN,
                     ekp->unique.ecc.x.buffer, ekp->unique.ecc.x.size, seed, SEED_LEN);
    if (rc != ATT_OK) {
        goto out;
    }
    trc = Tss2_MU_TPMS_ECC_POINT_Marshal(&point, enc->secret, sizeof(enc->secret), &off);
    if (trc != TSS2_RC_SUCCESS) {
        LOG_ERR("Tss2_MU_TPMS_ECC_POINT_Marshal(0x%08x)", trc);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    enc->size = (UINT16)off;
    rc = ATT_OK;
out:
    OPENSSL_cleanse(z, sizeof(z));
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(eph);
    return rc;
}

/* AES-128-CFB with a zero IV (Part 1 §24.4: the key is used once). */
static att_rc aes128_cfb_encrypt(const uint8_t key[SYM_KEY_LEN], const uint8_t *in, size_t len,
                                 uint8_t *out)
{
    att_rc rc = ATT_ERR_CRYPTO;
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t iv[16] = {0};
    int n = 0;
    int fin = 0;

    if (len > INT32_MAX) {
        return ATT_ERR_INTERNAL;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        att_log_openssl("EVP_CIPHER_CTX_new");
        goto out;
    }
    if (EVP_EncryptInit_ex2(ctx, EVP_aes_128_cfb128(), key, iv, NULL) != 1 ||
        EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + n, &fin) != 1) {
        att_log_openssl("AES-128-CFB");
        goto out;
    }
    if ((size_t)n + (size_t)fin != len) {
        LOG_ERR("AES-128-CFB produced %d+%d bytes for %zu", n, fin, len);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    rc = ATT_OK;
out:
    EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
    return rc;
}

/*
 * Part 1 §24.4-§24.5 from the seed on: encIdentity = CFB(symKey, marshalled
 * TPM2B_DIGEST credential), integrity = HMAC(HMACkey, encIdentity || Name),
 * id = TPM2B_ID_OBJECT(TPM2B_DIGEST(integrity) || encIdentity).
 */
static att_rc protect_credential(const uint8_t seed[SEED_LEN], const uint8_t *name, size_t name_len,
                                 const uint8_t *secret, size_t secret_len, TPM2B_ID_OBJECT *id)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPM2B_DIGEST cred;
    TPM2B_DIGEST integrity;
    uint8_t plain[sizeof(TPM2B_DIGEST)];
    uint8_t enc_identity[sizeof(TPM2B_DIGEST)];
    uint8_t sym_key[SYM_KEY_LEN];
    uint8_t hmac_key[HMAC_KEY_LEN];
    struct part parts[2];
    size_t plain_len = 0;
    size_t off = 0;
    TSS2_RC trc;

    memset(&cred, 0, sizeof(cred));
    memset(&integrity, 0, sizeof(integrity));
    cred.size = (UINT16)secret_len;
    memcpy(cred.buffer, secret, secret_len);
    trc = Tss2_MU_TPM2B_DIGEST_Marshal(&cred, plain, sizeof(plain), &plain_len);
    if (trc != TSS2_RC_SUCCESS) {
        LOG_ERR("Tss2_MU_TPM2B_DIGEST_Marshal(0x%08x)", trc);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    rc = kdfa_sha256(seed, SEED_LEN, label_storage, name, name_len, NULL, 0, sym_key,
                     sizeof(sym_key));
    if (rc != ATT_OK) {
        goto out;
    }
    rc = aes128_cfb_encrypt(sym_key, plain, plain_len, enc_identity);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = kdfa_sha256(seed, SEED_LEN, label_integrity, NULL, 0, NULL, 0, hmac_key, sizeof(hmac_key));
    if (rc != ATT_OK) {
        goto out;
    }
    parts[0].p = enc_identity;
    parts[0].len = plain_len;
    parts[1].p = name;
    parts[1].len = name_len;
    rc = hmac_sha256(hmac_key, sizeof(hmac_key), parts, 2, integrity.buffer);
    if (rc != ATT_OK) {
        goto out;
    }
    integrity.size = HMAC_KEY_LEN;
    memset(id, 0, sizeof(*id));
    trc = Tss2_MU_TPM2B_DIGEST_Marshal(&integrity, id->credential, sizeof(id->credential), &off);
    if (trc != TSS2_RC_SUCCESS || sizeof(id->credential) - off < plain_len) {
        LOG_ERR("Tss2_MU_TPM2B_DIGEST_Marshal(0x%08x) for the integrity HMAC", trc);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    memcpy(id->credential + off, enc_identity, plain_len);
    id->size = (UINT16)(off + plain_len);
    rc = ATT_OK;
out:
    OPENSSL_cleanse(&cred, sizeof(cred));
    OPENSSL_cleanse(plain, sizeof(plain));
    OPENSSL_cleanse(sym_key, sizeof(sym_key));
    OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
    return rc;
}

att_rc att_make_credential(const uint8_t *ek_pub, size_t ek_pub_len, const uint8_t *ak_name,
                           size_t ak_name_len, const uint8_t *secret, size_t secret_len,
                           struct att_buf *cred_blob, struct att_buf *enc_secret)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPM2B_PUBLIC ek;
    EVP_PKEY *ek_key = NULL;
    TPM2B_ENCRYPTED_SECRET enc;
    TPM2B_ID_OBJECT id;
    uint8_t seed[SEED_LEN];
    uint8_t id_bytes[sizeof(TPM2B_ID_OBJECT)];
    uint8_t enc_bytes[sizeof(TPM2B_ENCRYPTED_SECRET)];
    size_t id_len = 0;
    size_t enc_len = 0;
    size_t blob_len0;
    TSS2_RC trc;

    if (ek_pub == NULL || ak_name == NULL || secret == NULL || cred_blob == NULL ||
        enc_secret == NULL || cred_blob == enc_secret) {
        return ATT_ERR_INVALID_ARG;
    }
    /* Part 3 §12.6: the credential is a TPM2B_DIGEST no longer than the EK nameAlg digest. */
    if (secret_len == 0 || secret_len > SEED_LEN) {
        LOG_ERR("MakeCredential: secret of %zu bytes (1..%u allowed)", secret_len, SEED_LEN);
        return ATT_ERR_INVALID_ARG;
    }
    rc = ak_name_check(ak_name, ak_name_len);
    if (rc != ATT_OK) {
        return rc;
    }
    memset(&enc, 0, sizeof(enc));
    memset(&id, 0, sizeof(id));

    rc = tpmkey_public_parse(ek_pub, ek_pub_len, &ek, NULL, 0);
    if (rc != ATT_OK) {
        LOG_ERR("MakeCredential: the EK public area does not parse");
        goto out;
    }
    rc = ek_params_check(&ek.publicArea);
    if (rc != ATT_OK) {
        goto out;
    }
    /* Builds the key and, for ECC, refuses a point off the curve (invalid-curve attacks). */
    rc = tpmkey_to_pkey(&ek.publicArea, &ek_key, NULL, 0);
    if (rc != ATT_OK) {
        LOG_ERR("MakeCredential: the EK public key is unusable (%s)", att_rc_str(rc));
        goto out;
    }
    if (ek.publicArea.type == TPM2_ALG_RSA) {
        rc = rsa_seed(ek_key, seed, &enc);
    } else {
        rc = ecc_seed(ek_key, &ek.publicArea, seed, &enc);
    }
    if (rc != ATT_OK) {
        goto out;
    }
    rc = protect_credential(seed, ak_name, ak_name_len, secret, secret_len, &id);
    if (rc != ATT_OK) {
        goto out;
    }
    trc = Tss2_MU_TPM2B_ID_OBJECT_Marshal(&id, id_bytes, sizeof(id_bytes), &id_len);
    if (trc == TSS2_RC_SUCCESS) {
        trc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&enc, enc_bytes, sizeof(enc_bytes), &enc_len);
    }
    if (trc != TSS2_RC_SUCCESS) {
        LOG_ERR("Tss2_MU_TPM2B_ID_OBJECT/ENCRYPTED_SECRET_Marshal(0x%08x)", trc);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    /* Both or neither: undo the first append if the second fails. */
    blob_len0 = cred_blob->len;
    rc = att_buf_append(cred_blob, id_bytes, id_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_buf_append(enc_secret, enc_bytes, enc_len);
    if (rc != ATT_OK) {
        att_buf_truncate(cred_blob, blob_len0);
        goto out;
    }
    rc = ATT_OK;
out:
    OPENSSL_cleanse(seed, sizeof(seed));
    EVP_PKEY_free(ek_key);
    return rc;
}
