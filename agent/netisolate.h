/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network isolation of a quarantined container: cut and restore all traffic
 * of the network namespace a process is in, with an nftables table
 * "inet attest_quarantine" whose input, output and forward base chains hook
 * at priority -300 (before conntrack and everything else) with policy drop
 * (nft(8), "TABLES", "CHAINS"; the inet family covers IPv4 and IPv6).
 *
 * The rules go in through libnftables in the target namespace (netfilter.h):
 * no nft process, no shell. Only /proc/PID/ns/net is needed, so a paused
 * (frozen) or stopped target works. It never touches the agent's own
 * namespace: a target that shares it (host network) is refused. A container's
 * network policy table (netfilter.h) stays in place underneath: lifting the
 * isolation restores exactly the policy.
 *
 * It does NOT hold against a container with CAP_NET_ADMIN over its own
 * namespace, which can delete the table (quarantine also pauses it), does not
 * disconnect engine networks (engine_network_action()) and keeps no state:
 * the table in the namespace is the state. Nothing is allocated for the
 * caller. Blocking (netlink round trips); thread-safe.
 */
#ifndef ATT_AGENT_NETISOLATE_H
#define ATT_AGENT_NETISOLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "attest/rc.h"

#define NETISOLATE_TABLE "attest_quarantine" /* in family inet */

/**
 * Cut the network of the namespace process @p pid is in.
 *
 * Creates the table, or replaces it in the same nft transaction when it
 * exists (so a namespace already isolated stays isolated, with exactly our
 * chains): applying twice is ATT_OK.
 * @param[in]  pid      > 1, a live process in the host's pid namespace
 * @param[out] why      reason on failure (nftables' message, bounded); may be NULL
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG pid <= 1, or the namespace is the agent's own
 * @retval ATT_ERR_NOT_FOUND   no such process (or it exited)
 * @retval ATT_ERR_IO          nftables refused or failed, or setns failed
 */
att_rc netisolate_apply(pid_t pid, char *why, size_t why_len);

/**
 * Restore the network: delete the table. A namespace without it is ATT_OK.
 * Retvals as netisolate_apply().
 */
att_rc netisolate_remove(pid_t pid, char *why, size_t why_len);

/**
 * Whether the namespace of @p pid has the table.
 * @param[out] isolated  written only on ATT_OK
 * Retvals as netisolate_apply().
 */
att_rc netisolate_status(pid_t pid, bool *isolated, char *why, size_t why_len);

#endif
