/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI prestart hook client, libc only: forward the OCI state on stdin to
 * the agent's control socket ("HOOK <storage root> <state>\n") and turn the
 * answer into the exit status the runtime acts on. Used by `attest-agent
 * hook` and by the small `attest-hook` binary, which an engine can exec for
 * every container start without loading the agent's 40 libraries (about
 * 5 ms per start here).
 */
#ifndef ATT_AGENT_HOOK_CLIENT_H
#define ATT_AGENT_HOOK_CLIENT_H

#include <stdbool.h>

#define HOOK_MAX_REQUEST (2u * 1024u * 1024u) /* the agent's AGENT_CTL_MAX_REQUEST */

/**
 * @param[in] state_dir  the agent's state dir (its agent.sock)
 * @param[in] storage    containers/storage graph root (image lookup), may be NULL
 * @param[in] fail_open  start anyway when the agent cannot be reached
 * @return 0 admit (the runtime goes on), 1 refuse
 */
int hook_client_run(const char *state_dir, const char *storage, bool fail_open);

#endif
