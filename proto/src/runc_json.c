/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runc state.json decoding (see attest/runc_json.h). The file is written by
 * root-run runc, but it is still foreign bytes that decide which cgroup the
 * agent writes to and which pid it signals: sizes are capped, types checked,
 * the id must be a safe path component and cgroup paths must stay under
 * /sys/fs/cgroup/. Format: opencontainers/runc libcontainer/container_linux.go
 * (State, BaseState) and libcontainer/configs/config.go (Config.Labels).
 */
#include "attest/runc_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attest/util.h"

#define CGROUP_ROOT   "/sys/fs/cgroup/"
#define MAX_PID       4194304 /* PID_MAX_LIMIT on 64-bit Linux */
#define MAX_LABELS    1024
#define BUNDLE_PREFIX "bundle="

bool att_runc_id_ok(const char *id)
{
    size_t i;
    size_t n;

    if (id == NULL) {
        return false;
    }
    n = strlen(id);
    if (n == 0 || n > ATT_ENGINE_ID_LEN || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) {
        return false;
    }
    for (i = 0; i < n; i++) {
        char c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

/*
 * A cgroup directory the agent may write freezer files in: absolute, below
 * /sys/fs/cgroup/, no "." or ".." component, no empty component, and short
 * enough for @p dst with room for "/freezer.state".
 */
static bool cgroup_path_ok(const char *p, size_t max)
{
    const char *c;

    if (p == NULL || strncmp(p, CGROUP_ROOT, strlen(CGROUP_ROOT)) != 0 || strlen(p) + 32 >= max) {
        return false;
    }
    for (c = p + 1; *c != '\0';) {
        const char *end = strchr(c, '/');
        size_t n = end != NULL ? (size_t)(end - c) : strlen(c);

        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
            return false;
        }
        c += n;
        if (*c == '/') {
            c++;
        }
    }
    return true;
}

/* Copy an optional cgroup path member into @p dst ("" when absent or null). */
static bool opt_cgroup(json_t *paths, const char *key, char *dst, size_t dst_len)
{
    json_t *v = json_object_get(paths, key);

    dst[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v) || !cgroup_path_ok(json_string_value(v), dst_len)) {
        return false;
    }
    (void)snprintf(dst, dst_len, "%s", json_string_value(v));
    return true;
}

/*
 * The bundle path from config.labels, an array of "key=value" strings (runc
 * adds "bundle=<abs path>"). Absent labels leave *bundle NULL; a malformed
 * array is an error.
 */
static att_rc bundle_of(json_t *config, char **bundle, char *why, size_t why_len)
{
    json_t *labels = json_object_get(config, "labels");
    size_t i;

    *bundle = NULL;
    if (labels == NULL || json_is_null(labels)) {
        return ATT_OK;
    }
    if (!json_is_array(labels) || json_array_size(labels) > MAX_LABELS) {
        att_set_why(why, why_len, "state: \"config.labels\" is not a short array");
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < json_array_size(labels); i++) {
        json_t *v = json_array_get(labels, i);
        const char *s = json_string_value(v);

        if (s == NULL || json_string_length(v) > ATT_RUNC_PATH_MAX) {
            att_set_why(why, why_len, "state: config.labels[%zu] is not a short string", i);
            return ATT_ERR_PARSE;
        }
        if (*bundle == NULL && strncmp(s, BUNDLE_PREFIX, strlen(BUNDLE_PREFIX)) == 0 &&
            s[strlen(BUNDLE_PREFIX)] == '/') {
            *bundle = strdup(s + strlen(BUNDLE_PREFIX));
            if (*bundle == NULL) {
                return ATT_ERR_NOMEM;
            }
        }
    }
    return ATT_OK;
}

att_rc att_runc_state_decode(const char *json, size_t len, struct att_engine_container *out,
                             struct att_runc_state *st, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    struct att_engine_container c;
    struct att_runc_state *s = NULL;
    json_error_t err;
    json_t *j = NULL;
    json_t *pid;
    json_t *start;
    json_t *config;
    json_t *paths;
    const char *id;

    memset(&c, 0, sizeof(c));
    if (out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    att_engine_container_cleanup(out);
    if (json == NULL || len == 0 || len > ATT_RUNC_MAX_STATE) {
        att_set_why(why, why_len, "state: missing, empty or larger than %u bytes",
                    ATT_RUNC_MAX_STATE);
        return ATT_ERR_PARSE;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return ATT_ERR_NOMEM;
    }
    j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL || !json_is_object(j)) {
        att_set_why(why, why_len, "state: not a JSON object (line %d)", j == NULL ? err.line : 1);
        goto out;
    }
    id = json_string_value(json_object_get(j, "id"));
    if (!att_runc_id_ok(id)) {
        att_set_why(why, why_len, "state: \"id\" missing or not a safe runc id");
        goto out;
    }
    (void)snprintf(c.id, sizeof(c.id), "%s", id);
    pid = json_object_get(j, "init_process_pid");
    if (!json_is_integer(pid) || json_integer_value(pid) < 0 || json_integer_value(pid) > MAX_PID) {
        att_set_why(why, why_len, "state: \"init_process_pid\" missing or out of range");
        goto out;
    }
    c.pid = json_integer_value(pid);
    start = json_object_get(j, "init_process_start");
    if (!json_is_integer(start) || json_integer_value(start) < 0) {
        att_set_why(why, why_len, "state: \"init_process_start\" missing or negative");
        goto out;
    }
    s->init_start = (uint64_t)json_integer_value(start);
    config = json_object_get(j, "config");
    if (!json_is_object(config)) {
        att_set_why(why, why_len, "state: \"config\" missing or not an object");
        goto out;
    }
    rc = bundle_of(config, &c.image_ref, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_ERR_PARSE;
    paths = json_object_get(j, "cgroup_paths");
    if (paths != NULL && !json_is_null(paths) && !json_is_object(paths)) {
        att_set_why(why, why_len, "state: \"cgroup_paths\" is not an object");
        goto out;
    }
    if (!opt_cgroup(paths, "freezer", s->freezer_path, sizeof(s->freezer_path)) ||
        !opt_cgroup(paths, "", s->unified_path, sizeof(s->unified_path))) {
        att_set_why(why, why_len,
                    "state: cgroup_paths freezer/unified is not a path under " CGROUP_ROOT);
        goto out;
    }
    c.name = strdup(c.id);
    if (c.name == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (st != NULL) {
        *st = *s;
    }
    *out = c;
    memset(&c, 0, sizeof(c)); /* transferred to out */
    rc = ATT_OK;
out:
    att_engine_container_cleanup(&c);
    free(s);
    json_decref(j);
    return rc;
}
