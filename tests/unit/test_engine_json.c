/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker Engine API decoding against answers captured from a real podman
 * 4.3 service (tests/data/engine/), plus malformed variants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* containers/storage metadata: image and creation time (the layer origin's anchor). */
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

static bool has_name(char **names, size_t n, const char *want)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(names[i], want) == 0) {
            return true;
        }
    }
    return false;
}

static void test_engine_networks_decode_podman(void **state)
{
    const char *j = "{" ID ", \"NetworkSettings\": {\"Bridge\": \"\", \"Networks\": {"
                    "\"podman\": {\"IPAddress\": \"10.88.0.2\", \"NetworkID\": \"podman\"}, "
                    "\"net2\": {\"IPAddress\": \"10.89.0.2\", \"Aliases\": null}}}}";
    char **names = NULL;
    size_t n = 0;
    char why[256] = "";

    (void)state;
    assert_int_equal(att_engine_networks_decode(j, strlen(j), &names, &n, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(n, 2);
    assert_true(has_name(names, n, "podman"));
    assert_true(has_name(names, n, "net2"));
    att_engine_networks_free(names, n);
}

/* The captured podman inspect of a --network none container: "Networks": {}. */
static void test_engine_networks_decode_none(void **state)
{
    static const char *const none[] = {
        "{" ID "}",
        "{\"NetworkSettings\": null}",
        "{\"NetworkSettings\": {}}",
        "{\"NetworkSettings\": {\"Networks\": null}}",
        "{\"NetworkSettings\": {\"Networks\": {}}}",
        "{\"NetworkSettings\": {\"Networks\": {\"host\": {}}}}",
        "{\"NetworkSettings\": {\"Networks\": {\"none\": {\"IPAddress\": \"\"}}}}",
    };
    struct att_buf b;
    char **names = (char **)1;
    size_t n = 7;
    size_t i;
    char why[256] = "";

    (void)state;
    load("podman-inspect.json", &b);
    assert_int_equal(
        att_engine_networks_decode((const char *)b.data, b.len, &names, &n, why, sizeof(why)),
        ATT_OK);
    assert_int_equal(n, 0);
    assert_null(names);
    att_buf_cleanup(&b);
    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        names = (char **)1;
        n = 7;
        assert_int_equal(
            att_engine_networks_decode(none[i], strlen(none[i]), &names, &n, why, sizeof(why)),
            ATT_OK);
        assert_int_equal(n, 0);
        assert_null(names);
    }
}

static void expect_networks_fail(const char *json, size_t len)
{
    char **names = NULL;
    size_t n = 7;
    char why[256] = "";

    assert_int_equal(att_engine_networks_decode(json, len, &names, &n, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_null(names);
    assert_int_equal(n, 7); /* untouched on failure */
    assert_true(why[0] != '\0');
}

#define NETS(x) "{\"NetworkSettings\": {\"Networks\": " x "}}"

static void test_engine_networks_decode_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"NetworkSettings\": 1}",
        "{\"NetworkSettings\": []}",
        NETS("[\"podman\"]"),
        NETS("\"podman\""),
        NETS("{\"podman\": 1}"),
        NETS("{\"podman\": null}"),
        NETS("{\"\": {}}"),
        NETS("{\"..\": {}}"),
        NETS("{\".hidden\": {}}"),
        NETS("{\"-x\": {}}"),
        NETS("{\"a/b\": {}}"),
        NETS("{\"a b\": {}}"),
        NETS("{\"a%2fb\": {}}"),
        NETS("{\"caf\\u00e9\": {}}"),
        NETS("{\"a\": {}, \"a\": {}}"),
        NETS("{\"podman\": {}}") " trailing",
        NETS("{\"podman\": {}}"),
    };
    const char *valid = bad[sizeof(bad) / sizeof(bad[0]) - 1];
    char big[64 * 16 + 64];
    char name[300];
    size_t len = 0;
    size_t i;

    (void)state;
    for (i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_networks_fail(bad[i], strlen(bad[i]));
    }
    for (i = 1; i < strlen(valid); i++) {
        expect_networks_fail(valid, i); /* every truncation */
    }
    expect_networks_fail(NULL, 0);

    /* ATT_ENGINE_MAX_NETWORKS + 1 networks */
    len += (size_t)snprintf(big + len, sizeof(big) - len, "{\"NetworkSettings\": {\"Networks\": {");
    for (i = 0; i <= ATT_ENGINE_MAX_NETWORKS; i++) {
        len +=
            (size_t)snprintf(big + len, sizeof(big) - len, "%s\"n%zu\": {}", i > 0 ? ", " : "", i);
    }
    len += (size_t)snprintf(big + len, sizeof(big) - len, "}}}");
    assert_true(len < sizeof(big));
    expect_networks_fail(big, len);

    /* A name of ATT_ENGINE_NETWORK_MAX + 1 bytes */
    memset(name, 'a', ATT_ENGINE_NETWORK_MAX + 1);
    name[ATT_ENGINE_NETWORK_MAX + 1] = '\0';
    len = (size_t)snprintf(big, sizeof(big), NETS("{\"%s\": {}}"), name);
    expect_networks_fail(big, len);
}

/* The limits themselves are accepted. */
static void test_engine_networks_decode_limits(void **state)
{
    char big[64 * 16 + 512];
    char name[300];
    char **names = NULL;
    size_t n = 0;
    size_t len = 0;
    size_t i;
    char why[256] = "";

    (void)state;
    len += (size_t)snprintf(big + len, sizeof(big) - len, "{\"NetworkSettings\": {\"Networks\": {");
    for (i = 0; i < ATT_ENGINE_MAX_NETWORKS; i++) {
        len +=
            (size_t)snprintf(big + len, sizeof(big) - len, "%s\"n%zu\": {}", i > 0 ? ", " : "", i);
    }
    len += (size_t)snprintf(big + len, sizeof(big) - len, "}}}");
    assert_true(len < sizeof(big));
    assert_int_equal(att_engine_networks_decode(big, len, &names, &n, why, sizeof(why)), ATT_OK);
    assert_int_equal(n, ATT_ENGINE_MAX_NETWORKS);
    att_engine_networks_free(names, n);

    memset(name, 'a', ATT_ENGINE_NETWORK_MAX);
    name[ATT_ENGINE_NETWORK_MAX] = '\0';
    name[1] = '-';
    name[2] = '.';
    name[3] = '_';
    len = (size_t)snprintf(big, sizeof(big), NETS("{\"%s\": {}}"), name);
    assert_int_equal(att_engine_networks_decode(big, len, &names, &n, why, sizeof(why)), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], name);
    att_engine_networks_free(names, n);
    att_engine_networks_free(NULL, 0);
    assert_true(att_engine_network_name_ok("Net0"));
    assert_false(att_engine_network_name_ok(NULL));
    assert_false(att_engine_network_name_ok("a?b"));
}

/* A container's layer and that layer's parent (the image's top layer, for vfs). */
static void test_engine_storage_layers(void **state)
{
    char json[1024];
    char out[80];

    (void)state;
    (void)snprintf(json, sizeof(json),
                   "[{\"id\": \"%s\", \"layer\": \"%s\"}, {\"id\": \"%s\", \"layer\": \"../x\"}, "
                   "{\"id\": \"%s\"}]",
                   X1, XA, X2, X3);
    assert_int_equal(att_engine_storage_layer(json, strlen(json), X1, out, sizeof(out)), ATT_OK);
    assert_string_equal(out, XA);
    assert_int_equal(att_engine_storage_layer(json, strlen(json), X2, out, sizeof(out)),
                     ATT_ERR_PARSE);
    assert_int_equal(att_engine_storage_layer(json, strlen(json), X3, out, sizeof(out)),
                     ATT_ERR_NOT_FOUND);
    assert_int_equal(att_engine_storage_layer(json, strlen(json), X4, out, sizeof(out)),
                     ATT_ERR_NOT_FOUND);
    assert_int_equal(att_engine_storage_layer("{}", 2, X1, out, sizeof(out)), ATT_ERR_PARSE);
    (void)snprintf(json, sizeof(json), "[{\"id\": \"%s\", \"parent\": \"%s\"}, {\"id\": \"%s\"}]",
                   XA, XB, XB);
    assert_int_equal(att_engine_layer_parent(json, strlen(json), XA, out, sizeof(out)), ATT_OK);
    assert_string_equal(out, XB);
    assert_int_equal(att_engine_layer_parent(json, strlen(json), XB, out, sizeof(out)),
                     ATT_ERR_NOT_FOUND);
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
        cmocka_unit_test(test_engine_storage_layers),
        cmocka_unit_test(test_engine_networks_decode_podman),
        cmocka_unit_test(test_engine_networks_decode_none),
        cmocka_unit_test(test_engine_networks_decode_malformed),
        cmocka_unit_test(test_engine_networks_decode_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
