/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with a hard cap set at init (curl's dynbuf "toobig").
 * The buffer owns data; att_buf_cleanup() frees it. data is always
 * NUL-terminated one byte past len (not counted), so text can be used as a C string.
 */
#ifndef ATT_COMMON_BUF_H
#define ATT_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "attest/rc.h"

struct att_buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* appends that would pass max fail with ATT_ERR_PARSE */
};

void att_buf_init(struct att_buf *b, size_t max);
void att_buf_cleanup(struct att_buf *b);
/** Drop contents, keep the allocation. */
void att_buf_reset(struct att_buf *b);
/** Drop everything past @p len (a failed append rolled back); no-op when shorter. */
void att_buf_truncate(struct att_buf *b, size_t len);
/**
 * @retval ATT_OK
 * @retval ATT_ERR_PARSE  the result would exceed b->max
 * @retval ATT_ERR_NOMEM
 */
att_rc att_buf_append(struct att_buf *b, const void *data, size_t len);
att_rc att_buf_append_str(struct att_buf *b, const char *s);
att_rc att_buf_printf(struct att_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
att_rc att_buf_append_u32le(struct att_buf *b, uint32_t v);
/** Take ownership of the contents: returns data (caller frees with free()), leaves b empty. */
uint8_t *att_buf_steal(struct att_buf *b, size_t *len);

#endif
