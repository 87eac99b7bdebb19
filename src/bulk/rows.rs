//! The rows of a bulk run, driven through `bulk::pool` (`bulk::job::run` prepares and
//! confirms the run, then hands its rows here): the workers share one engine and the compiled
//! script, every call goes through the process-wide rate limiter, every row's outcome is
//! journaled the moment it finishes, and results stream to a CSV.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::host::engine;
use crate::host::script::{explain, Failure, Script};
use crate::host::session::Session;
use crate::host::value::to_json;
use crate::journal::{Journal, RowEnd, RowStatus, RunId, WriteOutcome};

use super::concurrency::{AutoTuner, Concurrency, AUTO_START, MAX_WORKERS};
use super::identity::record_key;
use super::pool::Pool;
use super::progress::Progress;
use super::results;
use super::validate::{bind_row, BoundRow};

/// After the first Ctrl-C, how long the rows in flight may take to finish before their calls
/// are abandoned.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// How often (at most) the results file is rewritten while a run works.
const RESULTS_EVERY: Duration = Duration::from_secs(10);

/// What a bulk run did.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub run: String,
    pub rows: u64,
    pub done: u64,
    pub failed: u64,
    /// Done in an earlier attempt of this run (`--resume`).
    pub skipped: u64,
    /// Their calls were abandoned (a second Ctrl-C, or the drain ran out of time); a resume
    /// re-checks them.
    pub interrupted: u64,
    /// Dry run: rows whose writes were held (a plan; nothing was done).
    pub planned: u64,
    /// Rows of the run that are not in this attempt's file (keys), not run.
    pub removed: Vec<String>,
    /// Not started: the window closed, a guard refused, or Ctrl-C.
    pub not_started: u64,
    pub elapsed_s: f64,
    pub rows_per_s: f64,
    pub http_429: u64,
    pub results: String,
    pub stopped: Option<String>,
}

impl Report {
    /// What the run did, for a person: a line of counts, and why it stopped if it did.
    pub fn summary(&self) -> String {
        let mut parts = vec![
            format!("{} done", self.done),
            format!("{} failed", self.failed),
        ];
        if self.interrupted > 0 {
            parts.push(format!("{} interrupted", self.interrupted));
        }
        if self.planned > 0 {
            parts.push(format!("{} planned (dry run)", self.planned));
        }
        parts.push(format!("{} skipped (done before)", self.skipped));
        parts.push(format!("{} not started", self.not_started));
        if !self.removed.is_empty() {
            parts.push(format!(
                "{} of the run not in this file",
                self.removed.len()
            ));
        }
        let mut s = format!(
            "bulk run {}: {}\n  {:.1} rows/s, {} HTTP 429s absorbed. Results: {}",
            self.run,
            parts.join(", "),
            self.rows_per_s,
            self.http_429,
            self.results
        );
        if let Some(why) = &self.stopped {
            s.push_str(&format!("\nstopped: {why}"));
        }
        s
    }
}

/// One row's outcome.
struct RowResult {
    line: u64,
    key: String,
    status: RowStatus,
    detail: String,
    zoom_number_id: String,
    movius_account_id: String,
    ms: u64,
    /// A guard refusal or Ctrl-C: stop taking rows.
    stop: Option<String>,
}

/// What driving a run's rows needs: the session, the script, the file, the journal run and how to stop.
pub struct Rows<'a> {
    pub session: Arc<Session>,
    pub script: Script,
    pub csv: &'a Path,
    pub columns: Vec<String>,
    pub rows: u64,
    pub journal: Arc<Journal>,
    pub run: RunId,
    pub concurrency: Concurrency,
    pub out: PathBuf,
    /// Rows (by key) already done in an earlier attempt (resume), with their recorded detail.
    pub done_before: HashMap<String, String>,
    /// Rows of the run not in this file (key, status): reported, not run.
    pub removed: Vec<(String, RowStatus)>,
    /// When the maintenance window closes (stop taking new rows then).
    pub closes_at: Option<jiff::Timestamp>,
    /// Writes are held: a row that ends well is `planned`, not `done`.
    pub dry_run: bool,
    /// First Ctrl-C: take no new row; the rows in flight finish (at most [`DRAIN_LIMIT`], then
    /// their calls are abandoned through the session's cancel flag).
    pub drain: Arc<AtomicBool>,
}

/// Stream the CSV through the workers; return when every started row has finished.
pub fn drive(job: Rows<'_>) -> anyhow::Result<Report> {
    let started = Instant::now();
    let stats_before = job.session.clients.transport.stats();
    // Auto may use every worker: with a few hundred ms per call and several sequential calls per
    // row, keeping Zoom's budget full takes tens of rows in flight. Never more workers than rows.
    let threads = match job.concurrency {
        Concurrency::Fixed(n) => n,
        Concurrency::Auto => MAX_WORKERS,
    }
    .clamp(1, (job.rows.max(1)).min(MAX_WORKERS as u64) as usize);
    let pool = Pool::new(
        match job.concurrency {
            Concurrency::Fixed(n) => n,
            Concurrency::Auto => AUTO_START,
        },
        threads,
    );
    // Rows started and not finished (the drain waits for them).
    let in_flight = AtomicUsize::new(0);
    let (res_tx, res_rx) = mpsc::channel::<RowResult>();

    // One results file per run, rewritten whole from the journal: now (an unwritable path
    // fails before the first call), every RESULTS_EVERY, and at the end.
    let write_results = || {
        results::write(
            &job.journal,
            job.run,
            job.csv,
            &job.script.header,
            &job.columns,
            &job.out,
        )
    };
    let t = Instant::now();
    write_results()?;
    // A large run's file takes a while to write: keep that under 5 % of the run's time.
    let mut results_every = RESULTS_EVERY.max(t.elapsed() * 20);
    let mut last_results = Instant::now();

    let mut progress = Progress::new(job.rows, std::io::stderr().is_terminal());
    let mut report = Report {
        run: job.run.to_string(),
        rows: job.rows,
        done: 0,
        failed: 0,
        skipped: 0,
        interrupted: 0,
        planned: 0,
        removed: job.removed.iter().map(|(k, _)| k.clone()).collect(),
        not_started: 0,
        elapsed_s: 0.0,
        rows_per_s: 0.0,
        http_429: 0,
        results: job.out.display().to_string(),
        stopped: None,
    };

    // One engine for every worker (Rhai's engine is shared between threads; each row runs in
    // its own scope): 64 engines, each with every module registered, cost tens of megabytes.
    let engine = engine::build(Some(&job.session), engine::Limits::default());
    let engine = &engine;
    let mut records = super::lines::Records::open(job.csv)?;
    records.headers()?;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // The rows to run, streamed from the file (memory stays flat) as workers ask: those done
        // before (by key) are reported skipped, not run; no row is handed out once the run
        // drains or the maintenance window has closed.
        let skipped_tx = res_tx.clone();
        let job = &job;
        let mut rec = csv::StringRecord::new();
        let rows = std::iter::from_fn(move || loop {
            if job.drain.load(Ordering::Relaxed) || job.session.cancel.load(Ordering::Relaxed) {
                return None;
            }
            if job.closes_at.is_some_and(|c| jiff::Timestamp::now() >= c) {
                let _ = skipped_tx.send(stop_row(
                    "the maintenance window closed; no new rows were started",
                ));
                return None;
            }
            let line = records.read(&mut rec).ok()??;
            let key = record_key(&job.script.header, &job.columns, &rec, line);
            match job.done_before.get(&key) {
                Some(detail) => {
                    let _ = skipped_tx.send(RowResult::new(
                        line,
                        key,
                        RowStatus::Skipped,
                        format!("done in an earlier attempt: {detail}"),
                    ));
                }
                None => return Some((line, key, rec.clone())),
            }
        });
        let (pool, in_flight, tx) = (&pool, &in_flight, res_tx);
        scope.spawn(move || {
            pool.run(
                rows,
                || (),
                |(), (line, key, rec)| work_row(job, in_flight, line, key, &rec, engine, &tx),
            )
        });

        // Collector: results CSV, progress, auto concurrency, stop on refusal.
        let mut last_tick = Instant::now();
        let mut last_429 = stats_before.rate_limited;
        let mut auto = AutoTuner::new(&stats_before);
        let mut drain_since: Option<Instant> = None;
        loop {
            let r = match res_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(r) => Some(r),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if let Some(r) = r {
                if let Some(why) = &r.stop {
                    pool.halt();
                    report.stopped.get_or_insert_with(|| why.clone());
                }
                if r.line > 0 {
                    match r.status {
                        RowStatus::Done => report.done += 1,
                        RowStatus::Failed => report.failed += 1,
                        RowStatus::Skipped => report.skipped += 1,
                        RowStatus::Interrupted => report.interrupted += 1,
                        RowStatus::Planned => report.planned += 1,
                        RowStatus::Pending | RowStatus::InFlight => {}
                    }
                    progress.row(r.status == RowStatus::Failed);
                }
            }
            // Ctrl-C: the first drains (no new row; the rows in flight finish, at most
            // DRAIN_LIMIT, counted down on the terminal), then their calls are abandoned.
            let cancel = &job.session.cancel;
            if drain_since.is_none()
                && (job.drain.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed))
            {
                drain_since = Some(Instant::now());
                pool.halt();
                report
                    .stopped
                    .get_or_insert_with(|| "interrupted by Ctrl-C".into());
            }
            if let Some(since) = drain_since {
                let busy = in_flight.load(Ordering::SeqCst);
                if busy > 0 && !cancel.load(Ordering::Relaxed) {
                    let left = DRAIN_LIMIT.saturating_sub(since.elapsed());
                    if left.is_zero() {
                        progress.note(&format!(
                            "stopping: {} s passed; abandoning the calls of the {busy} row(s) still in flight",
                            DRAIN_LIMIT.as_secs()
                        ));
                        cancel.store(true, Ordering::SeqCst);
                    } else {
                        progress.draining(busy, left);
                    }
                }
            }
            if last_results.elapsed() >= results_every {
                let t = Instant::now();
                if let Err(e) = write_results() {
                    tracing::warn!("{e}");
                }
                results_every = RESULTS_EVERY.max(t.elapsed() * 20);
                last_results = Instant::now();
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                let st = job.session.clients.transport.stats();
                let waits = st.rate_limited.saturating_sub(stats_before.rate_limited);
                progress.tick(pool.workers(), waits);
                if job.concurrency == Concurrency::Auto {
                    let cur = pool.workers();
                    let next = auto.next(
                        cur,
                        threads,
                        &st,
                        st.rate_limited > last_429,
                        last_tick.elapsed(),
                        |c| job.session.clients.transport.paced_rate(c),
                    );
                    if next != cur {
                        tracing::debug!(workers = next, "auto concurrency");
                        pool.set_workers(next);
                    }
                }
                last_429 = st.rate_limited;
                last_tick = Instant::now();
            }
        }
        Ok(())
    })?;
    // A run stopped early (a refusal, the window, one Ctrl-C) still checks the rows it did;
    // only abandoned calls (a second Ctrl-C) skip it.
    if !job.dry_run && !job.session.cancel.load(Ordering::Relaxed) {
        sweep(&job, &mut report, &progress);
    }
    write_results()?;
    let st = job.session.clients.transport.stats();
    report.http_429 = st.rate_limited.saturating_sub(stats_before.rate_limited);
    report.elapsed_s = started.elapsed().as_secs_f64();
    report.rows_per_s = (report.done + report.failed) as f64 / report.elapsed_s.max(1e-9);
    report.not_started = job.rows.saturating_sub(
        report.done + report.failed + report.skipped + report.interrupted + report.planned,
    );
    if (job.session.cancel.load(Ordering::Relaxed) || job.drain.load(Ordering::Relaxed))
        && report.stopped.is_none()
    {
        report.stopped = Some("interrupted by Ctrl-C".into());
    }
    progress.finish(&report.summary());
    Ok(report)
}

/// The end of a run: every number the run assigned is checked once more against Zoom (one pass
/// over the phone users' pages); a row whose assignment Zoom does not show is failed, with what
/// Zoom shows instead.
fn sweep(job: &Rows<'_>, report: &mut Report, progress: &Progress) {
    let Some(cache) = &job.session.numbers else {
        return;
    };
    match cache.sweep(&job.session.clients.zoom) {
        Ok(wrong) => {
            for m in wrong {
                let detail = format!(
                    "the check at the end of the run found {} {} in Zoom, not on {}: look at it in Zoom and re-run the row",
                    m.number, m.found, m.user
                );
                progress.note(&format!("row {}: {detail}", m.row.as_deref().unwrap_or("?")));
                let Some(key) = m.row else { continue };
                match job.journal.bulk_row_failed_after(job.run, &key, &detail) {
                    Ok(()) => {
                        report.done = report.done.saturating_sub(1);
                        report.failed += 1;
                    }
                    Err(e) => tracing::error!("journal: {e}"),
                }
            }
        }
        Err(e) => progress.note(&format!(
            "the check at the end of the run could not read Zoom's unassigned list ({e}); the rows keep the assign's answer as their verification"
        )),
    }
}

/// Run one row and record it: journaled as started, run, its outcome journaled the moment it
/// finishes and sent to the collector. `Break` when the run must take no more rows (a guard
/// refusal, Ctrl-C, or the collector is gone).
fn work_row(
    job: &Rows<'_>,
    in_flight: &AtomicUsize,
    line: u64,
    key: String,
    rec: &csv::StringRecord,
    engine: &rhai::Engine,
    tx: &mpsc::Sender<RowResult>,
) -> ControlFlow<()> {
    let (journal, run) = (&job.journal, job.run);
    in_flight.fetch_add(1, Ordering::SeqCst);
    let t0 = Instant::now();
    let mark = journal.write_mark().unwrap_or(i64::MAX);
    if let Err(e) = journal.bulk_row_started(run, &key) {
        tracing::error!("journal: {e}");
    }
    crate::host::run_cache::set_row(Some(&key));
    let mut r = run_row(
        engine,
        &job.script,
        &job.script.header,
        &job.columns,
        rec,
        line,
    );
    crate::host::run_cache::set_row(None);
    r.key = key;
    r.ms = t0.elapsed().as_millis() as u64;
    if r.status == RowStatus::Done && job.dry_run {
        r.status = RowStatus::Planned;
    }
    if r.status == RowStatus::Failed && job.session.cancel.load(Ordering::Relaxed) {
        // Its calls were abandoned: say what the journal shows was sent for it, not what the
        // abandoned call's error guesses.
        r.status = RowStatus::Interrupted;
        r.detail = sent_for(journal, run, mark, rec);
        r.stop = Some("interrupted by Ctrl-C".into());
    }
    let end = RowEnd {
        status: r.status,
        detail: &r.detail,
        zoom_number_id: Some(r.zoom_number_id.as_str()).filter(|s| !s.is_empty()),
        movius_account_id: Some(r.movius_account_id.as_str()).filter(|s| !s.is_empty()),
        duration_ms: r.ms,
    };
    if let Err(e) = journal.bulk_row_finished(run, &r.key, &end) {
        tracing::error!("journal: {e}");
    }
    in_flight.fetch_sub(1, Ordering::SeqCst);
    let halt = r.stop.is_some();
    if tx.send(r).is_err() || halt {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    }
}

impl RowResult {
    fn new(line: u64, key: String, status: RowStatus, detail: String) -> RowResult {
        RowResult {
            line,
            key,
            status,
            detail,
            zoom_number_id: String::new(),
            movius_account_id: String::new(),
            ms: 0,
            stop: None,
        }
    }
}

/// Not a row: tells the collector to stop the run, and why.
fn stop_row(why: &str) -> RowResult {
    RowResult {
        stop: Some(why.to_string()),
        ..RowResult::new(0, String::new(), RowStatus::Failed, String::new())
    }
}

fn run_row(
    engine: &rhai::Engine,
    script: &Script,
    header: &crate::host::header::Header,
    columns: &[String],
    rec: &csv::StringRecord,
    line: u64,
) -> RowResult {
    let mut r = RowResult::new(line, String::new(), RowStatus::Failed, String::new());
    let bound: BoundRow = match bind_row(header, columns, rec) {
        Ok(b) => b,
        Err(errs) => {
            // Validated before the run; only a file edited mid-run gets here.
            r.detail = errs.join("; ");
            return r;
        }
    };
    match script.run(engine, &bound) {
        Ok(v) => {
            r.status = RowStatus::Done;
            let j = to_json(&v);
            r.detail = summary(&j);
            let field = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| j.get(*n).and_then(Value::as_str))
                    .unwrap_or_default()
                    .to_string()
            };
            r.zoom_number_id = field(&["zoom_number_id"]);
            r.movius_account_id = field(&["movius_account_id", "account_sid"]);
        }
        Err(e) => match explain(&e) {
            Failure::Refused { reason, how } => {
                r.detail = format!("refused: {reason}");
                r.stop = Some(format!("{reason}. {how}"));
            }
            Failure::Interrupted => {
                r.detail = "interrupted".into();
                r.stop = Some("interrupted by Ctrl-C".into());
            }
            Failure::Blocked(b) => r.detail = b.to_string(),
            Failure::Error(m) => r.detail = m,
        },
    }
    r
}

/// What the journal shows was sent for a row since `mark`: its writes whose target names one of
/// the row's numbers or emails. "No write was sent" only when the journal shows none.
fn sent_for(journal: &Journal, run: RunId, mark: i64, rec: &csv::StringRecord) -> String {
    let needles: Vec<String> = rec
        .iter()
        .map(|v| v.trim().to_ascii_lowercase())
        .filter_map(|v| {
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            if v.contains('@') {
                Some(v)
            } else if digits.len() >= 7 {
                Some(digits)
            } else {
                None
            }
        })
        .collect();
    let writes = match journal.writes_since(run, mark) {
        Ok(w) => w,
        Err(e) => {
            return format!("interrupted; the journal could not be read ({e}): look at the row's target before repeating it; a resume re-checks it")
        }
    };
    let ours: Vec<String> = writes
        .iter()
        .filter(|w| {
            let t = w.target.to_ascii_lowercase();
            let t_digits: String = t.chars().filter(char::is_ascii_digit).collect();
            needles.iter().any(|n| {
                t.contains(n.as_str()) || (!n.contains('@') && t_digits.contains(n.as_str()))
            })
        })
        .filter_map(|w| {
            let what = match (w.outcome, w.http_status) {
                (WriteOutcome::Sent, _) => "sent".to_string(),
                (WriteOutcome::Failed, Some(s)) => format!("answered {s}"),
                (WriteOutcome::Failed, None) => {
                    "in flight when abandoned: it may have reached the service".to_string()
                }
                (WriteOutcome::Held, _) | (WriteOutcome::Refused, _) => return None,
            };
            Some(format!("{} {}: {what}", w.op, w.target))
        })
        .collect();
    if ours.is_empty() {
        "interrupted before any write was sent for it (the journal shows none); a resume runs it"
            .to_string()
    } else {
        format!(
            "interrupted; the journal shows for it: {}; a resume re-checks it",
            ours.join("; ")
        )
    }
}

/// One line about a row's result: its `status` and `message` if the procedure gave them.
fn summary(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let status = m.get("status").and_then(Value::as_str).unwrap_or("done");
            match m.get("message").and_then(Value::as_str) {
                Some(msg) => format!("{status}: {msg}"),
                None => status.to_string(),
            }
        }
        Value::Null => "done".into(),
        other => other.to_string(),
    }
}
