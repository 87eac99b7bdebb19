//! Validate a whole CSV against a procedure's declared parameters before the first call:
//! missing columns, malformed values, duplicate numbers and users. A bad file is refused whole,
//! every bad line listed by its physical line in the file (blank lines and newlines inside quoted
//! fields counted, as an editor shows them).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use crate::host::header::{check, Header, ParamType, ParamValue};

/// Longest cell of any column, parameter or not (a parameter's own type may allow less).
pub const MAX_CELL_CHARS: usize = 4096;

/// One problem, at a 1-based physical line of the file (the header is line 1).
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
                (Some(d), _) => match check(p, d, header.region) {
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
        match check(p, cell, header.region) {
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
    let mut rd = super::lines::Records::open(path)
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
    let mut check_one =
        |line: u64,
         rec: &csv::StringRecord,
         problems: &mut Vec<Problem>,
         push: &mut dyn FnMut(&mut Vec<Problem>, u64, String)| {
            let c = check_row(header, &columns, &unique, rec);
            for m in c.problems {
                push(problems, line, m);
            }
            // Duplicates are checked per column, so a bad cell elsewhere in the row hides none.
            for (k, v) in c.keys.into_iter().enumerate() {
                let Some(v) = v else { continue };
                let key = (k, v.to_ascii_lowercase());
                if let Some(first) = seen.get(&key) {
                    push(
                        problems,
                        line,
                        format!("{} {v} duplicates line {first}", unique[k]),
                    );
                } else {
                    seen.insert(key, line);
                }
            }
        };
    loop {
        let line = match rd.read(&mut rec) {
            Ok(None) => break,
            Ok(Some(line)) => line,
            Err((line, e)) => {
                push(
                    &mut problems,
                    line,
                    format!("unreadable row: {}", one_line(&e.to_string())),
                );
                continue;
            }
        };
        rows += 1;
        check_one(line, &rec, &mut problems, &mut push);
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

/// What one row's check found: its problems, and per unique column its value (for duplicates).
#[derive(Default)]
struct RowCheck {
    problems: Vec<String>,
    keys: Vec<Option<String>>,
}

fn check_row(
    header: &Header,
    columns: &[String],
    unique: &[&str],
    rec: &csv::StringRecord,
) -> RowCheck {
    let mut problems = Vec::new();
    // A carried column (not a parameter, whose own check bounds it) is bounded text too: it
    // may hold quoted line breaks and tabs (a note), no other control character.
    for (i, cell) in rec.iter().enumerate() {
        let col = columns.get(i).map(String::as_str).unwrap_or("?");
        if header.param(col).is_some() {
            continue;
        }
        let text = |c: &char| matches!(c, '\n' | '\r' | '\t');
        if let Some(c) = cell.chars().find(|c| c.is_control() && !text(c)) {
            problems.push(format!(
                "column {col}: contains the control character {c:?}"
            ));
        } else if cell.len() > MAX_CELL_CHARS && cell.chars().count() > MAX_CELL_CHARS {
            problems.push(format!(
                "column {col}: {} characters; a cell has at most {MAX_CELL_CHARS}",
                cell.chars().count()
            ));
        }
    }
    let bound = bind_row(header, columns, rec);
    if let Err(errs) = &bound {
        problems.extend(errs.iter().map(|e| format!("column {e}")));
    }
    let keys = unique
        .iter()
        .map(|name| {
            let p = header.param(name)?;
            let value = match &bound {
                Ok(b) => b.get(*name).cloned()?,
                Err(_) => {
                    let cell = columns
                        .iter()
                        .position(|c| c == name)
                        .and_then(|i| rec.get(i))
                        .map(str::trim)
                        .unwrap_or("");
                    if cell.is_empty() {
                        return None;
                    }
                    check(p, cell, header.region).ok()?
                }
            };
            match value {
                ParamValue::Str(v) => Some(v),
                _ => None,
            }
        })
        .collect();
    RowCheck { problems, keys }
}

/// The csv crate's messages can span lines; a refusal lists one line per problem.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
    fn lines_are_physical_after_blank_lines_and_quoted_newlines() {
        let f = file("phone_number,user,note\n\n+13126170100,a@x.com,\"two\nlines\"\n\r\n\n+13126170101,b@x.com,ok\0\n+1312617011,c@x.com,x\n");
        let r = validate(f.path(), &header()).unwrap_err();
        let got: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            got,
            vec![
                "line 7: column note: contains the control character '\\0'".to_string(),
                "line 8: column phone_number: '+1312617011' is not a valid phone number: it has 9 digits after the country code +1; numbers of +1 (US) have 10".to_string(),
            ],
            "{r}"
        );
    }

    #[test]
    fn national_numbers_follow_the_region() {
        let f = file("phone_number,user\n(312) 617-0100,a@x.com\n");
        let r = validate(f.path(), &header()).unwrap_err();
        assert!(
            r.problems[0]
                .message
                .contains("did you mean +13126170100? set default_region = \"US\""),
            "{r}"
        );
        let mut h = header();
        h.region = Some("US".parse().unwrap());
        validate(f.path(), &h).unwrap();
    }

    #[test]
    fn ragged_row() {
        let f = file("phone_number,user\n+13126170100\n");
        let r = validate(f.path(), &header()).unwrap_err();
        assert_eq!(r.problems[0].line, 2, "{r}");
    }
}
