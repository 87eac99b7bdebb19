//! The layers, checked: every `crate::` path in `src/` must point down the graph below, never up
//! or sideways, so that a library module can be read (and tested) without the ones above it.
//!
//! ```text
//! cmd (and cli, its clap definitions)
//!  → {bulk, repl, bench}
//!  → connect                 opens a profile: clients, embedded sandbox, journal
//!  → {host, config}          the Rhai engine | profiles, paths, secrets, naming
//!  → {guard, journal}
//!  → api                     typed clients over api::http; knows no profile
//! sandbox → api's wire types only (never api::http, api::clients or a client)
//! api::http → no client of api (the transport is the bottom of api)
//! logging → nothing          tracing set-up, called by cmd
//! output → nothing           tables, formats, colour: any layer above api may print through it
//! ```
//!
//! `config` may also read the sandbox's demo credentials (the built-in profile points at it).
#![cfg(test)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module and the modules it may import.
const ALLOWED: &[(&str, &[&str])] = &[
    (
        "cmd",
        &[
            "cli", "bench", "bulk", "repl", "connect", "host", "config", "guard", "journal", "api",
            "sandbox", "logging", "output",
        ],
    ),
    (
        "cli",
        &[
            "bulk", "repl", "bench", "connect", "host", "config", "guard", "journal", "api",
            "output",
        ],
    ),
    (
        "bench",
        &[
            "bulk", "connect", "host", "config", "guard", "journal", "api", "sandbox",
        ],
    ),
    (
        "bulk",
        &[
            "connect", "host", "config", "guard", "journal", "api", "output",
        ],
    ),
    (
        "repl",
        &[
            "connect", "host", "config", "guard", "journal", "api", "output",
        ],
    ),
    (
        "connect",
        &["host", "config", "guard", "journal", "api", "sandbox"],
    ),
    ("host", &["guard", "journal", "api", "output"]),
    ("config", &["guard", "api", "sandbox"]),
    ("guard", &["api", "output"]),
    ("journal", &["guard", "api"]),
    ("api", &[]),
    ("sandbox", &["api"]),
    ("logging", &[]),
    ("output", &[]),
];

/// The clients `api` builds on its transport. The transport (`api::http`) is the bottom of `api`
/// and knows none of them; the sandbox knows none of them nor the transport (it shares only
/// the wire).
const CLIENTS: &[&str] = &["api::clients", "api::zoom::client", "api::movius::client"];

/// One `crate::` path found in a file: the file, its line, and the path's words after `crate::`.
#[derive(Debug)]
struct Edge {
    file: PathBuf,
    line: usize,
    path: Vec<String>,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The file's module path from `src/`: `host/modules/zoom.rs` → `[host, modules, zoom]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The `::`-separated words of a path starting at `s` (stops at anything else).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        let w = ident_at(rest);
        if w.is_empty() {
            break;
        }
        rest = &rest[w.len()..];
        out.push(w);
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    out
}

/// The paths of a `{a::b, c}` group starting at `s` (just after the `{`), each with its offset.
fn group(s: &str) -> Vec<(usize, Vec<String>)> {
    let mut depth = 0;
    let mut end = s.len();
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                end = i;
                break;
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    let inner = &s[..end];
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(item(inner, start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(item(inner, start, inner.len()));
    out.retain(|(_, w)| !w.is_empty());
    out
}

fn item(s: &str, start: usize, end: usize) -> (usize, Vec<String>) {
    let piece = &s[start..end];
    let lead = piece.len() - piece.trim_start().len();
    (start + lead, words(piece.trim_start()))
}

/// Every path a file names through `crate::` or `super::`, from the crate root.
fn edges(file: &Path, text: &str, module: &[String]) -> Vec<Edge> {
    let mut out = Vec::new();
    // Whole text, so that a `use crate::{…}` group spread over lines is read whole.
    let starts_line: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let line_of = |at: usize| starts_line.partition_point(|&n| n < at) + 1;
    let mut push = |at: usize, base: &[String], rest: &str| {
        let whole = |path: Vec<String>| base.iter().cloned().chain(path).collect::<Vec<_>>();
        if let Some(g) = rest.strip_prefix('{') {
            let g_at = text.len() - g.len();
            for (offset, path) in group(g) {
                out.push(Edge {
                    file: file.to_path_buf(),
                    line: line_of(g_at + offset),
                    path: whole(path),
                });
            }
        } else {
            let path = words(rest);
            if !path.is_empty() {
                out.push(Edge {
                    file: file.to_path_buf(),
                    line: line_of(at),
                    path: whole(path),
                });
            }
        }
    };
    for (at, _) in text.match_indices("crate::") {
        // `vline_crate::` or `$crate::` are not this crate's root.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        push(at, &[], &text[at + "crate::".len()..]);
    }
    // Each `super::` is one module up from the file's: `super::super::x` in `a/b.rs` is
    // `crate::x`. (An inline `mod` adds a level this does not see; its `super` stays inside
    // the file's own top module, or names no top module at all.)
    for (at, _) in text.match_indices("super::") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut rest = &text[at..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        if let Some(keep) = module.len().checked_sub(up) {
            push(at, &module[..keep], rest);
        }
    }
    out
}

/// Every edge of `src/` that the layers do not allow, as one line each.
fn breaches(root: &Path) -> Vec<String> {
    let tops: BTreeSet<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let mut bad = Vec::new();
    for f in files {
        let rel = f.strip_prefix(root).expect("under src");
        let module = module_path(rel);
        let Some(from) = module.first().map(String::as_str) else {
            continue;
        };
        // The crate root and the binary may name every module; this file names them as text.
        if from == "lib" || from == "main" || from == "layers" {
            continue;
        }
        assert!(
            tops.contains(from),
            "src/{}: module '{from}' is in no layer: add it to ALLOWED in src/layers.rs",
            rel.display()
        );
        let allowed = ALLOWED
            .iter()
            .find(|(m, _)| *m == from)
            .map(|(_, a)| *a)
            .unwrap_or(&[]);
        let text = std::fs::read_to_string(&f).expect("read source");
        let in_transport = module.starts_with(&["api".to_string(), "http".to_string()]);
        for e in edges(rel, &text, &module) {
            let Some(to) = e.path.first().map(String::as_str) else {
                continue;
            };
            let joined = e.path.join("::");
            let reaches = |list: &[&str]| {
                list.iter()
                    .any(|c| joined == *c || joined.starts_with(&format!("{c}::")))
            };
            let below_rule = (in_transport && reaches(CLIENTS))
                || (from == "sandbox" && (reaches(CLIENTS) || reaches(&["api::http"])));
            if !below_rule && (to == from || !tops.contains(to) || allowed.contains(&to)) {
                continue;
            }
            bad.push(format!(
                "src/{}:{}: {from} → crate::{joined}",
                e.file.display(),
                e.line
            ));
        }
    }
    bad
}

#[test]
fn imports_point_down_the_layers() {
    let bad = breaches(&src());
    assert!(
        bad.is_empty(),
        "imports against the layers (see src/layers.rs):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_check_reads_groups_supers_and_paths() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("api")).unwrap();
    std::fs::create_dir_all(root.join("sandbox")).unwrap();
    std::fs::create_dir_all(root.join("host/modules")).unwrap();
    std::fs::create_dir_all(root.join("api/http")).unwrap();
    std::fs::write(
        root.join("api/http/retry.rs"),
        "use super::super::zoom::wire::TokenResponse;\nuse super::super::clients::Clients;\n",
    )
    .unwrap();
    std::fs::write(
        root.join("api/mod.rs"),
        "use crate::{\n    guard::Impact,\n    api::x,\n};\n",
    )
    .unwrap();
    std::fs::write(
        root.join("sandbox/zoom.rs"),
        "use crate::api::zoom::wire::User;\nfn f() { crate::api::http::Transport::new(); }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("host/modules/bulk.rs"),
        "use super::super::super::bulk::map;\nuse super::super::engine;\n",
    )
    .unwrap();
    assert_eq!(
        breaches(root),
        [
            "src/api/http/retry.rs:2: api → crate::api::clients::Clients",
            "src/api/mod.rs:2: api → crate::guard::Impact",
            "src/host/modules/bulk.rs:1: host → crate::bulk::map",
            "src/sandbox/zoom.rs:2: sandbox → crate::api::http::Transport::new",
        ]
    );
}
