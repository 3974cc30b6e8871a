/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runc state.json decoding against a file captured from runc 1.1.5
 * (tests/data/runc/state.json, cgroups v1), plus malformed variants: NULL,
 * empty, truncated, oversized, trailing garbage, wrong types, unsafe ids and
 * cgroup paths that would lead the agent's freezer writes out of
 * /sys/fs/cgroup.
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
#include "attest/runc_json.h"
#include "attest/util.h"

static void load(struct att_buf *b)
{
    char path[512];

    (void)snprintf(path, sizeof(path), "%s/runc/state.json", ATT_TEST_DATA_DIR);
    att_buf_init(b, ATT_RUNC_MAX_STATE);
    assert_int_equal(att_file_read(path, b), ATT_OK);
}

static att_rc decode_str(const char *json, struct att_engine_container *c,
                         struct att_runc_state *st)
{
    char why[256] = "";
    att_rc rc = att_runc_state_decode(json, strlen(json), c, st, why, sizeof(why));

    if (rc != ATT_OK) {
        assert_true(why[0] != '\0'); /* every refusal says why */
    }
    return rc;
}

static void test_runc_state_decode_real(void **state)
{
    struct att_engine_container c;
    struct att_runc_state st;
    struct att_buf b;
    char why[256] = "";

    (void)state;
    memset(&c, 0, sizeof(c));
    load(&b);
    assert_int_equal(att_runc_state_decode((const char *)b.data, b.len, &c, &st, why, sizeof(why)),
                     ATT_OK);
    assert_string_equal(c.id, "t1");
    assert_string_equal(c.name, "t1");
    assert_int_equal(c.pid, 13798);
    assert_true(st.init_start == 503118u);
    assert_null(c.image_id); /* bare runc has no image */
    assert_non_null(c.image_ref);
    assert_string_equal(c.image_ref, "/tmp/runcx/b");
    assert_null(c.state); /* liveness is the caller's to find out */
    assert_false(c.is_privileged);
    assert_int_equal(c.n_cap_add, 0);
    assert_string_equal(st.freezer_path, "/sys/fs/cgroup/freezer/t1");
    assert_string_equal(st.unified_path, "/sys/fs/cgroup/unified/t1");
    att_engine_container_cleanup(&c);
    att_buf_cleanup(&b);
}

static void test_runc_state_decode_truncated_and_trailing(void **state)
{
    struct att_engine_container c;
    struct att_buf b;
    char *more;
    size_t cut;

    (void)state;
    memset(&c, 0, sizeof(c));
    load(&b);
    for (cut = 0; cut < b.len - 1; cut += 97) {
        assert_int_not_equal(att_runc_state_decode((const char *)b.data, cut, &c, NULL, NULL, 0),
                             ATT_OK);
        assert_null(c.name);
    }
    assert_int_not_equal(att_runc_state_decode((const char *)b.data, b.len - 1, &c, NULL, NULL, 0),
                         ATT_OK);
    more = malloc(b.len + 8);
    assert_non_null(more);
    memcpy(more, b.data, b.len);
    memcpy(more + b.len, " {\"x\":1}", 8);
    assert_int_equal(att_runc_state_decode(more, b.len + 8, &c, NULL, NULL, 0), ATT_ERR_PARSE);
    free(more);
    att_buf_cleanup(&b);
}

static void test_runc_state_decode_null_empty_oversized(void **state)
{
    struct att_engine_container c;
    char *big;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(att_runc_state_decode("{}", 2, NULL, NULL, NULL, 0), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_runc_state_decode(NULL, 10, &c, NULL, NULL, 0), ATT_ERR_PARSE);
    assert_int_equal(att_runc_state_decode("", 0, &c, NULL, NULL, 0), ATT_ERR_PARSE);
    big = calloc(1, ATT_RUNC_MAX_STATE + 2);
    assert_non_null(big);
    memset(big, ' ', ATT_RUNC_MAX_STATE + 1);
    big[0] = '{';
    big[ATT_RUNC_MAX_STATE] = '}';
    assert_int_equal(att_runc_state_decode(big, ATT_RUNC_MAX_STATE + 1, &c, NULL, NULL, 0),
                     ATT_ERR_PARSE);
    free(big);
    assert_int_equal(decode_str("[]", &c, NULL), ATT_ERR_PARSE);
    assert_int_equal(decode_str("null", &c, NULL), ATT_ERR_PARSE);
}

#define OK_TAIL "\"init_process_start\":5,\"config\":{}"

static void test_runc_state_decode_minimal(void **state)
{
    struct att_engine_container c;
    struct att_runc_state st;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(
        decode_str("{\"id\":\"a.b-c_d+e\",\"init_process_pid\":0," OK_TAIL "}", &c, &st), ATT_OK);
    assert_string_equal(c.id, "a.b-c_d+e");
    assert_int_equal(c.pid, 0);
    assert_null(c.image_ref);
    assert_string_equal(st.freezer_path, "");
    assert_string_equal(st.unified_path, "");
    att_engine_container_cleanup(&c);
}

static void test_runc_state_decode_bad_fields(void **state)
{
    static const char *const bad[] = {
        /* id: missing, wrong type, unsafe as a path component, too long */
        "{\"init_process_pid\":1," OK_TAIL "}",
        "{\"id\":7,\"init_process_pid\":1," OK_TAIL "}",
        "{\"id\":\"..\",\"init_process_pid\":1," OK_TAIL "}",
        "{\"id\":\"a/b\",\"init_process_pid\":1," OK_TAIL "}",
        "{\"id\":\"\",\"init_process_pid\":1," OK_TAIL "}",
        "{\"id\":\"a b\",\"init_process_pid\":1," OK_TAIL "}",
        "{\"id\":\"0123456789012345678901234567890123456789012345678901234567890123x\","
        "\"init_process_pid\":1," OK_TAIL "}",
        /* pid and start time */
        "{\"id\":\"a\"," OK_TAIL "}",
        "{\"id\":\"a\",\"init_process_pid\":-1," OK_TAIL "}",
        "{\"id\":\"a\",\"init_process_pid\":99999999," OK_TAIL "}",
        "{\"id\":\"a\",\"init_process_pid\":\"1\"," OK_TAIL "}",
        "{\"id\":\"a\",\"init_process_pid\":1,\"config\":{}}",
        "{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":-5,\"config\":{}}",
        "{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":1.5,\"config\":{}}",
        /* config and labels */
        "{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":5}",
        "{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":5,\"config\":[]}",
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL ",\"x\":1,\"x\":2}",
        "{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":5,"
        "\"config\":{\"labels\":\"bundle=/b\"}}",
        "{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":5,"
        "\"config\":{\"labels\":[\"bundle=/b\",3]}}",
        /* cgroup paths the agent would write to */
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL ",\"cgroup_paths\":[]}",
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL ",\"cgroup_paths\":{\"freezer\":\"/etc\"}}",
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL
        ",\"cgroup_paths\":{\"freezer\":\"/sys/fs/cgroup/../../etc\"}}",
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL
        ",\"cgroup_paths\":{\"freezer\":\"/sys/fs/cgroup/freezer//x\"}}",
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL
        ",\"cgroup_paths\":{\"freezer\":\"/sys/fs/cgroup/freezer/./x\"}}",
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL ",\"cgroup_paths\":{\"freezer\":5}}",
        "{\"id\":\"a\",\"init_process_pid\":1," OK_TAIL
        ",\"cgroup_paths\":{\"\":\"sys/fs/cgroup/x\"}}",
    };
    struct att_engine_container c;
    size_t i;

    (void)state;
    memset(&c, 0, sizeof(c));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        att_rc rc = decode_str(bad[i], &c, NULL);

        if (rc == ATT_OK) {
            fail_msg("accepted bad state.json #%zu: %s", i, bad[i]);
        }
        assert_int_equal(rc, ATT_ERR_PARSE);
        assert_null(c.name);
        assert_null(c.image_ref);
    }
}

static void test_runc_state_decode_bundle_label(void **state)
{
    struct att_engine_container c;

    (void)state;
    memset(&c, 0, sizeof(c));
    /* a relative "bundle=" is not a bundle path; the first absolute one wins */
    assert_int_equal(decode_str("{\"id\":\"a\",\"init_process_pid\":1,\"init_process_start\":5,"
                                "\"config\":{\"labels\":[\"x=y\",\"bundle=rel\",\"bundle=/b1\","
                                "\"bundle=/b2\"]}}",
                                &c, NULL),
                     ATT_OK);
    assert_string_equal(c.image_ref, "/b1");
    att_engine_container_cleanup(&c);
}

static void test_runc_id_ok(void **state)
{
    (void)state;
    assert_true(att_runc_id_ok("t1"));
    assert_true(att_runc_id_ok("a.b"));
    assert_false(att_runc_id_ok(NULL));
    assert_false(att_runc_id_ok(""));
    assert_false(att_runc_id_ok("."));
    assert_false(att_runc_id_ok(".."));
    assert_false(att_runc_id_ok("a/b"));
    assert_false(att_runc_id_ok("a\nb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runc_state_decode_real),
        cmocka_unit_test(test_runc_state_decode_truncated_and_trailing),
        cmocka_unit_test(test_runc_state_decode_null_empty_oversized),
        cmocka_unit_test(test_runc_state_decode_minimal),
        cmocka_unit_test(test_runc_state_decode_bad_fields),
        cmocka_unit_test(test_runc_state_decode_bundle_label),
        cmocka_unit_test(test_runc_id_ok),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
