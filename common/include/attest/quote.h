/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote verification with OpenSSL: TPM 2.0 Part 2 §10.12 TPMS_ATTEST,
 * §11.3.4 TPMT_SIGNATURE, Part 3 §18.4 TPM2_Quote. Also TPM object helpers
 * the verifier needs without ESAPI: Name computation (Part 1 §16),
 * TPM2B_PUBLIC -> PEM, AK attribute checks.
 * All inputs are untrusted marshalled bytes; every unmarshal must consume
 * exactly its input.
 */
#ifndef ATT_COMMON_QUOTE_H
#define ATT_COMMON_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/pcrs.h"
#include "attest/rc.h"

#define ATT_TPM_NAME_MAX 66 /* nameAlg (2) + largest digest (64) */

struct att_quote_info {
    uint64_t clock;
    uint32_t reset_count;
    uint32_t restart_count;
    bool is_safe;
    uint64_t firmware_version;
    uint32_t pcr_mask; /* sha256 selection found in the quote */
};

/**
 * Verify a TPM2_Quote.
 *
 * Checks, in order: AK public parses (TPM2B_PUBLIC, exact length) and is a
 * signing key; TPMS_ATTEST parses exactly; signature (TPMT_SIGNATURE, ECDSA or
 * RSASSA, the AK's scheme hash) over the attest bytes verifies under the AK;
 * magic == TPM_GENERATED_VALUE; type == TPM_ST_ATTEST_QUOTE; extraData equals
 * @p nonce; the PCR selection is exactly one sha256 bank equal to pcrs->mask;
 * pcrDigest equals att_pcrs_digest(pcrs).
 *
 * @param[in]  ak_pub   marshalled TPM2B_PUBLIC of the AK (borrowed)
 * @param[in]  attest   marshalled TPMS_ATTEST (TPM2B_ATTEST.attestationData)
 * @param[in]  sig      marshalled TPMT_SIGNATURE
 * @param[in]  pcrs     PCR values claimed for the quote
 * @param[out] info     filled on ATT_OK and on ATT_ERR_VERIFY after parsing (may be NULL)
 * @param[out] why      human-readable reason on failure (may be NULL), NUL-terminated
 * @retval ATT_OK          quote is genuine, fresh and matches @p pcrs
 * @retval ATT_ERR_PARSE   a structure is malformed
 * @retval ATT_ERR_VERIFY  checked and rejected (signature, magic, type, nonce, PCRs)
 * @retval ATT_ERR_CRYPTO  OpenSSL could not run the check
 */
att_rc att_quote_verify(const uint8_t *ak_pub, size_t ak_pub_len, const uint8_t *attest,
                        size_t attest_len, const uint8_t *sig, size_t sig_len,
                        const uint8_t *nonce, size_t nonce_len, const struct att_pcrs *pcrs,
                        struct att_quote_info *info, char *why, size_t why_len);

/**
 * A parsed attestation key, for verifying many quotes without rebuilding the
 * OpenSSL key each time (the verifier keeps one per enrolled host).
 */
struct att_ak;

/**
 * Parse an AK's marshalled TPM2B_PUBLIC (exact length) and require a
 * restricted signing key.
 * @param[out] out  free with att_ak_free()
 * @retval ATT_OK @retval ATT_ERR_PARSE @retval ATT_ERR_VERIFY not a restricted signing key
 * @retval ATT_ERR_CRYPTO @retval ATT_ERR_NOMEM @retval ATT_ERR_INVALID_ARG
 */
att_rc att_ak_new(const uint8_t *ak_pub, size_t ak_pub_len, struct att_ak **out, char *why,
                  size_t why_len);
void att_ak_free(struct att_ak *k);
/** att_quote_verify() with a parsed AK; same checks, same results. */
att_rc att_quote_verify_ak(const struct att_ak *ak, const uint8_t *attest, size_t attest_len,
                           const uint8_t *sig, size_t sig_len, const uint8_t *nonce,
                           size_t nonce_len, const struct att_pcrs *pcrs,
                           struct att_quote_info *info, char *why, size_t why_len);

/**
 * Name of a TPM object: nameAlg (big-endian UINT16) || H_nameAlg(marshalled TPMT_PUBLIC).
 * @param[in,out] name_len  in: capacity of @p name; out: bytes written
 */
att_rc att_tpm_public_name(const uint8_t *pub, size_t pub_len, uint8_t *name, size_t *name_len);
/** SubjectPublicKeyInfo PEM of an RSA or ECC TPM2B_PUBLIC, appended to @p pem. */
att_rc att_tpm_public_to_pem(const uint8_t *pub, size_t pub_len, struct att_buf *pem);
/**
 * Require an attestation key: restricted, sign, fixedTPM, fixedParent,
 * sensitiveDataOrigin, not decrypt; ECC P-256 ECDSA-SHA256 or RSA-2048 RSASSA-SHA256.
 * @retval ATT_OK @retval ATT_ERR_PARSE @retval ATT_ERR_VERIFY (reason in @p why)
 */
att_rc att_tpm_public_check_ak(const uint8_t *pub, size_t pub_len, char *why, size_t why_len);

#endif
