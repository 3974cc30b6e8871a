/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verifier's core: configuration, the store, the EK trust anchors,
 * enrollment, the polling attestation engine and the dashboard API.
 *
 * Threads: one poller thread performs every attestation round (scheduled
 * ones and "attest now" requests from the API, which it queues and waits on),
 * so a host's incremental state is only ever advanced by one thread. The API
 * runs on the HTTP server's threads and reads the store (which serialises
 * itself). Enrollment runs on the API thread that asked for it.
 *
 * Memory: struct verifier owns its config copy, store, trust store, HTTP
 * server and poller. Results handed out are owned by the caller.
 */
#ifndef ATT_VERIFIER_VERIFIER_H
#define ATT_VERIFIER_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/httpc.h"
#include "attest/proto.h"
#include "attest/rc.h"

#define VERIFIER_DEFAULT_LISTEN   "127.0.0.1:8931"
#define VERIFIER_DEFAULT_DB       "/var/lib/attest-verifier/attest.db"
#define VERIFIER_DEFAULT_TPM_CA   "certs/tpm-ca"
#define VERIFIER_MAX_TPM_CA       16
#define VERIFIER_API_MAX_BODY     (1024u * 1024u)
#define VERIFIER_VULNDB_MAX_BYTES ATT_PROTO_MAX_VULNFEED /* what can be sent to agents */

struct verifier_config {
    char *db;              /* SQLite file */
    char *listen;          /* dashboard API */
    char *api_cert;        /* HTTPS for the API (PEM); NULL with insecure_dev */
    char *api_key;
    char *fleet_ca;        /* CA of agent server certificates (mTLS) */
    char *client_cert;     /* the verifier's client certificate towards agents */
    char *client_key;
    char *order_key;       /* P-256 key that signs quarantine orders (PEM, created if absent);
                              NULL: "order-key.pem" next to the store */
    uint32_t order_ttl_s;  /* an order not delivered within this is dropped (expired) */
    char *tpm_ca[VERIFIER_MAX_TPM_CA]; /* trusted EK CA files or dirs */
    size_t n_tpm_ca;
    uint32_t interval_ms;  /* polling period */
    uint32_t timeout_s;    /* per agent request */
    uint32_t max_inflight; /* concurrent agent requests per round */
    bool insecure_dev;     /* plain HTTP to agents and on the API */
    uint64_t vulndb_max_age_s;  /* a vulnerability feed older than this is not judged with
                                   (a container policy's max_feed_age overrides) */
    size_t vulndb_max_bytes;    /* largest feed upload (POST /api/v1/vulndb) */
};

struct verifier;

void verifier_config_init(struct verifier_config *c);
void verifier_config_cleanup(struct verifier_config *c);

/** Open the store, load trust anchors, start the poller and the API. */
att_rc verifier_start(const struct verifier_config *cfg, struct verifier **out);
/** The API port actually bound. */
uint16_t verifier_api_port(const struct verifier *v);
void verifier_stop(struct verifier *v);

/** Outcome of one attestation round, for the API. */
struct verifier_result {
    char verdict[16];   /* trusted | untrusted | unreachable */
    char *reason;       /* owned, may be NULL */
    char *findings_json; /* owned JSON array */
    uint64_t log_from;
    uint64_t log_to;
};
void verifier_result_cleanup(struct verifier_result *r);

/**
 * Enroll the agent at @p url as host @p name (DESIGN §3): fetch its identity,
 * validate the EK certificate chain, MakeCredential for the AK, have the agent
 * ActivateCredential, check the AK's attributes, then store the host.
 * @param[out] why  the reason on refusal (for the API's 4xx body)
 * @retval ATT_OK
 * @retval ATT_ERR_VERIFY  refused (untrusted EK CA, key mismatch, wrong secret, bad AK)
 * @retval ATT_ERR_EXISTS  name taken by a host with another EK, or EK enrolled under another name
 * @retval ATT_ERR_IO      agent unreachable
 * @retval ATT_ERR_PARSE   malformed answer from the agent
 */
att_rc verifier_enroll(struct verifier *v, const char *name, const char *url, char *why,
                       size_t why_len);

/**
 * Ask the poller to attest @p host now and wait for the result (at most
 * timeout + a few seconds).
 * @retval ATT_OK (see r->verdict) @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_TIMEOUT
 */
att_rc verifier_attest_now(struct verifier *v, const char *host, struct verifier_result *r);

/* Shared pieces (verifier_*.c) */
struct store;
struct store *verifier_store(struct verifier *v);
const struct att_tls_client_config *verifier_agent_tls(const struct verifier *v);
const struct verifier_config *verifier_cfg(const struct verifier *v);

#endif
