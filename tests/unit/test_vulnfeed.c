/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OSV records and the Debian security tracker's JSON read into a vulndb
 * (attest/vulnfeed_json.h): ranges cut into intervals, versions[] lists,
 * severity sources in their order, aliases, the feed time, the tracker's
 * statuses and release filter, and malformed documents, each refused with
 * a reason and without changing the db.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attest/vulndb.h"
#include "attest/vulnfeed_json.h"

static att_rc osv(struct att_vulndb *db, const char *json, struct att_vulnfeed_stats *st, char *why,
                  size_t why_len)
{
    return att_vulnfeed_osv_add(db, json, strlen(json), "test.json", st, why, why_len);
}

/* The entry of (ecosystem, package, id, introduced) after finish, or NULL. */
static const struct att_vuln_entry *find(const struct att_vulndb *db, const char *pkg,
                                         const char *id, const char *introduced)
{
    size_t i;

    for (i = 0; i < db->n_entries; i++) {
        const struct att_vuln_entry *e = &db->entries[i];

        if (strcmp(e->package, pkg) == 0 && strcmp(e->id, id) == 0 &&
            ((introduced == NULL && e->introduced == NULL) ||
             (introduced != NULL && e->introduced != NULL &&
              strcmp(e->introduced, introduced) == 0))) {
            return e;
        }
    }
    return NULL;
}

static void assert_opt_str(const char *got, const char *want)
{
    if (want == NULL) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void expect(const struct att_vulndb *db, const char *pkg, const char *id,
                   const char *introduced, const char *fixed, const char *last,
                   enum att_severity sev)
{
    const struct att_vuln_entry *e = find(db, pkg, id, introduced);

    if (e == NULL) {
        fail_msg("no entry %s %s introduced %s", pkg, id, introduced ? introduced : "-");
        return; /* fail_msg longjmps; gcc does not know */
    }
    assert_opt_str(e->fixed, fixed);
    assert_opt_str(e->last_affected, last);
    assert_int_equal(e->severity, sev);
}

/* ------------------------------------------------------------------------ */
/* OSV                                                                       */

static const char dsa[] =
    "{\"schema_version\": \"1.6.0\", \"id\": \"DSA-5678-1\",\n"
    " \"modified\": \"2024-01-02T03:04:05Z\", \"published\": \"2024-01-01T00:00:00Z\",\n"
    " \"aliases\": [\"CVE-2024-1111\", \"CVE-2024-2222\"], \"related\": [\"X\"],\n"
    " \"summary\": \"openssl - security update\", \"unknown_field\": {\"a\": [1, 2]},\n"
    " \"affected\": [{\n"
    "   \"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"openssl\",\n"
    "               \"purl\": \"pkg:deb/debian/openssl?arch=source\"},\n"
    "   \"ranges\": [{\"type\": \"ECOSYSTEM\",\n"
    "                \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"3.0.13-1~deb12u1\"}]}],\n"
    "   \"versions\": [\"3.0.11-1~deb12u1\", \"3.0.11-1~deb12u2\"],\n"
    "   \"ecosystem_specific\": {\"urgency\": \"high\"},\n"
    "   \"database_specific\": {\"source\": \"https://example/DSA-5678-1.json\"}}]}\n";

static void test_osv_single_record(void **state)
{
    struct att_vulndb *db = att_vulndb_new(0);
    struct att_vulnfeed_stats st;
    char why[256] = "";

    (void)state;
    memset(&st, 0, sizeof(st));
    assert_int_equal(osv(db, dsa, &st, why, sizeof(why)), ATT_OK);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.entries, 3);
    assert_int_equal(st.skipped_ranges, 0);
    assert_int_equal(db->feed_time, 1704164645u); /* 2024-01-02T03:04:05Z */
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    assert_int_equal(db->n_entries, 3);
    expect(db, "openssl", "DSA-5678-1", NULL, "3.0.13-1~deb12u1", NULL, ATT_SEV_HIGH);
    expect(db, "openssl", "DSA-5678-1", "3.0.11-1~deb12u1", NULL, "3.0.11-1~deb12u1", ATT_SEV_HIGH);
    expect(db, "openssl", "DSA-5678-1", "3.0.11-1~deb12u2", NULL, "3.0.11-1~deb12u2", ATT_SEV_HIGH);
    assert_string_equal(db->entries[0].aliases, "CVE-2024-1111,CVE-2024-2222");
    assert_string_equal(db->entries[0].ecosystem, "Debian:12");
    att_vulndb_free(db);
}

static void test_osv_array_feed_time_and_intervals(void **state)
{
    static const char arr[] =
        "[{\"id\": \"A-1\", \"modified\": \"2024-01-02T03:04:05Z\",\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"multi\"},\n"
        "    \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [\n"
        "       {\"introduced\": \"3.0-1\"}, {\"fixed\": \"1.0-2\"}, {\"introduced\": \"0\"},\n"
        "       {\"fixed\": \"2.0-3\"}, {\"introduced\": \"2.0-1\"}]}]}]},\n"
        " {\"id\": \"A-2\", \"modified\": \"2024-03-01T00:00:00.123456Z\",\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"last\"},\n"
        "    \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [\n"
        "       {\"introduced\": \"1.0-1\"}, {\"last_affected\": \"1.5-1\"}]}]},\n"
        "   {\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"limited\"},\n"
        "    \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [\n"
        "       {\"introduced\": \"0\"}, {\"limit\": \"2.0-1\"}]}]},\n"
        "   {\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"gitonly\"},\n"
        "    \"ranges\": [{\"type\": \"GIT\", \"repo\": \"https://example/x.git\",\n"
        "       \"events\": [{\"introduced\": \"abc123\"}, {\"fixed\": \"def456\"}]},\n"
        "                 {\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}]}]},\n"
        "   {\"ranges\": [{\"type\": \"GIT\", \"repo\": \"r\", \"events\": [{\"introduced\": "
        "\"0\"}]}]}]},\n"
        " {\"id\": \"A-3\", \"modified\": \"2023-12-31T23:59:59+02:00\"},\n"
        " {\"id\": \"A-4\", \"modified\": \"2024-05-01T00:00:00Z\",\n"
        "  \"withdrawn\": \"2024-05-01T00:00:00Z\",\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"gone\"},\n"
        "    \"versions\": [\"1.0-1\"]}]}]";
    struct att_vulndb *db = att_vulndb_new(1000);
    struct att_vulnfeed_stats st;
    char why[256] = "";

    (void)state;
    memset(&st, 0, sizeof(st));
    assert_int_equal(osv(db, arr, &st, why, sizeof(why)), ATT_OK);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.entries, 5);
    assert_int_equal(st.skipped_ranges, 3); /* GIT, SEMVER, GIT */
    /* The newest "modified", the withdrawn record's included. */
    assert_int_equal(db->feed_time, 1714521600u); /* 2024-05-01T00:00:00Z */
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    assert_int_equal(db->n_entries, 5);
    /* Events sorted by version before being cut: 0..1.0-2, 2.0-1..2.0-3, 3.0-1.. */
    expect(db, "multi", "A-1", NULL, "1.0-2", NULL, ATT_SEV_UNKNOWN);
    expect(db, "multi", "A-1", "2.0-1", "2.0-3", NULL, ATT_SEV_UNKNOWN);
    expect(db, "multi", "A-1", "3.0-1", NULL, NULL, ATT_SEV_UNKNOWN);
    expect(db, "last", "A-2", "1.0-1", NULL, "1.5-1", ATT_SEV_UNKNOWN);
    expect(db, "limited", "A-2", NULL, "2.0-1", NULL, ATT_SEV_UNKNOWN);
    assert_null(find(db, "gitonly", "A-2", NULL));
    assert_null(find(db, "gone", "A-4", "1.0-1"));
    assert_null(db->entries[0].aliases);

    /* A second document raises the feed time only when newer, and adds up the stats. */
    assert_int_equal(
        osv(db, "{\"id\": \"B-1\", \"modified\": \"2020-01-01T00:00:00Z\"}", &st, why, sizeof(why)),
        ATT_OK);
    assert_int_equal(db->feed_time, 1714521600u);
    assert_int_equal(st.records, 5);
    att_vulndb_free(db);
}

static void test_osv_severity_sources(void **state)
{
    static const char arr[] =
        "[{\"id\": \"S-CVSS\", \"modified\": \"2024-01-01T00:00:00Z\",\n"
        "  \"severity\": [{\"type\": \"CVSS_V2\", \"score\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P\"},\n"
        "    {\"type\": \"CVSS_V3\", \"score\": "
        "\"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N\"},\n"
        "    {\"type\": \"CVSS_V3\", \"score\": "
        "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"},\n"
        "    {\"type\": \"CVSS_V4\", \"score\": \"CVSS:4.0/AV:N\"}],\n"
        "  \"database_specific\": {\"severity\": \"LOW\"},\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"a\"},\n"
        "    \"ecosystem_specific\": {\"urgency\": \"low\"}, \"versions\": [\"1.0-1\"]}]},\n"
        " {\"id\": \"S-GHSA\", \"modified\": \"2024-01-01T00:00:00Z\",\n"
        "  \"database_specific\": {\"severity\": \"MODERATE\", \"cwe_ids\": [\"CWE-79\"]},\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"b\"},\n"
        "    \"ecosystem_specific\": {\"urgency\": \"low\"}, \"versions\": [\"1.0-1\"]}]},\n"
        " {\"id\": \"S-URGENCY\", \"modified\": \"2024-01-01T00:00:00Z\",\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"c\"},\n"
        "    \"ecosystem_specific\": {\"urgency\": \"low**\"}, \"versions\": [\"1.0-1\"]},\n"
        "   {\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"c2\"},\n"
        "    \"ecosystem_specific\": {\"severity\": \"unimportant\"}, \"versions\": [\"1.0-1\"]},\n"
        "   {\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"c3\"},\n"
        "    \"ecosystem_specific\": {\"urgency\": \"end-of-life\"}, \"versions\": "
        "[\"1.0-1\"]}]},\n"
        " {\"id\": \"S-NONE\", \"modified\": \"2024-01-01T00:00:00Z\",\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"d\"},\n"
        "    \"versions\": [\"1.0-1\"]}]},\n"
        " {\"id\": \"S-PERPKG\", \"modified\": \"2024-01-01T00:00:00Z\",\n"
        "  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"e\"},\n"
        "    \"severity\": [{\"type\": \"CVSS_V3\",\n"
        "                  \"score\": \"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N\"}],\n"
        "    \"versions\": [\"1.0-1\"]},\n"
        "   {\"package\": {\"ecosystem\": \"Ubuntu:22.04:LTS\", \"name\": \"f\"},\n"
        "    \"severity\": [{\"type\": \"Ubuntu\", \"score\": \"medium\"}],\n"
        "    \"versions\": [\"1.0-1\"]}]}]";
    struct att_vulndb *db = att_vulndb_new(0);
    char why[256] = "";

    (void)state;
    assert_int_equal(osv(db, arr, NULL, why, sizeof(why)), ATT_OK);
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    /* CVSS beats the words; the highest of two vectors counts. */
    expect(db, "a", "S-CVSS", "1.0-1", NULL, "1.0-1", ATT_SEV_CRITICAL);
    /* database_specific.severity beats the package's urgency. */
    expect(db, "b", "S-GHSA", "1.0-1", NULL, "1.0-1", ATT_SEV_MEDIUM);
    expect(db, "c", "S-URGENCY", "1.0-1", NULL, "1.0-1", ATT_SEV_LOW);
    expect(db, "c2", "S-URGENCY", "1.0-1", NULL, "1.0-1", ATT_SEV_NEGLIGIBLE);
    expect(db, "c3", "S-URGENCY", "1.0-1", NULL, "1.0-1", ATT_SEV_UNKNOWN);
    expect(db, "d", "S-NONE", "1.0-1", NULL, "1.0-1", ATT_SEV_UNKNOWN);
    expect(db, "e", "S-PERPKG", "1.0-1", NULL, "1.0-1", ATT_SEV_LOW);
    expect(db, "f", "S-PERPKG", "1.0-1", NULL, "1.0-1", ATT_SEV_MEDIUM);
    att_vulndb_free(db);
}

static void test_osv_alpine(void **state)
{
    static const char rec[] =
        "{\"id\": \"ALPINE-CVE-2023-0001\", \"modified\": \"2024-01-01T00:00:00z\",\n"
        " \"aliases\": [\"CVE-2023-0001\"],\n"
        " \"affected\": [{\"package\": {\"ecosystem\": \"Alpine:v3.18\", \"name\": \"busybox\"},\n"
        "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [\n"
        "     {\"fixed\": \"1.36.1-r5\"}, {\"introduced\": \"0\"}]}]}]}";
    struct att_vulndb *db = att_vulndb_new(0);
    char why[256] = "";

    (void)state;
    assert_int_equal(osv(db, rec, NULL, why, sizeof(why)), ATT_OK);
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    assert_int_equal(db->n_entries, 1);
    expect(db, "busybox", "ALPINE-CVE-2023-0001", NULL, "1.36.1-r5", NULL, ATT_SEV_UNKNOWN);
    assert_string_equal(db->entries[0].aliases, "CVE-2023-0001");
    att_vulndb_free(db);
}

/* OSV's "Ubuntu:22.04:LTS" is the ecosystem an Ubuntu 22.04 inventory names ("Ubuntu:22.04"). */
static void test_osv_ubuntu_lts(void **state)
{
    static const char rec[] =
        "{\"id\": \"UBUNTU-CVE-2024-0001\", \"modified\": \"2024-01-01T00:00:00Z\",\n"
        " \"affected\": [{\"package\": {\"ecosystem\": \"Ubuntu:22.04:LTS\", \"name\": \"glibc\"},\n"
        "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [\n"
        "     {\"introduced\": \"0\"}, {\"fixed\": \"2.35-0ubuntu3.5\"}]}]},\n"
        "  {\"package\": {\"ecosystem\": \"Ubuntu:Pro:18.04:LTS\", \"name\": \"glibc\"},\n"
        "   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [\n"
        "     {\"introduced\": \"0\"}, {\"fixed\": \"2.27-3ubuntu1.7\"}]}]}]}";
    struct att_vulndb *db = att_vulndb_new(0);
    struct att_inventory inv;
    struct att_pkg pkg = {.name = (char *)(uintptr_t) "libc6",
                          .version = (char *)(uintptr_t) "2.35-0ubuntu3.4",
                          .arch = (char *)(uintptr_t) "amd64",
                          .source = (char *)(uintptr_t) "glibc",
                          .source_version = (char *)(uintptr_t) "2.35-0ubuntu3.4"};
    struct att_vuln_match *m = NULL;
    size_t n = 0;
    char why[256] = "";

    (void)state;
    assert_int_equal(osv(db, rec, NULL, why, sizeof(why)), ATT_OK);
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    memset(&inv, 0, sizeof(inv));
    (void)snprintf(inv.os_id, sizeof(inv.os_id), "ubuntu");
    (void)snprintf(inv.ecosystem, sizeof(inv.ecosystem), "Ubuntu:22.04");
    inv.format = ATT_PKG_DPKG;
    inv.pkgs = &pkg;
    inv.n_pkgs = 1;
    assert_int_equal(att_vulndb_match(db, &inv, &m, &n), ATT_OK);
    assert_int_equal(n, 1); /* the LTS record; the Pro one is another ecosystem */
    assert_string_equal(m[0].entry->ecosystem, "Ubuntu:22.04");
    free(m);
    att_vulndb_free(db);
}

/* Inventories a bar can judge, and those it must not pass as clean. */
static void test_judgeable(void **state)
{
    struct att_inventory inv;
    struct att_pkg pkg = {.name = (char *)(uintptr_t) "p", .version = (char *)(uintptr_t) "1",
                          .arch = (char *)(uintptr_t) "amd64", .source = (char *)(uintptr_t) "p",
                          .source_version = (char *)(uintptr_t) "1"};
    char why[256] = "";

    (void)state;
    memset(&inv, 0, sizeof(inv));
    assert_true(att_vuln_judgeable(&inv, why, sizeof(why))); /* scratch: nothing to judge */
    (void)snprintf(inv.os_id, sizeof(inv.os_id), "fedora");
    assert_false(att_vuln_judgeable(&inv, why, sizeof(why))); /* an RPM distribution */
    assert_non_null(strstr(why, "fedora"));
    (void)snprintf(inv.os_id, sizeof(inv.os_id), "debian");
    (void)snprintf(inv.ecosystem, sizeof(inv.ecosystem), "Debian:12");
    assert_false(att_vuln_judgeable(&inv, why, sizeof(why))); /* os-release, no database */
    assert_non_null(strstr(why, "no package database"));
    inv.format = ATT_PKG_DPKG;
    assert_true(att_vuln_judgeable(&inv, why, sizeof(why)));
    inv.ecosystem[0] = '\0';
    inv.os_id[0] = '\0';
    inv.pkgs = &pkg;
    inv.n_pkgs = 1;
    assert_false(att_vuln_judgeable(&inv, why, sizeof(why))); /* packages, OS unknown */
    assert_false(att_vuln_judgeable(NULL, why, sizeof(why)));
}

/* One malformed document: refused, why names @p word, the db as it was. */
static void refuse_osv(struct att_vulndb *db, const char *json, size_t len, const char *word)
{
    size_t n0 = db->n_entries;
    uint64_t t0 = db->feed_time;
    struct att_vulnfeed_stats st;
    char why[256] = "";

    memset(&st, 0, sizeof(st));
    if (att_vulnfeed_osv_add(db, json, len, "feed.json", &st, why, sizeof(why)) != ATT_ERR_PARSE) {
        fail_msg("accepted: %.200s", json);
    }
    if (strstr(why, word) == NULL || strstr(why, "feed.json") == NULL) {
        fail_msg("why \"%s\" does not name \"%s\" and the document", why, word);
    }
    assert_int_equal(db->n_entries, n0);
    assert_int_equal(db->feed_time, t0);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.entries, 0);
}

#define REFUSE(db, s, word) refuse_osv((db), (s), strlen(s), (word))
#define REC(fields)         "{\"id\": \"R-1\", \"modified\": \"2024-01-01T00:00:00Z\", " fields "}"
#define AFF(pkgfields)                                                                             \
    REC("\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"p\"}, " pkgfields \
        "}]")

static void test_osv_malformed(void **state)
{
    struct att_vulndb *db = att_vulndb_new(0);
    char why[256] = "";
    char deep[200];
    size_t i;
    static const char dup[] = "{\"id\": \"R-1\", \"id\": \"R-2\", \"modified\": "
                              "\"2024-01-01T00:00:00Z\"}";

    (void)state;
    /* Something in the db before, which every refusal must leave alone. */
    assert_int_equal(osv(db, dsa, NULL, why, sizeof(why)), ATT_OK);
    assert_int_equal(db->n_entries, 3);

    REFUSE(db, "{not json", "invalid JSON");
    REFUSE(db, "", "truncated JSON");
    REFUSE(db, "{\"id\": \"R-1\"} trailing", "trailing");
    REFUSE(db, "42", "not an OSV record");
    REFUSE(db, "\"DSA-1\"", "not an OSV record");
    REFUSE(db, "[42]", "record 0 (?): not an object");
    REFUSE(db, dup, "duplicate key");
    REFUSE(db, REC("\"affected\": {}"), "\"affected\" is not an array");
    REFUSE(db, REC("\"affected\": [42]"), "affected[0] is not an object");
    REFUSE(db, "{\"modified\": \"2024-01-01T00:00:00Z\"}", "\"id\"");
    REFUSE(db, "{\"id\": 5, \"modified\": \"2024-01-01T00:00:00Z\"}", "\"id\"");
    REFUSE(db, "{\"id\": \"R-1\"}", "(R-1): \"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": 1704067200}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-02-30T00:00:00Z\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2023-02-29T00:00:00Z\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-01-02 03:04:05Z\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-01-02T03:04:05\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-1-02T03:04:05Z\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-01-02T24:00:00Z\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-01-02T03:04:05.Z\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-01-02T03:04:05Z \"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"2024-01-02T03:04:05+1:00\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"1969-12-31T23:59:59Z\"}", "\"modified\"");
    REFUSE(db, "{\"id\": \"R-1\", \"modified\": \"+024-01-02T03:04:05Z\"}", "\"modified\"");
    REFUSE(db, REC("\"withdrawn\": \"yesterday\""), "\"withdrawn\"");
    REFUSE(db, REC("\"aliases\": \"CVE-1\""), "\"aliases\"");
    REFUSE(db, REC("\"aliases\": [\"CVE-1\", 2]"), "aliases[1]");
    REFUSE(db, REC("\"aliases\": [\"CVE-1,CVE-2\"]"), "aliases[0]");
    REFUSE(db,
           AFF("\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": "
               "[{\"introduced\": \"0\", \"fixed\": \"1.0-1\"}]}]"),
           "events[0] is not an object with exactly one key");
    REFUSE(db, AFF("\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{}]}]"), "exactly one key");
    REFUSE(db, AFF("\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"fixd\": \"1\"}]}]"),
           "events[0] is not {");
    REFUSE(db, AFF("\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"fixed\": 1}]}]"),
           "events[0] is not {");
    REFUSE(db, AFF("\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": []}]"), "events is not");
    REFUSE(db, AFF("\"ranges\": [{\"type\": \"ECOSYSTEM\"}]"), "events is not");
    REFUSE(db,
           AFF("\"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": "
               "[{\"introduced\": \"0\"}, {\"fixed\": \"not a version\"}]}]"),
           "events[1]: \"not a version\" is not a Debian:12 version");
    REFUSE(db, AFF("\"ranges\": [{\"type\": \"RANGE\", \"events\": [{\"introduced\": \"0\"}]}]"),
           "unknown range type \"RANGE\"");
    REFUSE(db, AFF("\"ranges\": [{\"events\": [{\"introduced\": \"0\"}]}]"), "\"type\"");
    REFUSE(db, AFF("\"ranges\": {}"), "ranges is not an array");
    REFUSE(db, AFF("\"versions\": [\"1.0-1\", 7]"), "versions[1] is not a string");
    REFUSE(db, AFF("\"versions\": [\"abc\"]"), "introduced is not a valid version");
    REFUSE(db, REC("\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\"}}]"), "no name");
    REFUSE(db, REC("\"affected\": [{\"package\": {\"ecosystem\": 12, \"name\": \"p\"}}]"),
           "affected[0].package");
    REFUSE(db,
           REC("\"database_specific\": {\"severity\": \"SEVERE\"}, "
               "\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": "
               "\"p\"}, \"versions\": [\"1.0-1\"]}]"),
           "database_specific.severity: unknown severity \"SEVERE\"");
    REFUSE(db,
           REC("\"database_specific\": {\"severity\": 3}, "
               "\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": "
               "\"p\"}}]"),
           "database_specific.severity is not a string");
    REFUSE(db, AFF("\"ecosystem_specific\": {\"urgency\": \"urgent\"}"), "unknown severity");
    REFUSE(db, AFF("\"ecosystem_specific\": []"), "ecosystem_specific is not an object");
    REFUSE(db,
           REC("\"severity\": [{\"type\": \"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N\"}], "
               "\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": "
               "\"p\"}}]"),
           "not a complete CVSS v3 base vector");
    REFUSE(db,
           REC("\"severity\": [{\"type\": \"CVSS_V3\"}], "
               "\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": "
               "\"p\"}}]"),
           "severity[0] is not");
    REFUSE(db, AFF("\"severity\": [{\"type\": \"Ubuntu\", \"score\": \"meh\"}]"),
           "unknown Ubuntu priority");
    /* A bad record after good ones takes the good ones with it. */
    REFUSE(db,
           "[" REC("\"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": "
                   "\"q\"}, \"versions\": [\"1.0-1\"]}]") ", {\"id\": \"R-2\"}]",
           "record 1 (R-2)");
    /* Nesting deeper than any OSV record, well below jansson's own limit. */
    for (i = 0; i < 40; i++) {
        deep[i] = '[';
        deep[80 - 1 - i] = ']';
    }
    deep[80] = '\0';
    REFUSE(db, deep, "nested deeper");
    /* Brackets inside strings do not count. */
    assert_int_equal(osv(db, REC("\"summary\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\""),
                         NULL, why, sizeof(why)),
                     ATT_OK);
    /* The size is checked before a byte is read. */
    refuse_osv(db, "{}", (size_t)ATT_VULNFEED_MAX_DOC + 1, "larger than");
    assert_int_equal(att_vulnfeed_osv_add(db, NULL, 5, NULL, NULL, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_vulnfeed_osv_add(NULL, "{}", 2, NULL, NULL, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(db->n_entries, 3);
    att_vulndb_free(db);
}

/* ------------------------------------------------------------------------ */
/* Debian security tracker                                                   */

static const char tracker[] =
    "{\"openssl\": {\n"
    "  \"CVE-2024-0001\": {\"description\": \"x\", \"scope\": \"remote\", \"releases\": {\n"
    "    \"bookworm\": {\"status\": \"resolved\", \"repositories\": {\"bookworm\": "
    "\"3.0.11-1~deb12u2\"},\n"
    "                 \"fixed_version\": \"3.0.13-1~deb12u1\", \"urgency\": \"not yet "
    "assigned\"},\n"
    "    \"bullseye\": {\"status\": \"resolved\", \"repositories\": {}, \"fixed_version\": "
    "\"0\",\n"
    "                 \"urgency\": \"unimportant\"},\n"
    "    \"sid\": {\"status\": \"resolved\", \"fixed_version\": \"3.0.13-1\", \"urgency\": "
    "\"low\"},\n"
    "    \"trixie\": {\"status\": \"open\", \"repositories\": {}, \"urgency\": \"high**\"}}},\n"
    "  \"CVE-2024-0002\": {\"releases\": {\n"
    "    \"bookworm\": {\"status\": \"open\", \"urgency\": \"medium\", \"nodsa\": \"minor\"},\n"
    "    \"forky\": {\"status\": \"open\", \"urgency\": \"medium\"}}}},\n"
    " \"glibc\": {\n"
    "  \"TEMP-0000000-ABCDEF\": {\"releases\": {\n"
    "    \"bookworm\": {\"status\": \"undetermined\", \"urgency\": \"end-of-life\"}}},\n"
    "  \"CVE-2024-0003\": {\"releases\": {}}}}";

static void test_tracker_all_releases(void **state)
{
    struct att_vulndb *db = att_vulndb_new(1234);
    struct att_vulnfeed_stats st;
    char why[256] = "";

    (void)state;
    memset(&st, 0, sizeof(st));
    assert_int_equal(
        att_vulnfeed_tracker_add(db, tracker, strlen(tracker), NULL, &st, why, sizeof(why)),
        ATT_OK);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.entries, 4);
    assert_int_equal(st.skipped_ranges, 3); /* bullseye "0", sid, forky */
    assert_int_equal(db->feed_time, 1234);  /* the caller's */
    assert_int_equal(att_vulndb_finish(db), ATT_OK);
    assert_int_equal(db->n_entries, 4);
    expect(db, "openssl", "CVE-2024-0001", NULL, "3.0.13-1~deb12u1", NULL, ATT_SEV_UNKNOWN);
    assert_string_equal(db->entries[1].ecosystem, "Debian:12");
    assert_string_equal(db->entries[1].id, "CVE-2024-0001");
    expect(db, "openssl", "CVE-2024-0002", NULL, NULL, NULL, ATT_SEV_MEDIUM);
    expect(db, "glibc", "TEMP-0000000-ABCDEF", NULL, NULL, NULL, ATT_SEV_UNKNOWN);
    /* trixie's open CVE-2024-0001, urgency "high**" */
    assert_string_equal(db->entries[3].ecosystem, "Debian:13");
    assert_string_equal(db->entries[3].id, "CVE-2024-0001");
    assert_null(db->entries[3].fixed);
    assert_int_equal(db->entries[3].severity, ATT_SEV_HIGH);
    assert_null(db->entries[3].aliases);
    att_vulndb_free(db);
}

static void test_tracker_release_filter(void **state)
{
    struct att_vulndb *db = att_vulndb_new(1);
    struct att_vulnfeed_stats st;
    char why[256] = "";
    size_t i;

    (void)state;
    memset(&st, 0, sizeof(st));
    assert_int_equal(
        att_vulnfeed_tracker_add(db, tracker, strlen(tracker), "bookworm", &st, why, sizeof(why)),
        ATT_OK);
    assert_int_equal(st.entries, 3);
    assert_int_equal(st.skipped_ranges, 0);
    for (i = 0; i < db->n_entries; i++) {
        assert_string_equal(db->entries[i].ecosystem, "Debian:12");
    }
    memset(&st, 0, sizeof(st));
    assert_int_equal(
        att_vulnfeed_tracker_add(db, tracker, strlen(tracker), "bullseye", &st, why, sizeof(why)),
        ATT_OK);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.skipped_ranges, 1); /* not affected */
    assert_int_equal(
        att_vulnfeed_tracker_add(db, tracker, strlen(tracker), "sid", &st, why, sizeof(why)),
        ATT_ERR_INVALID_ARG);
    assert_non_null(strstr(why, "unknown release \"sid\""));
    assert_int_equal(db->n_entries, 3);
    att_vulndb_free(db);
}

static void refuse_tracker(struct att_vulndb *db, const char *json, const char *word)
{
    size_t n0 = db->n_entries;
    char why[256] = "";

    if (att_vulnfeed_tracker_add(db, json, strlen(json), NULL, NULL, why, sizeof(why)) !=
        ATT_ERR_PARSE) {
        fail_msg("accepted: %.200s", json);
    }
    if (strstr(why, word) == NULL) {
        fail_msg("why \"%s\" does not name \"%s\"", why, word);
    }
    assert_int_equal(db->n_entries, n0);
}

#define TRK(rel) "{\"zz\": {\"CVE-1\": {\"releases\": {\"bookworm\": " rel "}}}}"
/* A good package first, so the refusal must roll it back. */
#define TRK2(rel)                                                                                  \
    "{\"aa\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"open\", \"urgency\": "      \
    "\"low\"}}}}, \"zz\": {\"CVE-1\": {\"releases\": {\"bookworm\": " rel "}}}}"

static void test_tracker_malformed(void **state)
{
    struct att_vulndb *db = att_vulndb_new(1);
    char why[256] = "";

    (void)state;
    assert_int_equal(
        att_vulnfeed_tracker_add(db, tracker, strlen(tracker), NULL, NULL, why, sizeof(why)),
        ATT_OK);
    refuse_tracker(db, "[]", "not an object of source packages");
    refuse_tracker(db, "{\"a\": [] }", "tracker: a is not an object");
    refuse_tracker(db, "{\"a\": {\"CVE-1\": {}}}", "a/CVE-1 has no \"releases\"");
    refuse_tracker(db, "{\"a\": {\"CVE-1\": {\"releases\": []}}}", "has no \"releases\"");
    refuse_tracker(db, "{\"a\": {\"CVE-1\": {\"releases\": {}}, \"CVE-1\": {}}}", "duplicate key");
    refuse_tracker(db, TRK2("{\"status\": \"fixed\", \"urgency\": \"low\"}"),
                   "zz/CVE-1: releases.bookworm: unknown status \"fixed\"");
    refuse_tracker(db, TRK2("{\"status\": \"open\", \"urgency\": \"urgent\"}"),
                   "unknown urgency \"urgent\"");
    refuse_tracker(db, TRK2("{\"status\": \"open\"}"), "releases.bookworm is not");
    refuse_tracker(db, TRK2("{\"status\": \"resolved\", \"urgency\": \"low\"}"),
                   "resolved without a fixed_version");
    refuse_tracker(db,
                   TRK2("{\"status\": \"resolved\", \"urgency\": \"low\", "
                        "\"fixed_version\": 2}"),
                   "releases.bookworm is not");
    refuse_tracker(db,
                   TRK2("{\"status\": \"resolved\", \"urgency\": \"low\", "
                        "\"fixed_version\": \"abc\"}"),
                   "fixed is not a valid version");
    refuse_tracker(db, TRK("\"open\""), "releases.bookworm is not");
    refuse_tracker(db,
                   "{\"zz\": {\"CVE 1\": {\"releases\": {\"bookworm\": {\"status\": "
                   "\"open\", \"urgency\": \"low\"}}}}}",
                   "id is not");
    refuse_tracker(db, "{\"a\": 1", "truncated JSON");
    assert_int_equal(db->n_entries, 4);
    att_vulndb_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_osv_single_record),
        cmocka_unit_test(test_osv_array_feed_time_and_intervals),
        cmocka_unit_test(test_osv_severity_sources),
        cmocka_unit_test(test_osv_alpine),
        cmocka_unit_test(test_osv_ubuntu_lts),
        cmocka_unit_test(test_judgeable),
        cmocka_unit_test(test_osv_malformed),
        cmocka_unit_test(test_tracker_all_releases),
        cmocka_unit_test(test_tracker_release_filter),
        cmocka_unit_test(test_tracker_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
