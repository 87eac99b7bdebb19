//! The REPL's `:commands`: parsing, and the help texts they print.

use std::path::Path;

use crate::host::bundle;
use crate::host::catalog::{self, CATALOG};
use crate::host::header::Header;

/// Every meta-command with its one-line help, as `:help` lists them.
pub const COMMANDS: &[(&str, &str)] = &[
    ("help", ":help [fn|module]   this list, or a function's signature, impact and doc"),
    ("procs", ":procs              the bundled procedures"),
    ("run", ":run <procedure> k=v…   run a procedure here, with the same guardrails (`:run <p> --help`)"),
    ("plan", ":plan               the writes held so far (with `vline repl --dry-run`)"),
    ("write", ":write on|off        allow writes (irreversible ones still ask) or go back to read-only"),
    ("json", ":json on|off         print results as JSON"),
    ("profile", ":profile            the profile in use and its policy"),
    ("journal", ":journal            this session's journal run and its writes"),
    ("vars", ":vars               the variables in scope (type and value) and the functions defined"),
    ("clear", ":clear              forget every variable and function"),
    ("quit", ":quit                leave (Ctrl-D too)"),
];

/// A parsed meta-command.
#[derive(Debug, PartialEq)]
pub enum Meta {
    Help(Option<String>),
    Procs,
    Run(String, Vec<String>),
    Plan,
    Write(bool),
    Json(bool),
    Profile,
    Journal,
    Vars,
    Clear,
    Quit,
    /// Not understood; the text says why.
    Bad(String),
}

/// Parse a line that starts with `:`.
pub fn parse(line: &str) -> Meta {
    let mut words = line.trim().trim_start_matches(':').split_whitespace();
    let cmd = words.next().unwrap_or("");
    let args: Vec<String> = words.map(str::to_string).collect();
    let on_off = |what: &str| match args.first().map(String::as_str) {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(Meta::Bad(format!(":{what} takes on or off"))),
    };
    match cmd {
        "help" | "h" | "?" => Meta::Help(args.first().cloned()),
        "procs" | "procedures" => Meta::Procs,
        "run" => match args.split_first() {
            Some((p, rest)) => Meta::Run(p.clone(), rest.to_vec()),
            None => Meta::Bad(
                ":run takes a procedure name and KEY=VALUE parameters (see `:procs`)".into(),
            ),
        },
        "plan" => Meta::Plan,
        "write" => on_off("write").map(Meta::Write).unwrap_or_else(|e| e),
        "json" => on_off("json").map(Meta::Json).unwrap_or_else(|e| e),
        "profile" => Meta::Profile,
        "journal" => Meta::Journal,
        "vars" | "v" => Meta::Vars,
        "clear" => Meta::Clear,
        "quit" | "q" | "exit" => Meta::Quit,
        other => Meta::Bad(format!("unknown command :{other} (`:help` lists them)")),
    }
}

/// `:help` with no argument.
pub fn help_list() -> String {
    let mut s = String::from("Type Rhai: `zoom::numbers(#{type: \"unassigned\"})`, `let a = movius::account(\"+13126170001\"); a.enable_zoom`.\n");
    s += "Tab completes modules, functions, variables and fields (Tab twice lists them); the hint shows the call's signature.\n";
    s += "Ctrl-R searches the history, Ctrl-C clears the line or stops the running call, Ctrl-D leaves.\n\nCommands:\n";
    for (_, h) in COMMANDS {
        s += &format!("  {h}\n");
    }
    s += "\nModules (`:help <module>` lists its functions):\n";
    for m in catalog::modules() {
        let n = CATALOG.iter().filter(|d| d.module == m).count();
        s += &format!("  {m}:: ({n} functions)\n");
    }
    s
}

/// `:help <name>`: one function in full, or a module's functions by signature and impact.
pub fn help_for(name: &str, script_fns: &[(String, String)]) -> String {
    let found = catalog::find(name.trim_end_matches("::"));
    match found.as_slice() {
        [] => match script_fns.iter().find(|(n, _)| n == name) {
            Some((n, params)) => format!("{n}{params}: a function defined in this session\n"),
            None => format!(
                "nothing called '{name}' (`:help` lists the modules; Tab completes names)\n"
            ),
        },
        [one] => catalog::render(one),
        many => {
            let mut s = String::new();
            for d in many {
                let impact = d.impact.map(|i| i.as_str()).unwrap_or("-");
                s += &format!("  {:<12} {}\n", impact, d.signature);
            }
            s
        }
    }
}

/// `:procs`: name and title of each bundled procedure.
pub fn procs(override_dir: Option<&Path>) -> String {
    let mut s = String::new();
    let names = bundle::procedure_names();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    for name in names {
        let title = bundle::procedure(name, override_dir)
            .and_then(|src| Header::parse(&src.text).ok())
            .map(|h| h.title)
            .unwrap_or_default();
        s += &format!("  {name:<width$}  {title}\n");
    }
    s += "\nRun one here: `:run <procedure> KEY=VALUE…` (`:run <procedure> --help` lists its parameters).\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_explains_bad_ones() {
        assert_eq!(parse(":write on"), Meta::Write(true));
        assert_eq!(parse("  :json off "), Meta::Json(false));
        assert_eq!(
            parse(":help zoom::numbers"),
            Meta::Help(Some("zoom::numbers".into()))
        );
        assert_eq!(
            parse(":run onboard-new-user phone_number=+13126170100 user=a@b"),
            Meta::Run(
                "onboard-new-user".into(),
                vec!["phone_number=+13126170100".into(), "user=a@b".into()]
            )
        );
        assert!(matches!(parse(":write maybe"), Meta::Bad(m) if m.contains("on or off")));
        assert!(matches!(parse(":frobnicate"), Meta::Bad(m) if m.contains(":help")));
        assert_eq!(parse(":q"), Meta::Quit);
    }

    #[test]
    fn help_shows_signature_impact_and_doc() {
        let h = help_for("zoom::assign_number", &[]);
        assert!(h.contains("zoom::assign_number(user: string"), "{h}");
        assert!(h.contains("impact: write"), "{h}");
        assert!(help_for("zoom", &[]).contains("zoom::numbers(q: map)"));
        assert!(help_for("f", &[("f".into(), "(x)".into())]).contains("f(x)"));
        assert!(help_list().contains(":write on|off"));
    }
}
