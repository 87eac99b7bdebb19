//! How many rows of a bulk run work at once: a fixed count, or `auto`, which grows while Zoom's
//! budget is not full and backs off on a 429.

use std::time::Duration;

use crate::api::http::TransportStats;
use crate::api::RateCategory;

/// How many rows run at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    Fixed(usize),
    /// Grow while Zoom's budget is not full; halve on 429.
    Auto,
}

impl std::str::FromStr for Concurrency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            return Ok(Concurrency::Auto);
        }
        match s.parse::<usize>() {
            Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(Concurrency::Fixed(n)),
            _ => Err(format!(
                "--concurrency takes 1 to {MAX_WORKERS} or 'auto', not '{s}'"
            )),
        }
    }
}

pub const MAX_WORKERS: usize = 64;

/// Workers an `auto` run starts with.
pub const AUTO_START: usize = 4;

/// Zoom's budget counts as full when a category runs at this share of the rate its client
/// limiter sends at (itself the profile's share of the plan's limit, see `api::http`).
const FULL: f64 = 0.9;

/// `auto` concurrency: once a second, look at how full each Zoom category's budget is (requests
/// sent ÷ the rate the client limiter allows now). Not full → more workers (rows mostly wait on
/// the network: half as many again while under half full, a quarter more near full); full → hold
/// (more workers would only queue on the limiter); a 429 → a quarter fewer, and no growth for a
/// few seconds (the transport has lowered its own rate too).
pub struct AutoTuner {
    last_calls: std::collections::BTreeMap<String, u64>,
    /// Smoothed share of the budget in use, per category.
    used: std::collections::BTreeMap<RateCategory, f64>,
    hold: u32,
}

impl AutoTuner {
    pub fn new(st: &TransportStats) -> AutoTuner {
        AutoTuner {
            last_calls: st.calls.clone(),
            used: Default::default(),
            hold: 0,
        }
    }

    pub fn next(
        &mut self,
        cur: usize,
        max: usize,
        st: &TransportStats,
        saw_429: bool,
        over: Duration,
        paced_rate: impl Fn(RateCategory) -> f64,
    ) -> usize {
        let secs = over.as_secs_f64().max(1e-3);
        let mut fullest = 0.0f64;
        for c in [
            RateCategory::Light,
            RateCategory::Medium,
            RateCategory::Heavy,
        ] {
            let key = c.as_str();
            let now = st.calls.get(key).copied().unwrap_or(0);
            let sent = now.saturating_sub(self.last_calls.get(key).copied().unwrap_or(0));
            let budget = paced_rate(c).max(1.0);
            let share = sent as f64 / secs / budget;
            let u = self.used.entry(c).or_insert(share);
            *u = 0.5 * *u + 0.5 * share;
            fullest = fullest.max(*u);
        }
        self.last_calls = st.calls.clone();
        if saw_429 {
            self.hold = 3;
            return cur.saturating_sub((cur / 4).max(1)).max(1);
        }
        if self.hold > 0 {
            self.hold -= 1;
            return cur;
        }
        if fullest < FULL / 2.0 {
            // Far from full: half as many again (the share lags a row's duration behind).
            return (cur + cur.div_ceil(2)).min(max);
        }
        if fullest < FULL {
            return (cur + (cur / 4).max(1)).min(max);
        }
        cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stats after `light` light calls in total.
    fn sent(light: u64) -> TransportStats {
        TransportStats {
            calls: [("light".to_string(), light)].into(),
            ..TransportStats::default()
        }
    }

    /// Light paced at 38/s (40/s at 95 %), the others idle.
    fn pace(c: RateCategory) -> f64 {
        if c == RateCategory::Light {
            38.0
        } else {
            19.0
        }
    }

    #[test]
    fn auto_grows_while_the_budget_is_not_full_and_holds_when_it_is() {
        let sec = Duration::from_secs(1);
        let mut t = AutoTuner::new(&sent(0));
        // 5 light calls in a second of a 38/s budget: far from full, half as many again.
        assert_eq!(t.next(4, 64, &sent(5), false, sec, pace), 6);
        // Near full (smoothed share between 0.45 and 0.9): a quarter more.
        assert_eq!(t.next(8, 64, &sent(5 + 38), false, sec, pace), 10);
        // Full (the smoothed share catches up within a few ticks): more workers would only
        // queue on the limiter.
        let mut total = 43;
        for _ in 0..3 {
            total += 38;
            t.next(40, 64, &sent(total), false, sec, pace);
        }
        for _ in 0..3 {
            total += 38;
            assert_eq!(t.next(40, 64, &sent(total), false, sec, pace), 40);
        }
        // Never above the cap.
        let mut t = AutoTuner::new(&sent(0));
        assert_eq!(t.next(60, 64, &sent(1), false, sec, pace), 64);
    }

    #[test]
    fn auto_backs_off_on_429_and_waits_before_growing_again() {
        let sec = Duration::from_secs(1);
        let mut t = AutoTuner::new(&sent(0));
        assert_eq!(t.next(40, 64, &sent(1), true, sec, pace), 30);
        // Three quiet ticks of hold, even though the budget is far from full…
        for i in 2..5 {
            assert_eq!(t.next(30, 64, &sent(i), false, sec, pace), 30);
        }
        // …then growth resumes.
        assert!(t.next(30, 64, &sent(5), false, sec, pace) > 30);
    }
}
