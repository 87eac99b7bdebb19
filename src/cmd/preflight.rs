//! How a pre-flight reads on a terminal: top-down, the verdict first, then what blocks rows (by
//! kind), licences and plans against what is free, the duration against the window, and only
//! then the blocked rows (the first 20; `--verbose` lists every row). The `*.preflight.csv`
//! beside the input keeps every row.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::bulk::preflight::{human_secs, Report, RowReport};
use crate::output::color::{self, Meaning};

/// Blocked rows listed before "… N more in FILE".
pub const LISTED_ROWS: usize = 20;

/// The report for a person: `verbose` lists every row, `paint` colours the verdict.
pub fn render(r: &Report, verbose: bool, paint: bool) -> String {
    let mut s = String::new();
    let (word, meaning) = if r.ready {
        ("READY", Meaning::Done)
    } else {
        ("NOT READY", Meaning::Refused)
    };
    let why = r
        .verdict
        .strip_prefix("not ready: ")
        .map(|w| format!(": {w}"))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "{}{why} — pre-flight of {} on {} row(s)",
        color::paint(paint, meaning, word),
        r.procedure,
        r.rows
    );
    let _ = writeln!(
        s,
        "Rows: {} ready, {} already done, {} blocked",
        r.ready_rows, r.noop_rows, r.blocked_rows
    );
    let kinds = blocker_counts(&r.row_reports);
    if !kinds.is_empty() {
        let mut by_count: Vec<(&String, &u64)> = kinds.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let _ = writeln!(
            s,
            "Blocked by: {}",
            by_count
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    licences(&mut s, r);
    time(&mut s, r);
    if r.writes.is_empty() {
        let _ = writeln!(s, "Writes: none");
    } else {
        let _ = writeln!(
            s,
            "Writes: {}",
            r.writes
                .iter()
                .map(|(op, n)| format!("{op} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    rows(&mut s, r, verbose);
    if let Some(p) = &r.failures_csv {
        let _ = writeln!(s, "Every row, with what blocks it and the next step: {p}");
    }
    crate::output::table::wrap_prose(s.trim_end(), crate::output::table::target_width(), "    ")
}

/// Blocked rows by the kind of blocker.
fn blocker_counts(rows: &[RowReport]) -> BTreeMap<String, u64> {
    let mut kinds = BTreeMap::new();
    for b in rows.iter().filter_map(|r| r.blocked.as_ref()) {
        *kinds.entry(b.kind.clone()).or_insert(0) += 1;
    }
    kinds
}

fn licences(s: &mut String, r: &Report) {
    let l = &r.licences;
    let _ = writeln!(
        s,
        "Licences: {} Zoom Phone licence(s) to give, {} row(s) whose user has none yet; {} calling-plan licence(s) free",
        l.phone_licences_planned, l.phone_licences_missing, l.calling_plans_available
    );
    for p in &l.calling_plans {
        let short = if p.short > 0 {
            format!("  SHORT BY {}", p.short)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  calling plan {} {}: need {}, free {}{short}",
            p.plan_type, p.name, p.needed, p.available
        );
    }
    if let Some(e) = &l.error {
        let _ = writeln!(s, "  (calling plans could not be read: {e})");
    }
}

fn time(s: &mut String, r: &Report) {
    let tm = &r.time;
    let bound = format!(
        "{} at the bound{}",
        human_secs(tm.at_bound_s),
        tm.bottleneck
            .as_deref()
            .map(|b| format!(" ({b} calls set it)"))
            .unwrap_or_default()
    );
    // The estimate first: the last run's rate when there was one, else the model (the
    // client's pace plus what a run spends around it; `--json` has the parts).
    let more = tm.model.estimate_s - tm.at_client_pace_s;
    let model = format!(
        "{} at the client's pace{}",
        human_secs(tm.at_client_pace_s),
        if more > 0.0 {
            format!(" + {} ramp-up, first and last rows", human_secs(more))
        } else {
            String::new()
        }
    );
    let _ = match (tm.last_rate_rows_per_s, tm.at_last_rate_s) {
        (Some(rate), Some(d)) => writeln!(
            s,
            "Time: {} estimated at the last run's {rate:.2} rows/s (model {}: {model}); {bound}",
            human_secs(d),
            human_secs(tm.model.estimate_s),
        ),
        _ => writeln!(
            s,
            "Time: {} estimated ({model}); {bound}; no earlier run of this procedure on this profile",
            human_secs(tm.estimate_s),
        ),
    };
    match (&tm.window, &tm.window_note) {
        (Some(w), _) => {
            let fit = if w.fits {
                format!("fits, with {} to spare", human_secs(w.margin_s))
            } else {
                format!("does NOT fit, short by {}", human_secs(-w.margin_s))
            };
            let _ = writeln!(
                s,
                "Window: {} — {} {} to {} ({}): {fit}",
                w.window,
                if w.open_now {
                    "open now,"
                } else {
                    "next opens"
                },
                w.opens,
                w.closes,
                human_secs(w.length_s),
            );
        }
        (None, Some(n)) => {
            let _ = writeln!(s, "Window: {n}");
        }
        _ => {}
    }
    let calls = tm
        .calls
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        s,
        "Calls: {calls} (plan {}: light {}/s, medium {}/s, heavy {}/s, heavy {}/day)",
        tm.plan,
        tm.limits.get("light_per_s").unwrap_or(&0),
        tm.limits.get("medium_per_s").unwrap_or(&0),
        tm.limits.get("heavy_per_s").unwrap_or(&0),
        tm.limits.get("heavy_per_day").unwrap_or(&0)
    );
}

/// The blocked rows (the first [`LISTED_ROWS`]), or with `verbose` every row.
fn rows(s: &mut String, r: &Report, verbose: bool) {
    let listed: Vec<&RowReport> = r
        .row_reports
        .iter()
        .filter(|row| verbose || row.blocked.is_some())
        .collect();
    if listed.is_empty() {
        return;
    }
    let shown = if verbose {
        listed.len()
    } else {
        listed.len().min(LISTED_ROWS)
    };
    let table_rows = listed[..shown]
        .iter()
        .map(|row| {
            let what = match &row.blocked {
                Some(b) => format!("[{}] {}", b.kind, b.reason),
                None if row.would_do.is_empty() => "nothing (already done)".into(),
                None => row.would_do.join("\n"),
            };
            vec![
                row.line.to_string(),
                row.status.clone(),
                row.values.values().cloned().collect::<Vec<_>>().join(" "),
                what,
            ]
        })
        .collect();
    let _ = writeln!(s, "{}:", if verbose { "Every row" } else { "Blocked rows" });
    let _ = writeln!(
        s,
        "{}",
        crate::output::grid(
            &["line", "status", "row", "would do / blocked by"],
            table_rows
        )
    );
    if shown < listed.len() {
        let _ = writeln!(
            s,
            "… {} more in {}",
            listed.len() - shown,
            r.failures_csv.as_deref().unwrap_or("the .preflight.csv")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::preflight::{Blocker, Licences, Model, Timing};

    /// A model whose estimate is `s` seconds.
    fn model(s: f64) -> Model {
        Model {
            latency_ms: BTreeMap::new(),
            unmeasured: vec![],
            row_calls_s: 0.0,
            refresh_s: 0.0,
            row_s: 0.4,
            once_per_run_s: 0.0,
            rows_s: s,
            ramp_s: 1.1,
            workers: 22,
            sweep_s: 0.0,
            estimate_s: s,
        }
    }

    fn report(ready: u64, blocked: u64) -> Report {
        let row = |line: u64, blocked: bool| RowReport {
            line,
            values: BTreeMap::from([
                ("phone_number".to_string(), format!("+1646555{line:04}")),
                ("user".to_string(), format!("u{line}@jpmc.example")),
            ]),
            status: if blocked { "blocked" } else { "ready" }.into(),
            would_do: vec![format!("zoom::assign_number +1646555{line:04}")],
            blocked: blocked.then(|| Blocker {
                kind: if line % 2 == 0 {
                    "user_not_found"
                } else {
                    "not_licensed"
                }
                .into(),
                reason: format!("Zoom user u{line}@jpmc.example does not exist."),
                next: "create the user".into(),
            }),
        };
        let rows: Vec<RowReport> = (0..ready)
            .map(|i| row(i + 2, false))
            .chain((0..blocked).map(|i| row(ready + i + 2, true)))
            .collect();
        Report {
            procedure: "onboard-new-user".into(),
            rows: ready + blocked,
            ready_rows: ready,
            noop_rows: 0,
            blocked_rows: blocked,
            writes: BTreeMap::from([("zoom::assign_number".to_string(), ready)]),
            licences: Licences {
                phone_licences_planned: 0,
                phone_licences_missing: 0,
                calling_plans: Vec::new(),
                calling_plans_available: 7,
                error: None,
            },
            time: Timing {
                plan: "business".into(),
                limits: BTreeMap::new(),
                calls: BTreeMap::new(),
                reads_made: BTreeMap::new(),
                reads_declared: BTreeMap::new(),
                bottleneck: None,
                at_bound_s: 10.0,
                at_client_pace_s: 11.0,
                last_rate_rows_per_s: None,
                at_last_rate_s: None,
                model: model(12.4),
                estimate_s: 12.4,
                heavy_daily_cap_exceeded: false,
                window: None,
                window_note: Some("the profile has no maintenance window configured".into()),
            },
            ready: blocked == 0,
            verdict: if blocked == 0 {
                "ready".into()
            } else {
                format!("not ready: {blocked} row(s) blocked")
            },
            row_reports: rows,
            failures_csv: Some("in.preflight.csv".into()),
        }
    }

    #[test]
    fn ten_thousand_ready_rows_read_in_a_few_lines_verdict_first() {
        let out = render(&report(10_000, 0), false, false);
        assert!(out.lines().count() < 40, "{out}");
        assert!(
            out.starts_with("READY — pre-flight of onboard-new-user on 10000 row(s)\n"),
            "{out}"
        );
        assert!(!out.contains("+16465550002"), "{out}");
    }

    #[test]
    fn blocked_rows_are_counted_by_kind_and_the_first_twenty_listed() {
        let out = render(&report(100, 25), false, false);
        assert!(
            out.starts_with("NOT READY: 25 row(s) blocked — pre-flight"),
            "{out}"
        );
        assert!(
            out.contains("\nBlocked by: user_not_found 13, not_licensed 12\n"),
            "{out}"
        );
        assert!(out.contains("… 5 more in in.preflight.csv"), "{out}");
        // Line 102 is the first blocked row; ready rows are not listed.
        assert!(out.contains("│ 102 "), "{out}");
        assert!(!out.contains("│ 101 "), "{out}");
    }

    #[test]
    fn verbose_lists_every_row() {
        let out = render(&report(30, 1), true, false);
        assert!(out.contains("Every row:"), "{out}");
        assert!(out.contains("│ 2 "), "{out}");
        assert!(!out.contains("more in"), "{out}");
    }

    #[test]
    fn the_estimate_leads_the_time_line() {
        let out = render(&report(10, 0), false, false);
        assert!(
            out.contains("\nTime: 12 s estimated (11 s at the client's pace + 1.4 s ramp-up, first and last rows); 10 s at the bound; no earlier run of this procedure on this profile\n"),
            "{out}"
        );
        let mut r = report(10, 0);
        r.time.last_rate_rows_per_s = Some(0.8);
        r.time.at_last_rate_s = Some(12.5);
        r.time.estimate_s = 12.5;
        let out = render(&r, false, false);
        assert!(
            out.contains("\nTime: 13 s estimated at the last run's 0.80 rows/s (model 12 s: 11 s at the client's pace + 1.4 s ramp-up, first and last rows); 10 s at the bound\n"),
            "{out}"
        );
    }
}
