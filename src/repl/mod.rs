//! `vline repl`: an interactive console on one session (rustyline, like rhai-repl).
//!
//! `helper` completes, hints and validates multi-line input; `worker` runs each line off the
//! editor's thread so Ctrl-C returns to the prompt; `meta` parses the `:commands`; `print` shows
//! results. The guardrails are the session's: read-only until `:write on`.

pub mod helper;
pub mod meta;
pub mod print;
pub mod worker;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use rhai::Engine;
use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::Editor;

use crate::config::Profile;
use crate::guard::Guard;
use crate::host::header::{split_kv, ParamType, ParamValue};
use crate::host::script::Script;
use crate::host::session::Session;
use crate::host::{engine, value};
use crate::journal::{Journal, RunId};

use helper::{ReplHelper, SharedNames};
use meta::Meta;
use worker::{Done, Job, Link, Msg, State};

pub use worker::ReplPrompter;

/// Why the REPL could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ReplError {
    #[error("the line editor failed: {0}")]
    Editor(#[from] ReadlineError),
}

/// Everything one REPL session works with; `cmd::repl` opens it.
pub struct Repl {
    pub session: Arc<Session>,
    pub guard: Arc<Guard>,
    pub journal: Arc<Journal>,
    pub run_id: RunId,
    pub profile: Profile,
    /// Print results as JSON (`--json`, `:json on`).
    pub json: bool,
    /// The history file (`repl_history` in the data directory).
    pub history: PathBuf,
    /// Must be the link whose [`Link::prompter`] the guard was given.
    pub link: Link,
}

type Ed = Editor<ReplHelper, FileHistory>;

/// The evaluator's state: here between lines, `Pending` while an interrupted call still runs.
enum Held {
    Here(State),
    Pending,
}

impl Repl {
    /// Read, evaluate, print until `:quit` or Ctrl-D.
    pub fn run(mut self) -> Result<(), ReplError> {
        let engine = Arc::new(engine::build(
            Some(&self.session),
            engine::Limits::default(),
        ));
        let names: SharedNames = Arc::default();
        // Tab completes what all candidates share, and a second Tab lists them (as bash does),
        // rather than cycling through them blind.
        let config = Config::builder()
            .completion_type(rustyline::CompletionType::List)
            .max_history_size(1000)?
            .history_ignore_space(true)
            .auto_add_history(false)
            .build();
        let mut rl: Ed = Editor::with_config(config)?;
        let color = crate::output::color::enabled(crate::output::color::Stream::Stdout);
        rl.set_helper(Some(ReplHelper::new(names.clone(), color)));
        // No file yet on a first start.
        let _ = rl.load_history(&self.history);
        if let Err(e) = self.link.install_ctrl_c(self.session.cancel.clone()) {
            tracing::warn!("cannot install the Ctrl-C handler: {e}");
        }
        eprintln!(
            "vline repl · profile {} · {} · journal run {} · `:help` for commands, Tab completes, Ctrl-D leaves",
            self.profile.name,
            self.mode_text(),
            self.run_id
        );
        let mut held = Held::Here(State::new());
        let mut history_ok = true;
        loop {
            let prompt = format!("{} {}> ", self.profile.name, self.mode());
            let line = match rl.readline(&prompt) {
                Ok(l) => l,
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            };
            if line.trim().is_empty() {
                continue;
            }
            if rl.add_history_entry(line.as_str()).unwrap_or(false) && history_ok {
                if let Err(e) = rl.append_history(&self.history) {
                    eprintln!(
                        "warning: history not saved to {}: {e}",
                        self.history.display()
                    );
                    history_ok = false;
                }
            }
            // What every shell and console accepts to leave.
            if matches!(line.trim(), "exit" | "quit" | "exit()" | "quit()") {
                break;
            }
            if line.trim_start().starts_with(':') {
                match meta::parse(&line) {
                    Meta::Quit => break,
                    m => self.meta(m, &mut rl, &mut held, &engine, &names),
                }
            } else {
                self.execute(Job::Eval(line), &mut rl, &mut held, &engine, &names);
            }
        }
        if let Held::Pending = held {
            eprintln!("waiting up to 5 s for the interrupted call to return…");
            let _ = self.take_state(&mut held, &names, Some(Duration::from_secs(5)));
        }
        Ok(())
    }

    fn mode(&self) -> &'static str {
        if self.guard.is_dry_run() {
            "dry"
        } else if self.guard.is_read_only() {
            "ro"
        } else {
            "rw"
        }
    }

    fn mode_text(&self) -> &'static str {
        match self.mode() {
            "dry" => "dry-run (writes held in a plan, `:plan`)",
            "ro" => "read-only (`:write on` to allow writes)",
            _ => "writes on (irreversible ones ask)",
        }
    }

    /// Run a job on the worker and print what it gives back, unless Ctrl-C comes first.
    fn execute(
        &mut self,
        job: Job,
        rl: &mut Ed,
        held: &mut Held,
        engine: &Arc<Engine>,
        names: &SharedNames,
    ) {
        let Some(state) = self.take_state(held, names, None) else {
            return;
        };
        self.session.cancel.store(false, Ordering::SeqCst);
        self.link.spawn(engine.clone(), state, job);
        loop {
            match self.link.recv() {
                Some(Msg::Done(done)) => {
                    self.link.idle();
                    let Done { state, result } = *done;
                    *held = Held::Here(self.settle(state, names));
                    match result {
                        Ok(v) => {
                            let shown = print::result(&value::to_json(&v), self.json);
                            if !shown.is_empty() {
                                println!("{shown}");
                            }
                        }
                        Err(e) => eprintln!("{}", print::failure(&e)),
                    }
                    return;
                }
                Some(Msg::Ask { question, reply }) => {
                    let _ = reply.send(ask(rl, &question));
                }
                Some(Msg::Interrupt) => {
                    *held = Held::Pending;
                    eprintln!(
                        "interrupted: back to the prompt. A request already sent cannot be cut: it finishes in the \
                         background, the line stops at its next operation, and the next evaluation waits for it. \
                         `:journal` lists the writes sent."
                    );
                    return;
                }
                None => return,
            }
        }
    }

    /// The state, waiting for an interrupted call to return if need be. `None` if Ctrl-C (or
    /// `limit`) ends the wait first.
    fn take_state(
        &mut self,
        held: &mut Held,
        names: &SharedNames,
        limit: Option<Duration>,
    ) -> Option<State> {
        if let Held::Here(s) = std::mem::replace(held, Held::Pending) {
            return Some(s);
        }
        // A Ctrl-C pressed again before this line was typed is not about this wait.
        while let Some(m) = self.link.try_recv() {
            match m {
                Msg::Done(done) => {
                    self.link.idle();
                    return Some(self.settle(done.state, names));
                }
                Msg::Ask { reply, .. } => {
                    let _ = reply.send(false);
                }
                Msg::Interrupt => {}
            }
        }
        let started = std::time::Instant::now();
        let mut told = false;
        loop {
            let msg = match limit {
                Some(l) => self.link.recv_timeout(l.saturating_sub(started.elapsed())),
                None => self
                    .link
                    .recv_timeout(Duration::from_millis(200))
                    .or_else(|| {
                        if !told {
                            eprintln!("(waiting for the interrupted call to return; Ctrl-C stops waiting)");
                            told = true;
                        }
                        self.link.recv()
                    }),
            };
            match msg {
                Some(Msg::Done(done)) => {
                    self.link.idle();
                    return Some(self.settle(done.state, names));
                }
                // The interrupted script must not go on to ask anything.
                Some(Msg::Ask { reply, .. }) => {
                    let _ = reply.send(false);
                }
                Some(Msg::Interrupt) => {
                    eprintln!("the interrupted call has not returned yet (a request in flight cannot be cut); try again in a moment");
                    return None;
                }
                None if limit.is_some_and(|l| started.elapsed() < l) => {}
                None => return None,
            }
        }
    }

    /// Take back the worker's state and refresh what completion knows.
    fn settle(&self, state: Option<State>, names: &SharedNames) -> State {
        let state = state.unwrap_or_default();
        names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refresh(&state.scope, &state.ast);
        state
    }

    fn meta(
        &mut self,
        m: Meta,
        rl: &mut Ed,
        held: &mut Held,
        engine: &Arc<Engine>,
        names: &SharedNames,
    ) {
        match m {
            Meta::Help(None) => print!("{}", meta::help_list()),
            Meta::Help(Some(name)) => {
                let fns: Vec<(String, String)> = names
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .fns
                    .clone()
                    .into_iter()
                    .collect();
                print!("{}", meta::help_for(&name, &fns));
            }
            Meta::Procs => print!("{}", meta::procs(self.session.override_dir.as_deref())),
            Meta::Run(name, args) => {
                if let Some(job) = self.procedure(&name, &args, engine) {
                    self.execute(job, rl, held, engine, names);
                }
            }
            Meta::Plan => self.plan(),
            Meta::Write(on) => {
                self.guard.set_read_only(!on);
                if on {
                    eprintln!(
                        "writes on: the same guardrails as `vline run` (irreversible operations ask, naming the target; at most {} changes); each is journaled in {}",
                        self.guard.policy().max_changes.map(|n| n.to_string()).unwrap_or_else(|| "unlimited".into()),
                        self.run_id
                    );
                } else {
                    eprintln!("read-only: every write is refused");
                }
            }
            Meta::Json(on) => self.json = on,
            Meta::Profile => self.show_profile(),
            Meta::Journal => self.show_journal(),
            Meta::Vars => {
                if let Some(state) = self.take_state(held, names, None) {
                    println!("{}", print::vars(&state.scope, &state.ast));
                    *held = Held::Here(state);
                }
            }
            Meta::Clear => {
                if self.take_state(held, names, None).is_some() {
                    *held = Held::Here(self.settle(Some(State::new()), names));
                    eprintln!("cleared: no variables, no functions");
                }
            }
            Meta::Quit => {}
            Meta::Bad(why) => eprintln!("{why}"),
        }
    }

    /// `:run <procedure> k=v…`: load, check the parameters, compile. `None` after printing why not.
    fn procedure(&self, name: &str, args: &[String], engine: &Engine) -> Option<Job> {
        let (src, mut header) = match Script::load(name, self.session.override_dir.as_deref()) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{e}");
                return None;
            }
        };
        if args.iter().any(|a| a == "--help" || a == "-h") {
            println!("{}", header.usage(name));
            println!("\nRun: :run {name} KEY=VALUE…");
            return None;
        }
        header.region = self.session.default_region;
        let bound =
            split_kv(args).and_then(|kv| header.bind(&kv).map_err(|errs| errs.join("\n  - ")));
        let params = match bound {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{name}: nothing was run:\n  - {e}\n(`:run {name} --help` lists the parameters)");
                return None;
            }
        };
        for p in header.params.iter().filter(|p| p.ty == ParamType::Path) {
            if let Some(ParamValue::Str(path)) = params.get(&p.name) {
                self.session.grant_file(std::path::Path::new(path));
            }
        }
        let plan_first = (!self.guard.is_dry_run()).then(|| {
            let clients = self.session.clients.clone();
            let profile = self.profile.clone();
            let override_dir = self.session.override_dir.clone();
            let sandbox = self.session.sandbox;
            let modules = self.session.modules.clone();
            let files: Vec<std::path::PathBuf> = header
                .params
                .iter()
                .filter(|p| p.ty == ParamType::Path)
                .filter_map(|p| match params.get(&p.name) {
                    Some(ParamValue::Str(s)) => Some(s.into()),
                    _ => None,
                })
                .collect();
            Box::new(worker::PlanFirst {
                src: src.clone(),
                header: header.clone(),
                new_session: Box::new(move |guard, journal, cancel| {
                    let mut s = Session::with_cancel(
                        clients.clone(),
                        guard,
                        journal,
                        &profile.name,
                        sandbox,
                        cancel,
                    );
                    s.override_dir = override_dir.clone();
                    crate::connect::configure_session(&mut s, &profile);
                    s.modules = modules.clone();
                    for f in &files {
                        s.grant_file(f);
                    }
                    s
                }),
                guard: self.guard.clone(),
                cancel: self.session.cancel.clone(),
                ctx: crate::guard::PlanContext {
                    what: name.to_string(),
                    profile: self.profile.name.clone(),
                    kind: self.profile.kind.to_string(),
                    zoom_account: self.profile.zoom_account_id.clone(),
                    movius_org: self.profile.movius_org.clone(),
                },
            })
        });
        match Script::compile(engine, src, header) {
            Ok(s) => Some(Job::Run(Box::new(s), params, plan_first)),
            Err(e) => {
                eprintln!("{e}");
                None
            }
        }
    }

    fn plan(&self) {
        if !self.guard.is_dry_run() {
            eprintln!(
                "no plan: this REPL {} writes; start `vline repl --dry-run` to hold them in a plan",
                if self.guard.is_read_only() {
                    "refuses"
                } else {
                    "sends"
                }
            );
            return;
        }
        let plan = self.guard.plan();
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&plan).unwrap_or_default()
            );
        } else if plan.is_empty() {
            println!("(no write held yet)");
        } else {
            for p in &plan {
                println!(
                    "  {:>3}. {} [{}] {}  {}",
                    p.seq, p.op, p.impact, p.target, p.params
                );
            }
        }
    }

    fn show_profile(&self) {
        let p = &self.profile;
        let kind = if self.session.sandbox {
            "the embedded sandbox".to_string()
        } else {
            match &p.source {
                Some(s) => format!("from {}", s.display()),
                None => "built in".to_string(),
            }
        };
        println!("profile       {} ({kind})", p.name);
        println!("mode          {}", self.mode_text());
        println!("zoom api      {}", p.zoom_api_url);
        println!("movius        {}", p.movius_url);
        println!(
            "default org   {}",
            p.movius_org.as_deref().unwrap_or("(none)")
        );
        println!(
            "max changes   {}",
            self.guard
                .policy()
                .max_changes
                .map(|n| n.to_string())
                .unwrap_or_else(|| "unlimited".into())
        );
        let windows: Vec<String> = p.windows.iter().map(|w| w.to_string()).collect();
        println!(
            "windows       {}",
            if windows.is_empty() {
                "(none)".to_string()
            } else {
                windows.join("; ")
            }
        );
        println!("journal       {} in {}", self.run_id, self.journal.path());
    }

    fn show_journal(&self) {
        let (summary, writes) = match self.journal.run(self.run_id) {
            Ok(Some(x)) => x,
            Ok(None) => {
                eprintln!("run {} is not in the journal", self.run_id);
                return;
            }
            Err(e) => {
                eprintln!("cannot read the journal: {e}");
                return;
            }
        };
        if self.json {
            let v = serde_json::json!({ "run": summary, "writes": writes });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            return;
        }
        println!(
            "run {} ({}, started {}): {} write(s)",
            self.run_id,
            summary.mode,
            summary.started_at,
            writes.len()
        );
        if writes.is_empty() {
            return;
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(vec![
            "seq", "op", "impact", "target", "outcome", "status", "ms", "error",
        ]);
        for w in &writes {
            t.add_row(vec![
                w.seq.to_string(),
                w.op.clone(),
                w.impact.to_string(),
                w.target.clone(),
                w.outcome.as_str().to_string(),
                w.http_status.map(|s| s.to_string()).unwrap_or_default(),
                w.duration_ms.to_string(),
                w.error.clone().unwrap_or_default(),
            ]);
        }
        println!("{t}");
    }
}

/// Ask the guard's question on the editor (Ctrl-C or Ctrl-D is a no).
fn ask(rl: &mut Ed, question: &str) -> bool {
    let (head, last) = match question.rsplit_once('\n') {
        Some((h, l)) => (Some(h), l),
        None => (None, question),
    };
    if let Some(h) = head {
        eprintln!("{h}");
    }
    match rl.readline(&format!("{last} [y/N] ")) {
        Ok(answer) => matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
        Err(_) => false,
    }
}
