//! The shared transport: auth, retries, rate limits, pagination, errors. `request` describes a
//! call, `auth` holds the Zoom token, `limit` paces each rate category, `retry` sends and repeats,
//! `pages` walks `next_page_token` lists.
//!
//! Every request vline sends goes through [`Transport`]; nothing else builds a URL or reads a
//! header. The transport is **blocking** to its callers (Rhai host functions and bulk worker
//! threads are plain OS threads): it owns a multi-thread tokio runtime and runs async reqwest on
//! it, `block_on`-ing inside each public method. Never call it from a thread that is itself
//! running a tokio runtime: it answers with a local error instead of panicking.
//!
//! What it does for every call:
//! - auth: Zoom server-to-server OAuth (token fetched on demand, cached, refreshed a little
//!   before it expires and once when Zoom answers 401); Movius and carrier HTTP Basic.
//! - rate limits: one limiter per Zoom [`RateCategory`], sized from the profile's [`ZoomPlan`]
//!   and paced to its [`RateShare`] of the limit, shared by every thread holding this transport;
//!   a 429 lowers the category's rate (multiplicative decrease) and it recovers slowly, so bulk
//!   runs settle just under the limit.
//! - retries: 429 waits `Retry-After` (or backs off when the header is missing); 5xx, timeouts and
//!   connection errors are retried with exponential backoff and jitter for idempotent requests
//!   only. A non-idempotent request is repeated only through [`Transport::send_checked`], whose
//!   caller says how to read whether the first attempt happened.
//! - errors: one [`ApiError`] built from Zoom's `{code, message}` or Movius's
//!   `{status: "failure", error_code, message}`.
//! - tracing: one span per call with op, target, status, duration and retries; secrets never.

use std::collections::BTreeMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use super::error::{ApiError, Service};
use super::movius::paths::Endpoint;
use super::rate::{RateCategory, RateShare, ZoomPlan};
use super::secret::Secret;
use super::zoom::wire::TokenResponse;

mod auth;
mod limit;
mod pages;
mod request;
mod retry;
#[cfg(test)]
mod tests;

pub use pages::{Paged, Pages};
pub use request::Request;

use auth::CachedToken;
use limit::AdaptiveLimiter;
use retry::Attempt;

/// Tuning of the transport. Defaults suit real services; tests shorten the times.
#[derive(Clone, Debug)]
pub struct TransportOptions {
    /// Per-request timeout (connect + answer).
    pub timeout: Duration,
    /// Retries after a 5xx, timeout or connection error (idempotent requests only).
    pub max_retries: u32,
    /// Waits after a 429 before the call gives up.
    pub max_429_retries: u32,
    /// First backoff; doubles each retry, with full jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this (Zoom's daily cap) fails the call instead of sleeping.
    pub max_retry_after: Duration,
    /// Sizes the per-category limiters.
    pub plan: ZoomPlan,
    /// The share of the plan's limits the limiters pace to.
    pub rate_share: RateShare,
    /// Client-side rate limiting on (off only for tests that want to provoke 429s).
    pub rate_limit: bool,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            timeout: Duration::from_secs(30),
            max_retries: 4,
            max_429_retries: 10,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(120),
            plan: ZoomPlan::default(),
            rate_share: RateShare::default(),
            rate_limit: true,
        }
    }
}

/// Zoom server-to-server OAuth app and the API it opens.
#[derive(Clone, Debug)]
pub struct ZoomCredentials {
    /// e.g. `https://api.zoom.us/v2`.
    pub api_url: String,
    /// e.g. `https://zoom.us/oauth/token`.
    pub oauth_url: String,
    pub account_id: String,
    pub client_id: String,
    pub client_secret: Secret,
}

/// A base URL reached with HTTP Basic (Movius API user, carrier).
#[derive(Clone, Debug)]
pub struct BasicCredentials {
    pub base_url: String,
    pub user: String,
    pub password: Secret,
}

/// Where each service lives and how to authenticate to it.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub zoom: ZoomCredentials,
    pub movius: BasicCredentials,
    /// Only the sandbox has a carrier API vline may call.
    pub carrier: Option<BasicCredentials>,
}

/// Counters for benchmarks and `-v` summaries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TransportStats {
    /// Requests sent, per Zoom category (`light`, …), per other service (`movius`, `carrier`) and
    /// `oauth` for token fetches; retries included.
    pub calls: BTreeMap<String, u64>,
    pub total_calls: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
    /// Repeated requests (after 429, 5xx, timeouts, connection errors or a 401 refresh).
    pub retries: u64,
    pub token_fetches: u64,
    /// Time spent on answers per key, microseconds: from sending a request to reading its
    /// answer (the limiter's wait not included). ÷ `calls` is a key's mean latency.
    pub answer_us: BTreeMap<String, u64>,
}

#[derive(Default)]
struct Counters {
    per_key: Mutex<BTreeMap<String, u64>>,
    total: AtomicU64,
    rate_limited: AtomicU64,
    retries: AtomicU64,
    token_fetches: AtomicU64,
    answer_us: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    fn count_call(&self, key: &str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.per_key.lock() {
            *m.entry(key.to_string()).or_default() += 1;
        }
    }
    fn count_answer(&self, key: &str, took: Duration) {
        if let Ok(mut m) = self.answer_us.lock() {
            *m.entry(key.to_string()).or_default() += took.as_micros() as u64;
        }
    }
}

/// The `X-RateLimit-*` headers Zoom sent last in one category (`vline doctor` shows them).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RateLimitSeen {
    /// `X-RateLimit-Category`: `Light`, `Medium`, `Heavy`, `Resource-intensive`.
    pub category: String,
    /// `X-RateLimit-Type`: `QPS` or `Daily-limit`.
    pub kind: String,
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
}

/// The one HTTP transport; share it with `Arc`. See the module docs.
pub struct Transport {
    rt: Option<tokio::runtime::Runtime>,
    http: reqwest::Client,
    opts: TransportOptions,
    endpoints: Endpoints,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    limiters: BTreeMap<RateCategory, AdaptiveLimiter>,
    counters: Counters,
    /// The operator's Ctrl-C: a call in flight is abandoned when it is set.
    cancel: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// A run's bounds on calls and time; none outside runs (`vline call`, the REPL).
    budget: std::sync::OnceLock<Budget>,
    /// The last `X-RateLimit-*` headers per category.
    rate_limits: std::sync::Mutex<BTreeMap<String, RateLimitSeen>>,
}

/// A run's bounds: how many requests it may send and until when. A script that loops on a read
/// (`loop { zoom::numbers(…) }`) meets one of them; a real run never does.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub max_calls: u64,
    pub max_run_secs: u64,
    pub started: Instant,
}

impl Budget {
    pub fn new(max_calls: u64, max_run_secs: u64) -> Budget {
        Budget {
            max_calls,
            max_run_secs,
            started: Instant::now(),
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("zoom", &self.endpoints.zoom.api_url)
            .field("movius", &self.endpoints.movius.base_url)
            .field("plan", &self.opts.plan)
            .finish()
    }
}

/// The transport could not be built (no runtime, no TLS backend).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the HTTP transport: {0}")]
pub struct TransportError(String);

impl Transport {
    pub fn new(endpoints: Endpoints, opts: TransportOptions) -> Result<Self, TransportError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vline-http")
            .enable_all()
            .build()
            .map_err(|e| TransportError(e.to_string()))?;
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("vline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError(e.to_string()))?;
        let limiters = RateCategory::ALL
            .iter()
            .map(|&c| {
                (
                    c,
                    AdaptiveLimiter::new(opts.plan.per_second(c), opts.rate_share),
                )
            })
            .collect();
        Ok(Transport {
            rt: Some(rt),
            http,
            opts,
            endpoints,
            token: tokio::sync::Mutex::new(None),
            limiters,
            counters: Counters::default(),
            cancel: std::sync::OnceLock::new(),
            budget: std::sync::OnceLock::new(),
            rate_limits: std::sync::Mutex::new(BTreeMap::new()),
        })
    }
    pub fn options(&self) -> &TransportOptions {
        &self.opts
    }
    /// True when a carrier API is configured (the sandbox profile).
    pub fn has_carrier(&self) -> bool {
        self.endpoints.carrier.is_some()
    }
    /// A snapshot of the counters.
    pub fn stats(&self) -> TransportStats {
        TransportStats {
            calls: self
                .counters
                .per_key
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            total_calls: self.counters.total.load(Ordering::Relaxed),
            rate_limited: self.counters.rate_limited.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
            token_fetches: self.counters.token_fetches.load(Ordering::Relaxed),
            answer_us: self
                .counters
                .answer_us
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
        }
    }
    /// The rate (requests per second) the limiter currently allows in a category.
    pub fn current_rate(&self, cat: RateCategory) -> u32 {
        self.limiters
            .get(&cat)
            .map(AdaptiveLimiter::rate)
            .unwrap_or(0)
    }
    /// Requests per second the limiter sends at most in a category now: the current rate paced
    /// to the profile's share.
    pub fn paced_rate(&self, cat: RateCategory) -> f64 {
        self.opts.rate_share.paced(self.current_rate(cat))
    }
    fn block_on<F: Future<Output = Result<T, ApiError>>, T>(
        &self,
        req: &Request,
        fut: F,
    ) -> Result<T, ApiError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(req.local_error(
                "the blocking API client was called from inside an async runtime; call it from a plain thread (e.g. tokio::task::spawn_blocking)",
            ));
        }
        let Some(rt) = &self.rt else {
            return Err(req.local_error("the HTTP transport is shut down"));
        };
        let Some(cancel) = self.cancel.get() else {
            return rt.block_on(fut);
        };
        rt.block_on(async {
            tokio::select! {
                r = fut => r,
                _ = async {
                    while !cancel.load(std::sync::atomic::Ordering::Relaxed) {
                        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                    }
                } => Err(req.local_error(if req.method == Method::GET {
                    "interrupted by the operator (Ctrl-C)"
                } else {
                    // Idempotent or not, a change abandoned in flight may have been made.
                    "interrupted by the operator (Ctrl-C) while the request was in flight: it may have reached the service; look at the target before repeating it"
                })),
            }
        })
    }
    /// Bound the run that uses this transport. The first budget given wins.
    pub fn set_budget(&self, b: Budget) {
        let _ = self.budget.set(b);
    }
    /// Why the run must stop, if it must: its call cap is used up or its wall-clock limit has
    /// passed. One line that names the limit and how to raise it.
    pub fn over_budget(&self) -> Option<String> {
        let b = self.budget.get()?;
        let calls = self.counters.total.load(Ordering::Relaxed);
        if calls >= b.max_calls {
            return Some(format!(
                "the run was stopped after {calls} service calls, its limit (max_calls); if that many are right, raise it with --max-calls N or max_calls in the profile"
            ));
        }
        if b.started.elapsed() >= Duration::from_secs(b.max_run_secs) {
            return Some(format!(
                "the run was stopped after {} s, its wall-clock limit (max_run_secs); if it needs longer, raise it with --max-run-secs N or max_run_secs in the profile",
                b.max_run_secs
            ));
        }
        None
    }
    /// The `X-RateLimit-*` headers Zoom sent last, per category.
    pub fn rate_limits_seen(&self) -> Vec<RateLimitSeen> {
        self.rate_limits
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
    fn note_rate_limit(&self, headers: &HeaderMap) {
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let Some(category) = h("x-ratelimit-category") else {
            return;
        };
        let seen = RateLimitSeen {
            kind: h("x-ratelimit-type").unwrap_or_default(),
            limit: h("x-ratelimit-limit").and_then(|v| v.trim().parse().ok()),
            remaining: h("x-ratelimit-remaining").and_then(|v| v.trim().parse().ok()),
            category: category.clone(),
        };
        if let Ok(mut m) = self.rate_limits.lock() {
            m.insert(category, seen);
        }
    }
    /// Abandon calls in flight when `flag` is set (Ctrl-C). The first flag given wins.
    pub fn set_cancel(&self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let _ = self.cancel.set(flag);
    }
}

thread_local! {
    /// The status of the last successful answer on this thread. The blocking methods poll their
    /// future on the caller's thread, so the caller reads its own call's status here; the typed
    /// client methods return decoded bodies, and the journal wants the real status (201, 204).
    static LAST_STATUS: std::cell::Cell<Option<u16>> = const { std::cell::Cell::new(None) };
}

/// Take the HTTP status of the last call this thread completed successfully (and forget it).
pub fn take_last_status() -> Option<u16> {
    LAST_STATUS.with(|c| c.take())
}

impl Drop for Transport {
    fn drop(&mut self) {
        // Dropping a runtime inside another runtime panics; shutting it down in the background
        // does not.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
