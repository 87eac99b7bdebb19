//! `vline run <procedure|file.rhai> [KEY=VALUE…]`: one script, plan first, with guardrails and a
//! journal. `vline call` and `vline apply` run through [`execute`] too, so every command that
//! changes something shows the same plan and asks the same way.

use crate::output::color::{self, Meaning};
use crate::output::table;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use serde_json::{json, Value};

use crate::cli::{Global, RunArgs};
use crate::guard::{
    render_plan, Guard, Plan, PlanContext, Policy, Refused, Style, TerminalPrompter,
};
use crate::host::bundle::Source;
use crate::host::header::{split_kv, Header, ParamType, ParamValue};
use crate::host::run_cache::{RunCache, Scope};
use crate::host::runner::{self, Runner, SavedPlan};
use crate::host::script::{explain, Failure, Script};
use crate::host::session::Session;
use crate::host::value;
use crate::journal::{Journal, NewRun, RunId, RunOutcome, WriteOutcome, WriteRecord};

use super::setup as sess;
use super::Usage;

/// Where each profile's probe of Zoom's `phone_number` filter is kept (data directory).
pub const FILTER_PROBE_FILE: &str = "zoom-filter-probe.json";

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
            "\nRun: vline run {name} KEY=VALUE… [--dry-run] [--plan-out FILE] [--yes] [--outside-window \"reason\"]"
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
    if a.dry_run && a.plan_out.is_some() {
        return Err(Usage("--plan-out already holds every write: drop --dry-run".into()).into());
    }
    let job = Job::new(name, src, header, params)?;
    let flags = Flags {
        dry_run: a.dry_run,
        yes: a.yes,
        read_only: a.read_only,
        max_changes: a.max_changes,
        outside_window: a.outside_window.clone(),
        plan_out: a.plan_out.clone(),
        max_calls: a.max_calls,
        max_run_secs: a.max_run_secs,
        bare_json: false,
    };
    execute(global, &job, &flags, Mode::Run, &|v| show_result(global, v))
}

/// A script ready to run: loaded, its parameters bound, compiled once to catch errors before
/// anything opens (a script with errors costs no call and no journal row).
pub struct Job {
    pub name: String,
    pub src: Source,
    pub header: Header,
    pub params: BTreeMap<String, ParamValue>,
    pub digest: String,
}

impl Job {
    pub fn new(
        name: &str,
        src: Source,
        header: Header,
        params: BTreeMap<String, ParamValue>,
    ) -> anyhow::Result<Job> {
        let checked = Script::compile(&sess::compile_engine()?, src.clone(), header.clone())
            .map_err(|e| Usage(e.to_string()))?;
        Ok(Job {
            name: name.to_string(),
            src,
            header,
            params,
            digest: checked.digest,
        })
    }
}

/// What the operator asked of the run.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub dry_run: bool,
    pub yes: bool,
    pub read_only: bool,
    pub max_changes: Option<u64>,
    pub outside_window: Option<String>,
    pub plan_out: Option<PathBuf>,
    /// Service calls and seconds the run may take (default: the profile's).
    pub max_calls: Option<u64>,
    pub max_run_secs: Option<u64>,
    /// `--json` prints the result alone, not the run around it (`vline call`).
    pub bare_json: bool,
}

/// Which command runs the job.
pub enum Mode<'a> {
    /// `vline run`, `vline call`: plan now, approve, run.
    Run,
    /// `vline apply`: the approved plan is the saved one (its SHA-256 is journaled); a fresh
    /// plan pass must stay inside it.
    Apply {
        saved: &'a SavedPlan,
        digest: String,
    },
}

/// Said of a run whose journal shows no write sent.
const NOTHING_SENT: &str = "nothing was sent";

/// How a command prints a script's result on stdout (human form; `--json` is shared).
pub type Show<'a> = &'a dyn Fn(&Value) -> anyhow::Result<()>;

/// A script's result in the format asked for (a procedure's `steps` lead with step, status,
/// detail).
pub fn show_result(global: &Global, v: &Value) -> anyhow::Result<()> {
    super::print_doc(global, v, None)
}

/// Plan, approve, run: the one path every script run takes.
pub fn execute(
    global: &Global,
    job: &Job,
    flags: &Flags,
    mode: Mode<'_>,
    show: Show<'_>,
) -> anyhow::Result<()> {
    let opened = sess::open(global)?;
    opened.bound_run(flags.max_calls, flags.max_run_secs, 0);
    let profile = &opened.profile;
    let journal = crate::connect::journal()?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let policy = Policy {
        read_only: flags.read_only,
        dry_run: false,
        assume_yes: flags.yes,
        max_changes: flags.max_changes.or(Some(profile.max_changes)),
        outside_window: flags.outside_window.clone(),
        windows: profile.windows.clone(),
        interactive,
    };
    let ctx = PlanContext {
        what: job.name.clone(),
        profile: profile.name.clone(),
        kind: profile.kind.to_string(),
        zoom_account: profile.zoom_account_id.clone(),
        movius_org: profile.movius_org.clone(),
    };
    let cancel = Arc::new(AtomicBool::new(false));
    sess::on_ctrl_c(cancel.clone());
    let override_dir = Some(crate::config::data_dir());
    let path_params: Vec<PathBuf> = job
        .header
        .params
        .iter()
        .filter(|p| p.ty == ParamType::Path)
        .filter_map(|p| match job.params.get(&p.name) {
            Some(ParamValue::Str(s)) => Some(PathBuf::from(s)),
            _ => None,
        })
        .collect();
    // One cache for the run: the plan pass's reads answer the live pass, within their ages.
    let cache = Arc::new(RunCache::new(Scope::Single).with_filter_probe(
        crate::config::data_dir().join(FILTER_PROBE_FILE),
        &profile.name,
    ));
    let new_session = |guard: Arc<Guard>, j: Option<Arc<Journal>>, stop: Arc<AtomicBool>| {
        let mut s = Session::with_cancel(
            opened.clients.clone(),
            guard,
            j,
            &profile.name,
            opened.sandbox.is_some(),
            stop,
        );
        s.override_dir = override_dir.clone();
        sess::configure(&mut s, profile);
        s.numbers = Some(cache.clone());
        for p in &path_params {
            s.grant_file(p);
        }
        s
    };
    let runner = Runner {
        src: &job.src,
        header: &job.header,
        params: &job.params,
        new_session: &new_session,
        cancel: cancel.clone(),
    };
    let mode_name = match (&mode, flags) {
        (Mode::Apply { .. }, _) => "apply",
        (_, f) if f.dry_run => "dry-run",
        (_, f) if f.plan_out.is_some() => "plan",
        (_, f) if f.read_only => "read-only",
        _ => "run",
    };
    let ticket = sess::ticket(global, profile)?;
    let run_id = journal.start_run(&NewRun {
        ticket,
        operator: crate::connect::operator(profile),
        host: sess::hostname(),
        profile: profile.name.clone(),
        script: job.name.clone(),
        script_digest: job.digest.clone(),
        params: crate::guard::redact(&serde_json::to_value(&job.params).unwrap_or(Value::Null)),
        mode: mode_name.to_string(),
        outside_window_reason: flags.outside_window.clone(),
    })?;
    if let Mode::Apply { digest, .. } = &mode {
        journal.set_plan_digest(run_id, digest)?;
    }
    tracing::info!(run = %run_id, script = %job.name, digest = %job.digest, mode = mode_name, "run started");
    let end = Ending {
        journal: &journal,
        run: run_id,
        name: &job.name,
    };

    // ---- The plan pass: reads sent, writes held ----
    let keep_plan = flags.dry_run || flags.plan_out.is_some();
    let plan = if runner.read_only_script() && !keep_plan {
        Plan::default()
    } else {
        let pass = runner
            .plan(
                &policy,
                keep_plan.then(|| (journal.clone(), run_id)),
                // Its own output is shown where no live pass follows to show it again.
                !(flags.dry_run || flags.read_only),
            )
            .map_err(|e| Usage(e.to_string()))?;
        if flags.dry_run {
            return end.dry_run(global, pass.result, &pass.plan, flags, show);
        }
        if let Err(e) = pass.result {
            let stale = matches!(mode, Mode::Apply { .. });
            if let Failure::Refused { reason, .. } = explain(&e) {
                for w in &pass.plan.writes {
                    end.journal_refused(w, &reason);
                }
            }
            let (outcome, err) = end.failed(&e, stale);
            if global.structured() && !flags.bare_json {
                end.print_json(outcome, &pass.plan, &err);
            }
            return Err(err);
        }
        pass.plan
    };

    if let Some(out) = &flags.plan_out {
        let saved = SavedPlan {
            format: runner::SAVED_PLAN_FORMAT,
            vline_version: env!("CARGO_PKG_VERSION").to_string(),
            made_at: jiff::Timestamp::now().to_string(),
            script: job.name.clone(),
            script_sha256: job.digest.clone(),
            params: crate::guard::redact(&serde_json::to_value(&job.params).unwrap_or(Value::Null)),
            params_sha256: runner::params_digest(&job.params),
            profile: profile.name.clone(),
            profile_kind: profile.kind.to_string(),
            zoom_account_id: profile.zoom_account_id.clone(),
            movius_org: profile.movius_org.clone(),
            plan: plan.clone(),
        };
        let digest = write_plan(out, &saved)?;
        end.finish(RunOutcome::Done, "")?;
        if global.structured() {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"run": run_id.to_string(), "plan_file": out, "sha256": digest, "plan": plan})
                )?
            );
        } else {
            println!(
                "{}",
                render_plan(&plan, &ctx, Style::Plain, table::target_width())
            );
        }
        eprintln!(
            "plan saved to {} (sha256 {digest}); nothing was sent. Review: `vline plan show {0}`; apply: `vline apply {0}`",
            out.display()
        );
        return Ok(());
    }

    // ---- `vline apply`: the state must not have moved outside the saved plan ----
    let approved = match &mode {
        Mode::Run => plan,
        Mode::Apply { saved, .. } => {
            if let Some(w) = runner::outside_plan(&saved.plan, &plan) {
                let r = Refused {
                    reason: format!("the state moved since the plan was made: {w} is not in the saved plan"),
                    how_to_proceed: format!(
                        "make a new plan (`vline run {} … --plan-out FILE`) and have it reviewed; nothing was sent",
                        job.name
                    ),
                };
                end.finish(RunOutcome::Refused, &r.to_string())?;
                return Err(r.into());
            }
            saved.plan.clone()
        }
    };

    // ---- One decision on the whole plan ----
    let guard = Arc::new(Guard::new(policy.clone(), Box::new(TerminalPrompter)));
    let asks = interactive && !flags.yes && !approved.is_empty();
    if !approved.is_empty() && !asks && !global.structured() {
        eprintln!(
            "{}",
            render_plan(
                &approved,
                &ctx,
                Style::for_terminal(std::io::stderr().is_terminal()),
                table::stderr_width()
            )
        );
    }
    if approved.is_empty() && !runner.read_only_script() {
        eprintln!("plan: no write is needed (already done); nothing will be sent");
    }
    if let Err(r) = guard.approve(&approved, &ctx, Style::for_terminal(interactive)) {
        for w in &approved.writes {
            end.journal_refused(w, &r.reason);
        }
        let r = Refused {
            reason: r.reason,
            how_to_proceed: format!("{}; nothing was sent", r.how_to_proceed),
        };
        end.finish(RunOutcome::Refused, &r.to_string())?;
        let err = r.into();
        if global.structured() && !flags.bare_json {
            end.print_json(RunOutcome::Refused, &approved, &err);
        }
        return Err(err);
    }

    // ---- The live pass: only the approved writes are sent ----
    let pass = runner
        .live(guard.clone(), Some((journal.clone(), run_id)))
        .map_err(|e| Usage(e.to_string()))?;
    let result = pass.result;
    let (outcome, err): (RunOutcome, Option<anyhow::Error>) = match &result {
        Ok(_) => (RunOutcome::Done, None),
        Err(e) => {
            let sent_list = end.sent();
            let sent = sent_list.as_deref().unwrap_or(NOTHING_SENT);
            match explain(e) {
                Failure::Refused { reason, how } => (
                    RunOutcome::Refused,
                    Some(
                        Refused {
                            reason,
                            how_to_proceed: format!("{how}; {sent}"),
                        }
                        .into(),
                    ),
                ),
                Failure::Interrupted => (
                    RunOutcome::Interrupted,
                    Some(anyhow::anyhow!(
                        "interrupted by Ctrl-C; {sent} (`vline journal show {run_id}`)"
                    )),
                ),
                Failure::Blocked(b) if sent_list.is_none() => (RunOutcome::Refused, Some(b.into())),
                Failure::Blocked(mut b) => {
                    b.next = format!("{}\n({sent})", b.next);
                    (RunOutcome::Refused, Some(b.into()))
                }
                Failure::Error(m) if sent_list.is_none() => (
                    RunOutcome::Failed,
                    Some(anyhow::anyhow!("{}{m}", located(&job.name, &m))),
                ),
                Failure::Error(m) => (
                    RunOutcome::Failed,
                    Some(anyhow::anyhow!("{}{m}\n({sent})", located(&job.name, &m))),
                ),
            }
        }
    };
    let detail = err.as_ref().map(|e| format!("{e:#}")).unwrap_or_default();
    end.finish(outcome, &detail)?;

    let result_json = result.as_ref().map(value::to_json).unwrap_or(Value::Null);
    if global.structured() && flags.bare_json {
        if err.is_none() {
            super::print_doc(global, &result_json, None)?;
            super::json_document_printed();
        }
    } else if global.structured() {
        let out = json!({
            "run": run_id.to_string(),
            "outcome": outcome.as_str(),
            "result": result_json,
            "plan": approved.writes,
            "error": err.as_ref().map(|e| format!("{e:#}")),
        });
        super::print_doc(global, &out, None)?;
        super::json_document_printed();
    } else if err.is_none() {
        show(&result_json)?;
    }
    if cancel.load(Ordering::Relaxed) && err.is_none() {
        eprintln!("interrupted");
    }
    match err {
        Some(e) => Err(e),
        None => {
            eprintln!(
                "{}: run {run_id} ({} change(s) sent; `vline journal show {run_id}`)",
                color::paint_stderr(Meaning::Done, "done"),
                guard.changes_made()
            );
            Ok(())
        }
    }
}

/// Script errors with a position say which script; others are product messages.
fn located(name: &str, m: &str) -> String {
    if m.contains("(at line ") {
        format!("{name}: ")
    } else {
        String::new()
    }
}

/// Writes the saved plan atomically; its SHA-256 (of the file's bytes) is what `apply` journals.
fn write_plan(out: &Path, saved: &SavedPlan) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_string_pretty(saved)? + "\n";
    let tmp = out.with_extension("tmp-plan");
    std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// How a run ends in the journal and on the terminal.
struct Ending<'a> {
    journal: &'a Arc<Journal>,
    run: RunId,
    name: &'a str,
}

impl Ending<'_> {
    fn finish(&self, outcome: RunOutcome, detail: &str) -> anyhow::Result<()> {
        self.journal
            .finish_run(self.run, outcome, detail)
            .context("journal")
    }

    /// A planned write the approval refused: journaled, never sent.
    fn journal_refused(&self, w: &crate::guard::PlannedWrite, reason: &str) {
        let rec = WriteRecord {
            seq: w.seq,
            op: w.op.clone(),
            impact: w.impact,
            target: w.target.clone(),
            params: w.params.clone(),
            outcome: WriteOutcome::Refused,
            http_status: None,
            duration_ms: 0,
            error: Some(reason.to_string()),
        };
        if let Err(e) = self.journal.record_write(self.run, &rec) {
            tracing::error!("journal write failed: {e}");
        }
    }

    /// What the journal shows was sent for this run, or `None` when nothing was: the only
    /// ground for saying "nothing was sent".
    fn sent(&self) -> Option<String> {
        let writes = self.journal.writes(Some(self.run)).unwrap_or_default();
        let sent: Vec<String> = writes
            .iter()
            .filter(|w| matches!(w.outcome, WriteOutcome::Sent | WriteOutcome::Failed))
            .map(|w| {
                let status = w
                    .http_status
                    .map(|s| format!("HTTP {s}"))
                    .unwrap_or_else(|| "no answer".into());
                format!("{} on {} ({}, {status})", w.op, w.target, w.outcome)
            })
            .collect();
        (!sent.is_empty()).then(|| format!("sent before the stop: {}", sent.join("; ")))
    }

    /// The plan pass failed: nothing was sent (it sends no write).
    fn failed(&self, e: &rhai::EvalAltResult, stale: bool) -> (RunOutcome, anyhow::Error) {
        let (outcome, err): (RunOutcome, anyhow::Error) = match explain(e) {
            Failure::Refused { reason, how } => (
                RunOutcome::Refused,
                Refused {
                    reason,
                    how_to_proceed: format!("{how}; nothing was sent"),
                }
                .into(),
            ),
            Failure::Interrupted => (
                RunOutcome::Interrupted,
                anyhow::anyhow!("interrupted by Ctrl-C while planning; nothing was sent"),
            ),
            Failure::Blocked(b) if stale => (
                RunOutcome::Refused,
                Refused {
                    reason: format!("the saved plan no longer applies: {b}"),
                    how_to_proceed: format!(
                        "make a new plan (`vline run {} … --plan-out FILE`); nothing was sent",
                        self.name
                    ),
                }
                .into(),
            ),
            Failure::Blocked(b) => (RunOutcome::Refused, b.into()),
            // A saved plan whose script now stops on the state: the state moved.
            Failure::Error(m) if stale => (
                RunOutcome::Refused,
                Refused {
                    reason: format!("the saved plan no longer applies: {m}"),
                    how_to_proceed: format!(
                        "make a new plan (`vline run {} … --plan-out FILE`); nothing was sent",
                        self.name
                    ),
                }
                .into(),
            ),
            Failure::Error(m) => (
                RunOutcome::Failed,
                anyhow::anyhow!(
                    "{}{m} (while planning: nothing was sent)",
                    located(self.name, &m)
                ),
            ),
        };
        if let Err(j) = self.finish(outcome, &format!("{err:#}")) {
            return (RunOutcome::Failed, j);
        }
        (outcome, err)
    }

    /// With `--json`, a run that stops still prints its object, with the error.
    fn print_json(&self, outcome: RunOutcome, plan: &Plan, err: &anyhow::Error) {
        let out = json!({
            "run": self.run.to_string(),
            "outcome": outcome.as_str(),
            "result": Value::Null,
            "plan": plan.writes,
            "error": format!("{err:#}"),
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        super::json_document_printed();
    }

    /// `--dry-run`: the plan pass is the whole run.
    fn dry_run(
        &self,
        global: &Global,
        result: Result<rhai::Dynamic, Box<rhai::EvalAltResult>>,
        plan: &Plan,
        flags: &Flags,
        show: Show<'_>,
    ) -> anyhow::Result<()> {
        if let Err(e) = &result {
            let (outcome, err) = self.failed(e, false);
            if global.structured() && !flags.bare_json {
                self.print_json(outcome, plan, &err);
            }
            return Err(err);
        }
        self.finish(RunOutcome::Done, "")?;
        let result_json = result.as_ref().map(value::to_json).unwrap_or(Value::Null);
        if global.structured() && flags.bare_json {
            super::print_doc(global, &plan.writes, None)?;
        } else if global.structured() {
            let out = json!({
                "run": self.run.to_string(),
                "outcome": "done",
                "result": result_json,
                "plan": plan.writes,
                "error": Value::Null,
            });
            super::print_doc(global, &out, None)?;
        } else {
            show(&result_json)?;
            println!("\nDry run: {} write(s) held, nothing was sent.", plan.len());
            for p in &plan.writes {
                println!(
                    "  {:>3}. {} [{}] {}  {}",
                    p.seq, p.op, p.impact, p.target, p.params
                );
            }
        }
        eprintln!(
            "done: run {} ({} write(s) held, none sent; `vline journal show {}`)",
            self.run,
            plan.len(),
            self.run
        );
        Ok(())
    }
}
