//! One profile resolved from `config.toml` (or the built-in sandbox), and what it builds: the
//! transport options, endpoints and clients of `api`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::api::clients::Clients;
use crate::api::e164::Region;
use crate::api::http::{BasicCredentials, Endpoints, TransportOptions, ZoomCredentials};
use crate::api::{RateShare, ZoomPlan};
use crate::guard::MaintenanceWindow;

use super::*;

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

/// A profile as written in `config.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) kind: Option<ProfileKind>,
    pub(super) zoom_api_url: Option<String>,
    pub(super) zoom_oauth_url: Option<String>,
    pub(super) zoom_account_id: Option<String>,
    pub(super) zoom_client_id: Option<String>,
    pub(super) zoom_client_secret_env: Option<String>,
    pub(super) movius_url: Option<String>,
    pub(super) movius_user: Option<String>,
    pub(super) movius_password_env: Option<String>,
    pub(super) carrier_url: Option<String>,
    pub(super) secrets_file: Option<PathBuf>,
    pub(super) zoom_plan: Option<String>,
    pub(super) zoom_rate_share: Option<u64>,
    pub(super) movius_org: Option<String>,
    pub(super) naming: Option<Naming>,
    pub(super) windows: Option<Vec<MaintenanceWindow>>,
    pub(super) max_changes: Option<u64>,
    pub(super) plan_max_age: Option<String>,
    pub(super) operator: Option<String>,
    pub(super) require_ticket: Option<bool>,
    pub(super) http_timeout_secs: Option<u64>,
    pub(super) default_region: Option<String>,
    pub(super) max_run_secs: Option<u64>,
    pub(super) max_calls: Option<u64>,
    /// Overrides of Movius paths by name (`api::movius::paths::ALL`).
    pub(super) movius_paths: Option<BTreeMap<String, String>>,
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
    pub(super) fn from_raw(
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
