//! The commands: each turns parsed arguments into calls on the library and an exit code.

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::output::color::{self, Meaning};

pub mod apply;
pub mod bench;
pub mod bulk;
pub mod call;
pub mod config;
pub mod doc;
pub mod doctor;
pub mod journal;
pub mod preflight;
pub mod repl;
pub mod run;
pub mod sandbox;
pub mod setup;

/// The command line was wrong (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The operator interrupted the command (Ctrl-C): exit code 130, as shells do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// What an error is, for `--json` and the exit code: (kind, exit code, what to do next).
fn classify(err: &anyhow::Error) -> (&'static str, u8, Option<String>) {
    if err.downcast_ref::<Usage>().is_some() {
        (
            "usage",
            2,
            Some("fix the command line or the input as the message says and run again; nothing was sent".into()),
        )
    } else if err.downcast_ref::<Interrupted>().is_some() {
        ("interrupted", 130, None)
    } else if let Some(r) = err.downcast_ref::<crate::guard::Refused>() {
        ("refused", 3, Some(r.how_to_proceed.clone()))
    } else if let Some(b) = err.downcast_ref::<crate::host::script::Blocked>() {
        // A procedure's prerequisite is not met: refused like a guard, its kind kept.
        ("blocked", 3, Some(b.next.clone()))
    } else if let Some(e) = err.downcast_ref::<crate::api::ApiError>() {
        ("api", 1, Some(e.next_step().to_string()))
    } else {
        ("failed", 1, None)
    }
}

/// Exit codes: 0 done, 1 failed, 2 usage, 3 refused by a guard or by a procedure's prerequisite,
/// 130 interrupted.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    classify(err).1
}

/// The error as `--json` prints it on stdout: `{"error": {kind, message, next, exit_code}}`.
pub fn error_json(err: &anyhow::Error) -> serde_json::Value {
    let (kind, code, next) = classify(err);
    serde_json::json!({"error": {
        "kind": kind,
        "message": format!("{err:#}"),
        "next": next,
        "exit_code": code,
    }})
}

/// Set when a command printed its own `--json` document, which then carries its error: stdout
/// stays one JSON document.
static JSON_DOCUMENT_PRINTED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// A command that prints its `--json` result and may still fail calls this after printing it.
pub fn json_document_printed() {
    JSON_DOCUMENT_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the error is a closed output (`vline … | head`): not a failure of the command.
fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The exit status of a process whose output was closed, by the shell's convention (128 + SIGPIPE).
const CLOSED_PIPE_EXIT: i32 = 141;

/// `println!` panics when stdout is closed (`vline procedures | head -1`); end quietly instead,
/// as a command killed by SIGPIPE would. (The signal itself stays ignored: the embedded sandbox
/// and the HTTP client write to sockets, where a closed peer must be an error, not a kill.)
fn quiet_on_closed_output() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(CLOSED_PIPE_EXIT);
        }
        default(info);
    }));
}

/// A command line clap refused (or help it prints): clap's own output and exit code, and with
/// `--json` anywhere on the line the error object on stdout too.
pub fn command_line_error(e: clap::Error) -> ExitCode {
    if e.use_stderr() && std::env::args().any(|a| a == "--json") {
        let err = anyhow::Error::new(Usage(e.render().to_string().trim_end().to_string()));
        println!("{}", error_json(&err));
    }
    e.exit()
}

/// Run a parsed command line; print the error and return the exit code.
pub fn dispatch(cli: Cli) -> ExitCode {
    // Colour first: the log's formatter asks whether to colour.
    crate::output::color::set(cli.global.color);
    crate::logging::init(
        cli.global.verbose,
        color::enabled(crate::output::color::Stream::Stderr),
    );
    quiet_on_closed_output();
    // The error object goes where a JSON (or YAML, or JSON lines) reader expects the result; a
    // CSV reader gets the error on stderr only.
    let yaml = cli.global.output().format == crate::output::Format::Yaml;
    let json = matches!(
        cli.global.output().format,
        crate::output::Format::Json | crate::output::Format::Jsonl | crate::output::Format::Yaml
    );
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
        Err(err) if is_closed_pipe(&err) => ExitCode::from(CLOSED_PIPE_EXIT as u8),
        Err(err) => {
            if json && !JSON_DOCUMENT_PRINTED.load(std::sync::atomic::Ordering::Relaxed) {
                let doc = error_json(&err);
                if yaml {
                    print!("{}", serde_yaml_ng::to_string(&doc).unwrap_or_default());
                } else {
                    println!("{doc}");
                }
            }
            // Refused (exit 3) reads yellow, a failure red: a person sees which at a glance.
            let code = exit_code(&err);
            let meaning = if code == 3 {
                Meaning::Refused
            } else {
                Meaning::Failed
            };
            // Wrapped at spaces on a narrow terminal (never mid-word, and never in a pipe).
            let text = crate::output::table::wrap_prose(
                &format!("error: {err:#}"),
                crate::output::table::stderr_width(),
                "  ",
            );
            let text = text.strip_prefix("error").unwrap_or(&text);
            eprintln!("{}{text}", color::paint_stderr(meaning, "error"));
            ExitCode::from(code)
        }
    }
}

/// Print a command's result document in the format asked for (`--output`, `--json`,
/// `--fields`); `rows` names the list a CSV or JSON lines are made of.
pub fn print_doc<T: serde::Serialize>(
    global: &crate::cli::Global,
    doc: &T,
    rows: Option<&str>,
) -> anyhow::Result<()> {
    print_laid_out(global, doc, rows, &crate::output::Layout::default())
}

/// [`print_doc`] with the columns the producer puts first.
pub fn print_laid_out<T: serde::Serialize>(
    global: &crate::cli::Global,
    doc: &T,
    rows: Option<&str>,
    layout: &crate::output::Layout,
) -> anyhow::Result<()> {
    let v = serde_json::to_value(doc)?;
    global.output().print(&v, rows, layout).map_err(|e| {
        match e.downcast::<crate::output::UnknownField>() {
            Ok(u) => Usage(u.to_string()).into(),
            Err(e) => e,
        }
    })
}
