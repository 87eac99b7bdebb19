//! The sandbox and the client against Zoom's published specs (`../shared/specs/zoom/`, read at
//! test time: a missing spec file fails the test, it never skips).

use std::path::PathBuf;

use serde_json::Value;
use vline::sandbox::spec;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/specs/zoom")
}

/// A spec document; panics (fails the test) when the file is missing.
pub fn spec_doc(rel: &str) -> Value {
    let p = spec_dir().join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "Zoom spec {} is missing ({e}): the conformance test needs it",
            p.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn phone_spec() -> Value {
    spec_doc("phone-raw-jnolan-ehl/ZoomPhoneAPISpec.json")
}

pub fn users_spec() -> Value {
    spec_doc("folio-sec-terraform-provider-zoom/ZoomUserAPISpec.json")
}

/// The request schemas the sandbox carries are the spec's, as the spec files say today.
/// `VLINE_BLESS=1` rewrites the embedded copy from the spec files.
#[test]
fn the_sandbox_checks_requests_against_the_specs_as_published() {
    let fresh = spec::extract(&phone_spec(), &users_spec()).expect("every operation in its spec");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/sandbox/zoom_requests.json");
    if std::env::var_os("VLINE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let embedded: Value = serde_json::from_str(spec::EMBEDDED).expect("embedded subset is JSON");
    assert!(
        embedded == fresh,
        "src/sandbox/zoom_requests.json differs from the specs in {}: run `VLINE_BLESS=1 cargo test --test it conformance::the_sandbox_checks` and review the diff",
        spec_dir().display()
    );
}

/// The scope table `vline doctor` and README use is the specs' `security` sections, as published.
#[test]
fn the_scope_table_is_the_specs_security_sections() {
    let (phone, users) = (phone_spec(), users_spec());
    let mut diffs = Vec::new();
    for (op, method, path, scopes) in vline::api::zoom::scopes::SCOPES {
        let doc = if path.starts_with("/users") {
            &users
        } else {
            &phone
        };
        let sec = &doc["paths"][*path][method.to_ascii_lowercase()]["security"];
        assert!(
            sec.is_array(),
            "{method} {path} ({op}) has no security section"
        );
        let published: Vec<String> = sec
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["openapi_oauth"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if published
            .iter()
            .map(String::as_str)
            .ne(scopes.iter().copied())
        {
            diffs.push(format!("{op}: table {scopes:?}, spec {published:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
