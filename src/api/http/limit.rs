//! One limiter per Zoom rate category: paced to the plan's share, lowered on 429, recovering slowly.

use super::*;

/// How quickly a lowered rate climbs back, and how often a 429 may lower it.
pub(super) const RECOVER_EVERY: Duration = Duration::from_secs(5);
pub(super) const DECREASE_DEBOUNCE: Duration = Duration::from_secs(1);

/// A governor limiter whose rate drops on 429 and recovers slowly.
pub(super) struct AdaptiveLimiter {
    pub(super) max: u32,
    pub(super) share: RateShare,
    pub(super) state: Mutex<AdaptiveState>,
}

pub(super) struct AdaptiveState {
    pub(super) rate: u32,
    pub(super) limiter: Arc<DefaultDirectRateLimiter>,
    pub(super) last_change: Instant,
}

pub(super) fn limiter_for(rate: u32, share: RateShare) -> Arc<DefaultDirectRateLimiter> {
    // One request per slot, slots 1/share longer than 1/rate: no burst above the rate, and N+1
    // requests never fit in one second unless scheduling or the network bunch them up by more
    // than (1 - share) of a second (50 ms at the default 95 %).
    let period = Duration::from_secs_f64(1.0 / share.paced(rate.max(1)));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota))
}

impl AdaptiveLimiter {
    pub(super) fn new(max: u32, share: RateShare) -> Self {
        let max = max.max(1);
        AdaptiveLimiter {
            max,
            share,
            state: Mutex::new(AdaptiveState {
                rate: max,
                limiter: limiter_for(max, share),
                last_change: Instant::now(),
            }),
        }
    }

    pub(super) fn current(&self) -> Arc<DefaultDirectRateLimiter> {
        let mut st = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if st.rate < self.max && st.last_change.elapsed() >= RECOVER_EVERY {
            st.rate = (st.rate + (self.max / 10).max(1)).min(self.max);
            st.limiter = limiter_for(st.rate, self.share);
            st.last_change = Instant::now();
        }
        st.limiter.clone()
    }

    /// The server said 429: lower the rate to 70 %, once per second at most (a burst of
    /// simultaneous 429s is one signal, not ten).
    pub(super) fn decrease(&self) -> u32 {
        let mut st = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if st.last_change.elapsed() >= DECREASE_DEBOUNCE || st.rate == self.max {
            st.rate = (st.rate * 7 / 10).max(1);
            st.limiter = limiter_for(st.rate, self.share);
            st.last_change = Instant::now();
        }
        st.rate
    }

    pub(super) fn rate(&self) -> u32 {
        match self.state.lock() {
            Ok(g) => g.rate,
            Err(p) => p.into_inner().rate,
        }
    }
}
