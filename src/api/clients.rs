//! `Clients`: the typed clients of one profile over one shared transport.

use std::sync::Arc;

use super::http::Transport;
use super::movius::{CarrierClient, MoviusClient};
use super::zoom::ZoomClient;
use crate::config::{ConfigError, Profile, ResolvedSecrets};

/// Everything a command, script or bulk worker calls, sharing one transport (and so one token
/// cache and one set of rate limiters per process). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Clients {
    pub zoom: ZoomClient,
    pub movius: MoviusClient,
    /// Only for the sandbox profile: vline never provisions real numbers.
    pub carrier: Option<CarrierClient>,
    pub transport: Arc<Transport>,
}

impl Clients {
    /// Build the clients of a profile whose URLs are known (a sandbox profile after
    /// `Profile::with_sandbox_urls`).
    pub fn new(profile: &Profile, secrets: &ResolvedSecrets) -> Result<Clients, ConfigError> {
        Self::with_options(profile, secrets, profile.transport_options())
    }

    /// Same, with explicit transport tuning (tests, benchmarks).
    pub fn with_options(
        profile: &Profile,
        secrets: &ResolvedSecrets,
        opts: super::http::TransportOptions,
    ) -> Result<Clients, ConfigError> {
        let endpoints = profile.endpoints(secrets)?;
        let t = Arc::new(
            Transport::new(endpoints, opts).map_err(|e| ConfigError::Transport(e.to_string()))?,
        );
        let paths = profile.movius_paths()?;
        Ok(Clients {
            zoom: ZoomClient::new(t.clone()),
            movius: MoviusClient::with_paths(t.clone(), paths.clone()),
            carrier: t
                .has_carrier()
                .then(|| CarrierClient::with_paths(t.clone(), paths)),
            transport: t,
        })
    }
}
