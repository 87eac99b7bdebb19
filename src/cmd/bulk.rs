//! `vline bulk <procedure|file.rhai> --csv FILE`: validate the whole file, then run the procedure
//! once per row, as fast as Zoom's limits allow, resumable after any crash. The run itself is
//! `bulk::job::run` (the benchmark calls it too); this is the command line around it.

use std::io::IsTerminal;

use serde_json::json;

use crate::bulk::job;
use crate::bulk::validate;
use crate::cli::{BulkArgs, Global};
use crate::guard::Refused;
use crate::host::script::Script;

use super::setup as sess;
use super::{Interrupted, Usage};

pub fn run(global: &Global, a: BulkArgs) -> anyhow::Result<()> {
    // Before validation: a pre-flight reports duplicate rows as blocked instead of refusing.
    if a.preflight {
        return preflight(global, &a);
    }
    let override_dir = Some(crate::config::data_dir());
    let (src, mut header) =
        Script::load(&a.script, override_dir.as_deref()).map_err(|e| Usage(e.to_string()))?;
    // National numbers in the file are read in the profile's region, or refused.
    header.region = super::config::load_profile(global)?.default_region;
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
    opened.bound_run(a.max_calls, a.max_run_secs, summary.rows);
    let env = job::Env {
        clients: &opened.clients,
        profile: &opened.profile,
        sandbox: opened.sandbox.is_some(),
        journal: crate::connect::journal()?,
        override_dir,
        on_interrupt: Some(sess::on_ctrl_c_bulk),
    };
    let opts = job::Options {
        script: a.script.clone(),
        csv: a.csv.clone(),
        concurrency: a.concurrency,
        resume: a.resume.clone(),
        dry_run: a.dry_run,
        yes: a.yes,
        max_changes: a.max_changes,
        outside_window: a.outside_window.clone(),
        out: a.out.clone(),
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        ticket: sess::ticket(global, &opened.profile)?,
    };
    drop(checked);
    let finished = job::run(
        &env,
        &opts,
        job::Prepared {
            src,
            header,
            summary,
        },
    )
    .map_err(|e| match e.downcast::<job::BadInput>() {
        Ok(b) => Usage(b.0).into(),
        Err(e) => e,
    })?;
    let (run_id, report, plan) = (finished.run, finished.report, finished.plan);
    if global.structured() {
        // Each row's result as the results file has it: a pipeline needs no second read.
        let (columns, rows) = if a.dry_run {
            (Vec::new(), Vec::new())
        } else {
            result_rows(std::path::Path::new(&report.results))?
        };
        // A CSV of the rows keeps the results file's columns in its order.
        super::print_laid_out(
            global,
            &json!({"report": report, "plan": plan, "rows": rows}),
            Some("rows"),
            &crate::output::Layout::columns(&columns),
        )?;
        super::json_document_printed();
    } else if a.dry_run {
        println!("Dry run: {} write(s) held, nothing was sent.", plan.len());
        for p in &plan {
            println!("  {:>4}. {} [{}] {}", p.seq, p.op, p.impact, p.target);
        }
    }
    let resume_cmd = format!(
        "vline bulk {} --csv {} --resume {run_id}{}{}",
        a.script,
        a.csv.display(),
        a.out
            .as_ref()
            .map(|o| format!(" --out {}", o.display()))
            .unwrap_or_default(),
        if a.yes { " --yes" } else { "" }
    );
    if let Some(s) = &report.stopped {
        if s == "interrupted by Ctrl-C" {
            let left = report.rows.saturating_sub(report.done + report.skipped);
            return Err(Interrupted(format!(
                "interrupted by Ctrl-C: {} done, {} not done ({} interrupted, re-checked on resume). Resume with `{resume_cmd}`",
                report.done + report.skipped,
                left,
                report.interrupted
            ))
            .into());
        }
        if s.starts_with("refused") || s.contains("window") {
            return Err(Refused {
                reason: s.clone(),
                how_to_proceed: format!("resume later with `{resume_cmd}`"),
            }
            .into());
        }
        anyhow::bail!("{s}; resume with `{resume_cmd}`");
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

/// Columns of the results file that hold whole numbers.
const NUMERIC_RESULT_COLUMNS: [&str; 3] = ["line", "attempts", "duration_ms"];

/// The columns of a results file and its rows as JSON objects (its header names the fields;
/// counts as numbers, everything else as the text the file holds). A file that is not there
/// gives no rows.
fn result_rows(path: &std::path::Path) -> anyhow::Result<(Vec<String>, Vec<serde_json::Value>)> {
    if !path.exists() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut rd = csv::Reader::from_path(path)
        .map_err(|e| anyhow::anyhow!("results file {}: {e}", path.display()))?;
    let head = rd.headers()?.clone();
    let mut rows = Vec::new();
    for rec in rd.records() {
        let rec = rec?;
        let obj: serde_json::Map<String, serde_json::Value> = head
            .iter()
            .zip(rec.iter())
            .map(|(k, v)| {
                let value = match v.parse::<u64>() {
                    Ok(n) if NUMERIC_RESULT_COLUMNS.contains(&k) => json!(n),
                    _ => json!(v),
                };
                (k.to_string(), value)
            })
            .collect();
        rows.push(serde_json::Value::Object(obj));
    }
    Ok((head.iter().map(String::from).collect(), rows))
}

/// `vline bulk <procedure> --csv FILE --preflight`: check every row, print the report, write the
/// CSV of the rows that would fail beside the input. Ready → Ok; not ready → a guard refusal
/// (exit 3); malformed file → usage error (exit 2).
fn preflight(global: &Global, a: &BulkArgs) -> anyhow::Result<()> {
    use crate::bulk::preflight::{
        failures_path, preflight, read_rows, write_failures, PreflightError, Setup, DEFAULT_WORKERS,
    };
    let override_dir = Some(crate::config::data_dir());
    let (src, mut header) =
        Script::load(&a.script, override_dir.as_deref()).map_err(|e| Usage(e.to_string()))?;
    header.region = super::config::load_profile(global)?.default_region;
    let script =
        Script::compile(&sess::compile_engine()?, src, header).map_err(|e| Usage(e.to_string()))?;
    // Refuse a malformed file before opening anything (exit 2), as a run does.
    if let Err(PreflightError::Refused(r)) = read_rows(&a.csv, &script.header) {
        return Err(Usage(format!("{}: {r}", a.csv.display())).into());
    }
    let opened = sess::open(global)?;
    let journal = crate::connect::journal()?;
    let last_rate = journal.last_rate(&opened.profile.name, &a.script)?;
    let profile = opened.profile.clone();
    let od = override_dir.clone();
    let configure = move |s: &mut crate::host::session::Session| {
        s.override_dir = od.clone();
        sess::configure(s, &profile);
    };
    let workers = match a.concurrency {
        crate::bulk::concurrency::Concurrency::Fixed(n) => n,
        crate::bulk::concurrency::Concurrency::Auto => DEFAULT_WORKERS,
    };
    let setup = Setup {
        clients: &opened.clients,
        profile: &opened.profile.name,
        sandbox: opened.sandbox.is_some(),
        configure: &configure,
        windows: &opened.profile.windows,
        last_rate,
        workers,
        run: a.concurrency,
        now: jiff::Timestamp::now(),
    };
    let mut report = match preflight(&setup, &script, &a.csv) {
        Ok(r) => r,
        Err(PreflightError::Refused(r)) => {
            return Err(Usage(format!("{}: {r}", a.csv.display())).into())
        }
        Err(e) => return Err(e.into()),
    };
    let out = failures_path(&a.csv);
    write_failures(&out, &a.csv, &report)?;
    report.failures_csv = Some(out.display().to_string());
    if global.structured() {
        super::print_doc(global, &report, None)?;
        super::json_document_printed();
    } else {
        println!(
            "{}",
            super::preflight::render(
                &report,
                global.verbose > 0,
                crate::output::color::enabled(crate::output::color::Stream::Stdout)
            )
        );
    }
    if report.ready {
        return Ok(());
    }
    Err(crate::guard::Refused {
        reason: report.verdict.clone(),
        how_to_proceed: format!(
            "nothing was changed; {} has every row, the blocked ones with the reason and the next step",
            out.display()
        ),
    }
    .into())
}
