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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/rc.h"

#define CLI_EXIT_OK        0
#define CLI_EXIT_UNTRUSTED 1
#define CLI_EXIT_ERROR     2

/* Options shared by every command (before the command name). */
struct cli_fleet {
    const char *verifier;  /* --verifier URL or $ATTEST_VERIFIER */
    const char *token;     /* --token T or $ATTEST_TOKEN */
    const char *ca;        /* --ca FILE or $ATTEST_CA: CA of the server we talk to */
    const char *cert;      /* --cert FILE: client certificate (mTLS to agents, direct mode) */
    const char *key;       /* --key FILE */
    int json;              /* --json */
};

void cli_fleet_defaults(struct cli_fleet *f);
/** Verifier-mode commands: host HOST, hosts, events, enroll, policy apply|show|assign. */
int cli_fleet(const struct cli_fleet *f, const char *cmd, int argc, char **argv);
/** Direct mode: attest-verify host --agent URL ... */
int cli_host(const struct cli_fleet *f, int argc, char **argv);
int cli_policy(int argc, char **argv);
/** vulndb import|show, image scan, vulnerabilities (cli_vuln.c; issue 8). */
int cli_vuln(const struct cli_fleet *f, const char *cmd, int argc, char **argv);
/** Check --verifier and --token for @p cmd; false (printed) when missing. */
bool cli_fleet_ready(const struct cli_fleet *f, const char *cmd);

#include <jansson.h>
/**
 * One API call with a raw body of @p content_type. Returns the HTTP status
 * with *out the JSON answer (caller decrefs; errors printed), -1 on transport
 * or format errors.
 */
/** Print @p j indented (for --json). */
void cli_print_json(const json_t *j);
int cli_api_call_raw(const struct cli_fleet *f, const char *method, const char *path,
                     const char *content_type, const uint8_t *body, size_t len, json_t **out);

#endif
