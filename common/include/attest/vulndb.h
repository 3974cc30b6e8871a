/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vulnerability feed as attest uses it (issue 8): normalised entries
 * (ecosystem, source package, vulnerability id, severity, one affected
 * version interval), their canonical text form, matching against a package
 * inventory (attest/inventory.h) and judgement against a container policy's
 * vulnerability bar.
 *
 * The canonical text is what the verifier stores, sends to agents (so the
 * prestart hook judges with the same feed) and digests; the digest names the
 * feed everywhere (verdict caches, API, events):
 *   attest-vulndb 1 <feed_time unix seconds>\n
 *   <ecosystem>\t<package>\t<id>\t<severity>\t<introduced|->\t<fixed|->\t<last_affected|->\t<aliases|->\n
 * sorted by (ecosystem, package, id, introduced, fixed, last_affected) as
 * written (bytewise, "-" for an absent field), then by severity and aliases so
 * the order is total; no duplicates; severity is att_severity_str(); aliases
 * are comma-separated ids. Fields are printable ASCII without tab or newline
 * (ids and aliases also without blank or comma; an optional field is never a
 * literal "-"). An entry affects a
 * version v when introduced <= v (or introduced is "-"), v < fixed (or fixed
 * is "-"), and v <= last_affected (when given). Versions compare with the
 * ecosystem's order: Debian:* and Ubuntu:* by dpkg, Alpine:* by apk
 * (attest/vercmp.h); entries of other ecosystems never match.
 *
 * Matching uses the package's source name and source version (Debian's OSV
 * records and security tracker are keyed by source package; Alpine's by
 * origin).
 * Memory: a db owns its entries; matches borrow from the db and inventory.
 */
#ifndef ATT_COMMON_VULNDB_H
#define ATT_COMMON_VULNDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/inventory.h"
#include "attest/rc.h"

#define ATT_VULNDB_MAX_ENTRIES 2000000u
#define ATT_VULNDB_MAX_TEXT    (256u * 1024u * 1024u)
#define ATT_VULN_MAX_ID        128u
#define ATT_VULN_MAX_ALIASES   8192u /* the comma-separated alias list */
/* A feed older than this is not judged with unless a policy says otherwise (Grype's 120 h). */
#define ATT_VULN_DEFAULT_MAX_AGE (120u * 3600u)

enum att_severity {
    ATT_SEV_UNKNOWN = 0, /* the feed says nothing; sorts below negligible */
    ATT_SEV_NEGLIGIBLE,
    ATT_SEV_LOW,
    ATT_SEV_MEDIUM,
    ATT_SEV_HIGH,
    ATT_SEV_CRITICAL,
};

/** "unknown", "negligible", "low", "medium", "high", "critical". */
const char *att_severity_str(enum att_severity s);
/**
 * Parse a severity word as feeds spell it, case-insensitive: the six names
 * above, "moderate" and "important" (medium, high), Debian urgencies
 * ("unimportant" = negligible, "not yet assigned" = unknown, trailing '*'
 * ignored: "low**" = low).
 * @retval ATT_OK @retval ATT_ERR_PARSE unknown word
 */
att_rc att_severity_parse(const char *s, enum att_severity *out);
/**
 * Severity of a CVSS v3.0/v3.1 vector ("CVSS:3.1/AV:N/AC:L/...") from its
 * base score (FIRST's formula: 0 none->unknown, 0.1-3.9 low, 4.0-6.9 medium,
 * 7.0-8.9 high, 9.0-10 critical). @p score may be NULL.
 * @retval ATT_OK @retval ATT_ERR_PARSE not a complete v3 base vector
 */
att_rc att_cvss3_severity(const char *vector, double *score, enum att_severity *out);

struct att_vuln_entry {
    char *ecosystem;     /* owned, e.g. "Debian:12" */
    char *package;       /* owned: source package name */
    char *id;            /* owned, e.g. "CVE-2024-1234", "DSA-5678-1" */
    char *aliases;       /* owned, comma-separated, or NULL */
    enum att_severity severity;
    char *introduced;    /* owned, NULL = affected since the first version */
    char *fixed;         /* owned, NULL = no fix available */
    char *last_affected; /* owned, NULL = not given */
};

struct att_vulndb {
    uint8_t digest[ATT_SHA256_LEN]; /* SHA-256 of the canonical text (set by finish/parse) */
    uint64_t feed_time;             /* unix seconds: when the feed's content was current */
    struct att_vuln_entry *entries; /* owned, sorted as the canonical text */
    size_t n_entries;
    size_t cap;
};

struct att_vulndb *att_vulndb_new(uint64_t feed_time);
void att_vulndb_free(struct att_vulndb *db);
/**
 * Add a copy of @p e (fields validated: printable, no tab/newline, id at most
 * ATT_VULN_MAX_ID, versions valid for the ecosystem where it has an order).
 * @retval ATT_OK @retval ATT_ERR_PARSE (@p why says which field)
 * @retval ATT_ERR_NOMEM
 */
att_rc att_vulndb_add(struct att_vulndb *db, const struct att_vuln_entry *e, char *why,
                      size_t why_len);
/**
 * Drop every entry past the first @p n (no-op when there are fewer): an
 * import that fails half-way rolls the db back with it. Call finish again
 * before using the digest.
 */
void att_vulndb_truncate(struct att_vulndb *db, size_t n);
/** Sort, drop exact duplicates, compute the digest. Call once after the last add. */
att_rc att_vulndb_finish(struct att_vulndb *db);
/**
 * Append the canonical text (after finish) to @p out.
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG not finished (unsorted or duplicates)
 * @retval ATT_ERR_PARSE over out->max @retval ATT_ERR_NOMEM
 */
att_rc att_vulndb_canonical(const struct att_vulndb *db, struct att_buf *out);
/** Parse canonical text strictly (sorted, unique, valid fields); sets the digest. */
att_rc att_vulndb_parse(const uint8_t *text, size_t len, struct att_vulndb **out, char *why,
                        size_t why_len);
/**
 * Whether the feed is fresh enough to judge with at @p now: feed_time at most
 * @p max_age seconds ago (0 = no limit; a feed_time after @p now counts as
 * age 0). When not, @p why says how old it is. A NULL @p db is not fresh.
 */
bool att_vulndb_fresh(const struct att_vulndb *db, uint64_t now, uint64_t max_age, char *why,
                      size_t why_len);

struct att_vuln_match {
    const struct att_vuln_entry *entry; /* borrowed from the db */
    const struct att_pkg *pkg;          /* borrowed from the inventory */
};

/**
 * Every (entry, package) where the entry's ecosystem is the inventory's and
 * the package's source version lies in the entry's interval, one per
 * (package, id): when several entries of one id match a package (an OSV
 * range and its versions[] list), the worst of them by the order below
 * stays. A source version the ecosystem's order rejects lies in every
 * interval (fail closed). An inventory without an ecosystem, or of an
 * ecosystem without a version order, matches nothing. *out is malloc'ed
 * (free()), NULL when *n is 0, sorted worst first: severity descending,
 * fixed-available first, id, package.
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM
 */
att_rc att_vulndb_match(const struct att_vulndb *db, const struct att_inventory *inv,
                        struct att_vuln_match **out, size_t *n);

/* One accepted vulnerability of a container policy. */
struct att_vuln_allow {
    char *id;            /* owned: matches an entry's id or one of its aliases */
    uint64_t expires_at; /* unix seconds; the acceptance ends then */
    char *reason;        /* owned */
};

enum att_vuln_running { ATT_VULN_RUNNING_REPORT = 0, ATT_VULN_RUNNING_QUARANTINE = 1 };

/*
 * A container policy's vulnerability bar ("vulnerabilities" in policy JSON):
 * a finding is over the bar when its severity is at least refuse_at and a fix
 * is available (or refuse_unfixed), unless an unexpired allow entry names it.
 * Over the bar: the prestart hook refuses the start; for a running container
 * the verifier reports it, and with running=quarantine fails the container
 * (code "vulnerable"), which orders its quarantine.
 */
struct att_vuln_policy {
    enum att_severity refuse_at; /* ATT_SEV_UNKNOWN here means every severity counts */
    bool refuse_unfixed;
    struct att_vuln_allow *allow; /* owned array */
    size_t n_allow;
    enum att_vuln_running running;
    uint64_t max_feed_age; /* seconds; 0 = the verifier's setting */
};

/** Free the allow entries and the allow array; @p p itself stays the caller's. NULL is a no-op. */
void att_vuln_policy_free(struct att_vuln_policy *p);

struct att_vuln_judgement {
    size_t n_findings; /* all matches */
    size_t n_over;     /* over the bar */
    size_t n_allowed;  /* over the bar but accepted by an unexpired allow entry */
    char worst[768];   /* the worst findings over the bar, "ID (severity) in PKG VER, fixed in
                          FIX; ..." (as many as fit; ", no fix yet" when unfixed; each
                          (id, source) once, under its first binary package; "; ..." ends
                          it when more did not fit), "" when none */
};

/**
 * Whether @p inv can be judged at all: packages matched to a known ecosystem,
 * or an image with neither packages nor an os-release (scratch, static
 * binaries: nothing to match). An image that names an OS whose packages
 * cannot be matched (no package database, an RPM distribution, packages
 * without an OS release) cannot: a bar must not pass it as clean. @p why
 * (may be NULL) says why not.
 */
bool att_vuln_judgeable(const struct att_inventory *inv, char *why, size_t why_len);

/**
 * Whether match @p m is over the bar of @p p at @p now; *allowed (may be
 * NULL) set when an allow entry took it. An allow entry is honoured while
 * now < expires_at. A NULL @p p is a bar everything is over (fail closed).
 */
bool att_vuln_over_bar(const struct att_vuln_policy *p, const struct att_vuln_match *m,
                       uint64_t now, bool *allowed);
/** Judge @p n matches (as att_vulndb_match returned them) against @p p at @p now. */
void att_vuln_judge(const struct att_vuln_policy *p, const struct att_vuln_match *m, size_t n,
                    uint64_t now, struct att_vuln_judgement *out);

#endif
