//! `e164::`: phone numbers read as operator input.

use super::*;

/// `e164::` reads numbers as operator input: with the profile's `default_region`, national forms
/// are that region's numbers; without one they are refused (the same rules as parameters).
pub(super) fn module(region: Option<crate::api::Region>) -> Module {
    let mut m = Module::new();
    reg!(
        m,
        "e164",
        "parse",
        ["s: string", "string"],
        move |s: &str| -> ScriptResult<String> {
            E164::parse_in(s, region)
                .map(|n| n.to_string())
                .map_err(|e| bad("e164::parse", e))
        }
    );
    reg!(
        m,
        "e164",
        "digits",
        ["s: string", "string"],
        move |s: &str| -> ScriptResult<String> {
            E164::parse_in(s, region)
                .map(|n| n.digits().to_string())
                .map_err(|e| bad("e164::digits", e))
        }
    );
    m
}
