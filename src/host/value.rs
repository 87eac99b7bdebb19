//! Script values in and out: Rhai `Dynamic` ⇄ JSON, and how results print (tables for arrays of
//! maps, field lists for one map).

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
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

/// How a final result prints for a human.
pub fn render(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Array(items) if items.is_empty() => "(none)".to_string(),
        Value::Array(items) if items.iter().all(Value::is_object) => table(items),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join("\n"),
        Value::Object(m) => {
            // Lists of records inside a result (a procedure's steps) read better as their own tables.
            let (lists, rest): (Vec<_>, Vec<_>) = m
                .iter()
                .partition(|(_, x)| matches!(x, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object)));
            let mut out = fields(&Value::Object(
                rest.into_iter()
                    .map(|(k, x)| (k.clone(), x.clone()))
                    .collect(),
            ));
            for (k, x) in lists {
                if let Value::Array(items) = x {
                    out += &format!("\n{k}:\n{}", table(items));
                }
            }
            out
        }
        other => scalar(other),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Flatten one level of nesting (`assignee.name`) so tables stay readable.
fn flat(obj: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(m) = obj {
        for (k, v) in m {
            match v {
                Value::Object(inner)
                    if !inner.is_empty()
                        && inner.values().all(|x| !x.is_object() && !x.is_array()) =>
                {
                    for (ik, iv) in inner {
                        out.push((format!("{k}.{ik}"), scalar(iv)));
                    }
                }
                Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => out.push((
                    k.clone(),
                    a.iter().map(scalar).collect::<Vec<_>>().join(", "),
                )),
                Value::Object(_) | Value::Array(_) => out.push((k.clone(), v.to_string())),
                _ => out.push((k.clone(), scalar(v))),
            }
        }
    }
    out
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some((w, _)) = terminal_width() {
        t.set_width(w);
    }
    t
}

/// `COLUMNS` when set; otherwise 120 when output is not a terminal (comfy-table measures a
/// terminal itself), so piped tables stay readable.
fn terminal_width() -> Option<(u16, u16)> {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some((w, 0));
    }
    (!std::io::IsTerminal::is_terminal(&std::io::stdout())).then_some((120, 0))
}

/// An array of maps as one table; columns in first-seen order.
pub fn table(items: &[Value]) -> String {
    let rows: Vec<Vec<(String, String)>> = items.iter().map(flat).collect();
    let mut cols: Vec<String> = Vec::new();
    for r in &rows {
        for (k, _) in r {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    let mut t = new_table();
    t.set_header(cols.clone());
    for r in rows {
        t.add_row(
            cols.iter()
                .map(|c| {
                    r.iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>(),
        );
    }
    format!("{t}\n{} row(s)", items.len())
}

/// One map as `field | value` lines.
pub fn fields(obj: &Value) -> String {
    let mut t = new_table();
    t.set_header(vec!["field", "value"]);
    for (k, v) in flat(obj) {
        t.add_row(vec![k, v]);
    }
    t.to_string()
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
