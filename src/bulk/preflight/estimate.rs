//! How long the run would take — at the plan's limits, at the client's pace, and as a run would
//! go (the [`model`](super::model), fed what this pre-flight measured) — and whether that fits
//! the next maintenance window.

use std::collections::BTreeMap;

use jiff::{Timestamp, Zoned};

use crate::api::http::TransportStats;
use crate::api::{RateCategory, ZoomPlan};
use crate::guard::window::{self, MaintenanceWindow};
use crate::host::header::Header;
use crate::host::run_cache::CacheStats;

use super::{model, Setup, Timing, WindowFit};

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
pub(super) struct Measured {
    /// Mean answer time per transport key.
    pub latency_s: BTreeMap<String, f64>,
    /// A dry-run row's wall time (the median).
    pub dry_row_s: f64,
    /// Calls a real row sends that its dry run did not (held writes, declared reads), on
    /// average per row, per transport key.
    pub unsent_per_row: BTreeMap<String, f64>,
    /// Share of the rows that would peer or unpeer a number.
    pub peering_share: f64,
    /// What the shared caches read (the reads made once per run).
    pub cache: CacheStats,
    /// The run would assign numbers (and so end with the sweep).
    pub sweep: bool,
}

/// Mean answer time per transport key over the calls made between `a` and `b`.
pub(super) fn latencies(a: &TransportStats, b: &TransportStats) -> BTreeMap<String, f64> {
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

pub(super) fn timing(
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
    let at_client_pace_s = at_bound_s / setup.clients.transport.options().rate_share.fraction();
    let model = model::model(&model_inputs(setup, plan, &calls, rows, m));
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

/// The model's inputs: the run's Zoom calls split into those made once per run (the phone
/// users' pages, a whole-list read) and per row, the client's pace, and what was measured.
fn model_inputs(
    setup: &Setup<'_>,
    plan: ZoomPlan,
    calls: &BTreeMap<String, u64>,
    rows: u64,
    m: &Measured,
) -> model::Inputs {
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
    model::Inputs {
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

/// The rate category (or service) a held write would use when sent.
pub(super) fn write_category(op: &str) -> &'static str {
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
pub(super) fn declared_reads(h: &Header) -> BTreeMap<String, u64> {
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

pub(super) fn diff(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    b.iter()
        .map(|(k, v)| (k.clone(), v.saturating_sub(a.get(k).copied().unwrap_or(0))))
        .filter(|(_, v)| *v > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_reads_from_the_header() {
        let h = Header::parse("//! title: t\n//! preflight-reads: medium=3 movius=1\n").unwrap();
        let d = declared_reads(&h);
        assert_eq!(d.get("medium"), Some(&3));
        assert_eq!(d.get("movius"), Some(&1));
    }

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
