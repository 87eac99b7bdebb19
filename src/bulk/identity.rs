//! A bulk row's identity: its key is the procedure's identifying parameters (`//! key:` in the
//! script's header; every parameter when it declares none), so that `--resume` finds a row
//! wherever it now stands in the file, and a row whose other values changed is told apart from a
//! new one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::host::header::{Header, ParamType, ParamValue};
use crate::journal::{BulkRow, RowStatus};

use super::validate::{bind_row, BoundRow};

/// The key of a bound row: the one identifying value as is (an E.164 number, a lower-cased
/// email), or `name=value` pairs joined by `; ` when there are several.
pub fn row_key(header: &Header, bound: &BoundRow) -> String {
    let names: Vec<&str> = if header.key.is_empty() {
        header.params.iter().map(|p| p.name.as_str()).collect()
    } else {
        header.key.iter().map(String::as_str).collect()
    };
    let value = |name: &str| -> String {
        let email = header.param(name).is_some_and(|p| p.ty == ParamType::Email);
        match bound.get(name) {
            Some(ParamValue::Str(s)) if email => s.to_ascii_lowercase(),
            Some(ParamValue::Str(s)) => s.clone(),
            Some(ParamValue::Bool(b)) => b.to_string(),
            Some(ParamValue::Int(i)) => i.to_string(),
            None => String::new(),
        }
    };
    match names.as_slice() {
        [one] => value(one),
        many => many
            .iter()
            .map(|n| format!("{n}={}", value(n)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The key of one record of the file (`line N` when its key is empty, or it does not bind: it
/// was validated before the run, so only a file edited mid-run gets there).
pub fn record_key(
    header: &Header,
    columns: &[String],
    rec: &csv::StringRecord,
    line: u64,
) -> String {
    let key = bind_row(header, columns, rec)
        .map(|b| row_key(header, &b))
        .unwrap_or_default();
    if key.is_empty() {
        format!("line {line}")
    } else {
        key
    }
}

/// One row of the file, as the run journals it.
pub struct FileRow {
    pub line: u64,
    pub key: String,
    /// The bound parameters as JSON text (what "the row's values" means when comparing).
    pub json: String,
}

/// Call `f` on every row of a validated file, in order.
pub fn for_each_row(
    csv: &Path,
    header: &Header,
    columns: &[String],
    mut f: impl FnMut(FileRow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut rd = super::lines::Records::open(csv)?;
    rd.headers()?;
    let mut rec = csv::StringRecord::new();
    while let Some(line) = rd
        .read(&mut rec)
        .map_err(|(line, e)| anyhow::anyhow!("line {line}: {e}"))?
    {
        let bound = bind_row(header, columns, &rec)
            .map_err(|e| anyhow::anyhow!("line {line}: {}", e.join("; ")))?;
        let mut key = row_key(header, &bound);
        if key.is_empty() {
            key = format!("line {line}");
        }
        f(FileRow {
            line,
            key,
            json: serde_json::to_string(&bound)?,
        })?;
    }
    Ok(())
}

/// SHA-256 (hex) of a file, read in blocks.
pub fn file_digest(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A row whose key the run knows but whose other values differ in this file.
#[derive(Clone, Debug, PartialEq)]
pub struct Changed {
    pub key: String,
    pub line: u64,
    /// (parameter, value in the run, value in the file)
    pub fields: Vec<(String, String, String)>,
}

impl fmt::Display for Changed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} ({}): ", self.line, self.key)?;
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|(n, was, now)| format!("{n} was '{was}' in the run, is '{now}' in the file"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// How the file of this attempt compares with what the run journaled.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Rows of the file the run already did: key → their detail. They are skipped.
    pub done: HashMap<String, String>,
    /// Rows of the file the run has never seen.
    pub new_rows: u64,
    /// Rows of the file the run knows, not done yet (pending, in flight, failed, interrupted):
    /// they run again, and the procedures check state first.
    pub again: u64,
    /// Same key, other values: the attempt is refused whole.
    pub changed: Vec<Changed>,
    /// Rows of the run that are not in the file: (key, status, line in the earlier file).
    pub removed: Vec<(String, RowStatus, u64)>,
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Compare the file with the run's rows, by key.
pub fn compare(
    journaled: Vec<BulkRow>,
    csv: &Path,
    header: &Header,
    columns: &[String],
) -> anyhow::Result<Comparison> {
    let mut known: HashMap<String, BulkRow> =
        journaled.into_iter().map(|r| (r.key.clone(), r)).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut c = Comparison::default();
    for_each_row(csv, header, columns, |row| {
        seen.insert(row.key.clone());
        let Some(before) = known.get(&row.key) else {
            c.new_rows += 1;
            return Ok(());
        };
        let now: BTreeMap<String, Value> = serde_json::from_str(&row.json)?;
        let was = before.row.as_object().cloned().unwrap_or_default();
        let names: std::collections::BTreeSet<&String> = now.keys().chain(was.keys()).collect();
        let fields: Vec<(String, String, String)> = names
            .into_iter()
            .filter(|n| now.get(*n) != was.get(*n))
            .map(|n| (n.clone(), text(was.get(n)), text(now.get(n))))
            .collect();
        if !fields.is_empty() {
            c.changed.push(Changed {
                key: row.key,
                line: row.line,
                fields,
            });
        } else if before.status.is_done() {
            c.done.insert(row.key, before.detail.clone());
        } else {
            c.again += 1;
        }
        Ok(())
    })?;
    known.retain(|k, _| !seen.contains(k));
    let mut removed: Vec<(String, RowStatus, u64)> = known
        .into_values()
        .map(|r| (r.key, r.status, r.line))
        .collect();
    removed.sort_by_key(|r| r.2);
    c.removed = removed;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(extra: &str) -> Header {
        Header::parse(&format!(
            "//! param: phone_number e164 required n\n//! param: user email required u\n{extra}"
        ))
        .unwrap()
    }

    fn bound(n: &str, u: &str) -> BoundRow {
        [
            ("phone_number".to_string(), ParamValue::Str(n.into())),
            ("user".to_string(), ParamValue::Str(u.into())),
        ]
        .into()
    }

    #[test]
    fn the_key_is_the_declared_parameters_else_all_of_them() {
        let b = bound("+13126170100", "Alice@X.com");
        assert_eq!(
            row_key(&header("//! key: phone_number\n"), &b),
            "+13126170100"
        );
        assert_eq!(row_key(&header("//! key: user\n"), &b), "alice@x.com");
        assert_eq!(
            row_key(&header(""), &b),
            "phone_number=+13126170100; user=alice@x.com"
        );
        assert!(
            Header::parse("//! param: a string required a\n//! key: b\n")
                .unwrap_err()
                .contains("key 'b' is not a declared parameter")
        );
    }

    fn row(line: u64, n: &str, u: &str, status: RowStatus) -> BulkRow {
        BulkRow {
            line,
            key: n.into(),
            row: serde_json::json!({"phone_number": n, "user": u}),
            status,
            detail: "done".into(),
            zoom_number_id: None,
            movius_account_id: None,
            first_failure: None,
            attempts: 1,
            duration_ms: None,
        }
    }

    #[test]
    fn rows_are_matched_by_key_wherever_they_moved() {
        let h = header("//! key: phone_number\n");
        let cols = vec!["phone_number".to_string(), "user".to_string()];
        let f = tempfile::NamedTempFile::new().unwrap();
        // A new row on top, the done row moved down, one row changed, one row gone.
        std::fs::write(
            f.path(),
            "phone_number,user\n+13126170109,new@x.com\n+13126170100,a@x.com\n+13126170101,other@x.com\n+13126170102,c@x.com\n",
        )
        .unwrap();
        let journaled = vec![
            row(2, "+13126170100", "a@x.com", RowStatus::Done),
            row(3, "+13126170101", "b@x.com", RowStatus::Done),
            row(4, "+13126170102", "c@x.com", RowStatus::Failed),
            row(5, "+13126170103", "d@x.com", RowStatus::Pending),
        ];
        let c = compare(journaled, f.path(), &h, &cols).unwrap();
        assert_eq!(c.new_rows, 1);
        assert_eq!(c.again, 1);
        assert_eq!(c.done.keys().collect::<Vec<_>>(), vec!["+13126170100"]);
        assert_eq!(
            c.changed,
            vec![Changed {
                key: "+13126170101".into(),
                line: 4,
                fields: vec![("user".into(), "b@x.com".into(), "other@x.com".into())],
            }]
        );
        assert_eq!(
            c.removed,
            vec![("+13126170103".to_string(), RowStatus::Pending, 5)]
        );
    }
}
