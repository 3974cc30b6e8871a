/* SPDX-License-Identifier: Apache-2.0 */
/* Shared result rows of the bench programs (see report.h). */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool bench_report(const char *bench, bool is_quick, const char *json, const char *figure,
                  const char *unit, double ours, double limit, double ratio, const char *op,
                  double target)
{
    bool is_info = op[0] == '\0';
    bool is_pass = is_info || ((op[0] == '>') ? ratio >= target : ratio <= target);
    char tgt[16];
    FILE *f;

    if (is_info) {
        (void)snprintf(tgt, sizeof(tgt), "-");
    } else {
        (void)snprintf(tgt, sizeof(tgt), "%s%.2f", op, target);
    }
    printf("%-34s | %12.1f | %12.1f | %6.3f | %-7s | %s   (%s)\n", figure, ours, limit, ratio, tgt,
           is_info ? "info" : (is_pass ? "pass" : "miss"), unit);
    if (json == NULL) {
        return is_pass;
    }
    f = fopen(json, "a");
    if (f == NULL) {
        fprintf(stderr, "bench_%s: cannot open %s: %s\n", bench, json, strerror(errno));
        return is_pass;
    }
    fprintf(f,
            "{\"bench\":\"%s\",\"figure\":\"%s\",\"unit\":\"%s\",\"ours\":%.3f,"
            "\"limit\":%.3f,\"ratio\":%.4f,\"target\":\"%s\",\"pass\":%s,\"quick\":%s}\n",
            bench, figure, unit, ours, limit, ratio, tgt,
            is_info ? "null" : (is_pass ? "true" : "false"), is_quick ? "true" : "false");
    (void)fclose(f);
    return is_pass;
}
