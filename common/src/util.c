/* SPDX-License-Identifier: Apache-2.0 */
/* Hex, bounded file reads, durable atomic writes, strict integer parsing. */
#define _DEFAULT_SOURCE /* explicit_bzero, timegm */
#include "attest/util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/log.h"

void att_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

bool att_lower_hex(const char *s, size_t min, size_t max)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;
    size_t i;

    if (s == NULL || n < min || n > max) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

att_rc att_hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
    size_t i;

    if (hex == NULL || strlen(hex) != 2 * out_len) {
        return ATT_ERR_PARSE;
    }
    for (i = 0; i < out_len; i++) {
        int hi = hexval(hex[2 * i]);
        int lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return ATT_ERR_PARSE;
        }
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return ATT_OK;
}

att_rc att_file_read(const char *path, struct att_buf *out)
{
    att_rc rc = ATT_ERR_IO;
    int fd = -1;
    uint8_t chunk[65536];
    ssize_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        goto out;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        rc = att_buf_append(out, chunk, (size_t)n);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if (n < 0) {
        rc = ATT_ERR_IO;
        goto out;
    }
    rc = ATT_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    return rc;
}

att_rc att_fsync_dir_of(const char *path)
{
    att_rc rc = ATT_ERR_IO;
    char *copy = strdup(path);
    int fd = -1;

    if (copy == NULL) {
        return ATT_ERR_NOMEM;
    }
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        goto out;
    }
    rc = ATT_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    free(copy);
    return rc;
}

att_rc att_file_write_atomic(const char *path, const void *data, size_t len)
{
    att_rc rc = ATT_ERR_IO;
    char tmp[4096];
    int fd = -1;
    const uint8_t *p = data;
    size_t done = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        return ATT_ERR_INVALID_ARG;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        LOG_ERR("cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            LOG_ERR("cannot write %s: %s", tmp, strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0) {
        goto out;
    }
    (void)close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        LOG_ERR("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    rc = att_fsync_dir_of(path);
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    if (rc != ATT_OK) {
        (void)unlink(tmp);
    }
    return rc;
}

att_rc att_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return ATT_ERR_PARSE;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max) {
        return ATT_ERR_PARSE;
    }
    *out = (uint64_t)v;
    return ATT_OK;
}

att_rc att_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    att_rc rc = att_parse_u64(s, max, &v);

    if (rc == ATT_OK) {
        *out = (uint32_t)v;
    }
    return rc;
}

bool att_mem_equal(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t d = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        d = (uint8_t)(d | (x[i] ^ y[i]));
    }
    return d == 0;
}

void att_cleanse(void *p, size_t len)
{
    if (p != NULL && len > 0) {
        explicit_bzero(p, len);
    }
}

/* Strict UTF-8 (RFC 3629 §3): no overlong forms, no surrogates, nothing above U+10FFFF. */
bool att_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        size_t more;
        uint32_t cp;
        uint32_t min;
        size_t k;

        if (c < 0x80u) {
            i++;
            continue;
        }
        if ((c & 0xe0u) == 0xc0u) {
            more = 1;
            cp = c & 0x1fu;
            min = 0x80u;
        } else if ((c & 0xf0u) == 0xe0u) {
            more = 2;
            cp = c & 0x0fu;
            min = 0x800u;
        } else if ((c & 0xf8u) == 0xf0u) {
            more = 3;
            cp = c & 0x07u;
            min = 0x10000u;
        } else {
            return false;
        }
        if (len - i - 1 < more) {
            return false;
        }
        for (k = 1; k <= more; k++) {
            uint8_t b = s[i + k];

            if ((b & 0xc0u) != 0x80u) {
                return false;
            }
            cp = (cp << 6) | (uint32_t)(b & 0x3fu);
        }
        if (cp < min || cp > 0x10ffffu || (cp >= 0xd800u && cp <= 0xdfffu)) {
            return false;
        }
        i += more + 1;
    }
    return true;
}

void att_set_why(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || why_len == 0) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/*
 * RFC 3339 time as Go writes it ("2026-11-22T22:23:58.040264812Z", or with a
 * +hh:mm / -hh:mm offset) into @p out. False for anything else.
 */
/* @p n decimal digits at @p s into *v. */
static bool rfc_digits(const char *s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

bool att_rfc3339_format(time_t t, char *out, size_t out_len)
{
    struct tm tm;

    if (out == NULL || out_len == 0) {
        return false;
    }
    if (gmtime_r(&t, &tm) == NULL || strftime(out, out_len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        (void)snprintf(out, out_len, "%s", out_len > 7 ? "unknown" : "");
        return false;
    }
    return true;
}

bool att_rfc3339_parse(const char *s, struct timespec *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y;
    int mo;
    int d;
    int h;
    int mi;
    int sec;
    int oh = 0;
    int om = 0;
    int dim;
    long off = 0;
    long nsec = 0;
    long scale = 100000000L;
    const char *p;
    struct tm tm;
    time_t t;

    if (s == NULL || strnlen(s, 20) < 20 || !rfc_digits(s, 4, &y) || s[4] != '-' ||
        !rfc_digits(s + 5, 2, &mo) || s[7] != '-' || !rfc_digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't') || !rfc_digits(s + 11, 2, &h) || s[13] != ':' ||
        !rfc_digits(s + 14, 2, &mi) || s[16] != ':' || !rfc_digits(s + 17, 2, &sec)) {
        return false;
    }
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60) {
        return false;
    }
    dim = mdays[mo - 1];
    if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        dim = 29;
    }
    if (d < 1 || d > dim) {
        return false;
    }
    p = s + 19;
    if (*p == '.') {
        const char *f = ++p;

        while (*p >= '0' && *p <= '9') {
            nsec += scale * (*p - '0');
            scale /= 10;
            p++;
        }
        if (p == f || p - f > 9) {
            return false;
        }
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && rfc_digits(p + 1, 2, &oh) &&
               p[3] == ':' && rfc_digits(p + 4, 2, &om) && oh <= 23 && om <= 59) {
        off = (long)oh * 3600 + (long)om * 60;
        off = *p == '+' ? off : -off;
    } else {
        return false;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec; /* 60 becomes the next minute's first second */
    t = timegm(&tm);
    if (t == (time_t)-1 || (long long)t - off < 0) {
        return false;
    }
    out->tv_sec = (time_t)((long long)t - off);
    out->tv_nsec = nsec;
    return true;
}

void att_printable_ascii(char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            *s = '?';
        }
    }
}

bool att_utf8_text_ok(const char *s, size_t min, size_t max)
{
    size_t len;

    if (s == NULL) {
        return false;
    }
    len = strnlen(s, max + 1);
    return len >= min && len <= max && att_utf8_valid((const uint8_t *)s, len);
}

att_rc att_buf_append_escaped(struct att_buf *b, const char *s)
{
    const unsigned char *p;
    att_rc rc = ATT_OK;

    for (p = (const unsigned char *)s; *p != '\0' && rc == ATT_OK; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '%') {
            rc = att_buf_printf(b, "%%%02X", *p);
        } else {
            rc = att_buf_append(b, p, 1);
        }
    }
    return rc;
}

bool att_unescape(const char *in, char *out, size_t out_len)
{
    size_t j = 0;

    if (out_len == 0) {
        return false;
    }
    for (; *in != '\0'; in++) {
        char ch = *in;

        if (ch == '%') {
            int hi = in[1] != '\0' ? hexval(in[1]) : -1;
            int lo = hi >= 0 && in[2] != '\0' ? hexval(in[2]) : -1;

            if (lo < 0 || (hi == 0 && lo == 0)) {
                return false;
            }
            ch = (char)(hi * 16 + lo);
            in += 2;
        }
        if (j + 1 >= out_len) {
            return false;
        }
        out[j++] = ch;
    }
    out[j] = '\0';
    return true;
}

char *att_strdup_opt(const char *s, bool *failed)
{
    char *d;

    if (s == NULL) {
        return NULL;
    }
    d = strdup(s);
    if (d == NULL) {
        *failed = true;
    }
    return d;
}
