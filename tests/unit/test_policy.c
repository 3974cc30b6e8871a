/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the policy model (attest/policy.h) and its JSON form
 * (attest/policy_json.h, proto/policy.schema.json). Negative cases first:
 * NULL, empty, oversized, trailing content, duplicate and unknown keys, bad
 * versions, paths and digests; then lookups, check results and round trips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/buf.h"
#include "attest/netpolicy.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/util.h"

#define D_A      "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D_B      "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define D_0      "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void fill(uint8_t d[ATT_SHA256_LEN], uint8_t v)
{
    memset(d, v, ATT_SHA256_LEN);
}

static att_rc parse(const char *json, struct att_policy **p, char *why, size_t why_len)
{
    return att_policy_parse_json(json, strlen(json), p, why, why_len);
}

static void expect_reject(const char *json, const char *needle)
{
    struct att_policy *p = (struct att_policy *)(uintptr_t)0x1; /* must stay untouched */
    char why[512];

    memset(why, 'X', sizeof(why));
    assert_int_equal(parse(json, &p, why, sizeof(why)), ATT_ERR_PARSE);
    assert_ptr_equal(p, (struct att_policy *)(uintptr_t)0x1);
    assert_true(strncmp(why, "policy: ", 8) == 0);
    if (needle != NULL && strstr(why, needle) == NULL) {
        fail_msg("why \"%s\" lacks \"%s\" for %s", why, needle, json);
    }
}

/* ------------------------------------------------------------------------- */
/* Model: negative                                                           */

static void test_policy_add_invalid_args(void **state)
{
    struct att_policy *p = att_policy_new();
    uint8_t d[ATT_SHA256_LEN];
    char *longpath = malloc(ATT_POLICY_MAX_PATH + 1);

    (void)state;
    assert_non_null(p);
    assert_non_null(longpath);
    fill(d, 1);
    assert_int_equal(att_policy_add(NULL, "/bin/sh", d), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_add(p, NULL, d), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_add(p, "/bin/sh", NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_add(p, "", d), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_add(p, "bin/sh", d), ATT_ERR_INVALID_ARG);
    memset(longpath, 'a', ATT_POLICY_MAX_PATH);
    longpath[0] = '/';
    longpath[ATT_POLICY_MAX_PATH] = '\0';
    assert_int_equal(att_policy_add(p, longpath, d), ATT_ERR_INVALID_ARG);
    longpath[ATT_POLICY_MAX_PATH - 1] = '\0'; /* 4095 bytes: the longest allowed */
    assert_int_equal(att_policy_add(p, longpath, d), ATT_OK);
    assert_int_equal(p->n_refs, 1);
    free(longpath);
    att_policy_free(p);
    att_policy_free(NULL);
}

static void test_policy_check_null_args_not_allowed(void **state)
{
    struct att_policy *p = att_policy_new();
    uint8_t d[ATT_SHA256_LEN];

    (void)state;
    fill(d, 1);
    assert_int_equal(att_policy_add(p, "/bin/sh", d), ATT_OK);
    assert_int_equal(att_policy_check(NULL, "/bin/sh", d), ATT_POLICY_UNKNOWN_PATH);
    assert_int_equal(att_policy_check(p, NULL, d), ATT_POLICY_UNKNOWN_PATH);
    assert_int_equal(att_policy_check(p, "/bin/sh", NULL), ATT_POLICY_UNKNOWN_PATH);
    assert_null(att_policy_find(NULL, "/bin/sh"));
    assert_null(att_policy_find(p, NULL));
    att_policy_free(p);
}

static void test_policy_empty_finds_nothing(void **state)
{
    struct att_policy *p = att_policy_new();
    uint8_t d[ATT_SHA256_LEN];

    (void)state;
    fill(d, 0);
    assert_null(att_policy_find(p, "/bin/sh"));
    assert_int_equal(att_policy_check(p, "/bin/sh", d), ATT_POLICY_UNKNOWN_PATH);
    att_policy_free(p);
}

/* ------------------------------------------------------------------------- */
/* Model: behaviour                                                          */

static void test_policy_check_results(void **state)
{
    struct att_policy *p = att_policy_new();
    uint8_t a[ATT_SHA256_LEN];
    uint8_t b[ATT_SHA256_LEN];
    uint8_t c[ATT_SHA256_LEN];

    (void)state;
    fill(a, 0xaa);
    fill(b, 0xbb);
    fill(c, 0xcc);
    assert_int_equal(att_policy_add(p, "/usr/bin/ls", a), ATT_OK);
    assert_int_equal(att_policy_add(p, "/usr/bin/ls", b), ATT_OK);
    assert_int_equal(att_policy_add(p, "/usr/lib/libc.so.6", c), ATT_OK);
    assert_int_equal(att_policy_check(p, "/usr/bin/ls", a), ATT_POLICY_ALLOWED);
    assert_int_equal(att_policy_check(p, "/usr/bin/ls", b), ATT_POLICY_ALLOWED);
    assert_int_equal(att_policy_check(p, "/usr/bin/ls", c), ATT_POLICY_DIGEST_MISMATCH);
    assert_int_equal(att_policy_check(p, "/usr/lib/libc.so.6", c), ATT_POLICY_ALLOWED);
    assert_int_equal(att_policy_check(p, "/usr/lib/libc.so.6", a), ATT_POLICY_DIGEST_MISMATCH);
    assert_int_equal(att_policy_check(p, "/usr/bin/cat", a), ATT_POLICY_UNKNOWN_PATH);
    assert_int_equal(att_policy_check(p, "/usr/bin/l", a), ATT_POLICY_UNKNOWN_PATH);
    assert_int_equal(att_policy_check(p, "/usr/bin/ls ", a), ATT_POLICY_UNKNOWN_PATH);
    att_policy_free(p);
}

static void test_policy_add_dedups_and_sorts(void **state)
{
    struct att_policy *p = att_policy_new();
    uint8_t d[ATT_SHA256_LEN];
    const struct att_policy_ref *r;
    size_t i;

    (void)state;
    fill(d, 9);
    assert_int_equal(att_policy_add(p, "/b", d), ATT_OK);
    fill(d, 3);
    assert_int_equal(att_policy_add(p, "/b", d), ATT_OK);
    assert_int_equal(att_policy_add(p, "/b", d), ATT_OK); /* duplicate: ignored */
    fill(d, 5);
    assert_int_equal(att_policy_add(p, "/b", d), ATT_OK);
    fill(d, 9);
    assert_int_equal(att_policy_add(p, "/b", d), ATT_OK);
    assert_int_equal(att_policy_add(p, "/c", d), ATT_OK);
    assert_int_equal(att_policy_add(p, "/a", d), ATT_OK);
    assert_int_equal(p->n_refs, 3);
    assert_string_equal(p->refs[0].path, "/a");
    assert_string_equal(p->refs[1].path, "/b");
    assert_string_equal(p->refs[2].path, "/c");
    r = att_policy_find(p, "/b");
    assert_ptr_equal(r, &p->refs[1]);
    assert_int_equal(r->n_digests, 3);
    for (i = 1; i < r->n_digests; i++) {
        assert_true(memcmp(r->digests[i - 1], r->digests[i], ATT_SHA256_LEN) < 0);
    }
    att_policy_free(p);
}

/* Many paths in scrambled order: refs end up strcmp-sorted and all are found. */
static void test_policy_many_paths_binary_search(void **state)
{
    struct att_policy *p = att_policy_new();
    uint8_t d[ATT_SHA256_LEN];
    char path[64];
    size_t i;
    const size_t n = 5000;

    (void)state;
    for (i = 0; i < n; i++) {
        size_t k = (i * 7919u) % n; /* 7919 is prime and coprime to n: a permutation */

        (void)snprintf(path, sizeof(path), "/usr/lib/x%zu", k);
        fill(d, (uint8_t)k);
        assert_int_equal(att_policy_add(p, path, d), ATT_OK);
    }
    assert_int_equal(p->n_refs, n);
    for (i = 1; i < n; i++) {
        assert_true(strcmp(p->refs[i - 1].path, p->refs[i].path) < 0);
    }
    for (i = 0; i < n; i++) {
        (void)snprintf(path, sizeof(path), "/usr/lib/x%zu", i);
        fill(d, (uint8_t)i);
        assert_int_equal(att_policy_check(p, path, d), ATT_POLICY_ALLOWED);
        fill(d, (uint8_t)(i + 1));
        assert_int_equal(att_policy_check(p, path, d), ATT_POLICY_DIGEST_MISMATCH);
    }
    assert_null(att_policy_find(p, "/usr/lib/x"));
    assert_null(att_policy_find(p, "/usr/lib/x5000"));
    att_policy_free(p);
}

/* ------------------------------------------------------------------------- */
/* JSON: negative                                                            */

static void test_policy_parse_null_and_empty(void **state)
{
    struct att_policy *p = NULL;
    char why[128];

    (void)state;
    assert_int_equal(att_policy_parse_json(NULL, 3, &p, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_parse_json("{}", 2, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_parse_json("{}", 0, &p, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(p);
    assert_string_equal(why, "policy: empty document");
    /* why may be NULL */
    assert_int_equal(att_policy_parse_json("{}", 2, &p, NULL, 0), ATT_ERR_PARSE);
    assert_null(p);
}

static void test_policy_parse_oversized(void **state)
{
    size_t len = (size_t)ATT_POLICY_MAX_JSON + 1u;
    char *big = malloc(len);
    struct att_policy *p = NULL;
    char why[128];

    (void)state;
    assert_non_null(big);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    assert_int_equal(att_policy_parse_json(big, len, &p, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "larger than"));
    assert_null(p);
    free(big);
}

static void test_policy_parse_syntax_and_trailing(void **state)
{
    static const char *const bad[] = {
        "{", "{\"version\": 1,}", "[]", "1", "null", "\"x\"",
    };
    size_t i;
    struct att_policy *p = NULL;
    char why[256];
    static const char embedded_nul[] = "{\"version\": 1, \"reference_values\": {}}\0";

    (void)state;
    for (i = 0; i < NELEM(bad); i++) {
        expect_reject(bad[i], NULL);
    }
    expect_reject("[]", "policy: ");
    expect_reject("{\"version\": 1, \"reference_values\": {}} x", "trailing content");
    expect_reject("{\"version\": 1, \"reference_values\": {}}{}", "trailing content");
    /* the NUL is inside len: not whitespace, so not consumed */
    assert_int_equal(
        att_policy_parse_json(embedded_nul, sizeof(embedded_nul) - 1, &p, why, sizeof(why)),
        ATT_ERR_PARSE);
    assert_null(p);
    /* jansson's own error words are not passed through */
    expect_reject("{\"version\": 1, \"version\": 1, \"reference_values\": {}}", "duplicate key");
    expect_reject("{\"version\": 1, \"reference_values\": {\"/a\": [\"" D_A "\"], \"/a\": [\"" D_B
                  "\"]}}",
                  "duplicate key");
    expect_reject("{\"version\": 1, \"name\": \"\xff\", \"reference_values\": {}}",
                  "invalid UTF-8");
    expect_reject("{\"version\": 1, \"name\": \"a\\u0000b\", \"reference_values\": {}}",
                  "NUL character");
    expect_reject("{\"version\": 99999999999999999999999, \"reference_values\": {}}",
                  "number out of range");
}

static void test_policy_parse_top_level_rules(void **state)
{
    (void)state;
    expect_reject("{\"version\": 1, \"reference_values\": {}, \"extra\": 1}",
                  "unknown key \"extra\"");
    expect_reject("{\"version\": 1, \"reference_value\": {}}", "unknown key \"reference_value\"");
    expect_reject("{\"reference_values\": {}}", "\"version\" must be the integer 1");
    expect_reject("{\"version\": 2, \"reference_values\": {}}", "\"version\"");
    expect_reject("{\"version\": 0, \"reference_values\": {}}", "\"version\"");
    expect_reject("{\"version\": \"1\", \"reference_values\": {}}", "\"version\"");
    expect_reject("{\"version\": 1.0, \"reference_values\": {}}", "\"version\"");
    expect_reject("{\"version\": true, \"reference_values\": {}}", "\"version\"");
    expect_reject("{\"version\": 1}", "\"reference_values\" must be an object");
    expect_reject("{\"version\": 1, \"reference_values\": []}", "\"reference_values\"");
    expect_reject("{\"version\": 1, \"reference_values\": null}", "\"reference_values\"");
    expect_reject("{\"version\": 1, \"name\": 5, \"reference_values\": {}}", "\"name\"");
    expect_reject("{\"version\": 1, \"name\": null, \"reference_values\": {}}", "\"name\"");
}

static void test_policy_parse_name_too_long(void **state)
{
    struct att_buf b;
    struct att_policy *p = NULL;
    char why[256];
    size_t i;

    (void)state;
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_buf_append_str(&b, "{\"version\": 1, \"name\": \""), ATT_OK);
    for (i = 0; i < 1025; i++) {
        assert_int_equal(att_buf_append_str(&b, "n"), ATT_OK);
    }
    assert_int_equal(att_buf_append_str(&b, "\", \"reference_values\": {}}"), ATT_OK);
    assert_int_equal(att_policy_parse_json((const char *)b.data, b.len, &p, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "\"name\""));
    att_buf_cleanup(&b);
}

static void test_policy_parse_bad_paths(void **state)
{
    struct att_buf b;
    struct att_policy *p = NULL;
    char why[512];
    size_t i;

    (void)state;
    expect_reject("{\"version\": 1, \"reference_values\": {\"usr/bin/ls\": [\"" D_A "\"]}}",
                  "must be an absolute path");
    expect_reject("{\"version\": 1, \"reference_values\": {\"\": [\"" D_A "\"]}}",
                  "must be an absolute path");
    expect_reject("{\"version\": 1, \"reference_values\": {\"./x\": [\"" D_A "\"]}}",
                  "absolute path");
    /* control bytes in a path are not echoed into why */
    expect_reject("{\"version\": 1, \"reference_values\": {\"/a\\nb\": [], \"/\": [\"" D_A "\"]}}",
                  "reference_values[#1] must be a non-empty array");
    /* 4096-byte path: one too long */
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_buf_append_str(&b, "{\"version\": 1, \"reference_values\": {\"/"), ATT_OK);
    for (i = 1; i < ATT_POLICY_MAX_PATH; i++) {
        assert_int_equal(att_buf_append_str(&b, "p"), ATT_OK);
    }
    assert_int_equal(att_buf_append_str(&b, "\": [\"" D_A "\"]}}"), ATT_OK);
    assert_int_equal(att_policy_parse_json((const char *)b.data, b.len, &p, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "absolute path"));
    att_buf_cleanup(&b);
}

static void test_policy_parse_bad_digests(void **state)
{
    static const char *const bad_lists[] = {
        "[]",
        "\"" D_A "\"",
        "null",
        "{}",
        "[1]",
        "[null]",
        "[[\"" D_A "\"]]",
        "[\"" D_A "\", 5]",
        "[\"sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
        "[\"SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
        "[\"sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
        "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
        "[\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",   /* 63 */
        "[\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]", /* 65 */
        "[\"sha256:gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
        "[\"sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
        "[\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \"]",
        "[\"sha256:\"]",
        "[\"\"]",
    };
    char json[512];
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(bad_lists); i++) {
        (void)snprintf(json, sizeof(json),
                       "{\"version\": 1, \"reference_values\": {\"/bin/sh\": %s}}", bad_lists[i]);
        expect_reject(json, "reference_values[\"/bin/sh\"]");
    }
    expect_reject("{\"version\": 1, \"reference_values\": {\"/bin/sh\": [\"" D_A "\", 7]}}",
                  "reference_values[\"/bin/sh\"][1] must be \"sha256:\" followed by 64 hex digits");
}

/* ------------------------------------------------------------------------- */
/* JSON: behaviour                                                           */

static const char golden[] = "{\n"
                             "  \"name\": \"web\",\n"
                             "  \"reference_values\": {\n"
                             "    \"/bin/sh\": [\n"
                             "      \"" D_0 "\"\n"
                             "    ],\n"
                             "    \"/usr/bin/ls\": [\n"
                             "      \"" D_A "\",\n"
                             "      \"" D_B "\"\n"
                             "    ]\n"
                             "  },\n"
                             "  \"version\": 1\n"
                             "}\n";

static void test_policy_parse_valid(void **state)
{
    /* upper-case hex, duplicate digest, unsorted paths and digests, extra whitespace */
    static const char json[] =
        "\n{ \"reference_values\": {\n"
        "   \"/usr/bin/ls\": "
        "[\"sha256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\",\n"
        "                    \"" D_A "\", \"" D_B "\"],\n"
        "   \"/bin/sh\": [\"" D_0 "\"]},\n"
        "  \"name\": \"web\", \"version\": 1 }\n\n";
    struct att_policy *p = NULL;
    struct att_buf b;
    uint8_t d[ATT_SHA256_LEN];
    char why[256];

    (void)state;
    assert_int_equal(parse(json, &p, why, sizeof(why)), ATT_OK);
    assert_string_equal(why, "");
    assert_non_null(p);
    assert_string_equal(p->name, "web");
    assert_int_equal(p->n_refs, 2);
    assert_string_equal(p->refs[0].path, "/bin/sh");
    assert_int_equal(p->refs[1].n_digests, 2);
    fill(d, 0xbb);
    assert_int_equal(att_policy_check(p, "/usr/bin/ls", d), ATT_POLICY_ALLOWED);
    fill(d, 0x00);
    assert_int_equal(att_policy_check(p, "/bin/sh", d), ATT_POLICY_ALLOWED);
    assert_int_equal(att_policy_check(p, "/usr/bin/ls", d), ATT_POLICY_DIGEST_MISMATCH);
    assert_int_equal(att_policy_check(p, "/bin/bash", d), ATT_POLICY_UNKNOWN_PATH);

    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_policy_encode_json(p, &b), ATT_OK);
    assert_string_equal((const char *)b.data, golden);
    att_buf_cleanup(&b);
    att_policy_free(p);
}

static void test_policy_minimal_and_no_name(void **state)
{
    struct att_policy *p = NULL;
    struct att_buf b;

    (void)state;
    assert_int_equal(parse("{\"version\":1,\"reference_values\":{}}", &p, NULL, 0), ATT_OK);
    assert_null(p->name);
    assert_int_equal(p->n_refs, 0);
    att_buf_init(&b, 4096);
    assert_int_equal(att_policy_encode_json(p, &b), ATT_OK);
    assert_string_equal((const char *)b.data,
                        "{\n  \"reference_values\": {},\n  \"version\": 1\n}\n");
    att_buf_cleanup(&b);
    att_policy_free(p);
}

/* encode -> parse -> encode is a fixed point; the second parse sees the same model. */
static void test_policy_json_round_trip(void **state)
{
    struct att_policy *p = att_policy_new();
    struct att_policy *q = NULL;
    struct att_buf b1;
    struct att_buf b2;
    uint8_t d[ATT_SHA256_LEN];
    char path[64];
    size_t i;
    size_t k;

    (void)state;
    p->name = strdup("round \xe2\x82\xac trip \"quoted\"");
    for (i = 0; i < 200; i++) {
        (void)snprintf(path, sizeof(path), "/opt/app/%03zu/\xc3\xa9 x", (i * 37u) % 200u);
        for (k = 0; k < 1 + i % 3; k++) {
            fill(d, (uint8_t)(i + k));
            assert_int_equal(att_policy_add(p, path, d), ATT_OK);
        }
    }
    att_buf_init(&b1, 1u << 24);
    att_buf_init(&b2, 1u << 24);
    assert_int_equal(att_policy_encode_json(p, &b1), ATT_OK);
    assert_int_equal(b1.data[b1.len - 1], '\n');
    assert_int_equal(att_policy_parse_json((const char *)b1.data, b1.len, &q, NULL, 0), ATT_OK);
    assert_string_equal(q->name, p->name);
    assert_int_equal(q->n_refs, p->n_refs);
    for (i = 0; i < p->n_refs; i++) {
        assert_string_equal(q->refs[i].path, p->refs[i].path);
        assert_int_equal(q->refs[i].n_digests, p->refs[i].n_digests);
        assert_memory_equal(q->refs[i].digests, p->refs[i].digests,
                            p->refs[i].n_digests * ATT_SHA256_LEN);
    }
    assert_int_equal(att_policy_encode_json(q, &b2), ATT_OK);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    att_buf_cleanup(&b1);
    att_buf_cleanup(&b2);
    att_policy_free(p);
    att_policy_free(q);
}

/* Models JSON cannot carry, or that would not parse back, are refused; out is untouched. */
static void test_policy_encode_invalid(void **state)
{
    struct att_policy *p = att_policy_new();
    struct att_buf b;
    uint8_t d[ATT_SHA256_LEN];

    (void)state;
    fill(d, 1);
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_buf_append_str(&b, "keep"), ATT_OK);
    assert_int_equal(att_policy_encode_json(NULL, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_encode_json(p, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_policy_add(p, "/bin/\xff", d), ATT_OK); /* the model takes any bytes */
    assert_int_equal(att_policy_encode_json(p, &b), ATT_ERR_INVALID_ARG);
    free(p->refs[0].path);
    p->refs[0].path = strdup("/bin/ok");
    p->name = strdup("\xc3");
    assert_int_equal(att_policy_encode_json(p, &b), ATT_ERR_INVALID_ARG);
    free(p->name);
    p->name = NULL;
    p->refs[0].n_digests = 0; /* an empty list would not parse back */
    assert_int_equal(att_policy_encode_json(p, &b), ATT_ERR_INVALID_ARG);
    p->refs[0].n_digests = 1;
    assert_int_equal(b.len, 4);
    assert_int_equal(att_policy_encode_json(p, &b), ATT_OK);
    assert_true(strncmp((const char *)b.data, "keep{", 5) == 0);
    att_buf_cleanup(&b);
    att_policy_free(p);
}

/* A buffer cap that is too small fails the encode and rolls the buffer back. */
static void test_policy_encode_buffer_cap(void **state)
{
    struct att_policy *p = NULL;
    struct att_buf b;

    (void)state;
    assert_int_equal(
        parse("{\"version\":1,\"reference_values\":{\"/a\":[\"" D_A "\"]}}", &p, NULL, 0), ATT_OK);
    att_buf_init(&b, 40);
    assert_int_equal(att_buf_append_str(&b, "x"), ATT_OK);
    assert_int_equal(att_policy_encode_json(p, &b), ATT_ERR_PARSE);
    assert_int_equal(b.len, 1);
    assert_string_equal((const char *)b.data, "x");
    att_buf_cleanup(&b);
    att_policy_free(p);
}

/* ------------------------------------------------------------------------- */
/* Per-container whitelist policies                                          */

#define IMG1 "sha256:1b422d0c1e733ea70a15f520a3be2bef1a435cabb875cb3f18df99a4fa9e8483"
#define IMG2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define DIG1 "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define CPOL(inner)                                                                                \
    "{\"version\": 1, \"reference_values\": {}, \"containers\": [" inner "]}"

static void test_policy_containers_parse_and_lookup(void **state)
{
    const char *json = CPOL("{\"name\": \"web\", \"images\": [\"" IMG1 "\", \"" IMG2 "\"], "
                            "\"files\": {\"/bin/ls\": [\"" DIG1 "\"]}, \"exclude\": [\"/tmp/\"], "
                            "\"allow_jit\": true, \"posture\": {\"privileged\": false, "
                            "\"forbid_caps\": [\"CAP_SYS_ADMIN\"]}}, "
                            "{\"name\": \"db\", \"images\": [\"sha256:"
                            "3333333333333333333333333333333333333333333333333333333333333333\"]}");
    struct att_policy *p = NULL;
    const struct att_container_policy *c;
    struct att_buf a;
    struct att_buf b;
    struct att_policy *q = NULL;
    uint8_t d[ATT_SHA256_LEN];
    char why[256] = "";

    (void)state;
    assert_int_equal(parse(json, &p, why, sizeof(why)), ATT_OK);
    assert_int_equal(p->n_containers, 2);
    c = att_policy_container_for_image(p, IMG2);
    assert_non_null(c);
    assert_string_equal(c->name, "web");
    assert_true(c->allow_jit);
    assert_false(c->allow_privileged);
    assert_int_equal(c->n_forbid_caps, 1);
    assert_true(att_container_policy_excludes(c, "/tmp/x"));
    assert_false(att_container_policy_excludes(c, "/bin/ls"));
    assert_int_equal(att_hex_decode(&DIG1[7], d, sizeof(d)), ATT_OK);
    assert_int_equal(att_policy_check(c->files, "/bin/ls", d), ATT_POLICY_ALLOWED);
    assert_int_equal(att_policy_check(c->files, "/bin/cat", d), ATT_POLICY_UNKNOWN_PATH);
    assert_null(att_policy_container_for_image(p, "sha256:00"));
    assert_non_null(att_policy_container_for_image(p, "sha256:"
        "3333333333333333333333333333333333333333333333333333333333333333"));
    /* encode -> parse -> encode is stable */
    att_buf_init(&a, 1u << 20);
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_policy_encode_json(p, &a), ATT_OK);
    assert_int_equal(att_policy_parse_json((const char *)a.data, a.len, &q, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(att_policy_encode_json(q, &b), ATT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    att_buf_cleanup(&a);
    att_buf_cleanup(&b);
    att_policy_free(q);
    att_policy_free(p);
}

static void test_policy_containers_rejects(void **state)
{
    (void)state;
    expect_reject(CPOL("1"), "containers[0]");
    expect_reject("{\"version\": 1, \"reference_values\": {}, \"containers\": {}}", "containers");
    expect_reject(CPOL("{\"images\": [\"" IMG1 "\"]}"), "name");
    expect_reject(CPOL("{\"name\": \"x\"}"), "images");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": []}"), "images");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"sha256:abc\"]}"), "images[0]");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], \"color\": 1}"),
                  "unknown key");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], \"allow_jit\": 1}"),
                  "allow_jit");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], \"exclude\": [\"tmp\"]}"),
                  "exclude[0]");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], \"files\": []}"), "files");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], "
                       "\"files\": {\"bin/ls\": [\"" DIG1 "\"]}}"),
                  "absolute");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], "
                       "\"posture\": {\"forbid_caps\": [\"sys_admin\"]}}"),
                  "forbid_caps[0]");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], "
                       "\"posture\": {\"privileged\": \"no\"}}"),
                  "posture");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], "
                       "\"posture\": {\"seccomp\": true}}"),
                  "posture");
}

/* What a container's failure orders (DESIGN §6), and quarantine of an untrusted host. */
static void test_policy_quarantine(void **state)
{
    const char *json = "{\"version\": 1, \"reference_values\": {}, "
                       "\"quarantine_untrusted_host\": true, \"containers\": ["
                       "{\"name\": \"a\", \"images\": [\"" IMG1 "\"]}, "
                       "{\"name\": \"b\", \"images\": [\"" IMG2 "\"], \"quarantine\": [\"kill\"]}, "
                       "{\"name\": \"c\", \"images\": [\"" IMG2 "\"], \"quarantine\": []}, "
                       "{\"name\": \"d\", \"images\": [\"" IMG2 "\"], "
                       "\"quarantine\": [\"pause\", \"isolate-network\", \"kill\"]}]}";
    struct att_policy *p = NULL;
    struct att_policy *q = NULL;
    struct att_buf a;
    char why[256] = "";

    (void)state;
    assert_int_equal(parse(json, &p, why, sizeof(why)), ATT_OK);
    assert_true(p->quarantine_untrusted_host);
    assert_int_equal(att_policy_container_by_name(p, "a")->quarantine, ATT_QUARANTINE_DEFAULT);
    assert_int_equal(att_policy_container_by_name(p, "b")->quarantine, ATT_QUARANTINE_KILL);
    assert_int_equal(att_policy_container_by_name(p, "c")->quarantine, 0);
    assert_int_equal(att_policy_container_by_name(p, "d")->quarantine,
                     ATT_QUARANTINE_PAUSE | ATT_QUARANTINE_ISOLATE | ATT_QUARANTINE_KILL);
    /* written out and read back the same */
    att_buf_init(&a, 1u << 20);
    assert_int_equal(att_policy_encode_json(p, &a), ATT_OK);
    assert_int_equal(att_policy_parse_json((const char *)a.data, a.len, &q, why, sizeof(why)),
                     ATT_OK);
    assert_true(q->quarantine_untrusted_host);
    assert_int_equal(att_policy_container_by_name(q, "c")->quarantine, 0);
    assert_int_equal(att_policy_container_by_name(q, "b")->quarantine, ATT_QUARANTINE_KILL);
    att_buf_cleanup(&a);
    att_policy_free(q);
    att_policy_free(p);
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], \"quarantine\": [\"freeze\"]}"),
                  "quarantine[0]");
    expect_reject(CPOL("{\"name\": \"x\", \"images\": [\"" IMG1 "\"], \"quarantine\": \"pause\"}"),
                  "quarantine");
    expect_reject("{\"version\": 1, \"reference_values\": {}, \"quarantine_untrusted_host\": 1}",
                  "quarantine_untrusted_host");
}

/* ------------------------------------------------------------------------- */
/* A container policy's "vulnerabilities" section (issue 8)                  */

#define VPOL(inner)                                                                                \
    CPOL("{\"name\": \"web\", \"images\": [\"" IMG1 "\"], \"vulnerabilities\": " inner "}")
#define T_2026_12_31 1798675200u /* 2026-12-31T00:00:00Z */
#define T_2026_06_30 1782813600u /* 2026-06-30T10:00:00Z = 12:00:00+02:00 */

/* Parse @p json (one container "web") and return its bar; the caller frees @p p. */
static const struct att_vuln_policy *vulns_of(const char *json, struct att_policy **p)
{
    char why[512] = "";

    *p = NULL;
    if (parse(json, p, why, sizeof(why)) != ATT_OK) {
        fail_msg("refused: %s (%s)", why, json);
    }
    assert_int_equal((*p)->n_containers, 1);
    return (*p)->containers[0].vulns;
}

static void test_policy_vulns_parse_full(void **state)
{
    const char *json =
        VPOL("{\"refuse_at\": \"medium\", \"refuse_unfixed\": true, \"running\": \"quarantine\", "
             "\"max_feed_age\": 86400, \"allow\": ["
             "{\"id\": \"CVE-2024-0001\", \"expires\": \"2026-12-31T00:00:00Z\", "
             "\"reason\": \"not reachable: no TLS server\"}, "
             "{\"reason\": \"vendor backport \\u00e9\", \"id\": \"DSA-5678-1\", "
             "\"expires\": \"2026-06-30T12:00:00.5+02:00\"}]}");
    struct att_policy *p = NULL;
    const struct att_vuln_policy *v = vulns_of(json, &p);

    (void)state;
    assert_non_null(v);
    assert_int_equal(v->refuse_at, ATT_SEV_MEDIUM);
    assert_true(v->refuse_unfixed);
    assert_int_equal(v->running, ATT_VULN_RUNNING_QUARANTINE);
    assert_int_equal(v->max_feed_age, 86400);
    assert_int_equal(v->n_allow, 2);
    assert_string_equal(v->allow[0].id, "CVE-2024-0001");
    assert_int_equal(v->allow[0].expires_at, T_2026_12_31);
    assert_string_equal(v->allow[0].reason, "not reachable: no TLS server");
    assert_string_equal(v->allow[1].id, "DSA-5678-1");
    assert_int_equal(v->allow[1].expires_at, T_2026_06_30); /* offset applied, fraction dropped */
    assert_string_equal(v->allow[1].reason, "vendor backport \xc3\xa9");
    att_policy_free(p);
}

/* Every key is optional: an empty section is refuse_at high, fixed only, report, no limit. */
static void test_policy_vulns_defaults_and_words(void **state)
{
    static const struct {
        const char *word;
        enum att_severity sev;
    } words[] = {
        {"unknown", ATT_SEV_UNKNOWN}, {"negligible", ATT_SEV_NEGLIGIBLE},
        {"low", ATT_SEV_LOW},         {"medium", ATT_SEV_MEDIUM},
        {"high", ATT_SEV_HIGH},       {"critical", ATT_SEV_CRITICAL},
    };
    struct att_policy *p = NULL;
    const struct att_vuln_policy *v = vulns_of(VPOL("{}"), &p);
    char json[512];
    size_t i;

    (void)state;
    assert_non_null(v);
    assert_int_equal(v->refuse_at, ATT_SEV_HIGH);
    assert_false(v->refuse_unfixed);
    assert_int_equal(v->running, ATT_VULN_RUNNING_REPORT);
    assert_int_equal(v->max_feed_age, 0);
    assert_int_equal(v->n_allow, 0);
    assert_null(v->allow);
    att_policy_free(p);

    v = vulns_of(VPOL("{\"running\": \"report\", \"refuse_unfixed\": false, \"allow\": [], "
                      "\"max_feed_age\": 31622400}"),
                 &p);
    assert_int_equal(v->running, ATT_VULN_RUNNING_REPORT);
    assert_false(v->refuse_unfixed);
    assert_int_equal(v->n_allow, 0);
    assert_int_equal(v->max_feed_age, 366u * 24u * 3600u); /* the largest allowed */
    att_policy_free(p);
    v = vulns_of(VPOL("{\"max_feed_age\": 1}"), &p);
    assert_int_equal(v->max_feed_age, 1);
    att_policy_free(p);

    for (i = 0; i < NELEM(words); i++) {
        (void)snprintf(json, sizeof(json), VPOL("{\"refuse_at\": \"%s\"}"), words[i].word);
        v = vulns_of(json, &p);
        assert_int_equal(v->refuse_at, words[i].sev);
        att_policy_free(p);
    }
}

/* No "vulnerabilities" section: no bar at all. */
static void test_policy_vulns_absent(void **state)
{
    struct att_policy *p = NULL;

    (void)state;
    assert_null(vulns_of(CPOL("{\"name\": \"web\", \"images\": [\"" IMG1 "\"]}"), &p));
    att_policy_free(p);
}

/* encode -> parse keeps the bar; encode -> parse -> encode is a fixed point. */
static void test_policy_vulns_round_trip(void **state)
{
    const char *json = VPOL(
        "{\"refuse_at\": \"low\", \"refuse_unfixed\": true, \"running\": \"quarantine\", "
        "\"max_feed_age\": 7200, \"allow\": ["
        "{\"id\": \"CVE-2024-0001\", \"expires\": \"2026-12-31T00:00:00Z\", \"reason\": \"r1\"}, "
        "{\"id\": \"GHSA-xxxx-yyyy\", \"expires\": \"2026-06-30T12:00:00+02:00\", "
        "\"reason\": \"caf\\u00e9 only\"}]}");
    struct att_policy *p = NULL;
    struct att_policy *q = NULL;
    const struct att_vuln_policy *v;
    const struct att_vuln_policy *w;
    struct att_buf a;
    struct att_buf b;
    char why[512] = "";
    size_t i;

    (void)state;
    v = vulns_of(json, &p);
    att_buf_init(&a, 1u << 20);
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_policy_encode_json(p, &a), ATT_OK);
    assert_non_null(strstr((const char *)a.data, "\"vulnerabilities\""));
    assert_non_null(strstr((const char *)a.data, "\"2026-06-30T10:00:00Z\""));
    assert_int_equal(att_policy_parse_json((const char *)a.data, a.len, &q, why, sizeof(why)),
                     ATT_OK);
    w = q->containers[0].vulns;
    assert_non_null(w);
    assert_int_equal(w->refuse_at, v->refuse_at);
    assert_int_equal(w->refuse_unfixed, v->refuse_unfixed);
    assert_int_equal(w->running, v->running);
    assert_int_equal(w->max_feed_age, v->max_feed_age);
    assert_int_equal(w->n_allow, v->n_allow);
    for (i = 0; i < v->n_allow; i++) {
        assert_string_equal(w->allow[i].id, v->allow[i].id);
        assert_int_equal(w->allow[i].expires_at, v->allow[i].expires_at);
        assert_string_equal(w->allow[i].reason, v->allow[i].reason);
    }
    assert_int_equal(att_policy_encode_json(q, &b), ATT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    att_policy_free(q);
    q = NULL;
    att_policy_free(p);

    /* the defaults (and no max_feed_age) survive the trip too */
    v = vulns_of(VPOL("{}"), &p);
    assert_non_null(v);
    att_buf_reset(&a);
    assert_int_equal(att_policy_encode_json(p, &a), ATT_OK);
    assert_null(strstr((const char *)a.data, "max_feed_age"));
    assert_int_equal(att_policy_parse_json((const char *)a.data, a.len, &q, why, sizeof(why)),
                     ATT_OK);
    w = q->containers[0].vulns;
    assert_non_null(w);
    assert_int_equal(w->refuse_at, ATT_SEV_HIGH);
    assert_false(w->refuse_unfixed);
    assert_int_equal(w->running, ATT_VULN_RUNNING_REPORT);
    assert_int_equal(w->max_feed_age, 0);
    assert_int_equal(w->n_allow, 0);
    att_policy_free(q);
    att_policy_free(p);
    att_buf_cleanup(&a);
    att_buf_cleanup(&b);
}

#define ALLOW1(item) VPOL("{\"allow\": [" item "]}")
#define ITEM(id, exp, reason)                                                                      \
    "{\"id\": \"" id "\", \"expires\": \"" exp "\", \"reason\": \"" reason "\"}"
#define ITEM_OK ITEM("CVE-1", "2026-12-31T00:00:00Z", "r")

static void test_policy_vulns_rejects(void **state)
{
    static const char *const bad_expires[] = {
        "tomorrow",
        "",
        "2026-12-31",
        "2026-12-31 00:00:00Z",
        "2026-12-31T00:00:00",      /* no zone */
        "2026-12-31T00:00:00Z ",    /* trailing blank */
        "2026-12-31T00:00:00+2:00", /* short offset */
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-12-32T00:00:00Z",
        "2026-12-31T24:00:00Z",
        "2026-12-31T23:60:00Z",
        "1969-12-31T23:59:59Z", /* before the epoch */
        "26-12-31T00:00:00Z",
    };
    char json[1024];
    size_t i;

    (void)state;
    expect_reject(VPOL("[]"), "\"vulnerabilities\" must be an object");
    expect_reject(VPOL("true"), "\"vulnerabilities\" must be an object");
    /* unknown keys, a typo among them */
    expect_reject(VPOL("{\"refuse\": \"high\"}"), "unknown vulnerabilities key \"refuse\"");
    expect_reject(VPOL("{\"refuse_at\": \"high\", \"Refuse_unfixed\": true}"),
                  "unknown vulnerabilities key");
    /* refuse_at */
    expect_reject(VPOL("{\"refuse_at\": \"severe\"}"), "vulnerabilities.refuse_at must be one of");
    expect_reject(VPOL("{\"refuse_at\": \"\"}"), "vulnerabilities.refuse_at");
    expect_reject(VPOL("{\"refuse_at\": 7}"), "vulnerabilities.refuse_at");
    expect_reject(VPOL("{\"refuse_at\": null}"), "vulnerabilities.refuse_at");
    /* refuse_unfixed */
    expect_reject(VPOL("{\"refuse_unfixed\": 1}"),
                  "vulnerabilities.refuse_unfixed must be true or false");
    expect_reject(VPOL("{\"refuse_unfixed\": \"true\"}"), "vulnerabilities.refuse_unfixed");
    expect_reject(VPOL("{\"refuse_unfixed\": null}"), "vulnerabilities.refuse_unfixed");
    /* running */
    expect_reject(VPOL("{\"running\": \"kill\"}"),
                  "vulnerabilities.running must be \"report\" or \"quarantine\"");
    expect_reject(VPOL("{\"running\": \"Quarantine\"}"), "vulnerabilities.running");
    expect_reject(VPOL("{\"running\": true}"), "vulnerabilities.running");
    /* max_feed_age: whole seconds, 1 to 366 days */
    expect_reject(VPOL("{\"max_feed_age\": 0}"), "vulnerabilities.max_feed_age must be seconds");
    expect_reject(VPOL("{\"max_feed_age\": -5}"), "vulnerabilities.max_feed_age");
    expect_reject(VPOL("{\"max_feed_age\": 31622401}"), "vulnerabilities.max_feed_age");
    expect_reject(VPOL("{\"max_feed_age\": 9223372036854775807}"), "vulnerabilities.max_feed_age");
    expect_reject(VPOL("{\"max_feed_age\": 3600.0}"), "vulnerabilities.max_feed_age");
    expect_reject(VPOL("{\"max_feed_age\": 1.5}"), "vulnerabilities.max_feed_age");
    expect_reject(VPOL("{\"max_feed_age\": \"3600\"}"), "vulnerabilities.max_feed_age");
    /* allow: an array of {id, expires, reason} and nothing else */
    expect_reject(VPOL("{\"allow\": {}}"), "vulnerabilities.allow must be an array");
    expect_reject(VPOL("{\"allow\": \"CVE-2024-0001\"}"), "vulnerabilities.allow must be an array");
    expect_reject(ALLOW1("\"CVE-2024-0001\""), "vulnerabilities.allow[0] must be");
    expect_reject(ALLOW1("{\"id\": \"CVE-1\", \"expires\": \"2026-12-31T00:00:00Z\"}"),
                  "vulnerabilities.allow[0] must be");
    expect_reject(ALLOW1("{\"id\": \"CVE-1\", \"reason\": \"r\"}"), "vulnerabilities.allow[0]");
    expect_reject(ALLOW1("{\"expires\": \"2026-12-31T00:00:00Z\", \"reason\": \"r\"}"),
                  "vulnerabilities.allow[0]");
    expect_reject(ALLOW1("{\"id\": \"CVE-1\", \"expires\": \"2026-12-31T00:00:00Z\", "
                         "\"reason\": \"r\", \"approved_by\": \"me\"}"),
                  "vulnerabilities.allow[0] must be");
    expect_reject(ALLOW1(ITEM_OK ", " ITEM("", "2026-12-31T00:00:00Z", "r")),
                  "vulnerabilities.allow[1] must be");
    expect_reject(ALLOW1(ITEM("CVE-1", "2026-12-31T00:00:00Z", "")), "vulnerabilities.allow[0]");
    expect_reject(ALLOW1("{\"id\": 5, \"expires\": \"2026-12-31T00:00:00Z\", \"reason\": \"r\"}"),
                  "vulnerabilities.allow[0]");
    expect_reject(ALLOW1("{\"id\": \"CVE-1\", \"expires\": 1798675200, \"reason\": \"r\"}"),
                  "vulnerabilities.allow[0]");
    expect_reject(ALLOW1(ITEM("CVE-1\\u0001", "2026-12-31T00:00:00Z", "r")),
                  "vulnerabilities.allow[0]");
    expect_reject(ALLOW1(ITEM("CVE-1", "2026-12-31T00:00:00Z", "line\\nbreak")),
                  "vulnerabilities.allow[0]");
    for (i = 0; i < NELEM(bad_expires); i++) {
        (void)snprintf(json, sizeof(json), ALLOW1(ITEM("CVE-1", "%s", "r")), bad_expires[i]);
        expect_reject(json, "vulnerabilities.allow[0].expires is not an RFC 3339 time");
    }
}

/* Ids are at most ATT_VULN_MAX_ID bytes; one more is refused. */
static void test_policy_vulns_id_length(void **state)
{
    char id[ATT_VULN_MAX_ID + 2];
    char json[1024];
    struct att_policy *p = NULL;
    const struct att_vuln_policy *v;

    (void)state;
    memset(id, 'A', sizeof(id));
    id[ATT_VULN_MAX_ID] = '\0';
    (void)snprintf(json, sizeof(json), ALLOW1(ITEM("%s", "2026-12-31T00:00:00Z", "r")), id);
    v = vulns_of(json, &p);
    assert_int_equal(strlen(v->allow[0].id), ATT_VULN_MAX_ID);
    att_policy_free(p);
    id[ATT_VULN_MAX_ID] = 'A';
    id[ATT_VULN_MAX_ID + 1] = '\0';
    (void)snprintf(json, sizeof(json), ALLOW1(ITEM("%s", "2026-12-31T00:00:00Z", "r")), id);
    expect_reject(json, "vulnerabilities.allow[0]");
}

/*
 * allow[].expires is a real RFC 3339 date-time (the schema's "format":
 * "date-time"): no day the month lacks (timegm would move it into the next
 * month), no fraction point without digits, digits only in the numeric
 * fields, offsets up to 23:59, and nothing before the epoch once the offset
 * is applied (a negative time cast to uint64_t would never expire).
 */
static void test_policy_vulns_expires_strict(void **state)
{
    static const char *const bad[] = {
        "1970-01-01T00:00:00+01:00", /* 1969-12-31T23:00:00Z */
        "2026-02-31T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-12-31T00:00:00.Z",
        "2026-12-31T00:00:00.1234567891Z",
        "2026-+1-01T00:00:00Z",
        "2026-12-31T 1:00:00Z",
        "2026-12-31T00:00:00+29:00",
        "2026-12-31T00:00:00+01:60",
    };
    static const struct {
        const char *text;
        uint64_t at;
    } good[] = {
        {"1970-01-01T01:00:00+01:00", 0},
        {"2024-02-29T00:00:00Z", 1709164800u},
        {"2026-12-31t00:00:00z", T_2026_12_31},
        {"2026-12-30T23:00:00.123456789-01:00", T_2026_12_31},
    };
    char json[1024];
    struct att_policy *p = NULL;
    const struct att_vuln_policy *v;
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(bad); i++) {
        (void)snprintf(json, sizeof(json), ALLOW1(ITEM("CVE-1", "%s", "r")), bad[i]);
        expect_reject(json, "vulnerabilities.allow[0].expires is not an RFC 3339 time");
    }
    for (i = 0; i < NELEM(good); i++) {
        (void)snprintf(json, sizeof(json), ALLOW1(ITEM("CVE-1", "%s", "r")), good[i].text);
        v = vulns_of(json, &p);
        if (v->allow[0].expires_at != good[i].at) {
            fail_msg("%s: %llu, wanted %llu", good[i].text,
                     (unsigned long long)v->allow[0].expires_at, (unsigned long long)good[i].at);
        }
        att_policy_free(p);
    }
}

/*
 * refuse_at takes only the six lower-case names of proto/policy.schema.json,
 * not the feed words att_severity_parse knows ("moderate", Debian urgencies,
 * any case): found by this test, fixed in policy_json.c's severity_word.
 */
static void test_policy_vulns_refuse_at_only_schema_words(void **state)
{
    static const char *const words[] = {
        "HIGH", "High", "moderate", "important", "unimportant", "not yet assigned", "low**"};
    char json[512];
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(words); i++) {
        struct att_policy *p = NULL;

        (void)snprintf(json, sizeof(json), VPOL("{\"refuse_at\": \"%s\"}"), words[i]);
        if (parse(json, &p, NULL, 0) == ATT_OK) {
            att_policy_free(p);
            fail_msg("refuse_at \"%s\" accepted; the schema allows only the six lower-case names",
                     words[i]);
        }
        expect_reject(json, "vulnerabilities.refuse_at must be one of");
    }
}

/* ------------------------------------------------------------------------- */
/* A container policy's "network" section (issue 9)                         */

#define NPOL(inner) CPOL("{\"name\": \"web\", \"images\": [\"" IMG1 "\"], \"network\": " inner "}")
#define NRULE(rule) NPOL("{\"default\": \"deny\", \"rules\": [" rule "]}")

/* Parse @p json (one container "web") and return its network policy; the caller frees @p p. */
static const struct att_net_policy *net_of(const char *json, struct att_policy **p)
{
    char why[512] = "";

    *p = NULL;
    if (parse(json, p, why, sizeof(why)) != ATT_OK) {
        fail_msg("refused: %s (%s)", why, json);
    }
    assert_int_equal((*p)->n_containers, 1);
    return (*p)->containers[0].network;
}

/* The canonical text of @p np, NUL-terminated in @p out (cleaned up by the caller). */
static const char *canon(const struct att_net_policy *np, struct att_buf *out)
{
    att_buf_init(out, 1u << 20);
    assert_int_equal(att_net_policy_canonical(np, out), ATT_OK);
    return (const char *)out->data;
}

#define NET_FULL                                                                                   \
    NPOL("{\"default\": \"deny\", \"resolve_interval\": 60, \"rules\": ["                          \
         "{\"direction\": \"egress\", \"protocol\": \"tcp\", \"cidr\": \"10.1.0.0/24\", "          \
         "\"ports\": 443}, "                                                                       \
         "{\"direction\": \"egress\", \"action\": \"allow\", \"protocol\": \"udp\", "              \
         "\"dns\": [\"NS1.Example.com\", \"ns2.example.org\"], \"ports\": \"53\"}, "               \
         "{\"direction\": \"egress\", \"action\": \"deny\", \"protocol\": \"tcp\", "               \
         "\"cidr\": \"fd00::/8\", \"ports\": \"8000-8100\"}, "                                     \
         "{\"direction\": \"ingress\", \"protocol\": \"tcp\", \"cidr\": \"192.0.2.7\", "           \
         "\"ports\": \"22\"}, "                                                                    \
         "{\"direction\": \"ingress\", \"action\": \"allow\", \"protocol\": \"icmp\"}, "           \
         "{\"direction\": \"egress\", \"protocol\": \"any\", \"cidr\": \"2001:db8::1\"}]}")

#define NET_FULL_TEXT                                                                              \
    "default deny resolve 60\n"                                                                    \
    "egress allow tcp 10.1.0.0/24 443\n"                                                           \
    "egress allow udp dns:ns1.example.com,ns2.example.org 53\n"                                    \
    "egress deny tcp fd00::/8 8000-8100\n"                                                         \
    "ingress allow tcp 192.0.2.7/32 22\n"                                                          \
    "ingress allow icmp any any\n"                                                                 \
    "egress allow any 2001:db8::1/128 any\n"

static void test_policy_network_parse_full(void **state)
{
    struct att_policy *p = NULL;
    const struct att_net_policy *n = net_of(NET_FULL, &p);
    struct att_buf b;

    (void)state;
    assert_non_null(n);
    assert_false(n->default_allow);
    assert_int_equal(n->resolve_interval, 60);
    assert_int_equal(n->n_rules, 6);
    assert_int_equal(n->rules[0].dir, ATT_NET_EGRESS);
    assert_true(n->rules[0].allow);
    assert_int_equal(n->rules[0].proto, ATT_NET_TCP);
    assert_int_equal(n->rules[0].family, 4);
    assert_int_equal(n->rules[0].prefix, 24);
    assert_int_equal(n->rules[0].port_lo, 443);
    assert_int_equal(n->rules[0].port_hi, 443);
    assert_int_equal(n->rules[1].family, 0);
    assert_int_equal(n->rules[1].n_dns, 2);
    assert_string_equal(n->rules[1].dns[0], "ns1.example.com"); /* stored lower-cased */
    assert_false(n->rules[2].allow);
    assert_int_equal(n->rules[2].port_lo, 8000);
    assert_int_equal(n->rules[2].port_hi, 8100);
    assert_int_equal(n->rules[3].dir, ATT_NET_INGRESS);
    assert_int_equal(n->rules[3].prefix, 32);
    assert_int_equal(n->rules[4].proto, ATT_NET_ICMP);
    assert_int_equal(n->rules[4].port_lo, 0);
    assert_int_equal(n->rules[5].proto, ATT_NET_ANY);
    assert_int_equal(n->rules[5].family, 6);
    assert_int_equal(n->rules[5].prefix, 128);
    assert_string_equal(canon(n, &b), NET_FULL_TEXT);
    att_buf_cleanup(&b);
    att_policy_free(p);
}

/* parse -> encode -> parse gives the same canonical text; encode is a fixed point. */
static void test_policy_network_round_trip(void **state)
{
    struct att_policy *p = NULL;
    struct att_policy *q = NULL;
    const struct att_net_policy *n = net_of(NET_FULL, &p);
    struct att_buf a;
    struct att_buf b;
    struct att_buf ca;
    struct att_buf cb;
    char why[512] = "";
    const char *text;

    (void)state;
    att_buf_init(&a, 1u << 20);
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_policy_encode_json(p, &a), ATT_OK);
    text = (const char *)a.data;
    /* the shape the parser reads, every default written out */
    assert_non_null(strstr(text, "\"network\": {"));
    assert_non_null(strstr(text, "\"resolve_interval\": 60"));
    assert_non_null(strstr(text, "\"ports\": \"443\""));
    assert_non_null(strstr(text, "\"ports\": \"8000-8100\""));
    assert_non_null(strstr(text, "\"cidr\": \"192.0.2.7/32\""));
    assert_non_null(strstr(text, "\"ns1.example.com\""));
    assert_null(strstr(text, "NS1"));
    if (parse(text, &q, why, sizeof(why)) != ATT_OK) {
        fail_msg("encoded policy refused: %s\n%s", why, text);
    }
    assert_non_null(q->containers[0].network);
    assert_string_equal(canon(q->containers[0].network, &cb), canon(n, &ca));
    assert_int_equal(att_policy_encode_json(q, &b), ATT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    att_buf_cleanup(&ca);
    att_buf_cleanup(&cb);
    att_policy_free(q);
    q = NULL;
    att_policy_free(p);

    /* a section with nothing but the default survives the trip as itself */
    n = net_of(NPOL("{\"default\": \"allow\"}"), &p);
    att_buf_reset(&a);
    assert_int_equal(att_policy_encode_json(p, &a), ATT_OK);
    assert_int_equal(parse((const char *)a.data, &q, why, sizeof(why)), ATT_OK);
    assert_string_equal(canon(q->containers[0].network, &cb), canon(n, &ca));
    assert_string_equal((const char *)ca.data, "default allow resolve 300\n");
    att_buf_cleanup(&ca);
    att_buf_cleanup(&cb);
    att_policy_free(q);
    att_policy_free(p);
    att_buf_cleanup(&a);
    att_buf_cleanup(&b);
}

/* No section: no restriction. A rule's action, protocol and the interval default. */
static void test_policy_network_defaults(void **state)
{
    struct att_policy *p = NULL;
    const struct att_net_policy *n;

    (void)state;
    assert_null(net_of(CPOL("{\"name\": \"web\", \"images\": [\"" IMG1 "\"]}"), &p));
    att_policy_free(p);

    n = net_of(NPOL("{\"default\": \"deny\", \"rules\": [{\"direction\": \"egress\"}]}"), &p);
    assert_false(n->default_allow);
    assert_int_equal(n->resolve_interval, ATT_NET_RESOLVE_DEFAULT);
    assert_int_equal(n->n_rules, 1);
    assert_true(n->rules[0].allow); /* the exception to deny */
    assert_int_equal(n->rules[0].proto, ATT_NET_ANY);
    assert_int_equal(n->rules[0].family, 0);
    assert_int_equal(n->rules[0].n_dns, 0);
    assert_int_equal(n->rules[0].port_lo, 0);
    assert_int_equal(n->rules[0].port_hi, 0);
    att_policy_free(p);

    n = net_of(NPOL("{\"default\": \"allow\", \"rules\": [{\"direction\": \"ingress\"}]}"), &p);
    assert_true(n->default_allow);
    assert_false(n->rules[0].allow); /* the exception to allow */
    att_policy_free(p);

    /* explicit actions win either way; empty rules and the interval's bounds */
    n = net_of(NPOL("{\"default\": \"allow\", \"resolve_interval\": 5, \"rules\": []}"), &p);
    assert_int_equal(n->resolve_interval, ATT_NET_RESOLVE_MIN);
    assert_int_equal(n->n_rules, 0);
    att_policy_free(p);
    n = net_of(NPOL("{\"default\": \"deny\", \"resolve_interval\": 86400, \"rules\": ["
                    "{\"direction\": \"egress\", \"action\": \"deny\"}]}"),
               &p);
    assert_int_equal(n->resolve_interval, ATT_NET_RESOLVE_MAX);
    assert_false(n->rules[0].allow);
    att_policy_free(p);
    n = net_of(NRULE("{\"direction\": \"egress\", \"protocol\": \"udp\", \"ports\": \"1-65535\"}"),
               &p);
    assert_int_equal(n->rules[0].port_lo, 1);
    assert_int_equal(n->rules[0].port_hi, 65535);
    att_policy_free(p);
}

/* The limits themselves are accepted: 256 rules, 16 names. */
static void test_policy_network_limits(void **state)
{
    static const char rule[] = "{\"direction\": \"egress\", \"cidr\": \"10.0.0.0/8\"}";
    struct att_buf j;
    struct att_policy *p = NULL;
    const struct att_net_policy *n;
    size_t i;

    (void)state;
    att_buf_init(&j, 1u << 20);
    assert_int_equal(att_buf_append_str(&j,
                                        "{\"version\": 1, \"reference_values\": {}, "
                                        "\"containers\": [{\"name\": \"web\", \"images\": [\"" IMG1
                                        "\"], \"network\": {\"default\": \"deny\", \"rules\": ["),
                     ATT_OK);
    for (i = 0; i < ATT_NET_MAX_RULES; i++) {
        assert_int_equal(att_buf_printf(&j, "%s%s", i > 0 ? ", " : "", rule), ATT_OK);
    }
    assert_int_equal(att_buf_append_str(&j, "]}}]}"), ATT_OK);
    n = net_of((const char *)j.data, &p);
    assert_int_equal(n->n_rules, ATT_NET_MAX_RULES);
    att_policy_free(p);
    /* one more is refused */
    att_buf_truncate(&j, j.len - strlen("]}}]}"));
    assert_int_equal(att_buf_printf(&j, ", %s]}}]}", rule), ATT_OK);
    expect_reject((const char *)j.data,
                  "policy: container \"web\": network.rules must be an array of at most 256 rules");
    att_buf_cleanup(&j);

    n = net_of(NRULE("{\"direction\": \"egress\", \"dns\": [\"a1.x\", \"a2.x\", \"a3.x\", "
                     "\"a4.x\", \"a5.x\", \"a6.x\", \"a7.x\", \"a8.x\", \"a9.x\", \"a10.x\", "
                     "\"a11.x\", \"a12.x\", \"a13.x\", \"a14.x\", \"a15.x\", \"a16.x\"]}"),
               &p);
    assert_int_equal(n->rules[0].n_dns, ATT_NET_MAX_DNS);
    att_policy_free(p);
    expect_reject(NRULE("{\"direction\": \"egress\", \"dns\": [\"a1.x\", \"a2.x\", \"a3.x\", "
                        "\"a4.x\", \"a5.x\", \"a6.x\", \"a7.x\", \"a8.x\", \"a9.x\", \"a10.x\", "
                        "\"a11.x\", \"a12.x\", \"a13.x\", \"a14.x\", \"a15.x\", \"a16.x\", "
                        "\"a17.x\"]}"),
                  "network.rules[0].dns must be an array of 1 to 16 DNS names");
}

#define EGRESS_TCP "{\"direction\": \"egress\", \"protocol\": \"tcp\", "

static void test_policy_network_rejects(void **state)
{
    static const char *const bad_ports[] = {
        "0",      "65536",  "\"0\"",   "\"65536\"",   "\"9-3\"",  "\"x\"",     "\"\"",
        "\"-5\"", "\"5-\"", "\"0-5\"", "\"1-65536\"", "\"0443\"", "\"1 - 5\"", "\"1-2-3\"",
        "443.0",  "-1",     "[443]",   "null",        "true",
    };
    char json[1024];
    size_t i;

    (void)state;
    /* the section itself */
    expect_reject(NPOL("[]"), "policy: container \"web\": \"network\" must be an object");
    expect_reject(NPOL("null"), "\"network\" must be an object");
    expect_reject(NPOL("{\"default\": \"deny\", \"color\": 1}"),
                  "policy: container \"web\": unknown network key \"color\"");
    expect_reject(NPOL("{}"), "policy: container \"web\": network.default must be \"deny\" or "
                              "\"allow\"");
    expect_reject(NPOL("{\"rules\": []}"), "network.default must be");
    expect_reject(NPOL("{\"default\": \"Deny\"}"), "network.default must be");
    expect_reject(NPOL("{\"default\": \"drop\"}"), "network.default must be");
    expect_reject(NPOL("{\"default\": false}"), "network.default must be");
    expect_reject(NPOL("{\"default\": \"deny\", \"resolve_interval\": 4}"),
                  "network.resolve_interval must be seconds, 5 to 86400");
    expect_reject(NPOL("{\"default\": \"deny\", \"resolve_interval\": 86401}"),
                  "network.resolve_interval must be seconds");
    expect_reject(NPOL("{\"default\": \"deny\", \"resolve_interval\": -300}"),
                  "network.resolve_interval");
    expect_reject(NPOL("{\"default\": \"deny\", \"resolve_interval\": 300.0}"),
                  "network.resolve_interval");
    expect_reject(NPOL("{\"default\": \"deny\", \"resolve_interval\": \"300\"}"),
                  "network.resolve_interval");
    expect_reject(NPOL("{\"default\": \"deny\", \"rules\": {}}"), "network.rules must be an array");
    expect_reject(NPOL("{\"default\": \"deny\", \"rules\": \"egress\"}"),
                  "network.rules must be an array");
    expect_reject(NRULE("1"), "network.rules[0] must be an object");
    /* a rule's words */
    expect_reject(NRULE("{\"direction\": \"egress\", \"port\": 443}"),
                  "policy: container \"web\": unknown network.rules[0] key \"port\"");
    expect_reject(NRULE("{\"action\": \"allow\"}"),
                  "network.rules[0].direction must be \"egress\" or \"ingress\"");
    expect_reject(NRULE("{\"direction\": \"outbound\"}"), "network.rules[0].direction must be");
    expect_reject(NRULE("{\"direction\": \"egress\"}, {\"direction\": \"Ingress\"}"),
                  "network.rules[1].direction must be");
    expect_reject(NRULE("{\"direction\": \"egress\", \"action\": \"accept\"}"),
                  "network.rules[0].action must be \"allow\" or \"deny\"");
    expect_reject(NRULE("{\"direction\": \"egress\", \"action\": true}"),
                  "network.rules[0].action must be");
    expect_reject(NRULE("{\"direction\": \"egress\", \"protocol\": \"sctp\"}"),
                  "network.rules[0].protocol must be \"tcp\", \"udp\", \"icmp\" or \"any\"");
    expect_reject(NRULE("{\"direction\": \"egress\", \"protocol\": \"TCP\"}"),
                  "network.rules[0].protocol must be");
    /* ports */
    expect_reject(NRULE("{\"direction\": \"egress\", \"ports\": 443}"),
                  "policy: container \"web\": network.rules[0].ports needs protocol tcp or udp");
    expect_reject(NRULE("{\"direction\": \"egress\", \"protocol\": \"icmp\", \"ports\": \"53\"}"),
                  "network.rules[0].ports needs protocol tcp or udp");
    expect_reject(NRULE("{\"direction\": \"egress\", \"protocol\": \"any\", \"ports\": 53}"),
                  "network.rules[0].ports needs protocol tcp or udp");
    for (i = 0; i < NELEM(bad_ports); i++) {
        (void)snprintf(json, sizeof(json), NRULE(EGRESS_TCP "\"ports\": %s}"), bad_ports[i]);
        expect_reject(json, "network.rules[0].ports must be a port 1 to 65535");
    }
    /* peers */
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": \"10.0.0.0/8\", \"dns\": [\"db.example.com\"]}"),
                  "network.rules[0] has both \"cidr\" and \"dns\"");
    expect_reject(NRULE("{\"direction\": \"egress\"}, {\"direction\": \"egress\"}, "
                        "{\"direction\": \"egress\", \"cidr\": \"10.1.0.5/24\"}"),
                  "policy: container \"web\": network.rules[2].cidr \"10.1.0.5/24\" has host "
                  "bits set");
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": \"fd00::1/8\"}"),
                  "network.rules[0].cidr \"fd00::1/8\" has host bits set");
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": \"10.1.0.0/33\"}"),
                  "network.rules[0].cidr \"10.1.0.0/33\": the prefix length must be 0 to 32");
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": \"10.1.0\"}"),
                  "network.rules[0].cidr \"10.1.0\" is not an IPv4 address");
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": \"db.example.com\"}"),
                  "network.rules[0].cidr \"db.example.com\" is not an IPv4 address");
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": \"\"}"), "network.rules[0].cidr");
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": \"10.0.0.0/8\\n\"}"),
                  "network.rules[0].cidr value"); /* a control byte is never echoed */
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": 167772160}"),
                  "network.rules[0].cidr must be a string");
    expect_reject(NRULE(EGRESS_TCP "\"cidr\": [\"10.0.0.0/8\"]}"),
                  "network.rules[0].cidr must be a string");
    expect_reject(NRULE(EGRESS_TCP "\"dns\": [\"db.example.com\", \"bad..name\"]}"),
                  "policy: container \"web\": network.rules[0].dns[1] is not a DNS name");
    expect_reject(NRULE(EGRESS_TCP "\"dns\": [\"db.example.com.\"]}"),
                  "network.rules[0].dns[0] is not a DNS name");
    expect_reject(NRULE(EGRESS_TCP "\"dns\": [\"-db.example.com\"]}"),
                  "network.rules[0].dns[0] is not a DNS name");
    expect_reject(NRULE(EGRESS_TCP "\"dns\": [\"db_1.example.com\"]}"),
                  "network.rules[0].dns[0] is not a DNS name");
    expect_reject(NRULE(EGRESS_TCP "\"dns\": [7]}"), "network.rules[0].dns[0] is not a DNS name");
    expect_reject(NRULE(EGRESS_TCP "\"dns\": []}"),
                  "network.rules[0].dns must be an array of 1 to 16 DNS names");
    expect_reject(NRULE(EGRESS_TCP "\"dns\": \"db.example.com\"}"),
                  "network.rules[0].dns must be an array");
}

/* A policy built by hand with a network section outside the model is not written out. */
static void test_policy_network_encode_refuses(void **state)
{
    struct att_policy *p = NULL;
    struct att_net_policy *n;
    struct att_buf a;

    (void)state;
    (void)net_of(NET_FULL, &p);
    n = p->containers[0].network;
    att_buf_init(&a, 1u << 20);
    n->rules[0].addr[3] = 5; /* host bits */
    assert_int_equal(att_policy_encode_json(p, &a), ATT_ERR_INVALID_ARG);
    n->rules[0].addr[3] = 0;
    n->resolve_interval = 1;
    assert_int_equal(att_policy_encode_json(p, &a), ATT_ERR_INVALID_ARG);
    n->resolve_interval = 60;
    n->rules[4].port_lo = 7; /* ports on icmp */
    n->rules[4].port_hi = 7;
    assert_int_equal(att_policy_encode_json(p, &a), ATT_ERR_INVALID_ARG);
    n->rules[4].port_lo = 0;
    n->rules[4].port_hi = 0;
    n->rules[1].family = 4; /* names and a CIDR */
    assert_int_equal(att_policy_encode_json(p, &a), ATT_ERR_INVALID_ARG);
    n->rules[1].family = 0;
    assert_int_equal(a.len, 0);
    assert_int_equal(att_policy_encode_json(p, &a), ATT_OK);
    att_buf_cleanup(&a);
    att_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_quarantine),
        cmocka_unit_test(test_policy_add_invalid_args),
        cmocka_unit_test(test_policy_containers_parse_and_lookup),
        cmocka_unit_test(test_policy_containers_rejects),
        cmocka_unit_test(test_policy_check_null_args_not_allowed),
        cmocka_unit_test(test_policy_empty_finds_nothing),
        cmocka_unit_test(test_policy_check_results),
        cmocka_unit_test(test_policy_add_dedups_and_sorts),
        cmocka_unit_test(test_policy_many_paths_binary_search),
        cmocka_unit_test(test_policy_parse_null_and_empty),
        cmocka_unit_test(test_policy_parse_oversized),
        cmocka_unit_test(test_policy_parse_syntax_and_trailing),
        cmocka_unit_test(test_policy_parse_top_level_rules),
        cmocka_unit_test(test_policy_parse_name_too_long),
        cmocka_unit_test(test_policy_parse_bad_paths),
        cmocka_unit_test(test_policy_parse_bad_digests),
        cmocka_unit_test(test_policy_parse_valid),
        cmocka_unit_test(test_policy_minimal_and_no_name),
        cmocka_unit_test(test_policy_json_round_trip),
        cmocka_unit_test(test_policy_encode_invalid),
        cmocka_unit_test(test_policy_encode_buffer_cap),
        cmocka_unit_test(test_policy_vulns_parse_full),
        cmocka_unit_test(test_policy_vulns_defaults_and_words),
        cmocka_unit_test(test_policy_vulns_absent),
        cmocka_unit_test(test_policy_vulns_round_trip),
        cmocka_unit_test(test_policy_vulns_rejects),
        cmocka_unit_test(test_policy_vulns_id_length),
        cmocka_unit_test(test_policy_vulns_expires_strict),
        cmocka_unit_test(test_policy_vulns_refuse_at_only_schema_words),
        cmocka_unit_test(test_policy_network_parse_full),
        cmocka_unit_test(test_policy_network_round_trip),
        cmocka_unit_test(test_policy_network_defaults),
        cmocka_unit_test(test_policy_network_limits),
        cmocka_unit_test(test_policy_network_rejects),
        cmocka_unit_test(test_policy_network_encode_refuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
