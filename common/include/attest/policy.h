/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy model: reference values (path -> allowed sha256 digests).
 * Pure data and lookup; the JSON form lives in proto/ (attest/policy_json.h).
 * Later issues add image digests and per-container whitelists here.
 */
#ifndef ATT_COMMON_POLICY_H
#define ATT_COMMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/digest.h"
#include "attest/netpolicy.h"
#include "attest/rc.h"
#include "attest/vulndb.h"

#define ATT_POLICY_MAX_PATH 4096

struct att_policy_ref {
    char *path; /* owned */
    uint8_t (*digests)[ATT_SHA256_LEN]; /* owned array of n_digests */
    size_t n_digests;
};

/*
 * Whitelist policy for the containers started from some images (DESIGN §4,
 * §5): which images may start, which (path, digest) may run inside, which
 * paths are not appraised, whether JIT (anonymous executable memory) is
 * allowed, and the security posture required.
 */
struct att_container_policy {
    char *name;             /* owned */
    char **images;          /* owned "sha256:<64 hex>" image IDs (config digests) */
    size_t n_images;
    struct att_policy *files; /* owned: allowed executables and libraries, never NULL */
    char **exclude;         /* owned absolute path prefixes not appraised */
    size_t n_exclude;
    bool allow_jit;
    bool allow_privileged;
    char **forbid_caps;     /* owned, e.g. "CAP_SYS_ADMIN": must not be added */
    size_t n_forbid_caps;
    bool require_seccomp;       /* seccomp filter mode (2) on the container's init */
    bool require_no_new_privs;  /* no_new_privs set on the container's init */
    bool allow_host_pid;        /* may share the host's pid namespace */
    uint32_t quarantine;        /* ATT_QUARANTINE_*: what a failure orders; 0 = report only */
    struct att_vuln_policy *vulns; /* owned: the image vulnerability bar, NULL = none (issue 8) */
    struct att_net_policy *network; /* owned: network restriction, NULL = none (issue 9) */
};

/* Quarantine actions a container policy orders on failure (DESIGN §6). */
#define ATT_QUARANTINE_PAUSE   1u
#define ATT_QUARANTINE_ISOLATE 2u /* isolate-network */
#define ATT_QUARANTINE_KILL    4u
#define ATT_QUARANTINE_DEFAULT (ATT_QUARANTINE_PAUSE | ATT_QUARANTINE_ISOLATE)

struct att_policy {
    char *name;                  /* owned, may be NULL */
    struct att_policy_ref *refs; /* owned, sorted by path (strcmp) */
    size_t n_refs;
    struct att_container_policy *containers; /* owned array */
    size_t n_containers;
    bool quarantine_untrusted_host; /* an untrusted host: quarantine all its containers */
};

/* Fail closed: a zero-initialised result is a refusal, never "allowed". */
enum att_policy_match {
    ATT_POLICY_UNKNOWN_PATH = 0, /* path not in the reference values */
    ATT_POLICY_DIGEST_MISMATCH,  /* path known, digest not allowed */
    ATT_POLICY_ALLOWED,
};

struct att_policy *att_policy_new(void);
void att_policy_free(struct att_policy *p);
/** Add (or extend) the reference for @p path with @p digest. Keeps refs sorted; duplicates ignored. */
att_rc att_policy_add(struct att_policy *p, const char *path, const uint8_t digest[ATT_SHA256_LEN]);
/** Borrowed; NULL if @p path has no reference. */
const struct att_policy_ref *att_policy_find(const struct att_policy *p, const char *path);
enum att_policy_match att_policy_check(const struct att_policy *p, const char *path,
                                       const uint8_t digest[ATT_SHA256_LEN]);

/** The container policy admitting @p image_id ("sha256:..."), or NULL. Borrowed. */
const struct att_container_policy *att_policy_container_for_image(const struct att_policy *p,
                                                                  const char *image_id);
/** The container policy named @p name (names are unique), or NULL. Borrowed. */
const struct att_container_policy *att_policy_container_by_name(const struct att_policy *p,
                                                                const char *name);
/**
 * Whether everything @p from lets pass, @p to lets pass too: every (path,
 * digest) of from's whitelist is allowed or excluded by to, every exclude of
 * from is covered by one of to's, and JIT allowed by from is allowed by to.
 * Entries appraised under @p from then need no second look under @p to.
 * (Posture is not compared: it is judged on each identity record.)
 */
bool att_container_policy_covers(const struct att_container_policy *to,
                                 const struct att_container_policy *from);
/** Whether @p path falls under one of the policy's exclude prefixes. */
bool att_container_policy_excludes(const struct att_container_policy *c, const char *path);

#endif
