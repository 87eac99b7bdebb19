//! How long a bulk run will take, from what its pre-flight counted and measured.
//!
//! The client's pace alone (the calls ÷ the limiter's rate) leaves out what a real run spends
//! around it, so the estimate adds it up the way `bulk::rows` runs:
//! - the reads made once per run that the first rows wait for (the organization, the pool, the
//!   first page of phone users);
//! - the rows: a worker starts its next row when its last one ends, so the rows per second are
//!   workers ÷ one row's duration (Little's law) until the client's pace caps them; `auto` starts
//!   with a few workers and adds more once a second by the tuner's own rule ([`simulate`]), so
//!   the first seconds run below the pace; the last row ends one row's duration after it starts;
//! - the end-of-run sweep (one refresh of Zoom's unassigned list) when the run assigns numbers.
//!
//! One row's duration is what its dry run took, plus the calls it held (writes) or skipped
//! (declared reads) at the latencies this pre-flight measured per service, plus, for a row that
//! peers or unpeers a number, the wait for the shared refresh of Zoom's unassigned list: the next
//! refresh starts at most every [`REFRESH_EVERY`] — half of that on average when rows peer at
//! random moments, the rest of the interval when a row's calls are shorter than it (the rows one
//! refresh released peer again before the next one may start, and wait for it together) — and
//! then takes its own pages.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::api::RateCategory;
use crate::host::run_cache::REFRESH_EVERY;

use crate::bulk::concurrency::{simulate, Concurrency, Pipeline};

/// What the estimate is built from.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub rows: u64,
    /// The run's concurrency (`auto` or a fixed count).
    pub concurrency: Concurrency,
    /// Zoom calls a row sends on average, per category (the run's calls less those made once
    /// per run).
    pub per_row: BTreeMap<RateCategory, f64>,
    /// Zoom calls made once per run (the phone users' pages), per category.
    pub once: BTreeMap<RateCategory, f64>,
    /// The client limiter's pace per category, requests per second.
    pub paced: BTreeMap<RateCategory, f64>,
    /// Mean answer time measured per transport key (`light`, `medium`, `movius`, …), seconds.
    pub latency_s: BTreeMap<String, f64>,
    /// A dry-run row's wall time, seconds (the median: the first rows also wait for the reads
    /// made once per run, counted apart).
    pub dry_row_s: f64,
    /// Calls a real row makes that its dry run did not (held writes, declared reads), on
    /// average per row, per transport key.
    pub unsent_per_row: BTreeMap<String, f64>,
    /// Share of the rows that peer or unpeer a number (and so wait for the shared refresh).
    pub peering_share: f64,
    /// Pages one refresh of Zoom's unassigned list reads.
    pub refresh_pages: f64,
    /// Reads made once per run that the first rows wait for, per transport key.
    pub first_reads: BTreeMap<String, f64>,
    /// The run assigns numbers, so it ends with the sweep.
    pub sweep: bool,
}

/// The estimate and its parts (`--json` shows them under `time.model`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    /// Mean answer time per transport key, as this pre-flight measured it (ms).
    pub latency_ms: BTreeMap<String, f64>,
    /// Keys the run uses that this pre-flight sent nothing to: counted as taking no time.
    pub unmeasured: Vec<String>,
    /// One row's own calls: its dry run plus what it held or skipped, at the measured latencies.
    pub row_calls_s: f64,
    /// One refresh of Zoom's unassigned list.
    pub refresh_s: f64,
    /// One row, start to end, not counting a wait on the client's limiter: its calls, and the
    /// wait for the shared refresh when it peers a number.
    pub row_s: f64,
    /// The reads made once per run that the first rows wait for.
    pub once_per_run_s: f64,
    /// From the run's start until its last row ends.
    pub rows_s: f64,
    /// What the rows in flight cost over the client's pace, the reads made once per run and
    /// one row's own duration: `auto`'s ramp-up (or a fixed count too low for the pace).
    pub ramp_s: f64,
    /// Workers at the end (`auto`: where the tuner settles).
    pub workers: usize,
    /// The end-of-run sweep.
    pub sweep_s: f64,
    /// `rows_s + sweep_s`.
    pub estimate_s: f64,
}

/// The model (see the module docs).
pub fn model(i: &Inputs) -> Model {
    let measured = |k: &str| i.latency_s.get(k).copied();
    let zoom_mean = {
        let z: Vec<f64> = RateCategory::ALL
            .iter()
            .filter_map(|c| measured(c.as_str()))
            .collect();
        (!z.is_empty()).then(|| z.iter().sum::<f64>() / z.len() as f64)
    };
    let mut unmeasured = Vec::new();
    // A key nothing was sent to: a Zoom category answers like the others measured; any other
    // service counts as taking no time (and is named).
    let mut latency = |k: &str| {
        let zoom = RateCategory::ALL.iter().any(|c| c.as_str() == k);
        measured(k)
            .or(if zoom { zoom_mean } else { None })
            .unwrap_or_else(|| {
                if !unmeasured.iter().any(|u| u == k) {
                    unmeasured.push(k.to_string());
                }
                0.0
            })
    };
    let row_calls_s = i.dry_row_s
        + i.unsent_per_row
            .iter()
            .map(|(k, n)| n * latency(k))
            .sum::<f64>();
    let every = REFRESH_EVERY.as_secs_f64();
    let refresh_s = if i.peering_share > 0.0 || i.sweep {
        i.refresh_pages * latency(RateCategory::Medium.as_str())
    } else {
        0.0
    };
    let waiting_row = (row_calls_s + every / 2.0 + refresh_s).max(every);
    let share = i.peering_share.clamp(0.0, 1.0);
    let row_s = (1.0 - share) * row_calls_s + share * waiting_row;
    let once_per_run_s = i
        .first_reads
        .iter()
        .map(|(k, n)| n * latency(k))
        .sum::<f64>();
    // While rows wait on it, a refresh starts every interval (or as soon as the last one ends).
    let background = if share > 0.0 {
        BTreeMap::from([(RateCategory::Medium, i.refresh_pages / every.max(refresh_s))])
    } else {
        BTreeMap::new()
    };
    let pipeline = Pipeline {
        rows: i.rows as f64,
        start_s: once_per_run_s,
        row_s,
        per_row: i.per_row.clone(),
        background,
        once: i.once.clone(),
        paced: i.paced.clone(),
    };
    let sim = simulate(i.concurrency, &pipeline);
    let at_pace = i.rows as f64 / pipeline.pace_rows_per_s();
    let sweep_s = if i.sweep {
        every / 2.0 + refresh_s
    } else {
        0.0
    };
    let estimate_s = if i.rows == 0 {
        0.0
    } else {
        sim.done_s + sweep_s
    };
    Model {
        latency_ms: i
            .latency_s
            .iter()
            .map(|(k, s)| (k.clone(), s * 1000.0))
            .collect(),
        unmeasured,
        row_calls_s,
        refresh_s,
        row_s,
        once_per_run_s,
        rows_s: sim.done_s,
        ramp_s: (sim.done_s - once_per_run_s - row_s - at_pace).max(0.0),
        workers: sim.workers,
        sweep_s,
        estimate_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 rows whose Zoom calls are far from any limit, each a peering onboarding: a dry run
    /// of 0.3 s, then a held Movius add (0.3 s measured) and a held assign (light: nothing
    /// light was read, so Zoom's other categories' 0.1 s), a carrier call nothing measured.
    fn onboarding(concurrency: Concurrency) -> Inputs {
        let unlimited = 1e6;
        Inputs {
            rows: 100,
            concurrency,
            per_row: [(RateCategory::Light, 1.0)].into(),
            once: BTreeMap::new(),
            paced: [
                (RateCategory::Light, unlimited),
                (RateCategory::Medium, unlimited),
                (RateCategory::Heavy, unlimited),
            ]
            .into(),
            latency_s: [("movius".to_string(), 0.3), ("medium".to_string(), 0.1)].into(),
            dry_row_s: 0.3,
            unsent_per_row: [
                ("movius".to_string(), 1.0),
                ("light".to_string(), 1.0),
                ("carrier".to_string(), 1.0),
            ]
            .into(),
            peering_share: 1.0,
            refresh_pages: 1.0,
            first_reads: BTreeMap::new(),
            sweep: true,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn the_estimate_adds_the_ramp_up_each_rows_wait_and_the_sweep_to_the_pace() {
        let m = model(&onboarding(Concurrency::Auto));
        // Its calls 0.3 + 0.3 + 0.1 s; then the next refresh: half an interval (0.2 s) on
        // average, and its page (0.1 s).
        assert!(close(m.row_calls_s, 0.7), "{m:?}");
        assert!(close(m.refresh_s, 0.1), "{m:?}");
        assert!(close(m.row_s, 1.0), "{m:?}");
        assert_eq!(m.unmeasured, vec!["carrier".to_string()]);
        // Rows of 1 s on 4, 6, 9, 14, 21, 32, 48 workers end by t=7 (see
        // `concurrency::simulate`); the sweep waits for the next refresh and reads it.
        assert!(close(m.rows_s, 7.0), "{m:?}");
        assert!(close(m.sweep_s, 0.3), "{m:?}");
        assert!(close(m.estimate_s, 7.3), "{m:?}");
        // The pace alone would say 0.1 ms; the ramp-up is what is left after one row.
        assert!(close(m.ramp_s, 6.0), "{m:?}");
        // 64 workers from the start: two waves of rows.
        let m = model(&onboarding(Concurrency::Fixed(64)));
        assert!(close(m.estimate_s, 2.3), "{m:?}");
    }

    #[test]
    fn rows_faster_than_the_refresh_interval_wait_for_the_next_one_together() {
        // Calls of 10 ms: every worker's row peers right after the last refresh let it go,
        // and waits for the next one, an interval later.
        let mut i = onboarding(Concurrency::Fixed(4));
        i.latency_s = [("movius".to_string(), 0.001), ("medium".to_string(), 0.002)].into();
        i.dry_row_s = 0.007;
        let m = model(&i);
        assert!(close(m.row_s, 0.4), "{m:?}");
        // Rows that peer no number do not wait.
        i.peering_share = 0.0;
        assert!(close(model(&i).row_s, 0.010), "{:?}", model(&i));
    }

    #[test]
    fn the_first_rows_wait_for_the_reads_made_once_per_run() {
        let mut i = onboarding(Concurrency::Fixed(64));
        // The organization and the pool (Movius), the first page of phone users.
        i.first_reads = [("movius".to_string(), 2.0), ("medium".to_string(), 1.0)].into();
        let m = model(&i);
        assert!(close(m.once_per_run_s, 0.7), "{m:?}");
        assert!(close(m.estimate_s, 3.0), "{m:?}");
    }
}
