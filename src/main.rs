use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    vline::cmd::dispatch(vline::cli::Cli::parse())
}
