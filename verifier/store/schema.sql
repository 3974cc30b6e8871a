-- SPDX-License-Identifier: Apache-2.0
-- The verifier store schema, version 4 (PRAGMA user_version = 4): migrations 1 to 4.
-- Documentation copy: the migrations that build it are embedded in
-- store_sqlite.c (migrations[]), and test_store checks that this file
-- creates the same schema as a fresh store. When a migration is added,
-- update this file to the cumulative result.
--
-- hosts     one row per enrolled host, with its incremental appraisal state.
-- policies  policy JSON by unique name; hosts.policy references it.
-- verdicts  append-only verdict history; host is plain text, not a key,
--           so the history outlives the host.
-- events    append-only event history; AUTOINCREMENT ids are never reused.
-- tokens    API tokens: sha256 of the secret only, with a role.
-- containers, orders (v2, v3): per-container verdicts and the quarantine outbox.
-- vulnfeeds (v4): every imported vulnerability feed, append-only; the newest is current.
-- inventory_parts, inventories, vuln_findings (v4): measured package inventories
--           and what the current feed finds in them.
-- The triggers make verdicts, events and feeds append-only.

PRAGMA application_id = 1096045396;
CREATE TABLE policies (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    json       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE hosts (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    agent_url        TEXT NOT NULL,
    ek_alg           TEXT NOT NULL CHECK (ek_alg IN ('rsa', 'ecc')),
    ek_pub           BLOB NOT NULL,
    ek_cert          BLOB,
    ak_pub           BLOB NOT NULL,
    ak_name          TEXT NOT NULL,
    meas_pcr         INTEGER NOT NULL CHECK (meas_pcr BETWEEN 0 AND 23),
    policy           TEXT REFERENCES policies (name) ON UPDATE RESTRICT ON DELETE RESTRICT,
    enrolled_at      INTEGER NOT NULL,
    boot_id          TEXT,
    reset_count      INTEGER NOT NULL DEFAULT 0,
    restart_count    INTEGER NOT NULL DEFAULT 0,
    log_offset       INTEGER NOT NULL DEFAULT 0,
    pcr_value        BLOB NOT NULL DEFAULT (zeroblob(32)) CHECK (length(pcr_value) = 32),
    verdict          TEXT NOT NULL DEFAULT 'pending',
    verdict_reason   TEXT,
    last_attested_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hosts_policy ON hosts (policy);
CREATE TABLE verdicts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    host          TEXT NOT NULL,
    verdict       TEXT NOT NULL,
    reason        TEXT,
    findings_json TEXT NOT NULL DEFAULT '[]',
    log_from      INTEGER NOT NULL,
    log_to        INTEGER NOT NULL
);
CREATE INDEX verdicts_host_id ON verdicts (host, id);
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    host    TEXT,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_host_id ON events (host, id);
CREATE INDEX events_kind_id ON events (kind, id);
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at INTEGER NOT NULL
);
CREATE TRIGGER verdicts_no_update BEFORE UPDATE ON verdicts
BEGIN SELECT RAISE(ABORT, 'verdicts are append-only'); END;
CREATE TRIGGER verdicts_no_delete BEFORE DELETE ON verdicts
BEGIN SELECT RAISE(ABORT, 'verdicts are append-only'); END;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
-- migration 2: per-container verdicts, replaced as a whole by each trusted round
CREATE TABLE containers (
    host       TEXT NOT NULL,
    id         TEXT NOT NULL CHECK (length(id) = 64),
    image      TEXT NOT NULL DEFAULT '',
    policy     TEXT NOT NULL DEFAULT '',
    failed     INTEGER NOT NULL CHECK (failed IN (0, 1)),
    code       TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    entry      INTEGER NOT NULL DEFAULT -1,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (host, id)
);
-- migration 3: the outbox of quarantine orders (DESIGN §6); never deleted, an
-- order and a recorded lift are never rewritten, states only move forward
CREATE TABLE orders (
    id            TEXT PRIMARY KEY CHECK (length(id) = 32),
    host          TEXT NOT NULL,
    container     TEXT NOT NULL CHECK (length(container) = 64),
    image         TEXT NOT NULL DEFAULT '',
    actions       TEXT NOT NULL,
    reason        TEXT NOT NULL,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    envelope      BLOB NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'enforced', 'refused', 'lift-pending', 'lifted', 'expired')),
    result        TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  INTEGER NOT NULL DEFAULT 0,
    acked_at      INTEGER,
    lift_id       TEXT CHECK (lift_id IS NULL OR length(lift_id) = 32),
    lift_envelope BLOB,
    lifted_by     TEXT,
    lift_reason   TEXT,
    lifted_at     INTEGER
);
CREATE UNIQUE INDEX orders_open ON orders (host, container) WHERE state IN ('pending', 'enforced', 'refused', 'lift-pending');
CREATE INDEX orders_host ON orders (host, state);
CREATE UNIQUE INDEX orders_lift_id ON orders (lift_id) WHERE lift_id IS NOT NULL;
CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders
BEGIN SELECT RAISE(ABORT, 'orders are never deleted'); END;
CREATE TRIGGER orders_fixed BEFORE UPDATE OF id, host, container, image, actions, reason, issued_at, expires_at, envelope ON orders
BEGIN SELECT RAISE(ABORT, 'an order is never rewritten'); END;
CREATE TRIGGER orders_lift_fixed BEFORE UPDATE OF lift_id, lift_envelope, lifted_by, lift_reason, lifted_at ON orders WHEN OLD.lift_id IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a lift is never rewritten'); END;
CREATE TRIGGER orders_state BEFORE UPDATE OF state ON orders WHEN NOT (
    NEW.state = OLD.state
    OR (OLD.state = 'pending' AND NEW.state IN ('enforced', 'refused', 'expired', 'lift-pending'))
    OR (OLD.state IN ('enforced', 'refused', 'expired') AND NEW.state = 'lift-pending')
    OR (OLD.state = 'expired' AND NEW.state = 'enforced')
    OR (OLD.state = 'lift-pending' AND NEW.state = 'lifted'))
BEGIN SELECT RAISE(ABORT, 'no such order state change'); END;
CREATE TABLE vulnfeeds (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    digest        TEXT NOT NULL UNIQUE CHECK (length(digest) = 64),
    source        TEXT NOT NULL,
    source_digest TEXT NOT NULL CHECK (length(source_digest) = 64),
    feed_time     INTEGER NOT NULL,
    imported_at   INTEGER NOT NULL,
    imported_by   TEXT NOT NULL,
    n_entries     INTEGER NOT NULL CHECK (n_entries >= 0),
    body          BLOB NOT NULL
);
CREATE TRIGGER vulnfeeds_no_update BEFORE UPDATE ON vulnfeeds
BEGIN SELECT RAISE(ABORT, 'feeds are append-only'); END;
CREATE TRIGGER vulnfeeds_no_delete BEFORE DELETE ON vulnfeeds
BEGIN SELECT RAISE(ABORT, 'feeds are append-only'); END;
CREATE TABLE inventory_parts (
    host      TEXT NOT NULL,
    container TEXT NOT NULL CHECK (length(container) = 64),
    digest    TEXT NOT NULL CHECK (length(digest) = 64),
    part      INTEGER NOT NULL CHECK (part >= 1),
    n         INTEGER NOT NULL CHECK (n >= part AND n <= 1024),
    body      BLOB NOT NULL,
    PRIMARY KEY (host, container, digest, part)
);
CREATE TABLE inventories (
    host       TEXT NOT NULL,
    container  TEXT NOT NULL CHECK (length(container) = 64),
    digest     TEXT NOT NULL CHECK (length(digest) = 64),
    image      TEXT NOT NULL DEFAULT '',
    ecosystem  TEXT NOT NULL DEFAULT '',
    n_packages INTEGER NOT NULL,
    body       TEXT NOT NULL,
    unjudgeable TEXT NOT NULL DEFAULT '',
    judged     TEXT NOT NULL DEFAULT '',
    recheck_at INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (host, container)
);
CREATE INDEX inventories_image ON inventories (image);
CREATE TABLE vuln_findings (
    host           TEXT NOT NULL,
    container      TEXT NOT NULL CHECK (length(container) = 64),
    image          TEXT NOT NULL DEFAULT '',
    vuln_id        TEXT NOT NULL,
    aliases        TEXT NOT NULL DEFAULT '',
    package        TEXT NOT NULL,
    version        TEXT NOT NULL,
    source         TEXT NOT NULL,
    source_version TEXT NOT NULL,
    fixed          TEXT NOT NULL DEFAULT '',
    severity       TEXT NOT NULL,
    over_bar       INTEGER NOT NULL CHECK (over_bar IN (0, 1)),
    allowed        INTEGER NOT NULL CHECK (allowed IN (0, 1)),
    feed           TEXT NOT NULL,
    found_at       INTEGER NOT NULL,
    PRIMARY KEY (host, container, vuln_id, package)
);
CREATE INDEX vuln_findings_image ON vuln_findings (image);
