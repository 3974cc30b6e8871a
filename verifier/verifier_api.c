/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet dashboard REST API (JSON; proto/openapi.yaml). Every request but
 * /api/v1/health needs "Authorization: Bearer <token>"; tokens are stored as
 * sha256 only and carry a role: viewer (read), operator (+ attest now),
 * admin (+ enroll, delete, policies). Missing or unknown token -> 401, too
 * small a role -> 403. Every error is {"error": "..."}; bodies are capped by
 * the server (413). JSON is built with jansson here: it is this API's own
 * rendering of verifier state, which proto/ cannot see.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attest/digest.h"
#include "attest/httpd.h"
#include "attest/log.h"
#include "attest/netpolicy.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/proto.h"
#include "attest/util.h"
#include "store.h"
#include "verifier.h"
#include "verifier_int.h"

enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 };

static void send_json(struct att_http_response *resp, unsigned status, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    att_buf_reset(&resp->body);
    resp->content_type = "application/json";
    if (text == NULL || att_buf_append_str(&resp->body, text) != ATT_OK ||
        att_buf_append_str(&resp->body, "\n") != ATT_OK) {
        resp->status = 500;
    } else {
        resp->status = status;
    }
    free(text);
    json_decref(j);
}

void verifier_api_error(void *ctx, unsigned status, const char *message,
                        struct att_http_response *resp)
{
    char clean[1024];

    (void)ctx;
    /* Messages quote what the client sent (names, parser errors): printable
     * ASCII only, or a stray byte would make the JSON body impossible. */
    (void)snprintf(clean, sizeof(clean), "%s", message != NULL ? message : "error");
    att_printable_ascii(clean);
    send_json(resp, status, json_pack("{s:s}", "error", clean));
}

void verifier_api_send_json(struct att_http_response *resp, unsigned status, json_t *j)
{
    send_json(resp, status, j);
}

void verifier_api_errorf(struct att_http_response *resp, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    verifier_api_error(NULL, status, msg, resp);
}

static enum role role_of(const char *name)
{
    if (name == NULL) {
        return ROLE_NONE;
    }
    if (strcmp(name, "admin") == 0) {
        return ROLE_ADMIN;
    }
    if (strcmp(name, "operator") == 0) {
        return ROLE_OPERATOR;
    }
    if (strcmp(name, "viewer") == 0) {
        return ROLE_VIEWER;
    }
    return ROLE_NONE;
}

/* Authenticate the bearer token; fills resp with 401 when there is none valid. */
/* The role of a "Bearer <token>" header's token (ROLE_NONE if none), its name into @p who. */
static enum role token_role(struct verifier *v, const char *authorization, char *who,
                            size_t who_len)
{
    uint8_t hash[ATT_SHA256_LEN];
    const char *tok;
    char *name = NULL;
    char *role = NULL;
    enum role r = ROLE_NONE;

    if (authorization == NULL || strncmp(authorization, "Bearer ", 7) != 0) {
        return ROLE_NONE;
    }
    tok = authorization + 7;
    if (strlen(tok) > 0 && strlen(tok) <= 256 && att_sha256(tok, strlen(tok), hash) == ATT_OK &&
        store_token_find(verifier_store(v), hash, &name, &role) == ATT_OK) {
        r = role_of(role);
        (void)snprintf(who, who_len, "%s", name);
    }
    free(name);
    free(role);
    return r;
}

static enum role authenticate(struct verifier *v, const struct att_http_request *req,
                              struct att_http_response *resp, char *who, size_t who_len)
{
    enum role r;

    if (req->authorization == NULL || strncmp(req->authorization, "Bearer ", 7) != 0) {
        verifier_api_errorf(resp, 401, "missing bearer token (Authorization: Bearer <token>)");
        return ROLE_NONE;
    }
    r = token_role(v, req->authorization, who, who_len);
    if (r == ROLE_NONE) {
        verifier_api_errorf(resp, 401, "unknown or invalid token");
    }
    return r;
}

int verifier_api_role(struct verifier *v, const char *authorization)
{
    char who[128];

    return (int)token_role(v, authorization, who, sizeof(who));
}

static bool need(enum role have, enum role want, struct att_http_response *resp)
{
    static const char *const names[] = {"none", "viewer", "operator", "admin"};

    if (have >= want) {
        return true;
    }
    verifier_api_errorf(resp, 403, "this needs the %s role; your token has %s", names[want],
                        names[have]);
    return false;
}

static json_t *hex_or_null(const uint8_t *p, size_t len)
{
    char hex[2 * ATT_SHA256_LEN + 1];

    if (len > ATT_SHA256_LEN) {
        return json_null();
    }
    att_hex_encode(p, len, hex);
    return json_string(hex);
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *host_json(const struct store_host *h)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:o, s:I, s:s, s:o, s:I, s:o, s:i, s:i, s:I, s:o}", "name",
        h->name, "agent_url", h->agent_url, "ek_alg", h->ek_alg, "ak_name", h->ak_name, "meas_pcr",
        (int)h->meas_pcr, "policy", str_or_null(h->policy), "enrolled_at",
        (json_int_t)h->enrolled_at, "verdict", h->verdict != NULL ? h->verdict : "pending",
        "verdict_reason", str_or_null(h->verdict_reason), "last_attested_at",
        (json_int_t)h->last_attested_at, "boot_id", str_or_null(h->boot_id), "reset_count",
        (int)h->reset_count, "restart_count", (int)h->restart_count, "log_offset",
        (json_int_t)h->log_offset, "pcr_value", hex_or_null(h->pcr_value, sizeof(h->pcr_value)));
}

static json_t *findings_or_empty(const char *text)
{
    json_t *j = text != NULL ? json_loads(text, 0, NULL) : NULL;

    return j != NULL ? j : json_array();
}

static bool parse_limit(const struct att_http_request *req, size_t *limit,
                        struct att_http_response *resp)
{
    const char *s = att_http_request_query(req, "limit");
    uint32_t v = 0;

    *limit = 100;
    if (s == NULL) {
        return true;
    }
    if (att_parse_u32(s, 1000, &v) != ATT_OK || v == 0) {
        verifier_api_errorf(resp, 400, "limit must be a number from 1 to 1000");
        return false;
    }
    *limit = v;
    return true;
}

static bool parse_id(const struct att_http_request *req, const char *key, int64_t *out,
                     struct att_http_response *resp)
{
    const char *s = att_http_request_query(req, key);
    uint64_t v = 0;

    *out = 0;
    if (s == NULL) {
        return true;
    }
    if (att_parse_u64(s, INT64_MAX, &v) != ATT_OK) {
        verifier_api_errorf(resp, 400, "%s must be a non-negative integer", key);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* Parse a JSON object body; 400 naming the problem otherwise. */
static json_t *body_object(const struct att_http_request *req, struct att_http_response *resp)
{
    json_error_t err;
    json_t *j;

    if (req->body_len == 0) {
        verifier_api_errorf(resp, 400, "request body is empty; a JSON object is expected");
        return NULL;
    }
    j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        verifier_api_errorf(resp, 400, "malformed JSON at line %d column %d: %s", err.line,
                            err.column, err.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        verifier_api_errorf(resp, 400, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static void hosts_list(struct verifier *v, struct att_http_response *resp)
{
    struct store_host *hosts = NULL;
    size_t n = 0;
    size_t i;
    json_t *arr = json_array();

    if (store_host_list(verifier_store(v), &hosts, &n) != ATT_OK || arr == NULL) {
        json_decref(arr);
        verifier_api_errorf(resp, 500, "cannot read hosts");
        return;
    }
    for (i = 0; i < n; i++) {
        (void)json_array_append_new(arr, host_json(&hosts[i]));
    }
    store_host_list_free(hosts, n);
    send_json(resp, 200, json_pack("{s:o}", "hosts", arr));
}

static void host_get(struct verifier *v, const char *name, struct att_http_response *resp)
{
    struct store_host h;
    att_rc rc = store_host_get(verifier_store(v), name, &h);

    if (rc == ATT_ERR_NOT_FOUND) {
        verifier_api_errorf(resp, 404, "no host named \"%s\"", name);
        return;
    }
    if (rc != ATT_OK) {
        verifier_api_errorf(resp, 500, "cannot read host");
        return;
    }
    send_json(resp, 200, host_json(&h));
    store_host_cleanup(&h);
}

static void host_enroll(struct verifier *v, const struct att_http_request *req,
                        struct att_http_response *resp)
{
    json_t *j = body_object(req, resp);
    const char *name;
    const char *url;
    char why[1024] = "";
    att_rc rc;

    if (j == NULL) {
        return;
    }
    name = json_string_value(json_object_get(j, "name"));
    url = json_string_value(json_object_get(j, "agent_url"));
    if (name == NULL || url == NULL) {
        verifier_api_errorf(resp, 400, "enrollment needs \"name\" and \"agent_url\" strings");
        json_decref(j);
        return;
    }
    rc = verifier_enroll(v, name, url, why, sizeof(why));
    if (rc == ATT_OK) {
        verifier_metrics_enrolled(v);
        host_get(v, name, resp);
        resp->status = resp->status == 200 ? 201 : resp->status;
    } else if (rc == ATT_ERR_EXISTS) {
        verifier_api_errorf(resp, 409, "%s", why);
    } else if (rc == ATT_ERR_IO || rc == ATT_ERR_TIMEOUT) {
        verifier_api_errorf(resp, 502, "%s", why);
    } else if (rc == ATT_ERR_VERIFY || rc == ATT_ERR_INVALID_ARG || rc == ATT_ERR_PARSE) {
        verifier_api_errorf(resp, rc == ATT_ERR_VERIFY ? 422 : 400, "%s",
                            why[0] ? why : att_rc_str(rc));
    } else {
        verifier_api_errorf(resp, 500, "enrollment failed: %s", att_rc_str(rc));
    }
    json_decref(j);
}

static void host_delete(struct verifier *v, const char *name, struct att_http_response *resp)
{
    att_rc rc = store_host_delete(verifier_store(v), name);

    if (rc == ATT_ERR_NOT_FOUND) {
        verifier_api_errorf(resp, 404, "no host named \"%s\"", name);
        return;
    }
    if (rc != ATT_OK) {
        verifier_api_errorf(resp, 500, "cannot delete host");
        return;
    }
    (void)verifier_netstats_set(v, name, NULL); /* forgetting frees, never fails */
    (void)store_event_add(verifier_store(v), name, "deleted", "host deleted by an admin");
    send_json(resp, 200, json_pack("{s:s}", "deleted", name));
}

static void host_attest(struct verifier *v, const char *name, struct att_http_response *resp)
{
    struct verifier_result r;
    att_rc rc = verifier_attest_now(v, name, &r);

    if (rc == ATT_ERR_NOT_FOUND) {
        verifier_api_errorf(resp, 404, "no host named \"%s\"", name);
        return;
    }
    if (rc != ATT_OK) {
        verifier_api_errorf(resp, 504, "attestation of %s did not finish in time", name);
        return;
    }
    send_json(resp, 200,
              json_pack("{s:s, s:s, s:o, s:I, s:I, s:o}", "host", name, "verdict", r.verdict,
                        "reason", str_or_null(r.reason), "log_from", (json_int_t)r.log_from,
                        "log_to", (json_int_t)r.log_to, "findings",
                        findings_or_empty(r.findings_json)));
    verifier_result_cleanup(&r);
}

/*
 * A host's incremental state was appraised under its old policy: start it
 * over from entry 0 (persistently, in the store), and tell the poller so a
 * round in flight cannot write the old offset back.
 */
static void reappraise(struct verifier *v, const char *policy_or_null, const char *host_or_null)
{
    struct store_host *hosts = NULL;
    size_t n = 0;
    size_t i;

    if (host_or_null != NULL) {
        (void)store_host_reset_state(verifier_store(v), host_or_null);
    } else if (store_host_list(verifier_store(v), &hosts, &n) == ATT_OK) {
        for (i = 0; i < n; i++) {
            if (hosts[i].policy != NULL && strcmp(hosts[i].policy, policy_or_null) == 0) {
                (void)store_host_reset_state(verifier_store(v), hosts[i].name);
            }
        }
        store_host_list_free(hosts, n);
    }
    verifier_poller_policy_changed(verifier_poller(v));
}

static void host_set_policy(struct verifier *v, const char *name,
                            const struct att_http_request *req, struct att_http_response *resp)
{
    json_t *j = body_object(req, resp);
    json_t *p;
    att_rc rc;

    if (j == NULL) {
        return;
    }
    p = json_object_get(j, "policy");
    if (p == NULL || (!json_is_string(p) && !json_is_null(p))) {
        verifier_api_errorf(resp, 400,
                            "body must be {\"policy\": \"<name>\"} or {\"policy\": null}");
        json_decref(j);
        return;
    }
    rc = store_host_set_policy(verifier_store(v), name, json_string_value(p));
    if (rc == ATT_ERR_INVALID_ARG) {
        verifier_api_errorf(resp, 400,
                            "\"policy\" must name a policy (a non-empty name) or be null");
    } else if (rc == ATT_ERR_NOT_FOUND) {
        verifier_api_errorf(resp, 404, "no host \"%s\" or no policy \"%s\"", name,
                            json_is_string(p) ? json_string_value(p) : "");
    } else if (rc != ATT_OK) {
        verifier_api_errorf(resp, 500, "cannot assign the policy");
    } else {
        char msg[300];

        (void)snprintf(msg, sizeof(msg), "policy %s assigned",
                       json_is_string(p) ? json_string_value(p) : "(none)");
        (void)store_event_add(verifier_store(v), name, "policy-assigned", msg);
        reappraise(v, NULL, name);
        host_get(v, name, resp);
    }
    json_decref(j);
}

static void verdicts_list(struct verifier *v, const char *host, const struct att_http_request *req,
                          struct att_http_response *resp)
{
    struct store_verdict *vs = NULL;
    size_t n = 0;
    size_t limit;
    size_t i;
    int64_t before;
    json_t *arr;

    if (!parse_limit(req, &limit, resp) || !parse_id(req, "before", &before, resp)) {
        return;
    }
    if (host != NULL) {
        struct store_host h;

        if (store_host_get(verifier_store(v), host, &h) != ATT_OK) {
            verifier_api_errorf(resp, 404, "no host named \"%s\"", host);
            return;
        }
        store_host_cleanup(&h);
    }
    if (store_verdicts_list(verifier_store(v), host, before, limit, &vs, &n) != ATT_OK) {
        verifier_api_errorf(resp, 500, "cannot read verdicts");
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++) {
        (void)json_array_append_new(
            arr, json_pack("{s:I, s:I, s:s, s:s, s:o, s:I, s:I, s:o}", "id", (json_int_t)vs[i].id,
                           "at", (json_int_t)vs[i].at, "host", vs[i].host, "verdict", vs[i].verdict,
                           "reason", str_or_null(vs[i].reason), "log_from",
                           (json_int_t)vs[i].log_from, "log_to", (json_int_t)vs[i].log_to,
                           "findings", findings_or_empty(vs[i].findings_json)));
    }
    store_verdict_list_free(vs, n);
    send_json(resp, 200, json_pack("{s:o}", "verdicts", arr));
}

/* One container's network policy counters (issue 9), as its agent last reported them. */
/*
 * Add "network": {"egress_dropped", "ingress_dropped", "ruleset"} to the
 * container object @p cj when the agent's latest netstats @p text (may be
 * NULL) has a well-formed line for container @p id; the first one counts.
 */
static void add_network(json_t *cj, const char *text, const char *id)
{
    const char *line = text;
    struct att_net_stats ns;

    while (cj != NULL && line != NULL && *line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);

        if (att_net_stats_parse(line, len, &ns) == ATT_OK && strcmp(ns.container, id) == 0) {
            (void)json_object_set_new(cj, "network",
                                      json_pack("{s:I, s:I, s:s}", "egress_dropped",
                                                (json_int_t)ns.egress_dropped, "ingress_dropped",
                                                (json_int_t)ns.ingress_dropped, "ruleset",
                                                ns.ruleset));
            return;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
}

static void containers_list(struct verifier *v, const char *host, struct att_http_response *resp)
{
    struct store_container *c = NULL;
    struct store_order *q = NULL;
    size_t nq = 0;
    size_t n = 0;
    size_t i;
    json_t *arr;
    char *netstats = NULL;            /* owned: the counters of host netstats_host */
    const char *netstats_host = NULL; /* borrowed from c */

    if (host != NULL) {
        struct store_host h;

        if (store_host_get(verifier_store(v), host, &h) != ATT_OK) {
            verifier_api_errorf(resp, 404, "no host named \"%s\"", host);
            return;
        }
        store_host_cleanup(&h);
    }
    if (store_containers_list(verifier_store(v), host, &c, &n) != ATT_OK ||
        store_orders_list(verifier_store(v), host, true, &q, &nq) != ATT_OK) {
        store_container_list_free(c, n);
        verifier_api_errorf(resp, 500, "cannot read containers");
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++) {
        const struct store_order *open = NULL;
        size_t k;
        json_t *cj;

        for (k = 0; k < nq && open == NULL; k++) {
            if (strcmp(q[k].host, c[i].host) == 0 && strcmp(q[k].container, c[i].id) == 0) {
                open = &q[k];
            }
        }
        cj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "host", c[i].host, "id",
                       c[i].id, "image", c[i].image, "policy", c[i].policy, "verdict",
                       open != NULL && strcmp(open->state, "enforced") == 0 ? "quarantined"
                       : c[i].is_failed                                     ? "failed"
                       : c[i].image[0] == '\0'                              ? "not-seen"
                                                                            : "trusted",
                       "code", c[i].code, "reason", c[i].reason, "entry", (json_int_t)c[i].entry,
                       "updated_at", (json_int_t)c[i].updated_at);
        if (cj != NULL && open != NULL) {
            (void)json_object_set_new(cj, "quarantine",
                                      json_pack("{s:s, s:s, s:s, s:s}", "order", open->id, "state",
                                                open->state, "actions", open->actions, "result",
                                                open->result));
        }
        if (netstats_host == NULL || strcmp(netstats_host, c[i].host) != 0) {
            free(netstats);
            netstats = verifier_netstats_get1(v, c[i].host);
            netstats_host = c[i].host;
        }
        add_network(cj, netstats, c[i].id);
        (void)json_array_append_new(arr, cj);
    }
    free(netstats);
    store_container_list_free(c, n);
    store_order_list_free(q, nq);
    send_json(resp, 200, json_pack("{s:o}", "containers", arr));
}

static json_t *order_json(const struct store_order *o)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:I, s:o, s:o, "
                     "s:o, s:I}",
                     "id", o->id, "host", o->host, "container", o->container, "image", o->image,
                     "actions", o->actions, "reason", o->reason, "state", o->state, "result",
                     o->result, "issued_at", (json_int_t)o->issued_at, "expires_at",
                     (json_int_t)o->expires_at, "attempts", o->attempts, "acked_at",
                     (json_int_t)o->acked_at, "lift_id", str_or_null(o->lift_id), "lifted_by",
                     str_or_null(o->lifted_by), "lift_reason", str_or_null(o->lift_reason),
                     "lifted_at", (json_int_t)o->lifted_at);
}

static void quarantine_list(struct verifier *v, const struct att_http_request *req,
                            struct att_http_response *resp)
{
    const char *host = att_http_request_query(req, "host");
    const char *open = att_http_request_query(req, "open");
    struct store_order *o = NULL;
    size_t n = 0;
    size_t i;
    json_t *arr;

    if (open != NULL && strcmp(open, "0") != 0 && strcmp(open, "1") != 0) {
        verifier_api_errorf(resp, 400, "open must be 0 or 1");
        return;
    }
    if (host != NULL && !verifier_name_valid(host)) {
        verifier_api_errorf(resp, 400, "invalid host name");
        return;
    }
    if (store_orders_list(verifier_store(v), host, open != NULL && strcmp(open, "1") == 0, &o,
                          &n) != ATT_OK) {
        verifier_api_errorf(resp, 500, "cannot read quarantine orders");
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++) {
        (void)json_array_append_new(arr, order_json(&o[i]));
    }
    store_order_list_free(o, n);
    send_json(resp, 200, json_pack("{s:o}", "orders", arr));
}

static void quarantine_get(struct verifier *v, const char *id, struct att_http_response *resp)
{
    struct store_order o;

    memset(&o, 0, sizeof(o));
    if (store_order_get(verifier_store(v), id, &o) != ATT_OK) {
        verifier_api_errorf(resp, 404, "no quarantine order %s", id);
        return;
    }
    send_json(resp, 200, json_pack("{s:o}", "order", order_json(&o)));
    store_order_cleanup(&o);
}

static void quarantine_lift(struct verifier *v, const char *id, const char *who,
                            const struct att_http_request *req, struct att_http_response *resp)
{
    json_t *j = body_object(req, resp);
    const char *reason;
    char why[512] = "";
    att_rc rc;

    if (j == NULL) {
        return;
    }
    reason = json_string_value(json_object_get(j, "reason"));
    if (reason == NULL || reason[0] == '\0' || strlen(reason) > 1024) {
        verifier_api_errorf(
            resp, 400, "body must be {\"reason\": \"...\"} (1..1024 bytes): a lift is audited");
        json_decref(j);
        return;
    }
    rc = verifier_quarantine_lift(v, id, who, reason, why, sizeof(why));
    json_decref(j);
    if (rc == ATT_ERR_NOT_FOUND) {
        verifier_api_errorf(resp, 404, "%s", why);
    } else if (rc == ATT_ERR_EXISTS) {
        verifier_api_errorf(resp, 409, "%s", why);
    } else if (rc != ATT_OK) {
        verifier_api_errorf(resp, 500, "%s", why[0] ? why : "cannot lift");
    } else {
        quarantine_get(v, id, resp);
    }
}

static void events_list(struct verifier *v, const struct att_http_request *req,
                        struct att_http_response *resp)
{
    struct store_event *ev = NULL;
    size_t n = 0;
    size_t limit;
    size_t i;
    int64_t after;
    json_t *arr;

    if (!parse_limit(req, &limit, resp) || !parse_id(req, "after", &after, resp)) {
        return;
    }
    if (store_events_list(verifier_store(v), att_http_request_query(req, "host"),
                          att_http_request_query(req, "kind"), after, limit, &ev, &n) != ATT_OK) {
        verifier_api_errorf(resp, 500, "cannot read events");
        return;
    }
    arr = json_array();
    for (i = 0; i < n; i++) {
        (void)json_array_append_new(arr, json_pack("{s:I, s:I, s:o, s:s, s:s}", "id",
                                                   (json_int_t)ev[i].id, "at", (json_int_t)ev[i].at,
                                                   "host", str_or_null(ev[i].host), "kind",
                                                   ev[i].kind, "message", ev[i].message));
    }
    store_event_list_free(ev, n);
    send_json(resp, 200, json_pack("{s:o}", "events", arr));
}

/* Validate a policy JSON object and store it (create or replace). */
static void policy_put(struct verifier *v, const char *name, json_t *pol, bool replace,
                       struct att_http_response *resp)
{
    struct att_policy *p = NULL;
    char why[512] = "";
    char *text;
    att_rc rc;

    if (!verifier_name_valid(name)) {
        verifier_api_errorf(resp, 400, "policy name must be 1-64 characters of [A-Za-z0-9._-]");
        return;
    }
    text = json_dumps(pol, JSON_COMPACT);
    if (text == NULL) {
        verifier_api_errorf(resp, 500, "cannot encode the policy");
        return;
    }
    rc = att_policy_parse_json(text, strlen(text), &p, why, sizeof(why));
    if (rc != ATT_OK) {
        verifier_api_errorf(resp, 400, "invalid policy: %s", why);
        free(text);
        return;
    }
    att_policy_free(p);
    rc = store_policy_put(verifier_store(v), name, text, replace);
    free(text);
    if (rc == ATT_ERR_EXISTS) {
        verifier_api_errorf(
            resp, 409, "policy \"%s\" exists; replace it with PUT /api/v1/policies/%s", name, name);
    } else if (rc == ATT_ERR_NOT_FOUND) {
        verifier_api_errorf(resp, 404,
                            "no policy named \"%s\"; create it with POST /api/v1/policies", name);
    } else if (rc != ATT_OK) {
        verifier_api_errorf(resp, 500, "cannot store the policy");
    } else {
        (void)store_event_add(verifier_store(v), NULL,
                              replace ? "policy-replaced" : "policy-created", name);
        if (replace) {
            reappraise(v, name, NULL);
        }
        send_json(resp, replace ? 200 : 201, json_pack("{s:s}", "policy", name));
    }
}

static void policies_list(struct verifier *v, struct att_http_response *resp)
{
    char **names = NULL;
    size_t n = 0;
    size_t i;
    json_t *arr = json_array();

    if (store_policy_list(verifier_store(v), &names, &n) != ATT_OK) {
        json_decref(arr);
        verifier_api_errorf(resp, 500, "cannot read policies");
        return;
    }
    for (i = 0; i < n; i++) {
        (void)json_array_append_new(arr, json_string(names[i]));
        free(names[i]);
    }
    free(names);
    send_json(resp, 200, json_pack("{s:o}", "policies", arr));
}

static void policy_get(struct verifier *v, const char *name, struct att_http_response *resp)
{
    char *text = NULL;
    json_t *j;

    if (store_policy_get(verifier_store(v), name, &text) != ATT_OK) {
        verifier_api_errorf(resp, 404, "no policy named \"%s\"", name);
        return;
    }
    j = json_loads(text, 0, NULL);
    free(text);
    if (j == NULL) {
        verifier_api_errorf(resp, 500, "stored policy does not parse");
        return;
    }
    send_json(resp, 200, j);
}

static void metrics(struct verifier *v, struct att_http_response *resp)
{
    struct verifier_metrics m;
    struct store_host *hosts = NULL;
    size_t n = 0;
    size_t i;
    unsigned counts[4] = {0, 0, 0, 0};
    static const char *const verdicts[4] = {"trusted", "untrusted", "unreachable", "pending"};

    verifier_metrics_get(v, &m);
    if (store_host_list(verifier_store(v), &hosts, &n) == ATT_OK) {
        for (i = 0; i < n; i++) {
            size_t k;

            for (k = 0; k < 3; k++) {
                if (hosts[i].verdict != NULL && strcmp(hosts[i].verdict, verdicts[k]) == 0) {
                    break;
                }
            }
            counts[k]++;
        }
        store_host_list_free(hosts, n);
    }
    att_buf_reset(&resp->body);
    (void)att_buf_printf(&resp->body, "# HELP attest_hosts Enrolled hosts by current verdict.\n"
                                      "# TYPE attest_hosts gauge\n");
    for (i = 0; i < 4; i++) {
        (void)att_buf_printf(&resp->body, "attest_hosts{verdict=\"%s\"} %u\n", verdicts[i],
                             counts[i]);
    }
    (void)att_buf_printf(
        &resp->body,
        "# HELP attest_rounds_total Polling rounds run.\n# TYPE attest_rounds_total counter\n"
        "attest_rounds_total %llu\n"
        "# HELP attest_attestations_total Host attestations by outcome.\n"
        "# TYPE attest_attestations_total counter\n"
        "attest_attestations_total{verdict=\"trusted\"} %llu\n"
        "attest_attestations_total{verdict=\"untrusted\"} %llu\n"
        "attest_attestations_total{verdict=\"unreachable\"} %llu\n"
        "# HELP attest_round_seconds_sum Time spent in polling rounds.\n"
        "# TYPE attest_round_seconds_sum counter\nattest_round_seconds_sum %.6f\n"
        "# HELP attest_enrollments_total Successful enrollments.\n"
        "# TYPE attest_enrollments_total counter\nattest_enrollments_total %llu\n"
        "# HELP attest_request_seconds Agent request round trip (quote included), last 4096.\n"
        "# TYPE attest_request_seconds summary\n"
        "attest_request_seconds{quantile=\"0.5\"} %.6f\n"
        "attest_request_seconds{quantile=\"0.99\"} %.6f\n"
        "attest_request_seconds_count %llu\n",
        (unsigned long long)m.rounds, (unsigned long long)m.trusted,
        (unsigned long long)m.untrusted, (unsigned long long)m.unreachable, m.round_seconds_sum,
        (unsigned long long)m.enrollments, m.latency_p50_s, m.latency_p99_s,
        (unsigned long long)m.latency_samples);
    {
        /* What the process holds on the heap, apart from the RSS (which also
         * counts freed memory malloc keeps, and libraries): glibc's count. */
        struct mallinfo2 mi = mallinfo2();
        size_t heap = mi.uordblks + mi.hblkhd;

        /* 0: an allocator that does not count (ASan's): no figure, not a false one */
        if (heap > 0) {
            (void)att_buf_printf(&resp->body,
                                 "# HELP attest_heap_bytes Heap in use (glibc mallinfo2: "
                                 "uordblks + hblkhd).\n"
                                 "# TYPE attest_heap_bytes gauge\nattest_heap_bytes %zu\n",
                                 heap);
        }
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
}

/* Split "/api/v1/hosts/NAME/SUB" into NAME and SUB (SUB may be ""). */
static bool split_host_path(const char *rest, char *name, size_t name_len, const char **sub)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);

    if (n == 0 || n >= name_len) {
        return false;
    }
    memcpy(name, rest, n);
    name[n] = '\0';
    *sub = slash != NULL ? slash + 1 : "";
    return true;
}

/*
 * GET /api/v1/health: 200 "ok", or 503 "degraded" while the store is failing.
 * It needs no token, so it says since when but not SQLite's words for it
 * (those are in the verifier's log and in the 503s of authenticated writes).
 */
static void health(struct verifier *v, struct att_http_response *resp)
{
    time_t since = 0;

    if (!store_fault(verifier_store(v), NULL, 0, &since)) {
        send_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return;
    }
    send_json(resp, 503,
              json_pack("{s:s, s:s, s:I}", "status", "degraded", "error",
                        "the store cannot be used; see the verifier's log", "since",
                        (json_int_t)since));
}

static void api_dispatch(struct verifier *v, const struct att_http_request *req,
                         struct att_http_response *resp);

/*
 * Every request; a 500 that comes while the store is failing (locked by
 * another process, read-only, disk full) is the store's doing: 503, naming it.
 */
void verifier_api_handle(void *ctx, const struct att_http_request *req,
                         struct att_http_response *resp)
{
    struct verifier *v = ctx;
    char why[320];
    json_t *j;
    const char *err = NULL;

    api_dispatch(v, req, resp);
    if (resp->status != 500 || !store_fault(verifier_store(v), why, sizeof(why), NULL)) {
        return;
    }
    j = resp->body.data != NULL ? json_loadb((const char *)resp->body.data, resp->body.len, 0, NULL)
                                : NULL;
    if (j != NULL) {
        err = json_string_value(json_object_get(j, "error"));
    }
    att_buf_reset(&resp->body);
    verifier_api_errorf(resp, 503, "%s: the store %s cannot be used: %s",
                        err != NULL ? err : "internal error", verifier_cfg(v)->db, why);
    json_decref(j);
}

static void api_dispatch(struct verifier *v, const struct att_http_request *req,
                         struct att_http_response *resp)
{
    const char *m = req->method;
    const char *u = req->url;
    enum role role;
    char name[128];
    char who[128] = "";
    const char *sub = "";

    if (strcmp(u, "/api/v1/health") == 0) {
        if (strcmp(m, "GET") == 0) {
            health(v, resp);
        } else {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        }
        return;
    }
    role = authenticate(v, req, resp, who, sizeof(who));
    if (role == ROLE_NONE) {
        return;
    }
    if ((strcmp(u, "/metrics") == 0 || strcmp(u, "/api/v1/events") == 0 ||
         strcmp(u, "/api/v1/verdicts") == 0 || strcmp(u, "/api/v1/containers") == 0) &&
        strcmp(m, "GET") != 0) {
        verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
    } else if (strcmp(u, "/api/v1/containers") == 0) {
        if (need(role, ROLE_VIEWER, resp)) {
            const char *h = att_http_request_query(req, "host");

            containers_list(v, h, resp);
        }
    } else if (strcmp(u, "/metrics") == 0) {
        if (need(role, ROLE_VIEWER, resp)) {
            metrics(v, resp);
        }
    } else if (strcmp(u, "/api/v1/hosts") == 0) {
        if (strcmp(m, "GET") == 0 && need(role, ROLE_VIEWER, resp)) {
            hosts_list(v, resp);
        } else if (strcmp(m, "POST") == 0 && need(role, ROLE_ADMIN, resp)) {
            host_enroll(v, req, resp);
        } else if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0) {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        }
    } else if (strncmp(u, "/api/v1/hosts/", 14) == 0) {
        /* NOLINTNEXTLINE(bugprone-branch-clone): two 404s; sub is set only past this test */
        if (!split_host_path(u + 14, name, sizeof(name), &sub)) {
            verifier_api_errorf(resp, 404, "no such resource: %.200s", u);
        } else if (sub[0] == '\0' && strcmp(m, "GET") == 0) {
            if (need(role, ROLE_VIEWER, resp)) {
                host_get(v, name, resp);
            }
        } else if (sub[0] == '\0' && strcmp(m, "DELETE") == 0) {
            if (need(role, ROLE_ADMIN, resp)) {
                host_delete(v, name, resp);
            }
        } else if (strcmp(sub, "attest") == 0 && strcmp(m, "POST") == 0) {
            if (need(role, ROLE_OPERATOR, resp)) {
                host_attest(v, name, resp);
            }
        } else if (strcmp(sub, "policy") == 0 && strcmp(m, "PUT") == 0) {
            if (need(role, ROLE_ADMIN, resp)) {
                host_set_policy(v, name, req, resp);
            }
        } else if (strcmp(sub, "verdicts") == 0 && strcmp(m, "GET") == 0) {
            if (need(role, ROLE_VIEWER, resp)) {
                verdicts_list(v, name, req, resp);
            }
        } else if (strcmp(sub, "containers") == 0 && strcmp(m, "GET") == 0) {
            if (need(role, ROLE_VIEWER, resp)) {
                containers_list(v, name, resp);
            }
        } else if (sub[0] == '\0' || strcmp(sub, "attest") == 0 || strcmp(sub, "policy") == 0 ||
                   strcmp(sub, "verdicts") == 0 || strcmp(sub, "containers") == 0) {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        } else {
            verifier_api_errorf(resp, 404, "no such resource: %.200s", u);
        }
    } else if (strcmp(u, "/api/v1/quarantine") == 0) {
        if (strcmp(m, "GET") != 0) {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        } else if (need(role, ROLE_VIEWER, resp)) {
            quarantine_list(v, req, resp);
        }
    } else if (strncmp(u, "/api/v1/quarantine/", 19) == 0) {
        const char *rest = u + 19;
        const char *slash = strchr(rest, '/');
        char id[ATT_ORDER_ID_LEN + 1];

        if ((slash != NULL ? (size_t)(slash - rest) : strlen(rest)) != ATT_ORDER_ID_LEN) {
            verifier_api_errorf(resp, 404, "no such resource: %.200s", u);
        } else {
            memcpy(id, rest, ATT_ORDER_ID_LEN);
            id[ATT_ORDER_ID_LEN] = '\0';
            if (slash == NULL && strcmp(m, "GET") == 0) {
                if (need(role, ROLE_VIEWER, resp)) {
                    quarantine_get(v, id, resp);
                }
            } else if (slash != NULL && strcmp(slash, "/lift") == 0 && strcmp(m, "POST") == 0) {
                if (need(role, ROLE_OPERATOR, resp)) {
                    quarantine_lift(v, id, who, req, resp);
                }
            } else if (slash == NULL || strcmp(slash, "/lift") == 0) {
                verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
            } else {
                verifier_api_errorf(resp, 404, "no such resource: %.200s", u);
            }
        }
    } else if (strcmp(u, "/api/v1/vulndb") == 0) {
        if (strcmp(m, "GET") == 0) {
            if (need(role, ROLE_VIEWER, resp)) {
                verifier_vuln_show(v, resp);
            }
        } else if (strcmp(m, "POST") == 0) {
            if (need(role, ROLE_OPERATOR, resp)) {
                verifier_vuln_import(v, req, who, resp);
            }
        } else {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        }
    } else if (strcmp(u, "/api/v1/vulndb/scan") == 0) {
        if (strcmp(m, "POST") != 0) {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        } else if (need(role, ROLE_VIEWER, resp)) {
            verifier_vuln_scan(v, req, resp);
        }
    } else if (strcmp(u, "/api/v1/vulnerabilities") == 0) {
        if (strcmp(m, "GET") != 0) {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        } else if (need(role, ROLE_VIEWER, resp)) {
            verifier_vuln_findings(v, req, resp);
        }
    } else if (strcmp(u, "/api/v1/events") == 0 && strcmp(m, "GET") == 0) {
        if (need(role, ROLE_VIEWER, resp)) {
            events_list(v, req, resp);
        }
    } else if (strcmp(u, "/api/v1/verdicts") == 0 && strcmp(m, "GET") == 0) {
        if (need(role, ROLE_VIEWER, resp)) {
            verdicts_list(v, NULL, req, resp);
        }
    } else if (strcmp(u, "/api/v1/policies") == 0) {
        if (strcmp(m, "GET") == 0) {
            if (need(role, ROLE_VIEWER, resp)) {
                policies_list(v, resp);
            }
        } else if (strcmp(m, "POST") == 0) {
            if (need(role, ROLE_ADMIN, resp)) {
                json_t *j = body_object(req, resp);

                if (j != NULL) {
                    const char *pname = json_string_value(json_object_get(j, "name"));
                    json_t *pol = json_object_get(j, "policy");

                    if (pname == NULL || !json_is_object(pol)) {
                        verifier_api_errorf(resp, 400,
                                            "body must be {\"name\": \"...\", \"policy\": {...}}");
                    } else {
                        policy_put(v, pname, pol, false, resp);
                    }
                    json_decref(j);
                }
            }
        } else {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        }
    } else if (strncmp(u, "/api/v1/policies/", 17) == 0 && strchr(u + 17, '/') == NULL &&
               u[17] != '\0') {
        if (strcmp(m, "GET") == 0) {
            if (need(role, ROLE_VIEWER, resp)) {
                policy_get(v, u + 17, resp);
            }
        } else if (strcmp(m, "PUT") == 0) {
            if (need(role, ROLE_ADMIN, resp)) {
                json_t *j = body_object(req, resp);

                if (j != NULL) {
                    policy_put(v, u + 17, j, true, resp);
                    json_decref(j);
                }
            }
        } else {
            verifier_api_errorf(resp, 405, "%s is not allowed on %s", m, u);
        }
    } else {
        verifier_api_errorf(resp, 404, "no such resource: %.200s", u);
    }
}
