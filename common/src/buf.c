/* SPDX-License-Identifier: Apache-2.0 */
/* Growable, capped byte buffer (see attest/buf.h). */
#include "attest/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void att_buf_init(struct att_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void att_buf_cleanup(struct att_buf *b)
{
    if (b == NULL) {
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void att_buf_reset(struct att_buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = 0;
    }
}

void att_buf_truncate(struct att_buf *b, size_t len)
{
    if (b != NULL && b->len > len) {
        b->len = len;
        b->data[len] = 0;
    }
}

/* Make room for len more bytes plus the hidden NUL. */
static att_rc reserve(struct att_buf *b, size_t len)
{
    size_t need;
    size_t ncap;
    uint8_t *n;

    if (len > b->max || b->len > b->max - len) {
        return ATT_ERR_PARSE;
    }
    need = b->len + len + 1;
    if (need <= b->cap) {
        return ATT_OK;
    }
    ncap = b->cap != 0 ? b->cap : 64;
    while (ncap < need) {
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    }
    n = realloc(b->data, ncap);
    if (n == NULL) {
        return ATT_ERR_NOMEM;
    }
    b->data = n;
    b->cap = ncap;
    return ATT_OK;
}

att_rc att_buf_append(struct att_buf *b, const void *data, size_t len)
{
    att_rc rc = reserve(b, len);

    if (rc != ATT_OK) {
        return rc;
    }
    if (len > 0) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = 0;
    return ATT_OK;
}

att_rc att_buf_append_str(struct att_buf *b, const char *s)
{
    return att_buf_append(b, s, strlen(s));
}

att_rc att_buf_printf(struct att_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    att_rc rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return ATT_ERR_INTERNAL;
    }
    rc = reserve(b, (size_t)n);
    if (rc != ATT_OK) {
        return rc;
    }
    va_start(ap, fmt);
    (void)vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ATT_OK;
}

att_rc att_buf_append_u32le(struct att_buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

    return att_buf_append(b, le, sizeof(le));
}

uint8_t *att_buf_steal(struct att_buf *b, size_t *len)
{
    uint8_t *d = b->data;

    if (len != NULL) {
        *len = b->len;
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return d;
}
