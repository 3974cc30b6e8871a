/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's durable store (DESIGN §8): hosts and their enrolled keys,
 * policies, per-host incremental appraisal state, verdict history, an
 * append-only event history, API tokens (hashed) and the outbox of
 * quarantine orders (DESIGN §6). One interface; the
 * SQLite backend (WAL, one file, created on first open, schema versioned with
 * migrations) is the default; a PostgreSQL backend can implement the same
 * functions later.
 *
 * One process owns a database: store_open() takes an exclusive lock
 * (PATH.lock) and fails with ATT_ERR_EXISTS if another verifier holds it.
 * Calls are serialised internally (one mutex), so the poller and the API
 * threads may share one struct store.
 *
 * Memory: every struct filled by a getter owns its strings/blobs; release
 * with the matching _cleanup / _list_free. Inputs are borrowed.
 */
#ifndef ATT_VERIFIER_STORE_H
#define ATT_VERIFIER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/digest.h"
#include "attest/rc.h"

#define STORE_SCHEMA_VERSION 4

struct store;

struct store_host {
    int64_t id;
    char *name;      /* unique */
    char *agent_url; /* https://host:port */
    char *ek_alg;    /* "rsa" | "ecc" */
    uint8_t *ek_pub; /* marshalled TPM2B_PUBLIC */
    size_t ek_pub_len;
    uint8_t *ek_cert; /* DER, may be NULL */
    size_t ek_cert_len;
    uint8_t *ak_pub; /* marshalled TPM2B_PUBLIC */
    size_t ak_pub_len;
    char *ak_name; /* hex */
    uint32_t meas_pcr;
    char *policy; /* policy name, NULL if none assigned */
    int64_t enrolled_at;
    /* incremental appraisal state */
    char *boot_id; /* NULL before the first attestation */
    uint32_t reset_count;
    uint32_t restart_count;
    uint64_t log_offset;               /* entries appraised so far in this boot */
    uint8_t pcr_value[ATT_SHA256_LEN]; /* measurement PCR after those entries */
    char *verdict;                     /* "pending" | "trusted" | "untrusted" | "unreachable" */
    char *verdict_reason;              /* first failing finding, NULL if trusted */
    int64_t last_attested_at;          /* 0 = never */
};

struct store_verdict {
    int64_t id;
    int64_t at;
    char *host;
    char *verdict;
    char *reason;        /* may be NULL */
    char *findings_json; /* JSON array text */
    uint64_t log_from;   /* log entries [log_from, log_to) appraised in this round */
    uint64_t log_to;
};

struct store_event {
    int64_t id;
    int64_t at;
    char *host; /* may be NULL for verifier-wide events */
    char *kind; /* "enrolled", "verdict-changed", "new-boot", "unreachable", ... */
    char *message;
};

/* A container's verdict on a host (schema v2), as the last trusted round left it. */
struct store_container {
    char *host;
    char *id;     /* 64 hex */
    char *image;  /* "sha256:..." or "" */
    char *policy; /* container policy name or "" */
    bool is_failed;
    char *code;    /* first failure's code or "" */
    char *reason;  /* first failure's text or "" */
    int64_t entry; /* log index of the first failure, -1 */
    int64_t updated_at;
};

/*
 * A quarantine order (schema v3, DESIGN §6) in the verifier's outbox. Orders
 * are never deleted. States: "pending" (to be sent) -> "enforced" | "refused"
 * (the agent's ack) or "expired" (not acknowledged before expires_at;
 * "expired" -> "enforced" on a late ack, see store_order_ack); "pending" |
 * "enforced" | "refused" -> "lift-pending" (operator lift, the lift envelope
 * to be sent) -> "lifted" (the agent's ack of the lift). Open orders (at most
 * one per host and container): pending, enforced, refused, lift-pending.
 * As an input (store_round.orders) only id, container, image, actions,
 * reason, issued_at, expires_at and the envelope are used.
 */
struct store_order {
    char *id;        /* 32 lower-case hex */
    char *host;      /* as input: ignored, taken from the round */
    char *container; /* 64 lower-case hex */
    char *image;     /* "sha256:<64 hex>" or "" (NULL as input: "") */
    char *actions;   /* e.g. "pause,isolate-network" */
    char *reason;    /* 1..1024 bytes of UTF-8 */
    char *state;     /* see above */
    char *result;    /* the agent's last answer, "" before one */
    int64_t issued_at;
    int64_t expires_at; /* a pending order is not sent after this */
    uint8_t *envelope;  /* the signed quarantine order, sent as is */
    size_t envelope_len;
    int attempts;           /* sends of the current envelope */
    int64_t next_attempt;   /* not sent before this */
    int64_t acked_at;       /* the agent's last answer that changed the order, 0 if never */
    char *lift_id;          /* NULL before a lift */
    uint8_t *lift_envelope; /* the signed lift order, NULL before a lift */
    size_t lift_envelope_len;
    char *lifted_by; /* operator, NULL before a lift */
    char *lift_reason;
    int64_t lifted_at; /* 0 before a lift */
};

/** One attestation round, written atomically (state + verdict + events + new orders). */
struct store_round {
    const char *host;
    int64_t at;
    const char *verdict;
    const char *reason;        /* may be NULL */
    const char *findings_json; /* may be NULL: "[]" */
    uint64_t log_from;
    uint64_t log_to;
    bool has_state; /* update the incremental state below */
    const char *boot_id;
    uint32_t reset_count;
    uint32_t restart_count;
    uint64_t log_offset;
    uint8_t pcr_value[ATT_SHA256_LEN];
    const struct store_event *events; /* host/at of each event are taken from the round */
    size_t n_events;
    /* with has_state: the host's complete container list replaces the stored one */
    const struct store_container *containers; /* host/updated_at taken from the round */
    size_t n_containers;
    /*
     * New quarantine orders for the outbox (host taken from the round), state
     * "pending". A container that already has an open order gets no second
     * one (skipped, not an error); an id already stored fails the round. Each
     * order inserted adds an event "quarantine-ordered".
     */
    const struct store_order *orders;
    size_t n_orders;
};

/**
 * Open or create the store at @p path (SQLite file), apply migrations.
 * @retval ATT_OK @retval ATT_ERR_EXISTS another process holds it
 * @retval ATT_ERR_IO @retval ATT_ERR_PARSE not a store / newer schema than this binary
 */
att_rc store_open(const char *path, struct store **out);

/**
 * Whether the store is failing: an operation hit a storage fault (locked by
 * another process, I/O error, disk full, read-only; not a conflict such as
 * a duplicate name) and no transaction has committed since.
 * @param[out] why    optional: SQLite's message and code
 * @param[out] since  optional: when the fault was first seen
 */
bool store_fault(struct store *s, char *why, size_t why_len, time_t *since);
void store_close(struct store *s);
int store_schema_version(struct store *s);

/** @retval ATT_ERR_EXISTS a host of that name exists */
att_rc store_host_add(struct store *s, const struct store_host *h);
/**
 * Re-enrollment of the same TPM, in one statement: replace the AK (and URL,
 * certificate, PCR) of host h->name whose EK equals h->ek_pub, and restart its
 * appraisal state (pending, offset 0). Policy and history are kept.
 * @retval ATT_ERR_NOT_FOUND no host of that name with that EK
 */
att_rc store_host_rekey(struct store *s, const struct store_host *h);
/** @retval ATT_ERR_NOT_FOUND */
att_rc store_host_get(struct store *s, const char *name, struct store_host *out);
att_rc store_host_list(struct store *s, struct store_host **out, size_t *n);
/** Deletes the host and its state; its verdicts and events stay (history). */
att_rc store_host_delete(struct store *s, const char *name);
/** @retval ATT_ERR_NOT_FOUND host or policy unknown; @p policy NULL unassigns */
att_rc store_host_set_policy(struct store *s, const char *name, const char *policy);
/** Forget the incremental state (e.g. policy changed): offset 0, PCR zero, no containers. */
att_rc store_host_reset_state(struct store *s, const char *name);
void store_host_cleanup(struct store_host *h);
void store_host_list_free(struct store_host *hosts, size_t n);

/**
 * Record round @p r in one transaction: host state, verdict, events,
 * containers and new orders land together or not at all.
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG a bad field (nothing written)
 * @retval ATT_ERR_NOT_FOUND the host does not exist (nothing written)
 * @retval ATT_ERR_EXISTS an order id (or lift id) already stored (nothing written)
 * @retval ATT_ERR_IO @retval ATT_ERR_NOMEM @retval ATT_ERR_INTERNAL
 */
att_rc store_record_round(struct store *s, const struct store_round *r);
/** A single event outside a round (enrollment, deletion, policy changes). */
att_rc store_event_add(struct store *s, const char *host, const char *kind, const char *message);

/**
 * Events with id > @p after_id, oldest first, at most @p limit (1..1000).
 * @p host and @p kind filter when non-NULL.
 */
att_rc store_events_list(struct store *s, const char *host, const char *kind, int64_t after_id,
                         size_t limit, struct store_event **out, size_t *n);
void store_event_list_free(struct store_event *ev, size_t n);

/** Verdicts of @p host (NULL: all hosts) with id < @p before_id (0: newest), newest first. */
att_rc store_verdicts_list(struct store *s, const char *host, int64_t before_id, size_t limit,
                           struct store_verdict **out, size_t *n);
void store_verdict_list_free(struct store_verdict *v, size_t n);

/**
 * Create (@p replace false: ATT_ERR_EXISTS if present) or replace (@p replace
 * true: ATT_ERR_NOT_FOUND if absent) a policy's JSON text (already validated).
 */
att_rc store_policy_put(struct store *s, const char *name, const char *json, bool replace);
/** @param[out] json  owned, free() it */
att_rc store_policy_get(struct store *s, const char *name, char **json);
/** @param[out] names  owned array of owned strings; free each and the array */
att_rc store_policy_list(struct store *s, char ***names, size_t *n);

/** Containers of @p host (NULL: all hosts), by host then id. */
att_rc store_containers_list(struct store *s, const char *host, struct store_container **out,
                             size_t *n);
void store_container_list_free(struct store_container *c, size_t n);

/*
 * Quarantine orders (DESIGN §6): the outbox. New orders come in with a round
 * (store_round.orders). Every state change below is one transaction together
 * with its audit event (events table, host = the order's host).
 */

/**
 * Orders of @p host to send now, oldest (issued_at) first: "pending" ones
 * (send envelope) and "lift-pending" ones (send lift_envelope) whose
 * next_attempt <= @p now. First, in the same transaction, every "pending"
 * order of @p host with expires_at < @p now becomes "expired" with an event
 * "quarantine-expired" (a "lift-pending" order never expires).
 * @param[in] max  1..1000 (larger is clamped)
 * @param[out] out  Callee-allocated, NULL if none; free with store_order_list_free().
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG
 * @retval ATT_ERR_IO @retval ATT_ERR_NOMEM @retval ATT_ERR_INTERNAL
 */
att_rc store_orders_due(struct store *s, const char *host, int64_t now, size_t max,
                        struct store_order **out, size_t *n);
/**
 * Order @p id was sent: attempts + 1, next_attempt = @p next_attempt (the
 * caller's backoff). No event. An order no longer waiting to be sent (acked
 * meanwhile) is left alone.
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOT_FOUND unknown id
 * @retval ATT_ERR_IO @retval ATT_ERR_INTERNAL
 */
att_rc store_order_sent(struct store *s, const char *id, int64_t next_attempt);
/**
 * The agent of @p host acknowledged @p ack_id, in one transaction with the
 * event. An order's id in "pending": "enforced" (@p ok) or "refused", event
 * "quarantine-enforced" / "quarantine-refused". An order's id in "expired"
 * with @p ok: "enforced" (the agent did act on it; unless the container has
 * another open order by now). A lift_id in "lift-pending": "lifted" (@p ok,
 * event "quarantine-lifted") or unchanged (event "quarantine-lift-refused").
 * Each of these sets acked_at and stores @p result. Any other ack (a
 * duplicate, or one for a state the order has moved past) changes nothing.
 * @param[in] result  the agent's text, 0..1024 bytes UTF-8 (NULL: "")
 * @retval ATT_OK also for a duplicate ack
 * @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOT_FOUND unknown id or another host's order
 * @retval ATT_ERR_IO @retval ATT_ERR_INTERNAL
 */
att_rc store_order_ack(struct store *s, const char *host, const char *ack_id, bool ok,
                       const char *result);
/**
 * Operator lift of order @p id (audited): from "pending", "enforced" or
 * "refused" to "lift-pending" with the signed lift order @p lift_env (1..4096
 * bytes) under @p lift_id, attempts and next_attempt 0, lifted_at now; event
 * "quarantine-lift" "order <id> lifted by <by>: <reason>"; and the
 * container's row in the containers table is cleared (not failed, no code,
 * reason or entry), all in one transaction.
 * @param[in] by  operator, 1..256 bytes UTF-8
 * @param[in] reason  1..1024 bytes UTF-8
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG
 * @retval ATT_ERR_NOT_FOUND unknown id
 * @retval ATT_ERR_EXISTS already lifted, lift pending or expired; or @p lift_id in use
 * @retval ATT_ERR_IO @retval ATT_ERR_INTERNAL
 */
att_rc store_order_lift(struct store *s, const char *id, const char *lift_id,
                        const uint8_t *lift_env, size_t lift_env_len, const char *by,
                        const char *reason);
/**
 * @param[out] out  zeroed first; filled (owned) on success, release with store_order_cleanup().
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOT_FOUND
 * @retval ATT_ERR_IO @retval ATT_ERR_NOMEM @retval ATT_ERR_INTERNAL
 */
att_rc store_order_get(struct store *s, const char *id, struct store_order *out);
/**
 * Orders of @p host (NULL: all hosts), newest (issued_at) first, at most
 * 10000; @p open_only: only "pending", "enforced", "refused", "lift-pending".
 * @param[out] out  Callee-allocated, NULL if none; free with store_order_list_free().
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG
 * @retval ATT_ERR_IO @retval ATT_ERR_NOMEM @retval ATT_ERR_INTERNAL
 */
att_rc store_orders_list(struct store *s, const char *host, bool open_only,
                         struct store_order **out, size_t *n);
/** Free the members of @p o (not @p o itself) and zero it; NULL is a no-op. */
void store_order_cleanup(struct store_order *o);
void store_order_list_free(struct store_order *o, size_t n);

/** Tokens are stored as sha256 of the secret only. @p role: viewer|operator|admin. */
/* ------------------------------------------------------------------------ */
/* The image vulnerability gate (issue 8, schema v4)                         */

struct store_vulnfeed {
    int64_t id;
    char *digest;        /* 64 hex: SHA-256 of the canonical text (attest/vulndb.h) */
    char *source;        /* "osv", "debian-tracker" or both, "+"-joined */
    char *source_digest; /* 64 hex: SHA-256 of what the importer read */
    int64_t feed_time;   /* when the feed's content was current */
    int64_t imported_at;
    char *imported_by;
    int64_t n_entries;
};

/**
 * Store a feed (append-only) with an event "vulndb-imported", one
 * transaction. A digest already stored is not stored again: *@p is_new false.
 */
att_rc store_vulnfeed_add(struct store *s, const struct store_vulnfeed *f, const uint8_t *body,
                          size_t len, bool *is_new);
/**
 * The current (newest) feed; @p body may be NULL when only the metadata is wanted.
 * @retval ATT_ERR_NOT_FOUND no feed imported yet
 */
att_rc store_vulnfeed_current(struct store *s, struct store_vulnfeed *out, uint8_t **body,
                              size_t *len);
/** Every feed, newest first (at most 1000). */
att_rc store_vulnfeed_list(struct store *s, struct store_vulnfeed **out, size_t *n);
void store_vulnfeed_cleanup(struct store_vulnfeed *f);
void store_vulnfeed_list_free(struct store_vulnfeed *f, size_t n);

/**
 * One part (1-based @p part of @p n) of the inventory whose canonical text
 * has SHA-256 @p digest (64 hex), measured for @p container. Idempotent. When
 * this completes the set, *@p text gets the parts joined in order (malloc'ed,
 * NUL-terminated; the parts are dropped), else NULL.
 */
att_rc store_inventory_part(struct store *s, const char *host, const char *container,
                            const char *digest, unsigned part, unsigned n, const uint8_t *body,
                            size_t len, char **text);

struct store_inventory {
    char *host;
    char *container;
    char *digest; /* 64 hex */
    char *image;
    char *ecosystem;
    int64_t n_packages;
    char *body; /* canonical text (attest/inventory.h); "" when listed without bodies */
    char
        *unjudgeable; /* why no vulnerability bar can judge it (att_vuln_judgeable), "" if it can */
    char *judged;     /* the judgement its findings are from ("" = none yet) */
    int64_t recheck_at; /* judge again from this time on (an allow entry expires, the feed ages) */
    int64_t updated_at;
};

/** Insert or replace the inventory of (host, container); a new digest clears judged. */
att_rc store_inventory_put(struct store *s, const struct store_inventory *inv);
/** Inventories filtered by host and/or container (NULL: any), with or without bodies. */
att_rc store_inventories_list(struct store *s, const char *host, const char *container,
                              bool with_body, struct store_inventory **out, size_t *n);
void store_inventory_list_free(struct store_inventory *inv, size_t n);

struct store_finding {
    char *host;
    char *container;
    char *image;
    char *vuln_id;
    char *aliases; /* "" if none */
    char *package; /* binary package */
    char *version;
    char *source;
    char *source_version;
    char *fixed;      /* "" = no fix */
    char *severity;   /* att_severity_str() */
    bool over_bar;    /* over the container policy's bar and not accepted */
    bool allowed;     /* over the bar but accepted by an unexpired allow entry */
    char *feed;       /* 64 hex digest of the feed that found it */
    int64_t found_at; /* first found (kept across judgements) */
};

/**
 * Replace the findings of (host, container) with @p f[0..n) and mark its
 * inventory judged (@p judged, @p recheck_at), one transaction. Findings that
 * were not there before (by vuln_id, package) are counted in *@p n_new, and
 * when any of them is over the bar an event "vulnerability-found" with
 * @p message is stored in the same transaction (message NULL: no event).
 */
att_rc store_findings_replace(struct store *s, const char *host, const char *container,
                              const char *judged, int64_t recheck_at, const struct store_finding *f,
                              size_t n, int64_t now, const char *message, size_t *n_new);
/** Findings filtered by host, container and/or image (each may be NULL), worst first. */
att_rc store_findings_list(struct store *s, const char *host, const char *container,
                           const char *image, struct store_finding **out, size_t *n);
void store_finding_list_free(struct store_finding *f, size_t n);
/** The worst finding over the bar of (host, container). @retval ATT_ERR_NOT_FOUND none */
att_rc store_finding_worst(struct store *s, const char *host, const char *container,
                           struct store_finding *out);
void store_finding_cleanup(struct store_finding *f);

att_rc store_token_add(struct store *s, const char *name, const char *role,
                       const uint8_t hash[ATT_SHA256_LEN]);
/** @param[out] name, role  owned; @retval ATT_ERR_NOT_FOUND */
att_rc store_token_find(struct store *s, const uint8_t hash[ATT_SHA256_LEN], char **name,
                        char **role);

#endif
