/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the dashboard API's request bodies
 * (verifier/verifier_api.c, verifier_vuln.c): a real verifier on a real
 * SQLite store in a temporary directory, an admin token, and the fuzzed
 * bytes as the body of one of the requests that take one (policy create and
 * replace, host policy assignment, quarantine lift, vulnerability feed
 * import, inventory scan), chosen by the first byte. Enrolment is left out:
 * its body names an agent URL the verifier would call. Every answer must be
 * a JSON document with a status below 600, 5xx only for a failing store.
 * Seeds: tests/fuzz/corpus/api/.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "attest/digest.h"
#include "attest/httpd.h"
#include "store.h"
#include "verifier.h"
#include "verifier_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "att_fuzz_admin_token_0123456789abcdef"

static const struct {
    const char *method;
    const char *url;
} targets[] = {
    {"POST", "/api/v1/policies"},
    {"PUT", "/api/v1/policies/fuzz"},
    {"PUT", "/api/v1/hosts/h1/policy"},
    {"POST", "/api/v1/quarantine/0123456789abcdef0123456789abcdef/lift"},
    {"POST", "/api/v1/vulndb"},
    {"POST", "/api/v1/vulndb/scan"},
};

static struct verifier *v;
static char dir[] = "/tmp/att-fuzz-api-XXXXXX";

/* At exit: stop the verifier and remove its store directory. */
static void stop(void)
{
    char path[sizeof(dir) + 1 + 256];
    struct dirent *d;
    DIR *dd;

    verifier_stop(v);
    v = NULL;
    dd = opendir(dir);
    while (dd != NULL && (d = readdir(dd)) != NULL) {
        if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
            (void)snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
            (void)unlink(path);
        }
    }
    if (dd != NULL) {
        (void)closedir(dd);
    }
    (void)rmdir(dir);
}

static void start(void)
{
    static char db[64];
    struct verifier_config cfg;
    uint8_t hash[ATT_SHA256_LEN];

    if (mkdtemp(dir) == NULL) {
        abort();
    }
    (void)snprintf(db, sizeof(db), "%s/v.db", dir);
    verifier_config_init(&cfg);
    free(cfg.db);
    free(cfg.listen);
    cfg.db = strdup(db);
    cfg.listen = strdup("127.0.0.1:0");
    cfg.insecure_dev = true;
    cfg.interval_ms = 3600u * 1000u; /* no polling round during a run */
    if (cfg.db == NULL || cfg.listen == NULL || verifier_start(&cfg, &v) != ATT_OK ||
        att_sha256(TOKEN, strlen(TOKEN), hash) != ATT_OK ||
        store_token_add(verifier_store(v), "fuzz", "admin", hash) != ATT_OK) {
        abort();
    }
    verifier_config_cleanup(&cfg);
    (void)atexit(stop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct att_http_request req;
    struct att_http_response resp;
    json_t *j;

    if (size == 0) {
        return 0;
    }
    if (v == NULL) {
        start();
    }
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = targets[data[0] % (sizeof(targets) / sizeof(targets[0]))].method;
    req.url = targets[data[0] % (sizeof(targets) / sizeof(targets[0]))].url;
    req.body = data + 1;
    req.body_len = size - 1;
    req.content_type = "application/json";
    req.authorization = "Bearer " TOKEN;
    resp.status = 500;
    att_buf_init(&resp.body, 4u << 20);
    verifier_api_handle(v, &req, &resp);
    j = resp.body.data != NULL ? json_loadb((const char *)resp.body.data, resp.body.len, 0, NULL)
                               : NULL;
    if (j == NULL || resp.status < 200 || resp.status >= 600 ||
        (resp.status >= 500 && !store_fault(verifier_store(v), NULL, 0, NULL))) {
        fprintf(stderr, "fuzz_api: %s %s -> %u %.*s\n", req.method, req.url, resp.status,
                (int)resp.body.len, resp.body.data != NULL ? (const char *)resp.body.data : "");
        abort();
    }
    json_decref(j);
    att_buf_cleanup(&resp.body);
    return 0;
}
