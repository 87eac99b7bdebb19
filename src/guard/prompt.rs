//! Asking the operator yes or no.

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set by Ctrl-C: a question waiting for its answer takes it as a no.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Ctrl-C was pressed: the question on the terminal (now or next) is answered no, so a run
/// waiting at its plan stops there, before its first write.
pub fn interrupt_prompts() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

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
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Ok(false);
        }
        // /dev/tty keeps the question off a redirected stdout/stderr and reads the keyboard even
        // when stdin is a pipe. The answer is read on its own thread so that Ctrl-C (which
        // cannot interrupt a blocked read) answers no at once.
        let (tx, rx) = std::sync::mpsc::channel::<io::Result<String>>();
        match OpenOptions::new().read(true).write(true).open("/dev/tty") {
            Ok(mut tty) => {
                write!(tty, "{question} [y/N] ")?;
                tty.flush()?;
                std::thread::spawn(move || {
                    let mut line = String::new();
                    let r = BufReader::new(tty).read_line(&mut line).map(|_| line);
                    let _ = tx.send(r);
                });
            }
            Err(_) => {
                let mut err = io::stderr().lock();
                write!(err, "{question} [y/N] ")?;
                err.flush()?;
                std::thread::spawn(move || {
                    let mut line = String::new();
                    let r = io::stdin().lock().read_line(&mut line).map(|_| line);
                    let _ = tx.send(r);
                });
            }
        }
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(answer) => return Ok(is_yes(&answer?)),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if INTERRUPTED.load(Ordering::SeqCst) {
                        eprintln!();
                        return Ok(false);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(false),
            }
        }
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
