/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP(S) client side on libcurl: one-shot requests for the CLI and the
 * verifier's enrollment, and the TLS options set on every curl easy handle of
 * the project (the verifier's poller uses them on its multi handles).
 * With a CA file the server certificate must chain to it and match the URL's
 * host; with a cert+key the client presents them (mTLS).
 * Lives in libattest_net.
 */
#ifndef ATT_COMMON_HTTPC_H
#define ATT_COMMON_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/rc.h"

struct att_tls_client_config {
    const char *ca_file;   /* PEM CA the server must chain to; NULL: system default */
    const char *cert_file; /* PEM client certificate; NULL: none */
    const char *key_file;  /* PEM client key */
};

/** Apply protocol limits, timeouts and @p tls (may be NULL) to a CURL easy handle. */
att_rc att_httpc_setup(void *curl_easy, const struct att_tls_client_config *tls, long timeout_s);

/**
 * One request. A non-2xx status is not an error here: the caller reads
 * @p status and decodes the body.
 * @param[in]  method        "GET", "POST", "PUT", "DELETE"
 * @param[in]  auth_bearer   token for "Authorization: Bearer ...", may be NULL
 * @param[in]  body          may be NULL
 * @param[out] resp          appended, capped by resp->max
 * @param[out] status        HTTP status, 0 when none was received
 * @param[out] err           transport error text (connection refused, TLS, timeout)
 * @retval ATT_OK @retval ATT_ERR_IO @retval ATT_ERR_TIMEOUT @retval ATT_ERR_PARSE too large
 */
att_rc att_httpc_request(const struct att_tls_client_config *tls, const char *method,
                         const char *url, const char *content_type, const char *auth_bearer,
                         const uint8_t *body, size_t body_len, long timeout_s,
                         struct att_buf *resp, long *status, char *err, size_t err_len);

#endif
