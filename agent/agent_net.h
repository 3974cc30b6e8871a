/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container network policy in force (issue 9): the agent applies the
 * "network" section of a container's policy as nftables table
 * "inet attest_<id>" in the container's network namespace (netfilter.h) at
 * start (prestart hook) and whenever the policy or the DNS names' addresses
 * change (with --engine: the sweep); logs what it applied ("netpolicy:<id>", attest/netpolicy.h)
 * and extends it into the PCR; re-reads the live table every check interval and logs a difference
 * ("netdrift:<id>") as a violation, then puts its ruleset back. The nftables counters of refused
 * traffic are kept per container for the metrics and the evidence.
 *
 * What was applied (container, policy, digests) is kept in
 * STATE_DIR/netpolicy.state, so an agent restart checks the tables it finds
 * against what it applied instead of applying over a drift.
 * Thread-safe: one lock for the entries, held while applying (DNS lookups
 * included) and while calling the agent's log (agent_record_buf, the agent's
 * lock) and policy (agent_net_policy, its admission lock), so callers must
 * hold neither. The counters are published to a snapshot under a second
 * lock: agent_net_stats() and agent_net_metrics() never wait on a DNS lookup.
 * Without an engine (no sweep) only the prestart apply happens: no drift
 * checks, no policy changes or re-resolution for running containers.
 */
#ifndef ATT_AGENT_NET_H
#define ATT_AGENT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "attest/buf.h"
#include "attest/rc.h"

struct agent;
struct agent_net;

#define AGENT_NET_CHECK_DEFAULT 10u /* seconds between reads of the live rulesets */
#define AGENT_NET_STATE_FILE    "netpolicy.state"

/** @retval ATT_OK @retval ATT_ERR_NOMEM. Loads the state file if there is one. */
att_rc agent_net_new(const char *state_dir, unsigned check_s, struct agent_net **out);
void agent_net_free(struct agent_net *n);

/**
 * At container start: apply the network section of container policy
 * @p policy (or, when no policy has that name, the one admitting @p image_id;
 * no section: nothing to do, ATT_OK) in the namespace of @p pid. A deny rule
 * whose DNS names do not resolve cannot be applied (it would fail open).
 * @retval ATT_OK applied (or nothing to apply)
 * @retval ATT_ERR_POLICY cannot be applied (@p why says why): refuse the start
 */
att_rc agent_net_start(struct agent *a, const char *id, pid_t pid, const char *policy,
                       const char *image_id, char *why, size_t why_len);

/* A container the engine lists, for agent_net_tick(). */
struct agent_net_seen {
    const char *id;       /* 64 hex */
    const char *image_id; /* "sha256:..." or NULL */
    const char *policy_label; /* the io.attest.policy label, or NULL */
    pid_t pid;            /* > 0 when running and inspected; 0 otherwise (e.g. paused) */
};

/**
 * From the container sweep, every tick: @p seen is every container the engine
 * lists. Applies changed policies, re-resolves due DNS names, checks live
 * rulesets when the check interval has passed, forgets containers no longer
 * listed.
 */
void agent_net_tick(struct agent *a, const struct agent_net_seen *seen, size_t n);

/** Prometheus text lines (counters per container and direction), appended to @p out. */
void agent_net_metrics(struct agent_net *n, struct att_buf *out);

/**
 * The evidence's "netstats" text: one "<id> <egress dropped> <ingress dropped>
 * <ruleset hex>" line per container with a policy in force. malloc'd, NULL
 * when there is none (or no memory).
 */
char *agent_net_stats(struct agent_net *n);

#endif
