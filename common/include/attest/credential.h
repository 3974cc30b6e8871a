/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrollment crypto on the verifier side, with OpenSSL only (no TPM):
 *  - EK certificate validation: the chain to a trusted TPM-vendor CA set, the
 *    certificate's key equal to the EK public area the agent reports, and the
 *    EK public area shaped like a TCG EK (restricted decryption key).
 *  - TPM2_MakeCredential in software (TPM 2.0 Part 1 §24 "Credential
 *    Protection", Part 3 §12.6; KDFa/KDFe Part 1 §11.4.10): the secret is
 *    bound to the AK's Name and sealed to the EK, so only the TPM holding that
 *    EK, with that AK loaded, can ActivateCredential and return it.
 */
#ifndef ATT_COMMON_CREDENTIAL_H
#define ATT_COMMON_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/rc.h"

struct att_ek_trust; /* an X509_STORE of trusted TPM CAs; opaque */

/** @param[out] out  free with att_ek_trust_free() */
att_rc att_ek_trust_new(struct att_ek_trust **out);
void att_ek_trust_free(struct att_ek_trust *t);
/**
 * Add every certificate of a PEM file, or of every *.pem / *.crt file in a
 * directory, as trusted (roots and intermediates alike).
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_PARSE no certificate in it
 */
att_rc att_ek_trust_add(struct att_ek_trust *t, const char *path);

/**
 * Validate an EK certificate (DER) for the EK public area @p ek_pub
 * (marshalled TPM2B_PUBLIC): chain to @p t at the current time, certificate key
 * == EK key, EK attributes restricted|decrypt|fixedTPM|fixedParent, not sign.
 * @param[out] why  reason on failure ("unable to get local issuer certificate", ...)
 * @retval ATT_OK @retval ATT_ERR_PARSE @retval ATT_ERR_VERIFY @retval ATT_ERR_CRYPTO
 */
att_rc att_ek_cert_verify(const struct att_ek_trust *t, const uint8_t *cert_der,
                          size_t cert_len, const uint8_t *ek_pub, size_t ek_pub_len, char *why,
                          size_t why_len);

/**
 * TPM2_MakeCredential in software for an RSA (OAEP-SHA256, label "IDENTITY")
 * or ECC P-256 (ECDH + KDFe) EK with nameAlg sha256 and AES-128-CFB.
 * @param[in]  ek_pub      marshalled TPM2B_PUBLIC of the EK
 * @param[in]  ak_name     Name of the AK (nameAlg || digest)
 * @param[in]  secret      the credential, 1..32 bytes
 * @param[out] cred_blob   marshalled TPM2B_ID_OBJECT, appended
 * @param[out] enc_secret  marshalled TPM2B_ENCRYPTED_SECRET, appended
 * @retval ATT_OK @retval ATT_ERR_PARSE @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_CRYPTO
 */
att_rc att_make_credential(const uint8_t *ek_pub, size_t ek_pub_len, const uint8_t *ak_name,
                           size_t ak_name_len, const uint8_t *secret, size_t secret_len,
                           struct att_buf *cred_blob, struct att_buf *enc_secret);

#endif
