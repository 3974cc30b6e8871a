/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers: hex, bounded file I/O, durable writes, strict number parsing.
 * No OpenSSL or TSS here.
 */
#ifndef ATT_COMMON_UTIL_H
#define ATT_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/buf.h"
#include "attest/rc.h"

/**
 * Append @p s to @p b with every byte outside '!'..'~', and '%', written as
 * %XX (upper-case hex): text that is one field of a space-separated record
 * or state line, whatever it holds. Reversed by att_unescape().
 * @retval ATT_OK @retval ATT_ERR_NOMEM (b's cap; b may hold part of it)
 */
att_rc att_buf_append_escaped(struct att_buf *b, const char *s);
/**
 * Undo att_buf_append_escaped(): @p in into @p out (NUL-terminated).
 * false when an escape is malformed or %00, or @p out is too small.
 */
bool att_unescape(const char *in, char *out, size_t out_len);
/** Lower-case hex of @p len bytes into @p out, which must hold 2*len+1 bytes. */
void att_hex_encode(const uint8_t *in, size_t len, char *out);
/**
 * Decode exactly @p out_len bytes from a hex string of exactly 2*out_len chars.
 * @retval ATT_OK  @retval ATT_ERR_PARSE  wrong length or a non-hex character
 */
att_rc att_hex_decode(const char *hex, uint8_t *out, size_t out_len);
/** Whether @p s (NUL-terminated, may be NULL) is @p min..@p max lower-case hex digits. */
bool att_lower_hex(const char *s, size_t min, size_t max);

/**
 * Read a whole file into @p out (initialised by the caller, cap taken from out->max).
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_PARSE larger than out->max
 * @retval ATT_ERR_IO
 */
att_rc att_file_read(const char *path, struct att_buf *out);
/** Write @p len bytes to @p path via a temp file, fsync, rename, fsync(dir). Mode 0600. */
att_rc att_file_write_atomic(const char *path, const void *data, size_t len);
/** fsync the directory that holds @p path. */
att_rc att_fsync_dir_of(const char *path);

/** Strict unsigned parse: whole string, base 10, no sign, no overflow beyond @p max. */
att_rc att_parse_u32(const char *s, uint32_t max, uint32_t *out);
att_rc att_parse_u64(const char *s, uint64_t max, uint64_t *out);

/**
 * Strict UTF-8 (RFC 3629): no overlong forms, surrogates or code points above
 * U+10FFFF. CBOR text strings (RFC 8949 §3.1) and JSON strings must be valid.
 */
bool att_utf8_valid(const uint8_t *s, size_t len);
/** @p s is @p min..@p max bytes of valid UTF-8 (the bound is checked before the length is known).
 */
bool att_utf8_text_ok(const char *s, size_t min, size_t max);

/**
 * Replace every byte of @p s that is not printable ASCII (0x20..0x7e) with
 * '?', in place: for text from outside (agent records, engine and parser
 * messages) on its way into reasons, JSON and terminals.
 */
void att_printable_ascii(char *s);

/**
 * Write a reason for the caller into @p why (NUL-terminated, truncated to
 * @p why_len). A NULL @p why or a zero @p why_len means no reason is wanted.
 */
void att_set_why(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * RFC 3339 §5.6 date-time, strictly, as Go and OSV write it
 * ("2026-11-22T22:23:58.040264812Z", or with a +hh:mm / -hh:mm offset): 'T'
 * and 'Z' in either case, a real day of that month, a leap second allowed,
 * 1..9 fraction digits, not before 1970. False for anything else.
 */
bool att_rfc3339_parse(const char *t, struct timespec *out);
/**
 * @p t as "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds) into @p out (at least
 * 21 bytes). False, with @p out "unknown" when it fits, if @p t cannot be
 * represented.
 */
bool att_rfc3339_format(time_t t, char *out, size_t out_len);

/** Wipe a secret so the compiler cannot elide it (explicit_bzero). */
void att_cleanse(void *p, size_t len);

/** Constant-time compare; true when equal. */
bool att_mem_equal(const void *a, const void *b, size_t len);

/** strdup() of an optional string: NULL stays NULL; out of memory sets *failed. */
char *att_strdup_opt(const char *s, bool *failed);

#endif
