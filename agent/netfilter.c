/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* setns */
/*
 * nftables in a container's network namespace through libnftables (see
 * netfilter.h). The namespace is joined by a dedicated thread: setns(2) with
 * CLONE_NEWNET changes only the calling thread, libnftables opens its
 * netlink socket in that thread, and the thread ends with the call.
 */
#include "netfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/util.h"

/* One libnftables context at a time: the library keeps global state (caches, module loads). */
static pthread_mutex_t nf_lock = PTHREAD_MUTEX_INITIALIZER;

att_rc nf_open_netns(pid_t pid, int *fd, char *why, size_t why_len)
{
    char path[64];
    struct stat target;
    struct stat self;
    int nsfd;

    if (pid <= 1) {
        att_set_why(why, why_len, "pid %d cannot be a container process", (int)pid);
        return ATT_ERR_INVALID_ARG;
    }
    (void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        if (errno == ENOENT || errno == ESRCH) {
            att_set_why(why, why_len, "no process %d", (int)pid);
            return ATT_ERR_NOT_FOUND;
        }
        att_set_why(why, why_len, "cannot open %s: %s", path, strerror(errno));
        return ATT_ERR_IO;
    }
    /* two nsfs files are the same namespace when st_dev and st_ino are equal (namespaces(7)) */
    if (fstat(nsfd, &target) != 0 || stat("/proc/self/ns/net", &self) != 0) {
        att_set_why(why, why_len, "cannot stat network namespaces: %s", strerror(errno));
        (void)close(nsfd);
        return ATT_ERR_IO;
    }
    if (target.st_dev == self.st_dev && target.st_ino == self.st_ino) {
        att_set_why(why, why_len,
                    "process %d shares the agent's network namespace (host network): "
                    "refusing to change it",
                    (int)pid);
        (void)close(nsfd);
        return ATT_ERR_INVALID_ARG;
    }
    *fd = nsfd;
    return ATT_OK;
}

struct nf_job {
    int nsfd;
    const char *cmd;
    bool json;
    struct att_buf *out;
    char err[1024];
    att_rc rc;
};

/* nft's error text on one line, bounded. */
static void copy_error(char *dst, size_t dst_len, const char *src)
{
    size_t i;
    size_t j = 0;

    for (i = 0; src != NULL && src[i] != '\0' && j + 1 < dst_len; i++) {
        char ch = src[i];

        dst[j++] = (ch == '\n' || ch == '\t' || ch == '\r') ? ' ' : ch;
    }
    while (j > 0 && dst[j - 1] == ' ') {
        j--;
    }
    dst[j] = '\0';
}

static void *nf_thread(void *arg)
{
    struct nf_job *j = arg;
    struct nft_ctx *ctx;
    const char *s;

    if (setns(j->nsfd, CLONE_NEWNET) != 0) {
        (void)snprintf(j->err, sizeof(j->err), "cannot join the network namespace: %s",
                       strerror(errno));
        j->rc = ATT_ERR_IO;
        return NULL;
    }
    ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (ctx == NULL) {
        (void)snprintf(j->err, sizeof(j->err), "libnftables: cannot make a context");
        j->rc = ATT_ERR_NOMEM;
        return NULL;
    }
    if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
        (void)snprintf(j->err, sizeof(j->err), "libnftables: cannot buffer its output");
        j->rc = ATT_ERR_NOMEM;
        nft_ctx_free(ctx);
        return NULL;
    }
    nft_ctx_output_set_flags(ctx, j->json ? NFT_CTX_OUTPUT_JSON : 0u);
    if (nft_run_cmd_from_buffer(ctx, j->cmd) != 0) {
        s = nft_ctx_get_error_buffer(ctx);
        copy_error(j->err, sizeof(j->err), s != NULL && s[0] != '\0' ? s : "nft command failed");
        j->rc = ATT_ERR_IO;
    } else {
        s = nft_ctx_get_output_buffer(ctx);
        j->rc = ATT_OK;
        if (j->out != NULL && s != NULL) {
            size_t len = strlen(s);

            if (len > NF_MAX_LISTING) {
                (void)snprintf(j->err, sizeof(j->err), "nft listed more than %u bytes",
                               NF_MAX_LISTING);
                j->rc = ATT_ERR_IO;
            } else if (att_buf_append(j->out, s, len) != ATT_OK) {
                j->rc = ATT_ERR_NOMEM;
            }
        }
    }
    nft_ctx_free(ctx);
    return NULL;
}

att_rc nf_run(int nsfd, const char *cmd, bool json, struct att_buf *out, char *why, size_t why_len)
{
    struct nf_job j;
    pthread_t t;
    int err;

    if (nsfd < 0 || cmd == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(&j, 0, sizeof(j));
    j.nsfd = nsfd;
    j.cmd = cmd;
    j.json = json;
    j.out = out;
    j.rc = ATT_ERR_INTERNAL;
    pthread_mutex_lock(&nf_lock);
    err = pthread_create(&t, NULL, nf_thread, &j);
    if (err == 0) {
        (void)pthread_join(t, NULL);
    }
    pthread_mutex_unlock(&nf_lock);
    if (err != 0) {
        att_set_why(why, why_len, "cannot start the nftables thread: %s", strerror(err));
        return ATT_ERR_IO;
    }
    if (j.rc != ATT_OK) {
        att_set_why(why, why_len, "%s", j.err[0] != '\0' ? j.err : att_rc_str(j.rc));
    }
    return j.rc;
}

void nf_table_name(const char *container_id, char out[NF_TABLE_MAX])
{
    (void)snprintf(out, NF_TABLE_MAX, NF_TABLE_PREFIX "%.64s", container_id);
}

/* ---- DNS ------------------------------------------------------------------ */

static int cmp_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void add_unique(char *arr, size_t *n, size_t width, const char *s)
{
    size_t len = strlen(s);
    size_t i;

    if (len >= width) {
        return;
    }
    for (i = 0; i < *n; i++) {
        if (strcmp(arr + i * width, s) == 0) {
            return;
        }
    }
    memcpy(arr + *n * width, s, len + 1);
    (*n)++;
}

static void resolve_name(const char *name, struct nf_resolved_rule *r)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    char text[INET6_ADDRSTRLEN];

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0) {
        r->lookup_failed = true;
        return;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET &&
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, text,
                      sizeof(text)) != NULL) {
            if (r->n_v4 < NF_MAX_ADDRS) {
                add_unique(&r->v4[0][0], &r->n_v4, sizeof(*r->v4), text);
            } else {
                r->truncated = true;
            }
        } else if (ai->ai_family == AF_INET6 &&
                   inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr,
                             text, sizeof(text)) != NULL) {
            if (r->n_v6 < NF_MAX_ADDRS) {
                add_unique(&r->v6[0][0], &r->n_v6, sizeof(*r->v6), text);
            } else {
                r->truncated = true;
            }
        }
    }
    freeaddrinfo(res);
}

att_rc nf_resolve(const struct att_net_policy *np, struct nf_resolved *out)
{
    size_t i;
    size_t k;

    memset(out, 0, sizeof(*out));
    if (np == NULL || np->n_rules == 0) {
        return ATT_OK;
    }
    out->rules = calloc(np->n_rules, sizeof(*out->rules));
    if (out->rules == NULL) {
        return ATT_ERR_NOMEM;
    }
    out->n_rules = np->n_rules;
    for (i = 0; i < np->n_rules; i++) {
        struct nf_resolved_rule *r = &out->rules[i];

        if (np->rules[i].n_dns == 0) {
            continue;
        }
        r->v4 = calloc(NF_MAX_ADDRS, sizeof(*r->v4));
        r->v6 = calloc(NF_MAX_ADDRS, sizeof(*r->v6));
        if (r->v4 == NULL || r->v6 == NULL) {
            nf_resolved_cleanup(out);
            return ATT_ERR_NOMEM;
        }
        for (k = 0; k < np->rules[i].n_dns; k++) {
            resolve_name(np->rules[i].dns[k], r);
        }
        qsort(r->v4, r->n_v4, sizeof(*r->v4), cmp_text);
        qsort(r->v6, r->n_v6, sizeof(*r->v6), cmp_text);
    }
    return ATT_OK;
}

void nf_resolved_cleanup(struct nf_resolved *r)
{
    size_t i;

    if (r == NULL) {
        return;
    }
    for (i = 0; i < r->n_rules; i++) {
        free(r->rules[i].v4);
        free(r->rules[i].v6);
    }
    free(r->rules);
    memset(r, 0, sizeof(*r));
}

att_rc nf_resolved_check(const struct att_net_policy *np, const struct nf_resolved *res, char *why,
                         size_t why_len)
{
    size_t i;

    for (i = 0; np != NULL && res != NULL && i < np->n_rules && i < res->n_rules; i++) {
        const struct nf_resolved_rule *r = &res->rules[i];

        if (np->rules[i].n_dns == 0 || np->rules[i].allow) {
            continue; /* an allow rule that resolves to less allows less: fails closed */
        }
        if (r->lookup_failed || r->truncated || r->n_v4 + r->n_v6 == 0) {
            att_set_why(why, why_len,
                        "deny rule %zu: %s%s (a deny rule must block every address of its "
                        "names)",
                        i, np->rules[i].dns[0],
                        r->truncated ? " has more addresses than the agent keeps"
                                     : " did not resolve");
            return ATT_ERR_POLICY;
        }
    }
    return ATT_OK;
}

/* ---- rendering ------------------------------------------------------------ */

/* The script being written; the first failure sticks (a cut script must never be applied). */
struct script {
    struct att_buf *b;
    att_rc rc;
};

static void put(struct script *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct script *sc, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    if (sc->rc != ATT_OK) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        sc->rc = ATT_ERR_INTERNAL;
        return;
    }
    sc->rc = att_buf_append(sc->b, line, (size_t)n);
}

/* The verdict of a rule: accept, or refuse and count. */
static void render_action(struct script *sc, const struct att_net_rule *r)
{
    if (r->allow) {
        put(sc, " accept\n");
    } else if (r->dir == ATT_NET_INGRESS) {
        put(sc, " counter name \"%s\" drop\n", NF_COUNTER_INGRESS);
    } else if (r->proto == ATT_NET_TCP) {
        put(sc, " counter name \"%s\" reject with tcp reset\n", NF_COUNTER_EGRESS);
    } else {
        put(sc, " counter name \"%s\" reject\n", NF_COUNTER_EGRESS);
    }
}

/* The protocol and port part of a rule ("" for any). */
static void render_l4(struct script *sc, const struct att_net_rule *r)
{
    const char *p = r->proto == ATT_NET_TCP ? "tcp" : "udp";

    if (r->proto == ATT_NET_ICMP) {
        put(sc, " meta l4proto { icmp, ipv6-icmp }");
    } else if ((r->proto == ATT_NET_TCP || r->proto == ATT_NET_UDP) && r->port_lo == 0) {
        put(sc, " meta l4proto %s", p);
    } else if (r->proto == ATT_NET_TCP || r->proto == ATT_NET_UDP) {
        if (r->port_lo == r->port_hi) {
            put(sc, " %s dport %u", p, (unsigned)r->port_lo);
        } else {
            put(sc, " %s dport %u-%u", p, (unsigned)r->port_lo, (unsigned)r->port_hi);
        }
    }
}

/* One rule over a set of resolved addresses of one family ("ip" or "ip6"). */
static void render_set(struct script *sc, const char *table, const char *chain, const char *fam,
                       const char *side, const char *addrs, size_t width, size_t n,
                       const struct att_net_rule *r)
{
    size_t i;

    put(sc, "add rule inet %s %s %s %s {", table, chain, fam, side);
    for (i = 0; i < n; i++) {
        put(sc, "%s %s", i > 0 ? "," : "", addrs + i * width);
    }
    put(sc, " }");
    render_l4(sc, r);
    render_action(sc, r);
}

static void render_rule(struct script *sc, const char *table, const struct att_net_rule *r,
                        const struct nf_resolved_rule *res)
{
    const char *chain = r->dir == ATT_NET_INGRESS ? "ingress" : "egress";
    const char *side = r->dir == ATT_NET_INGRESS ? "saddr" : "daddr";
    char cidr[64];

    if (r->family == 4 || r->family == 6) {
        att_net_cidr_format(r, cidr, sizeof(cidr));
        put(sc, "add rule inet %s %s %s %s %s", table, chain, r->family == 4 ? "ip" : "ip6", side,
            cidr);
        render_l4(sc, r);
        render_action(sc, r);
        return;
    }
    if (r->n_dns == 0) {
        put(sc, "add rule inet %s %s", table, chain);
        render_l4(sc, r);
        render_action(sc, r);
        return;
    }
    /* DNS names: one rule per address family that resolved; none is no rule */
    if (res != NULL && res->n_v4 > 0) {
        render_set(sc, table, chain, "ip", side, &res->v4[0][0], sizeof(*res->v4), res->n_v4, r);
    }
    if (res != NULL && res->n_v6 > 0) {
        render_set(sc, table, chain, "ip6", side, &res->v6[0][0], sizeof(*res->v6), res->n_v6, r);
    }
}

static bool table_name_ok(const char *t)
{
    size_t i;
    size_t len = strlen(t);

    if (len == 0 || len >= NF_TABLE_MAX) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char ch = t[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
            return false;
        }
    }
    return true;
}

att_rc nf_render(const char *table, const struct att_net_policy *np, const struct nf_resolved *res,
                 struct att_buf *out)
{
    struct script sc = {out, ATT_OK};
    size_t start = out->len;
    size_t i;

    if (table == NULL || np == NULL || !table_name_ok(table) ||
        (res != NULL && res->n_rules != 0 && res->n_rules != np->n_rules)) {
        return ATT_ERR_INVALID_ARG;
    }
    /* create-then-delete: replaced in one transaction, never a window without it */
    put(&sc, "table inet %s {}\ndelete table inet %s\n", table, table);
    put(&sc,
        "table inet %s {\n"
        "    counter %s {}\n"
        "    counter %s {}\n"
        "    chain egress { type filter hook output priority 0; policy accept; }\n"
        "    chain ingress { type filter hook input priority 0; policy accept; }\n"
        "}\n",
        table, NF_COUNTER_EGRESS, NF_COUNTER_INGRESS);
    /*
     * Always allowed: loopback, replies, and IPv6 neighbour/router discovery
     * (no conntrack state; without it no IPv6 peer is reachable at all).
     */
    for (i = 0; i < 2; i++) {
        const char *chain = i == 0 ? "egress" : "ingress";

        put(&sc, "add rule inet %s %s %s \"lo\" accept\n", table, chain,
            i == 0 ? "oifname" : "iifname");
        put(&sc, "add rule inet %s %s ct state established,related accept\n", table, chain);
        put(&sc,
            "add rule inet %s %s icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
            "nd-router-solicit, nd-router-advert } accept\n",
            table, chain);
    }
    for (i = 0; i < np->n_rules; i++) {
        render_rule(&sc, table, &np->rules[i],
                    res != NULL && i < res->n_rules ? &res->rules[i] : NULL);
    }
    if (!np->default_allow) {
        put(&sc,
            "add rule inet %s egress meta l4proto tcp counter name \"%s\" reject with tcp reset\n",
            table, NF_COUNTER_EGRESS);
        put(&sc, "add rule inet %s egress counter name \"%s\" reject\n", table, NF_COUNTER_EGRESS);
        put(&sc, "add rule inet %s ingress counter name \"%s\" drop\n", table, NF_COUNTER_INGRESS);
    }
    if (sc.rc != ATT_OK) {
        att_buf_truncate(out, start);
    }
    return sc.rc;
}

/* ---- reading back --------------------------------------------------------- */

/* Drop packets/bytes of every counter object below @p v, and every "handle". */
/* NOLINTNEXTLINE(misc-no-recursion): depth is jansson's, at most JSON_PARSER_MAX_DEPTH */
static void strip_state(json_t *v)
{
    const char *key;
    json_t *val;
    void *tmp;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, val)
        {
            strip_state(val);
        }
        return;
    }
    if (!json_is_object(v)) {
        return;
    }
    (void)json_object_del(v, "handle");
    json_object_foreach_safe(v, tmp, key, val)
    {
        if (strcmp(key, "counter") == 0 && json_is_object(val)) {
            (void)json_object_del(val, "packets");
            (void)json_object_del(val, "bytes");
        }
        strip_state(val);
    }
}

static uint64_t counter_packets(const json_t *c)
{
    json_int_t p = json_integer_value(json_object_get(c, "packets"));

    return p > 0 ? (uint64_t)p : 0;
}

att_rc nf_canonical(const char *listing, size_t len, struct att_buf *canon, uint64_t *egress,
                    uint64_t *ingress)
{
    json_error_t err;
    json_t *root = json_loadb(listing, len, JSON_REJECT_DUPLICATES, &err);
    json_t *items = json_object_get(root, "nftables");
    json_t *kept = json_array();
    json_t *it;
    size_t i;
    char *text = NULL;
    att_rc rc = ATT_ERR_PARSE;

    if (egress != NULL) {
        *egress = 0;
    }
    if (ingress != NULL) {
        *ingress = 0;
    }
    if (root == NULL || !json_is_array(items) || kept == NULL) {
        goto out;
    }
    json_array_foreach(items, i, it)
    {
        const json_t *c = json_object_get(it, "counter");

        if (!json_is_object(it) || json_object_get(it, "metainfo") != NULL) {
            continue;
        }
        if (json_is_object(c)) {
            const char *name = json_string_value(json_object_get(c, "name"));

            if (name != NULL && strcmp(name, NF_COUNTER_EGRESS) == 0 && egress != NULL) {
                *egress = counter_packets(c);
            } else if (name != NULL && strcmp(name, NF_COUNTER_INGRESS) == 0 && ingress != NULL) {
                *ingress = counter_packets(c);
            }
        }
        if (json_array_append(kept, it) != 0) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    strip_state(kept);
    text = json_dumps(kept, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (text == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = canon != NULL ? att_buf_append(canon, text, strlen(text)) : ATT_OK;
out:
    free(text);
    json_decref(kept);
    json_decref(root);
    return rc;
}

att_rc nf_has_table(int nsfd, const char *table, bool *has, char *why, size_t why_len)
{
    struct att_buf out;
    json_t *root;
    json_t *it;
    size_t i;
    att_rc rc;

    att_buf_init(&out, NF_MAX_LISTING);
    *has = false;
    rc = nf_run(nsfd, "list tables inet", true, &out, why, why_len);
    if (rc != ATT_OK) {
        att_buf_cleanup(&out);
        return rc;
    }
    root = json_loadb(out.data != NULL ? (const char *)out.data : "", out.len, 0, NULL);
    if (root == NULL || !json_is_array(json_object_get(root, "nftables"))) {
        att_set_why(why, why_len, "nft listed its tables in an unexpected form");
        json_decref(root);
        att_buf_cleanup(&out);
        return ATT_ERR_IO;
    }
    json_array_foreach(json_object_get(root, "nftables"), i, it)
    {
        const json_t *t = json_object_get(it, "table");
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *fam = json_string_value(json_object_get(t, "family"));

        if (name != NULL && fam != NULL && strcmp(name, table) == 0 && strcmp(fam, "inet") == 0) {
            *has = true;
        }
    }
    json_decref(root);
    att_buf_cleanup(&out);
    return ATT_OK;
}

att_rc nf_read(int nsfd, const char *table, struct att_buf *canon, struct nf_live *live, char *why,
               size_t why_len)
{
    char cmd[32 + NF_TABLE_MAX];
    struct att_buf out;
    struct att_buf c;
    att_rc rc;
    bool has = false;

    memset(live, 0, sizeof(*live));
    if (!table_name_ok(table)) {
        return ATT_ERR_INVALID_ARG;
    }
    /* "no such table" and "nft failed" must not look alike: ask for the list first */
    rc = nf_has_table(nsfd, table, &has, why, why_len);
    if (rc != ATT_OK || !has) {
        return rc;
    }
    att_buf_init(&out, NF_MAX_LISTING);
    att_buf_init(&c, NF_MAX_LISTING);
    (void)snprintf(cmd, sizeof(cmd), "list table inet %s", table);
    rc = nf_run(nsfd, cmd, true, &out, why, why_len);
    if (rc == ATT_OK) {
        rc = nf_canonical(out.data != NULL ? (const char *)out.data : "", out.len, &c,
                          &live->egress_dropped, &live->ingress_dropped);
        if (rc == ATT_ERR_PARSE) {
            att_set_why(why, why_len, "nft listed table %s in an unexpected form", table);
        }
    }
    if (rc == ATT_OK) {
        rc = att_sha256(c.data, c.len, live->digest);
    }
    if (rc == ATT_OK) {
        live->exists = true;
        if (canon != NULL) {
            rc = att_buf_append(canon, c.data, c.len);
        }
    }
    att_buf_cleanup(&c);
    att_buf_cleanup(&out);
    return rc;
}

att_rc nf_apply(int nsfd, const char *table, const char *script, struct att_buf *canon,
                struct nf_live *live, char *why, size_t why_len)
{
    att_rc rc = nf_run(nsfd, script, false, NULL, why, why_len);

    if (rc != ATT_OK) {
        return rc;
    }
    rc = nf_read(nsfd, table, canon, live, why, why_len);
    if (rc == ATT_OK && !live->exists) {
        att_set_why(why, why_len, "table %s is missing right after it was applied", table);
        rc = ATT_ERR_IO;
    }
    return rc;
}

att_rc nf_remove(int nsfd, const char *table, char *why, size_t why_len)
{
    char cmd[64 + 2 * NF_TABLE_MAX];

    if (!table_name_ok(table)) {
        return ATT_ERR_INVALID_ARG;
    }
    (void)snprintf(cmd, sizeof(cmd), "table inet %s {}\ndelete table inet %s\n", table, table);
    return nf_run(nsfd, cmd, false, NULL, why, why_len);
}
