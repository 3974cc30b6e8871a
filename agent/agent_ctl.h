/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's local control socket, STATE_DIR/agent.sock (mode 0600, peers
 * must be root or the agent's own uid, checked with SO_PEERCRED).
 * Protocol, one request per line: "MEASURE <absolute path>\n"; one reply line
 * each: "measured sha256:<hex> <path>", "unchanged sha256:<hex> <path>" or
 * "error <path>: <reason>". The client half-closes after its last request.
 * "HOOK <storage root or -> <OCI state JSON>\n" (from `attest-agent hook`)
 * answers "admit ..." or "refuse <reason>".
 */
#ifndef ATT_AGENT_CTL_H
#define ATT_AGENT_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"
#include "attest/rc.h"

#define AGENT_CTL_MAX_REQUEST (2u * 1024u * 1024u)

/**
 * Serve the control socket until @p stop_fd becomes readable.
 * @param[in] a  borrowed
 */
att_rc agent_ctl_serve(struct agent *a, const char *state_dir, int stop_fd);

/**
 * Client: ask the agent of @p state_dir to measure @p paths (relative paths are
 * made absolute against the cwd). Prints each reply line to stdout.
 * @return 0 all measured or unchanged, 1 some failed, 2 could not talk to the agent
 */
int agent_ctl_measure(const char *state_dir, char *const *paths, size_t n);

/**
 * The OCI prestart hook client: forward the OCI state on stdin to the agent
 * ("HOOK <storage root> <state>"), print a refusal on stderr.
 * @param[in] storage    containers/storage graph root (image lookup), may be NULL
 * @param[in] fail_open  start anyway when the agent cannot be reached
 * @return 0 admit (the runtime goes on), 1 refuse
 */
int agent_ctl_hook(const char *state_dir, const char *storage, bool fail_open);

#endif
