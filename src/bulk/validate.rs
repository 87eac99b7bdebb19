//! Validate a whole CSV against a procedure's declared parameters before the first call:
//! missing columns, malformed values, duplicate numbers and users. A bad file is refused whole,
//! every bad line listed.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use crate::host::header::{check, Header, ParamType, ParamValue};

/// One problem, at a 1-based line of the file (the header is line 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// What a valid file holds, without keeping its rows in memory.
#[derive(Clone, Debug)]
pub struct Summary {
    pub rows: u64,
    pub columns: Vec<String>,
    /// Columns that are not parameters of the procedure: carried to the results, not used.
    pub ignored_columns: Vec<String>,
}

/// The file was refused: every problem found (up to a cap) and how many there were.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub problems: Vec<Problem>,
    pub total: u64,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the CSV was refused whole ({} problem(s)); nothing was sent:",
            self.total
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        if self.total > self.problems.len() as u64 {
            writeln!(
                f,
                "  … and {} more",
                self.total - self.problems.len() as u64
            )?;
        }
        write!(f, "Fix the file and run again.")
    }
}

const MAX_LISTED: usize = 200;

/// One row bound to the procedure's parameters.
pub type BoundRow = BTreeMap<String, ParamValue>;

/// Bind one CSV record to the parameters (used by validation and by the run itself).
pub fn bind_row(
    header: &Header,
    columns: &[String],
    record: &csv::StringRecord,
) -> Result<BoundRow, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut errs = Vec::new();
    for p in &header.params {
        let cell = columns
            .iter()
            .position(|c| c == &p.name)
            .and_then(|i| record.get(i))
            .map(str::trim)
            .unwrap_or("");
        if cell.is_empty() {
            match (&p.default, p.required) {
                (Some(d), _) => match check(p, d) {
                    Ok(v) => {
                        out.insert(p.name.clone(), v);
                    }
                    Err(e) => errs.push(e),
                },
                (None, true) => errs.push(format!("{} is empty ({} required)", p.name, p.ty)),
                (None, false) => {}
            }
            continue;
        }
        match check(p, cell) {
            Ok(v) => {
                out.insert(p.name.clone(), v);
            }
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// Read the whole file once; keep only what duplicate detection needs.
pub fn validate(path: &Path, header: &Header) -> Result<Summary, Refusal> {
    let refuse = |m: String| Refusal {
        problems: vec![Problem {
            line: 0,
            message: m,
        }],
        total: 1,
    };
    let mut rd = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| refuse(format!("{}: {e}", path.display())))?;
    let columns: Vec<String> = rd
        .headers()
        .map_err(|e| refuse(format!("{}: header row: {e}", path.display())))?
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    let mut problems = Vec::new();
    let mut total = 0u64;
    let mut push = |problems: &mut Vec<Problem>, line: u64, message: String| {
        total += 1;
        if problems.len() < MAX_LISTED {
            problems.push(Problem { line, message });
        }
    };
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            push(&mut problems, 1, format!("column '{c}' appears twice"));
        }
    }
    for p in header
        .params
        .iter()
        .filter(|p| p.required && p.default.is_none())
    {
        if !columns.contains(&p.name) {
            push(
                &mut problems,
                1,
                format!(
                    "missing column '{}' ({}: {}); columns are: {}",
                    p.name,
                    p.ty,
                    p.help,
                    columns.join(", ")
                ),
            );
        }
    }
    let ignored: Vec<String> = columns
        .iter()
        .filter(|c| header.param(c).is_none())
        .cloned()
        .collect();
    // Numbers and users must be unique: two rows for one number would race each other.
    let unique: Vec<&str> = header
        .params
        .iter()
        .filter(|p| matches!(p.ty, ParamType::E164 | ParamType::Email))
        .map(|p| p.name.as_str())
        .collect();
    let mut seen: HashMap<(usize, String), u64> = HashMap::new();
    let mut rows = 0u64;
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rd.position().line();
        match rd.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let l = e.position().map(|p| p.line()).unwrap_or(line);
                push(&mut problems, l, format!("unreadable row: {e}"));
                continue;
            }
        }
        rows += 1;
        let line = rec.position().map(|p| p.line()).unwrap_or(line);
        if let Err(errs) = bind_row(header, &columns, &rec) {
            for e in errs {
                push(&mut problems, line, e);
            }
        }
        // Duplicates are checked per column, so a bad cell elsewhere in the row hides none.
        for (k, name) in unique.iter().enumerate() {
            let Some(p) = header.param(name) else {
                continue;
            };
            let cell = columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .unwrap_or("");
            if cell.is_empty() {
                continue;
            }
            if let Ok(ParamValue::Str(v)) = check(p, cell) {
                let key = (k, v.to_ascii_lowercase());
                if let Some(first) = seen.get(&key) {
                    push(
                        &mut problems,
                        line,
                        format!("{name} {v} duplicates line {first}"),
                    );
                } else {
                    seen.insert(key, line);
                }
            }
        }
    }
    if rows == 0 && problems.is_empty() {
        push(
            &mut problems,
            0,
            format!("{} has a header but no rows", path.display()),
        );
    }
    if problems.is_empty() {
        Ok(Summary {
            rows,
            columns,
            ignored_columns: ignored,
        })
    } else {
        Err(Refusal { problems, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header::parse("//! param: phone_number e164 required n\n//! param: user email required u\n//! param: site string optional=Chicago s\n").unwrap()
    }

    fn file(s: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), s).unwrap();
        f
    }

    #[test]
    fn valid_file() {
        let f = file("phone_number,user,dept\n+13126170100,a@x.com,ops\n13126170101,b@x.com,ops\n");
        let s = validate(f.path(), &header()).unwrap();
        assert_eq!(s.rows, 2);
        assert_eq!(s.ignored_columns, vec!["dept"]);
    }

    #[test]
    fn every_bad_line_listed() {
        let f = file("phone_number,user\n+13126170100,a@x.com\nabc,b@x.com\n+13126170100,c@x.com\n13126170102,nope\n13126170103,A@x.com\n+13126170102,bad\n");
        let r = validate(f.path(), &header()).unwrap_err();
        let lines: Vec<u64> = r.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 7], "{r}");
        assert!(r.to_string().contains("duplicates line 2"), "{r}");
    }

    #[test]
    fn missing_column() {
        let f = file("number,user\n+13126170100,a@x.com\n");
        let r = validate(f.path(), &header()).unwrap_err();
        assert!(
            r.problems[0]
                .message
                .contains("missing column 'phone_number'"),
            "{r}"
        );
    }

    #[test]
    fn ragged_row() {
        let f = file("phone_number,user\n+13126170100\n");
        let r = validate(f.path(), &header()).unwrap_err();
        assert_eq!(r.problems[0].line, 2, "{r}");
    }
}
