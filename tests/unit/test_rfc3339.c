/* SPDX-License-Identifier: Apache-2.0 */
/*
 * att_rfc3339_parse / att_rfc3339_format (common/src/util.c): the times the
 * agent writes into its records (log-gap), the verifier shows (events,
 * allowances) and the feeds carry. Format and parse round-trip; what the
 * parser refuses; a time that cannot be formatted says "unknown".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "attest/util.h"

static void test_rfc3339_round_trip(void **state)
{
    static const time_t times[] = {0,          1,         86399, 951782400 /* 2000-02-29 */,
                                   1795392000, 4102444799 /* 2099-12-31T23:59:59Z */};
    char text[32];
    struct timespec ts;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        assert_true(att_rfc3339_format(times[i], text, sizeof(text)));
        assert_int_equal(strlen(text), 20);
        assert_true(att_rfc3339_parse(text, &ts));
        assert_int_equal(ts.tv_sec, times[i]);
        assert_int_equal(ts.tv_nsec, 0);
    }
    assert_true(att_rfc3339_format(951782400, text, sizeof(text)));
    assert_string_equal(text, "2000-02-29T00:00:00Z");
}

static void test_rfc3339_format_limits(void **state)
{
    char small[8];
    char tiny[4] = "xyz";

    (void)state;
    /* 20 characters and the NUL do not fit in 8: refused, "unknown" instead */
    assert_false(att_rfc3339_format(0, small, sizeof(small)));
    assert_string_equal(small, "unknown");
    assert_false(att_rfc3339_format(0, tiny, sizeof(tiny)));
    assert_string_equal(tiny, "");
    assert_false(att_rfc3339_format(0, NULL, 0));
}

static void test_rfc3339_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-11-23",
        "2026-11-23T04:00:00",       /* no zone */
        "2026-02-30T00:00:00Z",      /* no such day */
        "2026-13-01T00:00:00Z",      /* no such month */
        "2026-11-23T24:00:00Z",      /* no such hour */
        "1969-12-31T23:59:59Z",      /* before 1970 */
        "2026-11-23T04:00:00.Z",     /* empty fraction */
        "2026-11-23T04:00:00Z junk", /* trailing text */
    };
    struct timespec ts;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(att_rfc3339_parse(bad[i], &ts));
    }
    assert_true(att_rfc3339_parse("2026-11-23T04:00:00.5+01:00", &ts));
    assert_int_equal(ts.tv_nsec, 500000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_round_trip),
        cmocka_unit_test(test_rfc3339_format_limits),
        cmocka_unit_test(test_rfc3339_parse_refuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
