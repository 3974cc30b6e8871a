/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded reader for tar archives in memory (POSIX ustar with its name
 * prefix, pax extended headers' "path", GNU long names), enough to walk a
 * container filesystem export (GET /containers/{id}/export). Untrusted input:
 * every header checksum and size is verified against the bytes left; a
 * malformed archive stops the walk with ATT_ERR_PARSE, never a partial
 * success. No I/O; entries point into the caller's buffer.
 */
#ifndef ATT_COMMON_TAR_H
#define ATT_COMMON_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "attest/rc.h"

#define ATT_TAR_MAX_PATH 4096

struct att_tar_entry {
    char path[ATT_TAR_MAX_PATH + 1]; /* as archived, without a leading "./" */
    char type;                       /* '0' regular, '5' directory, '2' symlink, ... */
    const uint8_t *data;             /* borrowed: regular file contents */
    size_t size;
};

/** Called for every entry; return non-zero to stop the walk (then ATT_OK). */
typedef int (*att_tar_fn)(void *ctx, const struct att_tar_entry *e);

/**
 * Walk every entry of the archive in @p buf.
 * @retval ATT_OK @retval ATT_ERR_PARSE malformed (why says where) @retval ATT_ERR_INVALID_ARG
 */
att_rc att_tar_walk(const uint8_t *buf, size_t len, att_tar_fn fn, void *ctx, char *why,
                    size_t why_len);

#endif
