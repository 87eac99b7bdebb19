use std::process::ExitCode;

use clap::Parser as _;

// Counts live bytes so a runaway script is stopped by memory, not by Rhai's quadratic size checks.
#[global_allocator]
static ALLOC: vline::host::memory::Counting = vline::host::memory::Counting;

fn main() -> ExitCode {
    // `COMPLETE=bash vline …`: the shell asking for completions; answered before anything runs.
    clap_complete::CompleteEnv::with_factory(|| {
        <vline::cli::Cli as clap::CommandFactory>::command()
    })
    .complete();
    match vline::cli::Cli::try_parse() {
        Ok(cli) => vline::cmd::dispatch(cli),
        Err(e) => vline::cmd::command_line_error(e),
    }
}
