/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leveled logging. Each line is formatted into a local buffer and written with
 * one fputs under a mutex, so lines from the agent's threads never interleave.
 */
#include "attest/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum att_log_level level_current = ATT_LOG_WARN;
static int level_from_env_done;
static FILE *log_stream;
static const char *log_ident = "attest";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static void level_from_env(void)
{
    const char *s = getenv("ATT_LOG_LEVEL");
    size_t i;

    level_from_env_done = 1;
    if (s == NULL) {
        return;
    }
    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0 || (i == 0 && strcmp(s, "err") == 0) ||
            (i == 1 && strcmp(s, "warn") == 0)) {
            level_current = (enum att_log_level)i;
        }
    }
}

void att_log_set_level(enum att_log_level level)
{
    level_from_env_done = 1;
    level_current = level;
}

enum att_log_level att_log_get_level(void)
{
    if (!level_from_env_done) {
        level_from_env();
    }
    return level_current;
}

void att_log_set_stream(FILE *stream)
{
    log_stream = stream;
}

void att_log_set_ident(const char *ident)
{
    log_ident = ident != NULL ? ident : "attest";
}

void att_log(enum att_log_level level, const char *func, int line, const char *fmt, ...)
{
    char msg[2048];
    char out[2300];
    va_list ap;
    FILE *f;

    if (level > att_log_get_level()) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (att_log_get_level() >= ATT_LOG_DEBUG) {
        (void)snprintf(out, sizeof(out), "%s: %s: %s (%s:%d)\n", log_ident,
                       level_names[level], msg, func, line);
    } else {
        (void)snprintf(out, sizeof(out), "%s: %s: %s\n", log_ident, level_names[level], msg);
    }
    f = log_stream != NULL ? log_stream : stderr;
    pthread_mutex_lock(&log_lock);
    (void)fputs(out, f);
    (void)fflush(f);
    pthread_mutex_unlock(&log_lock);
}

int att_log_level_parse(const char *name, enum att_log_level *out)
{
    size_t i;

    for (i = 0; name != NULL && i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum att_log_level)i;
            return 0;
        }
    }
    return -1;
}
