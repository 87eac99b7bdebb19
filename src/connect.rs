//! Opening a profile for a run: its clients (and the embedded sandbox on the sandbox profile), the
//! audit journal, the run's bounds, and a script session set up from the profile. What `vline run`,
//! `bulk`, `repl`, `call` and `doctor` open before anything is sent.

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::clients::Clients;
use crate::config::{ConfigError, Profile};
use crate::host::session::Session;
use crate::journal::{Journal, JournalError};
use crate::sandbox::{Sandbox, SandboxError, SandboxOptions, StateLocation};

/// A profile with its clients; keeps the embedded sandbox alive while it lives.
pub struct Connection {
    pub profile: Profile,
    pub clients: Clients,
    pub sandbox: Option<Sandbox>,
}

/// Why a profile could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The profile itself is wrong (a secret missing, a URL refused): the operator's to fix.
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot start the sandbox on {}", path.display())]
    Sandbox {
        path: PathBuf,
        #[source]
        source: SandboxError,
    },
}

/// Open `profile`: its secrets first (a missing one stops here, before a sandbox starts or a
/// call leaves), then on the sandbox profile the embedded sandbox on its state in the data
/// directory, then the clients.
pub fn connect(profile: Profile) -> Result<Connection, ConnectError> {
    let secrets = profile.resolve_secrets()?;
    let (profile, sandbox) = if profile.is_sandbox() {
        let path = crate::config::data_dir().join("sandbox.sqlite");
        let opts = SandboxOptions {
            state: StateLocation::File(path.clone()),
            plan: profile.zoom_plan,
            ..SandboxOptions::default()
        };
        let sb = Sandbox::start(opts).map_err(|source| ConnectError::Sandbox { path, source })?;
        let p = profile.with_sandbox_urls(
            &sb.zoom_api_url(),
            &sb.zoom_oauth_url(),
            &sb.movius_url(),
            &sb.carrier_url(),
        );
        (p, Some(sb))
    } else {
        (profile, None)
    };
    let clients = profile.clients(&secrets)?;
    Ok(Connection {
        profile,
        clients,
        sandbox,
    })
}

impl Connection {
    /// Bound a run: its service calls (the profile's `max_calls` or the caller's, plus
    /// [`BULK_CALLS_PER_ROW`](crate::config::BULK_CALLS_PER_ROW) per row of a bulk run) and its
    /// wall-clock time (`max_run_secs` or the caller's).
    pub fn bound_run(&self, max_calls: Option<u64>, max_run_secs: Option<u64>, rows: u64) {
        let calls = max_calls
            .unwrap_or(self.profile.max_calls)
            .saturating_add(rows.saturating_mul(crate::config::BULK_CALLS_PER_ROW));
        let secs = max_run_secs.unwrap_or(self.profile.max_run_secs);
        self.clients
            .transport
            .set_budget(crate::api::http::Budget::new(calls, secs));
    }
}

/// Give a script session the profile's naming convention, default org and region.
pub fn configure_session(s: &mut Session, p: &Profile) {
    let naming = p.naming.clone();
    s.naming = Box::new(move |n| naming.render(n));
    s.default_org = p.movius_org.clone();
    s.default_region = p.default_region;
}

/// The audit journal in the data directory.
pub fn journal() -> Result<Arc<Journal>, JournalError> {
    Ok(Arc::new(Journal::open(&crate::config::journal_path())?))
}

/// Who the journal names: the profile's `operator`, else `VLINE_OPERATOR`, else the OS user.
pub fn operator(profile: &Profile) -> String {
    profile
        .operator
        .clone()
        .unwrap_or_else(crate::journal::current_operator)
}

/// A session bound to nothing (its URLs lead nowhere), so that scripts compile against the real
/// module signatures: `vline check` and the compile step before a run make no call.
pub fn offline_session() -> Result<Session, ConfigError> {
    let profile = crate::config::Config::default()
        .profile(None)?
        .with_sandbox_urls(
            "http://127.0.0.1:9/zoom/v2",
            "http://127.0.0.1:9/zoom/oauth/token",
            "http://127.0.0.1:9/movius",
            "http://127.0.0.1:9/carrier",
        );
    let clients = profile.clients(&profile.resolve_secrets()?)?;
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
    Ok(Session::new(clients, guard, None, "offline", true))
}
