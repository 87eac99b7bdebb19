//! What `run`, `bulk` and `repl` open before a script runs: the profile, the clients (and the
//! embedded sandbox on the sandbox profile), the journal, and the Ctrl-C hook.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::api::clients::Clients;
use crate::cli::Global;
use crate::config::Profile;
use crate::host::session::Session;
use crate::journal::Journal;
use crate::sandbox::Sandbox;

/// A profile with its clients; keeps the embedded sandbox alive while it lives.
pub struct Opened {
    pub profile: Profile,
    pub clients: Clients,
    pub sandbox: Option<Sandbox>,
}

pub fn open(global: &Global) -> anyhow::Result<Opened> {
    let profile = super::config::load_profile(global)?;
    let (clients, sandbox, profile) = super::call::open_clients_for(profile)?;
    Ok(Opened {
        profile,
        clients,
        sandbox,
    })
}

/// Bound a run: its service calls (the profile's `max_calls` or `--max-calls`, plus
/// [`BULK_CALLS_PER_ROW`](crate::config::BULK_CALLS_PER_ROW) per row of a bulk run) and its
/// wall-clock time (`max_run_secs` or `--max-run-secs`).
pub fn bound_run(opened: &Opened, max_calls: Option<u64>, max_run_secs: Option<u64>, rows: u64) {
    let calls = max_calls
        .unwrap_or(opened.profile.max_calls)
        .saturating_add(rows.saturating_mul(crate::config::BULK_CALLS_PER_ROW));
    let secs = max_run_secs.unwrap_or(opened.profile.max_run_secs);
    opened
        .clients
        .transport
        .set_budget(crate::api::http::Budget::new(calls, secs));
}

/// Give a script session the profile's naming convention and default org.
pub fn configure_session(s: &mut Session, p: &Profile) {
    let naming = p.naming.clone();
    s.naming = Box::new(move |n| naming.render(n));
    s.default_org = p.movius_org.clone();
    s.default_region = p.default_region;
}

/// The audit journal in the data directory.
pub fn journal() -> anyhow::Result<Arc<Journal>> {
    let path = crate::config::journal_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    Ok(Arc::new(Journal::open(&path)?))
}

/// Who the journal names: the profile's `operator`, else `VLINE_OPERATOR`, else the OS user.
pub fn operator(profile: &Profile) -> String {
    profile
        .operator
        .clone()
        .unwrap_or_else(crate::journal::current_operator)
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
                    crate::bulk::run::DRAIN_LIMIT.as_secs()
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

/// A session bound to nothing (its URLs lead nowhere), so that scripts compile against the real
/// module signatures — `vline check` and the compile step before a run make no call.
pub fn offline_session() -> anyhow::Result<Arc<Session>> {
    let profile = crate::config::Config::default()
        .profile(None)?
        .with_sandbox_urls(
            "http://127.0.0.1:9/zoom/v2",
            "http://127.0.0.1:9/zoom/oauth/token",
            "http://127.0.0.1:9/movius",
            "http://127.0.0.1:9/carrier",
        );
    let secrets = profile.resolve_secrets()?;
    let clients = profile.clients(&secrets)?;
    let guard = Arc::new(crate::guard::Guard::new(
        crate::guard::Policy {
            read_only: true,
            dry_run: true,
            assume_yes: false,
            max_changes: Some(0),
            outside_window: None,
            windows: vec![],
            interactive: false,
        },
        Box::new(crate::guard::TerminalPrompter),
    ));
    Ok(Arc::new(Session::new(
        clients, guard, None, "offline", true,
    )))
}

/// An engine for compiling only.
pub fn compile_engine() -> anyhow::Result<rhai::Engine> {
    Ok(crate::host::engine::build(
        Some(&offline_session()?),
        crate::host::engine::Limits::default(),
    ))
}
