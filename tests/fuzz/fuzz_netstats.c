/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the network-policy text an agent sends and the
 * verifier reads (attest/netpolicy.h): the evidence's "netstats" lines
 * (att_net_stats_parse, split on '\n' as the verifier's API and the agent's
 * /metrics do), and, per line, the CIDR and DNS-name checks of the rules
 * and att_unescape() of the escaped names in records and state lines.
 * Whatever parses must print back to something that parses the same.
 * Seeds (tests/fuzz/seedgen.c): tests/fuzz/corpus/netstats/.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/buf.h"
#include "attest/netpolicy.h"
#include "attest/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void stats(const char *p, size_t len)
{
    struct att_net_stats a;
    struct att_net_stats b;
    char back[ATT_NET_STATS_LINE_MAX + 2];
    int n;

    if (att_net_stats_parse(p, len, &a) != ATT_OK) {
        return;
    }
    n = snprintf(back, sizeof(back), "%s %" PRIu64 " %" PRIu64 " %s", a.container, a.egress_dropped,
                 a.ingress_dropped, a.ruleset);
    if (n <= 0 || (size_t)n >= sizeof(back) || att_net_stats_parse(back, (size_t)n, &b) != ATT_OK ||
        strcmp(a.container, b.container) != 0 || a.egress_dropped != b.egress_dropped ||
        a.ingress_dropped != b.ingress_dropped || strcmp(a.ruleset, b.ruleset) != 0) {
        abort();
    }
}

static void cidr(const char *s)
{
    struct att_net_rule a;
    struct att_net_rule b;
    char back[64];
    char why[160];

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if (att_net_cidr_parse(s, &a, why, sizeof(why)) != ATT_OK) {
        return;
    }
    att_net_cidr_format(&a, back, sizeof(back));
    if (att_net_cidr_parse(back, &b, NULL, 0) != ATT_OK || a.family != b.family ||
        a.prefix != b.prefix || memcmp(a.addr, b.addr, sizeof(a.addr)) != 0) {
        abort();
    }
}

static void unescape(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    char *out2 = malloc(len + 1);
    struct att_buf again;

    if (out != NULL && out2 != NULL && att_unescape(s, out, len + 1)) {
        /* escaping what came out and unescaping that gives it back */
        att_buf_init(&again, 4 * len + 16);
        if (att_buf_append_escaped(&again, out) != ATT_OK ||
            att_buf_append(&again, "", 1) != ATT_OK ||
            !att_unescape((const char *)again.data, out2, len + 1) || strcmp(out, out2) != 0) {
            abort();
        }
        att_buf_cleanup(&again);
    }
    free(out);
    free(out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *line;
    char *end;

    if (text == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(text, data, size);
    }
    text[size] = '\0';
    for (line = text; line < text + size; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + size - line));
        if (end == NULL) {
            end = text + size;
        }
        stats(line, (size_t)(end - line));
        *end = '\0';
        cidr(line);
        (void)att_net_dns_name_ok(line);
        unescape(line, (size_t)(end - line));
    }
    free(text);
    return 0;
}
