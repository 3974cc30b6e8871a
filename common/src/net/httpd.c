/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP(S) server on libmicrohttpd 0.9.75 (see attest/httpd.h and
 * docs/internals/net.md). It turns MHD's incremental callbacks into one
 * complete request per handler call: the body is buffered up to max_body,
 * and a request that declares or sends more is answered 413 without its excess
 * ever being stored. With a client CA it enforces mTLS itself, because MHD
 * only *requests* a client certificate (GNUTLS_CERT_REQUEST) and never
 * verifies one. Each request's peer chain is checked with GnuTLS (RFC 5280
 * path validation against the client CA, EKU id-kp-clientAuth) before any
 * handler runs. TLS 1.2 and 1.3 only (RFC 8446, RFC 5246). It does not route,
 * authorise or parse bodies: that is the handler's job.
 */
#include "attest/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "attest/buf.h"
#include "attest/log.h"
#include "attest/util.h"

/* Listener limits; the daemons have no knob for them yet (net.md). */
#define HTTPD_CONN_TIMEOUT_S 30u
#define HTTPD_CONN_LIMIT     256u
#define HTTPD_CONN_MEMORY    ((size_t)64 * 1024) /* MHD per-connection pool: headers + I/O */
#define HTTPD_MAX_RESPONSE   ((size_t)64 * 1024 * 1024)
#define HTTPD_MAX_ERROR_BODY ((size_t)64 * 1024)
#define HTTPD_MAX_PEM        ((size_t)1024 * 1024)
#define HTTPD_CN_MAX         256 /* RFC 5280 ub-common-name is 64 characters; UTF-8 room */
#define HTTPD_WHY_MAX        256

struct att_httpd {
    struct MHD_Daemon *d;
    att_httpd_handler handler;
    att_httpd_error_fn error;
    void *ctx; /* borrowed from the config */
    size_t max_body;
    size_t (*body_limit)(void *ctx, const char *method, const char *url, const char *authorization);
    bool require_client_cert;
    uint16_t port;
    /*
     * PEM held for the daemon's whole life: MHD keeps the pointers it was
     * given (it tests https_mem_trust on every new connection), so they must
     * not dangle. The key is wiped in att_httpd_stop().
     */
    struct att_buf cert_pem;
    struct att_buf key_pem;
    struct att_buf ca_pem;
};

/* Per-request state, from MHD's first callback to its completion callback. */
struct request {
    struct att_buf body;
    size_t limit;      /* this request's body cap: max_body or body_limit()'s answer */
    bool is_too_big;   /* the body passed limit: the rest is dropped unread */
    bool has_answered; /* a response was queued early (403/413) */
    bool has_peer;
    char peer_cn[HTTPD_CN_MAX];
};

/*
 * The GnuTLS priority string: GnuTLS's default suite selection, with every
 * protocol version removed except TLS 1.3 and 1.2. Not const because
 * struct MHD_OptionItem carries it as void *; MHD only reads it.
 */
static char tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

/* id-kp-clientAuth (RFC 5280 §4.2.1.12) for gnutls_certificate_verify_peers(). */
static unsigned char kp_client_auth[] = GNUTLS_KP_TLS_WWW_CLIENT;

static const uint8_t empty_body[1] = {0};

/*
 * MHD's error log, routed to ours. MHD's own messages end with a newline,
 * which is cut so our log line stays one line.
 */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0) {
        return;
    }
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    LOG_WARN("libmicrohttpd: %s", msg);
}

/*
 * Parse "A.B.C.D:PORT" or "[v6]:PORT" with a numeric address (no name
 * lookup: a daemon must not block on DNS at start, and "localhost" may
 * resolve to either family).
 */
static att_rc parse_listen(const char *s, struct sockaddr_storage *ss);

att_rc att_httpd_check_listen(const char *listen)
{
    struct sockaddr_storage ss;

    return parse_listen(listen, &ss) == ATT_OK ? ATT_OK : ATT_ERR_INVALID_ARG;
}

static att_rc parse_listen(const char *s, struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN];
    const char *port_s;
    size_t hl;
    uint32_t port = 0;
    bool is_v6 = false;

    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');

        if (end == NULL || end[1] != ':') {
            return ATT_ERR_INVALID_ARG;
        }
        hl = (size_t)(end - (s + 1));
        if (hl == 0 || hl >= sizeof(host)) {
            return ATT_ERR_INVALID_ARG;
        }
        memcpy(host, s + 1, hl);
        port_s = end + 2;
        is_v6 = true;
    } else {
        const char *colon = strchr(s, ':');

        if (colon == NULL || strchr(colon + 1, ':') != NULL) {
            return ATT_ERR_INVALID_ARG; /* none, or a bare IPv6 address */
        }
        hl = (size_t)(colon - s);
        if (hl == 0 || hl >= sizeof(host)) {
            return ATT_ERR_INVALID_ARG;
        }
        memcpy(host, s, hl);
        port_s = colon + 1;
    }
    host[hl] = '\0';
    if (att_parse_u32(port_s, 65535, &port) != ATT_OK) {
        return ATT_ERR_INVALID_ARG;
    }
    if (is_v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
            return ATT_ERR_INVALID_ARG;
        }
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
            return ATT_ERR_INVALID_ARG;
        }
    }
    return ATT_OK;
}

/* Read one PEM file for TLS; logs which one failed. */
static att_rc read_pem(const char *what, const char *path, struct att_buf *out)
{
    att_rc rc;

    if (path == NULL) {
        LOG_ERR("TLS %s file not configured", what);
        return ATT_ERR_INVALID_ARG;
    }
    rc = att_file_read(path, out);
    if (rc != ATT_OK) {
        LOG_ERR("cannot read TLS %s %s: %s", what, path, att_rc_str(rc));
        return rc;
    }
    if (out->len == 0) {
        LOG_ERR("TLS %s %s is empty", what, path);
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

/*
 * Load the PEM into a throw-away GnuTLS credential before MHD sees it, so
 * that a malformed file, a key that does not match its certificate, or a CA
 * file without a certificate is reported as such. MHD would only fail to
 * start, which we could not tell from a busy port.
 * The certificate list is parsed on its own first: on a malformed PEM
 * certificate, gnutls_certificate_set_x509_key_mem() in GnuTLS 3.7.9 leaks
 * the gnutls_x509_crt it was importing into (parse_pem_cert_mem() frees only
 * the certificates it completed), and gnutls_x509_crt_list_import2() does not.
 */
static att_rc check_tls_material(const struct att_httpd *h, const struct att_tls_server_config *tls)
{
    att_rc rc = ATT_ERR_PARSE;
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_x509_crt_t *chain = NULL;
    unsigned int n_chain = 0;
    unsigned int i;
    gnutls_datum_t cert = {h->cert_pem.data, (unsigned)h->cert_pem.len};
    gnutls_datum_t key = {h->key_pem.data, (unsigned)h->key_pem.len};
    gnutls_datum_t ca = {h->ca_pem.data, (unsigned)h->ca_pem.len};
    int grc;

    grc = gnutls_x509_crt_list_import2(&chain, &n_chain, &cert, GNUTLS_X509_FMT_PEM, 0);
    if (grc < 0 || n_chain == 0) {
        LOG_ERR("TLS certificate %s holds no usable certificate: %s", tls->cert_file,
                grc < 0 ? gnutls_strerror(grc) : "none found");
        goto out;
    }
    grc = gnutls_certificate_allocate_credentials(&cred);
    if (grc != GNUTLS_E_SUCCESS) {
        LOG_ERR("gnutls_certificate_allocate_credentials: %s", gnutls_strerror(grc));
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    grc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
    if (grc < 0) {
        LOG_ERR("TLS certificate %s / key %s unusable: %s", tls->cert_file, tls->key_file,
                gnutls_strerror(grc));
        goto out;
    }
    if (tls->client_ca_file != NULL) {
        grc = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
        if (grc <= 0) {
            LOG_ERR("client CA file %s holds no usable certificate: %s", tls->client_ca_file,
                    grc < 0 ? gnutls_strerror(grc) : "none found");
            goto out;
        }
    }
    rc = ATT_OK;
out:
    if (cred != NULL) {
        gnutls_certificate_free_credentials(cred);
    }
    for (i = 0; i < n_chain; i++) {
        gnutls_x509_crt_deinit(chain[i]);
    }
    gnutls_free(chain);
    return rc;
}

/* The client's numeric address for log lines; "?" when MHD has none. */
static void peer_addr(struct MHD_Connection *c, char *out, size_t out_len)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;
    socklen_t sl;

    (void)snprintf(out, out_len, "?");
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    sa = ci->client_addr;
    sl = sa->sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
                                   : (socklen_t)sizeof(struct sockaddr_in);
    if (getnameinfo(sa, sl, out, (socklen_t)out_len, NULL, 0, NI_NUMERICHOST) != 0) {
        (void)snprintf(out, out_len, "?");
    }
}

/*
 * Our own words for a failed verification (the GnuTLS text is logged, not
 * sent: STYLE §5). Most specific first; several bits may be set.
 */
static const char *status_reason(unsigned status)
{
    if ((status & GNUTLS_CERT_REVOKED) != 0) {
        return "revoked";
    }
    if ((status & GNUTLS_CERT_SIGNER_NOT_FOUND) != 0) {
        return "issuer unknown";
    }
    if ((status & GNUTLS_CERT_SIGNER_NOT_CA) != 0) {
        return "issuer is not a CA";
    }
    if ((status & GNUTLS_CERT_EXPIRED) != 0) {
        return "expired";
    }
    if ((status & GNUTLS_CERT_NOT_ACTIVATED) != 0) {
        return "not yet valid";
    }
    if ((status & GNUTLS_CERT_PURPOSE_MISMATCH) != 0) {
        return "not issued for client authentication";
    }
    if ((status & GNUTLS_CERT_INSECURE_ALGORITHM) != 0) {
        return "insecure algorithm";
    }
    if ((status & GNUTLS_CERT_SIGNATURE_FAILURE) != 0) {
        return "bad signature";
    }
    return "invalid";
}

/*
 * The CN of the leaf certificate (DER). Exactly one CN, no embedded NUL, no
 * control characters: handlers may authorise on it, so anything ambiguous
 * is refused rather than guessed at.
 */
static att_rc leaf_cn(const gnutls_datum_t *der, char *cn, size_t cn_len)
{
    att_rc rc = ATT_ERR_VERIFY;
    gnutls_x509_crt_t crt = NULL;
    char second[8];
    size_t size = cn_len;
    size_t size2 = sizeof(second);
    size_t i;
    int grc;

    if (gnutls_x509_crt_init(&crt) != GNUTLS_E_SUCCESS) {
        crt = NULL;
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS) {
        goto out;
    }
    grc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size);
    if (grc != GNUTLS_E_SUCCESS || size == 0 || size >= cn_len) {
        goto out;
    }
    grc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1, 0, second, &size2);
    if (grc != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        goto out; /* a second CN */
    }
    if (strlen(cn) != size) {
        goto out;
    }
    for (i = 0; i < size; i++) {
        unsigned char ch = (unsigned char)cn[i];

        if (ch < 0x20 || ch == 0x7f) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    if (rc != ATT_OK && cn_len > 0) {
        cn[0] = '\0';
    }
    return rc;
}

/*
 * mTLS gate, run once per request before the handler. MHD set
 * GNUTLS_CERT_REQUEST on the session (not REQUIRE), so the handshake
 * succeeds without a client certificate, or with an untrusted one. Here:
 * a peer certificate must be present, and the chain must verify against
 * the client CA loaded into the session's credentials with status 0,
 * including the id-kp-clientAuth purpose. On refusal, @p why holds the
 * message for the 403.
 */
static att_rc check_client_cert(struct MHD_Connection *c, struct request *r, char *why,
                                size_t why_len)
{
    att_rc rc = ATT_ERR_AUTH;
    const union MHD_ConnectionInfo *ci;
    gnutls_session_t session;
    const gnutls_datum_t *peers;
    unsigned int n_peers = 0;
    unsigned int status = UINT_MAX;
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID, kp_client_auth, 0};
    gnutls_datum_t text = {NULL, 0};
    char addr[INET6_ADDRSTRLEN + 8];
    int grc;

    peer_addr(c, addr, sizeof(addr));
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci == NULL || ci->tls_session == NULL) {
        LOG_ERR("no TLS session on a TLS daemon's connection from %s", addr);
        (void)snprintf(why, why_len, "client certificate required");
        goto out;
    }
    session = (gnutls_session_t)ci->tls_session;
    peers = gnutls_certificate_get_peers(session, &n_peers);
    if (peers == NULL || n_peers == 0 || gnutls_certificate_type_get(session) != GNUTLS_CRT_X509) {
        LOG_WARN("client %s sent no certificate; refused", addr);
        (void)snprintf(why, why_len, "client certificate required");
        goto out;
    }
    grc = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
    if (grc != GNUTLS_E_SUCCESS) {
        LOG_WARN("client %s: certificate verification could not run: %s", addr,
                 gnutls_strerror(grc));
        (void)snprintf(why, why_len, "client certificate not trusted: %s",
                       grc == GNUTLS_E_NO_CERTIFICATE_FOUND ? "none found" : "unverifiable");
        goto out;
    }
    if (status != 0) {
        if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) ==
            GNUTLS_E_SUCCESS) {
            LOG_WARN("client %s: certificate not trusted: %s", addr, (const char *)text.data);
        } else {
            LOG_WARN("client %s: certificate not trusted (status 0x%x)", addr, status);
        }
        (void)snprintf(why, why_len, "client certificate not trusted: %s", status_reason(status));
        goto out;
    }
    if (leaf_cn(&peers[0], r->peer_cn, sizeof(r->peer_cn)) != ATT_OK) {
        LOG_WARN("client %s: verified certificate has no single printable CN; refused", addr);
        (void)snprintf(why, why_len, "client certificate not trusted: no usable common name");
        goto out;
    }
    r->has_peer = true;
    rc = ATT_OK;
out:
    gnutls_free(text.data);
    return rc;
}

/*
 * Queue @p resp (status, content_type, body) on @p c. The body's memory
 * moves to MHD (MHD_RESPMEM_MUST_FREE: att_buf allocates with realloc, MHD
 * frees with free), so resp->body is left empty either way.
 */
static enum MHD_Result queue(struct MHD_Connection *c, struct att_http_response *resp)
{
    struct MHD_Response *mr;
    enum MHD_Result ret;
    uint8_t *data;
    size_t len = 0;
    const char *type = resp->content_type != NULL ? resp->content_type : "application/octet-stream";

    data = att_buf_steal(&resp->body, &len);
    mr = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (mr == NULL) {
        free(data);
        return MHD_NO;
    }
    if (MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
        MHD_destroy_response(mr);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, resp->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static bool is_valid_status(unsigned status)
{
    return status >= 100 && status <= 599;
}

/*
 * Answer @p status through cfg->error (the API's error format), or in plain
 * text without one, or when it produced nothing sensible.
 */
static enum MHD_Result send_error(const struct att_httpd *h, struct MHD_Connection *c,
                                  unsigned status, const char *message)
{
    struct att_http_response resp;
    enum MHD_Result ret;

    resp.status = status;
    resp.content_type = NULL;
    att_buf_init(&resp.body, HTTPD_MAX_ERROR_BODY);
    if (h->error != NULL) {
        h->error(h->ctx, status, message, &resp);
    }
    if (h->error == NULL || !is_valid_status(resp.status) || resp.body.len == 0) {
        resp.status = status;
        resp.content_type = "text/plain; charset=utf-8";
        att_buf_reset(&resp.body);
        if (att_buf_printf(&resp.body, "%s\n", message) != ATT_OK) {
            att_buf_reset(&resp.body);
        }
    }
    ret = queue(c, &resp);
    att_buf_cleanup(&resp.body);
    return ret;
}

/*
 * A declared Content-Length above max_body, read before any of the body
 * arrives so the 413 goes out at once and the body is never read. A missing
 * length (chunked upload) is caught while streaming instead.
 */
static bool declares_too_big(struct MHD_Connection *c, size_t max_body)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long v;
    char *end = NULL;

    if (cl == NULL) {
        return false;
    }
    errno = 0;
    v = strtoull(cl, &end, 10);
    if (errno == ERANGE) {
        return true;
    }
    if (end == cl || *end != '\0') {
        return false; /* MHD itself rejects a malformed length */
    }
    return v > max_body;
}

static enum MHD_Result call_handler(struct att_httpd *h, struct MHD_Connection *c,
                                    struct request *r, const char *url, const char *method)
{
    struct att_http_request req;
    struct att_http_response resp;
    enum MHD_Result ret;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.body = r->body.data != NULL ? r->body.data : empty_body;
    req.body_len = r->body.len;
    req.content_type =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req.authorization =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    req.peer_cn = r->has_peer ? r->peer_cn : NULL;
    req.conn = c;

    resp.status = 500;
    resp.content_type = NULL;
    att_buf_init(&resp.body, HTTPD_MAX_RESPONSE);
    h->handler(h->ctx, &req, &resp);
    if (!is_valid_status(resp.status)) {
        LOG_ERR("handler for %s %s set invalid HTTP status %u", method, url, resp.status);
        att_buf_cleanup(&resp.body);
        return send_error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    ret = queue(c, &resp);
    att_buf_cleanup(&resp.body);
    return ret;
}

/*
 * MHD's access handler, called (1) once with the headers, (2) once per
 * body chunk with *upload_size > 0, (3) once more with *upload_size == 0.
 * The mTLS gate and the declared-length check run at (1), so a refused
 * request is answered before its body is read.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct att_httpd *h = cls;
    struct request *r = *con_cls;
    char why[HTTPD_WHY_MAX];

    (void)version;
    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL) {
            return MHD_NO; /* MHD closes the connection */
        }
        size_t limit = h->max_body;

        *con_cls = r; /* freed by on_completed() from here on */
        if (h->require_client_cert && check_client_cert(c, r, why, sizeof(why)) != ATT_OK) {
            att_buf_init(&r->body, h->max_body);
            r->has_answered = true;
            return send_error(h, c, MHD_HTTP_FORBIDDEN, why);
        }
        if (h->body_limit != NULL) {
            size_t l = h->body_limit(
                h->ctx, method, url,
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));

            limit = l > 0 ? l : h->max_body;
        }
        r->limit = limit;
        att_buf_init(&r->body, limit);
        if (declares_too_big(c, limit)) {
            r->has_answered = true;
            (void)snprintf(why, sizeof(why), "request body exceeds the limit of %zu bytes", limit);
            return send_error(h, c, MHD_HTTP_CONTENT_TOO_LARGE, why);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        att_rc rc = ATT_OK;

        if (!r->is_too_big && !r->has_answered) {
            rc = att_buf_append(&r->body, upload, *upload_size);
        }
        if (rc == ATT_ERR_PARSE) {
            r->is_too_big = true; /* the rest is consumed and dropped */
            att_buf_cleanup(&r->body);
        } else if (rc != ATT_OK) {
            return MHD_NO; /* out of memory: MHD closes the connection */
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->has_answered) {
        return MHD_YES;
    }
    r->has_answered = true;
    if (r->is_too_big) {
        (void)snprintf(why, sizeof(why), "request body exceeds the limit of %zu bytes", r->limit);
        return send_error(h, c, MHD_HTTP_CONTENT_TOO_LARGE, why);
    }
    return call_handler(h, c, r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *r = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (r != NULL) {
        att_buf_cleanup(&r->body);
        free(r);
        *con_cls = NULL;
    }
}

att_rc att_httpd_start(const struct att_httpd_config *cfg, struct att_httpd **out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_httpd *h = NULL;
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    struct MHD_OptionItem opts[8];
    size_t n_opts = 0;
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    const struct att_tls_server_config *tls;

    if (cfg == NULL || out == NULL || cfg->listen == NULL || cfg->handler == NULL ||
        cfg->max_body == 0) {
        return ATT_ERR_INVALID_ARG;
    }
    if (parse_listen(cfg->listen, &ss) != ATT_OK) {
        LOG_ERR("listen address \"%s\" is not ADDR:PORT or [ADDR]:PORT with a numeric address",
                cfg->listen);
        return ATT_ERR_INVALID_ARG;
    }
    tls = cfg->tls;
    if (tls != NULL && (tls->cert_file == NULL || tls->key_file == NULL)) {
        LOG_ERR("TLS needs both a certificate and a key file");
        return ATT_ERR_INVALID_ARG;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return ATT_ERR_NOMEM;
    }
    h->handler = cfg->handler;
    h->error = cfg->error;
    h->ctx = cfg->ctx;
    h->max_body = cfg->max_body;
    h->body_limit = cfg->body_limit;
    att_buf_init(&h->cert_pem, HTTPD_MAX_PEM);
    att_buf_init(&h->key_pem, HTTPD_MAX_PEM);
    att_buf_init(&h->ca_pem, HTTPD_MAX_PEM);

    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (cfg->threads > 1) {
        opts[n_opts++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL};
    }
    if (tls != NULL) {
        rc = read_pem("certificate", tls->cert_file, &h->cert_pem);
        if (rc == ATT_OK) {
            rc = read_pem("key", tls->key_file, &h->key_pem);
        }
        if (rc == ATT_OK && tls->client_ca_file != NULL) {
            rc = read_pem("client CA", tls->client_ca_file, &h->ca_pem);
        }
        if (rc == ATT_OK) {
            rc = check_tls_material(h, tls);
        }
        if (rc != ATT_OK) {
            goto out;
        }
        flags |= MHD_USE_TLS;
        opts[n_opts++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem.data};
        opts[n_opts++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem.data};
        opts[n_opts++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, tls_priorities};
        if (tls->client_ca_file != NULL) {
            /* MHD then sets GNUTLS_CERT_REQUEST on each session; we verify. */
            opts[n_opts++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, h->ca_pem.data};
            h->require_client_cert = true;
        }
    }
    opts[n_opts] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, HTTPD_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
        HTTPD_CONN_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTPD_CONN_MEMORY, MHD_OPTION_ARRAY,
        opts, MHD_OPTION_END);
    if (h->d == NULL) {
        LOG_ERR("cannot listen on %s (address in use or not local?)", cfg->listen);
        rc = ATT_ERR_IO;
        goto out;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        LOG_ERR("libmicrohttpd did not report the port bound for %s", cfg->listen);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    h->port = info->port;
    *out = h;
    h = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    att_httpd_stop(h);
    return rc;
}

uint16_t att_httpd_port(const struct att_httpd *h)
{
    return h != NULL ? h->port : 0;
}

void att_httpd_stop(struct att_httpd *h)
{
    if (h == NULL) {
        return;
    }
    if (h->d != NULL) {
        MHD_stop_daemon(h->d); /* joins MHD's threads: no handler runs after this */
    }
    if (h->key_pem.data != NULL) {
        att_cleanse(h->key_pem.data, h->key_pem.cap);
    }
    att_buf_cleanup(&h->cert_pem);
    att_buf_cleanup(&h->key_pem);
    att_buf_cleanup(&h->ca_pem);
    free(h);
}

const char *att_http_request_query(const struct att_http_request *req, const char *key)
{
    if (req == NULL || req->conn == NULL || key == NULL) {
        return NULL;
    }
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_GET_ARGUMENT_KIND,
                                       key);
}
