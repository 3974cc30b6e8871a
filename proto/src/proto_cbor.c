/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CBOR (RFC 8949) encoders and decoders for the agent <-> verifier messages
 * described by proto/attest.cddl (RFC 8610), built on libcbor 0.8.
 * Encoders write the deterministic form of RFC 8949 §4.2.1: definite lengths,
 * shortest heads, map keys in bytewise order of their encodings. Decoders
 * pre-scan the untrusted bytes with libcbor's streaming decoder (item count,
 * nesting depth, definite lengths, exactly one item) before cbor_load builds
 * a tree, then check every field. No I/O, no logging, no globals.
 * Contract and limits: docs/internals/proto.md.
 */
#include "attest/proto.h"
#include "attest/sigkey.h"
#include "attest/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

/*
 * Pre-scan limits. The largest valid message (evidence with all 24 PCRs) has
 * 75 items at depth 2; the caps leave room for unknown keys that a newer peer
 * may add, yet keep libcbor from building millions of nodes (about 64 bytes
 * of heap each) out of a 32 MiB body, and bound the quadratic duplicate-key
 * check below.
 */
#define PRESCAN_MAX_ITEMS 1024u
#define PRESCAN_MAX_DEPTH 8u

/* Field limits shared by encoders and decoders, so that whatever we encode decodes. */
#define TEXT_MIN      1u
#define STATUS_MIN    0u
#define PCR_INDEX_MAX (ATT_PCR_COUNT - 1u)

/* ------------------------------------------------------------------------- */
/* Error reporting                                                           */

struct dec {
    const char *msg; /* message name that prefixes every why: "evidence" */
    char *why;       /* caller's buffer, may be NULL */
    size_t why_len;
};

/*
 * Write "<msg>: <formatted text>" into the caller's why buffer (truncated to
 * fit, always NUL-terminated when why_len > 0) and return @p rc, so that a
 * check reads as one line: return fail(d, "..."), which gives ATT_ERR_PARSE.
 */
static att_rc fail_rc(struct dec *d, att_rc rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static att_rc fail_rc(struct dec *d, att_rc rc, const char *fmt, va_list ap)
{
    int n;

    if (d->why == NULL || d->why_len == 0) {
        return rc;
    }
    n = snprintf(d->why, d->why_len, "%s: ", d->msg);
    if (n >= 0 && (size_t)n < d->why_len) {
        (void)vsnprintf(d->why + n, d->why_len - (size_t)n, fmt, ap);
    }
    return rc;
}

static att_rc fail(struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static att_rc fail(struct dec *d, const char *fmt, ...)
{
    va_list ap;
    att_rc rc;

    va_start(ap, fmt);
    rc = fail_rc(d, ATT_ERR_PARSE, fmt, ap);
    va_end(ap);
    return rc;
}

static att_rc fail_arg(struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static att_rc fail_arg(struct dec *d, const char *fmt, ...)
{
    va_list ap;
    att_rc rc;

    va_start(ap, fmt);
    rc = fail_rc(d, ATT_ERR_INVALID_ARG, fmt, ap);
    va_end(ap);
    return rc;
}

static void why_clear(struct dec *d)
{
    if (d->why != NULL && d->why_len > 0) {
        d->why[0] = '\0';
    }
}


/* ------------------------------------------------------------------------- */
/* Pre-scan: well-formedness and resource limits before cbor_load            */

struct scan {
    size_t items;                     /* data items seen so far, tags included */
    size_t depth;                     /* open containers (arrays, maps, tags) */
    uint64_t left[PRESCAN_MAX_DEPTH]; /* items each open container still expects */
    bool has_root;                    /* the top-level item has started */
    const char *err;                  /* first problem, static text */
};

/*
 * Account for one data item that announces @p children nested items (0 for
 * a leaf; n for an array, 2n for a map, 1 for a tag). The item fills one slot
 * of the innermost open container, then every container whose slots are all
 * filled is closed. Declared counts are checked against the item budget here,
 * before cbor_load could size an allocation from them.
 */
static void scan_item(struct scan *s, uint64_t children)
{
    if (s->err != NULL) {
        return;
    }
    s->items++;
    if (s->items > PRESCAN_MAX_ITEMS) {
        s->err = "too many CBOR data items";
        return;
    }
    if (s->depth > 0) {
        s->left[s->depth - 1]--;
    } else if (s->has_root) {
        s->err = "trailing bytes after CBOR item";
        return;
    } else {
        s->has_root = true;
    }
    if (children > 0) {
        if (children > PRESCAN_MAX_ITEMS) {
            s->err = "too many CBOR data items";
            return;
        }
        if (s->depth == PRESCAN_MAX_DEPTH) {
            s->err = "CBOR nested too deeply";
            return;
        }
        s->left[s->depth] = children;
        s->depth++;
    }
    while (s->depth > 0 && s->left[s->depth - 1] == 0) {
        s->depth--;
    }
}

/*
 * Indefinite-length strings, arrays and maps are refused outright: our
 * encoders never produce them (RFC 8949 §4.2.1 deterministic encoding), and
 * refusing them keeps chunk reassembly out of the attack surface.
 */
static void scan_indefinite(void *ctx)
{
    struct scan *s = ctx;

    if (s->err == NULL) {
        s->err = "indefinite-length CBOR items are not accepted";
    }
}

static void scan_leaf_u8(void *ctx, uint8_t v)
{
    (void)v;
    scan_item(ctx, 0);
}

static void scan_leaf_u16(void *ctx, uint16_t v)
{
    (void)v;
    scan_item(ctx, 0);
}

static void scan_leaf_u32(void *ctx, uint32_t v)
{
    (void)v;
    scan_item(ctx, 0);
}

static void scan_leaf_u64(void *ctx, uint64_t v)
{
    (void)v;
    scan_item(ctx, 0);
}

static void scan_leaf_str(void *ctx, cbor_data data, size_t len)
{
    (void)data;
    (void)len;
    scan_item(ctx, 0);
}

/*
 * libcbor 0.8's cbor_load refuses invalid UTF-8 too, but only as a generic
 * syntax error; checking here gives the peer a message that says what is wrong.
 */
static void scan_leaf_text(void *ctx, cbor_data data, size_t len)
{
    struct scan *s = ctx;

    if (s->err == NULL && !att_utf8_valid(data, len)) {
        s->err = "text string is not valid UTF-8";
        return;
    }
    scan_item(ctx, 0);
}

static void scan_leaf_simple(void *ctx)
{
    scan_item(ctx, 0);
}

static void scan_leaf_float(void *ctx, float v)
{
    (void)v;
    scan_item(ctx, 0);
}

static void scan_leaf_double(void *ctx, double v)
{
    (void)v;
    scan_item(ctx, 0);
}

static void scan_leaf_bool(void *ctx, bool v)
{
    (void)v;
    scan_item(ctx, 0);
}

static void scan_array(void *ctx, size_t n)
{
    scan_item(ctx, n);
}

static void scan_map(void *ctx, size_t n)
{
    /* n <= SIZE_MAX/2 is not guaranteed; clamp before doubling */
    scan_item(ctx, n > PRESCAN_MAX_ITEMS ? (uint64_t)PRESCAN_MAX_ITEMS + 1u : 2u * (uint64_t)n);
}

static void scan_tag(void *ctx, uint64_t tag)
{
    (void)tag;
    scan_item(ctx, 1);
}

/*
 * libcbor 0.8's header comments on byte_string/byte_string_start (and the
 * other definite/indefinite pairs) are swapped; the member *types* are
 * right: the string callbacks (data, len) are the definite forms.
 */
static const struct cbor_callbacks scan_callbacks = {
    .uint8 = scan_leaf_u8,
    .uint16 = scan_leaf_u16,
    .uint32 = scan_leaf_u32,
    .uint64 = scan_leaf_u64,
    .negint8 = scan_leaf_u8,
    .negint16 = scan_leaf_u16,
    .negint32 = scan_leaf_u32,
    .negint64 = scan_leaf_u64,
    .byte_string_start = scan_indefinite,
    .byte_string = scan_leaf_str,
    .string = scan_leaf_text,
    .string_start = scan_indefinite,
    .indef_array_start = scan_indefinite,
    .array_start = scan_array,
    .indef_map_start = scan_indefinite,
    .map_start = scan_map,
    .tag = scan_tag,
    .float2 = scan_leaf_float,
    .float4 = scan_leaf_float,
    .float8 = scan_leaf_double,
    .undefined = scan_leaf_simple,
    .null = scan_leaf_simple,
    .boolean = scan_leaf_bool,
    .indef_break = scan_indefinite,
};

/*
 * Walk the input one data item head at a time (libcbor's streaming decoder
 * does not recurse and does not allocate) and require exactly one complete,
 * well-formed item within the limits above, with no byte after it.
 */
static att_rc prescan(const uint8_t *buf, size_t len, struct dec *d)
{
    struct scan s;
    size_t pos = 0;

    memset(&s, 0, sizeof(s));
    while (pos < len) {
        struct cbor_decoder_result r =
            cbor_stream_decode(buf + pos, len - pos, &scan_callbacks, &s);

        if (s.err != NULL) {
            return fail(d, "%s", s.err);
        }
        if (r.status == CBOR_DECODER_NEDATA) {
            return fail(d, "truncated CBOR item");
        }
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0) {
            return fail(d, "malformed CBOR");
        }
        pos += r.read;
        if (s.has_root && s.depth == 0) {
            break;
        }
    }
    if (!s.has_root || s.depth != 0) {
        return fail(d, "truncated CBOR item");
    }
    if (pos != len) {
        return fail(d, "trailing bytes after CBOR item");
    }
    return ATT_OK;
}

/* ------------------------------------------------------------------------- */
/* Tree decoding                                                             */

/*
 * A peer-chosen key is echoed in why only when it is short printable ASCII:
 * why ends up in logs and HTTP error bodies, where control bytes do harm.
 */
static bool key_printable(const unsigned char *k, size_t len)
{
    size_t i;

    if (len == 0 || len > 64) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (k[i] < 0x20u || k[i] > 0x7eu || k[i] == '"' || k[i] == '\\') {
            return false;
        }
    }
    return true;
}

/*
 * Load @p buf as one definite CBOR map whose keys are distinct text strings.
 * On success *root is a new libcbor tree (cbor_decref it); on failure it is
 * left NULL.
 */
static att_rc load_map(const uint8_t *buf, size_t len, struct dec *d, cbor_item_t **root)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct cbor_load_result res;
    cbor_item_t *item = NULL;
    struct cbor_pair *pairs;
    size_t n;
    size_t i;
    size_t j;

    if (len == 0) {
        return fail(d, "empty message");
    }
    if (len > ATT_PROTO_MAX_BODY) {
        return fail(d, "message larger than %u bytes", ATT_PROTO_MAX_BODY);
    }
    rc = prescan(buf, len, d);
    if (rc != ATT_OK) {
        return rc;
    }
    memset(&res, 0, sizeof(res));
    item = cbor_load(buf, len, &res);
    if (item == NULL) {
        rc = res.error.code == CBOR_ERR_MEMERROR ? ATT_ERR_NOMEM : fail(d, "malformed CBOR");
        goto out;
    }
    if (res.read != len) {
        rc = fail(d, "trailing bytes after CBOR item");
        goto out;
    }
    if (!cbor_isa_map(item) || !cbor_map_is_definite(item)) {
        rc = fail(d, "message must be a CBOR map");
        goto out;
    }
    /*
     * Keys: text strings, each at most once. RFC 8949 §5.6 leaves duplicate
     * handling to the application; taking the first or the last would let a
     * peer show different values to different decoders. Quadratic, but the
     * pre-scan caps a map at PRESCAN_MAX_ITEMS / 2 pairs.
     */
    pairs = cbor_map_handle(item);
    n = cbor_map_size(item);
    for (i = 0; i < n; i++) {
        const cbor_item_t *k = pairs[i].key;
        size_t klen;

        if (!cbor_isa_string(k) || !cbor_string_is_definite(k)) {
            rc = fail(d, "map keys must be text strings");
            goto out;
        }
        klen = cbor_string_length(k);
        for (j = 0; j < i; j++) {
            const cbor_item_t *o = pairs[j].key;

            if (cbor_string_length(o) == klen &&
                (klen == 0 || memcmp(cbor_string_handle(o), cbor_string_handle(k), klen) == 0)) {
                if (key_printable(cbor_string_handle(k), klen)) {
                    rc = fail(d, "duplicate key \"%.*s\"", (int)klen,
                              (const char *)cbor_string_handle(k));
                } else {
                    rc = fail(d, "duplicate key");
                }
                goto out;
            }
        }
    }
    *root = item;
    item = NULL; /* transferred to caller */
    rc = ATT_OK;
out:
    if (item != NULL) {
        cbor_decref(&item);
    }
    return rc;
}

enum field_kind {
    FK_U32,   /* unsigned integer in [min, max] */
    FK_U64,   /* unsigned integer in [min, max] */
    FK_BOOL,  /* true / false */
    FK_BYTES, /* byte string, length in [min, max], copied to malloc'ed memory */
    FK_FIXED, /* byte string of exactly min (== max) bytes into a fixed array */
    FK_TEXT,  /* text string, length in [min, max], no NUL, UTF-8; NUL-terminated copy */
    FK_PCRS,  /* {1*24 pcr-index => bstr .size 32} */
    FK_BLOBS, /* array of 1..max_items byte strings of [min, max] bytes each */
};

/* Row prefix of the field tables below: name, kind, required, min, max. */
#define FIELD(nm, k, req, lo, hi)                                                                  \
    .name = (nm), .kind = (k), .required = (req), .min = (lo), .max = (hi)
#define REQUIRED true
#define OPTIONAL false

/*
 * One expected map member. Decoders build a table of these on the stack,
 * pointing into the struct they fill, so each write keeps its C type.
 */
struct field {
    const char *name;
    enum field_kind kind;
    bool required;
    bool seen;
    uint64_t min;
    uint64_t max;
    size_t max_items; /* FK_BLOBS */
    union {
        uint32_t *u32;
        uint64_t *u64;
        bool *b;
        struct {
            uint8_t **data;
            size_t *len;
        } bytes;
        uint8_t *fixed;
        char **text;
        struct att_pcrs *pcrs;
        struct {
            struct att_blob **items;
            size_t *n;
        } blobs;
    } dst;
};

static att_rc decode_uint(const cbor_item_t *v, const struct field *f, struct dec *d, uint64_t *out)
{
    uint64_t x;

    if (cbor_isa_uint(v)) {
        x = cbor_get_int(v);
        if (x >= f->min && x <= f->max) {
            *out = x;
            return ATT_OK;
        }
    }
    if (f->min == f->max) {
        return fail(d, "field \"%s\" must be %" PRIu64, f->name, f->min);
    }
    return fail(d, "field \"%s\" must be an unsigned integer in %" PRIu64 "..%" PRIu64, f->name,
                f->min, f->max);
}

/* Borrowed view of a definite byte string, or false for any other item. */
static bool get_bytes(const cbor_item_t *v, const uint8_t **data, size_t *len)
{
    if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v)) {
        return false;
    }
    *len = cbor_bytestring_length(v);
    *data = cbor_bytestring_handle(v);
    return *len == 0 || *data != NULL;
}

static att_rc decode_bytes(const cbor_item_t *v, const struct field *f, struct dec *d)
{
    const uint8_t *p = NULL;
    size_t len = 0;
    uint8_t *copy = NULL;

    if (!get_bytes(v, &p, &len) || len < f->min || len > f->max) {
        if (f->min == f->max) {
            return fail(d, "field \"%s\" must be a %" PRIu64 "-byte byte string", f->name, f->min);
        }
        return fail(d, "field \"%s\" must be a byte string of %" PRIu64 "..%" PRIu64 " bytes",
                    f->name, f->min, f->max);
    }
    if (f->kind == FK_FIXED) {
        memcpy(f->dst.fixed, p, len);
        return ATT_OK;
    }
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL) {
            return ATT_ERR_NOMEM;
        }
        memcpy(copy, p, len);
    }
    *f->dst.bytes.data = copy; /* the struct owns it from here */
    *f->dst.bytes.len = len;
    return ATT_OK;
}

static att_rc decode_text(const cbor_item_t *v, const struct field *f, struct dec *d)
{
    const uint8_t *p;
    size_t len;
    char *copy;

    if (!cbor_isa_string(v) || !cbor_string_is_definite(v)) {
        return fail(d, "field \"%s\" must be a text string", f->name);
    }
    len = cbor_string_length(v);
    p = cbor_string_handle(v);
    if (len < f->min || len > f->max || (len > 0 && p == NULL)) {
        return fail(d, "field \"%s\" must be a text string of %" PRIu64 "..%" PRIu64 " bytes",
                    f->name, f->min, f->max);
    }
    /* UTF-8 validity was checked for every text string by prescan() */
    if (len > 0 && memchr(p, 0, len) != NULL) {
        return fail(d, "field \"%s\" must not contain NUL", f->name);
    }
    copy = malloc(len + 1);
    if (copy == NULL) {
        return ATT_ERR_NOMEM;
    }
    if (len > 0) {
        memcpy(copy, p, len);
    }
    copy[len] = '\0';
    *f->dst.text = copy; /* the struct owns it from here */
    return ATT_OK;
}

/*
 * The quoted PCR values: a definite map from PCR index to its 32-byte sha256
 * value. The selection mask is rebuilt from the keys, so a mask and a value
 * list can never disagree on the wire.
 */
static att_rc decode_pcrs(const cbor_item_t *v, const struct field *f, struct dec *d)
{
    struct att_pcrs *pcrs = f->dst.pcrs;
    struct cbor_pair *pairs;
    size_t n;
    size_t i;

    if (!cbor_isa_map(v) || !cbor_map_is_definite(v) || cbor_map_size(v) == 0 ||
        cbor_map_size(v) > ATT_PCR_COUNT) {
        return fail(d, "field \"%s\" must be a map of 1..%u PCR values", f->name,
                    (unsigned)ATT_PCR_COUNT);
    }
    pairs = cbor_map_handle(v);
    n = cbor_map_size(v);
    for (i = 0; i < n; i++) {
        const uint8_t *p = NULL;
        size_t len = 0;
        uint64_t idx;
        uint32_t bit;

        if (!cbor_isa_uint(pairs[i].key) || cbor_get_int(pairs[i].key) > PCR_INDEX_MAX) {
            return fail(d, "field \"%s\" keys must be PCR indexes 0..%u", f->name,
                        (unsigned)PCR_INDEX_MAX);
        }
        idx = cbor_get_int(pairs[i].key);
        bit = UINT32_C(1) << idx;
        if ((pcrs->mask & bit) != 0) {
            return fail(d, "field \"%s\" has PCR %" PRIu64 " twice", f->name, idx);
        }
        if (!get_bytes(pairs[i].value, &p, &len) || len != ATT_SHA256_LEN) {
            return fail(d, "field \"%s\" PCR %" PRIu64 " must be a %u-byte byte string", f->name,
                        idx, (unsigned)ATT_SHA256_LEN);
        }
        memcpy(pcrs->value[idx], p, ATT_SHA256_LEN);
        pcrs->mask |= bit;
    }
    return ATT_OK;
}

void att_blobs_free(struct att_blob *b, size_t n)
{
    size_t i;

    for (i = 0; b != NULL && i < n; i++) {
        free(b[i].data);
    }
    free(b);
}

static att_rc decode_blobs(const cbor_item_t *v, const struct field *f, struct dec *d)
{
    struct att_blob *items;
    cbor_item_t **arr;
    size_t n;
    size_t i;

    if (!cbor_isa_array(v) || !cbor_array_is_definite(v) || cbor_array_size(v) < 1 ||
        cbor_array_size(v) > f->max_items) {
        return fail(d, "field \"%s\" must be an array of 1..%zu byte strings", f->name,
                    f->max_items);
    }
    n = cbor_array_size(v);
    arr = cbor_array_handle(v);
    items = calloc(n, sizeof(*items));
    if (items == NULL) {
        return ATT_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        const uint8_t *p = NULL;
        size_t len = 0;

        if (!get_bytes(arr[i], &p, &len) || len < f->min || len > f->max || len == 0) {
            att_blobs_free(items, n);
            return fail(d, "field \"%s\"[%zu] must be a byte string of %" PRIu64 "..%" PRIu64
                           " bytes",
                        f->name, i, f->min, f->max);
        }
        items[i].data = malloc(len);
        if (items[i].data == NULL) {
            att_blobs_free(items, n);
            return ATT_ERR_NOMEM;
        }
        memcpy(items[i].data, p, len);
        items[i].len = len;
    }
    *f->dst.blobs.items = items; /* the struct owns it from here */
    *f->dst.blobs.n = n;
    return ATT_OK;
}

static att_rc decode_value(const cbor_item_t *v, struct field *f, struct dec *d)
{
    uint64_t x = 0;
    att_rc rc = ATT_ERR_INTERNAL;

    switch (f->kind) {
    case FK_U32:
        rc = decode_uint(v, f, d, &x);
        if (rc == ATT_OK) {
            *f->dst.u32 = (uint32_t)x; /* f->max <= UINT32_MAX for every FK_U32 */
        }
        return rc;
    case FK_U64:
        return decode_uint(v, f, d, f->dst.u64);
    case FK_BOOL:
        /*
         * cbor_is_bool() asserts on floats in libcbor 0.8 (cbor_ctrl_value),
         * so rule floats out first: a daemon must not abort on input.
         */
        if (!cbor_isa_float_ctrl(v) || !cbor_float_ctrl_is_ctrl(v) || !cbor_is_bool(v)) {
            return fail(d, "field \"%s\" must be true or false", f->name);
        }
        *f->dst.b = cbor_get_bool(v);
        return ATT_OK;
    case FK_BYTES:
    case FK_FIXED:
        return decode_bytes(v, f, d);
    case FK_TEXT:
        return decode_text(v, f, d);
    case FK_PCRS:
        return decode_pcrs(v, f, d);
    case FK_BLOBS:
        return decode_blobs(v, f, d);
    }
    return rc;
}

/*
 * Fill the fields of @p f from the members of @p map (already checked by
 * load_map). Unknown keys are skipped so that a newer peer may add members;
 * a missing required member fails. Values already decoded stay in the target
 * struct on failure; the caller cleans it.
 */
static att_rc decode_fields(const cbor_item_t *map, struct field *f, size_t nf, struct dec *d)
{
    struct cbor_pair *pairs = cbor_map_handle(map);
    size_t n = cbor_map_size(map);
    size_t i;
    size_t j;
    att_rc rc = ATT_ERR_INTERNAL;

    for (i = 0; i < n; i++) {
        size_t klen = cbor_string_length(pairs[i].key);
        const unsigned char *k = cbor_string_handle(pairs[i].key);

        for (j = 0; j < nf; j++) {
            if (strlen(f[j].name) == klen && klen > 0 && memcmp(f[j].name, k, klen) == 0) {
                break;
            }
        }
        if (j == nf) {
            continue;
        }
        rc = decode_value(pairs[i].value, &f[j], d);
        if (rc != ATT_OK) {
            return rc;
        }
        f[j].seen = true;
    }
    for (j = 0; j < nf; j++) {
        if (f[j].required && !f[j].seen) {
            return fail(d, "field \"%s\" is missing", f[j].name);
        }
    }
    return ATT_OK;
}

/* ------------------------------------------------------------------------- */
/* Encoding                                                                  */

/*
 * Appends to the caller's buffer with a sticky failure: after the first
 * failed append every further call is a no-op and the message function
 * checks once at the end, instead of after each of some thirty appends.
 */
struct enc {
    struct att_buf *b;
    bool failed;
    att_rc rc; /* meaningful only when failed */
};

static void enc_raw(struct enc *e, const void *p, size_t n)
{
    att_rc rc;

    if (e->failed || n == 0) {
        return;
    }
    rc = att_buf_append(e->b, p, n);
    if (rc != ATT_OK) {
        e->failed = true;
        e->rc = rc;
    }
}

/* Append a head that a cbor_encode_*() call wrote to h (0 means it did not fit). */
static void enc_head(struct enc *e, const unsigned char *h, size_t n)
{
    if (n == 0 && !e->failed) {
        e->failed = true;
        e->rc = ATT_ERR_INTERNAL;
        return;
    }
    enc_raw(e, h, n);
}

static void enc_uint(struct enc *e, uint64_t v)
{
    unsigned char h[9];

    enc_head(e, h, cbor_encode_uint(v, h, sizeof(h)));
}

static void enc_map(struct enc *e, size_t n)
{
    unsigned char h[9];

    enc_head(e, h, cbor_encode_map_start(n, h, sizeof(h)));
}

static void enc_array(struct enc *e, size_t n)
{
    unsigned char h[9];

    enc_head(e, h, cbor_encode_array_start(n, h, sizeof(h)));
}

static void enc_bytes(struct enc *e, const uint8_t *p, size_t len)
{
    unsigned char h[9];

    enc_head(e, h, cbor_encode_bytestring_start(len, h, sizeof(h)));
    enc_raw(e, p, len);
}

static void enc_text(struct enc *e, const char *s)
{
    unsigned char h[9];
    size_t len = strlen(s);

    enc_head(e, h, cbor_encode_string_start(len, h, sizeof(h)));
    enc_raw(e, s, len);
}

static void enc_bool(struct enc *e, bool v)
{
    unsigned char h[1];

    enc_head(e, h, cbor_encode_bool(v, h, sizeof(h)));
}

/*
 * Finish an encode: on failure drop what was appended, and refuse a message
 * the other side would reject as larger than ATT_PROTO_MAX_BODY.
 */
static att_rc enc_finish(struct enc *e, size_t start)
{
    if (e->failed) {
        att_buf_truncate(e->b, start);
        return e->rc;
    }
    if (e->b->len - start > ATT_PROTO_MAX_BODY) {
        att_buf_truncate(e->b, start);
        return ATT_ERR_INVALID_ARG;
    }
    return ATT_OK;
}

static bool bytes_ok(const uint8_t *p, size_t len, size_t min, size_t max)
{
    return (p != NULL || len == 0) && len >= min && len <= max;
}

/* An optional byte field: absent (NULL, 0) or present within [1, max]. */
static bool opt_bytes_ok(const uint8_t *p, size_t len, size_t max)
{
    return (p == NULL && len == 0) || (p != NULL && len >= 1 && len <= max);
}

/* An optional list field: absent (NULL, 0) or 1..max_items items of 1..max bytes. */
static bool blobs_ok(const struct att_blob *b, size_t n, size_t max_items, size_t max)
{
    size_t i;

    if (b == NULL || n == 0) {
        return b == NULL && n == 0;
    }
    if (n > max_items) {
        return false; /* before looking at any item: n may not be the array's length */
    }
    for (i = 0; i < n; i++) {
        if (!bytes_ok(b[i].data, b[i].len, 1, max)) {
            return false;
        }
    }
    return true;
}

static void enc_blobs(struct enc *e, const struct att_blob *b, size_t n)
{
    size_t i;

    enc_array(e, n);
    for (i = 0; i < n; i++) {
        enc_bytes(e, b[i].data, b[i].len);
    }
}

static bool ek_alg_ok(const char *s)
{
    return s != NULL && (strcmp(s, "rsa") == 0 || strcmp(s, "ecc") == 0);
}

/* ------------------------------------------------------------------------- */
/* identity                                                                  */

static bool identity_ok(const struct att_identity *id)
{
    return id->version == ATT_PROTO_VERSION &&
           att_utf8_text_ok(id->agent_id, TEXT_MIN, ATT_PROTO_MAX_TEXT) && ek_alg_ok(id->ek_alg) &&
           opt_bytes_ok(id->ek_cert_rsa, id->ek_cert_rsa_len, ATT_PROTO_MAX_CERT) &&
           opt_bytes_ok(id->ek_cert_ecc, id->ek_cert_ecc_len, ATT_PROTO_MAX_CERT) &&
           bytes_ok(id->ek_pub, id->ek_pub_len, 1, ATT_PROTO_MAX_TPMBLOB) &&
           bytes_ok(id->ak_pub, id->ak_pub_len, 1, ATT_PROTO_MAX_TPMBLOB) &&
           id->meas_pcr <= PCR_INDEX_MAX && att_utf8_text_ok(id->boot_id, TEXT_MIN, ATT_PROTO_MAX_TEXT);
}

att_rc att_identity_encode(const struct att_identity *id, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;
    size_t n = 7;

    if (id == NULL || out == NULL || !identity_ok(id)) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    n += id->ek_cert_rsa != NULL ? 1u : 0u;
    n += id->ek_cert_ecc != NULL ? 1u : 0u;
    /* keys in RFC 8949 §4.2.1 order: shorter first, then bytewise */
    enc_map(&e, n);
    enc_text(&e, "ak_pub");
    enc_bytes(&e, id->ak_pub, id->ak_pub_len);
    enc_text(&e, "ek_alg");
    enc_text(&e, id->ek_alg);
    enc_text(&e, "ek_pub");
    enc_bytes(&e, id->ek_pub, id->ek_pub_len);
    enc_text(&e, "boot_id");
    enc_text(&e, id->boot_id);
    enc_text(&e, "version");
    enc_uint(&e, id->version);
    enc_text(&e, "agent_id");
    enc_text(&e, id->agent_id);
    enc_text(&e, "meas_pcr");
    enc_uint(&e, id->meas_pcr);
    if (id->ek_cert_ecc != NULL) {
        enc_text(&e, "ek_cert_ecc");
        enc_bytes(&e, id->ek_cert_ecc, id->ek_cert_ecc_len);
    }
    if (id->ek_cert_rsa != NULL) {
        enc_text(&e, "ek_cert_rsa");
        enc_bytes(&e, id->ek_cert_rsa, id->ek_cert_rsa_len);
    }
    rc = enc_finish(&e, start);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

/*
 * The common skeleton of a message decoder: clear why, check and zero the
 * caller's struct, load the bounded map, fill the field table, release the
 * item. The caller's field table points into a zeroed local; on ATT_OK it
 * hands that local out, on failure it cleans up what the table wrote.
 */
static att_rc decode_message(const uint8_t *buf, size_t len, struct dec *d, void *out,
                             size_t out_size, struct field *f, size_t nf)
{
    cbor_item_t *root = NULL;
    att_rc rc;

    why_clear(d);
    if (out == NULL) {
        return fail_arg(d, "no output struct");
    }
    memset(out, 0, out_size);
    if (buf == NULL) {
        return fail_arg(d, "no input buffer");
    }
    rc = load_map(buf, len, d, &root);
    if (rc == ATT_OK) {
        rc = decode_fields(root, f, nf, d);
    }
    if (root != NULL) {
        cbor_decref(&root);
    }
    return rc;
}

att_rc att_identity_decode(const uint8_t *buf, size_t len, struct att_identity *out, char *why,
                           size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dec d = {.msg = "identity", .why = why, .why_len = why_len};
    struct att_identity id;
    struct field f[] = {
        {FIELD("version", FK_U32, REQUIRED, ATT_PROTO_VERSION, ATT_PROTO_VERSION),
         .dst.u32 = &id.version},
        {FIELD("agent_id", FK_TEXT, REQUIRED, TEXT_MIN, ATT_PROTO_MAX_TEXT),
         .dst.text = &id.agent_id},
        {FIELD("ek_alg", FK_TEXT, REQUIRED, TEXT_MIN, ATT_PROTO_MAX_TEXT), .dst.text = &id.ek_alg},
        {FIELD("ek_cert_rsa", FK_BYTES, OPTIONAL, 1, ATT_PROTO_MAX_CERT),
         .dst.bytes = {&id.ek_cert_rsa, &id.ek_cert_rsa_len}},
        {FIELD("ek_cert_ecc", FK_BYTES, OPTIONAL, 1, ATT_PROTO_MAX_CERT),
         .dst.bytes = {&id.ek_cert_ecc, &id.ek_cert_ecc_len}},
        {FIELD("ek_pub", FK_BYTES, REQUIRED, 1, ATT_PROTO_MAX_TPMBLOB),
         .dst.bytes = {&id.ek_pub, &id.ek_pub_len}},
        {FIELD("ak_pub", FK_BYTES, REQUIRED, 1, ATT_PROTO_MAX_TPMBLOB),
         .dst.bytes = {&id.ak_pub, &id.ak_pub_len}},
        {FIELD("meas_pcr", FK_U32, REQUIRED, 0, PCR_INDEX_MAX), .dst.u32 = &id.meas_pcr},
        {FIELD("boot_id", FK_TEXT, REQUIRED, TEXT_MIN, ATT_PROTO_MAX_TEXT),
         .dst.text = &id.boot_id},
    };

    memset(&id, 0, sizeof(id));
    rc = decode_message(buf, len, &d, out, sizeof(*out), f, sizeof(f) / sizeof(f[0]));
    if (rc != ATT_OK) {
        goto out;
    }
    if (!ek_alg_ok(id.ek_alg)) {
        rc = fail(&d, "field \"ek_alg\" must be \"rsa\" or \"ecc\"");
        goto out;
    }
    *out = id;
    memset(&id, 0, sizeof(id)); /* transferred to out */
    rc = ATT_OK;
out:
    att_identity_cleanup(&id);
    return rc;
}

void att_identity_cleanup(struct att_identity *id)
{
    if (id == NULL) {
        return;
    }
    free(id->agent_id);
    free(id->ek_alg);
    free(id->ek_cert_rsa);
    free(id->ek_cert_ecc);
    free(id->ek_pub);
    free(id->ak_pub);
    free(id->boot_id);
    memset(id, 0, sizeof(*id));
}

/* ------------------------------------------------------------------------- */
/* evidence request                                                          */

att_rc att_evidence_request_encode(const struct att_evidence_request *r, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;

    if (r == NULL || out == NULL || r->pcr_mask == 0 || (r->pcr_mask & ~ATT_PCR_ALL_MASK) != 0) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    if ((r->admission != NULL && !att_utf8_text_ok(r->admission, 1, ATT_PROTO_MAX_ADMISSION)) ||
        !blobs_ok(r->orders, r->n_orders, ATT_PROTO_MAX_ORDERS, ATT_PROTO_MAX_ORDER) ||
        (r->vulnfeed != NULL && !bytes_ok(r->vulnfeed, r->vulnfeed_len, 1, ATT_PROTO_MAX_VULNFEED))) {
        return ATT_ERR_INVALID_ARG;
    }
    enc_map(&e, 3u + (r->admission != NULL ? 1u : 0u) + (r->n_orders > 0 ? 1u : 0u) +
                    (r->vulnfeed != NULL ? 1u : 0u));
    enc_text(&e, "nonce");
    enc_bytes(&e, r->nonce, sizeof(r->nonce));
    if (r->n_orders > 0) {
        enc_text(&e, "orders");
        enc_blobs(&e, r->orders, r->n_orders);
    }
    enc_text(&e, "pcr_mask");
    enc_uint(&e, r->pcr_mask);
    if (r->vulnfeed != NULL) {
        enc_text(&e, "vulnfeed");
        enc_bytes(&e, r->vulnfeed, r->vulnfeed_len);
    }
    if (r->admission != NULL) {
        enc_text(&e, "admission");
        enc_text(&e, r->admission);
    }
    enc_text(&e, "log_offset");
    enc_uint(&e, r->log_offset);
    rc = enc_finish(&e, start);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

att_rc att_evidence_request_decode(const uint8_t *buf, size_t len, struct att_evidence_request *out,
                                   char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dec d = {.msg = "evidence request", .why = why, .why_len = why_len};
    struct att_evidence_request r;
    struct field f[] = {
        {FIELD("nonce", FK_FIXED, REQUIRED, ATT_PROTO_NONCE_LEN, ATT_PROTO_NONCE_LEN),
         .dst.fixed = r.nonce},
        {FIELD("pcr_mask", FK_U32, REQUIRED, 1, ATT_PCR_ALL_MASK), .dst.u32 = &r.pcr_mask},
        {FIELD("log_offset", FK_U64, REQUIRED, 0, UINT64_MAX), .dst.u64 = &r.log_offset},
        {FIELD("admission", FK_TEXT, OPTIONAL, 1, ATT_PROTO_MAX_ADMISSION),
         .dst.text = &r.admission},
        {FIELD("orders", FK_BLOBS, OPTIONAL, 1, ATT_PROTO_MAX_ORDER),
         .max_items = ATT_PROTO_MAX_ORDERS, .dst.blobs = {&r.orders, &r.n_orders}},
        {FIELD("vulnfeed", FK_BYTES, OPTIONAL, 1, ATT_PROTO_MAX_VULNFEED),
         .dst.bytes = {&r.vulnfeed, &r.vulnfeed_len}},
    };

    memset(&r, 0, sizeof(r));
    rc = decode_message(buf, len, &d, out, sizeof(*out), f, sizeof(f) / sizeof(f[0]));
    if (rc != ATT_OK) {
        goto out;
    }
    /*
     * pcr_mask is in 1..0xffffff, but bits 0..23 only: every value in that
     * range qualifies, so the range check above is the whole rule.
     */
    *out = r;
    memset(&r, 0, sizeof(r)); /* transferred to out */
    rc = ATT_OK;
out:
    att_evidence_request_cleanup(&r);
    return rc;
}

void att_evidence_request_cleanup(struct att_evidence_request *r)
{
    if (r == NULL) {
        return;
    }
    free(r->admission);
    r->admission = NULL;
    att_blobs_free(r->orders, r->n_orders);
    r->orders = NULL;
    r->n_orders = 0;
    free(r->vulnfeed);
    r->vulnfeed = NULL;
    r->vulnfeed_len = 0;
}

/* ------------------------------------------------------------------------- */
/* evidence                                                                  */

static bool evidence_ok(const struct att_evidence *ev)
{
    return ev->version == ATT_PROTO_VERSION &&
           bytes_ok(ev->attest, ev->attest_len, 1, ATT_PROTO_MAX_TPMBLOB) &&
           bytes_ok(ev->sig, ev->sig_len, 1, ATT_PROTO_MAX_TPMBLOB) && ev->pcrs.mask != 0 &&
           (ev->pcrs.mask & ~ATT_PCR_ALL_MASK) == 0 && ev->meas_pcr <= PCR_INDEX_MAX &&
           ev->log_offset <= ev->log_count &&
           bytes_ok(ev->log, ev->log_len, 0, ATT_PROTO_MAX_BODY) &&
           att_utf8_text_ok(ev->boot_id, TEXT_MIN, ATT_PROTO_MAX_TEXT) &&
           att_utf8_text_ok(ev->log_status, STATUS_MIN, ATT_PROTO_MAX_TEXT);
}

att_rc att_evidence_encode(const struct att_evidence *ev, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;
    unsigned i;

    if (ev == NULL || out == NULL || !evidence_ok(ev)) {
        return ATT_ERR_INVALID_ARG;
    }
    if ((ev->inventory != NULL && !att_utf8_text_ok(ev->inventory, 1, ATT_PROTO_MAX_INVENTORY)) ||
        (ev->netstats != NULL && !att_utf8_text_ok(ev->netstats, 1, ATT_PROTO_MAX_NETSTATS)) ||
        !blobs_ok(ev->acks, ev->n_acks, ATT_PROTO_MAX_ORDERS, ATT_PROTO_MAX_ORDER)) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    /* keys in RFC 8949 §4.2.1 order: shorter first, then bytewise */
    enc_map(&e, 13u + (ev->inventory != NULL ? 1u : 0u) + (ev->netstats != NULL ? 1u : 0u) +
                    (ev->n_acks > 0 ? 1u : 0u) + (ev->has_vulnfeed ? 1u : 0u));
    enc_text(&e, "log");
    enc_bytes(&e, ev->log, ev->log_len);
    enc_text(&e, "sig");
    enc_bytes(&e, ev->sig, ev->sig_len);
    if (ev->n_acks > 0) {
        enc_text(&e, "acks");
        enc_blobs(&e, ev->acks, ev->n_acks);
    }
    enc_text(&e, "pcrs");
    enc_map(&e, att_pcrs_count(ev->pcrs.mask));
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        if ((ev->pcrs.mask & (UINT32_C(1) << i)) != 0) {
            enc_uint(&e, i);
            enc_bytes(&e, ev->pcrs.value[i], ATT_SHA256_LEN);
        }
    }
    enc_text(&e, "attest");
    enc_bytes(&e, ev->attest, ev->attest_len);
    enc_text(&e, "boot_id");
    enc_text(&e, ev->boot_id);
    enc_text(&e, "version");
    enc_uint(&e, ev->version);
    enc_text(&e, "meas_pcr");
    enc_uint(&e, ev->meas_pcr);
    if (ev->netstats != NULL) {
        enc_text(&e, "netstats");
        enc_text(&e, ev->netstats);
    }
    if (ev->has_vulnfeed) {
        enc_text(&e, "vulnfeed");
        enc_bytes(&e, ev->vulnfeed, sizeof(ev->vulnfeed));
    }
    if (ev->inventory != NULL) {
        enc_text(&e, "inventory");
        enc_text(&e, ev->inventory);
    }
    enc_text(&e, "log_count");
    enc_uint(&e, ev->log_count);
    enc_text(&e, "log_offset");
    enc_uint(&e, ev->log_offset);
    enc_text(&e, "log_status");
    enc_text(&e, ev->log_status);
    enc_text(&e, "reset_count");
    enc_uint(&e, ev->reset_count);
    enc_text(&e, "restart_count");
    enc_uint(&e, ev->restart_count);
    enc_text(&e, "log_consistent");
    enc_bool(&e, ev->log_consistent);
    rc = enc_finish(&e, start);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

att_rc att_evidence_decode(const uint8_t *buf, size_t len, struct att_evidence *out, char *why,
                           size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dec d = {.msg = "evidence", .why = why, .why_len = why_len};
    struct att_evidence ev;
    struct field f[] = {
        {FIELD("version", FK_U32, REQUIRED, ATT_PROTO_VERSION, ATT_PROTO_VERSION),
         .dst.u32 = &ev.version},
        {FIELD("attest", FK_BYTES, REQUIRED, 1, ATT_PROTO_MAX_TPMBLOB),
         .dst.bytes = {&ev.attest, &ev.attest_len}},
        {FIELD("sig", FK_BYTES, REQUIRED, 1, ATT_PROTO_MAX_TPMBLOB),
         .dst.bytes = {&ev.sig, &ev.sig_len}},
        {FIELD("pcrs", FK_PCRS, REQUIRED, 0, 0), .dst.pcrs = &ev.pcrs},
        {FIELD("meas_pcr", FK_U32, REQUIRED, 0, PCR_INDEX_MAX), .dst.u32 = &ev.meas_pcr},
        {FIELD("log_offset", FK_U64, REQUIRED, 0, UINT64_MAX), .dst.u64 = &ev.log_offset},
        {FIELD("log_count", FK_U64, REQUIRED, 0, UINT64_MAX), .dst.u64 = &ev.log_count},
        {FIELD("log", FK_BYTES, REQUIRED, 0, ATT_PROTO_MAX_BODY),
         .dst.bytes = {&ev.log, &ev.log_len}},
        {FIELD("reset_count", FK_U32, REQUIRED, 0, UINT32_MAX), .dst.u32 = &ev.reset_count},
        {FIELD("restart_count", FK_U32, REQUIRED, 0, UINT32_MAX), .dst.u32 = &ev.restart_count},
        {FIELD("boot_id", FK_TEXT, REQUIRED, TEXT_MIN, ATT_PROTO_MAX_TEXT),
         .dst.text = &ev.boot_id},
        {FIELD("log_consistent", FK_BOOL, REQUIRED, 0, 0), .dst.b = &ev.log_consistent},
        {FIELD("log_status", FK_TEXT, REQUIRED, STATUS_MIN, ATT_PROTO_MAX_TEXT),
         .dst.text = &ev.log_status},
        {FIELD("inventory", FK_TEXT, OPTIONAL, 1, ATT_PROTO_MAX_INVENTORY),
         .dst.text = &ev.inventory},
        {FIELD("netstats", FK_TEXT, OPTIONAL, 1, ATT_PROTO_MAX_NETSTATS), .dst.text = &ev.netstats},
        {FIELD("acks", FK_BLOBS, OPTIONAL, 1, ATT_PROTO_MAX_ORDER),
         .max_items = ATT_PROTO_MAX_ORDERS, .dst.blobs = {&ev.acks, &ev.n_acks}},
        {FIELD("vulnfeed", FK_FIXED, OPTIONAL, 32, 32), .dst.fixed = ev.vulnfeed}, /* last */
    };

    memset(&ev, 0, sizeof(ev));
    rc = decode_message(buf, len, &d, out, sizeof(*out), f, sizeof(f) / sizeof(f[0]));
    if (rc != ATT_OK) {
        goto out;
    }
    if (ev.log_offset > ev.log_count) {
        rc = fail(&d, "field \"log_offset\" must not exceed \"log_count\"");
        goto out;
    }
    ev.has_vulnfeed = f[sizeof(f) / sizeof(f[0]) - 1].seen;
    *out = ev;
    memset(&ev, 0, sizeof(ev)); /* transferred to out */
    rc = ATT_OK;
out:
    att_evidence_cleanup(&ev);
    return rc;
}

void att_evidence_cleanup(struct att_evidence *ev)
{
    if (ev == NULL) {
        return;
    }
    free(ev->attest);
    free(ev->sig);
    free(ev->log);
    free(ev->boot_id);
    free(ev->log_status);
    free(ev->inventory);
    free(ev->netstats);
    att_blobs_free(ev->acks, ev->n_acks);
    memset(ev, 0, sizeof(*ev));
}

/* ------------------------------------------------------------------------- */
/* error body                                                                */

/* ------------------------------------------------------------------------- */
/* credential activation                                                     */

#define SECRET_MAX 64

att_rc att_activate_request_encode(const struct att_activate_request *r, struct att_buf *out)
{
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;

    if (r == NULL || out == NULL ||
        !bytes_ok(r->cred_blob, r->cred_blob_len, 1, ATT_PROTO_MAX_TPMBLOB) ||
        !bytes_ok(r->enc_secret, r->enc_secret_len, 1, ATT_PROTO_MAX_TPMBLOB) ||
        !opt_bytes_ok(r->verifier_key, r->verifier_key_len, ATT_SIGKEY_MAX_SPKI)) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    enc_map(&e, r->verifier_key != NULL ? 3 : 2);
    enc_text(&e, "cred_blob");
    enc_bytes(&e, r->cred_blob, r->cred_blob_len);
    enc_text(&e, "enc_secret");
    enc_bytes(&e, r->enc_secret, r->enc_secret_len);
    if (r->verifier_key != NULL) {
        enc_text(&e, "verifier_key");
        enc_bytes(&e, r->verifier_key, r->verifier_key_len);
    }
    return enc_finish(&e, start);
}

att_rc att_activate_request_decode(const uint8_t *buf, size_t len,
                                   struct att_activate_request *out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dec d = {.msg = "activate request", .why = why, .why_len = why_len};
    struct att_activate_request r;
    struct field f[] = {
        {FIELD("cred_blob", FK_BYTES, REQUIRED, 1, ATT_PROTO_MAX_TPMBLOB),
         .dst.bytes = {&r.cred_blob, &r.cred_blob_len}},
        {FIELD("enc_secret", FK_BYTES, REQUIRED, 1, ATT_PROTO_MAX_TPMBLOB),
         .dst.bytes = {&r.enc_secret, &r.enc_secret_len}},
        {FIELD("verifier_key", FK_BYTES, OPTIONAL, 1, ATT_SIGKEY_MAX_SPKI),
         .dst.bytes = {&r.verifier_key, &r.verifier_key_len}},
    };

    memset(&r, 0, sizeof(r));
    rc = decode_message(buf, len, &d, out, sizeof(*out), f, sizeof(f) / sizeof(f[0]));
    if (rc == ATT_OK) {
        *out = r;
        memset(&r, 0, sizeof(r)); /* transferred to out */
    }
    att_activate_request_cleanup(&r);
    return rc;
}

void att_activate_request_cleanup(struct att_activate_request *r)
{
    if (r == NULL) {
        return;
    }
    free(r->cred_blob);
    free(r->enc_secret);
    free(r->verifier_key);
    memset(r, 0, sizeof(*r));
}

att_rc att_activate_response_encode(const struct att_activate_response *r, struct att_buf *out)
{
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;

    if (r == NULL || out == NULL || !bytes_ok(r->secret, r->secret_len, 1, SECRET_MAX)) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    enc_map(&e, 1);
    enc_text(&e, "secret");
    enc_bytes(&e, r->secret, r->secret_len);
    return enc_finish(&e, start);
}

att_rc att_activate_response_decode(const uint8_t *buf, size_t len,
                                    struct att_activate_response *out, char *why,
                                    size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dec d = {.msg = "activate response", .why = why, .why_len = why_len};
    struct att_activate_response r;
    struct field f[] = {
        {FIELD("secret", FK_BYTES, REQUIRED, 1, SECRET_MAX),
         .dst.bytes = {&r.secret, &r.secret_len}},
    };

    memset(&r, 0, sizeof(r));
    rc = decode_message(buf, len, &d, out, sizeof(*out), f, sizeof(f) / sizeof(f[0]));
    if (rc == ATT_OK) {
        *out = r;
        memset(&r, 0, sizeof(r)); /* transferred to out */
    }
    att_activate_response_cleanup(&r);
    return rc;
}

void att_activate_response_cleanup(struct att_activate_response *r)
{
    if (r == NULL) {
        return;
    }
    if (r->secret != NULL) {
        att_cleanse(r->secret, r->secret_len);
    }
    free(r->secret);
    memset(r, 0, sizeof(*r));
}

att_rc att_error_encode(const char *message, struct att_buf *out)
{
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;

    if (out == NULL || !att_utf8_text_ok(message, TEXT_MIN, ATT_PROTO_MAX_TEXT)) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    enc_map(&e, 1);
    enc_text(&e, "error");
    enc_text(&e, message);
    return enc_finish(&e, start);
}

att_rc att_error_decode(const uint8_t *buf, size_t len, char **message)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dec d = {.msg = "error", .why = NULL, .why_len = 0};
    char *text = NULL;
    struct field f[] = {
        {FIELD("error", FK_TEXT, REQUIRED, TEXT_MIN, ATT_PROTO_MAX_TEXT), .dst.text = &text},
    };

    rc = decode_message(buf, len, &d, message, sizeof(*message), f, sizeof(f) / sizeof(f[0]));
    if (rc == ATT_OK) {
        *message = text;
        text = NULL; /* transferred to caller */
    }
    free(text);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* quarantine orders and acknowledgements                                    */

#define ORDER_VERSION 1u

static bool image_ok(const char *s)
{
    return s != NULL && (s[0] == '\0' || (strncmp(s, "sha256:", 7) == 0 && att_lower_hex(s + 7, 64, 64)));
}

static bool order_ok(const struct att_order *o)
{
    return att_lower_hex(o->id, ATT_ORDER_ID_LEN, ATT_ORDER_ID_LEN) &&
           (o->op == ATT_ORDER_QUARANTINE
                ? o->lifts[0] == '\0' && o->actions != 0 && (o->actions & ~ATT_ORDER_ALL) == 0
                : o->op == ATT_ORDER_LIFT && att_lower_hex(o->lifts, ATT_ORDER_ID_LEN, ATT_ORDER_ID_LEN) &&
                      o->actions == 0) &&
           att_lower_hex(o->ak_name, 2, sizeof(o->ak_name) - 1) && att_lower_hex(o->container, 64, 64) &&
           image_ok(o->image) && att_utf8_text_ok(o->reason, TEXT_MIN, ATT_PROTO_MAX_TEXT) &&
           o->issued_at <= o->expires_at;
}

void att_order_actions_str(uint32_t actions, char *out, size_t out_len)
{
    (void)snprintf(out, out_len, "%s%s%s%s%s", (actions & ATT_ORDER_PAUSE) ? "pause" : "",
                   (actions & ATT_ORDER_PAUSE) && (actions & (ATT_ORDER_ISOLATE | ATT_ORDER_KILL))
                       ? ","
                       : "",
                   (actions & ATT_ORDER_ISOLATE) ? "isolate-network" : "",
                   (actions & ATT_ORDER_ISOLATE) && (actions & ATT_ORDER_KILL) ? "," : "",
                   (actions & ATT_ORDER_KILL) ? "kill" : "");
}

bool att_order_actions_parse(const char *s, uint32_t *actions)
{
    static const struct {
        const char *word;
        uint32_t bit;
    } words[] = {{"pause", ATT_ORDER_PAUSE},
                 {"isolate-network", ATT_ORDER_ISOLATE},
                 {"kill", ATT_ORDER_KILL}};
    uint32_t a = 0;

    while (s != NULL && *s != '\0') {
        const char *end = strchr(s, ',');
        size_t n = end != NULL ? (size_t)(end - s) : strlen(s);
        size_t i;

        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
            if (strlen(words[i].word) == n && strncmp(words[i].word, s, n) == 0) {
                a |= words[i].bit;
                break;
            }
        }
        if (i == sizeof(words) / sizeof(words[0])) {
            return false;
        }
        s = end != NULL ? end + 1 : NULL;
    }
    if (a == 0) {
        return false;
    }
    *actions = a;
    return true;
}

static att_rc order_encode(const struct att_order *o, struct att_buf *out)
{
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start = out->len;
    bool lift = o->op == ATT_ORDER_LIFT;

    /* keys in RFC 8949 §4.2.1 order: shorter first, then bytewise */
    enc_map(&e, 11);
    enc_text(&e, "v");
    enc_uint(&e, ORDER_VERSION);
    enc_text(&e, "id");
    enc_text(&e, o->id);
    enc_text(&e, "op");
    enc_text(&e, lift ? "lift" : "quarantine");
    enc_text(&e, "image");
    enc_text(&e, o->image);
    enc_text(&e, "lifts");
    enc_text(&e, o->lifts);
    enc_text(&e, "reason");
    enc_text(&e, o->reason);
    enc_text(&e, "actions");
    enc_uint(&e, o->actions);
    enc_text(&e, "ak_name");
    enc_text(&e, o->ak_name);
    enc_text(&e, "container");
    enc_text(&e, o->container);
    enc_text(&e, "issued_at");
    enc_uint(&e, o->issued_at);
    enc_text(&e, "expires_at");
    enc_uint(&e, o->expires_at);
    return enc_finish(&e, start);
}

att_rc att_order_seal(const struct att_order *o, const struct att_sigkey *key,
                      struct att_buf *out)
{
    struct att_buf body;
    struct att_buf sig;
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;
    att_rc rc;

    if (o == NULL || key == NULL || out == NULL || !order_ok(o)) {
        return ATT_ERR_INVALID_ARG;
    }
    att_buf_init(&body, ATT_PROTO_MAX_ORDER);
    att_buf_init(&sig, ATT_SIGKEY_MAX_SIG);
    rc = order_encode(o, &body);
    if (rc == ATT_OK) {
        rc = att_sigkey_sign(key, body.data, body.len, &sig);
    }
    if (rc == ATT_OK) {
        start = out->len;
        enc_map(&e, 2);
        enc_text(&e, "sig");
        enc_bytes(&e, sig.data, sig.len);
        enc_text(&e, "order");
        enc_bytes(&e, body.data, body.len);
        rc = enc_finish(&e, start);
        if (rc == ATT_OK && out->len - start > ATT_PROTO_MAX_ORDER) {
            att_buf_truncate(out, start);
            rc = ATT_ERR_INVALID_ARG;
        }
    }
    att_buf_cleanup(&body);
    att_buf_cleanup(&sig);
    return rc;
}

/* Copy a decoded text field into a fixed array (NUL-terminated), "" when absent. */
static bool take_text(char **src, char *dst, size_t dst_len)
{
    bool ok = *src == NULL || strlen(*src) < dst_len;

    dst[0] = '\0';
    if (*src != NULL && ok) {
        memcpy(dst, *src, strlen(*src) + 1);
    }
    free(*src);
    *src = NULL;
    return ok;
}

att_rc att_order_open(const uint8_t *env, size_t len, const struct att_sigkey *key,
                      struct att_order *out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dec d = {.msg = "order", .why = why, .why_len = why_len};
    struct {
        uint8_t *sig;
        size_t sig_len;
        uint8_t *body;
        size_t body_len;
    } en;
    struct att_order o;
    uint32_t version = 0;
    char *id = NULL;
    char *op = NULL;
    char *lifts = NULL;
    char *ak = NULL;
    char *ctr = NULL;
    char *image = NULL;
    struct field fe[] = {
        {FIELD("sig", FK_BYTES, REQUIRED, 1, ATT_SIGKEY_MAX_SIG),
         .dst.bytes = {&en.sig, &en.sig_len}},
        {FIELD("order", FK_BYTES, REQUIRED, 1, ATT_PROTO_MAX_ORDER),
         .dst.bytes = {&en.body, &en.body_len}},
    };
    struct field fo[] = {
        {FIELD("v", FK_U32, REQUIRED, ORDER_VERSION, ORDER_VERSION), .dst.u32 = &version},
        {FIELD("id", FK_TEXT, REQUIRED, ATT_ORDER_ID_LEN, ATT_ORDER_ID_LEN), .dst.text = &id},
        {FIELD("op", FK_TEXT, REQUIRED, 1, 16), .dst.text = &op},
        {FIELD("image", FK_TEXT, REQUIRED, 0, 79), .dst.text = &image},
        {FIELD("lifts", FK_TEXT, REQUIRED, 0, ATT_ORDER_ID_LEN), .dst.text = &lifts},
        {FIELD("reason", FK_TEXT, REQUIRED, TEXT_MIN, ATT_PROTO_MAX_TEXT), .dst.text = &o.reason},
        {FIELD("actions", FK_U32, REQUIRED, 0, ATT_ORDER_ALL), .dst.u32 = &o.actions},
        {FIELD("ak_name", FK_TEXT, REQUIRED, 2, 2 * 34), .dst.text = &ak},
        {FIELD("container", FK_TEXT, REQUIRED, 64, 64), .dst.text = &ctr},
        {FIELD("issued_at", FK_U64, REQUIRED, 0, UINT64_MAX), .dst.u64 = &o.issued_at},
        {FIELD("expires_at", FK_U64, REQUIRED, 0, UINT64_MAX), .dst.u64 = &o.expires_at},
    };

    memset(&en, 0, sizeof(en));
    memset(&o, 0, sizeof(o));
    if (key == NULL) {
        why_clear(&d);
        return fail_arg(&d, "no verifier key to check the order with");
    }
    rc = decode_message(env, len, &d, out, sizeof(*out), fe, sizeof(fe) / sizeof(fe[0]));
    if (rc != ATT_OK) {
        goto out;
    }
    /* the signature first: nothing of an unsigned order is looked at */
    if (att_sigkey_verify(key, en.body, en.body_len, en.sig, en.sig_len) != ATT_OK) {
        att_set_why(why, why_len, "order: signature does not verify with the enrolled verifier key");
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    d.msg = "signed order";
    rc = decode_message(en.body, en.body_len, &d, out, sizeof(*out), fo,
                        sizeof(fo) / sizeof(fo[0]));
    if (rc != ATT_OK) {
        goto out;
    }
    /* "op" is REQUIRED; were it ever absent it would read as an unknown op (0) and fail */
    o.op = op != NULL && strcmp(op, "lift") == 0         ? ATT_ORDER_LIFT
           : op != NULL && strcmp(op, "quarantine") == 0 ? ATT_ORDER_QUARANTINE
                                                         : (enum att_order_op)0;
    if (!take_text(&id, o.id, sizeof(o.id)) || !take_text(&lifts, o.lifts, sizeof(o.lifts)) ||
        !take_text(&ak, o.ak_name, sizeof(o.ak_name)) ||
        !take_text(&ctr, o.container, sizeof(o.container)) ||
        !take_text(&image, o.image, sizeof(o.image)) || !order_ok(&o)) {
        rc = fail(&d, "fields are inconsistent (op, ids, actions or times)");
        goto out;
    }
    *out = o;
    memset(&o, 0, sizeof(o)); /* transferred to out */
    rc = ATT_OK;
out:
    free(en.sig);
    free(en.body);
    free(id);
    free(op);
    free(lifts);
    free(ak);
    free(ctr);
    free(image);
    att_order_cleanup(&o);
    return rc;
}

void att_order_cleanup(struct att_order *o)
{
    if (o == NULL) {
        return;
    }
    free(o->reason);
    memset(o, 0, sizeof(*o));
}

att_rc att_order_ack_encode(const struct att_order_ack *a, struct att_buf *out)
{
    struct enc e = {.b = out, .failed = false, .rc = ATT_ERR_INTERNAL};
    size_t start;

    if (a == NULL || out == NULL || !att_lower_hex(a->id, ATT_ORDER_ID_LEN, ATT_ORDER_ID_LEN) ||
        !att_utf8_text_ok(a->result, TEXT_MIN, ATT_PROTO_MAX_TEXT)) {
        return ATT_ERR_INVALID_ARG;
    }
    start = out->len;
    enc_map(&e, 3);
    enc_text(&e, "id");
    enc_text(&e, a->id);
    enc_text(&e, "ok");
    enc_bool(&e, a->ok);
    enc_text(&e, "result");
    enc_text(&e, a->result);
    return enc_finish(&e, start);
}

att_rc att_order_ack_decode(const uint8_t *buf, size_t len, struct att_order_ack *out, char *why,
                            size_t why_len)
{
    att_rc rc;
    struct dec d = {.msg = "order ack", .why = why, .why_len = why_len};
    struct att_order_ack a;
    char *id = NULL;
    struct field f[] = {
        {FIELD("id", FK_TEXT, REQUIRED, ATT_ORDER_ID_LEN, ATT_ORDER_ID_LEN), .dst.text = &id},
        {FIELD("ok", FK_BOOL, REQUIRED, 0, 0), .dst.b = &a.ok},
        {FIELD("result", FK_TEXT, REQUIRED, TEXT_MIN, ATT_PROTO_MAX_TEXT), .dst.text = &a.result},
    };

    memset(&a, 0, sizeof(a));
    rc = decode_message(buf, len, &d, out, sizeof(*out), f, sizeof(f) / sizeof(f[0]));
    if (rc == ATT_OK && (!take_text(&id, a.id, sizeof(a.id)) ||
                         !att_lower_hex(a.id, ATT_ORDER_ID_LEN, ATT_ORDER_ID_LEN))) {
        rc = fail(&d, "field \"id\" must be %d lower-case hex digits", ATT_ORDER_ID_LEN);
    }
    if (rc == ATT_OK) {
        *out = a;
        memset(&a, 0, sizeof(a)); /* transferred to out */
    }
    free(id);
    att_order_ack_cleanup(&a);
    return rc;
}

void att_order_ack_cleanup(struct att_order_ack *a)
{
    if (a == NULL) {
        return;
    }
    free(a->result);
    memset(a, 0, sizeof(*a));
}
