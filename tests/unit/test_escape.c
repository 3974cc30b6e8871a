/* SPDX-License-Identifier: Apache-2.0 */
/*
 * att_buf_append_escaped / att_unescape (util.h): the one-field escaping of
 * rootfs paths and policy names in log records and state lines, and
 * att_printable_ascii for outside text on its way into reasons and JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "attest/buf.h"
#include "attest/util.h"

static void expect_escaped(const char *in, const char *want)
{
    struct att_buf b;
    char back[256];

    att_buf_init(&b, 1024);
    assert_int_equal(att_buf_append_escaped(&b, in), ATT_OK);
    assert_int_equal(att_buf_append(&b, "", 1), ATT_OK);
    assert_string_equal((const char *)b.data, want);
    assert_true(att_unescape((const char *)b.data, back, sizeof(back)));
    assert_string_equal(back, in);
    att_buf_cleanup(&b);
}

static void test_escape_round_trip(void **state)
{
    (void)state;
    expect_escaped("static", "static");
    expect_escaped("static net", "static%20net");
    expect_escaped("100%", "100%25");
    expect_escaped("a=b", "a=b"); /* '=' stays: a field's value may hold it */
    expect_escaped("/usr/lib/x\tY\n\x7f\xc3\xa9", "/usr/lib/x%09Y%0A%7F%C3%A9");
    expect_escaped("", "");
}

static void test_unescape_refuses(void **state)
{
    char out[8];

    (void)state;
    assert_false(att_unescape("a%", out, sizeof(out)));
    assert_false(att_unescape("a%2", out, sizeof(out)));
    assert_false(att_unescape("a%zz", out, sizeof(out)));
    assert_false(att_unescape("a%00b", out, sizeof(out)));    /* no NUL inside a name */
    assert_false(att_unescape("12345678", out, sizeof(out))); /* no room for the NUL */
    assert_true(att_unescape("1234567", out, sizeof(out)));
    assert_true(att_unescape("%2a%2A", out, sizeof(out))); /* either case */
    assert_string_equal(out, "**");
    assert_false(att_unescape("x", out, 0));
}

/* The buffer's cap is an error, never a silently cut field. */
static void test_escape_cap(void **state)
{
    struct att_buf b;

    (void)state;
    att_buf_init(&b, 4);
    assert_int_not_equal(att_buf_append_escaped(&b, "a b c"), ATT_OK);
    att_buf_cleanup(&b);
}

/* att_printable_ascii: control bytes, DEL and every byte of a UTF-8 character become '?'. */
static void test_printable_ascii(void **state)
{
    char s[] = "ok \x1b[2J\n\x7f caf\xc3\xa9 ~";

    (void)state;
    att_printable_ascii(s);
    assert_string_equal(s, "ok ?[2J?? caf?? ~");
    att_printable_ascii(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_round_trip),
        cmocka_unit_test(test_unescape_refuses),
        cmocka_unit_test(test_escape_cap),
        cmocka_unit_test(test_printable_ascii),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
