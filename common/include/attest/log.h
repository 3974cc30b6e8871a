/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr (or a chosen stream) with level, function and line.
 * Log once, where foreign code (TSS, OpenSSL, libc) is converted to att_rc.
 * Thread-safe: each message is formatted then written with one fputs under a lock.
 */
#ifndef ATT_COMMON_LOG_H
#define ATT_COMMON_LOG_H

#include <stdio.h>

enum att_log_level { ATT_LOG_ERR = 0, ATT_LOG_WARN, ATT_LOG_INFO, ATT_LOG_DEBUG };

/** Messages above @p level are dropped. Default ATT_LOG_WARN, or $ATT_LOG_LEVEL (err|warn|info|debug). */
void att_log_set_level(enum att_log_level level);
enum att_log_level att_log_get_level(void);
/** "error" | "warning" | "info" | "debug" -> level; 0 on success, -1 for an unknown name. */
int att_log_level_parse(const char *name, enum att_log_level *out);
/** Borrowed; NULL means stderr. */
void att_log_set_stream(FILE *stream);
/** Prefix every line with @p ident (borrowed, must outlive logging), e.g. "attest-agent". */
void att_log_set_ident(const char *ident);

void att_log(enum att_log_level level, const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define LOG_ERR(...)   att_log(ATT_LOG_ERR, __func__, __LINE__, __VA_ARGS__)
#define LOG_WARN(...)  att_log(ATT_LOG_WARN, __func__, __LINE__, __VA_ARGS__)
#define LOG_INFO(...)  att_log(ATT_LOG_INFO, __func__, __LINE__, __VA_ARGS__)
#define LOG_DEBUG(...) att_log(ATT_LOG_DEBUG, __func__, __LINE__, __VA_ARGS__)

#endif
