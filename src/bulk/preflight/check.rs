//! Each row through the procedure itself in dry-run: its held writes are what it would do, its
//! refusal is what blocks it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use rhai::{Dynamic, EvalAltResult, Map};

use crate::guard::{Guard, PlannedWrite, Policy, TerminalPrompter};
use crate::host::engine;
use crate::host::run_cache::{CacheStats, RunCache, Scope};
use crate::host::script::{explain, Failure, Script};
use crate::host::session::Session;

use crate::bulk::validate::BoundRow;

use super::{Blocker, Setup};

/// One row's raw outcome from the dry-run.
pub(super) struct Checked {
    pub plan: Vec<PlannedWrite>,
    pub blocked: Option<Blocker>,
    /// The row's wall time in dry-run, seconds.
    pub took_s: f64,
}

fn worker_session(s: &Setup<'_>, cache: &Arc<RunCache>) -> Arc<Session> {
    let policy = Policy {
        read_only: false,
        dry_run: true,
        assume_yes: true,
        max_changes: None,
        // The window is compared with the estimate below, not with now.
        outside_window: Some("pre-flight (read-only; the window is checked separately)".into()),
        windows: vec![],
        interactive: false,
    };
    let guard = Arc::new(Guard::new(policy, Box::new(TerminalPrompter)));
    let mut session = Session::new(s.clients.clone(), guard, None, s.profile, s.sandbox);
    (s.configure)(&mut session);
    // One cache for every worker, as in a run: the phone users and the pool are read once.
    session.numbers = Some(cache.clone());
    session.quiet = true;
    Arc::new(session)
}

/// Run every row (except duplicates) through the procedure in dry-run on `setup.workers` threads;
/// what the shared caches read.
pub(super) fn check_rows(
    setup: &Setup<'_>,
    script: &Script,
    rows: &[(u64, Vec<String>, BoundRow)],
    dups: &HashMap<u64, String>,
) -> (Vec<Checked>, CacheStats) {
    let cache = Arc::new(RunCache::new(Scope::Bulk));
    let results = crate::bulk::pool::indexed(
        rows.len(),
        setup.workers,
        || {
            let session = worker_session(setup, &cache);
            let engine = engine::build(Some(&session), engine::Limits::default());
            (session, engine)
        },
        |(session, engine), i| {
            let (line, _, bound) = &rows[i];
            let t0 = Instant::now();
            let mut c = match dups.get(line) {
                Some(m) => Checked {
                    plan: vec![],
                    blocked: Some(Blocker {
                        kind: "duplicate".into(),
                        reason: m.clone(),
                        next: "remove the duplicate row (two rows for one number or user would race each other)".into(),
                    }),
                    took_s: 0.0,
                },
                None => check_one(engine, session, script, bound),
            };
            c.took_s = t0.elapsed().as_secs_f64();
            Some(c)
        },
    );
    // The phone users' read, if still under way, belongs to this pre-flight.
    cache.finish();
    let checked = results
        .into_iter()
        .map(|c| {
            c.unwrap_or(Checked {
                plan: vec![],
                blocked: Some(Blocker {
                    kind: "check_failed".into(),
                    reason: "the row was not checked".into(),
                    next: String::new(),
                }),
                took_s: 0.0,
            })
        })
        .collect();
    (checked, cache.stats())
}

fn check_one(
    engine: &rhai::Engine,
    session: &Session,
    script: &Script,
    bound: &BoundRow,
) -> Checked {
    let res = script.run(engine, bound);
    let plan: Vec<PlannedWrite> = session.guard.take_plan();
    let blocked = match res {
        Ok(v) => blocked_result(&v),
        Err(e) => Some(blocker(&e)),
    };
    // A blocked row makes none of its writes: the procedure stops before the first change.
    let plan = if blocked.is_some() { vec![] } else { plan };
    Checked {
        plan,
        blocked,
        took_s: 0.0,
    }
}

/// A procedure may return `#{blocked: reason}` (or `#{blocked: kind, reason, next}`) instead of
/// throwing.
fn blocked_result(v: &Dynamic) -> Option<Blocker> {
    let m = v.read_lock::<Map>()?;
    structured(&m)
}

fn structured(m: &Map) -> Option<Blocker> {
    let b = m.get("blocked")?;
    if b.is_unit() || b.as_bool() == Ok(false) {
        return None;
    }
    let text = |k: &str| {
        m.get(k)
            .filter(|v| !v.is_unit())
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    // The procedure names the kind itself (`vu::block(kind, what, next)`): no text is parsed.
    Some(Blocker {
        kind: b.to_string(),
        reason: text("reason"),
        next: text("next"),
    })
}

/// The procedure's refusal as a blocker: a structured map when it threw one, else its text.
fn blocker(err: &EvalAltResult) -> Blocker {
    let mut e = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
    | EvalAltResult::ErrorInModule(_, inner, _) = e
    {
        e = inner;
    }
    if let EvalAltResult::ErrorRuntime(v, _) = e {
        if let Some(m) = v.read_lock::<Map>() {
            if let Some(b) = structured(&m) {
                return b;
            }
            if m.contains_key("service") && m.contains_key("text") {
                // An API error the procedure did not turn into a refusal: the check itself failed.
                return Blocker {
                    kind: "check_failed".into(),
                    reason: m.get("text").map(|t| t.to_string()).unwrap_or_default(),
                    next: m
                        .get("next")
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "re-run the pre-flight".into()),
                };
            }
        }
    }
    match explain(err) {
        Failure::Refused { reason, how } => Blocker {
            kind: "refused".into(),
            reason,
            next: how,
        },
        Failure::Interrupted => Blocker {
            kind: "check_failed".into(),
            reason: "interrupted".into(),
            next: "re-run the pre-flight".into(),
        },
        Failure::Blocked(b) => Blocker {
            kind: b.kind,
            reason: b.reason,
            next: b.next,
        },
        // A failure, not a prerequisite the procedure refused on: the check itself failed.
        Failure::Error(msg) => Blocker {
            kind: "check_failed".into(),
            reason: msg,
            next: "re-run the pre-flight".into(),
        },
    }
}
