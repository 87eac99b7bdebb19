//! Profiles (sandbox | real endpoints), policy, secrets lookup: `config.toml` read into typed
//! profiles. `paths` finds the files, `profile` resolves one profile, `secrets` looks its secrets
//! up, `naming` names new accounts.
//!
//! `config.toml` holds named profiles; secrets never live in it, only the names of the environment
//! variables that hold them, or a secrets file that must be mode 0600. With no config file at all
//! every command uses the built-in `sandbox` profile, whose URLs are filled in when the embedded
//! sandbox starts ([`Profile::with_sandbox_urls`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod naming;
mod paths;
mod profile;
mod secrets;
#[cfg(test)]
mod tests;

pub use naming::Naming;
pub use paths::{config_path, data_dir, init_path, journal_path};
pub use profile::{Profile, ProfileKind, DEFAULT_PLAN_MAX_AGE};
pub use secrets::{ResolvedSecrets, SecretKind, SecretSource};

use profile::RawProfile;

/// Name of the built-in profile.
pub const SANDBOX: &str = "sandbox";
/// Demo credentials of the sandbox (documented, fixed, useless anywhere else): the sandbox's own.
use crate::sandbox::{
    MOVIUS_PASSWORD as SANDBOX_MOVIUS_PASSWORD, MOVIUS_USER as SANDBOX_MOVIUS_USER,
    ZOOM_ACCOUNT_ID as SANDBOX_ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID as SANDBOX_ZOOM_CLIENT_ID,
    ZOOM_CLIENT_SECRET as SANDBOX_ZOOM_CLIENT_SECRET,
};

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
