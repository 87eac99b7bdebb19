//! Pre-flight for a bulk run: will it succeed, and will it fit the window, before the window opens.
//!
//! Shared code, not a copy: every row runs through the procedure itself in dry-run (writes are
//! held, reads happen), so the checks are the procedure's own. What a row would do is the plan
//! its run held; what blocks it is the procedure's refusal (its `throw`, or a `#{blocked: …}`
//! result / thrown map). Totals add the licences and calling plans the held writes need against
//! Zoom's free ones, and the time the calls take at the plan's limits against the profile's
//! next maintenance window. Nothing is sent but reads.
//!
//! Procedures skip some reads in dry-run (verifications of state their held writes would have
//! made). A procedure declares those per changed row in its header, so that the estimate counts
//! them: `//! preflight-reads: medium=3 movius=1` (keys: light, medium, heavy, intensive,
//! movius, carrier).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use jiff::{Timestamp, Zoned};
use rhai::{Dynamic, EvalAltResult, Map};
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::clients::Clients;
use crate::api::{RateCategory, ZoomPlan};
use crate::guard::window::{self, MaintenanceWindow};
use crate::guard::{Guard, PlannedWrite, Policy, TerminalPrompter};
use crate::host::engine;
use crate::host::header::Header;
use crate::host::run_cache::{peering_number_param, CacheStats, RunCache, Scope};
use crate::host::script::{explain, Failure, Script};
use crate::host::session::Session;

use super::concurrency::Concurrency;
use super::estimate::{self, Model};
use super::validate::{self, bind_row, BoundRow, Refusal};

/// Why a pre-flight could not be made at all (as opposed to "not ready").
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// Malformed values or missing columns: the file is refused whole, as for a run.
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Io(String),
}

/// What the checker needs from the caller: the service clients and the profile's settings.
pub struct Setup<'a> {
    pub clients: &'a Clients,
    pub profile: &'a str,
    pub sandbox: bool,
    /// Applied to every worker session (naming convention, default org, overrides).
    pub configure: &'a (dyn Fn(&mut Session) + Sync),
    pub windows: &'a [MaintenanceWindow],
    /// Rows per second the last bulk run of this procedure on this profile reached.
    pub last_rate: Option<f64>,
    /// Rows checked at once (each worker has its own dry-run guard, so plans stay per row).
    pub workers: usize,
    /// The concurrency of the run the estimate is for.
    pub run: Concurrency,
    pub now: Timestamp,
}

/// What blocks a row.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Blocker {
    /// `user_not_found`, `not_licensed`, `not_in_pool`, `account_elsewhere`, `account_exists`,
    /// `no_account`, `assigned_elsewhere`, `app_too_old`, `org_not_allowed`, `org_not_enabled`,
    /// `licences_short`, `duplicate`, `refused`, `check_failed`, `other`.
    pub kind: String,
    pub reason: String,
    /// The procedure's "Next: …", when it gave one.
    pub next: String,
}

/// One row's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct RowReport {
    pub line: u64,
    /// The row's values by parameter.
    pub values: BTreeMap<String, String>,
    /// `ready` (would change something), `no-op` (already done), `blocked`.
    pub status: String,
    /// The writes the row would make, as the plan shows them (`op target`).
    pub would_do: Vec<String>,
    pub blocked: Option<Blocker>,
}

/// Licences or calling plans of one type: needed by the run against Zoom's free ones.
#[derive(Clone, Debug, Serialize)]
pub struct PlanNeed {
    pub plan_type: i64,
    pub name: String,
    pub needed: u64,
    pub available: i64,
    pub short: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Licences {
    /// Zoom Phone licences the run would give (held `zoom::enable_phone` writes).
    pub phone_licences_planned: u64,
    /// Rows blocked because their user has no Zoom Phone licence: each needs one first.
    pub phone_licences_missing: u64,
    pub calling_plans: Vec<PlanNeed>,
    /// Free calling-plan licences over every type (subscribed − assigned).
    pub calling_plans_available: i64,
    /// Set when `zoom::calling_plans()` could not be read.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowFit {
    /// The window as configured (`sat 22:00–04:00 Asia/Tokyo`).
    pub window: String,
    /// Now inside it.
    pub open_now: bool,
    /// When the usable stretch starts and ends, in the window's own time zone.
    pub opens: String,
    pub closes: String,
    pub length_s: f64,
    pub estimate_s: f64,
    pub fits: bool,
    /// Spare time (positive) or shortfall (negative), seconds.
    pub margin_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    pub plan: String,
    /// Per-second limits of the plan by category; `heavy_per_day` is shared by heavy and
    /// resource-intensive calls.
    pub limits: BTreeMap<String, u32>,
    /// Calls the real run would make: Zoom per category, and `movius`, `carrier`.
    pub calls: BTreeMap<String, u64>,
    /// Reads made by this pre-flight (included in `calls`).
    pub reads_made: BTreeMap<String, u64>,
    /// Reads the procedure skips in dry-run, as declared in its header (included in `calls`).
    pub reads_declared: BTreeMap<String, u64>,
    /// The category that sets the bound.
    pub bottleneck: Option<String>,
    /// Duration if every category ran at exactly its limit.
    pub at_bound_s: f64,
    /// Duration at the client limiter's pace (the profile's `zoom_rate_share` of the limits).
    pub at_client_pace_s: f64,
    pub last_rate_rows_per_s: Option<f64>,
    pub at_last_rate_s: Option<f64>,
    /// The run as `bulk::rows` would drive it: the reads made once per run, the ramp-up of
    /// `auto` concurrency, each row's own duration, the end-of-run sweep (`bulk::estimate`).
    pub model: Model,
    /// The estimate the window is compared with: the last run's rate when known, else the
    /// model's.
    pub estimate_s: f64,
    pub heavy_daily_cap_exceeded: bool,
    pub window: Option<WindowFit>,
    /// Why there is no window comparison.
    pub window_note: Option<String>,
}

/// The whole pre-flight.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub procedure: String,
    pub rows: u64,
    pub ready_rows: u64,
    pub noop_rows: u64,
    pub blocked_rows: u64,
    /// Writes per operation (`zoom::assign_number` → 12).
    pub writes: BTreeMap<String, u64>,
    pub licences: Licences,
    pub time: Timing,
    pub ready: bool,
    /// `ready` or `not ready: …`.
    pub verdict: String,
    pub row_reports: Vec<RowReport>,
    /// The CSV of the rows that would fail, when written.
    pub failures_csv: Option<String>,
}

/// Validate like a run, except that duplicates become blocked rows instead of refusing the file.
/// Returns the file's columns, its rows bound to the parameters, and the duplicate lines.
#[allow(clippy::type_complexity)]
pub fn read_rows(
    csv_path: &Path,
    header: &Header,
) -> Result<
    (
        Vec<String>,
        Vec<(u64, Vec<String>, BoundRow)>,
        HashMap<u64, String>,
    ),
    PreflightError,
> {
    let mut dups: HashMap<u64, String> = HashMap::new();
    let columns = match validate::validate(csv_path, header) {
        Ok(s) => s.columns,
        Err(r) => {
            // Only "duplicates line N" problems are tolerated; anything else refuses the file.
            let (dup, other): (Vec<_>, Vec<_>) = r
                .problems
                .iter()
                .cloned()
                .partition(|p| p.line > 1 && p.message.contains(" duplicates line "));
            if !other.is_empty() || r.total > r.problems.len() as u64 {
                return Err(PreflightError::Refused(Refusal {
                    total: r.total - dup.len() as u64,
                    problems: other,
                }));
            }
            for p in dup {
                dups.entry(p.line)
                    .and_modify(|m| {
                        m.push_str("; ");
                        m.push_str(&p.message)
                    })
                    .or_insert(p.message);
            }
            let mut rd = csv::Reader::from_path(csv_path)
                .map_err(|e| PreflightError::Io(format!("{}: {e}", csv_path.display())))?;
            rd.headers()
                .map_err(|e| PreflightError::Io(e.to_string()))?
                .iter()
                .map(|c| c.trim().to_string())
                .collect()
        }
    };
    let mut rd = super::lines::Records::open(csv_path)
        .map_err(|e| PreflightError::Io(format!("{}: {e}", csv_path.display())))?;
    rd.headers()
        .map_err(|e| PreflightError::Io(e.to_string()))?;
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    while let Some(line) = rd
        .read(&mut rec)
        .map_err(|(line, e)| PreflightError::Io(format!("line {line}: {e}")))?
    {
        let bound = bind_row(header, &columns, &rec).map_err(|e| {
            PreflightError::Io(format!("line {line}: {} (the file changed?)", e.join("; ")))
        })?;
        rows.push((line, rec.iter().map(str::to_string).collect(), bound));
    }
    Ok((columns, rows, dups))
}

/// One row's raw outcome from the dry-run.
struct Checked {
    plan: Vec<PlannedWrite>,
    blocked: Option<Blocker>,
    /// The row's wall time in dry-run, seconds.
    took_s: f64,
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

/// Check every row of `csv_path` with `script` in dry-run and build the report.
pub fn preflight(
    setup: &Setup<'_>,
    script: &Script,
    csv_path: &Path,
) -> Result<Report, PreflightError> {
    let (_, rows, dups) = read_rows(csv_path, &script.header)?;
    let stats_before = setup.clients.transport.stats();
    let (checked, cache) = check_rows(setup, script, &rows, &dups);
    let stats_after = setup.clients.transport.stats();
    let mut took: Vec<f64> = checked.iter().map(|c| c.took_s).collect();
    took.sort_by(f64::total_cmp);
    let dry_row_s = took.get(took.len() / 2).copied().unwrap_or(0.0);
    let mut unsent: BTreeMap<String, u64> = BTreeMap::new();
    let mut peering_rows = 0u64;

    let mut row_reports = Vec::with_capacity(rows.len());
    let mut writes: BTreeMap<String, u64> = BTreeMap::new();
    let mut zoom_writes: BTreeMap<String, u64> = BTreeMap::new();
    let mut enable_phone = 0u64;
    let mut plan_needs: BTreeMap<i64, u64> = BTreeMap::new();
    let (mut ready_rows, mut noop_rows, mut blocked_rows, mut changing_rows) = (0, 0, 0, 0u64);
    let mut not_licensed = 0u64;
    for ((line, _, bound), c) in rows.iter().zip(checked) {
        let values = bound
            .iter()
            .map(|(k, v)| (k.clone(), param_text(v)))
            .collect();
        if !c.plan.is_empty() {
            changing_rows += 1;
        }
        if c.plan.iter().any(|p| peering_number_param(&p.op).is_some()) {
            peering_rows += 1;
        }
        for p in &c.plan {
            *unsent.entry(write_category(&p.op).to_string()).or_default() += 1;
            *writes.entry(p.op.clone()).or_default() += 1;
            *zoom_writes
                .entry(write_category(&p.op).to_string())
                .or_default() += 1;
            if p.op == "zoom::enable_phone" {
                enable_phone += 1;
            }
            if p.op == "zoom::assign_calling_plan" {
                if let Some(t) = p.params.get("plan_type").and_then(Value::as_i64) {
                    *plan_needs.entry(t).or_default() += 1;
                }
            }
        }
        let status = match (&c.blocked, c.plan.is_empty()) {
            (Some(b), _) => {
                blocked_rows += 1;
                if b.kind == "not_licensed" {
                    not_licensed += 1;
                }
                "blocked"
            }
            (None, true) => {
                noop_rows += 1;
                "no-op"
            }
            (None, false) => {
                ready_rows += 1;
                "ready"
            }
        };
        row_reports.push(RowReport {
            line: *line,
            values,
            status: status.into(),
            would_do: c
                .plan
                .iter()
                .map(|p| format!("{} {}", p.op, p.target))
                .collect(),
            blocked: c.blocked,
        });
    }

    let licences = licences(setup, enable_phone, not_licensed, &plan_needs);
    let plan = setup.clients.transport.options().plan;
    let reads_made = diff(&stats_before.calls, &stats_after.calls);
    let declared = declared_reads(&script.header);
    let reads_declared: BTreeMap<String, u64> = declared
        .iter()
        .map(|(k, v)| (k.clone(), v * changing_rows))
        .collect();
    let mut calls = reads_made.clone();
    for (k, v) in zoom_writes.iter().chain(reads_declared.iter()) {
        *calls.entry(k.clone()).or_default() += v;
    }
    calls.remove("oauth");
    for (k, v) in &reads_declared {
        *unsent.entry(k.clone()).or_default() += v;
    }
    let n = rows.len() as u64;
    let measured = Measured {
        latency_s: latencies(&stats_before, &stats_after),
        dry_row_s,
        unsent_per_row: unsent
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 / n.max(1) as f64))
            .collect(),
        peering_share: peering_rows as f64 / n.max(1) as f64,
        cache,
        sweep: writes.contains_key("zoom::assign_number"),
    };
    let time = timing(setup, plan, calls, reads_made, reads_declared, n, &measured);

    let mut reasons = Vec::new();
    if blocked_rows > 0 {
        reasons.push(format!("{blocked_rows} row(s) blocked"));
    }
    for p in licences.calling_plans.iter().filter(|p| p.short > 0) {
        reasons.push(format!(
            "calling plan {} ({}) short by {} (need {}, {} free)",
            p.plan_type, p.name, p.short, p.needed, p.available
        ));
    }
    if let Some(w) = &time.window {
        if !w.fits {
            reasons.push(format!(
                "does not fit the maintenance window by {}",
                human_secs(-w.margin_s)
            ));
        }
    }
    if script.header.window_required && time.window.is_none() {
        reasons.push(format!(
            "{} needs a maintenance window and none can be used ({})",
            script.name,
            time.window_note.as_deref().unwrap_or("none configured")
        ));
    }
    if time.heavy_daily_cap_exceeded {
        reasons.push("heavy calls exceed Zoom's daily cap".into());
    }
    let ready = reasons.is_empty();
    let verdict = if ready {
        "ready".to_string()
    } else {
        format!("not ready: {}", reasons.join(", "))
    };
    Ok(Report {
        procedure: script.name.clone(),
        rows: rows.len() as u64,
        ready_rows,
        noop_rows,
        blocked_rows,
        writes,
        licences,
        time,
        ready,
        verdict,
        row_reports,
        failures_csv: None,
    })
}

fn param_text(v: &crate::host::header::ParamValue) -> String {
    use crate::host::header::ParamValue;
    match v {
        ParamValue::Str(s) => s.clone(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Int(i) => i.to_string(),
    }
}

/// Run every row (except duplicates) through the procedure in dry-run on `setup.workers` threads;
/// what the shared caches read.
fn check_rows(
    setup: &Setup<'_>,
    script: &Script,
    rows: &[(u64, Vec<String>, BoundRow)],
    dups: &HashMap<u64, String>,
) -> (Vec<Checked>, CacheStats) {
    let cache = Arc::new(RunCache::new(Scope::Bulk));
    let results = super::pool::indexed(
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

/// The rate category (or service) a held write would use when sent.
fn write_category(op: &str) -> &'static str {
    match op.split_once("::") {
        Some(("movius", _)) => "movius",
        Some(("carrier", _)) => "carrier",
        // Zoom's "Rate Limit Label" of each write endpoint (see `api::zoom::client`).
        Some(("zoom", "enable_phone")) => RateCategory::Medium.as_str(),
        Some(("zoom", _)) => RateCategory::Light.as_str(),
        _ => "other",
    }
}

/// `//! preflight-reads: medium=3 movius=1` → {medium: 3, movius: 1}.
fn declared_reads(h: &Header) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for n in &h.notes {
        let Some(rest) = n.strip_prefix("preflight-reads:") else {
            continue;
        };
        for kv in rest.split_whitespace() {
            if let Some((k, v)) = kv.split_once('=') {
                if let Ok(v) = v.trim_end_matches(',').parse::<u64>() {
                    *out.entry(k.to_ascii_lowercase()).or_default() += v;
                }
            }
        }
    }
    out
}

fn diff(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    b.iter()
        .map(|(k, v)| (k.clone(), v.saturating_sub(a.get(k).copied().unwrap_or(0))))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn licences(setup: &Setup<'_>, planned: u64, missing: u64, needs: &BTreeMap<i64, u64>) -> Licences {
    let mut out = Licences {
        phone_licences_planned: planned,
        phone_licences_missing: missing,
        calling_plans: vec![],
        calling_plans_available: 0,
        error: None,
    };
    match setup.clients.zoom.calling_plans() {
        Ok(plans) => {
            let free: HashMap<i64, (String, i64)> = plans
                .iter()
                .map(|p| (p.kind, (p.name.clone(), p.subscribed - p.assigned)))
                .collect();
            out.calling_plans_available = free.values().map(|(_, f)| (*f).max(0)).sum();
            for (t, need) in needs {
                let (name, available) = free
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| ("(no such plan)".into(), 0));
                out.calling_plans.push(PlanNeed {
                    plan_type: *t,
                    name,
                    needed: *need,
                    available,
                    short: need.saturating_sub(available.max(0) as u64),
                });
            }
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

/// Seconds the calls take at the plan's limits: the slowest category sets the bound.
pub fn bound_seconds(plan: ZoomPlan, calls: &BTreeMap<String, u64>) -> (f64, Option<String>) {
    let get = |k: &str| calls.get(k).copied().unwrap_or(0) as f64;
    let cats = [
        ("light", get("light"), plan.per_second(RateCategory::Light)),
        (
            "medium",
            get("medium"),
            plan.per_second(RateCategory::Medium),
        ),
        // Heavy and resource-intensive share one per-second budget.
        (
            "heavy",
            get("heavy") + get("intensive"),
            plan.per_second(RateCategory::Heavy),
        ),
    ];
    let mut best = (0.0, None);
    for (name, n, per_s) in cats {
        let s = n / f64::from(per_s.max(1));
        if s > best.0 {
            best = (s, Some(name.to_string()));
        }
    }
    best
}

/// What this pre-flight measured for the estimate, besides the calls.
struct Measured {
    latency_s: BTreeMap<String, f64>,
    dry_row_s: f64,
    unsent_per_row: BTreeMap<String, f64>,
    peering_share: f64,
    cache: CacheStats,
    sweep: bool,
}

/// Mean answer time per transport key over the calls made between `a` and `b`.
fn latencies(
    a: &crate::api::http::TransportStats,
    b: &crate::api::http::TransportStats,
) -> BTreeMap<String, f64> {
    let calls = diff(&a.calls, &b.calls);
    let us = diff(&a.answer_us, &b.answer_us);
    calls
        .iter()
        .filter(|(k, n)| **n > 0 && k.as_str() != "oauth")
        .map(|(k, n)| {
            let total = us.get(k).copied().unwrap_or(0) as f64 / 1e6;
            (k.clone(), total / *n as f64)
        })
        .collect()
}

fn timing(
    setup: &Setup<'_>,
    plan: ZoomPlan,
    calls: BTreeMap<String, u64>,
    reads_made: BTreeMap<String, u64>,
    reads_declared: BTreeMap<String, u64>,
    rows: u64,
    m: &Measured,
) -> Timing {
    let l = plan.limits();
    let limits = BTreeMap::from([
        ("light_per_s".to_string(), l.light_per_s),
        ("medium_per_s".to_string(), l.medium_per_s),
        ("heavy_per_s".to_string(), l.heavy_per_s),
        ("heavy_per_day".to_string(), l.heavy_per_day),
    ]);
    let (at_bound_s, bottleneck) = bound_seconds(plan, &calls);
    let share = setup.clients.transport.options().rate_share;
    let at_client_pace_s = at_bound_s / share.fraction();
    let model = estimate::model(&model_inputs(setup, plan, &calls, rows, m));
    let at_last_rate_s = setup
        .last_rate
        .filter(|r| *r > 0.0)
        .map(|r| rows as f64 / r);
    let estimate_s = at_last_rate_s.unwrap_or(model.estimate_s);
    let heavy =
        calls.get("heavy").copied().unwrap_or(0) + calls.get("intensive").copied().unwrap_or(0);
    let (window, window_note) = window_fit(setup.windows, setup.now, estimate_s);
    Timing {
        plan: plan.to_string(),
        limits,
        calls,
        reads_made,
        reads_declared,
        bottleneck,
        at_bound_s,
        at_client_pace_s,
        last_rate_rows_per_s: setup.last_rate,
        at_last_rate_s,
        model,
        estimate_s,
        heavy_daily_cap_exceeded: heavy > u64::from(l.heavy_per_day),
        window,
        window_note,
    }
}

/// The estimate's inputs: the run's Zoom calls split into those made once per run (the phone
/// users' pages, a whole-list read) and per row, the client's pace, and what was measured.
fn model_inputs(
    setup: &Setup<'_>,
    plan: ZoomPlan,
    calls: &BTreeMap<String, u64>,
    rows: u64,
    m: &Measured,
) -> estimate::Inputs {
    let share = setup.clients.transport.options().rate_share;
    let c = &m.cache;
    let medium = RateCategory::Medium;
    let once = BTreeMap::from([(medium, (c.user_pages + c.index_load_pages) as f64)]);
    // Heavy and resource-intensive share one budget (the tuner watches it as heavy).
    let tuned = |cat: RateCategory| match cat {
        RateCategory::Intensive => RateCategory::Heavy,
        c => c,
    };
    let mut per_row: BTreeMap<RateCategory, f64> = BTreeMap::new();
    for cat in RateCategory::ALL {
        let n = calls.get(cat.as_str()).copied().unwrap_or(0) as f64;
        let n = n - once.get(&cat).copied().unwrap_or(0.0);
        *per_row.entry(tuned(cat)).or_default() += n.max(0.0) / rows.max(1) as f64;
    }
    let paced = [RateCategory::Light, medium, RateCategory::Heavy]
        .into_iter()
        .map(|cat| (cat, share.paced(plan.per_second(cat))))
        .collect();
    let first = |n: u64| n.min(1) as f64;
    estimate::Inputs {
        rows,
        concurrency: setup.run,
        per_row,
        once,
        paced,
        latency_s: m.latency_s.clone(),
        dry_row_s: m.dry_row_s,
        unsent_per_row: m.unsent_per_row.clone(),
        peering_share: m.peering_share,
        // A refresh this pre-flight made tells its pages; else one page (≤ 100 unassigned).
        refresh_pages: if c.refreshes > 0 {
            c.refresh_pages as f64 / c.refreshes as f64
        } else {
            1.0
        },
        // The first row reads the organization, waits for the first page of phone users, and
        // reads the pool; every other row finds them read.
        first_reads: BTreeMap::from([
            (
                "movius".to_string(),
                first(c.org_reads) + first(c.pool_reads),
            ),
            (medium.as_str().to_string(), first(c.user_pages)),
        ]),
        sweep: m.sweep,
    }
}

/// The window the run would use: the one open now, else the next to open; its whole stretch
/// (windows that touch count as one), shown in the window's own time zone.
pub fn window_fit(
    windows: &[MaintenanceWindow],
    now: Timestamp,
    estimate_s: f64,
) -> (Option<WindowFit>, Option<String>) {
    if windows.is_empty() {
        return (
            None,
            Some("the profile has no maintenance window configured".into()),
        );
    }
    if let Err(e) = window::validate_windows(windows) {
        return (None, Some(e));
    }
    let (open_now, opens): (bool, Zoned) = match window::window_closes(windows, now) {
        Some(c) => (true, now.to_zoned(c.time_zone().clone())),
        None => match window::next_opening(windows, now) {
            Some(o) => (false, o),
            None => return (None, Some("no window opens in the next week".into())),
        },
    };
    let Some(closes) = window::window_closes(windows, opens.timestamp()) else {
        return (None, Some("the window's end could not be computed".into()));
    };
    let length_s = closes.timestamp().as_second() as f64 - opens.timestamp().as_second() as f64;
    // Name the window that holds the opening moment.
    let text = windows
        .iter()
        .find(|w| window::window_closes(std::slice::from_ref(w), opens.timestamp()).is_some())
        .unwrap_or(&windows[0])
        .to_string();
    let margin_s = length_s - estimate_s;
    (
        Some(WindowFit {
            window: text,
            open_now,
            opens: window::show(&opens),
            closes: window::show(&closes),
            length_s,
            estimate_s,
            fits: margin_s >= 0.0,
            margin_s,
        }),
        None,
    )
}

/// `3725` → `1 h 02 min 05 s`.
pub fn human_secs(s: f64) -> String {
    let t = s.max(0.0).round() as u64;
    let (h, m, sec) = (t / 3600, (t % 3600) / 60, t % 60);
    if h > 0 {
        format!("{h} h {m:02} min {sec:02} s")
    } else if m > 0 {
        format!("{m} min {sec:02} s")
    } else if s < 10.0 {
        format!("{:.1} s", s.max(0.0))
    } else {
        format!("{sec} s")
    }
}

/// `<dir>/<stem>.preflight.csv` beside the input.
pub fn failures_path(csv: &Path) -> PathBuf {
    let stem = csv
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bulk".into());
    csv.with_file_name(format!("{stem}.preflight.csv"))
}

/// Every row of the input with its verdict: the input columns, then line, status (`ready`,
/// `no-op`, `blocked`), what it would do, and for a blocked row the blocker's kind, reason and
/// next step. Returns how many rows are blocked.
pub fn write_failures(out: &Path, csv_path: &Path, report: &Report) -> Result<u64, PreflightError> {
    let io = |e: csv::Error| PreflightError::Io(format!("{}: {e}", out.display()));
    let mut rd = super::lines::Records::open(csv_path)
        .map_err(|e| PreflightError::Io(format!("{}: {e}", csv_path.display())))?;
    let mut head: Vec<String> = rd
        .headers()
        .map_err(io)?
        .iter()
        .map(str::to_string)
        .collect();
    let ncols = head.len();
    head.extend(["line", "status", "would_do", "blocked", "reason", "next"].map(String::from));
    let by_line: HashMap<u64, &RowReport> =
        report.row_reports.iter().map(|r| (r.line, r)).collect();
    let mut w = csv::Writer::from_path(out).map_err(io)?;
    w.write_record(&head).map_err(io)?;
    let mut n = 0;
    let mut rec = csv::StringRecord::new();
    while let Some(line) = rd.read(&mut rec).map_err(|(_, e)| io(e))? {
        let Some(r) = by_line.get(&line) else {
            continue;
        };
        let mut row: Vec<String> = rec.iter().map(str::to_string).collect();
        row.resize(ncols, String::new());
        row.extend([line.to_string(), r.status.clone(), r.would_do.join("; ")]);
        match &r.blocked {
            Some(b) => {
                row.extend([b.kind.clone(), b.reason.clone(), b.next.clone()]);
                n += 1;
            }
            None => row.extend([String::new(), String::new(), String::new()]),
        }
        w.write_record(&row).map_err(io)?;
    }
    w.flush()
        .map_err(|e| PreflightError::Io(format!("{}: {e}", out.display())))?;
    Ok(n)
}

/// The report as a script sees it.
pub fn to_value(r: &Report) -> Value {
    serde_json::to_value(r).unwrap_or_else(|e| json!({"error": e.to_string()}))
}

/// Rows checked at once when `--concurrency auto`: reads only, so a few workers keep Zoom's budget
/// busy without crowding out other apps on the account.
pub const DEFAULT_WORKERS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_is_set_by_the_slowest_category() {
        let calls = BTreeMap::from([
            ("light".to_string(), 300u64),
            ("medium".to_string(), 400),
            ("movius".to_string(), 999),
        ]);
        // Business: light 300/40 = 7.5 s, medium 400/20 = 20 s.
        let (s, b) = bound_seconds(ZoomPlan::Business, &calls);
        assert!((s - 20.0).abs() < 1e-9, "{s}");
        assert_eq!(b.as_deref(), Some("medium"));
        // Pro halves the limits.
        let (s, _) = bound_seconds(ZoomPlan::Pro, &calls);
        assert!((s - 40.0).abs() < 1e-9, "{s}");
        // Heavy and intensive share one budget.
        let calls = BTreeMap::from([("heavy".to_string(), 50u64), ("intensive".to_string(), 50)]);
        let (s, b) = bound_seconds(ZoomPlan::Business, &calls);
        assert!((s - 10.0).abs() < 1e-9, "{s}");
        assert_eq!(b.as_deref(), Some("heavy"));
    }

    #[test]
    fn declared_reads_from_the_header() {
        let h = Header::parse("//! title: t\n//! preflight-reads: medium=3 movius=1\n").unwrap();
        let d = declared_reads(&h);
        assert_eq!(d.get("medium"), Some(&3));
        assert_eq!(d.get("movius"), Some(&1));
    }

    #[test]
    fn window_fit_in_the_window_zone() {
        let ws = [MaintenanceWindow {
            days: vec![],
            start: "01:00".into(),
            end: "03:00".into(),
            tz: "Asia/Tokyo".into(),
        }];
        let now: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        let (w, _) = window_fit(&ws, now, 3600.0);
        let w = w.unwrap();
        assert!(!w.open_now);
        assert!(w.opens.contains("01:00 JST (Asia/Tokyo)"), "{}", w.opens);
        assert_eq!(w.length_s, 7200.0);
        assert!(w.fits && (w.margin_s - 3600.0).abs() < 1e-9);
        let (w, _) = window_fit(&ws, now, 9000.0);
        let w = w.unwrap();
        assert!(!w.fits && (w.margin_s + 1800.0).abs() < 1e-9);
    }
}
