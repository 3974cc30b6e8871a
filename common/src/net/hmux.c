/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 multiplexer on OpenSSL + epoll (see attest/hmux.h and
 * docs/internals/net.md). Each request in flight is a struct hmux_xfer: it
 * takes an idle connection to its origin or connects (non-blocking), does the
 * TLS handshake on the mux's one SSL_CTX, writes the request, reads the head
 * (bounded: HMUX_HEAD_MAX) and the body (bounded: the caller's resp->max).
 * A connection whose response was whole, said nothing against keep-alive and
 * left no byte behind goes back to the idle table; every other one is closed.
 * A request that fails before any answer byte on a reused connection (the
 * agent restarted and closed it) is sent once more on a new connection.
 *
 * Memory: the mux owns connections (struct hconn, its SSL and fd, its origin
 * string), the xfers and their 16 KiB I/O buffers (kept for reuse, at most as
 * many as were ever in flight at once). Finished xfers are recycled only
 * after the epoll batch that may still name them is over.
 */
#include "attest/hmux.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "attest/log.h"
#include "attest/util.h"

#define HMUX_IO_SIZE                                                                               \
    16384 /* per request in flight: the request head (+ a small body), then reads */
#define HMUX_HEAD_MAX        8192 /* a response head longer than this is refused */
#define HMUX_CONNECT_LIMIT_S 5.0  /* connect + TLS handshake, as att_httpc_setup() */
#define HMUX_EVENTS          64

/* A request's states, in order: every state before XS_SEND is "connecting". */
enum xstate { XS_START, XS_CONNECT, XS_SETUP, XS_HANDSHAKE, XS_SEND, XS_RECV };

struct hconn {
    int fd;
    SSL *ssl;     /* NULL for http */
    char *origin; /* owned, "https://host:port" */
    struct hconn *next;
};

struct hmux_xfer {
    struct att_hmux_req *r; /* NULL once finished */
    struct hconn *c;        /* owned while the request runs */
    enum xstate state;
    bool tls;
    bool reused;
    bool retried;
    uint32_t armed; /* epoll events the fd is registered for; 0: not in epoll */
    uint32_t want;  /* what the last would-block asked for */
    char host[256];
    char port[8];
    char authority[300]; /* Host: */
    char origin[320];
    const char *path;
    struct addrinfo *ai; /* owned while connecting */
    struct addrinfo *ai_next;
    double t0;
    double connect_deadline;
    double deadline;
    uint8_t *io; /* HMUX_IO_SIZE, owned */
    size_t io_len;
    size_t io_off;
    const uint8_t *body_rest; /* the caller's body not copied into io */
    size_t body_rest_len;
    bool got_any; /* a byte of the answer came */
    bool head_done;
    int64_t clen; /* -1: to EOF */
    int keep_alive;
    uint64_t got_body;
    struct hmux_xfer *prev; /* active list */
    struct hmux_xfer *next; /* active, retired or free list */
};

struct att_hmux {
    SSL_CTX *ctx; /* NULL until the first https request needs it: then made once */
    char *ca_file;
    char *cert_file;
    char *key_file;
    double timeout_s;
    int ep;
    struct hconn **buckets; /* idle connections by origin */
    size_t n_buckets;
    size_t n_idle;
    size_t max_idle;
    uint64_t connects;
    struct hmux_xfer *active;
    struct hmux_xfer *retired;
    struct hmux_xfer *free_list;
    size_t pending;
    struct att_hmux_req *done_head;
    struct att_hmux_req *done_tail;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t origin_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void conn_free(struct hconn *c)
{
    if (c == NULL) {
        return;
    }
    if (c->ssl != NULL) {
        SSL_free(c->ssl); /* no close_notify: the socket goes anyway */
    }
    if (c->fd >= 0) {
        (void)close(c->fd);
    }
    free(c->origin);
    free(c);
}

/*
 * The idle connection to @p origin, or NULL. It is not probed: a connection
 * the peer closed while idle fails before any answer byte, and the request
 * goes once more on a new connection (retry_fresh).
 */
static struct hconn *idle_take(struct att_hmux *m, const char *origin)
{
    struct hconn **pp;

    if (m->n_buckets == 0) {
        return NULL;
    }
    for (pp = &m->buckets[origin_hash(origin) & (m->n_buckets - 1)]; *pp != NULL;
         pp = &(*pp)->next) {
        struct hconn *c = *pp;

        if (strcmp(c->origin, origin) == 0) {
            *pp = c->next;
            c->next = NULL;
            m->n_idle--;
            return c;
        }
    }
    return NULL;
}

static void idle_put(struct att_hmux *m, struct hconn *c)
{
    size_t b;

    if (m->n_idle >= m->max_idle) {
        conn_free(c);
        return;
    }
    /* SSL_MODE_RELEASE_BUFFERS does not free the record buffers once a
     * post-handshake message (a TLS 1.3 ticket) came: 16 KiB per idle host. */
    if (c->ssl != NULL) {
        (void)SSL_free_buffers(c->ssl);
    }
    if (m->n_idle + 1 > m->n_buckets) {
        size_t nb = m->n_buckets == 0 ? 64 : m->n_buckets * 2;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
        struct hconn **t = calloc(nb, sizeof(*t));

        if (t == NULL && m->n_buckets == 0) {
            conn_free(c);
            return;
        }
        if (t != NULL) {
            for (size_t i = 0; i < m->n_buckets; i++) {
                while (m->buckets[i] != NULL) {
                    struct hconn *x = m->buckets[i];

                    m->buckets[i] = x->next;
                    b = origin_hash(x->origin) & (nb - 1);
                    x->next = t[b];
                    t[b] = x;
                }
            }
            free(m->buckets);
            m->buckets = t;
            m->n_buckets = nb;
        }
    }
    b = origin_hash(c->origin) & (m->n_buckets - 1);
    c->next = m->buckets[b];
    m->buckets[b] = c;
    m->n_idle++;
}

att_rc att_hmux_new(const struct att_tls_client_config *tls, long timeout_s, size_t max_idle,
                    struct att_hmux **out)
{
    struct att_hmux *m;
    bool failed = false;

    if (out == NULL || timeout_s <= 0 ||
        (tls != NULL && tls->key_file != NULL && tls->cert_file == NULL)) {
        return ATT_ERR_INVALID_ARG;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return ATT_ERR_NOMEM;
    }
    m->ep = -1;
    m->timeout_s = (double)timeout_s;
    m->max_idle = max_idle;
    if (tls != NULL) {
        m->ca_file = att_strdup_opt(tls->ca_file, &failed);
        m->cert_file = att_strdup_opt(tls->cert_file, &failed);
        m->key_file = att_strdup_opt(tls->key_file, &failed);
    }
    m->ep = epoll_create1(EPOLL_CLOEXEC);
    if (failed || m->ep < 0) {
        att_hmux_free(m);
        return failed ? ATT_ERR_NOMEM : ATT_ERR_IO;
    }
    *out = m;
    return ATT_OK;
}

/* The one SSL_CTX, made on first use so an http-only mux needs no TLS files. */
static bool ctx_ready(struct att_hmux *m, char *err, size_t err_len)
{
    SSL_CTX *ctx;
    unsigned long e;
    char buf[200];

    if (m->ctx != NULL) {
        return true;
    }
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        (void)snprintf(err, err_len, "TLS: cannot make a context");
        return false;
    }
    (void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    (void)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    (void)SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
    (void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if ((m->ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, m->ca_file, NULL)
                            : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
        e = ERR_peek_last_error();
        ERR_error_string_n(e, buf, sizeof(buf));
        (void)snprintf(err, err_len, "TLS: cannot load the CA file %s: %s",
                       m->ca_file != NULL ? m->ca_file : "(system)", buf);
        SSL_CTX_free(ctx);
        return false;
    }
    if (m->cert_file != NULL &&
        (SSL_CTX_use_certificate_chain_file(ctx, m->cert_file) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx, m->key_file != NULL ? m->key_file : m->cert_file,
                                     SSL_FILETYPE_PEM) != 1 ||
         SSL_CTX_check_private_key(ctx) != 1)) {
        e = ERR_peek_last_error();
        ERR_error_string_n(e, buf, sizeof(buf));
        (void)snprintf(err, err_len, "TLS: cannot use the client certificate %s: %s", m->cert_file,
                       buf);
        SSL_CTX_free(ctx);
        return false;
    }
    ERR_clear_error();
    m->ctx = ctx;
    return true;
}

static void xfer_free(struct hmux_xfer *x)
{
    if (x == NULL) {
        return;
    }
    conn_free(x->c);
    if (x->ai != NULL) {
        freeaddrinfo(x->ai);
    }
    free(x->io);
    free(x);
}

static void free_list(struct hmux_xfer *x)
{
    while (x != NULL) {
        struct hmux_xfer *n = x->next;

        xfer_free(x);
        x = n;
    }
}

void att_hmux_free(struct att_hmux *m)
{
    if (m == NULL) {
        return;
    }
    free_list(m->active);
    free_list(m->retired);
    free_list(m->free_list);
    for (size_t i = 0; i < m->n_buckets; i++) {
        while (m->buckets[i] != NULL) {
            struct hconn *c = m->buckets[i];

            m->buckets[i] = c->next;
            conn_free(c);
        }
    }
    free(m->buckets);
    if (m->ctx != NULL) {
        SSL_CTX_free(m->ctx);
    }
    if (m->ep >= 0) {
        (void)close(m->ep);
    }
    free(m->ca_file);
    free(m->cert_file);
    free(m->key_file);
    free(m);
}

size_t att_hmux_pending(const struct att_hmux *m)
{
    return m != NULL ? m->pending : 0;
}

size_t att_hmux_idle(const struct att_hmux *m)
{
    return m != NULL ? m->n_idle : 0;
}

uint64_t att_hmux_connects(const struct att_hmux *m)
{
    return m != NULL ? m->connects : 0;
}

struct att_hmux_req *att_hmux_done(struct att_hmux *m)
{
    struct att_hmux_req *r;

    if (m == NULL || m->done_head == NULL) {
        return NULL;
    }
    r = m->done_head;
    m->done_head = r->next_done;
    if (m->done_head == NULL) {
        m->done_tail = NULL;
    }
    r->next_done = NULL;
    m->pending--;
    return r;
}

/* ---- URL ---------------------------------------------------------------- */

static bool url_ok_char(char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != '@' && ch != '?' && ch != '#' && ch != '\\';
}

/* Split http[s]://host[:port][/path] into the xfer; false with err set. */
static bool url_split(struct hmux_xfer *x, const char *url, char *err, size_t err_len)
{
    const char *p;
    const char *host_end;
    const char *auth_end;
    size_t hl;

    if (strncmp(url, "https://", 8) == 0) {
        x->tls = true;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        x->tls = false;
        p = url + 7;
    } else {
        (void)snprintf(err, err_len, "not an http(s) URL: %.80s", url);
        return false;
    }
    auth_end = p + strcspn(p, "/");
    for (const char *q = p; q < auth_end; q++) {
        if (!url_ok_char(*q)) {
            (void)snprintf(err, err_len, "bad character in the URL's host part: %.80s", url);
            return false;
        }
    }
    if (*p == '[') {
        host_end = memchr(p, ']', (size_t)(auth_end - p));
        if (host_end == NULL) {
            (void)snprintf(err, err_len, "unclosed [ in the URL: %.80s", url);
            return false;
        }
        hl = (size_t)(host_end - p - 1);
        if (hl == 0 || hl >= sizeof(x->host)) {
            (void)snprintf(err, err_len, "bad IPv6 host in the URL: %.80s", url);
            return false;
        }
        memcpy(x->host, p + 1, hl);
        host_end++;
    } else {
        host_end = p + strcspn(p, ":/");
        if (host_end > auth_end) {
            host_end = auth_end;
        }
        hl = (size_t)(host_end - p);
        if (hl == 0 || hl >= sizeof(x->host)) {
            (void)snprintf(err, err_len, "bad host in the URL: %.80s", url);
            return false;
        }
        memcpy(x->host, p, hl);
    }
    x->host[hl] = '\0';
    if (host_end < auth_end) {
        const char *d = host_end + 1;
        size_t dl = (size_t)(auth_end - d);
        unsigned long port = 0;

        if (*host_end != ':' || dl == 0 || dl > 5 || strspn(d, "0123456789") < dl) {
            (void)snprintf(err, err_len, "bad port in the URL: %.80s", url);
            return false;
        }
        for (size_t i = 0; i < dl; i++) {
            port = port * 10 + (unsigned long)(d[i] - '0');
        }
        if (port == 0 || port > 65535) {
            (void)snprintf(err, err_len, "bad port in the URL: %.80s", url);
            return false;
        }
        (void)snprintf(x->port, sizeof(x->port), "%lu", port);
    } else {
        (void)snprintf(x->port, sizeof(x->port), "%s", x->tls ? "443" : "80");
    }
    x->path = *auth_end == '/' ? auth_end : "/";
    for (const char *q = x->path; *q != '\0'; q++) {
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
            (void)snprintf(err, err_len, "bad character in the URL's path: %.80s", url);
            return false;
        }
    }
    (void)snprintf(x->authority, sizeof(x->authority), strchr(x->host, ':') ? "[%s]:%s" : "%s:%s",
                   x->host, x->port);
    (void)snprintf(x->origin, sizeof(x->origin), "%s://%s", x->tls ? "https" : "http",
                   x->authority);
    return true;
}

/* ---- response head ------------------------------------------------------- */

static bool has_token(const char *v, size_t vl, const char *tok)
{
    size_t tl = strlen(tok);
    size_t i = 0;

    while (i < vl) {
        size_t s;
        size_t e;

        while (i < vl && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        s = i;
        while (i < vl && v[i] != ',') {
            i++;
        }
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) {
            e--;
        }
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

att_rc att_hmux_parse_head(const char *head, size_t len, long *status, int64_t *content_length,
                           int *keep_alive, char *why, size_t why_len)
{
    const char *p = head;
    const char *end;
    const char *eol;
    bool http10;
    int64_t cl = -1;
    int keep;

    if (head == NULL || status == NULL || content_length == NULL || keep_alive == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    end = head + len;
    /* "HTTP/1.x SSS[ reason]\r\n" */
    eol = memchr(p, '\n', len);
    if (len < 14 || eol == NULL || eol == p || eol[-1] != '\r' || memcmp(p, "HTTP/1.", 7) != 0 ||
        (p[7] != '0' && p[7] != '1') || p[8] != ' ' || p[9] < '1' || p[9] > '5' || p[10] < '0' ||
        p[10] > '9' || p[11] < '0' || p[11] > '9' || (p[12] != ' ' && p[12] != '\r')) {
        (void)snprintf(why, why_len, "not an HTTP/1.x status line");
        return ATT_ERR_PARSE;
    }
    for (const char *q = p + 12; q < eol - 1; q++) {
        if ((unsigned char)*q < 0x20 && *q != '\t') {
            (void)snprintf(why, why_len, "control character in the status line");
            return ATT_ERR_PARSE;
        }
    }
    http10 = p[7] == '0';
    keep = http10 ? 0 : 1;
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    p = eol + 1;
    for (;;) {
        const char *colon;
        const char *v;
        const char *ve;

        if (p >= end) {
            (void)snprintf(why, why_len, "response head does not end with an empty line");
            return ATT_ERR_PARSE;
        }
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL || eol == p || eol[-1] != '\r') {
            (void)snprintf(why, why_len, "header line not ended by CRLF");
            return ATT_ERR_PARSE;
        }
        if (eol - 1 == p) { /* the empty line */
            if (eol + 1 != end) {
                (void)snprintf(why, why_len, "bytes after the response head's end");
                return ATT_ERR_PARSE;
            }
            break;
        }
        colon = p;
        while (colon < eol - 1 && is_tchar(*colon)) {
            colon++;
        }
        if (colon == p || *colon != ':') {
            (void)snprintf(why, why_len, "malformed header line");
            return ATT_ERR_PARSE;
        }
        v = colon + 1;
        ve = eol - 1;
        for (const char *q = v; q < ve; q++) {
            if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f) {
                (void)snprintf(why, why_len, "control character in a header value");
                return ATT_ERR_PARSE;
            }
        }
        while (v < ve && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }
        if ((size_t)(colon - p) == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            int64_t n = 0;

            if (ve == v || ve - v > 18) {
                (void)snprintf(why, why_len, "bad Content-Length");
                return ATT_ERR_PARSE;
            }
            for (const char *q = v; q < ve; q++) {
                if (*q < '0' || *q > '9') {
                    (void)snprintf(why, why_len, "bad Content-Length");
                    return ATT_ERR_PARSE;
                }
                n = n * 10 + (*q - '0');
            }
            if (cl >= 0 && cl != n) {
                (void)snprintf(why, why_len, "two different Content-Length values");
                return ATT_ERR_PARSE;
            }
            cl = n;
        } else if ((size_t)(colon - p) == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            (void)snprintf(why, why_len, "transfer-encoded (chunked) answers are not supported");
            return ATT_ERR_PARSE;
        } else if ((size_t)(colon - p) == 10 && strncasecmp(p, "Connection", 10) == 0) {
            if (has_token(v, (size_t)(ve - v), "close")) {
                keep = 0;
            } else if (has_token(v, (size_t)(ve - v), "keep-alive")) {
                keep = 1;
            }
        }
        p = eol + 1;
    }
    if (*status == 204 || *status == 304 || *status < 200) {
        cl = 0;
    }
    if (cl < 0) {
        keep = 0; /* delimited by the close */
    }
    *content_length = cl;
    *keep_alive = keep;
    return ATT_OK;
}

/* ---- a request's steps ---------------------------------------------------- */

static void arm(struct att_hmux *m, struct hmux_xfer *x, uint32_t ev)
{
    struct epoll_event e;

    if (x->armed == ev) {
        return;
    }
    memset(&e, 0, sizeof(e));
    e.events = ev;
    e.data.ptr = x;
    if (epoll_ctl(m->ep, x->armed != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, x->c->fd, &e) == 0) {
        x->armed = ev;
    }
}

static void disarm(struct att_hmux *m, struct hmux_xfer *x)
{
    if (x->armed != 0 && x->c != NULL) {
        (void)epoll_ctl(m->ep, EPOLL_CTL_DEL, x->c->fd, NULL);
    }
    x->armed = 0;
}

static void active_unlink(struct att_hmux *m, struct hmux_xfer *x)
{
    if (x->prev != NULL) {
        x->prev->next = x->next;
    } else {
        m->active = x->next;
    }
    if (x->next != NULL) {
        x->next->prev = x->prev;
    }
    x->prev = NULL;
    x->next = NULL;
}

/* The resolved addresses are no longer needed (connected, or over). */
static void ai_drop(struct hmux_xfer *x)
{
    if (x->ai != NULL) {
        freeaddrinfo(x->ai);
    }
    x->ai = NULL;
    x->ai_next = NULL;
}

/* The request is over: hand it back, keep or close the connection, retire the xfer. */
static void finish(struct att_hmux *m, struct hmux_xfer *x, att_rc rc)
{
    struct att_hmux_req *r = x->r;
    bool keep = rc == ATT_OK && x->keep_alive && x->c != NULL &&
                (x->c->ssl == NULL || SSL_pending(x->c->ssl) == 0);

    disarm(m, x);
    if (x->c != NULL) {
        if (keep) {
            idle_put(m, x->c);
        } else {
            conn_free(x->c);
        }
        x->c = NULL;
    }
    ai_drop(x);
    r->rc = rc;
    r->total_us = (uint64_t)((now_s() - x->t0) * 1e6);
    r->next_done = NULL;
    if (m->done_tail != NULL) {
        m->done_tail->next_done = r;
    } else {
        m->done_head = r;
    }
    m->done_tail = r;
    active_unlink(m, x);
    x->r = NULL;
    x->next = m->retired;
    m->retired = x;
}

static void failf(struct att_hmux *m, struct hmux_xfer *x, att_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void failf(struct att_hmux *m, struct hmux_xfer *x, att_rc rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(x->r->err, sizeof(x->r->err), fmt, ap);
    va_end(ap);
    finish(m, x, rc);
}

/* Why an SSL call failed, for the operator. */
static void tls_why(struct hmux_xfer *x, char *out, size_t out_len)
{
    long vr = x->c != NULL && x->c->ssl != NULL ? SSL_get_verify_result(x->c->ssl) : X509_V_OK;
    unsigned long e = ERR_peek_last_error();

    if (vr != X509_V_OK) {
        (void)snprintf(out, out_len, "certificate verify failed: %s",
                       X509_verify_cert_error_string(vr));
    } else if (e != 0) {
        ERR_error_string_n(e, out, out_len);
    } else {
        (void)snprintf(out, out_len, "%s", errno != 0 ? strerror(errno) : "connection closed");
    }
    ERR_clear_error();
}

/* The request head (and the body, when both fit) into x->io. */
static bool build_request(struct hmux_xfer *x)
{
    const struct att_hmux_req *r = x->r;
    int n;

    n = snprintf((char *)x->io, HMUX_IO_SIZE,
                 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: attest/" ATT_VERSION
                 "\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                 r->method, x->path, x->authority, r->content_type != NULL ? "Content-Type: " : "",
                 r->content_type != NULL ? r->content_type : "",
                 r->content_type != NULL ? "\r\n" : "", r->body_len);
    if (n < 0 || (size_t)n >= HMUX_IO_SIZE) {
        return false;
    }
    x->io_len = (size_t)n;
    x->io_off = 0;
    x->body_rest = r->body;
    x->body_rest_len = r->body_len;
    if (r->body_len > 0 && r->body_len <= HMUX_IO_SIZE - x->io_len) {
        memcpy(x->io + x->io_len, r->body, r->body_len);
        x->io_len += r->body_len;
        x->body_rest_len = 0;
    }
    x->got_any = false;
    x->head_done = false;
    x->got_body = 0;
    x->clen = -1;
    x->keep_alive = 0;
    return true;
}

/*
 * A reused connection failed before any answer byte: the peer most likely
 * closed it while idle. Once per request, start over on a new connection
 * (x->state XS_START: the caller's step loop goes on from there).
 */
static bool retry_fresh(struct att_hmux *m, struct hmux_xfer *x)
{
    if (!x->reused || x->retried || x->got_any) {
        return false;
    }
    disarm(m, x);
    conn_free(x->c);
    x->c = NULL;
    x->reused = false;
    x->retried = true;
    if (!build_request(x)) {
        return false;
    }
    x->state = XS_START;
    return true;
}

/* Connected: TLS set up (XS_HANDSHAKE) or plain HTTP (XS_SEND). false when it failed. */
static bool tls_setup(struct att_hmux *m, struct hmux_xfer *x)
{
    unsigned char a[16];
    int ok;

    m->connects++;
    ai_drop(x);
    if (!x->tls) {
        x->state = XS_SEND;
        return true;
    }
    if (!ctx_ready(m, x->r->err, sizeof(x->r->err))) {
        finish(m, x, ATT_ERR_IO);
        return false;
    }
    x->c->ssl = SSL_new(m->ctx);
    if (x->c->ssl == NULL || SSL_set_fd(x->c->ssl, x->c->fd) != 1) {
        failf(m, x, ATT_ERR_NOMEM, "TLS: cannot make a connection object");
        return false;
    }
    SSL_set_connect_state(x->c->ssl);
    if (inet_pton(AF_INET, x->host, a) == 1 || inet_pton(AF_INET6, x->host, a) == 1) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(x->c->ssl), x->host);
    } else {
        ok = SSL_set_tlsext_host_name(x->c->ssl, x->host) == 1 &&
             SSL_set1_host(x->c->ssl, x->host) == 1;
    }
    if (ok != 1) {
        failf(m, x, ATT_ERR_NOMEM, "TLS: cannot set the expected peer name %s", x->host);
        return false;
    }
    x->state = XS_HANDSHAKE;
    return true;
}

/*
 * The next address of x->ai (resolved on first use): a non-blocking
 * connect. true when connected at once (XS_SETUP), false when it waits
 * (XS_CONNECT, armed) or failed (finished).
 */
static bool start_connect(struct att_hmux *m, struct hmux_xfer *x)
{
    char why[160] = "no address";

    if (x->ai == NULL) {
        struct addrinfo hints;
        int g;

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        g = getaddrinfo(x->host, x->port, &hints, &x->ai);
        if (g != 0) {
            x->ai = NULL;
            failf(m, x, ATT_ERR_IO, "cannot resolve %s: %s", x->host, gai_strerror(g));
            return false;
        }
        x->ai_next = x->ai;
        x->connect_deadline = now_s() + HMUX_CONNECT_LIMIT_S;
        if (x->connect_deadline > x->deadline) {
            x->connect_deadline = x->deadline;
        }
    }
    while (x->ai_next != NULL) {
        struct addrinfo *ai = x->ai_next;
        int fd;
        int one = 1;

        x->ai_next = ai->ai_next;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            (void)snprintf(why, sizeof(why), "socket: %s", strerror(errno));
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        x->c = calloc(1, sizeof(*x->c));
        if (x->c == NULL || (x->c->origin = strdup(x->origin)) == NULL) {
            free(x->c);
            x->c = NULL;
            (void)close(fd);
            failf(m, x, ATT_ERR_NOMEM, "out of memory");
            return false;
        }
        x->c->fd = fd;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            x->state = XS_SETUP;
            return true;
        }
        if (errno == EINPROGRESS) {
            x->state = XS_CONNECT;
            arm(m, x, EPOLLOUT);
            return false;
        }
        (void)snprintf(why, sizeof(why), "%s", strerror(errno));
        conn_free(x->c);
        x->c = NULL;
    }
    failf(m, x, ATT_ERR_IO, "cannot connect to %s: %s", x->authority, why);
    return false;
}

/* A non-blocking connect was reported writable: true when connected (XS_SETUP)
 * or on to the next address (XS_START); false to wait more or failed. */
static bool connect_done(struct att_hmux *m, struct hmux_xfer *x)
{
    int e = 0;
    socklen_t el = sizeof(e);

    if (getsockopt(x->c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) {
        e = errno;
    }
    if (e == 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);

        if (getpeername(x->c->fd, (struct sockaddr *)&ss, &sl) != 0 && errno == ENOTCONN) {
            return false; /* a wakeup meant for an earlier socket of this request */
        }
        disarm(m, x);
        x->state = XS_SETUP;
        return true;
    }
    disarm(m, x);
    conn_free(x->c);
    x->c = NULL;
    if (x->ai_next != NULL) {
        x->state = XS_START;
        return true;
    }
    failf(m, x, ATT_ERR_IO, "cannot connect to %s: %s", x->authority, strerror(e));
    return false;
}

/* @p e, from SSL_get_error: true when the call only has to wait (x->want set). */
static bool tls_wait(struct hmux_xfer *x, int e)
{
    if (e == SSL_ERROR_WANT_READ) {
        x->want = EPOLLIN;
        return true;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        x->want = EPOLLOUT;
        return true;
    }
    return false;
}

enum { CONN_WAIT = 0, CONN_EOF = -1, CONN_ERR = -2 };

/*
 * One write of @p out (or read into @p in) of @p len bytes on the request's
 * connection, TLS or plain: the bytes moved, or CONN_WAIT (x->want set),
 * CONN_EOF (the peer closed; reads only), CONN_ERR (@p why says what).
 */
static ssize_t conn_io(struct hmux_xfer *x, const uint8_t *out, uint8_t *in, size_t len, char *why,
                       size_t why_len)
{
    for (;;) {
        ssize_t n;

        errno = 0;
        if (x->c->ssl != NULL) {
            int k = len > (size_t)INT32_MAX ? INT32_MAX : (int)len;
            int e;

            ERR_clear_error();
            n = out != NULL ? SSL_write(x->c->ssl, out, k) : SSL_read(x->c->ssl, in, k);
            if (n > 0) {
                return n;
            }
            e = SSL_get_error(x->c->ssl, (int)n);
            if (tls_wait(x, e)) {
                return CONN_WAIT;
            }
            if (out == NULL &&
                (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))) {
                return CONN_EOF;
            }
            tls_why(x, why, why_len);
            return CONN_ERR;
        }
        n = out != NULL ? send(x->c->fd, out, len, MSG_NOSIGNAL) : recv(x->c->fd, in, len, 0);
        if (n > 0) {
            return n;
        }
        if (n == 0 && out == NULL) {
            return CONN_EOF;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            x->want = out != NULL ? EPOLLOUT : EPOLLIN;
            return CONN_WAIT;
        }
        (void)snprintf(why, why_len, "%s", strerror(errno != 0 ? errno : EIO));
        return CONN_ERR;
    }
}

enum io_step { IO_DONE, IO_WAIT, IO_OVER };

/* A read or write failed: once more on a new connection (retry_fresh), or over. */
static enum io_step io_failed(struct att_hmux *m, struct hmux_xfer *x, const char *what,
                              const char *why)
{
    if (!retry_fresh(m, x)) {
        failf(m, x, ATT_ERR_IO, "%s%s %s failed: %s", x->tls ? "TLS " : "", what, x->authority,
              why);
    }
    return IO_OVER;
}

/* Write what is left of the request. IO_OVER: finished with an error, or
 * restarting on a new connection (x->state XS_START). */
static enum io_step do_send(struct att_hmux *m, struct hmux_xfer *x)
{
    for (;;) {
        char why[200];
        bool head = x->io_off < x->io_len;
        ssize_t n;

        if (!head && x->body_rest_len == 0) {
            return IO_DONE;
        }
        n = head ? conn_io(x, x->io + x->io_off, NULL, x->io_len - x->io_off, why, sizeof(why))
                 : conn_io(x, x->body_rest, NULL, x->body_rest_len, why, sizeof(why));
        if (n == CONN_WAIT) {
            return IO_WAIT;
        }
        if (n < 0) {
            return io_failed(m, x, "write to", why);
        }
        if (head) {
            x->io_off += (size_t)n;
        } else {
            x->body_rest += n;
            x->body_rest_len -= (size_t)n;
        }
    }
}

/* Bytes read into x->io past io_len: consume head and body. false when the request finished. */
static bool take_bytes(struct att_hmux *m, struct hmux_xfer *x)
{
    struct att_hmux_req *r = x->r;

    while (!x->head_done) {
        uint8_t *e = NULL;
        char why[120];
        size_t hl;

        for (size_t i = 3; i < x->io_len; i++) {
            if (x->io[i] == '\n' && x->io[i - 1] == '\r' && x->io[i - 2] == '\n' &&
                x->io[i - 3] == '\r') {
                e = x->io + i + 1;
                break;
            }
        }
        if (e == NULL) {
            if (x->io_len >= HMUX_HEAD_MAX) {
                failf(m, x, ATT_ERR_PARSE, "%s answered with a head over %d bytes", x->authority,
                      HMUX_HEAD_MAX);
                return false;
            }
            return true;
        }
        hl = (size_t)(e - x->io);
        if (att_hmux_parse_head((const char *)x->io, hl, &r->status, &x->clen, &x->keep_alive, why,
                                sizeof(why)) != ATT_OK) {
            r->status = 0;
            failf(m, x, ATT_ERR_PARSE, "%s answered with a bad HTTP head: %s", x->authority, why);
            return false;
        }
        memmove(x->io, e, x->io_len - hl);
        x->io_len -= hl;
        if (r->status >= 200) {
            x->head_done = true;
            if (x->clen >= 0 && (uint64_t)x->clen > r->resp->max) {
                failf(m, x, ATT_ERR_PARSE, "%s's answer is %lld bytes, more than the %zu allowed",
                      x->authority, (long long)x->clen, r->resp->max);
                return false;
            }
        }
    }
    if (x->io_len > 0) {
        size_t take = x->io_len;

        if (x->clen >= 0 && (uint64_t)x->clen - x->got_body < take) {
            take = (size_t)((uint64_t)x->clen - x->got_body);
            x->keep_alive = 0; /* bytes past the answer: the connection is not reused */
        }
        if (att_buf_append(r->resp, x->io, take) != ATT_OK) {
            failf(m, x, ATT_ERR_PARSE, "%s's answer is more than the %zu bytes allowed",
                  x->authority, r->resp->max);
            return false;
        }
        x->got_body += take;
        x->io_len = 0;
    }
    if (x->clen >= 0 && x->got_body == (uint64_t)x->clen) {
        x->io_off = 0;
        finish(m, x, ATT_OK);
        return false;
    }
    return true;
}

/* Read the answer as far as it has come. IO_WAIT: more to come (x->want);
 * IO_OVER: finished, or restarting on a new connection (XS_START). */
static enum io_step do_recv(struct att_hmux *m, struct hmux_xfer *x)
{
    for (;;) {
        size_t room = (x->head_done ? HMUX_IO_SIZE : HMUX_HEAD_MAX) - x->io_len;
        char why[200];
        ssize_t n = conn_io(x, NULL, x->io + x->io_len, room, why, sizeof(why));

        if (n == CONN_WAIT) {
            return IO_WAIT;
        }
        if (n == CONN_ERR) {
            return io_failed(m, x, "read from", why);
        }
        if (n == CONN_EOF) {
            if (retry_fresh(m, x)) {
                return IO_OVER;
            }
            if (x->head_done && x->clen < 0) {
                x->keep_alive = 0;
                finish(m, x, ATT_OK);
                return IO_OVER;
            }
            failf(m, x, ATT_ERR_IO,
                  x->got_any ? "%s closed the connection before the whole answer came"
                             : "%s closed the connection without an answer",
                  x->authority);
            return IO_OVER;
        }
        x->got_any = true;
        x->io_len += (size_t)n;
        if (!take_bytes(m, x)) {
            return IO_OVER;
        }
    }
}

/*
 * Run the request as far as it goes without waiting, then wait (armed) for
 * what it needs. The one loop that moves a request from state to state.
 */
static void step(struct att_hmux *m, struct hmux_xfer *x)
{
    while (x->r != NULL) {
        enum io_step io;

        x->want = 0;
        switch (x->state) {
        case XS_START:
            if (!start_connect(m, x)) {
                return;
            }
            break;
        case XS_CONNECT:
            if (!connect_done(m, x)) {
                return;
            }
            break;
        case XS_SETUP:
            if (!tls_setup(m, x)) {
                return;
            }
            break;
        case XS_HANDSHAKE: {
            int h;

            ERR_clear_error();
            errno = 0;
            h = SSL_do_handshake(x->c->ssl);
            if (h == 1) {
                x->state = XS_SEND;
                break;
            }
            if (!tls_wait(x, SSL_get_error(x->c->ssl, h))) {
                char why[200];

                tls_why(x, why, sizeof(why));
                failf(m, x, ATT_ERR_IO, "TLS handshake with %s failed: %s", x->authority, why);
                return;
            }
            arm(m, x, x->want);
            return;
        }
        case XS_SEND:
            io = do_send(m, x);
            if (io == IO_WAIT) {
                arm(m, x, x->want);
                return;
            }
            if (io == IO_DONE) {
                x->state = XS_RECV;
                x->io_len = 0;
                x->io_off = 0;
            }
            break;
        case XS_RECV:
            io = do_recv(m, x);
            if (io == IO_WAIT) {
                arm(m, x, x->want);
                return;
            }
            break;
        }
    }
}

void att_hmux_add(struct att_hmux *m, struct att_hmux_req *r)
{
    struct hmux_xfer *x;

    if (m == NULL || r == NULL) {
        return;
    }
    r->rc = ATT_ERR_IO;
    r->status = 0;
    r->err[0] = '\0';
    r->total_us = 0;
    r->next_done = NULL;
    m->pending++;
    x = m->free_list;
    if (x != NULL) {
        uint8_t *io = x->io;

        m->free_list = x->next;
        memset(x, 0, sizeof(*x));
        x->io = io;
    } else {
        x = calloc(1, sizeof(*x));
        if (x != NULL) {
            x->io = malloc(HMUX_IO_SIZE);
        }
        if (x == NULL || x->io == NULL) {
            free(x);
            (void)snprintf(r->err, sizeof(r->err), "out of memory");
            r->rc = ATT_ERR_NOMEM;
            if (m->done_tail != NULL) {
                m->done_tail->next_done = r;
            } else {
                m->done_head = r;
            }
            m->done_tail = r;
            return;
        }
    }
    x->r = r;
    x->t0 = now_s();
    x->deadline = x->t0 + m->timeout_s;
    x->next = m->active;
    if (m->active != NULL) {
        m->active->prev = x;
    }
    m->active = x;
    if (r->url == NULL || r->method == NULL || r->resp == NULL ||
        (r->body == NULL && r->body_len > 0)) {
        failf(m, x, ATT_ERR_INVALID_ARG, "incomplete request");
        return;
    }
    if (!url_split(x, r->url, r->err, sizeof(r->err))) {
        finish(m, x, ATT_ERR_INVALID_ARG);
        return;
    }
    if (!build_request(x)) {
        failf(m, x, ATT_ERR_INVALID_ARG, "request head too long for %.80s", r->url);
        return;
    }
    x->c = idle_take(m, x->origin);
    if (x->c != NULL) {
        x->reused = true;
        x->state = XS_SEND;
    } else {
        x->state = XS_START;
    }
    step(m, x);
}

static const char *phase(const struct hmux_xfer *x)
{
    switch (x->state) {
    case XS_START:
    case XS_CONNECT:
    case XS_SETUP:
        return "connecting";
    case XS_HANDSHAKE:
        return "in the TLS handshake";
    case XS_SEND:
        return "sending the request";
    case XS_RECV:
        return x->got_any ? "receiving the answer" : "waiting for the answer";
    }
    return "";
}

void att_hmux_run(struct att_hmux *m, int timeout_ms)
{
    struct epoll_event ev[HMUX_EVENTS];
    double now = now_s();
    double first = now + (double)timeout_ms / 1000.0;
    int n;

    if (m == NULL) {
        return;
    }
    for (struct hmux_xfer *x = m->active; x != NULL; x = x->next) {
        double d = x->state <= XS_HANDSHAKE ? x->connect_deadline : x->deadline;

        if (d < first) {
            first = d;
        }
    }
    if (m->active != NULL) {
        double w = (first - now) * 1000.0;

        n = epoll_wait(m->ep, ev, HMUX_EVENTS, w <= 0 ? 0 : (int)w + 1);
        for (int i = 0; i < n; i++) {
            struct hmux_xfer *x = ev[i].data.ptr;

            if (x->r == NULL || x->c == NULL) {
                continue; /* finished earlier in this batch */
            }
            step(m, x);
        }
    }
    now = now_s();
    for (struct hmux_xfer *x = m->active, *nx; x != NULL; x = nx) {
        bool connecting = x->state <= XS_HANDSHAKE;
        double d = connecting ? x->connect_deadline : x->deadline;

        nx = x->next;
        if (now >= d) {
            failf(m, x, ATT_ERR_TIMEOUT, "%s timed out after %.0f s %s", x->authority,
                  connecting ? d - x->t0 : m->timeout_s, phase(x));
        }
    }
    while (m->retired != NULL) {
        struct hmux_xfer *x = m->retired;

        m->retired = x->next;
        x->next = m->free_list;
        m->free_list = x;
    }
}
