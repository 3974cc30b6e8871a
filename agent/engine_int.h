/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface between engine.c (the engine_* dispatcher and the Docker
 * Engine API client) and engine_runc.c (bare runc: no engine process, the
 * state directory is read directly). Not for use outside agent/engine*.c.
 */
#ifndef ATT_AGENT_ENGINE_INT_H
#define ATT_AGENT_ENGINE_INT_H

#include <stddef.h>

#include "attest/engine_json.h"
#include "attest/rc.h"

#define ENGINE_RUNC_SCHEME "runc://"

struct engine_runc;

/**
 * @param[in] root  runc --root directory, absolute; it need not exist yet
 *                  (runc creates it on the first container)
 * @param[out] out  free with engine_runc_free()
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM
 */
att_rc engine_runc_open(const char *root, struct engine_runc **out);
void engine_runc_free(struct engine_runc *r);
/** See engine_list(); a missing root directory is an empty list. */
att_rc engine_runc_list(struct engine_runc *r, struct att_engine_container **out, size_t *n);
/** See engine_inspect(). */
att_rc engine_runc_inspect(struct engine_runc *r, const char *id, struct att_engine_container *out);
/** See engine_action(): freezer cgroup for pause/unpause, SIGKILL for kill. */
att_rc engine_runc_action(struct engine_runc *r, const char *id, const char *action, char *why,
                          size_t why_len);

#endif
