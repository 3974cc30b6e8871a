/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the network policy model (attest/netpolicy.h): CIDR text
 * in and out (refusals first: garbage, bad prefixes, host bits), the DNS
 * name rule, the canonical text byte for byte, its digest, and deep copies.
 * The JSON form is tested with the rest of the policy in test_policy.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attest/buf.h"
#include "attest/netpolicy.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Parse @p s, expecting success, and return what att_net_cidr_format() makes of it. */
static void cidr_ok(const char *s, int family, unsigned prefix, const char *formatted)
{
    struct att_net_rule r = {0};
    char why[256] = "";
    char out[64];

    if (att_net_cidr_parse(s, &r, why, sizeof(why)) != ATT_OK) {
        fail_msg("\"%s\" refused: %s", s, why);
    }
    assert_int_equal(r.family, family);
    assert_int_equal(r.prefix, prefix);
    att_net_cidr_format(&r, out, sizeof(out));
    assert_string_equal(out, formatted);
}

/* Parse @p s, expecting ATT_ERR_PARSE with @p needle in why and @p r untouched. */
static void cidr_bad(const char *s, const char *needle)
{
    struct att_net_rule r;
    struct att_net_rule before;
    char why[256] = "";

    memset(&r, 0x5a, sizeof(r));
    before = r;
    assert_int_equal(att_net_cidr_parse(s, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_memory_equal(&r, &before, sizeof(r));
    if (strstr(why, needle) == NULL) {
        fail_msg("why \"%s\" lacks \"%s\" for \"%s\"", why, needle, s);
    }
}

static void test_net_cidr_parse_null(void **state)
{
    struct att_net_rule r = {0};
    char why[64] = "";

    (void)state;
    assert_int_equal(att_net_cidr_parse(NULL, &r, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_net_cidr_parse("10.0.0.0/8", NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    /* no why wanted: still refused */
    assert_int_equal(att_net_cidr_parse("10.1.0.5/24", &r, NULL, 0), ATT_ERR_PARSE);
}

static void test_net_cidr_parse_garbage(void **state)
{
    char longer[128];

    (void)state;
    cidr_bad("", "is not an address");
    cidr_bad("x", "\"x\" is not an IPv4 address");
    cidr_bad("10.0.0", "is not an IPv4 address");
    cidr_bad("10.0.0.256", "is not an IPv4 address");
    cidr_bad("010.0.0.1", "is not an IPv4 address"); /* no octal, no leading zero */
    cidr_bad(" 10.0.0.0/8", "is not an IPv4 address");
    cidr_bad("10.0.0.0 /8", "is not an IPv4 address");
    cidr_bad("/8", "is not an IPv4 address");
    cidr_bad("fd00:::/8", "is not an IPv6 address");
    cidr_bad("fd00::g/128", "is not an IPv6 address");
    cidr_bad("10.0.0.0/8/8", "prefix length");
    cidr_bad("db.example.com", "is not an IPv4 address");
    memset(longer, '1', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    cidr_bad(longer, "value is not an address"); /* too long to quote */
    cidr_bad("10.0.0.0/8\"", "value");           /* a quote is never echoed */
}

static void test_net_cidr_parse_bad_prefix(void **state)
{
    (void)state;
    cidr_bad("10.0.0.0/", "the prefix length must be 0 to 32");
    cidr_bad("10.0.0.0/33", "the prefix length must be 0 to 32");
    cidr_bad("10.0.0.0/-1", "prefix length");
    cidr_bad("10.0.0.0/+8", "prefix length");
    cidr_bad("10.0.0.0/08", "prefix length"); /* no leading zero */
    cidr_bad("10.0.0.0/8 ", "prefix length");
    cidr_bad("10.0.0.0/0x8", "prefix length");
    cidr_bad("10.0.0.0/4294967304", "prefix length"); /* 2^32 + 8 must not wrap to 8 */
    cidr_bad("fd00::/129", "the prefix length must be 0 to 128");
    cidr_bad("::/1000", "prefix length");
}

static void test_net_cidr_parse_host_bits(void **state)
{
    (void)state;
    cidr_bad("10.1.0.5/24", "\"10.1.0.5/24\" has host bits set (the network is 10.1.0.0/24)");
    cidr_bad("10.0.0.1/31", "has host bits set");
    cidr_bad("128.0.0.0/0", "(the network is 0.0.0.0/0)");
    cidr_bad("fd00::1/64", "\"fd00::1/64\" has host bits set (the network is fd00::/64)");
    cidr_bad("fd80::/8", "(the network is fd00::/8)");
    cidr_bad("fd00::1:0/111", "has host bits set");
}

static void test_net_cidr_parse_valid(void **state)
{
    (void)state;
    cidr_ok("10.0.0.0/8", 4, 8, "10.0.0.0/8");
    cidr_ok("10.1.0.0/24", 4, 24, "10.1.0.0/24");
    cidr_ok("10.1.0.5", 4, 32, "10.1.0.5/32"); /* bare: /32 */
    cidr_ok("10.1.0.5/32", 4, 32, "10.1.0.5/32");
    cidr_ok("0.0.0.0/0", 4, 0, "0.0.0.0/0");
    cidr_ok("255.255.255.254/31", 4, 31, "255.255.255.254/31");
    cidr_ok("fd00::/8", 6, 8, "fd00::/8");
    cidr_ok("FD00:0:0::/8", 6, 8, "fd00::/8");         /* RFC 5952 form out */
    cidr_ok("2001:db8::1", 6, 128, "2001:db8::1/128"); /* bare: /128 */
    cidr_ok("::/0", 6, 0, "::/0");
    cidr_ok("::1/128", 6, 128, "::1/128");
    cidr_ok("2001:db8:0:0:1:0:0:1", 6, 128, "2001:db8::1:0:0:1/128");
    cidr_ok("::ffff:10.0.0.0/104", 6, 104, "::ffff:10.0.0.0/104");
}

static void test_net_cidr_parse_sets_only_peer(void **state)
{
    struct att_net_rule r = {0};
    char why[128] = "";

    (void)state;
    r.dir = ATT_NET_INGRESS;
    r.proto = ATT_NET_TCP;
    r.port_lo = 22;
    r.port_hi = 22;
    memset(r.addr, 0xff, sizeof(r.addr));
    assert_int_equal(att_net_cidr_parse("192.168.0.0/16", &r, why, sizeof(why)), ATT_OK);
    assert_int_equal(r.family, 4);
    assert_int_equal(r.addr[0], 192);
    assert_int_equal(r.addr[1], 168);
    assert_int_equal(r.addr[2], 0);
    assert_int_equal(r.addr[4], 0); /* the rest of addr is cleared, not left over */
    assert_int_equal(r.dir, ATT_NET_INGRESS);
    assert_int_equal(r.port_lo, 22);
}

static void test_net_cidr_format_edges(void **state)
{
    struct att_net_rule r = {0};
    char out[64];
    char small[6];

    (void)state;
    att_net_cidr_format(&r, out, sizeof(out));
    assert_string_equal(out, "any"); /* family 0 */
    att_net_cidr_format(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    att_net_cidr_format(&r, NULL, 0); /* no crash */
    assert_int_equal(att_net_cidr_parse("10.0.0.0/8", &r, NULL, 0), ATT_OK);
    att_net_cidr_format(&r, small, sizeof(small));
    assert_string_equal(small, "10.0."); /* truncated, still terminated */
}

static void test_net_dns_name_rules(void **state)
{
    static const char *const good[] = {
        "db.example.com", "DB.Example.COM",        "localhost",   "a", "x-1.example",
        "1.2.3.4",        "xn--bcher-kva.example", "a1-b2-c3.d4",
    };
    static const char *const bad[] = {
        "",                    /* empty */
        "db.example.com.",     /* trailing dot */
        ".example.com",        /* empty first label */
        "db..example.com",     /* empty label */
        "-db.example.com",     /* leading hyphen */
        "db-.example.com",     /* trailing hyphen */
        "db.example.com-",     /* trailing hyphen, last label */
        "db_1.example.com",    /* underscore */
        "db example.com",      /* blank */
        "*.example.com",       /* no wildcards */
        "db.example.com\n",    /* control */
        "caf\xc3\xa9.example", /* not LDH: IDNs go in as A-labels */
        ".",
    };
    char name[ATT_NET_MAX_NAME + 2];
    size_t i;

    (void)state;
    assert_false(att_net_dns_name_ok(NULL));
    for (i = 0; i < N_OF(good); i++) {
        if (!att_net_dns_name_ok(good[i])) {
            fail_msg("\"%s\" refused", good[i]);
        }
    }
    for (i = 0; i < N_OF(bad); i++) {
        if (att_net_dns_name_ok(bad[i])) {
            fail_msg("\"%s\" accepted", bad[i]);
        }
    }
    /* a label of 63 is fine, of 64 not */
    memset(name, 'a', 63);
    (void)snprintf(name + 63, sizeof(name) - 63, ".com");
    assert_true(att_net_dns_name_ok(name));
    memset(name, 'a', 64);
    (void)snprintf(name + 64, sizeof(name) - 64, ".com");
    assert_false(att_net_dns_name_ok(name));
    /* 253 characters in all is fine (labels of 63,63,63,61), 254 not */
    memset(name, 'a', sizeof(name));
    name[63] = '.';
    name[127] = '.';
    name[191] = '.';
    name[253] = '\0';
    assert_true(att_net_dns_name_ok(name));
    name[253] = 'a';
    name[254] = '\0';
    assert_false(att_net_dns_name_ok(name));
}

/*
 * The policy of the canonical-text example: default deny, HTTPS to a /24,
 * DNS to two resolvers by name, and an inbound port range.
 */
struct sample {
    struct att_net_policy np;
    struct att_net_rule rules[3];
    char *names[2];
    char name0[32];
    char name1[32];
};

static void sample_init(struct sample *s)
{
    memset(s, 0, sizeof(*s));
    s->np.default_allow = false;
    s->np.resolve_interval = 300;
    s->np.rules = s->rules;
    s->np.n_rules = 3;
    s->rules[0].dir = ATT_NET_EGRESS;
    s->rules[0].allow = true;
    s->rules[0].proto = ATT_NET_TCP;
    assert_int_equal(att_net_cidr_parse("10.1.0.0/24", &s->rules[0], NULL, 0), ATT_OK);
    s->rules[0].port_lo = 443;
    s->rules[0].port_hi = 443;
    (void)snprintf(s->name0, sizeof(s->name0), "ns1.example.com");
    (void)snprintf(s->name1, sizeof(s->name1), "NS2.Example.org");
    s->names[0] = s->name0;
    s->names[1] = s->name1;
    s->rules[1].dir = ATT_NET_EGRESS;
    s->rules[1].allow = true;
    s->rules[1].proto = ATT_NET_UDP;
    s->rules[1].dns = s->names;
    s->rules[1].n_dns = 2;
    s->rules[1].port_lo = 53;
    s->rules[1].port_hi = 53;
    s->rules[2].dir = ATT_NET_INGRESS;
    s->rules[2].allow = false;
    s->rules[2].proto = ATT_NET_ANY;
    assert_int_equal(att_net_cidr_parse("fd00::/8", &s->rules[2], NULL, 0), ATT_OK);
}

#define SAMPLE_TEXT                                                                                \
    "default deny resolve 300\n"                                                                   \
    "egress allow tcp 10.1.0.0/24 443\n"                                                           \
    "egress allow udp dns:ns1.example.com,ns2.example.org 53\n"                                    \
    "ingress deny any fd00::/8 any\n"

static void expect_canonical(const struct att_net_policy *np, const char *want)
{
    struct att_buf b;

    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_net_policy_canonical(np, &b), ATT_OK);
    assert_int_equal(b.len, strlen(want));
    assert_string_equal((const char *)b.data, want);
    att_buf_cleanup(&b);
}

static void test_net_policy_canonical_text(void **state)
{
    struct sample s;
    struct att_buf b;

    (void)state;
    sample_init(&s);
    expect_canonical(&s.np, SAMPLE_TEXT);
    /* port ranges, icmp, a bare peer, default allow */
    s.np.default_allow = true;
    s.np.resolve_interval = 5;
    s.rules[0].port_lo = 8000;
    s.rules[0].port_hi = 8100;
    s.rules[2].proto = ATT_NET_ICMP;
    s.rules[2].family = 0;
    expect_canonical(&s.np, "default allow resolve 5\n"
                            "egress allow tcp 10.1.0.0/24 8000-8100\n"
                            "egress allow udp dns:ns1.example.com,ns2.example.org 53\n"
                            "ingress deny icmp any any\n");
    /* no rules: one line */
    s.np.n_rules = 0;
    expect_canonical(&s.np, "default allow resolve 5\n");
    /* appended, not replacing */
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_buf_append_str(&b, "x:"), ATT_OK);
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_OK);
    assert_string_equal((const char *)b.data, "x:default allow resolve 5\n");
    att_buf_cleanup(&b);
}

/* A struct outside the model gets no text; a full buffer leaves nothing half-written. */
static void test_net_policy_canonical_refuses(void **state)
{
    struct sample s;
    struct att_buf b;
    char bad[] = "bad..name";
    char *bad_name[1] = {bad};

    (void)state;
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_net_policy_canonical(NULL, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    assert_int_equal(att_net_policy_canonical(&s.np, NULL), ATT_ERR_INVALID_ARG);
    s.rules[0].dir = 0;
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    s.rules[0].addr[3] = 1; /* host bit */
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    s.rules[0].prefix = 33;
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    s.rules[2].port_lo = 80; /* ports with protocol any */
    s.rules[2].port_hi = 80;
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    s.rules[0].port_lo = 444; /* lo > hi */
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    s.rules[1].dns = bad_name;
    s.rules[1].n_dns = 1;
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    s.rules[1].family = 4; /* a CIDR and names */
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    sample_init(&s);
    s.np.rules = NULL;
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    att_buf_cleanup(&b);

    sample_init(&s);
    att_buf_init(&b, 40); /* room for the first line, not the second */
    assert_int_equal(att_buf_append_str(&b, "keep"), ATT_OK);
    assert_int_equal(att_net_policy_canonical(&s.np, &b), ATT_ERR_PARSE);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    att_buf_cleanup(&b);
}

static void digest_of(const struct att_net_policy *np, uint8_t out[ATT_SHA256_LEN])
{
    assert_int_equal(att_net_policy_digest(np, out), ATT_OK);
}

static void expect_digest_changes(const struct att_net_policy *np, const uint8_t base[],
                                  const char *what)
{
    uint8_t d[ATT_SHA256_LEN];

    digest_of(np, d);
    if (memcmp(d, base, ATT_SHA256_LEN) == 0) {
        fail_msg("changing %s leaves the digest as it was", what);
    }
}

static void test_net_policy_digest(void **state)
{
    uint8_t base[ATT_SHA256_LEN];
    uint8_t again[ATT_SHA256_LEN];
    uint8_t text_hash[ATT_SHA256_LEN];
    struct sample s;
    char up0[] = "NS1.EXAMPLE.COM";
    char up1[] = "ns2.example.ORG";
    char *upper[2] = {up0, up1};

    (void)state;
    sample_init(&s);
    digest_of(&s.np, base);
    digest_of(&s.np, again);
    assert_memory_equal(base, again, sizeof(base));
    assert_int_equal(att_sha256(SAMPLE_TEXT, strlen(SAMPLE_TEXT), text_hash), ATT_OK);
    assert_memory_equal(base, text_hash, sizeof(base)); /* the digest is of the text */
    /* the case of a name does not matter */
    s.rules[1].dns = upper;
    digest_of(&s.np, again);
    assert_memory_equal(base, again, sizeof(base));

    sample_init(&s);
    s.np.default_allow = true;
    expect_digest_changes(&s.np, base, "the default");
    sample_init(&s);
    s.np.resolve_interval = 301;
    expect_digest_changes(&s.np, base, "resolve_interval");
    sample_init(&s);
    s.rules[0].allow = false;
    expect_digest_changes(&s.np, base, "an action");
    sample_init(&s);
    s.rules[0].dir = ATT_NET_INGRESS;
    expect_digest_changes(&s.np, base, "a direction");
    sample_init(&s);
    s.rules[0].proto = ATT_NET_UDP;
    expect_digest_changes(&s.np, base, "a protocol");
    sample_init(&s);
    s.rules[0].port_hi = 444;
    expect_digest_changes(&s.np, base, "a port");
    sample_init(&s);
    s.rules[0].prefix = 16;
    expect_digest_changes(&s.np, base, "a prefix");
    sample_init(&s);
    s.name1[2] = '3';
    expect_digest_changes(&s.np, base, "a name");
    sample_init(&s);
    s.np.n_rules = 2;
    expect_digest_changes(&s.np, base, "the number of rules");
    sample_init(&s);
    {
        /* order matters: the first match decides */
        struct att_net_rule t = s.rules[0];

        s.rules[0] = s.rules[1];
        s.rules[1] = t;
    }
    expect_digest_changes(&s.np, base, "the order of rules");
    assert_int_equal(att_net_policy_digest(NULL, again), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_net_policy_digest(&s.np, NULL), ATT_ERR_INVALID_ARG);
}

static void test_net_policy_dup(void **state)
{
    struct att_net_policy *copy = (struct att_net_policy *)(uintptr_t)0x1;
    struct sample s;
    struct att_buf a;
    struct att_buf b;
    size_t i;

    (void)state;
    assert_int_equal(att_net_policy_dup(NULL, &copy), ATT_OK);
    assert_null(copy);
    sample_init(&s);
    assert_int_equal(att_net_policy_dup(&s.np, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_net_policy_dup(&s.np, &copy), ATT_OK);
    assert_non_null(copy);
    assert_ptr_not_equal(copy->rules, s.np.rules);
    assert_int_equal(copy->n_rules, 3);
    assert_int_equal(copy->default_allow, s.np.default_allow);
    assert_int_equal(copy->resolve_interval, s.np.resolve_interval);
    assert_int_equal(copy->rules[1].n_dns, 2);
    for (i = 0; i < 2; i++) {
        assert_ptr_not_equal(copy->rules[1].dns[i], s.names[i]); /* deep */
        assert_string_equal(copy->rules[1].dns[i], s.names[i]);
    }
    assert_null(copy->rules[0].dns);
    assert_memory_equal(copy->rules[2].addr, s.rules[2].addr, sizeof(s.rules[2].addr));
    att_buf_init(&a, 1u << 20);
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_net_policy_canonical(&s.np, &a), ATT_OK);
    assert_int_equal(att_net_policy_canonical(copy, &b), ATT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    att_buf_cleanup(&a);
    att_buf_cleanup(&b);
    att_net_policy_free(copy);

    /* no rules: no array */
    s.np.n_rules = 0;
    s.np.rules = NULL;
    assert_int_equal(att_net_policy_dup(&s.np, &copy), ATT_OK);
    assert_null(copy->rules);
    assert_int_equal(copy->n_rules, 0);
    att_net_policy_free(copy);

    /* a rule that claims names it does not have is not copied as "any peer" */
    sample_init(&s);
    copy = (struct att_net_policy *)(uintptr_t)0x1;
    s.rules[1].dns = NULL;
    assert_int_equal(att_net_policy_dup(&s.np, &copy), ATT_ERR_INVALID_ARG);
    assert_ptr_equal(copy, (struct att_net_policy *)(uintptr_t)0x1);
    att_net_policy_free(NULL);
}

#define HEX64_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX64_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static att_rc stats_line(const char *line, struct att_net_stats *ns)
{
    return att_net_stats_parse(line, strlen(line), ns);
}

/* The agent's netstats line, as its /metrics and the verifier's API read it. */
static void test_net_stats_parse(void **state)
{
    static const char *const bad[] = {
        "",
        HEX64_A " 3 17",               /* three fields */
        HEX64_A " 3 17 " HEX64_B " x", /* five */
        HEX64_A "  3 17 " HEX64_B,     /* double space */
        " " HEX64_A " 3 17 " HEX64_B,  /* leading space */
        HEX64_A " 3 17 " HEX64_B " ",  /* trailing space */
        HEX64_A " -3 17 " HEX64_B,     /* sign */
        HEX64_A " 3 +17 " HEX64_B,
        HEX64_A " 3x 17 " HEX64_B,
        HEX64_A " 9223372036854775808 17 " HEX64_B, /* over INT64_MAX */
        HEX64_A " 3 17 " HEX64_B "0",               /* 65 hex */
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef 3 17 " HEX64_B,
        "0123456789abcdef 3 17 " HEX64_B, /* short id */
    };
    struct att_net_stats ns;
    size_t i;

    (void)state;
    assert_int_equal(stats_line(HEX64_A " 3 17 " HEX64_B, &ns), ATT_OK);
    assert_string_equal(ns.container, HEX64_A);
    assert_int_equal(ns.egress_dropped, 3);
    assert_int_equal(ns.ingress_dropped, 17);
    assert_string_equal(ns.ruleset, HEX64_B);
    assert_int_equal(stats_line(HEX64_A " 0 9223372036854775807 " HEX64_B, &ns), ATT_OK);
    assert_true(ns.ingress_dropped == (uint64_t)INT64_MAX);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(stats_line(bad[i], &ns), ATT_ERR_PARSE);
    }
    /* a NUL inside the line, and a line longer than any valid one */
    {
        char nul[] = HEX64_A " 3 17 " HEX64_B;
        char longer[ATT_NET_STATS_LINE_MAX + 8];

        nul[70] = '\0';
        assert_int_equal(att_net_stats_parse(nul, sizeof(nul) - 1, &ns), ATT_ERR_PARSE);
        memset(longer, '1', sizeof(longer));
        assert_int_equal(att_net_stats_parse(longer, sizeof(longer), &ns), ATT_ERR_PARSE);
    }
    assert_int_equal(att_net_stats_parse(NULL, 3, &ns), ATT_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_stats_parse),
        cmocka_unit_test(test_net_cidr_parse_null),
        cmocka_unit_test(test_net_cidr_parse_garbage),
        cmocka_unit_test(test_net_cidr_parse_bad_prefix),
        cmocka_unit_test(test_net_cidr_parse_host_bits),
        cmocka_unit_test(test_net_cidr_parse_valid),
        cmocka_unit_test(test_net_cidr_parse_sets_only_peer),
        cmocka_unit_test(test_net_cidr_format_edges),
        cmocka_unit_test(test_net_dns_name_rules),
        cmocka_unit_test(test_net_policy_canonical_text),
        cmocka_unit_test(test_net_policy_canonical_refuses),
        cmocka_unit_test(test_net_policy_digest),
        cmocka_unit_test(test_net_policy_dup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
