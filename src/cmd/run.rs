//! `vline run <procedure|file.rhai> [KEY=VALUE…]`: one script, with guardrails and a journal.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::Context;
use serde_json::{json, Value};

use crate::cli::{Global, RunArgs};
use crate::guard::{Guard, Policy, Refused, TerminalPrompter};
use crate::host::header::{split_kv, ParamType};
use crate::host::script::{explain, Failure, Script};
use crate::host::session::Session;
use crate::host::{engine, value};
use crate::journal::{NewRun, RunOutcome};

use super::session as sess;
use super::Usage;

pub fn run(global: &Global, a: RunArgs) -> anyhow::Result<()> {
    if a.help && a.script.is_none() {
        let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
        if let Some(run) = cmd.find_subcommand_mut("run") {
            run.print_long_help()?;
        }
        return Ok(());
    }
    let Some(name) = a.script.as_deref() else {
        return Err(Usage("name a procedure (see `vline procedures`) or a .rhai file: vline run <procedure> [KEY=VALUE…]".into()).into());
    };
    let override_dir = Some(crate::config::data_dir());
    let (src, mut header) =
        Script::load(name, override_dir.as_deref()).map_err(|e| Usage(e.to_string()))?;
    // National numbers in parameters are read in the profile's region, or refused.
    header.region = super::config::load_profile(global)?.default_region;
    if a.help {
        println!("{}", header.usage(name));
        println!(
            "\nRun: vline run {name} KEY=VALUE… [--dry-run] [--yes] [--outside-window \"reason\"]"
        );
        return Ok(());
    }
    let kv = split_kv(&a.params).map_err(Usage)?;
    let params = header.bind(&kv).map_err(|errs| {
        Usage(format!(
            "{name}: {} problem(s) with the parameters, nothing was run:\n  - {}\n(see `vline run {name} --help`)",
            errs.len(),
            errs.join("\n  - ")
        ))
    })?;

    // Compile before anything opens, so a script with errors costs no call and no journal row.
    let checked = Script::compile(&sess::compile_engine()?, src.clone(), header.clone())
        .map_err(|e| Usage(e.to_string()))?;

    let opened = sess::open(global)?;
    sess::bound_run(&opened, a.max_calls, a.max_run_secs, 0);
    let policy = Policy {
        read_only: a.read_only,
        dry_run: a.dry_run,
        assume_yes: a.yes,
        max_changes: a.max_changes.or(Some(opened.profile.max_changes)),
        outside_window: a.outside_window.clone(),
        windows: opened.profile.windows.clone(),
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
    };
    let guard = Arc::new(Guard::new(policy, Box::new(TerminalPrompter)));
    let journal = sess::journal()?;
    let mode = if a.dry_run {
        "dry-run"
    } else if a.read_only {
        "read-only"
    } else {
        "run"
    };
    let run_id = journal.start_run(&NewRun {
        operator: sess::operator(),
        host: sess::hostname(),
        profile: opened.profile.name.clone(),
        script: name.to_string(),
        script_digest: checked.digest.clone(),
        params: crate::guard::redact(&serde_json::to_value(&params).unwrap_or(Value::Null)),
        mode: mode.to_string(),
        outside_window_reason: a.outside_window.clone(),
    })?;

    let mut session = Session::new(
        opened.clients.clone(),
        guard.clone(),
        Some(journal.clone()),
        &opened.profile.name,
        opened.sandbox.is_some(),
    );
    session.override_dir = override_dir;
    sess::configure_session(&mut session, &opened.profile);
    for p in header.params.iter().filter(|p| p.ty == ParamType::Path) {
        if let Some(crate::host::header::ParamValue::Str(path)) = params.get(&p.name) {
            session.grant_file(std::path::Path::new(path));
        }
    }
    let session = Arc::new(session);
    sess::on_ctrl_c(session.cancel.clone());
    let engine = engine::build(Some(&session), engine::Limits::default());
    let script = Script::compile(&engine, src, header).map_err(|e| Usage(e.to_string()))?;
    session.set_run(run_id);
    tracing::info!(run = %run_id, script = %script.name, digest = %script.digest, "run started");

    let result = script.run(&engine, &params);
    let plan = guard.plan();
    let (outcome, err): (RunOutcome, Option<anyhow::Error>) = match &result {
        Ok(_) => (RunOutcome::Done, None),
        Err(e) => match explain(e) {
            Failure::Refused { reason, how } => (RunOutcome::Refused, Some(Refused { reason, how_to_proceed: how }.into())),
            Failure::Interrupted => (RunOutcome::Interrupted, Some(anyhow::anyhow!("interrupted by Ctrl-C; writes sent so far are in `vline journal show {run_id}`"))),
            Failure::Error(m) if m.contains("(at line ") => (RunOutcome::Failed, Some(anyhow::anyhow!("{name}: {m}"))),
            Failure::Error(m) => (RunOutcome::Failed, Some(anyhow::anyhow!(m))),
        },
    };
    let detail = err.as_ref().map(|e| format!("{e:#}")).unwrap_or_default();
    journal
        .finish_run(run_id, outcome, &detail)
        .context("journal")?;

    let result_json = result.as_ref().map(value::to_json).unwrap_or(Value::Null);
    if global.json {
        let out = json!({
            "run": run_id.to_string(),
            "outcome": format!("{outcome:?}").to_lowercase(),
            "result": result_json,
            "plan": plan,
            "error": err.as_ref().map(|e| format!("{e:#}")),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        super::json_document_printed();
    } else {
        let shown = value::render(&result_json);
        if !shown.is_empty() {
            println!("{shown}");
        }
        if a.dry_run {
            println!("\nDry run: {} write(s) held, nothing was sent.", plan.len());
            for p in &plan {
                println!(
                    "  {:>3}. {} [{}] {}  {}",
                    p.seq, p.op, p.impact, p.target, p.params
                );
            }
        }
    }
    if session.cancel.load(Ordering::Relaxed) && err.is_none() {
        eprintln!("interrupted");
    }
    match err {
        Some(e) => Err(e),
        None => {
            // In a dry run the guard counts held writes: none of them was sent.
            let what = if a.dry_run {
                format!("{} write(s) held, none sent", plan.len())
            } else {
                format!("{} change(s) sent", guard.changes_made())
            };
            eprintln!("done: run {run_id} ({what}; `vline journal show {run_id}`)");
            Ok(())
        }
    }
}
