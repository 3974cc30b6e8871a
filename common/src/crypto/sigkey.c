/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA P-256 order-signing keys (see attest/sigkey.h). */
#include "attest/sigkey.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/util.h"
#include "crypto_int.h"

#define PEM_MAX 8192u

struct att_sigkey {
    EVP_PKEY *pkey; /* owned */
};

static bool is_p256(EVP_PKEY *pkey)
{
    char group[64];
    size_t glen = 0;

    if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) {
        return false;
    }
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1) {
        return false;
    }
    return strcmp(group, SN_X9_62_prime256v1) == 0;
}

static att_rc wrap(EVP_PKEY *pkey, struct att_sigkey **out)
{
    struct att_sigkey *k = calloc(1, sizeof(*k));

    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return ATT_ERR_NOMEM;
    }
    k->pkey = pkey;
    *out = k;
    return ATT_OK;
}

static att_rc create(const char *path, struct att_sigkey **out, char *why, size_t why_len)
{
    EVP_PKEY *pkey = EVP_EC_gen(SN_X9_62_prime256v1);
    BIO *bio = NULL;
    char *pem = NULL;
    long pem_len;
    att_rc rc = ATT_ERR_CRYPTO;
    int fd = -1;

    if (pkey == NULL) {
        att_log_openssl("EVP_EC_gen");
        att_set_why(why, why_len, "cannot generate a P-256 key");
        return ATT_ERR_CRYPTO;
    }
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        att_log_openssl("PEM_write_bio_PrivateKey");
        att_set_why(why, why_len, "cannot encode the new key");
        goto out;
    }
    pem_len = BIO_get_mem_data(bio, &pem);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        att_set_why(why, why_len, "cannot create %s: %s", path, strerror(errno));
        rc = ATT_ERR_IO;
        goto out;
    }
    if (pem_len <= 0 || write(fd, pem, (size_t)pem_len) != (ssize_t)pem_len || fsync(fd) != 0) {
        att_set_why(why, why_len, "cannot write %s: %s", path, strerror(errno));
        rc = ATT_ERR_IO;
        (void)close(fd);
        fd = -1;
        (void)unlink(path);
        goto out;
    }
    (void)close(fd);
    fd = -1;
    (void)att_fsync_dir_of(path);
    rc = wrap(pkey, out);
    pkey = NULL; /* transferred (or freed) by wrap */
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return rc;
}

att_rc att_sigkey_load_or_create(const char *path, struct att_sigkey **out, char *why,
                                 size_t why_len)
{
    struct att_buf b;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    att_rc rc;

    if (path == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    *out = NULL;
    att_buf_init(&b, PEM_MAX);
    rc = att_file_read(path, &b);
    if (rc == ATT_ERR_NOT_FOUND) {
        att_buf_cleanup(&b);
        return create(path, out, why, why_len);
    }
    if (rc != ATT_OK || b.data == NULL) {
        att_set_why(why, why_len, "cannot read the signing key %s (%s)", path, att_rc_str(rc));
        att_buf_cleanup(&b);
        return rc == ATT_OK ? ATT_ERR_PARSE : rc;
    }
    bio = BIO_new_mem_buf(b.data, (int)b.len);
    pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    att_cleanse(b.data, b.len);
    att_buf_cleanup(&b);
    if (!is_p256(pkey)) {
        EVP_PKEY_free(pkey);
        att_set_why(why, why_len, "%s is not a PEM P-256 private key", path);
        return ATT_ERR_PARSE;
    }
    return wrap(pkey, out);
}

att_rc att_sigkey_from_spki(const uint8_t *der, size_t len, struct att_sigkey **out)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey;

    if (der == NULL || out == NULL || len == 0 || len > ATT_SIGKEY_MAX_SPKI) {
        return ATT_ERR_PARSE;
    }
    *out = NULL;
    pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (pkey == NULL || p != der + len || !is_p256(pkey)) {
        EVP_PKEY_free(pkey);
        return ATT_ERR_PARSE;
    }
    return wrap(pkey, out);
}

att_rc att_sigkey_spki(const struct att_sigkey *k, struct att_buf *out)
{
    unsigned char *der = NULL;
    int n;
    att_rc rc;

    if (k == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0) {
        att_log_openssl("i2d_PUBKEY");
        return ATT_ERR_CRYPTO;
    }
    rc = att_buf_append(out, der, (size_t)n);
    OPENSSL_free(der);
    return rc;
}

att_rc att_sigkey_sign(const struct att_sigkey *k, const uint8_t *msg, size_t len,
                       struct att_buf *sig)
{
    EVP_MD_CTX *mctx;
    unsigned char s[ATT_SIGKEY_MAX_SIG];
    size_t slen = sizeof(s);
    att_rc rc = ATT_ERR_CRYPTO;

    if (k == NULL || sig == NULL || (msg == NULL && len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        return ATT_ERR_NOMEM;
    }
    if (EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
        EVP_DigestSign(mctx, s, &slen, msg, len) != 1) {
        att_log_openssl("EVP_DigestSign");
        goto out;
    }
    rc = att_buf_append(sig, s, slen);
out:
    EVP_MD_CTX_free(mctx);
    return rc;
}

att_rc att_sigkey_verify(const struct att_sigkey *k, const uint8_t *msg, size_t len,
                         const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *mctx;
    int vr;

    if (k == NULL || (msg == NULL && len > 0) || sig == NULL || sig_len == 0 ||
        sig_len > ATT_SIGKEY_MAX_SIG) {
        return ATT_ERR_VERIFY;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        return ATT_ERR_NOMEM;
    }
    vr = EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, k->pkey) == 1
             ? EVP_DigestVerify(mctx, sig, sig_len, msg, len)
             : -1;
    EVP_MD_CTX_free(mctx);
    if (vr != 1) {
        ERR_clear_error(); /* a bad signature is an answer, not an error to log */
        return ATT_ERR_VERIFY;
    }
    return ATT_OK;
}

void att_sigkey_free(struct att_sigkey *k)
{
    if (k == NULL) {
        return;
    }
    EVP_PKEY_free(k->pkey);
    free(k);
}
