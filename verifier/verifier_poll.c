/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attestation engine (DESIGN §5): one thread runs every round. A round
 * sends each due host a fresh nonce with its stored log offset, many requests
 * in flight at once (attest/hmux.h: one SSL_CTX, each host's connection kept
 * between rounds), and
 * appraises each answer incrementally: only the log entries past the stored
 * offset, replayed from the stored PCR value.
 *
 * Verdicts: unreachable (no answer, or the agent's TPM is down) is never
 * called untrusted. The incremental state advances only on a trusted round,
 * so a failing entry stays in view until policy allows it. A quote whose
 * resetCount moved (or whose boot id changed) is a new boot: the host is
 * followed onto its new log from entry 0, without operator action. A counter
 * that goes backwards is untrusted. Each round is stored in one transaction
 * (state + verdict + events): a crash loses nothing that was committed and
 * redoes nothing that was not.
 *
 * Quarantine (DESIGN §6): a container that newly fails gets a signed order,
 * written with the round that found the failure (the store is the outbox);
 * orders that are due ride on the host's next evidence requests, with
 * backoff, until the agent's acknowledgement comes back in an answer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest/appraise.h"
#include "attest/digest.h"
#include "attest/hmux.h"
#include "attest/httpc.h"
#include "attest/log.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/proto.h"
#include "attest/quote.h"
#include "attest/sigkey.h"
#include "attest/util.h"
#include "attest/verdict_json.h"
#include "store.h"
#include "verifier.h"
#include "verifier_int.h"

/* An "attest now" request from the API, waiting for the poller. */
struct pending {
    char host[72];
    uint64_t seq; /* order of arrival: only a round that read the host after it answers it */
    bool done;
    att_rc rc;
    struct verifier_result result;
    struct pending *next;
};

/* A host's parsed AK, so a round does not rebuild the OpenSSL key (poller thread only). */
struct ak_cache_entry {
    char host[72];
    uint8_t digest[ATT_SHA256_LEN]; /* of the marshalled AK it was made from */
    struct att_ak *ak;              /* owned */
    /* the vulnerability feed the host's agent last said it holds (issue 8) */
    bool feed_known; /* an evidence has told */
    bool feed_has;
    uint8_t feed[ATT_SHA256_LEN];
};

#define AK_CACHE_MAX 65536

#define POLICY_CACHE 32 /* distinct policies kept parsed between rounds */

struct verifier_poller {
    struct verifier *v;         /* borrowed */
    struct ak_cache_entry *aks; /* owned array */
    size_t n_aks;
    size_t cap_aks;
    uint64_t policy_gen; /* bumped (under lock) whenever a policy or assignment changes */
    uint64_t req_seq;    /* last struct pending's seq (under lock) */
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* poller: work or stop */
    pthread_cond_t done; /* API threads: a pending request finished */
    bool stop;
    struct pending *queue;
    struct att_hmux *mux; /* owned: the agents' connections (poller thread only) */
    /* policies as read and parsed, per name, valid for one policy_gen (poller thread only) */
    struct policy_slot {
        char *name;             /* owned */
        char *json;             /* owned text as stored */
        struct att_policy *pol; /* owned, NULL when it does not parse */
        char why[256];          /* why it does not parse */
        uint64_t gen;
    } pols[POLICY_CACHE];
    size_t next_pol;
};

/* One host's attestation in a round. */
struct job {
    struct store_host host; /* snapshot at round start, owned */
    uint8_t nonce[ATT_PROTO_NONCE_LEN];
    uint64_t offset;     /* log offset requested */
    bool from_zero;      /* this request starts over at entry 0 (first time or new boot) */
    int attempt;         /* 1 = the retry from entry 0 after a new boot was seen */
    uint64_t policy_gen; /* policy generation when the host's state was read */
    uint64_t req_seq;    /* requests up to this seq came before the host's state was read */
    const char *why_retry;
    struct store_order *due; /* owned: orders sent with this request */
    size_t n_due;
    struct store_container *held; /* owned: rows new orders of this round point into */
    size_t n_held;
    struct att_buf req;
    struct att_buf resp;
    struct att_hmux_req http; /* the request in flight; its status, err, rc once done */
    char *url;                /* owned while the request runs */
};

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void job_free(struct job *j)
{
    if (j == NULL) {
        return;
    }
    free(j->url);
    store_order_list_free(j->due, j->n_due);
    store_container_list_free(j->held, j->n_held);
    att_buf_cleanup(&j->req);
    att_buf_cleanup(&j->resp);
    store_host_cleanup(&j->host);
    free(j);
}

/*
 * A job whose request is over: its buffers are freed, so what a round holds
 * at its end does not grow with the number of hosts.
 */
static void job_release(struct job *j)
{
    free(j->url);
    j->url = NULL;
    att_buf_cleanup(&j->req);
    att_buf_cleanup(&j->resp);
}

static uint64_t policy_gen_now(struct verifier_poller *p);
static struct ak_cache_entry *host_entry(struct verifier_poller *p, const char *name);
static const struct policy_slot *policy_get(struct verifier_poller *p, const char *name, char *why,
                                            size_t why_len);

#define ORDER_BACKOFF_MAX_S  30
#define POLL_MAX_CONNECTIONS 65536 /* idle agent connections kept (one per host) */

/*
 * The host's orders that are due go with this request (DESIGN §6). Each send
 * moves its next attempt out (interval x 2^attempts, at most 30 s), so an
 * unreachable agent is not flooded and gets the order soon after it returns.
 */
static void attach_orders(struct verifier_poller *p, struct job *j, struct att_evidence_request *r)
{
    struct store *s = verifier_store(p->v);
    int64_t now = verifier_now();
    int64_t step = (int64_t)(verifier_cfg(p->v)->interval_ms / 1000u);
    size_t i;

    store_order_list_free(j->due, j->n_due);
    j->due = NULL;
    j->n_due = 0;
    if (store_orders_due(s, j->host.name, now, ATT_PROTO_MAX_ORDERS, &j->due, &j->n_due) !=
            ATT_OK ||
        j->n_due == 0) {
        return;
    }
    r->orders = calloc(j->n_due, sizeof(*r->orders));
    if (r->orders == NULL) {
        return;
    }
    for (i = 0; i < j->n_due; i++) {
        const struct store_order *o = &j->due[i];
        bool lift = strcmp(o->state, "lift-pending") == 0;
        int64_t wait = step < 1 ? 1 : step;
        int k;

        for (k = 0; k < o->attempts && wait < ORDER_BACKOFF_MAX_S; k++) {
            wait *= 2;
        }
        r->orders[i].data = lift ? o->lift_envelope : o->envelope; /* borrowed */
        r->orders[i].len = lift ? o->lift_envelope_len : o->envelope_len;
        (void)store_order_sent(s, o->id,
                               now + (wait < ORDER_BACKOFF_MAX_S ? wait : ORDER_BACKOFF_MAX_S));
    }
    r->n_orders = j->n_due;
}

/* The agent's acknowledgements: each moves its order on (store_order_ack). */
static void take_acks(struct verifier_poller *p, struct job *j, const struct att_evidence *ev)
{
    size_t i;
    const char *f = getenv("ATTEST_VERIFIER_FAULT");

    /* Test hook (tests/integration/test_faults.sh): die with the agent's
     * acknowledgements in hand, before any is stored. */
    if (ev->n_acks > 0 && f != NULL && strcmp(f, "exit-before-ack") == 0) {
        LOG_ERR(
            "ATTEST_VERIFIER_FAULT=exit-before-ack: exiting with %zu acknowledgement(s) unstored",
            ev->n_acks);
        _exit(75);
    }
    for (i = 0; i < ev->n_acks; i++) {
        struct att_order_ack ack;
        char why[256] = "";
        att_rc rc;

        if (att_order_ack_decode(ev->acks[i].data, ev->acks[i].len, &ack, why, sizeof(why)) !=
            ATT_OK) {
            LOG_WARN("%s: malformed order acknowledgement: %s", j->host.name, why);
            continue;
        }
        rc = store_order_ack(verifier_store(p->v), j->host.name, ack.id, ack.ok, ack.result);
        if (rc == ATT_OK) {
            LOG_INFO("%s: order %s %s: %s", j->host.name, ack.id,
                     ack.ok ? "carried out" : "refused", ack.result);
        } else {
            LOG_WARN("%s: acknowledgement for unknown order %s (%s)", j->host.name, ack.id,
                     att_rc_str(rc));
        }
        att_order_ack_cleanup(&ack);
    }
}

/* Build the evidence request. */
static att_rc job_prepare(struct verifier_poller *p, struct job *j)
{
    struct att_evidence_request r;
    struct verifier_feed *feed;
    att_rc rc;

    memset(&r, 0, sizeof(r));
    att_buf_reset(&j->req);
    att_buf_reset(&j->resp);
    j->from_zero = j->attempt > 0 || j->host.boot_id == NULL;
    j->offset = j->from_zero ? 0 : j->host.log_offset;
    rc = att_random_bytes(j->nonce, sizeof(j->nonce));
    if (rc != ATT_OK) {
        return rc;
    }
    memcpy(r.nonce, j->nonce, sizeof(r.nonce));
    r.pcr_mask = ATT_PCR_ALL_MASK;
    r.log_offset = j->offset;
    /* The host's policy rides along: its containers section is what the
     * agent's prestart hook admits (the agent ignores an unchanged copy). */
    if (j->host.policy != NULL) {
        char why[300];
        const struct policy_slot *sl = policy_get(p, j->host.policy, why, sizeof(why));

        r.admission = sl != NULL ? sl->json : NULL; /* borrowed for the encode */
    }
    attach_orders(p, j, &r);
    /* The vulnerability feed, once, to an agent that said it holds another one. */
    feed = verifier_feed_get(p->v);
    {
        const struct ak_cache_entry *e = host_entry(p, j->host.name);

        if (feed != NULL && e != NULL && e->feed_known &&
            (!e->feed_has || memcmp(e->feed, feed->db->digest, ATT_SHA256_LEN) != 0) &&
            feed->len <= ATT_PROTO_MAX_VULNFEED) {
            r.vulnfeed = feed->text; /* borrowed for the encode */
            r.vulnfeed_len = feed->len;
        }
    }
    rc = att_evidence_request_encode(&r, &j->req);
    if (rc != ATT_OK && r.vulnfeed != NULL) {
        /* never let the feed stop attestation: send the request without it */
        LOG_WARN("%s: cannot send the vulnerability feed (%zu bytes): %s", j->host.name,
                 r.vulnfeed_len, att_rc_str(rc));
        r.vulnfeed = NULL;
        r.vulnfeed_len = 0;
        att_buf_reset(&j->req);
        rc = att_evidence_request_encode(&r, &j->req);
    }
    verifier_feed_put(p->v, feed);
    free(r.orders); /* the envelopes are j->due's */
    if (rc != ATT_OK) {
        return rc;
    }
    free(j->url);
    {
        size_t n = strlen(j->host.agent_url) + sizeof("/v1/evidence");

        j->url = malloc(n);
        if (j->url == NULL) {
            return ATT_ERR_NOMEM;
        }
        (void)snprintf(j->url, n, "%s/v1/evidence", j->host.agent_url);
    }
    memset(&j->http, 0, sizeof(j->http));
    j->http.url = j->url;
    j->http.method = "POST";
    j->http.content_type = "application/cbor";
    j->http.body = j->req.data;
    j->http.body_len = j->req.len;
    j->http.resp = &j->resp;
    j->http.user = j;
    return ATT_OK;
}

static uint64_t policy_gen_now(struct verifier_poller *p)
{
    uint64_t g;

    pthread_mutex_lock(&p->lock);
    g = p->policy_gen;
    pthread_mutex_unlock(&p->lock);
    return g;
}

void verifier_poller_policy_changed(struct verifier_poller *p)
{
    pthread_mutex_lock(&p->lock);
    p->policy_gen++;
    pthread_mutex_unlock(&p->lock);
}

/* The host's stored container verdicts, as appraisal state. */
static att_rc load_known(struct store *s, const char *host, struct att_container_verdict **out,
                         size_t *n)
{
    struct store_container *c = NULL;
    size_t count = 0;
    size_t i;
    att_rc rc = store_containers_list(s, host, &c, &count);

    *out = NULL;
    *n = 0;
    if (rc != ATT_OK || count == 0) {
        store_container_list_free(c, count);
        return rc;
    }
    *out = calloc(count, sizeof(**out));
    if (*out == NULL) {
        store_container_list_free(c, count);
        return ATT_ERR_NOMEM;
    }
    for (i = 0; i < count; i++) {
        struct att_container_verdict *v = &(*out)[i];

        (void)snprintf(v->id, sizeof(v->id), "%s", c[i].id);
        (void)snprintf(v->image, sizeof(v->image), "%s", c[i].image);
        (void)snprintf(v->policy, sizeof(v->policy), "%s", c[i].policy);
        v->is_failed = c[i].is_failed;
        (void)snprintf(v->code, sizeof(v->code), "%s", c[i].code);
        (void)snprintf(v->reason, sizeof(v->reason), "%s", c[i].reason);
        v->entry = c[i].entry;
    }
    *n = count;
    store_container_list_free(c, count);
    return ATT_OK;
}

/*
 * The parsed AK of @p h, made once per (host, AK) and kept: re-enrollment
 * changes the AK bytes, so the digest check replaces a stale entry. NULL on
 * any failure: the caller then verifies from the raw bytes (same result).
 */
static int ak_entry_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct ak_cache_entry *)elem)->host);
}

/*
 * The host's parsed AK, kept sorted by host name (a round looks every host
 * up: bsearch, not a scan). Rebuilt when the host's AK changes; when full,
 * the cache starts over (deleted hosts' entries go with it).
 */
static const struct att_ak *ak_for(struct verifier_poller *p, const struct store_host *h)
{
    uint8_t d[ATT_SHA256_LEN];
    struct ak_cache_entry *e;
    struct att_ak *ak = NULL;
    size_t lo = 0;
    size_t hi;

    if (att_sha256(h->ak_pub, h->ak_pub_len, d) != ATT_OK || strlen(h->name) >= sizeof(e->host)) {
        return NULL;
    }
    e = p->n_aks > 0 ? bsearch(h->name, p->aks, p->n_aks, sizeof(*p->aks), ak_entry_cmp) : NULL;
    if (e != NULL && memcmp(e->digest, d, sizeof(d)) == 0) {
        return e->ak;
    }
    if (att_ak_new(h->ak_pub, h->ak_pub_len, &ak, NULL, 0) != ATT_OK) {
        return NULL;
    }
    if (e != NULL) { /* re-enrolled with another AK */
        att_ak_free(e->ak);
        e->ak = ak;
        memcpy(e->digest, d, sizeof(d));
        return ak;
    }
    if (p->n_aks == AK_CACHE_MAX) {
        for (hi = 0; hi < p->n_aks; hi++) {
            att_ak_free(p->aks[hi].ak);
        }
        p->n_aks = 0;
    }
    if (p->n_aks == p->cap_aks) {
        size_t ncap = p->cap_aks != 0 ? p->cap_aks * 2 : 64;
        struct ak_cache_entry *n = realloc(p->aks, ncap * sizeof(*n));

        if (n == NULL) {
            att_ak_free(ak);
            return NULL;
        }
        p->aks = n;
        p->cap_aks = ncap;
    }
    /* insertion point: first entry whose name sorts after this host's */
    hi = p->n_aks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(p->aks[mid].host, h->name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    memmove(&p->aks[lo + 1], &p->aks[lo], (p->n_aks - lo) * sizeof(*p->aks));
    e = &p->aks[lo];
    memset(e, 0, sizeof(*e));
    (void)snprintf(e->host, sizeof(e->host), "%s", h->name);
    memcpy(e->digest, d, sizeof(d));
    e->ak = ak;
    p->n_aks++;
    return ak;
}

/* The host's cache entry (made by ak_for), or NULL. */
static struct ak_cache_entry *host_entry(struct verifier_poller *p, const char *name)
{
    return p->n_aks > 0 ? bsearch(name, p->aks, p->n_aks, sizeof(*p->aks), ak_entry_cmp) : NULL;
}

/* Load and parse the host's policy. NULL with no policy or a broken one (with why). */
static void policy_slot_clear(struct policy_slot *sl)
{
    free(sl->name);
    free(sl->json);
    att_policy_free(sl->pol);
    memset(sl, 0, sizeof(*sl));
}

/*
 * Policy @p name as stored and parsed, kept across rounds until a policy or
 * an assignment changes (policy_gen): every host of a round shares one parse,
 * where each used to read and parse its policy twice per round. Borrowed
 * until the next call that misses; NULL (with @p why) when absent or invalid.
 */
static const struct policy_slot *policy_get(struct verifier_poller *p, const char *name, char *why,
                                            size_t why_len)
{
    uint64_t gen = policy_gen_now(p);
    struct policy_slot *sl;
    size_t i;

    if (name == NULL) {
        (void)snprintf(why, why_len, "no policy is assigned to this host");
        return NULL;
    }
    for (i = 0; i < POLICY_CACHE; i++) {
        sl = &p->pols[i];
        if (sl->name != NULL && sl->gen == gen && strcmp(sl->name, name) == 0) {
            goto found;
        }
    }
    sl = &p->pols[p->next_pol];
    p->next_pol = (p->next_pol + 1) % POLICY_CACHE;
    policy_slot_clear(sl);
    if (store_policy_get(verifier_store(p->v), name, &sl->json) != ATT_OK) {
        (void)snprintf(why, why_len, "policy \"%s\" is not in the store", name);
        return NULL;
    }
    sl->name = strdup(name);
    if (sl->name == NULL) {
        policy_slot_clear(sl);
        (void)snprintf(why, why_len, "out of memory");
        return NULL;
    }
    sl->gen = gen;
    if (att_policy_parse_json(sl->json, strlen(sl->json), &sl->pol, sl->why, sizeof(sl->why)) !=
        ATT_OK) {
        sl->pol = NULL;
    }
found:
    if (sl->pol == NULL) {
        (void)snprintf(why, why_len, "policy \"%s\" does not parse: %s", name, sl->why);
    }
    return sl;
}

static const char *first_failure(const struct att_appraisal *a)
{
    size_t i;

    for (i = 0; i < a->n_findings; i++) {
        if (a->findings[i].kind == ATT_FIND_FAIL) {
            return a->findings[i].message;
        }
    }
    return NULL;
}

static bool has_finding(const struct att_appraisal *a, const char *code)
{
    size_t i;

    for (i = 0; i < a->n_findings; i++) {
        if (strcmp(a->findings[i].code, code) == 0) {
            return true;
        }
    }
    return false;
}

/* Hand a finished round's outcome to an API thread waiting for this host. */
static void complete_pending(struct verifier_poller *p, const struct job *j, att_rc rc,
                             const char *verdict, const char *reason, const char *findings,
                             uint64_t from, uint64_t to)
{
    struct pending *q;

    pthread_mutex_lock(&p->lock);
    for (q = p->queue; q != NULL; q = q->next) {
        /* A request that came after the host's state was read (a policy
         * assigned since, say) waits for the next round. */
        if (q->done || q->seq > j->req_seq || strcmp(q->host, j->host.name) != 0) {
            continue;
        }
        q->rc = rc;
        (void)snprintf(q->result.verdict, sizeof(q->result.verdict), "%s", verdict);
        q->result.reason = reason != NULL ? strdup(reason) : NULL;
        q->result.findings_json = strdup(findings != NULL ? findings : "[]");
        q->result.log_from = from;
        q->result.log_to = to;
        q->done = true;
    }
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->lock);
}

/* store_event's fields are plain char * because getters hand out owned
 * strings; a round only lends them for the duration of store_record_round. */
static void set_event(struct store_event *e, const char *kind, char *message)
{
    memset(e, 0, sizeof(*e));
    e->kind = (char *)(uintptr_t)kind;
    e->message = message;
}

struct outcome {
    unsigned trusted;
    unsigned untrusted;
    unsigned unreachable;
};

/* Store a verdict that involved no appraisal (unreachable, refused, malformed). */
static void record_simple(struct verifier_poller *p, struct job *j, const char *verdict,
                          const char *reason, struct outcome *o)
{
    struct store *s = verifier_store(p->v);
    struct store_round r;
    struct store_event ev[1];
    char msg[600];
    size_t nev = 0;
    static const char findings[] = "[]";

    memset(&r, 0, sizeof(r));
    if (j->host.verdict == NULL || strcmp(j->host.verdict, verdict) != 0) {
        (void)snprintf(msg, sizeof(msg), "%s -> %s: %s",
                       j->host.verdict != NULL ? j->host.verdict : "pending", verdict, reason);
        set_event(&ev[0], strcmp(verdict, "unreachable") == 0 ? "unreachable" : "verdict-changed",
                  msg);
        nev = 1;
    }
    r.host = j->host.name;
    r.at = verifier_now();
    r.verdict = verdict;
    r.reason = reason;
    r.findings_json = findings;
    r.log_from = j->offset;
    r.log_to = j->offset;
    r.events = ev;
    r.n_events = nev;
    if (store_record_round(s, &r) != ATT_OK) {
        LOG_ERR("cannot record the round for %s", j->host.name);
    }
    if (strcmp(verdict, "unreachable") == 0) {
        o->unreachable++;
    } else {
        o->untrusted++;
    }
    LOG_INFO("%s: %s (%s)", j->host.name, verdict, reason);
    complete_pending(p, j, ATT_OK, verdict, reason, findings, j->offset, j->offset);
}

/* A quarantine order being made: what its store_order row points into. */
struct new_order {
    char id[ATT_ORDER_ID_LEN + 1];
    char actions[64];
    struct att_buf env; /* the sealed order */
    struct store_order row;
};

static void new_orders_free(struct new_order *n, size_t count)
{
    size_t i;

    for (i = 0; n != NULL && i < count; i++) {
        att_buf_cleanup(&n[i].env);
        free(n[i].row.reason);
    }
    free(n);
}

/*
 * Whether container @p id is running on the host by the agent's inventory
 * ("<id> ..." lines). Without an inventory (no engine) every container counts.
 */
static bool in_inventory(const char *inv, const char *id)
{
    const char *line = inv;
    size_t n = strlen(id);

    if (inv == NULL) {
        return true;
    }
    while (line != NULL && *line != '\0') {
        if (strncmp(line, id, n) == 0 && line[n] == ' ') {
            return true;
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    return false;
}

/* The actions container policy @p name orders (default when it has none). */
static uint32_t order_actions(const struct att_policy *pol, const char *name)
{
    const struct att_container_policy *cp =
        name != NULL && name[0] != '\0' ? att_policy_container_by_name(pol, name) : NULL;

    return cp != NULL ? cp->quarantine : ATT_QUARANTINE_DEFAULT;
}

_Static_assert(ATT_QUARANTINE_PAUSE == ATT_ORDER_PAUSE &&
                   ATT_QUARANTINE_ISOLATE == ATT_ORDER_ISOLATE &&
                   ATT_QUARANTINE_KILL == ATT_ORDER_KILL,
               "policy and order action bits agree");

/* An order's reason: "<code>: <the failing entry>", valid UTF-8, at most 1024 bytes. */
static void order_reason(const char *code, const char *why, char *out, size_t out_len)
{
    (void)snprintf(out, out_len, "%s: %.900s", code, why);
    if (!att_utf8_valid((const uint8_t *)out, strlen(out))) {
        (void)snprintf(out, out_len, "%s", code); /* the cut split a character */
    }
}

/*
 * Whether container @p id of the host needs a new order for failure
 * @p reason: not while an order for it is open, and not again for the same
 * failure once one was lifted or expired (a lift is the operator's answer to
 * that finding; a re-appraisal from entry 0 finds it again).
 */
static bool needs_order(const struct store_order *all, size_t n, const char *id, const char *reason)
{
    size_t i;

    for (i = 0; i < n; i++) {
        bool open = strcmp(all[i].state, "lifted") != 0 && strcmp(all[i].state, "expired") != 0;

        if (strcmp(all[i].container, id) == 0 && (open || strcmp(all[i].reason, reason) == 0)) {
            return false;
        }
    }
    return true;
}

/* Seal a quarantine order for one container of host @p h into @p n. */
static att_rc make_order(struct verifier_poller *p, const struct store_host *h,
                         const char *container, const char *image, uint32_t actions,
                         const char *code, const char *why, struct new_order *n)
{
    struct att_order o;
    char reason[ATT_PROTO_MAX_TEXT];
    int64_t now = verifier_now();
    att_rc rc;

    memset(&o, 0, sizeof(o));
    memset(n, 0, sizeof(*n));
    att_buf_init(&n->env, ATT_PROTO_MAX_ORDER);
    order_reason(code, why, reason, sizeof(reason));
    o.op = ATT_ORDER_QUARANTINE;
    (void)snprintf(o.ak_name, sizeof(o.ak_name), "%s", h->ak_name);
    (void)snprintf(o.container, sizeof(o.container), "%s", container);
    (void)snprintf(o.image, sizeof(o.image), "%s", image != NULL ? image : "");
    o.actions = actions;
    o.reason = reason;
    rc = verifier_order_seal(p->v, &o, now, &n->env);
    if (rc != ATT_OK) {
        return rc;
    }
    memcpy(n->id, o.id, sizeof(n->id));
    att_order_actions_str(actions, n->actions, sizeof(n->actions));
    n->row.id = n->id;
    n->row.container = (char *)(uintptr_t)container;
    n->row.image = (char *)(uintptr_t)(image != NULL ? image : "");
    n->row.actions = n->actions;
    n->row.reason = strdup(reason);
    n->row.issued_at = now;
    n->row.expires_at = (int64_t)o.expires_at;
    n->row.envelope = n->env.data;
    n->row.envelope_len = n->env.len;
    return n->row.reason != NULL ? ATT_OK : ATT_ERR_NOMEM;
}

/*
 * Orders of a round (the outbox, written with the round): every failed
 * container that runs now (by the agent's inventory: never one refused at
 * start or gone) and needs one (needs_order). Each round looks, so a
 * container that failed before it was listed running is ordered once it is.
 */
static void container_orders(struct verifier_poller *p, struct job *j, const struct att_policy *pol,
                             const struct att_appraisal *a, const char *inventory,
                             struct new_order *no, struct store_order *so, size_t *n_no)
{
    struct store_order *all = NULL;
    size_t n_all = 0;
    bool loaded = false;
    size_t i;

    for (i = 0; pol != NULL && i < a->n_containers; i++) {
        const struct att_container_verdict *c = &a->containers[i];
        uint32_t acts = order_actions(pol, c->policy);
        char reason[ATT_PROTO_MAX_TEXT];

        if (!c->is_failed || acts == 0 || !in_inventory(inventory, c->id)) {
            continue;
        }
        if (!loaded) {
            if (store_orders_list(verifier_store(p->v), j->host.name, false, &all, &n_all) !=
                ATT_OK) {
                LOG_ERR("%s: cannot read its orders; no new ones this round", j->host.name);
                return;
            }
            loaded = true;
        }
        order_reason(c->code, c->reason, reason, sizeof(reason));
        if (!needs_order(all, n_all, c->id, reason)) {
            continue;
        }
        if (make_order(p, &j->host, c->id, c->image, acts, c->code, c->reason, &no[*n_no]) ==
            ATT_OK) {
            so[*n_no] = no[*n_no].row;
            (*n_no)++;
        } else {
            att_buf_cleanup(&no[*n_no].env);
            free(no[*n_no].row.reason);
            LOG_ERR("%s: cannot make a quarantine order for %.12s", j->host.name, c->id);
        }
    }
    store_order_list_free(all, n_all);
}

/*
 * An untrusted host whose policy says so (quarantine_untrusted_host): every
 * container the store knows on it, running by the agent's inventory, that
 * has no open order gets one.
 */
static void untrusted_host_orders(struct verifier_poller *p, struct job *j,
                                  const struct att_policy *pol, const char *why,
                                  const char *inventory, struct new_order **no,
                                  struct store_order **so, size_t *n_no)
{
    struct store *s = verifier_store(p->v);
    struct store_container *c = NULL;
    struct store_order *open = NULL;
    size_t n_c = 0;
    size_t n_open = 0;
    size_t i;

    if (*n_no > 0 || store_containers_list(s, j->host.name, &c, &n_c) != ATT_OK || n_c == 0 ||
        store_orders_list(s, j->host.name, false, &open, &n_open) != ATT_OK) {
        store_container_list_free(c, n_c);
        return;
    }
    new_orders_free(*no, 0);
    free(*so);
    *no = calloc(n_c, sizeof(**no));
    *so = calloc(n_c, sizeof(**so));
    for (i = 0; *no != NULL && *so != NULL && i < n_c; i++) {
        uint32_t acts = order_actions(pol, c[i].policy);
        char reason[ATT_PROTO_MAX_TEXT];

        order_reason("host-untrusted", why != NULL ? why : "the host failed attestation", reason,
                     sizeof(reason));
        if (acts == 0 || !in_inventory(inventory, c[i].id) ||
            !needs_order(open, n_open, c[i].id, reason)) {
            continue;
        }
        /* the row borrows container and image: keep them in the new_order's buffer */
        if (make_order(p, &j->host, c[i].id, c[i].image, acts, "host-untrusted",
                       why != NULL ? why : "the host failed attestation",
                       &(*no)[*n_no]) == ATT_OK) {
            (*so)[*n_no] = (*no)[*n_no].row;
            (*n_no)++;
        }
    }
    store_order_list_free(open, n_open);
    /* rows point at c[]'s strings: keep c alive until the round is stored */
    j->held = c;
    j->n_held = n_c;
}

/*
 * Test hook for the outbox (tests/integration/test_quarantine.sh): with
 * ATTEST_VERIFIER_FAULT=exit-after-order the verifier dies right after it
 * committed a round that wrote an order, before anything was delivered.
 */
static void fault_after_order(size_t n_orders)
{
    const char *f = getenv("ATTEST_VERIFIER_FAULT");

    if (n_orders > 0 && f != NULL && strcmp(f, "exit-after-order") == 0) {
        LOG_ERR("ATTEST_VERIFIER_FAULT=exit-after-order: exiting right after writing %zu order(s)",
                n_orders);
        _exit(75);
    }
}

/*
 * Appraise a 200 answer. Returns true when the job must be sent again from
 * entry 0 (a new boot seen through a verified quote).
 */
static bool process_evidence(struct verifier_poller *p, struct job *j, struct outcome *o)
{
    struct store *s = verifier_store(p->v);
    struct att_evidence ev;
    struct att_appraisal a;
    struct att_appraise_input in;
    struct att_policy *pol = NULL;
    struct store_round r;
    struct store_event evs[3];
    struct att_buf fj;
    uint8_t pcr_end[ATT_SHA256_LEN];
    char why[512] = "";
    char polwhy[256] = "";
    char msg[3][600];
    struct att_container_verdict *known = NULL;
    size_t n_known = 0;
    struct store_container *sc = NULL;
    struct store_event *cev = NULL;
    char(*cmsg)[600] = NULL;
    struct new_order *no = NULL;
    struct store_order *so = NULL;
    size_t n_no = 0;
    size_t n_cev = 0;
    size_t i;
    bool advance = false;
    char rollback[300] = "";
    size_t nev = 0;
    bool retry = false;
    bool quote_ok;
    const char *verdict;
    const char *reason;

    memset(&ev, 0, sizeof(ev));
    memset(&r, 0, sizeof(r));
    att_appraisal_init(&a);
    att_buf_init(&fj, 1u << 20);
    if (att_evidence_decode(j->resp.data, j->resp.len, &ev, why, sizeof(why)) != ATT_OK) {
        char reason_buf[600];

        (void)snprintf(reason_buf, sizeof(reason_buf), "malformed evidence: %s", why);
        record_simple(p, j, "untrusted", reason_buf, o);
        goto out;
    }
    take_acks(p, j, &ev);
    {
        const struct policy_slot *sl = policy_get(p, j->host.policy, polwhy, sizeof(polwhy));

        pol = sl != NULL ? sl->pol : NULL; /* borrowed from the cache */
    }
    if (pol == NULL) {
        (void)att_appraisal_add(&a, ATT_FIND_FAIL, "no-policy", -1, "%s", polwhy);
    }
    if (ev.log_offset != j->offset) {
        (void)att_appraisal_add(&a, ATT_FIND_FAIL, "log-offset", -1,
                                "asked for the log from entry %llu, got it from entry %llu",
                                (unsigned long long)j->offset, (unsigned long long)ev.log_offset);
    }
    memset(&in, 0, sizeof(in));
    in.ak_pub = j->host.ak_pub;
    in.ak_pub_len = j->host.ak_pub_len;
    in.ak = ak_for(p, &j->host);
    in.attest = ev.attest;
    in.attest_len = ev.attest_len;
    in.sig = ev.sig;
    in.sig_len = ev.sig_len;
    in.nonce = j->nonce;
    in.nonce_len = sizeof(j->nonce);
    in.pcrs = &ev.pcrs;
    in.meas_pcr = j->host.meas_pcr;
    in.log = ev.log;
    in.log_len = ev.log_len;
    in.log_offset = j->offset;
    if (!j->from_zero) {
        memcpy(in.pcr_start, j->host.pcr_value, sizeof(in.pcr_start));
    }
    in.log_consistent = ev.log_consistent;
    in.log_status = ev.log_status;
    in.policy = pol;
    /* Containers appraised in earlier rounds of this boot (none when starting over). */
    if (!j->from_zero && j->offset > 0 && load_known(s, j->host.name, &known, &n_known) != ATT_OK) {
        record_simple(p, j, "untrusted", "cannot read the host's container state", o);
        goto out;
    }
    in.containers = known;
    in.n_containers = n_known;
    memset(pcr_end, 0, sizeof(pcr_end));
    {
        struct ak_cache_entry *e = host_entry(p, j->host.name);

        if (e != NULL) {
            e->feed_known = true;
            e->feed_has = ev.has_vulnfeed;
            memcpy(e->feed, ev.vulnfeed, sizeof(e->feed));
        }
    }
    if (att_appraise(&in, &a, pcr_end) != ATT_OK) {
        record_simple(p, j, "untrusted", "appraisal could not run", o);
        goto out;
    }
    quote_ok = !has_finding(&a, "quote");

    /* Reboots and counters, from the signed clockInfo only. */
    if (quote_ok && j->host.boot_id != NULL) {
        bool backwards =
            a.reset_count < j->host.reset_count ||
            (a.reset_count == j->host.reset_count && a.restart_count < j->host.restart_count);
        bool new_boot =
            a.reset_count > j->host.reset_count || strcmp(ev.boot_id, j->host.boot_id) != 0;

        if (backwards) {
            (void)snprintf(rollback, sizeof(rollback),
                           "TPM counters went backwards (resetCount %u -> %u, restartCount %u -> "
                           "%u): a rolled-back TPM state, a replayed quote or another TPM",
                           j->host.reset_count, a.reset_count, j->host.restart_count,
                           a.restart_count);
            (void)att_appraisal_add(&a, ATT_FIND_FAIL, "counter-backwards", -1, "%s", rollback);
            a.is_trusted = false;
        } else if (new_boot && !j->from_zero) {
            /* Our offset belongs to the previous boot's log: start over at 0. */
            retry = true;
            j->why_retry = "new boot";
            goto out;
        }
    }
    /*
     * Network policy counters (issue 9): this round's, from an agent whose
     * quote verified; whatever the verdict, they are the operator's view of
     * what the rulesets refused. Absent means none enforced: forget the old.
     */
    if (quote_ok && verifier_netstats_set(p->v, j->host.name, ev.netstats) != ATT_OK) {
        LOG_WARN("host %s: out of memory keeping its network policy counters", j->host.name);
    }
    if (quote_ok && j->from_zero && j->host.boot_id != NULL &&
        a.reset_count > j->host.reset_count) {
        (void)snprintf(msg[nev], sizeof(msg[nev]),
                       "new boot: resetCount %u -> %u, boot %s; following the new log from "
                       "entry 0",
                       j->host.reset_count, a.reset_count, ev.boot_id);
        set_event(&evs[nev], "new-boot", msg[nev]);
        nev++;
    }
    if (att_findings_encode_json(&a, &fj) != ATT_OK) {
        (void)att_buf_append_str(&fj, "[]");
    }
    verdict = a.is_trusted ? "trusted" : "untrusted";
    /* A rollback explains every other failure of this round: name it first. */
    reason = a.is_trusted ? NULL : rollback[0] != '\0' ? rollback : first_failure(&a);
    if (j->host.verdict == NULL || strcmp(j->host.verdict, verdict) != 0) {
        (void)snprintf(msg[nev], sizeof(msg[nev]), "%s -> %s%s%s",
                       j->host.verdict != NULL ? j->host.verdict : "pending", verdict,
                       reason != NULL ? ": " : "", reason != NULL ? reason : "");
        set_event(&evs[nev], "verdict-changed", msg[nev]);
        nev++;
    }
    r.host = j->host.name;
    r.at = verifier_now();
    r.verdict = verdict;
    r.reason = reason;
    r.findings_json = (const char *)fj.data;
    r.log_from = j->offset;
    r.log_to = ev.log_count;
    /* Newly failed containers become events; all of them go with the state,
     * so only a round that advances the state reports them (once). */
    advance = a.is_trusted && policy_gen_now(p) == j->policy_gen;
    if (advance) {
        if (att_appraisal_add_inventory(&a, ev.inventory) != ATT_OK) {
            LOG_WARN("host %s: out of memory listing its not-yet-seen containers", j->host.name);
        }
    }
    if (advance && a.n_containers > 0) {
        /* packages records and the vulnerability bar (issue 8): may fail containers */
        verifier_vuln_round(p->v, j->host.name, pol, &a);
        sc = calloc(a.n_containers, sizeof(*sc));
        cev = calloc(a.n_containers + 3, sizeof(*cev));
        cmsg = calloc(a.n_containers, sizeof(*cmsg));
        no = calloc(a.n_containers, sizeof(*no));
        so = calloc(a.n_containers, sizeof(*so));
        if (sc == NULL || cev == NULL || cmsg == NULL || no == NULL || so == NULL) {
            record_simple(p, j, "untrusted", "out of memory appraising containers", o);
            goto out;
        }
        memcpy(cev, evs, nev * sizeof(*evs));
        n_cev = nev;
        for (i = 0; i < a.n_containers; i++) {
            const struct att_container_verdict *c = &a.containers[i];
            bool was_failed = false;
            size_t k;

            for (k = 0; k < n_known; k++) {
                if (strcmp(known[k].id, c->id) == 0) {
                    was_failed = known[k].is_failed;
                }
            }
            sc[i].id = (char *)(uintptr_t)c->id;
            sc[i].image = (char *)(uintptr_t)c->image;
            sc[i].policy = (char *)(uintptr_t)c->policy;
            sc[i].is_failed = c->is_failed;
            sc[i].code = (char *)(uintptr_t)c->code;
            sc[i].reason = (char *)(uintptr_t)c->reason;
            sc[i].entry = c->entry;
            if (c->is_failed && !was_failed) {
                (void)snprintf(cmsg[i], sizeof(cmsg[i]), "container %.12s failed (%s): %s", c->id,
                               c->code, c->reason);
                set_event(&cev[n_cev++], "container-failed", cmsg[i]);
                LOG_WARN("%s: %s", j->host.name, cmsg[i]);
                /* the outbox: the order is stored with the round that found the failure */
            }
        }
        container_orders(p, j, pol, &a, ev.inventory, no, so, &n_no);
        r.orders = so;
        r.n_orders = n_no;
        r.events = cev;
        r.n_events = n_cev;
        r.containers = sc;
        r.n_containers = a.n_containers;
    } else {
        r.events = evs;
        r.n_events = nev;
    }
    if (advance) {
        /* Only a trusted round moves the incremental state forward, and only
         * if no policy changed meanwhile (the API reset the state to 0). */
        r.has_state = true;
        r.boot_id = ev.boot_id;
        r.reset_count = a.reset_count;
        r.restart_count = a.restart_count;
        r.log_offset = ev.log_count;
        memcpy(r.pcr_value, pcr_end, sizeof(r.pcr_value));
    }
    if (!a.is_trusted && pol != NULL && pol->quarantine_untrusted_host) {
        untrusted_host_orders(p, j, pol, reason, ev.inventory, &no, &so, &n_no);
        r.orders = so;
        r.n_orders = n_no;
    }
    if (store_record_round(s, &r) != ATT_OK) {
        LOG_ERR("cannot record the round for %s", j->host.name);
    } else {
        fault_after_order(r.n_orders);
    }
    if (a.is_trusted) {
        o->trusted++;
    } else {
        o->untrusted++;
    }
    LOG_INFO("%s: %s, log entries %llu..%llu%s%s", j->host.name, verdict,
             (unsigned long long)j->offset, (unsigned long long)ev.log_count,
             reason != NULL ? ": " : "", reason != NULL ? reason : "");
    complete_pending(p, j, ATT_OK, verdict, reason, (const char *)fj.data, j->offset, ev.log_count);
out:
    free(known);
    free(sc);
    free(cev);
    free(cmsg);
    new_orders_free(no, n_no);
    free(so);
    att_evidence_cleanup(&ev);
    att_appraisal_cleanup(&a);
    att_buf_cleanup(&fj);
    return retry;
}

/* A finished transfer: returns true when the job goes out again (from 0). */
static bool process_job(struct verifier_poller *p, struct job *j, struct outcome *o)
{
    char reason[700];
    char *msg = NULL;
    long status = j->http.status;

    if (j->http.rc != ATT_OK) {
        (void)snprintf(reason, sizeof(reason), "agent unreachable: %s",
                       j->http.err[0] ? j->http.err : att_rc_str(j->http.rc));
        record_simple(p, j, "unreachable", reason, o);
        return false;
    }
    verifier_metrics_latency(p->v, j->http.total_us);
    if (status == 200) {
        return process_evidence(p, j, o);
    }
    (void)att_error_decode(j->resp.data, j->resp.len, &msg);
    if (status == 400 && j->attempt == 0 && msg != NULL && strstr(msg, "log_offset") != NULL) {
        /* Our offset is past the end of the agent's log: a new log (new boot). */
        free(msg);
        j->why_retry = "log shorter than the stored offset";
        return true;
    }
    if (status == 503) {
        (void)snprintf(reason, sizeof(reason), "agent cannot reach its TPM: %s",
                       msg != NULL ? msg : "HTTP 503");
        record_simple(p, j, "unreachable", reason, o);
    } else if (status == 401 || status == 403) {
        /* The agent refused *us* (client certificate): a configuration
         * problem on our side, not evidence against the host. */
        (void)snprintf(reason, sizeof(reason),
                       "agent refused the verifier's client certificate (HTTP %ld): %s", status,
                       msg != NULL ? msg : "no reason given");
        record_simple(p, j, "unreachable", reason, o);
    } else {
        (void)snprintf(reason, sizeof(reason), "agent refused to produce evidence (HTTP %ld): %s",
                       status, msg != NULL ? msg : "no reason given");
        record_simple(p, j, "untrusted", reason, o);
    }
    free(msg);
    return false;
}

/* Whether a round that read the hosts after request @p seen attests @p name. */
static bool host_wanted(struct verifier_poller *p, const char *name, bool all, uint64_t seen)
{
    struct pending *q;
    bool want = all;

    pthread_mutex_lock(&p->lock);
    for (q = p->queue; q != NULL && !want; q = q->next) {
        want = !q->done && q->seq <= seen && strcmp(q->host, name) == 0;
    }
    pthread_mutex_unlock(&p->lock);
    return want;
}

/* Fail "attest now" requests (up to @p seen) for hosts that do not exist. */
static void complete_unknown(struct verifier_poller *p, struct store_host *hosts, size_t n,
                             uint64_t seen)
{
    struct pending *q;
    size_t i;

    pthread_mutex_lock(&p->lock);
    for (q = p->queue; q != NULL; q = q->next) {
        bool found = false;

        for (i = 0; i < n && !found; i++) {
            found = strcmp(hosts[i].name, q->host) == 0;
        }
        if (!q->done && !found && q->seq <= seen) {
            q->rc = ATT_ERR_NOT_FOUND;
            q->done = true;
        }
    }
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->lock);
}

/* One round over every host (all) or only the hosts someone asked for. */
static void run_round(struct verifier_poller *p, bool all)
{
    struct store *s = verifier_store(p->v);
    struct store_host *hosts = NULL;
    struct job **jobs = NULL;
    struct outcome o = {0, 0, 0};
    size_t n = 0;
    size_t next = 0;
    size_t i;
    size_t max_inflight = verifier_cfg(p->v)->max_inflight;
    double t0 = mono_now();
    uint64_t gen;
    uint64_t seen;

    /* Read before the hosts' state: a policy change or request after this
     * is not answered by this round's snapshot. */
    pthread_mutex_lock(&p->lock);
    gen = p->policy_gen;
    seen = p->req_seq;
    pthread_mutex_unlock(&p->lock);

    if (store_host_list(s, &hosts, &n) != ATT_OK) {
        LOG_ERR("cannot list hosts; skipping this round");
        return;
    }
    complete_unknown(p, hosts, n, seen);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    jobs = calloc(n > 0 ? n : 1, sizeof(*jobs));
    if (jobs == NULL) {
        store_host_list_free(hosts, n);
        return;
    }
    for (i = 0; i < n; i++) {
        if (!host_wanted(p, hosts[i].name, all, seen)) {
            continue;
        }
        jobs[next] = calloc(1, sizeof(struct job));
        if (jobs[next] == NULL) {
            break;
        }
        jobs[next]->host = hosts[i];
        jobs[next]->policy_gen = gen;
        jobs[next]->req_seq = seen;
        memset(&hosts[i], 0, sizeof(hosts[i])); /* moved into the job */
        /* the policy and, once per host and feed, the vulnerability feed ride along */
        att_buf_init(&jobs[next]->req, ATT_PROTO_MAX_ADMISSION + ATT_PROTO_MAX_VULNFEED + 65536);
        att_buf_init(&jobs[next]->resp, ATT_PROTO_MAX_BODY);
        next++;
    }
    store_host_list_free(hosts, n);
    n = next;
    next = 0;
    for (;;) {
        struct att_hmux_req *h;

        /* in flight: what the mux holds, finished or not (att_hmux_pending) */
        while (next < n && att_hmux_pending(p->mux) < max_inflight) {
            struct job *j = jobs[next++];

            if (job_prepare(p, j) != ATT_OK) {
                LOG_ERR("cannot start attesting %s", j->host.name);
                job_release(j);
                continue;
            }
            att_hmux_add(p->mux, &j->http);
        }
        while ((h = att_hmux_done(p->mux)) != NULL) {
            struct job *j = h->user;

            if (process_job(p, j, &o) && j->attempt == 0) {
                LOG_INFO("%s: %s; asking again from log entry 0", j->host.name, j->why_retry);
                j->attempt = 1;
                if (job_prepare(p, j) == ATT_OK) {
                    att_hmux_add(p->mux, &j->http);
                } else {
                    job_release(j);
                }
            } else {
                job_release(j);
            }
        }
        if (att_hmux_pending(p->mux) > 0) {
            att_hmux_run(p->mux, 200);
        } else if (next >= n) {
            break;
        }
    }
    for (i = 0; i < n; i++) {
        job_free(jobs[i]);
    }
    free(jobs);
    if (n > 0) {
        verifier_metrics_round(p->v, o.trusted, o.untrusted, o.unreachable, mono_now() - t0);
    }
}

static bool queue_has_work(struct verifier_poller *p)
{
    struct pending *q;

    for (q = p->queue; q != NULL; q = q->next) {
        if (!q->done) {
            return true;
        }
    }
    return false;
}

static void *poll_main(void *arg)
{
    struct verifier_poller *p = arg;
    double interval = (double)verifier_cfg(p->v)->interval_ms / 1000.0;
    double next_round = mono_now();

    for (;;) {
        bool all;
        bool wanted;

        pthread_mutex_lock(&p->lock);
        while (!p->stop && !queue_has_work(p) && mono_now() < next_round) {
            struct timespec ts;
            double wait = next_round - mono_now();

            clock_gettime(CLOCK_MONOTONIC, &ts); /* the conds' clock */
            ts.tv_sec += (time_t)wait;
            ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&p->wake, &p->lock, &ts);
        }
        wanted = queue_has_work(p);
        if (p->stop) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        pthread_mutex_unlock(&p->lock);
        all = mono_now() >= next_round;
        if (all) {
            /* Rounds start every interval, however long one takes; one that
             * overran into the next slot is followed an interval after its
             * own start (never twice back to back, never catching up). */
            double now = mono_now();

            next_round += interval;
            if (next_round <= now) {
                next_round = now + interval;
            }
        }
        if (all || wanted) {
            run_round(p, all);
        }
    }
    return NULL;
}

att_rc verifier_poller_start(struct verifier *v, struct verifier_poller **out)
{
    struct verifier_poller *p = calloc(1, sizeof(*p));

    if (p == NULL) {
        return ATT_ERR_NOMEM;
    }
    p->v = v;
    pthread_mutex_init(&p->lock, NULL);
    {
        /* Timed waits on CLOCK_MONOTONIC: a wall-clock step back (NTP, an
         * operator's date -s) must not stall the rounds or "attest now". */
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->wake, &ca);
        pthread_cond_init(&p->done, &ca);
        pthread_condattr_destroy(&ca);
    }
    {
        /* One idle connection per host is kept between rounds: a host pays
         * the mTLS handshake once, not every round. */
        long timeout_s = (long)verifier_cfg(v)->timeout_s;
        att_rc rc = att_hmux_new(verifier_agent_tls(v), timeout_s > 0 ? timeout_s : 30,
                                 POLL_MAX_CONNECTIONS, &p->mux);

        if (rc != ATT_OK) {
            verifier_poller_stop(p);
            return rc;
        }
    }
    if (pthread_create(&p->thread, NULL, poll_main, p) != 0) {
        verifier_poller_stop(p);
        return ATT_ERR_INTERNAL;
    }
    p->started = true;
    *out = p;
    return ATT_OK;
}

void verifier_poller_stop(struct verifier_poller *p)
{
    struct pending *q;

    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    for (q = p->queue; q != NULL; q = q->next) {
        if (!q->done) {
            q->rc = ATT_ERR_TIMEOUT;
            q->done = true;
        }
    }
    pthread_cond_broadcast(&p->wake);
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->lock);
    if (p->started) {
        (void)pthread_join(p->thread, NULL);
    }
    att_hmux_free(p->mux);
    for (size_t i = 0; i < p->n_aks; i++) {
        att_ak_free(p->aks[i].ak);
    }
    free(p->aks);
    for (size_t i = 0; i < POLICY_CACHE; i++) {
        policy_slot_clear(&p->pols[i]);
    }
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

att_rc verifier_poller_attest_now(struct verifier_poller *p, const char *host,
                                  struct verifier_result *r)
{
    struct pending me;
    struct pending **pp;
    struct timespec ts;
    att_rc rc = ATT_ERR_TIMEOUT;

    memset(&me, 0, sizeof(me));
    memset(r, 0, sizeof(*r));
    if (!verifier_name_valid(host)) {
        return ATT_ERR_NOT_FOUND;
    }
    (void)snprintf(me.host, sizeof(me.host), "%s", host);
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the conds' clock */
    ts.tv_sec += (time_t)verifier_cfg(p->v)->timeout_s * 2 + 5;
    pthread_mutex_lock(&p->lock);
    me.seq = ++p->req_seq;
    me.next = p->queue;
    /* cppcheck-suppress autoVariables ; by design: &me is unlinked below, under the
     * same lock, before this function returns */
    p->queue = &me;
    pthread_cond_broadcast(&p->wake);
    while (!me.done) {
        if (pthread_cond_timedwait(&p->done, &p->lock, &ts) != 0) {
            break;
        }
    }
    for (pp = &p->queue; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == &me) {
            *pp = me.next;
            break;
        }
    }
    if (me.done) {
        rc = me.rc;
        *r = me.result;
        memset(&me.result, 0, sizeof(me.result)); /* transferred to caller */
    }
    pthread_mutex_unlock(&p->lock);
    verifier_result_cleanup(&me.result);
    return rc;
}
