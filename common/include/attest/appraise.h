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

struct att_appraisal {
    bool is_trusted;
    struct att_finding *findings; /* owned */
    size_t n_findings;
    size_t cap;
    size_t entries_appraised;
    uint32_t reset_count;
    uint32_t restart_count;
};

/** Everything one quote round delivered; all pointers borrowed. */
struct att_appraise_input {
    const uint8_t *ak_pub;
    size_t ak_pub_len;
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

#endif
