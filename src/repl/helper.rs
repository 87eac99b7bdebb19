//! The line editor's helper: Tab completion, signature hints, multi-line validation.
//!
//! It sees the evaluator's state only through [`Names`], a snapshot of the scope's variables (and
//! the keys of the maps they hold) and the script functions defined so far, refreshed after each
//! evaluation: completing never waits for a running call.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Map, Scope, AST};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::host::catalog::{self, CATALOG};

use super::meta;

/// Keys of a map value, and of the maps inside it (a few levels deep).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields(pub BTreeMap<String, Fields>);

/// Nested maps deeper than this are not offered: completion stays cheap on big results.
const FIELD_DEPTH: usize = 3;

impl Fields {
    fn of(d: &Dynamic, depth: usize) -> Fields {
        let mut out = BTreeMap::new();
        if depth > 0 {
            if let Some(m) = d.read_lock::<Map>() {
                for (k, v) in m.iter() {
                    out.insert(k.to_string(), Fields::of(v, depth - 1));
                }
            }
        }
        Fields(out)
    }
}

/// What completion knows of the evaluator: variables in scope and script functions.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Variable name → fields when it holds a map, in scope order.
    pub vars: Vec<(String, Fields)>,
    /// Script function name → its parameter list, `(a, b)`.
    pub fns: BTreeMap<String, String>,
}

impl Names {
    /// Take a fresh snapshot of the scope and of the functions defined so far.
    pub fn refresh(&mut self, scope: &Scope, ast: &AST) {
        self.vars.clear();
        for (name, _, value) in scope.iter_raw() {
            // A later `let` of the same name shadows the earlier one.
            self.vars.retain(|(n, _)| n != name);
            self.vars
                .push((name.to_string(), Fields::of(value, FIELD_DEPTH)));
        }
        self.fns = ast
            .iter_functions()
            .map(|f| (f.name.to_string(), format!("({})", f.params.join(", "))))
            .collect();
    }

    fn fields(&self, path: &str) -> Option<&Fields> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut cur = &self.vars.iter().rev().find(|(n, _)| n == first)?.1;
        for p in parts {
            cur = cur.0.get(p)?;
        }
        Some(cur)
    }
}

/// Shared between the editor (reads) and the evaluator loop (refreshes).
pub type SharedNames = Arc<Mutex<Names>>;

/// The rustyline helper.
pub struct ReplHelper {
    names: SharedNames,
    color: bool,
}

impl ReplHelper {
    pub fn new(names: SharedNames, color: bool) -> ReplHelper {
        ReplHelper { names, color }
    }

    fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Candidates for the word that ends at `pos`: `(start, candidates)`.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<Pair>) {
        let before = &line[..pos];
        if let Some(rest) = before.strip_prefix(':') {
            return meta_candidates(rest);
        }
        let sc = scan(before);
        if sc.in_string || sc.in_comment {
            return (pos, Vec::new());
        }
        let start = token_start(before);
        let tok = &before[start..];
        if let Some((path, prefix)) = tok.rsplit_once('.') {
            if path.contains("::") {
                return (pos, Vec::new());
            }
            let names = self.names();
            let Some(fields) = names.fields(path) else {
                return (pos, Vec::new());
            };
            let found = fields
                .0
                .keys()
                .filter(|k| k.starts_with(prefix))
                .map(|k| pair(k, k))
                .collect();
            return (pos - prefix.len(), found);
        }
        if let Some((module, prefix)) = tok.rsplit_once("::") {
            let found = CATALOG
                .iter()
                .filter(|d| d.module == module && d.name.starts_with(prefix))
                .map(|d| pair(d.name, &d.qualified()))
                .collect();
            return (start, found);
        }
        if tok.is_empty() {
            return (pos, Vec::new());
        }
        let names = self.names();
        let mut out: Vec<Pair> = Vec::new();
        for (v, _) in names.vars.iter().rev() {
            if v.starts_with(tok) {
                out.push(pair(v, v));
            }
        }
        for f in names.fns.keys() {
            if f.starts_with(tok) {
                out.push(pair(f, &format!("{f}(")));
            }
        }
        for m in catalog::modules() {
            if m.starts_with(tok) {
                out.push(pair(&format!("{m}::"), &format!("{m}::")));
            }
        }
        for k in KEYWORDS {
            if k.starts_with(tok) && *k != tok {
                out.push(pair(k, k));
            }
        }
        (start, out)
    }

    /// The hint for a line whose cursor is at its end.
    pub fn hint_for(&self, line: &str) -> Option<ReplHint> {
        if line.starts_with(':') {
            return None;
        }
        let sc = scan(line);
        if sc.in_string || sc.in_comment {
            return None;
        }
        if let Some(&(_, at)) = sc.open.iter().rev().find(|(c, _)| *c == '(') {
            let name = &line[token_start(&line[..at])..at];
            return self.signature(name).map(|s| ReplHint {
                display: format!("  {s}"),
                completion: None,
            });
        }
        // A unique function name being typed: show the rest; → accepts it.
        let tok = &line[token_start(line)..];
        if let Some((module, prefix)) = tok.rsplit_once("::") {
            if prefix.is_empty() {
                return None;
            }
            let mut it = CATALOG
                .iter()
                .filter(|d| d.module == module && d.name.starts_with(prefix));
            if let (Some(d), None) = (it.next(), it.next()) {
                let rest = &d.name[prefix.len()..];
                if !rest.is_empty() {
                    return Some(ReplHint {
                        display: rest.to_string(),
                        completion: Some(rest.to_string()),
                    });
                }
            }
        }
        None
    }

    /// `(user: string, …) -> array` for a catalog function, `(a, b)` for a script one.
    pub fn signature(&self, name: &str) -> Option<String> {
        if let Some((m, n)) = name.split_once("::") {
            let d = catalog::find(name)
                .into_iter()
                .find(|d| d.module == m && d.name == n)?;
            return Some(d.signature[d.qualified().len()..].to_string());
        }
        self.names().fns.get(name).cloned()
    }
}

/// Modules a script can call, in catalog order.
const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "break", "continue",
    "return", "throw", "try", "catch", "true", "false", "print", "type_of",
];

fn pair(display: &str, replacement: &str) -> Pair {
    Pair {
        display: display.to_string(),
        replacement: replacement.to_string(),
    }
}

fn meta_candidates(rest: &str) -> (usize, Vec<Pair>) {
    match rest.split_once(' ') {
        None => {
            let found = meta::COMMANDS
                .iter()
                .filter(|(c, _)| c.starts_with(rest))
                .map(|(c, _)| pair(c, c))
                .collect();
            (1, found)
        }
        Some((cmd, args)) => {
            let start = 1 + cmd.len() + 1 + args.rfind(' ').map(|i| i + 1).unwrap_or(0);
            let word = &args[args.rfind(' ').map(|i| i + 1).unwrap_or(0)..];
            let first_arg = !args.contains(' ');
            let words: Vec<String> = match cmd {
                "help" if first_arg => catalog::modules()
                    .into_iter()
                    .map(str::to_string)
                    .chain(CATALOG.iter().map(|d| d.qualified()))
                    .collect(),
                "run" if first_arg => crate::host::bundle::procedure_names()
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                "write" | "json" if first_arg => vec!["on".into(), "off".into()],
                _ => Vec::new(),
            };
            (
                start,
                words
                    .iter()
                    .filter(|w| w.starts_with(word))
                    .map(|w| pair(w, w))
                    .collect(),
            )
        }
    }
}

/// Where the identifier-ish word (`zoom::as`, `acct.enable`) ending at the cursor starts.
fn token_start(before: &str) -> usize {
    before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | ':' | '.'))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(before.len())
}

/// What is still open at the end of a piece of Rhai source.
#[derive(Debug, Default, PartialEq)]
pub struct Scan {
    /// Unclosed brackets with their byte offsets, outermost first.
    pub open: Vec<(char, usize)>,
    pub in_string: bool,
    pub in_comment: bool,
}

/// A small lexer: enough to tell brackets in code from those in strings and comments.
pub fn scan(src: &str) -> Scan {
    #[derive(PartialEq)]
    enum St {
        Code,
        Str(char),
        Line,
        Block(u32),
    }
    let mut st = St::Code;
    let mut open = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match st {
            St::Code => match c {
                '"' | '`' | '\'' => st = St::Str(c),
                '/' if it.peek().map(|p| p.1) == Some('/') => st = St::Line,
                '/' if it.peek().map(|p| p.1) == Some('*') => {
                    it.next();
                    st = St::Block(1);
                }
                '(' | '[' | '{' => open.push((c, i)),
                ')' | ']' | '}' => {
                    // `#{` opens a map; a stray closer is left for the compiler to report.
                    let want = match c {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    if open.last().map(|o| o.0) == Some(want) {
                        open.pop();
                    }
                }
                _ => {}
            },
            St::Str(q) => match c {
                '\\' if q != '`' => {
                    it.next();
                }
                _ if c == q => st = St::Code,
                _ => {}
            },
            St::Line => {
                if c == '\n' {
                    st = St::Code;
                }
            }
            St::Block(depth) => {
                if c == '*' && it.peek().map(|p| p.1) == Some('/') {
                    it.next();
                    st = if depth == 1 {
                        St::Code
                    } else {
                        St::Block(depth - 1)
                    };
                } else if c == '/' && it.peek().map(|p| p.1) == Some('*') {
                    it.next();
                    st = St::Block(depth + 1);
                }
            }
        }
    }
    Scan {
        open,
        in_string: matches!(st, St::Str(_)),
        in_comment: matches!(st, St::Block(_)),
    }
}

/// A hint shown after the cursor; only name completions can be accepted (→).
pub struct ReplHint {
    display: String,
    completion: Option<String>,
}

impl Hint for ReplHint {
    fn display(&self) -> &str {
        &self.display
    }
    fn completion(&self) -> Option<&str> {
        self.completion.as_deref()
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(self.candidates(line, pos))
    }
}

impl Hinter for ReplHelper {
    type Hint = ReplHint;
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<ReplHint> {
        if pos < line.len() {
            return None;
        }
        self.hint_for(line)
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim_start().starts_with(':') {
            return Ok(ValidationResult::Valid(None));
        }
        let sc = scan(input);
        if sc.open.is_empty() && !sc.in_string && !sc.in_comment {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ReplHelper {
        ReplHelper::new(Arc::new(Mutex::new(Names::default())), false)
    }

    fn replacements(h: &ReplHelper, line: &str) -> (usize, Vec<String>) {
        let (start, c) = h.candidates(line, line.len());
        (start, c.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn completes_functions_in_catalog_order_modules_and_meta_commands() {
        let h = helper();
        let (start, c) = replacements(&h, "let r = zoom::as");
        assert_eq!(start, 8);
        assert_eq!(c[0], "zoom::assign_number");
        assert!(c.contains(&"zoom::assign_device".to_string()));
        assert_eq!(replacements(&h, "zo").1, vec!["zoom::"]);
        assert_eq!(replacements(&h, ":wr").1, vec!["write"]);
        assert_eq!(replacements(&h, ":write o").1, vec!["on", "off"]);
        assert!(replacements(&h, ":help zoom::assign_n").1 == vec!["zoom::assign_number"]);
        assert!(
            replacements(&h, "\"zoom::as").1.is_empty(),
            "nothing inside a string"
        );
    }

    #[test]
    fn completes_variables_and_fields_of_maps_in_scope() {
        let h = helper();
        let engine = rhai::Engine::new();
        let mut scope = Scope::new();
        let ast = engine
            .compile_with_scope(&scope, "let acct = #{enable_zoom: true, email: \"a@b\", org: #{id: 1}}; fn twice(x) { x * 2 }")
            .unwrap();
        engine.run_ast_with_scope(&mut scope, &ast).unwrap();
        h.names.lock().unwrap().refresh(&scope, &ast);
        assert_eq!(
            replacements(&h, "acct.e"),
            (5, vec!["email".into(), "enable_zoom".into()])
        );
        assert_eq!(replacements(&h, "x = acct.org.").1, vec!["id"]);
        assert_eq!(replacements(&h, "ac").1, vec!["acct"]);
        assert_eq!(replacements(&h, "twi").1, vec!["twice("]);
        assert_eq!(h.signature("twice").as_deref(), Some("(x)"));
    }

    #[test]
    fn hints_the_signature_inside_a_call() {
        let h = helper();
        let hint = h.hint_for("zoom::assign_number(").unwrap();
        assert_eq!(
            hint.display(),
            "  (user: string, number: string|map|array) -> array"
        );
        assert!(hint.completion().is_none());
        let inner = h.hint_for("zoom::numbers(#{type: ").unwrap();
        assert!(inner.display().contains("(q: map) -> array"));
        let rest = h.hint_for("zoom::assign_n").unwrap();
        assert_eq!(rest.completion(), Some("umber"));
        assert!(h.hint_for("zoom::numbers()").is_none());
    }

    #[test]
    fn open_brackets_strings_and_comments_continue_the_input() {
        assert!(!scan("fn f(x) {\n x + 1").open.is_empty());
        assert!(scan("fn f(x) { x + 1 }").open.is_empty());
        assert!(scan("let s = \"a(b").in_string);
        assert!(scan("let s = \"a(b\"; s").open.is_empty());
        assert!(scan("let s = `line\n").in_string);
        assert!(scan("/* (").in_comment);
        assert!(scan("1 // (").open.is_empty());
        assert!(scan("#{a: [1, 2], b: \"}\"}").open.is_empty());
        assert!(scan("'(' + \"\\\"(\"").open.is_empty());
    }
}
