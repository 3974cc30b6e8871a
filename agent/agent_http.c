/* SPDX-License-Identifier: Apache-2.0 */
/* Agent HTTP API routes (see agent_http.h); transport and mTLS are att_httpd's. */
#include "agent_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_net.h"
#include "attest/buf.h"
#include "attest/log.h"
#include "attest/proto.h"

struct agent_http {
    struct att_httpd *d;
    struct agent *a; /* borrowed */
};

static void cbor_error(void *ctx, unsigned status, const char *message,
                       struct att_http_response *resp)
{
    (void)ctx;
    att_buf_reset(&resp->body);
    resp->status = status;
    if (att_error_encode(message, &resp->body) == ATT_OK) {
        resp->content_type = "application/cbor";
    } else {
        att_buf_reset(&resp->body);
        (void)att_buf_append_str(&resp->body, message);
        resp->content_type = "text/plain";
    }
}

typedef att_rc (*cbor_op)(struct agent *a, const uint8_t *req, size_t req_len,
                          struct att_buf *out, unsigned *status, char *why, size_t why_len);

static void run_op(struct agent *a, cbor_op op, const char *what,
                   const struct att_http_request *req, struct att_http_response *resp)
{
    char why[512] = "";
    unsigned status = 500;
    att_rc rc = op(a, req->body, req->body_len, &resp->body, &status, why, sizeof(why));

    if (rc == ATT_OK && status == 200) {
        resp->status = 200;
        resp->content_type = "application/cbor";
        return;
    }
    LOG_WARN("%s request refused (%u): %s", what, status, why);
    cbor_error(NULL, status, why[0] ? why : att_rc_str(rc), resp);
}

static void handle(void *ctx, const struct att_http_request *req, struct att_http_response *resp)
{
    struct agent_http *h = ctx;
    const char *u = req->url;
    const char *m = req->method;
    char why[300];

    if (strcmp(u, "/v1/health") == 0 && strcmp(m, "GET") == 0) {
        resp->status = 200;
        resp->content_type = "text/plain";
        (void)att_buf_append_str(&resp->body, "ok\n");
    } else if (strcmp(u, "/metrics") == 0 && strcmp(m, "GET") == 0) {
        /* Prometheus text: the containers' refused-traffic counters (agent_net.h) */
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4";
        agent_net_metrics(agent_net_of(h->a), &resp->body);
    } else if (strcmp(u, "/v1/identity") == 0 && strcmp(m, "GET") == 0) {
        if (agent_identity(h->a, &resp->body) == ATT_OK) {
            resp->status = 200;
            resp->content_type = "application/cbor";
        } else {
            cbor_error(NULL, 503, "identity unavailable: TPM not reachable", resp);
        }
    } else if (strcmp(u, "/v1/evidence") == 0 && strcmp(m, "POST") == 0) {
        run_op(h->a, agent_evidence, "evidence", req, resp);
    } else if (strcmp(u, "/v1/activate") == 0 && strcmp(m, "POST") == 0) {
        run_op(h->a, agent_activate, "activation", req, resp);
    } else if (strcmp(u, "/v1/identity") == 0 || strcmp(u, "/v1/evidence") == 0 ||
               strcmp(u, "/v1/activate") == 0 || strcmp(u, "/v1/health") == 0 ||
               strcmp(u, "/metrics") == 0) {
        (void)snprintf(why, sizeof(why), "method %s not allowed on %s", m, u);
        cbor_error(NULL, 405, why, resp);
    } else {
        (void)snprintf(why, sizeof(why), "no such resource: %.200s", u);
        cbor_error(NULL, 404, why, resp);
    }
}

/* Evidence requests may carry the vulnerability feed (once per feed): a larger cap. */
static size_t evidence_limit(void *ctx, const char *method, const char *url,
                             const char *authorization)
{
    (void)ctx;
    (void)authorization;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/v1/evidence") == 0) {
        return ATT_PROTO_MAX_ADMISSION + ATT_PROTO_MAX_VULNFEED + 65536;
    }
    return 0;
}

att_rc agent_http_start(struct agent *a, const char *listen,
                        const struct att_tls_server_config *tls, struct agent_http **out)
{
    att_rc rc;
    struct agent_http *h = calloc(1, sizeof(*h));
    struct att_httpd_config c;

    if (h == NULL) {
        return ATT_ERR_NOMEM;
    }
    h->a = a;
    memset(&c, 0, sizeof(c));
    c.listen = listen;
    c.tls = tls;
    c.max_body = AGENT_HTTP_MAX_BODY;
    c.body_limit = evidence_limit;
    c.threads = 2;
    c.handler = handle;
    c.error = cbor_error;
    c.ctx = h;
    rc = att_httpd_start(&c, &h->d);
    if (rc != ATT_OK) {
        LOG_ERR("cannot serve HTTP on %s: %s", listen, att_rc_str(rc));
        free(h);
        return rc;
    }
    *out = h;
    return ATT_OK;
}

uint16_t agent_http_port(const struct agent_http *h)
{
    return att_httpd_port(h->d);
}

void agent_http_stop(struct agent_http *h)
{
    if (h == NULL) {
        return;
    }
    att_httpd_stop(h->d);
    free(h);
}
