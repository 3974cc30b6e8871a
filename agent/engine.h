/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container engine backend: the Docker Engine API over its unix socket
 * (Docker, or podman's compatible `podman system service`), through libcurl;
 * or, where no engine runs, bare runc: its --root state directory is read
 * directly (<root>/<id>/state.json, engine_runc.c). With runc there is no
 * image: image_id is NULL, image_ref is the bundle path, so admission by
 * image ID is not available (the prestart hook still measures the rootfs),
 * and the posture fields stay empty.
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
 * @param[in] url  "unix:///run/podman/podman.sock" (Docker Engine API) or
 *                 "runc:///run/runc" (bare runc, its --root directory)
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM
 */
att_rc engine_open(const char *url, struct engine **out);
void engine_free(struct engine *e);

/** All containers the engine knows, with state and image (no inspect). */
att_rc engine_list(struct engine *e, struct att_engine_container **out, size_t *n);
/** Inspect one container (pid, posture). @retval ATT_ERR_NOT_FOUND */
att_rc engine_inspect(struct engine *e, const char *id, struct att_engine_container *out);
/**
 * POST /containers/{id}/{pause|unpause|kill}. With runc: pause/unpause write
 * FROZEN/THAWED to the container's freezer cgroup (v2: cgroup.freeze), kill
 * sends SIGKILL to the init process after checking its start time.
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_IO engine refused or unreachable
 */
att_rc engine_action(struct engine *e, const char *id, const char *action, char *why,
                     size_t why_len);

#endif
