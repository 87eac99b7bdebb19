//! Dynamic shell completions (`COMPLETE=bash vline`, or `vline completions bash`): the shell asks
//! the installed binary, which offers what exists now — bundled procedures, the chosen
//! procedure's parameter keys, the config's profiles, the journal's run ids.

use std::ffi::OsStr;

use clap_complete::engine::{CompletionCandidate, ValueCompleter};

/// The words of the command line being completed (after the `--` the shell's hook passes).
fn words() -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].to_vec(),
        None => args,
    }
}

fn matching(
    current: &OsStr,
    items: impl IntoIterator<Item = (String, Option<String>)>,
) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    items
        .into_iter()
        .filter(|(v, _)| v.starts_with(prefix.as_ref()))
        .map(|(v, help)| CompletionCandidate::new(v).help(help.map(Into::into)))
        .collect()
}

/// Bundled procedure names, with their titles.
pub fn procedures(current: &OsStr) -> Vec<CompletionCandidate> {
    let dir = crate::config::data_dir();
    let names = crate::host::bundle::procedure_names().into_iter().map(|n| {
        let title = crate::host::script::Script::load(n, Some(&dir))
            .ok()
            .map(|(_, h)| h.title);
        (n.to_string(), title)
    });
    let mut out = matching(current, names);
    // A path to a script of one's own completes as a file.
    out.extend(clap_complete::engine::PathCompleter::any().complete(current));
    out
}

/// `KEY=` for each parameter of the procedure named earlier on the line (`vline run NAME …`),
/// leaving out the keys already given.
pub fn params(current: &OsStr) -> Vec<CompletionCandidate> {
    let words = words();
    let Some(at) = words.iter().position(|w| w == "run") else {
        return Vec::new();
    };
    let Some(script) = words[at + 1..].iter().find(|w| !w.starts_with('-')) else {
        return Vec::new();
    };
    let Ok((_, header)) =
        crate::host::script::Script::load(script, Some(&crate::config::data_dir()))
    else {
        return Vec::new();
    };
    let given: Vec<&str> = words
        .iter()
        .filter_map(|w| w.split_once('=').map(|(k, _)| k))
        .collect();
    let keys = header
        .params
        .iter()
        .filter(|p| !given.contains(&p.name.as_str()))
        .map(|p| (format!("{}=", p.name), Some(p.help.clone())));
    matching(current, keys)
}

/// The config's profiles (and `sandbox`, always there).
pub fn profiles(current: &OsStr) -> Vec<CompletionCandidate> {
    let mut names = vec!["sandbox".to_string()];
    if let Ok(c) = crate::config::Config::load(None) {
        for n in c.profile_names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    matching(current, names.into_iter().map(|n| (n, None)))
}

/// The journal's latest run ids, with what ran and how it ended.
pub fn runs(current: &OsStr) -> Vec<CompletionCandidate> {
    let path = crate::config::journal_path();
    if !path.exists() {
        return Vec::new();
    }
    let Ok(j) = crate::journal::Journal::open(&path) else {
        return Vec::new();
    };
    let runs = j
        .runs_where(&crate::journal::RunFilter::default(), 50)
        .unwrap_or_default();
    matching(
        current,
        runs.into_iter().map(|r| {
            (
                r.id.to_string(),
                Some(format!("{} {}", r.script, r.outcome)),
            )
        }),
    )
}

/// The registration script for `shell`: sourced, it makes the shell ask this binary.
pub fn registration(shell: clap_complete::Shell) -> anyhow::Result<String> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let env: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &Bash,
        clap_complete::Shell::Zsh => &Zsh,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::Elvish => &Elvish,
        clap_complete::Shell::PowerShell => &Powershell,
        other => anyhow::bail!("no completions for {other}"),
    };
    // The binary the shell asks: this one, wherever it is installed.
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "vline".into());
    let mut buf = Vec::new();
    env.write_registration("COMPLETE", "vline", "vline", &exe, &mut buf)?;
    Ok(String::from_utf8(buf)?)
}
