/* SPDX-License-Identifier: Apache-2.0 */
/* Private to common/src/crypto/: shared OpenSSL helpers. */
#ifndef ATT_COMMON_CRYPTO_INT_H
#define ATT_COMMON_CRYPTO_INT_H

/** Log and drain the whole (per-thread) OpenSSL error queue. */
void att_log_openssl(const char *what);

#endif
