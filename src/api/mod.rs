//! Typed HTTP clients for Zoom, Movius and the carrier. No Rhai in here.

pub mod clients;
pub mod e164;
pub mod error;
pub mod http;
pub mod movius;
pub mod rate;
pub mod secret;
pub mod selector;
pub mod validity;
pub mod zoom;

pub use e164::{E164Error, Region, E164};
pub use error::{ApiError, Service};
pub use rate::{RateCategory, RateShare, ZoomPlan};
pub use selector::Selector;
