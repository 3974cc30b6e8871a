/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM2_Quote verification (TPM 2.0 Part 3 §18.4) and the TPM object helpers a
 * verifier needs without ESAPI: Name (Part 1 §16), TPM2B_PUBLIC -> PEM, AK
 * attribute checks (Part 1 §25.3.2, restricted signing keys).
 * Every TPM structure is untrusted input and is unmarshalled with tpm2-tss MU
 * (Part 2 §10.12 TPMS_ATTEST, §11.3.4 TPMT_SIGNATURE, §12.2.5 TPM2B_PUBLIC),
 * which must consume exactly the bytes given. Keys become EVP_PKEYs in
 * tpmkey.c (OpenSSL 3 EVP_PKEY_fromdata()); nothing here talks to a TPM, and
 * appraisal (clock monotonicity, policy) is the caller's business.
 */
#include "attest/quote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/log.h"
#include "attest/util.h"
#include "crypto_int.h"

#define P256_COORD_LEN 32

/* The attributes that make a key an attestation key (TPM 2.0 Part 1 §25.3.2). */
#define AK_ATTRS_SET                                                                               \
    (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |                    \
     TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN)

/*
 * Digest for a TPM hash algorithm. sha1 is accepted only where the caller
 * says so (Names of legacy objects); it never authenticates anything here.
 */
static const EVP_MD *md_for_alg(TPM2_ALG_ID alg, bool allow_sha1)
{
    switch (alg) {
    case TPM2_ALG_SHA1:
        return allow_sha1 ? EVP_sha1() : NULL;
    case TPM2_ALG_SHA256:
        return EVP_sha256();
    case TPM2_ALG_SHA384:
        return EVP_sha384();
    case TPM2_ALG_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/*
 * The AK policy of att_tpm_public_check_ak() on a parsed public area, without
 * building the key.
 */
static att_rc ak_policy_check(const TPMT_PUBLIC *p, char *why, size_t why_len)
{
    const TPMS_ASYM_PARMS *asym = &p->parameters.asymDetail;

    if ((p->objectAttributes & AK_ATTRS_SET) != AK_ATTRS_SET) {
        att_set_why(why, why_len,
                "AK must be restricted, sign, fixedTPM, fixedParent and sensitiveDataOrigin "
                "(attributes 0x%08x)",
                (unsigned)p->objectAttributes);
        return ATT_ERR_VERIFY;
    }
    if ((p->objectAttributes & TPMA_OBJECT_DECRYPT) != 0) {
        att_set_why(why, why_len, "AK must not be a decryption key");
        return ATT_ERR_VERIFY;
    }
    if (p->nameAlg != TPM2_ALG_SHA256) {
        att_set_why(why, why_len, "AK nameAlg must be sha256 (is 0x%04x)", (unsigned)p->nameAlg);
        return ATT_ERR_VERIFY;
    }
    if (p->type == TPM2_ALG_ECC) {
        if (p->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256 ||
            asym->scheme.scheme != TPM2_ALG_ECDSA ||
            asym->scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256) {
            att_set_why(why, why_len, "ECC AK must be NIST P-256 with ECDSA-SHA256");
            return ATT_ERR_VERIFY;
        }
    } else if (p->type == TPM2_ALG_RSA) {
        if (p->parameters.rsaDetail.keyBits != 2048 || asym->scheme.scheme != TPM2_ALG_RSASSA ||
            asym->scheme.details.rsassa.hashAlg != TPM2_ALG_SHA256) {
            att_set_why(why, why_len, "RSA AK must be 2048-bit with RSASSA-SHA256");
            return ATT_ERR_VERIFY;
        }
    } else {
        att_set_why(why, why_len, "AK must be an ECC or RSA key (type 0x%04x)", (unsigned)p->type);
        return ATT_ERR_VERIFY;
    }
    return ATT_OK;
}

/*
 * DER ECDSA-Sig-Value (RFC 5480 §2.2) from the TPM's raw r and s, which is
 * what OpenSSL's verifier takes. *der is OPENSSL_malloc'ed; free with
 * OPENSSL_free(). Written only on success.
 */
static att_rc ecdsa_der(const TPMS_SIGNATURE_ECC *ecc, uint8_t **der, size_t *der_len)
{
    att_rc rc = ATT_ERR_CRYPTO;
    ECDSA_SIG *esig = NULL;
    BIGNUM *r = NULL;
    BIGNUM *s = NULL;
    unsigned char *buf = NULL;
    int n;

    esig = ECDSA_SIG_new();
    r = BN_bin2bn(ecc->signatureR.buffer, (int)ecc->signatureR.size, NULL);
    s = BN_bin2bn(ecc->signatureS.buffer, (int)ecc->signatureS.size, NULL);
    if (esig == NULL || r == NULL || s == NULL) {
        att_log_openssl("ECDSA_SIG_new/BN_bin2bn");
        goto out;
    }
    if (ECDSA_SIG_set0(esig, r, s) != 1) {
        att_log_openssl("ECDSA_SIG_set0");
        goto out;
    }
    r = NULL; /* transferred to esig */
    s = NULL; /* transferred to esig */
    n = i2d_ECDSA_SIG(esig, &buf);
    if (n <= 0) {
        att_log_openssl("i2d_ECDSA_SIG");
        goto out;
    }
    *der = buf;
    buf = NULL; /* transferred to caller */
    *der_len = (size_t)n;
    rc = ATT_OK;
out:
    OPENSSL_free(buf);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(esig);
    return rc;
}

/*
 * Check that the signature was made with the AK's own scheme and hash (a
 * restricted signing key has exactly one), then verify it over tbs.
 * A signature that OpenSSL checks and finds wrong is ATT_ERR_VERIFY; only an
 * OpenSSL failure to run is ATT_ERR_CRYPTO.
 */
static att_rc signature_verify(EVP_PKEY *key, const TPMT_PUBLIC *akp, const TPMT_SIGNATURE *sig,
                               const uint8_t *tbs, size_t tbs_len, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_CRYPTO;
    const TPMT_ASYM_SCHEME *scheme = &akp->parameters.asymDetail.scheme;
    const EVP_MD *md = NULL;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t *der = NULL;
    const uint8_t *sig_bytes = NULL;
    size_t sig_len = 0;
    int vr;

    if (sig->sigAlg != scheme->scheme) {
        att_set_why(why, why_len, "signature scheme 0x%04x is not the AK's scheme 0x%04x",
                (unsigned)sig->sigAlg, (unsigned)scheme->scheme);
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    if (sig->signature.any.hashAlg != scheme->details.anySig.hashAlg) {
        att_set_why(why, why_len, "signature hash 0x%04x is not the AK's scheme hash",
                (unsigned)sig->signature.any.hashAlg);
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    md = md_for_alg(sig->signature.any.hashAlg, false);
    if (md == NULL) {
        att_set_why(why, why_len, "unsupported signature hash 0x%04x",
                (unsigned)sig->signature.any.hashAlg);
        rc = ATT_ERR_VERIFY;
        goto out;
    }

    if (akp->type == TPM2_ALG_ECC && sig->sigAlg == TPM2_ALG_ECDSA) {
        const TPMS_SIGNATURE_ECC *ecc = &sig->signature.ecdsa;

        if (ecc->signatureR.size == 0 || ecc->signatureR.size > P256_COORD_LEN ||
            ecc->signatureS.size == 0 || ecc->signatureS.size > P256_COORD_LEN) {
            att_set_why(why, why_len, "ECDSA r or s has an impossible size for P-256");
            rc = ATT_ERR_VERIFY;
            goto out;
        }
        rc = ecdsa_der(ecc, &der, &sig_len);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = ATT_ERR_CRYPTO;
        sig_bytes = der;
    } else if (akp->type == TPM2_ALG_RSA &&
               (sig->sigAlg == TPM2_ALG_RSASSA || sig->sigAlg == TPM2_ALG_RSAPSS)) {
        const TPMS_SIGNATURE_RSA *rsa = &sig->signature.rsassa;

        /* A PKCS#1 signature is exactly the modulus size (RFC 8017 §8.2.2 step 1). */
        if ((int)rsa->sig.size != EVP_PKEY_get_size(key)) {
            att_set_why(why, why_len, "RSA signature is %u bytes, the AK modulus is %d",
                    (unsigned)rsa->sig.size, EVP_PKEY_get_size(key));
            rc = ATT_ERR_VERIFY;
            goto out;
        }
        sig_bytes = rsa->sig.buffer;
        sig_len = rsa->sig.size;
    } else {
        att_set_why(why, why_len, "signature algorithm 0x%04x does not fit the AK's key type",
                (unsigned)sig->sigAlg);
        rc = ATT_ERR_VERIFY;
        goto out;
    }

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        att_log_openssl("EVP_MD_CTX_new");
        goto out;
    }
    if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) != 1) {
        att_log_openssl("EVP_DigestVerifyInit");
        goto out;
    }
    if (sig->sigAlg == TPM2_ALG_RSASSA) {
        /* EVP_PKEY_CTX_set_rsa_padding(3): positive on success, 0 or negative on failure. */
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
            att_log_openssl("EVP_PKEY_CTX_set_rsa_padding");
            goto out;
        }
    } else if (sig->sigAlg == TPM2_ALG_RSAPSS) {
        /*
         * TPMs use a salt as long as the digest (newer spec) or the longest
         * that fits (older ones); AUTO accepts either. MGF1 uses md.
         */
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0) {
            att_log_openssl("EVP_PKEY_CTX_set_rsa_padding(PSS)");
            goto out;
        }
    }
    vr = EVP_DigestVerify(mctx, sig_bytes, sig_len, tbs, tbs_len);
    if (vr == 1) {
        rc = ATT_OK;
    } else if (vr == 0) {
        /*
         * Checked and wrong: a verdict for the caller's why, not an OpenSSL
         * failure to log. The queue still must not keep the entries.
         */
        ERR_clear_error();
        att_set_why(why, why_len, "signature does not verify under the AK");
        rc = ATT_ERR_VERIFY;
    } else {
        att_log_openssl("EVP_DigestVerify");
        att_set_why(why, why_len, "OpenSSL could not verify the signature");
        rc = ATT_ERR_CRYPTO;
    }
out:
    EVP_MD_CTX_free(mctx); /* frees pctx too */
    OPENSSL_free(der);
    return rc;
}

/*
 * The quote must select exactly one bank, sha256, with a 3-byte (or 4-byte,
 * top byte zero) bitmap equal to want. *found gets the bitmap when the one
 * bank is sha256, for the caller's info.
 */
static att_rc pcr_select_check(const TPML_PCR_SELECTION *sel, uint32_t want, uint32_t *found,
                               char *why, size_t why_len)
{
    const TPMS_PCR_SELECTION *s = &sel->pcrSelections[0];
    uint32_t mask = 0;
    unsigned i;

    if (sel->count != 1) {
        att_set_why(why, why_len, "quote selects %u PCR banks; exactly one (sha256) is required",
                (unsigned)sel->count);
        return ATT_ERR_VERIFY;
    }
    if (s->hash != TPM2_ALG_SHA256) {
        att_set_why(why, why_len, "quoted PCR bank 0x%04x is not sha256", (unsigned)s->hash);
        return ATT_ERR_VERIFY;
    }
    if (s->sizeofSelect < 3 || s->sizeofSelect > sizeof(s->pcrSelect)) {
        att_set_why(why, why_len, "quoted PCR bitmap has %u bytes; 3 expected",
                (unsigned)s->sizeofSelect);
        return ATT_ERR_VERIFY;
    }
    for (i = 0; i < s->sizeofSelect; i++) {
        mask |= (uint32_t)s->pcrSelect[i] << (8u * i);
    }
    *found = mask;
    if ((mask & ~ATT_PCR_ALL_MASK) != 0) {
        att_set_why(why, why_len, "quote selects PCRs beyond 23");
        return ATT_ERR_VERIFY;
    }
    if (mask != want) {
        att_set_why(why, why_len, "quoted PCR selection 0x%06x differs from the supplied 0x%06x",
                (unsigned)mask, (unsigned)want);
        return ATT_ERR_VERIFY;
    }
    return ATT_OK;
}

/* The checks after the signature: they read only authenticated bytes. */
static att_rc attest_check(const TPMS_ATTEST *a, const uint8_t *nonce, size_t nonce_len,
                           const struct att_pcrs *pcrs, uint32_t *found_mask, char *why,
                           size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    const TPMS_QUOTE_INFO *q = &a->attested.quote;
    uint8_t digest[ATT_SHA256_LEN];

    if (a->magic != TPM2_GENERATED_VALUE) {
        att_set_why(why, why_len, "magic 0x%08x is not TPM_GENERATED_VALUE", (unsigned)a->magic);
        return ATT_ERR_VERIFY;
    }
    if (a->type != TPM2_ST_ATTEST_QUOTE) {
        att_set_why(why, why_len, "attestation type 0x%04x is not a quote", (unsigned)a->type);
        return ATT_ERR_VERIFY;
    }
    /* Length first, then a constant-time compare of equal-length buffers. */
    if (a->extraData.size != nonce_len || !att_mem_equal(a->extraData.buffer, nonce, nonce_len)) {
        att_set_why(why, why_len, "nonce mismatch");
        return ATT_ERR_VERIFY;
    }
    rc = pcr_select_check(&q->pcrSelect, pcrs->mask, found_mask, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = att_pcrs_digest(pcrs, digest);
    if (rc != ATT_OK) {
        return rc;
    }
    if (q->pcrDigest.size != ATT_SHA256_LEN ||
        !att_mem_equal(q->pcrDigest.buffer, digest, ATT_SHA256_LEN)) {
        att_set_why(why, why_len, "PCR digest mismatch");
        return ATT_ERR_VERIFY;
    }
    return ATT_OK;
}

struct att_ak {
    TPM2B_PUBLIC pub; /* parsed public area */
    EVP_PKEY *key;    /* owned */
};

att_rc att_ak_new(const uint8_t *ak_pub, size_t ak_pub_len, struct att_ak **out, char *why,
                  size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_ak *k = NULL;

    if (ak_pub == NULL || out == NULL) {
        att_set_why(why, why_len, "missing argument");
        return ATT_ERR_INVALID_ARG;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = tpmkey_public_parse(ak_pub, ak_pub_len, &k->pub, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    /*
     * Only a restricted signing key makes TPM_GENERATED_VALUE meaningful: an
     * unrestricted one signs any digest (TPM2_Sign), forged TPMS_ATTEST too.
     */
    if ((k->pub.publicArea.objectAttributes &
         (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)) !=
            (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT) ||
        (k->pub.publicArea.objectAttributes & TPMA_OBJECT_DECRYPT) != 0) {
        att_set_why(why, why_len, "AK is not a restricted signing key");
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    rc = tpmkey_to_pkey(&k->pub.publicArea, &k->key, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = k;
    k = NULL;
    rc = ATT_OK;
out:
    att_ak_free(k);
    return rc;
}

void att_ak_free(struct att_ak *k)
{
    if (k == NULL) {
        return;
    }
    EVP_PKEY_free(k->key);
    free(k);
}

att_rc att_quote_verify_ak(const struct att_ak *ak, const uint8_t *attest, size_t attest_len,
                           const uint8_t *sig, size_t sig_len, const uint8_t *nonce,
                           size_t nonce_len, const struct att_pcrs *pcrs,
                           struct att_quote_info *info, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPMS_ATTEST a;
    TPMT_SIGNATURE s;
    struct att_quote_info found;
    bool parsed = false;
    size_t off = 0;
    TSS2_RC trc;

    att_set_why(why, why_len, "%s", "");
    if (info != NULL) {
        memset(info, 0, sizeof(*info));
    }
    if (ak == NULL || attest == NULL || sig == NULL || nonce == NULL || pcrs == NULL) {
        att_set_why(why, why_len, "missing argument");
        return ATT_ERR_INVALID_ARG;
    }
    /* A quote without a nonce proves nothing about freshness; refuse to check one. */
    if (nonce_len == 0 || pcrs->mask == 0 || (pcrs->mask & ~ATT_PCR_ALL_MASK) != 0) {
        att_set_why(why, why_len, "empty nonce or invalid PCR mask");
        return ATT_ERR_INVALID_ARG;
    }
    memset(&found, 0, sizeof(found));
    memset(&s, 0, sizeof(s));
    memset(&a, 0, sizeof(a));

    trc = Tss2_MU_TPMS_ATTEST_Unmarshal(attest, attest_len, &off, &a);
    if (trc != TSS2_RC_SUCCESS || off != attest_len) {
        LOG_DEBUG("Tss2_MU_TPMS_ATTEST_Unmarshal(0x%08x), %zu of %zu bytes", trc, off, attest_len);
        att_set_why(why, why_len, "TPMS_ATTEST does not parse exactly");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    found.clock = a.clockInfo.clock;
    found.reset_count = a.clockInfo.resetCount;
    found.restart_count = a.clockInfo.restartCount;
    found.is_safe = a.clockInfo.safe == TPM2_YES;
    found.firmware_version = a.firmwareVersion;

    off = 0;
    trc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, sig_len, &off, &s);
    if (trc != TSS2_RC_SUCCESS || off != sig_len) {
        LOG_DEBUG("Tss2_MU_TPMT_SIGNATURE_Unmarshal(0x%08x), %zu of %zu bytes", trc, off, sig_len);
        att_set_why(why, why_len, "TPMT_SIGNATURE does not parse exactly");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    parsed = true;

    rc = signature_verify(ak->key, &ak->pub.publicArea, &s, attest, attest_len, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = attest_check(&a, nonce, nonce_len, pcrs, &found.pcr_mask, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    if (info != NULL && (rc == ATT_OK || (rc == ATT_ERR_VERIFY && parsed))) {
        *info = found;
    }
    if (rc != ATT_OK) {
        LOG_DEBUG("quote rejected (%s)", att_rc_str(rc));
    }
    return rc;
}

att_rc att_quote_verify(const uint8_t *ak_pub, size_t ak_pub_len, const uint8_t *attest,
                        size_t attest_len, const uint8_t *sig, size_t sig_len, const uint8_t *nonce,
                        size_t nonce_len, const struct att_pcrs *pcrs, struct att_quote_info *info,
                        char *why, size_t why_len)
{
    struct att_ak *ak = NULL;
    att_rc rc;

    if (info != NULL) {
        memset(info, 0, sizeof(*info));
    }
    if (ak_pub == NULL || attest == NULL || sig == NULL || nonce == NULL || pcrs == NULL) {
        att_set_why(why, why_len, "missing argument");
        return ATT_ERR_INVALID_ARG;
    }
    if (nonce_len == 0 || pcrs->mask == 0 || (pcrs->mask & ~ATT_PCR_ALL_MASK) != 0) {
        att_set_why(why, why_len, "empty nonce or invalid PCR mask");
        return ATT_ERR_INVALID_ARG;
    }
    rc = att_ak_new(ak_pub, ak_pub_len, &ak, why, why_len);
    if (rc == ATT_OK) {
        rc = att_quote_verify_ak(ak, attest, attest_len, sig, sig_len, nonce, nonce_len, pcrs,
                                 info, why, why_len);
    }
    att_ak_free(ak);
    return rc;
}

att_rc att_tpm_public_name(const uint8_t *pub, size_t pub_len, uint8_t *name, size_t *name_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPM2B_PUBLIC p;
    const EVP_MD *md = NULL;
    uint8_t area[sizeof(TPMT_PUBLIC)];
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    size_t off = 0;
    size_t need;
    TSS2_RC trc;

    if (pub == NULL || name == NULL || name_len == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = tpmkey_public_parse(pub, pub_len, &p, NULL, 0);
    if (rc != ATT_OK) {
        goto out;
    }
    md = md_for_alg(p.publicArea.nameAlg, true);
    if (md == NULL) {
        /* TPM_ALG_NULL names are handles, not digests: nothing to compute. */
        LOG_DEBUG("unsupported nameAlg 0x%04x", (unsigned)p.publicArea.nameAlg);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    need = sizeof(UINT16) + (size_t)EVP_MD_get_size(md);
    if (*name_len < need) {
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    /* Part 1 §16: the Name digests the marshalled TPMT_PUBLIC, not its TPM2B. */
    trc = Tss2_MU_TPMT_PUBLIC_Marshal(&p.publicArea, area, sizeof(area), &off);
    if (trc != TSS2_RC_SUCCESS) {
        LOG_ERR("Tss2_MU_TPMT_PUBLIC_Marshal(0x%08x)", trc);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    if (EVP_Digest(area, off, digest, &dlen, md, NULL) != 1) {
        att_log_openssl("EVP_Digest");
        rc = ATT_ERR_CRYPTO;
        goto out;
    }
    name[0] = (uint8_t)(p.publicArea.nameAlg >> 8);
    name[1] = (uint8_t)(p.publicArea.nameAlg & 0xffu);
    memcpy(name + sizeof(UINT16), digest, dlen);
    *name_len = sizeof(UINT16) + dlen;
    rc = ATT_OK;
out:
    return rc;
}

att_rc att_tpm_public_to_pem(const uint8_t *pub, size_t pub_len, struct att_buf *pem)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPM2B_PUBLIC p;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    char *text = NULL;
    long n;

    if (pub == NULL || pem == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = tpmkey_public_parse(pub, pub_len, &p, NULL, 0);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = tpmkey_to_pkey(&p.publicArea, &key, NULL, 0);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_ERR_CRYPTO;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        att_log_openssl("BIO_new");
        goto out;
    }
    if (PEM_write_bio_PUBKEY(bio, key) != 1) {
        att_log_openssl("PEM_write_bio_PUBKEY");
        goto out;
    }
    n = BIO_get_mem_data(bio, &text);
    if (n <= 0 || text == NULL) {
        att_log_openssl("BIO_get_mem_data");
        goto out;
    }
    /* One append: on failure pem is left as it was. */
    rc = att_buf_append(pem, text, (size_t)n);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    BIO_free(bio);
    EVP_PKEY_free(key);
    return rc;
}

att_rc att_tpm_public_check_ak(const uint8_t *pub, size_t pub_len, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPM2B_PUBLIC p;
    EVP_PKEY *key = NULL;

    att_set_why(why, why_len, "%s", "");
    if (pub == NULL) {
        att_set_why(why, why_len, "missing argument");
        return ATT_ERR_INVALID_ARG;
    }
    rc = tpmkey_public_parse(pub, pub_len, &p, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ak_policy_check(&p.publicArea, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    /* The key material itself must be usable: a point on the curve, a full modulus. */
    rc = tpmkey_to_pkey(&p.publicArea, &key, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    EVP_PKEY_free(key);
    return rc;
}
