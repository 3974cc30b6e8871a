/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Digests and randomness through OpenSSL 3 (EVP). sha256 is the measurement
 * bank; sha1 only fills the legacy IMA template-digest field.
 */
#ifndef ATT_COMMON_DIGEST_H
#define ATT_COMMON_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "attest/rc.h"

#define ATT_SHA1_LEN   20
#define ATT_SHA256_LEN 32

/** @retval ATT_OK @retval ATT_ERR_CRYPTO */
att_rc att_sha256(const void *data, size_t len, uint8_t out[ATT_SHA256_LEN]);
att_rc att_sha1(const void *data, size_t len, uint8_t out[ATT_SHA1_LEN]);
/** Two-part sha256 (PCR extend: H(old || digest)). */
att_rc att_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[ATT_SHA256_LEN]);
/** In place: pcr = sha256(pcr || digest). */
att_rc att_pcr_extend_sha256(uint8_t pcr[ATT_SHA256_LEN], const uint8_t digest[ATT_SHA256_LEN]);
/**
 * Stream a regular file through sha256 (64 KiB reads).
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_IO @retval ATT_ERR_CRYPTO
 */
att_rc att_sha256_file(const char *path, uint8_t out[ATT_SHA256_LEN]);
att_rc att_sha256_fd(int fd, uint8_t out[ATT_SHA256_LEN]);
/** Cryptographically strong random bytes (RAND_bytes). */
att_rc att_random_bytes(uint8_t *out, size_t len);

#endif
