/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI runtime state (runtime-spec runtime.md "State") and config.json
 * (config.md "Root", "Process", config-linux.md "Namespaces", "Seccomp")
 * through jansson; see ocistate.h. jansson's own error texts never reach
 * why: we map its error codes to our words and name the member at fault.
 * JSON null counts as absent for optional members, as it does for the Go
 * structs runc and podman decode into.
 */
#include "ocistate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "attest/buf.h"
#include "attest/json_what.h"
#include "attest/util.h"

#define WHY_STATE  "oci state"
#define WHY_CONFIG "oci config"

static const char *const ns_names[OCISTATE_NS_COUNT] = {
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};

const char *ocistate_status_str(enum ocistate_status status)
{
    switch (status) {
    case OCISTATE_CREATING:
        return "creating";
    case OCISTATE_CREATED:
        return "created";
    case OCISTATE_RUNNING:
        return "running";
    case OCISTATE_STOPPED:
        return "stopped";
    }
    return "unknown";
}

const char *ocistate_ns_str(unsigned ns_bit)
{
    unsigned i;

    for (i = 0; i < OCISTATE_NS_COUNT; i++) {
        if (ns_bit == (1u << i)) {
            return ns_names[i];
        }
    }
    return "?";
}

/* ------------------------------------------------------------------------- */
/* JSON helpers                                                              */

static void why_json(char *why, size_t why_len, const char *doc, const json_error_t *err)
{
    att_set_why(why, why_len, "%s: %s at line %d, column %d", doc, att_json_error_what(err),
                err->line, err->column);
}

/*
 * Parse @p len bytes of JSON into an object. JSON_REJECT_DUPLICATES because
 * runtimes disagree on which duplicate wins; without JSON_DISABLE_EOF_CHECK
 * trailing bytes fail; JSON_ALLOW_NUL stays off, so no string holds a NUL.
 */
static att_rc load_object(const char *json, size_t len, size_t max, const char *doc, json_t **out,
                          char *why, size_t why_len)
{
    json_error_t err;
    json_t *root;

    if (len == 0) {
        att_set_why(why, why_len, "%s: empty document", doc);
        return ATT_ERR_PARSE;
    }
    if (len > max) {
        att_set_why(why, why_len, "%s: larger than %zu bytes", doc, max);
        return ATT_ERR_PARSE;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        why_json(why, why_len, doc, &err);
        return json_error_code(&err) == json_error_out_of_memory ? ATT_ERR_NOMEM : ATT_ERR_PARSE;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        att_set_why(why, why_len, "%s: top level must be a JSON object", doc);
        return ATT_ERR_PARSE;
    }
    *out = root;
    return ATT_OK;
}

/* Member @p key of @p obj, borrowed; NULL when absent or JSON null. */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_null(v) ? NULL : v;
}

static char ascii_lower(unsigned char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/*
 * Length of the non-ASCII UTF-8 sequence at @p k that Go's encoding/json
 * key matching (bytes.EqualFold before Go 1.21, unicode.ToUpper since) takes
 * for the ASCII letter @p c, else 0: U+017F long s, U+212A Kelvin sign,
 * U+0131 dotless i and U+0130 capital I with dot. The string is
 * NUL-terminated, so the && chains never read past it.
 */
static size_t fold_special(const unsigned char *k, char c)
{
    if (c == 's' && k[0] == 0xc5u && k[1] == 0xbfu) {
        return 2;
    }
    if (c == 'k' && k[0] == 0xe2u && k[1] == 0x84u && k[2] == 0xaau) {
        return 3;
    }
    if (c == 'i' && k[0] == 0xc4u && (k[1] == 0xb1u || k[1] == 0xb0u)) {
        return 2;
    }
    return 0;
}

/* Whether a Go runtime would read JSON key @p key as the field named @p name. */
static bool fold_equal(const char *key, const char *name)
{
    const unsigned char *k = (const unsigned char *)key;
    size_t i = 0;
    size_t j = 0;
    size_t n;

    while (name[j] != '\0') {
        char c = ascii_lower((unsigned char)name[j]);

        if (k[i] == '\0') {
            return false;
        }
        if (k[i] < 0x80u) {
            if (ascii_lower(k[i]) != c) {
                return false;
            }
            i++;
        } else {
            n = fold_special(k + i, c);
            if (n == 0) {
                return false;
            }
            i += n;
        }
        j++;
    }
    return k[i] == '\0';
}

/*
 * Refuse a key of @p obj that is not one of @p known but that runc (Go,
 * case-insensitive keys) would take for it: "Root" next to or instead of
 * "root" would have us measure one rootfs while the runtime starts another.
 */
static att_rc check_fold_keys(const json_t *obj, const char *const *known, size_t n_known,
                              const char *doc, const char *where, char *why, size_t why_len)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        (void)v;
        for (i = 0; i < n_known; i++) {
            if (strcmp(key, known[i]) != 0 && fold_equal(key, known[i])) {
                att_set_why(why, why_len,
                            "%s: a key of %s differs from \"%s\" only in letter case; runtimes "
                            "written in Go would read it as \"%s\"",
                            doc, where, known[i], known[i]);
                return ATT_ERR_PARSE;
            }
        }
    }
    return ATT_OK;
}

/* strdup of a JSON string of 1..max bytes; ATT_ERR_PARSE otherwise. */
static att_rc dup_string(const json_t *v, size_t max, char **out)
{
    size_t n;

    if (!json_is_string(v)) {
        return ATT_ERR_PARSE;
    }
    n = json_string_length(v);
    if (n == 0 || n > max) {
        return ATT_ERR_PARSE;
    }
    *out = strdup(json_string_value(v));
    return *out == NULL ? ATT_ERR_NOMEM : ATT_OK;
}

/* "1", "1.0.2-dev", "1.2.0": the major version must be 1, at most 64 bytes. */
static bool oci_version_ok(const json_t *v)
{
    const char *s;

    if (!json_is_string(v) || json_string_length(v) > OCISTATE_NAME_MAX) {
        return false;
    }
    s = json_string_value(v);
    return s[0] == '1' && (s[1] == '\0' || s[1] == '.');
}

static att_rc read_version(const json_t *obj, const char *doc, char **out, char *why,
                           size_t why_len)
{
    json_t *v = member(obj, "ociVersion");

    if (v == NULL) {
        att_set_why(why, why_len, "%s: \"ociVersion\" is missing", doc);
        return ATT_ERR_PARSE;
    }
    if (!oci_version_ok(v)) {
        att_set_why(why, why_len, "%s: \"ociVersion\" must be a 1.x version string", doc);
        return ATT_ERR_PARSE;
    }
    *out = strdup(json_string_value(v));
    return *out == NULL ? ATT_ERR_NOMEM : ATT_OK;
}

/*
 * Read a whole fd into @p b (cap set by the caller), stopping as soon as
 * the cap is passed (ATT_ERR_PARSE).
 */
static att_rc read_all(int fd, struct att_buf *b)
{
    uint8_t chunk[16384];
    ssize_t n;
    att_rc rc;

    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return ATT_ERR_IO;
        }
        if (n == 0) {
            return ATT_OK;
        }
        rc = att_buf_append(b, chunk, (size_t)n);
        if (rc != ATT_OK) {
            return rc;
        }
    }
}

/* ------------------------------------------------------------------------- */
/* State                                                                     */

static bool id_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > OCISTATE_ID_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        return false;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

static int annotation_cmp(const void *a, const void *b)
{
    const struct ocistate_annotation *x = a;
    const struct ocistate_annotation *y = b;

    return strcmp(x->key, y->key);
}

void ocistate_free(struct ocistate *st)
{
    size_t i;

    if (st == NULL) {
        return;
    }
    for (i = 0; i < st->n_annotations; i++) {
        free(st->annotations[i].key);
        free(st->annotations[i].value);
    }
    free(st->annotations);
    free(st->oci_version);
    free(st->id);
    free(st->bundle);
    free(st);
}

static att_rc state_annotations(struct ocistate *st, const json_t *obj, char *why, size_t why_len)
{
    const char *key;
    json_t *v;
    size_t n = json_object_size(obj);
    size_t i = 0;

    if (n == 0) {
        return ATT_OK;
    }
    st->annotations = calloc(n, sizeof(*st->annotations));
    if (st->annotations == NULL) {
        return ATT_ERR_NOMEM;
    }
    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        if (!json_is_string(v)) {
            att_set_why(why, why_len, WHY_STATE ": \"annotations\" values must be strings");
            return ATT_ERR_PARSE;
        }
        st->annotations[i].key = strdup(key);
        st->annotations[i].value = strdup(json_string_value(v));
        st->n_annotations = ++i; /* counted at once so ocistate_free() frees both */
        if (st->annotations[i - 1].key == NULL || st->annotations[i - 1].value == NULL) {
            return ATT_ERR_NOMEM;
        }
    }
    qsort(st->annotations, st->n_annotations, sizeof(*st->annotations), annotation_cmp);
    return ATT_OK;
}

/* Fill @p st from the parsed object @p root. */
static att_rc state_fill(struct ocistate *st, const json_t *root, char *why, size_t why_len)
{
    static const char *const keys[] = {"ociVersion", "id",     "status",
                                       "pid",        "bundle", "annotations"};
    static const char *const statuses[] = {"creating", "created", "running", "stopped"};
    json_t *v;
    json_int_t pid;
    size_t i;
    att_rc rc;

    rc = check_fold_keys(root, keys, sizeof(keys) / sizeof(keys[0]), WHY_STATE, "the state", why,
                         why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = read_version(root, WHY_STATE, &st->oci_version, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }

    v = member(root, "id");
    if (v == NULL || !json_is_string(v) || !id_ok(json_string_value(v), json_string_length(v))) {
        att_set_why(why, why_len,
                    WHY_STATE ": \"id\" must be a container id of 1 to %u characters "
                              "[A-Za-z0-9_.-], not \".\" or \"..\"",
                    OCISTATE_ID_MAX);
        return ATT_ERR_PARSE;
    }
    st->id = strdup(json_string_value(v));
    if (st->id == NULL) {
        return ATT_ERR_NOMEM;
    }

    v = member(root, "status");
    if (v == NULL || !json_is_string(v)) {
        att_set_why(why, why_len, WHY_STATE ": \"status\" must be a string");
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        if (strcmp(json_string_value(v), statuses[i]) == 0) {
            break;
        }
    }
    if (i == sizeof(statuses) / sizeof(statuses[0])) {
        att_set_why(why, why_len,
                    WHY_STATE ": \"status\" must be creating, created, running or stopped");
        return ATT_ERR_PARSE;
    }
    st->status = (enum ocistate_status)i;

    /* runc omits a zero pid (omitempty); the spec requires one once created. */
    v = member(root, "pid");
    if (v != NULL) {
        if (!json_is_integer(v)) {
            att_set_why(why, why_len, WHY_STATE ": \"pid\" must be an integer");
            return ATT_ERR_PARSE;
        }
        pid = json_integer_value(v);
        if (pid < 0 || pid > OCISTATE_PID_MAX) {
            att_set_why(why, why_len, WHY_STATE ": \"pid\" must be between 0 and %d",
                        OCISTATE_PID_MAX);
            return ATT_ERR_PARSE;
        }
        st->has_pid = pid > 0;
        st->pid = (int)pid;
    }
    if (!st->has_pid && (st->status == OCISTATE_CREATED || st->status == OCISTATE_RUNNING)) {
        att_set_why(why, why_len, WHY_STATE ": \"pid\" is required when status is %s",
                    ocistate_status_str(st->status));
        return ATT_ERR_PARSE;
    }

    v = member(root, "bundle");
    if (v == NULL) {
        att_set_why(why, why_len, WHY_STATE ": \"bundle\" is missing");
        return ATT_ERR_PARSE;
    }
    rc = dup_string(v, OCISTATE_TEXT_MAX, &st->bundle);
    if (rc == ATT_ERR_PARSE || (rc == ATT_OK && st->bundle[0] != '/')) {
        att_set_why(why, why_len,
                    WHY_STATE ": \"bundle\" must be an absolute path of at most %u bytes",
                    OCISTATE_TEXT_MAX);
        return ATT_ERR_PARSE;
    }
    if (rc != ATT_OK) {
        return rc;
    }

    v = member(root, "annotations");
    if (v != NULL) {
        if (!json_is_object(v)) {
            att_set_why(why, why_len, WHY_STATE ": \"annotations\" must be an object");
            return ATT_ERR_PARSE;
        }
        rc = state_annotations(st, v, why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    return ATT_OK;
}

att_rc ocistate_parse(const char *json, size_t len, struct ocistate **out, char *why,
                      size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    json_t *root = NULL;
    struct ocistate *st = NULL;

    att_set_why(why, why_len, "%s", "");
    if (out == NULL || (json == NULL && len > 0)) {
        att_set_why(why, why_len, WHY_STATE ": invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    rc = load_object(json, len, OCISTATE_MAX_JSON, WHY_STATE, &root, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = state_fill(st, root, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = st;
    st = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    if (rc == ATT_ERR_NOMEM) {
        att_set_why(why, why_len, WHY_STATE ": out of memory");
    }
    ocistate_free(st);
    json_decref(root);
    return rc;
}

att_rc ocistate_read_fd(int fd, struct ocistate **out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf b;

    if (fd < 0 || out == NULL) {
        att_set_why(why, why_len, WHY_STATE ": invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    att_buf_init(&b, OCISTATE_MAX_JSON);
    rc = read_all(fd, &b);
    if (rc == ATT_ERR_PARSE) {
        att_set_why(why, why_len, WHY_STATE ": larger than %u bytes", OCISTATE_MAX_JSON);
        goto out;
    }
    if (rc != ATT_OK) {
        att_set_why(why, why_len, WHY_STATE ": cannot read: %s",
                    rc == ATT_ERR_IO ? strerror(errno) : att_rc_str(rc));
        goto out;
    }
    rc = ocistate_parse((const char *)b.data, b.len, out, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    att_buf_cleanup(&b);
    return rc;
}

const char *ocistate_annotation_get(const struct ocistate *st, const char *key)
{
    size_t i;

    if (st == NULL || key == NULL) {
        return NULL;
    }
    for (i = 0; i < st->n_annotations; i++) {
        if (strcmp(st->annotations[i].key, key) == 0) {
            return st->annotations[i].value;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* config.json                                                               */

void ocistate_config_free(struct ocistate_config *cfg)
{
    size_t i;

    if (cfg == NULL) {
        return;
    }
    for (i = 0; i < cfg->n_caps_effective; i++) {
        free(cfg->caps_effective[i]);
    }
    for (i = 0; i < cfg->n_caps_bounding; i++) {
        free(cfg->caps_bounding[i]);
    }
    for (i = 0; i < OCISTATE_NS_COUNT; i++) {
        free(cfg->ns_path[i]);
    }
    free(cfg->caps_effective);
    free(cfg->caps_bounding);
    free(cfg->oci_version);
    free(cfg->root_path);
    free(cfg->argv0);
    free(cfg->apparmor_profile);
    free(cfg->selinux_label);
    free(cfg);
}

unsigned ocistate_config_ns_host(const struct ocistate_config *cfg)
{
    if (cfg == NULL) {
        return OCISTATE_NS_ALL;
    }
    return OCISTATE_NS_ALL & ~(cfg->ns_new | cfg->ns_joined);
}

static bool cap_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > OCISTATE_NAME_MAX) {
        return false;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            return false;
        }
    }
    return true;
}

/* process.capabilities.<name>: an array of capability names, or absent. */
static att_rc config_caps(const json_t *caps, const char *name, char ***out, size_t *out_n,
                          char *why, size_t why_len)
{
    json_t *arr = member(caps, name);
    json_t *v;
    size_t n;
    size_t i;

    if (arr == NULL) {
        return ATT_OK;
    }
    if (!json_is_array(arr) || json_array_size(arr) > OCISTATE_MAX_CAPS) {
        att_set_why(why, why_len,
                    WHY_CONFIG ": \"process.capabilities.%s\" must be an array of at most %u "
                               "names",
                    name, OCISTATE_MAX_CAPS);
        return ATT_ERR_PARSE;
    }
    n = json_array_size(arr);
    if (n == 0) {
        return ATT_OK;
    }
    *out = calloc(n, sizeof(**out));
    if (*out == NULL) {
        return ATT_ERR_NOMEM;
    }
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || !cap_name_ok(json_string_value(v), json_string_length(v))) {
            att_set_why(why, why_len,
                        WHY_CONFIG ": \"process.capabilities.%s[%zu]\" must be a capability "
                                   "name",
                        name, i);
            return ATT_ERR_PARSE;
        }
        (*out)[i] = strdup(json_string_value(v));
        *out_n = i + 1; /* counted at once so ocistate_config_free() frees it */
        if ((*out)[i] == NULL) {
            return ATT_ERR_NOMEM;
        }
    }
    return ATT_OK;
}

/* An optional string member of at most OCISTATE_TEXT_MAX bytes. */
static att_rc config_opt_string(const json_t *obj, const char *key, const char *where, char **out,
                                char *why, size_t why_len)
{
    json_t *v = member(obj, key);
    att_rc rc;

    if (v == NULL) {
        return ATT_OK;
    }
    rc = dup_string(v, OCISTATE_TEXT_MAX, out);
    if (rc == ATT_ERR_PARSE) {
        att_set_why(why, why_len,
                    WHY_CONFIG ": \"%s\" must be a non-empty string of at most %u bytes", where,
                    OCISTATE_TEXT_MAX);
    }
    return rc;
}

static att_rc config_opt_bool(const json_t *obj, const char *key, const char *where, bool *out,
                              char *why, size_t why_len)
{
    json_t *v = member(obj, key);

    if (v == NULL) {
        return ATT_OK;
    }
    if (!json_is_boolean(v)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"%s\" must be true or false", where);
        return ATT_ERR_PARSE;
    }
    *out = json_is_true(v);
    return ATT_OK;
}

static att_rc config_root(struct ocistate_config *cfg, const json_t *top, char *why, size_t why_len)
{
    static const char *const keys[] = {"path", "readonly"};
    json_t *root = member(top, "root");
    json_t *v;
    att_rc rc;

    if (root == NULL) {
        att_set_why(why, why_len, WHY_CONFIG ": \"root\" is missing");
        return ATT_ERR_PARSE;
    }
    if (!json_is_object(root)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"root\" must be an object");
        return ATT_ERR_PARSE;
    }
    rc = check_fold_keys(root, keys, sizeof(keys) / sizeof(keys[0]), WHY_CONFIG, "\"root\"", why,
                         why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    v = member(root, "path");
    if (v == NULL) {
        att_set_why(why, why_len, WHY_CONFIG ": \"root.path\" is missing");
        return ATT_ERR_PARSE;
    }
    rc = dup_string(v, OCISTATE_TEXT_MAX, &cfg->root_path);
    if (rc == ATT_ERR_PARSE) {
        att_set_why(why, why_len,
                    WHY_CONFIG ": \"root.path\" must be a non-empty string of at most %u bytes",
                    OCISTATE_TEXT_MAX);
    }
    if (rc != ATT_OK) {
        return rc;
    }
    return config_opt_bool(root, "readonly", "root.readonly", &cfg->root_readonly, why, why_len);
}

static att_rc config_process(struct ocistate_config *cfg, const json_t *top, char *why,
                             size_t why_len)
{
    static const char *const keys[] = {"args", "capabilities", "noNewPrivileges", "apparmorProfile",
                                       "selinuxLabel"};
    static const char *const cap_keys[] = {"effective", "bounding"};
    json_t *proc = member(top, "process");
    json_t *args;
    json_t *caps;
    json_t *v;
    size_t i;
    att_rc rc;

    if (proc == NULL) {
        return ATT_OK;
    }
    if (!json_is_object(proc)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"process\" must be an object");
        return ATT_ERR_PARSE;
    }
    cfg->has_process = true;
    rc = check_fold_keys(proc, keys, sizeof(keys) / sizeof(keys[0]), WHY_CONFIG, "\"process\"", why,
                         why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    args = member(proc, "args");
    if (args == NULL || !json_is_array(args) || json_array_size(args) == 0) {
        att_set_why(why, why_len, WHY_CONFIG ": \"process.args\" must be a non-empty array");
        return ATT_ERR_PARSE;
    }
    json_array_foreach(args, i, v) {
        if (!json_is_string(v)) {
            att_set_why(why, why_len, WHY_CONFIG ": \"process.args[%zu]\" must be a string", i);
            return ATT_ERR_PARSE;
        }
    }
    cfg->n_args = json_array_size(args);
    rc = dup_string(json_array_get(args, 0), OCISTATE_TEXT_MAX, &cfg->argv0);
    if (rc == ATT_ERR_PARSE) {
        att_set_why(why, why_len,
                    WHY_CONFIG ": \"process.args[0]\" must be a non-empty string of at most %u "
                               "bytes",
                    OCISTATE_TEXT_MAX);
    }
    if (rc != ATT_OK) {
        return rc;
    }

    caps = member(proc, "capabilities");
    if (caps != NULL) {
        if (!json_is_object(caps)) {
            att_set_why(why, why_len, WHY_CONFIG ": \"process.capabilities\" must be an object");
            return ATT_ERR_PARSE;
        }
        cfg->has_capabilities = true;
        rc = check_fold_keys(caps, cap_keys, sizeof(cap_keys) / sizeof(cap_keys[0]), WHY_CONFIG,
                             "\"process.capabilities\"", why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
        rc = config_caps(caps, "effective", &cfg->caps_effective, &cfg->n_caps_effective, why,
                         why_len);
        if (rc != ATT_OK) {
            return rc;
        }
        rc =
            config_caps(caps, "bounding", &cfg->caps_bounding, &cfg->n_caps_bounding, why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    rc = config_opt_bool(proc, "noNewPrivileges", "process.noNewPrivileges",
                         &cfg->no_new_privileges, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = config_opt_string(proc, "apparmorProfile", "process.apparmorProfile",
                           &cfg->apparmor_profile, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    return config_opt_string(proc, "selinuxLabel", "process.selinuxLabel", &cfg->selinux_label, why,
                             why_len);
}

/* One linux.namespaces[i]: {"type": "...", "path": "/..."?}; each type once. */
static att_rc config_namespace(struct ocistate_config *cfg, const json_t *ns, size_t idx, char *why,
                               size_t why_len)
{
    static const char *const keys[] = {"type", "path"};
    json_t *type;
    json_t *path;
    unsigned bit = 0;
    unsigned i;
    att_rc rc;

    if (!json_is_object(ns)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"linux.namespaces[%zu]\" must be an object", idx);
        return ATT_ERR_PARSE;
    }
    rc = check_fold_keys(ns, keys, sizeof(keys) / sizeof(keys[0]), WHY_CONFIG,
                         "\"linux.namespaces[]\"", why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    type = member(ns, "type");
    if (type == NULL || !json_is_string(type)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"linux.namespaces[%zu].type\" must be a string",
                    idx);
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < OCISTATE_NS_COUNT; i++) {
        if (strcmp(json_string_value(type), ns_names[i]) == 0) {
            bit = 1u << i;
            break;
        }
    }
    if (bit == 0) {
        att_set_why(why, why_len,
                    WHY_CONFIG ": \"linux.namespaces[%zu].type\" is not a known namespace type",
                    idx);
        return ATT_ERR_PARSE;
    }
    if (((cfg->ns_new | cfg->ns_joined) & bit) != 0) {
        att_set_why(why, why_len, WHY_CONFIG ": \"linux.namespaces\" lists \"%s\" twice",
                    ns_names[i]);
        return ATT_ERR_PARSE;
    }
    path = member(ns, "path");
    if (path == NULL) {
        cfg->ns_new |= bit;
        return ATT_OK;
    }
    rc = dup_string(path, OCISTATE_TEXT_MAX, &cfg->ns_path[i]);
    if (rc == ATT_ERR_PARSE || (rc == ATT_OK && cfg->ns_path[i][0] != '/')) {
        att_set_why(why, why_len,
                    WHY_CONFIG ": \"linux.namespaces[%zu].path\" must be an absolute path", idx);
        return ATT_ERR_PARSE;
    }
    if (rc != ATT_OK) {
        return rc;
    }
    cfg->ns_joined |= bit;
    return ATT_OK;
}

static att_rc config_linux(struct ocistate_config *cfg, const json_t *top, char *why,
                           size_t why_len)
{
    static const char *const keys[] = {"namespaces", "seccomp"};
    json_t *lx = member(top, "linux");
    json_t *nss;
    json_t *v;
    size_t i;
    att_rc rc;

    if (lx == NULL) {
        return ATT_OK;
    }
    if (!json_is_object(lx)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"linux\" must be an object");
        return ATT_ERR_PARSE;
    }
    cfg->has_linux = true;
    rc = check_fold_keys(lx, keys, sizeof(keys) / sizeof(keys[0]), WHY_CONFIG, "\"linux\"", why,
                         why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    v = member(lx, "seccomp");
    if (v != NULL) {
        if (!json_is_object(v)) {
            att_set_why(why, why_len, WHY_CONFIG ": \"linux.seccomp\" must be an object");
            return ATT_ERR_PARSE;
        }
        cfg->has_seccomp = true;
    }
    nss = member(lx, "namespaces");
    if (nss == NULL) {
        return ATT_OK;
    }
    if (!json_is_array(nss)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"linux.namespaces\" must be an array");
        return ATT_ERR_PARSE;
    }
    json_array_foreach(nss, i, v) {
        rc = config_namespace(cfg, v, i, why, why_len);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    return ATT_OK;
}

static att_rc config_fill(struct ocistate_config *cfg, const json_t *top, char *why, size_t why_len)
{
    static const char *const keys[] = {"ociVersion", "root", "process", "linux", "mounts"};
    json_t *mounts;
    json_t *v;
    size_t i;
    att_rc rc;

    rc = check_fold_keys(top, keys, sizeof(keys) / sizeof(keys[0]), WHY_CONFIG, "the config", why,
                         why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = read_version(top, WHY_CONFIG, &cfg->oci_version, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = config_root(cfg, top, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = config_process(cfg, top, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = config_linux(cfg, top, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    mounts = member(top, "mounts");
    if (mounts != NULL) {
        if (!json_is_array(mounts)) {
            att_set_why(why, why_len, WHY_CONFIG ": \"mounts\" must be an array");
            return ATT_ERR_PARSE;
        }
        json_array_foreach(mounts, i, v) {
            if (!json_is_object(v)) {
                att_set_why(why, why_len, WHY_CONFIG ": \"mounts[%zu]\" must be an object", i);
                return ATT_ERR_PARSE;
            }
        }
        cfg->n_mounts = json_array_size(mounts);
    }
    return ATT_OK;
}

att_rc ocistate_config_parse(const char *json, size_t len, struct ocistate_config **out, char *why,
                             size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    json_t *root = NULL;
    struct ocistate_config *cfg = NULL;

    att_set_why(why, why_len, "%s", "");
    if (out == NULL || (json == NULL && len > 0)) {
        att_set_why(why, why_len, WHY_CONFIG ": invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    rc = load_object(json, len, OCISTATE_CONFIG_MAX_JSON, WHY_CONFIG, &root, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = config_fill(cfg, root, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = cfg;
    cfg = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    if (rc == ATT_ERR_NOMEM) {
        att_set_why(why, why_len, WHY_CONFIG ": out of memory");
    }
    ocistate_config_free(cfg);
    json_decref(root);
    return rc;
}

/*
 * Whether @p name in @p dfd is a symlink. open(O_DIRECTORY|O_NOFOLLOW) on a
 * symlink fails with ENOTDIR or ELOOP depending on the kernel path taken, so
 * a message that names the cause has to look.
 */
static bool is_symlink_at(int dfd, const char *name)
{
    struct stat st;

    return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

att_rc ocistate_bundle_open(const struct ocistate *st, int *out_fd, char *why, size_t why_len)
{
    int fd;
    int err;

    if (st == NULL || st->bundle == NULL || out_fd == NULL) {
        att_set_why(why, why_len, WHY_STATE ": invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    fd = open(st->bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        att_set_why(why, why_len, WHY_STATE ": cannot open the bundle directory: %s",
                    (err == ELOOP || err == ENOTDIR) && is_symlink_at(AT_FDCWD, st->bundle)
                        ? "it is a symlink"
                        : strerror(err));
        return err == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
    }
    *out_fd = fd;
    return ATT_OK;
}

att_rc ocistate_config_load(int bundle_fd, struct ocistate_config **out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf b;
    struct stat st;
    int fd = -1;
    int err;

    if (bundle_fd < 0 || out == NULL) {
        att_set_why(why, why_len, WHY_CONFIG ": invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    att_buf_init(&b, OCISTATE_CONFIG_MAX_JSON);
    fd =
        openat(bundle_fd, "config.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        rc = err == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        att_set_why(why, why_len, WHY_CONFIG ": cannot open config.json: %s",
                    err == ELOOP ? "it is a symlink" : strerror(err));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ATT_ERR_IO;
        att_set_why(why, why_len, WHY_CONFIG ": config.json is not a regular file");
        goto out;
    }
    rc = read_all(fd, &b);
    if (rc == ATT_ERR_PARSE) {
        att_set_why(why, why_len, WHY_CONFIG ": larger than %u bytes", OCISTATE_CONFIG_MAX_JSON);
        goto out;
    }
    if (rc != ATT_OK) {
        att_set_why(why, why_len, WHY_CONFIG ": cannot read config.json: %s",
                    rc == ATT_ERR_IO ? strerror(errno) : att_rc_str(rc));
        goto out;
    }
    rc = ocistate_config_parse((const char *)b.data, b.len, out, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    att_buf_cleanup(&b);
    return rc;
}

/*
 * errno @p err of a failed open of root.path component @p name in @p dfd,
 * in words and as an att_rc.
 */
static att_rc rootfs_open_error(int err, int dfd, const char *name, char *why, size_t why_len)
{
    const char *what;

    if ((err == ELOOP || err == ENOTDIR) && is_symlink_at(dfd, name)) {
        what = "a component is a symlink";
    } else if (err == ENOTDIR) {
        what = "a component is not a directory";
    } else {
        what = strerror(err);
    }
    att_set_why(why, why_len, WHY_CONFIG ": cannot open \"root.path\": %s", what);
    return err == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
}

/* Whether @p path has a ".." component. */
static bool has_dotdot(const char *path)
{
    const char *p = path;

    while (*p != '\0') {
        const char *end = strchr(p, '/');
        size_t n = end == NULL ? strlen(p) : (size_t)(end - p);

        if (n == 2 && p[0] == '.' && p[1] == '.') {
            return true;
        }
        p += n;
        if (*p == '/') {
            p++;
        }
    }
    return false;
}

att_rc ocistate_rootfs_open(int bundle_fd, const struct ocistate_config *cfg, int *out_fd,
                            char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char *copy = NULL;
    char *p;
    char *end;
    int cur = -1;
    int next;

    if (bundle_fd < 0 || cfg == NULL || cfg->root_path == NULL || out_fd == NULL) {
        att_set_why(why, why_len, WHY_CONFIG ": invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    if (has_dotdot(cfg->root_path)) {
        att_set_why(why, why_len, WHY_CONFIG ": \"root.path\" must not contain \"..\"");
        return ATT_ERR_PARSE;
    }
    if (cfg->root_path[0] == '/') {
        cur = open(cfg->root_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cur < 0) {
            rc = rootfs_open_error(errno, AT_FDCWD, cfg->root_path, why, why_len);
            goto out;
        }
    } else {
        copy = strdup(cfg->root_path);
        if (copy == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        cur = openat(bundle_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0) {
            rc = rootfs_open_error(errno, bundle_fd, ".", why, why_len);
            goto out;
        }
        for (p = copy; *p != '\0'; p = end) {
            end = strchr(p, '/');
            if (end == NULL) {
                end = p + strlen(p);
            } else {
                *end++ = '\0';
            }
            if (*p == '\0' || strcmp(p, ".") == 0) {
                continue;
            }
            next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0) {
                rc = rootfs_open_error(errno, cur, p, why, why_len);
                goto out;
            }
            (void)close(cur);
            cur = next;
        }
    }
    *out_fd = cur;
    cur = -1; /* transferred to the caller */
    rc = ATT_OK;
out:
    if (rc == ATT_ERR_NOMEM) {
        att_set_why(why, why_len, WHY_CONFIG ": out of memory");
    }
    if (cur >= 0) {
        (void)close(cur);
    }
    free(copy);
    return rc;
}
