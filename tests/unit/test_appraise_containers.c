/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-container appraisal (att_appraise_entries) on synthetic logs written
 * exactly as the agent writes them: identity record, file entries, memory
 * violations, network policy records. Each failure kind the issue names,
 * and that a failing container never fails the host or another container.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attest/appraise.h"
#include "attest/digest.h"
#include "attest/imalog.h"
#include "attest/netpolicy.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/util.h"

#define C1      "1111111111111111111111111111111111111111111111111111111111111111"
#define C2      "2222222222222222222222222222222222222222222222222222222222222222"
#define IMG_OK  "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define IMG_BAD "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IMG_C   "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static uint8_t ls_digest[ATT_SHA256_LEN];
static char ls_hex[65];
static struct att_policy *policy;

struct log {
    struct att_ima_entry e[16];
    size_t n;
};

static void add_buf(struct log *l, const char *name, const char *text)
{
    assert_int_equal(
        att_ima_entry_build_buf(&l->e[l->n++], 15, name, (const uint8_t *)text, strlen(text)),
        ATT_OK);
}

static void add_file(struct log *l, const char *name, const uint8_t *digest)
{
    assert_int_equal(att_ima_entry_build_ng(&l->e[l->n++], 15, digest, name), ATT_OK);
}

static void log_free(struct log *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        att_ima_entry_cleanup(&l->e[i]);
    }
}

/* The verdict of container @p id; fails the test when there is none. */
static const struct att_container_verdict *find(const struct att_appraisal *a, const char *id)
{
    static const struct att_container_verdict none;
    size_t i;

    for (i = 0; i < a->n_containers; i++) {
        if (strcmp(a->containers[i].id, id) == 0) {
            return &a->containers[i];
        }
    }
    fail_msg("no verdict for container %.12s", id);
    return &none;
}

static size_t host_fails(const struct att_appraisal *a)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < a->n_findings; i++) {
        n += a->findings[i].kind == ATT_FIND_FAIL;
    }
    return n;
}

static int setup(void **state)
{
    char json[4096];
    char why[256] = "";

    (void)state;
    if (att_sha256("ls", 2, ls_digest) != ATT_OK) {
        return -1;
    }
    att_hex_encode(ls_digest, sizeof(ls_digest), ls_hex);
    (void)snprintf(json, sizeof(json),
                   "{\"version\": 1, \"reference_values\": {}, \"containers\": [{\"name\": "
                   "\"app\", \"images\": [\"" IMG_OK "\"], \"files\": {\"/bin/ls\": "
                   "[\"sha256:%s\"]}, \"exclude\": [\"/tmp/\"], \"posture\": {\"privileged\": "
                   "false, \"forbid_caps\": [\"CAP_SYS_ADMIN\"], \"require_seccomp\": true, "
                   "\"require_no_new_privs\": true}}, "
                   /* chosen by label only: same files, a stricter posture */
                   "{\"name\": \"strict\", \"images\": [\"" IMG_C "\", \"" IMG_OK "\"], "
                   "\"files\": {\"/bin/ls\": [\"sha256:%s\"]}, \"exclude\": [\"/tmp/\"], "
                   "\"posture\": {\"forbid_caps\": [\"CAP_NET_RAW\"]}}, "
                   /* allows less than app */
                   "{\"name\": \"narrow\", \"images\": [\"" IMG_OK "\"]}, "
                   "{\"name\": \"other\", \"images\": [\"" IMG_C "\"]}]}",
                   ls_hex, ls_hex);
    return att_policy_parse_json(json, strlen(json), &policy, why, sizeof(why)) == ATT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    att_policy_free(policy);
    return 0;
}

/* Run entries through a fresh appraisal; the caller checks and cleans up. */
static void run(struct log *l, struct att_appraisal *a)
{
    att_appraisal_init(a);
    assert_int_equal(att_appraise_entries(l->e, l->n, 100, policy, a), ATT_OK);
}

static void test_container_allowed_image_and_binary_trusted(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    const struct att_container_verdict *c;

    (void)state;
    add_buf(&l, "container:" C1,
            "image=" IMG_OK " ref=app:1 privileged=0 cap_add= pid_mode=private "
            "seccomp=2 no_new_privs=1 cap_eff=00000000a80425fb lsm=-");
    add_buf(&l, "admission:" C1, "decision=admit image=" IMG_OK " policy=app");
    add_file(&l, C1 ":/bin/ls", ls_digest);
    add_file(&l, C1 ":/tmp/anything", ls_digest); /* excluded path */
    run(&l, &a);
    c = find(&a, C1);
    assert_non_null(c);
    assert_false(c->is_failed);
    assert_string_equal(c->image, IMG_OK);
    assert_string_equal(c->policy, "app");
    assert_int_equal(host_fails(&a), 0);
    att_appraisal_cleanup(&a);
    log_free(&l);
}

static void expect_failed(struct log *l, const char *id, const char *code, int64_t entry)
{
    struct att_appraisal a;
    const struct att_container_verdict *c;

    run(l, &a);
    c = find(&a, id);
    assert_non_null(c);
    assert_true(c->is_failed);
    assert_string_equal(c->code, code);
    assert_int_equal(c->entry, entry);
    assert_true(strlen(c->reason) > 0);
    assert_int_equal(host_fails(&a), 0); /* never the host */
    att_appraisal_cleanup(&a);
    log_free(l);
}

static void test_container_unknown_binary_fails_only_that_container(void **state)
{
    struct log l = {.n = 0};
    uint8_t other[ATT_SHA256_LEN];
    struct att_appraisal a;

    (void)state;
    assert_int_equal(att_sha256("foreign", 7, other), ATT_OK);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "container:" C2, "image=" IMG_OK " privileged=0 cap_add=");
    add_file(&l, C1 ":/bin/ls", ls_digest);
    add_file(&l, C2 ":/opt/foreign", other);
    run(&l, &a);
    assert_false(find(&a, C1)->is_failed);
    assert_true(find(&a, C2)->is_failed);
    assert_string_equal(find(&a, C2)->code, "unknown-binary");
    assert_non_null(strstr(find(&a, C2)->reason, "/opt/foreign"));
    assert_int_equal(host_fails(&a), 0);
    att_appraisal_cleanup(&a);
    log_free(&l);
}

static void test_container_failures(void **state)
{
    struct log l;
    uint8_t other[ATT_SHA256_LEN];

    (void)state;
    assert_int_equal(att_sha256("other", 5, other), ATT_OK);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_file(&l, C1 ":/bin/ls", other);
    expect_failed(&l, C1, "changed-digest", 101);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_BAD " privileged=0 cap_add=");
    expect_failed(&l, C1, "image-not-allowed", 100);

    l.n = 0;
    add_file(&l, C1 ":/bin/ls", ls_digest);
    expect_failed(&l, C1, "unknown-container", 100);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=1 cap_add=");
    expect_failed(&l, C1, "posture-privileged", 100);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=CAP_NET_RAW,CAP_SYS_ADMIN");
    expect_failed(&l, C1, "posture-capability", 100);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= seccomp=0 no_new_privs=1");
    expect_failed(&l, C1, "posture-seccomp", 100);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= seccomp=2 no_new_privs=0");
    expect_failed(&l, C1, "posture-no-new-privs", 100);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= pid_mode=host");
    expect_failed(&l, C1, "posture-host-pid", 100);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "violation:" C1, "kind=code_modified pid=7 comm=ls path=/bin/ls addr=0x1");
    expect_failed(&l, C1, "code-modified", 101);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "violation:" C1, "kind=anon_exec pid=7 comm=ls path=- addr=0x1");
    expect_failed(&l, C1, "injected-exec-memory", 101);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_BAD " ref=x privileged=0 source=hook");
    add_buf(&l, "admission:" C1, "decision=refuse image=" IMG_BAD " reason=not allowed");
    expect_failed(&l, C1, "image-not-allowed", 100); /* the identity already fails it */

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " ref=x privileged=0 source=hook");
    add_buf(&l, "admission:" C1, "decision=refuse image=" IMG_OK " reason=rootfs-unmeasurable");
    expect_failed(&l, C1, "refused-at-start", 101);

    l.n = 0;
    add_buf(&l, "container:" C2, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "violation:" C2, "kind=memfd_exec pid=7 comm=x path=/memfd:x addr=0x1");
    expect_failed(&l, C2, "memory-violation", 101);
}

/* Failures are sticky: state carried into the next round keeps the first reason. */
static void test_container_state_carried(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    struct att_appraisal b;
    uint8_t other[ATT_SHA256_LEN];

    (void)state;
    assert_int_equal(att_sha256("x", 1, other), ATT_OK);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_file(&l, C1 ":/usr/bin/x", other);
    run(&l, &a);
    assert_true(find(&a, C1)->is_failed);
    log_free(&l);
    l.n = 0;
    add_file(&l, C1 ":/bin/ls", ls_digest);
    att_appraisal_init(&b);
    b.containers = malloc(a.n_containers * sizeof(*b.containers));
    assert_non_null(b.containers);
    memcpy(b.containers, a.containers, a.n_containers * sizeof(*b.containers));
    b.n_containers = a.n_containers;
    assert_int_equal(att_appraise_entries(l.e, l.n, 200, policy, &b), ATT_OK);
    assert_true(find(&b, C1)->is_failed);
    assert_string_equal(find(&b, C1)->code, "unknown-binary");
    assert_int_equal(find(&b, C1)->entry, 101);
    att_appraisal_cleanup(&a);
    att_appraisal_cleanup(&b);
    log_free(&l);
}

/* The io.attest.policy label chooses a policy by name; the image must still be in it. */
static void test_container_policy_by_label(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    const struct att_container_verdict *c;

    (void)state;
    /* the same image: by image it is "app", by label "strict" (which forbids CAP_NET_RAW) */
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=CAP_NET_RAW");
    add_buf(&l, "container:" C2,
            "image=" IMG_OK " privileged=0 cap_add=CAP_NET_RAW policy_label=strict");
    run(&l, &a);
    assert_false(find(&a, C1)->is_failed);
    assert_string_equal(find(&a, C1)->policy, "app");
    c = find(&a, C2);
    assert_true(c->is_failed);
    assert_string_equal(c->code, "posture-capability");
    assert_string_equal(c->policy, "strict");
    assert_non_null(strstr(c->reason, "strict"));
    att_appraisal_cleanup(&a);
    log_free(&l);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= policy_label=nosuch");
    expect_failed(&l, C1, "policy-not-found", 100);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= policy_label=%invalid");
    expect_failed(&l, C1, "policy-not-found", 100);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= policy_label=other");
    expect_failed(&l, C1, "image-not-allowed", 100);

    /* chosen by label before any file: the label's whitelist judges the files */
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= policy_label=narrow");
    add_file(&l, C1 ":/bin/ls", ls_digest);
    expect_failed(&l, C1, "unknown-binary", 101);
}

/*
 * The prestart hook cannot see labels, so its record chooses by image; the
 * engine's record then names the label. The switch is taken when the new
 * policy allows everything already appraised, and kept by later records
 * without the label; otherwise the container fails.
 */
static void test_container_policy_label_after_hook(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    const struct att_container_verdict *c;

    (void)state;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 source=hook");
    add_file(&l, C1 ":/bin/ls", ls_digest);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= policy_label=strict");
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 source=hook");
    add_file(&l, C1 ":/bin/ls", ls_digest);
    run(&l, &a);
    c = find(&a, C1);
    assert_false(c->is_failed);
    assert_string_equal(c->policy, "strict");
    att_appraisal_cleanup(&a);
    log_free(&l);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 source=hook");
    add_file(&l, C1 ":/bin/ls", ls_digest);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= policy_label=narrow");
    expect_failed(&l, C1, "policy-changed", 102);
}

static void test_policy_covers_and_unique_names(void **state)
{
    const char *dup = "{\"version\": 1, \"reference_values\": {}, \"containers\": [{\"name\": "
                      "\"x\", \"images\": [\"" IMG_OK "\"]}, {\"name\": \"x\", \"images\": "
                      "[\"" IMG_C "\"]}]}";
    struct att_policy *p = NULL;
    char why[256] = "";

    (void)state;
    assert_int_equal(att_policy_parse_json(dup, strlen(dup), &p, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(p);
    assert_non_null(strstr(why, "used twice"));
    assert_true(att_container_policy_covers(att_policy_container_by_name(policy, "strict"),
                                            att_policy_container_by_name(policy, "app")));
    assert_false(att_container_policy_covers(att_policy_container_by_name(policy, "narrow"),
                                             att_policy_container_by_name(policy, "app")));
    assert_true(att_container_policy_covers(att_policy_container_by_name(policy, "app"),
                                            att_policy_container_by_name(policy, "narrow")));
    assert_false(att_container_policy_covers(NULL, att_policy_container_by_name(policy, "app")));
    assert_null(att_policy_container_by_name(policy, "nosuch"));
}

/* Running containers no entry has named yet are listed as not seen, once. */
static void test_container_not_seen_from_inventory(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    const struct att_container_verdict *c;

    (void)state;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    run(&l, &a);
    assert_int_equal(att_appraisal_add_inventory(&a, NULL), ATT_OK);
    assert_int_equal(att_appraisal_add_inventory(
                         &a, C1
                         " running\n" C2 " running\n"
                         "not-an-id running\n"
                         "3333333333333333333333333333333333333333333333333333333333333333\n"
                         "ABCDEF0000000000000000000000000000000000000000000000000000000000 x\n" C2
                         " running"),
                     ATT_OK);
    assert_int_equal(a.n_containers, 2);
    assert_false(find(&a, C1)->is_failed);
    assert_string_equal(find(&a, C1)->image, IMG_OK);
    c = find(&a, C2);
    assert_false(c->is_failed);
    assert_string_equal(c->image, "");
    assert_string_equal(c->policy, "");
    assert_int_equal(c->entry, -1);
    /* its first entries then judge it as usual */
    log_free(&l);
    l.n = 0;
    add_file(&l, C2 ":/bin/ls", ls_digest);
    assert_int_equal(att_appraise_entries(l.e, l.n, 200, policy, &a), ATT_OK);
    assert_true(find(&a, C2)->is_failed);
    assert_string_equal(find(&a, C2)->code, "unknown-container");
    att_appraisal_cleanup(&a);
    log_free(&l);
}

/* Attested quarantine actions are context, not failures; so are refused orders. */
static void test_quarantine_entries(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    size_t i;
    bool seen = false;

    (void)state;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "quarantine:" C1,
            "at=1 n=1 order=0123456789abcdef0123456789abcdef op=quarantine "
            "actions=pause,isolate-network ok=1 result=paused");
    add_buf(&l, "order:refused", "at=1 n=2 order=- op=quarantine actions=- ok=0 result=signature");
    run(&l, &a);
    assert_false(find(&a, C1)->is_failed);
    assert_int_equal(host_fails(&a), 0);
    for (i = 0; i < a.n_findings; i++) {
        seen = seen || strcmp(a.findings[i].code, "order-refused") == 0;
    }
    assert_true(seen);
    att_appraisal_cleanup(&a);
    log_free(&l);

    /* the same names with the wrong template are not passed */
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_file(&l, "quarantine:" C1, ls_digest);
    expect_failed(&l, C1, "malformed-record", 101);
    l.n = 0;
    add_file(&l, "order:refused", ls_digest);
    run(&l, &a);
    assert_true(host_fails(&a) > 0);
    att_appraisal_cleanup(&a);
    log_free(&l);
}

/* The finding with @p code, or NULL. */
static const struct att_finding *finding(const struct att_appraisal *a, const char *code)
{
    size_t i;

    for (i = 0; i < a->n_findings; i++) {
        if (strcmp(a->findings[i].code, code) == 0) {
            return &a->findings[i];
        }
    }
    return NULL;
}

/* finding() that fails the test when there is none (never NULL). */
static const struct att_finding *must_finding(const struct att_appraisal *a, const char *code)
{
    static const struct att_finding none = {.message = (char *)(uintptr_t) ""};
    const struct att_finding *f = finding(a, code);

    if (f == NULL) {
        fail_msg("no finding %s", code);
        return &none;
    }
    return f;
}

/*
 * The agent's "log-gap" records (its log file refused writes): an open gap
 * fails the host naming the time and the error; once closed, the closing
 * record fails it with the refused count and the opening one is context.
 */
static void test_log_gap_records(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    const struct att_finding *f;

    (void)state;
    add_buf(&l, ATT_IMA_GAP_RECORD,
            "state=open since=2026-11-23T04:00:00Z error=cannot%20append%20to%20/s/m.bin:%20No%20"
            "space%20left%20on%20device");
    run(&l, &a);
    assert_false(a.is_trusted);
    f = must_finding(&a, "log-gap");
    assert_int_equal(f->kind, ATT_FIND_FAIL);
    assert_non_null(strstr(f->message, "since 2026-11-23T04:00:00Z"));
    assert_non_null(strstr(f->message, "No space left on device"));
    att_appraisal_cleanup(&a);

    add_buf(&l, ATT_IMA_GAP_RECORD,
            "state=closed since=2026-11-23T04:00:00Z until=2026-11-23T04:05:00Z refused=7 "
            "error=cannot%20append:%20No%20space%20left%20on%20device");
    run(&l, &a);
    assert_false(a.is_trusted);
    f = must_finding(&a, "log-gap-opened");
    assert_int_equal(f->kind, ATT_FIND_INFO);
    f = must_finding(&a, "log-gap");
    assert_int_equal(f->kind, ATT_FIND_FAIL);
    assert_non_null(strstr(f->message, "to 2026-11-23T04:05:00Z"));
    assert_non_null(strstr(f->message, "7 measurement(s) were refused"));
    assert_int_equal(host_fails(&a), 1);
    att_appraisal_cleanup(&a);
    log_free(&l);

    /* control bytes in the agent's text never reach the reason */
    l.n = 0;
    add_buf(&l, ATT_IMA_GAP_RECORD, "state=open since=x%1b[2J error=a%0ab%07");
    run(&l, &a);
    f = must_finding(&a, "log-gap");
    assert_null(strchr(f->message, '\n'));
    assert_null(strchr(f->message, '\033'));
    assert_null(strchr(f->message, '\a'));
    att_appraisal_cleanup(&a);
    log_free(&l);

    /* the wrong template, or an unknown state: malformed, still failing */
    l.n = 0;
    add_file(&l, ATT_IMA_GAP_RECORD, ls_digest);
    add_buf(&l, ATT_IMA_GAP_RECORD, "state=ajar since=x error=y");
    run(&l, &a);
    assert_false(a.is_trusted);
    assert_int_equal(host_fails(&a), 2);
    assert_null(finding(&a, "log-gap"));
    att_appraisal_cleanup(&a);
    log_free(&l);
}

/* The prestart hook's "rootfs:<id>" records: one line per file, judged like file entries. */
static void test_rootfs_records(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    char line[512];
    char bad[512];
    uint8_t other[ATT_SHA256_LEN];
    char ohex[65];
    /* each after the digest hex (all but the first two and the last) */
    static const char *const malformed[] = {
        "zz",           /* no digest, no newline */
        " /bin/ls",     /* no newline */
        " bin/ls\n",    /* not absolute */
        " /bin/l s\n",  /* unescaped space */
        " /bin/l%zz\n", /* bad escape */
        " /bin/l%00\n", /* NUL */
        " /bin/l%2\n",  /* short escape */
        "x /bin/ls\n",  /* 65 hex-ish characters */
    };
    size_t i;

    (void)state;
    assert_int_equal(att_sha256("other", 5, other), ATT_OK);
    att_hex_encode(other, sizeof(other), ohex);
    /* allowed, and an excluded path with an escaped byte */
    (void)snprintf(line, sizeof(line), "%s /bin/ls\n%s /tmp/x%%20y\n", ls_hex, ohex);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "rootfs:" C1, line);
    run(&l, &a);
    assert_false(find(&a, C1)->is_failed);
    att_appraisal_cleanup(&a);
    log_free(&l);

    /* the first line not allowed fails the container, naming the (unescaped) path */
    l.n = 0;
    (void)snprintf(line, sizeof(line), "%s /bin/ls\n%s /opt/new%%0Abin\n%s /bin/ls2\n", ls_hex,
                   ohex, ohex);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "rootfs:" C1, line);
    run(&l, &a);
    assert_true(find(&a, C1)->is_failed);
    assert_string_equal(find(&a, C1)->code, "unknown-binary");
    assert_non_null(strstr(find(&a, C1)->reason, "/opt/new\nbin"));
    att_appraisal_cleanup(&a);
    log_free(&l);
    l.n = 0;
    (void)snprintf(line, sizeof(line), "%s /bin/ls\n", ohex);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "rootfs:" C1, line);
    expect_failed(&l, C1, "changed-digest", 101);

    for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        l.n = 0;
        (void)snprintf(bad, sizeof(bad), "%s%s", i == 0 ? "" : ls_hex, malformed[i]);
        add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
        add_buf(&l, "rootfs:" C1, bad);
        expect_failed(&l, C1, "malformed-record", 101);
    }
    l.n = 0;
    add_file(&l, "rootfs:" C1, ls_digest); /* not ima-buf */
    expect_failed(&l, C1, "malformed-record", 100);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_BAD " privileged=0 cap_add=");
    (void)snprintf(line, sizeof(line), "%s /bin/ls\n", ls_hex);
    add_buf(&l, "rootfs:" C1, line);
    expect_failed(&l, C1, "image-not-allowed", 100);
}

/* ------------------------------------------------------------------------- */
/* "packages:<id>" records: the measured package inventory (issue 8)         */

#define PKG_HEX "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static const char inv_text[] = "attest-inventory 1\n"
                               "os debian 12 bookworm\n"
                               "ecosystem Debian:12\n"
                               "format dpkg\n"
                               "pkg libc6 2.36-9+deb12u4 amd64 glibc 2.36-9+deb12u4\n"
                               "pkg libssl3 3.0.11-1~deb12u2 amd64 openssl 3.0.11-1~deb12u2\n"
                               "pkg zlib1g 1:1.2.13.dfsg-1 amd64 zlib 1:1.2.13.dfsg-1\n";

static att_rc pkg_parse(const char *text, struct att_pkg_record *r)
{
    char why[128] = "";

    return att_pkg_record_parse((const uint8_t *)text, strlen(text), r, why, sizeof(why));
}

static void test_pkg_record_parse_ok(void **state)
{
    static const char rec[] = "attest-packages 1 2 " PKG_HEX "\npkg a 1 amd64 a 1\n";
    char max[128];
    struct att_pkg_record r;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.body = (uint8_t *)(uintptr_t)0x1; /* parse leaves body NULL */
    assert_int_equal(pkg_parse(rec, &r), ATT_OK);
    assert_int_equal(r.part, 1);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.digest, PKG_HEX);
    assert_null(r.body);
    assert_int_equal(r.len, strlen("pkg a 1 amd64 a 1\n"));
    /* the body is the tail of the buffer */
    assert_memory_equal(rec + sizeof(rec) - 1 - r.len, "pkg a 1 amd64 a 1\n", r.len);

    memset(&r, 0, sizeof(r));
    assert_int_equal(pkg_parse("attest-packages 2 2 " PKG_HEX "\n", &r), ATT_OK);
    assert_int_equal(r.part, 2);
    assert_int_equal(r.len, 0); /* an empty part is a part */
    /* the most parts a record may announce, and its last part */
    (void)snprintf(max, sizeof(max), "attest-packages %u %u " PKG_HEX "\n",
                   ATT_PKG_RECORD_MAX_PARTS, ATT_PKG_RECORD_MAX_PARTS);
    assert_int_equal(pkg_parse(max, &r), ATT_OK);
    assert_int_equal(r.part, ATT_PKG_RECORD_MAX_PARTS);
    assert_int_equal(r.n, ATT_PKG_RECORD_MAX_PARTS);
    assert_int_equal(pkg_parse("attest-packages 1 1 " PKG_HEX "\nattest-packages 1 1\n", &r),
                     ATT_OK);
    assert_int_equal(r.n, 1);
}

static void test_pkg_record_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "attest-packages 1 2 " PKG_HEX,                     /* no newline */
        "attest-packages 1 2 " PKG_HEX "pkg a 1 amd64 a 1", /* no newline, body glued on */
        "attest-packages 0 2 " PKG_HEX "\n",                /* part 0 */
        "attest-packages 3 2 " PKG_HEX "\n",                /* part > n */
        "attest-packages 1 0 " PKG_HEX "\n",                /* n 0 */
        "attest-packages 1 1025 " PKG_HEX "\n",             /* n > 1024 (and the cap) */
        "attest-packages 1025 1025 " PKG_HEX "\n",
        "attest-packages 1 99999 " PKG_HEX "\n",
        "attest-packages -1 2 " PKG_HEX "\n",
        "attest-packages 1 2 5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03\n",
        "attest-packages 1 2 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0\n",
        "attest-packages 1 2 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be033\n",
        "attest-packages 1 2 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0g\n",
        "attest-packages 1 2 " PKG_HEX " extra\n", /* extra token */
        "attest-packages 1 2 " PKG_HEX " \n",      /* trailing blank */
        "attest-packages 1 2 " PKG_HEX "\r\n",     /* CR */
        "attest-packages 1 2\n",                   /* no digest */
        "attest-packages 1 " PKG_HEX "\n",         /* no n */
        "attest-packages\n",
        "attest-package 1 2 " PKG_HEX "\n", /* wrong magic */
        "attest-packagesX 1 2 " PKG_HEX "\n",
        "Attest-packages 1 2 " PKG_HEX "\n",
        " attest-packages 1 2 " PKG_HEX "\n",
        "\nattest-packages 1 2 " PKG_HEX "\n",
        "attest-packages one two " PKG_HEX "\n",
    };
    struct att_pkg_record r;
    char why[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&r, 0x5a, sizeof(r));
        memset(why, 'X', sizeof(why));
        if (att_pkg_record_parse((const uint8_t *)bad[i], strlen(bad[i]), &r, why, sizeof(why)) !=
            ATT_ERR_PARSE) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_true(strlen(why) > 0 && strlen(why) < sizeof(why));
        assert_int_equal(r.part, 0x5a5a5a5au); /* untouched on failure */
    }
    /* one part more than ATT_PKG_RECORD_MAX_PARTS */
    {
        char over[128];

        (void)snprintf(over, sizeof(over), "attest-packages 1 %u " PKG_HEX "\n",
                       ATT_PKG_RECORD_MAX_PARTS + 1u);
        assert_int_equal(pkg_parse(over, &r), ATT_ERR_PARSE);
    }
    assert_int_equal(att_pkg_record_parse(NULL, 10, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(att_pkg_record_parse((const uint8_t *)"x", 0, &r, NULL, 0), ATT_ERR_PARSE);
    /* the header line is looked for in the first bytes only */
    {
        char longhdr[400];

        memset(longhdr, ' ', sizeof(longhdr));
        memcpy(longhdr, "attest-packages 1 2 " PKG_HEX, strlen("attest-packages 1 2 " PKG_HEX));
        longhdr[sizeof(longhdr) - 1] = '\n';
        assert_int_equal(
            att_pkg_record_parse((const uint8_t *)longhdr, sizeof(longhdr), &r, why, sizeof(why)),
            ATT_ERR_PARSE);
    }
}

/*
 * One spelling only: "attest-packages <part> <n> <64 hex>" with single
 * blanks and plain decimals. Found by this test: an sscanf-based parser took
 * runs of blanks, leading zeros, '+', a NUL in the header, and read
 * "attest-packages 00012 <hex>" as part 1 of 2.
 */
static void test_pkg_record_parse_one_spelling(void **state)
{
    static const char nul[] = "attest-packages 1 2 " PKG_HEX "\0junk\npkg a 1 amd64 a 1\n";
    static const char *const lenient[] = {
        "attest-packages 00012 " PKG_HEX "\n", /* part 1 of 2 */
        "attest-packages  1 2 " PKG_HEX "\n",  "attest-packages 1\t2 " PKG_HEX "\n",
        "attest-packages 1  2\t" PKG_HEX "\n", "attest-packages 01 2 " PKG_HEX "\n",
        "attest-packages +1 2 " PKG_HEX "\n",
    };
    struct att_pkg_record r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lenient) / sizeof(lenient[0]); i++) {
        if (pkg_parse(lenient[i], &r) != ATT_ERR_PARSE) {
            fail_msg("accepted \"%s\" as part %u of %u", lenient[i], r.part, r.n);
        }
    }
    if (att_pkg_record_parse((const uint8_t *)nul, sizeof(nul) - 1, &r, NULL, 0) != ATT_ERR_PARSE) {
        fail_msg("accepted a header with a NUL and junk before its newline");
    }
}

/* Add a "packages:<id>" ima-buf record: the header line, then @p body. */
static void add_pkg(struct log *l, const char *id, unsigned part, unsigned n, const char *hex,
                    const char *body, size_t body_len)
{
    char rec[1024];
    char name[80];
    int k = snprintf(rec, sizeof(rec), "attest-packages %u %u %s\n", part, n, hex);

    assert_true(k > 0 && (size_t)k + body_len < sizeof(rec));
    memcpy(rec + k, body, body_len);
    (void)snprintf(name, sizeof(name), "packages:%s", id);
    assert_int_equal(att_ima_entry_build_buf(&l->e[l->n++], 15, name, (const uint8_t *)rec,
                                             (size_t)k + body_len),
                     ATT_OK);
}

static void test_pkg_records_kept(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    uint8_t d[ATT_SHA256_LEN];
    char hex[65];
    size_t cut = 60; /* part 1: the os lines and a bit, part 2: the rest */

    (void)state;
    assert_int_equal(att_sha256(inv_text, sizeof(inv_text) - 1, d), ATT_OK);
    att_hex_encode(d, sizeof(d), hex);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add= source=hook");
    add_pkg(&l, C1, 1, 2, hex, inv_text, cut);
    add_buf(&l, "container:" C2, "image=" IMG_OK " privileged=0 cap_add=");
    add_pkg(&l, C2, 1, 1, PKG_HEX, "", 0);
    add_pkg(&l, C1, 2, 2, hex, inv_text + cut, sizeof(inv_text) - 1 - cut);
    run(&l, &a);
    assert_false(find(&a, C1)->is_failed);
    assert_false(find(&a, C2)->is_failed);
    assert_int_equal(host_fails(&a), 0);
    assert_int_equal(a.n_pkgs, 3);
    /* in log order, each with its container, index, header fields and body */
    assert_string_equal(a.pkgs[0].container, C1);
    assert_int_equal(a.pkgs[0].entry, 101);
    assert_int_equal(a.pkgs[0].part, 1);
    assert_int_equal(a.pkgs[0].n, 2);
    assert_string_equal(a.pkgs[0].digest, hex);
    assert_int_equal(a.pkgs[0].len, cut);
    assert_non_null(a.pkgs[0].body);
    assert_memory_equal(a.pkgs[0].body, inv_text, cut);
    assert_int_equal(a.pkgs[0].body[cut], '\0');
    assert_string_equal(a.pkgs[1].container, C2);
    assert_int_equal(a.pkgs[1].entry, 103);
    assert_int_equal(a.pkgs[1].part, 1);
    assert_int_equal(a.pkgs[1].n, 1);
    assert_string_equal(a.pkgs[1].digest, PKG_HEX);
    assert_int_equal(a.pkgs[1].len, 0);
    assert_non_null(a.pkgs[1].body);
    assert_int_equal(a.pkgs[1].body[0], '\0');
    assert_string_equal(a.pkgs[2].container, C1);
    assert_int_equal(a.pkgs[2].entry, 104);
    assert_int_equal(a.pkgs[2].part, 2);
    assert_int_equal(a.pkgs[2].len, sizeof(inv_text) - 1 - cut);
    assert_memory_equal(a.pkgs[2].body, inv_text + cut, a.pkgs[2].len);
    /* joined, the parts are the inventory the digest names */
    {
        char joined[sizeof(inv_text)];
        uint8_t d2[ATT_SHA256_LEN];

        memcpy(joined, a.pkgs[0].body, a.pkgs[0].len);
        memcpy(joined + a.pkgs[0].len, a.pkgs[2].body, a.pkgs[2].len);
        assert_int_equal(att_sha256(joined, a.pkgs[0].len + a.pkgs[2].len, d2), ATT_OK);
        assert_memory_equal(d2, d, sizeof(d));
    }
    att_appraisal_cleanup(&a);
    assert_null(a.pkgs);
    assert_int_equal(a.n_pkgs, 0);
    log_free(&l);
}

/* A malformed record fails its container (never the host) and is not kept. */
static void test_pkg_record_malformed_fails_container(void **state)
{
    static const char *const bad[] = {
        "attest-packages 1 2 " PKG_HEX,         /* no newline */
        "attest-packages 0 2 " PKG_HEX "\n",    /* part 0 */
        "attest-packages 3 2 " PKG_HEX "\n",    /* part > n */
        "attest-packages 1 2048 " PKG_HEX "\n", /* n over the cap */
        "attest-packages 1 2 5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03\n",
        "attest-packages 1 2 " PKG_HEX " x\n",
        "pkg a 1 amd64 a 1\n",
    };
    struct log l = {.n = 0};
    struct att_appraisal a;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        l.n = 0;
        add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
        add_buf(&l, "packages:" C1, bad[i]);
        add_buf(&l, "container:" C2, "image=" IMG_OK " privileged=0 cap_add=");
        add_pkg(&l, C2, 1, 1, PKG_HEX, "x\n", 2);
        run(&l, &a);
        assert_true(find(&a, C1)->is_failed);
        assert_string_equal(find(&a, C1)->code, "malformed-record");
        assert_int_equal(find(&a, C1)->entry, 101);
        assert_true(strlen(find(&a, C1)->reason) > 0);
        assert_false(find(&a, C2)->is_failed); /* the other container is untouched */
        assert_int_equal(host_fails(&a), 0);
        assert_int_equal(a.n_pkgs, 1); /* only C2's */
        assert_string_equal(a.pkgs[0].container, C2);
        att_appraisal_cleanup(&a);
        log_free(&l);
    }
    /* the right name with the wrong template (ima-ng) is malformed too */
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_file(&l, "packages:" C1, ls_digest);
    run(&l, &a);
    assert_int_equal(a.n_pkgs, 0);
    att_appraisal_cleanup(&a);
    expect_failed(&l, C1, "malformed-record", 101);
}

/* ---- network policy records (issue 9) ------------------------------------ */

#define NET_HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NET_HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define NET_HEX_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Borrowed, writable: the container policy named @p name of the test policy. */
static struct att_container_policy *policy_named(const char *name)
{
    size_t i;

    for (i = 0; i < policy->n_containers; i++) {
        if (strcmp(policy->containers[i].name, name) == 0) {
            return &policy->containers[i];
        }
    }
    fail_msg("no container policy %s", name);
    abort(); /* not reached: fail_msg ends the test */
}

/* Whether the appraisal has a finding of @p kind with @p code. */
static bool has_finding(const struct att_appraisal *a, enum att_finding_kind kind, const char *code)
{
    size_t i;

    for (i = 0; i < a->n_findings; i++) {
        if (a->findings[i].kind == kind && strcmp(a->findings[i].code, code) == 0) {
            return true;
        }
    }
    return false;
}

/* "status=applied" with the digest of the policy's own network section: attested, no finding. */
static void test_netpolicy_applied_ok(void **state)
{
    struct att_net_policy np = {.default_allow = false, .resolve_interval = 300};
    uint8_t digest[ATT_SHA256_LEN];
    char hex[2 * ATT_SHA256_LEN + 1];
    char rec[512];
    struct log l = {.n = 0};
    struct att_appraisal a;

    (void)state;
    assert_int_equal(att_net_policy_digest(&np, digest), ATT_OK);
    att_hex_encode(digest, sizeof(digest), hex);
    (void)snprintf(rec, sizeof(rec),
                   "status=applied policy=app network=%s ruleset=" NET_HEX_A " table=attest\n"
                   /* the read-back ruleset: its words are not fields of the record */
                   "table inet attest { status=failed reason=x }\n",
                   hex);
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1, rec);
    add_buf(&l, "netpolicy:" C1, "status=removed policy=- table=attest");
    policy_named("app")->network = &np;
    run(&l, &a);
    policy_named("app")->network = NULL;
    assert_false(find(&a, C1)->is_failed);
    assert_false(has_finding(&a, ATT_FIND_INFO, "network-superseded"));
    assert_int_equal(host_fails(&a), 0);
    att_appraisal_cleanup(&a);
    log_free(&l);

    /* without a network section in the policy, any applied digest is attested state */
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1,
            "status=applied policy=app network=" NET_HEX_B " ruleset=" NET_HEX_A " table=t");
    run(&l, &a);
    assert_false(find(&a, C1)->is_failed);
    assert_false(has_finding(&a, ATT_FIND_INFO, "network-superseded"));
    att_appraisal_cleanup(&a);
    log_free(&l);
}

/* "status=failed": the container runs without its restriction; the agent's reason is kept. */
static void test_netpolicy_failed_fails_container(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    const struct att_container_verdict *c;

    (void)state;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "container:" C2, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1,
            "status=failed policy=app network=" NET_HEX_B
            " reason=nft: Operation not permitted (setns)\x01");
    run(&l, &a);
    c = find(&a, C1);
    assert_true(c->is_failed);
    assert_string_equal(c->code, "network-not-in-force");
    assert_int_equal(c->entry, 102);
    assert_non_null(
        strstr(c->reason, "network policy not in force: nft: Operation not permitted (setns)?"));
    assert_false(find(&a, C2)->is_failed);
    assert_int_equal(host_fails(&a), 0);
    att_appraisal_cleanup(&a);
    log_free(&l);
}

/* "netdrift:": someone changed or removed the table; both spellings of what was found. */
static void test_netdrift_fails_container(void **state)
{
    struct log l = {.n = 0};
    struct att_appraisal a;
    const struct att_container_verdict *c;

    (void)state;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netdrift:" C1,
            "expected=" NET_HEX_C " found=none table=attest detail=table deleted");
    run(&l, &a);
    c = find(&a, C1);
    assert_true(c->is_failed);
    assert_string_equal(c->code, "network-not-in-force");
    assert_int_equal(c->entry, 101);
    assert_non_null(strstr(c->reason, "network policy not in force: the ruleset in its network "
                                      "namespace was changed by someone else (applied "
                                      "0123456789ab, found no table): table deleted"));
    assert_int_equal(host_fails(&a), 0);
    att_appraisal_cleanup(&a);
    log_free(&l);

    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netdrift:" C1, "expected=" NET_HEX_C " found=" NET_HEX_B " table=attest");
    run(&l, &a);
    c = find(&a, C1);
    assert_true(c->is_failed);
    assert_non_null(strstr(c->reason, "(applied 0123456789ab, found bbbbbbbbbbbb)"));
    att_appraisal_cleanup(&a);
    log_free(&l);
}

/* The wrong template, no status, an unknown status, a bad digest: malformed. */
static void test_netpolicy_malformed(void **state)
{
    struct log l = {.n = 0};

    (void)state;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_file(&l, "netpolicy:" C1, ls_digest);
    expect_failed(&l, C1, "malformed-record", 101);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_file(&l, "netdrift:" C1, ls_digest);
    expect_failed(&l, C1, "malformed-record", 101);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1, "policy=app network=" NET_HEX_B);
    expect_failed(&l, C1, "malformed-record", 101);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1, "status=applying policy=app network=" NET_HEX_B);
    expect_failed(&l, C1, "malformed-record", 101);
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1, "status=applied policy=app network=ABCD table=t");
    expect_failed(&l, C1, "malformed-record", 101);
    /* a status only in the ruleset text after the first line does not count */
    l.n = 0;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1, "policy=app\nstatus=removed");
    expect_failed(&l, C1, "malformed-record", 101);
}

/* An applied digest other than the policy's: context (the newer record follows), not a failure. */
static void test_netpolicy_superseded_is_info(void **state)
{
    struct att_net_policy np = {.default_allow = true, .resolve_interval = 60};
    struct log l = {.n = 0};
    struct att_appraisal a;

    (void)state;
    add_buf(&l, "container:" C1, "image=" IMG_OK " privileged=0 cap_add=");
    add_buf(&l, "netpolicy:" C1,
            "status=applied policy=app network=" NET_HEX_B " ruleset=" NET_HEX_A " table=t");
    policy_named("app")->network = &np;
    run(&l, &a);
    policy_named("app")->network = NULL;
    assert_false(find(&a, C1)->is_failed);
    assert_true(has_finding(&a, ATT_FIND_INFO, "network-superseded"));
    assert_false(has_finding(&a, ATT_FIND_INFO, "container-failed"));
    assert_int_equal(host_fails(&a), 0);
    att_appraisal_cleanup(&a);
    log_free(&l);
}

static void test_appraise_entries_bad_args(void **state)
{
    struct att_appraisal a;

    (void)state;
    att_appraisal_init(&a);
    assert_int_equal(att_appraise_entries(NULL, 1, 0, policy, &a), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_appraise_entries(NULL, 0, 0, NULL, &a), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_appraise_entries(NULL, 0, 0, policy, &a), ATT_OK);
    att_appraisal_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_allowed_image_and_binary_trusted),
        cmocka_unit_test(test_container_unknown_binary_fails_only_that_container),
        cmocka_unit_test(test_container_failures),
        cmocka_unit_test(test_container_state_carried),
        cmocka_unit_test(test_container_policy_by_label),
        cmocka_unit_test(test_container_policy_label_after_hook),
        cmocka_unit_test(test_policy_covers_and_unique_names),
        cmocka_unit_test(test_container_not_seen_from_inventory),
        cmocka_unit_test(test_quarantine_entries),
        cmocka_unit_test(test_rootfs_records),
        cmocka_unit_test(test_appraise_entries_bad_args),
        cmocka_unit_test(test_pkg_record_parse_ok),
        cmocka_unit_test(test_pkg_record_parse_rejects),
        cmocka_unit_test(test_pkg_record_parse_one_spelling),
        cmocka_unit_test(test_pkg_records_kept),
        cmocka_unit_test(test_pkg_record_malformed_fails_container),
        cmocka_unit_test(test_netpolicy_applied_ok),
        cmocka_unit_test(test_netpolicy_failed_fails_container),
        cmocka_unit_test(test_netdrift_fails_container),
        cmocka_unit_test(test_netpolicy_malformed),
        cmocka_unit_test(test_netpolicy_superseded_is_info),
        cmocka_unit_test(test_log_gap_records),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
