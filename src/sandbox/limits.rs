//! Zoom's rate limits: each endpoint's category (the spec's "Rate Limit Label") and per-second
//! windows sized from the plan; heavy and resource-intensive calls also share a daily cap.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::api::rate::PlanLimits;
use crate::api::{RateCategory, ZoomPlan};

use RateCategory::{Heavy, Light, Medium};

/// Operation → category, from the "Rate Limit Label" at the end of each endpoint's description in
/// `../shared/specs/zoom/phone-raw-jnolan-ehl/ZoomPhoneAPISpec.json` (Users and SIP-trunk endpoints
/// from Zoom's rate-limit page).
pub const CATEGORIES: &[(&str, RateCategory)] = &[
    ("zoom.list_numbers", Medium),
    ("zoom.get_number", Light),
    ("zoom.assign_number", Light),
    ("zoom.unassign_number", Light),
    ("zoom.list_users", Medium),
    ("zoom.get_user", Light),
    ("zoom.update_user_settings", Medium),
    ("zoom.list_phone_users", Medium),
    ("zoom.get_phone_user", Light),
    ("zoom.update_phone_user", Light),
    ("zoom.list_sites", Medium),
    ("zoom.get_site", Light),
    ("zoom.create_user", Light),
    ("zoom.batch_add_phone_users", Medium),
    ("zoom.list_calling_plans", Medium),
    ("zoom.assign_calling_plan", Light),
    ("zoom.unassign_calling_plan", Light),
    ("zoom.list_roles", Medium),
    ("zoom.list_role_members", Medium),
    ("zoom.add_role_members", Light),
    ("zoom.list_devices", Medium),
    ("zoom.add_device", Light),
    ("zoom.assign_device", Light),
    ("zoom.list_peering_numbers", Light),
    ("zoom.add_peering_numbers", Light),
    ("zoom.delete_peering_numbers", Light),
    ("zoom.list_internal_numbers", Medium),
    ("zoom.add_internal_numbers", Light),
    ("zoom.delete_internal_number", Light),
    ("zoom.call_history", Heavy),
    ("zoom.call_charges_report", Heavy),
];

/// The category of a Zoom operation (unknown operations count as light).
pub fn category(op: &str) -> RateCategory {
    CATEGORIES
        .iter()
        .find(|(o, _)| *o == op)
        .map(|(_, c)| *c)
        .unwrap_or(Light)
}

/// Which limit a decision is about (`X-RateLimit-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitType {
    Qps,
    Daily,
}

impl LimitType {
    pub fn header_value(self) -> &'static str {
        match self {
            LimitType::Qps => "QPS",
            LimitType::Daily => "Daily-limit",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Decision {
    pub allowed: bool,
    pub kind: LimitType,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub retry_after: u64,
}

/// Fixed one-second windows per category (heavy and intensive share one) and a UTC-day counter.
pub struct Limiter {
    limits: PlanLimits,
    windows: Mutex<HashMap<RateCategory, (u64, u32)>>,
    daily: Mutex<(u64, u32)>,
}

fn now() -> (u64, u32) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.subsec_millis())
}

impl Limiter {
    pub fn new(plan: ZoomPlan) -> Limiter {
        Self::with_limits(plan.limits())
    }

    pub fn with_limits(limits: PlanLimits) -> Limiter {
        Limiter {
            limits,
            windows: Mutex::new(HashMap::new()),
            daily: Mutex::new((0, 0)),
        }
    }

    /// Count one request in `cat` and say whether it may pass.
    pub fn check(&self, cat: RateCategory) -> Decision {
        let (sec, _ms) = now();
        let bucket = if cat == RateCategory::Intensive {
            RateCategory::Heavy
        } else {
            cat
        };
        let limit = match cat {
            RateCategory::Light => self.limits.light_per_s,
            RateCategory::Medium => self.limits.medium_per_s,
            RateCategory::Heavy | RateCategory::Intensive => self.limits.heavy_per_s,
        };
        let heavy = matches!(cat, RateCategory::Heavy | RateCategory::Intensive);
        if heavy {
            let day_limit = self.limits.heavy_per_day;
            let mut d = self.daily.lock().unwrap_or_else(|p| p.into_inner());
            let day = sec / 86_400;
            if d.0 != day {
                *d = (day, 0);
            }
            if d.1 >= day_limit {
                return Decision {
                    allowed: false,
                    kind: LimitType::Daily,
                    limit: day_limit,
                    remaining: 0,
                    retry_after: (day + 1) * 86_400 - sec,
                };
            }
        }
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let e = w.entry(bucket).or_insert((sec, 0));
        if e.0 != sec {
            *e = (sec, 0);
        }
        if e.1 >= limit {
            return Decision {
                allowed: false,
                kind: LimitType::Qps,
                limit,
                remaining: 0,
                retry_after: 1,
            };
        }
        e.1 += 1;
        let remaining = limit - e.1;
        drop(w);
        if heavy {
            let mut d = self.daily.lock().unwrap_or_else(|p| p.into_inner());
            d.1 += 1;
        }
        Decision {
            allowed: true,
            kind: LimitType::Qps,
            limit,
            remaining,
            retry_after: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_in_the_table_is_known() {
        assert_eq!(category("zoom.list_numbers"), RateCategory::Medium);
        assert_eq!(category("zoom.assign_number"), RateCategory::Light);
        assert_eq!(category("zoom.call_history"), RateCategory::Heavy);
    }

    #[test]
    fn heavy_and_intensive_share_the_daily_cap() {
        let l = Limiter::with_limits(PlanLimits {
            light_per_s: 40,
            medium_per_s: 20,
            heavy_per_s: 1000,
            heavy_per_day: 3,
        });
        assert!(l.check(RateCategory::Heavy).allowed);
        assert!(l.check(RateCategory::Intensive).allowed);
        assert!(l.check(RateCategory::Heavy).allowed);
        let d = l.check(RateCategory::Intensive);
        assert!(!d.allowed);
        assert_eq!(d.kind, LimitType::Daily);
        assert_eq!(d.kind.header_value(), "Daily-limit");
        assert!(d.retry_after > 0 && d.retry_after <= 86_400);
        // Light calls are not capped by the day.
        assert!(l.check(RateCategory::Light).allowed);
    }

    #[test]
    fn window_allows_exactly_the_plan_limit() {
        let l = Limiter::new(ZoomPlan::Pro);
        // Stay inside one second: retry if the window rolled over mid-loop.
        for _ in 0..3 {
            let start = now().0;
            let allowed = (0..30)
                .filter(|_| l.check(RateCategory::Heavy).allowed)
                .count();
            if now().0 == start {
                assert_eq!(allowed, 5);
                return;
            }
        }
    }
}
