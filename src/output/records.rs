//! Results as records: which columns, in which order, flattened for a table or a CSV, and the
//! fields `--fields` keeps.

use serde_json::{Map, Value};

/// Columns a producer puts first, in its order; the rest follow in first-seen order.
///
/// Script values reach the printer as maps whose keys are sorted (Rhai's maps are ordered by
/// key), so the order a person reads (a procedure's `step, status, detail`; a number before its
/// assignee) is declared here, by whoever produces the records.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The leading columns of a list of records.
    pub columns: Vec<String>,
    /// The leading columns of lists held by a record (`steps` of a procedure's result).
    pub lists: &'static [(&'static str, &'static [&'static str])],
}

/// What identifies a record leads when its producer declares nothing.
const IDENTITY_FIRST: &[&str] = &[
    "number",
    "phone_number",
    "name",
    "email",
    "user",
    "status",
    "outcome",
];

/// A procedure's `steps` (`vu::step`): what was done, how it ended, then the detail.
pub const STEP_COLUMNS: &[&str] = &["step", "status", "detail"];

impl Layout {
    /// Leading columns for a list of records.
    pub fn columns<S: AsRef<str>>(columns: &[S]) -> Layout {
        Layout {
            columns: columns.iter().map(|c| c.as_ref().to_string()).collect(),
            lists: &[],
        }
    }

    /// The layout of the list held under `key`.
    pub fn list(&self, key: &str) -> Layout {
        let columns = self
            .lists
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| *c)
            .unwrap_or(if key == "steps" { STEP_COLUMNS } else { &[] });
        Layout::columns(columns)
    }
}

/// A scalar as a cell: text as it is, nothing for null.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One record as (column, cell): nested maps of scalars become `assignee.name`, lists of
/// scalars `a, b`, anything deeper its JSON.
pub fn flat(obj: &Value) -> Vec<(String, String)> {
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

/// The columns of flattened records: the declared ones present, then identity columns, then
/// the rest as first seen.
pub fn columns(rows: &[Vec<(String, String)>], layout: &Layout) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for r in rows {
        for (k, _) in r {
            if !seen.contains(k) {
                seen.push(k.clone());
            }
        }
    }
    let lead: Vec<String> = if layout.columns.is_empty() {
        IDENTITY_FIRST.iter().map(|c| c.to_string()).collect()
    } else {
        layout.columns.clone()
    };
    let mut cols: Vec<String> = lead.into_iter().filter(|c| seen.contains(c)).collect();
    for s in seen {
        if !cols.contains(&s) {
            cols.push(s);
        }
    }
    cols
}

/// The records as a grid: header and cells, in `cols` order.
pub fn grid(rows: &[Vec<(String, String)>], cols: &[String]) -> super::table::Grid {
    super::table::Grid {
        header: cols.to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|c| {
                        r.iter()
                            .find(|(k, _)| k == c)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect(),
    }
}

/// The value at a dotted path (`assignee.name`), if any.
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(x) = v.get(path) {
        return Some(x);
    }
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// A record with only `fields` (dotted paths keep their nesting: `assignee.name` gives
/// `{"assignee": {"name": …}}`); fields it lacks are left out.
pub fn project(v: &Value, fields: &[String]) -> Value {
    if !v.is_object() {
        return v.clone();
    }
    let mut out = Map::new();
    for f in fields {
        let Some(x) = at(v, f) else { continue };
        if v.get(f).is_some() {
            out.insert(f.clone(), x.clone());
            continue;
        }
        let parts: Vec<&str> = f.split('.').collect();
        let mut cur = &mut out;
        for p in &parts[..parts.len() - 1] {
            let next = cur
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !next.is_object() {
                *next = Value::Object(Map::new());
            }
            cur = next.as_object_mut().expect("an object");
        }
        cur.insert(parts[parts.len() - 1].to_string(), x.clone());
    }
    Value::Object(out)
}

/// Every field a set of records has (flattened names), for an error naming what exists.
pub fn known_fields(records: &[Value]) -> Vec<String> {
    let rows: Vec<_> = records.iter().map(flat).collect();
    columns(&rows, &Layout::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_columns_lead() {
        let rows = vec![flat(&json!({"detail": "d", "status": "done", "step": "s"}))];
        assert_eq!(
            columns(&rows, &Layout::columns(STEP_COLUMNS)),
            ["step", "status", "detail"]
        );
    }

    #[test]
    fn projection_keeps_nesting() {
        let v = json!({"number": "+1", "assignee": {"name": "A", "id": "u"}, "id": "n"});
        assert_eq!(
            project(&v, &["number".into(), "assignee.name".into()]),
            json!({"number": "+1", "assignee": {"name": "A"}})
        );
    }
}
