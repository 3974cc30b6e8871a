/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Appraisal of one evidence bundle (shared/DESIGN.md §5): quote, replay of the
 * measurement log against the quoted PCR, and every entry against policy.
 * Pure computation over bytes already received; shared by attest-verify's
 * direct mode and the verifier daemon. Fails closed: the verdict starts as
 * untrusted and only the last step can set trusted.
 */
#ifndef ATT_COMMON_APPRAISE_H
#define ATT_COMMON_APPRAISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/digest.h"
#include "attest/pcrs.h"
#include "attest/policy.h"
#include "attest/rc.h"

enum att_finding_kind {
    ATT_FIND_INFO = 0,  /* context, not a failure */
    ATT_FIND_FAIL,      /* makes the host untrusted */
};

struct att_finding {
    enum att_finding_kind kind;
    char code[32];     /* stable machine code, e.g. "quote-signature", "digest-mismatch" */
    char *message;     /* owned */
    int64_t entry;     /* log entry index, or -1 */
};

#define ATT_CONTAINER_ID_LEN 64

/*
 * A container's appraisal state, carried across rounds (the verifier stores
 * it): the image its identity record named and, once anything failed, the
 * first failure. A failed container stays failed (sticky) until an operator
 * acts; a container with entries but no identity record fails.
 */
struct att_container_verdict {
    char id[ATT_CONTAINER_ID_LEN + 1];
    char image[80];    /* "sha256:<hex>" from its "container:" record, "" if not seen */
    char policy[80];   /* the container policy that admitted the image, "" if none */
    bool is_failed;
    char code[32];     /* first failure's code, e.g. "unknown-binary" */
    char reason[512];  /* first failure's text */
    int64_t entry;     /* log index of the first failure, -1 if none */
};

/*
 * One "packages:<id>" record (issue 8): part of the package inventory the
 * prestart hook measured, "attest-packages <part> <n> <64 hex sha256 of the
 * whole canonical inventory>\n" then that part of the canonical text. The
 * appraisal checks the header; the verifier joins the parts (they may span
 * rounds), checks the digest and judges the inventory against its feed.
 */
struct att_pkg_record {
    char container[ATT_CONTAINER_ID_LEN + 1];
    int64_t entry;
    unsigned part; /* 1-based */
    unsigned n;
    char digest[2 * ATT_SHA256_LEN + 1];
    uint8_t *body; /* owned (in att_appraisal.pkgs): the part after the header line */
    size_t len;
};

#define ATT_PKG_RECORD_HEADER    "attest-packages"
#define ATT_PKG_RECORD_MAX_PARTS 160u /* ATT_INV_MAX_TEXT in parts of 60 KiB, rounded up */

/**
 * Parse a record's header; out->body is left NULL (len = the part's length,
 * which starts at buf + (buf_len - len)).
 * @retval ATT_OK @retval ATT_ERR_PARSE (@p why says why)
 */
att_rc att_pkg_record_parse(const uint8_t *buf, size_t len, struct att_pkg_record *out,
                            char *why, size_t why_len);

struct att_appraisal {
    bool is_trusted;
    struct att_finding *findings; /* owned */
    size_t n_findings;
    size_t cap;
    size_t entries_appraised;
    uint32_t reset_count;
    uint32_t restart_count;
    struct att_container_verdict *containers; /* owned; per-container state after this round */
    size_t n_containers;
    struct att_pkg_record *pkgs; /* owned array: this round's "packages:" records, in order */
    size_t n_pkgs;
};

/** Everything one quote round delivered; all pointers borrowed. */
struct att_ak;

struct att_appraise_input {
    const uint8_t *ak_pub;
    size_t ak_pub_len;
    const struct att_ak *ak; /* optional: ak_pub already parsed (quote.h), reused across rounds */
    const uint8_t *attest;
    size_t attest_len;
    const uint8_t *sig;
    size_t sig_len;
    const uint8_t *nonce;
    size_t nonce_len;
    const struct att_pcrs *pcrs;
    uint32_t meas_pcr;
    /* log: binary IMA records from entry index log_offset */
    const uint8_t *log;
    size_t log_len;
    uint64_t log_offset;
    /* running sha256 value of meas_pcr after entries [0, log_offset) */
    uint8_t pcr_start[ATT_SHA256_LEN];
    bool log_consistent; /* as the agent reported it */
    const char *log_status;
    const struct att_policy *policy; /* may be NULL: no entry appraisal */
    /* container states from earlier rounds (borrowed, copied into the result) */
    const struct att_container_verdict *containers;
    size_t n_containers;
};

void att_appraisal_init(struct att_appraisal *a);
void att_appraisal_cleanup(struct att_appraisal *a);
att_rc att_appraisal_add(struct att_appraisal *a, enum att_finding_kind kind, const char *code,
                         int64_t entry, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/**
 * Appraise one evidence bundle. A verification failure is not an error: it
 * is recorded as a finding and the result stays untrusted; the return value
 * only says whether appraisal could run.
 * @param[out] pcr_end  the replayed measurement-PCR value (for incremental state; may be NULL)
 * @retval ATT_OK  appraisal ran (see a->is_trusted)
 * @retval ATT_ERR_NOMEM @retval ATT_ERR_CRYPTO @retval ATT_ERR_INVALID_ARG
 */
att_rc att_appraise(const struct att_appraise_input *in, struct att_appraisal *a,
                    uint8_t pcr_end[ATT_SHA256_LEN]);

struct att_ima_entry;
/**
 * Step 3 of att_appraise() on its own: every entry against @p policy. Host
 * entries add FAIL findings; container entries ("container:<id>",
 * "violation:<id>", "netpolicy:<id>", "netdrift:<id>", "<id>:<path>", ...)
 * update a->containers (sticky failures, reported as info findings) and
 * never fail the host.
 * @param[in] offset  log index of entries[0], for the findings
 */
att_rc att_appraise_entries(const struct att_ima_entry *entries, size_t n, uint64_t offset,
                            const struct att_policy *policy, struct att_appraisal *a);

/**
 * Add the containers of an agent's inventory ("<64 hex id> <state>" lines,
 * running containers) that no log entry has named yet: verdict "not seen"
 * (no image, not failed, entry -1) until their entries arrive. Lines that
 * are not of that form are ignored; @p inv may be NULL.
 * @retval ATT_OK @retval ATT_ERR_NOMEM (containers added before it stay)
 */
att_rc att_appraisal_add_inventory(struct att_appraisal *a, const char *inv);

#endif
