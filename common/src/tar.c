/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded in-memory tar walker (see attest/tar.h; POSIX.1-2001 ustar and pax). */
#include "attest/tar.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "attest/util.h"

#define BLOCK 512u

static bool octal(const uint8_t *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    bool any = false;

    while (i < n && (p[i] == ' ' || p[i] == '\0')) {
        i++;
    }
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v > (UINT64_MAX >> 3)) {
            return false;
        }
        v = (v << 3) | (uint64_t)(p[i] - '0');
        any = true;
    }
    for (; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\0') {
            return false;
        }
    }
    *out = v;
    return any;
}

static bool checksum_ok(const uint8_t *h)
{
    uint64_t want = 0;
    uint64_t sum = 0;
    size_t i;

    if (!octal(h + 148, 8, &want)) {
        return false;
    }
    for (i = 0; i < BLOCK; i++) {
        sum += (i >= 148 && i < 156) ? (uint64_t)' ' : h[i];
    }
    return sum == want;
}

static bool all_zero(const uint8_t *p)
{
    size_t i;

    for (i = 0; i < BLOCK; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* "NN path=VALUE\n" records of a pax header: copy the path, if any. */
static bool pax_path(const uint8_t *p, size_t n, char *out, size_t out_len)
{
    size_t off = 0;

    while (off < n) {
        uint64_t rec = 0;
        size_t k = off;

        while (k < n && p[k] >= '0' && p[k] <= '9' && rec < n) {
            rec = rec * 10 + (uint64_t)(p[k] - '0');
            k++;
        }
        if (k >= n || p[k] != ' ' || rec == 0 || rec > n - off || k - off >= rec) {
            return false;
        }
        k++;
        if (off + rec - k > 5 && memcmp(p + k, "path=", 5) == 0) {
            size_t vlen = off + rec - k - 5 - 1; /* without the trailing newline */

            if (vlen == 0 || vlen >= out_len || p[off + rec - 1] != '\n') {
                return false;
            }
            memcpy(out, p + k + 5, vlen);
            out[vlen] = '\0';
        }
        off += (size_t)rec;
    }
    return true;
}

att_rc att_tar_walk(const uint8_t *buf, size_t len, att_tar_fn fn, void *ctx, char *why,
                    size_t why_len)
{
    struct att_tar_entry e;
    char next_path[ATT_TAR_MAX_PATH + 1] = "";
    size_t off = 0;
    size_t n = 0;

    if ((buf == NULL && len > 0) || fn == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    while (off + BLOCK <= len) {
        const uint8_t *h = buf + off;
        uint64_t size = 0;
        size_t padded;
        char name[256];
        size_t nl;
        size_t pl;

        if (all_zero(h)) {
            return ATT_OK; /* end of archive */
        }
        if (!checksum_ok(h) || !octal(h + 124, 12, &size)) {
            att_set_why(why, why_len, "tar: entry %zu at byte %zu: bad header checksum or size", n,
                        off);
            return ATT_ERR_PARSE;
        }
        if (size > len - off - BLOCK) {
            att_set_why(why, why_len, "tar: entry %zu: size %llu runs past the archive", n,
                        (unsigned long long)size);
            return ATT_ERR_PARSE;
        }
        padded = (size_t)((size + BLOCK - 1) / BLOCK * BLOCK);
        if (padded > len - off - BLOCK) {
            att_set_why(why, why_len, "tar: entry %zu: archive truncated inside its data", n);
            return ATT_ERR_PARSE;
        }
        memset(&e, 0, sizeof(e));
        e.type = h[156] == '\0' ? '0' : (char)h[156];
        e.data = h + BLOCK;
        e.size = (size_t)size;
        if (e.type == 'x' || e.type == 'L') {
            bool ok = e.type == 'x' ? pax_path(e.data, e.size, next_path, sizeof(next_path))
                                    : e.size > 0 && e.size <= ATT_TAR_MAX_PATH;

            if (ok && e.type == 'L') {
                memcpy(next_path, e.data, e.size);
                next_path[e.size] = '\0';
                next_path[strnlen(next_path, e.size)] = '\0';
            }
            if (!ok) {
                att_set_why(why, why_len, "tar: entry %zu: malformed long-name header", n);
                return ATT_ERR_PARSE;
            }
            off += BLOCK + padded;
            n++;
            continue;
        }
        if (e.type == 'g') { /* global pax header: nothing we need */
            off += BLOCK + padded;
            n++;
            continue;
        }
        nl = strnlen((const char *)h, 100);
        pl = memcmp(h + 257, "ustar", 5) == 0 ? strnlen((const char *)h + 345, 155) : 0;
        if (pl > 0) {
            (void)snprintf(name, sizeof(name), "%.*s/%.*s", (int)pl, (const char *)h + 345,
                           (int)nl, (const char *)h);
        } else {
            (void)snprintf(name, sizeof(name), "%.*s", (int)nl, (const char *)h);
        }
        (void)snprintf(e.path, sizeof(e.path), "%s", next_path[0] ? next_path : name);
        next_path[0] = '\0';
        if (strncmp(e.path, "./", 2) == 0) {
            memmove(e.path, e.path + 2, strlen(e.path + 2) + 1);
        }
        if (fn(ctx, &e) != 0) {
            return ATT_OK;
        }
        off += BLOCK + padded;
        n++;
    }
    if (off != len) {
        att_set_why(why, why_len, "tar: %zu trailing bytes are not a whole header", len - off);
        return ATT_ERR_PARSE;
    }
    return ATT_OK; /* no end blocks: accepted, every header was whole */
}
