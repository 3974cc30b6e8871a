/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the CBOR wire messages (attest/proto.h, proto/attest.cddl).
 * Negative cases first: NULL, empty, truncated at every length, trailing
 * bytes, every wrong type for every field, missing and duplicate keys,
 * oversized and out-of-range values, indefinite lengths, nesting and item
 * limits; then round trips, the deterministic encoding and a bit-flip sweep.
 * Hand-made messages are built with libcbor's low-level encoders below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "attest/buf.h"
#include "attest/proto.h"

#define BUF_MAX (ATT_PROTO_MAX_BODY + 4096u)
#define NONE    SIZE_MAX

/* ------------------------------------------------------------------------- */
/* A tiny CBOR builder for malformed and hand-made messages                  */

enum tkind { T_UINT, T_BYTES, T_TEXT, T_BOOL, T_RAW };

struct tval {
    enum tkind kind;
    uint64_t u;    /* T_UINT value, T_BOOL value */
    const void *p; /* T_BYTES / T_TEXT / T_RAW bytes */
    size_t len;
};

struct tfield {
    const char *key;
    struct tval v;
};

static void put_head(struct att_buf *b, size_t n, const unsigned char *h)
{
    assert_true(n > 0);
    assert_int_equal(att_buf_append(b, h, n), ATT_OK);
}

static void put_uint(struct att_buf *b, uint64_t v)
{
    unsigned char h[9];

    put_head(b, cbor_encode_uint(v, h, sizeof(h)), h);
}

static void put_map(struct att_buf *b, size_t n)
{
    unsigned char h[9];

    put_head(b, cbor_encode_map_start(n, h, sizeof(h)), h);
}

static void put_bytes(struct att_buf *b, const void *p, size_t len)
{
    unsigned char h[9];

    put_head(b, cbor_encode_bytestring_start(len, h, sizeof(h)), h);
    if (len > 0) {
        assert_int_equal(att_buf_append(b, p, len), ATT_OK);
    }
}

static void put_textn(struct att_buf *b, const void *p, size_t len)
{
    unsigned char h[9];

    put_head(b, cbor_encode_string_start(len, h, sizeof(h)), h);
    if (len > 0) {
        assert_int_equal(att_buf_append(b, p, len), ATT_OK);
    }
}

static void put_text(struct att_buf *b, const char *s)
{
    put_textn(b, s, strlen(s));
}

static void put_raw(struct att_buf *b, const void *p, size_t len)
{
    assert_int_equal(att_buf_append(b, p, len), ATT_OK);
}

static void put_val(struct att_buf *b, const struct tval *v)
{
    unsigned char h[1];

    switch (v->kind) {
    case T_UINT:
        put_uint(b, v->u);
        break;
    case T_BYTES:
        put_bytes(b, v->p, v->len);
        break;
    case T_TEXT:
        put_textn(b, v->p, v->len);
        break;
    case T_BOOL:
        put_head(b, cbor_encode_bool(v->u != 0, h, sizeof(h)), h);
        break;
    case T_RAW:
        put_raw(b, v->p, v->len);
        break;
    }
}

/*
 * Encode the map @p f[0..n) into @p b, leaving out field @p skip, with field
 * @p replace's value swapped for @p rep, and field @p dup written twice.
 * NONE disables each mutation.
 */
static void build(struct att_buf *b, const struct tfield *f, size_t n, size_t skip, size_t replace,
                  const struct tval *rep, size_t dup)
{
    size_t i;
    size_t count = n - (skip != NONE ? 1u : 0u) + (dup != NONE ? 1u : 0u);

    att_buf_init(b, BUF_MAX);
    put_map(b, count);
    for (i = 0; i < n; i++) {
        if (i == skip) {
            continue;
        }
        put_text(b, f[i].key);
        put_val(b, i == replace ? rep : &f[i].v);
    }
    if (dup != NONE) {
        put_text(b, f[dup].key);
        put_val(b, &f[dup].v);
    }
}

#define TUINT(x)                                                                                   \
    {                                                                                              \
        .kind = T_UINT, .u = (x)                                                                   \
    }
#define TBYTES(ptr, n)                                                                             \
    {                                                                                              \
        .kind = T_BYTES, .p = (ptr), .len = (n)                                                    \
    }
#define TTEXT(s)                                                                                   \
    {                                                                                              \
        .kind = T_TEXT, .p = (s), .len = sizeof(s) - 1                                             \
    }
#define TBOOL(x)                                                                                   \
    {                                                                                              \
        .kind = T_BOOL, .u = (x)                                                                   \
    }
#define TRAW(arr)                                                                                  \
    {                                                                                              \
        .kind = T_RAW, .p = (arr), .len = sizeof(arr)                                              \
    }
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t blob[64] = {0x00, 0x01, 0x02, 0x03, 0xfe, 0xff};
static const uint8_t cert[100] = {0x30, 0x82, 0x01};
static const uint8_t nonce32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
/* {0: h'00..', 15: h'0f..'} with 32-byte values */
static uint8_t pcrs_map[1 + 2 * (1 + 2 + 32)];

static void init_pcrs_map(void)
{
    size_t o = 0;

    pcrs_map[o++] = 0xa2;
    pcrs_map[o++] = 0x00;
    pcrs_map[o++] = 0x58;
    pcrs_map[o++] = 0x20;
    memset(pcrs_map + o, 0x00, 32);
    o += 32;
    pcrs_map[o++] = 0x0f;
    pcrs_map[o++] = 0x58;
    pcrs_map[o++] = 0x20;
    memset(pcrs_map + o, 0x0f, 32);
}

static const struct tfield identity_fields[] = {
    {"version", TUINT(ATT_PROTO_VERSION)},
    {"agent_id", TTEXT("host-1")},
    {"ek_alg", TTEXT("ecc")},
    {"ek_cert_rsa", TBYTES(cert, sizeof(cert))},
    {"ek_cert_ecc", TBYTES(cert, 50)},
    {"ek_pub", TBYTES(blob, sizeof(blob))},
    {"ak_pub", TBYTES(blob, 10)},
    {"meas_pcr", TUINT(15)},
    {"boot_id", TTEXT("3f1c2d4e-0000-4000-8000-000000000001")},
};
static const bool identity_required[] = {true, true, true, false, false, true, true, true, true};

static const struct tfield request_fields[] = {
    {"nonce", TBYTES(nonce32, 32)},
    {"pcr_mask", TUINT(0x8001)},
    {"log_offset", TUINT(7)},
};

static struct tfield evidence_fields[] = {
    {"version", TUINT(ATT_PROTO_VERSION)},
    {"attest", TBYTES(blob, sizeof(blob))},
    {"sig", TBYTES(blob, 20)},
    {"pcrs", TRAW(pcrs_map)},
    {"meas_pcr", TUINT(15)},
    {"log_offset", TUINT(2)},
    {"log_count", TUINT(5)},
    {"log", TBYTES(blob, 30)},
    {"reset_count", TUINT(1)},
    {"restart_count", TUINT(0)},
    {"boot_id", TTEXT("boot-1")},
    {"log_consistent", TBOOL(1)},
    {"log_status", TTEXT("ok")},
};

static const struct tfield error_fields[] = {
    {"error", TTEXT("no such thing")},
};

/* Values of every CBOR major type, and a float where a bool belongs. */
static const uint8_t raw_negint[] = {0x20};
static const uint8_t raw_null[] = {0xf6};
static const uint8_t raw_half[] = {0xf9, 0x3c, 0x00};
static const uint8_t raw_float8[] = {0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
static const uint8_t raw_array[] = {0x80};
static const uint8_t raw_map[] = {0xa0};
static const uint8_t raw_tag[] = {0xc0, 0x61, 0x78};
static const uint8_t raw_undef[] = {0xf7};
static const struct tval wrong_values[] = {
    TUINT(7),         TBYTES(blob, 2), TTEXT("x"),      TBOOL(1),
    TRAW(raw_negint), TRAW(raw_null),  TRAW(raw_half),  TRAW(raw_array),
    TRAW(raw_map),    TRAW(raw_tag),   TRAW(raw_undef), TRAW(raw_float8),
};

/* ------------------------------------------------------------------------- */
/* Per-message decode wrappers, so table-driven tests can treat them alike   */

typedef att_rc (*decode_fn)(const uint8_t *buf, size_t len, char *why, size_t why_len);

static att_rc dec_identity(const uint8_t *buf, size_t len, char *why, size_t why_len)
{
    struct att_identity id;
    att_rc rc = att_identity_decode(buf, len, &id, why, why_len);

    att_identity_cleanup(&id);
    return rc;
}

static att_rc dec_request(const uint8_t *buf, size_t len, char *why, size_t why_len)
{
    struct att_evidence_request r;

    return att_evidence_request_decode(buf, len, &r, why, why_len);
}

static att_rc dec_evidence(const uint8_t *buf, size_t len, char *why, size_t why_len)
{
    struct att_evidence ev;
    att_rc rc = att_evidence_decode(buf, len, &ev, why, why_len);

    att_evidence_cleanup(&ev);
    return rc;
}

static att_rc dec_error(const uint8_t *buf, size_t len, char *why, size_t why_len)
{
    char *msg = NULL;
    att_rc rc = att_error_decode(buf, len, &msg);

    if (why != NULL && why_len > 0) {
        why[0] = '\0';
    }
    free(msg);
    return rc;
}

struct msg_case {
    const char *name;
    decode_fn decode;
    const struct tfield *fields;
    size_t n;
    const bool *required; /* NULL: all required */
    bool has_why;
};

static struct msg_case cases[4];

static void init_cases(void)
{
    init_pcrs_map();
    cases[0] = (struct msg_case){
        "identity", dec_identity, identity_fields, NELEM(identity_fields), identity_required, true};
    cases[1] = (struct msg_case){"evidence request",    dec_request, request_fields,
                                 NELEM(request_fields), NULL,        true};
    cases[2] = (struct msg_case){"evidence", dec_evidence, evidence_fields, NELEM(evidence_fields),
                                 NULL,       true};
    cases[3] =
        (struct msg_case){"error", dec_error, error_fields, NELEM(error_fields), NULL, false};
}

static int setup(void **state)
{
    (void)state;
    init_cases();
    return 0;
}

static void expect_parse_fail(const struct msg_case *c, const struct att_buf *b, const char *needle)
{
    char why[256];

    memset(why, 'X', sizeof(why));
    assert_int_equal(c->decode(b->data, b->len, why, sizeof(why)), ATT_ERR_PARSE);
    if (c->has_why && needle != NULL) {
        if (strstr(why, needle) == NULL) {
            fail_msg("%s: why \"%s\" lacks \"%s\"", c->name, why, needle);
        }
        assert_true(strncmp(why, c->name, strlen(c->name)) == 0);
    }
}

/* ------------------------------------------------------------------------- */
/* Sample structs                                                            */

static void sample_identity(struct att_identity *id)
{
    memset(id, 0, sizeof(*id));
    id->version = ATT_PROTO_VERSION;
    id->agent_id = (char *)(uintptr_t) "host-1.example";
    id->ek_alg = (char *)(uintptr_t) "rsa";
    id->ek_cert_rsa = (uint8_t *)(uintptr_t)cert;
    id->ek_cert_rsa_len = sizeof(cert);
    id->ek_pub = (uint8_t *)(uintptr_t)blob;
    id->ek_pub_len = sizeof(blob);
    id->ak_pub = (uint8_t *)(uintptr_t)blob;
    id->ak_pub_len = 40;
    id->meas_pcr = 15;
    id->boot_id = (char *)(uintptr_t) "b00t-1d";
}

static void sample_evidence(struct att_evidence *ev)
{
    unsigned i;

    memset(ev, 0, sizeof(*ev));
    ev->version = ATT_PROTO_VERSION;
    ev->attest = (uint8_t *)(uintptr_t)blob;
    ev->attest_len = sizeof(blob);
    ev->sig = (uint8_t *)(uintptr_t)blob;
    ev->sig_len = 33;
    ev->pcrs.mask = 0x0080ffu;
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        memset(ev->pcrs.value[i], (int)(0xa0u + i), ATT_SHA256_LEN);
    }
    ev->meas_pcr = 15;
    ev->log_offset = 3;
    ev->log_count = 9;
    ev->log = (uint8_t *)(uintptr_t)cert;
    ev->log_len = sizeof(cert);
    ev->reset_count = 4;
    ev->restart_count = 0xffffffffu;
    ev->boot_id = (char *)(uintptr_t) "b00t-1d";
    ev->log_consistent = true;
    ev->log_status = (char *)(uintptr_t) "ok";
}

static void sample_request(struct att_evidence_request *r)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->nonce, nonce32, sizeof(r->nonce));
    r->pcr_mask = 0x8001;
    r->log_offset = 5;
}

/* ------------------------------------------------------------------------- */
/* Negative: arguments                                                       */

static void test_decode_null_args(void **state)
{
    uint8_t one = 0xa0;
    struct att_identity id;
    struct att_evidence ev;
    struct att_evidence_request r;
    char why[64];
    char *msg = (char *)(uintptr_t) "untouched";

    (void)state;
    assert_int_equal(att_identity_decode(NULL, 1, &id, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_identity_decode(&one, 1, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_decode(NULL, 1, &ev, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_decode(&one, 1, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_request_decode(NULL, 1, &r, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_request_decode(&one, 1, NULL, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_error_decode(NULL, 1, &msg), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_error_decode(&one, 1, NULL), ATT_ERR_INVALID_ARG);
    /* why may be NULL */
    assert_int_equal(att_identity_decode(&one, 1, &id, NULL, 0), ATT_ERR_PARSE);
    att_identity_cleanup(NULL);
    att_evidence_cleanup(NULL);
}

static void test_decode_empty(void **state)
{
    uint8_t byte = 0;
    size_t i;
    char why[128];

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        assert_int_equal(cases[i].decode(&byte, 0, why, sizeof(why)), ATT_ERR_PARSE);
        if (cases[i].has_why) {
            assert_non_null(strstr(why, "empty"));
        }
    }
}

static void test_encode_null_args(void **state)
{
    struct att_buf b;
    struct att_identity id;
    struct att_evidence ev;
    struct att_evidence_request r;

    (void)state;
    att_buf_init(&b, BUF_MAX);
    sample_identity(&id);
    sample_evidence(&ev);
    sample_request(&r);
    assert_int_equal(att_identity_encode(NULL, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_identity_encode(&id, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_encode(NULL, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_encode(&ev, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_request_encode(NULL, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_evidence_request_encode(&r, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_error_encode(NULL, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_error_encode("x", NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    att_buf_cleanup(&b);
}

/* Encoders refuse what the decoders would refuse, and leave out untouched. */
static void test_encode_invalid_structs(void **state)
{
    struct att_buf b;
    struct att_identity id;
    struct att_evidence ev;
    struct att_evidence_request r;
    char longtext[ATT_PROTO_MAX_TEXT + 2];

    (void)state;
    memset(longtext, 'a', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_buf_append_str(&b, "keep"), ATT_OK);

#define ID_BAD(stmt)                                                                               \
    do {                                                                                           \
        sample_identity(&id);                                                                      \
        stmt;                                                                                      \
        assert_int_equal(att_identity_encode(&id, &b), ATT_ERR_INVALID_ARG);                       \
        assert_int_equal(b.len, 4);                                                                \
    } while (0)
    ID_BAD(id.version = 2);
    ID_BAD(id.agent_id = NULL);
    ID_BAD(id.agent_id = (char *)(uintptr_t) "");
    ID_BAD(id.agent_id = longtext);
    ID_BAD(id.agent_id = (char *)(uintptr_t) "\xff");
    ID_BAD(id.ek_alg = (char *)(uintptr_t) "dsa");
    ID_BAD(id.ek_alg = NULL);
    ID_BAD(id.ek_cert_rsa_len = 0);
    ID_BAD(id.ek_cert_rsa_len = ATT_PROTO_MAX_CERT + 1);
    ID_BAD(id.ek_cert_ecc_len = 3);
    ID_BAD(id.ek_pub = NULL);
    ID_BAD(id.ek_pub_len = 0);
    ID_BAD(id.ak_pub_len = ATT_PROTO_MAX_TPMBLOB + 1);
    ID_BAD(id.meas_pcr = 24);
    ID_BAD(id.boot_id = NULL);
#undef ID_BAD

#define EV_BAD(stmt)                                                                               \
    do {                                                                                           \
        sample_evidence(&ev);                                                                      \
        stmt;                                                                                      \
        assert_int_equal(att_evidence_encode(&ev, &b), ATT_ERR_INVALID_ARG);                       \
        assert_int_equal(b.len, 4);                                                                \
    } while (0)
    EV_BAD(ev.version = 0);
    EV_BAD(ev.attest = NULL);
    EV_BAD(ev.sig_len = 0);
    EV_BAD(ev.sig_len = ATT_PROTO_MAX_TPMBLOB + 1);
    EV_BAD(ev.pcrs.mask = 0);
    EV_BAD(ev.pcrs.mask = 1u << 24);
    EV_BAD(ev.meas_pcr = 24);
    EV_BAD(ev.log_offset = ev.log_count + 1);
    EV_BAD(ev.log = NULL);
    EV_BAD(ev.boot_id = (char *)(uintptr_t) "");
    EV_BAD(ev.log_status = NULL);
    EV_BAD(ev.log_status = longtext);
#undef EV_BAD

    sample_request(&r);
    r.pcr_mask = 0;
    assert_int_equal(att_evidence_request_encode(&r, &b), ATT_ERR_INVALID_ARG);
    r.pcr_mask = 0x01000000u;
    assert_int_equal(att_evidence_request_encode(&r, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_error_encode("", &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_error_encode(longtext, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(b.len, 4);
    assert_string_equal((const char *)b.data, "keep");
    att_buf_cleanup(&b);
}

/* A buffer whose cap is too small: the encode fails and rolls back its partial output. */
static void test_encode_buffer_cap_rolls_back(void **state)
{
    struct att_buf b;
    struct att_evidence ev;

    (void)state;
    sample_evidence(&ev);
    att_buf_init(&b, 64);
    assert_int_equal(att_buf_append_str(&b, "prefix"), ATT_OK);
    assert_int_equal(att_evidence_encode(&ev, &b), ATT_ERR_PARSE);
    assert_int_equal(b.len, 6);
    assert_string_equal((const char *)b.data, "prefix");
    att_buf_cleanup(&b);
}

/* ------------------------------------------------------------------------- */
/* Negative: structure                                                       */

static void test_decode_truncated_every_length(void **state)
{
    size_t i;
    size_t l;

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        struct att_buf b;

        build(&b, cases[i].fields, cases[i].n, NONE, NONE, NULL, NONE);
        assert_int_equal(cases[i].decode(b.data, b.len, NULL, 0), ATT_OK);
        /* a definite-length map is never complete before its last byte */
        for (l = 0; l < b.len; l++) {
            assert_int_equal(cases[i].decode(b.data, l, NULL, 0), ATT_ERR_PARSE);
        }
        att_buf_cleanup(&b);
    }
}

static void test_decode_trailing_garbage(void **state)
{
    static const uint8_t tails[][3] = {{0x00}, {0xa0}, {0xff}, {0x61, 0x78}};
    static const size_t tail_len[] = {1, 1, 1, 2};
    size_t i;
    size_t t;

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        for (t = 0; t < NELEM(tails); t++) {
            struct att_buf b;

            build(&b, cases[i].fields, cases[i].n, NONE, NONE, NULL, NONE);
            put_raw(&b, tails[t], tail_len[t]);
            expect_parse_fail(&cases[i], &b, "trailing bytes after CBOR item");
            att_buf_cleanup(&b);
        }
    }
}

static void test_decode_not_a_map(void **state)
{
    static const uint8_t items[][4] = {{0x80}, {0x00}, {0x61, 'x'}, {0xf5}, {0x40}, {0xc0, 0xa0}};
    static const size_t lens[] = {1, 1, 2, 1, 1, 2};
    size_t i;
    size_t t;

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        for (t = 0; t < NELEM(items); t++) {
            struct att_buf b;

            att_buf_init(&b, 64);
            put_raw(&b, items[t], lens[t]);
            expect_parse_fail(&cases[i], &b, "must be a CBOR map");
            att_buf_cleanup(&b);
        }
    }
}

static void test_decode_malformed_cbor(void **state)
{
    /* reserved additional info 28, unassigned simple value, stray break, two-byte simple */
    static const uint8_t items[][3] = {{0x1c}, {0xf0}, {0xff}, {0xf8, 0x20}};
    static const size_t lens[] = {1, 1, 1, 2};
    size_t i;
    size_t t;

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        for (t = 0; t < NELEM(items); t++) {
            struct att_buf b;

            att_buf_init(&b, 64);
            put_raw(&b, items[t], lens[t]);
            expect_parse_fail(&cases[i], &b, NULL);
            att_buf_cleanup(&b);
        }
    }
}

static void test_decode_wrong_types_every_field(void **state)
{
    size_t i;
    size_t f;
    size_t w;
    char needle[64];

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        for (f = 0; f < cases[i].n; f++) {
            for (w = 0; w < NELEM(wrong_values); w++) {
                struct att_buf b;

                if (wrong_values[w].kind == cases[i].fields[f].v.kind &&
                    wrong_values[w].kind != T_RAW) {
                    continue; /* same type: not a wrong-type case */
                }
                build(&b, cases[i].fields, cases[i].n, NONE, f, &wrong_values[w], NONE);
                (void)snprintf(needle, sizeof(needle), "field \"%s\"", cases[i].fields[f].key);
                expect_parse_fail(&cases[i], &b, needle);
                att_buf_cleanup(&b);
            }
        }
    }
}

static void test_decode_missing_required_fields(void **state)
{
    size_t i;
    size_t f;
    char needle[64];

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        for (f = 0; f < cases[i].n; f++) {
            struct att_buf b;
            bool required = cases[i].required == NULL || cases[i].required[f];

            build(&b, cases[i].fields, cases[i].n, f, NONE, NULL, NONE);
            if (required) {
                (void)snprintf(needle, sizeof(needle), "field \"%s\" is missing",
                               cases[i].fields[f].key);
                expect_parse_fail(&cases[i], &b, needle);
            } else {
                assert_int_equal(cases[i].decode(b.data, b.len, NULL, 0), ATT_OK);
            }
            att_buf_cleanup(&b);
        }
    }
}

static void test_decode_duplicate_keys(void **state)
{
    size_t i;
    size_t f;
    char needle[64];

    (void)state;
    for (i = 0; i < NELEM(cases); i++) {
        for (f = 0; f < cases[i].n; f++) {
            struct att_buf b;

            build(&b, cases[i].fields, cases[i].n, NONE, NONE, NULL, f);
            (void)snprintf(needle, sizeof(needle), "duplicate key \"%s\"", cases[i].fields[f].key);
            expect_parse_fail(&cases[i], &b, needle);
            att_buf_cleanup(&b);
        }
    }
}

/* The same key spelt with a non-minimal length head is still the same key. */
static void test_decode_duplicate_key_long_head(void **state)
{
    struct att_buf b;
    struct tval v = TUINT(1);
    static const uint8_t long_key[] = {0x78, 0x05, 'n', 'o', 'n', 'c', 'e'};

    (void)state;
    build(&b, request_fields, NELEM(request_fields), NONE, NONE, NULL, NONE);
    b.data[0] = 0xa4; /* one more pair */
    put_raw(&b, long_key, sizeof(long_key));
    put_val(&b, &v);
    expect_parse_fail(&cases[1], &b, "duplicate key \"nonce\"");
    att_buf_cleanup(&b);
}

static void test_decode_non_text_key(void **state)
{
    struct att_buf b;

    (void)state;
    build(&b, request_fields, NELEM(request_fields), NONE, NONE, NULL, NONE);
    b.data[0] = 0xa4;
    put_uint(&b, 1);
    put_uint(&b, 2);
    expect_parse_fail(&cases[1], &b, "map keys must be text strings");
    att_buf_cleanup(&b);
}

static void test_decode_indefinite_rejected(void **state)
{
    struct att_buf b;
    static const uint8_t indef_bytes[] = {0x5f, 0x41, 0x00, 0x41, 0x01, 0xff};
    static const uint8_t indef_text[] = {0x7f, 0x61, 'a', 0xff};
    static const uint8_t indef_array[] = {0x9f, 0xff};
    struct tval v1 = TRAW(indef_bytes);
    struct tval v2 = TRAW(indef_text);
    static const uint8_t indef_map[] = {0xbf, 0x65, 'e', 'r', 'r', 'o', 'r', 0x61, 'x', 0xff};

    (void)state;
    build(&b, identity_fields, NELEM(identity_fields), NONE, 5, &v1, NONE);
    expect_parse_fail(&cases[0], &b, "indefinite-length");
    att_buf_cleanup(&b);
    build(&b, identity_fields, NELEM(identity_fields), NONE, 1, &v2, NONE);
    expect_parse_fail(&cases[0], &b, "indefinite-length");
    att_buf_cleanup(&b);
    build(&b, identity_fields, NELEM(identity_fields), NONE, NONE, NULL, NONE);
    b.data[0] = (uint8_t)(b.data[0] + 1);
    put_text(&b, "future");
    put_raw(&b, indef_array, sizeof(indef_array));
    expect_parse_fail(&cases[0], &b, "indefinite-length");
    att_buf_cleanup(&b);
    att_buf_init(&b, 64);
    put_raw(&b, indef_map, sizeof(indef_map));
    expect_parse_fail(&cases[0], &b, "indefinite-length");
    assert_int_equal(dec_error(b.data, b.len, NULL, 0), ATT_ERR_PARSE);
    att_buf_cleanup(&b);
}

static void test_decode_unknown_keys_ignored(void **state)
{
    struct att_buf b;
    struct att_identity id;
    char why[128];
    static const uint8_t nested[] = {0x82, 0x01, 0xa1, 0x61, 'a', 0x41, 0x00};

    (void)state;
    build(&b, identity_fields, NELEM(identity_fields), NONE, NONE, NULL, NONE);
    b.data[0] = (uint8_t)(b.data[0] + 2);
    put_text(&b, "zz_future");
    put_raw(&b, nested, sizeof(nested));
    put_text(&b, "");
    put_uint(&b, 99);
    assert_int_equal(att_identity_decode(b.data, b.len, &id, why, sizeof(why)), ATT_OK);
    assert_string_equal(why, "");
    assert_string_equal(id.agent_id, "host-1");
    att_identity_cleanup(&id);
    att_buf_cleanup(&b);
}

static void test_decode_too_deep(void **state)
{
    struct att_buf b;
    char why[128];
    size_t i;

    (void)state;
    /* {"error": "no such thing", "deep": [[[[[[[[[[0]]]]]]]]]]} */
    build(&b, error_fields, NELEM(error_fields), NONE, NONE, NULL, NONE);
    b.data[0] = 0xa2;
    put_text(&b, "deep");
    for (i = 0; i < 10; i++) {
        put_raw(&b, "\x81", 1);
    }
    put_uint(&b, 0);
    assert_int_equal(dec_error(b.data, b.len, NULL, 0), ATT_ERR_PARSE);
    assert_int_equal(dec_identity(b.data, b.len, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "nested too deeply"));
    att_buf_cleanup(&b);
}

static void test_decode_too_many_items(void **state)
{
    struct att_buf b;
    char why[128];
    size_t i;
    static const uint8_t huge_array[] = {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t huge_map[] = {0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    (void)state;
    build(&b, error_fields, NELEM(error_fields), NONE, NONE, NULL, NONE);
    b.data[0] = 0xa2;
    put_text(&b, "many");
    put_raw(&b, "\x99\x07\xd0", 3); /* array(2000) */
    for (i = 0; i < 2000; i++) {
        put_uint(&b, 0);
    }
    assert_int_equal(dec_identity(b.data, b.len, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "too many CBOR data items"));
    att_buf_cleanup(&b);

    /* a declared count far beyond the input must fail before anything is sized from it */
    build(&b, error_fields, NELEM(error_fields), NONE, NONE, NULL, NONE);
    b.data[0] = 0xa2;
    put_text(&b, "huge");
    put_raw(&b, huge_array, sizeof(huge_array));
    assert_int_equal(dec_identity(b.data, b.len, why, sizeof(why)), ATT_ERR_PARSE);
    att_buf_cleanup(&b);
    att_buf_init(&b, 64);
    put_raw(&b, huge_map, sizeof(huge_map));
    assert_int_equal(dec_evidence(b.data, b.len, why, sizeof(why)), ATT_ERR_PARSE);
    att_buf_cleanup(&b);
}

static void test_decode_oversized_body(void **state)
{
    size_t len = (size_t)ATT_PROTO_MAX_BODY + 1u;
    uint8_t *big = calloc(1, len);
    char why[128];

    (void)state;
    assert_non_null(big);
    big[0] = 0xa0;
    assert_int_equal(att_evidence_decode(big, len, &(struct att_evidence){0}, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "larger than"));
    free(big);
}

/* Failure leaves the out struct zeroed, whatever it held before. */
static void test_decode_failure_clears_out(void **state)
{
    struct att_buf b;
    struct att_identity id;
    struct att_identity zero_id;
    struct att_evidence ev;
    struct att_evidence zero_ev;
    struct att_evidence_request r;
    struct att_evidence_request zero_r;
    struct tval bad = TTEXT("dsa");
    struct tval bad_consistent = TRAW(raw_half);
    struct tval bad_nonce = TBYTES(nonce32, 31);

    (void)state;
    memset(&zero_id, 0, sizeof(zero_id));
    memset(&zero_ev, 0, sizeof(zero_ev));
    memset(&zero_r, 0, sizeof(zero_r));
    /* ek_alg is checked after every field was decoded and allocated */
    build(&b, identity_fields, NELEM(identity_fields), NONE, 2, &bad, NONE);
    memset(&id, 0xa5, sizeof(id));
    assert_int_equal(att_identity_decode(b.data, b.len, &id, NULL, 0), ATT_ERR_PARSE);
    assert_memory_equal(&id, &zero_id, sizeof(id));
    att_buf_cleanup(&b);
    /* log_consistent comes late: most fields are already allocated */
    build(&b, evidence_fields, NELEM(evidence_fields), NONE, 11, &bad_consistent, NONE);
    memset(&ev, 0xa5, sizeof(ev));
    assert_int_equal(att_evidence_decode(b.data, b.len, &ev, NULL, 0), ATT_ERR_PARSE);
    assert_memory_equal(&ev, &zero_ev, sizeof(ev));
    att_buf_cleanup(&b);
    build(&b, request_fields, NELEM(request_fields), NONE, 0, &bad_nonce, NONE);
    memset(&r, 0xa5, sizeof(r));
    assert_int_equal(att_evidence_request_decode(b.data, b.len, &r, NULL, 0), ATT_ERR_PARSE);
    assert_memory_equal(&r, &zero_r, sizeof(r));
    att_buf_cleanup(&b);
}

static void test_decode_why_truncated(void **state)
{
    struct att_buf b;
    char why[10];

    (void)state;
    build(&b, request_fields, NELEM(request_fields), 0, NONE, NULL, NONE);
    memset(why, 'X', sizeof(why));
    assert_int_equal(dec_request(b.data, b.len, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(strlen(why), sizeof(why) - 1);
    att_buf_cleanup(&b);
}

/* ------------------------------------------------------------------------- */
/* Negative: field values                                                    */

static void expect_field_fail(size_t ci, size_t field, struct tval v, const char *needle)
{
    struct att_buf b;

    build(&b, cases[ci].fields, cases[ci].n, NONE, field, &v, NONE);
    expect_parse_fail(&cases[ci], &b, needle);
    att_buf_cleanup(&b);
}

static void expect_field_ok(size_t ci, size_t field, struct tval v)
{
    struct att_buf b;
    char why[256];

    build(&b, cases[ci].fields, cases[ci].n, NONE, field, &v, NONE);
    why[0] = '\0';
    if (cases[ci].decode(b.data, b.len, why, sizeof(why)) != ATT_OK) {
        fail_msg("%s field %s: %s", cases[ci].name, cases[ci].fields[field].key, why);
    }
    att_buf_cleanup(&b);
}

static void test_identity_decode_bad_values(void **state)
{
    static uint8_t big[ATT_PROTO_MAX_CERT + 1];
    static char longtext[ATT_PROTO_MAX_TEXT + 1];

    (void)state;
    memset(longtext, 'a', sizeof(longtext));
    expect_field_fail(0, 0, (struct tval)TUINT(2), "field \"version\" must be 1");
    expect_field_fail(0, 0, (struct tval)TUINT(0), "field \"version\" must be 1");
    expect_field_fail(0, 0, (struct tval)TUINT(UINT64_MAX), "field \"version\"");
    expect_field_fail(0, 1, (struct tval)TTEXT(""), "field \"agent_id\"");
    expect_field_fail(0, 1, (struct tval){.kind = T_TEXT, .p = longtext, .len = sizeof(longtext)},
                      "field \"agent_id\" must be a text string of 1..1024 bytes");
    expect_field_ok(0, 1,
                    (struct tval){.kind = T_TEXT, .p = longtext, .len = sizeof(longtext) - 1});
    expect_field_fail(0, 1, (struct tval)TTEXT("a\0b"), "field \"agent_id\" must not contain NUL");
    expect_field_fail(0, 1, (struct tval)TTEXT("\xff"), "text string is not valid UTF-8");
    expect_field_fail(0, 1, (struct tval)TTEXT("\xc0\xaf"), "valid UTF-8");     /* overlong '/' */
    expect_field_fail(0, 1, (struct tval)TTEXT("\xed\xa0\x80"), "valid UTF-8"); /* surrogate */
    expect_field_fail(0, 1, (struct tval)TTEXT("\xf4\x90\x80\x80"), "valid UTF-8"); /* > U+10FFFF */
    expect_field_fail(0, 1, (struct tval)TTEXT("ab\xe2\x82"), "valid UTF-8");       /* cut short */
    expect_field_ok(0, 1, (struct tval)TTEXT("h\xc3\xa9te-\xe2\x82\xac-\xf0\x9f\x90\xa7"));
    expect_field_fail(0, 2, (struct tval)TTEXT("dsa"),
                      "field \"ek_alg\" must be \"rsa\" or \"ecc\"");
    expect_field_fail(0, 2, (struct tval)TTEXT("RSA"), "field \"ek_alg\"");
    expect_field_ok(0, 2, (struct tval)TTEXT("rsa"));
    expect_field_fail(0, 3, (struct tval)TBYTES(big, sizeof(big)), "field \"ek_cert_rsa\"");
    expect_field_ok(0, 3, (struct tval)TBYTES(big, sizeof(big) - 1));
    expect_field_fail(0, 3, (struct tval)TBYTES(big, 0), "field \"ek_cert_rsa\"");
    expect_field_fail(0, 4, (struct tval)TBYTES(big, sizeof(big)), "field \"ek_cert_ecc\"");
    expect_field_fail(0, 5, (struct tval)TBYTES(big, ATT_PROTO_MAX_TPMBLOB + 1),
                      "field \"ek_pub\" must be a byte string of 1..4096 bytes");
    expect_field_ok(0, 5, (struct tval)TBYTES(big, ATT_PROTO_MAX_TPMBLOB));
    expect_field_fail(0, 6, (struct tval)TBYTES(big, 0), "field \"ak_pub\"");
    expect_field_fail(0, 7, (struct tval)TUINT(24), "field \"meas_pcr\"");
    expect_field_ok(0, 7, (struct tval)TUINT(23));
    expect_field_fail(0, 8, (struct tval)TTEXT(""), "field \"boot_id\"");
}

static void test_request_decode_bad_values(void **state)
{
    (void)state;
    expect_field_fail(1, 0, (struct tval)TBYTES(nonce32, 31),
                      "evidence request: field \"nonce\" must be a 32-byte byte string");
    expect_field_fail(1, 0, (struct tval)TBYTES(cert, 33), "field \"nonce\" must be a 32-byte");
    expect_field_fail(1, 0, (struct tval)TBYTES(cert, 0), "field \"nonce\"");
    expect_field_fail(1, 1, (struct tval)TUINT(0), "field \"pcr_mask\"");
    expect_field_fail(1, 1, (struct tval)TUINT(0x01000000u), "field \"pcr_mask\"");
    expect_field_fail(1, 1, (struct tval)TUINT(0x100000000ull), "field \"pcr_mask\"");
    expect_field_ok(1, 1, (struct tval)TUINT(0x00ffffffu));
    expect_field_ok(1, 2, (struct tval)TUINT(UINT64_MAX));
}

static void test_evidence_decode_bad_values(void **state)
{
    static const uint8_t pcr24[] = {0xa1, 0x18, 0x18, 0x41, 0x00};
    static const uint8_t pcr_neg[] = {0xa1, 0x20, 0x41, 0x00};
    static const uint8_t pcr_text_key[] = {0xa1, 0x61, '0', 0x41, 0x00};
    static const uint8_t pcr_empty[] = {0xa0};
    static uint8_t pcr31[4 + 31];        /* {0: h'..' (31 bytes)} */
    static uint8_t pcr33[4 + 33];        /* {0: h'..' (33 bytes)} */
    static uint8_t pcr_text_val[4 + 32]; /* {0: "aaa..."} */
    static uint8_t pcr_dup[1 + 35 + 36]; /* {3: h'..', 3 (one-byte head): h'..'} */
    static uint8_t big_log[ATT_PROTO_MAX_TPMBLOB + 1];

    (void)state;
    memcpy(pcr31, "\xa1\x00\x58\x1f", 4);
    memcpy(pcr33, "\xa1\x00\x58\x21", 4);
    memcpy(pcr_text_val, "\xa1\x00\x78\x20", 4);
    memset(pcr_text_val + 4, 'a', 32);
    memcpy(pcr_dup, "\xa2\x03\x58\x20", 4);
    memcpy(pcr_dup + 36, "\x18\x03\x58\x20", 4);
    expect_field_fail(2, 0, (struct tval)TUINT(2), "evidence: field \"version\" must be 1");
    expect_field_fail(2, 1, (struct tval)TBYTES(big_log, 0), "field \"attest\"");
    expect_field_fail(2, 2, (struct tval)TBYTES(big_log, ATT_PROTO_MAX_TPMBLOB + 1),
                      "field \"sig\"");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr24), "field \"pcrs\" keys must be PCR indexes");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr_neg), "field \"pcrs\" keys");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr_text_key), "field \"pcrs\" keys");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr_empty), "field \"pcrs\" must be a map");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr31), "field \"pcrs\" PCR 0 must be a 32-byte");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr33), "field \"pcrs\" PCR 0 must be a 32-byte");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr_text_val), "field \"pcrs\" PCR 0");
    expect_field_fail(2, 3, (struct tval)TRAW(pcr_dup), "field \"pcrs\" has PCR 3 twice");
    expect_field_fail(2, 4, (struct tval)TUINT(24), "field \"meas_pcr\"");
    expect_field_fail(2, 5, (struct tval)TUINT(6), "\"log_offset\" must not exceed \"log_count\"");
    expect_field_ok(2, 5, (struct tval)TUINT(5));
    expect_field_ok(2, 7, (struct tval)TBYTES(big_log, 0));
    expect_field_ok(2, 7, (struct tval)TBYTES(big_log, sizeof(big_log)));
    expect_field_ok(2, 7, (struct tval)TBYTES(cert, sizeof(cert)));
    expect_field_fail(2, 8, (struct tval)TUINT(0x100000000ull), "field \"reset_count\"");
    expect_field_ok(2, 9, (struct tval)TUINT(0xffffffffu));
    expect_field_fail(2, 9, (struct tval)TUINT(0x100000000ull), "field \"restart_count\"");
    expect_field_fail(2, 10, (struct tval)TTEXT(""), "field \"boot_id\"");
    expect_field_fail(2, 11, (struct tval)TUINT(1),
                      "field \"log_consistent\" must be true or false");
    expect_field_fail(2, 11, (struct tval)TRAW(raw_half), "field \"log_consistent\"");
    expect_field_fail(2, 11, (struct tval)TRAW(raw_float8), "field \"log_consistent\"");
    expect_field_ok(2, 11, (struct tval)TBOOL(0));
    expect_field_ok(2, 12, (struct tval)TTEXT(""));
}

static void test_evidence_decode_all_24_pcrs(void **state)
{
    struct att_buf b;
    struct att_buf m;
    struct att_evidence ev;
    struct tval v;
    unsigned i;
    uint8_t val[32];

    (void)state;
    att_buf_init(&m, 4096);
    put_map(&m, 24);
    /* any key order is accepted on input */
    for (i = 24; i-- > 0;) {
        put_uint(&m, i);
        memset(val, (int)i, sizeof(val));
        put_bytes(&m, val, sizeof(val));
    }
    v = (struct tval){.kind = T_RAW, .p = m.data, .len = m.len};
    build(&b, evidence_fields, NELEM(evidence_fields), NONE, 3, &v, NONE);
    assert_int_equal(att_evidence_decode(b.data, b.len, &ev, NULL, 0), ATT_OK);
    assert_int_equal(ev.pcrs.mask, ATT_PCR_ALL_MASK);
    for (i = 0; i < 24; i++) {
        memset(val, (int)i, sizeof(val));
        assert_memory_equal(ev.pcrs.value[i], val, sizeof(val));
    }
    att_evidence_cleanup(&ev);
    att_buf_cleanup(&b);
    att_buf_cleanup(&m);
}

static void test_error_decode_bad_values(void **state)
{
    struct att_buf b;
    char *msg = (char *)(uintptr_t) "stale";
    static char longtext[ATT_PROTO_MAX_TEXT + 1];
    struct tval v = {.kind = T_TEXT, .p = longtext, .len = sizeof(longtext)};
    struct tval e = TTEXT("");

    (void)state;
    memset(longtext, 'e', sizeof(longtext));
    build(&b, error_fields, 1, NONE, 0, &v, NONE);
    assert_int_equal(att_error_decode(b.data, b.len, &msg), ATT_ERR_PARSE);
    assert_null(msg);
    att_buf_cleanup(&b);
    build(&b, error_fields, 1, NONE, 0, &e, NONE);
    assert_int_equal(att_error_decode(b.data, b.len, &msg), ATT_ERR_PARSE);
    att_buf_cleanup(&b);
}

/* ------------------------------------------------------------------------- */
/* Round trips and encoding                                                  */

/* Keys of the top-level map must be in RFC 8949 §4.2.1 order. */
static void assert_deterministic_keys(const struct att_buf *b)
{
    struct cbor_load_result res;
    cbor_item_t *item = cbor_load(b->data, b->len, &res);
    struct cbor_pair *pairs;
    size_t i;

    assert_non_null(item);
    assert_int_equal(res.read, b->len);
    assert_true(cbor_isa_map(item) && cbor_map_is_definite(item));
    pairs = cbor_map_handle(item);
    for (i = 1; i < cbor_map_size(item); i++) {
        size_t la = cbor_string_length(pairs[i - 1].key);
        size_t lb = cbor_string_length(pairs[i].key);

        assert_true(la < lb || (la == lb && memcmp(cbor_string_handle(pairs[i - 1].key),
                                                   cbor_string_handle(pairs[i].key), la) < 0));
    }
    cbor_decref(&item);
}

static void test_identity_round_trip(void **state)
{
    struct att_identity in;
    struct att_identity out;
    struct att_buf b;
    struct att_buf b2;
    char why[128];
    int certs;

    (void)state;
    for (certs = 0; certs < 4; certs++) {
        sample_identity(&in);
        if ((certs & 1) == 0) {
            in.ek_cert_rsa = NULL;
            in.ek_cert_rsa_len = 0;
        }
        if ((certs & 2) != 0) {
            in.ek_cert_ecc = (uint8_t *)(uintptr_t)blob;
            in.ek_cert_ecc_len = 7;
            in.ek_alg = (char *)(uintptr_t) "ecc";
        }
        att_buf_init(&b, BUF_MAX);
        att_buf_init(&b2, BUF_MAX);
        assert_int_equal(att_identity_encode(&in, &b), ATT_OK);
        assert_deterministic_keys(&b);
        assert_int_equal(att_identity_decode(b.data, b.len, &out, why, sizeof(why)), ATT_OK);
        assert_int_equal(out.version, in.version);
        assert_string_equal(out.agent_id, in.agent_id);
        assert_string_equal(out.ek_alg, in.ek_alg);
        assert_int_equal(out.ek_cert_rsa_len, in.ek_cert_rsa_len);
        assert_int_equal(out.ek_cert_ecc_len, in.ek_cert_ecc_len);
        if (in.ek_cert_rsa == NULL) {
            assert_null(out.ek_cert_rsa);
        } else {
            assert_memory_equal(out.ek_cert_rsa, in.ek_cert_rsa, in.ek_cert_rsa_len);
        }
        if (in.ek_cert_ecc == NULL) {
            assert_null(out.ek_cert_ecc);
        } else {
            assert_memory_equal(out.ek_cert_ecc, in.ek_cert_ecc, in.ek_cert_ecc_len);
        }
        assert_int_equal(out.ek_pub_len, in.ek_pub_len);
        assert_memory_equal(out.ek_pub, in.ek_pub, in.ek_pub_len);
        assert_int_equal(out.ak_pub_len, in.ak_pub_len);
        assert_memory_equal(out.ak_pub, in.ak_pub, in.ak_pub_len);
        assert_int_equal(out.meas_pcr, in.meas_pcr);
        assert_string_equal(out.boot_id, in.boot_id);
        /* decode(encode(x)) encodes to the same bytes */
        assert_int_equal(att_identity_encode(&out, &b2), ATT_OK);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.data, b.data, b.len);
        att_identity_cleanup(&out);
        att_buf_cleanup(&b);
        att_buf_cleanup(&b2);
    }
}

static void test_request_round_trip(void **state)
{
    struct att_evidence_request in;
    struct att_evidence_request out;
    struct att_buf b;
    /* known answer: the exact deterministic encoding */
    static const uint8_t head[] = {0xa3, 0x65, 'n', 'o', 'n', 'c', 'e', 0x58, 0x20};
    static const uint8_t tail[] = {0x68, 'p', 'c', 'r', '_', 'm', 'a', 's', 'k', 0x19, 0x80, 0x01,
                                   0x6a, 'l', 'o', 'g', '_', 'o', 'f', 'f', 's', 'e',  't',  0x05};

    (void)state;
    sample_request(&in);
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_evidence_request_encode(&in, &b), ATT_OK);
    assert_int_equal(b.len, sizeof(head) + 32 + sizeof(tail));
    assert_memory_equal(b.data, head, sizeof(head));
    assert_memory_equal(b.data + sizeof(head), nonce32, 32);
    assert_memory_equal(b.data + sizeof(head) + 32, tail, sizeof(tail));
    assert_int_equal(att_evidence_request_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_memory_equal(out.nonce, in.nonce, 32);
    assert_int_equal(out.pcr_mask, in.pcr_mask);
    assert_int_equal(out.log_offset, in.log_offset);
    att_buf_cleanup(&b);
}

static void test_evidence_round_trip(void **state)
{
    struct att_evidence in;
    struct att_evidence out;
    struct att_buf b;
    struct att_buf b2;
    unsigned i;
    int variant;

    (void)state;
    for (variant = 0; variant < 3; variant++) {
        sample_evidence(&in);
        if (variant == 1) {
            in.log = NULL;
            in.log_len = 0;
            in.log_offset = in.log_count;
            in.log_consistent = false;
            in.log_status = (char *)(uintptr_t) "";
            in.pcrs.mask = ATT_PCR_ALL_MASK;
        } else if (variant == 2) {
            in.pcrs.mask = 1u << 23;
            in.log_offset = UINT64_MAX;
            in.log_count = UINT64_MAX;
        }
        att_buf_init(&b, BUF_MAX);
        att_buf_init(&b2, BUF_MAX);
        assert_int_equal(att_evidence_encode(&in, &b), ATT_OK);
        assert_deterministic_keys(&b);
        assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
        assert_int_equal(out.version, in.version);
        assert_int_equal(out.attest_len, in.attest_len);
        assert_memory_equal(out.attest, in.attest, in.attest_len);
        assert_int_equal(out.sig_len, in.sig_len);
        assert_memory_equal(out.sig, in.sig, in.sig_len);
        assert_int_equal(out.pcrs.mask, in.pcrs.mask);
        for (i = 0; i < ATT_PCR_COUNT; i++) {
            if ((in.pcrs.mask & (1u << i)) != 0) {
                assert_memory_equal(out.pcrs.value[i], in.pcrs.value[i], ATT_SHA256_LEN);
            } else {
                static const uint8_t zero[ATT_SHA256_LEN];

                assert_memory_equal(out.pcrs.value[i], zero, ATT_SHA256_LEN);
            }
        }
        assert_int_equal(out.meas_pcr, in.meas_pcr);
        assert_true(out.log_offset == in.log_offset);
        assert_true(out.log_count == in.log_count);
        assert_int_equal(out.log_len, in.log_len);
        if (in.log_len > 0) {
            assert_memory_equal(out.log, in.log, in.log_len);
        } else {
            assert_null(out.log);
        }
        assert_int_equal(out.reset_count, in.reset_count);
        assert_int_equal(out.restart_count, in.restart_count);
        assert_string_equal(out.boot_id, in.boot_id);
        assert_int_equal(out.log_consistent, in.log_consistent);
        assert_string_equal(out.log_status, in.log_status);
        assert_int_equal(att_evidence_encode(&out, &b2), ATT_OK);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.data, b.data, b.len);
        att_evidence_cleanup(&out);
        att_buf_cleanup(&b);
        att_buf_cleanup(&b2);
    }
}

/* A log of a few MiB survives the trip; one that would push the body past the cap does not encode.
 */
static void test_evidence_large_log(void **state)
{
    struct att_evidence in;
    struct att_evidence out;
    struct att_buf b;
    size_t len = 3u << 20;
    uint8_t *log = malloc(ATT_PROTO_MAX_BODY);
    size_t i;

    (void)state;
    assert_non_null(log);
    for (i = 0; i < ATT_PROTO_MAX_BODY; i++) {
        log[i] = (uint8_t)(i * 31u);
    }
    sample_evidence(&in);
    in.log = log;
    in.log_len = len;
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_evidence_encode(&in, &b), ATT_OK);
    assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_int_equal(out.log_len, len);
    assert_memory_equal(out.log, log, len);
    att_evidence_cleanup(&out);
    att_buf_reset(&b);
    in.log_len = ATT_PROTO_MAX_BODY;
    assert_int_equal(att_evidence_encode(&in, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    att_buf_cleanup(&b);
    free(log);
}

static void test_error_round_trip(void **state)
{
    struct att_buf b;
    char *msg = NULL;
    static const uint8_t expect[] = {0xa1, 0x65, 'e', 'r', 'r', 'o', 'r', 0x62, 'n', 'o'};

    (void)state;
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_error_encode("no", &b), ATT_OK);
    assert_int_equal(b.len, sizeof(expect));
    assert_memory_equal(b.data, expect, sizeof(expect));
    assert_int_equal(att_error_decode(b.data, b.len, &msg), ATT_OK);
    assert_string_equal(msg, "no");
    free(msg);
    att_buf_cleanup(&b);
}

/* Encoders append: two messages side by side in one buffer. */
static void test_encode_appends(void **state)
{
    struct att_buf b;
    size_t first;

    (void)state;
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_error_encode("one", &b), ATT_OK);
    first = b.len;
    assert_int_equal(att_error_encode("two", &b), ATT_OK);
    assert_int_equal(b.len, 2 * first);
    assert_int_equal(att_error_decode(b.data, b.len, &(char *){NULL}), ATT_ERR_PARSE);
    att_buf_cleanup(&b);
}

/*
 * Mutation sweep (shared/STYLE.md §8): flip every bit of valid encodings. No
 * crash, no leak; whatever still decodes must encode again.
 */
static void test_decode_bit_flips(void **state)
{
    struct att_identity id;
    struct att_evidence ev;
    struct att_buf b;
    struct att_buf re;
    size_t i;
    int bit;
    int msg;

    (void)state;
    for (msg = 0; msg < 2; msg++) {
        att_buf_init(&b, BUF_MAX);
        if (msg == 0) {
            sample_identity(&id);
            assert_int_equal(att_identity_encode(&id, &b), ATT_OK);
        } else {
            sample_evidence(&ev);
            ev.log_len = 8;
            assert_int_equal(att_evidence_encode(&ev, &b), ATT_OK);
        }
        for (i = 0; i < b.len; i++) {
            for (bit = 0; bit < 8; bit++) {
                att_rc rc;

                b.data[i] ^= (uint8_t)(1u << bit);
                att_buf_init(&re, BUF_MAX);
                if (msg == 0) {
                    rc = att_identity_decode(b.data, b.len, &id, NULL, 0);
                    if (rc == ATT_OK) {
                        assert_int_equal(att_identity_encode(&id, &re), ATT_OK);
                    }
                    att_identity_cleanup(&id);
                } else {
                    rc = att_evidence_decode(b.data, b.len, &ev, NULL, 0);
                    if (rc == ATT_OK) {
                        assert_int_equal(att_evidence_encode(&ev, &re), ATT_OK);
                    }
                    att_evidence_cleanup(&ev);
                }
                assert_true(rc == ATT_OK || rc == ATT_ERR_PARSE);
                att_buf_cleanup(&re);
                b.data[i] ^= (uint8_t)(1u << bit);
            }
        }
        att_buf_cleanup(&b);
    }
}

/* ------------------------------------------------------------------------- */
/* The vulnerability feed (issue 8): the verifier's feed in an evidence      */
/* request, the digest of the agent's feed in its evidence                   */

static const char feed_text[] =
    "attest-vulndb 1 1700000000\n"
    "Debian:12\topenssl\tCVE-2024-0001\thigh\t-\t3.0.13-1~deb12u1\t-\tDSA-5678-1\n";

/* Whether @p s occurs in @p b (memmem is not C11). */
static bool has_bytes(const struct att_buf *b, const char *s)
{
    size_t n = strlen(s);
    size_t i;

    for (i = 0; i + n <= b->len; i++) {
        if (memcmp(b->data + i, s, n) == 0) {
            return true;
        }
    }
    return false;
}

/* A request carrying a feed: the bytes come back exactly, next to the other optional fields. */
static void test_request_vulnfeed_round_trip(void **state)
{
    struct att_evidence_request in;
    struct att_evidence_request out;
    struct att_buf b;
    struct att_buf b2;
    static const uint8_t binary[] = {0x00, 0xff, '\n', 0x00, 0x80}; /* opaque to the codec */
    uint8_t order[40];
    struct att_blob orders[1] = {{order, sizeof(order)}};
    int variant;

    (void)state;
    memset(order, 0x5a, sizeof(order));
    for (variant = 0; variant < 3; variant++) {
        sample_request(&in);
        in.vulnfeed = (uint8_t *)(uintptr_t)feed_text;
        in.vulnfeed_len = sizeof(feed_text) - 1;
        if (variant == 1) {
            in.vulnfeed = (uint8_t *)(uintptr_t)binary;
            in.vulnfeed_len = sizeof(binary);
        } else if (variant == 2) {
            /* every optional field at once, keys still in deterministic order */
            in.admission = (char *)(uintptr_t) "{\"version\": 1}";
            in.orders = orders;
            in.n_orders = 1;
            in.vulnfeed_len = 1;
        }
        att_buf_init(&b, BUF_MAX);
        att_buf_init(&b2, BUF_MAX);
        assert_int_equal(att_evidence_request_encode(&in, &b), ATT_OK);
        assert_deterministic_keys(&b);
        assert_int_equal(att_evidence_request_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
        assert_memory_equal(out.nonce, in.nonce, 32);
        assert_int_equal(out.pcr_mask, in.pcr_mask);
        assert_int_equal(out.log_offset, in.log_offset);
        assert_non_null(out.vulnfeed);
        assert_int_equal(out.vulnfeed_len, in.vulnfeed_len);
        assert_memory_equal(out.vulnfeed, in.vulnfeed, in.vulnfeed_len);
        if (variant == 2) {
            assert_string_equal(out.admission, in.admission);
            assert_int_equal(out.n_orders, 1);
            assert_memory_equal(out.orders[0].data, order, sizeof(order));
        } else {
            assert_null(out.admission);
            assert_int_equal(out.n_orders, 0);
        }
        assert_int_equal(att_evidence_request_encode(&out, &b2), ATT_OK);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.data, b.data, b.len);
        att_evidence_request_cleanup(&out);
        assert_null(out.vulnfeed);
        assert_int_equal(out.vulnfeed_len, 0);
        att_buf_cleanup(&b);
        att_buf_cleanup(&b2);
    }
    /* without a feed the field is absent and decodes as NULL */
    sample_request(&in);
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_evidence_request_encode(&in, &b), ATT_OK);
    assert_false(has_bytes(&b, "vulnfeed"));
    assert_int_equal(att_evidence_request_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_null(out.vulnfeed);
    assert_int_equal(out.vulnfeed_len, 0);
    att_evidence_request_cleanup(&out);
    /* an empty feed cannot be sent: encode refuses it and leaves the buffer alone */
    in.vulnfeed = (uint8_t *)(uintptr_t)feed_text;
    in.vulnfeed_len = 0;
    assert_int_equal(att_evidence_request_encode(&in, &b), ATT_ERR_INVALID_ARG);
    att_buf_cleanup(&b);
}

/* A request with field "vulnfeed" set to @p v. */
static void build_request_vulnfeed(struct att_buf *b, struct tval v)
{
    struct tfield f[NELEM(request_fields) + 1];

    memcpy(f, request_fields, sizeof(request_fields));
    f[NELEM(request_fields)].key = "vulnfeed";
    f[NELEM(request_fields)].v = v;
    build(b, f, NELEM(f), NONE, NONE, NULL, NONE);
}

static void test_request_vulnfeed_decode_bad_values(void **state)
{
    static const struct tval bad[] = {
        TBYTES(blob, 0), TTEXT("attest-vulndb 1 0\n"), TUINT(1), TRAW(raw_null), TRAW(raw_array),
        TRAW(raw_map),
    };
    struct att_buf b;
    struct att_evidence_request out;
    uint8_t *big;
    size_t i;
    char why[256];

    (void)state;
    for (i = 0; i < NELEM(bad); i++) {
        build_request_vulnfeed(&b, bad[i]);
        expect_parse_fail(&cases[1], &b, "field \"vulnfeed\"");
        att_buf_cleanup(&b);
    }
    /* the largest feed goes through, one byte more is refused */
    big = malloc(ATT_PROTO_MAX_VULNFEED + 1u);
    assert_non_null(big);
    memset(big, 'v', ATT_PROTO_MAX_VULNFEED + 1u);
    build_request_vulnfeed(&b, (struct tval)TBYTES(big, ATT_PROTO_MAX_VULNFEED));
    why[0] = '\0';
    assert_int_equal(att_evidence_request_decode(b.data, b.len, &out, why, sizeof(why)), ATT_OK);
    assert_int_equal(out.vulnfeed_len, ATT_PROTO_MAX_VULNFEED);
    att_evidence_request_cleanup(&out);
    att_buf_cleanup(&b);
    build_request_vulnfeed(&b, (struct tval)TBYTES(big, ATT_PROTO_MAX_VULNFEED + 1u));
    expect_parse_fail(&cases[1], &b, "field \"vulnfeed\"");
    att_buf_cleanup(&b);
    free(big);
}

/* Evidence saying which feed the agent holds: the 32-byte digest comes back, its absence too. */
static void test_evidence_vulnfeed_round_trip(void **state)
{
    struct att_evidence in;
    struct att_evidence out;
    struct att_buf b;
    struct att_buf b2;
    static const uint8_t zero[32];
    size_t i;

    (void)state;
    sample_evidence(&in);
    in.has_vulnfeed = true;
    for (i = 0; i < sizeof(in.vulnfeed); i++) {
        in.vulnfeed[i] = (uint8_t)(0xf0u ^ i);
    }
    in.inventory =
        (char *)(uintptr_t) "1111111111111111111111111111111111111111111111111111111111111111 r";
    att_buf_init(&b, BUF_MAX);
    att_buf_init(&b2, BUF_MAX);
    assert_int_equal(att_evidence_encode(&in, &b), ATT_OK);
    assert_deterministic_keys(&b);
    assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_true(out.has_vulnfeed);
    assert_memory_equal(out.vulnfeed, in.vulnfeed, sizeof(in.vulnfeed));
    assert_string_equal(out.inventory, in.inventory);
    assert_int_equal(att_evidence_encode(&out, &b2), ATT_OK);
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    att_evidence_cleanup(&out);
    att_buf_reset(&b);

    /* no feed: no field on the wire, has_vulnfeed false and the digest zero after decode */
    sample_evidence(&in);
    assert_int_equal(att_evidence_encode(&in, &b), ATT_OK);
    assert_false(has_bytes(&b, "vulnfeed"));
    memset(&out, 0xee, sizeof(out)); /* decode must set every field it reports */
    assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_false(out.has_vulnfeed);
    assert_memory_equal(out.vulnfeed, zero, sizeof(zero));
    att_evidence_cleanup(&out);
    att_buf_cleanup(&b);
    att_buf_cleanup(&b2);
}

/* Evidence with field "vulnfeed" set to @p v. */
static void build_evidence_vulnfeed(struct att_buf *b, struct tval v, bool dup)
{
    struct tfield f[NELEM(evidence_fields) + 1];

    memcpy(f, evidence_fields, sizeof(evidence_fields));
    f[NELEM(evidence_fields)].key = "vulnfeed";
    f[NELEM(evidence_fields)].v = v;
    build(b, f, NELEM(f), NONE, NONE, NULL, dup ? NELEM(evidence_fields) : NONE);
}

/* The digest is exactly 32 bytes: 31, 33, empty and other types are refused on decode. */
static void test_evidence_vulnfeed_decode_bad_values(void **state)
{
    static const uint8_t digest[33] = {0xab};
    static const struct tval bad[] = {
        TBYTES(digest, 31),
        TBYTES(digest, 33),
        TBYTES(digest, 0),
        TBYTES(digest, 1),
        TTEXT("0123456789abcdef0123456789abcdef"),
        TUINT(0),
        TBOOL(1),
        TRAW(raw_null),
        TRAW(raw_array),
        TRAW(raw_tag),
    };
    struct att_buf b;
    struct att_evidence out;
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(bad); i++) {
        build_evidence_vulnfeed(&b, bad[i], false);
        expect_parse_fail(&cases[2], &b, "field \"vulnfeed\"");
        att_buf_cleanup(&b);
    }
    build_evidence_vulnfeed(&b, (struct tval)TBYTES(digest, 31), false);
    assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_ERR_PARSE);
    assert_false(out.has_vulnfeed);
    att_buf_cleanup(&b);
    /* twice is refused like any duplicate key */
    build_evidence_vulnfeed(&b, (struct tval)TBYTES(digest, 32), true);
    expect_parse_fail(&cases[2], &b, "vulnfeed");
    att_buf_cleanup(&b);
    /* and exactly 32 bytes decode */
    build_evidence_vulnfeed(&b, (struct tval)TBYTES(digest, 32), false);
    assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_true(out.has_vulnfeed);
    assert_memory_equal(out.vulnfeed, digest, 32);
    att_evidence_cleanup(&out);
    att_buf_cleanup(&b);
}

/* ------------------------------------------------------------------------- */
/* Network policy counters in evidence (issue 9)                             */

static const char netstats_text[] =
    "1111111111111111111111111111111111111111111111111111111111111111 3 0 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
    "2222222222222222222222222222222222222222222222222222222222222222 0 17 "
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\n";

/* With "netstats" (alone and next to every other optional field) and without it. */
static void test_evidence_netstats_round_trip(void **state)
{
    struct att_evidence in;
    struct att_evidence out;
    struct att_buf b;
    struct att_buf b2;
    int variant;

    (void)state;
    for (variant = 0; variant < 2; variant++) {
        sample_evidence(&in);
        in.netstats = (char *)(uintptr_t)netstats_text;
        if (variant == 1) {
            in.inventory =
                (char *)(uintptr_t) "1111111111111111111111111111111111111111111111111111"
                                    "111111111111 - web";
            in.has_vulnfeed = true;
            memset(in.vulnfeed, 0x42, sizeof(in.vulnfeed));
        }
        att_buf_init(&b, BUF_MAX);
        att_buf_init(&b2, BUF_MAX);
        assert_int_equal(att_evidence_encode(&in, &b), ATT_OK);
        assert_deterministic_keys(&b);
        assert_true(has_bytes(&b, "netstats"));
        assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
        assert_non_null(out.netstats);
        assert_string_equal(out.netstats, netstats_text);
        if (variant == 1) {
            assert_string_equal(out.inventory, in.inventory);
            assert_true(out.has_vulnfeed);
        } else {
            assert_null(out.inventory);
        }
        assert_int_equal(att_evidence_encode(&out, &b2), ATT_OK);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.data, b.data, b.len);
        att_evidence_cleanup(&out);
        assert_null(out.netstats);
        att_buf_cleanup(&b);
        att_buf_cleanup(&b2);
    }
    /* without: no key on the wire, NULL after decode */
    sample_evidence(&in);
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_evidence_encode(&in, &b), ATT_OK);
    assert_false(has_bytes(&b, "netstats"));
    memset(&out, 0xee, sizeof(out));
    assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_null(out.netstats);
    att_evidence_cleanup(&out);
    att_buf_cleanup(&b);
    /* the encoder refuses what the decoder would: empty text */
    sample_evidence(&in);
    in.netstats = (char *)(uintptr_t) "";
    att_buf_init(&b, BUF_MAX);
    assert_int_equal(att_evidence_encode(&in, &b), ATT_ERR_INVALID_ARG);
    att_buf_cleanup(&b);
}

/* Evidence with field "netstats" set to @p v. */
static void build_evidence_netstats(struct att_buf *b, struct tval v, bool dup)
{
    struct tfield f[NELEM(evidence_fields) + 1];

    memcpy(f, evidence_fields, sizeof(evidence_fields));
    f[NELEM(evidence_fields)].key = "netstats";
    f[NELEM(evidence_fields)].v = v;
    build(b, f, NELEM(f), NONE, NONE, NULL, dup ? NELEM(evidence_fields) : NONE);
}

/* A non-text, empty, NUL-carrying, invalid UTF-8, oversized or repeated "netstats" is refused. */
static void test_evidence_netstats_decode_bad_values(void **state)
{
    static const uint8_t bytes[] = {'1', ' ', '2'};
    static const uint8_t bad_utf8[] = {0x7a, 0x61, 0xff, 0xfe};
    static const uint8_t with_nul[] = {'a', 0x00, 'b'};
    const struct tval bad[] = {
        TUINT(0),
        TBYTES(bytes, sizeof(bytes)),
        TBOOL(1),
        TTEXT(""),
        {.kind = T_TEXT, .p = with_nul, .len = sizeof(with_nul)},
        TRAW(raw_null),
        TRAW(raw_array),
        TRAW(raw_map),
        TRAW(raw_tag),
    };
    struct att_buf b;
    struct att_evidence out;
    char *big;
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(bad); i++) {
        build_evidence_netstats(&b, bad[i], false);
        expect_parse_fail(&cases[2], &b, "field \"netstats\"");
        assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_ERR_PARSE);
        assert_null(out.netstats);
        att_buf_cleanup(&b);
    }
    /* invalid UTF-8 is refused before any field is looked at */
    build_evidence_netstats(
        &b, (struct tval){.kind = T_TEXT, .p = bad_utf8, .len = sizeof(bad_utf8)}, false);
    expect_parse_fail(&cases[2], &b, "UTF-8");
    att_buf_cleanup(&b);
    build_evidence_netstats(&b, (struct tval)TTEXT("x"), true);
    expect_parse_fail(&cases[2], &b, "netstats");
    att_buf_cleanup(&b);
    big = malloc(ATT_PROTO_MAX_NETSTATS + 1u);
    assert_non_null(big);
    memset(big, 'a', ATT_PROTO_MAX_NETSTATS + 1u);
    build_evidence_netstats(
        &b, (struct tval){.kind = T_TEXT, .p = big, .len = ATT_PROTO_MAX_NETSTATS + 1u}, false);
    expect_parse_fail(&cases[2], &b, "field \"netstats\"");
    att_buf_cleanup(&b);
    build_evidence_netstats(
        &b, (struct tval){.kind = T_TEXT, .p = big, .len = ATT_PROTO_MAX_NETSTATS}, false);
    assert_int_equal(att_evidence_decode(b.data, b.len, &out, NULL, 0), ATT_OK);
    assert_int_equal(strlen(out.netstats), ATT_PROTO_MAX_NETSTATS);
    att_evidence_cleanup(&out);
    att_buf_cleanup(&b);
    free(big);
}

static void test_activate_round_trip_and_rejects(void **state)
{
    uint8_t cblob[70];
    uint8_t enc[258];
    uint8_t sec[32];
    struct att_activate_request r = {cblob, sizeof(cblob), enc, sizeof(enc), NULL, 0};
    struct att_activate_request r2;
    struct att_activate_response a = {sec, sizeof(sec)};
    struct att_activate_response a2;
    struct att_buf b;
    char why[256] = "";
    size_t cut;

    (void)state;
    memset(cblob, 1, sizeof(cblob));
    memset(enc, 2, sizeof(enc));
    memset(sec, 3, sizeof(sec));
    att_buf_init(&b, 1u << 16);
    assert_int_equal(att_activate_request_encode(&r, &b), ATT_OK);
    assert_int_equal(att_activate_request_decode(b.data, b.len, &r2, why, sizeof(why)), ATT_OK);
    assert_int_equal(r2.cred_blob_len, sizeof(cblob));
    assert_memory_equal(r2.enc_secret, enc, sizeof(enc));
    att_activate_request_cleanup(&r2);
    for (cut = 0; cut < b.len; cut++) {
        assert_int_equal(att_activate_request_decode(b.data, cut, &r2, why, sizeof(why)),
                         ATT_ERR_PARSE);
        assert_null(r2.cred_blob);
    }
    att_buf_reset(&b);
    assert_int_equal(att_activate_response_encode(&a, &b), ATT_OK);
    assert_int_equal(att_activate_response_decode(b.data, b.len, &a2, why, sizeof(why)), ATT_OK);
    assert_int_equal(a2.secret_len, sizeof(sec));
    att_activate_response_cleanup(&a2);
    /* a request is not a response: the required field is missing */
    att_buf_reset(&b);
    assert_int_equal(att_activate_request_encode(&r, &b), ATT_OK);
    assert_int_equal(att_activate_response_decode(b.data, b.len, &a2, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "secret"));
    a.secret_len = 65; /* over the 64-byte cap */
    assert_int_equal(att_activate_response_encode(&a, &b), ATT_ERR_INVALID_ARG);
    r.cred_blob_len = 0;
    assert_int_equal(att_activate_request_encode(&r, &b), ATT_ERR_INVALID_ARG);
    att_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activate_round_trip_and_rejects),
        cmocka_unit_test(test_decode_null_args),
        cmocka_unit_test(test_decode_empty),
        cmocka_unit_test(test_encode_null_args),
        cmocka_unit_test(test_encode_invalid_structs),
        cmocka_unit_test(test_encode_buffer_cap_rolls_back),
        cmocka_unit_test(test_decode_truncated_every_length),
        cmocka_unit_test(test_decode_trailing_garbage),
        cmocka_unit_test(test_decode_not_a_map),
        cmocka_unit_test(test_decode_malformed_cbor),
        cmocka_unit_test(test_decode_wrong_types_every_field),
        cmocka_unit_test(test_decode_missing_required_fields),
        cmocka_unit_test(test_decode_duplicate_keys),
        cmocka_unit_test(test_decode_duplicate_key_long_head),
        cmocka_unit_test(test_decode_non_text_key),
        cmocka_unit_test(test_decode_indefinite_rejected),
        cmocka_unit_test(test_decode_unknown_keys_ignored),
        cmocka_unit_test(test_decode_too_deep),
        cmocka_unit_test(test_decode_too_many_items),
        cmocka_unit_test(test_decode_oversized_body),
        cmocka_unit_test(test_decode_failure_clears_out),
        cmocka_unit_test(test_decode_why_truncated),
        cmocka_unit_test(test_identity_decode_bad_values),
        cmocka_unit_test(test_request_decode_bad_values),
        cmocka_unit_test(test_evidence_decode_bad_values),
        cmocka_unit_test(test_evidence_decode_all_24_pcrs),
        cmocka_unit_test(test_error_decode_bad_values),
        cmocka_unit_test(test_identity_round_trip),
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_evidence_round_trip),
        cmocka_unit_test(test_evidence_large_log),
        cmocka_unit_test(test_error_round_trip),
        cmocka_unit_test(test_encode_appends),
        cmocka_unit_test(test_decode_bit_flips),
        cmocka_unit_test(test_request_vulnfeed_round_trip),
        cmocka_unit_test(test_request_vulnfeed_decode_bad_values),
        cmocka_unit_test(test_evidence_vulnfeed_round_trip),
        cmocka_unit_test(test_evidence_vulnfeed_decode_bad_values),
        cmocka_unit_test(test_evidence_netstats_round_trip),
        cmocka_unit_test(test_evidence_netstats_decode_bad_values),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
