//! The bundled procedures (`scripts/`) and stdlib (`stdlib/`), compiled into the binary.
//! A file of the same name under `$VLINE_HOME/scripts` or `$VLINE_HOME/stdlib` is used first, so
//! an operator can patch a procedure without rebuilding.

use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/bundle.rs"));
}

/// Where a script's source came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Bundled,
    Override(PathBuf),
    File(PathBuf),
    /// Made from the command line (`vline call`): one function call.
    Command,
}

/// A script's name, source and origin.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub origin: Origin,
}

/// Names of all bundled procedures, sorted.
pub fn procedure_names() -> Vec<&'static str> {
    embedded::SCRIPTS.iter().map(|(n, _)| *n).collect()
}

/// Resolve `name`: a path to a `.rhai` file, or a bundled procedure (override dir first).
pub fn procedure(name: &str, override_dir: Option<&Path>) -> Option<Source> {
    let as_path = Path::new(name);
    if name.ends_with(".rhai") || name.contains('/') {
        let text = std::fs::read_to_string(as_path).ok()?;
        return Some(Source {
            name: name.to_string(),
            text,
            origin: Origin::File(as_path.to_path_buf()),
        });
    }
    lookup(embedded::SCRIPTS, "scripts", name, override_dir)
}

/// Resolve a stdlib module by its short name (`zoom` for `import "vline/zoom"`).
pub fn stdlib(name: &str, override_dir: Option<&Path>) -> Option<Source> {
    lookup(embedded::STDLIB, "stdlib", name, override_dir)
}

pub fn stdlib_names() -> Vec<&'static str> {
    embedded::STDLIB.iter().map(|(n, _)| *n).collect()
}

fn lookup(
    table: &[(&str, &str)],
    sub: &str,
    name: &str,
    override_dir: Option<&Path>,
) -> Option<Source> {
    if let Some(dir) = override_dir {
        let p = dir.join(sub).join(format!("{name}.rhai"));
        if let Ok(text) = std::fs::read_to_string(&p) {
            return Some(Source {
                name: name.to_string(),
                text,
                origin: Origin::Override(p),
            });
        }
    }
    table.iter().find(|(n, _)| *n == name).map(|(n, t)| Source {
        name: n.to_string(),
        text: t.to_string(),
        origin: Origin::Bundled,
    })
}
