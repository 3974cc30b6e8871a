/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for attest/imalog.h: the IMA binary measurement list (ima-ng,
 * ima-buf; shared/notes/measurement-facts.md §2). Negative cases come first:
 * NULL/empty input, truncation at every length, every value of every byte of
 * every length word, oversized lengths, trailing garbage, bad template/field
 * contents, and every single-bit flip against the replayed PCR. Then round
 * trips, replay against an independently computed extend chain, violations,
 * hand-worked ascii lines, and a cross-check with evmctl (ima-evm-utils).
 * Digests for the independent checks come straight from OpenSSL EVP, not
 * from attest/digest.h, so a bug there cannot hide one here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest/buf.h"
#include "attest/imalog.h"
#include "attest/util.h"

extern char **environ;

#define LOG_PCR  15u
#define WHY_SIZE 256
#define BUF_MAX  (1u << 22)

/* ---- helpers -------------------------------------------------------- */

static void ref_digest(const EVP_MD *md, const void *a, size_t alen, const void *b, size_t blen,
                       uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, a, alen), 1);
    if (blen > 0) {
        assert_int_equal(EVP_DigestUpdate(ctx, b, blen), 1);
    }
    assert_int_equal(EVP_DigestFinal_ex(ctx, out, NULL), 1);
    EVP_MD_CTX_free(ctx);
}

static void ref_sha1(const void *p, size_t len, uint8_t out[20])
{
    ref_digest(EVP_sha1(), p, len, NULL, 0, out);
}

static void ref_sha256(const void *p, size_t len, uint8_t out[32])
{
    ref_digest(EVP_sha256(), p, len, NULL, 0, out);
}

static void ref_extend(uint8_t pcr[32], const uint8_t d[32])
{
    uint8_t next[32];

    ref_digest(EVP_sha256(), pcr, 32, d, 32, next);
    memcpy(pcr, next, 32);
}

static void assert_why(const char *why, const char *sub)
{
    if (strstr(why, sub) == NULL) {
        print_error("why \"%s\" does not contain \"%s\"\n", why, sub);
        fail();
    }
}

static void put_u32(struct att_buf *b, uint32_t v)
{
    assert_int_equal(att_buf_append_u32le(b, v), ATT_OK);
}

static void put_bytes(struct att_buf *b, const void *p, size_t len)
{
    assert_int_equal(att_buf_append(b, p, len), ATT_OK);
}

static void put_field(struct att_buf *b, const void *p, size_t len)
{
    put_u32(b, (uint32_t)len);
    put_bytes(b, p, len);
}

/* d-ng field "<algo>:\0<digest>" */
static void put_dng(struct att_buf *b, const char *algo, const uint8_t *dig, size_t dlen)
{
    struct att_buf f;

    att_buf_init(&f, BUF_MAX);
    put_bytes(&f, algo, strlen(algo));
    put_bytes(&f, ":", 2); /* ':' and its NUL */
    put_bytes(&f, dig, dlen);
    put_field(b, f.data, f.len);
    att_buf_cleanup(&f);
}

/* n-ng field from a C string, NUL counted */
static void put_nng(struct att_buf *b, const char *name)
{
    put_field(b, name, strlen(name) + 1);
}

/*
 * A record around arbitrary template data; the header digest is SHA-1 of
 * the data so that only the property under test is wrong.
 */
static void put_record_n(struct att_buf *out, uint32_t pcr, const char *tname, size_t tname_len,
                         const struct att_buf *data)
{
    uint8_t td[20];

    ref_sha1(data->data != NULL ? (const void *)data->data : "", data->len, td);
    put_u32(out, pcr);
    put_bytes(out, td, sizeof(td));
    put_u32(out, (uint32_t)tname_len);
    put_bytes(out, tname, tname_len);
    put_u32(out, (uint32_t)data->len);
    put_bytes(out, data->data, data->len);
}

static void put_record(struct att_buf *out, uint32_t pcr, const char *tname,
                       const struct att_buf *data)
{
    put_record_n(out, pcr, tname, strlen(tname), data);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
    /* exact-size heap copy, so ASan sees any read past the end */
    uint8_t *c = malloc(len > 0 ? len : 1);

    assert_non_null(c);
    if (len > 0) {
        memcpy(c, p, len);
    }
    return c;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void set_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/*
 * The valid three-record log every mutation test starts from: an ima-ng
 * entry, an ima-ng entry whose name has a space, and an ima-buf entry; all
 * on LOG_PCR. bounds[i] is where record i starts, bounds[3] the length.
 */
static void make_log3(struct att_buf *out, size_t bounds[4])
{
    struct att_ima_entry e;
    uint8_t d[32];
    static const uint8_t payload[] = "manifest-digest||config-digest";

    att_buf_init(out, BUF_MAX);
    bounds[0] = 0;
    memset(d, 0xa1, sizeof(d));
    assert_int_equal(att_ima_entry_build_ng(&e, LOG_PCR, d, "/usr/bin/foo"), ATT_OK);
    assert_int_equal(att_ima_entry_encode(&e, out), ATT_OK);
    att_ima_entry_cleanup(&e);
    bounds[1] = out->len;
    memset(d, 0xb2, sizeof(d));
    assert_int_equal(att_ima_entry_build_ng(&e, LOG_PCR, d, "/opt/my app/run"), ATT_OK);
    assert_int_equal(att_ima_entry_encode(&e, out), ATT_OK);
    att_ima_entry_cleanup(&e);
    bounds[2] = out->len;
    assert_int_equal(att_ima_entry_build_buf(&e, LOG_PCR, "container-image:c0ffee", payload,
                                             sizeof(payload) - 1),
                     ATT_OK);
    assert_int_equal(att_ima_entry_encode(&e, out), ATT_OK);
    att_ima_entry_cleanup(&e);
    bounds[3] = out->len;
}

/* The replay of make_log3 computed without imalog: sha256 chain over sha256(data). */
static void log3_expected_pcr(const struct att_buf *log, const size_t bounds[4], uint8_t pcr[32])
{
    size_t i;

    memset(pcr, 0, 32);
    for (i = 0; i < 3; i++) {
        const uint8_t *r = log->data + bounds[i];
        uint32_t nl = get_u32(r + 24);
        uint32_t dl = get_u32(r + 28 + nl);
        uint8_t d[32];

        ref_sha256(r + 32 + nl, dl, d);
        ref_extend(pcr, d);
    }
}

/* Record index that byte offset pos falls in. */
static size_t record_of(const size_t bounds[4], size_t pos)
{
    size_t k = 0;

    while (k < 2 && pos >= bounds[k + 1]) {
        k++;
    }
    return k;
}

/*
 * Offsets of every u32 length word (template_name_len, template_data_len and
 * each field length) of a log known to be valid.
 */
static size_t length_words(const uint8_t *log, size_t len, size_t *pos, size_t max)
{
    size_t n = 0;
    size_t off = 0;

    while (off < len) {
        size_t nl = get_u32(log + off + 24);
        size_t dl_off = off + 28 + nl;
        size_t d = dl_off + 4;
        size_t end = d + get_u32(log + dl_off);

        assert_true(n + 2 <= max);
        pos[n++] = off + 24;
        pos[n++] = dl_off;
        while (d < end) {
            assert_true(n < max);
            pos[n++] = d;
            d += 4 + get_u32(log + d);
        }
        off = end;
    }
    return n;
}

/* Parse one crafted record alone and as a log; both must fail naming sub. */
static void expect_record_rejected(const struct att_buf *rec, const char *sub)
{
    struct att_ima_entry e;
    struct att_ima_log log;
    size_t consumed = 12345;
    size_t whole = 999;
    char why[WHY_SIZE];
    uint8_t *copy = dup_bytes(rec->data, rec->len);

    memset(&e, 0, sizeof(e));
    assert_int_equal(att_ima_entry_parse(copy, rec->len, &e, &consumed, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_why(why, sub);
    assert_int_equal(consumed, 12345); /* untouched on failure */
    assert_null(e.data);

    att_ima_log_init(&log);
    assert_int_equal(att_ima_log_parse(copy, rec->len, 16, &log, why, sizeof(why)), ATT_ERR_PARSE);
    assert_why(why, "record 0: ");
    assert_why(why, sub);
    assert_int_equal(log.count, 0);
    assert_int_equal(att_ima_log_parse_prefix(copy, rec->len, &log, &whole), ATT_OK);
    assert_int_equal(whole, 0);
    assert_int_equal(log.count, 0);
    att_ima_log_cleanup(&log);
    free(copy);
}

/* ---- negative: arguments -------------------------------------------- */

static void test_entry_parse_null_args(void **state)
{
    struct att_ima_entry e;
    size_t consumed = 0;
    char why[WHY_SIZE];
    const uint8_t one = 0;

    (void)state;
    assert_int_equal(att_ima_entry_parse(NULL, 10, &e, &consumed, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_parse(&one, 1, NULL, &consumed, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_parse(&one, 1, &e, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    /* why is optional */
    assert_int_equal(att_ima_entry_parse(&one, 1, &e, &consumed, NULL, 0), ATT_ERR_PARSE);
    assert_int_equal(att_ima_entry_parse(&one, 1, &e, &consumed, why, 0), ATT_ERR_PARSE);
}

static void test_entry_parse_empty(void **state)
{
    struct att_ima_entry e;
    size_t consumed = 0;
    char why[WHY_SIZE];
    const uint8_t one = 0;

    (void)state;
    assert_int_equal(att_ima_entry_parse(&one, 0, &e, &consumed, why, sizeof(why)), ATT_ERR_PARSE);
    assert_why(why, "truncated in pcr");
    assert_int_equal(att_ima_entry_parse(NULL, 0, &e, &consumed, why, sizeof(why)), ATT_ERR_PARSE);
}

static void test_log_parse_null_and_empty(void **state)
{
    struct att_ima_log log;
    size_t whole = 7;
    char why[WHY_SIZE];
    const uint8_t one = 0;

    (void)state;
    att_ima_log_init(&log);
    assert_int_equal(att_ima_log_parse(&one, 1, 16, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_log_parse(NULL, 5, 16, &log, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_log_parse_prefix(NULL, 5, &log, &whole), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_log_parse_prefix(&one, 1, NULL, &whole), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_log_parse_prefix(&one, 1, &log, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(whole, 7);

    /*
     * An empty list (no measurement yet; att_buf gives NULL data for an empty
     * file) has no records and replays to the initial value.
     */
    assert_int_equal(att_ima_log_parse(NULL, 0, 16, &log, why, sizeof(why)), ATT_OK);
    assert_int_equal(att_ima_log_parse(&one, 0, 0, &log, why, sizeof(why)), ATT_OK);
    assert_int_equal(log.count, 0);
    assert_int_equal(att_ima_log_parse_prefix(NULL, 0, &log, &whole), ATT_OK);
    assert_int_equal(whole, 0);
    assert_int_equal(log.count, 0);
    att_ima_log_cleanup(&log);
    att_ima_log_cleanup(NULL);
    att_ima_entry_cleanup(NULL);
}

static void test_entry_build_invalid_args(void **state)
{
    struct att_ima_entry e;
    uint8_t d[32] = {1};
    char *longname = malloc(ATT_IMA_MAX_EVENT_NAME + 2);
    uint8_t *big = calloc(1, ATT_IMA_MAX_BUF + 1);

    (void)state;
    assert_non_null(longname);
    assert_non_null(big);
    memset(longname, 'a', ATT_IMA_MAX_EVENT_NAME + 1);
    longname[ATT_IMA_MAX_EVENT_NAME + 1] = '\0';

    assert_int_equal(att_ima_entry_build_ng(NULL, 10, d, "x"), ATT_ERR_INVALID_ARG);
    memset(&e, 0x5a, sizeof(e));
    assert_int_equal(att_ima_entry_build_ng(&e, 10, NULL, "x"), ATT_ERR_INVALID_ARG);
    assert_null(e.data); /* zeroed on failure, never half-built */
    assert_null(e.name);
    assert_int_equal(att_ima_entry_build_ng(&e, 10, d, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_ng(&e, 10, d, ""), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_ng(&e, 10, d, longname), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_ng(&e, 24, d, "x"), ATT_ERR_INVALID_ARG);

    assert_int_equal(att_ima_entry_build_buf(NULL, 10, "x", big, 1), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_buf(&e, 10, "x", NULL, 1), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_buf(&e, 10, "", big, 1), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_buf(&e, 10, longname, big, 1), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_buf(&e, 24, "x", big, 1), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_build_buf(&e, 10, "x", big, ATT_IMA_MAX_BUF + 1),
                     ATT_ERR_INVALID_ARG);
    assert_null(e.buf);
    att_ima_entry_cleanup(&e);

    /* longest name accepted */
    longname[ATT_IMA_MAX_EVENT_NAME] = '\0';
    assert_int_equal(att_ima_entry_build_ng(&e, 10, d, longname), ATT_OK);
    att_ima_entry_cleanup(&e);
    free(longname);
    free(big);
}

static void test_entry_encode_invalid(void **state)
{
    struct att_ima_entry e;
    struct att_buf out;
    uint8_t d[32] = {1};
    size_t need;

    (void)state;
    att_buf_init(&out, BUF_MAX);
    memset(&e, 0, sizeof(e));
    assert_int_equal(att_ima_entry_encode(NULL, &out), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_encode(&e, &out), ATT_ERR_INVALID_ARG); /* empty entry */
    assert_int_equal(att_ima_entry_build_ng(&e, 10, d, "/bin/sh"), ATT_OK);
    assert_int_equal(att_ima_entry_encode(&e, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_encode(&e, &out), ATT_OK);
    need = out.len;
    att_buf_cleanup(&out);

    /* a cap one byte short fails and leaves no half record behind */
    att_buf_init(&out, need + 3);
    assert_int_equal(att_buf_append(&out, "abc", 3), ATT_OK);
    out.max = need + 2;
    assert_int_equal(att_ima_entry_encode(&e, &out), ATT_ERR_PARSE);
    assert_int_equal(out.len, 3);
    assert_int_equal(out.data[3], 0);
    out.max = need + 3;
    assert_int_equal(att_ima_entry_encode(&e, &out), ATT_OK);
    assert_int_equal(out.len, need + 3);

    /* the same for ascii */
    att_buf_reset(&out);
    out.max = 20;
    assert_int_equal(att_ima_entry_ascii(&e, &out), ATT_ERR_PARSE);
    assert_int_equal(out.len, 0);
    assert_int_equal(att_ima_entry_ascii(NULL, &out), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_ascii(&e, NULL), ATT_ERR_INVALID_ARG);
    att_ima_entry_cleanup(&e);
    assert_int_equal(att_ima_entry_ascii(&e, &out), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_bank_digests(NULL, NULL, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_entry_bank_digests(&e, NULL, NULL), ATT_ERR_INVALID_ARG);
    att_buf_cleanup(&out);
}

/* ---- negative: truncation and length words ------------------------- */

static void test_log_parse_truncated_every_length(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    uint8_t full_pcr[32];
    size_t cut;

    (void)state;
    make_log3(&log, bounds);
    log3_expected_pcr(&log, bounds, full_pcr);

    for (cut = 0; cut < log.len; cut++) {
        struct att_ima_log l;
        uint8_t *copy = dup_bytes(log.data, cut);
        char why[WHY_SIZE];
        size_t whole = 0;
        size_t k = record_of(bounds, cut);
        bool at_boundary = cut == bounds[k];
        att_rc rc;

        att_ima_log_init(&l);
        rc = att_ima_log_parse(copy, cut, 16, &l, why, sizeof(why));
        if (at_boundary) {
            /*
             * The binary list has no terminator: a cut between records is a
             * shorter, well-formed list, which only the PCR can tell apart.
             */
            uint8_t v[32] = {0};

            assert_int_equal(rc, ATT_OK);
            assert_int_equal(l.count, k);
            assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, v, NULL), ATT_OK);
            assert_memory_not_equal(v, full_pcr, 32);
        } else {
            char want[32];

            assert_int_equal(rc, ATT_ERR_PARSE);
            assert_int_equal(l.count, 0); /* nothing appended on failure */
            (void)snprintf(want, sizeof(want), "record %zu: truncated in", k);
            assert_why(why, want);
        }
        att_ima_log_cleanup(&l);

        assert_int_equal(att_ima_log_parse_prefix(copy, cut, &l, &whole), ATT_OK);
        assert_int_equal(whole, bounds[k]);
        assert_int_equal(l.count, k);
        att_ima_log_cleanup(&l);

        /* a single record cut anywhere is rejected on its own too */
        if (cut < bounds[1]) {
            struct att_ima_entry e;
            size_t consumed = 0;

            assert_int_equal(att_ima_entry_parse(copy, cut, &e, &consumed, why, sizeof(why)),
                             ATT_ERR_PARSE);
            assert_why(why, "truncated in");
        }
        free(copy);
    }
    att_buf_cleanup(&log);
}

static void test_log_parse_every_length_byte_value(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    size_t pos[32];
    size_t npos;
    size_t i;
    unsigned tried = 0;

    (void)state;
    make_log3(&log, bounds);
    npos = length_words(log.data, log.len, pos, 32);
    assert_int_equal(npos, 4 + 4 + 5); /* buf record has 3 fields */

    for (i = 0; i < npos; i++) {
        size_t b;

        for (b = pos[i]; b < pos[i] + 4; b++) {
            unsigned v;
            size_t k = record_of(bounds, b);

            for (v = 0; v < 256; v++) {
                uint8_t *copy;
                struct att_ima_log l;
                size_t whole = 0;
                char why[WHY_SIZE];
                char want[32];

                if (v == log.data[b]) {
                    continue;
                }
                copy = dup_bytes(log.data, log.len);
                copy[b] = (uint8_t)v;
                att_ima_log_init(&l);
                assert_int_equal(att_ima_log_parse(copy, log.len, 16, &l, why, sizeof(why)),
                                 ATT_ERR_PARSE);
                (void)snprintf(want, sizeof(want), "record %zu: ", k);
                assert_why(why, want);
                assert_int_equal(l.count, 0);
                assert_int_equal(att_ima_log_parse_prefix(copy, log.len, &l, &whole), ATT_OK);
                assert_int_equal(whole, bounds[k]);
                assert_int_equal(l.count, k);
                att_ima_log_cleanup(&l);
                free(copy);
                tried++;
            }
        }
    }
    assert_int_equal(tried, npos * 4 * 255);
    att_buf_cleanup(&log);
}

static void test_log_parse_oversized_lengths(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    size_t pos[32];
    size_t npos;
    size_t i;
    static const char *const want[] = {
        "record 0: template_name_len 4294967295 out of range 1..15",
        "record 0: template_data_len 4294967295 exceeds limit 69888",
        "record 0: d-ng: field length 4294967295 exceeds",
        "record 0: n-ng: field length 4294967295 exceeds",
        "record 1: template_name_len 4294967295",
        "record 1: template_data_len 4294967295",
        "record 1: d-ng: field length 4294967295",
        "record 1: n-ng: field length 4294967295",
        "record 2: template_name_len 4294967295",
        "record 2: template_data_len 4294967295",
        "record 2: d-ng: field length 4294967295",
        "record 2: n-ng: field length 4294967295",
        "record 2: buf: field length 4294967295",
    };

    (void)state;
    make_log3(&log, bounds);
    npos = length_words(log.data, log.len, pos, 32);
    assert_int_equal(npos, sizeof(want) / sizeof(want[0]));
    for (i = 0; i < npos; i++) {
        uint8_t *copy = dup_bytes(log.data, log.len);
        struct att_ima_log l;
        char why[WHY_SIZE];

        set_u32(copy + pos[i], 0xffffffffu);
        att_ima_log_init(&l);
        assert_int_equal(att_ima_log_parse(copy, log.len, 16, &l, why, sizeof(why)), ATT_ERR_PARSE);
        assert_why(why, want[i]);
        att_ima_log_cleanup(&l);
        free(copy);
    }
    att_buf_cleanup(&log);
}

static void test_entry_parse_data_len_over_limit(void **state)
{
    struct att_buf rec;
    uint8_t *zeros = calloc(1, ATT_IMA_MAX_DATA + 1);
    uint8_t td[20] = {0};

    (void)state;
    assert_non_null(zeros);
    /* every byte present, so only the limit can reject it */
    att_buf_init(&rec, BUF_MAX);
    put_u32(&rec, 10);
    put_bytes(&rec, td, sizeof(td));
    put_field(&rec, "ima-buf", 7);
    put_field(&rec, zeros, ATT_IMA_MAX_DATA + 1);
    expect_record_rejected(&rec, "template_data_len 69889 exceeds limit 69888");
    att_buf_cleanup(&rec);
    free(zeros);
}

static void test_log_parse_trailing_garbage(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    static const uint8_t junk[40] = {0xaa};
    size_t extra;

    (void)state;
    make_log3(&log, bounds);
    for (extra = 1; extra <= sizeof(junk); extra++) {
        struct att_buf l2;
        struct att_ima_log l;
        char why[WHY_SIZE];
        size_t whole = 0;
        uint8_t *copy;

        att_buf_init(&l2, BUF_MAX);
        put_bytes(&l2, log.data, log.len);
        put_bytes(&l2, junk, extra);
        copy = dup_bytes(l2.data, l2.len);
        att_ima_log_init(&l);
        assert_int_equal(att_ima_log_parse(copy, l2.len, 16, &l, why, sizeof(why)), ATT_ERR_PARSE);
        assert_why(why, "record 3: ");
        assert_int_equal(l.count, 0);
        assert_int_equal(att_ima_log_parse_prefix(copy, l2.len, &l, &whole), ATT_OK);
        assert_int_equal(whole, log.len);
        assert_int_equal(l.count, 3);
        att_ima_log_cleanup(&l);
        free(copy);
        att_buf_cleanup(&l2);
    }
    att_buf_cleanup(&log);
}

static void test_log_parse_max_entries(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    struct att_ima_log l;
    char why[WHY_SIZE];

    (void)state;
    make_log3(&log, bounds);
    att_ima_log_init(&l);
    assert_int_equal(att_ima_log_parse(log.data, log.len, 2, &l, why, sizeof(why)), ATT_ERR_PARSE);
    assert_why(why, "record 2: more than 2 records");
    assert_int_equal(l.count, 0);
    assert_int_equal(att_ima_log_parse(log.data, log.len, 0, &l, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(att_ima_log_parse(log.data, log.len, 3, &l, why, sizeof(why)), ATT_OK);
    assert_int_equal(l.count, 3);
    assert_string_equal(why, "");

    /* entries are appended; a failing parse leaves the earlier ones alone */
    assert_int_equal(att_ima_log_parse(log.data, log.len - 1, 16, &l, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_int_equal(l.count, 3);
    assert_int_equal(att_ima_log_parse(log.data, log.len, 16, &l, why, sizeof(why)), ATT_OK);
    assert_int_equal(l.count, 6);
    assert_string_equal(l.entries[5].name, "container-image:c0ffee");
    att_ima_log_cleanup(&l);
    att_buf_cleanup(&log);
}

/* ---- negative: record contents -------------------------------------- */

static void test_entry_parse_unknown_template(void **state)
{
    static const char *const names[] = {"ima-sig", "ima",      "IMA-NG", "ima-ng ",
                                        "ima-bu",  "ima-ngv2", "evm-sig"};
    struct att_buf data;
    uint8_t d[32] = {3};
    size_t i;

    (void)state;
    att_buf_init(&data, BUF_MAX);
    put_dng(&data, "sha256", d, 32);
    put_nng(&data, "/bin/true");
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct att_buf rec;
        char want[64];

        att_buf_init(&rec, BUF_MAX);
        put_record(&rec, 10, names[i], &data);
        (void)snprintf(want, sizeof(want), "template_name \"%s\" not supported", names[i]);
        expect_record_rejected(&rec, want);
        att_buf_cleanup(&rec);
    }
    {
        struct att_buf rec;

        /* control bytes are escaped in the message */
        att_buf_init(&rec, BUF_MAX);
        put_record_n(&rec, 10, "im\na\x01", 5, &data);
        expect_record_rejected(&rec, "template_name \"im\\x0aa\\x01\" not supported");
        att_buf_reset(&rec);
        put_record_n(&rec, 10, "", 0, &data);
        expect_record_rejected(&rec, "template_name_len 0 out of range 1..15");
        att_buf_reset(&rec);
        put_record_n(&rec, 10, "ima-ng-too-long!", 16, &data);
        expect_record_rejected(&rec, "template_name_len 16 out of range 1..15");
        att_buf_cleanup(&rec);
    }
    att_buf_cleanup(&data);
}

static void test_entry_parse_pcr_out_of_range(void **state)
{
    struct att_buf data;
    struct att_buf rec;
    uint8_t d[32] = {3};
    struct att_ima_entry e;
    size_t consumed = 0;
    char why[WHY_SIZE];

    (void)state;
    att_buf_init(&data, BUF_MAX);
    att_buf_init(&rec, BUF_MAX);
    put_dng(&data, "sha256", d, 32);
    put_nng(&data, "/bin/true");
    put_record(&rec, 24, "ima-ng", &data);
    expect_record_rejected(&rec, "pcr 24 out of range 0..23");
    att_buf_reset(&rec);
    put_record(&rec, 0xffffffffu, "ima-ng", &data);
    expect_record_rejected(&rec, "pcr 4294967295 out of range");
    att_buf_reset(&rec);
    put_record(&rec, 23, "ima-ng", &data);
    assert_int_equal(att_ima_entry_parse(rec.data, rec.len, &e, &consumed, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(e.pcr, 23);
    assert_int_equal(consumed, rec.len);
    att_ima_entry_cleanup(&e);
    att_buf_cleanup(&rec);
    att_buf_cleanup(&data);
}

static void test_entry_parse_bad_nng(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *why;
    } cases[] = {
        {"abc", 3, "n-ng: not NUL-terminated"},
        {"ab\0c\0", 5, "n-ng: NUL inside the name at offset 2"},
        {"\0abc\0", 5, "n-ng: NUL inside the name at offset 0"},
        {"\0", 1, "n-ng: length 1 out of range 2..4097"},
        {"", 0, "n-ng: length 0 out of range"},
    };
    uint8_t d[32] = {3};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct att_buf data;
        struct att_buf rec;

        att_buf_init(&data, BUF_MAX);
        att_buf_init(&rec, BUF_MAX);
        put_dng(&data, "sha256", d, 32);
        put_field(&data, cases[i].bytes, cases[i].len);
        put_record(&rec, 10, "ima-ng", &data);
        expect_record_rejected(&rec, cases[i].why);
        att_buf_cleanup(&rec);
        att_buf_cleanup(&data);
    }
}

static void test_entry_parse_nng_length_limit(void **state)
{
    char *name = malloc(ATT_IMA_MAX_EVENT_NAME + 2);
    struct att_buf data;
    struct att_buf rec;
    uint8_t d[32] = {3};
    struct att_ima_entry e;
    size_t consumed = 0;
    char why[WHY_SIZE];

    (void)state;
    assert_non_null(name);
    memset(name, 'n', ATT_IMA_MAX_EVENT_NAME + 1);
    name[ATT_IMA_MAX_EVENT_NAME + 1] = '\0';
    att_buf_init(&data, BUF_MAX);
    att_buf_init(&rec, BUF_MAX);
    put_dng(&data, "sha256", d, 32);
    put_nng(&data, name);
    put_record(&rec, 10, "ima-ng", &data);
    expect_record_rejected(&rec, "n-ng: length 4098 out of range 2..4097");

    /* exactly the limit is fine */
    name[ATT_IMA_MAX_EVENT_NAME] = '\0';
    att_buf_reset(&data);
    att_buf_reset(&rec);
    put_dng(&data, "sha256", d, 32);
    put_nng(&data, name);
    put_record(&rec, 10, "ima-ng", &data);
    assert_int_equal(att_ima_entry_parse(rec.data, rec.len, &e, &consumed, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(strlen(e.name), ATT_IMA_MAX_EVENT_NAME);
    att_ima_entry_cleanup(&e);
    att_buf_cleanup(&rec);
    att_buf_cleanup(&data);
    free(name);
}

static void test_entry_parse_bad_dng(void **state)
{
    static const struct {
        const char *algo; /* written as is, then ":\0" unless raw */
        size_t dlen;
        uint8_t fill;
        const char *why;
    } cases[] = {
        {"sha256", 20, 0x11, "d-ng: digest length 20 does not match sha256 (32)"},
        {"sha256", 31, 0x11, "d-ng: digest length 31 does not match sha256 (32)"},
        {"sha256", 33, 0x11, "d-ng: digest length 33 does not match sha256 (32)"},
        {"sha256", 0, 0x11, "d-ng: digest length 0 does not match sha256 (32)"},
        {"sha1", 32, 0x11, "d-ng: digest length 32 does not match sha1 (20)"},
        {"sha384", 32, 0x11, "d-ng: digest length 32 does not match sha384 (48)"},
        {"sha512", 48, 0x00, "d-ng: digest length 48 does not match sha512 (64)"},
        {"sha256", 21, 0x00, "d-ng: digest length 21 does not match sha256 (32)"},
        {"md5", 16, 0x11, "d-ng: unknown hash algo \"md5\""},
        {"SHA256", 32, 0x11, "d-ng: unknown hash algo \"SHA256\""},
        {"sha256sha256sha2", 32, 0x11, "d-ng: hash algo longer than 15 bytes"},
        {"sha 256", 32, 0x11, "d-ng: hash algo has non-printable byte 0x20 at offset 3"},
        {"", 32, 0x11, "d-ng: empty hash algo"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct att_buf data;
        struct att_buf rec;
        uint8_t dig[64];

        memset(dig, cases[i].fill, sizeof(dig));
        att_buf_init(&data, BUF_MAX);
        att_buf_init(&rec, BUF_MAX);
        put_dng(&data, cases[i].algo, dig, cases[i].dlen);
        put_nng(&data, "/bin/true");
        put_record(&rec, 10, "ima-ng", &data);
        expect_record_rejected(&rec, cases[i].why);
        att_buf_cleanup(&rec);
        att_buf_cleanup(&data);
    }
    {
        /* separators: no ':' at all, ':' without its NUL, NUL byte in the algo */
        static const struct {
            const char *bytes;
            size_t len;
            const char *why;
        } raw[] = {
            {"sha256", 6, "d-ng: no ':' after the hash algo"},
            {"sha256:", 7, "d-ng: ':' not followed by NUL"},
            {"sha256:x0123456789012345678901234567890", 39, "d-ng: ':' not followed by NUL"},
            {"sha\000256:", 8, "d-ng: hash algo has non-printable byte 0x00 at offset 3"},
            {"", 0, "d-ng: no ':' after the hash algo"},
        };

        for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
            struct att_buf data;
            struct att_buf rec;

            att_buf_init(&data, BUF_MAX);
            att_buf_init(&rec, BUF_MAX);
            put_field(&data, raw[i].bytes, raw[i].len);
            put_nng(&data, "/bin/true");
            put_record(&rec, 10, "ima-ng", &data);
            expect_record_rejected(&rec, raw[i].why);
            att_buf_cleanup(&rec);
            att_buf_cleanup(&data);
        }
    }
}

static void test_entry_parse_field_count(void **state)
{
    struct att_buf data;
    struct att_buf rec;
    uint8_t d[32] = {3};

    (void)state;
    att_buf_init(&data, BUF_MAX);
    att_buf_init(&rec, BUF_MAX);

    /* ima-ng with only d-ng */
    put_dng(&data, "sha256", d, 32);
    put_record(&rec, 10, "ima-ng", &data);
    expect_record_rejected(&rec, "n-ng: field length truncated");

    /* ima-buf without its buf field */
    att_buf_reset(&rec);
    put_nng(&data, "kexec-cmdline");
    put_record(&rec, 10, "ima-buf", &data);
    expect_record_rejected(&rec, "buf: field length truncated");

    /* ima-ng with a third field: the lengths must add up to template_data_len */
    att_buf_reset(&rec);
    put_field(&data, "xyz", 3);
    put_record(&rec, 10, "ima-ng", &data);
    expect_record_rejected(&rec, "template_data: 7 bytes after the last field");

    /* ima-ng with 2 stray bytes after n-ng */
    att_buf_reset(&data);
    att_buf_reset(&rec);
    put_dng(&data, "sha256", d, 32);
    put_nng(&data, "/bin/true");
    put_bytes(&data, "\0\0", 2);
    put_record(&rec, 10, "ima-ng", &data);
    expect_record_rejected(&rec, "template_data: 2 bytes after the last field");
    att_buf_reset(&rec);
    put_record(&rec, 10, "ima-buf", &data);
    expect_record_rejected(&rec, "buf: field length truncated: need 4 bytes, 2 left");

    /* empty template data */
    att_buf_reset(&data);
    att_buf_reset(&rec);
    put_record(&rec, 10, "ima-ng", &data);
    expect_record_rejected(&rec, "d-ng: field length truncated");
    att_buf_cleanup(&rec);
    att_buf_cleanup(&data);
}

static void test_entry_parse_buf_over_limit(void **state)
{
    uint8_t *payload = calloc(1, ATT_IMA_MAX_BUF + 1);
    struct att_buf data;
    struct att_buf rec;
    uint8_t d[32] = {3};

    (void)state;
    assert_non_null(payload);
    att_buf_init(&data, BUF_MAX);
    att_buf_init(&rec, BUF_MAX);
    put_dng(&data, "sha256", d, 32);
    put_nng(&data, "x");
    put_field(&data, payload, ATT_IMA_MAX_BUF + 1);
    assert_true(data.len <= ATT_IMA_MAX_DATA); /* so the buf limit is what rejects it */
    put_record(&rec, 10, "ima-buf", &data);
    expect_record_rejected(&rec, "buf: length 65537 exceeds limit 65536");
    att_buf_cleanup(&rec);
    att_buf_cleanup(&data);
    free(payload);
}

/* ---- negative: replay ------------------------------------------------ */

static void parse_log3(struct att_buf *log, size_t bounds[4], struct att_ima_log *l)
{
    char why[WHY_SIZE];

    make_log3(log, bounds);
    att_ima_log_init(l);
    assert_int_equal(att_ima_log_parse(log->data, log->len, 16, l, why, sizeof(why)), ATT_OK);
    assert_int_equal(l->count, 3);
}

static void test_replay_invalid_args(void **state)
{
    uint8_t v[32] = {0};
    struct att_ima_entry e;

    (void)state;
    memset(&e, 0, sizeof(e));
    assert_int_equal(att_ima_replay(NULL, 1, 10, v, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_replay(&e, 1, 10, NULL, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_replay(&e, 1, 24, v, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_replay(NULL, 0, 10, v, NULL), ATT_OK);
    assert_true(v[0] == 0 && memcmp(v, v + 1, 31) == 0); /* nothing replayed: unchanged */
}

static void test_replay_bad_template_digest(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    struct att_ima_log l;
    uint8_t v[32];
    uint8_t before[32];
    size_t bad = 99;
    size_t i;

    (void)state;
    parse_log3(&log, bounds, &l);
    memset(before, 0x77, sizeof(before));

    for (i = 0; i < 3; i++) {
        l.entries[i].template_digest[19] ^= 0x01;
        memcpy(v, before, 32);
        bad = 99;
        assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, v, &bad), ATT_ERR_VERIFY);
        assert_int_equal(bad, i);
        assert_memory_equal(v, before, 32); /* no half result */
        l.entries[i].template_digest[19] ^= 0x01;
    }
    /* data changed under a correct header digest */
    l.entries[2].data[l.entries[2].data_len - 1] ^= 0x80;
    assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, v, &bad), ATT_ERR_VERIFY);
    assert_int_equal(bad, 2);
    /* also when the bad record is on a PCR not being replayed */
    l.entries[2].pcr = 11;
    assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, v, NULL), ATT_ERR_VERIFY);
    l.entries[2].data[l.entries[2].data_len - 1] ^= 0x80;

    /* a zero header digest does not make a record a violation */
    memset(l.entries[0].template_digest, 0, 20);
    assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, v, &bad), ATT_ERR_VERIFY);
    assert_int_equal(bad, 0);
    att_ima_log_cleanup(&l);
    att_buf_cleanup(&log);
}

static void test_replay_violation_needs_zero_digest(void **state)
{
    struct att_ima_entry e;
    uint8_t zero[32] = {0};
    uint8_t v[32] = {0};
    size_t bad = 99;

    (void)state;
    assert_int_equal(att_ima_entry_build_ng(&e, LOG_PCR, zero, "/tmp/tomtou"), ATT_OK);
    assert_true(e.is_violation);
    e.template_digest[0] = 1;
    assert_int_equal(att_ima_replay(&e, 1, LOG_PCR, v, &bad), ATT_ERR_VERIFY);
    assert_int_equal(bad, 0);
    att_ima_entry_cleanup(&e);
}

/*
 * Mutation test (shared/STYLE.md §8): flip every bit of a valid log; the
 * result must never both parse and replay to the original PCR value.
 */
static void test_replay_every_bit_flip_rejected(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    uint8_t full_pcr[32];
    size_t bit;
    unsigned parsed = 0;

    (void)state;
    make_log3(&log, bounds);
    log3_expected_pcr(&log, bounds, full_pcr);
    for (bit = 0; bit < log.len * 8; bit++) {
        uint8_t *copy = dup_bytes(log.data, log.len);
        struct att_ima_log l;
        char why[WHY_SIZE];

        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        att_ima_log_init(&l);
        if (att_ima_log_parse(copy, log.len, 16, &l, why, sizeof(why)) == ATT_OK) {
            uint8_t v[32] = {0};
            att_rc rc = att_ima_replay(l.entries, l.count, LOG_PCR, v, NULL);

            parsed++;
            assert_true(rc == ATT_ERR_VERIFY ||
                        (rc == ATT_OK && memcmp(v, full_pcr, sizeof(v)) != 0));
        }
        att_ima_log_cleanup(&l);
        free(copy);
    }
    assert_true(parsed > 0); /* digests and the pcr field do parse; replay must catch them */
    att_buf_cleanup(&log);
}

/* ---- positive -------------------------------------------------------- */

static void test_entry_build_ng_layout(void **state)
{
    struct att_ima_entry e;
    struct att_buf out;
    uint8_t d[32];
    uint8_t sha1[20];
    size_t i;
    /* pcr 10, "ima-ng", data = u32 40 "sha256:\0" d[32] u32 4 "a b\0" */
    static const uint8_t head[] = {10, 0, 0, 0};
    static const uint8_t tname[] = {6, 0, 0, 0, 'i', 'm', 'a', '-', 'n', 'g', 52, 0, 0, 0};
    static const uint8_t dng_head[] = {40, 0, 0, 0, 's', 'h', 'a', '2', '5', '6', ':', 0};
    static const uint8_t nng[] = {4, 0, 0, 0, 'a', '_', 'b', 0};

    (void)state;
    for (i = 0; i < 32; i++) {
        d[i] = (uint8_t)(0xe0 + i);
    }
    assert_int_equal(att_ima_entry_build_ng(&e, 10, d, "a b"), ATT_OK);
    att_buf_init(&out, BUF_MAX);
    assert_int_equal(att_ima_entry_encode(&e, &out), ATT_OK);
    assert_int_equal(out.len, 4 + 20 + sizeof(tname) + 52);
    assert_memory_equal(out.data, head, 4);
    assert_memory_equal(out.data + 24, tname, sizeof(tname));
    assert_memory_equal(out.data + 38, dng_head, sizeof(dng_head));
    assert_memory_equal(out.data + 50, d, 32);
    assert_memory_equal(out.data + 82, nng, sizeof(nng)); /* space stored as '_', as the kernel does */
    ref_sha1(out.data + 38, 52, sha1);
    assert_memory_equal(out.data + 4, sha1, 20);
    assert_memory_equal(e.template_digest, sha1, 20);
    assert_int_equal(e.data_len, 52);
    assert_memory_equal(e.data, out.data + 38, 52);
    assert_false(e.is_violation);
    assert_null(e.buf);
    att_ima_entry_cleanup(&e);
    att_buf_cleanup(&out);
}

static void assert_entries_equal(const struct att_ima_entry *a, const struct att_ima_entry *b)
{
    assert_int_equal(a->pcr, b->pcr);
    assert_memory_equal(a->template_digest, b->template_digest, 20);
    assert_int_equal(a->tmpl, b->tmpl);
    assert_string_equal(a->hash_algo, b->hash_algo);
    assert_int_equal(a->digest_len, b->digest_len);
    assert_memory_equal(a->digest, b->digest, a->digest_len);
    assert_int_equal(a->is_violation, b->is_violation);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->buf_len, b->buf_len);
    if (a->buf == NULL || b->buf == NULL) {
        assert_ptr_equal(a->buf, b->buf);
    } else if (a->buf_len > 0) {
        assert_memory_equal(a->buf, b->buf, a->buf_len);
    }
    assert_int_equal(a->data_len, b->data_len);
    assert_memory_equal(a->data, b->data, a->data_len);
}

static void roundtrip(const struct att_ima_entry *e)
{
    struct att_buf out;
    struct att_buf again;
    struct att_ima_entry p;
    size_t consumed = 0;
    char why[WHY_SIZE];
    uint8_t *copy;

    att_buf_init(&out, BUF_MAX);
    att_buf_init(&again, BUF_MAX);
    assert_int_equal(att_ima_entry_encode(e, &out), ATT_OK);
    copy = dup_bytes(out.data, out.len);
    assert_int_equal(att_ima_entry_parse(copy, out.len, &p, &consumed, why, sizeof(why)), ATT_OK);
    assert_int_equal(consumed, out.len);
    assert_entries_equal(e, &p);
    assert_int_equal(att_ima_entry_encode(&p, &again), ATT_OK);
    assert_int_equal(again.len, out.len);
    assert_memory_equal(again.data, out.data, out.len);
    att_ima_entry_cleanup(&p);
    att_buf_cleanup(&again);
    att_buf_cleanup(&out);
    free(copy);
}

static void test_entry_roundtrip(void **state)
{
    struct att_ima_entry e;
    uint8_t d[32];
    char *maxname = malloc(ATT_IMA_MAX_EVENT_NAME + 1);
    uint8_t *maxbuf = malloc((size_t)ATT_IMA_MAX_BUF);
    uint8_t sha[32];
    size_t i;

    (void)state;
    assert_non_null(maxname);
    assert_non_null(maxbuf);
    memset(d, 0x42, sizeof(d));
    assert_int_equal(att_ima_entry_build_ng(&e, 0, d, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
                     ATT_OK);
    roundtrip(&e);
    att_ima_entry_cleanup(&e);

    assert_int_equal(att_ima_entry_build_buf(&e, 23, "kexec-cmdline", (const uint8_t *)"ro q", 4),
                     ATT_OK);
    ref_sha256("ro q", 4, sha);
    assert_memory_equal(e.digest, sha, 32);
    assert_int_equal(e.buf_len, 4);
    roundtrip(&e);
    att_ima_entry_cleanup(&e);

    /* an empty buffer is a zero-length field, as the kernel writes it */
    assert_int_equal(att_ima_entry_build_buf(&e, 12, "empty", NULL, 0), ATT_OK);
    assert_non_null(e.buf);
    assert_int_equal(e.buf_len, 0);
    roundtrip(&e);
    att_ima_entry_cleanup(&e);

    /* the largest entry: a 4096-byte name and a 64 KiB buffer */
    memset(maxname, '/', ATT_IMA_MAX_EVENT_NAME);
    maxname[ATT_IMA_MAX_EVENT_NAME] = '\0';
    for (i = 0; i < (size_t)ATT_IMA_MAX_BUF; i++) {
        maxbuf[i] = (uint8_t)i;
    }
    assert_int_equal(att_ima_entry_build_buf(&e, 12, maxname, maxbuf, (size_t)ATT_IMA_MAX_BUF),
                     ATT_OK);
    assert_true(e.data_len <= ATT_IMA_MAX_DATA);
    roundtrip(&e);
    att_ima_entry_cleanup(&e);
    free(maxname);
    free(maxbuf);
}

static void test_log_push_takes_ownership(void **state)
{
    struct att_ima_log l;
    struct att_ima_entry e;
    uint8_t d[32] = {9};
    size_t i;

    (void)state;
    att_ima_log_init(&l);
    assert_int_equal(att_ima_log_push(NULL, &e), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_ima_log_push(&l, NULL), ATT_ERR_INVALID_ARG);
    for (i = 0; i < 40; i++) { /* past the first growth steps */
        assert_int_equal(att_ima_entry_build_ng(&e, 10, d, "/x"), ATT_OK);
        assert_int_equal(att_ima_log_push(&l, &e), ATT_OK);
        assert_null(e.name);
        assert_null(e.data);
    }
    assert_int_equal(l.count, 40);
    assert_true(l.cap >= 40);
    assert_string_equal(l.entries[39].name, "/x");
    att_ima_log_cleanup(&l);
    assert_null(l.entries);
    assert_int_equal(l.count, 0);
}

static void test_log_parse_prefix_whole_log(void **state)
{
    struct att_buf log;
    size_t bounds[4];
    struct att_ima_log l;
    size_t whole = 0;

    (void)state;
    make_log3(&log, bounds);
    att_ima_log_init(&l);
    assert_int_equal(att_ima_log_parse_prefix(log.data, log.len, &l, &whole), ATT_OK);
    assert_int_equal(whole, log.len);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.entries[1].name, "/opt/my_app/run" /* stored as the kernel does */);
    assert_int_equal(l.entries[2].tmpl, ATT_IMA_TEMPLATE_BUF);
    att_ima_log_cleanup(&l);
    att_buf_cleanup(&log);
}

static void test_replay_matches_independent_chain(void **state)
{
    struct att_ima_log l;
    struct att_ima_entry e;
    uint8_t d[32];
    uint8_t want[32];
    uint8_t got[32];
    uint8_t other[32];
    uint8_t sha1[20];
    uint8_t sha256[32];
    size_t i;

    (void)state;
    att_ima_log_init(&l);
    for (i = 0; i < 6; i++) {
        memset(d, (int)(0x10 + i), sizeof(d));
        if (i % 3 == 2) {
            assert_int_equal(
                att_ima_entry_build_buf(&e, i == 5 ? 10u : LOG_PCR, "buf-entry", d, i + 1), ATT_OK);
        } else {
            assert_int_equal(att_ima_entry_build_ng(&e, i == 1 ? 10u : LOG_PCR, d, "/bin/x"),
                             ATT_OK);
        }
        assert_int_equal(att_ima_log_push(&l, &e), ATT_OK);
    }

    /* a non-zero starting value is honoured */
    memset(want, 0x5c, sizeof(want));
    memset(other, 0, sizeof(other));
    for (i = 0; i < l.count; i++) {
        ref_sha256(l.entries[i].data, l.entries[i].data_len, d);
        assert_int_equal(att_ima_entry_bank_digests(&l.entries[i], sha1, sha256), ATT_OK);
        assert_memory_equal(sha256, d, 32);
        ref_sha1(l.entries[i].data, l.entries[i].data_len, sha1);
        assert_memory_equal(sha1, l.entries[i].template_digest, 20);
        if (l.entries[i].pcr == LOG_PCR) {
            ref_extend(want, d);
        } else {
            ref_extend(other, d);
        }
    }
    memset(got, 0x5c, sizeof(got));
    assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, got, NULL), ATT_OK);
    assert_memory_equal(got, want, 32);
    memset(got, 0, sizeof(got));
    assert_int_equal(att_ima_replay(l.entries, l.count, 10, got, NULL), ATT_OK);
    assert_memory_equal(got, other, 32);
    /* a prefix replays to the chain of that prefix only */
    memset(got, 0x5c, sizeof(got));
    assert_int_equal(att_ima_replay(l.entries, 1, LOG_PCR, got, NULL), ATT_OK);
    memset(want, 0x5c, sizeof(want));
    ref_sha256(l.entries[0].data, l.entries[0].data_len, d);
    ref_extend(want, d);
    assert_memory_equal(got, want, 32);
    att_ima_log_cleanup(&l);
}

static void test_violation_extends_ff(void **state)
{
    struct att_ima_entry e;
    struct att_ima_entry p;
    struct att_buf out;
    uint8_t zero[32] = {0};
    uint8_t ff[32];
    uint8_t sha1[20];
    uint8_t sha256[32];
    uint8_t want[32] = {0};
    uint8_t got[32] = {0};
    size_t consumed = 0;
    char why[WHY_SIZE];

    (void)state;
    memset(ff, 0xff, sizeof(ff));
    assert_int_equal(att_ima_entry_build_ng(&e, LOG_PCR, zero, "/var/log/open writers"), ATT_OK);
    assert_true(e.is_violation);
    assert_memory_equal(e.template_digest, zero, 20);
    assert_int_equal(att_ima_entry_bank_digests(&e, sha1, sha256), ATT_OK);
    assert_memory_equal(sha1, ff, 20);
    assert_memory_equal(sha256, ff, 32);
    assert_int_equal(att_ima_entry_bank_digests(&e, NULL, sha256), ATT_OK);

    att_buf_init(&out, BUF_MAX);
    assert_int_equal(att_ima_entry_encode(&e, &out), ATT_OK);
    assert_int_equal(att_ima_entry_parse(out.data, out.len, &p, &consumed, why, sizeof(why)),
                     ATT_OK);
    assert_true(p.is_violation);
    assert_entries_equal(&e, &p);

    ref_extend(want, ff);
    assert_int_equal(att_ima_replay(&p, 1, LOG_PCR, got, NULL), ATT_OK);
    assert_memory_equal(got, want, 32);
    att_ima_entry_cleanup(&p);
    att_ima_entry_cleanup(&e);
    att_buf_cleanup(&out);
}

static void test_violation_legacy_20_byte_digest(void **state)
{
    /*
     * Kernels before the violation-record fix write "sha256:\0" plus 20 zero
     * bytes (IMA_DIGEST_SIZE) and a zero header digest.
     */
    struct att_buf data;
    struct att_buf rec;
    uint8_t zero[32] = {0};
    uint8_t ff[32];
    uint8_t want[32] = {0};
    uint8_t got[32] = {0};
    struct att_ima_entry e;
    struct att_buf ascii;
    size_t consumed = 0;
    char why[WHY_SIZE];

    (void)state;
    memset(ff, 0xff, sizeof(ff));
    att_buf_init(&data, BUF_MAX);
    att_buf_init(&rec, BUF_MAX);
    att_buf_init(&ascii, BUF_MAX);
    put_dng(&data, "sha256", zero, 20);
    put_nng(&data, "/tmp/x");
    put_u32(&rec, 10);
    put_bytes(&rec, zero, 20);
    put_field(&rec, "ima-ng", 6);
    put_field(&rec, data.data, data.len);
    assert_int_equal(att_ima_entry_parse(rec.data, rec.len, &e, &consumed, why, sizeof(why)),
                     ATT_OK);
    assert_true(e.is_violation);
    assert_int_equal(e.digest_len, 20);
    ref_extend(want, ff);
    assert_int_equal(att_ima_replay(&e, 1, 10, got, NULL), ATT_OK);
    assert_memory_equal(got, want, 32);
    assert_int_equal(att_ima_entry_ascii(&e, &ascii), ATT_OK);
    assert_string_equal((const char *)ascii.data,
                        "10 0000000000000000000000000000000000000000 ima-ng "
                        "sha256:0000000000000000000000000000000000000000 /tmp/x\n");
    att_ima_entry_cleanup(&e);
    att_buf_cleanup(&ascii);
    att_buf_cleanup(&rec);
    att_buf_cleanup(&data);
}

static void test_ascii_exact(void **state)
{
    struct att_ima_entry e;
    struct att_buf out;
    uint8_t d[32];
    size_t i;

    (void)state;
    for (i = 0; i < 32; i++) {
        d[i] = (uint8_t)i;
    }
    att_buf_init(&out, BUF_MAX);
    /*
     * Worked by hand: template data = 28000000 "sha256:" 00 d[32] 11000000
     * "/usr/bin/foo_bar" 00 (65 bytes; the space is stored as '_'), whose SHA-1 is cef2c595...
     */
    assert_int_equal(att_ima_entry_build_ng(&e, 10, d, "/usr/bin/foo bar"), ATT_OK);
    assert_int_equal(att_ima_entry_ascii(&e, &out), ATT_OK);
    assert_string_equal((const char *)out.data,
                        "10 cef2c5958b92df231baa3154a1d45653aecc0b2c ima-ng "
                        "sha256:000102030405060708090a0b0c0d0e0f"
                        "101112131415161718191a1b1c1d1e1f /usr/bin/foo_bar\n");
    att_ima_entry_cleanup(&e);

    /* single-digit pcr is padded to two columns; buf follows as hex; lines append */
    assert_int_equal(att_ima_entry_build_buf(&e, 5, "kexec-cmdline", (const uint8_t *)"hello", 5),
                     ATT_OK);
    assert_int_equal(att_ima_entry_ascii(&e, &out), ATT_OK);
    assert_string_equal((const char *)out.data,
                        "10 cef2c5958b92df231baa3154a1d45653aecc0b2c ima-ng "
                        "sha256:000102030405060708090a0b0c0d0e0f"
                        "101112131415161718191a1b1c1d1e1f /usr/bin/foo_bar\n"
                        " 5 935683c035b0d923d8cc3737ff6092a548753fcb ima-buf "
                        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 "
                        "kexec-cmdline 68656c6c6f\n");
    att_ima_entry_cleanup(&e);

    /* an empty buf still emits its separating space */
    att_buf_reset(&out);
    assert_int_equal(att_ima_entry_build_buf(&e, 12, "e", NULL, 0), ATT_OK);
    assert_int_equal(att_ima_entry_ascii(&e, &out), ATT_OK);
    assert_true(out.len > 3);
    assert_string_equal((const char *)out.data + out.len - 4, " e \n");
    att_ima_entry_cleanup(&e);
    att_buf_cleanup(&out);
}

/* ---- cross-check with evmctl ----------------------------------------- */

static bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    const char *p;
    char full[4096];

    if (path == NULL) {
        return false;
    }
    p = path;
    for (;;) {
        const char *end = strchr(p, ':');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

        if (n > 0 && snprintf(full, sizeof(full), "%.*s/%s", (int)n, p, prog) < (int)sizeof(full) &&
            access(full, X_OK) == 0) {
            return true;
        }
        if (end == NULL) {
            return false;
        }
        p = end + 1;
    }
}

/* Run evmctl ima_measurement quietly; returns its exit status (256 if it died). */
static int run_evmctl(const char *pcrs_path, const char *log_path, bool ignore_violations)
{
    char a_prog[] = "evmctl";
    char a_cmd[] = "ima_measurement";
    char a_ign[] = "--ignore-violations";
    char a_pcrs[] = "--pcrs";
    char pcrs_arg[4200];
    char log_arg[4200];
    char *argv[8];
    size_t n = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = 0;

    assert_true(snprintf(pcrs_arg, sizeof(pcrs_arg), "sha256,%s", pcrs_path) <
                (int)sizeof(pcrs_arg));
    assert_true(snprintf(log_arg, sizeof(log_arg), "%s", log_path) < (int)sizeof(log_arg));
    argv[n++] = a_prog;
    argv[n++] = a_cmd;
    if (ignore_violations) {
        argv[n++] = a_ign;
    }
    argv[n++] = a_pcrs;
    argv[n++] = pcrs_arg;
    argv[n++] = log_arg;
    argv[n] = NULL;

    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0), 0);
    assert_int_equal(posix_spawnp(&pid, "evmctl", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    while (waitpid(pid, &status, 0) < 0) {
        assert_int_equal(errno, EINTR);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 256;
}

static void write_pcrs(const char *path, const uint8_t pcr15[32])
{
    struct att_buf f;
    char hex[65];
    unsigned i;
    uint8_t zero[32] = {0};

    att_buf_init(&f, BUF_MAX);
    for (i = 0; i < 24; i++) {
        att_hex_encode(i == LOG_PCR ? pcr15 : zero, 32, hex);
        assert_int_equal(att_buf_printf(&f, "PCR-%02u: %s\n", i, hex), ATT_OK);
    }
    assert_int_equal(att_file_write_atomic(path, f.data, f.len), ATT_OK);
    att_buf_cleanup(&f);
}

/* Temp files of the evmctl test; teardown removes them even after a failed assert. */
struct evm_files {
    char dir[32];
    char log_path[64];
    char pcrs_path[64];
};

static int evm_setup(void **state)
{
    static struct evm_files f;

    (void)snprintf(f.dir, sizeof(f.dir), "%s", "/tmp/test_imalog.XXXXXX");
    if (mkdtemp(f.dir) == NULL) {
        return -1;
    }
    (void)snprintf(f.log_path, sizeof(f.log_path), "%s/log.bin", f.dir);
    (void)snprintf(f.pcrs_path, sizeof(f.pcrs_path), "%s/pcrs", f.dir);
    *state = &f;
    return 0;
}

static int evm_teardown(void **state)
{
    const struct evm_files *f = *state;

    (void)unlink(f->log_path);
    (void)unlink(f->pcrs_path);
    return rmdir(f->dir) == 0 ? 0 : -1;
}

static void test_evmctl_cross_check(void **state)
{
    const struct evm_files *files = *state;
    const char *log_path = files->log_path;
    const char *pcrs_path = files->pcrs_path;
    struct att_buf log;
    struct att_ima_log l;
    struct att_ima_entry e;
    uint8_t d[32];
    uint8_t pcr[32] = {0};
    char why[WHY_SIZE];
    size_t first_end = 0;
    size_t i;

    if (!on_path("evmctl")) {
        skip();
    }

    /* several records on PCR 15: ng, ng with a space, buf, empty buf */
    att_buf_init(&log, BUF_MAX);
    for (i = 0; i < 5; i++) {
        memset(d, (int)(0x21 * (i + 1)), sizeof(d));
        if (i == 2) {
            assert_int_equal(att_ima_entry_build_buf(&e, LOG_PCR, "container-image:abc", d, 32),
                             ATT_OK);
        } else if (i == 4) {
            assert_int_equal(att_ima_entry_build_buf(&e, LOG_PCR, "empty", NULL, 0), ATT_OK);
        } else {
            assert_int_equal(
                att_ima_entry_build_ng(&e, LOG_PCR, d, i == 1 ? "/usr/bin/a b" : "/usr/bin/c"),
                ATT_OK);
        }
        assert_int_equal(att_ima_entry_encode(&e, &log), ATT_OK);
        att_ima_entry_cleanup(&e);
        if (i == 0) {
            first_end = log.len;
        }
    }
    att_ima_log_init(&l);
    assert_int_equal(att_ima_log_parse(log.data, log.len, 16, &l, why, sizeof(why)), ATT_OK);
    assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, pcr, NULL), ATT_OK);
    att_ima_log_cleanup(&l);
    assert_int_equal(att_file_write_atomic(log_path, log.data, log.len), ATT_OK);

    write_pcrs(pcrs_path, pcr);
    assert_int_equal(run_evmctl(pcrs_path, log_path, false), 0);
    pcr[0] ^= 0x01;
    write_pcrs(pcrs_path, pcr);
    assert_int_not_equal(run_evmctl(pcrs_path, log_path, false), 0);

    /*
     * Add a violation: evmctl extends 0xFF only with --ignore-violations
     * (0x00 otherwise), so it must match with the flag and fail without.
     */
    memset(d, 0, sizeof(d));
    assert_int_equal(att_ima_entry_build_ng(&e, LOG_PCR, d, "/tmp/tomtou"), ATT_OK);
    assert_int_equal(att_ima_entry_encode(&e, &log), ATT_OK);
    att_ima_entry_cleanup(&e);
    att_ima_log_init(&l);
    assert_int_equal(att_ima_log_parse(log.data, log.len, 16, &l, why, sizeof(why)), ATT_OK);
    memset(pcr, 0, sizeof(pcr));
    assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, pcr, NULL), ATT_OK);
    att_ima_log_cleanup(&l);
    assert_int_equal(att_file_write_atomic(log_path, log.data, log.len), ATT_OK);
    write_pcrs(pcrs_path, pcr);
    assert_int_equal(run_evmctl(pcrs_path, log_path, true), 0);
    assert_int_not_equal(run_evmctl(pcrs_path, log_path, false), 0);

    /*
     * A name byte of the first record changed under its old header digest:
     * evmctl rejects it as we do. (A violation's name is bound by nothing,
     * for evmctl as for the kernel, so that record is not the one to alter.)
     */
    log.data[first_end - 2] ^= 0x01;
    att_ima_log_init(&l);
    assert_int_equal(att_ima_log_parse(log.data, log.len, 16, &l, why, sizeof(why)), ATT_OK);
    assert_int_equal(att_ima_replay(l.entries, l.count, LOG_PCR, pcr, NULL), ATT_ERR_VERIFY);
    att_ima_log_cleanup(&l);
    assert_int_equal(att_file_write_atomic(log_path, log.data, log.len), ATT_OK);
    assert_int_not_equal(run_evmctl(pcrs_path, log_path, true), 0);

    att_buf_cleanup(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_parse_null_args),
        cmocka_unit_test(test_entry_parse_empty),
        cmocka_unit_test(test_log_parse_null_and_empty),
        cmocka_unit_test(test_entry_build_invalid_args),
        cmocka_unit_test(test_entry_encode_invalid),
        cmocka_unit_test(test_log_parse_truncated_every_length),
        cmocka_unit_test(test_log_parse_every_length_byte_value),
        cmocka_unit_test(test_log_parse_oversized_lengths),
        cmocka_unit_test(test_entry_parse_data_len_over_limit),
        cmocka_unit_test(test_log_parse_trailing_garbage),
        cmocka_unit_test(test_log_parse_max_entries),
        cmocka_unit_test(test_entry_parse_unknown_template),
        cmocka_unit_test(test_entry_parse_pcr_out_of_range),
        cmocka_unit_test(test_entry_parse_bad_nng),
        cmocka_unit_test(test_entry_parse_nng_length_limit),
        cmocka_unit_test(test_entry_parse_bad_dng),
        cmocka_unit_test(test_entry_parse_field_count),
        cmocka_unit_test(test_entry_parse_buf_over_limit),
        cmocka_unit_test(test_replay_invalid_args),
        cmocka_unit_test(test_replay_bad_template_digest),
        cmocka_unit_test(test_replay_violation_needs_zero_digest),
        cmocka_unit_test(test_replay_every_bit_flip_rejected),
        cmocka_unit_test(test_entry_build_ng_layout),
        cmocka_unit_test(test_entry_roundtrip),
        cmocka_unit_test(test_log_push_takes_ownership),
        cmocka_unit_test(test_log_parse_prefix_whole_log),
        cmocka_unit_test(test_replay_matches_independent_chain),
        cmocka_unit_test(test_violation_extends_ff),
        cmocka_unit_test(test_violation_legacy_20_byte_digest),
        cmocka_unit_test(test_ascii_exact),
        cmocka_unit_test_setup_teardown(test_evmctl_cross_check, evm_setup, evm_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
