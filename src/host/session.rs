//! What every script function of one run shares: the clients, the guard, the journal, the
//! operator's file grants and the stop flag. One per run; bulk workers share it behind an `Arc`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rhai::{Dynamic, EvalAltResult, Map, Position};
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::clients::Clients;
use crate::api::ApiError;
use crate::guard::{self, Call, Decision, Guard, Impact, Refused};
use crate::journal::{Journal, RunId, WriteOutcome, WriteRecord};

use super::value::to_dynamic;

/// Shared state of a run.
pub struct Session {
    pub clients: Clients,
    pub guard: Arc<Guard>,
    pub journal: Option<Arc<Journal>>,
    pub run: Mutex<Option<RunId>>,
    pub profile: String,
    /// The carrier API exists only on the sandbox.
    pub sandbox: bool,
    /// Set by Ctrl-C; checked before every operation and by the engine's progress hook.
    pub cancel: Arc<AtomicBool>,
    seq: AtomicU64,
    /// Files the operator named on the command line; the only ones `csv::` may touch.
    files: Mutex<HashSet<PathBuf>>,
    /// Overrides for bundled scripts and stdlib (`$VLINE_HOME`).
    pub override_dir: Option<PathBuf>,
    /// The profile's default Movius org.
    pub default_org: Option<String>,
    /// The profile's account naming convention: number → (first name, last name, email).
    pub naming: Naming,
    /// Zoom's numbers, read once per bulk run (see `index`); `None` outside bulk runs.
    pub numbers: Option<super::index::NumberIndex>,
    /// Keep script `print` off stderr (bulk runs: thousands of rows would bury the progress).
    pub quiet: bool,
    /// Check arguments only: every service function parses its arguments, then stops before
    /// reaching a service (`vline call` checks the operator's arguments this way).
    pub args_only: bool,
    /// The profile's region for numbers written without a country code (`e164::parse`).
    pub default_region: Option<crate::api::Region>,
    /// Script modules of the layers above the host (bulk's `bulk::`), registered on every engine
    /// built for this session: whoever opens the session lists them, the host knows none.
    pub modules: Vec<super::engine::Registrar>,
}

/// Renders the account naming convention for a number.
pub type Naming = Box<dyn Fn(&crate::api::E164) -> (String, String, String) + Send + Sync>;

/// The guide's convention: first name = digits, last name = JPMC, `<first>.<last>@jpmc.movius.ai`.
pub fn guide_naming() -> Naming {
    Box::new(|n| {
        let first = n.digits().to_string();
        let email = format!("{first}.JPMC@jpmc.movius.ai");
        (first, "JPMC".to_string(), email)
    })
}

/// What a change is, for the guard and the journal.
pub struct Change<'a> {
    /// `zoom::assign_number`
    pub op: &'a str,
    pub impact: Impact,
    /// What it changes, named as the operator would (`+13126170100 → carol@jpmc.example`).
    pub target: String,
    /// Its parameters (redacted before they are journaled or printed).
    pub params: Value,
    /// For irreversible changes: what cannot be undone.
    pub undo: Option<&'a str>,
}

/// Why a script stopped without an error of its own.
#[derive(Debug, Clone)]
pub enum Stop {
    Refused(Refused),
    Interrupted,
}

impl Session {
    pub fn new(
        clients: Clients,
        guard: Arc<Guard>,
        journal: Option<Arc<Journal>>,
        profile: &str,
        sandbox: bool,
    ) -> Session {
        Session::with_cancel(
            clients,
            guard,
            journal,
            profile,
            sandbox,
            Arc::new(AtomicBool::new(false)),
        )
    }

    /// A session whose stop flag is `cancel`: the plan pass and the live pass of one run share
    /// one flag, so one Ctrl-C stops whichever is running (the transport keeps the first flag).
    pub fn with_cancel(
        clients: Clients,
        guard: Arc<Guard>,
        journal: Option<Arc<Journal>>,
        profile: &str,
        sandbox: bool,
        cancel: Arc<AtomicBool>,
    ) -> Session {
        clients.transport.set_cancel(cancel.clone());
        Session {
            clients,
            guard,
            journal,
            run: Mutex::new(None),
            profile: profile.to_string(),
            sandbox,
            cancel,
            seq: AtomicU64::new(0),
            files: Mutex::new(HashSet::new()),
            override_dir: None,
            default_org: None,
            naming: guide_naming(),
            numbers: None,
            quiet: false,
            args_only: false,
            default_region: None,
            modules: Vec::new(),
        }
    }

    pub fn set_run(&self, run: RunId) {
        *self.run.lock().unwrap_or_else(|e| e.into_inner()) = Some(run);
    }

    pub fn run_id(&self) -> Option<RunId> {
        *self.run.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Let `csv::` read or write this path (the operator named it).
    pub fn grant_file(&self, p: &Path) {
        let p = absolute(p);
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(p);
    }

    pub fn file_granted(&self, p: &Path) -> bool {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&absolute(p))
    }

    /// Stop at the next operation if Ctrl-C was pressed.
    pub fn check_cancel(&self) -> Result<(), Box<EvalAltResult>> {
        if self.args_only || self.cancel.load(Ordering::Relaxed) {
            return Err(stop(Stop::Interrupted));
        }
        Ok(())
    }

    /// A read: always runs; a failure becomes the script's catchable error map.
    pub fn read<T: Serialize>(
        &self,
        f: impl FnOnce() -> Result<T, ApiError>,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        self.check_cancel()?;
        match f() {
            Ok(v) => to_dynamic(&v),
            Err(e) => Err(api_error(&e)),
        }
    }

    /// A change: the guard decides (send, hold in the dry-run plan, or refuse), and the outcome
    /// is journaled. `placeholder` is what a dry-run returns instead of the service's answer.
    pub fn write<T: Serialize>(
        &self,
        change: Change<'_>,
        placeholder: impl FnOnce() -> Value,
        f: impl FnOnce() -> Result<T, ApiError>,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let Change {
            op,
            impact,
            target,
            params,
            undo: undo_note,
        } = change;
        self.check_cancel()?;
        if impact == Impact::Read {
            return self.read(f);
        }
        let params = guard::redact(&params);
        let call = Call {
            op: op.to_string(),
            impact,
            target: target.to_string(),
            params: params.clone(),
            undo_note: undo_note.map(str::to_string),
        };
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let record =
            |outcome: WriteOutcome, status: Option<u16>, ms: u64, error: Option<String>| {
                if let (Some(j), Some(run)) = (&self.journal, self.run_id()) {
                    let w = WriteRecord {
                        seq,
                        op: op.to_string(),
                        impact,
                        target: target.to_string(),
                        params: params.clone(),
                        outcome,
                        http_status: status,
                        duration_ms: ms,
                        error,
                    };
                    if let Err(e) = j.record_write(run, &w) {
                        tracing::error!("journal write failed: {e}");
                    }
                }
            };
        match self.guard.before(&call) {
            Err(refused) => {
                record(WriteOutcome::Refused, None, 0, Some(refused.reason.clone()));
                Err(stop(Stop::Refused(refused)))
            }
            Ok(Decision::Hold { seq: step }) => {
                record(WriteOutcome::Held, None, 0, None);
                let mut v = placeholder();
                // Marked wherever the live answer has records, so a script can tell either way.
                let mark = |m: &mut serde_json::Map<String, Value>| {
                    m.insert("dry_run".into(), json!(true));
                    m.insert("plan_step".into(), json!(step));
                };
                match &mut v {
                    Value::Object(m) => mark(m),
                    Value::Array(items) => items
                        .iter_mut()
                        .filter_map(Value::as_object_mut)
                        .for_each(mark),
                    _ => {}
                }
                to_dynamic(&v)
            }
            Ok(Decision::Send) => {
                let started = Instant::now();
                crate::api::http::take_last_status();
                let res = f();
                let ms = started.elapsed().as_millis() as u64;
                match res {
                    Ok(v) => {
                        // The service's own status (201 for Zoom's assign), not an assumed 200.
                        let status = crate::api::http::take_last_status();
                        record(WriteOutcome::Sent, status, ms, None);
                        to_dynamic(&v)
                    }
                    Err(e) => {
                        record(WriteOutcome::Failed, e.status, ms, Some(e.to_string()));
                        Err(api_error(&e))
                    }
                }
            }
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

/// An API failure as the catchable map scripts see:
/// `#{service, op, target, status, code, message, retryable, next}`.
pub fn api_error(e: &ApiError) -> Box<EvalAltResult> {
    let mut m = Map::new();
    m.insert("service".into(), e.service.as_str().into());
    m.insert("op".into(), e.op.clone().into());
    m.insert("target".into(), e.target.clone().into());
    m.insert(
        "status".into(),
        e.status
            .map(|s| Dynamic::from(s as i64))
            .unwrap_or(Dynamic::UNIT),
    );
    m.insert(
        "code".into(),
        e.code.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
    );
    m.insert("message".into(), e.message.clone().into());
    m.insert("retryable".into(), e.retryable.into());
    m.insert("next".into(), e.next_step().into());
    m.insert("text".into(), e.to_string().into());
    Box::new(EvalAltResult::ErrorRuntime(m.into(), Position::NONE))
}

const STOP_KIND: &str = "__vline_stop";

/// A stop no `try … catch` can swallow: Rhai does not catch `ErrorTerminated`.
pub fn stop(s: Stop) -> Box<EvalAltResult> {
    let mut m = Map::new();
    match s {
        Stop::Refused(r) => {
            m.insert(STOP_KIND.into(), "refused".into());
            m.insert("reason".into(), r.reason.into());
            m.insert("how".into(), r.how_to_proceed.into());
        }
        Stop::Interrupted => {
            m.insert(STOP_KIND.into(), "interrupted".into());
        }
    }
    Box::new(EvalAltResult::ErrorTerminated(m.into(), Position::NONE))
}

/// Read a stop back from a terminated script.
pub fn as_stop(err: &EvalAltResult) -> Option<Stop> {
    let mut e = err;
    loop {
        match e {
            EvalAltResult::ErrorTerminated(token, _) => {
                let m = token.read_lock::<Map>()?;
                let kind = m.get(STOP_KIND)?.to_string();
                return Some(match kind.as_str() {
                    "refused" => Stop::Refused(Refused {
                        reason: m.get("reason").map(|v| v.to_string()).unwrap_or_default(),
                        how_to_proceed: m.get("how").map(|v| v.to_string()).unwrap_or_default(),
                    }),
                    _ => Stop::Interrupted,
                });
            }
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
            | EvalAltResult::ErrorInModule(_, inner, _) => e = inner,
            _ => return None,
        }
    }
}
