/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load client for tests/integration/test_load.sh (issue 7, "Load").
 *
 *   att_load burst --url BASE --requests FILE --n N [--cacert F] [--cert F --key F]
 *                  [--token T] [--timeout S]
 *     N requests at once over N fresh connections (libcurl multi: every
 *     handle is added before the first transfer, no connection reuse), the
 *     request lines of FILE taken in turn: "METHOD PATH [@BODYFILE]". Prints
 *     how many got an HTTP answer and with which status, how many got none
 *     (and curl's reasons), how many sockets were open at once at most, and
 *     how many answers had a body of the wrong shape (an error without an
 *     "error" member, a 2xx that is not a JSON object).
 *
 *   att_load hold --connect ADDR:PORT --n N --mode idle|partial|tls-partial
 *                 [--ready FILE] [--ready-wait S] [--max-wait S]
 *     A slowloris: N connections that never finish a request. idle: TCP only,
 *     nothing sent (for a TLS server a handshake never begun); partial: an
 *     unfinished request header in plain text; tls-partial: a completed TLS
 *     handshake (no client certificate, no server verification) and then an
 *     unfinished request header. Writes "ready" to FILE once every connection
 *     is held (or after --ready-wait), then waits until the server closed all
 *     of them or --max-wait passed, and prints per-connection facts: how many
 *     the server closed, how many got bytes from it first (an answer, or a TLS
 *     alert), the shortest and longest idle time before the server closed one
 *     (since its last byte was sent, or its TCP connect for idle).
 *
 * Output is "key value" lines on stdout for the test to read; diagnostics go
 * to stderr. Exit 0 when the run completed (whatever the server did), 2 on
 * bad usage, 1 when the client itself failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "attest/buf.h"
#include "attest/rc.h"
#include "attest/util.h"

#define MAX_CONNS      20000
#define MAX_LINES      4096
#define MAX_KEEP_BODY  ((size_t)64 * 1024)
#define MAX_REQ_BODY   ((size_t)64 * 1024 * 1024)
#define N_CURL_ERRORS  100
#define PARTIAL_HEADER "GET /api/v1/hosts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

static double now_s(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* A whole file, NUL-terminated (not counted in *len); NULL after a message. */
static char *read_file(const char *path, size_t *len)
{
    struct att_buf b;
    att_rc rc;

    att_buf_init(&b, MAX_REQ_BODY + 1);
    rc = att_file_read(path, &b);
    if (rc == ATT_OK) {
        rc = att_buf_append(&b, "", 1);
    }
    if (rc != ATT_OK) {
        fprintf(stderr, "att_load: cannot read %s (at most %zu bytes): %s\n", path, MAX_REQ_BODY,
                att_rc_str(rc));
        att_buf_cleanup(&b);
        return NULL;
    }
    {
        char *text = (char *)att_buf_steal(&b, len);

        *len -= 1;
        return text;
    }
}

/* ------------------------------------------------------------------------ */
/* burst */

struct line {
    char method[16];
    char path[1024];
    char *body; /* NULL: no body */
    size_t body_len;
};

struct xfer {
    CURL *e;
    struct curl_slist *hdrs;
    char body[256]; /* the first bytes of the answer */
    size_t body_len;
    size_t body_total;
    size_t line;
};

static long open_sockets;
static long peak_sockets;

static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    curl_socket_t s;

    (void)clientp;
    (void)purpose;
    s = socket(a->family, a->socktype, a->protocol);
    if (s != CURL_SOCKET_BAD) {
        open_sockets++;
        if (open_sockets > peak_sockets) {
            peak_sockets = open_sockets;
        }
    }
    return s;
}

static int on_close(void *clientp, curl_socket_t s)
{
    (void)clientp;
    open_sockets--;
    return close(s);
}

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct xfer *x = user;
    size_t len = size * n;
    size_t room = sizeof(x->body) - 1 - x->body_len;
    size_t take = len < room ? len : room;

    memcpy(x->body + x->body_len, p, take);
    x->body_len += take;
    x->body[x->body_len] = '\0';
    x->body_total += len;
    return len;
}

static int parse_lines(const char *file, struct line *lines, size_t *n_lines)
{
    size_t len = 0;
    char *text = read_file(file, &len);
    char *p;
    char *save = NULL;
    size_t n = 0;

    if (text == NULL) {
        return -1;
    }
    for (p = strtok_r(text, "\n", &save); p != NULL; p = strtok_r(NULL, "\n", &save)) {
        char bodyfile[1024] = "";
        int k;

        if (*p == '#' || *p == '\0') {
            continue;
        }
        if (n == MAX_LINES) {
            fprintf(stderr, "att_load: more than %d request lines\n", MAX_LINES);
            free(text);
            return -1;
        }
        memset(&lines[n], 0, sizeof(lines[n]));
        k = sscanf(p, "%15s %1023s %1023s", lines[n].method, lines[n].path, bodyfile);
        if (k < 2) {
            fprintf(stderr, "att_load: bad request line \"%s\"\n", p);
            free(text);
            return -1;
        }
        if (k == 3) {
            if (bodyfile[0] != '@') {
                fprintf(stderr, "att_load: a body is @FILE, not \"%s\"\n", bodyfile);
                free(text);
                return -1;
            }
            lines[n].body = read_file(bodyfile + 1, &lines[n].body_len);
            if (lines[n].body == NULL) {
                free(text);
                return -1;
            }
        }
        n++;
    }
    free(text);
    if (n == 0) {
        fprintf(stderr, "att_load: no request lines in %s\n", file);
        return -1;
    }
    *n_lines = n;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/*
 * The answer's body has the API's shape: {"error": ...} for 4xx/5xx, and an
 * object for a 2xx that says it is JSON.
 */
static bool body_ok(long status, const char *type, const struct xfer *x)
{
    const char *p = x->body;

    if (status < 400 && (type == NULL || strncmp(type, "application/json", 16) != 0)) {
        return true; /* e.g. /metrics, /v1/health: text */
    }

    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
        p++;
    }
    if (*p != '{') {
        return false;
    }
    return status < 400 || strstr(x->body, "\"error\"") != NULL;
}

static int burst_main(int argc, char **argv)
{
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"requests", required_argument, NULL, 'r'},
                                         {"n", required_argument, NULL, 'n'},
                                         {"cacert", required_argument, NULL, 'c'},
                                         {"cert", required_argument, NULL, 'C'},
                                         {"key", required_argument, NULL, 'K'},
                                         {"token", required_argument, NULL, 't'},
                                         {"timeout", required_argument, NULL, 'T'},
                                         {NULL, 0, NULL, 0}};
    const char *url = NULL;
    const char *reqfile = NULL;
    const char *cacert = NULL;
    const char *cert = NULL;
    const char *key = NULL;
    const char *token = NULL;
    uint32_t n = 0;
    uint32_t timeout = 120;
    static struct line lines[MAX_LINES];
    size_t n_lines = 0;
    struct xfer *xs = NULL;
    double *lat = NULL;
    size_t n_lat = 0;
    CURLM *m = NULL;
    unsigned long by_status[600] = {0};
    unsigned long by_error[N_CURL_ERRORS] = {0};
    unsigned long answered = 0;
    unsigned long no_answer = 0;
    unsigned long bad_body = 0;
    unsigned long shown = 0;
    int running = 0;
    int c;
    int ret = 1;
    size_t i;
    double t0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'r':
            reqfile = optarg;
            break;
        case 'n':
            if (att_parse_u32(optarg, MAX_CONNS, &n) != ATT_OK || n == 0) {
                fprintf(stderr, "att_load: --n must be 1..%d\n", MAX_CONNS);
                return 2;
            }
            break;
        case 'c':
            cacert = optarg;
            break;
        case 'C':
            cert = optarg;
            break;
        case 'K':
            key = optarg;
            break;
        case 't':
            token = optarg;
            break;
        case 'T':
            if (att_parse_u32(optarg, 3600, &timeout) != ATT_OK || timeout == 0) {
                fprintf(stderr, "att_load: --timeout must be 1..3600\n");
                return 2;
            }
            break;
        default:
            return 2;
        }
    }
    if (url == NULL || reqfile == NULL || n == 0) {
        fprintf(stderr, "att_load burst: --url, --requests and --n are needed\n");
        return 2;
    }
    if (parse_lines(reqfile, lines, &n_lines) != 0) {
        return 1;
    }
    xs = calloc(n, sizeof(*xs));
    lat = calloc(n, sizeof(*lat));
    m = curl_multi_init();
    if (xs == NULL || lat == NULL || m == NULL) {
        goto out;
    }
    (void)curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    (void)curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    (void)curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n);
    for (i = 0; i < n; i++) {
        struct xfer *x = &xs[i];
        const struct line *l = &lines[i % n_lines];
        char full[2200];
        char auth[600];

        x->line = i % n_lines;
        x->e = curl_easy_init();
        if (x->e == NULL) {
            goto out;
        }
        (void)snprintf(full, sizeof(full), "%s%s", url, l->path);
        (void)curl_easy_setopt(x->e, CURLOPT_URL, full);
        (void)curl_easy_setopt(x->e, CURLOPT_CUSTOMREQUEST, l->method);
        (void)curl_easy_setopt(x->e, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(x->e, CURLOPT_FRESH_CONNECT, 1L);
        (void)curl_easy_setopt(x->e, CURLOPT_FORBID_REUSE, 1L);
        (void)curl_easy_setopt(x->e, CURLOPT_TIMEOUT, (long)timeout);
        (void)curl_easy_setopt(x->e, CURLOPT_CONNECTTIMEOUT, (long)timeout);
        (void)curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_data);
        (void)curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
        (void)curl_easy_setopt(x->e, CURLOPT_OPENSOCKETFUNCTION, on_open);
        (void)curl_easy_setopt(x->e, CURLOPT_CLOSESOCKETFUNCTION, on_close);
        if (cacert != NULL) {
            (void)curl_easy_setopt(x->e, CURLOPT_CAINFO, cacert);
        }
        if (cert != NULL && key != NULL) {
            (void)curl_easy_setopt(x->e, CURLOPT_SSLCERT, cert);
            (void)curl_easy_setopt(x->e, CURLOPT_SSLKEY, key);
        }
        if (token != NULL) {
            (void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
            x->hdrs = curl_slist_append(x->hdrs, auth);
        }
        if (l->body != NULL) {
            x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/json");
            (void)curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, l->body);
            (void)curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)l->body_len);
        }
        x->hdrs = curl_slist_append(x->hdrs, "Expect:");
        (void)curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, x->hdrs);
        (void)curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
        if (curl_multi_add_handle(m, x->e) != CURLM_OK) {
            goto out;
        }
    }
    t0 = now_s();
    do {
        CURLMsg *msg;
        int left = 0;

        if (curl_multi_perform(m, &running) != CURLM_OK) {
            goto out;
        }
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            struct xfer *x = NULL;
            long status = 0;
            double total = 0;
            char *type = NULL;

            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME, &total);
            (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_CONTENT_TYPE, &type);
            lat[n_lat++] = total;
            if (status >= 100 && status < 600) {
                answered++;
                by_status[status]++;
                if (!body_ok(status, type, x)) {
                    bad_body++;
                    if (shown++ < 5) {
                        fprintf(stderr, "att_load: %s %s: HTTP %ld with body \"%.120s\"\n",
                                lines[x->line].method, lines[x->line].path, status, x->body);
                    }
                }
            } else {
                unsigned code = (unsigned)msg->data.result;

                no_answer++;
                by_error[code < N_CURL_ERRORS ? code : 0]++;
                if (shown++ < 5) {
                    fprintf(stderr, "att_load: %s %s: no HTTP answer: %s\n", lines[x->line].method,
                            lines[x->line].path, curl_easy_strerror(msg->data.result));
                }
            }
        }
        if (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) {
            goto out;
        }
    } while (running > 0);
    qsort(lat, n_lat, sizeof(*lat), cmp_double);
    printf("requests %" PRIu32 "\n", n);
    printf("answered %lu\n", answered);
    printf("no_answer %lu\n", no_answer);
    for (i = 0; i < 600; i++) {
        if (by_status[i] > 0) {
            printf("status %zu %lu\n", i, by_status[i]);
        }
    }
    for (i = 0; i < N_CURL_ERRORS; i++) {
        if (by_error[i] > 0) {
            printf("curl_error %zu %lu %s\n", i, by_error[i], curl_easy_strerror((CURLcode)i));
        }
    }
    printf("bad_body %lu\n", bad_body);
    printf("peak_open_sockets %ld\n", peak_sockets);
    printf("wall_s %.3f\n", now_s() - t0);
    if (n_lat > 0) {
        printf("latency_s_p50 %.3f\n", lat[n_lat / 2]);
        printf("latency_s_p99 %.3f\n", lat[(n_lat * 99) / 100 < n_lat ? (n_lat * 99) / 100 : 0]);
        printf("latency_s_max %.3f\n", lat[n_lat - 1]);
    }
    ret = 0;
out:
    if (ret != 0) {
        fprintf(stderr, "att_load burst: client failure (out of memory or a libcurl error)\n");
    }
    for (i = 0; xs != NULL && i < n; i++) {
        if (xs[i].e != NULL) {
            (void)curl_multi_remove_handle(m, xs[i].e);
            curl_easy_cleanup(xs[i].e);
        }
        curl_slist_free_all(xs[i].hdrs);
    }
    if (m != NULL) {
        (void)curl_multi_cleanup(m);
    }
    for (i = 0; i < n_lines; i++) {
        free(lines[i].body);
    }
    free(xs);
    free(lat);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* hold */

enum mode { MODE_IDLE, MODE_PARTIAL, MODE_TLS_PARTIAL };
enum cstate { C_CONNECTING, C_HANDSHAKE, C_SENDING, C_HOLDING, C_CLOSED };

struct conn {
    int fd;
    enum cstate st;
    SSL *ssl;
    size_t sent;
    bool got_data;
    bool was_held;
    bool tcp_ok;
    double t_held;   /* when the last byte went out */
    double t_closed; /* when the server closed it */
    short want;      /* poll events wanted */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void conn_close(struct conn *c, double t)
{
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        (void)close(c->fd);
        c->fd = -1;
    }
    c->st = C_CLOSED;
    c->t_closed = t;
}

/* Drive one connection after poll() said @p rev. */
static void conn_step(struct conn *c, enum mode mode, short rev, double t)
{
    static const char partial[] = PARTIAL_HEADER;

    if (c->st == C_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
            conn_close(c, t);
            return;
        }
        c->tcp_ok = true;
        if (mode == MODE_IDLE) {
            c->st = C_HOLDING;
            c->was_held = true;
            c->t_held = t;
            c->want = POLLIN;
            return;
        }
        c->st = mode == MODE_TLS_PARTIAL ? C_HANDSHAKE : C_SENDING;
        rev = 0;
    }
    if (c->st == C_HANDSHAKE) {
        int r = SSL_connect(c->ssl);

        if (r == 1) {
            c->st = C_SENDING;
        } else {
            int e = SSL_get_error(c->ssl, r);

            if (e == SSL_ERROR_WANT_READ) {
                c->want = POLLIN;
            } else if (e == SSL_ERROR_WANT_WRITE) {
                c->want = POLLOUT;
            } else {
                ERR_clear_error();
                conn_close(c, t);
            }
            return;
        }
    }
    if (c->st == C_SENDING) {
        size_t left = sizeof(partial) - 1 - c->sent;
        ssize_t w;

        if (c->ssl != NULL) {
            int r = SSL_write(c->ssl, partial + c->sent, (int)left);

            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);

                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                    c->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
                } else {
                    ERR_clear_error();
                    conn_close(c, t);
                }
                return;
            }
            w = r;
        } else {
            w = send(c->fd, partial + c->sent, left, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    c->want = POLLOUT;
                } else {
                    conn_close(c, t);
                }
                return;
            }
        }
        c->sent += (size_t)w;
        if (c->sent < sizeof(partial) - 1) {
            c->want = POLLOUT;
            return;
        }
        c->st = C_HOLDING;
        c->was_held = true;
        c->t_held = t;
        c->want = POLLIN;
        return;
    }
    if (c->st == C_HOLDING && (rev & (POLLIN | POLLHUP | POLLERR)) != 0) {
        char buf[4096];

        if (c->ssl != NULL) {
            int r = SSL_read(c->ssl, buf, sizeof(buf));

            if (r > 0) {
                c->got_data = true;
                return;
            }
            if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
                return; /* e.g. a TLS 1.3 session ticket */
            }
            ERR_clear_error();
            conn_close(c, t);
            return;
        }
        {
            ssize_t r = recv(c->fd, buf, sizeof(buf), 0);

            if (r > 0) {
                c->got_data = true;
            } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                conn_close(c, t);
            }
        }
    }
}

static int write_ready(const char *path, size_t held, size_t n)
{
    FILE *f;
    char tmp[4200];

    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "ready %zu of %zu held\n", held, n);
    if (fclose(f) != 0) {
        return -1;
    }
    return rename(tmp, path);
}

static int hold_main(int argc, char **argv)
{
    static const struct option opts[] = {{"connect", required_argument, NULL, 'c'},
                                         {"n", required_argument, NULL, 'n'},
                                         {"mode", required_argument, NULL, 'm'},
                                         {"ready", required_argument, NULL, 'r'},
                                         {"ready-wait", required_argument, NULL, 'R'},
                                         {"max-wait", required_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    const char *connect_to = NULL;
    const char *ready = NULL;
    uint32_t n = 0;
    uint32_t ready_wait = 10;
    uint32_t max_wait = 120;
    enum mode mode = MODE_IDLE;
    struct sockaddr_in sa;
    struct conn *cs = NULL;
    struct pollfd *pf = NULL;
    size_t *idx = NULL;
    SSL_CTX *ctx = NULL;
    bool ready_written = false;
    double t0;
    double t_first_close = -1;
    double t_last_close = -1;
    double idle_min = -1;
    double idle_max = -1;
    size_t i;
    int c;
    int ret = 1;

    memset(&sa, 0, sizeof(sa));
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            connect_to = optarg;
            break;
        case 'n':
            if (att_parse_u32(optarg, MAX_CONNS, &n) != ATT_OK || n == 0) {
                fprintf(stderr, "att_load: --n must be 1..%d\n", MAX_CONNS);
                return 2;
            }
            break;
        case 'm':
            if (strcmp(optarg, "idle") == 0) {
                mode = MODE_IDLE;
            } else if (strcmp(optarg, "partial") == 0) {
                mode = MODE_PARTIAL;
            } else if (strcmp(optarg, "tls-partial") == 0) {
                mode = MODE_TLS_PARTIAL;
            } else {
                fprintf(stderr, "att_load: --mode idle|partial|tls-partial\n");
                return 2;
            }
            break;
        case 'r':
            ready = optarg;
            break;
        case 'R':
            if (att_parse_u32(optarg, 3600, &ready_wait) != ATT_OK) {
                return 2;
            }
            break;
        case 'w':
            if (att_parse_u32(optarg, 3600, &max_wait) != ATT_OK || max_wait == 0) {
                return 2;
            }
            break;
        default:
            return 2;
        }
    }
    if (connect_to == NULL || n == 0) {
        fprintf(stderr, "att_load hold: --connect ADDR:PORT and --n are needed\n");
        return 2;
    }
    {
        char host[64];
        const char *colon = strrchr(connect_to, ':');
        uint32_t port = 0;
        size_t hl = colon != NULL ? (size_t)(colon - connect_to) : 0;

        if (colon == NULL || hl == 0 || hl >= sizeof(host) ||
            att_parse_u32(colon + 1, 65535, &port) != ATT_OK || port == 0) {
            fprintf(stderr, "att_load: --connect wants A.B.C.D:PORT\n");
            return 2;
        }
        memcpy(host, connect_to, hl);
        host[hl] = '\0';
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
            fprintf(stderr, "att_load: --connect wants a numeric IPv4 address\n");
            return 2;
        }
    }
    cs = calloc(n, sizeof(*cs));
    pf = calloc(n, sizeof(*pf));
    idx = calloc(n, sizeof(*idx));
    if (cs == NULL || pf == NULL || idx == NULL) {
        goto out;
    }
    if (mode == MODE_TLS_PARTIAL) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (ctx == NULL) {
            goto out;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        (void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
    t0 = now_s();
    for (i = 0; i < n; i++) {
        struct conn *k = &cs[i];

        k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (k->fd < 0) {
            fprintf(stderr, "att_load: socket %zu: %s\n", i, strerror(errno));
            goto out;
        }
        if (connect(k->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
            conn_close(k, now_s());
            continue;
        }
        k->st = C_CONNECTING;
        k->want = POLLOUT;
        if (ctx != NULL) {
            k->ssl = SSL_new(ctx);
            if (k->ssl == NULL || SSL_set_fd(k->ssl, k->fd) != 1) {
                goto out;
            }
            SSL_set_connect_state(k->ssl);
        }
    }
    while (!stop_flag) {
        size_t np = 0;
        size_t held = 0;
        size_t open_n = 0;
        double t = now_s();
        int r;

        for (i = 0; i < n; i++) {
            if (cs[i].st == C_CLOSED) {
                continue;
            }
            open_n++;
            held += cs[i].st == C_HOLDING;
            pf[np].fd = cs[i].fd;
            pf[np].events = cs[i].want;
            pf[np].revents = 0;
            idx[np++] = i;
        }
        if (ready != NULL && !ready_written && (held == open_n || t - t0 >= (double)ready_wait)) {
            if (write_ready(ready, held, n) != 0) {
                fprintf(stderr, "att_load: cannot write %s\n", ready);
                goto out;
            }
            ready_written = true;
        }
        if (open_n == 0 || t - t0 >= (double)max_wait) {
            break;
        }
        r = poll(pf, (nfds_t)np, 200);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto out;
        }
        t = now_s();
        for (i = 0; i < np && r > 0; i++) {
            if (pf[i].revents != 0) {
                conn_step(&cs[idx[i]], mode, pf[i].revents, t);
            }
        }
    }
    {
        size_t tcp = 0;
        size_t held = 0;
        size_t closed = 0;
        size_t closed_held = 0;
        size_t data = 0;
        size_t still = 0;

        for (i = 0; i < n; i++) {
            const struct conn *k = &cs[i];

            tcp += k->tcp_ok;
            held += k->was_held;
            data += k->got_data;
            if (k->st != C_CLOSED) {
                still++;
                continue;
            }
            closed++;
            if (t_first_close < 0 || k->t_closed < t_first_close) {
                t_first_close = k->t_closed;
            }
            if (k->t_closed > t_last_close) {
                t_last_close = k->t_closed;
            }
            if (k->was_held) {
                double idle = k->t_closed - k->t_held;

                closed_held++;
                if (idle_min < 0 || idle < idle_min) {
                    idle_min = idle;
                }
                if (idle > idle_max) {
                    idle_max = idle;
                }
            }
        }
        printf("connections %" PRIu32 "\n", n);
        printf("tcp_connected %zu\n", tcp);
        printf("held %zu\n", held);
        printf("closed_by_server %zu\n", closed);
        printf("closed_after_hold %zu\n", closed_held);
        printf("got_bytes %zu\n", data);
        printf("still_open %zu\n", still);
        printf("idle_before_close_min_s %.1f\n", idle_min);
        printf("idle_before_close_max_s %.1f\n", idle_max);
        printf("first_close_s %.1f\n", t_first_close < 0 ? -1.0 : t_first_close - t0);
        printf("last_close_s %.1f\n", t_last_close < 0 ? -1.0 : t_last_close - t0);
        printf("wall_s %.1f\n", now_s() - t0);
    }
    ret = 0;
out:
    for (i = 0; cs != NULL && i < n; i++) {
        if (cs[i].st != C_CLOSED && (cs[i].fd >= 0 || cs[i].ssl != NULL)) {
            conn_close(&cs[i], 0);
        }
    }
    SSL_CTX_free(ctx);
    free(cs);
    free(pf);
    free(idx);
    return ret;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    int ret;

    if (argc < 2 || (strcmp(argv[1], "burst") != 0 && strcmp(argv[1], "hold") != 0)) {
        fprintf(stderr, "usage: att_load burst --url BASE --requests FILE --n N [--cacert F]\n"
                        "                      [--cert F --key F] [--token T] [--timeout S]\n"
                        "       att_load hold --connect ADDR:PORT --n N\n"
                        "                     --mode idle|partial|tls-partial [--ready FILE]\n"
                        "                     [--ready-wait S] [--max-wait S]\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);
    raise_fd_limit();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return 1;
    }
    if (strcmp(argv[1], "burst") == 0) {
        ret = burst_main(argc - 1, argv + 1);
    } else {
        ret = hold_main(argc - 1, argv + 1);
    }
    curl_global_cleanup();
    return ret;
}
