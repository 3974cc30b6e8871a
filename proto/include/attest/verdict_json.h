/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON rendering of an appraisal verdict (jansson), shared by attest-verify
 * --json and, later, the dashboard API:
 *   {"host": ..., "agent": ..., "verdict": "trusted"|"untrusted", "ak_trust": ...,
 *    "log_entries": N, "reset_count": N, "restart_count": N,
 *    "findings": [{"kind": "fail"|"info", "code": ..., "message": ..., "entry": N|null}]}
 */
#ifndef ATT_PROTO_VERDICT_JSON_H
#define ATT_PROTO_VERDICT_JSON_H

#include "attest/appraise.h"
#include "attest/buf.h"
#include "attest/rc.h"

/** Appends one JSON document plus newline to @p out. Strings are borrowed. */
att_rc att_verdict_encode_json(const struct att_appraisal *a, const char *host,
                               const char *agent, const char *ak_trust, struct att_buf *out);

/** Appends the findings alone as a compact JSON array. */
att_rc att_findings_encode_json(const struct att_appraisal *a, struct att_buf *out);

#endif
