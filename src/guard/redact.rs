//! Secrets never reach the journal or the screen: parameters are redacted before either sees them.

use serde_json::{Map, Value};

/// What replaces a secret.
pub const MASK: &str = "***";

/// Key fragments that mark a value as secret (matched case-insensitively anywhere in the key).
const SECRET_KEYS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "credential",
    "cookie",
];

fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| k.contains(s))
}

/// Redact secrets from parameters before they are journaled or printed: values under keys
/// containing secret, password, token, authorization or api_key (any case, at any depth) become
/// `"***"`; so do strings that carry an HTTP credential (`Bearer …`, `Basic …`) under any key.
///
/// ```
/// # use serde_json::json;
/// let v = vline::guard::redact(&json!({"user": "a@b.example", "auth": {"Client_Secret": "s3"}}));
/// assert_eq!(v, json!({"user": "a@b.example", "auth": {"Client_Secret": "***"}}));
/// ```
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, val) in m {
                let val = if is_secret_key(k) && !val.is_null() {
                    Value::String(MASK.into())
                } else {
                    redact(val)
                };
                out.insert(k.clone(), val);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        Value::String(s) if looks_like_credential(s) => Value::String(MASK.into()),
        other => other.clone(),
    }
}

fn looks_like_credential(s: &str) -> bool {
    let lower = s.trim_start().to_ascii_lowercase();
    lower.starts_with("bearer ") || lower.starts_with("basic ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_secrets_are_masked_and_the_rest_kept() {
        let v = json!({
            "phone_number": "+13126173497",
            "Password": "hunter2",
            "auth": {"client_secret": "abc", "ACCESS_TOKEN": "t", "client_id": "id-1"},
            "rows": [{"api_key": "k"}, {"note": "Bearer eyJhbGciOi"}, 3],
            "Authorization": "Basic Zm9vOmJhcg==",
            "token_hint": null
        });
        let r = redact(&v);
        assert_eq!(
            r,
            json!({
                "phone_number": "+13126173497",
                "Password": "***",
                "auth": {"client_secret": "***", "ACCESS_TOKEN": "***", "client_id": "id-1"},
                "rows": [{"api_key": "***"}, {"note": "***"}, 3],
                "Authorization": "***",
                "token_hint": null
            })
        );
        let text = r.to_string();
        for s in ["hunter2", "abc\"", "eyJhbGciOi", "Zm9vOmJhcg"] {
            assert!(!text.contains(s), "{s} leaked: {text}");
        }
    }

    #[test]
    fn secret_objects_are_masked_whole() {
        assert_eq!(
            redact(&json!({"secrets": {"a": 1}})),
            json!({"secrets": "***"})
        );
    }
}
