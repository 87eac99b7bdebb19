//! Shared helpers: a temporary VLINE_HOME, running the binary, reading JSON output.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary vline home: config, data, journal and sandbox state live here and vanish after.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        Home {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `vline` command with this home and no inherited profile or config.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vline"));
        c.env("VLINE_HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.path().join("xdg-data"))
            .env_remove("VLINE_PROFILE")
            .env_remove("VLINE_CONFIG")
            .env_remove("RUST_LOG")
            .env_remove("COLUMNS")
            .env_remove("VLINE_TICKET")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        c
    }

    /// Run `vline ARGS…` and return its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run vline")
    }

    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert the exit code, showing both streams when it differs.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Parse stdout as JSON.
#[track_caller]
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e})\n--- stdout\n{}\n--- stderr\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

/// A fresh home whose sandbox holds the demo seed (docs/sandbox.md).
pub fn demo() -> Home {
    let h = Home::new();
    assert_code(&h.run(&["sandbox", "reset", "--seed", "demo"]), 0);
    h
}

/// The sandbox's request log, writes only (`vline sandbox log --writes --json`).
pub fn writes(h: &Home) -> Vec<serde_json::Value> {
    let o = h.run(&["sandbox", "log", "--writes", "--json"]);
    assert_code(&o, 0);
    json(&o).as_array().cloned().unwrap_or_default()
}
