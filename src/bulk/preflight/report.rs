//! What the run needs (licences, calling plans) and the per-row file pre-flight leaves beside the
//! input.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{Licences, PlanNeed, PreflightError, Report, RowReport, Setup};

pub(super) fn licences(
    setup: &Setup<'_>,
    planned: u64,
    missing: u64,
    needs: &BTreeMap<i64, u64>,
) -> Licences {
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
    let mut rd = crate::bulk::lines::Records::open(csv_path)
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
