/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OSV records and the Debian security tracker's JSON, read into an
 * att_vulndb (see attest/vulnfeed_json.h for the mapping). The bytes come
 * from a download: the document size and nesting depth are bounded before
 * jansson sees them, duplicate keys are refused, and every field that is
 * used has its type checked. Unknown fields are ignored. An import either
 * adds all of a document's entries or none (the db is rolled back).
 * Formats: OSV schema 1.6 (https://ossf.github.io/osv-schema/), RFC 3339 §5.6.
 */
#define _DEFAULT_SOURCE /* strnlen, json helpers */
#include "attest/vulnfeed_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "attest/json_what.h"
#include "attest/util.h"
#include "attest/vercmp.h"

#define MAX_DEPTH   32u   /* OSV nests 6 deep, the tracker 5 */
#define MAX_ALIASES 256u  /* per record */
#define MAX_EVENTS  4096u /* per range */
#define MAX_NAME    64    /* how much of a foreign string an error message quotes */

/* ------------------------------------------------------------------------ */
/* Shared                                                                    */

/* A foreign string safe to quote in an error message (printable ASCII). */
static const char *quotable(const char *s)
{
    size_t i;

    if (s == NULL) {
        return "?";
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"') {
            return "?";
        }
    }
    return s;
}

/*
 * Whether no array or object in @p s nests deeper than @p max. Runs before
 * jansson (which recurses per level, up to 2048) and only needs to be right
 * for well-formed JSON: anything else jansson refuses afterwards.
 */
static bool depth_ok(const char *s, size_t len, size_t max)
{
    size_t depth = 0;
    bool in_str = false;
    bool esc = false;
    size_t i;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (in_str) {
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                esc = true;
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) {
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

static att_rc load(const char *json, size_t len, const char *what, json_t **out, char *why,
                   size_t why_len)
{
    json_error_t err;

    if (len > ATT_VULNFEED_MAX_DOC) {
        att_set_why(why, why_len, "%s: larger than %u bytes", what, ATT_VULNFEED_MAX_DOC);
        return ATT_ERR_PARSE;
    }
    if (!depth_ok(json, len, MAX_DEPTH)) {
        att_set_why(why, why_len, "%s: nested deeper than %u levels", what, MAX_DEPTH);
        return ATT_ERR_PARSE;
    }
    /* DECODE_ANY: a scalar document gets our "not an object" reason, not "invalid JSON". */
    *out = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (*out == NULL) {
        att_set_why(why, why_len, "%s: line %d: %s", what, err.line, att_json_error_what(&err));
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

/*
 * A severity word as feeds write it. On top of att_severity_parse: the
 * tracker's "end-of-life" (the release no longer gets security support, so
 * no urgency is assigned) and Ubuntu's "untriaged" are unknown.
 */
static bool feed_severity(const char *w, enum att_severity *out)
{
    if (w == NULL) {
        return false;
    }
    if (strcmp(w, "end-of-life") == 0 || strcmp(w, "untriaged") == 0) {
        *out = ATT_SEV_UNKNOWN;
        return true;
    }
    return att_severity_parse(w, out) == ATT_OK;
}

/* RFC 3339 time (att_rfc3339_parse) as unix seconds. */
static bool rfc3339(const char *s, uint64_t *out)
{
    struct timespec ts;

    if (!att_rfc3339_parse(s, &ts)) {
        return false;
    }
    *out = (uint64_t)ts.tv_sec;
    return true;
}

/* ------------------------------------------------------------------------ */
/* OSV                                                                       */

struct osv {
    struct att_vulndb *db;
    const char *doc; /* the document's name for errors */
    size_t rec;      /* index of the record in the document */
    const char *id;  /* the record's id once known */
    struct att_vulnfeed_stats st;
    char *why;
    size_t why_len;
};

static att_rc osv_fail(struct osv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set why to "<doc>: record N (ID): <message>"; always returns ATT_ERR_PARSE. */
static att_rc osv_fail(struct osv *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    att_set_why(c->why, c->why_len, "%s: record %zu (%.*s): %s", c->doc, c->rec, MAX_NAME,
                quotable(c->id), msg);
    return ATT_ERR_PARSE;
}

/* A member that must be a string when present: NULL when absent, false when of another type. */
static bool opt_string(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL) {
        return true;
    }
    *out = json_string_value(v);
    return *out != NULL;
}

/* A member that must be an object (or an array) when present. */
static bool opt_object(json_t *o, const char *key, json_t **out)
{
    *out = json_object_get(o, key);
    return *out == NULL || json_is_object(*out);
}

static bool opt_array(json_t *o, const char *key, json_t **out)
{
    *out = json_object_get(o, key);
    return *out == NULL || json_is_array(*out);
}

/* aliases[]: strings joined with ','; *out NULL when there are none. */
static att_rc osv_aliases(struct osv *c, json_t *rec, char **out)
{
    struct att_buf b;
    json_t *arr;
    size_t i;
    att_rc rc = ATT_ERR_PARSE;

    *out = NULL;
    if (!opt_array(rec, "aliases", &arr) || (arr != NULL && json_array_size(arr) > MAX_ALIASES)) {
        return osv_fail(c, "\"aliases\" is not an array of at most %u ids", MAX_ALIASES);
    }
    if (arr == NULL || json_array_size(arr) == 0) {
        return ATT_OK;
    }
    att_buf_init(&b, ATT_VULN_MAX_ALIASES);
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        const char *s = json_string_value(v);

        if (s == NULL || s[0] == '\0' || strchr(s, ',') != NULL) {
            rc = osv_fail(c, "aliases[%zu] is not an id string", i);
            goto out;
        }
        rc = att_buf_printf(&b, "%s%s", i > 0 ? "," : "", s);
        if (rc != ATT_OK) {
            rc = rc == ATT_ERR_NOMEM ? rc : osv_fail(c, "aliases[%zu] is too long", i);
            goto out;
        }
    }
    /* The characters allowed in each id are checked by att_vulndb_add. */
    *out = (char *)att_buf_steal(&b, NULL);
    rc = ATT_OK;
out:
    att_buf_cleanup(&b);
    return rc;
}

/* What severity[] (top level or one affected[] item's) says. */
struct sev_seen {
    bool has_cvss;
    double cvss_score;
    enum att_severity cvss;
    bool has_ubuntu;
    enum att_severity ubuntu;
};

/*
 * Read a severity[] array: CVSS_V3 vectors (the highest base score wins)
 * and Ubuntu's priority word. Other types (CVSS_V2, CVSS_V4, ...) are
 * ignored: their scores would need another calculator.
 */
static att_rc osv_severity_array(struct osv *c, json_t *arr, const char *where, struct sev_seen *s)
{
    size_t i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *score = json_string_value(json_object_get(v, "score"));
        enum att_severity sev = ATT_SEV_UNKNOWN;
        double x = 0;

        if (!json_is_object(v) || type == NULL || score == NULL) {
            return osv_fail(c, "%sseverity[%zu] is not {\"type\": \"...\", \"score\": \"...\"}",
                            where, i);
        }
        if (strcmp(type, "CVSS_V3") == 0) {
            if (att_cvss3_severity(score, &x, &sev) != ATT_OK) {
                return osv_fail(c, "%sseverity[%zu] is not a complete CVSS v3 base vector", where,
                                i);
            }
            if (!s->has_cvss || x > s->cvss_score) {
                s->cvss_score = x;
                s->cvss = sev;
            }
            s->has_cvss = true;
        } else if (strcmp(type, "Ubuntu") == 0) {
            if (!feed_severity(score, &sev)) {
                return osv_fail(c, "%sseverity[%zu]: unknown Ubuntu priority \"%.*s\"", where, i,
                                MAX_NAME, quotable(score));
            }
            s->has_ubuntu = true;
            s->ubuntu = sev;
        }
    }
    return ATT_OK;
}

/* A severity word member of @p o (when present): a string the feed vocabulary knows. */
static att_rc osv_word(struct osv *c, json_t *o, const char *key, const char *where, bool *has,
                       enum att_severity *out)
{
    const char *w;

    *has = false;
    if (o == NULL) {
        return ATT_OK;
    }
    if (!opt_string(o, key, &w)) {
        return osv_fail(c, "%s.%s is not a string", where, key);
    }
    if (w == NULL) {
        return ATT_OK;
    }
    if (!feed_severity(w, out)) {
        return osv_fail(c, "%s.%s: unknown severity \"%.*s\"", where, key, MAX_NAME, quotable(w));
    }
    *has = true;
    return ATT_OK;
}

/*
 * The severity of one affected[] item, in order: a CVSS v3 vector in the
 * item's severity[] (OSV allows per-package severity) or else the record's,
 * an Ubuntu priority there, the record's database_specific.severity (GHSA),
 * the item's ecosystem_specific.urgency (Debian) or .severity, else unknown.
 * Every source present is validated, used or not.
 */
static att_rc osv_severity(struct osv *c, json_t *rec, json_t *aff, size_t ai,
                           enum att_severity *out)
{
    struct sev_seen s;
    json_t *arr = NULL;
    json_t *dbs = NULL;
    json_t *eco = NULL;
    bool has_db = false;
    bool has_urg = false;
    bool has_esev = false;
    enum att_severity db_sev = ATT_SEV_UNKNOWN;
    enum att_severity urg = ATT_SEV_UNKNOWN;
    enum att_severity esev = ATT_SEV_UNKNOWN;
    char where[80];
    att_rc rc;

    (void)snprintf(where, sizeof(where), "affected[%zu].", ai);
    if (!opt_array(aff, "severity", &arr)) {
        return osv_fail(c, "affected[%zu].severity is not an array", ai);
    }
    if (arr == NULL) {
        (void)snprintf(where, sizeof(where), "%s", "");
        if (!opt_array(rec, "severity", &arr)) {
            return osv_fail(c, "\"severity\" is not an array");
        }
    }
    memset(&s, 0, sizeof(s));
    if (arr != NULL) {
        rc = osv_severity_array(c, arr, where, &s);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    (void)snprintf(where, sizeof(where), "affected[%zu].ecosystem_specific", ai);
    if (!opt_object(rec, "database_specific", &dbs)) {
        return osv_fail(c, "\"database_specific\" is not an object");
    }
    if (!opt_object(aff, "ecosystem_specific", &eco)) {
        return osv_fail(c, "%s is not an object", where);
    }
    rc = osv_word(c, dbs, "severity", "database_specific", &has_db, &db_sev);
    if (rc == ATT_OK) {
        rc = osv_word(c, eco, "urgency", where, &has_urg, &urg);
    }
    if (rc == ATT_OK) {
        rc = osv_word(c, eco, "severity", where, &has_esev, &esev);
    }
    if (rc != ATT_OK) {
        return rc;
    }
    if (s.has_cvss) {
        *out = s.cvss;
    } else if (s.has_ubuntu) {
        *out = s.ubuntu;
    } else if (has_db) {
        *out = db_sev;
    } else if (has_urg) {
        *out = urg;
    } else if (has_esev) {
        *out = esev;
    } else {
        *out = ATT_SEV_UNKNOWN;
    }
    return ATT_OK;
}

static att_rc osv_emit(struct osv *c, struct att_vuln_entry *e, const char *introduced,
                       const char *fixed, const char *last_affected)
{
    char ewhy[160];
    att_rc rc;

    e->introduced = (char *)(uintptr_t)introduced;
    e->fixed = (char *)(uintptr_t)fixed;
    e->last_affected = (char *)(uintptr_t)last_affected;
    rc = att_vulndb_add(c->db, e, ewhy, sizeof(ewhy));
    e->introduced = e->fixed = e->last_affected = NULL;
    if (rc == ATT_ERR_PARSE) {
        return osv_fail(c, "package %.*s: %s", MAX_NAME, quotable(e->package), ewhy);
    }
    if (rc == ATT_OK) {
        c->st.entries++;
    }
    return rc;
}

enum ev_kind { EV_INTRODUCED = 0, EV_FIXED, EV_LAST_AFFECTED, EV_LIMIT };

typedef int (*ver_cmp_fn)(const char *a, const char *b);
typedef bool (*ver_ok_fn)(const char *v);

struct event {
    enum ev_kind kind;
    const char *v;
    size_t idx;
    ver_cmp_fn cmp; /* the ecosystem's order (qsort has no context argument) */
};

/* By version in the ecosystem's order ("introduced": "0" first), then as listed. */
static int event_cmp(const void *pa, const void *pb)
{
    const struct event *a = pa;
    const struct event *b = pb;
    bool az = a->kind == EV_INTRODUCED && strcmp(a->v, "0") == 0;
    bool bz = b->kind == EV_INTRODUCED && strcmp(b->v, "0") == 0;
    int c = 0;

    if (az != bz) {
        return az ? -1 : 1;
    }
    if (!az) {
        c = a->cmp(a->v, b->v);
    }
    if (c == 0 && a->idx != b->idx) {
        c = a->idx < b->idx ? -1 : 1;
    }
    return c;
}

static bool debver_ok(const char *v)
{
    return att_debver_valid(v, NULL, 0);
}

/* The version order of an ecosystem and its validity check; NULL when it has none. */
static ver_cmp_fn order_of(const char *eco, ver_ok_fn *valid)
{
    if (strncmp(eco, "Debian:", 7) == 0 || strncmp(eco, "Ubuntu:", 7) == 0) {
        *valid = debver_ok;
        return att_debver_cmp;
    }
    if (strncmp(eco, "Alpine:", 7) == 0) {
        *valid = att_apkver_valid;
        return att_apkver_cmp;
    }
    *valid = NULL;
    return NULL;
}

/*
 * One ECOSYSTEM range: its events sorted by version (OSV does not require
 * them sorted; its evaluation sorts them) and cut into intervals:
 * "introduced" opens one (when none is open; "0" means from the first
 * version), "fixed" and "limit" close it as fixed, "last_affected" closes it
 * inclusively; one still open at the end has no fix. "limit": "*" (no
 * limit) is ignored. Ecosystems without a version order keep the events as
 * listed: their entries never match, but they are kept.
 */
static att_rc osv_range(struct osv *c, json_t *events, const char *where, struct att_vuln_entry *e)
{
    static const char *const keys[] = {"introduced", "fixed", "last_affected", "limit"};
    struct event *ev = NULL;
    size_t n = 0;
    size_t i;
    ver_ok_fn valid = NULL;
    ver_cmp_fn ord = order_of(e->ecosystem, &valid);
    const char *start = NULL;
    bool open = false;
    att_rc rc = ATT_ERR_PARSE;

    if (!json_is_array(events) || json_array_size(events) == 0 ||
        json_array_size(events) > MAX_EVENTS) {
        return osv_fail(c, "%s.events is not an array of 1 to %u events", where, MAX_EVENTS);
    }
    ev = calloc(json_array_size(events), sizeof(*ev));
    if (ev == NULL) {
        return ATT_ERR_NOMEM;
    }
    for (i = 0; i < json_array_size(events); i++) {
        json_t *v = json_array_get(events, i);
        void *it;
        size_t k;
        bool known = false;

        if (!json_is_object(v) || json_object_size(v) != 1) {
            rc = osv_fail(c, "%s.events[%zu] is not an object with exactly one key", where, i);
            goto out;
        }
        for (it = json_object_iter(v); it != NULL; it = json_object_iter_next(v, it)) {
            const char *key = json_object_iter_key(it);
            json_t *val = json_object_iter_value(it);

            for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
                if (strcmp(key, keys[k]) == 0) {
                    ev[n].kind = (enum ev_kind)k;
                    known = true;
                }
            }
            ev[n].v = json_string_value(val);
        }
        if (!known || ev[n].v == NULL || ev[n].v[0] == '\0') {
            rc = osv_fail(c,
                          "%s.events[%zu] is not {\"introduced\"|\"fixed\"|\"last_affected\"|"
                          "\"limit\": \"version\"}",
                          where, i);
            goto out;
        }
        if (ev[n].kind == EV_LIMIT && strcmp(ev[n].v, "*") == 0) {
            continue;
        }
        if (valid != NULL && !valid(ev[n].v)) {
            rc = osv_fail(c, "%s.events[%zu]: \"%.*s\" is not a %s version", where, i, MAX_NAME,
                          quotable(ev[n].v), e->ecosystem);
            goto out;
        }
        ev[n].idx = i;
        ev[n].cmp = ord;
        n++;
    }
    if (ord != NULL && n > 1) {
        qsort(ev, n, sizeof(*ev), event_cmp);
    }
    for (i = 0; i < n; i++) {
        rc = ATT_OK;
        if (ev[i].kind == EV_INTRODUCED && !open) {
            open = true;
            start = strcmp(ev[i].v, "0") == 0 ? NULL : ev[i].v;
        } else if ((ev[i].kind == EV_FIXED || ev[i].kind == EV_LIMIT) && open) {
            open = false;
            rc = osv_emit(c, e, start, ev[i].v, NULL);
        } else if (ev[i].kind == EV_LAST_AFFECTED && open) {
            open = false;
            rc = osv_emit(c, e, start, NULL, ev[i].v);
        }
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if (open) {
        rc = osv_emit(c, e, start, NULL, NULL);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    free(ev);
    return rc;
}

/* One affected[] item: its package, severity, ranges and versions. */
static att_rc osv_affected(struct osv *c, json_t *rec, json_t *aff, size_t ai, const char *aliases)
{
    struct att_vuln_entry e;
    json_t *pkg = NULL;
    json_t *ranges = NULL;
    json_t *versions = NULL;
    const char *eco = NULL;
    const char *name = NULL;
    char eco_buf[80];
    char where[80];
    size_t i;
    att_rc rc;

    if (!json_is_object(aff)) {
        return osv_fail(c, "affected[%zu] is not an object", ai);
    }
    if (!opt_object(aff, "package", &pkg) ||
        (pkg != NULL && (!opt_string(pkg, "ecosystem", &eco) || !opt_string(pkg, "name", &name)))) {
        return osv_fail(c,
                        "affected[%zu].package is not {\"ecosystem\": \"...\", \"name\": "
                        "\"...\"}",
                        ai);
    }
    if (!opt_array(aff, "ranges", &ranges)) {
        return osv_fail(c, "affected[%zu].ranges is not an array", ai);
    }
    if (!opt_array(aff, "versions", &versions)) {
        return osv_fail(c, "affected[%zu].versions is not an array", ai);
    }
    if (eco == NULL) {
        /* No package (a GIT-only record): nothing we can match. */
        c->st.skipped_ranges += ranges != NULL ? json_array_size(ranges) : 0;
        return ATT_OK;
    }
    if (name == NULL) {
        return osv_fail(c, "affected[%zu].package has an ecosystem but no name", ai);
    }
    memset(&e, 0, sizeof(e));
    /* OSV names Ubuntu LTS releases "Ubuntu:22.04:LTS"; inventories say "Ubuntu:22.04" */
    if (strncmp(eco, "Ubuntu:", 7) == 0 && strlen(eco) < sizeof(eco_buf) &&
        strlen(eco) > 11 && strcmp(eco + strlen(eco) - 4, ":LTS") == 0) {
        (void)snprintf(eco_buf, sizeof(eco_buf), "%.*s", (int)(strlen(eco) - 4), eco);
        eco = eco_buf;
    }
    e.ecosystem = (char *)(uintptr_t)eco;
    e.package = (char *)(uintptr_t)name;
    e.id = (char *)(uintptr_t)c->id;
    e.aliases = (char *)(uintptr_t)aliases;
    rc = osv_severity(c, rec, aff, ai, &e.severity);
    if (rc != ATT_OK) {
        return rc;
    }
    for (i = 0; i < json_array_size(ranges); i++) {
        json_t *v = json_array_get(ranges, i);
        const char *type = NULL;

        (void)snprintf(where, sizeof(where), "affected[%zu].ranges[%zu]", ai, i);
        if (!json_is_object(v) || !opt_string(v, "type", &type) || type == NULL) {
            return osv_fail(c, "%s is not an object with a \"type\" string", where);
        }
        if (strcmp(type, "GIT") == 0 || strcmp(type, "SEMVER") == 0) {
            c->st.skipped_ranges++;
            continue;
        }
        if (strcmp(type, "ECOSYSTEM") != 0) {
            return osv_fail(c, "%s: unknown range type \"%.*s\"", where, MAX_NAME, quotable(type));
        }
        rc = osv_range(c, json_object_get(v, "events"), where, &e);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    for (i = 0; i < json_array_size(versions); i++) {
        json_t *v = json_array_get(versions, i);
        const char *ver = json_string_value(v);

        if (ver == NULL) {
            return osv_fail(c, "affected[%zu].versions[%zu] is not a string", ai, i);
        }
        rc = osv_emit(c, &e, ver, NULL, ver);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    return ATT_OK;
}

static att_rc osv_record(struct osv *c, json_t *rec)
{
    const char *modified = NULL;
    const char *withdrawn = NULL;
    json_t *affected = NULL;
    char *aliases = NULL;
    uint64_t t = 0;
    uint64_t tw = 0;
    size_t i;
    att_rc rc = ATT_ERR_PARSE;

    c->id = NULL;
    if (!json_is_object(rec)) {
        return osv_fail(c, "not an object");
    }
    if (!opt_string(rec, "id", &c->id) || c->id == NULL || c->id[0] == '\0' ||
        strlen(c->id) > ATT_VULN_MAX_ID) {
        c->id = NULL;
        return osv_fail(c, "\"id\" is not a string of 1 to %u characters", ATT_VULN_MAX_ID);
    }
    if (!opt_string(rec, "modified", &modified) || modified == NULL || !rfc3339(modified, &t)) {
        return osv_fail(c, "\"modified\" is not an RFC 3339 time (e.g. 2024-01-02T03:04:05Z)");
    }
    if (!opt_string(rec, "withdrawn", &withdrawn) ||
        (withdrawn != NULL && !rfc3339(withdrawn, &tw))) {
        return osv_fail(c, "\"withdrawn\" is not an RFC 3339 time");
    }
    if (!opt_array(rec, "affected", &affected)) {
        return osv_fail(c, "\"affected\" is not an array");
    }
    c->st.records++;
    if (t > c->db->feed_time) {
        c->db->feed_time = t;
    }
    rc = osv_aliases(c, rec, &aliases);
    if (rc != ATT_OK) {
        goto out;
    }
    /* A withdrawn record no longer claims anything; its fields are still checked. */
    for (i = 0; i < json_array_size(affected); i++) {
        json_t *v = json_array_get(affected, i);
        size_t before = c->db->n_entries;

        rc = osv_affected(c, rec, v, i, aliases);
        if (rc != ATT_OK) {
            goto out;
        }
        if (withdrawn != NULL) {
            c->st.entries -= c->db->n_entries - before;
            att_vulndb_truncate(c->db, before);
        }
    }
    rc = ATT_OK;
out:
    free(aliases);
    return rc;
}

att_rc att_vulnfeed_osv_add(struct att_vulndb *db, const char *json, size_t len, const char *name,
                            struct att_vulnfeed_stats *st, char *why, size_t why_len)
{
    struct osv c;
    json_t *root = NULL;
    size_t n0;
    uint64_t t0;
    size_t i;
    att_rc rc = ATT_ERR_PARSE;

    if (db == NULL || (json == NULL && len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(&c, 0, sizeof(c));
    c.db = db;
    c.doc = name != NULL ? name : "OSV";
    c.why = why;
    c.why_len = why_len;
    n0 = db->n_entries;
    t0 = db->feed_time;
    rc = load(json != NULL ? json : "", len, c.doc, &root, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (json_is_object(root)) {
        rc = osv_record(&c, root);
    } else if (json_is_array(root)) {
        rc = ATT_OK;
        for (i = 0; rc == ATT_OK && i < json_array_size(root); i++) {
            c.rec = i;
            rc = osv_record(&c, json_array_get(root, i));
        }
    } else {
        att_set_why(why, why_len, "%s: not an OSV record (an object) or an array of them", c.doc);
        rc = ATT_ERR_PARSE;
    }
    if (rc != ATT_OK) {
        goto out;
    }
    if (st != NULL) {
        st->records += c.st.records;
        st->entries += c.st.entries;
        st->skipped_ranges += c.st.skipped_ranges;
    }
    rc = ATT_OK;
out:
    if (rc != ATT_OK) {
        if (rc == ATT_ERR_NOMEM) {
            att_set_why(why, why_len, "%s: out of memory", c.doc);
        }
        att_vulndb_truncate(db, n0);
        db->feed_time = t0;
    }
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Debian security tracker                                                   */

static const struct {
    const char *codename;
    const char *ecosystem;
} codenames[] = {
    {"buster", "Debian:10"},
    {"bullseye", "Debian:11"},
    {"bookworm", "Debian:12"},
    {"trixie", "Debian:13"},
};

static const char *codename_ecosystem(const char *codename)
{
    size_t i;

    for (i = 0; i < sizeof(codenames) / sizeof(codenames[0]); i++) {
        if (strcmp(codename, codenames[i].codename) == 0) {
            return codenames[i].ecosystem;
        }
    }
    return NULL;
}

/*
 * One release of one (package, CVE): {"status", "fixed_version", "urgency",
 * ...}. Adds at most one entry; not-affected releases count as skipped.
 */
static att_rc tracker_release(struct att_vulndb *db, const char *pkg, const char *cve,
                              const char *codename, json_t *r, struct att_vulnfeed_stats *st,
                              char *why, size_t why_len)
{
    struct att_vuln_entry e;
    const char *status = NULL;
    const char *fixed = NULL;
    const char *urgency = NULL;
    char ewhy[160];
    att_rc rc;

    if (!json_is_object(r) || !opt_string(r, "status", &status) || status == NULL ||
        !opt_string(r, "fixed_version", &fixed) || !opt_string(r, "urgency", &urgency) ||
        urgency == NULL) {
        att_set_why(why, why_len,
                    "tracker: %.*s/%.*s: releases.%s is not {\"status\": \"...\", \"urgency\": "
                    "\"...\", \"fixed_version\": \"...\"}",
                    MAX_NAME, quotable(pkg), MAX_NAME, quotable(cve), codename);
        return ATT_ERR_PARSE;
    }
    memset(&e, 0, sizeof(e));
    if (!feed_severity(urgency, &e.severity)) {
        att_set_why(why, why_len, "tracker: %.*s/%.*s: releases.%s: unknown urgency \"%.*s\"",
                    MAX_NAME, quotable(pkg), MAX_NAME, quotable(cve), codename, MAX_NAME,
                    quotable(urgency));
        return ATT_ERR_PARSE;
    }
    if (strcmp(status, "resolved") == 0) {
        if (fixed == NULL) {
            att_set_why(why, why_len,
                        "tracker: %.*s/%.*s: releases.%s: resolved without a "
                        "fixed_version",
                        MAX_NAME, quotable(pkg), MAX_NAME, quotable(cve), codename);
            return ATT_ERR_PARSE;
        }
        if (strcmp(fixed, "0") == 0) {
            st->skipped_ranges++; /* never affected in this release */
            return ATT_OK;
        }
    } else if (strcmp(status, "open") == 0 || strcmp(status, "undetermined") == 0) {
        fixed = NULL;
    } else {
        att_set_why(why, why_len, "tracker: %.*s/%.*s: releases.%s: unknown status \"%.*s\"",
                    MAX_NAME, quotable(pkg), MAX_NAME, quotable(cve), codename, MAX_NAME,
                    quotable(status));
        return ATT_ERR_PARSE;
    }
    e.ecosystem = (char *)(uintptr_t)codename_ecosystem(codename);
    e.package = (char *)(uintptr_t)pkg;
    e.id = (char *)(uintptr_t)cve;
    e.fixed = (char *)(uintptr_t)fixed;
    rc = att_vulndb_add(db, &e, ewhy, sizeof(ewhy));
    if (rc == ATT_ERR_PARSE) {
        att_set_why(why, why_len, "tracker: %.*s/%.*s: releases.%s: %s", MAX_NAME, quotable(pkg),
                    MAX_NAME, quotable(cve), codename, ewhy);
    }
    if (rc == ATT_OK) {
        st->entries++;
    }
    return rc;
}

static att_rc tracker_doc(struct att_vulndb *db, json_t *root, const char *release,
                          struct att_vulnfeed_stats *st, char *why, size_t why_len)
{
    void *pi;

    if (!json_is_object(root)) {
        att_set_why(why, why_len, "tracker: the document is not an object of source packages");
        return ATT_ERR_PARSE;
    }
    for (pi = json_object_iter(root); pi != NULL; pi = json_object_iter_next(root, pi)) {
        const char *pkg = json_object_iter_key(pi);
        json_t *cves = json_object_iter_value(pi);
        void *ci;

        if (!json_is_object(cves)) {
            att_set_why(why, why_len, "tracker: %.*s is not an object of CVE ids", MAX_NAME,
                        quotable(pkg));
            return ATT_ERR_PARSE;
        }
        for (ci = json_object_iter(cves); ci != NULL; ci = json_object_iter_next(cves, ci)) {
            const char *cve = json_object_iter_key(ci);
            json_t *rec = json_object_iter_value(ci);
            json_t *rels = NULL;
            void *ri;

            if (!json_is_object(rec) || !opt_object(rec, "releases", &rels) || rels == NULL) {
                att_set_why(why, why_len, "tracker: %.*s/%.*s has no \"releases\" object", MAX_NAME,
                            quotable(pkg), MAX_NAME, quotable(cve));
                return ATT_ERR_PARSE;
            }
            st->records++;
            for (ri = json_object_iter(rels); ri != NULL; ri = json_object_iter_next(rels, ri)) {
                const char *codename = json_object_iter_key(ri);
                json_t *r = json_object_iter_value(ri);
                att_rc rc;

                if (release != NULL && strcmp(codename, release) != 0) {
                    continue;
                }
                if (codename_ecosystem(codename) == NULL) {
                    st->skipped_ranges++; /* sid, or a release we have no ecosystem for */
                    continue;
                }
                rc = tracker_release(db, pkg, cve, codename, r, st, why, why_len);
                if (rc != ATT_OK) {
                    return rc;
                }
            }
        }
    }
    return ATT_OK;
}

att_rc att_vulnfeed_tracker_add(struct att_vulndb *db, const char *json, size_t len,
                                const char *release, struct att_vulnfeed_stats *st, char *why,
                                size_t why_len)
{
    struct att_vulnfeed_stats s;
    json_t *root = NULL;
    size_t n0;
    att_rc rc = ATT_ERR_PARSE;

    if (db == NULL || (json == NULL && len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    if (release != NULL && codename_ecosystem(release) == NULL) {
        att_set_why(why, why_len,
                    "tracker: unknown release \"%.*s\" (buster, bullseye, bookworm, trixie)",
                    MAX_NAME, quotable(release));
        return ATT_ERR_INVALID_ARG;
    }
    memset(&s, 0, sizeof(s));
    n0 = db->n_entries;
    rc = load(json != NULL ? json : "", len, "tracker", &root, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = tracker_doc(db, root, release, &s, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (st != NULL) {
        st->records += s.records;
        st->entries += s.entries;
        st->skipped_ranges += s.skipped_ranges;
    }
    rc = ATT_OK;
out:
    if (rc != ATT_OK) {
        if (rc == ATT_ERR_NOMEM) {
            att_set_why(why, why_len, "tracker: out of memory");
        }
        att_vulndb_truncate(db, n0);
    }
    json_decref(root);
    return rc;
}
