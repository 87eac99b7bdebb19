//! Where a bulk run is: an indicatif bar on a terminal, a plain line every few seconds otherwise.
//! The rate and the ETA come from the rows finished in the last [`WINDOW`], so a run that slows
//! down (or stops) does not show the ETA of its fast start.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How far back the rate looks.
const WINDOW: Duration = Duration::from_secs(20);

pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    failed: u64,
    started: Instant,
    last_line: Instant,
    /// (when, rows finished by then), one per tick, the last [`WINDOW`].
    samples: VecDeque<(Instant, u64)>,
    last_drain_note: Option<Instant>,
}

impl Progress {
    pub fn new(total: u64, terminal: bool) -> Progress {
        let bar = terminal.then(|| {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} rows  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        let now = Instant::now();
        Progress {
            bar,
            total,
            done: 0,
            failed: 0,
            started: now,
            last_line: now,
            samples: VecDeque::from([(now, 0)]),
            last_drain_note: None,
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

    /// Rows per second over the last [`WINDOW`] (since the start while younger than that).
    fn recent_rate(&mut self) -> f64 {
        let now = Instant::now();
        self.samples.push_back((now, self.done));
        while self.samples.len() > 2 && now.duration_since(self.samples[1].0) >= WINDOW {
            self.samples.pop_front();
        }
        let (t0, n0) = self.samples.front().copied().unwrap_or((self.started, 0));
        let secs = now.duration_since(t0).as_secs_f64();
        if secs < 1e-3 {
            return 0.0;
        }
        (self.done - n0) as f64 / secs
    }

    /// Once a second: update the message, or print a plain line every 5 s without a terminal.
    pub fn tick(&mut self, workers: usize, http_429: u64) {
        let rate = self.recent_rate();
        let left = self.total.saturating_sub(self.done);
        let eta = if left == 0 {
            "0s".to_string()
        } else if rate > 0.0 {
            human(Duration::from_secs_f64(left as f64 / rate))
        } else {
            "?".into()
        };
        let msg = format!(
            "{rate:.1}/s  ETA {eta}  failed {}  workers {workers}  429s {http_429}",
            self.failed
        );
        match &self.bar {
            // While draining, the bar shows the countdown instead.
            Some(_) if self.last_drain_note.is_some() => {}
            Some(b) => b.set_message(msg),
            None if self.last_line.elapsed() >= Duration::from_secs(5) => {
                eprintln!("progress: {}/{} rows, {msg}", self.done, self.total);
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    /// A line above the bar (or on its own without a terminal).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// After the first Ctrl-C: the rows still in flight and the time they have left, every
    /// second on a terminal, every 5 s otherwise.
    pub fn draining(&mut self, in_flight: usize, left: Duration) {
        let msg = format!(
            "stopping: waiting for {in_flight} row(s) in flight, {} s left (Ctrl-C again to abandon them)",
            left.as_secs().max(1)
        );
        match &self.bar {
            Some(b) => {
                b.set_message(msg);
                self.last_drain_note = Some(Instant::now());
            }
            None => {
                if self
                    .last_drain_note
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(5))
                {
                    eprintln!("{msg}");
                    self.last_drain_note = Some(Instant::now());
                }
            }
        }
    }

    /// The bar gives way to the run's summary (its lines, as `rows::Report::summary` wrote them).
    pub fn finish(&self, summary: &str) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        eprintln!(
            "{}",
            crate::output::table::wrap_prose(summary, crate::output::table::stderr_width(), "  ")
        );
    }
}

/// `42s`, `3m 05s`, `2h 10m`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(human(Duration::from_secs(42)), "42s");
        assert_eq!(human(Duration::from_secs(185)), "3m 05s");
        assert_eq!(human(Duration::from_secs(7800)), "2h 10m");
    }
}
