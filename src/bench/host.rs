//! Per-call overhead of the Rhai host: the same read calls through a script and through the Rust
//! client directly, against the in-memory sandbox.

use crate::cli::BenchHostArgs;

pub fn run(_json: bool, _a: &BenchHostArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
