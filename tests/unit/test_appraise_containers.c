/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-container appraisal (att_appraise_entries) on synthetic logs written
 * exactly as the agent writes them: identity record, file entries, memory
 * violations. Each failure kind the issue names, and that a failing
 * container never fails the host or another container.
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
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/util.h"

#define C1 "1111111111111111111111111111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222222222222222222222222222"
#define IMG_OK "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define IMG_BAD "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IMG_C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static uint8_t ls_digest[ATT_SHA256_LEN];
static char ls_hex[65];
static struct att_policy *policy;

struct log {
    struct att_ima_entry e[16];
    size_t n;
};

static void add_buf(struct log *l, const char *name, const char *text)
{
    assert_int_equal(att_ima_entry_build_buf(&l->e[l->n++], 15, name, (const uint8_t *)text,
                                             strlen(text)),
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
    add_buf(&l, "container:" C1, "image=" IMG_OK " ref=app:1 privileged=0 cap_add= pid_mode=private "
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
    assert_int_equal(att_policy_parse_json(dup, strlen(dup), &p, why, sizeof(why)),
                     ATT_ERR_PARSE);
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
    assert_int_equal(att_appraisal_add_inventory(&a, C1 " running\n" C2 " running\n"
                                                    "not-an-id running\n"
                                                    "3333333333333333333333333333333333333333333333333333333333333333\n"
                                                    "ABCDEF0000000000000000000000000000000000000000000000000000000000 x\n"
                                                    C2 " running"),
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
    add_buf(&l, "quarantine:" C1, "at=1 n=1 order=0123456789abcdef0123456789abcdef op=quarantine "
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
        "zz",            /* no digest, no newline */
        " /bin/ls",      /* no newline */
        " bin/ls\n",     /* not absolute */
        " /bin/l s\n",   /* unescaped space */
        " /bin/l%zz\n",  /* bad escape */
        " /bin/l%00\n",  /* NUL */
        " /bin/l%2\n",   /* short escape */
        "x /bin/ls\n",   /* 65 hex-ish characters */
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
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
