//! `bulk::`, the bulk run's machinery for custom migrations: `bulk::map` runs a script function
//! over rows on a pool of threads, `bulk::preflight` checks rows against a procedure before a run.
//! Registered on engines through the host's hook (the host knows no bulk).

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, FnPtr, Map, Module, NativeCallContext};

use crate::host::args::{bad, ScriptResult};
use crate::host::engine;
use crate::host::modules::{registration, write_csv};
use crate::host::script::Script;
use crate::host::session::Session;
use crate::host::value::to_dynamic;

macro_rules! reg {
    ($m:ident, $module:literal, $name:literal, [$($p:literal),*], $f:expr) => {
        registration($module, $name, &[$($p),*]).set_into_module(&mut $m, $f);
    };
}

/// Register `bulk::` on an engine bound to `s` (a [`Registrar`](crate::host::engine::Registrar):
/// sessions that offer it list it in `Session::modules`).
pub fn register(engine: &mut Engine, s: &Arc<Session>) {
    engine.register_static_module("bulk", module(s).into());
}

/// `bulk::map` and `bulk::preflight`: custom migrations with the bulk run's machinery.
fn module(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    let x = s.clone();
    reg!(
        m,
        "bulk",
        "map",
        ["rows: array", "f: FnPtr", "opts: map", "array"],
        move |ctx: NativeCallContext, rows: Array, f: FnPtr, opts: Map| -> ScriptResult<Array> {
            let n = super::map::concurrency(&opts).map_err(|e| bad("bulk::map", e))?;
            super::map::map(&ctx, &x, rows, &f, n)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "bulk",
        "map",
        ["rows: array", "f: FnPtr", "array"],
        move |ctx: NativeCallContext, rows: Array, f: FnPtr| -> ScriptResult<Array> {
            super::map::map(&ctx, &x, rows, &f, super::map::DEFAULT_CONCURRENCY)
        }
    );
    let x = s.clone();
    reg!(
        m,
        "bulk",
        "preflight",
        ["rows: array", "procedure: string", "map"],
        move |rows: Array, procedure: &str| -> ScriptResult<Dynamic> {
            bulk_preflight(&x, rows, procedure)
        }
    );
    m
}

fn bulk_preflight(x: &Arc<Session>, rows: Array, procedure: &str) -> ScriptResult<Dynamic> {
    use super::preflight as pf;
    let f = "bulk::preflight";
    let (src, header) =
        Script::load(procedure, x.override_dir.as_deref()).map_err(|e| bad(f, e))?;
    let engine = engine::build(Some(x), engine::Limits::default());
    let script = Script::compile(&engine, src, header).map_err(|e| bad(f, e))?;
    drop(engine);
    if rows.is_empty() {
        return Err(bad(f, "no rows given"));
    }
    // The rows go through the same file validation as a CSV would (a private temporary file).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = std::env::temp_dir().join(format!(
        "vline-preflight-{}-{nanos}.csv",
        std::process::id()
    ));
    write_csv(&tmp.to_string_lossy(), &rows).map_err(|e| bad(f, e))?;
    let parent = x.clone();
    let configure = move |s: &mut Session| {
        s.override_dir = parent.override_dir.clone();
        s.default_org = parent.default_org.clone();
        let p = parent.clone();
        s.naming = Box::new(move |n| (p.naming)(n));
        s.modules = parent.modules.clone();
    };
    let last_rate = x
        .journal
        .as_ref()
        .and_then(|j| j.last_rate(&x.profile, procedure).ok().flatten());
    let setup = pf::Setup {
        clients: &x.clients,
        profile: &x.profile,
        sandbox: x.sandbox,
        configure: &configure,
        windows: &x.guard.policy().windows,
        last_rate,
        workers: pf::DEFAULT_WORKERS,
        // A bulk run's default.
        run: crate::bulk::concurrency::Concurrency::Auto,
        now: jiff::Timestamp::now(),
    };
    let res = pf::preflight(&setup, &script, &tmp);
    let _ = std::fs::remove_file(&tmp);
    let report = res.map_err(|e| bad(f, e))?;
    to_dynamic(&pf::to_value(&report))
}
