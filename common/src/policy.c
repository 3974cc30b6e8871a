/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy model (attest/policy.h): reference values, i.e. absolute path ->
 * set of allowed sha256 digests. refs stay sorted by path (strcmp) and each
 * ref's digests stay sorted bytewise (memcmp) without duplicates, so lookups
 * are binary searches and the JSON form (proto/src/policy_json.c) comes out
 * the same whatever order the values were added in. No I/O, no JSON here.
 */
#include "attest/policy.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct att_policy *att_policy_new(void)
{
    return calloc(1, sizeof(struct att_policy));
}

static void free_strv(char **v, size_t n)
{
    size_t i;

    for (i = 0; v != NULL && i < n; i++) {
        free(v[i]);
    }
    free(v);
}

/* NOLINTNEXTLINE(misc-no-recursion): one level: a container's files policy has no containers */
void att_policy_free(struct att_policy *p)
{
    size_t i;

    if (p == NULL) {
        return;
    }
    for (i = 0; i < p->n_containers; i++) {
        struct att_container_policy *c = &p->containers[i];

        free(c->name);
        free_strv(c->images, c->n_images);
        att_policy_free(c->files);
        free_strv(c->exclude, c->n_exclude);
        free_strv(c->forbid_caps, c->n_forbid_caps);
        att_vuln_policy_free(c->vulns);
        free(c->vulns);
        att_net_policy_free(c->network);
    }
    free(p->containers);
    for (i = 0; i < p->n_refs; i++) {
        free(p->refs[i].path);
        free(p->refs[i].digests);
    }
    free(p->refs);
    free(p->name);
    free(p);
}

/*
 * Index of @p path in p->refs if present (*found = true), else the index at
 * which it would be inserted to keep refs sorted.
 */
static size_t ref_search(const struct att_policy *p, const char *path, bool *found)
{
    size_t lo = 0;
    size_t hi = p->n_refs;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, p->refs[mid].path);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/* The same for a digest among ref->digests. */
static size_t digest_search(const struct att_policy_ref *ref, const uint8_t digest[ATT_SHA256_LEN],
                            bool *found)
{
    size_t lo = 0;
    size_t hi = ref->n_digests;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(digest, ref->digests[mid], ATT_SHA256_LEN);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/*
 * Resize an array of @p n elements of @p size bytes so that it holds n + 1.
 * The allocation is rounded up to a power of two, so growing one element at
 * a time costs amortised O(1): in between, realloc() is asked for the size
 * the block already has, which glibc answers in place. No capacity is kept
 * in the (public) structs, so nothing breaks if a caller built one by hand.
 * Returns the new block, or NULL with the old one untouched.
 */
static void *grow(void *arr, size_t n, size_t size)
{
    size_t cap = 4;

    while (cap < n + 1) {
        if (cap > SIZE_MAX / 2) {
            return NULL;
        }
        cap *= 2;
    }
    if (cap > SIZE_MAX / size) {
        return NULL;
    }
    return realloc(arr, cap * size);
}

static bool path_ok(const char *path)
{
    size_t len;

    if (path == NULL || path[0] != '/') {
        return false;
    }
    len = strnlen(path, ATT_POLICY_MAX_PATH);
    return len < ATT_POLICY_MAX_PATH;
}

/*
 * Insert a new ref for @p path with the single digest @p digest at index @p at.
 * Everything is allocated before p changes, so a failure leaves p as it was.
 */
static att_rc ref_insert(struct att_policy *p, size_t at, const char *path,
                         const uint8_t digest[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_NOMEM;
    char *copy = NULL;
    uint8_t(*digests)[ATT_SHA256_LEN] = NULL;
    struct att_policy_ref *refs;

    copy = strdup(path);
    digests = malloc(sizeof(*digests));
    if (copy == NULL || digests == NULL) {
        goto out;
    }
    memcpy(digests[0], digest, ATT_SHA256_LEN);
    refs = grow(p->refs, p->n_refs, sizeof(*p->refs));
    if (refs == NULL) {
        goto out;
    }
    p->refs = refs;
    memmove(&p->refs[at + 1], &p->refs[at], (p->n_refs - at) * sizeof(*p->refs));
    p->refs[at].path = copy;
    p->refs[at].digests = digests;
    p->refs[at].n_digests = 1;
    p->n_refs++;
    copy = NULL;    /* transferred to p */
    digests = NULL; /* transferred to p */
    rc = ATT_OK;
out:
    free(copy);
    free(digests);
    return rc;
}

att_rc att_policy_add(struct att_policy *p, const char *path, const uint8_t digest[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_policy_ref *ref;
    uint8_t(*digests)[ATT_SHA256_LEN];
    bool found = false;
    size_t at;

    if (p == NULL || digest == NULL || !path_ok(path)) {
        return ATT_ERR_INVALID_ARG;
    }
    /* Appending in sorted order (as the JSON parser does) never moves a ref. */
    at = ref_search(p, path, &found);
    if (!found) {
        rc = ref_insert(p, at, path, digest);
        goto out;
    }
    ref = &p->refs[at];
    at = digest_search(ref, digest, &found);
    if (found) {
        rc = ATT_OK; /* already allowed: sets have no duplicates */
        goto out;
    }
    digests = grow(ref->digests, ref->n_digests, sizeof(*ref->digests));
    if (digests == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    ref->digests = digests;
    memmove(&ref->digests[at + 1], &ref->digests[at], (ref->n_digests - at) * sizeof(*digests));
    memcpy(ref->digests[at], digest, ATT_SHA256_LEN);
    ref->n_digests++;
    rc = ATT_OK;
out:
    return rc;
}

const struct att_policy_ref *att_policy_find(const struct att_policy *p, const char *path)
{
    bool found = false;
    size_t at;

    if (p == NULL || path == NULL || p->n_refs == 0) {
        return NULL;
    }
    at = ref_search(p, path, &found);
    return found ? &p->refs[at] : NULL;
}

/*
 * Fail closed: ATT_POLICY_ALLOWED is 0 in the header, so the result starts at
 * "unknown path" and only a digest found in the set turns it into "allowed".
 * Missing arguments never read as allowed.
 */
enum att_policy_match att_policy_check(const struct att_policy *p, const char *path,
                                       const uint8_t digest[ATT_SHA256_LEN])
{
    enum att_policy_match m = ATT_POLICY_UNKNOWN_PATH;
    const struct att_policy_ref *ref;
    bool found = false;

    if (digest == NULL) {
        return m;
    }
    ref = att_policy_find(p, path);
    if (ref == NULL) {
        return m;
    }
    m = ATT_POLICY_DIGEST_MISMATCH;
    (void)digest_search(ref, digest, &found);
    if (found) {
        m = ATT_POLICY_ALLOWED;
    }
    return m;
}

const struct att_container_policy *att_policy_container_for_image(const struct att_policy *p,
                                                                  const char *image_id)
{
    size_t i;
    size_t k;

    if (p == NULL || image_id == NULL) {
        return NULL;
    }
    for (i = 0; i < p->n_containers; i++) {
        for (k = 0; k < p->containers[i].n_images; k++) {
            if (strcmp(p->containers[i].images[k], image_id) == 0) {
                return &p->containers[i];
            }
        }
    }
    return NULL;
}

const struct att_container_policy *att_policy_container_by_name(const struct att_policy *p,
                                                                const char *name)
{
    size_t i;

    for (i = 0; p != NULL && name != NULL && i < p->n_containers; i++) {
        if (p->containers[i].name != NULL && strcmp(p->containers[i].name, name) == 0) {
            return &p->containers[i];
        }
    }
    return NULL;
}

bool att_container_policy_covers(const struct att_container_policy *to,
                                 const struct att_container_policy *from)
{
    size_t i;
    size_t k;

    if (to == NULL || from == NULL) {
        return false;
    }
    if (to == from) {
        return true;
    }
    if (from->allow_jit && !to->allow_jit) {
        return false;
    }
    for (i = 0; i < from->n_exclude; i++) {
        if (!att_container_policy_excludes(to, from->exclude[i])) {
            return false;
        }
    }
    for (i = 0; i < from->files->n_refs; i++) {
        const struct att_policy_ref *r = &from->files->refs[i];

        if (att_container_policy_excludes(to, r->path)) {
            continue;
        }
        for (k = 0; k < r->n_digests; k++) {
            if (att_policy_check(to->files, r->path, r->digests[k]) != ATT_POLICY_ALLOWED) {
                return false;
            }
        }
    }
    return true;
}

bool att_container_policy_excludes(const struct att_container_policy *c, const char *path)
{
    size_t i;

    for (i = 0; c != NULL && path != NULL && i < c->n_exclude; i++) {
        if (strncmp(path, c->exclude[i], strlen(c->exclude[i])) == 0) {
            return true;
        }
    }
    return false;
}
