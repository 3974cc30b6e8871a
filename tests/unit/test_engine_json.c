/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker Engine API decoding against answers captured from a real podman
 * 4.3 service (tests/data/engine/), plus malformed variants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "attest/buf.h"
#include "attest/engine_json.h"
#include "attest/util.h"

static void load(const char *name, struct att_buf *b)
{
    char path[512];

    (void)snprintf(path, sizeof(path), "%s/engine/%s", ATT_TEST_DATA_DIR, name);
    att_buf_init(b, 1u << 20);
    assert_int_equal(att_file_read(path, b), ATT_OK);
}

static void test_engine_list_podman(void **state)
{
    struct att_buf b;
    struct att_engine_container *c = NULL;
    size_t n = 0;
    char why[256] = "";

    (void)state;
    load("podman-list.json", &b);
    assert_int_equal(att_engine_list_decode((const char *)b.data, b.len, &c, &n, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(c[0].id,
                        "f94f05f3971ec1374d9a5a9dcf2f32d86baabed2b418138518be61ee65162bbb");
    assert_string_equal(c[0].image_id,
                        "sha256:1b422d0c1e733ea70a15f520a3be2bef1a435cabb875cb3f18df99a4fa9e8483");
    assert_string_equal(c[0].state, "running");
    att_engine_containers_free(c, n);
    att_buf_cleanup(&b);
}

static void test_engine_inspect_podman(void **state)
{
    struct att_buf b;
    struct att_engine_container c;
    char why[256] = "";

    (void)state;
    memset(&c, 0, sizeof(c));
    load("podman-inspect.json", &b);
    assert_int_equal(att_engine_inspect_decode((const char *)b.data, b.len, &c, why, sizeof(why)),
                     ATT_OK);
    assert_string_equal(c.name, "sl");
    assert_int_equal(c.pid, 12737);
    assert_string_equal(c.state, "running");
    assert_string_equal(c.image_ref, "localhost/bb:1");
    assert_false(c.is_privileged);
    assert_int_equal(c.n_cap_add, 0);
    assert_string_equal(c.pid_mode, "private");
    att_engine_container_cleanup(&c);
    att_buf_cleanup(&b);
}

static void expect_list_fail(const char *json)
{
    struct att_engine_container *c = (struct att_engine_container *)1;
    size_t n = 7;
    char why[256] = "";

    assert_int_equal(att_engine_list_decode(json, strlen(json), &c, &n, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_null(c);
    assert_int_equal(n, 0);
    assert_true(why[0] != '\0');
}

static void test_engine_list_malformed(void **state)
{
    (void)state;
    expect_list_fail("");
    expect_list_fail("{}");
    expect_list_fail("[1]");
    expect_list_fail("[{\"Id\": \"abc\"}]");
    expect_list_fail("[{\"Id\": 5}]");
    expect_list_fail("[{\"Id\": \"F94F05F3971EC1374D9A5A9DCF2F32D86BAABED2B418138518BE61EE65162BBB\"}]");
    expect_list_fail("[{\"Id\": \"f94f05f3971ec1374d9a5a9dcf2f32d86baabed2b418138518be61ee65162bbb\", "
                     "\"State\": 3}]");
    expect_list_fail("[{\"Id\": \"f94f05f3971ec1374d9a5a9dcf2f32d86baabed2b418138518be61ee65162bbb\"}");
}

static void expect_inspect_fail(const char *json)
{
    struct att_engine_container c;
    char why[256] = "";

    memset(&c, 0, sizeof(c));
    assert_int_equal(att_engine_inspect_decode(json, strlen(json), &c, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_true(why[0] != '\0');
    att_engine_container_cleanup(&c);
}

#define ID "\"Id\": \"f94f05f3971ec1374d9a5a9dcf2f32d86baabed2b418138518be61ee65162bbb\""

static void test_engine_inspect_malformed(void **state)
{
    (void)state;
    expect_inspect_fail("[]");
    expect_inspect_fail("{\"Id\": \"x\", \"State\": {}}");
    expect_inspect_fail("{" ID "}");
    expect_inspect_fail("{" ID ", \"State\": {\"Pid\": \"12\"}}");
    expect_inspect_fail("{" ID ", \"State\": {\"Pid\": -1}}");
    expect_inspect_fail("{" ID ", \"State\": {\"Pid\": 99999999}}");
    expect_inspect_fail("{" ID ", \"State\": {}, \"HostConfig\": {\"Privileged\": \"yes\"}}");
    expect_inspect_fail("{" ID ", \"State\": {}, \"HostConfig\": {\"CapAdd\": \"CAP_SYS_ADMIN\"}}");
    expect_inspect_fail("{" ID ", \"State\": {}, \"HostConfig\": {\"CapAdd\": [1]}}");
    expect_inspect_fail("{" ID ", \"Image\": 7, \"State\": {}}");
    expect_inspect_fail("{" ID ", " ID ", \"State\": {}}");
}

static void test_engine_inspect_privileged_caps(void **state)
{
    const char *j = "{" ID ", \"Name\": \"/p\", \"State\": {\"Status\": \"running\", \"Pid\": 42}, "
                    "\"HostConfig\": {\"Privileged\": true, \"CapAdd\": [\"CAP_SYS_ADMIN\", "
                    "\"CAP_NET_ADMIN\"], \"PidMode\": \"host\"}}";
    struct att_engine_container c;
    char why[256] = "";

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(att_engine_inspect_decode(j, strlen(j), &c, why, sizeof(why)), ATT_OK);
    assert_true(c.is_privileged);
    assert_int_equal(c.n_cap_add, 2);
    assert_string_equal(c.cap_add[1], "CAP_NET_ADMIN");
    assert_string_equal(c.pid_mode, "host");
    assert_null(c.image_ref);
    att_engine_container_cleanup(&c);
}

/* The io.attest.policy label: a valid name is kept, anything else is marked invalid. */
static void test_engine_inspect_policy_label(void **state)
{
    static const struct {
        const char *labels;
        const char *want; /* NULL: no label */
    } cases[] = {
        {"{\"io.attest.policy\": \"web-1.2_x:y\"}", "web-1.2_x:y"},
        {"{\"other\": \"x\"}", NULL},
        {"null", NULL},
        {"{\"io.attest.policy\": \"two words\"}", ATT_POLICY_LABEL_INVALID},
        {"{\"io.attest.policy\": \"\"}", ATT_POLICY_LABEL_INVALID},
        {"{\"io.attest.policy\": 7}", ATT_POLICY_LABEL_INVALID},
        {"{\"io.attest.policy\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
         ATT_POLICY_LABEL_INVALID},
    };
    struct att_engine_container c;
    char why[256] = "";
    char j[1024];
    size_t i;

    (void)state;
    memset(&c, 0, sizeof(c));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        (void)snprintf(j, sizeof(j),
                       "{" ID ", \"Name\": \"/p\", \"State\": {\"Status\": \"running\", "
                       "\"Pid\": 42}, \"Config\": {\"Labels\": %s}}",
                       cases[i].labels);
        assert_int_equal(att_engine_inspect_decode(j, strlen(j), &c, why, sizeof(why)), ATT_OK);
        if (cases[i].want == NULL) {
            assert_null(c.policy_label);
        } else {
            assert_string_equal(c.policy_label, cases[i].want);
        }
    }
    att_engine_container_cleanup(&c);
    assert_false(att_engine_policy_label_ok(NULL));
    assert_false(att_engine_policy_label_ok(ATT_POLICY_LABEL_INVALID));
}

#define X1 "1111111111111111111111111111111111111111111111111111111111111111"
#define X2 "2222222222222222222222222222222222222222222222222222222222222222"
#define X3 "3333333333333333333333333333333333333333333333333333333333333333"
#define X4 "4444444444444444444444444444444444444444444444444444444444444444"
#define XA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define XB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define XC "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* containers/storage metadata: image and creation time (the image manifest's anchor). */
static void test_engine_storage_image_created(void **state)
{
    char json[1024];
    char image[80];
    char ref[64];
    struct timespec t;

    (void)state;
    (void)snprintf(json, sizeof(json),
                   "[{\"id\": \"%s\", \"image\": \"%s\", \"created\": "
                   "\"2026-11-22T22:23:58.040264812Z\", \"metadata\": "
                   "\"{\\\"image-name\\\":\\\"localhost/a:1\\\"}\"}, "
                   "{\"id\": \"%s\", \"image\": \"%s\", \"created\": "
                   "\"2026-11-22T23:23:58.5+01:00\"}, "
                   "{\"id\": \"%s\", \"image\": \"%s\", \"created\": \"yesterday\"}]",
                   X1, XA, X2, XB, X3, XC);
    assert_int_equal(att_engine_storage_image(json, strlen(json), X1, image,
                                              sizeof(image), ref, sizeof(ref), &t),
                     ATT_OK);
    assert_string_equal(image, "sha256:" XA);
    assert_string_equal(ref, "localhost/a:1");
    assert_int_equal(t.tv_sec, 1795386238); /* date -u -d 2026-11-22T22:23:58Z +%s */
    assert_int_equal(t.tv_nsec, 40264812);
    assert_int_equal(att_engine_storage_image(json, strlen(json), X2, image,
                                              sizeof(image), ref, sizeof(ref), &t),
                     ATT_OK);
    assert_int_equal(t.tv_sec, 1795386238);
    assert_int_equal(t.tv_nsec, 500000000);
    assert_int_equal(att_engine_storage_image(json, strlen(json), X3, image,
                                              sizeof(image), ref, sizeof(ref), &t),
                     ATT_OK);
    assert_int_equal(t.tv_sec, 0);
    assert_int_equal(att_engine_storage_image(json, strlen(json), X4, image,
                                              sizeof(image), ref, sizeof(ref), NULL),
                     ATT_ERR_NOT_FOUND);
    assert_int_equal(att_engine_storage_image("{", 1, X1, image, sizeof(image), ref,
                                              sizeof(ref), NULL),
                     ATT_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_list_podman),
        cmocka_unit_test(test_engine_inspect_podman),
        cmocka_unit_test(test_engine_list_malformed),
        cmocka_unit_test(test_engine_inspect_malformed),
        cmocka_unit_test(test_engine_inspect_privileged_caps),
        cmocka_unit_test(test_engine_inspect_policy_label),
        cmocka_unit_test(test_engine_storage_image_created),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
