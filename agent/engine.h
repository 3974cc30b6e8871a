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
 * them (pause, unpause, kill, network disconnect/connect) for quarantine.
 * Answers are decoded by proto/engine_json (bounded, untrusted). One struct
 * engine per thread: it owns a CURL easy handle, which is not thread-safe.
 */
#ifndef ATT_AGENT_ENGINE_H
#define ATT_AGENT_ENGINE_H

#include <stdbool.h>
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

/**
 * Names of the networks container @p id is attached to (the keys of its
 * inspect's NetworkSettings.Networks; see att_engine_networks_decode()).
 * None (n = 0) for --network none/host or container:<id>, and always with runc.
 * @param[out] names  written only on ATT_OK: owned array of owned strings,
 *                    NULL when @p n is 0; free with att_engine_networks_free()
 * @param[out] n      written only on ATT_OK
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG bad id @retval ATT_ERR_NOT_FOUND
 * @retval ATT_ERR_IO engine refused or unreachable @retval ATT_ERR_PARSE
 * @retval ATT_ERR_NOMEM
 */
att_rc engine_networks(struct engine *e, const char *id, char ***names, size_t *n, char *why,
                       size_t why_len);
/**
 * Disconnect container @p id from network @p net (POST
 * /networks/{net}/disconnect, {"Container": id, "Force": true}), or connect
 * it again (POST /networks/{net}/connect, {"Container": id}). The engine's
 * idempotence is its own: both podman and Docker refuse to disconnect what is
 * not connected, or connect what is.
 * @param[in] net  a name from engine_networks(); must pass att_engine_network_name_ok()
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG bad id or network name, or a runc engine (no networks)
 * @retval ATT_ERR_NOT_FOUND   no such container or network (HTTP 404)
 * @retval ATT_ERR_IO          engine refused (any other non-2xx) or unreachable
 */
att_rc engine_network_action(struct engine *e, const char *id, const char *net, bool connect,
                             char *why, size_t why_len);

#endif
