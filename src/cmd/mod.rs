//! The commands: each turns parsed arguments into calls on the library and an exit code.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod apply;
pub mod bench;
pub mod bulk;
pub mod call;
pub mod config;
pub mod doc;
pub mod doctor;
pub mod journal;
pub mod repl;
pub mod run;
pub mod sandbox;
pub mod session;

/// The command line was wrong (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Exit codes: 0 done, 1 failed, 2 usage, 3 refused by a guard or by a procedure's prerequisite.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<Usage>().is_some() {
        2
    } else if err.downcast_ref::<crate::guard::Refused>().is_some()
        || err.downcast_ref::<crate::host::script::Blocked>().is_some()
    {
        3
    } else {
        1
    }
}

/// Run a parsed command line; print the error and return the exit code.
pub fn dispatch(cli: Cli) -> ExitCode {
    crate::logging::init(cli.global.verbose);
    let result = match cli.command {
        Command::Run(a) => run::run(&cli.global, a),
        Command::Apply(a) => apply::apply(&cli.global, a),
        Command::Plan(c) => apply::plan(&cli.global, c),
        Command::Bulk(a) => bulk::run(&cli.global, a),
        Command::Bench(c) => bench::run(&cli.global, c),
        Command::Procedures => doc::procedures(&cli.global),
        Command::Doc { name } => doc::doc(&cli.global, name.as_deref()),
        Command::Check { files } => doc::check(&cli.global, &files),
        Command::Completions { shell } => doc::completions(shell),
        Command::Sandbox(c) => sandbox::run(&cli.global, c),
        Command::Journal(c) => journal::run(&cli.global, c),
        Command::Call(c) => call::run(&cli.global, c),
        Command::Config(c) => config::run(&cli.global, c),
        Command::Repl(a) => repl::run(&cli.global, a),
        Command::Doctor => doctor::run(&cli.global),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}
