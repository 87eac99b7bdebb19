//! The plan: every write a run will make, computed before the first one is sent.
//!
//! A run first passes its script with reads sent and writes held (dry-run); the writes held are
//! the plan. The operator approves the plan once, then the live pass may send only writes the
//! plan holds: anything else means the state moved between the two passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Impact;

/// What a dry-run write returns where the service would have made up a value (an account sid, a
/// device id). In a plan it stands for whatever value the live pass gets.
pub const PLACEHOLDER: &str = "(dry-run)";

/// A write held by the plan pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedWrite {
    pub seq: u64,
    pub op: String,
    pub impact: Impact,
    pub target: String,
    /// Redacted.
    pub params: Value,
    /// For irreversible writes: what cannot be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<String>,
}

impl PlannedWrite {
    /// Whether the live pass's write `(op, impact, target, params)` is this planned one. A
    /// placeholder in the plan stands for any value the live pass has there.
    pub fn admits(&self, op: &str, impact: Impact, target: &str, params: &Value) -> bool {
        self.op == op
            && self.impact == impact
            && text_admits(&self.target, target)
            && value_admits(&self.params, params)
    }
}

/// `planned` with each placeholder standing for one or more characters.
fn text_admits(planned: &str, live: &str) -> bool {
    let parts: Vec<&str> = planned.split(PLACEHOLDER).collect();
    let (first, after_first) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut rest) = live.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = after_first.split_last() else {
        return rest.is_empty();
    };
    for fixed in middle {
        let skip = rest.chars().next().map_or(0, char::len_utf8);
        let Some(at) = rest
            .get(skip..)
            .filter(|_| skip > 0)
            .and_then(|r| r.find(fixed))
        else {
            return false;
        };
        rest = &rest[skip + at + fixed.len()..];
    }
    rest.len() > last.len() && rest.ends_with(last)
}

fn value_admits(planned: &Value, live: &Value) -> bool {
    match (planned, live) {
        (Value::String(p), Value::String(l)) => text_admits(p, l),
        (Value::String(p), _) if p == PLACEHOLDER => !live.is_null(),
        (Value::Array(p), Value::Array(l)) => {
            p.len() == l.len() && p.iter().zip(l).all(|(a, b)| value_admits(a, b))
        }
        (Value::Object(p), Value::Object(l)) => {
            p.len() == l.len()
                && p.iter()
                    .all(|(k, v)| l.get(k).is_some_and(|lv| value_admits(v, lv)))
        }
        (p, l) => p == l,
    }
}

/// Every write of a run and every question its script asks (`guard::confirm`), in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub writes: Vec<PlannedWrite>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    pub fn len(&self) -> u64 {
        self.writes.len() as u64
    }

    pub fn irreversible(&self) -> u64 {
        self.writes
            .iter()
            .filter(|w| w.impact == Impact::Irreversible)
            .count() as u64
    }

    /// Writes counted by operation: `zoom::assign_number → 3`.
    pub fn by_op(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for w in &self.writes {
            *m.entry(w.op.clone()).or_default() += 1;
        }
        m
    }
}

/// Where a plan will run, as the operator must see it before approving it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanContext {
    /// What runs: a procedure name, a script path, or `call zoom assign_number`.
    pub what: String,
    pub profile: String,
    /// `sandbox` or `real`.
    pub kind: String,
    pub zoom_account: String,
    pub movius_org: Option<String>,
}

/// ANSI styles, or none (`NO_COLOR`, not a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Color,
}

impl Style {
    /// Colour only where a person reads a terminal and has not asked for none (`NO_COLOR`,
    /// `--color never`), or wherever `--color always` asks for it.
    pub fn for_terminal(is_terminal: bool) -> Style {
        if crate::output::color::enabled_on(is_terminal) {
            Style::Color
        } else {
            Style::Plain
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Style::Plain => text.to_string(),
            Style::Color => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

/// `text` in the style irreversible things are shown in.
pub(crate) fn paint(style: Style, text: &str) -> String {
    style.paint("1;31", text)
}

/// The plan as the operator reads it before approving: where it runs, then every write
/// numbered with its operation, target and impact; irreversible ones marked with `!` (and red
/// on a terminal) and what cannot be undone.
pub fn render(plan: &Plan, ctx: &PlanContext, style: Style, width: Option<usize>) -> String {
    let mut s = String::new();
    let org = ctx.movius_org.as_deref().unwrap_or("(none set)");
    let _ = writeln!(s, "Plan for {}", ctx.what);
    let _ = writeln!(
        s,
        "{}",
        wrapped(
            &format!(
                "  profile {} ({}) · Zoom account {} · Movius org {}",
                ctx.profile, ctx.kind, ctx.zoom_account, org
            ),
            width
        )
    );
    if plan.writes.is_empty() {
        let _ = writeln!(s, "  no writes: nothing to change");
    }
    let op_w = plan.writes.iter().map(|w| w.op.len()).max().unwrap_or(0);
    for w in &plan.writes {
        let line = format!("{:>3}. {:op_w$}  {}", w.seq, w.op, w.target);
        // The impact goes under the write when the line would not fit: never cut in a word.
        let label = if w.impact == Impact::Irreversible {
            "IRREVERSIBLE".to_string()
        } else {
            w.impact.to_string()
        };
        let fits = width.is_none_or(|wd| 2 + line.chars().count() + 2 + label.len() <= wd);
        let gap = if fits { "  " } else { "\n        " };
        if w.impact == Impact::Irreversible {
            let _ = writeln!(
                s,
                "{} {}{gap}{}",
                style.paint("1;31", "!"),
                line,
                style.paint("1;31", &label)
            );
            if let Some(u) = &w.undo {
                let _ = writeln!(
                    s,
                    "{}",
                    wrapped(&format!("        cannot be undone: {u}"), width)
                );
            }
        } else {
            let _ = writeln!(s, "  {line}{gap}{label}");
        }
    }
    for q in &plan.questions {
        let _ = writeln!(s, "{}", wrapped(&format!("  the script asks: {q}"), width));
    }
    let _ = write!(
        s,
        "{} write(s), {} irreversible",
        plan.len(),
        plan.irreversible()
    );
    s
}

/// A line of prose in the plan at `width` (a write's own line is never broken: its target reads
/// whole), continuation lines indented under its text.
fn wrapped(line: &str, width: Option<usize>) -> String {
    crate::output::table::wrap_prose(line, width, "  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn w(target: &str, params: Value) -> PlannedWrite {
        PlannedWrite {
            seq: 1,
            op: "zoom::assign_device".into(),
            impact: Impact::Write,
            target: target.into(),
            params,
            undo: None,
        }
    }

    #[test]
    fn a_placeholder_admits_any_live_value_and_nothing_else_moves() {
        let p = w(
            "(dry-run) → ext-1",
            json!({"device_id": "(dry-run)", "ext": ["ext-1"]}),
        );
        let op = "zoom::assign_device";
        let same = json!({"device_id": "dev-9", "ext": ["ext-1"]});
        let cases = [
            (op, Impact::Write, "dev-9 → ext-1", same.clone(), true),
            (op, Impact::Write, "dev-9 → ext-2", same.clone(), false),
            (
                op,
                Impact::Write,
                "dev-9 → ext-1",
                json!({"device_id": "dev-9", "ext": ["ext-2"]}),
                false,
            ),
            (
                op,
                Impact::Irreversible,
                "dev-9 → ext-1",
                same.clone(),
                false,
            ),
            (
                "zoom::add_device",
                Impact::Write,
                "dev-9 → ext-1",
                same.clone(),
                false,
            ),
            // The placeholder stands for something, not for nothing.
            (op, Impact::Write, " → ext-1", same, false),
        ];
        for (op, impact, target, params, want) in cases {
            assert_eq!(
                p.admits(op, impact, target, &params),
                want,
                "{op} {impact} {target} {params}"
            );
        }
    }

    #[test]
    fn without_placeholders_the_target_must_be_the_same() {
        let p = w(
            "+13126170100 → carol@jpmc.example",
            json!({"user": "carol@jpmc.example"}),
        );
        let op = "zoom::assign_device";
        assert!(p.admits(
            op,
            Impact::Write,
            "+13126170100 → carol@jpmc.example",
            &json!({"user": "carol@jpmc.example"})
        ));
        assert!(!p.admits(
            op,
            Impact::Write,
            "+13126170100 → dave@jpmc.example",
            &json!({"user": "carol@jpmc.example"})
        ));
        assert!(text_admits("a (dry-run) b (dry-run)", "a x b y"));
        assert!(!text_admits("a (dry-run) b (dry-run)", "a x b "));
    }

    #[test]
    fn render_names_where_and_marks_irreversible() {
        let plan = Plan {
            writes: vec![
                PlannedWrite {
                    seq: 1,
                    op: "movius::add_account".into(),
                    impact: Impact::Irreversible,
                    target: "+13126170100 in org-zoom".into(),
                    params: json!({}),
                    undo: Some("the number is peered".into()),
                },
                PlannedWrite {
                    seq: 2,
                    op: "zoom::assign_number".into(),
                    impact: Impact::Write,
                    target: "+13126170100 → carol@jpmc.example".into(),
                    params: json!({}),
                    undo: None,
                },
            ],
            questions: vec![],
        };
        let ctx = PlanContext {
            what: "onboard-new-user".into(),
            profile: "prod".into(),
            kind: "real".into(),
            zoom_account: "acc-1".into(),
            movius_org: Some("org-zoom".into()),
        };
        assert_eq!(
            render(&plan, &ctx, Style::Plain, None),
            "Plan for onboard-new-user
  profile prod (real) · Zoom account acc-1 · Movius org org-zoom
!   1. movius::add_account  +13126170100 in org-zoom  IRREVERSIBLE
        cannot be undone: the number is peered
    2. zoom::assign_number  +13126170100 → carol@jpmc.example  write
2 write(s), 1 irreversible"
        );
        assert!(render(&plan, &ctx, Style::Color, None).contains("\x1b[1;31mIRREVERSIBLE\x1b[0m"));
        // On a 44-column terminal: prose wraps at spaces under its text, a write's line keeps
        // its target whole and puts its impact underneath.
        assert_eq!(
            render(&plan, &ctx, Style::Plain, Some(44)),
            "Plan for onboard-new-user
  profile prod (real) · Zoom account acc-1 ·
    Movius org org-zoom
!   1. movius::add_account  +13126170100 in org-zoom
        IRREVERSIBLE
        cannot be undone: the number is
          peered
    2. zoom::assign_number  +13126170100 → carol@jpmc.example
        write
2 write(s), 1 irreversible"
        );
    }
}
