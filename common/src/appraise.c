/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One evidence bundle -> findings and a verdict (see attest/appraise.h).
 * Order: quote (signature, freshness, PCR digest), then the log against the
 * quoted measurement PCR, then every entry against policy. Every check that
 * fails adds a FAIL finding and appraisal goes on where that still makes
 * sense, so the operator sees all reasons, first one first. The verdict is
 * set once, at the end, from the count of failures (fail closed).
 */
#include "attest/appraise.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/imalog.h"
#include "attest/quote.h"
#include "attest/util.h"

#define APPRAISE_MAX_ENTRIES 4000000u

void att_appraisal_init(struct att_appraisal *a)
{
    memset(a, 0, sizeof(*a));
    a->is_trusted = false;
}

void att_appraisal_cleanup(struct att_appraisal *a)
{
    size_t i;

    if (a == NULL) {
        return;
    }
    for (i = 0; i < a->n_findings; i++) {
        free(a->findings[i].message);
    }
    free(a->findings);
    memset(a, 0, sizeof(*a));
}

att_rc att_appraisal_add(struct att_appraisal *a, enum att_finding_kind kind, const char *code,
                         int64_t entry, const char *fmt, ...)
{
    struct att_finding *f;
    va_list ap;
    char msg[1024];

    if (a->n_findings == a->cap) {
        size_t ncap = a->cap != 0 ? a->cap * 2 : 8;
        struct att_finding *n = realloc(a->findings, ncap * sizeof(*n));

        if (n == NULL) {
            return ATT_ERR_NOMEM;
        }
        a->findings = n;
        a->cap = ncap;
    }
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    f = &a->findings[a->n_findings];
    memset(f, 0, sizeof(*f));
    f->message = strdup(msg);
    if (f->message == NULL) {
        return ATT_ERR_NOMEM;
    }
    f->kind = kind;
    f->entry = entry;
    (void)snprintf(f->code, sizeof(f->code), "%s", code);
    a->n_findings++;
    return ATT_OK;
}

static size_t count_fails(const struct att_appraisal *a)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < a->n_findings; i++) {
        n += a->findings[i].kind == ATT_FIND_FAIL;
    }
    return n;
}

/* Check one log entry against policy; adds a finding if it is not allowed. */
static att_rc appraise_entry(const struct att_ima_entry *e, int64_t idx,
                             const struct att_policy *policy, struct att_appraisal *a)
{
    char hex[2 * ATT_IMA_MAX_DIGEST + 1];
    const char *colon;
    const char *path;
    const struct att_policy_ref *ref;

    att_hex_encode(e->digest, e->digest_len, hex);
    if (e->is_violation) {
        return att_appraisal_add(a, ATT_FIND_FAIL, "integrity-violation", idx,
                                 "entry %lld: %s is an integrity violation (file changed while "
                                 "being measured, or unreadable)",
                                 (long long)idx, e->name);
    }
    if (e->tmpl != ATT_IMA_TEMPLATE_NG) {
        return att_appraisal_add(a, ATT_FIND_FAIL, "unappraisable-entry", idx,
                                 "entry %lld: %s uses a template this verifier cannot appraise",
                                 (long long)idx, e->name);
    }
    colon = strchr(e->name, ':');
    if (colon == NULL || colon[1] != '/') {
        return att_appraisal_add(a, ATT_FIND_FAIL, "malformed-name", idx,
                                 "entry %lld: name \"%s\" is not <scope>:<absolute path>",
                                 (long long)idx, e->name);
    }
    path = colon + 1;
    if (strcmp(e->hash_algo, "sha256") != 0 || e->digest_len != ATT_SHA256_LEN) {
        return att_appraisal_add(a, ATT_FIND_FAIL, "digest-algorithm", idx,
                                 "entry %lld: %s is measured with %s; policy holds sha256 only",
                                 (long long)idx, e->name, e->hash_algo);
    }
    switch (att_policy_check(policy, path, e->digest)) {
    case ATT_POLICY_ALLOWED:
        return ATT_OK;
    case ATT_POLICY_UNKNOWN_PATH:
        return att_appraisal_add(a, ATT_FIND_FAIL, "not-in-policy", idx,
                                 "entry %lld: %s (sha256:%s) has no reference value in the policy",
                                 (long long)idx, e->name, hex);
    case ATT_POLICY_DIGEST_MISMATCH:
        break;
    }
    ref = att_policy_find(policy, path);
    {
        char want[2 * ATT_SHA256_LEN + 1] = "";

        if (ref != NULL && ref->n_digests > 0) {
            att_hex_encode(ref->digests[0], ATT_SHA256_LEN, want);
        }
        return att_appraisal_add(a, ATT_FIND_FAIL, "digest-mismatch", idx,
                                 "entry %lld: %s has sha256:%s, not an allowed reference value "
                                 "(e.g. sha256:%s%s)",
                                 (long long)idx, e->name, hex, want,
                                 ref != NULL && ref->n_digests > 1 ? ", ..." : "");
    }
}

att_rc att_appraise(const struct att_appraise_input *in, struct att_appraisal *a,
                    uint8_t pcr_end[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_quote_info info;
    struct att_ima_log log;
    uint8_t value[ATT_SHA256_LEN];
    char why[512];
    size_t bad = 0;
    size_t i;
    bool log_ok = false;

    att_ima_log_init(&log);
    memset(&info, 0, sizeof(info));
    if (in == NULL || a == NULL || in->pcrs == NULL || in->meas_pcr >= ATT_PCR_COUNT) {
        return ATT_ERR_INVALID_ARG;
    }
    a->is_trusted = false;

    /* 1. The quote: genuine (AK signature), fresh (nonce), and covering these PCR values. */
    why[0] = '\0';
    rc = att_quote_verify(in->ak_pub, in->ak_pub_len, in->attest, in->attest_len, in->sig,
                          in->sig_len, in->nonce, in->nonce_len, in->pcrs, &info, why,
                          sizeof(why));
    if (rc == ATT_ERR_CRYPTO || rc == ATT_ERR_NOMEM || rc == ATT_ERR_INVALID_ARG) {
        goto out;
    }
    if (rc != ATT_OK) {
        rc = att_appraisal_add(a, ATT_FIND_FAIL, "quote", -1, "quote rejected: %s",
                               why[0] ? why : att_rc_str(rc));
        if (rc != ATT_OK) {
            goto out;
        }
    } else {
        a->reset_count = info.reset_count;
        a->restart_count = info.restart_count;
    }
    if ((in->pcrs->mask & (1u << in->meas_pcr)) == 0) {
        rc = att_appraisal_add(a, ATT_FIND_FAIL, "pcr-not-quoted", -1,
                               "the measurement PCR %u is not among the quoted PCRs",
                               in->meas_pcr);
        if (rc != ATT_OK) {
            goto out;
        }
    }

    /* 2. The log: well-formed, and replaying it gives exactly the quoted PCR. */
    why[0] = '\0';
    rc = att_ima_log_parse(in->log, in->log_len, APPRAISE_MAX_ENTRIES, &log, why, sizeof(why));
    if (rc == ATT_ERR_NOMEM) {
        goto out;
    }
    if (rc != ATT_OK) {
        rc = att_appraisal_add(a, ATT_FIND_FAIL, "log-malformed", -1,
                               "the measurement log is malformed: %s", why);
        if (rc != ATT_OK) {
            goto out;
        }
    } else {
        memcpy(value, in->pcr_start, sizeof(value));
        rc = att_ima_replay(log.entries, log.count, in->meas_pcr, value, &bad);
        if (rc == ATT_ERR_CRYPTO) {
            goto out;
        }
        if (rc != ATT_OK) {
            rc = att_appraisal_add(a, ATT_FIND_FAIL, "log-template-digest",
                                   (int64_t)(in->log_offset + bad),
                                   "log entry %llu: its template digest does not match its data",
                                   (unsigned long long)(in->log_offset + bad));
        } else if (memcmp(value, in->pcrs->value[in->meas_pcr], sizeof(value)) != 0) {
            rc = att_appraisal_add(
                a, ATT_FIND_FAIL, "log-replay-mismatch", -1,
                "replaying the log (entries %llu..%llu) does not give the quoted PCR %u: the log "
                "was altered, truncated or reordered, or the PCR was extended outside the log",
                (unsigned long long)in->log_offset,
                (unsigned long long)(in->log_offset + log.count), in->meas_pcr);
        } else {
            log_ok = true;
            if (pcr_end != NULL) {
                memcpy(pcr_end, value, sizeof(value));
            }
        }
        if (rc != ATT_OK) {
            goto out;
        }
        for (i = 0; i < log.count; i++) {
            if (log.entries[i].pcr != in->meas_pcr) {
                rc = att_appraisal_add(a, ATT_FIND_FAIL, "log-foreign-pcr",
                                       (int64_t)(in->log_offset + i),
                                       "log entry %llu targets PCR %u, not the measurement PCR %u",
                                       (unsigned long long)(in->log_offset + i),
                                       log.entries[i].pcr, in->meas_pcr);
                if (rc != ATT_OK) {
                    goto out;
                }
            }
        }
    }
    if (!in->log_consistent) {
        rc = att_appraisal_add(a, ATT_FIND_FAIL, "agent-log-inconsistent", -1,
                               "the agent reports its log inconsistent with the TPM: %s",
                               in->log_status != NULL ? in->log_status : "(no reason given)");
        if (rc != ATT_OK) {
            goto out;
        }
    }

    /* 3. Every entry against policy; only for a log whose integrity holds. */
    if (log_ok && in->policy != NULL) {
        for (i = 0; i < log.count; i++) {
            rc = appraise_entry(&log.entries[i], (int64_t)(in->log_offset + i), in->policy, a);
            if (rc != ATT_OK) {
                goto out;
            }
        }
        a->entries_appraised = log.count;
    }
    rc = att_appraisal_add(a, ATT_FIND_INFO, "summary", -1,
                           "%zu log entries checked; PCR %u resetCount %u restartCount %u",
                           log.count, in->meas_pcr, info.reset_count, info.restart_count);
    if (rc != ATT_OK) {
        goto out;
    }
    a->is_trusted = count_fails(a) == 0;
    rc = ATT_OK;
out:
    att_ima_log_cleanup(&log);
    return rc;
}
