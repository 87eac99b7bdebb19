//! Profiles (sandbox | real endpoints), policy, secrets lookup.
//!
//! `config.toml` holds named profiles; secrets never live in it, only the names of the environment
//! variables that hold them, or a secrets file that must be mode 0600. With no config file at all
//! every command uses the built-in `sandbox` profile, whose URLs are filled in when the embedded
//! sandbox starts ([`Profile::with_sandbox_urls`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::clients::Clients;
use crate::api::e164::{Region, E164};
use crate::api::http::{BasicCredentials, Endpoints, TransportOptions, ZoomCredentials};
use crate::api::secret::Secret;
use crate::api::{RateShare, ZoomPlan};
use crate::guard::MaintenanceWindow;

/// Name of the built-in profile.
pub const SANDBOX: &str = "sandbox";
/// Demo credentials of the sandbox (documented, fixed, useless anywhere else).
const SANDBOX_ZOOM_ACCOUNT_ID: &str = "sandbox-account";
const SANDBOX_ZOOM_CLIENT_ID: &str = "sandbox-client";
const SANDBOX_ZOOM_CLIENT_SECRET: &str = "sandbox-secret";
const SANDBOX_MOVIUS_USER: &str = "sandbox-api";
const SANDBOX_MOVIUS_PASSWORD: &str = "sandbox-api-secret";

const DEFAULT_ZOOM_API_URL: &str = "https://api.zoom.us/v2";
const DEFAULT_ZOOM_OAUTH_URL: &str = "https://zoom.us/oauth/token";
const DEFAULT_ZOOM_SECRET_ENV: &str = "ZOOM_CLIENT_SECRET";
const DEFAULT_MOVIUS_PASSWORD_ENV: &str = "MOVIUS_PASSWORD";
const DEFAULT_MAX_CHANGES: u64 = 50;
const DEFAULT_HTTP_TIMEOUT_SECS: u64 = 30;
/// A run's wall-clock limit: a day. A 10,000-row bulk run on the slowest plan with Zoom's faults
/// takes about an hour; only a script that never ends meets it.
pub const DEFAULT_MAX_RUN_SECS: u64 = 24 * 3600;
/// Service calls one `vline run` may make. The bundled procedures make tens; reading an account
/// of 20,000 numbers is 200 pages.
pub const DEFAULT_MAX_CALLS: u64 = 10_000;
/// What a bulk run may add per row to `max_calls` (onboarding makes about 10 per row).
pub const BULK_CALLS_PER_ROW: u64 = 100;

/// A configuration problem. Each Display is one line that says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("unknown profile '{name}'; known profiles: {known}")]
    UnknownProfile { name: String, known: String },
    #[error("profile '{profile}': {field} is required for a real profile")]
    Missing {
        profile: String,
        field: &'static str,
    },
    #[error("profile '{profile}': {field} = \"{url}\": {reason}")]
    BadUrl {
        profile: String,
        field: &'static str,
        url: String,
        reason: String,
    },
    #[error("profile '{profile}': environment variable {var} is not set (it holds the {what}; or put it in a secrets_file)")]
    MissingSecret {
        profile: String,
        var: String,
        what: &'static str,
    },
    #[error(
        "secrets file {path} is readable by other users (mode {mode:03o}); run: chmod 600 {path}"
    )]
    SecretsFileMode { path: PathBuf, mode: u32 },
    #[error("profile '{profile}': {message}")]
    Invalid { profile: String, message: String },
    #[error("{0}")]
    Transport(String),
    #[error("{path} already exists; use --force to overwrite it")]
    Exists { path: PathBuf },
}

/// Whether a profile talks to the embedded sandbox or to real services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    Sandbox,
    Real,
}

impl fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileKind::Sandbox => "sandbox",
            ProfileKind::Real => "real",
        })
    }
}

/// How a new account is named from its number (the guide's convention by default: first name =
/// the number's digits, last name `JPMC`, email `<first_name>.<last_name>@jpmc.movius.ai`).
///
/// Placeholders: `{digits}` (`13126173497`), `{e164}` (`+13126173497`), and in later fields the
/// earlier ones: `{first_name}`, `{last_name}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Naming {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            first_name: "{digits}".into(),
            last_name: "JPMC".into(),
            email: "{first_name}.{last_name}@jpmc.movius.ai".into(),
        }
    }
}

impl Naming {
    /// `(first_name, last_name, email)` for a number.
    pub fn render(&self, n: &E164) -> (String, String, String) {
        let base = |t: &str| {
            t.replace("{digits}", n.digits())
                .replace("{e164}", n.as_str())
        };
        let first = base(&self.first_name);
        let last = base(&self.last_name).replace("{first_name}", &first);
        let email = base(&self.email)
            .replace("{first_name}", &first)
            .replace("{last_name}", &last);
        (first, last, email)
    }

    fn validate(&self) -> Result<(), String> {
        let sample = E164::parse("+13126173497").map_err(|e| e.to_string())?;
        let (f, l, e) = self.render(&sample);
        for (field, v) in [("first_name", &f), ("last_name", &l), ("email", &e)] {
            if v.contains('{') || v.contains('}') {
                return Err(format!(
                    "naming.{field} has an unknown placeholder ('{v}'); use {{digits}}, {{e164}}, {{first_name}}, {{last_name}}"
                ));
            }
            if v.trim().is_empty() {
                return Err(format!("naming.{field} is empty"));
            }
        }
        if !crate::api::selector::is_email(&e) {
            return Err(format!(
                "naming.email gives '{e}', which is not an email address"
            ));
        }
        Ok(())
    }
}

/// A profile as written in `config.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    kind: Option<ProfileKind>,
    zoom_api_url: Option<String>,
    zoom_oauth_url: Option<String>,
    zoom_account_id: Option<String>,
    zoom_client_id: Option<String>,
    zoom_client_secret_env: Option<String>,
    movius_url: Option<String>,
    movius_user: Option<String>,
    movius_password_env: Option<String>,
    carrier_url: Option<String>,
    secrets_file: Option<PathBuf>,
    zoom_plan: Option<String>,
    zoom_rate_share: Option<u64>,
    movius_org: Option<String>,
    naming: Option<Naming>,
    windows: Option<Vec<MaintenanceWindow>>,
    max_changes: Option<u64>,
    plan_max_age: Option<String>,
    operator: Option<String>,
    require_ticket: Option<bool>,
    http_timeout_secs: Option<u64>,
    default_region: Option<String>,
    max_run_secs: Option<u64>,
    max_calls: Option<u64>,
    /// Overrides of Movius paths by name (`api::movius::paths::ALL`).
    movius_paths: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
}

/// The loaded `config.toml` (or none).
#[derive(Debug, Default)]
pub struct Config {
    /// The file read, if there was one.
    pub path: Option<PathBuf>,
    default_profile: Option<String>,
    profiles: BTreeMap<String, RawProfile>,
}

/// A resolved profile: everything but the secrets' values.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub name: String,
    pub kind: ProfileKind,
    /// The config file it came from; `None` for the built-in sandbox profile.
    pub source: Option<PathBuf>,
    /// Empty for a sandbox profile until the sandbox starts.
    pub zoom_api_url: String,
    pub zoom_oauth_url: String,
    pub zoom_account_id: String,
    pub zoom_client_id: String,
    /// The environment variable holding the Zoom client secret (never the secret).
    pub zoom_client_secret_env: Option<String>,
    pub movius_url: String,
    pub movius_user: String,
    pub movius_password_env: Option<String>,
    /// Only a sandbox has a carrier API.
    pub carrier_url: Option<String>,
    pub secrets_file: Option<PathBuf>,
    pub zoom_plan: ZoomPlan,
    /// The share of the plan's rate limits vline paces to (lower it when other integrations
    /// call the same Zoom account).
    pub zoom_rate_share: RateShare,
    /// Default Movius org for commands that need one.
    pub movius_org: Option<String>,
    pub naming: Naming,
    pub windows: Vec<MaintenanceWindow>,
    pub max_changes: u64,
    /// How old a saved plan (`vline run --plan-out`) may be when `vline apply` runs it.
    #[serde(serialize_with = "show_duration")]
    pub plan_max_age: jiff::SignedDuration,
    /// Who the journal names as the operator (else `VLINE_OPERATOR`, else the OS user).
    pub operator: Option<String>,
    /// Refuse runs without `--ticket` (a change-managed environment).
    pub require_ticket: bool,
    pub http_timeout_secs: u64,
    /// The region of numbers written without a country code (`(312) 617-3497` with `US`);
    /// `None`: such numbers are refused.
    pub default_region: Option<Region>,
    /// A run's wall-clock limit (`--max-run-secs` raises it).
    pub max_run_secs: u64,
    /// Service calls a run may make (`--max-calls` raises it; a bulk run adds
    /// [`BULK_CALLS_PER_ROW`] per row).
    pub max_calls: u64,
    /// `[profiles.X.movius_paths]`: Movius paths the admin set (checked when loaded).
    pub movius_paths: BTreeMap<String, String>,
}

fn show_duration<S: serde::Serializer>(d: &jiff::SignedDuration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{d:#}"))
}

/// A saved plan older than this is refused by `vline apply` unless the profile says otherwise.
pub const DEFAULT_PLAN_MAX_AGE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Where a secret came from (shown by `vline config show`; the value never is).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "from", content = "where", rename_all = "snake_case")]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
    SandboxDemo,
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(v) => write!(f, "environment variable {v}"),
            SecretSource::File(p) => write!(f, "secrets file {}", p.display()),
            SecretSource::SandboxDemo => f.write_str("the sandbox's demo credentials"),
        }
    }
}

/// The secrets a profile needs, looked up.
#[derive(Clone, Debug)]
pub struct ResolvedSecrets {
    pub zoom_client_secret: Secret,
    pub zoom_client_secret_from: SecretSource,
    pub movius_password: Secret,
    pub movius_password_from: SecretSource,
}

/// Which secret: its config field, its secrets-file key, its default variable, what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    ZoomClientSecret,
    MoviusPassword,
}

impl SecretKind {
    fn file_key(self) -> &'static str {
        match self {
            SecretKind::ZoomClientSecret => "zoom_client_secret",
            SecretKind::MoviusPassword => "movius_password",
        }
    }
    fn default_env(self) -> &'static str {
        match self {
            SecretKind::ZoomClientSecret => DEFAULT_ZOOM_SECRET_ENV,
            SecretKind::MoviusPassword => DEFAULT_MOVIUS_PASSWORD_ENV,
        }
    }
    fn what(self) -> &'static str {
        match self {
            SecretKind::ZoomClientSecret => "Zoom OAuth client secret",
            SecretKind::MoviusPassword => "Movius API user's password",
        }
    }
    fn sandbox_value(self) -> &'static str {
        match self {
            SecretKind::ZoomClientSecret => SANDBOX_ZOOM_CLIENT_SECRET,
            SecretKind::MoviusPassword => SANDBOX_MOVIUS_PASSWORD,
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn home_dir() -> PathBuf {
    env_var("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$VLINE_HOME`, else `$XDG_DATA_HOME/vline`, else `~/.local/share/vline`.
pub fn data_dir() -> PathBuf {
    data_dir_from(&env_var)
}

/// Where the journal lives: `journal.sqlite` in the data directory, the same one every command uses.
pub fn journal_path() -> PathBuf {
    data_dir().join("journal.sqlite")
}

fn data_dir_from(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(h) = env("VLINE_HOME") {
        return PathBuf::from(h);
    }
    if let Some(x) = env("XDG_DATA_HOME") {
        return PathBuf::from(x).join("vline");
    }
    env("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(home_dir)
        .join(".local/share/vline")
}

/// `--config`, else `$VLINE_HOME/config.toml` when VLINE_HOME is set and the file exists, else
/// `$XDG_CONFIG_HOME/vline/config.toml`, else `~/.config/vline/config.toml`.
pub fn config_path(explicit: Option<&Path>) -> PathBuf {
    config_path_from(explicit, &env_var)
}

fn config_path_from(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(h) = env("VLINE_HOME") {
        let p = PathBuf::from(h).join("config.toml");
        if p.exists() {
            return p;
        }
    }
    if let Some(x) = env("XDG_CONFIG_HOME") {
        return PathBuf::from(x).join("vline/config.toml");
    }
    env("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(home_dir)
        .join(".config/vline/config.toml")
}

/// Where `vline config init` writes: `--config`, else `$VLINE_HOME/config.toml` when VLINE_HOME
/// is set, else the XDG path.
pub fn init_path(explicit: Option<&Path>) -> PathBuf {
    match (explicit, env_var("VLINE_HOME")) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(h)) => PathBuf::from(h).join("config.toml"),
        (None, None) => config_path(None),
    }
}

/// First line of a (possibly multi-line) parser message, so errors stay one line.
fn one_line(s: &str) -> String {
    let mut lines = s.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").to_string();
    // toml puts the reason on the last line, after a source excerpt.
    match s
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with('^'))
    {
        Some(last) if last != first => format!("{first} {last}"),
        _ => first,
    }
}

impl Config {
    /// Read the config file at `config_path(explicit)`. A missing default file means no config
    /// (the sandbox); a missing `--config` file is an error.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = config_path(explicit);
        if !path.exists() {
            if explicit.is_some() {
                return Err(ConfigError::Read {
                    path,
                    message: "no such file".into(),
                });
            }
            return Ok(Config::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Config::parse(&text, Some(path))
    }

    /// Parse config text (`path` only labels errors).
    pub fn parse(text: &str, path: Option<PathBuf>) -> Result<Config, ConfigError> {
        let label = path.clone().unwrap_or_else(|| PathBuf::from("config.toml"));
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: label,
            message: one_line(&e.to_string()),
        })?;
        Ok(Config {
            path,
            default_profile: raw.default_profile,
            profiles: raw.profiles,
        })
    }

    /// Profile names, the built-in sandbox included.
    pub fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.profiles.keys().cloned().collect();
        if !self.profiles.contains_key(SANDBOX) {
            names.push(SANDBOX.to_string());
        }
        names.sort();
        names
    }

    /// The profile named, else `default_profile`, else the sandbox.
    pub fn profile(&self, name: Option<&str>) -> Result<Profile, ConfigError> {
        let name = name
            .map(str::to_string)
            .or_else(|| self.default_profile.clone())
            .unwrap_or_else(|| SANDBOX.to_string());
        match self.profiles.get(&name) {
            Some(raw) => Profile::from_raw(&name, raw, self.path.clone()),
            None if name == SANDBOX => Profile::from_raw(
                SANDBOX,
                &RawProfile {
                    kind: Some(ProfileKind::Sandbox),
                    // The demo seed's sub-org that is allowed and enabled for Zoom.
                    movius_org: Some("org-zoom".into()),
                    ..RawProfile::default()
                },
                None,
            ),
            None => Err(ConfigError::UnknownProfile {
                name,
                known: self.profile_names().join(", "),
            }),
        }
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// https, or http to a loopback host only.
fn check_url(profile: &str, field: &'static str, url: &str) -> Result<(), ConfigError> {
    let bad = |reason: &str| ConfigError::BadUrl {
        profile: profile.to_string(),
        field,
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&format!("not a URL ({e})")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(bad(
            "real endpoints must use https (http is allowed only for 127.0.0.1, ::1 or localhost)",
        )),
        other => Err(bad(&format!(
            "scheme '{other}' is not supported; use https"
        ))),
    }
}

impl Profile {
    fn from_raw(
        name: &str,
        raw: &RawProfile,
        source: Option<PathBuf>,
    ) -> Result<Profile, ConfigError> {
        let kind = raw.kind.unwrap_or(ProfileKind::Real);
        let sandbox = kind == ProfileKind::Sandbox;
        let invalid = |message: String| ConfigError::Invalid {
            profile: name.to_string(),
            message,
        };
        let req = |v: &Option<String>,
                   field: &'static str,
                   sandbox_default: &str|
         -> Result<String, ConfigError> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => Ok(s.to_string()),
                None if sandbox => Ok(sandbox_default.to_string()),
                None => Err(ConfigError::Missing {
                    profile: name.to_string(),
                    field,
                }),
            }
        };
        let url_or = |v: &Option<String>, default: &str| {
            v.clone().unwrap_or_else(|| {
                if sandbox {
                    String::new()
                } else {
                    default.to_string()
                }
            })
        };
        let zoom_plan = match &raw.zoom_plan {
            Some(p) => p.parse::<ZoomPlan>().map_err(invalid)?,
            None => ZoomPlan::default(),
        };
        let zoom_rate_share = match raw.zoom_rate_share {
            Some(p) => RateShare::new(p).map_err(invalid)?,
            None => RateShare::default(),
        };
        let naming = raw.naming.clone().unwrap_or_default();
        naming.validate().map_err(invalid)?;
        let windows = raw.windows.clone().unwrap_or_default();
        crate::guard::window::validate_windows(&windows).map_err(invalid)?;
        let http_timeout_secs = raw.http_timeout_secs.unwrap_or(DEFAULT_HTTP_TIMEOUT_SECS);
        if http_timeout_secs == 0 {
            return Err(invalid("http_timeout_secs must be at least 1".into()));
        }
        let default_region = match &raw.default_region {
            Some(r) => Some(
                r.parse::<Region>()
                    .map_err(|e| invalid(format!("default_region: {e}")))?,
            ),
            None => None,
        };
        let max_run_secs = raw.max_run_secs.unwrap_or(DEFAULT_MAX_RUN_SECS);
        let max_calls = raw.max_calls.unwrap_or(DEFAULT_MAX_CALLS);
        if max_run_secs == 0 || max_calls == 0 {
            return Err(invalid(
                "max_run_secs and max_calls must be at least 1".into(),
            ));
        }
        let movius_paths = raw.movius_paths.clone().unwrap_or_default();
        crate::api::movius::paths::MoviusPaths::new(&movius_paths).map_err(invalid)?;
        let p = Profile {
            movius_paths,
            name: name.to_string(),
            kind,
            source,
            zoom_api_url: url_or(&raw.zoom_api_url, DEFAULT_ZOOM_API_URL),
            zoom_oauth_url: url_or(&raw.zoom_oauth_url, DEFAULT_ZOOM_OAUTH_URL),
            zoom_account_id: req(
                &raw.zoom_account_id,
                "zoom_account_id",
                SANDBOX_ZOOM_ACCOUNT_ID,
            )?,
            zoom_client_id: req(
                &raw.zoom_client_id,
                "zoom_client_id",
                SANDBOX_ZOOM_CLIENT_ID,
            )?,
            zoom_client_secret_env: raw
                .zoom_client_secret_env
                .clone()
                .or_else(|| (!sandbox).then(|| DEFAULT_ZOOM_SECRET_ENV.to_string())),
            movius_url: match &raw.movius_url {
                Some(u) => u.clone(),
                None if sandbox => String::new(),
                None => {
                    return Err(ConfigError::Missing {
                        profile: name.to_string(),
                        field: "movius_url",
                    })
                }
            },
            movius_user: req(&raw.movius_user, "movius_user", SANDBOX_MOVIUS_USER)?,
            movius_password_env: raw
                .movius_password_env
                .clone()
                .or_else(|| (!sandbox).then(|| DEFAULT_MOVIUS_PASSWORD_ENV.to_string())),
            carrier_url: if sandbox {
                raw.carrier_url.clone()
            } else {
                None
            },
            secrets_file: raw.secrets_file.clone(),
            zoom_plan,
            zoom_rate_share,
            movius_org: raw.movius_org.clone(),
            naming,
            windows,
            max_changes: raw.max_changes.unwrap_or(DEFAULT_MAX_CHANGES),
            plan_max_age: match &raw.plan_max_age {
                None => DEFAULT_PLAN_MAX_AGE,
                Some(t) => t
                    .parse::<jiff::SignedDuration>()
                    .ok()
                    .filter(|d| d.is_positive())
                    .ok_or_else(|| {
                        invalid(format!(
                            "plan_max_age = \"{t}\" is not a positive duration (e.g. \"24h\", \"90m\")"
                        ))
                    })?,
            },
            http_timeout_secs,
            default_region,
            max_run_secs,
            max_calls,
            operator: raw
                .operator
                .as_deref()
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string),
            require_ticket: raw.require_ticket.unwrap_or(false),
        };
        if !sandbox && raw.carrier_url.is_some() {
            return Err(invalid(
                "carrier_url is only for sandbox profiles (vline never provisions real numbers)"
                    .into(),
            ));
        }
        p.check_urls()?;
        Ok(p)
    }

    fn check_urls(&self) -> Result<(), ConfigError> {
        let urls = [
            ("zoom_api_url", Some(&self.zoom_api_url)),
            ("zoom_oauth_url", Some(&self.zoom_oauth_url)),
            ("movius_url", Some(&self.movius_url)),
            ("carrier_url", self.carrier_url.as_ref()),
        ];
        for (field, url) in urls {
            if let Some(u) = url.filter(|u| !u.is_empty()) {
                check_url(&self.name, field, u)?;
            }
        }
        Ok(())
    }

    /// A sandbox profile with the URLs of a started sandbox.
    pub fn with_sandbox_urls(
        mut self,
        zoom_api: &str,
        zoom_oauth: &str,
        movius: &str,
        carrier: &str,
    ) -> Profile {
        self.zoom_api_url = zoom_api.to_string();
        self.zoom_oauth_url = zoom_oauth.to_string();
        self.movius_url = movius.to_string();
        self.carrier_url = Some(carrier.to_string());
        self
    }

    /// The Movius path table with this profile's overrides.
    pub fn movius_paths(&self) -> Result<crate::api::movius::paths::MoviusPaths, ConfigError> {
        crate::api::movius::paths::MoviusPaths::new(&self.movius_paths).map_err(|message| {
            ConfigError::Invalid {
                profile: self.name.clone(),
                message,
            }
        })
    }

    pub fn is_sandbox(&self) -> bool {
        self.kind == ProfileKind::Sandbox
    }

    /// Look up one secret: the profile's environment variable, then its secrets file, then (for
    /// a sandbox) the demo credentials.
    pub fn resolve_secret(&self, which: SecretKind) -> Result<(Secret, SecretSource), ConfigError> {
        self.resolve_secret_with(which, &env_var)
    }

    fn resolve_secret_with(
        &self,
        which: SecretKind,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Secret, SecretSource), ConfigError> {
        let var = match which {
            SecretKind::ZoomClientSecret => self.zoom_client_secret_env.as_deref(),
            SecretKind::MoviusPassword => self.movius_password_env.as_deref(),
        };
        let from_file = match &self.secrets_file {
            Some(path) => read_secrets_file(path)?
                .remove(which.file_key())
                .map(|v| (v, path.clone())),
            None => None,
        };
        if let Some(var) = var {
            if let Some(v) = env(var) {
                return Ok((Secret::new(v), SecretSource::Env(var.to_string())));
            }
        }
        if let Some((v, path)) = from_file {
            return Ok((Secret::new(v), SecretSource::File(path)));
        }
        if self.is_sandbox() {
            return Ok((
                Secret::new(which.sandbox_value()),
                SecretSource::SandboxDemo,
            ));
        }
        Err(ConfigError::MissingSecret {
            profile: self.name.clone(),
            var: var.unwrap_or(which.default_env()).to_string(),
            what: which.what(),
        })
    }

    /// Both secrets, or the first one missing.
    pub fn resolve_secrets(&self) -> Result<ResolvedSecrets, ConfigError> {
        let (zs, zf) = self.resolve_secret(SecretKind::ZoomClientSecret)?;
        let (mp, mf) = self.resolve_secret(SecretKind::MoviusPassword)?;
        Ok(ResolvedSecrets {
            zoom_client_secret: zs,
            zoom_client_secret_from: zf,
            movius_password: mp,
            movius_password_from: mf,
        })
    }

    /// Transport tuning from this profile.
    pub fn transport_options(&self) -> TransportOptions {
        TransportOptions {
            timeout: std::time::Duration::from_secs(self.http_timeout_secs),
            plan: self.zoom_plan,
            rate_share: self.zoom_rate_share,
            ..TransportOptions::default()
        }
    }

    /// The clients of this profile (a sandbox profile after [`Profile::with_sandbox_urls`]).
    pub fn clients(&self, secrets: &ResolvedSecrets) -> Result<Clients, ConfigError> {
        self.clients_with(secrets, self.transport_options())
    }

    /// Same, with explicit transport tuning (tests, benchmarks).
    pub fn clients_with(
        &self,
        secrets: &ResolvedSecrets,
        opts: TransportOptions,
    ) -> Result<Clients, ConfigError> {
        Clients::new(self.endpoints(secrets)?, opts, self.movius_paths()?)
            .map_err(|e| ConfigError::Transport(e.to_string()))
    }

    /// Endpoints and credentials for the transport. A sandbox profile must have its URLs filled.
    pub fn endpoints(&self, secrets: &ResolvedSecrets) -> Result<Endpoints, ConfigError> {
        if self.zoom_api_url.is_empty() || self.movius_url.is_empty() {
            return Err(ConfigError::Invalid {
                profile: self.name.clone(),
                message: "no service URLs: the sandbox has not been started for this profile"
                    .into(),
            });
        }
        self.check_urls()?;
        let movius = BasicCredentials {
            base_url: self.movius_url.clone(),
            user: self.movius_user.clone(),
            password: secrets.movius_password.clone(),
        };
        Ok(Endpoints {
            zoom: ZoomCredentials {
                api_url: self.zoom_api_url.clone(),
                oauth_url: self.zoom_oauth_url.clone(),
                account_id: self.zoom_account_id.clone(),
                client_id: self.zoom_client_id.clone(),
                client_secret: secrets.zoom_client_secret.clone(),
            },
            carrier: match (&self.carrier_url, self.is_sandbox()) {
                (Some(u), true) => Some(BasicCredentials {
                    base_url: u.clone(),
                    ..movius.clone()
                }),
                _ => None,
            },
            movius,
        })
    }
}

/// Read a secrets file (TOML: `zoom_client_secret = "…"`, `movius_password = "…"`), refusing it
/// unless only its owner can read it.
fn read_secrets_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::SecretsFileMode {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    // Parse errors may quote the line, which holds a secret: say where, not what.
    toml::from_str::<BTreeMap<String, String>>(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: format!(
            "not a TOML table of strings (zoom_client_secret = \"…\", movius_password = \"…\"){}",
            e.span()
                .map(|s| format!(" near byte {}", s.start))
                .unwrap_or_default()
        ),
    })
}

/// The commented example `vline config init` writes.
pub const EXAMPLE_CONFIG: &str = r#"# vline configuration. Secrets never go in this file: only the NAMES of the environment
# variables that hold them, or a secrets_file (TOML, mode 0600) with
#   zoom_client_secret = "…"
#   movius_password = "…"

# The profile used when --profile is not given. `sandbox` is built in: the embedded emulator.
default_profile = "sandbox"

# A real deployment. Endpoints must be https (http only for 127.0.0.1, ::1 or localhost).
[profiles.prod]
kind = "real"
zoom_api_url = "https://api.zoom.us/v2"
zoom_oauth_url = "https://zoom.us/oauth/token"
zoom_account_id = "YOUR_ZOOM_ACCOUNT_ID"
zoom_client_id = "YOUR_S2S_OAUTH_CLIENT_ID"
zoom_client_secret_env = "ZOOM_CLIENT_SECRET"    # the variable's name, not the secret
movius_url = "https://mmp.example.movius.ai"
movius_user = "YOUR_MOVIUS_API_USER"
movius_password_env = "MOVIUS_PASSWORD"
# secrets_file = "/home/me/.config/vline/prod-secrets.toml"   # chmod 600
zoom_plan = "business"          # "pro" or "business" (Business, Business Plus, Enterprise): sets rate limits
zoom_rate_share = 95            # % of those limits vline uses; lower it if other apps call this account
movius_org = "YOUR_ORG_ID"      # default org for commands that need one
max_changes = 50                # a plan with more writes is refused whole (--max-changes N raises it)
# plan_max_age = "24h"          # `vline apply` refuses a saved plan older than this
http_timeout_secs = 30
# default_region = "US"         # numbers written without a country code ((312) 617-3497) are this
                                # region's; unset, they are refused with the number they probably mean
max_run_secs = 86400            # a run stops after this long (--max-run-secs N raises it)
max_calls = 10000               # service calls a run may make; bulk: plus 100 per row (--max-calls N)

# Naming of new accounts; the guide's convention is the default.
[profiles.prod.naming]
first_name = "{digits}"
last_name = "JPMC"
email = "{first_name}.{last_name}@jpmc.movius.ai"

# Maintenance windows for the changes the guide says need one (org-level to user-level move).
[[profiles.prod.windows]]
days = ["sat", "sun"]           # empty = every day
start = "22:00"
end = "04:00"                   # past midnight: ends the next day
tz = "America/New_York"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    const REAL: &str = r#"
default_profile = "prod"
[profiles.prod]
kind = "real"
zoom_account_id = "acct"
zoom_client_id = "cid"
zoom_client_secret_env = "MY_ZOOM_SECRET"
movius_url = "https://mmp.example.com"
movius_user = "api"
zoom_plan = "pro"
movius_org = "org-1"
zoom_rate_share = 80
"#;

    #[test]
    fn no_config_is_the_sandbox() {
        let p = Config::default().profile(None).unwrap();
        assert_eq!((p.name.as_str(), p.kind), ("sandbox", ProfileKind::Sandbox));
        assert_eq!(p.zoom_client_id, "sandbox-client");
        let (s, from) = p
            .resolve_secret_with(
                SecretKind::ZoomClientSecret,
                &env_of(&[("ZOOM_CLIENT_SECRET", "real!")]),
            )
            .unwrap();
        // An operator's real secret in the environment is not sent to the sandbox.
        assert_eq!(
            (s.expose(), from),
            ("sandbox-secret", SecretSource::SandboxDemo)
        );
        assert!(
            p.endpoints(&p.resolve_secrets().unwrap()).is_err(),
            "no URLs until the sandbox starts"
        );
        let p = p.with_sandbox_urls(
            "http://127.0.0.1:9/zoom/v2",
            "http://127.0.0.1:9/zoom/oauth/token",
            "http://127.0.0.1:9/movius",
            "http://127.0.0.1:9/carrier",
        );
        let e = p.endpoints(&p.resolve_secrets().unwrap()).unwrap();
        assert_eq!(e.carrier.unwrap().base_url, "http://127.0.0.1:9/carrier");
    }

    #[test]
    fn real_profile_defaults_and_secrets() {
        let c = Config::parse(REAL, None).unwrap();
        let p = c.profile(None).unwrap();
        assert_eq!(p.zoom_api_url, "https://api.zoom.us/v2");
        assert_eq!(p.zoom_plan, ZoomPlan::Pro);
        assert_eq!(
            p.transport_options().rate_share,
            RateShare::new(80).unwrap()
        );
        assert_eq!(p.max_changes, 50);
        assert_eq!(p.movius_password_env.as_deref(), Some("MOVIUS_PASSWORD"));
        let err = p
            .resolve_secret_with(SecretKind::ZoomClientSecret, &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "profile 'prod': environment variable MY_ZOOM_SECRET is not set (it holds the Zoom OAuth client secret; or put it in a secrets_file)"
        );
        let (s, from) = p
            .resolve_secret_with(
                SecretKind::ZoomClientSecret,
                &env_of(&[("MY_ZOOM_SECRET", "x")]),
            )
            .unwrap();
        assert_eq!(
            (s.expose(), from),
            ("x", SecretSource::Env("MY_ZOOM_SECRET".into()))
        );
    }

    #[test]
    fn unknown_profile_lists_known_ones() {
        let c = Config::parse(REAL, None).unwrap();
        let err = c.profile(Some("staging")).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown profile 'staging'; known profiles: prod, sandbox"
        );
    }

    #[test]
    fn http_only_to_loopback() {
        for (url, ok) in [
            ("https://mmp.example.com", true),
            ("http://127.0.0.1:8642/movius", true),
            ("http://127.5.0.1/movius", true),
            ("http://[::1]:80/movius", true),
            ("http://localhost/movius", true),
            ("http://mmp.example.com", false),
            ("http://10.0.0.1", false),
            ("ftp://mmp.example.com", false),
        ] {
            let text = REAL.replace("https://mmp.example.com", url);
            let r = Config::parse(&text, None).unwrap().profile(None);
            assert_eq!(r.is_ok(), ok, "{url}: {r:?}");
        }
        let text = REAL.replace("https://mmp.example.com", "http://mmp.example.com");
        let err = Config::parse(&text, None)
            .unwrap()
            .profile(None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("profile 'prod': movius_url = \"http://mmp.example.com\": real endpoints must use https"), "{err}");
    }

    #[test]
    fn config_errors_are_one_line() {
        let err = Config::parse("[profiles.x]\nbogus = 1\n", None)
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n') && err.contains("bogus"), "{err}");
        let err = Config::parse(
            &REAL.replace("movius_url = \"https://mmp.example.com\"\n", ""),
            None,
        )
        .unwrap()
        .profile(None)
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "profile 'prod': movius_url is required for a real profile"
        );
        let err = Config::parse(&REAL.replace("\"pro\"", "\"gold\""), None)
            .unwrap()
            .profile(None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown Zoom plan 'gold'"), "{err}");
        let err = Config::parse(&REAL.replace("= 80", "= 150"), None)
            .unwrap()
            .profile(None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("zoom_rate_share = 150"), "{err}");
    }

    #[test]
    fn naming_follows_the_guide_by_default() {
        let n = E164::parse("+1 312-617-3497").unwrap();
        assert_eq!(
            Naming::default().render(&n),
            (
                "13126173497".into(),
                "JPMC".into(),
                "13126173497.JPMC@jpmc.movius.ai".into()
            )
        );
        let custom = Naming {
            first_name: "u{digits}".into(),
            last_name: "Acme".into(),
            email: "{first_name}@acme.example".into(),
        };
        assert_eq!(custom.render(&n).2, "u13126173497@acme.example");
        assert!(Naming {
            email: "{nope}@x.com".into(),
            ..Naming::default()
        }
        .validate()
        .is_err());
        assert!(Naming {
            email: "{first_name}".into(),
            ..Naming::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn paths_follow_vline_home_then_xdg() {
        assert_eq!(
            data_dir_from(&env_of(&[("VLINE_HOME", "/v"), ("XDG_DATA_HOME", "/x")])),
            PathBuf::from("/v")
        );
        assert_eq!(
            data_dir_from(&env_of(&[("XDG_DATA_HOME", "/x")])),
            PathBuf::from("/x/vline")
        );
        assert_eq!(
            data_dir_from(&env_of(&[("HOME", "/h")])),
            PathBuf::from("/h/.local/share/vline")
        );
        // VLINE_HOME's config.toml only counts when it exists.
        assert_eq!(
            config_path_from(
                None,
                &env_of(&[
                    ("VLINE_HOME", "/nonexistent-vline"),
                    ("XDG_CONFIG_HOME", "/x")
                ])
            ),
            PathBuf::from("/x/vline/config.toml")
        );
        assert_eq!(
            config_path_from(Some(Path::new("/c.toml")), &env_of(&[])),
            PathBuf::from("/c.toml")
        );
        assert_eq!(
            config_path_from(None, &env_of(&[("HOME", "/h")])),
            PathBuf::from("/h/.config/vline/config.toml")
        );
    }

    #[test]
    fn secrets_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s.toml");
        std::fs::write(
            &f,
            "zoom_client_secret = \"zs\"\nmovius_password = \"mp\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = format!("{REAL}secrets_file = \"{}\"\n", f.display());
        let p = Config::parse(&text, None).unwrap().profile(None).unwrap();
        let err = p
            .resolve_secret_with(SecretKind::MoviusPassword, &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "secrets file {0} is readable by other users (mode 644); run: chmod 600 {0}",
                f.display()
            )
        );
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (s, from) = p
            .resolve_secret_with(SecretKind::MoviusPassword, &env_of(&[]))
            .unwrap();
        assert_eq!((s.expose(), from), ("mp", SecretSource::File(f.clone())));
        std::fs::write(&f, "zoom_client_secret = hunter2\n").unwrap();
        let err = p
            .resolve_secret_with(SecretKind::MoviusPassword, &env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn example_config_parses() {
        let c = Config::parse(EXAMPLE_CONFIG, None).unwrap();
        assert_eq!(c.profile_names(), vec!["prod", "sandbox"]);
        let p = c.profile(Some("prod")).unwrap();
        assert_eq!(p.windows.len(), 1);
        assert_eq!(c.profile(None).unwrap().kind, ProfileKind::Sandbox);
    }
}
