//! `log::`: messages for the operator on stderr.

use super::*;

pub(super) fn module() -> Module {
    let mut m = Module::new();
    reg!(m, "log", "info", ["msg: string", "()"], |msg: &str| {
        tracing::debug!(target: "vline::script", "{msg}");
        eprintln!("{msg}");
    });
    reg!(m, "log", "warn", ["msg: string", "()"], |msg: &str| {
        tracing::debug!(target: "vline::script", "warning: {msg}");
        eprintln!("warning: {msg}");
    });
    m
}
