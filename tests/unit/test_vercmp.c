/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version ordering: Debian versions against what dpkg 1.21 answers (every
 * expectation below was checked with `dpkg --compare-versions`; the
 * integration test test_vercmp_dpkg.sh does the same on thousands of
 * generated pairs), invalid versions with dpkg's reason, and apk versions
 * against apk-tools' rules and its test/version.data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "attest/vercmp.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

static void deb_expect(const char *a, const char *b, int want)
{
    char why[128] = "";

    if (!att_debver_valid(a, why, sizeof(why))) {
        fail_msg("'%s' refused: %s", a, why);
    }
    if (!att_debver_valid(b, why, sizeof(why))) {
        fail_msg("'%s' refused: %s", b, why);
    }
    if (sgn(att_debver_cmp(a, b)) != want || sgn(att_debver_cmp(b, a)) != -want) {
        fail_msg("'%s' vs '%s': got %d/%d, want %d", a, b, att_debver_cmp(a, b),
                 att_debver_cmp(b, a), want);
    }
}

static void deb_refused(const char *v, const char *reason)
{
    char why[128] = "";
    const char *shown = v != NULL ? v : "(null)";

    if (att_debver_valid(v, why, sizeof(why))) {
        fail_msg("'%s' accepted, want refused (%s)", shown, reason);
    }
    if (strstr(why, reason) == NULL) {
        fail_msg("'%s' refused with '%s', want '%s'", shown, why, reason);
    }
}

static void apk_expect(const char *a, const char *b, int want)
{
    if (!att_apkver_valid(a) || !att_apkver_valid(b)) {
        fail_msg("'%s' or '%s' refused", a, b);
    }
    if (sgn(att_apkver_cmp(a, b)) != want || sgn(att_apkver_cmp(b, a)) != -want) {
        fail_msg("'%s' vs '%s': got %d/%d, want %d", a, b, att_apkver_cmp(a, b),
                 att_apkver_cmp(b, a), want);
    }
}

/* Every pair of a strictly ascending list, both ways round. */
static void deb_chain(const char *const *v, size_t n)
{
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        deb_expect(v[i], v[i], 0);
        for (j = i + 1; j < n; j++) {
            deb_expect(v[i], v[j], -1);
        }
    }
}

static void apk_chain(const char *const *v, size_t n)
{
    size_t i;
    size_t j;

    for (i = 0; i < n; i++) {
        apk_expect(v[i], v[i], 0);
        for (j = i + 1; j < n; j++) {
            apk_expect(v[i], v[j], -1);
        }
    }
}

static void test_debver_cmp_chain(void **state)
{
    /* Strictly ascending, as dpkg sorts them. */
    static const char *const v[] = {"1.0~~",
                                    "1.0~~a",
                                    "1.0~",
                                    "1.0~rc1",
                                    "1.0",
                                    "1.0-0.1",
                                    "1.0-1~bpo1",
                                    "1.0-1",
                                    "1.0-1+b1",
                                    "1.0-1.1",
                                    "1.0-2",
                                    "1.0-10",
                                    "1.0A",
                                    "1.0a",
                                    "1.0+dfsg",
                                    "1.0.1",
                                    "1.1",
                                    "1.9",
                                    "1.10",
                                    "1.18446744073709551615",
                                    "1.18446744073709551616",
                                    "1.99999999999999999999",
                                    "1:0.1",
                                    "1:0.1:1",
                                    "2:0",
                                    "2147483647:0"};

    (void)state;
    deb_chain(v, N_OF(v));
}

static void test_debver_cmp_tilde(void **state)
{
    (void)state;
    deb_expect("1.0~rc1", "1.0", -1);
    deb_expect("1.0~~", "1.0~", -1);
    deb_expect("1~~", "1~", -1);
    deb_expect("1.0~beta1~svn1245", "1.0~beta1", -1);
    deb_expect("1.0~beta1", "1.0", -1);
    deb_expect("1.0~", "1.0-1", -1);
    /* '~' in the revision too */
    deb_expect("1.0-1~", "1.0-1", -1);
    deb_expect("1.0-~", "1.0", -1);
}

static void test_debver_cmp_letters(void **state)
{
    (void)state;
    /* letters sort before non-letters, upper case before lower case */
    deb_expect("1.0a", "1.0+", -1);
    deb_expect("1.0z", "1.0.", -1);
    deb_expect("1.0Z", "1.0a", -1);
    deb_expect("1.0+", "1.0.", -1);
    deb_expect("1:1.0.", "1:1.0:", -1); /* ':' only behind an epoch */
    deb_expect("1:1.0", "1:1:0", -1);
    deb_expect("1.0", "1.0a", -1);
    deb_expect("1a", "1.0", -1);
}

static void test_debver_cmp_equal_by_value(void **state)
{
    (void)state;
    deb_expect("1.0", "1.00", 0);
    deb_expect("1.01", "1.1", 0);
    deb_expect("1.001", "1.1", 0);
    deb_expect("0:1.0", "1.0", 0);
    deb_expect("00:1.000-00", "1.0", 0);
    deb_expect("01:2", "1:2", 0);
    /* dpkg reads the epoch with strtol(): a sign is allowed */
    deb_expect("+1:2", "1:2", 0);
    deb_expect("-0:1", "1", 0);
    /* a missing revision compares like "0" */
    deb_expect("1.0", "1.0-0", 0);
    deb_expect("1.0-0", "1.0-00", 0);
    deb_expect("1.0~rc01", "1.0~rc1", 0);
}

static void test_debver_cmp_numbers(void **state)
{
    (void)state;
    deb_expect("1.10", "1.9", 1);
    deb_expect("1.010", "1.9", 1);
    deb_expect("10", "9", 1);
    deb_expect("1.0.1", "1.0", 1);
    /* digit runs compare as numbers of any length, not machine integers */
    deb_expect("18446744073709551616", "18446744073709551615", 1);
    deb_expect("0018446744073709551616", "18446744073709551616", 0);
}

static void test_debver_cmp_epoch_and_revision(void **state)
{
    (void)state;
    deb_expect("1:0.1", "9.9", 1);
    deb_expect("2:1", "1:9", 1);
    deb_expect("2147483647:1", "2147483646:9", 1);
    deb_expect("1.0-1", "1.0", 1);
    deb_expect("1.0-10", "1.0-9", 1);
    deb_expect("1.0-1+deb12u1", "1.0-1", 1);
    deb_expect("1.0-1ubuntu0.1", "1.0-1", 1);
    deb_expect("1.0-1~bpo12+1", "1.0-1", -1);
    /* the revision starts after the LAST hyphen */
    deb_expect("1-2-3", "1-2", 1);
    deb_expect("1.0-1-2", "1.0-1", 1);
    /* epoch first, then upstream, then revision */
    deb_expect("1:1.0-1", "0:2.0-9", 1);
    deb_expect("1.0-9", "1.1-0", -1);
}

static void test_debver_cmp_null_and_invalid(void **state)
{
    (void)state;
    assert_int_equal(att_debver_cmp(NULL, NULL), 0);
    assert_true(att_debver_cmp(NULL, "0") < 0);
    assert_true(att_debver_cmp("0", NULL) > 0);
    /* Ordering stays defined (and memory-safe) on what dpkg only warns about. */
    assert_true(att_debver_cmp("a1", "1") > 0);
    /* "" is "no version" to dpkg: before everything, even "0" and "~" */
    assert_true(att_debver_cmp("", "0") < 0);
    assert_true(att_debver_cmp("~", "") > 0);
    assert_int_equal(att_debver_cmp("", NULL), 0);
    assert_int_equal(att_debver_cmp("1:", "1:"), 0);
    assert_int_equal(att_debver_cmp(" 1.0 ", "1.0"), 0);
}

static void test_debver_valid_accepts(void **state)
{
    static const char *const ok[] = {"0",
                                     "1.0",
                                     "1:1.0",
                                     "0:0",
                                     "2147483647:1",
                                     "+1:1.0",
                                     "-0:1",
                                     "0001:1",
                                     "1:2:3",
                                     "1:1:",
                                     "1.0-1-2",
                                     "1.0-r~",
                                     "1.0-~",
                                     "1.0~rc1+dfsg-0ubuntu1~22.04.1",
                                     "7.88.1-10+deb12u5",
                                     "2:8.2.3995-1ubuntu2.15",
                                     "1.0-a",
                                     "1.0-.",
                                     "1ABC~+.-x"};
    size_t i;
    char why[64];

    (void)state;
    for (i = 0; i < N_OF(ok); i++) {
        why[0] = '\0';
        if (!att_debver_valid(ok[i], why, sizeof(why))) {
            fail_msg("'%s' refused: %s", ok[i], why);
        }
    }
    /* why may be NULL or tiny */
    assert_true(att_debver_valid("1.0", NULL, 0));
    assert_false(att_debver_valid("", NULL, 0));
    why[0] = 'x';
    assert_false(att_debver_valid("", why, 1));
    assert_int_equal(why[0], '\0');
}

static void test_debver_valid_refuses(void **state)
{
    (void)state;
    deb_refused(NULL, "NULL");
    deb_refused("", "empty");
    deb_refused("   ", "empty");
    deb_refused("1 0", "embedded spaces");
    deb_refused("1\t0", "embedded spaces");
    deb_refused("1: 1", "embedded spaces");
    /* dpkg would trim these; we refuse them (no blanks in a real version) */
    deb_refused(" 1.0", "white space");
    deb_refused("1.0\t", "white space");
    deb_refused("\v1:1.0", "white space");
    deb_refused(":1", "epoch in version is empty");
    deb_refused("a:1", "epoch in version is empty");
    deb_refused("+:1", "epoch in version is empty");
    deb_refused("1.0:2", "epoch in version is not number");
    deb_refused("0x1:1", "epoch in version is not number");
    deb_refused("1-a:b", "epoch in version is not number");
    deb_refused("1.0-1:2", "epoch in version is not number");
    deb_refused("-1:1", "epoch in version is negative");
    deb_refused("-99999999999999999999:1", "epoch in version is negative");
    deb_refused("2147483648:1", "epoch in version is too big");
    deb_refused("99999999999999999999:1", "epoch in version is too big");
    deb_refused("1:", "nothing after colon");
    deb_refused("1.0-", "revision number is empty");
    deb_refused("1:1-", "revision number is empty");
    deb_refused("-1", "version number is empty");
    deb_refused("1:-1", "version number is empty");
    deb_refused("a1", "does not start with digit");
    deb_refused("1:a", "does not start with digit");
    deb_refused("~1", "does not start with digit");
    deb_refused("1_0", "invalid character in version number");
    deb_refused("1.0\n", "invalid character in version number");
    deb_refused("1.0\xc3\xa9", "invalid character in version number");
    deb_refused("1:1.0-1.5:1", "invalid character in revision number");
    deb_refused("1.0-a_b", "invalid character in revision number");
}

static void test_apkver_cmp_chain(void **state)
{
    /* Strictly ascending under apk-tools' rules. */
    static const char *const v[] = {
        "0.9",     "1.0_alpha_pre2", "1.0_alpha",  "1.0_alpha1", "1.0_beta", "1.0_pre", "1.0_rc",
        "1.0_rc1", "1.0_rc2",        "1.0_rc10",   "1.0",        "1.0-r0",   "1.0-r1",  "1.0-r2",
        "1.0-r10", "1.0~abc",        "1.0~abc-r1", "1.0~abd",    "1.0_cvs",  "1.0_svn", "1.0_git",
        "1.0_hg",  "1.0_p",          "1.0_p1",     "1.0_p1-r1",  "1.0_p9",   "1.0_p10", "1.0a",
        "1.0b",    "1.0.1",          "1.00",       "1.01",       "1.05",     "1.1",     "1.2.3",
        "1.2.3a",  "1.2.4",          "1.9",        "1.10",       "2"};

    (void)state;
    apk_chain(v, N_OF(v));
}

static void test_apkver_cmp_pairs(void **state)
{
    (void)state;
    apk_expect("1.2.3", "1.2.3a", -1);
    apk_expect("1.2.3a", "1.2.4", -1);
    apk_expect("1.0_rc1", "1.0", -1);
    apk_expect("1.0", "1.0_p1", -1);
    apk_expect("1.0-r1", "1.0-r2", -1);
    apk_expect("1.10", "1.9", 1);
    /* the first number is numeric, later ones with a leading 0 are strings */
    apk_expect("01.0", "1.0", 0);
    apk_expect("006", "1.0.0", 1);
    apk_expect("1.01", "1.1", -1);
    apk_expect("1.0", "1.00", -1);
    apk_expect("4.5.14", "4.09-r1", 1);
    apk_expect("1.0_rc01", "1.0_rc1", 0);
    apk_expect("1.0-r01", "1.0-r1", 0);
    /* a missing token: pre-release suffix first, otherwise the longer wins */
    apk_expect("1.0", "1.0.1", -1);
    apk_expect("1.0a", "1.0.1", -1);
    apk_expect("1.0", "1.0-r0", -1);
    apk_expect("1.0~abc", "1.0", 1);
    apk_expect("1.0~abc", "1.0-r9", 1);
    apk_expect("1.0~abc", "1.0_p1", -1);
    /* exact numbers beyond 64 bits (apk-tools itself wraps) */
    apk_expect("1.18446744073709551616", "1.18446744073709551615", 1);
    apk_expect("18446744073709551616", "1", 1);
}

static void test_apkver_cmp_version_data(void **state)
{
    /* A sample of apk-tools' test/version.data: "a < b" each. */
    static const char *const lt[][2] = {
        {"0.1.0_alpha", "0.1.3_alpha"},
        {"0.1.0_alpha", "0.1.0_alpha2"},
        {"0.1.0_alpha", "2.2.39-r1"},
        {"1.0.4-r3", "1.0.4-r4"},
        {"0.7-r1", "1.0.0"},
        {"1.1_alpha1", "1.1"},
        {"1.2", "1.2.1"},
        {"0.7.0", "0.8_beta1"},
        {"2.3.0b-r1", "2.3.0b-r2"},
        {"0.12", "0.12.3"},
        {"1.2.12.1", "1.2.13"},
        {"3.1_p16", "3.1_p17"},
        {"1.06-r6", "006"},
        {"20050718-r1", "20050718-r2"},
        {"0.94", "2.01.01_alpha10"},
        {"1.02", "1.03-r1"},
        {"4.2.52_p2-r1", "4.2.52_p4-r2"},
        {"2.5.1-r8", "2.5.1a-r1"},
        {"1.2.07.8", "1.2.12.04"},
        {"1.2.12.04", "1.2.12.05"},
        {"1.2.07.8", "1.6d"},
        {"0.9.28.1", "087-r1"},
        {"3.0.20060720", "20060720"},
        {"0.20070118", "0.20070207_rc1"},
        {"1.3-r0", "1.3.1-r0"},
        {"1.3_pre1-r1", "1.3.2"},
        {"1.0_p9-r0", "1.0_p10-r0"},
        {"0.1.0_alpha_pre2", "0.1.0_alpha"},
        {"1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0"},
        {"6.0_pre1", "6.0"},
        {"6.0", "6.0_p1"},
        {"4.5_p1", "4.5_p1-r1"},
        {"2.12r-r4", "2.12r-r5"},
        {"7.0.17", "7.0.174"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < N_OF(lt); i++) {
        apk_expect(lt[i][0], lt[i][1], -1);
    }
}

static void test_apkver_valid(void **state)
{
    static const char *const ok[] = {"0",
                                     "1",
                                     "01",
                                     "1.2.3",
                                     "1.2.3a",
                                     "1.0_rc1",
                                     "1.0_alpha_pre2",
                                     "1.0_p1-r2",
                                     "1.0-r0",
                                     "1.0~abc123",
                                     "1.0_git20240101~abc-r1",
                                     "1.0_rc1_p",
                                     "2.12r-r4",
                                     "1.0-r01",
                                     "20240131"};
    static const char *const bad[] = {"",        "a",       "v1.0",      "1.",        ".1",
                                      "1..2",    "1.0A",    "1.0ab",     "1.0a.1",    "1a1",
                                      "1.0_foo", "1.0_",    "1.0_P1",    "1.0_rc1a",  "1.0-",
                                      "1.0-1",   "1.0-r",   "1.0-r1-r2", "1.0-r1_p1", "1.0-r1~ab",
                                      "1.0~",    "1.0~xyz", "1.0~AB",    "1.0~ab~cd", "1.0~ab_p1",
                                      "1.0 ",    " 1.0",    "1.0-r1a",   "1.0+1",     "1:1.0"};
    size_t i;

    (void)state;
    for (i = 0; i < N_OF(ok); i++) {
        if (!att_apkver_valid(ok[i])) {
            fail_msg("'%s' refused", ok[i]);
        }
    }
    for (i = 0; i < N_OF(bad); i++) {
        if (att_apkver_valid(bad[i])) {
            fail_msg("'%s' accepted", bad[i]);
        }
    }
    assert_false(att_apkver_valid(NULL));
    assert_int_equal(att_apkver_cmp(NULL, NULL), 0);
    assert_true(att_apkver_cmp(NULL, "1") < 0);
    /* defined, not meaningful, on invalid input */
    assert_int_equal(att_apkver_cmp("1.0_foo", "1.0_bar"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debver_cmp_chain),
        cmocka_unit_test(test_debver_cmp_tilde),
        cmocka_unit_test(test_debver_cmp_letters),
        cmocka_unit_test(test_debver_cmp_equal_by_value),
        cmocka_unit_test(test_debver_cmp_numbers),
        cmocka_unit_test(test_debver_cmp_epoch_and_revision),
        cmocka_unit_test(test_debver_cmp_null_and_invalid),
        cmocka_unit_test(test_debver_valid_accepts),
        cmocka_unit_test(test_debver_valid_refuses),
        cmocka_unit_test(test_apkver_cmp_chain),
        cmocka_unit_test(test_apkver_cmp_pairs),
        cmocka_unit_test(test_apkver_cmp_version_data),
        cmocka_unit_test(test_apkver_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
