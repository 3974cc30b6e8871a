/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The normalised vulnerability feed (see attest/vulndb.h): entry validation,
 * the canonical text and its strict parser, matching against a package
 * inventory and judgement against a container policy's bar. CVSS base
 * scores follow FIRST's "CVSS v3.1 Specification Document" §7.1 (base
 * metric equations) and Appendix A (Roundup). Reads no feed format (that is
 * proto/src/vulnfeed_json.c) and fetches nothing.
 */
#include "attest/vulndb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attest/util.h"
#include "attest/vercmp.h"

#define MAX_ECOSYSTEM   79u  /* fits struct att_inventory's ecosystem[80] */
#define MAX_FIELD       256u /* package, version: ATT_INV_MAX_TOKEN */
#define MAX_CVSS        256u /* a full v3 vector with every metric is ~150 */
#define HEADER          "attest-vulndb 1 "
#define N_FIELDS        8u
#define MORE            "; ..."
#define WORST_MAX_LISTS 64u

enum order { ORDER_NONE = 0, ORDER_DPKG, ORDER_APK };

static const char *const sev_names[] = {"unknown", "negligible", "low",
                                        "medium",  "high",       "critical"};

const char *att_severity_str(enum att_severity s)
{
    if ((unsigned)s >= sizeof(sev_names) / sizeof(sev_names[0])) {
        return "unknown";
    }
    return sev_names[s];
}

att_rc att_severity_parse(const char *s, enum att_severity *out)
{
    static const struct {
        const char *word;
        enum att_severity sev;
    } words[] = {
        {"unknown", ATT_SEV_UNKNOWN},
        {"negligible", ATT_SEV_NEGLIGIBLE},
        {"low", ATT_SEV_LOW},
        {"medium", ATT_SEV_MEDIUM},
        {"high", ATT_SEV_HIGH},
        {"critical", ATT_SEV_CRITICAL},
        {"moderate", ATT_SEV_MEDIUM},
        {"important", ATT_SEV_HIGH},
        {"unimportant", ATT_SEV_NEGLIGIBLE},
        {"not yet assigned", ATT_SEV_UNKNOWN},
    };
    char w[32];
    size_t n;
    size_t i;

    if (s == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    n = strnlen(s, sizeof(w));
    if (n == sizeof(w)) {
        return ATT_ERR_PARSE;
    }
    /* Debian marks urgencies it derived from elsewhere with '*' or '**'. */
    while (n > 0 && s[n - 1] == '*') {
        n--;
    }
    memcpy(w, s, n);
    w[n] = '\0';
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(w, words[i].word) == 0) {
            *out = words[i].sev;
            return ATT_OK;
        }
    }
    return ATT_ERR_PARSE;
}

/*
 * CVSS v3.1 Appendix A: the smallest number with one decimal that is at
 * least @p x, computed on integers so that 4.000000000000001 gives 4.0 and
 * not 4.1. v3.0 defines Roundup loosely ("smallest number, specified to one
 * decimal place, that is equal to or higher than its input"); 3.1 only made
 * it exact, so the same function serves both. @p x is never negative here.
 */
static double roundup(double x)
{
    long long i = (long long)(x * 100000.0 + 0.5);

    if (i % 10000 == 0) {
        return (double)i / 100000.0;
    }
    /* NOLINTNEXTLINE(bugprone-integer-division): truncation is the point (Appendix A) */
    return (double)(i / 10000 + 1) / 10.0;
}

/* One base metric: its name and the weight of each allowed value letter. */
struct metric {
    const char *name;
    const char *letters;
    double weight[4];
};

enum { M_AV = 0, M_AC, M_PR, M_UI, M_S, M_C, M_I, M_A, N_METRICS };

/* §7.4 Table 16. PR's weights are for scope unchanged; changed is handled below. */
static const struct metric metrics[N_METRICS] = {
    {"AV", "NALP", {0.85, 0.62, 0.55, 0.2}},
    {"AC", "LH", {0.77, 0.44, 0, 0}},
    {"PR", "NLH", {0.85, 0.62, 0.27, 0}},
    {"UI", "NR", {0.85, 0.62, 0, 0}},
    {"S", "UC", {0, 0, 0, 0}},
    {"C", "HLN", {0.56, 0.22, 0, 0}},
    {"I", "HLN", {0.56, 0.22, 0, 0}},
    {"A", "HLN", {0.56, 0.22, 0, 0}},
};

static bool all_alpha(const char *s, size_t n)
{
    size_t i;

    if (n == 0) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) {
            return false;
        }
    }
    return true;
}

/*
 * Split "K:V/K:V/..." (after the version prefix) and record the value index
 * of each base metric in @p idx (-1 = not seen). Temporal and environmental
 * metrics (and any other well-formed K:V) are ignored; a base metric given
 * twice, an unknown value letter or a malformed token is an error.
 */
static bool cvss_metrics(const char *p, int idx[N_METRICS])
{
    size_t m;

    for (m = 0; m < N_METRICS; m++) {
        idx[m] = -1;
    }
    for (;;) {
        const char *end = strchr(p, '/');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        size_t kl;
        size_t vl;

        if (colon == NULL) {
            return false;
        }
        kl = (size_t)(colon - p);
        vl = n - kl - 1;
        if (!all_alpha(p, kl) || !all_alpha(colon + 1, vl)) {
            return false;
        }
        for (m = 0; m < N_METRICS; m++) {
            const char *l;

            if (strlen(metrics[m].name) != kl || memcmp(metrics[m].name, p, kl) != 0) {
                continue;
            }
            l = vl == 1 ? strchr(metrics[m].letters, colon[1]) : NULL;
            if (idx[m] != -1 || l == NULL) {
                return false;
            }
            idx[m] = (int)(l - metrics[m].letters);
        }
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    for (m = 0; m < N_METRICS; m++) {
        if (idx[m] == -1) {
            return false;
        }
    }
    return true;
}

att_rc att_cvss3_severity(const char *vector, double *score, enum att_severity *out)
{
    int idx[N_METRICS];
    bool changed;
    double pr;
    double iss;
    double impact;
    double expl;
    double base;
    double x;
    long s10;
    int k;

    if (vector == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (strnlen(vector, MAX_CVSS + 1) > MAX_CVSS ||
        (strncmp(vector, "CVSS:3.0/", 9) != 0 && strncmp(vector, "CVSS:3.1/", 9) != 0) ||
        !cvss_metrics(vector + 9, idx)) {
        return ATT_ERR_PARSE;
    }
    changed = idx[M_S] == 1;
    pr = metrics[M_PR].weight[idx[M_PR]];
    if (changed && idx[M_PR] == 1) {
        pr = 0.68;
    } else if (changed && idx[M_PR] == 2) {
        pr = 0.5;
    }
    iss = 1.0 - (1.0 - metrics[M_C].weight[idx[M_C]]) * (1.0 - metrics[M_I].weight[idx[M_I]]) *
                    (1.0 - metrics[M_A].weight[idx[M_A]]);
    if (changed) {
        /* 7.52 x (ISS - 0.029) - 3.25 x (ISS - 0.02)^15, without libm */
        x = 1.0;
        for (k = 0; k < 15; k++) {
            x *= iss - 0.02;
        }
        impact = 7.52 * (iss - 0.029) - 3.25 * x;
    } else {
        impact = 6.42 * iss;
    }
    expl = 8.22 * metrics[M_AV].weight[idx[M_AV]] * metrics[M_AC].weight[idx[M_AC]] * pr *
           metrics[M_UI].weight[idx[M_UI]];
    if (impact <= 0) {
        base = 0;
    } else if (changed) {
        x = 1.08 * (impact + expl);
        base = roundup(x < 10.0 ? x : 10.0);
    } else {
        x = impact + expl;
        base = roundup(x < 10.0 ? x : 10.0);
    }
    /* Table 14 on tenths, so that 3.9 / 4.0 never fall between the cracks. */
    s10 = (long)(base * 10.0 + 0.5);
    if (s10 == 0) {
        *out = ATT_SEV_UNKNOWN;
    } else if (s10 < 40) {
        *out = ATT_SEV_LOW;
    } else if (s10 < 70) {
        *out = ATT_SEV_MEDIUM;
    } else if (s10 < 90) {
        *out = ATT_SEV_HIGH;
    } else {
        *out = ATT_SEV_CRITICAL;
    }
    if (score != NULL) {
        *score = base;
    }
    return ATT_OK;
}

/* ------------------------------------------------------------------------ */
/* Entries                                                                   */

static enum order order_of(const char *ecosystem)
{
    if (strncmp(ecosystem, "Debian:", 7) == 0 || strncmp(ecosystem, "Ubuntu:", 7) == 0) {
        return ORDER_DPKG;
    }
    if (strncmp(ecosystem, "Alpine:", 7) == 0) {
        return ORDER_APK;
    }
    return ORDER_NONE;
}

static int vcmp(enum order o, const char *a, const char *b)
{
    return o == ORDER_DPKG ? att_debver_cmp(a, b) : att_apkver_cmp(a, b);
}

static bool vvalid(enum order o, const char *v)
{
    if (o == ORDER_DPKG) {
        return att_debver_valid(v, NULL, 0);
    }
    if (o == ORDER_APK) {
        return att_apkver_valid(v);
    }
    return true;
}

/* 1..@p max bytes of printable ASCII (space included, tab and newline not). */
static bool text_ok(const char *s, size_t max)
{
    size_t i;

    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (i >= max || s[i] < 0x20 || s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* An id or alias: printable, no blank and no comma (aliases are a comma list). */
static bool id_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > ATT_VULN_MAX_ID || (n == 1 && s[0] == '-')) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == ',') {
            return false;
        }
    }
    return true;
}

static bool aliases_ok(const char *s)
{
    const char *p = s;

    if (strnlen(s, ATT_VULN_MAX_ALIASES + 1) > ATT_VULN_MAX_ALIASES) {
        return false;
    }
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c != NULL ? (size_t)(c - p) : strlen(p);

        if (!id_ok(p, n)) {
            return false;
        }
        if (c == NULL) {
            return true;
        }
        p = c + 1;
    }
}

/* An optional version field: NULL, or text that is not "-" and valid for the order. */
static bool version_ok(enum order o, const char *v)
{
    return v == NULL || (text_ok(v, MAX_FIELD) && strcmp(v, "-") != 0 && vvalid(o, v));
}

/*
 * Every rule an entry must meet, in the db and in the canonical text: the
 * text writer then never needs to escape anything, and "-" always means
 * "absent" in an optional field.
 */
static att_rc entry_check(const struct att_vuln_entry *e, char *why, size_t why_len)
{
    enum order o;

    if (!text_ok(e->ecosystem, MAX_ECOSYSTEM)) {
        att_set_why(why, why_len, "ecosystem is not 1-%u printable characters", MAX_ECOSYSTEM);
        return ATT_ERR_PARSE;
    }
    o = order_of(e->ecosystem);
    if (!text_ok(e->package, MAX_FIELD)) {
        att_set_why(why, why_len, "package is not 1-%u printable characters", MAX_FIELD);
        return ATT_ERR_PARSE;
    }
    if (e->id == NULL || !id_ok(e->id, strlen(e->id))) {
        att_set_why(why, why_len, "id is not 1-%u printable characters without blank or comma",
                    ATT_VULN_MAX_ID);
        return ATT_ERR_PARSE;
    }
    if (e->aliases != NULL && !aliases_ok(e->aliases)) {
        att_set_why(why, why_len, "aliases are not a comma-separated list of ids");
        return ATT_ERR_PARSE;
    }
    if ((unsigned)e->severity > (unsigned)ATT_SEV_CRITICAL) {
        att_set_why(why, why_len, "severity out of range");
        return ATT_ERR_PARSE;
    }
    if (!version_ok(o, e->introduced)) {
        att_set_why(why, why_len, "introduced is not a valid version for %s", e->ecosystem);
        return ATT_ERR_PARSE;
    }
    if (!version_ok(o, e->fixed)) {
        att_set_why(why, why_len, "fixed is not a valid version for %s", e->ecosystem);
        return ATT_ERR_PARSE;
    }
    if (!version_ok(o, e->last_affected)) {
        att_set_why(why, why_len, "last_affected is not a valid version for %s", e->ecosystem);
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

static void entry_cleanup(struct att_vuln_entry *e)
{
    free(e->ecosystem);
    free(e->package);
    free(e->id);
    free(e->aliases);
    free(e->introduced);
    free(e->fixed);
    free(e->last_affected);
    memset(e, 0, sizeof(*e));
}

static const char *dash(const char *s)
{
    return s != NULL ? s : "-";
}

/*
 * The canonical order: the text's fields left to right as written ("-" for
 * absent), then severity and aliases so that the order is total and the
 * digest never depends on the order entries were added in.
 */
static int entry_cmp(const struct att_vuln_entry *a, const struct att_vuln_entry *b)
{
    int c = strcmp(a->ecosystem, b->ecosystem);

    if (c == 0) {
        c = strcmp(a->package, b->package);
    }
    if (c == 0) {
        c = strcmp(a->id, b->id);
    }
    if (c == 0) {
        c = strcmp(dash(a->introduced), dash(b->introduced));
    }
    if (c == 0) {
        c = strcmp(dash(a->fixed), dash(b->fixed));
    }
    if (c == 0) {
        c = strcmp(dash(a->last_affected), dash(b->last_affected));
    }
    if (c == 0 && a->severity != b->severity) {
        c = a->severity < b->severity ? -1 : 1;
    }
    if (c == 0) {
        c = strcmp(dash(a->aliases), dash(b->aliases));
    }
    return c;
}

static int entry_qcmp(const void *a, const void *b)
{
    return entry_cmp(a, b);
}

struct att_vulndb *att_vulndb_new(uint64_t feed_time)
{
    struct att_vulndb *db = calloc(1, sizeof(*db));

    if (db != NULL) {
        db->feed_time = feed_time;
    }
    return db;
}

void att_vulndb_truncate(struct att_vulndb *db, size_t n)
{
    if (db == NULL) {
        return;
    }
    while (db->n_entries > n) {
        db->n_entries--;
        entry_cleanup(&db->entries[db->n_entries]);
    }
}

void att_vulndb_free(struct att_vulndb *db)
{
    if (db == NULL) {
        return;
    }
    att_vulndb_truncate(db, 0);
    free(db->entries);
    free(db);
}

/* strdup of an optional string; false only when a non-NULL copy failed. */
static bool dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL) {
        return true;
    }
    *out = strdup(s);
    return *out != NULL;
}

static att_rc grow(struct att_vulndb *db)
{
    struct att_vuln_entry *n;
    size_t ncap;

    if (db->n_entries < db->cap) {
        return ATT_OK;
    }
    ncap = db->cap != 0 ? db->cap * 2 : 64;
    if (ncap > ATT_VULNDB_MAX_ENTRIES) {
        ncap = ATT_VULNDB_MAX_ENTRIES;
    }
    n = realloc(db->entries, ncap * sizeof(*n));
    if (n == NULL) {
        return ATT_ERR_NOMEM;
    }
    db->entries = n;
    db->cap = ncap;
    return ATT_OK;
}

att_rc att_vulndb_add(struct att_vulndb *db, const struct att_vuln_entry *e, char *why,
                      size_t why_len)
{
    struct att_vuln_entry c;
    att_rc rc = ATT_ERR_INTERNAL;

    if (db == NULL || e == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = entry_check(e, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    if (db->n_entries >= ATT_VULNDB_MAX_ENTRIES) {
        att_set_why(why, why_len, "more than %u entries", ATT_VULNDB_MAX_ENTRIES);
        return ATT_ERR_PARSE;
    }
    rc = grow(db);
    if (rc != ATT_OK) {
        return rc;
    }
    memset(&c, 0, sizeof(c));
    c.severity = e->severity;
    if (!dup_opt(e->ecosystem, &c.ecosystem) || !dup_opt(e->package, &c.package) ||
        !dup_opt(e->id, &c.id) || !dup_opt(e->aliases, &c.aliases) ||
        !dup_opt(e->introduced, &c.introduced) || !dup_opt(e->fixed, &c.fixed) ||
        !dup_opt(e->last_affected, &c.last_affected)) {
        entry_cleanup(&c);
        return ATT_ERR_NOMEM;
    }
    db->entries[db->n_entries++] = c;
    return ATT_OK;
}

att_rc att_vulndb_finish(struct att_vulndb *db)
{
    struct att_buf b;
    size_t i;
    size_t w = 0;
    att_rc rc = ATT_ERR_INTERNAL;

    if (db == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (db->n_entries > 1) {
        qsort(db->entries, db->n_entries, sizeof(db->entries[0]), entry_qcmp);
    }
    for (i = 0; i < db->n_entries; i++) {
        if (w > 0 && entry_cmp(&db->entries[w - 1], &db->entries[i]) == 0) {
            entry_cleanup(&db->entries[i]);
            continue;
        }
        if (w != i) {
            db->entries[w] = db->entries[i];
            memset(&db->entries[i], 0, sizeof(db->entries[i]));
        }
        w++;
    }
    db->n_entries = w;
    att_buf_init(&b, ATT_VULNDB_MAX_TEXT);
    rc = att_vulndb_canonical(db, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_sha256(b.data, b.len, db->digest);
out:
    att_buf_cleanup(&b);
    return rc;
}

att_rc att_vulndb_canonical(const struct att_vulndb *db, struct att_buf *out)
{
    size_t start;
    size_t i;
    att_rc rc = ATT_ERR_INTERNAL;

    if (db == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    rc = att_buf_printf(out, HEADER "%llu\n", (unsigned long long)db->feed_time);
    for (i = 0; rc == ATT_OK && i < db->n_entries; i++) {
        const struct att_vuln_entry *e = &db->entries[i];

        /* Only a finished db has a canonical text. */
        if (i > 0 && entry_cmp(&db->entries[i - 1], e) >= 0) {
            rc = ATT_ERR_INVALID_ARG;
            break;
        }
        rc = att_buf_printf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e->ecosystem, e->package,
                            e->id, att_severity_str(e->severity), dash(e->introduced),
                            dash(e->fixed), dash(e->last_affected), dash(e->aliases));
    }
    if (rc != ATT_OK) {
        att_buf_truncate(out, start);
    }
    return rc;
}

/* Canonical decimal: digits only, no leading zero (other than "0" itself), no overflow. */
static bool canon_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) {
        return false;
    }
    for (i = 0; i < n; i++) {
        uint64_t d;

        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/*
 * Split one line (without its newline) into N_FIELDS tab-separated fields
 * and fill @p e with copies; "-" in an optional field becomes NULL. On
 * failure @p e may hold some copies: the caller cleans it up.
 */
static att_rc parse_line(const char *p, size_t n, struct att_vuln_entry *e, char *why,
                         size_t why_len)
{
    const char *f[N_FIELDS];
    size_t fl[N_FIELDS];
    char **dst[N_FIELDS] = {&e->ecosystem, &e->package,       &e->id,     NULL, &e->introduced,
                            &e->fixed,     &e->last_affected, &e->aliases};
    size_t k = 0;
    size_t i;
    size_t s;
    bool sev_ok = false;

    for (i = 0, s = 0; i <= n; i++) {
        if (i < n && p[i] != '\t') {
            continue;
        }
        if (k == N_FIELDS) {
            att_set_why(why, why_len, "more than %u tab-separated fields", N_FIELDS);
            return ATT_ERR_PARSE;
        }
        f[k] = p + s;
        fl[k] = i - s;
        k++;
        s = i + 1;
    }
    if (k != N_FIELDS) {
        att_set_why(why, why_len, "%zu tab-separated fields, not %u", k, N_FIELDS);
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < (size_t)ATT_SEV_CRITICAL + 1; i++) {
        if (fl[3] == strlen(sev_names[i]) && memcmp(f[3], sev_names[i], fl[3]) == 0) {
            e->severity = (enum att_severity)i;
            sev_ok = true;
        }
    }
    if (!sev_ok) {
        att_set_why(why, why_len, "bad severity \"%.*s\"", (int)(fl[3] < 32 ? fl[3] : 32), f[3]);
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < N_FIELDS; i++) {
        if (dst[i] == NULL || (i >= 4 && fl[i] == 1 && f[i][0] == '-')) {
            continue;
        }
        *dst[i] = strndup(f[i], fl[i]);
        if (*dst[i] == NULL) {
            return ATT_ERR_NOMEM;
        }
    }
    return entry_check(e, why, why_len);
}

att_rc att_vulndb_parse(const uint8_t *text, size_t len, struct att_vulndb **out, char *why,
                        size_t why_len)
{
    const char *t = (const char *)text;
    struct att_vulndb *db = NULL;
    const char *nl;
    const char *p;
    size_t lines = 0;
    size_t line = 1;
    size_t i;
    uint64_t feed_time = 0;
    att_rc rc = ATT_ERR_PARSE;
    char ewhy[160];

    if ((text == NULL && len > 0) || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (len > ATT_VULNDB_MAX_TEXT) {
        att_set_why(why, why_len, "vulndb: oversized: %zu bytes, at most %u", len,
                    ATT_VULNDB_MAX_TEXT);
        return ATT_ERR_PARSE;
    }
    if (len == 0 || memchr(text, '\0', len) != NULL) {
        att_set_why(why, why_len, "vulndb: line 1: %s", len == 0 ? "empty" : "NUL byte");
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < len; i++) {
        lines += t[i] == '\n';
    }
    nl = memchr(t, '\n', len);
    if (nl == NULL || (size_t)(nl - t) < strlen(HEADER) || memcmp(t, HEADER, strlen(HEADER)) != 0 ||
        !canon_u64(t + strlen(HEADER), (size_t)(nl - t) - strlen(HEADER), &feed_time)) {
        att_set_why(why, why_len, "vulndb: line 1: not \"" HEADER "<unix seconds>\"");
        return ATT_ERR_PARSE;
    }
    if (lines - 1 > ATT_VULNDB_MAX_ENTRIES) {
        att_set_why(why, why_len, "vulndb: oversized: more than %u entries",
                    ATT_VULNDB_MAX_ENTRIES);
        return ATT_ERR_PARSE;
    }
    db = att_vulndb_new(feed_time);
    if (db == NULL) {
        return ATT_ERR_NOMEM;
    }
    if (lines > 1) {
        db->entries = calloc(lines - 1, sizeof(db->entries[0]));
        if (db->entries == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        db->cap = lines - 1;
    }
    for (p = nl + 1; p < t + len; p = nl + 1) {
        struct att_vuln_entry *e;

        line++;
        nl = memchr(p, '\n', len - (size_t)(p - t));
        if (nl == NULL) {
            att_set_why(why, why_len, "vulndb: line %zu: no newline at the end", line);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        if (db->n_entries >= db->cap) {
            rc = ATT_ERR_INTERNAL; /* impossible: lines were counted */
            goto out;
        }
        e = &db->entries[db->n_entries++];
        rc = parse_line(p, (size_t)(nl - p), e, ewhy, sizeof(ewhy));
        if (rc != ATT_OK) {
            att_set_why(why, why_len, "vulndb: line %zu: %s", line,
                        rc == ATT_ERR_NOMEM ? "out of memory" : ewhy);
            goto out;
        }
        if (db->n_entries > 1) {
            int c = entry_cmp(e - 1, e);

            if (c >= 0) {
                att_set_why(why, why_len, "vulndb: line %zu: %s", line,
                            c == 0 ? "duplicate entry" : "not sorted after the line before");
                rc = ATT_ERR_PARSE;
                goto out;
            }
        }
    }
    rc = att_sha256(text, len, db->digest);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = db;
    db = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    att_vulndb_free(db);
    return rc;
}

bool att_vulndb_fresh(const struct att_vulndb *db, uint64_t now, uint64_t max_age, char *why,
                      size_t why_len)
{
    uint64_t age;

    if (db == NULL) {
        att_set_why(why, why_len, "no vulnerability feed");
        return false;
    }
    /*
     * A feed time ahead of now (clock skew between the machine that built
     * the feed and this one) counts as age 0.
     */
    if (max_age == 0 || db->feed_time >= now) {
        return true;
    }
    age = now - db->feed_time;
    if (age <= max_age) {
        return true;
    }
    att_set_why(why, why_len,
                "the vulnerability feed is %llu s old (%llu days), more than the %llu s allowed",
                (unsigned long long)age, (unsigned long long)(age / 86400),
                (unsigned long long)max_age);
    return false;
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                  */

static bool affects(enum order o, const struct att_vuln_entry *e, const char *v)
{
    if (e->introduced != NULL && vcmp(o, v, e->introduced) < 0) {
        return false;
    }
    if (e->fixed != NULL && vcmp(o, v, e->fixed) >= 0) {
        return false;
    }
    if (e->last_affected != NULL && vcmp(o, v, e->last_affected) > 0) {
        return false;
    }
    return true;
}

static int str_cmp0(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

/*
 * Worst first: severity descending, a fix available first, id, package
 * (name, arch), then the entry's and package's place in their sorted arrays
 * so that the order is total.
 */
static int match_cmp(const void *pa, const void *pb)
{
    const struct att_vuln_match *a = pa;
    const struct att_vuln_match *b = pb;
    int c;

    if (a->entry->severity != b->entry->severity) {
        return a->entry->severity > b->entry->severity ? -1 : 1;
    }
    if ((a->entry->fixed != NULL) != (b->entry->fixed != NULL)) {
        return a->entry->fixed != NULL ? -1 : 1;
    }
    c = strcmp(a->entry->id, b->entry->id);
    if (c == 0) {
        c = str_cmp0(a->pkg->name, b->pkg->name);
    }
    if (c == 0) {
        c = str_cmp0(a->pkg->arch, b->pkg->arch);
    }
    if (c == 0 && a->entry != b->entry) {
        c = a->entry < b->entry ? -1 : 1;
    }
    if (c == 0 && a->pkg != b->pkg) {
        c = a->pkg < b->pkg ? -1 : 1;
    }
    return c;
}

/* Within one package's matches: by id, the worst of each id first. */
static int match_id_cmp(const void *pa, const void *pb)
{
    const struct att_vuln_match *a = pa;
    const struct att_vuln_match *b = pb;
    int c = strcmp(a->entry->id, b->entry->id);

    return c != 0 ? c : match_cmp(pa, pb);
}

/* First entry index whose (ecosystem, package) is not below (@p eco, @p pkg). */
static size_t lower_bound(const struct att_vulndb *db, const char *eco, const char *pkg)
{
    size_t lo = 0;
    size_t hi = db->n_entries;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(db->entries[mid].ecosystem, eco);

        if (c == 0) {
            c = strcmp(db->entries[mid].package, pkg);
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

att_rc att_vulndb_match(const struct att_vulndb *db, const struct att_inventory *inv,
                        struct att_vuln_match **out, size_t *n)
{
    struct att_vuln_match *m = NULL;
    size_t nm = 0;
    size_t cap = 0;
    size_t i;
    enum order o;
    att_rc rc = ATT_ERR_INTERNAL;

    if (db == NULL || inv == NULL || out == NULL || n == NULL ||
        (inv->pkgs == NULL && inv->n_pkgs > 0) ||
        strnlen(inv->ecosystem, sizeof(inv->ecosystem)) == sizeof(inv->ecosystem)) {
        return ATT_ERR_INVALID_ARG;
    }
    o = order_of(inv->ecosystem);
    for (i = 0; o != ORDER_NONE && i < inv->n_pkgs; i++) {
        const struct att_pkg *pkg = &inv->pkgs[i];
        const char *src = pkg->source != NULL ? pkg->source : pkg->name;
        const char *ver = pkg->source_version != NULL ? pkg->source_version : pkg->version;
        size_t first = nm;
        size_t k;
        size_t w;
        bool valid;

        if (src == NULL || ver == NULL) {
            continue;
        }
        /*
         * Fail closed: a version the ecosystem's order cannot place lies in
         * every interval, so a mangled version cannot hide a package.
         */
        valid = vvalid(o, ver);
        for (k = lower_bound(db, inv->ecosystem, src); k < db->n_entries; k++) {
            const struct att_vuln_entry *e = &db->entries[k];

            if (strcmp(e->ecosystem, inv->ecosystem) != 0 || strcmp(e->package, src) != 0) {
                break;
            }
            if (valid && !affects(o, e, ver)) {
                continue;
            }
            if (nm == cap) {
                size_t ncap = cap != 0 ? cap * 2 : 16;
                struct att_vuln_match *nmem;

                if (ncap > SIZE_MAX / sizeof(*m)) {
                    rc = ATT_ERR_NOMEM;
                    goto out;
                }
                nmem = realloc(m, ncap * sizeof(*m));
                if (nmem == NULL) {
                    rc = ATT_ERR_NOMEM;
                    goto out;
                }
                m = nmem;
                cap = ncap;
            }
            m[nm].entry = e;
            m[nm].pkg = pkg;
            nm++;
        }
        /*
         * One finding per (package, id): OSV records list a version both in
         * a range and in versions[], and overlapping intervals would report
         * the same vulnerability twice. The worst of them stays.
         */
        if (nm - first > 1) {
            qsort(m + first, nm - first, sizeof(*m), match_id_cmp);
            for (k = first + 1, w = first + 1; k < nm; k++) {
                if (strcmp(m[k].entry->id, m[w - 1].entry->id) != 0) {
                    m[w++] = m[k];
                }
            }
            nm = w;
        }
    }
    if (nm > 1) {
        qsort(m, nm, sizeof(*m), match_cmp);
    }
    if (nm == 0) {
        free(m);
        m = NULL;
    }
    *out = m;
    m = NULL; /* transferred to the caller */
    *n = nm;
    rc = ATT_OK;
out:
    free(m);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Judgement                                                                 */

void att_vuln_policy_free(struct att_vuln_policy *p)
{
    size_t i;

    if (p == NULL) {
        return;
    }
    for (i = 0; p->allow != NULL && i < p->n_allow; i++) {
        free(p->allow[i].id);
        free(p->allow[i].reason);
    }
    free(p->allow);
    p->allow = NULL;
    p->n_allow = 0;
}

/* Whether @p id is @p e's id or one of its comma-separated aliases. */
static bool names(const struct att_vuln_entry *e, const char *id)
{
    const char *p = e->aliases;
    size_t n = strlen(id);

    if (strcmp(e->id, id) == 0) {
        return true;
    }
    while (p != NULL && *p != '\0') {
        const char *c = strchr(p, ',');
        size_t l = c != NULL ? (size_t)(c - p) : strlen(p);

        if (l == n && memcmp(p, id, n) == 0) {
            return true;
        }
        p = c != NULL ? c + 1 : NULL;
    }
    return false;
}

bool att_vuln_over_bar(const struct att_vuln_policy *p, const struct att_vuln_match *m,
                       uint64_t now, bool *allowed)
{
    size_t i;

    if (allowed != NULL) {
        *allowed = false;
    }
    if (m == NULL || m->entry == NULL) {
        return false; /* no finding at all */
    }
    if (p == NULL) {
        return true; /* fail closed: no bar to measure against */
    }
    if (m->entry->severity < p->refuse_at) {
        return false;
    }
    if (m->entry->fixed == NULL && !p->refuse_unfixed) {
        return false;
    }
    for (i = 0; p->allow != NULL && i < p->n_allow; i++) {
        const struct att_vuln_allow *a = &p->allow[i];

        /* The acceptance ends at expires_at: from then on it is not honoured. */
        if (a->id != NULL && now < a->expires_at && names(m->entry, a->id)) {
            if (allowed != NULL) {
                *allowed = true;
            }
            return false;
        }
    }
    return true;
}

/* Whether @p e (by id and source package) is among the @p n already listed. */
static bool listed(const struct att_vuln_entry *const *l, size_t n, const struct att_vuln_entry *e)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(l[i]->id, e->id) == 0 && strcmp(l[i]->package, e->package) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Whether a finding over the bar after @p from names a vulnerability that is
 * neither listed nor @p cur: then worst[] must keep room for "; ...".
 */
static bool more_after(const struct att_vuln_policy *p, const struct att_vuln_match *m, size_t n,
                       size_t from, uint64_t now, const struct att_vuln_entry *const *l, size_t nl,
                       const struct att_vuln_entry *cur)
{
    size_t j;

    for (j = from + 1; j < n; j++) {
        const struct att_vuln_entry *e = m[j].entry;

        if (att_vuln_over_bar(p, &m[j], now, NULL) && !listed(l, nl, e) &&
            !(strcmp(e->id, cur->id) == 0 && strcmp(e->package, cur->package) == 0)) {
            return true;
        }
    }
    return false;
}

void att_vuln_judge(const struct att_vuln_policy *p, const struct att_vuln_match *m, size_t n,
                    uint64_t now, struct att_vuln_judgement *out)
{
    const struct att_vuln_entry *l[WORST_MAX_LISTS];
    size_t nl = 0;
    size_t len = 0;
    bool truncated = false;
    size_t i;

    if (out == NULL) {
        return;
    }
    memset(out, 0, sizeof(*out));
    if (m == NULL) {
        n = 0;
    }
    out->n_findings = n;
    for (i = 0; i < n; i++) {
        bool allowed = false;
        const struct att_vuln_entry *e = m[i].entry;
        char piece[sizeof(out->worst)];
        const char *sep = len > 0 ? "; " : "";
        size_t reserve;
        int r;

        if (!att_vuln_over_bar(p, &m[i], now, &allowed)) {
            out->n_allowed += allowed;
            continue;
        }
        out->n_over++;
        /* One line per vulnerability of a source, not per binary package built from it. */
        if (truncated || listed(l, nl, e)) {
            continue;
        }
        if (e->fixed != NULL) {
            r = snprintf(piece, sizeof(piece), "%s (%s) in %s %s, fixed in %s", e->id,
                         att_severity_str(e->severity), dash(m[i].pkg->name),
                         dash(m[i].pkg->version), e->fixed);
        } else {
            r = snprintf(piece, sizeof(piece), "%s (%s) in %s %s, no fix yet", e->id,
                         att_severity_str(e->severity), dash(m[i].pkg->name),
                         dash(m[i].pkg->version));
        }
        reserve = more_after(p, m, n, i, now, l, nl, e) ? strlen(MORE) : 0;
        if (r < 0 || nl == WORST_MAX_LISTS ||
            len + strlen(sep) + (size_t)r + reserve >= sizeof(out->worst)) {
            truncated = true;
            continue;
        }
        len += (size_t)snprintf(out->worst + len, sizeof(out->worst) - len, "%s%s", sep, piece);
        l[nl++] = e;
    }
    if (truncated) {
        /* Room was kept for this whenever another finding was still to come. */
        (void)snprintf(out->worst + len, sizeof(out->worst) - len, "%s", len > 0 ? MORE : "...");
    }
}

bool att_vuln_judgeable(const struct att_inventory *inv, char *why, size_t why_len)
{
    if (inv == NULL) {
        att_set_why(why, why_len, "no package inventory");
        return false;
    }
    if (inv->ecosystem[0] != '\0' && inv->format != ATT_PKG_NONE) {
        return true;
    }
    if (inv->ecosystem[0] == '\0' && inv->n_pkgs == 0 && inv->os_id[0] == '\0') {
        return true; /* no OS, no packages: nothing a feed could name */
    }
    if (inv->ecosystem[0] == '\0' && inv->n_pkgs > 0) {
        att_set_why(why, why_len,
                    "cannot tell the OS release of the image (no usable os-release): refusing "
                    "to judge its %zu packages",
                    inv->n_pkgs);
    } else if (inv->ecosystem[0] == '\0') {
        att_set_why(why, why_len,
                    "the image's OS \"%s\" has no supported package ecosystem (dpkg or apk): "
                    "refusing to judge it",
                    inv->os_id);
    } else {
        att_set_why(why, why_len,
                    "the image names %s but has no package database (dpkg status or apk "
                    "installed): refusing to judge it",
                    inv->ecosystem);
    }
    return false;
}
