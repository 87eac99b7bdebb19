//! Faults on demand: what the sandbox breaks, and the per-request decisions.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// `zoom=120ms,movius=0.35s` → the added latency per service in ms (units ms or s; a bare number
/// is ms): the one reader of `--latency`, for `vline sandbox fault set` and `vline bench`.
pub fn parse_latency(s: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (svc, d) = part.split_once('=').ok_or_else(|| {
            format!("--latency '{part}': write SERVICE=DURATION, e.g. zoom=200ms")
        })?;
        let svc = svc.trim().to_ascii_lowercase();
        if !["zoom", "movius", "carrier"].contains(&svc.as_str()) {
            return Err(format!(
                "--latency: unknown service '{svc}' (zoom, movius or carrier)"
            ));
        }
        let ms = duration_ms(d)
            .ok_or_else(|| format!("--latency '{part}': '{d}' is not a duration (200ms, 1s)"))?;
        out.insert(svc, ms);
    }
    Ok(out)
}

fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        ms.trim().parse().ok()
    } else if let Some(sec) = s.strip_suffix('s') {
        sec.trim().parse::<f64>().ok().map(|x| (x * 1000.0) as u64)
    } else {
        s.parse().ok()
    }
}

/// Faults applied to every request until cleared. `Default` is no fault.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// E.164 numbers whose peering into Zoom fails.
    pub peering_fail_numbers: Vec<String>,
    /// Share (0..1) of peering attempts that fail.
    pub peering_fail_share: f64,
    /// Share of requests answered with a 5xx in the service's error shape.
    pub http_5xx_share: f64,
    /// Share of requests that hang for [`TIMEOUT_SECS`] and then answer 504, longer than any
    /// sane client timeout.
    pub timeout_share: f64,
    /// Added latency per service: `zoom`, `movius`, `carrier`.
    pub latency_ms: HashMap<String, u64>,
    /// Periodic 429 bursts on the Zoom API.
    pub burst_429: Option<Burst429>,
    /// Expire every token issued so far (applied when the faults are set).
    pub expire_tokens_now: bool,
    /// Send 429s without `Retry-After` (Zoom sometimes does).
    pub omit_retry_after: bool,
    /// Share of successful writes that are applied and then lose their answer: the connection
    /// is dropped after the change is made (the fault that tests "none made twice").
    pub drop_after_apply_share: f64,
}

/// Of every `every_n` Zoom API requests, the last `len` are answered 429.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Burst429 {
    pub every_n: u32,
    pub len: u32,
    /// Whether the burst's 429s carry `Retry-After`.
    pub retry_after: bool,
}

/// How long a "timeout" request hangs before its 504.
pub const TIMEOUT_SECS: u64 = 30;

impl Faults {
    /// Whether this number's peering fails now.
    pub fn peering_fails(&self, e164: &str) -> bool {
        self.peering_fail_numbers.iter().any(|n| {
            crate::api::E164::parse(n)
                .map(|p| p.as_str() == e164)
                .unwrap_or(false)
        }) || roll(self.peering_fail_share)
    }

    pub fn is_empty(&self) -> bool {
        *self == Faults::default()
    }

    /// One line per fault, for people.
    pub fn describe(&self) -> Vec<String> {
        let pct = |x: f64| format!("{}%", (x * 1000.0).round() / 10.0);
        let mut out = Vec::new();
        if !self.peering_fail_numbers.is_empty() {
            out.push(format!(
                "peering into Zoom fails for {}",
                self.peering_fail_numbers.join(", ")
            ));
        }
        if self.peering_fail_share > 0.0 {
            out.push(format!(
                "{} of peering attempts fail",
                pct(self.peering_fail_share)
            ));
        }
        if self.http_5xx_share > 0.0 {
            out.push(format!("{} of requests get 503", pct(self.http_5xx_share)));
        }
        if self.timeout_share > 0.0 {
            out.push(format!(
                "{} of requests hang {TIMEOUT_SECS} s, then 504",
                pct(self.timeout_share)
            ));
        }
        let mut lat: Vec<_> = self.latency_ms.iter().filter(|(_, ms)| **ms > 0).collect();
        lat.sort();
        for (svc, ms) in lat {
            out.push(format!("{svc} answers {ms} ms later"));
        }
        if let Some(b) = self.burst_429 {
            out.push(format!(
                "the last {} of every {} Zoom API requests get 429{}",
                b.len,
                b.every_n,
                if b.retry_after {
                    ""
                } else {
                    " (no Retry-After)"
                }
            ));
        }
        if self.drop_after_apply_share > 0.0 {
            out.push(format!(
                "{} of successful writes are applied, then their answer is dropped",
                pct(self.drop_after_apply_share)
            ));
        }
        if self.omit_retry_after {
            out.push("429s come without Retry-After".into());
        }
        if self.expire_tokens_now {
            out.push("Zoom tokens issued before the faults were set are expired".into());
        }
        out
    }
}

/// True with probability `share`.
pub fn roll(share: f64) -> bool {
    share > 0.0 && rand::random::<f64>() < share
}

impl Burst429 {
    /// Whether the `n`-th (1-based) Zoom request falls in a burst.
    pub fn hits(&self, n: u64) -> bool {
        if self.every_n == 0 || self.len == 0 {
            return false;
        }
        let pos = (n - 1) % u64::from(self.every_n);
        pos >= u64::from(self.every_n.saturating_sub(self.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_the_tail_of_each_cycle() {
        let b = Burst429 {
            every_n: 5,
            len: 2,
            retry_after: true,
        };
        let hits: Vec<u64> = (1..=10).filter(|n| b.hits(*n)).collect();
        assert_eq!(hits, vec![4, 5, 9, 10]);
    }

    #[test]
    fn peering_fault_matches_any_number_form() {
        let f = Faults {
            peering_fail_numbers: vec!["13126170100".into()],
            ..Faults::default()
        };
        assert!(f.peering_fails("+13126170100"));
        assert!(!f.peering_fails("+13126170101"));
    }

    #[test]
    fn latency_takes_ms_and_seconds() {
        let l = parse_latency("zoom=120ms, movius=0.35s,carrier=5").unwrap();
        assert_eq!(l["zoom"], 120);
        assert_eq!(l["movius"], 350);
        assert_eq!(l["carrier"], 5);
        assert!(parse_latency("teams=1ms").is_err());
        assert!(parse_latency("zoom=fast").is_err());
    }
}
