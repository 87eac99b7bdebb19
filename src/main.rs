use std::process::ExitCode;

use clap::Parser;

// Counts live bytes so a runaway script is stopped by memory, not by Rhai's quadratic size checks.
#[global_allocator]
static ALLOC: vline::host::memory::Counting = vline::host::memory::Counting;

fn main() -> ExitCode {
    vline::cmd::dispatch(vline::cli::Cli::parse())
}
