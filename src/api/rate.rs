//! Zoom's rate-limit categories and plans: one table, read by the client's limiter and the sandbox.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The "Rate Limit Label" Zoom gives each endpoint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum RateCategory {
    Light,
    Medium,
    Heavy,
    /// Resource-intensive endpoints share heavy's per-second budget and the daily cap.
    Intensive,
}

impl RateCategory {
    pub const ALL: [RateCategory; 4] = [
        RateCategory::Light,
        RateCategory::Medium,
        RateCategory::Heavy,
        RateCategory::Intensive,
    ];

    /// The value of Zoom's `X-RateLimit-Category` header.
    pub fn header_value(self) -> &'static str {
        match self {
            RateCategory::Light => "Light",
            RateCategory::Medium => "Medium",
            RateCategory::Heavy => "Heavy",
            RateCategory::Intensive => "Resource-intensive",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RateCategory::Light => "light",
            RateCategory::Medium => "medium",
            RateCategory::Heavy => "heavy",
            RateCategory::Intensive => "intensive",
        }
    }
}

impl fmt::Display for RateCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Zoom account plan, which sets the Phone API rate limits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ZoomPlan {
    Pro,
    #[default]
    Business,
}

/// Per-second and per-day limits of one plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLimits {
    pub light_per_s: u32,
    pub medium_per_s: u32,
    pub heavy_per_s: u32,
    /// Shared by heavy and resource-intensive calls.
    pub heavy_per_day: u32,
}

impl ZoomPlan {
    /// Zoom's published Phone API limits (Pro: 20/10/5 per second; Business and above: 40/20/10).
    pub fn limits(self) -> PlanLimits {
        match self {
            ZoomPlan::Pro => PlanLimits {
                light_per_s: 20,
                medium_per_s: 10,
                heavy_per_s: 5,
                heavy_per_day: 30_000,
            },
            ZoomPlan::Business => PlanLimits {
                light_per_s: 40,
                medium_per_s: 20,
                heavy_per_s: 10,
                heavy_per_day: 60_000,
            },
        }
    }

    /// Requests per second allowed in a category.
    pub fn per_second(self, cat: RateCategory) -> u32 {
        let l = self.limits();
        match cat {
            RateCategory::Light => l.light_per_s,
            RateCategory::Medium => l.medium_per_s,
            RateCategory::Heavy | RateCategory::Intensive => l.heavy_per_s,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ZoomPlan::Pro => "pro",
            ZoomPlan::Business => "business",
        }
    }
}

impl FromStr for ZoomPlan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pro" => Ok(ZoomPlan::Pro),
            "business" | "business+" | "enterprise" => Ok(ZoomPlan::Business),
            other => Err(format!(
                "unknown Zoom plan '{other}': use 'pro' or 'business' (Business, Business Plus and Enterprise share limits)"
            )),
        }
    }
}

impl fmt::Display for ZoomPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The share of the plan's per-second limits the client paces to, in percent (10–100).
///
/// Zoom's limits are per account, shared by every app that calls it, and its one-second windows
/// forgive no bunching: 95 % keeps the budget nearly full while tolerating ~50 ms of network or
/// scheduling jitter per window. Lower it when other integrations call the same account.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(into = "u8")]
pub struct RateShare(u8);

impl RateShare {
    pub const DEFAULT: RateShare = RateShare(95);

    pub fn new(percent: u64) -> Result<RateShare, String> {
        match u8::try_from(percent) {
            Ok(p @ 10..=100) => Ok(RateShare(p)),
            _ => Err(format!(
                "zoom_rate_share = {percent}: use a percentage from 10 to 100 (default 95)"
            )),
        }
    }

    pub fn percent(self) -> u8 {
        self.0
    }

    pub fn fraction(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    /// Requests per second the client sends at most in a category whose limit is `limit`.
    pub fn paced(self, limit: u32) -> f64 {
        f64::from(limit) * self.fraction()
    }
}

impl Default for RateShare {
    fn default() -> Self {
        RateShare::DEFAULT
    }
}

impl From<RateShare> for u8 {
    fn from(s: RateShare) -> u8 {
        s.0
    }
}

impl fmt::Display for RateShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.0)
    }
}

#[cfg(test)]
mod share_tests {
    use super::*;

    #[test]
    fn a_share_is_a_percentage_from_10_to_100() {
        assert_eq!(RateShare::new(95).unwrap().paced(40), 38.0);
        assert!(RateShare::new(100).is_ok());
        for bad in [0, 9, 101, 300] {
            let e = RateShare::new(bad).unwrap_err();
            assert!(e.contains("10 to 100"), "{e}");
        }
    }
}
