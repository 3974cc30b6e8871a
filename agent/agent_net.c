/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container network policy in force (see agent_net.h). One entry per
 * container the agent enforces (or enforced) a network section on; the
 * entries own nothing on the heap beyond the array itself.
 */
#include "agent_net.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "attest/digest.h"
#include "attest/imalog.h"
#include "attest/log.h"
#include "attest/netpolicy.h"
#include "attest/util.h"
#include "netfilter.h"

#define NET_MAX_ENTRIES 4096u
#define HEX_LEN         (2 * ATT_SHA256_LEN + 1)
/* the listing goes into the record only while the whole record fits one ima-buf */
#define LISTING_MAX (ATT_IMA_MAX_BUF - 1024)

struct net_entry {
    char id[65];
    char policy[80];
    pid_t pid;
    bool applied;                    /* our table is (by our records) in force */
    uint8_t network[ATT_SHA256_LEN]; /* digest of the applied network section */
    uint8_t ruleset[ATT_SHA256_LEN]; /* digest of the canonical listing read back */
    uint8_t script[ATT_SHA256_LEN];  /* digest of the applied script (DNS answers show here) */
    bool has_script;                 /* false after a restart: the next resolve re-applies */
    time_t resolved_at;
    time_t checked_at;
    uint64_t egress;
    uint64_t ingress;
    bool listed; /* in this tick's engine list */
};

struct agent_net {
    pthread_mutex_t lock;
    char *state_path;
    unsigned check_s;
    struct net_entry *e;
    size_t n;
};

static void hex(const uint8_t d[ATT_SHA256_LEN], char out[HEX_LEN])
{
    att_hex_encode(d, ATT_SHA256_LEN, out);
}

/* ---- state file: "<id> <policy> <network hex> <ruleset hex>" per applied entry ---- */

static void state_save(struct agent_net *n)
{
    struct att_buf b;
    size_t i;
    char nh[HEX_LEN];
    char rh[HEX_LEN];

    att_buf_init(&b, (size_t)NET_MAX_ENTRIES * 256);
    (void)att_buf_printf(&b, "# attest-agent: network policies applied (agent_net.c)\n");
    for (i = 0; i < n->n; i++) {
        if (!n->e[i].applied) {
            continue;
        }
        hex(n->e[i].network, nh);
        hex(n->e[i].ruleset, rh);
        (void)att_buf_printf(&b, "%s %s %s %s\n", n->e[i].id, n->e[i].policy, nh, rh);
    }
    if (b.data == NULL || att_file_write_atomic(n->state_path, b.data, b.len) != ATT_OK) {
        LOG_ERR("cannot write %s: after a restart the agent will re-apply network policies "
                "instead of checking them",
                n->state_path);
    }
    att_buf_cleanup(&b);
}

static bool unhex(const char *s, uint8_t out[ATT_SHA256_LEN])
{
    size_t i;

    if (strlen(s) != 2 * ATT_SHA256_LEN) {
        return false;
    }
    for (i = 0; i < ATT_SHA256_LEN; i++) {
        unsigned v;

        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            return false;
        }
        out[i] = (uint8_t)v;
    }
    return true;
}

static bool id_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return i == 64;
}

static struct net_entry *entry_add(struct agent_net *n, const char *id)
{
    struct net_entry *e;

    if (n->n >= NET_MAX_ENTRIES) {
        return NULL;
    }
    e = realloc(n->e, (n->n + 1) * sizeof(*e));
    if (e == NULL) {
        return NULL;
    }
    n->e = e;
    e = &n->e[n->n++];
    memset(e, 0, sizeof(*e));
    (void)snprintf(e->id, sizeof(e->id), "%s", id);
    return e;
}

static struct net_entry *entry_find(struct agent_net *n, const char *id)
{
    size_t i;

    for (i = 0; i < n->n; i++) {
        if (strcmp(n->e[i].id, id) == 0) {
            return &n->e[i];
        }
    }
    return NULL;
}

static void state_load(struct agent_net *n)
{
    struct att_buf b;
    char *line;
    char *save = NULL;

    att_buf_init(&b, (size_t)NET_MAX_ENTRIES * 256);
    if (att_file_read(n->state_path, &b) != ATT_OK || b.len == 0 ||
        att_buf_append(&b, "", 1) != ATT_OK) {
        att_buf_cleanup(&b);
        return;
    }
    for (line = strtok_r((char *)b.data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char id[80];
        char pol[80];
        char nh[80];
        char rh[80];
        struct net_entry *e;
        uint8_t nd[ATT_SHA256_LEN];
        uint8_t rd[ATT_SHA256_LEN];

        if (line[0] == '#') {
            continue;
        }
        if (sscanf(line, "%79s %79s %79s %79s", id, pol, nh, rh) != 4 || !id_ok(id) ||
            !unhex(nh, nd) || !unhex(rh, rd) || entry_find(n, id) != NULL) {
            LOG_WARN("%s: ignoring a malformed line", n->state_path);
            continue;
        }
        e = entry_add(n, id);
        if (e == NULL) {
            break;
        }
        (void)snprintf(e->policy, sizeof(e->policy), "%s", pol);
        memcpy(e->network, nd, sizeof(nd));
        memcpy(e->ruleset, rd, sizeof(rd));
        e->applied = true;
    }
    att_buf_cleanup(&b);
}

att_rc agent_net_new(const char *state_dir, unsigned check_s, struct agent_net **out)
{
    struct agent_net *n = calloc(1, sizeof(*n));
    size_t len = strlen(state_dir) + sizeof(AGENT_NET_STATE_FILE) + 2;

    *out = NULL;
    if (n == NULL) {
        return ATT_ERR_NOMEM;
    }
    n->state_path = malloc(len);
    if (n->state_path == NULL) {
        free(n);
        return ATT_ERR_NOMEM;
    }
    (void)snprintf(n->state_path, len, "%s/%s", state_dir, AGENT_NET_STATE_FILE);
    n->check_s = check_s > 0 ? check_s : AGENT_NET_CHECK_DEFAULT;
    pthread_mutex_init(&n->lock, NULL);
    state_load(n);
    *out = n;
    return ATT_OK;
}

void agent_net_free(struct agent_net *n)
{
    if (n == NULL) {
        return;
    }
    pthread_mutex_destroy(&n->lock);
    free(n->e);
    free(n->state_path);
    free(n);
}

/* ---- records ------------------------------------------------------------ */

static void record(struct agent *a, const char *kind, const char *id, const struct att_buf *b)
{
    char name[96];

    (void)snprintf(name, sizeof(name), "%s%s", kind, id);
    if (b->data == NULL || agent_record_buf(a, name, b->data, b->len, NULL) != ATT_OK) {
        LOG_ERR("cannot log %s for container %.12s", kind, id);
    }
}

static void record_applied(struct agent *a, const struct net_entry *e, const char *table,
                           const struct att_buf *canon)
{
    struct att_buf b;
    char nh[HEX_LEN];
    char rh[HEX_LEN];

    hex(e->network, nh);
    hex(e->ruleset, rh);
    att_buf_init(&b, ATT_IMA_MAX_BUF);
    (void)att_buf_printf(&b, "status=applied policy=%s network=%s ruleset=%s table=%s", e->policy,
                         nh, rh, table);
    if (canon->len <= LISTING_MAX) {
        (void)att_buf_printf(&b, "\n");
        (void)att_buf_append(&b, canon->data, canon->len);
    } else {
        (void)att_buf_printf(&b, " listing=omitted-too-large\n");
    }
    record(a, ATT_NET_RECORD_POLICY, e->id, &b);
    att_buf_cleanup(&b);
}

static void record_status(struct agent *a, const char *id, const char *status, const char *policy,
                          const uint8_t *network, const char *table, const char *reason)
{
    struct att_buf b;
    char nh[HEX_LEN];

    att_buf_init(&b, 4096);
    (void)att_buf_printf(&b, "status=%s policy=%s", status,
                         policy != NULL && policy[0] != '\0' ? policy : "-");
    if (network != NULL) {
        hex(network, nh);
        (void)att_buf_printf(&b, " network=%s", nh);
    }
    (void)att_buf_printf(&b, " table=%s", table);
    if (reason != NULL) {
        (void)att_buf_printf(&b, " reason=%.900s", reason);
    }
    record(a, ATT_NET_RECORD_POLICY, id, &b);
    att_buf_cleanup(&b);
}

static void record_drift(struct agent *a, const struct net_entry *e, const char *table,
                         const struct nf_live *live, const char *detail)
{
    struct att_buf b;
    char eh[HEX_LEN];
    char fh[HEX_LEN];

    hex(e->ruleset, eh);
    if (live->exists) {
        hex(live->digest, fh);
    } else {
        (void)snprintf(fh, sizeof(fh), "none");
    }
    att_buf_init(&b, 4096);
    (void)att_buf_printf(&b, "expected=%s found=%s table=%s detail=%.900s", eh, fh, table, detail);
    record(a, ATT_NET_RECORD_DRIFT, e->id, &b);
    att_buf_cleanup(&b);
}

/* ---- applying ----------------------------------------------------------- */

/*
 * Render (resolving DNS names now) and apply @p np for entry @p e in the
 * namespace of e->pid; on success the entry holds the new digests and the
 * record is logged. @p force: apply even when the script is unchanged.
 */
static att_rc apply(struct agent *a, struct agent_net *n, struct net_entry *e,
                    const struct att_net_policy *np, bool force, char *why, size_t why_len)
{
    char table[NF_TABLE_MAX];
    struct nf_resolved res;
    struct att_buf script;
    struct att_buf canon;
    struct nf_live live;
    uint8_t nd[ATT_SHA256_LEN];
    uint8_t sd[ATT_SHA256_LEN];
    int nsfd = -1;
    att_rc rc;

    nf_table_name(e->id, table);
    att_buf_init(&script, NF_MAX_LISTING);
    att_buf_init(&canon, NF_MAX_LISTING);
    rc = att_net_policy_digest(np, nd);
    if (rc == ATT_OK) {
        rc = nf_resolve(np, &res);
    } else {
        memset(&res, 0, sizeof(res));
    }
    if (rc == ATT_OK) {
        rc = nf_render(table, np, &res, &script);
    }
    if (rc == ATT_OK) {
        rc = att_sha256(script.data, script.len, sd);
    }
    e->resolved_at = time(NULL);
    if (rc != ATT_OK) {
        att_set_why(why, why_len, "cannot render the ruleset: %s", att_rc_str(rc));
        goto out;
    }
    if (!force && e->applied && e->has_script && memcmp(sd, e->script, sizeof(sd)) == 0 &&
        memcmp(nd, e->network, sizeof(nd)) == 0) {
        goto out; /* the DNS answers did not change */
    }
    if (att_buf_append(&script, "", 1) != ATT_OK) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = nf_open_netns(e->pid, &nsfd, why, why_len);
    if (rc == ATT_OK) {
        rc = nf_apply(nsfd, table, (const char *)script.data, &canon, &live, why, why_len);
        (void)close(nsfd);
    }
    if (rc != ATT_OK) {
        goto out;
    }
    memcpy(e->network, nd, sizeof(nd));
    memcpy(e->ruleset, live.digest, sizeof(live.digest));
    memcpy(e->script, sd, sizeof(sd));
    e->has_script = true;
    e->applied = true;
    e->checked_at = time(NULL);
    e->egress = live.egress_dropped;
    e->ingress = live.ingress_dropped;
    record_applied(a, e, table, &canon);
    state_save(n);
    LOG_INFO("network policy %s in force for container %.12s (%zu rules, default %s)", e->policy,
             e->id, np->n_rules, np->default_allow ? "allow" : "deny");
out:
    nf_resolved_cleanup(&res);
    att_buf_cleanup(&script);
    att_buf_cleanup(&canon);
    return rc;
}

/* The policy says nothing (any more) about the network: our table goes. */
static void withdraw(struct agent *a, struct agent_net *n, struct net_entry *e)
{
    char table[NF_TABLE_MAX];
    char why[512] = "";
    int nsfd = -1;
    att_rc rc;

    nf_table_name(e->id, table);
    rc = nf_open_netns(e->pid, &nsfd, why, sizeof(why));
    if (rc == ATT_OK) {
        rc = nf_remove(nsfd, table, why, sizeof(why));
        (void)close(nsfd);
    }
    if (rc != ATT_OK) {
        LOG_WARN("container %.12s: cannot remove its network table: %s", e->id, why);
        return;
    }
    e->applied = false;
    e->has_script = false;
    record_status(a, e->id, "removed", e->policy, NULL, table, NULL);
    state_save(n);
    LOG_INFO("container %.12s: its policy has no network section any more; table removed", e->id);
}

att_rc agent_net_start(struct agent *a, const char *id, pid_t pid, const char *policy, char *why,
                       size_t why_len)
{
    struct agent_net *n = agent_net_of(a);
    struct att_net_policy *np = NULL;
    struct net_entry *e;
    char name[80] = "";
    char table[NF_TABLE_MAX];
    att_rc rc;

    if (n == NULL || !id_ok(id)) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = agent_net_policy(a, policy, NULL, name, sizeof(name), &np);
    if (rc != ATT_OK || np == NULL) {
        return rc == ATT_ERR_NOT_FOUND ? ATT_OK : rc; /* no network section: nothing to do */
    }
    pthread_mutex_lock(&n->lock);
    e = entry_find(n, id);
    if (e == NULL) {
        e = entry_add(n, id);
    }
    if (e == NULL) {
        att_set_why(why, why_len, "too many containers with network policies");
        rc = ATT_ERR_POLICY;
        goto out;
    }
    (void)snprintf(e->policy, sizeof(e->policy), "%s", name);
    e->pid = pid;
    rc = apply(a, n, e, np, true, why, why_len);
    if (rc != ATT_OK) {
        uint8_t nd[ATT_SHA256_LEN];

        nf_table_name(id, table);
        (void)att_net_policy_digest(np, nd);
        record_status(a, id, "failed", name, nd, table, why);
        rc = ATT_ERR_POLICY;
    }
out:
    pthread_mutex_unlock(&n->lock);
    att_net_policy_free(np);
    return rc;
}

/* ---- the periodic pass ---------------------------------------------------- */

/* Read the live table; a difference from what was applied is drift: logged, then repaired. */
static void check(struct agent *a, struct agent_net *n, struct net_entry *e,
                  const struct att_net_policy *np)
{
    char table[NF_TABLE_MAX];
    char why[512] = "";
    struct nf_live live;
    int nsfd = -1;
    att_rc rc;

    nf_table_name(e->id, table);
    e->checked_at = time(NULL);
    rc = nf_open_netns(e->pid, &nsfd, why, sizeof(why));
    if (rc == ATT_OK) {
        rc = nf_read(nsfd, table, NULL, &live, why, sizeof(why));
        (void)close(nsfd);
    }
    if (rc != ATT_OK) {
        LOG_WARN("container %.12s: cannot read its network table: %s", e->id, why);
        return;
    }
    if (live.exists && memcmp(live.digest, e->ruleset, sizeof(live.digest)) == 0) {
        e->egress = live.egress_dropped;
        e->ingress = live.ingress_dropped;
        return;
    }
    LOG_WARN("container %.12s: network policy not in force: table %s %s", e->id, table,
             live.exists ? "was changed" : "is gone");
    record_drift(a, e, table, &live,
                 live.exists ? "the live ruleset differs from the one applied"
                             : "the table was deleted");
    why[0] = '\0';
    if (apply(a, n, e, np, true, why, sizeof(why)) != ATT_OK) {
        LOG_ERR("container %.12s: cannot put its network policy back: %s", e->id, why);
    }
}

static void tick_one(struct agent *a, struct agent_net *n, const struct agent_net_seen *s,
                     time_t now)
{
    struct net_entry *e = entry_find(n, s->id);
    struct att_net_policy *np = NULL;
    char name[80] = "";
    char why[512] = "";
    uint8_t nd[ATT_SHA256_LEN];
    att_rc rc;

    if (e != NULL) {
        e->listed = true;
    }
    if (s->pid <= 0) {
        return; /* paused or not inspected: nothing to read this tick */
    }
    rc = agent_net_policy(a, e != NULL && e->policy[0] != '\0' ? e->policy : NULL, s->image_id,
                          name, sizeof(name), &np);
    if (rc != ATT_OK) {
        return; /* no admission policy yet */
    }
    if (np == NULL) {
        if (e != NULL && e->applied) {
            e->pid = s->pid;
            withdraw(a, n, e);
        }
        return;
    }
    if (e == NULL) {
        e = entry_add(n, s->id);
        if (e == NULL) {
            att_net_policy_free(np);
            return;
        }
        e->listed = true;
    }
    e->pid = s->pid;
    (void)snprintf(e->policy, sizeof(e->policy), "%s", name);
    if (att_net_policy_digest(np, nd) != ATT_OK) {
        att_net_policy_free(np);
        return;
    }
    if (!e->applied || memcmp(nd, e->network, sizeof(nd)) != 0) {
        if (e->applied) {
            check(a, n, e, np); /* a drift before the change is still a drift */
        }
        if (apply(a, n, e, np, true, why, sizeof(why)) != ATT_OK) {
            LOG_ERR("container %.12s: cannot apply network policy %s: %s", e->id, name, why);
            record_status(a, e->id, "failed", name, nd, "-", why);
        }
    } else if (now - e->checked_at >= (time_t)n->check_s) {
        check(a, n, e, np);
    }
    if (e->applied && now - e->resolved_at >= (time_t)np->resolve_interval) {
        bool has_dns = false;
        size_t i;

        for (i = 0; i < np->n_rules; i++) {
            has_dns = has_dns || np->rules[i].n_dns > 0;
        }
        why[0] = '\0';
        if (has_dns && apply(a, n, e, np, false, why, sizeof(why)) != ATT_OK) {
            LOG_ERR("container %.12s: cannot re-apply after DNS re-resolution: %s", e->id, why);
        }
    }
    att_net_policy_free(np);
}

void agent_net_tick(struct agent *a, const struct agent_net_seen *seen, size_t n_seen)
{
    struct agent_net *n = agent_net_of(a);
    time_t now = time(NULL);
    size_t i;
    size_t k;
    bool dropped = false;

    if (n == NULL) {
        return;
    }
    pthread_mutex_lock(&n->lock);
    for (i = 0; i < n->n; i++) {
        n->e[i].listed = false;
    }
    for (i = 0; i < n_seen; i++) {
        if (seen[i].id != NULL && id_ok(seen[i].id)) {
            tick_one(a, n, &seen[i], now);
        }
    }
    /* containers the engine no longer lists: their namespace and table went with them */
    for (i = 0, k = 0; i < n->n; i++) {
        if (n->e[i].listed) {
            n->e[k++] = n->e[i];
        } else {
            dropped = dropped || n->e[i].applied;
        }
    }
    n->n = k;
    if (dropped) {
        state_save(n);
    }
    pthread_mutex_unlock(&n->lock);
}

void agent_net_metrics(struct agent_net *n, struct att_buf *out)
{
    size_t i;

    if (n == NULL) {
        return;
    }
    (void)att_buf_printf(out,
                         "# HELP attest_agent_net_dropped_total Packets of new connections the "
                         "container's network policy refused (nftables counters).\n"
                         "# TYPE attest_agent_net_dropped_total counter\n");
    pthread_mutex_lock(&n->lock);
    for (i = 0; i < n->n; i++) {
        const struct net_entry *e = &n->e[i];

        if (!e->applied) {
            continue;
        }
        (void)att_buf_printf(out,
                             "attest_agent_net_dropped_total{container=\"%s\",direction="
                             "\"egress\"} %" PRIu64 "\n"
                             "attest_agent_net_dropped_total{container=\"%s\",direction="
                             "\"ingress\"} %" PRIu64 "\n",
                             e->id, e->egress, e->id, e->ingress);
    }
    (void)att_buf_printf(out, "# HELP attest_agent_net_policies Containers with a network policy "
                              "in force.\n# TYPE attest_agent_net_policies gauge\n");
    {
        size_t count = 0;

        for (i = 0; i < n->n; i++) {
            count += n->e[i].applied ? 1u : 0u;
        }
        (void)att_buf_printf(out, "attest_agent_net_policies %zu\n", count);
    }
    pthread_mutex_unlock(&n->lock);
}

char *agent_net_stats(struct agent_net *n)
{
    struct att_buf b;
    char *text = NULL;
    size_t i;

    if (n == NULL) {
        return NULL;
    }
    att_buf_init(&b, (size_t)NET_MAX_ENTRIES * 200);
    pthread_mutex_lock(&n->lock);
    for (i = 0; i < n->n; i++) {
        char rh[HEX_LEN];

        if (!n->e[i].applied) {
            continue;
        }
        hex(n->e[i].ruleset, rh);
        (void)att_buf_printf(&b, "%s %" PRIu64 " %" PRIu64 " %s\n", n->e[i].id, n->e[i].egress,
                             n->e[i].ingress, rh);
    }
    pthread_mutex_unlock(&n->lock);
    if (b.data != NULL && b.len > 0 && att_buf_append(&b, "", 1) == ATT_OK) {
        text = strdup((const char *)b.data);
    }
    att_buf_cleanup(&b);
    return text;
}
