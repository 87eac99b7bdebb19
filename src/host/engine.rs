//! The engine, configured in one place: limits, print, stdlib imports, cancellation, modules.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rhai::module_resolvers::ModuleResolver;
use rhai::{Engine, EvalAltResult, Module, Position, Scope};

type SharedModule = std::sync::Arc<Module>;

use super::bundle;
use super::modules;
use super::session::{stop, Session, Stop};

/// Engine limits: generous for real procedures, small enough that a runaway script stops fast.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    /// Rhai's own size limits (0 = none). Off by default: Rhai re-measures a whole container
    /// after each change, which is quadratic, and counts every string inside an array against
    /// the string limit. `max_memory_bytes` bounds data growth instead.
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    /// How much the process may grow while a script runs (checked at every operation when the
    /// binary's counting allocator is installed; see `host::memory`).
    pub max_memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 50_000_000,
            max_call_levels: 64,
            max_string_size: 0,
            max_array_size: 0,
            max_map_size: 0,
            max_memory_bytes: 1 << 30,
        }
    }
}

/// The token a script is terminated with when it outgrows `max_memory_bytes`.
pub const MEMORY_STOP: &str = "memory limit";

/// Tokens of the other limits start with this; the rest is the one-line message.
pub const LIMIT_STOP: &str = "vline limit: ";

/// Registers a script module of a layer above the host on an engine bound to a session: bulk's
/// `bulk::` module is one (`bulk::script::register`). Listed in [`Session::modules`].
pub type Registrar = fn(&mut Engine, &Arc<Session>);

/// Build an engine. With a session the service modules are bound to it; without one (for
/// `vline check`) only the offline modules are registered and service calls fail to resolve at
/// run time, never at compile time.
pub fn build(session: Option<&Arc<Session>>, limits: Limits) -> Engine {
    let mut e = Engine::new();
    e.set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(128, 64)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_modules(64)
        .set_fail_on_invalid_map_property(true)
        .set_strict_variables(true)
        // Off so that the checked joins of `register_allocation_checks` replace Rhai's own `+`
        // and `+=` on strings, arrays and blobs (costs a lookup per operator; scripts wait on
        // HTTP, not on arithmetic).
        .set_fast_operators(false);
    // Script output is for the operator; stdout stays clean for the result (and `--json`).
    let quiet = session.is_some_and(|s| s.quiet);
    e.on_print(move |s| {
        tracing::info!(target: "vline::script", "{s}");
        if !quiet {
            eprintln!("{s}");
        }
    });
    e.on_debug(|s, src, pos| {
        tracing::debug!(target: "vline::script", "{}:{pos}: {s}", src.unwrap_or("script"));
    });
    // Growth is measured from when the engine was built (one per run or bulk worker).
    let ceiling = super::memory::allocated().map(|now| now.saturating_add(limits.max_memory_bytes));
    register_allocation_checks(&mut e, limits.max_memory_bytes, ceiling);
    let override_dir = session.and_then(|s| s.override_dir.clone());
    e.set_module_resolver(StdlibResolver::new(override_dir));
    match session {
        Some(s) => {
            let cancel = s.cancel.clone();
            let transport = s.clients.transport.clone();
            e.on_progress(move |_| {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    let token = stop(Stop::Interrupted);
                    if let EvalAltResult::ErrorTerminated(t, _) = *token {
                        return Some(t);
                    }
                }
                if let (Some(max), Some(now)) = (ceiling, super::memory::allocated()) {
                    if now > max {
                        return Some(MEMORY_STOP.into());
                    }
                }
                // The run's call cap and wall-clock limit: the transport refuses further calls,
                // and this stops a script that catches those refusals and loops on.
                transport
                    .over_budget()
                    .map(|why| format!("{LIMIT_STOP}{why}").into())
            });
            modules::register_all(&mut e, s);
            for register in &s.modules {
                register(&mut e, s);
            }
        }
        None => modules::register_offline(&mut e),
    }
    e
}

/// How many bytes a script may still allocate: up to its ceiling when the binary counts
/// allocations, else (library users, unit tests) the whole limit.
fn room(max_memory_bytes: usize, ceiling: Option<usize>) -> usize {
    match (ceiling, super::memory::allocated()) {
        (Some(c), Some(now)) => c.saturating_sub(now),
        _ => max_memory_bytes,
    }
}

fn gib(bytes: usize) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// Rhai's `pad` and `blob` allocate the size they are asked for in one step, before the progress
/// hook can measure anything: `[].pad(2000000000, 0)` asked for 32 GB and the process aborted.
/// These replace them (functions registered on the engine come before its packages) and check
/// the size first; a refusal stops the script with one line, as the memory limit does.
fn register_allocation_checks(e: &mut Engine, max: usize, ceiling: Option<usize>) {
    use super::args::ScriptResult;
    use rhai::{Array, Blob, Dynamic, NativeCallContext, INT};
    let check = move |what: &str, need: usize| -> ScriptResult<()> {
        let left = room(max, ceiling);
        if need > left {
            return Err(Box::new(EvalAltResult::ErrorTerminated(
                format!(
                    "{LIMIT_STOP}the script was stopped: {what} would allocate {}, more than the {} left under its memory limit of {} (an array or string growing without end?)",
                    gib(need),
                    gib(left),
                    gib(max)
                )
                .into(),
                Position::NONE,
            )));
        }
        Ok(())
    };
    let len_of = |len: INT| usize::try_from(len).unwrap_or(0);
    e.register_fn(
        "pad",
        move |_: NativeCallContext, a: &mut Array, len: INT, item: Dynamic| -> ScriptResult<()> {
            let len = len_of(len);
            if len <= a.len() {
                return Ok(());
            }
            // Each copy is a `Dynamic` slot; strings are shared, containers copied.
            let each = std::mem::size_of::<Dynamic>()
                + item.read_lock::<Array>().map_or(0, |x| x.len() * 16)
                + item.read_lock::<rhai::Map>().map_or(0, |x| x.len() * 64)
                + item.read_lock::<Blob>().map_or(0, |x| x.len());
            check(
                &format!("pad({len}) of an array"),
                (len - a.len()).saturating_mul(each),
            )?;
            a.resize(len, item);
            Ok(())
        },
    );
    let pad_str = move |s: &mut rhai::ImmutableString, len: INT, fill: &str| -> ScriptResult<()> {
        let len = len_of(len);
        let have = s.chars().count();
        let per = fill.chars().count();
        if len <= have || per == 0 {
            return Ok(());
        }
        let need = (len - have).saturating_mul(fill.len()) / per;
        check(&format!("pad({len}) of a string"), need)?;
        let p = s.make_mut();
        p.extend(fill.chars().cycle().take(len - have));
        Ok(())
    };
    e.register_fn(
        "pad",
        move |_: NativeCallContext,
              s: &mut rhai::ImmutableString,
              len: INT,
              c: char|
              -> ScriptResult<()> { pad_str(s, len, c.encode_utf8(&mut [0; 4])) },
    );
    e.register_fn(
        "pad",
        move |_: NativeCallContext,
              s: &mut rhai::ImmutableString,
              len: INT,
              fill: &str|
              -> ScriptResult<()> { pad_str(s, len, fill) },
    );
    e.register_fn(
        "pad",
        move |_: NativeCallContext, b: &mut Blob, len: INT, v: INT| -> ScriptResult<()> {
            let len = len_of(len);
            if len > b.len() {
                check(&format!("pad({len}) of a blob"), len - b.len())?;
                b.resize(len, (v & 0xff) as u8);
            }
            Ok(())
        },
    );
    let blob = move |len: INT, v: INT| -> Result<Blob, Box<EvalAltResult>> {
        let len = len_of(len);
        check(&format!("blob({len})"), len)?;
        Ok(vec![(v & 0xff) as u8; len])
    };
    e.register_fn("blob", move |len: INT| blob(len, 0));
    e.register_fn("blob", blob);

    // Joining is where a script doubles its data (`s += s`): the joined copy is allocated while
    // both halves are still alive, so a check after the fact lets the process reach 1.5 times
    // the limit. These ask for the room first (fast operators are off, see `build`). The need
    // is the whole result: a shared left side is copied before it grows.
    use rhai::ImmutableString as Str;
    let slot = std::mem::size_of::<Dynamic>();
    let join = move |what: &str, a: usize, b: usize| check(what, a.saturating_add(b));
    e.register_fn("+", move |x: Str, y: Str| -> ScriptResult<Str> {
        join("joining two strings", x.len(), y.len())?;
        Ok(x + y)
    });
    for op in ["+=", "append"] {
        e.register_fn(op, move |x: &mut Str, y: Str| -> ScriptResult<()> {
            join("joining two strings", x.len(), y.len())?;
            *x += y;
            Ok(())
        });
        e.register_fn(op, move |x: &mut Array, y: Array| -> ScriptResult<()> {
            join("joining two arrays", x.len() * slot, y.len() * slot)?;
            x.extend(y);
            Ok(())
        });
        e.register_fn(op, move |x: &mut Blob, y: Blob| -> ScriptResult<()> {
            join("joining two blobs", x.len(), y.len())?;
            x.extend(y);
            Ok(())
        });
    }
    e.register_fn("+", move |mut x: Array, y: Array| -> ScriptResult<Array> {
        join("joining two arrays", x.len() * slot, y.len() * slot)?;
        x.extend(y);
        Ok(x)
    });
    e.register_fn("+", move |mut x: Blob, y: Blob| -> ScriptResult<Blob> {
        join("joining two blobs", x.len(), y.len())?;
        x.extend(y);
        Ok(x)
    });
}

/// `import "vline/zoom" as z;` → `stdlib/zoom.rhai` (a file in `$VLINE_HOME/stdlib` first).
/// Nothing else can be imported: scripts get no file access through imports.
pub struct StdlibResolver {
    override_dir: Option<PathBuf>,
    cache: Mutex<HashMap<String, SharedModule>>,
}

impl StdlibResolver {
    pub fn new(override_dir: Option<PathBuf>) -> Self {
        StdlibResolver {
            override_dir,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl ModuleResolver for StdlibResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        // Not `ErrorModuleNotFound`: Rhai replaces that one with its own bare "Module not found",
        // which would drop the explanation.
        let only_stdlib = || {
            Box::new(EvalAltResult::ErrorRuntime(
                format!(
                    "cannot import \"{path}\": scripts have no file access, only the stdlib can be imported (\"vline/<name>\", one of {})",
                    bundle::stdlib_names().join(", ")
                )
                .into(),
                pos,
            ))
        };
        let Some(name) = path.strip_prefix("vline/") else {
            return Err(only_stdlib());
        };
        if let Some(m) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(m.clone());
        }
        let src = bundle::stdlib(name, self.override_dir.as_deref()).ok_or_else(only_stdlib)?;
        let mut ast = engine.compile(&src.text).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                path.to_string(),
                e.into(),
                pos,
            ))
        })?;
        ast.set_source(format!("stdlib/{name}.rhai"));
        let m = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(path.to_string(), e, pos)))?;
        let shared: SharedModule = m.into();
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), shared.clone());
        Ok(shared)
    }
}
