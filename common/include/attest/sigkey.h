/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDSA P-256 signing keys for quarantine orders (DESIGN §6): the verifier
 * holds the private key (a PEM file it creates on first start, mode 0600);
 * each agent receives the public key (SubjectPublicKeyInfo DER) when it is
 * enrolled and verifies every order with it. Signatures are DER
 * ECDSA-Sig-Value over SHA-256 of the message bytes.
 * Memory: struct att_sigkey owns its EVP_PKEY; free with att_sigkey_free().
 */
#ifndef ATT_COMMON_SIGKEY_H
#define ATT_COMMON_SIGKEY_H

#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/rc.h"

#define ATT_SIGKEY_MAX_SPKI 512u /* a P-256 SPKI is 91 bytes */
#define ATT_SIGKEY_MAX_SIG  80u  /* a P-256 DER signature is at most 72 bytes */

struct att_sigkey;

/**
 * Load the private key at @p path (PEM), or create a new P-256 key there
 * (O_EXCL, mode 0600) when the file does not exist. A file that holds
 * anything but a P-256 private key is an error, never overwritten.
 * @retval ATT_OK @retval ATT_ERR_PARSE @retval ATT_ERR_IO @retval ATT_ERR_CRYPTO
 */
att_rc att_sigkey_load_or_create(const char *path, struct att_sigkey **out, char *why,
                                 size_t why_len);
/** A public-only key from SubjectPublicKeyInfo DER; P-256 only. @retval ATT_ERR_PARSE */
att_rc att_sigkey_from_spki(const uint8_t *der, size_t len, struct att_sigkey **out);
/** Append the SubjectPublicKeyInfo DER of @p k to @p out. */
att_rc att_sigkey_spki(const struct att_sigkey *k, struct att_buf *out);
/** Append a DER ECDSA-SHA256 signature of @p msg to @p sig. Needs a private key. */
att_rc att_sigkey_sign(const struct att_sigkey *k, const uint8_t *msg, size_t len,
                       struct att_buf *sig);
/** @retval ATT_OK valid @retval ATT_ERR_VERIFY not a valid signature of @p msg by @p k */
att_rc att_sigkey_verify(const struct att_sigkey *k, const uint8_t *msg, size_t len,
                         const uint8_t *sig, size_t sig_len);
void att_sigkey_free(struct att_sigkey *k);

#endif
