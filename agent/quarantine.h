/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine enforcement on the agent (DESIGN §6). The verifier's signed
 * orders arrive with evidence requests; each is checked (signature with the
 * key received at enrollment, addressed to this host's AK, not expired, not a
 * replay of an order already lifted), carried out through the container
 * engine (pause, network disconnect, kill) and the container's network
 * namespace (nftables drop-all, agent/netisolate.h), logged as an ima-buf
 * "quarantine:<container>" entry so the action itself is attested, and
 * answered with an acknowledgement. A lift order undoes it. Orders are
 * idempotent by id: one already in effect is acknowledged again, not redone.
 * Refused orders are logged as "order:refused" entries.
 *
 * State (STATE_DIR/quarantine.state, rewritten atomically on each change, and
 * STATE_DIR/verifier-key.der) survives restarts; while a container or its
 * image is under an open quarantine, the prestart hook refuses its start.
 *
 * Memory: struct quarantine owns its records, key and engine handle; one
 * mutex serialises orders (they come from HTTP threads) and hook lookups.
 */
#ifndef ATT_AGENT_QUARANTINE_H
#define ATT_AGENT_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/proto.h"
#include "attest/rc.h"

struct agent;
struct quarantine;

#define QUARANTINE_MAX_RECORDS 4096u

/**
 * Load the state from @p state_dir (absent files: empty state, no key).
 * @param[in] engine_url  the container engine (engine.h), NULL when none:
 *                        orders then fail with "no container engine"
 * @retval ATT_OK @retval ATT_ERR_PARSE a state file is damaged @retval ATT_ERR_NOMEM
 */
att_rc quarantine_open(const char *state_dir, const char *engine_url, struct quarantine **out);
void quarantine_free(struct quarantine *q);

/**
 * Keep the verifier's order key (SPKI DER, P-256) from enrollment. The first
 * key is pinned: the same key again is ATT_OK, another is ATT_ERR_EXISTS
 * (remove STATE_DIR/verifier-key.der to move the agent to a new verifier).
 * Lock order: this module's lock, then the agent's (never the reverse).
 */
att_rc quarantine_set_key(struct quarantine *q, const uint8_t *spki, size_t len, char *why,
                          size_t why_len);

/**
 * Check and carry out one order envelope. Returns true with @p ack filled
 * (ok false with the reason for a refusal; its id is the order's, or all
 * zeros when the envelope could not be opened; free ack->result with
 * att_order_ack_cleanup()), or false when the engine failed and the order
 * is not acknowledged (the verifier sends it again; @p ack holds nothing).
 * @param[in] ak_name  hex Name of this host's AK: the order must name it
 */
bool quarantine_handle(struct quarantine *q, struct agent *a, const char *ak_name,
                       const uint8_t *env, size_t len, struct att_order_ack *ack);

/**
 * Whether a container start must be refused: the container, or a container
 * of @p image_id (may be NULL), is under an open quarantine.
 */
bool quarantine_refuses(struct quarantine *q, const char *container_id, const char *image_id,
                        char *why, size_t why_len);

#endif
