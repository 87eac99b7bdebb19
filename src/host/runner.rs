//! One script, plan first: a pass with reads sent and writes held computes the plan; after the
//! operator approves it, the live pass may send only the writes the plan holds (the guard
//! refuses any other: the state moved). `vline run`, `vline call`, `vline apply` and the REPL's
//! `:run` all run scripts through here, so none of them can skip the plan.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rhai::{Dynamic, EvalAltResult};

use crate::guard::{Guard, Plan, Policy, TerminalPrompter};
use crate::journal::{Journal, RunId};

use super::bundle::Source;
use super::engine;
use super::header::{Header, ParamValue};
use super::script::{LoadError, Script};
use super::session::Session;

/// Builds the session of one pass: the caller binds it to its clients, profile naming, default
/// org and file grants; the runner gives it the pass's guard, journal and the run's stop flag.
pub type SessionFactory<'a> =
    dyn Fn(Arc<Guard>, Option<Arc<Journal>>, Arc<AtomicBool>) -> Session + 'a;

/// A [`SessionFactory`] that can move to another thread (the REPL's worker).
pub type SendSessionFactory =
    Box<dyn Fn(Arc<Guard>, Option<Arc<Journal>>, Arc<AtomicBool>) -> Session + Send + Sync>;

/// What a pass ended with.
pub struct Pass {
    pub result: Result<Dynamic, Box<EvalAltResult>>,
    /// The writes held (the plan pass) and the questions the script asked.
    pub plan: Plan,
}

/// A script with its bound parameters, and how to give it a session.
pub struct Runner<'a> {
    pub src: &'a Source,
    pub header: &'a Header,
    pub params: &'a BTreeMap<String, ParamValue>,
    pub new_session: &'a SessionFactory<'a>,
    /// One stop flag for both passes, so Ctrl-C stops whichever runs.
    pub cancel: Arc<AtomicBool>,
}

impl Runner<'_> {
    /// Whether the script declares that it only reads (`//! impact: read`): its plan is empty by
    /// construction, so it needs no plan pass; the live pass still refuses any write.
    pub fn read_only_script(&self) -> bool {
        self.header.declares_read_only()
    }

    /// The plan pass: reads are sent, writes are held, `guard::confirm` questions are recorded;
    /// holding stops past `max_changes` (the plan would be refused whole anyway).
    /// `journal` (a dry run, a saved plan) records the held writes under its run; `quiet` keeps
    /// the script's own `print` lines off the terminal (the plan is shown instead).
    pub fn plan(
        &self,
        policy: &Policy,
        journal: Option<(Arc<Journal>, RunId)>,
        quiet: bool,
    ) -> Result<Pass, LoadError> {
        let guard = Arc::new(Guard::new(
            Policy {
                dry_run: true,
                // Held even in read-only mode: the approval refuses the plan and journals it.
                read_only: false,
                interactive: false,
                ..policy.clone()
            },
            Box::new(TerminalPrompter),
        ));
        let pass = self.pass(guard.clone(), journal, quiet)?;
        Ok(Pass {
            result: pass,
            plan: guard.held_plan(),
        })
    }

    /// The live pass under `guard`, which holds the approved plan (see `Guard::approve`).
    pub fn live(
        &self,
        guard: Arc<Guard>,
        journal: Option<(Arc<Journal>, RunId)>,
    ) -> Result<Pass, LoadError> {
        let result = self.pass(guard, journal, false)?;
        Ok(Pass {
            result,
            plan: Plan::default(),
        })
    }

    fn pass(
        &self,
        guard: Arc<Guard>,
        journal: Option<(Arc<Journal>, RunId)>,
        quiet: bool,
    ) -> Result<Result<Dynamic, Box<EvalAltResult>>, LoadError> {
        let (journal, run) = match journal {
            Some((j, r)) => (Some(j), Some(r)),
            None => (None, None),
        };
        let mut session = (self.new_session)(guard, journal, self.cancel.clone());
        session.quiet = quiet;
        let session = Arc::new(session);
        let engine = engine::build(Some(&session), engine::Limits::default());
        let script = Script::compile(&engine, self.src.clone(), self.header.clone())?;
        if let Some(r) = run {
            session.set_run(r);
        }
        Ok(script.run(&engine, self.params))
    }
}

/// A plan saved for later (`vline run … --plan-out FILE`), for a change board to review and
/// `vline apply` to run: what runs, with what, where, and every write it will make.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedPlan {
    /// The file format's version.
    pub format: u32,
    pub vline_version: String,
    /// When the plan was made (RFC 3339, UTC).
    pub made_at: String,
    /// Procedure name or script path, as given.
    pub script: String,
    pub script_sha256: String,
    /// The bound parameters, secrets redacted.
    pub params: serde_json::Value,
    /// SHA-256 of the parameters as bound (before redaction).
    pub params_sha256: String,
    pub profile: String,
    pub profile_kind: String,
    pub zoom_account_id: String,
    pub movius_org: Option<String>,
    pub plan: Plan,
}

/// The saved-plan format this build writes and reads.
pub const SAVED_PLAN_FORMAT: u32 = 1;

/// SHA-256 (hex) of bound parameters, in their canonical (sorted) JSON form.
pub fn params_digest(params: &BTreeMap<String, ParamValue>) -> String {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_string(params).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether every write of `fresh` is one the `saved` plan holds (each saved write admits at most
/// one): the first that is not, as `op on target`.
pub fn outside_plan(saved: &Plan, fresh: &Plan) -> Option<String> {
    let mut used = vec![false; saved.writes.len()];
    for w in &fresh.writes {
        let at = saved
            .writes
            .iter()
            .enumerate()
            .position(|(i, s)| !used[i] && s.admits(&w.op, w.impact, &w.target, &w.params));
        match at {
            Some(i) => used[i] = true,
            None => return Some(format!("{} on {} ({})", w.op, w.target, w.impact)),
        }
    }
    None
}
