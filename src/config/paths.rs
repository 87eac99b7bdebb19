//! Where vline's files are: the data directory, the journal, the config file.

use std::path::{Path, PathBuf};

pub(super) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn home_dir() -> PathBuf {
    env_var("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$VLINE_HOME`, else `$XDG_DATA_HOME/vline`, else `~/.local/share/vline`.
pub fn data_dir() -> PathBuf {
    data_dir_from(&env_var)
}

/// Where the journal lives: `journal.sqlite` in the data directory, the same one every command uses.
pub fn journal_path() -> PathBuf {
    data_dir().join("journal.sqlite")
}

pub(super) fn data_dir_from(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(h) = env("VLINE_HOME") {
        return PathBuf::from(h);
    }
    if let Some(x) = env("XDG_DATA_HOME") {
        return PathBuf::from(x).join("vline");
    }
    env("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(home_dir)
        .join(".local/share/vline")
}

/// `--config`, else `$VLINE_HOME/config.toml` when VLINE_HOME is set and the file exists, else
/// `$XDG_CONFIG_HOME/vline/config.toml`, else `~/.config/vline/config.toml`.
pub fn config_path(explicit: Option<&Path>) -> PathBuf {
    config_path_from(explicit, &env_var)
}

pub(super) fn config_path_from(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(h) = env("VLINE_HOME") {
        let p = PathBuf::from(h).join("config.toml");
        if p.exists() {
            return p;
        }
    }
    if let Some(x) = env("XDG_CONFIG_HOME") {
        return PathBuf::from(x).join("vline/config.toml");
    }
    env("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(home_dir)
        .join(".config/vline/config.toml")
}

/// Where `vline config init` writes: `--config`, else `$VLINE_HOME/config.toml` when VLINE_HOME
/// is set, else the XDG path.
pub fn init_path(explicit: Option<&Path>) -> PathBuf {
    match (explicit, env_var("VLINE_HOME")) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(h)) => PathBuf::from(h).join("config.toml"),
        (None, None) => config_path(None),
    }
}
