/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent <-> verifier wire messages, CBOR (RFC 8949) via libcbor, as specified
 * by proto/attest.cddl. Pure encode/decode: no I/O, no TPM, no globals.
 * Decoders take untrusted bytes: the whole input must be exactly one CBOR item
 * (no trailing bytes), every field is type- and size-checked, unknown map keys
 * are ignored, duplicate or missing required keys are ATT_ERR_PARSE with a
 * message naming the field. Decoded structs own their memory; release with the
 * matching _cleanup().
 */
#ifndef ATT_PROTO_PROTO_H
#define ATT_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/pcrs.h"
#include "attest/rc.h"

#define ATT_PROTO_VERSION     1
#define ATT_PROTO_NONCE_LEN   32
#define ATT_PROTO_MAX_BODY    (32u * 1024u * 1024u) /* largest message either side accepts */
#define ATT_PROTO_MAX_CERT    8192
#define ATT_PROTO_MAX_TPMBLOB 4096 /* TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE */
#define ATT_PROTO_MAX_TEXT    1024

/* GET /v1/identity */
struct att_identity {
    uint32_t version;
    char *agent_id;        /* owned; the agent's name (hostname by default) */
    char *ek_alg;          /* owned; "rsa" | "ecc": which EK the AK hangs under */
    uint8_t *ek_cert_rsa;  /* owned DER, NULL if the TPM has none */
    size_t ek_cert_rsa_len;
    uint8_t *ek_cert_ecc;  /* owned DER, NULL if the TPM has none */
    size_t ek_cert_ecc_len;
    uint8_t *ek_pub;       /* owned marshalled TPM2B_PUBLIC */
    size_t ek_pub_len;
    uint8_t *ak_pub;       /* owned marshalled TPM2B_PUBLIC */
    size_t ak_pub_len;
    uint32_t meas_pcr;
    char *boot_id;         /* owned */
};

#define ATT_PROTO_MAX_ADMISSION (1024u * 1024u)
#define ATT_PROTO_MAX_INVENTORY (1024u * 1024u)
#define ATT_PROTO_MAX_NETSTATS  (1024u * 1024u)
#define ATT_PROTO_MAX_VULNFEED  (24u * 1024u * 1024u) /* canonical feed text, attest/vulndb.h */

/* An owned byte string, one item of a list field. */
struct att_blob {
    uint8_t *data; /* owned */
    size_t len;
};

#define ATT_PROTO_MAX_ORDERS   32u   /* orders in one evidence request, acks in one answer */
#define ATT_PROTO_MAX_ORDER    4096u /* one signed order envelope, or one ack */

/* POST /v1/evidence request */
struct att_evidence_request {
    uint8_t nonce[ATT_PROTO_NONCE_LEN];
    uint32_t pcr_mask;   /* sha256 PCRs to quote; non-zero, bits 0..23 only */
    uint64_t log_offset; /* first log entry index wanted */
    char *admission;     /* owned, optional: the host's policy JSON, whose "containers"
                            section the agent enforces at container start */
    struct att_blob *orders; /* owned, optional: signed order envelopes (att_order_seal) */
    size_t n_orders;         /* <= ATT_PROTO_MAX_ORDERS */
    uint8_t *vulnfeed;       /* owned, optional: the verifier's vulnerability feed (canonical
                                text, attest/vulndb.h), sent when the agent's digest differs */
    size_t vulnfeed_len;
};

/* POST /v1/evidence response */
struct att_evidence {
    uint32_t version;
    uint8_t *attest; /* owned marshalled TPMS_ATTEST */
    size_t attest_len;
    uint8_t *sig;    /* owned marshalled TPMT_SIGNATURE */
    size_t sig_len;
    struct att_pcrs pcrs;   /* quoted sha256 values; pcrs.mask = the quoted selection */
    uint32_t meas_pcr;
    uint64_t log_offset;    /* index of the first record in log */
    struct att_blob *acks;  /* owned, optional: encoded att_order_ack, one per order received */
    size_t n_acks;
    uint64_t log_count;     /* records in the agent's log when quoted */
    uint8_t *log;           /* owned binary IMA records [log_offset, log_count) */
    size_t log_len;
    uint32_t reset_count;
    uint32_t restart_count;
    char *boot_id;          /* owned */
    bool log_consistent;
    char *log_status;       /* owned human text, e.g. "ok" or why inconsistent */
    char *inventory;        /* owned, optional: running containers as the agent last saw
                               them, one "<64 hex id> <image id or -> <name>" per line */
    char *netstats;         /* owned, optional: one "<64 hex id> <egress dropped> <ingress
                               dropped> <ruleset 64 hex>" line per container the agent
                               enforces a network policy on */
    bool has_vulnfeed;      /* vulnfeed is set: the agent holds a vulnerability feed */
    uint8_t vulnfeed[32];   /* SHA-256 of the agent's feed's canonical text */
};

att_rc att_identity_encode(const struct att_identity *id, struct att_buf *out);
att_rc att_identity_decode(const uint8_t *buf, size_t len, struct att_identity *out, char *why,
                           size_t why_len);
void att_identity_cleanup(struct att_identity *id);

att_rc att_evidence_request_encode(const struct att_evidence_request *r, struct att_buf *out);
att_rc att_evidence_request_decode(const uint8_t *buf, size_t len,
                                   struct att_evidence_request *out, char *why, size_t why_len);
void att_evidence_request_cleanup(struct att_evidence_request *r);

/*
 * Quarantine orders (DESIGN §6, proto/attest.cddl "order"). The verifier
 * seals an order (CBOR map, then ECDSA P-256 over those exact bytes) and
 * sends the envelope with evidence requests until the agent acknowledges it;
 * the agent opens it with the key it received at enrollment.
 */
#define ATT_ORDER_ID_LEN 32 /* lower-case hex of 128 random bits */
enum att_order_op { ATT_ORDER_QUARANTINE = 1, ATT_ORDER_LIFT = 2 };
#define ATT_ORDER_PAUSE   1u
#define ATT_ORDER_ISOLATE 2u /* isolate-network */
#define ATT_ORDER_KILL    4u
#define ATT_ORDER_ALL     7u

struct att_order {
    char id[ATT_ORDER_ID_LEN + 1];
    enum att_order_op op;
    char lifts[ATT_ORDER_ID_LEN + 1]; /* op LIFT: the quarantine order it lifts, else "" */
    char ak_name[2 * 34 + 1];         /* hex TPM Name of the host's AK: the one host it is for */
    char container[65];               /* 64 hex */
    char image[80];                   /* "sha256:<64 hex>" or "" */
    uint32_t actions;                 /* ATT_ORDER_* (quarantine; 0 for lift) */
    char *reason;                     /* owned text, 1..1024 bytes */
    uint64_t issued_at;               /* unix seconds */
    uint64_t expires_at;              /* the agent refuses it after this */
};

struct att_order_ack {
    char id[ATT_ORDER_ID_LEN + 1];
    bool ok;       /* carried out (or already in effect: orders are idempotent by id) */
    char *result;  /* owned text: what was done, or why it was refused */
};

struct att_sigkey;
/** Encode @p o as CBOR, sign it with @p key and append the envelope to @p out. */
att_rc att_order_seal(const struct att_order *o, const struct att_sigkey *key,
                      struct att_buf *out);
/**
 * Check an envelope's signature with @p key, then decode the order.
 * @retval ATT_OK @retval ATT_ERR_PARSE malformed @retval ATT_ERR_VERIFY bad signature
 */
att_rc att_order_open(const uint8_t *env, size_t len, const struct att_sigkey *key,
                      struct att_order *out, char *why, size_t why_len);
void att_order_cleanup(struct att_order *o);
/** Lower-case "pause,isolate-network,kill" (the set bits) into @p out. */
void att_order_actions_str(uint32_t actions, char *out, size_t out_len);
/** Parse a comma-separated action list; false on an unknown word or an empty list. */
bool att_order_actions_parse(const char *s, uint32_t *actions);

att_rc att_order_ack_encode(const struct att_order_ack *a, struct att_buf *out);
att_rc att_order_ack_decode(const uint8_t *buf, size_t len, struct att_order_ack *out, char *why,
                            size_t why_len);
void att_order_ack_cleanup(struct att_order_ack *a);

void att_blobs_free(struct att_blob *b, size_t n);

att_rc att_evidence_encode(const struct att_evidence *ev, struct att_buf *out);
att_rc att_evidence_decode(const uint8_t *buf, size_t len, struct att_evidence *out, char *why,
                           size_t why_len);
void att_evidence_cleanup(struct att_evidence *ev);

/* POST /v1/activate request: TPM2_MakeCredential output for the agent's EK+AK */
struct att_activate_request {
    uint8_t *cred_blob;  /* owned marshalled TPM2B_ID_OBJECT */
    size_t cred_blob_len;
    uint8_t *enc_secret; /* owned marshalled TPM2B_ENCRYPTED_SECRET */
    size_t enc_secret_len;
    uint8_t *verifier_key; /* owned, optional: the verifier's order-signing key, SPKI DER */
    size_t verifier_key_len;
};

/* POST /v1/activate response: what TPM2_ActivateCredential recovered */
struct att_activate_response {
    uint8_t *secret; /* owned, 1..64 bytes */
    size_t secret_len;
};

att_rc att_activate_request_encode(const struct att_activate_request *r, struct att_buf *out);
att_rc att_activate_request_decode(const uint8_t *buf, size_t len,
                                   struct att_activate_request *out, char *why, size_t why_len);
void att_activate_request_cleanup(struct att_activate_request *r);
att_rc att_activate_response_encode(const struct att_activate_response *r, struct att_buf *out);
att_rc att_activate_response_decode(const uint8_t *buf, size_t len,
                                    struct att_activate_response *out, char *why,
                                    size_t why_len);
void att_activate_response_cleanup(struct att_activate_response *r);

/* Error body of any non-2xx agent response: {"error": text} */
att_rc att_error_encode(const char *message, struct att_buf *out);
/** @param[out] message  owned, free() it */
att_rc att_error_decode(const uint8_t *buf, size_t len, char **message);

#endif
