/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent HTTP server (see agent_http.h). Per-connection state (struct req)
 * is allocated on the first callback and freed in the completion callback.
 */
#include "agent_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "attest/buf.h"
#include "attest/log.h"
#include "attest/proto.h"
#include "attest/util.h"

struct agent_http {
    struct MHD_Daemon *d;
    struct agent *a; /* borrowed */
    uint16_t port;
};

struct req {
    struct att_buf body;
    bool too_big;
};

static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const char *type,
                                  const uint8_t *data, size_t len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    struct att_buf b;
    enum MHD_Result ret;

    att_buf_init(&b, 4096);
    if (att_error_encode(msg, &b) != ATT_OK) {
        att_buf_cleanup(&b);
        return send_bytes(c, status, "text/plain", (const uint8_t *)msg, strlen(msg));
    }
    ret = send_bytes(c, status, "application/cbor", b.data, b.len);
    att_buf_cleanup(&b);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (r != NULL) {
        att_buf_cleanup(&r->body);
        free(r);
        *con_cls = NULL;
    }
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct agent_http *h = cls;
    struct req *r = *con_cls;
    struct att_buf out;
    enum MHD_Result ret;
    char why[512];
    unsigned status = 500;
    att_rc rc;

    (void)version;
    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL) {
            return MHD_NO;
        }
        att_buf_init(&r->body, AGENT_HTTP_MAX_BODY);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->too_big && att_buf_append(&r->body, upload, *upload_size) != ATT_OK) {
            r->too_big = true;
            att_buf_cleanup(&r->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big) {
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body exceeds the agent's limit of 4096 bytes");
    }
    att_buf_init(&out, ATT_PROTO_MAX_BODY);
    why[0] = '\0';
    if (strcmp(url, "/v1/health") == 0 && strcmp(method, "GET") == 0) {
        ret = send_bytes(c, 200, "text/plain", (const uint8_t *)"ok\n", 3);
    } else if (strcmp(url, "/v1/identity") == 0 && strcmp(method, "GET") == 0) {
        rc = agent_identity(h->a, &out);
        ret = rc == ATT_OK ? send_bytes(c, 200, "application/cbor", out.data, out.len)
                           : send_error(c, 503, "identity unavailable: TPM not reachable");
    } else if (strcmp(url, "/v1/evidence") == 0 && strcmp(method, "POST") == 0) {
        rc = agent_evidence(h->a, r->body.data != NULL ? r->body.data : (const uint8_t *)"",
                            r->body.len, &out, &status, why, sizeof(why));
        if (rc == ATT_OK && status == 200) {
            ret = send_bytes(c, 200, "application/cbor", out.data, out.len);
        } else {
            LOG_WARN("evidence request refused (%u): %s", status, why);
            ret = send_error(c, status, why[0] ? why : att_rc_str(rc));
        }
    } else if (strcmp(url, "/v1/activate") == 0 && strcmp(method, "POST") == 0) {
        rc = agent_activate(h->a, r->body.data != NULL ? r->body.data : (const uint8_t *)"",
                            r->body.len, &out, &status, why, sizeof(why));
        if (rc == ATT_OK && status == 200) {
            ret = send_bytes(c, 200, "application/cbor", out.data, out.len);
        } else {
            LOG_WARN("activation request refused (%u): %s", status, why);
            ret = send_error(c, status, why[0] ? why : att_rc_str(rc));
        }
    } else if (strcmp(url, "/v1/identity") == 0 || strcmp(url, "/v1/evidence") == 0 ||
               strcmp(url, "/v1/activate") == 0 || strcmp(url, "/v1/health") == 0) {
        (void)snprintf(why, sizeof(why), "method %s not allowed on %s", method, url);
        ret = send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, why);
    } else {
        (void)snprintf(why, sizeof(why), "no such resource: %.200s", url);
        ret = send_error(c, MHD_HTTP_NOT_FOUND, why);
    }
    att_buf_cleanup(&out);
    return ret;
}

att_rc agent_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *ss_len)
{
    char host[128];
    const char *colon;
    const char *port_s;
    uint32_t port = 0;
    size_t hl;

    if (s == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');

        if (end == NULL || end[1] != ':') {
            return ATT_ERR_PARSE;
        }
        hl = (size_t)(end - s - 1);
        port_s = end + 2;
        if (hl >= sizeof(host)) {
            return ATT_ERR_PARSE;
        }
        memcpy(host, s + 1, hl);
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return ATT_ERR_PARSE;
        }
        hl = (size_t)(colon - s);
        port_s = colon + 1;
        if (hl >= sizeof(host)) {
            return ATT_ERR_PARSE;
        }
        memcpy(host, s, hl);
    }
    host[hl] = '\0';
    if (att_parse_u32(port_s, 65535, &port) != ATT_OK) {
        return ATT_ERR_PARSE;
    }
    if (s[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
            return ATT_ERR_PARSE;
        }
        *ss_len = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
            return ATT_ERR_PARSE;
        }
        *ss_len = sizeof(*a4);
    }
    return ATT_OK;
}

att_rc agent_http_start(struct agent *a, const char *listen, struct agent_http **out)
{
    att_rc rc = ATT_ERR_IO;
    struct agent_http *h = NULL;
    struct sockaddr_storage ss;
    unsigned ss_len = 0;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    rc = agent_parse_listen(listen, &ss, &ss_len);
    if (rc != ATT_OK) {
        LOG_ERR("--listen \"%s\" is not ADDR:PORT or [ADDR]:PORT with a numeric address", listen);
        return ATT_ERR_INVALID_ARG;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return ATT_ERR_NOMEM;
    }
    h->a = a;
    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_END);
    if (h->d == NULL) {
        LOG_ERR("cannot listen on %s (address in use or not local?)", listen);
        rc = ATT_ERR_IO;
        goto out;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info != NULL ? info->port : 0;
    *out = h;
    h = NULL;
    rc = ATT_OK;
out:
    agent_http_stop(h);
    return rc;
}

uint16_t agent_http_port(const struct agent_http *h)
{
    return h->port;
}

void agent_http_stop(struct agent_http *h)
{
    if (h == NULL) {
        return;
    }
    if (h->d != NULL) {
        MHD_stop_daemon(h->d);
    }
    free(h);
}
