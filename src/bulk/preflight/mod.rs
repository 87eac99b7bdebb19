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

mod check;
mod estimate;
mod model;
mod report;

pub use estimate::{bound_seconds, human_secs, window_fit};
pub use model::Model;
pub use report::{failures_path, to_value, write_failures};

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::api::clients::Clients;
use crate::guard::window::MaintenanceWindow;
use crate::host::header::Header;
use crate::host::run_cache::peering_number_param;
use crate::host::script::Script;
use crate::host::session::Session;

use super::concurrency::Concurrency;
use super::validate::{self, bind_row, BoundRow, Refusal};

use check::check_rows;
use estimate::{declared_reads, diff, latencies, timing, write_category, Measured};
use report::licences;

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
    /// `auto` concurrency, each row's own duration, the end-of-run sweep (see `model`).
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
    let n = rows.len() as u64;
    let per_row = |v: u64| v as f64 / n.max(1) as f64;
    // What a real row sends that its dry run did not: its held writes, its declared reads.
    let mut unsent: BTreeMap<String, f64> = BTreeMap::new();
    for (k, v) in zoom_writes.iter().chain(reads_declared.iter()) {
        *unsent.entry(k.clone()).or_default() += per_row(*v);
    }
    let measured = Measured {
        latency_s: latencies(&stats_before, &stats_after),
        // The median: the first rows also wait for the reads made once per run.
        dry_row_s: took.get(took.len() / 2).copied().unwrap_or(0.0),
        unsent_per_row: unsent,
        peering_share: per_row(peering_rows),
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

/// Rows checked at once when `--concurrency auto`: reads only, so a few workers keep Zoom's budget
/// busy without crowding out other apps on the account.
pub const DEFAULT_WORKERS: usize = 4;
