//! How many rows of a bulk run work at once: a fixed count, or `auto`, which grows while Zoom's
//! budget is not full and backs off on a 429.

use std::collections::{BTreeMap, VecDeque};
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
    last_calls: BTreeMap<String, u64>,
    /// Smoothed share of the budget in use, per category.
    used: BTreeMap<RateCategory, f64>,
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
        let mut share = BTreeMap::new();
        for c in TUNED {
            let key = c.as_str();
            let now = st.calls.get(key).copied().unwrap_or(0);
            let sent = now.saturating_sub(self.last_calls.get(key).copied().unwrap_or(0));
            share.insert(c, sent as f64 / secs / paced_rate(c).max(1.0));
        }
        self.last_calls = st.calls.clone();
        self.step(cur, max, |c| share[&c], saw_429)
    }

    /// The rule itself, given this tick's share of each category's budget in use (requests per
    /// second sent ÷ the rate the limiter allows). Pre-flight's estimate runs the same rule on
    /// the shares it expects (`simulate`).
    fn step(
        &mut self,
        cur: usize,
        max: usize,
        share: impl Fn(RateCategory) -> f64,
        saw_429: bool,
    ) -> usize {
        let mut fullest = 0.0f64;
        for c in TUNED {
            let now = share(c);
            let u = self.used.entry(c).or_insert(now);
            *u = 0.5 * *u + 0.5 * now;
            fullest = fullest.max(*u);
        }
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

/// The Zoom categories the tuner watches (heavy and resource-intensive share one budget).
const TUNED: [RateCategory; 3] = [
    RateCategory::Light,
    RateCategory::Medium,
    RateCategory::Heavy,
];

/// A bulk run as the workers would drive it, for [`simulate`].
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    pub rows: f64,
    /// When the first rows start, seconds after the run's start (they wait for the reads made
    /// once per run).
    pub start_s: f64,
    /// One row's duration, start to end, when it does not queue on the limiter (seconds).
    pub row_s: f64,
    /// Zoom calls each row sends, per category.
    pub per_row: BTreeMap<RateCategory, f64>,
    /// Zoom calls per second the run sends besides its rows' own (the shared refresh).
    pub background: BTreeMap<RateCategory, f64>,
    /// Zoom calls sent once, in the run's first second (the phone users' pages).
    pub once: BTreeMap<RateCategory, f64>,
    /// The client limiter's pace per category, requests per second.
    pub paced: BTreeMap<RateCategory, f64>,
}

impl Pipeline {
    /// Rows per second the client limiter lets through: the category the rows use most
    /// against its pace sets it (infinite when the rows send no Zoom call).
    pub fn pace_rows_per_s(&self) -> f64 {
        self.per_row
            .iter()
            .filter(|(_, n)| **n > 0.0)
            .map(|(c, n)| self.paced.get(c).copied().unwrap_or(0.0).max(1e-9) / n)
            .fold(f64::INFINITY, f64::min)
    }
}

/// What [`simulate`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulated {
    /// Seconds from the run's start until its last row ends.
    pub done_s: f64,
    /// Workers at the end.
    pub workers: usize,
}

/// Drive `p` the way `bulk::rows` does: every worker works on a row, the first ones started at
/// once; a row spends `row_s` on its own, then its calls wait their turn on the client's
/// limiter (at most its pace ends rows each second); a worker starts its next row when its
/// last one ends. With `auto` the run starts with [`AUTO_START`] workers and [`AutoTuner`]'s
/// rule runs once a second on the share of each budget used in that second, by the calls of
/// the rows that ended in it (as the transport counts them); a worker added starts at once.
pub fn simulate(concurrency: Concurrency, p: &Pipeline) -> Simulated {
    // Steps of 10 ms, a hundred to the tuner's tick.
    const STEPS: u64 = 100;
    const DT: f64 = 1.0 / STEPS as f64;
    const DAY_STEPS: u64 = 86_400 * STEPS;
    let rows = p.rows.max(0.0);
    let max = (rows.ceil().max(1.0) as usize).min(MAX_WORKERS);
    let mut workers = match concurrency {
        Concurrency::Fixed(n) => n,
        Concurrency::Auto => AUTO_START,
    }
    .clamp(1, max);
    let pace = p.pace_rows_per_s();
    let get = |m: &BTreeMap<RateCategory, f64>, c: RateCategory| m.get(&c).copied().unwrap_or(0.0);
    let mut tuner = AutoTuner::new(&TransportStats::default());
    // Rows started in each step of the last row's duration: those started `row_s` ago are
    // through their own part now, and queue on the limiter.
    let lag = (p.row_s / DT).round().max(1.0) as usize;
    let mut own: VecDeque<f64> = std::iter::repeat_n(0.0, lag).collect();
    let mut queued = 0.0;
    let mut started = 0.0;
    let mut done = 0.0;
    let mut ended_this_tick = 0.0;
    let first_step = (p.start_s.max(0.0) / DT).round() as u64;
    let mut k = 0u64;
    let mut done_s = 0.0;
    // Fluid sums drift by rounding: a millionth of a row is no row.
    const EPS: f64 = 1e-6;
    while done < rows - EPS {
        let now = k as f64 * DT;
        if k >= DAY_STEPS {
            // Past a day the rest goes at the pace (the tuner has long settled).
            done_s = now + (rows - done) / pace.min(workers as f64 / p.row_s.max(DT));
            break;
        }
        let mut starting = 0.0;
        if k > 0 && k % STEPS == 0 {
            if concurrency == Concurrency::Auto {
                let first_tick = k == STEPS;
                let ended = ended_this_tick;
                let share = |c: RateCategory| {
                    let once = if first_tick { get(&p.once, c) } else { 0.0 };
                    let sent = ended * get(&p.per_row, c) + get(&p.background, c) + once;
                    sent / get(&p.paced, c).max(1.0)
                };
                let next = tuner.step(workers, max, share, false);
                // A worker added starts a row at once (once the first rows have started).
                if next > workers && k > first_step {
                    starting = ((next - workers) as f64).min(rows - started);
                }
                workers = next;
            }
            ended_this_tick = 0.0;
        }
        if k == first_step {
            starting = (workers as f64).min(rows);
        }
        own.push_back(starting);
        started += starting;
        queued += own.pop_front().unwrap_or(0.0);
        let ending = queued.min(pace * DT);
        queued -= ending;
        done += ending;
        ended_this_tick += ending;
        if done >= rows - EPS {
            // The last row ends when the limiter lets its calls through.
            let over = (done - rows).max(0.0);
            done_s = now + (ending - over) / pace;
            break;
        }
        // Each row that ended frees its worker for the next row, which starts now.
        let next_rows = ending.min(rows - started);
        if let Some(s) = own.back_mut() {
            *s += next_rows;
        }
        started += next_rows;
        k += 1;
    }
    if rows <= 0.0 {
        done_s = 0.0;
    }
    Simulated { done_s, workers }
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

    /// Rows that send no Zoom call: nothing paces them but the workers.
    fn unpaced(rows: f64, row_s: f64) -> Pipeline {
        Pipeline {
            rows,
            row_s,
            ..Pipeline::default()
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn fixed_workers_run_rows_in_waves_of_one_row_each() {
        // 10 rows of 0.5 s on 4 workers: 4, 4, then 2.
        let s = simulate(Concurrency::Fixed(4), &unpaced(10.0, 0.5));
        assert!(close(s.done_s, 1.5), "{s:?}");
        // The first rows wait for the reads made once per run.
        let mut p = unpaced(10.0, 0.5);
        p.start_s = 0.3;
        assert!(close(simulate(Concurrency::Fixed(4), &p).done_s, 1.8));
    }

    #[test]
    fn with_workers_enough_the_client_pace_sets_the_time() {
        // 1,000 rows of 0.4 s, one light call each at 38/s: 64 workers keep the limiter busy
        // from the first row's end on.
        let p = Pipeline {
            per_row: [(RateCategory::Light, 1.0)].into(),
            paced: [(RateCategory::Light, 38.0)].into(),
            ..unpaced(1000.0, 0.4)
        };
        let s = simulate(Concurrency::Fixed(64), &p);
        assert!(close(s.done_s, 0.4 + 1000.0 / 38.0), "{s:?}");
    }

    #[test]
    fn auto_starts_with_four_workers_and_grows_by_the_tuners_rule() {
        // Budgets far from full: half as many workers again each second, 4, 6, 9, 14, 21, 32,
        // 48, then the cap (64). Rows of 1 s end 4 by t=1, 10 by 2, 19, 33, 54, 86 by 6; the
        // last 14 start at t=6 and end at 7 (64 workers from the start: 2 s).
        let s = simulate(Concurrency::Auto, &unpaced(100.0, 1.0));
        assert_eq!(s.workers, 64);
        assert!(close(s.done_s, 7.0), "{s:?}");
        assert!(close(
            simulate(Concurrency::Fixed(64), &unpaced(100.0, 1.0)).done_s,
            2.0
        ));
        // One light call a row against a pace of 6/s: the rows that end fill the budget (the
        // share smoothed: 0, ⅓, ⅔, ⅚, 0.92): 4, 6, 9, then a quarter more, 11, 13, then
        // full: it holds.
        let p = Pipeline {
            per_row: [(RateCategory::Light, 1.0)].into(),
            paced: [(RateCategory::Light, 6.0)].into(),
            ..unpaced(100.0, 1.0)
        };
        assert_eq!(simulate(Concurrency::Auto, &p).workers, 13);
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
