/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's measurement log: a Linux IMA binary log file in the state dir
 * (measurements.bin), mirrored in memory with an index of record offsets and a
 * set of (name, digest) already logged. The file is the truth: every append
 * is written and fsync'd before the caller extends the PCR (DESIGN §4), except
 * the volatile record of a write failure (agent_log_append_volatile()).
 * Opening drops a torn tail (a record cut short by a crash, never extended).
 * Not thread-safe: the agent holds its evidence lock around every call.
 */
#ifndef ATT_AGENT_LOG_H
#define ATT_AGENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/buf.h"
#include "attest/imalog.h"
#include "attest/rc.h"

#define AGENT_LOG_MAX_BYTES (256u * 1024u * 1024u)

struct agent_log;

/**
 * Open (or create) DIR/measurements.bin.
 * @param[out] out  free with agent_log_free()
 * @retval ATT_OK @retval ATT_ERR_IO @retval ATT_ERR_PARSE (corrupt beyond a torn tail)
 */
att_rc agent_log_open(const char *state_dir, struct agent_log **out);
void agent_log_free(struct agent_log *log);

size_t agent_log_count(const struct agent_log *log);
/** Borrowed record bytes of entries [from, count). */
const uint8_t *agent_log_bytes_from(const struct agent_log *log, size_t from, size_t *len);
/** Borrowed parsed entry @p i (< count). */
const struct att_ima_entry *agent_log_entry(const struct agent_log *log, size_t i);
/** Whether (name, file digest) was logged already (IMA logs each once). */
bool agent_log_has(const struct agent_log *log, const char *name, const uint8_t *digest,
                   size_t digest_len);

/**
 * Append, write and fsync one entry (after any volatile ones); takes
 * ownership of *e on ATT_OK (e is zeroed). On a write or fsync failure
 * (ENOSPC, EIO, ...) the file is cut back to what it held, nothing changes
 * in memory, agent_log_error() says why, and ATT_ERR_IO is returned.
 */
att_rc agent_log_append(struct agent_log *log, struct att_ima_entry *e);

/**
 * Keep one entry in memory only, after every other: served with the log and
 * written to the file ahead of the next agent_log_append(). For the record
 * of a failure to write the file (the agent's log gap), which must still
 * reach the verifier. Takes ownership of *e on ATT_OK.
 */
att_rc agent_log_append_volatile(struct agent_log *log, struct att_ima_entry *e);
/** Whether some entries are in memory only (not yet written). */
bool agent_log_volatile(const struct agent_log *log);
/** Why the last write failed (borrowed), or "" when it succeeded. */
const char *agent_log_error(const struct agent_log *log);

/** sha256 value of @p pcr after replaying the first @p n entries from zero. */
att_rc agent_log_replay(const struct agent_log *log, size_t n, uint32_t pcr,
                        uint8_t value[ATT_SHA256_LEN]);

/**
 * Move the current file aside as measurements.<suffix>.bin (a previous boot's
 * log, kept for forensics) and start an empty one.
 */
att_rc agent_log_rotate(struct agent_log *log, const char *suffix);

#endif
