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
#include "attest/netpolicy.h"
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
    free(a->containers);
    for (i = 0; i < a->n_pkgs; i++) {
        free(a->pkgs[i].body);
    }
    free(a->pkgs);
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
        return ATT_OK; /* the hex below is for the failure messages only */
    case ATT_POLICY_UNKNOWN_PATH:
        att_hex_encode(e->digest, e->digest_len, hex);
        return att_appraisal_add(a, ATT_FIND_FAIL, "not-in-policy", idx,
                                 "entry %lld: %s (sha256:%s) has no reference value in the policy",
                                 (long long)idx, e->name, hex);
    case ATT_POLICY_DIGEST_MISMATCH:
        break;
    }
    ref = att_policy_find(policy, path);
    att_hex_encode(e->digest, e->digest_len, hex);
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

/* ---- containers ---------------------------------------------------------- */

static bool is_cid(const char *s, size_t len)
{
    size_t i;

    if (len != ATT_CONTAINER_ID_LEN) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/*
 * Which container an entry is about, or NULL for a host entry:
 * "container:<id>", "violation:<id>", "admission:<id>", "netpolicy:<id>" and
 * "netdrift:<id>" records (and the others listed below), "<id>:<path>" files.
 */
static const char *container_of(const struct att_ima_entry *e, char id[ATT_CONTAINER_ID_LEN + 1])
{
    const char *n = e->name;
    const char *colon = strchr(n, ':');

    if (colon == NULL) {
        return NULL;
    }
    if ((strncmp(n, "container:", 10) == 0 || strncmp(n, "violation:", 10) == 0 ||
         strncmp(n, "admission:", 10) == 0 || strncmp(n, "quarantine:", 11) == 0 ||
         strncmp(n, "rootfs:", 7) == 0 || strncmp(n, "packages:", 9) == 0 ||
         strncmp(n, ATT_NET_RECORD_POLICY, sizeof(ATT_NET_RECORD_POLICY) - 1) == 0 ||
         strncmp(n, ATT_NET_RECORD_DRIFT, sizeof(ATT_NET_RECORD_DRIFT) - 1) == 0) &&
        is_cid(colon + 1, strlen(colon + 1))) {
        memcpy(id, colon + 1, ATT_CONTAINER_ID_LEN + 1);
        return id;
    }
    if (is_cid(n, (size_t)(colon - n))) {
        memcpy(id, n, ATT_CONTAINER_ID_LEN);
        id[ATT_CONTAINER_ID_LEN] = '\0';
        return id;
    }
    return NULL;
}

static struct att_container_verdict *container_get(struct att_appraisal *a, const char *id)
{
    size_t i;
    struct att_container_verdict *n;

    for (i = 0; i < a->n_containers; i++) {
        if (strcmp(a->containers[i].id, id) == 0) {
            return &a->containers[i];
        }
    }
    n = realloc(a->containers, (a->n_containers + 1) * sizeof(*n));
    if (n == NULL) {
        return NULL;
    }
    a->containers = n;
    n = &a->containers[a->n_containers++];
    memset(n, 0, sizeof(*n));
    (void)snprintf(n->id, sizeof(n->id), "%s", id);
    n->entry = -1;
    return n;
}

static att_rc container_fail(struct att_appraisal *a, struct att_container_verdict *c,
                             const char *code, int64_t idx, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Record a container failure: the first one becomes its verdict's reason. */
static att_rc container_fail(struct att_appraisal *a, struct att_container_verdict *c,
                             const char *code, int64_t idx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!c->is_failed) {
        c->is_failed = true;
        (void)snprintf(c->code, sizeof(c->code), "%s", code);
        (void)snprintf(c->reason, sizeof(c->reason), "%s", msg);
        c->entry = idx;
    }
    return att_appraisal_add(a, ATT_FIND_INFO, "container-failed", idx, "container %.12s: %s",
                             c->id, msg);
}

/* Value of "key=" in a space-separated record, copied into out ("" if absent). */
static void field(const uint8_t *buf, size_t len, const char *key, char *out, size_t out_len)
{
    size_t klen = strlen(key);
    size_t i = 0;

    out[0] = '\0';
    while (i < len) {
        size_t j = i;

        while (j < len && buf[j] != ' ') {
            j++;
        }
        if (j - i > klen && memcmp(buf + i, key, klen) == 0 && buf[i + klen] == '=') {
            size_t vlen = j - i - klen - 1;

            if (vlen >= out_len) {
                vlen = out_len - 1;
            }
            memcpy(out, buf + i + klen + 1, vlen);
            out[vlen] = '\0';
            return;
        }
        i = j + 1;
    }
}

static bool list_has(const char *csv, const char *item)
{
    size_t n = strlen(item);
    const char *p = csv;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0')) {
            return true;
        }
        p = strchr(p, ',');
        p = p != NULL ? p + 1 : NULL;
    }
    return false;
}

static bool allows_image(const struct att_container_policy *cp, const char *image)
{
    size_t i;

    for (i = 0; i < cp->n_images; i++) {
        if (strcmp(cp->images[i], image) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The policy a container's earlier records chose: by name (it may have been
 * chosen by label), else by its image; NULL before any identity record.
 */
static const struct att_container_policy *current_policy(const struct att_policy *policy,
                                                         const struct att_container_verdict *c)
{
    const struct att_container_policy *cp =
        c->policy[0] != '\0' ? att_policy_container_by_name(policy, c->policy) : NULL;

    if (cp != NULL && allows_image(cp, c->image)) {
        return cp;
    }
    return c->image[0] != '\0' ? att_policy_container_for_image(policy, c->image) : NULL;
}

/*
 * One executable or library of a container against the container policy
 * @p cp (NULL: none allowed the image). A failure is recorded on the
 * container; @p passed (optional) says whether the file was allowed.
 */
static att_rc judge_file(struct att_appraisal *a, struct att_container_verdict *c,
                         const struct att_container_policy *cp, const char *path,
                         const uint8_t digest[ATT_SHA256_LEN], int64_t idx, bool *passed)
{
    char hex[2 * ATT_SHA256_LEN + 1];

    if (passed != NULL) {
        *passed = false;
    }
    if (cp == NULL) {
        return container_fail(a, c, c->image[0] ? "image-not-allowed" : "unknown-container", idx,
                              "%s ran in a container %s", path,
                              c->image[0] ? "whose image no policy allows"
                                          : "without an identity record");
    }
    if (passed != NULL) {
        *passed = true;
    }
    if (att_container_policy_excludes(cp, path)) {
        return ATT_OK;
    }
    switch (att_policy_check(cp->files, path, digest)) {
    case ATT_POLICY_ALLOWED:
        return ATT_OK;
    case ATT_POLICY_UNKNOWN_PATH:
        if (passed != NULL) {
            *passed = false;
        }
        att_hex_encode(digest, ATT_SHA256_LEN, hex);
        return container_fail(a, c, "unknown-binary", idx,
                              "%s (sha256:%.16s...) is not in policy %s", path, hex, cp->name);
    case ATT_POLICY_DIGEST_MISMATCH:
        break;
    }
    if (passed != NULL) {
        *passed = false;
    }
    att_hex_encode(digest, ATT_SHA256_LEN, hex);
    return container_fail(a, c, "changed-digest", idx, "%s has sha256:%.16s..., not allowed by %s",
                          path, hex, cp->name);
}

static int unhex(uint8_t ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/*
 * "rootfs:<id>" (ima-buf): the prestart hook's measurement of the rootfs about
 * to run, one "<64 hex sha256> <path>\n" line per ELF executable and library,
 * the path's bytes outside '!'..'~' and '%' written as %XX (one log entry and
 * one PCR extend per up to 64 KiB of lines, not per file). Each line is judged
 * like a "<id>:<path>" entry; the first failing line fails the container.
 */
static att_rc appraise_rootfs(const struct att_ima_entry *e, struct att_appraisal *a,
                              struct att_container_verdict *c,
                              const struct att_container_policy *cp, int64_t idx)
{
    const uint8_t *p = e->buf;
    const uint8_t *end;
    char path[ATT_POLICY_MAX_PATH];
    uint8_t digest[ATT_SHA256_LEN];

    if (e->tmpl != ATT_IMA_TEMPLATE_BUF || e->buf == NULL) {
        return container_fail(a, c, "malformed-record", idx, "rootfs record is not ima-buf");
    }
    end = e->buf + e->buf_len; /* not before the NULL check: NULL + n is undefined */
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = 0;
        size_t i;
        bool passed;
        att_rc rc;

        if (nl == NULL || nl - p < 2 * ATT_SHA256_LEN + 2 || p[2 * ATT_SHA256_LEN] != ' ' ||
            p[2 * ATT_SHA256_LEN + 1] != '/') {
            return container_fail(a, c, "malformed-record", idx, "rootfs record line malformed");
        }
        for (i = 0; i < ATT_SHA256_LEN; i++) {
            int hi = unhex(p[2 * i]);
            int lo = unhex(p[2 * i + 1]);

            if (hi < 0 || lo < 0) {
                return container_fail(a, c, "malformed-record", idx,
                                      "rootfs record digest malformed");
            }
            digest[i] = (uint8_t)(hi * 16 + lo);
        }
        for (i = 2 * ATT_SHA256_LEN + 1; p + i < nl; i++) {
            uint8_t ch = p[i];

            if (ch == '%') {
                int hi = p + i + 2 < nl ? unhex((uint8_t)(p[i + 1] | 0x20)) : -1;
                int lo = p + i + 2 < nl ? unhex((uint8_t)(p[i + 2] | 0x20)) : -1;

                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                    return container_fail(a, c, "malformed-record", idx,
                                          "rootfs record path escape malformed");
                }
                ch = (uint8_t)(hi * 16 + lo);
                i += 2;
            } else if (ch <= 0x20 || ch >= 0x7f) {
                return container_fail(a, c, "malformed-record", idx,
                                      "rootfs record path not escaped");
            }
            if (k + 1 >= sizeof(path)) {
                return container_fail(a, c, "malformed-record", idx, "rootfs record path too long");
            }
            path[k++] = (char)ch;
        }
        path[k] = '\0';
        rc = judge_file(a, c, cp, path, digest, idx, &passed);
        if (rc != ATT_OK || !passed) {
            return rc; /* the first failing file is the container's reason */
        }
        p = nl + 1;
    }
    return ATT_OK;
}

/* A plain decimal in [1, max] at *p (no sign, no leading zero), then @p stop; advances *p. */
static bool pkg_number(const char **p, const char *end, char stop, unsigned max, unsigned *out)
{
    const char *q = *p;
    unsigned v = 0;

    if (q >= end || *q < '1' || *q > '9') {
        return false;
    }
    while (q < end && *q >= '0' && *q <= '9') {
        v = v * 10u + (unsigned)(*q - '0');
        if (v > max) {
            return false;
        }
        q++;
    }
    if (q >= end || *q != stop) {
        return false;
    }
    *p = q + 1;
    *out = v;
    return true;
}

att_rc att_pkg_record_parse(const uint8_t *buf, size_t len, struct att_pkg_record *out, char *why,
                            size_t why_len)
{
    static const char magic[] = ATT_PKG_RECORD_HEADER " ";
    const uint8_t *nl = buf != NULL ? memchr(buf, '\n', len < 160 ? len : 160) : NULL;
    const char *p = (const char *)buf;
    const char *end;
    unsigned part = 0;
    unsigned n = 0;
    char digest[2 * ATT_SHA256_LEN + 1];

    if (nl == NULL) {
        att_set_why(why, why_len, "no header line");
        return ATT_ERR_PARSE;
    }
    end = (const char *)nl;
    /* exactly "attest-packages <part> <n> <64 lower hex>": one spelling only */
    if ((size_t)(end - p) < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1) != 0) {
        att_set_why(why, why_len,
                    "header is not \"" ATT_PKG_RECORD_HEADER " <part> <n> <64 hex>\"");
        return ATT_ERR_PARSE;
    }
    p += sizeof(magic) - 1;
    if (!pkg_number(&p, end, ' ', ATT_PKG_RECORD_MAX_PARTS, &part) ||
        !pkg_number(&p, end, ' ', ATT_PKG_RECORD_MAX_PARTS, &n) || part > n ||
        end - p != 2 * ATT_SHA256_LEN || memchr(p, '\0', 2 * ATT_SHA256_LEN) != NULL) {
        att_set_why(why, why_len,
                    "header is not \"" ATT_PKG_RECORD_HEADER " <part> <n> <64 hex>\"");
        return ATT_ERR_PARSE;
    }
    memcpy(digest, p, 2 * ATT_SHA256_LEN);
    digest[2 * ATT_SHA256_LEN] = '\0';
    if (!att_lower_hex(digest, 64, 64)) {
        att_set_why(why, why_len, "header digest is not 64 lower-case hex");
        return ATT_ERR_PARSE;
    }
    memcpy(out->digest, digest, sizeof(digest));
    out->part = part;
    out->n = n;
    out->body = NULL;
    out->len = len - (size_t)(nl + 1 - buf);
    return ATT_OK;
}

/* "packages:<id>": kept for the verifier, which joins and judges them (issue 8). */
static att_rc appraise_packages(const struct att_ima_entry *e, struct att_appraisal *a,
                                struct att_container_verdict *c, int64_t idx)
{
    struct att_pkg_record r;
    struct att_pkg_record *grown;
    char why[128];

    memset(&r, 0, sizeof(r));
    if (e->tmpl != ATT_IMA_TEMPLATE_BUF || e->is_violation ||
        att_pkg_record_parse(e->buf, e->buf_len, &r, why, sizeof(why)) != ATT_OK) {
        return container_fail(a, c, "malformed-record", idx, "packages record is malformed");
    }
    grown = realloc(a->pkgs, (a->n_pkgs + 1) * sizeof(*grown));
    if (grown == NULL) {
        return ATT_ERR_NOMEM;
    }
    a->pkgs = grown;
    (void)snprintf(r.container, sizeof(r.container), "%s", c->id);
    r.entry = idx;
    r.body = malloc(r.len + 1);
    if (r.body == NULL) {
        return ATT_ERR_NOMEM;
    }
    memcpy(r.body, e->buf + (e->buf_len - r.len), r.len);
    r.body[r.len] = '\0';
    a->pkgs[a->n_pkgs++] = r;
    return ATT_OK;
}

/* Length of an ima-buf record's first line: the key=value fields, without what follows. */
static size_t first_line_len(const struct att_ima_entry *e)
{
    const uint8_t *nl = memchr(e->buf, '\n', e->buf_len);

    return nl != NULL ? (size_t)(nl - e->buf) : e->buf_len;
}

/*
 * Value of a free-text field "key=" that runs to the end of the line
 * (reason=, detail=), copied into out and cut to fit; "" if absent. The key
 * must start a field (line start or after a space). Bytes outside
 * printable ASCII become '?': the text ends up in JSON and terminals.
 */
static void field_rest(const uint8_t *buf, size_t len, const char *key, char *out, size_t out_len)
{
    size_t klen = strlen(key);
    size_t i;
    size_t n = 0;

    out[0] = '\0';
    for (i = 0; i + klen < len; i++) {
        if ((i == 0 || buf[i - 1] == ' ') && memcmp(buf + i, key, klen) == 0 &&
            buf[i + klen] == '=') {
            break;
        }
    }
    if (i + klen >= len) {
        return;
    }
    for (i += klen + 1; i < len && n + 1 < out_len; i++) {
        out[n++] = buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '?';
    }
    out[n] = '\0';
}

/*
 * "netpolicy:<id>" (issue 9): what the agent did with the policy's network
 * section. Applied or removed is attested state, not a finding; failed means
 * the container runs without the restriction its policy orders. An applied
 * digest other than the current policy's is only context: the agent applies
 * a changed policy in the same request, so the newer record follows.
 */
static att_rc appraise_netpolicy(const struct att_ima_entry *e, struct att_appraisal *a,
                                 struct att_container_verdict *c,
                                 const struct att_container_policy *cp, int64_t idx)
{
    char status[16];
    char logged[2 * ATT_SHA256_LEN + 8];
    char want[2 * ATT_SHA256_LEN + 1];
    char reason[256];
    uint8_t digest[ATT_SHA256_LEN];
    size_t len;
    att_rc rc;

    if (e->tmpl != ATT_IMA_TEMPLATE_BUF || e->buf == NULL || e->is_violation) {
        return container_fail(a, c, "malformed-record", idx, "netpolicy record is not ima-buf");
    }
    len = first_line_len(e);
    field(e->buf, len, "status", status, sizeof(status));
    if (strcmp(status, "removed") == 0) {
        return ATT_OK;
    }
    if (strcmp(status, "failed") == 0) {
        field_rest(e->buf, len, "reason", reason, sizeof(reason));
        return container_fail(a, c, "network-not-in-force", idx, "network policy not in force: %s",
                              reason[0] != '\0' ? reason : "(no reason given)");
    }
    if (strcmp(status, "applied") != 0) {
        return container_fail(a, c, "malformed-record", idx,
                              "netpolicy record has no known status");
    }
    field(e->buf, len, "network", logged, sizeof(logged));
    if (!att_lower_hex(logged, 2 * ATT_SHA256_LEN, 2 * ATT_SHA256_LEN)) {
        return container_fail(a, c, "malformed-record", idx,
                              "netpolicy record's network digest is not 64 hex");
    }
    if (cp == NULL || cp->network == NULL) {
        return ATT_OK;
    }
    rc = att_net_policy_digest(cp->network, digest);
    if (rc != ATT_OK) {
        return rc;
    }
    att_hex_encode(digest, sizeof(digest), want);
    if (strcmp(logged, want) == 0) {
        return ATT_OK;
    }
    return att_appraisal_add(a, ATT_FIND_INFO, "network-superseded", idx,
                             "entry %lld: container %.12s: network policy %.12s applied; policy "
                             "%s now has %.12s (a newer record follows when the agent applies "
                             "it)",
                             (long long)idx, c->id, logged, cp->name, want);
}

/*
 * "netdrift:<id>": the agent found the ruleset in the container's network
 * namespace changed or gone since it applied it. Whoever did that could
 * open what the policy closes, so the restriction no longer holds.
 */
static att_rc appraise_netdrift(const struct att_ima_entry *e, struct att_appraisal *a,
                                struct att_container_verdict *c, int64_t idx)
{
    char expected[2 * ATT_SHA256_LEN + 8];
    char found[2 * ATT_SHA256_LEN + 8];
    char detail[160];
    char seen[40];
    size_t len;

    if (e->tmpl != ATT_IMA_TEMPLATE_BUF || e->buf == NULL || e->is_violation) {
        return container_fail(a, c, "malformed-record", idx, "netdrift record is not ima-buf");
    }
    len = first_line_len(e);
    field(e->buf, len, "expected", expected, sizeof(expected));
    field(e->buf, len, "found", found, sizeof(found));
    field_rest(e->buf, len, "detail", detail, sizeof(detail));
    if (!att_lower_hex(expected, 1, sizeof(expected) - 1)) {
        (void)snprintf(expected, sizeof(expected), "?");
    }
    if (strcmp(found, "none") == 0) {
        (void)snprintf(seen, sizeof(seen), "found no table");
    } else {
        (void)snprintf(seen, sizeof(seen), "found %.12s",
                       att_lower_hex(found, 1, sizeof(found) - 1) ? found : "?");
    }
    return container_fail(a, c, "network-not-in-force", idx,
                          "network policy not in force: the ruleset in its network namespace "
                          "was changed by someone else (applied %.12s, %s)%s%s",
                          expected, seen, detail[0] != '\0' ? ": " : "", detail);
}

/* Appraise one container entry against the per-container policy it selects. */
static att_rc appraise_container_entry(const struct att_ima_entry *e, const char *id, int64_t idx,
                                       const struct att_policy *policy, struct att_appraisal *a)
{
    struct att_container_verdict *c = container_get(a, id);
    const struct att_container_policy *cp;
    char v[256];
    size_t i;

    if (c == NULL) {
        return ATT_ERR_NOMEM;
    }
    cp = current_policy(policy, c);
    if (strncmp(e->name, "container:", 10) == 0) {
        const struct att_container_policy *sel;

        if (e->tmpl != ATT_IMA_TEMPLATE_BUF) {
            return container_fail(a, c, "malformed-record", idx, "identity record is not ima-buf");
        }
        field(e->buf, e->buf_len, "image", c->image, sizeof(c->image));
        field(e->buf, e->buf_len, "policy_label", v, sizeof(v));
        if (v[0] != '\0') {
            /* chosen by name through the io.attest.policy label or annotation */
            sel = att_policy_container_by_name(policy, v);
            if (sel == NULL) {
                return container_fail(a, c, "policy-not-found", idx,
                                      "its io.attest.policy label \"%.80s\" names no container "
                                      "policy",
                                      v);
            }
            if (!allows_image(sel, c->image)) {
                return container_fail(a, c, "image-not-allowed", idx,
                                      "image %s is not allowed by policy %s (chosen by its label)",
                                      c->image, sel->name);
            }
        } else if (cp != NULL && allows_image(cp, c->image)) {
            sel = cp; /* a record without the label keeps a label's choice */
        } else {
            sel = att_policy_container_for_image(policy, c->image);
        }
        if (sel == NULL) {
            return container_fail(a, c, "image-not-allowed", idx,
                                  "image %s is not allowed by any container policy", c->image);
        }
        if (cp != NULL && !att_container_policy_covers(sel, cp)) {
            /* entries already passed under cp might not pass under sel */
            return container_fail(a, c, "policy-changed", idx,
                                  "policy %s was chosen after its entries were appraised under %s, "
                                  "which allows more; give the container the io.attest.policy "
                                  "annotation so the prestart hook sees the choice too",
                                  sel->name, cp->name);
        }
        cp = sel;
        (void)snprintf(c->policy, sizeof(c->policy), "%s", cp->name);
        field(e->buf, e->buf_len, "privileged", v, sizeof(v));
        if (strcmp(v, "1") == 0 && !cp->allow_privileged) {
            return container_fail(a, c, "posture-privileged", idx,
                                  "runs privileged; policy %s forbids it", cp->name);
        }
        field(e->buf, e->buf_len, "seccomp", v, sizeof(v));
        if (cp->require_seccomp && v[0] != '\0' && strcmp(v, "2") != 0) {
            return container_fail(a, c, "posture-seccomp", idx,
                                  "runs without a seccomp filter (mode %s); policy %s requires one",
                                  v, cp->name);
        }
        field(e->buf, e->buf_len, "no_new_privs", v, sizeof(v));
        if (cp->require_no_new_privs && v[0] != '\0' && strcmp(v, "1") != 0) {
            return container_fail(a, c, "posture-no-new-privs", idx,
                                  "runs without no_new_privs; policy %s requires it", cp->name);
        }
        field(e->buf, e->buf_len, "pid_mode", v, sizeof(v));
        if (!cp->allow_host_pid && strcmp(v, "host") == 0) {
            return container_fail(a, c, "posture-host-pid", idx,
                                  "shares the host's pid namespace; policy %s forbids it",
                                  cp->name);
        }
        field(e->buf, e->buf_len, "cap_add", v, sizeof(v));
        for (i = 0; i < cp->n_forbid_caps; i++) {
            if (list_has(v, cp->forbid_caps[i])) {
                return container_fail(a, c, "posture-capability", idx,
                                      "has %s added; policy %s forbids it", cp->forbid_caps[i],
                                      cp->name);
            }
        }
        return ATT_OK;
    }
    if (strncmp(e->name, "admission:", 10) == 0) {
        char decision[16];

        if (e->tmpl != ATT_IMA_TEMPLATE_BUF) {
            return container_fail(a, c, "malformed-record", idx, "admission record is not ima-buf");
        }
        field(e->buf, e->buf_len, "decision", decision, sizeof(decision));
        if (strcmp(decision, "admit") == 0) {
            return ATT_OK;
        }
        (void)snprintf(v, sizeof(v), "%.*s", (int)(e->buf_len < 200 ? e->buf_len : 200),
                       (const char *)e->buf);
        return container_fail(a, c, "refused-at-start", idx, "the agent refused its start: %s", v);
    }
    if (strncmp(e->name, "quarantine:", 11) == 0) {
        /* the agent carried out (or lifted) an order: attested, not a finding */
        if (e->tmpl != ATT_IMA_TEMPLATE_BUF) {
            return container_fail(a, c, "malformed-record", idx,
                                  "quarantine record is not ima-buf");
        }
        return ATT_OK;
    }
    if (strncmp(e->name, "violation:", 10) == 0) {
        char kind[64];

        if (e->tmpl != ATT_IMA_TEMPLATE_BUF) {
            return container_fail(a, c, "malformed-record", idx, "violation record is not ima-buf");
        }
        field(e->buf, e->buf_len, "kind", kind, sizeof(kind));
        if (cp != NULL && cp->allow_jit &&
            (strcmp(kind, "anon_exec") == 0 || strcmp(kind, "wx") == 0)) {
            return ATT_OK;
        }
        (void)snprintf(v, sizeof(v), "%.*s", (int)(e->buf_len < 200 ? e->buf_len : 200),
                       (const char *)e->buf);
        return container_fail(a, c,
                              strcmp(kind, "code_modified") == 0 ? "code-modified"
                              : strcmp(kind, "anon_exec") == 0 || strcmp(kind, "wx") == 0
                                  ? "injected-exec-memory"
                                  : "memory-violation",
                              idx, "memory integrity: %s", v);
    }
    if (strncmp(e->name, "rootfs:", 7) == 0) {
        return appraise_rootfs(e, a, c, cp, idx);
    }
    if (strncmp(e->name, "packages:", 9) == 0) {
        return appraise_packages(e, a, c, idx);
    }
    if (strncmp(e->name, ATT_NET_RECORD_POLICY, sizeof(ATT_NET_RECORD_POLICY) - 1) == 0) {
        return appraise_netpolicy(e, a, c, cp, idx);
    }
    if (strncmp(e->name, ATT_NET_RECORD_DRIFT, sizeof(ATT_NET_RECORD_DRIFT) - 1) == 0) {
        return appraise_netdrift(e, a, c, idx);
    }
    /* "<id>:<path>": an executable or library that ran in the container */
    if (cp != NULL &&
        (e->is_violation || e->tmpl != ATT_IMA_TEMPLATE_NG || e->digest_len != ATT_SHA256_LEN)) {
        return container_fail(a, c, "malformed-record", idx, "file entry %s is malformed", e->name);
    }
    return judge_file(a, c, cp, strchr(e->name, ':') + 1, e->digest, idx, NULL);
}

/*
 * ATT_IMA_GAP_RECORD: the agent's log file refused writes, so it refused
 * the measurements of that time. Whatever ran then is not attested: the
 * host fails for the rest of this boot, with the gap's times and error.
 */
static att_rc appraise_gap(const struct att_ima_entry *e, int64_t idx, bool closed_later,
                           struct att_appraisal *a)
{
    char state[16];
    char since[40];
    char until[40];
    char refused[24];
    char esc[600];
    char err[600];

    if (e->tmpl != ATT_IMA_TEMPLATE_BUF || e->is_violation) {
        return att_appraisal_add(a, ATT_FIND_FAIL, "malformed-record", idx,
                                 "entry %lld: the log-gap record is not ima-buf", (long long)idx);
    }
    field(e->buf, e->buf_len, "state", state, sizeof(state));
    field(e->buf, e->buf_len, "since", since, sizeof(since));
    field(e->buf, e->buf_len, "until", until, sizeof(until));
    field(e->buf, e->buf_len, "refused", refused, sizeof(refused));
    field(e->buf, e->buf_len, "error", esc, sizeof(esc));
    if (!att_unescape(esc, err, sizeof(err))) {
        (void)snprintf(err, sizeof(err), "(unreadable)");
    }
    att_printable_ascii(since);
    att_printable_ascii(until);
    att_printable_ascii(refused);
    att_printable_ascii(err);
    if (strcmp(state, "closed") == 0) {
        return att_appraisal_add(a, ATT_FIND_FAIL, "log-gap", idx,
                                 "entry %lld: the agent could not write its measurement log from "
                                 "%s to %s (%s); %s measurement(s) were refused, so what ran then "
                                 "is not attested",
                                 (long long)idx, since, until, err, refused);
    }
    if (strcmp(state, "open") == 0 && closed_later) {
        return att_appraisal_add(a, ATT_FIND_INFO, "log-gap-opened", idx,
                                 "entry %lld: the agent's measurement log refused writes from %s "
                                 "(%s); the gap is closed by a later record",
                                 (long long)idx, since, err);
    }
    if (strcmp(state, "open") == 0) {
        return att_appraisal_add(a, ATT_FIND_FAIL, "log-gap", idx,
                                 "entry %lld: the agent cannot write its measurement log since %s "
                                 "(%s): it refuses measurements and container starts, so what "
                                 "runs now is not attested",
                                 (long long)idx, since, err);
    }
    return att_appraisal_add(a, ATT_FIND_FAIL, "malformed-record", idx,
                             "entry %lld: log-gap record with an unknown state", (long long)idx);
}

att_rc att_appraise_entries(const struct att_ima_entry *entries, size_t n, uint64_t offset,
                            const struct att_policy *policy, struct att_appraisal *a)
{
    att_rc rc = ATT_OK;
    size_t i;

    if ((entries == NULL && n > 0) || policy == NULL || a == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < n && rc == ATT_OK; i++) {
        char cid[ATT_CONTAINER_ID_LEN + 1];
        int64_t idx = (int64_t)(offset + i);

        if (strcmp(entries[i].name, "order:refused") == 0 &&
            entries[i].tmpl == ATT_IMA_TEMPLATE_BUF && !entries[i].is_violation) {
            /* an order the agent refused (forged, replayed, expired): context only */
            rc = att_appraisal_add(a, ATT_FIND_INFO, "order-refused", idx,
                                   "entry %lld: the agent refused a quarantine order: %.*s",
                                   (long long)idx,
                                   (int)(entries[i].buf_len < 300 ? entries[i].buf_len : 300),
                                   (const char *)entries[i].buf);
            continue;
        }
        if (strcmp(entries[i].name, ATT_IMA_GAP_RECORD) == 0) {
            bool closed_later = false;
            size_t k;

            for (k = i + 1; k < n && !closed_later; k++) {
                closed_later = strcmp(entries[k].name, ATT_IMA_GAP_RECORD) == 0 &&
                               entries[k].tmpl == ATT_IMA_TEMPLATE_BUF &&
                               entries[k].buf_len >= 13 &&
                               memcmp(entries[k].buf, "state=closed ", 13) == 0;
            }
            rc = appraise_gap(&entries[i], idx, closed_later, a);
            continue;
        }
        /* Container entries judge their container, not the host. */
        rc = container_of(&entries[i], cid) != NULL
                 ? appraise_container_entry(&entries[i], cid, idx, policy, a)
                 : appraise_entry(&entries[i], idx, policy, a);
    }
    if (rc == ATT_OK) {
        a->entries_appraised += n;
    }
    return rc;
}

att_rc att_appraisal_add_inventory(struct att_appraisal *a, const char *inv)
{
    const char *line = inv;

    while (line != NULL && *line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        bool known = false;
        size_t i;
        bool hex = len > ATT_CONTAINER_ID_LEN && line[ATT_CONTAINER_ID_LEN] == ' ';

        for (i = 0; hex && i < ATT_CONTAINER_ID_LEN; i++) {
            hex = (line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f');
        }
        if (hex) {
            for (i = 0; i < a->n_containers && !known; i++) {
                known = strncmp(a->containers[i].id, line, ATT_CONTAINER_ID_LEN) == 0;
            }
            if (!known) {
                struct att_container_verdict *n =
                    realloc(a->containers, (a->n_containers + 1) * sizeof(*n));

                if (n == NULL) {
                    return ATT_ERR_NOMEM;
                }
                a->containers = n;
                n = &a->containers[a->n_containers++];
                memset(n, 0, sizeof(*n));
                memcpy(n->id, line, ATT_CONTAINER_ID_LEN);
                n->entry = -1;
            }
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return ATT_OK;
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
    if (in->n_containers > 0) {
        a->containers = malloc(in->n_containers * sizeof(*a->containers));
        if (a->containers == NULL) {
            return ATT_ERR_NOMEM;
        }
        memcpy(a->containers, in->containers, in->n_containers * sizeof(*a->containers));
        a->n_containers = in->n_containers;
    }

    /* 1. The quote: genuine (AK signature), fresh (nonce), and covering these PCR values. */
    why[0] = '\0';
    rc = in->ak != NULL
             ? att_quote_verify_ak(in->ak, in->attest, in->attest_len, in->sig, in->sig_len,
                                   in->nonce, in->nonce_len, in->pcrs, &info, why, sizeof(why))
             : att_quote_verify(in->ak_pub, in->ak_pub_len, in->attest, in->attest_len, in->sig,
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
    if (!att_pcr_meas_allowed(in->meas_pcr, why, sizeof(why))) {
        rc = att_appraisal_add(a, ATT_FIND_FAIL, "pcr-not-allowed", -1,
                               "the measurement PCR cannot prove anything: %s", why);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if ((in->pcrs->mask & (1u << in->meas_pcr)) == 0) {
        rc = att_appraisal_add(a, ATT_FIND_FAIL, "pcr-not-quoted", -1,
                               "the measurement PCR %u is not among the quoted PCRs", in->meas_pcr);
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
                (unsigned long long)in->log_offset, (unsigned long long)in->log_offset + log.count,
                in->meas_pcr);
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
                rc = att_appraisal_add(
                    a, ATT_FIND_FAIL, "log-foreign-pcr", (int64_t)(in->log_offset + i),
                    "log entry %llu targets PCR %u, not the measurement PCR %u",
                    (unsigned long long)(in->log_offset + i), log.entries[i].pcr, in->meas_pcr);
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
        rc = att_appraise_entries(log.entries, log.count, in->log_offset, in->policy, a);
        if (rc != ATT_OK) {
            goto out;
        }
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
