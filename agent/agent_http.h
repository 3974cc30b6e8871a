/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's HTTP API (libmicrohttpd, one internal polling thread):
 *   GET  /v1/identity  -> CBOR identity
 *   POST /v1/evidence  -> CBOR evidence (request body: CBOR evidence-request)
 *   GET  /v1/health    -> 200 "ok"
 * Errors are CBOR {"error": text} with a 4xx/5xx status. Request bodies are
 * capped (AGENT_HTTP_MAX_BODY); larger ones get 413 without being buffered.
 * Plain HTTP for now; mTLS arrives with enrollment (issue 3) at this seam.
 */
#ifndef ATT_AGENT_HTTP_H
#define ATT_AGENT_HTTP_H

#include <stdint.h>

#include "agent.h"
#include "attest/rc.h"

#define AGENT_HTTP_MAX_BODY 4096

struct agent_http;

/**
 * Listen on @p listen ("ADDR:PORT", "[ADDR]:PORT"; port 0 = any free port).
 * @param[in] a  borrowed; must outlive the server
 */
att_rc agent_http_start(struct agent *a, const char *listen, struct agent_http **out);
/** The port actually bound. */
uint16_t agent_http_port(const struct agent_http *h);
void agent_http_stop(struct agent_http *h);

/** Parse "ADDR:PORT" / "[ADDR]:PORT" into a sockaddr (numeric addresses only). */
struct sockaddr_storage;
att_rc agent_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *ss_len);

#endif
