//! Logs go to stderr through tracing; `-v` raises the level, `RUST_LOG` overrides.

use tracing_subscriber::EnvFilter;

/// `ansi`: colour the log (stderr is a terminal that takes colour; the caller decides).
pub fn init(verbose: u8, ansi: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "vline=info",
        2 => "vline=debug",
        _ => "vline=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}
