//! `vline bulk <procedure|file.rhai> --csv FILE`: validate the whole file, then run the procedure
//! once per row, as fast as Zoom's limits allow, resumable after any crash.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::bulk::run::{execute, BulkJob};
use crate::bulk::validate::{self, bind_row};
use crate::cli::{BulkArgs, Global};
use crate::guard::{Guard, Impact, Policy, Refused, TerminalPrompter, WindowCheck};
use crate::host::engine;
use crate::host::header::{Header, ParamType, ParamValue};
use crate::host::script::Script;
use crate::host::session::Session;
use crate::journal::{NewRun, RowStatus, RunId, RunOutcome};

use super::session as sess;
use super::Usage;

pub fn run(global: &Global, a: BulkArgs) -> anyhow::Result<()> {
    let override_dir = Some(crate::config::data_dir());
    let (src, header) =
        Script::load(&a.script, override_dir.as_deref()).map_err(|e| Usage(e.to_string()))?;
    let summary = validate::validate(&a.csv, &header)
        .map_err(|r| Usage(format!("{}: {r}", a.csv.display())))?;
    if !summary.ignored_columns.is_empty() {
        eprintln!(
            "note: column(s) {} are not parameters of {}; they are carried to the results unused",
            summary.ignored_columns.join(", "),
            a.script
        );
    }

    let checked = Script::compile(&sess::compile_engine()?, src.clone(), header.clone())
        .map_err(|e| Usage(e.to_string()))?;

    let opened = sess::open(global)?;
    let journal = sess::journal()?;
    let policy = Policy {
        read_only: false,
        dry_run: a.dry_run,
        assume_yes: a.yes,
        // The one confirmation at the start covers the run; --max-changes still caps it.
        max_changes: a.max_changes,
        outside_window: a.outside_window.clone(),
        windows: opened.profile.windows.clone(),
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
    };
    let guard = Arc::new(Guard::new(policy, Box::new(TerminalPrompter)));

    let (run_id, done_before) = match &a.resume {
        Some(r) => resume(&journal, r, &a.script)?,
        None => {
            let id = journal.start_run(&NewRun {
                operator: sess::operator(),
                host: sess::hostname(),
                profile: opened.profile.name.clone(),
                script: a.script.clone(),
                script_digest: checked.digest.clone(),
                params: json!({"csv": a.csv.display().to_string(), "rows": summary.rows}),
                mode: if a.dry_run {
                    "bulk dry-run".into()
                } else {
                    "bulk".into()
                },
                outside_window_reason: a.outside_window.clone(),
            })?;
            record_rows(&journal, id, &a.csv, &header, &summary.columns)?;
            (id, HashMap::new())
        }
    };
    let keys = row_keys(&a.csv, &header, &summary.columns)?;
    let held = journal.claim_keys(run_id, &keys)?;
    if let Some((key, other)) = held.first() {
        let refused = Refused {
            reason: format!(
                "run {other} is still working on {} of these rows (e.g. {key})",
                held.len()
            ),
            how_to_proceed: format!(
                "wait for it to finish, or resume it with `vline bulk {} --csv … --resume {other}`",
                a.script
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
    let todo = summary.rows - done_before.len() as u64;
    let irreversible = if header.impact == Some(Impact::Irreversible) {
        todo
    } else {
        0
    };
    if let Err(r) = guard.begin_bulk(
        irreversible,
        &format!("{} on {todo} row(s) of {}", a.script, a.csv.display()),
    ) {
        journal.finish_run(run_id, RunOutcome::Refused, &r.to_string())?;
        return Err(r.into());
    }

    let mut session = Session::new(
        opened.clients.clone(),
        guard.clone(),
        Some(journal.clone()),
        &opened.profile.name,
        opened.sandbox.is_some(),
    );
    session.override_dir = override_dir;
    sess::configure_session(&mut session, &opened.profile);
    session.numbers = Some(crate::host::index::NumberIndex::new());
    session.quiet = true;
    let session = Arc::new(session);
    session.set_run(run_id);
    sess::on_ctrl_c(session.cancel.clone());
    let engine = engine::build(Some(&session), engine::Limits::default());
    let script = Script::compile(&engine, src, header).map_err(|e| Usage(e.to_string()))?;
    drop(engine);

    let out = a
        .out
        .clone()
        .unwrap_or_else(|| results_path(&a.csv, run_id));
    let report = execute(BulkJob {
        session: session.clone(),
        script,
        csv: &a.csv,
        columns: summary.columns.clone(),
        rows: summary.rows,
        journal: journal.clone(),
        run: run_id,
        concurrency: a.concurrency,
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
    if global.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"report": report, "plan": guard.plan()}))?
        );
    } else if a.dry_run {
        println!(
            "Dry run: {} write(s) held, nothing was sent.",
            guard.plan().len()
        );
        for p in guard.plan() {
            println!("  {:>4}. {} [{}] {}", p.seq, p.op, p.impact, p.target);
        }
    }
    if let Some(s) = &report.stopped {
        if s.starts_with("refused") || s.contains("window") {
            return Err(Refused {
                reason: s.clone(),
                how_to_proceed: format!(
                    "resume later with `vline bulk {} --csv {} --resume {run_id}`",
                    a.script,
                    a.csv.display()
                ),
            }
            .into());
        }
        anyhow::bail!(
            "{s}; resume with `vline bulk {} --csv {} --resume {run_id}`",
            a.script,
            a.csv.display()
        );
    }
    if report.failed > 0 {
        anyhow::bail!(
            "{} row(s) failed (reasons in {}); fix them and re-run those rows, or `--resume {run_id}` to retry every row not done",
            report.failed,
            report.results
        );
    }
    Ok(())
}

fn results_path(csv: &Path, run: RunId) -> PathBuf {
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
fn record_rows(
    journal: &crate::journal::Journal,
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
    journal: &crate::journal::Journal,
    r: &str,
    script: &str,
) -> anyhow::Result<(RunId, HashMap<u64, String>)> {
    let id: RunId = r
        .parse()
        .map_err(|_| Usage(format!("--resume takes a run id like r12 or 12, not '{r}'")))?;
    let Some((summary, _)) = journal.run(id)? else {
        return Err(Usage(format!("no run {id} in the journal (`vline journal list`)")).into());
    };
    if summary.script != script {
        return Err(Usage(format!("run {id} ran '{}', not '{script}'", summary.script)).into());
    }
    let done = journal
        .bulk_rows(id)?
        .into_iter()
        .filter(|row| matches!(row.status, RowStatus::Done | RowStatus::Skipped))
        .map(|row| (row.line, row.detail))
        .collect();
    Ok((id, done))
}
