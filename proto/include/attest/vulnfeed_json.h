/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vulnerability feeds as users fetch them (issue 8), parsed into an
 * att_vulndb (attest/vulndb.h). Never downloads anything.
 *
 * OSV (https://ossf.github.io/osv-schema/): one record per JSON document
 * (an object), or a JSON array of records. Each affected[] package with an
 * ecosystem becomes entries: every ECOSYSTEM range's events are cut into
 * intervals (introduced .. fixed | last_affected; "limit" ends an interval
 * like fixed), and each explicit versions[] item is a one-version interval.
 * GIT and SEMVER ranges are skipped (counted). Severity: a CVSS_V3 vector in
 * severity[] (base score), else database_specific.severity, else the
 * affected package's ecosystem_specific.urgency / severity, else unknown
 * (details below).
 * Aliases come from aliases[]. The feed time is the newest "modified".
 * In detail (assumptions about the schema, from its 1.6 text):
 *  - "id" and "modified" (RFC 3339 date-time, 'T'/'Z' either case, optional
 *    fraction, Z or +hh:mm offset, a real calendar day) are required.
 *  - A record with "withdrawn" adds no entries (its fields are still
 *    checked; its "modified" still counts for the feed time).
 *  - Every event is an object with exactly one of introduced, fixed,
 *    last_affected, limit, whose value is a non-empty string. OSV does not
 *    require events in order: for Debian:*, Ubuntu:* and Alpine:* they are
 *    sorted by version first (each must be valid for that order), then an
 *    "introduced" opens an interval when none is open ("0" = since the
 *    first version: introduced absent), fixed/limit/last_affected close the
 *    open one, and one still open at the end has no fix. "limit": "*" is
 *    ignored. Other ecosystems keep the listed order (their entries never
 *    match). A range type other than ECOSYSTEM, GIT or SEMVER is refused.
 *  - affected[] items without package.ecosystem add nothing (their ranges
 *    count as skipped).
 *  - Severity in order: CVSS_V3 vectors in the affected item's own
 *    severity[] (OSV allows per-package severity) or else the record's (the
 *    highest base score when there are several), a "Ubuntu" type priority
 *    word there, database_specific.severity (GHSA: "MODERATE", ...), the
 *    item's ecosystem_specific.urgency (Debian) then .severity. CVSS_V2,
 *    CVSS_V4 and unknown severity types are ignored. Every source present
 *    is checked, used or not: a malformed vector or a word that
 *    att_severity_parse() does not know refuses the document, except
 *    "end-of-life" and "untriaged", which are unknown.
 *
 * Debian security tracker JSON (https://security-tracker.debian.org/tracker/
 * data/json): {source package: {CVE id: {"releases": {codename: {"status",
 * "fixed_version", "urgency"}}}}}. Codenames map to ecosystems
 * (buster Debian:10, bullseye Debian:11, bookworm Debian:12, trixie
 * Debian:13; others are skipped); status "resolved" with fixed_version "0"
 * is not affected (skipped); "resolved" gives fixed = fixed_version; "open"
 * and "undetermined" give no fix. The file has no time of its own: the caller
 * passes it (the CLI uses the file's mtime unless told) as the db's
 * feed_time (att_vulndb_new); tracker_add leaves feed_time alone. Ids are
 * the keys as given (CVE-..., TEMP-...). "releases" must be an object,
 * "status" and "urgency" strings ("end-of-life" urgency = unknown), a
 * resolved release must name its fixed_version; any other status refuses
 * the document.
 *
 * Input is untrusted: sizes and nesting are bounded (ATT_VULNFEED_MAX_DOC,
 * 32 levels, checked before jansson parses), duplicate keys are refused,
 * the type of every field used is checked, unknown fields are ignored, and
 * any malformed record fails the whole import with @p why naming the record
 * (and file, where the caller gives one): the db's entries and feed_time
 * are rolled back, so a bad feed changes nothing.
 * Statistics are added to *st (may be NULL) only when the import succeeds.
 */
#ifndef ATT_PROTO_VULNFEED_JSON_H
#define ATT_PROTO_VULNFEED_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "attest/rc.h"
#include "attest/vulndb.h"

#define ATT_VULNFEED_MAX_DOC (512u * 1024u * 1024u) /* one JSON document */

struct att_vulnfeed_stats {
    size_t records;        /* OSV records or tracker (package, CVE) pairs read */
    size_t entries;        /* entries added */
    size_t skipped_ranges; /* GIT/SEMVER ranges, unknown codenames, not-affected */
};

/**
 * Add the OSV record(s) in @p json (an object or an array of objects) to
 * @p db. @p name (may be NULL) names the document in errors. Raises
 * db->feed_time to the newest "modified" seen. Call att_vulndb_finish()
 * after the last import.
 * @retval ATT_OK @retval ATT_ERR_PARSE (@p why says where; db unchanged)
 * @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM (db unchanged)
 */
att_rc att_vulnfeed_osv_add(struct att_vulndb *db, const char *json, size_t len,
                            const char *name, struct att_vulnfeed_stats *st, char *why,
                            size_t why_len);
/**
 * Add the Debian security tracker document @p json to @p db, keeping only
 * @p release (a codename; NULL = every known one).
 * @retval ATT_OK @retval ATT_ERR_PARSE (@p why says where; db unchanged)
 * @retval ATT_ERR_INVALID_ARG (also an unknown @p release) @retval ATT_ERR_NOMEM
 */
att_rc att_vulnfeed_tracker_add(struct att_vulndb *db, const char *json, size_t len,
                                const char *release, struct att_vulnfeed_stats *st, char *why,
                                size_t why_len);

#endif
