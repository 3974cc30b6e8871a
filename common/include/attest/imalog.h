/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux IMA measurement list, binary_runtime_measurements format, with the
 * ima-ng (d-ng|n-ng) and ima-buf (d-ng|n-ng|buf) templates
 * (security/integrity/ima/ima_fs.c, ima_template_lib.c; shared/notes/
 * measurement-facts.md §2). Integers are little-endian (ima_canonical_fmt;
 * identical to host order on x86-64 and arm64).
 *
 * Per record: u32 pcr | u8 template_digest[20] (SHA-1 of template data) |
 * u32 name_len | name | u32 data_len | data; data = per field u32 len || bytes.
 * The sha256 bank is extended with sha256(template data); a violation (all-zero
 * d-ng digest) is logged with a zero template digest and extended with 0xFF.
 *
 * Parsing is bounded (ATT_IMA_MAX_*) and never trusts a length it has not
 * checked against the bytes left. Entries own their memory.
 */
#ifndef ATT_COMMON_IMALOG_H
#define ATT_COMMON_IMALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/rc.h"

#define ATT_IMA_MAX_TEMPLATE_NAME 15                  /* IMA_TEMPLATE_NAME_LEN_MAX */
#define ATT_IMA_MAX_EVENT_NAME    4096                /* n-ng bytes without the NUL */
#define ATT_IMA_MAX_BUF           ((size_t)64 * 1024) /* ima-buf payload */
#define ATT_IMA_MAX_DATA          (ATT_IMA_MAX_EVENT_NAME + ATT_IMA_MAX_BUF + 256)
#define ATT_IMA_MAX_HASH_ALGO     15
#define ATT_IMA_MAX_DIGEST        64
/*
 * The agent's record of its own log file refusing writes (ima-buf, issue 7):
 * "state=open since=<UTC> error=<escaped>" while it does, "state=closed
 * since=<UTC> until=<UTC> refused=<n> error=<escaped>" once it took a write
 * again. Measurements made in between were refused, not recorded.
 */
#define ATT_IMA_GAP_RECORD "log-gap"

enum att_ima_template { ATT_IMA_TEMPLATE_NG = 1, ATT_IMA_TEMPLATE_BUF = 2 };

struct att_ima_entry {
    uint32_t pcr;
    uint8_t template_digest[ATT_SHA1_LEN]; /* as in the record (zero for violations) */
    enum att_ima_template tmpl;
    char hash_algo[ATT_IMA_MAX_HASH_ALGO + 1]; /* d-ng algorithm, e.g. "sha256" */
    uint8_t digest[ATT_IMA_MAX_DIGEST];        /* d-ng digest */
    size_t digest_len;
    bool is_violation; /* d-ng digest all zero */
    char *name;        /* n-ng without its NUL; owned, NUL-terminated */
    uint8_t *buf;      /* ima-buf payload; owned; NULL for ima-ng */
    size_t buf_len;
    uint8_t *data; /* raw template data as hashed; owned */
    size_t data_len;
};

struct att_ima_log {
    struct att_ima_entry *entries; /* owned array */
    size_t count;
    size_t cap;
};

/**
 * Build an ima-ng entry: d-ng = "sha256:\0" || @p file_digest, n-ng = @p name.
 * Computes template data and the SHA-1 template digest. Spaces in @p name are
 * stored as '_' in the record itself, as the kernel does (ima_write_template_field_data).
 * @param[out] e  initialised here; release with att_ima_entry_cleanup()
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG name empty/too long @retval ATT_ERR_NOMEM
 */
att_rc att_ima_entry_build_ng(struct att_ima_entry *e, uint32_t pcr,
                              const uint8_t file_digest[ATT_SHA256_LEN], const char *name);
/** Build an ima-buf entry: d-ng = sha256(@p buf), n-ng = @p name, buf = @p buf. */
att_rc att_ima_entry_build_buf(struct att_ima_entry *e, uint32_t pcr, const char *name,
                               const uint8_t *buf, size_t buf_len);
void att_ima_entry_cleanup(struct att_ima_entry *e);

/** Append the binary record of @p e to @p out. */
att_rc att_ima_entry_encode(const struct att_ima_entry *e, struct att_buf *out);
/** The digests each bank is extended with: sha256/sha1 of template data, or 0xFF for violations. */
att_rc att_ima_entry_bank_digests(const struct att_ima_entry *e, uint8_t sha1[ATT_SHA1_LEN],
                                  uint8_t sha256[ATT_SHA256_LEN]);

/**
 * Parse one record at the start of @p buf.
 * @param[out] e         initialised on ATT_OK only
 * @param[out] consumed  record length on ATT_OK
 * @param[out] why       reason on failure (may be NULL)
 * @retval ATT_OK
 * @retval ATT_ERR_PARSE  malformed, oversized or truncated (why says which field)
 */
att_rc att_ima_entry_parse(const uint8_t *buf, size_t len, struct att_ima_entry *e,
                           size_t *consumed, char *why, size_t why_len);

void att_ima_log_init(struct att_ima_log *log);
void att_ima_log_cleanup(struct att_ima_log *log);
/** Takes ownership of *e's memory (e is zeroed). */
att_rc att_ima_log_push(struct att_ima_log *log, struct att_ima_entry *e);
/**
 * Parse a whole binary log of at most @p max_entries records; trailing or
 * truncated bytes are an error that names the record index and field.
 * @param[out] log  initialised by the caller; entries are appended
 */
att_rc att_ima_log_parse(const uint8_t *buf, size_t len, size_t max_entries,
                         struct att_ima_log *log, char *why, size_t why_len);
/**
 * Parse as many complete records as there are; stop at the first incomplete or
 * malformed one and report how many bytes were whole (crash recovery).
 */
att_rc att_ima_log_parse_prefix(const uint8_t *buf, size_t len, struct att_ima_log *log,
                                size_t *whole_len);

/**
 * Replay entries [0, n) that target @p pcr into the sha256 value @p value
 * (in: starting value; out: result). First checks that each record's SHA-1
 * template digest matches its data (zero for violations).
 * @param[out] bad_index  index of the first inconsistent record on ATT_ERR_VERIFY (may be NULL)
 * @retval ATT_OK @retval ATT_ERR_VERIFY @retval ATT_ERR_CRYPTO
 */
att_rc att_ima_replay(const struct att_ima_entry *entries, size_t n, uint32_t pcr,
                      uint8_t value[ATT_SHA256_LEN], size_t *bad_index);

/**
 * Append the kernel's ascii_runtime_measurements line for @p e:
 * "%2d <sha1 hex> <template> <algo>:<hex> <name with ' '->'_'>[ <buf hex>]\n".
 */
att_rc att_ima_entry_ascii(const struct att_ima_entry *e, struct att_buf *out);

#endif
