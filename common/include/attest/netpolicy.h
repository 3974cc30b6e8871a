/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's network policy (issue 9): the "network" section of a
 * container policy. Default deny or allow, then rules tried in order (the
 * first that matches decides): direction, action, protocol, the remote peer
 * (a CIDR, or DNS names the agent resolves when it applies the policy and
 * again every resolve_interval seconds) and the service port or range.
 *
 * Pure data: parsing is in proto/ (policy_json.c), enforcement with
 * libnftables in agent/netfilter.c. The canonical text is what both sides
 * hash: the digest the agent logs with the ruleset it applied and the one the
 * verifier computes from its own policy are the same bytes.
 * Everything reachable from a struct att_net_policy is owned by it.
 */
#ifndef ATT_COMMON_NETPOLICY_H
#define ATT_COMMON_NETPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/rc.h"

#define ATT_NET_MAX_RULES       256u
#define ATT_NET_MAX_DNS         16u  /* names per rule */
#define ATT_NET_MAX_NAME        253u /* a DNS name, without the trailing dot */
#define ATT_NET_RESOLVE_DEFAULT 300u /* seconds */
#define ATT_NET_RESOLVE_MIN     5u
#define ATT_NET_RESOLVE_MAX     86400u

enum att_net_dir {
    ATT_NET_EGRESS = 1,  /* connections the container opens: peer = destination */
    ATT_NET_INGRESS = 2, /* connections to the container: peer = source */
};

enum att_net_proto {
    ATT_NET_ANY = 0,
    ATT_NET_TCP,
    ATT_NET_UDP,
    ATT_NET_ICMP, /* ICMP and ICMPv6 */
};

struct att_net_rule {
    enum att_net_dir dir;
    bool allow; /* accept, or refuse (egress: reject; ingress: drop) */
    enum att_net_proto proto;
    int family;       /* 0: any peer (or DNS names), 4: IPv4 CIDR, 6: IPv6 CIDR */
    uint8_t addr[16]; /* network address, host bits zero (first 4 bytes for IPv4) */
    unsigned prefix;  /* 0..32 or 0..128 */
    char **dns;       /* owned lower-case names (family 0), NULL when none */
    size_t n_dns;
    uint16_t port_lo; /* 0 and 0: any port; else lo <= hi (tcp/udp only) */
    uint16_t port_hi;
};

struct att_net_policy {
    bool default_allow;         /* what the end of the rule list does */
    uint32_t resolve_interval;  /* seconds between DNS re-resolutions */
    struct att_net_rule *rules; /* owned array */
    size_t n_rules;
};

/** Free everything @p np owns and @p np itself; NULL is a no-op. */
void att_net_policy_free(struct att_net_policy *np);

/** Deep copy; NULL in gives NULL out with ATT_OK. @retval ATT_OK @retval ATT_ERR_NOMEM */
att_rc att_net_policy_dup(const struct att_net_policy *np, struct att_net_policy **out);

/**
 * Whether @p name is a DNS name a rule may carry: 1..253 characters of
 * LDH labels (letters, digits, hyphen; 1..63 each, no leading or trailing
 * hyphen), dot-separated, no trailing dot; upper case allowed.
 */
bool att_net_dns_name_ok(const char *name);

/**
 * Parse "a.b.c.d/len" or "x:y::z/len" (a bare address is /32 or /128) into
 * @p rule's family, addr and prefix. Host bits set is an error.
 * @retval ATT_OK @retval ATT_ERR_PARSE (@p why says why)
 */
att_rc att_net_cidr_parse(const char *s, struct att_net_rule *rule, char *why, size_t why_len);

/** "10.0.0.0/8" or "fd00::/8" into @p out (>= 64 bytes). */
void att_net_cidr_format(const struct att_net_rule *rule, char *out, size_t out_len);

/**
 * The canonical text of @p np (appended to @p out): one line
 * "default allow|deny resolve <seconds>" then one line per rule, in order:
 * "<egress|ingress> <allow|deny> <any|tcp|udp|icmp> <peer> <ports>"
 * with peer "any", the CIDR as att_net_cidr_format() writes it, or
 * "dns:" and the lower-cased names joined by ","; ports "any", "N" or "N-M".
 * @retval ATT_OK @retval ATT_ERR_NOMEM
 */
att_rc att_net_policy_canonical(const struct att_net_policy *np, struct att_buf *out);

/** SHA-256 of the canonical text. @retval ATT_OK @retval ATT_ERR_NOMEM @retval ATT_ERR_CRYPTO */
att_rc att_net_policy_digest(const struct att_net_policy *np, uint8_t out[ATT_SHA256_LEN]);

/* ---- the log records the agent writes (ima-buf), read by the verifier ---- */

/*
 * "netpolicy:<container id>": one line of space-separated key=value fields
 * (the policy name percent-encoded: bytes <= ' ', >= 0x7f, '%' and '=' as %XX),
 *   status=applied policy=<name> network=<64 hex> ruleset=<64 hex> table=<name>
 *          [listing=omitted-too-large]
 *   status=removed policy=<name|-> table=<name>
 *   status=failed policy=<name> network=<64 hex> table=<name> reason=<text to the end>
 * then, for status=applied (unless omitted), "\n" and the canonical ruleset
 * the agent read back from the kernel (agent/netfilter.c), whose SHA-256 is
 * "ruleset".
 *
 * "netdrift:<container id>": the live ruleset differs from the one applied
 *   expected=<64 hex> found=<64 hex|none> table=<name> detail=<text to the end>
 * (found=none: the table is gone).
 */
/*
 * The evidence's "netstats" text (issue 9): one line per container with a
 * network policy in force,
 *   "<64 hex container id> <egress dropped> <ingress dropped> <64 hex ruleset>"
 * (decimal packet counts of refused new connections). The agent writes it
 * and reads it back for its /metrics; the verifier shows it per container.
 */
struct att_net_stats {
    char container[2 * ATT_SHA256_LEN + 1];
    uint64_t egress_dropped; /* at most INT64_MAX, so JSON carries it exactly */
    uint64_t ingress_dropped;
    char ruleset[2 * ATT_SHA256_LEN + 1];
};

#define ATT_NET_STATS_LINE_MAX (2 * 64 + 2 * 19 + 3) /* without the newline */

/** Parse one line p[0..len) (no newline) of exactly that form. @retval ATT_OK @retval ATT_ERR_PARSE
 */
att_rc att_net_stats_parse(const char *p, size_t len, struct att_net_stats *out);

#define ATT_NET_RECORD_POLICY "netpolicy:"
#define ATT_NET_RECORD_DRIFT  "netdrift:"

#endif
