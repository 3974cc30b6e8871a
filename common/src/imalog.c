/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IMA binary measurement list (binary_runtime_measurements) with the
 * ima-ng and ima-buf templates: build, encode, bounded parse, sha256 replay
 * and the kernel's ascii rendering (Linux security/integrity/ima/ima_fs.c,
 * ima_template_lib.c; shared/notes/measurement-facts.md §2).
 * It does not read /sys, talk to the TPM or appraise entries against policy;
 * it only turns bytes into entries and entries into a PCR value.
 * Every integer is little-endian (ima_canonical_fmt), whatever the host order.
 */
#include "attest/imalog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/util.h"

#define IMA_PCR_COUNT  24u
#define U32_LEN        4u
#define TMPL_NG        "ima-ng"
#define TMPL_BUF       "ima-buf"
#define FILE_HASH_ALGO "sha256"
/*
 * Kernels before the "fix violation measurement list record" change write
 * IMA_DIGEST_SIZE (SHA-1 size) zero bytes after any algorithm prefix for a
 * violation (measurement-facts.md §2.2); such a d-ng is accepted only all-zero.
 */
#define LEGACY_VIOLATION_DIGEST_LEN 20u

struct hash_algo {
    const char *name;
    size_t digest_len;
};

static const struct hash_algo hash_algos[] = {
    {"sha1", 20},
    {"sha256", 32},
    {"sha384", 48},
    {"sha512", 64},
};

static uint32_t get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool is_all(const uint8_t *p, size_t len, uint8_t v)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

/*
 * Render up to ATT_IMA_MAX_TEMPLATE_NAME untrusted bytes for a message:
 * printable ASCII as is, anything else (and '"', '\\') as \xNN, so a log line
 * can never carry control characters from the input. out must hold 4*len+1.
 */
static void escape_bytes(const uint8_t *p, size_t len, char *out, size_t out_len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    size_t o = 0;

    for (i = 0; i < len && o + 5 <= out_len; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
            out[o++] = (char)p[i];
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = digits[p[i] >> 4];
            out[o++] = digits[p[i] & 0x0f];
        }
    }
    out[o] = '\0';
}

/*
 * True when at least n bytes remain after off in a buffer of len bytes
 * (off <= len always holds, so the subtraction cannot wrap); otherwise says
 * which field was cut short.
 */
static bool have(size_t len, size_t off, size_t n, const char *field, char *why, size_t why_len)
{
    if (len - off < n) {
        att_set_why(why, why_len, "truncated in %s: need %zu bytes, %zu left", field, n, len - off);
        return false;
    }
    return true;
}

/*
 * Take the next "u32 len || bytes" field of the template data at *off.
 * On success *field points into d (borrowed) and *off moves past it.
 */
static att_rc next_field(const uint8_t *d, size_t dlen, size_t *off, const char *name,
                         const uint8_t **field, size_t *flen, char *why, size_t why_len)
{
    uint32_t n;

    if (dlen - *off < U32_LEN) {
        att_set_why(why, why_len, "%s: field length truncated: need 4 bytes, %zu left", name,
                dlen - *off);
        return ATT_ERR_PARSE;
    }
    n = get_u32le(d + *off);
    *off += U32_LEN;
    if (n > dlen - *off) {
        att_set_why(why, why_len, "%s: field length %u exceeds the %zu bytes left in template_data",
                name, n, dlen - *off);
        return ATT_ERR_PARSE;
    }
    *field = d + *off;
    *flen = n;
    *off += n;
    return ATT_OK;
}

/*
 * d-ng: <algo> ':' '\0' <digest>. The algorithm name is 1..15 printable bytes
 * and must be one we know, so that the digest length can be checked exactly.
 */
static att_rc parse_dng(const uint8_t *f, size_t flen, struct att_ima_entry *e, char *why,
                        size_t why_len)
{
    const struct hash_algo *algo = NULL;
    size_t a = 0;
    size_t dlen;
    size_t i;

    while (a < flen && f[a] != ':') {
        if (a == ATT_IMA_MAX_HASH_ALGO) {
            att_set_why(why, why_len, "d-ng: hash algo longer than %d bytes", ATT_IMA_MAX_HASH_ALGO);
            return ATT_ERR_PARSE;
        }
        if (f[a] < 0x21 || f[a] > 0x7e) {
            att_set_why(why, why_len, "d-ng: hash algo has non-printable byte 0x%02x at offset %zu",
                    f[a], a);
            return ATT_ERR_PARSE;
        }
        a++;
    }
    if (a == flen) {
        att_set_why(why, why_len, "d-ng: no ':' after the hash algo");
        return ATT_ERR_PARSE;
    }
    if (a == 0) {
        att_set_why(why, why_len, "d-ng: empty hash algo");
        return ATT_ERR_PARSE;
    }
    if (flen - a < 2 || f[a + 1] != '\0') {
        att_set_why(why, why_len, "d-ng: ':' not followed by NUL");
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < sizeof(hash_algos) / sizeof(hash_algos[0]); i++) {
        if (strlen(hash_algos[i].name) == a && memcmp(hash_algos[i].name, f, a) == 0) {
            algo = &hash_algos[i];
            break;
        }
    }
    if (algo == NULL) {
        att_set_why(why, why_len, "d-ng: unknown hash algo \"%.*s\"", (int)a, (const char *)f);
        return ATT_ERR_PARSE;
    }
    dlen = flen - a - 2;
    if (dlen != algo->digest_len &&
        !(dlen == LEGACY_VIOLATION_DIGEST_LEN && is_all(f + a + 2, dlen, 0))) {
        att_set_why(why, why_len, "d-ng: digest length %zu does not match %s (%zu)", dlen, algo->name,
                algo->digest_len);
        return ATT_ERR_PARSE;
    }
    memcpy(e->hash_algo, f, a);
    e->hash_algo[a] = '\0';
    memcpy(e->digest, f + a + 2, dlen);
    e->digest_len = dlen;
    e->is_violation = is_all(e->digest, dlen, 0);
    return ATT_OK;
}

/*
 * n-ng: 1..ATT_IMA_MAX_EVENT_NAME name bytes and one NUL, counted in the
 * field length, at the very end; a NUL inside would let a C-string consumer
 * see a different name than the one that was hashed.
 */
static att_rc parse_nng(const uint8_t *f, size_t flen, struct att_ima_entry *e, char *why,
                        size_t why_len)
{
    const uint8_t *nul;

    if (flen < 2 || flen > (size_t)ATT_IMA_MAX_EVENT_NAME + 1) {
        att_set_why(why, why_len, "n-ng: length %zu out of range 2..%d", flen,
                ATT_IMA_MAX_EVENT_NAME + 1);
        return ATT_ERR_PARSE;
    }
    if (f[flen - 1] != '\0') {
        att_set_why(why, why_len, "n-ng: not NUL-terminated");
        return ATT_ERR_PARSE;
    }
    nul = memchr(f, '\0', flen - 1);
    if (nul != NULL) {
        att_set_why(why, why_len, "n-ng: NUL inside the name at offset %zu", (size_t)(nul - f));
        return ATT_ERR_PARSE;
    }
    e->name = malloc(flen);
    if (e->name == NULL) {
        att_set_why(why, why_len, "n-ng: out of memory");
        return ATT_ERR_NOMEM;
    }
    memcpy(e->name, f, flen);
    return ATT_OK;
}

/* buf: raw bytes, possibly none (the kernel then writes a zero-length field). */
static att_rc parse_buf_field(const uint8_t *f, size_t flen, struct att_ima_entry *e, char *why,
                              size_t why_len)
{
    if (flen > (size_t)ATT_IMA_MAX_BUF) {
        att_set_why(why, why_len, "buf: length %zu exceeds limit %zu", flen, ATT_IMA_MAX_BUF);
        return ATT_ERR_PARSE;
    }
    /* Never NULL for ima-buf, even when empty, so NULL keeps meaning "ima-ng". */
    e->buf = malloc(flen > 0 ? flen : 1);
    if (e->buf == NULL) {
        att_set_why(why, why_len, "buf: out of memory");
        return ATT_ERR_NOMEM;
    }
    if (flen > 0) {
        memcpy(e->buf, f, flen);
    }
    e->buf_len = flen;
    return ATT_OK;
}

/*
 * Split the template data into its fields; the field lengths must add up to
 * exactly dlen. Fills the decoded members of e and allocates name/buf (freed
 * by the caller's att_ima_entry_cleanup() on failure).
 */
static att_rc parse_template_data(const uint8_t *d, size_t dlen, struct att_ima_entry *e, char *why,
                                  size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    const uint8_t *f = NULL;
    size_t flen = 0;
    size_t off = 0;

    rc = next_field(d, dlen, &off, "d-ng", &f, &flen, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = parse_dng(f, flen, e, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = next_field(d, dlen, &off, "n-ng", &f, &flen, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = parse_nng(f, flen, e, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (e->tmpl == ATT_IMA_TEMPLATE_BUF) {
        rc = next_field(d, dlen, &off, "buf", &f, &flen, why, why_len);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = parse_buf_field(f, flen, e, why, why_len);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if (off != dlen) {
        att_set_why(why, why_len, "template_data: %zu bytes after the last field", dlen - off);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

/*
 * Parse one record; the messages name the field but not the record index,
 * which the log-level callers prepend.
 */
static att_rc parse_record(const uint8_t *buf, size_t len, struct att_ima_entry *out,
                           size_t *consumed, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    struct att_ima_entry e;
    size_t off = 0;
    uint32_t pcr;
    uint32_t name_len;
    uint32_t data_len;
    const uint8_t *tname;
    char esc[4 * ATT_IMA_MAX_TEMPLATE_NAME + 1];

    memset(&e, 0, sizeof(e));
    if (!have(len, off, U32_LEN, "pcr", why, why_len)) {
        goto out;
    }
    pcr = get_u32le(buf + off);
    off += U32_LEN;
    if (pcr >= IMA_PCR_COUNT) {
        att_set_why(why, why_len, "pcr %u out of range 0..%u", pcr, IMA_PCR_COUNT - 1);
        goto out;
    }
    e.pcr = pcr;
    if (!have(len, off, ATT_SHA1_LEN, "template_digest", why, why_len)) {
        goto out;
    }
    memcpy(e.template_digest, buf + off, ATT_SHA1_LEN);
    off += ATT_SHA1_LEN;

    if (!have(len, off, U32_LEN, "template_name_len", why, why_len)) {
        goto out;
    }
    name_len = get_u32le(buf + off);
    off += U32_LEN;
    if (name_len == 0 || name_len > ATT_IMA_MAX_TEMPLATE_NAME) {
        att_set_why(why, why_len, "template_name_len %u out of range 1..%d", name_len,
                ATT_IMA_MAX_TEMPLATE_NAME);
        goto out;
    }
    if (!have(len, off, name_len, "template_name", why, why_len)) {
        goto out;
    }
    tname = buf + off;
    off += name_len;
    if (name_len == strlen(TMPL_NG) && memcmp(tname, TMPL_NG, name_len) == 0) {
        e.tmpl = ATT_IMA_TEMPLATE_NG;
    } else if (name_len == strlen(TMPL_BUF) && memcmp(tname, TMPL_BUF, name_len) == 0) {
        e.tmpl = ATT_IMA_TEMPLATE_BUF;
    } else {
        escape_bytes(tname, name_len, esc, sizeof(esc));
        att_set_why(why, why_len, "template_name \"%s\" not supported (only ima-ng, ima-buf)", esc);
        goto out;
    }

    if (!have(len, off, U32_LEN, "template_data_len", why, why_len)) {
        goto out;
    }
    data_len = get_u32le(buf + off);
    off += U32_LEN;
    if (data_len > ATT_IMA_MAX_DATA) {
        att_set_why(why, why_len, "template_data_len %u exceeds limit %zu", data_len, (size_t)ATT_IMA_MAX_DATA);
        goto out;
    }
    if (!have(len, off, data_len, "template_data", why, why_len)) {
        goto out;
    }
    rc = parse_template_data(buf + off, data_len, &e, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    /* never malloc(0): valid template data holds at least two length words */
    e.data = malloc(data_len);
    if (e.data == NULL) {
        att_set_why(why, why_len, "template_data: out of memory");
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    memcpy(e.data, buf + off, data_len);
    e.data_len = data_len;
    off += data_len;

    *out = e;
    memset(&e, 0, sizeof(e)); /* transferred to *out */
    *consumed = off;
    rc = ATT_OK;
out:
    att_ima_entry_cleanup(&e);
    return rc;
}

att_rc att_ima_entry_parse(const uint8_t *buf, size_t len, struct att_ima_entry *e,
                           size_t *consumed, char *why, size_t why_len)
{
    att_set_why(why, why_len, "%s", "");
    if (e == NULL || consumed == NULL || (buf == NULL && len > 0)) {
        att_set_why(why, why_len, "invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    return parse_record(buf, len, e, consumed, why, why_len);
}

/*
 * Build a record's template data from its decoded parts and fill e. The
 * caller has checked every length; e is zeroed and owns nothing on entry,
 * and is cleaned up here on failure so it never holds a half-built entry.
 */
static att_rc build_entry(struct att_ima_entry *e, uint32_t pcr, enum att_ima_template tmpl,
                          const uint8_t digest[ATT_SHA256_LEN], const char *name, size_t name_len,
                          const uint8_t *buf, size_t buf_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf data;
    static const uint8_t sep[2] = {':', '\0'};

    att_buf_init(&data, ATT_IMA_MAX_DATA);
    /* The kernel stores a space in an event name as '_' in the record itself
     * (ima_write_template_field_data), so the template hash matches its logs. */
    e->name = malloc(name_len + 1);
    if (e->name == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    memcpy(e->name, name, name_len + 1);
    for (size_t i = 0; i < name_len; i++) {
        if (e->name[i] == ' ') {
            e->name[i] = '_';
        }
    }
    e->pcr = pcr;
    e->tmpl = tmpl;
    memcpy(e->hash_algo, FILE_HASH_ALGO, sizeof(FILE_HASH_ALGO));
    memcpy(e->digest, digest, ATT_SHA256_LEN);
    e->digest_len = ATT_SHA256_LEN;
    e->is_violation = is_all(digest, ATT_SHA256_LEN, 0);

    /* The lengths are bounded by the callers, so the u32 casts cannot truncate. */
    rc = att_buf_append_u32le(&data, (uint32_t)(strlen(FILE_HASH_ALGO) + 2 + ATT_SHA256_LEN));
    if (rc == ATT_OK) {
        rc = att_buf_append_str(&data, FILE_HASH_ALGO);
    }
    if (rc == ATT_OK) {
        rc = att_buf_append(&data, sep, sizeof(sep));
    }
    if (rc == ATT_OK) {
        rc = att_buf_append(&data, digest, ATT_SHA256_LEN);
    }
    if (rc == ATT_OK) {
        rc = att_buf_append_u32le(&data, (uint32_t)(name_len + 1));
    }
    if (rc == ATT_OK) {
        /* name plus its NUL, which n-ng counts */
        rc = att_buf_append(&data, e->name, name_len + 1);
    }
    if (rc == ATT_OK && tmpl == ATT_IMA_TEMPLATE_BUF) {
        rc = att_buf_append_u32le(&data, (uint32_t)buf_len);
        if (rc == ATT_OK) {
            rc = att_buf_append(&data, buf, buf_len);
        }
    }
    if (rc != ATT_OK) {
        goto out;
    }

    if (tmpl == ATT_IMA_TEMPLATE_BUF) {
        e->buf = malloc(buf_len > 0 ? buf_len : 1);
        if (e->buf == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        if (buf_len > 0) {
            memcpy(e->buf, buf, buf_len);
        }
        e->buf_len = buf_len;
    }
    e->data = att_buf_steal(&data, &e->data_len);

    /* A violation is logged with a zero template digest (ima_store_template). */
    if (!e->is_violation) {
        rc = att_sha1(e->data, e->data_len, e->template_digest);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    att_buf_cleanup(&data);
    if (rc != ATT_OK) {
        att_ima_entry_cleanup(e);
    }
    return rc;
}

/* Length of a valid event name, or 0 when name is NULL, empty or too long. */
static size_t event_name_len(const char *name)
{
    size_t n;

    if (name == NULL) {
        return 0;
    }
    n = strnlen(name, (size_t)ATT_IMA_MAX_EVENT_NAME + 1);
    return n > ATT_IMA_MAX_EVENT_NAME ? 0 : n;
}

att_rc att_ima_entry_build_ng(struct att_ima_entry *e, uint32_t pcr,
                              const uint8_t file_digest[ATT_SHA256_LEN], const char *name)
{
    size_t name_len;

    if (e == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(e, 0, sizeof(*e));
    name_len = event_name_len(name);
    if (file_digest == NULL || name_len == 0 || pcr >= IMA_PCR_COUNT) {
        return ATT_ERR_INVALID_ARG;
    }
    return build_entry(e, pcr, ATT_IMA_TEMPLATE_NG, file_digest, name, name_len, NULL, 0);
}

att_rc att_ima_entry_build_buf(struct att_ima_entry *e, uint32_t pcr, const char *name,
                               const uint8_t *buf, size_t buf_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    uint8_t digest[ATT_SHA256_LEN];
    size_t name_len;

    if (e == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(e, 0, sizeof(*e));
    name_len = event_name_len(name);
    if (name_len == 0 || pcr >= IMA_PCR_COUNT || buf_len > (size_t)ATT_IMA_MAX_BUF ||
        (buf == NULL && buf_len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = att_sha256(buf_len > 0 ? (const void *)buf : "", buf_len, digest);
    if (rc != ATT_OK) {
        return rc;
    }
    return build_entry(e, pcr, ATT_IMA_TEMPLATE_BUF, digest, name, name_len, buf, buf_len);
}

void att_ima_entry_cleanup(struct att_ima_entry *e)
{
    if (e == NULL) {
        return;
    }
    free(e->name);
    free(e->buf);
    free(e->data);
    memset(e, 0, sizeof(*e));
}

static const char *template_name(enum att_ima_template tmpl)
{
    switch (tmpl) {
    case ATT_IMA_TEMPLATE_NG:
        return TMPL_NG;
    case ATT_IMA_TEMPLATE_BUF:
        return TMPL_BUF;
    default:
        return NULL;
    }
}

att_rc att_ima_entry_encode(const struct att_ima_entry *e, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    const char *tname;
    size_t old_len;

    if (e == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    tname = template_name(e->tmpl);
    if (tname == NULL || e->data == NULL || e->data_len == 0 || e->data_len > ATT_IMA_MAX_DATA ||
        e->pcr >= IMA_PCR_COUNT) {
        return ATT_ERR_INVALID_ARG;
    }
    old_len = out->len;
    rc = att_buf_append_u32le(out, e->pcr);
    if (rc == ATT_OK) {
        rc = att_buf_append(out, e->template_digest, ATT_SHA1_LEN);
    }
    if (rc == ATT_OK) {
        rc = att_buf_append_u32le(out, (uint32_t)strlen(tname));
    }
    if (rc == ATT_OK) {
        rc = att_buf_append_str(out, tname);
    }
    if (rc == ATT_OK) {
        rc = att_buf_append_u32le(out, (uint32_t)e->data_len);
    }
    if (rc == ATT_OK) {
        rc = att_buf_append(out, e->data, e->data_len);
    }
    if (rc != ATT_OK) {
        /* never leave half a record behind: the next append would misalign the log */
        att_buf_truncate(out, old_len);
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

att_rc att_ima_entry_bank_digests(const struct att_ima_entry *e, uint8_t sha1[ATT_SHA1_LEN],
                                  uint8_t sha256[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_INTERNAL;

    if (e == NULL || (e->data == NULL && !e->is_violation)) {
        return ATT_ERR_INVALID_ARG;
    }
    /* A violation extends every bank with all-ones of the bank size (ima_add_violation). */
    if (sha1 != NULL) {
        if (e->is_violation) {
            memset(sha1, 0xff, ATT_SHA1_LEN);
        } else {
            rc = att_sha1(e->data, e->data_len, sha1);
            if (rc != ATT_OK) {
                goto out;
            }
        }
    }
    if (sha256 != NULL) {
        if (e->is_violation) {
            memset(sha256, 0xff, ATT_SHA256_LEN);
        } else {
            rc = att_sha256(e->data, e->data_len, sha256);
            if (rc != ATT_OK) {
                goto out;
            }
        }
    }
    rc = ATT_OK;
out:
    return rc;
}

void att_ima_log_init(struct att_ima_log *log)
{
    if (log == NULL) {
        return;
    }
    log->entries = NULL;
    log->count = 0;
    log->cap = 0;
}

/* Drop the entries past keep (used to undo a failed parse). */
static void log_truncate(struct att_ima_log *log, size_t keep)
{
    while (log->count > keep) {
        log->count--;
        att_ima_entry_cleanup(&log->entries[log->count]);
    }
}

void att_ima_log_cleanup(struct att_ima_log *log)
{
    if (log == NULL) {
        return;
    }
    log_truncate(log, 0);
    free(log->entries);
    att_ima_log_init(log);
}

att_rc att_ima_log_push(struct att_ima_log *log, struct att_ima_entry *e)
{
    struct att_ima_entry *n;
    size_t ncap;

    if (log == NULL || e == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (log->count == log->cap) {
        if (log->cap > SIZE_MAX / 2 / sizeof(*n)) {
            return ATT_ERR_NOMEM;
        }
        ncap = log->cap != 0 ? log->cap * 2 : 16;
        n = realloc(log->entries, ncap * sizeof(*n));
        if (n == NULL) {
            return ATT_ERR_NOMEM;
        }
        log->entries = n;
        log->cap = ncap;
    }
    log->entries[log->count] = *e;
    log->count++;
    memset(e, 0, sizeof(*e)); /* transferred to log */
    return ATT_OK;
}

/*
 * Shared walk for both log parsers. Appends every whole record to log and
 * stores in *whole_len the bytes they span; returns the rc of the first bad
 * record (why then names its index) or ATT_OK when all len bytes were used.
 * A parse error leaves log holding the good prefix; the callers decide.
 */
static att_rc walk_log(const uint8_t *buf, size_t len, size_t max_entries, struct att_ima_log *log,
                       size_t *whole_len, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    struct att_ima_entry e;
    char rwhy[256];
    size_t off = 0;
    size_t idx = 0;

    memset(&e, 0, sizeof(e));
    while (off < len) {
        size_t used = 0;

        if (idx >= max_entries) {
            att_set_why(why, why_len, "record %zu: more than %zu records", idx, max_entries);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        rc = parse_record(buf + off, len - off, &e, &used, rwhy, sizeof(rwhy));
        if (rc != ATT_OK) {
            att_set_why(why, why_len, "record %zu: %s", idx, rwhy);
            goto out;
        }
        rc = att_ima_log_push(log, &e);
        if (rc != ATT_OK) {
            att_set_why(why, why_len, "record %zu: out of memory", idx);
            goto out;
        }
        off += used;
        *whole_len = off;
        idx++;
    }
    rc = ATT_OK;
out:
    att_ima_entry_cleanup(&e);
    return rc;
}

att_rc att_ima_log_parse(const uint8_t *buf, size_t len, size_t max_entries,
                         struct att_ima_log *log, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    size_t keep;
    size_t whole = 0;

    att_set_why(why, why_len, "%s", "");
    if (log == NULL || (buf == NULL && len > 0)) {
        att_set_why(why, why_len, "invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    keep = log->count;
    rc = walk_log(buf, len, max_entries, log, &whole, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    if (rc != ATT_OK) {
        /* all or nothing: a log that failed to parse adds no entries */
        log_truncate(log, keep);
    }
    return rc;
}

att_rc att_ima_log_parse_prefix(const uint8_t *buf, size_t len, struct att_ima_log *log,
                                size_t *whole_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    size_t keep;
    size_t whole = 0;

    if (log == NULL || whole_len == NULL || (buf == NULL && len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    keep = log->count;
    rc = walk_log(buf, len, SIZE_MAX, log, &whole, NULL, 0);
    /* a torn or corrupt tail (ATT_ERR_PARSE) ends the prefix; what came before stands */
    if (rc != ATT_OK && rc != ATT_ERR_PARSE) {
        log_truncate(log, keep);
        goto out;
    }
    *whole_len = whole;
    rc = ATT_OK;
out:
    return rc;
}

/*
 * The record's 20-byte header digest must be SHA-1 of its template data, or
 * all zero for a violation (whose d-ng digest is all zero). Returns
 * ATT_ERR_VERIFY on a mismatch and ATT_ERR_CRYPTO if SHA-1 could not run.
 */
static att_rc check_template_digest(const struct att_ima_entry *e)
{
    att_rc rc = ATT_ERR_VERIFY;
    uint8_t want[ATT_SHA1_LEN] = {0}; /* what a violation carries */

    if (e->data == NULL || e->data_len == 0) {
        goto out;
    }
    if (!e->is_violation) {
        rc = att_sha1(e->data, e->data_len, want);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if (!att_mem_equal(want, e->template_digest, ATT_SHA1_LEN)) {
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

att_rc att_ima_replay(const struct att_ima_entry *entries, size_t n, uint32_t pcr,
                      uint8_t value[ATT_SHA256_LEN], size_t *bad_index)
{
    att_rc rc = ATT_ERR_VERIFY;
    uint8_t acc[ATT_SHA256_LEN];
    uint8_t d[ATT_SHA256_LEN];
    size_t i;

    if ((entries == NULL && n > 0) || value == NULL || pcr >= IMA_PCR_COUNT) {
        return ATT_ERR_INVALID_ARG;
    }
    /* Every record is checked, also those for other PCRs: a log is whole or rejected. */
    for (i = 0; i < n; i++) {
        rc = check_template_digest(&entries[i]);
        if (rc != ATT_OK) {
            if (rc == ATT_ERR_VERIFY && bad_index != NULL) {
                *bad_index = i;
            }
            goto out;
        }
    }
    /* value is written only on success, so a failed replay cannot look like a result */
    memcpy(acc, value, ATT_SHA256_LEN);
    for (i = 0; i < n; i++) {
        if (entries[i].pcr != pcr) {
            continue;
        }
        rc = att_ima_entry_bank_digests(&entries[i], NULL, d);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = att_pcr_extend_sha256(acc, d);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    memcpy(value, acc, ATT_SHA256_LEN);
    rc = ATT_OK;
out:
    return rc;
}

/* Append len bytes as lower-case hex, in chunks so no allocation is needed. */
static att_rc append_hex(struct att_buf *out, const uint8_t *p, size_t len)
{
    char hex[2 * 64 + 1];
    size_t off;

    for (off = 0; off < len; off += 64) {
        size_t n = len - off < 64 ? len - off : 64;
        att_rc rc;

        att_hex_encode(p + off, n, hex);
        rc = att_buf_append(out, hex, 2 * n);
        if (rc != ATT_OK) {
            return rc;
        }
    }
    return ATT_OK;
}

/*
 * The name as the kernel shows it, with each ' ' as '_' so that ascii
 * consumers can split a line on spaces. The kernel already substitutes in the
 * binary n-ng (ima_write_template_field_data); this module keeps spaces in the
 * binary (imalog.h) and substitutes here, so the line is the same either way.
 * Other bytes, newlines included, are written as they are, as the kernel does.
 */
static att_rc append_ascii_name(struct att_buf *out, const char *name)
{
    const char *p = name;

    while (*p != '\0') {
        size_t span = strcspn(p, " ");
        att_rc rc = att_buf_append(out, p, span);

        if (rc == ATT_OK && p[span] == ' ') {
            rc = att_buf_append(out, "_", 1);
            span++;
        }
        if (rc != ATT_OK) {
            return rc;
        }
        p += span;
    }
    return ATT_OK;
}

att_rc att_ima_entry_ascii(const struct att_ima_entry *e, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    const char *tname;
    char tdhex[2 * ATT_SHA1_LEN + 1];
    char dhex[2 * ATT_IMA_MAX_DIGEST + 1];
    size_t old_len;

    if (e == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    tname = template_name(e->tmpl);
    if (tname == NULL || e->name == NULL || e->digest_len > ATT_IMA_MAX_DIGEST ||
        memchr(e->hash_algo, '\0', sizeof(e->hash_algo)) == NULL ||
        (e->tmpl == ATT_IMA_TEMPLATE_BUF && e->buf == NULL && e->buf_len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    att_hex_encode(e->template_digest, ATT_SHA1_LEN, tdhex);
    att_hex_encode(e->digest, e->digest_len, dhex);
    old_len = out->len;
    rc = att_buf_printf(out, "%2u %s %s %s:%s ", e->pcr, tdhex, tname, e->hash_algo, dhex);
    if (rc == ATT_OK) {
        rc = append_ascii_name(out, e->name);
    }
    if (rc == ATT_OK && e->tmpl == ATT_IMA_TEMPLATE_BUF) {
        rc = att_buf_append(out, " ", 1);
        if (rc == ATT_OK) {
            rc = append_hex(out, e->buf, e->buf_len);
        }
    }
    if (rc == ATT_OK) {
        rc = att_buf_append(out, "\n", 1);
    }
    if (rc != ATT_OK) {
        att_buf_truncate(out, old_len);
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}
