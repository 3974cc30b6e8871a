/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON form of struct att_policy (jansson), schema in proto/policy.schema.json:
 *   {"version": 1, "name": "...", "reference_values": {"/abs/path": ["sha256:<64 hex>", ...]}}
 * Unknown top-level keys are rejected (a typo must not weaken a policy).
 */
#ifndef ATT_PROTO_POLICY_JSON_H
#define ATT_PROTO_POLICY_JSON_H

#include <stddef.h>

#include "attest/buf.h"
#include "attest/policy.h"
#include "attest/rc.h"

#define ATT_POLICY_MAX_JSON (16u * 1024u * 1024u)

/**
 * @param[out] out  att_policy_free() it
 * @retval ATT_OK @retval ATT_ERR_PARSE (why names the field) @retval ATT_ERR_NOMEM
 */
att_rc att_policy_parse_json(const char *json, size_t len, struct att_policy **out, char *why,
                             size_t why_len);
/** Pretty-printed, keys sorted, trailing newline; appended to @p out. */
att_rc att_policy_encode_json(const struct att_policy *p, struct att_buf *out);

#endif
