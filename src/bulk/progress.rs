//! Where a bulk run is: an indicatif bar on a terminal, a plain line every few seconds otherwise.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::run::Report;

pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    failed: u64,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    pub fn new(total: u64, terminal: bool) -> Progress {
        let bar = terminal.then(|| {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} rows  {per_sec}  ETA {eta}  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            total,
            done: 0,
            failed: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    pub fn row(&mut self, failed: bool) {
        self.done += 1;
        if failed {
            self.failed += 1;
        }
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Once a second: update the message, or print a plain line every 5 s without a terminal.
    pub fn tick(&mut self, workers: usize, http_429: u64) {
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let msg = format!("failed {}  workers {workers}  429s {http_429}", self.failed);
        match &self.bar {
            Some(b) => b.set_message(msg),
            None if self.last_line.elapsed() >= Duration::from_secs(5) => {
                let left = self.total.saturating_sub(self.done);
                let eta = if rate > 0.0 {
                    format!("{:.0}s", left as f64 / rate)
                } else {
                    "?".into()
                };
                eprintln!(
                    "progress: {}/{} rows, {rate:.1} rows/s, ETA {eta}, {msg}",
                    self.done, self.total
                );
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    pub fn finish(&self, r: &Report) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        eprintln!(
            "bulk run {}: {} done, {} failed, {} skipped (done before), {} not started, {:.1} rows/s, {} HTTP 429s absorbed. Results: {}",
            r.run, r.done, r.failed, r.skipped, r.not_started, r.rows_per_s, r.http_429, r.results
        );
        if let Some(s) = &r.stopped {
            eprintln!("stopped: {s}");
        }
    }
}
