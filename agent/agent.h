/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's core: its TPM (EK, AK), its measurement log and the one lock
 * that keeps them in step (DESIGN §4 "atomic evidence"): every extend and
 * every quote happen under a->lock, so the log returned with a quote always
 * ends exactly at the quoted PCR value.
 *
 * Start-up and TPM-reset recovery follow DESIGN §4: equal -> continue; the log
 * holds exactly one entry the PCR lacks -> extend it; TPM reset -> new boot,
 * new log (the old one is kept aside); anything else -> "log inconsistent",
 * reported in every quote, never hidden.
 *
 * HTTP (agent_http.c) and the control socket (agent_ctl.c) are thin callers.
 */
#ifndef ATT_AGENT_AGENT_H
#define ATT_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/rc.h"
#include "attest/tpm.h"

#define AGENT_DEFAULT_PCR       15
#define AGENT_DEFAULT_STATE_DIR "/var/lib/attest-agent"
#define AGENT_DEFAULT_LISTEN    "127.0.0.1:8930"

struct agent_config {
    char *tcti;      /* owned */
    char *state_dir; /* owned */
    char *listen;    /* owned, "ADDR:PORT" or "[V6ADDR]:PORT" */
    char *agent_id;  /* owned, may be NULL: hostname */
    char *engine;    /* owned, may be NULL: container engine URL, for quarantine orders */
    uint32_t pcr;
    enum att_key_alg ak_alg;
    enum att_key_alg ek_alg;
    unsigned net_check_s; /* seconds between reads of live network rulesets (0: default) */
};

struct agent;

void agent_config_init(struct agent_config *c);
void agent_config_cleanup(struct agent_config *c);
/** Replace *dst with a copy of @p src. */
att_rc agent_config_set(char **dst, const char *src);

/**
 * Whether the log file refuses writes (disk full, I/O error): a gap is open
 * and every measurement is refused until a write succeeds again. A query
 * only: it writes nothing (agent_log_gap_close() tries).
 * @param[out] why  optional, set when degraded
 */
bool agent_log_degraded(struct agent *a, char *why, size_t why_len);
/**
 * Close an open log gap: write its closing record (a log write and fsync)
 * and extend it (a TPM round trip), so the next measurement need not. The
 * gap stays open when any step fails; a closing record that is logged but
 * not extended is extended by the next try.
 * @param[out] why  optional, set on failure: what failed
 * @retval ATT_OK no gap is open (any more) @retval ATT_ERR_IO the log still refuses writes
 * @retval ATT_ERR_TPM (or another code) the TPM, or building the record, failed
 */
att_rc agent_log_gap_close(struct agent *a, char *why, size_t why_len);

/** Open the TPM, make EK and AK, open and recover the log. */
att_rc agent_new(const struct agent_config *cfg, struct agent **out);
void agent_free(struct agent *a);

/**
 * Measure one host file into the log and the PCR (name "host:<path>").
 * @param[out] reply  one line for the operator, e.g. "measured sha256:<hex> /etc/x"
 */
att_rc agent_measure_file(struct agent *a, const char *path, char *reply, size_t reply_len);

/** CBOR identity document (proto.h struct att_identity). */
att_rc agent_identity(struct agent *a, struct att_buf *out);

/**
 * Answer an evidence request (CBOR in, CBOR out).
 * @param[out] status  HTTP status: 200, 400 (bad request, @p why says why), 503 (TPM down), 500
 */
att_rc agent_evidence(struct agent *a, const uint8_t *req, size_t req_len, struct att_buf *out,
                      unsigned *status, char *why, size_t why_len);

/**
 * Log one file measurement (ima-ng, name e.g. "<container-id>:/bin/ls") and
 * extend it, unless that (name, digest) is logged already (IMA semantics).
 * @param[out] is_new  whether an entry was written (may be NULL)
 */
att_rc agent_record_file(struct agent *a, const char *name, const uint8_t digest[32], bool *is_new);
/** Log one ima-buf record (container identity, violation, enforcement) once per content. */
att_rc agent_record_buf(struct agent *a, const char *name, const uint8_t *buf, size_t len,
                        bool *is_new);

/**
 * Replace the admission policy (the verifier's policy JSON for this host;
 * its "containers" section says which images may start). Kept in the state
 * dir. Unchanged text is a no-op.
 * @retval ATT_OK @retval ATT_ERR_PARSE (why names the problem) @retval ATT_ERR_IO
 */
att_rc agent_admission_set(struct agent *a, const char *json, char *why, size_t why_len);
/**
 * May a container of image @p image_id start?
 * @param[out] policy_name  the container policy that admits it
 * @retval ATT_OK admitted @retval ATT_ERR_POLICY refused (why says why; also when no policy yet)
 */
att_rc agent_admission_check(struct agent *a, const char *image_id, char *policy_name,
                             size_t policy_len, char *why, size_t why_len);

/**
 * Replace the vulnerability feed (canonical text, attest/vulndb.h) the
 * verifier sent; kept in the state dir. Unchanged feeds are a no-op.
 * @retval ATT_OK @retval ATT_ERR_PARSE @retval ATT_ERR_IO
 */
att_rc agent_vulnfeed_set(struct agent *a, const uint8_t *text, size_t len, char *why,
                          size_t why_len);
struct att_inventory;
/**
 * The vulnerability gate at start (issue 8): may a container whose measured
 * package inventory is @p inv (canonical text digest @p inv_digest) start
 * under container policy @p policy_name? Admits at once when the policy has
 * no "vulnerabilities" bar; refuses when the inventory could not be read
 * (@p inv NULL, @p inv_error says why), there is no feed, the feed is too
 * old, the packages cannot be judged (att_vuln_judgeable), or findings are
 * over the bar (why names the worst).
 * Verdicts are cached per (inventory, feed, policy) until an allow entry
 * expires or the feed ages out. @p why is filled in both cases.
 * @retval ATT_OK admitted @retval ATT_ERR_POLICY refused
 */
att_rc agent_vuln_check(struct agent *a, const char *policy_name, const struct att_inventory *inv,
                        const uint8_t inv_digest[32], const char *inv_error, char *why,
                        size_t why_len);

struct agent_net;
struct att_net_policy;
/** The network policy enforcer (agent_net.h); owned by the agent, never NULL after agent_new. */
struct agent_net *agent_net_of(struct agent *a);
/**
 * A copy of the network section of the container policy named @p name or,
 * when @p name is NULL or names none, the one admitting @p image_id (may be
 * NULL). *np is NULL when that policy has no network section (or there is no
 * such policy); the policy's name goes to @p name_out.
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND no admission policy yet @retval ATT_ERR_NOMEM
 */
att_rc agent_net_policy(struct agent *a, const char *name, const char *image_id, char *name_out,
                        size_t name_len, struct att_net_policy **np);

/**
 * Whether a container start must be refused because it, or a container of
 * its image, is under an open quarantine (quarantine.h).
 */
bool agent_quarantine_refuses(struct agent *a, const char *container_id, const char *image_id,
                              char *why, size_t why_len);

/**
 * The running containers as the sweep last saw them, one
 * "<id> <image id or -> <name>" per line (copied; "\n" when the engine runs
 * none, NULL or "" when there is no engine):
 * sent with every evidence so the verifier can list containers it has no
 * entries for yet.
 */
void agent_set_inventory(struct agent *a, const char *text);

/**
 * Answer a credential-activation request (enrollment): ActivateCredential
 * with this TPM's EK and AK, CBOR in, CBOR out.
 * @param[out] status  200, 400 (malformed or not for this TPM), 503 (TPM down)
 */
att_rc agent_activate(struct agent *a, const uint8_t *req, size_t req_len, struct att_buf *out,
                      unsigned *status, char *why, size_t why_len);

#endif
