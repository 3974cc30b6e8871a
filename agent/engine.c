/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine_* entry points (see engine.h): engine_open() picks the backend by the
 * URL's scheme; "unix://" is the Docker Engine API client below, "runc://" is
 * bare runc (engine_runc.c), to which every call on such an engine is passed.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "attest/buf.h"
#include "attest/log.h"
#include "attest/runc_json.h"
#include "attest/util.h"
#include "engine_int.h"

struct engine {
    struct engine_runc *runc; /* owned; non-NULL: a runc engine, the rest is unused */
    char socket[108];
    CURL *curl; /* owned */
    struct att_buf resp;
};

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct engine *e = user;

    return att_buf_append(&e->resp, p, size * n) == ATT_OK ? size * n : 0;
}

att_rc engine_open(const char *url, struct engine **out)
{
    struct engine *e;
    struct engine_runc *r = NULL;
    att_rc rc;

    if (url != NULL && strncmp(url, ENGINE_RUNC_SCHEME, strlen(ENGINE_RUNC_SCHEME)) == 0) {
        rc = engine_runc_open(url + strlen(ENGINE_RUNC_SCHEME), &r);
        if (rc != ATT_OK) {
            return rc;
        }
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            engine_runc_free(r);
            return ATT_ERR_NOMEM;
        }
        e->runc = r;
        r = NULL; /* transferred to e */
        *out = e;
        return ATT_OK;
    }
    if (url == NULL || strncmp(url, "unix://", 7) != 0 || url[7] != '/' ||
        strlen(url + 7) >= sizeof(e->socket)) {
        LOG_ERR("engine URL \"%s\" must be unix:///absolute/path.sock or runc:///runc/root",
                url != NULL ? url : "");
        return ATT_ERR_INVALID_ARG;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return ATT_ERR_NOMEM;
    }
    (void)snprintf(e->socket, sizeof(e->socket), "%s", url + 7);
    att_buf_init(&e->resp, ATT_ENGINE_MAX_BODY);
    e->curl = curl_easy_init();
    if (e->curl == NULL) {
        free(e);
        return ATT_ERR_NOMEM;
    }
    *out = e;
    return ATT_OK;
}

void engine_free(struct engine *e)
{
    if (e == NULL) {
        return;
    }
    engine_runc_free(e->runc);
    curl_easy_cleanup(e->curl);
    att_buf_cleanup(&e->resp);
    free(e);
}

/* One request; the answer lands in e->resp. Returns the HTTP status or -1. */
static long request(struct engine *e, const char *method, const char *path, char *why,
                    size_t why_len)
{
    char url[512];
    long status = 0;
    CURLcode cc;

    att_buf_reset(&e->resp);
    (void)snprintf(url, sizeof(url), "http://engine/%s%s", ENGINE_API_VERSION, path);
    curl_easy_reset(e->curl);
    (void)curl_easy_setopt(e->curl, CURLOPT_UNIX_SOCKET_PATH, e->socket);
    (void)curl_easy_setopt(e->curl, CURLOPT_URL, url);
    (void)curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT, 2L);
    (void)curl_easy_setopt(e->curl, CURLOPT_TIMEOUT, 10L);
    (void)curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_data);
    (void)curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, e);
    if (strcmp(method, "POST") == 0) {
        (void)curl_easy_setopt(e->curl, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, "");
        (void)curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    cc = curl_easy_perform(e->curl);
    if (cc != CURLE_OK) {
        att_set_why(why, why_len, "container engine at %s unreachable: %s", e->socket,
                    curl_easy_strerror(cc));
        return -1;
    }
    (void)curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/*
 * An id or name that may go into a URL path: the rule of runc's container
 * ids (att_runc_id_ok), which also refuses "." and ".." (curl would resolve
 * "/containers/../kill" to another endpoint).
 */
static bool id_safe(const char *id)
{
    return att_runc_id_ok(id);
}

att_rc engine_list(struct engine *e, struct att_engine_container **out, size_t *n)
{
    char why[512] = "";
    long st;

    if (e->runc != NULL) {
        return engine_runc_list(e->runc, out, n);
    }
    st = request(e, "GET", "/containers/json?all=true", why, sizeof(why));
    if (st != 200) {
        LOG_WARN("%s", why[0] ? why : "container engine refused to list containers");
        return ATT_ERR_IO;
    }
    if (att_engine_list_decode((const char *)e->resp.data, e->resp.len, out, n, why,
                               sizeof(why)) != ATT_OK) {
        LOG_WARN("container engine: %s", why);
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

att_rc engine_inspect(struct engine *e, const char *id, struct att_engine_container *out)
{
    char path[256];
    char why[512] = "";
    long st;

    if (e->runc != NULL) {
        return engine_runc_inspect(e->runc, id, out);
    }
    if (!id_safe(id)) {
        return ATT_ERR_INVALID_ARG;
    }
    (void)snprintf(path, sizeof(path), "/containers/%s/json", id);
    st = request(e, "GET", path, why, sizeof(why));
    if (st == 404) {
        return ATT_ERR_NOT_FOUND;
    }
    if (st != 200) {
        LOG_WARN("%s", why[0] ? why : "container engine refused to inspect a container");
        return ATT_ERR_IO;
    }
    if (att_engine_inspect_decode((const char *)e->resp.data, e->resp.len, out, why,
                                  sizeof(why)) != ATT_OK) {
        LOG_WARN("container engine: %s", why);
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

att_rc engine_action(struct engine *e, const char *id, const char *action, char *why,
                     size_t why_len)
{
    char path[256];
    long st;

    if (e->runc != NULL) {
        return engine_runc_action(e->runc, id, action, why, why_len);
    }
    if (!id_safe(id) || (strcmp(action, "pause") != 0 && strcmp(action, "unpause") != 0 &&
                         strcmp(action, "kill") != 0)) {
        att_set_why(why, why_len, "invalid container id or action");
        return ATT_ERR_INVALID_ARG;
    }
    (void)snprintf(path, sizeof(path), "/containers/%s/%s", id, action);
    st = request(e, "POST", path, why, why_len);
    if (st == 404) {
        att_set_why(why, why_len, "no container %s", id);
        return ATT_ERR_NOT_FOUND;
    }
    if (st < 200 || st >= 300) {
        if (st > 0) {
            att_set_why(why, why_len, "engine answered %s of %s with HTTP %ld", action, id, st);
        }
        return ATT_ERR_IO;
    }
    return ATT_OK;
}

/*
 * POST @p body (JSON) to @p path; the answer lands in e->resp. Like
 * request(), but the body and its Content-Type header are set for this
 * request only and unset before the header list is freed, so the handle
 * keeps no pointer to either. Returns the HTTP status or -1.
 */
static long post_json(struct engine *e, const char *path, const char *body, char *why,
                      size_t why_len)
{
    char url[512];
    long status = -1;
    struct curl_slist *hdr = NULL;
    int len;
    CURLcode cc;

    att_buf_reset(&e->resp);
    len = snprintf(url, sizeof(url), "http://engine/%s%s", ENGINE_API_VERSION, path);
    if (len < 0 || (size_t)len >= sizeof(url)) {
        att_set_why(why, why_len, "engine request path too long");
        return -1;
    }
    hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (hdr == NULL) {
        att_set_why(why, why_len, "out of memory");
        return -1;
    }
    curl_easy_reset(e->curl);
    (void)curl_easy_setopt(e->curl, CURLOPT_UNIX_SOCKET_PATH, e->socket);
    (void)curl_easy_setopt(e->curl, CURLOPT_URL, url);
    (void)curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT, 2L);
    (void)curl_easy_setopt(e->curl, CURLOPT_TIMEOUT, 10L);
    (void)curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_data);
    (void)curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, e);
    (void)curl_easy_setopt(e->curl, CURLOPT_POST, 1L);
    (void)curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, hdr);
    (void)curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
    (void)curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    cc = curl_easy_perform(e->curl);
    (void)curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, NULL);
    (void)curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(hdr);
    if (cc != CURLE_OK) {
        att_set_why(why, why_len, "container engine at %s unreachable: %s", e->socket,
                    curl_easy_strerror(cc));
        return -1;
    }
    (void)curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

att_rc engine_networks(struct engine *e, const char *id, char ***names, size_t *n, char *why,
                       size_t why_len)
{
    char path[256];
    long st;

    if (e == NULL || names == NULL || n == NULL) {
        att_set_why(why, why_len, "engine_networks: NULL argument");
        return ATT_ERR_INVALID_ARG;
    }
    if (e->runc != NULL) {
        *names = NULL; /* bare runc: no engine-managed networks */
        *n = 0;
        return ATT_OK;
    }
    if (!id_safe(id)) {
        att_set_why(why, why_len, "invalid container id");
        return ATT_ERR_INVALID_ARG;
    }
    (void)snprintf(path, sizeof(path), "/containers/%s/json", id);
    st = request(e, "GET", path, why, why_len);
    if (st == 404) {
        att_set_why(why, why_len, "no container %s", id);
        return ATT_ERR_NOT_FOUND;
    }
    if (st != 200) {
        if (st > 0) {
            att_set_why(why, why_len, "engine answered inspect of %s with HTTP %ld", id, st);
        }
        return ATT_ERR_IO;
    }
    return att_engine_networks_decode((const char *)e->resp.data, e->resp.len, names, n, why,
                                      why_len);
}

att_rc engine_network_action(struct engine *e, const char *id, const char *net, bool connect,
                             char *why, size_t why_len)
{
    char path[512];
    char body[256];
    const char *verb = connect ? "connect" : "disconnect";
    long st;

    if (e == NULL) {
        att_set_why(why, why_len, "engine_network_action: NULL engine");
        return ATT_ERR_INVALID_ARG;
    }
    if (e->runc != NULL) {
        att_set_why(why, why_len, "bare runc has no engine networks to %s", verb);
        return ATT_ERR_INVALID_ARG;
    }
    /* Both go into the URL or the JSON body unescaped: only safe characters pass. */
    if (!id_safe(id) || !att_engine_network_name_ok(net)) {
        att_set_why(why, why_len, "invalid container id or network name");
        return ATT_ERR_INVALID_ARG;
    }
    (void)snprintf(path, sizeof(path), "/networks/%s/%s", net, verb);
    if (connect) {
        (void)snprintf(body, sizeof(body), "{\"Container\": \"%s\"}", id);
    } else {
        (void)snprintf(body, sizeof(body), "{\"Container\": \"%s\", \"Force\": true}", id);
    }
    st = post_json(e, path, body, why, why_len);
    if (st == 404) {
        att_set_why(why, why_len, "no container %s or network %s", id, net);
        return ATT_ERR_NOT_FOUND;
    }
    if (st < 200 || st >= 300) {
        if (st > 0) {
            att_set_why(why, why_len, "engine answered %s of %s from/to %s with HTTP %ld", verb, id,
                        net, st);
        }
        return ATT_ERR_IO;
    }
    return ATT_OK;
}
