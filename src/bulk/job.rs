//! A whole bulk run once the profile is open: journal rows, claims, maintenance window, the one
//! confirmation, the session and the worker pool. `vline bulk` and `vline bench bulk` both call
//! [`run`], so the benchmark measures exactly the code path operators use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::json;

use crate::api::clients::Clients;
use crate::config::Profile;
use crate::guard::{
    BulkPlan, Guard, PlanContext, PlannedWrite, Policy, Refused, Style, TerminalPrompter,
    WindowCheck,
};
use crate::host::bundle::Source;
use crate::host::engine;
use crate::host::header::Header;
use crate::host::run_cache::{CacheStats, RunCache, Scope};
use crate::host::script::Script;
use crate::host::session::Session;
use crate::journal::{Journal, Lease, NewRun, Owner, RowStatus, RunId, RunOutcome, HEARTBEAT};

use super::concurrency::Concurrency;
use super::identity::{compare, file_digest, for_each_row};
use super::rows::{drive, Report, Rows};
use super::validate::Summary;

/// The operator's input was wrong (a bad `--resume`, a script that does not compile): the CLI
/// shows it as a usage error (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// What `vline bulk` was asked to do (its flags, minus the profile).
#[derive(Clone, Debug)]
pub struct Options {
    /// Procedure name or .rhai path, as given (the journal and resume hints name it).
    pub script: String,
    pub csv: PathBuf,
    pub concurrency: Concurrency,
    pub resume: Option<String>,
    pub dry_run: bool,
    pub yes: bool,
    pub max_changes: Option<u64>,
    pub outside_window: Option<String>,
    pub out: Option<PathBuf>,
    /// A person can answer prompts (stdin and stderr are terminals).
    pub interactive: bool,
    /// The change ticket the run is made under (`--ticket`).
    pub ticket: Option<String>,
}

/// The procedure and the validated file.
pub struct Prepared {
    pub src: Source,
    pub header: Header,
    pub summary: Summary,
}

/// Where the run happens: an open profile and its clients, and the journal.
pub struct Env<'a> {
    pub clients: &'a Clients,
    pub profile: &'a Profile,
    /// The profile is a sandbox (the carrier API exists).
    pub sandbox: bool,
    pub journal: Arc<Journal>,
    /// Overrides for bundled scripts and stdlib.
    pub override_dir: Option<PathBuf>,
    /// Called with the run's two stop flags: drain (take no new row, let the rows in flight
    /// finish) and abandon (give up the calls in flight). The CLI wires Ctrl-C to them.
    pub on_interrupt: Option<fn(Arc<AtomicBool>, Arc<AtomicBool>)>,
}

/// How the run ended.
pub struct Finished {
    pub run: RunId,
    pub report: Report,
    /// Writes held in a dry run (empty otherwise).
    pub plan: Vec<PlannedWrite>,
    /// What the run's caches cost and answered.
    pub cache: CacheStats,
}

/// Journal the rows, claim them, check the window, ask once, then run every row.
pub fn run(env: &Env<'_>, o: &Options, p: Prepared) -> anyhow::Result<Finished> {
    let Prepared {
        src,
        header,
        summary,
    } = p;
    if header.writes.is_empty() && !header.declares_read_only() {
        return Err(BadInput(format!(
            "{} declares no `//! writes:` header line: a bulk run confirms up front the operations it may write, and sends no other; add one (e.g. `//! writes: zoom::assign_number`), or `//! impact: read` for a script that only reads",
            o.script
        ))
        .into());
    }
    let journal = env.journal.clone();
    let policy = Policy {
        read_only: false,
        dry_run: o.dry_run,
        assume_yes: o.yes,
        // The one confirmation at the start covers the run; the cap (the profile's, or
        // --max-changes) is compared with the writes the run can make before the first row.
        max_changes: o.max_changes.or(Some(env.profile.max_changes)),
        outside_window: o.outside_window.clone(),
        windows: env.profile.windows.clone(),
        interactive: o.interactive,
    };
    let guard = Arc::new(Guard::new(policy, Box::new(TerminalPrompter)));

    let mut session = Session::new(
        env.clients.clone(),
        guard.clone(),
        Some(journal.clone()),
        &env.profile.name,
        env.sandbox,
    );
    session.override_dir = env.override_dir.clone();
    crate::connect::configure_session(&mut session, env.profile);
    session.numbers = Some(Arc::new(RunCache::new(Scope::Bulk)));
    session.quiet = true;
    // Rows may use `bulk::` as a script does.
    session.modules = vec![super::script::register];
    let session = Arc::new(session);
    let engine = engine::build(Some(&session), engine::Limits::default());
    let script =
        Script::compile(&engine, src, header.clone()).map_err(|e| BadInput(e.to_string()))?;
    drop(engine);

    let digest = file_digest(&o.csv).map_err(|e| BadInput(format!("{}: {e}", o.csv.display())))?;
    let (run_id, done_before, removed) = match &o.resume {
        Some(r) => {
            let resumed = resume(&journal, r, o, &header, &summary.columns, &digest)?;
            (resumed.run, resumed.done, resumed.removed)
        }
        None => {
            let id = journal.start_run(&NewRun {
                ticket: o.ticket.clone(),
                operator: env
                    .profile
                    .operator
                    .clone()
                    .unwrap_or_else(crate::journal::current_operator),
                host: crate::journal::current_host(),
                profile: env.profile.name.clone(),
                script: o.script.clone(),
                script_digest: script.digest.clone(),
                params: json!({
                    "csv": o.csv.display().to_string(),
                    "csv_sha256": digest,
                    "rows": summary.rows,
                }),
                mode: if o.dry_run {
                    DRY_RUN_MODE.into()
                } else {
                    "bulk".into()
                },
                outside_window_reason: o.outside_window.clone(),
            })?;
            journal.take_lease(id)?;
            record_rows(&journal, id, &o.csv, &header, &summary.columns)?;
            (id, HashMap::new(), Vec::new())
        }
    };
    // While this process works the run, it says so; a resume from elsewhere is refused until
    // the heartbeat stops.
    let _heartbeat = Heartbeat::start(journal.clone(), run_id);
    let keys = row_keys(&o.csv, &header, &summary.columns)?;
    let held = journal.claim_keys(run_id, &keys)?;
    drop(keys);
    if let Some((key, other)) = held.first() {
        let refused = Refused {
            reason: format!(
                "run {other} is still working on {} of these rows (e.g. {key})",
                held.len()
            ),
            how_to_proceed: format!(
                "wait for it to finish, or resume it with `vline bulk {} --csv … --resume {other}`",
                o.script
            ),
        };
        journal.finish_run(run_id, RunOutcome::Refused, &refused.to_string())?;
        return Err(refused.into());
    }

    let closes_at = if header.window_required {
        match guard.require_maintenance_window(&header.title, jiff::Timestamp::now()) {
            Ok(WindowCheck::Inside { closes_at, .. }) => Some(closes_at.timestamp()),
            Ok(WindowCheck::Overridden { .. }) => None,
            Err(r) => {
                journal.finish_run(run_id, RunOutcome::Refused, &r.to_string())?;
                return Err(r.into());
            }
        }
    } else {
        None
    };
    let todo = summary.rows.saturating_sub(done_before.len() as u64);
    let bulk = BulkPlan {
        rows: todo,
        // The carrier API exists only on the sandbox: elsewhere its writes can never be sent.
        ops: header
            .writes
            .iter()
            .filter(|(op, _)| env.sandbox || !op.starts_with("carrier::"))
            .cloned()
            .collect(),
    };
    let ctx = PlanContext {
        what: format!("{} on {todo} row(s) of {}", o.script, o.csv.display()),
        profile: env.profile.name.clone(),
        kind: env.profile.kind.to_string(),
        zoom_account: env.profile.zoom_account_id.clone(),
        movius_org: env.profile.movius_org.clone(),
    };
    if let Err(r) = guard.begin_bulk(&bulk, &ctx, Style::for_terminal(o.interactive)) {
        let r = Refused {
            reason: r.reason,
            how_to_proceed: format!("{}; nothing was sent", r.how_to_proceed),
        };
        journal.finish_run(run_id, RunOutcome::Refused, &r.to_string())?;
        return Err(r.into());
    }

    session.set_run(run_id);
    let drain = Arc::new(AtomicBool::new(false));
    if let Some(hook) = env.on_interrupt {
        hook(drain.clone(), session.cancel.clone());
    }
    let out = o
        .out
        .clone()
        .unwrap_or_else(|| results_path(&o.csv, run_id));
    let report = drive(Rows {
        session: session.clone(),
        script,
        csv: &o.csv,
        columns: summary.columns.clone(),
        rows: summary.rows,
        journal: journal.clone(),
        run: run_id,
        concurrency: o.concurrency,
        out,
        done_before,
        removed,
        closes_at,
        dry_run: o.dry_run,
        drain: drain.clone(),
    })?;
    let outcome = if report.stopped.is_some() {
        RunOutcome::Interrupted
    } else if report.failed > 0 {
        RunOutcome::Failed
    } else {
        RunOutcome::Done
    };
    journal.finish_run(run_id, outcome, &serde_json::to_string(&report)?)?;
    let cache = session
        .numbers
        .as_ref()
        .map(|c| c.stats())
        .unwrap_or_default();
    Ok(Finished {
        run: run_id,
        report,
        plan: guard.plan(),
        cache,
    })
}

/// `<name>.results-<run>.csv` beside the input.
pub fn results_path(csv: &Path, run: RunId) -> PathBuf {
    let stem = csv
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bulk".into());
    csv.with_file_name(format!("{stem}.results-{run}.csv"))
}

/// The journal's mode for a bulk dry run: a plan, which `--resume` refuses.
pub const DRY_RUN_MODE: &str = "bulk dry-run";

/// Journal every row before the first call, in chunks, so a crash at any point knows them all.
/// On a resume, rows the run knows keep their state and take their new line; new rows join.
pub fn record_rows(
    journal: &Journal,
    run: RunId,
    csv: &Path,
    header: &Header,
    columns: &[String],
) -> anyhow::Result<()> {
    let mut chunk = Vec::with_capacity(1000);
    for_each_row(csv, header, columns, |row| {
        chunk.push((row.line, row.key, row.json));
        if chunk.len() == 1000 {
            journal.bulk_rows_begin(run, &chunk)?;
            chunk.clear();
        }
        Ok(())
    })?;
    if !chunk.is_empty() {
        journal.bulk_rows_begin(run, &chunk)?;
    }
    Ok(())
}

fn row_keys(csv: &Path, header: &Header, columns: &[String]) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    for_each_row(csv, header, columns, |row| {
        keys.push(row.key);
        Ok(())
    })?;
    Ok(keys)
}

/// What a resume starts from.
struct Resumed {
    run: RunId,
    /// Rows of the file done in an earlier attempt, by key, with their detail.
    done: HashMap<String, String>,
    /// Rows of the run that are not in this file: (key, status).
    removed: Vec<(String, RowStatus)>,
}

/// Continue an earlier run: only a live bulk run of the same procedure, owned by no live
/// process. Rows are matched by key, wherever they now stand: done rows are skipped, new rows
/// run, rows in flight, failed or interrupted run again (the procedures check state first), and
/// a row whose key matches but whose other values changed refuses the whole attempt before any
/// call.
fn resume(
    journal: &Journal,
    r: &str,
    o: &Options,
    header: &Header,
    columns: &[String],
    digest: &str,
) -> anyhow::Result<Resumed> {
    let id: RunId = r
        .parse()
        .map_err(|_| BadInput(format!("--resume takes a run id like r12 or 12, not '{r}'")))?;
    let script = &o.script;
    let csv = o.csv.display();
    let Some((summary, _)) = journal.run(id)? else {
        return Err(BadInput(format!("no run {id} in the journal (`vline journal list`)")).into());
    };
    if summary.mode == DRY_RUN_MODE {
        return Err(BadInput(format!(
            "run {id} was a dry run: a plan, nothing in it was done, so there is nothing to resume. Run it live: `vline bulk {script} --csv {csv}` (without --dry-run)"
        ))
        .into());
    }
    if o.dry_run {
        return Err(BadInput(format!(
            "--dry-run cannot resume run {id}: a dry run records a plan, not progress. Use `vline bulk {script} --csv {csv} --preflight` to see what is left"
        ))
        .into());
    }
    if summary.mode != "bulk" {
        return Err(BadInput(format!(
            "run {id} is a '{}' run, not a bulk run; only bulk runs can be resumed",
            summary.mode
        ))
        .into());
    }
    if summary.script != *script {
        return Err(BadInput(format!("run {id} ran '{}', not '{script}'", summary.script)).into());
    }
    let busy = |owner: &Owner| {
        Refused {
        reason: format!("run {id} is being worked by {owner} right now"),
        how_to_proceed: format!(
            "nothing was sent; wait for that process to finish, or stop it (Ctrl-C, or `kill {}` on {}) and resume then",
            owner.pid, owner.host
        ),
    }
    };
    if let Some(owner) = journal.live_owner(id)? {
        return Err(busy(&owner).into());
    }

    let c = compare(journal.bulk_rows(id)?, &o.csv, header, columns)?;
    if !c.changed.is_empty() {
        const SHOWN: usize = 20;
        let mut list: Vec<String> = c
            .changed
            .iter()
            .take(SHOWN)
            .map(|x| format!("  {x}"))
            .collect();
        if c.changed.len() > SHOWN {
            list.push(format!("  … and {} more", c.changed.len() - SHOWN));
        }
        return Err(Refused {
            reason: format!(
                "{} row(s) of {csv} have the key of a row of run {id} but other values; the run cannot tell which is meant:\n{}",
                c.changed.len(),
                list.join("\n")
            ),
            how_to_proceed: format!(
                "nothing was sent; put the run's values back in the file, or run the changed rows as a new run (without --resume {id})"
            ),
        }
        .into());
    }
    match journal.take_lease(id)? {
        Lease::Held(owner) => return Err(busy(&owner).into()),
        Lease::Taken { from: Some(dead) } => eprintln!(
            "note: {dead} ended without finishing run {id}; this process takes the run over"
        ),
        Lease::Taken { from: None } => {}
    }
    let started_with = summary.params["csv_sha256"].as_str().unwrap_or("");
    if started_with != digest {
        eprintln!(
            "note: {csv} is not the file run {id} started with; rows are matched by their key ({}): {} done before (skipped), {} not done yet (run, re-checked), {} new, {} not in this file",
            if header.key.is_empty() { "every parameter".to_string() } else { header.key.join(", ") },
            c.done.len(),
            c.again,
            c.new_rows,
            c.removed.len(),
        );
    }
    if !c.removed.is_empty() {
        const SHOWN: usize = 20;
        let mut list: Vec<String> = c
            .removed
            .iter()
            .take(SHOWN)
            .map(|(k, st, line)| format!("  {k} (line {line} before, {st})"))
            .collect();
        if c.removed.len() > SHOWN {
            list.push(format!("  … and {} more", c.removed.len() - SHOWN));
        }
        eprintln!(
            "warning: {} row(s) of run {id} are not in {csv} and are not run in this attempt:\n{}",
            c.removed.len(),
            list.join("\n")
        );
    }
    record_rows(journal, id, &o.csv, header, columns)?;
    Ok(Resumed {
        run: id,
        done: c.done,
        removed: c.removed.into_iter().map(|(k, st, _)| (k, st)).collect(),
    })
}

/// Says, every [`HEARTBEAT`], that this process still works the run; stops when dropped.
struct Heartbeat {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(journal: Arc<Journal>, run: RunId) -> Heartbeat {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("vline-heartbeat".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    rx.recv_timeout(HEARTBEAT)
                {
                    if let Err(e) = journal.heartbeat(run) {
                        tracing::warn!("journal heartbeat: {e}");
                    }
                }
            })
            .ok();
        Heartbeat {
            stop: Some(tx),
            thread,
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
