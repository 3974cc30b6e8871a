/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's network policy (attest/netpolicy.h): lifetime, the checks
 * on its two kinds of peer (CIDR text, RFC 4632 §3.1, with addresses as
 * inet_pton(3) reads them and inet_ntop(3) writes them, RFC 5952 for IPv6;
 * DNS names, the LDH rule of RFC 1123 §2.1 and the lengths of RFC 1035
 * §2.3.4), and the canonical text that agent and verifier both hash.
 * No JSON (proto/src/policy_json.c), no resolving, no nftables
 * (agent/netfilter.c). Only ASCII is interpreted; no locale.
 */
#include "attest/netpolicy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attest/util.h"

#define MAX_LABEL 63u
/* The longest CIDR text: a 45-character IPv6 address with an IPv4 tail and "/128". */
#define CIDR_MAX  63u
#define CANON_MAX (4u * 1024u * 1024u) /* 256 rules of 16 names of 253: about 1.1 MiB */
#define SHOW_MAX  CIDR_MAX

static void free_strv(char **v, size_t n)
{
    size_t i;

    for (i = 0; v != NULL && i < n; i++) {
        free(v[i]);
    }
    free(v);
}

static void rule_cleanup(struct att_net_rule *r)
{
    free_strv(r->dns, r->n_dns);
    r->dns = NULL;
    r->n_dns = 0;
}

void att_net_policy_free(struct att_net_policy *np)
{
    size_t i;

    if (np == NULL) {
        return;
    }
    for (i = 0; np->rules != NULL && i < np->n_rules; i++) {
        rule_cleanup(&np->rules[i]);
    }
    free(np->rules);
    free(np);
}

/*
 * Copy @p src into @p dst (uninitialised), names and all. On failure dst
 * owns nothing. A rule that claims names it does not have is refused rather
 * than copied as "any peer": a copy must never be wider than its original.
 */
static att_rc rule_copy(struct att_net_rule *dst, const struct att_net_rule *src)
{
    size_t i;

    *dst = *src;
    dst->dns = NULL;
    dst->n_dns = 0;
    if (src->n_dns == 0) {
        return ATT_OK;
    }
    if (src->dns == NULL || src->n_dns > ATT_NET_MAX_DNS) {
        return ATT_ERR_INVALID_ARG;
    }
    dst->dns = calloc(src->n_dns, sizeof(*dst->dns));
    if (dst->dns == NULL) {
        return ATT_ERR_NOMEM;
    }
    for (i = 0; i < src->n_dns; i++) {
        if (src->dns[i] == NULL) {
            rule_cleanup(dst);
            return ATT_ERR_INVALID_ARG;
        }
        dst->dns[i] = strdup(src->dns[i]);
        dst->n_dns = i + 1; /* counted first, so rule_cleanup() frees what exists */
        if (dst->dns[i] == NULL) {
            rule_cleanup(dst);
            return ATT_ERR_NOMEM;
        }
    }
    return ATT_OK;
}

att_rc att_net_policy_dup(const struct att_net_policy *np, struct att_net_policy **out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_net_policy *copy = NULL;
    size_t i;

    if (out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (np == NULL) {
        *out = NULL;
        return ATT_OK;
    }
    if ((np->n_rules > 0 && np->rules == NULL) || np->n_rules > ATT_NET_MAX_RULES) {
        return ATT_ERR_INVALID_ARG;
    }
    copy = calloc(1, sizeof(*copy));
    if (copy == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    copy->default_allow = np->default_allow;
    copy->resolve_interval = np->resolve_interval;
    if (np->n_rules > 0) {
        copy->rules = calloc(np->n_rules, sizeof(*copy->rules));
        if (copy->rules == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    for (i = 0; i < np->n_rules; i++) {
        rc = rule_copy(&copy->rules[i], &np->rules[i]);
        if (rc != ATT_OK) {
            goto out;
        }
        copy->n_rules = i + 1;
    }
    *out = copy;
    copy = NULL; /* transferred to caller */
    rc = ATT_OK;
out:
    att_net_policy_free(copy);
    return rc;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* One label of @p len bytes at @p s: 1..63 letters, digits, hyphens; no hyphen at either end. */
static bool label_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > MAX_LABEL || s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '-') {
            return false;
        }
    }
    return true;
}

bool att_net_dns_name_ok(const char *name)
{
    size_t len;
    size_t start = 0;
    size_t i;

    if (name == NULL) {
        return false;
    }
    len = strnlen(name, ATT_NET_MAX_NAME + 1);
    if (len == 0 || len > ATT_NET_MAX_NAME) {
        return false;
    }
    /* i == len is the end of the last label; a trailing dot leaves it empty */
    for (i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            continue;
        }
        if (!label_ok(name + start, i - start)) {
            return false;
        }
        start = i + 1;
    }
    return true;
}

/*
 * How @p s is named in a why: quoted when it is short printable ASCII with
 * no quote or backslash (why reaches logs and HTTP bodies), else "value".
 */
static void show(char *buf, size_t len, const char *s)
{
    size_t n = strnlen(s, SHOW_MAX + 1);
    size_t i;

    for (i = 0; i < n && n <= SHOW_MAX; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\') {
            break;
        }
    }
    if (n > 0 && n <= SHOW_MAX && i == n) {
        (void)snprintf(buf, len, "\"%s\"", s);
    } else {
        (void)snprintf(buf, len, "value");
    }
}

/* "0".."max" in decimal without sign, blank or leading zero. */
static bool prefix_parse(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t i;

    if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
        return false;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (i >= 3 || s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* The bits of byte @p byte that a prefix of @p prefix bits covers. */
static uint8_t prefix_mask(unsigned prefix, size_t byte)
{
    unsigned start = (unsigned)byte * 8u;

    if (prefix >= start + 8u) {
        return 0xffu;
    }
    if (prefix <= start) {
        return 0;
    }
    return (uint8_t)(0xffu << (8u - (prefix - start)));
}

/* Clear the host bits of @p addr (@p alen bytes); true if any was set. */
static bool clear_host_bits(uint8_t *addr, size_t alen, unsigned prefix)
{
    bool had = false;
    size_t i;

    for (i = 0; i < alen; i++) {
        uint8_t keep = prefix_mask(prefix, i);

        if ((addr[i] & (uint8_t)~keep) != 0) {
            had = true;
        }
        addr[i] = (uint8_t)(addr[i] & keep);
    }
    return had;
}

att_rc att_net_cidr_parse(const char *s, struct att_net_rule *rule, char *why, size_t why_len)
{
    char text[CIDR_MAX + 1];
    char name[SHOW_MAX + 3];
    char net[64];
    struct att_net_rule r = {0};
    char *slash;
    size_t len;
    unsigned max;

    if (s == NULL || rule == NULL) {
        att_set_why(why, why_len, "no CIDR");
        return ATT_ERR_INVALID_ARG;
    }
    show(name, sizeof(name), s);
    len = strnlen(s, CIDR_MAX + 1);
    if (len == 0 || len > CIDR_MAX) {
        att_set_why(why, why_len, "%s is not an address or address/prefix", name);
        return ATT_ERR_PARSE;
    }
    memcpy(text, s, len);
    text[len] = '\0';
    slash = strchr(text, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    /* inet_pton: dotted quad only for IPv4 (no "10.1", no octal), RFC 4291 §2.2 for IPv6 */
    r.family = strchr(text, ':') != NULL ? 6 : 4;
    if (inet_pton(r.family == 6 ? AF_INET6 : AF_INET, text, r.addr) != 1) {
        att_set_why(why, why_len, "%s is not an IPv%d address", name, r.family);
        return ATT_ERR_PARSE;
    }
    max = r.family == 6 ? 128u : 32u;
    r.prefix = max;
    if (slash != NULL && !prefix_parse(slash + 1, max, &r.prefix)) {
        att_set_why(why, why_len, "%s: the prefix length must be 0 to %u", name, max);
        return ATT_ERR_PARSE;
    }
    if (clear_host_bits(r.addr, r.family == 6 ? 16u : 4u, r.prefix)) {
        att_net_cidr_format(&r, net, sizeof(net));
        att_set_why(why, why_len, "%s has host bits set (the network is %s)", name, net);
        return ATT_ERR_PARSE;
    }
    rule->family = r.family;
    memcpy(rule->addr, r.addr, sizeof(rule->addr));
    rule->prefix = r.prefix;
    return ATT_OK;
}

/* Family 0 is no CIDR at all and comes out as "any", as in the canonical text. */
void att_net_cidr_format(const struct att_net_rule *rule, char *out, size_t out_len)
{
    char addr[INET6_ADDRSTRLEN];

    if (out == NULL || out_len == 0) {
        return;
    }
    out[0] = '\0';
    if (rule == NULL) {
        return;
    }
    if (rule->family != 4 && rule->family != 6) {
        (void)snprintf(out, out_len, "any");
        return;
    }
    if (inet_ntop(rule->family == 6 ? AF_INET6 : AF_INET, rule->addr, addr, sizeof(addr)) == NULL) {
        return;
    }
    (void)snprintf(out, out_len, "%s/%u", addr, rule->prefix);
}

/* The protocol's word in the canonical text; NULL for a value outside the enum. */
static const char *proto_word(enum att_net_proto p)
{
    switch (p) {
    case ATT_NET_ANY:
        return "any";
    case ATT_NET_TCP:
        return "tcp";
    case ATT_NET_UDP:
        return "udp";
    case ATT_NET_ICMP:
        return "icmp";
    default:
        return NULL;
    }
}

/*
 * Whether @p r is a rule the parser could have produced. The canonical text
 * is hashed and compared: a hand-built rule outside the model must not get
 * a text (and a digest) that a valid rule has too.
 */
static bool rule_valid(const struct att_net_rule *r)
{
    struct att_net_rule net = *r;
    size_t i;

    if ((r->dir != ATT_NET_EGRESS && r->dir != ATT_NET_INGRESS) || proto_word(r->proto) == NULL) {
        return false;
    }
    if (r->port_lo != 0 || r->port_hi != 0) {
        if (r->port_lo == 0 || r->port_lo > r->port_hi ||
            (r->proto != ATT_NET_TCP && r->proto != ATT_NET_UDP)) {
            return false;
        }
    }
    if (r->family == 4 || r->family == 6) {
        return r->n_dns == 0 && r->prefix <= (r->family == 6 ? 128u : 32u) &&
               !clear_host_bits(net.addr, r->family == 6 ? 16u : 4u, r->prefix);
    }
    if (r->family != 0 || r->n_dns > ATT_NET_MAX_DNS || (r->n_dns > 0 && r->dns == NULL)) {
        return false;
    }
    for (i = 0; i < r->n_dns; i++) {
        if (!att_net_dns_name_ok(r->dns[i])) {
            return false;
        }
    }
    return true;
}

/* "dns:" and the names, lower-cased, joined by ",". */
static att_rc dns_peer(const struct att_net_rule *r, struct att_buf *out)
{
    att_rc rc = att_buf_append_str(out, "dns:");
    size_t i;
    size_t k;

    for (i = 0; rc == ATT_OK && i < r->n_dns; i++) {
        char name[ATT_NET_MAX_NAME + 1];
        size_t len = strlen(r->dns[i]); /* <= ATT_NET_MAX_NAME: rule_valid() */

        for (k = 0; k < len; k++) {
            char c = r->dns[i][k];

            name[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        name[len] = '\0';
        rc = att_buf_printf(out, "%s%s", i > 0 ? "," : "", name);
    }
    return rc;
}

static att_rc rule_line(const struct att_net_rule *r, struct att_buf *out)
{
    char cidr[64];
    att_rc rc;

    rc = att_buf_printf(out, "%s %s %s ", r->dir == ATT_NET_EGRESS ? "egress" : "ingress",
                        r->allow ? "allow" : "deny", proto_word(r->proto));
    if (rc != ATT_OK) {
        return rc;
    }
    if (r->n_dns > 0) {
        rc = dns_peer(r, out);
    } else {
        att_net_cidr_format(r, cidr, sizeof(cidr));
        rc = att_buf_append_str(out, cidr);
    }
    if (rc != ATT_OK) {
        return rc;
    }
    if (r->port_lo == 0 && r->port_hi == 0) {
        return att_buf_append_str(out, " any\n");
    }
    if (r->port_lo == r->port_hi) {
        return att_buf_printf(out, " %u\n", (unsigned)r->port_lo);
    }
    return att_buf_printf(out, " %u-%u\n", (unsigned)r->port_lo, (unsigned)r->port_hi);
}

att_rc att_net_policy_canonical(const struct att_net_policy *np, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    size_t start;
    size_t i;

    if (np == NULL || out == NULL || np->n_rules > ATT_NET_MAX_RULES ||
        (np->n_rules > 0 && np->rules == NULL)) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < np->n_rules; i++) {
        if (!rule_valid(&np->rules[i])) {
            return ATT_ERR_INVALID_ARG;
        }
    }
    start = out->len;
    rc = att_buf_printf(out, "default %s resolve %u\n", np->default_allow ? "allow" : "deny",
                        (unsigned)np->resolve_interval);
    for (i = 0; rc == ATT_OK && i < np->n_rules; i++) {
        rc = rule_line(&np->rules[i], out);
    }
    if (rc != ATT_OK) {
        att_buf_truncate(out, start); /* nothing half-written */
    }
    return rc;
}

att_rc att_net_policy_digest(const struct att_net_policy *np, uint8_t out[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf text;

    att_buf_init(&text, CANON_MAX);
    if (out == NULL) {
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    rc = att_net_policy_canonical(np, &text);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_sha256(text.data, text.len, out);
out:
    att_buf_cleanup(&text);
    return rc;
}

att_rc att_net_stats_parse(const char *p, size_t len, struct att_net_stats *out)
{
    char line[ATT_NET_STATS_LINE_MAX + 1];
    char *field[4];
    size_t k = 1;
    size_t i;

    if (p == NULL || out == NULL || len == 0 || len > ATT_NET_STATS_LINE_MAX) {
        return ATT_ERR_PARSE;
    }
    memcpy(line, p, len);
    line[len] = '\0';
    field[0] = line;
    for (i = 0; i < len; i++) {
        if (line[i] == '\0') {
            return ATT_ERR_PARSE;
        }
        if (line[i] == ' ') {
            if (k == 4) {
                return ATT_ERR_PARSE; /* a fifth field */
            }
            line[i] = '\0';
            field[k++] = line + i + 1;
        }
    }
    /* empty fields (double, leading or trailing spaces) fail the checks below */
    if (k != 4 || !att_lower_hex(field[0], 64, 64) || !att_lower_hex(field[3], 64, 64) ||
        att_parse_u64(field[1], (uint64_t)INT64_MAX, &out->egress_dropped) != ATT_OK ||
        att_parse_u64(field[2], (uint64_t)INT64_MAX, &out->ingress_dropped) != ATT_OK) {
        return ATT_ERR_PARSE;
    }
    memcpy(out->container, field[0], sizeof(out->container));
    memcpy(out->ruleset, field[3], sizeof(out->ruleset));
    return ATT_OK;
}
