//! Registers `movius::`, `carrier::`, `zoom::`, `guard::`, `csv::`, `log::` and `e164::` into an
//! engine. Every service function goes through `Session::op`, which applies the guardrails; its
//! impact level comes from the catalog, so a new function cannot forget it.

use std::path::Path;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, FuncRegistration, Map, Module};
use serde_json::{json, Value};

use crate::api::movius::wire::AddAccount;
use crate::api::movius::{CdrQuery, UserListQuery};
use crate::api::zoom::wire::{
    AddDevice, CreateAction, CreateUser, InternalNumber, NewUserInfo, NumberRef, PhoneUserPatch,
};
use crate::api::zoom::{NumberQuery, NumberType};
use crate::api::{ApiError, E164};
use crate::guard::Impact;

use super::args::{self, bad, field, only_fields, ScriptResult};
use super::catalog::{self, FnDoc};
use super::session::{api_error, stop, Change, Session, Stop};
use super::value::{from_json, to_dynamic, to_json};

fn doc(module: &str, name: &str) -> &'static FnDoc {
    catalog::CATALOG
        .iter()
        .find(|d| d.module == module && d.name == name)
        .unwrap_or_else(|| panic!("{module}::{name} is registered but has no catalog entry"))
}

/// A change whose impact level is the catalog's for `op` (`zoom::assign_number`).
fn change<'a>(op: &'a str, target: impl Into<String>, params: Value) -> Change<'a> {
    let (m, n) = op.split_once("::").unwrap_or(("", op));
    Change {
        op,
        impact: impact(m, n),
        target: target.into(),
        params,
        undo: None,
    }
}

fn impact(module: &str, name: &str) -> Impact {
    doc(module, name).level()
}

/// The catalog doc as Rhai doc comments (the REPL and metadata read them back).
fn comments(d: &FnDoc) -> Vec<String> {
    let mut c = vec![format!("/// {}", d.signature)];
    if let Some(i) = d.impact {
        c.push(format!("/// impact: {i}"));
    }
    c.extend(d.doc.lines().map(|l| format!("/// {l}")));
    c
}

/// A function's registration with its catalog doc: every module registers through this, so a
/// function without a catalog entry cannot be registered.
pub fn registration(module: &str, name: &str, params: &[&str]) -> FuncRegistration {
    let d = doc(module, name);
    FuncRegistration::new(name)
        .in_global_namespace()
        .with_volatility(true)
        .with_params_info(params)
        .with_comments(comments(d))
}

macro_rules! reg {
    ($m:ident, $module:literal, $name:literal, [$($p:literal),*], $f:expr) => {
        registration($module, $name, &[$($p),*]).set_into_module(&mut $m, $f);
    };
}

/// A read with no argument, straight to the client: `zoom::users()`.
macro_rules! read0 {
    ($m:ident, $s:ident, $module:literal, $name:literal, $ret:literal, $svc:ident . $op:ident) => {{
        let x = $s.clone();
        reg!($m, $module, $name, [$ret], move || x
            .read(|| x.clients.$svc.$op()));
    }};
}

/// A read with one string argument, straight to the client: `zoom::user(id_or_email)`.
macro_rules! read1 {
    ($m:ident, $s:ident, $module:literal, $name:literal, $param:literal, $ret:literal, $svc:ident . $op:ident) => {{
        let x = $s.clone();
        reg!($m, $module, $name, [$param, $ret], move |a: &str| x
            .read(|| x.clients.$svc.$op(a)));
    }};
}

/// A write, registered: the closure `|x, f, args…| { checks }` gets the session `x`, the qualified
/// name `f` and the script's arguments; its checks run first (a bad argument fails before anything
/// is planned or sent). Then `change:` says what the write changes (`change(f, target, params)`
/// takes the catalog's impact), `dry_run:` what a dry run answers in the service's place, and
/// `send:` the call, made only when the guard lets it through; the guard and the journal see every
/// write the same way. A function declared to return `()` returns unit in a dry run too.
macro_rules! write_fn {
    ($m:ident, $s:ident, $module:literal, $name:literal, [$($p:literal),*] -> $ret:literal,
     |$x:ident, $f:ident $(, $a:ident : $t:ty)*| { $($checks:tt)* }
     change: $change:expr, dry_run: $dry:expr, send: $send:expr $(,)?) => {{
        let $x = $s.clone();
        reg!($m, $module, $name, [$($p,)* $ret], move |$($a: $t),*| -> ScriptResult<Dynamic> {
            let $f = concat!($module, "::", $name);
            $($checks)*
            let change: Change<'_> = $change;
            let dry: Value = $dry;
            let answer = $x.write(change, move || dry, || $send)?;
            Ok(if $ret == "()" { Dynamic::UNIT } else { answer })
        });
    }};
}

mod carrier;
mod csv;
mod e164;
mod guard;
mod log;
mod movius;
mod profile;
mod time;
mod zoom;

pub use self::csv::write_csv;

/// Register every module on `engine`, bound to `s`.
pub fn register_all(engine: &mut Engine, s: &Arc<Session>) {
    engine.register_static_module("movius", movius::module(s).into());
    engine.register_static_module("carrier", carrier::module(s).into());
    engine.register_static_module("zoom", zoom::module(s).into());
    engine.register_static_module("guard", guard::module(s).into());
    engine.register_static_module("csv", self::csv::module(s).into());
    engine.register_static_module("log", log::module().into());
    engine.register_static_module("e164", e164::module(s.default_region).into());
    engine.register_static_module("time", time::module(Some(s)).into());
    engine.register_static_module("profile", profile::module(s).into());
}

/// The modules with no session behind them: `vline check` and `vline doc` compile against these.
pub fn register_offline(engine: &mut Engine) {
    engine.register_static_module("log", log::module().into());
    engine.register_static_module("e164", e164::module(None).into());
    engine.register_static_module("time", time::module(None).into());
}
