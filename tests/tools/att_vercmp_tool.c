/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: the Debian half of attest/vercmp.h on the command line, so that
 * tests/integration/test_vercmp_dpkg.sh can hold it against dpkg itself.
 *
 *   att_vercmp_tool gen N SEED   print N lines "A B" of valid Debian versions
 *   att_vercmp_tool cmp          read "A B" lines, print "lt", "eq" or "gt"
 *
 * gen aims at the corners of deb-version(7): epochs (0-3, leading zeros, a
 * sign), '~' runs, letters against non-letters, digit runs with leading
 * zeros or beyond 64 bits, revisions present or not, and pairs that differ
 * by one edit or are equal by value (1.0 and 1.00, 0:1.0 and 1.0, 1.0 and
 * 1.0-0). Output is a pure function of N and SEED (xorshift64*).
 *
 * cmp exits 2, naming the version and the reason, on the first invalid
 * version or malformed line; 0 otherwise.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/vercmp.h"

#define VMAX 96 /* longest generated version, NUL included */

static uint64_t rng = 1;

/* xorshift64* (Vigna): small, deterministic, good enough to spread cases. */
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(2685821657736338717);
}

static size_t pick(size_t n)
{
    return (size_t)(rnd() % n);
}

static const char *pick_str(const char *const *list, size_t n)
{
    return list[pick(n)];
}

#define PICK(list) pick_str((list), sizeof(list) / sizeof((list)[0]))

/* A version under construction; appends that do not fit set "full". */
struct vbuf {
    char s[VMAX];
    size_t len;
    bool full;
};

static void put(struct vbuf *v, const char *s)
{
    size_t n = strlen(s);

    if (v->len + n >= sizeof(v->s)) {
        v->full = true;
        return;
    }
    memcpy(v->s + v->len, s, n + 1);
    v->len += n;
}

static void put_digits(struct vbuf *v)
{
    static const char *const runs[] = {
        "0", "00", "000", "1", "01", "001", "2", "9", "09", "10", "010", "99", "100", "0100", "255",
        "1999", "20240131", "007", "5", "3",
        /* beyond 2^64: dpkg compares digit strings, not machine integers */
        "18446744073709551616", "000018446744073709551615", "99999999999999999999"};
    char tmp[8];
    size_t n;
    size_t i;

    if (pick(4) != 0) {
        put(v, PICK(runs));
        return;
    }
    n = 1 + pick(5);
    for (i = 0; i < n; i++) {
        tmp[i] = (char)('0' + pick(10));
    }
    tmp[n] = '\0';
    put(v, tmp);
}

static void put_letters(struct vbuf *v)
{
    static const char *const runs[] = {"a",    "b",   "z",   "A",      "Z",   "rc",    "RC", "beta",
                                       "dfsg", "git", "deb", "ubuntu", "bpo", "build", "aA", "Zz"};

    put(v, PICK(runs));
}

static void put_sep(struct vbuf *v, bool colon_ok, bool hyphen_ok)
{
    static const char *const seps[] = {".", ".", ".", "+", "~", "~~", "~", "+~", "~+", ".~", "~."};

    if (colon_ok && pick(8) == 0) {
        put(v, ":");
    } else if (hyphen_ok && pick(6) == 0) {
        put(v, "-");
    } else {
        put(v, PICK(seps));
    }
}

static bool put_epoch(struct vbuf *v)
{
    static const char *const odd[] = {"00:", "01:", "003:", "+1:", "-0:", "+0:", "2:", "0:"};
    char tmp[8];
    size_t r = pick(12);

    if (r < 6) {
        return false;
    }
    if (r < 11) {
        (void)snprintf(tmp, sizeof(tmp), "%zu:", pick(4));
        put(v, tmp);
    } else {
        put(v, PICK(odd));
    }
    return true;
}

/* One random version; may be invalid (e.g. a '-' right before the end). */
static void gen_one(struct vbuf *v)
{
    bool has_epoch;
    size_t n;
    size_t i;

    v->len = 0;
    v->s[0] = '\0';
    v->full = false;
    has_epoch = put_epoch(v);
    put_digits(v);
    n = pick(6);
    for (i = 0; i < n; i++) {
        switch (pick(4)) {
        case 0:
            put_letters(v);
            break;
        case 1:
            put_digits(v);
            break;
        default:
            put_sep(v, has_epoch, true);
            if (pick(2) == 0) {
                put_digits(v);
            } else {
                put_letters(v);
            }
            break;
        }
    }
    if (pick(2) == 0) {
        put(v, "-");
        n = 1 + pick(3);
        for (i = 0; i < n; i++) {
            switch (pick(5)) {
            case 0:
                put_letters(v);
                break;
            case 1:
                put_sep(v, false, false);
                break;
            default:
                put_digits(v);
                break;
            }
        }
    }
}

static bool valid(const struct vbuf *v)
{
    return !v->full && att_debver_valid(v->s, NULL, 0);
}

static void gen_valid(struct vbuf *v)
{
    do {
        gen_one(v);
    } while (!valid(v));
}

/* Start of a random digit run in v, or SIZE_MAX if it has none. */
static size_t find_digit_run(const struct vbuf *v)
{
    size_t starts[VMAX];
    size_t n = 0;
    size_t i;

    for (i = 0; i < v->len; i++) {
        bool digit = v->s[i] >= '0' && v->s[i] <= '9';
        bool prev = i > 0 && v->s[i - 1] >= '0' && v->s[i - 1] <= '9';
        if (digit && !prev) {
            starts[n++] = i;
        }
    }
    return n == 0 ? SIZE_MAX : starts[pick(n)];
}

static void insert_at(struct vbuf *v, size_t at, const char *s)
{
    size_t n = strlen(s);

    if (at > v->len || v->len + n >= sizeof(v->s)) {
        v->full = true;
        return;
    }
    memmove(v->s + at + n, v->s + at, v->len - at + 1);
    memcpy(v->s + at, s, n);
    v->len += n;
}

static void delete_at(struct vbuf *v, size_t at, size_t n)
{
    if (at + n > v->len) {
        return;
    }
    memmove(v->s + at, v->s + at + n, v->len - at - n + 1);
    v->len -= n;
}

/* B from A by one edit that keeps them close (or equal by value). */
static void mutate(const struct vbuf *a, struct vbuf *b)
{
    static const char *const tails[] = {"~", "~~", "~rc1", "~~a", "+b1", ".0", ".1",  "a",  "A",
                                        "0", "-1", "+",    ".",   "-0",  "~0", "-0~", "+~", ".~"};
    static const char *const chars[] = {"0", "1", "9", ".", "+", "~", "-", ":", "a", "Z"};
    size_t at;

    *b = *a;
    switch (pick(12)) {
    case 0: /* identical */
        break;
    case 1: /* unrelated */
        gen_valid(b);
        break;
    case 2: /* equal by value: one more or one less leading zero */
        at = find_digit_run(b);
        if (at == SIZE_MAX) {
            break;
        }
        if (b->s[at] == '0' && b->s[at + 1] >= '0' && b->s[at + 1] <= '9' && pick(2) == 0) {
            delete_at(b, at, 1);
        } else {
            insert_at(b, at, "0");
        }
        break;
    case 3: /* epoch 0 added or dropped */
        if (strncmp(b->s, "0:", 2) == 0) {
            delete_at(b, 0, 2);
        } else {
            insert_at(b, 0, pick(2) == 0 ? "0:" : "00:");
        }
        break;
    case 4: /* revision "0" added or dropped */
        if (b->len > 2 && strcmp(b->s + b->len - 2, "-0") == 0) {
            delete_at(b, b->len - 2, 2);
        } else {
            put(b, pick(2) == 0 ? "-0" : "-00");
        }
        break;
    case 5: /* shared prefix, longer */
        put(b, PICK(tails));
        break;
    case 6: /* one character replaced */
        if (b->len > 0) {
            at = pick(b->len);
            b->s[at] = PICK(chars)[0];
        }
        break;
    case 7: /* shared prefix, shorter */
        if (b->len > 1) {
            at = 1 + pick(b->len - 1);
            b->s[at] = '\0';
            b->len = at;
        }
        break;
    case 8: /* one character deleted */
        if (b->len > 1) {
            delete_at(b, pick(b->len), 1);
        }
        break;
    case 9: /* one character inserted */
        insert_at(b, pick(b->len + 1), PICK(chars));
        break;
    case 10: /* one more '~' next to a '~', or a new one */
        at = b->len > 0 ? pick(b->len) : 0;
        insert_at(b, at, "~");
        break;
    default: /* one digit run replaced by another */
        at = find_digit_run(b);
        if (at == SIZE_MAX) {
            break;
        }
        while (b->s[at] >= '0' && b->s[at] <= '9') {
            delete_at(b, at, 1);
        }
        {
            struct vbuf d = {.len = 0, .full = false};
            d.s[0] = '\0';
            put_digits(&d);
            insert_at(b, at, d.s);
        }
        break;
    }
}

static int gen(const char *count, const char *seed)
{
    struct vbuf a;
    struct vbuf b;
    char *end = NULL;
    unsigned long n;
    unsigned long long s;
    unsigned long i;
    int tries;

    n = strtoul(count, &end, 10);
    if (end == count || *end != '\0' || n > 10000000ul) {
        fprintf(stderr, "att_vercmp_tool: bad count '%s'\n", count);
        return 1;
    }
    s = strtoull(seed, &end, 0);
    if (end == seed || *end != '\0') {
        fprintf(stderr, "att_vercmp_tool: bad seed '%s'\n", seed);
        return 1;
    }
    /* xorshift must not start at 0; mix so that seeds 1, 2, 3 diverge fast. */
    rng = (uint64_t)s * UINT64_C(0x9E3779B97F4A7C15) + UINT64_C(0x2545F4914F6CDD1D);
    if (rng == 0) {
        rng = 1;
    }
    for (i = 0; i < n; i++) {
        gen_valid(&a);
        for (tries = 0; tries < 32; tries++) {
            mutate(&a, &b);
            if (valid(&b)) {
                break;
            }
        }
        if (tries == 32) {
            b = a;
        }
        if (pick(2) == 0) {
            printf("%s %s\n", a.s, b.s);
        } else {
            printf("%s %s\n", b.s, a.s);
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmp(void)
{
    char line[1024];
    char why[128];
    unsigned long lineno = 0;

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t len = strlen(line);
        char *a = line;
        char *b;
        char *sp;
        int r;

        lineno++;
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        } else if (!feof(stdin)) {
            fprintf(stderr, "att_vercmp_tool: line %lu is too long\n", lineno);
            return 2;
        }
        sp = strchr(line, ' ');
        if (sp == NULL || strchr(sp + 1, ' ') != NULL) {
            fprintf(stderr, "att_vercmp_tool: line %lu is not \"A B\"\n", lineno);
            return 2;
        }
        *sp = '\0';
        b = sp + 1;
        if (!att_debver_valid(a, why, sizeof(why))) {
            fprintf(stderr, "att_vercmp_tool: invalid version '%s': %s\n", a, why);
            return 2;
        }
        if (!att_debver_valid(b, why, sizeof(why))) {
            fprintf(stderr, "att_vercmp_tool: invalid version '%s': %s\n", b, why);
            return 2;
        }
        r = att_debver_cmp(a, b);
        puts(r < 0 ? "lt" : (r > 0 ? "gt" : "eq"));
    }
    if (ferror(stdin)) {
        fprintf(stderr, "att_vercmp_tool: read error\n");
        return 2;
    }
    return fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        return gen(argv[2], argv[3]);
    }
    if (argc == 2 && strcmp(argv[1], "cmp") == 0) {
        return cmp();
    }
    fprintf(stderr, "usage: att_vercmp_tool gen N SEED\n"
                    "       att_vercmp_tool cmp < pairs\n");
    return 1;
}
