//! Movius MCP web API and the carrier PTN API.

pub mod carrier;
pub mod client;
pub mod paths;
pub mod wire;

pub use carrier::CarrierClient;
pub use client::{CdrQuery, MoviusClient, UserListQuery};
