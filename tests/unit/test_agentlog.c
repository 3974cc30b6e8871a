/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's durable log (agent/agent_log.c) when its file refuses writes.
 * The refusal is real: RLIMIT_FSIZE with SIGXFSZ ignored makes write(2)
 * fail with EFBIG at a chosen size, as ENOSPC would at a full disk (the
 * integration test test_diskfull fills a real tmpfs). A refused record
 * leaves the file and the memory as they were; a volatile record is served
 * from memory and written ahead of the next record that fits; a reopened log
 * holds exactly what was written.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_log.h"
#include "attest/digest.h"
#include "attest/imalog.h"

struct fixture {
    char dir[64];
    char path[128];
    struct rlimit saved;
};

static int setup(void **state)
{
    static struct fixture f;

    (void)snprintf(f.dir, sizeof(f.dir), "/tmp/att-agentlog-XXXXXX");
    if (mkdtemp(f.dir) == NULL) {
        return -1;
    }
    (void)snprintf(f.path, sizeof(f.path), "%s/measurements.bin", f.dir);
    if (getrlimit(RLIMIT_FSIZE, &f.saved) != 0) {
        return -1;
    }
    (void)signal(SIGXFSZ, SIG_IGN);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    (void)setrlimit(RLIMIT_FSIZE, &f->saved);
    (void)unlink(f->path);
    (void)rmdir(f->dir);
    return 0;
}

static off_t file_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void limit_file_size(const struct fixture *f, rlim_t bytes)
{
    struct rlimit r = f->saved;

    r.rlim_cur = bytes;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
}

static void entry(struct att_ima_entry *e, const char *name)
{
    uint8_t d[ATT_SHA256_LEN];

    assert_int_equal(att_sha256(name, strlen(name), d), ATT_OK);
    memset(e, 0, sizeof(*e));
    assert_int_equal(att_ima_entry_build_ng(e, 15, d, name), ATT_OK);
}

static void append(struct agent_log *l, const char *name, att_rc want)
{
    struct att_ima_entry e;

    entry(&e, name);
    assert_int_equal(agent_log_append(l, &e), want);
    att_ima_entry_cleanup(&e);
}

static void test_agentlog_refused_write_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct agent_log *l = NULL;
    struct att_ima_entry g;
    off_t size;
    size_t len = 0;

    assert_int_equal(agent_log_open(f->dir, &l), ATT_OK);
    append(l, "host:/a", ATT_OK);
    append(l, "host:/b", ATT_OK);
    assert_string_equal(agent_log_error(l), "");
    size = file_size(f->path);

    /* room for less than a record: refused, and neither file nor memory moved */
    limit_file_size(f, (rlim_t)size + 10);
    append(l, "host:/c", ATT_ERR_IO);
    assert_non_null(strstr(agent_log_error(l), "cannot append to"));
    assert_non_null(strstr(agent_log_error(l), "File too large"));
    assert_int_equal(file_size(f->path), size);
    assert_int_equal(agent_log_count(l), 2);
    assert_false(agent_log_has(l, "host:/c", NULL, 0));

    /* the gap's record: in memory and served, not in the file */
    memset(&g, 0, sizeof(g));
    assert_int_equal(
        att_ima_entry_build_buf(&g, 15, ATT_IMA_GAP_RECORD, (const uint8_t *)"state=open", 10),
        ATT_OK);
    assert_int_equal(agent_log_append_volatile(l, &g), ATT_OK);
    att_ima_entry_cleanup(&g);
    assert_true(agent_log_volatile(l));
    assert_int_equal(agent_log_count(l), 3);
    (void)agent_log_bytes_from(l, 0, &len);
    assert_true(len > (size_t)size);
    assert_int_equal(file_size(f->path), size);
    /* still no room: the volatile record is not written either */
    append(l, "host:/c", ATT_ERR_IO);
    assert_int_equal(file_size(f->path), size);
    assert_int_equal(agent_log_count(l), 3);

    /* room again: the volatile record goes first, then the new one */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &f->saved), 0);
    append(l, "host:/c", ATT_OK);
    assert_false(agent_log_volatile(l));
    assert_string_equal(agent_log_error(l), "");
    assert_int_equal(agent_log_count(l), 4);
    (void)agent_log_bytes_from(l, 0, &len);
    assert_int_equal(file_size(f->path), (off_t)len);
    agent_log_free(l);

    /* what a restart reads is what was served, in the same order */
    l = NULL;
    assert_int_equal(agent_log_open(f->dir, &l), ATT_OK);
    assert_int_equal(agent_log_count(l), 4);
    assert_string_equal(agent_log_entry(l, 2)->name, ATT_IMA_GAP_RECORD);
    assert_string_equal(agent_log_entry(l, 3)->name, "host:/c");
    agent_log_free(l);
}

/* A write cut short mid-record leaves no partial record for the next start. */
static void test_agentlog_partial_write_cut_back(void **state)
{
    struct fixture *f = *state;
    struct agent_log *l = NULL;
    off_t size;
    char big[3000];

    memset(big, 'x', sizeof(big) - 1);
    big[0] = 'h';
    big[sizeof(big) - 1] = '\0';
    (void)unlink(f->path);
    assert_int_equal(agent_log_open(f->dir, &l), ATT_OK);
    append(l, "host:/a", ATT_OK);
    size = file_size(f->path);
    /* room for part of the long-named record: write(2) takes some, then EFBIG */
    limit_file_size(f, (rlim_t)size + 1000);
    append(l, big, ATT_ERR_IO);
    assert_int_equal(file_size(f->path), size);
    assert_int_equal(agent_log_count(l), 1);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &f->saved), 0);
    agent_log_free(l);
    l = NULL;
    assert_int_equal(agent_log_open(f->dir, &l), ATT_OK);
    assert_int_equal(agent_log_count(l), 1);
    append(l, "host:/b", ATT_OK);
    assert_int_equal(agent_log_count(l), 2);
    agent_log_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agentlog_refused_write_changes_nothing),
        cmocka_unit_test(test_agentlog_partial_write_cut_back),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
