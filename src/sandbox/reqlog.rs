//! The request log: every request the sandbox received — also those whose answer never left
//! (dropped by a fault, or abandoned by the client) — so tests and operators can count what a run
//! really did.

use serde::{Deserialize, Serialize};

/// One served request. No header, token or body is kept: only the body's SHA-256.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoggedRequest {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub ts: String,
    /// `zoom`, `zoom-oauth`, `movius`, `carrier`.
    pub service: String,
    pub method: String,
    /// Path below the service prefix, as sent (e.g. `/phone/numbers`).
    pub path: String,
    pub query: String,
    pub status: u16,
    /// SHA-256 (hex) of the request body.
    pub body_sha256: String,
    /// Operation name, e.g. `zoom.assign_number`, `movius.add`.
    pub op: String,
    pub is_write: bool,
    /// The request was handled (a write applied) but its answer never reached the client: the
    /// `--drop-after-apply` fault, or a client that gave up waiting.
    #[serde(default)]
    pub answer_lost: bool,
}

/// Hex SHA-256 of a body.
pub fn sha256_hex(body: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(body);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The query with secrets masked (none of our routes take secrets in the query, but a client
/// may send them by mistake).
pub fn redact_query(q: &str) -> String {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let key = p.split('=').next().unwrap_or("");
            let k = key.to_ascii_lowercase();
            if k.contains("secret")
                || k.contains("password")
                || k.contains("token") && k != "next_page_token"
            {
                format!("{key}=<redacted>")
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}
