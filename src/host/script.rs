//! A loaded script: its source, header and compiled form; running it with typed parameters; and
//! explaining its errors to the operator.

use std::collections::BTreeMap;
use std::path::Path;

use rhai::{Dynamic, Engine, EvalAltResult, Map, Scope, AST};
use sha2::{Digest, Sha256};

use super::bundle::{self, Origin, Source};
use super::header::{Header, ParamValue};
use super::session::{as_stop, Stop};

/// A compiled script, shareable between threads (bulk workers run the same AST).
#[derive(Clone)]
pub struct Script {
    pub name: String,
    pub header: Header,
    pub ast: AST,
    pub digest: String,
    pub origin: Origin,
}

/// Why a script could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no procedure or file named '{0}' (see `vline procedures`)")]
    NotFound(String),
    #[error("{name}: bad header: {why}")]
    Header { name: String, why: String },
    #[error("{0}")]
    Compile(String),
}

impl Script {
    pub fn load(name: &str, override_dir: Option<&Path>) -> Result<(Source, Header), LoadError> {
        let src = bundle::procedure(name, override_dir)
            .ok_or_else(|| LoadError::NotFound(name.to_string()))?;
        let header = Header::parse(&src.text).map_err(|why| LoadError::Header {
            name: name.to_string(),
            why,
        })?;
        Ok((src, header))
    }

    /// Compile with the declared parameters in scope, so strict variables catch typos.
    pub fn compile(engine: &Engine, src: Source, header: Header) -> Result<Script, LoadError> {
        let mut scope = Scope::new();
        // Declared as variables, not constants: the optimizer would fold a compile-time
        // constant's placeholder value into the script.
        for p in &header.params {
            scope.push(p.name.clone(), Dynamic::UNIT);
        }
        let mut ast = engine
            .compile_with_scope(&scope, &src.text)
            .map_err(|e| LoadError::Compile(format!("{}: {e}", display_name(&src))))?;
        ast.set_source(display_name(&src));
        let digest = hex(&Sha256::digest(src.text.as_bytes()));
        Ok(Script {
            name: src.name,
            header,
            ast,
            digest,
            origin: src.origin,
        })
    }

    /// Run with bound parameters as constants. `extra` adds constants (bulk passes the row).
    pub fn run(
        &self,
        engine: &Engine,
        params: &BTreeMap<String, ParamValue>,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let mut scope = Scope::new();
        for (k, v) in params {
            let d: Dynamic = match v {
                ParamValue::Str(s) => s.clone().into(),
                ParamValue::Bool(b) => (*b).into(),
                ParamValue::Int(i) => (*i).into(),
            };
            scope.push_constant(k.clone(), d);
        }
        for p in &self.header.params {
            if !params.contains_key(&p.name) {
                scope.push_constant(p.name.clone(), Dynamic::UNIT);
            }
        }
        engine.eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast)
    }
}

fn display_name(src: &Source) -> String {
    match &src.origin {
        Origin::Bundled => format!("scripts/{}.rhai", src.name),
        Origin::Override(p) | Origin::File(p) => p.display().to_string(),
        Origin::Command => format!("vline {}", src.name),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A procedure refused because a prerequisite is not met (`vu::block(kind, what, next)`): exit 3,
/// like a guard's refusal. `kind` groups refusals for pre-flight and the journal; no code reads
/// the reason's words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason} Next: {next}")]
pub struct Blocked {
    pub kind: String,
    pub reason: String,
    pub next: String,
}

/// How a script ended badly.
#[derive(Debug)]
pub enum Failure {
    /// A guard refused (exit 3).
    Refused { reason: String, how: String },
    /// The procedure refused: a prerequisite is not met (exit 3).
    Blocked(Blocked),
    /// Ctrl-C.
    Interrupted,
    /// An error: API, script `throw`, runtime or limit (exit 1).
    Error(String),
}

/// Explain a script error for the operator: API errors by their own text, limits by what to do,
/// everything else with file, line and column.
pub fn explain(err: &EvalAltResult) -> Failure {
    if let Some(s) = as_stop(err) {
        return match s {
            Stop::Refused(r) => Failure::Refused {
                reason: r.reason,
                how: r.how_to_proceed,
            },
            Stop::Interrupted => Failure::Interrupted,
        };
    }
    let root = innermost(err);
    if let EvalAltResult::ErrorRuntime(v, _) = root {
        if let Some(m) = v.read_lock::<Map>() {
            let text = |k: &str| m.get(k).map(|v| v.to_string()).unwrap_or_default();
            if m.get("blocked").is_some_and(|b| b.is_string()) {
                return Failure::Blocked(Blocked {
                    kind: text("blocked"),
                    reason: text("reason"),
                    next: text("next"),
                });
            }
        }
    }
    let pos = root.position();
    let place = where_(err);
    // The bundled procedures' own refusals are product messages: where in the stdlib they were
    // thrown helps nobody. Errors in an operator's script keep file, line and column.
    let bundled = place.starts_with("stdlib/") || place.starts_with("scripts/");
    let thrown_text = matches!(root, EvalAltResult::ErrorRuntime(v, _) if v.is_string());
    let at = if pos.is_none() || (bundled && thrown_text) {
        String::new()
    } else {
        format!(" (at {place})")
    };
    let msg = match root {
        EvalAltResult::ErrorRuntime(v, _) if v.is_string() => v.to_string(),
        EvalAltResult::ErrorRuntime(v, _) => match v.read_lock::<Map>() {
            Some(m) if m.contains_key("text") => m.get("text").map(|t| t.to_string()).unwrap_or_default(),
            Some(m) => format!("script threw {}", Dynamic::from(m.clone())),
            None => format!("script error: {v}"),
        },
        EvalAltResult::ErrorTooManyOperations(_) => {
            "the script was stopped after too many operations (an endless loop?); check its loop conditions".to_string()
        }
        EvalAltResult::ErrorTerminated(t, _) if t.is_string() && t.to_string().starts_with(super::engine::LIMIT_STOP) => {
            t.to_string()[super::engine::LIMIT_STOP.len()..].to_string()
        }
        EvalAltResult::ErrorTerminated(t, _) if t.is_string() && t.to_string() == super::engine::MEMORY_STOP => {
            "the script was stopped: it grew past the memory limit of 1 GiB (an array or string growing without end?)".to_string()
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            "the script was stopped: calls nested too deeply (unbounded recursion?)".to_string()
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            format!("the script was stopped: {what} grew past the engine's limit (strings 1 MiB, arrays 1,000,000 items)")
        }
        other => {
            // The position is added once, below, with the file name.
            let text = other.to_string();
            match text.rfind(" (line ") {
                Some(i) if text.ends_with(')') => text[..i].to_string(),
                _ => text,
            }
        }
    };
    Failure::Error(format!("{msg}{at}"))
}

fn innermost(mut e: &EvalAltResult) -> &EvalAltResult {
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
            | EvalAltResult::ErrorInModule(_, inner, _) => e = inner,
            _ => return e,
        }
    }
}

/// `file:line:col` of the innermost error, with the source the engine recorded.
fn where_(e: &EvalAltResult) -> String {
    let mut src = String::new();
    let mut cur = e;
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(_, s, inner, _) => {
                if !s.is_empty() {
                    src = s.clone();
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(m, inner, _) => {
                src = m.clone();
                cur = inner;
            }
            _ => break,
        }
    }
    let pos = cur.position();
    let line = pos.line().unwrap_or(0);
    let col = pos.position().unwrap_or(0);
    if src.is_empty() {
        format!("line {line}, column {col}")
    } else {
        format!("{src}, line {line}, column {col}")
    }
}
