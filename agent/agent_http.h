/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's HTTP API on att_httpd (mTLS with the fleet CA, or plain HTTP
 * with --insecure-dev):
 *   GET  /v1/identity  -> CBOR identity
 *   POST /v1/evidence  -> CBOR evidence (request body: CBOR evidence-request)
 *   POST /v1/activate  -> CBOR activate-response (enrollment)
 *   GET  /v1/health    -> 200 "ok"
 * Errors are CBOR {"error": text} with a 4xx/5xx status. Request bodies are
 * capped at AGENT_HTTP_MAX_BODY (413 beyond).
 */
#ifndef ATT_AGENT_HTTP_H
#define ATT_AGENT_HTTP_H

#include <stdint.h>

#include "agent.h"
#include "attest/httpd.h"
#include "attest/rc.h"

#define AGENT_HTTP_MAX_BODY (2u * 1024u * 1024u) /* evidence requests carry the admission policy */

struct agent_http;

/**
 * @param[in] a    borrowed; must outlive the server
 * @param[in] tls  NULL for plain HTTP (--insecure-dev)
 */
att_rc agent_http_start(struct agent *a, const char *listen,
                        const struct att_tls_server_config *tls, struct agent_http **out);
/** The port actually bound. */
uint16_t agent_http_port(const struct agent_http *h);
void agent_http_stop(struct agent_http *h);

#endif
