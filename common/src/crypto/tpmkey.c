/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM2B_PUBLIC -> OpenSSL EVP_PKEY, shared by quote verification and the EK
 * checks of credential.c (private API in crypto_int.h). The public area is
 * untrusted: TPM 2.0 Part 2 §12.2.5 TPM2B_PUBLIC is unmarshalled with
 * tpm2-tss MU and must fill its buffer exactly; RSA (§11.2.4.5, modulus of
 * exactly keyBits) and ECC NIST P-256 (§11.2.5, point on the curve) keys are
 * built with OpenSSL 3 EVP_PKEY_fromdata(). No policy on what the key is for
 * (sign/decrypt, restricted): that is the caller's.
 */
#include "crypto_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/log.h"
#include "attest/util.h"

#define P256_COORD_LEN 32

/* Declared in crypto_int.h. */
att_rc tpmkey_public_parse(const uint8_t *pub, size_t len, TPM2B_PUBLIC *out, char *why,
                           size_t why_len)
{
    size_t off = 0;
    TSS2_RC trc;

    memset(out, 0, sizeof(*out));
    trc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, len, &off, out);
    if (trc != TSS2_RC_SUCCESS) {
        LOG_DEBUG("Tss2_MU_TPM2B_PUBLIC_Unmarshal(0x%08x)", trc);
        att_set_why(why, why_len, "TPM2B_PUBLIC does not parse");
        return ATT_ERR_PARSE;
    }
    if (off != len) {
        att_set_why(why, why_len, "%zu trailing bytes after TPM2B_PUBLIC", len - off);
        return ATT_ERR_PARSE;
    }
    if ((size_t)out->size + sizeof(UINT16) != len) {
        att_set_why(why, why_len, "TPM2B_PUBLIC size field does not match its contents");
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

/*
 * Turn a parameter builder into a public-key EVP_PKEY of the named type.
 * *out is written only on success.
 */
static att_rc pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
    att_rc rc = ATT_ERR_CRYPTO;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        att_log_openssl("OSSL_PARAM_BLD_to_param");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL) {
        att_log_openssl("EVP_PKEY_CTX_new_from_name");
        goto out;
    }
    if (EVP_PKEY_fromdata_init(ctx) != 1) {
        att_log_openssl("EVP_PKEY_fromdata_init");
        goto out;
    }
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        att_log_openssl("EVP_PKEY_fromdata");
        goto out;
    }
    *out = pkey;
    pkey = NULL; /* transferred to caller */
    rc = ATT_OK;
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return rc;
}

/*
 * RSA public key from the modulus in unique.rsa. The modulus must be exactly
 * keyBits/8 bytes (the TPM never strips it), exponent 0 means 65537.
 */
static att_rc rsa_from_public(const TPMT_PUBLIC *p, EVP_PKEY **out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_CRYPTO;
    const TPMS_RSA_PARMS *parms = &p->parameters.rsaDetail;
    OSSL_PARAM_BLD *bld = NULL;
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    uint32_t exponent = parms->exponent == 0 ? 65537u : parms->exponent;

    if (parms->keyBits != 2048 && parms->keyBits != 3072 && parms->keyBits != 4096) {
        att_set_why(why, why_len, "unsupported RSA key size %u", (unsigned)parms->keyBits);
        return ATT_ERR_PARSE;
    }
    if ((size_t)p->unique.rsa.size * 8u != parms->keyBits) {
        att_set_why(why, why_len, "RSA modulus is %u bytes, keyBits says %u",
                (unsigned)p->unique.rsa.size, (unsigned)parms->keyBits);
        return ATT_ERR_PARSE;
    }
    if (exponent < 3 || (exponent & 1u) == 0) {
        att_set_why(why, why_len, "invalid RSA exponent %u", (unsigned)exponent);
        return ATT_ERR_PARSE;
    }
    n = BN_bin2bn(p->unique.rsa.buffer, (int)p->unique.rsa.size, NULL);
    e = BN_new();
    bld = OSSL_PARAM_BLD_new();
    if (n == NULL || e == NULL || bld == NULL) {
        att_log_openssl("BN_bin2bn/BN_new/OSSL_PARAM_BLD_new");
        goto out;
    }
    if (BN_set_word(e, exponent) != 1) {
        att_log_openssl("BN_set_word");
        goto out;
    }
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
        att_log_openssl("OSSL_PARAM_BLD_push_BN");
        goto out;
    }
    rc = pkey_fromdata("RSA", bld, out);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return rc;
}

/*
 * Is (x, y) a point of P-256? EVP_PKEY_fromdata() would also refuse a point
 * off the curve, but it cannot tell that apart from running out of memory;
 * checking first lets a bad key be ATT_ERR_PARSE and keeps ATT_ERR_CRYPTO
 * for "could not check".
 */
static att_rc p256_point_check(const uint8_t *x, const uint8_t *y)
{
    att_rc rc = ATT_ERR_CRYPTO;
    EC_GROUP *group = NULL;
    EC_POINT *pt = NULL;
    BIGNUM *bx = NULL;
    BIGNUM *by = NULL;

    group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    pt = group != NULL ? EC_POINT_new(group) : NULL;
    bx = BN_bin2bn(x, P256_COORD_LEN, NULL);
    by = BN_bin2bn(y, P256_COORD_LEN, NULL);
    if (group == NULL || pt == NULL || bx == NULL || by == NULL) {
        att_log_openssl("EC_GROUP/EC_POINT/BN allocation");
        goto out;
    }
    /* Fails for a point off the curve or a coordinate not below p. */
    if (EC_POINT_set_affine_coordinates(group, pt, bx, by, NULL) != 1 ||
        EC_POINT_is_on_curve(group, pt, NULL) != 1) {
        ERR_clear_error(); /* a verdict on the input, not an OpenSSL failure */
        rc = ATT_ERR_PARSE;
        goto out;
    }
    rc = ATT_OK;
out:
    BN_free(bx);
    BN_free(by);
    EC_POINT_free(pt);
    EC_GROUP_free(group);
    return rc;
}

/* ECC NIST P-256 public key from unique.ecc; other curves and sizes are refused. */
static att_rc ecc_from_public(const TPMT_PUBLIC *p, EVP_PKEY **out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_CRYPTO;
    OSSL_PARAM_BLD *bld = NULL;
    uint8_t point[1 + 2 * P256_COORD_LEN];

    if (p->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
        att_set_why(why, why_len, "unsupported ECC curve 0x%04x",
                (unsigned)p->parameters.eccDetail.curveID);
        return ATT_ERR_PARSE;
    }
    if (p->unique.ecc.x.size != P256_COORD_LEN || p->unique.ecc.y.size != P256_COORD_LEN) {
        att_set_why(why, why_len, "P-256 point coordinates must be 32 bytes each");
        return ATT_ERR_PARSE;
    }
    rc = p256_point_check(p->unique.ecc.x.buffer, p->unique.ecc.y.buffer);
    if (rc != ATT_OK) {
        att_set_why(why, why_len, "ECC public point is not on P-256");
        return rc;
    }
    rc = ATT_ERR_CRYPTO;
    point[0] = 0x04; /* SEC 1 §2.3.3 uncompressed point */
    memcpy(point + 1, p->unique.ecc.x.buffer, P256_COORD_LEN);
    memcpy(point + 1 + P256_COORD_LEN, p->unique.ecc.y.buffer, P256_COORD_LEN);

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) {
        att_log_openssl("OSSL_PARAM_BLD_new");
        goto out;
    }
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1) {
        att_log_openssl("OSSL_PARAM_BLD_push");
        goto out;
    }
    rc = pkey_fromdata("EC", bld, out);
out:
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

/* Declared in crypto_int.h. */
att_rc tpmkey_to_pkey(const TPMT_PUBLIC *p, EVP_PKEY **out, char *why, size_t why_len)
{
    switch (p->type) {
    case TPM2_ALG_RSA:
        return rsa_from_public(p, out, why, why_len);
    case TPM2_ALG_ECC:
        return ecc_from_public(p, out, why, why_len);
    default:
        att_set_why(why, why_len, "unsupported key type 0x%04x", (unsigned)p->type);
        return ATT_ERR_PARSE;
    }
}
