//! Local emulator of Movius, the carrier and Zoom, served over HTTP on loopback.
//!
//! One port, four prefixes: `/zoom/v2` (Zoom API), `/zoom/oauth/token` (Zoom server-to-server
//! OAuth), `/movius` (Movius MCP web API), `/carrier` (carrier PTN API); `GET /` and `/_sandbox/…`
//! answer with status, the request log, faults and reset. The state lives in SQLite so that it
//! carries from one command to the next. The sandbox shares only wire types with `crate::api`: it
//! is reached over HTTP like the real services, never by a shortcut.
//!
//! ```no_run
//! use vline::sandbox::{Sandbox, SandboxOptions};
//! let sb = Sandbox::start(SandboxOptions::default()).unwrap();
//! println!("{}", sb.zoom_api_url());
//! sb.shutdown();
//! ```

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::api::ZoomPlan;

mod carrier;
mod faults;
mod limits;
mod movius;
mod reqlog;
mod seed;
mod server;
pub mod spec;
mod store;
mod table;
mod world;
mod zoom;

pub use faults::{parse_latency, Burst429, Faults, TIMEOUT_SECS as HANG_SECS};
pub use reqlog::LoggedRequest;

/// Demo Zoom OAuth client id (documented, like local cloud emulators do).
pub const ZOOM_CLIENT_ID: &str = "sandbox-client";
/// Demo Zoom OAuth client secret.
pub const ZOOM_CLIENT_SECRET: &str = "sandbox-secret";
/// Demo Zoom account id.
pub const ZOOM_ACCOUNT_ID: &str = "sandbox-account";
/// Demo Movius (and carrier) API user.
pub const MOVIUS_USER: &str = "sandbox-api";
/// Demo Movius (and carrier) API password.
pub const MOVIUS_PASSWORD: &str = "sandbox-api-secret";

/// Where the sandbox keeps its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateLocation {
    /// A SQLite file (created with its directory when missing).
    File(PathBuf),
    /// A private in-memory database (tests).
    Memory,
}

impl StateLocation {
    /// `:memory:` → memory, anything else → a file path.
    pub fn parse(s: &str) -> StateLocation {
        if s == ":memory:" {
            StateLocation::Memory
        } else {
            StateLocation::File(PathBuf::from(s))
        }
    }
}

impl std::fmt::Display for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateLocation::File(p) => write!(f, "{}", p.display()),
            StateLocation::Memory => f.write_str(":memory:"),
        }
    }
}

/// What a new state starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Seed {
    /// The guide's deployment (see docs/sandbox.md).
    #[default]
    Demo,
    /// Only the root org, the Zoom account and its sites and plans; no numbers, no accounts.
    Empty,
}

impl FromStr for Seed {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            other => Err(SandboxError::BadSeed(other.to_string())),
        }
    }
}

/// How to run a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    pub state: StateLocation,
    /// Applied only when the state is new.
    pub seed: Seed,
    /// Sets the Zoom rate limits.
    pub plan: ZoomPlan,
    pub enforce_rate_limits: bool,
    /// Ignore the `phone_number` filter on `GET /phone/numbers`, as Zoom's published spec
    /// documents no such filter.
    pub published_spec_mode: bool,
    /// Refuse Zoom request fields and query parameters the spec does not name (on by default, so
    /// that every test proves the client's request shapes; `vline sandbox serve` asks `--strict`).
    /// Required fields, types and enums are checked either way.
    pub strict: bool,
    /// The OAuth scopes the token response grants (space-separated); `None` grants the granular
    /// scope of every operation the client uses, as an app set up for vline would have.
    pub granted_scopes: Option<String>,
    /// Keep every exchange whole (request body and JSON answer), for the conformance test: the
    /// request log keeps only a body's digest.
    pub capture: Option<Capture>,
    pub token_ttl_secs: u64,
    /// How long a `next_page_token` stays valid (Zoom: 15 minutes).
    pub page_token_ttl: std::time::Duration,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            state: StateLocation::Memory,
            seed: Seed::Demo,
            plan: ZoomPlan::Business,
            enforce_rate_limits: true,
            published_spec_mode: false,
            strict: true,
            granted_scopes: None,
            capture: None,
            token_ttl_secs: 3600,
            page_token_ttl: std::time::Duration::from_secs(15 * 60),
        }
    }
}

/// One request and its answer, whole (see [`SandboxOptions::capture`]).
#[derive(Clone, Debug)]
pub struct Exchange {
    /// `zoom`, `zoom-oauth`, `movius`, `carrier`.
    pub service: String,
    pub method: String,
    /// Below the service prefix, e.g. `/phone/numbers`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
    pub response: Option<serde_json::Value>,
}

/// Where a sandbox puts the exchanges it captures.
pub type Capture = Arc<std::sync::Mutex<Vec<Exchange>>>;

/// Counts shown by `vline sandbox status`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub orgs: u64,
    pub accounts: u64,
    pub pool_numbers: u64,
    pub zoom_numbers: u64,
    pub zoom_users: u64,
    pub phone_users: u64,
    pub requests: u64,
}

/// What can go wrong starting or reading a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    // The cause is in the message, not a `source`: the sandbox's 500 answers print this error
    // alone, and a chained source would print it twice on the command line.
    #[error("sandbox state {path}: {cause}")]
    Db {
        path: String,
        cause: rusqlite::Error,
    },
    #[error("sandbox state {0}: {1}")]
    Corrupt(String, String),
    #[error("cannot create the sandbox data directory {0}: {1}")]
    Dir(String, std::io::Error),
    #[error(
        "cannot listen on 127.0.0.1:{port}: {cause} (is another sandbox running? try --port 0)"
    )]
    Bind { port: u16, cause: std::io::Error },
    #[error("cannot start the sandbox runtime: {0}")]
    Runtime(std::io::Error),
    #[error("unknown seed '{0}': use 'demo' or 'empty'")]
    BadSeed(String),
}

/// The data directory: `$VLINE_HOME`, else `$XDG_DATA_HOME/vline`, else `~/.local/share/vline`.
pub fn data_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("VLINE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h);
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("vline");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/vline")
}

/// The default state file: `sandbox.sqlite` in the data directory.
pub fn default_state_path() -> PathBuf {
    data_dir().join("sandbox.sqlite")
}

/// A running sandbox server. Dropping it (or [`Sandbox::shutdown`]) stops it.
pub struct Sandbox {
    port: u16,
    store: Arc<store::Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Start on an ephemeral loopback port; returns once it is listening.
    pub fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        Self::start_on(opts, 0)
    }

    /// Start on `127.0.0.1:port` (0 picks a free port).
    pub fn start_on(opts: SandboxOptions, port: u16) -> Result<Sandbox, SandboxError> {
        let store = Arc::new(store::Store::open(&opts.state, opts.seed)?);
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|cause| SandboxError::Bind { port, cause })?;
        listener
            .set_nonblocking(true)
            .map_err(|cause| SandboxError::Bind { port, cause })?;
        let port = listener
            .local_addr()
            .map_err(|cause| SandboxError::Bind { port, cause })?
            .port();
        let (stop, thread) = server::spawn(listener, store.clone(), opts)?;
        Ok(Sandbox {
            port,
            store,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    /// Zoom API base (`…/zoom/v2`).
    pub fn zoom_api_url(&self) -> String {
        format!("{}/zoom/v2", self.base_url())
    }
    /// Zoom OAuth token endpoint (`…/zoom/oauth/token`).
    pub fn zoom_oauth_url(&self) -> String {
        format!("{}/zoom/oauth/token", self.base_url())
    }
    /// Movius base (`…/movius`); the MCP paths follow it.
    pub fn movius_url(&self) -> String {
        format!("{}/movius", self.base_url())
    }
    /// Carrier base (`…/carrier`).
    pub fn carrier_url(&self) -> String {
        format!("{}/carrier", self.base_url())
    }

    /// Replace the faults; persisted in the state so a later process sees them.
    pub fn set_faults(&self, f: Faults) {
        if let Err(e) = self.store.set_faults(&f) {
            tracing::warn!("sandbox: cannot store faults: {e}");
        }
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.store.faults().unwrap_or_default()
    }

    /// Add `n` licensed Zoom Phone users with extensions on `site` (`bench00001@jpmc.example` …,
    /// numbered on from those already there); their emails. For benchmarks and scale tests.
    pub fn seed_phone_users(&self, n: u64, site: &str) -> Result<Vec<String>, SandboxError> {
        self.store
            .transact(|w| (seed::phone_users(w, n, site), true))
    }

    /// Add `m` unassigned Zoom-native numbers (`+1415…`): a larger account for scale tests.
    pub fn seed_extra_numbers(&self, m: u64) -> Result<(), SandboxError> {
        self.store.transact(|w| {
            seed::extra_numbers(w, m);
            ((), true)
        })
    }

    /// Put numbers into the Movius pool of `org` (what the carrier does before a window).
    pub fn seed_pool(&self, numbers: &[String], org: &str) -> Result<(), SandboxError> {
        self.store.transact(|w| {
            seed::pool_numbers(w, numbers, org);
            ((), true)
        })
    }

    /// Add `m` numbers held by the bench users (a large account in use; see
    /// [`seed::assigned_numbers`]).
    pub fn seed_assigned_numbers(&self, m: u64) -> Result<(), SandboxError> {
        self.store.transact(|w| {
            seed::assigned_numbers(w, m);
            ((), true)
        })
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.store.requests().unwrap_or_default()
    }

    /// Counts of the current state.
    pub fn counts(&self) -> Counts {
        self.store.counts().unwrap_or_default()
    }

    /// Stop serving and wait for the server thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("port", &self.port).finish()
    }
}

/// Wipe the state and load a seed.
pub fn reset(state: &StateLocation, seed: Seed) -> Result<(), SandboxError> {
    // A state file from another vline version may not even open: reset starts from nothing.
    if let StateLocation::File(path) = state {
        if store::Store::open(state, seed).is_err() {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
    let store = store::Store::open(state, seed)?;
    store.reset(seed)
}

/// Add the scale seed to a state: `users` licensed phone users (`bench00001@jpmc.example` … on
/// site-chicago) and `extra_numbers` Zoom-native numbers; the users' emails.
pub fn seed_scale(
    state: &StateLocation,
    users: u64,
    extra_numbers: u64,
) -> Result<Vec<String>, SandboxError> {
    let store = store::Store::open(state, Seed::Demo)?;
    let emails = store.transact(|w| (seed::phone_users(w, users, "site-chicago"), true))?;
    store.transact(|w| {
        seed::extra_numbers(w, extra_numbers);
        ((), true)
    })?;
    Ok(emails)
}

/// Add `m` Zoom-native numbers held by the bench users (`vline sandbox reset --held-numbers`):
/// an account whose numbers are in use, its unassigned list unchanged.
pub fn seed_held_numbers(state: &StateLocation, m: u64) -> Result<(), SandboxError> {
    let store = store::Store::open(state, Seed::Demo)?;
    store.transact(|w| {
        seed::assigned_numbers(w, m);
        ((), true)
    })
}

/// Counts of the state (opens it, seeding a new one with the demo seed).
pub fn status(state: &StateLocation) -> Result<Counts, SandboxError> {
    store::Store::open(state, Seed::Demo)?.counts()
}

/// The request log stored in the state.
pub fn read_request_log(state: &StateLocation) -> Result<Vec<LoggedRequest>, SandboxError> {
    store::Store::open(state, Seed::Demo)?.requests()
}

/// The faults stored in the state.
pub fn read_faults(state: &StateLocation) -> Result<Faults, SandboxError> {
    store::Store::open(state, Seed::Demo)?.faults()
}

/// Store faults in the state (a running `serve` on the same file picks them up at its next request).
pub fn write_faults(state: &StateLocation, f: &Faults) -> Result<(), SandboxError> {
    store::Store::open(state, Seed::Demo)?.set_faults(f)
}
