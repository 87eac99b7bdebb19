//! The HTTP side: one axum app on loopback, prefixes per service, and around every request the
//! same steps — faults, auth, rate limits, the handler, the request log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::faults::{roll, Faults, TIMEOUT_SECS};
use super::limits::{self, Limiter};
use super::reqlog::{redact_query, sha256_hex, LoggedRequest};
use super::store::{now_rfc3339, Store};
use super::{carrier, movius, spec, zoom, SandboxError, SandboxOptions};

/// Shared by every request.
pub struct Ctx {
    pub store: Arc<Store>,
    pub opts: SandboxOptions,
    pub limiter: Limiter,
    pages: Mutex<HashMap<String, PageToken>>,
    zoom_seq: AtomicU64,
}

struct PageToken {
    key: String,
    offset: usize,
    created: Instant,
}

/// Which service a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Svc {
    Zoom,
    ZoomOauth,
    Movius,
    Carrier,
}

impl Svc {
    pub fn as_str(self) -> &'static str {
        match self {
            Svc::Zoom => "zoom",
            Svc::ZoomOauth => "zoom-oauth",
            Svc::Movius => "movius",
            Svc::Carrier => "carrier",
        }
    }
    /// The error body this service answers with.
    pub fn error(self, status: u16, code: i64, message: &str) -> Reply {
        match self {
            Svc::Zoom => Reply::zoom_err(status, code, message),
            Svc::ZoomOauth => {
                Reply::json(status, json!({"reason": message, "error": "server_error"}))
            }
            Svc::Movius | Svc::Carrier => Reply::movius_err(status, code, message),
        }
    }
}

/// A parsed request, below its service prefix.
pub struct Req {
    pub method: String,
    /// Path below the prefix, e.g. `/phone/numbers`.
    pub path: String,
    /// Percent-decoded segments of `path`.
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Req {
    /// First value of a query parameter, trimmed; empty counts as absent.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
    /// Every value of a (repeatable or comma-separated) query parameter.
    pub fn q_all(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name || k == &format!("{name}[]"))
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    }
    pub fn seg(&self) -> Vec<&str> {
        self.segs.iter().map(String::as_str).collect()
    }
    /// The body as JSON (an empty body is `null`).
    pub fn json(&self) -> Result<Value, String> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("request body is not valid JSON: {e}"))
    }
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }
    pub fn ok<T: serde::Serialize>(status: u16, body: &T) -> Reply {
        match serde_json::to_value(body) {
            Ok(v) => Reply::json(status, v),
            Err(e) => Reply::json(
                500,
                json!({"code": 500, "message": format!("sandbox bug: {e}")}),
            ),
        }
    }
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
    pub fn zoom_err(status: u16, code: i64, message: &str) -> Reply {
        Reply::json(status, json!({"code": code, "message": message}))
    }
    pub fn movius_err(status: u16, code: i64, message: &str) -> Reply {
        Reply::json(
            status,
            json!({"status": "failure", "error_code": code, "message": message}),
        )
    }
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }
    pub fn is_success(&self) -> bool {
        self.status < 400
    }
}

/// One page of `items`, Zoom style: `page_size` (default `default`, at most `max`) and an opaque
/// `next_page_token` that expires after 15 minutes and only fits the list it came from.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
    pub page_size: u32,
    pub total_records: u64,
}

impl Ctx {
    pub fn paginate<T>(
        &self,
        req: &Req,
        key: &str,
        items: Vec<T>,
        default: u32,
        max: u32,
    ) -> Result<Page<T>, Reply> {
        let page_size = match req.q("page_size") {
            None => default,
            Some(s) => match s.parse::<u32>() {
                Ok(0) | Err(_) => {
                    return Err(Reply::zoom_err(
                        400,
                        300,
                        &format!("Invalid field: page_size '{s}' must be a positive integer."),
                    ))
                }
                Ok(n) => n.min(max),
            },
        };
        let offset = match req.q("next_page_token") {
            None => 0,
            Some(t) => {
                let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
                let ttl = self.opts.page_token_ttl;
                pages.retain(|_, p| p.created.elapsed() < ttl);
                match pages.get(t) {
                    Some(p) if p.key == key => p.offset,
                    _ => {
                        return Err(Reply::zoom_err(
                            400,
                            300,
                            "The next page token is invalid or expired. Next page tokens expire after 15 minutes; start again from the first page.",
                        ))
                    }
                }
            }
        };
        let total = items.len();
        let end = (offset + page_size as usize).min(total);
        let next = if end < total {
            let token = random_token(32);
            let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
            pages.insert(
                token.clone(),
                PageToken {
                    key: key.to_string(),
                    offset: end,
                    created: Instant::now(),
                },
            );
            token
        } else {
            String::new()
        };
        let items: Vec<T> = items
            .into_iter()
            .skip(offset)
            .take(end.saturating_sub(offset))
            .collect();
        Ok(Page {
            items,
            next_page_token: next,
            page_size,
            total_records: total as u64,
        })
    }

    /// Run a handler on the state: saved only when it answers with a success.
    pub fn with_world(&self, f: impl FnOnce(&mut super::world::World) -> Reply) -> Reply {
        match self.store.transact(|w| {
            let r = f(w);
            let ok = r.is_success();
            (r, ok)
        }) {
            Ok(r) => r,
            Err(e) => Reply::json(
                500,
                json!({"code": 500, "message": format!("sandbox state error: {e}")}),
            ),
        }
    }

    pub fn faults(&self) -> Faults {
        self.store.faults().unwrap_or_default()
    }
}

/// Random URL-safe token.
pub fn random_token(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// Percent-decode a path segment (`%2B13126170001` → `+13126170001`).
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Start the server on its own runtime thread.
pub fn spawn(
    listener: std::net::TcpListener,
    store: Arc<Store>,
    opts: SandboxOptions,
) -> Result<
    (
        tokio::sync::oneshot::Sender<()>,
        std::thread::JoinHandle<()>,
    ),
    SandboxError,
> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("vline-sandbox")
        .build()
        .map_err(SandboxError::Runtime)?;
    let ctx = Arc::new(Ctx {
        store,
        limiter: Limiter::new(opts.plan),
        opts,
        pages: Mutex::new(HashMap::new()),
        zoom_seq: AtomicU64::new(0),
    });
    let listener = {
        let _g = rt.enter();
        tokio::net::TcpListener::from_std(listener).map_err(SandboxError::Runtime)?
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = axum::Router::new().fallback(handle).with_state(ctx);
    let thread = std::thread::Builder::new()
        .name("vline-sandbox".into())
        .spawn(move || {
            rt.block_on(async move {
                tokio::select! {
                    r = axum::serve(listener, app) => {
                        if let Err(e) = r { tracing::error!("sandbox server stopped: {e}"); }
                    }
                    _ = rx => {}
                }
            });
            // Requests hanging in a timeout fault must not hold the shutdown.
            rt.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(SandboxError::Runtime)?;
    Ok((tx, thread))
}

fn to_response(r: Reply) -> Response {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    let body = match &r.body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::from(serde_json::to_vec(v).unwrap_or_default())
        }
        None => Body::empty(),
    };
    for (k, v) in &r.headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            b = b.header(k.as_str(), v);
        }
    }
    b.body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

async fn handle(State(ctx): State<Arc<Ctx>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let full_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let query = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let method = parts.method.as_str().to_string();

    let (svc, rest) = if let Some(r) = full_path.strip_prefix("/zoom/oauth/token") {
        (Some(Svc::ZoomOauth), format!("/oauth/token{r}"))
    } else if let Some(r) = full_path.strip_prefix("/zoom/v2") {
        (Some(Svc::Zoom), r.to_string())
    } else if let Some(r) = full_path.strip_prefix("/movius") {
        (Some(Svc::Movius), r.to_string())
    } else if let Some(r) = full_path.strip_prefix("/carrier") {
        (Some(Svc::Carrier), r.to_string())
    } else {
        (None, full_path.clone())
    };
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let req = Req {
        method,
        path: rest,
        segs,
        query,
        raw_query,
        headers: parts.headers,
        body,
    };

    let Some(svc) = svc else {
        return to_response(admin(&ctx, &req, &full_path));
    };

    let (op, is_write) = match svc {
        Svc::Zoom => zoom::op(&req),
        // A token is not a change to anything the operator manages.
        Svc::ZoomOauth => ("zoom.oauth_token".to_string(), false),
        Svc::Movius => movius::op(&req),
        Svc::Carrier => carrier::op(&req),
    };
    // Handled on its own task, as a real server does: a request whose client gave up waiting
    // is still carried out and logged (with its answer marked lost).
    let (tx, rx) = tokio::sync::oneshot::channel::<(Reply, bool)>();
    let task_ctx = ctx.clone();
    tokio::spawn(async move {
        let ctx = task_ctx;
        let faults = ctx.faults();
        let reply = serve(&ctx, &faults, svc, &op, &req).await;
        if let Some(c) = &ctx.opts.capture {
            let x = super::Exchange {
                service: svc.as_str().to_string(),
                method: req.method.clone(),
                path: req.path.clone(),
                query: req.query.clone(),
                body: req.body.clone(),
                status: reply.status,
                response: reply.body.clone(),
            };
            c.lock().unwrap_or_else(|p| p.into_inner()).push(x);
        }
        // The fault that matters for "none made twice": the write is applied, its answer lost.
        let dropped = is_write && reply.is_success() && roll(faults.drop_after_apply_share);
        let entry = LoggedRequest {
            seq: 0,
            ts: now_rfc3339(),
            service: svc.as_str().to_string(),
            method: req.method.clone(),
            path: req.path.clone(),
            query: redact_query(&req.raw_query),
            status: reply.status,
            body_sha256: sha256_hex(&req.body),
            op,
            is_write,
            answer_lost: dropped || tx.is_closed(),
        };
        if let Err(e) = ctx.store.log(&entry) {
            tracing::warn!("sandbox: cannot log request: {e}");
        }
        let _ = tx.send((reply, dropped));
    });
    match rx.await {
        Ok((_, true)) => dropped_answer(),
        Ok((reply, false)) => to_response(reply),
        Err(_) => to_response(Reply::json(
            500,
            json!({"code": 500, "message": "sandbox bug: the request's task ended without an answer"}),
        )),
    }
}

/// An answer that never arrives whole: the body fails at once, so the server drops the
/// connection and the client sees it closed with no (or half an) answer.
fn dropped_answer() -> Response {
    let lost = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
            "sandbox fault: the answer of an applied write was dropped",
        ))
    });
    Response::new(Body::from_stream(lost))
}

async fn serve(ctx: &Ctx, faults: &Faults, svc: Svc, op: &str, req: &Req) -> Reply {
    let service_key = if svc == Svc::ZoomOauth {
        "zoom"
    } else {
        svc.as_str()
    };
    if let Some(ms) = faults
        .latency_ms
        .get(service_key)
        .copied()
        .filter(|ms| *ms > 0)
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if roll(faults.timeout_share) {
        tokio::time::sleep(Duration::from_secs(TIMEOUT_SECS)).await;
        return svc.error(504, 504, "Gateway timeout (sandbox fault: timeout)");
    }
    if roll(faults.http_5xx_share) {
        return svc.error(
            503,
            503,
            "Service temporarily unavailable (sandbox fault: 5xx)",
        );
    }
    match svc {
        Svc::ZoomOauth => zoom::oauth(ctx, req),
        Svc::Movius | Svc::Carrier => {
            if let Err(r) = movius::check_basic(svc, req) {
                return r;
            }
            if svc == Svc::Movius {
                movius::handle(ctx, req, faults)
            } else {
                carrier::handle(ctx, req)
            }
        }
        Svc::Zoom => {
            if let Err(r) = zoom::check_bearer(ctx, req) {
                return r;
            }
            let cat = limits::category(op);
            let n = ctx.zoom_seq.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(b) = faults.burst_429.filter(|b| b.hits(n)) {
                let r = too_many(
                    cat,
                    limits::LimitType::Qps,
                    ctx.opts.plan.per_second(cat),
                    1,
                );
                return if b.retry_after && !faults.omit_retry_after {
                    r.header("Retry-After", "1")
                } else {
                    r
                };
            }
            let d = ctx.limiter.check(cat);
            if !d.allowed && ctx.opts.enforce_rate_limits {
                let r = too_many(cat, d.kind, d.limit, d.retry_after);
                return if faults.omit_retry_after {
                    r
                } else {
                    r.header("Retry-After", d.retry_after.to_string())
                };
            }
            let reply = match spec::check_request(
                &req.method,
                &req.seg(),
                &req.query,
                &req.body,
                ctx.opts.strict,
            ) {
                Ok(()) => zoom::handle(ctx, req, faults),
                Err(m) => Reply::zoom_err(400, 300, &m),
            };
            reply
                .header("X-RateLimit-Category", cat.header_value())
                .header("X-RateLimit-Type", d.kind.header_value())
                .header("X-RateLimit-Limit", d.limit.to_string())
                .header("X-RateLimit-Remaining", d.remaining.to_string())
        }
    }
}

fn too_many(
    cat: crate::api::RateCategory,
    kind: limits::LimitType,
    limit: u32,
    _retry: u64,
) -> Reply {
    let message = match kind {
        limits::LimitType::Qps => "You have reached the maximum per-second rate limit for this API. Try again later.",
        limits::LimitType::Daily => "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.",
    };
    Reply::zoom_err(429, 429, message)
        .header("X-RateLimit-Category", cat.header_value())
        .header("X-RateLimit-Type", kind.header_value())
        .header("X-RateLimit-Limit", limit.to_string())
        .header("X-RateLimit-Remaining", "0")
}

/// `GET /` and `/_sandbox/…`: status, request log, faults, reset. Loopback only, no auth.
fn admin(ctx: &Ctx, req: &Req, full_path: &str) -> Reply {
    let status = || match ctx.store.counts() {
        Ok(c) => Reply::json(
            200,
            json!({
                "service": "vline sandbox",
                "prefixes": {"zoom_api": "/zoom/v2", "zoom_oauth": "/zoom/oauth/token", "movius": "/movius", "carrier": "/carrier"},
                "plan": ctx.opts.plan.as_str(),
                "enforce_rate_limits": ctx.opts.enforce_rate_limits,
                "published_spec_mode": ctx.opts.published_spec_mode,
                "strict": ctx.opts.strict,
                "counts": c,
            }),
        ),
        Err(e) => Reply::json(500, json!({"error": e.to_string()})),
    };
    match (req.method.as_str(), full_path.trim_end_matches('/')) {
        ("GET", "") | ("GET", "/_sandbox/status") | ("GET", "/_sandbox") => status(),
        ("GET", "/_sandbox/requests") => match ctx.store.requests() {
            Ok(mut rs) => {
                if req.q("writes").is_some_and(|v| v == "true" || v == "1") {
                    rs.retain(|r| r.is_write);
                }
                Reply::ok(200, &rs)
            }
            Err(e) => Reply::json(500, json!({"error": e.to_string()})),
        },
        ("GET", "/_sandbox/faults") => Reply::ok(200, &ctx.faults()),
        ("PUT", "/_sandbox/faults") | ("POST", "/_sandbox/faults") => {
            match serde_json::from_slice::<Faults>(&req.body) {
                Ok(f) => match ctx.store.set_faults(&f) {
                    Ok(()) => Reply::ok(200, &f),
                    Err(e) => Reply::json(500, json!({"error": e.to_string()})),
                },
                Err(e) => Reply::json(400, json!({"error": format!("faults: {e}")})),
            }
        }
        ("DELETE", "/_sandbox/faults") => match ctx.store.set_faults(&Faults::default()) {
            Ok(()) => Reply::empty(204),
            Err(e) => Reply::json(500, json!({"error": e.to_string()})),
        },
        ("POST", "/_sandbox/reset") => {
            let seed = req
                .json()
                .ok()
                .and_then(|v| v.get("seed").and_then(Value::as_str).map(str::to_string))
                .or_else(|| req.q("seed").map(str::to_string))
                .unwrap_or_else(|| "demo".into());
            match seed.parse::<super::Seed>() {
                Ok(s) => match ctx.store.reset(s) {
                    Ok(()) => {
                        ctx.pages.lock().unwrap_or_else(|p| p.into_inner()).clear();
                        status()
                    }
                    Err(e) => Reply::json(500, json!({"error": e.to_string()})),
                },
                Err(e) => Reply::json(400, json!({"error": e.to_string()})),
            }
        }
        ("POST", p) if p.starts_with("/_sandbox/orgs/") && p.ends_with("/allow_zoom") => {
            // What Movius SRE/CS does on request; customers cannot (the Movius API answers 1010).
            let org = p
                .trim_start_matches("/_sandbox/orgs/")
                .trim_end_matches("/allow_zoom")
                .to_string();
            let allow = req
                .json()
                .ok()
                .and_then(|v| v.get("allow_zoom").and_then(Value::as_bool));
            let Some(allow) = allow else {
                return Reply::json(
                    400,
                    json!({"error": "body must be {\"allow_zoom\": true|false}"}),
                );
            };
            ctx.with_world(|w| match w.org_mut(&org) {
                Some(o) => {
                    o.allow_zoom = allow;
                    Reply::ok(200, o)
                }
                None => Reply::json(404, json!({"error": format!("no organization {org}")})),
            })
        }
        _ => Reply::json(
            404,
            json!({"error": format!("no such path {full_path}: the sandbox serves /zoom/v2, /zoom/oauth/token, /movius, /carrier and /_sandbox/{{status,requests,faults,reset,orgs/ORG/allow_zoom}}")}),
        ),
    }
}
