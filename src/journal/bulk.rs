//! Bulk-run state: one row per row key (the row's identifying parameters, not its line), and the
//! row keys a running bulk run holds so a second run on the same rows is stopped before it
//! changes anything.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{i64_of, json_of, text_enum, Journal, JournalError, RunId};

/// Where one row of a bulk run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Not started yet.
    Pending,
    /// Started; if the run died now, a resume runs it again (procedures check state first).
    InFlight,
    Done,
    Failed,
    /// Nothing to do (already in the wanted state) or skipped on resume.
    Skipped,
    /// Its calls were abandoned (a second Ctrl-C, or the drain's time ran out): what was sent
    /// for it is in its detail; a resume re-checks it.
    Interrupted,
    /// A dry run held its writes: a plan, never "done".
    Planned,
}

text_enum!(RowStatus { Pending => "pending", InFlight => "in_flight", Done => "done", Failed => "failed", Skipped => "skipped", Interrupted => "interrupted", Planned => "planned" });

impl RowStatus {
    /// Nothing left to do for the row: a resume skips it.
    pub fn is_done(self) -> bool {
        matches!(self, RowStatus::Done | RowStatus::Skipped)
    }
}

/// One row of a bulk run, known by its key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BulkRow {
    /// Its line in the file of the latest attempt.
    pub line: u64,
    /// What identifies the row across attempts and runs: its identifying parameters.
    pub key: String,
    pub row: Value,
    pub status: RowStatus,
    pub detail: String,
    pub zoom_number_id: Option<String>,
    pub movius_account_id: Option<String>,
    /// The reason of its first failure or interruption, kept when a later attempt changes it.
    pub first_failure: Option<String>,
    /// How many times the row was started (more than 1 after a resume of an in-flight row).
    pub attempts: u64,
    pub duration_ms: Option<u64>,
}

/// How a row ended, as the worker reports it.
#[derive(Clone, Copy, Debug)]
pub struct RowEnd<'a> {
    pub status: RowStatus,
    pub detail: &'a str,
    pub zoom_number_id: Option<&'a str>,
    pub movius_account_id: Option<&'a str>,
    pub duration_ms: u64,
}

/// An update that must have found its row (`n` rows changed).
fn one_row(n: usize, run: RunId, key: &str) -> Result<(), JournalError> {
    if n == 0 {
        return Err(JournalError::NoBulkRow {
            run,
            key: key.to_string(),
        });
    }
    Ok(())
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Journal {
    /// Register rows (line, key, row JSON) of a bulk run as `pending`. A key already registered
    /// keeps its state and takes the new line (the file was edited between attempts).
    pub fn bulk_rows_begin(
        &self,
        run: RunId,
        rows: &[(u64, String, String)],
    ) -> Result<(), JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare(
                "INSERT INTO bulk_rows (run_id, line, row_key, row_json) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (run_id, row_key) DO UPDATE SET line = excluded.line",
            )?;
            for (line, key, json) in rows {
                st.execute(params![run.0, i64_of(*line), key, json])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Mark a row `in_flight` just before its first call.
    pub fn bulk_row_started(&self, run: RunId, key: &str) -> Result<(), JournalError> {
        // Cached: every row of a run runs these statements (parsing them was 15 % of a row).
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "UPDATE bulk_rows SET status = 'in_flight', attempts = attempts + 1, started_ms = ?3, finished_ms = NULL
             WHERE run_id = ?1 AND row_key = ?2",
        )?;
        let n = st.execute(params![run.0, key, now_ms()])?;
        one_row(n, run, key)
    }

    /// Record how a row ended. The first failure's reason is kept beside the latest detail.
    pub fn bulk_row_finished(
        &self,
        run: RunId,
        key: &str,
        end: &RowEnd<'_>,
    ) -> Result<(), JournalError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "UPDATE bulk_rows SET status = ?3, detail = ?4, zoom_number_id = coalesce(?5, zoom_number_id),
                 movius_account_id = coalesce(?6, movius_account_id),
                 first_failure = CASE WHEN first_failure IS NULL AND ?3 IN ('failed', 'interrupted') THEN ?4 ELSE first_failure END,
                 finished_ms = ?7, duration_ms = ?8, started_ms = coalesce(started_ms, ?7 - ?8)
             WHERE run_id = ?1 AND row_key = ?2",
        )?;
        let n = st.execute(params![
            run.0,
            key,
            end.status.as_str(),
            end.detail,
            end.zoom_number_id,
            end.movius_account_id,
            now_ms(),
            i64_of(end.duration_ms)
        ])?;
        one_row(n, run, key)
    }

    /// A row found wrong after it finished (the end-of-run check of a bulk run): failed, with
    /// why, its timings kept.
    pub fn bulk_row_failed_after(
        &self,
        run: RunId,
        key: &str,
        detail: &str,
    ) -> Result<(), JournalError> {
        let n = self.conn().execute(
            "UPDATE bulk_rows SET status = 'failed', detail = ?3,
                 first_failure = coalesce(first_failure, ?3)
             WHERE run_id = ?1 AND row_key = ?2",
            params![run.0, key, detail],
        )?;
        one_row(n, run, key)
    }

    /// Every row of a bulk run, in the line order of its latest attempt.
    pub fn bulk_rows(&self, run: RunId) -> Result<Vec<BulkRow>, JournalError> {
        let mut out = Vec::new();
        self.for_each_bulk_row(run, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Call `f` on every row of a bulk run, in line order, without holding them all. The journal
    /// is locked meanwhile: `f` must not call it.
    pub fn for_each_bulk_row(
        &self,
        run: RunId,
        mut f: impl FnMut(BulkRow) -> Result<(), JournalError>,
    ) -> Result<(), JournalError> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {ROW_COLS} FROM bulk_rows WHERE run_id = ?1 ORDER BY line, row_key"
        ))?;
        let mut rows = st.query([run.0])?;
        while let Some(r) = rows.next()? {
            f(read_row(run, r)?)?;
        }
        Ok(())
    }

    /// One row of a bulk run, by key.
    pub fn bulk_row(&self, run: RunId, key: &str) -> Result<Option<BulkRow>, JournalError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {ROW_COLS} FROM bulk_rows WHERE run_id = ?1 AND row_key = ?2"
        ))?;
        let mut rows = st.query(params![run.0, key])?;
        match rows.next()? {
            Some(r) => Ok(Some(read_row(run, r)?)),
            None => Ok(None),
        }
    }

    /// Claim row keys for `run`. Returns the keys another unfinished run already holds, with that
    /// run, so the caller can tell the operator who is working on them; the other keys are
    /// claimed. A claim ends when its run finishes. A run whose owner died (see
    /// [`Journal::take_lease`]) is marked `interrupted` here, which frees its keys.
    pub fn claim_keys(
        &self,
        run: RunId,
        keys: &[String],
    ) -> Result<Vec<(String, RunId)>, JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        super::lease::mark_dead_runs(&tx, run)?;
        let mut held = Vec::new();
        {
            let mut holder = tx.prepare(
                "SELECT c.run_id FROM bulk_claims c JOIN runs r ON r.id = c.run_id
                 WHERE c.row_key = ?1 AND c.run_id <> ?2 AND r.outcome = 'running'
                 ORDER BY c.run_id LIMIT 1",
            )?;
            let mut claim =
                tx.prepare("INSERT OR IGNORE INTO bulk_claims (row_key, run_id) VALUES (?1, ?2)")?;
            for key in keys {
                match holder
                    .query_row(params![key, run.0], |r| r.get::<_, i64>(0))
                    .optional()?
                {
                    Some(other) => held.push((key.clone(), RunId(other))),
                    None => {
                        claim.execute(params![key, run.0])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(held)
    }

    /// Rows per second the last finished bulk run of `script` on `profile` reached (rows that were
    /// done or failed, over the time from the first start to the last finish); `None` if there is
    /// no such run yet.
    pub fn last_rate(&self, profile: &str, script: &str) -> Result<Option<f64>, JournalError> {
        let conn = self.conn();
        let mut runs = conn.prepare(
            "SELECT id FROM runs WHERE profile = ?1 AND script = ?2 AND mode = 'bulk' AND outcome <> 'running'
             ORDER BY id DESC LIMIT 20",
        )?;
        let ids = runs
            .query_map(params![profile, script], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut span = conn.prepare(
            "SELECT count(*), min(started_ms), max(finished_ms) FROM bulk_rows
             WHERE run_id = ?1 AND status IN ('done', 'failed') AND finished_ms IS NOT NULL",
        )?;
        for id in ids {
            let (n, first, last): (i64, Option<i64>, Option<i64>) =
                span.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            // A run that processed nothing tells us nothing about speed; look further back.
            if let (true, Some(first), Some(last)) = (n > 0, first, last) {
                let secs = (last - first).max(1) as f64 / 1000.0;
                return Ok(Some(n as f64 / secs));
            }
        }
        Ok(None)
    }
}

const ROW_COLS: &str = "line, row_key, row_json, status, detail, zoom_number_id, movius_account_id,
    first_failure, attempts, duration_ms";

fn read_row(run: RunId, r: &rusqlite::Row<'_>) -> Result<BulkRow, JournalError> {
    let status: String = r.get(3)?;
    Ok(BulkRow {
        line: r.get::<_, i64>(0)?.max(0) as u64,
        key: r.get(1)?,
        row: json_of(&r.get::<_, String>(2)?),
        status: RowStatus::parse(&status).ok_or(JournalError::Corrupt {
            run,
            what: "row status",
            value: status,
        })?,
        detail: r.get(4)?,
        zoom_number_id: r.get(5)?,
        movius_account_id: r.get(6)?,
        first_failure: r.get(7)?,
        attempts: r.get::<_, i64>(8)?.max(0) as u64,
        duration_ms: r.get::<_, Option<i64>>(9)?.map(|m| m.max(0) as u64),
    })
}
