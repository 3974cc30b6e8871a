/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issue 6, figure 4 (memory): what one kept-alive TLS connection costs the
 * verifier before any of attest's own state. libcurl 7.88's OpenSSL backend
 * makes an SSL_CTX for every connection and an SSL on it; both live as long
 * as the connection is kept for reuse. This measures the RSS of K of each
 * (and the CPU of making an SSL_CTX, which reuse saves every round), the
 * floor under the fleet benchmark's memory per host. Informational rows.
 *
 * Usage: bench_tlsmem [--quick] [--json FILE]
 * The OpenSSL calls here are the yardstick, not product code.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "report.h"

#define K_FULL  400
#define K_QUICK 20

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;

    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            char *end = NULL;

            v = strtol(line + 6, &end, 10);
            if (end == line + 6) {
                v = -1;
            }
        }
    }
    (void)fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    bool is_quick = false;
    const char *json = NULL;
    SSL_CTX **ctx;
    SSL **ssl;
    size_t k;
    long r0;
    long r1;
    long r2;
    double t0;
    double t_ctx;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            is_quick = true;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_tlsmem [--quick] [--json FILE]\n");
            return 2;
        }
    }
    k = is_quick ? K_QUICK : K_FULL;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    ctx = calloc(k, sizeof(SSL_CTX *));
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    ssl = calloc(k, sizeof(SSL *));
    if (ctx == NULL || ssl == NULL) {
        fprintf(stderr, "bench_tlsmem: out of memory\n");
        free(ctx);
        free(ssl);
        return 1;
    }
    /* one of each first: what is made once per process is not counted */
    SSL_free(SSL_new(ctx[0] = SSL_CTX_new(TLS_client_method())));
    SSL_CTX_free(ctx[0]);
    r0 = rss_kib();
    t0 = bench_now();
    for (size_t i = 0; i < k; i++) {
        ctx[i] = SSL_CTX_new(TLS_client_method());
        if (ctx[i] == NULL) {
            fprintf(stderr, "bench_tlsmem: SSL_CTX_new failed\n");
            exit(1); /* a benchmark: the process ends here */
        }
    }
    t_ctx = (bench_now() - t0) / (double)k;
    r1 = rss_kib();
    for (size_t i = 0; i < k; i++) {
        ssl[i] = SSL_new(ctx[i]);
        if (ssl[i] == NULL) {
            fprintf(stderr, "bench_tlsmem: SSL_new failed\n");
            exit(1);
        }
    }
    r2 = rss_kib();
    if (r0 < 0 || r1 < 0 || r2 < 0) {
        fprintf(stderr, "bench_tlsmem: cannot read VmRSS\n");
        exit(1);
    }
    printf("%-34s | %12s | %12s | %6s | %-7s | %s\n", "figure", "ours", "limit", "ratio", "target",
           "pass/miss");
    (void)bench_report("tlsmem", is_quick, json, "  per kept connection: SSL_CTX", "KiB",
                       (double)(r1 - r0) / (double)k, 16.0, (double)(r1 - r0) / (double)k / 16.0,
                       "", 0.0);
    (void)bench_report("tlsmem", is_quick, json, "  per kept connection: SSL", "KiB",
                       (double)(r2 - r1) / (double)k, 16.0, (double)(r2 - r1) / (double)k / 16.0,
                       "", 0.0);
    (void)bench_report("tlsmem", is_quick, json, "  SSL_CTX_new CPU (a new connection)", "us",
                       t_ctx * 1e6, 200.0, t_ctx * 1e6 / 200.0, "", 0.0);
    for (size_t i = 0; i < k; i++) {
        SSL_free(ssl[i]);
        SSL_CTX_free(ctx[i]);
    }
    free(ssl);
    free(ctx);
    return 0;
}
