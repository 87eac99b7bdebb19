//! `vline bench host|bulk`: the flags checked and handed to the benchmarks.

use crate::cli::{BenchCmd, Global};

use super::Usage;

pub fn run(global: &Global, c: BenchCmd) -> anyhow::Result<()> {
    match c {
        BenchCmd::Host(a) => {
            if a.calls == 0 {
                return Err(Usage("--calls must be at least 1".into()).into());
            }
            crate::bench::host::run(global.structured(), a.calls)
        }
        BenchCmd::Bulk(a) => crate::bench::bulk::run(
            global.structured(),
            &crate::bench::bulk::BenchOptions {
                users: a.users,
                plan: a.plan,
                latency: if a.latency.trim() == "none" {
                    String::new()
                } else {
                    a.latency
                },
                published_spec: a.published_spec,
                concurrency: a.concurrency,
                sequential_users: a.sequential_users,
                memory_rows: a.memory_rows,
            },
        ),
    }
}
