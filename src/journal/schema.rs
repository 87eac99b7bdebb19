//! The journal's tables and their migrations, in one place.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up; the applied version lives in
//! `schema_version`. Never edit a released migration: append a new one.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::JournalError;

/// Migration `i` brings the schema to version `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: runs, writes, bulk rows and bulk key claims.
    "
    CREATE TABLE runs (
        id                    INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at            TEXT NOT NULL,
        finished_at           TEXT,
        operator              TEXT NOT NULL,
        host                  TEXT NOT NULL,
        pid                   INTEGER NOT NULL,
        profile               TEXT NOT NULL,
        script                TEXT NOT NULL,
        script_digest         TEXT NOT NULL,
        params                TEXT NOT NULL,
        mode                  TEXT NOT NULL,
        outside_window_reason TEXT,
        outcome               TEXT NOT NULL DEFAULT 'running',
        detail                TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX runs_profile_script ON runs (profile, script, mode);
    CREATE INDEX runs_outcome ON runs (outcome);

    CREATE TABLE writes (
        id          INTEGER PRIMARY KEY,
        run_id      INTEGER NOT NULL REFERENCES runs (id),
        seq         INTEGER NOT NULL,
        at          TEXT NOT NULL,
        op          TEXT NOT NULL,
        impact      TEXT NOT NULL,
        target      TEXT NOT NULL,
        params      TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        http_status INTEGER,
        duration_ms INTEGER NOT NULL,
        error       TEXT
    );
    CREATE INDEX writes_run ON writes (run_id, seq);

    CREATE TABLE bulk_rows (
        run_id         INTEGER NOT NULL REFERENCES runs (id),
        line           INTEGER NOT NULL,
        row_key        TEXT NOT NULL,
        row_json       TEXT NOT NULL,
        status         TEXT NOT NULL DEFAULT 'pending',
        detail         TEXT NOT NULL DEFAULT '',
        zoom_number_id TEXT,
        attempts       INTEGER NOT NULL DEFAULT 0,
        started_ms     INTEGER,
        finished_ms    INTEGER,
        duration_ms    INTEGER,
        PRIMARY KEY (run_id, line)
    );

    CREATE TABLE bulk_claims (
        row_key TEXT NOT NULL,
        run_id  INTEGER NOT NULL REFERENCES runs (id),
        PRIMARY KEY (row_key, run_id)
    );
    ",
    // 2: bulk rows keyed by the row's identity (not its line, which moves when the file is
    // edited between attempts), with the Movius account and the first failure kept; the run's
    // lease (who works it now: host, pid, the process's start time, a heartbeat).
    "
    ALTER TABLE runs ADD COLUMN lease_host TEXT;
    ALTER TABLE runs ADD COLUMN lease_pid INTEGER;
    ALTER TABLE runs ADD COLUMN lease_started INTEGER;
    ALTER TABLE runs ADD COLUMN lease_heartbeat_ms INTEGER;

    CREATE TABLE bulk_rows_v2 (
        run_id            INTEGER NOT NULL REFERENCES runs (id),
        row_key           TEXT NOT NULL,
        line              INTEGER NOT NULL,
        row_json          TEXT NOT NULL,
        status            TEXT NOT NULL DEFAULT 'pending',
        detail            TEXT NOT NULL DEFAULT '',
        zoom_number_id    TEXT,
        movius_account_id TEXT,
        first_failure     TEXT,
        attempts          INTEGER NOT NULL DEFAULT 0,
        started_ms        INTEGER,
        finished_ms       INTEGER,
        duration_ms       INTEGER,
        PRIMARY KEY (run_id, row_key)
    );
    INSERT OR IGNORE INTO bulk_rows_v2
        (run_id, row_key, line, row_json, status, detail, zoom_number_id, attempts, started_ms, finished_ms, duration_ms)
        SELECT run_id, CASE WHEN row_key = '' THEN 'line ' || line ELSE row_key END, line, row_json,
               status, detail, zoom_number_id, attempts, started_ms, finished_ms, duration_ms
        FROM bulk_rows;
    DROP TABLE bulk_rows;
    ALTER TABLE bulk_rows_v2 RENAME TO bulk_rows;
    CREATE INDEX bulk_rows_line ON bulk_rows (run_id, line);
    ",
    // 3: the digest of the saved plan a run applied (`vline apply`).
    "ALTER TABLE runs ADD COLUMN plan_digest TEXT;",
    // 4: the change ticket a run was made under; the hash chain over runs and writes (rows
    // already there are sealed into it when this migration runs, see `migrate`).
    "
    ALTER TABLE runs ADD COLUMN ticket TEXT;
    CREATE TABLE chain (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        kind    TEXT NOT NULL,
        ref_id  INTEGER NOT NULL,
        payload TEXT NOT NULL,
        hash    TEXT NOT NULL
    );
    ",
];

/// The migration that creates the hash chain: rows older than it are sealed into it then.
const CHAIN_MIGRATION: usize = 3;

/// The newest schema this build knows.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Bring the schema up to date. Runs under an immediate transaction so two processes opening a
/// fresh journal at once migrate it exactly once.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<(), JournalError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let found: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .optional()?
        .flatten();
    let found = found.unwrap_or(0);
    if found > CURRENT {
        return Err(JournalError::TooNew {
            path: path.to_string(),
            found,
            known: CURRENT,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        if i == CHAIN_MIGRATION {
            super::chain::seal_existing(&tx)?;
        }
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [i as i64 + 1],
        )?;
    }
    tx.commit()?;
    Ok(())
}
