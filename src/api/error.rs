//! The one error every API call returns: which service, which operation, on what, what the service
//! said, and what the operator should do next.

use std::fmt;

use serde::Serialize;

/// The remote service a call went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Zoom,
    Movius,
    Carrier,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Zoom => "zoom",
            Service::Movius => "movius",
            Service::Carrier => "carrier",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed API call. `status` is `None` when no HTTP answer came (connection, timeout).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub struct ApiError {
    pub service: Service,
    pub op: String,
    pub target: String,
    pub status: Option<u16>,
    /// The service's own error code (`{code}` for Zoom, `error_code` for Movius).
    pub code: Option<i64>,
    pub message: String,
    pub retryable: bool,
}

impl ApiError {
    /// An error raised before any request left (bad argument, limit exceeded on our side).
    pub fn local(service: Service, op: &str, target: &str, message: impl Into<String>) -> Self {
        ApiError {
            service,
            op: op.to_string(),
            target: target.to_string(),
            status: None,
            code: None,
            message: message.into(),
            retryable: false,
        }
    }

    /// What the operator should do next, from the status and code.
    pub fn next_step(&self) -> &'static str {
        match (self.service, self.status, self.code) {
            (_, None, _) if self.retryable => {
                "the service did not answer; check the network and the profile's base URL, then re-run (reads are retried automatically)"
            }
            (_, None, _) if self.message.contains("may have reached the service") => {
                "look at the target before repeating it (a bulk --resume re-checks the row)"
            }
            (_, None, _) if self.message.starts_with("interrupted by the operator") => {
                "nothing was changed; run it again when ready"
            }
            (_, None, _) => "fix the input named above and re-run; nothing was sent",
            (_, Some(401), _) => {
                "check the profile's credentials (`vline config show`); the secret itself is never printed"
            }
            (_, Some(403), _) => "the credentials lack the scope or permission for this operation; ask the account owner",
            (Service::Movius, _, Some(1003)) => {
                "the org is not Allowed for Zoom; only Movius SRE/CS can allow it: send them the org id"
            }
            (Service::Movius, _, Some(1004)) => {
                "turn on Enable Zoom for the org first (`vline run org-setup`), then re-run"
            }
            (Service::Movius, _, Some(1005)) => {
                "peering into Zoom failed and nothing was kept; check the PEX integration and re-run this row"
            }
            (Service::Movius, _, Some(1006)) => {
                "unpeering failed and the account was kept; unassign the number in Zoom first (`zoom::unassign_number`), then re-run"
            }
            (Service::Movius, _, Some(1007)) => "the Zoom flag cannot be turned off; to leave Zoom, offboard the number",
            (_, Some(404), _) => "check that the target exists (e.g. `vline call zoom number …`)",
            (_, Some(409), _) => "the target is in a conflicting state; look at it first, then re-run",
            (_, Some(429), _) => {
                "the rate limit held after retries; lower --concurrency or run later (the daily cap resets at 00:00 UTC)"
            }
            (_, Some(s), _) if s >= 500 => "the service failed; reads were retried; re-run later (writes are checked before they repeat)",
            (_, Some(_), _) => "fix the request as the message says and re-run",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.service, self.op)?;
        if !self.target.is_empty() {
            write!(f, " on {}", self.target)?;
        }
        write!(f, " failed")?;
        match (self.status, self.code) {
            (Some(s), Some(c)) => write!(f, " (HTTP {s}, code {c})")?,
            (Some(s), None) => write!(f, " (HTTP {s})")?,
            (None, Some(c)) => write!(f, " (code {c})")?,
            (None, None) => {}
        }
        write!(
            f,
            ": {}. Next: {}.",
            self.message.trim_end_matches('.'),
            self.next_step()
        )
    }
}
