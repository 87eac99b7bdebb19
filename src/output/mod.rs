//! How results reach the person or the pipeline: human tables that fit the terminal, or a
//! structured document (`-o json|jsonl|csv|yaml`, `--fields`). A leaf: it knows JSON values and
//! the terminal, nothing of vline's services.

pub mod color;
pub mod records;
pub mod table;

use serde_json::Value;

pub use records::{Layout, STEP_COLUMNS};

/// `--output`: how results print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Tables and field lists for a person (the default).
    #[default]
    Table,
    /// One JSON document (`--json` is short for it).
    Json,
    /// One JSON object a line: one per row of a list, for log pipelines.
    Jsonl,
    /// A header row and one line a row; nested values as `a.b` columns or JSON text.
    Csv,
    /// One YAML document.
    Yaml,
}

/// The output the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub format: Format,
    /// `--fields`: the columns (or JSON fields) to keep, in this order.
    pub fields: Vec<String>,
}

/// A field named by `--fields` that no row has.
#[derive(Debug, thiserror::Error)]
#[error("--fields: no field '{field}' in this output; fields: {known}")]
pub struct UnknownField {
    pub field: String,
    pub known: String,
}

impl Output {
    /// Whether a pipeline reads this (anything but tables).
    pub fn structured(&self) -> bool {
        self.format != Format::Table
    }

    /// The records of a document: a list's items, the list under `rows`, or the one object.
    fn records<'a>(v: &'a Value, rows: Option<&str>) -> Vec<&'a Value> {
        match (v, rows.and_then(|k| v.get(k))) {
            (_, Some(Value::Array(items))) => items.iter().collect(),
            (Value::Array(items), _) => items.iter().collect(),
            (Value::Null, _) => Vec::new(),
            (other, _) => vec![other],
        }
    }

    /// Refuse a `--fields` name no record has (a typo would otherwise print empty columns).
    fn check_fields(&self, records: &[&Value]) -> Result<(), UnknownField> {
        if records.is_empty() {
            return Ok(());
        }
        for f in &self.fields {
            if !records.iter().any(|r| records::at(r, f).is_some()) {
                let owned: Vec<Value> = records.iter().map(|r| (*r).clone()).collect();
                return Err(UnknownField {
                    field: f.clone(),
                    known: records::known_fields(&owned).join(", "),
                });
            }
        }
        Ok(())
    }

    /// `v` with `--fields` applied to its records.
    fn projected(&self, v: &Value, rows: Option<&str>) -> Value {
        if self.fields.is_empty() {
            return v.clone();
        }
        let p = |x: &Value| records::project(x, &self.fields);
        match (v, rows) {
            (Value::Array(items), _) => Value::Array(items.iter().map(p).collect()),
            (Value::Object(m), Some(k)) if m.get(k).is_some_and(Value::is_array) => {
                let mut m = m.clone();
                if let Some(Value::Array(items)) = m.get_mut(k) {
                    *items = items.iter().map(p).collect();
                }
                Value::Object(m)
            }
            (Value::Object(_), _) => p(v),
            _ => v.clone(),
        }
    }

    /// The document as text in the chosen format; `rows` names the list a CSV or JSON lines
    /// are made of when `v` is an object holding one (a bulk run's per-row results).
    /// `Format::Table` renders it for a person with `layout`.
    pub fn render(&self, v: &Value, rows: Option<&str>, layout: &Layout) -> anyhow::Result<String> {
        let recs = Self::records(v, rows);
        self.check_fields(&recs)?;
        Ok(match self.format {
            Format::Json => serde_json::to_string_pretty(&self.projected(v, rows))?,
            Format::Yaml => serde_yaml_ng::to_string(&self.projected(v, rows))?
                .trim_end()
                .to_string(),
            Format::Jsonl => {
                let projected = self.projected(v, rows);
                Self::records(&projected, rows)
                    .iter()
                    .map(serde_json::to_string)
                    .collect::<Result<Vec<_>, _>>()?
                    .join("\n")
            }
            Format::Csv => self.csv(&recs, layout)?,
            Format::Table => {
                if self.fields.is_empty() {
                    human(v, layout)
                } else {
                    let projected = self.projected(v, rows);
                    let recs: Vec<Value> = Self::records(&projected, rows)
                        .into_iter()
                        .cloned()
                        .collect();
                    table_of(&recs, layout, &self.fields)
                }
            }
        })
    }

    /// Print the document (see [`Output::render`]) on stdout.
    pub fn print(&self, v: &Value, rows: Option<&str>, layout: &Layout) -> anyhow::Result<()> {
        let text = self.render(v, rows, layout)?;
        if !text.is_empty() {
            println!("{text}");
        }
        Ok(())
    }

    fn csv(&self, recs: &[&Value], layout: &Layout) -> anyhow::Result<String> {
        let rows: Vec<Vec<(String, String)>> = recs.iter().map(|r| records::flat(r)).collect();
        let cols = if self.fields.is_empty() {
            records::columns(&rows, layout)
        } else {
            self.fields.clone()
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&cols)?;
        for (r, raw) in rows.iter().zip(recs) {
            w.write_record(cols.iter().map(|c| {
                r.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.clone())
                    .or_else(|| records::at(raw, c).map(cell))
                    .unwrap_or_default()
            }))?;
        }
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(String::from_utf8(bytes)?.trim_end().to_string())
    }
}

/// A value picked by a dotted path, as one cell (nested values as JSON).
fn cell(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => v.to_string(),
        other => records::scalar(other),
    }
}

/// A result as a person reads it: a table for a list of records, `field | value` lines for one
/// record (its lists of records as their own tables after it), text for the rest.
pub fn human(v: &Value, layout: &Layout) -> String {
    match v {
        Value::Null => String::new(),
        Value::Array(items) if items.is_empty() => "(none)".to_string(),
        Value::Array(items) if items.iter().all(Value::is_object) => table_of(items, layout, &[]),
        Value::Array(items) => items
            .iter()
            .map(records::scalar)
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Object(m) => {
            // Lists of records inside a result (a procedure's steps) read better as their own tables.
            let (lists, rest): (Vec<_>, Vec<_>) = m.iter().partition(|(_, x)| {
                matches!(x, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object))
            });
            let mut out = fields_laid_out(
                &Value::Object(
                    rest.into_iter()
                        .map(|(k, x)| (k.clone(), x.clone()))
                        .collect(),
                ),
                layout,
            );
            for (k, x) in lists {
                if let Value::Array(items) = x {
                    out += &format!("\n{k}:\n{}", table_of(items, &layout.list(k), &[]));
                }
            }
            out
        }
        other => records::scalar(other),
    }
}

/// Records as one table at the terminal's width, with a row count; `only` picks the columns.
pub fn table_of(items: &[Value], layout: &Layout, only: &[String]) -> String {
    let rows: Vec<Vec<(String, String)>> = items.iter().map(records::flat).collect();
    let cols = if only.is_empty() {
        records::columns(&rows, layout)
    } else {
        only.to_vec()
    };
    let g = records::grid(&rows, &cols);
    format!(
        "{}\n{} row(s)",
        table::render(&g, table::target_width(), table::paint_stdout()),
        items.len()
    )
}

/// One record as `field | value` lines.
pub fn fields(obj: &Value) -> String {
    fields_laid_out(obj, &Layout::default())
}

/// One record as `field | value` lines, the declared fields first.
fn fields_laid_out(obj: &Value, layout: &Layout) -> String {
    let flat = records::flat(obj);
    let order = records::columns(std::slice::from_ref(&flat), layout);
    let g = table::Grid {
        header: vec!["field".into(), "value".into()],
        rows: order
            .into_iter()
            .filter_map(|c| flat.iter().find(|(k, _)| *k == c).cloned())
            .map(|(k, v)| vec![k, v])
            .collect(),
    };
    table::render(&g, table::target_width(), table::paint_stdout())
}

/// A grid of the producer's own columns (journal runs, preflight rows) at the terminal's width.
pub fn grid(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let g = table::Grid {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows,
    };
    table::render(&g, table::target_width(), table::paint_stdout())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn out(format: Format, fields: &[&str]) -> Output {
        Output {
            format,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn csv_has_the_declared_columns_first_and_nested_ones_dotted() {
        let v = json!([{"status": "available", "number": "+13126170001", "assignee": {"name": "Alice"}}]);
        let text = out(Format::Csv, &[])
            .render(&v, None, &Layout::default())
            .unwrap();
        assert_eq!(
            text,
            "number,status,assignee.name\n+13126170001,available,Alice"
        );
    }

    #[test]
    fn fields_pick_columns_and_refuse_unknown_ones() {
        let v = json!([{"status": "available", "number": "+13126170001"}]);
        let text = out(Format::Csv, &["number"])
            .render(&v, None, &Layout::default())
            .unwrap();
        assert_eq!(text, "number\n+13126170001");
        let e = out(Format::Json, &["nmber"])
            .render(&v, None, &Layout::default())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--fields: no field 'nmber' in this output; fields: number, status"
        );
    }

    #[test]
    fn jsonl_is_one_row_a_line_from_the_rows_list() {
        let v = json!({"summary": {"done": 2}, "rows": [{"line": 2}, {"line": 3}]});
        let text = out(Format::Jsonl, &[])
            .render(&v, Some("rows"), &Layout::default())
            .unwrap();
        assert_eq!(text, "{\"line\":2}\n{\"line\":3}");
    }

    #[test]
    fn yaml_keeps_nesting() {
        let v = json!({"a": {"b": [1, 2]}});
        let text = out(Format::Yaml, &[])
            .render(&v, None, &Layout::default())
            .unwrap();
        assert_eq!(text, "a:\n  b:\n  - 1\n  - 2");
    }
}
