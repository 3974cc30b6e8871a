/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nftables inside a container's network namespace, through libnftables (the
 * C API of nft; no nft(8) process). A call opens /proc/PID/ns/net in the
 * agent, refuses the agent's own namespace (host network), and runs the
 * libnftables context in a short-lived thread that has joined exactly that
 * open namespace with setns(2): the rest of the agent never leaves its own
 * namespace, and a pid reused between the check and the join cannot redirect
 * the rules. Calls are serialised (one libnftables context at a time).
 *
 * Two users: the network policy of a container (issue 9; table
 * "inet attest_<container id>", see nf_render) and quarantine isolation
 * (netisolate.c, table "inet attest_quarantine").
 *
 * Memory: every att_buf out-parameter belongs to the caller (initialised
 * and cleaned up by the caller); nothing else is allocated for the caller.
 */
#ifndef ATT_AGENT_NETFILTER_H
#define ATT_AGENT_NETFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/netpolicy.h"
#include "attest/rc.h"

#define NF_TABLE_PREFIX    "attest_" /* + 64 hex container id, family inet */
#define NF_TABLE_MAX       (7 + 64 + 1)
#define NF_COUNTER_EGRESS  "egress_dropped"
#define NF_COUNTER_INGRESS "ingress_dropped"
#define NF_MAX_ADDRS       64u             /* resolved addresses kept per rule */
#define NF_MAX_LISTING     (1024u * 1024u) /* bytes of nft output read back */

/** Open /proc/PID/ns/net (O_CLOEXEC) into *fd; refuses pid <= 1 and the agent's own namespace.
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_IO */
att_rc nf_open_netns(pid_t pid, int *fd, char *why, size_t why_len);

/**
 * Run nft commands @p cmd (nft's own syntax, one transaction) in the
 * namespace open at @p nsfd. @p out (may be NULL) receives nft's output,
 * as JSON when @p json. Errors carry nft's message.
 * @retval ATT_OK @retval ATT_ERR_IO (why says why) @retval ATT_ERR_NOMEM
 */
att_rc nf_run(int nsfd, const char *cmd, bool json, struct att_buf *out, char *why, size_t why_len);

/** The table name of a container: "attest_<id>" (id: 64 lower-case hex). */
void nf_table_name(const char *container_id, char out[NF_TABLE_MAX]);

/* The addresses the DNS names of one rule resolved to, as text (inet_ntop). */
struct nf_resolved_rule {
    char (*v4)[16];
    size_t n_v4;
    char (*v6)[46];
    size_t n_v6;
    bool lookup_failed; /* a name did not resolve */
    bool truncated;     /* a family had more than NF_MAX_ADDRS addresses */
};

/* One per rule of a policy (index = rule index); rules without DNS have none. */
struct nf_resolved {
    struct nf_resolved_rule *rules; /* owned array of n_rules */
    size_t n_rules;
};

/** Resolve every DNS name of @p np (getaddrinfo, in the agent's namespace: names only
 * the container's own resolver knows do not resolve). Names that do not resolve give no
 * addresses: an allow rule then matches nothing (fails closed); see nf_resolved_check()
 * for deny rules. Sorted, unique. Blocking (the resolver's timeouts).
 * @retval ATT_OK @retval ATT_ERR_NOMEM */
att_rc nf_resolve(const struct att_net_policy *np, struct nf_resolved *out);
void nf_resolved_cleanup(struct nf_resolved *r);
/** A deny rule whose names did not all resolve, or had more addresses than are kept,
 * would fail open: ATT_ERR_POLICY naming it; else ATT_OK. */
att_rc nf_resolved_check(const struct att_net_policy *np, const struct nf_resolved *res, char *why,
                         size_t why_len);

/**
 * The nft script that makes table @p table exactly the ruleset of @p np
 * (created, or replaced in the same transaction): chains "egress" (hook
 * output) and "ingress" (hook input) at filter priority, loopback,
 * established/related traffic and IPv6 neighbour/router discovery accepted
 * first, then the rules in order, then
 * the default; refusals count in named counters NF_COUNTER_EGRESS /
 * NF_COUNTER_INGRESS (egress: reject, TCP with a reset; ingress: drop).
 * @p res may be NULL when no rule has DNS names.
 * A script that does not fit @p out is an error, never a cut script.
 * @retval ATT_OK @retval ATT_ERR_NOMEM @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_INTERNAL
 */
att_rc nf_render(const char *table, const struct att_net_policy *np, const struct nf_resolved *res,
                 struct att_buf *out);

/**
 * The canonical form of a table listing (`list table` as JSON): nft's
 * metainfo, every "handle" and the counters' packets/bytes removed, keys
 * sorted, compact. Counter values go to @p egress / @p ingress (may be NULL).
 * @retval ATT_OK @retval ATT_ERR_PARSE (not an nft JSON listing) @retval ATT_ERR_NOMEM
 */
att_rc nf_canonical(const char *listing, size_t len, struct att_buf *canon, uint64_t *egress,
                    uint64_t *ingress);

/* What nf_read() found. */
struct nf_live {
    bool exists;                    /* the table is there */
    uint8_t digest[ATT_SHA256_LEN]; /* SHA-256 of the canonical listing (exists only) */
    uint64_t egress_dropped;
    uint64_t ingress_dropped;
};

/**
 * Apply @p script (nf_render) in @p nsfd, then read the table back.
 * @param[out] canon  the canonical listing of what is now in force (may be NULL)
 */
att_rc nf_apply(int nsfd, const char *table, const char *script, struct att_buf *canon,
                struct nf_live *live, char *why, size_t why_len);

/** Read table @p table of namespace @p nsfd: whether it exists, its digest, its counters. */
att_rc nf_read(int nsfd, const char *table, struct att_buf *canon, struct nf_live *live, char *why,
               size_t why_len);

/** Delete table @p table if it exists (a namespace without it is ATT_OK). */
att_rc nf_remove(int nsfd, const char *table, char *why, size_t why_len);

/** Whether namespace @p nsfd has inet table @p table. */
att_rc nf_has_table(int nsfd, const char *table, bool *has, char *why, size_t why_len);

#endif
