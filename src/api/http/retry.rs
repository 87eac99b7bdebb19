//! Sending a request: one attempt, its answer read, and the retry loop around it.

use super::*;

/// What one attempt produced.
pub(super) enum Attempt {
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
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let base = self.opts.backoff_base.as_millis() as u64;
        let cap = self.opts.backoff_max.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(16)).min(cap).max(1);
        // Full jitter keeps many workers from retrying in lockstep; never below half the step.
        let ms = rand::rng().random_range(exp / 2..=exp);
        Duration::from_millis(ms)
    }
    /// The retry loop around one logical call. `retry_ambiguous` allows repeating after a 5xx
    /// or a lost answer.
    pub(super) fn execute<'a>(
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
    pub(super) async fn attempt(
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
        let t0 = Instant::now();
        let sent = rb.send().await;
        if let (Service::Zoom, Ok(r)) = (req.service, &sent) {
            self.note_rate_limit(r.headers());
        }
        let answer = read_answer(sent).await;
        self.counters.count_answer(key, t0.elapsed());
        Ok((answer, used))
    }
}

pub(super) async fn read_answer(sent: Result<reqwest::Response, reqwest::Error>) -> Attempt {
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
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Zoom's daily cap (`X-RateLimit-Type: Daily-limit`), as opposed to the per-second limit.
pub(super) fn is_daily_limit(headers: &HeaderMap) -> bool {
    headers
        .get("x-ratelimit-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("daily"))
}

/// The service's code and message from an error body: Zoom `{code, message}`, Movius
/// `{status: "failure", error_code, message}`, OAuth `{reason, error}`.
pub(super) fn service_message(body: &[u8], status: u16) -> (Option<i64>, String) {
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

pub(super) fn error_from(req: &Request, status: u16, body: &[u8], retryable: bool) -> ApiError {
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
pub(super) fn decode<T: DeserializeOwned>(req: &Request, body: &[u8]) -> Result<T, ApiError> {
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
