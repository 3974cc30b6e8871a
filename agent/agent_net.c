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
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
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

#define POLICY_MAX    256 /* longer container policy names are refused here */
#define ADDED_GRACE_S 5   /* an entry the hook made this recently is not "gone" yet */

struct net_entry {
    char id[65];
    char policy[POLICY_MAX];
    pid_t pid;
    bool applied;                    /* our table is (by our records) in force */
    uint8_t network[ATT_SHA256_LEN]; /* digest of the applied network section */
    uint8_t ruleset[ATT_SHA256_LEN]; /* digest of the canonical listing read back */
    uint8_t script[ATT_SHA256_LEN];  /* digest of the applied script (DNS answers show here) */
    bool has_script;                 /* false after a restart: the next resolve re-applies */
    dev_t ns_dev;                    /* the namespace the table was applied in (0: unknown) */
    ino_t ns_ino;
    int64_t added; /* monotonic seconds */
    int64_t resolved_at;
    int64_t checked_at;
    uint64_t egress;
    uint64_t ingress;
    bool listed; /* in this tick's engine list */
};

struct agent_net {
    pthread_mutex_t lock;
    pthread_mutex_t stats_lock; /* taken after lock, never before: guards stats only */
    char *stats;                /* owned snapshot: agent_net_stats() text, NULL if none */
    bool stats_dirty;           /* counters read since the last publish() differ from it */
    char *state_path;
    unsigned check_s;
    struct net_entry *e;
    size_t n;
};

static int64_t mono_s(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* The identity of the network namespace of @p pid. */
static bool ns_of(pid_t pid, dev_t *dev, ino_t *ino)
{
    char path[64];
    struct stat st;

    (void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    if (stat(path, &st) != 0) {
        return false;
    }
    *dev = st.st_dev;
    *ino = st.st_ino;
    return true;
}

static void hex(const uint8_t d[ATT_SHA256_LEN], char out[HEX_LEN])
{
    att_hex_encode(d, ATT_SHA256_LEN, out);
}

/* ---- state file: "<id> <network hex> <ruleset hex> <policy, escaped>" per entry ---- */

static void state_save(struct agent_net *n)
{
    struct att_buf b;
    size_t i;
    char nh[HEX_LEN];
    char rh[HEX_LEN];
    att_rc rc;

    att_buf_init(&b, (size_t)NET_MAX_ENTRIES * (4 * POLICY_MAX));
    rc = att_buf_printf(&b, "# attest-agent: network policies applied (agent_net.c)\n");
    for (i = 0; i < n->n && rc == ATT_OK; i++) {
        if (!n->e[i].applied) {
            continue;
        }
        hex(n->e[i].network, nh);
        hex(n->e[i].ruleset, rh);
        rc = att_buf_printf(&b, "%s %s %s ", n->e[i].id, nh, rh);
        if (rc == ATT_OK) {
            rc = att_buf_append_escaped(&b, n->e[i].policy);
        }
        if (rc == ATT_OK) {
            rc = att_buf_append(&b, "\n", 1);
        }
    }
    if (rc != ATT_OK || att_file_write_atomic(n->state_path, b.data, b.len) != ATT_OK) {
        LOG_ERR("cannot write %s: after a restart the agent will re-apply network policies "
                "instead of checking them",
                n->state_path);
    }
    att_buf_cleanup(&b);
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
    e->added = mono_s();
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

    att_buf_init(&b, (size_t)NET_MAX_ENTRIES * (4 * POLICY_MAX));
    if (att_file_read(n->state_path, &b) != ATT_OK || b.len == 0 ||
        att_buf_append(&b, "", 1) != ATT_OK) {
        att_buf_cleanup(&b);
        return;
    }
    for (line = strtok_r((char *)b.data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char id[80];
        char nh[80];
        char rh[80];
        char pol[3 * POLICY_MAX + 1];
        char name[POLICY_MAX];
        struct net_entry *e;
        uint8_t nd[ATT_SHA256_LEN];
        uint8_t rd[ATT_SHA256_LEN];

        if (line[0] == '#') {
            continue;
        }
        if (sscanf(line, "%79s %79s %79s %768s", id, nh, rh, pol) != 4 ||
            !att_lower_hex(id, 64, 64) || att_hex_decode(nh, nd, sizeof(nd)) != ATT_OK ||
            att_hex_decode(rh, rd, sizeof(rd)) != ATT_OK ||
            !att_unescape(pol, name, sizeof(name)) || entry_find(n, id) != NULL) {
            LOG_WARN("%s: ignoring a malformed line", n->state_path);
            continue;
        }
        e = entry_add(n, id);
        if (e == NULL) {
            break;
        }
        (void)snprintf(e->policy, sizeof(e->policy), "%s", name);
        memcpy(e->network, nd, sizeof(nd));
        memcpy(e->ruleset, rd, sizeof(rd));
        e->applied = true;
    }
    att_buf_cleanup(&b);
}

static void publish(struct agent_net *n);

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
    pthread_mutex_init(&n->stats_lock, NULL);
    state_load(n);
    publish(n); /* the tables a previous run applied are in force until a check says otherwise */
    *out = n;
    return ATT_OK;
}

void agent_net_free(struct agent_net *n)
{
    if (n == NULL) {
        return;
    }
    pthread_mutex_destroy(&n->lock);
    pthread_mutex_destroy(&n->stats_lock);
    free(n->stats);
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
    (void)att_buf_printf(&b, "status=applied policy=");
    (void)att_buf_append_escaped(&b, e->policy);
    (void)att_buf_printf(&b, " network=%s ruleset=%s table=%s", nh, rh, table);
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
    (void)att_buf_printf(&b, "status=%s policy=", status);
    (void)att_buf_append_escaped(&b, policy != NULL && policy[0] != '\0' ? policy : "-");
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

/* ---- the counters' snapshot (evidence and /metrics never wait on n->lock) ---- */

/* Called with n->lock held. */
static void publish(struct agent_net *n)
{
    struct att_buf b;
    char *text = NULL;
    size_t i;
    att_rc rc = ATT_OK;

    att_buf_init(&b, (size_t)NET_MAX_ENTRIES * 200);
    for (i = 0; i < n->n && rc == ATT_OK; i++) {
        char rh[HEX_LEN];

        if (!n->e[i].applied) {
            continue;
        }
        hex(n->e[i].ruleset, rh);
        rc = att_buf_printf(&b, "%s %" PRIu64 " %" PRIu64 " %s\n", n->e[i].id, n->e[i].egress,
                            n->e[i].ingress, rh);
    }
    if (rc == ATT_OK && b.len > 0 && att_buf_append(&b, "", 1) == ATT_OK) {
        text = strdup((const char *)b.data);
    }
    att_buf_cleanup(&b);
    n->stats_dirty = false;
    pthread_mutex_lock(&n->stats_lock);
    free(n->stats);
    n->stats = text;
    pthread_mutex_unlock(&n->stats_lock);
}

/* ---- applying ----------------------------------------------------------- */

/*
 * Render (resolving DNS names now) and apply @p np for entry @p e in the
 * namespace of e->pid; on success the entry holds the new digests and the
 * record is logged. @p force: apply even when the script is unchanged; a
 * re-resolution (not forced) that would leave a deny rule without its
 * addresses keeps the table in force as it is.
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
    memset(&res, 0, sizeof(res));
    att_buf_init(&script, NF_MAX_LISTING);
    att_buf_init(&canon, NF_MAX_LISTING);
    rc = att_net_policy_digest(np, nd);
    if (rc == ATT_OK) {
        rc = nf_resolve(np, &res);
    }
    e->resolved_at = mono_s();
    if (rc == ATT_OK && nf_resolved_check(np, &res, why, why_len) != ATT_OK) {
        if (!force && e->applied) {
            LOG_WARN("container %.12s: keeping its network table as it is: %s", e->id, why);
            goto out;
        }
        rc = ATT_ERR_POLICY;
        goto out;
    }
    if (rc == ATT_OK) {
        rc = nf_render(table, np, &res, &script);
    }
    if (rc == ATT_OK) {
        rc = att_sha256(script.data, script.len, sd);
    }
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
        struct stat st;

        if (fstat(nsfd, &st) == 0) {
            e->ns_dev = st.st_dev;
            e->ns_ino = st.st_ino;
        }
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
    e->checked_at = mono_s();
    e->egress = live.egress_dropped;
    e->ingress = live.ingress_dropped;
    record_applied(a, e, table, &canon);
    state_save(n);
    publish(n);
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
    publish(n);
    LOG_INFO("container %.12s: its policy has no network section any more; table removed", e->id);
}

/* Without an engine nothing else notices containers that are gone: drop them here. */
static void prune_dead(struct agent_net *n)
{
    size_t i;
    size_t k;
    bool dropped = false;

    for (i = 0, k = 0; i < n->n; i++) {
        if (n->e[i].pid > 0 && kill(n->e[i].pid, 0) != 0 && errno == ESRCH) {
            dropped = dropped || n->e[i].applied;
            continue;
        }
        n->e[k++] = n->e[i];
    }
    n->n = k;
    if (dropped) {
        state_save(n);
        publish(n);
    }
}

att_rc agent_net_start(struct agent *a, const char *id, pid_t pid, const char *policy,
                       const char *image_id, char *why, size_t why_len)
{
    struct agent_net *n = agent_net_of(a);
    struct att_net_policy *np = NULL;
    struct net_entry *e;
    char name[POLICY_MAX] = "";
    char table[NF_TABLE_MAX];
    att_rc rc;

    if (n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = agent_net_policy(a, policy, image_id, name, sizeof(name), &np);
    if (rc != ATT_OK || np == NULL) {
        return rc == ATT_ERR_NOT_FOUND ? ATT_OK : rc; /* no network section: nothing to do */
    }
    if (!att_lower_hex(id, 64, 64)) {
        att_set_why(why, why_len, "container id \"%.70s\" is not 64 hex digits", id);
        att_net_policy_free(np);
        return ATT_ERR_POLICY;
    }
    pthread_mutex_lock(&n->lock);
    prune_dead(n);
    e = entry_find(n, id);
    if (e == NULL) {
        e = entry_add(n, id);
    }
    if (e == NULL) {
        att_set_why(why, why_len, "too many containers with network policies (%u)",
                    NET_MAX_ENTRIES);
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

/*
 * Read the live table; a difference from what was applied is drift: logged,
 * then repaired. A container whose namespace is not the one the table was
 * applied in (restarted without the hook) gets a fresh apply, not a drift.
 */
static void check(struct agent *a, struct agent_net *n, struct net_entry *e,
                  const struct att_net_policy *np)
{
    char table[NF_TABLE_MAX];
    char why[512] = "";
    struct nf_live live;
    int nsfd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    att_rc rc;

    nf_table_name(e->id, table);
    e->checked_at = mono_s();
    if (e->ns_ino != 0 && ns_of(e->pid, &dev, &ino) && (dev != e->ns_dev || ino != e->ns_ino)) {
        LOG_INFO("container %.12s is in a new network namespace: applying its policy", e->id);
        if (apply(a, n, e, np, true, why, sizeof(why)) != ATT_OK) {
            LOG_ERR("container %.12s: cannot apply its network policy: %s", e->id, why);
        }
        return;
    }
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
        n->stats_dirty = n->stats_dirty || e->egress != live.egress_dropped ||
                         e->ingress != live.ingress_dropped;
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

static bool has_dns(const struct att_net_policy *np)
{
    size_t i;

    for (i = 0; i < np->n_rules; i++) {
        if (np->rules[i].n_dns > 0) {
            return true;
        }
    }
    return false;
}

static void tick_one(struct agent *a, struct agent_net *n, const struct agent_net_seen *s,
                     int64_t now)
{
    struct net_entry *e = entry_find(n, s->id);
    struct att_net_policy *np = NULL;
    char name[POLICY_MAX] = "";
    char why[512] = "";
    char table[NF_TABLE_MAX];
    uint8_t nd[ATT_SHA256_LEN];
    att_rc rc;

    if (e != NULL) {
        e->listed = true;
    }
    if (s->pid <= 0) {
        return; /* paused or not inspected: nothing to read this tick */
    }
    /* the policy the hook chose, else the label's, else the image's */
    rc = agent_net_policy(a, e != NULL && e->policy[0] != '\0' ? e->policy : s->policy_label,
                          s->image_id, name, sizeof(name), &np);
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
    if (e->applied && memcmp(nd, e->network, sizeof(nd)) != 0) {
        check(a, n, e, np); /* a drift before the change is still a drift; its repair applies np */
    }
    if (!e->applied || memcmp(nd, e->network, sizeof(nd)) != 0) {
        rc = apply(a, n, e, np, true, why, sizeof(why));
        if (rc == ATT_ERR_NOT_FOUND) {
            LOG_INFO("container %.12s exited before its network policy was applied", e->id);
        } else if (rc != ATT_OK) {
            LOG_ERR("container %.12s: cannot apply network policy %s: %s", e->id, name, why);
            nf_table_name(e->id, table);
            record_status(a, e->id, "failed", name, nd, table, why);
        }
    } else if (now - e->checked_at >= (int64_t)n->check_s) {
        check(a, n, e, np);
    }
    if (e->applied && has_dns(np) && now - e->resolved_at >= (int64_t)np->resolve_interval) {
        why[0] = '\0';
        if (apply(a, n, e, np, false, why, sizeof(why)) != ATT_OK) {
            LOG_ERR("container %.12s: cannot re-apply after DNS re-resolution: %s", e->id, why);
        }
    }
    att_net_policy_free(np);
}

void agent_net_tick(struct agent *a, const struct agent_net_seen *seen, size_t n_seen)
{
    struct agent_net *n = agent_net_of(a);
    int64_t now = mono_s();
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
        if (seen[i].id != NULL && att_lower_hex(seen[i].id, 64, 64)) {
            tick_one(a, n, &seen[i], now);
        }
    }
    /*
     * Containers the engine no longer lists are forgotten (the hook's fresh
     * ones excepted: the engine's list may predate them). Their table goes
     * with their namespace, unless another container shares it.
     */
    for (i = 0, k = 0; i < n->n; i++) {
        if (n->e[i].listed || now - n->e[i].added < ADDED_GRACE_S) {
            n->e[k++] = n->e[i];
        } else {
            dropped = dropped || n->e[i].applied;
        }
    }
    n->n = k;
    if (dropped) {
        state_save(n);
    }
    if (dropped || n->stats_dirty) {
        publish(n);
    }
    pthread_mutex_unlock(&n->lock);
}

void agent_net_metrics(struct agent_net *n, struct att_buf *out)
{
    const char *line;
    size_t count = 0;

    if (n == NULL) {
        return;
    }
    (void)att_buf_printf(out, "# HELP attest_agent_net_dropped_total Refused packets of new "
                              "connections per container and direction (nftables counters).\n"
                              "# TYPE attest_agent_net_dropped_total counter\n");
    pthread_mutex_lock(&n->stats_lock);
    for (line = n->stats; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        struct att_net_stats ns;

        if (att_net_stats_parse(line, len, &ns) == ATT_OK) {
            (void)att_buf_printf(out,
                                 "attest_agent_net_dropped_total{container=\"%s\",direction="
                                 "\"egress\"} %" PRIu64 "\n"
                                 "attest_agent_net_dropped_total{container=\"%s\",direction="
                                 "\"ingress\"} %" PRIu64 "\n",
                                 ns.container, ns.egress_dropped, ns.container, ns.ingress_dropped);
            count++;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    pthread_mutex_unlock(&n->stats_lock);
    (void)att_buf_printf(out,
                         "# HELP attest_agent_net_policies Containers with a network policy "
                         "in force.\n# TYPE attest_agent_net_policies gauge\n"
                         "attest_agent_net_policies %zu\n",
                         count);
}

char *agent_net_stats(struct agent_net *n)
{
    char *text = NULL;

    if (n == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&n->stats_lock);
    if (n->stats != NULL) {
        text = strdup(n->stats);
    }
    pthread_mutex_unlock(&n->stats_lock);
    return text;
}
