/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent core (see agent.h). Memory: struct agent owns its config copy, the
 * TPM context, the log and the cached identity blobs. The lock protects all of
 * them; file hashing happens outside it so a large file never delays a quote.
 *
 * Fault injection for tests (curl "torture" style, shared/STYLE.md §8):
 * ATT_FAULT_INJECT=kill-after-append makes the agent SIGKILL itself after a
 * measurement is durably logged and before it is extended: the exact crash
 * window DESIGN §4 must survive.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_log.h"
#include "agent_net.h"
#include "attest/digest.h"
#include "attest/imalog.h"
#include "attest/log.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/proto.h"
#include "attest/quote.h"
#include "attest/util.h"
#include "attest/vulndb.h"
#include "quarantine.h"

#define BOOT_STATE_MAX 256
#define ADMISSION_FILE "admission.json"
#define VULNFEED_FILE  "vulnfeed.txt"
#define VULN_CACHE     64 /* verdicts kept (issue 8: repeated starts stay fast) */

/* One vulnerability verdict, valid for one (inventory, feed, policy) until valid_until. */
struct vuln_verdict {
    uint8_t key[ATT_SHA256_LEN]; /* sha256(inventory digest | feed digest | admission digest |
                                    policy) */
    bool used;
    bool refuse;
    uint64_t valid_until; /* an allow entry expires or the feed gets too old */
    char why[1024];
};

struct agent {
    struct agent_config cfg;
    pthread_mutex_t lock;
    /* admission: the verifier's policy for this host; its containers section is
     * enforced by the prestart hook. Own lock: hooks must not wait on quotes. */
    pthread_mutex_t adm_lock;
    struct att_policy *admission; /* owned, NULL until the verifier sent one */
    char *inventory;              /* owned: running containers, from the sweep */
    uint8_t admission_digest[ATT_SHA256_LEN];
    struct att_vulndb *vulndb;              /* owned, NULL until the verifier sent one */
    struct vuln_verdict vcache[VULN_CACHE]; /* under adm_lock */
    size_t vcache_next;
    struct att_tpm *tpm; /* NULL while the TPM is unreachable */
    struct agent_log *log;
    struct quarantine *quar; /* owned: orders and their state */
    struct agent_net *net;   /* owned: container network policies in force */
    struct att_buf ek_cert_rsa;
    struct att_buf ek_cert_ecc;
    struct att_buf ek_pub;
    struct att_buf ak_pub;
    uint32_t reset_count;
    uint32_t restart_count;
    char boot_id[64];
    bool log_consistent;
    char log_status[512];
    /* The log gap (issue 7): appends failing (ENOSPC, EIO) since gap_since. */
    bool gap_open;
    time_t gap_since;
    uint64_t gap_refused; /* measurements refused since then */
    bool gap_closing;     /* its closing record is logged, its extend failed: retried */
    char gap_error[512];
};

void agent_config_init(struct agent_config *c)
{
    memset(c, 0, sizeof(*c));
    c->pcr = AGENT_DEFAULT_PCR;
    c->ak_alg = ATT_KEY_ECC;
    c->ek_alg = ATT_KEY_RSA;
}

void agent_config_cleanup(struct agent_config *c)
{
    free(c->tcti);
    free(c->state_dir);
    free(c->listen);
    free(c->agent_id);
    free(c->engine);
    memset(c, 0, sizeof(*c));
}

att_rc agent_config_set(char **dst, const char *src)
{
    char *n = src != NULL ? strdup(src) : NULL;

    if (src != NULL && n == NULL) {
        return ATT_ERR_NOMEM;
    }
    free(*dst);
    *dst = n;
    return ATT_OK;
}

static void set_status(struct agent *a, bool consistent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void admission_load(struct agent *a);
static void vulnfeed_load(struct agent *a);

static void set_status(struct agent *a, bool consistent, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(a->log_status, sizeof(a->log_status), fmt, ap);
    va_end(ap);
    a->log_consistent = consistent;
    if (consistent) {
        LOG_INFO("measurement log: %s", a->log_status);
    } else {
        LOG_ERR("measurement log inconsistent: %s", a->log_status);
    }
}

static void new_boot_id(struct agent *a)
{
    uint8_t r[8];
    char hex[17];

    if (att_random_bytes(r, sizeof(r)) != ATT_OK) {
        memset(r, 0, sizeof(r));
    }
    att_hex_encode(r, sizeof(r), hex);
    (void)snprintf(a->boot_id, sizeof(a->boot_id), "%u-%s", a->reset_count, hex);
}

/* boot.state: "<resetCount> <boot_id>\n", the boot the current log belongs to. */
static bool read_boot_state(const struct agent *a, uint32_t *reset_count, char *boot_id,
                            size_t boot_id_len)
{
    char path[4200];
    struct att_buf b;
    char *sp;
    char *nl;
    bool ok = false;

    (void)snprintf(path, sizeof(path), "%s/boot.state", a->cfg.state_dir);
    att_buf_init(&b, BOOT_STATE_MAX);
    if (att_file_read(path, &b) != ATT_OK || b.len == 0) {
        goto out;
    }
    sp = strchr((char *)b.data, ' ');
    nl = strchr((char *)b.data, '\n');
    if (sp == NULL || nl == NULL || nl < sp) {
        goto out;
    }
    *sp = '\0';
    *nl = '\0';
    if (att_parse_u32((char *)b.data, UINT32_MAX, reset_count) != ATT_OK) {
        goto out;
    }
    (void)snprintf(boot_id, boot_id_len, "%s", sp + 1);
    ok = true;
out:
    if (!ok && b.len > 0) {
        LOG_WARN("%s is malformed; treating the TPM as newly booted", path);
    }
    att_buf_cleanup(&b);
    return ok;
}

static att_rc write_boot_state(const struct agent *a)
{
    char path[4200];
    char line[128];
    int n;

    (void)snprintf(path, sizeof(path), "%s/boot.state", a->cfg.state_dir);
    n = snprintf(line, sizeof(line), "%u %s\n", a->reset_count, a->boot_id);
    return att_file_write_atomic(path, line, (size_t)n);
}

static att_rc extend_entry(struct agent *a, const struct att_ima_entry *e)
{
    uint8_t sha1[ATT_SHA1_LEN];
    uint8_t sha256[ATT_SHA256_LEN];
    att_rc rc = att_ima_entry_bank_digests(e, sha1, sha256);

    if (rc != ATT_OK) {
        return rc;
    }
    return att_tpm_pcr_extend(a->tpm, e->pcr, sha1, sha256);
}

/* Bring log and PCR into agreement at start or after a TPM reset (DESIGN §4). */
/*
 * Set the status from PCR value @p p against the log's replay. A last entry
 * that is logged but not in the PCR (an extend cut short by a crash, or one
 * whose TPM answer was lost) is extended now. A log that does not replay, or
 * a PCR that matches neither, is a bad status, not an error.
 */
static att_rc replay_check(struct agent *a, const uint8_t *p)
{
    uint8_t full[ATT_SHA256_LEN];
    uint8_t but_last[ATT_SHA256_LEN];
    size_t n = agent_log_count(a->log);
    att_rc rc = agent_log_replay(a->log, n, a->cfg.pcr, full);

    if (rc != ATT_OK) {
        set_status(a, false, "the log does not replay (a record's template digest is wrong)");
        return ATT_OK;
    }
    if (memcmp(full, p, ATT_SHA256_LEN) == 0) {
        set_status(a, true, "ok: %zu entries match PCR %u", n, a->cfg.pcr);
    } else if (n > 0 && agent_log_replay(a->log, n - 1, a->cfg.pcr, but_last) == ATT_OK &&
               memcmp(but_last, p, ATT_SHA256_LEN) == 0) {
        LOG_WARN("entry %zu was logged but not extended (a crash or a failed extend); extending "
                 "it now",
                 n - 1);
        rc = extend_entry(a, agent_log_entry(a->log, n - 1));
        if (rc != ATT_OK) {
            return rc;
        }
        set_status(a, true, "ok: %zu entries match PCR %u (finished an interrupted extend)", n,
                   a->cfg.pcr);
    } else {
        set_status(a, false,
                   "PCR %u does not equal the replay of the %zu-entry log (something else "
                   "extended it, or the log was altered)",
                   a->cfg.pcr, n);
    }
    return ATT_OK;
}

static att_rc recover(struct agent *a)
{
    att_rc rc = ATT_ERR_INTERNAL;
    static const uint8_t zero[ATT_SHA256_LEN];
    struct att_pcrs pcrs;
    const uint8_t *p;
    uint32_t saved_reset = 0;
    char saved_boot[64] = "";
    bool has_state;
    size_t n = agent_log_count(a->log);

    rc = att_tpm_pcr_read(a->tpm, 1u << a->cfg.pcr, &pcrs);
    if (rc != ATT_OK) {
        return rc;
    }
    p = pcrs.value[a->cfg.pcr];
    has_state = read_boot_state(a, &saved_reset, saved_boot, sizeof(saved_boot));
    if ((has_state && saved_reset == a->reset_count) || (!has_state && n > 0)) {
        (void)snprintf(a->boot_id, sizeof(a->boot_id), "%s", saved_boot);
        if (!has_state) {
            new_boot_id(a);
        }
        rc = replay_check(a, p);
        if (rc != ATT_OK) {
            return rc;
        }
        if (!has_state) {
            return write_boot_state(a);
        }
        return ATT_OK;
    }
    /* A new boot: the TPM was reset since this log was written. */
    if (n > 0) {
        char suffix[128];

        (void)snprintf(suffix, sizeof(suffix), "boot-%s", saved_boot[0] ? saved_boot : "unknown");
        rc = agent_log_rotate(a->log, suffix);
        if (rc != ATT_OK) {
            return rc;
        }
        a->gap_open = false; /* the old boot's gap went with its PCRs */
        a->gap_closing = false;
        a->gap_refused = 0;
        LOG_INFO("TPM reset seen (resetCount %u); previous log kept as measurements.%s.bin",
                 a->reset_count, suffix);
    }
    new_boot_id(a);
    rc = write_boot_state(a);
    if (rc != ATT_OK) {
        return rc;
    }
    if (memcmp(p, zero, ATT_SHA256_LEN) == 0) {
        set_status(a, true, "ok: new boot %s, empty log", a->boot_id);
    } else {
        set_status(a, false,
                   "PCR %u was already extended by something else in this boot before the "
                   "agent started",
                   a->cfg.pcr);
    }
    return ATT_OK;
}

/* Open the TPM and make EK and AK. Called at start and after a TPM reset. */
static att_rc tpm_up(struct agent *a)
{
    att_rc rc = ATT_ERR_TPM;
    struct att_tpm *t = NULL;

    att_buf_reset(&a->ek_cert_rsa);
    att_buf_reset(&a->ek_cert_ecc);
    att_buf_reset(&a->ek_pub);
    att_buf_reset(&a->ak_pub);
    /* Drop the previous context first: a TPM Reset took its objects, and
     * flushing them later would hit the new context's objects instead. */
    att_tpm_free_after_reset(a->tpm);
    a->tpm = NULL;
    rc = att_tpm_open(a->cfg.tcti, &t);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_tpm_flush_stale(t);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_tpm_read_ek_cert(t, ATT_KEY_RSA, &a->ek_cert_rsa);
    if (rc != ATT_OK && rc != ATT_ERR_NOT_FOUND) {
        goto out;
    }
    rc = att_tpm_read_ek_cert(t, ATT_KEY_ECC, &a->ek_cert_ecc);
    if (rc != ATT_OK && rc != ATT_ERR_NOT_FOUND) {
        goto out;
    }
    rc = att_tpm_ek_create(t, a->cfg.ek_alg, &a->ek_pub);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_tpm_ak_load_or_create(t, a->cfg.state_dir, a->cfg.ak_alg, &a->ak_pub);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_tpm_clock(t, &a->reset_count, &a->restart_count);
    if (rc != ATT_OK) {
        goto out;
    }
    a->tpm = t;
    t = NULL;
    rc = recover(a);
out:
    att_tpm_free(t);
    return rc;
}

/*
 * Make sure a->tpm is the TPM of the current boot. A changed resetCount (or a
 * TPM that stopped answering and came back) means the TPM was reset: our
 * transient keys are gone and the PCRs restarted, so bring everything up again.
 * Caller holds a->lock.
 */
static att_rc ensure_tpm(struct agent *a)
{
    uint32_t reset = 0;
    uint32_t restart = 0;

    if (a->tpm != NULL && att_tpm_clock(a->tpm, &reset, &restart) == ATT_OK) {
        if (reset == a->reset_count) {
            a->restart_count = restart;
            return ATT_OK;
        }
        LOG_WARN("TPM resetCount went from %u to %u: the host rebooted", a->reset_count, reset);
    }
    return tpm_up(a);
}

att_rc agent_new(const struct agent_config *cfg, struct agent **out)
{
    att_rc rc = ATT_ERR_INVALID_ARG;
    struct agent *a = NULL;
    char why[256];
    char host[256] = ""; /* set below when cfg->agent_id is NULL */

    if (cfg == NULL || out == NULL || cfg->tcti == NULL || cfg->state_dir == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (!att_pcr_meas_allowed(cfg->pcr, why, sizeof(why))) {
        LOG_ERR("%s", why);
        return ATT_ERR_INVALID_ARG;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return ATT_ERR_NOMEM;
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->adm_lock, NULL);
    att_buf_init(&a->ek_cert_rsa, ATT_PROTO_MAX_CERT);
    att_buf_init(&a->ek_cert_ecc, ATT_PROTO_MAX_CERT);
    att_buf_init(&a->ek_pub, ATT_PROTO_MAX_TPMBLOB);
    att_buf_init(&a->ak_pub, ATT_PROTO_MAX_TPMBLOB);
    a->cfg.pcr = cfg->pcr;
    a->cfg.ak_alg = cfg->ak_alg;
    a->cfg.ek_alg = cfg->ek_alg;
    a->cfg.net_check_s = cfg->net_check_s;
    if (cfg->agent_id == NULL) {
        if (gethostname(host, sizeof(host)) != 0) {
            (void)snprintf(host, sizeof(host), "unknown");
        }
        host[sizeof(host) - 1] = '\0';
    }
    if (agent_config_set(&a->cfg.tcti, cfg->tcti) != ATT_OK ||
        agent_config_set(&a->cfg.state_dir, cfg->state_dir) != ATT_OK ||
        agent_config_set(&a->cfg.listen, cfg->listen) != ATT_OK ||
        agent_config_set(&a->cfg.engine, cfg->engine) != ATT_OK ||
        agent_config_set(&a->cfg.agent_id, cfg->agent_id != NULL ? cfg->agent_id : host) !=
            ATT_OK) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = agent_log_open(a->cfg.state_dir, &a->log);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = quarantine_open(a->cfg.state_dir, a->cfg.engine, &a->quar);
    if (rc != ATT_OK) {
        LOG_ERR("cannot load the quarantine state in %s: %s", a->cfg.state_dir, att_rc_str(rc));
        goto out;
    }
    rc = agent_net_new(a->cfg.state_dir, a->cfg.net_check_s, &a->net);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = tpm_up(a);
    if (rc != ATT_OK) {
        goto out;
    }
    admission_load(a);
    vulnfeed_load(a);
    *out = a;
    a = NULL;
    rc = ATT_OK;
out:
    agent_free(a);
    return rc;
}

void agent_free(struct agent *a)
{
    if (a == NULL) {
        return;
    }
    att_tpm_free(a->tpm);
    agent_log_free(a->log);
    quarantine_free(a->quar);
    agent_net_free(a->net);
    att_buf_cleanup(&a->ek_cert_rsa);
    att_buf_cleanup(&a->ek_cert_ecc);
    att_buf_cleanup(&a->ek_pub);
    att_buf_cleanup(&a->ak_pub);
    agent_config_cleanup(&a->cfg);
    att_policy_free(a->admission);
    att_vulndb_free(a->vulndb);
    free(a->inventory);
    pthread_mutex_destroy(&a->adm_lock);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/*
 * The "log-gap" record (ima-buf): "state=open since=T error=E" when the log
 * file first refuses a write, "state=closed since=T until=T refused=N
 * error=E" once it takes one again. E is percent-escaped.
 */
static att_rc gap_entry(struct agent *a, bool open, struct att_ima_entry *e)
{
    char since[32];
    char until[32];
    struct att_buf b;
    att_rc rc;

    att_buf_init(&b, 1024);
    (void)att_rfc3339_format(a->gap_since, since, sizeof(since));
    (void)att_rfc3339_format(time(NULL), until, sizeof(until));
    if (open) {
        rc = att_buf_printf(&b, "state=open since=%s error=", since);
    } else {
        rc = att_buf_printf(&b, "state=closed since=%s until=%s refused=%llu error=", since, until,
                            (unsigned long long)a->gap_refused);
    }
    if (rc == ATT_OK) {
        rc = att_buf_append_escaped(&b, a->gap_error);
    }
    if (rc == ATT_OK) {
        rc = att_ima_entry_build_buf(e, a->cfg.pcr, ATT_IMA_GAP_RECORD, b.data, b.len);
    }
    att_buf_cleanup(&b);
    return rc;
}

static att_rc extend_last(struct agent *a)
{
    att_rc rc = extend_entry(a, agent_log_entry(a->log, agent_log_count(a->log) - 1));

    if (rc != ATT_OK) {
        set_status(a, false, "entry %zu is logged but extending PCR %u failed (%s)",
                   agent_log_count(a->log) - 1, a->cfg.pcr, att_rc_str(rc));
    }
    return rc;
}

/*
 * The log file refused a write: the measurement fails (the caller refuses
 * what it measured for), and the first refusal opens a gap. Its record is
 * kept in memory and extended, so every quote from now on attests that the
 * log is degraded; it is written ahead of the next record that fits.
 */
static void gap_open(struct agent *a)
{
    struct att_ima_entry g;

    a->gap_refused++;
    if (a->gap_open) {
        return;
    }
    memset(&g, 0, sizeof(g));
    a->gap_open = true;
    a->gap_since = time(NULL);
    (void)snprintf(a->gap_error, sizeof(a->gap_error), "%s", agent_log_error(a->log));
    LOG_ERR("measurement log degraded: %s; refusing measurements until it can be written",
            a->gap_error);
    if (gap_entry(a, true, &g) == ATT_OK && agent_log_append_volatile(a->log, &g) == ATT_OK) {
        (void)extend_last(a);
    } else {
        set_status(a, false, "the log cannot be written (%s) and its gap could not be recorded",
                   a->gap_error);
    }
    att_ima_entry_cleanup(&g);
}

/*
 * A gap's closing record is logged but extending it failed: extend it now,
 * unless the PCR holds it already (the TPM did the extend and only its
 * answer was lost, or recover() extended it when the TPM came back).
 * Caller holds the lock and ensure_tpm() succeeded.
 */
static att_rc gap_closing_extend(struct agent *a)
{
    struct att_pcrs pcrs;
    att_rc rc = att_tpm_pcr_read(a->tpm, 1u << a->cfg.pcr, &pcrs);

    return rc == ATT_OK ? replay_check(a, pcrs.value[a->cfg.pcr]) : rc;
}

/*
 * The log takes writes again: write the gap's closing record (after its
 * opening one) and extend it. The gap closes only when both are done; a
 * closing record that is logged but not extended stays pending and its
 * extend is retried by the next call. Caller holds the lock and
 * ensure_tpm() succeeded. On failure @p why (optional) names what failed.
 */
static att_rc gap_close(struct agent *a, char *why, size_t why_len)
{
    struct att_ima_entry g;
    att_rc rc;

    if (a->gap_closing) {
        rc = gap_closing_extend(a);
    } else {
        memset(&g, 0, sizeof(g));
        rc = gap_entry(a, false, &g);
        if (rc != ATT_OK) {
            att_set_why(why, why_len, "cannot build the log gap's closing record: %s",
                        att_rc_str(rc));
        } else {
            rc = agent_log_append(a->log, &g);
            if (rc != ATT_OK) {
                att_set_why(why, why_len, "the measurement log cannot be written: %s",
                            rc == ATT_ERR_IO ? agent_log_error(a->log) : att_rc_str(rc));
            }
        }
        att_ima_entry_cleanup(&g);
        if (rc != ATT_OK) {
            return rc;
        }
        a->gap_closing = true;
        rc = extend_last(a);
    }
    if (rc != ATT_OK) {
        att_set_why(why, why_len,
                    "the log gap's closing record is logged but extending PCR %u failed: %s",
                    a->cfg.pcr, att_rc_str(rc));
        return rc;
    }
    LOG_WARN("measurement log writable again; %llu measurements were refused since the gap "
             "opened (%s)",
             (unsigned long long)a->gap_refused, a->gap_error);
    a->gap_open = false;
    a->gap_closing = false;
    a->gap_refused = 0;
    return ATT_OK;
}

att_rc agent_log_gap_close(struct agent *a, char *why, size_t why_len)
{
    att_rc rc = ATT_OK;

    pthread_mutex_lock(&a->lock);
    if (a->gap_open) {
        rc = ensure_tpm(a);
        if (rc != ATT_OK) {
            att_set_why(why, why_len,
                        "the measurement log gap cannot be closed: the TPM is unavailable: %s",
                        att_rc_str(rc));
        } else if (a->gap_open) { /* a TPM reset starts a new log, without the gap */
            rc = gap_close(a, why, why_len);
        }
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

bool agent_log_degraded(struct agent *a, char *why, size_t why_len)
{
    bool open;

    pthread_mutex_lock(&a->lock);
    open = a->gap_open;
    if (open && a->gap_closing) {
        att_set_why(why, why_len,
                    "the log gap's closing record is logged but not yet extended into PCR %u",
                    a->cfg.pcr);
    } else if (open) {
        att_set_why(why, why_len, "the measurement log cannot be written: %s", a->gap_error);
    }
    pthread_mutex_unlock(&a->lock);
    return open;
}

/* Append one entry and extend it, in that order (DESIGN §4). Caller holds the lock. */
static att_rc log_and_extend(struct agent *a, struct att_ima_entry *e)
{
    att_rc rc;
    const char *fault = getenv("ATT_FAULT_INJECT");

    rc = a->gap_open ? gap_close(a, NULL, 0) : ATT_OK;
    if (rc == ATT_OK) {
        rc = agent_log_append(a->log, e);
    }
    if (rc == ATT_ERR_IO) {
        gap_open(a); /* opens the gap, or counts one more refusal in it */
    }
    if (rc != ATT_OK) {
        return rc;
    }
    if (fault != NULL && strcmp(fault, "kill-after-append") == 0) {
        LOG_WARN("fault injection: SIGKILL between append and extend");
        (void)raise(SIGKILL);
    }
    return extend_last(a);
}

att_rc agent_measure_file(struct agent *a, const char *path, char *reply, size_t reply_len)
{
    att_rc rc = ATT_ERR_IO;
    uint8_t digest[ATT_SHA256_LEN];
    char hex[2 * ATT_SHA256_LEN + 1];
    struct att_ima_entry e;
    struct att_buf name;
    struct stat st;
    int fd = -1;
    bool locked = false;

    memset(&e, 0, sizeof(e));
    att_buf_init(&name, ATT_IMA_MAX_EVENT_NAME);
    if (path == NULL || path[0] != '/') {
        (void)snprintf(reply, reply_len, "error %s: not an absolute path", path ? path : "");
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        (void)snprintf(reply, reply_len, "error %s: %s", path, strerror(errno));
        rc = errno == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        (void)snprintf(reply, reply_len, "error %s: not a regular file", path);
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    rc = att_sha256_fd(fd, digest);
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "error %s: cannot read: %s", path, att_rc_str(rc));
        goto out;
    }
    att_hex_encode(digest, sizeof(digest), hex);
    if (att_buf_printf(&name, "host:%s", path) != ATT_OK) {
        (void)snprintf(reply, reply_len, "error %s: path too long", path);
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    pthread_mutex_lock(&a->lock);
    locked = true;
    rc = ensure_tpm(a);
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "error %s: TPM unavailable: %s", path, att_rc_str(rc));
        goto out;
    }
    if (agent_log_has(a->log, (const char *)name.data, digest, sizeof(digest))) {
        (void)snprintf(reply, reply_len, "unchanged sha256:%s %s", hex, path);
        rc = ATT_OK;
        goto out;
    }
    rc = att_ima_entry_build_ng(&e, a->cfg.pcr, digest, (const char *)name.data);
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "error %s: %s", path, att_rc_str(rc));
        goto out;
    }
    rc = log_and_extend(a, &e);
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "error %s: %s", path,
                       rc == ATT_ERR_IO && a->gap_open ? a->gap_error : att_rc_str(rc));
        goto out;
    }
    (void)snprintf(reply, reply_len, "measured sha256:%s %s", hex, path);
    LOG_INFO("measured sha256:%s %s", hex, path);
    rc = ATT_OK;
out:
    if (locked) {
        pthread_mutex_unlock(&a->lock);
    }
    if (fd >= 0) {
        (void)close(fd);
    }
    att_ima_entry_cleanup(&e);
    att_buf_cleanup(&name);
    return rc;
}

att_rc agent_identity(struct agent *a, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_identity id;

    memset(&id, 0, sizeof(id));
    pthread_mutex_lock(&a->lock);
    rc = ensure_tpm(a);
    if (rc != ATT_OK) {
        goto out;
    }
    id.version = ATT_PROTO_VERSION;
    id.agent_id = a->cfg.agent_id;
    id.ek_alg = (char *)(uintptr_t)att_key_alg_str(a->cfg.ek_alg); /* borrowed, never freed */
    id.ek_cert_rsa = a->ek_cert_rsa.len > 0 ? a->ek_cert_rsa.data : NULL;
    id.ek_cert_rsa_len = a->ek_cert_rsa.len;
    id.ek_cert_ecc = a->ek_cert_ecc.len > 0 ? a->ek_cert_ecc.data : NULL;
    id.ek_cert_ecc_len = a->ek_cert_ecc.len;
    id.ek_pub = a->ek_pub.data;
    id.ek_pub_len = a->ek_pub.len;
    id.ak_pub = a->ak_pub.data;
    id.ak_pub_len = a->ak_pub.len;
    id.meas_pcr = a->cfg.pcr;
    id.boot_id = a->boot_id;
    rc = att_identity_encode(&id, out);
out:
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* This host's AK Name in hex, "" before the TPM was ever reached. */
static void ak_name_hex(struct agent *a, char *out, size_t out_len)
{
    uint8_t name[ATT_TPM_NAME_MAX];
    size_t len = sizeof(name);

    out[0] = '\0';
    pthread_mutex_lock(&a->lock);
    if (a->ak_pub.len > 0 && out_len > 2 * sizeof(name) &&
        att_tpm_public_name(a->ak_pub.data, a->ak_pub.len, name, &len) == ATT_OK) {
        att_hex_encode(name, len, out);
    }
    pthread_mutex_unlock(&a->lock);
}

/*
 * Carry out each order of @p r (quarantine.h) and put the acknowledgements in
 * @p ev; on failure @p ev is left with none (ev->acks NULL).
 */
static att_rc handle_orders(struct agent *a, const struct att_evidence_request *r,
                            struct att_evidence *ev)
{
    char ak[2 * ATT_TPM_NAME_MAX + 1];
    size_t i;

    if (r->n_orders == 0) {
        return ATT_OK;
    }
    ev->acks = calloc(r->n_orders, sizeof(*ev->acks));
    if (ev->acks == NULL) {
        return ATT_ERR_NOMEM;
    }
    ak_name_hex(a, ak, sizeof(ak));
    for (i = 0; i < r->n_orders; i++) {
        struct att_order_ack ack;
        struct att_buf b;
        att_rc rc;

        if (!quarantine_handle(a->quar, a, ak, r->orders[i].data, r->orders[i].len, &ack)) {
            continue; /* not acknowledged: the verifier sends it again */
        }
        att_buf_init(&b, ATT_PROTO_MAX_ORDER);
        rc = att_order_ack_encode(&ack, &b);
        att_order_ack_cleanup(&ack);
        if (rc != ATT_OK) {
            att_buf_cleanup(&b);
            att_blobs_free(ev->acks, ev->n_acks);
            ev->acks = NULL;
            ev->n_acks = 0;
            return rc;
        }
        ev->acks[ev->n_acks].data = att_buf_steal(&b, &ev->acks[ev->n_acks].len);
        ev->n_acks++;
    }
    if (ev->n_acks == 0) {
        free(ev->acks); /* an empty list is absent on the wire */
        ev->acks = NULL;
    }
    return ATT_OK;
}

bool agent_quarantine_refuses(struct agent *a, const char *container_id, const char *image_id,
                              char *why, size_t why_len)
{
    return quarantine_refuses(a->quar, container_id, image_id, why, why_len);
}

att_rc agent_evidence(struct agent *a, const uint8_t *req, size_t req_len, struct att_buf *out,
                      unsigned *status, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_evidence_request r;
    struct att_evidence ev;
    struct att_buf attest;
    struct att_buf sig;
    const uint8_t *log;
    size_t log_len = 0;
    size_t count;
    char *netstats = NULL;

    memset(&ev, 0, sizeof(ev));
    att_buf_init(&attest, ATT_PROTO_MAX_TPMBLOB);
    att_buf_init(&sig, ATT_PROTO_MAX_TPMBLOB);
    *status = 400;
    rc = att_evidence_request_decode(req, req_len, &r, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    if ((r.pcr_mask & (1u << a->cfg.pcr)) == 0) {
        (void)snprintf(why, why_len, "pcr_mask 0x%06x does not include the measurement PCR %u",
                       r.pcr_mask, a->cfg.pcr);
        att_evidence_request_cleanup(&r);
        return ATT_ERR_INVALID_ARG;
    }
    if (r.admission != NULL) {
        rc = agent_admission_set(a, r.admission, why, why_len);
        if (rc != ATT_OK) {
            att_evidence_request_cleanup(&r);
            return rc;
        }
    }
    if (r.vulnfeed != NULL) {
        char fwhy[256] = "";

        /* a feed we cannot take keeps the old one: our evidence names its digest */
        if (agent_vulnfeed_set(a, r.vulnfeed, r.vulnfeed_len, fwhy, sizeof(fwhy)) != ATT_OK) {
            LOG_ERR("refusing the verifier's vulnerability feed: %s", fwhy);
        }
    }
    /* Orders first, so the entries that record them are in this evidence's log. */
    rc = handle_orders(a, &r, &ev);
    att_evidence_request_cleanup(&r);
    if (rc != ATT_OK) {
        *status = 500;
        (void)snprintf(why, why_len, "cannot answer the orders: %s", att_rc_str(rc));
        return rc;
    }
    netstats = agent_net_stats(a->net); /* before a->lock: agent_net logs under its own lock */
    pthread_mutex_lock(&a->lock);
    rc = ensure_tpm(a);
    if (rc != ATT_OK) {
        *status = 503;
        (void)snprintf(why, why_len, "TPM unavailable: %s", att_rc_str(rc));
        goto out;
    }
    count = agent_log_count(a->log);
    if (r.log_offset > count) {
        rc = ATT_ERR_INVALID_ARG;
        (void)snprintf(why, why_len,
                       "log_offset %llu is beyond the end of the log (%zu entries, boot %s)",
                       (unsigned long long)r.log_offset, count, a->boot_id);
        goto out;
    }
    rc = att_tpm_quote(a->tpm, r.nonce, sizeof(r.nonce), r.pcr_mask, &attest, &sig, &ev.pcrs);
    if (rc != ATT_OK) {
        *status = 503;
        (void)snprintf(why, why_len, "TPM quote failed: %s", att_rc_str(rc));
        goto out;
    }
    log = agent_log_bytes_from(a->log, (size_t)r.log_offset, &log_len);
    ev.version = ATT_PROTO_VERSION;
    ev.attest = attest.data;
    ev.attest_len = attest.len;
    ev.sig = sig.data;
    ev.sig_len = sig.len;
    ev.meas_pcr = a->cfg.pcr;
    ev.log_offset = r.log_offset;
    ev.log_count = count;
    ev.log = (uint8_t *)(uintptr_t)log; /* borrowed for encoding only */
    ev.log_len = log_len;
    ev.reset_count = a->reset_count;
    ev.restart_count = a->restart_count;
    ev.boot_id = a->boot_id;
    ev.log_consistent = a->log_consistent;
    ev.log_status = a->log_status;
    pthread_mutex_lock(&a->adm_lock);
    ev.inventory = a->inventory; /* borrowed under adm_lock for encoding */
    ev.netstats = netstats;
    if (a->vulndb != NULL) {
        ev.has_vulnfeed = true;
        memcpy(ev.vulnfeed, a->vulndb->digest, sizeof(ev.vulnfeed));
    }
    rc = att_evidence_encode(&ev, out);
    pthread_mutex_unlock(&a->adm_lock);
    if (rc != ATT_OK) {
        *status = 500;
        (void)snprintf(why, why_len, "cannot encode evidence: %s", att_rc_str(rc));
        goto out;
    }
    *status = 200;
out:
    pthread_mutex_unlock(&a->lock);
    att_buf_cleanup(&attest);
    att_buf_cleanup(&sig);
    att_blobs_free(ev.acks, ev.n_acks);
    free(netstats);
    return rc;
}

att_rc agent_activate(struct agent *a, const uint8_t *req, size_t req_len, struct att_buf *out,
                      unsigned *status, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_activate_request r;
    struct att_activate_response resp;
    struct att_buf secret;

    memset(&resp, 0, sizeof(resp));
    att_buf_init(&secret, 128);
    *status = 400;
    rc = att_activate_request_decode(req, req_len, &r, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    pthread_mutex_lock(&a->lock);
    rc = ensure_tpm(a);
    if (rc != ATT_OK) {
        *status = 503;
        (void)snprintf(why, why_len, "TPM unavailable: %s", att_rc_str(rc));
        goto out;
    }
    rc = att_tpm_activate_credential(a->tpm, r.cred_blob, r.cred_blob_len, r.enc_secret,
                                     r.enc_secret_len, &secret);
    if (rc != ATT_OK) {
        /* Not for this TPM or this AK (or tampered): a refusal, not a TPM outage. */
        (void)snprintf(why, why_len,
                       "credential activation failed: the credential is not for this TPM's EK "
                       "and AK (%s)",
                       att_rc_str(rc));
        goto out;
    }
    resp.secret = secret.data;
    resp.secret_len = secret.len;
    rc = att_activate_response_encode(&resp, out);
    if (rc != ATT_OK) {
        *status = 500;
        goto out;
    }
    *status = 200;
    LOG_INFO("credential activated for a verifier (enrollment)");
out:
    pthread_mutex_unlock(&a->lock);
    /* Lock order: quarantine's lock before a->lock (it logs), so never under a->lock. */
    if (rc == ATT_OK && r.verifier_key != NULL) {
        rc = quarantine_set_key(a->quar, r.verifier_key, r.verifier_key_len, why, why_len);
        if (rc != ATT_OK) {
            *status = rc == ATT_ERR_EXISTS ? 409 : 400;
            att_buf_reset(out);
        }
    }
    att_activate_request_cleanup(&r);
    if (secret.data != NULL) {
        att_cleanse(secret.data, secret.len);
    }
    att_buf_cleanup(&secret);
    return rc;
}

/* Build, dedupe, log and extend one entry under the lock. */
static att_rc record(struct agent *a, const char *name, const uint8_t *digest, const uint8_t *buf,
                     size_t len, bool *is_new)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_ima_entry e;
    uint8_t d[ATT_SHA256_LEN];

    memset(&e, 0, sizeof(e));
    if (is_new != NULL) {
        *is_new = false;
    }
    if (buf != NULL) {
        rc = att_sha256(buf, len, d);
        if (rc != ATT_OK) {
            return rc;
        }
        digest = d;
    }
    pthread_mutex_lock(&a->lock);
    /* Most calls (every sweep tick re-reports what it saw) are duplicates: no TPM round trip. */
    if (agent_log_has(a->log, name, digest, ATT_SHA256_LEN)) {
        rc = ATT_OK;
        goto out;
    }
    rc = ensure_tpm(a);
    if (rc != ATT_OK) {
        goto out;
    }
    /* ensure_tpm may have started the log of a new boot: look again */
    if (agent_log_has(a->log, name, digest, ATT_SHA256_LEN)) {
        rc = ATT_OK;
        goto out;
    }
    rc = buf != NULL ? att_ima_entry_build_buf(&e, a->cfg.pcr, name, buf, len)
                     : att_ima_entry_build_ng(&e, a->cfg.pcr, digest, name);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = log_and_extend(a, &e);
    if (rc == ATT_OK && is_new != NULL) {
        *is_new = true;
    }
out:
    pthread_mutex_unlock(&a->lock);
    att_ima_entry_cleanup(&e);
    return rc;
}

att_rc agent_record_file(struct agent *a, const char *name, const uint8_t digest[32], bool *is_new)
{
    if (a == NULL || name == NULL || digest == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    return record(a, name, digest, NULL, 0, is_new);
}

att_rc agent_record_buf(struct agent *a, const char *name, const uint8_t *buf, size_t len,
                        bool *is_new)
{
    if (a == NULL || name == NULL || buf == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    return record(a, name, NULL, buf, len, is_new);
}

/* The admission policy kept from a previous run (the verifier resends it anyway). */
static void admission_load(struct agent *a)
{
    char path[4200];
    struct att_buf b;
    char why[256] = "";

    (void)snprintf(path, sizeof(path), "%s/%s", a->cfg.state_dir, ADMISSION_FILE);
    att_buf_init(&b, ATT_PROTO_MAX_ADMISSION);
    if (att_file_read(path, &b) == ATT_OK && b.len > 0 &&
        agent_admission_set(a, (const char *)b.data, why, sizeof(why)) != ATT_OK) {
        LOG_WARN("ignoring %s: %s", path, why);
    }
    att_buf_cleanup(&b);
}

att_rc agent_admission_set(struct agent *a, const char *json, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_policy *p = NULL;
    uint8_t d[ATT_SHA256_LEN];
    char path[4200];
    size_t len = strlen(json);

    rc = att_sha256(json, len, d);
    if (rc != ATT_OK) {
        return rc;
    }
    pthread_mutex_lock(&a->adm_lock);
    if (a->admission != NULL && memcmp(d, a->admission_digest, sizeof(d)) == 0) {
        rc = ATT_OK; /* unchanged: the usual case on every poll */
        goto out;
    }
    rc = att_policy_parse_json(json, len, &p, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    (void)snprintf(path, sizeof(path), "%s/%s", a->cfg.state_dir, ADMISSION_FILE);
    rc = att_file_write_atomic(path, json, len);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "cannot store the admission policy");
        goto out;
    }
    att_policy_free(a->admission);
    a->admission = p;
    p = NULL;
    memcpy(a->admission_digest, d, sizeof(d));
    LOG_INFO("admission policy updated (%zu container policies)", a->admission->n_containers);
    rc = ATT_OK;
out:
    pthread_mutex_unlock(&a->adm_lock);
    att_policy_free(p);
    return rc;
}

att_rc agent_admission_check(struct agent *a, const char *image_id, char *policy_name,
                             size_t policy_len, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_POLICY;
    const struct att_container_policy *c;

    pthread_mutex_lock(&a->adm_lock);
    if (a->admission == NULL) {
        (void)snprintf(why, why_len,
                       "no admission policy from the verifier yet: refusing every start "
                       "(fail closed)");
        goto out;
    }
    c = att_policy_container_for_image(a->admission, image_id);
    if (c == NULL) {
        (void)snprintf(why, why_len, "image %s is not allowed by the admission policy", image_id);
        goto out;
    }
    (void)snprintf(policy_name, policy_len, "%s", c->name);
    rc = ATT_OK;
out:
    pthread_mutex_unlock(&a->adm_lock);
    return rc;
}

/* The vulnerability feed kept from a previous run (the verifier resends a newer one). */
static void vulnfeed_load(struct agent *a)
{
    char path[4200];
    struct att_buf b;
    char why[256] = "";

    (void)snprintf(path, sizeof(path), "%s/%s", a->cfg.state_dir, VULNFEED_FILE);
    att_buf_init(&b, ATT_PROTO_MAX_VULNFEED);
    if (att_file_read(path, &b) == ATT_OK && b.len > 0 &&
        agent_vulnfeed_set(a, b.data, b.len, why, sizeof(why)) != ATT_OK) {
        LOG_WARN("ignoring %s: %s", path, why);
    }
    att_buf_cleanup(&b);
}

att_rc agent_vulnfeed_set(struct agent *a, const uint8_t *text, size_t len, char *why,
                          size_t why_len)
{
    att_rc rc;
    struct att_vulndb *db = NULL;
    char path[4200];
    char hex[2 * ATT_SHA256_LEN + 1];

    rc = att_vulndb_parse(text, len, &db, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    pthread_mutex_lock(&a->adm_lock);
    if (a->vulndb != NULL && memcmp(a->vulndb->digest, db->digest, ATT_SHA256_LEN) == 0) {
        goto out; /* unchanged */
    }
    (void)snprintf(path, sizeof(path), "%s/%s", a->cfg.state_dir, VULNFEED_FILE);
    rc = att_file_write_atomic(path, text, len);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "cannot store the vulnerability feed");
        goto out;
    }
    att_vulndb_free(a->vulndb);
    a->vulndb = db;
    db = NULL;
    memset(a->vcache, 0, sizeof(a->vcache)); /* verdicts of the old feed: gone */
    att_hex_encode(a->vulndb->digest, ATT_SHA256_LEN, hex);
    LOG_INFO("vulnerability feed %.12s: %zu entries", hex, a->vulndb->n_entries);
out:
    pthread_mutex_unlock(&a->adm_lock);
    att_vulndb_free(db);
    return rc;
}

att_rc agent_vuln_check(struct agent *a, const char *policy_name, const struct att_inventory *inv,
                        const uint8_t inv_digest[32], const char *inv_error, char *why,
                        size_t why_len)
{
    att_rc rc = ATT_ERR_POLICY;
    const struct att_container_policy *c;
    const struct att_vuln_policy *vp;
    struct att_vuln_match *m = NULL;
    size_t n = 0;
    size_t i;
    uint8_t key[ATT_SHA256_LEN];
    uint8_t mat[4 * ATT_SHA256_LEN];
    uint64_t now = (uint64_t)time(NULL);
    uint64_t max_age;
    uint64_t until;
    struct att_vuln_judgement jd;
    struct vuln_verdict *slot;
    char fresh[200];

    pthread_mutex_lock(&a->adm_lock);
    c = att_policy_container_by_name(a->admission, policy_name);
    vp = c != NULL ? c->vulns : NULL;
    if (vp == NULL) {
        rc = ATT_OK; /* no vulnerability bar */
        goto out;
    }
    if (inv == NULL) {
        (void)snprintf(why, why_len, "cannot read the image's package inventory: %s",
                       inv_error != NULL ? inv_error : "unknown error");
        goto out;
    }
    if (a->vulndb == NULL) {
        (void)snprintf(why, why_len,
                       "policy %s has a vulnerability bar but no vulnerability feed has come "
                       "from the verifier yet: refusing (fail closed)",
                       policy_name);
        goto out;
    }
    max_age = vp->max_feed_age > 0 ? vp->max_feed_age : ATT_VULN_DEFAULT_MAX_AGE;
    if (!att_vulndb_fresh(a->vulndb, now, max_age, fresh, sizeof(fresh))) {
        (void)snprintf(why, why_len, "refusing to judge the image's packages: %s", fresh);
        goto out;
    }
    if (!att_vuln_judgeable(inv, why, why_len)) {
        goto out;
    }
    memcpy(mat, inv_digest, ATT_SHA256_LEN);
    memcpy(mat + ATT_SHA256_LEN, a->vulndb->digest, ATT_SHA256_LEN);
    memcpy(mat + 2 * ATT_SHA256_LEN, a->admission_digest, ATT_SHA256_LEN);
    if (att_sha256(policy_name, strlen(policy_name), mat + 3 * ATT_SHA256_LEN) != ATT_OK ||
        att_sha256(mat, sizeof(mat), key) != ATT_OK) {
        (void)snprintf(why, why_len, "cannot hash the verdict key");
        goto out;
    }
    for (i = 0; i < VULN_CACHE; i++) {
        slot = &a->vcache[i];
        if (slot->used && memcmp(slot->key, key, sizeof(key)) == 0 && now < slot->valid_until) {
            rc = slot->refuse ? ATT_ERR_POLICY : ATT_OK;
            (void)snprintf(why, why_len, "%s", slot->why);
            goto out;
        }
    }
    if (att_vulndb_match(a->vulndb, inv, &m, &n) != ATT_OK) {
        (void)snprintf(why, why_len, "out of memory matching the image's packages");
        goto out;
    }
    att_vuln_judge(vp, m, n, now, &jd);
    until = a->vulndb->feed_time + max_age;
    for (i = 0; i < vp->n_allow; i++) {
        if (vp->allow[i].expires_at > now && vp->allow[i].expires_at < until) {
            until = vp->allow[i].expires_at;
        }
    }
    slot = &a->vcache[a->vcache_next];
    a->vcache_next = (a->vcache_next + 1) % VULN_CACHE;
    memcpy(slot->key, key, sizeof(key));
    slot->used = true;
    slot->valid_until = until;
    slot->refuse = jd.n_over > 0;
    if (jd.n_over > 0) {
        (void)snprintf(slot->why, sizeof(slot->why),
                       "%zu known vulnerabilities over the bar of policy %s: %s", jd.n_over,
                       policy_name, jd.worst);
    } else {
        (void)snprintf(slot->why, sizeof(slot->why),
                       "%zu known vulnerabilities, none over the bar (%zu accepted)", jd.n_findings,
                       jd.n_allowed);
    }
    (void)snprintf(why, why_len, "%s", slot->why);
    rc = slot->refuse ? ATT_ERR_POLICY : ATT_OK;
out:
    pthread_mutex_unlock(&a->adm_lock);
    free(m);
    return rc;
}

struct agent_net *agent_net_of(struct agent *a)
{
    return a != NULL ? a->net : NULL;
}

att_rc agent_net_policy(struct agent *a, const char *name, const char *image_id, char *name_out,
                        size_t name_len, struct att_net_policy **np)
{
    const struct att_container_policy *c = NULL;
    att_rc rc = ATT_OK;

    *np = NULL;
    pthread_mutex_lock(&a->adm_lock);
    if (a->admission == NULL) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (name != NULL && name[0] != '\0') {
        c = att_policy_container_by_name(a->admission, name);
    }
    if (c == NULL && image_id != NULL) {
        c = att_policy_container_for_image(a->admission, image_id);
    }
    if (c == NULL) {
        goto out;
    }
    (void)snprintf(name_out, name_len, "%s", c->name);
    rc = att_net_policy_dup(c->network, np);
out:
    pthread_mutex_unlock(&a->adm_lock);
    return rc;
}

void agent_set_inventory(struct agent *a, const char *text)
{
    char *n = text != NULL && text[0] != '\0' ? strdup(text) : NULL;

    pthread_mutex_lock(&a->adm_lock);
    free(a->inventory);
    a->inventory = n;
    pthread_mutex_unlock(&a->adm_lock);
}
