/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's TPM, through ESAPI and the TCTI loader (tpm2-tss). The only
 * module that calls Esys_*; the verifier never links it.
 *
 * One struct att_tpm owns one ESYS_CONTEXT and every transient object it
 * creates (EK, AK); att_tpm_free() flushes them. ESYS_CONTEXT is not
 * thread-safe: callers serialise access (the agent holds its TPM mutex).
 * TPM 2.0 Part 3: CreatePrimary §24.1, Create §12.1, Load §12.2, Quote §18.4,
 * PCR_Extend §22.2, PCR_Read §22.4, ReadClock §29.1, NV_Read §31.13.
 * EK templates: TCG EK Credential Profile 2.3 §2.1.5 (L-1 RSA 2048, L-2 ECC P-256).
 */
#ifndef ATT_COMMON_TPM_H
#define ATT_COMMON_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/pcrs.h"
#include "attest/rc.h"

struct att_tpm;

enum att_key_alg { ATT_KEY_ECC = 0, ATT_KEY_RSA = 1 };

/** "ecc" / "rsa" */
const char *att_key_alg_str(enum att_key_alg alg);
/** @retval ATT_OK @retval ATT_ERR_INVALID_ARG */
att_rc att_key_alg_parse(const char *s, enum att_key_alg *out);

/**
 * Open a TPM through the TCTI loader: "swtpm:host=127.0.0.1,port=2321",
 * "device:/dev/tpmrm0", "tabrmd", ... Runs Startup(CLEAR) if the TPM needs it
 * and learns the allocated PCR banks.
 * @param[out] out  free with att_tpm_free()
 * @retval ATT_OK @retval ATT_ERR_TPM @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM
 */
att_rc att_tpm_open(const char *tcti, struct att_tpm **out);
/** Flush every transient object this context created, finalize ESAPI and the TCTI. */
void att_tpm_free(struct att_tpm *t);
/**
 * Free without flushing: after a TPM Reset the objects are gone already, and
 * their handle numbers may belong to someone else's new objects by now.
 */
void att_tpm_free_after_reset(struct att_tpm *t);
/** The raw TSS2_RC of the last failed call (0 if none), for tests and logs. */
uint32_t att_tpm_last_rc(const struct att_tpm *t);

/**
 * Flush transient objects left behind by a previous process that was killed
 * (swtpm has no resource manager). Under a resource manager none are visible.
 */
att_rc att_tpm_flush_stale(struct att_tpm *t);

/**
 * Read the EK certificate from its TCG NV index (RSA 0x01c00002, ECC 0x01c0000a).
 * @param[out] der  appended
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND no such NV index @retval ATT_ERR_TPM
 */
att_rc att_tpm_read_ek_cert(struct att_tpm *t, enum att_key_alg alg, struct att_buf *der);

/**
 * CreatePrimary the EK (endorsement hierarchy, TCG default template) and keep
 * it loaded for AK use and credential activation.
 * @param[out] ek_pub  marshalled TPM2B_PUBLIC, appended
 */
att_rc att_tpm_ek_create(struct att_tpm *t, enum att_key_alg alg, struct att_buf *ek_pub);

/**
 * Load the AK kept in @p state_dir (ak-<alg>.pub / ak-<alg>.priv, marshalled
 * TPM2B_PUBLIC / TPM2B_PRIVATE) under the EK, or create it there the first
 * time (restricted signing key; ECC P-256 ECDSA-SHA256 or RSA-2048
 * RSASSA-SHA256). Requires att_tpm_ek_create() first.
 * @param[out] ak_pub  marshalled TPM2B_PUBLIC, appended
 * @retval ATT_OK @retval ATT_ERR_TPM (e.g. the saved AK belongs to another TPM)
 * @retval ATT_ERR_IO @retval ATT_ERR_PARSE (corrupt key files)
 */
att_rc att_tpm_ak_load_or_create(struct att_tpm *t, const char *state_dir, enum att_key_alg alg,
                                 struct att_buf *ak_pub);

/** Read the sha256-bank PCRs in @p mask. */
att_rc att_tpm_pcr_read(struct att_tpm *t, uint32_t mask, struct att_pcrs *out);

/**
 * Extend @p pcr in every allocated bank that we have a digest for: sha256
 * with @p sha256 and, if allocated, sha1 with @p sha1 (may be NULL to skip).
 */
att_rc att_tpm_pcr_extend(struct att_tpm *t, uint32_t pcr, const uint8_t *sha1,
                          const uint8_t *sha256);

/**
 * Quote the sha256 PCRs in @p mask with the AK, qualifyingData = @p nonce,
 * and return the PCR values that the quote covers. PCRs are read before the
 * quote and the read values' digest must equal the quote's pcrDigest (retried
 * if another writer raced us), so @p pcrs always matches @p attest.
 * @param[out] attest  marshalled TPMS_ATTEST, appended
 * @param[out] sig     marshalled TPMT_SIGNATURE, appended
 */
att_rc att_tpm_quote(struct att_tpm *t, const uint8_t *nonce, size_t nonce_len, uint32_t mask,
                     struct att_buf *attest, struct att_buf *sig, struct att_pcrs *pcrs);

/**
 * TPM2_ActivateCredential (Part 3 §12.5) with the loaded AK as the object the
 * credential is bound to and the EK as the decryption key (PolicySecret
 * session): recovers the secret a verifier sealed with MakeCredential.
 * @param[in]  cred_blob   marshalled TPM2B_ID_OBJECT
 * @param[in]  enc_secret  marshalled TPM2B_ENCRYPTED_SECRET
 * @param[out] secret      appended
 * @retval ATT_OK @retval ATT_ERR_PARSE malformed blobs @retval ATT_ERR_TPM (e.g. not for this TPM/AK)
 */
att_rc att_tpm_activate_credential(struct att_tpm *t, const uint8_t *cred_blob, size_t cred_len,
                                   const uint8_t *enc_secret, size_t enc_len,
                                   struct att_buf *secret);

/** TPM2_ReadClock: reset and restart counters. */
att_rc att_tpm_clock(struct att_tpm *t, uint32_t *reset_count, uint32_t *restart_count);

#endif
