//! `vline bench host|bulk`.

use crate::cli::{BenchCmd, Global};

pub fn run(global: &Global, c: BenchCmd) -> anyhow::Result<()> {
    match c {
        BenchCmd::Host(a) => crate::bench::host::run(global.json, &a),
        BenchCmd::Bulk(a) => crate::bench::bulk::run(global.json, &a),
    }
}
