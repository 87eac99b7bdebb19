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

/// Longest value shown by `:vars` before it is cut.
const VAR_PREVIEW: usize = 60;

/// `:vars`: each variable in scope with its type and (the start of) its value, then the
/// functions defined in this session.
pub fn vars(scope: &rhai::Scope, ast: &rhai::AST) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (name, _, value) in scope.iter_raw() {
        // A later `let` of the same name shadows the earlier one.
        rows.retain(|r| r[0] != name);
        let text = match value::to_json(value) {
            Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        let shown = if text.chars().count() > VAR_PREVIEW {
            format!("{}…", text.chars().take(VAR_PREVIEW).collect::<String>())
        } else {
            text
        };
        rows.push(vec![name.to_string(), value.type_name().to_string(), shown]);
    }
    let fns: Vec<String> = ast
        .iter_functions()
        .map(|f| format!("{}({})", f.name, f.params.join(", ")))
        .collect();
    let mut out = if rows.is_empty() {
        "no variables (`let x = …;` keeps a value)".to_string()
    } else {
        crate::output::grid(&["variable", "type", "value"], rows)
    };
    if !fns.is_empty() {
        out += &format!("\nfunctions: {}", fns.join(", "));
    }
    out
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
