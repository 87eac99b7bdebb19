//! Asking the operator yes or no.

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};

/// Asks the operator a yes/no question. The guard calls it for irreversible operations and
/// `guard::confirm`; tests substitute a fake.
pub trait Prompter: Send + Sync {
    /// `Ok(true)` only for an explicit yes.
    fn confirm(&self, question: &str) -> io::Result<bool>;
}

/// Asks on the controlling terminal (`/dev/tty`), falling back to stderr + stdin. Only "y" or
/// "yes" (any case) is a yes; an empty line or end of input is a no.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn confirm(&self, question: &str) -> io::Result<bool> {
        // /dev/tty keeps the question off a redirected stdout/stderr and reads the keyboard even
        // when stdin is a pipe.
        let answer = match OpenOptions::new().read(true).write(true).open("/dev/tty") {
            Ok(mut tty) => {
                write!(tty, "{question} [y/N] ")?;
                tty.flush()?;
                let mut line = String::new();
                BufReader::new(tty).read_line(&mut line)?;
                line
            }
            Err(_) => {
                let mut err = io::stderr().lock();
                write!(err, "{question} [y/N] ")?;
                err.flush()?;
                let mut line = String::new();
                io::stdin().lock().read_line(&mut line)?;
                line
            }
        };
        Ok(is_yes(&answer))
    }
}

pub(crate) fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Whether someone can answer a prompt: stdin and stderr are both terminals.
pub fn terminal_attached() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_explicit_yes() {
        for y in ["y", "Y", "yes", " YES \n"] {
            assert!(super::is_yes(y), "{y:?}");
        }
        for n in ["", "\n", "n", "no", "yep", "ye s"] {
            assert!(!super::is_yes(n), "{n:?}");
        }
    }
}
