/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runtime measurement of the containers an engine runs (see
 * agent_containers.c for the log entries it writes). One background thread.
 */
#ifndef ATT_AGENT_CONTAINERS_H
#define ATT_AGENT_CONTAINERS_H

#include "agent.h"
#include "attest/rc.h"

struct agent_containers;

/**
 * Start measuring the containers of the engine at @p engine_url
 * ("unix:///path.sock"): new processes within @p tick_ms (default 1000), all
 * processes again every @p integrity_s seconds (default 30).
 * @param[in] a  borrowed; must outlive the returned object
 */
att_rc agent_containers_start(struct agent *a, const char *engine_url, unsigned tick_ms,
                              unsigned integrity_s, struct agent_containers **out);
void agent_containers_stop(struct agent_containers *c);

#endif
