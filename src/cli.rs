//! Command-line definitions (clap). Parsing only; `cmd` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// vline — automate Zoom Phone on Movius VirtualLine.
///
/// With no configuration every command runs against the embedded sandbox (an emulator of Movius,
/// the carrier and Zoom on loopback), so you can try anything safely.
#[derive(Debug, Parser)]
#[command(name = "vline", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Profile from config.toml (default: the config's `default_profile`, else the sandbox).
    #[arg(long, global = true, env = "VLINE_PROFILE")]
    pub profile: Option<String>,
    /// Config file (default: $XDG_CONFIG_HOME/vline/config.toml).
    #[arg(long, global = true, env = "VLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print results as JSON (for pipelines).
    #[arg(long, global = true)]
    pub json: bool,
    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local sandbox (Movius, carrier and Zoom emulator), reset or inspect it.
    #[command(subcommand)]
    Sandbox(SandboxCmd),
}

#[derive(Debug, Subcommand)]
pub enum SandboxCmd {
    /// Serve the sandbox on 127.0.0.1 until Ctrl-C.
    Serve(SandboxServe),
    /// Wipe the sandbox state and load a seed.
    Reset {
        /// `demo` (the guide's deployment) or `empty`.
        #[arg(long, default_value = "demo")]
        seed: String,
    },
    /// Counts of orgs, accounts, numbers and users in the sandbox.
    Status,
}

#[derive(Debug, Args)]
pub struct SandboxServe {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8642)]
    pub port: u16,
    /// SQLite state file, or `:memory:` (default: the data directory's sandbox.sqlite).
    #[arg(long)]
    pub state: Option<String>,
    /// Seed to load when the state is new: `demo` or `empty`.
    #[arg(long, default_value = "demo")]
    pub seed: String,
}
