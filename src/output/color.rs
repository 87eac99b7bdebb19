//! Colour with meaning, only where a person reads a terminal: done green, refused yellow,
//! irreversible red. `--color never|auto|always`; `auto` honours `NO_COLOR` and pipes.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// `--color`: when to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always, even in a pipe (for `less -R`).
    Always,
    /// Never.
    Never,
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// The command line's choice, set once at start (later calls keep the first).
pub fn set(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
}

/// Which stream the text goes to.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Whether text for `stream` is coloured.
pub fn enabled(stream: Stream) -> bool {
    let tty = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    enabled_on(tty)
}

/// Whether text for a stream that is (or is not) a terminal is coloured.
pub fn enabled_on(is_terminal: bool) -> bool {
    match CHOICE.get().copied().unwrap_or_default() {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// What a word means to the person reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    Done,
    Refused,
    Irreversible,
    Failed,
}

impl Meaning {
    /// The meaning of a status-like cell (`status`, `outcome`, `impact`, `verdict` columns);
    /// other columns carry none.
    pub fn of(column: &str, value: &str) -> Option<Meaning> {
        let leaf = column.rsplit('.').next().unwrap_or(column);
        if !matches!(leaf, "status" | "outcome" | "impact" | "verdict" | "result") {
            return None;
        }
        Meaning::of_word(value)
    }

    /// The meaning of an outcome word.
    pub fn of_word(value: &str) -> Option<Meaning> {
        match value.trim().to_ascii_lowercase().as_str() {
            "done" | "ok" | "ready" | "sent" | "pass" => Some(Meaning::Done),
            "refused" | "blocked" | "not ready" | "interrupted" => Some(Meaning::Refused),
            "irreversible" => Some(Meaning::Irreversible),
            "failed" | "fail" => Some(Meaning::Failed),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Meaning::Done => "32",
            Meaning::Refused => "33",
            Meaning::Irreversible | Meaning::Failed => "1;31",
        }
    }
}

/// `text` in the colour of `meaning` when `on`.
pub fn paint(on: bool, meaning: Meaning, text: &str) -> String {
    if on {
        format!("\x1b[{}m{text}\x1b[0m", meaning.code())
    } else {
        text.to_string()
    }
}

/// `text` for stderr in the colour of `meaning` (when stderr is a terminal that takes colour).
pub fn paint_stderr(meaning: Meaning, text: &str) -> String {
    paint(enabled(Stream::Stderr), meaning, text)
}
