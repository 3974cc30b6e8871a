/* SPDX-License-Identifier: Apache-2.0 */
/* Private to verifier/: pieces the verifier's files share. */
#ifndef ATT_VERIFIER_INT_H
#define ATT_VERIFIER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attest/buf.h"
#include "attest/rc.h"
#include "store.h"
#include "verifier.h"

struct att_ek_trust;

/** Unix time in seconds. */
int64_t verifier_now(void);
/** Host names: 1-64 of [A-Za-z0-9._-]. */
bool verifier_name_valid(const char *name);
const struct att_ek_trust *verifier_ek_trust(const struct verifier *v);
struct att_sigkey;
/** The key that signs quarantine orders (never NULL once started). */
const struct att_sigkey *verifier_order_key(const struct verifier *v);

/**
 * One synchronous request to an agent (GET without @p body, POST with it).
 * Non-200 answers become ATT_ERR_VERIFY (4xx) or ATT_ERR_IO (5xx) with the
 * agent's decoded error in @p why.
 */
att_rc verifier_agent_call(struct verifier *v, const char *url, const char *path,
                           const struct att_buf *body, struct att_buf *resp, char *why,
                           size_t why_len);

struct att_order;
/**
 * Give @p o (op, lifts, ak_name, container, image, actions, reason filled in)
 * a fresh random id, issue time @p now and the configured expiry, and append
 * its envelope signed with the order key to @p env (verifier_quarantine.c).
 */
att_rc verifier_order_seal(struct verifier *v, struct att_order *o, int64_t now,
                           struct att_buf *env);

/** Record one polling round in /metrics (verifier.c). */
void verifier_metrics_round(struct verifier *v, unsigned trusted, unsigned untrusted,
                            unsigned unreachable, double seconds);

/**
 * Lift quarantine order @p id (verifier_quarantine.c): sign a lift order and
 * put it in the outbox with who (@p by) and why.
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_EXISTS already lifted or expired
 */
att_rc verifier_quarantine_lift(struct verifier *v, const char *id, const char *by,
                                const char *reason, char *why, size_t why_len);

/* The dashboard API (verifier_api.c) */
struct att_http_request;
struct att_http_response;
void verifier_api_handle(void *ctx, const struct att_http_request *req,
                         struct att_http_response *resp);
void verifier_api_error(void *ctx, unsigned status, const char *message,
                        struct att_http_response *resp);

/** Send @p j (consumed) as the JSON answer; errors as {"error": "..."} with @p status. */
void verifier_api_send_json(struct att_http_response *resp, unsigned status, json_t *j);
void verifier_api_errorf(struct att_http_response *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** The role (0 none, 1 viewer, 2 operator, 3 admin) of an Authorization header's token. */
int verifier_api_role(struct verifier *v, const char *authorization);

/* The current vulnerability feed (verifier.c), reference-counted. */
struct verifier_feed {
    unsigned refs;           /* under the verifier's feed lock */
    struct att_vulndb *db;   /* parsed */
    uint8_t *text;           /* canonical text, as sent to agents */
    size_t len;
    struct store_vulnfeed meta;
};
/** Make the newest stored feed current. @retval ATT_ERR_NOT_FOUND none stored */
att_rc verifier_feed_reload(struct verifier *v);
/** The current feed (a reference; NULL if none); give it back with verifier_feed_put. */
struct verifier_feed *verifier_feed_get(struct verifier *v);
void verifier_feed_put(struct verifier *v, struct verifier_feed *f);

/*
 * Network policy counters (issue 9, verifier.c): each host's latest
 * att_evidence.netstats text, in memory only (a restart forgets them until
 * the next round).
 */
/**
 * Keep a copy of @p text as @p host's latest counters, replacing what was
 * kept; NULL forgets them (the agent enforces no network policy, or the host
 * was deleted).
 * @param[in] text  Borrowed; copied. May be NULL.
 * @retval ATT_OK @retval ATT_ERR_NOMEM (the old text stays) @retval ATT_ERR_INVALID_ARG
 */
att_rc verifier_netstats_set(struct verifier *v, const char *host, const char *text);
/**
 * @p host's latest counters.
 * @return Owned copy, free with free(); NULL when none are kept (or out of memory).
 */
char *verifier_netstats_get1(struct verifier *v, const char *host);

/* The image vulnerability gate (verifier_vuln.c) */
void verifier_vuln_import(struct verifier *v, const struct att_http_request *req, const char *who,
                          struct att_http_response *resp);
void verifier_vuln_show(struct verifier *v, struct att_http_response *resp);
void verifier_vuln_scan(struct verifier *v, const struct att_http_request *req,
                        struct att_http_response *resp);
void verifier_vuln_findings(struct verifier *v, const struct att_http_request *req,
                            struct att_http_response *resp);
struct att_appraisal;
struct att_policy;
/** After a trusted round of @p host (see verifier_vuln.c); @p a's containers may be failed. */
void verifier_vuln_round(struct verifier *v, const char *host, const struct att_policy *pol,
                         struct att_appraisal *a);

/* Counters for /metrics, updated by the poller. */
struct verifier_metrics {
    uint64_t rounds;
    uint64_t attestations;
    uint64_t trusted;
    uint64_t untrusted;
    uint64_t unreachable;
    uint64_t enrollments;
    double round_seconds_sum;
    /* agent request latencies (curl total time): p50/p99 of the last LAT_RING */
    double latency_p50_s;
    double latency_p99_s;
    uint64_t latency_samples;
};
/** Record one agent request's round-trip time (microseconds). */
void verifier_metrics_latency(struct verifier *v, uint64_t us);
void verifier_metrics_get(struct verifier *v, struct verifier_metrics *m);
void verifier_metrics_enrolled(struct verifier *v);

/* The poller (verifier_poll.c) */
struct verifier_poller;
att_rc verifier_poller_start(struct verifier *v, struct verifier_poller **out);
void verifier_poller_stop(struct verifier_poller *p);
att_rc verifier_poller_attest_now(struct verifier_poller *p, const char *host,
                                  struct verifier_result *r);
struct verifier_poller *verifier_poller(struct verifier *v);
/** A policy or an assignment changed: rounds in flight must not advance state. */
void verifier_poller_policy_changed(struct verifier_poller *p);

#endif
