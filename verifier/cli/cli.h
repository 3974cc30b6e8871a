/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verify internals shared by its command files. The CLI talks to
 * agents (and later the verifier) only through proto/ and libattest's public
 * API, never through daemon internals.
 * Exit codes: 0 trusted / success, 1 untrusted, 2 error (bad arguments,
 * unreachable agent, malformed answer).
 */
#ifndef ATT_CLI_CLI_H
#define ATT_CLI_CLI_H

#include <stddef.h>

#include "attest/buf.h"
#include "attest/rc.h"

#define CLI_EXIT_OK        0
#define CLI_EXIT_UNTRUSTED 1
#define CLI_EXIT_ERROR     2

/**
 * One HTTP request with libcurl (timeouts, response capped at the proto limit).
 * @param[in]  body     NULL for GET
 * @param[out] resp     appended
 * @param[out] status   HTTP status, 0 if none was received
 * @param[out] err      transport error text when the result is not ATT_OK
 */
att_rc cli_http(const char *url, const char *content_type, const uint8_t *body, size_t body_len,
                long timeout_s, struct att_buf *resp, long *status, char *err, size_t err_len);

int cli_host(int argc, char **argv);
int cli_policy(int argc, char **argv);

#endif
