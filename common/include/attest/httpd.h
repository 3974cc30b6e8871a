/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP(S) server on libmicrohttpd for the agent and verifier APIs.
 * It owns the MHD daemon; it buffers each request body up to a cap (413
 * beyond, never buffered), and with TLS + a client CA it requires a client
 * certificate that chains to that CA (checked with GnuTLS, the TLS backend of
 * MHD) before any handler runs: mTLS (DESIGN §3). Handlers get a complete
 * request and fill a response; they run on MHD's threads.
 * Lives in libattest_net (links MHD, GnuTLS, libcurl), not in libattest.
 */
#ifndef ATT_COMMON_HTTPD_H
#define ATT_COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/rc.h"

struct att_tls_server_config {
    const char *cert_file;      /* PEM server certificate (chain) */
    const char *key_file;       /* PEM private key */
    const char *client_ca_file; /* PEM CA(s) client certificates must chain to; NULL = none asked */
};

struct att_http_request {
    const char *method;
    const char *url;           /* path only, no query */
    const uint8_t *body;       /* never NULL; body_len may be 0 */
    size_t body_len;
    const char *content_type;  /* may be NULL */
    const char *authorization; /* the Authorization header, may be NULL */
    const char *peer_cn;       /* verified client certificate's CN, NULL without mTLS */
    void *conn;                /* opaque, for att_http_request_query() */
};

struct att_http_response {
    unsigned status;         /* default 500 */
    const char *content_type; /* static string; default "application/octet-stream" */
    struct att_buf body;     /* initialised by the server, freed by it */
};

/** Fill @p resp for a request; called on an MHD thread. */
typedef void (*att_httpd_handler)(void *ctx, const struct att_http_request *req,
                                  struct att_http_response *resp);
/** Fill @p resp with an error body in the API's format (CBOR for the agent, JSON for the dashboard). */
typedef void (*att_httpd_error_fn)(void *ctx, unsigned status, const char *message,
                                   struct att_http_response *resp);

struct att_httpd_config {
    const char *listen; /* "ADDR:PORT" / "[ADDR]:PORT", numeric; port 0 = any free port */
    const struct att_tls_server_config *tls; /* NULL = plain HTTP */
    size_t max_body;    /* request body cap in bytes */
    /*
     * Optional: the body cap for one request, asked with its headers before
     * any of the body is read (e.g. a larger cap for an authenticated upload
     * endpoint); NULL or a 0 answer means max_body.
     */
    size_t (*body_limit)(void *ctx, const char *method, const char *url,
                         const char *authorization);
    unsigned threads;   /* 0 or 1: one polling thread; >1: a thread pool */
    att_httpd_handler handler;
    att_httpd_error_fn error;
    void *ctx;          /* borrowed, passed to handler and error */
};

struct att_httpd;

/**
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG bad listen address
 * @retval ATT_ERR_NOT_FOUND a TLS file is missing @retval ATT_ERR_IO cannot listen
 */
att_rc att_httpd_start(const struct att_httpd_config *cfg, struct att_httpd **out);
uint16_t att_httpd_port(const struct att_httpd *h);
/** Validate a listen address without listening (for early flag checks). */
att_rc att_httpd_check_listen(const char *listen);
void att_httpd_stop(struct att_httpd *h);
/** A query-string argument of the request, or NULL. Borrowed for the handler's duration. */
const char *att_http_request_query(const struct att_http_request *req, const char *key);

#endif
