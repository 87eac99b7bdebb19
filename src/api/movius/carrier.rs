//! `CarrierClient`: what the carrier (T-Mobile) does to Movius numbers. The sandbox has it; real
//! profiles do not (vline never provisions real numbers).

use std::sync::Arc;

use super::paths;
use super::wire::{ProvisionPtns, Ptn, PtnResult};
use crate::api::e164::E164;
use crate::api::error::{ApiError, Service};
use crate::api::http::{Request, Transport};

/// Typed carrier PTN operations. Cheap to clone; blocking (see `api::http`).
#[derive(Clone, Debug)]
pub struct CarrierClient {
    t: Arc<Transport>,
    paths: paths::MoviusPaths,
}

impl CarrierClient {
    pub fn new(t: Arc<Transport>) -> Self {
        Self::with_paths(t, paths::MoviusPaths::default())
    }

    /// With a profile's path overrides (`[profiles.X.movius_paths]`).
    pub fn with_paths(t: Arc<Transport>, paths: paths::MoviusPaths) -> Self {
        CarrierClient { t, paths }
    }

    /// `POST /ptns`: numbers into the available pool under the root org, with reservation tags.
    /// Idempotent (provisioning a number again only adds tags it lacks), so it is retried after a
    /// 5xx or a lost answer like a GET.
    pub fn provision_ptn(&self, numbers: &[E164], tags: &[String]) -> Result<PtnResult, ApiError> {
        let target = numbers
            .iter()
            .map(E164::to_string)
            .collect::<Vec<_>>()
            .join(",");
        if numbers.is_empty() {
            return Err(ApiError::local(
                Service::Carrier,
                "provision_ptn",
                "",
                "no number to provision",
            ));
        }
        let body = ProvisionPtns {
            ptns: numbers
                .iter()
                .map(|n| Ptn {
                    number: n.digits().to_string(),
                    tags: tags.to_vec(),
                })
                .collect(),
        };
        self.t.send(
            &Request::at(
                Service::Carrier,
                paths::CARRIER_PTNS.method,
                &self.paths.path(&paths::CARRIER_PTNS),
                "provision_ptn",
            )
            .target(target)
            .idempotent()
            .json(&body),
        )
    }

    /// Delete a PTN: removes the number from Movius and unpeers it from Zoom.
    pub fn delete_ptn(&self, number: &E164) -> Result<(), ApiError> {
        self.t.send_unit(
            &Request::at(
                Service::Carrier,
                paths::CARRIER_PTN_DELETE.method,
                &self.paths.path(&paths::CARRIER_PTN_DELETE),
                "delete_ptn",
            )
            .arg("number", number.digits())
            .target(number.to_string()),
        )
    }
}
