//! Guardrails: impact levels, confirmation, maintenance windows, dry-run plan, read-only, blast radius.
//!
//! The host asks [`Guard::before`] ahead of every operation; a script cannot skip it because the
//! impact level is part of the operation's registration, not of the script.

pub mod impact;
mod prompt;
mod redact;
pub mod window;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

pub use impact::Impact;
pub use prompt::{terminal_attached, Prompter, TerminalPrompter};
pub use redact::{redact, MASK};
pub use window::{next_opening, validate_windows, window_closes, MaintenanceWindow};

/// A guard said no. Exit code 3 at the command line; `how_to_proceed` tells the operator the way on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("refused: {reason}. {how_to_proceed}")]
pub struct Refused {
    pub reason: String,
    pub how_to_proceed: String,
}

impl Refused {
    fn new(reason: impl Into<String>, how_to_proceed: impl Into<String>) -> Refused {
        Refused {
            reason: reason.into(),
            how_to_proceed: how_to_proceed.into(),
        }
    }
}

/// The way on when a confirmation is needed and nobody can give it.
pub const HOW_NO_TERMINAL: &str =
    "re-run with --yes after checking the target, or run from a terminal";

/// What the operator and the profile allow for one run.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Refuse every write (the REPL starts this way).
    pub read_only: bool,
    /// Hold writes in a plan instead of sending them.
    pub dry_run: bool,
    /// `--yes`: irreversible operations and `guard::confirm` need no prompt.
    pub assume_yes: bool,
    /// Blast radius per run; `None` = unlimited.
    pub max_changes: Option<u64>,
    /// The operator's reason to run outside the maintenance windows (`--outside-window`).
    pub outside_window: Option<String>,
    /// The profile's windows; empty = no window configured.
    pub windows: Vec<MaintenanceWindow>,
    /// A terminal is attached (stdin and stderr are TTYs), so a prompt can be answered.
    pub interactive: bool,
}

/// What an operation is about to do; built by the host for every call.
#[derive(Debug, Clone)]
pub struct Call {
    /// `"zoom::assign_number"`.
    pub op: String,
    pub impact: Impact,
    /// What it acts on, as the operator would recognise it: `"+13126173497 → alice@jpmc.example"`.
    pub target: String,
    /// Parameters, already redacted.
    pub params: serde_json::Value,
    /// For irreversible operations: what cannot be undone.
    pub undo_note: Option<String>,
}

/// The guard's answer for an operation it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it.
    Send,
    /// Dry-run: not sent, added to the plan as step `seq` (from 1).
    Hold { seq: u64 },
}

/// A write held by dry-run, as the plan prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedWrite {
    pub seq: u64,
    pub op: String,
    pub impact: Impact,
    pub target: String,
    pub params: serde_json::Value,
}

/// Result of a passed maintenance-window check.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowCheck {
    /// Now is inside a window; it (and any window it touches) closes at `closes_at`.
    Inside {
        window: String,
        closes_at: jiff::Zoned,
    },
    /// Outside every window, allowed by `--outside-window` (journal the reason).
    Overridden { reason: String },
}

#[derive(Debug, Default)]
struct State {
    plan: Vec<PlannedWrite>,
    /// Writes let through (sent, or held in dry-run); what `max_changes` caps.
    changes: u64,
    /// One confirmation covered the whole bulk run.
    bulk_approved: bool,
}

/// Applies the policy to every operation of a run. `Send + Sync`: bulk workers share it via `Arc`.
pub struct Guard {
    policy: Policy,
    read_only: AtomicBool,
    state: Mutex<State>,
    /// One question on the terminal at a time, even with many workers.
    asking: Mutex<()>,
    prompter: Box<dyn Prompter>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("policy", &self.policy)
            .field("read_only", &self.is_read_only())
            .finish()
    }
}

impl Guard {
    pub fn new(policy: Policy, prompter: Box<dyn Prompter>) -> Guard {
        Guard {
            read_only: AtomicBool::new(policy.read_only),
            policy,
            state: Mutex::new(State::default()),
            asking: Mutex::new(()),
            prompter,
        }
    }

    /// The policy the run started with (`read_only` there is the starting value; see
    /// [`Guard::is_read_only`] for the current one).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// REPL `:write on|off`.
    pub fn set_read_only(&self, on: bool) {
        self.read_only.store(on, Ordering::SeqCst);
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only.load(Ordering::SeqCst)
    }

    pub fn is_dry_run(&self) -> bool {
        self.policy.dry_run
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A worker that panicked mid-update leaves counters that are still meaningful.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called before every operation.
    ///
    /// Reads are always sent. A write is refused in read-only mode, counts toward `max_changes`
    /// (refused past it), and in dry-run is held in the plan instead of sent. An irreversible
    /// operation is a write that also needs a yes naming its target and what cannot be undone,
    /// unless `--yes` or a bulk confirmation covers it; dry-run holds it without asking.
    pub fn before(&self, call: &Call) -> Result<Decision, Refused> {
        if !call.impact.changes_state() {
            return Ok(Decision::Send);
        }
        let what = format!("{} on {}", call.op, call.target);
        if self.is_read_only() {
            return Err(Refused::new(
                format!("read-only mode: {what} would change state ({})", call.impact),
                "nothing was sent; run without --read-only to make changes (in the REPL: `:write on`)",
            ));
        }
        let needs_yes = {
            let mut st = self.state();
            if let Some(max) = self.policy.max_changes {
                if st.changes >= max {
                    return Err(Refused::new(
                        format!("blast radius: this run reached max_changes = {max} and {what} would be change {}", max + 1),
                        format!(
                            "nothing more was sent; if more changes are intended, re-run with --max-changes N (N > {max}), or split the work into smaller runs"
                        ),
                    ));
                }
            }
            st.changes += 1;
            if self.policy.dry_run {
                let seq = st.plan.len() as u64 + 1;
                st.plan.push(PlannedWrite {
                    seq,
                    op: call.op.clone(),
                    impact: call.impact,
                    target: call.target.clone(),
                    params: redact(&call.params),
                });
                return Ok(Decision::Hold { seq });
            }
            call.impact == Impact::Irreversible && !self.policy.assume_yes && !st.bulk_approved
        };
        if needs_yes {
            if let Err(r) = self.ask_irreversible(call, &what) {
                // The slot reserved above was not used.
                let mut st = self.state();
                st.changes = st.changes.saturating_sub(1);
                return Err(r);
            }
        }
        Ok(Decision::Send)
    }

    fn ask_irreversible(&self, call: &Call, what: &str) -> Result<(), Refused> {
        let undo = call
            .undo_note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        if !self.policy.interactive {
            return Err(Refused::new(
                format!("{what} is irreversible{undo} and needs a confirmation, but no terminal is attached"),
                HOW_NO_TERMINAL,
            ));
        }
        let cannot = call
            .undo_note
            .as_deref()
            .map(|n| format!("\n  Cannot be undone: {n}"))
            .unwrap_or_default();
        let question = format!(
            "IRREVERSIBLE: {}\n  Target: {}{cannot}\nProceed?",
            call.op, call.target
        );
        match self.ask(&question) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Refused::new(
                format!("the operator declined {what}"),
                "nothing was sent",
            )),
            Err(e) => Err(Refused::new(
                format!("could not ask to confirm {what}: {e}"),
                HOW_NO_TERMINAL,
            )),
        }
    }

    fn ask(&self, question: &str) -> std::io::Result<bool> {
        let _one_at_a_time = self.asking.lock().unwrap_or_else(|e| e.into_inner());
        self.prompter.confirm(question)
    }

    /// Script-level `guard::confirm(text)`: yes with `--yes` (or after a bulk confirmation),
    /// passes without asking in dry-run, else asks; a no stops the script.
    pub fn confirm(&self, text: &str) -> Result<(), Refused> {
        if self.policy.dry_run || self.policy.assume_yes || self.state().bulk_approved {
            return Ok(());
        }
        if !self.policy.interactive {
            return Err(Refused::new(
                format!("the script asks \"{text}\" and no terminal is attached to answer"),
                HOW_NO_TERMINAL,
            ));
        }
        match self.ask(text) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Refused::new(
                format!("the operator answered no to \"{text}\""),
                "the script stopped there; nothing after it was sent",
            )),
            Err(e) => Err(Refused::new(
                format!("could not ask \"{text}\": {e}"),
                HOW_NO_TERMINAL,
            )),
        }
    }

    /// `guard::require_maintenance_window(why)`: passes inside one of the profile's windows, or
    /// outside them with `--outside-window "reason"` (the caller journals the reason).
    pub fn require_maintenance_window(
        &self,
        why: &str,
        now: jiff::Timestamp,
    ) -> Result<WindowCheck, Refused> {
        let compiled = window::compile_all(&self.policy.windows);
        if let Ok(c) = &compiled {
            if let (Some(inside), Some(closes_at)) =
                (window::containing(c, now), window::stretch_end(c, now))
            {
                return Ok(WindowCheck::Inside {
                    window: inside.text,
                    closes_at,
                });
            }
        }
        if let Some(reason) = self
            .policy
            .outside_window
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            return Ok(WindowCheck::Overridden {
                reason: reason.to_string(),
            });
        }
        let override_hint = "or pass --outside-window \"reason\" (the reason is journaled)";
        let compiled = compiled.map_err(|e| {
            Refused::new(e, format!("fix `windows` in the profile, {override_hint}"))
        })?;
        if compiled.is_empty() {
            return Err(Refused::new(
                format!("{why} needs a maintenance window and the profile has none configured"),
                format!(
                    "configure `windows` in the profile (days, start, end, tz), {override_hint}"
                ),
            ));
        }
        let list = self
            .policy
            .windows
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let now_there = match jiff::tz::TimeZone::get(&self.policy.windows[0].tz) {
            Ok(tz) => window::show(&now.to_zoned(tz)),
            Err(_) => now.to_string(),
        };
        let how = match window::next_opening_compiled(&compiled, now) {
            Some(next) => format!(
                "wait for the next window, which opens {}, {override_hint}",
                window::show(&next.opens)
            ),
            None => format!("wait for the next window, {override_hint}"),
        };
        Err(Refused::new(
            format!("{why} needs a maintenance window; now ({now_there}) is outside the profile's windows ({list})"),
            how,
        ))
    }

    /// The writes held so far in dry-run, in order.
    pub fn plan(&self) -> Vec<PlannedWrite> {
        self.state().plan.clone()
    }

    /// Writes let through so far: sent (or, in dry-run, held). This is what `max_changes` caps.
    pub fn changes_made(&self) -> u64 {
        self.state().changes
    }

    /// One confirmation for a whole bulk run that will make up to `expected_irreversible`
    /// irreversible changes; afterwards `before` and `confirm` do not prompt per call.
    /// Refuses up front when the run cannot fit under `max_changes`.
    pub fn begin_bulk(&self, expected_irreversible: u64, what: &str) -> Result<(), Refused> {
        if expected_irreversible == 0 {
            return Ok(());
        }
        let n = expected_irreversible;
        if self.is_read_only() {
            return Err(Refused::new(
                format!("read-only mode: {what} would make {n} irreversible change(s)"),
                "nothing was sent; run without --read-only to make changes",
            ));
        }
        if let Some(max) = self.policy.max_changes {
            if n > max {
                return Err(Refused::new(
                    format!("blast radius: {what} would make {n} irreversible change(s), more than max_changes = {max}"),
                    format!("nothing was sent; re-run with --max-changes {n} if that many is intended, or split the input"),
                ));
            }
        }
        if self.policy.dry_run {
            return Ok(());
        }
        if !self.policy.assume_yes {
            if !self.policy.interactive {
                return Err(Refused::new(
                    format!("{what} will make {n} irreversible change(s) and needs one confirmation, but no terminal is attached"),
                    HOW_NO_TERMINAL,
                ));
            }
            let question = format!(
                "IRREVERSIBLE: {what}\n  This bulk run will make up to {n} irreversible change(s) that cannot be undone.\nProceed with all of them?"
            );
            match self.ask(&question) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Refused::new(
                        format!("the operator declined {what}"),
                        "nothing was sent",
                    ))
                }
                Err(e) => {
                    return Err(Refused::new(
                        format!("could not ask to confirm {what}: {e}"),
                        HOW_NO_TERMINAL,
                    ))
                }
            }
        }
        self.state().bulk_approved = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
