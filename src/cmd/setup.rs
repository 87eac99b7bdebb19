//! The command-line side of opening a run: the profile `--config`/`--profile` names, `--ticket`,
//! the Ctrl-C hooks, and the script modules every command offers. The library side (clients,
//! sandbox, journal) is `crate::connect`.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::cli::Global;
use crate::config::Profile;
use crate::connect::{connect, ConnectError, Connection};
use crate::host::engine::Registrar;
use crate::host::session::Session;

/// The script modules above the host that every command's engines offer (bulk's `bulk::`).
pub const MODULES: &[Registrar] = &[crate::bulk::script::register];

/// The profile `--config`/`--profile` name, opened (a profile the operator must fix is exit 2).
pub fn open(global: &Global) -> anyhow::Result<Connection> {
    let profile = super::config::load_profile(global)?;
    connect(profile).map_err(|e| match e {
        ConnectError::Config(c) => super::config::usage(c),
        other => other.into(),
    })
}

/// A script session of a command: the profile's settings and the modules every command offers.
pub fn configure(s: &mut Session, p: &Profile) {
    crate::connect::configure_session(s, p);
    s.modules = MODULES.to_vec();
}

/// The run's change ticket (`--ticket`); refused (exit 2) when the profile requires one.
pub fn ticket(global: &Global, profile: &Profile) -> Result<Option<String>, super::Usage> {
    let t = global
        .ticket
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    if t.is_none() && profile.require_ticket {
        return Err(super::Usage(format!(
            "profile {} requires a change ticket: add --ticket ID (e.g. --ticket CHG-4242); nothing was run",
            profile.name
        )));
    }
    Ok(t)
}

pub fn hostname() -> String {
    crate::journal::current_host()
}

static CANCEL: OnceLock<Arc<AtomicBool>> = OnceLock::new();
static PRESSES: AtomicU32 = AtomicU32::new(0);

/// First Ctrl-C: stop the script at its next operation (what was sent is journaled).
/// Second Ctrl-C: leave at once.
pub fn on_ctrl_c(flag: Arc<AtomicBool>) {
    if CANCEL.set(flag).is_err() {
        return;
    }
    let _ = ctrlc::set_handler(|| {
        if PRESSES.fetch_add(1, Ordering::SeqCst) >= 1 {
            eprintln!("\ninterrupted twice: leaving now");
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: stopping at the next operation (Ctrl-C again to leave at once)");
        // A question waiting on the terminal is answered no.
        crate::guard::interrupt_prompts();
        if let Some(c) = CANCEL.get() {
            c.store(true, Ordering::SeqCst);
        }
    });
}

static DRAIN: OnceLock<(Arc<AtomicBool>, Arc<AtomicBool>)> = OnceLock::new();

/// Ctrl-C for a bulk run, as admins expect. First: take no new row, let the rows in flight
/// finish (at most 30 s, counted down), print the summary and the resume command. Second:
/// abandon the calls in flight; their rows are recorded as interrupted with what the journal
/// shows was sent. Third: leave at once.
pub fn on_ctrl_c_bulk(drain: Arc<AtomicBool>, abandon: Arc<AtomicBool>) {
    if DRAIN.set((drain, abandon)).is_err() {
        return;
    }
    let _ = ctrlc::set_handler(|| {
        let Some((drain, abandon)) = DRAIN.get() else {
            return;
        };
        match PRESSES.fetch_add(1, Ordering::SeqCst) {
            0 => {
                eprintln!(
                    "\ninterrupt: no new rows; the rows in flight finish (at most {} s), then the summary and the resume command (Ctrl-C again to abandon them)",
                    crate::bulk::rows::DRAIN_LIMIT.as_secs()
                );
                drain.store(true, Ordering::SeqCst);
            }
            1 => {
                eprintln!("\ninterrupted twice: abandoning the calls in flight (their rows are recorded as interrupted)");
                abandon.store(true, Ordering::SeqCst);
            }
            _ => {
                eprintln!("\ninterrupted three times: leaving now");
                std::process::exit(130);
            }
        }
    });
}

/// A session bound to nothing, with the modules every command offers (see
/// [`crate::connect::offline_session`]).
pub fn offline_session() -> anyhow::Result<Arc<Session>> {
    let mut s = crate::connect::offline_session()?;
    s.modules = MODULES.to_vec();
    Ok(Arc::new(s))
}

/// An engine for compiling only.
pub fn compile_engine() -> anyhow::Result<rhai::Engine> {
    Ok(crate::host::engine::build(
        Some(&offline_session()?),
        crate::host::engine::Limits::default(),
    ))
}
