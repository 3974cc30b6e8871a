/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 request multiplexer over kept-alive TLS connections, straight on
 * OpenSSL and epoll: the verifier's poller sends one request per host per
 * round, many at once, and keeps each host's connection open between rounds.
 * One SSL_CTX (CA, client certificate, key) serves every connection, and an
 * idle connection holds only its SSL (buffers released), its socket and its
 * origin string. libcurl 7.88 builds an SSL_CTX per connection, which made a
 * verifier's memory per host ~4x what it is here (issue 6, docs/internals/net.md).
 *
 * Scope: POST/GET with a known body, responses with Content-Length or read
 * to EOF (no chunked bodies, no redirects, no proxies). Peer and host name
 * verification as att_httpc_setup() does: the chain must end at the CA file
 * and the certificate must name the URL's host (DNS name or IP address).
 *
 * Memory: the mux owns its connections and its SSL_CTX; a request's struct,
 * URL, body and response buffer are the caller's and must stay valid until
 * the request comes back from att_hmux_done(). Not thread-safe: one thread
 * drives a mux. Lives in libattest_net.
 */
#ifndef ATT_COMMON_HMUX_H
#define ATT_COMMON_HMUX_H

#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/httpc.h"
#include "attest/rc.h"

struct att_hmux;

struct att_hmux_req {
    /* in */
    const char *url;          /* http[s]://host[:port]/path */
    const char *method;       /* "POST" or "GET" */
    const char *content_type; /* may be NULL */
    const uint8_t *body;
    size_t body_len;
    struct att_buf *resp; /* the response body is appended, capped by resp->max */
    void *user;           /* the caller's */
    /* out, once done */
    att_rc rc;     /* ATT_OK: a whole response came (any status) */
    long status;   /* HTTP status, 0 when none came */
    char err[256]; /* what went wrong, for an operator */
    uint64_t total_us;
    /* the mux's */
    struct att_hmux_req *next_done;
};

/**
 * @param tls        CA, client certificate and key (may be NULL: system CAs, no client cert)
 * @param timeout_s  limit on each request, connecting included (> 0)
 * @param max_idle   idle connections kept between requests (one per origin)
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_IO (TLS files) @retval ATT_ERR_NOMEM
 */
att_rc att_hmux_new(const struct att_tls_client_config *tls, long timeout_s, size_t max_idle,
                    struct att_hmux **out);
void att_hmux_free(struct att_hmux *m);

/** Start @p r (on an idle connection to its origin when there is one). It
 * always comes back from att_hmux_done(), possibly at once with an error. */
void att_hmux_add(struct att_hmux *m, struct att_hmux_req *r);

/** Move requests along for up to @p timeout_ms (sooner when one finishes). */
void att_hmux_run(struct att_hmux *m, int timeout_ms);

/** A finished request, or NULL. */
struct att_hmux_req *att_hmux_done(struct att_hmux *m);

/** Requests added and not yet returned by att_hmux_done(). */
size_t att_hmux_pending(const struct att_hmux *m);

/** Idle connections kept. */
size_t att_hmux_idle(const struct att_hmux *m);

/** Connections made so far (a kept connection is not counted again). */
uint64_t att_hmux_connects(const struct att_hmux *m);

/**
 * Parse an HTTP/1.x response head (status line and header fields, up to and
 * including the empty line). Exposed for tests and fuzzing.
 * @param[out] status          100..599
 * @param[out] content_length  -1 when the head has none
 * @param[out] keep_alive      false when the connection must not be reused
 * @retval ATT_OK @retval ATT_ERR_PARSE (@p why says what)
 */
att_rc att_hmux_parse_head(const char *head, size_t len, long *status, int64_t *content_length,
                           int *keep_alive, char *why, size_t why_len);

#endif
