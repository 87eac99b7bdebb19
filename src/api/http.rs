//! The shared transport: auth, retries, rate limits, pagination, errors.
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

/// One request, described without a URL: the transport joins it to the service's base URL.
///
/// Path templates name their variables in braces (`/phone/users/{userId}/phone_numbers`); each is
/// filled with [`Request::arg`] and percent-encoded as one path segment.
#[derive(Clone, Debug)]
pub struct Request {
    service: Service,
    op: String,
    target: String,
    method: Method,
    template: String,
    args: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<serde_json::Value>,
    category: Option<RateCategory>,
    idempotent: bool,
}

impl Request {
    /// A request; GET, PUT, PATCH and DELETE count as idempotent, POST does not.
    pub fn new(service: Service, method: Method, template: &str, op: &str) -> Self {
        let idempotent = method != Method::POST;
        Request {
            service,
            op: op.to_string(),
            target: String::new(),
            method,
            template: template.to_string(),
            args: Vec::new(),
            query: Vec::new(),
            body: None,
            category: None,
            idempotent,
        }
    }

    pub fn get(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::GET, template, op)
    }
    pub fn post(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::POST, template, op)
    }
    pub fn patch(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::PATCH, template, op)
    }
    pub fn delete(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::DELETE, template, op)
    }

    /// A request to an entry of the Movius path table.
    pub fn endpoint(service: Service, ep: &Endpoint, op: &str) -> Self {
        Self::at(service, ep.method, ep.path, op)
    }

    /// A request to a path of the Movius path table as a profile resolved it.
    pub fn at(service: Service, method: &str, template: &str, op: &str) -> Self {
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::POST);
        Self::new(service, method, template, op)
    }

    /// Fill the `{name}` variable of the path.
    pub fn arg(mut self, name: &str, value: impl Into<String>) -> Self {
        self.args.push((name.to_string(), value.into()));
        self
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// A JSON body. Serializing the wire types cannot fail; if it ever did, the body is `null`
    /// and the service's 400 says so.
    pub fn json<B: Serialize>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_value(body).unwrap_or(serde_json::Value::Null));
        self
    }

    /// The Zoom rate-limit category of this endpoint (the spec's "Rate Limit Label").
    pub fn category(mut self, cat: RateCategory) -> Self {
        self.category = Some(cat);
        self
    }

    /// What the call acts on, for errors and logs (a number, an email, an org id).
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// Mark a POST that only reads (Movius `myid_authentications/get`) as safe to repeat.
    pub fn read_only(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Mark a POST whose repetition changes nothing more (the carrier's `POST /ptns`:
    /// provisioning a number again is a no-op) as safe to repeat after a 5xx or a lost answer.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    pub fn op(&self) -> &str {
        &self.op
    }

    fn local_error(&self, message: impl Into<String>) -> ApiError {
        ApiError::local(self.service, &self.op, &self.target, message)
    }
}

/// A page of a `next_page_token` list.
pub trait Paged: DeserializeOwned {
    type Item;
    /// Empty when this is the last page.
    fn next_page_token(&self) -> &str;
    fn into_items(self) -> Vec<Self::Item>;
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
}

#[derive(Default)]
struct Counters {
    per_key: Mutex<BTreeMap<String, u64>>,
    total: AtomicU64,
    rate_limited: AtomicU64,
    retries: AtomicU64,
    token_fetches: AtomicU64,
}

impl Counters {
    fn count_call(&self, key: &str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.per_key.lock() {
            *m.entry(key.to_string()).or_default() += 1;
        }
    }
}

/// How quickly a lowered rate climbs back, and how often a 429 may lower it.
const RECOVER_EVERY: Duration = Duration::from_secs(5);
const DECREASE_DEBOUNCE: Duration = Duration::from_secs(1);

/// A governor limiter whose rate drops on 429 and recovers slowly.
struct AdaptiveLimiter {
    max: u32,
    share: RateShare,
    state: Mutex<AdaptiveState>,
}

struct AdaptiveState {
    rate: u32,
    limiter: Arc<DefaultDirectRateLimiter>,
    last_change: Instant,
}

fn limiter_for(rate: u32, share: RateShare) -> Arc<DefaultDirectRateLimiter> {
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
    fn new(max: u32, share: RateShare) -> Self {
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

    fn current(&self) -> Arc<DefaultDirectRateLimiter> {
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
    fn decrease(&self) -> u32 {
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

    fn rate(&self) -> u32 {
        match self.state.lock() {
            Ok(g) => g.rate,
            Err(p) => p.into_inner().rate,
        }
    }
}

struct CachedToken {
    token: Secret,
    refresh_at: Instant,
    /// The scopes Zoom granted with it (space-separated in the token response).
    scope: String,
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

/// What one attempt produced.
enum Attempt {
    Ok(u16, Vec<u8>),
    /// An HTTP answer that is an error.
    Status {
        status: u16,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    /// No answer. `sent` is false when the connection never opened (safe to repeat anything).
    NoAnswer {
        sent: bool,
        timeout: bool,
    },
}

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

    /// The scopes Zoom granted to the account's token (fetching one when none is cached), as the
    /// token response's `scope` lists them. The token itself never leaves the transport.
    pub fn zoom_scopes(&self) -> Result<Vec<String>, ApiError> {
        let req = Request::post(Service::Zoom, "/oauth/token", "oauth_token");
        self.block_on(&req, async {
            self.bearer(&req).await?;
            let guard = self.token.lock().await;
            Ok(guard
                .as_ref()
                .map(|t| t.scope.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default())
        })
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

    /// Send a request and decode its JSON answer. Idempotent requests are retried on 5xx,
    /// timeouts and connection errors; a POST is sent once (a 429 or a connection that never
    /// opened is repeated either way: the service did nothing).
    pub fn send<T: DeserializeOwned>(&self, req: &Request) -> Result<T, ApiError> {
        let body = self.block_on(req, self.execute(req, req.idempotent))?;
        decode(req, &body)
    }

    /// Send a request whose answer body does not matter (204, or a status envelope).
    pub fn send_unit(&self, req: &Request) -> Result<(), ApiError> {
        self.block_on(req, self.execute(req, req.idempotent))
            .map(|_| ())
    }

    /// Send a non-idempotent request, repeating it only where a read proves it did not happen.
    ///
    /// When the answer is ambiguous (5xx, timeout, connection lost after sending), the transport
    /// calls `did_it_happen`: `Ok(Some(v))` means the change is there (the call succeeds with
    /// `v`), `Ok(None)` means it is not (the request is sent again, with backoff, up to
    /// `max_retries` times), and an error keeps the original failure.
    ///
    /// ```ignore
    /// t.send_checked(&req, || match movius.account(&sel) {
    ///     Ok(acct) => Ok(Some(acct)),
    ///     Err(e) if e.status == Some(404) => Ok(None),
    ///     Err(e) => Err(e),
    /// })
    /// ```
    pub fn send_checked<T, F>(&self, req: &Request, mut did_it_happen: F) -> Result<T, ApiError>
    where
        T: DeserializeOwned,
        F: FnMut() -> Result<Option<T>, ApiError>,
    {
        let mut attempt = 0u32;
        loop {
            let err = match self.block_on(req, self.execute(req, false)) {
                Ok(body) => return decode(req, &body),
                Err(e) => e,
            };
            let ambiguous = err.retryable && err.status != Some(429);
            if !ambiguous {
                return Err(err);
            }
            tracing::debug!(op = %req.op, target = %req.target, "ambiguous failure; reading whether the change happened");
            match did_it_happen() {
                Ok(Some(v)) => return Ok(v),
                Ok(None) if attempt < self.opts.max_retries => {
                    attempt += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(self.backoff(attempt));
                }
                Ok(None) => return Err(err),
                Err(check_err) => {
                    tracing::debug!(op = %req.op, error = %check_err, "the read check failed; keeping the original error");
                    return Err(err);
                }
            }
        }
    }

    /// The pages of a `next_page_token` list, one request per page, lazily.
    pub fn pages<P: Paged>(&self, req: Request) -> Pages<'_, P> {
        Pages {
            transport: self,
            req,
            token: None,
            done: false,
            pages: 0,
            _p: std::marker::PhantomData,
        }
    }

    /// Every item of every page.
    pub fn collect_pages<P: Paged>(&self, req: Request) -> Result<Vec<P::Item>, ApiError> {
        let mut out = Vec::new();
        for page in self.pages::<P>(req) {
            out.extend(page?.into_items());
        }
        Ok(out)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.opts.backoff_base.as_millis() as u64;
        let cap = self.opts.backoff_max.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(16)).min(cap).max(1);
        // Full jitter keeps many workers from retrying in lockstep; never below half the step.
        let ms = rand::rng().random_range(exp / 2..=exp);
        Duration::from_millis(ms)
    }

    fn base_url(&self, service: Service) -> Result<&str, String> {
        match service {
            Service::Zoom => Ok(&self.endpoints.zoom.api_url),
            Service::Movius => Ok(&self.endpoints.movius.base_url),
            Service::Carrier => self
                .endpoints
                .carrier
                .as_ref()
                .map(|c| c.base_url.as_str())
                .ok_or_else(|| "the carrier API exists only in the sandbox profile".to_string()),
        }
    }

    fn url(&self, req: &Request) -> Result<Url, ApiError> {
        let base = self.base_url(req.service).map_err(|m| req.local_error(m))?;
        let mut url = Url::parse(base)
            .map_err(|e| req.local_error(format!("bad base URL for {}: {e}", req.service)))?;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| req.local_error(format!("bad base URL for {}", req.service)))?;
            segs.pop_if_empty();
            for seg in req.template.split('/').filter(|s| !s.is_empty()) {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    let value = req
                        .args
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or_default();
                    if value.is_empty() {
                        drop(segs);
                        return Err(req.local_error(format!("{name} is empty")));
                    }
                    segs.push(value);
                } else {
                    segs.push(seg);
                }
            }
        }
        if !req.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }

    /// The retry loop around one logical call. `retry_ambiguous` allows repeating after a 5xx
    /// or a lost answer.
    fn execute<'a>(
        &'a self,
        req: &'a Request,
        retry_ambiguous: bool,
    ) -> impl Future<Output = Result<Vec<u8>, ApiError>> + 'a {
        let span = tracing::info_span!(
            "api",
            service = %req.service,
            op = %req.op,
            target = %req.target,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            retries = tracing::field::Empty,
        );
        let fut = async move {
            if let Some(why) = self.over_budget() {
                return Err(ApiError::local(req.service, &req.op, &req.target, why));
            }
            let started = Instant::now();
            let mut retries = 0u32;
            let mut n429 = 0u32;
            let mut refreshed = false;
            let url = self.url(req)?;
            let result = loop {
                let (outcome, used_token) = match self.attempt(req, &url).await {
                    Ok(a) => a,
                    Err(e) => break Err(e),
                };
                match outcome {
                    Attempt::Ok(status, body) => break Ok((status, body)),
                    Attempt::Status { status: 401, .. }
                        if req.service == Service::Zoom && !refreshed =>
                    {
                        // The token expired or was revoked early: fetch a new one, once.
                        refreshed = true;
                        self.invalidate_token(used_token.as_ref()).await;
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        retries += 1;
                    }
                    Attempt::Status {
                        status: 429,
                        headers,
                        body,
                    } => {
                        self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                        if is_daily_limit(&headers) {
                            // Waiting would take until 00:00 UTC: say so now.
                            break Err(error_from(req, 429, &body, true));
                        }
                        if let Some(l) = req.category.and_then(|c| self.limiters.get(&c)) {
                            let rate = l.decrease();
                            tracing::debug!(category = ?req.category, rate, "429: lowered the client rate");
                        }
                        let wait = match retry_after(&headers) {
                            Some(w) if w > self.opts.max_retry_after => {
                                break Err(error_from(req, 429, &body, true));
                            }
                            Some(w) => w,
                            None => self.backoff(n429 + 1),
                        };
                        if n429 >= self.opts.max_429_retries {
                            break Err(error_from(req, 429, &body, true));
                        }
                        n429 += 1;
                        retries += 1;
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(
                            wait_ms = wait.as_millis() as u64,
                            "429: waiting before retrying"
                        );
                        tokio::time::sleep(wait).await;
                    }
                    Attempt::Status { status, body, .. } if status >= 500 => {
                        if retry_ambiguous && retries < self.opts.max_retries {
                            retries += 1;
                            self.counters.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(self.backoff(retries)).await;
                        } else {
                            break Err(error_from(req, status, &body, true));
                        }
                    }
                    Attempt::Status { status, body, .. } => {
                        break Err(error_from(req, status, &body, false));
                    }
                    Attempt::NoAnswer { sent, timeout } => {
                        if (retry_ambiguous || !sent) && retries < self.opts.max_retries {
                            retries += 1;
                            self.counters.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(self.backoff(retries)).await;
                        } else {
                            let mut e = req.local_error(if timeout {
                                format!("no answer within {} s", self.opts.timeout.as_secs_f64())
                            } else if sent {
                                // The request left; its answer did not arrive whole.
                                "the connection closed before the answer arrived: the request may have reached the service".to_string()
                            } else {
                                "could not connect".to_string()
                            });
                            e.retryable = true;
                            break Err(e);
                        }
                    }
                }
            };
            let span = tracing::Span::current();
            let duration_ms = started.elapsed().as_millis() as u64;
            span.record("duration_ms", duration_ms);
            span.record("retries", retries);
            match &result {
                Ok((status, _)) => {
                    LAST_STATUS.with(|c| c.set(Some(*status)));
                    span.record("status", status);
                    tracing::debug!(status, duration_ms, retries, "call done");
                }
                Err(e) => {
                    if let Some(s) = e.status {
                        span.record("status", s);
                    }
                    tracing::debug!(status = ?e.status, duration_ms, retries, code = ?e.code, "call failed");
                }
            }
            result.map(|(_, body)| body)
        };
        fut.instrument(span)
    }

    /// One HTTP exchange: limiter, auth, send, read; with the Zoom token it used. `Err` only for
    /// errors that end the call (no token).
    async fn attempt(
        &self,
        req: &Request,
        url: &Url,
    ) -> Result<(Attempt, Option<Secret>), ApiError> {
        let key = match (req.service, req.category) {
            (Service::Zoom, Some(cat)) => {
                if self.opts.rate_limit {
                    if let Some(l) = self.limiters.get(&cat) {
                        l.current().until_ready().await;
                    }
                }
                cat.as_str()
            }
            (s, _) => s.as_str(),
        };
        let mut rb = self.http.request(req.method.clone(), url.clone());
        let mut used = None;
        rb = match req.service {
            Service::Zoom => {
                let token = self.bearer(req).await?;
                let rb = rb.bearer_auth(token.expose());
                used = Some(token);
                rb
            }
            Service::Movius => {
                let c = &self.endpoints.movius;
                rb.basic_auth(&c.user, Some(c.password.expose()))
            }
            Service::Carrier => match &self.endpoints.carrier {
                Some(c) => rb.basic_auth(&c.user, Some(c.password.expose())),
                None => {
                    return Err(
                        req.local_error("the carrier API exists only in the sandbox profile")
                    )
                }
            },
        };
        if let Some(body) = &req.body {
            rb = rb.json(body);
        }
        self.counters.count_call(key);
        tracing::trace!(method = %req.method, path = %url.path(), "sending");
        let sent = rb.send().await;
        if let (Service::Zoom, Ok(r)) = (req.service, &sent) {
            self.note_rate_limit(r.headers());
        }
        Ok((read_answer(sent).await, used))
    }

    /// Forget the cached token if it is the one Zoom refused (another thread may already have
    /// replaced it: then there is nothing to do).
    async fn invalidate_token(&self, used: Option<&Secret>) {
        let mut guard = self.token.lock().await;
        if guard.as_ref().map(|t| &t.token) == used {
            *guard = None;
        }
    }

    /// The cached Zoom access token, fetched when missing or about to expire.
    async fn bearer(&self, req: &Request) -> Result<Secret, ApiError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref() {
            if Instant::now() < t.refresh_at {
                return Ok(t.token.clone());
            }
        }
        let fresh = self.fetch_token(req).await?;
        let token = fresh.token.clone();
        *guard = Some(fresh);
        Ok(token)
    }

    async fn fetch_token(&self, req: &Request) -> Result<CachedToken, ApiError> {
        let z = &self.endpoints.zoom;
        let op = "oauth_token";
        let fail =
            |status: Option<u16>, code: Option<i64>, message: String, retryable: bool| ApiError {
                service: Service::Zoom,
                op: op.to_string(),
                target: format!("account {} (for {})", z.account_id, req.op),
                status,
                code,
                message,
                retryable,
            };
        let mut url = Url::parse(&z.oauth_url)
            .map_err(|e| fail(None, None, format!("bad zoom_oauth_url: {e}"), false))?;
        url.query_pairs_mut()
            .append_pair("grant_type", "account_credentials")
            .append_pair("account_id", &z.account_id);
        let mut tries = 0u32;
        loop {
            self.counters.token_fetches.fetch_add(1, Ordering::Relaxed);
            self.counters.count_call("oauth");
            let rb = self
                .http
                .post(url.clone())
                .basic_auth(&z.client_id, Some(z.client_secret.expose()));
            let again = match read_answer(rb.send().await).await {
                Attempt::Ok(_, body) => {
                    // Never echo the body: it holds the token.
                    let t: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
                        fail(
                            Some(200),
                            None,
                            "the OAuth token response was not understood".into(),
                            false,
                        )
                    })?;
                    let ttl = Duration::from_secs(t.expires_in);
                    let margin = Duration::from_secs(60).min(ttl / 2);
                    tracing::debug!(expires_in = t.expires_in, "fetched a Zoom access token");
                    return Ok(CachedToken {
                        token: Secret::new(t.access_token),
                        refresh_at: Instant::now() + ttl - margin,
                        scope: t.scope,
                    });
                }
                Attempt::Status { status, body, .. } if status == 429 || status >= 500 => {
                    if tries >= self.opts.max_retries {
                        let (code, message) = service_message(&body, status);
                        return Err(fail(Some(status), code, message, true));
                    }
                    true
                }
                Attempt::Status { status, body, .. } => {
                    let (code, message) = service_message(&body, status);
                    return Err(fail(Some(status), code, message, false));
                }
                Attempt::NoAnswer { .. } => {
                    if tries >= self.opts.max_retries {
                        return Err(fail(
                            None,
                            None,
                            "the OAuth server did not answer".into(),
                            true,
                        ));
                    }
                    true
                }
            };
            if again {
                tries += 1;
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(self.backoff(tries)).await;
            }
        }
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

async fn read_answer(sent: Result<reqwest::Response, reqwest::Error>) -> Attempt {
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            return Attempt::NoAnswer {
                sent: !e.is_connect(),
                timeout: e.is_timeout(),
            }
        }
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = match resp.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) => {
            return Attempt::NoAnswer {
                sent: true,
                timeout: e.is_timeout(),
            }
        }
    };
    if (200..300).contains(&status) {
        Attempt::Ok(status, body)
    } else {
        Attempt::Status {
            status,
            headers,
            body,
        }
    }
}

/// `Retry-After` in seconds (Zoom and the sandbox send seconds; an HTTP date falls back to backoff).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Zoom's daily cap (`X-RateLimit-Type: Daily-limit`), as opposed to the per-second limit.
fn is_daily_limit(headers: &HeaderMap) -> bool {
    headers
        .get("x-ratelimit-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("daily"))
}

/// The service's code and message from an error body: Zoom `{code, message}`, Movius
/// `{status: "failure", error_code, message}`, OAuth `{reason, error}`.
fn service_message(body: &[u8], status: u16) -> (Option<i64>, String) {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_string();
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, reason);
    };
    let code = v.get("code").or_else(|| v.get("error_code")).and_then(|c| {
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
    });
    let message = v
        .get("message")
        .or_else(|| v.get("reason"))
        .or_else(|| v.get("error"))
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or(reason);
    (code, message)
}

fn error_from(req: &Request, status: u16, body: &[u8], retryable: bool) -> ApiError {
    let (code, message) = service_message(body, status);
    ApiError {
        service: req.service,
        op: req.op.clone(),
        target: req.target.clone(),
        status: Some(status),
        code,
        message,
        retryable,
    }
}

/// Decode a 2xx body. Movius may answer 200 with `status: "failure"`: that is an error too.
fn decode<T: DeserializeOwned>(req: &Request, body: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    if req.service != Service::Zoom {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(text) {
            if v.get("status").and_then(|s| s.as_str()) == Some("failure") {
                let (code, message) = service_message(text, 200);
                return Err(ApiError {
                    service: req.service,
                    op: req.op.clone(),
                    target: req.target.clone(),
                    status: Some(200),
                    code,
                    message,
                    retryable: false,
                });
            }
        }
    }
    serde_json::from_slice(text).map_err(|e| {
        let mut err = req.local_error(format!("the answer was not understood: {e}"));
        err.status = Some(200);
        err
    })
}

/// Lazily fetched pages; stops after the page whose `next_page_token` is empty.
pub struct Pages<'a, P> {
    transport: &'a Transport,
    req: Request,
    token: Option<String>,
    done: bool,
    pages: u32,
    _p: std::marker::PhantomData<P>,
}

/// More pages than any real list has (100 items each): a server looping on one token stops here.
const MAX_PAGES: u32 = 100_000;

impl<P: Paged> Iterator for Pages<'_, P> {
    type Item = Result<P, ApiError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut req = self.req.clone();
        if let Some(t) = &self.token {
            req = req.query("next_page_token", t);
        }
        let page: P = match self.transport.send(&req) {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.pages += 1;
        let next = page.next_page_token().to_string();
        if next.is_empty()
            || self.token.as_deref() == Some(next.as_str())
            || self.pages >= MAX_PAGES
        {
            self.done = true;
        } else {
            self.token = Some(next);
        }
        Some(Ok(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> Transport {
        Transport::new(
            Endpoints {
                zoom: ZoomCredentials {
                    api_url: "http://127.0.0.1:1/zoom/v2".into(),
                    oauth_url: "http://127.0.0.1:1/zoom/oauth/token".into(),
                    account_id: "a".into(),
                    client_id: "c".into(),
                    client_secret: Secret::new("s"),
                },
                movius: BasicCredentials {
                    base_url: "http://127.0.0.1:1/movius".into(),
                    user: "u".into(),
                    password: Secret::new("p"),
                },
                carrier: None,
            },
            TransportOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn urls_encode_each_argument_as_one_segment() {
        let t = transport();
        let req = Request::get(
            Service::Zoom,
            "/phone/users/{userId}/phone_numbers/{n}",
            "x",
        )
        .arg("userId", "a/b@x.com")
        .arg("n", "+13126170001")
        .query("type", "unassigned");
        let url = t.url(&req).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/zoom/v2/phone/users/a%2Fb@x.com/phone_numbers/+13126170001?type=unassigned"
        );
        let req = Request::endpoint(Service::Movius, &crate::api::movius::paths::ORG, "org")
            .arg("org", "org-1");
        assert_eq!(
            t.url(&req).unwrap().path(),
            "/movius/adk/services/mcpwebapi/organizations/org-1"
        );
        let err = t
            .url(&Request::get(Service::Carrier, "/ptns", "x"))
            .unwrap_err();
        assert!(err.message.contains("sandbox"), "{err}");
        let err = t
            .url(&Request::get(Service::Zoom, "/users/{id}", "user").arg("id", ""))
            .unwrap_err();
        assert!(err.message.contains("id is empty"));
    }

    #[test]
    fn error_bodies_of_both_services() {
        assert_eq!(
            service_message(br#"{"code":1001,"message":"User does not exist"}"#, 404),
            (Some(1001), "User does not exist".into())
        );
        assert_eq!(
            service_message(
                br#"{"status":"failure","error_code":1003,"message":"not allowed"}"#,
                400
            ),
            (Some(1003), "not allowed".into())
        );
        assert_eq!(
            service_message(b"<html>", 502),
            (None, "Bad Gateway".into())
        );
        let req = Request::post(Service::Movius, "/x", "add_account").target("+13126170001");
        let e = decode::<serde_json::Value>(
            &req,
            br#"{"status":"failure","error_code":1004,"message":"m"}"#,
        )
        .unwrap_err();
        assert_eq!((e.code, e.status), (Some(1004), Some(200)));
        assert_eq!(decode::<()>(&req, b"").unwrap(), ());
    }

    #[test]
    fn daily_cap_is_told_apart() {
        let mut h = HeaderMap::new();
        assert!(!is_daily_limit(&h));
        h.insert("X-RateLimit-Type", "QPS".parse().unwrap());
        assert!(!is_daily_limit(&h));
        h.insert("X-RateLimit-Type", "Daily-limit".parse().unwrap());
        assert!(is_daily_limit(&h));
    }

    #[test]
    fn retry_after_in_seconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn limiter_drops_on_429_and_recovers_slowly() {
        let l = AdaptiveLimiter::new(20, RateShare::DEFAULT);
        assert_eq!(l.decrease(), 14);
        // A second 429 within the debounce window is the same signal.
        assert_eq!(l.decrease(), 14);
        assert_eq!(l.rate(), 14);
        l.state.lock().unwrap().last_change -= RECOVER_EVERY;
        l.current();
        assert_eq!(l.rate(), 16);
    }

    #[test]
    fn limiter_spaces_requests_under_the_rate() {
        let l = limiter_for(10, RateShare::DEFAULT);
        let mut allowed = 0;
        for _ in 0..50 {
            if l.check().is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 1, "no burst above one request per slot");
    }

    #[test]
    fn refuses_to_block_inside_a_runtime() {
        let t = transport();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(async {
                t.send::<serde_json::Value>(&Request::get(Service::Movius, "/x", "orgs"))
            })
            .unwrap_err();
        assert!(err.message.contains("async runtime"), "{err}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let t = transport();
        let b1 = t.backoff(1);
        assert!(
            b1 >= Duration::from_millis(250) && b1 <= Duration::from_millis(500),
            "{b1:?}"
        );
        assert!(t.backoff(30) <= Duration::from_secs(8));
    }
}
