//! A script's header: the `//!` lines at its top that say what it is and what it takes.
//!
//! ```text
//! //! title: Onboard a new Zoom Phone user (BAU)
//! //! section: API Mode → Onboard a new Zoom Phone user (BAU steps)
//! //! impact: irreversible
//! //! window: required            (optional; the guide says it needs a maintenance window)
//! //! prereq: the org is allowed and enabled for Zoom
//! //! param: phone_number e164 required  The MultiLine number to onboard
//! //! param: site string optional=Chicago  Zoom Phone site
//! //! key: phone_number           (optional; what identifies a bulk row; default: every param)
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::api::selector::{email_problem, shown};
use crate::api::{Region, E164};
use crate::guard::Impact;

/// The type of a declared parameter; values are checked before the script runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    E164,
    Email,
    String,
    Bool,
    Int,
    /// A file the script may read or write through `csv::` (the only file access a script gets).
    Path,
}

impl FromStr for ParamType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "e164" => ParamType::E164,
            "email" => ParamType::Email,
            "string" => ParamType::String,
            "bool" => ParamType::Bool,
            "int" => ParamType::Int,
            "path" => ParamType::Path,
            other => {
                return Err(format!(
                    "unknown parameter type '{other}' (e164, email, string, bool, int, path)"
                ))
            }
        })
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamType::E164 => "e164",
            ParamType::Email => "email",
            ParamType::String => "string",
            ParamType::Bool => "bool",
            ParamType::Int => "int",
            ParamType::Path => "path",
        })
    }
}

/// One declared parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
    pub required: bool,
    pub default: Option<String>,
    pub help: String,
}

/// Everything the header says.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Header {
    pub title: String,
    pub section: String,
    pub impact: Option<Impact>,
    pub window_required: bool,
    pub prereqs: Vec<String>,
    pub params: Vec<Param>,
    /// The operations the script may write with (`//! writes:`), each with its impact: what a
    /// bulk run confirms up front, and all it may send.
    pub writes: Vec<(String, Impact)>,
    /// The parameters that identify a row of a bulk run (`//! key: phone_number`); empty means
    /// all of them.
    pub key: Vec<String>,
    pub notes: Vec<String>,
    /// How `e164` values without a country code are read: the profile's `default_region`, set
    /// by the command that binds values (`None`: they are refused, never guessed).
    #[serde(skip)]
    pub region: Option<Region>,
}

impl Header {
    /// Whether the script declares that it only reads (`//! impact: read`).
    pub fn declares_read_only(&self) -> bool {
        self.impact == Some(Impact::Read)
    }
}

/// `movius::modify_account irreversible`: an operation of the catalog that changes state, with
/// the catalog's impact unless the header names a higher one (`modify_account` with
/// `enable_zoom: true` is irreversible).
fn parse_write(w: &str) -> Result<(String, Impact), String> {
    let mut words = w.split_whitespace();
    let op = words.next().unwrap_or_default();
    let (m, n) = op.split_once("::").unwrap_or(("", op));
    let doc = super::catalog::CATALOG
        .iter()
        .find(|d| d.module == m && d.name == n)
        .ok_or_else(|| {
            format!("writes: '{op}' is not a function scripts can call (`vline doc` lists them)")
        })?;
    let base = doc.level();
    if !base.changes_state() {
        return Err(format!("writes: {op} only reads"));
    }
    let impact = match words.next() {
        None => base,
        Some("irreversible") => Impact::Irreversible,
        Some("write") => base,
        Some(other) => {
            return Err(format!(
                "writes: '{other}' after {op} is not an impact (write or irreversible)"
            ))
        }
    };
    Ok((op.to_string(), impact))
}

/// Longest `string` value (names, sites, free text).
pub const MAX_TEXT_CHARS: usize = 256;
/// Longest `path` value.
pub const MAX_PATH_CHARS: usize = 4096;

/// A typed parameter value, ready to become a script constant.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Str(String),
    Bool(bool),
    Int(i64),
}

impl Header {
    /// Parse the leading `//!` lines. Unknown keys are kept as notes.
    pub fn parse(source: &str) -> Result<Header, String> {
        let mut h = Header::default();
        let mut key_line = 0;
        for (i, line) in source.lines().enumerate() {
            let Some(rest) = line.trim_start().strip_prefix("//!") else {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            };
            let rest = rest.trim();
            let Some((key, val)) = rest.split_once(':') else {
                h.notes.push(rest.to_string());
                continue;
            };
            let val = val.trim();
            match key.trim() {
                "title" => h.title = val.to_string(),
                "section" => h.section = val.to_string(),
                "impact" => {
                    h.impact = Some(match val {
                        "read" => Impact::Read,
                        "write" => Impact::Write,
                        "irreversible" => Impact::Irreversible,
                        other => {
                            return Err(format!(
                                "line {}: impact '{other}' is not read, write or irreversible",
                                i + 1
                            ))
                        }
                    })
                }
                "window" => h.window_required = val == "required",
                "writes" => {
                    for w in val.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                        h.writes
                            .push(parse_write(w).map_err(|e| format!("line {}: {e}", i + 1))?);
                    }
                }
                "prereq" => h.prereqs.push(val.to_string()),
                "param" => h
                    .params
                    .push(parse_param(val).map_err(|e| format!("line {}: {e}", i + 1))?),
                "key" => {
                    key_line = i + 1;
                    h.key = val
                        .split(',')
                        .map(|k| k.trim().to_string())
                        .filter(|k| !k.is_empty())
                        .collect();
                }
                _ => h.notes.push(rest.to_string()),
            }
        }
        if let Some(k) = h.key.iter().find(|k| h.param(k).is_none()) {
            return Err(format!(
                "line {key_line}: key '{k}' is not a declared parameter"
            ));
        }
        Ok(h)
    }

    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Check `KEY=VALUE` arguments against the declared parameters; every problem at once.
    /// A script without declared parameters takes any `KEY=VALUE` as a string.
    pub fn bind(
        &self,
        args: &[(String, String)],
    ) -> Result<BTreeMap<String, ParamValue>, Vec<String>> {
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (k, v) in args {
            if out.contains_key(k) {
                errors.push(format!("{k} is given twice"));
                continue;
            }
            match self.param(k) {
                Some(p) => match check(p, v, self.region) {
                    Ok(val) => {
                        out.insert(k.clone(), val);
                    }
                    Err(e) => errors.push(e),
                },
                None if self.params.is_empty() => {
                    out.insert(k.clone(), ParamValue::Str(v.clone()));
                }
                None => errors.push(format!(
                    "unknown parameter '{k}' (this script takes: {})",
                    self.params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        for p in &self.params {
            // Given but malformed is already reported; "missing" would only repeat it wrongly.
            if out.contains_key(&p.name) || args.iter().any(|(k, _)| k == &p.name) {
                continue;
            }
            match (&p.default, p.required) {
                (Some(d), _) => match check(p, d, self.region) {
                    Ok(val) => {
                        out.insert(p.name.clone(), val);
                    }
                    Err(e) => errors.push(format!("default of {e}")),
                },
                (None, true) => errors.push(format!(
                    "missing required parameter {}={} ({})",
                    p.name, p.ty, p.help
                )),
                (None, false) => {}
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Help text listing the parameters, as `vline run X --help` prints it.
    pub fn usage(&self, name: &str) -> String {
        let mut s = format!("{name}: {}\n", self.title);
        if !self.section.is_empty() {
            s += &format!("Guide section: {}\n", self.section);
        }
        if let Some(i) = self.impact {
            s += &format!("Impact: {i}\n");
        }
        if self.window_required {
            s += "Needs a maintenance window (or --outside-window \"reason\").\n";
        }
        if !self.prereqs.is_empty() {
            s += "\nPrerequisites (checked before any change):\n";
            for p in &self.prereqs {
                s += &format!("  - {p}\n");
            }
        }
        s += "\nParameters (KEY=VALUE):\n";
        if self.params.is_empty() {
            s += "  (none declared)\n";
        }
        for p in &self.params {
            let req = if p.required {
                "required".to_string()
            } else if let Some(d) = &p.default {
                format!("default {d}")
            } else {
                "optional".into()
            };
            s += &format!(
                "  {:<16} {:<7} {:<16} {}\n",
                p.name,
                p.ty.to_string(),
                req,
                p.help
            );
        }
        for n in &self.notes {
            s += &format!("\n{n}");
        }
        s
    }
}

fn parse_param(val: &str) -> Result<Param, String> {
    // name type required|optional[=default] help…
    let mut parts = val.splitn(4, char::is_whitespace).filter(|s| !s.is_empty());
    let name = parts.next().ok_or("param needs a name")?.to_string();
    let ty: ParamType = parts
        .next()
        .ok_or(format!("param {name} needs a type"))?
        .parse()?;
    let req = parts.next().unwrap_or("optional");
    let (required, default) = match req.split_once('=') {
        Some(("optional", d)) => (false, Some(d.to_string())),
        None if req == "required" => (true, None),
        None if req == "optional" => (false, None),
        _ => {
            return Err(format!(
                "param {name}: '{req}' is not required, optional or optional=DEFAULT"
            ))
        }
    };
    let help = parts.next().unwrap_or("").trim().to_string();
    Ok(Param {
        name,
        ty,
        required,
        default,
        help,
    })
}

/// Check one value against its declared type, bounded before it is looked at: no control
/// characters in any value, numbers by libphonenumber's rules (national forms only with
/// `region`), emails by RFC 5321 and a parser, text and paths with a length cap.
pub fn check(p: &Param, v: &str, region: Option<Region>) -> Result<ParamValue, String> {
    let bad = |why: String| format!("{}=\"{}\": {why}", p.name, shown(v));
    if let Some(c) = v.chars().find(|c| c.is_control()) {
        return Err(bad(format!(
            "contains the control character {c:?}; values are text on one line"
        )));
    }
    match p.ty {
        ParamType::E164 => E164::parse_in(v, region)
            .map(|n| ParamValue::Str(n.to_string()))
            .map_err(|e| format!("{}: {e}", p.name)),
        ParamType::Email => match email_problem(v.trim()) {
            None => Ok(ParamValue::Str(v.trim().to_string())),
            Some(why) => Err(bad(why)),
        },
        ParamType::Bool => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(ParamValue::Bool(true)),
            "false" | "no" | "0" | "off" => Ok(ParamValue::Bool(false)),
            _ => Err(bad("expected true or false".into())),
        },
        ParamType::Int => v
            .trim()
            .parse()
            .map(ParamValue::Int)
            .map_err(|_| bad("expected a whole number".into())),
        ParamType::String | ParamType::Path => {
            let max = if p.ty == ParamType::Path {
                MAX_PATH_CHARS
            } else {
                MAX_TEXT_CHARS
            };
            let n = v.chars().count();
            if n > max {
                Err(bad(format!("is {n} characters long; at most {max}")))
            } else if v.trim().is_empty() && p.required {
                Err(bad("must not be empty".into()))
            } else {
                Ok(ParamValue::Str(v.to_string()))
            }
        }
    }
}

/// Split `KEY=VALUE` arguments.
pub fn split_kv(args: &[String]) -> Result<Vec<(String, String)>, String> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v))
                if !k.trim().is_empty()
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Ok((k.trim().to_string(), v.to_string()))
            }
            _ => Err(format!(
                "'{a}' is not KEY=VALUE (keys are letters, digits and _)"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "//! title: T\n//! section: S\n//! impact: irreversible\n//! window: required\n//! param: phone_number e164 required The number\n//! param: site string optional=Chicago Site\n//! param: dry bool optional\nlet x = 1;\n";

    #[test]
    fn parses_header() {
        let h = Header::parse(SRC).unwrap();
        assert_eq!(h.title, "T");
        assert_eq!(h.impact, Some(Impact::Irreversible));
        assert!(h.window_required);
        assert_eq!(h.params.len(), 3);
        assert_eq!(h.params[1].default.as_deref(), Some("Chicago"));
    }

    #[test]
    fn binds_and_reports_every_problem() {
        let h = Header::parse(SRC).unwrap();
        let ok = h
            .bind(&[("phone_number".into(), "1 312 617 0100".into())])
            .unwrap();
        assert_eq!(ok["phone_number"], ParamValue::Str("+13126170100".into()));
        assert_eq!(ok["site"], ParamValue::Str("Chicago".into()));
        let errs = h
            .bind(&[
                ("phone_number".into(), "12ab".into()),
                ("nope".into(), "1".into()),
                ("dry".into(), "maybe".into()),
            ])
            .unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        let errs = h.bind(&[]).unwrap_err();
        assert!(errs[0].contains("missing required parameter phone_number"));
    }

    #[test]
    fn kv_split() {
        assert_eq!(
            split_kv(&["a=b=c".into()]).unwrap(),
            vec![("a".into(), "b=c".into())]
        );
        assert!(split_kv(&["novalue".into()]).is_err());
        assert!(split_kv(&["a b=c".into()]).is_err());
    }
}
