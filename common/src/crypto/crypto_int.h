/* SPDX-License-Identifier: Apache-2.0 */
/* Private to common/src/crypto/: shared OpenSSL helpers. */
#ifndef ATT_COMMON_CRYPTO_INT_H
#define ATT_COMMON_CRYPTO_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/rc.h"

/** Log and drain the whole (per-thread) OpenSSL error queue. */
void att_log_openssl(const char *what);

/**
 * Unmarshal a TPM2B_PUBLIC that must fill exactly @p len bytes, and whose
 * size field must describe exactly the TPMT_PUBLIC that follows it (so no
 * bytes hide between the public area and the end of the buffer). tpmkey.c.
 *
 * @param[in]  pub  untrusted marshalled bytes (borrowed)
 * @param[out] out  caller's storage; zeroed, then filled
 * @param[out] why  reason on failure (may be NULL)
 * @retval ATT_OK @retval ATT_ERR_PARSE
 */
att_rc tpmkey_public_parse(const uint8_t *pub, size_t len, TPM2B_PUBLIC *out, char *why,
                           size_t why_len);

/**
 * Public-key EVP_PKEY for an RSA (2048/3072/4096 bits, full-length modulus)
 * or ECC NIST P-256 (point on the curve) public area. No check of the
 * object's attributes. tpmkey.c.
 *
 * @param[in]  p    parsed public area (borrowed)
 * @param[out] out  written only on success; free with EVP_PKEY_free()
 * @param[out] why  reason on failure (may be NULL)
 * @retval ATT_OK
 * @retval ATT_ERR_PARSE   unsupported type, size or curve, or an invalid key
 * @retval ATT_ERR_CRYPTO  OpenSSL failed to run
 */
att_rc tpmkey_to_pkey(const TPMT_PUBLIC *p, EVP_PKEY **out, char *why, size_t why_len);

#endif
