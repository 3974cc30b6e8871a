/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP(S) client on libcurl (see attest/httpc.h and docs/internals/net.md).
 * att_httpc_setup() is the one place that decides how any curl handle of the
 * project talks: http/https only, no redirects, no signals, bounded connect
 * and total time, peer and host name verification on (RFC 6125 via curl and
 * OpenSSL), TLS 1.2 or later. att_httpc_request() does one request with a
 * response capped at resp->max. It does not retry, follow redirects or
 * decode bodies. Transport failures come back as text for the operator.
 */
#include "attest/httpc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "attest/buf.h"
#include "attest/log.h"
#include "attest/util.h"

#define HTTPC_CONNECT_TIMEOUT_S 5L
#define HTTPC_MAX_HEADER        4096

/*
 * One curl_easy_setopt() in a chain: runs only while every earlier one
 * succeeded, and leaves the first failure in @p cc.
 */
#define HTTPC_SETOPT(h, cc, opt, val)                                                              \
    do {                                                                                           \
        if ((cc) == CURLE_OK) {                                                                    \
            (cc) = curl_easy_setopt((h), (opt), (val));                                            \
        }                                                                                          \
    } while (0)

struct sink {
    struct att_buf *b;
    bool is_too_big;
    bool is_nomem;
};

/*
 * curl write callback: append to the caller's capped buffer. Returning less
 * than asked makes curl stop with CURLE_WRITE_ERROR. The flags tell why.
 */
static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb; /* curl documents size as always 1 */
    att_rc rc;

    rc = att_buf_append(s->b, ptr, n);
    if (rc == ATT_ERR_PARSE) {
        s->is_too_big = true;
        return 0;
    }
    if (rc != ATT_OK) {
        s->is_nomem = true;
        return 0;
    }
    return n;
}

/*
 * libcurl (OpenSSL backend) hands each new TLS context here. An idle kept-alive
 * connection then holds no read/write buffers (about 34 KiB each): a verifier
 * keeps one connection per host open between polls.
 */
static CURLcode on_ssl_ctx(CURL *h, void *ssl_ctx, void *user)
{
    (void)h;
    (void)user;
    (void)SSL_CTX_set_mode((SSL_CTX *)ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
    return CURLE_OK;
}

att_rc att_httpc_setup(void *curl_easy, const struct att_tls_client_config *tls, long timeout_s)
{
    CURL *h = curl_easy;
    CURLcode cc = CURLE_OK;

    if (h == NULL || timeout_s < 0) {
        return ATT_ERR_INVALID_ARG;
    }
    if (tls != NULL && tls->key_file != NULL && tls->cert_file == NULL) {
        LOG_ERR("a TLS client key without a certificate");
        return ATT_ERR_INVALID_ARG;
    }
    HTTPC_SETOPT(h, cc, CURLOPT_PROTOCOLS_STR, "http,https");
    HTTPC_SETOPT(h, cc, CURLOPT_FOLLOWLOCATION, 0L);
    HTTPC_SETOPT(h, cc, CURLOPT_NOSIGNAL, 1L);
    HTTPC_SETOPT(h, cc, CURLOPT_CONNECTTIMEOUT,
                 timeout_s > 0 && timeout_s < HTTPC_CONNECT_TIMEOUT_S ? timeout_s
                                                                      : HTTPC_CONNECT_TIMEOUT_S);
    HTTPC_SETOPT(h, cc, CURLOPT_TIMEOUT, timeout_s); /* 0: no limit on the whole transfer */
    HTTPC_SETOPT(h, cc, CURLOPT_SSL_VERIFYPEER, 1L);
    HTTPC_SETOPT(h, cc, CURLOPT_SSL_VERIFYHOST, 2L);
    HTTPC_SETOPT(h, cc, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    HTTPC_SETOPT(h, cc, CURLOPT_USERAGENT, "attest/" ATT_VERSION);
    if (cc == CURLE_OK && curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK) {
        /* not the OpenSSL backend: keep its default buffers */
        cc = CURLE_OK;
    }
    if (tls != NULL && tls->ca_file != NULL) {
        HTTPC_SETOPT(h, cc, CURLOPT_CAINFO, tls->ca_file);
        /* Only this CA: no OS-wide CA directory may widen the trust. */
        HTTPC_SETOPT(h, cc, CURLOPT_CAPATH, (const char *)NULL);
    }
    if (tls != NULL && tls->cert_file != NULL) {
        HTTPC_SETOPT(h, cc, CURLOPT_SSLCERT, tls->cert_file);
        HTTPC_SETOPT(h, cc, CURLOPT_SSLCERTTYPE, "PEM");
        if (tls->key_file != NULL) {
            HTTPC_SETOPT(h, cc, CURLOPT_SSLKEY, tls->key_file);
            HTTPC_SETOPT(h, cc, CURLOPT_SSLKEYTYPE, "PEM");
        }
    }
    if (cc != CURLE_OK) {
        LOG_ERR("curl_easy_setopt: %s", curl_easy_strerror(cc));
        return cc == CURLE_OUT_OF_MEMORY ? ATT_ERR_NOMEM : ATT_ERR_INTERNAL;
    }
    return ATT_OK;
}

/* A header value must not carry CR, LF or other controls (header injection). */
static bool is_header_safe(const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

/*
 * Append "Name: value" to @p list, or "Name:" for an empty value, which
 * tells curl to send no such header at all. The scratch line is wiped because the
 * Authorization value is a secret; curl keeps its own copy in the list.
 */
static att_rc add_header(struct curl_slist **list, const char *name, const char *prefix,
                         const char *value)
{
    char line[HTTPC_MAX_HEADER];
    struct curl_slist *n;
    int len;

    if (prefix[0] == '\0' && value[0] == '\0') {
        len = snprintf(line, sizeof(line), "%s:", name); /* "Name:" disables curl's own */
    } else {
        len = snprintf(line, sizeof(line), "%s: %s%s", name, prefix, value);
    }
    if (len < 0 || (size_t)len >= sizeof(line)) {
        att_cleanse(line, sizeof(line));
        return ATT_ERR_INVALID_ARG;
    }
    n = curl_slist_append(*list, line);
    att_cleanse(line, sizeof(line));
    if (n == NULL) {
        return ATT_ERR_NOMEM;
    }
    *list = n;
    return ATT_OK;
}

/* Wipe, then free, a header list that may hold a bearer token. */
static void free_headers(struct curl_slist *list)
{
    struct curl_slist *p;

    for (p = list; p != NULL; p = p->next) {
        att_cleanse(p->data, strlen(p->data));
    }
    curl_slist_free_all(list);
}

static void set_err(char *err, size_t err_len, const char *what, const char *detail)
{
    if (err == NULL || err_len == 0) {
        return;
    }
    if (detail != NULL && detail[0] != '\0') {
        (void)snprintf(err, err_len, "%s: %s", what, detail);
    } else {
        (void)snprintf(err, err_len, "%s", what);
    }
}

/* Method-specific options. A body is sent as-is with POST, PUT and DELETE. */
static CURLcode set_method(CURL *h, const char *method, const uint8_t *body, size_t body_len,
                           bool *is_ok)
{
    CURLcode cc = CURLE_OK;
    bool has_body = body != NULL || body_len > 0;

    *is_ok = true;
    if (strcmp(method, "GET") == 0) {
        if (has_body) {
            *is_ok = false;
            return CURLE_OK;
        }
        HTTPC_SETOPT(h, cc, CURLOPT_HTTPGET, 1L);
        return cc;
    }
    if (strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0) {
        HTTPC_SETOPT(h, cc, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "POST") != 0) {
        *is_ok = false;
        return CURLE_OK;
    }
    if (strcmp(method, "DELETE") == 0 && !has_body) {
        return cc;
    }
    /* POSTFIELDS makes curl send the body, CUSTOMREQUEST renames the method. */
    HTTPC_SETOPT(h, cc, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    HTTPC_SETOPT(h, cc, CURLOPT_POSTFIELDS, body != NULL ? (const char *)body : "");
    return cc;
}

att_rc att_httpc_request(const struct att_tls_client_config *tls, const char *method,
                         const char *url, const char *content_type, const char *auth_bearer,
                         const uint8_t *body, size_t body_len, long timeout_s, struct att_buf *resp,
                         long *status, char *err, size_t err_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    CURL *h = NULL;
    struct curl_slist *headers = NULL;
    struct sink sink;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode cc = CURLE_OK;
    bool is_method_ok = false;
    long code = 0;

    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (status != NULL) {
        *status = 0;
    }
    if (method == NULL || url == NULL || resp == NULL || status == NULL ||
        (body == NULL && body_len > 0) || (content_type != NULL && !is_header_safe(content_type)) ||
        (auth_bearer != NULL && !is_header_safe(auth_bearer))) {
        set_err(err, err_len, "invalid request arguments", NULL);
        return ATT_ERR_INVALID_ARG;
    }
    h = curl_easy_init();
    if (h == NULL) {
        set_err(err, err_len, "curl_easy_init failed", NULL);
        return ATT_ERR_NOMEM;
    }
    rc = att_httpc_setup(h, tls, timeout_s);
    if (rc != ATT_OK) {
        set_err(err, err_len, "cannot configure the HTTP client", att_rc_str(rc));
        goto out;
    }
    cc = set_method(h, method, body, body_len, &is_method_ok);
    if (!is_method_ok) {
        set_err(err, err_len, "unsupported method or a body on GET", method);
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    /* Without this, curl labels a POST body application/x-www-form-urlencoded. */
    rc = add_header(&headers, "Content-Type", "", content_type != NULL ? content_type : "");
    if (rc == ATT_OK && auth_bearer != NULL) {
        rc = add_header(&headers, "Authorization", "Bearer ", auth_bearer);
    }
    if (rc != ATT_OK) {
        set_err(err, err_len, "cannot build request headers", att_rc_str(rc));
        goto out;
    }
    sink.b = resp;
    sink.is_too_big = false;
    sink.is_nomem = false;
    errbuf[0] = '\0';
    HTTPC_SETOPT(h, cc, CURLOPT_URL, url);
    HTTPC_SETOPT(h, cc, CURLOPT_HTTPHEADER, headers);
    HTTPC_SETOPT(h, cc, CURLOPT_WRITEFUNCTION, on_write);
    HTTPC_SETOPT(h, cc, CURLOPT_WRITEDATA, &sink);
    HTTPC_SETOPT(h, cc, CURLOPT_ERRORBUFFER, errbuf);
    /* Refuse a declared Content-Length past the cap before reading the body. */
    HTTPC_SETOPT(h, cc, CURLOPT_MAXFILESIZE_LARGE,
                 (curl_off_t)(resp->len < resp->max ? resp->max - resp->len : 0));
    if (cc != CURLE_OK) {
        set_err(err, err_len, "cannot configure the request", curl_easy_strerror(cc));
        rc = cc == CURLE_OUT_OF_MEMORY ? ATT_ERR_NOMEM : ATT_ERR_INTERNAL;
        goto out;
    }
    cc = curl_easy_perform(h);
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK) {
        *status = code;
    }
    if (cc == CURLE_OK) {
        rc = ATT_OK;
        goto out;
    }
    if (sink.is_too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        char what[96];

        (void)snprintf(what, sizeof(what), "response larger than %zu bytes", resp->max);
        set_err(err, err_len, what, NULL);
        rc = ATT_ERR_PARSE;
    } else if (sink.is_nomem) {
        set_err(err, err_len, "out of memory reading the response", NULL);
        rc = ATT_ERR_NOMEM;
    } else {
        set_err(err, err_len, curl_easy_strerror(cc), errbuf);
        rc = cc == CURLE_OPERATION_TIMEDOUT ? ATT_ERR_TIMEOUT : ATT_ERR_IO;
    }
out:
    free_headers(headers);
    if (h != NULL) {
        curl_easy_cleanup(h);
    }
    return rc;
}
