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
    BulkPlan, Guard, Impact, PlanContext, PlannedWrite, Policy, Refused, Style, TerminalPrompter,
    WindowCheck,
};
use crate::host::bundle::Source;
use crate::host::engine;
use crate::host::header::{Header, ParamType, ParamValue};
use crate::host::index::{IndexStats, NumberIndex};
use crate::host::script::Script;
use crate::host::session::Session;
use crate::journal::{Journal, NewRun, RowStatus, RunId, RunOutcome};

use super::run::{execute, BulkJob, Concurrency, Report};
use super::validate::{bind_row, Summary};

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
    /// Called with the run's stop flag (the CLI wires Ctrl-C to it).
    pub on_cancel_flag: Option<fn(Arc<AtomicBool>)>,
}

/// How the run ended.
pub struct Finished {
    pub run: RunId,
    pub report: Report,
    /// Writes held in a dry run (empty otherwise).
    pub plan: Vec<PlannedWrite>,
    /// What Zoom's number index cost and answered.
    pub index: IndexStats,
}

/// Journal the rows, claim them, check the window, ask once, then run every row.
pub fn run(env: &Env<'_>, o: &Options, p: Prepared) -> anyhow::Result<Finished> {
    let Prepared {
        src,
        header,
        summary,
    } = p;
    if header.writes.is_empty() && header.impact != Some(Impact::Read) {
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
    let naming = env.profile.naming.clone();
    session.naming = Box::new(move |n| naming.render(n));
    session.default_org = env.profile.movius_org.clone();
    session.numbers = Some(NumberIndex::new());
    session.quiet = true;
    let session = Arc::new(session);
    let engine = engine::build(Some(&session), engine::Limits::default());
    let script =
        Script::compile(&engine, src, header.clone()).map_err(|e| BadInput(e.to_string()))?;
    drop(engine);

    let (run_id, done_before) = match &o.resume {
        Some(r) => resume(&journal, r, &o.script)?,
        None => {
            let id = journal.start_run(&NewRun {
                operator: crate::journal::current_operator(),
                host: crate::journal::current_host(),
                profile: env.profile.name.clone(),
                script: o.script.clone(),
                script_digest: script.digest.clone(),
                params: json!({"csv": o.csv.display().to_string(), "rows": summary.rows}),
                mode: if o.dry_run {
                    "bulk dry-run".into()
                } else {
                    "bulk".into()
                },
                outside_window_reason: o.outside_window.clone(),
            })?;
            record_rows(&journal, id, &o.csv, &header, &summary.columns)?;
            (id, HashMap::new())
        }
    };
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
    if let Some(hook) = env.on_cancel_flag {
        hook(session.cancel.clone());
    }
    let out = o
        .out
        .clone()
        .unwrap_or_else(|| results_path(&o.csv, run_id));
    let report = execute(BulkJob {
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
        closes_at,
    })?;
    let outcome = if report.stopped.is_some() {
        RunOutcome::Interrupted
    } else if report.failed > 0 {
        RunOutcome::Failed
    } else {
        RunOutcome::Done
    };
    journal.finish_run(run_id, outcome, &serde_json::to_string(&report)?)?;
    let index = session
        .numbers
        .as_ref()
        .map(NumberIndex::stats)
        .unwrap_or_default();
    Ok(Finished {
        run: run_id,
        report,
        plan: guard.plan(),
        index,
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

/// The key that says which rows are "the same user": the first number or email parameter.
fn key_of(header: &Header, bound: &std::collections::BTreeMap<String, ParamValue>) -> String {
    header
        .params
        .iter()
        .filter(|p| matches!(p.ty, ParamType::E164 | ParamType::Email))
        .find_map(|p| match bound.get(&p.name) {
            Some(ParamValue::Str(s)) => Some(s.to_ascii_lowercase()),
            _ => None,
        })
        .unwrap_or_default()
}

fn for_each_row(
    csv: &Path,
    header: &Header,
    columns: &[String],
    mut f: impl FnMut(u64, String, serde_json::Value) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut rd = csv::Reader::from_path(csv)?;
    let mut rec = csv::StringRecord::new();
    while rd.read_record(&mut rec)? {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let bound = bind_row(header, columns, &rec)
            .map_err(|e| anyhow::anyhow!("line {line}: {}", e.join("; ")))?;
        f(line, key_of(header, &bound), serde_json::to_value(&bound)?)?;
    }
    Ok(())
}

/// Journal every row before the first call, in chunks, so a crash at any point knows them all.
pub fn record_rows(
    journal: &Journal,
    run: RunId,
    csv: &Path,
    header: &Header,
    columns: &[String],
) -> anyhow::Result<()> {
    let mut chunk = Vec::with_capacity(1000);
    for_each_row(csv, header, columns, |line, key, row| {
        chunk.push((line, key, row.to_string()));
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
    for_each_row(csv, header, columns, |_, key, _| {
        if !key.is_empty() {
            keys.push(key);
        }
        Ok(())
    })?;
    Ok(keys)
}

/// Continue an earlier run: rows done stay done; rows in flight or failed run again (the
/// procedures check state first, so a row that did finish before the crash is a no-op).
fn resume(
    journal: &Journal,
    r: &str,
    script: &str,
) -> anyhow::Result<(RunId, HashMap<u64, String>)> {
    let id: RunId = r
        .parse()
        .map_err(|_| BadInput(format!("--resume takes a run id like r12 or 12, not '{r}'")))?;
    let Some((summary, _)) = journal.run(id)? else {
        return Err(BadInput(format!("no run {id} in the journal (`vline journal list`)")).into());
    };
    if summary.script != script {
        return Err(BadInput(format!("run {id} ran '{}', not '{script}'", summary.script)).into());
    }
    let done = journal
        .bulk_rows(id)?
        .into_iter()
        .filter(|row| matches!(row.status, RowStatus::Done | RowStatus::Skipped))
        .map(|row| (row.line, row.detail))
        .collect();
    Ok((id, done))
}
