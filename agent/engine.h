/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container engine backend: the Docker Engine API over its unix socket
 * (Docker, or podman's compatible `podman system service`), through libcurl.
 * Discovers containers (id, image, init pid, state, posture) and later acts on
 * them (pause, unpause, kill) for quarantine. Answers are decoded by
 * proto/engine_json (bounded, untrusted). One struct engine per thread: it
 * owns a CURL easy handle, which is not thread-safe.
 */
#ifndef ATT_AGENT_ENGINE_H
#define ATT_AGENT_ENGINE_H

#include <stddef.h>

#include "attest/engine_json.h"
#include "attest/rc.h"

#define ENGINE_API_VERSION "v1.40"

struct engine;

/**
 * @param[in] url  "unix:///run/podman/podman.sock" (the only scheme)
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM
 */
att_rc engine_open(const char *url, struct engine **out);
void engine_free(struct engine *e);

/** All containers the engine knows, with state and image (no inspect). */
att_rc engine_list(struct engine *e, struct att_engine_container **out, size_t *n);
/** Inspect one container (pid, posture). @retval ATT_ERR_NOT_FOUND */
att_rc engine_inspect(struct engine *e, const char *id, struct att_engine_container *out);
/**
 * POST /containers/{id}/{pause|unpause|kill}.
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_IO engine refused or unreachable
 */
att_rc engine_action(struct engine *e, const char *id, const char *action, char *why,
                     size_t why_len);

#endif
