//! `bulk::map(rows, fn, #{concurrency})` for custom migrations: a script's function over an array
//! of rows on a pool of threads, through the same session (guard, journal, the process-wide rate
//! limiter), results in input order.
//!
//! Each worker has its own engine bound to the calling session. The function pointer is called
//! against the calling script's functions (its first namespace, rebuilt as an AST); closures carry
//! their captured variables with them; the modules the script imported are registered on every
//! worker engine under the same aliases, so `vu::get(…)` works inside the function. Script
//! functions cannot reach the calling script's global variables in parallel workers (Rhai gives
//! functions no access to them anyway, except `global::` constants): pass what they need through
//! the row or a closure.

use std::sync::{Arc, Mutex};

use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext, AST};

use crate::host::engine;
use crate::host::script::{explain, Failure};
use crate::host::session::{as_stop, Session};

/// Rows run at once when the options name no concurrency.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// `#{concurrency: n}` → n (1 to `concurrency::MAX_WORKERS`); a clear error otherwise.
pub fn concurrency(opts: &Map) -> Result<usize, String> {
    let Some(c) = opts.get("concurrency") else {
        return Ok(DEFAULT_CONCURRENCY);
    };
    for k in opts.keys() {
        if k.as_str() != "concurrency" {
            return Err(format!("unknown option '{k}' (options: concurrency)"));
        }
    }
    match c.as_int() {
        Ok(n) if (1..=super::concurrency::MAX_WORKERS as i64).contains(&n) => Ok(n as usize),
        _ => Err(format!(
            "concurrency must be an integer from 1 to {}, not {c}",
            super::concurrency::MAX_WORKERS
        )),
    }
}

/// One row's result map: `#{row, ok: true, result}` or `#{row, ok: false, error}`.
fn outcome(
    row: Dynamic,
    r: Result<Dynamic, Box<EvalAltResult>>,
) -> Result<Map, Box<EvalAltResult>> {
    let mut m = Map::new();
    m.insert("row".into(), row);
    match r {
        Ok(v) => {
            m.insert("ok".into(), true.into());
            m.insert("result".into(), v);
        }
        Err(e) => {
            // A guard refusal or Ctrl-C stops the whole map, as it stops a script.
            if as_stop(&e).is_some() {
                return Err(e);
            }
            m.insert("ok".into(), false.into());
            m.insert("error".into(), error_value(&e));
        }
    }
    Ok(m)
}

/// What the function threw: the API error map or thrown value as it was, else the explanation.
fn error_value(e: &EvalAltResult) -> Dynamic {
    let mut cur = e;
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
            | EvalAltResult::ErrorInModule(_, inner, _) => cur = inner,
            EvalAltResult::ErrorRuntime(v, _) => return v.clone(),
            _ => break,
        }
    }
    match explain(e) {
        Failure::Error(m) => m.into(),
        Failure::Refused { reason, how } => format!("refused: {reason}. {how}").into(),
        Failure::Blocked(b) => b.to_string().into(),
        Failure::Interrupted => "interrupted".into(),
    }
}

/// Run `f` over `rows`. With concurrency 1 the function runs in the calling context (nothing of
/// the script is out of its reach); above 1, on worker engines (see the module docs).
pub fn map(
    ctx: &NativeCallContext,
    session: &Arc<Session>,
    rows: Array,
    f: &FnPtr,
    workers: usize,
) -> Result<Array, Box<EvalAltResult>> {
    if workers <= 1 || rows.len() <= 1 {
        let mut out = Array::with_capacity(rows.len());
        for row in rows {
            session.check_cancel()?;
            let r = f.call_within_context::<Dynamic>(ctx, (row.clone(),));
            out.push(outcome(row, r)?.into());
        }
        return Ok(out);
    }
    // The calling script's functions (closures included) and its imports, for the workers.
    let ast = ctx
        .iter_namespaces()
        .next()
        .map(|m| AST::new_from_module(m.clone()))
        .unwrap_or_else(AST::empty);
    let imports: Vec<(String, rhai::Module)> = ctx
        .iter_imports()
        .map(|(name, m)| (name.to_string(), m.clone()))
        .collect();

    let stopped: Mutex<Option<Box<EvalAltResult>>> = Mutex::new(None);
    let results = super::pool::indexed(
        rows.len(),
        workers,
        || {
            let mut engine = engine::build(Some(session), engine::Limits::default());
            for (name, m) in &imports {
                engine.register_static_module(name.as_str(), m.clone().into());
            }
            engine
        },
        |engine, i| {
            let row = &rows[i];
            match outcome(row.clone(), f.call::<Dynamic>(engine, &ast, (row.clone(),))) {
                Ok(m) => Some(m),
                Err(stop) => {
                    stopped
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(stop);
                    None
                }
            }
        },
    );
    if let Some(stop) = stopped.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(stop);
    }
    session.check_cancel()?;
    Ok(results
        .into_iter()
        .zip(rows)
        .map(|(m, row)| {
            m.unwrap_or_else(|| {
                let mut m = Map::new();
                m.insert("row".into(), row);
                m.insert("ok".into(), false.into());
                m.insert("error".into(), "not started".into());
                m
            })
            .into()
        })
        .collect())
}
