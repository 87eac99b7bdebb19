//! `csv::`: files the operator named, read as maps and written from them.

use super::*;

pub(super) fn module(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(
        m,
        "csv",
        "read",
        ["path: string", "array"],
        move |path: &str| {
            let f = "csv::read";
            if !x.file_granted(Path::new(path)) {
                return Err(bad(f, format!("'{path}' was not named by the operator; pass it as a parameter (e.g. file={path})")));
            }
            let mut rd =
                ::csv::Reader::from_path(path).map_err(|e| bad(f, format!("{path}: {e}")))?;
            let headers = rd
                .headers()
                .map_err(|e| bad(f, format!("{path}: {e}")))?
                .clone();
            let mut out = Array::new();
            for (i, rec) in rd.records().enumerate() {
                let rec = rec.map_err(|e| bad(f, format!("{path} line {}: {e}", i + 2)))?;
                let mut row = Map::new();
                for (h, v) in headers.iter().zip(rec.iter()) {
                    row.insert(h.into(), v.to_string().into());
                }
                out.push(row.into());
            }
            Ok(out)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "csv",
        "write",
        ["path: string", "rows: array", "int"],
        move |path: &str, rows: Array| {
            let f = "csv::write";
            if !x.file_granted(Path::new(path)) {
                return Err(bad(f, format!("'{path}' was not named by the operator; pass it as a parameter (e.g. out={path})")));
            }
            write_csv(path, &rows).map_err(|e| bad(f, format!("{path}: {e}")))?;
            Ok(rows.len() as i64)
        }
    );
    m
}

/// Write maps as CSV with the union of their keys as columns, first-seen order.
pub fn write_csv(path: &str, rows: &[Dynamic]) -> Result<(), String> {
    let json: Vec<Value> = rows.iter().map(to_json).collect();
    let mut cols: Vec<String> = Vec::new();
    for r in &json {
        if let Value::Object(o) = r {
            for k in o.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let mut w = ::csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    w.write_record(&cols).map_err(|e| e.to_string())?;
    for r in &json {
        let rec: Vec<String> = cols
            .iter()
            .map(|c| match r.get(c) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            })
            .collect();
        w.write_record(&rec).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}
