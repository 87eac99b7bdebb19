//! Guardrails: impact levels, confirmation, maintenance windows, dry-run plan, read-only, blast radius.
//!
//! The host asks [`Guard::before`] ahead of every operation; a script cannot skip it because the
//! impact level is part of the operation's registration, not of the script.

pub mod impact;
pub mod plan;
mod prompt;
mod redact;
pub mod window;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

pub use impact::Impact;
pub use plan::{render as render_plan, Plan, PlanContext, PlannedWrite, Style, PLACEHOLDER};
pub use prompt::{interrupt_prompts, terminal_attached, Prompter, TerminalPrompter};
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

/// An approved plan's writes, each with whether the live pass sent it yet, and its questions.
type Approved = (Vec<(PlannedWrite, bool)>, Vec<String>);

#[derive(Debug, Default)]
struct State {
    plan: Vec<PlannedWrite>,
    /// What the script asked (`guard::confirm`) while its writes were held.
    questions: Vec<String>,
    /// The plan the operator approved, each write with whether the live pass sent it yet. While
    /// set, only writes it holds are sent.
    approved: Option<Approved>,
    /// Writes let through (sent, or held in dry-run); what `max_changes` caps.
    changes: u64,
    /// One confirmation covered the whole bulk run.
    bulk_approved: bool,
    /// In a bulk run: the operations the operator confirmed; any other write is refused.
    bulk_ops: Option<Vec<String>>,
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
    /// Reads are always sent. A write is refused in read-only mode. In dry-run (the plan pass)
    /// it is held in the plan, never sent. While an approved plan is set (the live pass), a
    /// write is sent only if the plan holds it, else refused: the state moved since the plan.
    /// Otherwise (the REPL's lines, bulk rows) it counts toward `max_changes` (refused past it),
    /// and an irreversible one needs a yes naming its target and what cannot be undone, unless
    /// `--yes` or a bulk confirmation covers it.
    pub fn before(&self, call: &Call) -> Result<Decision, Refused> {
        if !call.impact.changes_state() {
            return Ok(Decision::Send);
        }
        let what = format!("{} on {}", call.op, call.target);
        if self.is_read_only() {
            return Err(Refused::new(
                format!("read-only mode: {what} would change state ({})", call.impact),
                "run without --read-only to make changes (in the REPL: `:write on`; with `vline call`: --allow-write)",
            ));
        }
        let needs_yes = {
            let mut st = self.state();
            // A plan larger than the cap is refused whole; holding stops there, so a runaway
            // loop stops in the plan pass, before anything is sent.
            if let Some(max) = self.policy.max_changes {
                if st.changes >= max {
                    return Err(Refused::new(
                        format!("blast radius: this run reached max_changes = {max} and {what} would be change {}", max + 1),
                        format!(
                            "if more changes are intended, re-run with --max-changes N (N > {max}), or split the work into smaller runs"
                        ),
                    ));
                }
            }
            if self.policy.dry_run {
                st.changes += 1;
                let seq = st.plan.len() as u64 + 1;
                st.plan.push(PlannedWrite {
                    seq,
                    op: call.op.clone(),
                    impact: call.impact,
                    target: call.target.clone(),
                    params: redact(&call.params),
                    undo: call.undo_note.clone(),
                });
                return Ok(Decision::Hold { seq });
            }
            if let Some((approved, _)) = &mut st.approved {
                let params = redact(&call.params);
                let found = approved.iter_mut().find(|(w, sent)| {
                    !*sent && w.admits(&call.op, call.impact, &call.target, &params)
                });
                return match found {
                    Some((_, sent)) => {
                        *sent = true;
                        st.changes += 1;
                        Ok(Decision::Send)
                    }
                    None => Err(Refused::new(
                        format!("the state moved since the plan was approved: {what} ({}) is not in the plan", call.impact),
                        "run the command again: it re-reads the state and shows the new plan",
                    )),
                };
            }
            if let Some(ops) = &st.bulk_ops {
                if !ops.iter().any(|o| o == &call.op) {
                    return Err(Refused::new(
                        format!(
                            "{what} is not one of the operations confirmed for this bulk run ({})",
                            ops.join(", ")
                        ),
                        "declare it in the script's `//! writes:` header line and run again",
                    ));
                }
            }
            st.changes += 1;
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

    /// The operator's one decision on a whole plan, before its first write.
    ///
    /// Refused when the plan has more writes than `max_changes` (naming both numbers), in
    /// read-only mode, when the operator answers no, and without a terminal when the plan holds
    /// an irreversible write and `--yes` was not given. A plan of reversible writes runs without
    /// a terminal (the plan is printed by the caller). On approval, the live pass may send only
    /// the writes the plan holds (see [`Guard::before`]). An empty plan asks nothing.
    pub fn approve(&self, plan: &Plan, ctx: &PlanContext, style: Style) -> Result<(), Refused> {
        let n = plan.len();
        if n > 0 {
            if self.is_read_only() {
                return Err(Refused::new(
                    format!("read-only mode: the plan for {} has {n} write(s)", ctx.what),
                    "allow writes to send them: `vline call … --allow-write`, `vline run` without --read-only, `:write on` in the REPL",
                ));
            }
            if let Some(max) = self.policy.max_changes {
                if n > max {
                    return Err(Refused::new(
                        format!("blast radius: the plan for {} has {n} write(s), more than max_changes = {max}", ctx.what),
                        format!("re-run with --max-changes {n} if that many is intended, or split the work into smaller runs"),
                    ));
                }
            }
            if !self.policy.assume_yes {
                if self.policy.interactive {
                    let question = format!(
                        "{}\nApply this plan?",
                        plan::render(plan, ctx, style, crate::output::table::stderr_width())
                    );
                    self.ask_yes(
                        &question,
                        &format!("the plan for {}", ctx.what),
                        "change the parameters or the state and run again",
                    )?;
                } else if plan.irreversible() > 0 || !plan.questions.is_empty() {
                    let first = plan
                        .writes
                        .iter()
                        .find(|w| w.impact == Impact::Irreversible)
                        .map(|w| format!("{} on {}", w.op, w.target))
                        .or_else(|| {
                            plan.questions
                                .first()
                                .map(|q| format!("the question \"{q}\""))
                        })
                        .unwrap_or_default();
                    return Err(Refused::new(
                        format!(
                            "the plan for {} has {} irreversible write(s) (first: {first}) and needs a confirmation, but no terminal is attached",
                            ctx.what,
                            plan.irreversible()
                        ),
                        HOW_NO_TERMINAL,
                    ));
                }
            }
        }
        self.set_approved(Some(plan.clone()));
        Ok(())
    }

    /// Send only the writes `plan` holds from now on (`None`: back to asking per write).
    pub fn set_approved(&self, plan: Option<Plan>) {
        self.state().approved = plan.map(|p| {
            (
                p.writes.into_iter().map(|w| (w, false)).collect(),
                p.questions,
            )
        });
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
        self.ask_yes(&question, what, "it was not sent")
    }

    /// Ask `question`; a no (or no way to ask) refuses `what`, with `on_no` as the way on.
    fn ask_yes(&self, question: &str, what: &str, on_no: &str) -> Result<(), Refused> {
        match self.ask(question) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Refused::new(format!("the operator declined {what}"), on_no)),
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

    /// Script-level `guard::confirm(text)`: in the plan pass the question is recorded in the
    /// plan and passes; in the live pass of an approved plan that holds it, the approval answered
    /// it; with `--yes` (or after a bulk confirmation) it passes; else it asks, and a no stops
    /// the script.
    pub fn confirm(&self, text: &str) -> Result<(), Refused> {
        {
            let mut st = self.state();
            if self.policy.dry_run {
                st.questions.push(text.to_string());
                return Ok(());
            }
            let answered = st
                .approved
                .as_ref()
                .is_some_and(|(_, qs)| qs.iter().any(|q| q == text));
            if answered || self.policy.assume_yes || st.bulk_approved {
                return Ok(());
            }
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
                "the script stopped there",
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

    /// The writes held so far, taken out: the next ones start a new list. Pre-flight takes each
    /// row's this way; cloning the whole list per row was quadratic, and kept every row's writes
    /// alive until a 10,000-row pre-flight ran into the script memory limit.
    pub fn take_plan(&self) -> Vec<PlannedWrite> {
        std::mem::take(&mut self.state().plan)
    }

    /// The questions the script asked while its writes were held.
    pub fn questions(&self) -> Vec<String> {
        self.state().questions.clone()
    }

    /// The writes held so far and the questions asked, as one plan.
    pub fn held_plan(&self) -> Plan {
        let st = self.state();
        Plan {
            writes: st.plan.clone(),
            questions: st.questions.clone(),
        }
    }

    /// Writes let through so far: sent (or, in dry-run, held). This is what `max_changes` caps.
    pub fn changes_made(&self) -> u64 {
        self.state().changes
    }

    /// One confirmation for a whole bulk run, before its first row: where it runs, the rows to
    /// do and the writes they can make by operation (irreversible ones counted apart). Refused up
    /// front when that count exceeds `max_changes` (both numbers named), in read-only mode, and
    /// without a terminal when the run can make irreversible writes and `--yes` was not given.
    /// Afterwards `before` and `confirm` do not prompt per call, and a write of an operation the
    /// operator did not confirm (or of a higher impact) is refused. Nothing to do asks nothing.
    pub fn begin_bulk(
        &self,
        bulk: &BulkPlan,
        ctx: &PlanContext,
        style: Style,
    ) -> Result<(), Refused> {
        let total = bulk.writes();
        let irreversible = bulk.irreversible();
        if total > 0 {
            if self.is_read_only() {
                return Err(Refused::new(
                    format!(
                        "read-only mode: {} would make up to {total} write(s)",
                        ctx.what
                    ),
                    "run without --read-only to make changes",
                ));
            }
            if let Some(max) = self.policy.max_changes {
                if total > max {
                    return Err(Refused::new(
                        format!("blast radius: {} can make up to {total} write(s) ({} row(s) × {} operation(s)), more than max_changes = {max}", ctx.what, bulk.rows, bulk.ops.len()),
                        format!("re-run with --max-changes {total} if that many is intended, or split the input"),
                    ));
                }
            }
            if !self.policy.dry_run && !self.policy.assume_yes {
                if self.policy.interactive {
                    let question =
                        format!("{}\nProceed with all of them?", bulk.render(ctx, style));
                    self.ask_yes(&question, &ctx.what, "run again when it is intended")?;
                } else if irreversible > 0 {
                    return Err(Refused::new(
                        format!("{} can make up to {irreversible} irreversible write(s) and needs one confirmation, but no terminal is attached", ctx.what),
                        HOW_NO_TERMINAL,
                    ));
                }
            }
        }
        let mut st = self.state();
        st.bulk_approved = true;
        st.bulk_ops = Some(bulk.ops.iter().map(|(op, _)| op.clone()).collect());
        Ok(())
    }
}

/// What a bulk run can write: for each row still to do, at most one call of each operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkPlan {
    pub rows: u64,
    /// The operations the script declares (`//! writes:`), with their impact.
    pub ops: Vec<(String, Impact)>,
}

impl BulkPlan {
    pub fn writes(&self) -> u64 {
        self.rows * self.ops.len() as u64
    }

    pub fn irreversible(&self) -> u64 {
        self.rows
            * self
                .ops
                .iter()
                .filter(|(_, i)| *i == Impact::Irreversible)
                .count() as u64
    }

    /// The one question of a bulk run, as the operator reads it.
    pub fn render(&self, ctx: &PlanContext, style: Style) -> String {
        let org = ctx.movius_org.as_deref().unwrap_or("(none set)");
        let mut s = format!(
            "Bulk run: {}\n  profile {} ({}) · Zoom account {} · Movius org {}\n  {} row(s) to do; writes each row can make:\n",
            ctx.what, ctx.profile, ctx.kind, ctx.zoom_account, org, self.rows
        );
        for (op, impact) in &self.ops {
            if *impact == Impact::Irreversible {
                s.push_str(&format!(
                    "{} {op} × {}  {}\n",
                    plan::paint(style, "!"),
                    self.rows,
                    plan::paint(style, "IRREVERSIBLE")
                ));
            } else {
                s.push_str(&format!("  {op} × {}  {impact}\n", self.rows));
            }
        }
        s.push_str(&format!(
            "up to {} write(s), {} irreversible",
            self.writes(),
            self.irreversible()
        ));
        s
    }
}

#[cfg(test)]
mod tests;
