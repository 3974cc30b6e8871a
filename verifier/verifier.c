/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verifier lifecycle: config, store, EK trust anchors, agent TLS,
 * poller, dashboard API (see verifier.h). Start order is store -> trust ->
 * poller -> API, stop order the reverse, so no request ever sees a half-built
 * verifier.
 */
#include "verifier.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/credential.h"
#include "attest/httpd.h"
#include "attest/log.h"
#include "attest/sigkey.h"
#include "attest/util.h"
#include "attest/vulndb.h"
#include "store.h"
#include "verifier_int.h"

#define LAT_RING 4096

struct verifier {
    struct verifier_config cfg; /* deep copy */
    struct store *store;
    struct att_ek_trust *trust;
    struct att_tls_client_config agent_tls; /* points into cfg */
    struct att_tls_server_config api_tls;   /* points into cfg */
    struct verifier_poller *poller;
    struct att_httpd *api;
    struct att_sigkey *order_key; /* owned: signs quarantine orders */
    pthread_mutex_t metrics_lock;
    struct verifier_metrics metrics;
    uint32_t lat_ring[LAT_RING]; /* microseconds, the last LAT_RING requests */
    size_t lat_next;
    pthread_mutex_t feed_lock;
    struct verifier_feed *feed; /* the current vulnerability feed (issue 8), NULL if none */
    pthread_mutex_t netstats_lock;
    struct netstats_slot *netstats; /* owned array: each host's latest counters (issue 9) */
    size_t n_netstats;
};

/* One host's latest network policy counters, as its evidence carried them. */
struct netstats_slot {
    char *host; /* owned */
    char *text; /* owned, never NULL: a host without counters has no slot */
};

void verifier_config_init(struct verifier_config *c)
{
    memset(c, 0, sizeof(*c));
    c->interval_ms = 2000;
    c->timeout_s = 10;
    c->max_inflight = 32;
    c->order_ttl_s = 86400;
    c->vulndb_max_age_s = ATT_VULN_DEFAULT_MAX_AGE;
    c->vulndb_max_bytes = VERIFIER_VULNDB_MAX_BYTES;
}

void verifier_config_cleanup(struct verifier_config *c)
{
    size_t i;

    free(c->db);
    free(c->listen);
    free(c->api_cert);
    free(c->api_key);
    free(c->fleet_ca);
    free(c->client_cert);
    free(c->client_key);
    free(c->order_key);
    for (i = 0; i < c->n_tpm_ca; i++) {
        free(c->tpm_ca[i]);
    }
    memset(c, 0, sizeof(*c));
}

static att_rc copy_config(struct verifier_config *dst, const struct verifier_config *src)
{
    bool failed = false;
    size_t i;

    *dst = *src;
    dst->db = att_strdup_opt(src->db, &failed);
    dst->listen = att_strdup_opt(src->listen, &failed);
    dst->api_cert = att_strdup_opt(src->api_cert, &failed);
    dst->api_key = att_strdup_opt(src->api_key, &failed);
    dst->fleet_ca = att_strdup_opt(src->fleet_ca, &failed);
    dst->client_cert = att_strdup_opt(src->client_cert, &failed);
    dst->client_key = att_strdup_opt(src->client_key, &failed);
    dst->order_key = att_strdup_opt(src->order_key, &failed);
    for (i = 0; i < src->n_tpm_ca; i++) {
        dst->tpm_ca[i] = att_strdup_opt(src->tpm_ca[i], &failed);
    }
    return failed ? ATT_ERR_NOMEM : ATT_OK;
}

int64_t verifier_now(void)
{
    return (int64_t)time(NULL);
}

struct store *verifier_store(struct verifier *v)
{
    return v->store;
}

const struct att_sigkey *verifier_order_key(const struct verifier *v)
{
    return v->order_key;
}

/* The order-signing key: --order-key, or order-key.pem in the store's directory. */
static att_rc load_order_key(struct verifier *v)
{
    char path[4200];
    char why[512] = "";
    const char *slash = strrchr(v->cfg.db, '/');
    att_rc rc;

    if (v->cfg.order_key != NULL) {
        (void)snprintf(path, sizeof(path), "%s", v->cfg.order_key);
    } else if (slash != NULL) {
        (void)snprintf(path, sizeof(path), "%.*s/order-key.pem", (int)(slash - v->cfg.db),
                       v->cfg.db);
    } else {
        (void)snprintf(path, sizeof(path), "order-key.pem");
    }
    rc = att_sigkey_load_or_create(path, &v->order_key, why, sizeof(why));
    if (rc != ATT_OK) {
        LOG_ERR("quarantine order key: %s", why);
    }
    return rc;
}

const struct att_ek_trust *verifier_ek_trust(const struct verifier *v)
{
    return v->trust;
}

const struct att_tls_client_config *verifier_agent_tls(const struct verifier *v)
{
    return v->cfg.insecure_dev && v->cfg.fleet_ca == NULL ? NULL : &v->agent_tls;
}

const struct verifier_config *verifier_cfg(const struct verifier *v)
{
    return &v->cfg;
}

struct verifier_poller *verifier_poller(struct verifier *v)
{
    return v->poller;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;

    return x < y ? -1 : x > y ? 1 : 0;
}

void verifier_metrics_get(struct verifier *v, struct verifier_metrics *m)
{
    uint32_t *sorted = malloc(sizeof(v->lat_ring));
    size_t n;

    pthread_mutex_lock(&v->metrics_lock);
    *m = v->metrics;
    n = m->latency_samples < LAT_RING ? (size_t)m->latency_samples : LAT_RING;
    if (sorted != NULL) {
        memcpy(sorted, v->lat_ring, n * sizeof(*sorted));
    }
    pthread_mutex_unlock(&v->metrics_lock);
    if (sorted != NULL && n > 0) {
        size_t p50 = (n - 1) / 2;
        size_t p99 = (n - 1) * 99 / 100;

        qsort(sorted, n, sizeof(*sorted), cmp_u32);
        m->latency_p50_s = (double)sorted[p50] / 1e6;
        m->latency_p99_s = (double)sorted[p99] / 1e6;
    }
    free(sorted);
}

void verifier_metrics_latency(struct verifier *v, uint64_t us)
{
    pthread_mutex_lock(&v->metrics_lock);
    v->lat_ring[v->lat_next] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    v->lat_next = (v->lat_next + 1) % LAT_RING;
    v->metrics.latency_samples++;
    pthread_mutex_unlock(&v->metrics_lock);
}

void verifier_metrics_enrolled(struct verifier *v)
{
    pthread_mutex_lock(&v->metrics_lock);
    v->metrics.enrollments++;
    pthread_mutex_unlock(&v->metrics_lock);
}

/* Called by the poller after each round. */
void verifier_metrics_round(struct verifier *v, unsigned trusted, unsigned untrusted,
                            unsigned unreachable, double seconds)
{
    pthread_mutex_lock(&v->metrics_lock);
    v->metrics.rounds++;
    v->metrics.attestations += trusted + untrusted + unreachable;
    v->metrics.trusted += trusted;
    v->metrics.untrusted += untrusted;
    v->metrics.unreachable += unreachable;
    v->metrics.round_seconds_sum += seconds;
    pthread_mutex_unlock(&v->metrics_lock);
}

att_rc verifier_attest_now(struct verifier *v, const char *host, struct verifier_result *r)
{
    return verifier_poller_attest_now(v->poller, host, r);
}

void verifier_result_cleanup(struct verifier_result *r)
{
    if (r == NULL) {
        return;
    }
    free(r->reason);
    free(r->findings_json);
    memset(r, 0, sizeof(*r));
}

uint16_t verifier_api_port(const struct verifier *v)
{
    return att_httpd_port(v->api);
}

/* ------------------------------------------------------------------------- */
/* The current vulnerability feed (issue 8)                                  */

static void feed_free(struct verifier_feed *f)
{
    if (f == NULL) {
        return;
    }
    att_vulndb_free(f->db);
    free(f->text);
    store_vulnfeed_cleanup(&f->meta);
    free(f);
}

att_rc verifier_feed_reload(struct verifier *v)
{
    struct verifier_feed *f = calloc(1, sizeof(*f));
    struct verifier_feed *old;
    char why[300] = "";
    att_rc rc;

    if (f == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = store_vulnfeed_current(v->store, &f->meta, &f->text, &f->len);
    if (rc == ATT_OK) {
        rc = att_vulndb_parse(f->text, f->len, &f->db, why, sizeof(why));
        if (rc != ATT_OK) {
            LOG_ERR("the stored vulnerability feed %.12s does not parse: %s", f->meta.digest, why);
        }
    }
    if (rc != ATT_OK) {
        feed_free(f);
        return rc;
    }
    f->refs = 1;
    pthread_mutex_lock(&v->feed_lock);
    if (v->feed != NULL && v->feed->meta.id > f->meta.id) {
        /* a concurrent import already made a newer row current */
        pthread_mutex_unlock(&v->feed_lock);
        feed_free(f);
        return ATT_OK;
    }
    old = v->feed;
    v->feed = f;
    if (old != NULL && --old->refs > 0) {
        old = NULL; /* the last verifier_feed_put frees it */
    }
    pthread_mutex_unlock(&v->feed_lock);
    feed_free(old);
    return ATT_OK;
}

struct verifier_feed *verifier_feed_get(struct verifier *v)
{
    struct verifier_feed *f;

    pthread_mutex_lock(&v->feed_lock);
    f = v->feed;
    if (f != NULL) {
        f->refs++;
    }
    pthread_mutex_unlock(&v->feed_lock);
    return f;
}

void verifier_feed_put(struct verifier *v, struct verifier_feed *f)
{
    bool last;

    if (f == NULL) {
        return;
    }
    pthread_mutex_lock(&v->feed_lock);
    last = --f->refs == 0;
    pthread_mutex_unlock(&v->feed_lock);
    if (last) {
        feed_free(f);
    }
}

/* ------------------------------------------------------------------------- */
/* Network policy counters (issue 9): memory only, the latest round's        */

/* The slot of @p host, or NULL; under netstats_lock. */
static struct netstats_slot *netstats_find(struct verifier *v, const char *host)
{
    size_t i;

    for (i = 0; i < v->n_netstats; i++) {
        if (strcmp(v->netstats[i].host, host) == 0) {
            return &v->netstats[i];
        }
    }
    return NULL;
}

att_rc verifier_netstats_set(struct verifier *v, const char *host, const char *text)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char *copy = NULL;
    char *name = NULL;
    struct netstats_slot *slot;
    struct netstats_slot *grown;

    if (v == NULL || host == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (text != NULL) {
        copy = strdup(text);
        if (copy == NULL) {
            return ATT_ERR_NOMEM;
        }
    }
    pthread_mutex_lock(&v->netstats_lock);
    slot = netstats_find(v, host);
    if (slot != NULL && copy != NULL) {
        free(slot->text);
        slot->text = copy;
        copy = NULL; /* transferred to the slot */
    } else if (slot != NULL) {
        free(slot->host);
        free(slot->text);
        *slot = v->netstats[--v->n_netstats]; /* order does not matter */
    } else if (copy != NULL) {
        name = strdup(host);
        grown = name != NULL ? realloc(v->netstats, (v->n_netstats + 1) * sizeof(*grown)) : NULL;
        if (grown == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        v->netstats = grown;
        v->netstats[v->n_netstats].host = name;
        v->netstats[v->n_netstats].text = copy;
        v->n_netstats++;
        name = NULL; /* transferred to the slot */
        copy = NULL;
    }
    rc = ATT_OK;
out:
    pthread_mutex_unlock(&v->netstats_lock);
    free(name);
    free(copy);
    return rc;
}

char *verifier_netstats_get1(struct verifier *v, const char *host)
{
    struct netstats_slot *slot;
    char *copy = NULL;

    if (v == NULL || host == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&v->netstats_lock);
    slot = netstats_find(v, host);
    if (slot != NULL) {
        copy = strdup(slot->text);
    }
    pthread_mutex_unlock(&v->netstats_lock);
    return copy;
}

static void netstats_free_all(struct verifier *v)
{
    size_t i;

    for (i = 0; i < v->n_netstats; i++) {
        free(v->netstats[i].host);
        free(v->netstats[i].text);
    }
    free(v->netstats);
    v->netstats = NULL;
    v->n_netstats = 0;
}

/* Feed uploads by an operator get the larger body cap; everything else the API's. */
static size_t api_body_limit(void *ctx, const char *method, const char *url,
                             const char *authorization)
{
    struct verifier *v = ctx;

    if (strcmp(method, "POST") == 0 && strcmp(url, "/api/v1/vulndb") == 0 &&
        verifier_api_role(v, authorization) >= 2) {
        return v->cfg.vulndb_max_bytes;
    }
    return 0;
}

att_rc verifier_start(const struct verifier_config *cfg, struct verifier **out)
{
    att_rc rc = ATT_ERR_INVALID_ARG;
    struct verifier *v = NULL;
    struct att_httpd_config hc;
    size_t i;

    if (cfg == NULL || out == NULL || cfg->db == NULL || cfg->listen == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (!cfg->insecure_dev &&
        (cfg->api_cert == NULL || cfg->api_key == NULL || cfg->fleet_ca == NULL ||
         cfg->client_cert == NULL || cfg->client_key == NULL)) {
        LOG_ERR("TLS needs --api-cert, --api-key, --fleet-ca, --client-cert and --client-key "
                "(or --insecure-dev for plain HTTP in a test rig)");
        return ATT_ERR_INVALID_ARG;
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL) {
        return ATT_ERR_NOMEM;
    }
    pthread_mutex_init(&v->metrics_lock, NULL);
    pthread_mutex_init(&v->feed_lock, NULL);
    pthread_mutex_init(&v->netstats_lock, NULL);
    rc = copy_config(&v->cfg, cfg);
    if (rc != ATT_OK) {
        goto out;
    }
    v->agent_tls.ca_file = v->cfg.fleet_ca;
    v->agent_tls.cert_file = v->cfg.client_cert;
    v->agent_tls.key_file = v->cfg.client_key;
    v->api_tls.cert_file = v->cfg.api_cert;
    v->api_tls.key_file = v->cfg.api_key;
    v->api_tls.client_ca_file = NULL; /* the dashboard authenticates with bearer tokens */

    rc = store_open(v->cfg.db, &v->store);
    if (rc != ATT_OK) {
        if (rc == ATT_ERR_EXISTS) {
            LOG_ERR("another attest-verifier is using %s; one store has one verifier", cfg->db);
        }
        goto out;
    }
    rc = load_order_key(v);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_ek_trust_new(&v->trust);
    if (rc != ATT_OK) {
        goto out;
    }
    for (i = 0; i < v->cfg.n_tpm_ca; i++) {
        rc = att_ek_trust_add(v->trust, v->cfg.tpm_ca[i]);
        if (rc != ATT_OK) {
            LOG_ERR("cannot load trusted TPM CA certificates from %s: %s", v->cfg.tpm_ca[i],
                    att_rc_str(rc));
            goto out;
        }
    }
    if (v->cfg.insecure_dev) {
        LOG_WARN("*** --insecure-dev: plain HTTP to agents and on the dashboard API. Anyone on "
                 "the network can read and forge this traffic. Test rigs only. ***");
    }
    rc = verifier_feed_reload(v);
    if (rc == ATT_ERR_NOMEM || rc == ATT_ERR_IO) {
        LOG_ERR("cannot load the vulnerability feed from %s: %s", v->cfg.db, att_rc_str(rc));
        goto out;
    }
    if (rc != ATT_OK && rc != ATT_ERR_NOT_FOUND) {
        /* a stored feed that no longer parses: no judgement until the next import */
        LOG_ERR("the current vulnerability feed in %s is unusable (%s): starting without one; "
                "import a feed again",
                v->cfg.db, att_rc_str(rc));
    }
    rc = verifier_poller_start(v, &v->poller);
    if (rc != ATT_OK) {
        goto out;
    }
    memset(&hc, 0, sizeof(hc));
    hc.listen = v->cfg.listen;
    hc.tls = v->cfg.insecure_dev && v->cfg.api_cert == NULL ? NULL : &v->api_tls;
    hc.max_body = VERIFIER_API_MAX_BODY;
    hc.body_limit = api_body_limit;
    hc.threads = 4;
    hc.handler = verifier_api_handle;
    hc.error = verifier_api_error;
    hc.ctx = v;
    rc = att_httpd_start(&hc, &v->api);
    if (rc != ATT_OK) {
        LOG_ERR("cannot serve the dashboard API on %s: %s", v->cfg.listen, att_rc_str(rc));
        goto out;
    }
    *out = v;
    v = NULL;
    rc = ATT_OK;
out:
    verifier_stop(v);
    return rc;
}

void verifier_stop(struct verifier *v)
{
    if (v == NULL) {
        return;
    }
    att_httpd_stop(v->api);
    verifier_poller_stop(v->poller);
    att_ek_trust_free(v->trust);
    att_sigkey_free(v->order_key);
    store_close(v->store);
    feed_free(v->feed);
    netstats_free_all(v);
    verifier_config_cleanup(&v->cfg);
    pthread_mutex_destroy(&v->metrics_lock);
    pthread_mutex_destroy(&v->feed_lock);
    pthread_mutex_destroy(&v->netstats_lock);
    free(v);
}
