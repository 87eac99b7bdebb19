//! `Clients`: the typed clients of one set of endpoints over one shared transport.

use std::sync::Arc;

use super::http::{Endpoints, Transport, TransportError, TransportOptions};
use super::movius::paths::MoviusPaths;
use super::movius::{CarrierClient, MoviusClient};
use super::zoom::ZoomClient;

/// Everything a command, script or bulk worker calls, sharing one transport (and so one token
/// cache and one set of rate limiters per process). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Clients {
    pub zoom: ZoomClient,
    pub movius: MoviusClient,
    /// Only where the endpoints name a carrier (the sandbox): vline never provisions real numbers.
    pub carrier: Option<CarrierClient>,
    pub transport: Arc<Transport>,
}

impl Clients {
    /// The clients of `endpoints` (a profile builds them: `Profile::clients`), with the Movius
    /// path table `paths`.
    pub fn new(
        endpoints: Endpoints,
        opts: TransportOptions,
        paths: MoviusPaths,
    ) -> Result<Clients, TransportError> {
        let t = Arc::new(Transport::new(endpoints, opts)?);
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
