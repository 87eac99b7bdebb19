//! Audit journal and bulk-run state (SQLite).
//!
//! One row per run (who, where, which script and digest, parameters, mode, outcome) and one per
//! write the guard saw (also held and refused ones), plus the per-line state of bulk runs.
//! The file is in WAL mode with a 5 s busy timeout, so several processes (two bulk runs, a
//! `vline journal list` during a run) can share it.

mod bulk;
mod chain;
mod lease;
mod schema;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::guard::{self, Impact};

pub use bulk::{BulkRow, RowEnd, RowStatus};
pub use chain::Verdict;
pub use lease::{process_start, Lease, Owner, HEARTBEAT, LEASE_TTL_MS};
pub use schema::CURRENT as SCHEMA_VERSION;

/// What went wrong with the journal file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: cannot create its directory: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("journal {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("journal: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("journal {path} has schema version {found}, newer than this vline knows ({known}); use a newer vline")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("journal: unreadable {what} {value:?} in run {run}")]
    Corrupt {
        run: RunId,
        what: &'static str,
        value: String,
    },
    #[error("journal: run {run} has no bulk row {key}")]
    NoBulkRow { run: RunId, key: String },
}

/// A run's number in the journal. Shown as `r12`; the command line takes `r12` or `12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl FromStr for RunId {
    type Err = String;

    fn from_str(s: &str) -> Result<RunId, String> {
        let t = s.trim();
        let digits = t.strip_prefix(['r', 'R']).unwrap_or(t);
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => Ok(RunId(n)),
            _ => Err(format!(
                "{s:?} is not a run id (they look like r12 or 12; `vline journal list` shows them)"
            )),
        }
    }
}

/// How a run ended (or that it has not yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    Running,
    Done,
    Failed,
    Refused,
    Interrupted,
}

/// What happened to one write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteOutcome {
    /// Sent to the service, which accepted it.
    Sent,
    /// Dry-run: added to the plan, not sent.
    Held,
    /// A guard refused it; not sent.
    Refused,
    /// Sent, and the service (or the network) failed it.
    Failed,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

impl FromStr for RunOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RunOutcome::parse(s).ok_or_else(|| format!("unknown outcome '{s}'"))
    }
}

text_enum!(RunOutcome { Running => "running", Done => "done", Failed => "failed", Refused => "refused", Interrupted => "interrupted" });
text_enum!(WriteOutcome { Sent => "sent", Held => "held", Refused => "refused", Failed => "failed" });

fn parse_impact(s: &str) -> Option<Impact> {
    [Impact::Read, Impact::Write, Impact::Irreversible]
        .into_iter()
        .find(|i| i.as_str() == s)
}

/// A run about to start.
#[derive(Clone, Debug)]
pub struct NewRun {
    pub operator: String,
    pub host: String,
    pub profile: String,
    pub script: String,
    /// sha256 of the script source, hex.
    pub script_digest: String,
    /// The run's parameters (redacted again before storing).
    pub params: Value,
    /// `run`, `dry-run`, `read-only`, `bulk` or `repl`.
    pub mode: String,
    pub outside_window_reason: Option<String>,
    /// The change ticket the run is made under (`--ticket`).
    pub ticket: Option<String>,
}

/// One write the guard saw, as the host reports it.
#[derive(Clone, Debug)]
pub struct WriteRecord {
    pub seq: u64,
    pub op: String,
    pub impact: Impact,
    pub target: String,
    /// Redacted again before storing, in case a caller forgot.
    pub params: Value,
    pub outcome: WriteOutcome,
    pub http_status: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// A run as `vline journal list` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: RunId,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub operator: String,
    pub host: String,
    pub profile: String,
    pub script: String,
    pub script_digest: String,
    pub params: Value,
    pub mode: String,
    pub outside_window_reason: Option<String>,
    pub outcome: RunOutcome,
    pub detail: String,
    /// Writes journaled for the run (sent, held, refused and failed).
    pub writes: u64,
    /// For `vline apply`: the SHA-256 of the saved plan it applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
    /// The change ticket the run was made under.
    pub ticket: Option<String>,
}

/// Which runs `vline journal list` (and `export`) shows: every given field must match.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub operator: Option<String>,
    /// A write's target contains this (a number, a user).
    pub target: Option<String>,
    /// A write's operation (`zoom::assign_number`, or `assign_number`).
    pub op: Option<String>,
    pub ticket: Option<String>,
    pub profile: Option<String>,
    pub outcome: Option<RunOutcome>,
    /// Started at or after (RFC 3339 or a date).
    pub since: Option<String>,
    /// Started before.
    pub until: Option<String>,
}

/// A journaled write.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WriteRow {
    pub run: RunId,
    pub seq: u64,
    pub at: String,
    pub op: String,
    pub impact: Impact,
    pub target: String,
    pub params: Value,
    pub outcome: WriteOutcome,
    pub http_status: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// The audit journal. `Send + Sync`; share it with `Arc`.
pub struct Journal {
    conn: Mutex<Connection>,
    path: String,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

/// Who runs vline: `$USER`, `$LOGNAME`, else `whoami`.
pub fn current_operator() -> String {
    ["VLINE_OPERATOR", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| {
            let out = std::process::Command::new("whoami").output().ok()?;
            let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (out.status.success() && !s.is_empty()).then_some(s)
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The machine's name: the kernel's hostname, `/etc/hostname`, else `$HOSTNAME`.
pub fn current_host() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .or_else(|| {
            std::env::var("HOSTNAME")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Now as stored: RFC 3339, UTC, milliseconds.
fn now_text() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| jiff::Timestamp::now().to_string())
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn json_text(v: &Value) -> String {
    guard::redact(v).to_string()
}

fn json_of(s: &str) -> Value {
    // Stored by us as JSON; if someone edited the file, show the text rather than fail.
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

impl Journal {
    /// Open (creating it and its directory if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::Dir {
                path: shown.clone(),
                source,
            })?;
        }
        let fresh = !path.exists();
        let open_err = |source| JournalError::Open {
            path: shown.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        if fresh {
            restrict_permissions(path);
        }
        conn.busy_timeout(Duration::from_secs(15))
            .map_err(open_err)?;
        // WAL lets readers and one writer work at once across processes; FULL sync because an
        // audit record that a power cut can lose is not much of a record. Switching a new file to
        // WAL takes an exclusive lock without waiting on the busy handler, so two runs starting
        // together on a fresh journal retry instead of failing.
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let r = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                .and_then(|_| {
                    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
                });
            match r {
                Ok(()) => break,
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(open_err(e)),
            }
        }
        Self::finish_open(conn, shown)
    }

    /// A journal that lives only as long as this value (tests, the REPL without a data dir).
    pub fn open_in_memory() -> Result<Journal, JournalError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        Self::finish_open(conn, ":memory:".to_string())
    }

    fn finish_open(conn: Connection, path: String) -> Result<Journal, JournalError> {
        let mut conn = conn;
        schema::migrate(&mut conn, &path)?;
        Ok(Journal {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The file this journal writes to (`:memory:` for an in-memory one).
    pub fn path(&self) -> &str {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A thread that panicked while holding the lock left SQLite consistent (each statement
        // is atomic), so the connection is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Record the start of a run; its outcome is `running` until [`Journal::finish_run`].
    pub fn start_run(&self, r: &NewRun) -> Result<RunId, JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO runs (started_at, operator, host, pid, profile, script, script_digest, params, mode, outside_window_reason,
                 lease_host, lease_pid, lease_started, ticket)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?4, ?12, ?13)",
            params![
                now_text(),
                r.operator,
                r.host,
                std::process::id(),
                r.profile,
                r.script,
                r.script_digest,
                json_text(&r.params),
                r.mode,
                r.outside_window_reason,
                current_host(),
                lease::process_start(std::process::id()).and_then(|s| i64::try_from(s).ok()),
                r.ticket,
            ],
        )?;
        let id = tx.last_insert_rowid();
        chain::append(&tx, chain::Kind::Run, id)?;
        chain::append(&tx, chain::Kind::State, id)?;
        tx.commit()?;
        Ok(RunId(id))
    }

    /// Record one write (sent, held in dry-run, refused or failed).
    pub fn record_write(&self, run: RunId, w: &WriteRecord) -> Result<(), JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO writes (run_id, seq, at, op, impact, target, params, outcome, http_status, duration_ms, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                run.0,
                i64_of(w.seq),
                now_text(),
                w.op,
                w.impact.as_str(),
                w.target,
                json_text(&w.params),
                w.outcome.as_str(),
                w.http_status,
                i64_of(w.duration_ms),
                w.error,
            ],
        )?;
        let id = tx.last_insert_rowid();
        chain::append(&tx, chain::Kind::Write, id)?;
        tx.commit()?;
        Ok(())
    }

    /// Record which saved plan (its SHA-256) a run applies.
    pub fn set_plan_digest(&self, run: RunId, digest: &str) -> Result<(), JournalError> {
        self.update_state(
            run,
            "UPDATE runs SET plan_digest = ?2 WHERE id = ?1",
            &[&run.0, &digest],
        )
    }

    /// Record how a run ended; `detail` is the one-line reason shown by `journal show`.
    pub fn finish_run(
        &self,
        run: RunId,
        outcome: RunOutcome,
        detail: &str,
    ) -> Result<(), JournalError> {
        let finished = (outcome != RunOutcome::Running).then(now_text);
        self.update_state(
            run,
            "UPDATE runs SET outcome = ?2, detail = ?3, finished_at = ?4 WHERE id = ?1",
            &[&run.0, &outcome.as_str(), &detail, &finished],
        )
    }

    /// Change a run's state and chain the change, in one transaction.
    fn update_state(
        &self,
        run: RunId,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<(), JournalError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(sql, args)?;
        chain::append(&tx, chain::Kind::State, run.0)?;
        tx.commit()?;
        Ok(())
    }

    /// Recompute the hash chain and hold every run and write against it (`vline journal verify`).
    pub fn verify(&self) -> Result<Verdict, JournalError> {
        chain::verify(&self.conn())
    }

    /// The latest `limit` runs that match `f`, newest first.
    pub fn runs_where(&self, f: &RunFilter, limit: usize) -> Result<Vec<RunSummary>, JournalError> {
        let mut sql = format!("{RUN_SELECT} WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        let mut add = |clause: &str, v: String| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(v) = &f.operator {
            add(" AND r.operator = ?", v.clone());
        }
        if let Some(v) = &f.ticket {
            add(" AND r.ticket = ?", v.clone());
        }
        if let Some(v) = &f.profile {
            add(" AND r.profile = ?", v.clone());
        }
        if let Some(v) = f.outcome {
            add(" AND r.outcome = ?", v.as_str().to_string());
        }
        if let Some(v) = &f.since {
            add(" AND r.started_at >= ?", v.clone());
        }
        if let Some(v) = &f.until {
            add(" AND r.started_at < ?", v.clone());
        }
        if let Some(v) = &f.target {
            add(
                " AND EXISTS (SELECT 1 FROM writes w WHERE w.run_id = r.id AND instr(w.target, ?) > 0)",
                v.clone(),
            );
        }
        if let Some(v) = &f.op {
            let full = if v.contains("::") {
                v.clone()
            } else {
                format!("%::{v}")
            };
            add(
                " AND EXISTS (SELECT 1 FROM writes w WHERE w.run_id = r.id AND w.op LIKE ?)",
                full,
            );
        }
        args.push(i64_of(limit as u64).to_string());
        sql.push_str(&format!(" ORDER BY r.id DESC LIMIT ?{}", args.len()));
        let conn = self.conn();
        let mut st = conn.prepare(&sql)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), raw_run)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(RawRun::into_summary).collect()
    }

    /// The latest `limit` runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, JournalError> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!("{RUN_SELECT} ORDER BY r.id DESC LIMIT ?1"))?;
        let rows = st
            .query_map([i64_of(limit as u64)], raw_run)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(RawRun::into_summary).collect()
    }

    /// One run and its writes in order, or `None` if there is no such run.
    pub fn run(&self, id: RunId) -> Result<Option<(RunSummary, Vec<WriteRow>)>, JournalError> {
        let raw = {
            let conn = self.conn();
            conn.query_row(&format!("{RUN_SELECT} WHERE r.id = ?1"), [id.0], raw_run)
                .optional()?
        };
        let Some(raw) = raw else { return Ok(None) };
        let summary = raw.into_summary()?;
        let writes = self.writes(Some(id))?;
        Ok(Some((summary, writes)))
    }

    /// A mark in the run's writes: [`Journal::writes_since`] returns those journaled after it.
    pub fn write_mark(&self) -> Result<i64, JournalError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT coalesce(max(id), 0) FROM writes")?
            .query_row([], |r| r.get(0))?)
    }

    /// The run's writes journaled after `mark`, in order.
    pub fn writes_since(&self, run: RunId, mark: i64) -> Result<Vec<WriteRow>, JournalError> {
        let all = self.writes_where(Some(run), mark)?;
        Ok(all)
    }

    /// All writes (of one run, or of every run), ordered by run and sequence.
    pub fn writes(&self, run: Option<RunId>) -> Result<Vec<WriteRow>, JournalError> {
        self.writes_where(run, 0)
    }

    fn writes_where(&self, run: Option<RunId>, after: i64) -> Result<Vec<WriteRow>, JournalError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT run_id, seq, at, op, impact, target, params, outcome, http_status, duration_ms, error
             FROM writes WHERE (?1 IS NULL OR run_id = ?1) AND id > ?2 ORDER BY run_id, seq, id",
        )?;
        let raws = st
            .query_map(params![run.map(|r| r.0), after], |r| {
                Ok((
                    RunId(r.get(0)?),
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter()
            .map(
                |(run, seq, at, op, impact, target, params, outcome, status, ms, error)| {
                    Ok(WriteRow {
                        impact: parse_impact(&impact).ok_or(JournalError::Corrupt {
                            run,
                            what: "impact",
                            value: impact,
                        })?,
                        outcome: WriteOutcome::parse(&outcome).ok_or(JournalError::Corrupt {
                            run,
                            what: "write outcome",
                            value: outcome,
                        })?,
                        run,
                        seq: seq.max(0) as u64,
                        at,
                        op,
                        target,
                        params: json_of(&params),
                        http_status: status.and_then(|s| u16::try_from(s).ok()),
                        duration_ms: ms.max(0) as u64,
                        error,
                    })
                },
            )
            .collect()
    }
}

const RUN_SELECT: &str = "SELECT r.id, r.started_at, r.finished_at, r.operator, r.host, r.profile, r.script, r.script_digest,
        r.params, r.mode, r.outside_window_reason, r.outcome, r.detail,
        (SELECT count(*) FROM writes w WHERE w.run_id = r.id), r.plan_digest, r.ticket
    FROM runs r";

/// A run row as SQLite gives it, before its text columns are parsed.
struct RawRun {
    id: RunId,
    started_at: String,
    finished_at: Option<String>,
    operator: String,
    host: String,
    profile: String,
    script: String,
    script_digest: String,
    params: String,
    mode: String,
    outside_window_reason: Option<String>,
    outcome: String,
    detail: String,
    writes: i64,
    plan_digest: Option<String>,
    ticket: Option<String>,
}

fn raw_run(r: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok(RawRun {
        id: RunId(r.get(0)?),
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        operator: r.get(3)?,
        host: r.get(4)?,
        profile: r.get(5)?,
        script: r.get(6)?,
        script_digest: r.get(7)?,
        params: r.get(8)?,
        mode: r.get(9)?,
        outside_window_reason: r.get(10)?,
        outcome: r.get(11)?,
        detail: r.get(12)?,
        writes: r.get(13)?,
        plan_digest: r.get(14)?,
        ticket: r.get(15)?,
    })
}

impl RawRun {
    fn into_summary(self) -> Result<RunSummary, JournalError> {
        let outcome = RunOutcome::parse(&self.outcome).ok_or(JournalError::Corrupt {
            run: self.id,
            what: "run outcome",
            value: self.outcome.clone(),
        })?;
        Ok(RunSummary {
            id: self.id,
            started_at: self.started_at,
            finished_at: self.finished_at,
            operator: self.operator,
            host: self.host,
            profile: self.profile,
            script: self.script,
            script_digest: self.script_digest,
            params: json_of(&self.params),
            mode: self.mode,
            outside_window_reason: self.outside_window_reason,
            outcome,
            detail: self.detail,
            writes: self.writes.max(0) as u64,
            plan_digest: self.plan_digest,
            ticket: self.ticket,
        })
    }
}

/// The journal names operators and targets: keep it to its owner.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(
                "journal {}: could not make it private (0600): {e}",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests;

/// SQLite's "another connection holds the lock" answers.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
