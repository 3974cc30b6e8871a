/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Package version ordering (see attest/vercmp.h).
 *
 * Debian: deb-version(7) and the checks dpkg applies when it parses a
 * version (dpkg 1.21, `dpkg --compare-versions` is the reference the
 * integration test runs against). Alpine: the token grammar and ordering of
 * apk-tools' current src/version.c (the rewrite that added "~hash" tokens
 * and string order for digit runs with a leading zero); rules below.
 *
 * Both work in place on the caller's NUL-terminated string: no copy, no
 * allocation, no recursion, one linear pass per string, so no length cap is
 * needed to keep them bounded. Only ASCII is interpreted (no locale).
 */
#include "attest/vercmp.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The C locale's isspace(): what strtol() skips in front of a number. */
static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int sign_of(int v)
{
    return (v > 0) - (v < 0);
}

static void set_why(char *why, size_t why_len, const char *msg)
{
    if (why != NULL && why_len > 0) {
        (void)snprintf(why, why_len, "%s", msg);
    }
}

/* ------------------------------------------------------------------------ */
/* Debian                                                                   */
/* ------------------------------------------------------------------------ */

/* A version cut into its three parts; up and rev point into the caller's string. */
struct debver {
    int epoch;
    const unsigned char *up;
    size_t up_len;
    const unsigned char *rev; /* "" (rev_len 0) when there is no '-' */
    size_t rev_len;
};

/*
 * Reads the epoch in [s, colon) the way dpkg does, which is strtol() plus
 * range checks: leading white space and one '+' or '-' sign are accepted
 * ("+1:" and "-0:" are valid epochs to dpkg), the digits must run up to the
 * colon, and the value must lie in [0, INT_MAX]. Digit runs of any length
 * are handled without overflow (the value saturates above INT_MAX).
 * Returns NULL or dpkg's reason.
 */
static const char *deb_epoch(const unsigned char *s, const unsigned char *colon, int *out)
{
    const unsigned char *p = s;
    bool negative = false;
    bool any = false;
    long long v = 0;

    while (p < colon && is_space(*p)) {
        p++;
    }
    if (p < colon && (*p == '+' || *p == '-')) {
        negative = *p == '-';
        p++;
    }
    while (p < colon && is_digit(*p)) {
        if (v <= INT_MAX) {
            v = v * 10 + (long long)(*p - '0');
        }
        any = true;
        p++;
    }
    if (!any) {
        return "epoch in version is empty";
    }
    if (p != colon) {
        return "epoch in version is not number";
    }
    if (negative && v != 0) {
        return "epoch in version is negative";
    }
    if (v > INT_MAX) {
        return "epoch in version is too big";
    }
    *out = (int)v;
    return NULL;
}

/*
 * Cuts @v into epoch, upstream and revision exactly as dpkg's parser does
 * and returns NULL, or the first problem dpkg would report, in dpkg's order
 * and words. *out is filled in either way (on an epoch problem the epoch is
 * 0 and the whole string is the body), so that ordering stays defined for
 * any input: on versions dpkg merely warns about (bad first character, bad
 * characters) it then orders them as dpkg does.
 *
 * Like dpkg, blanks (space, tab) around the version are skipped here; the
 * caller that validates refuses them.
 */
static const char *deb_split(const char *v, struct debver *out)
{
    const unsigned char *s = (const unsigned char *)v;
    const unsigned char *end;
    const unsigned char *tail;
    const unsigned char *body;
    const unsigned char *colon;
    const unsigned char *hyphen = NULL;
    const unsigned char *p;
    const char *err = NULL;
    size_t i;

    while (is_blank(*s)) {
        s++;
    }
    end = s;
    while (*end != '\0' && !is_blank(*end)) {
        end++;
    }
    tail = end;
    while (is_blank(*tail)) {
        tail++;
    }
    out->epoch = 0;
    out->up = s;
    out->up_len = (size_t)(end - s);
    out->rev = end;
    out->rev_len = 0;
    if (*s == '\0') {
        return "version string is empty";
    }
    if (*tail != '\0') {
        return "version string has embedded spaces";
    }

    body = s;
    colon = memchr(s, ':', (size_t)(end - s));
    if (colon != NULL) {
        err = deb_epoch(s, colon, &out->epoch);
        if (err == NULL && colon + 1 == end) {
            err = "nothing after colon in version number";
        }
        if (err == NULL) {
            body = colon + 1;
        }
    }
    /* The revision starts after the LAST hyphen: upstream may hold more. */
    for (p = body; p < end; p++) {
        if (*p == '-') {
            hyphen = p;
        }
    }
    out->up = body;
    out->up_len = (size_t)((hyphen != NULL ? hyphen : end) - body);
    if (hyphen != NULL) {
        out->rev = hyphen + 1;
        out->rev_len = (size_t)(end - (hyphen + 1));
    }
    if (err != NULL) {
        return err;
    }
    if (hyphen != NULL && out->rev_len == 0) {
        return "revision number is empty";
    }
    if (out->up_len == 0) {
        return "version number is empty";
    }
    if (!is_digit(out->up[0])) {
        return "version number does not start with digit";
    }
    /* ':' is legal in upstream, but only reachable behind an epoch: without
     * one, the first ':' is taken as the end of a (then malformed) epoch. */
    for (i = 1; i < out->up_len; i++) {
        unsigned char c = out->up[i];
        if (!is_digit(c) && !is_alpha(c) && strchr(".-+~:", c) == NULL) {
            return "invalid character in version number";
        }
    }
    for (i = 0; i < out->rev_len; i++) {
        unsigned char c = out->rev[i];
        if (!is_digit(c) && !is_alpha(c) && strchr(".+~", c) == NULL) {
            return "invalid character in revision number";
        }
    }
    return NULL;
}

/* Weight of a non-digit character (0 for the end of the part): '~' sorts
 * before the end, the end before letters, letters before everything else. */
static int deb_order(unsigned char c)
{
    if (c == '\0' || is_digit(c)) {
        return 0;
    }
    if (is_alpha(c)) {
        return c;
    }
    if (c == '~') {
        return -1;
    }
    return c + 256;
}

/*
 * deb-version(7) on one part (upstream or revision): alternately compare
 * the longest non-digit prefixes character by character with deb_order()
 * weights, then the longest digit prefixes by numeric value (an empty run
 * is 0). Leading zeros are skipped and runs compared by length first, so
 * numbers of any size compare exactly. Reading past the end gives '\0'.
 */
static int deb_part_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    size_t i = 0;
    size_t j = 0;

    while (i < an || j < bn) {
        int first_diff = 0;

        while ((i < an && !is_digit(a[i])) || (j < bn && !is_digit(b[j]))) {
            int ac = deb_order(i < an ? a[i] : 0);
            int bc = deb_order(j < bn ? b[j] : 0);

            if (ac != bc) {
                return ac < bc ? -1 : 1;
            }
            /* Equal weights here mean both sides hold a non-digit. */
            i++;
            j++;
        }
        while (i < an && a[i] == '0') {
            i++;
        }
        while (j < bn && b[j] == '0') {
            j++;
        }
        while (i < an && is_digit(a[i]) && j < bn && is_digit(b[j])) {
            if (first_diff == 0) {
                first_diff = a[i] < b[j] ? -1 : (a[i] > b[j] ? 1 : 0);
            }
            i++;
            j++;
        }
        if (i < an && is_digit(a[i])) {
            return 1;
        }
        if (j < bn && is_digit(b[j])) {
            return -1;
        }
        if (first_diff != 0) {
            return first_diff;
        }
    }
    return 0;
}

bool att_debver_valid(const char *v, char *why, size_t why_len)
{
    struct debver d;
    const char *err;
    size_t i;

    if (v == NULL) {
        set_why(why, why_len, "version is NULL");
        return false;
    }
    err = deb_split(v, &d);
    if (err != NULL) {
        set_why(why, why_len, err);
        return false;
    }
    /*
     * dpkg trims blanks around a version, and strtol() lets white space in
     * front of the epoch through ("\v1:2"). Versions in dpkg's own status
     * file never carry either, so a string that does has not come from
     * there: refuse it instead of guessing (the header promises "no blanks").
     */
    for (i = 0; v[i] != '\0'; i++) {
        if (is_space((unsigned char)v[i])) {
            set_why(why, why_len, "version string has leading or trailing white space");
            return false;
        }
    }
    return true;
}

int att_debver_cmp(const char *a, const char *b)
{
    struct debver da;
    struct debver db;
    int r;

    /* NULL and "" are "no version": equal to each other and before every
     * version, even "0" and "~" (what `dpkg --compare-versions` does with an
     * empty argument), so a missing version never compares as new enough. */
    if (a == NULL || b == NULL || *a == '\0' || *b == '\0') {
        return (a != NULL && *a != '\0') - (b != NULL && *b != '\0');
    }
    (void)deb_split(a, &da);
    (void)deb_split(b, &db);
    if (da.epoch != db.epoch) {
        return da.epoch < db.epoch ? -1 : 1;
    }
    r = deb_part_cmp(da.up, da.up_len, db.up, db.up_len);
    if (r != 0) {
        return r;
    }
    return deb_part_cmp(da.rev, da.rev_len, db.rev, db.rev_len);
}

/* ------------------------------------------------------------------------ */
/* Alpine                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * apk-tools version grammar and order, as implemented here:
 *
 *   version = digits { "." digits } [ letter ] { "_" suffix [ digits ] }
 *             [ "~" hexdigits ] [ "-r" digits ]
 *
 * letter is one of a-z; suffix one of alpha beta pre rc (pre-releases) or
 * cvs svn git hg p (post-releases); hexdigits are 0-9a-f. Nothing else is
 * valid: no upper case, no '-' other than "-r", no empty digit run.
 *
 * The two strings are cut into tokens and compared token by token while
 * both have a token of the same kind:
 *   - the first number and the numbers after a suffix and after "-r"
 *     compare by value (1.0 == 01.0, _rc01 == _rc1);
 *   - a number after '.' compares by value too, unless either side starts
 *     with '0': then the two digit strings compare as byte strings, shorter
 *     first on a common prefix (1.01 < 1.1, 1.0 < 1.00, 1.05 < 1.1);
 *   - letters by their code (1.2a < 1.2b), suffixes in the order
 *     alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p, hashes
 *     as byte strings.
 * When one side runs out of tokens or the kinds differ, a pre-release
 * suffix sorts first (1.0_rc1 < 1.0, 1.0_alpha_pre2 < 1.0_alpha); otherwise
 * the side whose next token kind comes later in the list
 *   '.'digits, letter, suffix, suffix number, ~hash, -r number, end
 * sorts first (1.0 < 1.0.1, 1.0a < 1.0.1, 1.0 < 1.0_p1, 1.0 < 1.0-r1,
 * 1.0-r1 < 1.0~ab < 1.0_p1). Two strings that fail at the same point
 * compare equal.
 *
 * One deliberate difference: apk-tools accumulates numbers in a uint64_t
 * that wraps silently; numbers here compare by their exact value, which is
 * the same order for every number below 2^64.
 */

enum apk_tok {
    APK_TOK_INITIAL_DIGIT,
    APK_TOK_DIGIT,
    APK_TOK_LETTER,
    APK_TOK_SUFFIX,
    APK_TOK_SUFFIX_NO,
    APK_TOK_COMMIT_HASH,
    APK_TOK_REVISION_NO,
    APK_TOK_END,
    APK_TOK_INVALID,
};

/* In sort order; APK_SUF_NONE separates pre- from post-releases. */
enum apk_suffix {
    APK_SUF_INVALID,
    APK_SUF_ALPHA,
    APK_SUF_BETA,
    APK_SUF_PRE,
    APK_SUF_RC,
    APK_SUF_NONE,
    APK_SUF_CVS,
    APK_SUF_SVN,
    APK_SUF_GIT,
    APK_SUF_HG,
    APK_SUF_P,
};

struct apk_cursor {
    const char *p;    /* next unread character */
    enum apk_tok tok; /* kind of the current token */
    enum apk_suffix suffix;
    const char *val; /* the current token's text (digits, letter, suffix, hash) */
    size_t val_len;
};

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_hex(char c)
{
    return is_digit((unsigned char)c) || (c >= 'a' && c <= 'f');
}

static enum apk_suffix apk_suffix_of(const char *s, size_t n)
{
    static const struct {
        const char *name;
        enum apk_suffix suf;
    } names[] = {
        {"alpha", APK_SUF_ALPHA}, {"beta", APK_SUF_BETA}, {"pre", APK_SUF_PRE},
        {"rc", APK_SUF_RC},       {"cvs", APK_SUF_CVS},   {"svn", APK_SUF_SVN},
        {"git", APK_SUF_GIT},     {"hg", APK_SUF_HG},     {"p", APK_SUF_P},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0) {
            return names[i].suf;
        }
    }
    return APK_SUF_INVALID;
}

/* Makes the digit run at the cursor the current token's text; an empty run
 * makes the token invalid. */
static void apk_digits(struct apk_cursor *c, enum apk_tok tok)
{
    c->val = c->p;
    while (is_digit((unsigned char)*c->p)) {
        c->p++;
    }
    c->val_len = (size_t)(c->p - c->val);
    c->tok = c->val_len > 0 ? tok : APK_TOK_INVALID;
}

static void apk_first(struct apk_cursor *c, const char *v)
{
    c->p = v;
    c->suffix = APK_SUF_INVALID;
    apk_digits(c, APK_TOK_INITIAL_DIGIT);
}

/*
 * Advances to the next token. Which token may follow which is encoded in
 * the order of enum apk_tok: a letter or '.' only after digits, '_' only
 * up to a suffix number, '~' and "-r" only once and in that order. An
 * invalid or final token is sticky.
 */
static void apk_next(struct apk_cursor *c)
{
    const char *start;

    if (c->tok >= APK_TOK_END) {
        return;
    }
    if (*c->p == '\0') {
        c->tok = APK_TOK_END;
        return;
    }
    if (is_lower(*c->p)) {
        if (c->tok > APK_TOK_DIGIT) {
            c->tok = APK_TOK_INVALID;
            return;
        }
        c->val = c->p;
        c->val_len = 1;
        c->tok = APK_TOK_LETTER;
        c->p++;
        return;
    }
    switch (*c->p) {
    case '.':
        if (c->tok > APK_TOK_DIGIT) {
            c->tok = APK_TOK_INVALID;
            return;
        }
        c->p++;
        apk_digits(c, APK_TOK_DIGIT);
        return;
    case '_':
        if (c->tok > APK_TOK_SUFFIX_NO) {
            c->tok = APK_TOK_INVALID;
            return;
        }
        c->p++;
        start = c->p;
        while (is_lower(*c->p)) {
            c->p++;
        }
        c->val = start;
        c->val_len = (size_t)(c->p - start);
        c->suffix = apk_suffix_of(start, c->val_len);
        c->tok = c->suffix == APK_SUF_INVALID ? APK_TOK_INVALID : APK_TOK_SUFFIX;
        return;
    case '~':
        if (c->tok >= APK_TOK_COMMIT_HASH) {
            c->tok = APK_TOK_INVALID;
            return;
        }
        c->p++;
        start = c->p;
        while (is_hex(*c->p)) {
            c->p++;
        }
        c->val = start;
        c->val_len = (size_t)(c->p - start);
        c->tok = c->val_len > 0 ? APK_TOK_COMMIT_HASH : APK_TOK_INVALID;
        return;
    case '-':
        if (c->tok >= APK_TOK_REVISION_NO || c->p[1] != 'r') {
            c->tok = APK_TOK_INVALID;
            return;
        }
        c->p += 2;
        apk_digits(c, APK_TOK_REVISION_NO);
        return;
    default:
        /* A digit can only follow a suffix name (all other digit runs are
         * read whole); anything else is not part of the grammar. */
        if (is_digit((unsigned char)*c->p) && c->tok == APK_TOK_SUFFIX) {
            apk_digits(c, APK_TOK_SUFFIX_NO);
            return;
        }
        c->tok = APK_TOK_INVALID;
        return;
    }
}

/* Byte-string order, a proper prefix first. */
static int apk_str_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);

    if (r != 0) {
        return sign_of(r);
    }
    return (an > bn) - (an < bn);
}

/* Exact numeric order of two non-empty digit strings of any length. */
static int apk_num_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    while (an > 1 && *a == '0') {
        a++;
        an--;
    }
    while (bn > 1 && *b == '0') {
        b++;
        bn--;
    }
    if (an != bn) {
        return an < bn ? -1 : 1;
    }
    return sign_of(memcmp(a, b, an));
}

/* Two tokens of the same kind. */
static int apk_tok_cmp(const struct apk_cursor *a, const struct apk_cursor *b)
{
    switch (a->tok) {
    case APK_TOK_DIGIT:
        /* Gentoo's rule for a fractional part with a leading zero. */
        if (a->val[0] == '0' || b->val[0] == '0') {
            return apk_str_cmp(a->val, a->val_len, b->val, b->val_len);
        }
        return apk_num_cmp(a->val, a->val_len, b->val, b->val_len);
    case APK_TOK_INITIAL_DIGIT:
    case APK_TOK_SUFFIX_NO:
    case APK_TOK_REVISION_NO:
        return apk_num_cmp(a->val, a->val_len, b->val, b->val_len);
    case APK_TOK_SUFFIX:
        return (a->suffix > b->suffix) - (a->suffix < b->suffix);
    case APK_TOK_LETTER:
    case APK_TOK_COMMIT_HASH:
    default:
        return apk_str_cmp(a->val, a->val_len, b->val, b->val_len);
    }
}

bool att_apkver_valid(const char *v)
{
    struct apk_cursor c;

    if (v == NULL) {
        return false;
    }
    apk_first(&c, v);
    while (c.tok < APK_TOK_END) {
        apk_next(&c);
    }
    return c.tok == APK_TOK_END;
}

int att_apkver_cmp(const char *a, const char *b)
{
    struct apk_cursor ca;
    struct apk_cursor cb;

    if (a == NULL || b == NULL) {
        return (a != NULL) - (b != NULL);
    }
    apk_first(&ca, a);
    apk_first(&cb, b);
    while (ca.tok == cb.tok && ca.tok < APK_TOK_END) {
        int r = apk_tok_cmp(&ca, &cb);

        if (r != 0) {
            return r;
        }
        apk_next(&ca);
        apk_next(&cb);
    }
    if (ca.tok == cb.tok) {
        return 0;
    }
    if (ca.tok == APK_TOK_SUFFIX && ca.suffix < APK_SUF_NONE) {
        return -1;
    }
    if (cb.tok == APK_TOK_SUFFIX && cb.suffix < APK_SUF_NONE) {
        return 1;
    }
    return ca.tok > cb.tok ? -1 : 1;
}
