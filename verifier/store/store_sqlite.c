/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend of the verifier store (store.h, DESIGN §8): one database
 * file in WAL mode with synchronous=FULL, so a committed round survives a
 * crash; an flock()ed PATH.lock makes one process its owner; PRAGMA
 * user_version numbers the schema and migrations[] lifts older files to it.
 * It does not validate policy JSON, hash token secrets or decide verdicts:
 * callers pass checked values. Contract and schema: docs/internals/store.md.
 * SQL dialect and file format: sqlite.org/lang.html, sqlite.org/fileformat2.html.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "attest/log.h"
#include "attest/pcrs.h"
#include "attest/appraise.h"
#include "attest/inventory.h"
#include "attest/util.h"

/* "ATST" in the database header's application_id: marks the file as ours. */
#define STORE_APP_ID   0x41545354
#define STORE_LIST_MAX 1000u
#define STORE_BUSY_MS  5000

/* Quarantine orders (schema v3); the limits follow proto.h (ATT_ORDER_*, ATT_PROTO_MAX_*). */
#define ORDER_ID_LEN        32 /* lower-case hex of 128 bits */
#define ORDER_CONTAINER_LEN 64 /* lower-case hex */
#define ORDER_ENV_MAX       4096u
#define ORDER_TEXT_MAX      1024u /* reason, lift reason, the agent's result */
#define ORDER_BY_MAX        256u
#define ORDER_ACTIONS_MAX   64u
#define ORDER_LIST_MAX      10000u
#define ORDER_OPEN          "('pending', 'enforced', 'refused', 'lift-pending')"

/*
 * Prepared statements are kept per SQL text (SQLITE_PREPARE_PERSISTENT) and
 * reset on release: the poller runs the same dozen statements for every host
 * every round, and parsing them was a quarter of its CPU (bench_fleet).
 */
#define STMT_CACHE 96

struct stmt_slot {
    char *sql; /* owned copy of the text */
    sqlite3_stmt *st;
    bool in_use;
};

struct store {
    sqlite3 *db;
    pthread_mutex_t mu; /* held around every public call that touches db */
    bool has_mu;
    int lock_fd; /* PATH.lock, flock(LOCK_EX) held while open */
    char *path;
    struct stmt_slot cache[STMT_CACHE];
    size_t n_cache;
    char fault[320]; /* the first storage fault since the last commit, or "" */
    time_t fault_at;
};

/*
 * Migrations, oldest first. Entry i lifts a database from user_version i to
 * i + 1 and runs in its own transaction together with the user_version bump,
 * so a crash leaves the file at either version, never between. Never edit a
 * released entry: add a new one and raise STORE_SCHEMA_VERSION in store.h.
 * verifier/store/schema.sql is a copy of the cumulative schema; test_store
 * checks that the two agree.
 */
static const char schema_v1[] =
    "PRAGMA application_id = 1096045396;\n"
    "CREATE TABLE policies (\n"
    "    id         INTEGER PRIMARY KEY,\n"
    "    name       TEXT NOT NULL UNIQUE,\n"
    "    json       TEXT NOT NULL,\n"
    "    created_at INTEGER NOT NULL,\n"
    "    updated_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE hosts (\n"
    "    id               INTEGER PRIMARY KEY,\n"
    "    name             TEXT NOT NULL UNIQUE,\n"
    "    agent_url        TEXT NOT NULL,\n"
    "    ek_alg           TEXT NOT NULL CHECK (ek_alg IN ('rsa', 'ecc')),\n"
    "    ek_pub           BLOB NOT NULL,\n"
    "    ek_cert          BLOB,\n"
    "    ak_pub           BLOB NOT NULL,\n"
    "    ak_name          TEXT NOT NULL,\n"
    "    meas_pcr         INTEGER NOT NULL CHECK (meas_pcr BETWEEN 0 AND 23),\n"
    "    policy           TEXT REFERENCES policies (name) ON UPDATE RESTRICT ON DELETE RESTRICT,\n"
    "    enrolled_at      INTEGER NOT NULL,\n"
    "    boot_id          TEXT,\n"
    "    reset_count      INTEGER NOT NULL DEFAULT 0,\n"
    "    restart_count    INTEGER NOT NULL DEFAULT 0,\n"
    "    log_offset       INTEGER NOT NULL DEFAULT 0,\n"
    "    pcr_value        BLOB NOT NULL DEFAULT (zeroblob(32)) CHECK (length(pcr_value) = 32),\n"
    "    verdict          TEXT NOT NULL DEFAULT 'pending',\n"
    "    verdict_reason   TEXT,\n"
    "    last_attested_at INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX hosts_policy ON hosts (policy);\n"
    "CREATE TABLE verdicts (\n"
    "    id            INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    at            INTEGER NOT NULL,\n"
    "    host          TEXT NOT NULL,\n"
    "    verdict       TEXT NOT NULL,\n"
    "    reason        TEXT,\n"
    "    findings_json TEXT NOT NULL DEFAULT '[]',\n"
    "    log_from      INTEGER NOT NULL,\n"
    "    log_to        INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX verdicts_host_id ON verdicts (host, id);\n"
    "CREATE TABLE events (\n"
    "    id      INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    at      INTEGER NOT NULL,\n"
    "    host    TEXT,\n"
    "    kind    TEXT NOT NULL,\n"
    "    message TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX events_host_id ON events (host, id);\n"
    "CREATE INDEX events_kind_id ON events (kind, id);\n"
    "CREATE TABLE tokens (\n"
    "    id         INTEGER PRIMARY KEY,\n"
    "    name       TEXT NOT NULL UNIQUE,\n"
    "    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),\n"
    "    hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),\n"
    "    created_at INTEGER NOT NULL\n"
    ");\n"
    "CREATE TRIGGER verdicts_no_update BEFORE UPDATE ON verdicts\n"
    "BEGIN SELECT RAISE(ABORT, 'verdicts are append-only'); END;\n"
    "CREATE TRIGGER verdicts_no_delete BEFORE DELETE ON verdicts\n"
    "BEGIN SELECT RAISE(ABORT, 'verdicts are append-only'); END;\n"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n"
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;\n";

/* v2: per-container verdicts, replaced as a whole by each trusted round. */
static const char schema_v2[] = "CREATE TABLE containers (\n"
                                "    host       TEXT NOT NULL,\n"
                                "    id         TEXT NOT NULL CHECK (length(id) = 64),\n"
                                "    image      TEXT NOT NULL DEFAULT '',\n"
                                "    policy     TEXT NOT NULL DEFAULT '',\n"
                                "    failed     INTEGER NOT NULL CHECK (failed IN (0, 1)),\n"
                                "    code       TEXT NOT NULL DEFAULT '',\n"
                                "    reason     TEXT NOT NULL DEFAULT '',\n"
                                "    entry      INTEGER NOT NULL DEFAULT -1,\n"
                                "    updated_at INTEGER NOT NULL,\n"
                                "    PRIMARY KEY (host, id)\n"
                                ");\n";

/*
 * v3: the outbox of quarantine orders (DESIGN §6). Rows are never deleted;
 * what an order says (id ... envelope) and a lift once recorded are never
 * rewritten, and state moves only along the edges in store.h. At most one
 * open order per container (orders_open), and a lift id is unique.
 */
static const char schema_v3[] =
    "CREATE TABLE orders (\n"
    "    id            TEXT PRIMARY KEY CHECK (length(id) = 32),\n"
    "    host          TEXT NOT NULL,\n"
    "    container     TEXT NOT NULL CHECK (length(container) = 64),\n"
    "    image         TEXT NOT NULL DEFAULT '',\n"
    "    actions       TEXT NOT NULL,\n"
    "    reason        TEXT NOT NULL,\n"
    "    issued_at     INTEGER NOT NULL,\n"
    "    expires_at    INTEGER NOT NULL,\n"
    "    envelope      BLOB NOT NULL,\n"
    "    state         TEXT NOT NULL CHECK (state IN ('pending', 'enforced', 'refused', "
    "'lift-pending', 'lifted', 'expired')),\n"
    "    result        TEXT NOT NULL DEFAULT '',\n"
    "    attempts      INTEGER NOT NULL DEFAULT 0,\n"
    "    next_attempt  INTEGER NOT NULL DEFAULT 0,\n"
    "    acked_at      INTEGER,\n"
    "    lift_id       TEXT CHECK (lift_id IS NULL OR length(lift_id) = 32),\n"
    "    lift_envelope BLOB,\n"
    "    lifted_by     TEXT,\n"
    "    lift_reason   TEXT,\n"
    "    lifted_at     INTEGER\n"
    ");\n"
    "CREATE UNIQUE INDEX orders_open ON orders (host, container) WHERE state IN ('pending', "
    "'enforced', 'refused', 'lift-pending');\n"
    "CREATE INDEX orders_host ON orders (host, state);\n"
    "CREATE UNIQUE INDEX orders_lift_id ON orders (lift_id) WHERE lift_id IS NOT NULL;\n"
    "CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders\n"
    "BEGIN SELECT RAISE(ABORT, 'orders are never deleted'); END;\n"
    "CREATE TRIGGER orders_fixed BEFORE UPDATE OF id, host, container, image, actions, reason, "
    "issued_at, expires_at, envelope ON orders\n"
    "BEGIN SELECT RAISE(ABORT, 'an order is never rewritten'); END;\n"
    "CREATE TRIGGER orders_lift_fixed BEFORE UPDATE OF lift_id, lift_envelope, lifted_by, "
    "lift_reason, lifted_at ON orders WHEN OLD.lift_id IS NOT NULL\n"
    "BEGIN SELECT RAISE(ABORT, 'a lift is never rewritten'); END;\n"
    "CREATE TRIGGER orders_state BEFORE UPDATE OF state ON orders WHEN NOT (\n"
    "    NEW.state = OLD.state\n"
    "    OR (OLD.state = 'pending' AND NEW.state IN ('enforced', 'refused', 'expired', "
    "'lift-pending'))\n"
    "    OR (OLD.state IN ('enforced', 'refused', 'expired') AND NEW.state = 'lift-pending')\n"
    "    OR (OLD.state = 'expired' AND NEW.state = 'enforced')\n"
    "    OR (OLD.state = 'lift-pending' AND NEW.state = 'lifted'))\n"
    "BEGIN SELECT RAISE(ABORT, 'no such order state change'); END;\n";

/*
 * v4: the image vulnerability gate (issue 8). vulnfeeds keeps every imported
 * feed (canonical text, attest/vulndb.h) and is append-only: the current feed
 * is the newest row. inventory_parts holds "packages:<id>" records until all
 * parts of an inventory have arrived; inventories the assembled, digest-checked
 * inventory of each container; vuln_findings what the current feed finds in
 * it, as of the judgement named by inventories.judged.
 */
static const char schema_v4[] =
    "CREATE TABLE vulnfeeds (\n"
    "    id            INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    digest        TEXT NOT NULL UNIQUE CHECK (length(digest) = 64),\n"
    "    source        TEXT NOT NULL,\n"
    "    source_digest TEXT NOT NULL CHECK (length(source_digest) = 64),\n"
    "    feed_time     INTEGER NOT NULL,\n"
    "    imported_at   INTEGER NOT NULL,\n"
    "    imported_by   TEXT NOT NULL,\n"
    "    n_entries     INTEGER NOT NULL CHECK (n_entries >= 0),\n"
    "    body          BLOB NOT NULL\n"
    ");\n"
    "CREATE TRIGGER vulnfeeds_no_update BEFORE UPDATE ON vulnfeeds\n"
    "BEGIN SELECT RAISE(ABORT, 'feeds are append-only'); END;\n"
    "CREATE TRIGGER vulnfeeds_no_delete BEFORE DELETE ON vulnfeeds\n"
    "BEGIN SELECT RAISE(ABORT, 'feeds are append-only'); END;\n"
    "CREATE TABLE inventory_parts (\n"
    "    host      TEXT NOT NULL,\n"
    "    container TEXT NOT NULL CHECK (length(container) = 64),\n"
    "    digest    TEXT NOT NULL CHECK (length(digest) = 64),\n"
    "    part      INTEGER NOT NULL CHECK (part >= 1),\n"
    "    n         INTEGER NOT NULL CHECK (n >= part AND n <= 1024),\n"
    "    body      BLOB NOT NULL,\n"
    "    PRIMARY KEY (host, container, digest, part)\n"
    ");\n"
    "CREATE TABLE inventories (\n"
    "    host       TEXT NOT NULL,\n"
    "    container  TEXT NOT NULL CHECK (length(container) = 64),\n"
    "    digest     TEXT NOT NULL CHECK (length(digest) = 64),\n"
    "    image      TEXT NOT NULL DEFAULT '',\n"
    "    ecosystem  TEXT NOT NULL DEFAULT '',\n"
    "    n_packages INTEGER NOT NULL,\n"
    "    body       TEXT NOT NULL,\n"
    "    unjudgeable TEXT NOT NULL DEFAULT '',\n"
    "    judged     TEXT NOT NULL DEFAULT '',\n"
    "    recheck_at INTEGER NOT NULL DEFAULT 0,\n"
    "    updated_at INTEGER NOT NULL,\n"
    "    PRIMARY KEY (host, container)\n"
    ");\n"
    "CREATE INDEX inventories_image ON inventories (image);\n"
    "CREATE TABLE vuln_findings (\n"
    "    host           TEXT NOT NULL,\n"
    "    container      TEXT NOT NULL CHECK (length(container) = 64),\n"
    "    image          TEXT NOT NULL DEFAULT '',\n"
    "    vuln_id        TEXT NOT NULL,\n"
    "    aliases        TEXT NOT NULL DEFAULT '',\n"
    "    package        TEXT NOT NULL,\n"
    "    version        TEXT NOT NULL,\n"
    "    source         TEXT NOT NULL,\n"
    "    source_version TEXT NOT NULL,\n"
    "    fixed          TEXT NOT NULL DEFAULT '',\n"
    "    severity       TEXT NOT NULL,\n"
    "    over_bar       INTEGER NOT NULL CHECK (over_bar IN (0, 1)),\n"
    "    allowed        INTEGER NOT NULL CHECK (allowed IN (0, 1)),\n"
    "    feed           TEXT NOT NULL,\n"
    "    found_at       INTEGER NOT NULL,\n"
    "    PRIMARY KEY (host, container, vuln_id, package)\n"
    ");\n"
    "CREATE INDEX vuln_findings_image ON vuln_findings (image);\n";

struct migration {
    int version; /* user_version after this step */
    const char *sql;
};

static const struct migration migrations[] = {
    {1, schema_v1},
    {2, schema_v2},
    {3, schema_v3},
    {4, schema_v4},
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

#define HOST_COLS                                                                                  \
    "id, name, agent_url, ek_alg, ek_pub, ek_cert, ak_pub, ak_name, meas_pcr, policy, "            \
    "enrolled_at, boot_id, reset_count, restart_count, log_offset, pcr_value, verdict, "           \
    "verdict_reason, last_attested_at"

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/*
 * Map an (extended) SQLite result code onto att_rc. ATT_ERR_PARSE is kept for
 * "this file is not an attest store" (NOTADB); a damaged store is
 * ATT_ERR_IO, so an API layer never reports storage trouble as bad input.
 */
static att_rc map_sqlite(int src)
{
    switch (src & 0xff) {
    case SQLITE_CONSTRAINT:
        if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return ATT_ERR_EXISTS;
        }
        if (src == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return ATT_ERR_NOT_FOUND;
        }
        if (src == SQLITE_CONSTRAINT_CHECK || src == SQLITE_CONSTRAINT_NOTNULL) {
            return ATT_ERR_INVALID_ARG;
        }
        return ATT_ERR_INTERNAL; /* a trigger: something tried to rewrite history */
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ATT_ERR_IO;
    case SQLITE_NOMEM:
        return ATT_ERR_NOMEM;
    case SQLITE_NOTADB:
        return ATT_ERR_PARSE;
    case SQLITE_CORRUPT:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
        return ATT_ERR_IO;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return ATT_ERR_INVALID_ARG;
    default:
        return ATT_ERR_INTERNAL;
    }
}

/*
 * Log the connection's last error once, naming the caller, and map it. Must
 * run right after the failing call, before anything else resets the
 * connection's error message. A unique or foreign-key violation is the
 * caller's conflict (a duplicate or unknown name), not a storage fault, so it
 * is only a warning.
 */
static att_rc db_fail(struct store *s, const char *func, int src)
{
    att_rc rc = map_sqlite(src);

    if (rc == ATT_ERR_EXISTS || rc == ATT_ERR_NOT_FOUND || rc == ATT_ERR_INVALID_ARG) {
        LOG_WARN("%s: %s (sqlite %d)", func, sqlite3_errmsg(s->db), src);
    } else {
        LOG_ERR("%s: %s: %s (sqlite %d)", s->path, func, sqlite3_errmsg(s->db), src);
        if (s->fault[0] == '\0') {
            (void)snprintf(s->fault, sizeof(s->fault), "%s (sqlite %d)", sqlite3_errmsg(s->db),
                           src);
            s->fault_at = time(NULL);
        }
    }
    return rc;
}

static att_rc prepare(struct store *s, const char *func, const char *sql, sqlite3_stmt **st)
{
    int src;
    size_t i;

    for (i = 0; i < s->n_cache; i++) {
        if (!s->cache[i].in_use && strcmp(s->cache[i].sql, sql) == 0) {
            s->cache[i].in_use = true;
            *st = s->cache[i].st;
            return ATT_OK;
        }
    }
    src = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (src != SQLITE_OK) {
        *st = NULL;
        return db_fail(s, func, src);
    }
    if (s->n_cache < STMT_CACHE) {
        char *copy = strdup(sql);

        if (copy != NULL) {
            s->cache[s->n_cache].sql = copy;
            s->cache[s->n_cache].st = *st;
            s->cache[s->n_cache].in_use = true;
            s->n_cache++;
        }
    }
    return ATT_OK;
}

/* Done with @p st (may be NULL): a cached statement is reset for the next use. */
static void release(struct store *s, sqlite3_stmt *st)
{
    size_t i;

    if (st == NULL) {
        return;
    }
    for (i = 0; i < s->n_cache; i++) {
        if (s->cache[i].st == st) {
            (void)sqlite3_reset(st);
            (void)sqlite3_clear_bindings(st);
            s->cache[i].in_use = false;
            return;
        }
    }
    (void)sqlite3_finalize(st);
}

/* Step @p st until it is done; rows, if any, are ignored. */
static att_rc step_done(struct store *s, const char *func, sqlite3_stmt *st)
{
    int src;

    do {
        src = sqlite3_step(st);
    } while (src == SQLITE_ROW);
    if (src != SQLITE_DONE) {
        return db_fail(s, func, src);
    }
    if (!sqlite3_stmt_readonly(st) && sqlite3_get_autocommit(s->db) != 0 &&
        sqlite3_changes64(s->db) > 0) {
        /* a write outside a transaction landed (COMMIT: txn_commit); one that
         * changed no row wrote nothing and proves nothing */
        s->fault[0] = '\0';
    }
    return ATT_OK;
}

/*
 * Run constant SQL (one statement or a script) with no parameters: pragmas,
 * transaction control and migrations. Never pass text that holds user data.
 */
static att_rc exec_sql(struct store *s, const char *func, const char *sql)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    const char *tail = sql;

    while (*tail != '\0') {
        const char *next = NULL;
        int src = sqlite3_prepare_v2(s->db, tail, -1, &st, &next);

        if (src != SQLITE_OK) {
            st = NULL;
            rc = db_fail(s, func, src);
            goto out;
        }
        if (st != NULL) {
            rc = step_done(s, func, st);
            (void)sqlite3_finalize(st);
            st = NULL;
            if (rc != ATT_OK) {
                goto out;
            }
        }
        tail = next;
    }
    rc = ATT_OK;
out:
    (void)sqlite3_finalize(st);
    return rc;
}

/*
 * One constant statement through the statement cache: for the transaction
 * control every write runs (the poller runs it per host per round), not for
 * pragmas, which SQLite applies when it prepares them.
 */
static att_rc exec_cached(struct store *s, const char *func, const char *sql)
{
    sqlite3_stmt *st = NULL;
    att_rc rc = prepare(s, func, sql, &st);

    if (rc != ATT_OK) {
        return rc;
    }
    rc = step_done(s, func, st);
    release(s, st);
    return rc;
}

static att_rc txn_begin(struct store *s, const char *func)
{
    /* IMMEDIATE takes the write lock now, so the transaction cannot fail later with BUSY. */
    return exec_cached(s, func, "BEGIN IMMEDIATE");
}

static att_rc txn_commit(struct store *s, const char *func)
{
    att_rc rc = exec_cached(s, func, "COMMIT");

    if (rc == ATT_OK) {
        s->fault[0] = '\0'; /* the store takes writes again */
    }
    return rc;
}

/*
 * Roll back if a transaction is still open. After some errors (I/O, disk
 * full) SQLite has already rolled back by itself; then there is nothing to do.
 */
static void txn_rollback(struct store *s, const char *func)
{
    if (sqlite3_get_autocommit(s->db) == 0) {
        (void)exec_sql(s, func, "ROLLBACK");
    }
}

static void store_lock(struct store *s)
{
    (void)pthread_mutex_lock(&s->mu);
}

static void store_unlock(struct store *s)
{
    (void)pthread_mutex_unlock(&s->mu);
}

bool store_fault(struct store *s, char *why, size_t why_len, time_t *since)
{
    bool bad;

    if (s == NULL) {
        return false;
    }
    store_lock(s);
    bad = s->fault[0] != '\0';
    if (bad && why != NULL && why_len > 0) {
        (void)snprintf(why, why_len, "%s", s->fault);
    }
    if (bad && since != NULL) {
        *since = s->fault_at;
    }
    store_unlock(s);
    return bad;
}

/* ------------------------------------------------------------------------ */
/* Binding parameters and reading columns                                    */

/*
 * Binds parameters in order (?1, ?2, ...). The first failure sticks and the
 * later binds are skipped, so a call site binds everything, then checks once
 * with bind_check(). Values are bound SQLITE_STATIC: every statement is
 * finalized before the public call returns, while the inputs still live.
 */
struct binder {
    sqlite3_stmt *st;
    int idx;
    int src;
};

static void binder_init(struct binder *b, sqlite3_stmt *st)
{
    b->st = st;
    b->idx = 0;
    b->src = SQLITE_OK;
}

/* NULL binds SQL NULL. */
static void bind_text(struct binder *b, const char *v)
{
    b->idx++;
    if (b->src != SQLITE_OK) {
        return;
    }
    if (v == NULL) {
        b->src = sqlite3_bind_null(b->st, b->idx);
    } else {
        b->src = sqlite3_bind_text(b->st, b->idx, v, -1, SQLITE_STATIC);
    }
}

/* NULL or zero length binds SQL NULL. */
static void bind_blob(struct binder *b, const uint8_t *v, size_t len)
{
    b->idx++;
    if (b->src != SQLITE_OK) {
        return;
    }
    if (v == NULL || len == 0) {
        b->src = sqlite3_bind_null(b->st, b->idx);
    } else {
        b->src = sqlite3_bind_blob64(b->st, b->idx, v, (sqlite3_uint64)len, SQLITE_STATIC);
    }
}

static void bind_i64(struct binder *b, int64_t v)
{
    b->idx++;
    if (b->src != SQLITE_OK) {
        return;
    }
    b->src = sqlite3_bind_int64(b->st, b->idx, (sqlite3_int64)v);
}

/*
 * SQLite integers are signed 64-bit. A uint64_t (log positions, which come
 * from the agent) is stored as its two's-complement bit pattern and read back
 * by col_u64(), so every value round-trips and none is refused: refusing a
 * round over its bookkeeping would leave a stale verdict in place.
 */
static void bind_u64(struct binder *b, uint64_t v)
{
    bind_i64(b, (int64_t)v);
}

static att_rc bind_check(struct store *s, const char *func, const struct binder *b)
{
    if (b->src != SQLITE_OK) {
        return db_fail(s, func, b->src);
    }
    return ATT_OK;
}

/*
 * Prepare @p sql and bind ?1 = @p host, ?2 = @p container (either may be
 * NULL, bound as NULL). On failure *st may still need release().
 */
static att_rc prepare_host_container(struct store *s, const char *func, const char *sql,
                                     const char *host, const char *container, sqlite3_stmt **st)
{
    struct binder b;
    att_rc rc = prepare(s, func, sql, st);

    if (rc != ATT_OK) {
        return rc;
    }
    binder_init(&b, *st);
    bind_text(&b, host);
    bind_text(&b, container);
    return bind_check(s, func, &b);
}

/*
 * Reads the columns of the current row in order, copying text and blobs into
 * malloc'ed storage. The first failure sticks (rc); a value that the schema
 * should have made impossible (a negative count, a short PCR) is logged as
 * corruption and gives ATT_ERR_IO.
 */
struct reader {
    sqlite3_stmt *st;
    int col;
    att_rc rc;
};

static void reader_init(struct reader *r, sqlite3_stmt *st)
{
    r->st = st;
    r->col = 0;
    r->rc = ATT_OK;
}

static void reader_corrupt(struct reader *r, const char *why)
{
    LOG_ERR("corrupt row: column %d (%s): %s", r->col,
            sqlite3_column_name(r->st, r->col) != NULL ? sqlite3_column_name(r->st, r->col) : "?",
            why);
    r->rc = ATT_ERR_IO;
}

/* NULL column gives NULL. */
static void col_text(struct reader *r, char **dst)
{
    const unsigned char *p;
    int n;
    char *copy;

    *dst = NULL;
    if (r->rc == ATT_OK && sqlite3_column_type(r->st, r->col) != SQLITE_NULL) {
        /* text first, then bytes: the order the SQLite docs prescribe */
        p = sqlite3_column_text(r->st, r->col);
        n = sqlite3_column_bytes(r->st, r->col);
        if (p == NULL || n < 0) {
            LOG_ERR("out of memory reading column %d", r->col);
            r->rc = ATT_ERR_NOMEM;
        } else {
            copy = malloc((size_t)n + 1);
            if (copy == NULL) {
                r->rc = ATT_ERR_NOMEM;
            } else {
                memcpy(copy, p, (size_t)n);
                copy[n] = '\0';
                *dst = copy;
            }
        }
    }
    r->col++;
}

/* NULL column or an empty blob gives NULL, 0. */
static void col_blob(struct reader *r, uint8_t **dst, size_t *len)
{
    const void *p;
    int n;
    uint8_t *copy;

    *dst = NULL;
    *len = 0;
    if (r->rc == ATT_OK && sqlite3_column_type(r->st, r->col) != SQLITE_NULL) {
        p = sqlite3_column_blob(r->st, r->col);
        n = sqlite3_column_bytes(r->st, r->col);
        if (n < 0 || (p == NULL && n > 0)) {
            LOG_ERR("out of memory reading column %d", r->col);
            r->rc = ATT_ERR_NOMEM;
        } else if (n > 0) {
            copy = malloc((size_t)n);
            if (copy == NULL) {
                r->rc = ATT_ERR_NOMEM;
            } else {
                memcpy(copy, p, (size_t)n);
                *dst = copy;
                *len = (size_t)n;
            }
        }
    }
    r->col++;
}

static void col_fixed(struct reader *r, uint8_t *dst, size_t len)
{
    const void *p;
    int n;

    if (r->rc == ATT_OK) {
        p = sqlite3_column_blob(r->st, r->col);
        n = sqlite3_column_bytes(r->st, r->col);
        if (p == NULL || n < 0 || (size_t)n != len) {
            reader_corrupt(r, "wrong blob length");
        } else {
            memcpy(dst, p, len);
        }
    }
    r->col++;
}

static void col_i64(struct reader *r, int64_t *dst)
{
    *dst = 0;
    if (r->rc == ATT_OK) {
        *dst = (int64_t)sqlite3_column_int64(r->st, r->col);
    }
    r->col++;
}

/* The inverse of bind_u64(): every uint64_t value round-trips. */
static void col_u64(struct reader *r, uint64_t *dst)
{
    *dst = 0;
    if (r->rc == ATT_OK) {
        *dst = (uint64_t)sqlite3_column_int64(r->st, r->col);
    }
    r->col++;
}

static void col_u32(struct reader *r, uint32_t *dst)
{
    sqlite3_int64 v;

    *dst = 0;
    if (r->rc == ATT_OK) {
        v = sqlite3_column_int64(r->st, r->col);
        if (v < 0 || v > (sqlite3_int64)UINT32_MAX) {
            reader_corrupt(r, "out of uint32 range");
        } else {
            *dst = (uint32_t)v;
        }
    }
    r->col++;
}

/* ------------------------------------------------------------------------ */
/* Input checks                                                              */

static bool is_name(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static bool verdict_valid(const char *v)
{
    return v != NULL && (strcmp(v, "pending") == 0 || strcmp(v, "trusted") == 0 ||
                         strcmp(v, "untrusted") == 0 || strcmp(v, "unreachable") == 0);
}

static bool role_valid(const char *r)
{
    return r != NULL &&
           (strcmp(r, "viewer") == 0 || strcmp(r, "operator") == 0 || strcmp(r, "admin") == 0);
}

/* A container image reference as orders carry it: "" or "sha256:<64 hex>". */
static bool image_ok(const char *s)
{
    return s == NULL || s[0] == '\0' ||
           (strncmp(s, "sha256:", 7) == 0 && att_lower_hex(s + 7, 64, 64));
}

/*
 * An action list: comma-separated words of [a-z-], no empty word, at most
 * ORDER_ACTIONS_MAX bytes. Which words exist is the protocol's business
 * (att_order_actions_parse); the store only keeps the text well-formed.
 */
static bool actions_ok(const char *s)
{
    size_t len;
    size_t i;

    if (s == NULL) {
        return false;
    }
    len = strnlen(s, ORDER_ACTIONS_MAX + 1);
    if (len == 0 || len > ORDER_ACTIONS_MAX || s[0] == ',' || s[len - 1] == ',') {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (s[i] == ',') {
            if (s[i + 1] == ',') {
                return false;
            }
        } else if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-')) {
            return false;
        }
    }
    return true;
}

/* A signed order envelope: 1..ORDER_ENV_MAX bytes (ATT_PROTO_MAX_ORDER). */
static bool envelope_ok(const uint8_t *p, size_t len)
{
    return p != NULL && len >= 1 && len <= ORDER_ENV_MAX;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ------------------------------------------------------------------------ */
/* Open, identity, migrations, close                                         */

/*
 * Take the one-owner lock: flock(LOCK_EX | LOCK_NB) on PATH.lock. flock locks
 * belong to the open file description, so a second store_open() in the same
 * process conflicts as well, and the kernel drops the lock when the owner
 * dies, however it dies. The file stays on close: unlinking a lock file races
 * with the next opener.
 */
static att_rc take_lock(struct store *s)
{
    att_rc rc = ATT_ERR_IO;
    char lock_path[PATH_MAX];
    int n = snprintf(lock_path, sizeof(lock_path), "%s.lock", s->path);

    if (n < 0 || (size_t)n >= sizeof(lock_path)) {
        LOG_ERR("store path too long: %s", s->path);
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0) {
        LOG_ERR("cannot open lock file %s: %s", lock_path, strerror(errno));
        goto out;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            LOG_ERR("store %s is in use: %s is locked by another verifier", s->path, lock_path);
            rc = ATT_ERR_EXISTS;
        } else {
            LOG_ERR("cannot lock %s: %s", lock_path, strerror(errno));
        }
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

/*
 * SQLite would create a missing database with 0644 & ~umask. A store holds
 * enrolment keys and token hashes, so create it 0600 first (SQLite gives the
 * -wal and -shm files the database's mode) and make the new name durable.
 * Call only with the flock held: close() drops every POSIX lock this process
 * holds on the file, which would break the locks of another SQLite
 * connection to it in this process; the flock guarantees there is none.
 */
static att_rc create_db_file(struct store *s)
{
    att_rc rc = ATT_ERR_IO;
    int fd = -1;
    bool created = false;
    struct stat st;

    fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        created = true;
    } else if (errno == EEXIST) {
        fd = open(s->path, O_RDWR | O_CLOEXEC);
    }
    if (fd < 0) {
        LOG_ERR("cannot open %s: %s", s->path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        LOG_ERR("cannot stat %s: %s", s->path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        LOG_ERR("%s is not a regular file", s->path);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        LOG_WARN("%s is accessible to group or others (mode %03o); it should be 0600", s->path,
                 (unsigned)(st.st_mode & 0777));
    }
    if (created) {
        rc = att_fsync_dir_of(s->path);
        if (rc != ATT_OK) {
            LOG_ERR("cannot fsync the directory of %s", s->path);
            goto out;
        }
    }
    rc = ATT_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    return rc;
}

/* Run a one-value query (a pragma or count); errors are logged as coming from @p func. */
static att_rc query_int(struct store *s, const char *func, const char *sql, int64_t *val)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    int src;

    rc = prepare(s, func, sql, &st);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        LOG_ERR("%s: %s: \"%s\" returned no value", s->path, func, sql);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, func, src);
        goto out;
    }
    *val = (int64_t)sqlite3_column_int64(st, 0);
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

/*
 * Is this file an attest store (or empty), and at which schema version? The
 * first read of the file happens here, so a file that is not SQLite fails
 * with NOTADB -> ATT_ERR_PARSE. Another application's SQLite database is
 * refused rather than having our tables added to it.
 */
static att_rc check_identity(struct store *s, int64_t *version)
{
    att_rc rc = ATT_ERR_INTERNAL;
    int64_t app_id = 0;
    int64_t objects = 0;

    rc = query_int(s, "store_open", "PRAGMA application_id", &app_id);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = query_int(s, "store_open", "PRAGMA user_version", version);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = query_int(s, "store_open", "SELECT count(*) FROM sqlite_master", &objects);
    if (rc != ATT_OK) {
        goto out;
    }
    if (app_id != STORE_APP_ID && (app_id != 0 || *version != 0 || objects != 0)) {
        LOG_ERR("%s is an SQLite database but not an attest store (application_id 0x%08" PRIx64
                ", user_version %" PRId64 ", %" PRId64 " schema objects)",
                s->path, (uint64_t)app_id & 0xffffffffu, *version, objects);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if (*version > STORE_SCHEMA_VERSION) {
        LOG_ERR("%s: database schema version %" PRId64 " is newer than this verifier (%d)", s->path,
                *version, STORE_SCHEMA_VERSION);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if (*version < 0) {
        LOG_ERR("%s: invalid schema version %" PRId64, s->path, *version);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

/*
 * Connection settings. WAL with synchronous=FULL fsyncs the WAL at every
 * commit, so a verdict or event acknowledged to a caller survives a power
 * loss (NORMAL could lose the last commits). foreign_keys and synchronous are
 * per connection, so they are set on every open and read back to be sure
 * this SQLite honours them.
 */
static att_rc configure(struct store *s)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    const unsigned char *mode;
    int64_t v = 0;
    int src;

    rc = prepare(s, __func__, "PRAGMA journal_mode = WAL", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    mode = sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        LOG_ERR("%s: cannot switch to WAL mode (journal_mode is %s)", s->path,
                mode != NULL ? (const char *)mode : "?");
        rc = ATT_ERR_IO;
        goto out;
    }
    rc = exec_sql(s, __func__, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
    if (rc != ATT_OK) {
        goto out;
    }
    rc = query_int(s, __func__, "PRAGMA synchronous", &v);
    if (rc != ATT_OK) {
        goto out;
    }
    if (v != 2) {
        LOG_ERR("%s: synchronous is %" PRId64 ", not FULL", s->path, v);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    rc = query_int(s, __func__, "PRAGMA foreign_keys", &v);
    if (rc != ATT_OK) {
        goto out;
    }
    if (v != 1) {
        LOG_ERR("%s: this SQLite does not enforce foreign keys", s->path);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

static att_rc apply_migration(struct store *s, const struct migration *m)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char set_version[64];
    int n;

    /* PRAGMA takes no bound parameters; the number is a compile-time constant. */
    n = snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d", m->version);
    if (n < 0 || (size_t)n >= sizeof(set_version)) {
        goto out;
    }
    rc = txn_begin(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = exec_sql(s, __func__, m->sql);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = exec_sql(s, __func__, set_version);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = txn_commit(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    LOG_INFO("%s: schema migrated to version %d", s->path, m->version);
    rc = ATT_OK;
out:
    if (rc != ATT_OK) {
        LOG_ERR("%s: migration to schema version %d failed", s->path, m->version);
        txn_rollback(s, __func__);
    }
    return rc;
}

static att_rc migrate(struct store *s, int64_t from)
{
    att_rc rc = ATT_ERR_INTERNAL;
    size_t i;

    for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
        if (migrations[i].version != (int)i + 1) {
            LOG_ERR("migration table out of order at entry %zu", i);
            rc = ATT_ERR_INTERNAL;
            goto out;
        }
        if (migrations[i].version <= from) {
            continue;
        }
        rc = apply_migration(s, &migrations[i]);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    return rc;
}

/* Release everything @p s holds; safe on a half-built store. */
static void destroy(struct store *s)
{
    int src;
    size_t i;

    if (s == NULL) {
        return;
    }
    for (i = 0; i < s->n_cache; i++) {
        (void)sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    s->n_cache = 0;
    if (s->db != NULL) {
        src = sqlite3_close(s->db);
        if (src != SQLITE_OK) {
            /* only unfinalized statements cause this: a bug in this file */
            LOG_ERR("%s: close: %s (sqlite %d)", s->path, sqlite3_errmsg(s->db), src);
        }
        s->db = NULL;
    }
    if (s->lock_fd >= 0) {
        (void)close(s->lock_fd); /* releases the flock */
        s->lock_fd = -1;
    }
    if (s->has_mu) {
        (void)pthread_mutex_destroy(&s->mu);
    }
    free(s->path);
    free(s);
}

att_rc store_open(const char *path, struct store **out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct store *s = NULL;
    int64_t version = 0;
    int src;

    if (!is_name(path) || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return ATT_ERR_NOMEM;
    }
    s->lock_fd = -1;
    s->path = strdup(path);
    if (s->path == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    s->has_mu = true;

    /* lock before touching the database, so a second verifier never writes to it */
    rc = take_lock(s);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = create_db_file(s);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (src != SQLITE_OK) {
        LOG_ERR("%s: sqlite3_open_v2: %s (sqlite %d)", path,
                s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(src), src);
        rc = map_sqlite(src);
        goto out;
    }
    (void)sqlite3_extended_result_codes(s->db, 1);
    /* DEFENSIVE forbids writes that could corrupt the file (writable_schema, ...). */
    (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    src = sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    if (src != SQLITE_OK) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    rc = check_identity(s, &version);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = configure(s);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = migrate(s, version);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = s;
    s = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    destroy(s);
    return rc;
}

void store_close(struct store *s)
{
    destroy(s);
}

int store_schema_version(struct store *s)
{
    int64_t v = -1;
    int ret = -1;

    if (s == NULL) {
        return -1;
    }
    store_lock(s);
    if (query_int(s, __func__, "PRAGMA user_version", &v) == ATT_OK && v >= 0 && v <= INT_MAX) {
        ret = (int)v;
    }
    store_unlock(s);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* Hosts                                                                     */

static att_rc read_host(sqlite3_stmt *st, struct store_host *h)
{
    struct reader r;

    memset(h, 0, sizeof(*h));
    reader_init(&r, st);
    col_i64(&r, &h->id);
    col_text(&r, &h->name);
    col_text(&r, &h->agent_url);
    col_text(&r, &h->ek_alg);
    col_blob(&r, &h->ek_pub, &h->ek_pub_len);
    col_blob(&r, &h->ek_cert, &h->ek_cert_len);
    col_blob(&r, &h->ak_pub, &h->ak_pub_len);
    col_text(&r, &h->ak_name);
    col_u32(&r, &h->meas_pcr);
    col_text(&r, &h->policy);
    col_i64(&r, &h->enrolled_at);
    col_text(&r, &h->boot_id);
    col_u32(&r, &h->reset_count);
    col_u32(&r, &h->restart_count);
    col_u64(&r, &h->log_offset);
    col_fixed(&r, h->pcr_value, sizeof(h->pcr_value));
    col_text(&r, &h->verdict);
    col_text(&r, &h->verdict_reason);
    col_i64(&r, &h->last_attested_at);
    if (r.rc != ATT_OK) {
        store_host_cleanup(h);
    }
    return r.rc;
}

/*
 * Step @p st to its end (or @p max rows, 0 = no bound), appending one
 * @p size-byte element per row to *@p arr (grown, caller frees) and counting
 * it in *@p len. @p read fills a zeroed element from the current row; a row
 * it fails on is still counted, so the caller's list-free releases what it
 * filled. On failure *@p arr and *@p len hold what was read so far.
 */
typedef att_rc (*row_reader)(sqlite3_stmt *st, void *elem);

static att_rc collect_rows(struct store *s, const char *func, sqlite3_stmt *st, size_t size,
                           size_t max, row_reader read, void **arr, size_t *len)
{
    size_t cap = 0;
    att_rc rc;
    int src;

    while (max == 0 || *len < max) {
        src = sqlite3_step(st);
        if (src == SQLITE_DONE) {
            break;
        }
        if (src != SQLITE_ROW) {
            return db_fail(s, func, src);
        }
        if (*len == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            void *grown;

            if (max != 0 && ncap > max) {
                ncap = max;
            }
            if (ncap > SIZE_MAX / size) {
                return ATT_ERR_NOMEM;
            }
            grown = realloc(*arr, ncap * size);
            if (grown == NULL) {
                return ATT_ERR_NOMEM;
            }
            *arr = grown;
            cap = ncap;
        }
        memset((char *)*arr + *len * size, 0, size);
        rc = read(st, (char *)*arr + *len * size);
        (*len)++;
        if (rc != ATT_OK) {
            return rc;
        }
    }
    return ATT_OK;
}

static att_rc host_row(sqlite3_stmt *st, void *elem)
{
    return read_host(st, elem);
}

void store_host_cleanup(struct store_host *h)
{
    if (h == NULL) {
        return;
    }
    free(h->name);
    free(h->agent_url);
    free(h->ek_alg);
    free(h->ek_pub);
    free(h->ek_cert);
    free(h->ak_pub);
    free(h->ak_name);
    free(h->policy);
    free(h->boot_id);
    free(h->verdict);
    free(h->verdict_reason);
    memset(h, 0, sizeof(*h));
}

void store_host_list_free(struct store_host *hosts, size_t n)
{
    size_t i;

    if (hosts == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        store_host_cleanup(&hosts[i]);
    }
    free(hosts);
}

/* Under the mutex: does policy @p name exist? */
static att_rc policy_exists(struct store *s, const char *name)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    int src;

    rc = prepare(s, __func__, "SELECT 1 FROM policies WHERE name = ?", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, name);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

att_rc store_host_add(struct store *s, const struct store_host *h)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    static const uint8_t zero_pcr[ATT_SHA256_LEN] = {0};

    if (s == NULL || h == NULL || !is_name(h->name) || !is_name(h->agent_url) ||
        h->ek_alg == NULL || (strcmp(h->ek_alg, "rsa") != 0 && strcmp(h->ek_alg, "ecc") != 0) ||
        h->ek_pub == NULL || h->ek_pub_len == 0 || h->ak_pub == NULL || h->ak_pub_len == 0 ||
        !is_name(h->ak_name) || h->meas_pcr >= ATT_PCR_COUNT ||
        (h->ek_cert == NULL && h->ek_cert_len != 0) ||
        (h->policy != NULL && h->policy[0] == '\0')) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    if (h->policy != NULL) {
        rc = policy_exists(s, h->policy);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    /*
     * A new host always starts "pending" with empty incremental state: the
     * state fields of @p h are ignored, so an enrolment can never insert a
     * host that already looks trusted.
     */
    rc = prepare(s, __func__,
                 "INSERT INTO hosts (name, agent_url, ek_alg, ek_pub, ek_cert, ak_pub, ak_name, "
                 "meas_pcr, policy, enrolled_at, pcr_value, verdict) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, h->name);
    bind_text(&b, h->agent_url);
    bind_text(&b, h->ek_alg);
    bind_blob(&b, h->ek_pub, h->ek_pub_len);
    bind_blob(&b, h->ek_cert, h->ek_cert_len);
    bind_blob(&b, h->ak_pub, h->ak_pub_len);
    bind_text(&b, h->ak_name);
    bind_i64(&b, (int64_t)h->meas_pcr);
    bind_text(&b, h->policy);
    bind_i64(&b, h->enrolled_at != 0 ? h->enrolled_at : now_s());
    bind_blob(&b, zero_pcr, sizeof(zero_pcr));
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_host_rekey(struct store *s, const struct store_host *h)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    static const uint8_t zero_pcr[ATT_SHA256_LEN] = {0};

    if (s == NULL || h == NULL || !is_name(h->name) || !is_name(h->agent_url) ||
        h->ek_pub == NULL || h->ek_pub_len == 0 || h->ak_pub == NULL || h->ak_pub_len == 0 ||
        !is_name(h->ak_name) || h->meas_pcr >= ATT_PCR_COUNT ||
        (h->ek_cert == NULL && h->ek_cert_len != 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__,
                 "UPDATE hosts SET agent_url = ?, ek_cert = ?, ak_pub = ?, ak_name = ?, "
                 "meas_pcr = ?, enrolled_at = ?, boot_id = NULL, reset_count = 0, "
                 "restart_count = 0, log_offset = 0, pcr_value = ?, verdict = 'pending', "
                 "verdict_reason = NULL WHERE name = ? AND ek_pub = ?",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, h->agent_url);
    bind_blob(&b, h->ek_cert, h->ek_cert_len);
    bind_blob(&b, h->ak_pub, h->ak_pub_len);
    bind_text(&b, h->ak_name);
    bind_i64(&b, (int64_t)h->meas_pcr);
    bind_i64(&b, h->enrolled_at != 0 ? h->enrolled_at : now_s());
    bind_blob(&b, zero_pcr, sizeof(zero_pcr));
    bind_text(&b, h->name);
    bind_blob(&b, h->ek_pub, h->ek_pub_len);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (sqlite3_changes(s->db) != 1) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_host_get(struct store *s, const char *name, struct store_host *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    int src;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (s == NULL || !is_name(name) || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__, "SELECT " HOST_COLS " FROM hosts WHERE name = ?", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, name);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    rc = read_host(st, out);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_host_list(struct store *s, struct store_host **out, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;

    if (s == NULL || out == NULL || n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__, "SELECT " HOST_COLS " FROM hosts ORDER BY name", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = collect_rows(s, __func__, st, sizeof(struct store_host), 0, host_row, &arr, &len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL; /* transferred to the caller */
    len = 0;
    rc = ATT_OK;
out:
    store_host_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

/* Run a one-row UPDATE/DELETE keyed by host name; no such row is NOT_FOUND. */
static att_rc exec_on_host(struct store *s, const char *func, const char *sql, const char *name)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    rc = prepare(s, func, sql, &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, name);
    rc = bind_check(s, func, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, func, st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (sqlite3_changes(s->db) == 0) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

static att_rc exec_sql_host(struct store *s, const char *func, const char *sql, const char *host);

att_rc store_host_delete(struct store *s, const char *name)
{
    att_rc rc = ATT_ERR_INTERNAL;

    if (s == NULL || !is_name(name)) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = txn_begin(s, __func__);
    /* verdicts and events name the host by text, not by key, so history stays */
    if (rc == ATT_OK) {
        rc = exec_on_host(s, __func__, "DELETE FROM hosts WHERE name = ?", name);
    }
    if (rc == ATT_OK) {
        rc = exec_sql_host(s, __func__, "DELETE FROM containers WHERE host = ?", name);
    }
    /* the host's measured inventories and their findings are state, not history */
    if (rc == ATT_OK) {
        rc = exec_sql_host(s, __func__, "DELETE FROM inventory_parts WHERE host = ?", name);
    }
    if (rc == ATT_OK) {
        rc = exec_sql_host(s, __func__, "DELETE FROM inventories WHERE host = ?", name);
    }
    if (rc == ATT_OK) {
        rc = exec_sql_host(s, __func__, "DELETE FROM vuln_findings WHERE host = ?", name);
    }
    if (rc == ATT_OK) {
        rc = txn_commit(s, __func__);
    }
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
    }
    store_unlock(s);
    return rc;
}

att_rc store_host_set_policy(struct store *s, const char *name, const char *policy)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    if (s == NULL || !is_name(name) || (policy != NULL && policy[0] == '\0')) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    /* checked here for a clear answer; the foreign key enforces it anyway */
    if (policy != NULL) {
        rc = policy_exists(s, policy);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = prepare(s, __func__, "UPDATE hosts SET policy = ? WHERE name = ?", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, policy);
    bind_text(&b, name);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (sqlite3_changes(s->db) == 0) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_host_reset_state(struct store *s, const char *name)
{
    att_rc rc = ATT_ERR_INTERNAL;

    if (s == NULL || !is_name(name)) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    /*
     * Only the replay position is forgotten. boot_id and the reset/restart
     * counters stay, so the appraiser can still see a clock going backwards.
     */
    rc = exec_on_host(s, __func__,
                      "UPDATE hosts SET log_offset = 0, pcr_value = zeroblob(32) WHERE name = ?",
                      name);
    if (rc == ATT_OK) {
        rc = exec_sql_host(s, __func__, "DELETE FROM containers WHERE host = ?", name);
    }
    store_unlock(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Rounds and events                                                         */

/*
 * The fields of a new order that the store keeps as given. Times are the
 * signed order's own (the envelope says the same), so an order that expires
 * before it was issued is refused here rather than stored as dead on arrival.
 */
static bool order_ok(const struct store_order *o)
{
    return att_lower_hex(o->id, ORDER_ID_LEN, ORDER_ID_LEN) &&
           att_lower_hex(o->container, ORDER_CONTAINER_LEN, ORDER_CONTAINER_LEN) &&
           image_ok(o->image) && actions_ok(o->actions) &&
           att_utf8_text_ok(o->reason, 1, ORDER_TEXT_MAX) && o->issued_at >= 0 &&
           o->issued_at <= o->expires_at && envelope_ok(o->envelope, o->envelope_len);
}

static att_rc round_check(const struct store_round *r)
{
    size_t i;

    /*
     * log_from/log_to/log_offset are recorded as given, even log_to < log_from
     * (an agent whose log shrank): the verdict of such a round must still land.
     */
    if (!is_name(r->host) || !verdict_valid(r->verdict) || (r->n_events > 0 && r->events == NULL)) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < r->n_events; i++) {
        if (!is_name(r->events[i].kind)) {
            return ATT_ERR_INVALID_ARG;
        }
    }
    if (r->n_orders > 0 && r->orders == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < r->n_orders; i++) {
        if (!order_ok(&r->orders[i])) {
            return ATT_ERR_INVALID_ARG;
        }
    }
    return ATT_OK;
}

/* Insert one event row with a statement prepared by the caller; resets it first. */
static att_rc insert_event(struct store *s, const char *func, sqlite3_stmt *st, int64_t at,
                           const char *host, const char *kind, const char *message)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct binder b;

    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    binder_init(&b, st);
    bind_i64(&b, at);
    bind_text(&b, host);
    bind_text(&b, kind);
    bind_text(&b, message != NULL ? message : "");
    rc = bind_check(s, func, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, func, st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    return rc;
}

#define EVENT_INSERT "INSERT INTO events (at, host, kind, message) VALUES (?, ?, ?, ?)"

/* Under the mutex, inside the caller's transaction: the host row of round @p r. */
static att_rc round_update_host(struct store *s, const struct store_round *r)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    rc = prepare(s, __func__,
                 r->has_state
                     ? "UPDATE hosts SET verdict = ?, verdict_reason = ?, last_attested_at = ?, "
                       "boot_id = ?, reset_count = ?, restart_count = ?, log_offset = ?, "
                       "pcr_value = ? WHERE name = ?"
                     : "UPDATE hosts SET verdict = ?, verdict_reason = ?, last_attested_at = ? "
                       "WHERE name = ?",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, r->verdict);
    bind_text(&b, r->reason);
    bind_i64(&b, r->at);
    if (r->has_state) {
        bind_text(&b, r->boot_id);
        bind_i64(&b, (int64_t)r->reset_count);
        bind_i64(&b, (int64_t)r->restart_count);
        bind_u64(&b, r->log_offset);
        bind_blob(&b, r->pcr_value, sizeof(r->pcr_value));
    }
    bind_text(&b, r->host);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (sqlite3_changes(s->db) == 0) {
        LOG_WARN("round for unknown host %s not recorded", r->host);
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

static att_rc round_insert_verdict(struct store *s, const struct store_round *r)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    rc = prepare(s, __func__,
                 "INSERT INTO verdicts (at, host, verdict, reason, findings_json, log_from, "
                 "log_to) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_i64(&b, r->at);
    bind_text(&b, r->host);
    bind_text(&b, r->verdict);
    bind_text(&b, r->reason);
    bind_text(&b, r->findings_json != NULL ? r->findings_json : "[]");
    bind_u64(&b, r->log_from);
    bind_u64(&b, r->log_to);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

/* Run one statement with the host name as its only parameter (no row count check). */
static att_rc exec_sql_host(struct store *s, const char *func, const char *sql, const char *host)
{
    att_rc rc;
    sqlite3_stmt *st = NULL;
    struct binder b;

    rc = prepare(s, func, sql, &st);
    if (rc != ATT_OK) {
        return rc;
    }
    binder_init(&b, st);
    bind_text(&b, host);
    rc = bind_check(s, func, &b);
    if (rc == ATT_OK) {
        rc = step_done(s, func, st);
    }
    release(s, st);
    return rc;
}

/* Inside the round's transaction: the host's containers become exactly r->containers. */
static att_rc round_replace_containers(struct store *s, const struct store_round *r)
{
    att_rc rc;
    sqlite3_stmt *st = NULL;
    struct binder b;
    size_t i;

    rc = exec_sql_host(s, __func__, "DELETE FROM containers WHERE host = ?", r->host);
    if (rc != ATT_OK || r->n_containers == 0) {
        return rc;
    }
    rc = prepare(s, __func__,
                 "INSERT INTO containers (host, id, image, policy, failed, code, reason, entry, "
                 "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 &st);
    for (i = 0; rc == ATT_OK && i < r->n_containers; i++) {
        const struct store_container *c = &r->containers[i];

        (void)sqlite3_reset(st);
        binder_init(&b, st);
        bind_text(&b, r->host);
        bind_text(&b, c->id);
        bind_text(&b, c->image != NULL ? c->image : "");
        bind_text(&b, c->policy != NULL ? c->policy : "");
        bind_i64(&b, c->is_failed ? 1 : 0);
        bind_text(&b, c->code != NULL ? c->code : "");
        bind_text(&b, c->reason != NULL ? c->reason : "");
        bind_i64(&b, c->entry);
        bind_i64(&b, r->at);
        rc = bind_check(s, __func__, &b);
        if (rc == ATT_OK) {
            rc = step_done(s, __func__, st);
        }
    }
    release(s, st);
    return rc;
}

void store_container_list_free(struct store_container *c, size_t n)
{
    size_t i;

    for (i = 0; c != NULL && i < n; i++) {
        free(c[i].host);
        free(c[i].id);
        free(c[i].image);
        free(c[i].policy);
        free(c[i].code);
        free(c[i].reason);
    }
    free(c);
}

static att_rc container_row(sqlite3_stmt *st, void *elem)
{
    struct store_container *c = elem;
    struct reader r;
    int64_t failed = 0;

    reader_init(&r, st);
    col_text(&r, &c->host);
    col_text(&r, &c->id);
    col_text(&r, &c->image);
    col_text(&r, &c->policy);
    col_i64(&r, &failed);
    col_text(&r, &c->code);
    col_text(&r, &c->reason);
    col_i64(&r, &c->entry);
    col_i64(&r, &c->updated_at);
    c->is_failed = failed != 0;
    return r.rc;
}

att_rc store_containers_list(struct store *s, const char *host, struct store_container **out,
                             size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;
    struct binder b;

    if (s == NULL || out == NULL || n == NULL || (host != NULL && !is_name(host))) {
        return ATT_ERR_INVALID_ARG;
    }
    *out = NULL;
    *n = 0;
    store_lock(s);
    rc = prepare(s, __func__,
                 host != NULL
                     ? "SELECT host, id, image, policy, failed, code, reason, entry, updated_at "
                       "FROM containers WHERE host = ? ORDER BY host, id"
                     : "SELECT host, id, image, policy, failed, code, reason, entry, updated_at "
                       "FROM containers ORDER BY host, id LIMIT 100000",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (host != NULL) {
        binder_init(&b, st);
        bind_text(&b, host);
        rc = bind_check(s, __func__, &b);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc =
        collect_rows(s, __func__, st, sizeof(struct store_container), 0, container_row, &arr, &len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL;
    len = 0;
    rc = ATT_OK;
out:
    store_container_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Quarantine orders: helpers shared by rounds and the order calls          */

#define ORDER_MSG_MAX 2048 /* the longest message: "order <id> lifted by <by>: <reason>" */

/*
 * Insert one event whose message is formatted here, with EVENT_INSERT
 * prepared by the caller. Every part of an order message is bounded by the
 * input checks, so a message that does not fit is a bug, not input.
 */
static att_rc insert_event_fmt(struct store *s, const char *func, sqlite3_stmt *st, int64_t at,
                               const char *host, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static att_rc insert_event_fmt(struct store *s, const char *func, sqlite3_stmt *st, int64_t at,
                               const char *host, const char *kind, const char *fmt, ...)
{
    char msg[ORDER_MSG_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(msg)) {
        LOG_ERR("%s: %s event message does not fit", func, kind);
        return ATT_ERR_INTERNAL;
    }
    return insert_event(s, func, st, at, host, kind, msg);
}

/*
 * Inside a transaction: ATT_ERR_EXISTS if @p id is already an order's id or
 * lift id. Acks name either, so the two share one namespace; the primary key
 * and orders_lift_id each cover only their own column.
 */
static att_rc order_id_unused(struct store *s, const char *func, const char *id)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    int src;

    rc = prepare(s, func, "SELECT 1 FROM orders WHERE id = ?1 OR lift_id = ?1", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, id);
    rc = bind_check(s, func, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        LOG_WARN("%s: order id %s is already in use", func, id);
        rc = ATT_ERR_EXISTS;
        goto out;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(s, func, src);
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

/*
 * Inside the round's transaction: the outbox rows of r->orders, each with
 * its "quarantine-ordered" event. The conflict clause names orders_open, so
 * only "this container already has an open order" is skipped; a reused id
 * is refused before the insert and fails the round.
 */
static att_rc round_insert_orders(struct store *s, const struct store_round *r)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    sqlite3_stmt *ev = NULL;
    struct binder b;
    size_t i;

    rc = prepare(s, __func__,
                 "INSERT INTO orders (id, host, container, image, actions, reason, issued_at, "
                 "expires_at, envelope, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') "
                 "ON CONFLICT (host, container) WHERE state IN " ORDER_OPEN " DO NOTHING",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = prepare(s, __func__, EVENT_INSERT, &ev);
    if (rc != ATT_OK) {
        goto out;
    }
    for (i = 0; i < r->n_orders; i++) {
        const struct store_order *o = &r->orders[i];

        rc = order_id_unused(s, __func__, o->id);
        if (rc != ATT_OK) {
            goto out;
        }
        (void)sqlite3_reset(st);
        binder_init(&b, st);
        bind_text(&b, o->id);
        bind_text(&b, r->host);
        bind_text(&b, o->container);
        bind_text(&b, o->image != NULL ? o->image : "");
        bind_text(&b, o->actions);
        bind_text(&b, o->reason);
        bind_i64(&b, o->issued_at);
        bind_i64(&b, o->expires_at);
        bind_blob(&b, o->envelope, o->envelope_len);
        rc = bind_check(s, __func__, &b);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = step_done(s, __func__, st);
        if (rc != ATT_OK) {
            goto out;
        }
        if (sqlite3_changes(s->db) == 0) {
            LOG_INFO("%s: container %.12s already has an open order; order %s not stored", r->host,
                     o->container, o->id);
            continue;
        }
        rc = insert_event_fmt(s, __func__, ev, r->at, r->host, "quarantine-ordered",
                              "order %s: %s container %.12s: %s", o->id, o->actions, o->container,
                              o->reason);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    release(s, ev);
    release(s, st);
    return rc;
}

att_rc store_record_round(struct store *s, const struct store_round *r)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *ev = NULL;
    bool quiet = false;
    size_t i;

    if (s == NULL || r == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = round_check(r);
    if (rc != ATT_OK) {
        return rc;
    }
    store_lock(s);
    /*
     * A quiet round (no event, no order: the same verdict again) commits
     * without an fsync of its own (synchronous=NORMAL): a process crash loses
     * nothing, a power loss may roll back the latest quiet rounds, which the
     * poller redoes (incremental state) and which carry no event. The next
     * FULL commit syncs them too. Everything else stays FULL.
     */
    quiet = r->n_events == 0 && r->n_orders == 0;
    if (quiet) {
        rc = exec_sql(s, __func__, "PRAGMA synchronous = NORMAL");
        if (rc != ATT_OK) {
            goto out;
        }
    }
    /* one transaction: state, verdict and events become visible together or not at all */
    rc = txn_begin(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = round_update_host(s, r);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = round_insert_verdict(s, r);
    if (rc != ATT_OK) {
        goto out;
    }
    if (r->n_events > 0) {
        rc = prepare(s, __func__, EVENT_INSERT, &ev);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    for (i = 0; i < r->n_events; i++) {
        rc = insert_event(s, __func__, ev, r->at, r->host, r->events[i].kind, r->events[i].message);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if (r->has_state) {
        rc = round_replace_containers(s, r);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if (r->n_orders > 0) {
        rc = round_insert_orders(s, r);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = txn_commit(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, ev);
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
    }
    if (quiet && exec_sql(s, __func__, "PRAGMA synchronous = FULL") != ATT_OK) {
        LOG_ERR("%s: cannot restore synchronous=FULL", s->path);
    }
    store_unlock(s);
    return rc;
}

att_rc store_event_add(struct store *s, const char *host, const char *kind, const char *message)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;

    if (s == NULL || !is_name(kind) || (host != NULL && host[0] == '\0')) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__, EVENT_INSERT, &st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = insert_event(s, __func__, st, now_s(), host, kind, message);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

static void event_cleanup(struct store_event *e)
{
    free(e->host);
    free(e->kind);
    free(e->message);
    memset(e, 0, sizeof(*e));
}

void store_event_list_free(struct store_event *ev, size_t n)
{
    size_t i;

    if (ev == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        event_cleanup(&ev[i]);
    }
    free(ev);
}

/* Clamp a caller's page size to 1..STORE_LIST_MAX; 0 is misuse. */
static size_t clamp_limit(size_t limit)
{
    return limit > STORE_LIST_MAX ? STORE_LIST_MAX : limit;
}

static att_rc event_row(sqlite3_stmt *st, void *elem)
{
    struct store_event *e = elem;
    struct reader r;

    reader_init(&r, st);
    col_i64(&r, &e->id);
    col_i64(&r, &e->at);
    col_text(&r, &e->host);
    col_text(&r, &e->kind);
    col_text(&r, &e->message);
    return r.rc;
}

att_rc store_events_list(struct store *s, const char *host, const char *kind, int64_t after_id,
                         size_t limit, struct store_event **out, size_t *n)
{
    /*
     * One constant statement per filter combination rather than
     * "(? IS NULL OR host = ?)", which would keep SQLite from using the
     * (host, id) and (kind, id) indices. Parameters: [host] [kind] after_id limit.
     */
    static const char *const sql[4] = {
        "SELECT id, at, host, kind, message FROM events WHERE id > ? ORDER BY id LIMIT ?",
        "SELECT id, at, host, kind, message FROM events WHERE host = ? AND id > ? "
        "ORDER BY id LIMIT ?",
        "SELECT id, at, host, kind, message FROM events WHERE kind = ? AND id > ? "
        "ORDER BY id LIMIT ?",
        "SELECT id, at, host, kind, message FROM events WHERE host = ? AND kind = ? AND id > ? "
        "ORDER BY id LIMIT ?",
    };
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;
    struct binder b;

    if (s == NULL || out == NULL || n == NULL || limit == 0) {
        return ATT_ERR_INVALID_ARG;
    }
    limit = clamp_limit(limit);
    store_lock(s);
    rc = prepare(s, __func__, sql[(host != NULL ? 1 : 0) + (kind != NULL ? 2 : 0)], &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    if (host != NULL) {
        bind_text(&b, host);
    }
    if (kind != NULL) {
        bind_text(&b, kind);
    }
    bind_i64(&b, after_id);
    bind_i64(&b, (int64_t)limit);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = collect_rows(s, __func__, st, sizeof(struct store_event), limit, event_row, &arr, &len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL; /* transferred to the caller */
    len = 0;
    rc = ATT_OK;
out:
    store_event_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

void store_verdict_list_free(struct store_verdict *v, size_t n)
{
    size_t i;

    if (v == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(v[i].host);
        free(v[i].verdict);
        free(v[i].reason);
        free(v[i].findings_json);
    }
    free(v);
}

static att_rc verdict_row(sqlite3_stmt *st, void *elem)
{
    struct store_verdict *v = elem;
    struct reader r;

    reader_init(&r, st);
    col_i64(&r, &v->id);
    col_i64(&r, &v->at);
    col_text(&r, &v->host);
    col_text(&r, &v->verdict);
    col_text(&r, &v->reason);
    col_text(&r, &v->findings_json);
    col_u64(&r, &v->log_from);
    col_u64(&r, &v->log_to);
    return r.rc;
}

att_rc store_verdicts_list(struct store *s, const char *host, int64_t before_id, size_t limit,
                           struct store_verdict **out, size_t *n)
{
    /* Parameters: [host] before_id limit. */
    static const char *const sql[2] = {
        "SELECT id, at, host, verdict, reason, findings_json, log_from, log_to FROM verdicts "
        "WHERE id < ? ORDER BY id DESC LIMIT ?",
        "SELECT id, at, host, verdict, reason, findings_json, log_from, log_to FROM verdicts "
        "WHERE host = ? AND id < ? ORDER BY id DESC LIMIT ?",
    };
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;
    struct binder b;

    if (s == NULL || out == NULL || n == NULL || limit == 0 || before_id < 0) {
        return ATT_ERR_INVALID_ARG;
    }
    limit = clamp_limit(limit);
    store_lock(s);
    rc = prepare(s, __func__, sql[host != NULL ? 1 : 0], &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    if (host != NULL) {
        bind_text(&b, host);
    }
    bind_i64(&b, before_id == 0 ? INT64_MAX : before_id);
    bind_i64(&b, (int64_t)limit);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc =
        collect_rows(s, __func__, st, sizeof(struct store_verdict), limit, verdict_row, &arr, &len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL; /* transferred to the caller */
    len = 0;
    rc = ATT_OK;
out:
    store_verdict_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Quarantine orders (DESIGN §6)                                             */

#define ORDER_COLS                                                                                 \
    "id, host, container, image, actions, reason, state, result, issued_at, expires_at, "          \
    "envelope, attempts, next_attempt, acked_at, lift_id, lift_envelope, lifted_by, "              \
    "lift_reason, lifted_at"

/* A count the schema keeps at 0..INT_MAX (attempts); anything else is corruption. */
static void col_count(struct reader *r, int *dst)
{
    sqlite3_int64 v;

    *dst = 0;
    if (r->rc == ATT_OK) {
        v = sqlite3_column_int64(r->st, r->col);
        if (v < 0 || v > (sqlite3_int64)INT_MAX) {
            reader_corrupt(r, "out of int range");
        } else {
            *dst = (int)v;
        }
    }
    r->col++;
}

void store_order_cleanup(struct store_order *o)
{
    if (o == NULL) {
        return;
    }
    free(o->id);
    free(o->host);
    free(o->container);
    free(o->image);
    free(o->actions);
    free(o->reason);
    free(o->state);
    free(o->result);
    free(o->envelope);
    free(o->lift_id);
    free(o->lift_envelope);
    free(o->lifted_by);
    free(o->lift_reason);
    memset(o, 0, sizeof(*o));
}

void store_order_list_free(struct store_order *o, size_t n)
{
    size_t i;

    if (o == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        store_order_cleanup(&o[i]);
    }
    free(o);
}

/* Fill a zeroed @p elem from ORDER_COLS; on failure it holds what was read (caller frees). */
static att_rc order_row(sqlite3_stmt *st, void *elem)
{
    struct store_order *o = elem;
    struct reader r;

    reader_init(&r, st);
    col_text(&r, &o->id);
    col_text(&r, &o->host);
    col_text(&r, &o->container);
    col_text(&r, &o->image);
    col_text(&r, &o->actions);
    col_text(&r, &o->reason);
    col_text(&r, &o->state);
    col_text(&r, &o->result);
    col_i64(&r, &o->issued_at);
    col_i64(&r, &o->expires_at);
    col_blob(&r, &o->envelope, &o->envelope_len);
    col_count(&r, &o->attempts);
    col_i64(&r, &o->next_attempt);
    col_i64(&r, &o->acked_at); /* NULL reads as 0 */
    col_text(&r, &o->lift_id);
    col_blob(&r, &o->lift_envelope, &o->lift_envelope_len);
    col_text(&r, &o->lifted_by);
    col_text(&r, &o->lift_reason);
    col_i64(&r, &o->lifted_at);
    return r.rc;
}

/*
 * Inside the caller's transaction: pending orders of @p host whose expiry has
 * passed become "expired", each with an event. The events are written first,
 * from the same condition, so both statements see the same rows; no cursor
 * stays open over rows that are being changed. Parameters: ?1 host, ?2 now.
 */
static att_rc expire_orders(struct store *s, const char *host, int64_t now)
{
    static const char *const sql[2] = {
        "INSERT INTO events (at, host, kind, message) SELECT ?2, host, 'quarantine-expired', "
        "'order ' || id || ': ' || actions || ' container ' || substr(container, 1, 12) || "
        "': not acknowledged by ' || expires_at FROM orders "
        "WHERE host = ?1 AND state = 'pending' AND expires_at < ?2 ORDER BY issued_at, rowid",
        "UPDATE orders SET state = 'expired' "
        "WHERE host = ?1 AND state = 'pending' AND expires_at < ?2",
    };
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    size_t i;

    for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        rc = prepare(s, __func__, sql[i], &st);
        if (rc != ATT_OK) {
            goto out;
        }
        binder_init(&b, st);
        bind_text(&b, host);
        bind_i64(&b, now);
        rc = bind_check(s, __func__, &b);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = step_done(s, __func__, st);
        if (rc != ATT_OK) {
            goto out;
        }
        release(s, st);
        st = NULL;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

att_rc store_orders_due(struct store *s, const char *host, int64_t now, size_t max,
                        struct store_order **out, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    int src;
    void *arr = NULL;
    size_t len = 0;
    struct binder b;

    if (s == NULL || !is_name(host) || max == 0 || out == NULL || n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    max = clamp_limit(max);
    store_lock(s);
    /* the common case, a host with nothing pending: one read, no write transaction */
    rc = prepare(s, __func__,
                 "SELECT 1 FROM orders WHERE host = ? AND state IN ('pending', 'lift-pending') "
                 "LIMIT 1",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, host);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        *out = NULL;
        *n = 0;
        goto out; /* rc is ATT_OK: nothing due, nothing to expire */
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    release(s, st);
    st = NULL;
    /* one transaction: what is expired is never also returned as due */
    rc = txn_begin(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = expire_orders(s, host, now);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = prepare(s, __func__,
                 "SELECT " ORDER_COLS " FROM orders WHERE host = ? AND state IN ('pending', "
                 "'lift-pending') AND next_attempt <= ? ORDER BY issued_at, rowid LIMIT ?",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, host);
    bind_i64(&b, now);
    bind_i64(&b, (int64_t)max);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = collect_rows(s, __func__, st, sizeof(struct store_order), max, order_row, &arr, &len);
    if (rc != ATT_OK) {
        goto out;
    }
    release(s, st); /* no statement may be mid-step at COMMIT */
    st = NULL;
    rc = txn_commit(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL; /* transferred to the caller */
    len = 0;
    rc = ATT_OK;
out:
    store_order_list_free(arr, len);
    release(s, st);
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
    }
    store_unlock(s);
    return rc;
}

/* Under the mutex: does an order with id @p id exist? ATT_ERR_NOT_FOUND if not. */
static att_rc order_exists(struct store *s, const char *func, const char *id)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    int src;

    rc = prepare(s, func, "SELECT 1 FROM orders WHERE id = ?", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, id);
    rc = bind_check(s, func, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, func, src);
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

att_rc store_order_sent(struct store *s, const char *id, int64_t next_attempt)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    if (s == NULL || !att_lower_hex(id, ORDER_ID_LEN, ORDER_ID_LEN)) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    /* attempts saturates rather than overflow the int it is read into */
    rc = prepare(s, __func__,
                 "UPDATE orders SET attempts = attempts + (attempts < 2147483647), "
                 "next_attempt = ?2 WHERE id = ?1 AND state IN ('pending', 'lift-pending')",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, id);
    bind_i64(&b, next_attempt);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (sqlite3_changes(s->db) == 0) {
        /* acknowledged between due and sent: nothing left to count */
        rc = order_exists(s, __func__, id);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

/* The order an ack names, as far as store_order_ack needs it. */
struct order_brief {
    char *id;
    char *host;
    char *container;
    char *actions;
    char *state;
    char *lift_id;
};

static void order_brief_cleanup(struct order_brief *t)
{
    free(t->id);
    free(t->host);
    free(t->container);
    free(t->actions);
    free(t->state);
    free(t->lift_id);
    memset(t, 0, sizeof(*t));
}

/*
 * Under the mutex: the order whose id or lift id is @p ack_id (the two share
 * one namespace, see order_id_unused). ATT_ERR_NOT_FOUND if none. On ATT_OK
 * every field but lift_id is set (clang-tidy's analyzer does not follow that
 * db_fail() never returns ATT_OK, hence the suppressions at the callers).
 */
static att_rc order_brief_find(struct store *s, const char *ack_id, struct order_brief *t)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    struct reader r;
    int src;

    rc = prepare(s, __func__,
                 "SELECT id, host, container, actions, state, lift_id FROM orders "
                 "WHERE id = ?1 OR lift_id = ?1 ORDER BY id = ?1 DESC LIMIT 1",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, ack_id);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    reader_init(&r, st);
    col_text(&r, &t->id);
    col_text(&r, &t->host);
    col_text(&r, &t->container);
    col_text(&r, &t->actions);
    col_text(&r, &t->state);
    col_text(&r, &t->lift_id);
    rc = r.rc;
    if (rc != ATT_OK) {
        goto out;
    }
    if (t->id == NULL || t->host == NULL || t->container == NULL || t->actions == NULL ||
        t->state == NULL) {
        LOG_ERR("corrupt order row for %s", ack_id);
        rc = ATT_ERR_IO;
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

/*
 * Under the mutex, inside a transaction: run an ack's UPDATE, whose
 * parameters are ?1 order id, ?2 result, ?3 time. Sets *@p changed.
 */
static att_rc ack_update(struct store *s, const char *sql, const char *id, const char *result,
                         int64_t at, bool *changed)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    *changed = false;
    rc = prepare(s, __func__, sql, &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, id);
    bind_text(&b, result);
    bind_i64(&b, at);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    *changed = sqlite3_changes(s->db) > 0;
    rc = ATT_OK;
out:
    release(s, st);
    return rc;
}

att_rc store_order_ack(struct store *s, const char *host, const char *ack_id, bool ok,
                       const char *result)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *ev = NULL;
    struct order_brief t;
    const char *sql = NULL;
    const char *kind = NULL;
    bool is_lift;
    bool changed = false;
    int64_t now = now_s();

    memset(&t, 0, sizeof(t));
    if (result == NULL) {
        result = "";
    }
    if (s == NULL || !is_name(host) || !att_lower_hex(ack_id, ORDER_ID_LEN, ORDER_ID_LEN) ||
        !att_utf8_text_ok(result, 0, ORDER_TEXT_MAX)) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = txn_begin(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = order_brief_find(s, ack_id, &t);
    if (rc != ATT_OK) {
        if (rc == ATT_ERR_NOT_FOUND) {
            LOG_WARN("%s acknowledged unknown order %s", host, ack_id);
        }
        goto out;
    }
    /* an agent answers for its own host only: another host's order is not its to ack */
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): set on ATT_OK */
    if (strcmp(t.host, host) != 0) {
        LOG_WARN("%s acknowledged order %s of another host", host, ack_id);
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    is_lift = strcmp(t.id, ack_id) != 0;
    if (!is_lift && strcmp(t.state, "pending") == 0) {
        sql = ok ? "UPDATE orders SET state = 'enforced', result = ?2, acked_at = ?3 "
                   "WHERE id = ?1 AND state = 'pending'"
                 : "UPDATE orders SET state = 'refused', result = ?2, acked_at = ?3 "
                   "WHERE id = ?1 AND state = 'pending'";
        kind = ok ? "quarantine-enforced" : "quarantine-refused";
    } else if (!is_lift && ok && strcmp(t.state, "expired") == 0) {
        /*
         * The agent acted on the order before it expired, but its ack came
         * later: the container is quarantined, and an order that looks
         * expired could not be lifted. Unless a newer open order for the
         * container took its place (orders_open allows one).
         */
        sql = "UPDATE orders SET state = 'enforced', result = ?2, acked_at = ?3 "
              "WHERE id = ?1 AND state = 'expired' AND NOT EXISTS (SELECT 1 FROM orders AS o "
              "WHERE o.host = orders.host AND o.container = orders.container "
              "AND o.state IN " ORDER_OPEN ")";
        kind = "quarantine-enforced";
    } else if (is_lift && strcmp(t.state, "lift-pending") == 0) {
        /* a refused lift stays pending, to be sent again; its answer is recorded */
        sql = ok ? "UPDATE orders SET state = 'lifted', result = ?2, acked_at = ?3 "
                   "WHERE id = ?1 AND state = 'lift-pending'"
                 : "UPDATE orders SET result = ?2, acked_at = ?3 "
                   "WHERE id = ?1 AND state = 'lift-pending'";
        kind = ok ? "quarantine-lifted" : "quarantine-lift-refused";
    }
    if (sql != NULL) {
        rc = ack_update(s, sql, t.id, result, now, &changed);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    if (changed) {
        rc = prepare(s, __func__, EVENT_INSERT, &ev);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = insert_event_fmt(s, __func__, ev, now, t.host, kind,
                              "order %s%s%s%s: %s container %.12s: %s", t.id,
                              is_lift ? " lift " : "", is_lift ? ack_id : "",
                              strcmp(t.state, "expired") == 0 ? " (after expiry)" : "", t.actions,
                              t.container, result);
        if (rc != ATT_OK) {
            goto out;
        }
    } else {
        /* a duplicate ack, or one for a state the order has moved past: idempotent */
        LOG_DEBUG("%s: ack %s for order %s in state %s changes nothing", host, ack_id, t.id,
                  t.state);
    }
    rc = txn_commit(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, ev);
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
    }
    store_unlock(s);
    order_brief_cleanup(&t);
    return rc;
}

att_rc store_order_lift(struct store *s, const char *id, const char *lift_id,
                        const uint8_t *lift_env, size_t lift_env_len, const char *by,
                        const char *reason)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    sqlite3_stmt *ev = NULL;
    struct order_brief t;
    struct binder b;
    int64_t now = now_s();

    memset(&t, 0, sizeof(t));
    if (s == NULL || !att_lower_hex(id, ORDER_ID_LEN, ORDER_ID_LEN) ||
        !att_lower_hex(lift_id, ORDER_ID_LEN, ORDER_ID_LEN) ||
        !envelope_ok(lift_env, lift_env_len) || !att_utf8_text_ok(by, 1, ORDER_BY_MAX) ||
        !att_utf8_text_ok(reason, 1, ORDER_TEXT_MAX)) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = txn_begin(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = order_brief_find(s, id, &t);
    if (rc != ATT_OK) {
        goto out;
    }
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): set on ATT_OK */
    if (strcmp(t.id, id) != 0) {
        /* @p id is some order's lift id, not an order */
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    /* an expired order may still be in force on the agent (a late delivery): liftable */
    if (strcmp(t.state, "pending") != 0 && strcmp(t.state, "enforced") != 0 &&
        strcmp(t.state, "refused") != 0 && strcmp(t.state, "expired") != 0) {
        LOG_WARN("order %s is %s: not lifted again", id, t.state);
        rc = ATT_ERR_EXISTS;
        goto out;
    }
    rc = order_id_unused(s, __func__, lift_id);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = prepare(s, __func__,
                 "UPDATE orders SET state = 'lift-pending', lift_id = ?, lift_envelope = ?, "
                 "lifted_by = ?, lift_reason = ?, lifted_at = ?, attempts = 0, next_attempt = 0 "
                 "WHERE id = ? AND state IN ('pending', 'enforced', 'refused', 'expired')",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, lift_id);
    bind_blob(&b, lift_env, lift_env_len);
    bind_text(&b, by);
    bind_text(&b, reason);
    bind_i64(&b, now);
    bind_text(&b, id);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (sqlite3_changes(s->db) != 1) {
        rc = ATT_ERR_INTERNAL; /* the state was read in this transaction */
        goto out;
    }
    release(s, st);
    st = NULL;
    /*
     * The lifted finding must not produce the same order again at the next
     * round, so the container's verdict is cleared with the lift. The row
     * may be gone (container stopped, state reset): nothing to clear then.
     */
    rc = prepare(s, __func__,
                 "UPDATE containers SET failed = 0, code = '', reason = '', entry = -1 "
                 "WHERE host = ? AND id = ?",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, t.host);
    bind_text(&b, t.container);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = prepare(s, __func__, EVENT_INSERT, &ev);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = insert_event_fmt(s, __func__, ev, now, t.host, "quarantine-lift",
                          "order %s lifted by %s: %s", id, by, reason);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = txn_commit(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, ev);
    release(s, st);
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
    }
    store_unlock(s);
    order_brief_cleanup(&t);
    return rc;
}

att_rc store_order_get(struct store *s, const char *id, struct store_order *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    int src;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (s == NULL || !att_lower_hex(id, ORDER_ID_LEN, ORDER_ID_LEN) || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__, "SELECT " ORDER_COLS " FROM orders WHERE id = ?", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, id);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    rc = order_row(st, out);
    if (rc != ATT_OK) {
        store_order_cleanup(out);
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_orders_list(struct store *s, const char *host, bool open_only,
                         struct store_order **out, size_t *n)
{
    /* Parameters: [host] limit. */
    static const char *const sql[4] = {
        "SELECT " ORDER_COLS " FROM orders ORDER BY issued_at DESC, rowid DESC LIMIT ?",
        "SELECT " ORDER_COLS " FROM orders WHERE host = ? "
        "ORDER BY issued_at DESC, rowid DESC LIMIT ?",
        "SELECT " ORDER_COLS " FROM orders WHERE state IN " ORDER_OPEN " "
        "ORDER BY issued_at DESC, rowid DESC LIMIT ?",
        "SELECT " ORDER_COLS " FROM orders WHERE host = ? AND state IN " ORDER_OPEN " "
        "ORDER BY issued_at DESC, rowid DESC LIMIT ?",
    };
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;
    struct binder b;

    if (s == NULL || out == NULL || n == NULL || (host != NULL && !is_name(host))) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__, sql[(host != NULL ? 1 : 0) + (open_only ? 2 : 0)], &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    if (host != NULL) {
        bind_text(&b, host);
    }
    bind_i64(&b, (int64_t)ORDER_LIST_MAX);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = collect_rows(s, __func__, st, sizeof(struct store_order), ORDER_LIST_MAX, order_row, &arr,
                      &len);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL; /* transferred to the caller */
    len = 0;
    rc = ATT_OK;
out:
    store_order_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Policies                                                                  */

att_rc store_policy_put(struct store *s, const char *name, const char *json, bool replace)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    int64_t now = now_s();

    if (s == NULL || !is_name(name) || json == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    /* parameters in both statements: json, time, name */
    rc = prepare(s, __func__,
                 replace ? "UPDATE policies SET json = ?1, updated_at = ?2 WHERE name = ?3"
                         : "INSERT INTO policies (json, created_at, updated_at, name) "
                           "VALUES (?1, ?2, ?2, ?3)",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, json);
    bind_i64(&b, now);
    bind_text(&b, name);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    if (replace && sqlite3_changes(s->db) == 0) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_policy_get(struct store *s, const char *name, char **json)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    struct reader r;
    char *text = NULL;
    int src;

    if (s == NULL || !is_name(name) || json == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__, "SELECT json FROM policies WHERE name = ?", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, name);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    reader_init(&r, st);
    col_text(&r, &text);
    rc = r.rc;
    if (rc != ATT_OK) {
        goto out;
    }
    *json = text;
    text = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    free(text);
    release(s, st);
    store_unlock(s);
    return rc;
}

static void names_free(char **names, size_t n)
{
    size_t i;

    if (names == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

att_rc store_policy_list(struct store *s, char ***names, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    char **arr = NULL;
    size_t len = 0;
    size_t cap = 0;
    struct reader r;
    int src;

    if (s == NULL || names == NULL || n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__, "SELECT name FROM policies ORDER BY name", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    for (;;) {
        src = sqlite3_step(st);
        if (src == SQLITE_DONE) {
            break;
        }
        if (src != SQLITE_ROW) {
            rc = db_fail(s, __func__, src);
            goto out;
        }
        if (len == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            char **grown;

            if (ncap > SIZE_MAX / sizeof(*arr)) {
                rc = ATT_ERR_NOMEM;
                goto out;
            }
            grown = realloc(arr, ncap * sizeof(*arr));
            if (grown == NULL) {
                rc = ATT_ERR_NOMEM;
                goto out;
            }
            arr = grown;
            cap = ncap;
        }
        reader_init(&r, st);
        col_text(&r, &arr[len]);
        if (r.rc != ATT_OK) {
            rc = r.rc;
            goto out;
        }
        len++;
    }
    if (len == 0) {
        free(arr);
        arr = NULL;
    }
    *names = arr;
    *n = len;
    arr = NULL; /* transferred to the caller */
    len = 0;
    rc = ATT_OK;
out:
    names_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Tokens                                                                    */

att_rc store_token_add(struct store *s, const char *name, const char *role,
                       const uint8_t hash[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    if (s == NULL || !is_name(name) || !role_valid(role) || hash == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__,
                 "INSERT INTO tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?)", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, name);
    bind_text(&b, role);
    bind_blob(&b, hash, ATT_SHA256_LEN);
    bind_i64(&b, now_s());
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = step_done(s, __func__, st);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_token_find(struct store *s, const uint8_t hash[ATT_SHA256_LEN], char **name,
                        char **role)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    struct reader r;
    char *n = NULL;
    char *ro = NULL;
    int src;

    if (s == NULL || hash == NULL || name == NULL || role == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    /*
     * An index lookup on the hash is not constant-time, but it only leaks how
     * a stored sha256 compares with the sha256 of the presented secret; that
     * does not help anyone find a secret that hashes to a stored value.
     */
    rc = prepare(s, __func__, "SELECT name, role FROM tokens WHERE hash = ?", &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_blob(&b, hash, ATT_SHA256_LEN);
    rc = bind_check(s, __func__, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    reader_init(&r, st);
    col_text(&r, &n);
    col_text(&r, &ro);
    rc = r.rc;
    if (rc != ATT_OK) {
        goto out;
    }
    if (n == NULL || !role_valid(ro)) {
        LOG_ERR("corrupt token row");
        rc = ATT_ERR_IO;
        goto out;
    }
    *name = n;
    *role = ro;
    n = NULL; /* transferred to the caller */
    ro = NULL;
    rc = ATT_OK;
out:
    free(n);
    free(ro);
    release(s, st);
    store_unlock(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The image vulnerability gate (issue 8, schema v4)                         */

static bool is_hex64(const char *s)
{
    return s != NULL && att_lower_hex(s, 64, 64);
}

#define FEED_COLS                                                                                  \
    "id, digest, source, source_digest, feed_time, imported_at, imported_by, n_entries"

static att_rc feed_row(sqlite3_stmt *st, void *elem)
{
    struct store_vulnfeed *f = elem;
    struct reader r;

    reader_init(&r, st);
    col_i64(&r, &f->id);
    col_text(&r, &f->digest);
    col_text(&r, &f->source);
    col_text(&r, &f->source_digest);
    col_i64(&r, &f->feed_time);
    col_i64(&r, &f->imported_at);
    col_text(&r, &f->imported_by);
    col_i64(&r, &f->n_entries);
    return r.rc;
}

void store_vulnfeed_cleanup(struct store_vulnfeed *f)
{
    if (f == NULL) {
        return;
    }
    free(f->digest);
    free(f->source);
    free(f->source_digest);
    free(f->imported_by);
    memset(f, 0, sizeof(*f));
}

void store_vulnfeed_list_free(struct store_vulnfeed *f, size_t n)
{
    size_t i;

    for (i = 0; f != NULL && i < n; i++) {
        store_vulnfeed_cleanup(&f[i]);
    }
    free(f);
}

att_rc store_vulnfeed_add(struct store *s, const struct store_vulnfeed *f, const uint8_t *body,
                          size_t len, bool *is_new)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    sqlite3_stmt *ev = NULL;
    struct binder b;
    char msg[512];

    if (s == NULL || f == NULL || body == NULL || len == 0 || is_new == NULL ||
        !is_hex64(f->digest) || !is_hex64(f->source_digest) || !is_name(f->source) ||
        !is_name(f->imported_by) || f->n_entries < 0) {
        return ATT_ERR_INVALID_ARG;
    }
    *is_new = false;
    store_lock(s);
    rc = txn_begin(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = prepare(s, __func__,
                 "INSERT OR IGNORE INTO vulnfeeds (digest, source, source_digest, feed_time, "
                 "imported_at, imported_by, n_entries, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    binder_init(&b, st);
    bind_text(&b, f->digest);
    bind_text(&b, f->source);
    bind_text(&b, f->source_digest);
    bind_i64(&b, f->feed_time);
    bind_i64(&b, f->imported_at);
    bind_text(&b, f->imported_by);
    bind_i64(&b, f->n_entries);
    bind_blob(&b, body, len);
    rc = bind_check(s, __func__, &b);
    if (rc == ATT_OK) {
        rc = step_done(s, __func__, st);
    }
    if (rc != ATT_OK) {
        goto out;
    }
    *is_new = sqlite3_changes(s->db) > 0;
    if (*is_new) {
        (void)snprintf(msg, sizeof(msg),
                       "vulnerability feed %.12s imported by %.100s: %lld entries (%.60s), content "
                       "of %lld",
                       f->digest, f->imported_by, (long long)f->n_entries, f->source,
                       (long long)f->feed_time);
        rc = prepare(s, __func__, EVENT_INSERT, &ev);
        if (rc == ATT_OK) {
            rc = insert_event(s, __func__, ev, f->imported_at, NULL, "vulndb-imported", msg);
        }
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = txn_commit(s, __func__);
out:
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
        *is_new = false;
    }
    release(s, st);
    release(s, ev);
    store_unlock(s);
    return rc;
}

att_rc store_vulnfeed_current(struct store *s, struct store_vulnfeed *out, uint8_t **body,
                              size_t *len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    int src;

    if (s == NULL || out == NULL || (body != NULL && len == NULL)) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    if (body != NULL) {
        *body = NULL;
        *len = 0;
    }
    store_lock(s);
    rc = prepare(s, __func__,
                 body != NULL ? "SELECT " FEED_COLS ", body FROM vulnfeeds ORDER BY id DESC LIMIT 1"
                              : "SELECT " FEED_COLS " FROM vulnfeeds ORDER BY id DESC LIMIT 1",
                 &st);
    if (rc != ATT_OK) {
        goto out;
    }
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = db_fail(s, __func__, src);
        goto out;
    }
    rc = feed_row(st, out);
    if (rc == ATT_OK && body != NULL) {
        struct reader r;

        reader_init(&r, st);
        r.col = 8;
        col_blob(&r, body, len);
        rc = r.rc;
    }
    if (rc != ATT_OK) {
        store_vulnfeed_cleanup(out);
        if (body != NULL) {
            free(*body);
            *body = NULL;
        }
    }
out:
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_vulnfeed_list(struct store *s, struct store_vulnfeed **out, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;

    if (s == NULL || out == NULL || n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    *out = NULL;
    *n = 0;
    store_lock(s);
    rc = prepare(s, __func__, "SELECT " FEED_COLS " FROM vulnfeeds ORDER BY id DESC LIMIT 1000",
                 &st);
    if (rc == ATT_OK) {
        rc = collect_rows(s, __func__, st, sizeof(struct store_vulnfeed), 1000, feed_row, &arr,
                          &len);
    }
    if (rc == ATT_OK) {
        *out = arr;
        *n = len;
        arr = NULL;
        len = 0;
    }
    store_vulnfeed_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

att_rc store_inventory_part(struct store *s, const char *host, const char *container,
                            const char *digest, unsigned part, unsigned n, const uint8_t *body,
                            size_t len, char **text)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    struct att_buf joined;
    unsigned have = 0;
    int src = SQLITE_DONE;

    if (s == NULL || !is_name(host) || !is_hex64(container) || !is_hex64(digest) || part < 1 ||
        part > n || n > ATT_PKG_RECORD_MAX_PARTS || body == NULL || text == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    *text = NULL;
    att_buf_init(&joined, ATT_INV_MAX_TEXT);
    store_lock(s);
    rc = txn_begin(s, __func__);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = prepare(s, __func__,
                 "INSERT OR IGNORE INTO inventory_parts (host, container, digest, part, n, body) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 &st);
    if (rc == ATT_OK) {
        binder_init(&b, st);
        bind_text(&b, host);
        bind_text(&b, container);
        bind_text(&b, digest);
        bind_i64(&b, part);
        bind_i64(&b, n);
        bind_blob(&b, len > 0 ? body : (const uint8_t *)"", len > 0 ? len : 0);
        rc = bind_check(s, __func__, &b);
    }
    if (rc == ATT_OK) {
        rc = step_done(s, __func__, st);
    }
    release(s, st);
    st = NULL;
    if (rc != ATT_OK) {
        goto out;
    }
    rc = prepare(s, __func__,
                 "SELECT part, body FROM inventory_parts WHERE host = ? AND container = ? AND "
                 "digest = ? AND n = ? ORDER BY part",
                 &st);
    if (rc == ATT_OK) {
        binder_init(&b, st);
        bind_text(&b, host);
        bind_text(&b, container);
        bind_text(&b, digest);
        bind_i64(&b, n);
        rc = bind_check(s, __func__, &b);
    }
    while (rc == ATT_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 1);
        int bl = sqlite3_column_bytes(st, 1);

        if (sqlite3_column_int64(st, 0) != (sqlite3_int64)have + 1 || bl < 0) {
            src = SQLITE_DONE;
            break; /* a gap: not complete yet */
        }
        have++;
        if (bl > 0 && att_buf_append(&joined, p, (size_t)bl) != ATT_OK) {
            rc = ATT_ERR_PARSE; /* more than ATT_INV_MAX_TEXT: never a canonical inventory */
        }
    }
    if (rc == ATT_OK && src != SQLITE_DONE) {
        rc = db_fail(s, __func__, src);
    }
    release(s, st);
    st = NULL;
    if (rc == ATT_OK && have == n) {
        rc = prepare(s, __func__,
                     "DELETE FROM inventory_parts WHERE host = ? AND container = ? AND digest = ?",
                     &st);
        if (rc == ATT_OK) {
            binder_init(&b, st);
            bind_text(&b, host);
            bind_text(&b, container);
            bind_text(&b, digest);
            rc = bind_check(s, __func__, &b);
        }
        if (rc == ATT_OK) {
            rc = step_done(s, __func__, st);
        }
        if (rc == ATT_OK) {
            if (att_buf_append(&joined, "", 0) != ATT_OK || joined.data == NULL) {
                *text = strdup("");
            } else {
                *text = (char *)att_buf_steal(&joined, NULL);
            }
            if (*text == NULL) {
                rc = ATT_ERR_NOMEM;
            }
        }
    }
    if (rc == ATT_OK) {
        rc = txn_commit(s, __func__);
    }
out:
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
        free(*text);
        *text = NULL;
    }
    release(s, st);
    store_unlock(s);
    att_buf_cleanup(&joined);
    return rc;
}

att_rc store_inventory_put(struct store *s, const struct store_inventory *inv)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;

    if (s == NULL || inv == NULL || !is_name(inv->host) || !is_hex64(inv->container) ||
        !is_hex64(inv->digest) || inv->body == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    store_lock(s);
    rc = prepare(s, __func__,
                 "INSERT INTO inventories (host, container, digest, image, ecosystem, n_packages, "
                 "body, unjudgeable, judged, recheck_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
                 "?, '', 0, ?) ON CONFLICT (host, container) DO UPDATE SET digest = "
                 "excluded.digest, image = excluded.image, ecosystem = excluded.ecosystem, "
                 "n_packages = excluded.n_packages, body = excluded.body, unjudgeable = "
                 "excluded.unjudgeable, updated_at = excluded.updated_at, "
                 "judged = CASE WHEN inventories.digest = excluded.digest THEN inventories.judged "
                 "ELSE '' END",
                 &st);
    if (rc == ATT_OK) {
        binder_init(&b, st);
        bind_text(&b, inv->host);
        bind_text(&b, inv->container);
        bind_text(&b, inv->digest);
        bind_text(&b, inv->image != NULL ? inv->image : "");
        bind_text(&b, inv->ecosystem != NULL ? inv->ecosystem : "");
        bind_i64(&b, inv->n_packages);
        bind_text(&b, inv->body);
        bind_text(&b, inv->unjudgeable != NULL ? inv->unjudgeable : "");
        bind_i64(&b, inv->updated_at);
        rc = bind_check(s, __func__, &b);
    }
    if (rc == ATT_OK) {
        rc = step_done(s, __func__, st);
    }
    release(s, st);
    store_unlock(s);
    return rc;
}

static att_rc inventory_row(sqlite3_stmt *st, void *elem)
{
    struct store_inventory *v = elem;
    struct reader r;

    reader_init(&r, st);
    col_text(&r, &v->host);
    col_text(&r, &v->container);
    col_text(&r, &v->digest);
    col_text(&r, &v->image);
    col_text(&r, &v->ecosystem);
    col_i64(&r, &v->n_packages);
    col_text(&r, &v->body);
    col_text(&r, &v->unjudgeable);
    col_text(&r, &v->judged);
    col_i64(&r, &v->recheck_at);
    col_i64(&r, &v->updated_at);
    return r.rc;
}

void store_inventory_list_free(struct store_inventory *inv, size_t n)
{
    size_t i;

    for (i = 0; inv != NULL && i < n; i++) {
        free(inv[i].host);
        free(inv[i].container);
        free(inv[i].digest);
        free(inv[i].image);
        free(inv[i].ecosystem);
        free(inv[i].body);
        free(inv[i].unjudgeable);
        free(inv[i].judged);
    }
    free(inv);
}

#define INVENTORY_COLS(body)                                                                       \
    "SELECT host, container, digest, image, ecosystem, n_packages, " body ", unjudgeable, "        \
    "judged, recheck_at, updated_at FROM inventories"

att_rc store_inventories_list(struct store *s, const char *host, const char *container,
                              bool with_body, struct store_inventory **out, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;

    if (s == NULL || out == NULL || n == NULL || (host != NULL && !is_name(host)) ||
        (container != NULL && !is_hex64(container))) {
        return ATT_ERR_INVALID_ARG;
    }
    *out = NULL;
    *n = 0;
    store_lock(s);
    /* a round lists a host's inventories without their bodies (up to 8 MiB each) */
    rc = prepare_host_container(
        s, __func__,
        with_body ? INVENTORY_COLS("body") " WHERE (?1 IS NULL OR host = ?1) AND (?2 IS "
                                           "NULL OR container = ?2) ORDER BY host, container"
                  : INVENTORY_COLS("''") " WHERE (?1 IS NULL OR host = ?1) AND (?2 IS "
                                         "NULL OR container = ?2) ORDER BY host, container",
        host, container, &st);
    if (rc == ATT_OK) {
        rc = collect_rows(s, __func__, st, sizeof(struct store_inventory), 0, inventory_row, &arr,
                          &len);
    }
    if (rc == ATT_OK) {
        *out = arr;
        *n = len;
        arr = NULL;
        len = 0;
    }
    store_inventory_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}

#define FINDING_COLS                                                                               \
    "host, container, image, vuln_id, aliases, package, version, source, source_version, fixed, "  \
    "severity, over_bar, allowed, feed, found_at"

static att_rc finding_row(sqlite3_stmt *st, void *elem)
{
    struct store_finding *f = elem;
    struct reader r;
    int64_t over = 0;
    int64_t allowed = 0;

    reader_init(&r, st);
    col_text(&r, &f->host);
    col_text(&r, &f->container);
    col_text(&r, &f->image);
    col_text(&r, &f->vuln_id);
    col_text(&r, &f->aliases);
    col_text(&r, &f->package);
    col_text(&r, &f->version);
    col_text(&r, &f->source);
    col_text(&r, &f->source_version);
    col_text(&r, &f->fixed);
    col_text(&r, &f->severity);
    col_i64(&r, &over);
    col_i64(&r, &allowed);
    col_text(&r, &f->feed);
    col_i64(&r, &f->found_at);
    f->over_bar = over != 0;
    f->allowed = allowed != 0;
    return r.rc;
}

void store_finding_cleanup(struct store_finding *f)
{
    if (f == NULL) {
        return;
    }
    free(f->host);
    free(f->container);
    free(f->image);
    free(f->vuln_id);
    free(f->aliases);
    free(f->package);
    free(f->version);
    free(f->source);
    free(f->source_version);
    free(f->fixed);
    free(f->severity);
    free(f->feed);
    memset(f, 0, sizeof(*f));
}

void store_finding_list_free(struct store_finding *f, size_t n)
{
    size_t i;

    for (i = 0; f != NULL && i < n; i++) {
        store_finding_cleanup(&f[i]);
    }
    free(f);
}

#define SEVERITY_RANK                                                                              \
    "CASE severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' "     \
    "THEN 2 WHEN 'negligible' THEN 1 ELSE 0 END"

att_rc store_finding_worst(struct store *s, const char *host, const char *container,
                           struct store_finding *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    int src;

    if (s == NULL || !is_name(host) || !is_hex64(container) || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    store_lock(s);
    rc = prepare_host_container(s, __func__,
                                "SELECT " FINDING_COLS " FROM vuln_findings WHERE host = ?1 AND "
                                "container = ?2 AND over_bar = 1 ORDER BY " SEVERITY_RANK
                                " DESC, fixed = '' ASC, vuln_id, package LIMIT 1",
                                host, container, &st);
    if (rc == ATT_OK) {
        src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            rc = finding_row(st, out);
            if (rc != ATT_OK) {
                store_finding_cleanup(out);
            }
        } else {
            rc = src == SQLITE_DONE ? ATT_ERR_NOT_FOUND : db_fail(s, __func__, src);
        }
    }
    release(s, st);
    store_unlock(s);
    return rc;
}

/* One statement binding (host, container), stepped to the end. */
static att_rc exec_host_container(struct store *s, const char *func, const char *sql,
                                  const char *host, const char *container)
{
    sqlite3_stmt *st = NULL;
    att_rc rc = prepare_host_container(s, func, sql, host, container, &st);

    if (rc == ATT_OK) {
        rc = step_done(s, func, st);
    }
    release(s, st);
    return rc;
}

static att_rc insert_finding(struct store *s, const char *host, const char *container,
                             const struct store_finding *f, int64_t now)
{
    att_rc rc;
    sqlite3_stmt *st = NULL;
    struct binder b;

    /* found_at is kept from the previous judgement when the finding was there already */
    rc = prepare(s, __func__,
                 "INSERT OR REPLACE INTO vuln_findings (" FINDING_COLS
                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                 "coalesce((SELECT found_at FROM temp.prev_findings WHERE vuln_id = ?4 AND "
                 "package = ?6), ?15))",
                 &st);
    if (rc != ATT_OK) {
        return rc;
    }
    binder_init(&b, st);
    bind_text(&b, host);
    bind_text(&b, container);
    bind_text(&b, f->image != NULL ? f->image : "");
    bind_text(&b, f->vuln_id);
    bind_text(&b, f->aliases != NULL ? f->aliases : "");
    bind_text(&b, f->package);
    bind_text(&b, f->version);
    bind_text(&b, f->source);
    bind_text(&b, f->source_version);
    bind_text(&b, f->fixed != NULL ? f->fixed : "");
    bind_text(&b, f->severity);
    bind_i64(&b, f->over_bar ? 1 : 0);
    bind_i64(&b, f->allowed ? 1 : 0);
    bind_text(&b, f->feed);
    bind_i64(&b, now);
    rc = bind_check(s, __func__, &b);
    if (rc == ATT_OK) {
        rc = step_done(s, __func__, st);
    }
    release(s, st);
    return rc;
}

att_rc store_findings_replace(struct store *s, const char *host, const char *container,
                              const char *judged, int64_t recheck_at, const struct store_finding *f,
                              size_t n, int64_t now, const char *message, size_t *n_new)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    struct binder b;
    size_t i;
    int64_t new_over = 0;
    int src;

    if (s == NULL || !is_name(host) || !is_hex64(container) || judged == NULL ||
        (f == NULL && n > 0) || n_new == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < n; i++) {
        if (!is_name(f[i].vuln_id) || !is_name(f[i].package) || f[i].version == NULL ||
            f[i].source == NULL || f[i].source_version == NULL || f[i].severity == NULL ||
            !is_hex64(f[i].feed)) {
            return ATT_ERR_INVALID_ARG;
        }
    }
    *n_new = 0;
    store_lock(s);
    rc = txn_begin(s, __func__);
    /* the findings as they were: to keep found_at and to tell the new ones */
    if (rc == ATT_OK) {
        rc = exec_sql(s, __func__,
                      "CREATE TEMP TABLE IF NOT EXISTS prev_findings (vuln_id TEXT, package TEXT, "
                      "found_at INTEGER, PRIMARY KEY (vuln_id, package)); DELETE FROM "
                      "temp.prev_findings");
    }
    if (rc == ATT_OK) {
        rc = exec_host_container(s, __func__,
                                 "INSERT INTO temp.prev_findings SELECT vuln_id, package, "
                                 "found_at FROM vuln_findings WHERE host = ? AND container = ?",
                                 host, container);
    }
    if (rc == ATT_OK) {
        rc = exec_host_container(s, __func__,
                                 "DELETE FROM vuln_findings WHERE host = ? AND container = ?", host,
                                 container);
    }
    for (i = 0; rc == ATT_OK && i < n; i++) {
        rc = insert_finding(s, host, container, &f[i], now);
    }
    if (rc == ATT_OK) {
        rc = prepare_host_container(
            s, __func__,
            "SELECT count(*), coalesce(max(over_bar), 0) FROM vuln_findings AS v WHERE host = ? "
            "AND container = ? AND NOT EXISTS (SELECT 1 FROM temp.prev_findings AS p WHERE "
            "p.vuln_id = v.vuln_id AND p.package = v.package)",
            host, container, &st);
    }
    if (rc == ATT_OK) {
        src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            *n_new = (size_t)sqlite3_column_int64(st, 0);
            new_over = sqlite3_column_int64(st, 1);
        } else {
            rc = db_fail(s, __func__, src);
        }
    }
    release(s, st);
    st = NULL;
    if (rc == ATT_OK) {
        rc = prepare(s, __func__,
                     "UPDATE inventories SET judged = ?, recheck_at = ? WHERE host = ? AND "
                     "container = ?",
                     &st);
    }
    if (rc == ATT_OK) {
        binder_init(&b, st);
        bind_text(&b, judged);
        bind_i64(&b, recheck_at);
        bind_text(&b, host);
        bind_text(&b, container);
        rc = bind_check(s, __func__, &b);
    }
    if (rc == ATT_OK) {
        rc = step_done(s, __func__, st);
    }
    release(s, st);
    st = NULL;
    if (rc == ATT_OK && message != NULL && *n_new > 0) {
        rc = prepare(s, __func__, EVENT_INSERT, &st);
        if (rc == ATT_OK) {
            rc = insert_event(s, __func__, st, now, host,
                              new_over != 0 ? "vulnerability-found" : "vulnerability-noted",
                              message);
        }
        release(s, st);
    }
    if (rc == ATT_OK) {
        rc = txn_commit(s, __func__);
    }
    if (rc != ATT_OK) {
        txn_rollback(s, __func__);
        *n_new = 0;
    }
    store_unlock(s);
    return rc;
}

att_rc store_findings_list(struct store *s, const char *host, const char *container,
                           const char *image, struct store_finding **out, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    sqlite3_stmt *st = NULL;
    void *arr = NULL;
    size_t len = 0;
    struct binder b;

    if (s == NULL || out == NULL || n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    *out = NULL;
    *n = 0;
    store_lock(s);
    rc = prepare(s, __func__,
                 "SELECT " FINDING_COLS " FROM vuln_findings WHERE (?1 IS NULL OR host = ?1) AND "
                 "(?2 IS NULL OR container = ?2) AND (?3 IS NULL OR image = ?3) ORDER BY "
                 "over_bar DESC, CASE severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN "
                 "'medium' THEN 3 WHEN 'low' THEN 2 WHEN 'negligible' THEN 1 ELSE 0 END DESC, "
                 "fixed = '' ASC, vuln_id, host, container, package LIMIT 100000",
                 &st);
    if (rc == ATT_OK) {
        binder_init(&b, st);
        bind_text(&b, host);
        bind_text(&b, container);
        bind_text(&b, image);
        rc = bind_check(s, __func__, &b);
    }
    if (rc == ATT_OK) {
        rc = collect_rows(s, __func__, st, sizeof(struct store_finding), 100000, finding_row, &arr,
                          &len);
    }
    if (rc == ATT_OK) {
        *out = arr;
        *n = len;
        arr = NULL;
        len = 0;
    }
    store_finding_list_free(arr, len);
    release(s, st);
    store_unlock(s);
    return rc;
}
