/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON (RFC 8259) form of the policy model, schema in proto/policy.schema.json,
 * through jansson:
 *   {"version": 1, "name": "...", "reference_values": {"/abs/path": ["sha256:<64 hex>", ...]}}
 * The parser is strict: unknown top-level keys, duplicate keys, trailing
 * content and anything the schema does not allow are errors, because a typo
 * must not weaken a policy. jansson's own error texts never reach why (they
 * may be shown to a remote operator); we map its error codes to our words.
 */
#include "attest/policy_json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "attest/json_what.h"
#include "attest/netpolicy.h"
#include "attest/proto.h"
#include "attest/util.h"

#define DIGEST_PREFIX     "sha256:"
#define DIGEST_PREFIX_LEN (sizeof(DIGEST_PREFIX) - 1)
#define DIGEST_TEXT_LEN   (DIGEST_PREFIX_LEN + 2 * ATT_SHA256_LEN)
#define POLICY_VERSION    1
#define NAME_MAX_LEN      ATT_PROTO_MAX_TEXT

/* Our words for what jansson found; its error text stays out of why. */
static void why_json(char *why, size_t why_len, const json_error_t *err)
{
    att_set_why(why, why_len, "policy: %s at line %d, column %d", att_json_error_what(err),
                err->line, err->column);
}

/* "sha256:" followed by exactly 64 hex digits (either case) -> 32 bytes. */
static bool digest_parse(const json_t *v, uint8_t out[ATT_SHA256_LEN])
{
    const char *s;

    if (!json_is_string(v) || json_string_length(v) != DIGEST_TEXT_LEN) {
        return false;
    }
    s = json_string_value(v);
    if (strncmp(s, DIGEST_PREFIX, DIGEST_PREFIX_LEN) != 0) {
        return false;
    }
    return att_hex_decode(s + DIGEST_PREFIX_LEN, out, ATT_SHA256_LEN) == ATT_OK;
}

/*
 * A path from the file is quoted in why only when it has no control bytes,
 * quotes or backslashes: why ends up in logs and HTTP error bodies. Other
 * paths are named by their position in sorted order instead.
 */
static bool quotable(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20u || c == 0x7fu || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

/* Name path @p i of reference_values for a why message: "\"/usr/bin/ls\"" or "#3". */
static void path_label(char *buf, size_t len, const char *path, size_t i)
{
    if (quotable(path)) {
        (void)snprintf(buf, len, "\"%.200s\"", path);
    } else {
        (void)snprintf(buf, len, "#%zu", i);
    }
}

struct member {
    const char *key; /* borrowed from the jansson object */
    json_t *value;   /* borrowed */
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a;
    const struct member *y = b;

    return strcmp(x->key, y->key);
}

/*
 * Add every reference value of the "reference_values" object @p rv to @p p.
 * The members are sorted by path first, so each att_policy_add() appends
 * instead of inserting in the middle: O(n log n) for a policy of n paths in
 * any order, where jansson's insertion-ordered iteration would cost O(n^2)
 * memmoves on an unsorted file.
 */
static att_rc add_reference_values(struct att_policy *p, json_t *rv, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct member *m = NULL;
    size_t n = json_object_size(rv);
    size_t i = 0;
    size_t k;
    const char *key;
    json_t *value;

    if (n > 0) {
        m = calloc(n, sizeof(*m));
        if (m == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    json_object_foreach(rv, key, value)
    {
        if (i < n) {
            m[i].key = key;
            m[i].value = value;
            i++;
        }
    }
    if (i != n) {
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    if (n > 1) {
        qsort(m, n, sizeof(*m), member_cmp);
    }
    for (i = 0; i < n; i++) {
        size_t len = strlen(m[i].key);
        char label[256];

        path_label(label, sizeof(label), m[i].key, i);
        if (m[i].key[0] != '/' || len >= ATT_POLICY_MAX_PATH) {
            att_set_why(why, why_len,
                        "policy: reference_values key %s must be an absolute path shorter than %d "
                        "bytes",
                        label, ATT_POLICY_MAX_PATH);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        if (!json_is_array(m[i].value) || json_array_size(m[i].value) == 0) {
            att_set_why(why, why_len,
                        "policy: reference_values[%s] must be a non-empty array of digests", label);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        for (k = 0; k < json_array_size(m[i].value); k++) {
            uint8_t digest[ATT_SHA256_LEN];

            if (!digest_parse(json_array_get(m[i].value, k), digest)) {
                att_set_why(why, why_len,
                            "policy: reference_values[%s][%zu] must be \"sha256:\" followed by 64 "
                            "hex digits",
                            label, k);
                rc = ATT_ERR_PARSE;
                goto out;
            }
            rc = att_policy_add(p, m[i].key, digest);
            if (rc != ATT_OK) {
                goto out;
            }
        }
    }
    rc = ATT_OK;
out:
    free(m);
    return rc;
}

#define MAX_CONTAINER_POLICIES 256
#define MAX_LIST               64

static bool image_id_ok(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != DIGEST_TEXT_LEN ||
        strncmp(s, DIGEST_PREFIX, DIGEST_PREFIX_LEN) != 0) {
        return false;
    }
    for (i = DIGEST_PREFIX_LEN; i < DIGEST_TEXT_LEN; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static bool cap_ok(const char *s)
{
    size_t i;

    if (s == NULL || strncmp(s, "CAP_", 4) != 0 || strlen(s) > 40 || strlen(s) < 5) {
        return false;
    }
    for (i = 4; s[i] != '\0'; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_')) {
            return false;
        }
    }
    return true;
}

/* Copy a JSON array of strings that each pass @p ok into an owned vector. */
static att_rc string_list(json_t *arr, bool (*ok)(const char *), char ***out, size_t *n,
                          const char *what, const char *cname, char *why, size_t why_len)
{
    size_t i;
    json_t *v;

    *out = NULL;
    *n = 0;
    if (arr == NULL) {
        return ATT_OK;
    }
    if (!json_is_array(arr) || json_array_size(arr) > MAX_LIST) {
        att_set_why(why, why_len, "policy: container %s: \"%s\" must be an array of at most %d",
                    cname, what, MAX_LIST);
        return ATT_ERR_PARSE;
    }
    *out = calloc(json_array_size(arr) + 1, sizeof(char *));
    if (*out == NULL) {
        return ATT_ERR_NOMEM;
    }
    json_array_foreach(arr, i, v)
    {
        const char *str = json_string_value(v);

        if (!ok(str)) {
            att_set_why(why, why_len, "policy: container %s: %s[%zu] is not valid", cname, what, i);
            return ATT_ERR_PARSE;
        }
        (*out)[*n] = strdup(str);
        if ((*out)[*n] == NULL) {
            return ATT_ERR_NOMEM;
        }
        (*n)++;
    }
    return ATT_OK;
}

static bool abs_prefix_ok(const char *s)
{
    return s != NULL && s[0] == '/' && strlen(s) < ATT_POLICY_MAX_PATH;
}

/*
 * "quarantine": the actions a failure of the container orders, a list of
 * "pause", "isolate-network", "kill" (empty: report only); absent: pause and
 * isolate-network.
 */
static att_rc quarantine_actions(json_t *arr, uint32_t *out, const char *label, char *why,
                                 size_t why_len)
{
    size_t i;
    json_t *v;

    *out = ATT_QUARANTINE_DEFAULT;
    if (arr == NULL) {
        return ATT_OK;
    }
    if (!json_is_array(arr) || json_array_size(arr) > 3) {
        att_set_why(why, why_len,
                    "policy: container %s: \"quarantine\" must be a list of "
                    "\"pause\", \"isolate-network\", \"kill\"",
                    label);
        return ATT_ERR_PARSE;
    }
    *out = 0;
    json_array_foreach(arr, i, v)
    {
        const char *a = json_string_value(v);

        if (a != NULL && strcmp(a, "pause") == 0) {
            *out |= ATT_QUARANTINE_PAUSE;
        } else if (a != NULL && strcmp(a, "isolate-network") == 0) {
            *out |= ATT_QUARANTINE_ISOLATE;
        } else if (a != NULL && strcmp(a, "kill") == 0) {
            *out |= ATT_QUARANTINE_KILL;
        } else {
            att_set_why(why, why_len,
                        "policy: container %s: quarantine[%zu] is not \"pause\", "
                        "\"isolate-network\" or \"kill\"",
                        label, i);
            return ATT_ERR_PARSE;
        }
    }
    return ATT_OK;
}

static json_t *quarantine_json(uint32_t q)
{
    json_t *arr = json_array();

    if (arr != NULL && (q & ATT_QUARANTINE_PAUSE) != 0) {
        (void)json_array_append_new(arr, json_string("pause"));
    }
    if (arr != NULL && (q & ATT_QUARANTINE_ISOLATE) != 0) {
        (void)json_array_append_new(arr, json_string("isolate-network"));
    }
    if (arr != NULL && (q & ATT_QUARANTINE_KILL) != 0) {
        (void)json_array_append_new(arr, json_string("kill"));
    }
    return arr;
}

#define VULN_MAX_ALLOW 4096

/* Only the six names of the schema (feeds' own words are for feeds). */
static bool severity_word(const char *s, enum att_severity *out)
{
    int i;

    for (i = ATT_SEV_UNKNOWN; s != NULL && i <= ATT_SEV_CRITICAL; i++) {
        if (strcmp(s, att_severity_str((enum att_severity)i)) == 0) {
            *out = (enum att_severity)i;
            return true;
        }
    }
    return false;
}
#define VULN_MAX_AGE (366ull * 24 * 3600)

/*
 * "vulnerabilities": the image vulnerability bar (attest/vulndb.h):
 *   {"refuse_at": "high", "refuse_unfixed": false, "running": "report"|"quarantine",
 *    "max_feed_age": SECONDS,
 *    "allow": [{"id": "CVE-...", "expires": "RFC 3339", "reason": "..."}]}
 * Every key is optional; refuse_at defaults to "high".
 */
static att_rc vuln_policy(json_t *o, struct att_vuln_policy **out, const char *label, char *why,
                          size_t why_len)
{
    struct att_vuln_policy *vp;
    const char *key;
    json_t *value;
    json_t *allow;
    att_rc rc = ATT_ERR_PARSE;
    size_t n_allow;
    size_t i;

    *out = NULL;
    if (o == NULL) {
        return ATT_OK;
    }
    if (!json_is_object(o)) {
        att_set_why(why, why_len, "policy: container %s: \"vulnerabilities\" must be an object",
                    label);
        return ATT_ERR_PARSE;
    }
    json_object_foreach(o, key, value)
    {
        if (strcmp(key, "refuse_at") != 0 && strcmp(key, "refuse_unfixed") != 0 &&
            strcmp(key, "running") != 0 && strcmp(key, "max_feed_age") != 0 &&
            strcmp(key, "allow") != 0) {
            att_set_why(why, why_len, "policy: container %s: unknown vulnerabilities key \"%.64s\"",
                        label, quotable(key) ? key : "?");
            return ATT_ERR_PARSE;
        }
    }
    vp = calloc(1, sizeof(*vp));
    if (vp == NULL) {
        return ATT_ERR_NOMEM;
    }
    vp->refuse_at = ATT_SEV_HIGH;
    value = json_object_get(o, "refuse_at");
    if (value != NULL && !severity_word(json_string_value(value), &vp->refuse_at)) {
        att_set_why(why, why_len,
                    "policy: container %s: vulnerabilities.refuse_at must be one of \"unknown\", "
                    "\"negligible\", \"low\", \"medium\", \"high\", \"critical\"",
                    label);
        goto out;
    }
    value = json_object_get(o, "refuse_unfixed");
    if (value != NULL && !json_is_boolean(value)) {
        att_set_why(why, why_len,
                    "policy: container %s: vulnerabilities.refuse_unfixed must be true or false",
                    label);
        goto out;
    }
    vp->refuse_unfixed = value != NULL && json_is_true(value);
    value = json_object_get(o, "running");
    if (value != NULL) {
        const char *r = json_string_value(value);

        if (r != NULL && strcmp(r, "report") == 0) {
            vp->running = ATT_VULN_RUNNING_REPORT;
        } else if (r != NULL && strcmp(r, "quarantine") == 0) {
            vp->running = ATT_VULN_RUNNING_QUARANTINE;
        } else {
            att_set_why(why, why_len,
                        "policy: container %s: vulnerabilities.running must be \"report\" or "
                        "\"quarantine\"",
                        label);
            goto out;
        }
    }
    value = json_object_get(o, "max_feed_age");
    if (value != NULL) {
        if (!json_is_integer(value) || json_integer_value(value) < 1 ||
            (uint64_t)json_integer_value(value) > VULN_MAX_AGE) {
            att_set_why(why, why_len,
                        "policy: container %s: vulnerabilities.max_feed_age must be seconds, 1 to "
                        "%llu",
                        label, (unsigned long long)VULN_MAX_AGE);
            goto out;
        }
        vp->max_feed_age = (uint64_t)json_integer_value(value);
    }
    allow = json_object_get(o, "allow");
    if (allow != NULL && (!json_is_array(allow) || json_array_size(allow) > VULN_MAX_ALLOW)) {
        att_set_why(why, why_len,
                    "policy: container %s: vulnerabilities.allow must be an array of at most %d",
                    label, VULN_MAX_ALLOW);
        goto out;
    }
    n_allow = json_array_size(allow); /* read once: the allocation and the loop agree */
    if (n_allow > 0) {
        vp->allow = calloc(n_allow, sizeof(*vp->allow));
        if (vp->allow == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    for (i = 0; i < n_allow; i++) {
        json_t *item = json_array_get(allow, i);
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *exp = json_string_value(json_object_get(item, "expires"));
        const char *reason = json_string_value(json_object_get(item, "reason"));
        struct timespec ts;
        size_t n = 0;

        if (json_is_object(item)) {
            n = json_object_size(item);
        }
        if (id == NULL || exp == NULL || reason == NULL || n != 3 || id[0] == '\0' ||
            strlen(id) > ATT_VULN_MAX_ID || !quotable(id) || reason[0] == '\0' ||
            strlen(reason) > ATT_PROTO_MAX_TEXT || !quotable(reason)) {
            att_set_why(why, why_len,
                        "policy: container %s: vulnerabilities.allow[%zu] must be {\"id\": "
                        "\"...\", \"expires\": \"RFC 3339 time\", \"reason\": \"...\"}",
                        label, i);
            goto out;
        }
        if (!att_rfc3339_parse(exp, &ts)) {
            att_set_why(why, why_len,
                        "policy: container %s: vulnerabilities.allow[%zu].expires is not an RFC "
                        "3339 time (e.g. 2026-12-31T00:00:00Z)",
                        label, i);
            goto out;
        }
        vp->allow[i].id = strdup(id);
        vp->allow[i].reason = strdup(reason);
        vp->allow[i].expires_at = (uint64_t)ts.tv_sec;
        vp->n_allow = i + 1;
        if (vp->allow[i].id == NULL || vp->allow[i].reason == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    *out = vp;
    vp = NULL;
    rc = ATT_OK;
out:
    if (vp != NULL) {
        att_vuln_policy_free(vp);
        free(vp);
    }
    return rc;
}

static json_t *vuln_json(const struct att_vuln_policy *vp)
{
    json_t *o;
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr != NULL && i < vp->n_allow; i++) {
        char t[32];

        if (!att_rfc3339_format((time_t)vp->allow[i].expires_at, t, sizeof(t)) ||
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id", vp->allow[i].id,
                                                 "expires", t, "reason", vp->allow[i].reason)) !=
                0) {
            json_decref(arr);
            return NULL;
        }
    }
    o = json_pack("{s:s, s:b, s:s, s:o}", "refuse_at", att_severity_str(vp->refuse_at),
                  "refuse_unfixed", vp->refuse_unfixed, "running",
                  vp->running == ATT_VULN_RUNNING_QUARANTINE ? "quarantine" : "report", "allow",
                  arr);
    if (o != NULL && vp->max_feed_age > 0 &&
        json_object_set_new(o, "max_feed_age", json_integer((json_int_t)vp->max_feed_age)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- "network": the container's network restriction (issue 9, attest/netpolicy.h) ---- */

#define NET_WHY 160 /* room for what att_net_cidr_parse() says */

/* Whether @p key is one of the NULL-terminated @p keys. */
static bool key_in(const char *key, const char *const *keys)
{
    size_t i;

    for (i = 0; keys[i] != NULL; i++) {
        if (strcmp(key, keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Refuse the first member of object @p o not in @p keys; @p where names the object. */
static att_rc only_keys(json_t *o, const char *const *keys, const char *where, const char *label,
                        char *why, size_t why_len)
{
    const char *key;
    json_t *value;

    json_object_foreach(o, key, value)
    {
        if (!key_in(key, keys)) {
            att_set_why(why, why_len, "policy: container %s: unknown %s key \"%.64s\"", label,
                        where, quotable(key) ? key : "?");
            return ATT_ERR_PARSE;
        }
    }
    return ATT_OK;
}

/* "N" with 1..5 digits, no sign or leading zero, 1..65535. */
static bool port_text(const char *s, size_t len, uint16_t *out)
{
    uint32_t v = 0;
    size_t i;

    if (len == 0 || len > 5 || s[0] == '0') {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10u + (uint32_t)(s[i] - '0');
    }
    if (v > UINT16_MAX) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

/* "ports": 443, "443" or "8000-8100" (lo <= hi) into @p r. */
static bool ports_parse(json_t *v, struct att_net_rule *r)
{
    const char *s;
    const char *dash;
    size_t len;

    if (json_is_integer(v)) {
        if (json_integer_value(v) < 1 || json_integer_value(v) > UINT16_MAX) {
            return false;
        }
        r->port_lo = (uint16_t)json_integer_value(v);
        r->port_hi = r->port_lo;
        return true;
    }
    s = json_string_value(v);
    if (s == NULL) {
        return false;
    }
    len = json_string_length(v);
    dash = memchr(s, '-', len);
    if (dash == NULL) {
        if (!port_text(s, len, &r->port_lo)) {
            return false;
        }
        r->port_hi = r->port_lo;
        return true;
    }
    return port_text(s, (size_t)(dash - s), &r->port_lo) &&
           port_text(dash + 1, len - (size_t)(dash - s) - 1, &r->port_hi) &&
           r->port_lo <= r->port_hi;
}

/*
 * "dns": 1..ATT_NET_MAX_DNS names, stored lower-cased: a name is resolved
 * case-insensitively (RFC 4343), and the canonical text must not differ
 * between two policies that say the same thing.
 */
static att_rc dns_parse(json_t *arr, struct att_net_rule *r, size_t idx, const char *label,
                        char *why, size_t why_len)
{
    size_t i;
    size_t k;
    json_t *v;

    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > ATT_NET_MAX_DNS) {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules[%zu].dns must be an array of 1 to %u DNS "
                    "names",
                    label, idx, ATT_NET_MAX_DNS);
        return ATT_ERR_PARSE;
    }
    r->dns = calloc(json_array_size(arr), sizeof(*r->dns));
    if (r->dns == NULL) {
        return ATT_ERR_NOMEM;
    }
    json_array_foreach(arr, i, v)
    {
        const char *name = json_string_value(v);

        if (!att_net_dns_name_ok(name)) {
            att_set_why(why, why_len,
                        "policy: container %s: network.rules[%zu].dns[%zu] is not a DNS name "
                        "(dot-separated labels of 1 to 63 letters, digits and inner hyphens, at "
                        "most %u characters, no trailing dot)",
                        label, idx, i, ATT_NET_MAX_NAME);
            return ATT_ERR_PARSE;
        }
        r->dns[i] = strdup(name);
        if (r->dns[i] == NULL) {
            return ATT_ERR_NOMEM;
        }
        r->n_dns = i + 1; /* counted once owned: att_net_policy_free() releases it */
        for (k = 0; r->dns[i][k] != '\0'; k++) {
            if (r->dns[i][k] >= 'A' && r->dns[i][k] <= 'Z') {
                r->dns[i][k] = (char)(r->dns[i][k] - 'A' + 'a');
            }
        }
    }
    return ATT_OK;
}

/* "direction", "action" and "protocol" of rule @p idx into @p r. */
static att_rc rule_words(json_t *o, struct att_net_rule *r, size_t idx, bool default_allow,
                         const char *label, char *why, size_t why_len)
{
    const char *dir = json_string_value(json_object_get(o, "direction"));
    json_t *action = json_object_get(o, "action");
    json_t *proto = json_object_get(o, "protocol");
    const char *w;

    if (dir != NULL && strcmp(dir, "egress") == 0) {
        r->dir = ATT_NET_EGRESS;
    } else if (dir != NULL && strcmp(dir, "ingress") == 0) {
        r->dir = ATT_NET_INGRESS;
    } else {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules[%zu].direction must be \"egress\" or "
                    "\"ingress\"",
                    label, idx);
        return ATT_ERR_PARSE;
    }
    /* a rule that repeats the default would do nothing: absent, it is the exception */
    r->allow = !default_allow;
    w = json_string_value(action);
    if (action != NULL && (w == NULL || (strcmp(w, "allow") != 0 && strcmp(w, "deny") != 0))) {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules[%zu].action must be \"allow\" or \"deny\"",
                    label, idx);
        return ATT_ERR_PARSE;
    }
    if (w != NULL) {
        r->allow = strcmp(w, "allow") == 0;
    }
    r->proto = ATT_NET_ANY;
    w = json_string_value(proto);
    if (proto == NULL || (w != NULL && strcmp(w, "any") == 0)) {
        r->proto = ATT_NET_ANY;
    } else if (w != NULL && strcmp(w, "tcp") == 0) {
        r->proto = ATT_NET_TCP;
    } else if (w != NULL && strcmp(w, "udp") == 0) {
        r->proto = ATT_NET_UDP;
    } else if (w != NULL && strcmp(w, "icmp") == 0) {
        r->proto = ATT_NET_ICMP;
    } else {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules[%zu].protocol must be \"tcp\", \"udp\", "
                    "\"icmp\" or \"any\"",
                    label, idx);
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

/* The peer ("cidr" or "dns", at most one) and "ports" of rule @p idx into @p r. */
static att_rc rule_peer_ports(json_t *o, struct att_net_rule *r, size_t idx, const char *label,
                              char *why, size_t why_len)
{
    json_t *cidr = json_object_get(o, "cidr");
    json_t *dns = json_object_get(o, "dns");
    json_t *ports = json_object_get(o, "ports");
    char sub[NET_WHY];
    att_rc rc;

    if (cidr != NULL && dns != NULL) {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules[%zu] has both \"cidr\" and \"dns\"; "
                    "write one rule for each",
                    label, idx);
        return ATT_ERR_PARSE;
    }
    if (cidr != NULL) {
        if (!json_is_string(cidr)) {
            att_set_why(why, why_len,
                        "policy: container %s: network.rules[%zu].cidr must be a string such as "
                        "\"10.1.0.0/24\" or \"fd00::/8\"",
                        label, idx);
            return ATT_ERR_PARSE;
        }
        rc = att_net_cidr_parse(json_string_value(cidr), r, sub, sizeof(sub));
        if (rc != ATT_OK) {
            att_set_why(why, why_len, "policy: container %s: network.rules[%zu].cidr %s", label,
                        idx, sub);
            return rc;
        }
    }
    if (dns != NULL) {
        rc = dns_parse(dns, r, idx, label, why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    if (ports == NULL) {
        return ATT_OK;
    }
    if (r->proto != ATT_NET_TCP && r->proto != ATT_NET_UDP) {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules[%zu].ports needs protocol tcp or udp",
                    label, idx);
        return ATT_ERR_PARSE;
    }
    if (!ports_parse(ports, r)) {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules[%zu].ports must be a port 1 to 65535 "
                    "(443 or \"443\") or a range \"lo-hi\" with lo <= hi",
                    label, idx);
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

/* Element @p idx of "rules" into @p r (zeroed by the caller, owned by the policy). */
static att_rc net_rule(json_t *o, struct att_net_rule *r, size_t idx, bool default_allow,
                       const char *label, char *why, size_t why_len)
{
    static const char *const keys[] = {"direction", "action", "protocol", "cidr",
                                       "dns",       "ports",  NULL};
    char where[48];
    att_rc rc;

    if (!json_is_object(o)) {
        att_set_why(why, why_len, "policy: container %s: network.rules[%zu] must be an object",
                    label, idx);
        return ATT_ERR_PARSE;
    }
    (void)snprintf(where, sizeof(where), "network.rules[%zu]", idx);
    rc = only_keys(o, keys, where, label, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = rule_words(o, r, idx, default_allow, label, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    return rule_peer_ports(o, r, idx, label, why, why_len);
}

/* "default" and "resolve_interval" of the section @p o into @p np. */
static att_rc net_head(json_t *o, struct att_net_policy *np, const char *label, char *why,
                       size_t why_len)
{
    const char *def = json_string_value(json_object_get(o, "default"));
    json_t *ri = json_object_get(o, "resolve_interval");

    if (def != NULL && strcmp(def, "deny") == 0) {
        np->default_allow = false;
    } else if (def != NULL && strcmp(def, "allow") == 0) {
        np->default_allow = true;
    } else {
        att_set_why(why, why_len,
                    "policy: container %s: network.default must be \"deny\" or \"allow\"", label);
        return ATT_ERR_PARSE;
    }
    np->resolve_interval = ATT_NET_RESOLVE_DEFAULT;
    if (ri == NULL) {
        return ATT_OK;
    }
    /* json_is_integer: 60.0 is a real in jansson and refused */
    if (!json_is_integer(ri) || json_integer_value(ri) < ATT_NET_RESOLVE_MIN ||
        json_integer_value(ri) > ATT_NET_RESOLVE_MAX) {
        att_set_why(why, why_len,
                    "policy: container %s: network.resolve_interval must be seconds, %u to %u",
                    label, ATT_NET_RESOLVE_MIN, ATT_NET_RESOLVE_MAX);
        return ATT_ERR_PARSE;
    }
    np->resolve_interval = (uint32_t)json_integer_value(ri);
    return ATT_OK;
}

/*
 * "network": the container's network restriction (attest/netpolicy.h),
 *   {"default": "deny"|"allow", "resolve_interval": SECONDS,
 *    "rules": [{"direction": "egress"|"ingress", "action": "allow"|"deny",
 *               "protocol": "tcp"|"udp"|"icmp"|"any", "cidr": "10.1.0.0/24" | "dns": [...],
 *               "ports": 443 | "8000-8100"}]}
 * "default" is required; absent, *out stays NULL (no restriction).
 */
static att_rc net_policy(json_t *o, struct att_net_policy **out, const char *label, char *why,
                         size_t why_len)
{
    static const char *const keys[] = {"default", "resolve_interval", "rules", NULL};
    att_rc rc = ATT_ERR_PARSE;
    struct att_net_policy *np = NULL;
    json_t *rules;
    size_t n_rules;
    size_t i;

    *out = NULL;
    if (o == NULL) {
        return ATT_OK;
    }
    if (!json_is_object(o)) {
        att_set_why(why, why_len, "policy: container %s: \"network\" must be an object", label);
        return ATT_ERR_PARSE;
    }
    rc = only_keys(o, keys, "network", label, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rules = json_object_get(o, "rules");
    if (rules != NULL && (!json_is_array(rules) || json_array_size(rules) > ATT_NET_MAX_RULES)) {
        att_set_why(why, why_len,
                    "policy: container %s: network.rules must be an array of at most %u rules",
                    label, ATT_NET_MAX_RULES);
        return ATT_ERR_PARSE;
    }
    np = calloc(1, sizeof(*np));
    if (np == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = net_head(o, np, label, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    n_rules = json_array_size(rules); /* read once: the allocation and the loop agree */
    if (n_rules > 0) {
        np->rules = calloc(n_rules, sizeof(*np->rules));
        if (np->rules == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    for (i = 0; i < n_rules; i++) {
        np->n_rules = i + 1; /* counted first, so att_net_policy_free() releases its names */
        rc = net_rule(json_array_get(rules, i), &np->rules[i], i, np->default_allow, label, why,
                      why_len);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    *out = np;
    np = NULL; /* transferred to the container policy */
    rc = ATT_OK;
out:
    att_net_policy_free(np);
    return rc;
}

/* Everything net_json() writes must parse back: the parser's rules, on the struct. */
static bool net_encodable(const struct att_net_policy *np)
{
    size_t i;
    size_t k;

    if (np->n_rules > ATT_NET_MAX_RULES || (np->n_rules > 0 && np->rules == NULL) ||
        np->resolve_interval < ATT_NET_RESOLVE_MIN || np->resolve_interval > ATT_NET_RESOLVE_MAX) {
        return false;
    }
    for (i = 0; i < np->n_rules; i++) {
        const struct att_net_rule *r = &np->rules[i];
        struct att_net_rule back = {0};
        char cidr[64];

        if ((r->dir != ATT_NET_EGRESS && r->dir != ATT_NET_INGRESS) ||
            (r->proto != ATT_NET_ANY && r->proto != ATT_NET_TCP && r->proto != ATT_NET_UDP &&
             r->proto != ATT_NET_ICMP) ||
            r->n_dns > ATT_NET_MAX_DNS || (r->n_dns > 0 && (r->dns == NULL || r->family != 0))) {
            return false;
        }
        if ((r->port_lo != 0 || r->port_hi != 0) &&
            (r->port_lo == 0 || r->port_lo > r->port_hi ||
             (r->proto != ATT_NET_TCP && r->proto != ATT_NET_UDP))) {
            return false;
        }
        for (k = 0; k < r->n_dns; k++) {
            if (!att_net_dns_name_ok(r->dns[k])) {
                return false;
            }
        }
        if (r->family == 0) {
            continue;
        }
        /* the text we would write must read back as the same network */
        att_net_cidr_format(r, cidr, sizeof(cidr));
        if ((r->family != 4 && r->family != 6) ||
            att_net_cidr_parse(cidr, &back, NULL, 0) != ATT_OK || back.family != r->family ||
            back.prefix != r->prefix || memcmp(back.addr, r->addr, sizeof(back.addr)) != 0) {
            return false;
        }
    }
    return true;
}

/* Parse one element of "containers" into @p c (zeroed by the caller). */
static att_rc add_container(struct att_container_policy *c, json_t *o, size_t idx, char *why,
                            size_t why_len)
{
    att_rc rc;
    const char *key;
    json_t *value;
    json_t *files;
    json_t *posture;
    json_t *jit;
    const char *name = json_string_value(json_object_get(o, "name"));
    char label[80];

    (void)snprintf(label, sizeof(label), "#%zu", idx);
    if (!json_is_object(o)) {
        att_set_why(why, why_len, "policy: containers[%zu] must be an object", idx);
        return ATT_ERR_PARSE;
    }
    json_object_foreach(o, key, value)
    {
        if (strcmp(key, "name") != 0 && strcmp(key, "images") != 0 && strcmp(key, "files") != 0 &&
            strcmp(key, "exclude") != 0 && strcmp(key, "allow_jit") != 0 &&
            strcmp(key, "posture") != 0 && strcmp(key, "quarantine") != 0 &&
            strcmp(key, "vulnerabilities") != 0 && strcmp(key, "network") != 0) {
            att_set_why(why, why_len, "policy: containers[%zu]: unknown key \"%.100s\"", idx,
                        quotable(key) ? key : "?");
            return ATT_ERR_PARSE;
        }
    }
    if (name == NULL || json_string_length(json_object_get(o, "name")) == 0 ||
        json_string_length(json_object_get(o, "name")) > NAME_MAX_LEN || !quotable(name)) {
        att_set_why(why, why_len, "policy: containers[%zu] needs a \"name\" string", idx);
        return ATT_ERR_PARSE;
    }
    (void)snprintf(label, sizeof(label), "\"%.64s\"", name);
    c->name = strdup(name);
    c->files = att_policy_new();
    if (c->name == NULL || c->files == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = string_list(json_object_get(o, "images"), image_id_ok, &c->images, &c->n_images, "images",
                     label, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    if (c->n_images == 0) {
        att_set_why(why, why_len,
                    "policy: container %s: \"images\" must list at least one \"sha256:<64 hex>\" "
                    "image ID",
                    label);
        return ATT_ERR_PARSE;
    }
    files = json_object_get(o, "files");
    if (files != NULL) {
        if (!json_is_object(files)) {
            att_set_why(why, why_len, "policy: container %s: \"files\" must be an object", label);
            return ATT_ERR_PARSE;
        }
        rc = add_reference_values(c->files, files, why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    rc = string_list(json_object_get(o, "exclude"), abs_prefix_ok, &c->exclude, &c->n_exclude,
                     "exclude", label, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    jit = json_object_get(o, "allow_jit");
    if (jit != NULL && !json_is_boolean(jit)) {
        att_set_why(why, why_len, "policy: container %s: \"allow_jit\" must be true or false",
                    label);
        return ATT_ERR_PARSE;
    }
    c->allow_jit = jit != NULL && json_is_true(jit);
    rc = quarantine_actions(json_object_get(o, "quarantine"), &c->quarantine, label, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    posture = json_object_get(o, "posture");
    if (posture != NULL) {
        json_t *priv = json_object_get(posture, "privileged");

        if (!json_is_object(posture) || (priv != NULL && !json_is_boolean(priv))) {
            att_set_why(why, why_len,
                        "policy: container %s: \"posture\" must be {\"privileged\": bool, "
                        "\"forbid_caps\": [...]}",
                        label);
            return ATT_ERR_PARSE;
        }
        json_object_foreach(posture, key, value)
        {
            if (strcmp(key, "privileged") != 0 && strcmp(key, "forbid_caps") != 0 &&
                strcmp(key, "require_seccomp") != 0 && strcmp(key, "require_no_new_privs") != 0 &&
                strcmp(key, "host_pid") != 0) {
                att_set_why(why, why_len, "policy: container %s: unknown posture key", label);
                return ATT_ERR_PARSE;
            }
        }
        c->allow_privileged = priv != NULL && json_is_true(priv);
        {
            json_t *b1 = json_object_get(posture, "require_seccomp");
            json_t *b2 = json_object_get(posture, "require_no_new_privs");
            json_t *b3 = json_object_get(posture, "host_pid");

            if ((b1 != NULL && !json_is_boolean(b1)) || (b2 != NULL && !json_is_boolean(b2)) ||
                (b3 != NULL && !json_is_boolean(b3))) {
                att_set_why(why, why_len,
                            "policy: container %s: posture require_seccomp, "
                            "require_no_new_privs and host_pid must be true or false",
                            label);
                return ATT_ERR_PARSE;
            }
            c->require_seccomp = b1 != NULL && json_is_true(b1);
            c->require_no_new_privs = b2 != NULL && json_is_true(b2);
            c->allow_host_pid = b3 != NULL && json_is_true(b3);
        }
        rc = string_list(json_object_get(posture, "forbid_caps"), cap_ok, &c->forbid_caps,
                         &c->n_forbid_caps, "posture.forbid_caps", label, why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    rc = vuln_policy(json_object_get(o, "vulnerabilities"), &c->vulns, label, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    return net_policy(json_object_get(o, "network"), &c->network, label, why, why_len);
}

/* The optional "containers" array of per-container whitelist policies. */
static att_rc add_containers(struct att_policy *p, json_t *arr, char *why, size_t why_len)
{
    size_t i;
    json_t *o;
    att_rc rc;

    if (arr == NULL) {
        return ATT_OK;
    }
    if (!json_is_array(arr) || json_array_size(arr) > MAX_CONTAINER_POLICIES) {
        att_set_why(why, why_len, "policy: \"containers\" must be an array of at most %d",
                    MAX_CONTAINER_POLICIES);
        return ATT_ERR_PARSE;
    }
    p->containers = calloc(json_array_size(arr) + 1, sizeof(*p->containers));
    if (p->containers == NULL) {
        return ATT_ERR_NOMEM;
    }
    json_array_foreach(arr, i, o)
    {
        /* counted first, so att_policy_free() releases a half-parsed element */
        p->n_containers++;
        rc = add_container(&p->containers[i], o, i, why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
        /* names select policies (the io.attest.policy label): one policy per name */
        if (att_policy_container_by_name(p, p->containers[i].name) != &p->containers[i]) {
            att_set_why(why, why_len, "policy: containers[%zu]: name \"%.64s\" is used twice", i,
                        p->containers[i].name);
            return ATT_ERR_PARSE;
        }
    }
    return ATT_OK;
}

att_rc att_policy_parse_json(const char *json, size_t len, struct att_policy **out, char *why,
                             size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    json_t *root = NULL;
    struct att_policy *p = NULL;
    json_error_t err;
    const char *key;
    json_t *value;
    json_t *version;
    json_t *name;
    json_t *rv;

    if (why != NULL && why_len > 0) {
        why[0] = '\0';
    }
    if (json == NULL || out == NULL) {
        att_set_why(why, why_len, "policy: no input");
        return ATT_ERR_INVALID_ARG;
    }
    if (len == 0) {
        att_set_why(why, why_len, "policy: empty document");
        return ATT_ERR_PARSE;
    }
    if (len > ATT_POLICY_MAX_JSON) {
        att_set_why(why, why_len, "policy: larger than %u bytes", ATT_POLICY_MAX_JSON);
        return ATT_ERR_PARSE;
    }
    /*
     * Without JSON_DISABLE_EOF_CHECK jansson requires the value to be followed
     * by nothing but whitespace up to len: the whole buffer is consumed or the
     * load fails (json_error_end_of_input_expected). JSON_ALLOW_NUL stays off,
     * so no string, key or path can hide a NUL.
     */
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        why_json(why, why_len, &err);
        rc = json_error_code(&err) == json_error_out_of_memory ? ATT_ERR_NOMEM : ATT_ERR_PARSE;
        goto out;
    }
    if (!json_is_object(root)) {
        att_set_why(why, why_len, "policy: top level must be a JSON object");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "version") != 0 && strcmp(key, "name") != 0 &&
            strcmp(key, "reference_values") != 0 && strcmp(key, "containers") != 0 &&
            strcmp(key, "quarantine_untrusted_host") != 0) {
            if (quotable(key)) {
                att_set_why(why, why_len, "policy: unknown key \"%.200s\"", key);
            } else {
                att_set_why(why, why_len, "policy: unknown top-level key");
            }
            rc = ATT_ERR_PARSE;
            goto out;
        }
    }
    /* json_is_integer: 1.0 is a real in jansson and rejected like "1" */
    version = json_object_get(root, "version");
    if (!json_is_integer(version) || json_integer_value(version) != POLICY_VERSION) {
        att_set_why(why, why_len, "policy: \"version\" must be the integer %d", POLICY_VERSION);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    name = json_object_get(root, "name");
    if (name != NULL && (!json_is_string(name) || json_string_length(name) > NAME_MAX_LEN)) {
        att_set_why(why, why_len, "policy: \"name\" must be a string of at most %u bytes",
                    (unsigned)NAME_MAX_LEN);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    rv = json_object_get(root, "reference_values");
    if (!json_is_object(rv)) {
        att_set_why(why, why_len, "policy: \"reference_values\" must be an object");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    p = att_policy_new();
    if (p == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (name != NULL) {
        p->name = strdup(json_string_value(name));
        if (p->name == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    rc = add_reference_values(p, rv, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = add_containers(p, json_object_get(root, "containers"), why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    {
        json_t *qh = json_object_get(root, "quarantine_untrusted_host");

        if (qh != NULL && !json_is_boolean(qh)) {
            att_set_why(why, why_len,
                        "policy: \"quarantine_untrusted_host\" must be true or false");
            rc = ATT_ERR_PARSE;
            goto out;
        }
        p->quarantine_untrusted_host = qh != NULL && json_is_true(qh);
    }
    *out = p;
    p = NULL; /* transferred to caller */
    rc = ATT_OK;
out:
    att_policy_free(p);
    json_decref(root);
    return rc;
}

/*
 * json_string() refuses invalid UTF-8 and reports it as NULL, indistinguishable
 * from running out of memory; checking first lets encode say INVALID_ARG.
 */
static bool utf8_valid(const char *str)
{
    return att_utf8_valid((const uint8_t *)str, strlen(str));
}

/* Everything encode emits must parse back: same rules as the parser. */
static bool policy_encodable(const struct att_policy *p)
{
    size_t i;

    if (p->name != NULL && (strlen(p->name) > NAME_MAX_LEN || !utf8_valid(p->name))) {
        return false;
    }
    if (p->n_refs > 0 && p->refs == NULL) {
        return false;
    }
    for (i = 0; i < p->n_refs; i++) {
        const struct att_policy_ref *r = &p->refs[i];

        if (r->path == NULL || r->path[0] != '/' || strlen(r->path) >= ATT_POLICY_MAX_PATH ||
            !utf8_valid(r->path) || r->n_digests == 0 || r->digests == NULL) {
            return false;
        }
    }
    for (i = 0; p->containers != NULL && i < p->n_containers; i++) {
        if (p->containers[i].network != NULL && !net_encodable(p->containers[i].network)) {
            return false;
        }
    }
    return true;
}

struct dump_ctx {
    struct att_buf *out;
    att_rc rc; /* first append failure; meaningful when failed */
    bool failed;
};

static int dump_cb(const char *buffer, size_t size, void *data)
{
    struct dump_ctx *c = data;
    att_rc rc = att_buf_append(c->out, buffer, size);

    if (rc != ATT_OK) {
        c->rc = rc;
        c->failed = true;
        return -1;
    }
    return 0;
}

static json_t *digests_to_json(const struct att_policy_ref *r)
{
    json_t *arr = json_array();
    size_t k;

    if (arr == NULL) {
        return NULL;
    }
    for (k = 0; k < r->n_digests; k++) {
        char text[DIGEST_TEXT_LEN + 1];

        memcpy(text, DIGEST_PREFIX, DIGEST_PREFIX_LEN);
        att_hex_encode(r->digests[k], ATT_SHA256_LEN, text + DIGEST_PREFIX_LEN);
        if (json_array_append_new(arr, json_string(text)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr != NULL && i < n; i++) {
        if (json_array_append_new(arr, json_string(v[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* One rule with action and protocol always written; cidr, dns and ports only when set. */
static json_t *net_rule_json(const struct att_net_rule *r)
{
    static const char *const protos[] = {"any", "tcp", "udp", "icmp"}; /* net_encodable() */
    char text[64];
    json_t *o;
    int failed = 0;

    o = json_pack("{s:s, s:s, s:s}", "direction", r->dir == ATT_NET_EGRESS ? "egress" : "ingress",
                  "action", r->allow ? "allow" : "deny", "protocol", protos[r->proto]);
    if (o == NULL) {
        return NULL;
    }
    if (r->family == 4 || r->family == 6) {
        att_net_cidr_format(r, text, sizeof(text));
        failed |= json_object_set_new(o, "cidr", json_string(text));
    }
    if (r->n_dns > 0) {
        failed |= json_object_set_new(o, "dns", strv_json(r->dns, r->n_dns));
    }
    if (r->port_lo != 0 || r->port_hi != 0) {
        if (r->port_lo == r->port_hi) {
            (void)snprintf(text, sizeof(text), "%u", (unsigned)r->port_lo);
        } else {
            (void)snprintf(text, sizeof(text), "%u-%u", (unsigned)r->port_lo, (unsigned)r->port_hi);
        }
        failed |= json_object_set_new(o, "ports", json_string(text));
    }
    if (failed != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The "network" section as net_policy() reads it, with every default written out. */
static json_t *net_json(const struct att_net_policy *np)
{
    json_t *rules = json_array();
    size_t i;

    for (i = 0; rules != NULL && i < np->n_rules; i++) {
        if (json_array_append_new(rules, net_rule_json(&np->rules[i])) != 0) {
            json_decref(rules);
            return NULL;
        }
    }
    return json_pack("{s:s, s:I, s:o}", "default", np->default_allow ? "allow" : "deny",
                     "resolve_interval", (json_int_t)np->resolve_interval, "rules", rules);
}

static json_t *refs_json(const struct att_policy *p)
{
    json_t *rv = json_object();
    size_t i;

    for (i = 0; rv != NULL && i < p->n_refs; i++) {
        if (json_object_set_new(rv, p->refs[i].path, digests_to_json(&p->refs[i])) != 0) {
            json_decref(rv);
            return NULL;
        }
    }
    return rv;
}

static json_t *containers_json(const struct att_policy *p)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr != NULL && i < p->n_containers; i++) {
        const struct att_container_policy *c = &p->containers[i];
        json_t *o = json_pack(
            "{s:s, s:o, s:o, s:o, s:b, s:o, s:{s:b, s:o, s:b, s:b, s:b}}", "name", c->name,
            "images", strv_json(c->images, c->n_images), "files", refs_json(c->files), "exclude",
            strv_json(c->exclude, c->n_exclude), "allow_jit", c->allow_jit, "quarantine",
            quarantine_json(c->quarantine), "posture", "privileged", c->allow_privileged,
            "forbid_caps", strv_json(c->forbid_caps, c->n_forbid_caps), "require_seccomp",
            c->require_seccomp, "require_no_new_privs", c->require_no_new_privs, "host_pid",
            c->allow_host_pid);

        if (o != NULL && c->vulns != NULL &&
            json_object_set_new(o, "vulnerabilities", vuln_json(c->vulns)) != 0) {
            json_decref(o);
            o = NULL;
        }
        if (o != NULL && c->network != NULL &&
            json_object_set_new(o, "network", net_json(c->network)) != 0) {
            json_decref(o);
            o = NULL;
        }
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

att_rc att_policy_encode_json(const struct att_policy *p, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    json_t *root = NULL;
    json_t *rv = NULL;
    struct dump_ctx ctx = {.out = out, .rc = ATT_ERR_INTERNAL, .failed = false};
    size_t start = 0;
    size_t i;

    if (p == NULL || out == NULL || !policy_encodable(p)) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    root = json_object();
    rv = json_object();
    if (root == NULL || rv == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    /* json_object_set_new() steals the value even when it fails */
    if (json_object_set_new(root, "version", json_integer(POLICY_VERSION)) != 0 ||
        (p->name != NULL && json_object_set_new(root, "name", json_string(p->name)) != 0)) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < p->n_refs; i++) {
        if (json_object_set_new(rv, p->refs[i].path, digests_to_json(&p->refs[i])) != 0) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    if ((p->quarantine_untrusted_host &&
         json_object_set_new(root, "quarantine_untrusted_host", json_true()) != 0) ||
        json_object_set(root, "reference_values", rv) != 0 ||
        (p->n_containers > 0 && json_object_set_new(root, "containers", containers_json(p)) != 0)) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (json_dump_callback(root, dump_cb, &ctx, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        rc = ctx.failed ? ctx.rc : ATT_ERR_NOMEM;
        goto out;
    }
    rc = att_buf_append(out, "\n", 1);
    if (rc != ATT_OK) {
        goto out;
    }
    /* indentation grows a file; what we write must stay readable by the parser */
    if (out->len - start > ATT_POLICY_MAX_JSON) {
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    rc = ATT_OK;
out:
    if (rc != ATT_OK) {
        att_buf_truncate(out, start);
    }
    json_decref(rv);
    json_decref(root);
    return rc;
}
