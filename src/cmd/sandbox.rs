//! `vline sandbox serve|reset|status`.

use crate::cli::{Global, SandboxCmd};

pub fn run(_global: &Global, _cmd: SandboxCmd) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
