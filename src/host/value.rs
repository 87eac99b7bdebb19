//! Script values in and out: Rhai `Dynamic` ⇄ JSON; results print through `crate::output`.

use rhai::{Dynamic, EvalAltResult, Position};
use serde::Serialize;
use serde_json::Value;

/// Any serialisable value as a Rhai value (maps with fields, arrays).
pub fn to_dynamic<T: Serialize>(v: &T) -> Result<Dynamic, Box<EvalAltResult>> {
    rhai::serde::to_dynamic(v)
}

/// A Rhai value as JSON (for journaling, `--json` and tables).
pub fn to_json(d: &Dynamic) -> Value {
    rhai::serde::from_dynamic::<Value>(d).unwrap_or_else(|_| Value::String(d.to_string()))
}

/// Read a JSON value into a wire struct, with a script error naming the function on failure.
pub fn from_json<T: serde::de::DeserializeOwned>(
    v: Value,
    func: &str,
) -> Result<T, Box<EvalAltResult>> {
    serde_json::from_value(v).map_err(|e| {
        Box::new(EvalAltResult::ErrorRuntime(
            format!("{func}: {e}").into(),
            Position::NONE,
        ))
    })
}

/// How a final result prints for a human (see [`crate::output::human`]); a procedure's `steps`
/// lead with step, status, detail.
pub fn render(v: &Value) -> String {
    crate::output::human(v, &crate::output::Layout::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_of_maps_become_tables_with_nested_fields() {
        let out = render(&json!([
            {"number": "+13126170001", "assignee": {"name": "Alice", "id": "u1"}},
            {"number": "+13126170002"}
        ]));
        assert!(out.contains("assignee.name"), "{out}");
        assert!(out.contains("+13126170002"));
        assert!(out.ends_with("2 row(s)"));
    }
}
