//! How the REPL shows a result: tables and field lists from `host::value`, cut short when long.

use serde_json::Value;

use crate::host::script::{explain, Failure};
use crate::host::value;

/// Rows shown before a long array is cut.
pub const MAX_ROWS: usize = 50;

/// A result as the REPL prints it; empty for `()`.
pub fn result(v: &Value, json: bool) -> String {
    if json {
        return match v {
            Value::Null => String::new(),
            _ => serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()),
        };
    }
    match v {
        Value::Array(items) if items.len() > MAX_ROWS => format!(
            "{}\n… {} more ({} in all): assign it (`let r = …;`) and index it, or `:json on`",
            value::render(&Value::Array(items[..MAX_ROWS].to_vec())),
            items.len() - MAX_ROWS,
            items.len()
        ),
        _ => value::render(v),
    }
}

/// An evaluation error as one message: API errors with service, operation, code and next step;
/// guard refusals with the way on.
pub fn failure(err: &rhai::EvalAltResult) -> String {
    match explain(err) {
        Failure::Refused { reason, how } => format!("refused: {reason}. {how}"),
        Failure::Blocked(b) => format!("refused: {b}"),
        Failure::Interrupted => "interrupted".to_string(),
        Failure::Error(m) => format!("error: {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_arrays_are_cut_with_a_count() {
        let rows: Vec<Value> = (0..120)
            .map(|i| json!({"number": format!("+1312617{i:04}")}))
            .collect();
        let out = result(&Value::Array(rows.clone()), false);
        assert!(out.contains("+13126170049"), "{out}");
        assert!(!out.contains("+13126170050"), "{out}");
        assert!(out.contains("… 70 more (120 in all)"), "{out}");
        assert!(result(&Value::Array(rows), true).contains("+13126170119"));
        assert_eq!(result(&Value::Null, false), "");
    }
}
