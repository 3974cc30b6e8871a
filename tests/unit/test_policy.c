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
    assert_int_equal(att_hex_decode(DIG1 + 7, d, sizeof(d)), ATT_OK);
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
