//! Turning script arguments (strings, maps) into typed values, with errors that name the function
//! and the parameter.

use rhai::{Array, Dynamic, EvalAltResult, Map, Position};
use serde_json::Value;

use crate::api::{Selector, E164};

use super::value::to_json;

/// What a script function returns: its value, or an error the script can catch.
pub type ScriptResult<T> = Result<T, Box<EvalAltResult>>;

/// A script-side argument error (catchable, like any runtime error).
pub fn bad(func: &str, msg: impl std::fmt::Display) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        format!("{func}: {msg}").into(),
        Position::NONE,
    ))
}

pub fn string(func: &str, name: &str, d: &Dynamic) -> ScriptResult<String> {
    if d.is_string() {
        return Ok(d.clone().into_string().unwrap_or_default());
    }
    if let Some(m) = d.read_lock::<Map>() {
        // A value from an earlier call: take its id, email or number, as an admin would expect.
        for k in ["id", "email", "number", "phone_number"] {
            if let Some(v) = m.get(k).filter(|v| v.is_string()) {
                return Ok(v.to_string());
            }
        }
    }
    Err(bad(
        func,
        format!("{name} must be a string, not {}", d.type_name()),
    ))
}

pub fn e164(func: &str, name: &str, d: &Dynamic) -> ScriptResult<E164> {
    let s = string(func, name, d)?;
    E164::parse(&s).map_err(|e| bad(func, format!("{name}: {e}")))
}

pub fn int(func: &str, name: &str, d: &Dynamic) -> ScriptResult<i64> {
    d.as_int()
        .map_err(|t| bad(func, format!("{name} must be an integer, not {t}")))
}

pub fn boolean(func: &str, name: &str, d: &Dynamic) -> ScriptResult<bool> {
    d.as_bool()
        .map_err(|t| bad(func, format!("{name} must be true or false, not {t}")))
}

pub fn map(func: &str, name: &str, d: &Dynamic) -> ScriptResult<Map> {
    d.read_lock::<Map>().map(|m| m.clone()).ok_or_else(|| {
        bad(
            func,
            format!("{name} must be a map like #{{…}}, not {}", d.type_name()),
        )
    })
}

pub fn array(func: &str, name: &str, d: &Dynamic) -> ScriptResult<Array> {
    d.read_lock::<Array>().map(|a| a.clone()).ok_or_else(|| {
        bad(
            func,
            format!("{name} must be an array like […], not {}", d.type_name()),
        )
    })
}

/// A map field as a string, if present and not unit.
pub fn field(m: &Map, k: &str) -> Option<String> {
    m.get(k).filter(|v| !v.is_unit()).map(|v| v.to_string())
}

/// Refuse fields a function does not know, so a typo (`enable_zom`) never silently does nothing.
pub fn only_fields(func: &str, m: &Map, allowed: &[&str]) -> ScriptResult<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(bad(
                func,
                format!("unknown field '{k}' (known: {})", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A Movius account selector from a map (`#{phone_number}|#{account_sid}|#{email}`) or a bare
/// string (a number, an email, or else an account sid).
pub fn selector(func: &str, d: &Dynamic) -> ScriptResult<Selector> {
    if d.is_string() {
        let s = d.clone().into_string().unwrap_or_default();
        let s = s.trim();
        if s.contains('@') {
            return Selector::from_parts(None, None, Some(s)).map_err(|e| bad(func, e));
        }
        if let Ok(n) = E164::parse(s) {
            return Ok(Selector::PhoneNumber(n));
        }
        return Selector::from_parts(None, Some(s), None).map_err(|e| bad(func, e));
    }
    let m = map(func, "sel", d)?;
    let get = |k: &str| field(&m, k);
    Selector::from_parts(
        get("phone_number").as_deref(),
        get("account_sid").as_deref(),
        get("email").as_deref(),
    )
    .map_err(|e| bad(func, e))
}

/// A map as JSON, for journaling and for wire structs.
pub fn json(d: &Dynamic) -> Value {
    to_json(d)
}
