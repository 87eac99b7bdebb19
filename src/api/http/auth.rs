//! Zoom server-to-server OAuth: the token fetched on demand, cached, refreshed before it expires.

use super::retry::{read_answer, service_message};
use super::*;

pub(super) struct CachedToken {
    pub(super) token: Secret,
    pub(super) refresh_at: Instant,
    /// The scopes Zoom granted with it (space-separated in the token response).
    pub(super) scope: String,
}

impl Transport {
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
    /// Forget the cached token if it is the one Zoom refused (another thread may already have
    /// replaced it: then there is nothing to do).
    pub(super) async fn invalidate_token(&self, used: Option<&Secret>) {
        let mut guard = self.token.lock().await;
        if guard.as_ref().map(|t| &t.token) == used {
            *guard = None;
        }
    }
    /// The cached Zoom access token, fetched when missing or about to expire.
    pub(super) async fn bearer(&self, req: &Request) -> Result<Secret, ApiError> {
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
    pub(super) async fn fetch_token(&self, req: &Request) -> Result<CachedToken, ApiError> {
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
