/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the verifier store (verifier/store/store.h, SQLite backend).
 * Each test gets its own temporary directory. Negative cases first: bad
 * arguments, a locked store, files that are not a store, newer schemas,
 * unknown and duplicate names; then round trips, atomicity of a round,
 * listing filters and paging, durability across a crash (a child process
 * that commits and dies without closing) and concurrent callers.
 * SQLite is used directly only to inspect or prepare the file while the
 * store is closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/util.h"
#include "store.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The cumulative schema kept next to the code (test_store_schema_sql_matches_store). */
#define SCHEMA_SQL ATT_TEST_DATA_DIR "/../../verifier/store/schema.sql"

struct fx {
    char dir[512];
    char db[600];
    struct store *s;
};

static const uint8_t ek_pub[] = {0x00, 0x3a, 0x00, 0x23, 0x00, 0x0b, 0x01, 0x02, 0x03};
static const uint8_t ak_pub[] = {0x00, 0x30, 0x00, 0x23, 0x00, 0x0b, 0xaa, 0xbb};
static const uint8_t ek_cert[] = {0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef};

/* ------------------------------------------------------------------------- */
/* Fixture                                                                   */

static int setup_dir(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    if (f == NULL) {
        return -1;
    }
    if (tmp == NULL || tmp[0] == '\0') {
        tmp = "/tmp";
    }
    if (snprintf(f->dir, sizeof(f->dir), "%s/test_store.XXXXXX", tmp) >= (int)sizeof(f->dir) ||
        mkdtemp(f->dir) == NULL ||
        snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir) >= (int)sizeof(f->db)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup_open(void **state)
{
    struct fx *f;

    if (setup_dir(state) != 0) {
        return -1;
    }
    f = *state;
    return store_open(f->db, &f->s) == ATT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    DIR *d;
    struct dirent *e;
    char p[1024];

    store_close(f->s);
    d = opendir(f->dir);
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            if (snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name) < (int)sizeof(p)) {
                (void)unlink(p);
            }
        }
        (void)closedir(d);
    }
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

static void reopen(struct fx *f)
{
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->db, &f->s), ATT_OK);
}

static void close_store(struct fx *f)
{
    store_close(f->s);
    f->s = NULL;
}

/* Run constant SQL on the file with a separate connection; only while the store is closed. */
static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    int src = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

    if (src == SQLITE_OK) {
        src = sqlite3_exec(db, sql, NULL, NULL, &err);
    }
    sqlite3_free(err);
    (void)sqlite3_close(db);
    return src;
}

/* Reopen the store with a trigger that refuses every event of kind "boom". */
static void plant_boom_trigger(struct fx *f)
{
    close_store(f);
    assert_int_equal(raw_exec(f->db, "CREATE TRIGGER boom BEFORE INSERT ON events "
                                     "WHEN NEW.kind = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); "
                                     "END;"),
                     SQLITE_OK);
    reopen(f);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -12345;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = (int64_t)sqlite3_column_int64(st, 0);
    }
    (void)sqlite3_finalize(st);
    (void)sqlite3_close(db);
    return v;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void make_host(struct store_host *h, const char *name)
{
    memset(h, 0, sizeof(*h));
    h->name = (char *)(uintptr_t)name;
    h->agent_url = (char *)(uintptr_t) "https://10.0.0.1:8443";
    h->ek_alg = (char *)(uintptr_t) "ecc";
    h->ek_pub = (uint8_t *)(uintptr_t)ek_pub;
    h->ek_pub_len = sizeof(ek_pub);
    h->ak_pub = (uint8_t *)(uintptr_t)ak_pub;
    h->ak_pub_len = sizeof(ak_pub);
    h->ak_name = (char *)(uintptr_t) "000b1122";
    h->meas_pcr = 10;
    h->enrolled_at = 1700000000;
}

static void add_host(struct store *s, const char *name)
{
    struct store_host h;

    make_host(&h, name);
    assert_int_equal(store_host_add(s, &h), ATT_OK);
}

/*
 * struct store_event has non-const members (it is also an output type), so
 * literals go in through uintptr_t; the store never writes through them.
 */
static struct store_event mkev(const char *kind, const char *message)
{
    struct store_event e;

    memset(&e, 0, sizeof(e));
    e.kind = (char *)(uintptr_t)kind;
    e.message = (char *)(uintptr_t)message;
    return e;
}

static void make_round(struct store_round *r, const char *host, int64_t at, const char *verdict)
{
    memset(r, 0, sizeof(*r));
    r->host = host;
    r->at = at;
    r->verdict = verdict;
}

static size_t count_events(struct store *s, const char *host, const char *kind)
{
    struct store_event *ev = NULL;
    size_t n = 0;

    assert_int_equal(store_events_list(s, host, kind, 0, 1000, &ev, &n), ATT_OK);
    store_event_list_free(ev, n);
    return n;
}

static size_t count_verdicts(struct store *s, const char *host)
{
    struct store_verdict *v = NULL;
    size_t n = 0;

    assert_int_equal(store_verdicts_list(s, host, 0, 1000, &v, &n), ATT_OK);
    store_verdict_list_free(v, n);
    return n;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* Open: negative                                                            */

static void test_store_open_null_args(void **state)
{
    struct fx *f = *state;
    struct store *s = (struct store *)(uintptr_t)0x1;

    assert_int_equal(store_open(NULL, &s), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_open("", &s), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_open(f->db, NULL), ATT_ERR_INVALID_ARG);
    assert_ptr_equal(s, (struct store *)(uintptr_t)0x1);
    /* NULL-safe destructors and accessors */
    store_close(NULL);
    store_host_cleanup(NULL);
    store_host_list_free(NULL, 0);
    store_event_list_free(NULL, 0);
    store_verdict_list_free(NULL, 0);
    assert_int_equal(store_schema_version(NULL), -1);
}

static void test_store_open_missing_dir_io(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    char path[700];

    assert_true(snprintf(path, sizeof(path), "%s/no/such/dir/store.db", f->dir) <
                (int)sizeof(path));
    assert_int_equal(store_open(path, &s), ATT_ERR_IO);
    assert_null(s);
}

static void test_store_open_second_in_process_exists(void **state)
{
    struct fx *f = *state;
    struct store *s2 = (struct store *)(uintptr_t)0x1;
    struct store_round r;

    add_host(f->s, "a");
    /* flock locks belong to the open file description: a second open() conflicts */
    assert_int_equal(store_open(f->db, &s2), ATT_ERR_EXISTS);
    assert_ptr_equal(s2, (struct store *)(uintptr_t)0x1);
    /* the failed open released nothing of the first one */
    make_round(&r, "a", 100, "trusted");
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(store_open(f->db, &s2), ATT_ERR_EXISTS);
    reopen(f);
    assert_int_equal(count_verdicts(f->s, "a"), 1);
}

static void test_store_open_held_by_other_process_exists(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    int ready[2];
    int release[2];
    char c = 0;
    pid_t pid;
    int status = 0;
    att_rc rc;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *cs = NULL;
        char x = 0;
        int code;

        /* only our ends: if the parent dies, read() sees EOF and we exit */
        (void)close(ready[0]);
        (void)close(release[1]);
        code = store_open(f->db, &cs) == ATT_OK ? 0 : 1;

        if (write(ready[1], "r", 1) != 1 || read(release[0], &x, 1) != 1) {
            code = 4;
        }
        store_close(cs);
        _exit(code);
    }
    (void)close(ready[1]);
    (void)close(release[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    rc = store_open(f->db, &s);
    /* let the child go before checking, so a failure cannot leave it behind */
    assert_int_equal(write(release[1], "x", 1), 1);
    (void)close(release[1]);
    assert_int_equal(rc, ATT_ERR_EXISTS);
    assert_null(s);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the child is gone, and with it the lock */
    assert_int_equal(store_open(f->db, &s), ATT_OK);
    store_close(s);
    (void)close(ready[0]);
}

static void test_store_open_garbage_parse(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    char junk[8192];
    struct att_buf b;

    memset(junk, 'x', sizeof(junk));
    memcpy(junk, "this is not a database", 22);
    write_file(f->db, junk, sizeof(junk));
    assert_int_equal(store_open(f->db, &s), ATT_ERR_PARSE);
    assert_null(s);
    /* refused without writing, and without keeping the lock */
    assert_int_equal(store_open(f->db, &s), ATT_ERR_PARSE);
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_file_read(f->db, &b), ATT_OK);
    assert_int_equal(b.len, sizeof(junk));
    assert_memory_equal(b.data, junk, sizeof(junk));
    att_buf_cleanup(&b);
}

static void test_store_open_newer_version_parse(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    char sql[64];

    close_store(f);
    (void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
    assert_int_equal(raw_exec(f->db, sql), SQLITE_OK);
    assert_int_equal(store_open(f->db, &s), ATT_ERR_PARSE);
    assert_null(s);
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION + 1);
}

static void test_store_open_foreign_database_parse(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;

    assert_int_equal(raw_exec(f->db, "CREATE TABLE hosts (x); INSERT INTO hosts VALUES (1);"),
                     SQLITE_OK);
    assert_int_equal(store_open(f->db, &s), ATT_ERR_PARSE);
    assert_null(s);
    /* untouched: not migrated, not switched to WAL */
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master"), 1);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM hosts"), 1);

    /* an empty database with another application's id is not ours either */
    assert_int_equal(raw_exec(f->db, "DROP TABLE hosts; PRAGMA application_id = 42;"), SQLITE_OK);
    assert_int_equal(store_open(f->db, &s), ATT_ERR_PARSE);
    assert_null(s);
}

/* ------------------------------------------------------------------------- */
/* Open: positive                                                            */

static void test_store_open_creates_file_wal(void **state)
{
    struct fx *f = *state;
    struct stat st;
    char p[700];
    uint8_t hdr[100];
    int fd;

    assert_int_equal(store_open(f->db, &f->s), ATT_OK);
    assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
    assert_int_equal(stat(f->db, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(snprintf(p, sizeof(p), "%s.lock", f->db) < (int)sizeof(p));
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(snprintf(p, sizeof(p), "%s-wal", f->db) < (int)sizeof(p));
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    close_store(f);

    /* file header (sqlite.org/fileformat2.html §1.3) */
    fd = open(f->db, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
    (void)close(fd);
    assert_memory_equal(hdr, "SQLite format 3", 16);
    assert_int_equal(hdr[18], 2);             /* write version 2: WAL */
    assert_int_equal(hdr[19], 2);             /* read version 2: WAL */
    assert_memory_equal(hdr + 68, "ATST", 4); /* application_id */
    assert_int_equal(hdr[60] << 24 | hdr[61] << 16 | hdr[62] << 8 | hdr[63], STORE_SCHEMA_VERSION);
}

static void test_store_open_empty_file_migrates(void **state)
{
    struct fx *f = *state;

    write_file(f->db, "", 0);
    assert_int_equal(store_open(f->db, &f->s), ATT_OK);
    assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
    add_host(f->s, "a");
}

static void test_store_open_reopen_keeps_data(void **state)
{
    struct fx *f = *state;
    struct store_host h;
    struct store_event *ev = NULL;
    size_t n = 0;
    int64_t last_id;
    char *json = NULL;
    char *name = NULL;
    char *role = NULL;
    uint8_t hash[ATT_SHA256_LEN];

    memset(hash, 0x5a, sizeof(hash));
    assert_int_equal(store_policy_put(f->s, "base", "{\"v\":1}", false), ATT_OK);
    add_host(f->s, "a");
    assert_int_equal(store_host_set_policy(f->s, "a", "base"), ATT_OK);
    assert_int_equal(store_token_add(f->s, "ops", "operator", hash), ATT_OK);
    assert_int_equal(store_event_add(f->s, "a", "enrolled", "hello"), ATT_OK);
    assert_int_equal(store_event_add(f->s, NULL, "started", NULL), ATT_OK);
    reopen(f);
    reopen(f);

    assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.policy, "base");
    store_host_cleanup(&h);
    assert_int_equal(store_policy_get(f->s, "base", &json), ATT_OK);
    assert_string_equal(json, "{\"v\":1}");
    free(json);
    assert_int_equal(store_token_find(f->s, hash, &name, &role), ATT_OK);
    assert_string_equal(name, "ops");
    assert_string_equal(role, "operator");
    free(name);
    free(role);
    assert_int_equal(store_events_list(f->s, NULL, NULL, 0, 10, &ev, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].kind, "enrolled");
    assert_string_equal(ev[0].message, "hello");
    assert_string_equal(ev[1].kind, "started");
    assert_null(ev[1].host);
    assert_string_equal(ev[1].message, ""); /* NULL message is stored as "" */
    last_id = ev[1].id;
    store_event_list_free(ev, n);

    /* ids keep increasing across reopen */
    assert_int_equal(store_event_add(f->s, NULL, "started", "again"), ATT_OK);
    assert_int_equal(store_events_list(f->s, NULL, NULL, last_id, 10, &ev, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_true(ev[0].id > last_id);
    store_event_list_free(ev, n);
}

/*
 * schema.sql, run into an empty database, must give the same schema as a
 * fresh store: the documentation copy cannot drift from the migrations.
 */
static void schema_dump(sqlite3 *db, struct att_buf *out)
{
    sqlite3_stmt *st = NULL;
    int src;
    bool space = false;

    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master "
                           "ORDER BY type, name",
                           -1, &st, NULL),
        SQLITE_OK);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        int col;

        for (col = 0; col < 4; col++) {
            const char *t = (const char *)sqlite3_column_text(st, col);

            /* whitespace-insensitive: runs of blanks become one space */
            for (; t != NULL && *t != '\0'; t++) {
                if (*t == ' ' || *t == '\n' || *t == '\t') {
                    space = true;
                    continue;
                }
                if (space) {
                    assert_int_equal(att_buf_append(out, " ", 1), ATT_OK);
                    space = false;
                }
                assert_int_equal(att_buf_append(out, t, 1), ATT_OK);
            }
            assert_int_equal(att_buf_append(out, "|", 1), ATT_OK);
        }
        assert_int_equal(att_buf_append(out, "\n", 1), ATT_OK);
    }
    assert_int_equal(src, SQLITE_DONE);
    (void)sqlite3_finalize(st);
}

static void test_store_schema_sql_matches_store(void **state)
{
    struct fx *f = *state;
    struct att_buf text;
    struct att_buf want;
    struct att_buf got;
    sqlite3 *mem = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    close_store(f);
    att_buf_init(&text, 1u << 20);
    att_buf_init(&want, 1u << 20);
    att_buf_init(&got, 1u << 20);
    assert_int_equal(att_file_read(SCHEMA_SQL, &text), ATT_OK);
    assert_int_equal(sqlite3_open(":memory:", &mem), SQLITE_OK);
    assert_int_equal(sqlite3_exec(mem, (const char *)text.data, NULL, NULL, NULL), SQLITE_OK);
    schema_dump(mem, &want);
    assert_int_equal(sqlite3_prepare_v2(mem, "PRAGMA application_id", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 0x41545354);
    (void)sqlite3_finalize(st);

    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    schema_dump(db, &got);
    assert_true(want.len > 0);
    if (want.len != got.len || memcmp(want.data, got.data, want.len) != 0) {
        fail_msg("schema.sql differs from the store's schema:\n--- schema.sql\n%s--- store\n%s",
                 (const char *)want.data, (const char *)got.data);
    }
    (void)sqlite3_close(db);
    (void)sqlite3_close(mem);
    att_buf_cleanup(&text);
    att_buf_cleanup(&want);
    att_buf_cleanup(&got);
}

static void test_store_history_append_only(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_event ev = mkev("verdict-changed", "pending -> trusted");

    add_host(f->s, "a");
    make_round(&r, "a", 100, "trusted");
    r.events = &ev;
    r.n_events = 1;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    close_store(f);
    assert_int_equal(raw_exec(f->db, "DELETE FROM events"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "UPDATE events SET kind = 'x'"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "DELETE FROM verdicts"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "UPDATE verdicts SET verdict = 'untrusted'"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM events"), 1);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM verdicts"), 1);
}

/* ------------------------------------------------------------------------- */
/* Hosts                                                                     */

static void test_store_host_add_invalid_arg(void **state)
{
    struct fx *f = *state;
    struct store_host h;
    struct store_host *list = NULL;
    size_t n = 1;

    make_host(&h, "a");
    assert_int_equal(store_host_add(NULL, &h), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_host_add(f->s, NULL), ATT_ERR_INVALID_ARG);
    h.name = NULL;
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    h.name = (char *)(uintptr_t) "";
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    make_host(&h, "a");
    h.ek_alg = (char *)(uintptr_t) "dsa";
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    make_host(&h, "a");
    h.ek_pub = NULL;
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    make_host(&h, "a");
    h.ak_pub_len = 0;
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    make_host(&h, "a");
    h.ak_name = NULL;
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    make_host(&h, "a");
    h.meas_pcr = 24;
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    make_host(&h, "a");
    h.ek_cert_len = 5; /* length without data */
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    make_host(&h, "a");
    h.agent_url = NULL;
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_host_list(f->s, &list, &n), ATT_OK);
    assert_int_equal(n, 0);
    assert_null(list);
}

static void test_store_host_add_duplicate_exists(void **state)
{
    struct fx *f = *state;
    struct store_host h;

    add_host(f->s, "a");
    make_host(&h, "a");
    h.agent_url = (char *)(uintptr_t) "https://elsewhere:1";
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_EXISTS);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.agent_url, "https://10.0.0.1:8443");
    store_host_cleanup(&h);
}

static void test_store_host_add_unknown_policy_not_found(void **state)
{
    struct fx *f = *state;
    struct store_host h;

    make_host(&h, "a");
    h.policy = (char *)(uintptr_t) "nope";
    assert_int_equal(store_host_add(f->s, &h), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_ERR_NOT_FOUND);
}

static void test_store_host_get_unknown_not_found(void **state)
{
    struct fx *f = *state;
    struct store_host h;

    memset(&h, 0x7f, sizeof(h));
    assert_int_equal(store_host_get(f->s, "ghost", &h), ATT_ERR_NOT_FOUND);
    assert_null(h.name);
    assert_null(h.verdict);
    assert_int_equal(h.id, 0);
    store_host_cleanup(&h); /* zeroed: safe */
    assert_int_equal(store_host_get(f->s, NULL, &h), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_host_get(f->s, "ghost", NULL), ATT_ERR_INVALID_ARG);
}

static void test_store_host_add_get_roundtrip(void **state)
{
    struct fx *f = *state;
    struct store_host h;
    struct store_host got;

    assert_int_equal(store_policy_put(f->s, "base", "{}", false), ATT_OK);
    make_host(&h, "web-1");
    h.ek_alg = (char *)(uintptr_t) "rsa";
    h.ek_cert = (uint8_t *)(uintptr_t)ek_cert;
    h.ek_cert_len = sizeof(ek_cert);
    h.policy = (char *)(uintptr_t) "base";
    h.meas_pcr = 23;
    /* state in the input is ignored: a new host starts pending */
    h.verdict = (char *)(uintptr_t) "trusted";
    h.boot_id = (char *)(uintptr_t) "boot";
    h.log_offset = 99;
    h.last_attested_at = 5;
    memset(h.pcr_value, 0xee, sizeof(h.pcr_value));
    assert_int_equal(store_host_add(f->s, &h), ATT_OK);

    assert_int_equal(store_host_get(f->s, "web-1", &got), ATT_OK);
    assert_true(got.id > 0);
    assert_string_equal(got.name, "web-1");
    assert_string_equal(got.agent_url, "https://10.0.0.1:8443");
    assert_string_equal(got.ek_alg, "rsa");
    assert_int_equal(got.ek_pub_len, sizeof(ek_pub));
    assert_memory_equal(got.ek_pub, ek_pub, sizeof(ek_pub));
    assert_int_equal(got.ek_cert_len, sizeof(ek_cert));
    assert_memory_equal(got.ek_cert, ek_cert, sizeof(ek_cert));
    assert_int_equal(got.ak_pub_len, sizeof(ak_pub));
    assert_memory_equal(got.ak_pub, ak_pub, sizeof(ak_pub));
    assert_string_equal(got.ak_name, "000b1122");
    assert_int_equal(got.meas_pcr, 23);
    assert_string_equal(got.policy, "base");
    assert_int_equal(got.enrolled_at, 1700000000);
    assert_null(got.boot_id);
    assert_int_equal(got.reset_count, 0);
    assert_int_equal(got.restart_count, 0);
    assert_int_equal(got.log_offset, 0);
    assert_true(all_zero(got.pcr_value, sizeof(got.pcr_value)));
    assert_string_equal(got.verdict, "pending");
    assert_null(got.verdict_reason);
    assert_int_equal(got.last_attested_at, 0);
    store_host_cleanup(&got);
    assert_null(got.name);

    /* no certificate, no policy, enrolled_at 0 -> now */
    make_host(&h, "web-2");
    h.enrolled_at = 0;
    assert_int_equal(store_host_add(f->s, &h), ATT_OK);
    assert_int_equal(store_host_get(f->s, "web-2", &got), ATT_OK);
    assert_null(got.ek_cert);
    assert_int_equal(got.ek_cert_len, 0);
    assert_null(got.policy);
    assert_true(got.enrolled_at > 1700000000);
    store_host_cleanup(&got);
}

/* A row the store cannot read back fails the whole list, frees what was read, and loses nothing. */
static void test_store_host_list_corrupt_row(void **state)
{
    struct fx *f = *state;
    struct store_host *list = (struct store_host *)(uintptr_t)0x1;
    struct store_host h;
    size_t n = 99;

    add_host(f->s, "a");
    add_host(f->s, "b");
    add_host(f->s, "c");
    close_store(f);
    assert_int_equal(raw_exec(f->db, "UPDATE hosts SET reset_count = 5000000000 WHERE name = 'b'"),
                     SQLITE_OK);
    reopen(f);
    assert_int_equal(store_host_list(f->s, &list, &n), ATT_ERR_IO);
    assert_ptr_equal(list, (struct store_host *)(uintptr_t)0x1);
    assert_int_equal(n, 99);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.name, "a");
    store_host_cleanup(&h);
    assert_int_equal(store_host_get(f->s, "b", &h), ATT_ERR_IO);
}

static void test_store_host_list_sorted(void **state)
{
    struct fx *f = *state;
    struct store_host *list = (struct store_host *)(uintptr_t)0x1;
    size_t n = 99;
    static const char *const names[] = {"c", "a", "b"};
    size_t i;
    char name[32];

    assert_int_equal(store_host_list(f->s, NULL, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_host_list(f->s, &list, &n), ATT_OK);
    assert_null(list);
    assert_int_equal(n, 0);
    for (i = 0; i < NELEM(names); i++) {
        add_host(f->s, names[i]);
    }
    assert_int_equal(store_host_list(f->s, &list, &n), ATT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].name, "a");
    assert_string_equal(list[1].name, "b");
    assert_string_equal(list[2].name, "c");
    assert_memory_equal(list[2].ek_pub, ek_pub, sizeof(ek_pub));
    store_host_list_free(list, n);

    /* past the first growth step of the result array */
    for (i = 0; i < 40; i++) {
        (void)snprintf(name, sizeof(name), "h%02zu", i);
        add_host(f->s, name);
    }
    assert_int_equal(store_host_list(f->s, &list, &n), ATT_OK);
    assert_int_equal(n, 43);
    assert_string_equal(list[42].name, "h39");
    store_host_list_free(list, n);
}

static void test_store_host_delete_keeps_history(void **state)
{
    struct fx *f = *state;
    struct store_host h;
    struct store_round r;
    struct store_event ev = mkev("verdict-changed", "pending -> trusted");

    add_host(f->s, "a");
    assert_int_equal(store_event_add(f->s, "a", "enrolled", "a enrolled"), ATT_OK);
    make_round(&r, "a", 100, "trusted");
    r.events = &ev;
    r.n_events = 1;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);

    assert_int_equal(store_host_delete(f->s, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_host_delete(f->s, "ghost"), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_delete(f->s, "a"), ATT_OK);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_delete(f->s, "a"), ATT_ERR_NOT_FOUND);
    assert_int_equal(count_events(f->s, "a", NULL), 2);
    assert_int_equal(count_verdicts(f->s, "a"), 1);

    /* the name can be enrolled again, with fresh state; history stays */
    add_host(f->s, "a");
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.verdict, "pending");
    store_host_cleanup(&h);
    assert_int_equal(count_verdicts(f->s, "a"), 1);
}

static void test_store_host_set_policy(void **state)
{
    struct fx *f = *state;
    struct store_host h;

    add_host(f->s, "a");
    assert_int_equal(store_policy_put(f->s, "p1", "{}", false), ATT_OK);
    assert_int_equal(store_host_set_policy(f->s, "ghost", "p1"), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_set_policy(f->s, "a", "nope"), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_set_policy(f->s, "a", ""), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_host_set_policy(f->s, NULL, "p1"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_null(h.policy);
    store_host_cleanup(&h);

    assert_int_equal(store_host_set_policy(f->s, "a", "p1"), ATT_OK);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.policy, "p1");
    store_host_cleanup(&h);
    assert_int_equal(store_host_set_policy(f->s, "a", "p1"), ATT_OK); /* same again */

    assert_int_equal(store_host_set_policy(f->s, "a", NULL), ATT_OK);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_null(h.policy);
    store_host_cleanup(&h);
    assert_int_equal(store_host_set_policy(f->s, "ghost", NULL), ATT_ERR_NOT_FOUND);
}

static void test_store_host_reset_state(void **state)
{
    struct fx *f = *state;
    struct store_host h;
    struct store_round r;

    add_host(f->s, "a");
    assert_int_equal(store_host_reset_state(f->s, "ghost"), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_reset_state(f->s, NULL), ATT_ERR_INVALID_ARG);
    make_round(&r, "a", 100, "trusted");
    r.has_state = true;
    r.boot_id = "boot-1";
    r.reset_count = 3;
    r.restart_count = 4;
    r.log_offset = 1234;
    memset(r.pcr_value, 0xab, sizeof(r.pcr_value));
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);

    assert_int_equal(store_host_reset_state(f->s, "a"), ATT_OK);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_int_equal(h.log_offset, 0);
    assert_true(all_zero(h.pcr_value, sizeof(h.pcr_value)));
    /* the counters and boot stay, so a clock going backwards is still seen */
    assert_string_equal(h.boot_id, "boot-1");
    assert_int_equal(h.reset_count, 3);
    assert_int_equal(h.restart_count, 4);
    assert_string_equal(h.verdict, "trusted");
    store_host_cleanup(&h);
}

/* ------------------------------------------------------------------------- */
/* Rounds                                                                    */

static void test_store_record_round_invalid_arg(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_event bad = mkev(NULL, "x");

    add_host(f->s, "a");
    make_round(&r, "a", 100, "trusted");
    assert_int_equal(store_record_round(NULL, &r), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_record_round(f->s, NULL), ATT_ERR_INVALID_ARG);
    make_round(&r, NULL, 100, "trusted");
    assert_int_equal(store_record_round(f->s, &r), ATT_ERR_INVALID_ARG);
    make_round(&r, "a", 100, "ok");
    assert_int_equal(store_record_round(f->s, &r), ATT_ERR_INVALID_ARG);
    make_round(&r, "a", 100, NULL);
    assert_int_equal(store_record_round(f->s, &r), ATT_ERR_INVALID_ARG);
    make_round(&r, "a", 100, "trusted");
    r.n_events = 1; /* events NULL */
    assert_int_equal(store_record_round(f->s, &r), ATT_ERR_INVALID_ARG);
    r.events = &bad;
    assert_int_equal(store_record_round(f->s, &r), ATT_ERR_INVALID_ARG);
    assert_int_equal(count_verdicts(f->s, NULL), 0);
    assert_int_equal(count_events(f->s, NULL, NULL), 0);
}

static void test_store_record_round_unknown_host_writes_nothing(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_event ev[2] = {mkev("new-boot", "m1"), mkev("verdict-changed", "m2")};

    add_host(f->s, "a");
    make_round(&r, "ghost", 100, "untrusted");
    r.reason = "whatever";
    r.events = ev;
    r.n_events = NELEM(ev);
    r.has_state = true;
    r.boot_id = "b";
    assert_int_equal(store_record_round(f->s, &r), ATT_ERR_NOT_FOUND);
    assert_int_equal(count_verdicts(f->s, NULL), 0);
    assert_int_equal(count_events(f->s, NULL, NULL), 0);
    /* and the store is still usable (no transaction left open) */
    r.host = "a";
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(count_verdicts(f->s, NULL), 1);
    assert_int_equal(count_events(f->s, NULL, NULL), 2);
}

static void test_store_record_round_updates_state(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_host h;
    struct store_event ev[2] = {mkev("new-boot", "boot b1"), mkev("verdict-changed", NULL)};
    struct store_event *evl = NULL;
    struct store_verdict *vl = NULL;
    size_t n = 0;

    add_host(f->s, "a");
    make_round(&r, "a", 1700000100, "trusted");
    r.findings_json = "[{\"k\":\"quote\",\"ok\":true}]";
    r.log_from = 0;
    r.log_to = 1500;
    r.has_state = true;
    r.boot_id = "b1";
    r.reset_count = 7;
    r.restart_count = 8;
    r.log_offset = 1500;
    memset(r.pcr_value, 0x42, sizeof(r.pcr_value));
    r.events = ev;
    r.n_events = NELEM(ev);
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);

    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.verdict, "trusted");
    assert_null(h.verdict_reason);
    assert_int_equal(h.last_attested_at, 1700000100);
    assert_string_equal(h.boot_id, "b1");
    assert_int_equal(h.reset_count, 7);
    assert_int_equal(h.restart_count, 8);
    assert_int_equal(h.log_offset, 1500);
    assert_memory_equal(h.pcr_value, r.pcr_value, ATT_SHA256_LEN);
    store_host_cleanup(&h);

    assert_int_equal(store_events_list(f->s, NULL, NULL, 0, 100, &evl, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(evl[0].host, "a");
    assert_int_equal(evl[0].at, 1700000100);
    assert_string_equal(evl[0].kind, "new-boot");
    assert_string_equal(evl[0].message, "boot b1");
    assert_string_equal(evl[1].kind, "verdict-changed");
    assert_string_equal(evl[1].message, "");
    assert_int_equal(evl[1].at, 1700000100);
    assert_true(evl[1].id > evl[0].id);
    store_event_list_free(evl, n);

    assert_int_equal(store_verdicts_list(f->s, "a", 0, 10, &vl, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(vl[0].host, "a");
    assert_string_equal(vl[0].verdict, "trusted");
    assert_null(vl[0].reason);
    assert_string_equal(vl[0].findings_json, "[{\"k\":\"quote\",\"ok\":true}]");
    assert_int_equal(vl[0].log_from, 0);
    assert_int_equal(vl[0].log_to, 1500);
    assert_int_equal(vl[0].at, 1700000100);
    store_verdict_list_free(vl, n);
}

static void test_store_record_round_without_state_keeps_state(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_host h;
    struct store_verdict *vl = NULL;
    size_t n = 0;

    add_host(f->s, "a");
    make_round(&r, "a", 100, "trusted");
    r.has_state = true;
    r.boot_id = "b1";
    r.reset_count = 1;
    r.log_offset = 10;
    memset(r.pcr_value, 0x11, sizeof(r.pcr_value));
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);

    /* an untrusted round from a hostile agent: log_to below log_from, huge values */
    make_round(&r, "a", 200, "untrusted");
    r.reason = "log-offset: asked for entry 10, got it from entry 0";
    r.log_from = 10;
    r.log_to = 3;
    memset(r.pcr_value, 0x99, sizeof(r.pcr_value)); /* ignored: has_state false */
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    make_round(&r, "a", 300, "unreachable");
    r.reason = "connection refused";
    r.log_from = UINT64_MAX;
    r.log_to = UINT64_MAX - 1;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);

    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.verdict, "unreachable");
    assert_string_equal(h.verdict_reason, "connection refused");
    assert_int_equal(h.last_attested_at, 300);
    assert_string_equal(h.boot_id, "b1");
    assert_int_equal(h.reset_count, 1);
    assert_int_equal(h.log_offset, 10);
    assert_int_equal(h.pcr_value[0], 0x11);
    store_host_cleanup(&h);

    assert_int_equal(store_verdicts_list(f->s, "a", 0, 10, &vl, &n), ATT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(vl[0].verdict, "unreachable");
    assert_true(vl[0].log_from == UINT64_MAX);
    assert_true(vl[0].log_to == UINT64_MAX - 1);
    assert_string_equal(vl[0].findings_json, "[]"); /* NULL findings stored as [] */
    assert_string_equal(vl[1].verdict, "untrusted");
    assert_int_equal(vl[1].log_from, 10);
    assert_int_equal(vl[1].log_to, 3);
    store_verdict_list_free(vl, n);

    /* and a trusted round may carry the full uint64 range of log_offset */
    make_round(&r, "a", 400, "trusted");
    r.has_state = true;
    r.boot_id = "b1";
    r.log_offset = UINT64_MAX;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_true(h.log_offset == UINT64_MAX);
    store_host_cleanup(&h);
}

/*
 * A failure in the middle of a round (here: a trigger planted in the file
 * that refuses one event) must roll back the host update and the verdict too.
 */
static void test_store_record_round_rolls_back_on_failure(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_host h;
    struct store_event ev[3] = {mkev("new-boot", "fine"), mkev("boom", "refused"),
                                mkev("verdict-changed", "never")};

    add_host(f->s, "a");
    plant_boom_trigger(f);
    make_round(&r, "a", 100, "trusted");
    r.has_state = true;
    r.boot_id = "b1";
    r.log_offset = 50;
    memset(r.pcr_value, 0x33, sizeof(r.pcr_value));
    r.events = ev;
    r.n_events = NELEM(ev);
    assert_int_not_equal(store_record_round(f->s, &r), ATT_OK);

    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.verdict, "pending");
    assert_null(h.boot_id);
    assert_int_equal(h.log_offset, 0);
    assert_int_equal(h.last_attested_at, 0);
    assert_true(all_zero(h.pcr_value, sizeof(h.pcr_value)));
    store_host_cleanup(&h);
    assert_int_equal(count_verdicts(f->s, NULL), 0);
    assert_int_equal(count_events(f->s, NULL, NULL), 0);

    /* the connection is usable afterwards */
    r.n_events = 1;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(count_verdicts(f->s, NULL), 1);
}

/*
 * store_fault: set by a storage failure (here a planted trigger refuses one
 * event), not by reads afterwards, cleared by the next write that lands:
 * a single statement or a committed transaction.
 */
static void test_store_fault_set_and_cleared(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_host h;
    char why[256] = "";
    time_t since = 0;

    add_host(f->s, "a");
    plant_boom_trigger(f);
    assert_false(store_fault(f->s, why, sizeof(why), &since));
    assert_int_not_equal(store_event_add(f->s, "a", "boom", "refused"), ATT_OK);
    assert_true(store_fault(f->s, why, sizeof(why), &since));
    assert_non_null(strstr(why, "boom"));
    assert_true(since > 0);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK); /* a read clears nothing */
    store_host_cleanup(&h);
    assert_true(store_fault(f->s, NULL, 0, NULL));
    /* nor does a write that changed no row */
    assert_int_equal(store_host_reset_state(f->s, "nosuch"), ATT_ERR_NOT_FOUND);
    assert_true(store_fault(f->s, NULL, 0, NULL));
    assert_int_equal(store_event_add(f->s, "a", "fine", "a write"), ATT_OK);
    assert_false(store_fault(f->s, NULL, 0, NULL));

    assert_int_not_equal(store_event_add(f->s, "a", "boom", "refused"), ATT_OK);
    assert_true(store_fault(f->s, NULL, 0, NULL));
    make_round(&r, "a", 100, "trusted");
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_false(store_fault(f->s, NULL, 0, NULL));
}

/* ------------------------------------------------------------------------- */
/* Events and verdicts                                                       */

static void test_store_event_add_invalid_arg(void **state)
{
    struct fx *f = *state;

    assert_int_equal(store_event_add(NULL, "a", "k", "m"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_event_add(f->s, "a", NULL, "m"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_event_add(f->s, "a", "", "m"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_event_add(f->s, "", "k", "m"), ATT_ERR_INVALID_ARG);
    /* an event may name a host that is not (or no longer) enrolled */
    assert_int_equal(store_event_add(f->s, "gone", "deleted", "m"), ATT_OK);
    assert_int_equal(count_events(f->s, NULL, NULL), 1);
}

static void test_store_events_list_filters(void **state)
{
    struct fx *f = *state;
    struct store_event *ev = (struct store_event *)(uintptr_t)0x1;
    size_t n = 99;
    int64_t after = 0;
    int64_t prev = 0;
    size_t seen = 0;
    int i;

    assert_int_equal(store_events_list(f->s, NULL, NULL, 0, 0, &ev, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_events_list(f->s, NULL, NULL, 0, 10, NULL, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_events_list(f->s, NULL, NULL, 0, 10, &ev, &n), ATT_OK);
    assert_null(ev);
    assert_int_equal(n, 0);

    for (i = 0; i < 3; i++) {
        assert_int_equal(store_event_add(f->s, "a", "enrolled", "ea"), ATT_OK);
        assert_int_equal(store_event_add(f->s, "b", "enrolled", "eb"), ATT_OK);
        assert_int_equal(store_event_add(f->s, "a", "verdict-changed", "va"), ATT_OK);
        assert_int_equal(store_event_add(f->s, NULL, "policy-created", "p"), ATT_OK);
    }
    assert_int_equal(count_events(f->s, NULL, NULL), 12);
    assert_int_equal(count_events(f->s, "a", NULL), 6);
    assert_int_equal(count_events(f->s, "b", NULL), 3);
    assert_int_equal(count_events(f->s, "c", NULL), 0);
    assert_int_equal(count_events(f->s, NULL, "enrolled"), 6);
    assert_int_equal(count_events(f->s, "a", "enrolled"), 3);
    assert_int_equal(count_events(f->s, "b", "verdict-changed"), 0);
    assert_int_equal(count_events(f->s, NULL, "policy-created"), 3);

    /* paging by after_id, 2 at a time, oldest first, nothing twice */
    for (;;) {
        size_t k;

        assert_int_equal(store_events_list(f->s, "a", NULL, after, 2, &ev, &n), ATT_OK);
        if (n == 0) {
            break;
        }
        assert_true(n <= 2);
        for (k = 0; k < n; k++) {
            assert_true(ev[k].id > prev);
            assert_string_equal(ev[k].host, "a");
            prev = ev[k].id;
        }
        after = ev[n - 1].id;
        seen += n;
        store_event_list_free(ev, n);
    }
    assert_int_equal(seen, 6);

    /* kind filter with after_id */
    assert_int_equal(store_events_list(f->s, NULL, "enrolled", 0, 1, &ev, &n), ATT_OK);
    assert_int_equal(n, 1);
    after = ev[0].id;
    store_event_list_free(ev, n);
    assert_int_equal(store_events_list(f->s, NULL, "enrolled", after, 100, &ev, &n), ATT_OK);
    assert_int_equal(n, 5);
    store_event_list_free(ev, n);
}

static void test_store_events_list_limit_capped(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_event *evs = calloc(1005, sizeof(*evs));
    struct store_event *ev = NULL;
    size_t n = 0;
    size_t i;
    int64_t after;

    assert_non_null(evs);
    for (i = 0; i < 1005; i++) {
        evs[i] = mkev("k", "m");
    }
    add_host(f->s, "a");
    make_round(&r, "a", 100, "trusted");
    r.events = evs;
    r.n_events = 1005;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    free(evs);

    assert_int_equal(store_events_list(f->s, NULL, NULL, 0, 5000, &ev, &n), ATT_OK);
    assert_int_equal(n, 1000);
    for (i = 1; i < n; i++) {
        assert_true(ev[i].id > ev[i - 1].id);
    }
    after = ev[n - 1].id;
    store_event_list_free(ev, n);
    assert_int_equal(store_events_list(f->s, NULL, NULL, after, SIZE_MAX, &ev, &n), ATT_OK);
    assert_int_equal(n, 5);
    store_event_list_free(ev, n);
}

static void test_store_verdicts_list_paging(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_verdict *v = (struct store_verdict *)(uintptr_t)0x1;
    size_t n = 99;
    int64_t before = 0;
    int64_t prev = INT64_MAX;
    size_t seen = 0;
    int i;

    assert_int_equal(store_verdicts_list(f->s, NULL, 0, 0, &v, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_verdicts_list(f->s, NULL, -1, 10, &v, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_verdicts_list(f->s, NULL, 0, 10, &v, &n), ATT_OK);
    assert_null(v);
    assert_int_equal(n, 0);

    add_host(f->s, "a");
    add_host(f->s, "b");
    for (i = 0; i < 5; i++) {
        make_round(&r, "a", 1000 + i, i % 2 == 0 ? "trusted" : "untrusted");
        r.reason = i % 2 == 0 ? NULL : "bad";
        r.log_from = (uint64_t)i * 10;
        r.log_to = (uint64_t)i * 10 + 10;
        assert_int_equal(store_record_round(f->s, &r), ATT_OK);
        if (i < 3) {
            make_round(&r, "b", 2000 + i, "unreachable");
            assert_int_equal(store_record_round(f->s, &r), ATT_OK);
        }
    }
    assert_int_equal(count_verdicts(f->s, NULL), 8);
    assert_int_equal(count_verdicts(f->s, "a"), 5);
    assert_int_equal(count_verdicts(f->s, "b"), 3);
    assert_int_equal(count_verdicts(f->s, "c"), 0);

    /* newest first, 2 per page, before_id as the cursor */
    for (;;) {
        size_t k;

        assert_int_equal(store_verdicts_list(f->s, "a", before, 2, &v, &n), ATT_OK);
        if (n == 0) {
            break;
        }
        for (k = 0; k < n; k++) {
            assert_true(v[k].id < prev);
            prev = v[k].id;
            assert_string_equal(v[k].host, "a");
            assert_int_equal(v[k].log_to, v[k].log_from + 10);
            assert_int_equal(v[k].at, 1000 + (int64_t)(v[k].log_from / 10));
        }
        if (seen == 0) {
            assert_int_equal(v[0].at, 1004); /* the newest */
            assert_string_equal(v[0].verdict, "trusted");
            assert_null(v[0].reason);
            assert_string_equal(v[1].reason, "bad");
        }
        before = v[n - 1].id;
        seen += n;
        store_verdict_list_free(v, n);
    }
    assert_int_equal(seen, 5);
}

/* ------------------------------------------------------------------------- */
/* Policies and tokens                                                       */

static void test_store_policy_put_get_list(void **state)
{
    struct fx *f = *state;
    char *json = (char *)(uintptr_t)0x1;
    char **names = (char **)(uintptr_t)0x1;
    size_t n = 99;
    size_t i;

    assert_int_equal(store_policy_put(f->s, NULL, "{}", false), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_policy_put(f->s, "", "{}", false), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_policy_put(f->s, "p", NULL, false), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_policy_list(f->s, &names, &n), ATT_OK);
    assert_null(names);
    assert_int_equal(n, 0);

    assert_int_equal(store_policy_put(f->s, "web", "{\"v\":1}", false), ATT_OK);
    assert_int_equal(store_policy_put(f->s, "web", "{\"v\":2}", false), ATT_ERR_EXISTS);
    assert_int_equal(store_policy_put(f->s, "db", "{\"v\":3}", true), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_policy_get(f->s, "web", &json), ATT_OK);
    assert_string_equal(json, "{\"v\":1}");
    free(json);
    assert_int_equal(store_policy_put(f->s, "web", "{\"v\":4}", true), ATT_OK);
    assert_int_equal(store_policy_get(f->s, "web", &json), ATT_OK);
    assert_string_equal(json, "{\"v\":4}");
    free(json);
    json = (char *)(uintptr_t)0x1;
    assert_int_equal(store_policy_get(f->s, "db", &json), ATT_ERR_NOT_FOUND);
    assert_ptr_equal(json, (char *)(uintptr_t)0x1);
    assert_int_equal(store_policy_get(f->s, "web", NULL), ATT_ERR_INVALID_ARG);

    assert_int_equal(store_policy_put(f->s, "db", "{}", false), ATT_OK);
    assert_int_equal(store_policy_put(f->s, "app", "{}", false), ATT_OK);
    assert_int_equal(store_policy_list(f->s, &names, &n), ATT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "app");
    assert_string_equal(names[1], "db");
    assert_string_equal(names[2], "web");
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static void test_store_token_add_find(void **state)
{
    struct fx *f = *state;
    uint8_t h1[ATT_SHA256_LEN];
    uint8_t h2[ATT_SHA256_LEN];
    uint8_t h3[ATT_SHA256_LEN];
    char *name = (char *)(uintptr_t)0x1;
    char *role = (char *)(uintptr_t)0x2;
    static const char *const roles[] = {"viewer", "operator", "admin"};
    size_t i;

    assert_int_equal(att_sha256("secret-1", 8, h1), ATT_OK);
    assert_int_equal(att_sha256("secret-2", 8, h2), ATT_OK);
    assert_int_equal(att_sha256("secret-3", 8, h3), ATT_OK);
    assert_int_equal(store_token_add(f->s, "t", "root", h1), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_token_add(f->s, "t", "Admin", h1), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_token_add(f->s, "t", NULL, h1), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_token_add(f->s, "", "admin", h1), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_token_add(f->s, "t", "admin", NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_token_find(f->s, h1, &name, &role), ATT_ERR_NOT_FOUND);
    assert_ptr_equal(name, (char *)(uintptr_t)0x1);
    assert_ptr_equal(role, (char *)(uintptr_t)0x2);

    assert_int_equal(store_token_add(f->s, "ci", "viewer", h1), ATT_OK);
    assert_int_equal(store_token_add(f->s, "ci", "admin", h2), ATT_ERR_EXISTS);    /* name */
    assert_int_equal(store_token_add(f->s, "other", "admin", h1), ATT_ERR_EXISTS); /* hash */
    assert_int_equal(store_token_add(f->s, "boss", "admin", h2), ATT_OK);
    assert_int_equal(store_token_find(f->s, h1, &name, &role), ATT_OK);
    assert_string_equal(name, "ci");
    assert_string_equal(role, "viewer");
    free(name);
    free(role);
    assert_int_equal(store_token_find(f->s, h2, &name, &role), ATT_OK);
    assert_string_equal(name, "boss");
    assert_string_equal(role, "admin");
    free(name);
    free(role);
    name = NULL;
    role = NULL;
    assert_int_equal(store_token_find(f->s, h3, &name, &role), ATT_ERR_NOT_FOUND);
    assert_null(name);
    assert_null(role);
    assert_int_equal(store_token_find(f->s, NULL, &name, &role), ATT_ERR_INVALID_ARG);
    for (i = 0; i < NELEM(roles); i++) {
        char tn[16];

        h3[0] = (uint8_t)i;
        (void)snprintf(tn, sizeof(tn), "r%zu", i);
        assert_int_equal(store_token_add(f->s, tn, roles[i], h3), ATT_OK);
    }
}

/* ------------------------------------------------------------------------- */
/* Durability and concurrency                                                */

/*
 * A child opens the store, commits a round and dies without store_close():
 * either _exit(0) or SIGKILL. After the child is gone (and with it the
 * lock), the parent reopens and must see the round.
 */
static void crash_after_round(struct fx *f, bool use_kill)
{
    struct store_host h;
    struct store_verdict *v = NULL;
    size_t n = 0;
    pid_t pid;
    int status = 0;

    add_host(f->s, "a");
    close_store(f);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *cs = NULL;
        struct store_round r;
        struct store_event ev = mkev("verdict-changed", "pending -> trusted");

        if (store_open(f->db, &cs) != ATT_OK) {
            _exit(2);
        }
        make_round(&r, "a", 4242, "trusted");
        r.has_state = true;
        r.boot_id = "crash-boot";
        r.log_offset = 77;
        memset(r.pcr_value, 0xcd, sizeof(r.pcr_value));
        r.events = &ev;
        r.n_events = 1;
        if (store_record_round(cs, &r) != ATT_OK) {
            _exit(3);
        }
        if (use_kill) {
            (void)raise(SIGKILL);
        }
        _exit(0); /* no store_close: no checkpoint, the round lives only in the WAL */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (use_kill) {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
    } else {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(store_open(f->db, &f->s), ATT_OK);
    assert_int_equal(store_host_get(f->s, "a", &h), ATT_OK);
    assert_string_equal(h.verdict, "trusted");
    assert_string_equal(h.boot_id, "crash-boot");
    assert_int_equal(h.log_offset, 77);
    assert_int_equal(h.pcr_value[31], 0xcd);
    assert_int_equal(h.last_attested_at, 4242);
    store_host_cleanup(&h);
    assert_int_equal(store_verdicts_list(f->s, "a", 0, 10, &v, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].at, 4242);
    store_verdict_list_free(v, n);
    assert_int_equal(count_events(f->s, "a", "verdict-changed"), 1);
}

static void test_store_record_round_survives_exit_without_close(void **state)
{
    crash_after_round(*state, false);
}

static void test_store_record_round_survives_sigkill(void **state)
{
    crash_after_round(*state, true);
}

#define N_THREADS 4
#define N_ROUNDS  25

struct worker {
    struct store *s;
    char host[16];
    int failures;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int i;

    for (i = 0; i < N_ROUNDS; i++) {
        struct store_round r;
        struct store_event ev = mkev("round", "m");
        struct store_host h;
        struct store_event *evl = NULL;
        size_t n = 0;

        make_round(&r, w->host, 1000 + i, i % 2 == 0 ? "trusted" : "untrusted");
        r.has_state = true;
        r.boot_id = w->host;
        r.log_offset = (uint64_t)i;
        r.events = &ev;
        r.n_events = 1;
        if (store_record_round(w->s, &r) != ATT_OK) {
            w->failures++;
        }
        if (store_host_get(w->s, w->host, &h) != ATT_OK || h.log_offset != (uint64_t)i) {
            w->failures++;
        }
        store_host_cleanup(&h);
        if (store_events_list(w->s, w->host, NULL, 0, 1000, &evl, &n) != ATT_OK ||
            n != (size_t)i + 1) {
            w->failures++;
        }
        store_event_list_free(evl, n);
    }
    return NULL;
}

static void test_store_concurrent_rounds(void **state)
{
    struct fx *f = *state;
    pthread_t th[N_THREADS];
    struct worker w[N_THREADS];
    struct store_event *ev = NULL;
    size_t n = 0;
    size_t i;

    for (i = 0; i < N_THREADS; i++) {
        w[i].s = f->s;
        w[i].failures = 0;
        (void)snprintf(w[i].host, sizeof(w[i].host), "host-%zu", i);
        add_host(f->s, w[i].host);
    }
    for (i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(count_verdicts(f->s, NULL), N_THREADS * N_ROUNDS);
    assert_int_equal(store_events_list(f->s, NULL, NULL, 0, 1000, &ev, &n), ATT_OK);
    assert_int_equal(n, N_THREADS * N_ROUNDS);
    for (i = 1; i < n; i++) {
        assert_true(ev[i].id > ev[i - 1].id);
    }
    store_event_list_free(ev, n);
}


/* Re-enrollment of the same TPM replaces the AK in place; another EK is refused. */
static void test_store_host_rekey(void **state)
{
    struct fx *f = *state;
    struct store_host h;
    struct store_host got;
    struct store_round r;
    static const uint8_t other_ek[] = {0x00, 0x01, 0x02};
    static const uint8_t new_ak[] = {0x00, 0x02, 0xaa, 0xbb};

    add_host(f->s, "rekey");
    memset(&r, 0, sizeof(r));
    r.host = "rekey";
    r.at = 1700000100;
    r.verdict = "trusted";
    r.has_state = true;
    r.boot_id = "1-abc";
    r.reset_count = 1;
    r.log_offset = 7;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    make_host(&h, "rekey");
    h.ak_pub = (uint8_t *)(uintptr_t)new_ak;
    h.ak_pub_len = sizeof(new_ak);
    h.ak_name = (char *)(uintptr_t) "000bffff";
    assert_int_equal(store_host_rekey(f->s, &h), ATT_OK);
    assert_int_equal(store_host_get(f->s, "rekey", &got), ATT_OK);
    assert_int_equal(got.ak_pub_len, sizeof(new_ak));
    assert_memory_equal(got.ak_pub, new_ak, sizeof(new_ak));
    assert_string_equal(got.ak_name, "000bffff");
    assert_string_equal(got.verdict, "pending");
    assert_int_equal(got.log_offset, 0);
    assert_null(got.boot_id);
    store_host_cleanup(&got);
    /* Another TPM under the same name: nothing changes. */
    h.ek_pub = (uint8_t *)(uintptr_t)other_ek;
    h.ek_pub_len = sizeof(other_ek);
    h.ak_name = (char *)(uintptr_t) "000b0000";
    assert_int_equal(store_host_rekey(f->s, &h), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_get(f->s, "rekey", &got), ATT_OK);
    assert_string_equal(got.ak_name, "000bffff");
    store_host_cleanup(&got);
    make_host(&h, "nosuch");
    assert_int_equal(store_host_rekey(f->s, &h), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_host_rekey(NULL, &h), ATT_ERR_INVALID_ARG);
}


/* Feeds: append-only, one event per new digest, the newest is current. */
static void test_store_vulnfeed(void **state)
{
    struct fx *f = *state;
    struct store_vulnfeed m;
    struct store_vulnfeed cur;
    struct store_vulnfeed *all = NULL;
    size_t n = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    bool is_new = false;
    char d1[65];
    char d2[65];

    memset(d1, 'a', 64);
    d1[64] = '\0';
    memset(d2, 'b', 64);
    d2[64] = '\0';
    assert_int_equal(store_vulnfeed_current(f->s, &cur, NULL, NULL), ATT_ERR_NOT_FOUND);
    memset(&m, 0, sizeof(m));
    m.digest = d1;
    m.source = (char *)(uintptr_t) "osv";
    m.source_digest = d2;
    m.feed_time = 100;
    m.imported_at = 200;
    m.imported_by = (char *)(uintptr_t) "ops";
    m.n_entries = 2;
    assert_int_equal(store_vulnfeed_add(f->s, &m, (const uint8_t *)"feed-1", 6, &is_new), ATT_OK);
    assert_true(is_new);
    assert_int_equal(store_vulnfeed_add(f->s, &m, (const uint8_t *)"feed-1", 6, &is_new), ATT_OK);
    assert_false(is_new); /* same digest: stored once */
    m.digest = d2;
    m.feed_time = 150;
    assert_int_equal(store_vulnfeed_add(f->s, &m, (const uint8_t *)"feed-2", 6, &is_new), ATT_OK);
    assert_true(is_new);
    assert_int_equal(store_vulnfeed_current(f->s, &cur, &body, &len), ATT_OK);
    assert_string_equal(cur.digest, d2);
    assert_int_equal(cur.feed_time, 150);
    assert_int_equal(len, 6);
    assert_memory_equal(body, "feed-2", 6);
    free(body);
    store_vulnfeed_cleanup(&cur);
    assert_int_equal(store_vulnfeed_list(f->s, &all, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].digest, d2); /* newest first */
    store_vulnfeed_list_free(all, n);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM events WHERE kind = 'vulndb-imported'"),
                     2);
    /* bad input changes nothing */
    m.digest = (char *)(uintptr_t) "not-hex";
    assert_int_equal(store_vulnfeed_add(f->s, &m, (const uint8_t *)"x", 1, &is_new),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM vulnfeeds"), 2);
    /* append-only */
    assert_int_not_equal(raw_exec(f->db, "DELETE FROM vulnfeeds"), SQLITE_OK);
}

/* Inventory parts join in order once all are in; findings count new ones and keep found_at. */
static void test_store_inventory_findings(void **state)
{
    struct fx *f = *state;
    char cid[65];
    char dig[65];
    char feed[65];
    char *text = NULL;
    struct store_inventory inv;
    struct store_inventory *list = NULL;
    struct store_finding fd[2];
    struct store_finding *got = NULL;
    size_t n = 0;
    size_t n_new = 0;

    memset(cid, 'c', 64);
    cid[64] = '\0';
    memset(dig, 'd', 64);
    dig[64] = '\0';
    memset(feed, 'f', 64);
    feed[64] = '\0';
    assert_int_equal(store_inventory_part(f->s, "h1", cid, dig, 2, 2, (const uint8_t *)"B\n", 2,
                                          &text),
                     ATT_OK);
    assert_null(text);
    assert_int_equal(store_inventory_part(f->s, "h1", cid, dig, 2, 2, (const uint8_t *)"B\n", 2,
                                          &text),
                     ATT_OK); /* idempotent */
    assert_null(text);
    assert_int_equal(store_inventory_part(f->s, "h1", cid, dig, 1, 2, (const uint8_t *)"A\n", 2,
                                          &text),
                     ATT_OK);
    assert_non_null(text);
    assert_string_equal(text, "A\nB\n");
    free(text);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM inventory_parts"), 0);
    assert_int_equal(store_inventory_part(f->s, "h1", cid, dig, 3, 2, (const uint8_t *)"x", 1,
                                          &text),
                     ATT_ERR_INVALID_ARG);

    memset(&inv, 0, sizeof(inv));
    inv.host = (char *)(uintptr_t) "h1";
    inv.container = cid;
    inv.digest = dig;
    inv.image = (char *)(uintptr_t) "sha256:img";
    inv.ecosystem = (char *)(uintptr_t) "Debian:12";
    inv.n_packages = 2;
    inv.body = (char *)(uintptr_t) "A\nB\n";
    inv.updated_at = 5;
    assert_int_equal(store_inventory_put(f->s, &inv), ATT_OK);

    memset(fd, 0, sizeof(fd));
    fd[0].vuln_id = (char *)(uintptr_t) "CVE-1";
    fd[0].package = (char *)(uintptr_t) "libc6";
    fd[0].version = (char *)(uintptr_t) "1";
    fd[0].source = (char *)(uintptr_t) "glibc";
    fd[0].source_version = (char *)(uintptr_t) "1";
    fd[0].severity = (char *)(uintptr_t) "low";
    fd[0].feed = feed;
    fd[1] = fd[0];
    fd[1].vuln_id = (char *)(uintptr_t) "CVE-2";
    fd[1].severity = (char *)(uintptr_t) "critical";
    fd[1].over_bar = true;
    assert_int_equal(store_findings_replace(f->s, "h1", cid, "k1", 99, fd, 1, 10, "msg", &n_new),
                     ATT_OK);
    assert_int_equal(n_new, 1);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM events WHERE kind = "
                                    "'vulnerability-noted'"),
                     1);
    assert_int_equal(store_findings_replace(f->s, "h1", cid, "k2", 99, fd, 2, 20, "msg", &n_new),
                     ATT_OK);
    assert_int_equal(n_new, 1); /* CVE-2 only */
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM events WHERE kind = "
                                    "'vulnerability-found'"),
                     1);
    assert_int_equal(store_findings_list(f->s, "h1", NULL, NULL, &got, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[0].vuln_id, "CVE-2"); /* worst first */
    assert_true(got[0].over_bar);
    assert_int_equal(got[1].found_at, 10); /* kept from the first judgement */
    store_finding_list_free(got, n);
    assert_int_equal(store_inventories_list(f->s, "h1", NULL, true, &list, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].judged, "k2");
    assert_int_equal(list[0].recheck_at, 99);
    store_inventory_list_free(list, n);
    /* a new inventory digest clears the judgement */
    dig[0] = 'e';
    assert_int_equal(store_inventory_put(f->s, &inv), ATT_OK);
    assert_int_equal(store_inventories_list(f->s, "h1", NULL, true, &list, &n), ATT_OK);
    assert_string_equal(list[0].judged, "");
    assert_string_equal(list[0].body, "A\nB\n");
    store_inventory_list_free(list, n);
    /* a round lists them without bodies; why one cannot be judged is kept */
    inv.unjudgeable = (char *)(uintptr_t) "no package database";
    assert_int_equal(store_inventory_put(f->s, &inv), ATT_OK);
    assert_int_equal(store_inventories_list(f->s, "h1", cid, false, &list, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].body, "");
    assert_string_equal(list[0].unjudgeable, "no package database");
    store_inventory_list_free(list, n);
    assert_int_equal(store_inventories_list(f->s, "h2", NULL, false, &list, &n), ATT_OK);
    assert_int_equal(n, 0);
    /* an invalid finding changes nothing */
    fd[0].feed = (char *)(uintptr_t) "zz";
    assert_int_equal(store_findings_replace(f->s, "h1", cid, "k3", 0, fd, 2, 30, NULL, &n_new),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM vuln_findings"), 2);
    /* deleting the host drops its inventories and findings (state, not history) */
    add_host(f->s, "h1");
    assert_int_equal(store_inventory_part(f->s, "h1", cid, dig, 1, 2, (const uint8_t *)"A\n", 2,
                                          &text),
                     ATT_OK);
    assert_int_equal(store_host_delete(f->s, "h1"), ATT_OK);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM vuln_findings"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM inventories"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM inventory_parts"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM events WHERE kind LIKE "
                                    "'vulnerability-%'"),
                     2); /* history stays */
}

/* A store written by schema v1 is migrated to v2 (and on) on open, data kept. */
static void test_store_migrates_v1_to_v2(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = NULL;
    struct store_host h;

    add_host(f->s, "old");
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE orders; DROP TABLE containers; "
                                  "DROP TABLE vulnfeeds; DROP TABLE inventory_parts; "
                                  "DROP TABLE inventories; DROP TABLE vuln_findings; "
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 1);
    assert_int_equal(store_open(f->db, &f->s), ATT_OK);
    assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION); /* through v2 and on */
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM containers"), 0);
    assert_int_equal(store_host_get(f->s, "old", &h), ATT_OK);
    store_host_cleanup(&h);
}

/* Trusted rounds replace the host's containers; delete and reset clear them. */
/* How many containers the store lists for @p host (NULL: all hosts). */
static size_t count_containers(struct store *s, const char *host)
{
    struct store_container *got = NULL;
    size_t n = 0;

    assert_int_equal(store_containers_list(s, host, &got, &n), ATT_OK);
    store_container_list_free(got, n);
    return n;
}

static void test_store_round_containers(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_container c[2];
    struct store_container *got = NULL;
    size_t n = 0;

    add_host(f->s, "h1");
    memset(c, 0, sizeof(c));
    c[0].id = (char *)(uintptr_t) "1111111111111111111111111111111111111111111111111111111111111111";
    c[0].image = (char *)(uintptr_t) "sha256:aa";
    c[0].policy = (char *)(uintptr_t) "app";
    c[0].entry = -1;
    c[1].id = (char *)(uintptr_t) "2222222222222222222222222222222222222222222222222222222222222222";
    c[1].is_failed = true;
    c[1].code = (char *)(uintptr_t) "unknown-binary";
    c[1].reason = (char *)(uintptr_t) "/opt/x is not in policy app";
    c[1].entry = 5;
    memset(&r, 0, sizeof(r));
    r.host = "h1";
    r.at = 1700000000;
    r.verdict = "trusted";
    r.has_state = true;
    r.log_offset = 6;
    r.containers = c;
    r.n_containers = 2;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(store_containers_list(f->s, "h1", &got, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_false(got[0].is_failed);
    assert_string_equal(got[0].policy, "app");
    assert_true(got[1].is_failed);
    assert_string_equal(got[1].code, "unknown-binary");
    assert_int_equal(got[1].entry, 5);
    store_container_list_free(got, n);
    /* a round without state leaves them alone */
    r.has_state = false;
    r.n_containers = 0;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(count_containers(f->s, NULL), 2);
    /* a trusted round with one container replaces both */
    r.has_state = true;
    r.containers = &c[1];
    r.n_containers = 1;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(count_containers(f->s, "h1"), 1);
    assert_int_equal(store_host_reset_state(f->s, "h1"), ATT_OK);
    assert_int_equal(count_containers(f->s, "h1"), 0);
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(store_host_delete(f->s, "h1"), ATT_OK);
    assert_int_equal(count_containers(f->s, NULL), 0);
    assert_int_equal(store_containers_list(f->s, "", &got, &n), ATT_ERR_INVALID_ARG);
}


/* ------------------------------------------------------------------------- */
/* Quarantine orders (schema v3)                                             */

#define OID_1  "0123456789abcdef0123456789abcdef"
#define OID_2  "fedcba9876543210fedcba9876543210"
#define OID_3  "00000000000000000000000000000003"
#define LID_1  "11111111111111111111111111111111"
#define LID_2  "22222222222222222222222222222222"
#define CID_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CID_B  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ACTS   "pause,isolate-network"
#define REASON "unknown-binary: /opt/x is not in policy app"

static const uint8_t order_env[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0x01, 0x02};
static const uint8_t lift_env[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0x0f, 0x0e};

/* An order as the poller would hand it in (literals through uintptr_t, see mkev). */
static struct store_order mkorder(const char *id, const char *container, int64_t issued_at)
{
    struct store_order o;

    memset(&o, 0, sizeof(o));
    o.id = (char *)(uintptr_t)id;
    o.container = (char *)(uintptr_t)container;
    o.actions = (char *)(uintptr_t)ACTS;
    o.reason = (char *)(uintptr_t)REASON;
    o.issued_at = issued_at;
    o.expires_at = issued_at + 1000;
    o.envelope = (uint8_t *)(uintptr_t)order_env;
    o.envelope_len = sizeof(order_env);
    return o;
}

/* Record an untrusted round on @p host at @p at that carries @p n orders. */
static att_rc round_with_orders(struct store *s, const char *host, int64_t at,
                                const struct store_order *o, size_t n)
{
    struct store_round r;

    make_round(&r, host, at, "untrusted");
    r.reason = "container " CID_A " failed";
    r.orders = o;
    r.n_orders = n;
    return store_record_round(s, &r);
}

static void assert_order_state(struct store *s, const char *id, const char *state)
{
    struct store_order o;

    assert_int_equal(store_order_get(s, id, &o), ATT_OK);
    assert_string_equal(o.state, state);
    store_order_cleanup(&o);
}

/* The message of the newest event of @p kind (the store's events for @p host); owned. */
static char *last_message(struct store *s, const char *host, const char *kind)
{
    struct store_event *ev = NULL;
    size_t n = 0;
    char *msg;

    assert_int_equal(store_events_list(s, host, kind, 0, 1000, &ev, &n), ATT_OK);
    assert_true(n > 0);
    msg = strdup(ev[n - 1].message);
    assert_non_null(msg);
    store_event_list_free(ev, n);
    return msg;
}

static void assert_last_message(struct store *s, const char *host, const char *kind,
                                const char *want)
{
    char *msg = last_message(s, host, kind);

    assert_string_equal(msg, want);
    free(msg);
}

static size_t count_orders(struct store *s, const char *host, bool open_only)
{
    struct store_order *o = NULL;
    size_t n = 0;

    assert_int_equal(store_orders_list(s, host, open_only, &o, &n), ATT_OK);
    store_order_list_free(o, n);
    return n;
}

/* Nothing of a refused round may have landed: no verdict, event or order. */
static void assert_round_refused(struct store *s, const struct store_order *o, size_t n,
                                 att_rc want)
{
    assert_int_equal(round_with_orders(s, "a", 100, o, n), want);
    assert_int_equal(count_verdicts(s, NULL), 0);
    assert_int_equal(count_events(s, NULL, NULL), 0);
    assert_int_equal(count_orders(s, NULL, false), 0);
}

static void test_store_order_round_invalid_arg(void **state)
{
    struct fx *f = *state;
    struct store_order o;
    static uint8_t big[4097];
    char long_reason[1026];

    add_host(f->s, "a");
    o = mkorder(OID_1, CID_A, 100);
    assert_round_refused(f->s, NULL, 1, ATT_ERR_INVALID_ARG);
    o.id = (char *)(uintptr_t) "0123456789abcdef0123456789abcde"; /* 31 */
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.id = (char *)(uintptr_t) "0123456789abcdef0123456789abcdef0"; /* 33 */
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.id = (char *)(uintptr_t) "0123456789ABCDEF0123456789abcdef"; /* upper case */
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.id = (char *)(uintptr_t) "0123456789abcdef0123456789abcdeg";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.id = NULL;
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o = mkorder(OID_1, &CID_A[1], 100); /* 63 hex */
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o = mkorder(OID_1, NULL, 100);
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o = mkorder(OID_1, CID_A, 100);
    o.reason = (char *)(uintptr_t) "";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.reason = NULL;
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.reason = (char *)(uintptr_t) "bad \xc3\x28 utf-8";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0'; /* 1025 bytes */
    o.reason = long_reason;
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o = mkorder(OID_1, CID_A, 100);
    o.envelope = big;
    o.envelope_len = sizeof(big); /* 4097 */
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.envelope_len = 0;
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.envelope = NULL;
    o.envelope_len = 3;
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o = mkorder(OID_1, CID_A, 100);
    o.actions = (char *)(uintptr_t) "";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.actions = (char *)(uintptr_t) "pause,,kill";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.actions = (char *)(uintptr_t) "Pause";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o.actions = (char *)(uintptr_t) "pause,";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o = mkorder(OID_1, CID_A, 100);
    o.image = (char *)(uintptr_t) "sha256:xyz";
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);
    o = mkorder(OID_1, CID_A, 100);
    o.expires_at = 99; /* expires before it is issued */
    assert_round_refused(f->s, &o, 1, ATT_ERR_INVALID_ARG);

    /* the boundaries themselves are accepted */
    o = mkorder(OID_1, CID_A, 100);
    memset(big, 0x5a, sizeof(big));
    o.envelope = big;
    o.envelope_len = 4096;
    long_reason[1024] = '\0';
    o.reason = long_reason;
    o.image = (char *)(uintptr_t) "sha256:" CID_B;
    assert_int_equal(round_with_orders(f->s, "a", 100, &o, 1), ATT_OK);
    assert_int_equal(count_orders(f->s, "a", true), 1);
}

static void test_store_order_round_writes_outbox(void **state)
{
    struct fx *f = *state;
    struct store_order in[2] = {mkorder(OID_1, CID_A, 1000), mkorder(OID_2, CID_B, 1001)};
    struct store_order o;
    struct store_order *l = NULL;
    size_t n = 0;

    add_host(f->s, "a");
    add_host(f->s, "b");
    in[0].host = (char *)(uintptr_t) "b"; /* ignored: the round's host counts */
    in[1].image = (char *)(uintptr_t) "sha256:" CID_A;
    assert_int_equal(round_with_orders(f->s, "a", 1005, in, NELEM(in)), ATT_OK);
    assert_int_equal(count_verdicts(f->s, "a"), 1);

    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.id, OID_1);
    assert_string_equal(o.host, "a");
    assert_string_equal(o.container, CID_A);
    assert_string_equal(o.image, "");
    assert_string_equal(o.actions, ACTS);
    assert_string_equal(o.reason, REASON);
    assert_string_equal(o.state, "pending");
    assert_string_equal(o.result, "");
    assert_int_equal(o.issued_at, 1000);
    assert_int_equal(o.expires_at, 2000);
    assert_int_equal(o.envelope_len, sizeof(order_env));
    assert_memory_equal(o.envelope, order_env, sizeof(order_env));
    assert_int_equal(o.attempts, 0);
    assert_int_equal(o.next_attempt, 0);
    assert_int_equal(o.acked_at, 0);
    assert_null(o.lift_id);
    assert_null(o.lift_envelope);
    assert_int_equal(o.lift_envelope_len, 0);
    assert_null(o.lifted_by);
    assert_null(o.lift_reason);
    assert_int_equal(o.lifted_at, 0);
    store_order_cleanup(&o);
    store_order_cleanup(NULL);

    /* one audit event per order, at the round's time, on the round's host */
    assert_int_equal(count_events(f->s, "a", "quarantine-ordered"), 2);
    assert_int_equal(count_events(f->s, "b", NULL), 0);
    assert_last_message(f->s, "a", "quarantine-ordered",
                        "order " OID_2 ": " ACTS " container bbbbbbbbbbbb: " REASON);

    /* listing: newest first, host and open filters */
    assert_int_equal(store_orders_list(f->s, NULL, false, &l, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].id, OID_2);
    assert_string_equal(l[0].image, "sha256:" CID_A);
    assert_string_equal(l[1].id, OID_1);
    store_order_list_free(l, n);
    assert_int_equal(count_orders(f->s, "a", true), 2);
    assert_int_equal(count_orders(f->s, "b", false), 0);
    assert_int_equal(store_orders_list(f->s, "b", true, &l, &n), ATT_OK);
    assert_null(l);
    assert_int_equal(n, 0);
    assert_int_equal(store_orders_list(f->s, "", false, &l, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_orders_list(f->s, NULL, false, NULL, &n), ATT_ERR_INVALID_ARG);

    assert_int_equal(store_order_get(f->s, OID_3, &o), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_order_get(f->s, "nothex", &o), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_get(f->s, OID_1, NULL), ATT_ERR_INVALID_ARG);
    store_order_list_free(NULL, 0);
}

/* The outbox row is part of the round: whatever fails the round takes the orders with it. */
static void test_store_order_round_rolls_back(void **state)
{
    struct fx *f = *state;
    struct store_order in[2] = {mkorder(OID_1, CID_A, 1000), mkorder(OID_2, CID_B, 1000)};
    struct store_order dup = mkorder(OID_1, CID_B, 1000);
    struct store_order lift_dup = mkorder(LID_1, CID_B, 1000);
    struct store_round r;
    struct store_event boom = mkev("boom", "refused");

    add_host(f->s, "a");
    add_host(f->s, "b");
    /* unknown host */
    assert_int_equal(round_with_orders(f->s, "ghost", 100, in, NELEM(in)), ATT_ERR_NOT_FOUND);
    assert_int_equal(count_orders(f->s, NULL, false), 0);

    /* a failing event after the orders: nothing of the round stays */
    plant_boom_trigger(f);
    make_round(&r, "a", 100, "untrusted");
    r.events = &boom;
    r.n_events = 1;
    r.orders = in;
    r.n_orders = NELEM(in);
    assert_int_not_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(count_orders(f->s, NULL, false), 0);
    assert_int_equal(count_verdicts(f->s, NULL), 0);
    assert_int_equal(count_events(f->s, NULL, NULL), 0);

    /* a reused id (even on another host) is an error, and the whole round goes */
    assert_int_equal(round_with_orders(f->s, "a", 100, &in[0], 1), ATT_OK);
    assert_int_equal(round_with_orders(f->s, "b", 200, &dup, 1), ATT_ERR_EXISTS);
    assert_int_equal(count_verdicts(f->s, "b"), 0);
    /* within one round: the second order's id is the first's */
    in[1].id = (char *)(uintptr_t)OID_1;
    assert_int_equal(round_with_orders(f->s, "b", 200, in, NELEM(in)), ATT_ERR_EXISTS);
    assert_int_equal(count_orders(f->s, "b", false), 0);
    assert_int_equal(count_events(f->s, NULL, "quarantine-ordered"), 1);
    assert_int_equal(count_verdicts(f->s, NULL), 1);
    /* a lift id is taken too: acks name either */
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "ops", "ok"),
                     ATT_OK);
    assert_int_equal(round_with_orders(f->s, "b", 300, &lift_dup, 1), ATT_ERR_EXISTS);
    assert_int_equal(count_orders(f->s, NULL, false), 1);
    assert_order_state(f->s, OID_1, "lift-pending");
}

/* One open order per container: a second one is skipped, not an error, and not audited. */
static void test_store_order_open_unique(void **state)
{
    struct fx *f = *state;
    struct store_order o1 = mkorder(OID_1, CID_A, 1000);
    struct store_order o2 = mkorder(OID_2, CID_A, 1100);
    struct store_order o3 = mkorder(OID_3, CID_A, 1200);
    struct store_order both[2] = {mkorder(OID_2, CID_B, 1100), mkorder(OID_3, CID_B, 1100)};

    add_host(f->s, "a");
    add_host(f->s, "b");
    assert_int_equal(round_with_orders(f->s, "a", 1000, &o1, 1), ATT_OK);
    assert_int_equal(round_with_orders(f->s, "a", 1100, &o2, 1), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_2, &(struct store_order){0}), ATT_ERR_NOT_FOUND);
    assert_int_equal(count_verdicts(f->s, "a"), 2); /* the round itself landed */
    assert_int_equal(count_events(f->s, "a", "quarantine-ordered"), 1);
    /* the same container id on another host is another container */
    assert_int_equal(round_with_orders(f->s, "b", 1100, &o2, 1), ATT_OK);
    assert_int_equal(count_orders(f->s, "b", true), 1);
    /* two orders for one container in one round: the first stands */
    assert_int_equal(round_with_orders(f->s, "a", 1150, both, NELEM(both)), ATT_ERR_EXISTS);
    both[0].id = (char *)(uintptr_t) "0000000000000000000000000000000a";
    assert_int_equal(round_with_orders(f->s, "a", 1150, both, NELEM(both)), ATT_OK);
    assert_order_state(f->s, "0000000000000000000000000000000a", "pending");
    assert_int_equal(store_order_get(f->s, OID_3, &(struct store_order){0}), ATT_ERR_NOT_FOUND);

    /* enforced, refused and lift-pending are open too; lifted is not */
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_int_equal(round_with_orders(f->s, "a", 1200, &o3, 1), ATT_OK);
    assert_int_equal(count_orders(f->s, "a", true), 2);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "ops", "fp"),
                     ATT_OK);
    assert_int_equal(round_with_orders(f->s, "a", 1200, &o3, 1), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_3, &(struct store_order){0}), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_order_ack(f->s, "a", LID_1, true, "resumed"), ATT_OK);
    assert_int_equal(round_with_orders(f->s, "a", 1300, &o3, 1), ATT_OK);
    assert_order_state(f->s, OID_3, "pending");
    assert_int_equal(count_orders(f->s, "a", false), 3);
    assert_int_equal(count_orders(f->s, "a", true), 2);
}

static void test_store_orders_due_sent_backoff(void **state)
{
    struct fx *f = *state;
    struct store_order in[2] = {mkorder(OID_2, CID_B, 1001), mkorder(OID_1, CID_A, 1000)};
    struct store_order *d = (struct store_order *)(uintptr_t)0x1;
    struct store_order o;
    size_t n = 99;

    add_host(f->s, "a");
    add_host(f->s, "b");
    assert_int_equal(store_orders_due(f->s, "a", 1000, 10, &d, &n), ATT_OK);
    assert_null(d);
    assert_int_equal(n, 0);
    assert_int_equal(round_with_orders(f->s, "a", 1001, in, NELEM(in)), ATT_OK);

    /* oldest first, at most max, only this host */
    assert_int_equal(store_orders_due(f->s, "a", 1001, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].id, OID_1);
    assert_string_equal(d[1].id, OID_2);
    assert_memory_equal(d[0].envelope, order_env, sizeof(order_env));
    store_order_list_free(d, n);
    assert_int_equal(store_orders_due(f->s, "a", 1001, 1, &d, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].id, OID_1);
    store_order_list_free(d, n);
    assert_int_equal(store_orders_due(f->s, "b", 1001, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 0);

    /* sent: attempts count, next_attempt holds it back until then; no event */
    assert_int_equal(store_order_sent(f->s, OID_1, 1031), ATT_OK);
    assert_int_equal(store_orders_due(f->s, "a", 1030, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].id, OID_2);
    store_order_list_free(d, n);
    assert_int_equal(store_order_sent(f->s, OID_1, 1091), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_int_equal(o.attempts, 2);
    assert_int_equal(o.next_attempt, 1091);
    assert_string_equal(o.state, "pending");
    store_order_cleanup(&o);
    assert_int_equal(store_orders_due(f->s, "a", 1090, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 1);
    store_order_list_free(d, n);
    assert_int_equal(store_orders_due(f->s, "a", 1091, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 2);
    store_order_list_free(d, n);
    assert_int_equal(count_events(f->s, "a", NULL), 2); /* the two "quarantine-ordered" */

    /* acknowledged: no longer due; a late "sent" changes nothing */
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_int_equal(store_order_sent(f->s, OID_1, 5000), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_int_equal(o.attempts, 2);
    assert_int_equal(o.next_attempt, 1091);
    store_order_cleanup(&o);
    assert_int_equal(store_orders_due(f->s, "a", 1500, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].id, OID_2);
    store_order_list_free(d, n);

    assert_int_equal(store_order_sent(f->s, OID_3, 1), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_order_sent(f->s, "xyz", 1), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_sent(NULL, OID_1, 1), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_orders_due(f->s, "a", 1, 0, &d, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_orders_due(f->s, NULL, 1, 1, &d, &n), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_orders_due(f->s, "a", 1, 1, NULL, &n), ATT_ERR_INVALID_ARG);
}

static void test_store_orders_due_expires(void **state)
{
    struct fx *f = *state;
    struct store_order in[3] = {mkorder(OID_1, CID_A, 1000), mkorder(OID_2, CID_B, 1000),
                                mkorder(OID_3,
                                        "cccccccccccccccccccccccccccccccccccccccccccccccccccc"
                                        "cccccccccccc",
                                        1000)};
    struct store_order *d = NULL;
    size_t n = 0;

    add_host(f->s, "a");
    in[2].expires_at = 5000;
    assert_int_equal(round_with_orders(f->s, "a", 1000, in, NELEM(in)), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", OID_2, true, "paused"), ATT_OK);
    /* OID_3 lifted while pending: a lift never expires */
    assert_int_equal(store_order_lift(f->s, OID_3, LID_1, lift_env, sizeof(lift_env), "ops", "fp"),
                     ATT_OK);

    /* expires_at itself is still in time */
    assert_int_equal(store_orders_due(f->s, "a", 2000, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 2);
    store_order_list_free(d, n);
    assert_int_equal(count_events(f->s, "a", "quarantine-expired"), 0);

    assert_int_equal(store_orders_due(f->s, "a", 9000, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].id, OID_3);
    assert_string_equal(d[0].state, "lift-pending");
    assert_string_equal(d[0].lift_id, LID_1);
    assert_int_equal(d[0].lift_envelope_len, sizeof(lift_env));
    assert_memory_equal(d[0].lift_envelope, lift_env, sizeof(lift_env));
    store_order_list_free(d, n);
    assert_order_state(f->s, OID_1, "expired");
    assert_order_state(f->s, OID_2, "enforced"); /* acknowledged: not expired */
    assert_int_equal(count_events(f->s, "a", "quarantine-expired"), 1);
    assert_last_message(f->s, "a", "quarantine-expired",
                        "order " OID_1 ": " ACTS
                        " container aaaaaaaaaaaa: not acknowledged by 2000");
    /* once only */
    assert_int_equal(store_orders_due(f->s, "a", 9001, 10, &d, &n), ATT_OK);
    store_order_list_free(d, n);
    assert_int_equal(count_events(f->s, "a", "quarantine-expired"), 1);

    /* expired: closed, a refusal changes nothing */
    assert_int_equal(count_orders(f->s, "a", true), 2);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, false, "expired"), ATT_OK);
    assert_order_state(f->s, OID_1, "expired");
    /* but an agent that did act on it before expiry is believed: the order is open again */
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_order_state(f->s, OID_1, "enforced");
    assert_last_message(f->s, "a", "quarantine-enforced",
                        "order " OID_1 " (after expiry): " ACTS " container aaaaaaaaaaaa: paused");
    /* and an operator can lift it (an expired order may be in force on a late agent) */
    assert_int_equal(store_order_lift(f->s, OID_1, LID_2, lift_env, sizeof(lift_env), "ops", "x"),
                     ATT_OK);
    assert_order_state(f->s, OID_1, "lift-pending");
}

/* A late ack of an expired order cannot open a second order for the container. */
static void test_store_order_ack_expired_superseded(void **state)
{
    struct fx *f = *state;
    struct store_order o1 = mkorder(OID_1, CID_A, 1000);
    struct store_order o2 = mkorder(OID_2, CID_A, 3000);
    struct store_order *d = NULL;
    size_t n = 0;

    add_host(f->s, "a");
    assert_int_equal(round_with_orders(f->s, "a", 1000, &o1, 1), ATT_OK);
    assert_int_equal(store_orders_due(f->s, "a", 2001, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(round_with_orders(f->s, "a", 3000, &o2, 1), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_order_state(f->s, OID_1, "expired");
    assert_order_state(f->s, OID_2, "pending");
    assert_int_equal(count_events(f->s, "a", "quarantine-enforced"), 0);
}

static void test_store_order_ack_transitions(void **state)
{
    struct fx *f = *state;
    struct store_order in[2] = {mkorder(OID_1, CID_A, 1000), mkorder(OID_2, CID_B, 1000)};
    struct store_order o;
    char long_result[1026];
    int64_t before = (int64_t)time(NULL);

    add_host(f->s, "a");
    add_host(f->s, "b");
    assert_int_equal(round_with_orders(f->s, "a", 1000, in, NELEM(in)), ATT_OK);

    /* bad input, unknown id, another host's order: nothing changes */
    memset(long_result, 'x', sizeof(long_result) - 1);
    long_result[sizeof(long_result) - 1] = '\0';
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, long_result), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_ack(f->s, "a", "bad", true, "x"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_ack(f->s, "", OID_1, true, "x"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "\xff"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_ack(NULL, "a", OID_1, true, "x"), ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_ack(f->s, "a", OID_3, true, "x"), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_order_ack(f->s, "b", OID_1, true, "x"), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_order_ack(f->s, "ghost", OID_1, true, "x"), ATT_ERR_NOT_FOUND);
    assert_order_state(f->s, OID_1, "pending");
    assert_int_equal(count_events(f->s, NULL, NULL), 2);

    /* pending -> enforced */
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused; network isolated"), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.state, "enforced");
    assert_string_equal(o.result, "paused; network isolated");
    assert_true(o.acked_at >= before && o.acked_at <= (int64_t)time(NULL));
    store_order_cleanup(&o);
    assert_int_equal(count_events(f->s, "a", "quarantine-enforced"), 1);
    assert_last_message(f->s, "a", "quarantine-enforced",
                        "order " OID_1 ": " ACTS
                        " container aaaaaaaaaaaa: paused; network isolated");

    /* duplicate acks, either answer: idempotent, no event */
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused again"), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, false, "no such container"), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.state, "enforced");
    assert_string_equal(o.result, "paused; network isolated");
    store_order_cleanup(&o);
    assert_int_equal(count_events(f->s, "a", "quarantine-enforced"), 1);
    assert_int_equal(count_events(f->s, "a", "quarantine-refused"), 0);
    /* the ack for an order is not the ack for its lift (no lift yet) */
    assert_int_equal(store_order_ack(f->s, "a", LID_1, true, "x"), ATT_ERR_NOT_FOUND);

    /* pending -> refused, NULL result stored as "" */
    assert_int_equal(store_order_ack(f->s, "a", OID_2, false, NULL), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_2, &o), ATT_OK);
    assert_string_equal(o.state, "refused");
    assert_string_equal(o.result, "");
    assert_true(o.acked_at >= before);
    store_order_cleanup(&o);
    assert_int_equal(store_order_ack(f->s, "a", OID_2, true, "late"), ATT_OK);
    assert_order_state(f->s, OID_2, "refused");
    assert_int_equal(count_events(f->s, "a", "quarantine-refused"), 1);
    assert_last_message(f->s, "a", "quarantine-refused",
                        "order " OID_2 ": " ACTS " container bbbbbbbbbbbb: ");
}

static void test_store_order_lift_transitions(void **state)
{
    struct fx *f = *state;
    struct store_order in[2] = {mkorder(OID_1, CID_A, 1000), mkorder(OID_2, CID_B, 1000)};
    struct store_round r;
    struct store_container c[2];
    struct store_container *cl = NULL;
    struct store_order o;
    struct store_order *d = NULL;
    static uint8_t big[4097];
    char long_by[258];
    size_t n = 0;
    int64_t before = (int64_t)time(NULL);

    add_host(f->s, "a");
    add_host(f->s, "b");
    /* the trusted round's container list says both containers failed */
    memset(c, 0, sizeof(c));
    c[0].id = (char *)(uintptr_t)CID_A;
    c[0].is_failed = true;
    c[0].code = (char *)(uintptr_t) "unknown-binary";
    c[0].reason = (char *)(uintptr_t) "/opt/x";
    c[0].entry = 7;
    c[1] = c[0];
    c[1].id = (char *)(uintptr_t)CID_B;
    make_round(&r, "a", 1000, "trusted");
    r.has_state = true;
    r.containers = c;
    r.n_containers = NELEM(c);
    r.orders = in;
    r.n_orders = NELEM(in);
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_int_equal(store_order_sent(f->s, OID_1, 1030), ATT_OK);

    /* bad input, unknown order: nothing changes */
    memset(long_by, 'b', sizeof(long_by) - 1);
    long_by[sizeof(long_by) - 1] = '\0'; /* 257 bytes */
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "", "r"),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), long_by, "r"),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "ops", ""),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "ops", NULL),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, big, sizeof(big), "ops", "r"),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, NULL, 0, "ops", "r"),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, OID_1, "1111", lift_env, sizeof(lift_env), "ops", "r"),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, "x", LID_1, lift_env, sizeof(lift_env), "ops", "r"),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(store_order_lift(f->s, OID_3, LID_1, lift_env, sizeof(lift_env), "ops", "r"),
                     ATT_ERR_NOT_FOUND);
    /* the lift id must be new: not this order's id, not another order's */
    assert_int_equal(store_order_lift(f->s, OID_1, OID_1, lift_env, sizeof(lift_env), "ops", "r"),
                     ATT_ERR_EXISTS);
    assert_int_equal(store_order_lift(f->s, OID_1, OID_2, lift_env, sizeof(lift_env), "ops", "r"),
                     ATT_ERR_EXISTS);
    assert_order_state(f->s, OID_1, "enforced");
    assert_int_equal(count_events(f->s, "a", "quarantine-lift"), 0);

    /* enforced -> lift-pending, container verdict cleared, audited */
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "alice",
                                      "false positive: /opt/x is the vendor agent"),
                     ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.state, "lift-pending");
    assert_string_equal(o.lift_id, LID_1);
    assert_int_equal(o.lift_envelope_len, sizeof(lift_env));
    assert_memory_equal(o.lift_envelope, lift_env, sizeof(lift_env));
    assert_string_equal(o.lifted_by, "alice");
    assert_string_equal(o.lift_reason, "false positive: /opt/x is the vendor agent");
    assert_true(o.lifted_at >= before && o.lifted_at <= (int64_t)time(NULL));
    assert_int_equal(o.attempts, 0);
    assert_int_equal(o.next_attempt, 0);
    assert_string_equal(o.result, "paused"); /* the agent's last answer stays */
    assert_memory_equal(o.envelope, order_env, sizeof(order_env));
    store_order_cleanup(&o);
    assert_last_message(f->s, "a", "quarantine-lift",
                        "order " OID_1 " lifted by alice: false positive: /opt/x is the vendor "
                        "agent");
    assert_int_equal(store_containers_list(f->s, "a", &cl, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(cl[0].id, CID_A);
    assert_false(cl[0].is_failed);
    assert_string_equal(cl[0].code, "");
    assert_string_equal(cl[0].reason, "");
    assert_int_equal(cl[0].entry, -1);
    assert_true(cl[1].is_failed); /* the other container is untouched */
    assert_string_equal(cl[1].code, "unknown-binary");
    assert_int_equal(cl[1].entry, 7);
    store_container_list_free(cl, n);

    /* the lift is due at once */
    assert_int_equal(store_orders_due(f->s, "a", 1001, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].id, OID_1);
    assert_string_equal(d[0].lift_id, LID_1);
    store_order_list_free(d, n);

    /* lift twice: refused, nothing changes */
    assert_int_equal(store_order_lift(f->s, OID_1, LID_2, lift_env, sizeof(lift_env), "bob", "x"),
                     ATT_ERR_EXISTS);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.lift_id, LID_1);
    assert_string_equal(o.lifted_by, "alice");
    store_order_cleanup(&o);
    /* an order's lift id is not an order */
    assert_int_equal(store_order_lift(f->s, LID_1, LID_2, lift_env, sizeof(lift_env), "bob", "x"),
                     ATT_ERR_NOT_FOUND);
    /* a late ack of the order itself changes nothing */
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_order_state(f->s, OID_1, "lift-pending");

    /* the agent refuses the lift: stays lift-pending, answer recorded and audited */
    assert_int_equal(store_order_ack(f->s, "b", LID_1, true, "resumed"), ATT_ERR_NOT_FOUND);
    assert_int_equal(store_order_ack(f->s, "a", LID_1, false, "container busy"), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.state, "lift-pending");
    assert_string_equal(o.result, "container busy");
    store_order_cleanup(&o);
    assert_last_message(f->s, "a", "quarantine-lift-refused",
                        "order " OID_1 " lift " LID_1 ": " ACTS
                        " container aaaaaaaaaaaa: container busy");

    /* lift-pending -> lifted; duplicates are idempotent */
    assert_int_equal(store_order_ack(f->s, "a", LID_1, true, "resumed"), ATT_OK);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.state, "lifted");
    assert_string_equal(o.result, "resumed");
    assert_true(o.acked_at >= before);
    store_order_cleanup(&o);
    assert_last_message(f->s, "a", "quarantine-lifted",
                        "order " OID_1 " lift " LID_1 ": " ACTS " container aaaaaaaaaaaa: resumed");
    assert_int_equal(store_order_ack(f->s, "a", LID_1, true, "resumed"), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", LID_1, false, "no"), ATT_OK);
    assert_int_equal(count_events(f->s, "a", "quarantine-lifted"), 1);
    assert_int_equal(count_events(f->s, "a", "quarantine-lift-refused"), 1);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_2, lift_env, sizeof(lift_env), "bob", "x"),
                     ATT_ERR_EXISTS);
    assert_order_state(f->s, OID_1, "lifted");
    assert_int_equal(store_orders_due(f->s, "a", 1001, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].id, OID_2);
    store_order_list_free(d, n);

    /* pending and refused orders can be lifted too */
    assert_int_equal(store_order_lift(f->s, OID_2, LID_2, lift_env, sizeof(lift_env), "bob", "x"),
                     ATT_OK);
    assert_order_state(f->s, OID_2, "lift-pending");
    assert_int_equal(count_events(f->s, "a", "quarantine-lift"), 2);
}

static void test_store_order_refused_can_be_lifted(void **state)
{
    struct fx *f = *state;
    struct store_order o = mkorder(OID_1, CID_A, 1000);

    add_host(f->s, "a");
    assert_int_equal(round_with_orders(f->s, "a", 1000, &o, 1), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, false, "no such container"), ATT_OK);
    /* no containers row to clear: still fine */
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "ops", "x"),
                     ATT_OK);
    assert_order_state(f->s, OID_1, "lift-pending");
    assert_int_equal(count_containers(f->s, NULL), 0);
}

/* Orders and their audit trail survive close and reopen, mid-way through their life. */
static void test_store_order_survives_reopen(void **state)
{
    struct fx *f = *state;
    struct store_order in[2] = {mkorder(OID_1, CID_A, 1000), mkorder(OID_2, CID_B, 1000)};
    struct store_order o;
    struct store_order *d = NULL;
    size_t n = 0;

    add_host(f->s, "a");
    assert_int_equal(round_with_orders(f->s, "a", 1000, in, NELEM(in)), ATT_OK);
    assert_int_equal(store_order_sent(f->s, OID_2, 1060), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "ops", "fp"),
                     ATT_OK);
    reopen(f);
    assert_int_equal(store_order_get(f->s, OID_1, &o), ATT_OK);
    assert_string_equal(o.state, "lift-pending");
    assert_string_equal(o.result, "paused");
    assert_string_equal(o.lift_id, LID_1);
    assert_memory_equal(o.lift_envelope, lift_env, sizeof(lift_env));
    assert_memory_equal(o.envelope, order_env, sizeof(order_env));
    store_order_cleanup(&o);
    assert_int_equal(store_order_get(f->s, OID_2, &o), ATT_OK);
    assert_string_equal(o.state, "pending");
    assert_int_equal(o.attempts, 1);
    assert_int_equal(o.next_attempt, 1060);
    store_order_cleanup(&o);
    assert_int_equal(store_orders_due(f->s, "a", 1060, 10, &d, &n), ATT_OK);
    assert_int_equal(n, 2);
    store_order_list_free(d, n);
    assert_int_equal(count_events(f->s, "a", "quarantine-ordered"), 2);
    assert_int_equal(count_events(f->s, "a", "quarantine-enforced"), 1);
    assert_int_equal(count_events(f->s, "a", "quarantine-lift"), 1);
    /* the ack of the lift after the restart */
    assert_int_equal(store_order_ack(f->s, "a", LID_1, true, "resumed"), ATT_OK);
    reopen(f);
    assert_order_state(f->s, OID_1, "lifted");
}

/* Orders are never deleted, never rewritten, and states only move forward. */
static void test_store_orders_history_kept(void **state)
{
    struct fx *f = *state;
    struct store_order o = mkorder(OID_1, CID_A, 1000);

    add_host(f->s, "a");
    assert_int_equal(round_with_orders(f->s, "a", 1000, &o, 1), ATT_OK);
    assert_int_equal(store_order_ack(f->s, "a", OID_1, true, "paused"), ATT_OK);
    assert_int_equal(store_order_lift(f->s, OID_1, LID_1, lift_env, sizeof(lift_env), "ops", "fp"),
                     ATT_OK);
    assert_int_equal(store_host_delete(f->s, "a"), ATT_OK);
    assert_int_equal(count_orders(f->s, NULL, false), 1); /* history outlives the host */
    close_store(f);
    assert_int_equal(raw_exec(f->db, "DELETE FROM orders"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "UPDATE orders SET envelope = x'00'"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "UPDATE orders SET container = '" CID_B "'"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "UPDATE orders SET lifted_by = 'mallory'"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "UPDATE orders SET state = 'pending'"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec(f->db, "UPDATE orders SET state = 'bogus'"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM orders WHERE state = 'lift-pending' "
                                    "AND lifted_by = 'ops'"),
                     1);
    reopen(f);
}

/* A store written by schema v2 is migrated to v3 on open, data kept. */
static void test_store_migrates_v2_to_v3(void **state)
{
    struct fx *f = *state;
    struct store_round r;
    struct store_container c;
    struct store_event ev = mkev("verdict-changed", "pending -> trusted");
    struct store_order o = mkorder(OID_1, CID_A, 1000);
    struct store_host h;

    add_host(f->s, "old");
    memset(&c, 0, sizeof(c));
    c.id = (char *)(uintptr_t)CID_A;
    c.entry = -1;
    make_round(&r, "old", 100, "trusted");
    r.has_state = true;
    r.log_offset = 5;
    r.containers = &c;
    r.n_containers = 1;
    r.events = &ev;
    r.n_events = 1;
    assert_int_equal(store_record_round(f->s, &r), ATT_OK);
    close_store(f);
    assert_int_equal(raw_exec(f->db, "DROP TABLE orders; DROP TABLE vulnfeeds; DROP TABLE "
                                     "inventory_parts; DROP TABLE inventories; DROP TABLE "
                                     "vuln_findings; PRAGMA user_version = 2;"),
                     SQLITE_OK);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'orders%'"),
                     0);
    reopen(f);
    assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION); /* v3 and on */
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM orders"), 0);
    assert_int_equal(raw_int(f->db, "SELECT count(*) FROM vulnfeeds"), 0);
    assert_int_equal(store_host_get(f->s, "old", &h), ATT_OK);
    assert_int_equal(h.log_offset, 5);
    store_host_cleanup(&h);
    assert_int_equal(count_containers(f->s, "old"), 1);
    assert_int_equal(count_verdicts(f->s, "old"), 1);
    assert_int_equal(count_events(f->s, "old", "verdict-changed"), 1);
    assert_int_equal(round_with_orders(f->s, "old", 200, &o, 1), ATT_OK);
    assert_order_state(f->s, OID_1, "pending");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* open: negative */
        cmocka_unit_test_setup_teardown(test_store_open_null_args, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_rekey, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_migrates_v1_to_v2, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_vulnfeed, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_inventory_findings, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_round_containers, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_open_missing_dir_io, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_store_open_second_in_process_exists, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_open_held_by_other_process_exists, setup_dir,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_open_garbage_parse, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_store_open_newer_version_parse, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_open_foreign_database_parse, setup_dir,
                                        teardown),
        /* open: positive */
        cmocka_unit_test_setup_teardown(test_store_open_creates_file_wal, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_store_open_empty_file_migrates, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_store_open_reopen_keeps_data, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_schema_sql_matches_store, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_history_append_only, setup_open, teardown),
        /* hosts */
        cmocka_unit_test_setup_teardown(test_store_host_add_invalid_arg, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_add_duplicate_exists, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_add_unknown_policy_not_found, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_host_get_unknown_not_found, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_host_add_get_roundtrip, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_list_sorted, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_list_corrupt_row, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_delete_keeps_history, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_set_policy, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_host_reset_state, setup_open, teardown),
        /* rounds */
        cmocka_unit_test_setup_teardown(test_store_record_round_invalid_arg, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_record_round_unknown_host_writes_nothing,
                                        setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_record_round_updates_state, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_record_round_without_state_keeps_state,
                                        setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_fault_set_and_cleared, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_record_round_rolls_back_on_failure, setup_open,
                                        teardown),
        /* events, verdicts */
        cmocka_unit_test_setup_teardown(test_store_event_add_invalid_arg, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_events_list_filters, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_events_list_limit_capped, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_verdicts_list_paging, setup_open, teardown),
        /* policies, tokens */
        cmocka_unit_test_setup_teardown(test_store_policy_put_get_list, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_token_add_find, setup_open, teardown),
        /* durability, concurrency */
        cmocka_unit_test_setup_teardown(test_store_record_round_survives_exit_without_close,
                                        setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_record_round_survives_sigkill, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_concurrent_rounds, setup_open, teardown),
        /* quarantine orders */
        cmocka_unit_test_setup_teardown(test_store_migrates_v2_to_v3, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_order_round_invalid_arg, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_order_round_writes_outbox, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_order_round_rolls_back, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_order_open_unique, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_orders_due_sent_backoff, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_orders_due_expires, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_order_ack_expired_superseded, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_order_ack_transitions, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_order_lift_transitions, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_order_refused_can_be_lifted, setup_open,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_order_survives_reopen, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_store_orders_history_kept, setup_open, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
