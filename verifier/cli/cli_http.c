/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl easy-interface client for attest-verify (see cli.h). */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "attest/proto.h"
#include "cli.h"

struct sink {
    struct att_buf *b;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct sink *s = user;

    if (att_buf_append(s->b, p, size * n) != ATT_OK) {
        s->too_big = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    return size * n;
}

att_rc cli_http(const char *url, const char *content_type, const uint8_t *body, size_t body_len,
                long timeout_s, struct att_buf *resp, long *status, char *err, size_t err_len)
{
    att_rc rc = ATT_ERR_IO;
    CURL *c = NULL;
    struct curl_slist *hdrs = NULL;
    struct sink s = {.b = resp, .too_big = false};
    char hdr[128];
    CURLcode cc;

    *status = 0;
    c = curl_easy_init();
    if (c == NULL) {
        (void)snprintf(err, err_len, "cannot initialise libcurl");
        return ATT_ERR_NOMEM;
    }
    (void)curl_easy_setopt(c, CURLOPT_URL, url);
    (void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    (void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ATT_PROTO_MAX_BODY);
    if (body != NULL) {
        (void)snprintf(hdr, sizeof(hdr), "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, hdr);
        (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        (void)curl_easy_setopt(c, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (s.too_big) {
            (void)snprintf(err, err_len, "%s: response larger than %u bytes", url,
                           ATT_PROTO_MAX_BODY);
            rc = ATT_ERR_PARSE;
        } else {
            (void)snprintf(err, err_len, "%s: %s", url, curl_easy_strerror(cc));
            rc = cc == CURLE_OPERATION_TIMEDOUT ? ATT_ERR_TIMEOUT : ATT_ERR_IO;
        }
        goto out;
    }
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    rc = ATT_OK;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}
