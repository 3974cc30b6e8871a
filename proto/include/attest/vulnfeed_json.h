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
 * affected package's ecosystem_specific.urgency / severity, else unknown.
 * Aliases come from aliases[]. The feed time is the newest "modified".
 *
 * Debian security tracker JSON (https://security-tracker.debian.org/tracker/
 * data/json): {source package: {CVE id: {"releases": {codename: {"status",
 * "fixed_version", "urgency"}}}}}. Codenames map to ecosystems
 * (buster Debian:10, bullseye Debian:11, bookworm Debian:12, trixie
 * Debian:13; others are skipped); status "resolved" with fixed_version "0"
 * is not affected (skipped); "resolved" gives fixed = fixed_version; "open"
 * and "undetermined" give no fix. The file has no time of its own: the caller
 * passes it (the CLI uses the file's mtime unless told).
 *
 * Input is untrusted: sizes and nesting are bounded, and any malformed
 * record fails the whole import with @p why naming the record (and file,
 * where the caller gives one), so a bad feed changes nothing.
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
 * db->feed_time to the newest "modified" seen.
 */
att_rc att_vulnfeed_osv_add(struct att_vulndb *db, const char *json, size_t len,
                            const char *name, struct att_vulnfeed_stats *st, char *why,
                            size_t why_len);
/**
 * Add the Debian security tracker document @p json to @p db, keeping only
 * @p release (a codename; NULL = every known one).
 */
att_rc att_vulnfeed_tracker_add(struct att_vulndb *db, const char *json, size_t len,
                                const char *release, struct att_vulnfeed_stats *st, char *why,
                                size_t why_len);

#endif
