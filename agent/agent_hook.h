/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's half of the OCI prestart hook (see agent_hook.c). */
#ifndef ATT_AGENT_HOOK_H
#define ATT_AGENT_HOOK_H

#include <stddef.h>

#include "agent.h"
#include "attest/rc.h"

struct rootfs_cache;

/**
 * Measure and admit (or refuse) the container whose OCI state is @p state_json.
 * @param[in]  cache         borrowed rootfs digest cache
 * @param[in]  storage_root  containers/storage graph root to find the image in, or NULL
 * @param[out] reply         "admit ..." or "refuse <reason>"
 * @retval ATT_OK admitted @retval ATT_ERR_POLICY refused (for any reason: fail closed)
 */
att_rc agent_hook(struct agent *a, struct rootfs_cache *cache, const char *storage_root,
                  const char *state_json, size_t len, char *reply, size_t reply_len);

#endif
