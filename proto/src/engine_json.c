/* SPDX-License-Identifier: Apache-2.0 */
#define _DEFAULT_SOURCE /* timegm */
/*
 * Docker Engine API container list/inspect decoding, and the names of a
 * container's networks (see attest/engine_json.h).
 * Engine answers are untrusted input: sizes are capped, types checked, ids
 * must be 64 lower-case hex characters.
 */
#include "attest/engine_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attest/util.h"

#define TEXT_MAX 4096

static bool id_ok(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != ATT_ENGINE_ID_LEN) {
        return false;
    }
    for (i = 0; i < ATT_ENGINE_ID_LEN; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool att_engine_policy_label_ok(const char *v)
{
    size_t i;

    if (v == NULL || v[0] == '\0') {
        return false;
    }
    for (i = 0; v[i] != '\0'; i++) {
        char ch = v[i];

        if (i >= 79 || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' ||
                         ch == '-')) {
            return false;
        }
    }
    return true;
}

/* Copy an optional string member; false only when present with a wrong type or too long. */
static bool opt_str(json_t *obj, const char *key, char **dst)
{
    json_t *v = json_object_get(obj, key);

    *dst = NULL;
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) > TEXT_MAX) {
        return false;
    }
    *dst = strdup(json_string_value(v));
    return *dst != NULL;
}

void att_engine_container_cleanup(struct att_engine_container *c)
{
    size_t i;

    if (c == NULL) {
        return;
    }
    free(c->name);
    free(c->image_id);
    free(c->image_ref);
    free(c->state);
    free(c->policy_label);
    free(c->network_mode);
    free(c->pid_mode);
    for (i = 0; i < c->n_cap_add; i++) {
        free(c->cap_add[i]);
    }
    free(c->cap_add);
    memset(c, 0, sizeof(*c));
}

void att_engine_containers_free(struct att_engine_container *c, size_t n)
{
    size_t i;

    for (i = 0; c != NULL && i < n; i++) {
        att_engine_container_cleanup(&c[i]);
    }
    free(c);
}

static json_t *load(const char *json, size_t len, char *why, size_t why_len)
{
    json_error_t err;
    json_t *j;

    if (json == NULL || len > ATT_ENGINE_MAX_BODY) {
        att_set_why(why, why_len, "engine answer missing or larger than %u bytes",
                    ATT_ENGINE_MAX_BODY);
        return NULL;
    }
    j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        att_set_why(why, why_len, "engine answer is not JSON (line %d: %s)", err.line, err.text);
    }
    return j;
}

att_rc att_engine_list_decode(const char *json, size_t len, struct att_engine_container **out,
                              size_t *n, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    json_t *j = load(json, len, why, why_len);
    struct att_engine_container *arr = NULL;
    size_t count = 0;
    size_t i;
    json_t *e;

    *out = NULL;
    *n = 0;
    if (j == NULL) {
        return ATT_ERR_PARSE;
    }
    if (!json_is_array(j) || json_array_size(j) > ATT_ENGINE_MAX_CONTAINERS) {
        att_set_why(why, why_len, "container list must be an array of at most %d",
                    ATT_ENGINE_MAX_CONTAINERS);
        goto out;
    }
    arr = calloc(json_array_size(j) + 1, sizeof(*arr));
    if (arr == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    json_array_foreach(j, i, e) {
        const char *id = json_string_value(json_object_get(e, "Id"));
        struct att_engine_container *c = &arr[count];

        if (!json_is_object(e) || !id_ok(id)) {
            att_set_why(why, why_len, "container %zu: \"Id\" is not 64 hex characters", i);
            goto out;
        }
        memcpy(c->id, id, ATT_ENGINE_ID_LEN + 1);
        count++;
        if (!opt_str(e, "ImageID", &c->image_id) || !opt_str(e, "Image", &c->image_ref) ||
            !opt_str(e, "State", &c->state)) {
            att_set_why(why, why_len, "container %zu: ImageID, Image or State malformed", i);
            goto out;
        }
    }
    *out = arr;
    *n = count;
    arr = NULL;
    count = 0;
    rc = ATT_OK;
out:
    att_engine_containers_free(arr, count);
    json_decref(j);
    return rc;
}

att_rc att_engine_inspect_decode(const char *json, size_t len, struct att_engine_container *out,
                                 char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    json_t *j = load(json, len, why, why_len);
    struct att_engine_container c;
    json_t *state;
    json_t *host;
    json_t *caps;
    json_t *pid;
    const char *id;
    const char *name;
    size_t i;
    json_t *v;

    memset(&c, 0, sizeof(c));
    if (out != NULL) {
        att_engine_container_cleanup(out);
    }
    if (j == NULL || out == NULL) {
        json_decref(j);
        return out == NULL ? ATT_ERR_INVALID_ARG : ATT_ERR_PARSE;
    }
    id = json_string_value(json_object_get(j, "Id"));
    if (!json_is_object(j) || !id_ok(id)) {
        att_set_why(why, why_len, "inspect: \"Id\" is not 64 hex characters");
        goto out;
    }
    memcpy(c.id, id, ATT_ENGINE_ID_LEN + 1);
    name = json_string_value(json_object_get(j, "Name"));
    if (name != NULL && name[0] == '/') {
        name++;
    }
    c.name = strdup(name != NULL ? name : "");
    if (c.name == NULL || !opt_str(j, "Image", &c.image_id)) {
        att_set_why(why, why_len, "inspect: \"Name\" or \"Image\" malformed");
        goto out;
    }
    if (!opt_str(json_object_get(j, "Config"), "Image", &c.image_ref)) {
        att_set_why(why, why_len, "inspect: \"Config.Image\" malformed");
        goto out;
    }
    v = json_object_get(json_object_get(json_object_get(j, "Config"), "Labels"), ATT_POLICY_LABEL);
    if (v != NULL) {
        c.policy_label = strdup(json_is_string(v) && att_engine_policy_label_ok(json_string_value(v))
                                    ? json_string_value(v)
                                    : ATT_POLICY_LABEL_INVALID);
        if (c.policy_label == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    state = json_object_get(j, "State");
    pid = json_object_get(state, "Pid");
    if (!json_is_object(state) || !opt_str(state, "Status", &c.state) ||
        (pid != NULL && !json_is_integer(pid))) {
        att_set_why(why, why_len, "inspect: \"State\" malformed");
        goto out;
    }
    c.pid = pid != NULL ? json_integer_value(pid) : 0;
    if (c.pid < 0 || c.pid > 4194304) {
        att_set_why(why, why_len, "inspect: State.Pid %lld out of range", (long long)c.pid);
        goto out;
    }
    host = json_object_get(j, "HostConfig");
    if (host != NULL) {
        json_t *priv = json_object_get(host, "Privileged");

        if (priv != NULL && !json_is_boolean(priv)) {
            att_set_why(why, why_len, "inspect: HostConfig.Privileged is not a boolean");
            goto out;
        }
        c.is_privileged = priv != NULL && json_is_true(priv);
        if (!opt_str(host, "NetworkMode", &c.network_mode) ||
            !opt_str(host, "PidMode", &c.pid_mode)) {
            att_set_why(why, why_len, "inspect: HostConfig modes malformed");
            goto out;
        }
        caps = json_object_get(host, "CapAdd");
        if (caps != NULL && !json_is_null(caps)) {
            if (!json_is_array(caps) || json_array_size(caps) > 64) {
                att_set_why(why, why_len, "inspect: HostConfig.CapAdd is not a short array");
                goto out;
            }
            c.cap_add = calloc(json_array_size(caps) + 1, sizeof(char *));
            if (c.cap_add == NULL) {
                rc = ATT_ERR_NOMEM;
                goto out;
            }
            json_array_foreach(caps, i, v) {
                if (!json_is_string(v) || json_string_length(v) > 64) {
                    att_set_why(why, why_len, "inspect: CapAdd[%zu] malformed", i);
                    goto out;
                }
                c.cap_add[c.n_cap_add] = strdup(json_string_value(v));
                if (c.cap_add[c.n_cap_add] == NULL) {
                    rc = ATT_ERR_NOMEM;
                    goto out;
                }
                c.n_cap_add++;
            }
        }
    }
    *out = c;
    memset(&c, 0, sizeof(c)); /* transferred */
    rc = ATT_OK;
out:
    att_engine_container_cleanup(&c);
    json_decref(j);
    return rc;
}

bool att_engine_network_name_ok(const char *name)
{
    size_t i;

    if (name == NULL) {
        return false;
    }
    for (i = 0; name[i] != '\0'; i++) {
        char ch = name[i];
        bool is_alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');

        if (i >= ATT_ENGINE_NETWORK_MAX ||
            !(is_alnum || (i > 0 && (ch == '_' || ch == '.' || ch == '-')))) {
            return false;
        }
    }
    return i > 0;
}

void att_engine_networks_free(char **names, size_t n)
{
    size_t i;

    for (i = 0; names != NULL && i < n; i++) {
        free(names[i]);
    }
    free(names);
}

att_rc att_engine_networks_decode(const char *json, size_t len, char ***names, size_t *n, char *why,
                                  size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    json_t *j = NULL;
    json_t *settings;
    json_t *nets;
    json_t *v;
    const char *key;
    char **arr = NULL;
    size_t cap;
    size_t count = 0;

    if (names == NULL || n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    j = load(json, len, why, why_len);
    if (j == NULL) {
        return ATT_ERR_PARSE;
    }
    if (!json_is_object(j)) {
        att_set_why(why, why_len, "inspect: not a JSON object");
        goto out;
    }
    settings = json_object_get(j, "NetworkSettings");
    nets = json_is_object(settings) ? json_object_get(settings, "Networks") : NULL;
    if ((settings != NULL && !json_is_null(settings) && !json_is_object(settings)) ||
        (nets != NULL && !json_is_null(nets) && !json_is_object(nets))) {
        att_set_why(why, why_len, "inspect: NetworkSettings.Networks is not an object");
        goto out;
    }
    cap = json_object_size(nets);
    if (cap > ATT_ENGINE_MAX_NETWORKS) {
        att_set_why(why, why_len, "inspect: more than %d networks", ATT_ENGINE_MAX_NETWORKS);
        goto out;
    }
    if (cap > 0) {
        arr = calloc(cap, sizeof(*arr));
        if (arr == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    json_object_foreach(nets, key, v) {
        if (count >= cap) {
            rc = ATT_ERR_INTERNAL; /* impossible: cap is the object's size */
            goto out;
        }
        if (!att_engine_network_name_ok(key) || !json_is_object(v)) {
            att_set_why(why, why_len, "inspect: network %zu has a malformed name or entry", count);
            goto out;
        }
        if (strcmp(key, "host") == 0 || strcmp(key, "none") == 0) {
            continue;
        }
        arr[count] = strdup(key);
        if (arr[count] == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        count++;
    }
    if (count == 0) {
        free(arr);
        arr = NULL;
    }
    *names = arr;
    *n = count;
    arr = NULL; /* transferred to the caller */
    count = 0;
    rc = ATT_OK;
out:
    att_engine_networks_free(arr, count);
    json_decref(j);
    return rc;
}


att_rc att_engine_storage_image(const char *json, size_t len, const char *id, char *image_id,
                                size_t image_id_len, char *image_ref, size_t image_ref_len,
                                struct timespec *created)
{
    att_rc rc = ATT_ERR_NOT_FOUND;
    json_t *j = load(json, len, NULL, 0);
    json_t *c;
    size_t i;

    if (j == NULL || !json_is_array(j) || id == NULL) {
        json_decref(j);
        return ATT_ERR_PARSE;
    }
    json_array_foreach(j, i, c) {
        const char *cid = json_string_value(json_object_get(c, "id"));
        const char *img = json_string_value(json_object_get(c, "image"));
        const char *meta = json_string_value(json_object_get(c, "metadata"));
        json_t *m;

        if (cid == NULL || strcmp(cid, id) != 0) {
            continue;
        }
        if (!id_ok(img)) {
            rc = ATT_ERR_PARSE;
            break;
        }
        (void)snprintf(image_id, image_id_len, "sha256:%s", img);
        image_ref[0] = '\0';
        if (created != NULL &&
            !att_rfc3339_parse(json_string_value(json_object_get(c, "created")), created)) {
            created->tv_sec = 0;
            created->tv_nsec = 0;
        }
        m = meta != NULL ? json_loads(meta, 0, NULL) : NULL;
        if (json_is_string(json_object_get(m, "image-name")) &&
            strlen(json_string_value(json_object_get(m, "image-name"))) < image_ref_len) {
            (void)snprintf(image_ref, image_ref_len, "%s",
                           json_string_value(json_object_get(m, "image-name")));
        }
        json_decref(m);
        rc = ATT_OK;
        break;
    }
    json_decref(j);
    return rc;
}

/* The string member @p key of the object in array @p json whose "id" is @p id. */
static att_rc storage_field(const char *json, size_t len, const char *id, const char *key,
                            char *out, size_t out_len)
{
    att_rc rc = ATT_ERR_NOT_FOUND;
    json_t *j = load(json, len, NULL, 0);
    json_t *c;
    size_t i;

    if (j == NULL || !json_is_array(j) || id == NULL || out == NULL || out_len == 0) {
        json_decref(j);
        return ATT_ERR_PARSE;
    }
    json_array_foreach(j, i, c) {
        const char *cid = json_string_value(json_object_get(c, "id"));
        const char *v = json_string_value(json_object_get(c, key));

        if (cid == NULL || strcmp(cid, id) != 0) {
            continue;
        }
        if (v == NULL || v[0] == '\0') {
            out[0] = '\0';
            rc = ATT_ERR_NOT_FOUND;
        } else if (!id_ok(v)) {
            rc = ATT_ERR_PARSE;
        } else {
            (void)snprintf(out, out_len, "%s", v);
            rc = ATT_OK;
        }
        break;
    }
    json_decref(j);
    return rc;
}

att_rc att_engine_storage_layer(const char *json, size_t len, const char *id, char *layer,
                                size_t layer_len)
{
    return storage_field(json, len, id, "layer", layer, layer_len);
}

att_rc att_engine_layer_parent(const char *json, size_t len, const char *layer, char *parent,
                               size_t parent_len)
{
    return storage_field(json, len, layer, "parent", parent, parent_len);
}
