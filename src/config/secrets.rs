//! A profile's secrets: from the environment variable it names, its secrets file (mode 0600), or
//! for the sandbox the demo credentials. Never from `config.toml`, never printed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::api::secret::Secret;

use super::paths::env_var;
use super::*;

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

impl Profile {
    /// Look up one secret: the profile's environment variable, then its secrets file, then (for
    /// a sandbox) the demo credentials.
    pub fn resolve_secret(&self, which: SecretKind) -> Result<(Secret, SecretSource), ConfigError> {
        self.resolve_secret_with(which, &env_var)
    }

    pub(super) fn resolve_secret_with(
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
}

/// Read a secrets file (TOML: `zoom_client_secret = "…"`, `movius_password = "…"`), refusing it
/// unless only its owner can read it.
pub(super) fn read_secrets_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
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
