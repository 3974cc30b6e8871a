/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's half of the image vulnerability gate (issue 8).
 *
 * Feed: `attest-verify vulndb import` turns OSV records or the Debian
 * security tracker into the canonical feed text (attest/vulndb.h) and POSTs
 * it to /api/v1/vulndb; here it is parsed strictly, stored append-only with
 * its digest, source digest and content time (store_vulnfeed_add), and made
 * current. The poller sends the current feed to every agent whose evidence
 * names another one, so the prestart hook judges with the same feed.
 *
 * Rounds: after a trusted round, the host's "packages:<id>" records are
 * joined into inventories (digest checked against every part's header), and
 * each container's inventory is judged against the current feed and its
 * container policy's bar whenever the feed, the policy or the inventory
 * changed or an allow entry expired. Findings replace the container's old
 * ones with an event for new ones (one store transaction); a container
 * whose policy says running=quarantine and has findings over the bar fails
 * with code "vulnerable", which orders its quarantine in the same round.
 * A feed older than the policy's max_feed_age (default --vulndb-max-age) is
 * not judged with: the API says so instead of passing silently.
 *
 * Memory: the current feed is reference-counted (verifier_feed_get/put in
 * verifier.c); everything else here is per call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attest/appraise.h"
#include "attest/digest.h"
#include "attest/httpd.h"
#include "attest/inventory.h"
#include "attest/log.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/util.h"
#include "attest/vulndb.h"
#include "store.h"
#include "verifier.h"
#include "verifier_int.h"

#define VULN_EVENT_MAX 900

static uint64_t max_age_for(const struct verifier *v, const struct att_vuln_policy *vp)
{
    if (vp != NULL && vp->max_feed_age > 0) {
        return vp->max_feed_age;
    }
    return verifier_cfg(v)->vulndb_max_age_s;
}

static json_t *feed_json(const struct store_vulnfeed *m, uint64_t max_age, int64_t now)
{
    int64_t age = now - m->feed_time;

    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:b}", "digest", m->digest,
                     "source", m->source, "source_digest", m->source_digest, "feed_time",
                     (json_int_t)m->feed_time, "imported_at", (json_int_t)m->imported_at,
                     "imported_by", m->imported_by, "entries", (json_int_t)m->n_entries,
                     "age_seconds", (json_int_t)age, "stale",
                     max_age > 0 && age > 0 && (uint64_t)age > max_age);
}

void verifier_vuln_import(struct verifier *v, const struct att_http_request *req, const char *who,
                          struct att_http_response *resp)
{
    struct att_vulndb *db = NULL;
    struct store_vulnfeed meta;
    const char *source = att_http_request_query(req, "source");
    const char *sdigest = att_http_request_query(req, "source_digest");
    char why[512] = "";
    char hex[2 * ATT_SHA256_LEN + 1];
    bool is_new = false;
    att_rc rc;
    int64_t now = verifier_now();
    size_t i;

    if (source == NULL || source[0] == '\0' || strlen(source) > 64) {
        verifier_api_errorf(resp, 400, "query parameter source (osv, debian-tracker) is required");
        return;
    }
    for (i = 0; source[i] != '\0'; i++) {
        if (!((source[i] >= 'a' && source[i] <= 'z') || source[i] == '-' || source[i] == '+')) {
            verifier_api_errorf(resp, 400, "source must be words of a-z joined by - or +");
            return;
        }
    }
    if (sdigest == NULL || !att_lower_hex(sdigest, 64, 64)) {
        verifier_api_errorf(resp, 400,
                            "query parameter source_digest (64 lower-case hex, the SHA-256 of the "
                            "files read) is required");
        return;
    }
    if (req->body_len == 0) {
        verifier_api_errorf(resp, 400, "empty body: the canonical feed text is expected");
        return;
    }
    rc = att_vulndb_parse(req->body, req->body_len, &db, why, sizeof(why));
    if (rc != ATT_OK) {
        verifier_api_errorf(resp, 400, "malformed feed: %s", why);
        return;
    }
    if (db->feed_time > (uint64_t)now + 86400u) {
        att_vulndb_free(db);
        verifier_api_errorf(resp, 400,
                            "the feed's time %llu is more than a day in the future: a feed that "
                            "never ages is refused",
                            (unsigned long long)db->feed_time);
        return;
    }
    att_hex_encode(db->digest, ATT_SHA256_LEN, hex);
    memset(&meta, 0, sizeof(meta));
    meta.digest = hex;
    meta.source = (char *)(uintptr_t)source;
    meta.source_digest = (char *)(uintptr_t)sdigest;
    meta.feed_time = (int64_t)db->feed_time;
    meta.imported_at = now;
    meta.imported_by = (char *)(uintptr_t)who;
    meta.n_entries = (int64_t)db->n_entries;
    rc = store_vulnfeed_add(verifier_store(v), &meta, req->body, req->body_len, &is_new);
    if (rc != ATT_OK) {
        att_vulndb_free(db);
        verifier_api_errorf(resp, 500, "cannot store the feed: %s", att_rc_str(rc));
        return;
    }
    /* the current feed is the newest row: reload it, whether new or not */
    att_vulndb_free(db);
    rc = verifier_feed_reload(v);
    if (rc != ATT_OK) {
        verifier_api_errorf(resp, 500, "feed stored but not loaded: %s", att_rc_str(rc));
        return;
    }
    LOG_INFO("vulnerability feed %.12s %s by %s (%lld entries)", hex,
             is_new ? "imported" : "re-imported (unchanged)", who, (long long)meta.n_entries);
    {
        json_t *o = feed_json(&meta, verifier_cfg(v)->vulndb_max_age_s, now);

        if (o != NULL) {
            (void)json_object_set_new(o, "new", json_boolean(is_new));
        }
        verifier_api_send_json(resp, is_new ? 201 : 200, o);
    }
}

void verifier_vuln_show(struct verifier *v, struct att_http_response *resp)
{
    struct store_vulnfeed *feeds = NULL;
    size_t n = 0;
    size_t i;
    json_t *arr = json_array();
    json_t *o;
    int64_t now = verifier_now();
    uint64_t max_age = verifier_cfg(v)->vulndb_max_age_s;

    if (arr == NULL || store_vulnfeed_list(verifier_store(v), &feeds, &n) != ATT_OK) {
        json_decref(arr);
        verifier_api_errorf(resp, 500, "cannot read the feeds");
        return;
    }
    for (i = 0; i < n; i++) {
        (void)json_array_append_new(arr, feed_json(&feeds[i], max_age, now));
    }
    o = json_pack("{s:o, s:I, s:o}", "current",
                  n > 0 ? feed_json(&feeds[0], max_age, now) : json_null(), "max_age_seconds",
                  (json_int_t)max_age, "feeds", arr);
    store_vulnfeed_list_free(feeds, n);
    verifier_api_send_json(resp, 200, o);
}

static json_t *match_json(const struct att_vuln_match *m, bool over, bool allowed)
{
    const struct att_vuln_entry *e = m->entry;

    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:b}", "id", e->id, "aliases",
                     e->aliases != NULL ? e->aliases : "", "package", m->pkg->name, "version",
                     m->pkg->version, "source", m->pkg->source, "source_version",
                     m->pkg->source_version, "fixed",
                     e->fixed != NULL ? json_string(e->fixed) : json_null(), "severity",
                     att_severity_str(e->severity), "over_bar", over, "allowed", allowed);
}

/* The bar for a scan: ?policy=DOC&container=NAME, or the default (high, fixed only). */
static bool scan_bar(struct verifier *v, const struct att_http_request *req,
                     struct att_policy **doc, const struct att_vuln_policy **vp,
                     struct att_http_response *resp)
{
    const char *pname = att_http_request_query(req, "policy");
    const char *cname = att_http_request_query(req, "container");
    const struct att_container_policy *cp;
    char *json = NULL;
    char why[300] = "";

    *doc = NULL;
    *vp = NULL;
    if (pname == NULL && cname == NULL) {
        return true;
    }
    if (pname == NULL || cname == NULL) {
        verifier_api_errorf(resp, 400, "policy and container go together (?policy=DOC&container=NAME)");
        return false;
    }
    if (store_policy_get(verifier_store(v), pname, &json) != ATT_OK) {
        verifier_api_errorf(resp, 404, "no policy named \"%.100s\"", pname);
        return false;
    }
    if (att_policy_parse_json(json, strlen(json), doc, why, sizeof(why)) != ATT_OK) {
        free(json);
        verifier_api_errorf(resp, 500, "stored policy does not parse: %s", why);
        return false;
    }
    free(json);
    cp = att_policy_container_by_name(*doc, cname);
    if (cp == NULL) {
        verifier_api_errorf(resp, 404, "policy %.100s has no container policy \"%.100s\"", pname,
                            cname);
        att_policy_free(*doc);
        *doc = NULL;
        return false;
    }
    *vp = cp->vulns;
    return true;
}

void verifier_vuln_scan(struct verifier *v, const struct att_http_request *req,
                        struct att_http_response *resp)
{
    struct verifier_feed *f = NULL;
    struct att_inventory *inv = NULL;
    struct att_vuln_match *m = NULL;
    struct att_policy *doc = NULL;
    const struct att_vuln_policy *vp = NULL;
    struct att_vuln_policy dflt;
    struct att_vuln_judgement jd;
    size_t n = 0;
    size_t i;
    char why[512] = "";
    char fresh[200] = "";
    char hex[2 * ATT_SHA256_LEN + 1];
    char ihex[2 * ATT_SHA256_LEN + 1];
    uint8_t idig[ATT_SHA256_LEN];
    uint64_t now = (uint64_t)verifier_now();
    json_t *arr;
    json_t *o;

    memset(&dflt, 0, sizeof(dflt));
    dflt.refuse_at = ATT_SEV_HIGH;
    if (req->body_len == 0) {
        verifier_api_errorf(resp, 400, "empty body: a canonical package inventory is expected");
        return;
    }
    if (att_inventory_parse((const char *)req->body, req->body_len, &inv, why, sizeof(why)) !=
        ATT_OK) {
        verifier_api_errorf(resp, 400, "malformed inventory: %s", why);
        return;
    }
    if (!scan_bar(v, req, &doc, &vp, resp)) {
        goto out;
    }
    if (vp == NULL) {
        vp = &dflt;
    }
    f = verifier_feed_get(v);
    if (f == NULL) {
        verifier_api_errorf(resp, 409, "no vulnerability feed imported: nothing to judge with "
                                       "(attest-verify vulndb import PATH)");
        goto out;
    }
    if (!att_vulndb_fresh(f->db, now, max_age_for(v, vp), fresh, sizeof(fresh))) {
        verifier_api_errorf(resp, 409, "refusing to judge: %s", fresh);
        goto out;
    }
    if (!att_vuln_judgeable(inv, why, sizeof(why))) {
        verifier_api_errorf(resp, 409, "%s", why);
        goto out;
    }
    if (att_vulndb_match(f->db, inv, &m, &n) != ATT_OK) {
        verifier_api_errorf(resp, 500, "out of memory matching");
        goto out;
    }
    att_vuln_judge(vp, m, n, now, &jd);
    arr = json_array();
    for (i = 0; arr != NULL && i < n; i++) {
        bool allowed = false;
        bool over = att_vuln_over_bar(vp, &m[i], now, &allowed);

        (void)json_array_append_new(arr, match_json(&m[i], over && !allowed, allowed));
    }
    att_hex_encode(f->db->digest, ATT_SHA256_LEN, hex);
    (void)att_sha256(req->body, req->body_len, idig);
    att_hex_encode(idig, ATT_SHA256_LEN, ihex);
    o = json_pack("{s:{s:s, s:I}, s:{s:s, s:s, s:s, s:I}, s:{s:s, s:b}, s:I, s:I, s:I, s:s, s:s, "
                  "s:o}",
                  "feed", "digest", hex, "age_seconds",
                  (json_int_t)((int64_t)now - (int64_t)f->db->feed_time), "inventory", "digest",
                  ihex, "ecosystem", inv->ecosystem, "os", inv->os_id,
                  "packages", (json_int_t)inv->n_pkgs, "bar", "refuse_at",
                  att_severity_str(vp->refuse_at), "refuse_unfixed", vp->refuse_unfixed,
                  "findings_total", (json_int_t)jd.n_findings, "over_bar",
                  (json_int_t)jd.n_over, "allowed", (json_int_t)jd.n_allowed, "verdict",
                  jd.n_over > 0 ? "fail" : "pass", "worst", jd.worst, "findings", arr);
    verifier_api_send_json(resp, 200, o);
out:
    free(m);
    att_inventory_free(inv);
    att_policy_free(doc);
    verifier_feed_put(v, f);
}

static json_t *finding_json(const struct store_finding *f)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:b, s:s, s:I}",
                     "host", f->host, "container", f->container, "image", f->image, "id",
                     f->vuln_id, "aliases", f->aliases, "package", f->package, "version",
                     f->version, "source", f->source, "source_version", f->source_version,
                     "fixed", f->fixed[0] != '\0' ? json_string(f->fixed) : json_null(),
                     "severity", f->severity, "over_bar", f->over_bar, "allowed", f->allowed,
                     "feed", f->feed, "found_at", (json_int_t)f->found_at);
}

void verifier_vuln_findings(struct verifier *v, const struct att_http_request *req,
                            struct att_http_response *resp)
{
    const char *host = att_http_request_query(req, "host");
    const char *container = att_http_request_query(req, "container");
    const char *image = att_http_request_query(req, "image");
    struct store_finding *f = NULL;
    size_t n = 0;
    size_t i;
    size_t over = 0;
    json_t *arr = json_array();

    if ((container != NULL && !att_lower_hex(container, 64, 64)) ||
        (image != NULL && (strncmp(image, "sha256:", 7) != 0 || !att_lower_hex(image + 7, 64, 64))) ||
        (host != NULL && !verifier_name_valid(host))) {
        json_decref(arr);
        verifier_api_errorf(resp, 400,
                            "host must be a host name, container 64 lower-case hex, image "
                            "sha256:<64 hex>");
        return;
    }
    if (arr == NULL || store_findings_list(verifier_store(v), host, container, image, &f, &n) !=
                           ATT_OK) {
        json_decref(arr);
        verifier_api_errorf(resp, 500, "cannot read the findings");
        return;
    }
    for (i = 0; i < n; i++) {
        over += f[i].over_bar ? 1 : 0;
        (void)json_array_append_new(arr, finding_json(&f[i]));
    }
    store_finding_list_free(f, n);
    verifier_api_send_json(resp, 200,
                           json_pack("{s:I, s:I, s:o}", "total", (json_int_t)n, "over_bar",
                                     (json_int_t)over, "findings", arr));
}

/* ------------------------------------------------------------------------- */
/* Rounds                                                                    */

static struct att_container_verdict *verdict_of(struct att_appraisal *a, const char *id)
{
    size_t i;

    for (i = 0; i < a->n_containers; i++) {
        if (strcmp(a->containers[i].id, id) == 0) {
            return &a->containers[i];
        }
    }
    return NULL;
}

static void fail_container(struct att_container_verdict *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_container(struct att_container_verdict *c, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (c == NULL || c->is_failed) {
        return;
    }
    c->is_failed = true;
    (void)snprintf(c->code, sizeof(c->code), "%s", code);
    va_start(ap, fmt);
    (void)vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    c->entry = -1;
}

/* Join this round's "packages:" records; complete, digest-checked inventories are stored. */
static void join_parts(struct verifier *v, const char *host, struct att_appraisal *a)
{
    size_t i;

    for (i = 0; i < a->n_pkgs; i++) {
        const struct att_pkg_record *r = &a->pkgs[i];
        struct att_container_verdict *c = verdict_of(a, r->container);
        struct att_inventory *inv = NULL;
        struct store_inventory si;
        uint8_t d[ATT_SHA256_LEN];
        char hex[2 * ATT_SHA256_LEN + 1];
        char why[300] = "";
        char *text = NULL;

        if (store_inventory_part(verifier_store(v), host, r->container, r->digest, r->part, r->n,
                                 r->body, r->len, &text) != ATT_OK) {
            LOG_ERR("%s: cannot store a packages record of container %.12s", host, r->container);
            continue;
        }
        if (text == NULL) {
            continue; /* more parts to come */
        }
        if (att_sha256(text, strlen(text), d) != ATT_OK) {
            free(text);
            continue;
        }
        att_hex_encode(d, ATT_SHA256_LEN, hex);
        if (strcmp(hex, r->digest) != 0) {
            fail_container(c, "packages-malformed",
                           "its measured package inventory does not match the digest its "
                           "records name (%.12s, joined %.12s)",
                           r->digest, hex);
        } else if (att_inventory_parse(text, strlen(text), &inv, why, sizeof(why)) != ATT_OK) {
            fail_container(c, "packages-malformed", "its measured package inventory: %s", why);
        } else {
            memset(&si, 0, sizeof(si));
            si.host = (char *)(uintptr_t)host;
            si.container = (char *)(uintptr_t)r->container;
            si.digest = hex;
            si.image = c != NULL ? c->image : NULL;
            si.ecosystem = inv->ecosystem;
            si.n_packages = (int64_t)inv->n_pkgs;
            si.body = text;
            si.unjudgeable = att_vuln_judgeable(inv, why, sizeof(why)) ? NULL : why;
            si.updated_at = verifier_now();
            if (store_inventory_put(verifier_store(v), &si) != ATT_OK) {
                LOG_ERR("%s: cannot store the inventory of container %.12s", host, r->container);
            }
        }
        att_inventory_free(inv);
        free(text);
    }
}

/* Judge one inventory; findings and the judgement key are stored. */
static void judge(struct verifier *v, const char *host, const struct store_inventory *si,
                  const struct att_container_verdict *c, const struct att_vuln_policy *vp,
                  const struct verifier_feed *f, const char *key, uint64_t now)
{
    struct att_inventory *inv = NULL;
    struct att_vuln_match *m = NULL;
    struct store_finding *sf = NULL;
    struct att_vuln_judgement jd;
    size_t n = 0;
    size_t i;
    size_t n_new = 0;
    char why[300] = "";
    char fhex[2 * ATT_SHA256_LEN + 1];
    char msg[VULN_EVENT_MAX];
    uint64_t recheck = f->db->feed_time + max_age_for(v, vp);
    struct store_inventory *full = NULL;
    size_t n_full = 0;

    /* the round lists inventories without bodies: fetch this one's now */
    if (store_inventories_list(verifier_store(v), host, si->container, true, &full, &n_full) !=
            ATT_OK ||
        n_full != 1 ||
        att_inventory_parse(full[0].body, strlen(full[0].body), &inv, why, sizeof(why)) != ATT_OK ||
        att_vulndb_match(f->db, inv, &m, &n) != ATT_OK) {
        LOG_ERR("%s: cannot judge the inventory of container %.12s: %s", host, si->container,
                why);
        goto out;
    }
    att_hex_encode(f->db->digest, ATT_SHA256_LEN, fhex);
    sf = calloc(n + 1, sizeof(*sf));
    if (sf == NULL) {
        goto out;
    }
    for (i = 0; i < n; i++) {
        bool allowed = false;
        bool over = vp != NULL && att_vuln_over_bar(vp, &m[i], now, &allowed);

        sf[i].image = (char *)(uintptr_t)c->image;
        sf[i].vuln_id = m[i].entry->id;
        sf[i].aliases = m[i].entry->aliases;
        sf[i].package = m[i].pkg->name;
        sf[i].version = m[i].pkg->version;
        sf[i].source = m[i].pkg->source;
        sf[i].source_version = m[i].pkg->source_version;
        sf[i].fixed = m[i].entry->fixed;
        sf[i].severity = (char *)(uintptr_t)att_severity_str(m[i].entry->severity);
        sf[i].over_bar = over && !allowed;
        sf[i].allowed = over && allowed;
        sf[i].feed = fhex;
    }
    for (i = 0; vp != NULL && i < vp->n_allow; i++) {
        if (vp->allow[i].expires_at > now && vp->allow[i].expires_at < recheck) {
            recheck = vp->allow[i].expires_at;
        }
    }
    if (vp != NULL) {
        att_vuln_judge(vp, m, n, now, &jd);
    } else {
        memset(&jd, 0, sizeof(jd));
        jd.n_findings = n;
    }
    (void)snprintf(msg, sizeof(msg),
                   "container %.12s (image %.80s): %zu known vulnerabilities with feed %.12s, %zu "
                   "over the bar of policy %.64s%s%.600s",
                   c->id, c->image, n, fhex, jd.n_over, c->policy[0] ? c->policy : "-",
                   jd.n_over > 0 ? ": " : "", jd.worst);
    if (store_findings_replace(verifier_store(v), host, si->container, key, (int64_t)recheck, sf,
                               n, (int64_t)now, msg, &n_new) != ATT_OK) {
        LOG_ERR("%s: cannot store the findings of container %.12s", host, si->container);
    } else if (n_new > 0) {
        LOG_WARN("%s: %s (%zu new)", host, msg, n_new);
    }
out:
    free(sf);
    free(m);
    att_inventory_free(inv);
    store_inventory_list_free(full, n_full);
}

/*
 * What a judgement depends on besides the feed: the container policy's name
 * and bar (every field), as 64 hex. Not the policy generation: that counter
 * restarts with the verifier.
 */
static void bar_digest(const char *name, const struct att_vuln_policy *vp,
                       char hex[2 * ATT_SHA256_LEN + 1])
{
    struct att_buf b;
    uint8_t d[ATT_SHA256_LEN];
    size_t i;

    att_buf_init(&b, 1u << 22);
    (void)att_buf_printf(&b, "%s\n", name);
    if (vp != NULL) {
        (void)att_buf_printf(&b, "%d %d %d %llu\n", (int)vp->refuse_at, vp->refuse_unfixed ? 1 : 0,
                             (int)vp->running, (unsigned long long)vp->max_feed_age);
        for (i = 0; i < vp->n_allow; i++) {
            (void)att_buf_printf(&b, "%s %llu %s\n", vp->allow[i].id,
                                 (unsigned long long)vp->allow[i].expires_at, vp->allow[i].reason);
        }
    }
    if (b.data == NULL || att_sha256(b.data, b.len, d) != ATT_OK) {
        memset(d, 0, sizeof(d)); /* never equal to a stored key's digest of real text */
    }
    att_hex_encode(d, ATT_SHA256_LEN, hex);
    att_buf_cleanup(&b);
}

void verifier_vuln_round(struct verifier *v, const char *host, const struct att_policy *pol,
                         struct att_appraisal *a)
{
    struct verifier_feed *f;
    struct store_inventory *inv = NULL;
    size_t n_inv = 0;
    size_t i;
    uint64_t now = (uint64_t)verifier_now();

    if (a->n_pkgs > 0) {
        join_parts(v, host, a);
    }
    if (store_inventories_list(verifier_store(v), host, NULL, false, &inv, &n_inv) != ATT_OK ||
        n_inv == 0) {
        store_inventory_list_free(inv, n_inv);
        return;
    }
    f = verifier_feed_get(v);
    for (i = 0; i < n_inv; i++) {
        struct att_container_verdict *c = verdict_of(a, inv[i].container);
        const struct att_container_policy *cp =
            c != NULL && pol != NULL ? att_policy_container_by_name(pol, c->policy) : NULL;
        const struct att_vuln_policy *vp = cp != NULL ? cp->vulns : NULL;
        char key[200];
        char fhex[2 * ATT_SHA256_LEN + 1];
        char bhex[2 * ATT_SHA256_LEN + 1];
        struct store_finding sf;

        if (c == NULL) {
            continue; /* not a container of this boot's log */
        }
        if (vp != NULL && vp->running == ATT_VULN_RUNNING_QUARANTINE && !c->is_failed &&
            inv[i].unjudgeable[0] != '\0') {
            fail_container(c, "packages-unknown", "policy %.64s has a vulnerability bar: %.400s",
                           c->policy, inv[i].unjudgeable);
            continue;
        }
        if (f != NULL && att_vulndb_fresh(f->db, now, max_age_for(v, vp), NULL, 0)) {
            att_hex_encode(f->db->digest, ATT_SHA256_LEN, fhex);
            bar_digest(c->policy, vp, bhex);
            (void)snprintf(key, sizeof(key), "%s %s", fhex, bhex);
            if (strcmp(inv[i].judged, key) != 0 || (int64_t)now >= inv[i].recheck_at) {
                judge(v, host, &inv[i], c, vp, f, key, now);
            }
        }
        if (vp != NULL && vp->running == ATT_VULN_RUNNING_QUARANTINE && !c->is_failed &&
            store_finding_worst(verifier_store(v), host, c->id, &sf) == ATT_OK) {
            fail_container(c, "vulnerable",
                           "known vulnerability over the bar of policy %.64s: %.128s (%.16s) in "
                           "%.64s %.64s%s%.64s (an allow entry in the policy accepts it)",
                           c->policy, sf.vuln_id, sf.severity, sf.package, sf.version,
                           sf.fixed[0] ? ", fixed in " : ", no fix yet", sf.fixed);
            store_finding_cleanup(&sf);
        }
    }
    verifier_feed_put(v, f);
    store_inventory_list_free(inv, n_inv);
}
