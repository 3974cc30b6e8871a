/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for attest/httpd.h and attest/httpc.h: the MHD server and the
 * curl client against each other on loopback, plain and with mTLS
 * (DESIGN §3). Negative cases come first: bad listen addresses, missing or
 * unusable TLS files, oversized bodies (declared and chunked), client
 * certificates that are missing, from another CA or of the wrong kind, a
 * client that trusts another CA, a server name outside the SANs, old TLS
 * versions. Certificates are made fresh by certs/fleet-ca in a temp dir,
 * never checked in. attest/hmux.h (the verifier's poller transport) is
 * tested against the same server: head parsing, connection reuse, a server
 * gone between requests, TLS refusals, oversized answers, timeouts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/gnutls.h>

#include "attest/buf.h"
#include "attest/hmux.h"
#include "attest/httpc.h"
#include "attest/httpd.h"
#include "attest/log.h"
#include "attest/rc.h"

#ifndef ATT_SOURCE_DIR
#error "ATT_SOURCE_DIR unset: tests/CMakeLists.txt must give test_net ATT_SOURCE_DIR and attest_net"
#endif

extern char **environ;

#define MAX_BODY  1024u
#define RESP_MAX  (1u << 20)
#define ERR_LEN   512
#define PATH_LEN  512
#define TIMEOUT_S 10L

/* ---- certificates (made once for the whole run) ---------------------- */

struct pki {
    char dir[64];
    char ca1[PATH_LEN], agent_pem[PATH_LEN], agent_key[PATH_LEN];
    char verifier_pem[PATH_LEN], verifier_key[PATH_LEN];
    char cli_pem[PATH_LEN], cli_key[PATH_LEN];
    char ca2[PATH_LEN], rogue_pem[PATH_LEN], rogue_key[PATH_LEN];
    char missing[PATH_LEN], garbage[PATH_LEN];
};

static struct pki g_pki;

/* Run argv (argv[0] is a path or a PATH name) with stdout and stderr quiet; its exit status. */
static int run(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = 0;

    if (posix_spawn_file_actions_init(&fa) != 0) {
        return -1;
    }
    if (posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 256;
}

static int fleet_ca(const char *cmd, const char *dir, const char *name, const char *kind)
{
    char prog[] = ATT_SOURCE_DIR "/certs/fleet-ca";
    char a_cmd[16];
    char a_dir[PATH_LEN];
    char a_name[64];
    char a_kind[16];
    char o_name[] = "--name";
    char o_kind[] = "--kind";
    char *argv[8];

    (void)snprintf(a_cmd, sizeof(a_cmd), "%s", cmd);
    (void)snprintf(a_dir, sizeof(a_dir), "%s", dir);
    argv[0] = prog;
    argv[1] = a_cmd;
    argv[2] = a_dir;
    argv[3] = NULL;
    if (name != NULL) {
        (void)snprintf(a_name, sizeof(a_name), "%s", name);
        (void)snprintf(a_kind, sizeof(a_kind), "%s", kind);
        argv[3] = o_name;
        argv[4] = a_name;
        argv[5] = o_kind;
        argv[6] = a_kind;
        argv[7] = NULL;
    }
    return run(argv);
}

#define PKI_PATH(field, ...) (void)snprintf(g_pki.field, sizeof(g_pki.field), __VA_ARGS__)

static int group_setup(void **state)
{
    char d1[128];
    char d2[128];
    FILE *f;

    (void)state;
    (void)snprintf(g_pki.dir, sizeof(g_pki.dir), "/tmp/att-test-net.XXXXXX");
    if (mkdtemp(g_pki.dir) == NULL) {
        return -1;
    }
    (void)snprintf(d1, sizeof(d1), "%s/ca1", g_pki.dir);
    (void)snprintf(d2, sizeof(d2), "%s/ca2", g_pki.dir);
    if (fleet_ca("init", d1, NULL, NULL) != 0 || fleet_ca("issue", d1, "agent", "agent") != 0 ||
        fleet_ca("issue", d1, "verifier", "verifier") != 0 ||
        fleet_ca("issue", d1, "cli", "client") != 0 || fleet_ca("init", d2, NULL, NULL) != 0 ||
        fleet_ca("issue", d2, "rogue", "client") != 0) {
        fprintf(stderr, "certs/fleet-ca failed in %s\n", g_pki.dir);
        return -1;
    }
    PKI_PATH(ca1, "%s/ca.pem", d1);
    PKI_PATH(agent_pem, "%s/agent.pem", d1);
    PKI_PATH(agent_key, "%s/agent.key", d1);
    PKI_PATH(verifier_pem, "%s/verifier.pem", d1);
    PKI_PATH(verifier_key, "%s/verifier.key", d1);
    PKI_PATH(cli_pem, "%s/cli.pem", d1);
    PKI_PATH(cli_key, "%s/cli.key", d1);
    PKI_PATH(ca2, "%s/ca.pem", d2);
    PKI_PATH(rogue_pem, "%s/rogue.pem", d2);
    PKI_PATH(rogue_key, "%s/rogue.key", d2);
    PKI_PATH(missing, "%s/no-such-file.pem", g_pki.dir);
    PKI_PATH(garbage, "%s/garbage.pem", g_pki.dir);
    f = fopen(g_pki.garbage, "w");
    if (f == NULL) {
        return -1;
    }
    (void)fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
    (void)fclose(f);
    return 0;
}

static int group_teardown(void **state)
{
    char rm[] = "rm";
    char rf[] = "-rf";
    char *argv[] = {rm, rf, g_pki.dir, NULL};

    (void)state;
    if (g_pki.dir[0] != '\0') {
        (void)run(argv);
    }
    return 0;
}

/* ---- the server under test -------------------------------------------- */

struct srv {
    struct att_httpd *h;
    atomic_uint handler_calls;
    atomic_uint error_calls;
    char url[128]; /* scheme://host:port */
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const char *or_null(const char *s)
{
    return s != NULL ? s : "(null)";
}

/*
 * Echo handler. /404: not found; /slow: sleeps 2 s; /big: 1000 bytes;
 * /badstatus: an invalid status; else a text echo of what it was given.
 */
static void handler(void *ctx, const struct att_http_request *req, struct att_http_response *resp)
{
    struct srv *s = ctx;
    static const char big[1000] = {0};

    atomic_fetch_add(&s->handler_calls, 1);
    resp->content_type = "text/plain";
    if (strcmp(req->url, "/404") == 0) {
        resp->status = 404;
        (void)att_buf_append_str(&resp->body, "nothing here\n");
        return;
    }
    if (strcmp(req->url, "/slow") == 0) {
        sleep_ms(2000);
        resp->status = 200;
        return;
    }
    if (strcmp(req->url, "/big") == 0) {
        resp->status = 200;
        (void)att_buf_append(&resp->body, big, sizeof(big));
        return;
    }
    if (strcmp(req->url, "/badstatus") == 0) {
        resp->status = 42;
        return;
    }
    assert_non_null(req->body);
    resp->status = 200;
    (void)att_buf_printf(&resp->body,
                         "method=%s\nurl=%s\nx=%s\ny=%s\nauth=%s\nct=%s\ncn=%s\nlen=%zu\nbody=",
                         req->method, req->url, or_null(att_http_request_query(req, "x")),
                         or_null(att_http_request_query(req, "y")), or_null(req->authorization),
                         or_null(req->content_type), or_null(req->peer_cn), req->body_len);
    (void)att_buf_append(&resp->body, req->body, req->body_len);
}

static void error_fn(void *ctx, unsigned status, const char *message,
                     struct att_http_response *resp)
{
    struct srv *s = ctx;

    atomic_fetch_add(&s->error_calls, 1);
    resp->status = status;
    resp->content_type = "application/json";
    (void)att_buf_printf(&resp->body, "{\"error\":\"%s\"}", message);
}

static att_rc srv_start(struct srv *s, const char *host, const struct att_tls_server_config *tls,
                        unsigned threads)
{
    struct att_httpd_config cfg;
    char listen[96];
    att_rc rc;
    bool is_v6 = strchr(host, ':') != NULL;

    memset(s, 0, sizeof(*s));
    (void)snprintf(listen, sizeof(listen), is_v6 ? "[%s]:0" : "%s:0", host);
    memset(&cfg, 0, sizeof(cfg));
    cfg.listen = listen;
    cfg.tls = tls;
    cfg.max_body = MAX_BODY;
    cfg.threads = threads;
    cfg.handler = handler;
    cfg.error = error_fn;
    cfg.ctx = s;
    rc = att_httpd_start(&cfg, &s->h);
    if (rc == ATT_OK) {
        (void)snprintf(s->url, sizeof(s->url), is_v6 ? "%s://[%s]:%u" : "%s://%s:%u",
                       tls != NULL ? "https" : "http", host, (unsigned)att_httpd_port(s->h));
    }
    return rc;
}

static void srv_stop(struct srv *s)
{
    att_httpd_stop(s->h);
    s->h = NULL;
}

/* ---- client helpers ---------------------------------------------------- */

struct reply {
    att_rc rc;
    long status;
    struct att_buf body;
    char err[ERR_LEN];
};

static void request(struct reply *r, const struct att_tls_client_config *tls, const char *method,
                    const char *url, const char *ct, const char *bearer, const void *body,
                    size_t body_len, size_t max)
{
    att_buf_init(&r->body, max);
    r->rc = att_httpc_request(tls, method, url, ct, bearer, body, body_len, TIMEOUT_S, &r->body,
                              &r->status, r->err, sizeof(r->err));
}

static void get(struct reply *r, const struct att_tls_client_config *tls, const struct srv *s,
                const char *path)
{
    char url[256];

    (void)snprintf(url, sizeof(url), "%s%s", s->url, path);
    request(r, tls, "GET", url, NULL, NULL, NULL, 0, RESP_MAX);
}

static void assert_has(const char *hay, const char *needle)
{
    if (hay == NULL || strstr(hay, needle) == NULL) {
        print_error("\"%s\" does not contain \"%s\"\n", or_null(hay), needle);
        fail();
    }
}

static const char *text(const struct reply *r)
{
    return r->body.data != NULL ? (const char *)r->body.data : "";
}

/* ---- httpd_start argument checks -------------------------------------- */

static void test_httpd_start_bad_listen(void **state)
{
    static const char *const bad[] = {
        "",        "127.0.0.1",      "127.0.0.1:",    "127.0.0.1:65536", "127.0.0.1:-1",
        ":8080",   "localhost:8080", "::1:8080",      "[::1]8080",       "[::1]:",
        "[]:80",   "[127.0.0.1]:80", "1.2.3:80",      "127.0.0.1:80x",   "127.0.0.1: 80",
        "[::1:80", "300.0.0.1:80",   "127.0.0.1:+80",
    };
    struct att_httpd_config cfg;
    struct att_httpd *h = NULL;
    size_t i;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_body = MAX_BODY;
    cfg.handler = handler;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.listen = bad[i];
        if (att_httpd_start(&cfg, &h) != ATT_ERR_INVALID_ARG) {
            print_error("listen \"%s\" was accepted\n", bad[i]);
            fail();
        }
        assert_null(h);
    }
    assert_int_equal(att_httpd_start(NULL, &h), ATT_ERR_INVALID_ARG);
    cfg.listen = "127.0.0.1:0";
    assert_int_equal(att_httpd_start(&cfg, NULL), ATT_ERR_INVALID_ARG);
    cfg.handler = NULL;
    assert_int_equal(att_httpd_start(&cfg, &h), ATT_ERR_INVALID_ARG);
    cfg.handler = handler;
    cfg.max_body = 0;
    assert_int_equal(att_httpd_start(&cfg, &h), ATT_ERR_INVALID_ARG);
    assert_null(h);
    att_httpd_stop(NULL);
    assert_int_equal(att_httpd_port(NULL), 0);
}

static void test_httpd_start_missing_tls_files(void **state)
{
    struct att_tls_server_config tls = {g_pki.agent_pem, g_pki.missing, NULL};
    struct srv s;

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_NOT_FOUND);
    assert_null(s.h);
    tls.cert_file = g_pki.missing;
    tls.key_file = g_pki.agent_key;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_NOT_FOUND);
    tls.cert_file = g_pki.agent_pem;
    tls.client_ca_file = g_pki.missing;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_NOT_FOUND);
    tls.client_ca_file = NULL;
    tls.key_file = NULL;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_INVALID_ARG);
}

static void test_httpd_start_unusable_tls_files(void **state)
{
    struct att_tls_server_config tls = {g_pki.agent_pem, g_pki.cli_key, NULL};
    struct srv s;

    (void)state;
    /* A key that is not the certificate's. */
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_PARSE);
    /* Garbage PEM as certificate, and as the client CA. */
    tls.cert_file = g_pki.garbage;
    tls.key_file = g_pki.agent_key;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_PARSE);
    tls.cert_file = g_pki.agent_pem;
    tls.client_ca_file = g_pki.garbage;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_PARSE);
    /* A key file used as the client CA holds no certificate. */
    tls.client_ca_file = g_pki.agent_key;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_ERR_PARSE);
    assert_null(s.h);
}

static void test_httpd_start_port_in_use(void **state)
{
    struct srv a;
    struct att_httpd_config cfg;
    struct att_httpd *h = NULL;
    char listen[64];

    (void)state;
    assert_int_equal(srv_start(&a, "127.0.0.1", NULL, 1), ATT_OK);
    memset(&cfg, 0, sizeof(cfg));
    (void)snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)att_httpd_port(a.h));
    cfg.listen = listen;
    cfg.max_body = MAX_BODY;
    cfg.handler = handler;
    assert_int_equal(att_httpd_start(&cfg, &h), ATT_ERR_IO);
    assert_null(h);
    srv_stop(&a);
}

static void test_httpd_start_port0_reports_port(void **state)
{
    struct srv s;
    struct reply r;

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    assert_true(att_httpd_port(s.h) > 0);
    get(&r, NULL, &s, "/");
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 200);
    att_buf_cleanup(&r.body);
    srv_stop(&s);
}

/* ---- plain HTTP -------------------------------------------------------- */

static void test_http_get_query_and_authorization(void **state)
{
    struct srv s;
    struct reply r;
    char url[256];

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    (void)snprintf(url, sizeof(url), "%s/v1/thing?x=1&y=two%%20words", s.url);
    request(&r, NULL, "GET", url, NULL, "tok.en-123", NULL, 0, RESP_MAX);
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.err, "");
    assert_has(text(&r), "method=GET\n");
    assert_has(text(&r), "url=/v1/thing\n");
    assert_has(text(&r), "x=1\n");
    assert_has(text(&r), "y=two words\n");
    assert_has(text(&r), "auth=Bearer tok.en-123\n");
    assert_has(text(&r), "cn=(null)\n");
    assert_has(text(&r), "len=0\n");
    att_buf_cleanup(&r.body);

    /* No token, no query: both absent. */
    get(&r, NULL, &s, "/plain");
    assert_int_equal(r.rc, ATT_OK);
    assert_has(text(&r), "x=(null)\n");
    assert_has(text(&r), "auth=(null)\n");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.error_calls), 0);
    srv_stop(&s);
}

static void test_http_post_put_delete_bodies(void **state)
{
    static const uint8_t bin[] = {'a', 0, 'b', 0xff, '\n', 'c'};
    static const char *const methods[] = {"POST", "PUT", "DELETE"};
    struct srv s;
    struct reply r;
    char url[256];
    char want[64];
    size_t i;
    const char *body;

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    (void)snprintf(url, sizeof(url), "%s/v1/echo", s.url);
    for (i = 0; i < 3; i++) {
        request(&r, NULL, methods[i], url, "application/cbor", NULL, bin, sizeof(bin), RESP_MAX);
        assert_int_equal(r.rc, ATT_OK);
        assert_int_equal(r.status, 200);
        (void)snprintf(want, sizeof(want), "method=%s\n", methods[i]);
        assert_has(text(&r), want);
        assert_has(text(&r), "ct=application/cbor\n");
        assert_has(text(&r), "len=6\n");
        body = strstr(text(&r), "body=");
        assert_non_null(body);
        body += 5;
        assert_int_equal(r.body.len - (size_t)(body - text(&r)), sizeof(bin));
        assert_memory_equal(body, bin, sizeof(bin));
        att_buf_cleanup(&r.body);
    }
    /* An empty POST and a DELETE without body; no Content-Type invented. */
    request(&r, NULL, "POST", url, NULL, NULL, NULL, 0, RESP_MAX);
    assert_int_equal(r.rc, ATT_OK);
    assert_has(text(&r), "len=0\n");
    assert_has(text(&r), "ct=(null)\n");
    att_buf_cleanup(&r.body);
    request(&r, NULL, "DELETE", url, NULL, NULL, NULL, 0, RESP_MAX);
    assert_int_equal(r.rc, ATT_OK);
    assert_has(text(&r), "method=DELETE\n");
    att_buf_cleanup(&r.body);
    /* Exactly max_body is allowed. */
    {
        uint8_t full[MAX_BODY];

        memset(full, 'z', sizeof(full));
        request(&r, NULL, "POST", url, NULL, NULL, full, sizeof(full), RESP_MAX);
        assert_int_equal(r.rc, ATT_OK);
        assert_int_equal(r.status, 200);
        assert_has(text(&r), "len=1024\n");
        att_buf_cleanup(&r.body);
    }
    srv_stop(&s);
}

static void test_http_body_too_large_413(void **state)
{
    static const size_t sizes[] = {MAX_BODY + 1, 4096, 2u << 20};
    struct srv s;
    struct reply r;
    char url[256];
    uint8_t *big;
    size_t i;

    (void)state;
    big = calloc(1, 2u << 20);
    assert_non_null(big);
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    (void)snprintf(url, sizeof(url), "%s/v1/echo", s.url);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        request(&r, NULL, "POST", url, "application/cbor", NULL, big, sizes[i], RESP_MAX);
        if (r.rc != ATT_OK) {
            print_error("%zu-byte body: %s (%s)\n", sizes[i], att_rc_str(r.rc), r.err);
        }
        assert_int_equal(r.rc, ATT_OK);
        assert_int_equal(r.status, 413);
        assert_has(text(&r), "{\"error\":\"request body exceeds the limit of 1024 bytes\"}");
        att_buf_cleanup(&r.body);
    }
    assert_int_equal(atomic_load(&s.handler_calls), 0);
    assert_int_equal(atomic_load(&s.error_calls), sizeof(sizes) / sizeof(sizes[0]));
    srv_stop(&s);
    free(big);
}

/* curl read callback: hands out *left bytes of 'q' in 100-byte pieces. */
static size_t chunk_reader(char *buf, size_t size, size_t nitems, void *userdata)
{
    size_t *left = userdata;
    size_t n = size * nitems;

    if (n > 100) {
        n = 100;
    }
    if (n > *left) {
        n = *left;
    }
    memset(buf, 'q', n);
    *left -= n;
    return n;
}

static size_t into_buf(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return att_buf_append(userdata, ptr, size * nmemb) == ATT_OK ? size * nmemb : 0;
}

/* A chunked upload declares no length: the cap is enforced while streaming. */
static void test_http_chunked_body_too_large_413(void **state)
{
    struct srv s;
    CURL *c;
    struct curl_slist *hdr = NULL;
    struct att_buf out;
    char url[256];
    size_t left = 5000;
    long status = 0;

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    (void)snprintf(url, sizeof(url), "%s/v1/echo", s.url);
    att_buf_init(&out, RESP_MAX);
    c = curl_easy_init();
    assert_non_null(c);
    assert_int_equal(att_httpc_setup(c, NULL, TIMEOUT_S), ATT_OK);
    hdr = curl_slist_append(hdr, "Transfer-Encoding: chunked");
    assert_non_null(hdr);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, url), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_POST, 1L), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_READFUNCTION, chunk_reader), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_READDATA, &left), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, into_buf), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEDATA, &out), CURLE_OK);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
    assert_int_equal(status, 413);
    assert_int_equal(left, 0);
    assert_int_equal(atomic_load(&s.handler_calls), 0);
    assert_int_equal(atomic_load(&s.error_calls), 1);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    att_buf_cleanup(&out);
    srv_stop(&s);
}

static void test_http_handler_404_and_bad_status(void **state)
{
    struct srv s;
    struct reply r;

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    get(&r, NULL, &s, "/404");
    assert_int_equal(r.rc, ATT_OK); /* a 4xx is an answer, not a transport error */
    assert_int_equal(r.status, 404);
    assert_string_equal(text(&r), "nothing here\n");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.error_calls), 0);

    get(&r, NULL, &s, "/badstatus");
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 500);
    assert_string_equal(text(&r), "{\"error\":\"internal error\"}");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.error_calls), 1);
    srv_stop(&s);
}

static void test_http_ipv6_and_thread_pool(void **state)
{
    struct srv s;
    struct reply r;
    int i;

    (void)state;
    assert_int_equal(srv_start(&s, "::1", NULL, 4), ATT_OK);
    assert_has(s.url, "http://[::1]:");
    for (i = 0; i < 8; i++) {
        get(&r, NULL, &s, "/v6?x=6");
        assert_int_equal(r.rc, ATT_OK);
        assert_int_equal(r.status, 200);
        assert_has(text(&r), "x=6\n");
        att_buf_cleanup(&r.body);
    }
    assert_int_equal(atomic_load(&s.handler_calls), 8);
    srv_stop(&s);
}

/* ---- client behaviour ------------------------------------------------- */

static void test_httpc_request_bad_args(void **state)
{
    struct att_buf b;
    long status = -1;
    char err[ERR_LEN];
    static const uint8_t one = 1;

    (void)state;
    att_buf_init(&b, 16);
    assert_int_equal(att_httpc_request(NULL, "PATCH", "http://127.0.0.1:1/", NULL, NULL, NULL, 0, 1,
                                       &b, &status, err, sizeof(err)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(status, 0);
    assert_true(err[0] != '\0');
    assert_int_equal(att_httpc_request(NULL, "GET", "http://127.0.0.1:1/", NULL, NULL, &one, 1, 1,
                                       &b, &status, err, sizeof(err)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_httpc_request(NULL, "GET", "http://127.0.0.1:1/", NULL, "a\r\nX-Evil: 1",
                                       NULL, 0, 1, &b, &status, err, sizeof(err)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_httpc_request(NULL, "POST", "http://127.0.0.1:1/", "text/plain\nX: y",
                                       NULL, &one, 1, 1, &b, &status, err, sizeof(err)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(
        att_httpc_request(NULL, "GET", NULL, NULL, NULL, NULL, 0, 1, &b, &status, err, sizeof(err)),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(att_httpc_request(NULL, "GET", "http://127.0.0.1:1/", NULL, NULL, NULL, 0, 1,
                                       NULL, &status, err, sizeof(err)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_httpc_setup(NULL, NULL, 1), ATT_ERR_INVALID_ARG);
    assert_null(b.data);
}

static void test_httpc_refused_protocol_and_unreachable(void **state)
{
    struct srv s;
    struct reply r;
    char url[128];
    uint16_t port;

    (void)state;
    /* A port that was just free: nothing listens there now. */
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    port = att_httpd_port(s.h);
    srv_stop(&s);
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);
    request(&r, NULL, "GET", url, NULL, NULL, NULL, 0, RESP_MAX);
    assert_int_equal(r.rc, ATT_ERR_IO);
    assert_int_equal(r.status, 0);
    assert_has(r.err, "onnect");
    att_buf_cleanup(&r.body);

    request(&r, NULL, "GET", "file:///etc/passwd", NULL, NULL, NULL, 0, RESP_MAX);
    assert_int_equal(r.rc, ATT_ERR_IO);
    assert_has(r.err, "nsupported protocol");
    assert_null(r.body.data);
    att_buf_cleanup(&r.body);
}

static void test_httpc_response_too_large(void **state)
{
    struct srv s;
    struct reply r;
    char url[256];

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    (void)snprintf(url, sizeof(url), "%s/big", s.url);
    request(&r, NULL, "GET", url, NULL, NULL, NULL, 0, 999);
    assert_int_equal(r.rc, ATT_ERR_PARSE);
    assert_has(r.err, "larger than 999 bytes");
    att_buf_cleanup(&r.body);
    request(&r, NULL, "GET", url, NULL, NULL, NULL, 0, 1000);
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.body.len, 1000);
    att_buf_cleanup(&r.body);
    srv_stop(&s);
}

static void test_httpc_timeout(void **state)
{
    struct srv s;
    struct att_buf b;
    long status = -1;
    char url[256];
    char err[ERR_LEN];

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    (void)snprintf(url, sizeof(url), "%s/slow", s.url);
    att_buf_init(&b, RESP_MAX);
    assert_int_equal(
        att_httpc_request(NULL, "GET", url, NULL, NULL, NULL, 0, 1, &b, &status, err, sizeof(err)),
        ATT_ERR_TIMEOUT);
    assert_int_equal(status, 0);
    assert_has(err, "imeout");
    att_buf_cleanup(&b);
    srv_stop(&s); /* waits for the sleeping handler */
}

/* ---- HTTPS with mTLS --------------------------------------------------- */

static void mtls_server(struct srv *s, const char *host)
{
    static struct att_tls_server_config tls;

    tls.cert_file = g_pki.agent_pem;
    tls.key_file = g_pki.agent_key;
    tls.client_ca_file = g_pki.ca1;
    assert_int_equal(srv_start(s, host, &tls, 1), ATT_OK);
    assert_has(s->url, "https://");
}

static void test_https_mtls_fleet_client_gets_peer_cn(void **state)
{
    struct att_tls_client_config verifier = {g_pki.ca1, g_pki.verifier_pem, g_pki.verifier_key};
    struct att_tls_client_config cli = {g_pki.ca1, g_pki.cli_pem, g_pki.cli_key};
    struct srv s;
    struct reply r;
    char url[256];
    static const char body[] = "payload";

    (void)state;
    mtls_server(&s, "127.0.0.1");
    (void)snprintf(url, sizeof(url), "%s/v1/evidence?x=7", s.url);
    request(&r, &verifier, "POST", url, "application/cbor", "t0k", body, 7, RESP_MAX);
    if (r.rc != ATT_OK) {
        print_error("%s: %s\n", att_rc_str(r.rc), r.err);
    }
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 200);
    assert_has(text(&r), "cn=verifier\n");
    assert_has(text(&r), "x=7\n");
    assert_has(text(&r), "auth=Bearer t0k\n");
    assert_has(text(&r), "body=payload");
    att_buf_cleanup(&r.body);

    get(&r, &cli, &s, "/v1/health");
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 200);
    assert_has(text(&r), "cn=cli\n");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.handler_calls), 2);
    assert_int_equal(atomic_load(&s.error_calls), 0);
    srv_stop(&s);
}

/*
 * MHD 0.9.75 sets GNUTLS_CERT_REQUEST (not REQUIRE) when given a client CA,
 * so the handshake completes without a client certificate; the refusal is
 * ours, always a 403 from cfg->error, never a TLS failure.
 */
static void test_https_mtls_no_client_cert_403(void **state)
{
    struct att_tls_client_config anon = {g_pki.ca1, NULL, NULL};
    struct srv s;
    struct reply r;
    char url[256];
    static const char body[] = "x";

    (void)state;
    mtls_server(&s, "127.0.0.1");
    get(&r, &anon, &s, "/v1/health");
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 403);
    assert_string_equal(text(&r), "{\"error\":\"client certificate required\"}");
    att_buf_cleanup(&r.body);
    /* With a body, too: refused before the body is read. */
    (void)snprintf(url, sizeof(url), "%s/v1/evidence", s.url);
    request(&r, &anon, "POST", url, "application/cbor", NULL, body, 1, RESP_MAX);
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 403);
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.handler_calls), 0);
    assert_int_equal(atomic_load(&s.error_calls), 2);
    srv_stop(&s);
}

static void test_https_mtls_other_ca_client_cert_403(void **state)
{
    struct att_tls_client_config rogue = {g_pki.ca1, g_pki.rogue_pem, g_pki.rogue_key};
    struct srv s;
    struct reply r;

    (void)state;
    mtls_server(&s, "127.0.0.1");
    get(&r, &rogue, &s, "/v1/health");
    if (r.rc != ATT_OK) {
        print_error("%s: %s\n", att_rc_str(r.rc), r.err);
    }
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 403);
    assert_string_equal(text(&r), "{\"error\":\"client certificate not trusted: issuer unknown\"}");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.handler_calls), 0);
    srv_stop(&s);
}

/* An agent certificate (serverAuth only) cannot be used to call another daemon. */
static void test_https_mtls_server_only_cert_as_client_403(void **state)
{
    struct att_tls_client_config agent = {g_pki.ca1, g_pki.agent_pem, g_pki.agent_key};
    struct srv s;
    struct reply r;

    (void)state;
    mtls_server(&s, "127.0.0.1");
    get(&r, &agent, &s, "/v1/health");
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 403);
    assert_string_equal(
        text(&r),
        "{\"error\":\"client certificate not trusted: not issued for client authentication\"}");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.handler_calls), 0);
    srv_stop(&s);
}

static void test_https_client_trusts_other_ca(void **state)
{
    struct att_tls_client_config wrong_ca = {g_pki.ca2, g_pki.verifier_pem, g_pki.verifier_key};
    struct att_tls_client_config system_ca = {NULL, g_pki.verifier_pem, g_pki.verifier_key};
    struct srv s;
    struct reply r;

    (void)state;
    mtls_server(&s, "127.0.0.1");
    get(&r, &wrong_ca, &s, "/v1/health");
    assert_int_equal(r.rc, ATT_ERR_IO);
    assert_int_equal(r.status, 0);
    assert_has(r.err, "certificate");
    assert_has(r.err, "issuer");
    assert_null(r.body.data);
    att_buf_cleanup(&r.body);
    /* The OS-wide CA store does not know the fleet CA either. */
    get(&r, &system_ca, &s, "/v1/health");
    assert_int_equal(r.rc, ATT_ERR_IO);
    assert_has(r.err, "certificate");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.handler_calls), 0);
    srv_stop(&s);
}

/*
 * One GET on a caller-owned curl handle (so the connection can be reused
 * and the TLS version pinned); returns the status, 0 on transport errors.
 */
static long curl_get(CURL *c, const char *url, struct att_buf *out, long *n_connects)
{
    long status = 0;

    att_buf_reset(out);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, url), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, into_buf), CURLE_OK);
    assert_int_equal(curl_easy_setopt(c, CURLOPT_WRITEDATA, out), CURLE_OK);
    if (curl_easy_perform(c) != CURLE_OK) {
        return 0;
    }
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
    assert_int_equal(curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, n_connects), CURLE_OK);
    return status;
}

/*
 * The same mTLS decisions over TLS 1.2 (curl prefers 1.3), and on a kept-alive
 * connection every request is checked and sees the peer's CN.
 */
static void test_https_mtls_tls12_and_keepalive(void **state)
{
    struct att_tls_client_config anon = {g_pki.ca1, NULL, NULL};
    struct att_tls_client_config rogue = {g_pki.ca1, g_pki.rogue_pem, g_pki.rogue_key};
    struct att_tls_client_config cli = {g_pki.ca1, g_pki.cli_pem, g_pki.cli_key};
    struct srv s;
    struct att_buf out;
    char url[256];
    long n_connects = -1;
    CURL *c;

    (void)state;
    mtls_server(&s, "127.0.0.1");
    (void)snprintf(url, sizeof(url), "%s/v1/health", s.url);
    att_buf_init(&out, RESP_MAX);

    c = curl_easy_init();
    assert_non_null(c);
    assert_int_equal(att_httpc_setup(c, &anon, TIMEOUT_S), ATT_OK);
    assert_int_equal(
        curl_easy_setopt(c, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2)),
        CURLE_OK);
    assert_int_equal(curl_get(c, url, &out, &n_connects), 403);
    assert_string_equal((const char *)out.data, "{\"error\":\"client certificate required\"}");
    curl_easy_cleanup(c);

    c = curl_easy_init();
    assert_non_null(c);
    assert_int_equal(att_httpc_setup(c, &rogue, TIMEOUT_S), ATT_OK);
    assert_int_equal(
        curl_easy_setopt(c, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2)),
        CURLE_OK);
    assert_int_equal(curl_get(c, url, &out, &n_connects), 403);
    assert_string_equal((const char *)out.data,
                        "{\"error\":\"client certificate not trusted: issuer unknown\"}");
    curl_easy_cleanup(c);
    assert_int_equal(atomic_load(&s.handler_calls), 0);

    c = curl_easy_init();
    assert_non_null(c);
    assert_int_equal(att_httpc_setup(c, &cli, TIMEOUT_S), ATT_OK);
    assert_int_equal(
        curl_easy_setopt(c, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2)),
        CURLE_OK);
    assert_int_equal(curl_get(c, url, &out, &n_connects), 200);
    assert_int_equal(n_connects, 1);
    assert_has((const char *)out.data, "cn=cli\n");
    assert_int_equal(curl_get(c, url, &out, &n_connects), 200);
    assert_int_equal(n_connects, 0); /* the same connection, checked again */
    assert_has((const char *)out.data, "cn=cli\n");
    curl_easy_cleanup(c);
    assert_int_equal(atomic_load(&s.handler_calls), 2);

    att_buf_cleanup(&out);
    srv_stop(&s);
}

/* The fleet certificates name 127.0.0.1, not 127.0.0.2 (also loopback on Linux). */
static void test_https_server_name_not_in_san(void **state)
{
    struct att_tls_client_config verifier = {g_pki.ca1, g_pki.verifier_pem, g_pki.verifier_key};
    struct srv s;
    struct reply r;

    (void)state;
    mtls_server(&s, "127.0.0.2");
    get(&r, &verifier, &s, "/v1/health");
    assert_int_equal(r.rc, ATT_ERR_IO);
    assert_int_equal(r.status, 0);
    assert_has(r.err, "127.0.0.2");
    att_buf_cleanup(&r.body);
    assert_int_equal(atomic_load(&s.handler_calls), 0);
    srv_stop(&s);
}

static void test_https_ipv6_loopback_in_san(void **state)
{
    struct att_tls_client_config verifier = {g_pki.ca1, g_pki.verifier_pem, g_pki.verifier_key};
    struct srv s;
    struct reply r;

    (void)state;
    mtls_server(&s, "::1");
    get(&r, &verifier, &s, "/v1/health");
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 200);
    assert_has(text(&r), "cn=verifier\n");
    att_buf_cleanup(&r.body);
    srv_stop(&s);
}

/* TLS without a client CA: no certificate asked for, peer_cn stays NULL. */
static void test_https_without_client_ca(void **state)
{
    struct att_tls_server_config tls = {g_pki.agent_pem, g_pki.agent_key, NULL};
    struct att_tls_client_config anon = {g_pki.ca1, NULL, NULL};
    struct att_tls_client_config verifier = {g_pki.ca1, g_pki.verifier_pem, g_pki.verifier_key};
    struct srv s;
    struct reply r;

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", &tls, 1), ATT_OK);
    get(&r, &anon, &s, "/");
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 200);
    assert_has(text(&r), "cn=(null)\n");
    att_buf_cleanup(&r.body);
    get(&r, &verifier, &s, "/");
    assert_int_equal(r.rc, ATT_OK);
    assert_has(text(&r), "cn=(null)\n");
    att_buf_cleanup(&r.body);
    srv_stop(&s);
}

/*
 * A raw GnuTLS client handshake limited to @p priority against 127.0.0.1:
 * the GnuTLS return code (0 on success).
 */
static int handshake(uint16_t port, const char *priority)
{
    gnutls_session_t sess = NULL;
    gnutls_certificate_credentials_t cred = NULL;
    struct sockaddr_in sa;
    int fd;
    int grc;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
    assert_int_equal(gnutls_init(&sess, GNUTLS_CLIENT), 0);
    assert_int_equal(gnutls_priority_set_direct(sess, priority, NULL), 0);
    assert_int_equal(gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, cred), 0);
    gnutls_transport_set_int(sess, fd);
    gnutls_handshake_set_timeout(sess, 5000);
    do {
        grc = gnutls_handshake(sess);
    } while (grc < 0 && gnutls_error_is_fatal(grc) == 0);
    if (grc == 0) {
        (void)gnutls_bye(sess, GNUTLS_SHUT_WR);
    }
    gnutls_deinit(sess);
    gnutls_certificate_free_credentials(cred);
    (void)close(fd);
    return grc;
}

static void test_https_refuses_tls_below_1_2(void **state)
{
    struct srv s;
    uint16_t port;
    int grc;

    (void)state;
    mtls_server(&s, "127.0.0.1");
    port = att_httpd_port(s.h);
    assert_int_equal(handshake(port, "NORMAL:-VERS-ALL:+VERS-TLS1.3"), 0);
    assert_int_equal(handshake(port, "NORMAL:-VERS-ALL:+VERS-TLS1.2"), 0);
    /* The client sends its hello; the server hangs up or alerts. */
    grc = handshake(port, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0");
    if (grc != GNUTLS_E_PREMATURE_TERMINATION && grc != GNUTLS_E_FATAL_ALERT_RECEIVED &&
        grc != GNUTLS_E_UNSUPPORTED_VERSION_PACKET) {
        print_error("TLS 1.1/1.0 handshake: %d %s\n", grc, gnutls_strerror(grc));
        fail();
    }
    srv_stop(&s);
}

/* ---- attest/hmux.h ------------------------------------------------------ */

static void test_hmux_parse_head(void **state)
{
    static const struct {
        const char *head;
        long status;
        int64_t clen;
        int keep;
    } good[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, 5, 1},
        {"HTTP/1.1 404\r\ncontent-length:0\r\n\r\n", 404, 0, 1},
        {"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: Close\r\n\r\n", 200, 7, 0},
        {"HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\n", 200, 7, 0},
        {"HTTP/1.0 200 OK\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\n", 200, 7, 1},
        {"HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n", 200, -1, 0}, /* to EOF */
        {"HTTP/1.1 204 No Content\r\n\r\n", 204, 0, 1},
        {"HTTP/1.1 100 Continue\r\n\r\n", 100, 0, 1},
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 200, 3, 1},
    };
    static const char *const bad[] = {
        "",
        "HTTP/1.1 200 OK\r\n",                                  /* no empty line */
        "HTTP/2 200 OK\r\n\r\n",                                /* not 1.x */
        "HTTP/1.1 20 OK\r\n\r\n",                               /* two digits */
        "HTTP/1.1 600 Odd\r\n\r\n",                             /* out of range */
        "HTTP/1.1 200 OK\nContent-Length: 1\n\n",               /* bare LF */
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",        /* not a number */
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",        /* negative */
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", /* not supported */
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\nextra",
    };
    char why[128];
    long status;
    int64_t clen;
    int keep;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        why[0] = '\0';
        if (att_hmux_parse_head(good[i].head, strlen(good[i].head), &status, &clen, &keep, why,
                                sizeof(why)) != ATT_OK) {
            print_error("good head %zu refused: %s\n", i, why);
            fail();
        }
        assert_int_equal(status, good[i].status);
        assert_int_equal(clen, good[i].clen);
        assert_int_equal(keep, good[i].keep);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        if (att_hmux_parse_head(bad[i], strlen(bad[i]), &status, &clen, &keep, why,
                                sizeof(why)) != ATT_ERR_PARSE) {
            print_error("bad head %zu accepted\n", i);
            fail();
        }
        assert_true(why[0] != '\0');
    }
}

/* One request through @p m, driven to its end. */
static void mux_one(struct att_hmux *m, const char *url, const char *method, const void *body,
                    size_t body_len, size_t max, struct reply *r)
{
    struct att_hmux_req q;
    struct att_hmux_req *d = NULL;
    int spins = 0;

    memset(&q, 0, sizeof(q));
    att_buf_init(&r->body, max);
    q.url = url;
    q.method = method;
    q.content_type = body != NULL ? "application/cbor" : NULL;
    q.body = body;
    q.body_len = body_len;
    q.resp = &r->body;
    att_hmux_add(m, &q);
    while ((d = att_hmux_done(m)) == NULL) {
        assert_true(++spins < 1000);
        att_hmux_run(m, 100);
    }
    assert_ptr_equal(d, &q);
    assert_int_equal(att_hmux_pending(m), 0);
    r->rc = q.rc;
    r->status = q.status;
    (void)snprintf(r->err, sizeof(r->err), "%s", q.err);
}

/* One GET through a mux of its own, which must fail with @p rc and say @p why. */
static void mux_refused(const struct att_tls_client_config *tls, long timeout_s, const char *url,
                        size_t max, att_rc rc, const char *why)
{
    struct att_hmux *m = NULL;
    struct reply r;

    assert_int_equal(att_hmux_new(tls, timeout_s, 8, &m), ATT_OK);
    mux_one(m, url, "GET", NULL, 0, max, &r);
    assert_int_equal(r.rc, rc);
    assert_has(r.err, why);
    assert_int_equal(r.body.len, 0);
    att_buf_cleanup(&r.body);
    att_hmux_free(m);
}

/* Many requests at once over mTLS; then one connection carries request after request. */
static void test_hmux_mtls_many_and_reuse(void **state)
{
    struct att_tls_client_config verifier = {g_pki.ca1, g_pki.verifier_pem, g_pki.verifier_key};
    struct att_hmux_req q[12];
    struct att_buf resp[12];
    char url[12][256];
    struct att_hmux *m = NULL;
    struct srv s;
    struct reply r;
    size_t got = 0;
    uint64_t c0;

    (void)state;
    mtls_server(&s, "127.0.0.1");
    assert_int_equal(att_hmux_new(&verifier, TIMEOUT_S, 64, &m), ATT_OK);
    memset(q, 0, sizeof(q));
    for (size_t i = 0; i < 12; i++) {
        (void)snprintf(url[i], sizeof(url[i]), "%s/v1/evidence?x=%zu", s.url, i);
        att_buf_init(&resp[i], RESP_MAX);
        q[i].url = url[i];
        q[i].method = "POST";
        q[i].content_type = "application/cbor";
        q[i].body = (const uint8_t *)"payload";
        q[i].body_len = 7;
        q[i].resp = &resp[i];
        att_hmux_add(m, &q[i]);
    }
    assert_int_equal(att_hmux_pending(m), 12);
    for (int spins = 0; got < 12; spins++) {
        struct att_hmux_req *d;

        assert_true(spins < 2000);
        att_hmux_run(m, 100);
        while ((d = att_hmux_done(m)) != NULL) {
            char want[32];
            size_t i = (size_t)(d - q);

            if (d->rc != ATT_OK) {
                print_error("request %zu: %s: %s\n", i, att_rc_str(d->rc), d->err);
            }
            assert_int_equal(d->rc, ATT_OK);
            assert_int_equal(d->status, 200);
            assert_non_null(resp[i].data);
            assert_true(att_buf_append(&resp[i], "", 1) == ATT_OK);
            (void)snprintf(want, sizeof(want), "x=%zu\n", i);
            assert_has((const char *)resp[i].data, want);
            assert_has((const char *)resp[i].data, "cn=verifier\n");
            assert_has((const char *)resp[i].data, "ct=application/cbor\n");
            assert_has((const char *)resp[i].data, "body=payload");
            got++;
        }
    }
    assert_int_equal(atomic_load(&s.handler_calls), 12);
    assert_true(att_hmux_idle(m) >= 1);
    assert_true(att_hmux_connects(m) >= 1 && att_hmux_connects(m) <= 12);
    for (size_t i = 0; i < 12; i++) {
        att_buf_cleanup(&resp[i]);
    }

    /* one after another: no new connection, each answer whole */
    c0 = att_hmux_connects(m);
    for (int i = 0; i < 5; i++) {
        (void)snprintf(url[0], sizeof(url[0]), "%s/big", s.url);
        mux_one(m, url[0], "GET", NULL, 0, RESP_MAX, &r);
        assert_int_equal(r.rc, ATT_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body.len, 1000);
        att_buf_cleanup(&r.body);
    }
    assert_int_equal(att_hmux_connects(m), c0);
    (void)snprintf(url[0], sizeof(url[0]), "%s/404", s.url);
    mux_one(m, url[0], "GET", NULL, 0, RESP_MAX, &r);
    assert_int_equal(r.rc, ATT_OK);
    assert_int_equal(r.status, 404);
    att_buf_cleanup(&r.body);
    assert_int_equal(att_hmux_connects(m), c0);

    /* The server goes: the kept connection is found dead, a new one is refused. */
    srv_stop(&s);
    (void)snprintf(url[0], sizeof(url[0]), "%s/v1/health", s.url);
    mux_one(m, url[0], "GET", NULL, 0, RESP_MAX, &r);
    assert_int_equal(r.rc, ATT_ERR_IO);
    assert_int_equal(r.status, 0);
    assert_has(r.err, "cannot connect");
    assert_has(r.err, "refused");
    att_buf_cleanup(&r.body);
    att_hmux_free(m);
}

static void test_hmux_refusals(void **state)
{
    struct att_tls_client_config verifier = {g_pki.ca1, g_pki.verifier_pem, g_pki.verifier_key};
    struct att_tls_client_config wrong_ca = {g_pki.ca2, g_pki.verifier_pem, g_pki.verifier_key};
    struct att_tls_client_config missing = {g_pki.missing, NULL, NULL};
    static const char *const bad_urls[] = {
        "ftp://127.0.0.1/", "https://", "https://h:0/", "https://h:65536/", "https://h:8x/",
        "https://u@h/",     "https://[::1/", "https://h/a b", "127.0.0.1:80/",
    };
    struct att_hmux *m = NULL;
    struct srv s;
    struct srv s2;
    struct reply r;
    char url[256];

    (void)state;
    assert_int_equal(att_hmux_new(&verifier, 0, 8, &m), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_hmux_new(&verifier, TIMEOUT_S, 8, &m), ATT_OK);
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        mux_one(m, bad_urls[i], "GET", NULL, 0, RESP_MAX, &r);
        assert_int_equal(r.rc, ATT_ERR_INVALID_ARG);
        assert_true(r.err[0] != '\0');
        att_buf_cleanup(&r.body);
    }
    att_hmux_free(m);
    mtls_server(&s, "127.0.0.1");
    mtls_server(&s2, "127.0.0.2");
    /* an answer larger than the caller allows */
    (void)snprintf(url, sizeof(url), "%s/big", s.url);
    mux_refused(&verifier, TIMEOUT_S, url, 999, ATT_ERR_PARSE, "more than the 999");
    /* a certificate for another name */
    (void)snprintf(url, sizeof(url), "%s/v1/health", s2.url);
    mux_refused(&verifier, TIMEOUT_S, url, RESP_MAX, ATT_ERR_IO,
                "TLS handshake with 127.0.0.2:");
    mux_refused(&verifier, TIMEOUT_S, url, RESP_MAX, ATT_ERR_IO, "IP address mismatch");
    /* a CA that did not sign the server */
    (void)snprintf(url, sizeof(url), "%s/v1/health", s.url);
    mux_refused(&wrong_ca, TIMEOUT_S, url, RESP_MAX, ATT_ERR_IO, "certificate verify failed");
    /* a CA file that is not there: said at the first https request */
    mux_refused(&missing, TIMEOUT_S, url, RESP_MAX, ATT_ERR_IO, "CA file");
    /* a server that does not answer in time */
    (void)snprintf(url, sizeof(url), "%s/slow", s.url);
    mux_refused(&verifier, 1, url, RESP_MAX, ATT_ERR_TIMEOUT, "timed out after 1 s");
    assert_int_equal(atomic_load(&s2.handler_calls), 0);
    srv_stop(&s2);
    srv_stop(&s);
}

/*
 * A raw HTTP server on loopback for what MHD never does. Each accepted
 * connection plays the next script: answer (or not) the requests on it.
 */
struct raw_srv {
    int fd;
    uint16_t port;
    pthread_t th;
};

/* Read one request head (our requests here carry no body). */
static bool raw_read_request(int c)
{
    char buf[4096];
    size_t len = 0;

    while (len < sizeof(buf)) {
        ssize_t n = read(c, buf + len, sizeof(buf) - len);

        if (n <= 0) {
            return false;
        }
        len += (size_t)n;
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0) {
            return true;
        }
    }
    return false;
}

static void raw_write(int c, const char *s)
{
    size_t len = strlen(s);

    assert_int_equal(write(c, s, len), (ssize_t)len);
}

static void *raw_main(void *arg)
{
    struct raw_srv *r = arg;
    int c;

    /* 1: one answer kept alive; the next request is read and the
     *    connection closed without an answer (a restart between rounds) */
    c = accept(r->fd, NULL, NULL);
    if (c >= 0 && raw_read_request(c)) {
        raw_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        (void)raw_read_request(c);
    }
    (void)close(c);
    /* 2: the retry on a new connection gets its answer */
    c = accept(r->fd, NULL, NULL);
    if (c >= 0 && raw_read_request(c)) {
        raw_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain");
        /* 3: on the same connection: a head that is not HTTP */
        if (raw_read_request(c)) {
            raw_write(c, "HTTP/1.1 2OO OK\r\n\r\n");
        }
    }
    (void)close(c);
    /* 4: fewer bytes than announced, then the close */
    c = accept(r->fd, NULL, NULL);
    if (c >= 0 && raw_read_request(c)) {
        raw_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    }
    (void)close(c);
    /* 5: a body delimited by the close; the connection is not kept */
    c = accept(r->fd, NULL, NULL);
    if (c >= 0 && raw_read_request(c)) {
        raw_write(c, "HTTP/1.0 200 OK\r\n\r\nuntil the end");
    }
    (void)close(c);
    /* 6: an interim 100 before the answer; then, on the same connection,
     *    a head longer than the 8 KiB allowed */
    c = accept(r->fd, NULL, NULL);
    if (c >= 0 && raw_read_request(c)) {
        raw_write(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        if (raw_read_request(c)) {
            static char pad[9000];

            memset(pad, 'a', sizeof(pad) - 1);
            raw_write(c, "HTTP/1.1 200 OK\r\nX-Pad: ");
            raw_write(c, pad);
        }
    }
    (void)close(c);
    /* 7: a body delimited by the close, larger than the caller allows */
    c = accept(r->fd, NULL, NULL);
    if (c >= 0 && raw_read_request(c)) {
        raw_write(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nmore than four");
    }
    (void)close(c);
    return NULL;
}

static void test_hmux_retry_and_bad_answers(void **state)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    struct raw_srv r;
    struct att_hmux *m = NULL;
    struct reply rep;
    char url[128];

    (void)state;
    r.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(r.fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(r.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(r.fd, 8), 0);
    assert_int_equal(getsockname(r.fd, (struct sockaddr *)&sa, &sl), 0);
    r.port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&r.th, NULL, raw_main, &r), 0);
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)r.port);
    assert_int_equal(att_hmux_new(NULL, TIMEOUT_S, 8, &m), ATT_OK);

    mux_one(m, url, "GET", NULL, 0, RESP_MAX, &rep);
    assert_int_equal(rep.rc, ATT_OK);
    assert_int_equal(rep.body.len, 2);
    att_buf_cleanup(&rep.body);
    assert_int_equal(att_hmux_idle(m), 1);
    /* closed without an answer on the kept connection: sent again on a new one */
    mux_one(m, url, "GET", NULL, 0, RESP_MAX, &rep);
    if (rep.rc != ATT_OK) {
        print_error("%s: %s\n", att_rc_str(rep.rc), rep.err);
    }
    assert_int_equal(rep.rc, ATT_OK);
    assert_int_equal(rep.status, 200);
    assert_memory_equal(rep.body.data, "again", 5);
    att_buf_cleanup(&rep.body);
    assert_int_equal(att_hmux_connects(m), 2);
    /* a bad head: refused, never retried (an answer began) */
    mux_one(m, url, "GET", NULL, 0, RESP_MAX, &rep);
    assert_int_equal(rep.rc, ATT_ERR_PARSE);
    assert_has(rep.err, "bad HTTP head");
    att_buf_cleanup(&rep.body);
    assert_int_equal(att_hmux_idle(m), 0);
    mux_one(m, url, "GET", NULL, 0, RESP_MAX, &rep);
    assert_int_equal(rep.rc, ATT_ERR_IO);
    assert_has(rep.err, "before the whole answer came");
    att_buf_cleanup(&rep.body);
    mux_one(m, url, "GET", NULL, 0, RESP_MAX, &rep);
    assert_int_equal(rep.rc, ATT_OK);
    assert_int_equal(rep.body.len, 13);
    assert_memory_equal(rep.body.data, "until the end", 13);
    att_buf_cleanup(&rep.body);
    assert_int_equal(att_hmux_idle(m), 0);
    assert_int_equal(att_hmux_connects(m), 4);
    /* an interim response is skipped; the connection is kept */
    mux_one(m, url, "GET", NULL, 0, RESP_MAX, &rep);
    assert_int_equal(rep.rc, ATT_OK);
    assert_int_equal(rep.status, 200);
    assert_memory_equal(rep.body.data, "ok", 2);
    att_buf_cleanup(&rep.body);
    assert_int_equal(att_hmux_idle(m), 1);
    mux_one(m, url, "GET", NULL, 0, RESP_MAX, &rep);
    assert_int_equal(rep.rc, ATT_ERR_PARSE);
    assert_has(rep.err, "head over 8192 bytes");
    att_buf_cleanup(&rep.body);
    mux_one(m, url, "GET", NULL, 0, 4, &rep);
    assert_int_equal(rep.rc, ATT_ERR_PARSE);
    assert_has(rep.err, "more than the 4 bytes allowed");
    att_buf_cleanup(&rep.body);
    assert_int_equal(att_hmux_connects(m), 6);
    assert_int_equal(pthread_join(r.th, NULL), 0);
    (void)close(r.fd);
    att_hmux_free(m);
}

/* Plain HTTP (an --insecure-dev agent) over the same mux. */
static void test_hmux_plain_http(void **state)
{
    struct att_hmux *m = NULL;
    struct srv s;
    struct reply r;
    char url[256];
    static const uint8_t bin[] = {'a', 0, 'b', 0xff};

    (void)state;
    assert_int_equal(srv_start(&s, "127.0.0.1", NULL, 1), ATT_OK);
    assert_int_equal(att_hmux_new(NULL, TIMEOUT_S, 8, &m), ATT_OK);
    (void)snprintf(url, sizeof(url), "%s/echo", s.url);
    for (int i = 0; i < 3; i++) {
        mux_one(m, url, "POST", bin, sizeof(bin), RESP_MAX, &r);
        assert_int_equal(r.rc, ATT_OK);
        assert_int_equal(r.status, 200);
        assert_true(r.body.len >= 4);
        assert_memory_equal(r.body.data + r.body.len - 4, bin, 4);
        att_buf_cleanup(&r.body);
    }
    assert_int_equal(att_hmux_connects(m), 1);
    att_hmux_free(m);
    srv_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpd_start_bad_listen),
        cmocka_unit_test(test_httpd_start_missing_tls_files),
        cmocka_unit_test(test_httpd_start_unusable_tls_files),
        cmocka_unit_test(test_httpd_start_port_in_use),
        cmocka_unit_test(test_httpc_request_bad_args),
        cmocka_unit_test(test_httpc_refused_protocol_and_unreachable),
        cmocka_unit_test(test_http_body_too_large_413),
        cmocka_unit_test(test_http_chunked_body_too_large_413),
        cmocka_unit_test(test_https_mtls_no_client_cert_403),
        cmocka_unit_test(test_https_mtls_other_ca_client_cert_403),
        cmocka_unit_test(test_https_mtls_server_only_cert_as_client_403),
        cmocka_unit_test(test_https_mtls_tls12_and_keepalive),
        cmocka_unit_test(test_https_client_trusts_other_ca),
        cmocka_unit_test(test_https_server_name_not_in_san),
        cmocka_unit_test(test_https_refuses_tls_below_1_2),
        cmocka_unit_test(test_httpc_response_too_large),
        cmocka_unit_test(test_httpc_timeout),
        cmocka_unit_test(test_httpd_start_port0_reports_port),
        cmocka_unit_test(test_http_get_query_and_authorization),
        cmocka_unit_test(test_http_post_put_delete_bodies),
        cmocka_unit_test(test_http_handler_404_and_bad_status),
        cmocka_unit_test(test_http_ipv6_and_thread_pool),
        cmocka_unit_test(test_https_mtls_fleet_client_gets_peer_cn),
        cmocka_unit_test(test_https_ipv6_loopback_in_san),
        cmocka_unit_test(test_https_without_client_ca),
        cmocka_unit_test(test_hmux_parse_head),
        cmocka_unit_test(test_hmux_mtls_many_and_reuse),
        cmocka_unit_test(test_hmux_refusals),
        cmocka_unit_test(test_hmux_plain_http),
        cmocka_unit_test(test_hmux_retry_and_bad_answers),
    };

    (void)signal(SIGPIPE, SIG_IGN); /* as the daemons do: a peer's close is an error, not a death */

    att_log_set_level(ATT_LOG_ERR); /* refusals log at WARN by design */
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
