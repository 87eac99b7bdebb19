//! Bulk-run state: one row per CSV line, and the row keys (numbers) a running bulk run holds so a
//! second run on the same numbers is stopped before it changes anything.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{i64_of, json_of, text_enum, Journal, JournalError, RunId, RunOutcome};

/// Where one CSV line of a bulk run stands.
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
}

text_enum!(RowStatus { Pending => "pending", InFlight => "in_flight", Done => "done", Failed => "failed", Skipped => "skipped" });

/// One CSV line of a bulk run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BulkRow {
    pub line: u64,
    /// What identifies the row across runs, e.g. the E.164 number.
    pub key: String,
    pub row: Value,
    pub status: RowStatus,
    pub detail: String,
    pub zoom_number_id: Option<String>,
    /// How many times the row was started (more than 1 after a resume of an in-flight row).
    pub attempts: u64,
    pub duration_ms: Option<u64>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Journal {
    /// Register the rows of a bulk run as `pending`. Lines already registered for this run keep
    /// their state, so a resume may call it again.
    pub fn bulk_rows_begin(
        &self,
        run: RunId,
        rows: &[(u64, String, String)],
    ) -> Result<(), JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare("INSERT OR IGNORE INTO bulk_rows (run_id, line, row_key, row_json) VALUES (?1, ?2, ?3, ?4)")?;
            for (line, key, json) in rows {
                st.execute(params![run.0, i64_of(*line), key, json])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Mark a line `in_flight` just before its first call.
    pub fn bulk_row_started(&self, run: RunId, line: u64) -> Result<(), JournalError> {
        let n = self.conn().execute(
            "UPDATE bulk_rows SET status = 'in_flight', attempts = attempts + 1, started_ms = ?3, finished_ms = NULL
             WHERE run_id = ?1 AND line = ?2",
            params![run.0, i64_of(line), now_ms()],
        )?;
        if n == 0 {
            return Err(JournalError::NoBulkRow { run, line });
        }
        Ok(())
    }

    /// Record how a line ended (`Done`, `Failed` or `Skipped`).
    pub fn bulk_row_finished(
        &self,
        run: RunId,
        line: u64,
        status: RowStatus,
        detail: &str,
        zoom_number_id: Option<&str>,
        duration_ms: u64,
    ) -> Result<(), JournalError> {
        let n = self.conn().execute(
            "UPDATE bulk_rows SET status = ?3, detail = ?4, zoom_number_id = coalesce(?5, zoom_number_id),
                 finished_ms = ?6, duration_ms = ?7, started_ms = coalesce(started_ms, ?6 - ?7)
             WHERE run_id = ?1 AND line = ?2",
            params![run.0, i64_of(line), status.as_str(), detail, zoom_number_id, now_ms(), i64_of(duration_ms)],
        )?;
        if n == 0 {
            return Err(JournalError::NoBulkRow { run, line });
        }
        Ok(())
    }

    /// Every line of a bulk run, in line order.
    pub fn bulk_rows(&self, run: RunId) -> Result<Vec<BulkRow>, JournalError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT line, row_key, row_json, status, detail, zoom_number_id, attempts, duration_ms
             FROM bulk_rows WHERE run_id = ?1 ORDER BY line",
        )?;
        let raws = st
            .query_map([run.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter()
            .map(
                |(line, key, row, status, detail, zoom_number_id, attempts, ms)| {
                    Ok(BulkRow {
                        line: line.max(0) as u64,
                        key,
                        row: json_of(&row),
                        status: RowStatus::parse(&status).ok_or(JournalError::Corrupt {
                            run,
                            what: "row status",
                            value: status,
                        })?,
                        detail,
                        zoom_number_id,
                        attempts: attempts.max(0) as u64,
                        duration_ms: ms.map(|m| m.max(0) as u64),
                    })
                },
            )
            .collect()
    }

    /// Claim row keys for `run`. Returns the keys another unfinished run already holds, with that
    /// run, so the caller can tell the operator who is working on them; the other keys are
    /// claimed. A claim ends when its run finishes. Claiming for a run that had ended (a resume)
    /// marks it `running` again. A run whose process died on this host without finishing is
    /// marked `interrupted` here, which frees its keys.
    pub fn claim_keys(
        &self,
        run: RunId,
        keys: &[String],
    ) -> Result<Vec<(String, RunId)>, JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        mark_dead_runs(&tx, run)?;
        // Claiming is what a run does when it starts working on rows; a resume claims for a run
        // that had ended, which makes it running again under this process.
        tx.execute(
            "UPDATE runs SET outcome = 'running', finished_at = NULL, pid = ?2 WHERE id = ?1 AND outcome <> 'running'",
            params![run.0, std::process::id()],
        )?;
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

/// Runs still marked `running` whose process on this host is gone died without finishing.
fn mark_dead_runs(tx: &rusqlite::Transaction<'_>, except: RunId) -> Result<(), JournalError> {
    if !std::path::Path::new("/proc/self").exists() {
        // No cheap liveness check here: leave them; the holder is named to the operator.
        return Ok(());
    }
    let host = super::current_host();
    let me = std::process::id() as i64;
    let candidates = {
        let mut st = tx.prepare("SELECT id, pid FROM runs WHERE outcome = 'running' AND host = ?1 AND id <> ?2 AND pid <> ?3")?;
        let rows = st.query_map(params![host, except.0, me], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    for (id, pid) in candidates {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            tx.execute(
                "UPDATE runs SET outcome = ?2, detail = ?3, finished_at = ?4 WHERE id = ?1 AND outcome = 'running'",
                params![
                    id,
                    RunOutcome::Interrupted.as_str(),
                    format!("process {pid} on {host} ended without finishing the run"),
                    super::now_text()
                ],
            )?;
        }
    }
    Ok(())
}
