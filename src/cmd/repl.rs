//! `vline repl [--write] [--dry-run]`: the interactive console on one session and one journal run.

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;

use crate::cli::{Global, ReplArgs};
use crate::guard::{terminal_attached, Guard, Policy};
use crate::host::session::Session;
use crate::journal::{NewRun, RunOutcome};
use crate::repl::{worker::Link, Repl};

use super::setup as sess;

pub fn run(global: &Global, a: ReplArgs) -> anyhow::Result<()> {
    let opened = sess::open(global)?;
    let link = Link::new();
    let policy = Policy {
        // A dry run sends nothing, so it need not also refuse.
        read_only: !a.write && !a.dry_run,
        dry_run: a.dry_run,
        assume_yes: false,
        max_changes: a.max_changes.or(Some(opened.profile.max_changes)),
        outside_window: a.outside_window.clone(),
        windows: opened.profile.windows.clone(),
        interactive: terminal_attached(),
    };
    let guard = Arc::new(Guard::new(policy, Box::new(link.prompter())));
    let journal = crate::connect::journal()?;
    let ticket = sess::ticket(global, &opened.profile)?;
    let run_id = journal.start_run(&NewRun {
        ticket,
        operator: crate::connect::operator(&opened.profile),
        host: sess::hostname(),
        profile: opened.profile.name.clone(),
        script: "repl".to_string(),
        script_digest: String::new(),
        params: json!({ "write": a.write, "dry_run": a.dry_run }),
        mode: "repl".to_string(),
        outside_window_reason: a.outside_window.clone(),
    })?;

    let mut session = Session::new(
        opened.clients.clone(),
        guard.clone(),
        Some(journal.clone()),
        &opened.profile.name,
        opened.sandbox.is_some(),
    );
    session.override_dir = Some(crate::config::data_dir());
    sess::configure(&mut session, &opened.profile);
    let session = Arc::new(session);
    session.set_run(run_id);

    let data = crate::config::data_dir();
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let repl = Repl {
        session,
        guard: guard.clone(),
        journal: journal.clone(),
        run_id,
        profile: opened.profile.clone(),
        json: global.structured(),
        history: data.join("repl_history"),
        link,
    };
    let result = repl.run();
    let (outcome, detail) = match &result {
        Ok(()) => (RunOutcome::Done, String::new()),
        Err(e) => (RunOutcome::Failed, e.to_string()),
    };
    journal
        .finish_run(run_id, outcome, &detail)
        .context("journal")?;
    let changes = guard.changes_made();
    let what = if guard.is_dry_run() {
        format!("{changes} write(s) held, nothing sent")
    } else {
        format!("{changes} change(s) sent")
    };
    eprintln!("bye: journal run {run_id} ({what}; `vline journal show {run_id}`)");
    result.map_err(Into::into)
}
