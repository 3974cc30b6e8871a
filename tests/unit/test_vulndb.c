/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vulnerability db (attest/vulndb.h): severity words, CVSS v3 base
 * scores of vectors whose scores FIRST's calculator gives, the canonical
 * text and every refusal of its parser, matching a hand-built Debian and
 * Alpine inventory (interval ends, epochs, tildes, binNMUs, other
 * ecosystems) and judging matches against a policy's bar.
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
#include "attest/digest.h"
#include "attest/inventory.h"
#include "attest/vulndb.h"

/* String literals into the char * members of the public structs. */
#define S(x) ((char *)(uintptr_t)(x))

static void add(struct att_vulndb *db, const char *eco, const char *pkg, const char *id,
                enum att_severity sev, const char *intro, const char *fixed, const char *last,
                const char *aliases)
{
    struct att_vuln_entry e;
    char why[160] = "";

    memset(&e, 0, sizeof(e));
    e.ecosystem = S(eco);
    e.package = S(pkg);
    e.id = S(id);
    e.severity = sev;
    e.introduced = S(intro);
    e.fixed = S(fixed);
    e.last_affected = S(last);
    e.aliases = S(aliases);
    if (att_vulndb_add(db, &e, why, sizeof(why)) != ATT_OK) {
        fail_msg("add %s %s: %s", pkg, id, why);
    }
}

static att_rc try_add(struct att_vulndb *db, const char *eco, const char *pkg, const char *id,
                      const char *intro, const char *fixed, const char *aliases, char *why,
                      size_t why_len)
{
    struct att_vuln_entry e;

    memset(&e, 0, sizeof(e));
    e.ecosystem = S(eco);
    e.package = S(pkg);
    e.id = S(id);
    e.severity = ATT_SEV_LOW;
    e.introduced = S(intro);
    e.fixed = S(fixed);
    e.aliases = S(aliases);
    return att_vulndb_add(db, &e, why, why_len);
}

/* ------------------------------------------------------------------------ */

static void test_severity_parse_words(void **state)
{
    static const struct {
        const char *w;
        enum att_severity s;
    } ok[] = {
        {"unknown", ATT_SEV_UNKNOWN},
        {"negligible", ATT_SEV_NEGLIGIBLE},
        {"low", ATT_SEV_LOW},
        {"medium", ATT_SEV_MEDIUM},
        {"high", ATT_SEV_HIGH},
        {"critical", ATT_SEV_CRITICAL},
        {"HIGH", ATT_SEV_HIGH},
        {"Critical", ATT_SEV_CRITICAL},
        {"moderate", ATT_SEV_MEDIUM},
        {"MODERATE", ATT_SEV_MEDIUM},
        {"important", ATT_SEV_HIGH},
        {"unimportant", ATT_SEV_NEGLIGIBLE},
        {"not yet assigned", ATT_SEV_UNKNOWN},
        {"low**", ATT_SEV_LOW},
        {"medium*", ATT_SEV_MEDIUM},
        {"high**", ATT_SEV_HIGH},
    };
    static const char *const bad[] = {
        "",      "*",     "bogus",  "hi gh",
        "high ", " high", "severe", "lowlowlowlowlowlowlowlowlowlowlowlowlow"};
    enum att_severity s;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        s = ATT_SEV_CRITICAL + 1;
        assert_int_equal(att_severity_parse(ok[i].w, &s), ATT_OK);
        assert_int_equal(s, ok[i].s);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(att_severity_parse(bad[i], &s), ATT_ERR_PARSE);
    }
    assert_int_equal(att_severity_parse(NULL, &s), ATT_ERR_INVALID_ARG);
    for (i = ATT_SEV_UNKNOWN; i <= ATT_SEV_CRITICAL; i++) {
        assert_int_equal(att_severity_parse(att_severity_str((enum att_severity)i), &s), ATT_OK);
        assert_int_equal(s, i);
    }
    assert_string_equal(att_severity_str(ATT_SEV_MEDIUM), "medium");
    assert_string_equal(att_severity_str((enum att_severity)42), "unknown");
}

static void test_cvss3_severity_known_vectors(void **state)
{
    /* Scores as FIRST's v3.1 / v3.0 calculators give them. */
    static const struct {
        const char *v;
        long tenths;
        enum att_severity s;
    } ok[] = {
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98, ATT_SEV_CRITICAL},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100, ATT_SEV_CRITICAL},
        {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 55, ATT_SEV_MEDIUM},
        {"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 31, ATT_SEV_LOW},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 61, ATT_SEV_MEDIUM},
        {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 81, ATT_SEV_HIGH},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 75, ATT_SEV_HIGH},
        {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78, ATT_SEV_HIGH},
        {"CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 82, ATT_SEV_HIGH},
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, ATT_SEV_UNKNOWN},
        {"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 16, ATT_SEV_LOW},
        /* Temporal and environmental metrics do not change the base score. */
        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:L/MAV:L", 98,
         ATT_SEV_CRITICAL},
    };
    static const char *const bad[] = {
        "",
        "CVSS:3.1/",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",     /* no A */
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H",     /* no S */
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",          /* no prefix */
        "CVSS:2.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", /* wrong version */
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",      /* bad value */
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", /* metric twice */
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",     /* empty token */
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:HH",     /* two letters */
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A",        /* no colon */
        "CVSS:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h",      /* lower case */
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:1",  /* malformed extra */
    };
    enum att_severity s;
    double score = -1;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        score = -1;
        assert_int_equal(att_cvss3_severity(ok[i].v, &score, &s), ATT_OK);
        if ((long)(score * 10 + 0.5) != ok[i].tenths) {
            fail_msg("%s: %.1f, want %.1f", ok[i].v, score, (double)ok[i].tenths / 10);
        }
        assert_int_equal(s, ok[i].s);
    }
    assert_int_equal(att_cvss3_severity(ok[0].v, NULL, &s), ATT_OK);
    assert_int_equal(s, ATT_SEV_CRITICAL);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (att_cvss3_severity(bad[i], &score, &s) != ATT_ERR_PARSE) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    assert_int_equal(att_cvss3_severity(NULL, &score, &s), ATT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------------ */

static const char canon_want[] =
    "attest-vulndb 1 1700000000\n"
    "Alpine:v3.18\tbusybox\tCVE-2023-0001\tmedium\t-\t1.36.1-r5\t-\t-\n"
    "Debian:12\tglibc\tCVE-2024-0002\tcritical\t-\t2.36-9+deb12u4\t-\tDSA-5611-1\n"
    "Debian:12\topenssl\tCVE-2024-0001\thigh\t-\t-\t-\t-\n"
    "Debian:12\topenssl\tCVE-2024-0001\thigh\t3.0.0-1\t3.0.13-1~deb12u1\t-\tGHSA-aaaa,DSA-1\n"
    "Debian:12\topenssl\tCVE-2024-0003\tlow\t-\t-\t3.0.11-1~deb12u2\t-\n";

static struct att_vulndb *build(int order)
{
    struct att_vulndb *db = att_vulndb_new(1700000000u);

    assert_non_null(db);
    if (order == 0) {
        add(db, "Debian:12", "openssl", "CVE-2024-0003", ATT_SEV_LOW, NULL, NULL,
            "3.0.11-1~deb12u2", NULL);
        add(db, "Debian:12", "openssl", "CVE-2024-0001", ATT_SEV_HIGH, "3.0.0-1",
            "3.0.13-1~deb12u1", NULL, "GHSA-aaaa,DSA-1");
        add(db, "Debian:12", "glibc", "CVE-2024-0002", ATT_SEV_CRITICAL, NULL, "2.36-9+deb12u4",
            NULL, "DSA-5611-1");
        add(db, "Debian:12", "openssl", "CVE-2024-0001", ATT_SEV_HIGH, NULL, NULL, NULL, NULL);
        add(db, "Alpine:v3.18", "busybox", "CVE-2023-0001", ATT_SEV_MEDIUM, NULL, "1.36.1-r5", NULL,
            NULL);
        /* An exact duplicate goes. */
        add(db, "Debian:12", "glibc", "CVE-2024-0002", ATT_SEV_CRITICAL, NULL, "2.36-9+deb12u4",
            NULL, "DSA-5611-1");
    } else {
        add(db, "Alpine:v3.18", "busybox", "CVE-2023-0001", ATT_SEV_MEDIUM, NULL, "1.36.1-r5", NULL,
            NULL);
        add(db, "Debian:12", "openssl", "CVE-2024-0001", ATT_SEV_HIGH, NULL, NULL, NULL, NULL);
        add(db, "Debian:12", "glibc", "CVE-2024-0002", ATT_SEV_CRITICAL, NULL, "2.36-9+deb12u4",
            NULL, "DSA-5611-1");
        add(db, "Debian:12", "openssl", "CVE-2024-0001", ATT_SEV_HIGH, "3.0.0-1",
            "3.0.13-1~deb12u1", NULL, "GHSA-aaaa,DSA-1");
        add(db, "Debian:12", "openssl", "CVE-2024-0003", ATT_SEV_LOW, NULL, NULL,
            "3.0.11-1~deb12u2", NULL);
    }
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    return db;
}

static void test_vulndb_canonical_round_trip(void **state)
{
    struct att_vulndb *a = build(0);
    struct att_vulndb *b = build(1);
    struct att_vulndb *p = NULL;
    struct att_buf t;
    struct att_buf t2;
    uint8_t d[ATT_SHA256_LEN];
    char why[256] = "";

    (void)state;
    assert_int_equal(a->n_entries, 5);
    att_buf_init(&t, 1u << 20);
    att_buf_init(&t2, 1u << 20);
    assert_int_equal(att_vulndb_canonical(a, &t), ATT_OK);
    assert_string_equal((const char *)t.data, canon_want);
    /* The digest names the content, not the order it was added in. */
    assert_memory_equal(a->digest, b->digest, ATT_SHA256_LEN);
    assert_int_equal(att_sha256(t.data, t.len, d), ATT_OK);
    assert_memory_equal(a->digest, d, ATT_SHA256_LEN);

    assert_int_equal(att_vulndb_parse(t.data, t.len, &p, why, sizeof(why)), ATT_OK);
    assert_int_equal(p->n_entries, 5);
    assert_int_equal(p->feed_time, 1700000000u);
    assert_memory_equal(p->digest, a->digest, ATT_SHA256_LEN);
    assert_null(p->entries[2].introduced);
    assert_null(p->entries[2].aliases);
    assert_string_equal(p->entries[3].aliases, "GHSA-aaaa,DSA-1");
    assert_int_equal(p->entries[1].severity, ATT_SEV_CRITICAL);
    assert_int_equal(att_vulndb_canonical(p, &t2), ATT_OK);
    assert_int_equal(t2.len, t.len);
    assert_memory_equal(t2.data, t.data, t.len);

    /* An empty db is a header line. */
    att_vulndb_free(p);
    p = att_vulndb_new(0);
    assert_int_equal(att_vulndb_finish(p), ATT_OK);
    att_buf_reset(&t2);
    assert_int_equal(att_vulndb_canonical(p, &t2), ATT_OK);
    assert_string_equal((const char *)t2.data, "attest-vulndb 1 0\n");
    att_vulndb_free(p);
    p = NULL;
    assert_int_equal(att_vulndb_parse(t2.data, t2.len, &p, why, sizeof(why)), ATT_OK);
    assert_int_equal(p->n_entries, 0);

    att_vulndb_free(p);
    att_vulndb_free(a);
    att_vulndb_free(b);
    att_buf_cleanup(&t);
    att_buf_cleanup(&t2);
}

static void test_vulndb_canonical_unfinished(void **state)
{
    struct att_vulndb *db = att_vulndb_new(1);
    struct att_buf t;

    (void)state;
    att_buf_init(&t, 1u << 20);
    add(db, "Debian:12", "zlib", "CVE-1", ATT_SEV_LOW, NULL, NULL, NULL, NULL);
    add(db, "Debian:12", "bash", "CVE-1", ATT_SEV_LOW, NULL, NULL, NULL, NULL);
    assert_int_equal(att_vulndb_canonical(db, &t), ATT_ERR_INVALID_ARG);
    assert_int_equal(t.len, 0);
    att_vulndb_truncate(db, 1);
    assert_int_equal(db->n_entries, 1);
    att_buf_cleanup(&t);
    att_vulndb_free(db);
}

static void expect_refused(const char *text, const char *line_word)
{
    struct att_vulndb *db = NULL;
    char why[256] = "";

    if (att_vulndb_parse((const uint8_t *)text, strlen(text), &db, why, sizeof(why)) !=
        ATT_ERR_PARSE) {
        fail_msg("accepted: %s", text);
    }
    assert_null(db);
    if (strstr(why, line_word) == NULL) {
        fail_msg("why \"%s\" does not name \"%s\"", why, line_word);
    }
}

static void test_vulndb_parse_refusals(void **state)
{
    const char *h = "attest-vulndb 1 5\n";
    const char *l1 = "Debian:12\ta\tCVE-1\thigh\t-\t1.0-2\t-\t-\n";
    const char *l2 = "Debian:12\tb\tCVE-1\thigh\t-\t1.0-2\t-\t-\n";
    char t[1024];
    struct att_vulndb *db = NULL;
    char why[256] = "";
    static const char nul[] = "attest-vulndb 1 5\nDeb\0ian:12\ta\tCVE-1\thigh\t-\t-\t-\t-\n";

    (void)state;
    (void)snprintf(t, sizeof(t), "%s%s%s", h, l2, l1);
    expect_refused(t, "line 3: not sorted");
    (void)snprintf(t, sizeof(t), "%s%s%s", h, l1, l1);
    expect_refused(t, "line 3: duplicate");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\tHigh\t-\t-\t-\t-\n",
                   "line 2: bad severity");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\tsevere\t-\t-\t-\t-\n",
                   "line 2: bad severity");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t-\t-\t-\n", "line 2: 7 ");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t-\t-\t-\t-\t-\n",
                   "line 2: more than 8");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t-\tnot-a-version\t-\t-\n",
                   "line 2: fixed");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t1.0 1\t-\t-\t-\n",
                   "line 2: introduced");
    expect_refused("attest-vulndb 1 5\nAlpine:v3.18\ta\tCVE-1\thigh\t-\t1.0-2\t-\t-\n",
                   "line 2: fixed"); /* not an apk version */
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t-\t-\t1:\t-\n",
                   "line 2: last_affected");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE,1\thigh\t-\t-\t-\t-\n", "line 2: id");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t-\t-\t-\tA,,B\n",
                   "line 2: aliases");
    expect_refused("attest-vulndb 1 5\nDebian:12\t\tCVE-1\thigh\t-\t-\t-\t-\n", "line 2: package");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t-\t-\t-\t-\r\n", "line 2");
    expect_refused("attest-vulndb 1 5\nDebian:12\ta\tCVE-1\thigh\t-\t-\t-\t-",
                   "line 2: no newline");
    expect_refused("attest-vulndb 1 5\n\n", "line 2");
    expect_refused("attest-vulndb 2 5\n", "line 1");
    expect_refused("attest-vulndb 1 05\n", "line 1");
    expect_refused("attest-vulndb 1 18446744073709551616\n", "line 1");
    expect_refused("attest-vulndb 1 -5\n", "line 1");
    expect_refused("attest-vulndb 1 5", "line 1");
    expect_refused("", "line 1");
    (void)snprintf(t, sizeof(t), "%s%s%s%s", h, l1, l2, "Debian:12\ta\tCVE-1\thigh\t-\t-\t-\t-\n");
    expect_refused(t, "line 4: not sorted");

    assert_int_equal(att_vulndb_parse((const uint8_t *)nul, sizeof(nul) - 1, &db, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "NUL"));
    /* The size is checked before a byte is read. */
    assert_int_equal(att_vulndb_parse((const uint8_t *)h, (size_t)ATT_VULNDB_MAX_TEXT + 1, &db, why,
                                      sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "oversized"));
    assert_null(db);
    assert_int_equal(att_vulndb_parse(NULL, 1, &db, why, sizeof(why)), ATT_ERR_INVALID_ARG);

    /* Both lines in order are fine. */
    (void)snprintf(t, sizeof(t), "%s%s%s", h, l1, l2);
    assert_int_equal(att_vulndb_parse((const uint8_t *)t, strlen(t), &db, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(db->n_entries, 2);
    att_vulndb_free(db);
}

static void test_vulndb_add_refusals(void **state)
{
    struct att_vulndb *db = att_vulndb_new(1);
    char why[160] = "";
    struct att_vuln_entry e;
    char longid[ATT_VULN_MAX_ID + 2];

    (void)state;
    memset(longid, 'A', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(try_add(db, "Debian:12", "a", "CVE-1", NULL, "abc", NULL, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "fixed"));
    assert_int_equal(try_add(db, "Debian:12", "a", "CVE-1", "-", NULL, NULL, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "introduced"));
    assert_int_equal(try_add(db, "Debian:12", "a\tb", "CVE-1", NULL, NULL, NULL, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "package"));
    assert_int_equal(try_add(db, "Debian:12", "a", longid, NULL, NULL, NULL, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "id"));
    assert_int_equal(try_add(db, "Debian:12", "a", "CVE 1", NULL, NULL, NULL, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_int_equal(try_add(db, "Debian:12", "a", "CVE-1", NULL, NULL, "", why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_int_equal(try_add(db, "Debian:12", "a", "CVE-1", NULL, NULL, "-", why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_int_equal(try_add(db, "", "a", "CVE-1", NULL, NULL, NULL, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "ecosystem"));
    assert_int_equal(
        try_add(db, "Debian:12", "a", "CVE-1", NULL, "1.0-1\n", NULL, why, sizeof(why)),
        ATT_ERR_PARSE);
    /* Ecosystems without a version order take any printable version. */
    assert_int_equal(try_add(db, "PyPI", "a", "CVE-1", NULL, "not-dpkg", NULL, why, sizeof(why)),
                     ATT_OK);
    memset(&e, 0, sizeof(e));
    e.ecosystem = S("Debian:12");
    e.package = S("a");
    e.id = S("CVE-1");
    e.severity = (enum att_severity)9;
    assert_int_equal(att_vulndb_add(db, &e, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(db->n_entries, 1);
    assert_int_equal(att_vulndb_add(NULL, &e, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    att_vulndb_free(db);
}

/* ------------------------------------------------------------------------ */

static struct att_pkg debian_pkgs[] = {
    {S("bar"), S("1.0~rc1-1"), S("amd64"), S("bar"), S("1.0~rc1-1")},
    {S("foo"), S("1:1.0-1"), S("amd64"), S("foo"), S("1:1.0-1")},
    {S("libbaz1"), S("2.0-1+b1"), S("amd64"), S("baz"), S("2.0-1")},
    {S("libssl3"), S("3.0.11-1~deb12u2"), S("amd64"), S("openssl"), S("3.0.11-1~deb12u2")},
    {S("openssl"), S("3.0.11-1~deb12u2"), S("amd64"), S("openssl"), S("3.0.11-1~deb12u2")},
    {S("zlib1g"), S("1:1.2.13.dfsg-1"), S("amd64"), S("zlib"), S("1:1.2.13.dfsg-1")},
};

static void debian_inventory(struct att_inventory *inv)
{
    memset(inv, 0, sizeof(*inv));
    (void)snprintf(inv->os_id, sizeof(inv->os_id), "debian");
    (void)snprintf(inv->os_version_id, sizeof(inv->os_version_id), "12");
    (void)snprintf(inv->os_codename, sizeof(inv->os_codename), "bookworm");
    (void)snprintf(inv->ecosystem, sizeof(inv->ecosystem), "Debian:12");
    inv->format = ATT_PKG_DPKG;
    inv->pkgs = debian_pkgs;
    inv->n_pkgs = sizeof(debian_pkgs) / sizeof(debian_pkgs[0]);
}

static struct att_vulndb *debian_db(void)
{
    struct att_vulndb *db = att_vulndb_new(1700000000u);
    const char *ssl = "openssl";

    /* openssl is at 3.0.11-1~deb12u2 (two binary packages). */
    add(db, "Debian:12", ssl, "CVE-A-FIXED-ABOVE", ATT_SEV_HIGH, NULL, "3.0.13-1~deb12u1", NULL,
        NULL);
    add(db, "Debian:12", ssl, "CVE-B-FIXED-BELOW", ATT_SEV_CRITICAL, NULL, "3.0.11-1~deb12u1", NULL,
        NULL);
    add(db, "Debian:12", ssl, "CVE-C-FIXED-EQUAL", ATT_SEV_CRITICAL, NULL, "3.0.11-1~deb12u2", NULL,
        NULL);
    add(db, "Debian:12", ssl, "CVE-D-UNFIXED", ATT_SEV_MEDIUM, NULL, NULL, NULL, NULL);
    add(db, "Debian:12", ssl, "CVE-E-INTRO-ABOVE", ATT_SEV_CRITICAL, "3.1.0-1", NULL, NULL, NULL);
    add(db, "Debian:12", ssl, "CVE-F-LAST-EQUAL", ATT_SEV_LOW, NULL, NULL, "3.0.11-1~deb12u2",
        NULL);
    add(db, "Debian:12", ssl, "CVE-G-LAST-BELOW", ATT_SEV_LOW, NULL, NULL, "3.0.11-1~deb12u1",
        NULL);
    add(db, "Debian:12", ssl, "CVE-H-INTRO-EQUAL", ATT_SEV_LOW, "3.0.11-1~deb12u2",
        "3.0.11-1~deb12u3", NULL, NULL);
    /* One id twice (an OSV range and its versions[] item): one finding, the fixed one. */
    add(db, "Debian:12", ssl, "CVE-I-TWICE", ATT_SEV_HIGH, "3.0.11-1~deb12u2", NULL,
        "3.0.11-1~deb12u2", NULL);
    add(db, "Debian:12", ssl, "CVE-I-TWICE", ATT_SEV_HIGH, NULL, "3.0.11-1~deb12u3", NULL, NULL);
    /* Other releases and ecosystems never match a Debian:12 inventory. */
    add(db, "Debian:11", ssl, "CVE-J-OTHER-RELEASE", ATT_SEV_CRITICAL, NULL, NULL, NULL, NULL);
    add(db, "Ubuntu:22.04:LTS", ssl, "CVE-K-UBUNTU", ATT_SEV_CRITICAL, NULL, NULL, NULL, NULL);
    add(db, "Debian", ssl, "CVE-L-NO-RELEASE", ATT_SEV_CRITICAL, NULL, NULL, NULL, NULL);
    /* Binary package names are not source names. */
    add(db, "Debian:12", "libssl3", "CVE-M-BINARY-NAME", ATT_SEV_CRITICAL, NULL, NULL, NULL, NULL);
    /* foo has epoch 1: 2.0-1 is below 1:1.0-1, 1:1.0-2 above. */
    add(db, "Debian:12", "foo", "CVE-N-EPOCH-BELOW", ATT_SEV_HIGH, NULL, "2.0-1", NULL, NULL);
    add(db, "Debian:12", "foo", "CVE-O-EPOCH-ABOVE", ATT_SEV_HIGH, NULL, "1:1.0-2", NULL, NULL);
    /* bar 1.0~rc1-1 sorts before 1.0-1. */
    add(db, "Debian:12", "bar", "CVE-P-TILDE-FIXED", ATT_SEV_HIGH, NULL, "1.0-1", NULL, NULL);
    add(db, "Debian:12", "bar", "CVE-Q-TILDE-INTRO", ATT_SEV_HIGH, "1.0-1", NULL, NULL, NULL);
    add(db, "Debian:12", "bar", "CVE-R-TILDE-LAST", ATT_SEV_HIGH, NULL, NULL, "1.0~rc1-1", NULL);
    /*
     * libbaz1 2.0-1+b1 is a binNMU of source baz 2.0-1: the source version
     * is compared, so last_affected 2.0-1 covers it (its binary version
     * would not be) and fixed 2.0-1+b1 does not exclude it.
     */
    add(db, "Debian:12", "baz", "CVE-S-BINNMU-LAST", ATT_SEV_HIGH, NULL, NULL, "2.0-1", NULL);
    add(db, "Debian:12", "baz", "CVE-T-BINNMU-FIXED", ATT_SEV_HIGH, NULL, "2.0-1+b1", NULL, NULL);
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    return db;
}

static bool has(const struct att_vuln_match *m, size_t n, const char *id, const char *pkg)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(m[i].entry->id, id) == 0 && strcmp(m[i].pkg->name, pkg) == 0) {
            return true;
        }
    }
    return false;
}

static size_t count_id(const struct att_vuln_match *m, size_t n, const char *id)
{
    size_t i;
    size_t c = 0;

    for (i = 0; i < n; i++) {
        c += strcmp(m[i].entry->id, id) == 0;
    }
    return c;
}

static void test_vulndb_match_debian(void **state)
{
    struct att_vulndb *db = debian_db();
    struct att_inventory inv;
    struct att_vuln_match *m = NULL;
    size_t n = 0;
    size_t i;

    (void)state;
    debian_inventory(&inv);
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    for (i = 0; i < n; i++) {
        print_message("  %s (%s) %s\n", m[i].entry->id, att_severity_str(m[i].entry->severity),
                      m[i].pkg->name);
    }
    /* Both binary packages of source openssl. */
    assert_true(has(m, n, "CVE-A-FIXED-ABOVE", "libssl3"));
    assert_true(has(m, n, "CVE-A-FIXED-ABOVE", "openssl"));
    assert_int_equal(count_id(m, n, "CVE-B-FIXED-BELOW"), 0);
    assert_int_equal(count_id(m, n, "CVE-C-FIXED-EQUAL"), 0);
    assert_true(has(m, n, "CVE-D-UNFIXED", "openssl"));
    assert_int_equal(count_id(m, n, "CVE-E-INTRO-ABOVE"), 0);
    assert_true(has(m, n, "CVE-F-LAST-EQUAL", "openssl"));
    assert_int_equal(count_id(m, n, "CVE-G-LAST-BELOW"), 0);
    assert_true(has(m, n, "CVE-H-INTRO-EQUAL", "openssl"));
    assert_int_equal(count_id(m, n, "CVE-I-TWICE"), 2); /* once per binary package */
    for (i = 0; i < n; i++) {
        if (strcmp(m[i].entry->id, "CVE-I-TWICE") == 0) {
            assert_non_null(m[i].entry->fixed);
        }
    }
    assert_int_equal(count_id(m, n, "CVE-J-OTHER-RELEASE"), 0);
    assert_int_equal(count_id(m, n, "CVE-K-UBUNTU"), 0);
    assert_int_equal(count_id(m, n, "CVE-L-NO-RELEASE"), 0);
    assert_int_equal(count_id(m, n, "CVE-M-BINARY-NAME"), 0);
    assert_int_equal(count_id(m, n, "CVE-N-EPOCH-BELOW"), 0);
    assert_true(has(m, n, "CVE-O-EPOCH-ABOVE", "foo"));
    assert_true(has(m, n, "CVE-P-TILDE-FIXED", "bar"));
    assert_int_equal(count_id(m, n, "CVE-Q-TILDE-INTRO"), 0);
    assert_true(has(m, n, "CVE-R-TILDE-LAST", "bar"));
    assert_true(has(m, n, "CVE-S-BINNMU-LAST", "libbaz1"));
    assert_true(has(m, n, "CVE-T-BINNMU-FIXED", "libbaz1"));
    /* 2 + 1 + 1 + 1 + 2 (A, D, F, H, I on two binaries: A and I twice, D F H once each ...) */
    assert_int_equal(n, 2 + 2 + 2 + 2 + 2 + 1 + 1 + 1 + 1 + 1);
    /* Worst first: severity descending, a fix first, then id, then package. */
    for (i = 1; i < n; i++) {
        const struct att_vuln_entry *a = m[i - 1].entry;
        const struct att_vuln_entry *b = m[i].entry;

        assert_true(a->severity >= b->severity);
        if (a->severity == b->severity) {
            assert_true(a->fixed != NULL || b->fixed == NULL);
            if ((a->fixed != NULL) == (b->fixed != NULL)) {
                assert_true(strcmp(a->id, b->id) <= 0);
            }
        }
    }
    assert_string_equal(m[0].entry->id, "CVE-A-FIXED-ABOVE");
    assert_string_equal(m[0].pkg->name, "libssl3");
    assert_string_equal(m[1].pkg->name, "openssl");
    assert_string_equal(m[n - 1].entry->id, "CVE-F-LAST-EQUAL");
    free(m);

    /* No ecosystem, or one without a version order: nothing. */
    inv.ecosystem[0] = '\0';
    m = NULL;
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    assert_int_equal(n, 0);
    assert_null(m);
    (void)snprintf(inv.ecosystem, sizeof(inv.ecosystem), "Debian:11");
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    assert_int_equal(n, 2); /* J on both openssl binaries */
    free(m);
    (void)snprintf(inv.ecosystem, sizeof(inv.ecosystem), "Debian");
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(att_vulndb_match(NULL, &inv, &m, &n), ATT_ERR_INVALID_ARG);
    att_vulndb_free(db);
}

static void test_vulndb_match_bad_version_fails_closed(void **state)
{
    struct att_pkg pkgs[] = {{S("x"), S("garbage"), S("amd64"), S("x"), S("garbage")}};
    struct att_inventory inv;
    struct att_vulndb *db = att_vulndb_new(1);
    struct att_vuln_match *m = NULL;
    size_t n = 0;

    (void)state;
    add(db, "Debian:12", "x", "CVE-1", ATT_SEV_HIGH, NULL, "1.0-1", NULL, NULL);
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    debian_inventory(&inv);
    inv.pkgs = pkgs;
    inv.n_pkgs = 1;
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    assert_int_equal(n, 1);
    free(m);
    att_vulndb_free(db);
}

static void test_vulndb_match_alpine(void **state)
{
    struct att_pkg pkgs[] = {
        {S("busybox"), S("1.36.1-r2"), S("x86_64"), S("busybox"), S("1.36.1-r2")},
        {S("ssl_client"), S("1.36.1-r2"), S("x86_64"), S("busybox"), S("1.36.1-r2")},
        {S("zlib"), S("1.2.13-r1"), S("x86_64"), S("zlib"), S("1.2.13-r1")},
    };
    struct att_inventory inv;
    struct att_vulndb *db = att_vulndb_new(1);
    struct att_vuln_match *m = NULL;
    size_t n = 0;

    (void)state;
    add(db, "Alpine:v3.18", "busybox", "CVE-1", ATT_SEV_HIGH, NULL, "1.36.1-r5", NULL, NULL);
    add(db, "Alpine:v3.18", "busybox", "CVE-2", ATT_SEV_HIGH, NULL, "1.36.1-r2", NULL, NULL);
    add(db, "Alpine:v3.18", "zlib", "CVE-3", ATT_SEV_HIGH, NULL, "1.2.12-r3", NULL, NULL);
    add(db, "Alpine:v3.17", "zlib", "CVE-4", ATT_SEV_HIGH, NULL, NULL, NULL, NULL);
    add(db, "Debian:12", "zlib", "CVE-5", ATT_SEV_HIGH, NULL, NULL, NULL, NULL);
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    memset(&inv, 0, sizeof(inv));
    (void)snprintf(inv.ecosystem, sizeof(inv.ecosystem), "Alpine:v3.18");
    inv.format = ATT_PKG_APK;
    inv.pkgs = pkgs;
    inv.n_pkgs = 3;
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_true(has(m, n, "CVE-1", "busybox"));
    assert_true(has(m, n, "CVE-1", "ssl_client"));
    free(m);
    att_vulndb_free(db);
}

/* ------------------------------------------------------------------------ */

static void test_vuln_judge_bar(void **state)
{
    struct att_vulndb *db = debian_db();
    struct att_inventory inv;
    struct att_vuln_match *m = NULL;
    size_t n = 0;
    struct att_vuln_policy p;
    struct att_vuln_judgement j;
    struct att_vuln_allow allow[2];
    bool allowed = true;

    (void)state;
    debian_inventory(&inv);
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    memset(&p, 0, sizeof(p));
    p.refuse_at = ATT_SEV_HIGH;
    /* High and fixed: A (2 binaries), I (2), O, P, S? no: S is unfixed; T fixed. */
    att_vuln_judge(&p, m, n, 1000, &j);
    assert_int_equal(j.n_findings, n);
    assert_int_equal(j.n_over, 2 + 2 + 1 + 1 + 1);
    assert_int_equal(j.n_allowed, 0);
    assert_string_equal(
        j.worst, "CVE-A-FIXED-ABOVE (high) in libssl3 3.0.11-1~deb12u2, fixed in "
                 "3.0.13-1~deb12u1; "
                 "CVE-I-TWICE (high) in libssl3 3.0.11-1~deb12u2, fixed in 3.0.11-1~deb12u3; "
                 "CVE-O-EPOCH-ABOVE (high) in foo 1:1.0-1, fixed in 1:1.0-2; "
                 "CVE-P-TILDE-FIXED (high) in bar 1.0~rc1-1, fixed in 1.0-1; "
                 "CVE-T-BINNMU-FIXED (high) in libbaz1 2.0-1+b1, fixed in 2.0-1+b1");

    /* Unfixed ones count only with refuse_unfixed. */
    p.refuse_unfixed = true;
    att_vuln_judge(&p, m, n, 1000, &j);
    assert_int_equal(j.n_over, 2 + 2 + 1 + 1 + 1 + 1 + 1); /* + R, S */
    assert_non_null(strstr(j.worst, "CVE-R-TILDE-LAST (high) in bar 1.0~rc1-1, no fix yet"));
    p.refuse_unfixed = false;

    /* A lower bar takes in medium and low, fixed only. */
    p.refuse_at = ATT_SEV_LOW;
    att_vuln_judge(&p, m, n, 1000, &j);
    assert_int_equal(j.n_over, 7 + 2); /* + H on both openssl binaries */
    p.refuse_at = ATT_SEV_UNKNOWN;
    p.refuse_unfixed = true;
    att_vuln_judge(&p, m, n, 1000, &j);
    assert_int_equal(j.n_over, n);
    p.refuse_unfixed = false;
    p.refuse_at = ATT_SEV_CRITICAL;
    att_vuln_judge(&p, m, n, 1000, &j);
    assert_int_equal(j.n_over, 0);
    assert_string_equal(j.worst, "");
    p.refuse_at = ATT_SEV_HIGH;

    /* Allowed by id and by alias; an expired allowance is not honoured. */
    allow[0].id = S("CVE-A-FIXED-ABOVE");
    allow[0].expires_at = 2000;
    allow[0].reason = S("mitigated");
    allow[1].id = S("CVE-I-TWICE");
    allow[1].expires_at = 1000; /* ends exactly now */
    allow[1].reason = S("old");
    p.allow = allow;
    p.n_allow = 2;
    att_vuln_judge(&p, m, n, 1000, &j);
    assert_int_equal(j.n_over, 7 - 2);
    assert_int_equal(j.n_allowed, 2);
    assert_null(strstr(j.worst, "CVE-A-FIXED-ABOVE"));
    assert_non_null(strstr(j.worst, "CVE-I-TWICE"));
    assert_true(att_vuln_over_bar(&p, &m[0], 2000, &allowed)); /* A, once its time is up */
    assert_false(allowed);
    assert_false(att_vuln_over_bar(&p, &m[0], 1999, &allowed));
    assert_true(allowed);
    att_vuln_judge(&p, m, n, 999, &j);
    assert_int_equal(j.n_over, 7 - 4);
    assert_int_equal(j.n_allowed, 4);
    p.allow = NULL;
    p.n_allow = 0;

    /* No policy: everything is over (fail closed); no match: nothing is. */
    assert_true(att_vuln_over_bar(NULL, &m[0], 1000, NULL));
    assert_false(att_vuln_over_bar(&p, NULL, 1000, NULL));
    att_vuln_judge(&p, NULL, 0, 1000, &j);
    assert_int_equal(j.n_findings, 0);
    assert_string_equal(j.worst, "");
    free(m);
    att_vulndb_free(db);
}

static void test_vuln_judge_alias(void **state)
{
    struct att_vuln_entry e;
    struct att_pkg pkg = {S("libc6"), S("2.36-9"), S("amd64"), S("glibc"), S("2.36-9")};
    struct att_vuln_match m = {&e, &pkg};
    struct att_vuln_allow allow = {S("GHSA-xxxx"), 5000, S("not reachable")};
    struct att_vuln_policy p;
    bool allowed = false;

    (void)state;
    memset(&e, 0, sizeof(e));
    e.ecosystem = S("Debian:12");
    e.package = S("glibc");
    e.id = S("CVE-2024-1");
    e.aliases = S("DSA-1-1,GHSA-xxxx,GHSA-yyyy");
    e.severity = ATT_SEV_CRITICAL;
    e.fixed = S("2.36-9+deb12u4");
    memset(&p, 0, sizeof(p));
    p.refuse_at = ATT_SEV_HIGH;
    p.allow = &allow;
    p.n_allow = 1;
    assert_false(att_vuln_over_bar(&p, &m, 10, &allowed));
    assert_true(allowed);
    allow.id = S("GHSA-yyyy");
    assert_false(att_vuln_over_bar(&p, &m, 10, &allowed));
    allow.id = S("DSA-1-1");
    assert_false(att_vuln_over_bar(&p, &m, 10, &allowed));
    /* A prefix of an alias or of the id is not a name. */
    allow.id = S("GHSA-xxx");
    assert_true(att_vuln_over_bar(&p, &m, 10, &allowed));
    assert_false(allowed);
    allow.id = S("CVE-2024");
    assert_true(att_vuln_over_bar(&p, &m, 10, &allowed));
    allow.id = S("DSA-1-1,GHSA-xxxx");
    assert_true(att_vuln_over_bar(&p, &m, 10, &allowed));
}

static void test_vuln_judge_truncation(void **state)
{
    struct att_vulndb *db = att_vulndb_new(1);
    struct att_pkg pkgs[] = {
        {S("libfoo1"), S("1.0-1"), S("amd64"), S("foo"), S("1.0-1")},
        {S("libfoo2"), S("1.0-1"), S("amd64"), S("foo"), S("1.0-1")},
    };
    struct att_inventory inv;
    struct att_vuln_match *m = NULL;
    size_t n = 0;
    struct att_vuln_policy p;
    struct att_vuln_judgement j;
    char id[64];
    char *piece;
    char *save;
    size_t k;
    size_t listed = 0;
    int i;

    (void)state;
    for (i = 0; i < 40; i++) {
        (void)snprintf(id, sizeof(id), "CVE-2024-%05d", i);
        add(db, "Debian:12", "foo", id, i < 20 ? ATT_SEV_CRITICAL : ATT_SEV_HIGH, NULL,
            "1.0-2+deb12u1", NULL, NULL);
    }
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    debian_inventory(&inv);
    inv.pkgs = pkgs;
    inv.n_pkgs = 2;
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    assert_int_equal(n, 80);
    memset(&p, 0, sizeof(p));
    p.refuse_at = ATT_SEV_HIGH;
    att_vuln_judge(&p, m, n, 1, &j);
    assert_int_equal(j.n_over, 80);
    k = strlen(j.worst);
    assert_true(k < sizeof(j.worst));
    assert_true(k > sizeof(j.worst) - 80); /* filled, not cut short */
    assert_string_equal(j.worst + k - 5, "; ...");
    /* Each listed piece is whole, each vulnerability once (not per binary), worst first. */
    j.worst[k - 5] = '\0';
    for (piece = strtok_r(j.worst, ";", &save); piece != NULL; piece = strtok_r(NULL, ";", &save)) {
        char want[160];

        (void)snprintf(want, sizeof(want),
                       "%sCVE-2024-%05zu (critical) in libfoo1 1.0-1, fixed in 1.0-2+deb12u1",
                       listed == 0 ? "" : " ", listed);
        assert_string_equal(piece, want);
        listed++;
    }
    assert_true(listed > 5 && listed < 20);

    /* Exactly what fits: no "; ..." when nothing more follows. */
    att_vuln_judge(&p, m, 4, 1, &j);
    assert_int_equal(j.n_over, 4);
    assert_string_equal(j.worst,
                        "CVE-2024-00000 (critical) in libfoo1 1.0-1, fixed in 1.0-2+deb12u1; "
                        "CVE-2024-00001 (critical) in libfoo1 1.0-1, fixed in 1.0-2+deb12u1");
    free(m);
    att_vulndb_free(db);
}

static void test_vuln_judge_first_too_long(void **state)
{
    struct att_vuln_entry e;
    char name[400];
    struct att_pkg pkg = {name, S("1.0-1"), S("amd64"), S("x"), S("1.0-1")};
    struct att_vuln_match m[2] = {{&e, &pkg}, {&e, &pkg}};
    struct att_vuln_policy p;
    struct att_vuln_judgement j;

    (void)state;
    memset(&e, 0, sizeof(e));
    e.ecosystem = S("Debian:12");
    e.package = S("x");
    e.id = S("CVE-1");
    e.severity = ATT_SEV_HIGH;
    e.fixed = S("1.0-2");
    memset(&p, 0, sizeof(p));
    p.refuse_at = ATT_SEV_HIGH;
    memset(name, 'n', 100);
    name[100] = '\0';
    att_vuln_judge(&p, m, 2, 1, &j);
    assert_int_equal(j.n_over, 2);
    assert_string_equal(j.worst,
                        "CVE-1 (high) in nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn 1.0-1, fixed "
                        "in 1.0-2");
    /* A finding whose text alone does not fit leaves only the ellipsis. */
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    pkg.version = name;
    att_vuln_judge(&p, m, 2, 1, &j);
    assert_int_equal(j.n_over, 2);
    assert_string_equal(j.worst, "...");
}

static void test_vuln_policy_free(void **state)
{
    struct att_vuln_policy p;
    size_t i;

    (void)state;
    memset(&p, 0, sizeof(p));
    att_vuln_policy_free(&p);
    att_vuln_policy_free(NULL);
    p.n_allow = 3;
    p.allow = calloc(p.n_allow, sizeof(*p.allow));
    assert_non_null(p.allow);
    for (i = 0; i < p.n_allow; i++) {
        p.allow[i].id = strdup("CVE-1");
        p.allow[i].reason = strdup("r");
    }
    att_vuln_policy_free(&p); /* ASan reports a leak if anything stays */
    assert_null(p.allow);
    assert_int_equal(p.n_allow, 0);
}

static void test_vulndb_fresh(void **state)
{
    struct att_vulndb *db = att_vulndb_new(1000000);
    char why[160] = "";

    (void)state;
    assert_true(att_vulndb_fresh(db, 1000000 + 3600, 7200, why, sizeof(why)));
    assert_true(att_vulndb_fresh(db, 1000000 + 7200, 7200, why, sizeof(why)));
    assert_false(att_vulndb_fresh(db, 1000000 + 7201, 7200, why, sizeof(why)));
    assert_non_null(strstr(why, "7201 s old"));
    assert_false(att_vulndb_fresh(db, 1000000 + 3 * 86400, 86400, why, sizeof(why)));
    assert_non_null(strstr(why, "3 days"));
    assert_true(att_vulndb_fresh(db, 1000000 + 100 * 86400, 0, why, sizeof(why)));
    assert_true(att_vulndb_fresh(db, 5, 60, why, sizeof(why))); /* from the future */
    assert_false(att_vulndb_fresh(NULL, 5, 60, why, sizeof(why)));
    att_vulndb_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_severity_parse_words),
        cmocka_unit_test(test_cvss3_severity_known_vectors),
        cmocka_unit_test(test_vulndb_canonical_round_trip),
        cmocka_unit_test(test_vulndb_canonical_unfinished),
        cmocka_unit_test(test_vulndb_parse_refusals),
        cmocka_unit_test(test_vulndb_add_refusals),
        cmocka_unit_test(test_vulndb_match_debian),
        cmocka_unit_test(test_vulndb_match_bad_version_fails_closed),
        cmocka_unit_test(test_vulndb_match_alpine),
        cmocka_unit_test(test_vuln_judge_bar),
        cmocka_unit_test(test_vuln_judge_alias),
        cmocka_unit_test(test_vuln_judge_truncation),
        cmocka_unit_test(test_vuln_judge_first_too_long),
        cmocka_unit_test(test_vuln_policy_free),
        cmocka_unit_test(test_vulndb_fresh),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
